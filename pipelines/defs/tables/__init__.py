"""Tabular EHR sources (CSV, CSV.gz, Parquet) turned into events by a declarative YAML mapping."""

"""Longitude's Dagster code location, source parsers, feature store logic and the `longitude` CLI."""

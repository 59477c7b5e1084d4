"""Dagster stages, one package each: assets.py, checks.py, and their pure transforms."""

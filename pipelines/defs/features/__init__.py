"""Dagster assets and checks for task labels, feature tables and the online feature state."""

"""The point-in-time feature store: tasks and labels, feature specs, offline and online retrieval (no Dagster)."""

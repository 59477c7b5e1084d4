"""The MEDS dataset: per-shard de-identified event data, codes, subject splits and dataset metadata."""

"""Per-subject keyed mappings as a polars table: pseudonym, date shift and split for each source patient."""

import polars as pl

from deid.pseudonym import Keyring


def subject_map(
    source_patients: list[str], keyring: Keyring, fractions: tuple[float, float, float]
) -> pl.DataFrame:
    """One row per source patient: source_patient, subject_id, shift_days, split.

    >>> m = subject_map(["a", "b"], Keyring(b"0123456789abcdef"), (1.0, 0.0, 0.0))
    >>> m.columns, m["split"].to_list()
    (['source_patient', 'subject_id', 'shift_days', 'split'], ['train', 'train'])
    """
    return pl.DataFrame(
        {
            "source_patient": source_patients,
            "subject_id": [keyring.subject_id(p) for p in source_patients],
            "shift_days": [keyring.shift_days(p) for p in source_patients],
            "split": [keyring.split(p, fractions) for p in source_patients],
        },
        schema={"source_patient": pl.String, "subject_id": pl.Int64, "shift_days": pl.Int32, "split": pl.String},
    )

"""De-identification: keyed pseudonyms and date shifts, generalization, text and DICOM de-identification."""

from typing import Any

from deid.pseudonym import Keyring

# Text de-identification compiles its patterns on import (~0.4 s): loaded on first use, so the Dagster code
# location, which needs only Keyring at import time, stays fast to load.
_LAZY = {"PhiSpan": "deid.text", "deidentify": "deid.text", "find_phi": "deid.text"}

__all__ = ["Keyring", "PhiSpan", "deidentify", "find_phi"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'deid' has no attribute {name!r}")

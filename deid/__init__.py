"""De-identification: keyed pseudonyms and date shifts, generalization, text and DICOM de-identification."""

from deid.pseudonym import Keyring
from deid.text import PhiSpan, deidentify, find_phi

__all__ = ["Keyring", "PhiSpan", "deidentify", "find_phi"]

"""De-identification: keyed pseudonyms and date shifts, generalization, text and DICOM de-identification."""

from deid.pseudonym import Keyring

__all__ = ["Keyring"]

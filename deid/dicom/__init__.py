"""DICOM header de-identification: PS3.15 Annex E Basic Profile with Modified Dates and Clean Descriptors."""

from deid.dicom.profile import DEFAULT_PROFILE, SAFE_PRIVATE, Profile, deidentify
from deid.dicom.table import Action, load_table
from deid.dicom.values import remap_uid, shift_da, shift_dt

__all__ = [
    "DEFAULT_PROFILE",
    "SAFE_PRIVATE",
    "Action",
    "Profile",
    "deidentify",
    "load_table",
    "remap_uid",
    "shift_da",
    "shift_dt",
]

"""Text de-identification on Presidio: find PHI in clinical notes, replace it with consistent surrogates."""

from deid.text.engine import find_phi, find_phi_batch
from deid.text.known import KnownPhi
from deid.text.spans import LABELS, PhiSpan
from deid.text.surrogates import POLICIES, deidentify, deidentify_batch

__all__ = [
    "LABELS",
    "POLICIES",
    "KnownPhi",
    "PhiSpan",
    "deidentify",
    "deidentify_batch",
    "find_phi",
    "find_phi_batch",
]

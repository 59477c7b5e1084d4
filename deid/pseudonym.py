"""Keyed, stable-forever mappings from a source patient id: pseudonym, date shift, split and shard.

Each mapping is an HMAC-SHA256 of the source id under the secret with its own purpose label, so knowing
one (a subject_id) tells nothing about another (its date shift).
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

# Shifts are whole weeks back in time: day of week and time of day survive (clinic rhythms,
# weekend effects), nothing lands in the future, and 52 choices spread a year.
SHIFT_WEEKS_MAX = 52
_TWO63 = 1 << 63


@dataclass(frozen=True, slots=True)
class Keyring:
    """All keyed per-subject mappings under one secret.

    >>> k = Keyring(b"secret")
    >>> k.subject_id("patient-1") == k.subject_id("patient-1")
    True
    >>> k.subject_id("patient-1") != k.subject_id("patient-2")
    True
    >>> -364 <= k.shift_days("patient-1") <= -7 and k.shift_days("patient-1") % 7 == 0
    True
    >>> k.split("patient-1", (0.8, 0.1, 0.1)) in ("train", "tuning", "held_out")
    True
    """

    secret: bytes

    def _digest(self, purpose: str, source_id: str) -> bytes:
        return hmac.new(self.secret, f"{purpose}\x00{source_id}".encode(), hashlib.sha256).digest()

    def _unit(self, purpose: str, source_id: str) -> float:
        """A keyed uniform number in [0, 1)."""
        return int.from_bytes(self._digest(purpose, source_id)[:8], "big") / 2**64

    def subject_id(self, source_id: str) -> int:
        """Positive int64 pseudonym; 63 bits make a collision among 10^7 subjects ~5e-6 likely."""
        return int.from_bytes(self._digest("subject", source_id)[:8], "big") % _TWO63

    def shift_days(self, source_id: str) -> int:
        """The subject's date shift in days: a whole number of weeks, 1 to 52 weeks back."""
        weeks = 1 + int.from_bytes(self._digest("shift", source_id)[:8], "big") % SHIFT_WEEKS_MAX
        return -7 * weeks

    def shift(self, source_id: str) -> timedelta:
        return timedelta(days=self.shift_days(source_id))

    def split(self, source_id: str, fractions: tuple[float, float, float]) -> str:
        """train/tuning/held_out by keyed hash; depends only on the secret and the fractions."""
        u = self._unit("split", source_id)
        train, tuning, _ = fractions
        if u < train:
            return "train"
        if u < train + tuning:
            return "tuning"
        return "held_out"

    def shard(self, source_id: str, n_shards: int) -> int:
        """Shard number in [0, n_shards)."""
        return int.from_bytes(self._digest("shard", source_id)[:8], "big") % n_shards

    def token(self, purpose: str, source_id: str) -> str:
        """A short keyed pseudonym for a non-subject identifier (note id, encounter id): 20 hex chars."""
        return self._digest(purpose, source_id)[:10].hex()

    def surrogate_seed(self, source_id: str) -> int:
        """Seed for a subject's consistent surrogate PHI (names, places) in text de-identification."""
        return int.from_bytes(self._digest("surrogate", source_id)[:8], "big")

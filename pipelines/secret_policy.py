"""The secret's policy: how strong it must be, and the fingerprint that binds a root to it (never the secret)."""

import hashlib
import hmac
import math
from collections import Counter
from itertools import pairwise

MIN_SECRET_LENGTH = 16
# Shannon estimate of the whole secret: 64 bits is the floor NIST SP 800-131A sets for keyed hashes; a
# token_hex(32) scores 256, a passphrase of four random words about 90.
MIN_SECRET_BITS = 64.0
MIN_DISTINCT_CHARS = 8
# Share of adjacent character steps that may be +-1 or 0 ("abcdef...", "0123456789...") or neighbours on a
# keyboard row ("qwertyuiop..."): a walk along a sequence is no key.
MAX_SEQUENTIAL_SHARE = 0.6
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_NEIGHBOURS = frozenset(
    pair for row in _KEYBOARD_ROWS for a, b in pairwise(row) for pair in ((a, b), (b, a))
)
# The fingerprint is HMAC(secret, this constant): it proves "same secret" and reveals nothing about it.
FINGERPRINT_MESSAGE = b"longitude/root-fingerprint/v1"

_FIX = "Use a long random string, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."


class WeakSecretError(ValueError):
    """The secret is too short or too predictable; the message says why and how to fix it (never the value)."""


def secret_weakness(secret: bytes) -> str | None:
    """Why `secret` is too weak to key pseudonyms and date shifts, or None when it is strong enough.

    >>> secret_weakness(b"x" * 20)
    'it uses only 1 distinct characters (at least 8 are needed)'
    >>> secret_weakness(b"9f2c6a01d4b87e35c0aa91f7e62d4b58") is None
    True
    """
    text = secret.decode("utf-8", "replace")
    core = text.strip()
    if len(core) < MIN_SECRET_LENGTH:
        return f"it must be at least {MIN_SECRET_LENGTH} characters long, not counting surrounding whitespace"
    if core != text:
        return "it starts or ends with whitespace (a copy-paste accident?)"
    distinct = len(set(core))
    if distinct < MIN_DISTINCT_CHARS:
        return f"it uses only {distinct} distinct characters (at least {MIN_DISTINCT_CHARS} are needed)"
    period = _period(core)
    if period is not None:
        return f"it repeats a {period}-character pattern"
    pairs = list(pairwise(core.lower()))
    walked = sum(abs(ord(b) - ord(a)) <= 1 or (a, b) in _KEYBOARD_NEIGHBOURS for a, b in pairs)
    if walked > MAX_SEQUENTIAL_SHARE * len(pairs):
        return "it is mostly a run of consecutive or repeated characters"
    bits = _shannon_bits(core)
    if bits < MIN_SECRET_BITS:
        return f"it carries about {bits:.0f} bits of entropy (at least {MIN_SECRET_BITS:.0f} are needed)"
    return None


def check_secret(secret: bytes, name: str) -> None:
    """Raise WeakSecretError with an actionable message when `secret` is weak."""
    why = secret_weakness(secret)
    if why is not None:
        raise WeakSecretError(f"{name} is too weak: {why}. {_FIX}")


def fingerprint(secret: bytes) -> str:
    """A keyed hash of a constant: equal for equal secrets; recovering the secret from it takes brute force,
    which the strength check makes hopeless.

    >>> fingerprint(b"a") == fingerprint(b"a") != fingerprint(b"b")
    True
    """
    return "hmac-sha256:" + hmac.new(secret, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


def same_fingerprint(secret: bytes, recorded: str) -> bool:
    return hmac.compare_digest(fingerprint(secret), recorded)


def _period(text: str) -> int | None:
    """The shortest unit that `text` repeats (a trailing partial unit allowed), if it repeats at least twice."""
    n = len(text)
    for p in range(1, n // 2 + 1):
        if all(text[i] == text[i - p] for i in range(p, n)):
            return p
    return None


def _shannon_bits(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -n * sum(c / n * math.log2(c / n) for c in counts.values())

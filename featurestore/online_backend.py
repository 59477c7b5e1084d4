"""The online key-value store interface: versioned per-subject values, published by flipping a pointer last.

A feature set (one compiled spec) is written as a new *version*: `begin` stores the compiled spec, `put_many`
the per-subject values (schemas.online_store), `publish` moves the spec's pointer to it in one atomic write
and then drops versions older than the one it replaced. `get_many` reads the pointer first and then the
values of that version, from one consistent view: a reader sees the old version or the new one, never a mix.
Backends: `SqliteBackend` (the local default, one file under the root) and `RedisBackend` (networked),
opened by name with `featurestore.online_open.open_backend`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class StoreError(RuntimeError):
    """The store is unreachable or not in the state a call needs; the message names the store, never data."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one read saw: the published version and its values found by subject id."""

    version: str
    values: dict[int, bytes]


class OnlineBackend(Protocol):
    """Versioned per-subject values of one or more feature sets (by spec name)."""

    def begin(self, spec: str, compiled: str, tag: str | None = None) -> str:
        """Start a new, unpublished version of `spec` holding its compiled spec (JSON); returns its id, which
        ends in `tag` when given (a content digest: see `version_tag`)."""
        ...

    def put_many(self, spec: str, version: str, values: Mapping[int, bytes]) -> None:
        """Store values of an unpublished version by subject id (each subject once per version)."""
        ...

    def publish(self, spec: str, version: str, expected: int) -> None:
        """Check the version holds `expected` subjects, flip the pointer to it, drop all but it and the last."""
        ...

    def discard(self, spec: str, version: str) -> None:
        """Drop an unpublished version (a failed materialization)."""
        ...

    def published(self, spec: str) -> tuple[str, int] | None:
        """The published version of `spec` and how many subjects it holds; None when nothing is published."""
        ...

    def get_many(self, spec: str, subject_ids: Sequence[int]) -> Snapshot:
        """The published version's values of these subjects (absent ones left out); StoreError if none."""
        ...

    def compiled(self, spec: str, version: str) -> str:
        """The compiled spec (JSON) of a version."""
        ...

    def close(self) -> None: ...


def new_version(tag: str | None = None) -> str:
    """A unique, time-ordered version id: UTC time to the microsecond, then `tag` or 4 random bytes."""
    import secrets
    from datetime import UTC, datetime

    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{tag or secrets.token_hex(4)}"


def version_tag(version: str) -> str:
    """What follows the time in a version id: its content tag, or the random part of an untagged one.

    >>> version_tag("20261207T074500123456-0123456789abcdef")
    '0123456789abcdef'
    """
    return version.split("-", 1)[1] if "-" in version else ""

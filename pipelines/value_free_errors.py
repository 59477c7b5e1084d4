"""The reader boundary for errors: a library's message may quote the row it failed on, ours never do.

Messages written in this repository name a file, record and field by construction (DESIGN invariant 7). A
parser's message (polars, pyarrow, orjson, csv, pydicom) can carry the value it choked on, and an uncaught
one would reach the run log and Dagster's event log. `value_free_errors` lets ours through and rewrites
any other into its type and where it happened, with the original dropped from the traceback chain.
"""

from collections.abc import Iterator
from contextlib import contextmanager

# Packages whose exception messages are written value-free (and reviewed as such).
_OWN_PACKAGES = ("pipelines", "schemas", "deid", "quality", "model", "featurestore", "synthetic")


class ReaderError(RuntimeError):
    """A library error at a reader boundary: its type and where, never its message (which may hold PHI)."""


def is_own(err: BaseException) -> bool:
    """True for errors this repository raises (their messages hold no values).

    >>> is_own(ReaderError("x")), is_own(ValueError("could not convert 'Ann Lee'"))
    (True, False)
    """
    return type(err).__module__.split(".")[0] in _OWN_PACKAGES


@contextmanager
def value_free_errors(where: str) -> Iterator[None]:
    """Re-raise a library error as ReaderError(`where`: its type); `where` must itself hold no value."""
    try:
        yield
    except Exception as err:
        if is_own(err):
            raise
        # `from None` keeps the library's message out of the traceback (and so out of every log)
        raise ReaderError(
            f"{where}: {type(err).__name__} (its message is withheld: it may quote a value)"
        ) from None

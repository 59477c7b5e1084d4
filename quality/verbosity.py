"""Quiet by default: library loggers and warnings (Great Expectations, Dagster, matplotlib) are held back
while our own progress display runs; `--verbose` lets them through."""

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

LIBRARY_LOGGERS = ("great_expectations", "dagster", "matplotlib", "PIL", "urllib3")


@contextmanager
def library_output(verbose: bool) -> Iterator[None]:
    """Inside the block, library loggers show errors only and their warnings are not printed (unless verbose)."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            for name in LIBRARY_LOGGERS:
                warnings.filterwarnings("ignore", module=name)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

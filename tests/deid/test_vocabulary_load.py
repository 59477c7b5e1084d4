"""Philter's word lists load from the file alone: importing philter-lite parses the same file with tomllib and
imports nltk, seconds per process (and ~30 CPU-s in a Celery worker's deep stack, bench/results/scaling-24.md)."""

import subprocess
import sys

import pytest

pytest.importorskip("philter_lite")

PROBE = """
import sys
from deid.text.vocabulary import philter_lists
lists = philter_lists()
print(len(lists["nonames"]), len(lists["firstnames"]), len(lists["lastnames"]))
print("philter_lite" in sys.modules, "nltk" in sys.modules)
"""


def test_philter_lists_load_without_importing_philter_lite():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    sizes, imported = out.splitlines()
    assert all(int(n) > 50_000 for n in sizes.split())  # each list read whole
    assert imported == "False False"


def test_philter_lists_are_the_lists_philter_lite_loads():
    from philter_lite.filters.filter_db import load_set_db  # the package's own (tomllib) reading

    from deid.text.vocabulary import philter_lists

    theirs = load_set_db()
    ours = philter_lists()
    for name in ("nonames", "firstnames", "lastnames"):
        assert ours[name] == frozenset(theirs[name]) - {""}, name

"""Property: a mapping mistake that stops a run is always caught by `longitude tables check` first.

Mistakes are made by structure: one reference to a column of the walkthrough mapping is replaced by another
column of the extract (or a misspelling). Whatever the run does with it, if the run fails, the check failed.
"""

import csv
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deid.pseudonym import Keyring
from pipelines.defs.tables.check import check_source
from pipelines.defs.tables.ingest import ingest_tables
from pipelines.defs.tables.mapping import MappingError, load_mapping
from schemas.layout import Layout

FIXTURE = Path(__file__).parent / "fixtures" / "mimic"
TEXT = (FIXTURE / "mapping.yaml").read_text()
COLUMNS = sorted({c for f in FIXTURE.rglob("*.csv") for c in next(csv.reader(f.open()))})
# every place the mapping names a column: (start, end) of the word
SPOTS = [m.span() for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", TEXT) if m.group() in COLUMNS]
KEYS = Keyring(b"property-secret-0123456789")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spot=st.sampled_from(SPOTS), other=st.one_of(st.sampled_from(COLUMNS), st.just("misspelt_col")))
def test_a_run_that_fails_was_failed_by_the_check(spot, other):
    text = TEXT[: spot[0]] + other + TEXT[spot[1] :]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "landing" / "tables" / "mimic"
        shutil.copytree(FIXTURE, src)
        (src / "mapping.yaml").write_text(text)
        try:
            mapping = load_mapping(src / "mapping.yaml")
        except MappingError:
            return  # refused when loaded, by the check and the run alike
        report = check_source(mapping, src)
        try:
            ingest_tables(Layout(Path(tmp)), KEYS, 1)
        except Exception as err:
            assert not report.ok, f"the run failed ({type(err).__name__}) but the check passed"

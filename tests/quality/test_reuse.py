"""The checks of one asset share the root's inventory and the views they read, only while they run together:
a listing taken before a write is never used after it."""

import polars as pl

from quality import reuse
from quality.tables import inventory
from schemas.io import write_parquet
from schemas.ledger import LEDGER_SCHEMA
from tests.quality.conftest import Root


def _ledger(root: Root, shard: str) -> None:
    ledger = pl.DataFrame({"asset": ["meds_data"], "source_file": ["raw/fhir/events"], "record_type": ["event"],
                           "n_in": [3], "n_out": [3], "n_quarantined": [0], "n_events": [3]})  # fmt: skip
    write_parquet(ledger.to_arrow(), root.layout.ledger("meds_data", shard), LEDGER_SCHEMA)


def _ledgers(root: Root, inv) -> set[str]:
    return {f.rel.as_posix() for f in inv.files if f.spec.name == "ledger"}


def test_an_inventory_is_taken_once_inside_a_block_and_afresh_outside_it(root: Root):
    assert inventory(root.path) is not inventory(root.path)  # nothing kept outside a block
    shared: dict = {}
    with reuse.sharing(shared):
        first = inventory(root.path)
        assert inventory(root.path) is first and inventory(str(root.path)) is first
    _ledger(root, "7")  # a step writes between two ops' checks
    assert "quality/ledger/meds_data/7.parquet" in _ledgers(root, inventory(root.path))
    assert "quality/ledger/meds_data/7.parquet" not in _ledgers(root, first)
    with reuse.sharing({}):  # the next op's checks: their own listing, with the new file
        assert "quality/ledger/meds_data/7.parquet" in _ledgers(root, inventory(root.path))


def test_a_nested_block_uses_the_outer_blocks_values():
    calls: list[int] = []
    with reuse.sharing({}):
        with reuse.sharing({}):
            reuse.once("k", lambda: calls.append(1))
        reuse.once("k", lambda: calls.append(2))
    reuse.once("k", lambda: calls.append(3))
    assert calls == [1, 3]

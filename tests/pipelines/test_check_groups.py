"""An asset's checks run as one op: every check keeps its name, description, blocking flag and partitions, reports
the result it reports alone, blocks downstream when it fails, and runs alone when selected alone."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

import pipelines.definitions as code_location
from pipelines.defs.check_groups import group_checks
from pipelines.defs.partitions import shard_partitions
from pipelines.defs.resources import LongitudeResource
from schemas.io import write_parquet
from schemas.ledger import LEDGER_SCHEMA
from tests.conftest import TEST_SECRET
from tests.quality.conftest import Root, build_root

MEDS_CHECKS = {"meds_data_ledger_balances", "meds_data_plausible", "meds_data_sorted_by_subject_and_time",
               "meds_data_tables_conform"}  # fmt: skip


@dg.asset(name="meds_data", partitions_def=shard_partitions)
def _meds_stub() -> None:
    """Stands in for the real asset: the root's files are already written."""


@dg.asset(name="meds_subject_splits")
def _splits_stub() -> None:
    """Stands in for the real asset."""


@dg.asset(name="downstream", deps=["meds_subject_splits"])
def _downstream() -> None:
    """An asset after meds_subject_splits in the same run."""


def _separate() -> list[dg.AssetChecksDefinition]:
    return dg.load_asset_checks_from_modules(code_location._modules)


def _of(checks: list, asset: str) -> list[dg.AssetChecksDefinition]:
    return [c for c in checks if any(k.asset_key == dg.AssetKey(asset) for k in c.check_keys)]


def _evaluations(
    root: Path, assets: list, checks: list, partition: str | None = None, **kw
) -> dg.ExecuteInProcessResult:
    resource = LongitudeResource(root=str(root), secret=TEST_SECRET.decode())
    return dg.materialize([*assets, *checks], partition_key=partition, resources={"longitude": resource},
                          raise_on_error=False, **kw)  # fmt: skip


def _seen(result) -> dict[str, tuple]:
    return {e.check_name: (e.passed, e.severity, e.description, e.metadata, e.blocking, e.partition)
            for e in result.get_asset_check_evaluations()}  # fmt: skip


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


@pytest.fixture
def root(tmp_path: Path) -> Root:
    return build_root(tmp_path / "root")


def test_the_code_location_keeps_every_check_once_with_its_spec_and_one_op_per_asset():
    separate = {s.key: s for c in _separate() for s in c.check_specs}
    grouped = [s for c in code_location.defs.asset_checks for s in c.check_specs]
    assert len(grouped) == len(separate) and {s.key: s for s in grouped} == separate  # names, blocking, partitions
    [meds] = _of(code_location.defs.asset_checks, "meds_data")
    assert {k.name for k in meds.check_keys} == MEDS_CHECKS and meds.node_def.name == "meds_data_checks"
    # checks of one asset under another partitioning than the asset's keep their own op (fhir_raw's ledger)
    fhir = _of(code_location.defs.asset_checks, "fhir_raw")
    assert sorted(len(list(c.check_keys)) for c in fhir) == [1, 1]


def test_a_check_with_op_settings_of_its_own_keeps_its_own_op():
    @dg.asset_check(asset=_splits_stub, op_tags={"team": "stewards"})
    def tagged(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=_splits_stub)
    def plain(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    assert group_checks([tagged, plain]) == [tagged, plain]


def test_a_shards_checks_in_one_op_report_what_each_reports_alone(root: Root):
    # a heart rate of 900 (a plausibility warning), a shard out of order and a ledger row off by one (both
    # blocking) in shard 1
    ledger = pl.DataFrame({"asset": ["meds_data"], "source_file": ["raw/fhir/events/shard=1"], "record_type": ["event"],
                           "n_in": [12], "n_out": [10], "n_quarantined": [1], "n_events": [10]})  # fmt: skip
    write_parquet(ledger.to_arrow(), root.layout.ledger("meds_data", "1"), LEDGER_SCHEMA)
    df = root.data("held_out", 1)
    bad = df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0)).otherwise("numeric_value")
    )
    root.write_data("held_out", 1, bad.reverse())
    alone = _seen(_evaluations(root.path, [_meds_stub], _of(_separate(), "meds_data"), "1"))
    together = _seen(_evaluations(root.path, [_meds_stub], _of(code_location.defs.asset_checks, "meds_data"), "1"))
    assert set(together) == MEDS_CHECKS and together == alone
    # each finds its defect (the conformance check: the ledger row and the order)
    assert not any(passed for passed, *_ in together.values())


def test_a_shards_checks_in_one_op_list_the_root_once_and_read_the_shard_once(root: Root, monkeypatch):
    import quality.engine
    import quality.tables

    calls: dict[str, int] = {}

    def counted(module, name: str) -> None:
        fn = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return fn(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    ledger = pl.DataFrame({"asset": ["meds_data"], "source_file": ["raw/fhir/events/shard=1"], "record_type": ["event"],
                           "n_in": [12], "n_out": [12], "n_quarantined": [0], "n_events": [12]})  # fmt: skip
    write_parquet(ledger.to_arrow(), root.layout.ledger("meds_data", "1"), LEDGER_SCHEMA)
    counted(quality.tables, "_inventory")
    counted(quality.engine, "meds_timeline")
    grouped = _evaluations(root.path, [_meds_stub], _of(code_location.defs.asset_checks, "meds_data"), "1")
    assert set(_seen(grouped)) == MEDS_CHECKS and calls == {"_inventory": 1, "meds_timeline": 1}
    calls.clear()  # run apart, the conformance and plausibility checks each list the root and read the shard
    alone = _evaluations(root.path, [_meds_stub], _of(_separate(), "meds_data"), "1")
    assert calls == {"_inventory": 2, "meds_timeline": 2} and _seen(alone) == _seen(grouped)


def test_a_failed_blocking_check_in_a_group_blocks_what_is_downstream(root: Root):
    checks = _of(code_location.defs.asset_checks, "meds_subject_splits")
    assert [len(list(c.check_keys)) for c in checks] == [2]
    clean = _evaluations(root.path, [_splits_stub, _downstream], checks)
    assert clean.success and all(e.passed for e in clean.get_asset_check_evaluations())
    assert "downstream" in _materialized(clean)
    # a subject in the wrong split
    root.layout.meds_shard("held_out", 1).rename(root.layout.meds_shard("train", 1))
    blocked = _evaluations(root.path, [_splits_stub, _downstream], checks)
    seen = _seen(blocked)
    assert not seen["meds_subject_splits_tables_conform"][0] and seen["each_subject_in_one_shard"][0]
    assert not blocked.success and _materialized(blocked) == {"meds_subject_splits"}


def test_a_check_selected_alone_runs_alone(root: Root):
    checks = _of(code_location.defs.asset_checks, "meds_subject_splits")
    key = dg.AssetCheckKey(dg.AssetKey("meds_subject_splits"), "each_subject_in_one_shard")
    result = _evaluations(root.path, [_splits_stub], checks, selection=dg.AssetSelection.checks(key))
    assert result.success and set(_seen(result)) == {"each_subject_in_one_shard"}


def test_a_check_that_raises_leaves_the_others_reporting_and_fails_the_op(root: Root):
    @dg.asset_check(asset=_splits_stub, blocking=True)
    def breaks(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource) -> dg.AssetCheckResult:
        raise ValueError("landing/x.json record 3 field birthDate: not a date")

    @dg.asset_check(asset=_splits_stub, description="holds")
    def holds(context: dg.AssetCheckExecutionContext, longitude: LongitudeResource) -> dg.AssetCheckResult:
        assert context.check_specs[0].name == "holds" and context.check_specs[0].description == "holds"
        return dg.AssetCheckResult(passed=True, description=context.check_specs[0].name)

    @dg.asset_check(asset=_splits_stub)
    def breaks_too(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        raise KeyError("field")

    [group] = group_checks([breaks, holds, breaks_too])
    result = _evaluations(root.path, [_splits_stub], [group])
    assert _seen(result)["holds"][:3] == (True, dg.AssetCheckSeverity.ERROR, "holds")
    assert set(_seen(result)) == {"holds"} and not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "not a date" in str(failure.step_failure_data.error)
    error = str(failure.step_failure_data.error)  # names the check that raised, and the other one
    assert "in asset check breaks of meds_subject_splits" in error and "breaks_too raised too: KeyError" in error

"""One truth: a planted defect shows the same rule, count and reason in the Dagster check result, the
`longitude quality` summary and the stewards' site, because all three read the check store."""

import os
import subprocess
import sys

import dagster as dg
import polars as pl
import pytest
from markupsafe import escape

from pipelines.defs.fhir.checks import fhir_raw_ledger_balances
from pipelines.defs.partitions import shard_partitions
from pipelines.defs.quality.checks import _conformance_check, meds_data_plausible
from pipelines.defs.resources import LongitudeResource
from quality.check_store import read
from quality.report import run_quality
from schemas.io import write_parquet
from schemas.ledger import LEDGER_SCHEMA
from tests.conftest import TEST_SECRET
from tests.quality.conftest import Root


@dg.asset(name="meds_data", partitions_def=shard_partitions)
def _meds_stub() -> None:
    """Stands in for the real asset: the root's files are already written."""


@dg.asset(name="meds_subject_splits")
def _splits_stub() -> None:
    """Stands in for the real asset."""


@dg.asset(name="fhir_raw")
def _fhir_stub() -> None:
    """Stands in for the real asset."""


def _materialize(root: Root, assets: list, checks: list, partition: str | None = None) -> dict:
    resource = LongitudeResource(root=str(root.path), secret=TEST_SECRET.decode())
    result = dg.materialize([*assets, *checks], partition_key=partition, resources={"longitude": resource},
                            raise_on_error=False)  # fmt: skip
    return {ev.check_name: ev for ev in result.get_asset_check_evaluations()}


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    env["COLUMNS"] = "400"  # one summary line per rule, unwrapped
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_a_planted_defect_reads_the_same_in_dagster_the_cli_and_the_site(root: Root):
    # 1. a subject's file moved into the wrong split (blocking); 2. a heart rate of 900 (warning);
    # 3. a ledger row that does not balance (blocking; only the Dagster check computes it)
    root.layout.meds_shard("held_out", 1).rename(root.layout.meds_shard("train", 1))
    df = root.data("train", 1)
    root.write_data("train", 1, df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0)).otherwise("numeric_value")))  # fmt: skip
    ledger = pl.read_parquet(root.layout.ledger("fhir_raw")).with_columns(n_out=pl.col("n_out") - 1)
    write_parquet(ledger.to_arrow(), root.layout.ledger("fhir_raw"), LEDGER_SCHEMA)

    splits = _conformance_check(dg.AssetKey("meds_subject_splits"), None, "meds")
    dagster = _materialize(root, [_splits_stub, _fhir_stub], [splits, fhir_raw_ledger_balances])
    dagster |= _materialize(root, [_meds_stub], [meds_data_plausible], "1")
    stored = {r.rule: r for r in read(root.path) if not r.passed}
    wrong_split = stored["meds_data.subjects/file_in_assigned_split"]
    heart_rate = stored["meds_data.plausibility/value_below_physiological_high"]
    ledger_rule = stored["fhir_raw/fhir_raw_ledger_balances"]
    assert (wrong_split.failed, heart_rate.failed, ledger_rule.failed) == (1, 3, 2)
    assert wrong_split.blocking and ledger_rule.blocking and not heart_rate.blocking
    assert "1 of 3 rows break the rule" in wrong_split.reason and wrong_split.doc.startswith("docs/quality.md#")

    # Dagster: the check results say which rule failed and why, from the stored rows
    ev = dagster["meds_subject_splits_tables_conform"]
    assert not ev.passed and wrong_split.reason in ev.description and wrong_split.doc in ev.description
    assert ledger_rule.reason in dagster["fhir_raw_ledger_balances"].description
    assert dagster["meds_data_plausible"].metadata["failures"].value[0]["reason"] == heart_rate.reason
    ex = dagster["fhir_raw_ledger_balances"].metadata["failures"].value[0]["examples"]
    assert ex == [{"source_file": "landing/fhir/b1.json", "record_type": "Observation", "n_in": "40", "n_out": "37",
                   "n_quarantined": "2"}, {"source_file": "landing/fhir/b2.json", "record_type": "Patient",
                   "n_in": "3", "n_out": "2", "n_quarantined": "0"}]  # fmt: skip

    # the site, as the quality_site asset builds it (from the store: no check runs again)
    run_quality(root.path, gx=False, recheck=False, phi_audit=False)
    page = (root.path / "quality" / "site" / "index.html").read_text()
    for row in (wrong_split, heart_rate, ledger_rule):
        assert row.rule in page and str(escape(row.reason)) in page

    # the CLI: re-runs the suites into the store and reads every stored result, the ledger check's included
    run = _cli("quality", "--root", str(root.path), "--no-gx")
    assert run.returncode == 1, run.stderr
    for row in (wrong_split, heart_rate, ledger_rule):
        assert f"{row.rule}: {row.reason}" in run.stderr.replace("\n", " ") or row.reason in run.stderr
    assert "Traceback" not in run.stderr


@pytest.fixture(autouse=True)
def _no_env_root(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LONGITUDE_ROOT", raising=False)


def test_a_cli_recheck_reaches_the_dagster_ui_as_it_reaches_the_site(root: Root):
    # A defect planted after the last materialization: `longitude quality` finds it, and the Dagster UI (which
    # reads the root's event log, not the store) must not stay green.
    root.layout.meds_shard("held_out", 1).rename(root.layout.meds_shard("train", 1))
    for _ in range(2):  # a second re-check records again (the first's entries are not in its way)
        run = _cli("quality", "--root", str(root.path), "--no-gx")
        assert run.returncode == 1 and "Error" not in run.stderr, run.stderr
    [row] = [r for r in read(root.path) if r.rule == "meds_data.subjects/file_in_assigned_split"]
    assert not row.passed

    from pipelines.instance import root_instance

    instance = root_instance(root.layout)
    try:
        key = dg.AssetCheckKey(dg.AssetKey("meds_subject_splits"), "meds_subject_splits_tables_conform")
        [latest] = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
        evaluation = latest.event.dagster_event.event_specific_data
        site = instance.get_latest_materialization_event(dg.AssetKey("quality_site")).asset_materialization
    finally:
        instance.dispose()
    assert not evaluation.passed and row.reason in evaluation.description
    assert evaluation.metadata["recorded_by"].value == "longitude quality"
    # the page the re-check wrote, as the UI's quality_site materialization: it counts the same failure
    assert (
        site.metadata["rebuilt_by"].value == "longitude quality" and site.metadata["blocking_failures"].value == 1
    )


@dg.asset(name="features_without_tables")
def _no_table_stub() -> None:
    """Stands in for an asset that writes no table a schema in schemas/ describes."""


def test_checks_that_validate_nothing_and_quarantine_reasons_count_alike_in_the_cli_and_the_site(
    root: Root, capsys
):
    from pipelines.commands.common import print_check_rows
    from quality.check_store import stored_checks

    splits = _conformance_check(dg.AssetKey("meds_subject_splits"), None, "meds")
    nothing = _conformance_check(dg.AssetKey("features_without_tables"), None, None)
    dagster = _materialize(root, [_splits_stub, _no_table_stub], [splits, nothing])
    assert sorted(dagster) == ["features_without_tables_tables_conform", "meds_subject_splits_tables_conform"]
    assert all(ev.passed for ev in dagster.values())
    assert len(stored_checks(root.path)) == len(dagster)  # the empty result is stored too

    run_quality(root.path, gx=False, recheck=False, phi_audit=False)
    page = (root.path / "quality" / "site" / "index.html").read_text()
    assert "from 2 checks (1 of them found no table a schema describes" in page
    # the page's own check runs once the page is written: the page names it rather than count one fewer
    assert "one more, quality_site_is_offline, checks this page" in page

    print_check_rows(root.path, None, only_failed=False)
    err = capsys.readouterr().err.replace("\n", " ")
    assert "from 2 checks (1 found no table a schema describes)" in err
    # the quarantine, by the reason and review target the site shows, never a record's contents
    target = "quarantine:fhir_raw/UNPARSEABLE_DATE"
    assert "2 records quarantined" in err and f"{target}: 2 records" in err and target in page
    assert "Zyxwanda" not in err and "MRN-88301" not in err
    # its review state, as the site's badge shows it
    assert "(to review)" in err
    from quality.review import record

    record(root.path / "quality", target, "accept", "dates fixed upstream", "ana")
    print_check_rows(root.path, None, only_failed=False)
    after = capsys.readouterr().err.replace("\n", " ")
    assert f"{target}: 2 records" in after and "(accepted by ana)" in after


def test_the_site_names_its_own_check_as_the_pipeline_defines_it():
    from pipelines.defs.quality.checks import quality_site_is_offline
    from quality.site import SITE_CHECK

    (key,) = quality_site_is_offline.check_keys
    assert (key.asset_key.to_user_string(), key.name) == SITE_CHECK


def test_dagster_shows_the_quarantine_by_review_target_as_the_site_does(root: Root):
    from pipelines.defs.quality.assets import quality_site

    resource = LongitudeResource(root=str(root.path), secret=TEST_SECRET.decode())
    result = dg.materialize(
        [quality_site],
        resources={"longitude": resource},
        run_config={"ops": {"quality_site": {"config": {"great_expectations": False}}}},
        selection=[quality_site],
    )
    (materialization,) = result.asset_materializations_for_node("quality_site")
    table = materialization.metadata["quarantined_by_reason"].value
    assert "| quarantine:fhir_raw/UNPARSEABLE_DATE | 2 |" in table
    assert "Zyxwanda" not in table and "b1.json" not in table
    page = (root.path / "quality" / "site" / "index.html").read_text()
    assert "quarantine:fhir_raw/UNPARSEABLE_DATE" in page


def _latest(root: Root, asset: str, check: str, partition: str | None):
    from pipelines.instance import root_instance

    instance = root_instance(root.layout)
    try:
        key = dg.AssetCheckKey(dg.AssetKey(asset), check)
        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
        site = instance.get_latest_materialization_event(dg.AssetKey("quality_site"))
    finally:
        instance.dispose()
    [latest, *_] = [r.event.dagster_event.event_specific_data for r in records
                    if r.event.dagster_event.event_specific_data.partition == partition]  # fmt: skip
    return latest, site.asset_materialization.metadata if site else None


def test_a_review_reaches_the_dagster_ui_as_it_reaches_the_cli_and_the_site(root: Root):
    # An accepted warning passes in the CLI summary and on the site at once; the Dagster UI must not keep
    # showing it failed until the next materialization (nor an acceptance withdrawn as passing).
    df = root.data("train", 0)
    root.write_data("train", 0, df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0)).otherwise("numeric_value")))  # fmt: skip
    assert _cli("quality", "--root", str(root.path), "--no-gx").returncode == 0
    rule = "meds_data.plausibility/value_below_physiological_high"
    [row] = [r for r in read(root.path) if r.rule == rule and not r.passed]
    before, _ = _latest(root, "meds_data", "meds_data_plausible", row.partition)
    assert not before.passed

    accept = _cli("quality", "accept", f"check:{rule}", "--note", "checked with the ward", "--who", "ana",
                  "--root", str(root.path))  # fmt: skip
    assert accept.returncode == 0, accept.stderr
    after, site = _latest(root, "meds_data", "meds_data_plausible", row.partition)
    assert after.passed and after.metadata["accepted"].value == 1
    assert after.metadata["recorded_by"].value == "review by ana"
    assert site["open_warnings"].value == 0 and site["rebuilt_by"].value == "review by ana"
    page = (root.path / "quality" / "site" / "index.html").read_text()
    assert "0 open warnings" in page and "checked with the ward" in page and "accepted</b> by ana" in page
    assert "0 open warnings" in _cli("quality", "--root", str(root.path), "--no-gx").stderr

    revoke = _cli(
        "quality", "revoke", f"check:{rule}", "--note", "value confirmed wrong", "--root", str(root.path)
    )
    assert revoke.returncode == 0, revoke.stderr
    withdrawn, site = _latest(root, "meds_data", "meds_data_plausible", row.partition)
    assert not withdrawn.passed and site["open_warnings"].value == 1
    assert "1 open warning;" in (root.path / "quality" / "site" / "index.html").read_text()


def test_a_chunk_check_and_a_recheck_store_each_rule_result_once(root: Root):
    # A chunk's check validates the gathered set (every shard); `longitude quality` re-checks the same tables.
    # Stored under the chunk key, the re-check's per-shard results came beside it: every rule counted twice.
    from collections import Counter

    from pipelines.defs.partitions import ingest_chunk_partitions

    @dg.asset(name="fhir_raw", partitions_def=ingest_chunk_partitions)
    def _chunked_fhir_stub() -> None:
        """Stands in for the real asset, partitioned by ingest chunk as it is."""

    check = _conformance_check(dg.AssetKey("fhir_raw"), ingest_chunk_partitions, "fhir")
    chunk = ingest_chunk_partitions.get_partition_keys()[0]
    assert _materialize(root, [_chunked_fhir_stub], [check], chunk)["fhir_raw_tables_conform"].passed

    def results() -> Counter:
        return Counter((r.rule, r.partition) for r in read(root.path) if r.check == "fhir_raw_tables_conform")

    by_dagster = results()
    assert by_dagster and max(by_dagster.values()) == 1
    run_quality(root.path, gx=False, phi_audit=False)
    assert results() == by_dagster  # the same rule results, each once

    # a store an older run left per chunk: the re-check replaces it rather than add per-shard results beside it
    from quality.check_store import write

    stale = [r for r in read(root.path) if r.check == "fhir_raw_tables_conform"]
    write(root.path, "fhir_raw_tables_conform", "fhir_raw", chunk, stale)
    run_quality(root.path, gx=False, phi_audit=False)
    assert results() == by_dagster

"""A partial run (`materialize --select`, a UI run of some assets) re-runs checks without the quality_site asset:
the CLI summary, the root's Dagster instance and the stewards' site must still show the same failure."""

import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest
from markupsafe import escape

from quality.check_store import read
from schemas.layout import Layout, partition_label
from tests.conftest import TEST_SECRET, write_bundle, write_ndjson
from tests.fhir_fixtures import encounter, lab, patient

_RULE = "meds_data.plausibility/value_below_physiological_high"
_CLI = [sys.executable, "-c", "from pipelines.cli import main; main()"]


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "DAGSTER_"))}
    # COLUMNS: one summary line per rule, unwrapped; DAGSTER_HOME: a run launched as the UI launches it
    return env | {
        "LONGITUDE_SECRET": TEST_SECRET.decode(),
        "COLUMNS": "400",
        "DAGSTER_HOME": str(root / "dagster"),
    }


def _longitude(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*_CLI, *args, "--root", str(root)], capture_output=True, text=True, env=_env(root),
                          timeout=600)  # fmt: skip


def _bundle(root: Path, i: int, *extra: dict) -> None:
    resources = [patient(f"p{i}"), encounter(f"e{i}", f"p{i}", "2019-01-01T10:00:00Z"),
                 lab(f"o{i}", f"p{i}", "2019-01-01T10:05:00Z"), *extra]  # fmt: skip
    write_bundle(root / "landing" / "fhir" / f"p{i}.json", resources)


def _built(tmp_path: Path, patients: int, *args: str) -> Path:
    """A root of `patients` small bundles after `longitude materialize ARGS`, with nothing implausible."""
    root = tmp_path / "root"
    for i in range(patients):
        _bundle(root, i)
    run = _longitude(root, "materialize", "--workers", "1", *args)
    assert run.returncode == 0, run.stderr
    assert _open_warnings(_page(root)) == 0
    return root


def _page(root: Path) -> str:
    return (root / "quality" / "site" / "index.html").read_text()


def _open_warnings(page: str) -> int:
    return int(re.search(r"(\d+) open warnings?;", page).group(1))


def _built_at(page: str) -> datetime:
    stamp = re.search(r'id="built">Page built (\S+ \S+) UTC', page)
    assert stamp, "the page says when it was built"
    return datetime.fromisoformat(stamp.group(1) + "+00:00")


def _latest_evaluation(instance: dg.DagsterInstance, asset: str, check: str, partition: str):
    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=20):
        evaluation = record.event.dagster_event.event_specific_data
        if evaluation.partition == partition:
            return evaluation
    raise AssertionError(f"no evaluation of {check} for partition {partition}")


@pytest.mark.integration
@pytest.mark.slow
def test_a_partial_materialize_shows_its_failure_in_the_cli_dagster_and_the_site(tmp_path: Path):
    root = _built(tmp_path, 4, "--shards", "2")

    # a heart rate of 900/min (a warning), a lab without any time (quarantined) and a broken NDJSON line
    _bundle(root, 0, lab("hr0", "p0", "2019-01-01T10:06:00Z", code="8867-4", value=900.0, unit="/min"))
    untimed = lab("late", "p1", "2019-01-01T10:07:00Z")
    del untimed["effectiveDateTime"]
    write_ndjson(root / "landing" / "fhir" / "extra.ndjson", [untimed, "{not json"])
    partial = _longitude(root, "materialize", "--select", "fhir_raw", "--select", "meds_data", "--workers", "1")
    assert partial.returncode == 0, partial.stderr
    [row] = [r for r in read(root) if r.rule == _RULE and not r.passed]
    assert row.failed == 1 and row.partition is not None

    # the CLI summary
    cli = " ".join(partial.stderr.split())
    assert f"warn {_RULE} [{partition_label(row.partition)}]: {row.reason}" in cli, cli
    assert "Stewards' site rebuilt from the stored results" in cli
    for code in ("MISSING_TIME", "MALFORMED_JSON"):
        assert f"quarantine:fhir_raw/{code}: 1 records" in cli

    # Dagster, the root's instance: the check's evaluation, the rebuilt site's and fhir_raw's materializations
    from pipelines.instance import root_instance

    instance = root_instance(Layout(root))
    try:
        evaluation = _latest_evaluation(instance, "meds_data", "meds_data_plausible", row.partition)
        site = instance.get_latest_materialization_event(dg.AssetKey("quality_site")).asset_materialization
        ingest = instance.get_latest_materialization_event(dg.AssetKey("fhir_raw")).asset_materialization
    finally:
        instance.dispose()
    assert not evaluation.passed and row.reason in evaluation.description
    assert site.metadata["rebuilt_by"].value == "longitude materialize (a run without quality_site)"
    assert site.metadata["open_warnings"].value == 1
    by_reason = ingest.metadata["quarantined_by_reason"].value
    for code, reason in (("MISSING_TIME", "has none of"), ("MALFORMED_JSON", "")):
        assert re.search(rf"\| quarantine:fhir_raw/{code} \| 1 \| [^|]*{reason}", by_reason), by_reason
    assert "late" not in by_reason and "not json" not in by_reason  # never the record: its id, its text

    # the site: the same rule, shard and reason, on a page built after the result was stored
    page = _page(root)
    assert _RULE in page and str(escape(row.reason)) in page and _open_warnings(page) == 1
    assert _built_at(page) >= row.checked_at.replace(microsecond=0)
    assert "quarantine:fhir_raw/MISSING_TIME" in page


@pytest.mark.integration
@pytest.mark.slow
def test_runs_launched_as_the_ui_launches_them_rebuild_the_site_too(tmp_path: Path):
    root = _built(tmp_path, 2, "--shards", "1")
    assert "MALFORMED_JSON" not in _page(root)

    _bundle(root, 0, lab("hr0", "p0", "2019-01-01T10:06:00Z", code="8867-4", value=900.0, unit="/min"))
    write_ndjson(root / "landing" / "fhir" / "extra.ndjson", ["{not json"])
    dagster = Path(sys.executable).with_name("dagster")
    logs = ""
    for asset, partition in (("fhir_raw", "c0"), ("meds_data", "0")):  # a run each, as the UI launches them
        cmd = [str(dagster), "asset", "materialize", "-m", "pipelines.definitions", "--select", asset,
               "--partition", partition]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True, env=_env(root) | {"LONGITUDE_ROOT": str(root)},
                             timeout=600)  # fmt: skip
        logs += run.stdout + run.stderr
        assert run.returncode == 0, logs[-3000:]
    assert logs.count("stewards' site rebuilt from the stored results") == 2, logs[-3000:]
    [row] = [r for r in read(root) if r.rule == _RULE and not r.passed]
    page = _page(root)
    assert str(escape(row.reason)) in page and "quarantine:fhir_raw/MALFORMED_JSON" in page
    assert _open_warnings(page) == 1
    assert _built_at(page) >= row.checked_at.replace(microsecond=0)


def test_a_site_that_cannot_be_rebuilt_is_said_to_show_older_results(tmp_path: Path, monkeypatch, capsys):
    from types import SimpleNamespace

    from pipelines import site_refresh
    from pipelines.commands.common import _rebuild_site

    def broken(root, instance, by):
        raise OSError(f"{root / 'quality' / 'site'}: no space left on device")

    monkeypatch.setattr(site_refresh, "rebuild_site", broken)
    _rebuild_site(SimpleNamespace(root=tmp_path), None, None)  # the steps' results stay stored: no raise
    err = " ".join(capsys.readouterr().err.split())
    assert "The stewards' site was NOT rebuilt (OSError:" in err and "shows older results" in err


@pytest.mark.slow
def test_a_partial_run_on_a_root_without_a_page_builds_none(tmp_path: Path):
    """Nothing to go stale: the run pays nothing for a page nobody asked for (the FHIR benchmark's run)."""
    root = tmp_path / "root"
    _bundle(root, 0)
    run = _longitude(root, "materialize", "--workers", "1", "--select", "fhir_raw", "--select", "meds_data")
    assert run.returncode == 0, run.stderr
    assert "Stewards' site rebuilt" not in run.stderr
    assert not (root / "quality" / "site" / "index.html").exists()

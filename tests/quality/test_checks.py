"""The Dagster asset checks: one blocking conformance check per asset (per partition where partitioned),
plausibility as WARN with counts and de-identified examples, PHI audit blocking."""

from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow as pa
import pytest

from pipelines.defs.partitions import shard_partitions
from pipelines.defs.quality.checks import _conformance_check, meds_data_plausible, phi_audit_finds_no_phi
from pipelines.defs.resources import LongitudeResource
from tests.conftest import TEST_SECRET
from tests.quality.conftest import Root


def test_every_asset_of_the_code_location_has_a_blocking_conformance_check():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    specs = {spec.key: spec for c in defs.asset_checks for spec in c.check_specs}
    for key in graph.get_all_asset_keys():
        if key.to_user_string() == "quality_site":
            continue  # checked by quality_site_is_offline
        spec = specs.get(dg.AssetCheckKey(key, f"{key.to_python_identifier()}_tables_conform"))
        assert spec is not None and spec.blocking, key
    assert specs[dg.AssetCheckKey(dg.AssetKey("phi_audit"), "phi_audit_finds_no_phi")].blocking


@dg.asset(name="meds_data", partitions_def=shard_partitions)
def _meds_stub() -> None:
    """Stands in for the real asset: the root's files are already written."""


@dg.asset(name="meds_subject_splits")
def _splits_stub() -> None:
    """Stands in for the real asset."""


def _run(root: Root, selection, partition: str | None = None) -> dict[str, dg.AssetCheckEvaluation]:
    checks = [_conformance_check(dg.AssetKey("meds_data"), shard_partitions, "meds"), meds_data_plausible,
              _conformance_check(dg.AssetKey("meds_subject_splits"), None, "meds")]  # fmt: skip
    result = dg.materialize(
        [*selection, *checks],
        partition_key=partition,
        resources={"longitude": LongitudeResource(root=str(root.path), secret=TEST_SECRET.decode())},
        raise_on_error=False,
    )
    return {ev.check_name: ev for ev in result.get_asset_check_evaluations()}


def test_plausibility_warns_per_partition_with_counts_and_deidentified_examples(root: Root):
    df = root.data("held_out", 1)
    root.write_data("held_out", 1, df.with_columns(
        numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0)).otherwise("numeric_value")))  # fmt: skip
    clean = _run(root, [_meds_stub], "0")
    assert clean["meds_data_plausible"].passed and clean["meds_data_tables_conform"].passed
    ev = _run(root, [_meds_stub], "1")
    assert ev["meds_data_tables_conform"].passed
    warn = ev["meds_data_plausible"]
    assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN
    assert warn.metadata["unexpected_rows"].value == 3
    [failure] = warn.metadata["failures"].value
    assert failure["by_code"] == {"LOINC//8867-4": 3}
    assert failure["examples"][0]["subject_id"] == str(root.subject_id("src-c"))
    assert "Pendergrove" not in str(warn.metadata) and "src-c" not in str(warn.metadata)


def test_blocking_check_fails_with_error_severity_on_a_subject_in_the_wrong_split(root: Root):
    root.layout.meds_shard("held_out", 1).rename(root.layout.meds_shard("train", 1))
    ev = _run(root, [_splits_stub])["meds_subject_splits_tables_conform"]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR
    assert "file_in_assigned_split" in ev.description


@dg.asset(name="phi_audit")
def _audit_stub() -> None:
    """Stands in for the real asset: the audit summary is already written."""


def test_phi_audit_check_blocks_on_a_hit_and_names_no_value(root: Root, tmp_path: Path):
    from quality.check_store import read
    from quality.phi_audit import audit, write_audit

    (root.path / "tokens").mkdir()
    (root.path / "tokens" / "notes.txt").write_text("fine\nsee Kranzhaus\n")
    write_audit(audit(root.path), root.layout)
    result = dg.materialize([_audit_stub, phi_audit_finds_no_phi], raise_on_error=False,
                            resources={"longitude": LongitudeResource(root=str(root.path))})  # fmt: skip
    [ev] = result.get_asset_check_evaluations()
    assert not ev.passed and "1 PHI hits in 1 files" in ev.description
    [failure] = ev.metadata["failures"].value
    assert failure["examples"] == [{"path": "tokens/notes.txt", "table": "txt", "field": "line", "kind": "name",
                                    "n": 1, "first_row": 2}]  # fmt: skip
    assert "Kranzhaus" not in str(ev.metadata)
    [stored] = read(root.path)
    assert (
        stored.rule == "phi_audit/no_phi_outside_phi_zones"
        and not stored.passed
        and stored.doc.endswith("#phi_audit")
    )


@pytest.fixture(autouse=True)
def _no_env_root(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LONGITUDE_ROOT", raising=False)


def test_a_failure_in_a_phi_table_names_file_row_and_column_never_a_value(root: Root):
    import pyarrow.parquet as pq

    from quality.suite_checks import conformance_rows

    path = root.layout.raw_shard("fhir", "patients", 0) / "part-0.parquet"
    table = pq.read_table(path)
    ids = table.column("source_patient").to_pylist()
    ids[1] = None  # a patient row that lost its source id
    pq.write_table(table.set_column(0, pa.field("source_patient", pa.string()), pa.array(ids)), path)
    [row] = [r for r in conformance_rows(root.path, "fhir_raw", None) if not r.passed]
    assert row.rule == "raw_patients.schema/source_patient/not_null" and row.failed == 1
    assert row.examples == [{"file": "raw/fhir/patients/shard=0/part-0.parquet", "row": "1",
                             "column": "source_patient"}]  # fmt: skip
    assert "src-" not in str(row.to_json()) and "Orvetta" not in str(row.to_json())

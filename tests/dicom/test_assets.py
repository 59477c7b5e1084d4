"""The Dagster assets end to end on a tiny landing tree: files written where the schemas say, counts only."""

import dagster as dg
import polars as pl
import pyarrow as pa

from pipelines.defs.dicom.assets import (
    dicom_events,
    dicom_instances,
    imaging_fhir_links,
    imaging_series,
    imaging_studies,
)
from pipelines.defs.dicom.checks import dicom_ledger_balances
from pipelines.defs.quality.checks import CONFORMANCE_CHECKS
from pipelines.defs.resources import LongitudeResource
from quality.check_store import read
from schemas.imaging import (
    FHIR_IMAGING_STUDY_UIDS_SCHEMA,
    INSTANCES_ASSET,
    imaging_path,
    raw_events_path,
    raw_patients_path,
)
from schemas.io import write_parquet
from schemas.layout import Layout
from tests.dicom.conftest import SECRET, make_instance, write_instance


def test_assets_materialize_and_the_ledger_check_passes(tmp_path, keyring):
    layout = Layout(tmp_path)
    for i in range(2):
        write_instance(layout.landing_dicom / "p1" / f"im{i}", make_instance(sop_uid=f"1.2.3.{i}"))
    (layout.landing_dicom / "p1" / "DICOMDIR.txt").write_text("not dicom")
    fhir = pa.table(
        {
            "source_patient": ["MRN-0042"],
            "resource_id": ["is1"],
            "study_uid": ["1.2.826.0.1.3680043.9.7.1"],
            "source_file": ["f.ndjson"],
        }
    )
    write_parquet(
        fhir, layout.raw_table("fhir", "imaging_study_uids") / "part-0.parquet", FHIR_IMAGING_STUDY_UIDS_SCHEMA
    )
    resources = {"longitude": LongitudeResource(root=str(tmp_path), secret=SECRET.decode(), n_shards=4, workers=1)}
    conform = next(
        c for c in CONFORMANCE_CHECKS if dg.AssetKey(INSTANCES_ASSET) in {k.asset_key for k in c.check_keys}
    )
    first = dg.materialize(
        [dicom_instances, dicom_ledger_balances, conform], resources=resources, partition_key="c0"
    )
    assert first.success and dg.materialize([imaging_fhir_links], resources=resources).success
    # The chunk's conformance check covers every shard of the tables the gathered index wrote.
    checked = {r.rule.split("/")[0].split(".")[0] for r in read(tmp_path) if r.check.endswith("_tables_conform")}
    assert {"raw_dicom_instances", "raw_patients", "imaging_instances"} <= checked
    meta = first.asset_materializations_for_node("dicom_instances")[0].metadata
    assert meta["instances"].value == 2 and meta["quarantined"].value == 1 and meta["files"].value == 3
    checks = first.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    shard = keyring.shard("MRN-0042", 4)
    second = dg.materialize(
        [dicom_events, imaging_series, imaging_studies], resources=resources, partition_key=str(shard)
    )
    assert second.success
    assert pl.read_parquet(imaging_path(layout, "series", shard))["n_instances"].to_list() == [2]
    assert pl.read_parquet(imaging_path(layout, "studies", shard)).height == 1
    # The study is already on the timeline through its FHIR ImagingStudy, so DICOM adds no second copy.
    assert pl.read_parquet(raw_events_path(layout, shard)).height == 0
    assert second.asset_materializations_for_node("dicom_events")[0].metadata["studies_already_in_fhir"].value == 1
    patients = pl.read_parquet(raw_patients_path(layout, shard))  # so MEDS knows the subject of these events
    assert patients["source_patient"].to_list() == ["MRN-0042"]
    links = pl.read_parquet(layout.imaging / "fhir_links.parquet")
    assert links["same_subject"].to_list() == [True]
    quarantine = pl.read_parquet(layout.quarantine("dicom_instances") / "part-0.parquet")
    assert quarantine["reason_code"].to_list() == ["NOT_DICOM"]


def test_definitions_load_with_the_dicom_group():
    from pipelines.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"dicom_instances", "dicom_events", "imaging_series", "imaging_studies", "imaging_fhir_links"} <= keys


def test_dicom_patient_ids_map_to_the_fhir_patient_by_mrn(tmp_path, keyring):
    """A PatientID that is a FHIR patient's MRN makes one subject: same pseudonym, shard and date shift."""
    from pipelines.defs.fhir.ingest import ingest_fhir
    from tests.conftest import write_bundle
    from tests.fhir_fixtures import patient

    layout = Layout(tmp_path)
    write_bundle(layout.landing_fhir / "b.json", [patient("fhir-7")])  # its MRN is "MRN-fhir-7"
    write_instance(layout.landing_dicom / "x" / "im0", make_instance(sop_uid="1.2.3.9", patient_id="MRN-fhir-7"))
    ingest_fhir(layout, keyring, 4)
    resources = {"longitude": LongitudeResource(root=str(tmp_path), secret=SECRET.decode(), n_shards=4, workers=1)}
    assert dg.materialize([dicom_instances], resources=resources, partition_key="c0").success
    shard = keyring.shard("fhir-7", 4)
    assert dg.materialize([dicom_events], resources=resources, partition_key=str(shard)).success
    events = pl.read_parquet(raw_events_path(layout, shard))
    assert set(events["source_patient"]) == {"fhir-7"} and events.height == 2
    assert pl.read_parquet(raw_patients_path(layout, shard)).height == 0  # FHIR's patient record stands

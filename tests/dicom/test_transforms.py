"""Events, roll-ups and the FHIR link from index rows: codes, counts, real vs shifted times."""

from datetime import datetime, timedelta

import polars as pl

from deid.dicom import remap_uid
from pipelines.defs.dicom import transforms
from pipelines.defs.dicom.index import index_files, walk
from tests.dicom.conftest import SECRET, make_instance, write_instance


def _t(text: str) -> datetime:
    """A naive UTC timestamp, as the schemas store them."""
    return datetime.fromisoformat(text)


def _index(tmp_path, n_shards=1):
    for i in range(3):
        write_instance(
            tmp_path / "s1" / f"{i}", make_instance(sop_uid=f"1.2.3.1.{i}", instance_number=3 - i)
        )  # files in reverse instance order
    write_instance(
        tmp_path / "s2" / "0",
        make_instance(series_uid="1.2.3.2", sop_uid="1.2.3.2.0", modality="CR", body_part="CSPINE"),
    )
    other = make_instance(
        patient_id="MRN-7", study_uid="9.9", series_uid="9.9.1", sop_uid="9.9.1.1", study_date=""
    )
    other.SeriesDate = ""
    write_instance(tmp_path / "undated", other)
    return index_files(walk(tmp_path), tmp_path, SECRET, n_shards)


def test_events_per_study_and_series_at_real_utc_times(tmp_path):
    result = _index(tmp_path)
    raw = transforms.raw_instances(result, 0)
    events = transforms.events_table(raw, SECRET)
    assert events.height == 3  # one study + two series for MRN-0042; the undated study gives none
    by_code = {r["code"]: r for r in events.iter_rows(named=True)}
    study = by_code["IMAGING_STUDY//CT//CHEST"]
    assert study["source_patient"] == "MRN-0042" and study["numeric_value"] == 2.0  # two series
    assert study["time"] == _t("2021-03-04 09:15")  # 10:15 at +0100 is 09:15 UTC
    assert study["text_value"] == remap_uid("1.2.826.0.1.3680043.9.7.1", SECRET)
    ct = by_code["IMAGING//CT//CHEST"]
    assert ct["numeric_value"] == 3.0 and ct["time"] == _t("2021-03-04 09:20:00.5")
    assert by_code["IMAGING//CR//CSPINE"]["numeric_value"] == 1.0
    assert set(events["resource_type"]) == {"ImagingStudy", "ImagingSeries"}


def test_imaging_times_are_the_real_times_shifted_by_the_subjects_offset(tmp_path, keyring):
    result = _index(tmp_path)
    raw = transforms.raw_instances(result, 0).filter(pl.col("source_patient") == "MRN-0042")
    inst = transforms.imaging_instances(result, 0).filter(pl.col("subject_id") == keyring.subject_id("MRN-0042"))
    shift = timedelta(days=keyring.shift_days("MRN-0042"))
    assert set(inst["study_time"]) == {t + shift for t in raw["study_time"]}
    assert set(inst["series_time"]) == {t + shift for t in raw["series_time"]}
    assert inst["acquisition_time"].to_list()[0] == _t("2021-03-04 09:21") + shift


def test_rollups_count_and_order_instances(tmp_path):
    inst = transforms.imaging_instances(_index(tmp_path), 0)
    series = transforms.series_table(inst)
    studies = transforms.studies_table(inst)
    ct = series.filter(pl.col("series_uid") == remap_uid("1.2.826.0.1.3680043.9.7.1.2", SECRET)).row(0, named=True)
    assert ct["n_instances"] == 3 and ct["n_frames"] == 3
    assert ct["sop_uids"] == [remap_uid(f"1.2.3.1.{i}", SECRET) for i in (2, 1, 0)]  # by instance number
    assert ct["series_description"] == "T1 AXIAL"
    assert series["n_instances"].sum() == inst.height
    assert studies["n_instances"].sum() == inst.height
    assert studies.filter(pl.col("n_series") == 2)["modalities"].to_list() == [["CR", "CT"]]


def test_fhir_link_joins_on_the_original_study_uid_and_flags_other_subjects(tmp_path, keyring):
    raw = transforms.raw_instances(_index(tmp_path), 0)
    fhir = pl.DataFrame(
        {
            "source_patient": ["MRN-0042", "patient-x"],
            "resource_id": ["is1", "is2"],
            "study_uid": ["1.2.826.0.1.3680043.9.7.1", "9.9"],
            "source_file": ["b.json", "b.json"],
        }
    )
    links = transforms.fhir_links(raw, fhir, keyring).sort("same_subject")
    assert links.height == 2
    assert links["study_uid"].to_list() == [
        remap_uid("9.9", SECRET),
        remap_uid("1.2.826.0.1.3680043.9.7.1", SECRET),
    ]
    assert links["same_subject"].to_list() == [False, True]
    assert links.row(0, named=True)["fhir_subject_id"] == keyring.subject_id("patient-x")


def test_raw_patients_one_row_per_source_patient_with_identifiers(tmp_path):
    result = _index(tmp_path)
    patients = transforms.raw_patients(result, 0).sort("source_patient")
    assert patients["source_patient"].to_list() == ["MRN-0042", "MRN-7"]
    row = patients.row(0, named=True)
    assert row["birth_time"] == _t("1961-07-12") and row["sex"] == "F"
    assert row["names"] == ["Doe^Jane"] and row["identifiers"] == ["MRN-0042", "SSN-123-45-6789"]
    assert row["addresses"] == ["12 Elm Street, Springfield"]
    assert row["source_file"] == "s1/0"

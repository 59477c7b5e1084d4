"""The index over real test data: every file accounted for, one MR series of 128 ordered instances."""

import polars as pl
import pydicom
import pytest

from deid.dicom import remap_uid
from pipelines.defs.dicom import transforms
from pipelines.defs.dicom.index import index_files, walk
from schemas.imaging import MISSING_DICOM_UID, NOT_DICOM, TRUNCATED_DICOM
from tests.dicom.conftest import SECRET, make_instance, write_instance


@pytest.fixture(scope="module")
def pydicom_index(pydicom_data):
    files = walk(pydicom_data)
    return files, index_files(files, pydicom_data.parent, SECRET, 4, workers=1)


def test_every_dicom_pydicom_file_is_indexed_counted_or_quarantined_with_a_reason(pydicom_index):
    files, result = pydicom_index
    assert len(result.files) == len(files) == len({f.source_file for f in result.files})
    kinds = {f.source_file: f.kind for f in result.files}
    assert set(kinds.values()) == {"instance", "dicomdir", "rejected"}
    assert all(f.reason_code and f.reason for f in result.rejected)
    by_name = {f.source_file.rsplit("/", 1)[-1]: f for f in result.files}
    assert by_name["MR_truncated.dcm"].reason_code == TRUNCATED_DICOM
    assert by_name["rtplan_truncated.dcm"].reason_code == TRUNCATED_DICOM
    for name in ("zipMR.gz", "test1.json", "README.txt", "crayons.icc", "rtplan.dump"):
        assert by_name[name].reason_code == NOT_DICOM, name
    assert by_name["priv_SQ.dcm"].reason_code == MISSING_DICOM_UID
    assert sum(f.kind == "dicomdir" for f in result.files) == 8
    assert {f.source_file for f in result.dicomdirs} >= {"dicom-pydicom/pydicom_test_files/dicomdirtests/DICOMDIR"}
    assert by_name["CT_small.dcm"].kind == "instance" and by_name["no_meta.dcm"].kind == "rejected"


def test_ledger_balances_per_file_and_counts_events(pydicom_index):
    _, result = pydicom_index
    raw = pl.concat([transforms.raw_instances(result, k) for k in range(4)])
    events = transforms.events_table(raw, SECRET)
    ledger = transforms.ledger_table(result, events)
    assert ledger.height == len(result.files)
    assert ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined")).is_empty()
    assert ledger["n_events"].sum() == events.height > 0
    assert ledger["n_quarantined"].sum() == transforms.quarantine_table(result).height == len(result.rejected)


def test_each_sop_instance_is_indexed_once(pydicom_index):
    _, result = pydicom_index
    sops = [f.raw["sop_uid"] for f in result.instances]
    assert len(sops) == len(set(sops))
    dup = [f for f in result.rejected if f.reason_code == "DUPLICATE_SOP_INSTANCE"]
    assert dup and all(f.raw is None for f in dup)


def test_imaging_tables_hold_no_source_identifier(pydicom_index):
    _, result = pydicom_index
    originals = set()
    for f in result.instances:
        originals |= {f.raw["source_patient"], f.raw["study_uid"], f.raw["series_uid"], f.raw["sop_uid"]}
    for k in range(4):
        inst = transforms.imaging_instances(result, k)
        text = " ".join(str(v) for row in inst.iter_rows() for v in row)
        assert not [o for o in originals if len(o) >= 4 and o in text]


def test_mr_series_is_one_series_of_128_instances_in_order(mr_series):
    files = walk(mr_series)
    result = index_files(files, mr_series.parent, SECRET, 4, workers=2, min_parallel=0)  # multiprocess path
    assert len(result.instances) == 128
    shard = result.instances[0].shard
    series = transforms.series_table(transforms.imaging_instances(result, shard))
    assert series.height == 1
    row = series.row(0, named=True)
    assert row["n_instances"] == 128 and row["modality"] == "MR"
    by_number = {}
    for path in files:
        if path.suffix == ".dcm":
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            by_number[int(ds.InstanceNumber)] = ds.SOPInstanceUID
    assert sorted(by_number) == list(range(128))
    assert row["sop_uids"] == [remap_uid(by_number[n], SECRET) for n in range(128)]
    study = transforms.studies_table(transforms.imaging_instances(result, shard))
    assert study.select("n_series", "n_instances").row(0) == (1, 128)


def test_parallel_and_serial_index_agree(tmp_path):
    for i in range(3):
        write_instance(tmp_path / "a" / f"{i}", make_instance(sop_uid=f"1.2.3.{i}", instance_number=i))
    write_instance(tmp_path / "b" / "copy", make_instance(sop_uid="1.2.3.0"))
    (tmp_path / "b" / "junk.txt").write_text("hello")
    files = walk(tmp_path)
    serial = index_files(files, tmp_path, SECRET, 2, workers=1)
    parallel = index_files(files, tmp_path, SECRET, 2, workers=2, min_parallel=0)
    assert [(f.source_file, f.kind, f.reason_code) for f in serial.files] == [
        (f.source_file, f.kind, f.reason_code) for f in parallel.files
    ]
    assert [f.imaging for f in serial.instances] == [f.imaging for f in parallel.instances]
    assert [(f.source_file, f.reason_code) for f in serial.rejected] == [
        ("b/copy", "DUPLICATE_SOP_INSTANCE"),
        ("b/junk.txt", NOT_DICOM),
    ]


def test_reading_only_the_needed_attributes_gives_the_same_rows_as_the_full_header(pydicom_data, keyring):
    """The index reads row and deny-list attributes only; every row and verdict matches a full read."""
    from pipelines.defs.dicom.index import index_file

    for path in walk(pydicom_data):
        subset = index_file(path, pydicom_data, keyring, 4, read_subset=True)
        full = index_file(path, pydicom_data, keyring, 4, read_subset=False)
        assert (subset.kind, subset.reason_code, subset.raw, subset.imaging) == (
            full.kind,
            full.reason_code,
            full.raw,
            full.imaging,
        ), path.name


def test_a_study_or_series_uid_another_patient_holds_is_quarantined_not_doubled(tmp_path):
    """A UID names one study (one series) of one patient: a later file giving it to another patient, or a series
    to another study, cannot be placed in imaging/ (keyed on the UIDs); it is quarantined, the run goes on."""
    from schemas.imaging import CONFLICTING_DICOM_UID

    study, series = "1.2.826.0.1.3680043.9.7.50", "1.2.826.0.1.3680043.9.7.50.1"
    files = [
        ("a.dcm", make_instance(patient_id="A1", study_uid=study, series_uid=series, sop_uid=series + ".1")),
        ("b.dcm", make_instance(patient_id="A1", study_uid=study, series_uid=series, sop_uid=series + ".2")),
        ("c.dcm", make_instance(patient_id="B2", study_uid=study, series_uid=series + "9", sop_uid=series + ".3")),
        ("d.dcm", make_instance(patient_id="A1", study_uid=study + "9", series_uid=series, sop_uid=series + ".4")),
    ]
    for name, ds in files:
        write_instance(tmp_path / "dicom" / name, ds)
    result = index_files(walk(tmp_path / "dicom"), tmp_path, SECRET, 2, workers=1)
    by_name = {f.source_file.rsplit("/", 1)[-1]: f for f in result.files}
    assert [by_name[n].kind for n in ("a.dcm", "b.dcm")] == ["instance", "instance"]
    for name, field in (("c.dcm", "StudyInstanceUID"), ("d.dcm", "SeriesInstanceUID")):
        assert by_name[name].reason_code == CONFLICTING_DICOM_UID and by_name[name].reason.startswith(field)
        assert "A1" not in by_name[name].reason and "B2" not in by_name[name].reason  # never a value
    instances = pl.concat([transforms.imaging_instances(result, k) for k in range(2)])
    series_rows = transforms.series_table(instances)
    assert series_rows.height == series_rows["series_uid"].n_unique() == 1

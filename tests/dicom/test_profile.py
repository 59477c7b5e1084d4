"""Annex E de-identification of synthetic headers: what leaves, what stays, what is shifted or remapped."""

from datetime import date, timedelta

import pydicom
from pydicom.dataset import Dataset

from deid.dicom import Profile, deidentify, remap_uid
from tests.dicom.conftest import SECRET, make_instance, write_instance


def _shifted(yyyymmdd: str, days: int) -> str:
    d = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    return (d + timedelta(days=days)).strftime("%Y%m%d")


def test_identifiers_are_replaced_removed_or_emptied(keyring):
    out = deidentify(make_instance(), keyring, "MRN-0042")
    pseudonym = str(keyring.subject_id("MRN-0042"))
    assert out.PatientID == pseudonym and str(out.PatientName) == pseudonym
    for keyword in ("PatientAddress", "OtherPatientIDs", "PatientAge", "InstitutionAddress", "ImageComments"):
        assert keyword not in out, keyword
    for keyword in ("PatientBirthDate", "AccessionNumber", "StudyID", "InstitutionName", "OperatorsName"):
        assert out.get(keyword) in ("", None), keyword
    assert str(out.ReferringPhysicianName) == ""
    assert out.PatientSex == ""  # Z without Retain Patient Characteristics
    assert "SourceApplicationEntityTitle" not in out.file_meta
    assert out.PatientIdentityRemoved == "YES"
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    codes = {item.CodeValue for item in out.DeidentificationMethodCodeSequence}
    assert {"113100", "113107", "113105"} <= codes


def test_dates_shift_by_the_subjects_offset_and_times_of_day_stay(keyring):
    days = keyring.shift_days("MRN-0042")
    out = deidentify(make_instance(), keyring, "MRN-0042")
    assert out.StudyDate == _shifted("20210304", days)
    assert out.SeriesDate == _shifted("20210304", days)
    assert out.AcquisitionDateTime == _shifted("20210304", days) + "102100"
    assert out.DateOfLastCalibration == _shifted("20210101", days)  # not in the table: shifted anyway
    assert out.StudyTime == "101500" and out.SeriesTime == "102000.5"
    assert out.TimezoneOffsetFromUTC == "+0100"
    nested = out.ReferencedSeriesSequence[0]
    assert nested.SeriesDate == _shifted("20210304", days)
    assert nested.SeriesInstanceUID == out.SeriesInstanceUID
    assert "PerformingPhysicianName" not in nested


def test_uids_are_remapped_consistently_so_a_series_stays_a_series(keyring):
    a = deidentify(make_instance(sop_uid="1.2.3.100", instance_number=1), keyring, "MRN-0042")
    b = deidentify(make_instance(sop_uid="1.2.3.101", instance_number=2), keyring, "MRN-0042")
    assert a.SeriesInstanceUID == b.SeriesInstanceUID == remap_uid("1.2.826.0.1.3680043.9.7.1.2", SECRET)
    assert a.StudyInstanceUID == b.StudyInstanceUID != "1.2.826.0.1.3680043.9.7.1"
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert a.file_meta.MediaStorageSOPInstanceUID == a.SOPInstanceUID == remap_uid("1.2.3.100", SECRET)
    ref = a.ReferencedImageSequence[0]  # X/Z/U*: the reference survives, pointing at the remapped instance
    assert ref.ReferencedSOPInstanceUID == remap_uid("1.2.826.0.1.3680043.9.7.1.2.99", SECRET)
    assert ref.ReferencedSOPClassUID == a.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"  # classes are kept
    assert a.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    for uid in (a.StudyInstanceUID, a.SeriesInstanceUID, a.SOPInstanceUID, a.FrameOfReferenceUID):
        assert uid.startswith("2.25.") and len(uid) <= 64 and uid.is_valid


def test_private_tags_are_removed_unless_safelisted(keyring):
    out = deidentify(make_instance(), keyring, "MRN-0042")
    assert 0x00091001 not in out and 0x00090010 not in out
    assert 0x00191001 not in out
    assert out[0x0019100C].value == 1000 and out[0x00190010].value == "SIEMENS MR HEADER"
    mosaic = make_instance()
    mosaic.add_new(0x0019100A, "US", 16)  # NumberOfImagesInMosaic: not in Table E.3.10-1, so removed
    assert 0x0019100A not in deidentify(mosaic, keyring, "MRN-0042")
    stripped = deidentify(make_instance(), keyring, "MRN-0042", profile=Profile(safe_private=frozenset()))
    tags = list(stripped.keys())
    assert not [tag for tag in tags if tag >> 16 & 1]
    assert "113111" not in {i.CodeValue for i in stripped.DeidentificationMethodCodeSequence}


def test_clean_descriptors_keep_plain_descriptions_and_drop_identifying_ones(keyring):
    out = deidentify(make_instance(series_description="T1 AXIAL"), keyring, "MRN-0042")
    assert out.SeriesDescription == "T1 AXIAL" and out.StudyDescription == "CT CHEST WITH CONTRAST"
    named = deidentify(make_instance(series_description="Jane follow-up"), keyring, "MRN-0042")
    assert "SeriesDescription" not in named
    dated = deidentify(make_instance(series_description="CT 03/04/2021"), keyring, "MRN-0042")
    assert "SeriesDescription" not in dated
    assert "RequestAttributesSequence" not in out  # Clean Descriptors on a sequence: its basic action, X


def test_input_is_untouched_and_output_is_a_writable_dicom_file(keyring, tmp_path):
    ds = make_instance()
    out = deidentify(ds, keyring, "MRN-0042")
    assert str(ds.PatientName) == "Doe^Jane" and ds.StudyDate == "20210304"
    path = write_instance(tmp_path / "x", out)
    back = pydicom.dcmread(path)
    assert back.PatientID == out.PatientID and back.SeriesInstanceUID == out.SeriesInstanceUID


def test_pn_values_anywhere_are_emptied_and_unknown_public_tags_dropped(keyring):
    ds = make_instance()
    item = Dataset()
    item.add_new(0x0040A123, "PN", "Doe^Jane")  # Person Name in a content item: D
    item.add_new(0x00401101, "SQ", [])
    ds.add_new(0x0040A730, "SQ", [item])  # Content Sequence: D -> emptied (no Clean Structured Content)
    ds.add_new(0x00321032, "PN", "Who^Doctor")
    ds.add_new(0x00200200, "UI", "1.2.3.4.5")  # Synchronization FoR UID: U
    ds.add_new(0x00990000 ^ 0x00980000 | 0x00081234, "LO", "??")  # even group, unknown to the dictionary
    out = deidentify(ds, keyring, "MRN-0042")
    assert len(out.ContentSequence) == 0
    assert "RequestingPhysician" not in out
    assert out[0x00200200].value == remap_uid("1.2.3.4.5", SECRET)
    assert 0x00091234 not in out and 0x00081234 not in out

"""DICOM files: valid Part 10, PHI in the headers, and the same UIDs, modality and body site as the FHIR ImagingStudy."""

from collections import defaultdict

import pydicom
import pytest

from synthetic import vocab
from tests.synthetic.conftest import Landing, subject_id

BODY_PART = {im.body_snomed: im.body_part for im in vocab.IMAGING.values()}


@pytest.fixture(scope="module")
def files(landing: Landing) -> dict[str, list[pydicom.Dataset]]:
    """Every DICOM file under dicom/, read by pydicom, grouped by StudyInstanceUID."""
    out = defaultdict(list)
    paths = [p for p in (landing.root / "dicom").rglob("*") if p.is_file()]
    assert len(paths) == landing.summary["dicom_files"]
    for path in paths:
        assert path.read_bytes()[128:132] == b"DICM"  # Part 10 preamble and prefix
        ds = pydicom.dcmread(path)
        out[ds.StudyInstanceUID].append(ds)
    return out


def test_files_are_complete_part10_with_pixels(files: dict[str, list[pydicom.Dataset]]) -> None:
    for datasets in files.values():
        for ds in datasets:
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
            assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
            assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
            assert ds.pixel_array.shape == (32, 32) and ds.pixel_array.dtype.name == "uint16"
            assert ds.pixel_array.max() < 4096


def test_headers_carry_the_patients_phi(landing: Landing, files: dict[str, list[pydicom.Dataset]]) -> None:
    by_mrn = {p["mrn"]: p for p in landing.patients.values()}
    for datasets in files.values():
        for ds in datasets:
            p = by_mrn[ds.PatientID]
            assert ds.PatientName.family_name == p["family"] and ds.PatientName.given_name == p["given"][0]
            assert ds.PatientBirthDate == p["birth_date"].replace("-", "")
            assert ds.PatientSex == p["gender"][0].upper()
            assert p["address"]["line"] in ds.PatientAddress and p["address"]["postal_code"] in ds.PatientAddress
            assert ds.InstitutionName and ds.ReferringPhysicianName and ds.OperatorsName and ds.AccessionNumber
            assert ds.StudyDate and ds.SeriesDate and ds.ContentDate and ds.AcquisitionDateTime
            block = ds.private_block(0x0011, "LONGITUDE SYNTHETIC")
            assert p["mrn"] in block[0x02].value


def test_imaging_studies_match_their_files(landing: Landing, files: dict[str, list[pydicom.Dataset]]) -> None:
    studies = [r for r in landing.resources() if r["resourceType"] == "ImagingStudy"]
    assert len(studies) == len(files) == landing.summary["imaging_studies"] > 0
    for study in studies:
        ident = next(i for i in study["identifier"] if i["system"] == vocab.DICOM_UID_SYSTEM)
        uid = ident["value"].removeprefix("urn:oid:")
        datasets = files[uid]
        patient = landing.patients[subject_id(study)]
        assert {ds.PatientID for ds in datasets} == {patient["mrn"]}
        accession = next(i["value"] for i in study["identifier"] if i["system"] == vocab.ACCESSION_SYSTEM)
        assert {ds.AccessionNumber for ds in datasets} == {accession}
        assert study["numberOfInstances"] == len(datasets)
        for series in study["series"]:
            in_series = [ds for ds in datasets if ds.SeriesInstanceUID == series["uid"]]
            assert sorted(ds.SOPInstanceUID for ds in in_series) == sorted(i["uid"] for i in series["instance"])
            assert {ds.Modality for ds in in_series} == {series["modality"]["code"]}
            assert {ds.BodyPartExamined for ds in in_series} == {BODY_PART[series["bodySite"]["code"]]}
            assert {str(ds.SOPClassUID) for ds in in_series} == {
                i["sopClass"]["code"].removeprefix("urn:oid:") for i in series["instance"]
            }
            assert {int(ds.InstanceNumber) for ds in in_series} == {i["number"] for i in series["instance"]}
        start = study["started"]
        assert {ds.StudyDate for ds in datasets} == {start[:10].replace("-", "")}

"""Fixtures for the DICOM tests: the public test data (skipped when absent) and synthetic headers with PHI."""

from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from deid.pseudonym import Keyring

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SECRET = b"test-secret-0123456789"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(SECRET)


@pytest.fixture(scope="session")
def pydicom_data() -> Path:
    path = DATA / "dicom-pydicom"
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def mr_series() -> Path:
    path = DATA / "dicom-mr-series"
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    return path


def make_instance(
    *,
    patient_id: str = "MRN-0042",
    patient_name: str = "Doe^Jane",
    study_uid: str = "1.2.826.0.1.3680043.9.7.1",
    series_uid: str = "1.2.826.0.1.3680043.9.7.1.2",
    sop_uid: str = "1.2.826.0.1.3680043.9.7.1.2.3",
    instance_number: int = 1,
    study_date: str = "20210304",
    series_description: str = "T1 AXIAL",
    modality: str = "CT",
    body_part: str = "CHEST",
) -> Dataset:
    """A CT header carrying PHI in the places real ones do: names, ids, dates, institution, private tags."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CT_IMAGE
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.SourceApplicationEntityTitle = "ST-MARYS-CT1"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = study_uid + ".9"
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19610712"
    ds.PatientSex = "F"
    ds.PatientAge = "059Y"
    ds.PatientAddress = "12 Elm Street, Springfield"
    ds.OtherPatientIDs = "SSN-123-45-6789"
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.SeriesDate = study_date
    ds.SeriesTime = "102000.5"
    if study_date:
        ds.AcquisitionDateTime = study_date + "102100"
    ds.DateOfLastCalibration = "20210101"
    ds.TimezoneOffsetFromUTC = "+0100"
    ds.AccessionNumber = "ACC998877"
    ds.StudyID = "S4711"
    ds.InstitutionName = "St. Mary's Hospital"
    ds.InstitutionAddress = "1 Hospital Road, Springfield"
    ds.ReferringPhysicianName = "House^Gregory"
    ds.OperatorsName = "Nurse^Ratched"
    ds.StationName = "CTROOM3"
    ds.Modality = modality
    ds.BodyPartExamined = body_part
    ds.StudyDescription = "CT CHEST WITH CONTRAST"
    ds.SeriesDescription = series_description
    ds.ImageComments = "pt Jane Doe, call 555-123-4567"
    ds.Manufacturer = "ACME Medical"
    ds.ManufacturerModelName = "Scanner 3000"
    ds.SeriesNumber = 2
    ds.InstanceNumber = instance_number
    ds.Rows = 4
    ds.Columns = 4
    ds.SliceLocation = float(instance_number)
    ref = Dataset()
    ref.ReferencedSOPClassUID = CT_IMAGE
    ref.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.9.7.1.2.99"
    ds.ReferencedImageSequence = Sequence([ref])
    req = Dataset()
    req.RequestingPhysician = "Who^Doctor"
    req.RequestedProcedureDescription = "CT chest for Jane"
    req.ScheduledProcedureStepStartDate = study_date
    ds.RequestAttributesSequence = Sequence([req])
    other = Dataset()  # a sequence the table does not list: its items are de-identified recursively
    other.SeriesInstanceUID = series_uid
    other.SeriesDate = study_date
    other.PerformingPhysicianName = "Who^Doctor"
    ds.ReferencedSeriesSequence = Sequence([other])
    ds.add_new(0x00090010, "LO", "ACME 1.0")  # private creator
    ds.add_new(0x00091001, "LO", "Jane Doe private note")
    ds.add_new(0x00190010, "LO", "SIEMENS MR HEADER")  # creator of a safelisted element
    ds.add_new(0x0019100C, "IS", "1000")  # B_value: on the safe-private list
    ds.add_new(0x00191001, "LO", "secret")  # same creator, not on the list
    return ds


def write_instance(path: Path, ds: Dataset, pixel_bytes: int = 32) -> Path:
    ds = ds.copy()
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelRepresentation = 0
    ds.PixelData = b"\x00" * pixel_bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path

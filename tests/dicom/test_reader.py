"""Which files are DICOM, and which are cut short, without trusting names or extensions."""

import gzip

from pipelines.defs.dicom.reader import read_header
from schemas.imaging import CORRUPT_DICOM, NOT_DICOM, TRUNCATED_DICOM
from tests.dicom.conftest import make_instance, write_instance


def test_a_dicom_file_without_extension_reads(tmp_path):
    path = write_instance(tmp_path / "IM000001", make_instance())
    header = read_header(path)
    assert header.ok and not header.is_dicomdir and header.dataset.PatientID == "MRN-0042"
    assert 0x7FE00010 not in header.dataset  # pixels are never read


def test_text_gzip_and_empty_files_are_not_dicom(tmp_path):
    (tmp_path / "notes.dcm").write_text("Patient Jane Doe seen today\n" * 10)
    (tmp_path / "x.gz").write_bytes(gzip.compress(b"DICM" * 100))
    (tmp_path / "empty").write_bytes(b"")
    for name in ("notes.dcm", "x.gz", "empty"):
        header = read_header(tmp_path / name)
        assert header.reason_code == NOT_DICOM, name
        assert "Jane" not in header.reason


def test_truncated_pixel_data_and_truncated_header_are_caught(tmp_path):
    full = write_instance(tmp_path / "full", make_instance(), pixel_bytes=4096).read_bytes()
    (tmp_path / "cut_pixels").write_bytes(full[:-1000])
    assert read_header(tmp_path / "cut_pixels").reason_code == TRUNCATED_DICOM
    cut_at = full.index(b"CT CHEST WITH CONTRAST") + 5  # inside the Study Description value
    (tmp_path / "cut_header").write_bytes(full[:cut_at])
    assert read_header(tmp_path / "cut_header").reason_code in (TRUNCATED_DICOM, CORRUPT_DICOM)


def test_a_bare_dataset_without_preamble_reads(tmp_path):
    full = write_instance(tmp_path / "full", make_instance()).read_bytes()
    body_start = full.index(b"\x08\x00\x05\x00")  # (0008,0005): first element after the file meta group
    (tmp_path / "bare").write_bytes(full[body_start:])
    bare = read_header(tmp_path / "bare")
    assert bare.ok and bare.dataset.PatientID == "MRN-0042"


def test_a_prefixed_file_with_a_broken_meta_group_or_no_dataset_is_quarantined(tmp_path):
    broken_meta = b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\x10\x00\x00\x00"
    broken_meta += b"\x02\x00\x01\x00OB\x00\x00\xff\xff\xff\x7f" + b"x" * 20  # declares 2 GiB, holds 20 bytes
    (tmp_path / "meta").write_bytes(broken_meta)
    assert read_header(tmp_path / "meta").reason_code == TRUNCATED_DICOM
    (tmp_path / "garbage").write_bytes(b"\0" * 128 + b"DICM" + bytes(range(256)) * 2)
    assert read_header(tmp_path / "garbage").reason_code in (TRUNCATED_DICOM, CORRUPT_DICOM)

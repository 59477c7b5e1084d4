"""Zero residual identifiers: every element of every de-identified dicom-pydicom header is scanned for the
original names, patient ids, institution strings, UIDs and dates of its file."""

import re
from datetime import timedelta

import pydicom
import pytest
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary

from deid.dicom import deidentify
from deid.dicom.profile import CLASS_UID_TAGS, quiet_pydicom
from deid.dicom.values import parse_da
from pipelines.defs.dicom.index import walk
from pipelines.defs.dicom.reader import read_header

ID_KEYWORDS = {"PatientID", "OtherPatientIDs", "AccessionNumber", "StationName"}
INSTITUTION = {"InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName"}
FREE_TEXT = {"PN", "LO", "SH", "ST", "LT", "UT", "UC"}
# Code Sequence Macro attributes hold terminology ("TEST", "99_OFFIS_DCMTK"), not text about the patient.
CODED = {"CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning"}


def _word_in(needle: str, text: str) -> bool:
    return re.search(rf"(?<![^\W_]){re.escape(needle.lower())}(?![^\W_])", text) is not None


def _values(elem) -> list:
    try:
        v = elem.value
    except Exception:
        return []
    if isinstance(v, Sequence):
        return []
    if isinstance(v, bytes):
        return [v.decode("latin-1", "ignore")]
    return [str(x) for x in (v if isinstance(v, MultiValue | list) else [v]) if x is not None]


def _originals(ds):
    """(whole identifier strings, name parts, institution strings, dates, instance UIDs) of one header."""
    whole, parts, institution, dates, uids = set(), set(), set(), set(), set()
    for e in ds.iterall():
        values = _values(e)
        if e.VR == "PN" or e.keyword in ID_KEYWORDS:
            whole.update(v.strip() for v in values if len(v.strip()) >= 3)
        if e.VR == "PN":
            parts.update(p for v in values for p in re.split(r"[\^= ]", v) if len(p) >= 3)
        if e.keyword in INSTITUTION:
            institution.update(v.strip() for v in values if len(v.strip()) >= 3)
        if e.VR in ("DA", "DT"):
            dates.update(d for v in values if (d := parse_da(v[:8])))
        if e.VR == "UI" and e.tag not in CLASS_UID_TAGS:
            uids.update(
                u
                for v in values
                if len(u := v.strip("\x00 ")) >= 8
                and u not in UID_dictionary
                and not u.startswith("1.2.840.10008.")
            )
    return whole, parts, institution, dates, uids


def _leaks(original, out, shift_days: int) -> list[str]:
    whole, parts, institution, dates, uids = _originals(original)
    # A shifted date may land on another original date (a follow-up exactly one shift later): that value is
    # the image of a shift, not a surviving original, so it is allowed; every other original date is not.
    allowed_dates = {d + timedelta(days=shift_days) for d in dates}
    leaks = []
    for e in out.iterall():
        for s in _values(e):
            low = s.lower()
            where = f"{e.tag} {e.keyword}"
            leaks += [
                f"{where}: identifier" for w in whole if w == s.strip() or (len(w) >= 6 and w.lower() in low)
            ]
            if e.VR in FREE_TEXT and e.keyword not in CODED:
                leaks += [f"{where}: name part" for p in parts if _word_in(p, low)]
            # Equipment attributes the profile keeps may share words with a test file's placeholder institution
            # (institution "OFFIS" that made the file; institution "Here" vs model "... System name here").
            if e.keyword not in ("Manufacturer", "ManufacturerModelName"):
                leaks += [f"{where}: institution" for i in institution if _word_in(i, low)]
            leaks += [f"{where}: UID" for u in uids if u in s]
            if e.VR in ("DA", "DT"):
                d = parse_da(s[:8])
                if d in dates and d not in allowed_dates:
                    leaks.append(f"{where}: date")
            else:
                leaks += [f"{where}: date" for d in dates - allowed_dates if d.strftime("%Y%m%d") in s]
    return leaks


def test_no_original_identifier_survives_deidentification_of_dicom_pydicom(pydicom_data, keyring):
    checked, leaks = 0, {}
    for path in walk(pydicom_data):
        header = read_header(path)
        if header.dataset is None:
            continue
        with quiet_pydicom():
            original = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            source_id = str(original.get("PatientID") or "no-patient-id")
            out = deidentify(original, keyring, source_id)
            found = _leaks(original, out, keyring.shift_days(source_id))
        checked += 1
        if found:
            leaks[path.name] = found[:5]
    assert checked > 200  # every readable file of the 240, DICOMDIRs included
    assert leaks == {}


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "waveform_ecg.dcm", "reportsi.dcm"]
)
def test_scanner_finds_the_identifiers_before_deidentification(pydicom_data, keyring, name):
    """The scan above can fail: on the untouched header it reports the identifiers it looks for."""
    path = next(p for p in walk(pydicom_data) if p.name == name)
    with quiet_pydicom():
        original = pydicom.dcmread(path, stop_before_pixels=True)
        assert _leaks(original, original, keyring.shift_days("x"))

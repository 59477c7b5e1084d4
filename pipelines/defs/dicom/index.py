"""Index a DICOM tree: read every file's header, de-identify it, extract instance rows; many processes.

Pure Python (no Dagster, no polars at import) so worker processes start fast. One file is one record:
it becomes an instance (a raw row in the PHI zone and a de-identified row), a counted DICOMDIR, or a
quarantine row with a reason.
"""

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from multiprocessing import get_context
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from deid.dicom import DEFAULT_PROFILE, Profile, deidentify
from deid.dicom.profile import deny_source_tags, quiet_pydicom
from deid.pseudonym import Keyring
from pipelines.defs.dicom.reader import read_header
from pipelines.landing import LandingScan, scan_landing
from schemas.imaging import CONFLICTING_DICOM_UID, CORRUPT_DICOM, DUPLICATE_SOP_INSTANCE, MISSING_DICOM_UID
from schemas.quarantine import MISSING_PATIENT

CHUNK = 64  # files per task: ~50-100 ms of work, so IPC overhead stays under 1%
# Below this many files one process finishes before a pool of workers has started (~0.3-1 s here).
MIN_PARALLEL_FILES = 512
_STUDY, _SERIES, _SOP = 0x0020000D, 0x0020000E, 0x00080018
# What the rows read (beyond the deny-list sources, see `read_tags`): ids, codes, dates, equipment, geometry.
ROW_TAGS = frozenset(
    {
        _STUDY, _SERIES, _SOP,
        0x00080016, 0x00080060, 0x00180015, 0x00081030, 0x0008103E, 0x00200011, 0x00200013,  # class..number
        0x00080020, 0x00080030, 0x00080021, 0x00080031, 0x00080022, 0x00080032, 0x0008002A, 0x00080201,  # time
        0x00080070, 0x00081090, 0x00280010, 0x00280011, 0x00280008, 0x00201041,  # equipment, geometry
        0x00100020, 0x00041220,  # PatientID; DirectoryRecordSequence marks a DICOMDIR
    }
)  # fmt: skip


@cache
def read_tags(profile: Profile = DEFAULT_PROFILE) -> list[int]:
    """The attributes the index reads: its row columns plus every attribute the Clean Descriptors deny list
    draws from, so a kept description is judged exactly as on the full header (the rest is skipped unread)."""
    return sorted(ROW_TAGS | deny_source_tags(profile))


@dataclass(slots=True)
class FileResult:
    source_file: str  # relative to the root
    kind: str  # "instance", "dicomdir" or "rejected"
    shard: int | None = None
    reason_code: str | None = None
    reason: str | None = None
    raw: dict | None = None  # PHI: original ids and real times
    patient: dict | None = None  # PHI: the header's patient facts (RAW_PATIENTS_SCHEMA row)
    imaging: dict | None = None  # de-identified


@dataclass(slots=True)
class IndexResult:
    files: list[FileResult] = field(default_factory=list)

    @property
    def instances(self) -> list[FileResult]:
        return [f for f in self.files if f.kind == "instance"]

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.kind == "rejected"]

    @property
    def dicomdirs(self) -> list[FileResult]:
        return [f for f in self.files if f.kind == "dicomdir"]


def walk(directory: Path) -> list[Path]:
    """Every regular file below `directory`, any depth and name, sorted (hidden files included); symlinks
    followed while they stay inside `directory` (see `pipelines.landing` for what is reported instead)."""
    return scan_landing(directory, directory, hidden=True).files


def scan(layout_root: Path, landing_dicom: Path) -> LandingScan:
    """Every file under landing/dicom/ to index, and every path there that is reported instead of read."""
    return scan_landing(landing_dicom, layout_root, hidden=True)


def index_files(
    files: list[Path],
    root: Path,
    secret: bytes,
    n_shards: int,
    *,
    workers: int = 1,
    crosswalk: Mapping[str, str] | None = None,
    profile: Profile = DEFAULT_PROFILE,
    min_parallel: int = MIN_PARALLEL_FILES,
) -> IndexResult:
    """Index `files` (paths under `root`) with `workers` processes; duplicates of a SOP instance are rejected.

    `crosswalk` maps a DICOM PatientID to the source id that keys pseudonym, shift and shard (the FHIR
    Patient id once the FHIR ingest provides one); without it the PatientID itself is the source id.
    """
    args = [(chunk, str(root), secret, n_shards, dict(crosswalk or {}), profile) for chunk in _chunks(files)]
    if workers <= 1 or len(args) <= 1 or len(files) < min_parallel:
        results = [r for a in args for r in _index_chunk(a)]
    else:
        # forkserver: workers fork from a server that imported this module once (fast starts, and no fork
        # of a multi-threaded Dagster process); spawn-safe, since the task function is importable
        context = get_context("forkserver")
        context.set_forkserver_preload([__name__])
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = [r for rs in pool.map(_index_chunk, args) for r in rs]
    results.sort(key=lambda r: r.source_file)  # the first file of a duplicated SOP instance wins, by path
    return IndexResult(files=reject_duplicates(results))


def _chunks(files: list[Path]) -> Iterator[list[str]]:
    names = [str(f) for f in files]
    for i in range(0, len(names), CHUNK):
        yield names[i : i + CHUNK]


def _index_chunk(args: tuple) -> list[FileResult]:
    paths, root, secret, n_shards, crosswalk, profile = args
    keyring = Keyring(secret)
    return [index_file(Path(p), Path(root), keyring, n_shards, crosswalk, profile) for p in paths]


def reject_duplicates(results: list[FileResult]) -> list[FileResult]:
    """Reject every instance file whose SOP Instance UID an earlier one in `results` (sorted by path) holds, or
    whose Study or Series Instance UID an earlier one gave to another patient (a series: to another study)."""
    seen: set[str] = set()
    study_owner: dict[str, str] = {}  # study UID -> source patient of its first file
    series_owner: dict[str, tuple[str, str]] = {}  # series UID -> (source patient, study UID) of its first file
    for r in results:
        if r.kind != "instance":
            continue
        raw = r.raw
        patient, study, series = raw["source_patient"], raw["study_uid"], raw["series_uid"]
        if raw["sop_uid"] in seen:
            _reject(r, DUPLICATE_SOP_INSTANCE, "SOP Instance UID already indexed from an earlier file")
        elif study_owner.get(study, patient) != patient:
            _reject(r, CONFLICTING_DICOM_UID, "StudyInstanceUID: an earlier file gave it to another patient")
        elif series_owner.get(series, (patient, study)) != (patient, study):
            _reject(
                r,
                CONFLICTING_DICOM_UID,
                "SeriesInstanceUID: an earlier file gave it to another patient or study",
            )
        else:
            seen.add(raw["sop_uid"])
            study_owner.setdefault(study, patient)
            series_owner.setdefault(series, (patient, study))
    return results


def _reject(r: FileResult, code: str, reason: str) -> None:
    """`r` rejected (earlier = by path order, the order `results` is in: the first file wins)."""
    r.kind, r.reason_code, r.reason = "rejected", code, reason
    r.raw = r.imaging = r.patient = r.shard = None


def index_file(
    path: Path,
    root: Path,
    keyring: Keyring,
    n_shards: int,
    crosswalk: Mapping[str, str] | None = None,
    profile: Profile = DEFAULT_PROFILE,
    read_subset: bool = True,
) -> FileResult:
    """One file's outcome: parsed, checked, de-identified, reduced to an instance row pair."""
    with quiet_pydicom():  # pydicom's warnings quote values: none may reach a log
        try:
            return _index_file(path, root, keyring, n_shards, crosswalk, profile, read_subset)
        except Exception as err:  # an odd value deep in a parsed header: this file is rejected, the run goes on
            reason = f"header could not be indexed ({type(err).__name__})"  # pydicom's message may quote a value
            return FileResult(os.path.relpath(path, root), "rejected", reason_code=CORRUPT_DICOM, reason=reason)


def _index_file(path, root, keyring, n_shards, crosswalk, profile, read_subset) -> FileResult:
    rel = os.path.relpath(path, root)
    header = read_header(path, specific_tags=read_tags(profile) if read_subset else None)
    if not header.ok:
        return FileResult(rel, "rejected", reason_code=header.reason_code, reason=header.reason)
    if header.is_dicomdir:
        return FileResult(rel, "dicomdir")
    ds = header.dataset
    uids = {t: _text(ds, t) for t in (_STUDY, _SERIES, _SOP)}
    missing = [name for t, name in ((_STUDY, "Study"), (_SERIES, "Series"), (_SOP, "SOP")) if not uids[t]]
    if missing:
        return FileResult(
            rel, "rejected", reason_code=MISSING_DICOM_UID, reason=f"no {'/'.join(missing)} Instance UID"
        )
    patient_id = _text(ds, 0x00100020)
    if not patient_id:
        return FileResult(rel, "rejected", reason_code=MISSING_PATIENT, reason="PatientID is absent or empty")
    source_id = (crosswalk or {}).get(patient_id, patient_id)
    raw = _raw_row(ds, source_id, rel, uids)
    patient = _patient_row(ds, source_id, rel)
    deid = deidentify(ds, keyring, source_id, profile=profile, in_place=True)  # only deid values pass below
    imaging = _imaging_row(deid, keyring.subject_id(source_id))
    shard = keyring.shard(source_id, n_shards)
    return FileResult(rel, "instance", shard=shard, raw=raw, patient=patient, imaging=imaging)


def _raw_row(ds: Dataset, source_id: str, rel: str, uids: dict[int, str]) -> dict:
    tz = _text(ds, 0x00080201)
    return {
        "source_patient": source_id,
        "source_file": rel,
        "study_uid": uids[_STUDY],
        "series_uid": uids[_SERIES],
        "sop_uid": uids[_SOP],
        "modality": _code(ds, 0x00080060),
        "body_part": _code(ds, 0x00180015),
        "study_time": dicom_datetime(_text(ds, 0x00080020), _text(ds, 0x00080030), tz),
        "series_time": dicom_datetime(_text(ds, 0x00080021), _text(ds, 0x00080031), tz),
        "instance_number": _int(ds, 0x00200013),
    }


def _patient_row(ds: Dataset, source_id: str, rel: str) -> dict:
    """What the header says about the patient (raw zone): birth, sex and the identifiers the PHI audit and the
    text de-identifier's deny list need."""

    def many(*tags: int) -> list[str] | None:
        out = [v for t in tags if (text := _text(ds, t)) for v in text.split("\\") if v.strip()]
        return out or None

    birth = dicom_datetime(_text(ds, 0x00100030), _text(ds, 0x00100032), None)
    return {
        "source_patient": source_id,
        "birth_time": birth,
        "death_time": None,
        "sex": _text(ds, 0x00100040),
        "names": many(0x00100010, 0x00101001, 0x00101005),  # name, other names, birth name
        "identifiers": many(0x00100020, 0x00101000),  # PatientID, OtherPatientIDs
        "telecoms": many(0x00102154, 0x00102155),
        "addresses": many(0x00101040),
        "source_file": rel,
        "position": 0,
    }


def _imaging_row(ds: Dataset, subject_id: int) -> dict:
    tz = _text(ds, 0x00080201)
    acquisition = _text(ds, 0x0008002A)  # AcquisitionDateTime (DT) first, then date + time
    acq_time = (
        dicom_datetime(acquisition[:8], acquisition[8:], tz)
        if acquisition
        else dicom_datetime(_text(ds, 0x00080022), _text(ds, 0x00080032), tz)
    )
    frames = _int(ds, 0x00280008)
    rows = _int(ds, 0x00280010)
    meta = getattr(ds, "file_meta", None)
    return {
        "subject_id": subject_id,
        "study_uid": _text(ds, _STUDY),
        "series_uid": _text(ds, _SERIES),
        "sop_uid": _text(ds, _SOP),
        "sop_class_uid": _text(ds, 0x00080016),
        "modality": _code(ds, 0x00080060),
        "body_part": _code(ds, 0x00180015),
        "study_description": _text(ds, 0x00081030),
        "series_description": _text(ds, 0x0008103E),
        "series_number": _int(ds, 0x00200011),
        "instance_number": _int(ds, 0x00200013),
        "study_time": dicom_datetime(_text(ds, 0x00080020), _text(ds, 0x00080030), tz),
        "series_time": dicom_datetime(_text(ds, 0x00080021), _text(ds, 0x00080031), tz),
        "acquisition_time": acq_time,
        "manufacturer": _text(ds, 0x00080070),
        "model": _text(ds, 0x00081090),
        "rows": rows,
        "columns": _int(ds, 0x00280011),
        "frames": frames if frames is not None else (1 if rows is not None else None),
        "slice_location": _float(ds, 0x00201041),
        "transfer_syntax_uid": _text(meta, 0x00020010) if meta is not None else None,
    }


def _value(ds: Dataset, tag: int):
    if tag not in ds:
        return None
    try:
        return ds[tag].value
    except Exception:  # an undecodable value is as good as absent
        return None


def _text(ds: Dataset, tag: int) -> str | None:
    v = _value(ds, tag)
    if v is None:
        return None
    if isinstance(v, MultiValue | list | tuple):
        v = "\\".join(str(x) for x in v)
    s = (v.decode("latin-1") if isinstance(v, bytes) else str(v)).strip().strip("\x00").strip()
    return s or None


def _code(ds: Dataset, tag: int) -> str | None:
    """A CS value normalized for codes: upper case, spaces to `_`, only [A-Z0-9_]."""
    s = _text(ds, tag)
    if not s:
        return None
    s = "".join(c if c.isalnum() else "_" for c in s.upper().replace("\\", "_")).strip("_")
    return s if s and s.isascii() else None


def _int(ds: Dataset, tag: int) -> int | None:
    v = _value(ds, tag)
    if isinstance(v, list | tuple) or (v is not None and hasattr(v, "__len__") and not isinstance(v, str)):
        v = v[0] if len(v) else None
    try:
        return int(float(v)) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _float(ds: Dataset, tag: int) -> float | None:
    v = _value(ds, tag)
    try:
        return float(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None


def dicom_datetime(da: str | None, tm: str | None, tz: str | None) -> datetime | None:
    """DA + TM (+ TimezoneOffsetFromUTC) as a naive UTC datetime; the date alone gives midnight.

    >>> dicom_datetime("20040826", "185059.123", "-0400")
    datetime.datetime(2004, 8, 26, 22, 50, 59, 123000)
    >>> dicom_datetime("1994.11.05", "10:30", None), dicom_datetime("", "1030", None)
    (datetime.datetime(1994, 11, 5, 10, 30), None)
    """
    from deid.dicom.values import parse_da

    day = parse_da(da or "")
    if day is None:
        return None
    t = (tm or "").strip().replace(":", "")
    main, _, frac = t.partition(".")
    try:
        hh, mm, ss = int(main[0:2] or 0), int(main[2:4] or 0), int(main[4:6] or 0)
        micro = int((frac + "000000")[:6]) if frac.isdigit() else 0
        # naive on purpose: a DICOM local time, made naive UTC below (the schemas hold naive UTC)
        local = datetime(day.year, day.month, day.day, hh, mm, min(ss, 59), micro)  # noqa: DTZ001
    except ValueError:
        local = datetime(day.year, day.month, day.day)  # noqa: DTZ001
    offset = _utc_offset(tz)
    return local - offset if offset is not None else local


def _utc_offset(tz: str | None) -> timedelta | None:
    if not tz or len(tz.strip()) != 5 or tz.strip()[0] not in "+-" or not tz.strip()[1:].isdigit():
        return None
    s = tz.strip()
    sign = -1 if s[0] == "-" else 1
    return sign * timedelta(hours=int(s[1:3]), minutes=int(s[3:5]))

"""Read one file's DICOM header, or say why it cannot be indexed (not DICOM, corrupt, truncated, DICOMDIR).

No file-extension assumptions: a file is DICOM when it carries the `DICM` prefix after its 128-byte preamble,
or when it starts like a bare dataset (group 0002/0008 in either byte order with a plausible VR or length).
"""

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from schemas.imaging import CORRUPT_DICOM, NOT_DICOM, TRUNCATED_DICOM
from schemas.quarantine import UNREADABLE_FILE

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_EXPLICIT_VRS = frozenset(
    (
        b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV"
    ).split()
)
_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
_TAIL = 4096  # bytes searched for the sequence delimiter that closes encapsulated pixel data


@dataclass(frozen=True, slots=True)
class Header:
    """A parsed header (`dataset`), or a rejection (`reason_code`, `reason` naming no value from the file)."""

    dataset: Dataset | None = None
    is_dicomdir: bool = False
    reason_code: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.dataset is not None and self.reason_code is None


def read_header(path: Path, specific_tags: list[int] | None = None) -> Header:
    """Parse the header of `path` without its pixel data and check the file is complete."""
    try:
        with open(path, "rb") as fp:
            size = fp.seek(0, 2)
            fp.seek(0)
            head = fp.read(132)
            has_prefix = len(head) == 132 and head[128:132] == b"DICM"
            if not has_prefix and not _looks_like_dataset(head, size):
                return Header(reason_code=NOT_DICOM, reason=f"not a DICOM file ({_sniff(head)})")
            fp.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pydicom warns per odd value; we judge the file as a whole
                try:
                    ds = dcmread(fp, stop_before_pixels=True, force=not has_prefix, specific_tags=specific_tags)
                except Exception as err:  # pydicom raises many types on malformed input
                    return Header(
                        reason_code=CORRUPT_DICOM, reason=f"header does not parse ({type(err).__name__})"
                    )
            problem = _truncation(fp, ds, size)
    except OSError as err:
        return Header(reason_code=UNREADABLE_FILE, reason=f"cannot read file ({type(err).__name__})")
    if problem:
        return Header(reason_code=TRUNCATED_DICOM, reason=problem)
    if len(ds) == 0 and specific_tags is None:  # (a subset read may rightly keep nothing)
        return Header(reason_code=CORRUPT_DICOM if has_prefix else NOT_DICOM, reason="no data elements")
    meta = getattr(ds, "file_meta", None)
    sop_class = str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""
    is_dicomdir = sop_class == DICOMDIR_SOP_CLASS or 0x00041220 in ds
    return Header(dataset=ds, is_dicomdir=is_dicomdir)


def _looks_like_dataset(head: bytes, size: int) -> bool:
    """A bare dataset (no preamble): first element in group 0002, 0004 or 0008, explicit or implicit VR."""
    if len(head) < 8:
        return False
    for order in "<>":
        group, elem = struct.unpack(order + "HH", head[:4])
        if group not in (0x0002, 0x0004, 0x0008) or elem > 0x00FF:
            continue
        if head[4:6] in _EXPLICIT_VRS:
            return True
        (length,) = struct.unpack(order + "L", head[4:8])
        if length < size:
            return True
    return False


def _sniff(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip data"
    if head[:1] in (b"{", b"["):
        return "JSON-like text"
    if head[36:40] == b"acsp":
        return "ICC color profile"
    if not head:
        return "empty file"
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    return "text" if printable > 0.95 * len(head) else "binary data without DICM prefix"


def _truncation(fp, ds: Dataset, size: int) -> str | None:
    """Why the file is cut short, if it is: at the pixel data or inside the last header element."""
    pos = fp.tell()
    if pos > size:  # a skipped element (specific_tags) or deferred value ran past the end of the file
        return "file ends inside a header element"
    _, little = ds.original_encoding
    order = "<" if little in (True, None) else ">"
    if pos + 8 <= size:
        fp.seek(pos)
        raw = fp.read(12)
        group, elem = struct.unpack(order + "HH", raw[:4])
        if (group << 16 | elem) in _PIXEL_TAGS:
            # VR explicitness from the bytes themselves: some files declare explicit VR and write implicit
            if raw[4:6] not in _EXPLICIT_VRS:
                (length,) = struct.unpack(order + "L", raw[4:8])
                header_len = 8
            elif raw[4:6] in _LONG_VRS:
                (length,) = struct.unpack(order + "L", raw[8:12])
                header_len = 12
            else:
                (length,) = struct.unpack(order + "H", raw[6:8])
                header_len = 8
            if length == 0xFFFFFFFF:
                fp.seek(max(pos, size - _TAIL))
                delimiter = struct.pack(order + "HHL", 0xFFFE, 0xE0DD, 0)
                if delimiter not in fp.read():
                    return "encapsulated pixel data has no closing sequence delimiter"
            elif pos + header_len + length > size:
                return "pixel data is shorter than its declared length"
            return None
    last_end = 0
    meta = getattr(ds, "file_meta", None)
    for part in (ds, meta) if meta is not None else (ds,):
        for tag in part.keys():  # noqa: SIM118 -- iterating a Dataset converts every element; keys() does not
            elem = part.get_item(tag)
            tell, length = getattr(elem, "value_tell", None), getattr(elem, "length", None)
            if tell is not None and length is not None and length != 0xFFFFFFFF:
                last_end = max(last_end, tell + length)
    if last_end > size:
        return "file ends inside a header element"
    return None

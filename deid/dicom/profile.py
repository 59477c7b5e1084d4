"""PS3.15 Annex E de-identification of a pydicom Dataset: Basic Profile + Modified Dates + Clean Descriptors.

Beyond the table (stricter, never looser):
- every DA/DT anywhere is shifted, listed or not (Date of Last Calibration, SR DateTime ...), so all of a
  subject's dates keep their intervals and none survives unshifted;
- every PN not in the table is emptied; every UI not in the table is replaced unless it names a class, a
  transfer syntax or a well-known DICOM UID;
- unknown public attributes and group lengths are removed; private attributes are removed unless safelisted;
- file meta AE titles and private information are removed.
"""

import copy
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from pydicom import config
from pydicom.datadict import DicomDictionary, dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement, empty_value_for_VR
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import UID_dictionary

from deid.dicom.clean import identifier_tokens, is_clean
from deid.dicom.table import Action, Rule, Table, load_table
from deid.dicom.values import remap_uid, shift_da, shift_dt
from deid.pseudonym import Keyring

# PS3.15 Table E.3.10-1 (Safe Private Attributes), a small subset kept deliberately: the diffusion
# parameters that analysis needs and that hold numbers only; each entry is in the table (checked against
# its 2025b edition). Siemens' NumberOfImagesInMosaic (0019,xx0A) is not, so it goes with the rest.
# (creator, group, element low byte)
SAFE_PRIVATE: frozenset[tuple[str, int, int]] = frozenset(
    {
        ("SIEMENS MR HEADER", 0x0019, 0x0C),  # B_value
        ("SIEMENS MR HEADER", 0x0019, 0x0D),  # DiffusionDirectionality
        ("SIEMENS MR HEADER", 0x0019, 0x0E),  # DiffusionGradientDirection
        ("SIEMENS MR HEADER", 0x0019, 0x27),  # B_matrix
        ("GEMS_PARM_01", 0x0043, 0x39),  # slop_int_6..9 (b-value)
    }
)

# UI attributes that name a kind of thing (a SOP class, a transfer syntax, an implementation), not an instance.
CLASS_UID_TAGS = frozenset(
    {
        0x00020002,  # MediaStorageSOPClassUID
        0x00020010,  # TransferSyntaxUID
        0x00020012,  # ImplementationClassUID
        0x00041510,  # ReferencedSOPClassUIDInFile
        0x00041512,  # ReferencedTransferSyntaxUIDInFile
        0x00080016,  # SOPClassUID
        0x0008001A,  # RelatedGeneralSOPClassUID
        0x0008001B,  # OriginalSpecializedSOPClassUID
        0x0008010C,  # CodingSchemeUID
        0x0008010D,  # ContextGroupExtensionCreatorUID
        0x00080118,  # MappingResourceUID
        0x00081150,  # ReferencedSOPClassUID
    }
)
# Local additions to the table (stricter than the profile): DICOMDIR file paths often spell out patient ids.
LOCAL_RULES = {0x00041500: Action.EMPTY}  # ReferencedFileID
_FILE_META_REMOVE = frozenset({0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102})
_TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
_STRING_DUMMY = "ANONYMIZED"
_DUMMY_BY_VR = {
    "PN": _STRING_DUMMY,
    "LO": _STRING_DUMMY,
    "SH": _STRING_DUMMY,
    "ST": _STRING_DUMMY,
    "LT": _STRING_DUMMY,
    "UT": _STRING_DUMMY,
    "UC": _STRING_DUMMY,
    "AE": _STRING_DUMMY,
    "CS": _STRING_DUMMY,
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "IS": "0",
    "DS": "0",
}

# CID 7050 De-identification Method codes (scheme DCM).
BASIC_PROFILE_CODE = ("113100", "Basic Application Confidentiality Profile")
MODIFIED_DATES_CODE = ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")
CLEAN_DESCRIPTORS_CODE = ("113105", "Clean Descriptors Option")
SAFE_PRIVATE_CODE = ("113111", "Retain Safe Private Option")


@dataclass(frozen=True, kw_only=True, slots=True)
class Profile:
    """Which options apply; the defaults are Longitude's profile."""

    clean_descriptors: bool = True
    safe_private: frozenset[tuple[str, int, int]] = SAFE_PRIVATE

    @property
    def table(self) -> Table:
        return load_table(modified_dates=True, clean_descriptors=self.clean_descriptors)

    def method_codes(self) -> list[tuple[str, str]]:
        codes = [BASIC_PROFILE_CODE, MODIFIED_DATES_CODE]
        if self.clean_descriptors:
            codes.append(CLEAN_DESCRIPTORS_CODE)
        if self.safe_private:
            codes.append(SAFE_PRIVATE_CODE)
        return codes


DEFAULT_PROFILE = Profile()


@dataclass(slots=True)
class _Context:
    table: Table
    profile: Profile
    secret: bytes
    shift_days: int
    deny: frozenset[str] = frozenset()  # identifier tokens of this header, for Clean Descriptors
    uid_cache: dict[str, str] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1


def deidentify(
    ds: Dataset,
    keyring: Keyring,
    source_id: str,
    *,
    profile: Profile = DEFAULT_PROFILE,
    in_place: bool = False,
) -> Dataset:
    """De-identify a header under the profile; `source_id` keys the subject's pseudonym and date shift.

    Returns a new Dataset unless `in_place`. PatientID and PatientName become the subject's pseudonymous
    subject_id (the Z action's dummy value), dates move by `keyring.shift_days(source_id)`, UIDs are replaced
    by `remap_uid` under the keyring's secret, and the de-identification is recorded in the dataset.
    """
    out = ds if in_place else copy.deepcopy(ds)
    ctx = _Context(
        table=profile.table, profile=profile, secret=keyring.secret, shift_days=keyring.shift_days(source_id)
    )
    with quiet_pydicom():
        # the deny list must come from the untouched header: names are emptied as the walk goes
        if not ctx.table.clean_tags.isdisjoint(out.keys()):
            ctx.deny = _deny_tokens(out, ctx)
        _deidentify_items(out, ctx, top_level=True)
        meta = getattr(out, "file_meta", None)
        if meta is not None:
            _deidentify_file_meta(meta, ctx)
    pseudonym = str(keyring.subject_id(source_id))
    # add_new by tag: ~10x cheaper than Dataset.__setattr__ by keyword, which matters at 1000s of files/s
    out.add_new(0x00100020, "LO", pseudonym)  # PatientID
    out.add_new(0x00100010, "PN", pseudonym)  # PatientName
    out.add_new(0x00120062, "CS", "YES")  # PatientIdentityRemoved
    out.add_new(0x00280303, "CS", "MODIFIED")  # LongitudinalTemporalInformationModified
    codes = profile.method_codes()
    out.add_new(0x00120063, "LO", [f"Longitude PS3.15 Annex E: {m}"[:64] for _, m in codes])
    out.add_new(0x00120064, "SQ", Sequence([_code_item(v, m) for v, m in codes]))
    return out


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Silence pydicom's per-value warnings and log lines while decoding: they quote the (PHI) values."""
    mode = config.settings.reading_validation_mode
    logger = logging.getLogger("pydicom")
    level = logger.level
    config.settings.reading_validation_mode = config.IGNORE
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        config.settings.reading_validation_mode = mode
        logger.setLevel(level)


def _code_item(value: str, meaning: str) -> Dataset:
    # built from elements directly: Dataset.add_new validates each value, which costs more than the whole
    # item is worth at thousands of headers per second (the values here are constants)
    elems = (
        DataElement(0x00080100, "SH", value, validation_mode=config.IGNORE),  # CodeValue
        DataElement(0x00080102, "SH", "DCM", validation_mode=config.IGNORE),  # CodingSchemeDesignator
        DataElement(0x00080104, "LO", meaning, validation_mode=config.IGNORE),  # CodeMeaning
    )
    return Dataset({e.tag: e for e in elems})


def _deidentify_file_meta(meta: Dataset, ctx: _Context) -> None:
    for tag in list(meta.keys()):
        if tag in _FILE_META_REMOVE:
            del meta[tag]
        elif tag == 0x00020003:  # MediaStorageSOPInstanceUID: same remap as SOPInstanceUID
            _apply(meta, tag, Action.UID, "UI", ctx)


@cache
def _dictionary_vr(tag: int) -> str | None:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _vr_of(ds: Dataset, tag: int) -> str | None:
    vr = ds.get_item(tag).VR
    if vr in (None, "UN"):
        return _dictionary_vr(tag) or vr
    return vr


def _deidentify_items(ds: Dataset, ctx: _Context, *, top_level: bool = False) -> None:
    private = []
    for tag in list(ds.keys()):
        group = tag >> 16
        if group & 1:
            private.append(tag)
            continue
        if tag & 0xFFFF == 0 and group != 0x0002:  # group lengths go stale once values change
            del ds[tag]
            continue
        rule = ctx.table.rule(tag)
        vr = _vr_of(ds, tag)
        if tag in LOCAL_RULES:
            _apply(ds, tag, LOCAL_RULES[tag], vr, ctx)
        elif rule is not None:
            _apply_rule(ds, tag, rule, vr, ctx, top_level)
        elif vr is None:
            del ds[tag]  # a public attribute this dictionary does not know: cannot judge it, drop it
            ctx.count("unknown_removed")
        elif vr == "SQ":
            _recurse(ds, tag, ctx)
        elif vr == "DA" or vr == "DT":
            _apply(ds, tag, Action.SHIFT, vr, ctx)
        elif vr == "PN":
            _apply(ds, tag, Action.EMPTY, vr, ctx)
        elif vr == "UI" and tag not in CLASS_UID_TAGS:
            _apply(ds, tag, Action.UID, vr, ctx)
    if private:
        _drop_private(ds, private, ctx)


def _apply_rule(ds: Dataset, tag: int, rule: Rule, vr: str | None, ctx: _Context, top_level: bool) -> None:
    action = rule.action
    if action is Action.CLEAN:
        if vr in _TEXT_VRS and _all_clean(ds, tag, ctx):
            return
        action = rule.fallback
    _apply(ds, tag, action, vr, ctx)


def _all_clean(ds: Dataset, tag: int, ctx: _Context) -> bool:
    try:
        value = ds[tag].value
    except Exception:
        return False
    values = value if isinstance(value, MultiValue | list) else [value]
    return all(is_clean(str(v), ctx.deny) for v in values if v is not None)


_IDENTIFYING = (Action.REMOVE, Action.EMPTY, Action.DUMMY, Action.SHIFT)


@cache
def deny_source_tags(profile: Profile = DEFAULT_PROFILE) -> frozenset[int]:
    """Every top-level attribute the Clean Descriptors deny list can draw from: the table's identifying
    attributes and every PN attribute of the dictionary. A reader that keeps only some attributes
    (`specific_tags`) must keep these too, so its descriptors are judged against the same identifiers."""
    table = profile.table
    identifying = {tag for tag, rule in table.exact.items() if rule.action in _IDENTIFYING}
    names = {tag for tag, entry in DicomDictionary.items() if entry[0] == "PN"}
    return frozenset(identifying | names)


def _deny_tokens(ds: Dataset, ctx: _Context) -> frozenset[str]:
    """Every value this dataset holds in an attribute the table treats as identifying, plus all names."""
    values = []
    for tag in ds.keys():  # noqa: SIM118 -- iterating a Dataset converts every element; keys() does not
        if tag >> 16 & 1:
            continue
        vr = _vr_of(ds, tag)
        if vr not in ("PN", "LO", "SH", "AE", "LT", "ST", "UT", "UC", "DA", "DT"):
            continue
        rule = ctx.table.rule(tag)
        identifying = vr == "PN" or (rule is not None and rule.action in _IDENTIFYING)
        if not identifying:
            continue
        try:
            value = ds[tag].value
        except Exception:
            continue
        values.extend(str(v) for v in (value if isinstance(value, MultiValue | list) else [value]) if v)
    return identifier_tokens(values)


def _apply(ds: Dataset, tag: int, action: Action, vr: str | None, ctx: _Context) -> None:
    if action is Action.KEEP:
        return
    if action is Action.REMOVE:
        del ds[tag]
        ctx.count("removed")
        return
    if action is Action.UID_SEQUENCE:
        _recurse(ds, tag, ctx)
        return
    vr = vr or "UN"
    if vr == "SQ":
        # Z and D on a sequence: an empty sequence. Its items could hold anything (SR text, names), and
        # rebuilding a dummy item per IOD is what the Clean Structured Content option would do; we do not.
        ds[tag] = DataElement(tag, "SQ", Sequence())
        ctx.count("emptied")
        return
    raw = ds.get_item(tag)
    if isinstance(raw, RawDataElement) and raw.value is not None and _apply_raw(ds, tag, raw, action, vr, ctx):
        return
    if action is Action.EMPTY:
        ds[tag] = DataElement(tag, vr, empty_value_for_VR(vr))
        ctx.count("emptied")
        return
    if action is Action.DUMMY:
        if vr == "UI":
            action = Action.UID
        else:
            ds[tag] = DataElement(tag, vr, _DUMMY_BY_VR.get(vr, empty_value_for_VR(vr)))
            ctx.count("dummied")
            return
    try:
        value = ds[tag].value
    except Exception:  # an undecodable value cannot be checked: drop it
        del ds[tag]
        ctx.count("undecodable_removed")
        return
    if action is Action.UID:
        if vr != "UI" and not isinstance(value, str | MultiValue | list):
            del ds[tag]
            return
        ds[tag].value = _map_values(value, lambda u: _remap(u, tag, ctx))
        ctx.count("uids")
    elif action is Action.SHIFT:
        if vr == "DA":
            ds[tag].value = _map_values(value, lambda v: shift_da(v, ctx.shift_days) or "")
        elif vr == "DT":
            ds[tag].value = _map_values(value, lambda v: shift_dt(v, ctx.shift_days) or "")
        # TM and the UTC offset are left as they are: whole-day shifts keep the time of day
        ctx.count("shifted")


def _apply_raw(ds: Dataset, tag: int, raw: RawDataElement, action: Action, vr: str, ctx: _Context) -> bool:
    """The common actions on a still-undecoded element, on its bytes: no DataElement is ever built.

    DA, DT and UI values are ASCII whatever the character set, so they can be rewritten as bytes; at the rate
    of thousands of headers per second, skipping pydicom's decode-validate-encode roughly halves the cost.
    Returns False when the slow path must handle it.
    """
    if action is Action.EMPTY:
        ds[tag] = raw._replace(value=b"", length=0)
        ctx.count("emptied")
        return True
    if action is Action.SHIFT and vr in ("DA", "DT"):
        shift = shift_da if vr == "DA" else shift_dt
        fn = lambda v: shift(v, ctx.shift_days) or ""  # noqa: E731
        pad = b" "
    elif action in (Action.UID, Action.DUMMY) and vr == "UI":
        fn = lambda v: _remap(v, tag, ctx)  # noqa: E731
        pad = b"\x00"
    else:
        return False
    try:
        text = raw.value.decode("ascii")
    except UnicodeDecodeError:
        return False
    values = [fn(v.strip(" \x00")) if v.strip(" \x00") else "" for v in text.split("\\")]
    out = "\\".join(values).encode("ascii")
    if len(out) % 2:
        out += pad
    ds[tag] = raw._replace(value=out, length=len(out))
    ctx.count("uids" if vr == "UI" else "shifted")
    return True


def _remap(uid: str, tag: int, ctx: _Context) -> str:
    uid = str(uid).strip().strip("\x00")
    if not uid:
        return uid
    if tag in CLASS_UID_TAGS or uid in UID_dictionary or uid.startswith("1.2.840.10008."):
        return uid
    out = ctx.uid_cache.get(uid)
    if out is None:
        out = ctx.uid_cache[uid] = remap_uid(uid, ctx.secret)
    return out


def _map_values(value, fn):
    if value is None or value == "":
        return value
    if isinstance(value, MultiValue | list):
        return [fn(str(v)) for v in value]
    return fn(str(value))


def _recurse(ds: Dataset, tag: int, ctx: _Context) -> None:
    try:
        seq = ds[tag].value
    except Exception:
        del ds[tag]
        ctx.count("undecodable_removed")
        return
    if not isinstance(seq, Sequence | list):
        del ds[tag]  # declared SQ but not parseable as one
        return
    for item in seq:
        _deidentify_items(item, ctx)


def _drop_private(ds: Dataset, private: list[int], ctx: _Context) -> None:
    keep: set[int] = set()
    safelist = ctx.profile.safe_private
    if safelist:
        for tag in private:
            elem = tag & 0xFFFF
            if elem < 0x1000:
                continue
            creator_tag = (tag & 0xFFFF0000) | (elem >> 8)
            if creator_tag not in ds:
                continue
            try:
                creator = str(ds[creator_tag].value).strip()
            except Exception:
                continue
            if (creator, tag >> 16, elem & 0xFF) in safelist:
                keep.update((tag, creator_tag))
    for tag in private:
        if tag not in keep:
            del ds[tag]
            ctx.count("private_removed")

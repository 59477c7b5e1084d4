"""PHI audit: scan everything outside the PHI zones for any subject's known identifiers and residual PHI patterns.

Known identifiers come from the raw patients tables (names, identifiers, telecoms, addresses, birth times) and
the source patient ids. Matching is whole-word and case-insensitive on word tokens (`[a-z0-9]+`), so
`Avril` matches in `landing/fhir/Avril_Hane_1f7d.json` but not in `Avrillion`, and an identifier of several
tokens (`999-73-7625`, `850 Daniel Burg`) must appear as consecutive tokens. Each distinct string of a column
is tokenized once (columns repeat values heavily), and residual patterns (SSN, phone, e-mail) run as one Rust
regex per column in polars. A hit records the file, row, column and kind, never the value.
"""

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from quality.records import CATALOG_KIND, PHI_FINDINGS_SCHEMA, audit_summary_path, findings_path
from quality.tables import inventory
from schemas.io import write_parquet, write_text
from schemas.layout import PHI_ZONES, Layout
from schemas.publish import files_under

MIN_NAME = 3  # name tokens shorter than this ("Al", "Jo") are not searched: too many false hits
MIN_IDENTIFIER = 4
MIN_NUMERIC_KEY = 6  # digits a source key made only of digits needs to be searched
# Honorifics and suffixes in FHIR HumanName parts: not identifying.
_NOT_NAMES = {"mr", "mrs", "ms", "miss", "dr", "prof", "jr", "sr", "ii", "iii", "iv", "md", "phd", "rn", "the"}
# Names that are also ordinary words are searched only as part of a full name ("Will Smith", "Smith Will"):
# these, and every word of Webster's 2nd dictionary and its plurals ("Bins", "Hand", "Brain").
AMBIGUOUS_NAMES = frozenset(
    """will mark grace hope joy faith may june april august rose dawn bill art guy frank pat sue ray victor jack
    gene earl hunter page bell green white black brown young king long rich love grant bishop hall wood rice
    field banks ward cross little short small day price major penny chase max min mac son lane street park
    hill north south west east river lake stone ash glen dale summer winter autumn""".split()
)
_MONTHS = ("january february march april may june july august september october november december").split()
TEXT_SUFFIXES = {
    ".json",
    ".jsonl",
    ".ndjson",
    ".html",
    ".htm",
    ".txt",
    ".csv",
    ".tsv",
    ".md",
    ".yaml",
    ".yml",
    ".xml",
    ".css",
    ".js",
    ".svg",
    ".log",
}
# Third-party static files the site ships; they hold no data.
SKIP_DIRS = (
    "quality/site/vendor",
    "quality/site/gx/vendor",
    "quality/site/gx/static",
    "quality/site_cache/vendor",
)
_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*|\s[A-Za-z_:][A-Za-z0-9_:.-]*(?==)")
_DATA_URI = re.compile(r"data:[a-z]+/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=]+")  # embedded images: not text
# Residual patterns. The text de-identifier's surrogates use forms reserved never to be real, and these patterns
# leave them out: SSN area numbers 9xx (never issued), the NANP 555 exchange (reserved for fiction), and the
# RFC 2606 example.com/.org/.net domains. (polars' regex engine has no look-around, hence the spelled-out sets.)
_NOT_555 = r"(?:[0-46-9][0-9]{2}|5[0-46-9][0-9]|55[0-46-9])"
PATTERNS = {
    "ssn_pattern": r"(?:^|[^0-9])[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}(?:$|[^0-9])",
    "phone_pattern": rf"(?:^|[^0-9.])\(?[0-9]{{3}}\)?[ .-]{_NOT_555}[ .-][0-9]{{4}}(?:$|[^0-9.])",
    "email_pattern": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]*[A-Za-z]{2,}",
}
_RESERVED_EMAIL = re.compile(r"@(?:[a-z0-9-]+\.)*example\.(?:com|org|net)\b", re.IGNORECASE)
_EMAIL = re.compile(PATTERNS["email_pattern"])
_TOKEN = re.compile(r"[a-z0-9]+")
_NAME_SEPARATORS = re.compile(r"[\s,;]+")  # between the words of a name written whole ("Family, Given")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens.

    >>> tokens("Mrs. Avril_Hane, 999-73-7625")
    ['mrs', 'avril', 'hane', '999', '73', '7625']
    """
    return _TOKEN.findall(text.lower())


def date_forms(d: datetime) -> list[str]:
    """A birth date as commonly written.

    >>> date_forms(datetime(1941, 9, 4))[:4]
    ['1941-09-04', '09/04/1941', '9/4/1941', '19410904']
    """
    m = _MONTHS[d.month - 1]
    return [
        f"{d:%Y-%m-%d}",
        f"{d:%m/%d/%Y}",
        f"{d.month}/{d.day}/{d.year}",
        f"{d:%Y%m%d}",
        f"{d:%d.%m.%Y}",
        f"{m} {d.day} {d.year}",
        f"{d.day} {m} {d.year}",
        f"{m[:3]} {d.day} {d.year}",
        f"{d.day} {m[:3]} {d.year}",
    ]


@dataclass(slots=True)
class PhraseIndex:
    """Token phrases by kind, indexed by their first token: whole-word, case-insensitive phrase lookup."""

    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=lambda: defaultdict(list))
    size: int = 0

    def add(self, text: str, kind: str) -> None:
        phrase = tuple(tokens(text))
        if phrase:
            self.by_first[phrase[0]].append((phrase, kind))
            self.size += 1

    def kinds_in(self, text: str) -> set[str]:
        toks = tokens(text)
        found = set()
        for i, tok in enumerate(toks):
            for phrase, kind in self.by_first.get(tok, ()):
                if tuple(toks[i : i + len(phrase)]) == phrase and not _is_timestamp(kind, toks, i + len(phrase)):
                    found.add(kind)
        return found


def _is_timestamp(kind: str, toks: list[str], end: int) -> bool:
    """A date followed by hh mm is an event time (shifted, de-identified), not a birth date written out."""
    nxt = toks[end : end + 2]
    return kind == "birth_date" and len(nxt) == 2 and all(len(t) == 2 and t.isdigit() for t in nxt)


@dataclass(slots=True)
class KnownIdentifiers:
    index: PhraseIndex
    birth_times: pl.DataFrame  # source_patient, birth_time
    subjects: int
    # Birth dates apart: in a table keyed by subject_id (and with the secret) a date is only a leak in its own
    # subject's rows; across subjects, some other subject's shifted dates always coincide with it.
    births: PhraseIndex = field(default_factory=lambda: PhraseIndex())
    # Towns named by an ordinary word ("Reading", "Ware"), written as a place: capitalised before a state's
    # code (a case-sensitive regex; None when the root has no such town).
    word_towns: str | None = None


def known_identifiers(layout: Layout) -> KnownIdentifiers:
    """Every subject's identifiers from every source's raw patients table (PHI; kept in memory only)."""
    files = files_under(layout.raw, "*/patients/**/*.parquet")
    cols = ["source_patient", "birth_time", "names", "identifiers", "telecoms", "addresses"]
    patients = (
        pl.concat([pl.read_parquet(f, columns=cols) for f in files], how="diagonal_relaxed") if files else None
    )
    index = PhraseIndex()
    if patients is None:
        return KnownIdentifiers(index, pl.DataFrame(schema={"source_patient": pl.String}), 0, PhraseIndex())
    seen: set[tuple[str, str]] = set()

    def add(values: Iterable[str | None], kind: str, min_len: int) -> None:
        for v in values:
            if v and len(v.strip()) >= min_len and (v, kind) not in seen:
                seen.add((v, kind))
                index.add(v, kind)

    for names in patients["names"].drop_nulls().unique().to_list():
        add(name_phrases(names), "name", MIN_NAME)
    add(patients["identifiers"].explode().drop_nulls().unique().to_list(), "identifier", MIN_IDENTIFIER)
    # A source's own key of a few digits (OMOP's person_id 1..N) is a row number: every count, code and value
    # of that size would match it. Delivered identifiers (MRNs) are searched from MIN_IDENTIFIER whatever they are.
    keys = patients["source_patient"].unique().to_list()
    add(
        [k for k in keys if k and not (k.strip().isdigit() and len(k.strip()) < MIN_NUMERIC_KEY)],
        "identifier",
        MIN_IDENTIFIER,
    )
    for tel in patients["telecoms"].explode().drop_nulls().unique().to_list():
        digits = re.sub(r"\D", "", tel)
        if "@" in tel or len(digits) < 7:
            add([tel], "phone", MIN_IDENTIFIER)
            continue
        last10 = digits[-10:]
        add(
            [tel, digits, last10, f"{last10[:3]} {last10[3:6]} {last10[6:]}", f"{last10[3:6]} {last10[6:]}"],
            "phone",
            MIN_IDENTIFIER,
        )
    towns = address_phrases(patients["addresses"].drop_nulls().to_list())
    add(towns.phrases, "address", MIN_NAME)
    births = patients.select("source_patient", "birth_time").drop_nulls()
    birth_index = PhraseIndex()
    for birth in births["birth_time"].unique().to_list():
        for form in date_forms(birth):
            birth_index.add(form, "birth_date")
    return KnownIdentifiers(
        index, births, patients["source_patient"].n_unique(), birth_index, word_towns_pattern(towns.word_towns)
    )


@dataclass(slots=True)
class AddressPhrases:
    phrases: list[str]  # searched as words, any case
    word_towns: set[str]  # one-word parts that are ordinary words: searched as a place only (word_towns_pattern)


def address_phrases(addresses: Iterable[list[str | None]]) -> AddressPhrases:
    """What the audit searches for the subjects' address parts (each subject's list: its lines, town and postal
    code, address by address). A town that is an ordinary word would flag the word wherever it is written ("BP
    reading", "ware"), so, as a lone name part is, it is searched only where it is written as a place: with the
    postal code after it, or capitalised before a state's code (word_towns_pattern).

    >>> a = address_phrases([["12 Plimsoll Crescent", "Reading", "01867", "4 Oak St", "Qorvale", "02110"]])
    >>> a.phrases, sorted(a.word_towns)
    (['12 Plimsoll Crescent', 'Reading 01867', '01867', '4 Oak St', 'Qorvale', '02110'], ['Reading'])
    """
    phrases: list[str] = []
    word_towns: set[str] = set()
    for parts in addresses:
        parts = [p for p in parts if p]
        for i, part in enumerate(parts):
            toks = tokens(part)
            if len(toks) == 1 and not toks[0].isdigit() and _is_common_noun(part):
                word_towns.add(part.strip())
                following = parts[i + 1] if i + 1 < len(parts) else ""
                if following and any(c.isdigit() for c in following):
                    phrases.append(f"{part.strip()} {following}")
            else:
                phrases.append(part)
    return AddressPhrases(list(dict.fromkeys(phrases)), word_towns)


def word_towns_pattern(towns: Iterable[str]) -> str | None:
    """A case-sensitive regex for ordinary-word towns written as places: "Reading, MA", "WARE MA 01082".

    >>> import re
    >>> p = re.compile(word_towns_pattern(["Reading"]))
    >>> texts = ("moved from Reading, MA", "READING MA 01867", "BP reading 140/90", "Reading IS")
    >>> [bool(p.search(t)) for t in texts]
    [True, True, False, False]
    """
    forms = sorted({f for t in towns if t.isalpha() for f in (t.capitalize(), t.upper())})
    if not forms:
        return None
    states = "|".join(US_STATE_CODES)
    return rf"\b(?:{'|'.join(forms)}),?[ \t]+(?:{states})\b"


# USPS codes of the states, DC and the territories.
US_STATE_CODES = tuple(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH
    OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP""".split()
)


def name_phrases(names: Iterable[str | None]) -> list[str]:
    """What the audit searches for one subject's name parts: each part that is no ordinary word, and every
    ordered pair of parts as a full name ("Hane Avril" as well as "Avril Hane"). The notes' de-identifier
    denies the same phrases (deid.text.root_names), so it covers what the audit would block on.

    >>> name_phrases(["Mr.", "Avril", "Brown"])
    ['Avril', 'Avril Brown', 'Brown Avril']

    A table's name column often holds a whole name in one value; its words are parts like any other, so a
    lone surname from "Brown, Avril" is searched as it would be from a FHIR HumanName:

    >>> name_phrases(["Brown, Avril"])
    ['Avril', 'Brown Avril', 'Avril Brown']
    """
    words = (w for value in names if value for w in _NAME_SEPARATORS.split(value))
    parts = list(dict.fromkeys(w for w in words if w and w.lower().strip(".") not in _NOT_NAMES))
    singles = [t for t in parts if not _is_word(t)]
    return [*singles, *(f"{a} {b}" for a in parts for b in parts if a != b)]


def _is_word(t: str) -> bool:
    # Not the data's own code descriptions: a leaked name would then hide itself.
    t, english = t.lower(), english_words()
    return t in AMBIGUOUS_NAMES or t in english or (t.endswith("s") and (t[:-1] in english or t[:-2] in english))


def _is_common_noun(t: str) -> bool:
    # Written in lower case in the dictionary ("reading", "ware"), not only as a proper noun ("Lowell"): a
    # town's name that is only a proper noun is still searched alone.
    return t.strip().lower() in lower_case_words()


@cache
def lower_case_words() -> frozenset[str]:
    """The words Webster's 2nd writes in lower case (not only capitalised); empty when not installed."""
    try:
        from english_words import get_english_words_set
    except ImportError:
        return frozenset()
    return frozenset(w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower())


@cache
def english_words() -> frozenset[str]:
    """Webster's 2nd (english-words, web2; 234k words incl. common proper nouns); empty when not installed."""
    try:
        from english_words import get_english_words_set
    except ImportError:
        return frozenset()
    return frozenset(get_english_words_set(["web2"], lower=True, alpha=True))


@dataclass(slots=True)
class AuditResult:
    findings: pl.DataFrame  # PHI_FINDINGS_SCHEMA
    files: int
    cells: int
    subjects: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.findings.height == 0

    def counts(self) -> dict[str, int]:
        by_kind = self.findings.group_by("kind").len().rows() if self.findings.height else []
        return {
            "findings": self.findings.height,
            "files_scanned": self.files,
            "cells_scanned": self.cells,
            "subjects_known": self.subjects,
            **{f"kind/{k}": n for k, n in by_kind},
        }

    def by_table(self) -> list[dict]:
        if not self.findings.height:
            return []
        agg = self.findings.group_by("path", "table", "field", "kind").agg(
            n=pl.len(), first_row=pl.col("row").min()
        )
        return agg.sort("path", "field", "kind").to_dicts()


def _string_like(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _string_like(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _string_like(t.value_type)
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _scan_column(series: pl.Series, known: KnownIdentifiers, births: bool = True) -> list[tuple[int, str]]:
    """(row, kind) of every hit in one string column (list columns: any element)."""
    frame = pl.DataFrame({"v": series}).with_row_index("row")
    if series.dtype == pl.List(pl.String) or isinstance(series.dtype, pl.List):
        frame = frame.explode("v")
    frame = frame.with_columns(pl.col("v").cast(pl.String)).drop_nulls("v")
    distinct = frame["v"].unique()
    hits: dict[str, set[str]] = {}
    for value in distinct.to_list():
        kinds = known.index.kinds_in(value)
        if births:
            kinds = kinds | known.births.kinds_in(value)
        if kinds:
            hits[value] = kinds
    if known.word_towns:
        for value in distinct.filter(distinct.str.contains(known.word_towns)).to_list():
            hits.setdefault(value, set()).add("address")
    for kind, pattern in PATTERNS.items():
        for value in distinct.filter(distinct.str.contains(pattern)).to_list():
            if kind == "email_pattern" and all(_RESERVED_EMAIL.search(e) for e in _EMAIL.findall(value)):
                continue  # only reserved example.* addresses: surrogates, not PHI
            hits.setdefault(value, set()).add(kind)
    if not hits:
        return []
    flagged = frame.filter(pl.col("v").is_in(pl.Series(list(hits)).implode()))
    return sorted({(r, k) for r, v in flagged.select("row", "v").iter_rows() for k in hits[v]})


def _scan_parquet(path: Path, known: KnownIdentifiers, birth_ids: pl.DataFrame | None) -> tuple[list, int]:
    schema = pq.read_schema(path)
    text_cols = [f.name for f in schema if _string_like(f.type)]
    time_cols = [f.name for f in schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
    out: list[tuple[int, str, str]] = []
    cells = 0
    scoped = birth_ids is not None and "subject_id" in schema.names
    if text_cols:
        frame = pl.read_parquet(path, columns=text_cols, hive_partitioning=False)
        cells += frame.height * len(text_cols)
        for col in text_cols:
            out += [(row, col, kind) for row, kind in _scan_column(frame[col], known, births=not scoped)]
        if scoped:
            out += _own_birth_dates(path, text_cols, birth_ids)
    if time_cols and birth_ids is not None and "subject_id" in schema.names:
        frame = pl.read_parquet(path, columns=["subject_id", *time_cols], hive_partitioning=False).with_row_index()
        joined = frame.join(birth_ids, on="subject_id", how="inner")
        for col in time_cols:
            rows = joined.filter(pl.col(col).cast(pl.Datetime("us")) == pl.col("birth_time"))["index"].to_list()
            out += [(int(r), col, "birth_time") for r in rows]
    return out, cells


def _own_birth_dates(path: Path, text_cols: list[str], birth_ids: pl.DataFrame) -> list[tuple[int, str, str]]:
    """Rows whose text holds their own subject's real birth date, in any common form."""
    frame = pl.read_parquet(path, columns=["subject_id", *text_cols], hive_partitioning=False).with_row_index()
    joined = frame.join(birth_ids, on="subject_id", how="inner")
    out = []
    for row in joined.iter_rows(named=True):
        index = PhraseIndex()
        for form in date_forms(row["birth_time"]):
            index.add(form, "birth_date")
        out += [
            (int(row["index"]), c, "birth_date")
            for c in text_cols
            if isinstance(row[c], str) and index.kinds_in(row[c])
        ]
    return out


_JSON_NUMBER = re.compile(r"([:\[,]\s*)-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?=\s*[,}\]])")


def _scan_text(path: Path, known: KnownIdentifiers, quality_dir: Path | None = None) -> tuple[list, int]:
    text = _DATA_URI.sub("data:", path.read_text(encoding="utf-8", errors="replace"))
    if path.suffix in (".html", ".htm") and "vegaEmbed" in text:
        # a timeline page carries Vega's own code inline (0.9 MB of third-party text, as quality/site/vendor/ is
        # skipped): its words are no one's name; the page's data, in a script of its own, is still scanned
        from quality.timeline_chart import vega_bundle

        text = text.replace(vega_bundle(quality_dir), " ")
    if path.suffix in (".html", ".htm", ".svg", ".xml"):
        text = _MARKUP.sub(" ", text)  # tag and attribute names are markup (`<html lang=`), not content
    if path.suffix in (".json", ".jsonl", ".ndjson"):
        # JSON numbers are measurements (a loss, "tokens_seen": 35721), which collide with ZIPs and house
        # numbers by chance; identifiers in our outputs are strings, and strings are still scanned.
        text = _JSON_NUMBER.sub(r"\g<1>0", text)
    lines = text.splitlines()
    hits = _scan_column(pl.Series(lines, dtype=pl.String), known)
    return [(row + 1, "line", kind) for row, kind in hits], len(lines)


def _scan_catalog(path: Path) -> list[tuple[int, str, str]]:
    """A catalog view outside schema `phi` must not read a PHI zone."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        views = con.execute("select schema_name, view_name, sql from duckdb_views() where not internal").fetchall()
    finally:
        con.close()
    zones = "|".join(PHI_ZONES)
    # Paths under the root are read relative to it: a root that itself lies in a folder named like a zone
    # (`/data/chunks/root`) does not make every view look like a read of that zone.
    root = str(path.parent.resolve())
    bad = [i for i, (schema, _, sql) in enumerate(views)
           if schema != "phi" and re.search(rf"/({zones})/", sql.replace(root, ""))]  # fmt: skip
    return [(i, "view", CATALOG_KIND) for i in bad]


def files_to_scan(root: Path) -> list[Path]:
    """Every file outside landing/, raw/ and quarantine/ (and the site's third-party assets)."""
    out = []
    for path in files_under(Path(root), skip=PHI_ZONES):  # published files: no staging, no old version
        rel = path.relative_to(root)
        if rel.parts[0] in PHI_ZONES or path.name.startswith("."):
            continue
        if any(str(rel).startswith(d + "/") for d in SKIP_DIRS):
            continue
        if path.suffix in (".parquet", ".duckdb") or path.suffix in TEXT_SUFFIXES:
            out.append(path)
    return out


def audit(root: Path, keyring=None) -> AuditResult:
    """Scan the root; `keyring` (a deid.pseudonym.Keyring) enables the per-subject unshifted-birth-time check."""
    started = time.perf_counter()
    layout = Layout(Path(root))
    known = known_identifiers(layout)
    birth_ids = None
    notes = []
    if keyring is not None and known.birth_times.height:
        ids = [keyring.subject_id(s) for s in known.birth_times["source_patient"].to_list()]
        birth_ids = known.birth_times.with_columns(subject_id=pl.Series(ids, dtype=pl.Int64)).select(
            "subject_id", pl.col("birth_time").cast(pl.Datetime("us"))
        )
    elif keyring is None:
        notes.append("no secret: the per-subject check for unshifted birth times was skipped")
    rows: list[tuple[str, str, int, str, str]] = []
    cells = 0
    scanned = files_to_scan(layout.root)
    tables = {f.path: f.spec.name for f in inventory(layout.root).files}
    for path in scanned:
        rel = str(path.relative_to(layout.root))
        table = tables.get(path) or path.suffix.lstrip(".")
        if path.suffix == ".parquet":
            hits, n = _scan_parquet(path, known, birth_ids)
        elif path.suffix == ".duckdb":
            hits, n = _scan_catalog(path), 0
        else:
            hits, n = _scan_text(path, known, layout.quality)
        cells += n
        rows += [(rel, table, row, fld, kind) for row, fld, kind in hits]
    findings = pl.DataFrame(rows, schema=["path", "table", "row", "field", "kind"], orient="row").cast(
        {"row": pl.Int64}
    )
    return AuditResult(findings, len(scanned), cells, known.subjects, time.perf_counter() - started, notes)


def write_audit(result: AuditResult, layout: Layout) -> None:
    """quality/phi_audit/findings.parquet and summary.json (counts only)."""
    write_parquet(result.findings.to_arrow(), findings_path(layout.quality), PHI_FINDINGS_SCHEMA)
    summary = {
        **result.counts(),
        "seconds": round(result.seconds, 3),
        "notes": result.notes,
        "by_table": result.by_table(),
    }
    write_text(json.dumps(summary, indent=2, default=str) + "\n", audit_summary_path(layout.quality))

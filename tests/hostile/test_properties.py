"""Property tests: each reader fed generated broken records finishes, keeps every good record, accounts for
every input in the ledger, and never quotes a value (a marker planted in every generated string)."""

import csv
import io
import json
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.defs.tables.read import _parse_fast, parse_csv
from schemas.layout import Layout
from tests.hostile.harness import KEYRING, N_SHARDS

MARK = "Zqx7Mark"  # planted in generated strings: must never appear in a reason, ledger or summary
FAST = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

marked_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12).map(lambda s: f"{s}{MARK}")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | marked_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(marked_text, inner, max_size=3),
    max_leaves=8,
)


def _patient(i: int) -> dict:
    return {"resourceType": "Patient", "id": f"p{i}", "birthDate": "1970-01-01"}


def _encounter(i: int) -> dict:
    return {"resourceType": "Encounter", "id": f"e{i}", "class": {"code": "AMB"},
            "subject": {"reference": f"Patient/p{i}"}, "period": {"start": "2020-01-02T10:00:00Z"}}  # fmt: skip


@st.composite
def broken_resource(draw) -> str:
    """A good resource with one field replaced by a random JSON value, a random value, or raw junk text."""
    kind = draw(st.sampled_from(["mutate", "value", "junk"]))
    if kind == "junk":
        return draw(marked_text).replace("\n", " ").replace("\r", " ")
    if kind == "value":
        return json.dumps(draw(json_values))
    r = json.loads(json.dumps(draw(st.sampled_from(_TEMPLATES))))
    node, paths = r, _paths(r)
    path = draw(st.sampled_from(paths))  # any field at any depth, resourceType aside
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = draw(json_values)
    return json.dumps(r)


_TEMPLATES = [
    {"resourceType": "Patient", "id": "p0", "birthDate": "1970-01-01", "gender": "female",
     "name": [{"family": "Lee", "given": ["Ann"]}], "identifier": [{"system": "urn:mrn", "value": "M1"}],
     "telecom": [{"system": "phone", "value": "555"}], "address": [{"line": ["1 Main"], "postalCode": "02139"}]},
    {"resourceType": "Observation", "id": "o0", "status": "final", "subject": {"reference": "Patient/p0"},
     "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0", "display": "Glucose"}], "text": "Glu"},
     "effectiveDateTime": "2020-01-02T10:00:00Z", "valueQuantity": {"value": 5.1, "unit": "mmol/L"},
     "component": [{"code": {"coding": [{"code": "x"}]}, "valueInteger": 3}]},
    {"resourceType": "ImagingStudy", "id": "s0", "status": "available", "subject": {"reference": "Patient/p0"},
     "started": "2020-01-02T10:00:00Z", "identifier": [{"value": "urn:oid:1.2.3"}],
     "series": [{"modality": {"code": "CT"}, "bodySite": {"code": "CHEST"}, "started": "2020-01-02T10:00:00Z"}]},
    {"resourceType": "DocumentReference", "id": "d0", "status": "current", "subject": {"reference": "Patient/p0"},
     "date": "2020-01-02T10:00:00Z", "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
     "content": [{"attachment": {"contentType": "text/plain", "data": "U2VlbiB0b2RheS4="}}],
     "context": {"encounter": [{"reference": "Encounter/e0"}]}},
    {"resourceType": "MedicationRequest", "id": "m0", "status": "active", "subject": {"reference": "Patient/p0"},
     "authoredOn": "2020-01-02", "medicationReference": {"reference": "#med"},
     "contained": [{"resourceType": "Medication", "id": "med", "code": {"coding": [{"code": "1"}]}}]},
    _encounter(0),
]  # fmt: skip


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every key or index path below a resource (resourceType itself left alone)."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if key != "resourceType":
            out.append((*prefix, key))
            out += _paths(value, (*prefix, key))
    return out


@FAST
@given(bad=st.lists(broken_resource(), min_size=1, max_size=6), n_good=st.integers(1, 4))
def test_ndjson_reader_keeps_every_good_line_and_quotes_nothing(tmp_path_factory, bad: list[str], n_good: int):
    from pipelines.defs.fhir.ingest import ASSET, ingest_fhir

    root = tmp_path_factory.mktemp("root")
    good = [json.dumps(r) for i in range(n_good) for r in (_patient(i + 1), _encounter(i + 1))]
    lines = [*good[:1], *bad, *good[1:]]  # bad lines in the middle: the rest of the file must still be read
    path = root / "landing" / "fhir" / "data.ndjson"
    path.parent.mkdir(parents=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    summary = ingest_fhir(Layout(root), KEYRING, N_SHARDS, workers=1)
    ledger = pl.read_parquet(Layout(root).ledger(ASSET))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert int(ledger["n_in"].sum()) == sum(1 for line in lines if line.strip())
    assert summary.per_type["Patient"]["out"] >= n_good and summary.per_type["Encounter"]["out"] >= n_good
    _no_value_quoted(root, ASSET, repr(summary))


def _bundle_tree(draw, depth: int) -> tuple[dict, int, int, int]:
    """(a Bundle, good leaves, broken leaves, nested Bundles) of a random tree of Bundles."""
    entries, good, bad, nested = [], 0, 0, 0
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["good", "bad", "bundle"] if depth < 3 else ["good", "bad"]))
        if kind == "bundle":
            inner, g, b, n = _bundle_tree(draw, depth + 1)
            entries.append({"resource": inner})
            good, bad, nested = good + g, bad + b, nested + n + 1
        elif kind == "good":
            entries.append({"resource": _patient(draw(st.integers(0, 10**6)) * 10 + i)})
            good += 1
        else:
            # any JSON value but a resource (keys are marked text, so never a resourceType), or no resource
            entries.append(
                {"resource": draw(json_values)} if draw(st.booleans()) else {"fullUrl": draw(marked_text)}
            )
            bad += 1
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}, good, bad, nested


@FAST
@given(data=st.data())
def test_nested_bundles_account_for_every_entry(tmp_path_factory, data):
    from pipelines.defs.fhir.ingest import ASSET, ingest_fhir

    bundle, good, bad, nested = _bundle_tree(data.draw, 1)
    root = tmp_path_factory.mktemp("root")
    path = root / "landing" / "fhir" / "b.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(bundle))
    summary = ingest_fhir(Layout(root), KEYRING, N_SHARDS, workers=1)
    ledger = pl.read_parquet(Layout(root).ledger(ASSET))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()
    assert int(ledger["n_in"].sum()) == good + bad + nested  # every leaf and every nested Bundle, once
    assert summary.per_type.get("Patient", {}).get("out", 0) >= good
    _no_value_quoted(root, ASSET, repr(summary))


@FAST
@given(rows=st.lists(st.lists(marked_text, min_size=3, max_size=3), max_size=8))
def test_well_formed_csv_round_trips_exactly(rows: list[list[str]]):
    """Quotes, separators and line breaks inside quoted fields are data, not damage."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    df, bad = parse_csv(buf.getvalue(), ",")
    assert bad == [] and [list(r[:3]) for r in df.rows()] == rows


@FAST
@given(
    good=st.lists(
        st.lists(st.text("abc123 ", min_size=1, max_size=6), min_size=3, max_size=3), min_size=1, max_size=8
    ),
    junk=st.lists(
        st.tuples(st.integers(0, 8), st.lists(st.text("xyz9", max_size=4), min_size=1, max_size=6)), max_size=4
    ),
)
def test_ragged_csv_rows_are_rejected_alone(good: list[list[str]], junk: list[tuple[int, list[str]]]):
    lines = [",".join(r) for r in good]
    for at, fields in sorted(junk, reverse=True):
        if len(fields) != 3:  # a ragged row: too few or too many fields
            lines.insert(min(at, len(lines)), ",".join([MARK, *fields[1:]]))
    text = "a,b,c\n" + "".join(f"{line}\n" for line in lines)
    ragged = {i + 2 for i, line in enumerate(lines) if line.startswith(MARK)}
    for parse in (parse_csv, _parse_fast):  # the fast path must agree with the row-by-row one
        df, bad = parse(text, ",")
        assert [list(r[:3]) for r in df.rows()] == good
        assert {line for line, *_ in bad} == ragged
        assert all(MARK not in reason for _, _, reason, _ in bad)


@FAST
@given(
    meta=st.dictionaries(
        st.sampled_from(["subject", "time", "type", "type_display", "encounter", "note_id"]),
        json_values,
        max_size=6,
    ),
    body=st.binary(max_size=64),
)
def test_note_reader_survives_any_sidecar_and_body(tmp_path_factory, meta: dict, body: bytes):
    from pipelines.defs.notes.files import ASSET, ingest_note_files

    root = tmp_path_factory.mktemp("root")
    notes = root / "landing" / "notes"
    notes.mkdir(parents=True)
    (notes / "good.txt").write_text("Follow-up visit, stable.\n")
    (notes / "good.json").write_text(json.dumps({"subject": "p1", "time": "2020-01-02T10:00:00Z"}))
    (notes / "odd.txt").write_bytes(body)
    (notes / "odd.json").write_text(json.dumps(meta))
    counts = ingest_note_files(Layout(root), KEYRING, N_SHARDS)
    assert counts["notes"] >= 1 and counts["notes"] + counts["quarantined"] == 2
    _no_value_quoted(root, ASSET, repr(counts))


@FAST
@given(cut=st.integers(0, 2000), flips=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=4))
def test_dicom_index_survives_truncation_and_corruption(tmp_path_factory, cut: int, flips: list[tuple[int, int]]):
    from pipelines.defs.dicom.index import index_file
    from tests.dicom.conftest import make_instance

    root = tmp_path_factory.mktemp("root")
    path = root / "landing" / "dicom" / "x.dcm"
    path.parent.mkdir(parents=True)
    make_instance(patient_name=f"{MARK}^Jane").save_as(path, enforce_file_format=True)
    data = bytearray(path.read_bytes()[: max(cut, 1)])
    for at, byte in flips:
        if at < len(data):
            data[at] = byte
    path.write_bytes(bytes(data))
    result = index_file(path, root, KEYRING, N_SHARDS)
    assert result.kind in ("instance", "rejected", "dicomdir")
    assert MARK not in (result.reason or "") and "Jane" not in (result.reason or "")


def _no_value_quoted(root: Path, asset: str, summary: str) -> None:
    from schemas.publish import dataset_files

    layout = Layout(root)
    reasons = []
    qdir = layout.quarantine(asset)
    for p in dataset_files(qdir, "**/*.parquet") if qdir.exists() else []:
        reasons += pl.read_parquet(p)["reason"].to_list()
    ledger = layout.ledger(asset).read_bytes()
    assert not [r for r in reasons if MARK in r]
    assert MARK.encode() not in ledger and MARK not in summary


@FAST
@given(
    chunks=st.lists(
        st.binary(max_size=20) | st.sampled_from([b",", b'"', b"\n", b"\r\n", b"\x00", MARK.encode(), b"\xe9"]),
        max_size=40,
    )
)
def test_csv_reader_survives_any_bytes(tmp_path_factory, chunks: list[bytes]):
    from pipelines.defs.tables.mapping import TableSpec
    from pipelines.defs.tables.read import read_table_checked

    root = tmp_path_factory.mktemp("root")
    path = root / "t.csv"
    path.write_bytes(b"a,b,c\n" + b"".join(chunks))
    read = read_table_checked(path, TableSpec(file="t.csv"), root)
    positions = read.frame["__position"].to_list() + read.rejects["__position"].to_list()
    assert len(positions) == len(set(positions))  # a line is a kept row or a rejected one, never both
    assert not [r for r in read.rejects["reason"].to_list() if MARK in r]

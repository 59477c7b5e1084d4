"""Declared extra columns reach the MEDS data shards de-identified; undeclared ones stay in the raw zone."""

from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.meds.build import build_shard
from pipelines.defs.tables.ingest import ingest_tables
from pipelines.defs.tables.mapping import MappingError, load_mapping
from schemas.layout import Layout
from schemas.meds import DATA_SCHEMA
from tests.conftest import TEST_SECRET

KEYS = Keyring(TEST_SECRET)
SHARDS = 2

PATIENTS = """\
pid,sex,birth
P1,F,1960-03-01
P2,M,1975-07-15
P3,F,1990-01-20
"""
# Admission ids, a room number, a free-text comment naming the patient, and a discharge time per lab row.
LABS = """\
pid,taken,item,value,hadm,room,score,comment,discharged,ward_phone
P1,2020-01-05 08:00,GLU,5.5,H100,12,3,Seen by Dr. Alice Smith,2020-01-07 10:30,555-0101
P1,2020-01-06 08:00,GLU,6.1,H100,12,x,,2020-01-07 10:30,555-0101
P2,2021-03-02 09:15,NA,140,H200,7,4,patient Bob Jones called,not a time,555-0102
P3,2022-11-11 11:11,GLU,4.9,,,,,,
"""
MAPPING = """\
source: ward
default_timezone: UTC
tables:
  patients: {file: patients.csv}
  labs: {file: labs.csv}
maps:
  sex: {F: female, M: male}
subjects: {table: patients, key: pid, birth: birth, sex: sex, sex_map: sex}
events:
  - table: labs
    subject: pid
    code: "LAB//{item}"
    time: taken
    numeric_value: value
    extra: {hadm_id: hadm, room: room, severity: score, note: comment, discharge: discharged, phone: ward_phone}
extra_columns:
  hadm_id: {type: string, deid: pseudonymize}
  room: {type: int, deid: keep}
  severity: {type: float, deid: keep}
  note: {type: string, deid: text}
  discharge: {type: datetime, deid: shift}
  phone: {type: string, deid: drop}
"""


def _root(tmp_path: Path, mapping: str = MAPPING) -> Layout:
    src = tmp_path / "landing" / "tables" / "ward"
    src.mkdir(parents=True)
    (src / "patients.csv").write_text(PATIENTS)
    (src / "labs.csv").write_text(LABS)
    (src / "mapping.yaml").write_text(mapping)
    return Layout(tmp_path)


def _meds(layout: Layout) -> pl.DataFrame:
    for shard in range(SHARDS):
        build_shard(layout, KEYS, shard, (1.0, 0.0, 0.0))
    return pl.concat([pl.read_parquet(p) for p in sorted(layout.meds.glob("data/*/*.parquet"))])


def test_declared_extra_columns_reach_meds_after_the_required_ones_de_identified(tmp_path: Path):
    layout = _root(tmp_path)
    [summary] = ingest_tables(layout, KEYS, SHARDS)
    assert summary.quarantined == 0
    assert summary.extra_unconverted == {"severity": 1, "discharge": 1}  # counted, never guessed
    meds = _meds(layout)
    assert meds.columns == [*DATA_SCHEMA.names, "discharge", "hadm_id", "note", "room", "severity"]
    for path in sorted(layout.meds.glob("data/*/*.parquet")):  # every shard has the same schema
        assert pl.read_parquet_schema(path) == meds.schema
    assert "phone" not in meds.columns  # deid: drop stays in the raw zone
    labs = meds.filter(pl.col("code").str.starts_with("LAB//")).sort("subject_id", "time")
    assert labs.height == 4
    assert meds.schema["room"] == pl.Int64 and meds.schema["severity"] == pl.Float64
    assert sorted(labs["room"].drop_nulls().to_list()) == [7, 12, 12]
    assert sorted(labs["severity"].drop_nulls().to_list()) == [3.0, 4.0]  # "x" is not a number: null
    # pseudonyms: the same admission gets the same token, the delivered id is nowhere
    hadm = labs["hadm_id"].to_list()
    assert hadm.count(None) == 1 and len(set(h for h in hadm if h)) == 2
    assert not any(h in ("H100", "H200") for h in hadm)
    # a date-time moves with its subject's events: same distance from the event time as delivered
    p1 = labs.filter(pl.col("discharge").is_not_null()).sort("time")
    gaps = (p1["discharge"] - p1["time"]).dt.total_minutes().to_list()
    assert sorted(gaps) == sorted([2 * 24 * 60 + 150, 24 * 60 + 150])
    assert not any(str(d).startswith("2020-01-07") for d in p1["discharge"].to_list())
    # free text through the text de-identifier: the names are gone, the rest of the text stays
    notes = [n for n in labs["note"].to_list() if n]
    assert len(notes) == 2 and not any(w in n for n in notes for w in ("Alice", "Smith", "Bob", "Jones"))
    # rows without a lab (static, birth) carry no extra values
    assert (
        meds.filter(~pl.col("code").str.starts_with("LAB//"))["hadm_id"].null_count()
        == meds.filter(~pl.col("code").str.starts_with("LAB//")).height
    )


def test_meds_and_meds_reader_accept_shards_with_extra_columns(tmp_path: Path):
    import json
    import subprocess

    import meds
    import pyarrow.parquet as pq

    layout = _root(tmp_path / "root")
    ingest_tables(layout, KEYS, SHARDS)
    data = _meds(layout)
    for path in sorted(layout.meds.glob("data/*/*.parquet")):
        meds.DataSchema.validate(pq.read_table(path))  # the `meds` package's own schema: extras allowed
    interop = Path(__file__).resolve().parents[3] / "bench" / ".venv-interop" / "bin" / "python"
    if not interop.exists():
        pytest.skip("bench/.venv-interop is absent (make interop): meds_reader not run")
    from pipelines.defs.meds.metadata import write_codes, write_dataset_metadata, write_subject_splits

    write_codes(layout)
    write_subject_splits(layout)
    write_dataset_metadata(layout)
    peer = (
        "import json, subprocess, sys, meds_reader\n"
        "from pathlib import Path\n"
        "exe = Path(sys.executable).parent / 'meds_reader_convert'\n"
        "subprocess.run([str(exe), sys.argv[1], sys.argv[2], '--num_threads', '1'], check=True)\n"
        "rows = []\n"
        "with meds_reader.SubjectDatabase(sys.argv[2]) as db:\n"
        "    for sid in db:\n"
        "        for ev in db[sid].events:\n"
        "            rows.append([int(sid), ev.code, getattr(ev, 'hadm_id', None), getattr(ev, 'room', None)])\n"
        "print(json.dumps(rows))\n"
    )
    done = subprocess.run([str(interop), "-c", peer, str(layout.meds), str(tmp_path / "db")],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(rows) == data.height
    got = sorted((r[0], r[1], r[2], r[3]) for r in rows if r[1].startswith("LAB//"))
    want = data.filter(pl.col("code").str.starts_with("LAB//")).select("subject_id", "code", "hadm_id", "room")
    assert got == sorted(want.rows())  # every extra value read back by meds_reader, as written


def test_the_meds_schema_rule_allows_extra_columns_after_the_six_only(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from quality.validate import validate

    layout = _root(tmp_path)
    ingest_tables(layout, KEYS, SHARDS)
    _meds(layout)
    rule = "meds_data.schema/columns"
    assert all(o.success for o in validate(layout.root, asset="meds_data") if o.expectation == rule)
    path = sorted(layout.meds.glob("data/*/*.parquet"))[0]
    table = pq.read_table(path)
    moved = table.select(["room", *[n for n in table.column_names if n != "room"]])  # an extra column first
    pq.write_table(moved, path)
    assert not all(o.success for o in validate(layout.root, asset="meds_data") if o.expectation == rule)
    pq.write_table(table.append_column("late", pa.array([1] * table.num_rows)), path)
    assert all(o.success for o in validate(layout.root, asset="meds_data") if o.expectation == rule)


def test_undeclared_extra_columns_never_reach_meds(tmp_path: Path):
    layout = _root(tmp_path, MAPPING.split("extra_columns:")[0])
    ingest_tables(layout, KEYS, SHARDS)
    meds = _meds(layout)
    assert meds.columns == DATA_SCHEMA.names
    raw = pl.read_parquet(sorted(layout.raw.glob("tables/ward/extra/*/*.parquet")), hive_partitioning=False)
    assert {"hadm_id", "phone", "note"} <= set(raw.columns)  # kept as delivered, in the PHI zone only


def test_unconverted_extra_values_are_counted_by_check(tmp_path: Path):
    from pipelines.defs.tables.check import check_source

    layout = _root(tmp_path)
    src = layout.landing / "tables" / "ward"
    report = check_source(load_mapping(src / "mapping.yaml"), src)
    assert report.ok, report.problems
    text = "\n".join(report.warnings)
    assert "severity" in text and "discharge" in text and "1 of" in text


@pytest.mark.parametrize(
    ("decl", "words"),
    [
        ("discharge: {type: datetime, deid: keep}", "shifted"),
        ("room: {type: int, deid: shift}", "datetime"),
        ("hadm_id: {type: int, deid: pseudonymize}", "type: string"),
        ("nowhere: {type: string, deid: keep}", "no rule keeps"),
    ],
)
def test_extra_column_declarations_are_validated(tmp_path: Path, decl: str, words: str):
    text = MAPPING.split("extra_columns:")[0] + "extra_columns:\n  " + decl + "\n"
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=words):
        load_mapping(path)


def _free_text_note(tmp_path: Path, patients: str, labs: str, subjects: str) -> str:
    """The one `note` (a free-text extra column, `deid: text`) of a ward table after the build."""
    mapping = MAPPING.replace("sex_map: sex}", f"sex_map: sex, {subjects}}}")
    mapping = mapping.replace("{hadm_id: hadm, room: room, severity: score, note: comment, discharge: discharged, "
                              "phone: ward_phone}", "{note: comment}")  # fmt: skip
    mapping = mapping.split("extra_columns:")[0] + "extra_columns:\n  note: {type: string, deid: text}\n"
    layout = _root(tmp_path, mapping)
    (layout.landing / "tables" / "ward" / "patients.csv").write_text(patients)
    (layout.landing / "tables" / "ward" / "labs.csv").write_text(labs)
    ingest_tables(layout, KEYS, SHARDS)
    [note] = _meds(layout)["note"].drop_nulls().to_list()
    return note


def test_free_text_loses_another_patients_name_where_the_model_misses_it(tmp_path: Path):
    # Constructed names: P1's comment copies P2 in a spot the model misses; P3's surname is a clinical word.
    patients = "pid,sex,birth,given,family\nP1,F,1960-03-01,Harriet,Quixley\nP2,M,1975-07-15,Ottoline,Brakspear\n"
    patients += "P3,F,1990-01-20,Hazel,Pulse\n"
    labs = "pid,taken,item,value,comment\nP1,2020-01-05 08:00,GLU,5.5,cc: ottoline brakspear. Pulse 72.\n"
    note = _free_text_note(tmp_path, patients, labs, "names: [given, family]")
    assert "brakspear" not in note.lower() and "ottoline" not in note.lower()
    assert note.startswith("cc: ") and note.endswith(". Pulse 72.")


def test_free_text_loses_another_patients_mrn_and_street_where_the_model_misses_it(tmp_path: Path):
    # Constructed values: P1's comment copies P2's MRN and street line in spots the model misses.
    patients = "pid,sex,birth,mrn,phone,street\nP1,F,1960-03-01,40127733,617-555-0101,9 Elm Street\n"
    patients += "P2,M,1975-07-15,58310946,617-555-0188,52 Foundry Road\n"
    labs = "pid,taken,item,value,comment\nP1,2020-01-05 08:00,GLU,5.5,ref 58310946; DROPPED OFF AT 52 FOUNDRY RD. Pulse 72.\n"
    note = _free_text_note(tmp_path, patients, labs, "identifiers: [mrn], telecoms: [phone], addresses: [street]")
    assert "58310946" not in note and "foundry" not in note.lower()
    assert note.startswith("ref ") and "; DROPPED OFF AT " in note and note.endswith(". Pulse 72.")

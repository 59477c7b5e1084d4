"""Mapped tables: events match the source rows, bad rows are quarantined with their line, ledgers balance."""

import csv
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from pipelines.defs.meds.build import build_shard
from pipelines.defs.meds.derived import coded_value_rows
from pipelines.defs.tables.ingest import ingest_tables
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, shared_dir

KEYS = Keyring(TEST_SECRET)


def _source(root: Path, name: str, data: Path, mapping: str) -> Path:
    src = root / "landing" / "tables" / name
    src.mkdir(parents=True)
    for f in data.iterdir():
        if f.is_file():  # copied: the reader refuses a symlink that leaves the root
            shutil.copy(f, src / f.name)
    (src / "longitude-source.yaml").write_text(f"mapping: {mapping}\n")
    return src


def _events(layout: Layout, source: str) -> pl.DataFrame:
    return pl.read_parquet(sorted(layout.raw.glob(f"tables/{source}/events/*/*.parquet")), hive_partitioning=False)


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_synthea_csv_events_match_the_rows_of_each_table(tmp_path: Path):
    data = shared_dir("synthea-csv") / "csv"
    _source(tmp_path, "synthea", data, "synthea-csv")
    layout = Layout(tmp_path)
    [summary] = ingest_tables(layout, KEYS, 4)
    ev = _events(layout, "synthea-csv")
    assert summary.quarantined == 0 and summary.subjects == 27
    expected = Counter()
    for table, vocab in (("conditions", "SNOMED"), ("medications", "RXNORM"), ("procedures", "SNOMED"),
                         ("immunizations", "CVX"), ("careplans", "SNOMED"), ("devices", "SNOMED"),
                         ("supplies", "SNOMED")):  # fmt: skip
        expected.update(f"{vocab}//{r['CODE']}" for r in _rows(data / f"{table}.csv"))
    expected.update(f"LOINC//{r['CODE']}" for r in _rows(data / "observations.csv"))
    got = Counter(ev.filter(pl.col("code").str.contains(r"^(SNOMED|RXNORM|CVX|LOINC)//"))["code"].to_list())
    systems = {"SNOMED-CT": "SNOMED", "RxNorm": "RXNORM"}
    allergies = Counter(f"{systems[r['SYSTEM']]}//{r['CODE']}" for r in _rows(data / "allergies.csv"))
    assert got == expected + allergies
    encounters = _rows(data / "encounters.csv")
    classes = Counter(r["ENCOUNTERCLASS"] for r in encounters)
    got_enc = Counter(ev.filter(pl.col("code").str.starts_with("ENCOUNTER//"))["code"].to_list())
    assert got_enc["ENCOUNTER//IMP"] == classes["inpatient"] and got_enc["ENCOUNTER//EMER"] == classes["emergency"]
    assert sum(got_enc.values()) == len(encounters)
    numeric = [r for r in _rows(data / "observations.csv") if r["TYPE"] == "numeric"]
    glucose = ev.filter(pl.col("numeric_value").is_not_null() & (pl.col("resource_type") != "supplies"))
    assert glucose.height == len(numeric) and glucose["unit"].null_count() == 0
    # billing and the health system are ignored on purpose; nothing else is left unread
    assert pl.read_parquet(layout.unmapped("tables_raw")).filter(pl.col("kind") == "file").height == 0
    people = _rows(data / "patients.csv")
    assert ev.filter(pl.col("code") == "MEDS_DEATH").height == sum(1 for p in people if p["DEATHDATE"])
    ledger = pl.read_parquet(layout.ledger("tables_raw"))
    assert (ledger["n_in"] == ledger["n_out"] + ledger["n_quarantined"]).all()


def test_omop_cdm54_events_match_the_rows_and_concepts(tmp_path: Path):
    archive = shared_dir("omop-synthea27") / "Synthea27Nj_5.4.zip"
    data = tmp_path / "omop-csv"
    with zipfile.ZipFile(archive) as z:
        z.extractall(data, [n for n in z.namelist() if not n.startswith("__MACOSX")])
    root = tmp_path / "root"
    _source(root, "omop", data, "omop-cdm54")
    layout = Layout(root)
    [summary] = ingest_tables(layout, KEYS, 4)
    ev = _events(layout, "omop-cdm54")
    concepts = {r["concept_id"]: (r["vocabulary_id"], r["concept_code"]) for r in _rows(data / "CONCEPT.csv")}
    vocab = {"RxNorm": "RXNORM"}
    expected = Counter()
    for table, col in (("MEASUREMENT", "measurement_concept_id"), ("CONDITION_OCCURRENCE", "condition_concept_id"),
                       ("DRUG_EXPOSURE", "drug_concept_id"), ("PROCEDURE_OCCURRENCE", "procedure_concept_id"),
                       ("OBSERVATION", "observation_concept_id"), ("DEVICE_EXPOSURE", "device_concept_id")):  # fmt: skip
        for r in _rows(data / f"{table}.csv"):
            v, c = concepts[r[col]]
            expected[f"{vocab.get(v, v)}//{c}"] += 1
    got = Counter(
        ev.filter(~pl.col("code").str.contains(r"^(ENCOUNTER|ENCOUNTER_END|MEDS_|GENDER)"))["code"].to_list()
    )
    assert got == expected
    persons = _rows(data / "PERSON.csv")
    assert summary.subjects == len(persons) and summary.quarantined == 0
    assert ev.filter(pl.col("code") == "MEDS_DEATH").height == len(_rows(data / "DEATH.csv"))
    weights = ev.filter(pl.col("code") == "LOINC//29463-7")
    assert weights.height > 0 and weights["unit"].unique().to_list() == ["kg"]
    # CONCEPT names the codes and CONCEPT_RELATIONSHIP ('Is a') gives parents that CONCEPT also holds
    meta = pl.read_parquet(root / "raw" / "tables" / "omop-cdm54" / "code_metadata" / "vocabulary.parquet")
    assert set(meta["code"]) <= set(ev["code"]) and meta["description"].null_count() == 0
    by_id = {r["concept_id"]: r for r in _rows(data / "CONCEPT.csv")}
    is_a = {
        (r["concept_id_1"], r["concept_id_2"])
        for r in _rows(data / "CONCEPT_RELATIONSHIP.csv")
        if r["relationship_id"] == "Is a" and r["concept_id_1"] in by_id and r["concept_id_2"] in by_id
    }
    code_of = {
        cid: f"{vocab.get(c['vocabulary_id'], c['vocabulary_id'])}//{c['concept_code']}"
        for cid, c in by_id.items()
    }
    expected_parents = {}
    for child, parent in is_a:
        if code_of[child] in set(meta["code"]):
            expected_parents.setdefault(code_of[child], set()).add(code_of[parent])
    got_parents = {r["code"]: set(r["parent_codes"]) for r in meta.to_dicts() if r["parent_codes"]}
    assert got_parents == expected_parents and len(got_parents) > 10
    # the empty event tables and VISIT_DETAIL (which repeats the visits) are reported, not silently skipped
    unmapped = pl.read_parquet(layout.unmapped("tables_raw"))
    assert unmapped.filter(pl.col("kind") == "file")["n"].sort().to_list() == [
        0,
        0,
        0,
        0,
        len(_rows(data / "VISIT_DETAIL.csv")),
    ]


def test_omop_cdm53_reads_with_the_same_mapping(tmp_path: Path):
    """CDM 5.3 lacks 5.4's new columns and names two visit columns differently: the mapping uses neither."""
    archive = shared_dir("omop-synthea27") / "Synthea27Nj_5.4.zip"
    data = tmp_path / "omop54"
    with zipfile.ZipFile(archive) as z:
        z.extractall(data, [n for n in z.namelist() if not n.startswith("__MACOSX")])
    only_54 = {
        "VISIT_OCCURRENCE": {"admitted_from_concept_id": "admitting_source_concept_id",
                             "admitted_from_source_value": "admitting_source_value",
                             "discharged_to_concept_id": "discharge_to_concept_id",
                             "discharged_to_source_value": "discharge_to_source_value"},
        "MEASUREMENT": {"unit_source_concept_id": None, "measurement_event_id": None, "meas_event_field_concept_id": None},
        "OBSERVATION": {"value_source_value": None, "observation_event_id": None, "obs_event_field_concept_id": None},
        "PROCEDURE_OCCURRENCE": {"procedure_end_date": None, "procedure_end_datetime": None},
    }  # fmt: skip
    roots = {}
    for version in ("53", "54"):
        root = tmp_path / version
        src = root / "landing" / "tables" / "omop"
        src.mkdir(parents=True)
        for f in data.glob("*.csv"):
            df = pl.read_csv(f, infer_schema=False)
            if version == "53" and f.stem in only_54:
                changes = only_54[f.stem]
                df = df.drop([c for c, new in changes.items() if new is None])
                df = df.rename({c: new for c, new in changes.items() if new is not None})
            df.write_csv(src / f.name.lower())  # 5.3 exports often use lower-case names
        (src / "longitude-source.yaml").write_text("mapping: omop-cdm54\n")
        [summary] = ingest_tables(Layout(root), KEYS, 2)
        assert summary.quarantined == 0
        roots[version] = _events(Layout(root), "omop-cdm54").drop("source_file").sort(pl.all())
    assert roots["53"].equals(roots["54"]) and roots["53"].height > 10_000


def test_bad_rows_are_quarantined_with_their_line_and_reason(tmp_path: Path):
    src = tmp_path / "landing" / "tables" / "clinic"
    src.mkdir(parents=True)
    (src / "people.csv").write_text("id,born,sex\np1,1970-01-01,M\np2,not-a-date,F\np3,1980-05-05,F\n")
    (src / "labs.csv").write_text(
        "pid,when,item,value,unit\n"
        "p1,2020-01-01T10:00:00Z,GLU,98,mg/dL\n"  # line 2: fine
        ",2020-01-01,GLU,98,mg/dL\n"  # line 3: no subject
        "p9,2020-01-01,GLU,98,mg/dL\n"  # line 4: unknown subject
        "p1,yesterday,GLU,98,mg/dL\n"  # line 5: bad time
        "p1,2020-01-02,,98,mg/dL\n"  # line 6: empty code column
        "p1,2020-01-03,GLU,high,mg/dL\n"  # line 7: not a number
        "p3,2020-01-04 08:00,GLU,101.5,mg/dL\n"  # line 8: fine (naive time read as UTC)
    )
    (src / "mapping.yaml").write_text(
        "source: clinic\ntables:\n  people: {file: people.csv}\n  labs: {file: labs.csv}\n"
        "maps:\n  sex: {M: male, F: female}\n"
        "subjects: {table: people, key: id, birth: born, sex: sex, sex_map: sex}\n"
        "events:\n  - {table: labs, subject: pid, code: 'LAB//{item}', time: when, numeric_value: value, unit: unit}\n"
    )
    layout = Layout(tmp_path)
    [summary] = ingest_tables(layout, KEYS, 2)
    q = pl.read_parquet(layout.quarantine("tables_raw") / "clinic.parquet")
    got = {(Path(r["source_file"]).name, r["position"], r["reason_code"]) for r in q.to_dicts()}
    assert got == {
        ("people.csv", 3, "UNPARSEABLE_DATE"),
        ("labs.csv", 3, "MISSING_SUBJECT_REFERENCE"),
        ("labs.csv", 4, "MISSING_PATIENT"),
        ("labs.csv", 5, "UNPARSEABLE_DATE"),
        ("labs.csv", 6, "MISSING_CODE"),
        ("labs.csv", 7, "INVALID_VALUE"),
    }
    assert all("high" not in r and "yesterday" not in r for r in q["reason"])
    ev = _events(layout, "clinic").filter(pl.col("code") == "LAB//GLU").sort("time")
    assert ev["numeric_value"].to_list() == [98.0, 101.5]
    assert ev["source_patient"].to_list() == ["p1", "p3"]
    ledger = pl.read_parquet(layout.ledger("tables_raw"))
    assert ledger.select("record_type", "n_in", "n_out", "n_quarantined").sort("record_type").rows() == [
        ("labs", 7, 2, 5),
        ("people", 3, 2, 1),
    ]
    assert summary.rows == 10


def test_a_bad_mapping_stops_before_any_data_is_read(tmp_path: Path):
    good = tmp_path / "landing" / "tables" / "a"
    good.mkdir(parents=True)
    (good / "longitude-source.yaml").write_text("mapping: synthea-csv\n")
    bad = tmp_path / "landing" / "tables" / "b"
    bad.mkdir()
    (bad / "mapping.yaml").write_text("source: b\ntables: {}\nsubjects: {table: nope, key: id}\nevents: []\n")
    from pipelines.defs.tables.mapping import MappingError

    with pytest.raises(MappingError, match="unknown table 'nope'"):
        ingest_tables(Layout(tmp_path), KEYS, 2)
    assert not (tmp_path / "raw").exists()


def test_same_patient_from_fhir_and_csv_gives_the_same_timeline(tmp_path: Path):
    from pipelines.defs.fhir.ingest import ingest_fhir
    from tests.conftest import write_bundle
    from tests.fhir_fixtures import condition, encounter, lab, patient

    fhir_root, csv_root = tmp_path / "f", tmp_path / "c"
    write_bundle(fhir_root / "landing" / "fhir" / "b.json", [
        patient("u1", birth="1970-02-03", gender="male"),
        encounter("e1", "u1", "2020-01-01T10:00:00Z", "2020-01-01T11:00:00Z", cls="IMP"),
        lab("o1", "u1", "2020-01-01T10:30:00Z", value=98.0), condition("c1", "u1", "2019-06-01")])  # fmt: skip
    src = csv_root / "landing" / "tables" / "synthea"
    src.mkdir(parents=True)
    files = {
        "patients.csv": "Id,BIRTHDATE,DEATHDATE,GENDER,RACE,ETHNICITY\nu1,1970-02-03,,M,,\n",
        "encounters.csv": "Id,START,STOP,PATIENT,ENCOUNTERCLASS,CODE\ne1,2020-01-01T10:00:00Z,2020-01-01T11:00:00Z,u1,inpatient,\n",
        "observations.csv": "DATE,PATIENT,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n2020-01-01T10:30:00Z,u1,2345-7,Glucose,98.0,mg/dL,numeric\n",
        "conditions.csv": "START,STOP,PATIENT,CODE,DESCRIPTION\n2019-06-01,,u1,44054006,Diabetes\n",
    }
    for name, text in files.items():
        (src / name).write_text(text)
    for name in ("medications", "procedures", "immunizations", "allergies", "imaging_studies"):
        header = {"allergies": "START,PATIENT,CODE,SYSTEM,DESCRIPTION", "imaging_studies": "DATE,PATIENT,MODALITY_CODE,BODYSITE_CODE",
                  "immunizations": "DATE,PATIENT,CODE,DESCRIPTION"}.get(name, "START,PATIENT,CODE,DESCRIPTION")  # fmt: skip
        (src / f"{name}.csv").write_text(header + "\n")
    (src / "longitude-source.yaml").write_text("mapping: synthea-csv\n")
    ingest_fhir(Layout(fhir_root), KEYS, 1)
    ingest_tables(Layout(csv_root), KEYS, 1)
    timelines = []
    for root in (fhir_root, csv_root):
        build_shard(Layout(root), KEYS, 0, (1.0, 0.0, 0.0))
        df = pl.read_parquet(Layout(root).meds_shard("train", 0))
        df = df.filter(~pl.col("code").is_in(coded_value_rows(df)["code"].implode()))  # the type's companions
        timelines.append(df.select("subject_id", "time", "code", "numeric_value").sort(pl.all()))
    # The encounter type code rides in text_value and is empty in this CSV, so it is left out of the comparison.
    assert timelines[0].equals(timelines[1])


def test_notes_table_via_mapping_becomes_raw_notes_and_note_events(tmp_path: Path):
    src = tmp_path / "landing" / "tables" / "ehr"
    src.mkdir(parents=True)
    (src / "people.csv").write_text("id\np1\np2\n")
    (src / "notes.csv").write_text(
        "nid,pid,written,kind,body\n"
        'n1,p1,2021-02-03 09:00,11506-3,"Seen today, doing well."\n'
        "n2,p2,2021-02-04 10:00,18842-5,Discharged home.\n"
        "n3,p1,2021-02-05 10:00,11506-3,\n"  # no text: quarantined
    )
    (src / "mapping.yaml").write_text(
        "source: ehr\ntables:\n  people: {file: people.csv}\n  notes: {file: notes.csv}\n"
        "subjects: {table: people, key: id}\nevents: []\n"
        "notes:\n  - {table: notes, subject: pid, time: written, text: body, type: 'LOINC//{kind}', note_id: nid}\n"
    )
    layout = Layout(tmp_path)
    [summary] = ingest_tables(layout, KEYS, 1)
    notes = pl.read_parquet(sorted(layout.raw.glob("tables/ehr/notes/*/*.parquet")), hive_partitioning=False).sort(
        "time"
    )
    assert notes["text"].to_list() == ["Seen today, doing well.", "Discharged home."]
    assert notes["note_type"].to_list() == ["NOTE//LOINC//11506-3", "NOTE//LOINC//18842-5"]
    events = _events(layout, "ehr").filter(pl.col("code").str.starts_with("NOTE//")).sort("time")
    assert events["text_value"].to_list() == notes["note_id"].to_list()
    assert summary.quarantined == 1


def test_omop_parquet_export_maps_like_the_csv_export(tmp_path: Path):
    events = {}
    for kind, name in (("csv", "Synthea27Nj_5.4.zip"), ("parquet", "Synthea27NjParquet_5.4.zip")):
        root = tmp_path / kind
        src = root / "landing" / "tables" / "omop"
        with zipfile.ZipFile(shared_dir("omop-synthea27") / name) as z:
            for member in z.namelist():
                if member.startswith("__MACOSX") or member.endswith("/"):
                    continue
                (src / Path(member).name).parent.mkdir(parents=True, exist_ok=True)
                (src / Path(member).name).write_bytes(z.read(member))
        (src / "longitude-source.yaml").write_text("mapping: omop-cdm54\n")
        [summary] = ingest_tables(Layout(root), KEYS, 2)
        assert summary.quarantined == 0
        ev = _events(Layout(root), "omop-cdm54")
        events[kind] = ev.select("source_patient", "time", "code", "numeric_value", "unit").sort(pl.all())
    assert events["csv"].equals(events["parquet"])

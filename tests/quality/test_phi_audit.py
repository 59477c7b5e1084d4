"""The PHI audit finds any known identifier or residual PHI pattern outside the PHI zones, and reports where,
never what."""

import json
from datetime import timedelta

import duckdb
import polars as pl
import pyarrow as pa

from quality.phi_audit import audit, write_audit
from quality.records import audit_summary_path, findings_path
from schemas.io import write_parquet, write_text
from schemas.meds import CODES_SCHEMA
from schemas.raw import RAW_PATIENTS_SCHEMA
from tests.quality.conftest import KEYRING, PEOPLE, Root


def _hits(root: Root, keyring=None) -> set[tuple[str, str, int, str]]:
    result = audit(root.path, keyring)
    return {(r["path"], r["field"], r["row"], r["kind"]) for r in result.findings.iter_rows(named=True)}


def _describe(root: Root, code: str, text: str) -> None:
    codes = pl.read_parquet(root.layout.meds_codes).with_columns(
        description=pl.when(pl.col("code") == code).then(pl.lit(text)).otherwise(pl.col("description"))
    )
    write_parquet(codes.to_arrow(), root.layout.meds_codes, CODES_SCHEMA)
    return codes["code"].to_list().index(code)


def test_clean_root_has_no_findings_and_the_phi_zones_are_not_scanned(root: Root):
    # the quarantine holds names and MRNs (it is a PHI zone), raw/ holds them all
    result = audit(root.path, KEYRING)
    assert result.passed and result.subjects == 3 and result.files >= 4
    assert not any(str(p).startswith(("raw/", "quarantine/")) for p in result.findings["path"].to_list())


def test_leaked_name_is_reported_by_table_row_and_field_never_value(root: Root):
    row = _describe(root, "LOINC//2345-7", "Glucose, drawn for zyxwanda")
    assert _hits(root) == {("meds/metadata/codes.parquet", "description", row, "name")}
    result = audit(root.path)
    write_audit(result, root.layout)
    written = (
        findings_path(root.layout.quality).read_bytes() + audit_summary_path(root.layout.quality).read_bytes()
    )
    assert b"zyxwanda" not in written.lower() and b"Glucose" not in written
    summary = json.loads(audit_summary_path(root.layout.quality).read_text())
    assert summary["findings"] == 1 and summary["by_table"][0]["table"] == "meds_codes"


def test_names_match_whole_words_only_and_common_words_only_as_full_names(root: Root):
    _describe(root, "LOINC//2345-7", "Zyxwandas will Pendergrovean")  # no whole-word name; "Will" is a word
    assert _hits(root) == set()
    row = _describe(root, "LOINC//2345-7", "seen by WILL PENDERGROVE")
    assert _hits(root) == {("meds/metadata/codes.parquet", "description", row, "name")}


def test_identifiers_phones_addresses_and_birth_dates_in_text_files(root: Root):
    mrn, phone, street, birth = PEOPLE[1][3], PEOPLE[1][4], PEOPLE[1][5], PEOPLE[1][6]
    lines = ["{", f'"a": "{mrn.lower()}",', '"b": "(555) 201 7734",', f'"c": "{street}",',
             f'"d": "{birth:%B} {birth.day}, {birth.year}",', f'"e": "{birth:%m/%d/%Y}",', f'"p": "{phone}"', "}"]  # fmt: skip
    write_text("\n".join(lines), root.path / "tokens" / "tokenizer.json")
    hits = {(row, kind) for path, _, row, kind in _hits(root)}
    assert {
        (2, "identifier"),
        (3, "phone"),
        (4, "address"),
        (5, "birth_date"),
        (6, "birth_date"),
        (7, "phone"),
    } <= hits
    assert {row for row, _ in hits} == {2, 3, 4, 5, 6, 7}


def test_residual_patterns_of_anyone_ssn_phone_email(root: Root):
    texts = ["ssn 123-45-6789", "call 617.432.0199", "write to someone@hospital.org", "LOINC//2345-7 98 mg/dL",
             "2.25.3311234567 uid", "NDC 0069-3150-83",
             # surrogate forms reserved never to be real: SSN area 9xx, the 555 exchange, example.org
             "ssn 912-45-6789", "call 617.555.0199", "write to someone@example.org"]  # fmt: skip
    table = pa.table({"subject_id": pa.array([1] * len(texts), pa.int64()), "text": texts})
    write_parquet(table, root.path / "notes" / "0.parquet", table.schema)
    kinds = {(row, kind) for path, field, row, kind in _hits(root) if path == "notes/0.parquet"}
    assert kinds == {(0, "ssn_pattern"), (1, "phone_pattern"), (2, "email_pattern")}


def test_unshifted_birth_time_is_found_per_subject(root: Root):
    source, birth = PEOPLE[0][0], PEOPLE[0][6]
    sid = KEYRING.subject_id(source)
    data = root.data("train", 0)
    row = data.with_row_index().filter((pl.col("subject_id") == sid) & (pl.col("code") == "MEDS_BIRTH"))["index"][
        0
    ]
    root.write_data("train", 0, data.with_columns(
        time=pl.when(pl.col("code") == "MEDS_BIRTH").then(pl.lit(birth)).otherwise(pl.col("time"))))  # fmt: skip
    other_shift = data.filter(pl.col("code") == "MEDS_BIRTH")["time"].to_list()
    assert birth not in other_shift and birth - timedelta(days=7) != birth
    assert _hits(root, KEYRING) == {("meds/data/train/0.parquet", "time", int(row), "birth_time")}
    assert audit(root.path).notes  # without the secret this check is skipped, and the result says so


def test_catalog_view_reading_a_phi_zone_outside_schema_phi_is_a_finding(root: Root):
    con = duckdb.connect(str(root.layout.catalog))
    raw = str(root.path / "raw" / "fhir" / "patients" / "*" / "*.parquet")
    con.execute(f"create view patients as select * from read_parquet('{raw}')")
    con.execute("create schema phi")
    con.execute(f"create view phi.raw_patients as select * from read_parquet('{raw}')")
    con.close()
    assert _hits(root) == {("catalog.duckdb", "view", 0, "catalog_view_reads_phi_zone")}


def test_birth_dates_in_subject_keyed_text_count_only_for_their_own_subject(root: Root):
    a = KEYRING.subject_id(PEOPLE[0][0])
    own, other = PEOPLE[0][6], PEOPLE[1][6]
    texts = [f"DOB {own:%m/%d/%Y}", f"seen {other:%m/%d/%Y}"]  # row 0: a's own birth date; row 1: b's, in a's note
    table = pa.table({"subject_id": pa.array([a, a], pa.int64()), "text": texts})
    write_parquet(table, root.path / "notes" / "0.parquet", table.schema)
    scoped = {(row, kind) for path, field, row, kind in _hits(root, KEYRING) if path == "notes/0.parquet"}
    assert scoped == {(0, "birth_date")}
    # Without the secret the audit cannot tell whose note it is, so every known birth date counts.
    unscoped = {(row, kind) for path, field, row, kind in _hits(root) if path == "notes/0.parquet"}
    assert unscoped == {(0, "birth_date"), (1, "birth_date")}


def test_json_numbers_are_measurements_but_json_strings_are_scanned(root: Root):
    # A training log's numbers can equal a ZIP, a house number or a phone's digits by chance; an identifier
    # written as a string is still a finding.
    digits = PEOPLE[0][4].replace("-", "")
    lines = [json.dumps({"step": 9, "loss": 4.853, "tokens_seen": int(digits)}), json.dumps({"note": digits})]
    write_text("\n".join(lines) + "\n", root.path / "models" / "tiny" / "metrics.jsonl")
    assert {(path, row, kind) for path, _, row, kind in _hits(root)} == {("models/tiny/metrics.jsonl", 2, "phone")}


def test_a_timeline_page_is_scanned_for_its_data_not_for_the_chart_library_inline(root: Root):
    # The page carries Vega's script inline (offline); a subject named like a word of that code ("Lato", one of
    # its fonts) must not make every timeline a PHI finding, while a name in the page's own data still is.
    from quality.timeline_chart import timeline_html

    path = root.layout.raw_shard("fhir", "patients", 0) / "part-0.parquet"
    patients = pl.read_parquet(path).with_columns(names=pl.Series([["Ms.", p[1], "Lato"] for p in PEOPLE]))
    write_parquet(patients.to_arrow(), path, RAW_PATIENTS_SCHEMA)
    sid = KEYRING.subject_id(PEOPLE[0][0])
    pages = root.layout.quality / "site" / "timelines"
    write_text(timeline_html({"mark": "point", "data": {"values": []}}, sid), pages / f"{sid}.html")
    assert _hits(root) == set()
    write_text(timeline_html({"mark": "point", "title": "seen by Orvetta"}, sid), pages / f"{sid}.html")
    assert {(p, kind) for p, _, _, kind in _hits(root)} == {(f"quality/site/timelines/{sid}.html", "name")}


def test_a_name_written_whole_in_a_table_is_searched_word_by_word(root: Root):
    # A tables source maps one `name` column ("Family, Given" in one value); a lone surname of it in MEDS text
    # is a leak as it would be from a FHIR HumanName's parts.
    people = pa.table({
        "source_patient": ["t-1"], "birth_time": [None], "death_time": [None], "sex": [None],
        "names": [["Vorblatzky, Quennet"]], "identifiers": [[]], "telecoms": [[]], "addresses": [[]],
        "source_file": ["landing/tables/odd/people.csv"], "position": [2],
    })  # fmt: skip
    write_parquet(people, root.layout.raw_shard("odd", "patients", 0) / "part-0.parquet", RAW_PATIENTS_SCHEMA)
    row = _describe(root, "LOINC//2345-7", "comment: called vorblatzky")
    assert _hits(root) == {("meds/metadata/codes.parquet", "description", row, "name")}


def test_a_town_named_by_an_ordinary_word_is_found_only_where_it_is_written_as_a_place(root: Root):
    people = pa.table({
        "source_patient": ["t-2"], "birth_time": [None], "death_time": [None], "sex": [None],
        "names": [["Quennet", "Vorblatzky"]], "identifiers": [[]], "telecoms": [[]],
        "addresses": [["9 Harlow Lane", "Reading", "01867"]],
        "source_file": ["landing/tables/odd/people.csv"], "position": [2],
    })  # fmt: skip
    write_parquet(people, root.layout.raw_shard("odd", "patients", 0) / "part-0.parquet", RAW_PATIENTS_SCHEMA)
    _describe(root, "LOINC//2345-7", "BP reading repeated, reading glasses")  # the word, not the town
    assert _hits(root) == set()
    for text in ("moved here from Reading, MA", "FROM READING MA 01867", "lives in Reading 01867"):
        row = _describe(root, "LOINC//2345-7", text)
        assert _hits(root) == {("meds/metadata/codes.parquet", "description", row, "address")}, text


def test_a_source_key_of_a_few_digits_is_not_searched_but_a_delivered_identifier_is(root: Root):
    # OMOP-style person_id 5640 is a row number (every count or code of that size would match); an MRN is not
    people = pa.table({
        "source_patient": ["5640", "73310558"], "birth_time": [None, None], "death_time": [None, None],
        "sex": [None, None], "names": [[], []], "identifiers": [["4471"], []], "telecoms": [[], []],
        "addresses": [[], []], "source_file": ["landing/tables/odd/person.csv"] * 2, "position": [2, 3],
    })  # fmt: skip
    write_parquet(people, root.layout.raw_shard("odd", "patients", 0) / "part-0.parquet", RAW_PATIENTS_SCHEMA)
    _describe(root, "LOINC//2345-7", "RXNORM//5640, 5640 rows")
    assert _hits(root) == set()
    for text in ("key 73310558", "MRN 4471"):
        row = _describe(root, "LOINC//2345-7", text)
        assert _hits(root) == {("meds/metadata/codes.parquet", "description", row, "identifier")}, text

"""A hostile root for the issue 15/16 audit (bench/results/hostile-26.md): `build ROOT`, then `check ROOT`."""

# build: odd but legal and broken FHIR, tables, notes and DICOM in ROOT/landing, a marker in PHI fields.
# check (after `longitude materialize --root ROOT`, output in ROOT.out/ROOT.err): quarantine rows, unbalanced
# ledgers, MEDS rows per code family, and every file outside the PHI zones (Dagster instance included) or run
# output that holds the marker.

import base64
import json
import sys
from pathlib import Path

import polars as pl

from tests.dicom.conftest import make_instance
from tests.fhir_fixtures import encounter, lab, patient

M = "Qzxvorblat"  # the PHI marker
NULL_MARKERS = ("NA", "NULL", "\\N", "N/A", "#N/A")  # default null_values: events kept with no number


def build(root: Path) -> None:
    fh = root / "landing" / "fhir"
    fh.mkdir(parents=True)
    n = 24
    pats = []
    for i in range(n):
        p = patient(
            f"p{i}",
            birth=["1950", "1961-07", "1970-02-03", "1980-05-06"][i % 4],
            gender=["female", "male", "unknown", "other"][i % 4],
        )
        p["name"] = [{"family": f"{M}{i}", "given": ["Zoë"]}]
        p["address"] = [{"line": [f"{i} {M} Road"], "city": "Ñowhere", "postalCode": "02139"}]
        pats.append(p)
    # Patient.ndjson: BOM + CRLF
    (fh / "Patient.ndjson").write_bytes(
        b"\xef\xbb\xbf" + "".join(json.dumps(p, ensure_ascii=False) + "\r\n" for p in pats[:16]).encode()
    )
    obs = []
    for i in range(16):
        o = lab(
            f"o{i}",
            f"p{i}",
            ["2019-03", "2019", "2016-12-31T23:59:60Z", "2020-06-01T10:00:00.1234567891+05:30"][i % 4],
            ref="Patient/",
        )
        if i % 3 == 0:
            del o["valueQuantity"]["unit"]
            del o["valueQuantity"]["code"]
            del o["valueQuantity"]["system"]
        if i % 5 == 0:
            del o["effectiveDateTime"]
            o["effectivePeriod"] = {"start": "2021-02-03T04:05:06-08:00", "end": "2021-02-03T05:00:00-08:00"}
        o["extension"] = [{"url": "http://example.org/x", "valueString": "y"}]
        obs.append(o)
    lines = [json.dumps(o) for o in obs]
    lines.insert(
        3, '{"resourceType": "Observation", "id": "bad1", "subject": {"reference": "Patient/' + M + '"'
    )  # truncated
    lines.insert(
        6, json.dumps({**lab("bad2", "p1", "2020-01-01T00:00:00Z"), "valueQuantity": {"value": 1e308, "unit": M}})
    )
    (fh / "Observation.ndjson").write_text("\n".join(lines) + "\n")
    # bundle with BOM and transaction semantics: fullUrl-only ids for the last 8 patients
    ent = []
    for i in range(16, n):
        p = {k: v for k, v in pats[i].items() if k != "id"}
        ent.append(
            {
                "fullUrl": f"urn:uuid:0000aaaa-0000-4000-8000-{i:012d}",
                "resource": p,
                "request": {"method": "POST", "url": "Patient"},
            }
        )
        e = encounter(f"e{i}", "x", "2018-07-04T09:00:00+02:00", "2018-07-04T12:00:00+02:00")
        del e["id"]
        e["subject"] = {"reference": f"urn:uuid:0000aaaa-0000-4000-8000-{i:012d}"}
        ent.append(
            {"fullUrl": f"urn:uuid:eeee{i}", "resource": e, "request": {"method": "POST", "url": "Encounter"}}
        )
    (fh / "txn.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": ent}).encode()
    )
    (fh / "empty.json").write_bytes(b"")
    (fh / "empty.ndjson").write_bytes(b"")
    (fh / "cut.json").write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": pats[0]}]})[:-20]
    )
    # tables: semicolons, cp1252, quoted newline, extra columns, empty vs null, comma decimals
    t = root / "landing" / "tables" / "odd"
    t.mkdir(parents=True)
    (t / "mapping.yaml").write_text("""source: odd
default_timezone: Europe/Berlin
tables:
  people: {file: people.csv, separator: ";"}
  vitals: {file: "vitals*.csv", separator: ";"}
subjects:
  table: people
  key: pid
  birth: dob
  names: [name]
  addresses: [street]
events:
  - table: vitals
    subject: pid
    code: "VITAL//{kind}"
    time: at
    numeric_value: val
    text_value: comment
""")
    people = "pid;name;street;dob;extra_col\r\n" + "".join(
        f't{i};{M} Müller{i};"{i} Straße\r\nHof";1955-0{1 + i % 9}-1{i % 9};x\r\n' for i in range(12)
    )
    (t / "people.csv").write_bytes(people.encode("cp1252"))
    vit = "pid;kind;at;val;comment\n"
    for i in range(12):
        vit += f't{i};HR;2020-03-29 02:30:00;{60 + i};"multi\nline; ok"\n'  # DST gap in Berlin -> UNPARSEABLE_DATE
        vit += f"t{i};TEMP;2020-05-0{1 + i % 9} 08:00:00;{36 + i % 3},{i % 10};\n"  # comma decimal
        vit += f't{i};SPO2;2020-05-0{1 + i % 9}T08:00:00+02:00;{95};""\n'
    vit += f"t1;HR;2020-05-01 08:00:00;72;{M};extra\n"  # ragged
    (t / "vitals_a.csv").write_text(vit)
    (t / "vitals_b.csv").write_text(
        "pid;kind;at;val\n" + "".join(f"t{i};RR;2020-06-01 08:00;{12 + i}\n" for i in range(12))
    )  # missing column
    # notes
    n = root / "landing" / "notes"
    n.mkdir(parents=True)
    for i, (enc, body) in enumerate(
        [
            ("utf-16", f"Patient {M}0 seen today. Stable.\r\n"),
            ("cp1252", "Temp 37°C – stable. Pt called “fine”.\n"),
            ("utf-8", ""),
            ("utf-8-sig", "Ünïcode ✓ note\n"),
        ]
    ):
        (n / f"n{i}.txt").write_bytes(body.encode(enc))
        (n / f"n{i}.json").write_text(
            json.dumps({"subject": f"p{i}", "time": "2020-01-02T10:00:00+01:00", "type": "11506-3"})
        )
    # dicom: odd VRs, missing tags, private tags
    d = root / "landing" / "dicom"
    d.mkdir(parents=True)
    ds = make_instance(patient_id="p2", patient_name=f"{M}^Dicom", sop_uid="1.2.826.0.1.3680043.9.7.1.2.101")
    ds.add_new(0x00091010, "LO", f"{M} private")
    ds.add_new(0x00091011, "UN", M.encode() + b"\x00")
    ds.save_as(d / "a.dcm", enforce_file_format=True)
    ds = make_instance(patient_id="p3", sop_uid="1.2.826.0.1.3680043.9.7.1.2.102", study_date="")
    del ds.StudyTime
    del ds.SeriesDate
    del ds.Modality
    ds.save_as(d / "b.dcm", enforce_file_format=True)
    ds = make_instance(patient_id="p4", sop_uid="1.2.826.0.1.3680043.9.7.1.2.103")
    ds.PatientBirthDate = "1961"
    ds.StudyDate = "2021"
    ds.PatientAge = "5M"
    ds.save_as(d / "c.dcm", enforce_file_format=True)
    ds = make_instance(patient_id="p5", sop_uid="1.2.826.0.1.3680043.9.7.1.2.104")
    del ds.PatientID
    ds.save_as(d / "d.dcm", enforce_file_format=True)
    # --- round 2 additions
    (t / "labs16.csv").write_bytes(
        (
            "pid;kind;at;val;comment\r\n"
            + "".join(f"t{i};GLU;2020-07-01 08:00:00;{5 + i / 10};ok\r\n" for i in range(12))
        ).encode("utf-16")
    )
    (t / "vitals_c.csv").write_bytes(b"")  # empty file in the glob
    (t / "vitals_d.csv").write_text("pid;kind;at;val;comment\n")  # header only
    (t / "vitals_e.csv").write_text(
        "pid;kind;at;val;comment\n"
        + "".join(f't{i};WT;2020-08-01 08:00:00;"{70 + i}";\n' for i in range(12))
        + "t1;WT;;71;\nt1;;2020-08-01 09:00:00;71;\n;WT;2020-08-01 09:00:00;71;\n"
    )
    mp = (
        (t / "mapping.yaml")
        .read_text()
        .replace(
            '  vitals: {file: "vitals*.csv", separator: ";"}',
            '  vitals: {file: "vitals*.csv", separator: ";"}\n  labs: {file: labs16.csv, separator: ";"}',
        )
    )
    mp += """  - table: labs
    subject: pid
    code: "LAB//{kind}"
    time: at
    numeric_value: val
"""
    (t / "mapping.yaml").write_text(mp)
    # --- session 27: null markers in a numeric column; a header repeating a name a rule reads (AMBIGUOUS_COLUMN)
    (t / "vitals_f.csv").write_text(
        "pid;kind;at;val;comment\n"
        + "".join(f"t{i};GLUC;2020-09-0{1 + i % 9} 08:00:00;{v};\n" for i, v in enumerate(NULL_MARKERS))
        + "t1;GLUC;2020-09-01 09:00:00;12..5;\nt2;GLUC;2020-09-01 09:00:00;high;\n"
    )
    (t / "vitals_g.csv").write_text(f"pid;kind;at;val;comment;comment\nt1;BP;2020-10-01 08:00:00;120;{M};{M}\n")
    # notes: sidecar with a BOM, partial time, a dated note with odd unicode
    (n / "n4.txt").write_text("Follow up in 2 weeks.\n")
    (n / "n4.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"subject": "p4", "time": "2020-03"}).encode())
    (n / "n5.txt").write_bytes("Line one\r\nLine two \u2028 end\x0c\n".encode())
    (n / "n5.json").write_text(json.dumps({"subject": "p5", "time": "2020-03-04T05:06:07.123456789123Z"}))
    # fhir: duplicate resource in two files; blank lines; component-only obs; DocumentReference utf-16 body
    dup = lab("dupo", "p2", "2020-02-02T02:02:02Z", ref="Patient/")
    (fh / "again.ndjson").write_text("\n\n" + json.dumps(dup) + "\n   \n")
    (fh / "Observation2.ndjson").write_text(
        json.dumps(dup)
        + "\n"
        + json.dumps(
            {
                "resourceType": "Observation",
                "id": "bp1",
                "status": "final",
                "subject": {"reference": "Patient/p6"},
                "effectiveDateTime": "2020-02-02T02:02:02+14:00",
                "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                "component": [
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                        "valueQuantity": {"value": 120},
                    },
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                        "valueQuantity": {"value": 80, "unit": "mm[Hg]"},
                    },
                ],
            }
        )
        + "\n"
        + json.dumps(
            {
                "resourceType": "DocumentReference",
                "id": "d1",
                "status": "current",
                "subject": {"reference": "Patient/p7"},
                "date": "2020-02-03T10:00:00Z",
                "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain",
                            "data": base64.b64encode("Seen today, well.".encode("utf-16")).decode(),
                        }
                    }
                ],
            }
        )
        + "\n"
    )

    # --- round 3: UTF-16 without BOM table
    (t / "labs_wide.csv").write_bytes(
        (
            "pid;kind;at;val;comment\r\n"
            + "".join(f"t{i};NA;2020-07-02 08:00:00;{135 + i};\r\n" for i in range(12))
        ).encode("utf-16-le")
    )
    mp = (
        (t / "mapping.yaml")
        .read_text()
        .replace('  labs: {file: labs16.csv, separator: ";"}', '  labs: {file: "labs*.csv", separator: ";"}')
    )
    (t / "mapping.yaml").write_text(mp)
    # --- round 4: extreme but finite values, odd codes, long texts
    ext = []
    for i in range(16):
        o = lab(f"x{i}", f"p{i}", f"2020-09-0{1 + i % 9}T08:00:00Z", code="XTREME-1", ref="Patient/")
        o["valueQuantity"] = {"value": [3.0e38, -3.0e38, 1e-45, -0.0][i % 4], "unit": "1"}
        ext.append(o)
        o2 = lab(f"y{i}", f"p{i}", f"2020-09-0{1 + i % 9}T09:00:00Z", ref="Patient/")
        o2["code"] = {
            "coding": [
                {
                    "system": "http://example.org/codes ü",
                    "code": "Ĉ ode/with//slashes " + "z" * (5000 if i == 0 else 1),
                    "display": "x" * 100000,
                }
            ]
        }
        o2["valueString"] = "long text " * (20000 if i == 1 else 1)
        del o2["valueQuantity"]
        ext.append(o2)
    (fh / "Extreme.ndjson").write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in ext))
    _round5(fh)


# Round 5 (session 27, bench/results/fhiredge-27.md): LOINC codes of the records planted, with the number of
# MEDS events each must give (a code absent from MEDS: 0).
ROUND5 = {"LOINC//5555-1": 8, "LOINC//5555-2": 3, "LOINC//5555-3": 0, "LOINC//5555-4": 1}


def _round5(fh: Path) -> None:
    """UTF-16 (with a mark) and UTF-32 (without) NDJSON; subjects by identifier and by contained Patient,
    resolvable or not (the marker in an identifier no Patient carries); one Observation for two patients."""
    wide = [lab(f"w{i}", f"p{i}", "2020-10-01T08:00:00Z", code="5555-1", ref="Patient/") for i in range(8)]
    (fh / "Wide16.ndjson").write_bytes("".join(json.dumps(o) + "\r\n" for o in wide[:4]).encode("utf-16"))
    (fh / "Wide32.ndjson").write_bytes("".join(json.dumps(o) + "\n" for o in wide[4:]).encode("utf-32-le"))

    def by(oid: str, subject: dict, **extra) -> dict:
        return {**lab(oid, "x", "2020-10-02T08:00:00Z", code="5555-2"), "subject": subject, **extra}

    mrn = {"system": "urn:oid:1.2.3", "value": "MRN-p3"}  # tests.fhir_fixtures.patient's identifier
    refs = [
        by("s1", {"identifier": mrn}),  # resolves to p3
        by("s2", {"reference": "#c"}, contained=[{"resourceType": "Patient", "id": "c", "identifier": [mrn]}]),
        by("s3", {"identifier": {"system": "urn:oid:1.2.3", "value": "MRN-p17"}}),  # p17 is in the Bundle
        by("s4", {"identifier": {"system": "urn:oid:1.2.3", "value": f"{M}-nobody"}}),  # UNRESOLVED_SUBJECT
        # A contained Patient with no identifier (the marker in its name): UNRESOLVED_SUBJECT.
        by(
            "s5",
            {"reference": "#anon"},
            contained=[{"resourceType": "Patient", "id": "anon", "name": [{"family": M}]}],
        ),
    ]
    (fh / "BySubject.ndjson").write_text("".join(json.dumps(o) + "\n" for o in refs))
    # One Observation id for p1 and for p2 (a mis-keyed export): every copy CONFLICTING_RESOURCE; a plain copy
    # of another (same patient) keeps its first.
    two = [lab("twice-a", "p1", "2020-10-03T08:00:00Z", code="5555-3", ref="Patient/"),
           lab("once-b", "p5", "2020-10-03T08:00:00Z", code="5555-4", ref="Patient/")]  # fmt: skip
    other = [{**two[0], "subject": {"reference": "Patient/p2"}}, two[1]]
    (fh / "Twice.a.ndjson").write_text("".join(json.dumps(o) + "\n" for o in two))
    (fh / "Twice.b.ndjson").write_text("".join(json.dumps(o) + "\n" for o in other))


def check(root: Path) -> None:
    leaks = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or rel.parts[0] in ("landing", "raw", "chunks") or ".raw.versions" in str(rel):
            continue
        if p.suffix == ".parquet":
            df = pl.read_parquet(p)
            if "quarantine" in str(rel):
                df = df.drop("record", strict=False)
            text = df.write_ndjson()
        else:
            text = p.read_bytes().decode("utf-8", "replace")
        if M in text or M.lower() in text.lower():
            leaks.append(str(rel))
    for f in (Path(str(root) + ".out"), Path(str(root) + ".err")):
        if f.exists() and M in f.read_text(errors="replace"):
            leaks.append(f.name)
        if f.exists() and "Traceback" in f.read_text(errors="replace"):
            print("TRACEBACK in", f)
    print("LEAKS:", leaks)
    qs = [pl.read_parquet(p) for p in root.glob("quarantine/**/*.parquet")]
    if qs:
        q = pl.concat(qs, how="diagonal_relaxed").drop("record")
        with pl.Config(tbl_rows=100, fmt_str_lengths=120, tbl_width_chars=250):
            print(
                q.select(
                    [c for c in ("asset", "source_file", "position", "reason_code", "reason") if c in q.columns]
                ).sort("asset", "source_file", "position")
            )
    for lp in sorted(root.glob("quality/ledger/**/*.parquet")):
        ledger = pl.read_parquet(lp)
        bad = ledger.filter(pl.col("n_in") != pl.col("n_out") + pl.col("n_quarantined"))
        print("ledger", lp.name, "rows", ledger.height, "unbalanced", bad.height)
    files = sorted(root.glob("meds/data/*/*.parquet"))
    meds = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    print("MEDS rows", meds.height, "subjects", meds["subject_id"].n_unique())
    with pl.Config(tbl_rows=100):
        print(
            meds.with_columns(pl.col("code").str.split("//").list.first().alias("fam"))
            .group_by("fam")
            .agg(pl.len(), pl.col("subject_id").n_unique().alias("subj"))
            .sort("fam")
        )
        print(meds.filter(pl.col("code").str.starts_with("LOINC")).group_by("code").len())
    found = dict(meds.group_by("code").len().iter_rows())
    for code, want in ROUND5.items():
        got = found.get(code, 0)
        print("round 5", code, "MEDS events", got, "planted", want, "OK" if got == want else "MISMATCH")
    tok = sorted(root.glob("tokens/**/*.parquet"))
    print("token files", len(tok))
    _check_csv_edges(root)


def _check_csv_edges(root: Path) -> None:
    """Session 27: every landed table file has a ledger row; empty and ambiguous files quarantined whole; null
    markers keep their events; garbage values stay INVALID_VALUE."""
    labels = pl.read_parquet(root / "raw" / "_file_labels" / "tables_raw.parquet")
    ledger = pl.read_parquet(root / "quality" / "ledger" / "tables_raw.parquet").join(
        labels, left_on="source_file", right_on="label"
    )
    landed = {str(p.relative_to(root)) for p in (root / "landing" / "tables" / "odd").glob("*.csv")}
    missing = sorted(landed - set(ledger["source_file_right"]))
    print("tables files without a ledger row:", missing)
    q = pl.read_parquet(root / "quarantine" / "tables_raw" / "odd.parquet")
    whole = q.filter(pl.col("position") == 0).select(
        pl.col("source_file").str.split("/").list.last(), "reason_code"
    )
    print("whole-file quarantine:", sorted(whole.rows()))
    bad = q.filter(pl.col("source_file").str.ends_with("vitals_f.csv")).select("position", "reason_code").rows()
    print("vitals_f quarantine (want 2 INVALID_VALUE):", bad)
    raw = pl.read_parquet(sorted(root.glob("raw/tables/odd/events/*/*.parquet")), hive_partitioning=False)
    kept = raw.filter(pl.col("code") == "VITAL//GLUC")
    print(f"null-marker events kept: {kept['numeric_value'].null_count()} of {len(NULL_MARKERS)}")
    assert not missing and kept.height == len(NULL_MARKERS) and len(bad) == 2
    assert {("vitals_c.csv", "EMPTY_FILE"), ("vitals_g.csv", "AMBIGUOUS_COLUMN")} <= set(whole.rows())
    print("features", len(list(root.glob("features/**/*.parquet"))))


if __name__ == "__main__":
    {"build": build, "check": check}[sys.argv[1]](Path(sys.argv[2]))

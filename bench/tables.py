"""Throughput and peak memory of mapped tables: a generated MIMIC-style extract with the walkthrough mapping
(computed columns, 120/80 splitting, unpivot, expressions, extra columns, dictionaries, a DST zone), and the
shared Synthea CSV + OMOP CDM 5.4 sets with the shipped mappings. Each measurement runs in a child process.

Usage: .venv/bin/python bench/tables.py [--rows 1000000] [--skip-shared] [--baseline DIR] [--quoted]

`--baseline DIR` also runs the shared sets with the code of another checkout (e.g. `git archive <commit>`
unpacked in DIR) in the same run. Both wall time and CPU time (user + system, all threads) are reported: on a
machine shared with other work the wall time mostly measures waiting. `--quoted` also measures the generated
extract with every field quoted (`"..."`, as extracts that quote their text columns write them, here all of
them: the worst case for the reader), with the walkthrough mapping, and against --baseline.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
FIXTURE = REPO / "tests" / "pipelines" / "tables" / "fixtures" / "mimic"
SECRET = b"bench-secret-0123456789"


def generate(dest: Path, rows: int, seed: int = 0) -> int:
    """A MIMIC-style extract of about `rows` table rows (half chartevents), the fixture's mapping beside it."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    (dest / "hosp").mkdir(parents=True)
    (dest / "icu").mkdir()
    n_pat = max(rows // 100, 10)
    n_adm = n_pat * 2
    ids = np.arange(10_000_000, 10_000_000 + n_pat)
    pl.DataFrame(
        {
            "subject_id": ids,
            "gender": rng.choice(["F", "M"], n_pat),
            "anchor_age": rng.integers(18, 91, n_pat),
            "anchor_year": rng.integers(2110, 2190, n_pat),
            "anchor_year_group": "2014 - 2016",
            "dod": None,
        }
    ).write_csv(dest / "hosp" / "patients.csv")
    base = (
        np.datetime64("2150-01-01T00:00:00") + rng.integers(0, 20 * 365 * 86400, n_adm).astype("timedelta64[s]")
    ).astype("datetime64[ms]")
    adm_subject = rng.choice(ids, n_adm)
    pl.DataFrame(
        {
            "subject_id": adm_subject,
            "hadm_id": np.arange(20_000_000, 20_000_000 + n_adm),
            "admittime": base,
            "dischtime": base + rng.integers(3600, 10 * 86400, n_adm).astype("timedelta64[s]"),
            "deathtime": None,
            "admission_type": rng.choice(["EW EMER.", "ELECTIVE", "URGENT", "OBSERVATION ADMIT"], n_adm),
            "admission_location": rng.choice(
                ["EMERGENCY ROOM", "PHYSICIAN REFERRAL", "WALK-IN/SELF REFERRAL"], n_adm
            ),
            "discharge_location": "HOME",
            "insurance": "Other",
            "race": "UNKNOWN",
        }
    ).with_columns(pl.col("admittime", "dischtime").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(
        dest / "hosp" / "admissions.csv"
    )

    def times(n: int) -> np.ndarray:
        t = np.datetime64("2150-01-01T00:00:00") + rng.integers(0, 20 * 365 * 86400, n).astype("timedelta64[s]")
        return np.datetime_as_string(t, unit="s")

    n_chart, n_lab, n_omr, n_wide = rows // 2, rows // 4, rows // 10, rows // 10
    items = np.array([220045, 220277, 220179, 220181, 223761])
    val = rng.normal(80, 15, n_chart).round(1)
    pl.DataFrame(
        {
            "subject_id": rng.choice(ids, n_chart),
            "hadm_id": rng.integers(20_000_000, 20_000_000 + n_adm, n_chart),
            "stay_id": rng.integers(30_000_000, 30_000_000 + n_adm, n_chart),
            "caregiver_id": rng.integers(1, 9000, n_chart),
            "charttime": np.char.replace(times(n_chart), "T", " "),
            "storetime": np.char.replace(times(n_chart), "T", " "),
            "itemid": rng.choice(items, n_chart),
            "value": val.astype(str),
            "valuenum": val,
            "valueuom": rng.choice(["bpm", "%", "mmHg", "°F"], n_chart),
            "warning": 0,
        }
    ).write_csv(dest / "icu" / "chartevents.csv")
    pl.read_csv(FIXTURE / "icu" / "d_items.csv").write_csv(dest / "icu" / "d_items.csv")
    lab_val = rng.lognormal(1, 0.5, n_lab).round(2)
    pl.DataFrame(
        {
            "labevent_id": np.arange(n_lab),
            "subject_id": rng.choice(ids, n_lab),
            "hadm_id": rng.integers(20_000_000, 20_000_000 + n_adm, n_lab),
            "specimen_id": rng.integers(1, 10_000_000, n_lab),
            "itemid": rng.choice([50912, 50971, 51266], n_lab),
            "charttime": np.char.replace(times(n_lab), "T", " "),
            "storetime": np.char.replace(times(n_lab), "T", " "),
            "value": lab_val.astype(str),
            "valuenum": lab_val,
            "valueuom": rng.choice(["mg/dL", "mEq/L"], n_lab),
            "ref_range_lower": 0.5,
            "ref_range_upper": 1.2,
            "flag": None,
            "priority": "STAT",
            "comments": None,
        }
    ).write_csv(dest / "hosp" / "labevents.csv")
    pl.read_csv(FIXTURE / "hosp" / "d_labitems.csv").write_csv(dest / "hosp" / "d_labitems.csv")
    n_dx = rows // 20
    pl.DataFrame(
        {
            "subject_id": adm_subject[rng.integers(0, n_adm, n_dx)],
            "hadm_id": rng.integers(20_000_000, 20_000_000 + n_adm, n_dx),
            "seq_num": rng.integers(1, 10, n_dx),
            "icd_code": rng.choice(["I10", "E119", "4019", "N179"], n_dx),
            "icd_version": rng.choice([9, 10], n_dx),
        }
    ).write_csv(dest / "hosp" / "diagnoses_icd.csv")
    sys_bp, dia_bp = rng.integers(90, 180, n_omr), rng.integers(50, 110, n_omr)
    is_bp = rng.random(n_omr) < 0.6
    pl.DataFrame(
        {
            "subject_id": rng.choice(ids, n_omr),
            "chartdate": np.datetime_as_string(times(n_omr).astype("datetime64[D]")),
            "seq_num": 1,
            "result_name": np.where(is_bp, "Blood Pressure", "Weight (Lbs)"),
            "result_value": np.where(
                is_bp,
                np.char.add(np.char.add(sys_bp.astype(str), "/"), dia_bp.astype(str)),
                (sys_bp * 1.1).astype(str),
            ),
        }
    ).write_csv(dest / "hosp" / "omr.csv")
    pl.DataFrame(
        {
            "subject_id": rng.choice(ids, n_wide),
            "stay_id": rng.integers(30_000_000, 30_000_000 + n_adm, n_wide),
            "charttime": np.char.replace(times(n_wide), "T", " "),
            "heartrate": rng.integers(50, 130, n_wide),
            "respiration": rng.integers(10, 30, n_wide),
            "temperature_c": rng.normal(37, 0.6, n_wide).round(1),
        }
    ).write_csv(dest / "icu" / "vitals_wide.csv")
    shutil.copy(FIXTURE / "mapping.yaml", dest / "mapping.yaml")
    return n_pat + n_adm + n_chart + n_lab + n_omr + n_wide + n_dx


# The same extract with a mapping the language could already express before computed columns (no compute,
# each, unpivot, expressions, extra, vocabulary): the engine's speed on equal work, against --baseline code.
PLAIN = """\
source: mimic-plain
default_timezone: America/New_York
tables:
  patients: {file: hosp/patients.csv}
  admissions: {file: hosp/admissions.csv}
  labevents: {file: hosp/labevents.csv}
  chartevents: {file: icu/chartevents.csv}
  d_items: {file: icu/d_items.csv}
maps:
  sex: {M: male, F: female}
subjects: {table: patients, key: subject_id, death: dod, sex: gender, sex_map: sex}
events:
  - {table: admissions, subject: subject_id, code: "ENCOUNTER//{admission_type}", time: admittime}
  - {table: admissions, name: discharges, subject: subject_id, code: "ENCOUNTER_END//{admission_type}",
     time: dischtime, optional_time: true}
  - {table: labevents, subject: subject_id, code: "LAB//{itemid}//{valueuom}", code_fallback: "LAB//{itemid}",
     time: charttime, numeric_value: valuenum, unit: valueuom}
  - table: chartevents
    subject: subject_id
    joins: [{table: d_items, keys: {itemid: itemid}, prefix: d_}]
    code: "CHART//{itemid}"
    time: charttime
    numeric_value: valuenum
    unit: valueuom
    description: d_label
"""


def _plain(gen: Path, dest: Path) -> None:
    """The generated extract without the tables the plain mapping does not read, with the plain mapping."""
    src = gen / "landing" / "tables" / "mimic"
    out = dest / "landing" / "tables" / "mimic"
    for rel in ("hosp/patients.csv", "hosp/admissions.csv", "hosp/labevents.csv", "icu/chartevents.csv",
                "icu/d_items.csv"):  # fmt: skip
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(src / rel, out / rel)  # a hard link: the reader refuses symlinks that leave the root
    (out / "mapping.yaml").write_text(PLAIN)


def _child(root: str, code: str) -> dict:
    sys.path.insert(0, code)
    from deid.pseudonym import Keyring
    from pipelines.defs.tables.ingest import ingest_tables
    from schemas.layout import Layout

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    summaries = ingest_tables(Layout(Path(root)), Keyring(SECRET), 4)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    rows = sum(s.rows for s in summaries)
    events = sum(s.events for s in summaries)
    return {"rows": rows, "events": events, "seconds": seconds, "cpu": cpu, "peak_mb": after.ru_maxrss / 1024}


def _measure(root: Path, code: Path = REPO) -> dict:
    cmd = [sys.executable, __file__, "--child", str(root), "--code", str(code)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=code)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import polars as pl

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-shared", action="store_true")
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--quoted", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--code", default=str(REPO))
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.code)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        gen = tmp / "gen"
        generate(gen / "landing" / "tables" / "mimic", args.rows)
        results.append((f"MIMIC-style, walkthrough mapping (~{args.rows:,} rows generated)", _measure(gen)))
        if args.quoted:
            quoted = tmp / "quoted"
            shutil.copytree(gen / "landing", quoted / "landing")
            for f in (quoted / "landing").rglob("*.csv"):
                pl.read_csv(f, infer_schema=False).write_csv(f, quote_style="non_numeric")
            results.append(("same extract, every field quoted, walkthrough mapping", _measure(quoted)))
            if args.baseline:
                for out in ("raw", "quality", "quarantine"):
                    shutil.rmtree(quoted / out, ignore_errors=True)
                base = _measure(quoted, args.baseline.resolve())
                results.append((f"same quoted extract, baseline code ({args.baseline.name})", base))
        _plain(gen, tmp / "plain")
        results.append(("same extract's plain tables, plain mapping", _measure(tmp / "plain")))
        if args.baseline:
            for out in ("raw", "quality", "quarantine"):
                shutil.rmtree(tmp / "plain" / out, ignore_errors=True)
            base = _measure(tmp / "plain", args.baseline.resolve())
            results.append((f"same, baseline code ({args.baseline.name})", base))
        if not args.skip_shared and (SHARED / "omop-synthea27").exists():
            shared = tmp / "shared" / "landing" / "tables"
            (shared / "synthea").mkdir(parents=True)
            for f in (SHARED / "synthea-csv" / "csv").iterdir():
                shutil.copy(f, shared / "synthea" / f.name)
            (shared / "synthea" / "longitude-source.yaml").write_text("mapping: synthea-csv\n")
            with zipfile.ZipFile(SHARED / "omop-synthea27" / "Synthea27Nj_5.4.zip") as z:
                z.extractall(shared / "omop", [n for n in z.namelist() if not n.startswith("__MACOSX")])
            (shared / "omop" / "longitude-source.yaml").write_text("mapping: omop-cdm54\n")
            results.append(("Synthea CSV + OMOP CDM 5.4 (shared), shipped mappings", _measure(tmp / "shared")))
            if args.baseline:
                for out in ("raw", "quality", "quarantine"):
                    shutil.rmtree(tmp / "shared" / out, ignore_errors=True)
                base = _measure(tmp / "shared", args.baseline.resolve())
                results.append((f"same sets, baseline code ({args.baseline.name})", base))
    head = "| tables | rows | events | wall s | rows/s (wall) | CPU s | rows per CPU-s | peak MB |"
    print(head + "\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results:
        wall, cpu = r["rows"] / r["seconds"], r["rows"] / r["cpu"]
        print(f"| {name} | {r['rows']:,} | {r['events']:,} | {r['seconds']:.2f} | {wall:,.0f} | {r['cpu']:.2f} | "
              f"{cpu:,.0f} | {r['peak_mb']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()

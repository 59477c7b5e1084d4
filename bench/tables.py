"""Throughput and peak memory of mapped tables: a generated MIMIC-style extract with the walkthrough mapping
(computed columns, 120/80 splitting, unpivot, expressions, extra columns, dictionaries, a DST zone), and the
shared Synthea CSV + OMOP CDM 5.4 sets with the shipped mappings. Each measurement runs in a child process.

Usage: .venv/bin/python bench/tables.py [--rows 1000000] [--skip-shared]
"""

import argparse
import json
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
    return n_pat + n_adm + n_chart + n_lab + n_omr + n_wide


def _child(root: str) -> dict:
    sys.path.insert(0, str(REPO))
    from deid.pseudonym import Keyring
    from pipelines.defs.tables.ingest import ingest_tables
    from schemas.layout import Layout

    started = time.perf_counter()
    summaries = ingest_tables(Layout(Path(root)), Keyring(SECRET), 4)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = sum(s.rows for s in summaries)
    return {"rows": rows, "events": sum(s.events for s in summaries), "seconds": seconds, "peak_mb": peak / 1024}


def _measure(root: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(root)], capture_output=True, text=True,
                         check=True, cwd=REPO)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-shared", action="store_true")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        gen = tmp / "gen"
        generate(gen / "landing" / "tables" / "mimic", args.rows)
        results.append((f"MIMIC-style, walkthrough mapping (~{args.rows:,} rows generated)", _measure(gen)))
        if not args.skip_shared and (SHARED / "omop-synthea27").exists():
            shared = tmp / "shared" / "landing" / "tables"
            (shared / "synthea").mkdir(parents=True)
            for f in (SHARED / "synthea-csv" / "csv").iterdir():
                (shared / "synthea" / f.name).symlink_to(f)
            (shared / "synthea" / "longitude-source.yaml").write_text("mapping: synthea-csv\n")
            with zipfile.ZipFile(SHARED / "omop-synthea27" / "Synthea27Nj_5.4.zip") as z:
                z.extractall(shared / "omop", [n for n in z.namelist() if not n.startswith("__MACOSX")])
            (shared / "omop" / "longitude-source.yaml").write_text("mapping: omop-cdm54\n")
            results.append(("Synthea CSV + OMOP CDM 5.4 (shared), shipped mappings", _measure(tmp / "shared")))
    print("| tables | rows | events | seconds | rows/s | peak MB |\n|---|---:|---:|---:|---:|---:|")
    for name, r in results:
        rate = r["rows"] / r["seconds"]
        print(
            f"| {name} | {r['rows']:,} | {r['events']:,} | {r['seconds']:.2f} | {rate:,.0f} | {r['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()

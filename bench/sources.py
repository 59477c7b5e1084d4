"""Throughput of the non-FHIR sources: mapped tables (rows/s), note files (files/s), note de-identification
(notes/s), each with its peak memory, measured in child processes of one run.

Usage: .venv/bin/python bench/sources.py [--patients 200]
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
SECRET = b"bench-secret-0123456789"


def _child(kind: str, root: str) -> dict:
    """Runs inside a child process: one measurement, printed as JSON."""
    sys.path.insert(0, str(REPO))
    from deid.pseudonym import Keyring
    from schemas.layout import Layout

    layout, keys = Layout(Path(root)), Keyring(SECRET)
    started = time.perf_counter()
    if kind == "tables":
        from pipelines.defs.tables.ingest import ingest_tables

        summaries = ingest_tables(layout, keys, 4)
        n, unit = sum(s.rows for s in summaries), "rows"
    elif kind == "note_files":
        from pipelines.defs.notes.files import ingest_note_files

        n, unit = ingest_note_files(layout, keys, 4)["files"], "files"
    else:
        from pipelines.defs.fhir.ingest import ingest_fhir
        from pipelines.defs.notes.deidentify import deidentify_shard

        ingest_fhir(layout, keys, 4)
        started = time.perf_counter()  # de-identification only
        n = sum(deidentify_shard(layout, keys, k, (0.8, 0.1, 0.1), n_process=2)["notes"] for k in range(4))
        unit = "notes"
    seconds = time.perf_counter() - started
    peak = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return {"n": n, "unit": unit, "seconds": seconds, "peak_mb": peak / 1024}


def _measure(kind: str, root: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(root)], capture_output=True, text=True,
                         check=True, cwd=REPO)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--child", nargs=2)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tables = tmp / "tables" / "landing" / "tables"
        (tables / "synthea").mkdir(parents=True)
        for f in (SHARED / "synthea-csv" / "csv").iterdir():
            shutil.copy(f, tables / "synthea" / f.name)  # the reader refuses symlinks that leave the root
        (tables / "synthea" / "longitude-source.yaml").write_text("mapping: synthea-csv\n")
        with zipfile.ZipFile(SHARED / "omop-synthea27" / "Synthea27Nj_5.4.zip") as z:
            z.extractall(tables / "omop", [n for n in z.namelist() if not n.startswith("__MACOSX")])
        (tables / "omop" / "longitude-source.yaml").write_text("mapping: omop-cdm54\n")
        rows.append(("tables: Synthea CSV + OMOP CDM 5.4 (shared)", _measure("tables", tmp / "tables")))

        sys.path.insert(0, str(REPO))
        from synthetic import generate_landing

        gen = tmp / "gen"
        generate_landing(gen / "landing", args.patients, 0)
        rows.append(
            (f"note files: .txt + sidecar ({args.patients} generated patients)", _measure("note_files", gen))
        )

        bulk = tmp / "bulk"
        (bulk / "landing").mkdir(parents=True)
        (bulk / "landing" / "fhir").symlink_to(SHARED / "synthea-fhir-bulk-ndjson" / "ndjson")
        rows.append(("note de-identification: 1,215 bulk-NDJSON notes (shared)", _measure("deid", bulk)))
    print("| source | records | seconds | records/s | peak MB |\n|---|---:|---:|---:|---:|")
    for name, r in rows:
        rate = r["n"] / r["seconds"]
        print(f"| {name} | {r['n']} {r['unit']} | {r['seconds']:.2f} | {rate:.0f} | {r['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()

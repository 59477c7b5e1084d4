"""Validation vs ingest on the shared Synthea FHIR R4 data, in one run (issue 8's target: validate < ingest / 4).

    .venv/bin/python bench/quality.py [--workers N] [--repeat R] [--screenshot PNG]

Ingest = FHIR bundles -> raw shards (fhir_raw) -> MEDS shards + codes + splits (meds_data), called directly.
Validate = every polars-engine suite over the whole root (schemas of every table, MEDS plausibility, split and
shard exclusivity, ledger balance, code coverage) — what the Dagster checks run. Reported beside it: the PHI
audit, Great Expectations on the same suites (with Data Docs), and the whole `longitude quality` run.
With --screenshot, headless Chromium (no network) photographs the finished site.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deid.pseudonym import Keyring
from schemas.layout import Layout

BUNDLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "synthea-fhir-r4" / "bundles"
SECRET = b"bench-quality-secret-0123456789"
SHARDS = 4


def ingest(layout: Layout, keyring: Keyring, workers: int) -> float:
    from pipelines.defs.fhir.ingest import ingest_fhir
    from pipelines.defs.meds.build import build_shard
    from pipelines.defs.meds.metadata import write_codes, write_dataset_metadata, write_subject_splits

    t = time.perf_counter()
    ingest_fhir(layout, keyring, SHARDS, workers=workers)
    for shard in range(SHARDS):
        build_shard(layout, keyring, shard, (0.8, 0.1, 0.1))
    write_codes(layout)
    write_subject_splits(layout)
    write_dataset_metadata(layout)
    return time.perf_counter() - t


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--screenshot", type=Path, default=None)
    args = ap.parse_args()
    if not BUNDLES.is_dir():
        sys.exit(f"shared data not found at {BUNDLES}")
    from quality.phi_audit import audit
    from quality.report import run_quality
    from quality.validate import plan, validate, validate_gx

    tmp = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    rows: dict[str, list[float]] = {"ingest": [], "validate": [], "phi_audit": []}
    keyring = Keyring(SECRET)
    for i in range(args.repeat):
        root = tmp / f"r{i}"
        (root / "landing").mkdir(parents=True)
        (root / "landing" / "fhir").symlink_to(BUNDLES)
        rows["ingest"].append(ingest(Layout(root), keyring, args.workers))
        seconds, outcomes = timed(lambda root=root: validate(root))
        rows["validate"].append(seconds)
        rows["phi_audit"].append(timed(lambda root=root: audit(root, keyring))[0])
    gx_seconds, gx_out = timed(lambda: validate_gx(plan(root), tmp / "gx-docs"))
    full_seconds, report = timed(lambda: run_quality(root, keyring=keyring, gx=True))
    med = {k: statistics.median(v) for k, v in rows.items()}
    import polars as pl

    events = pl.scan_parquet(str(root / "meds" / "data" / "*" / "*.parquet")).select(pl.len()).collect().item()
    print(f"MEDS rows: {events:,}; expectation results: {len(outcomes)}; repeats: {args.repeat}")
    print(f"ingest (fhir_raw + meds_data), median:   {med['ingest']:7.2f} s   {rows['ingest']}")
    for key, label in (
        ("validate", "validate (polars engine, all suites):    "),
        ("phi_audit", "PHI audit (whole root outside PHI zones):"),
    ):
        print(f"{label} {med[key]:7.2f} s   ratio {med[key] / med['ingest']:.3f}")
    both = med["validate"] + med["phi_audit"]
    print(f"validate + PHI audit:                     {both:7.2f} s   ratio {both / med['ingest']:.3f}")
    print(
        f"Great Expectations, same suites + Data Docs (1 run, incl. import): {gx_seconds:.2f} s "
        f"({len(gx_out)} results)"
    )
    print(f"longitude quality, whole (1 run): {full_seconds:.2f} s  {report.timings}")
    print(
        f"blocking failures: {len(report.blocking)}; open warnings: {len(report.warnings)}; "
        f"PHI findings: {report.audit.findings.height}"
    )
    for r in report.audit.by_table()[:8]:
        print(f"  PHI {r['path']} {r['field']} {r['kind']}: {r['n']}")
    if args.screenshot:
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if browser:
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    f"--user-data-dir={tmp / 'chromium'}",
                    "--host-resolver-rules=MAP * ~NOTFOUND",
                    "--window-size=1300,2200",
                    f"--screenshot={args.screenshot.resolve()}",
                    (root / "quality" / "site" / "index.html").as_uri(),
                ],
                capture_output=True,
                timeout=120,
            )
            print(f"screenshot: {args.screenshot} ({args.screenshot.stat().st_size} bytes)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark `longitude generate`: N synthetic patients (default 1,000) into a temporary landing tree.

Reports wall and CPU time, output files and bytes, resources per second, and two peers measured in the same
run: the same generation on one worker (the parallel speed-up), and copying the finished tree with
shutil.copytree (a floor for writing that many files to this disk).

    .venv/bin/python bench/generate.py --patients 1000 --seed 0
"""

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from synthetic import generate_landing


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _run(out: Path, patients: int, seed: int, workers: int | None) -> tuple[float, float, dict]:
    wall, cpu = time.perf_counter(), _cpu()
    summary = generate_landing(out, patients, seed, workers=workers)
    return time.perf_counter() - wall, _cpu() - cpu, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wall, cpu, s = _run(root / "parallel", args.patients, args.seed, None)
        wall1, cpu1, s1 = _run(root / "serial", args.patients, args.seed, 1)
        assert s == s1, "output must not depend on the worker count"
        t = time.perf_counter()
        shutil.copytree(root / "parallel", root / "copy")
        copy = time.perf_counter() - t
    resources = sum(s["resources"].values())
    print(f"| patients | {args.patients} (seed {args.seed}) |")
    print("|---|---|")
    print(f"| wall, default workers | {wall:.1f} s ({cpu:.1f} s CPU) |")
    print(f"| wall, 1 worker (peer) | {wall1:.1f} s ({cpu1:.1f} s CPU): speed-up x{wall1 / wall:.2f} |")
    print(
        f"| copytree of the output (peer: file-writing floor) | {copy:.1f} s: generation is x{wall / copy:.1f} |"
    )
    print(f"| resources | {resources:,} ({resources / wall:,.0f}/s) |")
    for rtype, n in s["resources"].items():
        print(f"| {rtype} | {n:,} |")
    d, n = s["delivery"], s["notes"]
    print(f"| bundles / gzipped / NDJSON patients | {d['bundle']} / {d['bundle_gz']} / {d['ndjson']} |")
    print(f"| notes: FHIR / txt (not UTF-8) | {n['fhir']} / {n['txt']} ({n['txt_not_utf8']}) |")
    print(f"| imaging studies / DICOM files | {s['imaging_studies']} / {s['dicom_files']} |")
    print(f"| files / bytes | {s['files']:,} / {s['bytes'] / 1e6:.0f} MB |")


if __name__ == "__main__":
    main()

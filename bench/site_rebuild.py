"""What the stewards' site costs to rebuild after a partial run and after a review, each in a fresh process.

Usage: PYTHONPATH=CODE python bench/site_rebuild.py --root ROOT [--repeat 3] [--cold]

ROOT: a built root whose site shows a failing check (a demo with a planted implausible value); it is changed
(reviews appended, the site rewritten): give a copy. CODE: the checkout whose code is measured (the children
import it), so one script times main and a branch on copies of one root. `--cold` first removes the site's
picture cache (quality/site_cache), so the first rebuild draws everything.

Each step runs in its own process, as a command would, and reports that process's CPU (`time.process_time`:
every thread, vl-convert's included) split into imports and the call, and the call's wall time:
* rebuild: pipelines.site_refresh.rebuild_site, what a partial run, a UI run or `longitude quality` pays;
* review: quality.review.record of a comment, an accept and a revoke of the failing warning, then
  pipelines.site_refresh.after_review (page rewritten, review recorded in the root's Dagster instance), as
  `longitude quality accept|comment|revoke` does.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
from pathlib import Path
cpu0, wall0 = time.process_time(), time.perf_counter()
from pipelines import site_refresh
assert sys.argv[4] in site_refresh.__file__, site_refresh.__file__
from pipelines.instance import root_instance
from quality import review
from quality.report import load_report, review_targets
from schemas.layout import Layout
root, step, target = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
cpu1, wall1 = time.process_time(), time.perf_counter()
if step == "rebuild":
    instance = root_instance(Layout(root))
    try:
        site_refresh.rebuild_site(root, instance, "bench")
    finally:
        instance.dispose()
else:
    entry = review.record(root / "quality", target, step, "bench: a note", "bench",
                          **review_targets(load_report(root)))
    cpu_recorded = time.process_time()
    site_refresh.after_review(root, entry)
cpu2, wall2 = time.process_time(), time.perf_counter()
print(json.dumps({"import_cpu": cpu1 - cpu0, "call_cpu": cpu2 - cpu1, "call_wall": wall2 - wall1,
                  "rebuild_cpu": cpu2 - (cpu_recorded if step != "rebuild" else cpu1)}))
"""


def _step(root: Path, step: str, target: str) -> dict:
    # -P: the working directory is not put first on sys.path, so the children import CODE, whatever the cwd
    run = subprocess.run(
        [sys.executable, "-P", "-c", CHILD, str(root), step, target, _code()], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise SystemExit(f"{step} failed: {run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _code() -> str:
    return os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or "site-packages"


def _failing_warning(root: Path) -> str:
    results = json.loads((root / "quality" / "results" / "latest.json").read_text())
    warns = [r for r in results["results"] if not r["passed"] and r["severity"] == "warn"]
    if not warns:
        raise SystemExit(f"{root}: no failing warning to review; plant one (see bench/results/siterebuild-27.md)")
    return "check:" + warns[0]["rule"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    if args.cold:
        shutil.rmtree(root / "quality" / "site_cache", ignore_errors=True)
    target = _failing_warning(root)
    print(f"code: {_code()}; root: {root}; target: {target}")
    print(f"load before: {os.getloadavg()[0]:.1f}")
    steps = ["rebuild"] + ["comment", "accept", "revoke"] * args.repeat + ["rebuild"] * args.repeat
    for step in steps:
        started = time.perf_counter()
        r = _step(root, step, target)
        print(
            f"{step:8s} imports {r['import_cpu']:5.2f} CPU-s | call {r['call_cpu']:5.2f} CPU-s "
            f"(page rebuild {r['rebuild_cpu']:5.2f}), {r['call_wall']:5.2f} s wall | process "
            f"{time.perf_counter() - started:5.2f} s wall, load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()

"""Cost of crash-safe publishing (issue 15): a full `longitude materialize` before and after, in one run.

Two git worktrees of one commit: `after` as it is, `before` with bench/publish_legacy.py copied over
schemas/publish.py, which makes every writer and reader do what they did before the protocol (sibling staging
swapped in by two renames, in-place shard writes, globbing readers), so the only difference is publishing.
(A worktree of the commit before the protocol would not do: the commits around it do not build, another
stage's change landed in two halves, and later work changed the same steps' cost.) Runs alternate
(before, after, before, after, ...) on fresh roots whose landing/fhir is a symlink to the shared
Synthea bundles; the per-step times are parsed from the CLI's own table. Also times the protocol's own
operations on the published root.

    .venv/bin/python bench/publish.py [--commit HEAD] [--runs 2]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "synthea-fhir-r4" / "bundles"
SECRET = "bench-publish-secret-0123456789"
STEP = re.compile(r"^\s+([\d.]+)s\s+(.+)$")


def _worktree(base: Path, name: str, commit: str, legacy: bool) -> Path:
    path = base / name
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(path), commit], check=True)
    if legacy:
        shutil.copyfile(REPO / "bench" / "publish_legacy.py", path / "schemas" / "publish.py")
    return path


def _materialize(code: Path, root: Path, workers: int) -> tuple[float, float, dict[str, float], str]:
    if root.exists():
        shutil.rmtree(root)
    (root / "landing").mkdir(parents=True)
    (root / "landing" / "fhir").symlink_to(DATA)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env.update(LONGITUDE_SECRET=SECRET, PYTHONPATH=str(code))
    cpu_file = root.parent / f"{root.name}.cpu"  # GNU time: this run's user and system CPU, children included
    cmd = ["/usr/bin/time", "-f", "%U %S", "-o", str(cpu_file),
           sys.executable, "-c", "from pipelines.cli import main; main()", "materialize", "--root", str(root),
           "--workers", str(workers)]  # fmt: skip
    started = time.perf_counter()
    run = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"materialize failed in {code}:\n{run.stderr[-4000:]}")
    user, system = (float(x) for x in cpu_file.read_text().split()[-2:])
    steps: dict[str, float] = {}
    for line in (run.stdout + run.stderr).splitlines():
        if m := STEP.match(line):  # a wrapped label keeps its first line: enough to name the step
            steps[m.group(2).strip()] = steps.get(m.group(2).strip(), 0.0) + float(m.group(1))
    return seconds, user + system, steps, run.stderr[-400:]


def _protocol_ops(root: Path) -> dict:
    """Time the protocol's own work on the published root: list, amend-publish (links + manifest + swap)."""
    from schemas import publish as pub

    out = {}
    for rel in ("raw/fhir", "meds", "tokens", "notes", "imaging"):
        ds = root / rel
        if not ds.is_symlink():
            continue
        n = len(pub.listing(ds))
        t = time.perf_counter()
        for _ in range(5):
            pub.dataset_files(ds, "**/*.parquet")
        listed = (time.perf_counter() - t) / 5
        t = time.perf_counter()
        for _ in range(5):
            with pub.publishing(ds, keep_except=["__nothing__"]):
                pass
        amended = (time.perf_counter() - t) / 5
        out[rel] = {"files": n, "list_ms": round(listed * 1e3, 2), "amend_publish_ms": round(amended * 1e3, 1)}
    return out


def _short(commit: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", commit], capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commit", default="HEAD")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--parallel", action="store_true", help="run before and after at the same time (same load)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "publish.json")
    args = ap.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"shared data not found: {DATA}")
    commit = _short(args.commit)  # now: the worktrees are made of it, and HEAD may move during a long run
    base = Path(tempfile.mkdtemp(prefix="longitude-publish-bench-"))
    codes = {}
    try:
        codes["before"] = _worktree(base, "before", args.commit, legacy=True)
        codes["after"] = _worktree(base, "after", args.commit, legacy=False)
        results: dict[str, list] = {"before": [], "after": []}
        for i in range(args.runs):
            if args.parallel:  # on a shared machine, both see the same load
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(2) as pool:
                    futures = {v: pool.submit(_materialize, codes[v], base / f"root-{v}", args.workers)
                               for v in ("before", "after")}  # fmt: skip
                    done = {v: f.result() for v, f in futures.items()}
            else:
                done = {v: _materialize(codes[v], base / f"root-{v}", args.workers) for v in ("before", "after")}
            for variant, (seconds, cpu, steps, _) in done.items():
                results[variant].append(
                    {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "steps": steps}
                )
                print(f"run {i + 1} {variant}: {seconds:.1f} s wall, {cpu:.1f} CPU-s", flush=True)
        ops = _protocol_ops(base / "root-after")
    finally:
        for name in ("before", "after"):
            if (base / name).exists():
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base / name)])
        shutil.rmtree(base, ignore_errors=True)
    med = {v: statistics.median(r["seconds"] for r in rs) for v, rs in results.items()}
    cpu = {v: statistics.median(r["cpu_seconds"] for r in rs) for v, rs in results.items()}
    report = {
        "commit": commit,
        "runs": results,
        "median_seconds": med,
        "overhead": round(med["after"] / med["before"] - 1, 4),
        "median_cpu_seconds": cpu,
        "cpu_overhead": round(cpu["after"] / cpu["before"] - 1, 4),
        "protocol_ops": ops,
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        json.dumps(
            {
                k: report[k]
                for k in ("median_seconds", "overhead", "median_cpu_seconds", "cpu_overhead", "protocol_ops")
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

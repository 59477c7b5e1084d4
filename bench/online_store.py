"""Online-store bench: server start time and lookups/s of today's all-in-memory store, the local SQLite store and
Redis, on one generated MEDS root (same subjects, same spec, same lookups, in one run).

    .venv/bin/python bench/online_store.py --work /tmp/online-bench [--subjects 20000] [--shards 4]
        [--redis-url redis://127.0.0.1:6399/0] [--lookups 2000]

Each mode runs in a child process of its own, so "start" is a cold process's time from nothing loaded to its
first answer (imports excluded, measured separately), and peak RSS is that server process's alone. Without
--redis-url the Redis mode is skipped. Writes <work>/online_store.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = "default"


def generate(root: Path, subjects: int, shards: int, seed: int = 0) -> None:
    """A MEDS root: sex, birth, 1-40 visits per subject, each with a numeric lab and a diagnosis code."""
    import numpy as np
    import polars as pl

    from tests.features.conftest import write_root

    rng = np.random.default_rng(seed)
    visits = rng.integers(1, 41, subjects)
    sid = np.repeat(np.arange(1, subjects + 1, dtype=np.int64), visits)
    n = len(sid)
    start = np.datetime64("2010-01-01T00:00:00", "us")
    when = start + (rng.integers(0, 14 * 365 * 86400, n) * 1_000_000).astype("timedelta64[us]")
    labs = rng.choice(["LOINC//4548-4", "LOINC//2345-7", "LOINC//2160-0", "LOINC//718-7"], n)
    dx = rng.choice([f"SNOMED//{c}" for c in (38341003, 44054006, 195967001, 13645005, 73211009)], n)
    ids = np.arange(1, subjects + 1, dtype=np.int64)
    frame = pl.concat(
        [
            pl.DataFrame({"subject_id": ids, "time": None, "code": np.where(ids % 2, "GENDER//F", "GENDER//M")}),
            pl.DataFrame(
                {
                    "subject_id": ids,
                    "time": np.datetime64("1930-01-01", "us")
                    + (rng.integers(0, 70 * 365, subjects) * 86_400_000_000).astype("timedelta64[us]"),
                    "code": "MEDS_BIRTH",
                }
            ),
            pl.DataFrame({"subject_id": sid, "time": when, "code": "ENCOUNTER//AMB"}),
            pl.DataFrame({"subject_id": sid, "time": when + np.timedelta64(3600, "s"), "code": labs}).with_columns(
                numeric_value=pl.Series(rng.normal(6.0, 1.5, n)).cast(pl.Float32)
            ),
            pl.DataFrame({"subject_id": sid, "time": when + np.timedelta64(1800, "s"), "code": dx}),
        ],
        how="diagonal_relaxed",
    ).with_columns(pl.col("time").cast(pl.Datetime("us")), pl.col("numeric_value").cast(pl.Float32))
    frame = frame.sort("subject_id", "time", nulls_last=False, maintain_order=True)
    write_root(root, frame.select("subject_id", "time", "code", "numeric_value"), n_shards=shards)


def child(args: argparse.Namespace) -> dict:
    """One mode, in this process: open, first answer, then timed single-subject lookups and batch reads."""
    import random
    import resource

    started = time.perf_counter()
    from featurestore.online import OnlineStore
    from featurestore.online_open import open_backend
    from featurestore.online_reader import OnlineReader

    if args.mode == "redis":
        import redis  # noqa: F401 - the client's import (~1 s) counts as an import, not as opening the store
    imports = time.perf_counter() - started
    started = time.perf_counter()
    if args.mode == "memory":
        store = OnlineStore.open(args.root, SPEC)
    else:
        store = OnlineReader(open_backend(args.mode, Path(args.root), args.redis_url), SPEC)
    as_of = datetime(2024, 1, 1)  # noqa: DTZ001 - MEDS times are naive UTC
    store.lookup(1, as_of)
    start_s = time.perf_counter() - started
    rng = random.Random(0)
    ids = [rng.randint(1, args.subjects) for _ in range(args.lookups)]
    t = time.perf_counter()
    nonzero = sum(len(store.lookup(s, as_of)) for s in ids)
    single = args.lookups / (time.perf_counter() - t)
    batches = [ids[i : i + 100] for i in range(0, len(ids), 100)]
    t = time.perf_counter()
    rows = sum(len(store.get(b, as_of)) for b in batches)
    batch = rows / (time.perf_counter() - t)
    return {
        "mode": args.mode,
        "import_s": round(imports, 2),
        "start_to_first_answer_s": round(start_s, 3),
        "lookups_per_s": round(single),
        "subjects_per_s_in_batches_of_100": round(batch),
        "nonzero_features_seen": nonzero,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def timed_push(root: Path, mode: str, redis_url: str | None) -> dict:
    """Materialize the spec into one store, in a child process: wall seconds and its peak RSS."""
    code = (
        "import sys, resource, time; from pathlib import Path; t = time.perf_counter();\n"
        "from featurestore.online import materialize_online; from featurestore.online_open import open_backend\n"
        "from featurestore.online_push import push_online\n"
        "root, mode, url = Path(sys.argv[1]), sys.argv[2], sys.argv[3] or None\n"
        "t = time.perf_counter()\n"
        "n = sum((materialize_online(root, 'default') if mode == 'memory' else "
        "push_online(root, open_backend(mode, root, url), 'default')).values())\n"
        "print(n, round(time.perf_counter() - t, 2), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(root), mode, redis_url or ""],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    n, seconds, rss = out.stdout.split()
    unit = "state rows" if mode == "memory" else "subjects"
    return {"mode": mode, "materialize_s": float(seconds), unit: int(n), "peak_rss_mib": int(rss)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--subjects", type=int, default=20000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--serve-only", action="store_true", help="reuse the stores a previous run filled")
    parser.add_argument("--mode", default=None, help=argparse.SUPPRESS)  # the child's
    parser.add_argument("--root", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(child(args)))
        return
    root = args.work / "root"
    if not (root / "meds").exists():
        t = time.perf_counter()
        generate(root, args.subjects, args.shards)
        print(f"generated {args.subjects} subjects in {time.perf_counter() - t:.1f}s", flush=True)
    modes = ["memory", "local"] + (["redis"] if args.redis_url else [])
    report: dict = {
        "subjects": args.subjects,
        "shards": args.shards,
        "spec": SPEC,
        "date": f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        "machine": f"{os.cpu_count()} cores, shared with parallel work",
        "materialize": [],
        "serve": [],
    }
    for mode in [] if args.serve_only else modes:
        report["materialize"].append(timed_push(root, mode, args.redis_url))
        print(json.dumps(report["materialize"][-1]), flush=True)
    for mode in modes:
        cmd = [sys.executable, __file__, "--work", str(args.work), "--mode", mode, "--root", str(root)]
        cmd += ["--subjects", str(args.subjects), "--lookups", str(args.lookups)]
        cmd += ["--redis-url", args.redis_url] if args.redis_url else []
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
        report["serve"].append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(report["serve"][-1]), flush=True)
    name = "online_store_serve.json" if args.serve_only else "online_store.json"
    (args.work / name).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()

"""Object cache bench: what a working copy of an s3:// root (moto's S3 server) pulls with a cold cache, a warm
cache of the unchanged root, and a warm cache after a small change (one step rerun), in bytes and seconds.

    .venv/bin/python bench/object_cache.py --work /tmp/cache-bench [--patients 12]

Builds the root with `longitude materialize --root s3://...` (the selection of
tests/pipelines/test_object_store_root.py), then times each pull in a process of its own (wall and CPU
seconds of that process; the S3 server runs in this one). Prints one JSON line.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.store import ObjectStore
from tests.conftest import TEST_SECRET
from tests.pipelines.test_object_store_root import SELECT
from tests.s3_server import s3_server

_PULL = """
import json, resource, sys, time
from schemas.working_copy import open_working_copy
t = time.perf_counter()
copy = open_working_copy(sys.argv[1])
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_SELF)
s = copy.stats
print(json.dumps({"downloaded": s.downloaded, "downloaded_mib": round(s.downloaded_bytes / 2**20, 2),
                  "cached": s.cached, "cached_mib": round(s.cached_bytes / 2**20, 2),
                  "pull_wall_s": round(wall, 2), "process_cpu_s": round(r.ru_utime + r.ru_stime, 2)}))
copy.close()
"""


def _pull(url: str, env: dict[str, str], cache: Path) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", _PULL, url],
        capture_output=True,
        text=True,
        env={**env, "LONGITUDE_CACHE_DIR": str(cache)},
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def _longitude(args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    if run.returncode:
        raise SystemExit(run.stderr[-2000:])
    return round(time.perf_counter() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--patients", type=int, default=12)
    args = parser.parse_args()
    from synthetic import generate_landing

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    landing = args.work / "landing"
    generate_landing(landing, args.patients, seed=0, workers=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "AWS_"))}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    out: dict = {"patients": args.patients, "load_before": os.getloadavg()[0]}
    common = ["--shards", "2", "--workers", "1", *[a for s in SELECT for a in ("--select", s)]]
    with s3_server("bench") as aws:
        os.environ.update(aws)
        env |= aws
        store = ObjectStore("s3://bench/root")
        store.upload(
            {f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()}
        )
        builder = {**env, "LONGITUDE_CACHE_DIR": str(args.work / "builder-cache")}
        out["build_s"] = _longitude(["materialize", "--root", store.url, *common], builder, args.work)
        reader = args.work / "reader-cache"  # another machine's cache: it has seen nothing of this root yet
        out["cold"] = _pull(store.url, env, reader)
        out["warm_unchanged"] = _pull(store.url, env, reader)
        # a small change made elsewhere: meds_codes rewrites the MEDS metadata (a new `meds` version whose data
        # shards are the previous version's bytes) and its check results
        out["change_s"] = _longitude(
            ["materialize", "--root", store.url, "--select", "meds_codes"], builder, args.work
        )
        out["warm_changed"] = _pull(store.url, env, reader)
        out["uncached"] = _pull(store.url, env, Path("off"))
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["children_cpu_s"] = round(r.ru_utime + r.ru_stime, 1)
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Object-store root bench: `longitude materialize` on a local root and on an s3:// root (moto's S3 server) over
the same generated landing, plus the working copy's pull and push on their own.

    .venv/bin/python bench/object_store_root.py --work /tmp/s3-bench [--patients 12]

Both runs build the selection of tests/pipelines/test_object_store_root.py (2 shards, 1 parser worker) with
the same secret; the curated files read back through the bucket's pointers are compared with the local root's.
Then a second run of each (`--select meds_codes`) shows a run that starts from published data (the s3 run
pulls the whole root first). Prints one JSON line.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.store import ObjectStore
from schemas.working_copy import open_working_copy
from tests.conftest import TEST_SECRET
from tests.pipelines.test_object_store_root import SELECT, _local_curated, _store_curated
from tests.s3_server import list_keys, s3_server


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
    local = args.work / "local"
    shutil.copytree(landing, local / "landing")
    common = ["--shards", "2", "--workers", "1", *[a for s in SELECT for a in ("--select", s)]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGITUDE_", "AWS_"))}
    env["LONGITUDE_SECRET"] = TEST_SECRET.decode()
    out: dict = {"patients": args.patients, "load_before": os.getloadavg()[0]}
    out["local_s"] = _longitude(["materialize", "--root", str(local), *common], env, args.work)
    with s3_server("bench") as aws:
        os.environ.update(aws)
        store = ObjectStore("s3://bench/root")
        store.upload(
            {f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()}
        )
        out["s3_s"] = _longitude(["materialize", "--root", store.url, *common], {**env, **aws}, args.work)
        out["identical"] = _store_curated(store) == _local_curated(local)
        out["objects"] = len(list_keys(aws, "bench"))
        started = time.perf_counter()
        copy = open_working_copy(store.url)
        out["pull_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        copy.push()
        out["idle_push_s"] = round(time.perf_counter() - started, 3)
        copy.close()
        out["s3_second_s"] = _longitude(
            ["materialize", "--root", store.url, "--select", "meds_codes"], {**env, **aws}, args.work
        )
    out["local_second_s"] = _longitude(
        ["materialize", "--root", str(local), "--select", "meds_codes"], env, args.work
    )
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

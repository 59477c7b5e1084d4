"""Object-store root bench: `longitude materialize` on a local root and on each object-store root (moto's S3
server, fake-gcs-server, Azurite) over the same generated landing, plus the working copy's pull and push alone.

    .venv/bin/python bench/object_store_root.py --work /tmp/store-bench [--patients 12] [--stores s3,gs,abfs]

Every run builds the selection of tests/pipelines/test_object_store_root.py (2 shards, 1 parser worker) with
the same secret, in a CLI process of its own: wall seconds, and CPU seconds of that process and its children
(the emulators run in other processes and are not counted; moto runs in this one). The curated files read
back through each store's pointers are compared with the local root's. Then a second run of each
(`--select meds_codes`) shows a run that starts from published data (a store's run pulls the whole root
first, from its object cache). Prints one JSON line.
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
from schemas.working_copy import open_working_copy
from tests.conftest import TEST_SECRET
from tests.pipelines.test_object_store_root import SELECT, _local_curated, _store_curated
from tests.store_servers import missing, store_server


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _longitude(args: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Wall and CPU seconds of one CLI run (its process and the processes it waited for)."""
    started, cpu = time.perf_counter(), _children_cpu()
    run = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    if run.returncode:
        raise SystemExit(run.stderr[-2000:])
    return {"wall_s": round(time.perf_counter() - started, 1), "cpu_s": round(_children_cpu() - cpu, 1)}


def _store_run(scheme: str, landing: Path, common: list[str], env: dict[str, str], work: Path) -> dict:
    out: dict = {}
    with store_server(scheme, "bench") as client:
        os.environ.update(client)
        store = ObjectStore(f"{scheme}://bench/root")
        store.upload(
            {f"landing/{p.relative_to(landing).as_posix()}": p for p in landing.rglob("*") if p.is_file()}
        )
        env = {**env, **client, "LONGITUDE_CACHE_DIR": str(work / f"cache-{scheme}")}
        out["first"] = _longitude(["materialize", "--root", store.url, *common], env, work)
        out["objects"] = len(store.list_objects(""))
        out["curated"] = _store_curated(store)
        started = time.perf_counter()
        copy = open_working_copy(store.url, cache=None)  # every object downloaded: the store's own speed
        out["uncached_pull_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        copy.push()
        out["idle_push_s"] = round(time.perf_counter() - started, 3)
        copy.close()
        out["second"] = _longitude(["materialize", "--root", store.url, "--select", "meds_codes"], env, work)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--patients", type=int, default=12)
    parser.add_argument("--stores", default="s3,gs,abfs", help="comma-separated schemes (s3, gs, abfs)")
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
    out["local"] = {"first": _longitude(["materialize", "--root", str(local), *common], env, args.work)}
    expected = _local_curated(local)
    for scheme in args.stores.split(","):
        if why := missing(scheme):
            out[scheme] = {"skipped": why}
            continue
        result = _store_run(scheme, landing, common, env, args.work)
        result["identical"] = result.pop("curated") == expected
        out[scheme] = result
    out["local"]["second"] = _longitude(
        ["materialize", "--root", str(local), "--select", "meds_codes"], env, args.work
    )
    out["load_after"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Fencing and index compare-and-swap bench, against moto's S3 server in this process: what a fenced push costs
over an unfenced one (same copy, interleaved), and how N writers racing on the index spread out.

    .venv/bin/python bench/fencing.py [--pushes 30] [--writers 24]

A push here publishes one small dataset version and one single file (what a step of a check or a shard does);
the fence adds a GET of the lease before the push, before the pointer PUT, before the single files and before
the index PUT. CPU seconds are this process's (client and server together). Prints one JSON line.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas import publish as pub
from schemas import publish_store as ps
from schemas.store import ObjectStore
from schemas.store_lease import Fence, hold_lease
from schemas.working_copy import open_working_copy
from tests.s3_server import s3_server


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _step(copy, i: int) -> None:
    with pub.publishing(copy.dir / "meds") as stage:
        stage.path("0.parquet").write_text(f"version {i}")
    (copy.dir / "quality").mkdir(exist_ok=True)
    (copy.dir / "quality" / "check.json").write_text(f"{i}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=30)
    parser.add_argument("--writers", type=int, default=24)
    args = parser.parse_args()
    with s3_server("fencing-bench") as env, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(env)
        store = ObjectStore("s3://fencing-bench/root")
        times: dict[str, list[tuple[float, float]]] = {"unfenced": [], "fenced": []}
        with hold_lease(store) as lease:
            copy = open_working_copy(store.url, temp_dir=tmp, cache=None)
            fence = Fence(store, lease.token)
            for i in range(args.pushes):
                kind = "fenced" if i % 2 else "unfenced"  # interleaved: load drifts hit both alike
                copy.lease = fence if kind == "fenced" else None
                _step(copy, i)
                wall, cpu = time.perf_counter(), _cpu()
                copy.push()
                times[kind].append((time.perf_counter() - wall, _cpu() - cpu))
            copy.close()

        lost = []
        replace = ObjectStore.replace

        def counting(self, key, data, tag):
            out = replace(self, key, data, tag)
            if out is None:
                lost.append(key)
            return out

        ObjectStore.replace = counting  # type: ignore[method-assign]
        start = threading.Barrier(args.writers)

        def update(i: int) -> None:
            start.wait()
            ps.update_index(store, lambda x: ps.RootIndex(x.datasets, {**x.files, f"w/{i}": i}, x.open))

        wall, cpu = time.perf_counter(), _cpu()
        with ThreadPoolExecutor(args.writers) as pool:
            list(pool.map(update, range(args.writers)))
        race = (time.perf_counter() - wall, _cpu() - cpu)
        kept = sum(1 for k in ps.read_index(store).files if k.startswith("w/"))

    def median(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2]

    out = {
        kind: {"pushes": len(ts), "median_wall_s": round(median([w for w, _ in ts]), 4),
               "median_cpu_s": round(median([c for _, c in ts]), 4)}
        for kind, ts in times.items()
    }  # fmt: skip
    out["index_race"] = {"writers": args.writers, "kept": kept, "lost_races_retried": len(lost),
                         "wall_s": round(race[0], 3), "cpu_s": round(race[1], 3)}  # fmt: skip
    out["load"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()

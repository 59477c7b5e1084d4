"""Wall-time scaling of `longitude materialize --executor celery` from 1 to 2 workers on a synthetic load.

For each worker count (alternating 1, 2, 1, 2 ... for --repeat rounds) on a fresh copy of one root: start that
many `longitude worker`s (concurrency 1, `--threads` 1 by default) on kombu's filesystem broker, run
`materialize --executor celery` of the selection, and record the wall time, the CPU seconds of the driver and
the workers, the workers' CPU inside each step (their `longitude step usage` log lines), which worker ran each
step (from the Dagster event log), the time in per-shard and in serial steps, and the dispatch latency of each
step (submitted by the driver -> started in a worker). Every run's curated output must be byte-identical to an
in-process run of the same root. Prints a table and a JSON document; the Amdahl bound says what the serial
steps allow.

    PYTHONPATH=$PWD .venv/bin/python bench/celery_scaling.py --patients 2000 --shards 16

The size is --patients (generated, seed --seed) and --shards; the defaults (500, 8) are a quick check. A
materialize of this selection costs ~0.35 CPU-s a patient (measured at 120 and 500 patients on a loaded
machine), so the issue's 20k patients in 16 shards is ~2 CPU-hours a run, three runs (in-process reference, 1
and 2 workers): hours on 2 cores; 2,000 patients in 16 shards is ~25-30 min (bench/results/scaling-24.md).

The landing is generated once per (patients, seed) under --cache and reused. Per-chunk ingest partitions (when
fhir_raw is split into chunks) are simply more partitioned runs: they count as parallel steps here.
"""

import argparse
import itertools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What a night run builds short of training a model and the stewards' site (tests/pipelines/test_object_store_root)
SELECT = ["*catalog", "*trajectories", "*online_features", "*features_readmission_30d", "*imaging_series",
          "*imaging_studies", "*imaging_fhir_links", "*notes_deidentified", "*meds_dataset_metadata"]  # fmt: skip
CURATED = ("meds", "notes", "imaging", "tokens", "features")
# A fixed secret for synthetic data only: pseudonyms must be equal across the runs compared.
SECRET = "3b9f0c6e1a7d4f28b5c9e2a60d8f1b4c7e3a9d5f2b6c0e8a4d1f7b3c9e5a2d60"
TICKS = os.sysconf("SC_CLK_TCK")
STEP_USAGE = "longitude step usage:"  # pipelines.step_usage's log line (not imported: the bench's env is bare)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGITUDE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env["LONGITUDE_SECRET"] = SECRET
    env["COLUMNS"] = "200"
    return env | (extra or {})


def _longitude(*args: str) -> list[str]:
    return [sys.executable, "-c", "from pipelines.cli import main; main()", *args]


def _cpu_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def landing(cache: Path, patients: int, seed: int) -> tuple[Path, dict]:
    """The generated landing for (patients, seed), made once and reused (the generator is deterministic)."""
    out = cache / f"landing-{patients}-{seed}"
    done = out / ".bench-complete.json"
    if done.exists():
        return out, json.loads(done.read_text())
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-c",
        f"from synthetic import generate_landing as g; g({str(out)!r}, {patients}, {seed})",
    ]
    wall, cpu = time.perf_counter(), _cpu_self()
    subprocess.run(cmd, check=True, env=_env())
    info = {"patients": patients, "seed": seed, "wall_s": time.perf_counter() - wall, "cpu_s": _cpu_self() - cpu}
    done.write_text(json.dumps(info))
    return out, info


def fresh_root(work: Path, name: str, land: Path) -> Path:
    """A new root whose landing is hard links to the cached one (read-only input: nothing rewrites it)."""
    root = work / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    shutil.copytree(land, root / "landing", copy_function=os.link, ignore=shutil.ignore_patterns(".bench-*"))
    return root


def curated(root: Path) -> dict[str, str]:
    """sha256 of every curated file, read through the manifests (bench/compare_roots.py)."""
    sys.path.insert(0, str(REPO))
    from compare_roots import curated_files  # bench/ is this script's own folder, first on sys.path

    return curated_files(root)


def _run_timed(cmd: list[str], env: dict, log: Path, timeout: float) -> tuple[int, float, float, int]:
    """(exit code, wall s, CPU s of the process and the children it waited for, pid)."""
    started = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=log.parent)
        deadline = started + timeout
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - started, ru.ru_utime + ru.ru_stime, proc.pid


def _group_cpu(pgid: int) -> tuple[float, list[int]]:
    """CPU s (own + reaped children) of every live process in a process group, and their pids."""
    total, pids = 0.0, []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ...
            total += sum(int(f) for f in fields[11:15]) / TICKS  # utime stime cutime cstime
            pids.append(int(entry.name))
    return total, pids


def broker_config(folder: Path, poll: float) -> Path:
    queue = folder / "broker"
    for sub in ("out", "processed", "control"):
        (queue / sub).mkdir(parents=True, exist_ok=True)
    (folder / "results").mkdir(exist_ok=True)
    path = folder / "executor.yaml"
    path.write_text(
        "celery:\n"
        "  broker: 'filesystem://'\n"
        f"  backend: 'file://{folder / 'results'}'\n"
        "  config_source:\n"
        "    broker_transport_options:\n"
        f"      data_folder_in: '{queue / 'out'}'\n"
        f"      data_folder_out: '{queue / 'out'}'\n"
        f"      data_folder_processed: '{queue / 'processed'}'\n"
        f"      control_folder: '{queue / 'control'}'\n"
        f"      polling_interval: {poll}\n"  # kombu's default is 1 s between looks at the queue folder
    )
    return path


class Workers:
    """`longitude worker` processes, each in its own process group so its CPU can be read and it can be stopped."""

    def __init__(self, root: Path, config: Path, n: int, shards: int, env: dict, threads: int) -> None:
        self.procs, self.logs = [], []
        for i in range(n):
            log = config.parent / f"worker{i}.log"
            cmd = _longitude("worker", "--root", str(root), "--shards", str(shards), "--executor-config",
                             str(config), "--name", f"w{i}@bench", "--concurrency", "1")  # fmt: skip
            cmd += ["--threads", str(threads)] if threads else []
            self.logs.append(log)
            self.procs.append(
                subprocess.Popen(
                    cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            )

    def wait_ready(self, timeout: float) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError("a worker exited: " + " | ".join(log.read_text()[-500:] for log in self.logs))
            if all("ready." in log.read_text(errors="replace") for log in self.logs):
                return time.perf_counter() - started
            time.sleep(0.2)
        raise RuntimeError(f"workers not ready in {timeout:.0f} s")

    def cpu(self) -> list[float]:
        return [_group_cpu(p.pid)[0] for p in self.procs]

    def pids(self) -> dict[int, str]:
        """pid -> worker name, for every process of each worker (the Celery process runs the steps: solo pool)."""
        return {pid: f"w{i}" for i, p in enumerate(self.procs) for pid in _group_cpu(p.pid)[1]}

    def step_usage(self) -> list[dict]:
        """Each step's CPU s, wall s and page faults as its worker logged them (pipelines.step_usage)."""
        out = []
        for i, log in enumerate(self.logs):
            for line in log.read_text(errors="replace").splitlines():
                if STEP_USAGE in line:
                    fields = dict(f.split("=", 1) for f in line.split(STEP_USAGE, 1)[1].split())
                    out.append({"worker": f"w{i}", "step": fields["step"], "cpu_s": float(fields["cpu_s"]),
                                "wall_s": float(fields["wall_s"]), "minflt": int(fields["minflt"])})  # fmt: skip
        return out

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def events(root: Path, pids: dict[int, str]) -> dict:
    """From the root's Dagster instance: each step's worker, start and end; each run's span and partition."""
    sys.path.insert(0, str(REPO))
    import dagster as dg

    from pipelines.instance import ensure_dagster_home
    from schemas.layout import Layout

    instance = dg.DagsterInstance.from_config(str(ensure_dagster_home(Layout(root))))
    runs, steps = [], []
    for record in instance.get_run_records():
        run = record.dagster_run
        partition = run.tags.get("dagster/partition")
        start = end = None
        submitted: dict[str, float] = {}
        for entry in instance.all_logs(run.run_id):
            ev = entry.dagster_event
            if ev is None:
                continue
            t = entry.timestamp
            if ev.event_type == dg.DagsterEventType.RUN_START:
                start = t
            elif ev.event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
                end = t
            elif (
                ev.event_type == dg.DagsterEventType.ENGINE_EVENT
                and ev.step_key
                and "Submitting celery" in (entry.user_message or "")
            ):
                submitted[ev.step_key] = t
            elif ev.event_type == dg.DagsterEventType.STEP_START:
                steps.append({"run": run.run_id, "step": ev.step_key, "partition": partition, "pid": ev.pid,
                              "worker": pids.get(ev.pid, f"pid {ev.pid}"),
                              "start": t, "submitted": submitted.get(ev.step_key)})  # fmt: skip
            elif ev.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                for s in steps:
                    if s["run"] == run.run_id and s["step"] == ev.step_key:
                        s["end"] = t
        runs.append({"run": run.run_id, "partition": partition, "start": start, "end": end})
    return {"runs": runs, "steps": steps}


def _union(spans: list[tuple[float, float]]) -> float:
    total, last = 0.0, None
    for a, b in sorted(spans):
        if last is None or a > last:
            total += b - a
            last = b
        elif b > last:
            total += b - last
            last = b
    return total


def summarize(ev: dict) -> dict:
    """Wall time in per-shard (partitioned) runs and in serial runs, step time per worker, dispatch latency."""
    runs = [r for r in ev["runs"] if r["start"] and r["end"]]
    shard = _union([(r["start"], r["end"]) for r in runs if r["partition"] is not None])
    serial = _union([(r["start"], r["end"]) for r in runs if r["partition"] is None])
    per_worker: dict[str, float] = {}
    for s in ev["steps"]:
        per_worker[s["worker"]] = per_worker.get(s["worker"], 0.0) + (s.get("end", s["start"]) - s["start"])
    latency = sorted(s["start"] - s["submitted"] for s in ev["steps"] if s.get("submitted"))
    gaps = []  # a worker's idle time between the end of one step and the start of its next
    for name in {s["worker"] for s in ev["steps"]}:
        spans = sorted((s["start"], s.get("end", s["start"])) for s in ev["steps"] if s["worker"] == name)
        gaps += [b[0] - a[1] for a, b in itertools.pairwise(spans) if b[0] >= a[1]]
    gaps.sort()
    by_step: dict[str, list] = {}
    for s in ev["steps"]:
        entry = by_step.setdefault(s["step"], [0.0, 0])
        entry[0] += s.get("end", s["start"]) - s["start"]
        entry[1] += 1
    return {
        "runs": len(runs),
        "steps": len(ev["steps"]),
        "serial_steps": sum(s["partition"] is None for s in ev["steps"]),
        "step_seconds_by_asset": {k: [round(v[0], 1), v[1]] for k, v in sorted(by_step.items())},
        "per_shard_wall_s": round(shard, 2),
        "serial_wall_s": round(serial, 2),
        "step_seconds_by_worker": {k: round(v, 1) for k, v in sorted(per_worker.items())},
        "worker_gap_s": {  # step end -> next step start in the same worker: task hand-off and step setup
            "median": round(gaps[len(gaps) // 2], 2) if gaps else None,
            "sum": round(sum(gaps), 1),
        },
        "dispatch_latency_s": {  # submitted by the driver -> started in a worker (includes waiting in the queue)
            "median": round(latency[len(latency) // 2], 2) if latency else None,
            "max": round(latency[-1], 2) if latency else None,
            "sum": round(sum(latency), 1),
        },
    }


def step_cpu(usage: list[dict]) -> dict:
    """The workers' CPU inside steps (total, by step key summed over shards) and their minor page faults."""
    by: dict[str, float] = {}
    for u in usage:
        key = u["step"].split("[")[0]
        by[key] = by.get(key, 0.0) + u["cpu_s"]
    return {
        "step_cpu_s": round(sum(u["cpu_s"] for u in usage), 1),
        "step_minflt": sum(u["minflt"] for u in usage),
        "step_cpu_s_by_step": {k: round(v, 2) for k, v in sorted(by.items())},
        "step_cpu_s_max": max((round(u["cpu_s"], 2) for u in usage), default=None),
    }


def materialize_args(root: Path, shards: int, select: list[str]) -> list[str]:
    return [
        "materialize",
        "--root",
        str(root),
        "--shards",
        str(shards),
        *[a for s in select for a in ("--select", s)],
    ]


def reference(work: Path, land: Path, args) -> dict:
    root = fresh_root(work, "reference", land)
    code, wall, cpu, _ = _run_timed(
        _longitude(*materialize_args(root, args.shards, args.select)), _env(), work / "reference.log", args.timeout
    )
    if code != 0:
        raise SystemExit(f"in-process reference run failed ({code}): see {work / 'reference.log'}")
    out = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "hashes": curated(root)}
    shutil.rmtree(root, ignore_errors=True)
    return out


def celery_run(work: Path, land: Path, n: int, label: str, args) -> dict:
    folder = work / label
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    root = fresh_root(folder, "root", land)
    config = broker_config(folder, args.poll)
    workers = Workers(root, config, n, args.shards, _env(), args.threads_per_worker)
    try:
        ready = workers.wait_ready(args.timeout)
        idle_cpu = workers.cpu()
        cmd = _longitude(*materialize_args(root, args.shards, args.select), "--executor", "celery",
                         "--executor-config", str(config))  # fmt: skip
        code, wall, driver_cpu, driver = _run_timed(cmd, _env(), folder / "driver.log", args.timeout)
        busy_cpu = workers.cpu()
        pids = workers.pids() | {driver: "driver"}
    finally:
        workers.stop()
    usage = workers.step_usage()
    if code != 0:
        raise SystemExit(f"celery run {label} failed ({code}): see {folder / 'driver.log'}")
    worker_cpu = sum(b - i for b, i in zip(busy_cpu, idle_cpu, strict=True))
    out = {
        "workers": n,
        "wall_s": round(wall, 1),
        "driver_cpu_s": round(driver_cpu, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        "worker_start_s": round(ready, 1),
        "worker_start_cpu_s": round(sum(idle_cpu), 1),
        **step_cpu(usage),
        **summarize(events(root, pids)),
        "hashes": curated(root),
    }
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def amdahl(one: dict) -> dict:
    """What the one-worker runs' serial part allows two workers: the serial steps and whatever the driver does
    outside runs (start-up, checks between steps) do not shrink; the per-shard part at best halves."""
    shard = one["per_shard_wall_s"]
    serial = one["wall_s"] - shard
    bound = one["wall_s"] / (serial + shard / 2)
    return {"serial_s": round(serial, 1), "per_shard_s": round(shard, 1),
            "serial_share": round(serial / one["wall_s"], 3), "bound_2_workers": round(bound, 2),
            # the serial share that still allows 1.6x: s + (1 - s) / 2 = 1 / 1.6
            "serial_share_for_1_6x": 0.25}  # fmt: skip


def estimate(doc: dict, patients: int, shards: int) -> dict:
    """CPU-s at another size, from this run: the in-process reference's CPU per patient, plus what a Celery step
    costs beyond it (the 1-worker run's extra CPU over the reference, per step; steps per shard are constant).
    A guide for choosing a size, not a measurement."""
    one = next(x for x in doc["runs"] if x["workers"] == 1)
    per_step = max(0.0, one["driver_cpu_s"] + one["worker_cpu_s"] - doc["reference"]["cpu_s"]) / one["steps"]
    shard_steps = (one["steps"] - one["serial_steps"]) / doc["shards"]
    ref_cpu = doc["reference"]["cpu_s"] / doc["patients"] * patients
    run_cpu = ref_cpu + per_step * (one["serial_steps"] + shard_steps * shards)
    gen_cpu = doc["generate"]["cpu_s"] / doc["patients"] * patients
    return {"patients": patients, "shards": shards, "celery_step_overhead_cpu_s": round(per_step, 2),
            "celery_run_cpu_s": round(run_cpu), "reference_cpu_s": round(ref_cpu),
            "generate_cpu_s": round(gen_cpu)}  # fmt: skip


def report(doc: dict) -> None:
    """The table of runs and the ratios, as Markdown for BENCHMARKS.md."""
    print(
        "| workers | wall s | per-shard s | serial s | steps | driver CPU-s | worker CPU-s | in steps CPU-s "
        "| page faults | step s by worker | worker gap median/sum s | queue+dispatch median/max s | identical |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for x in doc["runs"]:
        by = ", ".join(f"{k} {v}" for k, v in x["step_seconds_by_worker"].items())
        d, g = x["dispatch_latency_s"], x["worker_gap_s"]
        gap, wait = f"{g['median']}/{g['sum']}", f"{d['median']}/{d['max']}"
        cells = [x["workers"], x["wall_s"], x["per_shard_wall_s"], x["serial_wall_s"], x["steps"],
                 x["driver_cpu_s"], x["worker_cpu_s"], x["step_cpu_s"], x["step_minflt"], by, gap, wait,
                 x["identical"]]  # fmt: skip
        print("| " + " | ".join(str(c) for c in cells) + " |")
    a = doc["amdahl"]
    print(
        f"\nratio 1->2 workers: overall x{doc['ratio_overall']}, per-shard part x{doc['ratio_per_shard']}; "
        f"Amdahl bound from the 1-worker run's serial share {a['serial_share']:.0%} ({a['serial_s']} s serial, "
        f"{a['per_shard_s']} s per-shard): x{a['bound_2_workers']} (1.6x needs a serial share <= 25%); "
        f"curated output identical to the in-process run: {doc['all_identical']} ({doc['curated_files']} files); "
        f"total {doc['total_wall_s']} s"
    )
    one = next(x for x in doc["runs"] if x["workers"] == 1)
    two = next(x for x in doc["runs"] if x["workers"] == 2)
    a, b = one["step_cpu_s_by_step"], two["step_cpu_s_by_step"]
    moved = sorted(set(a) | set(b), key=lambda k: -abs(b.get(k, 0.0) - a.get(k, 0.0)))[:8]
    print(f"CPU-s in steps, 1 -> 2 workers: {one['step_cpu_s']} -> {two['step_cpu_s']}; most changed: "
          + "; ".join(f"{k} {a.get(k, 0.0):.1f} -> {b.get(k, 0.0):.1f}" for k in moved))  # fmt: skip
    top = sorted(one["step_seconds_by_asset"].items(), key=lambda kv: -kv[1][0])[:10]
    print("1-worker step seconds by step (total over shards, count): "
          + "; ".join(f"{k} {v[0]} ({v[1]})" for k, v in top))  # fmt: skip
    for e in doc["estimates"]:
        print(
            f"estimate at {e['patients']} patients, {e['shards']} shards (linear in patients: an upper bound, "
            f"part of the cost is per shard): a celery run ~{e['celery_run_cpu_s']} CPU-s, the in-process "
            f"reference ~{e['reference_cpu_s']}, generation ~{e['generate_cpu_s']}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=500)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="rounds of (1 worker, 2 workers), alternating")
    ap.add_argument("--select", action="append", default=None, help="asset selection (default: a night run's)")
    ap.add_argument("--poll", type=float, default=0.1, help="broker polling interval of the workers, seconds")
    ap.add_argument(
        "--threads-per-worker",
        type=int,
        default=1,
        help="`longitude worker --threads`: 1 keeps each worker to one core (a parser, thread pools of 1); "
        "0: the worker's default (the machine's CPUs over its concurrency)",
    )
    ap.add_argument("--work", type=Path, default=Path("/tmp/celery-scaling"))
    ap.add_argument("--cache", type=Path, default=None, help="generated landings kept here (default: WORK/cache)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds for any one run")
    ap.add_argument("--keep", action="store_true", help="keep each run's root, broker and logs")
    ap.add_argument("--json", type=Path, default=None, help="also write the JSON document here")
    args = ap.parse_args()
    args.select = args.select or SELECT
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.cache or args.work / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    load0 = os.getloadavg()

    land, gen = landing(cache, args.patients, args.seed)
    print(f"landing: {args.patients} patients (generated in {gen['wall_s']:.0f} s, {gen['cpu_s']:.0f} CPU-s)")
    ref = reference(args.work, land, args)
    print(f"in-process reference: {ref['wall_s']} s wall, {ref['cpu_s']} CPU-s", flush=True)
    runs = []
    for r in range(args.repeat):
        for n in (1, 2):
            res = celery_run(args.work, land, n, f"r{r}-w{n}", args)
            res["identical"] = res.pop("hashes") == ref["hashes"]
            runs.append(res)
            print(f"  {n} worker(s): {res['wall_s']} s wall, per-shard {res['per_shard_wall_s']} s, "
                  f"identical {res['identical']}", flush=True)  # fmt: skip

    def mean(n: int, key: str) -> float:
        vals = [x[key] for x in runs if x["workers"] == n]
        return sum(vals) / len(vals)

    one = {k: mean(1, k) for k in ("wall_s", "per_shard_wall_s")}
    two = {k: mean(2, k) for k in ("wall_s", "per_shard_wall_s")}
    doc = {
        "patients": args.patients, "shards": args.shards, "seed": args.seed, "select": args.select,
        "threads_per_worker": args.threads_per_worker, "poll_s": args.poll, "cpus": os.cpu_count(),
        "load_start": [round(x, 2) for x in load0], "load_end": [round(x, 2) for x in os.getloadavg()],
        "generate": gen, "reference": {k: v for k, v in ref.items() if k != "hashes"},
        "curated_files": len(ref["hashes"]), "runs": runs,
        "ratio_overall": round(one["wall_s"] / two["wall_s"], 2),
        "ratio_per_shard": round(one["per_shard_wall_s"] / two["per_shard_wall_s"], 2),
        "amdahl": amdahl(one),
        "all_identical": all(x["identical"] for x in runs),
        "total_wall_s": round(time.perf_counter() - t0, 1),
    }  # fmt: skip
    doc["estimates"] = [estimate(doc, n, s) for n, s in ((20000, 16), (2000, 16), (1000, 8))]
    print()
    report(doc)
    text = json.dumps(doc, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)
    sys.exit(0 if doc["all_identical"] else 1)


if __name__ == "__main__":
    main()

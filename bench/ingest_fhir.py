"""Benchmark: FHIR R4 bundles -> de-identified MEDS, end to end, beside a plain floor and fhir2meds.

Everything runs in one invocation on one machine, each measured run in its own child process (so its peak
memory is its own), and the report gives ratios between runs measured minutes apart rather than trusting
absolute seconds on a shared machine:

1. Longitude, library path: ingest_fhir (workers=2) + build_shard for every shard + MEDS metadata.
2. Longitude, CLI path: `longitude materialize` (Dagster, in-process) for fhir_raw -> meds_* -> catalog.
3. The floor: bench/fhir_floor.py, one process of orjson + polars with no checks (see its docstring).
4. fhir2meds 0.1.0 from PyPI in bench/.venv-fhir2meds, on an NDJSON adaptation of the bundles (see
   bench/fhir2meds_peer.py for why and how); its output is counted per resource type against ours.
5. --strict (fhir.resources validation of every resource): ingest resources/s against the fast path.
6. Memory as input grows: 1x, 4x, 16x copies of the set with every id rewritten (distinct patients),
   generated once under $TMPDIR/longitude-bench-fhir/ and reused; shards fixed at 4 and scaled (4, 16, 64).

Peak RSS is sampled every 50 ms over the whole process tree (pool workers included, shared pages counted
once per process, so it overstates); "largest process" is the highest VmHWM of any one process in the tree.
CPU s is user + system time of the whole tree (wait4), which a busy machine inflates far less than wall time.

    .venv/bin/python bench/ingest_fhir.py [--skip-peer] [--skip-strict] [--scales 1,4,16] [--repeat 2]
    [--strict-files 60] [--skip-cli] [--json OUT.json]

On the shared 2-core machine at load 5-8 the default run took 16.5 min, half of it the two 16x runs; the
rewritten copies for 4x/16x are generated once (about 4 min) and reused.
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

DATA = REPO.parent / "shared" / "data" / "synthea-fhir-r4" / "bundles"
CACHE = Path(tempfile.gettempdir()) / "longitude-bench-fhir"
SECRET = "longitude-bench-only-secret-0123456789"  # a benchmark key for synthetic data, nothing else
FRACTIONS = (0.8, 0.1, 0.1)
MEDS_ASSETS = ("fhir_raw", "meds_data", "meds_codes", "meds_subject_splits", "meds_dataset_metadata", "catalog")
# The id-bearing prefixes in Synthea's pretty-printed bundles; prefixing them makes every patient of a copy new.
ID_PREFIXES = (b"urn:uuid:", b'"id": "', b'"value": "')
MIB = 1 << 20


@dataclass
class Run:
    wall_s: float
    cpu_s: float  # user + system, the whole process tree
    peak_tree_mib: float
    peak_proc_mib: float
    rc: int
    load: float  # 1-minute load average when the run started
    out: dict = field(default_factory=dict)  # the JSON the child printed last, if any


def _hwm_kib(pid: int) -> int:
    """The process's own peak RSS (VmHWM). Unlike wait4's ru_maxrss it does not start from the RSS of the
    process that spawned it (vfork + exec carries the parent's high-water mark into the child's rusage)."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _sample(root: psutil.Process, hwm: dict[int, int]) -> int:
    """RSS of the whole tree now; records each process's high-water mark in `hwm` (KiB)."""
    total = 0
    with contextlib.suppress(psutil.NoSuchProcess):
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
                hwm[p.pid] = max(hwm.get(p.pid, 0), _hwm_kib(p.pid))
    return total


def _tail(path: Path, n: int = 64 << 10) -> bytes:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - n))
        return f.read()


def measure(cmd: list, *, env: dict | None = None, log: Path | None = None, interval: float = 0.05) -> Run:
    """Run `cmd`, sampling the RSS of its process tree; wall time from spawn to exit, CPU from wait4."""
    log = log or Path(tempfile.mkstemp(prefix="bench-", suffix=".log")[1])
    load = os.getloadavg()[0]
    hwm: dict[int, int] = {}
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, env=env)
        root = psutil.Process(proc.pid)
        peak = 0
        while True:
            peak = max(peak, _sample(root, hwm))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(interval)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime  # the child and every descendant it waited for (pool workers)
    result = Run(wall, cpu, peak / MIB, max(hwm.values(), default=0) / 1024, proc.returncode, load)
    tail = _tail(log)
    for line in reversed(tail.splitlines()):
        if line.startswith(b"{"):
            result.out = json.loads(line)
            break
    if proc.returncode != 0:
        text = tail[-2000:].decode(errors="replace")
        print(f"  ! {Path(str(cmd[0])).name} exited {proc.returncode}; log {log}:\n{text}", file=sys.stderr)
    return result


def count_in_file(path: Path, needle: bytes, chunk: int = 16 << 20) -> int:
    """Occurrences of `needle` in a file, read in chunks (fhir2meds prints hundreds of MB)."""
    n, carry = 0, b""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            data = carry + block
            n += data.count(needle)
            carry = data[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return n


# ---- child: the library path, run in its own process ------------------------------------------------------


def child_ours(root: str, n_shards: int, workers: int, strict: bool, ingest_only: bool) -> None:
    from deid.pseudonym import Keyring
    from pipelines.defs.fhir.ingest import ingest_fhir
    from pipelines.defs.meds import metadata
    from pipelines.defs.meds.build import build_shard
    from schemas.layout import Layout

    layout, keyring = Layout(Path(root)), Keyring(SECRET.encode())
    t0 = time.perf_counter()
    summary = ingest_fhir(layout, keyring, n_shards, strict=strict, workers=workers)
    t1 = time.perf_counter()
    meds_events = 0
    if not ingest_only:
        # MEDS rows as the CLI's count reads them from the shards: source events kept plus the rows derived from
        # them (coded-value companions, BIRTH//YEAR; pipelines.defs.meds.derived), so both paths count alike.
        summaries = [build_shard(layout, keyring, s, FRACTIONS, n_shards) for s in range(n_shards)]
        meds_events = sum(x.events_out + x.derived_events for x in summaries)
    t2 = time.perf_counter()
    if not ingest_only:
        metadata.write_codes(layout)
        metadata.write_subject_splits(layout)
        metadata.write_dataset_metadata(layout)
    t3 = time.perf_counter()
    raw_parts = sum(1 for _ in (layout.raw / "fhir").rglob("*.parquet"))
    print(
        json.dumps(
            {
                "ingest_s": t1 - t0,
                "build_s": t2 - t1,
                "metadata_s": t3 - t2,
                "total_s": t3 - t0,
                "files": summary.files,
                "resources": summary.resources,
                "events": summary.events,
                "quarantined": summary.quarantined,
                "bytes": summary.bytes_read,
                "meds_events": meds_events,
                "raw_parts": raw_parts,
                "per_type": summary.per_type,
            }
        )
    )


# ---- inputs ------------------------------------------------------------------------------------------------


def fresh_root(work: Path, name: str, landing_fhir: Path) -> Path:
    root = work / name
    shutil.rmtree(root, ignore_errors=True)
    (root / "landing").mkdir(parents=True)
    (root / "landing" / "fhir").symlink_to(landing_fhir, target_is_directory=True)
    return root


def _make_copy(sources: list[str], out: str, index: int) -> None:
    from isal import igzip

    out_dir = Path(out)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    tag = f"x{index:03d}-".encode()
    for i, src in enumerate(sources):
        data = igzip.decompress(Path(src).read_bytes())
        for prefix in ID_PREFIXES:
            data = data.replace(prefix, prefix + tag)
        (out_dir / f"{i:05d}.json.gz").write_bytes(igzip.compress(data, compresslevel=1))
    (out_dir / ".complete").write_text(f"{len(sources)}\n")


def _link(src: Path, dest: Path) -> None:
    """A hard link (a copy across file systems): landing/ symlinks that resolve outside the root are not read."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def scaled_landing(data: Path, scale: int) -> tuple[Path, float]:
    """landing/fhir for `scale` x the input: the originals plus scale-1 rewritten copies (cached)."""
    sources = sorted(str(p) for p in data.iterdir() if p.name.endswith((".json", ".json.gz")))
    copies = CACHE / "copies"
    missing = [
        j
        for j in range(1, scale)
        if not (copies / f"c{j:03d}" / ".complete").exists()
        or (copies / f"c{j:03d}" / ".complete").read_text().strip() != str(len(sources))
    ]
    started = time.perf_counter()
    if missing:
        print(
            f"  generating {len(missing)} rewritten copies under {copies} (kept for later runs)", file=sys.stderr
        )
        with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
            list(
                pool.map(
                    _make_copy, [sources] * len(missing), [str(copies / f"c{j:03d}") for j in missing], missing
                )
            )
    landing = CACHE / f"landing-x{scale}"
    shutil.rmtree(landing, ignore_errors=True)
    (landing / "c000").mkdir(parents=True)
    for src in sources:  # the reader reports (and skips) symlinks that leave the root: hard links instead
        _link(Path(src), landing / "c000" / Path(src).name)
    for j in range(1, scale):
        (landing / f"c{j:03d}").mkdir()
        for f in sorted((copies / f"c{j:03d}").glob("*.json.gz")):
            _link(f, landing / f"c{j:03d}" / f.name)
    return landing, time.perf_counter() - started


# ---- counting outputs --------------------------------------------------------------------------------------


def meds_rows(root: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in (root / "meds" / "data").glob("*/*.parquet"))


def ours_per_type(root: Path) -> dict:
    import polars as pl

    events = pl.read_parquet(sorted((root / "raw" / "fhir" / "events").glob("*/*.parquet")))
    per = events.group_by("resource_type").agg(
        pl.len().alias("events"),
        pl.col("time").is_not_null().sum().alias("with_time"),
        pl.col("numeric_value").is_not_null().sum().alias("with_numeric"),
        pl.col("code").n_unique().alias("codes"),
    )
    return {r["resource_type"]: r for r in per.to_dicts()}


# ---- report ------------------------------------------------------------------------------------------------


def _row(cells: list) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list]) -> str:
    return "\n".join([_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)])


def _run_cells(run: dict, mb: float, n_res: int) -> list:
    w = run["wall_s"]
    return [
        f"{w:.1f}",
        f"{run['cpu_s']:.1f}",
        f"{mb / w:.0f}",
        f"{n_res / w:,.0f}",
        f"{run['peak_tree_mib']:,.0f}",
        f"{run['peak_proc_mib']:,.0f}",
    ]


RUN_HEADER = ["wall s", "CPU s", "MB/s JSON", "resources/s", "peak RSS tree MiB", "largest process MiB"]


def _end_to_end(r: dict, mb: float, n_res: int) -> list[str]:
    ours, cli, floor = r["ours"], r.get("cli"), r["floor"]
    peer, adapt = r.get("fhir2meds"), r.get("fhir2meds_adapt")
    o = ours["out"]
    rows = [
        [
            "Longitude, library (ingest workers=2 + 4 shards + metadata)",
            *_run_cells(ours, mb, n_res),
            f"{o['meds_events']:,}",
            f"{ours['load']:.1f}",
            f"best of {r['repeat']}; in-process: ingest {o['ingest_s']:.1f} s, shards {o['build_s']:.1f} s, "
            f"metadata {o['metadata_s']:.2f} s",
        ],
        [
            "floor: orjson + polars, 1 process, no checks",
            *_run_cells(floor, mb, n_res),
            f"{floor['out']['events']:,}",
            f"{floor['load']:.1f}",
            f"best of {r['repeat']}",
        ],
    ]
    if cli:
        rows.insert(
            1,
            [
                "Longitude, CLI `longitude materialize` (Dagster)",
                *_run_cells(cli, mb, n_res),
                f"{r['cli_events']:,}" if isinstance(r["cli_events"], int) else r["cli_events"],
                f"{cli['load']:.1f}",
                "incl. imports, Dagster, asset checks, catalog.duckdb",
            ],
        )
    if peer:
        both = {
            "wall_s": peer["wall_s"] + adapt["wall_s"],
            "cpu_s": peer["cpu_s"] + adapt["cpu_s"],
            "peak_tree_mib": max(peer["peak_tree_mib"], adapt["peak_tree_mib"]),
            "peak_proc_mib": max(peer["peak_proc_mib"], adapt["peak_proc_mib"]),
        }
        n_out = f"{r['fhir2meds_count']['events']:,}"
        rows += [
            [
                "fhir2meds 0.1.0 (its own run)",
                *_run_cells(peer, mb, n_res),
                n_out,
                f"{peer['load']:.1f}",
                f"exit {peer['rc']}; {r['fhir2meds_shard_errors']} shard(s) failed to write; "
                f"{r['fhir2meds_log_mb']:.0f} MB printed to stdout",
            ],
            [
                "fhir2meds adapter (bundles -> NDJSON, bench code)",
                *_run_cells(adapt, mb, n_res),
                "—",
                f"{adapt['load']:.1f}",
                "it reads nothing from the bundles without this",
            ],
            ["fhir2meds incl. adapter", *_run_cells(both, mb, n_res), n_out, "", ""],
        ]
    else:
        rows.append(["fhir2meds 0.1.0", *["—"] * 8, r.get("fhir2meds_skipped", "skipped (--skip-peer)")])
    header = ["run", *RUN_HEADER, "events out", "load (1 min)", "notes"]
    return ["", "### End to end, 1x", "", _table(header, rows)]


def _ratios(r: dict) -> list[str]:
    ours, cli, floor = r["ours"], r.get("cli"), r["floor"]
    peer, adapt = r.get("fhir2meds"), r.get("fhir2meds_adapt")

    def ratio(a: dict, b: dict) -> str:
        return f"{a['wall_s'] / b['wall_s']:.2f}x wall, {a['cpu_s'] / b['cpu_s']:.2f}x CPU"

    lines = [f"- Longitude library / floor: **{ratio(ours, floor)}** (goal: wall <= 1.5x)."]
    if cli:
        lines.append(f"- Longitude CLI / floor: {ratio(cli, floor)}; CLI / library: {ratio(cli, ours)}.")
    if peer:
        both = {"wall_s": peer["wall_s"] + adapt["wall_s"], "cpu_s": peer["cpu_s"] + adapt["cpu_s"]}
        lines += [
            f"- fhir2meds (own run) / Longitude library: **{ratio(peer, ours)}** (goal: wall >= 7x); "
            f"incl. adapter {ratio(both, ours)}" + (f"; fhir2meds / CLI {ratio(peer, cli)}." if cli else "."),
            f"- Peak RSS (tree): fhir2meds {peer['peak_tree_mib']:,.0f} MiB, Longitude library "
            f"{ours['peak_tree_mib']:,.0f} MiB ({peer['peak_tree_mib'] / ours['peak_tree_mib']:.1f}x), floor "
            f"{floor['peak_tree_mib']:,.0f} MiB.",
        ]
    return ["", "### Ratios (same run)", "", *lines]


def _strict(r: dict) -> list[str]:
    fast, strict = r["strict_fast"], r["strict"]
    n = fast["out"]["resources"]
    rate = {k: n / v["out"]["ingest_s"] for k, v in (("fast", fast), ("strict", strict))}
    rows = [
        [
            name,
            f"{v['out']['ingest_s']:.1f}",
            f"{v['cpu_s']:.1f}",
            f"{rate[k]:,.0f}",
            f"{n / v['cpu_s']:,.0f}",
            v["out"]["quarantined"],
            f"{v['load']:.1f}",
        ]
        for name, k, v in (("fast path", "fast", fast), ("--strict (fhir.resources R4B)", "strict", strict))
    ]
    return [
        "",
        f"### --strict validation: ingest only, workers=2, first {r['strict_files']} bundles ({n:,} resources)",
        "",
        _table(["mode", "ingest s", "CPU s", "resources/s", "resources per CPU s", "quarantined", "load"], rows),
        "",
        f"Strict takes **{rate['fast'] / rate['strict']:.1f}x** the fast path's ingest time "
        f"({strict['cpu_s'] / fast['cpu_s']:.1f}x its CPU).",
    ]


def _scales(r: dict) -> list[str]:
    rows = [
        [
            f"{s['scale']}x",
            f"{s['json_bytes'] / 1e9:.2f}",
            f"{s['resources']:,}",
            s["shards"],
            *_run_cells(s["run"], s["json_bytes"] / 1e6, s["resources"]),
            f"{s['run']['out'].get('ingest_s', 0):.1f}",
            f"{s['run']['out'].get('build_s', 0):.1f}",
            f"{s['run']['out'].get('raw_parts', 0):,}",
            f"{s['run']['out'].get('meds_events', 0):,}",
            f"{s['run']['load']:.1f}",
        ]
        for s in r["scales"]
    ]
    header = [
        "input",
        "JSON GB",
        "resources",
        "shards",
        *RUN_HEADER,
        "ingest s",
        "shards s",
        "raw part files",
        "MEDS events",
        "load (1 min)",
    ]
    note = (
        f"Copies {'generated' if r['scale_generated'] else 'reused from an earlier run'} "
        f"({r['scale_generation_s']:.0f} s, not counted above)."
    )
    return ["", "### Memory as input grows (library path, ingest workers=2)", "", _table(header, rows), "", note]


def _per_type(r: dict) -> list[str]:
    ours_in, ours_t = r["ours"]["out"]["per_type"], r["ours_per_type"]
    peer_t, floor_t = r["fhir2meds_count"]["per_type"], r["floor"]["out"]["per_type"]
    rows = []
    for t in sorted(set(ours_in) | set(peer_t)):
        o, p = ours_t.get(t, {}), peer_t.get(t, {})
        rows.append(
            [
                t,
                f"{ours_in.get(t, {}).get('in', 0):,}",
                f"{o.get('events', 0):,}",
                f"{floor_t.get(t, 0):,}",
                f"{p.get('events', 0):,}",
                f"{o.get('with_time', 0):,}",
                f"{p.get('with_time', 0):,}",
                f"{o.get('with_numeric', 0):,}",
                f"{p.get('with_numeric', 0):,}",
                o.get("codes", 0),
                p.get("codes", 0),
            ]
        )
    tot = r["fhir2meds_count"]
    rows.append(
        [
            "**total**",
            f"{r['input']['resources']:,}",
            f"{r['ours']['out']['events']:,}",
            f"{r['floor']['out']['events']:,}",
            f"{tot['events']:,}",
            f"{sum(o['with_time'] for o in ours_t.values()):,}",
            f"{tot['with_time']:,}",
            f"{sum(o['with_numeric'] for o in ours_t.values()):,}",
            f"{tot['with_numeric']:,}",
            "",
            "",
        ]
    )
    header = [
        "type",
        "resources in",
        "Longitude events",
        "floor events",
        "fhir2meds events",
        "Longitude timed",
        "fhir2meds timed",
        "Longitude numeric",
        "fhir2meds numeric",
        "Longitude codes",
        "fhir2meds codes",
    ]
    return ["", "### What comes out, per resource type (1x)", "", _table(header, rows)]


def report(r: dict) -> str:
    mb, n_res = r["input"]["json_bytes"] / 1e6, r["input"]["resources"]
    out = [
        f"Input: {r['input']['files']} files ({r['input']['patients']} patients), {mb:,.0f} MB of JSON "
        f"uncompressed ({r['input']['gz_bytes'] / 1e6:,.0f} MB gzipped), {n_res:,} resources. "
        f"Machine: {r['cpus']} CPUs, {r['mem_gib']} GiB. Load average (1, 5, 15 min) at start {r['load_start']}, "
        f"at end {r['load_end']}.",
        *_end_to_end(r, mb, n_res),
        *_ratios(r),
    ]
    if r.get("strict"):
        out += _strict(r)
    if r.get("scales"):
        out += _scales(r)
    if r.get("fhir2meds"):
        out += _per_type(r)
    return "\n".join(out)


# ---- main --------------------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_ours":
        a = sys.argv[2:]
        child_ours(a[0], int(a[1]), int(a[2]), "--strict" in a, "--ingest-only" in a)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data", type=Path, default=DATA, help="folder of FHIR bundles (default: the shared Synthea set)"
    )
    ap.add_argument("--skip-peer", action="store_true", help="do not run fhir2meds")
    ap.add_argument("--skip-strict", action="store_true")
    ap.add_argument("--strict-files", type=int, default=60, help="bundles for the --strict comparison")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--scales", default="1,4,16", help="input multiples for the memory table ('' to skip)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of the floor and the library path (best counts)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    data = args.data.resolve()
    if not data.is_dir():
        sys.exit(f"{data} does not exist: this benchmark needs the shared Synthea bundles (../shared/data).")
    py, me = sys.executable, Path(__file__).resolve()
    work = CACHE / "runs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    gz_files = [p for p in data.iterdir() if p.name.endswith((".json", ".json.gz"))]
    for p in gz_files:  # warm the page cache so the first measured run is not the only cold one
        p.read_bytes()
    r: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "mem_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "repeat": args.repeat,
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }

    def step(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg} (load {os.getloadavg()[0]:.1f})", file=sys.stderr)

    floors, ours_runs = [], []
    for i in range(args.repeat):  # interleaved, so drifting load hits both alike
        step(f"floor, run {i + 1}")
        floors.append(measure([py, BENCH / "fhir_floor.py", data, work / "floor.parquet"]))
        step(f"Longitude library path, run {i + 1}")
        root = fresh_root(work, "ours", data)
        ours_runs.append(measure([py, me, "_ours", root, 4, args.workers]))
    best = lambda runs: min(runs, key=lambda x: x.wall_s)  # noqa: E731
    floor, ours = best(floors), best(ours_runs)
    for run in (*floors, *ours_runs):
        if run.rc != 0:
            sys.exit("a measured run failed; see the log above")
    r["floor"], r["ours"] = asdict(floor), asdict(ours)
    r["all_walls"] = {"floor": [x.wall_s for x in floors], "ours": [x.wall_s for x in ours_runs]}
    o = ours.out
    r["input"] = {
        "files": o["files"],
        "patients": o["per_type"].get("Patient", {}).get("in", 0),
        "resources": o["resources"],
        "json_bytes": o["bytes"],
        "gz_bytes": sum(p.stat().st_size for p in gz_files),
    }
    r["ours_per_type"] = ours_per_type(root)

    if not args.skip_cli:
        step("Longitude CLI path (longitude materialize)")
        root = fresh_root(work, "cli", data)
        cmd = [
            REPO / ".venv" / "bin" / "longitude",
            "materialize",
            "--root",
            root,
            "--shards",
            4,
            "--workers",
            args.workers,
            *(x for a in MEDS_ASSETS for x in ("--select", a)),
        ]
        cli = measure(cmd, env={**os.environ, "LONGITUDE_SECRET": SECRET}, log=work / "cli.log")
        r["cli"], r["cli_events"] = asdict(cli), meds_rows(root) if cli.rc == 0 else f"failed (rc {cli.rc})"
        if cli.rc == 0 and r["cli_events"] != ours.out["meds_events"]:
            sys.exit(f"the CLI wrote {r['cli_events']:,} MEDS rows, the library path {ours.out['meds_events']:,}")

    if not args.skip_peer:
        import fhir2meds_peer as peer

        try:
            peer.install_configs()
        except (FileNotFoundError, subprocess.CalledProcessError) as err:
            r["fhir2meds_skipped"] = f"not run: {err}"
        else:
            step("fhir2meds: adapting bundles to NDJSON")
            adapt = measure([py, BENCH / "fhir2meds_peer.py", "adapt", data, work / "ndjson"])
            step("fhir2meds 0.1.0")
            log = work / "fhir2meds.log"
            run = measure(peer.command(work / "ndjson", work / "fhir2meds-out"), log=log)
            r["fhir2meds_adapt"], r["fhir2meds"] = asdict(adapt), asdict(run)
            r["fhir2meds_count"] = peer.count(work / "fhir2meds-out")
            r["fhir2meds_shard_errors"] = count_in_file(log, b"Error writing shard")
            r["fhir2meds_log_mb"] = log.stat().st_size / 1e6
            log.unlink()  # hundreds of MB of printed resources

    if not args.skip_strict:
        # Strict validation runs at a few hundred to a few thousand resources/s: a subset keeps the run short.
        subset = CACHE / "strict-subset"
        shutil.rmtree(subset, ignore_errors=True)
        subset.mkdir(parents=True)
        for p in sorted(gz_files)[: args.strict_files]:
            _link(p, subset / p.name)
        r["strict_files"] = min(args.strict_files, len(gz_files))
        for key, flags in (("strict_fast", []), ("strict", ["--strict"])):
            step(f"Longitude ingest {' '.join(flags) or 'fast path'} on {r['strict_files']} bundles")
            root = fresh_root(work, key, subset)
            r[key] = asdict(measure([py, me, "_ours", root, 4, args.workers, "--ingest-only", *flags]))

    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    r["scales"] = []
    if scales:
        r["scale_generated"] = any(
            not (CACHE / "copies" / f"c{j:03d}" / ".complete").exists() for j in range(1, max(scales))
        )
        generation = 0.0
        for k in scales:
            landing, seconds = scaled_landing(data, k) if k > 1 else (data, 0.0)
            generation += seconds
            for n_shards in dict.fromkeys((4, 4 * k)):
                if k == 1 and n_shards == 4:
                    run = ours
                else:
                    step(f"scale {k}x, {n_shards} shards")
                    root = fresh_root(work, f"x{k}-s{n_shards}", landing)
                    run = measure([py, me, "_ours", root, n_shards, args.workers])
                    shutil.rmtree(root, ignore_errors=True)
                r["scales"].append(
                    {
                        "scale": k,
                        "shards": n_shards,
                        "run": asdict(run),
                        "json_bytes": run.out.get("bytes", 0),
                        "resources": run.out.get("resources", 0),
                    }
                )
        r["scale_generation_s"] = generation
    r["load_end"] = [round(x, 2) for x in os.getloadavg()]
    text = report(r)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    main()

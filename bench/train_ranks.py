"""Per-rank memory of training with 1 and 2 ranks: tokens each rank loads and its peak RSS (issue 19).

    .venv/bin/python bench/train_ranks.py [--subjects 10000] [--steps 3] [--out bench/out/train_ranks]

Writes (once) a synthetic tokenized root (tests/model/synthetic_meds.py: log-normal timelines, median ~1k
events), then measures
1. loading alone, each in a fresh process: TrainingShards (what every rank held before) and RankShards for
   world sizes 1 and 2 (each rank): tokens loaded, RSS before and after load(), peak RSS (VmHWM: the
   process's own peak, which ru_maxrss is not after exec);
2. training, `longitude train` for --steps steps of the tiny model on CPU with 1 rank (one process) and with
   --nproc-per-node 2 (torchrun, gloo): each rank's tokens loaded and peak RSS from models/<run>/ranks/.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_LOAD = """
import json, sys
sys.path.insert(0, {repo!r})
from model.data import TrainingShards
from model.rank_shards import RankShards
from model.train import peak_rss_bytes
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096
kind, rank, world = {kind!r}, {rank}, {world}
if kind == "TrainingShards":
    s = TrainingShards({root!r}, "train")
else:
    s = RankShards({root!r}, "train", rank=rank, world_size=world)
before = rss(); s.load(); after = rss()
print(json.dumps({{"kind": kind, "rank": rank, "world": world, "tokens_loaded": len(s._ids),
    "split_tokens": getattr(s, "split_tokens", s.num_tokens), "rss_before_load": before, "rss_after_load": after,
    "peak_rss": peak_rss_bytes()}}))
"""


def build_root(root: Path, subjects: int) -> None:
    sys.path.insert(0, str(REPO))
    from model.tokenizer import TokenizerConfig, fit_vocabulary, tokenize_shard
    from tests.model.synthetic_meds import SyntheticSpec, write_synthetic_meds

    spec = SyntheticSpec(n_subjects=subjects, n_shards=4, median_events=1000, sigma=1.0, max_events=50_000,
                         n_codes=5000, split_fractions=(0.8, 0.1, 0.1), seed=1)  # fmt: skip
    layout = write_synthetic_meds(root, spec)
    tok = fit_vocabulary(layout, TokenizerConfig())
    for shard in range(spec.n_shards):
        tokenize_shard(layout, tok, shard)


def measure_load(root: Path, kind: str, rank: int, world: int) -> dict:
    code = _LOAD.format(repo=str(REPO), root=str(root), kind=kind, rank=rank, world=world)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_training(root: Path, nproc: int, steps: int) -> dict:
    run = f"ranks{nproc}"
    cmd = [sys.executable, "-c", "from pipelines.cli import main; main()", "train", "--root", str(root),
           "--steps", str(steps), "--device", "cpu", "--run-name", run, "--fresh", "--record-data",
           "--tokens-per-batch", "4096"] + (["--nproc-per-node", str(nproc)] if nproc > 1 else [])  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    ranks = [json.loads(p.read_text()) for p in sorted((root / "models" / run / "ranks").glob("rank*.json"))]
    keys = ("rank", "tokens_loaded", "split_tokens", "peak_rss_bytes")
    return {"nproc": nproc, "wall_s": round(wall, 1), "ranks": [{k: r[k] for k in keys} for r in ranks]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "train_ranks"))
    args = parser.parse_args()
    root = Path(args.out) / f"root-{args.subjects}"
    if not (root / "tokens").exists():
        started = time.perf_counter()
        build_root(root, args.subjects)
        print(f"built {root} in {time.perf_counter() - started:.0f} s", flush=True)
    results: dict = {"load": [], "train": []}
    for kind, rank, world in (("TrainingShards", 0, 1), ("RankShards", 0, 1), ("RankShards", 0, 2),
                              ("RankShards", 1, 2)):  # fmt: skip
        results["load"].append(measure_load(root, kind, rank, world))
        print(json.dumps(results["load"][-1]), flush=True)
    for nproc in (1, 2):
        results["train"].append(measure_training(root, nproc, args.steps))
        print(json.dumps(results["train"][-1]), flush=True)
    out = Path(args.out) / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"-> {out}")


if __name__ == "__main__":
    main()

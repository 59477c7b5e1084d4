"""Tokenizer, packing and loader benchmark, with meds-torch-data and meds_reader on the same MEDS data.

    .venv/bin/python bench/tokens.py [--subjects 1000] [--out bench/out/tokens]

Writes a synthetic MEDS root (log-normal timeline lengths, median ~1k events, tail to 50k), tokenizes it,
measures packing efficiency and loader throughput, then runs the peers inside bench/.venv-interop (their
polars<2 pin conflicts with ours): meds_reader converts and reads the root (interop proof) and
meds-torch-data preprocesses it and serves padded batches (timed in the same run).
The peer half of this file (`--peer`) imports only pyarrow, torch and the peer libraries.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INTEROP_PY = REPO / "bench" / ".venv-interop" / "bin" / "python"


# ---------------------------------------------------------------------------------------------- ours
def ours(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(REPO))
    import numpy as np
    import polars as pl

    from model import TrainingShards
    from model.packing import pack_bfd, pack_greedy, pack_naive, pack_stream, windows
    from model.tokenizer import TokenizerConfig, fit_vocabulary, tokenize_shard
    from tests.model.synthetic_meds import SyntheticSpec, write_synthetic_meds

    out: dict = {}
    root = Path(args.out) / "root"
    spec = SyntheticSpec(
        n_subjects=args.subjects, n_shards=4, median_events=1000, sigma=1.0, max_events=50_000,
        n_codes=5000, split_fractions=(0.8, 0.1, 0.1), seed=1,
    )  # fmt: skip
    if args.meds_root:  # an existing MEDS root (e.g. Synthea through `longitude materialize`), linked not copied
        import shutil

        from schemas.layout import Layout

        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        (root / "meds").symlink_to(Path(args.meds_root).resolve() / "meds")
        layout = Layout(root)
    else:
        t = time.perf_counter()
        layout = write_synthetic_meds(root, spec)
        out["synthetic_write_s"] = time.perf_counter() - t
    shard_ids = sorted({int(p.stem) for p in (layout.meds / "data").glob("*/*.parquet")})
    events = pl.scan_parquet(str(layout.meds / "data" / "*" / "*.parquet")).select(pl.len()).collect().item()
    per_subject = pl.scan_parquet(str(layout.meds / "data" / "*" / "*.parquet")).group_by("subject_id").len()
    q = per_subject.select(pl.col("len").quantile(x).alias(str(x)) for x in (0.5, 0.9, 0.99, 1.0)).collect()
    out["events"] = int(events)
    out["subjects"] = int(per_subject.select(pl.len()).collect().item())
    out["events_per_subject"] = {k: float(v) for k, v in q.row(0, named=True).items()}

    t = time.perf_counter()
    tok = fit_vocabulary(layout, TokenizerConfig(min_count=10))
    out["fit_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for shard in shard_ids:
        tokenize_shard(layout, tok, shard)
    out["tokenize_s"] = time.perf_counter() - t
    out["vocab_size"] = tok.size

    train = TrainingShards(root, "train")
    out["train_tokens"] = train.num_tokens
    out["tokens_per_event"] = train.num_tokens / max(1, events * 0.8)
    out["tokenize_events_per_s"] = events / out["tokenize_s"]

    # Packing efficiency over the train split's documents (windows of at most the context).
    rng = np.random.default_rng(0)
    eff = {}
    for ctx in (2048, 8192):
        w = windows(train.lengths, ctx, ctx)
        lengths = w.lengths[rng.permutation(len(w.lengths))]
        for name, pack in [
            ("naive padding", pack_naive),
            ("greedy (torchtune-style)", pack_greedy),
            ("best-fit decreasing", pack_bfd),
            ("streaming buffer 2048", lambda x, c: pack_stream(x, c, 2048)),
        ]:
            t = time.perf_counter()
            p = pack(lengths, ctx)
            bound = -(-int(lengths.sum()) // ctx)  # no packer can use fewer packs
            eff[f"{ctx}/{name}"] = (
                p.efficiency(lengths, ctx),
                time.perf_counter() - t,
                len(lengths),
                p.n_packs,
                bound,
            )
    out["packing"] = eff

    # Loader: packed batches per second in one process (= one DataLoader worker).
    loader = {}
    for packing in ("bfd", "stream"):
        for ctx in (2048, 8192):
            shards = TrainingShards(root, "train", max_seq_len=ctx, packing=packing)
            shards.load()
            t = time.perf_counter()
            plan = shards.epoch_plan(8192, 0, 0)
            plan_s = time.perf_counter() - t
            t = time.perf_counter()
            real = total = 0
            for batch in shards.batches(8192, seed=0, epoch=0):
                real += int((batch["document_ids"] >= 0).sum())
                total += batch["input_ids"].numel()
            dt = time.perf_counter() - t
            loader[f"{packing}/ctx{ctx}"] = {
                "batches": plan.n_batches, "plan_s": plan_s, "serve_s": dt,
                "real_tokens_per_s": real / dt, "padding_pct": 100 * (1 - real / total),
            }  # fmt: skip
    out["loader"] = loader
    return out


# --------------------------------------------------------------------------------------------- peers
def peer(root: Path, work: Path, batch_size: int, max_seq_len: int, reader_only: bool = False) -> dict:
    """Runs inside bench/.venv-interop: meds_reader and meds-torch-data on our MEDS root."""
    import os

    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    res: dict = {}
    meds = ds.dataset(str(root / "meds" / "data"), format="parquet")
    expected_rows = meds.count_rows()
    expected_subjects = len(pc.unique(meds.to_table(columns=["subject_id"]).column("subject_id")))

    # meds_reader: convert, then read every event of every subject back.
    import shutil

    import meds_reader

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db_path = work / "meds_reader_db"
    t = time.perf_counter()
    subprocess.run(["meds_reader_convert", str(root / "meds"), str(db_path), "--num_threads", "2"], check=True,
                   env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})  # fmt: skip
    res["meds_reader_convert_s"] = time.perf_counter() - t
    t = time.perf_counter()
    n_events = n_numeric = 0
    with meds_reader.SubjectDatabase(str(db_path)) as db:
        for sid in db:
            for ev in db[sid].events:
                n_events += 1
                n_numeric += ev.numeric_value is not None
        n_subjects = len(db)
    res["meds_reader_read_s"] = time.perf_counter() - t
    res["meds_reader_ok"] = n_events == expected_rows and n_subjects == expected_subjects
    res["meds_reader_events"] = n_events
    if reader_only:
        return res

    # meds-torch-data: tensorize, then serve padded batches (SM mode: one measurement per position).
    from meds_torchdata import MEDSPytorchDataset, MEDSTorchDataConfig

    mtd_dir = work / "mtd"
    t = time.perf_counter()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["MTD_preprocess", f"MEDS_dataset_dir={root / 'meds'}", f"output_dir={mtd_dir}"],
                   check=True, env=env, capture_output=True)  # fmt: skip
    res["mtd_preprocess_s"] = time.perf_counter() - t
    cfg = MEDSTorchDataConfig(
        tensorized_cohort_dir=str(mtd_dir), max_seq_len=max_seq_len, batch_mode="SM",
        seq_sampling_strategy="random", static_inclusion_mode="omit",
    )  # fmt: skip
    dataset = MEDSPytorchDataset(cfg, split="train")
    loader = dataset.get_dataloader(batch_size=batch_size, num_workers=0, shuffle=True)
    t = time.perf_counter()
    real = total = batches = 0
    for batch in loader:
        code = batch.code
        real += int((code != 0).sum())
        total += code.numel()
        batches += 1
    dt = time.perf_counter() - t
    res["mtd"] = {
        "batches": batches, "serve_s": dt, "real_tokens_per_s": real / dt,
        "padding_pct": 100 * (1 - real / total), "subjects": len(dataset),
    }  # fmt: skip
    return res


def run_peers(args: argparse.Namespace) -> dict | None:
    if not INTEROP_PY.exists():
        print(f"skipping peers: {INTEROP_PY} is absent (see bench/results/tokens.md for its setup)")
        return None
    cmd = [str(INTEROP_PY), __file__, "--peer", "--out", str(args.out), "--mtd-batch", str(args.mtd_batch)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(res: dict, peers: dict | None, args: argparse.Namespace) -> str:
    lines = [
        f"- data: {args.meds_root or 'synthetic (tests/model/synthetic_meds.py)'}",
        f"- events: {res['events']:,} ({res['subjects']:,} subjects; events per subject p50/p90/p99/max "
        + "/".join(f"{v:,.0f}" for v in res["events_per_subject"].values())
        + ")",
        f"- fit vocabulary on train: {res['fit_s']:.2f} s; tokenize all splits: {res['tokenize_s']:.2f} s "
        f"({res['tokenize_events_per_s'] / 1e6:.2f} M events/s); vocab {res['vocab_size']:,}; "
        f"{res['tokens_per_event']:.2f} tokens per event; train tokens {res['train_tokens']:,}",
        "",
        "| context | packer | efficiency | packs (lower bound) | plan time | docs |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for key, (eff, secs, docs, packs, bound) in res["packing"].items():
        ctx, name = key.split("/", 1)
        lines.append(
            f"| {ctx} | {name} | {100 * eff:.2f}% | {packs:,} ({bound:,}) | {secs * 1e3:.0f} ms | {docs:,} |"
        )
    lines += ["", "| loader (tokens_per_batch 8192, 1 process) | batches | plan | real tokens/s | padding |",
              "|---|---:|---:|---:|---:|"]  # fmt: skip
    for key, v in res["loader"].items():
        lines.append(f"| Longitude {key} | {v['batches']} | {v['plan_s']:.2f} s | "
                     f"{v['real_tokens_per_s'] / 1e6:.2f} M | {v['padding_pct']:.2f}% |")  # fmt: skip
    if peers:
        m = peers["mtd"]
        lines.append(f"| meds-torch-data SM, batch {args.mtd_batch} x 2048, random window | {m['batches']} | "
                     f"{peers['mtd_preprocess_s']:.1f} s preprocess | {m['real_tokens_per_s'] / 1e6:.2f} M | "
                     f"{m['padding_pct']:.2f}% |")  # fmt: skip
        ours_tps = res["loader"]["bfd/ctx2048"]["real_tokens_per_s"]
        lines += [
            "",
            "- ratio, Longitude bfd ctx2048 vs meds-torch-data real tokens/s: "
            f"{ours_tps / m['real_tokens_per_s']:.1f}x",
            f"- meds_reader: converted our MEDS root in {peers['meds_reader_convert_s']:.1f} s and read back "
            f"{peers['meds_reader_events']:,} events in {peers['meds_reader_read_s']:.1f} s; "
            f"counts match: {peers['meds_reader_ok']}",
            f"- meds-torch-data: MTD_preprocess ran on our MEDS root and served {m['subjects']} train subjects",
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--out", default=str(REPO / "bench" / "out" / "tokens"))
    ap.add_argument("--mtd-batch", type=int, default=4)
    ap.add_argument("--meds-root", help="bench an existing root's meds/ instead of synthetic data")
    ap.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--reader-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:
        out = Path(args.out)
        print(json.dumps(peer(out / "root", out / "peer", args.mtd_batch, 2048, args.reader_only)))
        return
    res = ours(args)
    peers = run_peers(args)
    text = report(res, peers, args)
    print(text)
    (Path(args.out) / "result.json").write_text(json.dumps({"ours": res, "peers": peers}, indent=2, default=str))


if __name__ == "__main__":
    main()

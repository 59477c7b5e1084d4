"""Feature-store bench: offline retrieval (100k label rows x every code) against MEDS-Tab in the same run, online
lookup latency, and a baseline model per shipped task with AUROC on the held-out split.

    .venv/bin/python bench/features.py --root /tmp/feat-root [--rows 100000] [--skip-medstab]

The root must hold a materialized MEDS dataset (`longitude materialize`). MEDS-Tab runs from its own venv,
bench/.venv-medstab (`python -m venv bench/.venv-medstab && bench/.venv-medstab/bin/pip install meds-tab==0.2.0`),
because it pins another polars. Each timed step runs in a child process: wall time and the child's peak RSS.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
MEDSTAB_BIN = REPO / "bench" / ".venv-medstab" / "bin"
WINDOWS = ["30d", "365d", "full"]  # the all_codes spec's windows (full = all history)
MEDSTAB_AGGS = ["code/count", "value/count", "value/sum", "value/min", "value/max"]


def timed(cmd: list[str], env: dict | None = None, log: Path | None = None) -> dict:
    """Run a child process; wall seconds and peak RSS (MiB) of that child."""
    started = time.perf_counter()
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    if log:
        out.close()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
        "ok": os.waitstatus_to_exitcode(status) == 0,
    }


def make_labels(root: Path, rows: int, work: Path, seed: int = 0) -> tuple[Path, Path]:
    """`rows` prediction times: random event times plus up to 30 days, as one file and as MEDS-Tab's layout."""
    rng = np.random.default_rng(seed)
    files = sorted((root / "meds" / "data").glob("*/*.parquet"))
    events = pl.concat(
        [pl.read_parquet(f, columns=["subject_id", "time"]).with_columns(file=pl.lit(str(f))) for f in files]
    ).filter(pl.col("time").is_not_null())
    pick = events[rng.integers(0, len(events), rows)]
    offset = pl.Series(rng.integers(0, 30 * 86400, rows)).cast(pl.Int64) * 1_000_000
    labels = pick.with_columns(
        prediction_time=(pl.col("time").cast(pl.Int64) + offset).cast(pl.Datetime("us")),
        boolean_value=pl.Series(rng.random(rows) < 0.5),
    ).unique(["subject_id", "prediction_time"])
    single = work / "labels.parquet"
    labels.select("subject_id", "prediction_time", "boolean_value").write_parquet(single)
    medstab = work / "medstab_labels"
    for f, part in labels.group_by("file"):
        rel = Path(f[0]).relative_to(root / "meds" / "data")
        (medstab / rel).parent.mkdir(parents=True, exist_ok=True)
        part.select("subject_id", "prediction_time", "boolean_value").sort(
            "subject_id", "prediction_time"
        ).write_parquet(medstab / rel)
    return single, medstab


def run_ours(root: Path, labels: Path, work: Path) -> dict:
    py = str(REPO / ".venv" / "bin" / "python")
    code = (
        "import sys; from featurestore.offline import get_features; "
        "get_features(sys.argv[1], sys.argv[2], sys.argv[3], output=sys.argv[4], out=sys.argv[5])"
    )
    out = {}
    for spec, output in (("all_codes", "sparse"), ("all_codes", "wide")):
        path = work / f"ours_{spec}_{output}.parquet"
        out[f"{spec}/{output}"] = timed(
            [py, "-c", code, str(root), str(labels), spec, output, str(path)], log=work / f"ours_{output}.log"
        )
        meta = pl.read_parquet_schema(path) if path.exists() else {}
        out[f"{spec}/{output}"]["columns"] = len(meta)
        out[f"{spec}/{output}"]["rows"] = (
            pl.scan_parquet(path).select(pl.len()).collect().item() if path.exists() else 0
        )
    return out


def run_medstab(root: Path, label_dir: Path, work: Path) -> dict:
    """MEDS-Tab's documented pipeline, timed: describe codes, static, time series (at every event time), then
    task caching (joins the label times). Tabularizing at the label times only (input_label_dir on the time-series
    step) is faster but meds-tab 0.2.0's cache-task then fails (row indexes out of range), so it is not used."""
    if not (MEDSTAB_BIN / "meds-tab-describe").exists():
        return {"error": f"MEDS-Tab is not installed in {MEDSTAB_BIN.parent}"}
    out_dir = work / "medstab"
    shutil.rmtree(out_dir, ignore_errors=True)
    # A fresh output folder each run; do_overwrite=True would make later steps delete describe's codes.parquet.
    common = [f"input_dir={root / 'meds' / 'data'}", f"output_dir={out_dir}", "do_overwrite=False"]
    tab = [
        "tabularization.min_code_inclusion_count=1",
        f"tabularization.window_sizes=[{','.join(WINDOWS)}]",
        f"tabularization.aggs=[static/present,{','.join(MEDSTAB_AGGS)}]",
    ]
    steps = {
        "describe": ["meds-tab-describe", *common],
        "static": ["meds-tab-tabularize-static", *common, *tab],
        "time_series": ["meds-tab-tabularize-time-series", *common, *tab],
        "cache_task": ["meds-tab-cache-task", *common, *tab, "task_name=bench", f"input_label_dir={label_dir}"],
    }
    result: dict = {}
    env = {"PATH": f"{MEDSTAB_BIN}:{os.environ['PATH']}", "POLARS_MAX_THREADS": str(os.cpu_count())}
    for name, cmd in steps.items():
        result[name] = timed([str(MEDSTAB_BIN / cmd[0]), *cmd[1:]], env=env, log=work / f"medstab_{name}.log")
        if not result[name]["ok"]:
            result[name]["log_tail"] = (work / f"medstab_{name}.log").read_text()[-1500:]
            break
    done = [s for s in result.values() if isinstance(s, dict)]
    result["total_seconds"] = round(sum(s["seconds"] for s in done), 2)
    result["peak_rss_mib"] = max(s["peak_rss_mib"] for s in done)
    npz = sorted((out_dir / "bench" / "task_cache").rglob("*.npz")) if (out_dir / "bench").exists() else []
    result["task_cache_files"] = len(npz)
    # MEDS-Tab stores each (window, agg) block as np.savez(data, row, col, shape); columns add up per shard.
    by_shard: dict[str, int] = {}
    for f in npz:
        with np.load(f) as z:
            if "shape" in z.files:
                key = str(f.relative_to(out_dir / "bench" / "task_cache").parts[:2])
                by_shard[key] = by_shard.get(key, 0) + int(z["shape"][1])
                result["rows"] = result.get("rows", 0) + (
                    int(z["shape"][0]) if f.parts[-3:] == ("full", "code", "count.npz") else 0
                )
    result["columns"] = max(by_shard.values()) if by_shard else None
    return result


def online_latency(root: Path, n: int = 2000, seed: int = 0) -> dict:
    from featurestore.online import OnlineStore, materialize_online

    materialize_online(root, "default")
    started = time.perf_counter()
    store = OnlineStore.open(root, "default")
    open_s = time.perf_counter() - started
    subjects = np.random.default_rng(seed).choice(np.array(list(store.birth)), n)
    for s in subjects[:50]:  # warm up
        store.lookup(int(s))
    lat = []
    for s in subjects:
        t = time.perf_counter()
        store.lookup(int(s))
        lat.append(time.perf_counter() - t)
    as_of = []
    for s in subjects[:500]:
        when = store.birth[int(s)] + 60 * 365 * 86400 * 1_000_000
        from datetime import datetime

        moment = datetime(1970, 1, 1) + timedelta(microseconds=when)  # noqa: DTZ001 - MEDS times are naive
        t = time.perf_counter()
        store.lookup(int(s), moment)
        as_of.append(time.perf_counter() - t)
    ms = np.array(lat) * 1e3
    return {
        "open_s": round(open_s, 2),
        "lookups": n,
        "p50_ms": round(float(np.median(ms)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "as_of_p50_ms": round(float(np.median(as_of)) * 1e3, 3),
        "features": len(store.feature_names),
    }


def baselines(root: Path, work: Path) -> dict:
    """Per shipped task: default-spec features, fit on train, AUROC on held_out (with a bootstrap 95% interval)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from featurestore.labels import write_labels
    from featurestore.offline import get_features
    from featurestore.tasks import load_task, shipped_tasks

    splits = pl.read_parquet(root / "meds" / "metadata" / "subject_splits.parquet")
    results = {}
    for name in shipped_tasks():
        path = work / f"labels_{name}.parquet"
        write_labels(root, load_task(name), out=path)
        wide = get_features(root, path).join(splits, on="subject_id")
        feats = [c for c in wide.columns if "/" in c]
        train, test = wide.filter(pl.col("split") == "train"), wide.filter(pl.col("split") == "held_out")
        y_train, y_test = train["boolean_value"].to_numpy(), test["boolean_value"].to_numpy()
        row = {
            "rows": len(wide),
            "train_rows": len(train),
            "train_pos": int(y_train.sum()),
            "held_out_rows": len(test),
            "held_out_pos": int(y_test.sum()),
            "features": len(feats),
        }
        if len(set(y_train)) < 2 or len(set(y_test)) < 2:
            results[name] = {**row, "note": "one class only in train or held_out: no AUROC"}
            continue
        # Columns with fewer than two distinct train values carry nothing (and trip HGB's binning when all-null).
        feats = [c for c in feats if train[c].drop_nulls().n_unique() > 1]
        row["features_used"] = len(feats)
        x_train = train.select(feats).to_numpy().astype(np.float32)
        x_test = test.select(feats).to_numpy().astype(np.float32)
        models = {
            "logreg": make_pipeline(
                SimpleImputer(strategy="median", keep_empty_features=True),
                StandardScaler(),
                LogisticRegression(C=0.05, max_iter=2000),
            ),
            "hgb": HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0),
        }
        for model_name, model in models.items():
            model.fit(x_train, y_train)
            p = model.predict_proba(x_test)[:, 1]
            row[f"{model_name}_auroc"] = round(float(roc_auc_score(y_test, p)), 3)
            row[f"{model_name}_ci95"] = _bootstrap(y_test, p)
        results[name] = row
    return results


def _bootstrap(y: np.ndarray, p: np.ndarray, n: int = 300, seed: int = 0) -> list[float]:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if len(set(y[idx])) == 2:
            scores.append(roc_auc_score(y[idx], p[idx]))
    return [round(float(np.percentile(scores, 2.5)), 3), round(float(np.percentile(scores, 97.5)), 3)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "features")
    parser.add_argument("--skip-medstab", action="store_true")
    parser.add_argument("--only", choices=["offline", "online", "baselines"], default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    root = args.root.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"root": str(root), "cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()}
    if args.only in (None, "offline"):
        labels, medstab_labels = make_labels(root, args.rows, args.work)
        report["label_rows"] = pl.scan_parquet(labels).select(pl.len()).collect().item()
        report["ours"] = run_ours(root, labels, args.work)
        if not args.skip_medstab:
            report["medstab"] = run_medstab(root, medstab_labels, args.work)
        print(json.dumps(report, indent=1), flush=True)
    if args.only in (None, "online"):
        report["online"] = online_latency(root)
        print(json.dumps(report["online"], indent=1), flush=True)
    if args.only in (None, "baselines"):
        report["baselines"] = baselines(root, args.work)
        print(json.dumps(report["baselines"], indent=1), flush=True)
    report["load_avg_at_end"] = os.getloadavg()
    (args.work / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

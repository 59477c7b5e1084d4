"""Linear probes: a subject embedding at each prediction time, logistic regression on train, AUROC on held-out.

The embedding of (subject, prediction_time T) is the model's final hidden state at the last token strictly
before T, run causally over (a window of) the subject's own tokens, so nothing at or after T can reach it.
"Strictly before" is decided on the trajectories' float32 times: a token counts only when
float32(its age) < float32(age at T), both computed as the tokenizer does ((time - origin) / year in
float64, then rounded). Rounding is monotone, so a token at or after T never passes; a token within one
float32 step (minutes) before T may be left out, the safe side. Tokens are taken as the longest such prefix.

Label tables are any MEDS label Parquet (`schemas.labels`): one file or a folder of shards, with one of
boolean/integer/float/categorical value columns. Probes score boolean labels (others are reported as skipped).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from model.tokenizer.encode import US_PER_YEAR
from schemas.labels import LABELS_DIR
from schemas.labels import read_label_table as read_label_table  # public here too (model.evaluate, users)
from schemas.layout import Layout
from schemas.meds import SPLITS
from schemas.tokens import trajectory_shards

if TYPE_CHECKING:
    import torch

FEATURE_SPEC = "default"  # the feature store's shipped spec, whose tables the baseline reads


def task_label_dirs(root: str | Path) -> dict[str, Path]:
    """The feature store's label tables under the root: {task: features/labels/<task>/}."""
    base = Layout(Path(root)).features / LABELS_DIR
    return (
        {p.name: p for p in sorted(base.iterdir()) if p.is_dir() and any(p.glob("*.parquet"))}
        if base.exists()
        else {}
    )


@dataclass(slots=True)
class Trajectories:
    """Every split's trajectories, flat: tokens of subject i are ids[offsets[i]:offsets[i + 1]]."""

    subject_ids: np.ndarray  # (S,) int64
    split: np.ndarray  # (S,) str
    origin_us: np.ndarray  # (S,) int64, meaningful where has_origin
    has_origin: np.ndarray  # (S,) bool
    offsets: np.ndarray  # (S + 1,) int64
    ids: np.ndarray  # (N,) int64
    times: np.ndarray  # (N,) float32 years since origin

    @classmethod
    def load(cls, root: str | Path, splits: tuple[str, ...] = SPLITS) -> Trajectories:
        tokens = Layout(Path(root)).tokens
        parts = [(split, path) for split in splits for _, path in trajectory_shards(tokens, split)]
        if not parts:
            raise FileNotFoundError(f"no trajectories under {tokens}")
        tables = [(split, pq.read_table(path)) for split, path in parts]
        lengths = np.concatenate([t.column("length").to_numpy().astype(np.int64) for _, t in tables])
        origin = pl.concat([pl.from_arrow(t.select(["origin"])) for _, t in tables])["origin"]  # type: ignore[arg-type]
        return cls(
            subject_ids=np.concatenate([t.column("subject_id").to_numpy() for _, t in tables]).astype(np.int64),
            split=np.concatenate([np.full(t.num_rows, s, dtype=object) for s, t in tables]),
            origin_us=origin.cast(pl.Datetime("us")).cast(pl.Int64).fill_null(0).to_numpy(),
            has_origin=origin.is_not_null().to_numpy(),
            offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
            ids=np.concatenate([_flat(t, "input_ids") for _, t in tables]).astype(np.int64),
            times=np.concatenate([_flat(t, "times") for _, t in tables]).astype(np.float32),
        )

    def index_of(self, subject_ids: np.ndarray) -> np.ndarray:
        """Row of each subject id, -1 when it has no trajectory."""
        order = np.argsort(self.subject_ids)
        at = np.searchsorted(self.subject_ids[order], subject_ids).clip(max=max(len(order) - 1, 0))
        found = self.subject_ids[order][at] == subject_ids
        return np.where(found, order[at], -1)

    def prefix_lengths(self, rows: np.ndarray, prediction_us: np.ndarray) -> np.ndarray:
        """Tokens of subject `rows[j]` strictly before prediction time j (the longest such prefix); 0 if none."""
        out = np.zeros(len(rows), np.int64)
        ok = (rows >= 0) & self.has_origin[np.maximum(rows, 0)]
        cutoff = ((prediction_us[ok] - self.origin_us[rows[ok]]) / US_PER_YEAR).astype(np.float32)
        for j, row, limit in zip(np.flatnonzero(ok), rows[ok], cutoff, strict=True):
            times = self.times[self.offsets[row] : self.offsets[row + 1]]
            late = np.flatnonzero(~(times < limit))
            out[j] = late[0] if len(late) else len(times)
        return out


def _flat(table, column: str) -> np.ndarray:
    return table.column(column).combine_chunks().flatten().to_numpy()


def embeddings_at(
    model: torch.nn.Module,
    traj: Trajectories,
    rows: np.ndarray,
    prefix: np.ndarray,
    *,
    tokens_per_batch: int = 16384,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """(n, D) hidden state at token prefix[j] - 1 of subject rows[j] (prefix[j] >= 1), causally.

    Each needed position p is read from the window [start, start + C) with the most history before p
    (windows start every C/2 tokens, C the context length), so every position sees at least C/2 earlier
    tokens of its subject when it has them. A window's hidden states serve every position in it at once:
    causal attention makes position p's state independent of the tokens after p.
    """
    import torch

    from model.packing import pack_bfd

    context = model.config.context_length  # type: ignore[attr-defined]
    half = max(context // 2, 1)
    pos = prefix - 1  # (n,) token index inside the subject
    start = np.maximum(0, -(-(pos - context + 1) // half)) * half  # smallest window start covering pos
    windows, inverse = np.unique(np.stack([rows, start]), axis=1, return_inverse=True)
    inverse = inverse.reshape(-1)
    w_rows, w_start = windows[0], windows[1]
    # Each window stops at the last position read from it: no token after a prediction time is even run.
    length = np.zeros(len(w_rows), np.int64)
    np.maximum.at(length, inverse, pos - start + 1)
    packing = pack_bfd(length, max(tokens_per_batch, context))
    out = np.zeros((len(rows), model.config.d_model), np.float32)  # type: ignore[attr-defined]
    flat_base = traj.offsets[w_rows] + w_start  # (W,) flat index of each window's first token
    model.eval()
    for b in range(packing.n_packs):
        members = packing.order[packing.offsets[b] : packing.offsets[b + 1]]
        lens = length[members]
        src = np.concatenate(
            [np.arange(flat_base[m], flat_base[m] + n) for m, n in zip(members, lens, strict=True)]
        )
        seg = np.r_[0, np.cumsum(lens)]
        batch = {
            "input_ids": torch.from_numpy(traj.ids[src]),
            "times": torch.from_numpy(traj.times[src]),
            "position_ids": torch.from_numpy(np.concatenate([np.arange(n) for n in lens])),
            "cu_seqlens": torch.from_numpy(seg.astype(np.int32)),
        }
        with torch.no_grad():
            hidden = (
                model.hidden_states({k: v.to(device) for k, v in batch.items()}).float().cpu().numpy()
            )  # (T, D)
        where = np.full(len(length), -1, np.int64)
        where[members] = seg[:-1]
        mine = np.flatnonzero(np.isin(inverse, members))
        out[mine] = hidden[where[inverse[mine]] + pos[mine] - start[mine]]
    return out


@dataclass(slots=True)
class ProbeData:
    """Label rows that have an embedding: their keys, split, labels and embeddings."""

    frame: pl.DataFrame  # subject_id, prediction_time, split, y
    x: np.ndarray  # (n, D)
    dropped: int  # label rows with no subject trajectory or no token before prediction_time


def probe_data(model: torch.nn.Module, traj: Trajectories, labels: pl.DataFrame, column: str, **kw) -> ProbeData:
    rows = traj.index_of(labels["subject_id"].to_numpy())
    when = labels["prediction_time"].cast(pl.Int64).to_numpy()
    prefix = traj.prefix_lengths(rows, when)
    keep = prefix > 0
    x = embeddings_at(model, traj, rows[keep], prefix[keep], **kw) if keep.any() else np.zeros((0, 1), np.float32)
    frame = labels.filter(pl.Series(keep)).select(
        "subject_id", "prediction_time", pl.Series("split", traj.split[rows[keep]], dtype=pl.String),
        pl.col(column).alias("y"),
    )  # fmt: skip
    return ProbeData(frame, x, int((~keep).sum()))


def fit_and_score(x_train, y_train, x_test, y_test, *, c: float = 1.0) -> float | None:
    """AUROC on the test rows of a standardized logistic regression fit on the train rows (None: one class).

    Missing values (NaN) take the train column's median (0 for a column with none), as the feature store's
    own baseline does; numpy's nanmedian, since sklearn's SimpleImputer takes ~20 s on 15k x 2.5k here.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    if len(set(y_train.tolist())) < 2 or len(set(y_test.tolist())) < 2:
        return None
    x_train, x_test = np.asarray(x_train, np.float64), np.asarray(x_test, np.float64)
    if np.isnan(x_train).any() or np.isnan(x_test).any():
        with np.errstate(all="ignore"), warnings.catch_warnings(action="ignore"):  # all-NaN columns warn
            median = np.nan_to_num(np.nanmedian(x_train, axis=0), nan=0.0)
        x_train = np.where(np.isnan(x_train), median, x_train)
        x_test = np.where(np.isnan(x_test), median, x_test)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    # One BLAS thread: these fits are small, and extra threads only contend on a shared CPU (0.3 s vs 13 s here).
    with threadpool_limits(1):
        clf.fit(x_train, y_train)
        return float(roc_auc_score(y_test, clf.predict_proba(x_test)[:, 1]))


def feature_baseline(root: str | Path, task: str, keys: pl.DataFrame, *, test_split: str = "held_out",
                     spec: str = FEATURE_SPEC) -> dict | None:  # fmt: skip
    """The feature store's point-in-time features for the same label rows (features/tables/<task>/<spec>/),
    logistic regression on train rows, AUROC on test rows; None when the table is absent."""
    folder = Layout(Path(root)).features / "tables" / task / spec
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    if not files:
        return None
    wide = pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed")
    features = [c for c in wide.columns if "/" in c]
    wide = wide.select(
        pl.col("subject_id").cast(pl.Int64), pl.col("prediction_time").cast(pl.Datetime("us")), *features
    ).unique(["subject_id", "prediction_time"], keep="first", maintain_order=True)
    joined = keys.join(wide, on=["subject_id", "prediction_time"], how="inner", maintain_order="left")
    train, test = joined.filter(pl.col("split") == "train"), joined.filter(pl.col("split") == test_split)

    def matrix(frame: pl.DataFrame) -> np.ndarray:
        return frame.select(features).cast(pl.Float32).to_numpy()

    # C=0.05 as in the feature store's own baseline (bench/features.py): hundreds of sparse count columns.
    auroc = fit_and_score(matrix(train), train["y"].to_numpy(), matrix(test), test["y"].to_numpy(), c=0.05)
    return {"auroc": _round(auroc), "features": len(features), "rows": len(joined)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def probe_task(model: torch.nn.Module, traj: Trajectories, labels: pl.DataFrame, column: str | None, *,
               root: str | Path | None = None, task: str | None = None, test_split: str = "held_out",
               device: str | torch.device = "cpu") -> dict:  # fmt: skip
    """Probe AUROC for one boolean label table (fit on train, scored on `test_split`), and the baseline."""
    if column != "boolean_value":
        return {"skipped": f"probes score boolean labels; this table has {column or 'no value column'}"}
    data = probe_data(model, traj, labels, column, device=device)
    split = data.frame["split"].to_numpy()
    y = data.frame["y"].cast(pl.Int8).to_numpy()
    train, test = split == "train", split == test_split
    result = {
        "rows": len(labels), "dropped_no_history": data.dropped,
        "train_rows": int(train.sum()), "train_pos": int(y[train].sum()),
        "test_rows": int(test.sum()), "test_pos": int(y[test].sum()),
        "probe_auroc": _round(fit_and_score(data.x[train], y[train], data.x[test], y[test])),
    }  # fmt: skip
    if root is not None and task is not None:
        keys = data.frame.with_columns(pl.col("y").cast(pl.Int8))
        result["baseline"] = feature_baseline(root, task, keys, test_split=test_split)
    return result

"""Plots for the stewards' site, from de-identified tables only, as embeddable PNG data URIs (matplotlib)."""

import base64
import io
from pathlib import Path

import polars as pl

from quality import plausibility as p
from schemas.layout import Layout
from schemas.publish import dataset_files

MAX_LABS = 8


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def plot_sources(layout: Layout) -> list[Path]:
    """Every file the plots are drawn from: what their cache key covers (quality.picture_cache)."""
    return [*dataset_files(layout.meds, "data/*/*.parquet"), *_trajectory_files(layout)]


def plots(layout: Layout) -> dict[str, str]:
    """Title -> PNG data URI. Empty when the root has no MEDS data yet."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = dataset_files(layout.meds, "data/*/*.parquet")
    if not files:
        return {}
    data = pl.read_parquet(files, columns=["subject_id", "time", "code", "numeric_value", "unit"])
    out: dict[str, str] = {}

    years = data.drop_nulls("time").group_by(pl.col("time").dt.year().alias("year")).len().sort("year")
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.bar(years["year"].to_list(), years["len"].to_list(), width=1.0, color="#4c72b0")
    ax.set(xlabel="year (shifted)", ylabel="events", title="Events per year")
    out["Events per year"] = _png(fig)

    per_subject = data.group_by("subject_id").agg(
        pl.col("code").n_unique().alias("codes"), pl.len().alias("events")
    )
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.6))
    axes[0].hist(per_subject["codes"].to_list(), bins=40, color="#55a868")
    axes[0].set(xlabel="distinct codes", ylabel="subjects", title="Codes per subject")
    trajectories = _trajectory_lengths(layout)
    lengths = trajectories or per_subject["events"].to_list()
    axes[1].hist(lengths, bins=40, color="#c44e52")
    what = "tokens per trajectory" if trajectories else "events per subject"
    axes[1].set(xlabel=what, ylabel="subjects", title="Trajectory length")
    out["Codes per subject and trajectory length"] = _png(fig)

    labs = (
        data.filter(pl.col("code").is_in(list(p.BY_CODE)) & pl.col("numeric_value").is_not_null())
        .group_by("code")
        .len()
        .sort("len", descending=True)
        .head(MAX_LABS)["code"]
        .to_list()
    )
    if labs:
        cols = 4
        rows = (len(labs) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(12, 2.4 * rows), squeeze=False)
        for ax, code in zip(axes.flat, labs, strict=False):
            r = p.BY_CODE[code]
            vals = data.filter((pl.col("code") == code) & (pl.col("unit") == r.unit))["numeric_value"].drop_nulls()
            # +-inf or NaN (a MEDS set from elsewhere; ours quarantines them) would stop the histogram: the
            # finite values are drawn and the others counted in the title, where the expectations flag them.
            finite = vals.filter(vals.is_finite())
            ax.hist(finite.to_list(), bins=40, color="#8172b2")
            if finite.len() < vals.len():
                ax.text(0.02, 0.9, f"{vals.len() - finite.len()} non-finite", transform=ax.transAxes, fontsize=8)
            for x in (r.low, r.high):
                ax.axvline(x, color="#c44e52", linestyle="--", linewidth=1)
            ax.set_title(f"{r.label} ({r.unit})", fontsize=9)
        for ax in list(axes.flat)[len(labs) :]:
            ax.axis("off")
        fig.suptitle("Value distributions per lab; dashed: physiological range", fontsize=10)
        out["Value distributions per lab"] = _png(fig)
    return out


def _trajectory_files(layout: Layout) -> list[Path]:
    return dataset_files(Path(layout.tokens), "trajectories/*/*.parquet")


def _trajectory_lengths(layout: Layout) -> list[int]:
    files = _trajectory_files(layout)
    return pl.read_parquet(files, columns=["length"])["length"].to_list() if files else []

"""Aggregate summaries of a fitted vocabulary for asset metadata: counts per vocabulary, never rare codes."""

import polars as pl

from model.tokenizer.vocab import Tokenizer


def vocabulary_summary(tok: Tokenizer) -> tuple[dict, str]:
    """(flat numbers, a Markdown table per vocabulary). Rare codes appear only inside their UNK count."""
    voc = tok.vocabulary.with_columns(vocab=pl.col("token").str.split("//").list.first())
    codes = voc.filter(pl.col("kind") == "code")
    unks = voc.filter(pl.col("kind") == "unk")
    per = (
        codes.group_by("vocab")
        .agg(codes=pl.len(), rows=pl.col("count").sum())
        .join(unks.select("vocab", unk_rows=pl.col("count")), on="vocab", how="full", coalesce=True)
        .fill_null(0)
        .sort("vocab")
    )
    total = int(per["rows"].sum() + per["unk_rows"].sum())
    summary = {
        "vocab_size": tok.size,
        "codes_with_own_token": codes.height,
        "vocabularies": unks.height,
        "train_rows": total,
        "train_rows_to_unk_pct": round(100 * float(per["unk_rows"].sum()) / max(total, 1), 3),
        "numeric_codes_binned": tok.value_bins.height,
        "min_count": tok.config.min_count,
        "n_value_bins": tok.config.n_value_bins,
        "fingerprint": tok.fingerprint(),
    }
    lines = ["| vocabulary | codes | train rows | rows to UNK |", "|---|---:|---:|---:|"]
    lines += [
        f"| {v} | {c} | {r} | {u} |" for v, c, r, u in per.select("vocab", "codes", "rows", "unk_rows").iter_rows()
    ]
    return summary, "\n".join(lines)

"""Synthetic MEDS roots for tests and benchmarks: log-normal timeline lengths, Zipf codes, labs with units."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from schemas.io import write_parquet, write_text
from schemas.layout import Layout
from schemas.meds import (
    BIRTH_CODE,
    CODES_SCHEMA,
    DATA_SCHEMA,
    DEATH_CODE,
    MEDS_VERSION,
    SPLITS,
    SUBJECT_SPLITS_SCHEMA,
)

# Labs: (code, canonical unit, mean, sd, alternative unit, factor alt = canonical * factor).
LABS = (
    ("LOINC//2345-7", "mg/dL", 100.0, 25.0, "mmol/L", None),  # glucose: molar unit does not convert -> VALUE//UNK
    ("LOINC//718-7", "g/dL", 13.5, 1.5, "g/L", 10.0),  # hemoglobin
    ("LOINC//8302-2", "cm", 165.0, 15.0, "[in_i]", 1 / 2.54),  # body height
    ("LOINC//29463-7", "kg", 75.0, 15.0, "[lb_av]", 2.20462262),  # body weight
    ("LOINC//8310-5", "Cel", 37.0, 0.5, "[degF]", None),  # body temperature (affine, handled below)
    ("LOINC//2160-0", "mg/dL", 1.0, 0.3, "mg/dL", 1.0),  # creatinine
)
ONLY_IN = {"tuning": ("SNOMED//999000001", "NEWVOCAB//tuning-only"), "held_out": ("RXNORM//999000002",)}


@dataclass(frozen=True, kw_only=True)
class SyntheticSpec:
    n_subjects: int = 24
    n_shards: int = 2
    median_events: float = 40.0
    sigma: float = 0.9
    max_events: int = 400
    n_codes: int = 300
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    alt_unit_rate: float = 0.1
    death_rate: float = 0.15
    seed: int = 0


def _codes(n: int) -> np.ndarray:
    vocab = ("SNOMED", "RXNORM", "CVX", "ENCOUNTER", "IMAGING", "NOTE")
    out = []
    for i in range(n):
        v = vocab[i % len(vocab)]
        if v == "IMAGING":
            out.append(f"IMAGING//{('CT', 'MR', 'DX')[i % 3]}//BODYSITE{i}")
        elif v == "ENCOUNTER":
            out.append(f"ENCOUNTER//AMB{i}")
        else:
            out.append(f"{v}//{100000 + i}")
    return np.array(out, dtype=object)


def make_events(spec: SyntheticSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(MEDS rows sorted per subject, subjects with split and shard); fully vectorized over subjects."""
    rng = np.random.default_rng(spec.seed)
    n = spec.n_subjects
    subject_id = rng.choice(np.arange(10**6, 10**6 + 50 * n), size=n, replace=False).astype(np.int64)
    split = rng.choice(len(SPLITS), size=n, p=spec.split_fractions)
    split[: len(SPLITS)] = np.arange(len(SPLITS))  # every split has a subject
    shard = np.arange(n) % spec.n_shards
    n_ev = np.clip(rng.lognormal(np.log(spec.median_events), spec.sigma, n).astype(np.int64), 3, spec.max_events)

    birth_us = (rng.uniform(1930, 2015, n) - 1970) * 365.25 * 86400e6
    subj_of = np.repeat(np.arange(n), n_ev)
    total = int(n_ev.sum())
    same_time = rng.random(total) < 0.45  # several codes per visit
    # Each subject's record spans 1-60 years whatever its length, so dense records get short gaps.
    span_min = rng.uniform(1, 60, n) * 525960
    gap_median = span_min / (n_ev * 0.55) / np.exp(2.0**2 / 2)
    gap_min = np.where(same_time, 0.0, rng.lognormal(np.log(np.repeat(gap_median, n_ev)), 2.0))
    gap_min[np.r_[0, np.cumsum(n_ev)[:-1]]] = rng.uniform(0, 525960 * 20, n)  # first event after birth
    seg_start = np.r_[0, np.cumsum(n_ev)[:-1]]
    csum = np.cumsum(gap_min)
    rel = csum - np.repeat(csum[seg_start] - gap_min[seg_start], n_ev)
    ev_time = (birth_us[subj_of] + np.round(rel) * 60e6).astype(np.int64)

    zipf = np.minimum(rng.zipf(1.3, total), spec.n_codes) - 1
    code_pool = _codes(spec.n_codes)
    is_lab = rng.random(total) < 0.35
    lab = rng.integers(0, len(LABS), total)
    codes = np.where(is_lab, np.array([c for c, *_ in LABS], dtype=object)[lab], code_pool[zipf])
    mean = np.array([m for _, _, m, *_ in LABS])[lab]
    sd = np.array([s for _, _, _, s, *_ in LABS])[lab]
    value = np.where(is_lab, rng.normal(mean, sd), np.nan)
    alt = is_lab & (rng.random(total) < spec.alt_unit_rate)
    unit = np.where(is_lab, np.array([u for _, u, *_ in LABS], dtype=object)[lab], None)
    alt_unit = np.array([a for *_, a, _ in LABS], dtype=object)[lab]
    factor = np.array([f if f is not None else np.nan for *_, f in LABS])[lab]
    is_temp = codes == "LOINC//8310-5"
    value = np.where(alt & ~np.isnan(factor), value * factor, value)
    value = np.where(alt & is_temp, value * 9 / 5 + 32, value)
    value = np.where(alt & (codes == "LOINC//2345-7"), value / 18.0, value)
    unit = np.where(alt, alt_unit, unit)

    # Codes that exist only outside train, one event per subject of that split.
    extra_subj, extra_code = [], []
    for name, only in ONLY_IN.items():
        members = np.flatnonzero(split == SPLITS.index(name))
        for code in only:
            extra_subj += list(members)
            extra_code += [code] * len(members)
    extra_subj = np.array(extra_subj, dtype=np.int64)
    last_time = ev_time[np.cumsum(n_ev) - 1]

    dies = rng.random(n) < spec.death_rate
    frames = [
        pl.DataFrame(
            {
                "i": np.arange(n),
                "k": 0,
                "time": None,
                "code": np.where(rng.random(n) < 0.5, "GENDER//female", "GENDER//male"),
            }
        ),
        pl.DataFrame({"i": np.arange(n), "k": 1, "time": birth_us.astype(np.int64), "code": BIRTH_CODE}),
        pl.DataFrame(
            {
                "i": subj_of,
                "k": 2,
                "time": ev_time,
                "code": codes.astype(str),
                "numeric_value": value,
                "unit": pl.Series(unit.tolist(), dtype=pl.String),
            }
        ),
        pl.DataFrame({"i": extra_subj, "k": 3, "time": last_time[extra_subj] + 3600_000_000, "code": extra_code}),
        pl.DataFrame(
            {"i": np.flatnonzero(dies), "k": 4, "time": last_time[dies] + 86400_000_000 * 2, "code": DEATH_CODE}
        ),
    ]
    rows = pl.concat(
        [f.with_columns(pl.col("time").cast(pl.Int64), pl.col("i").cast(pl.Int64)) for f in frames],
        how="diagonal_relaxed",
    )
    rows = (
        rows.with_row_index("_r")
        .sort(["i", "k", "time", "_r"], nulls_last=False)
        .join(pl.DataFrame({"i": np.arange(n), "subject_id": subject_id}), on="i", maintain_order="left")
        .select(
            "subject_id",
            pl.col("time").cast(pl.Datetime("us")),
            "code",
            pl.col("numeric_value").fill_nan(None).cast(pl.Float32),
            pl.lit(None, pl.String).alias("text_value"),
            "unit",
            "i",
        )
    )
    subjects = pl.DataFrame(
        {"i": np.arange(n), "subject_id": subject_id, "split": np.array(SPLITS)[split], "shard": shard}
    )
    return rows, subjects


def write_synthetic_meds(root: Path, spec: SyntheticSpec | None = None) -> Layout:
    """Write a MEDS root (data shards per split, codes, subject splits, dataset.json) under `root`."""
    spec = spec or SyntheticSpec()
    layout = Layout(Path(root))
    rows, subjects = make_events(spec)
    rows = rows.join(subjects.select("i", "split", "shard"), on="i", maintain_order="left")
    for (split, shard), part in rows.group_by("split", "shard", maintain_order=True):
        table = part.drop("i", "split", "shard").to_arrow()
        write_parquet(table, layout.meds_shard(split, shard), DATA_SCHEMA)
    codes = rows.select(pl.col("code").unique().sort())
    write_parquet(
        codes.with_columns(description=None, parent_codes=None).to_arrow(), layout.meds_codes, CODES_SCHEMA
    )
    write_parquet(
        subjects.select("subject_id", "split").to_arrow(), layout.meds_subject_splits, SUBJECT_SPLITS_SCHEMA
    )
    meta = {
        "dataset_name": "synthetic",
        "dataset_version": "0",
        "etl_name": "longitude-tests",
        "etl_version": "0",
        "meds_version": MEDS_VERSION,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    write_text(json.dumps(meta) + "\n", layout.meds_dataset_json)
    return layout

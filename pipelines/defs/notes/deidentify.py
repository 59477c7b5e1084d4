"""De-identify one shard of every source's raw notes into notes/<split>/<shard>.parquet."""

from pathlib import Path

import polars as pl

from deid.pseudonym import Keyring
from pipelines.defs.known_phi import known_phi, root_phi
from pipelines.defs.meds.subjects import subject_map
from pipelines.ledger import ledger_from_records, write_ledger
from schemas import quarantine as q
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.meds import SPLITS
from schemas.notes import NOTES_SCHEMA, RAW_NOTES_SCHEMA
from schemas.publish import files_under, publishing
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import RAW_PATIENTS_SCHEMA

ASSET = "notes_deidentified"


def _read(layout: Layout, table: str, shard: int, schema) -> pl.DataFrame:
    files = files_under(layout.raw, Layout.raw_shard_pattern(table, shard))
    return pl.read_parquet(files, hive_partitioning=False) if files else pl.from_arrow(schema.empty_table())


def real_people_values(layout: Layout) -> frozenset[str]:
    """What surrogates must never be: every word of every known subject's names (lower-cased), the last 7
    digits of their phones, and their address parts (street, city, ZIP), over all sources and shards."""
    files = files_under(layout.raw, Layout.raw_shard_pattern("patients", "*"))
    if not files:
        return frozenset()
    people = pl.read_parquet(files, columns=["names", "telecoms", "addresses"], hive_partitioning=False)
    words = people["names"].explode().drop_nulls().str.to_lowercase().str.extract_all(r"[^\W\d_]+").explode()
    words = words.drop_nulls().filter(words.drop_nulls().str.len_chars() > 1)
    phones = people["telecoms"].explode().drop_nulls().str.replace_all(r"\D", "")
    phones = phones.filter(phones.str.len_chars() >= 7).str.slice(-7)
    places = people["addresses"].explode().drop_nulls().str.to_lowercase()  # street lines, cities, ZIPs
    return frozenset(words.unique().to_list()) | frozenset(phones.unique().to_list()) | frozenset(places.to_list())


def notes_path(layout: Layout, split: str, shard: int) -> Path:
    return layout.notes / split / f"{shard}.parquet"


def deidentify_shard(
    layout: Layout,
    keyring: Keyring,
    shard: int,
    fractions: tuple[float, float, float],
    *,
    policy: str = "shifted",
    n_process: int = 1,
) -> dict[str, int]:
    from deid.text.surrogates import deidentify_batch

    notes = _read(layout, "notes", shard, RAW_NOTES_SCHEMA).sort("source_patient", "time", "note_id")
    patients = (
        _read(layout, "patients", shard, RAW_PATIENTS_SCHEMA)
        .sort("source_file", "position")
        .unique("source_patient", keep="first", maintain_order=True)
    )
    orphans = notes.join(patients.select("source_patient"), on="source_patient", how="anti")
    notes = notes.join(patients.select("source_patient"), on="source_patient", how="semi")
    by_patient = {p["source_patient"]: known_phi(p) for p in patients.to_dicts()}
    keys = notes["source_patient"].to_list()
    texts = deidentify_batch(
        notes["text"].to_list(),
        keys,
        [by_patient[k] for k in keys],
        policy=policy,
        secret=keyring.secret,
        n_process=n_process,
        avoid_names=real_people_values(layout),
        root_phi=root_phi(layout),
    )
    subjects = subject_map(sorted(set(keys)), keyring, fractions)
    shifted = notes.with_columns(pl.Series("text", texts, pl.String)).join(
        subjects, on="source_patient", how="left"
    )
    if policy == "limited-data-set":
        shifted = shifted.with_columns(pl.lit(0).alias("shift_days"))
    out = shifted.select(
        "subject_id",
        (pl.col("time") + pl.duration(days=pl.col("shift_days"))).alias("time"),
        "note_id",
        "note_type",
        "type_display",
        pl.col("encounter")
        .map_elements(lambda e: keyring.token("encounter", e), return_dtype=pl.String)
        .alias("encounter_id"),
        "text",
        "split",
    ).sort("subject_id", "time", "note_id")
    counts = {}
    with publishing(layout.notes, keep_except=[f"*/{shard}.parquet"]) as stage:  # this shard's files, at once
        for split in SPLITS:
            part = out.filter(pl.col("split") == split)
            counts[split] = part.height
            if part.height:
                write_parquet(part.to_arrow(), stage.path(notes_path(layout, split, shard)), NOTES_SCHEMA)
    _quarantine_and_ledger(layout, keyring, shard, notes, orphans)
    return {"notes": out.height, "quarantined": orphans.height, **counts}


def _quarantine_and_ledger(
    layout: Layout, keyring: Keyring, shard: int, kept: pl.DataFrame, orphans: pl.DataFrame
) -> None:
    qpath = layout.quarantine(ASSET) / f"{shard}.parquet"
    if orphans.height:
        table = orphans.select(
            pl.lit(ASSET).alias("asset"),
            "source_file",
            "position",
            pl.lit("note").alias("resource_type"),
            pl.lit(q.MISSING_PATIENT).alias("reason_code"),
            pl.lit("note refers to a patient that no source delivered").alias("reason"),
            pl.col("text").alias("record"),
        )
        write_parquet(table.to_arrow(), qpath, QUARANTINE_SCHEMA)
    else:
        qpath.unlink(missing_ok=True)
    ledger = ledger_from_records(ASSET, kept, orphans, pl.lit("note"))
    write_ledger(ledger, layout.ledger(ASSET, str(shard)), layout, keyring)

"""Build one MEDS data shard from every source's raw events: link, cap ages, pseudonymize, shift, sort."""

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from deid.pseudonym import Keyring
from pipelines.defs import known_phi
from pipelines.defs.meds import duplicates, extra_columns
from pipelines.defs.meds.derived import with_derived_events
from pipelines.defs.meds.subjects import subject_map
from pipelines.ledger import ledger_from_records, write_ledger
from schemas import quarantine as q
from schemas.io import write_parquet
from schemas.layout import Layout
from schemas.meds import BIRTH_CODE, DATA_SCHEMA, SPLITS
from schemas.publish import files_under, partition_stage, pending_files
from schemas.quarantine import QUARANTINE_SCHEMA
from schemas.raw import (
    RAW_EVENTS_SCHEMA,
    RAW_PATIENTS_SCHEMA,
    RAW_RESOURCE_CONFLICTS_SCHEMA,
    RAW_RESOURCE_IDS_SCHEMA,
)
from schemas.values import FLOAT32_MAX, PLAUSIBLE_END, RAW_FIRST

ASSET = "meds_data"
# Safe Harbor: ages over 89 are aggregated. We cap the age a subject reaches in the data at 90 years by moving
# the birth forward (and any earlier event up to it); 90 * 365.2425 days, in microseconds.
MAX_AGE_US = int(90 * 365.2425 * 86_400 * 1_000_000)
SORT_COLUMNS = ["subject_id", "time", "code", "numeric_value", "text_value", "unit"]


@dataclass(frozen=True, slots=True)
class ShardSummary:
    shard: int
    subjects: dict[str, int]  # per split
    events_in: int
    events_out: int  # source events kept: events_in = events_out + quarantined
    quarantined: int
    age_capped_subjects: int
    derived_events: int = 0  # rows added from kept ones (pipelines.defs.meds.derived); MEDS rows = out + derived
    age_cap_moved_events: int = 0  # events other than birth that the cap moved forward (flagged, see _cap_ages)
    age_cap_whole_timelines: int = 0  # capped subjects with most of their timed events moved: a suspect date


def _scan(layout: Layout, table: str, shard: int, schema: pa.Schema) -> pl.DataFrame:
    files = files_under(layout.raw, Layout.raw_shard_pattern(table, shard))
    if not files:
        return pl.from_arrow(schema.empty_table())  # type: ignore[return-value]
    return pl.read_parquet(files, hive_partitioning=False)


def build_shard(
    layout: Layout,
    keyring: Keyring,
    shard: int,
    fractions: tuple[float, float, float],
    n_shards: int | None = None,
) -> ShardSummary:
    """Stage meds/data/<split>/<shard>.parquet for every split, plus this shard's quarantine and ledger.

    The data shards of all `n_shards` switch together (schemas.publish): readers see the previous set until
    the last shard of this build is staged. Without `n_shards` this shard is published on its own.
    """
    return write_shard(layout, keyring, compute_shard(layout, keyring, shard, fractions), n_shards)


@dataclass(frozen=True, slots=True)
class BuiltShard:
    """A shard's output, computed and not yet written: its rows per split, quarantine and ledger."""

    summary: ShardSummary
    parts: dict[str, pa.Table]  # per split with rows, in the data schema's column order
    schema: pa.Schema
    quarantine: pa.Table | None  # None: no record of this shard is quarantined
    ledger: pl.DataFrame


def compute_shard(
    layout: Layout, keyring: Keyring, shard: int, fractions: tuple[float, float, float]
) -> BuiltShard:
    """Read the shard's raw events of every source; link, cap ages, pseudonymize, shift and sort (no writes)."""
    events = _scan(layout, "events", shard, RAW_EVENTS_SCHEMA)
    all_patients = _scan(layout, "patients", shard, RAW_PATIENTS_SCHEMA).sort("source_file", "position")
    patients = (
        all_patients.unique("source_patient", keep="first", maintain_order=True)
        .select("source_patient", "birth_time")
        .with_columns(pl.when(_plausible(pl.col("birth_time"))).then(pl.col("birth_time")).alias("birth_time"))
    )
    known = events.join(patients.select("source_patient"), on="source_patient", how="semi")
    orphans = events.join(patients.select("source_patient"), on="source_patient", how="anti")
    # The values policy (schemas.values) for every source at once, and one patient record per subject.
    copies = duplicates.later_copies(_scan(layout, "resource_ids", shard, RAW_RESOURCE_IDS_SCHEMA))
    conflicts = _scan(layout, "resource_conflicts", shard, RAW_RESOURCE_CONFLICTS_SCHEMA)
    known, rejected = _reject_values(known, _second_patient_records(all_patients), copies, conflicts)
    orphans = pl.concat([orphans.with_columns(_reason(q.MISSING_PATIENT, _ORPHAN)), rejected], how="diagonal")
    extra = extra_columns.declared_extra_columns(layout)  # MEDS allows columns after the six; declared only
    if extra:
        known = extra_columns.attach(layout, shard, known, extra)

    subjects = subject_map(patients["source_patient"].to_list(), keyring, fractions)
    data = _cap_ages(known.join(patients, on="source_patient", how="left"))
    data = data.join(subjects, on="source_patient", how="left").with_columns(
        pl.col("time") + pl.duration(days=pl.col("shift_days"))
    )
    if extra:
        root = known_phi.root_phi(layout) if any(s.deid == "text" for s in extra) else None
        data = extra_columns.deidentify(data, extra, keyring, all_patients, root)
    # Coded values and birth years as codes of their own, for MEDS tools that never read text_value.
    data = with_derived_events(data).sort(SORT_COLUMNS, nulls_last=False, maintain_order=True)
    age_capped = int(data.filter(pl.col("capped")).select(pl.col("subject_id").n_unique()).item())
    moved, whole = _cap_moves(data)
    counts, parts = {}, {}
    schema = pa.schema([*DATA_SCHEMA, *extra_columns.meds_fields(extra)])
    for split in SPLITS:
        part = data.filter(pl.col("split") == split)
        counts[split] = part["subject_id"].n_unique()
        if part.height:  # an empty split has no file: the staged set holds no stale shard to resurrect subjects
            parts[split] = part.select(schema.names).to_arrow()
    derived = data.height - known.height
    summary = ShardSummary(
        shard, counts, events.height, known.height, orphans.height, age_capped, derived, moved, whole
    )
    ledger = ledger_from_records(ASSET, known, orphans, "resource_type")
    return BuiltShard(summary, parts, schema, _quarantine_table(orphans), ledger)


def write_shard(layout: Layout, keyring: Keyring, built: BuiltShard, n_shards: int | None = None) -> ShardSummary:
    """Stage the shard's data files, write its quarantine and ledger, and commit it to its set."""
    shard = built.summary.shard
    mine = f"data/*/{shard}.parquet"
    keys, owns = ([str(k) for k in range(n_shards)], "data/**") if n_shards else ([str(shard)], mine)
    stage = partition_stage(layout.meds, ASSET, str(shard), keys, owns=[owns], drop=[mine])
    for split, table in built.parts.items():
        write_parquet(table, stage.path(layout.meds_shard(split, shard)), built.schema)
    path = layout.quarantine(ASSET) / f"{shard}.parquet"
    if built.quarantine is None:
        path.unlink(missing_ok=True)
    else:
        write_parquet(built.quarantine, path, QUARANTINE_SCHEMA)
    write_ledger(built.ledger, layout.ledger(ASSET, str(shard)), layout, keyring)
    stage.commit()
    return built.summary


def _cap_ages(df: pl.DataFrame) -> pl.DataFrame:
    """Move birth (and events before it) forward so no subject is older than 90 years in the data.

    Every event the cap moves (other than birth) is flagged in `cap_moved`, counted in the summary and the
    asset's metadata; a subject with most of its timeline moved is counted apart, since that is the mark of
    one implausible late date rather than a very old patient.
    """
    last = pl.col("time").max().over("source_patient")
    floor = (last - pl.duration(microseconds=MAX_AGE_US)).alias("floor")
    df = df.with_columns(floor)
    capped = pl.col("birth_time").is_not_null() & (pl.col("birth_time") < pl.col("floor"))
    df = df.with_columns(capped.any().over("source_patient").alias("capped"))
    moved = pl.col("capped") & pl.col("time").is_not_null() & (pl.col("time") < pl.col("floor"))
    df = df.with_columns((moved & (pl.col("code") != BIRTH_CODE)).alias("cap_moved"))
    new_time = (
        pl.when(pl.col("capped") & pl.col("time").is_not_null() & (pl.col("time") < pl.col("floor")))
        .then(pl.col("floor"))
        .when(pl.col("capped") & (pl.col("code") == BIRTH_CODE))
        .then(pl.col("floor"))
        .otherwise(pl.col("time"))
    )
    return df.with_columns(new_time.alias("time"))


def _cap_moves(data: pl.DataFrame) -> tuple[int, int]:
    """(events the age cap moved, capped subjects with more than half of their timed events moved; birth aside)."""
    if not data.height or "cap_moved" not in data.columns:
        return 0, 0
    per = (
        data.filter(pl.col("capped") & pl.col("time").is_not_null() & (pl.col("code") != BIRTH_CODE))
        .group_by("source_patient")
        .agg(pl.col("cap_moved").sum().alias("moved"), pl.len().alias("n"))
    )
    return int(per["moved"].sum() or 0), per.filter(pl.col("moved") * 2 > pl.col("n")).height


_ORPHAN = "event refers to a patient that no source delivered"
_DEMOGRAPHIC = r"^(MEDS_BIRTH|MEDS_DEATH|GENDER//|RACE//|ETHNICITY//)"


def _plausible(time: pl.Expr) -> pl.Expr:
    return time.is_null() | ((time >= RAW_FIRST) & (time < PLAUSIBLE_END))


def _reason(code: str, reason: str) -> list[pl.Expr]:
    return [pl.lit(code).alias("reason_code"), pl.lit(reason).alias("reason")]


def _second_patient_records(patients: pl.DataFrame) -> pl.DataFrame:
    """Patient records after the first for the same id (by file and position: a deterministic choice), each
    with whether it contradicts the first on birth or death date."""
    if not patients.height:
        keys = {"source_patient": pl.String, "source_file": pl.String, "position": pl.Int64}
        return pl.DataFrame(schema={**keys, "conflict": pl.Boolean})
    day = {c: pl.col(c).dt.date() for c in ("birth_time", "death_time")}
    ranked = patients.with_columns(pl.int_range(pl.len()).over("source_patient").alias("__rank"), **day)
    first = ranked.filter(pl.col("__rank") == 0).select("source_patient", "birth_time", "death_time")
    later = ranked.filter(pl.col("__rank") > 0).join(first, on="source_patient", suffix="_first")
    differs = [
        pl.col(c).is_not_null() & pl.col(f"{c}_first").is_not_null() & (pl.col(c) != pl.col(f"{c}_first"))
        for c in ("birth_time", "death_time")
    ]
    keys = ["source_patient", "source_file", "position"]
    return later.select(*keys, pl.any_horizontal(differs).alias("conflict")).unique(keys, maintain_order=True)


def _reject_values(
    known: pl.DataFrame, second: pl.DataFrame, copies: pl.DataFrame, conflicts: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, rejected with reason_code/reason): implausible times, non-finite values, the demographic events
    of a second patient record for the same subject (conflicting or repeated), the events of every copy of a
    FHIR resource delivered for two patients (pipelines.defs.fhir.conflicts) and of a later copy of one
    (pipelines.defs.meds.duplicates)."""
    num = pl.col("numeric_value")
    demographic = pl.col("code").str.contains(_DEMOGRAPHIC)
    tagged = known.join(second, on=["source_patient", "source_file", "position"], how="left")
    copies = copies.with_columns(pl.lit(True).alias("copy"))
    tagged = tagged.join(copies, on=duplicates.KEYS, how="left", maintain_order="left")
    if conflicts.height:
        conflicts = conflicts.select(duplicates.KEYS).unique().with_columns(pl.lit(True).alias("two_subjects"))
        tagged = tagged.join(conflicts, on=duplicates.KEYS, how="left", maintain_order="left")
    else:
        tagged = tagged.with_columns(pl.lit(None, pl.Boolean).alias("two_subjects"))
    rules = [
        (~_plausible(pl.col("time")), q.IMPLAUSIBLE_DATE,
         "time is outside the plausible range (schemas.values); not clamped"),
        (num.is_not_null() & (num.is_nan() | (num.abs() > FLOAT32_MAX)), q.NON_FINITE_VALUE,
         "numeric_value is not finite as a 32-bit float"),
        (demographic & pl.col("conflict").fill_null(False), q.CONFLICTING_PATIENT,
         "a second patient record for this subject disagrees on birth or death date; the first by file and "
         "position is kept"),
        (demographic & pl.col("conflict").is_not_null(), q.DUPLICATE_PATIENT,
         "a second patient record for this subject repeats the first; its demographic events are not doubled"),
        (pl.col("two_subjects").fill_null(False), q.CONFLICTING_RESOURCE,
         "this resource type and id is delivered in other records for a different patient (subject or patient "
         "reference); a resource with two subjects cannot be trusted, so no copy is kept"),
        (pl.col("copy").fill_null(False), q.DUPLICATE_RESOURCE,
         "a second record of this resource type and id; the first by file and position is kept"),
    ]  # fmt: skip
    code, reason = pl.lit(None, pl.String), pl.lit(None, pl.String)
    for cond, c, r in reversed(rules):  # the first rule that matches names the reason
        code = pl.when(cond).then(pl.lit(c)).otherwise(code)
        reason = pl.when(cond).then(pl.lit(r)).otherwise(reason)
    tagged = tagged.with_columns(code.alias("reason_code"), reason.alias("reason"))
    kept = tagged.filter(pl.col("reason_code").is_null()).select(known.columns)
    return kept, tagged.filter(pl.col("reason_code").is_not_null()).select(*known.columns, "reason_code", "reason")


def _quarantine_table(orphans: pl.DataFrame) -> pa.Table | None:
    if orphans.height == 0:
        return None
    record = pl.struct(
        ["source_patient", "time", "code", "numeric_value", "text_value", "unit"]
    ).struct.json_encode()
    table = orphans.select(
        pl.lit(ASSET).alias("asset"),
        "source_file",
        "position",
        "resource_type",
        "reason_code",
        "reason",
        record.alias("record"),
    ).sort("source_file", "position", "record")
    return table.to_arrow()


def shard_paths(layout: Layout, shard: int) -> list[Path]:
    """This shard's files as the build publishes them (staged until every shard is), split by split."""
    staged = {p.parent.name: p for p in pending_files(layout.meds, f"data/*/{shard}.parquet")}
    return [staged[split] for split in SPLITS if split in staged]

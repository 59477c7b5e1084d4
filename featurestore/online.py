"""Online retrieval: a materialized feature-state table per shard, loaded once, answering "features of these
subjects as of now (or T)" with the same as-of lookups as offline retrieval, in well under a millisecond."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from featurestore.durations import US_PER_DAY
from featurestore.engine import empty_long, query_arrays
from featurestore.offline import EVENT_COLUMNS, as_layout, compile_for_root, shard_files, to_wide
from featurestore.spec import CompiledSpec, FeatureSpec
from featurestore.state import NO_TIME, STATE_COLUMNS, GroupState, build_state_frame, keyed_events
from schemas.features import ONLINE_SCHEMA, ONLINE_SPEC_FILE, online_dir, online_path
from schemas.io import write_parquet, write_text
from schemas.layout import Layout
from schemas.meds import BIRTH_CODE
from schemas.publish import dataset_files, publishing

BIRTH_GROUP, STATIC_GROUP = -1, -2
_US_PER_YEAR = 365.25 * US_PER_DAY


def state_table(events: pl.DataFrame, cs: CompiledSpec) -> pl.DataFrame:
    """The online rows of one shard's MEDS events (ONLINE_SCHEMA, as polars)."""
    events = events.select(EVENT_COLUMNS).with_row_index("order")
    timed = events.filter(pl.col("time").is_not_null())
    parts = [pl.DataFrame(schema={**STATE_COLUMNS, "group": pl.Int16})]  # every column, even with no group rows
    for i, g in enumerate(cs.groups):
        keyed = keyed_events(timed, g)
        if not keyed.is_empty():
            parts.append(build_state_frame(keyed).with_columns(group=pl.lit(i, pl.Int16)))
    births = timed.filter(pl.col("code") == BIRTH_CODE).group_by("subject_id").agg(pl.col("time").min())
    parts.append(
        births.select(
            "subject_id",
            time=pl.col("time").cast(pl.Datetime("us")).cast(pl.Int64),
            group=pl.lit(BIRTH_GROUP, pl.Int16),
            key=pl.lit(0, pl.Int32),
        )
    )
    static = {c: i for i, c in enumerate(cs.static_codes)}
    parts.append(
        events.filter(pl.col("code").is_in(list(static)))
        .select(
            "subject_id",
            time=pl.col("time").cast(pl.Datetime("us")).cast(pl.Int64),
            group=pl.lit(STATIC_GROUP, pl.Int16),
            key=pl.col("code").replace_strict(static, default=0, return_dtype=pl.Int32).cast(pl.Int32),
        )
        .unique()
    )
    table = pl.concat(parts, how="diagonal_relaxed").sort("subject_id", "group", "key", "time", nulls_last=False)
    nan_to_null = [pl.col(c).fill_nan(None) for c, t in STATE_COLUMNS.items() if t == pl.Float64]
    return table.with_columns(
        *nan_to_null,
        pl.col("time").cast(pl.Datetime("us")),
        pl.when(pl.col("value_last_time") != NO_TIME).then(pl.col("value_last_time")).cast(pl.Datetime("us")),
    )


def materialize_online(
    root: str | Path | Layout, spec: FeatureSpec | str | None = None, shard: int | None = None
) -> dict[str, int]:
    """Write features/online/<spec>/<shard>.parquet for one shard (or all) and compiled.json beside them."""
    layout = as_layout(root)
    cs = compile_for_root(layout, spec)
    out = online_dir(layout, cs.spec.name)
    shards = sorted({int(p.stem) for p in shard_files(layout)}) if shard is None else [shard]
    rel = out.relative_to(layout.features).as_posix()
    counts = {}
    mine = [f"{rel}/{ONLINE_SPEC_FILE}", *(f"{rel}/{k}.parquet" for k in shards)]
    with publishing(layout.features, keep_except=mine) as stage:  # the spec and these shards, at once
        write_text(cs.to_json(), stage.path(out / ONLINE_SPEC_FILE))
        for k in shards:
            files = shard_files(layout, k)
            events = pl.concat([pl.read_parquet(f, columns=EVENT_COLUMNS) for f in files]) if files else None
            table = state_table(events, cs) if events is not None else pl.DataFrame()
            write_parquet(
                table.to_arrow() if len(table) else ONLINE_SCHEMA.empty_table(),
                stage.path(online_path(layout, cs.spec.name, k)),
                ONLINE_SCHEMA,
            )
            counts[str(k)] = len(table)
    return counts


@dataclass(slots=True)
class OnlineStore:
    """Features of one or more subjects as of now or a given time, from the materialized online tables."""

    cs: CompiledSpec
    groups: list[GroupState | None]
    birth: dict[int, int]
    static: dict[int, list[tuple[int, int]]]  # subject -> [(time or NO_TIME when undated, static index)]
    default: np.ndarray  # the all-defaults vector: 0 for counts, NaN otherwise

    @classmethod
    def open(cls, root: str | Path | Layout, spec: str = "default") -> "OnlineStore":
        layout = as_layout(root)
        folder = online_dir(layout, spec)
        if not (folder / ONLINE_SPEC_FILE).exists():
            raise FileNotFoundError(
                f"no online table for spec {spec!r} under {layout.features}; materialize it "
                f"(`longitude features online --materialize` or the online_features asset)"
            )
        cs = CompiledSpec.from_json((folder / ONLINE_SPEC_FILE).read_text())
        files = dataset_files(layout.features, f"{folder.relative_to(layout.features).as_posix()}/*.parquet")
        table = (
            pl.concat([pl.read_parquet(f) for f in files]) if files else pl.from_arrow(ONLINE_SCHEMA.empty_table())
        )
        return cls.from_table(table, cs)  # type: ignore[arg-type]

    @classmethod
    def from_table(cls, table: pl.DataFrame, cs: CompiledSpec) -> "OnlineStore":
        """A store over online rows (ONLINE_SCHEMA) already in memory."""
        table = table.with_columns(pl.col("time", "value_last_time").cast(pl.Int64))
        groups: list[GroupState | None] = []
        for i in range(len(cs.groups)):
            part = table.filter(pl.col("group") == i).sort("subject_id", "key", "time")
            frame = part.select(
                *[
                    pl.col(c).fill_null(float("nan")) if t == pl.Float64 else pl.col(c)
                    for c, t in STATE_COLUMNS.items()
                ]
            ).with_columns(pl.col("value_last_time").fill_null(NO_TIME))
            groups.append(GroupState.from_frame(frame) if len(frame) else None)
        birth_rows = table.filter(pl.col("group") == BIRTH_GROUP)
        birth = dict(zip(birth_rows["subject_id"].to_list(), birth_rows["time"].to_list(), strict=True))
        static: dict[int, list[tuple[int, int]]] = {}
        for sid, t, key in (
            table.filter(pl.col("group") == STATIC_GROUP).select("subject_id", "time", "key").iter_rows()
        ):
            static.setdefault(sid, []).append((NO_TIME if t is None else t, key))
        return cls(cs, groups, birth, static, np.where(cs.zero_default, 0.0, np.nan).astype(np.float32))

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.cs.feature_names

    def lookup(self, subject_id: int, as_of: datetime | None = None) -> dict[str, float]:
        """Non-default features of one subject as of `as_of` (default: now, naive UTC, in the data's timeline)."""
        fid, value = self._one(int(subject_id), _as_us(as_of))
        names = self.cs.feature_names
        return {names[f]: float(v) for f, v in zip(fid.tolist(), value.tolist(), strict=True)}

    def vector(self, subject_id: int, as_of: datetime | None = None) -> np.ndarray:
        """All features of one subject as a float32 vector over feature_names (NaN = null)."""
        out = self.default.copy()
        fid, value = self._one(int(subject_id), _as_us(as_of))
        out[fid] = value
        return out

    def get(self, subject_ids: list[int], as_of: datetime | list[datetime] | None = None) -> pl.DataFrame:
        """Wide features (the offline wide columns) for several subjects, one as_of or one per subject."""
        n = len(subject_ids)
        when = [_as_us(a) for a in as_of] if isinstance(as_of, list) else [_as_us(as_of)] * n
        labels = pl.DataFrame(
            {
                "label_index": np.arange(n, dtype=np.int64),
                "subject_id": np.asarray(subject_ids, np.int64),
                "prediction_time": pl.Series(when, dtype=pl.Int64).cast(pl.Datetime("us")),
            }
        )
        parts = [self._static_arrays(int(s), w, i) for i, (s, w) in enumerate(zip(subject_ids, when, strict=True))]
        li = [np.full(len(p[0]), p[2]) for p in parts]
        fid, value = [p[0] for p in parts], [p[1] for p in parts]
        for g, state in zip(self.cs.groups, self.groups, strict=True):
            if state is not None:
                a, b, c = query_arrays(
                    state,
                    g,
                    labels["label_index"].to_numpy(),
                    labels["subject_id"].to_numpy(),
                    np.asarray(when, np.int64),
                    self.cs.spec.inclusive,
                )
                li.append(a), fid.append(b), value.append(c)
        long = (
            pl.DataFrame(
                {
                    "label_index": np.concatenate(li).astype(np.int64) if li else [],
                    "feature_id": np.concatenate(fid).astype(np.int32) if fid else [],
                    "value": np.concatenate(value) if value else [],
                }
            )
            if li
            else empty_long()
        )
        return pl.from_arrow(to_wide(long, labels, self.cs))  # type: ignore[return-value]

    def _one(self, subject_id: int, when: int) -> tuple[np.ndarray, np.ndarray]:
        fids, values, _ = self._static_arrays(subject_id, when, 0)
        fid_parts, value_parts = [fids], [values]
        sid, li, t = np.array([subject_id]), np.zeros(1, np.int64), np.array([when])
        for g, state in zip(self.cs.groups, self.groups, strict=True):
            if state is not None:
                _, f, v = query_arrays(state, g, li, sid, t, self.cs.spec.inclusive)
                fid_parts.append(f)
                value_parts.append(v)
        return np.concatenate(fid_parts).astype(np.int64), np.concatenate(value_parts)

    def _static_arrays(self, subject_id: int, when: int, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        inclusive = self.cs.spec.inclusive
        fids: list[int] = []
        values: list[float] = []
        birth = self.birth.get(subject_id)
        if self.cs.age_id is not None and birth is not None and (birth <= when if inclusive else birth < when):
            fids.append(self.cs.age_id)
            values.append((when - birth) / _US_PER_YEAR)
        latest: dict[str, int] = {}
        usable = []
        for t, k in self.static.get(subject_id, ()):
            if t == NO_TIME or (t <= when if inclusive else t < when):
                vocab = self.cs.static_codes[k].split("//")[0]
                usable.append((t, k, vocab))
                latest[vocab] = max(latest.get(vocab, NO_TIME), t)
        for t, k, vocab in usable:
            if t == latest[vocab] and self.cs.static_ids[k] >= 0:
                fids.append(self.cs.static_ids[k])
                values.append(1.0)
        return np.array(fids, np.int64), np.array(values, np.float64), index


def _as_us(as_of: datetime | None) -> int:
    """Microseconds since the epoch, naive UTC (MEDS times are naive); None is now."""
    if as_of is None:
        as_of = datetime.now(UTC)
    if as_of.tzinfo is not None:
        as_of = as_of.astimezone(UTC).replace(tzinfo=None)
    delta = as_of - datetime(1970, 1, 1)  # noqa: DTZ001 - naive on purpose: MEDS times are naive UTC
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

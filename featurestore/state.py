"""Feature state tables: per (subject, key), one row per distinct event time holding the cumulative state after it.

The state table is a Feast-style feature view of timestamped values: features as of T are read from the last
row before T (an as-of lookup), and a window [T - w, T) is the difference of two such rows (counts, sums), a
range-minimum query (min, max) or a check on the last row's time (last value, time since last). It is built
once per shard file, serves every label row of that file, and is what the online table stores.
"""

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from featurestore.spec import CompiledGroup

NO_TIME = np.iinfo(np.int64).min
STATE_COLUMNS = {
    "subject_id": pl.Int64,
    "key": pl.Int32,
    "time": pl.Int64,  # microseconds since the epoch
    "count": pl.Float64,  # events of the key up to and including this time
    "value_count": pl.Float64,  # of those, events with a numeric value
    "value_sum": pl.Float64,
    "value_last": pl.Float64,  # the latest numeric value so far (NaN: none yet)
    "value_last_time": pl.Int64,  # its time (NO_TIME: none yet)
    "cum_min": pl.Float64,
    "cum_max": pl.Float64,
    "row_min": pl.Float64,  # min/max of the values at exactly this time (for windowed range queries)
    "row_max": pl.Float64,
}


def keyed_events(timed: pl.DataFrame, g: CompiledGroup) -> pl.DataFrame:
    """subject_id, time (us), order, key, value (NaN when none) for the events of one group."""
    return (
        timed.with_columns(key=g.key_expr())
        .filter(pl.col("key").is_not_null())
        .select(
            "subject_id",
            time=pl.col("time").cast(pl.Datetime("us")).cast(pl.Int64),
            order="order",
            key="key",
            value=pl.col("numeric_value").cast(pl.Float64).fill_null(float("nan")),
        )
    )


def build_state_frame(keyed: pl.DataFrame) -> pl.DataFrame:
    """Collapse a group's keyed events to the state table (sorted by subject_id, key, time)."""
    has = pl.col("value").is_not_nan()
    by = ["subject_id", "key"]
    rows = (
        keyed.sort("subject_id", "key", "time", "order")
        .group_by("subject_id", "key", "time", maintain_order=True)
        .agg(
            n=pl.len().cast(pl.Float64),
            vn=has.sum().cast(pl.Float64),
            vs=pl.col("value").filter(has).sum(),
            row_min=pl.col("value").filter(has).min(),
            row_max=pl.col("value").filter(has).max(),
            last=pl.col("value").filter(has).last(),
        )
    )
    return rows.select(
        "subject_id",
        pl.col("key").cast(pl.Int32),
        "time",
        count=pl.col("n").cum_sum().over(by),
        value_count=pl.col("vn").cum_sum().over(by),
        value_sum=pl.col("vs").fill_null(0.0).cum_sum().over(by),
        value_last=pl.col("last").forward_fill().over(by).fill_null(float("nan")),
        value_last_time=pl.when(pl.col("last").is_not_null())
        .then(pl.col("time"))
        .forward_fill()
        .over(by)
        .fill_null(NO_TIME),
        cum_min=pl.col("row_min").cum_min().forward_fill().over(by).fill_null(float("nan")),
        cum_max=pl.col("row_max").cum_max().forward_fill().over(by).fill_null(float("nan")),
        row_min=pl.col("row_min").fill_null(float("nan")),
        row_max=pl.col("row_max").fill_null(float("nan")),
    )


@dataclass(slots=True)
class GroupState:
    """A state table as numpy arrays plus the indexes that make as-of lookups vectorized searchsorted calls."""

    columns: dict[str, np.ndarray]
    subjects: np.ndarray  # sorted unique subject ids
    subject_gk: np.ndarray  # (n_subjects + 1,) first (subject, key) segment of each subject
    gk_start: np.ndarray  # (n_segments + 1,) first row of each segment
    gk_key: np.ndarray  # key of each segment
    times: np.ndarray  # sorted unique times of the table
    packed: np.ndarray  # segment * (len(times) + 1) + rank(time): ascending
    _rmq: dict = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> "GroupState":
        return cls.from_columns({c: frame[c].to_numpy() for c in STATE_COLUMNS})

    @classmethod
    def from_columns(cls, cols: dict[str, np.ndarray]) -> "GroupState":
        """From STATE_COLUMNS as numpy arrays (sorted by subject_id, key, time; no nulls: NaN / NO_TIME)."""
        n = len(cols["subject_id"])
        new_seg = np.ones(n, dtype=bool)
        if n:
            new_seg[1:] = (cols["subject_id"][1:] != cols["subject_id"][:-1]) | (
                cols["key"][1:] != cols["key"][:-1]
            )
        gk_start = np.flatnonzero(new_seg)
        seg = np.cumsum(new_seg) - 1
        seg_subject = cols["subject_id"][gk_start]
        subjects, subject_first = np.unique(seg_subject, return_index=True)
        times = np.unique(cols["time"])
        packed = seg * (len(times) + 1) + np.searchsorted(times, cols["time"])
        return cls(
            columns=cols,
            subjects=subjects,
            subject_gk=np.append(subject_first, len(gk_start)),
            gk_start=np.append(gk_start, n),
            gk_key=cols["key"][gk_start],
            times=times,
            packed=packed,
        )

    def segments_of(self, subject_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and end (exclusive) segment of each subject; empty when the subject has no rows."""
        idx = np.searchsorted(self.subjects, subject_ids)
        idx_c = np.minimum(idx, max(len(self.subjects) - 1, 0))
        found = (
            (idx < len(self.subjects)) & (self.subjects[idx_c] == subject_ids) if len(self.subjects) else idx < 0
        )
        lo = np.where(found, self.subject_gk[idx_c], 0)
        hi = np.where(found, self.subject_gk[np.minimum(idx_c + 1, len(self.subject_gk) - 1)], 0)
        return lo, hi

    def last_row_before(self, seg: np.ndarray, when: np.ndarray, inclusive: bool) -> np.ndarray:
        """Per (segment, time): the last row with time < when (<= when if inclusive), or -1."""
        rank = np.searchsorted(self.times, when, side="right" if inclusive else "left")
        row = np.searchsorted(self.packed, seg * (len(self.times) + 1) + rank, side="left") - 1
        return np.where(row >= self.gk_start[seg], row, -1)

    def range_extreme(self, name: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """min (row_min) or max (row_max) over rows lo..hi inclusive (lo <= hi), NaN where no row has a value."""
        table = self._rmq[name] if name in self._rmq else self._build_rmq(name)
        length = hi - lo + 1
        j = np.floor(np.log2(length)).astype(np.int64)
        a, b = table[j, lo], table[j, hi - (1 << j) + 1]
        out = np.minimum(a, b) if name == "row_min" else np.maximum(a, b)
        return np.where(np.isinf(out), np.nan, out)

    def _build_rmq(self, name: str) -> np.ndarray:
        # Sparse table: level j holds the extreme over 2^j rows; O(n log n) once, O(1) per query.
        fill, op = (np.inf, np.minimum) if name == "row_min" else (-np.inf, np.maximum)
        base = np.where(np.isnan(self.columns[name]), fill, self.columns[name])
        n = len(base)
        levels = [base]
        width = 1
        while 2 * width <= n:
            prev = levels[-1]
            levels.append(np.concatenate([op(prev[: n - width], prev[width:]), np.full(width, fill)]))
            width *= 2
        table = np.stack(levels) if n else np.zeros((1, 0))
        self._rmq[name] = table
        return table

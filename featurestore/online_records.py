"""Online state rows as packed records (schemas.online_store.ONLINE_RECORD): table to per-subject values, back."""

import zlib
from collections.abc import Iterator, Mapping

import numpy as np
import polars as pl

from schemas.online_store import NO_TIME, ONLINE_RECORD, VALUE_ZLIB_LEVEL

_TIMES = ("time", "value_last_time")


def to_records(table: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(subject id of each row, ONLINE_RECORD rows) of an online state table, in its order; nulls to sentinels."""
    out = np.empty(len(table), ONLINE_RECORD)
    if not len(table):
        return np.empty(0, np.int64), out
    for name in ONLINE_RECORD.names:
        column = table[name]
        if name in _TIMES:
            out[name] = column.cast(pl.Datetime("us")).cast(pl.Int64).fill_null(NO_TIME).to_numpy()
        elif ONLINE_RECORD[name].kind == "f":
            out[name] = column.cast(pl.Float64).fill_null(float("nan")).to_numpy()
        else:
            out[name] = column.to_numpy()
    return table["subject_id"].cast(pl.Int64).to_numpy(), out


def subject_values(subject_ids: np.ndarray, records: np.ndarray) -> Iterator[tuple[int, bytes]]:
    """One (subject id, zlib-compressed packed rows) per subject of rows sorted by subject id: a store's values."""
    if not len(subject_ids):
        return
    starts = np.flatnonzero(np.r_[True, subject_ids[1:] != subject_ids[:-1]])
    ends = np.r_[starts[1:], len(subject_ids)]
    for sid, a, b in zip(subject_ids[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        yield sid, zlib.compress(records[a:b].tobytes(), VALUE_ZLIB_LEVEL)


def from_values(values: Mapping[int, bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(subject id of each row, records) of stored values, subjects in ascending id order (the lookups' order)."""
    sids = sorted(values)
    parts = [np.frombuffer(zlib.decompress(values[s]), ONLINE_RECORD) for s in sids]
    if not parts:
        return np.empty(0, np.int64), np.empty(0, ONLINE_RECORD)
    lengths = [len(p) for p in parts]
    return np.repeat(np.asarray(sids, np.int64), lengths), np.concatenate(parts)

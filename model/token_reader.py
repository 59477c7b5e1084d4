"""Streaming a trajectory file's token ids and times into preallocated arrays, a few subjects at a time, so
loading holds the arrays plus one small batch (not a whole file's Arrow table and its copies)."""

import numpy as np
import pyarrow.parquet as pq

_ROWS_PER_READ = 128  # subjects decoded at a time while streaming a row group (bounds the transient memory)


def read_rows(f: pq.ParquetFile, start: int, stop: int, ids: np.ndarray, times: np.ndarray, at: int) -> int:
    """Copy the tokens of rows start:stop of one file into ids/times from offset `at`; only the row groups
    that hold those rows are read. Returns the offset after the last token copied."""
    group_start = 0
    for g in range(f.metadata.num_row_groups):
        group_stop = group_start + f.metadata.row_group(g).num_rows
        if group_start < stop and start < group_stop:
            row = group_start
            for rb in f.iter_batches(batch_size=_ROWS_PER_READ, row_groups=[g], columns=["input_ids", "times"]):
                a, b = max(start - row, 0), min(stop - row, rb.num_rows)
                if a < b:
                    got_ids = rb.column(0).slice(a, b - a).flatten().to_numpy()
                    got_times = rb.column(1).slice(a, b - a).flatten().to_numpy()
                    if at + len(got_ids) > len(ids) or len(got_times) != len(got_ids):
                        raise ValueError("trajectory token counts disagree with their `length` column")
                    ids[at : at + len(got_ids)] = got_ids
                    times[at : at + len(got_ids)] = got_times
                    at += len(got_ids)
                row += rb.num_rows
                if row >= stop:
                    break
        group_start = group_stop
    return at

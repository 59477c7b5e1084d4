"""Shared pieces of the kernel benches: a patient-length distribution and a timer that works on CPU and CUDA."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

# Clinical resources per patient in the shared Synthea FHIR R4 set (548 patients) are lognormal with
# mu = 5.28, sigma = 0.58 (median 185, p95 527, p99 716); at ~2 tokens per event (code, then a value-bin or
# time-gap token) that is tokens ~ lognormal(5.97, 0.58): median ~390, p95 ~1,050.
LOG_MEAN, LOG_STD = 5.97, 0.58


def synthea_like_lengths(n_tokens: int, *, max_len: int, seed: int = 0) -> np.ndarray:
    """Document lengths adding up to >= n_tokens; a subject longer than max_len becomes max_len windows."""
    rng = np.random.default_rng(seed)
    out: list[int] = []
    total = 0
    while total < n_tokens:
        n = max(1, round(float(rng.lognormal(LOG_MEAN, LOG_STD))))
        while n > 0:
            piece = min(n, max_len)
            out.append(piece)
            total += piece
            n -= piece
    return np.asarray(out, dtype=np.int64)


def first_rows(lengths: np.ndarray, row_len: int, n_rows: int) -> np.ndarray:
    """The prefix of `lengths` that next-fit puts into the first `n_rows` rows of `row_len`."""
    used, row = 0, 0
    for i, n in enumerate(lengths.tolist()):
        if used + n > row_len:
            row, used = row + 1, 0
            if row == n_rows:
                return lengths[:i]
        used += n
    return lengths


def time_ms(fn: Callable[[], object], device: torch.device | str, *, warmup: int = 3, reps: int = 10) -> float:
    """Median wall time of fn() in milliseconds (CUDA events on a GPU, perf_counter on CPU)."""
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            samples.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            samples.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(samples)

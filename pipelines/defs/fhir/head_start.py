"""The FHIR parse begun ahead of its step: the CLI starts it before Dagster loads, `ingest_fhir` takes it over."""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from deid.pseudonym import Keyring
from pipelines.defs.fhir.ingest import (
    BEGUN,
    IngestSummary,
    ParseJob,
    _run_unit,
    begin_parse,
    discard_parse,
    finish_parse,
    parse_key,
    parser_pool,
    take_begun,
)
from pipelines.defs.meds import ahead
from schemas.layout import Layout


class HeadStart:
    """A parse whose parser processes run while this process does other things (loading Dagster, the code
    location and the root's instance: seconds of start-up on two cores); a thread collects the units' results.
    It only writes its own staging areas: nothing is published until `finish`, inside the step."""

    def __init__(self, job: ParseJob, key: tuple, workers: int) -> None:
        self.job, self.key = job, key
        self.results: list = [None] * len(job.units)
        self.error: BaseException | None = None
        # Called with the parser pool once the parse is published and its set gathered: work for the idle
        # processes (pipelines.defs.meds.ahead), which then own the pool.
        self.then: Callable[[ProcessPoolExecutor], None] | None = None
        self._done: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self.workers = workers
        self._pool = parser_pool(job, workers)
        self._thread = threading.Thread(target=self._collect, name="fhir-head-start", daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            for i, res in enumerate(self._pool.map(_run_unit, self.job.units)):
                self.results[i] = res
                self._done.put(i)
        except BaseException as err:  # raised again in the step, where `ingest_fhir` would have raised it
            self.error = err
        finally:
            self._done.put(None)

    def finish(self, on_unit_done: Callable[[int, int], None] | None = None) -> IngestSummary:
        """Wait for the parsers (reporting each unit as `ingest_fhir` does), then publish and record."""
        handed_over = False
        try:
            done = 0
            while self._done.get() is not None:
                done += 1
                if on_unit_done:
                    on_unit_done(done, len(self.job.units))
            self._thread.join()
            if self.error is not None:
                raise self.error
            summary = finish_parse(self.job, self.results)
            then, self.then = self.then, None
            if then is not None and summary.gathered is not None:  # raw/ holds the whole set now
                then(self._pool)
                handed_over = True
            return summary
        finally:
            if not handed_over:
                self._pool.shutdown()
            discard_parse(self.job)

    def cancel(self) -> None:
        """Stop the parsers (units already running finish) and remove the staging areas."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._thread.join()
        discard_parse(self.job)


def begin(layout: Layout, keyring: Keyring, n_shards: int, strict: bool, workers: int, n_chunks: int = 1) -> bool:
    """Start the parse of the first ingest chunk that `ingest_fhir(layout, keyring, n_shards, strict=strict,
    workers=workers, chunk=0, n_chunks=n_chunks)` would run, in parser processes, now; `ingest_fhir` with exactly
    these arguments takes it over (any other cancels it). The caller holds the root's run lock and has swept the
    root (schemas.publish.sweep removes staging areas). Only a parse with a pool is begun (one process, or one
    unit, parses in the step), and not for a chunk whose published parse is current. True when begun."""
    cancel()
    if workers <= 1:
        return False
    job = begin_parse(layout, keyring, n_shards, strict, 0, n_chunks)
    if job.stage is None or len(job.units) <= 1:
        discard_parse(job)
        return False
    BEGUN["parse"] = HeadStart(job, parse_key(layout, keyring, n_shards, strict, workers, 0, n_chunks), workers)
    return True


def cancel() -> None:
    """Cancel a parse begun and not taken (the run stopped before its step, or the step is not in the run), and
    the MEDS shards computed ahead of their steps (pipelines.defs.meds.ahead)."""
    take_begun(None)
    ahead.cancel()


def build_meds_ahead(layout: Layout, keyring: Keyring, fractions: tuple[float, ...], shards: list[int]) -> None:
    """Once the begun parse is published, compute these MEDS shards in its parser processes (their steps come
    next in this run); and warm those processes up for it as each runs out of units."""
    begun = BEGUN.get("parse")
    if begun is None or not shards:
        return
    begun.then = partial(
        ahead.submit, layout=layout, keyring=keyring, fractions=fractions, shards=shards, workers=begun.workers
    )
    try:
        for _ in range(begun.workers):
            begun._pool.submit(ahead.warm_up)  # queued after every unit
    except RuntimeError:  # the pool is broken: the step reports the parse's own error; nothing is computed ahead
        begun.then = None

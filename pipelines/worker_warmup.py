"""A Celery worker loads, once as it starts, what steps otherwise load in the first step of each process.

The code location (`pipelines.definitions`, 1.5-2 CPU-s) and the de-identification analyzer (spaCy's NER, the
learned tagger, the lexicons and word lists: ~6 CPU-s, bench/results/scaling-24.md) are cached per process;
the solo pool keeps one process for the worker's life, so without this the first step of each kind in each
worker paid them, once more for every worker added. Loaded from `celery worker --include`: its
`celeryd_after_setup` comes once logging is set up and before the worker takes tasks or says it is ready.
"""

from celery import signals
from celery.utils.log import get_logger

LOG = get_logger("longitude.worker_warmup")
# Constructed, not from any corpus: a name, a date and a place, so every recognizer and the NER run once.
SAMPLE = "Seen by Dr. Alma Quillon on 03/14/2021 at the Riverbend clinic; follow up in two weeks."


@signals.celeryd_after_setup.connect
def _warm(**_) -> None:
    import resource
    import time

    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    import pipelines.definitions  # noqa: F401  (the code location every step rebuilds its job from)
    from deid.text.engine import find_phi

    find_phi(SAMPLE)
    LOG.info(
        "longitude worker warm: code location and de-identification loaded in %.1f s (%.1f CPU-s)",
        time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu,
    )  # fmt: skip

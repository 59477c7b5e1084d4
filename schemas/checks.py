"""Check results: every asset check's outcome, stored once per run under `quality/checks/`, read by all.

Path: `quality/checks/<asset>/<check>/<partition>.parquet` (`_all.parquet` for an unpartitioned asset). The
Dagster asset checks write them when they run (once per materialization), `longitude quality` rewrites the
expectation-suite ones when it re-checks a root; the CLI summary, the Dagster check results and the
stewards' site are all read from these files, so they cannot disagree.

Invariants:
1. One file per (asset, check, partition), replaced whole (atomically) by the next run of that check.
2. One row per rule the check evaluated; `rule` is what stewards review (`check:<rule>`).
3. No value from a PHI zone: `examples` of a PHI-zone table name file, row and column only; examples of a
   de-identified table show pseudonymous ids, shifted times, codes and numbers.
"""

from pathlib import Path

import pyarrow as pa

from schemas.layout import Layout

CHECKS_DIR = "checks"
UNPARTITIONED = "_all"
SEVERITIES = ("error", "warn")

CHECK_RESULTS_SCHEMA = pa.schema(
    [
        pa.field("check", pa.string(), nullable=False),  # the Dagster check name
        pa.field("asset", pa.string(), nullable=False),  # the asset it checks
        pa.field("partition", pa.string(), nullable=True),  # null: unpartitioned
        pa.field(
            "rule", pa.string(), nullable=False
        ),  # stable rule id, e.g. meds_data.plausibility/no_future_time
        pa.field("severity", pa.string(), nullable=False),  # "error" blocks downstream assets, "warn" does not
        pa.field("passed", pa.bool_(), nullable=False),
        pa.field("description", pa.string(), nullable=False),  # what the rule requires, in a sentence
        pa.field("reason", pa.string(), nullable=False),  # one line: what failed and how often, or what holds
        pa.field("checked", pa.int64(), nullable=False),  # rows (or files) the rule looked at
        pa.field("failed", pa.int64(), nullable=False),  # rows (or files) that break it
        pa.field("examples", pa.string(), nullable=False),  # JSON list of up to 5 de-identified offending rows
        pa.field("breakdown", pa.string(), nullable=False),  # JSON object: offending rows per code (or {})
        pa.field("doc", pa.string(), nullable=False),  # where the rule is documented (docs/quality.md#anchor)
        pa.field("checked_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("run", pa.string(), nullable=False),  # the Dagster run id, or "cli" for `longitude quality`
    ]
)
"""One row per (check, asset, partition, rule)."""


def checks_dir(layout: Layout) -> Path:
    return layout.quality / CHECKS_DIR


def check_results_path(layout: Layout, asset: str, check: str, partition: str | None) -> Path:
    """`quality/checks/<asset>/<check>/<partition or _all>.parquet`.

    >>> check_results_path(Layout(Path("/r")), "meds_data", "meds_data_plausible", "2").as_posix()
    '/r/quality/checks/meds_data/meds_data_plausible/2.parquet'
    """
    return checks_dir(layout) / asset / check / f"{partition if partition is not None else UNPARTITIONED}.parquet"

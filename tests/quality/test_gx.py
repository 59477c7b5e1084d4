"""Great Expectations runs the same suites and agrees with the polars engine on every planted defect."""

from datetime import timedelta

import polars as pl

from quality.expectations import meds_plausibility_suite
from quality.gx_docs import to_gx_suite
from quality.validate import plan, validate, validate_gx
from schemas.io import write_parquet
from schemas.ledger import LEDGER_SCHEMA
from tests.quality.conftest import Root


def _plant_all(root: Root) -> None:
    sid = root.subject_id("src-a")
    df = root.data("train", 0)
    birth = df.filter((pl.col("subject_id") == sid) & (pl.col("code") == "MEDS_BIRTH"))["time"][0]
    early = df.filter(pl.col("subject_id") == sid).tail(1).with_columns(time=pl.lit(birth - timedelta(days=90)))
    df = pl.concat([df, early]).sort("subject_id", "time", nulls_last=False)
    df = df.with_columns(numeric_value=pl.when(pl.col("code") == "LOINC//8867-4").then(pl.lit(900.0))
                         .otherwise("numeric_value"))  # fmt: skip
    root.write_data("train", 0, df)
    root.write_data("train", 1, df.filter(pl.col("subject_id") == sid))  # also in a second shard
    ledger = pl.read_parquet(root.layout.ledger("fhir_raw")).with_columns(n_quarantined=pl.lit(5, pl.Int64))
    write_parquet(ledger.to_arrow(), root.layout.ledger("fhir_raw"), LEDGER_SCHEMA)


def test_gx_suite_is_built_from_the_same_expectations():
    suite = meds_plausibility_suite()
    gx_suite = to_gx_suite(suite)
    assert [e.meta["longitude"] for e in gx_suite.expectations] == [e.name for e in suite.expectations]
    severities = {e.meta["longitude"]: e.severity.value for e in gx_suite.expectations}
    assert severities[f"{suite.name}/time_sorted_within_subject"] == "critical"
    assert severities[f"{suite.name}/no_event_before_birth"] == "warning"


def test_both_engines_find_the_same_planted_defects(root: Root):
    _plant_all(root)
    jobs = plan(root.path)
    by_polars: dict[str, int] = {}
    for o in validate(root.path, jobs=jobs):
        if not o.success and not o.expectation.startswith(("raw_", "quarantine")):
            by_polars[o.expectation] = by_polars.get(o.expectation, 0) + o.unexpected_count
    by_gx = {o.expectation: o.unexpected_count for o in validate_gx(jobs) if not o.success}
    assert by_gx == by_polars
    assert {"meds_data.plausibility/no_event_before_birth", "meds_data.plausibility/value_below_physiological_high",
            "meds_data.subjects/one_file_per_subject", "ledger.balance/in_equals_out_plus_quarantined"} <= set(by_gx)  # fmt: skip

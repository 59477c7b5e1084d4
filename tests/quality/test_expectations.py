"""Each expectation catches its planted defect in generated data and passes on clean data (polars engine)."""
# ruff: noqa: DTZ001 -- MEDS times are naive UTC timestamps (schemas.meds)

from datetime import UTC, datetime, timedelta

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from quality.integrity import ledger_balances, subjects_in_one_file
from quality.validate import validate
from schemas.io import write_parquet
from schemas.ledger import LEDGER_SCHEMA
from schemas.meds import CODES_SCHEMA
from tests.quality.conftest import Root


def failing(root: Root) -> dict[str, int]:
    """Failed expectation -> unexpected rows, summed over partitions."""
    out: dict[str, int] = {}
    for o in validate(root.path):
        if not o.success:
            out[o.expectation] = out.get(o.expectation, 0) + o.unexpected_count
    return out


def test_clean_root_passes_every_expectation(root: Root):
    outcomes = validate(root.path)
    assert len(outcomes) > 80
    assert [o.expectation for o in outcomes if not o.success] == []
    tables = {o.table for o in outcomes}
    assert {"meds_data", "meds_codes", "meds_subject_splits", "ledger", "raw_patients", "quarantine"} <= tables


def _edit(root: Root, split: str, shard: int, fn) -> None:
    root.write_data(split, shard, fn(root.data(split, shard)))


def test_event_before_birth_is_caught_with_a_deidentified_example(root: Root):
    sid = root.subject_id("src-a")
    birth = root.data("train", 0).filter((pl.col("subject_id") == sid) & (pl.col("code") == "MEDS_BIRTH"))["time"][
        0
    ]
    early = pl.DataFrame({"subject_id": [sid], "time": [birth - timedelta(days=400)], "code": ["ENCOUNTER//AMB"],
                          "numeric_value": [None], "text_value": [None], "unit": [None]},
                         schema=root.data("train", 0).schema)  # fmt: skip
    _edit(root, "train", 0, lambda df: pl.concat([df, early]).sort("subject_id", "time", nulls_last=False))
    bad = failing(root)
    assert bad == {"meds_data.plausibility/no_event_before_birth": 1}
    [o] = [o for o in validate(root.path) if not o.success]
    assert o.severity == "warn" and o.partition == "0"
    assert o.examples[0]["subject_id"] == str(sid) and o.examples[0]["code"] == "ENCOUNTER//AMB"


def test_an_event_within_a_day_before_birth_is_tolerated(root: Root):
    sid = root.subject_id("src-a")
    birth = root.data("train", 0).filter((pl.col("subject_id") == sid) & (pl.col("code") == "MEDS_BIRTH"))["time"][
        0
    ]
    near = root.data("train", 0).head(1).with_columns(subject_id=pl.lit(sid), time=pl.lit(birth - timedelta(hours=5)),
                                                      code=pl.lit("ENCOUNTER//AMB"))  # fmt: skip
    _edit(root, "train", 0, lambda df: pl.concat([df, near]).sort("subject_id", "time", nulls_last=False))
    assert failing(root) == {}


def test_heart_rate_of_900_is_caught_per_code(root: Root):
    _edit(root, "held_out", 1, lambda df: df.with_columns(
        numeric_value=pl.when((pl.col("code") == "LOINC//8867-4") & (pl.col("numeric_value") == 72.0))
        .then(pl.lit(900.0)).otherwise(pl.col("numeric_value"))))  # fmt: skip
    assert failing(root) == {"meds_data.plausibility/value_below_physiological_high": 3}
    [o] = [o for o in validate(root.path) if not o.success]
    assert o.breakdown == {"LOINC//8867-4": 3} and o.partition == "1"


def test_value_in_an_unexpected_unit_is_counted_not_range_checked(root: Root):
    _edit(root, "train", 0, lambda df: df.with_columns(
        unit=pl.when(pl.col("code") == "LOINC//2345-7").then(pl.lit("mmol/L")).otherwise(pl.col("unit"))))  # fmt: skip
    assert failing(root) == {"meds_data.plausibility/value_in_expected_unit": 6}


def test_event_long_after_death_and_future_times_are_caught(root: Root):
    sid = root.subject_id("src-b")
    late = root.data("train", 0).filter(pl.col("subject_id") == sid).tail(1)
    after = late.with_columns(time=pl.lit(datetime(2026, 6, 1)), code=pl.lit("ENCOUNTER//AMB"))
    future = late.with_columns(
        time=pl.lit(datetime.now(UTC).replace(tzinfo=None) + timedelta(days=30)), code=pl.lit("ENCOUNTER//AMB")
    )
    _edit(root, "train", 0, lambda df: pl.concat([df, after, future]).sort("subject_id", "time", nulls_last=False))
    bad = failing(root)
    assert bad == {"meds_data.plausibility/no_event_after_death": 2, "meds_data.plausibility/no_future_time": 1}


def test_code_formats_per_vocabulary(root: Root):
    _edit(root, "held_out", 1, lambda df: df.with_columns(
        code=pl.col("code").str.replace("SNOMED//44054006", "SNOMED//4405-6")))  # fmt: skip
    root.write_codes()
    bad = failing(root)
    assert bad == {"meds_data.plausibility/code_format/SNOMED": 3}


def test_any_non_blank_string_is_a_meds_code_and_a_blank_one_blocks(root: Root):
    # MEDS allows any string as a code: a hospital's own codes without `VOCAB//` pass; a blank code blocks.
    _edit(root, "held_out", 1, lambda df: df.with_columns(
        code=pl.col("code").str.replace("ENCOUNTER//AMB", "ED_REGISTRATION").str.replace("LOINC//2345-7", "glucose, serum")))  # fmt: skip
    root.write_codes()
    assert failing(root) == {}
    _edit(root, "train", 0, lambda df: df.with_columns(
        code=pl.when(pl.col("code") == "ENCOUNTER//AMB").then(pl.lit("  ")).otherwise("code")))  # fmt: skip
    root.write_codes()
    assert failing(root) == {"meds_data.plausibility/code_not_blank": 6}


def test_times_out_of_order_within_a_subject_block(root: Root):
    _edit(root, "train", 0, lambda df: df.reverse().sort("subject_id", maintain_order=True))
    bad = failing(root)
    assert "meds_data.plausibility/time_sorted_within_subject" in bad
    assert (
        next(o.severity for o in validate(root.path) if o.expectation.endswith("time_sorted_within_subject"))
        == "error"
    )


def test_subject_in_two_shards_is_caught(root: Root):
    sid = root.subject_id("src-a")
    moved = root.data("train", 0).filter(pl.col("subject_id") == sid)
    root.write_data("train", 1, moved)
    bad = failing(root)
    assert bad == {"meds_data.subjects/one_file_per_subject": 2}
    assert not subjects_in_one_file(sorted(root.path.glob("meds/data/*/*.parquet"))).passed


def test_subject_in_the_wrong_split_is_caught(root: Root):
    moved = root.data("held_out", 1)
    root.layout.meds_shard("held_out", 1).unlink()
    root.write_data("tuning", 1, moved)
    assert failing(root) == {"meds_data.subjects/file_in_assigned_split": 1}


def test_unbalanced_ledger_is_caught(root: Root):
    ledger = pl.read_parquet(root.layout.ledger("fhir_raw")).with_columns(n_out=pl.col("n_out") + 1)
    write_parquet(ledger.to_arrow(), root.layout.ledger("fhir_raw"), LEDGER_SCHEMA)
    assert failing(root) == {"ledger.balance/in_equals_out_plus_quarantined": 2}
    assert not ledger_balances([root.layout.ledger("fhir_raw")]).passed


def test_code_without_metadata_is_caught(root: Root):
    codes = pl.read_parquet(root.layout.meds_codes).filter(pl.col("code") != "LOINC//2345-7")
    write_parquet(codes.to_arrow(), root.layout.meds_codes, CODES_SCHEMA)
    assert failing(root) == {"meds_codes.coverage/every_data_code_has_metadata": 1}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("drop_column", {"meds_data.schema/columns", "meds_data.schema/unit/type"}),
        ("wrong_type", {"meds_data.schema/numeric_value/type"}),
        ("null_code", {"meds_data.schema/code/not_null"}),
    ],
)
def test_schema_violations_written_around_the_write_boundary_are_caught(root: Root, change: str, expected: set):
    path = root.layout.meds_shard("train", 0)
    table = pq.read_table(path)
    if change == "drop_column":
        table = table.drop(["unit"])
    elif change == "wrong_type":
        table = table.set_column(3, "numeric_value", table["numeric_value"].cast(pa.float64()))
    else:
        codes = table["code"].to_pylist()
        table = table.set_column(2, pa.field("code", pa.string()), pa.array([None, *codes[1:]], pa.string()))
    pq.write_table(table, path)
    bad = {k for k in failing(root) if ".schema/" in k}
    assert bad == expected


def test_a_table_of_a_new_stage_is_checked_against_the_schema_its_columns_match(root: Root):
    ids = pl.read_parquet(root.layout.meds_subject_splits)["subject_id"].to_list()
    (root.path / "cohorts").mkdir()
    bad = pa.table({"subject_id": pa.array(ids, pa.int64()), "split": pa.array([None] * len(ids), pa.string())})
    pq.write_table(bad, root.path / "cohorts" / "splits.parquet")
    outcomes = [o for o in validate(root.path) if o.table.startswith("cohorts")]
    assert outcomes and {o.expectation for o in outcomes if not o.success} == {"cohorts.schema/split/not_null"}

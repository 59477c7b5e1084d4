"""A re-check (`longitude quality`) or a review is recorded in Dagster under the partition the check runs for: a
chunked asset's check, which validates the gathered set, under its chunks, not under the shards its rows name."""

from pathlib import Path

import dagster as dg

from pipelines.check_events import record_rechecked, record_reviewed
from pipelines.instance import root_instance
from quality import review
from quality.check_store import CheckRow
from schemas.layout import Layout

CHUNKED, CHUNK_CHECK = "fhir_raw", "fhir_raw_tables_conform"
SHARDED, SHARD_CHECK = "meds_data", "meds_data_plausible"


def _asset_and_check(asset: str, check: str, keys: list[str]) -> list:
    """An asset and its check, both partitioned by `keys`, as the code location defines a stage's."""
    partitions = dg.StaticPartitionsDefinition(keys)

    @dg.asset(name=asset, partitions_def=partitions)
    def _asset() -> None:
        pass

    @dg.asset_check(asset=asset, name=check, partitions_def=partitions)
    def _check() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    return [_asset, _check]


def _row(asset: str, check: str, partition: str | None, rule: str, passed: bool = True) -> CheckRow:
    return CheckRow(check=check, asset=asset, partition=partition, rule=rule, severity="warn", passed=passed,
                    description="", reason="" if passed else "1 of 10 break the rule", checked=10,
                    failed=0 if passed else 1)  # fmt: skip


def _latest(instance, asset: str, check: str) -> dict[str | None, dict]:
    """partition -> the metadata of the latest evaluation recorded outside a run, per partition."""
    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    out: dict[str | None, dict] = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=50):
        evaluation = record.event.dagster_event.event_specific_data
        if "recorded_by" in evaluation.metadata and record.partition not in out:
            out[record.partition] = {k: v.value for k, v in evaluation.metadata.items()} | {
                "passed": evaluation.passed
            }
    return out


def _root_with_runs(tmp_path: Path):
    """A root whose instance holds what runs leave: the chunked check evaluated per chunk, the other per shard."""
    root = tmp_path / "root"
    root.mkdir()
    instance = root_instance(Layout(root))
    for key in ("c0", "c1"):
        assert dg.materialize(_asset_and_check(CHUNKED, CHUNK_CHECK, ["c0", "c1"]), partition_key=key,
                              instance=instance).success  # fmt: skip
    for key in ("0", "1"):
        assert dg.materialize(_asset_and_check(SHARDED, SHARD_CHECK, ["0", "1"]), partition_key=key,
                              instance=instance).success  # fmt: skip
    return root, instance


def test_a_recheck_of_a_chunked_assets_check_is_shown_under_each_chunk_as_one_result(tmp_path: Path):
    root, instance = _root_with_runs(tmp_path)
    rows = [
        _row(CHUNKED, CHUNK_CHECK, None, "fhir_raw.tables/columns"),  # the asset's unsharded tables
        _row(CHUNKED, CHUNK_CHECK, "0", "fhir_raw.tables/types"),  # a row naming the shard it is about
        _row(CHUNKED, CHUNK_CHECK, "1", "fhir_raw.tables/types", passed=False),
        _row(SHARDED, SHARD_CHECK, "0", "meds_data.plausibility/x"),
        _row(SHARDED, SHARD_CHECK, "1", "meds_data.plausibility/x", passed=False),
    ]
    try:
        record_rechecked(root, rows, instance=instance)
        chunked = _latest(instance, CHUNKED, CHUNK_CHECK)
        sharded = _latest(instance, SHARDED, SHARD_CHECK)
    finally:
        instance.dispose()
    # the gathered set's one result (3 rules, 1 failed) under each chunk; never under a shard or no partition
    assert set(chunked) == {"c0", "c1"}
    assert all(e["rules"] == 3 and e["failed"] == 1 and not e["passed"] for e in chunked.values())
    # a per-shard check stays per shard
    assert set(sharded) == {"0", "1"} and sharded["0"]["passed"] and not sharded["1"]["passed"]


def test_a_review_re_reports_the_whole_chunked_result_under_its_chunks(tmp_path: Path):
    root, instance = _root_with_runs(tmp_path)
    rows = [
        _row(CHUNKED, CHUNK_CHECK, "0", "fhir_raw.tables/types"),
        _row(CHUNKED, CHUNK_CHECK, "1", "fhir_raw.tables/nulls", passed=False),
    ]
    review.record(root / "quality", "check:fhir_raw.tables/nulls", "accept", "known in this source", who="ana")
    rows = review.attach(rows, review.state(root / "quality"))
    try:
        record_reviewed(root, "check:fhir_raw.tables/nulls", "review by ana", instance, rows)
        chunked = _latest(instance, CHUNKED, CHUNK_CHECK)
    finally:
        instance.dispose()
    assert set(chunked) == {"c0", "c1"}
    assert all(e["rules"] == 2 and e["accepted"] == 1 and e["passed"] for e in chunked.values())

"""Offline retrieval (function, CLI, wide and sparse), the online store, and the Dagster assets on a tiny root."""

import json

import dagster as dg
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from featurestore.offline import compile_for_root, get_features
from featurestore.online import OnlineStore, materialize_online
from featurestore.spec import load_spec, shipped_specs
from pipelines.cli import cli
from pipelines.defs.features.assets import feature_assets, label_assets, online_features
from pipelines.defs.features.checks import feature_checks, label_checks
from pipelines.defs.resources import LongitudeResource
from schemas.features import SPARSE_SCHEMA, feature_table_path
from schemas.io import write_parquet
from schemas.labels import label_path, label_schema
from tests.features.helpers import at


def _label_file(path, rows):
    frame = pl.DataFrame(
        rows,
        schema={"subject_id": pl.Int64, "prediction_time": pl.Datetime("us"), "boolean_value": pl.Boolean},
        orient="row",
    )
    return write_parquet(frame.to_arrow(), path, label_schema("boolean_value"))


ROWS = [
    (5, at(2018, 7, 1, 0, 0, 1), True),  # one second after the 7.2 result
    (1, at(2020, 1, 22, 12), False),
    (5, at(2018, 7, 1), False),  # exactly at the 7.2 result: it must not be used
    (99, at(2020, 1, 1), True),  # a subject the root does not know
]


def test_wide_rows_follow_labels_with_label_index_and_no_leakage(tiny_root, tmp_path):
    out = get_features(tiny_root, _label_file(tmp_path / "l.parquet", ROWS), "all_codes")
    assert sorted(out["label_index"].to_list()) == [0, 1, 2, 3]
    by = {r["label_index"]: r for r in out.iter_rows(named=True)}
    assert by[0]["LOINC//4548-4/all/last"] == pytest.approx(7.2)
    assert by[2]["LOINC//4548-4/all/last"] == pytest.approx(7.0)
    assert by[2]["LOINC//4548-4/all/count"] == 2
    assert by[1]["ENCOUNTER//IMP/30d/count"] == 2 and by[1]["ENCOUNTER_END//IMP/30d/count"] == 1
    assert by[1]["static/GENDER//female"] == 1 and by[1]["static/age_years"] == pytest.approx(60.06, abs=0.01)
    assert by[3]["static/age_years"] is None and by[3]["ENCOUNTER//IMP/all/count"] == 0
    default = get_features(tiny_root, _label_file(tmp_path / "l.parquet", ROWS))  # min_count 5 in train
    assert "LOINC//4548-4/all/last" not in default.columns and "GROUP//inpatient/all/count" in default.columns
    assert default.filter(pl.col("label_index") == 1)["GROUP//inpatient/all/count"].item() == 2
    assert [by[i]["boolean_value"] for i in range(4)] == [r[2] for r in ROWS]


def test_sparse_holds_exactly_the_non_default_cells_of_wide(tiny_root, tmp_path):
    labels = _label_file(tmp_path / "l.parquet", ROWS)
    wide = get_features(tiny_root, labels, "all_codes")
    sparse = get_features(tiny_root, labels, "all_codes", output="sparse")
    assert (
        sparse.to_arrow()
        .schema.remove_metadata()
        .equals(pl.from_arrow(SPARSE_SCHEMA.empty_table()).to_arrow().schema)
    )
    cs = compile_for_root(tiny_root, "all_codes")
    zero = dict(zip(cs.feature_names, cs.zero_default, strict=True))
    expected = {}
    for row in wide.iter_rows(named=True):
        for name in cs.feature_names:
            v = row[name]
            if v is not None and not (v == 0 and zero[name]):
                expected[(row["label_index"], name)] = v
    got = {
        (i, f): v for i, f, v in sparse.select("label_index", pl.col("feature").cast(pl.String), "value").rows()
    }
    assert got.keys() == expected.keys()
    assert all(got[k] == pytest.approx(expected[k]) for k in got)


def test_cli_writes_features_for_a_label_table_exactly_as_documented(tiny_root, tmp_path):
    labels = _label_file(tmp_path / "labels.parquet", ROWS)
    out = tmp_path / "features.parquet"
    run = CliRunner().invoke(
        cli, ["features", "--root", str(tiny_root.root), "--labels", str(labels), "--out", str(out)]
    )
    assert run.exit_code == 0, run.output
    wide = pl.read_parquet(out)
    assert len(wide) == len(ROWS) and len(wide.columns) > 10
    run = CliRunner().invoke(
        cli, ["features", "--root", str(tiny_root.root), "labels", "--task", "readmission_30d"]
    )
    assert run.exit_code == 0, run.output
    written = pl.concat(
        [pl.read_parquet(p) for p in sorted(label_path(tiny_root, "readmission_30d", 0).parent.iterdir())]
    )
    assert written.height == 3
    run = CliRunner().invoke(cli, ["features", "--labels", str(labels)])
    assert run.exit_code != 0 and "--out" in run.output


def test_online_store_matches_offline_as_of_any_time(tiny_root, tmp_path):
    materialize_online(tiny_root, "all_codes")
    store = OnlineStore.open(tiny_root, "all_codes")
    offline = get_features(tiny_root, _label_file(tmp_path / "l.parquet", ROWS), "all_codes")
    for row in offline.iter_rows(named=True):
        want = np.array([np.nan if row[n] is None else row[n] for n in store.feature_names], dtype=np.float32)
        got = store.vector(row["subject_id"], row["prediction_time"])
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    now = store.lookup(5)  # as of now: everything is in the past, the 30-day windows are empty
    assert now["LOINC//4548-4/all/count"] == 4 and "LOINC//4548-4/30d/count" not in now
    wide = store.get([1, 5], as_of=at(2019, 1, 1))
    assert wide["subject_id"].to_list() == [1, 5] and wide.columns == offline.drop("boolean_value").columns


def test_online_cli_prints_json(tiny_root):
    run = CliRunner().invoke(
        cli,
        [
            "features",
            "online",
            "--root",
            str(tiny_root.root),
            "--spec",
            "all_codes",
            "--materialize",
            "5",
            "--as-of",
            "2018-07-01T00:00:01",
        ],
    )
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout[run.stdout.index("{") :])
    assert payload["5"]["LOINC//4548-4/all/last"] == pytest.approx(7.2)


@pytest.mark.integration
def test_dagster_assets_write_labels_features_and_online_for_one_shard(tiny_root):
    resources = {"longitude": LongitudeResource(root=str(tiny_root.root), n_shards=2)}
    run = dg.materialize(
        [*label_assets, *feature_assets, online_features, *label_checks, *feature_checks],
        resources=resources,
        partition_key="1",
    )
    assert run.success
    assert feature_table_path(tiny_root, "readmission_30d", "default", 1).exists()
    assert not feature_table_path(tiny_root, "readmission_30d", "default", 0).exists()
    checks = run.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    meta = [e.materialization.metadata for e in run.get_asset_materialization_events()]
    text = json.dumps([{k: str(v.value) for k, v in m.items()} for m in meta])
    assert "2020-" not in text and "2019-" not in text


def test_shipped_specs_parse():
    for name in shipped_specs():
        assert load_spec(name).name == name
    with pytest.raises(ValueError, match="aggs"):
        from featurestore.spec import parse_spec

        parse_spec({"name": "x", "groups": [{"codes": "all", "aggs": ["median"]}]})


def test_reference_check_passes_wide_and_sparse_tables_and_catches_a_tampered_value(tiny_root):
    from featurestore.labels import write_labels
    from featurestore.tables import write_feature_table
    from featurestore.tasks import load_task
    from featurestore.validate import features_match_reference, labels_valid
    from schemas.features import feature_table_path

    write_labels(tiny_root, load_task("mortality_1y"))
    assert labels_valid(tiny_root, "mortality_1y", 1).passed
    write_feature_table(tiny_root, "mortality_1y", 1, "default")
    write_feature_table(tiny_root, "mortality_1y", 1, "all_codes", output="sparse")
    assert features_match_reference(tiny_root, "mortality_1y", 1).passed
    path = feature_table_path(tiny_root, "mortality_1y", "default", 1)
    table = pl.read_parquet(path)
    column = "GROUP//encounters/all/count"
    table.with_columns(pl.col(column) + 1).write_parquet(path)  # one count off in every row
    result = features_match_reference(tiny_root, "mortality_1y", 1)
    assert not result.passed and result.counts["mismatches"] == len(table)


def test_http_endpoint_answers_features_as_of_and_rejects_bad_requests(tiny_root):
    from featurestore.serve import respond

    materialize_online(tiny_root, "all_codes")
    store = OnlineStore.open(tiny_root, "all_codes")
    status, body = respond(store, "/features/5?as_of=2018-07-01T00:00:01")
    assert status == 200 and body["features"]["LOINC//4548-4/all/last"] == pytest.approx(7.2)
    status, body = respond(store, "/features/5?as_of=2018-07-01T00:00:00&all=1")
    assert body["features"]["LOINC//4548-4/all/last"] == pytest.approx(7.0) and len(body["features"]) == len(
        store.feature_names
    )
    assert respond(store, "/features/5?as_of=yesterday")[0] == 400
    assert respond(store, "/subjects/5")[0] == 404

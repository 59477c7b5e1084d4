"""Code sets make the shipped tasks vocabulary-neutral: SNOMED, ICD-10-CM and ICD-9-CM timelines all label."""

import os
import zipfile
from pathlib import Path

import polars as pl
import pytest

from deid.pseudonym import Keyring
from featurestore.codesets import load_codeset, shipped_codesets
from featurestore.labels import write_labels
from featurestore.spec import CodeSelector
from featurestore.tasks import build_labels, load_task, shipped_tasks
from pipelines.defs.meds.build import build_shard
from pipelines.defs.tables.ingest import ingest_tables
from schemas.labels import labels_dir
from schemas.layout import Layout
from tests.conftest import TEST_SECRET, shared_dir
from tests.features.helpers import at


def test_every_shipped_code_set_and_task_loads():
    assert {"hypertension", "type2_diabetes", "hba1c_percent"} <= set(shipped_codesets())
    for name in shipped_codesets():
        assert CodeSelector.parse({"set": name}).expr() is not None, name
    for name in shipped_tasks():
        load_task(name)


@pytest.mark.parametrize(
    ("name", "member", "other"),
    [
        ("hypertension", ["SNOMED//59621000", "ICD10CM//I10", "ICD10CM//I13.0", "ICD9CM//401.9"], ["ICD10CM//I20.0"]),
        ("type2_diabetes", ["SNOMED//44054006", "ICD10CM//E11.9", "ICD9CM//250.00", "ICD9CM//25002"],
         ["ICD9CM//250.01", "ICD10CM//E10.9", "SNOMED//46635009"]),
        ("hba1c_percent", ["LOINC//4548-4", "LOINC//17856-6"], ["LOINC//59261-8"]),
    ],
)  # fmt: skip
def test_a_code_set_selects_its_concept_in_every_vocabulary_and_nothing_else(name, member, other):
    selector = CodeSelector.parse({"set": name})
    assert all(selector.matches(c) for c in member)
    assert not any(selector.matches(c) for c in other), "type 1 diabetes, angina, IFCC HbA1c stay out"
    frame = pl.DataFrame({"code": member + other})
    assert frame.filter(selector.expr())["code"].to_list() == member, "the polars expression agrees"


def test_the_cli_lists_shipped_code_sets_beside_tasks():
    from click.testing import CliRunner

    from pipelines.cli import cli

    run = CliRunner().invoke(cli, ["features", "labels", "--list"])
    assert run.exit_code == 0, run.output
    listed = next(line for line in run.output.splitlines() if line.startswith("code sets: "))
    assert listed.removeprefix("code sets: ").split(", ") == shipped_codesets()


def test_a_code_set_unknown_or_empty_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no code set 'nope'"):
        CodeSelector.parse({"set": "nope"})
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: empty\ndescription: nothing\n")
    with pytest.raises(ValueError, match="needs codes, prefix or regex"):
        load_codeset(empty)


def _timeline(dx_code: str) -> pl.DataFrame:
    rows = [
        (1, at(2019, 1, 1, 9), "ENCOUNTER//AMB"),
        (1, at(2019, 1, 1, 10), "ENCOUNTER_END//AMB"),
        (1, at(2019, 6, 1, 9), dx_code),
        (1, at(2020, 6, 1, 9), "ENCOUNTER//AMB"),
    ]
    frame = pl.DataFrame(rows, schema=["subject_id", "time", "code"], orient="row")
    return frame.with_columns(numeric_value=pl.lit(None, pl.Float32))


@pytest.mark.parametrize(
    ("task", "dx_code"),
    [
        ("new_hypertension_365d", "SNOMED//38341003"),
        ("new_hypertension_365d", "ICD10CM//I10"),
        ("new_hypertension_365d", "ICD9CM//401.1"),
        ("new_type2_diabetes_365d", "ICD10CM//E11.65"),
        ("new_type2_diabetes_365d", "ICD9CM//250.02"),
    ],
)
def test_new_diagnosis_tasks_label_a_diagnosis_coded_in_any_vocabulary(task, dx_code):
    assert build_labels(_timeline(dx_code), load_task(task)).rows() == [(1, at(2019, 1, 1, 10), True)]


def test_type_1_diabetes_in_icd9_is_not_a_type_2_outcome():
    assert build_labels(_timeline("ICD9CM//250.01"), load_task("new_type2_diabetes_365d")).rows() == [
        (1, at(2019, 1, 1, 10), False)
    ]


# Prevalence bounds for the shared OMOP set (Synthea, 28 patients): wide enough for another secret's splits,
# narrow enough that an empty or all-positive task fails.
OMOP_PREVALENCE = {
    "mortality_1y": (0.001, 0.2),
    "readmission_30d": (0.01, 0.6),
    "hba1c_next_above_6_5": (0.01, 0.6),
    "new_type2_diabetes_365d": (0.0001, 0.1),
    "new_hypertension_365d": (0.0, 0.1),  # diagnoses fall at yearly visits 370+ days apart: see docs/features.md
}


@pytest.mark.slow
@pytest.mark.integration
def test_shipped_tasks_label_the_shared_omop_set_with_plausible_prevalence(tmp_path: Path):
    archive = shared_dir("omop-synthea27") / "Synthea27Nj_5.4.zip"
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path / "csv", [n for n in z.namelist() if not n.startswith("__MACOSX")])
    source = tmp_path / "root" / "landing" / "tables" / "omop"
    source.mkdir(parents=True)
    for f in next((tmp_path / "csv").rglob("PERSON.csv")).parent.iterdir():
        os.link(f, source / f.name)  # not a symlink: the tables reader refuses links that leave the root
    (source / "longitude-source.yaml").write_text("mapping: omop-cdm54\n")
    layout, keys = Layout(tmp_path / "root"), Keyring(TEST_SECRET)
    ingest_tables(layout, keys, 2)
    for shard in range(2):
        build_shard(layout, keys, shard, (0.8, 0.1, 0.1), 2)
    for name, (low, high) in OMOP_PREVALENCE.items():
        task = load_task(name)
        summary = write_labels(layout, task)
        labels = pl.read_parquet(sorted(labels_dir(layout, name).glob("*.parquet")))
        assert summary["rows"] == labels.height > 0, f"{name}: labels on real OMOP data"
        assert labels["subject_id"].n_unique() >= 5, name
        prevalence = labels[task.value_column].mean()
        assert low <= prevalence <= high, f"{name}: prevalence {prevalence:.4f} outside [{low}, {high}]"

"""`longitude materialize --executor/--executor-config`: settings checked against the engine's schema, one-line
errors for a bad file or an unreachable broker or cluster, and steps run through the chosen executor."""

from pathlib import Path

import pytest

from pipelines.engines import EngineError, load_engine_config
from tests.pipelines.test_cli_materialize import _longitude
from tests.pipelines.test_cli_materialize import root as root


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "executor.yaml"
    path.write_text(text)
    return path


def test_a_section_per_engine_is_read_for_the_chosen_engine(tmp_path: Path):
    path = _yaml(tmp_path, "celery:\n  broker: 'filesystem://'\nk8s:\n  job_image: x:1\n")
    assert load_engine_config("celery", path) == {"broker": "filesystem://"}
    assert load_engine_config("k8s", path) == {"job_image": "x:1"}
    assert load_engine_config("multiprocess", _yaml(tmp_path, "max_concurrent: 2\n")) == {"max_concurrent": 2}


def test_an_unknown_key_or_a_wrong_type_is_refused_naming_the_key(tmp_path: Path):
    with pytest.raises(EngineError, match="unknown key 'brokr' for --executor celery"):
        load_engine_config("celery", _yaml(tmp_path, "brokr: x\n"))
    with pytest.raises(EngineError, match="max_concurrent"):
        load_engine_config("k8s", _yaml(tmp_path, "max_concurrent: many\n"))
    with pytest.raises(EngineError, match="must be a mapping"):
        load_engine_config("k8s", _yaml(tmp_path, "- a\n"))


@pytest.mark.integration  # runs the CLI in a subprocess: about 10 s each on a busy machine
@pytest.mark.parametrize(
    ("engine", "settings", "message"),
    [
        ("celery", "brokr: x\n", "unknown key 'brokr' for --executor celery"),
        (
            "celery",
            "broker: 'pyamqp://guest:pw@127.0.0.1:1//'\n",
            "Celery broker pyamqp://127.0.0.1 not reachable",
        ),
        (
            "k8s",
            "load_incluster_config: false\nkubeconfig_file: /nonexistent\n",
            "Kubernetes cluster not reachable",
        ),
    ],
)
def test_a_bad_file_or_an_unreachable_engine_stops_with_one_line(
    root: Path, tmp_path: Path, engine, settings, message
):
    config = _yaml(tmp_path, settings)
    run = _longitude("materialize", "--root", str(root), "--executor", engine, "--executor-config", str(config))
    assert run.returncode != 0
    assert message in run.stderr and "Traceback" not in run.stderr
    assert "pw" not in run.stderr  # a broker password never reaches the terminal
    assert not (root / "meds").exists()  # nothing ran


@pytest.mark.integration
@pytest.mark.slow
def test_multiprocess_runs_the_step_in_its_own_process(root: Path):
    import dagster as dg

    from pipelines.instance import ensure_dagster_home
    from schemas.layout import Layout

    run = _longitude("materialize", "--root", str(root), "--executor", "multiprocess", "--select", "fhir_raw")
    assert run.returncode == 0, run.stderr[-2000:]
    instance = dg.DagsterInstance.from_config(str(ensure_dagster_home(Layout(root))))
    [record] = instance.get_run_records()
    events = [e.dagster_event for e in instance.all_logs(record.dagster_run.run_id) if e.dagster_event]
    driver = {e.pid for e in events if e.event_type == dg.DagsterEventType.RUN_START}
    step = {e.pid for e in events if e.event_type == dg.DagsterEventType.STEP_START}
    assert driver and step and not driver & step  # the step ran in a process of its own, not the driver
    assert any(e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION for e in events)

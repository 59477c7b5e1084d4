"""More user mistakes, each one short message and a non-zero exit before anything runs: out-of-range numbers,
a file where a folder goes, a missing root for the model and feature commands, an unparseable date, a label
file that is no Parquet, a blocking rule accepted, a revoke of nothing."""

from pathlib import Path

import pytest

from tests.conftest import write_bundle
from tests.fhir_fixtures import patient
from tests.pipelines.test_cli_errors import _longitude, _short


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_bundle(tmp_path / "hospital" / "landing" / "fhir" / "p0.json", [patient("p0")])
    return tmp_path / "hospital"


def test_an_out_of_range_port_is_refused_not_wrapped_to_another(root: Path):
    # 99999 would listen on 99999 - 65536 = 34463 while printing :99999
    err = _short(_longitude("quality", "serve", "--root", str(root), "--port", "99999"))
    assert "'--port': 99999 is not in the range 1<=x<=65535" in err


@pytest.mark.parametrize("command", [("materialize", "--shards", "0"), ("demo", "--shards", "0"),
                                     ("demo", "--patients", "0")])  # fmt: skip
def test_a_zero_count_is_refused_before_a_root_is_touched(tmp_path: Path, command: tuple):
    new = tmp_path / "new"
    err = _short(_longitude(*command, "--root", str(new)))
    assert "is not in the range" in err and not new.exists()


def test_a_file_given_as_a_root_or_an_output_folder_is_named(tmp_path: Path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    assert f"{afile} is a file; --root names a folder" in _short(_longitude("demo", "--root", str(afile)))
    err = _short(_longitude("generate", "--out", str(afile / "landing"), "--patients", "1"))
    assert f"cannot write {afile}" in err and "Error: NotADirectoryError" not in err


def test_model_and_feature_commands_refuse_a_missing_root(tmp_path: Path):
    typo = tmp_path / "nope"
    for command in (("train", "--steps", "1"), ("train", "evaluate"), ("features", "online", "1"),
                    ("features", "labels", "--task", "mortality_1y")):  # fmt: skip
        assert f"{typo} does not exist" in _short(_longitude(*command, "--root", str(typo)))
    assert not typo.exists()


def test_an_unknown_train_config_reads_as_a_sentence(root: Path):
    err = _short(_longitude("train", "--config", "huge", "--root", str(root), "--steps", "1"))
    assert "Error: unknown config 'huge'; known:" in err


def test_a_date_that_is_no_iso_time_is_named(root: Path):
    err = _short(_longitude("features", "online", "1", "--root", str(root), "--as-of", "yesterday"))
    assert "--as-of is not an ISO date or time" in err and "ValueError" not in err


def test_a_label_file_that_is_no_parquet_is_named(root: Path, tmp_path: Path):
    labels = tmp_path / "labels.parquet"
    labels.write_text("subject_id,prediction_time\n1,2020-01-01\n")
    err = _short(
        _longitude("features", "--root", str(root), "--labels", str(labels), "--out", str(tmp_path / "f"))
    )
    assert f"--labels {labels}: not a readable Parquet label table" in err and "ComputeError" not in err


def test_an_export_to_a_missing_folder_is_one_message(root: Path, tmp_path: Path):
    out = tmp_path / "missing" / "reviews.csv"
    err = _short(_longitude("quality", "export", "--root", str(root), "--out", str(out)))
    assert f"cannot write {out}: No such file or directory" in err and "FileNotFoundError" not in err


def test_accepting_a_blocking_rule_or_revoking_nothing_is_refused(root: Path):
    (root / "quarantine").mkdir()
    assert _longitude("quality", "--root", str(root), "--no-gx").returncode == 0
    rule = "check:phi_audit/no_phi_outside_phi_zones"  # error severity: an acceptance would not unblock it
    err = _short(_longitude("quality", "accept", rule, "--note", "fine", "--root", str(root)))
    assert f"{rule} is a blocking (error) rule: accepting it would not unblock it" in err
    err = _short(_longitude("quality", "revoke", rule, "--note", "undo", "--root", str(root)))
    assert f"{rule} has no acceptance or rejection to revoke" in err
    assert _longitude("quality", "reject", rule, "--note", "fix it", "--root", str(root)).returncode == 0
    assert _longitude("quality", "revoke", rule, "--note", "fixed", "--root", str(root)).returncode == 0
    log = _longitude("quality", "history", "--root", str(root)).stdout
    assert [line.split()[2] for line in log.splitlines()] == ["reject", "revoke"]


def test_serving_on_a_busy_port_says_so_before_claiming_to_serve(root: Path):
    import socket

    (root / "quality").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = _short(_longitude("quality", "serve", "--root", str(root), "--port", str(port)))
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use; pass --port N" in err
    assert "Stewards' site" not in err


def test_ctrl_c_in_a_step_is_an_interruption_not_a_failed_check():
    # Dagster turns SIGINT into DagsterExecutionInterruptedError in whichever step (or check) is running; the
    # CLI must say "Interrupted" and exit 130, not print a check as failed with a Dagster class path.
    import dagster as dg
    from dagster._core.errors import DagsterExecutionInterruptedError

    from pipelines.materialize import Outcome, _record

    @dg.asset
    def stopped() -> None:
        raise DagsterExecutionInterruptedError()

    result = dg.materialize([stopped], raise_on_error=False)
    with pytest.raises(KeyboardInterrupt):
        _record(Outcome(), "stopped", result, 0.0)

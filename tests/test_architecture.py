"""The import contracts in .importlinter hold, and they fail when a lower layer imports a higher one."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
PACKAGES = ("schemas", "deid", "quality", "model", "synthetic", "featurestore", "pipelines")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--config", str(CONFIG), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_every_import_contract():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def _tree(tmp_path: Path, imports: dict[str, str]) -> Path:
    """Packages named as ours, with the sub-packages the contracts name, and the given imports."""
    for line in CONFIG.read_text().splitlines():
        name = line.strip()
        if name.count(".") == 1 and name.split(".")[0] in PACKAGES:
            (tmp_path / name.replace(".", "/")).mkdir(parents=True, exist_ok=True)
            (tmp_path / name.replace(".", "/") / "__init__.py").write_text("")
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    for module, body in imports.items():
        (tmp_path / module.replace(".", "/")).with_suffix(".py").write_text(body)
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "__init__.py").write_text("")
    return tmp_path


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tmp_path):
    done = _lint(_tree(tmp_path, {"schemas.io": "import pipelines\n", "pipelines.cli": "import schemas\n"}))
    assert done.returncode == 1
    assert "Arrows point one way" in done.stdout and "BROKEN" in done.stdout


def test_siblings_importing_each_other_or_dagster_outside_pipelines_break_contracts(tmp_path):
    done = _lint(_tree(tmp_path, {"model.data": "import deid\n", "quality.site": "import dagster\n"}))
    assert done.returncode == 1
    assert "Arrows point one way" in done.stdout
    assert "Only pipelines imports Dagster BROKEN" in done.stdout


def test_an_import_circle_breaks_the_contract(tmp_path):
    tree = _tree(tmp_path, {"model.a": "from model import b\n", "model.b": "from model import a\n"})
    assert shutil.which("true")  # the subprocess needs nothing else from PATH
    done = _lint(tree)
    assert done.returncode == 1 and "No import circles" in done.stdout


def _python_lines(package: str) -> int:
    return sum(len(path.read_text().splitlines()) for path in (ROOT / package).rglob("*.py"))


def test_pipelines_holds_dagster_definitions_not_the_library():
    """The generator and the feature store are packages of their own; pipelines/ stays under 45% of the code."""
    lines = {package: _python_lines(package) for package in PACKAGES}
    assert lines["pipelines"] / sum(lines.values()) < 0.45, lines
    assert not (ROOT / "pipelines" / "features").exists() and not (ROOT / "pipelines" / "synthetic").exists()

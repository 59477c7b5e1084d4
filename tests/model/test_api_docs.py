"""Modelers' reference: API pages generated from docstrings, and type information shipped with each package."""

import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "deid", "quality", "model", "synthetic", "featurestore", "pipelines")


@pytest.mark.slow
def test_api_reference_is_generated_from_docstrings(tmp_path: Path):
    run = subprocess.run([sys.executable, str(REPO / "docs" / "build_api.py"), "--out", str(tmp_path), "model"],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    data = (tmp_path / "model" / "data.html").read_text()
    assert "TrainingShards" in data and "DataLoader(shards, batch_size=8)" in data
    assert "attention_mask" in (tmp_path / "model" / "padded.html").read_text()
    assert (tmp_path / "model" / "tokenizer" / "vocab.html").exists()  # a package's submodules are documented


def test_every_package_ships_py_typed():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert "py.typed" in data
    for package in PACKAGES:
        assert resources.files(package).joinpath("py.typed").is_file(), package

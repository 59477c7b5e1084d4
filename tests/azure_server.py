"""A local Azure Blob API server (Azurite, from npm) on a free port, for abfs:// roots; skips when not installed."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# Azurite's well-known development account (published in its documentation; not a secret of anyone's)
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def azure_server(container: str) -> Iterator[dict[str, str]]:
    """Start Azurite's blob service in a temp dir, create `container`, and yield the environment adlfs reads."""
    azurite = os.environ.get("AZURITE_BLOB") or shutil.which("azurite-blob")
    if azurite is None:
        pytest.skip("Azurite not installed (npm install -g azurite): abfs:// conditions untested here")
    pytest.importorskip("adlfs", reason="adlfs not installed")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="azurite-") as where:
        server = subprocess.Popen(
            [azurite, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", where, "--silent",
             "--skipApiVersionCheck", "--loose"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            env = {
                "AZURE_STORAGE_CONNECTION_STRING": (
                    f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                    f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
                )
            }
            _wait(port)
            from azure.storage.blob import BlobServiceClient

            BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"]).create_container(
                container
            )
            yield env
        finally:
            server.terminate()  # Azurite waits for open keep-alive connections to close: do not wait for it long
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


def _wait(port: int, timeout: float = 60.0) -> None:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"Azurite did not listen on port {port} within {timeout:.0f} s")

"""A local Azure Blob API server (Azurite, from npm) on a free port, for abfs:// roots; skips when not installed."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.emulator_process import free_port, stop, wait_listening

# Azurite's well-known development account (published in its documentation; not a secret of anyone's)
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@contextmanager
def azure_server(container: str) -> Iterator[dict[str, str]]:
    """Start Azurite's blob service in a temp dir, create `container`, and yield the environment adlfs reads."""
    azurite = os.environ.get("AZURITE_BLOB") or shutil.which("azurite-blob")
    if azurite is None:
        pytest.skip("Azurite not installed (npm install -g azurite): abfs:// conditions untested here")
    pytest.importorskip("adlfs", reason="adlfs not installed")
    port = free_port()
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
            wait_listening(port, "Azurite", 60)
            from azure.storage.blob import BlobServiceClient

            BlobServiceClient.from_connection_string(env["AZURE_STORAGE_CONNECTION_STRING"]).create_container(
                container
            )
            yield env
        finally:
            stop(server)

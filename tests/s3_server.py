"""A local S3 API server (moto in server mode) on a free port, with test-only credentials, for object-store roots."""

import functools
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# moto's fake keys: the server accepts any; nothing here is a real credential
TEST_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_CONDITIONAL = threading.Lock()


def _atomic_conditions() -> None:
    """Make moto's conditional PUT and DELETE atomic, as S3's are: moto checks If-Match / If-None-Match and then
    writes in two steps without a lock, so two racing requests conditional on one ETag could both pass (which
    the compare-and-swap tests would see as a lost update: the server's, not the client's)."""
    from moto.s3.responses import S3Response

    for name in ("put_object", "delete_object"):
        method = getattr(S3Response, name)
        if getattr(method, "_atomic", False):
            continue

        @functools.wraps(method)
        def atomic(self, _method=method):
            if self.headers.get("If-Match") or self.headers.get("If-None-Match"):
                with _CONDITIONAL:
                    return _method(self)
            return _method(self)

        atomic._atomic = True  # type: ignore[attr-defined]
        setattr(S3Response, name, atomic)


@contextmanager
def s3_server(bucket: str) -> Iterator[dict[str, str]]:
    """Start moto's S3 server, create `bucket`, and yield the environment a client needs to reach it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    _atomic_conditions()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {**TEST_AWS_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    try:
        import boto3

        boto3.client("s3", **_client_args(env)).create_bucket(Bucket=bucket)
        yield env
    finally:
        server.stop()


def _client_args(env: dict[str, str]) -> dict[str, str]:
    return {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_DEFAULT_REGION"],
    }


def list_keys(env: dict[str, str], bucket: str) -> list[str]:
    """Every key in the bucket (for tests that check what a run wrote; the code under test never lists)."""
    import boto3

    pages = boto3.client("s3", **_client_args(env)).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

"""Fixtures of the object-store tests here: a moto S3 server per module (its bucket the module's BUCKET) and a
store under a prefix of the test's own name."""

import pytest

from schemas.store import ObjectStore
from tests.s3_server import s3_server


@pytest.fixture(scope="module")
def s3_env(request):
    with s3_server(request.module.BUCKET) as env:
        yield env


@pytest.fixture
def store(s3_env, monkeypatch: pytest.MonkeyPatch, request) -> ObjectStore:
    for key, value in s3_env.items():
        monkeypatch.setenv(key, value)
    return ObjectStore(f"s3://{request.module.BUCKET}/{request.node.name}")

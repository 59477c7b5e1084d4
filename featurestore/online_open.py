"""Open an online key-value store by name: `local` (SQLite under the root) or `redis` (a Redis URL)."""

from pathlib import Path

from featurestore.online_backend import OnlineBackend, StoreError

BACKENDS = ("local", "redis")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def open_backend(kind: str, root: Path | None = None, redis_url: str | None = None) -> OnlineBackend:
    """`local`: the SQLite store under ROOT (schemas.online_store); `redis`: the Redis server at redis_url."""
    if kind == "local":
        if root is None:
            raise StoreError("the local online store needs a root")
        from featurestore.online_sqlite import SqliteBackend
        from schemas.layout import Layout
        from schemas.online_store import local_store_path

        return SqliteBackend(local_store_path(Layout(root)))
    if kind == "redis":
        from featurestore.online_redis import RedisBackend

        return RedisBackend(redis_url or DEFAULT_REDIS_URL)
    raise StoreError(f"unknown online store {kind!r}; use one of {', '.join(BACKENDS)}")

"""The `longitude` resource: settings for every asset, resolved once per root (its pinned values win)."""

import functools
import os

import dagster as dg

from pipelines.settings import (
    SECRET_ENV,
    RootValues,
    Settings,
    SettingsError,
    check_root_secret,
    demo_secret,
    resolve_root_values,
)

# The environment variables of `longitude features online --online-store/--redis-url`: one setting, both doors.
ONLINE_STORE_ENV, REDIS_URL_ENV = "LONGITUDE_ONLINE_STORE", "LONGITUDE_REDIS_URL"


class LongitudeResource(dg.ConfigurableResource):
    """Root, sharding, splits and the secret (only ever through dg.EnvVar, or a demo root's own secret)."""

    root: str
    n_shards: int | None = None  # None: the root's pinned count (else 4)
    splits: str | None = None  # None: the root's pinned fractions (else 80/10/10)
    strict: bool = False
    secret: str | None = None
    workers: int = 0  # processes for parsing; 0 = one per core
    # The key-value store online_feature_store publishes to: `local` (SQLite under the root) or `redis` (the
    # server at redis_url, which may carry a password: only ever through dg.EnvVar). `memory` serves the
    # Parquet tables themselves; the asset then keeps the local store current.
    online_store: str = "local"
    redis_url: str | None = None

    def settings(self) -> Settings:
        from pathlib import Path

        root = Path(self.root).resolve()
        # A run configured by hand (the UI's launchpad) still may not contradict the root's pinned values.
        values = resolve_root_values(root, n_shards=self.n_shards, splits=self.splits, environ={})
        secret = self.secret.encode() if self.secret else demo_secret(root, create=False)
        if secret is None:
            raise SettingsError(f"{SECRET_ENV} is not set and {root} is not a demo root; set {SECRET_ENV}.")
        check_root_secret(root, secret)  # a root never mixes two secrets, whichever door the run came through
        return Settings(
            root=root,
            secret=secret,
            n_shards=values.n_shards,
            split_fractions=values.split_fractions,
            demo=not self.secret,
            strict=self.strict,
        )

    def worker_count(self) -> int:
        from schemas.cpus import available_cpus  # honours the container's CPU quota, unlike os.cpu_count()

        return self.workers or available_cpus()

    def online_backend(self):
        """The configured online store, opened (featurestore.online_open); the caller closes it."""
        from featurestore.online_open import BACKENDS, open_backend

        kind = "local" if self.online_store == "memory" else self.online_store
        if kind not in BACKENDS:
            raise SettingsError(
                f"{ONLINE_STORE_ENV}={self.online_store!r} names no online store; use memory, local or redis"
            )
        from pathlib import Path

        return kind, open_backend(kind, Path(self.root).resolve(), self.redis_url)


@functools.cache
def code_location_values() -> RootValues:
    """Root values for this code location, resolved once: the partitions and the resource both use these."""
    return resolve_root_values()


def shard_count_from_env() -> int:
    """Shard count for the partitions definition: the root's pinned count, else LONGITUDE_SHARDS, else 4."""
    return code_location_values().n_shards


def chunk_count_from_env() -> int:
    """Ingest chunk count for its partitions definition: LONGITUDE_INGEST_CHUNKS, else the root's, else 1."""
    return code_location_values().ingest_chunks


def longitude_resources() -> dict:
    """Local resources from the resolved root values; the secret from LONGITUDE_SECRET via dg.EnvVar."""
    values = code_location_values()
    secret = dg.EnvVar(SECRET_ENV) if os.environ.get(SECRET_ENV) else None
    redis_url = dg.EnvVar(REDIS_URL_ENV) if os.environ.get(REDIS_URL_ENV) else None
    return {
        "longitude": LongitudeResource(
            root=str(values.root),
            n_shards=values.n_shards,
            splits="/".join(str(f) for f in values.split_fractions),
            strict=values.strict,
            secret=secret,
            workers=values.workers,
            online_store=os.environ.get(ONLINE_STORE_ENV) or "local",
            redis_url=redis_url,
        )
    }

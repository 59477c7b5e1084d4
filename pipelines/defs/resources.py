"""The `longitude` resource: settings for every asset, chosen once from the environment."""

import os

import dagster as dg

from pipelines.settings import (
    DEFAULT_SHARDS,
    SECRET_ENV,
    Settings,
    SettingsError,
    check_root_secret,
    demo_secret,
    parse_splits,
)


class LongitudeResource(dg.ConfigurableResource):
    """Root, sharding, splits and the secret (only ever through dg.EnvVar, or a demo root's own secret)."""

    root: str
    n_shards: int = DEFAULT_SHARDS
    splits: str = "80/10/10"
    strict: bool = False
    secret: str | None = None
    workers: int = 0  # processes for parsing; 0 = one per core

    def settings(self) -> Settings:
        from pathlib import Path

        root = Path(self.root).resolve()
        secret = self.secret.encode() if self.secret else demo_secret(root, create=False)
        if secret is None:
            raise SettingsError(f"{SECRET_ENV} is not set and {root} is not a demo root; set {SECRET_ENV}.")
        check_root_secret(root, secret)  # a root never mixes two secrets, whichever door the run came through
        return Settings(
            root=root,
            secret=secret,
            n_shards=self.n_shards,
            split_fractions=parse_splits(self.splits),
            demo=not self.secret,
            strict=self.strict,
        )

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


def shard_count_from_env() -> int:
    """Shard count for the partitions definition; must agree with the resource's n_shards."""
    return int(os.environ.get("LONGITUDE_SHARDS") or DEFAULT_SHARDS)


def longitude_resources() -> dict:
    """Local resources: filesystem root from LONGITUDE_ROOT, secret from LONGITUDE_SECRET via dg.EnvVar."""
    secret = dg.EnvVar(SECRET_ENV) if os.environ.get(SECRET_ENV) else None
    return {
        "longitude": LongitudeResource(
            root=os.environ.get("LONGITUDE_ROOT", "./longitude-data"),
            n_shards=shard_count_from_env(),
            splits=os.environ.get("LONGITUDE_SPLITS", "80/10/10"),
            strict=os.environ.get("LONGITUDE_STRICT", "") in ("1", "true", "yes"),
            secret=secret,
            workers=int(os.environ.get("LONGITUDE_WORKERS") or 0),
        )
    }

"""Run settings: root, shard count, split fractions and the secret, detected from the environment once."""

import json
import os
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.secret_policy import WeakSecretError, check_secret, fingerprint, same_fingerprint

if TYPE_CHECKING:  # deid and schemas pull in numpy and pyarrow: `longitude --help` must not wait for them
    from deid.pseudonym import Keyring
    from schemas.layout import Layout

DEFAULT_ROOT = "./longitude-data"
DEFAULT_SHARDS = 4
DEFAULT_SPLITS = (0.8, 0.1, 0.1)
DEFAULT_INGEST_CHUNKS = 1  # one map step: a default run costs what one unpartitioned ingest did
INGEST_CHUNKS_ENV, INGEST_CHUNKS_KEY = "LONGITUDE_INGEST_CHUNKS", "ingest_chunks"
# The demo secret lives in the root so a demo root re-materializes identically; real runs never use it.
DEMO_SECRET_FILE = "demo-secret.txt"
SECRET_ENV = "LONGITUDE_SECRET"
# A root remembers its shard count and split fractions: changing either would move subjects between shards
# or splits, breaking "each subject in one shard" and "a subject's split never changes". It also remembers
# the fingerprint of its secret (never the secret): a second secret would mix two sets of pseudonyms and
# shifts. `demo: true` marks a root `longitude demo` made, the only kind whose demo-secret.txt is used.
ROOT_SETTINGS_FILE = "longitude.json"
FINGERPRINT_KEY = "secret_fingerprint"
DEMO_KEY = "demo"


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message says how to fix it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    root: Path
    secret: bytes = field(repr=False)
    n_shards: int = DEFAULT_SHARDS
    split_fractions: tuple[float, float, float] = DEFAULT_SPLITS
    demo: bool = False
    strict: bool = False

    def __post_init__(self) -> None:
        if self.n_shards < 1:
            raise SettingsError(f"shard count must be >= 1, got {self.n_shards}")
        if len(self.split_fractions) != 3 or any(f < 0 for f in self.split_fractions):
            raise SettingsError("split fractions must be three non-negative numbers (train, tuning, held_out)")
        if abs(sum(self.split_fractions) - 1.0) > 1e-9:
            raise SettingsError(f"split fractions must add up to 1, got {sum(self.split_fractions)}")
        try:
            check_secret(self.secret, SECRET_ENV)
        except WeakSecretError as err:
            raise SettingsError(str(err)) from None

    @property
    def layout(self) -> "Layout":
        from schemas.layout import Layout

        return Layout(self.root)

    @property
    def keyring(self) -> "Keyring":
        from deid.pseudonym import Keyring

        return Keyring(self.secret)


def parse_splits(text: str) -> tuple[float, float, float]:
    """'80/10/10' or '0.8,0.1,0.1' -> fractions.

    >>> parse_splits("80/10/10")
    (0.8, 0.1, 0.1)
    """
    parts = [float(p) for p in text.replace(",", "/").split("/")]
    if len(parts) != 3:
        raise SettingsError(f"splits need three parts (train/tuning/held_out), got {text!r}")
    total = sum(parts)
    if total <= 0:
        raise SettingsError(f"splits must add up to more than 0, got {text!r}")
    return tuple(round(p / total, 12) for p in parts)  # type: ignore[return-value]


def demo_secret(root: Path, create: bool) -> bytes | None:
    """The demo root's own secret: only for a root `longitude demo` made (marked in longitude.json).

    With `create`, a root that has no secret pinned yet becomes a demo root; one pinned to another secret
    never does.
    """
    root = Path(root)
    path = root / DEMO_SECRET_FILE
    pinned = read_pinned(root)
    if pinned.get(DEMO_KEY) and path.exists():
        return path.read_text().strip().encode()
    recorded = pinned.get(FINGERPRINT_KEY)
    if recorded and path.exists() and same_fingerprint(path.read_text().strip().encode(), recorded):
        # Built with this very file's secret from its first run: a demo root from before the marker existed.
        _write_pinned(root, {**pinned, DEMO_KEY: True})
        return path.read_text().strip().encode()
    if not create:
        return None
    if pinned.get(FINGERPRINT_KEY) and not pinned.get(DEMO_KEY):
        raise SettingsError(
            f"{root} holds data keyed with a real secret; `longitude demo` needs a new root (pass --root)."
        )
    if not path.exists():
        from schemas.atomic import write_text

        write_text(secrets.token_hex(32) + "\n", path)  # whole or absent (a torn secret would re-key), mode 0600
    _write_pinned(root, {**pinned, DEMO_KEY: True})
    return path.read_text().strip().encode()


@dataclass(frozen=True, kw_only=True, slots=True)
class RootValues:
    """What a run needs before the secret: the root, its shard count and splits (the root's pinned ones win)."""

    root: Path
    n_shards: int
    split_fractions: tuple[float, float, float]
    strict: bool = False
    workers: int = 0  # parser processes; 0 = one per available core
    ingest_chunks: int = DEFAULT_INGEST_CHUNKS  # partitions of the FHIR ingest (map steps)


def ingest_chunks_of(pinned: Mapping, env: Mapping[str, str]) -> int:
    """How many chunk partitions ingest runs as: LONGITUDE_INGEST_CHUNKS, else the root's `ingest_chunks` in
    longitude.json, else 1. Not pinned: any count gives the same output (a chunk holds whole files)."""
    raw = env.get(INGEST_CHUNKS_ENV) or pinned.get(INGEST_CHUNKS_KEY) or DEFAULT_INGEST_CHUNKS
    try:
        chunks = int(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{INGEST_CHUNKS_ENV} or {INGEST_CHUNKS_KEY} must be a whole number >= 1") from None
    if chunks < 1:
        raise SettingsError(f"ingest chunk count must be >= 1, got {chunks}")
    return chunks


def resolve_root_values(
    root: str | Path | None = None,
    *,
    n_shards: int | None = None,
    splits: str | None = None,
    strict: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> RootValues:
    """The one place that decides root, shards, splits, strictness and workers, for the CLI and for Dagster.

    Order: the root's pinned longitude.json, then explicit arguments, then LONGITUDE_* variables, then defaults.
    An explicit argument that contradicts the pin stops the run (the user asked for something the root cannot
    do); an environment variable that contradicts it is overruled with a warning, so `dagster dev` or
    `longitude ui` started with a stale LONGITUDE_SHARDS never re-shards an existing root."""
    env = os.environ if environ is None else environ
    root_path = _local_root(root or env.get("LONGITUDE_ROOT") or DEFAULT_ROOT)
    pinned = read_pinned(root_path)
    env_shards = int(env["LONGITUDE_SHARDS"]) if env.get("LONGITUDE_SHARDS") else None
    env_fractions = parse_splits(env["LONGITUDE_SPLITS"]) if env.get("LONGITUDE_SPLITS") else None
    asked_fractions = parse_splits(splits) if splits else None
    if pinned.get("n_shards"):
        shards = int(pinned["n_shards"])
        fractions = tuple(pinned.get("split_fractions") or DEFAULT_SPLITS)
        asked = (n_shards or shards, list(asked_fractions or fractions))
        if asked != (shards, list(fractions)):
            raise SettingsError(
                f"{root_path} was built with {shards} shards and splits {list(fractions)}; this run asks for "
                f"{asked[0]} shards and splits {asked[1]}. Use the root's settings, or build into a new root "
                f"(changing them would move subjects between shards and splits)."
            )
        _warn_overruled(root_path, "LONGITUDE_SHARDS", env_shards, shards)
        _warn_overruled(root_path, "LONGITUDE_SPLITS", env_fractions and list(env_fractions), list(fractions))
    else:
        shards = n_shards or env_shards or DEFAULT_SHARDS
        fractions = asked_fractions or env_fractions or DEFAULT_SPLITS
    return RootValues(
        root=root_path,
        n_shards=shards,
        split_fractions=fractions,  # type: ignore[arg-type]
        strict=strict if strict is not None else env.get("LONGITUDE_STRICT", "").lower() in ("1", "true", "yes"),
        workers=int(env.get("LONGITUDE_WORKERS") or 0),
        ingest_chunks=ingest_chunks_of(pinned, env),
    )


def _local_root(text: str | Path) -> Path:
    """The root as an absolute local path; a URL stops here instead of becoming a local folder named `s3:`."""
    from schemas.store import RootError, parse_root

    try:
        parsed = parse_root(text)
    except RootError as err:
        raise SettingsError(str(err)) from None
    if isinstance(parsed, str):
        raise SettingsError(
            f"{parsed}: an object-store root runs through `longitude materialize --root {parsed}` (a working copy "
            f"per run, docs/scale-out.md); this needs a local root"
        )
    return parsed


def _warn_overruled(root: Path, variable: str, from_env: object, pinned: object) -> None:
    if from_env is not None and from_env != pinned:
        warnings.warn(
            f"{variable} asks for {from_env} but {root / ROOT_SETTINGS_FILE} pins {pinned}; the root wins.",
            stacklevel=3,
        )


def settings_from_env(
    root: str | Path | None = None,
    *,
    n_shards: int | None = None,
    splits: str | None = None,
    demo: bool = False,
    strict: bool = False,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Settings for a CLI run: root values from `resolve_root_values`, then the secret from LONGITUDE_SECRET."""
    env = os.environ if environ is None else environ
    values = resolve_root_values(root, n_shards=n_shards, splits=splits, strict=strict, environ=env)
    root_path, shards, fractions = values.root, values.n_shards, values.split_fractions
    secret_text = env.get(SECRET_ENV)
    if secret_text:
        secret, is_demo = secret_text.encode(), False
    else:
        secret = demo_secret(root_path, create=demo)
        is_demo = secret is not None
        if secret is None:
            raise SettingsError(
                f"{SECRET_ENV} is not set. It keys the subject pseudonyms, date shifts and splits, so it must "
                f"be the same secret on every run: export {SECRET_ENV}=<a long random string kept out of the "
                f"data>, or run `longitude demo` to try Longitude on synthetic data with a generated secret."
            )
    settings = Settings(
        root=root_path,
        secret=secret,
        n_shards=shards,
        split_fractions=fractions,  # type: ignore[arg-type]
        demo=is_demo,
        strict=strict,
    )
    check_root_secret(root_path, secret)
    return settings


def check_root_secret(root: Path, secret: bytes) -> None:
    """Stop when the root was first built with another secret (its pinned fingerprint differs)."""
    recorded = read_pinned(root).get(FINGERPRINT_KEY)
    if recorded and not same_fingerprint(secret, recorded):
        raise SettingsError(
            f"{root} was built with a different {SECRET_ENV}: its pseudonyms, date shifts and splits are keyed "
            f"to that secret, and a second one would mix two sets of them. Run with the original secret, or "
            f"re-key on purpose with `longitude rekey --root {root}` (deletes everything derived from landing/ "
            f"and rebuilds it with the new secret)."
        )


def read_pinned(root: Path) -> dict:
    path = Path(root) / ROOT_SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        body = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SettingsError(f"{path} is not valid JSON ({type(err).__name__}); restore it or re-key.") from None
    return body if isinstance(body, dict) else {}


def _write_pinned(root: Path, body: dict) -> None:
    """Write longitude.json atomically (a torn file would unpin the root's secret)."""
    from schemas.atomic import write_text

    write_text(json.dumps(body, indent=2) + "\n", Path(root) / ROOT_SETTINGS_FILE)


def pin(settings: Settings) -> None:
    """Record the root's shard count, splits and secret fingerprint on first use (see ROOT_SETTINGS_FILE)."""
    pinned = read_pinned(settings.root)
    body = dict(pinned)
    body.setdefault("n_shards", settings.n_shards)
    body.setdefault("split_fractions", list(settings.split_fractions))
    body.setdefault(FINGERPRINT_KEY, fingerprint(settings.secret))
    if body != pinned:
        _write_pinned(settings.root, body)


def repin_secret(root: Path, secret: bytes) -> None:
    """Bind the root to a new secret (only `longitude rekey`, after it cleared everything derived)."""
    try:
        check_secret(secret, SECRET_ENV)
    except WeakSecretError as err:
        raise SettingsError(str(err)) from None
    body = {k: v for k, v in read_pinned(root).items() if k != DEMO_KEY}
    _write_pinned(root, {**body, FINGERPRINT_KEY: fingerprint(secret)})

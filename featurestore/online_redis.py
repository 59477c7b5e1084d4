"""The networked online store: Redis (redis-py), one string key per (spec, version, subject), like Feast's.

Keys (schemas.online_store.redis_keys): `<prefix>:<spec>:current` is the pointer; a version has `:spec` (its
compiled spec), `:count` (values stored), `:live` (set when it is published) and `:s:<subject id>` values.
Readers GET the pointer, then MGET the version's `live` key with the values: MGET is atomic, and a version is
dropped `live` first, so a read that finds `live` has every value of that version; one that does not (the
pointer moved on twice meanwhile) reads the pointer again.
"""

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from featurestore.online_backend import Snapshot, StoreError, new_version
from schemas.online_store import REDIS_PREFIX, redis_keys

_BATCH = 1000  # commands per pipeline round trip
_RETRIES = 5


def _where(url: str) -> str:
    """host:port/db of a Redis URL, never its user or password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


class RedisBackend:
    """The online store on the Redis server at `url` (redis://[user:password@]host:port/db, rediss:// for TLS)."""

    def __init__(self, url: str, prefix: str = REDIS_PREFIX) -> None:
        import redis

        self.where = _where(url)
        self.prefix = prefix
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        try:
            self.client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
            self.client.ping()
        except (*self._errors, ValueError) as err:
            raise StoreError(f"Redis at {self.where} not reachable ({type(err).__name__})") from None

    def _keys(self, spec: str, version: str | None = None) -> dict[str, str]:
        return redis_keys(self.prefix, spec, version)

    def begin(self, spec: str, compiled: str, tag: str | None = None) -> str:
        version = new_version(tag)
        k = self._keys(spec, version)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(k["spec"], compiled).set(k["count"], 0).sadd(k["versions"], version)
        self._run(pipe)
        return version

    def put_many(self, spec: str, version: str, values: Mapping[int, bytes]) -> None:
        prefix = self._keys(spec, version)["rows"]
        items = list(values.items())
        for i in range(0, len(items), _BATCH):
            pipe = self.client.pipeline(transaction=False)
            for sid, value in items[i : i + _BATCH]:
                pipe.set(f"{prefix}{int(sid)}", value)
            pipe.incrby(self._keys(spec, version)["count"], len(items[i : i + _BATCH]))
            self._run(pipe)

    def publish(self, spec: str, version: str, expected: int) -> None:
        k = self._keys(spec, version)
        stored = self._call(self.client.get, k["count"])
        if stored is None or int(stored) != expected:
            raise StoreError(
                f"Redis at {self.where}: version {version} of {spec!r} holds {int(stored or 0)} subjects, "
                f"expected {expected}; not published"
            )
        self._call(self.client.set, k["live"], b"1")
        previous = self._call(
            lambda: self.client.set(k["current"], version, get=True)
        )  # the flip: one atomic write, last
        keep = {version.encode(), previous or b""}
        for old in self._call(self.client.smembers, k["versions"]):
            if old not in keep:
                self._drop(spec, old.decode())

    def _drop(self, spec: str, version: str) -> None:
        k = self._keys(spec, version)
        self._call(self.client.delete, k["live"])  # first: a reader that still finds `live` finds every value
        batch = []
        for key in self.client.scan_iter(match=f"{k['rows']}*", count=_BATCH):
            batch.append(key)
            if len(batch) >= _BATCH:
                self._call(self.client.unlink, *batch)
                batch = []
        if batch:
            self._call(self.client.unlink, *batch)
        self._call(self.client.delete, k["spec"], k["count"])
        self._call(self.client.srem, k["versions"], version)

    def discard(self, spec: str, version: str) -> None:
        current = self._call(self.client.get, self._keys(spec)["current"])
        if current is None or current.decode() != version:
            self._drop(spec, version)

    def published(self, spec: str) -> tuple[str, int] | None:
        for _ in range(_RETRIES):
            current = self._call(self.client.get, self._keys(spec)["current"])
            if current is None:
                return None
            k = self._keys(spec, current.decode())
            live, count = self._call(self.client.mget, [k["live"], k["count"]])  # one atomic read, as get_many
            if live is not None and count is not None:
                return current.decode(), int(count)
        raise StoreError(f"Redis at {self.where}: the pointer of {spec!r} kept moving; read not completed")

    def get_many(self, spec: str, subject_ids: Sequence[int]) -> Snapshot:
        ids = list(dict.fromkeys(int(s) for s in subject_ids))
        for _ in range(_RETRIES):
            current = self._call(self.client.get, self._keys(spec)["current"])
            if current is None:
                raise StoreError(f"Redis at {self.where}: nothing published for spec {spec!r}")
            version = current.decode()
            k = self._keys(spec, version)
            found = self._call(self.client.mget, [k["live"], *(f"{k['rows']}{s}" for s in ids)])
            if found[0] is not None:
                return Snapshot(version, {s: v for s, v in zip(ids, found[1:], strict=True) if v is not None})
        raise StoreError(f"Redis at {self.where}: the pointer of {spec!r} kept moving; read not completed")

    def compiled(self, spec: str, version: str) -> str:
        text = self._call(self.client.get, self._keys(spec, version)["spec"])
        if text is None:
            raise StoreError(f"Redis at {self.where}: no version {version} of spec {spec!r}")
        return text.decode()

    def close(self) -> None:
        self.client.close()

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except self._errors as err:
            raise StoreError(f"Redis at {self.where} failed ({type(err).__name__})") from None

    def _run(self, pipe) -> list:
        return self._call(pipe.execute)

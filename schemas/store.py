"""Roots as URLs: which `--root` strings name an object store, and the one I/O layer (fsspec) they are read with.

A root is a local directory or an object-store URL: `s3://bucket/prefix`, `gs://bucket/prefix`,
`abfs://container/prefix` (`az://` too). Credentials come from each cloud's own standard chain (for S3:
AWS_* variables, ~/.aws/config and credentials, instance roles; AWS_ENDPOINT_URL for an S3 API server of
one's own) and are never read, logged or passed by Longitude itself. Errors name the URL and key and the
error's class, never a credential or a value.
"""

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

# scheme -> the fsspec implementation package that serves it (imported only when a root of it is opened)
SCHEMES = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "abfs": "adlfs", "abfss": "adlfs", "az": "adlfs"}
# scheme -> (module, class) of its conditional requests: every scheme of SCHEMES has one
_CONDITIONS = {
    "s3": ("schemas.store_s3", "S3Conditions"),
    **dict.fromkeys(("gs", "gcs"), ("schemas.store_gcs", "GCSConditions")),
    **dict.fromkeys(("abfs", "abfss", "az"), ("schemas.store_azure", "AzureConditions")),
}
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
_LOOKS_LIKE_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?!//)")
# a bucket/container name: letters, digits, dot, dash, underscore (Azure's `container@account` too)
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


class RootError(ValueError):
    """A `--root` that names no usable root (a mistyped or unsupported URL); one line saying how to fix it."""


class StoreError(RuntimeError):
    """An object-store request failed; names the URL/key and the error's class only (never a credential)."""


def parse_root(text: str | Path) -> Path | str:
    """A local root as an absolute Path, or an object-store root as a normalized URL (no trailing slash).

    >>> parse_root("s3://bucket/some/prefix/")
    's3://bucket/some/prefix'
    >>> parse_root("/data/root")
    PosixPath('/data/root')
    >>> parse_root("s3:/bucket/prefix")
    Traceback (most recent call last):
    ...
    schemas.store.RootError: --root s3:/bucket/prefix: an s3 root is written s3://bucket/prefix
    """
    if isinstance(text, Path):
        return text.resolve()
    raw = str(text).strip()
    match = _URL.match(raw)
    if match is None:
        typo = _LOOKS_LIKE_SCHEME.match(raw)
        if typo and typo["scheme"].lower() in SCHEMES:
            scheme = typo["scheme"].lower()
            raise RootError(f"--root {raw}: an {scheme} root is written {scheme}://bucket/prefix")
        return Path(raw).resolve()
    scheme, rest = match["scheme"].lower(), match["rest"]
    if scheme == "file":
        return Path("/" + rest.lstrip("/")).resolve()
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise RootError(f"--root {raw}: unsupported scheme {scheme}://; a root is a local path or {known}")
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.match(bucket):
        raise RootError(f"--root {raw}: no bucket name after {scheme}://; write {scheme}://bucket/prefix")
    parts = [p for p in prefix.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise RootError(f"--root {raw}: '.' and '..' are not keys; write the prefix in full")
    return "/".join([f"{scheme}://{bucket}", *parts])


def is_remote(root: Path | str) -> bool:
    """Whether a parsed root is an object-store URL."""
    return isinstance(root, str)


@dataclass(frozen=True)
class ObjectStore:
    """The objects under one root URL, addressed by '/'-separated keys relative to it (`meds.pointer.json`).

    Every request goes through here, so the error handling (no credentials, no values) is in one place."""

    url: str

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0]

    @cached_property
    def fs(self):
        """The fsspec filesystem for the scheme (s3fs, gcsfs, adlfs), with the cloud's standard credentials."""
        import fsspec

        try:
            # its own instance: fsspec's shared one would keep an endpoint and credentials read earlier
            return fsspec.filesystem(self.scheme, skip_instance_cache=True)
        except ImportError:
            package = SCHEMES[self.scheme]
            raise RootError(f"{self.scheme}:// roots need {package}: pip install {package}") from None

    def _path(self, key: str) -> str:
        return f"{self.url.split('://', 1)[1]}/{key}" if key else self.url.split("://", 1)[1]

    def _fail(self, key: str, err: BaseException) -> StoreError:
        return StoreError(f"{self.url}/{key}: {type(err).__name__} from the object store")

    def read(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        try:
            return self.fs.cat_file(self._path(key))
        except FileNotFoundError:
            return None
        except Exception as err:
            raise self._fail(key, err) from None

    def write(self, key: str, data: bytes) -> None:
        """One PUT: the object appears whole or not at all (what makes a pointer object safe to replace)."""
        try:
            self.fs.pipe_file(self._path(key), data)
        except Exception as err:
            raise self._fail(key, err) from None

    def upload(self, files: dict[str, Path]) -> None:
        """Put local files at their keys ({key: local path}), concurrently; each object whole or absent."""
        if not files:
            return
        keys = sorted(files)
        try:
            self.fs.put([str(files[k]) for k in keys], [self._path(k) for k in keys])
        except Exception as err:
            raise self._fail(keys[0] if len(keys) == 1 else f"({len(keys)} objects)", err) from None

    def copy(self, pairs: dict[str, str]) -> None:
        """Copy objects inside the store ({new key: existing key}), concurrently: the bytes never leave it."""
        if not pairs:
            return
        keys = sorted(pairs)
        try:
            self.fs.copy([self._path(pairs[k]) for k in keys], [self._path(k) for k in keys])
        except Exception as err:
            raise self._fail(keys[0] if len(keys) == 1 else f"({len(keys)} objects)", err) from None

    def download(self, files: dict[str, Path]) -> None:
        """Get objects to local files ({key: local path}), concurrently."""
        if not files:
            return
        keys = sorted(files)
        for k in keys:
            files[k].parent.mkdir(parents=True, exist_ok=True)
        try:
            self.fs.get([self._path(k) for k in keys], [str(files[k]) for k in keys])
        except Exception as err:
            raise self._fail(keys[0] if len(keys) == 1 else f"({len(keys)} objects)", err) from None

    def remove(self, keys: list[str]) -> None:
        """Delete objects; ones already gone are fine (a crashed clean-up is simply redone)."""
        if not keys:
            return
        try:
            self.fs.rm([self._path(k) for k in keys])
        except FileNotFoundError:
            pass
        except Exception as err:
            raise self._fail(keys[0], err) from None

    # Conditional requests: the run lease (schemas.store_lease), fenced pointer PUTs (schemas.publish_store) and
    # the index's compare-and-swap. A tag names one state of one object (S3's and Azure's ETag, GCS's
    # generation); a backend per store makes the requests (schemas.store_s3, store_gcs, store_azure). Each
    # returns None (or False) when its condition fails, and raises StoreError otherwise.

    @cached_property
    def _conditions(self):
        import importlib

        module, name = _CONDITIONS[self.scheme]
        return getattr(importlib.import_module(module), name)(self.fs)

    def _conditional(self, key: str, request: str, *args):
        try:
            return getattr(self._conditions, request)(self._path(key), *args)
        except RootError:
            raise
        except Exception as err:
            raise self._fail(key, err) from None

    def create(self, key: str, data: bytes) -> str | None:
        """PUT only if no object is at `key` (If-None-Match: *); its tag, or None when one already is."""
        return self._conditional(key, "create", data)

    def read_tagged(self, key: str) -> tuple[bytes, str, float] | None:
        """(bytes, tag, age in seconds by the store's own clock) of the object, or None when there is none.

        The age is the response's Date less the object's Last-Modified, both the server's: no client clock."""
        return self._conditional(key, "read_tagged")

    def replace(self, key: str, data: bytes, tag: str) -> str | None:
        """PUT only if the object is still the one with `tag` (If-Match); the new tag, or None when it is not."""
        return self._conditional(key, "replace", data, tag)

    def remove_if(self, key: str, tag: str) -> bool:
        """DELETE only if the object is still the one with `tag` (If-Match); False when it is not (or gone)."""
        return bool(self._conditional(key, "remove_if", tag))

    def list_files(self, prefix: str) -> list[str]:
        """Keys of every object below `prefix`, sorted. Only for files as delivered (landing/): published
        datasets are found through their pointer objects, never by listing (schemas.publish_store)."""
        return sorted(self.list_objects(prefix))

    def list_objects(self, prefix: str) -> dict[str, tuple[int, str | None]]:
        """{key: (bytes, entity tag or None)} of every object below `prefix` (the listing `list_files` is)."""
        base = self._path(prefix).rstrip("/")
        self.fs.invalidate_cache()  # another writer may have added files since this process last listed
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return {}
        except Exception as err:
            raise self._fail(prefix, err) from None
        root = self._path("").rstrip("/") + "/"
        out = {}
        for path, info in sorted(found.items()):
            if path.startswith(root) and info.get("type", "file") != "directory":
                tag = info.get("ETag") or info.get("etag") or info.get("md5Hash")  # s3fs, adlfs, gcsfs
                out[path.removeprefix(root)] = (int(info.get("size") or 0), str(tag) if tag else None)
        return out

"""Conditional requests on S3 (and S3 API servers): If-None-Match: * and If-Match on PUT, If-Match on DELETE.

One backend of schemas.store.ObjectStore's conditional requests (the run lease, fenced pointers, the index's
compare-and-swap). The tag is the object's ETag. Each method returns None (or False) when its condition did not
hold and lets any other error through, for ObjectStore to name (URL, key and class, never a value).
"""

from email.utils import parsedate_to_datetime


class S3Conditions:
    def __init__(self, fs) -> None:
        self.fs = fs

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    def create(self, path: str, data: bytes) -> str | None:
        bucket, key = self._split(path)
        try:
            return self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")["ETag"]
        except Exception as err:
            if failed_condition(err):
                return None
            raise

    def read_tagged(self, path: str) -> tuple[bytes, str, float] | None:
        from fsspec.asyn import sync

        bucket, key = self._split(path)
        try:
            got = self.fs.call_s3("get_object", Bucket=bucket, Key=key)
            data = sync(self.fs.loop, got["Body"].read)
        except FileNotFoundError:
            return None
        date = got.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        if date:
            now = parsedate_to_datetime(date)
        else:  # a server that sends no Date: this machine's clock, the one fallback
            from datetime import UTC, datetime

            now = datetime.now(UTC)
        return data, got["ETag"], (now - got["LastModified"]).total_seconds()

    def replace(self, path: str, data: bytes, tag: str) -> str | None:
        bucket, key = self._split(path)
        try:
            return self.fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data, IfMatch=tag)["ETag"]
        except FileNotFoundError:
            return None
        except Exception as err:
            if failed_condition(err):
                return None
            raise

    def remove_if(self, path: str, tag: str) -> bool:
        bucket, key = self._split(path)
        try:
            self.fs.call_s3("delete_object", Bucket=bucket, Key=key, IfMatch=tag)
        except FileNotFoundError:
            return False
        except Exception as err:
            if failed_condition(err):
                return False
            raise
        return True


def failed_condition(err: BaseException) -> bool:
    """Whether a request failed only because its condition did not hold: 412, or S3's 409 for two conditional
    writes racing on one key (s3fs turns both into OSError; the botocore error is the cause)."""
    if isinstance(err, FileExistsError):  # s3fs's translation of a failed If-None-Match
        return True
    cause = err.__cause__ or err
    response = getattr(cause, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412)

"""Conditional requests on Google Cloud Storage (gcsfs): preconditions on the object's generation.

One backend of schemas.store.ObjectStore's conditional requests. The tag is the object's generation, which
GCS changes on every write: ifGenerationMatch=0 creates only if absent, ifGenerationMatch=N replaces or
deletes only that generation. A failed precondition is HTTP 412 (gcsfs raises FileExistsError for it); each
method then returns None (or False) and lets any other error through, for ObjectStore to name.
"""

import json
import random
import secrets
import time
from email.utils import parsedate_to_datetime

_READ_TRIES = 8


class GCSConditions:
    def __init__(self, fs) -> None:
        self.fs = fs

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    def _upload(self, path: str, data: bytes, generation: str) -> str | None:
        """One multipart upload (metadata, then the bytes) with ifGenerationMatch, as gcsfs's own uploads."""
        from urllib.parse import quote

        bucket, key = self._split(path)
        boundary = secrets.token_hex(16)  # random: never a line of the body
        head = f"--{boundary}\nContent-Type: application/json; charset=UTF-8\n\n{json.dumps({'name': key})}\n"
        head += f"--{boundary}\nContent-Type: application/octet-stream\n\n"
        try:
            _, body = self.fs.call(
                "POST",
                f"{self.fs._location}/upload/storage/v1/b/{quote(bucket, safe='')}/o",
                uploadType="multipart",
                ifGenerationMatch=generation,
                headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
                data=head.encode() + data + f"\n--{boundary}--".encode(),
            )
        except (FileExistsError, FileNotFoundError):  # 412: the precondition failed; 404: the object is gone
            return None
        return str(json.loads(body)["generation"])

    def create(self, path: str, data: bytes) -> str | None:
        return self._upload(path, data, "0")

    def read_tagged(self, path: str) -> tuple[bytes, str, float] | None:
        bucket, key = self._split(path)
        for _ in range(_READ_TRIES):
            try:
                headers, meta = self.fs.call("GET", "b/{}/o/{}", bucket, key)
            except FileNotFoundError:
                return None
            doc = json.loads(meta)
            generation = str(doc["generation"])
            try:  # that very generation's bytes: the tag and the bytes always belong together
                _, data = self.fs.call("GET", "b/{}/o/{}", bucket, key, alt="media", generation=generation)
                break
            except FileNotFoundError:  # rewritten between the two GETs (a lease's heartbeat): read it again
                time.sleep(random.uniform(0, 0.05))
                continue
        else:
            raise RuntimeError(f"rewritten on each of {_READ_TRIES} reads")
        date = headers.get("Date")
        if date:
            now = parsedate_to_datetime(date)
        else:  # a server that sends no Date: this machine's clock, the one fallback
            from datetime import UTC, datetime

            now = datetime.now(UTC)
        updated = doc.get("updated") or doc["timeCreated"]
        return data, generation, (now - _rfc3339(updated)).total_seconds()

    def replace(self, path: str, data: bytes, tag: str) -> str | None:
        return self._upload(path, data, tag)

    def remove_if(self, path: str, tag: str) -> bool:
        bucket, key = self._split(path)
        try:
            # The precondition is what makes the DELETE safe on GCS; the read before it spares a request that
            # would fail, and is all a server that ignores DELETE's preconditions (an emulator) still checks.
            _, meta = self.fs.call("GET", "b/{}/o/{}", bucket, key)
            if str(json.loads(meta)["generation"]) != tag:
                return False
            self.fs.call("DELETE", "b/{}/o/{}", bucket, key, ifGenerationMatch=tag)
        except (FileExistsError, FileNotFoundError):
            return False
        return True


def _rfc3339(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))

"""Conditional requests on Azure Blob Storage (adlfs, azure-storage-blob): ETag conditions.

One backend of schemas.store.ObjectStore's conditional requests. The tag is the blob's ETag, which changes on
every write: If-None-Match: * creates only if absent (upload_blob without overwrite), If-Match replaces or
deletes only that state (match_condition=IfNotModified). A failed condition (412, or 409 for a blob that
exists) returns None (or False); any other error goes through, for ObjectStore to name.
"""

from email.utils import parsedate_to_datetime


def _failed(err: BaseException) -> bool:
    from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

    if isinstance(err, (ResourceExistsError, ResourceNotFoundError)):
        return True
    return isinstance(err, HttpResponseError) and err.status_code in (409, 412)


class AzureConditions:
    def __init__(self, fs) -> None:
        self.fs = fs

    def _run(self, make):
        """Run `make(blob_client)`'s coroutine on adlfs's event loop."""
        from fsspec.asyn import sync

        async def go(container: str, blob: str):
            async with self.fs.service_client.get_blob_client(container, blob) as client:
                return await make(client)

        return lambda path: sync(self.fs.loop, go, *self.fs.split_path(path)[:2])

    def create(self, path: str, data: bytes) -> str | None:
        try:
            return self._run(lambda c: c.upload_blob(data, overwrite=False))(path)["etag"]
        except Exception as err:
            if _failed(err):
                return None
            raise

    def read_tagged(self, path: str) -> tuple[bytes, str, float] | None:
        from azure.core.exceptions import ResourceNotFoundError

        dates: list[str] = []

        async def read(client):
            hook = lambda response: dates.append(response.http_response.headers.get("Date", ""))  # noqa: E731
            stream = await client.download_blob(raw_response_hook=hook)
            return await stream.readall(), stream.properties.etag, stream.properties.last_modified

        try:
            data, etag, modified = self._run(read)(path)
        except ResourceNotFoundError:
            return None
        if dates and dates[0]:
            now = parsedate_to_datetime(dates[0])
        else:  # a server that sends no Date: this machine's clock, the one fallback
            from datetime import UTC, datetime

            now = datetime.now(UTC)
        return data, etag, (now - modified).total_seconds()

    def replace(self, path: str, data: bytes, tag: str) -> str | None:
        from azure.core import MatchConditions

        try:
            return self._run(
                lambda c: c.upload_blob(
                    data, overwrite=True, etag=tag, match_condition=MatchConditions.IfNotModified
                )
            )(path)["etag"]
        except Exception as err:
            if _failed(err):
                return None
            raise

    def remove_if(self, path: str, tag: str) -> bool:
        from azure.core import MatchConditions

        try:
            self._run(lambda c: c.delete_blob(etag=tag, match_condition=MatchConditions.IfNotModified))(path)
        except Exception as err:
            if _failed(err):
                return False
            raise
        return True

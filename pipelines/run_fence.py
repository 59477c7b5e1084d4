"""The run's fencing token travels with its steps as a run tag: a worker or step pod pushes only while it holds.

The driver of a run on an object-store root holds the root's lease (schemas.store_lease); the processes that
run its steps elsewhere (Celery workers, step pods) each push from a working copy of their own. Every Dagster
run the driver launches carries the lease's token in the tag LEASE_TAG; the process running a step reads it
from the run (in the shared Dagster instance) and fences its working copy's push with it, so a step of a run
that lost the root publishes nothing (schemas.publish_store).
"""

from schemas.store import ObjectStore
from schemas.store_lease import LEASE_KEY, Fence, Lease

LEASE_TAG = "longitude/lease-token"


class MissingFenceError(RuntimeError):
    """A step on an object-store root whose run carries no lease token: it must not publish."""


def lease_tags(lease: Lease | None) -> dict[str, str]:
    """The run tags that carry `lease`'s token to the steps (none for a root without a lease: a local one)."""
    return {LEASE_TAG: lease.token} if lease is not None else {}


def fence_of_run(store: ObjectStore, tags: dict[str, str] | None) -> Fence:
    """The fence a step's working copy pushes under: the token its run was launched with."""
    token = (tags or {}).get(LEASE_TAG)
    if not token:
        raise MissingFenceError(
            f"{store.url}: this run carries no {LEASE_TAG} tag, the token of the root's lease ({LEASE_KEY}); "
            f"launch it with `longitude materialize --root {store.url}`, which holds the lease"
        )
    return Fence(store, token)

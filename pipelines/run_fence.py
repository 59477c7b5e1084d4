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


def tags_of_step_run(packed: object = None, serialized: str | None = None) -> dict[str, str]:
    """The tags of the run a step belongs to, read from that run's Dagster instance. The step comes as
    dagster-celery packs it (`packed`) or as `dagster api execute_step` reads it (`serialized`: its JSON)."""
    from dagster import DagsterInstance
    from dagster._grpc.types import ExecuteStepArgs
    from dagster._serdes import deserialize_value, unpack_value

    if packed is not None:
        args = unpack_value(packed, as_type=ExecuteStepArgs)
    else:
        args = deserialize_value(serialized or "", ExecuteStepArgs)
    with DagsterInstance.from_ref(args.instance_ref) as instance:  # type: ignore[arg-type]
        run = instance.get_run_by_id(args.run_id)
    return dict(run.tags) if run is not None else {}


def step_args_json(argv: list[str], environ: dict[str, str]) -> str:
    """The JSON of `dagster api execute_step`'s step (`argv`: that command's own arguments), where it reads
    it: its argument, `--compressed-input-json`, or the environment (dagster-k8s's step pods)."""
    import base64
    import zlib

    def inflate(text: str) -> str:
        return zlib.decompress(base64.b64decode(text.encode())).decode()

    if "--compressed-input-json" in argv[:-1]:
        return inflate(argv[argv.index("--compressed-input-json") + 1])
    if argv and not argv[0].startswith("-"):
        return argv[0]
    if environ.get("DAGSTER_EXECUTE_STEP_ARGS"):
        return environ["DAGSTER_EXECUTE_STEP_ARGS"]
    return inflate(environ["DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS"])

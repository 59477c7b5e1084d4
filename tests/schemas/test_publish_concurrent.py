"""Writers of one dataset side by side (shards in two Celery workers or step processes): nothing is lost."""

import multiprocessing
from pathlib import Path

from schemas import publish as pub


def _amend(final: str, shard: int, started, go) -> None:
    with pub.publishing(Path(final), keep_except=[f"*/{shard}.parquet"]) as stage:
        started.wait()  # every writer has staged from the same version before any publishes
        go.wait()
        for split in ("train", "held_out"):
            stage.path(f"{split}/{shard}.parquet").parent.mkdir(parents=True, exist_ok=True)
            stage.path(f"{split}/{shard}.parquet").write_text(f"{split}-{shard}")


def _commit(final: str, shard: int, keys: list[str], barrier, out) -> None:
    stage = pub.partition_stage(Path(final), "data", str(shard), keys, owns=["data/**"], drop=[f"data/{shard}"])
    stage.path(f"data/{shard}").parent.mkdir(parents=True, exist_ok=True)
    stage.path(f"data/{shard}").write_text(str(shard))
    barrier.wait()  # mark and publish at the same moment
    version = stage.commit()
    out.put(version.name if version else None)


def test_shards_amended_side_by_side_are_all_published(tmp_path: Path):
    final = tmp_path / "notes"
    with pub.publishing(final, keep_except=["**"]) as stage:  # a first version holding another writer's file
        stage.path("spec.json").write_text("{}")
    ctx = multiprocessing.get_context("fork")
    n = 4
    started, go = ctx.Barrier(n), ctx.Barrier(n)
    procs = [ctx.Process(target=_amend, args=(str(final), s, started, go)) for s in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * n
    files = {p.relative_to(final).as_posix(): p.read_text() for p in pub.dataset_files(final)}
    want = {f"{split}/{s}.parquet": f"{split}-{s}" for split in ("train", "held_out") for s in range(n)}
    assert files == {"spec.json": "{}", **want}  # each writer staged from the first version: none overwrote
    assert not [v for v in pub.versions_dir(final).iterdir() if v.name.endswith(".staging")]


def test_partitions_committing_together_publish_the_set_once(tmp_path: Path):
    final = tmp_path / "meds"
    n = 4
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(n), ctx.Queue()
    keys = [str(k) for k in range(n)]
    procs = [ctx.Process(target=_commit, args=(str(final), s, keys, barrier, out)) for s in range(n)]
    for p in procs:
        p.start()
    published = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * n
    assert sum(v is not None for v in published) == 1  # exactly one partition completed and published the set
    files = {p.relative_to(final).as_posix(): p.read_text() for p in pub.dataset_files(final)}
    assert files == {f"data/{s}": str(s) for s in range(n)}

"""Worker counts honour the container's CPU quota (cgroup v2 cpu.max, v1 cfs quota) and the CPU affinity."""

import os
from pathlib import Path

import pytest

from schemas.cpus import available_cpus, cgroup_cpu_limit


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def many_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)


@pytest.mark.parametrize(
    ("files", "limit", "cpus"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0, 2),  # v2: 2 CPUs
        ({"cpu.max": "150000 100000\n"}, 1.5, 2),  # a fractional quota rounds up: 1.5 CPUs still use 2 workers
        ({"cpu.max": "50000 100000\n"}, 0.5, 1),
        ({"cpu.max": "max 100000\n"}, None, 64),  # v2 without a limit
        ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3.0, 3),  # v1
        ({"cpu,cpuacct/cpu.cfs_quota_us": "400000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 4.0, 4),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None, 64),  # v1 without a limit
        ({"cpu.max": "garbage\n"}, None, 64),  # unreadable: no limit rather than a crash
        ({}, None, 64),  # no cgroup files at all (not Linux, or not mounted)
    ],
)
def test_the_quota_caps_the_cores(tmp_path: Path, many_cores, files: dict, limit, cpus: int):
    for rel, text in files.items():
        _write(tmp_path / rel, text)
    assert cgroup_cpu_limit(tmp_path) == limit
    assert available_cpus(tmp_path) == cpus


def test_affinity_caps_a_larger_quota(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    _write(tmp_path / "cpu.max", "800000 100000\n")
    assert available_cpus(tmp_path) == 2


def test_worker_counts_use_it(monkeypatch):
    import schemas.cpus
    from pipelines.defs.resources import LongitudeResource

    monkeypatch.setattr(schemas.cpus, "available_cpus", lambda root=None: 3)
    assert LongitudeResource(root="/nonexistent").worker_count() == 3
    assert LongitudeResource(root="/nonexistent", workers=5).worker_count() == 5

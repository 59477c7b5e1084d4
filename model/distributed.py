"""Launching training on several processes and machines: the torchrun (torch.distributed.run) command line.

    longitude train --root R --steps N --nnodes 2 --nproc-per-node 4 --rdzv-endpoint node0:29400

runs, on each machine, one torchrun agent that starts `nproc_per_node` workers of `python -m model.train`;
the agents meet through c10d rendezvous at the endpoint (a host:port every machine reaches; the agent on that
host serves the store), and the workers pick gloo on CPU or NCCL on CUDA (model.train). With one node and no
endpoint the agent is standalone (a free local port). Every agent of a job must be given the same arguments.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Launch:
    """Where the ranks of one job run and how their agents find each other."""

    nnodes: int = 1
    nproc_per_node: int = 1
    rdzv_endpoint: str | None = None  # host:port; needed with several nodes
    rdzv_id: str | None = None  # the job's name in the rendezvous; default: derived from root and run
    max_restarts: int = 0

    def __post_init__(self) -> None:
        if self.nnodes < 1 or self.nproc_per_node < 1:
            raise ValueError(
                f"need --nnodes >= 1 and --nproc-per-node >= 1, got {self.nnodes}, {self.nproc_per_node}"
            )
        if self.nnodes > 1 and not self.rdzv_endpoint:
            raise ValueError(
                "several nodes need --rdzv-endpoint HOST:PORT (one node's address, the same on every node)"
            )

    @property
    def distributed(self) -> bool:
        return self.nnodes * self.nproc_per_node > 1

    @property
    def world_size(self) -> int:
        return self.nnodes * self.nproc_per_node


def default_rdzv_id(root: str, run: str) -> str:
    """The same on every node given the same --root and run name, distinct between runs.

    >>> a, b = default_rdzv_id("/data/root", "tiny"), default_rdzv_id("/other", "tiny")
    >>> a == default_rdzv_id("/data/root", "tiny") and a != b and a.startswith("longitude-")
    True
    """
    return "longitude-" + hashlib.blake2b(f"{root}\0{run}".encode(), digest_size=6).hexdigest()


def torchrun_command(launch: Launch, train_args: list[str], *, root: str, run: str,
                     module: str = "model.train") -> list[str]:  # fmt: skip
    """The agent's argv: torchrun with c10d rendezvous, running `python -m MODULE TRAIN_ARGS` per rank."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", str(launch.nnodes),
           "--nproc-per-node", str(launch.nproc_per_node), "--max-restarts", str(launch.max_restarts)]  # fmt: skip
    if launch.nnodes == 1 and not launch.rdzv_endpoint:
        cmd.append("--standalone")  # c10d on a free local port
    else:
        cmd += ["--rdzv-backend", "c10d", "--rdzv-endpoint", str(launch.rdzv_endpoint),
                "--rdzv-id", launch.rdzv_id or default_rdzv_id(root, run)]  # fmt: skip
    return [*cmd, "-m", module, *train_args]

"""Compile every Triton kernel for a GPU target on a machine without one (Triton ships ptxas).

    python -m model.kernels.compile_check [--arch 90]

The CPU tests run the kernels in Triton's interpreter, which executes them as Python and so accepts code the
compiler would reject; this runs the real front end, the optimizer and ptxas at the launchers' own tile sizes
and reports each kernel's shared memory, so a kernel that cannot build for an H100 fails here, in CI.
Must run without TRITON_INTERPRET (interpreted kernels have no compiler to call).
"""

from __future__ import annotations

import argparse
import sys

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from model.kernels import triton_interpreting
from model.kernels.attention import triton as attention
from model.kernels.cross_entropy import triton as cross_entropy
from model.kernels.packing import triton as packing

SHARED_MEMORY = {80: 164 * 1024, 90: 228 * 1024}  # bytes per SM usable by one block (A100, H100)


def _signature(kernel, pointers: dict[str, str], scalars: dict[str, str]) -> dict[str, str]:
    sig = {}
    for name in kernel.arg_names:
        if name in pointers:
            sig[name] = pointers[name]
        elif name.isupper():
            sig[name] = "constexpr"
        else:
            sig[name] = scalars.get(name, "i32")
    return sig


def _builds(dtype: str = "bf16", head_dim: int = 64, vocab: int = 8192, n_feat: int = 768):
    """(name, kernel, signature, constexprs, options) for every kernel, at the launchers' real settings."""
    t = "*" + dtype
    ptrs = {
        "q_ptr": t, "k_ptr": t, "v_ptr": t, "o_ptr": t, "do_ptr": t, "dq_ptr": t, "dk_ptr": t, "dv_ptr": t,
        "lse_ptr": "*fp32", "delta_ptr": "*fp32", "start_ptr": "*i32", "end_ptr": "*i32",
    }  # fmt: skip
    scalars = {"qk_scale": "fp32", "sm_scale": "fp32"}
    block_d = max(16, triton.next_power_of_2(head_dim))
    common = {"HEAD_DIM": head_dim, "BLOCK_D": block_d, "PRECISION": "tf32"}
    for name, kernel, tiles in (
        ("attention forward", attention._attn_fwd_kernel, attention._tiles(head_dim, backward=False)),
        ("attention dK/dV", attention._attn_bwd_dkdv_kernel, attention._tiles(head_dim, backward=True, dkdv=True)),
        ("attention dQ", attention._attn_bwd_dq_kernel, attention._tiles(head_dim, backward=True)),
    ):
        consts = dict(common, BLOCK_M=tiles.block_m, BLOCK_N=tiles.block_n)
        opts = {"num_warps": tiles.num_warps, "num_stages": tiles.num_stages}
        yield name, kernel, _signature(kernel, ptrs, scalars), consts, opts
    block_v, warps = cross_entropy._block_v(vocab)
    ce = cross_entropy._ce_rows_kernel
    ce_sig = _signature(
        ce,
        {"logits_ptr": t, "labels_ptr": "*i64", "loss_ptr": "*fp32", "scale_ptr": "*fp32"},
        {"stride_row": "i64"},
    )
    yield "cross-entropy rows", ce, ce_sig, {"WRITE_GRAD": True, "BLOCK_V": block_v}, {"num_warps": warps}
    block_t, block_f, warps = packing._tiles(n_feat)
    pk = packing._copy_tokens_kernel
    ids = ("pos_ptr", "doc_ptr", "lengths_ptr", "src_off_ptr", "dst_off_ptr")
    pk_ptrs = {"flat_ptr": t, "rows_ptr": t} | dict.fromkeys(ids, "*i64")
    for unpack in (False, True):
        consts = {"UNPACK": unpack, "WRITE_IDS": not unpack, "BLOCK_T": block_t, "BLOCK_F": block_f}
        yield f"{'un' if unpack else ''}pack", pk, _signature(pk, pk_ptrs, {}), consts, {"num_warps": warps}


def compile_all(arch: int = 90) -> list[tuple[str, int]]:
    """Compile each kernel to a cubin for sm_<arch>; returns (name, shared memory bytes)."""
    if triton_interpreting():
        raise RuntimeError("unset TRITON_INTERPRET: interpreted kernels cannot be compiled")
    target = GPUTarget("cuda", arch, 32)
    out = []
    for name, kernel, sig, consts, opts in _builds():
        compiled = triton.compile(
            ASTSource(fn=kernel, signature=sig, constexprs=consts), target=target, options=opts
        )
        shared = compiled.metadata.shared
        if shared > SHARED_MEMORY.get(arch, SHARED_MEMORY[80]):
            raise RuntimeError(f"{name} needs {shared} bytes of shared memory, more than sm_{arch} has")
        out.append((name, shared))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability x10 (80 = A100, 90 = H100)")
    args = parser.parse_args()
    for name, shared in compile_all(args.arch):
        print(f"{name}: compiled for sm_{args.arch}, {shared} bytes shared memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Block sizes against each other: the derived MC, KC, NC of fg_gemm against variations, interleaved
in one run (bench/common.py), on the square forward + backward products of bench/matmul_sweep.py.

    python bench/gemm_blocks.py [--n 1024] [--dtype f32|f64] [--threads 1] [--path avx512|avx2|portable]
                                [--try MC,KC,NC ...]   (0 in a field keeps the derived value)

Prints each configuration's median time relative to the derived one (above 1: slower).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare  # noqa: E402

import fastgrad as fg  # noqa: E402
from fastgrad._C import ffi, lib  # noqa: E402


def derived_blocks(path, itemsize):
    out = ffi.new("int64_t[5]")
    lib.fg_gemm_blocks(out, fg.backend._PATHS[path], itemsize)
    return tuple(out)   # MC, KC, NC, MR, NR


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1024])
    parser.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--path", default=None)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--wall", action="store_true", help="wall time (default with one thread: its CPU time)")
    parser.add_argument("--try", dest="tries", nargs="+", default=["0,128,0", "0,192,0", "0,256,0", "0,320,0"])
    args = parser.parse_args()
    if args.path:
        fg.set_kernel_path(args.path)
    fg.set_num_threads(args.threads)
    dtype = np.float32 if args.dtype == "f32" else np.float64
    itemsize = np.dtype(dtype).itemsize
    mc, kc, nc, mr, nr = derived_blocks(fg.kernel_path(), itemsize)
    caches = ffi.new("int64_t[4]")
    lib.fg_cpu_caches(caches)
    print(f"path {fg.kernel_path()}, {args.dtype}, {args.threads} thread(s); caches L1 {caches[0] >> 10} KiB "
          f"{caches[1]}-way, L2 {caches[2] >> 10} KiB, L3/core {caches[3] >> 10} KiB; derived MC {mc} KC {kc} NC {nc} "
          f"(MR {mr} NR {nr})")
    ctype = "float[]" if dtype == np.float32 else "double[]"
    k = fg.float32.k if dtype == np.float32 else fg.float64.k
    rng = np.random.default_rng(0)
    for n in args.n:
        arrays = [rng.standard_normal((n, n)).astype(dtype) for _ in range(6)]
        a, b, g, c, da, db = (ffi.from_buffer(ctype, x) for x in arrays)
        configs = {"derived": (0, 0, 0)}
        configs.update({t: tuple(int(v) for v in t.split(",")) for t in args.tries})

        def run(blocks):
            def step():
                lib.fg_gemm_set_blocks(*blocks)
                k.matmul(c, a, b, n, n, n)
                k.matmul_backward(da, db, g, a, b, n, n, n, 0, 0)
            return step
        try:
            clock = time.thread_time if args.threads == 1 and not args.wall else time.perf_counter
            t = compare({name: run(blocks) for name, blocks in configs.items()}, rounds=args.rounds, clock=clock)
        finally:
            lib.fg_gemm_set_blocks(0, 0, 0)
        flops = 3 * 2.0 * n ** 3
        print(f"n = {n}: derived {t['derived'] * 1e3:.2f} ms ({flops / t['derived'] / 1e9:.0f} GF/s); "
              + ", ".join(f"{name}: {t[name] / t['derived']:.3f}" for name in configs if name != "derived"))


if __name__ == "__main__":
    main()

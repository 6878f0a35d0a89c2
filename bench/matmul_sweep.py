"""The matrix-product sweep: fastgrad's GEMM against numpy (and PyTorch when installed), forward and
backward products together, in one run.

    python bench/matmul_sweep.py [--quick] [--dtype f32|f64|both] [--path avx2] [--json out.json] [--png out.png]

Each case times the products one training step does: for a square n, C = A·B, dA = dC·Bᵀ and
dB = Aᵀ·dC (3 x 2n³ flops); for an MLP, every Linear layer's forward x·Wᵀ + b and backward
dx = g·W (not for the first layer), dW = gᵀ·x, db = Σg. fastgrad runs its C kernels directly (the
graph layer's Python costs are bench/run.py's business); numpy and PyTorch do the same products with
preallocated outputs where they allow it. Timing: bench/common.py (interleaved contenders, pauses,
medians). Printed: the median time per step, GFLOP/s, and fastgrad's speed relative to numpy and
PyTorch (above 1: fastgrad is faster). The header names the CPU, its caches as fastgrad read them
and the block sizes derived from them (csrc/gemm.c); --path forces a kernel path (the AVX2 path on
an AVX-512 machine, say).
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare  # noqa: E402

import fastgrad as fg  # noqa: E402
from fastgrad._C import ffi, lib  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SQUARE = [32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048]
MLPS = {"mlp 784-256-256-10 b128": (128, [784, 256, 256, 10]),
        "mlp 1024-1024-1024-10 b512": (512, [1024, 1024, 1024, 10])}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blocks_line():
    """The caches fastgrad read and the GEMM blocks it derived from them, for the active path."""
    caches, out = ffi.new("int64_t[4]"), ffi.new("int64_t[5]")
    lib.fg_cpu_caches(caches)
    text = (f"caches: L1d {caches[0] >> 10} KiB {caches[1]}-way, L2 {caches[2] >> 10} KiB, "
            f"L3 share per core {caches[3] >> 10} KiB; blocks MC, KC, NC (MR x NR):")
    for name, size in (("f32", 4), ("f64", 8)):
        lib.fg_gemm_blocks(out, lib.fg_kernel_path(), size)
        text += f" {name} {out[0]}, {out[1]}, {out[2]} ({out[3]} x {out[4]})"
    return text


def ptr(array):
    return ffi.from_buffer(("float" if array.dtype == np.float32 else "double") + "[]", array)


def square_case(n, dtype, rng):
    a, b, g = (rng.standard_normal((n, n)).astype(dtype) for _ in range(3))
    c, da, db = (np.zeros((n, n), dtype) for _ in range(3))
    k = fg.float32.k if dtype == np.float32 else fg.float64.k
    pa, pb, pg, pc, pda, pdb = map(ptr, (a, b, g, c, da, db))

    def fastgrad():
        k.matmul(pc, pa, pb, n, n, n)
        k.matmul_backward(pda, pdb, pg, pa, pb, n, n, n, 0, 0)   # fresh gradients: written, like numpy's out=

    def numpy():
        np.matmul(a, b, out=c)
        np.matmul(g, b.T, out=da)
        np.matmul(a.T, g, out=db)

    contenders = {"fastgrad": fastgrad, "numpy": numpy}
    if torch is not None:
        ta, tb, tg, tc, tda, tdb = map(torch.from_numpy, (a, b, g, c, da, db))

        def pytorch():
            torch.matmul(ta, tb, out=tc)
            torch.matmul(tg, tb.T, out=tda)
            torch.matmul(ta.T, tg, out=tdb)
        contenders["torch"] = pytorch
    return contenders, 3 * 2.0 * n ** 3


def mlp_case(batch, widths, dtype, rng):
    k = fg.float32.k if dtype == np.float32 else fg.float64.k
    layers, flops = [], 0.0
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        x = rng.standard_normal((batch, fan_in)).astype(dtype)
        w = (rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)).astype(dtype)
        bias = np.zeros(fan_out, dtype)
        g = rng.standard_normal((batch, fan_out)).astype(dtype)
        out, dw, db = np.zeros((batch, fan_out), dtype), np.zeros_like(w), np.zeros_like(bias)
        dx = np.zeros_like(x) if i > 0 else None   # the input needs no gradient
        layers.append((x, w, bias, g, out, dx, dw, db))
        flops += 2.0 * batch * fan_in * fan_out * (3 if i > 0 else 2)

    fg_layers = [(tuple(ptr(v) if v is not None else ffi.NULL for v in layer), layer[1].shape) for layer in layers]

    def fastgrad():
        for (x, w, bias, g, out, dx, dw, db), (n, kk) in fg_layers:
            k.linear(out, x, w, bias, batch, kk, n)
        for (x, w, bias, g, out, dx, dw, db), (n, kk) in reversed(fg_layers):
            k.linear_backward(dx, dw, db, g, x, w, batch, kk, n, 0, 0)

    def numpy():
        for x, w, bias, g, out, dx, dw, db in layers:
            np.matmul(x, w.T, out=out)
            out += bias
        for x, w, bias, g, out, dx, dw, db in reversed(layers):
            if dx is not None:
                dx += g @ w
            dw += g.T @ x
            db += g.sum(0)

    contenders = {"fastgrad": fastgrad, "numpy": numpy}
    if torch is not None:
        t_layers = [tuple(torch.from_numpy(v) if v is not None else None for v in layer) for layer in layers]

        def pytorch():
            for x, w, bias, g, out, dx, dw, db in t_layers:
                torch.addmm(bias, x, w.T, out=out)
            for x, w, bias, g, out, dx, dw, db in reversed(t_layers):
                if dx is not None:
                    dx.addmm_(g, w)
                dw.addmm_(g.T, x)
                db += g.sum(0)
        contenders["torch"] = pytorch
    return contenders, flops


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and rounds (a smoke test)")
    parser.add_argument("--dtype", choices=["f32", "f64", "both"], default="both")
    parser.add_argument("--sizes", type=int, nargs="*", help="square sizes (default: %s)" % SQUARE)
    parser.add_argument("--no-mlp", action="store_true", help="skip the MLP shapes")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per case (default 9, quick 3)")
    parser.add_argument("--pause", type=float, default=0.15, help="seconds of rest before each timed block")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--png", help="draw GFLOP/s against size here (needs matplotlib)")
    parser.add_argument("--path", choices=["avx512", "avx2", "portable"], help="force this kernel path")
    parser.add_argument("--cpu-time", action="store_true",
                        help="every library on one thread, timed by this thread's CPU time (bench/common.py): "
                             "for machines with more busy processes than cores")
    args = parser.parse_args(argv)
    clock = time.perf_counter
    if args.cpu_time:
        from threadpoolctl import threadpool_limits   # numpy's BLAS (scikit-learn installs threadpoolctl)
        threadpool_limits(1)
        fg.set_num_threads(1)
        if torch is not None:
            torch.set_num_threads(1)
        clock = time.thread_time
    if args.path:
        fg.set_kernel_path(args.path)
    rounds = args.rounds or (3 if args.quick else 9)
    sizes = args.sizes or ([64, 256] if args.quick else SQUARE)
    dtypes = {"f32": [np.float32], "f64": [np.float64], "both": [np.float32, np.float64]}[args.dtype]
    rng = np.random.default_rng(0)

    meta = {"kernel_path": fg.kernel_path(), "fastgrad_threads": fg.get_num_threads(), "numpy": np.__version__,
            "torch": torch.__version__ if torch else None,
            "torch_threads": torch.get_num_threads() if torch else None,
            "machine": cpu_model(), "cores": os.cpu_count(), "rounds": rounds,
            "clock": "thread CPU time" if args.cpu_time else "wall", "blocks": blocks_line()}
    print(f"{meta['machine']}, {meta['cores']} cores; {meta['blocks']}")
    print(f"fastgrad path {meta['kernel_path']}, {meta['fastgrad_threads']} threads; numpy {np.__version__}; "
          f"torch {meta['torch'] or 'absent'}; medians of {rounds} rounds ({meta['clock']}); speed = other's time / fastgrad's")
    header = f"{'case':28} {'dtype':5} {'fastgrad':>10} {'GF/s':>6} {'numpy':>10} {'GF/s':>6} {'vs np':>6}"
    header += f" {'torch':>10} {'GF/s':>6} {'vs torch':>8}" if torch else ""
    print(header)
    results = []
    cases = [(f"square {n}", square_case, (n,)) for n in sizes]
    if not args.no_mlp and not args.quick:
        cases += [(name, mlp_case, spec) for name, spec in MLPS.items()]
    for dtype in dtypes:
        for name, build, spec in cases:
            contenders, flops = build(*spec, dtype, rng)
            t = compare(contenders, rounds=rounds, pause=args.pause, clock=clock)
            row = {"case": name, "dtype": np.dtype(dtype).name, "flops": flops, "seconds": t,
                   "gflops": {c: flops / s / 1e9 for c, s in t.items()},
                   "vs_numpy": t["numpy"] / t["fastgrad"],
                   "vs_torch": t["torch"] / t["fastgrad"] if "torch" in t else None}
            if name.startswith("square"):
                row["n"] = spec[0]
            results.append(row)
            dt = "f" + row["dtype"][5:]
            line = (f"{name:28} {dt:5} {t['fastgrad'] * 1e6:8.1f}us {row['gflops']['fastgrad']:6.1f} "
                    f"{t['numpy'] * 1e6:8.1f}us {row['gflops']['numpy']:6.1f} {row['vs_numpy']:5.2f}x")
            if "torch" in t:
                line += f" {t['torch'] * 1e6:8.1f}us {row['gflops']['torch']:6.1f} {row['vs_torch']:7.2f}x"
            print(line, flush=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    if args.png:
        plot(results, args.png)


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot drawn")
        return
    dtypes = sorted({r["dtype"] for r in results if "n" in r})
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6 * len(dtypes), 4.5), squeeze=False)
    for ax, dtype in zip(axes[0], dtypes):
        rows = sorted((r for r in results if "n" in r and r["dtype"] == dtype), key=lambda r: r["n"])
        for name in rows[0]["gflops"]:
            ax.plot([r["n"] for r in rows], [r["gflops"][name] for r in rows], marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("n (square matrices, forward + both backward products)")
        ax.set_ylabel("GFLOP/s")
        ax.set_title(dtype)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


if __name__ == "__main__":
    main()

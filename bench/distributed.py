"""Data parallelism on one machine, and the figures for the README's scaling model.

    python bench/distributed.py            # needs mpi4py and mpiexec: pip install ".[distributed]"

Measures, interleaving the contenders over rounds (each a fresh process) and taking medians:
- the 1024-1024-1024-10 MLP's training step (forward, cross-entropy, backward, SGD with momentum)
  on a global batch of 512: 1 process x 2 threads, 1 process x 1 thread, and 2 MPI ranks x 1 thread
  each on 256 rows with DistributedDataParallel, with the all-reduce's share of the 2-rank step;
- 1 process x 2 threads at batch 128, 32 and 8 (what one 2-core machine computes per step when 4,
  16 or 64 of them share the batch of 512), and the digits MLP's step at batch 32;
- all-reduce latency (8 bytes) and bandwidth for 1 to 64 MB messages between the 2 ranks;
- whether overlapping the all-reduce with computation pays: a nonblocking all-reduce of the MLP's
  gradients started before a GEMM and waited for after it, against the two one after the other.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BIG = (1024, 1024, 1024, 10)
DIGITS = (64, 256, 10)
GLOBAL_BATCH = 512


def build(sizes, batch, ddp=False, rank=0, world=1):
    """A training step of an MLP of `sizes` on this rank's rows of a global batch."""
    import fastgrad as fg
    fg.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(fg.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(fg.nn.ReLU())
    model = fg.nn.Sequential(*layers)
    if ddp:
        model = fg.nn.parallel.DistributedDataParallel(model)
    optimizer = fg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], batch)
    part = slice(rank * batch // world, (rank + 1) * batch // world)
    tx, ty = fg.tensor(x[part]), y[part]

    def step():
        optimizer.zero_grad()
        fg.nn.functional.cross_entropy(model(tx), ty).backward()
        optimizer.step()
    return step


def median_time(fn, repeats, before=None):
    times = []
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def single(args):
    """One process: steps of the big MLP at the given batches, and the digits MLP's step."""
    result = {}
    for batch in args.batches:
        step = build(BIG, batch)
        step()
        result[f"big_b{batch}"] = median_time(step, args.steps)
    step = build(DIGITS, 32)
    step()
    result["digits_b32"] = median_time(step, 200)
    print(json.dumps(result))


def worker(args):
    """Under mpiexec: the DDP step with the all-reduce timed inside it, then the collectives alone."""
    import fastgrad as fg
    import fastgrad.distributed as dist
    rank, world = dist.rank(), dist.world_size()
    reduce_times = []
    all_reduce = dist.all_reduce

    def timed_all_reduce(t, op="sum"):   # what DDP calls at the end of backward
        start = time.perf_counter()
        all_reduce(t, op)
        reduce_times.append(time.perf_counter() - start)
    dist.all_reduce = timed_all_reduce
    step = build(BIG, GLOBAL_BATCH, ddp=True, rank=rank, world=world)
    step()
    reduce_times.clear()
    step_time = median_time(step, args.steps, before=dist.barrier)
    reduce_time = statistics.median(reduce_times)   # includes waiting for the slower rank
    dist.all_reduce = all_reduce

    result = {"ddp_step": step_time, "ddp_all_reduce": reduce_time}
    t = fg.zeros(2, dtype=fg.float32)
    result["latency_8B"] = median_time(lambda: dist.all_reduce(t), 500, before=dist.barrier)
    for mb in (1, 2, 4, 8, 16, 32, 64):
        t = fg.zeros(mb * 2 ** 18, dtype=fg.float32)
        dist.all_reduce(t)
        result[f"all_reduce_{mb}MB"] = median_time(lambda: dist.all_reduce(t), 15 if mb < 16 else 7,
                                                   before=dist.barrier)

    # overlap: the MLP's gradient bytes reduced while a GEMM runs, against one after the other
    from mpi4py import MPI
    grads = fg.zeros(sum(a * b + b for a, b in zip(BIG, BIG[1:])), dtype=fg.float32)
    a, b = fg.randn(GLOBAL_BATCH // world, 1024), fg.randn(1024, 1024)
    compute = lambda: a @ b   # noqa: E731
    compute()
    result["overlap_compute"] = median_time(compute, 9, before=dist.barrier)
    result["overlap_reduce"] = median_time(lambda: dist.all_reduce(grads), 9, before=dist.barrier)

    def overlapped():
        request = dist._comm.Iallreduce(MPI.IN_PLACE, dist._buffer(grads, "bench"), MPI.SUM)
        compute()
        dist._wait(request, "bench")
    result["overlap_both"] = median_time(overlapped, 9, before=dist.barrier)
    if rank == 0:
        print(json.dumps(result))


# The scaling model's assumptions (README, "Distributed training"): one rank per machine like this
# one, machines joined by 25 Gb/s Ethernet; ALPHA is a per-message latency typical of MPI over TCP
# on such a network (shared memory here measures ~3 us; RDMA networks ~2 us).
LINK_BYTES_PER_S = 25e9 / 8
ALPHA = 15e-6


def params(sizes):
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def ring_all_reduce(nbytes, ranks, alpha=ALPHA, bandwidth=LINK_BYTES_PER_S):
    """Ring all-reduce: reduce-scatter then all-gather, 2(p-1) steps each sending n/p bytes."""
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / bandwidth


def print_scaling_model(two_threads):
    """Step time = compute (measured here, per rank) + ring all-reduce of the gradients (modelled).
    Efficiency = samples/s on p ranks / (p x samples/s of one machine on its own at batch 512 for the
    big MLP, 32 for digits): weak scaling keeps each rank's batch, strong scaling splits a global 512."""
    print(f"scaling model: ring all-reduce, alpha = {ALPHA * 1e6:.0f} us per message, 25 Gb/s links, "
          f"no overlap with backward, one 2-core machine (as measured here) per rank")
    big, digits = params(BIG) * 4, params(DIGITS) * 4
    one_big, one_digits = two_threads["big_b512"], two_threads["digits_b32"]
    cases = [("big MLP, weak scaling: batch 512 per rank", big, {p: (one_big, 1) for p in (4, 16, 64)}, one_big),
             ("big MLP, strong scaling: global batch 512", big,
              {4: (two_threads["big_b128"], 4), 16: (two_threads["big_b32"], 16), 64: (two_threads["big_b8"], 64)},
              one_big),
             ("digits MLP, weak scaling: batch 32 per rank", digits, {p: (one_digits, 1) for p in (4, 16, 64)},
              one_digits)]
    for name, nbytes, per_rank, one_machine in cases:
        print(f"  {name} ({nbytes / 1e6:.2f} MB of gradients; one machine alone {one_machine * 1e3:.2f} ms):")
        for p, (t_c, split) in per_rank.items():
            t_ar = ring_all_reduce(nbytes, p)
            # one machine would need `one_machine` per (global batch / p * split) samples
            efficiency = one_machine / split / (t_c + t_ar)
            print(f"    {p:2d} ranks: compute {t_c * 1e3:7.2f} ms + all-reduce {t_ar * 1e3:6.2f} ms = step "
                  f"{(t_c + t_ar) * 1e3:7.2f} ms; speedup {p * efficiency:5.1f}x, efficiency {efficiency:4.0%}")


def run_json(command, env):
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, nargs="*", default=[GLOBAL_BATCH])
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if args.single:
        return single(args)

    here, python = Path(__file__).resolve(), sys.executable
    mpiexec = Path(python).parent / "mpiexec"
    mpiexec = str(mpiexec) if mpiexec.exists() else "mpiexec"
    env1, env2 = (dict(os.environ, FASTGRAD_NUM_THREADS=str(n), MPIEXEC_TIMEOUT="600") for n in (1, 2))
    steps = ["--steps", str(args.steps)]
    runs = {"2 threads": [], "1 thread": [], "2 ranks": []}
    for _ in range(args.rounds):   # interleaved: the machine's load drifts
        time.sleep(0.5)
        runs["2 threads"].append(run_json([python, str(here), "--single", *steps, "--batches", "512", "128", "32", "8"],
                                          env2))
        time.sleep(0.5)
        runs["1 thread"].append(run_json([python, str(here), "--single", *steps], env1))
        time.sleep(0.5)
        runs["2 ranks"].append(run_json([mpiexec, "-n", "2", python, "-m", "mpi4py", str(here), "--worker", *steps],
                                        env1))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    two_threads, one_thread, ranks = med["2 threads"], med["1 thread"], med["2 ranks"]

    print(f"1024-1024-1024-10 MLP, training step on a global batch of {GLOBAL_BATCH} (medians of {args.rounds} "
          f"rounds x {args.steps} steps)")
    print(f"  1 process x 1 thread     {one_thread['big_b512'] * 1e3:8.1f} ms")
    print(f"  1 process x 2 threads    {two_threads['big_b512'] * 1e3:8.1f} ms")
    print(f"  2 ranks x 1 thread (DDP) {ranks['ddp_step'] * 1e3:8.1f} ms   "
          f"({two_threads['big_b512'] / ranks['ddp_step']:.2f}x the 2-thread process)")
    print(f"    of which the all-reduce {ranks['ddp_all_reduce'] * 1e3:7.1f} ms "
          f"({ranks['ddp_all_reduce'] / ranks['ddp_step']:.0%} of the step, waiting for the slower rank included)")
    print("1 process x 2 threads, the same MLP at smaller batches (per-machine work at 4/16/64 machines):")
    print("  " + ", ".join(f"batch {b}: {two_threads[f'big_b{b}'] * 1e3:.2f} ms" for b in (128, 32, 8)))
    print(f"digits MLP 64-256-10, step at batch 32: {two_threads['digits_b32'] * 1e3:.3f} ms (2 threads)")
    print(f"all-reduce between 2 ranks (shared memory): latency (8 bytes) {ranks['latency_8B'] * 1e6:.1f} us")
    for mb in (1, 2, 4, 8, 16, 32, 64):
        t = ranks[f"all_reduce_{mb}MB"]
        print(f"  {mb:3d} MB: {t * 1e3:7.2f} ms   {mb * 2 ** 20 / t / 1e9:6.2f} GB/s (message bytes / time)")
    c, r, both = ranks["overlap_compute"], ranks["overlap_reduce"], ranks["overlap_both"]
    print(f"overlap: GEMM {c * 1e3:.1f} ms, all-reduce of the MLP's gradients {r * 1e3:.1f} ms, one after the other "
          f"{(c + r) * 1e3:.1f} ms; nonblocking all-reduce around the GEMM {both * 1e3:.1f} ms "
          f"(saves {(c + r - both) / r:.0%} of the all-reduce)")
    print_scaling_model(two_threads)
    print(json.dumps({"2 threads": two_threads, "1 thread": one_thread, "2 ranks": ranks}))


if __name__ == "__main__":
    main()

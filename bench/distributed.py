"""Data parallelism on one machine, and the figures for the README's scaling model.

    python bench/distributed.py            # needs mpi4py and mpiexec: pip install ".[distributed]"

Measures, interleaving the contenders over rounds (each a fresh process) and taking medians:
- the 1024-1024-1024-10 MLP's training step (forward, cross-entropy, backward, SGD with momentum)
  on a global batch of 512: 1 process x 2 threads, 1 process x 1 thread, and 2 MPI ranks x 1 thread
  each on 256 rows with DistributedDataParallel, with the all-reduce's share of the 2-rank step;
- 1 process x 1 thread at batch 256, 128, 32 and 8 (one rank's share of the batch of 512 at 2, 4,
  16 and 64 ranks), and the digits MLP's step at batch 32;
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
    """The median seconds of `repeats` calls. The fastest is kept too (best_times): on a loaded
    machine it is the better estimate of what the work costs uncontended."""
    times = []
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    best_times.append(min(times))
    return statistics.median(times)


best_times = []


def with_best(result):
    """result plus "<key> best": the fastest call behind each figure, in the order they were measured."""
    return {**result, **{f"{k} best": t for k, t in zip(list(result), best_times)}}


def single(args):
    """One process: steps of the big MLP at the given batches, and the digits MLP's step."""
    result = {}
    best_times.clear()
    for batch in args.batches:
        step = build(BIG, batch)
        step()
        result[f"big_b{batch}"] = median_time(step, args.steps)
    step = build(DIGITS, 32)
    step()
    result["digits_b32"] = median_time(step, 200)
    print(json.dumps(with_best(result)))


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
    best_times.clear()
    step_time = median_time(step, args.steps, before=dist.barrier)
    reduce_time = statistics.median(reduce_times)   # includes waiting for the slower rank
    dist.all_reduce = all_reduce
    best_times.append(min(reduce_times))

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
        print(json.dumps(with_best(result)))


# The scaling model's assumptions (README, "Distributed training"): one rank per machine, each
# computing like one core of this one, joined by 25 Gb/s Ethernet; ALPHA is a per-message latency
# typical of MPI over TCP on such a network (shared memory here measures ~3 us; RDMA networks ~2 us).
LINK_BYTES_PER_S = 25e9 / 8
ALPHA = 15e-6


def params(sizes):
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def ring_all_reduce(nbytes, ranks, alpha=ALPHA, bandwidth=LINK_BYTES_PER_S):
    """Ring all-reduce: reduce-scatter then all-gather, 2(p-1) steps each sending n/p bytes."""
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / bandwidth


def print_scaling_model(one_thread):
    """Step time = compute (measured here: one process x 1 thread, fastest steps, standing for one
    core per rank) + ring all-reduce of the gradients (modelled). Efficiency = samples/s on p
    ranks / (p x samples/s of one rank alone at batch 512 for the big MLP, 32 for digits): weak
    scaling keeps each rank's batch, strong scaling splits a global batch of 512."""
    print(f"scaling model: ring all-reduce, alpha = {ALPHA * 1e6:.0f} us per message, 25 Gb/s links, no overlap "
          f"with backward; compute = one core per rank (1-thread fastest step measured here)")
    big, digits = params(BIG) * 4, params(DIGITS) * 4
    # the big MLP's compute at batch b: a line fitted (relative least squares) to the fastest steps at
    # b = 8..512 (a fixed part, mostly the weights streamed through each GEMM and the update, plus a
    # part per row), which smooths one noisy figure on a loaded machine
    batches = [512, 256, 128, 32, 8]
    times = np.array([one_thread[f"big_b{b} best"] for b in batches])
    slope, fixed = np.polyfit(batches, times, 1, w=1 / times)   # relative errors: small batches count as much
    print(f"  big MLP compute fit: {fixed * 1e3:.2f} ms + {slope * 1e6:.1f} us per row")
    big_step = lambda b: fixed + slope * b   # noqa: E731
    t_digits = one_thread["digits_b32 best"]
    cases = [("big MLP, weak scaling: batch 512 per rank", big, {p: (big_step(512), 1) for p in (4, 16, 64)},
              big_step(512)),
             ("big MLP, strong scaling: global batch 512", big, {p: (big_step(512 / p), p) for p in (4, 16, 64)},
              big_step(512)),
             ("digits MLP, weak scaling: batch 32 per rank", digits, {p: (t_digits, 1) for p in (4, 16, 64)},
              t_digits)]
    for name, nbytes, per_rank, one_rank in cases:
        print(f"  {name} ({nbytes / 1e6:.2f} MB of gradients; one rank alone {one_rank * 1e3:.2f} ms):")
        for p, (t_c, split) in per_rank.items():
            t_ar = ring_all_reduce(nbytes, p)
            efficiency = one_rank / split / (t_c + t_ar)   # one rank needs one_rank / split for this rank's share
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
        runs["2 threads"].append(run_json([python, str(here), "--single", *steps], env2))
        time.sleep(0.5)
        runs["1 thread"].append(run_json([python, str(here), "--single", *steps, "--batches", "512", "256", "128", "32",
                                          "8"], env1))
        time.sleep(0.5)
        runs["2 ranks"].append(run_json([mpiexec, "-n", "2", python, "-m", "mpi4py", str(here), "--worker", *steps],
                                        env1))
    med = {name: {k: (min if k.endswith(" best") else statistics.median)(r[k] for r in rs) for k in rs[0]}
           for name, rs in runs.items()}
    two_threads, one_thread, ranks = med["2 threads"], med["1 thread"], med["2 ranks"]

    def ms(d, key):
        return f"{d[key] * 1e3:8.2f} ms (best {d[key + ' best'] * 1e3:7.2f})"
    print(f"1024-1024-1024-10 MLP, training step on a global batch of {GLOBAL_BATCH}: medians of {args.rounds} "
          f"rounds x {args.steps} steps, and the fastest step")
    print(f"  1 process x 1 thread      {ms(one_thread, 'big_b512')}")
    print(f"  1 process x 2 threads     {ms(two_threads, 'big_b512')}")
    print(f"  2 ranks x 1 thread (DDP)  {ms(ranks, 'ddp_step')}   median "
          f"{two_threads['big_b512'] / ranks['ddp_step']:.2f}x the 2-thread process's speed")
    print(f"    of which the all-reduce {ms(ranks, 'ddp_all_reduce')}: "
          f"{ranks['ddp_all_reduce'] / ranks['ddp_step']:.0%} of the median step "
          f"(waiting for the slower rank included)")
    print("1 process x 1 thread at smaller batches: " + ", ".join(f"batch {b}: {ms(one_thread, f'big_b{b}')}"
                                                            for b in (256, 128, 32, 8)))
    print(f"digits MLP 64-256-10, step at batch 32: 1 thread {ms(one_thread, 'digits_b32')}, "
          f"2 threads {ms(two_threads, 'digits_b32')}")
    print(f"all-reduce between 2 ranks (shared memory): latency (8 bytes) {ranks['latency_8B'] * 1e6:.1f} us "
          f"(best {ranks['latency_8B best'] * 1e6:.1f})")
    for mb in (1, 2, 4, 8, 16, 32, 64):
        key = f"all_reduce_{mb}MB"
        print(f"  {mb:3d} MB: {ms(ranks, key)}   {mb * 2 ** 20 / ranks[key] / 1e9:6.2f} GB/s median, "
              f"{mb * 2 ** 20 / ranks[key + ' best'] / 1e9:6.2f} GB/s best (message bytes / time)")
    c, r, both = ranks["overlap_compute"], ranks["overlap_reduce"], ranks["overlap_both"]
    print(f"overlap: GEMM {c * 1e3:.1f} ms, all-reduce of the MLP's gradients {r * 1e3:.1f} ms, one after the other "
          f"{(c + r) * 1e3:.1f} ms; nonblocking all-reduce around the GEMM {both * 1e3:.1f} ms "
          f"(hides {(c + r - both) / r:.0%} of the all-reduce)")
    print_scaling_model(one_thread)
    print(json.dumps({"2 threads": two_threads, "1 thread": one_thread, "2 ranks": ranks}))


if __name__ == "__main__":
    main()

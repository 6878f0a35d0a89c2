"""Fair timing on small shared machines, for every script in bench/.

BLAS and OpenMP worker threads keep spinning for a while after a call (OpenBLAS up to ~0.1 s), and
on two cores that slows whatever runs next by several times. So contenders are interleaved round by
round, each timed block is preceded by a pause and each contender makes one untimed call first;
figures are medians over rounds.
"""
import statistics
import time


def time_per_call(fn, budget=0.03, clock=time.perf_counter):
    """Seconds per call of fn, calling it back to back for about `budget` seconds. Calls are timed
    in batches that each take at least a millisecond, so that reading the clock (~50 ns) does not
    count as part of a microsecond call."""
    calls, batch, start = 0, 1, clock()
    while True:
        batch_start = clock()
        for _ in range(batch):
            fn()
        calls += batch
        now = clock()
        if now - start >= budget:
            return (now - start) / calls
        if now - batch_start < 1e-3:
            batch *= 2


def compare(contenders, rounds=7, pause=0.15, budget=0.03, clock=time.perf_counter):
    """Median seconds per call for each {name: zero-argument callable}, interleaved over rounds.
    clock=time.thread_time counts only the CPU time of the calling thread: on a machine shared by
    more processes than cores that leaves out the time slices others took, but it sees only work
    done on this thread, so every contender must run single-threaded."""
    for fn in contenders.values():
        fn()   # untimed: first-call costs, lazy allocations, thread pools starting
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            time.sleep(pause)
            samples[name].append(time_per_call(fn, budget, clock))
    return {name: statistics.median(s) for name, s in samples.items()}

"""What fg.profiler.profile() costs: the same work timed with and without a profile active.

    python bench/profiler_overhead.py [--rounds 7]

Prints medians per call, the ratio (profiled / plain) and the cost per recorded event. A profile
patches the kernels and ops process-wide, so the two are alternated round by round (not interleaved
call by call as bench/common.compare does). Times are this process's CPU time (time.process_time),
which a loaded machine disturbs less than wall time; run with FASTGRAD_NUM_THREADS=1 so that
kernels' threads do not count. The machines here are small and shared: read ratios.
"""
import argparse
import statistics
import time

import fastgrad as fg  # noqa: E402
import fastgrad.nn.functional as F  # noqa: E402


def cpu_time_per_call(fn, budget=0.05):
    """CPU seconds per call of fn, in batches of at least `budget` CPU seconds."""
    calls, start = 0, time.process_time()
    batch = 1
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        spent = time.process_time() - start
        if spent >= budget:
            return spent / calls
        batch *= 2


def cases():
    a, b = fg.ones(1, requires_grad=True), fg.ones(1, requires_grad=True)
    yield "1-element add, grad on", lambda: a + b

    fg.manual_seed(0)
    for sizes, batch in (((64, 128, 10), 32), ((784, 256, 10), 128)):
        layers = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [fg.nn.Linear(n_in, n_out), fg.nn.ReLU()]
        model = fg.nn.Sequential(*layers[:-1])
        opt = fg.optim.SGD(model.parameters(), lr=0.01)
        x, y = fg.randn(batch, sizes[0]), [i % sizes[-1] for i in range(batch)]

        def step(model=model, opt=opt, x=x, y=y):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        yield f"MLP {'-'.join(map(str, sizes))} training step, batch {batch}", step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"{'case':<44}{'plain us':>10}{'profiled us':>13}{'ratio':>8}{'events':>8}{'ns/event':>10}")
    for name, fn in cases():
        fn()
        plain, profiled, events = [], [], []
        for _ in range(args.rounds):
            time.sleep(0.1)
            plain.append(cpu_time_per_call(fn))
            time.sleep(0.1)
            with fg.profiler.profile() as prof:
                fn()
                n = len(prof.events)
                profiled.append(cpu_time_per_call(fn))
            events.append(n)
        p, q, e = statistics.median(plain), statistics.median(profiled), statistics.median(events)
        print(f"{name:<44}{p * 1e6:>10.2f}{q * 1e6:>13.2f}{q / p:>8.2f}{e:>8.0f}{(q - p) / e * 1e9:>10.0f}")


if __name__ == "__main__":
    main()

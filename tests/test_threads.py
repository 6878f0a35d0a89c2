"""Threads: the C calls release the GIL, so Python threads training separate models run their kernels
in parallel; each must get exactly the results it gets alone. Grad mode (no_grad) is per thread."""
import threading

import numpy as np
import pytest

import fastgrad as fg

F = fg.nn.functional
THREADS = 4


def train_one(seed, steps=15, dtype=fg.float32):
    """A seeded model trained on seeded data; returns its final parameters and losses. Everything
    random is drawn up front from numpy Generators of its own (fg.manual_seed is process-wide)."""
    rng = np.random.default_rng(seed)
    x = fg.tensor(rng.standard_normal((64, 96)), dtype=dtype)
    y = rng.integers(0, 10, size=64)
    params = [fg.tensor(rng.uniform(-0.1, 0.1, s), dtype=dtype, requires_grad=True)
              for s in [(128, 96), (128,), (10, 128), (10,)]]
    losses = []
    for _ in range(steps):
        for p in params:
            p.grad = None
        h = F.linear(x, params[0], params[1]).relu()
        loss = F.cross_entropy(F.linear(h, params[2], params[3]), y) + 1e-3 * (params[0] * params[0]).sum()
        loss.backward()
        with fg.no_grad():   # each thread also toggles grad mode, which must not leak to the others
            for p in params:
                p.numpy()[...] -= 0.1 * p.grad.numpy()
        losses.append(loss.item())
    return [p.numpy().copy() for p in params], losses


def run_in_threads(fn, args):
    results, errors = [None] * len(args), []

    def worker(i):
        try:
            results[i] = fn(*args[i])
        except BaseException as e:   # surfaced below: an exception in a thread is otherwise only printed
            errors.append(e)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(args))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64], ids=repr)
def test_threads_training_separate_models_match_serial_runs(dtype):
    seeds = [(s, 15, dtype) for s in range(THREADS)]
    serial = [train_one(*a) for a in seeds]
    parallel = run_in_threads(train_one, seeds)
    for (p_serial, l_serial), (p_par, l_par) in zip(serial, parallel):
        assert l_serial == l_par   # bit for bit: no shared state between the models
        for a, b in zip(p_serial, p_par):
            np.testing.assert_array_equal(a, b)


def test_no_grad_in_one_thread_does_not_affect_another():
    """Grad mode is per thread, as in PyTorch: a thread inside no_grad must not stop another from
    recording its graph, and interleaved enter/exit must not leave grad mode off for anyone."""
    stop = threading.Event()

    def toggler():
        while not stop.is_set():
            with fg.no_grad():
                fg.randn(2, 2) * 2

    def recorder():
        x = fg.randn(8, 8, requires_grad=True)
        for _ in range(2000):
            y = (x * 2).sum()
            assert y.requires_grad, "an op ran in another thread's no_grad"
        return True

    t = threading.Thread(target=toggler)
    t.start()
    try:
        assert run_in_threads(recorder, [()] * 2) == [True, True]
    finally:
        stop.set()
        t.join(timeout=60)
    assert fg.is_grad_enabled()


def test_kernels_release_the_gil():
    """While one thread sits in a long C call, another thread's Python code keeps running."""
    a = fg.randn(1000, 1000)
    progress, done = [0], threading.Event()

    def count():
        while not done.is_set():
            progress[0] += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        before = progress[0]
        for _ in range(3):
            a @ a
        during = progress[0] - before
    finally:
        done.set()
        t.join(timeout=60)
    # Holding the GIL, the counter would advance only at the switch interval between the calls.
    assert during > 1000, f"the counting thread advanced only {during} times during three matmuls"

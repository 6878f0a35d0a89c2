"""Memory: training loops keep a flat resident set after warm-up, and a graph is freed as soon as its
output goes out of scope, by reference counting alone (no cycles for the garbage collector)."""
import gc
import os
import threading
import weakref

import numpy as np
import pytest

import fastgrad as fg

F = fg.nn.functional
# ASan keeps freed memory in quarantine and pads every allocation: RSS says nothing under it.
rss_meaningful = pytest.mark.skipif("asan" in os.environ.get("LD_PRELOAD", ""), reason="RSS is meaningless under ASan")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def train(model, x, y, steps, optimizer):
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


def sgd(params):
    """fg.optim.SGD when it exists, else the same update by hand."""
    if hasattr(fg, "optim"):
        return fg.optim.SGD(params, lr=0.01, momentum=0.9)

    class Plain:
        def zero_grad(self):
            for p in params:
                p.grad = None

        def step(self):
            for p in params:
                p.numpy()[...] -= 0.01 * p.grad.numpy()
    return Plain()


@rss_meaningful
@pytest.mark.parametrize("name, sizes, batch, warmup, steps, bound_mib", [
    # 100,000 steps: a leak of 40 bytes a step would show as 4 MiB
    ("small", (4, 8, 3), 2, 2_000, 100_000, 4),
    # a leak of one activation a step would show as 0.5 MiB x 60
    ("large", (512, 512, 10), 256, 5, 60, 16),
])
def test_training_loop_keeps_flat_memory(name, sizes, batch, warmup, steps, bound_mib):
    fg.manual_seed(0)
    d_in, hidden, classes = sizes
    model = fg.nn.Sequential(fg.nn.Linear(d_in, hidden), fg.nn.ReLU(), fg.nn.Linear(hidden, classes))
    x = fg.randn(batch, d_in)
    y = np.random.default_rng(0).integers(0, classes, size=batch)
    optimizer = sgd(model.parameters())
    train(model, x, y, warmup, optimizer)
    gc.collect()
    gc.disable()   # graphs must be freed by reference counting alone
    try:
        before = rss_bytes()
        train(model, x, y, steps, optimizer)
        growth = rss_bytes() - before
        cycles = gc.collect()
    finally:
        gc.enable()
    assert growth <= bound_mib << 20, f"{name}: RSS grew by {growth / 2**20:.1f} MiB over {steps} steps"
    assert cycles < 100, f"{name}: {cycles} objects were left in reference cycles by {steps} steps"
    assert all(np.isfinite(p.numpy()).all() for p in model.parameters())


def intermediates():
    """A small graph with fan-out and every kind of op; returns (leaves, weak refs to its nodes)."""
    x = fg.randn(5, 4, requires_grad=True)
    w = fg.randn(4, 3, requires_grad=True)
    h = (x @ w).relu()
    z = h * h + h                       # fan-out: h used three times
    s = z.softmax().log_softmax().tanh().sigmoid()
    t = s.T.reshape(15) - 1.0
    loss = F.cross_entropy(z, [0, 1, 2, 0, 1]) + t.mean() + F.mse_loss(s, h)
    return (x, w), loss, [weakref.ref(v) for v in (h, z, s, t)]


@pytest.mark.parametrize("after_backward", [False, True])
def test_graph_is_freed_when_its_output_goes_out_of_scope(after_backward):
    gc.collect()
    gc.disable()
    try:
        (x, w), loss, refs = intermediates()
        if after_backward:
            loss.backward()
        assert all(r() is not None for r in refs)   # the output keeps its graph alive...
        del loss
        assert [r() for r in refs] == [None] * len(refs)   # ...and nothing else does
    finally:
        gc.enable()
    if after_backward:   # the leaves' gradients hold no graph either
        assert x.grad.shape == x.shape and x.grad._op is None and w.grad._op is None


def test_a_model_and_its_optimizer_hold_no_graph():
    model = fg.nn.Sequential(fg.nn.Linear(3, 4), fg.nn.ReLU(), fg.nn.Linear(4, 2))
    optimizer = sgd(model.parameters())
    gc.collect()
    gc.disable()
    try:
        out = model(fg.randn(6, 3))
        probe = weakref.ref(out)
        F.cross_entropy(out, [0, 1, 0, 1, 0, 1]).backward()
        optimizer.step()
        del out
        assert probe() is None
    finally:
        gc.enable()


@rss_meaningful
def test_short_lived_threads_leave_no_memory_behind():
    a = fg.randn(512, 512)
    a @ a   # the calling thread's buffers, once

    def one_thread():
        t = threading.Thread(target=lambda: a @ a)
        t.start()
        t.join(timeout=60)
    for _ in range(5):   # warm-up: the allocator's own caches
        one_thread()
    before = rss_bytes()
    for _ in range(40):
        one_thread()
    growth = rss_bytes() - before
    assert growth <= 8 << 20, f"RSS grew by {growth / 2**20:.1f} MiB over 40 threads that each ran one matmul"

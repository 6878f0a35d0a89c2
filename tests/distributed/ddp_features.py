"""Run under mpiexec -n 2 by tests/test_distributed.py: DistributedDataParallel's buckets, its
handling of .grad set to None at any point, no_sync, eval mode, and a model that differs by rank."""
import numpy as np

import fastgrad as fg
import fastgrad.distributed as dist
from fastgrad.nn.parallel import DistributedDataParallel

rank, world = dist.rank(), dist.world_size()
F = fg.nn.functional


def mlp():
    return fg.nn.Sequential(fg.nn.Linear(5, 300, dtype=fg.float64), fg.nn.ReLU(),
                            fg.nn.Linear(300, 3, dtype=fg.float64))


def model():
    fg.manual_seed(rank)   # different on every rank until DDP broadcasts rank 0's
    return mlp()


x_all = np.random.default_rng(0).standard_normal((4 * world, 5))
y_all = np.arange(4 * world) % 3
x, y = fg.tensor(x_all[4 * rank:4 * rank + 4], dtype=fg.float64), y_all[4 * rank:4 * rank + 4]


def expected_grads(m):
    """The gradients of the mean loss over every rank's rows, computed on this rank alone."""
    plain = mlp()
    plain.load_state_dict(m.module.state_dict())
    F.cross_entropy(plain(fg.tensor(x_all, dtype=fg.float64)), y_all).backward()
    return [p.grad.numpy().copy() for p in plain.parameters()]


# a small bucket cap: the first layer's weight (1500 doubles = 12 kB) gets a bucket of its own
ddp = DistributedDataParallel(model(), bucket_cap_mb=0.01)
assert len(ddp._buckets) >= 2, len(ddp._buckets)
for bucket in ddp._buckets:   # every gradient is a view of its bucket's contiguous buffer
    start = int(fg._C.ffi.cast("uintptr_t", bucket.flat._buf))
    for p, view in bucket.params:
        assert start <= int(fg._C.ffi.cast("uintptr_t", view._buf)) < start + bucket.nbytes
assert list(ddp.state_dict()) == ["module." + k for k in ddp.module.state_dict()]   # PyTorch's names

# zero_grad before forward (the usual loop), then after forward: the same averaged gradients
for zero_after_forward in (False, True):
    if not zero_after_forward:
        ddp.zero_grad()
    out = ddp(x)
    if zero_after_forward:
        ddp.zero_grad()
    F.cross_entropy(out, y).backward()
    for p, want in zip(ddp.parameters(), expected_grads(ddp)):
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-12, atol=1e-15)

# no_sync: local gradients accumulate; the next synced backward averages the sum
ddp.zero_grad()
with ddp.no_sync():
    F.cross_entropy(ddp(x), y).backward()
F.cross_entropy(ddp(x), y).backward()
for p, want in zip(ddp.parameters(), expected_grads(ddp)):
    np.testing.assert_allclose(p.grad.numpy(), 2 * np.asarray(want), rtol=1e-12, atol=1e-15)

# eval mode and no_grad: plain forward, no collective
ddp.eval()
with fg.no_grad():
    ddp(x)
ddp.train()

# a compiled DDP step is refused while it records, on every rank alike: a replay would run the
# kernels and skip the all-reduce, leaving each rank with its own gradients
opt = fg.optim.SGD(ddp.parameters(), lr=0.1)


def train_step(xb, yb):
    opt.zero_grad()
    loss = F.cross_entropy(ddp(xb), yb)
    loss.backward()
    opt.step()
    return loss


compiled, targets = fg.compile(train_step), fg.tensor(y)
compiled(x, targets)   # the warm-up call runs eagerly, collectives included
try:
    compiled(x, targets)
except fg.CaptureError as e:
    assert "all_reduce inside a compiled step" in str(e), e
else:
    raise AssertionError("a compiled DDP step was recorded")

# a model that differs by rank is the same clear error on every rank
try:
    DistributedDataParallel(fg.nn.Linear(3, 2 + rank))
except ValueError as e:
    assert "rank 1's model differs from rank 0's" in str(e), e
else:
    raise AssertionError("different models were accepted")
dist.barrier()
print(f"rank {rank}: DDP features OK")

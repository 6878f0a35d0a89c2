"""Run under mpiexec by tests/test_distributed.py: 20 training steps of a small MLP with
DistributedDataParallel, each rank on its slice of every global batch; rank 0 writes the parameters
after every step to an .npz file. With one rank it is the single-process reference.

    python train_steps.py OUT.npz sgd|adam float32|float64
"""
import sys

import numpy as np

import fastgrad as fg
import fastgrad.distributed as dist

out, optimizer_name, dtype_name = sys.argv[1:4]
dtype = {"float32": fg.float32, "float64": fg.float64}[dtype_name]
rank, world = dist.rank(), dist.world_size()
GLOBAL_BATCH, STEPS = 12, 20   # 12 splits evenly over 1, 2 and 3 ranks

fg.manual_seed(100 + rank)   # different initial weights per rank: DDP must broadcast rank 0's
model = fg.nn.Sequential(fg.nn.Linear(7, 16, dtype=dtype), fg.nn.Tanh(), fg.nn.Linear(16, 16, dtype=dtype),
                         fg.nn.ReLU(), fg.nn.Linear(16, 5, dtype=dtype))
ddp = fg.nn.parallel.DistributedDataParallel(model)
if optimizer_name == "sgd":
    optimizer = fg.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
else:
    optimizer = fg.optim.Adam(ddp.parameters(), lr=0.01)

data = np.random.default_rng(7)   # the same global batches on every rank
snapshots = {}
for step in range(STEPS):
    x = data.standard_normal((GLOBAL_BATCH, 7))
    y = data.integers(0, 5, GLOBAL_BATCH)
    part = slice(rank * GLOBAL_BATCH // world, (rank + 1) * GLOBAL_BATCH // world)
    optimizer.zero_grad()
    loss = fg.nn.functional.cross_entropy(ddp(fg.tensor(x[part], dtype=dtype)), y[part])
    loss.backward()
    optimizer.step()
    for i, p in enumerate(ddp.parameters()):
        snapshots[f"step{step}_param{i}"] = p.numpy().copy()

# every rank must hold the same parameters: compare with rank 0's
for p in ddp.parameters():
    mine = fg.tensor(p.numpy(), dtype=dtype)
    dist.broadcast(mine, src=0)
    if not np.array_equal(mine.numpy(), p.numpy()):
        raise AssertionError(f"rank {rank}'s parameters differ from rank 0's")
if rank == 0:
    np.savez(out, **snapshots)

"""Run under mpiexec by tests/test_distributed.py: every collective on float32 and float64 tensors,
checked on every rank against the values each rank can compute itself."""
import numpy as np

import fastgrad as fg
import fastgrad.distributed as dist

rank, world = dist.rank(), dist.world_size()
everyone = [np.arange(5.0) * (r + 1) - r for r in range(world)]   # rank r's data
for dtype in (fg.float32, fg.float64):
    for op, expected in (("sum", np.sum(everyone, 0)), ("mean", np.mean(everyone, 0)), ("max", np.max(everyone, 0))):
        t = fg.tensor(everyone[rank], dtype=dtype)
        buffer = t._buf
        assert dist.all_reduce(t, op=op) is t and t._buf is buffer   # in place
        np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6, err_msg=f"all_reduce {op} {dtype}")
    t = fg.tensor(everyone[rank], dtype=dtype)
    dist.broadcast(t, src=world - 1)
    np.testing.assert_array_equal(t.numpy(), everyone[world - 1])
    out = [fg.zeros(2, 5, dtype=dtype) for _ in range(world)]
    dist.all_gather(out, fg.tensor([everyone[rank], -everyone[rank]], dtype=dtype))
    for r in range(world):
        np.testing.assert_array_equal(out[r].numpy(), [everyone[r], -everyone[r]])
    flat = fg.zeros(world * 5, dtype=dtype)
    dist.all_gather_into_tensor(flat, fg.tensor(everyone[rank], dtype=dtype))
    np.testing.assert_array_equal(flat.numpy(), np.concatenate(everyone))
for bad, kind in ((lambda: dist.all_reduce(fg.zeros(2), op="min"), ValueError),
                  (lambda: dist.broadcast(fg.zeros(2), src=world), ValueError),
                  (lambda: dist.all_reduce(np.zeros(2)), TypeError)):
    try:
        bad()
    except kind:
        pass
    else:
        raise AssertionError("a bad collective call was accepted")
dist.barrier()
print(f"rank {rank} of {world}: collectives OK")

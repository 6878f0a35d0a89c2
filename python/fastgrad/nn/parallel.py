"""DistributedDataParallel: the same model on every MPI rank, gradients averaged after backward.

    model = fg.nn.parallel.DistributedDataParallel(make_model())   # rank 0's weights everywhere
    for x, y in loader:                       # each rank its own part of the batch (DistributedSampler)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()                       # ends with the gradients averaged over the ranks
        optimizer.step()                      # the same update on every rank: the weights stay equal

How: the parameters' gradients live in a few contiguous buckets (one per dtype, split at
bucket_cap_mb), each parameter's .grad a view of its slice, so one all-reduce per bucket per step
moves them all. forward() points every .grad at its slice (zeroed where the gradient was None), so
backward's kernels accumulate straight into the buckets; it returns the model's output through an
identity op whose backward queues the reduction for the end of that backward pass
(autograd.queue_callback), when every gradient is complete.

The reduction does not overlap backward: MPICH moves data only inside MPI calls, so a nonblocking
all-reduce started mid-backward makes no progress while the C kernels run (bench/distributed.py
measures it); on a cluster with an offloading network the buckets would be the unit to start early.

Buffers: the whole state_dict is broadcast at construction; PyTorch re-broadcasts buffers (running
statistics) before every forward, which matters once fastgrad modules have buffers (none do yet).
broadcast_buffers, device_ids, output_device and find_unused_parameters are accepted for PyTorch's
signature; a parameter that gets no gradient in a step gets a zero one (PyTorch leaves it None).

Needs fastgrad.distributed (mpi4py); see that module for launching and faults.
"""
import contextlib
import ctypes
import math

from .. import autograd
from .._C import ffi
from ..autograd import Op, accumulate_grad
from ..tensor import Tensor, empty
from .modules import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    def __init__(self, module, bucket_cap_mb=25, broadcast_buffers=True, device_ids=None, output_device=None,
                 find_unused_parameters=False, **ignored):
        from .. import distributed   # mpi4py, needed only from here on
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps an fg.nn.Module, got {type(module).__name__}")
        if not isinstance(bucket_cap_mb, (int, float)) or not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb!r}")
        self._dist = distributed
        self.module = module
        state = module.state_dict()   # parameters and any other state, as views of their storage
        _check_same_model_everywhere(distributed, state)
        for t in state.values():   # every rank starts from rank 0's weights
            distributed.broadcast(t, src=0)
        params = [p for p in module.parameters() if p.requires_grad]
        self._buckets = _make_buckets(params, int(bucket_cap_mb * 2 ** 20))
        self._sync = True
        self._reduce_queued = False

    def forward(self, *args, **kwargs):
        training = self.training and autograd.is_grad_enabled()
        if training:
            self._point_grads_at_buckets()
        out = self.module(*args, **kwargs)
        if not training:
            return out
        if isinstance(out, Tensor):
            return _ReduceAfterBackward(self).forward(out) if out.requires_grad else out
        if isinstance(out, (tuple, list)):
            return type(out)(_ReduceAfterBackward(self).forward(t) if isinstance(t, Tensor) and t.requires_grad
                             else t for t in out)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside accumulate local gradients without reducing them (gradient
        accumulation); the first backward after it reduces the sum."""
        self._sync = False
        try:
            yield
        finally:
            self._sync = True

    # ---- the gradient buckets --------------------------------------------------------------------
    def _point_grads_at_buckets(self):
        """Every parameter's .grad becomes its bucket slice; a None gradient's slice is zeroed, one
        set elsewhere is copied in (a gradient already in place is kept: accumulation works)."""
        for bucket in self._buckets:
            if all(p.grad is None for p, _ in bucket.params):   # the usual case, after zero_grad()
                ctypes.memset(_address(bucket.flat), 0, bucket.nbytes)
                for p, view in bucket.params:
                    p.grad = view
                continue
            for p, view in bucket.params:
                g = p.grad
                if g is view:
                    continue
                nbytes = math.prod(p.shape) * p.dtype.itemsize
                if g is None:
                    ctypes.memset(_address(view), 0, nbytes)
                elif isinstance(g, Tensor) and g.shape == p.shape and g.dtype is p.dtype:
                    ffi.memmove(view._buf, g._buf, nbytes)
                else:
                    raise ValueError(f"DistributedDataParallel: a parameter of shape {p.shape} has a .grad that is "
                                     f"not a tensor of its shape and dtype")
                p.grad = view

    def _queue_reduce(self):
        if self._sync and not self._reduce_queued:
            self._reduce_queued = True
            autograd.queue_callback(self._reduce)

    def _reduce(self):
        """Runs at the end of backward: every gradient averaged over the ranks, bucket by bucket."""
        self._reduce_queued = False
        self._point_grads_at_buckets()   # gradients made during backward (zero_grad after forward) move in
        for bucket in self._buckets:
            self._dist.all_reduce(bucket.flat, op="mean")


class _ReduceAfterBackward(Op):
    """The identity on the model's output; its backward (the first of the pass) queues the
    reduction for when the pass ends."""

    def __init__(self, ddp):
        self.ddp = ddp

    def forward(self, x):
        return self.record(empty(x._shape, x._dtype, buf=x._buf), x)

    def _backward(self, grad):
        accumulate_grad(self.inputs[0], grad)
        self.ddp._queue_reduce()


class _Bucket:
    def __init__(self, dtype, params):
        count = sum(math.prod(p.shape) for p in params)
        self.flat = empty((count,), dtype, zeroed=True)
        self.nbytes = count * dtype.itemsize
        flat_array = self.flat.numpy()
        self.params, offset = [], 0
        for p in params:
            n = math.prod(p.shape)
            # from_buffer keeps flat_array (and so the bucket's memory) alive as long as the view
            buf = ffi.from_buffer(dtype.carray, flat_array[offset:offset + n], require_writable=True)
            self.params.append((p, empty(p._shape, dtype, buf=buf)))
            offset += n


def _make_buckets(params, cap_bytes):
    """Parameters grouped by dtype, in reverse order (the order backward finishes them), into
    buckets of at most cap_bytes (a bigger parameter gets a bucket of its own)."""
    buckets = []
    for dtype in dict.fromkeys(p.dtype for p in params):
        group, size = [], 0
        for p in reversed([p for p in params if p.dtype is dtype]):
            nbytes = math.prod(p.shape) * dtype.itemsize
            if group and size + nbytes > cap_bytes:
                buckets.append(_Bucket(dtype, group))
                group, size = [], 0
            group.append(p)
            size += nbytes
        if group:
            buckets.append(_Bucket(dtype, group))
    return buckets


def _address(t):
    return int(ffi.cast("uintptr_t", t._buf))


def _check_same_model_everywhere(distributed, state):
    """Every rank must hold the same parameter names, shapes and dtypes, or the reductions would mix
    unrelated numbers: all ranks compare and raise the same error."""
    mine = [(name, tuple(t.shape), t.dtype.name) for name, t in state.items()]
    everyone = distributed._comm.allgather(mine)
    for r, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            diff = next((a, b) for a, b in zip(everyone[0] + [None] * len(theirs), theirs + [None] * len(everyone[0]))
                        if a != b)
            raise ValueError(f"DistributedDataParallel: rank {r}'s model differs from rank 0's: {diff[1]} where "
                             f"rank 0 has {diff[0]}")

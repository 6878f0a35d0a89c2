"""Data parallelism over MPI: collectives on tensors, through mpi4py.

    pip install "fastgrad[distributed]"      # mpi4py and an MPI library (the mpich wheel)
    mpiexec -n 4 python -m mpi4py train.py   # -m mpi4py: an exception on any rank aborts them all

Every process (rank) runs the same program; `rank()` and `world_size()` say which one this is and how
many there are. The collectives work in place on a tensor's own buffer (MPI reads and writes the C
memory; no copy goes through numpy), for float32, float64 (and int64 where fastgrad has it):

    all_reduce(t, op="sum"|"mean"|"max")   every rank ends with the reduction over all ranks
    broadcast(t, src=0)                    every rank ends with src's values
    all_gather(tensor_list, t)             tensor_list[r] gets rank r's t (PyTorch's signature)
    all_gather_into_tensor(out, t)         out (world_size * t's elements) gets every rank's t, in rank order
    barrier()

PyTorch's names work too (get_rank, get_world_size, ReduceOp.SUM/AVG/MAX, init_process_group).

Faults: a collective waits at most `timeout` seconds (set_timeout, or FASTGRAD_DIST_TIMEOUT, default
300) for the other ranks, polling a nonblocking request, then raises DistributedTimeout; an uncaught
exception on any rank calls MPI_Abort, which ends every rank (python -m mpi4py does the same), and
mpiexec ends the job when a rank dies. So a failure anywhere ends the job in bounded time, never a hang.
"""
import math
import os
import sys
import time

try:
    from mpi4py import MPI
except ImportError as e:   # the optional extra is missing: say what to install
    raise ImportError(f"fastgrad.distributed needs mpi4py and an MPI library ({e}); install them with "
                      f"pip install \"fastgrad[distributed]\" (or: pip install mpi4py mpich)") from e

from . import backend, dtypes
from ._C import ffi, lib
from .compile import refuse_while_recording
from .tensor import Tensor, empty

__all__ = ["rank", "world_size", "barrier", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "set_timeout", "get_timeout", "DistributedTimeout", "ReduceOp", "get_rank", "get_world_size",
           "init_process_group", "is_initialized", "destroy_process_group", "DistributedSampler"]

_comm = MPI.COMM_WORLD
_timeout = float(os.environ.get("FASTGRAD_DIST_TIMEOUT", 300))
# How long a wait polls MPI without pausing: MPICH moves data only inside MPI calls, so a tight loop
# keeps big messages streaming; past this, the other ranks are late and the wait polls every 1 ms
# to leave the core to them.
_SPIN_SECONDS = 1.0

_MPI_TYPES = {dtypes.float32: MPI.FLOAT, dtypes.float64: MPI.DOUBLE}
if getattr(dtypes, "int64", None) is not None:
    _MPI_TYPES[dtypes.int64] = MPI.INT64_T


class DistributedTimeout(RuntimeError):
    """A collective did not complete within the timeout: another rank stopped, died or called a
    different collective."""


class ReduceOp:
    """PyTorch's names for all_reduce's op."""
    SUM, AVG, MAX = "sum", "mean", "max"


def rank():
    return _comm.Get_rank()


def world_size():
    return _comm.Get_size()


get_rank, get_world_size = rank, world_size


def init_process_group(backend="mpi", timeout=None, **ignored):
    """PyTorch's entry point. MPI is already set up by mpiexec; this only sets the timeout (seconds
    or a datetime.timedelta)."""
    if backend not in ("mpi", None):
        raise ValueError(f"fastgrad.distributed runs on MPI only, got backend {backend!r}")
    if timeout is not None:
        set_timeout(timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout)


def is_initialized():
    return MPI.Is_initialized() and not MPI.Is_finalized()


def destroy_process_group():
    """Nothing to do: MPI is finalized when the program exits."""


def set_timeout(seconds):
    """The longest a collective waits for the other ranks before raising DistributedTimeout."""
    global _timeout
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {seconds!r}")
    _timeout = float(seconds)


def get_timeout():
    return _timeout


def barrier():
    refuse_while_recording("barrier")
    _wait(_comm.Ibarrier(), "barrier")


def all_reduce(tensor, op="sum"):
    """In place: every rank's `tensor` becomes the sum, mean or max over all ranks."""
    if op not in ("sum", "mean", "max"):
        raise ValueError(f"all_reduce: op must be 'sum', 'mean' or 'max', got {op!r}")
    spec = _buffer(tensor, "all_reduce")
    if op == "mean" and not tensor.dtype.np.kind == "f":
        raise TypeError(f"all_reduce: op='mean' needs a float tensor, got {tensor.dtype!r}")
    _wait(_comm.Iallreduce(MPI.IN_PLACE, spec, MPI.MAX if op == "max" else MPI.SUM), f"all_reduce({op!r})")
    if op == "mean" and world_size() > 1:
        scale(tensor, 1.0 / world_size())
    return tensor


def broadcast(tensor, src=0):
    """In place: every rank's `tensor` gets rank src's values."""
    _check_rank(src, "broadcast")
    _wait(_comm.Ibcast(_buffer(tensor, "broadcast"), root=src), "broadcast")
    return tensor


def all_gather_into_tensor(output, tensor):
    """output's elements, in rank order, become every rank's `tensor` (output holds world_size times
    as many elements: shape (world_size * n, ...) or (world_size, ...))."""
    n = math.prod(tensor.shape)
    send = _buffer(tensor, "all_gather")
    recv = _buffer(output, "all_gather")[::2]   # [memory, type]: mpi4py splits it into world_size parts
    if output.dtype is not tensor.dtype or math.prod(output.shape) != n * world_size():
        raise ValueError(f"all_gather: the output ({output.dtype!r}, shape {output.shape}) must be of the input's "
                         f"dtype {tensor.dtype!r} with {world_size()} x {n} elements")
    _wait(_comm.Iallgather(send, recv), "all_gather")
    return output


def all_gather(tensor_list, tensor):
    """tensor_list[r] gets rank r's `tensor` (PyTorch's form): one all-gather into a contiguous
    buffer, then one memory copy per rank."""
    if not isinstance(tensor_list, list) or len(tensor_list) != world_size():
        raise ValueError(f"all_gather: tensor_list must be a list of {world_size()} tensors (one per rank)")
    for t in tensor_list:
        if not isinstance(t, Tensor) or t.shape != tensor.shape or t.dtype is not tensor.dtype:
            raise ValueError(f"all_gather: every tensor of tensor_list must have shape {tensor.shape} and dtype "
                             f"{tensor.dtype!r}")
    n = math.prod(tensor.shape)
    gathered = all_gather_into_tensor(empty((world_size() * n,), tensor.dtype), tensor)
    for r, t in enumerate(tensor_list):
        ffi.memmove(t._buf, gathered._buf + r * n, n * tensor.dtype.itemsize)
    return tensor_list


def scale(tensor, factor):
    """tensor *= factor, in place, by the elementwise kernel."""
    n = math.prod(tensor.shape)
    if n:
        factor_buf = ffi.new(tensor.dtype.carray, [factor])
        tensor.dtype.k.binary_bcast(tensor._buf, tensor._buf, factor_buf, lib.FG_MUL, [n], [1], [0], 1)


# ---- waiting with a deadline ---------------------------------------------------------------------
def _wait(request, what):
    """Completes a nonblocking request, or raises DistributedTimeout after the timeout."""
    if request.Test():
        return
    start = time.monotonic()
    while not request.Test():
        elapsed = time.monotonic() - start
        if elapsed > _timeout:
            raise DistributedTimeout(
                f"{what} on rank {rank()} of {world_size()} waited {elapsed:.1f} s for the other ranks (timeout "
                f"{_timeout:g} s; fastgrad.distributed.set_timeout or FASTGRAD_DIST_TIMEOUT): a rank has stopped, "
                f"died, or is calling a different collective")
        if elapsed > _SPIN_SECONDS:
            time.sleep(0.001)


def _buffer(tensor, what):
    """[the tensor's C memory, its MPI datatype]: what mpi4py reads and writes in place (never inside
    a compiled step's recording: a replay would skip the collective)."""
    refuse_while_recording(what)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what} expects a fastgrad Tensor, got {type(tensor).__name__}")
    mpi_type = _MPI_TYPES.get(tensor.dtype)
    if mpi_type is None:
        raise TypeError(f"{what}: tensors of dtype {tensor.dtype!r} are not supported "
                        f"(float32, float64{', int64' if len(_MPI_TYPES) > 2 else ''})")
    if not getattr(tensor, "is_contiguous", lambda: True)():
        raise ValueError(f"{what} needs a contiguous tensor; call .contiguous() first")
    n = math.prod(tensor.shape)
    return [ffi.buffer(tensor._buf, n * tensor.dtype.itemsize), n, mpi_type]


def _check_rank(r, what):
    if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < world_size():
        raise ValueError(f"{what}: src must be a rank in [0, {world_size() - 1}], got {r!r}")


def _abort_on_uncaught_exception():
    """An uncaught exception on one rank ends every rank (MPI_Abort), as `python -m mpi4py` does:
    otherwise the others would wait for it in their next collective."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        time.sleep(0.2)   # mpiexec forwards ranks' output through pipes that MPI_Abort's teardown may cut
        _comm.Abort(1)
    sys.excepthook = hook


def _share_the_cores():
    """Ranks on one machine split its cores: each rank's kernels use cores / (ranks here) threads,
    unless FASTGRAD_NUM_THREADS or OMP_NUM_THREADS says otherwise. Two ranks of two threads each on
    two cores ran the digits example 70x slower than one thread each (threads waiting on threads
    that are not running)."""
    if os.environ.get("FASTGRAD_NUM_THREADS", "").strip() or os.environ.get("OMP_NUM_THREADS", "").strip():
        return
    # the launcher says how many ranks share this machine (MPICH's hydra, Open MPI); else ask MPI
    told = os.environ.get("MPI_LOCALNRANKS") or os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or ""
    if told.isdigit() and int(told) > 0:
        ranks_here = int(told)
    else:
        local = _comm.Split_type(MPI.COMM_TYPE_SHARED)
        ranks_here = local.Get_size()
        local.Free()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        cores = os.cpu_count() or 1
    backend.set_num_threads(max(1, cores // ranks_here))


if world_size() > 1:
    _abort_on_uncaught_exception()
    _share_the_cores()

from .data import DistributedSampler  # noqa: E402  (PyTorch has it in torch.utils.data and beside the collectives)

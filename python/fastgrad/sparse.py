"""RowSparseGrad: the gradient of an embedding table made with sparse=True. It names the rows a
step touched (with repeats) and holds one gradient row per entry, so optimizers that accept it
(SGD without momentum, SparseAdam) update only those rows. Like PyTorch's sparse COO gradient:
adding two concatenates them, coalesce() sums repeated rows, to_dense() gives the dense tensor.

The rows are an int64 tensor and all the work on them is kernel calls (fg_coalesce_rows sums
repeats into room for every entry and leaves the number of distinct rows in memory), so a captured
step (fastgrad.compile) replays a sparse gradient and SparseAdam's update; `indices` (a numpy
array) and coalesce() read the rows on the host."""
import numpy as np

from .tensor import Tensor, empty, tensor, zeros
from .dtypes import int64, kernels
from ._C import ffi, lib


class RowSparseGrad:
    __slots__ = ("rows", "values", "shape", "__weakref__")
    is_sparse = True
    _buf = None   # no dense buffer: autograd compares .grad buffers by identity
    _op = None

    def __init__(self, indices, values, shape):
        indices = np.ascontiguousarray(indices, dtype=np.int64).reshape(-1)
        shape = tuple(shape)
        if not isinstance(values, Tensor) or values.shape != (indices.size,) + shape[1:]:
            raise ValueError(f"RowSparseGrad: values must be a tensor of shape {(indices.size,) + shape[1:]}, got "
                             f"{getattr(values, 'shape', type(values).__name__)}")
        if indices.size and (indices.min() < 0 or indices.max() >= shape[0]):
            raise IndexError(f"RowSparseGrad: row indices must lie in [0, {shape[0]})")
        self.rows, self.values, self.shape = tensor(indices, dtype=int64), values, shape

    @classmethod
    def trusted(cls, rows, values, shape):
        """One made by fastgrad from rows it checked (a 1-D int64 tensor), skipping the checks."""
        grad = object.__new__(cls)
        grad.rows, grad.values, grad.shape = rows, values, tuple(shape)
        return grad

    @property
    def indices(self):
        """The rows as an int64 numpy array (a host read)."""
        return self.rows.numpy()

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def row(self):
        return int(np.prod(self.shape[1:], dtype=np.int64))

    def size(self):
        return self.shape

    def add_to_dense(self, buf, alpha=1.0):
        """buf (a dense buffer of self.shape) += alpha * self, repeated rows summed in order."""
        n = self.rows._numel
        if n:
            offsets, width = empty((n,), int64), empty((n,), int64)
            kernels.fill(width._buf, int64.code, 0.0, self.row, n)
            int64.k.binary(offsets._buf, self.rows._buf, width._buf, lib.FG_MUL, n)
            self.dtype.k.scatter_add(buf, self.values._buf, offsets._buf, alpha, n, self.row)

    def to_dense(self):
        out = zeros(self.shape, dtype=self.dtype)
        self.add_to_dense(out._buf)
        return out

    def _coalesced(self, call=None):
        """(rows, values, count): the distinct rows in increasing order and their summed values, in
        room for every entry, and a 1-element int64 tensor holding how many there are. `call(name,
        *args)` runs the kernel (an optimizer's _kernel, so a captured step records it there)."""
        n, row = self.rows._numel, self.row
        rows, values = empty((n,), int64), empty((n,) + self.shape[1:], self.dtype)
        count, scratch = empty((1,), int64), empty((2 * n,), int64)
        args = (rows._buf, values._buf, count._buf, scratch._buf, self.rows._buf, self.values._buf, n, row)
        if call is None:
            self.dtype.k.coalesce_rows(*args)
        else:
            call("coalesce_rows", *args)
        return rows, values, count

    def coalesce(self):
        """The same gradient with each row once, rows in increasing order, repeats summed in order."""
        rows, values, count = self._coalesced()
        m = int(count.item())
        return RowSparseGrad.trusted(_first(rows, m), _first(values, m), self.shape)

    def __add__(self, other):
        if not isinstance(other, RowSparseGrad) or other.shape != self.shape or other.dtype is not self.dtype:
            raise TypeError("RowSparseGrad: only another RowSparseGrad of the same shape and dtype can be added")
        n1, n2 = self.rows._numel, other.rows._numel
        return RowSparseGrad.trusted(_concatenate(self.rows, other.rows, (n1 + n2,)),
                                     _concatenate(self.values, other.values, (n1 + n2,) + self.shape[1:]), self.shape)

    def __repr__(self):
        return f"RowSparseGrad(rows={self.indices.tolist()}, shape={self.shape}, dtype={self.dtype!r})"


def _first(t, m):
    """A copy of t's first m rows."""
    out = empty((m,) + t._shape[1:], t._dtype)
    if out._numel:
        kernels.cast(out._buf, t._dtype.code, t._buf, t._dtype.code, out._numel)
    return out


def _concatenate(a, b, shape):
    out = empty(shape, a._dtype)
    if a._numel:
        kernels.cast(out._buf, a._dtype.code, a._buf, a._dtype.code, a._numel)
    if b._numel:
        after_a = ffi.cast("char *", out._buf) + a._numel * a._dtype.itemsize
        kernels.cast(after_a, a._dtype.code, b._buf, a._dtype.code, b._numel)
    return out

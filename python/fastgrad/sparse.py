"""RowSparseGrad: the gradient of an embedding table made with sparse=True. It names the rows a
step touched (with repeats) and holds one gradient row per entry, so optimizers that accept it
(SGD without momentum, SparseAdam) update only those rows. Like PyTorch's sparse COO gradient:
adding two concatenates them, coalesce() sums repeated rows, to_dense() gives the dense tensor."""
import numpy as np

from ._C import ffi
from .tensor import Tensor, empty, zeros
from .dtypes import kernels


class RowSparseGrad:
    __slots__ = ("indices", "values", "shape", "__weakref__")
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
        self.indices, self.values, self.shape = indices, values, shape

    @classmethod
    def trusted(cls, indices, values, shape):
        """One made by fastgrad from rows it checked (a contiguous int64 array), skipping the checks."""
        grad = object.__new__(cls)
        grad.indices, grad.values, grad.shape = indices, values, tuple(shape)
        return grad

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def row(self):
        return int(np.prod(self.shape[1:], dtype=np.int64))

    def size(self):
        return self.shape

    def _offsets(self):
        offsets = self.indices * self.row
        return offsets, ffi.from_buffer("int64_t[]", offsets)

    def add_to_dense(self, buf, alpha=1.0):
        """buf (a dense buffer of self.shape) += alpha * self, repeated rows summed in order."""
        offsets, ptr = self._offsets()
        if offsets.size:
            self.dtype.k.scatter_add(buf, self.values._buf, ptr, alpha, offsets.size, self.row)

    def to_dense(self):
        out = zeros(self.shape, dtype=self.dtype)
        self.add_to_dense(out._buf)
        return out

    def coalesce(self):
        """The same gradient with each row once, rows in increasing order, repeats summed in order."""
        rows, inverse = np.unique(self.indices, return_inverse=True)
        values = zeros((rows.size,) + self.shape[1:], dtype=self.dtype)
        offsets = np.ascontiguousarray(inverse.reshape(-1) * self.row, dtype=np.int64)
        if offsets.size:
            self.dtype.k.scatter_add(values._buf, self.values._buf, ffi.from_buffer("int64_t[]", offsets), 1.0,
                                     offsets.size, self.row)
        return RowSparseGrad.trusted(rows, values, self.shape)

    def __add__(self, other):
        if not isinstance(other, RowSparseGrad) or other.shape != self.shape or other.dtype is not self.dtype:
            raise TypeError("RowSparseGrad: only another RowSparseGrad of the same shape and dtype can be added")
        values = empty((self.indices.size + other.indices.size,) + self.shape[1:], self.dtype)
        es, n1 = self.dtype.itemsize, self.values._numel
        kernels.cast(values._buf, self.dtype.code, self.values._buf, self.dtype.code, n1)
        kernels.cast(ffi.cast("char *", values._buf) + n1 * es, self.dtype.code, other.values._buf, self.dtype.code,
                    other.values._numel)
        return RowSparseGrad.trusted(np.concatenate([self.indices, other.indices]), values, self.shape)

    def __repr__(self):
        return f"RowSparseGrad(rows={self.indices.tolist()}, shape={self.shape}, dtype={self.dtype!r})"

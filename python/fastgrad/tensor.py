"""Tensor: a shape, a dtype and a contiguous row-major buffer owned through cffi.

The buffer is a cffi array allocated once; kernels receive it as it is, so no call converts a
pointer again. `.numpy()` is a zero-copy view of it. Tensors made by ops carry `_op`, the graph node
(fastgrad.ops) that produced them; `.backward()` hands the graph to fastgrad.autograd.
"""
import math
import numbers

import numpy as np

from ._C import ffi
from .dtypes import SMALL_ARRAY, as_dtype, float32, numeric_array

# Outputs are always overwritten by their kernel, so most buffers skip the memset ffi.new would do.
alloc_uninitialized = ffi.new_allocator(should_clear_after_alloc=False)
_alloc_zeroed = ffi.new_allocator()


def _checked_shape(shape, infer=False):
    """A shape given as ints or one tuple/list of ints, checked to be non-negative integers; with
    infer, one dimension may be -1 (reshape's "whatever is left")."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    for d in shape:
        if not isinstance(d, numbers.Integral) or isinstance(d, bool):
            raise TypeError(f"shape {tuple(shape)!r} must hold integers, got {type(d).__name__}")
        if d < 0 and not (infer and d == -1):
            raise ValueError(f"negative dimension {d} in shape {tuple(shape)}")
    if list(shape).count(-1) > 1:
        raise ValueError(f"only one dimension can be -1, got {tuple(shape)}")
    return tuple(int(d) for d in shape)


class Tensor:
    """Made by fg.tensor, zeros, ones, randn and the ops, not by calling Tensor(data): `Tensor()` is
    the bare object that empty() fills in, because an __init__ would cost every op a call."""
    __slots__ = ("_buf", "shape", "dtype", "size", "requires_grad", "grad", "_op", "__weakref__")

    # ---- storage ---------------------------------------------------------------------------------
    @property
    def ndim(self):
        return len(self.shape)

    def numpy(self):
        """A zero-copy numpy view of the buffer: writing to it writes to the tensor."""
        view = np.frombuffer(ffi.buffer(self._buf, self.size * self.dtype.itemsize), self.dtype.np)
        return view.reshape(self.shape)

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) is the zero-copy view; np.array(t) (copy=True) a snapshot."""
        array = self.numpy()
        if dtype is not None and np.dtype(dtype) != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    # numpy operands on the left (np.float64(2) * t, array + t) defer to Tensor's reflected
    # operators instead of turning the tensor into an array and dropping the graph.
    __array_ufunc__ = None

    def item(self):
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return float(self._buf[0])

    def tolist(self):
        return self.numpy().tolist()

    def _flat_index(self, i, j):
        """The tutorial's row-major index i*d + j of a 2-D n x d tensor, bounds-checked."""
        if self.ndim != 2:
            raise ValueError(f"get/set(i, j) address 2-D tensors, this one has shape {self.shape}")
        n, d = self.shape
        for name, v, bound in (("i", i, n), ("j", j, d)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool):
                raise TypeError(f"index {name} must be an integer, got {type(v).__name__}")
            if not 0 <= v < bound:
                raise IndexError(f"index ({i}, {j}) out of range for shape {self.shape}")
        return int(i) * d + int(j)

    def get(self, i, j):
        return float(self._buf[self._flat_index(i, j)])

    def set(self, i, j, value):
        self._buf[self._flat_index(i, j)] = float(value)

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extra = f", dtype={self.dtype!r}" if self.dtype is not float32 else ""
        if self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ---- autograd --------------------------------------------------------------------------------
    def backward(self, grad=None):
        """Accumulates d(self)/d(leaf) * grad into every leaf's .grad that requires it.
        `grad` defaults to 1 for a one-element tensor and is required otherwise."""
        autograd.backward(self, grad)

    def detach(self):
        """The same storage, cut from the graph."""
        return _view(self, self.shape, False)

    def requires_grad_(self, requires_grad=True):
        if self._op is not None and not requires_grad:
            raise RuntimeError("requires_grad can only be cleared on a leaf tensor; use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self):
        self.grad = None

    # ---- operators: each one is an op of fastgrad.ops ---------------------------------------------
    def __add__(self, other):
        return Add().forward(self, other)

    def __radd__(self, other):
        return Add().forward(other, self)

    def __sub__(self, other):
        return Sub().forward(self, other)

    def __rsub__(self, other):
        return Sub().forward(other, self)

    def __mul__(self, other):
        return Mul().forward(self, other)

    def __rmul__(self, other):
        return Mul().forward(other, self)

    def __truediv__(self, other):
        return Div().forward(self, other)

    def __rtruediv__(self, other):
        return Div().forward(other, self)

    def __neg__(self):
        return Mul().forward(self, -1.0)

    def __matmul__(self, other):
        return MatMul().forward(self, other)

    def __rmatmul__(self, other):
        return MatMul().forward(other, self)

    def relu(self):
        return ReLU().forward(self)

    def tanh(self):
        return Tanh().forward(self)

    def sigmoid(self):
        return Sigmoid().forward(self)

    def softmax(self, dim=-1):
        return Softmax(dim).forward(self)

    def log_softmax(self, dim=-1):
        return LogSoftmax(dim).forward(self)

    def sum(self, dim=None, keepdim=False):
        return Sum(dim, keepdim).forward(self)

    def mean(self, dim=None, keepdim=False):
        return Sum(dim, keepdim, mean=True).forward(self)

    @property
    def T(self):
        return Transpose().forward(self)

    def reshape(self, *shape):
        return Reshape(shape).forward(self)

    # ---- DLPack: np.from_dlpack(t), torch.from_dlpack(t) share this buffer (fastgrad/interop.py) ---
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return interop.to_dlpack(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        return (1, 0)   # (kDLCPU, device 0)


def empty(shape, dtype, size=None, zeroed=False, buf=None):
    """A new tensor over `buf` (another tensor's, for a view) or over a new buffer, uninitialised
    unless zeroed (kernels overwrite their outputs). Every tensor is made here (Add, Sub, Mul and Div
    write it out in line for tensors of one shape): it is the hot path of every op, hence one flat
    function."""
    if size is None:
        size = math.prod(shape)
    if buf is None:
        alloc = _alloc_zeroed if zeroed else alloc_uninitialized
        try:
            buf = alloc(dtype.small_carrays[size]) if size < SMALL_ARRAY else alloc(dtype.carray, size)
        except (MemoryError, OverflowError):   # cffi would say only "MemoryError" or "overflow a Py_ssize_t"
            raise out_of_memory(shape, dtype, size) from None
    t = Tensor()
    t.shape = shape
    t.dtype = dtype
    t.size = size
    t._buf = buf
    t.requires_grad = False
    t.grad = None
    t._op = None
    return t


def out_of_memory(shape, dtype, size):
    return MemoryError(f"cannot allocate a {dtype.name} tensor of shape {tuple(shape)}: {size * dtype.itemsize} bytes")


def _view(t, shape, requires_grad):
    """Another tensor over the same buffer (reshape, detach)."""
    view = empty(shape, t.dtype, t.size, buf=t._buf)
    view.requires_grad = bool(requires_grad)
    return view


def _as_array(data, dtype):
    """numpy's reading of `data`, cast to the requested dtype (float32 unless one is given)."""
    target = float32 if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.numpy()
    try:
        array = np.asarray(data)
    except ValueError as e:   # numpy refuses ragged nested lists
        raise ValueError(f"cannot make a tensor from ragged nested sequences: {e}") from None
    if array.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} holding non-numeric or ragged data")
    return numeric_array(array, "cannot make a tensor from this data").astype(target.np, copy=False)


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data`: nested lists, scalars, numpy arrays or tensors.
    dtype defaults to float32, for numpy float64 arrays too (as in PyTorch); pass fg.float64 to
    keep double precision."""
    array = _as_array(data, dtype)
    t = empty(array.shape, as_dtype(array.dtype), array.size)
    if t.size:
        t.numpy()[...] = array
    t.requires_grad = bool(requires_grad)
    return t


def zeros(*shape, dtype=float32, requires_grad=False):
    t = empty(_checked_shape(shape), as_dtype(dtype), zeroed=True)
    t.requires_grad = bool(requires_grad)
    return t


def ones(*shape, dtype=float32, requires_grad=False):
    t = empty(_checked_shape(shape), as_dtype(dtype))
    t.numpy().fill(1)
    t.requires_grad = bool(requires_grad)
    return t


def zeros_like(t):
    return empty(t.shape, t.dtype, t.size, zeroed=True)


def ones_like(t):
    return ones(t.shape, dtype=t.dtype)


_rng = np.random.default_rng()


def manual_seed(seed):
    """Seeds every random draw fastgrad makes (randn, layer initialisation, dropout, shuffling)."""
    global _rng
    _rng = np.random.default_rng(seed)


def generator():
    """The numpy Generator behind fastgrad's random draws, as seeded by manual_seed."""
    return _rng


def randn(*shape, mean=0.0, std=1.0, dtype=float32, requires_grad=False):
    """Normally distributed values with the given mean and standard deviation."""
    shape, dtype = _checked_shape(shape), as_dtype(dtype)
    t = empty(shape, dtype)
    t.numpy()[...] = _rng.standard_normal(shape, dtype=dtype.np) * std + mean
    t.requires_grad = bool(requires_grad)
    return t


# Operators dispatch to the ops, which are built on Tensor: import them once Tensor exists.
from . import autograd  # noqa: E402
from . import interop  # noqa: E402
from .ops import (Add, Div, LogSoftmax, MatMul, Mul, ReLU, Reshape, Sigmoid, Softmax, Sub, Sum,  # noqa: E402
                  Tanh, Transpose)

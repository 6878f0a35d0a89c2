"""Tensor: a shape, a dtype and a contiguous row-major buffer owned through cffi.

The buffer is a cffi array allocated once; kernels receive it as it is, so no call converts a
pointer again. `.numpy()` is a zero-copy view of it. Tensors made by ops carry `_op`, the graph node
(fastgrad.ops) that produced them; `.backward()` hands the graph to fastgrad.autograd.

Shape, dtype and element count are fixed when a tensor is made (read-only properties over private
slots): the kernels trust them, so nothing from outside may change them. `_version` is the storage's
in-place marker, shared by every tensor over one buffer (views, `.data`, `detach()`): None until a
view or an in-place write needs it, then a list [epoch of the last write into the storage, epoch at
which this tensor took over a new graph node] (fastgrad/inplace.py), which backward() compares
against the epoch each op was recorded at.
"""
import math
import numbers

import numpy as np

from . import _changes
from ._C import ffi, lib
from .dtypes import as_dtype, bool_, default_float, dtype_of_array, float32, float64, int64, kernels, numeric_array, SMALL_ARRAY

# Outputs are always overwritten by their kernel, so most buffers skip the memset ffi.new would do.
alloc_uninitialized = ffi.new_allocator(should_clear_after_alloc=False)
_alloc_zeroed = ffi.new_allocator()
# Buffers of BIG_BUFFER bytes or more come from csrc/buffers.c's cache, which keeps freed ones: a new
# megabyte-sized tensor would otherwise page-fault every page in again (see there).
BIG_BUFFER = 1 << 18
_alloc_big = ffi.new_allocator(alloc=ffi.addressof(lib, "fg_buffer_alloc"), free=ffi.addressof(lib, "fg_buffer_free"),
                               should_clear_after_alloc=False)
_alloc_big_zeroed = ffi.new_allocator(alloc=ffi.addressof(lib, "fg_buffer_alloc"),
                                      free=ffi.addressof(lib, "fg_buffer_free"))


def new_buffer(dtype, numel, zeroed=False):
    """A C array of numel elements of dtype (zeroed or not) for a tensor of SMALL_ARRAY or more."""
    if numel * dtype.itemsize >= BIG_BUFFER:
        return (_alloc_big_zeroed if zeroed else _alloc_big)(dtype.carray, numel)
    return (_alloc_zeroed if zeroed else alloc_uninitialized)(dtype.carray, numel)
# Set by fastgrad.compile while it records a step: a zeroed buffer's memset is work a replay must
# redo, so the hook records it as a fill kernel call (zeroed_hook(buf, dtype, numel)).
zeroed_hook = None
# Set by fastgrad.compile while it records a step: host_read_hook(tensor, what) refuses a read of
# values the step computed, which a replay would freeze (the methods marked @_host_read).
host_read_hook = None


def _host_read(what):
    def mark(method):
        def read(self, *args, **kwargs):
            if host_read_hook is not None:
                host_read_hook(self, what)
            return method(self, *args, **kwargs)
        read.__name__, read.__qualname__, read.__doc__ = method.__name__, method.__qualname__, method.__doc__
        read.__wrapped__ = method   # (inspect.signature shows the method's own)
        return read
    return mark


def _checked_shape(shape, infer=False):
    """A shape given as ints or one tuple/list of ints, checked to be non-negative integers; with
    infer, one dimension may be -1 (reshape's "whatever is left")."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    for d in shape:
        if type(d) is not int and (not isinstance(d, numbers.Integral) or isinstance(d, bool)):   # ints first: ABC checks are slow
            raise TypeError(f"shape {tuple(shape)!r} must hold integers, got {type(d).__name__}")
        if d < 0 and not (infer and d == -1):
            raise ValueError(f"negative dimension {d} in shape {tuple(shape)}")
    if list(shape).count(-1) > 1:
        raise ValueError(f"only one dimension can be -1, got {tuple(shape)}")
    return tuple(int(d) for d in shape)


class Tensor:
    """Made by fg.tensor, zeros, ones, randn and the ops (empty() fills in a bare object.__new__(Tensor):
    an __init__ would cost every op a call). Tensor(...) itself is PyTorch's legacy constructor."""
    __slots__ = ("_buf", "_shape", "_dtype", "_numel", "_version", "requires_grad", "grad", "_op", "_derived",
                 "__weakref__")

    def __new__(cls, *args, **kwargs):
        """torch.Tensor(data) (a sequence or array, in the default float dtype), torch.Tensor(*sizes)
        (a tensor of that shape, zero-filled here), torch.Tensor() (empty); so are FloatTensor and
        the other typed ones with their dtype."""
        return _legacy_tensor(default_float(), args, kwargs)

    # ---- metadata: fixed at creation, read-only ---------------------------------------------------
    @property
    def shape(self):
        return Size(self._shape)   # (the library reads the plain tuple, _shape)

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return len(self._shape)

    def dim(self):
        return len(self._shape)

    ndimension = dim

    def size(self, dim=None):
        """The shape as an fg.Size (PyTorch's size()), or the length of dimension `dim`."""
        if dim is None:
            return Size(self._shape)
        return self._shape[_dim_index(dim, len(self._shape), "size")]

    def numel(self):
        return self._numel

    nelement = numel

    def is_floating_point(self):
        return self._dtype.is_floating_point

    @property
    def is_leaf(self):
        return self._op is None

    @property
    def grad_fn(self):
        return self._op

    # ---- device: fastgrad runs on the CPU --------------------------------------------------------
    @property
    def device(self):
        return _CPU

    is_cuda = False

    def cpu(self):
        return self

    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(device, dtype), to(other_tensor), with copy= and
        non_blocking= accepted as in PyTorch. Only the CPU exists; a new dtype is a cast."""
        dtype, copy = _to_arguments(args, kwargs)
        if dtype is None or dtype is self._dtype:
            return _cast(self, self._dtype) if copy else self
        return _cast(self, dtype)

    def type(self, dtype=None):
        """The dtype's name with no argument (PyTorch prints 'torch.FloatTensor'), else a cast to a
        dtype, a legacy type (fg.FloatTensor, ...) or its name ("torch.LongTensor")."""
        if dtype is None:
            return f"fastgrad.{self._dtype.name}"
        if isinstance(dtype, str) and dtype.rsplit(".", 1)[-1] in _LEGACY_TYPES:
            dtype = _LEGACY_TYPES[dtype.rsplit(".", 1)[-1]]
        return self.to(_LEGACY_TYPES.get(getattr(dtype, "__name__", None), dtype) if callable(dtype) else dtype)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int64)   # fastgrad has no int32: README, "Differences from PyTorch"

    def bool(self):
        return self.to(bool_)

    # ---- storage ---------------------------------------------------------------------------------
    @_host_read(".numpy()")
    def numpy(self):
        """A zero-copy numpy view of the buffer: writing to it writes to the tensor."""
        view = np.frombuffer(ffi.buffer(self._buf, self._numel * self._dtype.itemsize), self._dtype.np)
        return view.reshape(self._shape)

    @property
    def data(self):
        """The same storage, cut from the graph (PyTorch's .data): writes through it are not seen by
        autograd's in-place check, exactly as in PyTorch."""
        return _view(self, self._shape, False)

    @data.setter
    def data(self, other):
        """p.data = t: p now holds t's storage, shape and dtype, keeping its place in models and
        optimizers (which hold p itself)."""
        if not isinstance(other, Tensor):
            raise TypeError(f".data must be set to a fastgrad Tensor, got {type(other).__name__}")
        if self.requires_grad and not other._dtype.is_floating_point:
            raise TypeError(f".data of a tensor that requires grad must be floating point, got {other._dtype!r}")
        if other._version is None:
            other._version = [0, 0]
        self._buf, self._shape, self._dtype, self._numel = other._buf, other._shape, other._dtype, other._numel
        self._version = other._version
        _changes.changed()   # a captured plan holding the old buffer rechecks its guards

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) is the zero-copy view; np.array(t) (copy=True) a snapshot."""
        array = self.numpy()
        if dtype is not None and np.dtype(dtype) != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    # numpy operands on the left (np.float64(2) * t, array + t) defer to Tensor's reflected
    # operators instead of turning the tensor into an array and dropping the graph.
    __array_ufunc__ = None

    @_host_read(".item()")
    def item(self):
        if self._numel != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self._shape}")
        return self._dtype.python(self._buf[0])

    def _scalar(self, what):
        if self._numel != 1:
            raise ValueError(f"{what} of a tensor needs one element, got shape {self._shape}")
        return self._buf[0]

    @_host_read("float()")
    def __float__(self):
        return float(self._scalar("float()"))

    @_host_read("int()")
    def __int__(self):
        return int(self._scalar("int()"))

    @_host_read("bool()")
    def __bool__(self):
        if self._numel != 1:
            raise RuntimeError(f"the truth value of a tensor with {self._numel} elements is ambiguous; "
                               f"use .any() or .all()")
        return bool(self._buf[0])

    @_host_read("use as an index")
    def __index__(self):
        if self._dtype.is_floating_point or self._numel != 1:
            raise TypeError(f"only integer tensors of one element can be used as an index, got "
                            f"{self._dtype!r} of shape {self._shape}")
        return int(self._buf[0])

    @_host_read("formatting")
    def __format__(self, spec):
        if self._numel == 1 and (spec or not self._shape):   # f"{t}" of a 0-d tensor is its number, as in PyTorch
            return format(self.item(), spec)
        return format(repr(self), spec)

    __hash__ = object.__hash__   # by identity, as in PyTorch, also once == compares elements

    def __reduce__(self):
        """Pickle and copy.deepcopy: the values, dtype and requires_grad (a leaf's .grad too), as
        PyTorch keeps them; the graph is not pickled."""
        grad = self.grad if self._op is None else None
        return (_unpickle, (self.numpy().copy(), self._dtype, self.requires_grad, grad))

    def __deepcopy__(self, memo):
        if self._op is not None:
            raise RuntimeError("only leaf tensors (made by the user, not by an op) support deepcopy, as in PyTorch")
        grad = self.grad.__deepcopy__(memo) if self.grad is not None else None
        out = tensor(self, dtype=self._dtype, requires_grad=self.requires_grad)
        out.grad = grad
        memo[id(self)] = out
        return out

    @_host_read(".tolist()")
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

    @_host_read(".get()")
    def get(self, i, j):
        return self._dtype.python(self._buf[self._flat_index(i, j)])

    def set(self, i, j, value):
        self._buf[self._flat_index(i, j)] = self._dtype.python(value)

    @_host_read("printing")
    def __repr__(self):
        values = self.numpy()
        body = np.array2string(values, separator=", ", prefix="tensor(", floatmode=_torch_float_mode(values),
                               **PRINT_OPTIONS)
        shown = (default_float(), int64, bool_)   # PyTorch leaves these dtypes unnamed
        extra = f", dtype={self._dtype!r}" if all(self._dtype is not d for d in shown) else ""
        if self._op is not None and self.requires_grad:   # PyTorch names the node, not the flag
            extra += f", grad_fn=<{type(self._op).__name__}Backward0>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    # ---- autograd --------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulates d(self)/d(leaf) * gradient into every leaf's .grad that requires it (of `inputs`
        only, when given). `gradient` defaults to 1 for a one-element tensor and is required otherwise;
        see autograd.backward for retain_graph and create_graph."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """The same storage, cut from the graph."""
        return _view(self, self._shape, False)

    def detach_(self):
        self._op = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if self._op is not None and not requires_grad:
            raise RuntimeError("requires_grad can only be cleared on a leaf tensor; use detach()")
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError(f"only floating-point tensors can require gradients, got {self._dtype!r}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad after backward (accumulating, as a leaf's)."""
        autograd.retain_grad(self)

    @property
    def retains_grad(self):
        return self._op is not None and autograd._retained.get(id(self)) is self

    def zero_grad(self):
        self.grad = None

    # ---- shape and movement: fastgrad/ops/shape.py ---------------------------------------------------
    # Views share the buffer (view, reshape, flatten, unflatten, squeeze, unsqueeze, contiguous); every
    # other movement copies into a new contiguous tensor (the storage model: fastgrad/__init__.py).
    def view(self, *shape):
        if len(shape) == 1 and type(shape[0]) is not int and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            raise TypeError(f"view() takes a shape; view(dtype), which reinterprets the bytes, is not supported "
                            f"(got {shape[0]!r}): convert with .to(dtype)")
        return _shape.view(self, shape)

    def view_as(self, other):
        return _shape.view(self, _shape.tensor_arg(other, "view_as", "other")._shape)

    def reshape_as(self, other):
        return _shape.view(self, _shape.tensor_arg(other, "reshape_as", "other")._shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _shape.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _shape.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return _shape.unsqueeze(self, dim)

    def contiguous(self, memory_format=None):
        return self   # every fastgrad tensor is contiguous

    def is_contiguous(self, memory_format=None):
        return True

    def stride(self, dim=None):
        """The row-major element strides (every fastgrad tensor is contiguous)."""
        strides = tuple(_shape.contiguous_strides(self._shape))
        return strides if dim is None else strides[_dim_index(dim, len(self._shape), "stride")]

    def clone(self, memory_format=None):
        return _shape.clone(self)

    def transpose(self, dim0, dim1):
        if len(self._shape) == 2 and dim0 in _MATRIX_DIMS and dim1 in _MATRIX_DIMS and (dim0 - dim1) % 2:
            return self.T   # a matrix's two dimensions swapped (weights in layers written out: the common case)
        return inplace.derived(_shape.transpose(_source(self), dim0, dim1), self,
                               lambda base, t: base.__setitem__(Ellipsis, t.transpose(dim0, dim1)))

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        dims = _one_or_many(dims)
        out = _shape.permute(_source(self), dims)
        inverse = sorted(range(len(dims)), key=lambda i: dims[i] % max(len(dims), 1))
        return inplace.derived(out, self, lambda base, t: base.__setitem__(Ellipsis, t.permute(inverse)))

    @property
    def mT(self):
        if len(self._shape) == 2:
            return self.T
        return inplace.derived(_shape.matrix_transpose(_source(self)), self, lambda base, t: base.__setitem__(Ellipsis, t.mT))

    def t(self):
        if len(self._shape) == 2:
            return self.T
        return inplace.derived(_shape.t(_source(self)), self, lambda base, t: base.__setitem__(Ellipsis, t.t()))

    def movedim(self, source, destination):
        return _shape.movedim(self, source, destination)

    moveaxis = movedim

    def expand(self, *sizes):
        return _shape.expand(self, sizes)

    def expand_as(self, other):
        return _shape.expand(self, _shape.tensor_arg(other, "expand_as", "other")._shape)

    def broadcast_to(self, size):
        return _shape.expand(self, tuple(size))

    def repeat(self, *sizes):
        return _shape.repeat(self, sizes)

    def narrow(self, dim, start, length):
        out = _shape.narrow(_source(self), dim, start, length)
        d = _dim_index(dim, len(self._shape), "narrow")
        first = start % self._shape[d] if start < 0 else start
        key = (slice(None),) * d + (slice(first, first + length),)
        return inplace.derived(out, self, lambda base, t: base.__setitem__(key, t))

    def split(self, split_size, dim=0):
        return _shape.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _shape.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return _shape.unbind(self, dim)

    def flip(self, *dims):
        return _shape.flip(self, _one_or_many(dims))

    def fliplr(self):
        return _shape.fliplr(self)

    def flipud(self):
        return _shape.flipud(self)

    def roll(self, shifts, dims=None):
        return _shape.roll(self, shifts, dims)

    def tril(self, diagonal=0):
        return _shape.triangle(self, False, diagonal)

    def triu(self, diagonal=0):
        return _shape.triangle(self, True, diagonal)

    def tril_(self, diagonal=0):
        return inplace.apply(self, lambda t: _shape.triangle(t, False, diagonal), "tril_")

    def triu_(self, diagonal=0):
        return inplace.apply(self, lambda t: _shape.triangle(t, True, diagonal), "triu_")
    # ---- end of shape and movement ----------------------------------------------------------------

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
        return _fn.neg(self)

    def __pos__(self):
        return self

    # ---- in place (fastgrad/inplace.py): a += b, add_, zero_, ... ------------------------------------
    def __iadd__(self, other):
        return inplace.binary(self, other, Add, "add_")

    def __isub__(self, other):
        return inplace.binary(self, other, Sub, "sub_")

    def __imul__(self, other):
        return inplace.binary(self, other, Mul, "mul_")

    def __itruediv__(self, other):
        return inplace.binary(self, other, Div, "div_")

    def add_(self, other, *deprecated, alpha=1):   # (deprecated: PyTorch's add_(alpha, other))
        if deprecated:
            (other,), alpha = _scalar_first("add_", "alpha", other, deprecated, 1, alpha)
        return inplace.binary(self, other, Add, "add_", alpha)

    def sub_(self, other, *deprecated, alpha=1):
        if deprecated:
            (other,), alpha = _scalar_first("sub_", "alpha", other, deprecated, 1, alpha)
        return inplace.binary(self, other, Sub, "sub_", alpha)

    def mul_(self, other):
        return inplace.binary(self, other, Mul, "mul_")

    def div_(self, other):
        return inplace.binary(self, other, Div, "div_")

    # arithmetic by name (functions.py): x.add(y, alpha=2), x.mul(0.5), x.div(y, rounding_mode="floor")
    def add(self, other, *deprecated, alpha=1): return _fn.add(self, other, *deprecated, alpha=alpha)
    def sub(self, other, *deprecated, alpha=1): return _fn.sub(self, other, *deprecated, alpha=alpha)
    def mul(self, other): return _fn.mul(self, other)
    def div(self, other, *, rounding_mode=None): return _fn.div(self, other, rounding_mode=rounding_mode)
    subtract, multiply, divide, true_divide = sub, mul, div, div
    def tan(self): return _fn.tan(self)
    def select(self, dim, index): return _fn.select(self, dim, index)

    def fill_diagonal_(self, fill_value, wrap=False):
        """The main diagonal (every index equal) set to fill_value, in place, as PyTorch: 2-D of any shape
        or all dimensions equal; wrap=True restarts it every cols + 1 rows of a tall matrix."""
        if self.dim() < 2:
            raise RuntimeError(f"fill_diagonal_: dimensions must be larger than 1, got shape {self._shape}")
        if self.dim() > 2 and len(set(self._shape)) != 1:
            raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, got {self._shape}")
        step = sum(math.prod(self._shape[d + 1:]) for d in range(self.dim()))   # one step along every dim
        end = self._numel if wrap and self.dim() == 2 else min(self._shape) * step
        mask = np.zeros(self._numel, dtype=bool)   # which elements: a constant of the shape, not of the values
        mask[0:end:step] = True
        return self.masked_fill_(tensor(mask.reshape(self._shape)), fill_value)

    def fill_(self, value):
        return inplace.fill(self, value)

    def zero_(self):
        return inplace.fill(self, 0)

    def copy_(self, src, non_blocking=False):
        return inplace.copy(self, src)

    # ---- the lead's block: sorting, other names of the matrix products, new_* constructors --------
    def sort(self, dim=-1, descending=False, stable=False): return _fn.sort(self, dim, descending, stable)
    def argsort(self, dim=-1, descending=False, stable=False): return _fn.argsort(self, dim, descending, stable)
    def topk(self, k, dim=-1, largest=True, sorted=True): return _fn.topk(self, k, dim, largest, sorted)
    def mm(self, mat2): return _fn.mm(self, mat2)
    def dot(self, other): return _fn.dot(self, other)
    def outer(self, vec2): return _fn.outer(self, vec2)
    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False): return _fn.isclose(self, other, rtol, atol, equal_nan)
    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False): return _fn.allclose(self, other, rtol, atol, equal_nan)
    def equal(self, other): return _fn.equal(self, other)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=self._dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)

    def new(self, *args, dtype=None, device=None, requires_grad=False):
        """The legacy Tensor.new that char-RNN and seq2seq code uses for hidden states
        (`weight.new(n_layers, batch, hidden).zero_()`): sizes (ints, or one tuple / fg.Size, as
        x.size() is a tuple here) give a zero-filled tensor of this dtype (PyTorch's is uninitialised);
        one list, tensor or array gives a tensor of this dtype from that data; no argument, an empty one."""
        dtype = self._dtype if dtype is None else dtype
        if len(args) == 1 and not isinstance(args[0], numbers.Integral) and not (
                isinstance(args[0], tuple) and all(isinstance(n, numbers.Integral) for n in args[0])):
            return tensor(args[0], dtype=dtype, device=device, requires_grad=requires_grad)
        return zeros(*(args or (0,)), dtype=dtype, device=device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return zeros(*size, dtype=self._dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return ones(*size, dtype=self._dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .creation import full
        return full(size, fill_value, dtype=self._dtype if dtype is None else dtype, device=device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import empty as new_empty
        return new_empty(*size, dtype=self._dtype if dtype is None else dtype, device=device,
                         requires_grad=requires_grad)

    def type_as(self, other):
        return self.to(other._dtype)

    def element_size(self):
        return self._dtype.itemsize

    def data_ptr(self):
        return int(ffi.cast("uintptr_t", self._buf))

    def cuda(self, *args, **kwargs):
        as_device("cuda")   # raises: fastgrad runs on the CPU

    def half(self):
        raise TypeError("half(): fastgrad has no float16 tensors (float32, float64, int64, bool)")

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return random.uniform_(self, a, b, generator)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return random.normal_(self, mean, std, generator)

    def __matmul__(self, other):
        return MatMul().forward(self, other)

    def __rmatmul__(self, other):
        return MatMul().forward(other, self)

    def matmul(self, other):
        return MatMul().forward(self, other)

    def bmm(self, other):
        return _matmul_ops.bmm(self, other)

    def mv(self, vec):
        return _einsum.mv(self, vec)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _einsum.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def relu(self):
        return ReLU().forward(self)

    def tanh(self):
        return Tanh().forward(self)

    def sigmoid(self):
        return Sigmoid().forward(self)

    # in place, as PyTorch's relu_() and nn.ReLU(inplace=True): computed, then written back (inplace.apply)
    def relu_(self): return inplace.apply(self, Tensor.relu, "relu_")
    def tanh_(self): return inplace.apply(self, Tensor.tanh, "tanh_")
    def sigmoid_(self): return inplace.apply(self, Tensor.sigmoid, "sigmoid_")
    def exp_(self): return inplace.apply(self, Tensor.exp, "exp_")
    def neg_(self): return inplace.apply(self, Tensor.__neg__, "neg_")
    def abs_(self): return inplace.apply(self, Tensor.abs, "abs_")
    def sqrt_(self): return inplace.apply(self, Tensor.sqrt, "sqrt_")
    def clamp_min(self, min): return self.clamp(min=min)  # noqa: A002
    def clamp_max(self, max): return self.clamp(max=max)  # noqa: A002

    def softmax(self, dim=-1, dtype=None):
        return _fn.softmax(self, dim, dtype)

    def log_softmax(self, dim=-1, dtype=None):
        return _fn.log_softmax(self, dim, dtype)

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return Sum(dim, keepdim).forward(self if dtype is None else self.to(dtype))

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return Sum(dim, keepdim, mean=True).forward(self if dtype is None else self.to(dtype))

    @property
    def T(self):   # all dimensions reversed, as in PyTorch (its own inverse)
        out = (_shape.Transpose().forward(_source(self)) if len(self._shape) > 1
               else _shape.permute(_source(self), tuple(range(self.ndim - 1, -1, -1))))   # (0-D, 1-D: a view)
        return inplace.derived(out, self, _write_back_T)

    def reshape(self, *shape):
        return Reshape(shape).forward(self)

    # ---- math, comparisons, selection, reductions (the math helper; fastgrad/functions.py) -----------
    # Each method is its module-level function's (fg.exp(x) is x.exp()); the work is in ops/.
    def exp(self): return _fn.exp(self)
    def exp2(self): return _fn.exp2(self)
    def expm1(self): return _fn.expm1(self)
    def log(self): return _fn.log(self)
    def log2(self): return _fn.log2(self)
    def log10(self): return _fn.log10(self)
    def log1p(self): return _fn.log1p(self)
    def sqrt(self): return _fn.sqrt(self)
    def rsqrt(self): return _fn.rsqrt(self)
    def abs(self): return _fn.abs(self)
    __abs__ = absolute = abs
    def neg(self): return _fn.neg(self)
    negative = neg
    def sign(self): return _fn.sign(self)
    def square(self): return _fn.square(self)
    def sin(self): return _fn.sin(self)
    def cos(self): return _fn.cos(self)
    def reciprocal(self): return _fn.reciprocal(self)
    def floor(self): return _fn.floor(self)
    def ceil(self): return _fn.ceil(self)
    def round(self, decimals=0): return _fn.round(self, decimals)
    __round__ = round
    def trunc(self): return _fn.trunc(self)
    def pow(self, exponent): return _fn.pow(self, exponent)
    def __pow__(self, exponent): return Pow().forward(self, exponent)
    def __rpow__(self, base): return Pow().forward(base, self)
    def maximum(self, other): return _fn.maximum(self, other)
    def minimum(self, other): return _fn.minimum(self, other)
    def clamp(self, min=None, max=None): return _fn.clamp(self, min, max)  # noqa: A002
    clip = clamp
    def clamp_(self, min=None, max=None): return _fn.clamp_(self, min, max)  # noqa: A002
    clip_ = clamp_
    # erf and friends, lerp, addcmul, addcdiv, nan_to_num, logaddexp (fastgrad/pointwise.py)
    def erf(self): return _pw.erf(self)
    def erfc(self): return _pw.erfc(self)
    def erfinv(self): return _pw.erfinv(self)
    def erf_(self): return _pw.erf_(self)
    def erfc_(self): return _pw.erfc_(self)
    def erfinv_(self): return _pw.erfinv_(self)
    def lerp(self, end, weight): return _pw.lerp(self, end, weight)
    def lerp_(self, end, weight): return _pw.lerp_(self, end, weight)

    def addcmul(self, tensor1, tensor2, *deprecated, value=1):
        return _pw.addcmul(self, tensor1, tensor2, *deprecated, value=value)

    def addcmul_(self, tensor1, tensor2, *deprecated, value=1):
        return _pw.addcmul_(self, tensor1, tensor2, *deprecated, value=value)

    def addcdiv(self, tensor1, tensor2, *deprecated, value=1):
        return _pw.addcdiv(self, tensor1, tensor2, *deprecated, value=value)

    def addcdiv_(self, tensor1, tensor2, *deprecated, value=1):
        return _pw.addcdiv_(self, tensor1, tensor2, *deprecated, value=value)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None): return _pw.nan_to_num(self, nan, posinf, neginf)
    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None): return _pw.nan_to_num_(self, nan, posinf, neginf)
    def logaddexp(self, other): return _pw.logaddexp(self, other)

    def __eq__(self, other):
        # anything that is not a number or a tensor (None, a string) is simply unequal, as in PyTorch
        return _fn.eq(self, other) if isinstance(other, _COMPARABLE) else NotImplemented

    def __ne__(self, other):
        return _fn.ne(self, other) if isinstance(other, _COMPARABLE) else NotImplemented

    def __lt__(self, other): return _fn.lt(self, other)
    def __le__(self, other): return _fn.le(self, other)
    def __gt__(self, other): return _fn.gt(self, other)
    def __ge__(self, other): return _fn.ge(self, other)
    def eq(self, other): return _fn.eq(self, other)
    def ne(self, other): return _fn.ne(self, other)
    def lt(self, other): return _fn.lt(self, other)
    def le(self, other): return _fn.le(self, other)
    def gt(self, other): return _fn.gt(self, other)
    def ge(self, other): return _fn.ge(self, other)
    def __and__(self, other): return _bitwise("__and__", self, other)
    __rand__ = __and__
    def __or__(self, other): return _bitwise("__or__", self, other)
    __ror__ = __or__
    def __xor__(self, other): return _bitwise("__xor__", self, other)
    __rxor__ = __xor__
    def __invert__(self): return _bitwise("__invert__", self)
    def logical_and(self, other): return _fn.logical_and(self, other)
    def logical_or(self, other): return _fn.logical_or(self, other)
    def logical_xor(self, other): return _fn.logical_xor(self, other)
    def logical_not(self): return _fn.logical_not(self)
    def isnan(self): return _fn.isnan(self)
    def isinf(self): return _fn.isinf(self)
    def isfinite(self): return _fn.isfinite(self)
    def where(self, condition, other): return _fn.where(condition, self, other)
    def masked_fill(self, mask, value): return _fn.masked_fill(self, mask, value)
    def masked_fill_(self, mask, value): return _fn.masked_fill_(self, mask, value)
    def any(self, dim=None, keepdim=False): return _fn.any(self, dim, keepdim)
    def all(self, dim=None, keepdim=False): return _fn.all(self, dim, keepdim)
    def prod(self, dim=None, keepdim=False, *, dtype=None): return _fn.prod(self, dim, keepdim, dtype=dtype)
    def max(self, dim=None, keepdim=False): return _fn.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return _fn.min(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return _fn.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return _fn.argmin(self, dim, keepdim)
    def amax(self, dim=(), keepdim=False): return _fn.amax(self, dim, keepdim)
    def amin(self, dim=(), keepdim=False): return _fn.amin(self, dim, keepdim)
    def logsumexp(self, dim, keepdim=False): return _fn.logsumexp(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _fn.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return _fn.std(self, dim, unbiased, keepdim, correction=correction)

    def cumsum(self, dim, *, dtype=None): return _fn.cumsum(self, dim, dtype=dtype)
    def norm(self, p="fro", dim=None, keepdim=False): return _fn.norm(self, p, dim, keepdim)
    # ---- end of the math helper's block --------------------------------------------------------------
    # ---- indexing (ops/index.py): t[key], t[key] = v, gather and scatter -------------------------------
    def __getitem__(self, key):
        if type(key) is int and self._shape and not (self.requires_grad and autograd.is_grad_enabled()):
            out = index_ops.row(self, key)   # t[i] of data: a Dataset's rows
        else:
            out = index_ops.getitem(_source(self), key)
            if not _is_basic_key(key):
                return out
        # a copy standing for PyTorch's view: in-place writes go back (inplace.derived)
        return inplace.derived(out, self, lambda base, t: base.__setitem__(key, t))

    def __setitem__(self, key, value):
        index_ops.setitem(self, key, value)

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._shape[0]))   # rows that write back, as PyTorch's views do

    def index_select(self, dim, index):
        return index_ops.index_select(self, dim, index)

    def gather(self, dim, index):
        return index_ops.gather(self, dim, index)

    def take(self, index):
        return index_ops.take(self, index)

    def masked_select(self, mask):
        return index_ops.masked_select(self, mask)

    def scatter_add(self, dim, index, src):
        return index_ops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return index_ops.scatter_add_(self, dim, index, src)

    def index_put_(self, indices, values, accumulate=False):
        return index_ops.index_put_(self, indices, values, accumulate)

    def nonzero(self, as_tuple=False):
        return index_ops.nonzero(self, as_tuple)
    # ---- end of indexing -----------------------------------------------------------------------------

    # ---- DLPack: np.from_dlpack(t), torch.from_dlpack(t) share this buffer (fastgrad/interop.py) ---
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return interop.to_dlpack(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        return (1, 0)   # (kDLCPU, device 0)

    # ---- tensor functions composed from existing ops (fastgrad/tensor_functions.py) ----------------
    def diag(self, diagonal=0): return _tf.diag(self, diagonal)
    def diagonal(self, offset=0, dim1=0, dim2=1): return _tf.diagonal(self, offset, dim1, dim2)
    def trace(self): return _tf.trace(self)
    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _tf.repeat_interleave(self, repeats, dim, output_size=output_size)
    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        return _tf.scatter(self, dim, index, src, value, reduce=reduce)
    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return _tf.scatter_(self, dim, index, src, value, reduce=reduce)
    def index_add(self, dim, index, source, *, alpha=1): return _tf.index_add(self, dim, index, source, alpha=alpha)
    def index_add_(self, dim, index, source, *, alpha=1): return _tf.index_add_(self, dim, index, source, alpha=alpha)
    def bernoulli(self, p=None, *, generator=None): return _tf.bernoulli(self, p, generator=generator)
    def bernoulli_(self, p=0.5, *, generator=None): return _tf.bernoulli_(self, p, generator=generator)
    def cumprod(self, dim, *, dtype=None): return _tf.cumprod(self, dim, dtype=dtype)
    def kron(self, other): return _tf.kron(self, other)
    def median(self, dim=None, keepdim=False): return _tf.median(self, dim, keepdim)
    def cross(self, other, dim=None): return _tf.cross(self, other, dim)
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        return _tf.unique(self, sorted, return_inverse, return_counts, dim)

    # ---- linear algebra (fastgrad/linalg.py): the Tensor forms of fg.det, fg.inverse, fg.svd, ... -----
    def det(self): return _la.det(self)
    def logdet(self): return _la.logdet(self)
    def slogdet(self): return _la.slogdet(self)
    def inverse(self): return _la.inv(self)
    def cholesky(self, upper=False): return _la.cholesky(self, upper=upper)
    def cholesky_solve(self, input2, upper=False): return _la.cholesky_solve(self, input2, upper)
    def cholesky_inverse(self, upper=False): return _la.cholesky_inverse(self, upper)
    def qr(self, some=True): return _la.legacy_qr(self, some)
    def svd(self, some=True, compute_uv=True): return _la.legacy_svd(self, some, compute_uv)
    def pinverse(self, rcond=1e-15): return _la.pinverse(self, rcond)
    def matrix_power(self, n): return _la.matrix_power(self, n)
    def matrix_exp(self): return _la.matrix_exp(self)
    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        return _la.triangular_solve(self, A, upper, transpose, unitriangular)
    def lu(self, pivot=True, get_infos=False): return _la.legacy_lu(self, pivot, get_infos)
    def lu_solve(self, LU_data, LU_pivots): return _la.legacy_lu_solve(self, LU_data, LU_pivots)


def empty(shape, dtype, numel=None, zeroed=False, buf=None):
    """A new tensor over `buf` (another tensor's, for a view) or over a new buffer, uninitialised
    unless zeroed (kernels overwrite their outputs). Every tensor is made here (Add, Sub, Mul and Div
    write it out in line for tensors of one shape): it is the hot path of every op, hence one flat
    function."""
    if numel is None:
        numel = math.prod(shape)
    if buf is None:
        try:
            buf = (_alloc_zeroed if zeroed else alloc_uninitialized)(dtype.small_carrays[numel]) \
                if numel < SMALL_ARRAY else new_buffer(dtype, numel, zeroed)
        except (MemoryError, OverflowError):   # cffi would say only "MemoryError" or "overflow a Py_ssize_t"
            raise out_of_memory(shape, dtype, numel) from None
        if zeroed and zeroed_hook is not None:
            zeroed_hook(buf, dtype, numel)
    t = _bare(Tensor)
    t._shape = shape
    t._dtype = dtype
    t._numel = numel
    t._buf = buf
    t._version = None
    t.requires_grad = False
    t.grad = None
    t._op = None
    t._derived = None   # (base, write) for a copy standing for a view: inplace.derived
    return t


_bare = object.__new__   # a Tensor with nothing set: empty() fills it in


def FloatTensor(*args, **kwargs):
    return _legacy_tensor(float32, args, kwargs)


def DoubleTensor(*args, **kwargs):
    return _legacy_tensor(float64, args, kwargs)


def LongTensor(*args, **kwargs):
    return _legacy_tensor(int64, args, kwargs)


def BoolTensor(*args, **kwargs):
    return _legacy_tensor(bool_, args, kwargs)


def _torch_float_mode(values):
    """numpy's floatmode for PyTorch's float formatting: every value with `precision` digits
    ("1.5000"), except tensors whose finite values are all integers, printed "1., 2." unless they
    need scientific notation (PyTorch's _Formatter, whose scientific rule is numpy's)."""
    if values.dtype.kind != "f":
        return "maxprec"
    finite = np.abs(values[np.isfinite(values)])
    nonzero = finite[finite != 0]
    if finite.size == 0 or not np.all(np.ceil(finite) == finite):
        return "fixed"
    if nonzero.size and (nonzero.max() >= 1e8 or nonzero.max() / nonzero.min() > 1000.0) \
            and not PRINT_OPTIONS.get("suppress_small"):
        return "fixed"
    return "maxprec"


# fastgrad.set_printoptions: numpy.array2string's precision, threshold, edgeitems, max_line_width, suppress_small;
# PyTorch's default profile to start with (4 digits)
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80}
_LEGACY_TYPES = {"FloatTensor": float32, "DoubleTensor": float64, "LongTensor": int64, "BoolTensor": bool_}


class Size(tuple):
    """torch.Size, what .shape and .size() give: a tuple of dimensions, equal to the plain tuple, with
    numel(). Unlike torch.Size, a slice of one is a plain tuple (indexing stays tuple's, at C speed),
    and str() (print, f-strings: the error messages) shows it as one, (2, 3); repr() as fg.Size."""
    __slots__ = ()
    __str__ = tuple.__repr__

    def numel(self):
        return math.prod(self)

    def __repr__(self):
        return f"fastgrad.Size({list(self)})"


def _legacy_tensor(dtype, args, kwargs):
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
    if device is not None:
        as_device(device)
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return zeros(*args, dtype=dtype) if args else zeros(0, dtype=dtype)   # (sizes; () is empty)
    if len(args) == 1:
        return tensor(args[0], dtype=dtype)
    raise TypeError(f"Tensor(): expects sizes or one sequence of data, got {args!r}")


def out_of_memory(shape, dtype, numel):
    return MemoryError(f"cannot allocate a {dtype.name} tensor of shape {tuple(shape)}: {numel * dtype.itemsize} bytes")


def _view(t, shape, requires_grad):
    """Another tensor over the same buffer (reshape, detach, .data), sharing its in-place marker."""
    view = empty(shape, t._dtype, t._numel, buf=t._buf)
    if t._version is None:
        t._version = [0, 0]
    view._version = t._version
    view.requires_grad = bool(requires_grad)
    return view


_MATRIX_DIMS = (0, 1, -1, -2)


def _to_arguments(args, kwargs):
    """(dtype or None, copy) from the arguments of Tensor.to and Module.to: to(dtype), to(device),
    to(device, dtype), to(other_tensor), dtype=, device=, copy=, non_blocking=, memory_format=. The
    device must be the CPU (as_device raises otherwise)."""
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a._dtype
        elif isinstance(a, (str, Device)) and not (isinstance(a, str) and a in _dtype_names):
            device = a
        else:
            dtype = a
    if device is not None:
        as_device(device)
    return (None if dtype is None else as_dtype(dtype)), copy


def _write_back_T(base, t):
    base[...] = t.T   # (a named function: a lambda per call costs as much as the rest of .T)


def _source(t):
    """What an indexing or movement op records as its input: a non-leaf that records a graph is
    passed as an alias of its current node, so that if t later takes over an in-place node (a write
    through the result, or t[idx] += v), the op still backpropagates into the node it read."""
    if t._op is not None and t.requires_grad and autograd.is_grad_enabled():
        return inplace._alias(t)
    return t


def _is_basic_key(key):
    """True for keys of ints, slices, None and ... only (PyTorch returns a view for those)."""
    if type(key) is Tensor:   # t[index]: no ABC checks
        return False
    for p in key if isinstance(key, tuple) else (key,):   # a loop, plain types first: t[:, :8] pays no ABC check
        if not (type(p) is slice or type(p) is int or p is None or p is Ellipsis
                or (isinstance(p, numbers.Integral) and not isinstance(p, bool))):
            return False
    return True


def _unpickle(array, dtype, requires_grad, grad):
    t = tensor(array, dtype=dtype, requires_grad=requires_grad)
    t.grad = grad
    return t


def _dim_index(dim, ndim, what):
    """dim as an index in [0, ndim), negative dims counting from the end; IndexError otherwise."""
    if type(dim) is not int and (not isinstance(dim, numbers.Integral) or isinstance(dim, bool)):   # ints first: ABC checks are slow
        raise TypeError(f"{what}: dim must be an integer, got {type(dim).__name__}")
    n = ndim or 1
    if not -n <= dim < n:
        raise IndexError(f"{what}: dimension {dim} is out of range for a tensor of {ndim} dimensions")
    return int(dim) % n


def _one_or_many(args):
    """permute(2, 0, 1) and permute((2, 0, 1)) alike: the ints of *args, or its one tuple/list."""
    return args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _as_array(data, dtype, requires_grad=False):
    """numpy's reading of `data` and the fastgrad dtype it becomes: the given one, else PyTorch's
    default for the data (Python ints int64, bools bool, floats float32; numpy float64 float32 too).
    Integer data with requires_grad=True and no dtype becomes float32, so the tutorial's
    fg.tensor([[6, 5, 4]], requires_grad=True) works."""
    if isinstance(data, Tensor):
        data = data.numpy()
    try:
        array = np.asarray(data)
    except ValueError as e:   # numpy refuses ragged nested lists
        raise ValueError(f"cannot make a tensor from ragged nested sequences: {e}") from None
    except OverflowError:
        raise OverflowError("cannot make a tensor: an integer in the data does not fit int64") from None
    if array.dtype == object:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flatten(data)):
            array = np.asarray([_to_plain(x) for x in data])   # a list of one-element (or equal-shape) tensors
        if array.dtype == object:
            raise TypeError(f"cannot make a tensor from {type(data).__name__} holding non-numeric or ragged data")
    array = numeric_array(array, "cannot make a tensor from this data")
    if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise OverflowError(f"cannot make a tensor: value {array.max()} does not fit int64")
    if dtype is None:
        target = dtype_of_array(array)
        if requires_grad and not target.is_floating_point:
            target = default_float()
    else:
        target = as_dtype(dtype)
        if requires_grad and not target.is_floating_point:
            raise RuntimeError(f"only floating-point tensors can require gradients, got dtype {target!r}")
    if target is int64 and array.dtype.kind == "f" and array.size and not np.all(np.isfinite(array)):
        raise ValueError("cannot convert NaN or infinite values to an int64 tensor")
    return array.astype(target.np, copy=False), target


def _flatten(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flatten(x)
        else:
            yield x


def _to_plain(x):
    if isinstance(x, Tensor):
        return x.numpy()
    if isinstance(x, (list, tuple)):
        return [_to_plain(v) for v in x]
    return x


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data`: nested lists, scalars, numpy arrays or tensors.
    dtype defaults as in PyTorch (ints int64, bools bool, floats float32, also numpy float64 arrays:
    pass fg.float64 to keep double precision)."""
    if device is not None:
        as_device(device)
    array, dtype = _as_array(data, dtype, requires_grad)
    t = empty(array.shape, dtype, array.size)
    if t._numel:
        t.numpy()[...] = array
    t.requires_grad = bool(requires_grad)
    return t


def scalar(value, dtype):
    """A 0-d tensor of `dtype` holding a Python number: the other operand of `t + 1`."""
    t = empty((), dtype, 1)
    t._buf[0] = value
    return t


def _filled(shape, dtype, value, requires_grad, device):
    if device is not None:
        as_device(device)
    dtype = as_dtype(dtype)
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError(f"only floating-point tensors can require gradients, got dtype {dtype!r}")
    t = empty(_checked_shape(shape), dtype, zeroed=value == 0)
    if value != 0:
        fill(t, value)
    t.requires_grad = bool(requires_grad)
    return t


def fill(t, value):
    """Every element of t set to value, by the one fill kernel."""
    if t._dtype.is_floating_point:
        kernels.fill(t._buf, t._dtype.code, value, 0, t._numel)
    else:
        kernels.fill(t._buf, t._dtype.code, 0.0, int(value), t._numel)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(size_arg(shape, size, "zeros"), default_float() if dtype is None else dtype, 0, requires_grad, device)


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False):
    return _filled(size_arg(shape, size, "ones"), default_float() if dtype is None else dtype, 1, requires_grad, device)


def size_arg(shape, size, name):
    """The shape given as sizes (zeros(2, 3), zeros((2, 3))) or as the keyword size=(2, 3)."""
    if size is None:
        return shape
    if shape:
        raise TypeError(f"{name}() got the shape both as sizes {shape} and as size={size!r}")
    return (size,)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    if dtype is None and not requires_grad and device is None:
        return empty(t._shape, t._dtype, t._numel, zeroed=True)
    return zeros(t._shape, dtype=t._dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t._shape, dtype=t._dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def _cast(t, dtype):
    """t converted to dtype; recorded for autograd between float types (PyTorch's .double())."""
    return Cast(dtype).forward(t)


# ---- devices: fastgrad runs on the CPU, and ported programs name it ----------------------------------
class Device:
    """fg.device("cpu"): what PyTorch programs pass around as `device`. Only the CPU exists."""
    __slots__ = ()
    type = "cpu"
    index = None

    def __new__(cls, spec="cpu", index=None):
        as_device(spec)
        return _CPU if "_CPU" in globals() else object.__new__(cls)

    def __repr__(self):
        return "device(type='cpu')"

    def __str__(self):
        return "cpu"

    def __eq__(self, other):
        return isinstance(other, Device) or other == "cpu"

    __hash__ = object.__hash__


def as_device(spec):
    """Checks that `spec` names the CPU ("cpu", "cpu:0", fg.device("cpu")); anything else is an error."""
    if isinstance(spec, Device):
        return spec
    name = spec if isinstance(spec, str) else None
    if name is not None and name.split(":")[0] == "cpu":
        return None
    raise RuntimeError(f"fastgrad runs on the CPU only; got device {spec!r} (fg.cuda.is_available() is False)")


_CPU = Device("cpu")
_dtype_names = {"float32", "float64", "int64", "bool", "float", "double", "long"}


_rng = np.random.default_rng(67280421310721)   # random.DEFAULT_SEED: runs that never seed repeat


def seed_host_generator(seed):
    """fg.manual_seed's part for host-side choices (a DataLoader's shuffle order)."""
    global _rng
    _rng = np.random.default_rng(seed)


def generator():
    """The numpy Generator behind fastgrad's host-side random choices (shuffle orders), seeded by
    fg.manual_seed. Tensor contents are drawn by C kernels instead (fastgrad/random.py)."""
    return _rng


# Operators dispatch to the ops, which are built on Tensor: import them once Tensor exists.
from . import autograd, inplace, interop, random  # noqa: E402
from .ops import matmul as _matmul_ops  # noqa: E402
from . import einsum as _einsum  # noqa: E402
from .ops import Add, Cast, Div, MatMul, Mul, ReLU, Reshape, Sigmoid, Sub, Sum, Tanh  # noqa: E402
from .ops import shape as _shape  # noqa: E402
# the math helper's methods
from . import functions as _fn  # noqa: E402
from . import pointwise as _pw  # noqa: E402
from .ops.compare import bitwise as _bitwise  # noqa: E402
from .ops.elementwise import Pow  # noqa: E402
from .ops._checks import scalar_first as _scalar_first  # noqa: E402
_COMPARABLE = (Tensor, numbers.Number, np.ndarray, np.generic, list, tuple)
from .ops import index as index_ops  # noqa: E402
from . import tensor_functions as _tf  # noqa: E402
from . import linalg as _la  # noqa: E402


# ---- tensor hooks (fastgrad/tensor_hooks.py) ---------------------------------------------------------
def _register_hook(self, hook):
    """Calls hook(grad) with this tensor's gradient during backward; a tensor it returns replaces the
    gradient. Returns a handle whose remove() takes the hook off (PyTorch's register_hook)."""
    return _tensor_hooks.register(self, hook)


Tensor.register_hook = _register_hook
from . import tensor_hooks as _tensor_hooks  # noqa: E402


# ---- more math methods (fastgrad/api_more.py) ------------------------------------------------------------
def _more_methods():
    from . import api_more as m
    methods = {name: getattr(m, name) for name in ("atan2", "arctan2", "hypot", "fmod", "remainder", "floor_divide",
                                                   "atan2_", "hypot_", "fmod_", "remainder_", "floor_divide_")}
    methods.update(arctan2_=m.atan2_, __mod__=m.remainder, __floordiv__=m.floor_divide, __imod__=m.remainder_,
                   __ifloordiv__=m.floor_divide_, __rmod__=lambda self, other: m.remainder(other, self),
                   __rfloordiv__=lambda self, other: m.floor_divide(other, self))
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_more_methods()


def _utility_methods():
    from . import api_more as m
    for name in ("count_nonzero", "argwhere", "nansum", "nanmean", "aminmax", "diff", "baddbmm", "addbmm", "addmv"):
        setattr(Tensor, name, getattr(m, name))
    Tensor.tile = lambda self, *dims: m.tile(self, _one_or_many(dims))


_utility_methods()


def _unary_methods():
    from . import api_more as m
    for name in ("frac", "fix", "positive", "signbit", "bitwise_not"):
        setattr(Tensor, name, getattr(m, name))
    for name, fn in m.IN_PLACE.items():
        setattr(Tensor, name, fn)


_unary_methods()


def _ported_methods():
    from . import api_ported as m
    Tensor.unfold = m.unfold
    Tensor.tensor_split = m.tensor_split
    Tensor.xlogy, Tensor.logit, Tensor.bincount = m.xlogy, m.logit, m.bincount
    Tensor.nbytes = property(lambda self: self._numel * self._dtype.itemsize)
    Tensor.itemsize = property(lambda self: self._dtype.itemsize)


_ported_methods()


def _index_more_methods():
    """scatter_reduce, index_copy/fill/reduce, the scans, quantile, in-place shape methods and draws, ...
    (fastgrad/index_more.py)."""
    from . import index_more as m
    for name in m.METHODS:
        setattr(Tensor, name, getattr(m, name))


_index_more_methods()

# ---- more elementwise math, its other names and in-place forms, << and >> (fastgrad/math_more.py); methods of
# the top-level helpers (fastgrad/toplevel.py: is_signed, hsplit, ...) ------------------------------------------------
def _math_more_methods():
    from . import math_more, toplevel
    for name, fn in {**math_more.METHODS, **toplevel.METHODS}.items():
        setattr(Tensor, name, fn)
    math_more.alias_methods(Tensor)


_math_more_methods()

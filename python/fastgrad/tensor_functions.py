"""Tensor functions PyTorch programs use, built from existing ops (no new kernels): diag, diagonal,
trace, tril/triu_indices, meshgrid, repeat_interleave, scatter, index_add, bernoulli, cumprod,
logspace, kron, cdist, cosine_similarity, pairwise_distance, median, cross, unique.

Each is a composition of ops that already have kernels and gradients (strided selections, gathers,
scatters, products, norms, sort), so each records its gradient and replays in a captured step
with no glue. Python only decides shapes, offsets and index arrays from shapes (or from an index
tensor's values, as gather does). unique() is the exception: a host op (its result's size depends
on the values), as in PyTorch, where it synchronises too.
"""
import collections
import numbers
import warnings

import numpy as np

from . import autograd
from .dtypes import as_dtype, bool_, default_float, float32, float64, int64
from .ops import index as _index
from .ops._checks import cast_to
from .ops.index import Index, IndexPut, ScatterAdd, Selection, add_selected_
from .tensor import Tensor, _dim_index, ones, tensor, zeros


def _tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a fastgrad Tensor, got {type(x).__name__}")
    return x


def _int(x, op, name):
    if not isinstance(x, numbers.Integral) or isinstance(x, bool):
        raise TypeError(f"{op}: {name} must be an int, got {x!r}")
    return int(x)


# ---- diagonals: one strided selection (Index reads it, IndexPut writes it; both have gradients) ----
def _diagonal_selection(shape, offset, d1, d2):
    """Where diagonal `offset` of dims d1, d2 lies in a contiguous tensor of `shape`: the other dims
    in order, then the diagonal (its stride is the sum of the two)."""
    strides = _index._contiguous(shape)
    rows, cols = shape[d1], shape[d2]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    start = 0 if length == 0 else (offset * strides[d2] if offset >= 0 else -offset * strides[d1])
    keep = [d for d in range(len(shape)) if d not in (d1, d2)]
    return Selection(tuple(shape[d] for d in keep) + (length,), offset=start,
                     strides=[strides[d] for d in keep] + [strides[d1] + strides[d2]])


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal `offset` (> 0 above, < 0 below the main one) of dims dim1 and dim2, as the last
    dimension of the result (PyTorch's view; a copy here)."""
    _tensor(input, "diagonal")
    offset = _int(offset, "diagonal", "offset")
    if input.ndim < 2:
        raise ValueError(f"diagonal: the input must have at least 2 dimensions, got shape {input.shape}")
    d1, d2 = _dim_index(dim1, input.ndim, "diagonal"), _dim_index(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, both are {d1}")
    return Index(_diagonal_selection(input._shape, offset, d1, d2)).forward(input)


def diag(input, diagonal=0):
    """1-D input: the square matrix with input on diagonal `diagonal`; 2-D input: that diagonal."""
    _tensor(input, "diag")
    k = _int(diagonal, "diag", "diagonal")
    if input.ndim == 2:
        return globals()["diagonal"](input, k)
    if input.ndim != 1:
        raise ValueError(f"diag: the input must be 1-D or 2-D, got shape {input.shape}")
    m = input._shape[0] + abs(k)
    return IndexPut(_diagonal_selection((m, m), k, 0, 1)).forward(zeros((m, m), dtype=input._dtype), input)


def trace(input):
    """The sum of a matrix's main diagonal."""
    _tensor(input, "trace")
    if input.ndim != 2:
        raise ValueError(f"trace: expects a matrix, got shape {input.shape}")
    return diagonal(input).sum()


def _triangle_indices(row, col, offset, dtype, device, op, which):
    row, col, offset = _int(row, op, "row"), _int(col, op, "col"), _int(offset, op, "offset")
    if row < 0 or col < 0:
        raise ValueError(f"{op}: row and col must be >= 0, got {row} and {col}")
    dtype = int64 if dtype is None else as_dtype(dtype)
    if dtype.is_floating_point or dtype is bool_:
        raise TypeError(f"{op}: dtype must be an integer type, got {dtype!r}")
    r, c = which(row, offset, col)   # numbers made from the sizes only, in row-major order
    return tensor(np.stack([r, c]).astype(np.int64).reshape(2, -1), dtype=dtype, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the lower triangle of a row x col matrix, as a 2 x N tensor."""
    return _triangle_indices(row, col, offset, dtype, device, "tril_indices", np.tril_indices)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, column) indices of the upper triangle of a row x col matrix, as a 2 x N tensor."""
    return _triangle_indices(row, col, offset, dtype, device, "triu_indices", np.triu_indices)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: out[i] varies along dim i ('ij', the default) or, with
    'xy', the first two grids swap their dims (Cartesian, as numpy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ValueError("meshgrid: expects at least one tensor")
    for i, t in enumerate(tensors):
        _tensor(t, "meshgrid", f"tensor {i}")
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-D or 1-D tensors, tensor {i} has shape {t.shape}")
        if t._dtype is not tensors[0]._dtype:
            raise TypeError(f"meshgrid: all tensors must have one dtype, got {tensors[0]._dtype!r} and {t._dtype!r}")
    sizes = [t._numel for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[d] for d in order)
    out = []
    for i, t in enumerate(tensors):
        at = order.index(i)
        view = t.reshape(tuple(sizes[i] if d == at else 1 for d in range(len(shape))))
        out.append(view.expand(*shape))
    return tuple(out)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along dim) repeated `repeats` times in place: an int, or one count per
    element (a tensor or list); without dim the input is flattened. repeat_interleave(counts) alone
    repeats the indices 0..n-1."""
    if repeats is None:   # repeat_interleave(repeats): the indices, each repeated
        counts = _tensor(input, "repeat_interleave", "repeats")
        return repeat_interleave(_index_range(counts._numel), counts, output_size=output_size)
    _tensor(input, "repeat_interleave")
    if dim is None:
        input, dim = input.reshape(-1), 0
    dim = _dim_index(dim, input.ndim, "repeat_interleave")
    n = input._shape[dim] if input.ndim else 1
    if isinstance(repeats, numbers.Integral) and not isinstance(repeats, bool):
        counts = np.full(n, int(repeats), dtype=np.int64)
    else:
        counts = _index._long_index(repeats, "repeat_interleave", "repeats")
        if counts.ndim > 1:
            raise ValueError(f"repeat_interleave: repeats must be 0-D or 1-D, got shape {counts.shape}")
        counts = counts.reshape(-1)
        if counts.size == 1:
            counts = np.full(n, counts[0], dtype=np.int64)
        elif counts.size != n:
            raise ValueError(f"repeat_interleave: repeats has {counts.size} counts, dimension {dim} of the input "
                             f"has {n} elements")
    if (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be >= 0, got {int(counts[counts < 0][0])}")
    if output_size is not None and output_size != int(counts.sum()):
        raise ValueError(f"repeat_interleave: output_size={output_size}, but the repeats add up to {int(counts.sum())}")
    if input.ndim == 0:
        input = input.reshape(1)
    return _index.index_select(input, dim, np.repeat(np.arange(n, dtype=np.int64), counts))


def _index_range(n):
    from .creation import arange
    return arange(n)


# ---- scatter and index_add: the selections gather and scatter_add use ----------------------------
def _scatter_args(input, dim, index, src, op):
    _tensor(input, op)
    dim = _dim_index(dim, input.ndim, op)
    index = _index._long_index(index, op)
    if isinstance(src, Tensor):
        if src._dtype is not input._dtype:
            raise TypeError(f"{op}: src has dtype {src._dtype!r}, the input {input._dtype!r}; they must match")
        src = _index.src_for_index(src, index, op)
    elif isinstance(src, numbers.Number) and not isinstance(src, complex):
        src = _index._value(src, input._dtype, op)   # a 0-dim tensor, broadcast to every selected element
    else:
        raise TypeError(f"{op}: src must be a Tensor or a number, got {type(src).__name__}")
    offsets = _index._along_dim_offsets(input._shape, dim, index, op)
    return Selection(index.shape, offsets=offsets.reshape(-1)), src


def _src_or_value(src, value, reduce, op):
    if reduce is not None:
        raise NotImplementedError(f"{op}: reduce={reduce!r} is not supported (use scatter_add for 'add')")
    if (src is None) == (value is None):
        raise TypeError(f"{op}: give src (a tensor) or value (a number), exactly one")
    return src if src is not None else value


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """input with out[...index[i][j]...][j] = src[i][j] along dim (src a tensor or a number);
    which of duplicate indices wins is unspecified, as in PyTorch. Backward: dinput is the gradient
    with zeros where written, dsrc = gradient.gather(dim, index)."""
    if reduce is not None:   # PyTorch's older scatter_reduce: 'add' or 'multiply' (index_more.py)
        from .index_more import scatter_with_reduce
        return scatter_with_reduce(input, dim, index, src, value, reduce, "scatter")
    sel, src = _scatter_args(input, dim, index, _src_or_value(src, value, reduce, "scatter"), "scatter")
    return IndexPut(sel).forward(input, src)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    """scatter in place, under inplace.py's rules (as t[...] = v)."""
    from . import inplace
    if reduce is not None:
        from .index_more import scatter_with_reduce
        return inplace.apply(input, lambda t: scatter_with_reduce(t, dim, index, src, value, reduce, "scatter_"),
                             "scatter_", src)
    sel, src = _scatter_args(input, dim, index, _src_or_value(src, value, reduce, "scatter_"), "scatter_")
    if inplace._recording(input, src):
        if input._op is None and input.requires_grad:
            raise RuntimeError(inplace._LEAF_ERROR.format(name="scatter_"))
        return inplace._take_over(input, IndexPut(sel).forward(inplace._alias(input), src))
    if src._buf is input._buf:
        src = tensor(src, dtype=src._dtype)
    sel.write(input, src)
    inplace._mark_written(input)
    return input


def _index_add_args(input, dim, index, source, alpha, op):
    _tensor(input, op)
    _tensor(source, op, "source")
    if not input._dtype.is_floating_point:
        raise TypeError(f"{op}: the input must be a float tensor (int index_add is not supported)")
    if source._dtype is not input._dtype:
        raise TypeError(f"{op}: source has dtype {source._dtype!r}, the input {input._dtype!r}; they must match")
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool):
        raise TypeError(f"{op}: alpha must be a number, got {alpha!r}")
    offsets = _index.slice_offsets(input, dim, index, source, op)
    src_shape = source._shape or (1,)
    if source._shape != src_shape:
        source = source.reshape(src_shape)
    if alpha != 1:
        source = source * float(alpha)
    return Selection(src_shape, offsets=offsets), source


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source's slices added at the positions `index` along dim (duplicates sum)."""
    sel, source = _index_add_args(input, dim, index, source, alpha, "index_add")
    return ScatterAdd(sel).forward(input, source)


def index_add_(input, dim, index, source, *, alpha=1):
    """index_add in place, under inplace.py's rules."""
    sel, source = _index_add_args(input, dim, index, source, alpha, "index_add_")
    return add_selected_(input, sel, source, "index_add_")


# ---- random, scans, ranges ---------------------------------------------------------------------
def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (or p), else 0, in input's float dtype: a uniform draw u < p (a
    kernel comparison: p outside [0, 1] gives all 0 or all 1, where PyTorch raises). No gradient."""
    from .random import rand
    _tensor(input, "bernoulli")
    if not input._dtype.is_floating_point:
        raise TypeError(f"bernoulli: the input must be a float tensor of probabilities, got {input._dtype!r}")
    with autograd.no_grad():
        u = rand(input._shape, dtype=input._dtype, generator=generator)
        prob = input if p is None else _probability(p, input, "bernoulli")
        return cast_to(u < prob, input._dtype)


def _probability(p, like, op):
    if isinstance(p, Tensor):
        if not p._dtype.is_floating_point:
            raise TypeError(f"{op}: p must be a float tensor or a number, got {p._dtype!r}")
        try:
            if autograd.broadcast_shape(p._shape, like._shape) != like._shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"{op}: p of shape {p.shape} does not broadcast to the shape {like.shape}") from None
        return cast_to(p, like._dtype) if like._dtype.is_floating_point else p
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{op}: p must be a probability in [0, 1], got {p!r}")
    return float(p)


def bernoulli_(input, p=0.5, *, generator=None):
    """Fills input with draws of Bernoulli(p) (p a number or a tensor of probabilities)."""
    from .random import rand
    _tensor(input, "bernoulli_")
    with autograd.no_grad():
        prob = _probability(p, input, "bernoulli_")
        draws = rand(input._shape, dtype=prob._dtype if isinstance(prob, Tensor) else float64, generator=generator)
        input.copy_(cast_to(draws < prob, input._dtype))
    return input


def cumprod(input, dim, *, dtype=None):
    """The running product along dim: log2(n) steps of out[i] *= out[i - s] (s = 1, 2, 4, ...), each
    an elementwise product, so the gradient is exact with zeros in the input."""
    _tensor(input, "cumprod")
    if dtype is not None:
        input = input.to(as_dtype(dtype))
    elif input._dtype is bool_:
        input = cast_to(input, int64)
    if isinstance(dim, (tuple, list)) or dim is None:
        raise TypeError(f"cumprod: dim must be one integer, got {dim!r}")
    if input.ndim == 0:
        _dim_index(dim, 0, "cumprod")
        return input * 1
    dim = _dim_index(dim, input.ndim, "cumprod")
    n, out, s = input._shape[dim], input, 1
    from .shape_functions import cat
    while s < n:
        ones_shape = out._shape[:dim] + (s,) + out._shape[dim + 1:]
        out = out * cat([ones(ones_shape, dtype=out._dtype), out.narrow(dim, 0, n - s)], dim)
        s *= 2
    return out if out is not input else input * 1


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """steps values base ** linspace(start, end, steps), computed in float64."""
    from .creation import linspace
    from .functions import exp
    if not isinstance(base, numbers.Real) or isinstance(base, bool) or not base > 0:
        raise ValueError(f"logspace: base must be a number > 0, got {base!r}")
    dtype = default_float() if dtype is None else as_dtype(dtype)
    with autograd.no_grad():
        exponents = linspace(start, end, steps, dtype=float64, device=device)
        out = exp(exponents * float(np.log(base)))
        out = out if dtype is float64 else (out.to(dtype) if dtype.is_floating_point else cast_to(out, dtype))
    out.requires_grad = bool(requires_grad)
    return out


def kron(input, other):
    """The Kronecker product: out[i*m + k, j*n + l] = input[i, j] * other[k, l], in any number of
    dimensions (the shorter shape padded with leading 1s)."""
    _tensor(input, "kron")
    _tensor(other, "kron", "other")
    n = max(input.ndim, other.ndim)
    a_shape = (1,) * (n - input.ndim) + input._shape
    b_shape = (1,) * (n - other.ndim) + other._shape
    a = input.reshape(tuple(v for s in a_shape for v in (s, 1)))
    b = other.reshape(tuple(v for s in b_shape for v in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(a_shape, b_shape)))


# ---- distances ----------------------------------------------------------------------------------
def _p_norm(x, p, dim, keepdim, op):
    from .functions import norm
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not p >= 0:
        raise ValueError(f"{op}: p must be a number >= 0, got {p!r}")
    if p == 0:   # the number of nonzero entries (no gradient, as in PyTorch)
        return cast_to(x != 0, x._dtype).detach().sum(dim, keepdim=keepdim)
    return norm(x, float(p), dim=dim, keepdim=keepdim)


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between each row of x1 (..., P, M) and each row of x2 (..., R, M): shape
    (..., P, R), batch dimensions broadcast."""
    for name, x in (("x1", x1), ("x2", x2)):
        _tensor(x, "cdist", name)
        if x.ndim < 2:
            raise ValueError(f"cdist: {name} must have at least 2 dimensions, got shape {x.shape}")
        if not x._dtype.is_floating_point:
            raise TypeError(f"cdist: {name} must be a float tensor, got {x._dtype!r}")
    if x1._shape[-1] != x2._shape[-1]:
        raise ValueError(f"cdist: x1 of shape {x1.shape} and x2 of shape {x2.shape} must have the same number of "
                         f"columns")
    if compute_mode not in (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist: unknown compute_mode {compute_mode!r}")
    try:
        autograd.broadcast_shape(x1._shape[:-2], x2._shape[:-2])
    except ValueError:
        raise ValueError(f"cdist: the batch dimensions of x1 {x1.shape} and x2 {x2.shape} do not broadcast") from None
    return _p_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1, False, "cdist")


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dimension (broadcast)."""
    _tensor(x1, "pairwise_distance", "x1")
    _tensor(x2, "pairwise_distance", "x2")
    diff = x1 - x2 + eps
    if diff.ndim == 0:
        return _p_norm(diff.reshape(1), p, -1, keepdim, "pairwise_distance").reshape(())
    return _p_norm(diff, p, -1, keepdim, "pairwise_distance")


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 · x2) / (max(‖x1‖, eps) · max(‖x2‖, eps)) over dim (x1 and x2 broadcast), each vector
    divided by its clamped norm first, as PyTorch does (with the gradient of the unclamped norm)."""
    from .functions import clamp, norm
    _tensor(x1, "cosine_similarity", "x1")
    _tensor(x2, "cosine_similarity", "x2")
    try:
        shape = autograd.broadcast_shape(x1._shape, x2._shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not "
                         f"broadcast") from None
    dim = _dim_index(dim, len(shape), "cosine_similarity")
    x1, x2 = x1.expand(*shape), x2.expand(*shape)
    n1, n2 = norm(x1, 2.0, dim=dim, keepdim=True), norm(x2, 2.0, dim=dim, keepdim=True)
    # the norms' values clamped, their gradients those of the norms (PyTorch clamps without grad)
    n1 = n1 + (clamp(n1, min=eps) - n1).detach()
    n2 = n2 + (clamp(n2, min=eps) - n2).detach()
    return ((x1 / n1) * (x2 / n2)).sum(dim)


# ---- median, cross, unique ----------------------------------------------------------------------
median_result = collections.namedtuple("median", ["values", "indices"])


def median(input, dim=None, keepdim=False):
    """median(x): the lower median of all elements ((n-1)//2-th smallest), NaN if any is NaN;
    median(x, dim, keepdim): (values, indices) along dim. Gradient through the sort."""
    from .functions import any as any_, isnan, where
    from .ops.sort import sort
    _tensor(input, "median")
    if dim is None:
        if keepdim:
            raise TypeError("median(): keepdim needs a dim")
        flat = input.reshape(-1)
        if flat._numel == 0:
            return tensor(float("nan"), dtype=input._dtype if input._dtype.is_floating_point else float32)
        values, _ = sort(flat, stable=True)
        value = values[(flat._numel - 1) // 2]
        if input._dtype.is_floating_point:
            value = where(any_(isnan(flat)), values[flat._numel - 1], value)   # NaN sorts last
        return value
    dim = _dim_index(dim, input.ndim, "median")
    x = input.reshape(1) if input.ndim == 0 else input
    n = x._shape[dim]
    if n == 0:
        raise IndexError(f"median(): dimension {dim} of the input (shape {input.shape}) has no elements")
    values, indices = sort(x, dim=dim, stable=True)
    v, i = values.narrow(dim, (n - 1) // 2, 1), indices.narrow(dim, (n - 1) // 2, 1)
    if x._dtype.is_floating_point:
        has_nan = any_(isnan(x), dim=dim, keepdim=True)
        v = where(has_nan, values.narrow(dim, n - 1, 1), v)
        i = where(has_nan, indices.narrow(dim, n - 1, 1), i)
    if not keepdim or input.ndim == 0:
        v, i = v.squeeze(dim), i.squeeze(dim)
    return median_result(v, i)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along dim (input and other broadcast); dim=None takes the first
    dimension of size 3, as PyTorch's deprecated default does."""
    _tensor(input, "cross")
    _tensor(other, "cross", "other")
    if input.ndim != other.ndim:
        raise ValueError(f"cross: input of shape {input.shape} and other of shape {other.shape} must have the "
                         f"same number of dimensions")
    try:
        shape = autograd.broadcast_shape(input._shape, other._shape)
    except ValueError:
        raise ValueError(f"cross: input of shape {input.shape} and other of shape {other.shape} do not "
                         f"broadcast") from None
    if dim is None:
        dims = [d for d, s in enumerate(shape) if s == 3]
        if not dims:
            raise ValueError(f"cross: no dimension of size 3 in the shape {shape}")
        warnings.warn("cross: using dim=None (the first dimension of size 3) is deprecated in PyTorch; "
                      "pass dim", UserWarning, stacklevel=2)
        dim = dims[0]
    dim = _dim_index(dim, len(shape), "cross")
    if shape[dim] != 3:
        raise ValueError(f"cross: dimension {dim} must have size 3, the inputs have shapes {input.shape} and "
                         f"{other.shape}")
    a, b = input.expand(*shape), other.expand(*shape)
    yzx, zxy = np.array([1, 2, 0]), np.array([2, 0, 1])   # c = a[yzx] * b[zxy] - a[zxy] * b[yzx]
    return (_index.index_select(a, dim, yzx) * _index.index_select(b, dim, zxy)
            - _index.index_select(a, dim, zxy) * _index.index_select(b, dim, yzx))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values (sorted), with optionally each element's position among them (inverse,
    of input's shape) and their counts; with dim, the distinct slices along dim. A host op (the size
    of the result depends on the values), outside any gradient."""
    _tensor(input, "unique")
    values = input.numpy()
    if dim is not None:
        dim = _dim_index(dim, input.ndim, "unique")
    if dim is None or input.ndim == 0:
        out, inverse, counts = np.unique(values.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(input._shape)
    else:
        out, inverse, counts = np.unique(values, return_inverse=True, return_counts=True, axis=dim)
        inverse = inverse.reshape(-1)
    return _unique_result(out, inverse, counts, input._dtype, return_inverse, return_counts)


def _unique_result(out, inverse, counts, dtype, return_inverse, return_counts):
    """unique's and unique_consecutive's result: the values, then the inverse and counts asked for."""
    result = [tensor(np.ascontiguousarray(out), dtype=dtype)]
    if return_inverse:
        result.append(tensor(inverse.astype(np.int64), dtype=int64))
    if return_counts:
        result.append(tensor(counts.astype(np.int64), dtype=int64))
    return result[0] if len(result) == 1 else tuple(result)


__all__ = ["diag", "diagonal", "trace", "tril_indices", "triu_indices", "meshgrid", "repeat_interleave", "scatter",
           "index_add", "bernoulli", "cumprod", "logspace", "kron", "cdist", "cosine_similarity",
           "pairwise_distance", "median", "cross", "unique"]

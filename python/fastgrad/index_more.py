"""More of PyTorch's indexing, scans, order statistics, shape helpers and in-place sampling, for
ported programs: scatter_reduce, index_reduce/copy/fill/put, masked_scatter, take_along_dim, put_,
the *_scatter family, diag_embed; cummax/cummin, logcumsumexp, kthvalue, mode, quantile, nanmedian,
unique_consecutive, histc, histogram; rot90, block_diag, combinations, vander, cov, trapezoid, ...;
random_, exponential_, geometric_, log_normal_, cauchy_, poisson, binomial.

Kernels: scatter_reduce and index_reduce are one C kernel with an op code per reduction
(fg_scatter_reduce, csrc/index.inc, the Op ScatterReduce in ops/index.py); cummax, cummin and
logcumsumexp are op codes of the reduce kernel (csrc/math.inc); the new distributions are op codes
of the random kernels (csrc/random.inc). Everything else is composed from ops that have kernels
and gradients already (the selections of ops/index.py, sort, the elementwise and reduce ops), so
each records its gradient and a captured step replays it. unique_consecutive is a host op, as
unique() is (its result's size depends on the values).
"""
import collections
import itertools
import math
import numbers
import warnings

import numpy as np

from ._C import lib
from . import autograd
from .dtypes import as_dtype, bool_, float32, float64, int64, kernels
from .ops import index as _index
from .ops._checks import cast_to
from .ops.index import IndexPut, ScatterReduce, Selection
from .ops.reduce import Reduce, reduce_dims
from .tensor import Tensor, _dim_index, empty, tensor, zeros

_SCATTER_OPS = {"sum": lib.FG_SCATTER_SUM, "prod": lib.FG_SCATTER_PROD, "mean": lib.FG_SCATTER_MEAN,
                "amax": lib.FG_SCATTER_AMAX, "amin": lib.FG_SCATTER_AMIN}


def _tensor(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a fastgrad Tensor, got {type(x).__name__}")
    return x


def _int(x, op, name):
    if isinstance(x, Tensor) and x._numel == 1 and not x._dtype.is_floating_point:
        x = x.item()
    if not isinstance(x, numbers.Integral) or isinstance(x, bool):
        raise TypeError(f"{op}: {name} must be an int, got {x!r}")
    return int(x)


def _same_dtype(src, input, op, name="src"):
    if src._dtype is not input._dtype:
        raise TypeError(f"{op}: {name} has dtype {src._dtype!r}, the input {input._dtype!r}; they must match")


def _in_place(input, compute, name, *others):
    from .inplace import apply
    return apply(input, compute, name, *others)


# ---- scatter_reduce, index_reduce, index_copy, index_fill, index_put, put ------------------------------
def _reduce_code(reduce, op, allowed=("sum", "prod", "mean", "amax", "amin")):
    if reduce not in allowed:
        raise ValueError(f"{op}: reduce must be one of {', '.join(repr(r) for r in allowed)}, got {reduce!r}")
    return _SCATTER_OPS[reduce]


def _check_reducible(input, op):
    if input._dtype is bool_:
        raise TypeError(f"{op}: bool tensors are not supported (use an int64 or float tensor)")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src[i][j] reduced into out[index[i][j]][j] (dim 0) by 'sum', 'prod', 'mean', 'amax'
    or 'amin'; without include_self a written position reduces src's values only. Repeated indices
    reduce in order. Gradients as PyTorch's (prod: the product of the other factors; amax/amin: split
    between the ties)."""
    _tensor(input, "scatter_reduce")
    _tensor(src, "scatter_reduce", "src")
    _check_reducible(input, "scatter_reduce")
    code = _reduce_code(reduce, "scatter_reduce")
    _same_dtype(src, input, "scatter_reduce")
    dim = _dim_index(dim, input.ndim, "scatter_reduce")
    index = _index._long_index(index, "scatter_reduce")
    if index.ndim != max(input.ndim, 1) and index.size and not (index.ndim <= 1 and input.ndim <= 1):
        raise ValueError(f"scatter_reduce: index has {index.ndim} dimensions, the input has {input.ndim}; they "
                         f"must match")
    src = _index.src_for_index(src, index, "scatter_reduce")
    offsets = _index._along_dim_offsets(input._shape, dim, index, "scatter_reduce")
    return ScatterReduce(offsets, code, include_self).forward(input, src)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    """scatter_reduce in place."""
    return _in_place(input, lambda t: scatter_reduce(t, dim, index, src, reduce, include_self=include_self),
                     "scatter_reduce_", src)


def scatter_with_reduce(input, dim, index, src, value, reduce, op):
    """scatter(..., reduce='add' | 'multiply'): src (a tensor) or value (a number, for every index)
    added or multiplied in: scatter_reduce's 'sum' and 'prod' with the input included."""
    if reduce not in ("add", "multiply"):
        raise ValueError(f"{op}: reduce must be 'add' or 'multiply', got {reduce!r}")
    if (src is None) == (value is None):
        raise TypeError(f"{op}: give src (a tensor) or value (a number), exactly one")
    if src is None or not isinstance(src, Tensor):
        shape = _index._long_index(index, op).shape
        src = _index._value(value if src is None else src, input._dtype, op).expand(*shape)
    return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with source's slices along dim reduced into the positions `index` by 'prod', 'mean',
    'amax' or 'amin' (PyTorch's index_reduce)."""
    _tensor(input, "index_reduce")
    _tensor(source, "index_reduce", "source")
    _check_reducible(input, "index_reduce")
    code = _reduce_code(reduce, "index_reduce", ("prod", "mean", "amax", "amin"))
    _same_dtype(source, input, "index_reduce", "source")
    offsets = _index.slice_offsets(input, dim, index, source, "index_reduce")
    return ScatterReduce(offsets, code, include_self).forward(input, source)


def index_reduce_(input, dim, index, source, reduce, *, include_self=True):
    return _in_place(input, lambda t: index_reduce(t, dim, index, source, reduce, include_self=include_self),
                     "index_reduce_", source)


def index_copy(input, dim, index, source):
    """input with its slices along dim at `index` replaced by source's (of repeated indices the last
    one is kept). Gradient: source gets the gradient's slices at index, input the rest."""
    _tensor(input, "index_copy")
    _tensor(source, "index_copy", "source")
    _same_dtype(source, input, "index_copy", "source")
    offsets = _index.slice_offsets(input, dim, index, source, "index_copy")
    return IndexPut(Selection(source._shape, offsets=offsets)).forward(input, source)


def index_copy_(input, dim, index, source):
    return _in_place(input, lambda t: index_copy(t, dim, index, source), "index_copy_", source)


def _fill_value(value, input, op):
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(f"{op}: value must be a number or a 0-dim tensor, got shape {value.shape}")
        return _index._value(value, input._dtype, op)
    if not isinstance(value, numbers.Number) or isinstance(value, complex):
        raise TypeError(f"{op}: value must be a number or a 0-dim tensor, got {type(value).__name__}")
    return _index._value(value, input._dtype, op)


def index_fill(input, dim, index, value):
    """input with every element of its slices along dim at `index` set to value."""
    _tensor(input, "index_fill")
    dim = _dim_index(dim, input.ndim, "index_fill")
    index = _index._long_index(index, "index_fill")
    if index.ndim > 1:
        raise IndexError(f"index_fill: index must be 0-D or 1-D, got shape {index.shape}")
    value = _fill_value(value, input, "index_fill")
    x = input.reshape(1) if input.ndim == 0 else input
    index = _index._check_range(index.reshape(-1), x._shape[dim], dim, "index_fill")
    out = IndexPut(_index.select(x._shape, (slice(None),) * dim + (index,))).forward(x, value)
    return out.reshape(()) if input.ndim == 0 else out


def index_fill_(input, dim, index, value):
    return _in_place(input, lambda t: index_fill(t, dim, index, value), "index_fill_", value)


def index_put(input, indices, values, accumulate=False):
    """index_put_ out of place: input with input[indices] = values (+= with accumulate=True, repeated
    indices summed; int64 too)."""
    _tensor(input, "index_put")
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of index tensors, got {type(indices).__name__}")
    return _index.index_put_(input.clone(), tuple(indices), values, accumulate)


def put(input, index, source, accumulate=False):
    """put_ out of place."""
    _tensor(input, "put")
    return put_(input.clone(), index, source, accumulate)


def put_(input, index, source, accumulate=False):
    """input read as 1-D: input[index[i]] = source[i] (+= with accumulate=True); index any shape,
    source as many elements."""
    _tensor(input, "put_")
    _tensor(source, "put_", "source")
    _same_dtype(source, input, "put_", "source")
    index = _index._long_index(index, "put_")
    if source._numel != index.size:
        raise ValueError(f"put_: source has {source._numel} elements, index {index.size}; they must match")
    if index.size and input._numel == 0:
        raise IndexError(f"put_: index {int(index.flat[0])} is out of bounds for an empty tensor")
    offsets = _index._check_range(index.reshape(-1), input._numel, 0, "put_")
    flat = source.reshape(-1)
    if accumulate:
        return _in_place(input, lambda t: ScatterReduce(offsets, lib.FG_SCATTER_SUM).forward(t, flat), "put_", source)
    return _in_place(input, lambda t: IndexPut(Selection((offsets.size,), offsets=offsets)).forward(t, flat),
                     "put_", source)


def masked_scatter(input, mask, source):
    """input with the positions where mask (broadcast) is true filled, in row-major order, by the
    first elements of source. Gradient: source's first elements get the gradient at those positions."""
    _tensor(input, "masked_scatter")
    _tensor(source, "masked_scatter", "source")
    _same_dtype(source, input, "masked_scatter", "source")
    mask, shape = _index.bool_mask(mask, input._shape, "masked_scatter")
    if shape != input._shape:
        input = input.expand(*shape)
    where = np.flatnonzero(np.broadcast_to(mask, shape))
    if where.size > source._numel:
        raise ValueError(f"masked_scatter: the mask selects {where.size} elements, source has only "
                         f"{source._numel}")
    values = source.reshape(-1)
    if values._numel != where.size:
        values = values[:where.size]
    return IndexPut(Selection((where.size,), offsets=where)).forward(input, values)


def masked_scatter_(input, mask, source):
    _tensor(input, "masked_scatter_")
    if isinstance(mask, Tensor) and autograd.broadcast_shape(input._shape, mask._shape) != input._shape:
        raise ValueError(f"masked_scatter_: mask of shape {mask.shape} does not broadcast to the input's shape "
                         f"{input.shape}")
    return _in_place(input, lambda t: masked_scatter(t, mask, source), "masked_scatter_", source)


def take_along_dim(input, indices, dim=None):
    """out[..., j, ...] = input[..., indices[..., j, ...], ...] along dim (input and indices broadcast
    over the other dims); dim=None reads input flattened."""
    _tensor(input, "take_along_dim")
    index = _index._long_index(indices, "take_along_dim", "indices")
    if dim is None:
        return _index.gather(input.reshape(-1), 0, index.reshape(-1))
    dim = _dim_index(dim, input.ndim, "take_along_dim")
    if index.ndim != input.ndim:
        raise ValueError(f"take_along_dim: input of shape {input.shape} and indices of shape {index.shape} must "
                         f"have the same number of dimensions")
    try:
        rest = np.broadcast_shapes(tuple(s for d, s in enumerate(input._shape) if d != dim),
                                   tuple(s for d, s in enumerate(index.shape) if d != dim))
    except ValueError:
        raise ValueError(f"take_along_dim: input of shape {input.shape} and indices of shape {index.shape} do not "
                         f"broadcast outside dimension {dim}") from None
    x_shape = rest[:dim] + (input._shape[dim],) + rest[dim:]
    i_shape = rest[:dim] + (index.shape[dim],) + rest[dim:]
    x = input.expand(*x_shape) if x_shape != input._shape else input
    return _index.gather(x, dim, np.broadcast_to(index, i_shape))


# ---- the *_scatter family and diagonals: a strided selection written (IndexPut) ----------------------
def _scatter_into(input, src, sel, op):
    _tensor(input, op)
    _tensor(src, op, "src")
    _same_dtype(src, input, op)
    if src._shape != sel.shape:
        raise ValueError(f"{op}: src of shape {src.shape} must have the shape of the slice it replaces, "
                         f"{tuple(sel.shape)}")
    return IndexPut(sel).forward(input, src)


def select_scatter(input, src, dim, index):
    """input with input.select(dim, index) replaced by src."""
    _tensor(input, "select_scatter")
    dim = _dim_index(dim, input.ndim, "select_scatter")
    return _scatter_into(input, src, _index.select(input._shape, (slice(None),) * dim
                                                   + (_int(index, "select_scatter", "index"),)), "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """input with input[..., start:end:step, ...] (along dim) replaced by src."""
    _tensor(input, "slice_scatter")
    dim = _dim_index(dim, input.ndim, "slice_scatter")
    return _scatter_into(input, src, _index.select(input._shape, (slice(None),) * dim + (slice(start, end, step),)),
                         "slice_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with its diagonal (offset, dim1, dim2) replaced by src."""
    from .tensor_functions import _diagonal_selection
    _tensor(input, "diagonal_scatter")
    if input.ndim < 2:
        raise ValueError(f"diagonal_scatter: the input must have at least 2 dimensions, got shape {input.shape}")
    d1, d2 = _dim_index(dim1, input.ndim, "diagonal_scatter"), _dim_index(dim2, input.ndim, "diagonal_scatter")
    if d1 == d2:
        raise ValueError(f"diagonal_scatter: dim1 and dim2 must differ, both are {d1}")
    sel = _diagonal_selection(input._shape, _int(offset, "diagonal_scatter", "offset"), d1, d2)
    return _scatter_into(input, src, sel, "diagonal_scatter")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims dim1, dim2 of a result with one more dimension) whose diagonal `offset` holds
    input's last dimension; zeros elsewhere."""
    from .tensor_functions import _diagonal_selection
    _tensor(input, "diag_embed")
    offset = _int(offset, "diag_embed", "offset")
    ndim = input.ndim + 1
    d1, d2 = _dim_index(dim1, ndim, "diag_embed"), _dim_index(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, both are {d1}")
    x = input.reshape(1) if input.ndim == 0 else input
    m = x._shape[-1] + abs(offset)
    rest = list(x._shape[:-1])
    shape = []
    for d in range(max(ndim, 2)):
        shape.append(m if d in (d1, d2) else rest.pop(0))
    sel = _diagonal_selection(tuple(shape), offset, d1, d2)
    return IndexPut(sel).forward(zeros(tuple(shape), dtype=x._dtype), x)


def diagflat(input, offset=0):
    """The square matrix with input (flattened) on diagonal `offset`."""
    from .tensor_functions import diag
    _tensor(input, "diagflat")
    return diag(input.reshape(-1), _int(offset, "diagflat", "offset"))


# ---- scans: op codes of the reduce kernel ------------------------------------------------------------
cummax_result = collections.namedtuple("cummax", ["values", "indices"])
cummin_result = collections.namedtuple("cummin", ["values", "indices"])


def _scan(input, dim, code, name):
    _tensor(input, name)
    if isinstance(dim, (tuple, list)) or dim is None:
        raise TypeError(f"{name}: dim must be one integer, got {dim!r}")
    op = Reduce(code, reduce_dims(input, dim, name))
    return op, op.forward(input)


def cummax(input, dim):
    """(values, indices): the running maximum along dim and where it came from (the last of ties; a
    NaN takes over for good). Gradient: each value's to its index."""
    op, values = _scan(input, dim, lib.FG_RED_CUMMAX, "cummax")
    return cummax_result(values, op.indices)


def cummin(input, dim):
    """(values, indices): the running minimum along dim, as cummax."""
    op, values = _scan(input, dim, lib.FG_RED_CUMMIN, "cummin")
    return cummin_result(values, op.indices)


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along dim, without overflow."""
    return _scan(input, dim, lib.FG_RED_LOGCUMSUMEXP, "logcumsumexp")[1]


def cumsum_(input, dim, *, dtype=None):
    from .functions import cumsum
    if dtype is not None and as_dtype(dtype) is not input._dtype:
        raise TypeError(f"cumsum_: dtype {as_dtype(dtype)!r} differs from the tensor's {input._dtype!r}")
    return _in_place(input, lambda t: cumsum(t, dim), "cumsum_")


def cumprod_(input, dim, *, dtype=None):
    from .tensor_functions import cumprod
    if dtype is not None and as_dtype(dtype) is not input._dtype:
        raise TypeError(f"cumprod_: dtype {as_dtype(dtype)!r} differs from the tensor's {input._dtype!r}")
    return _in_place(input, lambda t: cumprod(t, dim), "cumprod_")


# ---- order statistics: through sort (ops/sort.py), its gradient included ---------------------------
kthvalue_result = collections.namedtuple("kthvalue", ["values", "indices"])
mode_result = collections.namedtuple("mode", ["values", "indices"])
nanmedian_result = collections.namedtuple("nanmedian", ["values", "indices"])


def _squeezed(v, dim, keepdim, scalar):
    if scalar:
        return v.reshape(())
    return v if keepdim else v.squeeze(dim)


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices): the k-th smallest element along dim (k from 1) and its index."""
    from .ops.sort import sort
    _tensor(input, "kthvalue")
    k = _int(k, "kthvalue", "k")
    dim = _dim_index(dim, input.ndim, "kthvalue")
    x = input.reshape(1) if input.ndim == 0 else input
    n = x._shape[dim]
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue: k ({k}) is out of range for dimension {dim} of size {n}")
    values, indices = sort(x, dim=dim, stable=True)
    v, i = values.narrow(dim, k - 1, 1), indices.narrow(dim, k - 1, 1)
    return kthvalue_result(_squeezed(v, dim, keepdim, input.ndim == 0), _squeezed(i, dim, keepdim, input.ndim == 0))


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along dim (the smallest of equally frequent ones)
    and the last index holding it, as PyTorch's CPU kernel. Counts compare every pair of a slice
    (O(n²) per slice). Gradient: to that index."""
    from .functions import where
    _tensor(input, "mode")
    dim = _dim_index(dim, input.ndim, "mode")
    x = input.reshape(1) if input.ndim == 0 else input
    n = x._shape[dim]
    if n == 0:
        raise IndexError(f"mode: dimension {dim} of the input (shape {input.shape}) has no elements")
    with autograd.no_grad():
        moved = x.detach().movedim(dim, -1)
        counts = (moved.unsqueeze(-1) == moved.unsqueeze(-2)).sum(-1)
        most = counts.amax(-1, keepdim=True)
        big = float("inf") if x._dtype.is_floating_point else 2**62
        value = where(counts == most, moved, tensor(big, dtype=x._dtype)).amin(-1, keepdim=True)
        positions = _arange_like(n, moved._shape)
        index = where(moved == value, positions, tensor(-1, dtype=int64)).amax(-1, keepdim=True).movedim(-1, dim)
    v = _index.gather(x, dim, index)
    return mode_result(_squeezed(v, dim, keepdim, input.ndim == 0), _squeezed(index, dim, keepdim, input.ndim == 0))


def _arange_like(n, shape):
    from .creation import arange
    return arange(n).expand(*shape)


def _sorted_rows(input, dim, op):
    """input (float) with dim moved last and the rest flattened: (sorted values, their indices, the
    original shape without dim), NaN sorting last."""
    from .ops.sort import sort
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim_index(dim, x.ndim, op)
    x = x.reshape(1) if x.ndim == 0 else x
    moved = x.movedim(d, -1) if d != x.ndim - 1 else x
    values, indices = sort(moved, dim=-1, stable=True)
    return values, indices, moved._shape[:-1], d


def _q_arg(q, dtype, op):
    if isinstance(q, Tensor):
        if not q._dtype.is_floating_point:
            raise TypeError(f"{op}: q must be a float tensor or a number, got {q._dtype!r}")
        if q.ndim > 1:
            raise ValueError(f"{op}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
        values = q.detach().numpy().astype(np.float64)   # checked here, as PyTorch checks them
        scalar = q.ndim == 0
    elif isinstance(q, numbers.Real) and not isinstance(q, bool):
        values, scalar = np.array([float(q)]), True
    elif isinstance(q, (list, tuple)):
        values, scalar = np.asarray(q, dtype=np.float64).reshape(-1), False
    else:
        raise TypeError(f"{op}: q must be a number or a tensor, got {type(q).__name__}")
    values = values.reshape(-1)
    if ((values < 0) | (values > 1) | np.isnan(values)).any():
        raise ValueError(f"{op}: q values must be in the range [0, 1], got {values.tolist()}")
    return values, scalar


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    from .functions import isnan, where
    _tensor(input, op)
    if not input._dtype.is_floating_point:
        raise TypeError(f"{op}: the input must be a float tensor, got {input._dtype!r}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    qs, scalar = _q_arg(q, input._dtype, op)
    if input._numel == 0 and dim is None:
        raise ValueError(f"{op}: the input tensor must be non-empty")
    values, _, rest, d = _sorted_rows(input, dim, op)
    n = values._shape[-1]
    if n == 0:
        raise ValueError(f"{op}: the input has no elements along dimension {d}")
    with autograd.no_grad():   # the ranks: positions of the values to interpolate (no gradient)
        nan = isnan(values.detach())
        if ignore_nan:
            count = (~nan).sum(-1, keepdim=True).to(float64)
            ranks = (count - 1.0) * tensor(qs, dtype=float64)
            ranks = where(ranks < 0, tensor(float(n - 1), dtype=float64), ranks)   # all NaN: the NaN
        else:
            ranks = tensor(qs * (n - 1), dtype=float64).expand(*(values._shape[:-1] + (qs.size,)))
            ranks = where(nan.any(-1, keepdim=True), tensor(float(n - 1), dtype=float64), ranks)
        if interpolation == "lower":
            ranks = ranks.floor()
        elif interpolation == "higher":
            ranks = ranks.ceil()
        elif interpolation == "nearest":
            ranks = ranks.round()
        lo, hi = ranks.floor(), ranks.ceil()
        weight = (ranks - lo) if interpolation != "midpoint" else where(hi > lo, tensor(0.5, dtype=float64),
                                                                        tensor(0.0, dtype=float64))
        lo, hi, weight = lo.long(), hi.long(), weight.to(input._dtype)
    lo_v, hi_v = _index.gather(values, -1, lo), _index.gather(values, -1, hi)
    out = lo_v + weight * (hi_v - lo_v)   # (..., len(q)), then q's dimension first
    out = out.movedim(-1, 0)
    if keepdim:
        shape = (1,) * input.ndim if dim is None else tuple(1 if i == d else s for i, s in enumerate(input._shape))
        out = out.reshape((qs.size,) + shape)
    else:
        out = out.reshape((qs.size,) + tuple(rest))
    return out.squeeze(0) if scalar else out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles (q a number or a 1-D tensor in [0, 1]) along dim (all elements by default),
    interpolating between sorted neighbours as `interpolation` says; NaN where a slice holds a NaN.
    With a 1-D q the quantiles make the result's first dimension. Gradient through the sort."""
    if out is not None:
        raise NotImplementedError("quantile: out= is not supported; use the returned tensor")
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile ignoring NaNs (NaN only where a slice is all NaN)."""
    if out is not None:
        raise NotImplementedError("nanquantile: out= is not supported; use the returned tensor")
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaNs: the lower median of the other values (NaN, index 0, where all are NaN);
    with dim, (values, indices)."""
    from .functions import isnan, where
    _tensor(input, "nanmedian")
    if not input._dtype.is_floating_point:
        from .tensor_functions import median
        return median(input, dim, keepdim) if dim is not None else median(input)
    if dim is None:
        if keepdim:
            raise TypeError("nanmedian(): keepdim needs a dim")
        if input._numel == 0:
            return tensor(float("nan"), dtype=input._dtype)
    values, indices, rest, d = _sorted_rows(input, dim, "nanmedian")
    n = values._shape[-1]
    if n == 0:
        raise IndexError(f"nanmedian(): dimension {d} of the input (shape {input.shape}) has no elements")
    with autograd.no_grad():
        count = (~isnan(values.detach())).sum(-1, keepdim=True)
        rank = where(count > 0, (count - 1) // 2, tensor(0, dtype=int64))
    # an all-NaN slice: rank 0, the first NaN (index 0, after the stable sort), as PyTorch
    v, i = _index.gather(values, -1, rank), _index.gather(indices, -1, rank)
    if dim is None:
        return v.reshape(())
    if input.ndim == 0:
        return nanmedian_result(v.reshape(()), i.reshape(()))
    v, i = v.movedim(-1, d), i.movedim(-1, d)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return nanmedian_result(v, i)


def msort(input):
    """input sorted along its first dimension."""
    from .ops.sort import sort
    _tensor(input, "msort")
    return sort(input, dim=0).values


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The input with each run of equal consecutive elements (or slices along dim) collapsed to one;
    optionally each element's run number (inverse) and the runs' lengths. A host op, as unique()."""
    _tensor(input, "unique_consecutive")
    values = input.numpy()
    if dim is None or input.ndim == 0:
        flat = values.reshape(-1)
        starts = np.ones(flat.size, dtype=bool)
        if flat.size:
            starts[1:] = flat[1:] != flat[:-1]
        out = flat[starts]
        inverse = (np.cumsum(starts) - 1).reshape(input._shape)
    else:
        d = _dim_index(dim, input.ndim, "unique_consecutive")
        moved = np.moveaxis(values, d, 0).reshape(values.shape[d], -1)
        starts = np.ones(moved.shape[0], dtype=bool)
        if moved.shape[0]:
            starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        out = np.compress(starts, values, axis=d)
        inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), starts.size))
    from .tensor_functions import _unique_result
    return _unique_result(out, inverse, counts, input._dtype, return_inverse, return_counts)


def _range_of(x, lo, hi):
    """histc's [min, max]: the data's own when both are 0 (a host read of two numbers), widened by 1
    each way when equal."""
    if lo == hi == 0 and x._numel:
        lo, hi = float(x.detach().min().item()), float(x.detach().max().item())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return float(lo), float(hi)


def _bin_counts(x, lo, hi, bins, weight=None):
    """The number (or weight sum) of x's elements in each of `bins` equal bins of [lo, hi], the last
    bin closed: a bin index per element by kernels, then a scatter-add."""
    from .functions import where
    with autograd.no_grad():
        flat = x.detach().reshape(-1).to(float64)
        index = ((flat - lo) * (bins / (hi - lo))).floor()
        index = where(flat == hi, tensor(float(bins - 1), dtype=float64), index)
        keep = (flat >= lo) & (flat <= hi)
        index = where(keep, index, tensor(float(bins), dtype=float64)).long()   # bin `bins`: outside, dropped
        w = weight.detach().reshape(-1).to(x._dtype) if weight is not None else \
            tensor(1.0, dtype=x._dtype).expand(flat._numel)
        counts = ScatterReduce(index.numpy(), lib.FG_SCATTER_SUM).forward(zeros((bins + 1,), dtype=x._dtype), w)
    return counts[:bins]


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """A histogram of `bins` equal-width bins over [min, max] (the data's range when both are 0);
    elements outside are ignored."""
    _tensor(input, "histc")
    if not input._dtype.is_floating_point:
        raise TypeError(f"histc: the input must be a float tensor, got {input._dtype!r}")
    bins = _int(bins, "histc", "bins")
    if bins <= 0:
        raise ValueError(f"histc: bins must be > 0, got {bins}")
    if min > max:
        raise ValueError(f"histc: max ({max}) must be larger than or equal to min ({min})")
    lo, hi = _range_of(input, min, max)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"histc: range of [{lo}, {hi}] is not finite")
    return _bin_counts(input, lo, hi, bins)


histogram_result = collections.namedtuple("histogram", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges): bins an int (equal bins over `range`, or the data's) or a 1-D tensor of
    increasing edges; the last bin includes its right edge; optional weights and density."""
    from .api_ported import bucketize
    from .creation import linspace
    from .functions import where
    _tensor(input, "histogram")
    if not input._dtype.is_floating_point:
        raise TypeError(f"histogram: the input must be a float tensor, got {input._dtype!r}")
    if weight is not None:
        _tensor(weight, "histogram", "weight")
        if weight._shape != input._shape:
            raise ValueError(f"histogram: weight of shape {weight.shape} must have the input's shape {input.shape}")
    if isinstance(bins, Tensor):
        edges = bins.detach().to(input._dtype)
        if edges.ndim != 1 or edges._numel < 2:
            raise ValueError(f"histogram: bins as a tensor must be 1-D with at least 2 edges, got shape {bins.shape}")
        nb = edges._numel - 1
        with autograd.no_grad():
            flat = input.detach().reshape(-1)
            index = bucketize(flat, edges, right=True) - 1
            index = where(flat == edges[-1], tensor(nb - 1, dtype=int64), index)
            keep = (index >= 0) & (index < nb)
            index = where(keep, index, tensor(nb, dtype=int64))
            w = weight.detach().reshape(-1) if weight is not None else tensor(1.0, dtype=input._dtype).expand(flat._numel)
            hist = ScatterReduce(index.numpy(), lib.FG_SCATTER_SUM).forward(zeros((nb + 1,), dtype=input._dtype), w)
            hist = hist[:nb]
    else:
        nb = _int(bins, "histogram", "bins")
        if nb <= 0:
            raise ValueError(f"histogram: bins must be > 0, got {nb}")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
            if lo > hi:
                raise ValueError(f"histogram: range's min ({lo}) must be <= its max ({hi})")
        else:
            lo, hi = (float(input.detach().min().item()), float(input.detach().max().item())) if input._numel else (0., 0.)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5   # numpy's and PyTorch's widening of an empty range
        edges = linspace(lo, hi, nb + 1, dtype=input._dtype)
        hist = _bin_counts(input, lo, hi, nb, weight)
    if density:
        with autograd.no_grad():
            widths = edges[1:] - edges[:-1]
            hist = hist / (hist.sum() * widths)
    return histogram_result(hist, edges)


# ---- shape helpers, composed ---------------------------------------------------------------------
def rot90(input, k=1, dims=(0, 1)):
    """input rotated by k quarter turns in the plane of dims (from the first towards the second)."""
    _tensor(input, "rot90")
    k = _int(k, "rot90", "k")
    if len(dims) != 2:
        raise ValueError(f"rot90: dims must name two dimensions, got {dims!r}")
    if input.ndim < 2:
        raise ValueError(f"rot90: the input must have at least 2 dimensions, got shape {input.shape}")
    d0, d1 = _dim_index(dims[0], input.ndim, "rot90"), _dim_index(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {dims!r}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def unravel_index(indices, shape):
    """The coordinates in a tensor of `shape` of each flat index, as one int64 tensor per dimension."""
    if isinstance(indices, numbers.Integral) and not isinstance(indices, bool):
        indices = tensor(int(indices), dtype=int64)
    _tensor(indices, "unravel_index", "indices")
    if indices._dtype.is_floating_point or indices._dtype is bool_:
        raise TypeError(f"unravel_index: indices must be an integer tensor, got {indices._dtype!r}")
    shape = (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"unravel_index: shape must not have negative sizes, got {shape}")
    total = math.prod(shape)
    flat = indices.numpy()
    if flat.size and (flat.min() < -total or flat.max() >= total):
        bad = flat[(flat < -total) | (flat >= total)].flat[0]
        raise IndexError(f"unravel_index: index {int(bad)} is out of bounds for shape {shape}")
    rest = indices % total if total else indices
    out = []
    for size in reversed(shape):
        out.append(rest % size)
        rest = rest // size
    return tuple(reversed(out))


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors (a 1-D one is one row)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:   # PyTorch's answer: one row of nothing
        return empty((1, 0), float32)
    blocks = []
    for i, t in enumerate(tensors):
        _tensor(t, "block_diag", f"tensor {i}")
        if t.ndim > 2:
            raise ValueError(f"block_diag: tensor {i} has shape {t.shape}; only 0-, 1- and 2-D tensors are allowed")
        blocks.append(t.reshape(1, -1) if t.ndim == 1 else t.reshape(1, 1) if t.ndim == 0 else t)
    dtype = _result_dtype(blocks)
    rows, cols = sum(b._shape[0] for b in blocks), sum(b._shape[1] for b in blocks)
    out = zeros((rows, cols), dtype=dtype)
    r = c = 0
    for b in blocks:
        h, w = b._shape
        if b._numel:
            b = _index._value(b, dtype, "block_diag")
            out = IndexPut(_index.select((rows, cols), (slice(r, r + h), slice(c, c + w)))).forward(out, b)
        r, c = r + h, c + w
    return out


def _result_dtype(tensors):
    dtypes = {t._dtype for t in tensors}
    for d in (float64, float32, int64, bool_):
        if d in dtypes:
            return d
    return float32


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (one tensor: itself)."""
    from .ops.shape import stack
    from .tensor_functions import meshgrid
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        _tensor(t, "cartesian_prod", f"tensor {i}")
        if t.ndim != 1:
            raise ValueError(f"cartesian_prod: expects 1-D tensors, tensor {i} has shape {t.shape}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """Every combination of r elements of the 1-D input (with repeats when with_replacement), as rows,
    in itertools' order."""
    from .ops.shape import stack
    _tensor(input, "combinations")
    if input.ndim != 1:
        raise ValueError(f"combinations: expects a 1-D tensor, got shape {input.shape}")
    r = _int(r, "combinations", "r")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return empty((0,), input._dtype)
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    picks = np.array(list(make(range(input._numel), r)), dtype=np.int64).reshape(-1, r)   # from the size only
    if picks.shape[0] == 0:
        return empty((0, r), input._dtype)
    return stack([_index.index_select(input, 0, picks[:, j]) for j in range(r)], 1)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D x: columns x^(N-1) ... x^0 (x^0 first when increasing)."""
    from .shape_functions import cat
    from .tensor_functions import cumprod
    _tensor(x, "vander", "x")
    if x.ndim != 1:
        raise ValueError(f"vander: x must be a 1-D tensor, got shape {x.shape}")
    n = x._numel if N is None else _int(N, "vander", "N")
    if n < 0:
        raise ValueError(f"vander: N must be non-negative, got {n}")
    if x._dtype is bool_:
        x = cast_to(x, int64)
    ones = tensor(1, dtype=x._dtype).expand(x._numel, 1)
    if n <= 1:
        out = ones[:, :n]
    else:
        out = cumprod(cat([ones, x.unsqueeze(1).expand(x._numel, n - 1)], 1), 1)
    return out if increasing else out.flip(1)


def inner(input, other):
    """The sum of products over the last dimensions (a 0-D operand multiplies)."""
    _tensor(input, "inner")
    _tensor(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input._shape[-1] != other._shape[-1]:
        raise ValueError(f"inner: the last dimensions of input {input.shape} and other {other.shape} must match")
    k = input._shape[-1]
    a, b = input.reshape(-1, k), other.reshape(-1, k)
    if input._dtype.is_floating_point and other._dtype.is_floating_point:
        out = a @ b.t()
    else:
        out = (a.unsqueeze(1) * b.unsqueeze(0)).sum(-1)
    return out.reshape(input._shape[:-1] + other._shape[:-1])


def ger(input, vec2):
    from .functions import outer
    return outer(input, vec2)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2) (beta = 0 ignores input, NaNs included)."""
    from .functions import outer
    _tensor(input, "addr")
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        _tensor(v, "addr", name)
        if v.ndim != 1:
            raise ValueError(f"addr: {name} must be 1-D, got shape {v.shape}")
    prod = outer(vec1, vec2)
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return prod + zeros(input._shape, dtype=prod._dtype) if input._shape != prod._shape else prod
    return (input if beta == 1 else input * beta) + prod


def vdot(input, other):
    """The dot product of two 1-D tensors (real: no conjugate)."""
    from .functions import dot
    return dot(input, other)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), over all elements."""
    from .tensor_functions import _p_norm
    _tensor(input, "dist")
    _tensor(other, "dist", "other")
    diff = (input - other).reshape(-1)
    return _p_norm(diff, p, 0, False, "dist")


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in input's rows (observations in columns; a 1-D input is
    one variable), with integer frequency and float observation weights, as PyTorch's."""
    _tensor(input, "cov")
    if input.ndim > 2:
        raise ValueError(f"cov: expects a 1-D or 2-D input, got shape {input.shape}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not x._dtype.is_floating_point:
        x = x.to(float32)
    n = x._shape[1]
    w = None
    if fweights is not None:
        _tensor(fweights, "cov", "fweights")
        if fweights._dtype.is_floating_point or fweights.ndim > 1 or fweights._numel != n:
            raise ValueError(f"cov: fweights must be a 1-D integer tensor of {n} elements, got "
                             f"{fweights._dtype!r} of shape {fweights.shape}")
        if fweights._numel and int(fweights.min().item()) < 0:
            raise ValueError("cov: fweights cannot be negative")
        w = fweights.to(x._dtype)
    if aweights is not None:
        _tensor(aweights, "cov", "aweights")
        if not aweights._dtype.is_floating_point or aweights.ndim > 1 or aweights._numel != n:
            raise ValueError(f"cov: aweights must be a 1-D float tensor of {n} elements, got "
                             f"{aweights._dtype!r} of shape {aweights.shape}")
        if aweights._numel and float(aweights.min().item()) < 0:
            raise ValueError("cov: aweights cannot be negative")
        w = aweights.to(x._dtype) if w is None else w * aweights.to(x._dtype)
    if w is None:
        avg = x.mean(1)
        norm = float(n - correction)
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
        if aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights.to(x._dtype)).sum() / w_sum
    if not isinstance(norm, Tensor) and norm <= 0:
        warnings.warn("cov: degrees of freedom <= 0 for the given correction", RuntimeWarning, stacklevel=2)
        norm = 0.0
    elif isinstance(norm, Tensor):
        from .functions import clamp
        norm = clamp(norm, min=0.0)
    xm = x - avg.unsqueeze(1)
    c = (xm * w) @ xm.t() if w is not None else xm @ xm.t()
    return (c / norm).squeeze()


def corrcoef(input):
    """Pearson's correlation coefficients of the rows of input, clipped to [-1, 1]."""
    from .functions import clamp, sqrt
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = sqrt(c.diagonal())
    c = c / d.unsqueeze(1) / d.unsqueeze(0)
    return clamp(c, -1.0, 1.0)


def _trapezoid_parts(y, x, dx, dim, op):
    """The areas of the trapezoids along dim (one fewer than y's elements there)."""
    _tensor(y, op, "y")
    dim = _dim_index(dim, y.ndim, op)
    n = y._shape[dim]
    if n == 0:
        return None, dim
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is not None:
        if dx is not None:
            raise TypeError(f"{op}: give x or dx, not both")
        _tensor(x, op, "x")
        if x.ndim == 1:
            if x._numel != n:
                raise ValueError(f"{op}: x has {x._numel} elements, y has {n} along dimension {dim}")
            spacing = (x[1:] - x[:-1]).reshape((n - 1,) + (1,) * (y.ndim - dim - 1))
        else:
            xd = _dim_index(dim - y.ndim, x.ndim, op) if x.ndim != y.ndim else dim
            m = x._shape[xd]
            spacing = x.narrow(xd, 1, m - 1) - x.narrow(xd, 0, m - 1)
        return (left + right) * spacing * 0.5, dim
    step = 1 if dx is None else dx
    return (left + right) * (0.5 * step if not isinstance(step, Tensor) else step * 0.5), dim


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along dim by the trapezoidal rule, at points x (or spacing dx, 1 by default)."""
    parts, d = _trapezoid_parts(y, x, dx, dim, "trapezoid")
    if parts is None:
        shape = y._shape[:d] + y._shape[d + 1:]
        return zeros(shape, dtype=y._dtype if y._dtype.is_floating_point else float32)
    return parts.sum(d)


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral of y along dim (one fewer element there)."""
    from .functions import cumsum
    parts, d = _trapezoid_parts(y, x, dx, dim, "cumulative_trapezoid")
    if parts is None:
        return y * 1.0
    return cumsum(parts, d)


def as_strided(input, size, stride, storage_offset=0):
    """out[i] = input.flatten()[storage_offset + sum(i·stride)]: PyTorch's view, a copy here (README,
    Storage) with the gradient added back through the same map."""
    from .ops.shape import AsStrided
    _tensor(input, "as_strided")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    offset = _int(storage_offset, "as_strided", "storage_offset")
    if len(size) != len(stride):
        raise ValueError(f"as_strided: size {size} and stride {stride} must have the same length")
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
        raise ValueError(f"as_strided: sizes, strides and storage_offset must be non-negative, got size {size}, "
                         f"stride {stride}, storage_offset {offset}")
    if math.prod(size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= input._numel:
            raise IndexError(f"as_strided: size {size} and stride {stride} from offset {offset} reach element "
                             f"{last}, out of bounds for a storage of {input._numel} elements")
    return AsStrided(size, stride, offset).forward(input)


# ---- in-place shape methods: the tensor takes the new shape (and, when reordered, a new buffer) -----
def _reshape_in_place(t, make):
    """t takes the shape of make(t): a view's (the same storage) or, for the reordering methods, a
    copy's (a new storage: views of the old one keep its order, as PyTorch's views keep their
    strides). Recorded like any in-place op when gradients are on."""
    from .inplace import _LEAF_ERROR, _alias, _take_over
    recording = autograd.is_grad_enabled() and t.requires_grad
    if recording and t._op is None:
        raise RuntimeError(_LEAF_ERROR.format(name="an in-place shape method"))
    result = make(_alias(t) if recording else t)
    if recording:
        if result._buf is t._buf:   # a view: t's new node must be an op of its own
            result = result * 1
        _take_over(t, result)
    elif result._buf is not t._buf:
        t._buf, t._version = result._buf, None
    t._shape, t._numel = result._shape, result._numel
    return t


def unsqueeze_(t, dim):
    return _reshape_in_place(t, lambda x: x.unsqueeze(dim))


def squeeze_(t, dim=None):
    return _reshape_in_place(t, lambda x: x.squeeze() if dim is None else x.squeeze(dim))


def t_(t):
    return _reshape_in_place(t, lambda x: x.t())


def transpose_(t, dim0, dim1):
    return _reshape_in_place(t, lambda x: x.transpose(dim0, dim1))


swapaxes_ = swapdims_ = transpose_


# ---- drawing in place, and poisson / binomial: the C generator's distributions ----------------------
def _real(v, what):
    from .random import _real as real
    return real(v, what)


def _float_draw(t, dist, a, b, generator, name):
    from .inplace import draw_in_place
    from .random import _draw
    _tensor(t, name)
    return draw_in_place(t, lambda x: _draw(x, dist, a, b, generator, name), name)


def exponential_(t, lambd=1.0, *, generator=None):
    """Fills t with draws of Exponential(lambd)."""
    lambd = _real(lambd, "exponential_: lambd")
    if not lambd > 0:
        raise ValueError(f"exponential_: lambd must be > 0, got {lambd}")
    return _float_draw(t, lib.FG_EXPONENTIAL, lambd, 0.0, generator, "exponential_")


def geometric_(t, p, *, generator=None):
    """Fills t with draws of Geometric(p): the number of trials to the first success (>= 1)."""
    p = _real(p, "geometric_: p")
    if not 0 < p <= 1:
        raise ValueError(f"geometric_: p must be in (0, 1], got {p}")
    if not t._dtype.is_floating_point:
        return _int_fill(t, lambda x: _float_draw(x, lib.FG_GEOMETRIC, p, 0.0, generator, "geometric_"),
                         "geometric_")
    return _float_draw(t, lib.FG_GEOMETRIC, p, 0.0, generator, "geometric_")


def log_normal_(t, mean=1.0, std=2.0, *, generator=None):
    """Fills t with exp of draws of Normal(mean, std)."""
    std = _real(std, "log_normal_: std")
    if not std > 0:
        raise ValueError(f"log_normal_: std must be > 0, got {std}")
    return _float_draw(t, lib.FG_LOG_NORMAL, _real(mean, "log_normal_: mean"), std, generator, "log_normal_")


def cauchy_(t, median=0.0, sigma=1.0, *, generator=None):
    """Fills t with draws of Cauchy(median, sigma)."""
    sigma = _real(sigma, "cauchy_: sigma")
    if not sigma > 0:
        raise ValueError(f"cauchy_: sigma must be > 0, got {sigma}")
    return _float_draw(t, lib.FG_CAUCHY, _real(median, "cauchy_: median"), sigma, generator, "cauchy_")


def _int_fill(t, draw_float, name):
    """An integer tensor filled through a float64 draw, cast by the kernel."""
    from .inplace import draw_in_place
    _tensor(t, name)

    def draw(x):
        tmp = empty(x._shape, float64)
        draw_float(tmp)
        kernels.cast(x._buf, x._dtype.code, tmp._buf, float64.code, x._numel)
        return x
    return draw_in_place(t, draw, name)


def random_(t, *args, generator=None, **kwargs):
    """Fills t with integers uniform in [from, to - 1]: random_() over [0, 2^mantissa] for floats
    (24 bits for float32, 53 for float64) and [0, 2^63 - 1] for int64; random_(to) over [0, to);
    random_(from, to); random_(from, None) from `from` to the top of that range."""
    from .inplace import draw_in_place
    from .random import _state
    _tensor(t, "random_")
    if len(args) > 2:
        raise TypeError(f"random_: expects at most from and to, got {len(args)} arguments")
    low, high = (0, args[0]) if len(args) == 1 else tuple(args) if args else (0, None)
    if "from" in kwargs:
        low = kwargs.pop("from")
    if "to" in kwargs:
        high = kwargs.pop("to")
    if kwargs:
        raise TypeError(f"random_: unexpected arguments {sorted(kwargs)}")
    low, high = _int(low, "random_", "from"), None if high is None else _int(high, "random_", "to")
    top = {float32: 2**24 + 1, float64: 2**53 + 1, bool_: 2}.get(t._dtype, 2**63)
    if high is None:
        high = top
    if not low < high:
        raise ValueError(f"random_: expects from < to, got from={low}, to={high}")
    if high > top or low < -2**63:
        raise ValueError(f"random_: [{low}, {high}) does not fit the tensor's dtype {t._dtype!r}")

    def draw(x):
        target = x if x._dtype is int64 else empty(x._shape, int64, x._numel)
        if x._numel:
            # (the kernel counts high - low in uint64: 2^63 passes as its int64 bits)
            int64.k.randint(target._buf, _state(generator), low, high - 2**64 if high >= 2**63 else high, x._numel)
        if target is not x:
            kernels.cast(x._buf, x._dtype.code, target._buf, int64.code, x._numel)
        return x
    return draw_in_place(t, draw, "random_")


def poisson(input, generator=None):
    """Draws of Poisson(rate) for each rate in input (float, >= 0), in input's dtype. No gradient."""
    from .random import _state
    _tensor(input, "poisson")
    if not input._dtype.is_floating_point:
        raise TypeError(f"poisson: the rates must be a float tensor, got {input._dtype!r}")
    if input._numel and float(input.detach().min().item()) < 0:   # checked before the kernel, as PyTorch
        raise ValueError("poisson: rates must be non-negative")
    out = empty(input._shape, input._dtype)
    if out._numel:
        input._dtype.k.random_param(out._buf, _state(generator), lib.FG_POISSON, input._buf, input._buf, out._numel)
    return out


def binomial(count, prob, generator=None):
    """Draws of Binomial(count, prob) elementwise (count and prob float tensors, broadcast). No
    gradient."""
    from .random import _state
    _tensor(count, "binomial", "count")
    _tensor(prob, "binomial", "prob")
    if not count._dtype.is_floating_point or prob._dtype is not count._dtype:
        raise TypeError(f"binomial: count and prob must be float tensors of one dtype, got {count._dtype!r} and "
                        f"{prob._dtype!r}")
    shape = autograd.broadcast_shape(count._shape, prob._shape)
    with autograd.no_grad():
        c = count.detach().expand(*shape).contiguous() * 1.0
        p = prob.detach().expand(*shape).contiguous() * 1.0
    if c._numel:
        if float(c.min().item()) < 0:
            raise ValueError("binomial: count must be non-negative")
        if float(p.min().item()) < 0 or float(p.max().item()) > 1:
            raise ValueError("binomial: prob must be in [0, 1]")
    out = empty(shape, count._dtype)
    if out._numel:
        count._dtype.k.random_param(out._buf, _state(generator), lib.FG_BINOMIAL, c._buf, p._buf, out._numel)
    return out


__all__ = ["scatter_reduce", "index_reduce", "index_copy", "index_fill", "index_put", "put", "masked_scatter",
           "take_along_dim", "select_scatter", "slice_scatter", "diagonal_scatter", "diag_embed", "diagflat",
           "cummax", "cummin", "logcumsumexp", "kthvalue", "mode", "quantile", "nanquantile", "nanmedian", "msort",
           "unique_consecutive", "histc", "histogram", "rot90", "unravel_index", "block_diag", "cartesian_prod",
           "combinations", "vander", "inner", "ger", "addr", "vdot", "dist", "cov", "corrcoef", "trapezoid", "trapz",
           "cumulative_trapezoid", "as_strided", "poisson", "binomial"]

# Tensor methods (attached by tensor.py): the functions above taking the tensor first, and the in-place ones
METHODS = ["scatter_reduce", "scatter_reduce_", "index_reduce", "index_reduce_", "index_copy", "index_copy_",
           "index_fill", "index_fill_", "index_put", "put", "put_", "masked_scatter", "masked_scatter_",
           "take_along_dim", "select_scatter", "slice_scatter", "diagonal_scatter", "diag_embed", "diagflat",
           "cummax", "cummin", "logcumsumexp", "cumsum_", "cumprod_", "kthvalue", "mode", "quantile", "nanquantile",
           "nanmedian", "msort", "unique_consecutive", "histc", "histogram", "rot90", "inner", "ger", "addr", "vdot",
           "dist", "as_strided", "unsqueeze_", "squeeze_", "t_", "transpose_", "swapaxes_", "swapdims_",
           "exponential_", "geometric_", "log_normal_", "cauchy_", "random_", "cov", "corrcoef"]

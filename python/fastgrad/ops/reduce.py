"""Reductions: sum and mean (Sum), and one table-driven family (Reduce, one C kernel with an op
code) for prod, max/min (values and indices), amax/amin, logsumexp, var, std, norm and cumsum.

The kernel reduces the middle axis of x seen as (outer, n, inner): the contiguous buffer needs no
copy to reduce any dimension, and adjacent dimensions merge into one axis. Dimensions that are not
adjacent are reduced one run at a time (for the ops where that is the same thing)."""
import collections
import math
import numbers

from .._C import ffi, lib
from ..autograd import Op, broadcast_strides, grad_buffer
from ..dtypes import bool_, int64, kernels
from ..tensor import Tensor, _view, empty, tensor
from .elementwise import binary
from ._checks import cast_to, float_arg, tensor_arg

# PyTorch's torch.return_types.max and friends: a named (values, indices) pair
MaxMin = collections.namedtuple("max", ["values", "indices"])


def reduce_dims(x, dim, op):
    """`dim` (None, an int or a sequence of ints) as a sorted tuple of dimensions of x; None is all
    of them. Out-of-range and repeated dims are errors (as PyTorch's)."""
    return reduce_dims_of(x._shape, dim, op)


_reduce_dims = {}   # (shape, dim) -> dims, for dim None or an int


def reduce_dims_of(shape, dim, op):
    """reduce_dims for a tensor of `shape`; worked out once per shape for dim None or an int (a bool
    dim, refused, is never looked up: True == 1)."""
    if dim is None or type(dim) is int:
        dims = _reduce_dims.get((shape, dim))
        if dims is None:
            dims = _dims_of(shape, dim, op)
            if len(_reduce_dims) >= 4096:   # a bound for programs whose shapes never repeat
                _reduce_dims.clear()
            _reduce_dims[shape, dim] = dims
        return dims
    return _dims_of(shape, dim, op)


def _dims_of(shape, dim, op):
    x_ndim = len(shape)
    if dim is None:
        return tuple(range(x_ndim))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    ndim = max(x_ndim, 1)
    seen = []
    for d in dims:
        if not isinstance(d, numbers.Integral) or isinstance(d, bool):
            raise TypeError(f"{op}: dim must be an integer or a tuple of integers, got {d!r}")
        if not -ndim <= d < ndim:
            raise IndexError(f"{op}: dimension {d} is out of range for a tensor of shape {shape}")
        d = int(d) % ndim
        if d in seen:
            raise ValueError(f"{op}: dim {d} appears multiple times in the list of dims")
        seen.append(d)
    return tuple(sorted(d for d in seen if d < x_ndim))


def _out_shape(shape, dims, keepdim):
    return tuple(1 if i in dims else d for i, d in enumerate(shape)) if keepdim else \
        tuple(d for i, d in enumerate(shape) if i not in dims)


class Sum(Op):
    """Sum (or mean) over all elements, or over `dim` (an int or a tuple of ints). Integer and bool
    sums are int64, as in PyTorch; the mean of integers is an error, as in PyTorch."""
    reads = ()   # backward needs shapes only

    def __init__(self, dim=None, keepdim=False, mean=False):
        self.dim, self.keepdim, self.mean = dim, keepdim, mean

    def forward(self, x):
        op = "mean" if self.mean else "sum"
        if type(x) is not Tensor:
            tensor_arg(x, op)
        plan = _sum_plan(x._shape, x.ndim, self.dim, self.keepdim, op)
        if not x._dtype.is_floating_point:
            if self.mean:
                raise TypeError(f"mean(): could not infer output dtype: the input is {x._dtype!r}; use "
                                f".float().mean() (as in PyTorch)")
            return reduce(cast_to(x, int64), lib.FG_RED_SUM, list(plan.dims), self.keepdim)
        self.kept = plan.kept   # the keepdim shape
        count = plan.count
        self.scale = (1.0 / count if count else float("nan")) if self.mean else 1.0   # mean of nothing is NaN
        if plan.full:   # full reduction: one pass, accumulated in double
            out = empty(plan.shape, x._dtype, 1)
            x._dtype.k.sum(out._buf, x._buf, x._numel, self.scale)
        else:
            out = empty(plan.shape, x._dtype, plan.numel, zeroed=True)
            if count == 0:
                kernels.fill(out._buf, x._dtype.code, 0.0 * self.scale, 0, out._numel)
            elif out._numel:
                x._dtype.k.sum_to(out._buf, x._buf, self.scale, plan.shape_c, plan.strides_c, x.ndim)
        return self.record(out, x)

    def _backward(self, g):
        """dx += scale * g, with g broadcast back over the summed dimensions."""
        x, = self.inputs
        dx = grad_buffer(x)   # an empty x still gets its (empty) zero gradient, as in PyTorch
        if x._numel == 0:
            return
        if self.scale != 1.0:
            g = binary(lib.FG_MUL, g, tensor(self.scale, dtype=g.dtype))
        x.dtype.k.binary_bcast(dx, dx, g._buf, lib.FG_ADD, x._shape, broadcast_strides(x._shape, x._shape),
                               broadcast_strides(self.kept, x._shape), x.ndim)


class _SumPlan:
    """What Sum works out from an input shape, dim and keepdim: the sorted dims, the keepdim shape,
    the result's shape and element count, how many elements each sum takes, and the C arrays of
    fg_sum_to (the input shape, and the result's strides over it)."""
    __slots__ = ("dims", "kept", "shape", "numel", "count", "full", "shape_c", "strides_c")

    def __init__(self, shape, ndim, dims, keepdim):
        self.dims = dims
        self.kept = tuple(1 if i in dims else d for i, d in enumerate(shape))
        self.shape = self.kept if keepdim else tuple(d for i, d in enumerate(shape) if i not in dims)
        self.numel = math.prod(self.shape)
        self.count = math.prod(shape[i] for i in dims)
        self.full = len(dims) == ndim
        self.shape_c = ffi.new("int64_t[]", shape or (0,))
        self.strides_c = ffi.new("int64_t[]", broadcast_strides(self.kept, shape) or [0])


_sum_plans = {}


def _sum_plan(shape, ndim, dim, keepdim, op):
    """The _SumPlan, made once per (shape, dim, keepdim) for dim None or an int (a bool dim is
    refused by reduce_dims, never looked up: True == 1)."""
    if dim is not None and type(dim) is not int:
        return _SumPlan(shape, ndim, reduce_dims_of(shape, dim, op), keepdim)
    key = (shape, dim, bool(keepdim))
    plan = _sum_plans.get(key)
    if plan is None:
        plan = _SumPlan(shape, ndim, reduce_dims_of(shape, dim, op), keepdim)
        if len(_sum_plans) >= 4096:   # a bound for programs whose shapes never repeat
            _sum_plans.clear()
        _sum_plans[key] = plan
    return plan


# op code: (name, integer inputs allowed, reduces several dims by runs, refuses an empty axis)
_REDUCE = {
    lib.FG_RED_SUM: ("sum", True, True, False), lib.FG_RED_PROD: ("prod", True, False, False),
    lib.FG_RED_MAX: ("max", True, False, True), lib.FG_RED_MIN: ("min", True, False, True),
    lib.FG_RED_AMAX: ("amax", True, True, True), lib.FG_RED_AMIN: ("amin", True, True, True),
    lib.FG_RED_LOGSUMEXP: ("logsumexp", False, True, False), lib.FG_RED_VAR: ("var", False, False, False),
    lib.FG_RED_STD: ("std", False, False, False), lib.FG_RED_NORM: ("norm", False, True, False),
    lib.FG_RED_CUMSUM: ("cumsum", True, False, False), lib.FG_RED_CUMMAX: ("cummax", True, False, False),
    lib.FG_RED_CUMMIN: ("cummin", True, False, False), lib.FG_RED_LOGCUMSUMEXP: ("logcumsumexp", False, False, False),
}
_SCANS = frozenset((lib.FG_RED_CUMSUM, lib.FG_RED_CUMMAX, lib.FG_RED_CUMMIN, lib.FG_RED_LOGCUMSUMEXP))
_WITH_INDICES = frozenset((lib.FG_RED_MAX, lib.FG_RED_MIN, lib.FG_RED_CUMMAX, lib.FG_RED_CUMMIN))


class Reduce(Op):
    """One reduction over the adjacent dimensions `dims` of x (all of them: one flat axis). `p` is
    var/std's correction or norm's order. With indices=True (max/min over a dim) the forward also
    keeps the index of each extreme in self.indices (an int64 tensor of the output's shape)."""

    def __init__(self, code, dims, keepdim=False, p=0.0, indices=False):
        self.code, self.dims, self.keepdim, self.p, self.want_indices = code, tuple(dims), keepdim, float(p), indices

    def forward(self, x):
        name, ints, _, refuse_empty = _REDUCE[self.code]
        if ints:
            tensor_arg(x, name)
            if x._dtype is bool_ or (not x._dtype.is_floating_point and self.code in (lib.FG_RED_SUM, lib.FG_RED_PROD,
                                                                                     lib.FG_RED_CUMSUM)):
                x = cast_to(x, int64)
        else:
            x = float_arg(x, name)
        key = (x._shape, self.dims, bool(self.keepdim), self.code in _SCANS, refuse_empty)
        geometry = _geometries.get(key)
        if geometry is None:   # worked out (and checked) once per shape, dims and kind of op
            geometry = _geometry(name, x, *key[1:])
            if len(_geometries) >= 4096:   # a bound for programs whose shapes never repeat
                _geometries.clear()
            _geometries[key] = geometry
        outer, n, inner, out_shape = geometry
        out = empty(out_shape, x._dtype)
        self.geometry = (outer, n, inner)
        idx = ffi.NULL
        if self.want_indices or self.code in _WITH_INDICES:
            self.indices = empty(out_shape, int64)
            idx = self.indices._buf
        if out._numel:
            x._dtype.k.reduce(out._buf, idx, x._buf, self.code, self.p, outer, n, inner)
        self.out_buf = self.save_output(out)   # backward reads the output; the op keeps its buffer
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        dx = grad_buffer(x)
        if x._numel and g._numel:
            idx = self.indices._buf if self.code in _WITH_INDICES else ffi.NULL
            x._dtype.k.reduce_backward(dx, g._buf, x._buf, self.out_buf, idx, self.code, self.p, *self.geometry)


_geometries = {}


def _geometry(name, x, dims, keepdim, cumsum, refuse_empty):
    """(outer, n, inner, out_shape) of Reduce over `dims` of x, or the error for reducing them."""
    if dims and dims != tuple(range(dims[0], dims[-1] + 1)):
        raise ValueError(f"{name}: dims {dims} are not adjacent")   # reduce() splits them first
    shape = x._shape
    if dims:
        outer, n, inner = (math.prod(shape[:dims[0]]), math.prod(shape[dims[0]:dims[-1] + 1]),
                           math.prod(shape[dims[-1] + 1:]))
    else:   # a 0-d tensor, or no dims: each element its own axis of one
        outer, n, inner = x._numel, 1, 1
    if n == 0 and refuse_empty and outer * inner:
        raise IndexError(f"{name}(): cannot reduce over a zero-size dimension of shape {shape}; "
                         f"the result would have no elements to take")
    if n == 0 and refuse_empty and not dims:
        raise RuntimeError(f"{name}(): the input has no elements; specify a dim")
    return outer, n, inner, shape if cumsum else _out_shape(shape, dims, keepdim)


def reduce(x, code, dims, keepdim=False, p=0.0):
    """x reduced by `code` over `dims` (sorted): one Reduce for adjacent dims; runs of adjacent dims
    one after the other (last first, keeping dims) where the op allows it."""
    dims = tuple(dims)
    runs = []
    for d in dims:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    if len(runs) <= 1:
        return Reduce(code, dims, keepdim, p).forward(x)
    name, _, by_runs, _ = _REDUCE[code]
    if not by_runs:
        raise NotImplementedError(f"{name}: reducing dims {dims} that are not adjacent is not supported; "
                                  f"permute them next to each other first")
    for run in reversed(runs):
        x = Reduce(code, run, True, p).forward(x)
    if not keepdim:
        from .shape import Reshape
        x = Reshape(_out_shape(x._shape, dims, False)).forward(x)
    return x


def max_min(x, dim, keepdim, largest, indices_only=False):
    """max/min over `dim` as PyTorch returns them: (values, indices); with indices_only, argmax."""
    name = ("argmax" if largest else "argmin") if indices_only else ("max" if largest else "min")
    tensor_arg(x, name)
    if dim is None:   # argmax over everything: the flat index
        if x._numel == 0:
            raise RuntimeError(f"{name}(): the input has no elements; specify a dim")
        flat = _view(x, (x._numel,), False)
        out = max_min(flat, 0, False, largest, True)
        return _view(out, (1,) * x.ndim, False) if keepdim else out
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}: dim must be one integer, got {dim!r}")
    dims = reduce_dims(x, dim, name)
    op = Reduce(lib.FG_RED_MAX if largest else lib.FG_RED_MIN, dims, keepdim, indices=True)
    values = op.forward(x.detach() if indices_only else x)
    return op.indices if indices_only else MaxMin(values, op.indices)

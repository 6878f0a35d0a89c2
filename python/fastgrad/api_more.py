"""More of PyTorch's tensor functions (the math helper's second block): atan2, hypot, fmod,
remainder, floor_divide (op codes of the binary kernel, ops/elementwise.py BinaryMath); reductions
and utilities composed from existing ops; in-place unary variants. Each is also a Tensor method
(tensor.py)."""
from . import inplace
from .ops._checks import tensor_arg
from .ops.elementwise import BinaryMath
from .tensor import Tensor

__all__ = ["atan2", "arctan2", "hypot", "fmod", "remainder", "floor_divide"]


def _binary(name, input, other):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}: expects a fastgrad Tensor, got {type(input).__name__} and {type(other).__name__}")
    return BinaryMath(name).forward(input, other)


def atan2(input, other):
    """The angle of (other, input) in radians: atan(input / other) in the right quadrant."""
    return _binary("atan2", input, other)


arctan2 = atan2


def hypot(input, other):
    return _binary("hypot", input, other)


def fmod(input, other):
    """The remainder of truncated division: the sign of input (C's fmod)."""
    return _binary("fmod", input, other)


def remainder(input, other):
    """The remainder of floored division: the sign of other (Python's %)."""
    return _binary("remainder", input, other)


def floor_divide(input, other):
    """input / other rounded toward -inf (Python's //); no gradient, as in PyTorch."""
    return _binary("floor_divide", input, other)


def _in_place(fn, name):
    def method(self, other):
        tensor_arg(self, name, "self")
        return inplace.apply(self, lambda t: fn(t, other), name, other)
    method.__name__ = name
    return method


atan2_ = _in_place(atan2, "atan2_")
hypot_ = _in_place(hypot, "hypot_")
fmod_ = _in_place(fmod, "fmod_")
remainder_ = _in_place(remainder, "remainder_")
floor_divide_ = _in_place(floor_divide, "floor_divide_")


# ---- reductions and utilities, composed from existing ops (their gradients are PyTorch's) ----------
import collections  # noqa: E402
import math  # noqa: E402
import numbers  # noqa: E402

from . import functions as _fn  # noqa: E402
from .autograd import broadcast_shape  # noqa: E402
from .dtypes import bool_  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops.index import nonzero  # noqa: E402
from .ops.matmul import bmm, matmul  # noqa: E402
from .tensor import _dim_index  # noqa: E402

__all__ += ["count_nonzero", "argwhere", "nansum", "nanmean", "std_mean", "var_mean", "aminmax", "diff", "tile",
            "tensordot", "baddbmm", "addbmm", "addmv"]


def count_nonzero(input, dim=None):
    """The number of nonzero elements (NaN counts), over all or over dim (an int or a tuple): int64."""
    tensor_arg(input, "count_nonzero")
    return _fn.sum(_fn.ne(input, 0), dim)


def argwhere(input):
    """The coordinates of input's nonzero elements, (count, ndim) int64: nonzero(input)."""
    tensor_arg(input, "argwhere")
    return nonzero(input)


def _nan_zeroed(input, op):
    tensor_arg(input, op)
    if not input.dtype.is_floating_point:
        return input
    return _fn.where(_fn.isnan(input), 0.0, input)   # a NaN's gradient is 0, as PyTorch's


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """sum with NaNs counted as zero."""
    x = _nan_zeroed(input, "nansum")
    return _fn.sum(x if dtype is None else x.to(dtype), dim, keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the elements that are not NaN (NaN where all are)."""
    tensor_arg(input, "nanmean")
    if not input.dtype.is_floating_point:
        raise TypeError(f"nanmean(): expected input to have floating point dtype but got {input.dtype!r}")
    if dtype is not None:
        input = input.to(dtype)
    count = _fn.sum(_fn.logical_not(_fn.isnan(input)), dim, keepdim)
    return nansum(input, dim, keepdim) / count.to(input.dtype)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over the same dimensions, var with PyTorch's correction (1 by default)."""
    if isinstance(dim, bool):   # var_mean(x, False): PyTorch's (input, unbiased) form
        dim, unbiased = None, dim
    return _fn.var(input, dim, unbiased, keepdim, correction=correction), _fn.mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over the same dimensions, as var_mean."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return _fn.std(input, dim, unbiased, keepdim, correction=correction), _fn.mean(input, dim, keepdim)


_aminmax = collections.namedtuple("aminmax", ["min", "max"])


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) as a named pair, over all or over one dimension."""
    tensor_arg(input, "aminmax")
    if input._numel == 0 and (dim is None or input.shape[_dim_index(dim, input.ndim, "aminmax")] == 0):
        raise ValueError(f"aminmax(): cannot compute aminmax over an empty dimension (input of shape {input.shape})")
    if dim is None:
        lo, hi = _fn.amin(input), _fn.amax(input)
        if keepdim:
            lo, hi = lo.reshape((1,) * input.ndim), hi.reshape((1,) * input.ndim)
        return _aminmax(lo, hi)
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"aminmax(): dim must be one integer, got {dim!r}")
    return _aminmax(_fn.amin(input, dim, keepdim), _fn.amax(input, dim, keepdim))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim (x[i+1] - x[i], logical xor for bool), after joining
    prepend and append to input along dim."""
    tensor_arg(input, "diff")
    if input.ndim == 0:
        raise ValueError("diff expects input to be at least one-dimensional")
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise ValueError(f"diff: order must be a non-negative integer, got {n!r}")
    d = _dim_index(dim, input.ndim, "diff")
    parts = []
    for name, t in (("prepend", prepend), (None, input), ("append", append)):
        if t is None:
            continue
        if name is not None:
            tensor_arg(t, "diff", name)
            if t.ndim != input.ndim:
                raise ValueError(f"diff: {name} must have the same number of dimensions as input ({input.ndim}), got "
                                 f"shape {t.shape}")
        parts.append(t)
    x = parts[0] if len(parts) == 1 else _shape.cat(parts, d)
    for _ in range(n):
        length = x.shape[d]
        if length <= 1:
            return x.narrow(d, 0, 0)
        hi, lo = x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1)
        x = _fn.logical_xor(hi, lo) if x.dtype is bool_ else hi - lo
    return x


def tile(input, dims):
    """input repeated dims[i] times along each dimension; dims shorter than input.ndim are padded
    with ones in front (numpy's tile), longer ones add dimensions."""
    tensor_arg(input, "tile")
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    dims = tuple(dims)
    return input.repeat(*((1,) * (input.ndim - len(dims)) + dims))


def tensordot(a, b, dims=2, out=None):
    """Sums a * b over the dimensions dims pairs (an int n: a's last n with b's first n; or two
    lists), the rest of a's then b's dimensions kept: one matmul between two permuted reshapes."""
    if out is not None:
        raise NotImplementedError("tensordot: out= is not supported; use the returned tensor")
    tensor_arg(a, "tensordot", "a"), tensor_arg(b, "tensordot", "b")
    if isinstance(dims, numbers.Integral) and not isinstance(dims, bool):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims must be in [0, {min(a.ndim, b.ndim)}] for shapes {a.shape} and "
                             f"{b.shape}, got {dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, (tuple, list)) and len(dims) == 2:
        da, db = ([x] if isinstance(x, numbers.Integral) else list(x) for x in dims)
        if len(da) != len(db):
            raise ValueError(f"tensordot: both dimension lists must have the same length, got {da} and {db}")
        da = [_dim_index(x, a.ndim, "tensordot") for x in da]
        db = [_dim_index(x, b.ndim, "tensordot") for x in db]
        if len(set(da)) != len(da) or len(set(db)) != len(db):
            raise ValueError(f"tensordot: a dimension is listed twice in {dims}")
    else:
        raise TypeError(f"tensordot: dims must be an int or a pair of dimension lists, got {dims!r}")
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: contracted dimensions do not match: dimension {i} of a (shape {a.shape}) "
                             f"and dimension {j} of b (shape {b.shape})")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = math.prod(a.shape[i] for i in da)
    left = a.permute(*(free_a + da)).reshape(math.prod(a.shape[i] for i in free_a), k)
    right = b.permute(*(db + free_b)).reshape(k, math.prod(b.shape[j] for j in free_b))
    return matmul(left, right).reshape(*[a.shape[i] for i in free_a], *[b.shape[j] for j in free_b])


def _add_scaled(input, product, beta, alpha, op):
    """beta * input + alpha * product, input broadcast to product's shape (ignored when beta is 0,
    NaN included, as PyTorch)."""
    tensor_arg(input, op, "input")
    if broadcast_shape(input.shape, product.shape) != product.shape:
        raise ValueError(f"{op}: input of shape {input.shape} cannot be broadcast to the product's shape "
                         f"{product.shape}")
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    return product + (input if beta == 1 else input * beta)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha, "baddbmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * the sum over the batch of batch1[i] @ batch2[i]."""
    return _add_scaled(input, _fn.sum(bmm(batch1, batch2), 0), beta, alpha, "addbmm")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    from .einsum import mv
    return _add_scaled(input, mv(mat, vec), beta, alpha, "addmv")


# ---- unary functions and in-place variants programs call ----------------------------------------------
__all__ += ["frac", "fix", "positive", "signbit", "bitwise_not"]


def frac(input):
    """input - trunc(input): the fractional part with input's sign (gradient 1, as PyTorch's)."""
    tensor_arg(input, "frac")
    if not input.dtype.is_floating_point:
        raise TypeError(f"frac: expects a floating-point tensor, got {input.dtype!r} (as PyTorch)")
    return input - _fn.trunc(input)


def fix(input):
    """trunc's other name."""
    return _fn.trunc(input)


def positive(input):
    """input itself (PyTorch's positive; bool tensors are refused)."""
    tensor_arg(input, "positive")
    if input.dtype is bool_:
        raise TypeError("positive: the + operator on a bool tensor is not supported (as PyTorch)")
    return input


def signbit(input):
    """True where the sign bit is set: negative numbers, -0.0 and -inf (a NaN counts as unsigned:
    fastgrad has no kernel that reads a NaN's sign bit)."""
    tensor_arg(input, "signbit")
    if input.dtype is bool_:
        return _fn.ne(input, input)   # all False
    negative = _fn.lt(input, 0)
    if not input.dtype.is_floating_point:
        return negative
    return _fn.logical_or(negative, _fn.logical_and(_fn.eq(input, 0), _fn.lt(_fn.reciprocal(input), 0)))   # -0.0


def bitwise_not(input):
    """~input on bool and int64 tensors (-input - 1 in two's complement)."""
    tensor_arg(input, "bitwise_not")
    if input.dtype is bool_:
        return _fn.logical_not(input)
    if input.dtype.is_floating_point:
        raise TypeError(f"bitwise_not: expects an integer or bool tensor, got {input.dtype!r}")
    return -input - 1


def _unary_in_place(fn, name):
    def method(self, *args, **kwargs):
        return inplace.apply(self, lambda t: fn(t, *args, **kwargs), name)
    method.__name__ = name
    return method


def _method(name):
    return lambda t, *args, **kwargs: getattr(t, name)(*args, **kwargs)


IN_PLACE = {name + "_": _unary_in_place(_method(name), name + "_")
            for name in ("log", "log2", "log10", "log1p", "expm1", "floor", "ceil", "round", "trunc", "square", "sign",
                         "reciprocal", "rsqrt", "sin", "cos", "pow", "clamp_min", "clamp_max", "logical_not")}
IN_PLACE.update(frac_=_unary_in_place(frac, "frac_"), fix_=_unary_in_place(fix, "fix_"),
                bitwise_not_=_unary_in_place(bitwise_not, "bitwise_not_"))

"""Module-level forms of the tensor methods, in one place: fg.exp(x), fg.sum(x, dim), fg.where(c, a, b),
fg.max(x, dim), ... with PyTorch's names, signatures and defaults. Tensor's methods call these."""
import builtins
import math
import numbers
import sys

import numpy as _np

from ._C import lib
from . import dtypes as _dtypes
from .dtypes import as_dtype, float32, int64
from .tensor import PRINT_OPTIONS, Tensor, tensor
from . import inplace
from .ops import compare as _cmp
from .ops._checks import cast_to, scalar_first, tensor_arg
from .ops.activation import ReLU, Sigmoid, Tanh
from .ops.compare import Where
from .ops.elementwise import Add as _Add, Div as _Div, Maximum, Minimum, Mul as _Mul, Pow, Sub as _Sub
from .ops.reduce import Reduce, Sum, max_min, reduce, reduce_dims
from .ops.softmax import LogSoftmax, Softmax
from .ops.unary import Clamp, Unary


# ---- unary math -----------------------------------------------------------------------------------
def _unary(name):
    def f(input):
        return Unary(name).forward(input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{name}(input): elementwise, as torch.{name}."
    return f


exp, exp2, expm1, log, log2, log10, log1p = (_unary(n) for n in ("exp", "exp2", "expm1", "log", "log2", "log10",
                                                                  "log1p"))
sqrt, rsqrt, abs, neg, sign, square = (_unary(n) for n in  # noqa: A001
                                       ("sqrt", "rsqrt", "abs", "neg", "sign", "square"))
sin, cos, reciprocal, floor, ceil, trunc = (_unary(n) for n in ("sin", "cos", "reciprocal", "floor", "ceil", "trunc"))
absolute, negative = abs, neg


def round(input, decimals=0):  # noqa: A001
    if decimals != 0:
        raise NotImplementedError("round(decimals=...) is not supported; scale, round and unscale instead")
    return Unary("round").forward(input)


def relu(input):
    return ReLU().forward(input)


def tanh(input):
    return Tanh().forward(input)


def sigmoid(input):
    return Sigmoid().forward(input)


def softmax(input, dim=-1, dtype=None):
    """Along any dim (the kernel works on the last one, so another dim is moved there and back), in
    dtype when given (the input converted first, as PyTorch does)."""
    return _along_last(input, dim, Softmax, "softmax", dtype)


def log_softmax(input, dim=-1, dtype=None):
    return _along_last(input, dim, LogSoftmax, "log_softmax", dtype)


def _along_last(input, dim, op, name, dtype):
    tensor_arg(input, name)
    if dtype is not None:
        input = input.to(dtype)
    ndim = len(input._shape)
    if ndim == 0 or dim in (-1, ndim - 1):
        return op(dim).forward(input)
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool) or not -input.ndim <= dim < input.ndim:
        raise IndexError(f"{name}: dim {dim!r} is out of range for shape {input.shape}")
    return op(-1).forward(input.movedim(dim, -1)).movedim(-1, dim)


def pow(input, exponent):  # noqa: A001
    return Pow().forward(input, exponent)


def maximum(input, other):
    tensor_arg(other, "maximum", "other")
    return Maximum().forward(input, other)


def minimum(input, other):
    tensor_arg(other, "minimum", "other")
    return Minimum().forward(input, other)


def clamp(input, min=None, max=None):  # noqa: A002
    return Clamp(min, max).forward(input)


clip = clamp


def clamp_(input, min=None, max=None):  # noqa: A002
    return inplace.apply(input, lambda t: Clamp(min, max).forward(t), "clamp_", min, max)


# ---- comparisons, logic, selection ------------------------------------------------------------------
def eq(input, other):
    return _cmp.compare("eq", input, other)


def ne(input, other):
    return _cmp.compare("ne", input, other)


def lt(input, other):
    return _cmp.compare("lt", input, other)


def le(input, other):
    return _cmp.compare("le", input, other)


def gt(input, other):
    return _cmp.compare("gt", input, other)


def ge(input, other):
    return _cmp.compare("ge", input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def logical_and(input, other):
    return _cmp.logical("logical_and", input, other)


def logical_or(input, other):
    return _cmp.logical("logical_or", input, other)


def logical_xor(input, other):
    return _cmp.logical("logical_xor", input, other)


def logical_not(input):
    return _cmp.logical("logical_not", input)


isnan, isinf, isfinite = _cmp.isnan, _cmp.isinf, _cmp.isfinite


def where(condition, input=None, other=None):
    """input where condition holds, else other; where(condition) alone is nonzero(condition, as_tuple=True)."""
    if input is None and other is None:
        from .ops.index import nonzero
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (the indices of the true elements)")
    return Where().forward(condition, input, other)


def masked_fill(input, mask, value):
    return _cmp.masked_fill(input, mask, value)


def masked_fill_(input, mask, value):
    return inplace.apply(input, lambda t: _cmp.masked_fill(t, mask, value), "masked_fill_", value)


def _count(input, dim, keepdim, name):
    """(number of true elements over dim as int64, number of elements reduced)."""
    tensor_arg(input, name)
    dims = reduce_dims(input, dim, name)
    truth = cast_to(_cmp._truth(input, name), int64)
    return reduce(truth, lib.FG_RED_SUM, dims, keepdim), math.prod(input._shape[d] for d in dims)


def any(input, dim=None, keepdim=False):  # noqa: A001
    count, _ = _count(input, dim, keepdim, "any")
    return gt(count, 0)


def all(input, dim=None, keepdim=False):  # noqa: A001
    count, total = _count(input, dim, keepdim, "all")
    return eq(count, total)


# ---- reductions -----------------------------------------------------------------------------------
def _as_reduced_dtype(input, dtype):
    """The `dtype=` of PyTorch's reductions: the input is cast to it before reducing."""
    return input if dtype is None else input.to(dtype)


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    return Sum(dim, keepdim).forward(_as_reduced_dtype(input, dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    return Sum(dim, keepdim, mean=True).forward(_as_reduced_dtype(input, dtype))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    tensor_arg(input, "prod")
    input = _as_reduced_dtype(input, dtype)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod: dim must be one integer, got {dim!r}")
    return reduce(input, lib.FG_RED_PROD, reduce_dims(input, dim, "prod"), keepdim)


def _max_or_min(input, dim, keepdim, largest):
    name = "max" if largest else "min"
    if isinstance(dim, Tensor):   # max(a, b): the elementwise maximum
        return (maximum if largest else minimum)(input, dim)
    if dim is None:
        tensor_arg(input, name)
        if keepdim:
            raise TypeError(f"{name}(): keepdim needs a dim")
        if input._numel == 0:
            raise RuntimeError(f"{name}(): the input has no elements; specify a dim")
        code = lib.FG_RED_AMAX if largest else lib.FG_RED_AMIN
        return Reduce(code, tuple(range(input.ndim)), False, p=1.0).forward(input)   # p = 1: NaN ties NaN
    return max_min(input, dim, keepdim, largest)


def max(input, dim=None, keepdim=False):  # noqa: A001
    """max(x): the largest element; max(x, dim, keepdim): (values, indices); max(x, other): maximum."""
    return _max_or_min(input, dim, keepdim, True)


def min(input, dim=None, keepdim=False):  # noqa: A001
    return _max_or_min(input, dim, keepdim, False)


def argmax(input, dim=None, keepdim=False):
    return max_min(input, dim, keepdim, True, indices_only=True)


def argmin(input, dim=None, keepdim=False):
    return max_min(input, dim, keepdim, False, indices_only=True)


def amax(input, dim=(), keepdim=False):
    tensor_arg(input, "amax")
    dims = reduce_dims(input, None if dim == () else dim, "amax")
    return reduce(input, lib.FG_RED_AMAX, dims, keepdim)


def amin(input, dim=(), keepdim=False):
    tensor_arg(input, "amin")
    dims = reduce_dims(input, None if dim == () else dim, "amin")
    return reduce(input, lib.FG_RED_AMIN, dims, keepdim)


def logsumexp(input, dim, keepdim=False):
    tensor_arg(input, "logsumexp")
    return reduce(input, lib.FG_RED_LOGSUMEXP, reduce_dims(input, dim, "logsumexp"), keepdim)


def _correction(unbiased, correction, name):
    if correction is not None:
        if unbiased is not None:
            raise TypeError(f"{name}: give unbiased or correction, not both")
        if not isinstance(correction, numbers.Real) or isinstance(correction, bool):
            raise TypeError(f"{name}: correction must be a number, got {correction!r}")
        return float(correction)
    return 0.0 if unbiased is False else 1.0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):   # var(False): PyTorch's var(unbiased)
        dim, unbiased = None, dim
    tensor_arg(input, "var")
    p = _correction(unbiased, correction, "var")
    return reduce(input, lib.FG_RED_VAR, reduce_dims(input, dim, "var"), keepdim, p)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    tensor_arg(input, "std")
    p = _correction(unbiased, correction, "std")
    return reduce(input, lib.FG_RED_STD, reduce_dims(input, dim, "std"), keepdim, p)


def cumsum(input, dim, *, dtype=None):
    tensor_arg(input, "cumsum")
    if isinstance(dim, (tuple, list)) or dim is None:
        raise TypeError(f"cumsum: dim must be one integer, got {dim!r}")
    input = _as_reduced_dtype(input, dtype)
    return Reduce(lib.FG_RED_CUMSUM, reduce_dims(input, dim, "cumsum")).forward(input)


def norm(input, p="fro", dim=None, keepdim=False):
    """The vector p-norm over dim (all elements by default): p = 'fro' (2), 1, 2, inf or any p > 0."""
    tensor_arg(input, "norm")
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str) or isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(f"norm: p must be 'fro', inf or a number > 0, got {p!r} (nuclear, 0 and negative "
                         f"orders are not supported)")
    return reduce(input, lib.FG_RED_NORM, reduce_dims(input, dim, "norm"), keepdim, float(p))


__all__ = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "abs", "absolute", "neg",
           "negative", "sign", "square", "sin", "cos", "reciprocal", "floor", "ceil", "round", "trunc", "relu",
           "tanh", "sigmoid", "softmax", "log_softmax", "pow", "maximum", "minimum", "clamp", "clip", "clamp_",
           "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "where",
           "masked_fill", "masked_fill_", "any", "all", "sum", "mean", "prod", "max", "min", "argmax", "argmin",
           "amax", "amin", "logsumexp", "var", "std", "cumsum", "norm"]


# ---- the lead's additions: sorting, matrix products by their other names, comparisons of whole tensors --
from .ops.sort import argsort, sort, topk  # noqa: E402
from .ops.matmul import matmul as _matmul  # noqa: E402


def mm(input, mat2):
    """The product of two matrices (2-D only, as torch.mm)."""
    if not (isinstance(input, Tensor) and isinstance(mat2, Tensor) and input.ndim == 2 and mat2.ndim == 2):
        raise ValueError(f"mm: expects two 2-D tensors, got {_shape_of(input)} and {_shape_of(mat2)}")
    return _matmul(input, mat2)


def dot(input, other):
    """The dot product of two 1-D tensors."""
    if not (isinstance(input, Tensor) and isinstance(other, Tensor) and input.ndim == 1 and other.ndim == 1):
        raise ValueError(f"dot: expects two 1-D tensors, got {_shape_of(input)} and {_shape_of(other)}")
    return _matmul(input, other)


def outer(input, vec2):
    """input[i] * vec2[j] for 1-D tensors."""
    if not (isinstance(input, Tensor) and isinstance(vec2, Tensor) and input.ndim == 1 and vec2.ndim == 1):
        raise ValueError(f"outer: expects two 1-D tensors, got {_shape_of(input)} and {_shape_of(vec2)}")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


def _shape_of(x):
    return f"shape {x.shape}" if isinstance(x, Tensor) else type(x).__name__


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (equal infinities are close), as a bool tensor."""
    close = (input - other).abs() <= atol + rtol * _as(other, input).abs()
    close = close | (input == other)
    if equal_nan:
        close = close | (input.isnan() & _as(other, input).isnan())
    return close


def _as(x, like):
    return x if isinstance(x, Tensor) else tensor(x, dtype=like.dtype)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """True if both have the same shape and elements."""
    return input.shape == other.shape and bool((input == other).all())


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def as_tensor(data, dtype=None, device=None):
    """data itself when it is already a tensor of that dtype, else a new tensor (fg.tensor)."""
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) is data.dtype):
        return data
    return tensor(data.numpy() if isinstance(data, Tensor) else data, dtype=dtype, device=device)


def get_default_dtype() -> _dtypes.DType:
    return _dtypes.default_float()


def set_default_dtype(d: object) -> None:
    """The float dtype that float data, fg.zeros, fg.randn, layers' parameters, ... get when no
    dtype is given: fg.float32 (the default) or fg.float64, as torch.set_default_dtype."""
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, got {d!r}")
    _dtypes._default_float[0] = d


pi, e, inf, nan = math.pi, math.e, math.inf, math.nan

__all__ += ["sort", "argsort", "topk", "mm", "dot", "outer", "isclose", "allclose", "equal", "is_tensor", "numel",
            "as_tensor", "get_default_dtype", "set_default_dtype", "pi", "e", "inf", "nan"]


# ---- arithmetic by name: torch.add(x, y, alpha=2), x.mul(y), torch.div(x, y, rounding_mode="floor") --
def add(input, other, *deprecated, alpha=1):
    """input + alpha * other, as torch.add (and its deprecated add(input, alpha, other))."""
    if deprecated:
        (other,), alpha = scalar_first("add", "alpha", other, deprecated, 1, alpha)
    return _Add().forward(input, _scaled(other, alpha, "add"))


def sub(input, other, *deprecated, alpha=1):
    """input - alpha * other, as torch.sub (and its deprecated sub(input, alpha, other))."""
    if deprecated:
        (other,), alpha = scalar_first("sub", "alpha", other, deprecated, 1, alpha)
    return _Sub().forward(input, _scaled(other, alpha, "sub"))


def mul(input, other):
    return _Mul().forward(input, other)


def div(input, other, *, rounding_mode=None):
    """input / other, as torch.div: true division (integers give floats), or with rounding_mode
    "trunc" / "floor" the quotient rounded toward zero / down (integers then give int64, and a zero
    divisor raises ZeroDivisionError)."""
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}")
    if rounding_mode is None:
        return _Div().forward(input, other)
    integers = not builtins.any(a.dtype.is_floating_point if isinstance(a, Tensor) else isinstance(a, float)
                                for a in (input, other))
    if not integers:
        return (floor if rounding_mode == "floor" else trunc)(_Div().forward(input, other))
    from .api_more import floor_divide, fmod   # exact int64 kernels (they refuse a zero divisor)
    input = input if isinstance(input, Tensor) else tensor(input)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    return floor_divide(input - fmod(input, other), other)   # a multiple of other: its floor is the truncation


def _scaled(other, alpha, name):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Number):
        raise TypeError(f"{name}: alpha must be a number, got {type(alpha).__name__}")
    return other if alpha == 1 else other * alpha


tan = _unary("tan")   # an op code of the unary kernel, as sin and cos (fastgrad/math_more.py has the rest)


def select(input, dim, index):
    """input's slice at index along dim, that dimension removed (as input[..., index, ...])."""
    tensor_arg(input, "select")
    if input.dim() == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or not -input.dim() <= dim < input.dim():
        raise IndexError(f"select: dim {dim!r} is out of range for a tensor of {input.dim()} dimensions")
    dim = dim % input.dim()
    size = input.shape[dim]
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not -size <= index < size:
        raise IndexError(f"select(): index {index!r} out of range for tensor of size {tuple(input.shape)} at "
                         f"dimension {dim}")
    return input.narrow(dim, int(index) % size, 1).squeeze(dim)


def detach(input):
    return tensor_arg(input, "detach").detach()


subtract, multiply, divide, true_divide = sub, mul, div, div
__all__ += ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "tan", "select", "detach"]


# ---- printing and the limits of the dtypes -------------------------------------------------------------
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, max_line_width=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, max_line_width=80),
             "full": dict(precision=4, threshold=builtins.float("inf"), edgeitems=3, max_line_width=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print, as torch.set_printoptions: a profile ("default", "short", "full") and/or the
    single options; sci_mode=False never uses scientific notation, None lets the values decide."""
    options = dict(PRINT_OPTIONS)
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        options = dict(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("max_line_width", linewidth)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"set_printoptions: {name.replace('max_line_', 'line')} must be a non-negative "
                                 f"number, got {value!r}")
            options[name] = value
    if options.get("threshold") == builtins.float("inf"):
        options["threshold"] = sys.maxsize   # numpy's "never summarise"
    if sci_mode is not None:
        options["suppress_small"] = not sci_mode
    PRINT_OPTIONS.clear()
    PRINT_OPTIONS.update({k: v if k == "suppress_small" else int(v) for k, v in options.items()})


class finfo:
    """The limits of a float dtype (the default one with no argument), as torch.finfo."""

    def __init__(self, type=None):  # noqa: A002
        dtype = _dtypes.default_float() if type is None else as_dtype(type)
        if not dtype.is_floating_point:
            raise TypeError(f"finfo: {dtype!r} is not a floating point dtype (use iinfo)")
        info = _np.finfo(dtype.np)
        self.dtype, self.bits = dtype.name, info.bits
        self.eps, self.max, self.min = builtins.float(info.eps), builtins.float(info.max), builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.tiny)
        self.resolution = 10.0 ** -info.precision   # (numpy gives it in the dtype: float32 1e-6 is 9.99e-7)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, "
                f"smallest_normal={self.smallest_normal}, tiny={self.tiny}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, as torch.iinfo."""

    def __init__(self, type):  # noqa: A002
        dtype = as_dtype(type)
        if dtype.is_floating_point or dtype is _dtypes.bool_:
            raise TypeError(f"iinfo: {dtype!r} is not an integer dtype (use finfo)")
        info = _np.iinfo(dtype.np)
        self.dtype, self.bits, self.max, self.min = dtype.name, info.bits, builtins.int(info.max), builtins.int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


__all__ += ["set_printoptions", "finfo", "iinfo"]

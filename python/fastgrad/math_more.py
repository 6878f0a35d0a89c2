"""PyTorch's remaining elementwise math, its other names for it, and its in-place forms, one table per idea:
- UNARY: functions that are op codes of the unary kernel (ops/unary.py UNARY): tan, asin, ..., lgamma,
  digamma, sinc, i0 (and torch.special's i0e, i1, i1e);
- BINARY: op codes of the binary kernel (ops/elementwise.py BinaryMath.TABLE): copysign, heaviside,
  fmax, fmin, logaddexp2, nextafter, the bitwise ops and shifts, gcd, lcm;
- composed from recorded ops where the composition is PyTorch's own formula: deg2rad, rad2deg,
  float_power, ldexp, rsub, clamp_min, clamp_max, mvlgamma and torch.special's xlog1py, entr, ndtr;
- ALIASES: PyTorch's other names (arcsin is asin, greater is gt, ...), as functions, methods and
  in-place methods at once;
- IN_PLACE: the in-place methods (x.asin_(), x.gt_(y), x.gcd_(y), ...), each computed out of place and
  written back (inplace.apply), as the other composed in-place forms are;
- OPERATORS: << and >> (and &, |, ^ in place) on int64 and bool tensors.
Tensor's methods come from METHODS (tensor.py sets them); fastgrad/__init__.py exports __all__."""
import math
import numbers

from . import api_more as _api_more, einsum as _einsum, functions as _fn, pointwise as _pw
from .api_ported import logit, special, xlogy
from .dtypes import float64
from .functions import _unary
from .ops._checks import float_arg, tensor_arg
from .tensor import Tensor, tensor as _tensor

# ---- unary functions: op codes of the unary kernel ------------------------------------------------------
UNARY = ("tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "lgamma", "digamma", "sinc", "i0")
tan = _fn.tan   # functions.py's, for Tensor.tan
asin, acos, atan, sinh, cosh, asinh, acosh, atanh, lgamma, digamma, sinc, i0 = (_unary(n) for n in UNARY[1:])
i0e, i1, i1e = (_unary(n) for n in ("i0e", "i1", "i1e"))   # torch.special's only


# ---- binary functions: op codes of the binary kernel ----------------------------------------------------
def _binary(name):
    if name == "heaviside":   # PyTorch names its second operand `values`
        def f(input, values):
            return _api_more._binary(name, input, values)
    else:
        def f(input, other):
            return _api_more._binary(name, input, other)   # (atan2's: one tensor at least, then BinaryMath)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{name}(input, other): elementwise, as torch.{name} (an op code of ops/elementwise.py BinaryMath)."
    return f


BINARY = ("copysign", "heaviside", "fmax", "fmin", "logaddexp2", "nextafter", "bitwise_and", "bitwise_or",
          "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm")
(copysign, heaviside, fmax, fmin, logaddexp2, nextafter, bitwise_and, bitwise_or, bitwise_xor, bitwise_left_shift,
 bitwise_right_shift, gcd, lcm) = (_binary(n) for n in BINARY)


# ---- composed from recorded ops --------------------------------------------------------------------------
def deg2rad(input):
    """input · π/180 (integers become float32), as PyTorch's: one multiplication."""
    return float_arg(input, "deg2rad") * (math.pi / 180)


def rad2deg(input):
    return float_arg(input, "rad2deg") * (180 / math.pi)


def float_power(input, exponent):
    """input ** exponent in float64 (either may be a number), as PyTorch's."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power: expects a fastgrad Tensor, got {type(input).__name__} and "
                        f"{type(exponent).__name__}")
    base, exp = (x.to(float64) if isinstance(x, Tensor) else float(_real(x, "float_power"))
                 for x in (input, exponent))
    return base ** exp


def ldexp(input, other):
    """input · 2 ** other, as PyTorch computes it (a float input keeps its dtype; integers become float32)."""
    input = float_arg(input, "ldexp")
    tensor_arg(other, "ldexp", "other")
    return input * (2.0 ** (other if other.dtype.is_floating_point else other.to(input.dtype)))


def rsub(input, other, alpha=1):
    """other - alpha · input (sub with its operands swapped), as torch.rsub."""
    tensor_arg(input, "rsub")
    return _fn.sub(other, input, alpha=alpha)


def clamp_min(input, min):  # noqa: A002
    return _fn.clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return _fn.clamp(input, max=max)


def mvlgamma(input, p):
    """The multivariate log-gamma of dimension p: Σ_j lgamma(x - j/2) + p(p-1)/4·log π, as PyTorch
    writes it; every element must exceed (p - 1)/2."""
    x = tensor_arg(input, "mvlgamma")
    if not isinstance(p, numbers.Integral) or isinstance(p, bool) or p < 1:
        raise ValueError(f"mvlgamma: p must be an integer >= 1, got {p!r}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"mvlgamma: expects a floating-point tensor, got {x.dtype!r} (as PyTorch)")
    if x.numel() and not bool((x > (p - 1) / 2).all()):   # a check, not the op
        raise ValueError(f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    offsets = _tensor([-j / 2 for j in range(p)], dtype=x.dtype)
    return lgamma(x.unsqueeze(-1) + offsets).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


def xlog1py(input, other):
    """input · log1p(other), and 0 where input is 0 unless other is NaN (torch.special.xlog1py)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlog1py: expects a fastgrad Tensor, got {type(input).__name__} and {type(other).__name__}")
    tensor = input if isinstance(input, Tensor) else other
    dtype = float_arg(tensor, "xlog1py").dtype
    input, other = (float_arg(t, "xlog1py") if isinstance(t, Tensor) else _tensor(float(_real(t, "xlog1py")),
                                                                                    dtype=dtype)
                    for t in (input, other))
    product = input * other.log1p()
    return _fn.where((input == 0) & ~other.isnan(), 0.0, product)


def entr(input):
    """-x·log x elementwise: 0 at 0, -inf below (torch.special.entr)."""
    x = float_arg(input, "entr")
    body = -x * _fn.where(x > 0, x, 1.0).log()   # log of 1 where x <= 0: no NaN in the unused branch
    zero, minus_inf = (_tensor(v, dtype=x.dtype) for v in (0.0, -math.inf))
    return _fn.where(x > 0, body, _fn.where(x == 0, zero, minus_inf))


def ndtr(input):
    """The standard normal CDF, ½·erfc(-x/√2) (torch.special.ndtr)."""
    return 0.5 * _pw.erfc(float_arg(input, "ndtr") * -math.sqrt(0.5))


def _real(value, op):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: expects a tensor or a real number, got {type(value).__name__}")
    return value


# ---- PyTorch's other names: alias -> the function it stands for (here, or in functions.py) ------------------
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
           "arctanh": "atanh", "negative": "neg", "greater": "gt", "greater_equal": "ge", "less": "lt",
           "less_equal": "le", "not_equal": "ne", "multiply": "mul", "divide": "div", "subtract": "sub",
           "true_divide": "div", "absolute": "abs"}
for _alias, _name in ALIASES.items():
    globals().setdefault(_alias, globals().get(_name) or getattr(_fn, _name))


# ---- in-place methods: computed out of place, written back (pointwise's helper over inplace.apply) ----------
def _compare_in_place(name):
    """x.gt_(y), x.logical_and_(y): x's elements set to 1 where it holds, else 0, in x's dtype."""
    compare = getattr(_fn, name)
    return _pw._in_place(lambda t, other: compare(t, other).to(t.dtype), name + "_")


IN_PLACE = {name + "_": _pw._in_place(globals()[name], name + "_")
            for name in UNARY + tuple(n for n in BINARY if n not in ("fmax", "fmin", "logaddexp2"))
            + ("deg2rad", "rad2deg", "float_power", "ldexp", "mvlgamma")}
IN_PLACE.update({name + "_": _compare_in_place(name)
                 for name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor")})
# the other in-place forms PyTorch has of functions defined elsewhere
IN_PLACE.update({f.__name__ + "_": _pw._in_place(f, f.__name__ + "_")
                 for f in (logit, xlogy, _fn.exp2, _einsum.addmm, _api_more.addmv, _api_more.addbmm,
                           _api_more.baddbmm)})   # (cumsum_ and cumprod_: index_more.py)

_div_rounded_ = _pw._in_place(_fn.div, "divide_")


def _divide_(self, other, *, rounding_mode=None):
    """x.divide_(y, rounding_mode=...): div_ (its fast path) without a rounding mode, else div written back."""
    return self.div_(other) if rounding_mode is None else _div_rounded_(self, other, rounding_mode=rounding_mode)


IN_PLACE["divide_"] = _divide_

# Tensor's methods: the functions above (x.asin(), x.gcd(y)), the aliases and their in-place forms, and the
# shift operators (& | ^ and ~ are tensor.py's, through ops/compare.py bitwise)
METHODS = {name: globals()[name] for name in UNARY + BINARY + ("deg2rad", "rad2deg", "float_power", "ldexp",
                                                               "clamp_min", "clamp_max", "mvlgamma")}
METHODS.update(IN_PLACE)
METHODS.update(
    __lshift__=bitwise_left_shift, __rshift__=bitwise_right_shift,
    __rlshift__=lambda self, other: bitwise_left_shift(other, self),
    __rrshift__=lambda self, other: bitwise_right_shift(other, self),
    __ilshift__=IN_PLACE["bitwise_left_shift_"], __irshift__=IN_PLACE["bitwise_right_shift_"],
    __iand__=IN_PLACE["bitwise_and_"], __ior__=IN_PLACE["bitwise_or_"], __ixor__=IN_PLACE["bitwise_xor_"])


def alias_methods(cls):
    """The ALIASES as methods of cls (Tensor) and, where the target has one, their in-place forms."""
    for alias, name in ALIASES.items():
        for suffix in ("", "_"):
            if hasattr(cls, name + suffix) and not hasattr(cls, alias + suffix):
                setattr(cls, alias + suffix, getattr(cls, name + suffix))


# ---- torch.special's names for these ---------------------------------------------------------------------------
SPECIAL = dict(gammaln=lgamma, digamma=digamma, psi=digamma, sinc=sinc, i0=i0, i0e=i0e, i1=i1, i1e=i1e,
               multigammaln=mvlgamma, xlog1py=xlog1py, entr=entr, ndtr=ndtr, round=_fn.round)
vars(special).update(SPECIAL)
special.__all__ += list(SPECIAL)

__all__ = [name for name in UNARY + BINARY + tuple(ALIASES) if not hasattr(_fn, name)]   # (fg.tan, fg.greater: there)
__all__ += ["deg2rad", "rad2deg", "float_power", "ldexp", "rsub", "clamp_min", "clamp_max", "mvlgamma"]

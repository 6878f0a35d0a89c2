"""PyTorch's remaining pointwise math: fg.erf, erfc, erfinv (op codes of the unary kernel), and lerp,
addcmul, addcdiv, nan_to_num, logaddexp composed from recorded ops (each of their pieces is a
kernel call, so they backpropagate and capture like any op). Tensor's methods call these."""
import math
import numbers

from . import inplace
from .dtypes import float32, float64
from .functions import _unary, maximum, where
from .nn.functional import logsigmoid
from .ops._checks import float_arg, scalar_first, tensor_arg
from .tensor import Tensor

erf, erfc, erfinv = (_unary(n) for n in ("erf", "erfc", "erfinv"))


def _float_pair(a, b, op, names=("input", "other")):
    """a and b as tensors of one floating dtype (integer ones become float)."""
    a, b = float_arg(a, op, names[0]), float_arg(b, op, names[1])
    if a.dtype is not b.dtype:
        raise TypeError(f"{op}: dtype mismatch, {a.dtype!r} and {b.dtype!r}")
    return a, b


def _real(value, op, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    return value


def lerp(input, end, weight):
    """input + weight·(end - input), written as PyTorch's kernel does (from end when weight >= 0.5,
    so lerp(a, b, 1) is exactly b). weight: a number or a tensor, broadcast with the others."""
    input, end = _float_pair(input, end, "lerp", ("input", "end"))
    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype:
            raise TypeError(f"lerp: weight must be a {input.dtype!r} tensor like input, got {weight.dtype!r}")
        diff = end - input
        return where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
    w = _real(weight, "lerp", "weight")
    return input + w * (end - input) if abs(w) < 0.5 else end - (end - input) * (1 - w)


def addcmul(input, tensor1, tensor2, *deprecated, value=1):
    """input + value·tensor1·tensor2 (broadcast); also PyTorch's deprecated addcmul(input, value, t1, t2)."""
    if deprecated:
        (tensor1, tensor2), value = scalar_first("addcmul", "value", tensor1, (tensor2,) + deprecated, 2, value)
    for name, t in (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)):
        tensor_arg(t, "addcmul", name)
    prod = tensor1 * tensor2 if value == 1 else tensor1 * _real(value, "addcmul", "value") * tensor2
    return input + prod


def addcdiv(input, tensor1, tensor2, *deprecated, value=1):
    """input + value·tensor1/tensor2 (broadcast); integer tensor1 and tensor2 are refused, as in PyTorch.
    Also PyTorch's deprecated addcdiv(input, value, t1, t2)."""
    if deprecated:
        (tensor1, tensor2), value = scalar_first("addcdiv", "value", tensor1, (tensor2,) + deprecated, 2, value)
    for name, t in (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)):
        tensor_arg(t, "addcdiv", name)
    if not tensor1.dtype.is_floating_point and not tensor2.dtype.is_floating_point:
        raise TypeError("addcdiv: integer division of tensor1 by tensor2 is not supported (as in PyTorch); "
                        "convert them to floating point first")
    quot = tensor1 / tensor2
    return input + (quot if value == 1 else _real(value, "addcdiv", "value") * quot)


_FLOAT_MAX = {float32: 3.4028234663852886e38, float64: 1.7976931348623157e308}


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (by default the dtype's largest and lowest finite
    values); the gradient flows only where the input is finite, as PyTorch's. Integer tensors come
    back as they are."""
    tensor_arg(input, "nan_to_num")
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None:
            _real(v, "nan_to_num", name)
    if not input.dtype.is_floating_point:
        return input * 1
    big = _FLOAT_MAX[input.dtype]
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    nan = 0.0 if nan is None else nan
    out = where(input == math.inf, float(posinf), input)
    out = where(input == -math.inf, float(neginf), out)
    return where(input != input, float(nan), out)


def logaddexp(input, other):
    """log(e^input + e^other) = max + log(1 + e^-|input - other|), never overflowing; its gradients
    come out as sigmoid(input - other) and sigmoid(other - input), as PyTorch's (half each at a tie)."""
    input, other = _float_pair(input, other, "logaddexp")
    return maximum(input, other) - logsigmoid((input - other).abs())


# ---- in-place forms (Tensor.erf_, lerp_, addcmul_, addcdiv_, nan_to_num_) ----
def _in_place(fn, name):
    def method(self, *args, **kwargs):
        return inplace.apply(self, lambda t: fn(t, *args, **kwargs), name,
                             *args, *kwargs.values())
    method.__name__ = name
    return method


erf_, erfc_, erfinv_ = (_in_place(f, f.__name__ + "_") for f in (erf, erfc, erfinv))
lerp_ = _in_place(lerp, "lerp_")
addcmul_ = _in_place(addcmul, "addcmul_")
addcdiv_ = _in_place(addcdiv, "addcdiv_")
nan_to_num_ = _in_place(nan_to_num, "nan_to_num_")

__all__ = ["erf", "erfc", "erfinv", "lerp", "addcmul", "addcdiv", "nan_to_num", "logaddexp"]

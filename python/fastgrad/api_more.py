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

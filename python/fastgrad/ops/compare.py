"""Comparisons and logic (one C kernel with an op code, bool results, numpy broadcasting), where and
masked_fill (one kernel through element strides; its backward is the same kernel with a zero)."""
import math
import numbers

import numpy as np

from .._C import ffi, lib
from ..autograd import Op, accumulate_grad, broadcast_shape, broadcast_strides
from ..dtypes import bool_, default_float, float32, int64, kernels
from ..tensor import Tensor, empty, scalar
from ._checks import operands, tensor_arg

COMPARE = {"eq": lib.FG_EQ, "ne": lib.FG_NE, "lt": lib.FG_LT, "le": lib.FG_LE, "gt": lib.FG_GT, "ge": lib.FG_GE,
           "logical_and": lib.FG_AND, "logical_or": lib.FG_OR, "logical_xor": lib.FG_XOR}


_ONE, _ZERO = ffi.new("int64_t[1]", [1]), ffi.new("int64_t[1]", [0])   # strides of one run


def compare(name, a, b):
    """a <name> b elementwise as a bool tensor (records nothing: comparisons have no gradient)."""
    code = COMPARE[name]
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._dtype is b._dtype:
        pass   # one dtype: bool with bool included, which arithmetic promotion refuses
    elif type(b) is float and isinstance(a, Tensor) and a._dtype.is_floating_point:
        b = scalar(b, a._dtype)   # `t == 0.5`, the common case, without promotion's checks
    elif isinstance(a, Tensor) and a._dtype is bool_ and isinstance(b, (bool, np.bool_)):
        b = scalar(bool(b), bool_)
    else:
        a, b = operands(a, b, name)
    if a._shape == b._shape or not b._shape:   # one shape, or a tensor against a number: one run
        out = empty(a._shape, bool_, a._numel)
        if out._numel:
            a._dtype.k.compare(out._buf, a._buf, b._buf, code, [out._numel], _ONE, _ONE if b._shape else _ZERO, 1)
        return out
    shape = broadcast_shape(a._shape, b._shape)
    out = empty(shape, bool_)
    if out._numel:
        a._dtype.k.compare(out._buf, a._buf, b._buf, code, shape, broadcast_strides(a._shape, shape),
                           broadcast_strides(b._shape, shape), len(shape))
    return out


def logical(name, a, b=None):
    """logical_and/or/xor (and `& | ^` on bool tensors); logical_not with b None."""
    if b is None:
        tensor_arg(a, name)
        return compare("eq", a, scalar(False, bool_) if a._dtype is bool_ else scalar(0, a._dtype))
    return compare(name, _truth(a, name), _truth(b, name))


def _truth(x, name):
    """x != 0 as a bool tensor (numbers and bools become 0-d bool tensors)."""
    if isinstance(x, Tensor):
        return x if x._dtype is bool_ else compare("ne", x, 0)
    if isinstance(x, (bool, np.bool_, numbers.Real)):
        return scalar(bool(x), bool_)
    raise TypeError(f"{name}: unsupported operand of type {type(x).__name__}")


_BITWISE = {"__and__": "bitwise_and", "__or__": "bitwise_or", "__xor__": "bitwise_xor",
            "__lshift__": "bitwise_left_shift", "__rshift__": "bitwise_right_shift"}


def bitwise(name, a, b=None):
    """`& | ^ ~ << >>`: logical on bool tensors, bitwise on int64 ones (op codes of the binary kernel,
    elementwise.BinaryMath); float tensors are refused, as in PyTorch."""
    from .elementwise import BinaryMath   # elementwise.py's bool operands come back here
    if name == "__invert__":
        tensor_arg(a, "bitwise_not")
        if a._dtype is bool_:
            return logical("logical_not", a)
        if a._dtype.is_floating_point:
            raise TypeError(f"~ (bitwise_not): expects an integer or bool tensor, got {a._dtype!r} (as PyTorch)")
        return BinaryMath("bitwise_xor").forward(a, -1)
    return BinaryMath(_BITWISE[name]).forward(a, b)


def isnan(x):
    tensor_arg(x, "isnan")
    return compare("ne", x, x) if x._dtype.is_floating_point else _constant(x, False)


def isinf(x):
    tensor_arg(x, "isinf")
    if not x._dtype.is_floating_point:
        return _constant(x, False)
    from .unary import Unary
    return compare("eq", Unary("abs").forward(x.detach()), math.inf)


def isfinite(x):
    tensor_arg(x, "isfinite")
    if not x._dtype.is_floating_point:
        return _constant(x, True)
    d = x.detach()
    return compare("eq", d - d, 0.0)   # x - x is 0 for finite x, NaN for inf and NaN


def _constant(x, value):
    out = empty(x._shape, bool_, x._numel)
    kernels.fill(out._buf, bool_.code, 0.0, int(value), x._numel)
    return out


def _as_operand(v, name):
    """A number as a 0-d tensor, as PyTorch makes Python scalars: floats float32, ints int64."""
    if isinstance(v, (bool, np.bool_)):
        return scalar(bool(v), bool_)
    if isinstance(v, numbers.Integral):
        return scalar(int(v), int64)
    if isinstance(v, numbers.Real):
        return scalar(float(v), default_float())
    raise TypeError(f"{name}: expects tensors or numbers, got {type(v).__name__}")


class Where(Op):
    """cond ? a : b elementwise, all three broadcast together; the gradient goes to a where cond
    holds, to b elsewhere."""

    def forward(self, cond, a, b):
        tensor_arg(cond, "where", "condition")
        if cond._dtype is not bool_:
            raise TypeError(f"where: the condition must be a bool tensor, got {cond._dtype!r}; compare first "
                            f"(x > 0) or use .bool()")
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            a, b = _as_operand(a, "where"), _as_operand(b, "where")
        if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a._dtype is b._dtype):
            a, b = operands(a, b, "where")   # a number takes the tensor's dtype, as in PyTorch
        shape = broadcast_shape(cond._shape, a._shape, b._shape)
        out = empty(shape, a._dtype)
        if out._numel:
            _where(out, cond, a, b)
        return self.record(out, a, b, cond)   # cond last: the output's dtype is a's

    def _backward(self, g):
        a, b, cond = self.inputs
        zero = scalar(0.0, g._dtype)
        for t, first, second in ((a, g, zero), (b, zero, g)):
            if t.requires_grad:
                part = empty(g._shape, g._dtype)
                _where(part, cond, first, second)
                accumulate_grad(t, part)


def _where(out, cond, a, b):
    shape = out._shape
    if cond._shape == a._shape == b._shape == shape:
        out._dtype.k.where(out._buf, cond._buf, a._buf, b._buf, [out._numel], [1], [1], [1], 1)
    else:
        out._dtype.k.where(out._buf, cond._buf, a._buf, b._buf, shape, broadcast_strides(cond._shape, shape),
                           broadcast_strides(a._shape, shape), broadcast_strides(b._shape, shape), len(shape))


def masked_fill(x, mask, value):
    """x with `value` where mask is true (x's shape and dtype; mask broadcasts to x)."""
    tensor_arg(x, "masked_fill")
    tensor_arg(mask, "masked_fill", "mask")
    if mask._dtype is not bool_:
        raise TypeError(f"masked_fill: the mask must be a bool tensor, got {mask._dtype!r}")
    if broadcast_shape(x._shape, mask._shape) != x._shape:
        raise ValueError(f"masked_fill: a mask of shape {mask._shape} does not broadcast to the tensor's shape "
                         f"{x._shape}")
    if isinstance(value, Tensor):
        if value._numel != 1 or value.ndim:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value._shape}")
        if value._dtype is not x._dtype:
            if value.requires_grad:
                raise TypeError(f"masked_fill: value of dtype {value._dtype!r} for a tensor of {x._dtype!r}")
            value = scalar(x._dtype.python(value.item()), x._dtype)
    elif isinstance(value, numbers.Real) or isinstance(value, np.bool_):
        if not x._dtype.is_floating_point:
            if not math.isfinite(value):
                raise ValueError(f"masked_fill: cannot fill a {x._dtype!r} tensor with {value}")
            value = int(value)   # PyTorch truncates a float fill of an integer tensor
        value = scalar(x._dtype.python(value), x._dtype)
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
    return Where().forward(mask, value, x)

"""Unary math (exp, log, sqrt, sin, ... one C kernel with an op code, one class) and clamp."""
import numbers

from .._C import ffi, lib
from ..autograd import Op, accumulate_grad, broadcast_shape, broadcast_strides, grad_buffer, grad_target
from ..dtypes import bool_, default_float, float32, int64
from ..tensor import Tensor, empty, scalar, zeros
from ._checks import cast_to, float_arg, tensor_arg

# name: (op code, what integer inputs do): "float" computes in float32 (PyTorch's exp(int) is float),
# "int" keeps int64 (abs, neg, sign, square; floor and friends return the integers unchanged).
UNARY = {
    "neg": (lib.FG_NEG, "int"), "abs": (lib.FG_ABS, "int"), "sign": (lib.FG_SIGN, "int"),
    "square": (lib.FG_SQUARE, "int"), "floor": (lib.FG_FLOOR, "int"), "ceil": (lib.FG_CEIL, "int"),
    "round": (lib.FG_ROUND, "int"), "trunc": (lib.FG_TRUNC, "int"),
    "exp": (lib.FG_EXP, "float"), "exp2": (lib.FG_EXP2, "float"), "expm1": (lib.FG_EXPM1, "float"),
    "log": (lib.FG_LOG, "float"), "log2": (lib.FG_LOG2, "float"), "log10": (lib.FG_LOG10, "float"),
    "log1p": (lib.FG_LOG1P, "float"), "sqrt": (lib.FG_SQRT, "float"), "rsqrt": (lib.FG_RSQRT, "float"),
    "reciprocal": (lib.FG_RECIPROCAL, "float"), "sin": (lib.FG_SIN, "float"), "cos": (lib.FG_COS, "float"),
    "erf": (lib.FG_ERF, "float"), "erfc": (lib.FG_ERFC, "float"), "erfinv": (lib.FG_ERFINV, "float"),
    "tan": (lib.FG_TAN, "float"), "asin": (lib.FG_ASIN, "float"), "acos": (lib.FG_ACOS, "float"),
    "atan": (lib.FG_ATAN, "float"), "sinh": (lib.FG_SINH, "float"), "cosh": (lib.FG_COSH, "float"),
    "asinh": (lib.FG_ASINH, "float"), "acosh": (lib.FG_ACOSH, "float"), "atanh": (lib.FG_ATANH, "float"),
    "lgamma": (lib.FG_LGAMMA, "float"), "digamma": (lib.FG_DIGAMMA, "float"), "sinc": (lib.FG_SINC, "float"),
    "i0": (lib.FG_I0, "float"), "i0e": (lib.FG_I0E, "float"), "i1": (lib.FG_I1, "float"), "i1e": (lib.FG_I1E, "float"),
}


class Unary(Op):
    """out = f(x) for one of UNARY's functions; backward dx += dout * f'(x) from x and out."""

    def __init__(self, name):
        if name not in UNARY:
            raise ValueError(f"unknown unary function {name!r}; one of {sorted(UNARY)}")
        self.name = name
        self.code, self.ints = UNARY[name]

    def forward(self, x):
        if self.ints == "float":
            x = float_arg(x, self.name)
        elif tensor_arg(x, self.name)._dtype is bool_:
            if self.name == "neg":
                raise TypeError("neg: negation of a bool tensor is not supported; use ~ or logical_not()")
            x = cast_to(x, int64)
        out = empty(x._shape, x._dtype, x._numel)
        x._dtype.k.unary(out._buf, x._buf, self.code, x._numel)
        self.out_buf = self.save_output(out)   # backward reads the output; the op keeps its buffer
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        dx, accumulate = grad_target(x)
        x._dtype.k.unary_backward(dx, g._buf, x._buf, self.out_buf, self.code, x._numel, accumulate)


def expand(t, shape):
    """t broadcast to `shape` as a new contiguous tensor (the where kernel with an all-true condition
    serves every dtype); t itself when it has that shape already."""
    if t._shape == shape:
        return t
    out = empty(shape, t._dtype)
    if out._numel:
        strides = broadcast_strides(t._shape, shape)
        true = ffi.new("uint8_t[1]", [1])
        t._dtype.k.where(out._buf, true, t._buf, t._buf, shape, [0] * len(shape), strides, strides, len(shape))
    return out


def _bound_dtype(x, bound):
    """The dtype clamp's result takes from one bound: a float bound makes an integer x float32."""
    if isinstance(bound, Tensor):
        if bound._dtype.is_floating_point and x._dtype.is_floating_point and bound._dtype is not x._dtype:
            raise TypeError(f"clamp: dtype mismatch, {x._dtype!r} and {bound._dtype!r}")
        return bound._dtype if bound._dtype.is_floating_point else None
    if isinstance(bound, bool) or not isinstance(bound, numbers.Real):
        raise TypeError(f"clamp: min and max must be numbers, tensors or None, got {type(bound).__name__}")
    return default_float() if not isinstance(bound, numbers.Integral) else None


class Clamp(Op):
    """min(max(x, min), max) with numbers or broadcastable tensors as bounds (either may be None);
    gradient 1 inside the range, to x; where a bound is the output, to that bound (PyTorch's rule)."""

    def __init__(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must not be None")
        self.bounds = (min, max)

    def forward(self, x):
        tensor_arg(x, "clamp")
        if x._dtype is bool_:
            raise TypeError("clamp: bool tensors are not supported; convert with .long() or .float()")
        dtype = x._dtype
        for bound in self.bounds:
            if bound is not None:
                bdt = _bound_dtype(x, bound)
                if bdt is not None and not dtype.is_floating_point:
                    dtype = bdt
        x = cast_to(x, dtype)
        tensors = [b for b in self.bounds if isinstance(b, Tensor)]
        shape = broadcast_shape(x._shape, *(b._shape for b in tensors)) if tensors else x._shape
        step = 1 if tensors else 0
        bounds = []
        for b in self.bounds:
            if b is None:
                bounds.append(None)
            elif isinstance(b, Tensor):
                bounds.append(expand(cast_to(b, dtype), shape))
            else:
                s = scalar(dtype.python(b) if dtype.is_floating_point else int(b), dtype)
                bounds.append(expand(s, shape) if step else s)
        xe = expand(x, shape)
        out = empty(shape, dtype)
        bufs = [ffi.NULL if b is None else b._buf for b in bounds]
        dtype.k.clamp(out._buf, xe._buf, bufs[0], bufs[1], step, out._numel)
        self.saved = (xe, bounds, [isinstance(b, Tensor) for b in self.bounds])
        sources = [x] + [cast_to(b, dtype) if isinstance(b, Tensor) else None for b in self.bounds]
        self.sources = sources
        return self.record(out, *[t for t in sources if t is not None])

    def _backward(self, g):
        xe, bounds, _ = self.saved
        grads = []
        for t in self.sources:
            if t is None or not t.requires_grad:
                grads.append(None)
            else:
                grads.append(grad_buffer(t) if t._shape == g._shape else zeros(g._shape, dtype=g._dtype))
        bufs = [ffi.NULL if b is None else (b if not isinstance(b, Tensor) else b._buf) for b in grads]
        lo, hi = [ffi.NULL if b is None else b._buf for b in bounds]
        g._dtype.k.clamp_backward(bufs[0], bufs[1], bufs[2], g._buf, xe._buf, lo, hi,
                                  1 if any(self.saved[2]) else 0, g._numel)
        for t, buf in zip(self.sources, grads):
            if isinstance(buf, Tensor):
                accumulate_grad(t, buf)

"""Add, Sub, Mul, Div: one C kernel with an op code, numpy broadcasting, gradients summed back over
the broadcast dimensions."""
import numbers

import numpy as np

from .._C import ffi, lib
from .. import autograd
from ..autograd import Op, accumulate_grad, broadcast, grad_targets
from ..dtypes import SMALL_ARRAY, bool_
from ..tensor import Tensor, _bare, alloc_uninitialized, empty, new_buffer, out_of_memory, scalar, zeros
from ._checks import operands
from .matmul import Linear, MatMul, affine_sum


def binary(code, a, b, out=None):
    """a <code> b (operands of one dtype) as a new tensor, or written into `out` (which must have
    the broadcast shape), broadcasting like numpy; records nothing."""
    if a._shape == b._shape:
        if out is None:
            out = empty(a._shape, a._dtype, a._numel)
        a._dtype.k.binary(out._buf, a._buf, b._buf, code, a._numel)
        return out
    plan = broadcast(a._shape, b._shape)
    if out is None:
        out = empty(plan.shape, a._dtype, plan.numel)
    if plan.numel:
        a._dtype.k.binary_bcast(out._buf, a._buf, b._buf, code, plan.shape_c, plan.a_strides, plan.b_strides,
                                plan.ndim)
    return out


class _Binary(Op):
    """Forward: two tensors of one shape and dtype, the case every tensor expression pays for, take a
    path with empty() and record() written out in line: it saves a 1-element op about 140 ns of its
    ~1 µs (tests/test_autograd.py checks that both paths record alike). Anything else goes through
    operands(), binary() and record().
    Backward: operands of one shape take one C pass (fg_binary_backward, which holds the four
    gradient rules) with no temporaries; broadcast operands take _broadcast_backward, the same rule
    at the output's shape, summed back over the broadcast dimensions."""
    code = None

    def forward(self, a, b):
        if not (type(a) is Tensor and type(b) is Tensor and a._shape == b._shape and a._dtype is b._dtype
                and a._dtype.is_floating_point):
            return self._general_forward(a, b)
        dtype, size = a._dtype, a._numel
        out = _bare(Tensor)   # out = empty(a.shape, dtype, size), in line
        out._shape = a._shape
        out._dtype = dtype
        out._numel = size
        out._version = None
        out.grad = None
        out._derived = None
        try:
            out._buf = alloc_uninitialized(dtype.small_carrays[size]) if size < SMALL_ARRAY else \
                new_buffer(dtype, size)
        except MemoryError:
            raise out_of_memory(a._shape, dtype, size) from None
        dtype.k.binary(out._buf, a._buf, b._buf, self.code, size)
        # return self.record(out, a, b), in line
        if (a.requires_grad or b.requires_grad) and not (autograd._threads_without_grad and not autograd._mode.enabled):
            if self.inputs is not None:
                raise self.reused_error()
            self.inputs = (a, b)
            self.out_shape = a._shape
            self.epoch = autograd._epoch
            out.requires_grad = True
            out._op = self
        else:
            out.requires_grad = False
            out._op = None
        return out

    def _general_forward(self, a, b):
        """Broadcasting, Python numbers, integer and bool operands."""
        if not (type(a) is Tensor and type(b) is Tensor and a._dtype is b._dtype and a._dtype.is_floating_point):
            a, b = operands(a, b, type(self).__name__, self.code == lib.FG_DIV)
        return self.record(binary(self.code, a, b), a, b)

    def _backward(self, g):
        a, b = self.inputs
        if a._shape == b._shape:
            (da, accumulate_da), (db, accumulate_db) = grad_targets(a, b)
            a._dtype.k.binary_backward(da, db, g._buf, a._buf, b._buf, self.code, g._numel, accumulate_da,
                                       accumulate_db)
        else:
            self._broadcast_backward(g, a, b)


_AFFINE = (MatMul, Linear)   # the ops whose output plus a bias can be one op (affine_sum)


class Add(_Binary):
    reads = ()   # backward needs shapes (or saved buffers) only
    code = lib.FG_ADD

    def _general_forward(self, a, b):
        product, bias = (a, b) if type(getattr(a, "_op", None)) in _AFFINE else (b, a)
        if (type(getattr(product, "_op", None)) in _AFFINE and type(bias) is Tensor and bias._dtype is product._dtype
                and autograd.is_grad_enabled()):
            fused = affine_sum(product, bias)
            if fused is not None:   # x @ W + b, x @ W.T + b: one layer op on the product's inputs and b
                return fused().record(binary(self.code, a, b), *product._op.inputs, bias)
        return super()._general_forward(a, b)

    def _broadcast_backward(self, g, a, b):
        if a.requires_grad: accumulate_grad(a, g)
        if b.requires_grad: accumulate_grad(b, g)


class Sub(_Binary):
    reads = ()   # backward needs shapes (or saved buffers) only
    code = lib.FG_SUB

    def _broadcast_backward(self, g, a, b):
        if a.requires_grad: accumulate_grad(a, g)
        if b.requires_grad: accumulate_grad(b, g, -1.0)


class Mul(_Binary):
    code = lib.FG_MUL

    def _broadcast_backward(self, g, a, b):
        if a.requires_grad: accumulate_grad(a, binary(lib.FG_MUL, g, b))   # d(ab)/da = b
        if b.requires_grad: accumulate_grad(b, binary(lib.FG_MUL, g, a))


class Div(_Binary):
    code = lib.FG_DIV

    def _broadcast_backward(self, g, a, b):
        if a.requires_grad: accumulate_grad(a, binary(lib.FG_DIV, g, b))   # d(a/b)/da = 1/b
        if b.requires_grad:   # d(a/b)/db = -a/b², as -(g/b)(a/b) so large a and b do not overflow
            accumulate_grad(b, binary(lib.FG_MUL, binary(lib.FG_DIV, g, b), binary(lib.FG_DIV, a, b)), -1.0)



# ---- pow, maximum, minimum: the same kernel, op codes of the math helper -----------------------------
class _MathBinary(_Binary):
    """Broadcast backward: the one-shape backward kernel on both operands expanded to the output's
    shape, each gradient then summed back over its broadcast dimensions."""

    def _broadcast_backward(self, g, a, b):
        from .unary import expand   # unary.py imports this module
        shape = g._shape
        grads = [empty(shape, g._dtype) if t.requires_grad else None for t in (a, b)]
        g._dtype.k.binary_backward(*[ffi.NULL if d is None else d._buf for d in grads], g._buf,
                                   expand(a, shape)._buf, expand(b, shape)._buf, self.code, g._numel, 0, 0)
        for t, d in zip((a, b), grads):
            if d is not None:
                accumulate_grad(t, d)


class Pow(_MathBinary):
    """a ** b with tensor or number operands (int ** int stays int64, as in PyTorch). A number as the
    exponent (x ** 2) takes the kernel's fast paths forward and, backward, PyTorch's rule
    g * (c * x ** (c - 1)) computed as it is written, with no copy of the exponent per element."""
    code = lib.FG_POW
    exponent = None   # the number c of x ** c

    def forward(self, a, b):
        if isinstance(b, numbers.Real) and not isinstance(b, bool) and isinstance(a, Tensor):
            self.exponent = b
        a, b = operands(a, b, "pow")
        if not a._dtype.is_floating_point and b._numel and int(b.numpy().min()) < 0:   # a check, not the op
            raise ValueError("pow: integers to negative integer powers are not allowed (as in PyTorch); "
                             "use a float base or exponent")
        return super().forward(a, b)

    def _broadcast_backward(self, g, a, b):
        c = self.exponent
        if c is None or a._shape != g._shape:
            return super()._broadcast_backward(g, a, b)
        dtype = g._dtype
        if c == 0:   # PyTorch: a zero gradient, not 0 * x ** -1 (NaN at 0)
            return accumulate_grad(a, zeros(g._shape, dtype=dtype))
        d = binary(lib.FG_POW, a, scalar(c - 1, dtype))
        binary(lib.FG_MUL, d, scalar(c, dtype), out=d)
        accumulate_grad(a, binary(lib.FG_MUL, g, d, out=d))


class Maximum(_MathBinary):
    """The elementwise maximum, NaN propagating; ties split the gradient in halves (PyTorch's rule)."""
    code = lib.FG_MAXIMUM


class Minimum(_MathBinary):
    code = lib.FG_MINIMUM


# ---- atan2, hypot, fmod, remainder, ..., bitwise ops, gcd: op codes of the same kernel (the math helper) ------
class BinaryMath(_MathBinary):
    """PyTorch's other binary elementwise functions, chosen by name: one class over the binary kernel's
    op codes, one row of TABLE per function: (op code, the dtypes it takes, whether it has a gradient).
    Dtypes: "float" makes integer operands float32 (atan2, copysign, as PyTorch); "float only" refuses
    them (hypot, logaddexp2, nextafter: PyTorch has no integer kernel either); "divisor" keeps int64 and
    refuses a zero integer divisor first (a check reading the divisor, as Pow's of negative integer
    exponents); "any" keeps int64; "int" takes int64 and bool only (the bitwise ops, shifts, gcd, lcm).
    Two bool operands (bool tensors or Python bools) give a bool result where PyTorch's does: and, or,
    xor and fmax, fmin, heaviside are then the logical ops of ops/compare.py (LOGICAL). A function
    without a gradient raises in backward, as PyTorch's does."""
    TABLE = {"atan2": (lib.FG_ATAN2, "float", True), "hypot": (lib.FG_HYPOT, "float only", True),
             "fmod": (lib.FG_FMOD, "divisor", True), "remainder": (lib.FG_REMAINDER, "divisor", True),
             "floor_divide": (lib.FG_FLOOR_DIVIDE, "divisor", False),
             "copysign": (lib.FG_COPYSIGN, "float", True), "logaddexp2": (lib.FG_LOGADDEXP2, "float only", True),
             "nextafter": (lib.FG_NEXTAFTER, "float only", True), "heaviside": (lib.FG_HEAVISIDE, "any", False),
             "fmax": (lib.FG_FMAX, "any", True), "fmin": (lib.FG_FMIN, "any", True),
             "bitwise_and": (lib.FG_BITWISE_AND, "int", False), "bitwise_or": (lib.FG_BITWISE_OR, "int", False),
             "bitwise_xor": (lib.FG_BITWISE_XOR, "int", False),
             "bitwise_left_shift": (lib.FG_LEFT_SHIFT, "int", False),
             "bitwise_right_shift": (lib.FG_RIGHT_SHIFT, "int", False),
             "gcd": (lib.FG_GCD, "int", False), "lcm": (lib.FG_LCM, "int", False)}
    LOGICAL = {"bitwise_and": "logical_and", "bitwise_or": "logical_or", "bitwise_xor": "logical_xor",
               "fmax": "logical_or", "fmin": "logical_and", "heaviside": "logical_or"}

    def __init__(self, name):
        if name not in self.TABLE:
            raise ValueError(f"unknown binary function {name!r}; one of {sorted(self.TABLE)}")
        self.name = name
        self.code, self.kind, self.differentiable = self.TABLE[name]

    def forward(self, a, b):
        if self.kind == "int":   # never the float fast path: the kernel has no float case for these codes
            return self._general_forward(a, b)
        return super().forward(a, b)

    def _general_forward(self, a, b):
        name, kind = self.name, self.kind
        if _is_bool(a) and _is_bool(b) and (isinstance(a, Tensor) or isinstance(b, Tensor)):
            if name not in self.LOGICAL:
                raise TypeError(f"{name}: not implemented for bool tensors (as PyTorch); convert with .long()")
            from .compare import logical   # compare.py's bitwise operators call this class
            return logical(self.LOGICAL[name], a, b)
        a, b = operands(a, b, name, true_division=kind == "float")
        if a._dtype.is_floating_point:
            if kind == "int":
                raise TypeError(f"{name}: expects integer or bool tensors, got {a._dtype!r} (as PyTorch)")
        elif kind == "float only":
            raise TypeError(f"{name}: expects floating-point tensors, got {a._dtype!r} (as PyTorch); convert "
                            f"with .float()")
        elif kind == "divisor" and b._numel and not b.numpy().all():   # a check, not the op
            raise ZeroDivisionError(f"{name}: integer division by zero (a zero in the divisor of dtype "
                                    f"{b._dtype!r})")
        return self.record(binary(self.code, a, b), a, b)

    def _backward(self, g):
        if not self.differentiable:
            raise RuntimeError(f"the derivative for {self.name} is not implemented (as in PyTorch); call it on "
                               f"detached tensors")
        super()._backward(g)


def _is_bool(x):
    return (isinstance(x, Tensor) and x._dtype is bool_) or isinstance(x, (bool, np.bool_))

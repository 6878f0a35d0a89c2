"""Add, Sub, Mul, Div: one C kernel with an op code, numpy broadcasting, gradients summed back over
the broadcast dimensions."""
import numpy as np

from .._C import lib
from ..autograd import Op, accumulate_grad, broadcast_strides, grad_buffer_or_null
from ..tensor import Tensor, empty
from ._checks import operands


def binary(code, a, b):
    """a <code> b as a new tensor, broadcasting like numpy; records nothing."""
    if a.shape == b.shape:
        out = empty(a.shape, a.dtype, a.size)
        a.dtype.k.binary(out._buf, a._buf, b._buf, code, a.size)
        return out
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    out = empty(shape, a.dtype)
    if out.size:
        a.dtype.k.binary_bcast(out._buf, a._buf, b._buf, code, shape, broadcast_strides(a.shape, shape),
                               broadcast_strides(b.shape, shape), len(shape))
    return out


class _Binary(Op):
    """Backward: operands of one shape take one C pass (fg_binary_backward, which holds the four
    gradient rules) with no temporaries; broadcast operands take _broadcast_backward, the same rule
    at the output's shape, summed back over the broadcast dimensions."""
    code = None

    def forward(self, a, b):
        if type(a) is Tensor and type(b) is Tensor and a.shape == b.shape and a.dtype is b.dtype:
            size = a.size   # the common case, inlined: per-op cost matters
            out = empty(a.shape, a.dtype, size)
            a.dtype.k.binary(out._buf, a._buf, b._buf, self.code, size)
        else:
            a, b = operands(a, b, type(self).__name__)
            out = binary(self.code, a, b)
        return self.record(out, a, b)

    def _backward(self, g):
        a, b = self.inputs
        if a.shape == b.shape:
            a.dtype.k.binary_backward(grad_buffer_or_null(a), grad_buffer_or_null(b), g._buf, a._buf, b._buf,
                                      self.code, g.size)
        else:
            self._broadcast_backward(g, a, b)


class Add(_Binary):
    code = lib.FG_ADD

    def _broadcast_backward(self, g, a, b):
        if a.requires_grad: accumulate_grad(a, g)
        if b.requires_grad: accumulate_grad(b, g)


class Sub(_Binary):
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
        if b.requires_grad:                                                  # d(a/b)/db = -a/b²
            accumulate_grad(b, binary(lib.FG_DIV, binary(lib.FG_DIV, binary(lib.FG_MUL, g, a), b), b), -1.0)

"""Reshape and transpose. (Sum and mean moved to ops/reduce.py.)"""
import math
import numbers

from .._C import lib
from ..autograd import Op, accumulate_grad, broadcast_strides, grad_buffer
from ..tensor import _checked_shape, _view, empty, tensor, zeros
from .elementwise import binary
from ._checks import float_arg, tensor_arg


class Reshape(Op):
    """The same buffer under another shape (one dimension may be -1)."""

    def __init__(self, shape):
        self.shape = _checked_shape(shape, infer=True)

    def forward(self, x):
        tensor_arg(x, "reshape")
        shape = list(self.shape)
        if -1 in shape:
            known = math.prod(d for d in shape if d != -1)
            if known == 0 or x._numel % known:
                raise ValueError(f"reshape: cannot reshape tensor of shape {x.shape} into {self.shape}")
            shape[shape.index(-1)] = x._numel // known
        if math.prod(shape) != x._numel:
            raise ValueError(f"reshape: cannot reshape tensor of shape {x.shape} ({x._numel} elements) into {self.shape}")
        return self.record(_view(x, tuple(int(d) for d in shape), False), x)

    def _backward(self, g):
        x, = self.inputs
        x.dtype.k.axpy(grad_buffer(x), g._buf, 1.0, g._numel)


class Transpose(Op):
    """The transpose of a 2-D tensor, copied into a new contiguous buffer."""

    def forward(self, x):
        tensor_arg(x, "transpose")
        if x.ndim != 2:
            raise ValueError(f"transpose (.T) needs a 2-D tensor, got shape {x.shape}")
        rows, cols = x.shape
        out = empty((cols, rows), x.dtype)
        x.dtype.k.transpose(out._buf, x._buf, rows, cols)
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        gt = empty(x.shape, x.dtype)
        x.dtype.k.transpose(gt._buf, g._buf, *g.shape)
        accumulate_grad(x, gt)

"""Sum/mean reductions, reshape and transpose."""
import math
import numbers

from .._C import lib
from ..autograd import Op, accumulate_grad, broadcast_strides, grad_buffer
from ..tensor import _checked_shape, _view, empty, tensor, zeros
from .elementwise import binary
from ._checks import float_arg, tensor_arg


class Sum(Op):
    """Sum (or mean) over all elements, or over `dim` (an int or a tuple of ints)."""

    def __init__(self, dim=None, keepdim=False, mean=False):
        self.dim, self.keepdim, self.mean = dim, keepdim, mean

    def _dims(self, x):
        if self.dim is None:
            return set(range(x.ndim))
        dims = tuple(self.dim) if isinstance(self.dim, (tuple, list)) else (self.dim,)   # the loop checks each
        for d in dims:
            if not isinstance(d, numbers.Integral) or isinstance(d, bool) or not -x.ndim <= d < x.ndim:
                raise ValueError(f"sum: dim {d!r} is out of range for shape {x.shape}")
        return {d % x.ndim for d in dims}

    def forward(self, x):
        x = float_arg(x, "sum")   # integer sums (int64 results) come with the reductions
        dims = self._dims(x)
        self.kept = tuple(1 if i in dims else d for i, d in enumerate(x.shape))   # the keepdim shape
        count = math.prod(x.shape[i] for i in dims)
        self.scale = (1.0 / count if count else float("nan")) if self.mean else 1.0   # mean of nothing is NaN
        shape = self.kept if self.keepdim else tuple(d for i, d in enumerate(x.shape) if i not in dims)
        if len(dims) == x.ndim:   # full reduction: one pass, accumulated in double
            out = empty(shape, x.dtype)
            out._buf[0] = x.dtype.k.sum(x._buf, x._numel) * self.scale
        else:
            out = zeros(shape, dtype=x.dtype)
            if count == 0:
                out.numpy().fill(0.0 * self.scale)
            elif out._numel:
                x.dtype.k.sum_to(out._buf, x._buf, self.scale, x.shape, broadcast_strides(self.kept, x.shape), x.ndim)
        return self.record(out, x)

    def _backward(self, g):
        """dx += scale * g, with g broadcast back over the summed dimensions."""
        x, = self.inputs
        if x._numel == 0:
            return
        if self.scale != 1.0:
            g = binary(lib.FG_MUL, g, tensor(self.scale, dtype=g.dtype))
        dx = grad_buffer(x)
        x.dtype.k.binary_bcast(dx, dx, g._buf, lib.FG_ADD, x.shape, broadcast_strides(x.shape, x.shape),
                               broadcast_strides(self.kept, x.shape), x.ndim)


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

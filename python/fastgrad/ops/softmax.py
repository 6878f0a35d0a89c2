"""Softmax and LogSoftmax over the last dimension. The kernels subtract each row's max first, so
large logits never overflow. (The fused softmax + cross-entropy is in ops/loss.py.)"""
import numpy as np

from .._C import ffi, lib
from ..autograd import Op, grad_buffer
from ..tensor import Tensor, empty, ones, zeros
from ._checks import class_targets, float_arg, last_dim


class Softmax(Op):
    """exp(x) / sum(exp(x)) along the last dimension."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        rows, cols = last_dim(x := float_arg(x, "softmax"), self.dim, "softmax")
        out = empty(x._shape, x._dtype, x._numel)
        x._dtype.k.softmax(out._buf, x._buf, rows, cols)
        self.out_buf = self.save_output(out)   # backward reads the output; the op keeps its buffer
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        rows, cols = last_dim(x, self.dim, "softmax")
        x.dtype.k.softmax_backward(grad_buffer(x), g._buf, self.out_buf, rows, cols)

    def backward(self, g):
        """The output's gradient g, as for any op; or, given class indices instead, the tutorial's
        `softmax.backward(correct_class)`: it backpropagates the cross-entropy loss
        -sum_i log(out[i, correct_class[i]]), whose gradient at the logits is out - onehot, through
        the whole chain that produced the input."""
        if isinstance(g, Tensor) or self.inputs is None:
            return super().backward(g)
        x, = self.inputs
        rows, cols = last_dim(x, self.dim, "softmax")
        if np.ndim(g) == 0:   # one correct class for every row, as in the tutorial's single example
            g = np.full(x.shape[:-1], g)
        targets = class_targets(g, x.shape[:-1], cols, "softmax.backward")
        dlogits = zeros(x.shape, dtype=x.dtype)
        x.dtype.k.cross_entropy_backward(dlogits._buf, ones((), dtype=x.dtype)._buf, self.out_buf,
                                         ffi.from_buffer("int64_t[]", targets), ffi.NULL, -1, 0.0, lib.FG_REDUCE_SUM,
                                         rows, cols)
        x.backward(dlogits)


class LogSoftmax(Op):
    """x - logsumexp(x) along the last dimension."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        rows, cols = last_dim(x := float_arg(x, "log_softmax"), self.dim, "log_softmax")
        out = empty(x._shape, x._dtype)
        x.dtype.k.log_softmax(out._buf, x._buf, rows, cols)
        self.out_buf = self.save_output(out)   # backward reads the output; the op keeps its buffer
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        rows, cols = last_dim(x, self.dim, "log_softmax")
        x.dtype.k.log_softmax_backward(grad_buffer(x), g._buf, self.out_buf, rows, cols)

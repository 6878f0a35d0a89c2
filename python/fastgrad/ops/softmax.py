"""Softmax, LogSoftmax and the fused softmax + cross-entropy, over the last dimension.
The kernels subtract each row's max first, so large logits never overflow."""
import numpy as np

from .._C import ffi
from ..autograd import Op, grad_buffer
from ..tensor import Tensor, empty, zeros
from ._checks import last_dim, tensor_arg


class Softmax(Op):
    """exp(x) / sum(exp(x)) along the last dimension."""

    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        rows, cols = last_dim(tensor_arg(x, "softmax"), self.dim, "softmax")
        out = empty(x.shape, x.dtype)
        x.dtype.k.softmax(out._buf, x._buf, rows, cols)
        self.out = out.detach()
        return self.record(out, x)

    def backward(self, g):
        """g: the output's gradient (the engine's call). Given class indices instead, this is the
        tutorial's `softmax.backward(correct_class)`: it backpropagates the cross-entropy loss
        -sum_i log(out[i, correct_class[i]]), whose gradient at the logits is out - onehot, through
        the whole chain that produced the input."""
        x, = self.inputs
        rows, cols = last_dim(x, self.dim, "softmax")
        if isinstance(g, Tensor):
            if g.shape != x.shape or g.dtype is not x.dtype:
                raise ValueError(f"softmax.backward: gradient of shape {g.shape} ({g.dtype!r}) for an output of "
                                 f"shape {x.shape} ({x.dtype!r})")
            x.dtype.k.softmax_backward(grad_buffer(x), g._buf, self.out._buf, rows, cols)
            return
        if np.ndim(g) == 0:   # one correct class for every row, as in the tutorial's single example
            g = np.full(x.shape[:-1], g)
        targets = class_targets(g, x.shape[:-1], cols, "softmax.backward")
        dlogits = zeros(x.shape, dtype=x.dtype)
        x.dtype.k.cross_entropy_backward(dlogits._buf, self.out._buf, ffi.from_buffer("int64_t[]", targets), 1.0,
                                         rows, cols)
        x.backward(dlogits)


class LogSoftmax(Op):
    """x - logsumexp(x) along the last dimension."""

    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        rows, cols = last_dim(tensor_arg(x, "log_softmax"), self.dim, "log_softmax")
        out = empty(x.shape, x.dtype)
        x.dtype.k.log_softmax(out._buf, x._buf, rows, cols)
        self.out = out.detach()
        return self.record(out, x)

    def backward(self, g):
        x, = self.inputs
        rows, cols = last_dim(x, self.dim, "log_softmax")
        x.dtype.k.log_softmax_backward(grad_buffer(x), g._buf, self.out._buf, rows, cols)


def class_targets(targets, shape, num_classes, op):
    """Integer class indices of the given shape, each in [0, num_classes), as a contiguous int64 array."""
    raw = targets.numpy() if isinstance(targets, Tensor) else targets
    array = np.asarray(raw)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.array_equal(array, np.round(array)):
            raise TypeError(f"{op}: class targets must be integers, got non-integral values")
    elif array.dtype.kind not in "iu":
        raise TypeError(f"{op}: class targets must be integers, got data of numpy dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{op}: targets of shape {array.shape} do not match the input: expected shape {tuple(shape)}")
    array = np.ascontiguousarray(array, dtype=np.int64)
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        bad = array[(array < 0) | (array >= num_classes)][0]
        raise ValueError(f"{op}: class target {bad} is out of range for {num_classes} classes")
    return array


class CrossEntropy(Op):
    """The fused softmax + cross-entropy over integer class targets, reduced by mean or sum.
    Backward: dlogits += scale * (softmax(logits) - onehot(targets))."""

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"cross_entropy: reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def forward(self, logits, targets):
        rows, cols = last_dim(tensor_arg(logits, "cross_entropy", "logits"), -1, "cross_entropy")
        self.targets = class_targets(targets, logits.shape[:-1], cols, "cross_entropy")
        self.probs = empty(logits.shape, logits.dtype)
        total = logits.dtype.k.cross_entropy(self.probs._buf, logits._buf, ffi.from_buffer("int64_t[]", self.targets),
                                             rows, cols)
        out = empty((), logits.dtype)
        out._buf[0] = total / rows if self.reduction == "mean" and rows else total
        return self.record(out, logits)

    def backward(self, g):
        logits, = self.inputs
        rows, cols = last_dim(logits, -1, "cross_entropy")
        scale = g._buf[0] / rows if self.reduction == "mean" and rows else g._buf[0]   # no rows: nothing to scale
        logits.dtype.k.cross_entropy_backward(grad_buffer(logits), self.probs._buf,
                                              ffi.from_buffer("int64_t[]", self.targets), scale, rows, cols)

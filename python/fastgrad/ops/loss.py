"""NLLLoss: the negative log-likelihood of log-probabilities at integer class targets, one C kernel
each way. (The fused softmax + cross-entropy lives beside softmax, in ops/softmax.py.)"""
from .._C import ffi
from ..autograd import Op, grad_buffer
from ..tensor import empty
from ._checks import last_dim, tensor_arg
from .softmax import class_targets


class NLLLoss(Op):
    """-mean (or -sum) of logp[i, targets[i]]. Backward: dlogp[i, targets[i]] -= scale."""
    __slots__ = ("reduction", "targets")

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"nll_loss: reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def forward(self, logp, targets):
        rows, cols = last_dim(tensor_arg(logp, "nll_loss", "input"), -1, "nll_loss")
        self.targets = class_targets(targets, logp.shape[:-1], cols, "nll_loss")
        total = logp.dtype.k.nll_loss(logp._buf, ffi.from_buffer("int64_t[]", self.targets), rows, cols)
        out = empty((), logp.dtype)
        out._buf[0] = total / rows if self.reduction == "mean" and rows else total
        return self.record(out, logp)

    def backward(self, g):
        logp, = self.inputs
        rows, cols = last_dim(logp, -1, "nll_loss")
        scale = g._buf[0] / rows if self.reduction == "mean" and rows else g._buf[0]   # no rows: nothing to scale
        logp.dtype.k.nll_loss_backward(grad_buffer(logp), ffi.from_buffer("int64_t[]", self.targets), scale, rows,
                                       cols)

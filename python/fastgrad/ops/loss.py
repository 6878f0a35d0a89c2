"""Losses over integer class targets: the fused softmax + cross-entropy and the negative
log-likelihood, one C kernel each way, reduced by mean or sum."""
from .._C import ffi
from ..autograd import Op, grad_buffer
from ..dtypes import int64, kernels
from ..tensor import Tensor, empty
from . import _checks
from ._checks import class_targets, last_dim, raw_view, reduction_arg, tensor_arg


class _ClassTargetLoss(Op):
    """What both losses share: the reduction, the checked targets, and the mean's scale."""
    name = None

    def __init__(self, reduction="mean"):
        self.reduction = reduction_arg(reduction, self.name)

    def _rows_cols(self, x, targets):
        """Checks x and targets; keeps the targets (and their C pointer) for backward."""
        rows, cols = last_dim(tensor_arg(x, self.name), -1, self.name)
        if isinstance(targets, Tensor) and targets._dtype is int64:
            # checked through a raw view, then copied by a kernel: a captured step replays the copy
            # and re-checks the range of each new batch (_checks.range_hook)
            class_targets(raw_view(targets), x.shape[:-1], cols, self.name)
            if _checks.range_hook is not None:
                _checks.range_hook(targets, cols)
            self.targets = empty(targets._shape, int64, targets._numel)
            kernels.cast(self.targets._buf, int64.code, targets._buf, int64.code, targets._numel)
            self.targets_ptr = self.targets._buf
        else:
            self.targets = class_targets(targets, x.shape[:-1], cols, self.name)
            self.targets_ptr = ffi.from_buffer("int64_t[]", self.targets)
        return rows, cols

    def _reduced(self, total, rows, dtype):
        """The summed loss as a 0-d tensor, divided by the row count for the mean (NaN for no rows,
        as a mean of nothing is in numpy and PyTorch)."""
        out = empty((), dtype)
        # by the fill kernel, not a Python write: a captured step replays it from the returned sum
        kernels.fill(out._buf, dtype.code, total if self.reduction == "sum" else (total / rows if rows else float("nan")),
                     0, 1)
        return out

    def _scale(self, g, rows):
        """d(loss)/d(each row's summed term): the upstream gradient, over rows for the mean."""
        if _checks.scalar_read_hook is not None:
            _checks.scalar_read_hook(g, self.name)
        return g._buf[0] / rows if self.reduction == "mean" and rows else g._buf[0]


class CrossEntropy(_ClassTargetLoss):
    """The fused softmax + cross-entropy of logits. Backward: dlogits += scale * (softmax - onehot)."""
    name = "cross_entropy"

    def forward(self, logits, targets):
        rows, cols = self._rows_cols(logits, targets)
        self.probs = empty(logits.shape, logits.dtype)
        total = logits.dtype.k.cross_entropy(self.probs._buf, logits._buf, self.targets_ptr, rows, cols)
        return self.record(self._reduced(total, rows, logits.dtype), logits)

    def _backward(self, g):
        logits, = self.inputs
        rows, cols = last_dim(logits, -1, self.name)
        logits.dtype.k.cross_entropy_backward(grad_buffer(logits), self.probs._buf, self.targets_ptr,
                                              self._scale(g, rows), rows, cols)


class NLLLoss(_ClassTargetLoss):
    """-logp[i, targets[i]] summed or averaged. Backward: dlogp[i, targets[i]] -= scale."""
    name = "nll_loss"

    def forward(self, logp, targets):
        rows, cols = self._rows_cols(logp, targets)
        total = logp.dtype.k.nll_loss(logp._buf, self.targets_ptr, rows, cols)
        return self.record(self._reduced(total, rows, logp.dtype), logp)

    def _backward(self, g):
        logp, = self.inputs
        rows, cols = last_dim(logp, -1, self.name)
        logp.dtype.k.nll_loss_backward(grad_buffer(logp), self.targets_ptr, self._scale(g, rows), rows, cols)

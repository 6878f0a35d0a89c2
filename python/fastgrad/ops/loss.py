"""Losses over integer class targets: the fused softmax + cross-entropy and the negative
log-likelihood, one C kernel each way, with PyTorch's weight, ignore_index, reduction ('mean',
'sum', 'none') and (cross-entropy) label_smoothing. The kernels do the reduction and, in backward,
the mean's division, so no Python arithmetic touches a loss or a gradient."""
import numbers

from .._C import ffi, lib
from ..autograd import Op, grad_buffer
from ..dtypes import int64, kernels
from ..tensor import Tensor, empty
from . import _checks
from ._checks import class_targets, last_dim, raw_view, tensor_arg

REDUCTIONS = {"none": lib.FG_REDUCE_NONE, "mean": lib.FG_REDUCE_MEAN, "sum": lib.FG_REDUCE_SUM}


def reduction_code(reduction, op):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return REDUCTIONS[reduction]


class _ClassTargetLoss(Op):
    """What both losses share: the checked arguments, kept as the op's own copies (the targets as a
    new int64 array, the class weights as a new tensor), so a later change to the caller's objects
    cannot reach backward."""
    name = None

    def __init__(self, reduction="mean", weight=None, ignore_index=-100):
        self.reduction = reduction_code(reduction, self.name)
        if not isinstance(ignore_index, numbers.Integral) or isinstance(ignore_index, bool):
            raise TypeError(f"{self.name}: ignore_index must be an int, got {type(ignore_index).__name__}")
        self.ignore_index = int(ignore_index)
        self.weight = weight

    def _setup(self, x, targets):
        """Checks x, the targets and the weight; returns (rows, cols)."""
        rows, cols = last_dim(tensor_arg(x, self.name), -1, self.name)
        if not x.dtype.is_floating_point:
            raise TypeError(f"{self.name}: input must be floating point, got {x.dtype!r}")
        if isinstance(targets, Tensor) and targets._dtype is int64:
            # checked by a kernel (numpy only to name a bad value), then copied by a kernel: a captured
            # step checks the range of each new batch itself (_checks.range_hook), then replays the copy
            if _checks.range_hook is not None:
                _checks.range_hook(targets, cols, self.ignore_index)
            if targets._shape != x._shape[:-1] or lib.fg_check_range_i64(targets._buf, targets._numel, 0, cols,
                                                                         self.ignore_index):
                class_targets(raw_view(targets), x.shape[:-1], cols, self.name, self.ignore_index)
            self.targets = empty(targets._shape, int64, targets._numel)
            kernels.cast(self.targets._buf, int64.code, targets._buf, int64.code, targets._numel)
            self.targets_ptr = self.targets._buf
        else:
            self.targets = class_targets(targets, x.shape[:-1], cols, self.name, self.ignore_index)
            self.targets_ptr = ffi.from_buffer("int64_t[]", self.targets)
        self.weight_buf = ffi.NULL
        if self.weight is not None:
            w = self.weight
            if not isinstance(w, Tensor) or w.shape != (cols,) or w.dtype is not x.dtype:
                raise ValueError(f"{self.name}: weight must be a tensor of shape ({cols},) and dtype {x.dtype!r}, got "
                                 f"{type(w).__name__ if not isinstance(w, Tensor) else (w.shape, w.dtype)}")
            self.weight = empty(w._shape, w._dtype)   # the op's own copy, made by the cast kernel
            kernels.cast(self.weight._buf, w.dtype.code, w._buf, w.dtype.code, cols)
            self.weight_buf = self.weight._buf
        return rows, cols

    def _out(self, x):
        return empty(x._shape[:-1] if self.reduction == lib.FG_REDUCE_NONE else (), x.dtype)


class CrossEntropy(_ClassTargetLoss):
    """The fused softmax + cross-entropy of logits. Backward: dlogits += scale * (softmax·sum(q) - q),
    q the (smoothed, weighted) target distribution."""
    name = "cross_entropy"

    def __init__(self, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
        super().__init__(reduction, weight, ignore_index)
        if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits, targets):
        rows, cols = self._setup(logits, targets)
        self.probs = empty(logits._shape, logits._dtype)
        out = self._out(logits)
        logits.dtype.k.cross_entropy(out._buf, self.probs._buf, logits._buf, self.targets_ptr, self.weight_buf,
                                     self.ignore_index, self.label_smoothing, self.reduction, rows, cols)
        return self.record(out, logits)

    def _backward(self, g):
        logits, = self.inputs
        rows, cols = last_dim(logits, -1, self.name)
        logits.dtype.k.cross_entropy_backward(grad_buffer(logits), g._buf, self.probs._buf, self.targets_ptr,
                                              self.weight_buf, self.ignore_index, self.label_smoothing,
                                              self.reduction, rows, cols)


class NLLLoss(_ClassTargetLoss):
    """-weight[t]·logp[i, t] per row, reduced. Backward: dlogp[i, t] -= scale·weight[t]."""
    name = "nll_loss"

    def forward(self, logp, targets):
        rows, cols = self._setup(logp, targets)
        out = self._out(logp)
        logp.dtype.k.nll_loss(out._buf, logp._buf, self.targets_ptr, self.weight_buf, self.ignore_index,
                              self.reduction, rows, cols)
        return self.record(out, logp)

    def _backward(self, g):
        logp, = self.inputs
        rows, cols = last_dim(logp, -1, self.name)
        logp.dtype.k.nll_loss_backward(grad_buffer(logp), g._buf, self.targets_ptr, self.weight_buf,
                                       self.ignore_index, self.reduction, rows, cols)

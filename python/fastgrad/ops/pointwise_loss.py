"""The pointwise losses (PyTorch's mse_loss, l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy,
binary_cross_entropy_with_logits, kl_div): one C kernel each way with an op code (csrc/loss.inc) and
one class. Python checks the arguments and expands broadcast operands to one shape; the kernels
compute, reduce and, backward, do the mean's division, so no Python arithmetic touches a value."""
import numbers
import warnings

from .._C import ffi, lib
from ..autograd import Op, accumulate_grad, broadcast_shape, grad_targets
from ..dtypes import float64, kernels
from ..tensor import Tensor, empty
from ._checks import cast_to, operands, tensor_arg
from .loss import REDUCTIONS
from .unary import expand

# name: (op code, how input and target meet): "broadcast" as PyTorch's regression losses (a warning
# when the sizes differ), "kl" broadcast without the warning, "same" one shape and dtype required.
LOSSES = {
    "mse_loss": (lib.FG_LOSS_MSE, "broadcast"),
    "l1_loss": (lib.FG_LOSS_L1, "broadcast"),
    "smooth_l1_loss": (lib.FG_LOSS_SMOOTH_L1, "broadcast"),
    "huber_loss": (lib.FG_LOSS_HUBER, "broadcast"),
    "binary_cross_entropy": (lib.FG_LOSS_BCE, "same"),
    "binary_cross_entropy_with_logits": (lib.FG_LOSS_BCE_WITH_LOGITS, "same"),
    "kl_div": (lib.FG_LOSS_KL_DIV, "kl"),
}
BCE_STATUS = {1: "input", 2: "target"}   # fg_pointwise_loss's failures


def _size(shape):
    return f"torch.Size({list(shape)})"   # PyTorch's spelling, so its messages read the same


def _broadcast(a, b):
    """numpy's broadcast of two shapes, or None."""
    try:
        return broadcast_shape(a, b)
    except ValueError:
        return None


class PointwiseLoss(Op):
    """Element i's loss is weight[i]·f(input[i], target[i]) for one of LOSSES' functions, reduced by
    'none', 'sum', 'mean' (or kl_div's 'batchmean'). param is smooth_l1_loss's beta or huber_loss's
    delta. Backward: dinput and dtarget (+)= the upstream gradient · weight · df/dx (df/dt)."""

    def __init__(self, name, reduction="mean", weight=None, pos_weight=None, param=1.0, log_target=False):
        if name not in LOSSES:
            raise ValueError(f"unknown pointwise loss {name!r}; one of {sorted(LOSSES)}")
        self.name = name
        self.code, self.shapes = LOSSES[name]
        allowed = ("none", "mean", "sum", "batchmean") if name == "kl_div" else tuple(REDUCTIONS)
        if reduction not in allowed:
            raise ValueError(f"{name}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")
        self.reduction = reduction
        if name == "kl_div":
            if not isinstance(log_target, bool):
                raise TypeError(f"kl_div: log_target must be a bool, got {type(log_target).__name__}")
            if log_target:
                self.code = lib.FG_LOSS_KL_DIV_LOG_TARGET
        if name in ("smooth_l1_loss", "huber_loss"):
            what = "beta" if name == "smooth_l1_loss" else "delta"
            if isinstance(param, bool) or not isinstance(param, numbers.Real):
                raise TypeError(f"{name}: {what} must be a number, got {type(param).__name__}")
            if name == "huber_loss" and not param > 0:
                raise ValueError(f"huber_loss does not support non-positive values for delta, got {param!r}")
            if name == "smooth_l1_loss" and not param >= 0:
                raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {param!r}")
            if param == 0:   # PyTorch's smooth_l1_loss with beta = 0 is l1_loss
                self.code = lib.FG_LOSS_L1
        self.param = float(param)
        self.weights = {"weight": weight, "pos_weight": pos_weight}

    def _operands(self, x, t):
        name = self.name
        tensor_arg(x, name)
        tensor_arg(t, name, "target")
        if self.shapes == "same":
            if t._shape != x._shape:
                if self.code == lib.FG_LOSS_BCE:
                    raise ValueError(f"binary_cross_entropy: Using a target size ({_size(t._shape)}) that is "
                                     f"different to the input size ({_size(x._shape)}) is deprecated. Please ensure "
                                     f"they have the same size.")
                raise ValueError(f"{name}: Target size ({_size(t._shape)}) must be the same as input size "
                                 f"({_size(x._shape)})")
            for what, v in (("input", x), ("target", t)):
                if not v._dtype.is_floating_point:
                    raise TypeError(f"{name}: {what} must be floating point, got {v._dtype!r}")
            if x._dtype is not t._dtype:
                if self.code == lib.FG_LOSS_BCE:   # PyTorch's binary_cross_entropy refuses it too
                    raise TypeError(f"{name}: dtype mismatch, input {x._dtype!r} and target {t._dtype!r}")
                x, t = x.to(float64), t.to(float64)   # float32 with float64: in float64, as PyTorch's
            return x, t, x._shape
        if self.shapes == "kl":
            for what, v in (("input", x), ("target", t)):
                if not v._dtype.is_floating_point:
                    raise TypeError(f"kl_div: {what} must be floating point (integral inputs are not supported), "
                                    f"got {v._dtype!r}")
        elif t._shape != x._shape:
            warnings.warn(f"Using a target size ({_size(t._shape)}) that is different to the input size "
                          f"({_size(x._shape)}). This will likely lead to incorrect results due to broadcasting. "
                          f"Please ensure they have the same size.", UserWarning, stacklevel=4)
        x, t = operands(x, t, name)
        if not x._dtype.is_floating_point:
            raise TypeError(f"{name}: needs a floating-point input or target, got {x._dtype!r} for both")
        shape = _broadcast(x._shape, t._shape)
        if shape is None:
            raise ValueError(f"{name}: input of shape {x._shape} and target of shape {t._shape} cannot be broadcast "
                             f"together")
        return x, t, shape

    def _weight(self, what, shape, dtype):
        """weight or pos_weight, broadcast to `shape`, as the op's own copy (NULL when not given)."""
        w = self.weights[what]
        if w is None:
            return None
        if not isinstance(w, Tensor):
            raise TypeError(f"{self.name}: {what} must be a fastgrad Tensor or None, got {type(w).__name__}")
        if w.requires_grad:
            raise ValueError(f"{self.name}: not differentiable with respect to {what}; it cannot require grad "
                             f"(as in PyTorch): pass {what}.detach()")
        if _broadcast(w._shape, shape) != shape:
            raise ValueError(f"{self.name}: {what} of shape {w._shape} cannot be broadcast to the input's shape {shape}")
        w = cast_to(w, dtype)
        if w._shape == shape and w is self.weights[what]:   # a copy: changing the caller's later cannot reach backward
            own = empty(shape, dtype)
            kernels.cast(own._buf, dtype.code, w._buf, dtype.code, w._numel)
            return own
        return expand(w, shape)

    def forward(self, input, target):
        x, t, shape = self._operands(input, target)
        dtype = x._dtype
        xe, te = expand(x, shape), expand(t, shape)
        weight, pos_weight = self._weight("weight", shape, dtype), None
        if self.code == lib.FG_LOSS_BCE_WITH_LOGITS:
            pos_weight = self._weight("pos_weight", shape, dtype)
        reduction = REDUCTIONS["mean" if self.reduction == "batchmean" else self.reduction]
        n = xe._numel
        # the mean's count: every element, or (kl_div's 'batchmean') the input's first dimension
        self.count = (x._shape[0] if x._shape else 1) if self.reduction == "batchmean" else n
        out = empty(shape if reduction == lib.FG_REDUCE_NONE else (), dtype)
        self.bufs = [xe._buf, te._buf] + [ffi.NULL if w is None else w._buf for w in (weight, pos_weight)]
        self.saved = (xe, te, weight, pos_weight, shape, reduction)   # keeps the buffers alive
        status = dtype.k.pointwise_loss(out._buf, *self.bufs, self.param, self.code, reduction, n, self.count)
        if status:
            raise ValueError(f"binary_cross_entropy: all elements of {BCE_STATUS[status]} should be between 0 and 1")
        return self.record(out, x, t)

    def _backward(self, g):
        x, t = self.inputs
        xe, _, _, _, shape, reduction = self.saved
        n = xe._numel
        if x._shape == shape and t._shape == shape:   # the gradients straight into .grad
            (dx, acc_x), (dt, acc_t) = grad_targets(x, t)
            x._dtype.k.pointwise_loss_backward(dx, dt, g._buf, *self.bufs, self.param, self.code, reduction, n,
                                               self.count, acc_x, acc_t)
            return
        full = [empty(shape, x._dtype) if v.requires_grad else None for v in (x, t)]   # then summed back
        x._dtype.k.pointwise_loss_backward(*[ffi.NULL if d is None else d._buf for d in full], g._buf, *self.bufs,
                                           self.param, self.code, reduction, n, self.count, 0, 0)
        for v, d in zip((x, t), full):
            if d is not None:
                accumulate_grad(v, d)

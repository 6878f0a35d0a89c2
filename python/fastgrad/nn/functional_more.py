"""More of torch.nn.functional: the 3-D convolutional family (conv3d, conv_transpose3d, the 3-D
pools: ops.Conv, ops.ConvTranspose and ops.Pool with spatial=3), the *_with_indices forms, max
unpooling, power-average pooling, dropout3d and the alpha dropouts, rrelu, the in-place activation
forms, and the Gaussian/Poisson NLL, multi-margin and triplet-with-distance losses. Everything here
is composed from existing ops and kernels; nn.functional re-exports it."""
import math
import numbers

from .. import creation as _creation, functions as _functions, ops
from ..autograd import no_grad
from ..random import bernoulli_mask
from ..ops.conv import spatial_args
from ..tensor import Tensor, empty, zeros, zeros_like
from . import functional as F


# ---- 3-D convolution and pooling ------------------------------------------------------------------
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input (N, C, D, H, W) or (C, D, H, W) with weight (C_out, C/groups, kD, kH,
    kW). padding: an int, a triple, 'valid' or 'same'."""
    return ops.Conv(stride, padding, dilation, groups, spatial=3).forward(input, weight, bias)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution of input (N, C_in, D, H, W) or (C_in, D, H, W) with weight
    (C_in, C_out/groups, kD, kH, kW): the gradient of conv3d with respect to its input."""
    return F._conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups, dilation)


def _max_pool(spatial, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    op = ops.Pool("max", kernel_size, stride, padding, dilation, ceil_mode, spatial=spatial)
    out = op.forward(input)
    # a copy: backward trusts the saved positions, so the caller must not be able to write them
    return (out, F._copy(op.argmax)) if return_indices else out


def _adaptive_max_pool(spatial, input, output_size, return_indices):
    op = ops.Pool("adaptive_max", output_size=output_size, spatial=spatial)
    out = op.forward(input)
    return (out, F._copy(op.argmax)) if return_indices else out


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window of (N, C, D, H, W) or (C, D, H, W); with return_indices also each
    maximum's flat position in its D·H·W volume."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return ops.Pool("avg", kernel_size, stride, padding, 1, ceil_mode, count_include_pad, spatial=3,
                    divisor_override=divisor_override).forward(input)


def adaptive_avg_pool3d(input, output_size):
    """Averages over PyTorch's adaptive windows: output_size an int or a triple (None keeps a size)."""
    return ops.Pool("adaptive_avg", output_size=output_size, spatial=3).forward(input)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_pool(3, input, output_size, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool(3, input, output_size, True)


# ---- max unpooling: the indices' scatter (Tensor.scatter; backward gathers) ------------------------
def _unpool_output_size(spatial, op, input, kernel, stride, padding, output_size):
    sizes = input.shape[-spatial:]
    default = tuple((size - 1) * s - 2 * p + k for size, s, p, k in zip(sizes, stride, padding, kernel))
    if output_size is None:
        return default
    given = tuple(output_size)
    if len(given) == spatial + 2:
        given = given[2:]
    if len(given) != spatial or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in given):
        raise ValueError(f"{op}: output_size must have {spatial} or {spatial + 2} elements, got {output_size!r}")
    for i, (v, d, s) in enumerate(zip(given, default, stride)):
        if not d - s < v < d + s:
            raise ValueError(f"{op}: invalid output_size {tuple(output_size)!r} (dim {i} must be between {d - s} and "
                             f"{d + s})")
    return tuple(int(v) for v in given)


def _max_unpool(spatial, input, indices, kernel_size, stride, padding, output_size):
    op = f"max_unpool{spatial}d"
    for name, t in (("input", input), ("indices", indices)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a fastgrad Tensor, got {type(t).__name__}")
    if input.ndim not in (spatial + 1, spatial + 2):
        dims = ops.conv.SPATIAL_DIMS[spatial]
        raise ValueError(f"{op}: expects an input of shape (N, C, {dims}) or (C, {dims}), got {input.shape}")
    if indices.shape != input.shape:
        raise ValueError(f"{op}: indices of shape {indices.shape} must have the input's shape {input.shape}")
    if indices.dtype.name != "int64":
        raise TypeError(f"{op}: indices must be int64, got {indices.dtype!r}")
    kernel = spatial_args(kernel_size, "kernel_size", op, 1, spatial)[3 - spatial:]
    stride = spatial_args(kernel_size if stride is None else stride, "stride", op, 1, spatial)[3 - spatial:]
    padding = spatial_args(padding, "padding", op, 0, spatial, 0)[3 - spatial:]
    out_sizes = _unpool_output_size(spatial, op, input, kernel, stride, padding, output_size)
    lead = input.shape[:-spatial]
    volume = math.prod(out_sizes)
    flat_in = input.reshape(lead + (-1,))
    flat_at = indices.reshape(lead + (-1,))
    if flat_at.numel():
        with no_grad():
            lo, hi = int(flat_at.min().item()), int(flat_at.max().item())
        if lo < 0 or hi >= volume:
            raise IndexError(f"{op}: found an invalid max index {lo if lo < 0 else hi} (the output's "
                             f"{' x '.join(map(str, out_sizes))} volume has {volume} positions)")
    out = zeros(lead + (volume,), dtype=input.dtype).scatter(len(lead), flat_at, flat_in)
    return out.reshape(lead + out_sizes)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """max_pool1d's partial inverse: each value to its index, zeros elsewhere."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# ---- power-average pooling: (sum of x^p over the window)^(1/p), as PyTorch composes it --------------
def _lp_pool(spatial, input, norm_type, kernel_size, stride, ceil_mode):
    op = f"lp_pool{spatial}d"
    if not isinstance(norm_type, numbers.Real) or isinstance(norm_type, bool):
        raise TypeError(f"{op}: norm_type must be a number, got {norm_type!r}")
    kernel = spatial_args(kernel_size, "kernel_size", op, 1, spatial)
    pooled = ops.Pool("avg", kernel_size, stride, 0, 1, ceil_mode, spatial=spatial).forward(input.pow(norm_type))
    # sign(out)·relu(|out|): as PyTorch's, the gradient of |·| and sign at 0 included
    pooled = pooled.sign() * F.relu(pooled.abs())
    return (pooled * float(math.prod(kernel))).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


# ---- dropouts --------------------------------------------------------------------------------------
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p, scaling the rest by
    1/(1-p), when training."""
    return F._channel_dropout(input, p, training, inplace, 3, "dropout3d", "(N, C, D, H, W) or (C, D, H, W)")


_SELU_ALPHA = 1.7580993408473766   # -selu's scale·alpha: the value a dropped unit takes


def _alpha_dropout(input, p, training, inplace, feature, name):
    """PyTorch's alpha dropout: kept units a·x, dropped ones a·(-alpha'), plus b, with a and b keeping
    a self-normalising activation's mean and variance: out = x·m + alpha'·m + alpha'·a·(p - 1), m = a
    where kept, else 0 (one C-drawn mask)."""
    p = F.check_dropout_p(p)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a fastgrad Tensor, got {type(input).__name__}")
    if feature and input.ndim < 2:
        raise ValueError(f"{name}: feature dropout requires at least 2 dimensions in the input, got shape "
                         f"{input.shape}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        out = input * 0.0
        return input.copy_(out) if inplace else out
    a = 1.0 / math.sqrt((_SELU_ALPHA * _SELU_ALPHA * p + 1) * (1 - p))
    shape = input.shape[:2] + (1,) * (input.ndim - 2) if feature else input.shape
    mask = bernoulli_mask(shape, p, a, input.dtype)
    shift = mask * _SELU_ALPHA + _SELU_ALPHA * a * (p - 1)
    if inplace:
        return input.mul_(mask).add_(shift)
    return input * mask + shift


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha_dropout(input, p, training, inplace, False, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (one draw per (N, C))."""
    return _alpha_dropout(input, p, training, inplace, True, "feature_alpha_dropout")


# ---- rrelu and the in-place forms -------------------------------------------------------------------
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """x where x >= 0, else a·x: a drawn uniformly from [lower, upper] per element by the C generator
    when training, (lower + upper) / 2 otherwise (leaky_relu)."""
    lo, hi = F._number(lower, "rrelu", "lower"), F._number(upper, "rrelu", "upper")
    if lo > hi:
        raise ValueError(f"rrelu: lower bound {lower} must be at most the upper bound {upper}")
    if not training:
        return F.leaky_relu(input, (lo + hi) / 2, inplace)

    def compute(x):
        slopes = empty(x._shape, x._dtype).uniform_(lo, hi)
        return _functions.where(x > 0, x, x * slopes)
    return F._activation(input, compute, "rrelu", inplace)


def relu_(input):
    return F.relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return F.elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return F.leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return F.hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return F.threshold(input, threshold, value, inplace=True)


def selu_(input):
    return F.selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return F.celu(input, alpha, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def upsample_nearest(input, size=None, scale_factor=None):
    """PyTorch's deprecated form of interpolate(mode='nearest')."""
    return F.interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """PyTorch's deprecated form of interpolate(mode='bilinear', align_corners=True)."""
    return F.interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- losses -------------------------------------------------------------------------------------------
def _reduction(size_average, reduce, reduction, name):
    reduction = F._legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction")
    return reduction


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5·(log(max(var, eps)) + (input - target)² / max(var, eps)) (+ 0.5·log(2π) when full); var
    has the input's shape, or one dimension fewer or a last dimension of 1 (one variance per sample),
    as PyTorch's; eps clamps it without a gradient through the clamp."""
    name = "gaussian_nll_loss"
    F._tensors(name, input=input, target=target)
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{name}: var has negative entry/entries")
        var = _creation.full_like(input, float(var))
    else:
        F._tensors(name, var=var)
        with no_grad():
            if var.numel() and bool((var < 0).any().item()):
                raise ValueError(f"{name}: var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:   # one variance per sample: broadcast over the last dimension
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"{name}: var of shape {var.shape} is of incorrect size for input of shape "
                             f"{input.shape}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction")
    var = var.clone()
    with no_grad():   # clamped for stability, the gradient passing as if it were not (PyTorch's)
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return F._reduce(loss, reduction, name)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target·input (log_input), or input - target·log(input + eps); with full, Stirling's
    term target·log(target) - target + 0.5·log(2π·target) where target > 1."""
    name = "poisson_nll_loss"
    reduction = _reduction(size_average, reduce, reduction, name)
    F._tensors(name, input=input, target=target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:   # Stirling's approximation of log(target!), where target > 1 (as PyTorch's, with its gradient)
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + _functions.where(target > 1, stirling, zeros_like(stirling))
    return F._reduce(loss, reduction, name)


def _class_targets(name, input, target):
    """Checks an input (N, C) or (C,) with at least one class, and int64 targets."""
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"{name}: expects a non-empty 1-D (C,) or 2-D (N, C) input, got shape {input.shape}")
    if target.dtype.name != "int64":
        raise TypeError(f"{name}: target must be int64 class indices, got {target.dtype!r}")
    return input


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Per sample, the sum over the classes i != y of max(0, margin - x[y] + x[i])^p (times weight[y]),
    divided by the number of classes."""
    name = "multi_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, name)
    F._tensors(name, input=input, target=target)
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError(f"{name}: only p == 1 and p == 2 supported, got {p!r}")
    _class_targets(name, input, target)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    n, c = x.shape
    expected = (n,) if input.ndim == 2 else ()
    if target.shape != expected and not (input.ndim == 1 and target.shape == (1,)):
        raise ValueError(f"{name}: target of shape {target.shape} does not match input of shape {input.shape} "
                         f"(expected {expected})")
    y = target.reshape(n, 1)
    _check_classes(name, y, c)
    picked = x.gather(1, y)
    terms = F.relu(margin - picked + x)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        F._tensors(name, weight=weight)
        if weight.shape != (c,):
            raise ValueError(f"{name}: weight must be a 1-D tensor of {c} elements, got shape {weight.shape}")
        terms = terms * weight.gather(0, y.reshape(-1)).reshape(n, 1)
    others = (_creation.arange(c).reshape(1, c) != y).to(x.dtype)   # the target's own term is skipped
    losses = (terms * others).sum(1) / c
    if input.ndim == 1:
        losses = losses.reshape(())
    return _reduce_samples(losses, reduction, name)


def _reduce_samples(losses, reduction, name):
    """F._reduce, but the mean of no samples is 0, as PyTorch's margin kernels give (not NaN)."""
    if reduction == "mean" and losses.numel() == 0:
        reduction = "sum"
    return F._reduce(losses, reduction, name)


def _check_classes(name, y, c):
    if y.numel():
        with no_grad():
            lo, hi = int(y.min().item()), int(y.max().item())
        if lo < 0 or hi >= c:
            raise IndexError(f"{name}: target {lo if lo < 0 else hi} is out of bounds for {c} classes")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Per sample, sum over the target classes j (the entries of target before its first -1) and the
    other classes i of max(0, 1 - (x[j] - x[i])), divided by the number of classes."""
    name = "multilabel_margin_loss"
    reduction = _reduction(size_average, reduce, reduction, name)
    F._tensors(name, input=input, target=target)
    _class_targets(name, input, target)
    if target.shape != input.shape:
        raise ValueError(f"{name}: target of shape {target.shape} must have the input's shape {input.shape}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    n, c = x.shape
    t = target.reshape(n, c)
    if t.numel():
        with no_grad():
            lo, hi = int(t.min().item()), int(t.max().item())
        if lo < -1 or hi >= c:
            raise IndexError(f"{name}: target {lo if lo < -1 else hi} is out of bounds for {c} classes")
    # is_target[n, i]: class i appears in the sample's targets before its first -1 (composed on the host
    # side of the graph: the targets carry no gradient)
    with no_grad():
        valid = (t >= 0).to(x.dtype).cumprod(1)                        # 1 up to the first -1
        safe = _functions.where(t >= 0, t, t * 0)
        onehot = zeros((n, c, c), dtype=x.dtype).scatter(2, safe.reshape(n, c, 1), valid.reshape(n, c, 1))
        is_target = onehot.sum(1).clamp(max=1.0)                         # (n, c)
        pairs = valid.reshape(n, c, 1) * (1.0 - is_target).reshape(n, 1, c)   # (n, j slot, i class)
    picked = x.gather(1, safe)                                           # x[target slot j]
    terms = F.relu(1.0 - picked.reshape(n, c, 1) + x.reshape(n, 1, c)) * pairs
    losses = terms.sum((1, 2)) / c
    if input.ndim == 1:
        losses = losses.reshape(())
    return _reduce_samples(losses, reduction, name)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0), d pairwise_distance by default; with swap, d(a, n) is
    min(d(a, n), d(p, n))."""
    name = "triplet_margin_with_distance_loss"
    F._tensors(name, anchor=anchor, positive=positive, negative=negative)
    if not isinstance(margin, numbers.Real) or margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin!r}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{name}: the anchor, positive and negative tensors must have the same number of "
                         f"dimensions, got {anchor.ndim}, {positive.ndim} and {negative.ndim}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction")
    distance = distance_function if distance_function is not None else F.pairwise_distance
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = _functions.minimum(dist_neg, distance(positive, negative))
    return F._reduce(F.relu(dist_pos - dist_neg + margin), reduction, name)

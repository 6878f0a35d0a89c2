"""Stateless forms of the layers and the losses."""
import math
import numbers
import warnings

from .. import functions as _functions, ops
from ..ops._checks import float_arg, tensor_arg
from ..dtypes import kernels
from ..random import bernoulli_mask
from ..autograd import no_grad
from ..ops.conv import _out_size, pair
from ..ops.shape import stack
from ..tensor import Tensor, empty, zeros, zeros_like


def relu(x, inplace=False):
    return x.relu_() if inplace else ops.ReLU().forward(x)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x (the gradient likewise; at 0 the slope, as PyTorch's)."""
    def compute(x):
        return _functions.where(x > 0, x, x * negative_slope)
    return _activation(input, compute, "leaky_relu", inplace)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (e^x - 1); the exponential sees min(x, 0), so a large x never puts
    inf * 0 into the gradient."""
    def compute(x):
        return _functions.where(x > 0, x, x.clamp(max=0).expm1() * alpha)
    return _activation(input, compute, "elu", inplace)


def _activation(input, compute, name, inplace):
    """compute(x) for a floating-point x, or, with inplace, written over the input as PyTorch's
    inplace=True does (inplace.apply: recorded like any in-place op)."""
    x = float_arg(input, name)
    if not inplace:
        return compute(x)
    from .. import inplace as _inplace
    return _inplace.apply(input, compute, f"{name}(inplace=True)")


def tanh(x):
    return ops.Tanh().forward(x)


def sigmoid(x):
    return ops.Sigmoid().forward(x)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Along dim, computed in dtype when given; dim=None picks PyTorch's legacy implicit dimension
    (with its warning), as do softmin and log_softmax."""
    return _functions.softmax(input, _softmax_dim(input, dim, "softmax", _stacklevel), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _functions.log_softmax(input, _softmax_dim(input, dim, "log_softmax", _stacklevel), dtype=dtype)


def _softmax_dim(input, dim, name, stacklevel):
    """dim, or for None PyTorch's legacy implicit choice, with its deprecation warning."""
    if dim is not None:
        return dim
    tensor_arg(input, name)
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  f"an argument.", stacklevel=stacklevel)   # (counted from here, as PyTorch's _get_softmax_dim)
    return 0 if input.ndim in (0, 1, 3) else 1


def linear(x, weight, bias=None):
    return ops.Linear().forward(x, weight, bias)


def check_dropout_p(p):
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")
    return float(p)


def dropout(x, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1/(1-p), when training; the
    mask is drawn by the C generator (fg.manual_seed) and applied by the C multiply (whose backward
    multiplies the gradient by the same mask)."""
    p = check_dropout_p(p)
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: input must be a fastgrad Tensor, got {type(x).__name__}")
    if not training or p == 0:
        return x
    mask = bernoulli_mask(x._shape, p, 1 / (1 - p) if p < 1 else 0.0, x.dtype)   # one kernel draws it
    return x.mul_(mask) if inplace else ops.Mul().forward(x, mask)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Softmax + cross-entropy in one fused kernel over integer class targets, with PyTorch's weight,
    ignore_index, reduction ('mean', 'sum', 'none') and label_smoothing. Classes are dimension 1 of
    an (N, C, d1, ...) input, as in PyTorch; a float target of the input's shape holds class
    probabilities instead (soft labels)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if isinstance(target, Tensor) and target.dtype.is_floating_point and isinstance(input, Tensor):
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    op = ops.CrossEntropy(reduction, weight, ignore_index, label_smoothing)
    return _classes_last(op, input, target, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-weight[t]·logp[i, t] reduced by mean, sum or none; input is log-probabilities (log_softmax's),
    classes on dimension 1 of an (N, C, d1, ...) input."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _classes_last(ops.NLLLoss(reduction, weight, ignore_index), input, target, reduction)


def _classes_last(op, input, target, reduction):
    """op (the fused class-target loss, classes last) on PyTorch's (N, C, d1, ...) layout: the classes
    moved last and the rest flattened into rows; a 'none' loss comes back in target's shape."""
    if not (isinstance(input, Tensor) and input.ndim > 2 and isinstance(target, Tensor)
            and target.ndim == input.ndim - 1):
        return op.forward(input, target)
    if target.shape != input.shape[:1] + input.shape[2:]:
        raise ValueError(f"{type(op).__name__}: targets of shape {target.shape} do not match the input of shape "
                         f"{input.shape}: expected {input.shape[:1] + input.shape[2:]} (classes are dimension 1)")
    loss = op.forward(input.movedim(1, -1).reshape(-1, input.shape[1]), target.reshape(-1))
    return loss.reshape(target.shape) if reduction == "none" else loss


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing):
    """Cross-entropy against class probabilities of input's shape: -sum_c w_c·q_c·log_softmax(x)_c
    per element, q smoothed toward uniform by label_smoothing; the mean divides by the number of
    elements (not by weights), as PyTorch's does."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if target.shape != input.shape:
        raise ValueError(f"cross_entropy: class-probability targets must have the input's shape {input.shape}, "
                         f"got {target.shape}")
    dim = 1 if input.ndim > 1 else 0
    classes = input.shape[dim]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    weighted = target * log_softmax(input, dim)
    if weight is not None:
        weighted = weighted * weight.reshape((classes,) + (1,) * (input.ndim - dim - 1))
    loss = -weighted.sum(dim)
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce pair, mapped onto reduction as PyTorch does."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


# ---- indexing layers (ops/index.py) -----------------------------------------------------------------
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of weight at the integer indices in input; padding_idx rows get no gradient."""
    from ..ops.index import embedding as _embedding
    return _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """The sum, mean or max of the embedding rows of each bag of indices: the rows of a 2-D input, or
    the runs of a 1-D input that start at offsets. An empty bag gives zeros; padding_idx entries are
    left out (and out of a mean's count); per_sample_weights (mode "sum") weight each row. The bags
    are a (bags x indices) matrix made from the offsets on the host (an index op, like indexing by a
    tensor: not capturable), applied to the gathered rows by one product, so gradients reach weight
    (sparse=True: a row-sparse one) and per_sample_weights."""
    import numpy as np
    from .. import functions as _fn
    from ..creation import full
    from ..tensor import tensor as _tensor
    name = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{name}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError(f"{name}: max_norm and scale_grad_by_freq are not supported")
    if not isinstance(input, Tensor) or input._dtype.is_floating_point or input.ndim not in (1, 2):
        raise ValueError(f"{name}: input must be a 1-D or 2-D tensor of integer indices, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: offsets must be None when input is 2-D (each row is a bag)")
        bags, length = input.shape
        starts = np.arange(bags) * length
    else:
        if not isinstance(offsets, Tensor) or offsets.ndim != 1 or offsets._dtype.is_floating_point:
            raise ValueError(f"{name}: a 1-D input needs offsets, a 1-D tensor of integers")
        starts = offsets.numpy().astype(np.int64)
        if include_last_offset:
            if len(starts) == 0 or starts[-1] != input.numel():
                raise ValueError(f"{name}: with include_last_offset the last offset must be the input's length "
                                 f"{input.numel()}")
            starts = starts[:-1]
        if len(starts) and (starts[0] != 0 or (np.diff(starts) < 0).any() or starts[-1] > input.numel()):
            raise ValueError(f"{name}: offsets must start at 0 and not decrease nor pass the input's length "
                             f"{input.numel()}, got {starts.tolist()}")
    flat = input.reshape(-1)
    n, bags = flat.numel(), len(starts)
    ends = np.append(starts[1:], n).astype(np.int64)
    member = np.zeros((bags, n), dtype=bool)   # member[b, i]: index i is in bag b
    for b, (lo, hi) in enumerate(zip(starts, ends)):
        member[b, lo:hi] = True
    if padding_idx is not None:
        member &= flat.numpy() != padding_idx % weight.shape[0]
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{name}: per_sample_weights is only supported for mode='sum' (PyTorch too), "
                                      f"got mode={mode!r}")
        if not isinstance(per_sample_weights, Tensor) or per_sample_weights.shape != input.shape:
            raise ValueError(f"{name}: per_sample_weights must be a tensor of the input's shape {input.shape}")
    rows = embedding(flat, weight, sparse=sparse)   # (n, dim)
    if mode == "max":
        chosen = _fn.where(_tensor(member)[:, :, None], rows[None], full((), -math.inf, dtype=weight.dtype))
        return _fn.where(_tensor(member.any(axis=1))[:, None], chosen.amax(1), full((), 0.0, dtype=weight.dtype))
    counts = member.sum(axis=1, keepdims=True)
    scale = member / np.maximum(counts, 1) if mode == "mean" else member.astype(np.float64)
    bag_matrix = _tensor(scale, dtype=weight.dtype)
    if per_sample_weights is not None:
        bag_matrix = bag_matrix * per_sample_weights.reshape(-1)
    return bag_matrix @ rows


def one_hot(tensor, num_classes=-1):
    """int64 class indices -> int64 one-hot vectors along a new last dimension."""
    from ..ops.index import one_hot as _one_hot
    return _one_hot(tensor, num_classes)


# ---- convolutional networks (ops/conv.py) ----------------------------------------------------------
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C, H, W) or (C, H, W) with weight (C_out, C/groups, kH, kW).
    padding: an int, a pair, 'valid' or 'same'."""
    return ops.Conv(stride, padding, dilation, groups, spatial=2).forward(input, weight, bias)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of input (N, C, L) or (C, L) with weight (C_out, C/groups, k)."""
    return ops.Conv(stride, padding, dilation, groups, spatial=1).forward(input, weight, bias)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each window; with return_indices also each maximum's flat position in its plane."""
    op = ops.Pool("max", kernel_size, stride, padding, dilation, ceil_mode)
    out = op.forward(input)
    if return_indices:
        # a copy: backward trusts the saved positions, so the caller must not be able to write them
        return out, _copy(op.argmax)
    return out


def _copy(t):
    out = empty(t._shape, t._dtype)
    kernels.cast(out._buf, t.dtype.code, t._buf, t.dtype.code, t._numel)
    return out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return ops.Pool("avg", kernel_size, stride, padding, 1, ceil_mode, count_include_pad,
                    divisor_override=divisor_override).forward(input)


def adaptive_avg_pool2d(input, output_size):
    """Averages over PyTorch's adaptive windows: output_size (an int, a pair, None keeps a size)."""
    return ops.Pool("adaptive_avg", output_size=output_size).forward(input)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalises each channel of input (N, C, ...): by the batch's statistics when training
    (updating running_mean and running_var in place, when given), else by the running ones."""
    return ops.BatchNorm(training, momentum, eps).forward(input, weight, bias, running_mean, running_var)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) with probability p, scaling the rest by
    1/(1-p), when training; the channel mask is broadcast by the C multiply."""
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d", "(N, C, H, W) or (C, H, W)")


def _channel_dropout(input, p, training, inplace, spatial, name, layouts):
    """dropout1d/dropout2d: one kept-and-scaled value per channel, over `spatial` trailing dimensions."""
    p = check_dropout_p(p)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a fastgrad Tensor, got {type(input).__name__}")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{name}: expects an input of shape {layouts}, got {input.shape}")
    if not training or p == 0:
        return input
    mask = bernoulli_mask(input.shape[:-spatial] + (1,) * spatial, p, 1 / (1 - p) if p < 1 else 0.0, input.dtype)
    return input.mul_(mask) if inplace else ops.Mul().forward(input, mask)



# ---- more convolutional-network layers (cnn: ops/pad.py, ops/conv.py) --------------------------------
def pad(input, pad, mode="constant", value=None):
    """Pads the last len(pad) // 2 dimensions: pad = (left, right) of the last one, then of the one
    before, ...; negative amounts crop. mode: 'constant' (value, default 0), 'reflect',
    'replicate' or 'circular' (the last 1 to 3 dimensions of an (N, C, ...) or (C, ...) input)."""
    if isinstance(input, Tensor) and not input.dtype.is_floating_point and mode == "constant":
        return _pad_integer(input, pad, value)
    return ops.Pad(pad, mode, value).forward(input)


def _pad_integer(input, pad, value):
    """F.pad of int64 / bool tensors in constant mode (token ids padded with the pad id, attention
    masks with 0), as PyTorch pads them: the value everywhere, the (cropped) input copied into its
    place. No gradient to carry; the float kernel's checks give malformed pads their message."""
    from ..creation import full
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or len(pad) // 2 > input.ndim:
        return ops.Pad(pad, "constant", value).forward(input.float())
    shape, src, dst = list(input.shape), [slice(None)] * input.ndim, [slice(None)] * input.ndim
    for i in range(len(pad) // 2):
        d, lo, hi = input.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])
        kept = shape[d] - max(-lo, 0) - max(-hi, 0)
        if kept < 0 or shape[d] + lo + hi < 0:
            return ops.Pad(pad, "constant", value).forward(input.float())
        src[d], dst[d] = slice(max(-lo, 0), max(-lo, 0) + kept), slice(max(lo, 0), max(lo, 0) + kept)
        shape[d] += lo + hi
    out = full(shape, 0 if value is None else value, dtype=input.dtype)
    out[tuple(dst)] = input[tuple(src)]
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    op = ops.Pool("max", kernel_size, stride, padding, dilation, ceil_mode, spatial=1)
    out = op.forward(input)
    return (out, _copy(op.argmax)) if return_indices else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return ops.Pool("avg", kernel_size, stride, padding, 1, ceil_mode, count_include_pad, spatial=1).forward(input)


def adaptive_avg_pool1d(input, output_size):
    return ops.Pool("adaptive_avg", output_size=output_size, spatial=1).forward(input)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    op = ops.Pool("adaptive_max", output_size=output_size, spatial=1)
    out = op.forward(input)
    return (out, _copy(op.argmax)) if return_indices else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maxima over PyTorch's adaptive windows: output_size (an int, a pair, None keeps a size)."""
    op = ops.Pool("adaptive_max", output_size=output_size)
    out = op.forward(input)
    return (out, _copy(op.argmax)) if return_indices else out


def _affine(out, weight, bias, op):
    """out·weight + bias per channel (dimension 1), each optional, as broadcast C ops."""
    c, rest = out.shape[1], (1,) * (out.ndim - 2)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (c,)):
            raise ValueError(f"{op}: {name} must be a tensor of shape ({c},) for input of shape {out.shape}, got "
                             f"{getattr(t, 'shape', type(t).__name__)}")
    if weight is not None:
        out = ops.Mul().forward(out, weight.reshape((c,) + rest))
    if bias is not None:
        out = ops.Add().forward(out, bias.reshape((c,) + rest))
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises each of num_groups groups of channels of input (N, C, *) per sample, then scales and
    shifts each channel: batch norm's kernels over (1, N·num_groups, the group's values)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"group_norm: input must be a fastgrad Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"group_norm: expects an input of shape (N, C, *), got {input.shape}")
    if not isinstance(num_groups, numbers.Integral) or isinstance(num_groups, bool) or num_groups < 1:
        raise ValueError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise ValueError(f"group_norm: the {c} channels of input {input.shape} are not divisible by "
                         f"num_groups={num_groups}")
    if n * c // num_groups * math.prod(input.shape[2:]) == 1:   # PyTorch's condition
        raise ValueError(f"group_norm: expected more than 1 value per channel when training, got input of shape "
                         f"{input.shape} and num_groups={num_groups}")
    op = ops.BatchNorm(True, None, eps)
    op.one_value_ok = True   # a group of one value normalises to 0, as PyTorch's
    out = op.forward(input.reshape(1, n * num_groups, c // num_groups * math.prod(input.shape[2:])))
    out = out.reshape(input.shape)
    return _affine(out, weight, bias, "group_norm")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalises each channel of each sample of input (N, C, *) by its own statistics (or, with
    use_input_stats=False, by running_mean and running_var), then scales and shifts each channel."""
    if not isinstance(input, Tensor):
        raise TypeError(f"instance_norm: input must be a fastgrad Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expects an input of shape (N, C, *), got {input.shape}")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if math.prod(input.shape[2:]) == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input of shape "
                         f"{input.shape}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: give both running_mean and running_var, or neither")
    if running_mean is None:
        return group_norm(input, input.shape[1], weight, bias, eps)
    # as PyTorch: batch norm over (1, N·C, values) updates running statistics repeated per sample, whose
    # average over the samples becomes the new running statistics
    n, c = input.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if not isinstance(t, Tensor) or t.shape != (c,) or t.dtype is not input.dtype:
            raise ValueError(f"instance_norm: {name} must be a {input.dtype!r} tensor of shape ({c},), got "
                             f"{getattr(t, 'shape', type(t).__name__)}")
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"instance_norm: momentum must be a number, got {momentum!r}")
    if not n:
        return group_norm(input, c, weight, bias, eps)
    with no_grad():
        mean, var = running_mean.repeat(n), running_var.repeat(n)
    out = ops.BatchNorm(True, momentum, eps).forward(input.reshape(1, n * c, -1), None, None, mean, var)
    with no_grad():
        running_mean.copy_(mean.reshape(n, c).mean(0))
        running_var.copy_(var.reshape(n, c).mean(0))
    return _affine(out.reshape(input.shape), weight, bias, "instance_norm")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resamples (N, C, L) or (N, C, H, W) to size, or by scale_factor: mode 'nearest',
    'nearest-exact', 'linear' (3-D) or 'bilinear' (4-D, align_corners)."""
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    return ops.Upsample(size, scale_factor, mode, align_corners, recompute_scale_factor).forward(input)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def _conv_transpose(spatial, input, weight, bias, stride, padding, output_padding, groups, dilation):
    out = ops.ConvTranspose(stride, padding, output_padding, groups, dilation, spatial).forward(input, weight)
    if bias is None:
        return out
    c = out.shape[-spatial - 1]
    if not isinstance(bias, Tensor) or bias.shape != (c,):
        raise ValueError(f"conv_transpose{spatial}d: bias must be a tensor of shape ({c},), got "
                         f"{getattr(bias, 'shape', type(bias).__name__)}")
    return ops.Add().forward(out, bias.reshape((c,) + (1,) * spatial))


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_in, C_out/groups, kH, kW): the gradient of conv2d with respect to its input."""
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups, dilation)

# ---- language-model layers (csrc/norm_act.inc) ------------------------------------------------------
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    return ops.LayerNorm(normalized_shape, eps).forward(input, weight, bias)


def gelu(input, approximate="none"):
    return ops.gelu_op(approximate).forward(input)


def silu(input, inplace=False):
    return _activation(input, ops.Activation("silu").forward, "silu", inplace)


def logsigmoid(input):
    return ops.Activation("logsigmoid").forward(input)


def softplus(input, beta=1.0, threshold=20.0):
    return ops.softplus_op(beta, threshold).forward(input)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the returned tensor")
    return ops.Normalize(p, dim, eps).forward(input)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query·keyᵀ·scale + mask)·value, scale = 1/sqrt(E) by default, in one C kernel per
    direction (GEMMs per batch around a fused masked softmax). dropout_p drops attention weights
    (pass 0.0 in eval mode, as with PyTorch)."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    return ops.ScaledDotProductAttention(attn_mask, dropout_p, is_causal, scale).forward(query, key, value)


# ---- pointwise losses (ops/pointwise_loss.py, csrc/loss.inc): one kernel with an op code ------------
def _pointwise_reduction(size_average, reduce, reduction):
    if isinstance(size_average, str):   # fastgrad's earlier mse_loss(a, b, "sum"): reduction third
        return size_average
    return _legacy_reduction(size_average, reduce, reduction)


def _weighted(name, input, target, reduction, weight, mean_over_weights, **kw):
    """PyTorch's weighted mse_loss, l1_loss and huber_loss: the elementwise losses times weight (of the
    input's shape), then summed, or averaged over the elements or (mse, l1) over the weights' sum."""
    if not isinstance(weight, Tensor) or not isinstance(input, Tensor) or weight.shape != input.shape:
        raise ValueError(f"{name}: Weights and input must have the same size: weight "
                         f"{getattr(weight, 'shape', type(weight).__name__)}, input {getattr(input, 'shape', None)}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    losses = ops.PointwiseLoss(name, "none", **kw).forward(input, target) * weight
    if reduction == "none":
        return losses
    return losses.sum() / weight.sum() if reduction == "mean" and mean_over_weights else getattr(losses, reduction)()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)² per element (broadcast, with PyTorch's warning when the sizes differ), reduced."""
    reduction = _pointwise_reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted("mse_loss", input, target, reduction, weight, True)
    return ops.PointwiseLoss("mse_loss", reduction).forward(input, target)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target| per element, reduced; gradient sign(input - target) (0 where equal)."""
    reduction = _pointwise_reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted("l1_loss", input, target, reduction, weight, True)
    return ops.PointwiseLoss("l1_loss", reduction).forward(input, target)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (d = input - target); beta = 0 is l1_loss."""
    return ops.PointwiseLoss("smooth_l1_loss", _pointwise_reduction(size_average, reduce, reduction),
                             param=beta).forward(input, target)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta)."""
    if weight is not None:
        return _weighted("huber_loss", input, target, reduction, weight, False, param=delta)
    return ops.PointwiseLoss("huber_loss", reduction, param=delta).forward(input, target)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-weight·(t·log x + (1-t)·log(1-x)) of probabilities x, each log clamped to >= -100 as PyTorch's;
    input and target of one shape with values in [0, 1]; weight broadcasts to it."""
    return ops.PointwiseLoss("binary_cross_entropy", _pointwise_reduction(size_average, reduce, reduction),
                             weight=weight).forward(input, target)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy of logits in one stable kernel: weight·((1-t)·x - (1 + (pw-1)·t)·log σ(x))."""
    return ops.PointwiseLoss("binary_cross_entropy_with_logits", _pointwise_reduction(size_average, reduce, reduction),
                             weight=weight, pos_weight=pos_weight).forward(input, target)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target·(log target - input) per element (input: log-probabilities; log_target: target is too),
    reduced by 'none', 'sum', 'mean' (over every element) or 'batchmean' (over input.size(0))."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    return ops.PointwiseLoss("kl_div", reduction, log_target=log_target).forward(input, target)
# ---- distances (composed from existing ops in fastgrad/tensor_functions.py) ----
from ..tensor_functions import cosine_similarity, pairwise_distance  # noqa: E402,F401
# ---- affine_grid, grid_sample, local_response_norm, channel_shuffle (composed, nn/spatial.py) ----
from .spatial import affine_grid, channel_shuffle, grid_sample, local_response_norm  # noqa: E402,F401
# ---- PyTorch's other activations: op codes of csrc/norm_act.inc's act kernel, or composed --------------
def _number(value, op, name, low=None):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value != value:
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{op}: {name} must be >= {low}, got {value!r}")
    return float(value)


def _act(input, name, inplace=False, a=0.0, b=0.0):
    return _activation(input, ops.Activation(name, a, b).forward, name, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """min(max(x, min_val), max_val); the gradient is 0 at both bounds, as PyTorch's."""
    lo, hi = _number(min_val, "hardtanh", "min_val"), _number(max_val, "hardtanh", "max_val")
    if lo > hi:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _act(input, "hardtanh", inplace, lo, hi)


def relu6(input, inplace=False):
    return _act(input, "hardtanh", inplace, 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    return _act(input, "hardsigmoid", inplace)


def hardswish(input, inplace=False):
    return _act(input, "hardswish", inplace)


def mish(input, inplace=False):
    return _act(input, "mish", inplace)


def selu(input, inplace=False):
    return _act(input, "selu", inplace)


def celu(input, alpha=1.0, inplace=False):
    if _number(alpha, "celu", "alpha") == 0:
        raise ValueError("celu: alpha cannot be 0")
    return _act(input, "celu", inplace, float(alpha))


def softsign(input):
    return _act(input, "softsign")


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return _act(input, "threshold", inplace, _number(threshold, "threshold", "threshold"),
                _number(value, "threshold", "value"))


def tanhshrink(input):
    return _act(input, "tanhshrink")


def softshrink(input, lambd=0.5):
    return _act(input, "softshrink", a=_number(lambd, "softshrink", "lambd", low=0))


def hardshrink(input, lambd=0.5):
    return _act(input, "hardshrink", a=_number(lambd, "hardshrink", "lambd"))


def _dim_of(x, dim, op):
    n = max(x.ndim, 1)
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool) or not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim!r} is out of range for a tensor of shape {x.shape}")
    return dim % n


def glu(input, dim=-1):
    """a * sigmoid(b) for the halves a, b of input along dim."""
    x = float_arg(input, "glu")
    if x.ndim == 0:
        raise ValueError("glu: does not apply to a 0-d tensor (it halves a dimension)")
    d = _dim_of(x, dim, "glu")
    if x.shape[d] % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {d} of shape {x.shape} is "
                         f"size {x.shape[d]}")
    h = x.shape[d] // 2
    return x.narrow(d, 0, h) * x.narrow(d, h, h).sigmoid()


def prelu(input, weight):
    """x where x > 0, else weight * x, with one weight, or one per channel (dimension 1)."""
    x = float_arg(input, "prelu")
    if not isinstance(weight, Tensor) or weight.dtype is not x.dtype or weight.ndim > 1:
        raise TypeError(f"prelu: weight must be a 0-d or 1-d {x.dtype!r} tensor, got "
                        f"{(weight.dtype, weight.shape) if isinstance(weight, Tensor) else type(weight).__name__}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise ValueError(f"prelu: mismatch of parameter numbers and input channel size: weight has "
                         f"{weight.numel()} elements, input of shape {x.shape} has {channels} channels")
    w = weight.reshape(()) if weight.numel() == 1 else weight.reshape((channels,) + (1,) * (x.ndim - 2))
    return _functions.where(x > 0, x, w * x)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input, dim); dim=None picks PyTorch's legacy implicit dimension (with its warning)."""
    dim = _softmax_dim(input, dim, "softmin", _stacklevel)
    return _functions.softmax(-float_arg(input, "softmin"), dim, dtype=dtype)


# ---- margin and embedding losses (their modules: nn/margin.py): composed from ops in the order of
# PyTorch's own implementation (aten/src/ATen/native/Loss.cpp), so values and gradients follow
# PyTorch's, kinks included (clamp passes the gradient at the bound) ----
def _tensors(name, **named):
    for arg, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {arg} must be a fastgrad Tensor, got {type(t).__name__}")


def _reduce(losses, reduction, name):
    if reduction == "none":
        return losses
    if reduction in ("mean", "sum"):
        return getattr(losses, reduction)()
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin): target 1 wants input1 ranked higher, -1 lower."""
    _tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    if not input1.dim() == input2.dim() == target.dim():
        raise ValueError(f"margin_ranking_loss: all inputs should have the same number of dimensions, got "
                         f"{input1.shape}, {input2.shape} and {target.shape}")
    losses = (-target * (input1 - input2) + margin).clamp(min=0)
    return _reduce(losses, _legacy_reduction(size_average, reduce, reduction), "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    _tensors("hinge_embedding_loss", input=input, target=target)
    zeros = zeros_like(input)
    below_margin = _functions.where(target != 1, (margin - input).clamp(min=0), zeros)
    itself = _functions.where(target != -1, input, zeros)
    return _reduce(below_margin + itself, _legacy_reduction(size_average, reduce, reduction), "hinge_embedding_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), as softplus (no overflow for large margins)."""
    _tensors("soft_margin_loss", input=input, target=target)
    return _reduce(softplus(-target * input), _legacy_reduction(size_average, reduce, reduction),
                   "soft_margin_loss")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(input1, input2) where target is 1, max(0, cos - margin) where it is -1; the cosine over
    the last dimension, each squared norm plus 1e-12 as PyTorch."""
    _tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    if input1.dim() not in (1, 2) or input1.shape != input2.shape:
        raise ValueError(f"cosine_embedding_loss: expected 1-D or 2-D inputs of one shape, got {input1.shape} and "
                         f"{input2.shape}")
    if target.dim() != input1.dim() - 1:
        raise ValueError(f"cosine_embedding_loss: target of shape {target.shape} does not match inputs of shape "
                         f"{input1.shape}")
    eps = 1e-12
    cos = (input1 * input2).sum(-1) / _functions.sqrt(((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps))
    zeros = zeros_like(cos)
    losses = _functions.where(target == 1, 1 - cos, zeros) + _functions.where(target == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(losses, _legacy_reduction(size_average, reduce, reduction), "cosine_embedding_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the pairwise p-distance; with
    swap, d(anchor, negative) is replaced by d(positive, negative) where that is smaller."""
    _tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    if not anchor.dim() == positive.dim() == negative.dim() or anchor.dim() not in (1, 2):
        raise ValueError(f"triplet_margin_loss: expected anchor, positive and negative to be 1-D or 2-D of one "
                         f"dimensionality, got {anchor.shape}, {positive.shape} and {negative.shape}")
    to_positive = pairwise_distance(anchor, positive, p, eps)
    to_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        to_negative = _functions.minimum(to_negative, pairwise_distance(positive, negative, p, eps))
    losses = (margin + to_positive - to_negative).clamp(min=0)
    return _reduce(losses, _legacy_reduction(size_average, reduce, reduction), "triplet_margin_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(target log sigmoid(input) + (1 - target) log sigmoid(-input)), times weight, averaged over the
    classes (the last dimension)."""
    _tensors("multilabel_soft_margin_loss", input=input, target=target)
    losses = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        losses = losses * weight
    losses = losses.sum(-1) / input.shape[-1] if input.dim() else losses
    return _reduce(losses, _legacy_reduction(size_average, reduce, reduction), "multilabel_soft_margin_loss")
# ---- more of PyTorch's functional API (math helper: layers_more.py, ops/rms_norm.py) -----------------
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x²) + eps) · weight over the trailing `normalized_shape` dimensions; eps=None is
    the input dtype's machine epsilon, as in PyTorch."""
    return ops.RMSNorm(normalized_shape, eps).forward(input, weight)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) with probability p, scaling the rest by
    1/(1-p), when training (dropout2d's mask, one value per channel)."""
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d", "(N, C, L) or (C, L)")


def _factor(value, op, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{op}: {name} must be a positive integer, got {value!r}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """(*, C·r², H, W) -> (*, C, H·r, W·r): a reshape, one permute (a copy) and a reshape."""
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"pixel_shuffle: expects a tensor of at least 3 dimensions (*, C, H, W), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: the channels ({c}, of input shape {input.shape}) must be divisible by "
                         f"upscale_factor² ({r * r})")
    n = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H·r, W·r) -> (*, C·r², H, W), pixel_shuffle's inverse."""
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"pixel_unshuffle: expects a tensor of at least 3 dimensions (*, C, H, W), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: height and width ({h}, {w}, of input shape {input.shape}) must be "
                         f"divisible by downscale_factor ({r})")
    n = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def _block_counts(spatial, k, d, p, s):
    """How many blocks unfold takes along each of (H, W): the convolutions' output size."""
    return [_out_size(full, kk, st, 2 * pad, dil) for full, kk, st, pad, dil in zip(spatial, k, s, p, d)]


def _blocks(op, kernel_size, dilation, padding, stride):
    return (pair(kernel_size, "kernel_size", op, 1), pair(dilation, "dilation", op, 1), pair(padding, "padding", op, 0),
            pair(stride, "stride", op, 1))


def _block_slices(size, k, d, s):
    """Per kernel offset (i, j), the strided slices of the padded (H, W) planes it reads in every block."""
    return [(slice(i * d[0], i * d[0] + s[0] * (size[0] - 1) + 1, s[0]), slice(j * d[1], j * d[1] + s[1] * (size[1] - 1) + 1, s[1]))
            for i in range(k[0]) for j in range(k[1])]


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: the sliding kh x kw blocks of (N, C, H, W) (or (C, H, W)) as (N, C·kh·kw, L), row
    c·kh·kw + i·kw + j holding channel c at kernel offset (i, j) of each of the L blocks (row-major), as
    PyTorch. Strided slices of the padded input stacked: their gradients and captured replay."""
    k, d, p, s = _blocks("unfold", kernel_size, dilation, padding, stride)
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise ValueError(f"unfold: expects a 3-D (C, H, W) or 4-D (N, C, H, W) tensor, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    n, c, h, w = x.shape
    size = _block_counts((h, w), k, d, p, s)
    if min(size) < 1:
        raise ValueError(f"unfold: a {k[0]}x{k[1]} kernel with dilation {d} and padding {p} does not fit an input of "
                         f"spatial size ({h}, {w})")
    if p != (0, 0):
        x = pad(x, (p[1], p[1], p[0], p[0]))
    blocks = stack([x[:, :, rows, cols] for rows, cols in _block_slices(size, k, d, s)], 2)
    out = blocks.reshape(n, c * k[0] * k[1], size[0] * size[1])
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, unfold's adjoint: (N, C·kh·kw, L) (or (C·kh·kw, L)) blocks summed into (N, C, H, W), each
    block's values added where unfold read them (overlaps add up), as PyTorch."""
    k, d, p, s = _blocks("fold", kernel_size, dilation, padding, stride)
    h, w = pair(output_size, "output_size", "fold", 1)
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"fold: expects a 2-D (C·kh·kw, L) or 3-D (N, C·kh·kw, L) tensor, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    n, rows, blocks = x.shape
    size = _block_counts((h, w), k, d, p, s)
    if rows % (k[0] * k[1]) or min(size) < 1 or size[0] * size[1] != blocks:
        raise ValueError(f"fold: input of shape {tuple(input.shape)} does not hold {k[0]}x{k[1]} blocks of an output "
                         f"of size ({h}, {w}) with dilation {d}, padding {p} and stride {s}: it needs C·{k[0] * k[1]} "
                         f"rows and {size[0] * size[1]} blocks")
    c = rows // (k[0] * k[1])
    x = x.reshape(n, c, k[0] * k[1], size[0], size[1])
    out = zeros(n, c, h + 2 * p[0], w + 2 * p[1], dtype=input.dtype)
    for at, (rows_at, cols_at) in enumerate(_block_slices(size, k, d, s)):
        out[:, :, rows_at, cols_at] += x[:, :, at]
    out = out[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
    return out if input.ndim == 3 else out.squeeze(0)


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum over i, j of input1[..., i]·weight[o, i, j]·input2[..., j] + bias[o]: one matmul
    of input1 with weight (as in1 x out·in2), a product with input2 and a sum."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear: {name} must be a fastgrad Tensor, got {type(t).__name__}")
    if weight.ndim != 3 or input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1] or \
            input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ValueError(f"bilinear: expects input1 (*, in1), input2 (*, in2) and weight (out, in1, in2), got shapes "
                         f"{input1.shape}, {input2.shape} and {weight.shape}")
    out_f, in1, in2 = weight.shape
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (out_f,)):
        raise ValueError(f"bilinear: bias must be a tensor of shape ({out_f},), got "
                         f"{getattr(bias, 'shape', type(bias).__name__)}")
    lead = input1.shape[:-1]
    x1, x2 = input1.reshape(-1, in1), input2.reshape(-1, in2)
    t = (x1 @ weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out_f)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g = -log(Exponential(1)) draws (Gumbel noise from fastgrad's C
    generator); hard=True returns the one-hot of its argmax with the soft sample's gradient (the
    straight-through estimator: y_hard - y_soft.detach() + y_soft)."""
    from ..index_more import exponential_
    if not isinstance(logits, Tensor) or not logits.dtype.is_floating_point:
        raise TypeError(f"gumbel_softmax: logits must be a float tensor, got "
                        f"{logits.dtype if isinstance(logits, Tensor) else type(logits).__name__!r}")
    if eps != 1e-10:
        warnings.warn("gumbel_softmax: `eps` has no effect and is deprecated (as in PyTorch)", stacklevel=2)
    with no_grad():
        gumbels = -_functions.log(exponential_(empty(logits._shape, logits._dtype)))
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    with no_grad():
        index = y_soft.argmax(dim, keepdim=True)
        y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# ---- the 3-D family, unpooling, power-average pooling, alpha dropout, rrelu, in-place forms, more losses
# (nn/functional_more.py) ----
from .functional_more import (adaptive_avg_pool3d, adaptive_max_pool1d_with_indices,  # noqa: E402,F401
                              adaptive_max_pool2d_with_indices, adaptive_max_pool3d, adaptive_max_pool3d_with_indices,
                              alpha_dropout, avg_pool3d, celu_, conv3d, conv_transpose3d, dropout3d, elu_,
                              feature_alpha_dropout, gaussian_nll_loss, hardtanh_, leaky_relu_, lp_pool1d, lp_pool2d,
                              lp_pool3d, max_pool1d_with_indices, max_pool2d_with_indices, max_pool3d,
                              max_pool3d_with_indices, max_unpool1d, max_unpool2d, max_unpool3d, multi_margin_loss,
                              multilabel_margin_loss, poisson_nll_loss, relu_, rrelu, rrelu_, selu_, threshold_,
                              triplet_margin_with_distance_loss, upsample_bilinear, upsample_nearest)

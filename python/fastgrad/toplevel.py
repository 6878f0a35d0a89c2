"""Top-level functions PyTorch exposes that fastgrad had only in nn.functional or as methods, and small
utilities on dtypes, shapes and windows, each composed from existing ops:
- AS_IN_F: torch.<name> is F.<name> with the same arguments (conv1d, max_pool2d, selu, ...); the ones
  whose torch.<name> orders or names its arguments differently (dropout's `train`, batch_norm's and
  instance_norm's order, embedding's (weight, indices), binary_cross_entropy_with_logits' integer
  reduction, adaptive_max_pool1d's pair) are wrappers below;
- IN_PLACE: torch.relu_(x), torch.asin_(x), ... (x.relu_(), ...), and F_IN_PLACE: torch.selu_(x),
  torch.celu_(x), torch.threshold_(x, ...) (F.selu(x, inplace=True), ...);
- predicates and dtype rules: is_floating_point, is_signed, is_nonzero, is_same_size, is_complex,
  broadcast_shapes, result_type, promote_types, can_cast;
- making tensors: asarray, scalar_tensor, range, the signal windows (hann, hamming, blackman,
  bartlett, kaiser; periodic by default, as PyTorch);
- stacking and splitting: atleast_1d/2d/3d, column_stack, row_stack, dstack, hsplit, vsplit, dsplit,
  split_with_sizes.
Tensor's methods come from METHODS (tensor.py sets them); fastgrad/__init__.py exports __all__."""
import math
import numbers

import numpy as np

from . import functions as _fn, shape_functions as _sf
from .api_ported import tensor_split
from .autograd import broadcast_shape, no_grad
from .creation import arange
from .interop import from_numpy
from .dtypes import as_dtype, bool_, default_float, float32, float64, int64
from .nn import functional as F
from .ops._checks import tensor_arg
from .tensor import Size, Tensor, _dim_index, ones, tensor as _tensor

# ---- torch.<name>(...) = F.<name>(...), the same arguments ------------------------------------------------
AS_IN_F = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
           "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d", "selu", "celu",
           "threshold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "bilinear", "prelu", "rrelu",
           "hardshrink", "rms_norm")
_from_f = {name: getattr(F, name) for name in AS_IN_F if hasattr(F, name)}
globals().update(_from_f)
if "channel_shuffle" in _from_f:
    native_channel_shuffle = _from_f["channel_shuffle"]
    _from_f["native_channel_shuffle"] = native_channel_shuffle


# ---- the same functions under torch's own argument lists --------------------------------------------------
def _dropout(name):
    """torch.dropout(input, p, train): F.dropout(input, p, training); and the in-place torch.dropout_."""
    f = getattr(F, name)

    def dropout(input, p, train):
        return f(input, p, train)

    def dropout_(input, p, train):
        return f(input, p, train, inplace=True)
    dropout.__name__, dropout_.__name__ = name, name + "_"
    return dropout, dropout_


DROPOUTS = {}
for _name in ("dropout", "alpha_dropout", "feature_alpha_dropout"):
    if hasattr(F, _name):
        DROPOUTS[_name], DROPOUTS[_name + "_"] = _dropout(_name)
globals().update(DROPOUTS)


def embedding(weight, input, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """torch.embedding(weight, indices, ...): F.embedding with its operands swapped; a negative
    padding_idx is none (F.embedding passes -1 for None)."""
    return F.embedding(input, weight, padding_idx=None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """torch.batch_norm's order (weight and bias first): F.batch_norm's arguments."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """reduction as torch's integer (0 none, 1 mean, 2 sum) or F's name."""
    if isinstance(reduction, numbers.Integral) and not isinstance(reduction, bool):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"binary_cross_entropy_with_logits: reduction must be 0, 1 or 2, got {reduction}")
        reduction = _REDUCTIONS[int(reduction)]
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=reduction, pos_weight=pos_weight)


def adaptive_max_pool1d(input, output_size):
    """The (values, indices) pair, as torch.adaptive_max_pool1d returns it."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


# ---- top-level in-place forms: torch.relu_(x) is x.relu_(); torch.selu_(x) is F.selu(x, inplace=True) ------
IN_PLACE = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
            "asinh_", "atan_", "atanh_", "ceil_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
            "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "i0_",
            "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_",
            "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_",
            "square_", "tan_", "tanh_", "trunc_", "xlogy_", "fill_", "zero_", "detach_", "index_put_", "addmv_")


def _method_call(name):
    def f(input, *args, **kwargs):
        tensor_arg(input, name)
        return getattr(input, name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    return f


def _f_in_place(name):
    f = getattr(F, name)

    def g(input, *args, **kwargs):
        return f(input, *args, inplace=True, **kwargs)
    g.__name__ = g.__qualname__ = name + "_"
    return g


TOP_IN_PLACE = {name: _method_call(name) for name in IN_PLACE}
TOP_IN_PLACE.update({name + "_": _f_in_place(name) for name in ("selu", "celu", "threshold", "rrelu")
                     if hasattr(F, name)})
globals().update(TOP_IN_PLACE)


# ---- predicates and dtype rules ------------------------------------------------------------------------
def is_floating_point(input):
    return tensor_arg(input, "is_floating_point").dtype.is_floating_point


def is_signed(input):
    """True for every fastgrad dtype but bool."""
    return tensor_arg(input, "is_signed").dtype is not bool_


def is_complex(input):
    """False: fastgrad has no complex dtypes."""
    tensor_arg(input, "is_complex")
    return False


def is_nonzero(input):
    """Whether a one-element tensor is nonzero; any other size is a ValueError, as PyTorch refuses it."""
    tensor_arg(input, "is_nonzero")
    if input.numel() != 1:
        raise ValueError(f"is_nonzero: a tensor with {'no values' if not input.numel() else 'more than one value'} "
                         f"(shape {tuple(input.shape)}) has no single truth value")
    return bool(input.item() != 0)


def is_same_size(input, other):
    return tensor_arg(input, "is_same_size").shape == tensor_arg(other, "is_same_size", "other").shape


def broadcast_shapes(*shapes):
    """The shape the given shapes (sequences or single ints) broadcast to, as an fg.Size."""
    dims = []
    for s in shapes:
        s = (s,) if isinstance(s, numbers.Integral) else tuple(s)
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0 for d in s):
            raise ValueError(f"broadcast_shapes: shapes must hold non-negative integers, got {s!r}")
        dims.append(tuple(int(d) for d in s))
    return Size(broadcast_shape(*dims) if dims else ())


_ORDER = (bool_, int64, float32, float64)   # each promotes to the later one, as PyTorch's table does for these


def promote_types(type1, type2):
    """The smaller dtype both convert to without losing their kind: bool < int64 < float32 < float64."""
    a, b = as_dtype(type1), as_dtype(type2)
    for d in (a, b):
        if d not in _ORDER:
            raise TypeError(f"promote_types: fastgrad's tensor dtypes are {', '.join(map(repr, _ORDER))}, got {d!r}")
    return max(a, b, key=_ORDER.index)


def _category(dtype):
    return 2 if dtype.is_floating_point else 0 if dtype is bool_ else 1


def result_type(tensor1, tensor2):
    """The dtype an op on these operands returns, by PyTorch's rules: a tensor with dimensions decides
    within its kind, then a 0-d tensor, then a Python number (whose dtype is the default for its kind,
    float32 for a float), and a higher kind always wins."""
    groups = [[], [], []]   # dtypes of dimensioned tensors, 0-d tensors, numbers
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            groups[0 if x.ndim else 1].append(x.dtype)
        elif isinstance(x, bool):
            groups[2].append(bool_)
        elif isinstance(x, numbers.Integral):
            groups[2].append(int64)
        elif isinstance(x, numbers.Real):
            groups[2].append(default_float())
        else:
            raise TypeError(f"result_type: expects tensors or numbers, got {type(x).__name__}")
    if not any(groups):
        raise TypeError("result_type: expects two operands")
    best = max(_category(d) for group in groups for d in group)
    for group in groups:   # the highest-ranked group holding the winning kind decides within it
        kinds = [d for d in group if _category(d) == best]
        if kinds:
            return kinds[0] if len(kinds) == 1 else promote_types(*kinds)


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow an operation to write from_'s values into to: not a float
    into an integer, nor anything but bool into bool."""
    a, b = as_dtype(from_), as_dtype(to)
    if a.is_floating_point and not b.is_floating_point:
        return False
    return not (b is bool_ and a is not bool_)


# ---- making tensors ----------------------------------------------------------------------------------------
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """obj as a tensor, sharing its memory where it can (a tensor of that dtype, a numpy array), a copy
    when copy=True; copy=False where a copy is needed is a ValueError, as PyTorch's."""
    dtype = None if dtype is None else as_dtype(dtype)
    if isinstance(obj, Tensor):
        out = obj if dtype is None or obj.dtype is dtype else obj.to(dtype)
        if out is not obj and copy is False:
            raise ValueError(f"asarray: converting {obj.dtype!r} to {dtype!r} needs a copy, and copy=False")
        if copy and out is obj:
            out = obj.clone()
    elif (isinstance(obj, np.ndarray) and not copy and obj.dtype.name in ("float32", "float64", "int64", "bool")
          and obj.flags.c_contiguous and obj.flags.aligned and obj.flags.writeable
          and (dtype is None or dtype.name == obj.dtype.name)):
        out = from_numpy(obj)   # shares the array's memory, in its dtype (float64 stays float64), as PyTorch's
    else:
        if copy is False and isinstance(obj, np.ndarray):
            raise ValueError(f"asarray: a numpy array of {obj.dtype} (or not contiguous and writeable) as "
                             f"{dtype!r} needs a copy, and copy=False")
        out = _fn.as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out = (out.detach() if out is obj else out).requires_grad_(True)
    return out


def scalar_tensor(s, *, dtype=None, device=None, layout=None, pin_memory=None, requires_grad=False):
    """A 0-d tensor holding s: float32 by default, whatever s is (as PyTorch)."""
    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, numbers.Real):
        raise TypeError(f"scalar_tensor: expects a number, got {type(s).__name__}")
    return _tensor(s, dtype=default_float() if dtype is None else dtype, device=device, requires_grad=requires_grad)


def range(start, end, step=1, *, dtype=None, device=None, requires_grad=False):  # noqa: A001
    """start, start + step, ... up to and including end (torch.range, deprecated there for arange):
    floor((end - start) / step) + 1 values, float32 by default."""
    for name, v in (("start", start), ("end", end), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"range: {name} must be a finite number, got {v!r}")
    if step == 0 or (end - start) * step < 0:
        raise ValueError(f"range: upper bound and lower bound inconsistent with step sign ({start}, {end}, {step})")
    n = int(math.floor((end - start) / step)) + 1
    dtype = default_float() if dtype is None else as_dtype(dtype)
    with no_grad():   # start + i·step in double (PyTorch's accumulate type), then the dtype
        out = (arange(n, dtype=float64, device=device) * float(step) + float(start)).to(dtype)
    return out.requires_grad_(True) if requires_grad else out


def _window(name, window_length, periodic, dtype, device, requires_grad, make):
    """The shared frame of the windows: checks, the empty and one-element cases, the periodic window as
    the symmetric one of window_length + 1 without its last value (PyTorch's way)."""
    if isinstance(window_length, bool) or not isinstance(window_length, numbers.Integral) or window_length < 0:
        raise ValueError(f"{name}: window_length must be a non-negative integer, got {window_length!r}")
    dtype = default_float() if dtype is None else as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"{name}: expects a floating-point dtype, got {dtype!r}")
    if window_length <= 1:
        out = ones(window_length, dtype=dtype, device=device)
    else:
        n = window_length + 1 if periodic else window_length
        with no_grad():
            out = make(arange(n, dtype=dtype, device=device), n)
        if periodic:
            out = out.narrow(0, 0, window_length).clone()
    return out.requires_grad_(True) if requires_grad else out


def _cosine(alpha, beta):
    """alpha - beta·cos(2πn / (N - 1)), PyTorch's order of operations."""
    return lambda n, N: (n * (2 * math.pi / (N - 1))).cos() * -beta + alpha


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """alpha - beta·cos(2πn / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, _cosine(alpha, beta))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.5 - 0.5·cos(2πn / (N - 1)): the Hamming window with alpha = beta = 0.5."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _cosine(0.5, 0.5))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """0.42 - 0.5·cos(2πn / (N - 1)) + 0.08·cos(4πn / (N - 1))."""
    def make(n, N):
        w = n * (math.pi / (N - 1))
        return (w * 4).cos() * 0.08 - (w * 2).cos() * 0.5 + 0.42
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, make)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangle 2n / (N - 1), mirrored as 2 - 2n / (N - 1) past the middle."""
    def make(n, N):
        w = n * (2.0 / (N - 1))
        half = (N - 1) // 2 + 1
        return _sf.cat([w.narrow(0, 0, half), 2 - w.narrow(0, half, N - half)], 0)
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, make)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """I0(beta·sqrt(1 - ((n - α)/α)²)) / I0(beta), α = (N - 1)/2 (I0: the modified Bessel function)."""
    from .math_more import i0

    def make(n, N):
        alpha = (N - 1) / 2.0
        t = (n - alpha) / alpha
        return i0((1 - t * t).clamp(min=0).sqrt() * beta) / i0(_tensor(float(beta), dtype=n.dtype))
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, make)


# ---- stacking and splitting ---------------------------------------------------------------------------------
_ATLEAST = {(1, 0): lambda s: (1,), (2, 0): lambda s: (1, 1), (2, 1): lambda s: (1,) + s,
            (3, 0): lambda s: (1, 1, 1), (3, 1): lambda s: (1,) + s + (1,), (3, 2): lambda s: s + (1,)}


def _atleast(name, ndim, tensors):
    """One tensor for one tensor, a tuple for several or for a list or tuple of them (PyTorch's)."""
    many = len(tensors) != 1 or isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    out = tuple(t if tensor_arg(t, name).ndim >= ndim else t.reshape(_ATLEAST[ndim, t.ndim](tuple(t.shape)))
                for t in tensors)
    return out if many else out[0]


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one reshaped to (1,)); one tensor, or a tuple."""
    return _atleast("atleast_1d", 1, tensors)


def atleast_2d(*tensors):
    """(1, 1) for 0-d, (1, n) for 1-D; others as they are."""
    return _atleast("atleast_2d", 2, tensors)


def atleast_3d(*tensors):
    """(1, 1, 1) for 0-d, (1, n, 1) for 1-D, (m, n, 1) for 2-D; others as they are."""
    return _atleast("atleast_3d", 3, tensors)


def column_stack(tensors):
    """Side by side as columns: 0-d and 1-D tensors become (n, 1) columns, then hstack."""
    return _sf.hstack([t.reshape(-1, 1) if tensor_arg(t, "column_stack").ndim <= 1 else t for t in tensors])


def row_stack(tensors):
    """vstack's other name."""
    return _sf.vstack(tensors)


def dstack(tensors):
    """Along the third dimension, after atleast_3d."""
    tensors = [atleast_3d(t) for t in tensors]
    return _sf.cat(tensors, 2)


def _split_along(name, input, indices_or_sections, dim, min_ndim):
    tensor_arg(input, name)
    if input.ndim < min_ndim:
        raise ValueError(f"torch.{name} requires a tensor with at least {min_ndim} dimension(s), but got a tensor "
                         f"with {input.ndim} dimensions")
    if isinstance(indices_or_sections, numbers.Integral) and not isinstance(indices_or_sections, bool):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise ValueError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                             f"{size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dimension 1 (0 for 1-D tensors); a number of sections must divide it."""
    tensor_arg(input, "hsplit")
    return _split_along("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


def vsplit(input, indices_or_sections):
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input, split_sizes, dim=0):
    """The pieces of the given sizes along dim; they must add up to its length."""
    tensor_arg(input, "split_with_sizes")
    sizes = [int(s) for s in split_sizes]
    length = input.shape[_dim_index(dim, input.ndim, "split_with_sizes")]
    if sum(sizes) != length or any(s < 0 for s in sizes):
        raise ValueError(f"split_with_sizes: sizes {sizes} must be non-negative and add up to {length}, the size of "
                         f"dimension {dim} of shape {tuple(input.shape)}")
    return tuple(input.split(sizes, dim))


# ---- Tensor's methods ------------------------------------------------------------------------------------------
METHODS = {name: globals()[name] for name in ("is_signed", "is_nonzero", "is_same_size", "is_complex", "hsplit",
                                              "vsplit", "dsplit", "split_with_sizes")}
METHODS.update({name: _from_f[name] for name in ("prelu", "hardshrink") if name in _from_f})

__all__ = (list(_from_f) + list(DROPOUTS) + list(TOP_IN_PLACE)
           + ["embedding", "layer_norm", "group_norm", "batch_norm", "instance_norm", "binary_cross_entropy_with_logits",
              "adaptive_max_pool1d", "is_floating_point", "is_signed", "is_complex", "is_nonzero", "is_same_size",
              "broadcast_shapes", "promote_types", "result_type", "can_cast", "asarray", "scalar_tensor", "range",
              "hamming_window", "hann_window", "blackman_window", "bartlett_window", "kaiser_window", "atleast_1d",
              "atleast_2d", "atleast_3d", "column_stack", "row_stack", "dstack", "hsplit", "vsplit", "dsplit",
              "split_with_sizes"])

"""Convolutional-network ops on NC(D)HW tensors, one class per family: Conv (conv1d, conv2d, conv3d),
Pool (max, average, adaptive average and max, in 1-D, 2-D and 3-D) and BatchNorm. A 1-D or 2-D op is
the 3-D one with the missing leading spatial dimensions of size 1 (one geometry, one kernel). Each
checks its arguments, then makes one C call forward and one backward (csrc/conv.inc, pool.inc,
norm.inc); which algorithm runs is the kernels' business. Shapes, names and defaults are PyTorch's."""
import numbers
import threading

from .._C import ffi, lib
from ..autograd import Op, grad_buffer_or_null, grad_targets
from ..backend import get_num_threads
from ..tensor import Tensor, empty
from ..dtypes import int64


# ---- argument checks ----------------------------------------------------------------------------
def pair(value, name, op, minimum):
    """An int or a pair of ints, each at least `minimum`, as a pair."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


SPATIAL_DIMS = {1: "L", 2: "H, W", 3: "D, H, W"}
_TUPLE_NAMES = {1: "a 1-tuple", 2: "a pair of ints", 3: "a triple of ints"}


def spatial_args(value, name, op, minimum, spatial, fill=1):
    """An int or `spatial` ints, each at least `minimum`, as (depth, height, width): the dimensions
    a 1-D or 2-D op lacks are `fill` (a 2-D op runs as a 3-D one of depth 1)."""
    if isinstance(value, (tuple, list)):
        values = tuple(value)
        if len(values) != spatial:
            raise TypeError(f"{op}: {name} must be an int or {_TUPLE_NAMES[spatial]}, got {value!r}")
    else:
        values = (value,) * spatial
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{op}: {name} must be an int or {_TUPLE_NAMES[spatial]}, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return (fill,) * (3 - spatial) + tuple(int(v) for v in values)


def image_input(x, op, spatial):
    """(batched, n, c, spatial sizes) of an input of shape (n, c, *spatial) or (c, *spatial)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a fastgrad Tensor, got {type(x).__name__}")
    if not x._dtype.is_floating_point:
        raise TypeError(f"{op}: input must be float32 or float64, got {x._dtype!r}")
    if x.ndim not in (spatial + 1, spatial + 2):
        dims = SPATIAL_DIMS[spatial]
        raise ValueError(f"{op}: expects an input of shape (N, C, {dims}) or (C, {dims}), got {x.shape}")
    batched = x.ndim == spatial + 2
    shape = x._shape if batched else (1,) + x._shape
    return batched, shape[0], shape[1], shape[2:]


def _sizes(values, spatial):
    """The last `spatial` of three sizes, as 'a x b' for a message."""
    return " x ".join(map(str, values[3 - spatial:]))


def _out_size(size, k, s, p_total, d, ceil_mode=False, p_left=0):
    span = size + p_total - d * (k - 1) - 1
    if span < 0:
        return 0
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p_left:   # the last window must start inside the input
        out -= 1
    return out


# ---- scratch ------------------------------------------------------------------------------------
class _Scratch(threading.local):
    """Per thread, a buffer per (slot, dtype) that only grows. A fresh buffer of megabytes costs
    page faults on every call (glibc hands big blocks back to the system when they are freed), which
    measured ten times the im2col and GEMM work of a 64x3x32x32 convolution; reused ones cost none."""

    def __init__(self):
        self.buffers = {}


_scratch = _Scratch()


def scratch(slot, dtype, numel):
    """An uninitialised buffer of at least numel elements, the same one on every call of this thread
    until a larger one is asked for: for a kernel's temporaries only, never for what outlives the call."""
    buf, size = _scratch.buffers.get((slot, dtype), (None, -1))
    if size < numel:
        buf = empty((numel,), dtype)._buf
        _scratch.buffers[(slot, dtype)] = (buf, numel)
    return buf


# ---- convolution --------------------------------------------------------------------------------
class Conv(Op):
    """conv3d, conv2d or conv1d (spatial = 3, 2, 1; the lower ones as a conv3d of depth and height 1)
    of x (N, C, *spatial) with weight (C_out, C/groups, *kernel) and an optional bias (C_out,)."""

    def __init__(self, stride=1, padding=0, dilation=1, groups=1, spatial=2):
        self.spatial = spatial
        self.name = f"conv{spatial}d"
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def _args(self, value, name, minimum):
        return spatial_args(value, name, self.name, minimum, self.spatial, minimum)

    def forward(self, x, weight, bias=None):
        op, spatial = self.name, self.spatial
        batched, n, c, sizes = image_input(x, op, spatial)
        sizes = (1,) * (3 - spatial) + sizes
        if not isinstance(weight, Tensor):
            raise TypeError(f"{op}: weight must be a fastgrad Tensor, got {type(weight).__name__}")
        if weight.ndim != spatial + 2:
            raise ValueError(f"{op}: weight must have shape (out_channels, in_channels/groups, "
                             f"{', '.join('k' + d for d in SPATIAL_DIMS[spatial].split(', '))}), got {weight.shape}")
        groups = self.groups
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
            raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
        cout, cg = weight._shape[:2]
        kernel = (1,) * (3 - spatial) + weight._shape[2:]
        if c != cg * groups:
            raise ValueError(f"{op}: input of shape {x.shape} has {c} channels, but weight of shape {weight.shape} "
                             f"with groups={groups} expects {cg * groups}")
        if cout % groups:
            raise ValueError(f"{op}: out_channels {cout} (weight {weight.shape}) is not divisible by groups={groups}")
        if weight.dtype is not x.dtype:
            raise TypeError(f"{op}: dtype mismatch, input {x.dtype!r} and weight {weight.dtype!r}")
        if bias is not None:
            if not isinstance(bias, Tensor):
                raise TypeError(f"{op}: bias must be a fastgrad Tensor or None, got {type(bias).__name__}")
            if bias._shape != (cout,):
                raise ValueError(f"{op}: bias of shape {bias.shape} does not match weight of shape {weight.shape}: "
                                 f"expects ({cout},)")
            if bias.dtype is not x.dtype:
                raise TypeError(f"{op}: dtype mismatch, input {x.dtype!r} and bias {bias.dtype!r}")
        strides = self._args(self.stride, "stride", 1)
        dilations = self._args(self.dilation, "dilation", 1)
        if isinstance(self.padding, str):
            if self.padding == "valid":
                pads = ((0, 0),) * 3
            elif self.padding == "same":
                if any(s != 1 for s in strides):
                    raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
                # the total padding keeps the size; the odd one goes at the end, as in PyTorch
                pads = tuple((d * (k - 1) // 2, d * (k - 1)) for d, k in zip(dilations, kernel))
            else:
                raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a tuple of ints, "
                                 f"got {self.padding!r}")
        else:
            pads = tuple((p, 2 * p) for p in self._args(self.padding, "padding", 0))
        outs = tuple(_out_size(size, k, s, p[1], d)
                     for size, k, s, p, d in zip(sizes, kernel, strides, pads, dilations))
        if min(outs) < 1:
            padded = tuple(size + p[1] for size, p in zip(sizes, pads))
            span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilations))
            raise ValueError(f"{op}: the kernel ({_sizes(span, spatial)}, dilation included) is larger than "
                             f"the padded input ({_sizes(padded, spatial)}) of input shape {x.shape}")
        (d, h, w), (kd, kh, kw), (od, oh, ow) = sizes, kernel, outs
        self.geometry = geometry = [n, c, h, w, cout, kh, kw, oh, ow, strides[1], strides[2], pads[1][0], pads[2][0],
                                    dilations[1], dilations[2], groups, d, kd, od, strides[0], pads[0][0],
                                    dilations[0]]
        out = empty(((n, cout) if batched else (cout,)) + outs[3 - spatial:], x.dtype)
        k = x.dtype.k
        plan = ffi.new("int64_t[5]")
        k.conv2d_plan(plan, geometry)   # the kernels' algorithm and the scratch it needs
        self.plan = plan = tuple(plan)
        parts = min(plan[1], get_num_threads())   # threads, each with its part of col and out_t
        k.conv2d(out._buf, scratch("col", x.dtype, parts * plan[2]),
                 scratch("t", x.dtype, parts * plan[3]) if plan[3] else ffi.NULL, scratch("partial", x.dtype, plan[4]),
                 x._buf, weight._buf, ffi.NULL if bias is None else bias._buf, geometry)
        return self.record(out, x, weight) if bias is None else self.record(out, x, weight, bias)

    def _backward(self, g):
        x, weight = self.inputs[:2]
        dbias = grad_buffer_or_null(self.inputs[2]) if len(self.inputs) == 3 else ffi.NULL
        dx = grad_buffer_or_null(x)   # col2im adds into it; a first layer's x needs none: skipped
        (dw, accumulate_dw), = grad_targets(weight)
        plan, dtype = self.plan, x.dtype
        parts = min(plan[1], get_num_threads())
        cols = parts * plan[2]
        dtype.k.conv2d_backward(dx, dw, dbias, scratch("col", dtype, cols) if weight.requires_grad else ffi.NULL,
                                scratch("dcol", dtype, cols) if x.requires_grad else ffi.NULL,
                                scratch("t", dtype, parts * plan[3]) if plan[3] else ffi.NULL,
                                scratch("partial", dtype, plan[4]), g._buf, x._buf, weight._buf, self.geometry,
                                accumulate_dw)


# ---- pooling ------------------------------------------------------------------------------------
POOL_OPS = {"max": lib.FG_POOL_MAX, "avg": lib.FG_POOL_AVG, "avg_exclude_pad": lib.FG_POOL_AVG_EXCLUDE_PAD,
            "adaptive_avg": lib.FG_POOL_ADAPTIVE_AVG, "adaptive_max": lib.FG_POOL_ADAPTIVE_MAX}


class Pool(Op):
    """Pooling of x (N, C, *spatial) or (C, *spatial), spatial = 3, 2 or 1 dimensions (the lower ones
    as volumes of depth and height 1): kind "max", "avg" (count_include_pad and divisor_override
    choose the divisor), "adaptive_avg" or "adaptive_max" (output_size instead of a kernel). Max
    pooling saves each maximum's position (PyTorch's indices), and backward routes the gradient there."""

    def __init__(self, kind, kernel_size=None, stride=None, padding=0, dilation=1, ceil_mode=False,
                 count_include_pad=True, output_size=None, spatial=2, divisor_override=None):
        self.kind, self.kernel_size, self.stride, self.padding = kind, kernel_size, stride, padding
        self.dilation, self.ceil_mode, self.count_include_pad, self.output_size = (dilation, ceil_mode,
                                                                                   count_include_pad, output_size)
        self.spatial, self.divisor_override = spatial, divisor_override

    def forward(self, x):
        op, spatial = f"{self.kind}_pool{self.spatial}d", self.spatial
        batched, n, c, sizes = image_input(x, op, spatial)
        sizes = (1,) * (3 - spatial) + sizes
        divisor = 0
        if self.kind.startswith("adaptive"):
            size = self.output_size
            size = (None,) * spatial if size is None else size
            if isinstance(size, (tuple, list)) and len(size) == spatial:   # None keeps that size
                size = tuple(dim if s is None else s for s, dim in zip(size, sizes[3 - spatial:]))
            outs = spatial_args(size, "output_size", op, 1, spatial)
            if min(sizes) < 1:
                raise ValueError(f"{op}: input of shape {x.shape} has an empty plane")
            code, kernel, strides, pads, dilations = POOL_OPS[self.kind], (0, 0, 0), (1, 1, 1), (0, 0, 0), (1, 1, 1)
        else:
            kernel = spatial_args(self.kernel_size, "kernel_size", op, 1, spatial)
            strides = spatial_args(self.stride if self.stride not in (None, ()) else self.kernel_size, "stride", op,
                                   1, spatial)
            pads = spatial_args(self.padding, "padding", op, 0, spatial, 0)
            dilations = spatial_args(self.dilation, "dilation", op, 1, spatial) if self.kind == "max" else (1, 1, 1)
            if any(2 * p > k for p, k in zip(pads, kernel)):
                raise ValueError(f"{op}: padding {self.padding} should be at most half of kernel_size "
                                 f"{self.kernel_size}")
            outs = tuple(_out_size(size, k, s, 2 * p, d, self.ceil_mode, p)
                         for size, k, s, p, d in zip(sizes, kernel, strides, pads, dilations))
            if min(outs) < 1:
                window = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilations))
                padded = tuple(size + 2 * p for size, p in zip(sizes, pads))
                raise ValueError(f"{op}: the window ({_sizes(window, spatial)}) is larger than the padded input "
                                 f"({_sizes(padded, spatial)}) of input shape {x.shape}")
            if self.kind == "avg" and self.divisor_override is not None:
                divisor = self.divisor_override
                if not isinstance(divisor, numbers.Integral) or isinstance(divisor, bool):
                    raise TypeError(f"{op}: divisor_override must be an int or None, got {divisor!r}")
                if divisor == 0:
                    raise ValueError(f"{op}: divisor_override must be non-zero")
                divisor = int(divisor)
            kind = self.kind if self.kind == "max" or self.count_include_pad else "avg_exclude_pad"
            code = POOL_OPS[kind]
        (d, h, w), (od, oh, ow), (kd, kh, kw) = sizes, outs, kernel
        geometry = [n * c, h, w, oh, ow, kh, kw, strides[1], strides[2], pads[1], pads[2], dilations[1], dilations[2],
                    d, od, kd, strides[0], pads[0], dilations[0], divisor]
        out = empty(((n, c) if batched else (c,)) + outs[3 - spatial:], x.dtype)
        self.argmax = empty(out._shape, int64) if code in (lib.FG_POOL_MAX, lib.FG_POOL_ADAPTIVE_MAX) else None
        x.dtype.k.pool2d(out._buf, ffi.NULL if self.argmax is None else self.argmax._buf, x._buf, geometry, code)
        self.code, self.geometry = code, geometry
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        x.dtype.k.pool2d_backward(grad_buffer_or_null(x), g._buf, ffi.NULL if self.argmax is None else self.argmax._buf,
                                  self.geometry, self.code)


# ---- batch norm ---------------------------------------------------------------------------------
class BatchNorm(Op):
    """Batch normalisation of x (N, C, *) per channel C. training: by the batch's statistics, and
    running_mean/running_var (when given) are updated in place by the kernel with `momentum` (None:
    the cumulative average over num_batches_tracked); otherwise by the running statistics."""

    def __init__(self, training=False, momentum=0.1, eps=1e-5):
        self.training, self.momentum, self.eps = bool(training), momentum, eps
        self.one_value_ok = False   # group_norm sets it

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None, num_batches_tracked=None):
        op = "batch_norm"
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: input must be a fastgrad Tensor, got {type(x).__name__}")
        if not x._dtype.is_floating_point:
            raise TypeError(f"{op}: input must be float32 or float64, got {x._dtype!r}")
        if x.ndim < 2:
            raise ValueError(f"{op}: expects an input of shape (N, C, ...), got {x.shape}")
        n, c = x._shape[:2]
        hw = x._numel // (n * c) if n * c else 0
        for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
            if t is None:
                continue
            if not isinstance(t, Tensor):
                raise TypeError(f"{op}: {name} must be a fastgrad Tensor or None, got {type(t).__name__}")
            if t._shape != (c,):
                raise ValueError(f"{op}: {name} of shape {t.shape} does not match the {c} channels of input "
                                 f"{x.shape}")
            if t.dtype is not x.dtype:
                raise TypeError(f"{op}: dtype mismatch, input {x.dtype!r} and {name} {t.dtype!r}")
        if (running_mean is None) != (running_var is None):
            raise ValueError(f"{op}: give both running_mean and running_var, or neither")
        if not self.training and running_mean is None:
            raise ValueError(f"{op}: running_mean and running_var are needed when not training")
        momentum = -1.0 if self.momentum is None else float(self.momentum)
        if not isinstance(self.eps, numbers.Real) or not self.eps > 0:
            raise ValueError(f"{op}: eps must be a positive number, got {self.eps!r}")
        if self.training and n * hw == 1 and not self.one_value_ok:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got input of shape "
                             f"{x.shape}")
        out = empty(x._shape, x._dtype)
        mean, invstd = empty((c,), x.dtype), empty((c,), x.dtype)
        buf = lambda t: ffi.NULL if t is None else t._buf   # noqa: E731
        if x._numel or not self.training:   # an empty batch has no statistics to add
            x.dtype.k.batch_norm(out._buf, mean._buf, invstd._buf, buf(running_mean), buf(running_var),
                                 ffi.cast("int64_t *", buf(num_batches_tracked)), x._buf, buf(weight), buf(bias),
                                 float(self.eps), momentum, self.training, n, c, hw)
        self.mean, self.invstd, self.sizes = mean._buf, invstd._buf, (n, c, hw)
        self.has = (weight is not None, bias is not None)
        return self.record(out, x, *(t for t in (weight, bias) if t is not None))

    def _backward(self, g):
        x, *rest = self.inputs
        weight = rest.pop(0) if self.has[0] else None
        bias = rest.pop(0) if self.has[1] else None
        dweight = ffi.NULL if weight is None else grad_buffer_or_null(weight)
        dbias = ffi.NULL if bias is None else grad_buffer_or_null(bias)
        (dx, accumulate_dx), = grad_targets(x)   # written, not zeroed and added to, when it is the first
        x.dtype.k.batch_norm_backward(dx, dweight, dbias, g._buf, x._buf, ffi.NULL if weight is None else weight._buf,
                                      self.mean, self.invstd, self.training, *self.sizes, accumulate_dx)

"""F.interpolate's nearest and (bi)linear modes (one op, csrc/upsample.inc) and the transposed
convolution (conv_transpose1d/2d: the backward-data pass of a convolution, run by the conv kernels of
csrc/conv.inc). Shapes, names, defaults and checks are PyTorch's."""
import math
import numbers

from .._C import ffi, lib
from ..autograd import Op, grad_buffer_or_null, grad_targets
from ..backend import get_num_threads
from ..tensor import Tensor, empty
from .conv import SPATIAL_DIMS, image_input, scratch, spatial_args

UPSAMPLE_MODES = {"nearest": lib.FG_UPSAMPLE_NEAREST, "nearest-exact": lib.FG_UPSAMPLE_NEAREST_EXACT,
                  "linear": lib.FG_UPSAMPLE_LINEAR, "bilinear": lib.FG_UPSAMPLE_LINEAR}


class Upsample(Op):
    """Resamples x (N, C, L) or (N, C, H, W) to `size`, or by `scale_factor`: 'nearest',
    'nearest-exact', 'linear' (3-D) or 'bilinear' (4-D, align_corners)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x):
        op, mode = "interpolate", self.mode
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: input must be a fastgrad Tensor, got {type(x).__name__}")
        if not x._dtype.is_floating_point:
            raise TypeError(f"{op}: input must be float32 or float64, got {x._dtype!r}")
        if mode not in UPSAMPLE_MODES:
            raise NotImplementedError(f"{op}: mode {mode!r} is not supported (supported: "
                                      f"{', '.join(UPSAMPLE_MODES)})")
        if x.ndim not in (3, 4):
            raise NotImplementedError(f"{op}: expects a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {x.shape}")
        spatial = x.ndim - 2
        if mode in ("linear", "bilinear") and spatial != (1 if mode == "linear" else 2):
            raise NotImplementedError(f"{op}: got a {x.ndim}-D input (shape {x.shape}), but mode {mode!r} needs a "
                                      f"{3 if mode == 'linear' else 4}-D input")
        align = self.align_corners
        if mode.startswith("nearest") and align is not None:
            raise ValueError(f"{op}: align_corners can only be set with the interpolating modes (linear, bilinear), "
                             f"got mode {mode!r}")
        sizes, size, factor = x.shape[2:], self.size, self.scale_factor
        if (size is None) == (factor is None):
            raise ValueError(f"{op}: give exactly one of size and scale_factor, got size={size!r}, "
                             f"scale_factor={factor!r}")
        if size is not None:
            size = tuple(size) if isinstance(size, (tuple, list)) else (size,) * spatial
            if len(size) != spatial or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                                               for s in size):
                raise ValueError(f"{op}: size must be an int or {spatial} ints for input of shape {x.shape}, "
                                 f"got {self.size!r}")
            out_sizes, scales = tuple(int(s) for s in size), (0.0,) * spatial
        else:
            factor = tuple(factor) if isinstance(factor, (tuple, list)) else (factor,) * spatial
            if len(factor) != spatial or not all(isinstance(f, numbers.Real) and not isinstance(f, bool) and f > 0
                                                 and math.isfinite(f) for f in factor):
                raise ValueError(f"{op}: scale_factor must be a positive number or {spatial} of them for input of "
                                 f"shape {x.shape}, got {self.scale_factor!r}")
            out_sizes = tuple(math.floor(float(s) * float(f)) for s, f in zip(sizes, factor))
            scales = (0.0,) * spatial if self.recompute_scale_factor else tuple(float(f) for f in factor)
        if min(sizes) < 1 or min(out_sizes) < 1:
            raise ValueError(f"{op}: input and output sizes should be greater than 0, got input {sizes} and output "
                             f"{out_sizes} (input shape {x.shape})")
        if spatial == 1:
            sizes, out_sizes, scales = (1,) + sizes, (1,) + out_sizes, (0.0,) + scales
        n, c = x.shape[:2]
        self.geometry = [n * c, *sizes, *out_sizes, int(bool(align))]
        self.scales, self.code = ffi.new("double[2]", scales), UPSAMPLE_MODES[mode]
        out = empty((n, c) + (out_sizes if spatial == 2 else out_sizes[1:]), x.dtype)
        x.dtype.k.upsample(out._buf, x._buf, self.geometry, self.scales, self.code)
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        x.dtype.k.upsample_backward(grad_buffer_or_null(x), g._buf, self.geometry, self.scales, self.code)


class ConvTranspose(Op):
    """conv_transpose3d, 2d or 1d (spatial = 3, 2, 1; the lower ones of depth and height 1) of x (N, C_in, *spatial)
    with weight (C_in, C_out/groups, *kernel): the gradient of conv2d with respect to its input,
    which the conv kernels compute (the convolution's geometry has x as its output). Without bias:
    the functional adds it."""

    def __init__(self, stride=1, padding=0, output_padding=0, groups=1, dilation=1, spatial=2):
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.groups, self.dilation, self.spatial = groups, dilation, spatial

    def forward(self, x, weight):
        spatial = self.spatial
        op = f"conv_transpose{spatial}d"
        batched, n, cin, sizes = image_input(x, op, spatial)
        sizes = (1,) * (3 - spatial) + sizes
        if not isinstance(weight, Tensor):
            raise TypeError(f"{op}: weight must be a fastgrad Tensor, got {type(weight).__name__}")
        if weight.ndim != spatial + 2:
            raise ValueError(f"{op}: weight must have shape (in_channels, out_channels/groups, "
                             f"{', '.join('k' + d for d in SPATIAL_DIMS[spatial].split(', '))}), got {weight.shape}")
        if weight.dtype is not x.dtype:
            raise TypeError(f"{op}: dtype mismatch, input {x.dtype!r} and weight {weight.dtype!r}")
        groups = self.groups
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
            raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
        if weight.shape[0] != cin:
            raise ValueError(f"{op}: input of shape {x.shape} has {cin} channels, but weight of shape {weight.shape} "
                             f"expects {weight.shape[0]}")
        if cin % groups:
            raise ValueError(f"{op}: in_channels {cin} is not divisible by groups={groups}")
        cout = weight.shape[1] * groups
        kernel = (1,) * (3 - spatial) + weight.shape[2:]
        strides = spatial_args(self.stride, "stride", op, 1, spatial)
        pads = spatial_args(self.padding, "padding", op, 0, spatial, 0)
        dilations = spatial_args(self.dilation, "dilation", op, 1, spatial)
        extra = spatial_args(self.output_padding, "output_padding", op, 0, spatial, 0)
        if any(e >= max(s, d) for e, s, d in zip(extra, strides, dilations)):
            raise ValueError(f"{op}: output_padding {self.output_padding} must be smaller than either stride "
                             f"{self.stride} or dilation {self.dilation}")
        outs = tuple((size - 1) * s - 2 * p + d * (k - 1) + e + 1
                     for size, s, p, d, k, e in zip(sizes, strides, pads, dilations, kernel, extra))
        if min(outs) < 1:
            raise ValueError(f"{op}: input of shape {x.shape} gives an output size of "
                             f"{outs[3 - spatial:]}: padding {self.padding} is too large")
        (d, h, w), (kd, kh, kw), (od, oh, ow) = sizes, kernel, outs
        # the convolution whose input gradient this is: its input is our output, its output our input
        self.geometry = geometry = [n, cout, oh, ow, cin, kh, kw, h, w, strides[1], strides[2], pads[1], pads[2],
                                    dilations[1], dilations[2], groups, od, kd, d, strides[0], pads[0], dilations[0]]
        out = empty(((n, cout) if batched else (cout,)) + outs[3 - spatial:], x.dtype, zeroed=True)
        k = x.dtype.k
        plan = ffi.new("int64_t[5]")
        k.conv2d_plan(plan, geometry)
        self.plan = plan = tuple(plan)
        parts = min(plan[1], get_num_threads())
        # out is also given as the convolution's input, which only a weight gradient reads
        k.conv2d_backward(out._buf, ffi.NULL, ffi.NULL, ffi.NULL, scratch("dcol", x.dtype, parts * plan[2]),
                          scratch("t", x.dtype, parts * plan[3]) if plan[3] else ffi.NULL,
                          scratch("partial", x.dtype, plan[4]), x._buf, out._buf, weight._buf, geometry, 0)
        return self.record(out, x, weight)

    def _backward(self, g):
        x, weight = self.inputs
        plan, dtype, geometry = self.plan, x.dtype, self.geometry
        parts = min(plan[1], get_num_threads())
        cols = parts * plan[2]
        t = scratch("t", dtype, parts * plan[3]) if plan[3] else ffi.NULL
        if weight.requires_grad:   # the convolution's weight gradient, its output gradient being x
            (dw, accumulate_dw), = grad_targets(weight)
            dtype.k.conv2d_backward(ffi.NULL, dw, ffi.NULL, scratch("col", dtype, cols), ffi.NULL, t,
                                    scratch("partial", dtype, plan[4]), x._buf, g._buf, weight._buf, geometry,
                                    accumulate_dw)
        if x.requires_grad:   # the convolution of g, added to x's gradient
            (dx, accumulate_dx), = grad_targets(x)
            into = scratch("dx", dtype, x._numel) if accumulate_dx else dx
            dtype.k.conv2d(into, scratch("col", dtype, cols), t, scratch("partial", dtype, plan[4]), g._buf,
                           weight._buf, ffi.NULL, geometry)
            if accumulate_dx:
                dtype.k.axpy(dx, into, 1.0, x._numel)

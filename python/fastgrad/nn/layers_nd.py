"""The 3-D members of the convolutional family (Conv3d, ConvTranspose3d, the 3-D pools, BatchNorm3d,
InstanceNorm3d, Dropout3d, the 3-D pads, ZeroPad1d), max unpooling and power-average pooling in 1-3
dimensions, and PyTorch's lazy modules (LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*,
LazyInstanceNorm*): they are the 2-D classes of modules.py with spatial = 3, or small layers over
nn.functional."""
from .. import ops
from ..creation import empty
from ..tensor import Tensor
from . import functional as F
from .parameter import mark_uninitialized
from .modules import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, ConstantPad1d, Linear, MaxPool2d, Module,
                      _BatchNorm, _ConvNd, _ConvTransposeNd, _DropoutNd, _InstanceNorm, _PadNd)
from .modules import (BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, InstanceNorm1d,
                      InstanceNorm2d)


# ---- 3-D layers: the N-d classes with spatial = 3 ----------------------------------------------------
class Conv3d(_ConvNd):
    spatial = 3


class ConvTranspose3d(_ConvTransposeNd):
    spatial = 3


class MaxPool3d(MaxPool2d):
    def forward(self, x):
        return F.max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool3d(AvgPool2d):
    def forward(self, x):
        return F.avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    def forward(self, x):
        return F.adaptive_avg_pool3d(x, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    def forward(self, x):
        return F.adaptive_max_pool3d(x, self.output_size, self.return_indices)


class BatchNorm3d(_BatchNorm):
    dims = (5,)


class InstanceNorm3d(_InstanceNorm):
    dims = (4, 5)


class Dropout3d(_DropoutNd):
    """In training mode zeroes whole channels of (N, C, D, H, W) with probability p (scaling the rest)."""
    _fn = staticmethod(F.dropout3d)


class ConstantPad3d(ConstantPad1d):
    dims = 3


class ZeroPad1d(_PadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad3d(ZeroPad1d):
    dims = 3


class ReflectionPad3d(_PadNd):
    dims, mode = 3, "reflect"


class ReplicationPad3d(_PadNd):
    dims, mode = 3, "replicate"


class CircularPad3d(_PadNd):
    dims, mode = 3, "circular"


# ---- max unpooling and power-average pooling -----------------------------------------------------------
class _MaxUnpoolNd(Module):
    spatial = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        name, sp = type(self).__name__, self.spatial
        self.kernel_size = ops.conv.spatial_args(kernel_size, "kernel_size", name, 1, sp)[3 - sp:]
        self.stride = ops.conv.spatial_args(kernel_size if stride is None else stride, "stride", name, 1, sp)[3 - sp:]
        self.padding = ops.conv.spatial_args(padding, "padding", name, 0, sp, 0)[3 - sp:]

    def forward(self, input, indices, output_size=None):
        f = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self.spatial - 1]
        return f(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    spatial = 1


class MaxUnpool2d(_MaxUnpoolNd):
    spatial = 2


class MaxUnpool3d(_MaxUnpoolNd):
    spatial = 3


class _LPPoolNd(Module):
    spatial = 2

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, x):
        f = (F.lp_pool1d, F.lp_pool2d, F.lp_pool3d)[self.spatial - 1]
        return f(x, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, " \
               f"ceil_mode={self.ceil_mode}"


class LPPool1d(_LPPoolNd):
    spatial = 1


class LPPool2d(_LPPoolNd):
    spatial = 2


class LPPool3d(_LPPoolNd):
    spatial = 3


# ---- lazy modules ---------------------------------------------------------------------------------------
class LazyModuleMixin:
    """PyTorch's lazy modules: the input's feature count (in_features, in_channels, num_features) comes
    from the first forward's input. Until then each parameter and running statistic is a placeholder
    tensor of shape (0,), the very object that then receives its shape and initial values in place
    (p.data = ...), so an optimizer built before the first call holds the tensors it will update (as
    PyTorch's, whose UninitializedParameters become Parameters in place); after that call the module
    becomes cls_to_become (a LazyLinear becomes a Linear). load_state_dict on a module not yet run
    takes the shapes from the state dict."""
    cls_to_become = None
    _lazy = ()   # the names of the placeholders

    def _placeholders(self, names, dtype):
        lazy = []
        for name in names:
            t = getattr(self, name, None)
            if t is not None:
                t.data = empty((0,), dtype=dtype)   # the object stays: a parameter stays a parameter
                mark_uninitialized(t)
                lazy.append(name)
        self._lazy = tuple(lazy)

    def has_uninitialized_params(self):
        return type(self) is not type(self).cls_to_become

    def _dtype(self):
        return getattr(self, self._lazy[0]).dtype if self._lazy else None

    def _materialize(self, template):
        """Gives each placeholder the shape and values of its namesake in `template` (a module of the class
        to become, made with the inferred sizes), keeping the placeholder objects; then the module
        becomes that class, with the template's other settings."""
        for name in self._lazy:
            getattr(self, name).data = getattr(template, name).detach()
            mark_uninitialized(getattr(self, name), False)
        for name, value in template.__dict__.items():
            if not name.startswith("_") and not isinstance(value, (Tensor, Module)) and name != "training":
                object.__setattr__(self, name, value)
        self.__dict__.pop("_lazy", None)
        self.__class__ = type(self).cls_to_become

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            if not args or not isinstance(args[0], Tensor):
                raise TypeError(f"{type(self).__name__}: the first call needs a fastgrad Tensor input to infer its "
                                f"sizes, got {type(args[0]).__name__ if args else 'nothing'}")
            self._materialize(self._template(args[0]))
            return self(*args, **kwargs)   # now as the class it became
        return super().__call__(*args, **kwargs)

    def load_state_dict(self, state_dict, strict=True):
        if self.has_uninitialized_params() and self._lazy and all(
                isinstance(state_dict.get(n), Tensor) for n in self._lazy):
            for name in self._lazy:   # shapes from the state dict; the values follow below
                getattr(self, name).data = empty(state_dict[name].shape, dtype=self._dtype())
            self._materialize(self._template_from_state(state_dict))
            return self.load_state_dict(state_dict, strict)   # now as the class it became
        return super().load_state_dict(state_dict, strict)


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is the first input's last dimension."""
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, bias, device, dtype)
        self._placeholders(("weight", "bias"), dtype)

    def _template(self, x):
        if x.ndim < 1:
            raise ValueError(f"LazyLinear: expects an input with a last dimension, got shape {x.shape}")
        return Linear(x.shape[-1], self.out_features, self.bias is not None, dtype=self._dtype())

    def _template_from_state(self, state):
        return Linear(state["weight"].shape[1], self.out_features, self.bias is not None, dtype=self._dtype())


class _LazyConv(LazyModuleMixin):
    """LazyConv*d: in_channels is the first input's channel count (dimension 1 of a batched input, 0 of
    an unbatched one)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        self._start(dict(out_channels=out_channels, kernel_size=kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias, padding_mode=padding_mode), dtype)

    def _start(self, arguments, dtype):
        self._arguments = arguments
        type(self).cls_to_become.__init__(self, arguments["groups"], dtype=dtype, **arguments)
        self.in_channels = 0
        self._placeholders(("weight", "bias"), dtype)

    def _template(self, x):
        spatial = type(self).cls_to_become.spatial
        if x.ndim not in (spatial + 1, spatial + 2):
            raise ValueError(f"{type(self).__name__}: expects an input of shape (N, C, ...) or (C, ...) with "
                             f"{spatial} spatial dimensions, got {x.shape}")
        return self._build(x.shape[1] if x.ndim == spatial + 2 else x.shape[0])

    def _template_from_state(self, state):
        weight = state["weight"]
        transposed = type(self).cls_to_become.transposed
        return self._build(weight.shape[0] if transposed else weight.shape[1] * self._arguments["groups"])

    def _build(self, in_channels):
        arguments = self.__dict__.pop("_arguments")
        return type(self).cls_to_become(in_channels, dtype=self._dtype(), **arguments)


class _LazyConvTranspose(_LazyConv):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        self._start(dict(out_channels=out_channels, kernel_size=kernel_size, stride=stride, padding=padding,
                         output_padding=output_padding, groups=groups, bias=bias, dilation=dilation,
                         padding_mode=padding_mode), dtype)


class LazyConv1d(_LazyConv, Conv1d):
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    cls_to_become = ConvTranspose3d


class _LazyNorm(LazyModuleMixin):
    """LazyBatchNorm*d and LazyInstanceNorm*d: num_features is the input's channel count. (Both default to
    affine=True, track_running_stats=True, as PyTorch's lazy classes do, the instance norms included.)"""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        type(self).cls_to_become.__init__(self, 1, eps, momentum, affine, track_running_stats, dtype=dtype)
        self.num_features = 0
        self._placeholders(("weight", "bias", "running_mean", "running_var"), dtype)

    def _template(self, x):
        base = type(self).cls_to_become
        if x.ndim not in base.dims:
            raise ValueError(f"{type(self).__name__}: expects a {' or '.join(map(str, base.dims))}-d input, got "
                             f"shape {x.shape}")
        unbatched = issubclass(base, _InstanceNorm) and x.ndim == base.dims[0]
        return self._build(x.shape[0] if unbatched else x.shape[1])

    def _template_from_state(self, state):
        return self._build(state[self._lazy[0]].shape[0])

    def _build(self, c):
        return type(self).cls_to_become(c, self.eps, self.momentum, self.affine, self.track_running_stats,
                                        dtype=self._dtype())


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNorm, InstanceNorm1d):
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNorm, InstanceNorm2d):
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNorm, InstanceNorm3d):
    cls_to_become = InstanceNorm3d

"""More of PyTorch's layers: RMSNorm, PixelShuffle/PixelUnshuffle, Dropout1d, Bilinear, Unfold/Fold,
LocalResponseNorm, ChannelShuffle."""
import math
import numbers

import numpy as np

from .. import ops
from ..creation import empty
from ..tensor import as_device, tensor
from . import functional as F, init
from .modules import Module, _DropoutNd


class RMSNorm(Module):
    """torch.nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True): weight starts at 1;
    eps=None is the input dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        if device is not None:
            as_device(device)
        op = ops.RMSNorm(normalized_shape, eps)   # checks both
        self.normalized_shape, self.eps, self.elementwise_affine = op.normalized_shape, eps, elementwise_affine
        self.weight = None
        if elementwise_affine:
            self.weight = tensor(np.ones(self.normalized_shape), dtype=dtype, requires_grad=True)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.data.fill_(1.0)

    def forward(self, x):
        return ops.RMSNorm(self.normalized_shape, self.eps).forward(x, self.weight)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class PixelShuffle(Module):
    def __init__(self, upscale_factor):
        self.upscale_factor = F._factor(upscale_factor, "PixelShuffle", "upscale_factor")

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor):
        self.downscale_factor = F._factor(downscale_factor, "PixelUnshuffle", "downscale_factor")

    def forward(self, x):
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class Dropout1d(_DropoutNd):
    """In training mode zeroes whole channels of (N, C, L) or (C, L) with probability p."""
    _fn = staticmethod(F.dropout1d)


class Bilinear(Module):
    """y = x1ᵀ·W[o]·x2 + b[o]; weight (out, in1, in2) and bias drawn from U(-1/√in1, 1/√in1), as PyTorch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        if device is not None:
            as_device(device)
        for name, v in (("in1_features", in1_features), ("in2_features", in2_features),
                        ("out_features", out_features)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Bilinear: {name} must be a non-negative integer, got {v!r}")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = empty((out_features, in1_features, in2_features), dtype=dtype, requires_grad=True)
        self.bias = empty(out_features, dtype=dtype, requires_grad=True) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1, x2):
        return F.bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Unfold(Module):
    """F.unfold as a module: (N, C, H, W) -> (N, C·kh·kw, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride
        F._blocks("Unfold", kernel_size, dilation, padding, stride)   # checked now, not at the first call

    def forward(self, x):
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """F.fold as a module: (N, C·kh·kw, L) -> (N, C, H, W), overlapping blocks summed."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        self.output_size, self.kernel_size, self.dilation, self.padding, self.stride = \
            output_size, kernel_size, dilation, padding, stride
        F._blocks("Fold", kernel_size, dilation, padding, stride)

    def forward(self, x):
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class LocalResponseNorm(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class ChannelShuffle(Module):
    def __init__(self, groups):
        self.groups = groups

    def forward(self, x):
        return F.channel_shuffle(x, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"

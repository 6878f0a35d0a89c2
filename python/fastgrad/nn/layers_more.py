"""More of PyTorch's layers: RMSNorm, PixelShuffle/PixelUnshuffle, Dropout1d, Bilinear."""
import numpy as np

from .. import ops
from ..tensor import as_device, tensor
from .modules import Module


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

"""RMSNorm (torch.nn.functional.rms_norm): x·rstd·weight over the trailing dimensions
`normalized_shape`, rstd = 1/sqrt(mean(x²) + eps); one C kernel forward and one backward
(csrc/rms_norm.inc), rstd kept for backward."""
import math

import numpy as np

from .._C import ffi
from ..autograd import Op, grad_buffer_or_null, grad_targets
from ..tensor import Tensor, empty
from ._checks import float_arg
from .lm import LayerNorm, _real


class RMSNorm(Op):
    def __init__(self, normalized_shape, eps=None):
        self.normalized_shape = LayerNorm(normalized_shape).normalized_shape   # checks it as layer_norm does
        self.eps = None if eps is None else _real(eps, "rms_norm", "eps")
        if self.eps is not None and self.eps < 0:
            raise ValueError(f"rms_norm: eps must be >= 0, got {eps!r}")

    def forward(self, x, weight=None):
        x = float_arg(x, "rms_norm")
        ns = self.normalized_shape
        if not ns or len(ns) > x.ndim or x.shape[x.ndim - len(ns):] != ns:
            raise ValueError(f"rms_norm: normalized_shape {ns} must be the trailing dimensions of the input, got "
                             f"input of shape {x.shape}")
        if weight is not None and (not isinstance(weight, Tensor) or weight.shape != ns or weight.dtype is not x.dtype):
            raise ValueError(f"rms_norm: weight must be a {x.dtype!r} tensor of shape {ns}, got "
                             f"{(weight.shape, weight.dtype) if isinstance(weight, Tensor) else type(weight).__name__}")
        eps = float(np.finfo(x.dtype.np).eps) if self.eps is None else self.eps   # PyTorch's eps=None
        cols = math.prod(ns)
        rows = x._numel // cols if cols else 0
        out = empty(x._shape, x._dtype, x._numel)
        self.rstd = empty((rows,), x._dtype)
        x._dtype.k.rms_norm(out._buf, self.rstd._buf, x._buf, weight._buf if weight is not None else ffi.NULL, eps,
                            rows, cols)
        self.rows_cols = rows, cols
        return self.record(out, x) if weight is None else self.record(out, x, weight)

    def _backward(self, g):
        x, *params = self.inputs
        weight = params[0] if params else None
        dweight = grad_buffer_or_null(weight) if weight is not None else ffi.NULL
        (dx, accumulate_dx), = grad_targets(x)
        x._dtype.k.rms_norm_backward(dx, dweight, g._buf, x._buf, self.rstd._buf,
                                     weight._buf if weight is not None else ffi.NULL, accumulate_dx, *self.rows_cols)

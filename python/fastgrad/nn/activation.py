"""PyTorch's other activation layers (nn.Hardtanh, ReLU6, ..., PReLU): each a thin Module over its
nn.functional form, with PyTorch's arguments, defaults and reprs."""
import numbers

from ..creation import full
from . import functional as F
from .modules import Module


def _inplace(inplace):
    return ", inplace=True" if inplace else ""


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace
        if F._number(min_val, "Hardtanh", "min_val") > F._number(max_val, "Hardtanh", "max_val"):
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self.inplace)}"


class ReLU6(Hardtanh):
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class _Simple(Module):
    """An activation with only inplace= (or nothing) to configure."""
    fn = None

    def __init__(self, inplace=False):
        self.inplace = inplace

    def forward(self, x):
        return type(self).fn(x, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_Simple):
    fn = F.hardsigmoid


class Hardswish(_Simple):
    fn = F.hardswish


class Mish(_Simple):
    fn = F.mish


class SELU(_Simple):
    fn = F.selu


class CELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        if F._number(alpha, "CELU", "alpha") == 0:
            raise ValueError("CELU: alpha cannot be 0")
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.celu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace(self.inplace)}"


class Softsign(Module):
    def forward(self, x):
        return F.softsign(x)


class Tanhshrink(Module):
    def forward(self, x):
        return F.tanhshrink(x)


class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        F._number(threshold, "Threshold", "threshold"), F._number(value, "Threshold", "value")
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace(self.inplace)}"


class Softshrink(Module):
    def __init__(self, lambd=0.5):
        F._number(lambd, "Softshrink", "lambd", low=0)
        self.lambd = lambd

    def forward(self, x):
        return F.softshrink(x, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Module):
    def __init__(self, lambd=0.5):
        F._number(lambd, "Hardshrink", "lambd")
        self.lambd = lambd

    def forward(self, x):
        return F.hardshrink(x, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class GLU(Module):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    def __init__(self, dim=None):
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, else weight·x: one learnable slope (num_parameters=1) or one per channel
    (dimension 1 of the input), each starting at init."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        if not isinstance(num_parameters, numbers.Integral) or isinstance(num_parameters, bool) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive integer, got {num_parameters!r}")
        self.num_parameters, self.init = int(num_parameters), init
        self.weight = full((self.num_parameters,), float(F._number(init, "PReLU", "init")), dtype=dtype,
                           device=device).requires_grad_()

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"

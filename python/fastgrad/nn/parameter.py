"""nn.Parameter. In fastgrad a module's parameters are its leaf tensors that require a gradient
(nn/modules.py), so Parameter(t) is such a tensor and `isinstance(x, nn.Parameter)` asks exactly
that: no subclass, so parameters keep every op's fast path for plain Tensors (README, "Differences
from PyTorch")."""
from ..tensor import Tensor, tensor


class _ParameterMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._op is None and obj.requires_grad


class Parameter(metaclass=_ParameterMeta):
    """Parameter(data, requires_grad=True): a leaf tensor over data's storage (a copy for non-Tensor
    data) that requires a gradient."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = tensor([])
        t = data.detach() if isinstance(data, Tensor) else tensor(data)
        return t.requires_grad_(requires_grad)

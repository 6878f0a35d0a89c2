"""The language-model layers and containers: LayerNorm, GELU, SiLU, Softplus, LogSigmoid,
ModuleList, ModuleDict and (a composition of the above) MultiheadAttention."""
from collections import OrderedDict

import numpy as np

from .. import ops
from ..tensor import tensor
from .modules import Module


class LayerNorm(Module):
    """Normalizes over the trailing `normalized_shape` dimensions; weight starts at 1, bias at 0."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        self.normalized_shape = ops.LayerNorm(normalized_shape, eps).normalized_shape   # checks both
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = tensor(np.ones(self.normalized_shape), dtype=dtype, requires_grad=True)
            if bias:
                self.bias = tensor(np.zeros(self.normalized_shape), dtype=dtype, requires_grad=True)

    def forward(self, x):
        return ops.LayerNorm(self.normalized_shape, self.eps).forward(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GELU(Module):
    def __init__(self, approximate="none"):
        ops.gelu_op(approximate)   # checks it
        self.approximate = approximate

    def forward(self, x):
        return ops.gelu_op(self.approximate).forward(x)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    def __init__(self, inplace=False):
        pass

    def forward(self, x):
        return ops.Activation("silu").forward(x)


class LogSigmoid(Module):
    def forward(self, x):
        return ops.Activation("logsigmoid").forward(x)


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        ops.softplus_op(beta, threshold)
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return ops.softplus_op(self.beta, self.threshold).forward(x)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


def _check_module(m, where):
    if not isinstance(m, Module):
        raise TypeError(f"{where}: {type(m).__name__} is not a fastgrad.nn.Module")
    return m


class ModuleList(Module):
    """A list of modules whose parameters the parent sees, named 0, 1, ... as in PyTorch."""

    def __init__(self, modules=None):
        self._list = []
        for m in modules or ():
            self.append(m)

    def named_children(self):
        return ((str(i), m) for i, m in enumerate(self._list))

    def append(self, module):
        self._list.append(_check_module(module, "ModuleList.append"))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        self._list.insert(index, _check_module(module, "ModuleList.insert"))

    def __getitem__(self, i):
        return ModuleList(self._list[i]) if isinstance(i, slice) else self._list[i]

    def __setitem__(self, i, module):
        self._list[i] = _check_module(module, "ModuleList")

    def __delitem__(self, i):
        del self._list[i]

    def __len__(self):
        return len(self._list)

    def __iter__(self):
        return iter(self._list)

    def __iadd__(self, modules):
        return self.extend(modules)


class ModuleDict(Module):
    """An ordered dict of modules (keys are strings), named by key."""

    def __init__(self, modules=None):
        self._dict = OrderedDict()
        if modules is not None:
            self.update(modules)

    def named_children(self):
        return iter(list(self._dict.items()))

    def __setitem__(self, key, module):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        self._dict[key] = _check_module(module, "ModuleDict")

    def __getitem__(self, key):
        return self._dict[key]

    def __delitem__(self, key):
        del self._dict[key]

    def __contains__(self, key):
        return key in self._dict

    def __len__(self):
        return len(self._dict)

    def __iter__(self):
        return iter(self._dict)

    def keys(self):
        return self._dict.keys()

    def values(self):
        return self._dict.values()

    def items(self):
        return self._dict.items()

    def pop(self, key):
        return self._dict.pop(key)

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for key, m in items:
            self[key] = m

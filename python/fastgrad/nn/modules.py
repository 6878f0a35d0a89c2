"""Modules: objects that hold parameters and apply ops in forward(x); layer(x) == layer.forward(x)."""
import math

from .. import ops
from ..tensor import Tensor, randn


class Module:
    """Parameters are the Tensor attributes with requires_grad=True; submodules are Module
    attributes (and lists of modules), found in the order they were assigned."""

    def forward(self, *args):
        raise NotImplementedError

    def __call__(self, *args):
        return self.forward(*args)

    def children(self):
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value
            elif isinstance(value, (list, tuple)):
                yield from (v for v in value if isinstance(v, Module))

    def named_parameters(self, prefix=""):
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + name + ".")
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, Module):
                        yield from v.named_parameters(f"{prefix}{name}.{i}.")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None


class Linear(Module):
    """y = x·weightᵀ + bias, weight of shape (out_features, in_features) as in PyTorch, drawn from
    N(0, 1/in_features) (seeded by fg.manual_seed), so activations keep their scale."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        std = 1.0 / math.sqrt(in_features) if in_features else 1.0
        kw = {} if dtype is None else {"dtype": dtype}
        self.in_features, self.out_features = in_features, out_features
        self.weight = randn(out_features, in_features, std=std, requires_grad=True, **kw)
        self.bias = randn(out_features, std=std, requires_grad=True, **kw) if bias else None

    def forward(self, x):
        return ops.Linear().forward(x, self.weight, self.bias)

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None})"


class ReLU(Module):
    def forward(self, x):
        return ops.ReLU().forward(x)

    def __repr__(self):
        return "ReLU()"


class Softmax(Module):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return ops.Softmax(self.dim).forward(x)

    def __repr__(self):
        return f"Softmax(dim={self.dim})"


class Sequential(Module):
    """Applies its layers in order: model.forward(x) is layerN.forward(...layer1.forward(x))."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"

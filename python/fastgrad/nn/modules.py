"""Modules: objects that hold parameters and apply ops in forward(x); layer(x) == layer.forward(x).

A module's parameters are its leaf Tensor attributes that require a gradient when assigned (they
stay parameters if later frozen with requires_grad_(False)); its submodules are its Module attributes and
the modules inside list or tuple attributes, in the order they were assigned. Names follow
PyTorch's ("0.weight" in a Sequential, "encoder.bias" for an attribute), so a state_dict saved by
fastgrad loads into the same architecture built with torch.nn, and back.
"""
import math
import numbers
from collections import namedtuple
from collections.abc import Mapping


from .. import ops
from ..dtypes import numeric_array
from ..ops._checks import reduction_arg
from ..creation import empty
from ..tensor import Tensor, tensor
from . import functional as F
from . import init

# What load_state_dict(strict=False) reports, as in PyTorch.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    training = True   # a class default, so subclasses need not call Module.__init__

    def __setattr__(self, name, value):
        # remember which attributes were parameters when assigned, so that freezing one keeps it
        if isinstance(value, Tensor) and value.requires_grad and value._op is None:
            self.__dict__.setdefault("_parameter_names", set()).add(name)
        object.__setattr__(self, name, value)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- the tree of modules ---------------------------------------------------------------------
    def named_children(self):
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                yield from ((f"{name}.{i}", v) for i, v in enumerate(value) if isinstance(v, Module))

    def children(self):
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(prefix + "." + name if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def _own_parameters(self):
        registered = self.__dict__.get("_parameter_names", ())
        for name, value in vars(self).items():
            # a leaf: a cached activation (computed, so not a leaf) is not a parameter
            if isinstance(value, Tensor) and value._op is None and (value.requires_grad or name in registered):
                yield name, value

    def _named_tensors(self):
        """Every (name, parameter) of the tree, shared ones once per name: the state_dict's keys."""
        for prefix, module in self.named_modules():
            for name, p in module._own_parameters():
                yield (prefix + "." + name if prefix else name), p

    # ---- parameters ------------------------------------------------------------------------------
    def named_parameters(self, prefix=""):
        """(name, parameter) pairs; a parameter shared by two layers is listed once."""
        seen = set()
        for name, p in self._named_tensors():
            if id(p) not in seen:
                seen.add(id(p))
                yield prefix + name, p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        """Training mode (the default) or, with mode=False, evaluation mode, for every submodule:
        Dropout is active only in training mode. Returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    # ---- state -----------------------------------------------------------------------------------
    def state_dict(self):
        """{name: parameter} as detached tensors sharing the parameters' storage, as in PyTorch:
        copy them (or fg.save them) to keep a snapshot."""
        return {name: p.detach() for name, p in self._named_tensors()}

    def load_state_dict(self, state_dict, strict=True):
        """Copies the values of `state_dict` (tensors or numpy arrays) into the parameters.

        Everything is checked before anything is written, so on error the module is unchanged. Keys
        the module lacks (unexpected) or that the dict lacks (missing) are errors when strict; a
        shape mismatch always is. Returns IncompatibleKeys(missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of names to tensors, got {type(state_dict).__name__}")
        own = dict(self._named_tensors())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(map(str, unexpected))}")
        arrays = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            arrays[name] = numeric_array(state_dict[name], f"state_dict entry {name!r}")
            if arrays[name].shape != p.shape:
                problems.append(f"{name}: shape {arrays[name].shape} in the state_dict, {p.shape} in the model")
        if problems:
            raise ValueError(f"error loading state_dict into {type(self).__name__}: " + "; ".join(problems))
        for name, array in arrays.items():
            own[name].numpy()[...] = array   # casts to the parameter's dtype
        return IncompatibleKeys(missing, unexpected)

    # ---- printing --------------------------------------------------------------------------------
    def extra_repr(self):
        """The part inside the parentheses, before any submodules: override to describe a layer."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        head = [self.extra_repr()] if self.extra_repr() else []
        return f"{type(self).__name__}(\n  " + "\n  ".join(head + lines) + "\n)"


class Sequential(Module):
    """Applies its layers in order: model.forward(x) is layerN.forward(...layer1.forward(x)), so
    model.forward(x).backward() runs back through the whole chain. Layers are named 0, 1, ..."""

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, not a fastgrad.nn.Module")
        self.layers = list(layers)

    def named_children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def forward(self, x):
        layers, i = self.layers, 0
        while i < len(layers):
            layer = layers[i]
            if type(layer) is Linear and i + 1 < len(layers) and type(layers[i + 1]) is ReLU:
                x = ops.LinearReLU().forward(x, layer.weight, layer.bias)   # the same values, one kernel
                i += 2
            else:
                x = layer.forward(x)
                i += 1
        return x

    def append(self, layer):
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.append: {type(layer).__name__} is not a fastgrad.nn.Module")
        self.layers.append(layer)
        return self

    def __getitem__(self, i):
        return Sequential(*self.layers[i]) if isinstance(i, slice) else self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


# ---- layers ---------------------------------------------------------------------------------------
class Linear(Module):
    """y = x·weightᵀ + bias, weight of shape (out_features, in_features) as in PyTorch. Weight and
    bias start uniform in ±1/sqrt(in_features), PyTorch's default, drawn from fastgrad's seeded
    generator (fg.manual_seed)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {v!r}")
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        self.weight = init.uniform_(empty(out_features, in_features, dtype=dtype, device=device), -bound, bound).requires_grad_()
        self.bias = init.uniform_(empty(out_features, dtype=dtype, device=device), -bound, bound).requires_grad_() if bias else None

    def forward(self, x):
        return ops.Linear().forward(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    def forward(self, x):
        return ops.ReLU().forward(x)


class Tanh(Module):
    def forward(self, x):
        return ops.Tanh().forward(x)


class Sigmoid(Module):
    def forward(self, x):
        return ops.Sigmoid().forward(x)


class Softmax(Module):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Dropout(Module):
    """In training mode zeroes each element with probability p and scales the rest by 1/(1-p); in
    eval mode passes x through. Masks come from fastgrad's seeded generator (fg.manual_seed)."""

    def __init__(self, p=0.5):
        self.p = F.check_dropout_p(p)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """x.flatten(start_dim, end_dim): (N, d1, d2, ...) -> (N, d1*d2*...) by default. A view: no copy."""

    def __init__(self, start_dim=1, end_dim=-1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"Flatten: input must be a fastgrad Tensor, got {type(x).__name__}")
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """x.unflatten(dim, unflattened_size): dimension dim split into unflattened_size. A view."""

    def __init__(self, dim, unflattened_size):
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"Unflatten: input must be a fastgrad Tensor, got {type(x).__name__}")
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Identity(Module):
    def forward(self, x):
        return x


# ---- losses: module forms of nn.functional's -------------------------------------------------------
class _Loss(Module):
    def __init__(self, reduction="mean"):
        self.reduction = reduction_arg(reduction, type(self).__name__)

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy over logits and integer class targets (one fused kernel)."""

    def forward(self, logits, targets):
        return F.cross_entropy(logits, targets, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (LogSoftmax's output) at integer class targets."""

    def forward(self, logp, targets):
        return F.nll_loss(logp, targets, self.reduction)


class MSELoss(_Loss):
    def forward(self, pred, target):
        return F.mse_loss(pred, target, self.reduction)

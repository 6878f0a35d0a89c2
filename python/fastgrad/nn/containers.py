"""nn.ParameterList and nn.ParameterDict: each entry is registered on the container as a parameter
named by its index or key (as PyTorch does), so parameters(), state_dict names ("params.0",
"weights.encoder"), load_state_dict and fg.compile's guards see them like any layer's attributes.
A tensor that is not yet a parameter becomes one (Parameter(t): same storage, requires_grad=True)."""
from collections import OrderedDict
from collections.abc import Mapping

from .. import _changes
from ..tensor import Tensor
from .modules import Module
from .parameter import Parameter


def _as_parameter(value, what):
    if not isinstance(value, Tensor):
        raise TypeError(f"{what}: expects a fastgrad Tensor (or nn.Parameter), got {type(value).__name__}")
    return value if isinstance(value, Parameter) else Parameter(value)


def _entry_repr(p):
    return f"Parameter containing: [{p.dtype.name} of size {tuple(p.shape)}]"


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ..."""

    def __init__(self, values=None):
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _index(self, i):
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError(f"ParameterList indices must be integers or slices, not {type(i).__name__}")
        if not -self._size <= i < self._size:
            raise IndexError(f"index {i} is out of range for a ParameterList of {self._size} parameters")
        return str(i % self._size)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList([self[j] for j in range(self._size)[i]])
        return getattr(self, self._index(i))

    def __setitem__(self, i, value):
        self.register_parameter(self._index(i), _as_parameter(value, "ParameterList"))

    def append(self, value):
        p = _as_parameter(value, "ParameterList.append")
        object.__setattr__(self, "_size", self._size + 1)
        self.register_parameter(str(self._size - 1), p)
        return self

    def extend(self, values):
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend: expects an iterable of tensors, got {type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def forward(self, *args):
        raise NotImplementedError("ParameterList holds parameters; it has no forward()")

    def __repr__(self):
        lines = [f"({i}): {_entry_repr(p)}" for i, p in enumerate(self)]
        return "ParameterList(" + "".join(f"\n    {line}" for line in lines) + ("\n)" if lines else ")")


class ParameterDict(Module):
    """An ordered dict of parameters keyed by strings (a plain dict given to the constructor or to
    update() is added in sorted key order, as in PyTorch; an OrderedDict or ParameterDict keeps its
    order)."""

    def __init__(self, parameters=None):
        object.__setattr__(self, "_keys", OrderedDict())
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        if not key or "." in key:
            raise KeyError(f"ParameterDict: a key must be a non-empty string without '.', got {key!r}")
        if key not in self._keys and (hasattr(type(self), key) or key in self.__dict__):
            raise KeyError(f"ParameterDict: attribute {key!r} already exists")
        return key

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        p = _as_parameter(value, "ParameterDict")
        self._keys[self._check_key(key)] = None
        self.register_parameter(key, p)

    def __delitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        del self._keys[key]
        self.__dict__.get("_parameter_names", set()).discard(key)
        object.__delattr__(self, key)
        _changes.changed()   # a parameter gone: captured plans recheck their guards

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return list(self._keys)

    def values(self):
        return [self[k] for k in self._keys]

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def get(self, key, default=None):
        return self[key] if key in self._keys else default

    def pop(self, key):
        p = self[key]
        del self[key]
        return p

    def setdefault(self, key, default=None):
        if key not in self._keys:
            self[key] = default
        return self[key]

    def clear(self):
        for k in list(self._keys):
            del self[k]

    def copy(self):
        return ParameterDict(OrderedDict(self.items()))

    def update(self, parameters):
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        elif hasattr(parameters, "__iter__") and not isinstance(parameters, (str, Tensor)):
            pairs = []
            for i, pair in enumerate(parameters):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element {i} of the iterable is not a (key, parameter) "
                                     f"pair")
                pairs.append(tuple(pair))
        else:
            raise TypeError(f"ParameterDict.update: expects a mapping or an iterable of (key, parameter) pairs, got "
                            f"{type(parameters).__name__}")
        for k, v in pairs:
            self[k] = v
        return None

    def forward(self, *args):
        raise NotImplementedError("ParameterDict holds parameters; it has no forward()")

    def __repr__(self):
        lines = [f"({k}): {_entry_repr(p)}" for k, p in self.items()]
        return "ParameterDict(" + "".join(f"\n    {line}" for line in lines) + ("\n)" if lines else ")")

"""Modules: objects that hold parameters and apply ops in forward(x); layer(x) == layer.forward(x).

A module's parameters are its leaf Tensor attributes that require a gradient when assigned (they
stay parameters if later frozen with requires_grad_(False)); its submodules are its Module attributes and
the modules inside list or tuple attributes, in the order they were assigned. Names follow
PyTorch's ("0.weight" in a Sequential, "encoder.bias" for an attribute), so a state_dict saved by
fastgrad loads into the same architecture built with torch.nn, and back.
"""
import math
import numbers
from collections import OrderedDict, namedtuple
from collections.abc import Mapping, MutableMapping


from .. import _changes, ops
from ..ops._checks import reduction_arg
from ..creation import empty
from ..dtypes import as_dtype, float32, float64, numeric_array
from ..tensor import Tensor, as_device, tensor, _to_arguments
from . import functional as F
from . import init
from .parameter import buffer_persistence

# What load_state_dict(strict=False) reports, as in PyTorch.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _Listing(list):
    """What parameters(), buffers(), children() and modules() return: a list (the tutorial adds two
    layers' parameters with +) that next() also walks, as it walks PyTorch's generators
    (`next(model.parameters())` is how PyTorch code finds a model's dtype)."""
    _at = 0

    def __next__(self):
        if self._at >= len(self):
            raise StopIteration
        self._at += 1
        return self[self._at - 1]


class _HookHandle:
    """What register_forward_hook returns: handle.remove() takes the hook off."""
    _next_id = 0

    def __init__(self, hooks, hook):
        self.hooks, self.id = hooks, _HookHandle._next_id
        _HookHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Module:
    training = True   # a class default, so subclasses need not call Module.__init__

    def __setattr__(self, name, value):
        persistent = buffer_persistence(value)
        if persistent is not None:   # an nn.Buffer: registered as a buffer, as PyTorch's
            self.__dict__.get("_parameter_names", set()).discard(name)
            if name not in self.__dict__.get("_buffer_names", ()):
                self.__dict__.pop(name, None)
            self.__dict__.get("_buffer_names", {}).pop(name, None)
            return self.register_buffer(name, value, persistent)
        # remember which attributes were parameters when assigned, so that freezing one keeps it
        if isinstance(value, Tensor) and value.requires_grad and value._op is None and name not in self.__dict__.get(
                "_buffer_names", ()):
            self.__dict__.setdefault("_parameter_names", set()).add(name)
        object.__setattr__(self, name, value)
        _changes.changed()   # training flag or a parameter replaced: captured plans recheck their guards

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor the module keeps that is not a parameter (running statistics, masks): it follows
        the module into state_dict (unless persistent=False) but not into parameters(). Assigning
        to the name later keeps it a buffer, as in PyTorch."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: buffer name must be a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign {type(tensor).__name__} as buffer {name!r} "
                            f"(a fastgrad Tensor or None is required)")
        if name in self.__dict__.get("_parameter_names", ()) or (name in self.__dict__ and name not in
                                                                 self.__dict__.get("_buffer_names", ())):
            raise KeyError(f"register_buffer: attribute {name!r} already exists")
        self.__dict__.setdefault("_buffer_names", {})[name] = bool(persistent)
        object.__setattr__(self, name, tensor)

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        if _capture_hook is not None:
            _capture_hook(self)   # fastgrad.compile is recording a step: it notes the module, refuses its hooks
        if _hooked(self):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ---- the tree of modules ---------------------------------------------------------------------
    def named_children(self):
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                yield from ((f"{name}.{i}", v) for i, v in enumerate(value) if isinstance(v, Module))

    def children(self):
        return _Listing(m for _, m in self.named_children())

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every submodule, depth first; a module reached twice is
        listed once unless remove_duplicate=False."""
        if remove_duplicate:
            memo = set() if memo is None else memo
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(memo, prefix + "." + name if prefix else name, remove_duplicate)

    def apply(self, fn):
        """Calls fn on every submodule, then on self (PyTorch's order, for init functions); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def modules(self):
        return _Listing(m for _, m in self.named_modules())

    def _scan(self):
        """One pass over this module's attributes: its own parameters [(name, tensor)], the leaf tensors
        that require grad or were registered as parameters (a cached activation is computed, so not a
        leaf), and its child modules [module], those in lists and tuples too."""
        registered = self.__dict__.get("_parameter_names", ())
        params, children = [], []
        for name, value in self.__dict__.items():
            if value.__class__ in _PLAIN:   # (most attributes: one test)
                continue
            if isinstance(value, Tensor):
                if value._op is None and (value.requires_grad or name in registered):
                    params.append((name, value))
            elif isinstance(value, Module):
                children.append(value)
            elif isinstance(value, (list, tuple)):
                children += [v for v in value if isinstance(v, Module)]
        return params, children

    def _own_parameters(self):
        return self._scan()[0]

    def _tree(self):
        """(module, its own parameters, its own buffers) for this module and every submodule, each once,
        in one pass: fastgrad.compile walks this while it records a step, where named_modules'
        generator per level cost ~2 us a module."""
        found, seen, stack = [], set(), [self]
        while stack:
            m = stack.pop()
            if id(m) not in seen:
                seen.add(id(m))
                params, children = m._scan()
                stack += children
                found.append((m, params, m._own_buffers() if "_buffer_names" in m.__dict__ else ()))
        return found

    def _named_tensors(self):
        """Every (name, parameter) of the tree, shared ones once per name."""
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, p in module._own_parameters():
                yield (prefix + "." + name if prefix else name), p

    def _own_buffers(self, persistent_only=False):
        for name, persistent in self.__dict__.get("_buffer_names", {}).items():
            value = getattr(self, name, None)
            if value is not None and (persistent or not persistent_only):
                yield name, value

    def _named_state(self):
        """The state_dict's (name, tensor) pairs: each module's parameters, then its persistent buffers."""
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, t in (*module._own_parameters(), *module._own_buffers(persistent_only=True)):
                yield (prefix + "." + name if prefix else name), t

    def named_buffers(self, prefix="", recurse=True):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for mod_prefix, module in modules:
            for name, b in module._own_buffers():
                if id(b) not in seen:
                    seen.add(id(b))
                    yield prefix + (mod_prefix + "." + name if mod_prefix else name), b

    def buffers(self, recurse=True):
        return _Listing(b for _, b in self.named_buffers(recurse=recurse))

    # ---- parameters ------------------------------------------------------------------------------
    def named_parameters(self, prefix=""):
        """(name, parameter) pairs; a parameter shared by two layers is listed once."""
        seen = set()
        for name, p in self._named_tensors():
            if id(p) not in seen:
                seen.add(id(p))
                yield prefix + name, p

    def parameters(self):
        return _Listing(p for _, p in self.named_parameters())

    def zero_grad(self, set_to_none=True):
        """Clears the gradients: sets them to None (the default, as in PyTorch) or, with
        set_to_none=False, fills them with zeros in place."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.zero_()

    # ---- devices and dtypes: PyTorch code moves its models; fastgrad runs on the CPU ---------------
    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(tensor), as in PyTorch: the device must be the
        CPU; a dtype (floating point) casts the floating-point parameters and buffers in place, each
        keeping its identity (an optimizer made before still holds it)."""
        dtype, _ = _to_arguments(args, kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype!r}")
        return self if dtype is None else self._cast(dtype, floating_only=True)

    def type(self, dst_type):
        """Casts every parameter and buffer to dst_type (PyTorch's Module.type)."""
        return self._cast(as_dtype(dst_type), floating_only=False)

    def float(self):
        return self._cast(float32, floating_only=True)

    def double(self):
        return self._cast(float64, floating_only=True)

    def half(self):
        raise TypeError("half(): fastgrad has no float16 tensors (float32, float64, int64, bool)")

    bfloat16 = half

    def cpu(self):
        return self

    def cuda(self, device=None):
        as_device("cuda")   # raises: fastgrad runs on the CPU

    def share_memory(self):
        return self   # (one process's memory: nothing to share)

    def _cast(self, dtype, floating_only):
        for module in self.modules():
            for _, t in list(module._own_parameters()) + list(module._own_buffers()):
                if t._dtype is not dtype and (t._dtype.is_floating_point or not floating_only):
                    t.data = t.data.to(dtype)
                    if t.grad is not None:
                        t.grad = t.grad.to(dtype)
        return self

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # PyTorch keeps a module's members in these three dicts, and code written against it reads them
    # (model._modules.items()) or assigns through them; fastgrad keeps plain attributes, seen through views.
    @property
    def _modules(self):
        return _Members(self, "_modules", "named_children")

    @property
    def _parameters(self):
        return _Members(self, "_parameters", "_own_parameters")

    @property
    def _buffers(self):
        return _Members(self, "_buffers", "_own_buffers")

    # ---- registering and finding submodules, parameters and buffers by name -----------------------
    def add_module(self, name, module):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"add_module: module name must be a non-empty string without '.', got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        setattr(self, name, module)

    register_module = add_module

    def register_parameter(self, name, param):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_parameter: parameter name must be a non-empty string without '.', got "
                           f"{name!r}")
        if param is not None and not (isinstance(param, Tensor) and param._op is None):
            raise TypeError(f"register_parameter: cannot assign {type(param).__name__} as parameter {name!r} (a leaf "
                            f"Tensor or None is required)")
        self.__dict__.setdefault("_parameter_names", set()).add(name)
        object.__setattr__(self, name, param)
        _changes.changed()   # a parameter replaced: captured plans recheck their guards

    def get_submodule(self, target):
        module = self
        for part in target.split(".") if target else ():
            child = dict(module.named_children()).get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}` (looking up {target!r})")
            module = child
        return module

    def get_parameter(self, target):
        return self._get_tensor(target, "_own_parameters", "parameter")

    def get_buffer(self, target):
        return self._get_tensor(target, "_own_buffers", "buffer")

    def _get_tensor(self, target, own, what):
        prefix, _, name = target.rpartition(".")
        module = self.get_submodule(prefix)
        found = dict(getattr(module, own)()).get(name)
        if found is None:
            raise AttributeError(f"`{name}` is not an nn.Module {what} of {type(module).__name__} "
                                 f"(looking up {target!r})")
        return found

    # ---- hooks ---------------------------------------------------------------------------------------
    def register_forward_hook(self, hook):
        """hook(module, args, output) after each forward; a result other than None replaces the output."""
        return _HookHandle(self.__dict__.setdefault("_forward_hooks", {}), hook)

    def register_forward_pre_hook(self, hook):
        """hook(module, args) before each forward; a result other than None (a tuple, or one value)
        replaces the arguments."""
        return _HookHandle(self.__dict__.setdefault("_forward_pre_hooks", {}), hook)

    def _call_with_hooks(self, args, kwargs):
        pre_hooks = list(self.__dict__.get("_forward_pre_hooks", {}).values())
        hooks = list(self.__dict__.get("_forward_hooks", {}).values())
        for hook in pre_hooks:
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in hooks:
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

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
        """{name: parameter or buffer} as detached tensors sharing their storage, as in PyTorch:
        copy them (or fg.save them) to keep a snapshot."""
        return {name: p.detach() for name, p in self._named_state()}

    def load_state_dict(self, state_dict, strict=True):
        """Copies the values of `state_dict` (tensors or numpy arrays) into the parameters.

        Everything is checked before anything is written, so on error the module is unchanged. Keys
        the module lacks (unexpected) or that the dict lacks (missing) are errors when strict; a
        shape mismatch always is. Returns IncompatibleKeys(missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of names to tensors, got {type(state_dict).__name__}")
        own = dict(self._named_state())
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
            if arrays[name].shape != p._shape:
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


_PLAIN = frozenset((bool, int, float, str, type(None), set, dict))   # attribute types that hold no module or tensor

# Set by fastgrad.compile while it records a step: Module.__call__ calls it with the module (on any thread).
_capture_hook = None


def _hooked(module):
    return "_forward_hooks" in module.__dict__ or "_forward_pre_hooks" in module.__dict__


class _Members(MutableMapping):
    """module._modules, _parameters or _buffers: a live view of the module's own children, parameters
    or buffers by name. Setting an entry sets the member as the container's own item assignment,
    register_parameter, register_buffer or setattr would; deleting one deletes it."""

    def __init__(self, module, kind, listing):
        self._module, self._kind, self._listing = module, kind, listing   # listing: the module's method name

    def _items(self):
        return dict(getattr(self._module, self._listing)())

    def __getitem__(self, key):
        return self._items()[key]

    def __iter__(self):
        return iter(self._items())

    def __len__(self):
        return len(self._items())

    def __repr__(self):
        return f"OrderedDict({list(self._items().items())!r})"

    def __setitem__(self, key, value):
        module = self._module
        if not isinstance(key, str):
            raise TypeError(f"{self._kind}: keys are strings, got {type(key).__name__}")
        if self._kind == "_modules" and value is not None:
            _check_module(value, f"_modules[{key!r}]")
        if self._kind == "_parameters":
            module.register_parameter(key, value)
        elif self._kind == "_buffers":
            if key in self._items():
                setattr(module, key, value)
            else:
                module.register_buffer(key, value)
        elif _by_key(module):   # ModuleDict
            module[key] = value
        elif key.isdigit() and _by_position(module):   # Sequential, ModuleList
            if int(key) == len(module):
                module.append(value)
            else:
                module[int(key)] = value
        else:
            setattr(module, key, value)

    def __delitem__(self, key):
        module = self._module
        if key not in self._items():
            raise KeyError(key)
        if self._kind == "_modules" and (_by_key(module) or key.isdigit() and _by_position(module)):
            del module[key if _by_key(module) else int(key)]
            return
        delattr(module, key)
        module.__dict__.get("_parameter_names", set()).discard(key)
        module.__dict__.get("_buffer_names", {}).pop(key, None)
        _changes.changed()


def _by_key(module):   # a container whose items are keyed by name (the class says: an attribute could be a layer)
    return callable(getattr(type(module), "keys", None)) and hasattr(type(module), "__setitem__")


def _by_position(module):
    return all(hasattr(type(module), name) for name in ("__len__", "__setitem__", "__delitem__", "append"))


def _check_module(m, where):
    if not isinstance(m, Module):
        raise TypeError(f"{where}: {type(m).__name__} is not a fastgrad.nn.Module")
    return m


class Sequential(Module):
    """Applies its layers in order: model.forward(x) is layerN(...layer1(x)), so
    model.forward(x).backward() runs back through the whole chain. Layers are named 0, 1, ..., or by
    the keys of an OrderedDict passed alone (Sequential(OrderedDict(fc=..., act=...)), as in PyTorch:
    then seq.fc is that layer too)."""

    def __init__(self, *layers):
        names = None
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            names, layers = [str(k) for k in layers[0]], tuple(layers[0].values())
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, not a fastgrad.nn.Module")
        self.layers = list(layers)
        self._names = names

    def named_children(self):
        names = self._names
        return ((names[i] if names else str(i), layer) for i, layer in enumerate(self.layers))

    def __getattr__(self, name):   # (only for names that are not attributes) a layer named by its key
        names = self.__dict__.get("_names")
        if names and name in names:
            return self.__dict__["layers"][names.index(name)]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def forward(self, x):
        layers, i = self.layers, 0
        while i < len(layers):
            layer = layers[i]
            if (type(layer) is Linear and i + 1 < len(layers) and type(layers[i + 1]) is ReLU
                    and not _hooked(layer) and not _hooked(layers[i + 1])):
                x = ops.LinearReLU().forward(x, layer.weight, layer.bias)   # the same values, one kernel
                i += 2
            else:
                x = layer(x)
                i += 1
        return x

    def append(self, layer):
        _check_module(layer, "Sequential.append")
        self.layers.append(layer)
        if self._names is not None:
            self._names.append(str(len(self.layers) - 1))
        _changes.changed()
        return self

    # A module assigned by name (seq.add_module("fc", m), seq.fc = m) is a layer, as in PyTorch, where
    # Sequential runs its _modules in order: a new name goes last, a known name is replaced in place.
    def __setattr__(self, name, value):
        if isinstance(value, Module) and "layers" in self.__dict__:
            names = self._names if self._names is not None else [str(i) for i in range(len(self.layers))]
            if name in names:
                self.layers[names.index(name)] = value
            else:
                self.layers.append(value)
                names.append(name)
            self.__dict__["_names"] = names
            _changes.changed()
            return
        super().__setattr__(name, value)

    def __delattr__(self, name):
        names = self.__dict__.get("_names")
        if names and name in names:
            i = names.index(name)
            del self.layers[i], names[i]
            _changes.changed()
            return
        super().__delattr__(name)

    def add_module(self, name, module):
        if module is None:
            raise TypeError("Sequential.add_module: None is not a layer")
        super().add_module(name, module)

    def __setitem__(self, i, layer):
        _check_module(layer, "Sequential")
        self.layers[i] = layer
        _changes.changed()

    def __delitem__(self, i):
        del self.layers[i]
        self.__dict__["_names"] = None   # PyTorch renumbers what is left 0, 1, ...
        _changes.changed()

    def insert(self, index, layer):
        _check_module(layer, "Sequential.insert")
        self.layers.insert(index, layer)
        self.__dict__["_names"] = None
        _changes.changed()
        return self

    def extend(self, layers):
        for layer in layers:
            self.append(layer)
        return self

    def pop(self, i):
        layer = self.layers[i]
        del self[i]
        return layer

    def __getitem__(self, i):
        if not isinstance(i, slice):
            return self.layers[i]
        if self._names is None:
            return Sequential(*self.layers[i])
        return Sequential(OrderedDict(zip(self._names[i], self.layers[i])))

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
    def __init__(self, inplace=False):
        self.inplace = inplace

    def forward(self, x):
        return x.relu_() if self.inplace else ops.ReLU().forward(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Tanh(Module):
    def forward(self, x):
        return ops.Tanh().forward(x)


class Sigmoid(Module):
    def forward(self, x):
        return ops.Sigmoid().forward(x)


class Softmax(Module):
    def __init__(self, dim=None):   # None: PyTorch's legacy implicit dim, with its warning (F.softmax)
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim=None):   # None: PyTorch's legacy implicit dim, with its warning (F.log_softmax)
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class _DropoutNd(Module):
    """The dropout modules (PyTorch's _DropoutNd): p and inplace, and in training mode their function
    `_fn` (F.dropout, F.dropout2d, ...); in eval mode x passes through."""
    _fn = None

    def __init__(self, p=0.5, inplace=False):
        self.p = F.check_dropout_p(p)
        self.inplace = inplace

    def forward(self, x):
        return type(self)._fn(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode zeroes each element with probability p and scales the rest by 1/(1-p); in
    eval mode passes x through. Masks come from fastgrad's seeded generator (fg.manual_seed)."""
    _fn = staticmethod(F.dropout)

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

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        if isinstance(weight, str):   # fastgrad's earlier CrossEntropyLoss("sum")
            weight, reduction = None, weight
        reduction = F._legacy_reduction(size_average, reduce, reduction)
        ops.loss.reduction_code(reduction, "CrossEntropyLoss")
        self.reduction = reduction
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, logits, targets):
        return F.cross_entropy(logits, targets, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (LogSoftmax's output) at integer class targets."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        if isinstance(weight, str):
            weight, reduction = None, weight
        reduction = F._legacy_reduction(size_average, reduce, reduction)
        ops.loss.reduction_code(reduction, "NLLLoss")
        self.reduction, self.weight, self.ignore_index = reduction, weight, ignore_index

    def forward(self, logp, targets):
        return F.nll_loss(logp, targets, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class _PointwiseLoss(_Loss):
    """The module form of one of ops.PointwiseLoss's losses (`loss` names it), PyTorch's arguments."""
    loss = None

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        reduction = F._pointwise_reduction(size_average, reduce, reduction)
        allowed = ("none", "mean", "sum", "batchmean") if self.loss == "kl_div" else ("none", "mean", "sum")
        if reduction not in allowed:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {', '.join(map(repr, allowed))}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    def forward(self, input, target):
        return getattr(F, self.loss)(input, target, reduction=self.reduction)


class MSELoss(_PointwiseLoss):
    loss = "mse_loss"


# ---- convolutional networks (ops/conv.py) ----------------------------------------------------------
class _ConvNd(Module):
    """Conv1d/Conv2d/Conv3d: weight (out_channels, in_channels/groups, *kernel_size) and bias
    (out_channels,), PyTorch's layout and default initialisation (uniform in ±1/sqrt(fan_in)).
    kernel_size, stride, padding and dilation are kept as tuples, as PyTorch's; a padding_mode other
    than 'zeros' pads with F.pad first and convolves without padding, as PyTorch does."""
    spatial = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        name = type(self).__name__
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < (1 if arg == "groups" else 0):
                raise ValueError(f"{name}: {arg} must be a {'positive' if arg == 'groups' else 'non-negative'} int, "
                                 f"got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        modes = ("zeros", "reflect", "replicate", "circular")
        if padding_mode not in modes:
            raise ValueError(f"{name}: padding_mode must be one of {modes}, but got padding_mode={padding_mode!r}")
        sp = self.spatial
        args = lambda v, arg, low: ops.conv.spatial_args(v, arg, name, low, sp)[3 - sp:]   # noqa: E731
        kernel = args(kernel_size, "kernel_size", 1)
        self.stride, self.dilation = args(stride, "stride", 1), args(dilation, "dilation", 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of ('valid', 'same')")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = args(padding, "padding", 0)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        self.groups, self.padding_mode = groups, padding_mode
        self._make_parameters(in_channels, out_channels, bias, dtype)

    def _make_parameters(self, in_channels, out_channels, bias, dtype):
        kernel, groups = self.kernel_size, self.groups
        fan_in = in_channels // groups * math.prod(kernel)
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        self.weight = init.uniform_(empty((out_channels, in_channels // groups) + kernel, dtype=dtype), -bound,
                                    bound).requires_grad_()
        self.bias = init.uniform_(empty(out_channels, dtype=dtype), -bound, bound).requires_grad_() if bias else None

    def _reversed_padding(self):
        """F.pad's amounts for padding_mode: (left, right) of the last dimension first."""
        if self.padding == "valid":
            return (0, 0) * self.spatial
        if self.padding == "same":
            out = []
            for d, k in reversed(list(zip(self.dilation, self.kernel_size))):
                total = d * (k - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        return tuple(p for q in reversed(self.padding) for p in (q, q))

    def forward(self, x):
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding(), mode=self.padding_mode)
            return ops.Conv(self.stride, 0, self.dilation, self.groups, self.spatial).forward(x, self.weight, self.bias)
        return ops.Conv(self.stride, self.padding, self.dilation, self.groups, self.spatial).forward(
            x, self.weight, self.bias)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        output_padding = getattr(self, "output_padding", None)
        if output_padding is not None and output_padding != (0,) * len(output_padding):
            s += f", output_padding={output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        s += ", bias=False" if self.bias is None else ""
        return s + (f", padding_mode={self.padding_mode}" if self.padding_mode != "zeros" else "")


class Conv2d(_ConvNd):
    spatial = 2


class Conv1d(_ConvNd):
    spatial = 1


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        stride = self.stride if self.stride is not None else self.kernel_size
        return (f"kernel_size={self.kernel_size}, stride={stride},"
                f" padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self):
        stride = self.stride if self.stride is not None else self.kernel_size
        return (f"kernel_size={self.kernel_size}, stride={stride},"
                f" padding={self.padding}")


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _BatchNorm(Module):
    """Normalises each channel by the batch's mean and variance in training mode, by the running
    statistics in eval mode (PyTorch's rules). running_mean, running_var and num_batches_tracked
    are buffers: in the state_dict, not parameters; the C kernel updates them in place."""
    dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None):
        name = type(self).__name__
        if not isinstance(num_features, numbers.Integral) or isinstance(num_features, bool) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if not isinstance(eps, numbers.Real) or not eps > 0:
            raise ValueError(f"{name}: eps must be a positive number, got {eps!r}")
        if momentum is not None and (not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1):
            raise ValueError(f"{name}: momentum must be a number in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = tensor([1.0] * num_features, dtype=dtype, requires_grad=True)
            self.bias = tensor([0.0] * num_features, dtype=dtype, requires_grad=True)
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", tensor([0.0] * num_features, dtype=dtype))
            self.register_buffer("running_var", tensor([1.0] * num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, x):
        if isinstance(x, Tensor) and x.ndim not in self.dims:
            raise ValueError(f"{type(self).__name__}: expects a {' or '.join(map(str, self.dims))}-d input, got "
                             f"shape {x.shape}")
        training = self.training or self.running_mean is None
        tracking = not self.training or self.track_running_stats
        return ops.BatchNorm(training, self.momentum, self.eps).forward(
            x, self.weight, self.bias, *((self.running_mean, self.running_var, self.num_batches_tracked)
                                         if tracking else (None, None, None)))

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    dims = (4,)


class Dropout2d(_DropoutNd):
    """In training mode zeroes whole channels with probability p (scaling the rest by 1/(1-p))."""
    _fn = staticmethod(F.dropout2d)
    extra_repr = Dropout.extra_repr


# ---- more convolutional-network layers (cnn: padding, 1-D and adaptive pools, group and instance
# norm, upsampling, transposed convolution) ------------------------------------------------------------
class _PadNd(Module):
    """F.pad with a fixed mode over the last `dims` dimensions: padding is an int (every side) or
    2·dims ints (left, right of the last dimension, then of the one before...)."""
    dims, mode = 1, "constant"

    def __init__(self, padding, value=None):
        n = 2 * self.dims
        padding = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * n
        if len(padding) != n or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in padding):
            raise ValueError(f"{type(self).__name__}: padding must be an int or {n} ints, got {padding!r}")
        self.padding, self.value = padding, value

    def forward(self, x):
        return F.pad(x, self.padding, self.mode, self.value)

    def extra_repr(self):   # PyTorch's: only the ConstantPad classes name their arguments
        return f"padding={self.padding}, value={self.value}" if isinstance(self, ConstantPad1d) else f"{self.padding}"


class ConstantPad1d(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    dims = 2


class ZeroPad2d(_PadNd):
    dims = 2

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad1d(_PadNd):
    mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    dims = 2


class ReplicationPad1d(_PadNd):
    mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    dims = 2


class CircularPad1d(_PadNd):
    mode = "circular"


class CircularPad2d(CircularPad1d):
    dims = 2


class MaxPool1d(MaxPool2d):
    def forward(self, x):
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        stride = self.stride if self.stride is not None else self.kernel_size
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    def forward(self, x):
        return F.adaptive_avg_pool1d(x, self.output_size)


class AdaptiveMaxPool2d(Module):
    def __init__(self, output_size, return_indices=False):
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    def forward(self, x):
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)


class GroupNorm(Module):
    """Normalises num_groups groups of channels per sample; weight (ones) and bias (zeros) per
    channel when affine."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        for arg, v in (("num_groups", num_groups), ("num_channels", num_channels)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"GroupNorm: {arg} must be a positive int, got {v!r}")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        if affine:
            self.weight = tensor([1.0] * num_channels, dtype=dtype, requires_grad=True)
            self.bias = tensor([0.0] * num_channels, dtype=dtype, requires_grad=True)
        else:
            self.weight = self.bias = None

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Normalises each channel of each sample by its own statistics (PyTorch's defaults: no affine,
    no running statistics; with track_running_stats, training updates them and eval mode uses them).
    An unbatched input (C, *) is one sample."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, x):
        name = type(self).__name__
        if isinstance(x, Tensor) and x.ndim not in self.dims:
            raise ValueError(f"{name}: expects a {' or '.join(map(str, self.dims))}-d input, got shape {x.shape}")
        unbatched = isinstance(x, Tensor) and x.ndim == self.dims[0]
        if unbatched:
            x = x.reshape((1,) + x.shape)
        if isinstance(x, Tensor) and self.affine and x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input's channels ({x.shape[1]}, shape {x.shape}) to match "
                             f"num_features ({self.num_features})")
        use_input_stats = self.training or not self.track_running_stats
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.reshape(out.shape[1:]) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    dims = (3, 4)


class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        return (f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}") + \
            f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", True)


class _ConvTransposeNd(_ConvNd):
    """ConvTranspose1d/2d/3d: weight (in_channels, out_channels/groups, *kernel_size) and bias
    (out_channels,), PyTorch's layout and initialisation (uniform in ±1/sqrt(fan_in), fan_in from
    the weight's second dimension). forward(x, output_size) picks output_padding as PyTorch's."""
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got {padding_mode!r}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)
        self.output_padding = ops.conv.spatial_args(output_padding, "output_padding", name, 0, self.spatial,
                                                    0)[3 - self.spatial:]

    def _make_parameters(self, in_channels, out_channels, bias, dtype):
        # _ConvNd's initialisation with the channels swapped for the weight's layout
        super()._make_parameters(out_channels, in_channels, False, dtype)
        if bias:   # the bias has out_channels entries, bounded as the weight
            fan_in = out_channels // self.groups * math.prod(self.kernel_size)
            bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
            self.bias = init.uniform_(empty(out_channels, dtype=dtype), -bound, bound).requires_grad_()

    def _output_padding(self, x, output_size):
        """PyTorch's _output_padding: the output_padding that makes the output output_size."""
        if output_size is None:
            return self.output_padding
        sp, name = self.spatial, type(self).__name__
        size = list(output_size)
        if len(size) == sp + 2 or (isinstance(x, Tensor) and len(size) == x.ndim):
            size = size[-sp:]
        if len(size) != sp:
            raise ValueError(f"{name}: output_size must have {sp} or {sp + 2} elements (got {len(output_size)})")
        out = []
        for i in range(sp):
            in_size = x.shape[x.ndim - sp + i]
            low = ((in_size - 1) * self.stride[i] - 2 * self.padding[i]
                   + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            high = low + self.stride[i] - 1
            if not low <= size[i] <= high:
                raise ValueError(f"{name}: requested an output size of {tuple(output_size)}, but valid sizes range "
                                 f"from {low} to {high} (for an input of {tuple(x.shape[-sp:])})")
            out.append(size[i] - low)
        return tuple(out)

    def forward(self, x, output_size=None):
        f = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.spatial - 1]
        return f(x, self.weight, self.bias, self.stride, self.padding, self._output_padding(x, output_size),
                 self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    spatial = 2


class ConvTranspose1d(_ConvTransposeNd):
    spatial = 1
# ---- pointwise losses (ops/pointwise_loss.py); MSELoss is above, with the other losses ---------------
class L1Loss(_PointwiseLoss):
    loss = "l1_loss"


class SmoothL1Loss(_PointwiseLoss):
    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_PointwiseLoss):
    def __init__(self, reduction="mean", delta=1.0):
        if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
            raise TypeError(f"HuberLoss: delta must be a float or int, got {type(delta).__name__}")
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_PointwiseLoss):
    """Binary cross-entropy of probabilities; weight (a buffer, as in PyTorch) rescales each element."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_PointwiseLoss):
    """Sigmoid + binary cross-entropy in one stable kernel; weight and pos_weight are buffers."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_PointwiseLoss):
    loss = "kl_div"

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

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


# ---- nn.Buffer (PyTorch >= 2.5): assigned to a module, it registers itself as a buffer ----------------
import weakref  # noqa: E402

_buffers = {}   # id(tensor) -> (weak reference, persistent): the tensors Buffer() made


def buffer_persistence(obj):
    """persistent (True/False) when obj is a tensor that nn.Buffer made, else None."""
    entry = _buffers.get(id(obj))
    return entry[1] if entry is not None and entry[0]() is obj else None


class _BufferMeta(type):
    def __instancecheck__(cls, obj):
        return buffer_persistence(obj) is not None


class Buffer(metaclass=_BufferMeta):
    """Buffer(data, *, persistent=True): data detached (the same storage), marked so that assigning it to
    a module attribute registers a buffer (register_buffer(name, t, persistent)). A plain tensor, as
    Parameter is: the mark is kept beside it, not in a subclass."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = tensor([])
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: data must be a fastgrad Tensor, got {type(data).__name__}")
        t = data.detach().requires_grad_(data.requires_grad)
        key = id(t)
        _buffers[key] = (weakref.ref(t, lambda _, key=key: _buffers.pop(key, None)), bool(persistent))
        return t


# ---- the placeholders of lazy modules (nn/layers_nd.py) -------------------------------------------------
_uninitialized = {}   # id(tensor) -> weak reference: the placeholders not yet given their shapes


def mark_uninitialized(t, placeholder=True):
    key = id(t)
    if placeholder:
        _uninitialized[key] = weakref.ref(t, lambda _, key=key: _uninitialized.pop(key, None))
    else:
        _uninitialized.pop(key, None)


def _is_uninitialized(obj):
    ref = _uninitialized.get(id(obj))
    return ref is not None and ref() is obj


class _UninitializedParameterMeta(type):
    def __instancecheck__(cls, obj):
        return _is_uninitialized(obj) and obj.requires_grad


class _UninitializedBufferMeta(type):
    def __instancecheck__(cls, obj):
        return _is_uninitialized(obj) and not obj.requires_grad


class UninitializedParameter(metaclass=_UninitializedParameterMeta):
    """isinstance(p, UninitializedParameter): p is a lazy module's parameter before its first forward
    (a tensor of shape (0,) that then receives its shape in place)."""


class UninitializedBuffer(metaclass=_UninitializedBufferMeta):
    """isinstance(b, UninitializedBuffer): b is a lazy module's buffer before its first forward."""

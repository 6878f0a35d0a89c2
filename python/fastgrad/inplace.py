"""In-place updates: `t += u`, `add_`, `fill_`, `copy_`, ... as PyTorch defines them.

Two cases, decided per call:
- Nothing to record (grad mode off, or neither operand needs a gradient): the kernel writes into
  t's own buffer, so every view of that storage sees it, and the storage's in-place marker gets a
  new epoch, so an op recorded earlier that reads this storage refuses to backpropagate
  (autograd.Op.check_versions) instead of using the new values.
- Something to record: t must not be a leaf that requires grad (PyTorch's RuntimeError). The op
  runs out of place on an alias holding t's old buffer and graph position, and t takes over the
  result: its new buffer and the new op. Ops recorded earlier that read t see a new epoch on t and
  refuse to backpropagate; views of t made before keep the old values (README, "Differences from
  PyTorch").
"""
import numbers

from ._C import lib
from . import autograd
from .autograd import broadcast_shape, broadcast_strides
from .ops import elementwise
from .ops._checks import cast_to, operands
from .tensor import Tensor, _view, empty, fill as fill_kernel, tensor
from .dtypes import kernels

_LEAF_ERROR = ("a leaf tensor that requires grad is being used in an in-place operation ({name}); do it under "
               "`with fg.no_grad():` (as optimizers do) or on .data")


def _recording(t, other=None):
    if not autograd.is_grad_enabled():
        return False
    return t.requires_grad or (isinstance(other, Tensor) and other.requires_grad)


def _mark_written(t):
    """Stamps a new epoch on t's storage marker (shared with its views); writes t back into the
    tensor it was copied out of, if it was (see derived)."""
    if t._version is None:
        t._version = [0, 0]
    t._version[0] = autograd.bump_epoch()
    _write_back(t)


def _take_over(t, result):
    """t becomes `result` (the in-place result computed out of place): its buffer and graph node."""
    t._buf, t._op, t.requires_grad = result._buf, result._op, result.requires_grad
    epoch = autograd.bump_epoch()
    if result._version is not None:   # result's op reads it in backward (Op.save_output): share that marker,
        result._version[1] = epoch    # so a later write into t makes the op refuse
        t._version = result._version
    else:
        t._version = [epoch, epoch]   # a new storage (no views yet), and t's place in the graph changed
    _write_back(t)
    return t


# Basic indexing (x[0], x[:, 1:3]) and the reordering movement ops (transpose, permute, narrow, ...)
# return copies (README, "Storage"). So that an in-place write into one still reaches the tensor it
# came from, as it does through PyTorch's views (`x[0].zero_()`, `x[0][1] = 5`, `w.t().mul_(2)`),
# such a result remembers its base and how to write itself back (its _derived slot); every in-place
# write ends by doing so (recorded like any setitem when gradients are on). The slot holds the base
# (which may itself be a copy to write back further, or share its buffer with a tensor the caller
# still holds) for as long as the result lives, and no longer: a Dataset's rows each make one.
def derived(result, base, write):
    """Marks `result` as copied out of `base`: write(base, result) puts it back. Returns result."""
    if result is not base:
        result._derived = (base, write)
    return result


def _write_back(t):
    if t._derived is not None:
        base, write = t._derived
        write(base, t)


def _alias(t):
    """A second tensor object for t's current buffer and graph position."""
    a = _view(t, t._shape, t.requires_grad)
    a._op = t._op
    return a


def binary(t, other, op_class, name, alpha=1):
    """t op= alpha * other (alpha only for Add and Sub): the result must have t's shape and dtype
    (PyTorch refuses `int_tensor += 0.5`)."""
    if (type(other) is Tensor and type(t) is Tensor and other._shape == t._shape and other._dtype is t._dtype
            and t._dtype.is_floating_point and not _recording(t, other)):   # an optimizer's update: no temporaries
        if alpha == 1:
            t._dtype.k.binary(t._buf, t._buf, other._buf, op_class.code, t._numel)
        else:   # add_(g, alpha=-lr): one pass
            t._dtype.k.axpy(t._buf, other._buf, alpha if op_class.code == lib.FG_ADD else -alpha, t._numel)
        _mark_written(t)
        return t
    if alpha != 1:
        other = other * alpha
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expects a fastgrad Tensor, got {type(t).__name__}")
    if isinstance(other, Tensor) and other._dtype.is_floating_point and t._dtype.is_floating_point:
        other = other.to(t._dtype)   # float64 into float32 (or back) in place, as PyTorch casts it
    a, b = operands(t, other, name, op_class.__name__ == "Div")
    if a._dtype is not t._dtype:
        raise TypeError(f"{name}: the result type {a._dtype!r} can't be cast to the tensor's dtype {t._dtype!r} "
                        f"in place; use an out-of-place op (t = t ...) or convert first")
    shape = broadcast_shape(t._shape, b._shape)
    if shape != t._shape:
        raise ValueError(f"{name}: an operand of shape {b._shape} broadcasts the tensor of shape {t._shape} to "
                         f"{shape}; in place, the result must keep the tensor's shape")
    if _recording(t, b):
        if t._op is None and t.requires_grad:
            raise RuntimeError(_LEAF_ERROR.format(name=name))
        return _take_over(t, op_class().forward(_alias(t), b))
    elementwise.binary(op_class.code, t, b, out=t)
    _mark_written(t)
    return t


def fill(t, value):
    """Every element set to `value` (a number or a one-element tensor)."""
    if isinstance(value, Tensor):
        if value._numel != 1:
            raise ValueError(f"fill_: value must be a number or a one-element tensor, got shape {value._shape}")
        value = value.item()
    if not isinstance(value, numbers.Number) or isinstance(value, complex):
        raise TypeError(f"fill_: value must be a real number, got {type(value).__name__}")
    value = t._dtype.python(value)
    if _recording(t):
        if t._op is None:
            raise RuntimeError(_LEAF_ERROR.format(name="fill_"))
        result = empty(t._shape, t._dtype, t._numel)   # a constant: no gradient flows to t's old value
        fill_kernel(result, value)
        return _take_over(t, result)
    fill_kernel(t, value)
    _mark_written(t)
    return t


def copy(t, src):
    """t's elements set to src's (broadcast to t's shape, converted to t's dtype)."""
    if not isinstance(src, Tensor):
        src = tensor(src, dtype=t._dtype)
    if broadcast_shape(t._shape, src._shape) != t._shape:
        raise ValueError(f"copy_: a source of shape {src._shape} does not broadcast to the tensor's shape {t._shape}")
    if _recording(t, src):
        raise NotImplementedError("copy_ with gradient tracking is not supported: run it under fg.no_grad(), or "
                                  "use an out-of-place expression")
    if src._buf is not t._buf:
        write_broadcast(t, src)
    _mark_written(t)
    return t


def write_broadcast(t, src):
    """t = src broadcast to t's shape and converted to t's dtype, by kernels: a cast for one shape,
    else -0.0 + src through the broadcasting add (-0.0 + x is x for every x, -0.0 and NaN included)."""
    if src._shape == t._shape:
        kernels.cast(t._buf, t._dtype.code, src._buf, src._dtype.code, t._numel)
        return
    src = cast_to(src, t._dtype)
    zero = empty((), t._dtype, 1)
    fill_kernel(zero, -0.0 if t._dtype.is_floating_point else 0)
    t._dtype.k.binary_bcast(t._buf, zero._buf, src._buf, lib.FG_ADD, t._shape, [0] * len(t._shape),
                            broadcast_strides(src._shape, t._shape), len(t._shape))


def draw_in_place(t, draw, name):
    """t filled by `draw(t)` (a random kernel), under the same rules as fill_."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expects a fastgrad Tensor, got {type(t).__name__}")
    if _recording(t):
        if t._op is None:
            raise RuntimeError(_LEAF_ERROR.format(name=name))
        return _take_over(t, draw(empty(t._shape, t._dtype, t._numel)))
    draw(t)
    _mark_written(t)
    return t


def apply(t, compute, name, *others):
    """t = compute(t) in place, for ops without an in-place kernel of their own (clamp_, masked_fill_):
    computed out of place, then written into t's buffer, or (when recording) taken over as above.
    The result must keep t's shape and dtype."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: expects a fastgrad Tensor, got {type(t).__name__}")
    recording = autograd.is_grad_enabled() and (t.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                                                       for o in others))
    if recording and t._op is None and t.requires_grad:
        raise RuntimeError(_LEAF_ERROR.format(name=name))
    result = compute(_alias(t) if recording else t)
    if result._shape != t._shape or result._dtype is not t._dtype:
        raise TypeError(f"{name}: the result ({result._dtype!r}, shape {result._shape}) can't be written in place "
                        f"into a tensor of {t._dtype!r} and shape {t._shape}")
    if recording:
        return _take_over(t, result)
    kernels.cast(t._buf, t._dtype.code, result._buf, t._dtype.code, t._numel)
    _mark_written(t)
    return t

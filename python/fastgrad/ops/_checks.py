"""Argument checks shared by the ops: the Python side of "kernels trust their inputs"."""
import numbers

import numpy as np

from .._C import ffi
from ..dtypes import bool_, default_float, int64, kernels, promote
from ..tensor import Tensor, empty, scalar, tensor


def operands(a, b, op, true_division=False):
    """Both operands of a binary op as tensors of one dtype, PyTorch's promotion applied: ints and
    bools with a float become that float, bool with int64 int64; Python numbers take the tensor's
    dtype (a float with an integer tensor gives float32); integer division is true division (float32);
    float32 with float64 gives float64, unless the float64 one is 0-d. At least one operand must be a
    Tensor."""
    if type(b) is float and type(a) is Tensor and a._dtype.is_floating_point:   # t * 0.5: the common case first
        return a, scalar(b, a._dtype)
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{op}: expects fastgrad Tensors, got {type(a).__name__} and {type(b).__name__}")
        b, a = operands(b, a, op, true_division)
        return a, b
    if isinstance(b, Tensor):
        dtype = promote(a._dtype, b._dtype)
        if a._dtype.is_floating_point and b._dtype.is_floating_point and a._dtype is not b._dtype:
            if (a._shape == ()) != (b._shape == ()):   # PyTorch: within floats a 0-d operand takes the other's dtype
                dtype = b._dtype if a._shape == () else a._dtype
            return a.to(dtype), b.to(dtype)   # float32 <-> float64: a conversion the gradient flows back through
    elif isinstance(b, (bool, np.bool_)):
        dtype = a._dtype if a._dtype is not bool_ else int64
        b = scalar(int(b), dtype) if not dtype.is_floating_point else scalar(float(b), dtype)
    elif isinstance(b, numbers.Integral):
        dtype = a._dtype if a._dtype is not bool_ else int64
        if not dtype.is_floating_point and not -2**63 <= b < 2**63:
            raise OverflowError(f"{op}: the integer {b} does not fit int64")
        b = scalar(dtype.python(b), dtype)
    elif isinstance(b, numbers.Real):
        dtype = a._dtype if a._dtype.is_floating_point else default_float()
        b = scalar(float(b), dtype)
    elif isinstance(b, (np.ndarray, list, tuple)):
        b = tensor(b, dtype=a._dtype if a._dtype.is_floating_point else None)
        return operands(a, b, op, true_division)
    else:
        raise TypeError(f"{op}: unsupported operand of type {type(b).__name__}")
    if true_division and not dtype.is_floating_point:
        dtype = default_float()
    if dtype is bool_:
        raise TypeError(f"{op}: arithmetic on two bool tensors is not supported; convert with .long() or .float()")
    return cast_to(a, dtype), cast_to(b, dtype)


def cast_to(t, dtype):
    """t as dtype: itself, or (for an integer or bool tensor, which needs no gradient) a converted copy."""
    if t._dtype is dtype:
        return t
    out = empty(t._shape, dtype, t._numel)
    kernels.cast(out._buf, dtype.code, t._buf, t._dtype.code, t._numel)
    return out


def reduction_arg(reduction, op):
    """A loss's reduction: 'mean' or 'sum'."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'mean' or 'sum', got {reduction!r}")
    return reduction


def scalar_first(op, keyword, scalar, tensors, count, given):
    """PyTorch's deprecated overloads that take the scalar first, as older optimizers call them
    (p.add_(-lr, grad), v.addcmul_(1 - beta2, g, g), p.addcdiv_(-step, m, denom)): (the `count`
    tensors, the scalar), with PyTorch's deprecation warning; a mix of both forms is refused."""
    if len(tensors) != count or not isinstance(scalar, numbers.Number) or given != 1:
        raise TypeError(f"{op}: takes ({'Tensor, ' * count}*, {keyword}=Number), or the deprecated "
                        f"(Number {keyword}, {', '.join(['Tensor'] * count)}); got {len(tensors) + 1} positional "
                        f"arguments starting with a {type(scalar).__name__}")
    import warnings
    warnings.warn(f"This overload of {op} is deprecated: {op}(Number {keyword}, Tensor...); use "
                  f"{op}(Tensor..., *, {keyword}=Number) (as PyTorch says)", UserWarning, stacklevel=4)
    return tensors, scalar


def tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a fastgrad Tensor, got {type(x).__name__}")
    return x


def float_arg(x, op, name="input"):
    """x for an op that computes in floating point: integer and bool tensors become float32, as
    PyTorch's tanh, exp or softmax make them."""
    tensor_arg(x, op, name)
    return x if x._dtype.is_floating_point else cast_to(x, default_float())


def same_dtype(op, *tensors):
    first = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not first:
            raise TypeError(f"{op}: dtype mismatch, {first!r} and {t.dtype!r}")


def last_dim(x, dim, op):
    """(rows, cols) of x seen as rows of its last dimension; `dim` must name that dimension."""
    shape = x._shape
    if not shape:
        raise ValueError(f"{op}: needs at least one dimension, got a 0-d tensor")
    if dim not in (-1, len(shape) - 1):
        raise ValueError(f"{op}: only the last dimension is supported (dim=-1), got dim={dim} for shape {shape}")
    cols = shape[-1]
    return (x._numel // cols if cols else 0), cols


# Set by fastgrad.compile while it records a step: called with an int64 tensor of class targets and
# the class count, it adds a range check of each later batch to the plan.
range_hook = None


def raw_view(t):
    """t's contents as a numpy array read straight from its buffer: for checks made before a kernel
    call, which a captured step re-makes in C (not a host read of the values the op computes on)."""
    return np.frombuffer(ffi.buffer(t._buf, t._numel * t._dtype.itemsize), t._dtype.np).reshape(t._shape)


def class_targets(targets, shape, num_classes, op, ignore_index=None):
    """Integer class indices of the given shape, each in [0, num_classes) or equal to ignore_index, as
    a new contiguous int64 array: always a copy, so the caller may change its own array afterwards
    without reaching what a backward kernel reads."""
    raw = targets.numpy() if isinstance(targets, Tensor) else targets
    array = np.asarray(raw)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.array_equal(array, np.round(array)):
            raise TypeError(f"{op}: class targets must be integers, got non-integral values")
    elif array.dtype.kind not in "iu":
        raise TypeError(f"{op}: class targets must be integers, got data of numpy dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{op}: targets of shape {array.shape} do not match the input: expected shape {tuple(shape)}")
    bad = (array < 0) | (array >= num_classes)   # before the cast: uint64 must not wrap
    if ignore_index is not None:
        bad &= array != ignore_index
    if array.size and bad.any():
        raise ValueError(f"{op}: class target {array[bad][0]} is out of range for {num_classes} classes")
    return np.array(array, dtype=np.int64, order="C")   # a copy: later changes to the caller's array change nothing

"""Argument checks shared by the ops: the Python side of "kernels trust their inputs"."""
import numbers

import numpy as np

from ..tensor import Tensor, tensor


def operand(x, like, op):
    """x as a tensor of like's dtype: tensors must match it; Python and numpy numbers, lists and
    arrays are converted (as PyTorch does for `t + 1`)."""
    if isinstance(x, Tensor):
        if x.dtype is not like.dtype:
            raise TypeError(f"{op}: dtype mismatch, {like.dtype!r} and {x.dtype!r}; convert one with "
                            f"fg.tensor(t, dtype=...)")
        return x
    if isinstance(x, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        return tensor(x, dtype=like.dtype)
    raise TypeError(f"{op}: unsupported operand of type {type(x).__name__}")


def operands(a, b, op):
    """Both operands of a binary op as tensors of one dtype; at least one must be a Tensor."""
    if isinstance(a, Tensor):
        return a, operand(b, a, op)
    if isinstance(b, Tensor):
        return operand(a, b, op), b
    raise TypeError(f"{op}: expects fastgrad Tensors, got {type(a).__name__} and {type(b).__name__}")


def reduction_arg(reduction, op):
    """A loss's reduction: 'mean' or 'sum'."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'mean' or 'sum', got {reduction!r}")
    return reduction


def tensor_arg(x, op, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a fastgrad Tensor, got {type(x).__name__}")
    return x


def same_dtype(op, *tensors):
    first = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not first:
            raise TypeError(f"{op}: dtype mismatch, {first!r} and {t.dtype!r}")


def last_dim(x, dim, op):
    """(rows, cols) of x seen as rows of its last dimension; `dim` must name that dimension."""
    if x.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension, got a 0-d tensor")
    if dim not in (-1, x.ndim - 1):
        raise ValueError(f"{op}: only the last dimension is supported (dim=-1), got dim={dim} for shape {x.shape}")
    cols = x.shape[-1]
    return (x.size // cols if cols else 0), cols


def class_targets(targets, shape, num_classes, op):
    """Integer class indices of the given shape, each in [0, num_classes), as a contiguous int64 array."""
    raw = targets.numpy() if isinstance(targets, Tensor) else targets
    array = np.asarray(raw)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.array_equal(array, np.round(array)):
            raise TypeError(f"{op}: class targets must be integers, got non-integral values")
    elif array.dtype.kind not in "iu":
        raise TypeError(f"{op}: class targets must be integers, got data of numpy dtype {array.dtype}")
    if array.shape != tuple(shape):
        raise ValueError(f"{op}: targets of shape {array.shape} do not match the input: expected shape {tuple(shape)}")
    array = np.ascontiguousarray(array, dtype=np.int64)
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        bad = array[(array < 0) | (array >= num_classes)][0]
        raise ValueError(f"{op}: class target {bad} is out of range for {num_classes} classes")
    return array

"""Tensors made from numbers: arange, linspace, full, empty, eye and the *_like forms. Each fills
its buffer with a kernel (fg_range, fg_fill), so a captured step that makes one replays it."""
import math
import numbers

from .dtypes import as_dtype, default_float, int64, kernels
from .tensor import Tensor, _checked_shape, _filled, as_device, empty as _empty, size_arg


def _number(x, what):
    if isinstance(x, Tensor):
        x = x.item()
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}")
    return x


def _new(shape, dtype, requires_grad, device):
    if device is not None:
        as_device(device)
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError(f"only floating-point tensors can require gradients, got {dtype!r}")
    t = _empty(shape, dtype)
    t.requires_grad = bool(requires_grad)
    return t


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """start, start + step, ... below end (arange(end) starts at 0); int64 when every argument is an
    integer, else float32, as in PyTorch."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, f"arange: {n}") for v, n in ((start, "start"), (end, "end"), (step, "step")))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise ValueError(f"arange: start, end and step must be finite, got {start}, {end}, {step}")
    if (end - start) * step < 0:
        raise ValueError(f"arange: the range from {start} to {end} does not go in the direction of step {step}")
    integral = all(isinstance(v, numbers.Integral) for v in (start, end, step))
    dtype = as_dtype(dtype) if dtype is not None else (int64 if integral else default_float())
    n = -((start - end) // step) if integral else max(0, math.ceil((end - start) / step))
    t = _new((int(n),), dtype, requires_grad, device)
    kernels.range(t._buf, dtype.code, float(start), float(step), 0.0, 0, t._numel)
    return t


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """steps evenly spaced values from start to end, both included."""
    start, end = _number(start, "linspace: start"), _number(end, "linspace: end")
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative integer, got {steps!r}")
    dtype = default_float() if dtype is None else as_dtype(dtype)
    t = _new((int(steps),), dtype, requires_grad, device)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    # symmetric (the upper half counted back from end) only with two or more steps: a single step
    # is start, as in PyTorch (the symmetric rule would give end)
    kernels.range(t._buf, dtype.code, float(start), step, float(end), 1 if steps > 1 else 0, t._numel)
    return t


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of `size` holding fill_value; its dtype follows the value (bool, int64 or float32)."""
    value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    if dtype is None:
        dtype = "bool" if isinstance(value, bool) else int64 if isinstance(value, numbers.Integral) else default_float()
    size = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    return _filled(size, dtype, _number(int(value) if isinstance(value, bool) else value, "full: fill_value"),
                   requires_grad, device)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t._shape, fill_value, dtype=t._dtype if dtype is None else dtype, device=device,
                requires_grad=requires_grad)


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False):
    """Uninitialised memory, as in PyTorch: write it before reading it."""
    return _new(_checked_shape(size_arg(shape, size, "empty")), default_float() if dtype is None else as_dtype(dtype),
                requires_grad, device)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return empty(t._shape, dtype=t._dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity: ones on the diagonal."""
    m = n if m is None else m
    for name, v in (("n", n), ("m", m)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
            raise ValueError(f"eye: {name} must be a non-negative integer, got {v!r}")
    dtype = default_float() if dtype is None else as_dtype(dtype)
    t = _new((int(n), int(m)), dtype, requires_grad, device)
    kernels.eye(t._buf, dtype.code, int(n), int(m))
    return t

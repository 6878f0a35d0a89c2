"""nn.utils: gradient clipping. The norm is accumulated and the gradients scaled by kernels
(csrc/norm_act.inc), the clip coefficient computed in C from a buffer: no Python arithmetic on
gradient values."""
import math
import numbers

from ..._C import ffi
from ...tensor import Tensor, empty, zeros


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _number(value, op, name):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(value):
        raise ValueError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales all gradients together so that their joint norm_type-norm is at most max_norm
    (coefficient max_norm / (norm + 1e-6), as PyTorch). Returns the norm before clipping, a 0-d
    tensor."""
    max_norm = _number(max_norm, "clip_grad_norm_", "max_norm")
    p = _number(norm_type, "clip_grad_norm_", "norm_type")
    if p <= 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (or inf), got {norm_type!r}")
    grads = _grads(parameters)
    if not grads:
        return zeros(())
    acc = ffi.new("double[1]")
    for g in grads:
        g.dtype.k.pnorm_acc(acc, g._buf, p, g._numel)
    total = empty((), grads[0].dtype)
    grads[0].dtype.k.pnorm_finish(total._buf, acc, p)
    if error_if_nonfinite and not math.isfinite(acc[0]):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           f"norm anyway, set `error_if_nonfinite=False`")
    for g in grads:
        g.dtype.k.clip_by_norm(g._buf, acc, max_norm, p, g._numel)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element into [-clip_value, clip_value]."""
    clip = _number(clip_value, "clip_grad_value_", "clip_value")
    for g in _grads(parameters):
        g.dtype.k.clip_value(g._buf, clip, g._numel)

def parameters_to_vector(parameters):
    """The parameters flattened and joined into one 1-D tensor (a copy)."""
    from ...shape_functions import cat
    params = [p for p in parameters]
    if not params or not all(isinstance(p, Tensor) for p in params):
        raise TypeError("parameters_to_vector: expected a non-empty iterable of tensors")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D vec into the parameters, in order (their values change in
    place, outside autograd)."""
    from ...autograd import no_grad
    if not isinstance(vec, Tensor) or vec.dim() != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D tensor, got "
                        f"{vec.shape if isinstance(vec, Tensor) else type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.numel():
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements, the parameters {total}")
    offset = 0
    with no_grad():
        for p in params:
            p.copy_(vec[offset:offset + p.numel()].reshape(p.shape))
            offset += p.numel()


from . import rnn  # noqa: E402  (fg.nn.utils.rnn: padding and packing sequences)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "rnn"]

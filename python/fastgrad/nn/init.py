"""Parameter initialisation, PyTorch's torch.nn.init: each function fills a tensor in place under
no_grad, from the default generator (fg.manual_seed) or `generator=`, and returns it."""
import math
import numbers

from ..autograd import no_grad
from ..random import normal_ as _normal, uniform_ as _uniform
from ..tensor import Tensor


def _tensor(t, what):
    if not isinstance(t, Tensor):
        raise TypeError(f"nn.init.{what}: expects a fastgrad Tensor, got {type(t).__name__}")
    return t


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, PyTorch's table."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if not isinstance(slope, numbers.Real) or isinstance(slope, bool):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(t):
    if t.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got shape {t.shape}")
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fan(t, mode):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with no_grad():
        return _uniform(_tensor(tensor, "uniform_"), a, b, generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with no_grad():
        return _normal(_tensor(tensor, "normal_"), mean, std, generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal values, each redrawn until it falls in [a, b] (PyTorch's distribution). Initialisation
    runs once, outside any captured step, so the redraw loop may look at the values."""
    from ..random import randn
    _tensor(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: needs a < b, got a={a}, b={b}")
    normal_(tensor, mean, std, generator)
    values = tensor.numpy()
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = randn(int(outside.sum()), mean=mean, std=std, dtype=tensor.dtype, generator=generator).numpy()
        outside = (values < a) | (values > b)
    return tensor


def constant_(tensor, val):
    with no_grad():
        return _tensor(tensor, "constant_").fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    with no_grad():
        return _tensor(tensor, "zeros_").zero_()


def eye_(tensor):
    from ..creation import eye
    if _tensor(tensor, "eye_").ndim != 2:
        raise ValueError(f"eye_: needs a 2-D tensor, got shape {tensor.shape}")
    with no_grad():
        return tensor.copy_(eye(*tensor.shape, dtype=tensor.dtype))


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal one (Saxe et al. 2013), as
    PyTorch: rows x (the other dimensions flattened), scaled by gain. The normal draw comes from
    fastgrad's generator; the decomposition of that initial value is numpy's (initialisation, not an
    op of a graph)."""
    import numpy as np
    from ..random import randn
    from ..tensor import tensor as as_tensor
    if _tensor(tensor, "orthogonal_").ndim < 2:
        raise ValueError("orthogonal_: only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = randn(rows, cols, generator=generator, dtype=tensor.dtype).numpy().astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))   # makes the decomposition unique (and the draw uniform)
    if rows < cols:
        q = q.T
    with no_grad():
        return tensor.copy_(as_tensor((q * gain).reshape(tensor.shape), dtype=tensor.dtype))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_tensor(tensor, "xavier_uniform_"))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_tensor(tensor, "xavier_normal_"))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _fan(_tensor(tensor, "kaiming_uniform_"), mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _fan(_tensor(tensor, "kaiming_normal_"), mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return normal_(tensor, 0.0, std, generator)

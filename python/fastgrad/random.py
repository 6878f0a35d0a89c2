"""Random numbers: fg.Generator and the functions that draw from one.

Every draw is a C kernel (csrc/random.inc, Philox4x32-10) reading and advancing a generator's state,
two int64 {seed, offset} in a C buffer: a captured step that replays a draw gets new numbers, and
the same seed gives the same numbers eager or replayed, on any thread count. fg.manual_seed(s)
seeds the default generator (and the numpy generator behind host-side choices such as a
DataLoader's shuffle order); each function takes `generator=` for a generator of its own.
"""
import numbers

import numpy as np

from ._C import ffi, lib
from . import tensor as _tensor
from .dtypes import as_dtype, default_float, int64, kernels
from .tensor import Tensor, _checked_shape, as_device, empty, size_arg


# PyTorch's seed of a new generator, the default one included: a program that never seeds draws the
# same numbers on every run (PyTorch's numbers are other ones: its generator is another algorithm).
DEFAULT_SEED = 67280421310721


class Generator:
    """A random-number generator: fg.Generator().manual_seed(0), then generator= on any draw. A new
    one starts from DEFAULT_SEED, as PyTorch's; seed() picks a non-deterministic seed."""

    def __init__(self, device="cpu"):
        as_device(device)
        self._state = ffi.new("int64_t[2]")
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = _check_seed(seed)
        self._state[0], self._state[1] = seed, 0
        self._initial_seed = seed
        return self

    def seed(self):
        """A fresh non-deterministic seed, returned."""
        seed = int.from_bytes(np.random.default_rng().bytes(8), "little") >> 1
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """The state as an int64 tensor of two elements {seed, offset}: set_state() restores it."""
        return _tensor.tensor([self._state[0], self._state[1]], dtype=int64)

    def set_state(self, state):
        values = state.tolist() if isinstance(state, Tensor) else list(state)
        if len(values) != 2 or not all(isinstance(v, numbers.Integral) for v in values):
            raise ValueError("Generator.set_state expects the two int64 that get_state() returns")
        self._state[0], self._state[1] = int(values[0]), int(values[1])
        return self

    @property
    def device(self):
        return _tensor._CPU


def _check_seed(seed):
    if isinstance(seed, Tensor):
        seed = seed.item()
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"a seed must be an integer, got {type(seed).__name__}")
    seed = int(seed)
    if not -2**63 <= seed < 2**64:
        raise ValueError(f"seed {seed} does not fit 64 bits")
    return seed - 2**64 if seed >= 2**63 else seed   # the same 64 bits, as int64


default_generator = Generator()


def manual_seed(seed):
    """Seeds every random draw fastgrad makes: tensors, layer initialisation, dropout, shuffling."""
    default_generator.manual_seed(seed)
    _tensor.seed_host_generator(_check_seed(seed) & (2**63 - 1))
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _state(generator):
    if generator is None:
        return default_generator._state
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a fastgrad Generator, got {type(generator).__name__}")
    return generator._state


def _new(shape, dtype, requires_grad, device, what):
    if device is not None:
        as_device(device)
    dtype = default_float() if dtype is None else as_dtype(dtype)
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError(f"{what}: only floating-point tensors can require gradients, got {dtype!r}")
    return empty(_checked_shape(shape), dtype), dtype


def _draw(t, dist, a, b, generator, what):
    """Fills float tensor t from dist in place, by the kernel."""
    if not t._dtype.is_floating_point:
        raise TypeError(f"{what}: needs a floating-point tensor, got {t._dtype!r}")
    if t._numel:
        t._dtype.k.random(t._buf, _state(generator), dist, a, b, t._numel)
    return t


def _real(x, what):
    if type(x) is float:   # randn's defaults, and most arguments: no ABC check
        return x
    if isinstance(x, Tensor):
        x = x.item()
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}")
    return float(x)


def rand(*shape, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    t, _ = _new(size_arg(shape, size, "rand"), dtype, requires_grad, device, "rand")
    _draw(t, lib.FG_UNIFORM, 0.0, 1.0, generator, "rand")
    t.requires_grad = bool(requires_grad)
    return t


def randn(*shape, size=None, mean=0.0, std=1.0, generator=None, dtype=None, device=None, requires_grad=False):
    """Normally distributed with the given mean and standard deviation (0 and 1 by default)."""
    t, _ = _new(size_arg(shape, size, "randn"), dtype, requires_grad, device, "randn")
    _draw(t, lib.FG_NORMAL, _real(mean, "randn: mean"), _real(std, "randn: std"), generator, "randn")
    t.requires_grad = bool(requires_grad)
    return t


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad=False, *, out=None):
    """fg.normal(mean, std, size) with numbers, or PyTorch's tensor forms normal(mean_tensor, std),
    normal(mean, std_tensor), normal(mean_tensor, std_tensor): one draw per element of the broadcast
    shape, mean + std * N(0, 1) (not differentiable, as PyTorch's normal is not for its mean/std)."""
    if out is not None:
        raise TypeError("normal: out= is not supported")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        from .autograd import no_grad
        like = mean if isinstance(mean, Tensor) else std
        if not like.dtype.is_floating_point:
            raise RuntimeError(f"normal expects floating point mean and std, got {like.dtype!r}")
        with no_grad():
            m = mean.detach() if isinstance(mean, Tensor) else mean
            s = std.detach() if isinstance(std, Tensor) else std
            if isinstance(s, Tensor) and bool((s < 0).any()) or not isinstance(s, Tensor) and s < 0:
                raise RuntimeError("normal expects all elements of std >= 0.0")
            shape = tuple(np.broadcast_shapes(getattr(m, "shape", ()), getattr(s, "shape", ())))
            out = m + s * randn(shape, generator=generator, dtype=like.dtype)
        return out
    if size is None:
        raise TypeError("normal: give size=(...) with numbers for mean and std")
    return randn(size, mean=mean, std=std, generator=generator, dtype=dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, generator=None, requires_grad=False):
    return rand(t._shape, dtype=t._dtype if dtype is None else dtype, generator=generator, requires_grad=requires_grad)


def randn_like(t, dtype=None, generator=None, requires_grad=False):
    return randn(t._shape, dtype=t._dtype if dtype is None else dtype, generator=generator, requires_grad=requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform integers in [low, high): randint(high, size) or randint(low, high, size), as PyTorch."""
    if size is None:   # randint(high, size)
        if high is None:
            raise TypeError("randint: expects randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, Tensor):
            v = v.item()
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"randint: {name} must be an integer, got {type(v).__name__}")
    low, high = int(low), int(high)
    if not low < high:
        raise ValueError(f"randint: needs low < high, got low={low}, high={high}")
    if not (-2**63 <= low and high <= 2**63):
        raise ValueError(f"randint: [{low}, {high}) does not fit int64")
    size = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    t, out_dtype = _new(size, int64 if dtype is None else dtype, requires_grad, device, "randint")
    target = t if out_dtype is int64 else empty(t._shape, int64, t._numel)
    if t._numel:
        int64.k.randint(target._buf, _state(generator), low, high, t._numel)
    if target is not t:
        kernels.cast(t._buf, out_dtype.code, target._buf, int64.code, t._numel)
    t.requires_grad = bool(requires_grad)
    return t


def randint_like(t, low, high=None, dtype=None, generator=None):
    return randint(low, high, t._shape, dtype=t._dtype if dtype is None else dtype, generator=generator)


def randperm(n, generator=None, dtype=int64, device=None, requires_grad=False):
    """A random permutation of 0..n-1."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative integer, got {n!r}")
    t, out_dtype = _new((int(n),), dtype, requires_grad, device, "randperm")
    target = t if out_dtype is int64 else empty(t._shape, int64, t._numel)
    int64.k.randperm(target._buf, _state(generator), int(n))
    if target is not t:
        kernels.cast(t._buf, out_dtype.code, target._buf, int64.code, t._numel)
    t.requires_grad = bool(requires_grad)
    return t


def multinomial(input, num_samples, replacement=False, generator=None):
    """num_samples category indices per row of non-negative weights (1-D or 2-D input), int64."""
    if not isinstance(input, Tensor) or not input._dtype.is_floating_point or input.ndim not in (1, 2):
        raise TypeError("multinomial: input must be a 1-D or 2-D floating-point fastgrad tensor of weights")
    if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive integer, got {num_samples!r}")
    rows, cats = (1, input._shape[0]) if input.ndim == 1 else input._shape
    if cats == 0:
        raise ValueError("multinomial: the input has no categories")
    if not replacement and num_samples > cats:
        raise ValueError(f"multinomial: cannot take {num_samples} samples from {cats} categories without replacement")
    weights = input.numpy().reshape(rows, cats)   # checked here, as every op checks its input, before the kernel
    if not np.all(np.isfinite(weights)) or (weights < 0).any():
        raise ValueError("multinomial: weights must be finite and non-negative")
    positive = (weights > 0).sum(axis=1)
    if (positive == 0).any() or (not replacement and (positive < num_samples).any()):
        raise ValueError("multinomial: each row needs a positive sum (and, without replacement, at least "
                         "num_samples positive weights)")
    out = empty((num_samples,) if input.ndim == 1 else (rows, num_samples), int64)
    input._dtype.k.multinomial(out._buf, input._buf, _state(generator), rows, cats, int(num_samples),
                               int(bool(replacement)))
    return out


def bernoulli_mask(shape, p, scale, dtype, generator=None):
    """scale where a uniform draw is >= p, else 0: dropout's kept-and-scaled mask, in one kernel."""
    t = empty(shape, dtype)
    if t._numel:
        dtype.k.random(t._buf, _state(generator), lib.FG_KEEP_MASK, p, scale, t._numel)
    return t


# ---- in place: t.uniform_(), t.normal_() (nn.init builds on these) ------------------------------------
def uniform_(t, a=0.0, b=1.0, generator=None):
    from .inplace import draw_in_place
    return draw_in_place(t, lambda x: _draw(x, lib.FG_UNIFORM, _real(a, "uniform_: a"), _real(b, "uniform_: b"),
                                            generator, "uniform_"), "uniform_")


def normal_(t, mean=0.0, std=1.0, generator=None):
    from .inplace import draw_in_place
    if _real(std, "normal_: std") < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    return draw_in_place(t, lambda x: _draw(x, lib.FG_NORMAL, _real(mean, "normal_: mean"), float(std), generator,
                                            "normal_"), "normal_")


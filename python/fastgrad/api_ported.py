"""Functions that programs written for PyTorch call, composed from existing ops (so their gradients
and captured replay come from those ops): fg.linalg (its own file, linalg.py), torch.special's
common functions (fg.special), sliding windows (Tensor.unfold), tensor_split, and the counting
and searching functions isin, bincount, bucketize and searchsorted. The counting ones compare
every element with every boundary or test value: O(n·m) work, meant for the sizes of labels and
bin edges, not for sorting large arrays."""
import numbers
import sys
import types

from . import functions as _fn, pointwise as _pointwise
from .dtypes import float64, int64
from .ops._checks import tensor_arg
from .ops.shape import stack
from .tensor import Tensor, ones, tensor as _tensor, zeros

__all__ = ["linalg", "special", "isin", "bincount", "bucketize", "searchsorted", "tensor_split", "xlogy", "logit"]


def _as_tensor(x, like):
    return x if isinstance(x, Tensor) else _tensor(x, dtype=like.dtype if like.dtype.is_floating_point else None)


def _module(name, doc, **functions):
    """A namespace importable as PyTorch's is (`import fastgrad.linalg as LA`, `from fastgrad.special
    import expit`): a module registered under fastgrad's name."""
    module = types.ModuleType(f"fastgrad.{name}", doc)
    vars(module).update(functions)
    module.__all__ = list(functions)
    sys.modules[module.__name__] = module
    return module


from . import linalg  # noqa: E402 (fastgrad/linalg.py: torch.linalg, its norms included)


# ---- torch.special's common functions ----------------------------------------------------------------
def xlogy(input, other):
    """input · log(other), and 0 where input is 0 unless other is NaN (as PyTorch)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy: expects a fastgrad Tensor, got {type(input).__name__} and {type(other).__name__}")
    input, other = (_as_tensor(input, other) if not isinstance(input, Tensor) else input,
                    _as_tensor(other, input) if not isinstance(other, Tensor) else other)
    product = input * other.log()
    return _fn.where((input == 0) & ~other.isnan(), zeros(1, dtype=product.dtype), product)


def logit(input, eps=None):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given."""
    tensor_arg(input, "logit")
    p = input if eps is None else input.clamp(eps, 1 - eps)
    return (p / (1 - p)).log()


special = _module(
    "special", "torch.special's common functions.", expit=_fn.sigmoid, logit=logit, xlogy=xlogy,
    erf=_pointwise.erf, erfc=_pointwise.erfc, erfinv=_pointwise.erfinv, log1p=_fn.log1p, expm1=_fn.expm1,
    exp2=_fn.exp2, logsumexp=_fn.logsumexp, softmax=_fn.softmax, log_softmax=_fn.log_softmax)


# ---- windows and splits -----------------------------------------------------------------------------
def unfold(self, dimension, size, step):
    """Tensor.unfold: the windows of `size` elements every `step` along dimension, as a new last
    dimension (the windows replace dimension), as PyTorch: narrows stacked."""
    tensor_arg(self, "unfold")
    dim = dimension % self.ndim if self.ndim else 0
    length = self.shape[dim] if self.ndim else 1
    for name, v in (("size", size), ("step", step)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < (0 if name == "size" else 1):
            raise ValueError(f"unfold: {name} must be an integer >= {0 if name == 'size' else 1}, got {v!r}")
    if size > length:
        raise ValueError(f"unfold: size {size} is larger than dimension {dimension} of shape {self.shape}")
    x = self if self.ndim else self.reshape(1)
    windows = [x.narrow(dim, start, size) for start in range(0, length - size + 1, step)]
    return stack(windows, dim).movedim(dim + 1, -1)


def tensor_split(input, indices_or_sections, dim=0):
    """Pieces along dim: n sections (the first length % n of them one longer), or split before each
    index; views, as PyTorch."""
    tensor_arg(input, "tensor_split")
    dim %= input.ndim
    length = input.shape[dim]
    if isinstance(indices_or_sections, numbers.Integral) and not isinstance(indices_or_sections, bool):
        n = int(indices_or_sections)
        if n < 1:
            raise ValueError(f"tensor_split: the number of sections must be at least 1, got {n}")
        size, extra = divmod(length, n)
        bounds = [i * size + min(i, extra) for i in range(n + 1)]
    else:
        bounds = [0] + [min(max(int(i), 0), length) for i in indices_or_sections] + [length]
    return tuple(input.narrow(dim, lo, max(hi - lo, 0)) for lo, hi in zip(bounds, bounds[1:]))


# ---- counting and searching ---------------------------------------------------------------------------
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element equals one of test_elements (a bool tensor of elements' shape)."""
    elements = elements if isinstance(elements, Tensor) else _tensor(elements)
    test = test_elements if isinstance(test_elements, Tensor) else _tensor(test_elements)
    found = (elements.unsqueeze(-1) == test.reshape(-1)).any(-1) if test.numel() else zeros(elements.shape).bool()
    return ~found if invert else found


def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-D tensor of non-negative integers (weights summed instead when
    given): one index_add."""
    tensor_arg(input, "bincount")
    if input.dtype is not int64 or input.ndim != 1:
        raise ValueError(f"bincount: expects a 1-D int64 tensor, got {input.dtype!r} of shape {input.shape}")
    if input.numel() and int(input.min()) < 0:
        raise ValueError("bincount: the input must hold non-negative integers")
    length = max(int(input.max()) + 1 if input.numel() else 0, int(minlength))
    if weights is None:
        return zeros(length, dtype=float64).index_add(0, input, ones(input.shape[0], dtype=float64)).to(int64)
    if not isinstance(weights, Tensor) or weights.shape != input.shape:
        raise ValueError(f"bincount: weights must be a tensor of the input's shape {input.shape}")
    dtype = weights.dtype if weights.dtype.is_floating_point else float64
    return zeros(length, dtype=dtype).index_add(0, input, weights.to(dtype))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The index of each value's bucket among sorted 1-D boundaries: the count of boundaries below
    it (right=False: boundaries[i-1] < x <= boundaries[i]) or at or below it (right=True)."""
    tensor_arg(boundaries, "bucketize")
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, right=right)   # the same count, the arguments swapped


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each value would be inserted into the sorted last dimension to keep it sorted: the
    count of entries below it (side 'left') or at or below it ('right'), per row of a batched
    sequence."""
    tensor_arg(sorted_sequence, "searchsorted")
    if sorter is not None:
        raise NotImplementedError("searchsorted: sorter= is not supported; sort the sequence first")
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        right = side == "right"
    v = values if isinstance(values, Tensor) else _tensor(values, dtype=sorted_sequence.dtype)
    s = sorted_sequence
    if s.ndim > 1:   # one sorted row per row of values
        if v.shape[:-1] != s.shape[:-1]:
            raise ValueError(f"searchsorted: values' leading dimensions {v.shape[:-1]} must match the sequence's "
                             f"{s.shape[:-1]}")
        s = s.unsqueeze(-2)
    return ((v.unsqueeze(-1) >= s) if right else (v.unsqueeze(-1) > s)).to(int64).sum(-1)

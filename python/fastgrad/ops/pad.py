"""F.pad: one op for the four modes (constant, reflect, replicate, circular), one C call forward and
one backward (csrc/pad.inc). The checks are PyTorch's, with messages that name the shapes."""
import numbers

from .._C import lib
from ..autograd import Op, grad_buffer_or_null
from ..tensor import Tensor, empty

PAD_MODES = {"constant": lib.FG_PAD_CONSTANT, "reflect": lib.FG_PAD_REFLECT, "replicate": lib.FG_PAD_REPLICATE,
             "circular": lib.FG_PAD_CIRCULAR}


class Pad(Op):
    """Pads the last len(pad) // 2 dimensions of x: pad = (left, right) of the last dimension, then of
    the one before, ... (PyTorch's order). Negative amounts crop."""

    def __init__(self, pad, mode="constant", value=None):
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x):
        op, pad, mode = "pad", self.pad, self.mode
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: input must be a fastgrad Tensor, got {type(x).__name__}")
        if not x._dtype.is_floating_point:
            raise TypeError(f"{op}: input must be float32 or float64, got {x._dtype!r}")
        if not isinstance(pad, (tuple, list)) or not all(
                isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in pad):
            raise TypeError(f"{op}: pad must be a tuple of ints, got {pad!r}")
        if mode not in PAD_MODES:
            raise NotImplementedError(f"{op}: unrecognised padding mode {mode!r} (expected one of "
                                      f"{', '.join(PAD_MODES)})")
        if len(pad) % 2:
            raise ValueError(f"{op}: padding length must be divisible by 2, got {len(pad)} ({tuple(pad)})")
        nd, shape = len(pad) // 2, x.shape
        if nd > x.ndim:
            raise ValueError(f"{op}: padding length {len(pad)} is more than two times the input's {x.ndim} "
                             f"dimensions (shape {shape})")
        value = self.value
        if mode != "constant":
            if value is not None and value != 0:
                raise ValueError(f"{op}: padding mode {mode!r} doesn't take a value, got value={value!r}")
            if nd not in (1, 2, 3) or x.ndim not in (nd + 1, nd + 2):
                raise NotImplementedError(f"{op}: padding size {len(pad)} is not supported for a {x.ndim}-D input "
                                          f"(shape {shape}) in mode {mode!r}: {mode} pads the last 1, 2 or 3 "
                                          f"dimensions of a (N, C, ...) or (C, ...) input")
        elif value is not None and not isinstance(value, numbers.Real):
            raise TypeError(f"{op}: value must be a number, got {value!r}")
        pads = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(nd)][::-1]   # first padded dim first
        sizes = shape[x.ndim - nd:]
        out_sizes = tuple(s + a + b for s, (a, b) in zip(sizes, pads))
        for d, (s, (a, b), o) in enumerate(zip(sizes, pads, out_sizes)):
            dim = x.ndim - nd + d
            if o < (0 if mode in ("constant", "circular") else 1):
                raise ValueError(f"{op}: padding {(a, b)} of dimension {dim} (size {s}) of input {shape} gives "
                                 f"an output size of {o}")
            if mode == "reflect" and (a >= s or b >= s):
                raise ValueError(f"{op}: reflect padding {(a, b)} must be less than the size {s} of dimension "
                                 f"{dim} of input {shape}")
            if mode == "circular" and (a > s or b > s or (max(a, 0) + max(b, 0) and s + min(a, 0) + min(b, 0) < 1)):
                raise ValueError(f"{op}: circular padding {(a, b)} of dimension {dim} (size {s}) of input {shape} "
                                 f"wraps around more than once")
        if mode in ("reflect", "replicate") and 0 in shape[1:]:
            raise ValueError(f"{op}: {mode} padding needs non-empty dimensions after the first, got input {shape}")
        if mode == "circular" and 0 in sizes and any(pads):
            raise ValueError(f"{op}: circular padding of an empty dimension, input {shape}")
        outer = 1
        for s in shape[:x.ndim - nd]:
            outer *= s
        out = empty(shape[:x.ndim - nd] + out_sizes, x.dtype)
        if nd == 0:   # F.pad(x, ()) is a copy
            nd, sizes, out_sizes, pads = 1, (1,), (1,), [(0, 0)]
        self.code = PAD_MODES[mode]
        self.geometry = [outer, nd, *sizes, *out_sizes, *(a for a, _ in pads)]
        if out._numel:
            x.dtype.k.pad(out._buf, x._buf, self.geometry, self.code, float(value or 0.0))
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        dx = grad_buffer_or_null(x)
        if g._numel and x._numel:
            x.dtype.k.pad_backward(dx, g._buf, self.geometry, self.code)

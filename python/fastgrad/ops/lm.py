"""The language-model layers' ops: LayerNorm, the smooth activations (one class over one kernel
with an op code), F.normalize and scaled dot-product attention. Each is one C kernel forward and one
backward (csrc/norm_act.inc); Python checks arguments and decides shapes."""
import math
import numbers

import numpy as np

from .._C import ffi, lib
from ..autograd import Op, grad_buffer, grad_buffer_or_null, grad_targets, is_grad_enabled
from ..dtypes import bool_
from ..tensor import Tensor, empty, tensor
from ._checks import float_arg, same_dtype, tensor_arg


def _real(value, op, name, positive=False):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value) or (
            positive and value <= 0):
        raise ValueError(f"{op}: {name} must be a finite{' positive' if positive else ''} number, got {value!r}")
    return float(value)


class LayerNorm(Op):
    """(x - mean)·rstd·weight + bias over the trailing dimensions `normalized_shape`; mean and rstd
    are kept for backward."""

    def __init__(self, normalized_shape, eps=1e-5):
        if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not all(
                isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in normalized_shape):
            raise ValueError(f"layer_norm: normalized_shape must be an int or a tuple of non-negative ints, got "
                             f"{normalized_shape!r}")
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        self.eps = _real(eps, "layer_norm", "eps")
        if self.eps < 0:
            raise ValueError(f"layer_norm: eps must be >= 0, got {eps!r}")

    def forward(self, x, weight=None, bias=None):
        x = float_arg(x, "layer_norm")
        ns = self.normalized_shape
        if not ns or x._shape[x.ndim - len(ns):] != ns or len(ns) > x.ndim:
            raise ValueError(f"layer_norm: normalized_shape {ns} must be the trailing dimensions of the input, got "
                             f"input of shape {x.shape}")
        for name, p in (("weight", weight), ("bias", bias)):
            if p is not None and (not isinstance(p, Tensor) or p._shape != ns or p._dtype is not x._dtype):
                raise ValueError(f"layer_norm: {name} must be a {x.dtype!r} tensor of shape {ns}, got "
                                 f"{(p.shape, p.dtype) if isinstance(p, Tensor) else type(p).__name__}")
        if bias is not None and weight is None:
            weight = tensor(np.ones(ns), dtype=x.dtype)   # the kernel adds a bias only after a weight
        cols = math.prod(ns)
        rows = x._numel // cols if cols else 0
        out = empty(x._shape, x._dtype)
        self.mean, self.rstd = empty((rows,), x.dtype), empty((rows,), x.dtype)
        x.dtype.k.layer_norm(out._buf, self.mean._buf, self.rstd._buf, x._buf,
                             weight._buf if weight is not None else ffi.NULL,
                             bias._buf if bias is not None else ffi.NULL, self.eps, rows, cols)
        self.rows_cols = rows, cols
        params = tuple(p for p in (weight, bias) if p is not None)
        self.has = (weight is not None, bias is not None)
        return self.record(out, x, *params)

    def _backward(self, g):
        x, *params = self.inputs
        weight = params[0] if self.has[0] else None
        bias = params[-1] if self.has[1] else None
        dweight = grad_buffer_or_null(weight) if weight is not None else ffi.NULL
        dbias = grad_buffer_or_null(bias) if bias is not None else ffi.NULL
        (dx, accumulate_dx), = grad_targets(x)
        x.dtype.k.layer_norm_backward(dx, dweight, dbias, g._buf, x._buf, self.mean._buf, self.rstd._buf,
                                      weight._buf if weight is not None else ffi.NULL, accumulate_dx, *self.rows_cols)


class Activation(Op):
    """A pointwise activation from csrc/norm_act.inc, chosen by name: gelu (approximate 'none' or
    'tanh'), silu, logsigmoid, softplus(beta, threshold), and PyTorch's piecewise ones (hardtanh ...
    hardshrink, parameters a and b as fastgrad.h's enum fg_act_op says). When a gradient will be needed,
    forward also keeps the slope act'(x) (computed with the value, sharing its exp or erf), and
    backward is one multiply."""
    CODES = {"gelu": lib.FG_ACT_GELU, "gelu_tanh": lib.FG_ACT_GELU_TANH, "silu": lib.FG_ACT_SILU,
             "logsigmoid": lib.FG_ACT_LOGSIGMOID, "softplus": lib.FG_ACT_SOFTPLUS,
             # the piecewise ones (nn/functional.py checks their parameters a, b)
             "hardtanh": lib.FG_ACT_HARDTANH, "hardsigmoid": lib.FG_ACT_HARDSIGMOID,
             "hardswish": lib.FG_ACT_HARDSWISH, "mish": lib.FG_ACT_MISH, "selu": lib.FG_ACT_SELU,
             "celu": lib.FG_ACT_CELU, "softsign": lib.FG_ACT_SOFTSIGN, "threshold": lib.FG_ACT_THRESHOLD,
             "tanhshrink": lib.FG_ACT_TANHSHRINK, "softshrink": lib.FG_ACT_SOFTSHRINK,
             "hardshrink": lib.FG_ACT_HARDSHRINK}
    reads = ()   # backward reads the slope it made, not x

    def __init__(self, name, a=0.0, b=0.0):
        self.name, self.code, self.a, self.b = name, self.CODES[name], a, b

    def forward(self, x):
        x = float_arg(x, self.name)
        out = empty(x._shape, x._dtype, x._numel)
        self.slope = empty(x._shape, x._dtype, x._numel) if x.requires_grad and is_grad_enabled() else None
        x._dtype.k.act(out._buf, self.slope._buf if self.slope is not None else ffi.NULL, x._buf, self.code, self.a,
                       self.b, x._numel)
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        (dx, accumulate), = grad_targets(x)
        x._dtype.k.act_backward(dx, g._buf, self.slope._buf, accumulate, x._numel)


def gelu_op(approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Activation("gelu" if approximate == "none" else "gelu_tanh")


def softplus_op(beta=1.0, threshold=20.0):
    return Activation("softplus", _real(beta, "softplus", "beta", positive=True),
                      _real(threshold, "softplus", "threshold"))


def _dim(dim, ndim, op):
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool) or not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim!r} is out of range for a tensor of {ndim} dimensions")
    return dim % max(ndim, 1)


class Normalize(Op):
    """x / max(||x||_p, eps) along dim; the norms are kept for backward."""

    def __init__(self, p=2.0, dim=1, eps=1e-12):
        self.p = _real(p, "normalize", "p", positive=True)
        self.eps = _real(eps, "normalize", "eps")
        self.dim = dim

    def forward(self, x):
        x = float_arg(x, "normalize")
        d = _dim(self.dim, x.ndim, "normalize")
        shape = x.shape or (1,)
        self.sizes = (math.prod(shape[:d]), shape[d], math.prod(shape[d + 1:]))
        out = empty(x._shape, x._dtype)
        self.norm = empty((self.sizes[0] * self.sizes[2],), x.dtype)
        x.dtype.k.normalize(out._buf, self.norm._buf, x._buf, self.p, self.eps, *self.sizes)
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        x.dtype.k.normalize_backward(grad_buffer(x), g._buf, x._buf, self.norm._buf, self.p, self.eps, *self.sizes)


class ScaledDotProductAttention(Op):
    """softmax(q·kᵀ·scale + mask)·v over the last two dimensions, q (..., L, E), k (..., S, E),
    v (..., S, Ev), the leading dimensions equal. attn_mask: bool (True takes part) or float
    (added), broadcastable to (..., L, S); is_causal keeps column j <= row i. The probabilities are
    kept for backward (the fused causal path skips the masked columns in the softmax)."""

    def __init__(self, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
        self.attn_mask, self.is_causal = attn_mask, bool(is_causal)
        self.dropout_p = _real(dropout_p, "scaled_dot_product_attention", "dropout_p")
        if not 0 <= self.dropout_p <= 1:
            raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p!r}")
        self.scale = None if scale is None else _real(scale, "scaled_dot_product_attention", "scale")
        if attn_mask is not None and is_causal:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both "
                             "(PyTorch refuses both too)")

    def forward(self, q, k, v):
        op = "scaled_dot_product_attention"
        for name, t in (("query", q), ("key", k), ("value", v)):
            tensor_arg(t, op, name)
            if t.ndim < 2 or not t.dtype.is_floating_point:
                raise ValueError(f"{op}: {name} must be a floating-point tensor of at least 2 dimensions, got shape "
                                 f"{t.shape} and dtype {t.dtype!r}")
        same_dtype(op, q, k, v)
        lead = q._shape[:-2]
        if k._shape[:-2] != lead or v._shape[:-2] != lead or k._shape[-1] != q._shape[-1] or v._shape[-2] != k._shape[-2]:
            raise ValueError(f"{op}: shapes do not fit: query {q.shape}, key {k.shape}, value {v.shape} (expected "
                             f"(..., L, E), (..., S, E), (..., S, Ev) with the same leading dimensions)")
        batch, (tq, d), (tk, dv) = math.prod(lead), q._shape[-2:], v._shape[-2:]
        dt = q.dtype
        self.scale_ = self.scale if self.scale is not None else 1.0 / math.sqrt(d) if d else 1.0
        self.sizes = (batch, tq, tk, d, dv)
        add_mask = bool_mask = offsets = ffi.NULL
        row_stride = col_stride = 0
        if self.attn_mask is not None:
            m = self.attn_mask
            if not isinstance(m, Tensor) or (m.dtype is not bool_ and m.dtype is not dt):
                raise TypeError(f"{op}: attn_mask must be a bool tensor or a {dt!r} tensor, got "
                                f"{m.dtype if isinstance(m, Tensor) else type(m).__name__}")
            full = lead + (tq, tk)
            if m.ndim > len(full) or any(a != b and a != 1 for a, b in zip(m.shape[::-1], full[::-1])):
                raise ValueError(f"{op}: attn_mask of shape {m.shape} does not broadcast to {full}")
            shape = (1,) * (len(full) - m.ndim) + m.shape
            strides, step = [0] * len(full), 1   # element strides of the mask over `full`, 0 where broadcast
            for i in range(len(full) - 1, -1, -1):
                strides[i] = step if shape[i] != 1 else 0
                step *= shape[i]
            row_stride, col_stride = strides[-2], strides[-1]
            idx = np.indices(lead, dtype=np.int64).reshape(len(lead), -1) if lead else np.zeros((0, 1), np.int64)
            self.offsets = np.ascontiguousarray((np.asarray(strides[:-2], np.int64)[:, None] * idx).sum(0)
                                                if lead else np.zeros(1, np.int64))
            offsets = ffi.from_buffer("int64_t[]", self.offsets)
            self.mask = tensor(m, dtype=m.dtype)   # the op's own copy
            if m.dtype is bool_:
                bool_mask = ffi.cast("uint8_t *", self.mask._buf)
            else:
                add_mask = self.mask._buf
        self.keep = None
        keep = ffi.NULL
        if self.dropout_p > 0:
            from ..random import bernoulli_mask   # random.py imports the ops: import it when first needed
            p = self.dropout_p
            self.keep = bernoulli_mask((batch, tq, tk), p, 1 / (1 - p) if p < 1 else 0.0, dt)
            keep = self.keep._buf
        out = empty(lead + (tq, dv), dt)
        self.probs = empty((batch, tq, tk), dt)
        if dt.k.attention(out._buf, self.probs._buf, q._buf, k._buf, v._buf, add_mask, bool_mask, offsets, row_stride,
                          col_stride, keep, self.scale_, self.is_causal, *self.sizes):
            raise MemoryError(f"scaled_dot_product_attention: no memory for its scratch rows (sizes {self.sizes})")
        return self.record(out, q, k, v)

    def _backward(self, g):
        q, k, v = self.inputs
        if q.dtype.k.attention_backward(grad_buffer_or_null(q), grad_buffer_or_null(k), grad_buffer_or_null(v), g._buf,
                                        self.probs._buf, q._buf, k._buf, v._buf,
                                        self.keep._buf if self.keep is not None else ffi.NULL, self.scale_,
                                        self.is_causal, *self.sizes):
            raise MemoryError(f"scaled_dot_product_attention backward: no memory for its scratch rows "
                              f"(sizes {self.sizes})")

"""The language-model layers and containers: LayerNorm, GELU, SiLU, Softplus, LogSigmoid,
ModuleList, ModuleDict and (compositions of the above) MultiheadAttention and
TransformerEncoderLayer."""
import math
import numbers
from collections import OrderedDict

import numpy as np

from .. import _changes, ops
from ..creation import empty
from ..dtypes import bool_
from ..tensor import Tensor, tensor, zeros
from . import functional as F
from . import init
from .modules import Dropout, Linear, Module, _check_module


class LayerNorm(Module):
    """Normalizes over the trailing `normalized_shape` dimensions; weight starts at 1, bias at 0."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        self.normalized_shape = ops.LayerNorm(normalized_shape, eps).normalized_shape   # checks both
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = tensor(np.ones(self.normalized_shape), dtype=dtype, requires_grad=True)
            if bias:
                self.bias = tensor(np.zeros(self.normalized_shape), dtype=dtype, requires_grad=True)

    def forward(self, x):
        return ops.LayerNorm(self.normalized_shape, self.eps).forward(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GELU(Module):
    def __init__(self, approximate="none"):
        ops.gelu_op(approximate)   # checks it
        self.approximate = approximate

    def forward(self, x):
        return ops.gelu_op(self.approximate).forward(x)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    def __init__(self, inplace=False):
        pass

    def forward(self, x):
        return ops.Activation("silu").forward(x)


class LogSigmoid(Module):
    def forward(self, x):
        return ops.Activation("logsigmoid").forward(x)


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        ops.softplus_op(beta, threshold)
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return ops.softplus_op(self.beta, self.threshold).forward(x)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class ModuleList(Module):
    """A list of modules whose parameters the parent sees, named 0, 1, ... as in PyTorch."""

    def __init__(self, modules=None):
        self._list = []
        for m in modules or ():
            self.append(m)

    def named_children(self):
        return ((str(i), m) for i, m in enumerate(self._list))

    # each change to the list counts as a module change: captured plans recheck their guards
    def append(self, module):
        self._list.append(_check_module(module, "ModuleList.append"))
        _changes.changed()
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        self._list.insert(index, _check_module(module, "ModuleList.insert"))
        _changes.changed()

    def __getitem__(self, i):
        return ModuleList(self._list[i]) if isinstance(i, slice) else self._list[i]

    def __setitem__(self, i, module):
        self._list[i] = _check_module(module, "ModuleList")
        _changes.changed()

    def __delitem__(self, i):
        del self._list[i]
        _changes.changed()

    def __len__(self):
        return len(self._list)

    def __iter__(self):
        return iter(self._list)

    def __iadd__(self, modules):
        return self.extend(modules)


class ModuleDict(Module):
    """An ordered dict of modules (keys are strings), named by key."""

    def __init__(self, modules=None):
        self._dict = OrderedDict()
        if modules is not None:
            self.update(modules)

    def named_children(self):
        return iter(list(self._dict.items()))

    def __getattr__(self, name):   # (only for names that are not attributes) d.encoder is d["encoder"]
        modules = self.__dict__.get("_dict")
        if modules is not None and name in modules:
            return modules[name]
        raise AttributeError(f"'ModuleDict' object has no attribute or key {name!r}")

    def __setattr__(self, name, value):
        if isinstance(value, Module):
            self[name] = value   # d.encoder = layer, as torch registers it: a key
        else:
            super().__setattr__(name, value)

    def __setitem__(self, key, module):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        self._dict[key] = _check_module(module, "ModuleDict")
        _changes.changed()   # captured plans recheck their guards

    def __getitem__(self, key):
        return self._dict[key]

    def __delitem__(self, key):
        del self._dict[key]
        _changes.changed()

    def __contains__(self, key):
        return key in self._dict

    def __len__(self):
        return len(self._dict)

    def __iter__(self):
        return iter(self._dict)

    def keys(self):
        return self._dict.keys()

    def values(self):
        return self._dict.values()

    def items(self):
        return self._dict.items()

    def pop(self, key):
        module = self._dict.pop(key)
        _changes.changed()
        return module

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for key, m in items:
            self[key] = m


def _positive_int(value, where, name):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


class MultiheadAttention(Module):
    """PyTorch's nn.MultiheadAttention: project query, key and value, attend per head, project back.
    Parameters are named as PyTorch's (in_proj_weight (3E, E), or q_proj_weight, k_proj_weight,
    v_proj_weight when kdim or vdim differ from embed_dim; in_proj_bias; out_proj.weight/bias), in
    the same order, so state dicts load both ways. Masks follow PyTorch: a bool attn_mask or
    key_padding_mask is True where attention is NOT allowed, a float one is added to the scores.
    With need_weights=False the heads go through F.scaled_dot_product_attention's fused kernel;
    with need_weights=True through softmax(q·kᵀ/√d + mask)·v, whose weights are returned."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        where = "MultiheadAttention"
        self.embed_dim = _positive_int(embed_dim, where, "embed_dim")
        self.num_heads = _positive_int(num_heads, where, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"{where}: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{where}: dropout must be a probability in [0, 1], got {dropout!r}")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(f"{where}: add_bias_kv and add_zero_attn are not supported")
        self.kdim = embed_dim if kdim is None else _positive_int(kdim, where, "kdim")
        self.vdim = embed_dim if vdim is None else _positive_int(vdim, where, "vdim")
        self.dropout, self.batch_first, self.head_dim = float(dropout), bool(batch_first), embed_dim // num_heads
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        E = embed_dim

        def matrix(rows, cols):   # PyTorch's init: xavier uniform for the input projections
            return init.xavier_uniform_(empty(rows, cols, dtype=dtype, device=device)).requires_grad_()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = matrix(3 * E, E)
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight, self.k_proj_weight = matrix(E, E), matrix(E, self.kdim)
            self.v_proj_weight = matrix(E, self.vdim)
            self.in_proj_weight = None
        self.in_proj_bias = zeros(3 * E, dtype=dtype).requires_grad_() if bias else None
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self.out_proj = Linear(E, E, bias=bias, device=device, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        where = "MultiheadAttention"
        for name, t, width in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{where}: {name} must be a fastgrad Tensor, got {type(t).__name__}")
            if t.ndim not in (2, 3) or t.ndim != query.ndim or t._shape[-1] != width:
                raise ValueError(f"{where}: {name} must be ({'N, L' if self.batch_first else 'L, N'}, {width}) or "
                                 f"unbatched (L, {width}) like query, got shape {t.shape}")
            if not t.dtype.is_floating_point or t.dtype is not query.dtype:
                raise TypeError(f"{where}: query, key and value must have one floating-point dtype, got "
                                f"{query.dtype!r}, {key.dtype!r}, {value.dtype!r}")
        batched = query.ndim == 3
        if not batched:   # one sequence: a batch of one, batch first
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None and isinstance(key_padding_mask, Tensor):
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        N, L, E = query._shape
        if key._shape[:2] != value._shape[:2] or key._shape[0] != N:
            raise ValueError(f"{where}: key and value must hold the same batch and length as each other and the "
                             f"query's batch, got query {tuple(query.shape)}, key {tuple(key.shape)}, value "
                             f"{tuple(value.shape)} (batch first)")
        S, H, hd = key._shape[1], self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{where}: is_causal is a hint that attn_mask is the causal mask; give attn_mask "
                               f"too (as PyTorch requires)")
        mask = self._merged_mask(attn_mask, key_padding_mask, N, L, S, query.dtype)

        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = self.in_proj_weight.split(E)
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.split(E)
        if self._qkv_same_embed_dim and query is key is value:   # self-attention: one product
            q, k, v = F.linear(query, self.in_proj_weight, self.in_proj_bias).split(E, dim=-1)
        else:
            q, k, v = F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)
        q, k, v = (t.reshape(N, -1, H, hd).transpose(1, 2) for t in (q, k, v))   # (N, H, length, hd)
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            weights = F.softmax(scores if mask is None else scores + mask, dim=-1)
            y = (F.dropout(weights, dropout_p) if dropout_p > 0 else weights) @ v
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights.squeeze(0)
        else:
            causal_only = is_causal and key_padding_mask is None
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None if causal_only else mask, dropout_p=dropout_p,
                                               is_causal=causal_only)
        out = self.out_proj(y.transpose(1, 2).reshape(N, L, E))
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    @staticmethod
    def _merged_mask(attn_mask, key_padding_mask, N, L, S, dtype):
        """attn_mask and key_padding_mask as one additive float mask broadcastable to (N, H, L, S)
        (bool: -inf where True), or None."""
        where = "MultiheadAttention"
        merged = None
        for name, m in (("attn_mask", attn_mask), ("key_padding_mask", key_padding_mask)):
            if m is None:
                continue
            if not isinstance(m, Tensor) or (m.dtype is not bool_ and m.dtype is not dtype):
                raise TypeError(f"{where}: {name} must be a bool tensor or a {dtype!r} tensor, got "
                                f"{m.dtype if isinstance(m, Tensor) else type(m).__name__}")
            if m.dtype is bool_:
                m = zeros(m.shape, dtype=dtype).masked_fill(m, float("-inf"))
            if name == "key_padding_mask":
                if m.shape != (N, S):
                    raise ValueError(f"{where}: key_padding_mask must have shape ({N}, {S}) (batch, key length), "
                                     f"got {tuple(m.shape)}")
                m = m.reshape(N, 1, 1, S)
            elif m.shape == (L, S):
                m = m.reshape(1, 1, L, S)
            elif m.ndim == 3 and m.shape[1:] == (L, S) and m.shape[0] % max(N, 1) == 0 and m.shape[0] // max(N, 1):
                m = m.reshape(N, -1, L, S)
            else:
                raise ValueError(f"{where}: attn_mask must have shape ({L}, {S}) or (batch * num_heads, {L}, {S}), "
                                 f"got {tuple(m.shape)}")
            merged = m if merged is None else merged + m
        return merged


def activation_arg(activation, where):
    """A transformer layer's activation: "relu", "gelu" or a callable, as a callable."""
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise ValueError(f"{where}: activation should be relu/gelu, not {activation!r}")
        return F.relu if activation == "relu" else F.gelu
    if not callable(activation):
        raise TypeError(f"{where}: activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def transformer_layer_init(layer, where, attentions, d_model, nhead, dim_feedforward, dropout, activation,
                           layer_norm_eps, batch_first, norm_first, bias, device, dtype):
    """A transformer layer's submodules, named and ordered as PyTorch's: its attentions (self_attn,
    and a decoder's multihead_attn), the feed-forward block (linear1, dropout, linear2), then one
    LayerNorm (norm1, norm2, ...) and one Dropout (dropout1, ...) per block."""
    _positive_int(dim_feedforward, where, "dim_feedforward")
    for name in attentions:
        setattr(layer, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                device=device, dtype=dtype))
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
    layer.norm_first = bool(norm_first)
    blocks = range(1, len(attentions) + 2)
    for i in blocks:
        setattr(layer, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
    for i in blocks:
        setattr(layer, f"dropout{i}", Dropout(dropout))
    layer.activation = activation_arg(activation, where)


class TransformerEncoderLayer(Module):
    """PyTorch's nn.TransformerEncoderLayer: self-attention (MultiheadAttention) and a feed-forward
    block (linear1, activation, linear2), each with dropout and a residual connection, LayerNorm
    after each (norm_first=False) or before (norm_first=True). Submodules named as PyTorch's
    (self_attn, linear1, linear2, norm1, norm2), so state dicts load both ways."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        transformer_layer_init(self, "TransformerEncoderLayer", ("self_attn",), d_model, nhead, dim_feedforward,
                               dropout, activation, layer_norm_eps, batch_first, norm_first, bias, device, dtype)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

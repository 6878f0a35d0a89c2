"""Differential fuzzer: random op graphs run by fastgrad and by PyTorch, forward and backward.

Each case (seeded: case i of seed s is always the same graph) draws one to three leaves of random
shapes (0, 1, primes, broadcastable), values mixed with special ones (±0, ±inf, NaN, huge, tiny),
float32 or float64, then applies a few random ops from OPS, reduces to a weighted sum and calls
backward(). It runs on a random kernel path with 1 thread and again with 2 (the results must be the
same bits), and compares values and gradients with PyTorch's: within a tolerance, with NaN where
PyTorch has NaN and infinities of the same sign.

Each case also runs a structured graph (run_structured_case): one op that needs shapes and
arguments of its own (conv1d/conv2d with stride, padding, dilation and groups; max, average and
adaptive pooling; batch_norm training and eval; indexing with ints, slices, None, Ellipsis, int
tensors and bool masks, setitem, index_select, gather, scatter_add, masked_select; embedding with
padding_idx; scaled_dot_product_attention causal or masked; layer_norm; exact gelu; chains of
movement ops), perhaps followed by shape-keeping ops, checked the same way.

    python tests/fuzz.py --cases 5000 [--seed 0]     # a long run; prints findings, exits 1 on any
tests/test_fuzz.py runs a few hundred cases in CI.

Documented differences from PyTorch the graphs steer around (each said where drawn): a signed sum of
±1e30 and O(1) terms rounds by summation order (no ±1e30 into those ops); fastgrad multiplies by a convolution's
zero padding (NaN·0 = NaN) where PyTorch skips those taps; attention never reads a dropped entry
(causal, masked) where PyTorch adds -inf to its score and multiplies its 0 weight by v; an infinite
layer_norm weight gives gradients whose inf or NaN depends on the formula's grouping.
"""
import argparse
import math
import sys
import warnings

import numpy as np

import fastgrad as fg

# Tiny values stay at 1e-17: PyTorch's division backward squares the divisor (a/b² overflows in float32
# once a > 3.4e38·b², for b = 1e-19 at a = 3.4) and gets NaN where the exact gradient (and fastgrad's,
# which divides twice instead: README) is finite.
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-17, 3.0, -2.5])


def _pick_shape(rng):
    sizes = [0, 1, 2, 3, 5, 7]
    ndim = int(rng.integers(1, 4))
    return tuple(int(rng.choice(sizes, p=[0.05, 0.15, 0.2, 0.25, 0.2, 0.15])) for _ in range(ndim))


def _broadcast_partner(rng, shape):
    """A shape that broadcasts with `shape`: some dimensions 1, maybe fewer of them."""
    out = [1 if rng.random() < 0.3 else d for d in shape]
    drop = int(rng.integers(0, len(out) + 1)) if rng.random() < 0.3 else 0
    return tuple(out[drop:])


def _values(rng, shape, special):
    a = np.array(rng.standard_normal(shape) * 2)
    if special is not False and a.size:
        mask = np.array(rng.random(shape) < 0.15)
        a[mask] = rng.choice(SPECIAL if special is True else special, size=int(mask.sum()))
    return a


# The structured ops that sum many inputs (conv, pools, normalisation, attention, scatter_add) get
# the special values without the huge finite ones: ±1e30 beside O(1) terms cancel, and which O(1)
# terms survive depends on the summation order, so no two libraries agree on that result (nor is
# either right). inf and NaN still go in, and the pure movement, indexing and max ops keep ±1e30.
NOT_HUGE = SPECIAL[np.abs(SPECIAL) != 1e30]


# ---- the ops: (name, arity, applies(shapes) -> bool, fastgrad fn, torch fn) ----------------------------
def _last_dim_ok(shapes):
    return len(shapes[0]) >= 1


def _matmul_ok(shapes):
    a, b = shapes
    return len(a) >= 1 and len(b) >= 2 and a[-1] == b[-2]


def _dim(shape, rng):
    return int(rng.integers(-len(shape), len(shape))) if shape else 0


OPS = [
    ("add", 2, None, lambda a, b: a + b, lambda a, b: a + b),
    ("sub", 2, None, lambda a, b: a - b, lambda a, b: a - b),
    ("mul", 2, None, lambda a, b: a * b, lambda a, b: a * b),
    ("div", 2, None, lambda a, b: a / b, lambda a, b: a / b),
    ("maximum", 2, None, lambda a, b: fg.maximum(a, b), lambda a, b: __import__("torch").maximum(a, b)),
    ("scalar_mul", 1, None, lambda a: a * 1.5 - 0.25, lambda a: a * 1.5 - 0.25),
    ("relu", 1, None, lambda a: a.relu(), lambda a: a.relu()),
    ("tanh", 1, None, lambda a: a.tanh(), lambda a: a.tanh()),
    ("sigmoid", 1, None, lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    ("exp", 1, None, lambda a: a.exp(), lambda a: a.exp()),
    ("log_abs", 1, None, lambda a: a.abs().log(), lambda a: a.abs().log()),
    ("sqrt_abs", 1, None, lambda a: a.abs().sqrt(), lambda a: a.abs().sqrt()),
    ("square", 1, None, lambda a: a * a, lambda a: a * a),
    ("neg", 1, None, lambda a: -a, lambda a: -a),
    ("clamp", 1, None, lambda a: a.clamp(-1.0, 2.0), lambda a: a.clamp(-1.0, 2.0)),
    ("softmax", 1, _last_dim_ok, lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
    ("log_softmax", 1, _last_dim_ok, lambda a: a.log_softmax(-1), lambda a: a.log_softmax(-1)),
    ("sum_last", 1, _last_dim_ok, lambda a: a.sum(-1), lambda a: a.sum(-1)),
    ("mean_first", 1, _last_dim_ok, lambda a: a.mean(0, keepdim=True), lambda a: a.mean(0, keepdim=True)),
    ("transpose", 1, lambda s: len(s[0]) >= 2, lambda a: a.transpose(0, -1), lambda a: a.transpose(0, -1)),
    ("flatten", 1, None, lambda a: a.reshape(-1), lambda a: a.reshape(-1)),
    ("matmul", 2, _matmul_ok, lambda a, b: a @ b, lambda a, b: a @ b),
]


# the math helper's ops (reductions keep the dim, so shapes stay as they are, bar empty dims)
def _nonempty_last(shapes):
    return len(shapes[0]) >= 1 and shapes[0][-1] > 0


def _nonempty_first(shapes):
    return len(shapes[0]) >= 1 and shapes[0][0] > 0


OPS += [
    ("minimum", 2, None, lambda a, b: fg.minimum(a, b), lambda a, b: __import__("torch").minimum(a, b)),
    ("pow_abs", 2, None, lambda a, b: a.abs() ** b, lambda a, b: a.abs() ** b),
    ("where", 2, None, lambda a, b: fg.where(a > b, a, b * 0.5),
     lambda a, b: __import__("torch").where(a > b, a, b * 0.5)),
    ("logsumexp_last", 1, _last_dim_ok, lambda a: a.logsumexp(-1, keepdim=True),
     lambda a: a.logsumexp(-1, keepdim=True)),
    ("max_last", 1, _nonempty_last, lambda a: a.max(-1, keepdim=True).values,
     lambda a: a.max(-1, keepdim=True).values),
    ("amin_first", 1, _nonempty_first, lambda a: a.amin(0, keepdim=True), lambda a: a.amin(0, keepdim=True)),
    ("cumsum_first", 1, _last_dim_ok, lambda a: a.cumsum(0), lambda a: a.cumsum(0)),
    ("sin", 1, None, lambda a: a.sin(), lambda a: a.sin()),
]


# the language-model and shape helpers' ops that keep the shape. Left out on purpose: layer_norm (its
# statistics are summed in double, so rows holding ±1e30 normalise where PyTorch's float32 overflows
# to NaN) and exact gelu (it reaches values near 1e-23 that PyTorch's float32 erfc rounds to -0.0,
# which a later pow or log turns into an infinity): both are fastgrad being more precise.
def _torch_f():
    return __import__("torch").nn.functional


def _two_dims(shapes):
    return len(shapes[0]) >= 2


OPS += [
    ("gelu_tanh", 1, None, lambda a: fg.nn.functional.gelu(a, approximate="tanh"),
     lambda a: _torch_f().gelu(a, approximate="tanh")),
    ("silu", 1, None, lambda a: fg.nn.functional.silu(a), lambda a: _torch_f().silu(a)),
    ("softplus", 1, None, lambda a: fg.nn.functional.softplus(a), lambda a: _torch_f().softplus(a)),
    ("logsigmoid", 1, None, lambda a: fg.nn.functional.logsigmoid(a), lambda a: _torch_f().logsigmoid(a)),
    ("tril", 1, _two_dims, lambda a: a.tril(), lambda a: a.tril()),
    ("flip_first", 1, _last_dim_ok, lambda a: a.flip(0), lambda a: a.flip(0)),
    ("roll_last", 1, _last_dim_ok, lambda a: a.roll(1, -1), lambda a: a.roll(1, -1)),
]


# the chain ops that add terms of either sign (softmax's and logsumexp's sums are of positive terms)
_SUMMING = {"sum_last", "mean_first", "cumsum_first", "matmul"}


def _partner_for(name, rng, shape):
    if name == "matmul":
        return shape[-1:] + (int(rng.choice([1, 2, 3, 5])),) if shape else (1, 1)
    return _broadcast_partner(rng, shape)


def run_case(case, seed=0):
    """One case; returns a list of findings (empty when fastgrad agrees with PyTorch)."""
    import torch

    rng = np.random.default_rng([seed, case])
    dtype = fg.float32 if rng.random() < 0.5 else fg.float64
    tdtype = torch.float32 if dtype is fg.float32 else torch.float64
    special = rng.random() < 0.5
    leaves = [_values(rng, _pick_shape(rng), special)]
    program = []   # (op index, operand: a leaf index or None)
    shape = leaves[0].shape
    for _ in range(int(rng.integers(1, 6))):
        i = int(rng.integers(len(OPS)))
        name, arity, ok, _, _ = OPS[i]
        if arity == 2:
            other = _partner_for(name, rng, shape)
            if (ok and not ok((shape, other))) or _broadcast_fails(shape, other, name):
                continue
            leaves.append(_values(rng, other, special))
            program.append((i, len(leaves) - 1))
            shape = _result_shape(name, shape, other)
        else:
            if ok and not ok((shape,)):
                continue
            program.append((i, None))
            shape = _unary_shape(name, shape)
    weights = rng.uniform(-1, 1, size=shape)
    if any(OPS[i][0] in _SUMMING for i, _ in program):   # no ±1e30 into signed sums (see NOT_HUGE)
        leaves = [np.where(np.abs(l) == 1e30, np.sign(l) * 3.0, l) for l in leaves]
    paths = fg.backend.available_kernel_paths()
    path = paths[int(rng.integers(len(paths)))]
    description = (f"case {case} (seed {seed}): {dtype!r}, path {path}, leaves "
                   f"{[l.shape for l in leaves]}, ops {[OPS[i][0] for i, _ in program]}")

    def run_fastgrad():
        xs = [fg.tensor(l, dtype=dtype, requires_grad=True) for l in leaves]
        out = xs[0]
        for i, operand in program:
            fn = OPS[i][3]
            out = fn(out, xs[operand]) if operand is not None else fn(out)
        (out * fg.tensor(weights, dtype=dtype)).sum().backward()
        return out.numpy().copy(), [None if x.grad is None else x.grad.numpy().copy() for x in xs]

    def run_torch():
        xs = [torch.tensor(l, dtype=tdtype, requires_grad=True) for l in leaves]
        out = xs[0]
        for i, operand in program:
            fn = OPS[i][4]
            out = fn(out, xs[operand]) if operand is not None else fn(out)
        (out * torch.tensor(weights, dtype=tdtype)).sum().backward()
        return out.detach().numpy().copy(), [None if x.grad is None else x.grad.numpy().copy() for x in xs]

    # gelu_tanh of inputs below about -5 computes 0.5·x·(1 + tanh(u)) with tanh(u) near -1 in both
    # libraries: the cancellation leaves each float64 result right to 9 digits or fewer, rounded
    # differently (their tanh differ), and a later pow or log amplifies that
    rtol64 = 1e-5 if any(OPS[i][0] == "gelu_tanh" for i, _ in program) else 1e-8
    return _differential(description, leaves, dtype, path, run_fastgrad, run_torch, rtol64)


def _differential(description, leaves, dtype, path, run_fastgrad, run_torch, rtol64=1e-8):
    """Runs fastgrad on `path` with 1 and 2 threads (same bits) and compares with PyTorch, with the
    tolerance of `dtype` (PyTorch may have run in float64 as the reference for float32). Each run
    returns (values: an array or a list of them, grads: one array or None per leaf)."""
    before_path, before_threads = fg.kernel_path(), fg.get_num_threads()
    try:
        fg.set_kernel_path(path)
        results = []
        for threads in (1, 2):
            fg.set_num_threads(threads)
            results.append(run_fastgrad())
    finally:
        fg.set_kernel_path(before_path)
        fg.set_num_threads(before_threads)
    findings = []
    (outs1, grads1), (outs2, grads2) = results
    outs1, outs2 = _as_list(outs1), _as_list(outs2)
    if not all(_same_bits(a, b) for a, b in zip(outs1 + grads1, outs2 + grads2) if a is not None):
        findings.append(f"{description}: 1 and 2 threads differ")
    expected_outs, expected_grads = run_torch()
    for k, (got, want) in enumerate(zip(outs1, _as_list(expected_outs))):
        problem = _compare(got, want, dtype, "value" if k == 0 else f"value {k}", rtol64)
        if problem:
            findings.append(f"{description}: {problem}")
    for k, (got, want) in enumerate(zip(grads1, expected_grads)):
        if want is None:
            want = np.zeros_like(leaves[k])
        if got is None:
            got = np.zeros_like(leaves[k])
        problem = _compare(got, want, dtype, f"grad of leaf {k}", rtol64)
        if problem:
            findings.append(f"{description}: {problem}")
    return findings


def _as_list(values):
    return list(values) if isinstance(values, (list, tuple)) else [values]


# ---- structured graphs: the ops that need shapes and arguments of their own ----------------------
# A generator draws one op's arguments and returns (leaves, build, reference64): build(lib, xs) runs
# the op on the leaf tensors xs, with lib a _Lib for fastgrad or PyTorch (the same code serves both,
# as fastgrad keeps PyTorch's names), and returns its output, or a tuple of it and other tensors to
# compare (indices, running statistics). reference64: PyTorch runs in float64 as the reference, for
# ops where fastgrad computes in double internally and PyTorch's float32 does not (layer_norm's
# statistics overflow to NaN at ±1e30; exact gelu's erfc rounds values near 1e-23 to -0.0).
class _Lib:
    def __init__(self, torch, dtype):
        self.torch = torch
        if torch is None:
            self.m, self.F, self.dtype = fg, fg.nn.functional, dtype
        else:
            self.m, self.F = torch, torch.nn.functional
            self.dtype = torch.float32 if dtype is fg.float32 else torch.float64

    def leaf(self, a):
        return self.m.tensor(a, dtype=self.dtype, requires_grad=True)

    def const(self, a):
        return self.m.tensor(a, dtype=self.dtype)

    def index(self, a):   # int64 or bool numpy array
        return self.m.tensor(a)

    def numpy(self, t):
        return (t.numpy() if self.torch is None else t.detach().numpy()).copy()


def _ints(rng, low, high, size=None):
    return rng.integers(low, high, size=size) if high > low else np.zeros(size or (), dtype=np.int64)


def _pair(rng, low, high, n):
    return tuple(int(rng.integers(low, high)) for _ in range(n))


def _gen_conv(rng, special):
    special = NOT_HUGE if special is not False else False
    spatial = int(rng.integers(1, 3))
    groups = int(rng.choice([1, 1, 2, 3]))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k, stride, dilation = _pair(rng, 1, 4, spatial), _pair(rng, 1, 4, spatial), _pair(rng, 1, 3, spatial)
    u = rng.random()
    if u < 0.1:
        padding, pads, stride = "same", (0,) * spatial, (1,) * spatial   # PyTorch: 'same' only unstrided
    elif u < 0.2:
        padding, pads = "valid", (0,) * spatial
    else:
        padding = pads = _pair(rng, 0, 3, spatial)
    sizes = tuple(max(1, d * (kk - 1) + 1 - 2 * p) + int(rng.integers(0, 5)) for d, kk, p in zip(dilation, k, pads))
    n = int(rng.choice([0, 1, 2, 3], p=[0.05, 0.45, 0.3, 0.2]))
    shape = ((n,) if rng.random() < 0.85 else ()) + (cin,) + sizes
    # fastgrad multiplies by the zero padding, PyTorch's CPU convolution skips those taps: an inf or
    # NaN weight (forward) or output gradient (the weight's gradient) gives NaN there in fastgrad
    # only (a documented difference), so no special values when there is padding
    if padding == "same" or any(pads):
        special = False
    leaves = [_values(rng, shape, special), _values(rng, (cout, cin // groups) + k, special)]
    if rng.random() < 0.6:
        leaves.append(_values(rng, (cout,), special))
    conv = "conv1d" if spatial == 1 else "conv2d"

    def build(lib, xs):
        bias = xs[2] if len(xs) > 2 else None
        return getattr(lib.F, conv)(xs[0], xs[1], bias, stride=stride, padding=padding, dilation=dilation,
                                    groups=groups)
    return leaves, build, False


def _pool_input(rng, special, k, pads, dilation):
    sizes = tuple(max(1, d * (kk - 1) + 1 - 2 * p) + int(rng.integers(0, 5)) for d, kk, p in zip(dilation, k, pads))
    lead = (int(rng.integers(1, 3)),) if rng.random() < 0.8 else ()
    return _values(rng, lead + (int(rng.integers(1, 4)),) + sizes, special)


def _gen_max_pool(rng, special):
    k = _pair(rng, 1, 4, 2)
    stride = None if rng.random() < 0.3 else _pair(rng, 1, 4, 2)
    pads = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    dilation = _pair(rng, 1, 3, 2)
    ceil_mode, return_indices = bool(rng.random() < 0.3), bool(rng.random() < 0.3)
    leaves = [_pool_input(rng, special, k, pads, dilation)]
    if not all(_windows_touch_input(*a, ceil_mode) for a in zip(leaves[0].shape[-2:], k, stride or k, pads, dilation)):
        # PyTorch 2.13's backward corrupts its heap on a window wholly in the padding (fastgrad's is
        # tested in test_fuzz_findings.py): no such windows here
        dilation, ceil_mode = (1, 1), False

    def build(lib, xs):
        return lib.F.max_pool2d(xs[0], k, stride, pads, dilation, ceil_mode=ceil_mode,
                                return_indices=return_indices)
    return leaves, build, False


def _windows_touch_input(size, k, s, p, d, ceil_mode):
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return all(any(0 <= o * s - p + j * d < size for j in range(k)) for o in range(out))


def _gen_avg_pool(rng, special):
    special = NOT_HUGE if special is not False else False
    k = _pair(rng, 1, 4, 2)
    stride = None if rng.random() < 0.3 else _pair(rng, 1, 4, 2)
    pads = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    ceil_mode, include = bool(rng.random() < 0.3), bool(rng.random() < 0.7)
    leaves = [_pool_input(rng, special, k, pads, (1, 1))]

    def build(lib, xs):
        return lib.F.avg_pool2d(xs[0], k, stride, pads, ceil_mode=ceil_mode, count_include_pad=include)
    return leaves, build, False


def _gen_adaptive_pool(rng, special):
    special = NOT_HUGE if special is not False else False
    out = int(rng.integers(1, 6)) if rng.random() < 0.4 else (int(rng.integers(1, 6)),
                                                              None if rng.random() < 0.2 else int(rng.integers(1, 6)))
    leaves = [_pool_input(rng, special, (1, 1), (0, 0), (1, 1))]
    return leaves, lambda lib, xs: lib.F.adaptive_avg_pool2d(xs[0], out), False


def _gen_batch_norm(rng, special):
    special = NOT_HUGE if special is not False else False
    c, training = int(rng.integers(1, 5)), bool(rng.random() < 0.6)
    spatial = _pair(rng, 1, 4, int(rng.integers(0, 3)))
    n = int(rng.integers(2 if training and math.prod(spatial) == 1 else 1, 5))
    leaves = [_values(rng, (n, c) + spatial, special)]
    affine = rng.random() < 0.6
    if affine:
        leaves += [_values(rng, (c,), special), _values(rng, (c,), special)]
    running = not training or rng.random() < 0.5
    mean, var = rng.standard_normal(c), rng.uniform(0.2, 2.0, c)
    momentum, eps = float(rng.choice([0.1, 0.5])), float(rng.choice([1e-5, 1e-3]))

    def build(lib, xs):
        stats = (lib.const(mean), lib.const(var)) if running else (None, None)
        out = lib.F.batch_norm(xs[0], *stats, xs[1] if affine else None, xs[2] if affine else None,
                               training=training, momentum=momentum, eps=eps)
        return (out,) + (stats if running else ())
    # no ops after it: an output gradient that overflows (exp of a square) gives inf - inf in the
    # statistics' terms, NaN or ±inf by how the formula is grouped (fastgrad's and PyTorch's differ)
    build.alone = True
    return leaves, build, False


def _advanced_index(rng, shape, unique=False):
    """A random index expression for a tensor of `shape`: ints, slices, None, an Ellipsis, int
    tensors (broadcast together) or one bool mask. Index arrays are numpy (the build converts).
    unique: no element selected twice (for setitem, where PyTorch leaves duplicates unspecified)."""
    items, dim = [], 0
    tensors = "none" if rng.random() < 0.4 else ("mask" if rng.random() < 0.4 else "int")
    index_shape = _pair(rng, 0 if rng.random() < 0.1 else 1, 4, int(rng.integers(1, 3)))
    if unique:
        index_shape = index_shape[:1]
    used_tensor = False
    while dim < len(shape):
        d, u = shape[dim], rng.random()
        if rng.random() < 0.15:
            items.append(None)
        if tensors == "mask" and not used_tensor and u < 0.5:
            k = int(rng.integers(1, min(2, len(shape) - dim) + 1))
            items.append(rng.random(shape[dim:dim + k]) < 0.5)
            used_tensor, dim = True, dim + k
            continue
        if tensors == "int" and u < 0.45 and d > 0 and not (unique and used_tensor):
            if unique:
                items.append(rng.permutation(d)[:int(rng.integers(0, d + 1))] - d * int(rng.random() < 0.3))
            else:
                shape_here = tuple(1 if rng.random() < 0.3 else s for s in index_shape)
                items.append(_ints(rng, -d, d, shape_here))
            used_tensor = True
        elif u < 0.65 and d > 0:
            items.append(int(rng.integers(-d, d)))
        elif u < 0.9:
            start = int(rng.integers(-d - 1, d + 2)) if rng.random() < 0.6 else None
            stop = int(rng.integers(-d - 1, d + 2)) if rng.random() < 0.6 else None
            items.append(slice(start, stop, int(rng.choice([1, 1, 2, 3])) if rng.random() < 0.5 else None))
        else:
            items.append(slice(None))
        dim += 1
    if rng.random() < 0.3:   # a run of full slices becomes an Ellipsis
        full = [i for i, it in enumerate(items) if isinstance(it, slice) and it == slice(None)]
        if full:
            items[full[0]] = Ellipsis
            items = [it for i, it in enumerate(items)
                     if i <= full[0] or not (isinstance(it, slice) and it == slice(None))]
    while items and rng.random() < 0.3 and isinstance(items[-1], slice):
        items.pop()   # trailing dims left out
    return tuple(items)


def _to_lib_index(lib, index):
    return tuple(lib.index(it) if isinstance(it, np.ndarray) else it for it in index)


def _np_index_shape(shape, index):
    return np.empty(shape)[tuple(it for it in index)].shape


def _gen_getitem(rng, special):
    x = _values(rng, _pick_shape(rng), special)
    index = _advanced_index(rng, x.shape)

    def build(lib, xs):
        return (xs[0] * 1.5)[_to_lib_index(lib, index)]
    return [x], build, False


def _gen_setitem(rng, special):
    x = _values(rng, _pick_shape(rng), special)
    index = _advanced_index(rng, x.shape, unique=True)
    target = _np_index_shape(x.shape, index)
    scalar = rng.random() < 0.2
    leaves = [x] if scalar else [x, _values(rng, _broadcast_partner(rng, target), special)]

    def build(lib, xs):
        y = xs[0] * 1.0
        y[_to_lib_index(lib, index)] = 2.5 if scalar else xs[1]
        return y.tanh()
    return leaves, build, False


def _gen_index_select(rng, special):
    x = _values(rng, _pick_shape(rng), special)
    dim = _dim(x.shape, rng)
    index = _ints(rng, 0, x.shape[dim], int(rng.integers(0, 6)))
    return [x], lambda lib, xs: xs[0].index_select(dim, lib.index(index)), False


def _index_along(rng, x):
    """A random dim of x and an index for gather/scatter_add along it: up to 3 entries along dim,
    at most x's size along the others (none when x is empty along dim)."""
    dim = _dim(x.shape, rng)
    shape = tuple(int(rng.integers(0, 4)) if i == dim % x.ndim else int(rng.integers(0, s + 1))
                  for i, s in enumerate(x.shape))
    if x.shape[dim] == 0:
        shape = tuple(0 if i == dim % x.ndim else s for i, s in enumerate(shape))
    return dim, _ints(rng, 0, x.shape[dim], shape)


def _gen_gather(rng, special):
    x = _values(rng, _pick_shape(rng), special)
    dim, index = _index_along(rng, x)
    return [x], lambda lib, xs: xs[0].gather(dim, lib.index(index)), False


def _gen_scatter_add(rng, special):
    special = NOT_HUGE if special is not False else False
    x = _values(rng, _pick_shape(rng), special)
    dim, index = _index_along(rng, x)
    # src has index's shape: PyTorch's backward refuses a larger src (its gradient has index's shape)
    src = _values(rng, index.shape, special)
    return [x, src], lambda lib, xs: xs[0].scatter_add(dim, lib.index(index), xs[1]), False


def _gen_masked_select(rng, special):
    x = _values(rng, _pick_shape(rng), special)
    mask = rng.random(_broadcast_partner(rng, x.shape)) < 0.5
    return [x], lambda lib, xs: (xs[0] * 2.0).masked_select(lib.index(mask)), False


def _gen_embedding(rng, special):
    num, dim = int(rng.integers(1, 7)), int(rng.integers(0, 5))
    weight = _values(rng, (num, dim), special)
    indices = _ints(rng, 0, num, _pair(rng, 0, 4, int(rng.integers(0, 3))))
    padding_idx = int(rng.integers(-num, num)) if rng.random() < 0.5 else None

    def build(lib, xs):   # max_norm and scale_grad_by_freq: not supported (NotImplementedError, README)
        return lib.F.embedding(lib.index(indices), xs[0], padding_idx=padding_idx)
    return [weight], build, False


def _gen_attention(rng, special):
    special = NOT_HUGE if special is not False else False
    batch = _pair(rng, 1, 4, int(rng.integers(0, 3)))
    L, S, E, Ev = (int(rng.integers(1, 6)) for _ in range(4))
    u = rng.random()
    causal, mask = u < 0.3, None
    if 0.3 <= u < 0.65:
        mask_shape = _broadcast_partner(rng, batch + (L, S))
        mask_shape = (1,) * (2 - len(mask_shape)) + mask_shape   # PyTorch refuses masks of fewer than 2 dims
        if rng.random() < 0.5:
            mask = rng.random(mask_shape) < 0.7
        else:
            mask = np.where(rng.random(mask_shape) < 0.2, -np.inf, rng.standard_normal(mask_shape))
    # fastgrad never computes a dropped entry (causal, a False in a boolean mask, a row all -inf):
    # PyTorch adds -inf to its score and multiplies its 0 weight by v, so an inf or NaN in q, k or v
    # there makes its row NaN (a documented difference). No special values then.
    dropping = causal or (mask is not None and (mask.dtype == bool or np.isinf(mask).any()))
    leaves = [_values(rng, shape, special if not dropping else False) for shape in (batch + (L, E), batch + (S, E),
                                                                            batch + (S, Ev))]
    scale = None if rng.random() < 0.7 else float(rng.choice([0.5, 2.0]))

    def build(lib, xs):
        m = None if mask is None else lib.index(mask) if mask.dtype == bool else lib.const(mask)
        if lib.torch is None:
            return lib.F.scaled_dot_product_attention(*xs, attn_mask=m, is_causal=causal, scale=scale)
        # PyTorch's math backend: its fused CPU kernel gives a query row whose scores are all NaN 0
        # instead of NaN (fastgrad and the math backend: NaN)
        from torch.nn.attention import SDPBackend, sdpa_kernel
        with sdpa_kernel(SDPBackend.MATH):
            return lib.F.scaled_dot_product_attention(*xs, attn_mask=m, is_causal=causal, scale=scale)
    return leaves, build, False


def _gen_layer_norm(rng, special):
    special = NOT_HUGE if special is not False else False
    x = _values(rng, _pick_shape(rng), special)
    normalized = x.shape[-int(rng.integers(1, min(2, x.ndim) + 1)):]
    affine = rng.random() < 0.6
    # finite weight and bias: an infinite weight makes the input's gradient a sum of infinities whose
    # sign or NaN depends on how the formula is grouped (fastgrad's gives the exact limit's ±inf
    # where PyTorch's gives NaN, and the other way round)
    leaves = [x] + ([_values(rng, normalized, False), _values(rng, normalized, False)] if affine else [])
    eps = float(rng.choice([1e-5, 1e-3]))

    def build(lib, xs):
        return lib.F.layer_norm(xs[0], normalized, *(xs[1:] if affine else (None, None)), eps=eps)
    return leaves, build, True


def _gen_gelu(rng, special):
    return [_values(rng, _pick_shape(rng), special)], lambda lib, xs: lib.F.gelu(xs[0]), True


# movement ops inside a graph: each draws its arguments from the current shape and may add a leaf
def _move_view(rng, shape, new_leaf):
    n = math.prod(shape)
    dims = []
    while n > 1 and len(dims) < 3:
        f = [d for d in range(2, n + 1) if n % d == 0]
        dims.append(int(rng.choice(f)))
        n //= dims[-1]
    dims = [d for d in dims] + ([n] if n != 1 else []) or [n]
    rng.shuffle(dims)
    if rng.random() < 0.3:
        dims.insert(int(rng.integers(0, len(dims) + 1)), 1)
    if math.prod(shape) == 0:
        dims = [0, int(rng.integers(1, 4))]
    new = tuple(int(d) for d in dims)
    return (lambda lib, y, xs: y.contiguous().view(*new)), new


def _move_permute(rng, shape, new_leaf):
    perm = tuple(int(i) for i in rng.permutation(len(shape)))
    return (lambda lib, y, xs: y.permute(*perm)), tuple(shape[i] for i in perm)


def _move_transpose(rng, shape, new_leaf):
    i, j = (_dim(shape, rng) for _ in range(2))
    new = list(shape)
    new[i], new[j] = new[j], new[i]
    return (lambda lib, y, xs: y.transpose(i, j)), tuple(new)


def _move_expand(rng, shape, new_leaf):
    new = tuple(int(rng.integers(1, 4)) if d == 1 else d for d in shape)
    if rng.random() < 0.4:
        new = (int(rng.integers(0, 3)),) + new
    if rng.random() < 0.3:
        lead = len(new) - len(shape)
        sizes = new[:lead] + tuple(-1 if d == s else d for d, s in zip(new[lead:], shape))
    else:
        sizes = new
    return (lambda lib, y, xs: y.expand(*sizes)), new


def _move_cat(rng, shape, new_leaf):
    dim = _dim(shape, rng)
    other = tuple(int(rng.integers(0, 4)) if i == dim % len(shape) else d for i, d in enumerate(shape))
    k = new_leaf(other)
    first = rng.random() < 0.5
    new = tuple(d + other[i] if i == dim % len(shape) else d for i, d in enumerate(shape))
    return (lambda lib, y, xs: lib.m.cat([xs[k], y] if first else [y, xs[k]], dim)), new


def _move_stack(rng, shape, new_leaf):
    dim = int(rng.integers(-len(shape) - 1, len(shape) + 1))
    k = new_leaf(shape)
    new = list(shape)
    new.insert(dim % (len(shape) + 1), 2)
    return (lambda lib, y, xs: lib.m.stack([y, xs[k]], dim)), tuple(new)


def _move_split(rng, shape, new_leaf):
    dim = _dim(shape, rng)
    d = shape[dim]
    size = int(rng.integers(1, max(d, 1) + 1))
    pieces = [size] * (d // size) + ([d % size] if d % size else []) or [0]
    k = int(rng.integers(len(pieces)))
    new = tuple(pieces[k] if i == dim % len(shape) else s for i, s in enumerate(shape))
    return (lambda lib, y, xs: y.split(size, dim)[k]), new


def _move_squeeze(rng, shape, new_leaf):
    ones = [i for i, d in enumerate(shape) if d == 1]
    if ones and rng.random() < 0.6:
        i = int(rng.choice(ones))
        return (lambda lib, y, xs: y.squeeze(i)), shape[:i] + shape[i + 1:]
    i = int(rng.integers(-len(shape) - 1, len(shape) + 1))
    new = list(shape)
    new.insert(i % (len(shape) + 1), 1)
    return (lambda lib, y, xs: y.unsqueeze(i)), tuple(new)


def _move_triangle(rng, shape, new_leaf):
    k, which = int(rng.integers(-3, 4)), "tril" if rng.random() < 0.5 else "triu"
    return (lambda lib, y, xs: getattr(y, which)(k)), shape


def _move_flip(rng, shape, new_leaf):
    dims = sorted({_dim(shape, rng) % len(shape) for _ in range(int(rng.integers(1, 3)))})
    return (lambda lib, y, xs: y.flip(dims)), shape


def _move_roll(rng, shape, new_leaf):
    if rng.random() < 0.2:
        shift = int(rng.integers(-7, 8))
        return (lambda lib, y, xs: y.roll(shift)), shape
    dims = tuple(sorted({_dim(shape, rng) % len(shape) for _ in range(int(rng.integers(1, 3)))}))
    shifts = tuple(int(rng.integers(-7, 8)) for _ in dims)
    return (lambda lib, y, xs: y.roll(shifts, dims)), shape


def _move_narrow(rng, shape, new_leaf):
    dim = _dim(shape, rng)
    d = shape[dim]
    start = int(rng.integers(0, d + 1))
    length = int(rng.integers(0, d - start + 1))
    new = tuple(length if i == dim % len(shape) else s for i, s in enumerate(shape))
    return (lambda lib, y, xs: y.narrow(dim, start, length)), new


def _move_mul(rng, shape, new_leaf):
    k = new_leaf(_broadcast_partner(rng, shape))
    return (lambda lib, y, xs: (y * xs[k]).tanh()), shape


MOVES = [_move_view, _move_permute, _move_transpose, _move_expand, _move_cat, _move_stack, _move_split,
         _move_squeeze, _move_triangle, _move_flip, _move_roll, _move_narrow, _move_mul]


def _gen_movement(rng, special):
    leaves = [_values(rng, _pick_shape(rng), special)]
    shape, steps = leaves[0].shape, []

    def new_leaf(s):
        leaves.append(_values(rng, s, special))
        return len(leaves) - 1
    for _ in range(int(rng.integers(2, 6))):
        move = MOVES[int(rng.integers(len(MOVES)))]
        if not shape or (move is _move_triangle and len(shape) < 2) or math.prod(shape) > 500:
            move = _move_squeeze
        fn, shape = move(rng, shape, new_leaf)
        steps.append((move.__name__[6:], fn))

    def build(lib, xs):
        y = xs[0] * 1.0
        for _, fn in steps:
            y = fn(lib, y, xs)
        return y
    build.steps = [name for name, _ in steps]
    return leaves, build, False


STRUCTURED = [_gen_conv, _gen_max_pool, _gen_avg_pool, _gen_adaptive_pool, _gen_batch_norm, _gen_getitem,
              _gen_setitem, _gen_index_select, _gen_gather, _gen_scatter_add, _gen_masked_select, _gen_embedding,
              _gen_attention, _gen_layer_norm, _gen_gelu, _gen_movement, _gen_movement]
# shape-keeping unary ops that may follow a structured op in its graph
# (not gelu_tanh: below x = -4 its 1 + tanh(u) cancels to nothing in float32, in both libraries)
_AFTER = [i for i, (name, arity, ok, _, _) in enumerate(OPS)
          if arity == 1 and ok is None and name not in ("flatten", "transpose", "gelu_tanh")]


def run_structured_case(case, seed=0):
    """One graph around a structured op (STRUCTURED), perhaps followed by shape-keeping ops; returns
    a list of findings. PyTorch refusing the drawn arguments is fine if fastgrad refuses them too."""
    import torch

    rng = np.random.default_rng([seed, case, 1])
    dtype = fg.float32 if rng.random() < 0.5 else fg.float64
    special = rng.random() < 0.4
    gen = STRUCTURED[int(rng.integers(len(STRUCTURED)))]
    leaves, build, reference64 = gen(rng, special)
    leaves = [l.astype(np.float32) if dtype is fg.float32 else l for l in leaves]   # one input for both
    after = [_AFTER[int(rng.integers(len(_AFTER)))] for _ in range(int(rng.choice([0, 0, 1, 2])))]
    if reference64 or getattr(build, "alone", False):   # float32 ops after a float64 reference would be
        after = []                                          # held to float64's range and rounding
    paths = fg.backend.available_kernel_paths()
    path = paths[int(rng.integers(len(paths)))]
    description = (f"structured case {case} (seed {seed}): {gen.__name__[5:]}"
                   f"{getattr(build, 'steps', '')}, {dtype!r}, path {path}, leaves "
                   f"{[l.shape for l in leaves]}, then {[OPS[i][0] for i in after]}")

    def run(lib):
        xs = [lib.leaf(l) for l in leaves]
        outs = build(lib, xs)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        for i in after:
            outs[0] = OPS[i][3 if lib.torch is None else 4](outs[0])
        weights = np.random.default_rng([seed, case, 2]).uniform(-1, 1, size=tuple(outs[0].shape))
        (outs[0] * lib.const(weights)).sum().backward()
        return [lib.numpy(o) for o in outs], [None if x.grad is None else lib.numpy(x.grad) for x in xs]

    try:
        with warnings.catch_warnings():   # PyTorch's note that padding='same' may copy the input
            warnings.simplefilter("ignore", UserWarning)
            expected = run(_Lib(torch, fg.float64 if reference64 else dtype))
    except (RuntimeError, ValueError, IndexError, TypeError) as e:
        try:
            run(_Lib(None, dtype))
        except (RuntimeError, ValueError, IndexError, TypeError, NotImplementedError):
            return []
        return [f"{description}: fastgrad accepts what PyTorch refuses ({str(e)[:200]})"]
    try:
        return _differential(description, leaves, dtype, path, lambda: run(_Lib(None, dtype)), lambda: expected)
    except Exception as e:   # noqa: BLE001  (any exception is a finding, reported with the case)
        return [f"{description}: fastgrad raised {type(e).__name__}: {e}"]


def _broadcast_fails(a, b, name):
    if name == "matmul":
        return False
    try:
        np.broadcast_shapes(a, b)
        return False
    except ValueError:
        return True


def _result_shape(name, a, b):
    if name == "matmul":
        return a[:-1] + b[-1:] if len(a) >= 2 else b[:-2] + b[-1:]
    return tuple(np.broadcast_shapes(a, b))


def _unary_shape(name, shape):
    if name == "sum_last":
        return shape[:-1]
    if name in ("mean_first", "amin_first"):
        return (1,) + shape[1:]
    if name in ("logsumexp_last", "max_last"):
        return shape[:-1] + (1,)
    if name == "transpose":
        return (shape[-1],) + shape[1:-1] + (shape[0],)
    if name == "flatten":
        return (math.prod(shape),)
    return shape


def _same_bits(a, b):
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _compare(got, want, dtype, what, rtol64=1e-8):
    if got.shape != want.shape:
        return f"{what}: shape {got.shape}, PyTorch {want.shape}"
    if got.dtype.kind != "f":   # indices, masks: exactly
        return None if np.array_equal(got, want) else f"{what}: {got} vs PyTorch {want}"
    got, want = got.astype(np.float64), want.astype(np.float64)
    rtol, atol = (2e-3, 1e-4) if dtype is fg.float32 else (rtol64, 1e-10)
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    finite = np.isfinite(want) & np.isfinite(got)
    # Values that overflow in one library and not the other, by a rounding at the edge of the range,
    # are not findings: compare where both are finite, and the infinities and NaNs exactly.
    inf_mismatch = (np.isinf(got) | np.isinf(want)) & ~(nan_got | nan_want) & (got != want)
    near_edge = np.abs(np.where(np.isfinite(got), got, 0)) > 1e29
    near_edge |= np.abs(np.where(np.isfinite(want), want, 0)) > 1e29
    if (nan_got != nan_want).any():
        k = np.argwhere(nan_got != nan_want)[0]
        return f"{what}: NaN pattern differs at {tuple(k)}: {got[tuple(k)]} vs PyTorch {want[tuple(k)]}"
    if (inf_mismatch & ~near_edge).any():
        k = np.argwhere(inf_mismatch & ~near_edge)[0]
        return f"{what}: infinity differs at {tuple(k)}: {got[tuple(k)]} vs PyTorch {want[tuple(k)]}"
    scale = max(1.0, float(np.max(np.abs(want[finite]), initial=0.0)))
    bad = finite & ~near_edge & ~np.isclose(got, want, rtol=rtol, atol=atol * scale)
    if bad.any():
        k = tuple(np.argwhere(bad)[0])
        return f"{what}: {got[k]} vs PyTorch {want[k]} at {k}"
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    findings = []
    for case in range(args.cases):
        findings += run_case(case, args.seed) + run_structured_case(case, args.seed)
    for f in findings:
        print(f)
    print(f"{args.cases} cases (each a chain graph and a structured one), {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

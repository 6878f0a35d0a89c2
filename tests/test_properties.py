"""Property-based tests (hypothesis) for every op, layer and loss: random shapes (1, primes, sizes off
every SIMD width and block size, empty where the op allows it), random values up to large magnitudes,
both dtypes. Forward against numpy in float64; backward against finite differences (float64) and
against PyTorch when it is installed. The forward and PyTorch tests run under every kernel path this
CPU offers, threaded and single-threaded (see KERNEL_CONFIGS)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config, np_cross_entropy, np_log_softmax, np_softmax

try:
    import torch
except ImportError:
    torch = None

F = fg.nn.functional
PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- shapes and values ----------------------------------------------------------------------------
# 1, primes, and sizes just off the SIMD widths (4/8/16) and block sizes (32/64/128...).
BIG_DIMS = [1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33, 63, 65, 97, 129]
SMALL_DIMS = [1, 2, 3, 4, 5]
MAX_ELEMENTS = 40_000


def dim(draw, big, empty):
    return draw(st.sampled_from(([0] if empty else []) + (BIG_DIMS if big else SMALL_DIMS)))


def shape(draw, big, empty, min_ndim=0, max_ndim=3):
    return tuple(dim(draw, big, empty) for _ in range(draw(st.integers(min_ndim, max_ndim))))


def broadcast_pair(draw, big, empty):
    """Two shapes that broadcast: each drops some leading dimensions and sets others to 1."""
    out = shape(draw, big, empty)

    def operand():
        s = out[draw(st.integers(0, len(out))):]
        return tuple(1 if draw(st.booleans()) else d for d in s)
    return [operand(), operand()]


def numel(s):
    return int(np.prod(s, dtype=np.int64))


# ---- the table of ops -----------------------------------------------------------------------------
def np_sigmoid(x):
    e = np.exp(-np.abs(x))   # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def targets_for(rows, cols, seed):
    return np.random.default_rng(seed).integers(0, cols, size=rows)


class Spec:
    """One op: how to draw its input shapes, fastgrad / numpy / torch forms, and its float32 error
    bound. fg_fn(targets, *tensors), np_fn(targets, *arrays), torch_fn(targets, *tensors); targets
    are class indices for the losses, None otherwise."""

    def __init__(self, name, shapes, fg_fn, np_fn, torch_fn, error=None, empty=True, kink=False, positive=(),
                 targets=False, max_scale=1e15):
        self.name, self.shapes, self.fg_fn, self.np_fn, self.torch_fn = name, shapes, fg_fn, np_fn, torch_fn
        self.error = error or (lambda arrays, ref, eps: 4 * eps * np.abs(ref))   # a few roundings of the result
        self.empty, self.kink, self.positive, self.targets = empty, kink, positive, targets
        self.max_scale = max_scale   # stacked layers: float32 overflows, and a saturated softmax is ill-conditioned

    def __repr__(self):
        return self.name


def same_shapes(n):
    return lambda draw, big, empty: [shape(draw, big, empty)] * n


def rows_shape(draw, big, empty):
    return [shape(draw, big, empty, min_ndim=1)]


def matmul_shapes(draw, big, empty):
    m, k, n = (dim(draw, big, empty) for _ in range(3))
    return [(m, k), (k, n)]


def linear_shapes(bias):
    def draw_shapes(draw, big, empty):
        x = shape(draw, big, empty, min_ndim=1)
        n = dim(draw, big, empty)
        return [x, (n, x[-1])] + ([(n,)] if bias else [])
    return draw_shapes


def loss_shapes(draw, big, empty):
    return [(dim(draw, big, False), dim(draw, big, False))]   # a mean over no rows is 0/0: see test_numerics


def dot_error(arrays, ref, eps, transpose_b=False):
    """|fl(A·B) - A·B| <= k·eps·(|A|·|B|): the textbook bound for k-term dot products, times 2."""
    a, b = np.abs(arrays[0]), np.abs(arrays[1])
    k = a.shape[-1]
    bound = a @ (b.T if transpose_b else b)
    if len(arrays) == 3:
        bound = bound + np.abs(arrays[2])
    return 2 * (k + 2) * eps * bound


def row_sum_error(arrays, ref, eps):
    """log-softmax and cross-entropy round x - max: an error of a few eps times the row's range."""
    x = arrays[0]
    span = np.abs(x).max(axis=-1, keepdims=True) if x.size else 0
    return 8 * eps * (2 * span + np.log(x.shape[-1] + 1) + 1) * np.ones_like(ref)


def torch_ce(targets, x, reduction="mean"):
    return torch.nn.functional.cross_entropy(x, torch.as_tensor(targets), reduction=reduction)


def torch_nll(targets, x, reduction="mean"):
    return torch.nn.functional.nll_loss(x, torch.as_tensor(targets), reduction=reduction)


def np_ce(targets, x, reduction="mean"):
    return np_cross_entropy(x, targets, reduction)


def np_nll(targets, x, reduction="mean"):
    losses = -x[np.arange(len(targets)), targets]
    return losses.mean() if reduction == "mean" else losses.sum()


def sum_error(arrays, ref, eps):
    x = np.abs(arrays[0])
    return 2 * (x.size + 1) * eps * x.sum() * np.ones_like(ref)


SPECS = [
    Spec("add", broadcast_pair, lambda t, a, b: a + b, lambda t, a, b: a + b, lambda t, a, b: a + b,
         error=lambda arrays, ref, eps: eps * np.abs(ref)),
    Spec("sub", broadcast_pair, lambda t, a, b: a - b, lambda t, a, b: a - b, lambda t, a, b: a - b,
         error=lambda arrays, ref, eps: eps * np.abs(ref)),
    Spec("mul", broadcast_pair, lambda t, a, b: a * b, lambda t, a, b: a * b, lambda t, a, b: a * b,
         error=lambda arrays, ref, eps: eps * np.abs(ref)),
    Spec("div", broadcast_pair, lambda t, a, b: a / b, lambda t, a, b: a / b, lambda t, a, b: a / b,
         error=lambda arrays, ref, eps: eps * np.abs(ref), positive=(1,)),
    Spec("matmul", matmul_shapes, lambda t, a, b: a @ b, lambda t, a, b: a @ b, lambda t, a, b: a @ b,
         error=dot_error),
    Spec("linear", linear_shapes(True), lambda t, x, w, b: F.linear(x, w, b), lambda t, x, w, b: x @ w.T + b,
         lambda t, x, w, b: torch.nn.functional.linear(x, w, b),
         error=lambda arrays, ref, eps: dot_error(arrays, ref, eps, transpose_b=True)),
    Spec("linear_nobias", linear_shapes(False), lambda t, x, w: F.linear(x, w), lambda t, x, w: x @ w.T,
         lambda t, x, w: torch.nn.functional.linear(x, w),
         error=lambda arrays, ref, eps: dot_error(arrays, ref, eps, transpose_b=True)),
    Spec("relu", same_shapes(1), lambda t, x: x.relu(), lambda t, x: np.maximum(x, 0), lambda t, x: x.relu(),
         kink=True, error=lambda arrays, ref, eps: 0 * ref),
    Spec("tanh", same_shapes(1), lambda t, x: x.tanh(), lambda t, x: np.tanh(x), lambda t, x: x.tanh(),
         error=lambda arrays, ref, eps: 2 * eps * (np.abs(ref) + 1e-30)),
    Spec("sigmoid", same_shapes(1), lambda t, x: x.sigmoid(), lambda t, x: np_sigmoid(x),
         lambda t, x: x.sigmoid(), error=lambda arrays, ref, eps: 4 * eps * (np.abs(ref) + 1e-30)),
    Spec("softmax", rows_shape, lambda t, x: x.softmax(), lambda t, x: np_softmax(x), lambda t, x: x.softmax(-1),
         error=lambda arrays, ref, eps: 16 * eps * np.ones_like(ref)),
    Spec("log_softmax", rows_shape, lambda t, x: x.log_softmax(), lambda t, x: np_log_softmax(x),
         lambda t, x: x.log_softmax(-1), error=row_sum_error),
    Spec("cross_entropy", loss_shapes, lambda t, x: F.cross_entropy(x, t), np_ce, torch_ce, error=row_sum_error,
         targets=True, empty=False),
    Spec("cross_entropy_sum", loss_shapes, lambda t, x: F.cross_entropy(x, t, reduction="sum"),
         lambda t, x: np_ce(t, x, "sum"), lambda t, x: torch_ce(t, x, "sum"),
         error=lambda arrays, ref, eps: row_sum_error(arrays, ref, eps) * arrays[0].shape[0], targets=True,
         empty=False),
    Spec("sum", same_shapes(1), lambda t, x: x.sum(), lambda t, x: x.sum(), lambda t, x: x.sum(), error=sum_error),
    Spec("sum_dim0", rows_shape, lambda t, x: x.sum(dim=0), lambda t, x: x.sum(axis=0), lambda t, x: x.sum(dim=0),
         error=sum_error),
    Spec("mean_last_keepdim", rows_shape, lambda t, x: x.mean(dim=-1, keepdim=True),
         lambda t, x: x.mean(axis=-1, keepdims=True), lambda t, x: x.mean(dim=-1, keepdim=True),
         error=sum_error, empty=False),
    Spec("transpose", lambda draw, big, empty: [shape(draw, big, empty, 2, 2)], lambda t, x: x.T,
         lambda t, x: x.T, lambda t, x: x.T, error=lambda arrays, ref, eps: 0 * ref),
    Spec("reshape", same_shapes(1), lambda t, x: x.reshape(-1) * 1.0, lambda t, x: x.reshape(-1),
         lambda t, x: x.reshape(-1) * 1.0, error=lambda arrays, ref, eps: 0 * ref),
    Spec("mse_loss", same_shapes(2), lambda t, a, b: F.mse_loss(a, b), lambda t, a, b: np.mean((a - b) ** 2),
         lambda t, a, b: torch.nn.functional.mse_loss(a, b), error=lambda arrays, ref, eps: (arrays[0].size + 4) * eps * np.abs(ref),
         empty=False),   # a sum of n positive terms
]
if hasattr(F, "nll_loss"):
    SPECS.append(Spec("nll_loss", loss_shapes, lambda t, x: F.nll_loss(x, t), np_nll, torch_nll,
                      error=lambda arrays, ref, eps: 4 * eps * np.abs(arrays[0]).max() * np.ones_like(ref),
                      targets=True, empty=False))

# The math helper's ops: one of each kernel family (unary, binary op codes, row and column reductions).
def np_logsumexp(x):
    m = x.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]


SPECS += [
    Spec("exp", same_shapes(1), lambda t, x: x.exp(), lambda t, x: np.exp(x), lambda t, x: x.exp(), max_scale=1.0),
    Spec("abs", same_shapes(1), lambda t, x: x.abs(), lambda t, x: np.abs(x), lambda t, x: x.abs(), kink=True,
         error=lambda arrays, ref, eps: 0 * ref),
    Spec("maximum", broadcast_pair, lambda t, a, b: fg.maximum(a, b), lambda t, a, b: np.maximum(a, b),
         lambda t, a, b: torch.maximum(a, b), error=lambda arrays, ref, eps: 0 * ref),
    Spec("logsumexp_last", rows_shape, lambda t, x: x.logsumexp(-1), lambda t, x: np_logsumexp(x),
         lambda t, x: x.logsumexp(-1),
         error=lambda arrays, ref, eps: 8 * eps * (np.abs(ref) + np.log(arrays[0].shape[-1])),
         empty=False),
    Spec("max_dim0", rows_shape, lambda t, x: x.max(0).values, lambda t, x: x.max(axis=0),
         lambda t, x: x.max(0).values, error=lambda arrays, ref, eps: 0 * ref, empty=False),
    Spec("amax_last", rows_shape, lambda t, x: x.amax(-1), lambda t, x: x.max(axis=-1), lambda t, x: x.amax(-1),
         error=lambda arrays, ref, eps: 0 * ref, empty=False),
]

# Layers: each wrapped as a function of its input and parameters, so the same checks apply.
LAYERS = [
    Spec("Sequential(Linear, ReLU, Linear, Softmax)",
         lambda draw, big, empty: [(dim(draw, big, empty), 5), (4, 5), (4,), (3, 4), (3,)],
         lambda t, x, w1, b1, w2, b2: fg.nn.Sequential(_Fixed(w1, b1), fg.nn.ReLU(), _Fixed(w2, b2),
                                                       fg.nn.Softmax(dim=-1)).forward(x),
         lambda t, x, w1, b1, w2, b2: np_softmax(np.maximum(x @ w1.T + b1, 0) @ w2.T + b2),
         lambda t, x, w1, b1, w2, b2: (((x @ w1.T + b1).relu()) @ w2.T + b2).softmax(-1),
         error=lambda arrays, ref, eps: 1e3 * eps * np.ones_like(ref), kink=True, max_scale=1.0),
]


class _Fixed(fg.nn.Module):
    """A Linear layer over given weight and bias tensors (so the checks can perturb them)."""

    def __init__(self, weight, bias):
        self.weight, self.bias = weight, bias

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


def draw_case(data, spec, big, dtype_np, scales):
    """Shapes, float64 arrays rounded to dtype_np, and class targets for one example of spec."""
    shapes = spec.shapes(data.draw, big, spec.empty and big)
    assume(sum(numel(s) for s in shapes) <= MAX_ELEMENTS)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    scale = data.draw(st.sampled_from([s for s in scales if s <= spec.max_scale]), label="scale")
    rng = np.random.default_rng(seed)
    arrays = []
    for i, s in enumerate(shapes):
        a = rng.uniform(-1, 1, size=s) * scale
        if i in spec.positive:
            a = np.sign(a) * (np.abs(a) + 0.5 * scale)   # away from 0: a divisor
        if spec.kink:
            a = np.where(np.abs(a) < 1e-2 * scale, 0.5 * scale, a)   # away from the kink at 0
        arrays.append(a.astype(dtype_np).astype(np.float64))
    targets = targets_for(shapes[0][0], shapes[0][-1], seed) if spec.targets else None
    return arrays, targets


ALL = SPECS + LAYERS
DTYPES = {"float32": fg.float32, "float64": fg.float64}


@pytest.mark.parametrize("path, threads", KERNEL_CONFIGS, ids=str)
@pytest.mark.parametrize("spec", ALL, ids=repr)
@PROPERTY
@given(data=st.data(), dtype_name=st.sampled_from(sorted(DTYPES)))
def test_forward_matches_numpy(spec, path, threads, data, dtype_name):
    dtype = DTYPES[dtype_name]
    # Large magnitudes: 1e15 keeps float32 products (and sums of squares) finite.
    arrays, targets = draw_case(data, spec, True, dtype.np, [1.0, 1e-3, 1e3, 1e15 if spec.name != "mse_loss" else 1e6])
    with kernel_config(path, threads):
        out = spec.fg_fn(targets, *[fg.tensor(a, dtype=dtype) for a in arrays])
    ref = np.asarray(spec.np_fn(targets, *arrays), dtype=np.float64)
    assert out.shape == ref.shape and out.dtype is dtype
    eps = float(np.finfo(dtype.np).eps)
    # The bound, plus the rounding of the reference itself to dtype and the smallest normal number.
    bound = spec.error(arrays, ref, eps) + eps * np.abs(ref) + np.finfo(dtype.np).tiny
    err = np.abs(out.numpy().astype(np.float64) - ref)
    assert np.all(err <= bound), f"{spec.name} {dtype_name}: max error {err.max()}, shapes {[a.shape for a in arrays]}"


@pytest.mark.parametrize("spec", ALL, ids=repr)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_backward_matches_finite_differences(spec, data):
    arrays, targets = draw_case(data, spec, False, np.float64, [1.0, 3.0])
    check_op(lambda *ts: spec.fg_fn(targets, *ts), lambda *arrays: spec.np_fn(targets, *arrays), inputs=arrays,
             atol=1e-9, rtol=1e-9, check_float32=False)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("path, threads", KERNEL_CONFIGS, ids=str)
@pytest.mark.parametrize("spec", ALL, ids=repr)
@PROPERTY
@given(data=st.data(), dtype_name=st.sampled_from(sorted(DTYPES)))
def test_backward_matches_torch(spec, path, threads, data, dtype_name):
    dtype = DTYPES[dtype_name]
    arrays, targets = draw_case(data, spec, True, dtype.np, [1.0, 1e-2, 1e2])
    tensors = [fg.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    with kernel_config(path, threads):
        out = spec.fg_fn(targets, *tensors)
        upstream = np.random.default_rng(0).uniform(-1, 1, size=out.shape)
        out.backward(fg.tensor(upstream, dtype=dtype))
    refs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    spec.torch_fn(targets, *refs).backward(torch.tensor(upstream, dtype=torch.float64))
    tol = 1e-10 if dtype is fg.float64 else 2e-4
    for i, (t, r) in enumerate(zip(tensors, refs)):
        expected = r.grad.numpy()
        got = t.grad.numpy() if t.grad is not None else np.zeros_like(expected)
        # Relative to the gradient's size, but at least 1e-3 of the upstream's (1): a gradient of 1e-14
        # next to one of 1 is below float32's cancellation noise (softmax saturated, sigmoid at -100).
        scale = max(np.abs(expected).max(initial=0.0), 1e-3)
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale, err_msg=f"{spec.name} input {i}")


@PROPERTY
@given(data=st.data(), dtype_name=st.sampled_from(sorted(DTYPES)), p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
def test_dropout(data, dtype_name, p):
    """Training: every element is 0 or x/(1-p), and the gradient is the same mask; eval: identity.
    Each layer wrapper gives what its functional form gives."""
    dtype = DTYPES[dtype_name]
    shape = data.draw(st.sampled_from([(1,), (7,), (3, 17), (2, 3, 5)]))
    x_np = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).uniform(-5, 5, shape)
    x = fg.tensor(x_np, dtype=dtype, requires_grad=True)
    layer = fg.nn.Dropout(p)
    fg.manual_seed(data.draw(st.integers(0, 2**32 - 1)))
    y = layer(x)
    kept = y.numpy() != 0
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    np.testing.assert_allclose(y.numpy()[kept], (x_np * scale)[kept], rtol=1e-6)
    if p == 0:
        assert kept.all()
    if p == 1:
        assert not kept.any()
    if y.requires_grad:
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.where(kept, scale, 0.0), rtol=1e-6)
    layer.eval()
    assert layer(x) is x


@PROPERTY
@given(data=st.data())
def test_layer_wrappers_match_their_functions(data):
    x = fg.tensor(np.random.default_rng(data.draw(st.integers(0, 1000))).uniform(-30, 30, (3, 7)))
    for layer, fn in [(fg.nn.Tanh(), F.tanh), (fg.nn.Sigmoid(), F.sigmoid), (fg.nn.ReLU(), F.relu),
                      (fg.nn.LogSoftmax(dim=1), lambda z: F.log_softmax(z, 1)),
                      (fg.nn.Softmax(dim=1), lambda z: F.softmax(z, 1))]:
        np.testing.assert_array_equal(layer(x).numpy(), fn(x).numpy(), err_msg=repr(layer))
    np.testing.assert_array_equal(fg.nn.Flatten()(x.reshape(3, 7, 1)).numpy(), x.numpy())
    assert fg.nn.Identity()(x) is x

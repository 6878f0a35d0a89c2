"""Numerics at the edges: softmax, log-softmax and cross-entropy at logits of ±1e4 and ±3e38, ReLU's
gradient at exactly 0, NaN propagation, and the stated float32 matmul error bound for k up to 4096."""
import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, kernel_config

try:
    import torch
except ImportError:
    torch = None

F = fg.nn.functional
DTYPES = [fg.float32, fg.float64]

# Rows of logits: huge, equal, mixed signs, and spreads that a float32 difference still represents.
HUGE_LOGITS = [
    [1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4],
    [3e38, 3e38, 0.0], [3e38, 2e38, 1e38], [-3e38, -3e38, -3e38], [3e38, 0.0, -3e37], [-3e38, 0.0, 3e37],
]


def reference(x):
    """log_softmax and softmax in float64 (x - max never overflows there for |x| <= 3e38)."""
    m = x.max(axis=-1, keepdims=True)
    logsum = np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
    return (x - m) - logsum, np.exp((x - m) - logsum)


@pytest.mark.parametrize("dtype", DTYPES, ids=repr)
@pytest.mark.parametrize("row", HUGE_LOGITS, ids=str)
def test_softmax_family_is_finite_and_correct_for_huge_logits(row, dtype):
    x64 = np.array([row], dtype=np.float64)
    ref_logp, ref_p = reference(x64)
    x = fg.tensor(x64, dtype=dtype, requires_grad=True)

    p = x.softmax()
    assert np.isfinite(p.numpy()).all()
    np.testing.assert_allclose(p.numpy(), ref_p, rtol=1e-6, atol=1e-7)

    logp = x.log_softmax()
    assert np.isfinite(logp.numpy()).all()
    np.testing.assert_allclose(logp.numpy(), ref_logp, rtol=1e-6)

    for target in range(len(row)):
        loss = F.cross_entropy(x, [target])
        assert np.isfinite(loss.item())
        np.testing.assert_allclose(loss.item(), -ref_logp[0, target], rtol=1e-6, atol=1e-6)
        x.grad = None
        loss.backward()   # p - onehot
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(x.grad.numpy(), ref_p - np.eye(len(row))[[target]], atol=1e-6)

    for y in (p, logp):   # backward through softmax and log-softmax stays finite too
        x.grad = None
        y.backward(fg.ones(*y.shape, dtype=dtype))
        assert np.isfinite(x.grad.numpy()).all()


def test_log_softmax_beyond_float32_range_overflows_to_minus_inf_like_pytorch():
    """log_softmax([3e38, -3e38]) is -6e38 at the second entry: -inf in float32 (the correctly rounded
    value, and PyTorch's); finite in float64."""
    x = [[3e38, -3e38]]
    assert fg.tensor(x).log_softmax().tolist() == [[0.0, -np.inf]]
    assert fg.tensor(x, dtype=fg.float64).log_softmax().tolist() == [[0.0, -6e38]]
    assert fg.tensor(x).softmax().tolist() == [[1.0, 0.0]]
    if torch is not None:
        assert torch.tensor(x).log_softmax(-1).tolist() == [[0.0, -np.inf]]


@pytest.mark.parametrize("dtype", DTYPES, ids=repr)
def test_relu_gradient_at_zero_follows_pytorch(dtype):
    values = [-1.0, -0.0, 0.0, 1e-45, 2.0]
    x = fg.tensor(values, dtype=dtype, requires_grad=True)
    x.relu().backward(fg.ones(5, dtype=dtype))
    expected = [0.0, 0.0, 0.0, 1.0 if dtype is fg.float64 or np.float32(1e-45) > 0 else 0.0, 1.0]
    assert x.grad.tolist() == expected
    if torch is not None:
        t = torch.tensor(values, dtype=torch.float64 if dtype is fg.float64 else torch.float32, requires_grad=True)
        t.relu().backward(torch.ones(5, dtype=t.dtype))
        assert x.grad.tolist() == t.grad.tolist()


@pytest.mark.parametrize("dtype", DTYPES, ids=repr)
def test_nan_propagates_and_stays_in_its_row(dtype):
    nan = float("nan")
    x = fg.tensor([[nan, 1.0, 2.0], [0.0, 1.0, 2.0]], dtype=dtype)
    assert np.isnan(x.relu().numpy()[0, 0])   # relu(NaN) is NaN, as in PyTorch
    for y in (x.softmax(), x.log_softmax()):
        assert np.isnan(y.numpy()[0]).all() and np.isfinite(y.numpy()[1]).all()
    assert np.isnan(F.cross_entropy(x, [1, 1]).item())
    assert np.isnan((fg.tensor([[nan]], dtype=dtype) @ fg.ones(1, 3, dtype=dtype)).numpy()).all()


# The stated bound: every entry of a float32 product is within k * 2^-24 * (|A|·|B|) of the exact
# one (the classical bound for a k-term dot product, whatever order or blocking the kernel sums in).
# On random data the kernels stay far inside it (errors grow like sqrt(k)): the second assert holds
# them to 2·sqrt(k)·2^-24·(|A|·|B|) + one rounding of the result, a tenth of the bound at k = 4096.
@pytest.mark.parametrize("path, threads", KERNEL_CONFIGS, ids=str)
@pytest.mark.parametrize("k", [1, 7, 64, 255, 1000, 4096])
def test_float32_matmul_error_bound(k, path, threads):
    rng = np.random.default_rng(k)
    a = rng.uniform(-1, 1, (67, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (k, 33)).astype(np.float32)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    with kernel_config(path, threads):
        got = (fg.tensor(a) @ fg.tensor(b)).numpy().astype(np.float64)
    err = np.abs(got - exact)
    u = 2.0**-24
    assert np.all(err <= k * u * scale + 1e-45), "outside the stated bound"
    assert np.all(err <= 2 * np.sqrt(k) * u * scale + u * np.abs(exact) + 1e-45), f"max error {err.max()} for k={k}"


# ---- PyTorch's IEEE edge semantics (issue 11's fuzzer findings) ----------------------------------------
@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_infinite_row_max_gives_nan_rows_like_pytorch(dtype):
    inf = float("inf")
    for row in ([inf, 1.0], [-inf, -inf]):
        assert np.isnan(fg.tensor([row], dtype=dtype).log_softmax().numpy()).all()
    logits = fg.tensor([[inf, 1.0]], dtype=dtype, requires_grad=True)
    loss = fg.nn.functional.cross_entropy(logits, [1])
    loss.backward()
    assert np.isnan(loss.item()) and np.isnan(logits.grad.numpy()).all()


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_relu_keeps_negative_zero_and_passes_the_gradient_at_nan(dtype):
    out = fg.tensor([-0.0, -1.0, 2.0], dtype=dtype).relu().numpy()
    assert np.signbit(out[0]) and out[1] == 0 and not np.signbit(out[1]) and out[2] == 2
    x = fg.tensor([float("nan"), 0.0, -0.0, 1.0], dtype=dtype, requires_grad=True)
    x.relu().backward(fg.ones(4, dtype=dtype))
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("shape_b", [(1,), (2,)])
def test_division_backward_does_not_overflow(shape_b):
    a = fg.tensor([1e30, 1e30], requires_grad=True)
    b = fg.tensor(np.full(shape_b, 1e30), requires_grad=True)
    (a / b).backward(fg.full((2,), 1e30))
    assert a.grad.tolist() == [1.0, 1.0]
    assert np.allclose(b.grad.numpy(), -np.ones(shape_b) * 2 / shape_b[0])


def test_exp_based_results_reach_the_subnormals():
    tiny = fg.tensor([-709.0, -745.0], dtype=fg.float64).sigmoid().numpy()
    assert tiny[0] == pytest.approx(np.exp(-709.0), rel=1e-12) and tiny[1] == 5e-324
    assert fg.tensor([-100.0]).sigmoid().item() == pytest.approx(np.exp(-100.0), rel=1e-2)
    assert fg.tensor([-104.5]).sigmoid().item() == 0.0

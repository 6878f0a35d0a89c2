"""Minimal reproductions of what the differential fuzzer (tests/fuzz.py) found, one test per bug,
each against PyTorch's documented behaviour."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F


def _torch():
    return pytest.importorskip("torch")   # per test: the others run where torch is not installed (ASan)


def test_attention_row_with_every_key_masked_is_zero_as_in_pytorch():
    """PyTorch's attention gives a row whose keys are all masked out (a boolean mask of False, or
    an additive -inf) output 0 and gradient 0, not softmax's NaN."""
    torch = _torch()
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3)) for _ in range(3))
    for mask in (np.array([[False, False], [True, False]]), np.array([[-np.inf, -np.inf], [0.0, -np.inf]])):
        results = []
        for lib in (fg, torch):
            xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in (q, k, v)]
            m = lib.tensor(mask, dtype=lib.bool if mask.dtype == bool else lib.float64)
            out = lib.nn.functional.scaled_dot_product_attention(*xs, attn_mask=m)
            out.sum().backward()
            results.append([out.detach().numpy()] + [x.grad.numpy() for x in xs])
        for got, want in zip(*results):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_layer_norm_float32_row_with_huge_spread_normalises():
    """float32 rows whose (x - mean)² overflows (values ±1e30) still normalise to the exact result
    (PyTorch's float32 gives NaN there, its float64 the values below); they gave the bias alone."""
    torch = _torch()
    x = np.array([[-0.65, -1e30, -0.76, 0.25, 1.1]])
    w, b = np.array([0.7, 0.1, -0.5, 0.6, -0.2]), np.array([0.8, -2.2, -2.5, -0.1, 2.0])
    got = F.layer_norm(fg.tensor(x), (5,), fg.tensor(w), fg.tensor(b), eps=1e-3).numpy()
    want = torch.nn.functional.layer_norm(torch.tensor(x), (5,), torch.tensor(w), torch.tensor(b), eps=1e-3).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_batch_norm_eval_gradient_at_an_infinite_input_is_finite():
    """In eval mode dx = dy·weight/sqrt(running_var + eps) whatever x is (PyTorch's too); the
    kernel's training formula added x·0, NaN at x = ±inf."""
    x = fg.tensor([[np.inf], [1.0], [-np.inf]], dtype=fg.float64, requires_grad=True)
    out = F.batch_norm(x, fg.zeros(1, dtype=fg.float64), fg.tensor([4.0 - 1e-5], dtype=fg.float64), training=False)
    out.backward(fg.ones(3, 1, dtype=fg.float64))
    assert x.grad.numpy().ravel().tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("shape", [(2,), (0,), (2, 3)])
def test_an_empty_index_tuple_selects_everything(shape):
    """t[()] is the whole tensor, and t[()] = v writes all of it, as in PyTorch (an AttributeError)."""
    start = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    x = fg.tensor(start, requires_grad=True)
    y = x[()] * 2.0
    assert y.numpy().tolist() == (start * 2).tolist()
    y.sum().backward()
    assert x.grad.numpy().tolist() == np.full(shape, 2.0).tolist()
    z = fg.tensor(start)
    z[()] = 7.0
    assert z.numpy().tolist() == np.full(shape, 7.0).tolist()


def test_max_pool_window_wholly_in_the_padding_passes_no_gradient():
    """With dilation and ceil_mode a window can hold padding only: its max is -inf at a position
    past the plane (PyTorch's values and indices); backward added its gradient there, out of
    bounds of the gradient buffer (heap corruption). Run in a subprocess, where a crash fails it."""
    import subprocess
    import sys
    code = """
import numpy as np, fastgrad as fg
x = fg.tensor(np.ones((300, 1, 5)), dtype=fg.float64, requires_grad=True)
out, at = fg.nn.functional.max_pool2d(x, (2, 1), None, (1, 0), (2, 2), ceil_mode=True, return_indices=True)
assert out.shape == (300, 1, 5) and np.isneginf(out.numpy()).all() and (at.numpy() == np.arange(5, 10)).all()
out.backward(fg.ones(300, 1, 5, dtype=fg.float64))
assert (x.grad.numpy() == 0).all()
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_attention_row_of_nan_scores_stays_nan():
    """A row whose scores are -inf but for a NaN is NaN (PyTorch's too), not the 0 of a row masked
    out: q·k is inf - inf = NaN for one key, -inf for the others (4 or more: a vectorised loop)."""
    inf = float("inf")
    for n in (2, 4, 5, 17):
        q = fg.tensor([[1.0, inf]], requires_grad=True)
        k = fg.tensor([[1.0, -1.0]] * (n - 2) + [[inf, -1.0], [1.0, -1.0]], requires_grad=True)
        out = F.scaled_dot_product_attention(q, k, fg.ones(n, 3))
        assert np.isnan(out.numpy()).all(), n


def test_batch_norm_statistics_when_the_first_element_is_infinite():
    """The batch mean of [-inf, 0.9, -0.07] is -inf (PyTorch's running_mean too); shifting the sums by
    the first element made it NaN."""
    rm, rv = fg.zeros(1, dtype=fg.float64), fg.ones(1, dtype=fg.float64)
    x = fg.tensor([[-np.inf], [0.9], [-0.07]], dtype=fg.float64)
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    assert rm.numpy().tolist() == [-np.inf] and np.isnan(rv.numpy()).all()


def test_batch_norm_gradient_through_an_infinite_weight_is_infinite():
    """dx = weight·invstd·(dy - mean(dy) - x̂·mean(dy·x̂)) with weight = inf is ±inf (PyTorch's too);
    the kernel's dy·a + x·b + k form gave inf - inf = NaN."""
    torch = _torch()
    data = np.array([[0.18, 1.57, -2.69]])
    grads = []
    for lib in (fg, torch):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        w = lib.tensor([np.inf], dtype=lib.float64)
        out = lib.nn.functional.batch_norm(x.reshape(3, 1), None, None, w, None, training=True)
        (out * lib.tensor([[0.5], [-1.0], [0.25]], dtype=lib.float64)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("kwargs", [{}, {"dilation": (1, 2)}])
def test_max_pool_window_with_two_nans_takes_the_last_as_pytorch(kwargs):
    """PyTorch's max_pool2d moves to every NaN it meets, so its index (and gradient) is the last
    NaN's; fastgrad kept the first. Both the plain 2x2 path and the general one."""
    torch = _torch()
    x = np.arange(32.0).reshape(1, 1, 4, 8)
    x[0, 0, 0, 0] = x[0, 0, 1, 0] = x[0, 0, 0, 2] = np.nan
    results = []
    for lib in (fg, torch):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        out, at = lib.nn.functional.max_pool2d(t, 2, return_indices=True, **kwargs)
        out.sum().backward()
        results.append((at.numpy(), np.isnan(out.detach().numpy()), t.grad.numpy()))
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)


def test_pow_gradient_with_a_huge_exponent_whose_power_underflows():
    """d(a**b)/da = b·a^(b-1) is -1e30·0 = 0 for a = 1.98, b = -1e30; with dout = 3.5e29 the kernel
    formed dout·b first (float32 overflow to -inf) and then -inf·0 = NaN (chain case 3141, seed 0)."""
    a = fg.tensor([1.98], requires_grad=True)
    (a ** fg.tensor([-1e30])).backward(fg.tensor([3.5e29]))
    assert a.grad.numpy().tolist() == [0.0]

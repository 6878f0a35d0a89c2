"""PyTorch's other activations (hardtanh ... hardshrink, glu, prelu, softmin) and pointwise math (erf,
erfc, erfinv, lerp, addcmul, addcdiv, nan_to_num, logaddexp), fg.set_default_dtype: values and
gradients against PyTorch in float32 and float64 at the kinks, at large, tiny, infinite and NaN
inputs; finite differences through check_op; in-place forms; modules; bad inputs."""
import warnings

import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn as nn
import fastgrad.nn.functional as F
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

torch = pytest.importorskip("torch")
TF = torch.nn.functional

_BASE = [-np.inf, -20.0, -6.0, -3.0, -2.5, -1.0, -0.5, -1e-3, -1e-30, -0.0, 0.0, 1e-30, 1e-3, 0.5, 1.0, 2.5, 3.0,
         6.0, 7.0, 20.0, 100.0, -100.0, 1e4, -1e4, np.inf, np.nan]
# long enough that the NaN and the kinks land in the vectorised body of PyTorch's kernels and of ours
X = np.array(_BASE + _BASE[::-1] + _BASE[5:] + [0.25, -0.25, 0.75, -0.75])

# name: (fastgrad function, torch function, has inplace=)
ACTS = {
    "hardtanh": (lambda x, **k: F.hardtanh(x, **k), lambda x, **k: TF.hardtanh(x, **k), True),
    "hardtanh(-2.5, 0.5)": (lambda x, **k: F.hardtanh(x, -2.5, 0.5, **k),
                            lambda x, **k: TF.hardtanh(x, -2.5, 0.5, **k), True),
    "relu6": (F.relu6, TF.relu6, True),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid, True),
    "hardswish": (F.hardswish, TF.hardswish, True),
    "mish": (F.mish, TF.mish, True),
    "selu": (F.selu, TF.selu, True),
    "celu": (lambda x, **k: F.celu(x, 0.5, **k), lambda x, **k: TF.celu(x, 0.5, **k), True),
    "celu(-2)": (lambda x: F.celu(x, -2.0), lambda x: TF.celu(x, -2.0), False),   # (torch refuses it in place)
    "softsign": (F.softsign, TF.softsign, False),
    "threshold": (lambda x, **k: F.threshold(x, 1.0, -5.0, **k), lambda x, **k: TF.threshold(x, 1.0, -5.0, **k), True),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink, False),
    "softshrink": (F.softshrink, TF.softshrink, False),
    "softshrink(2.5)": (lambda x: F.softshrink(x, 2.5), lambda x: TF.softshrink(x, 2.5), False),
    "hardshrink": (F.hardshrink, TF.hardshrink, False),
    "hardshrink(-1)": (lambda x: F.hardshrink(x, -1.0), lambda x: TF.hardshrink(x, -1.0), False),
    "silu": (F.silu, TF.silu, True),
}
DTYPES = [(fg.float64, torch.float64), (fg.float32, torch.float32)]


def _both(fn, tfn, x, dtype, tdtype, upstream=None):
    """fn(x) and its gradient for a given upstream, in both libraries (on a non-leaf x * 1)."""
    a = fg.tensor(x, dtype=dtype, requires_grad=True)
    t = torch.tensor(x, dtype=tdtype, requires_grad=True)
    y, ty = fn(a * 1.0), tfn(t * 1.0)
    g = np.linspace(-1, 1, y.numel()).reshape(y.shape) if upstream is None else upstream
    y.backward(fg.tensor(g, dtype=dtype))
    ty.backward(torch.tensor(g, dtype=tdtype))
    return (y.numpy(), a.grad.numpy()), (ty.detach().numpy(), t.grad.numpy())


def _close(got, want, f64, rtol64=1e-12, rtol32=2e-6, atol32=1e-7):
    np.testing.assert_allclose(got, want, rtol=rtol64 if f64 else rtol32, atol=1e-300 if f64 else atol32)


@pytest.mark.parametrize("name", sorted(ACTS))
@pytest.mark.parametrize("dtypes", DTYPES, ids=["float64", "float32"])
def test_activation_against_torch(name, dtypes):
    fn, tfn, _ = ACTS[name]
    (y, gx), (ty, tgx) = _both(fn, tfn, X, *dtypes)
    f64 = dtypes[0] is fg.float64
    assert y.dtype == ty.dtype
    _close(y, ty, f64)
    assert np.array_equal(np.isnan(y), np.isnan(ty))
    # At a NaN input PyTorch's gradient depends on where the element falls (its vectorised body or the
    # scalar tail); ours is that of the vectorised body everywhere (csrc/norm_act.inc), not compared.
    finite = ~np.isnan(X)
    gx, tgx = gx[finite], tgx[finite]
    if name == "tanhshrink":   # torch's 1 - (1 - tanh²) cancels near 0 (0 at 1e-30); ours is tanh²
        np.testing.assert_allclose(gx, tgx, rtol=1e-5, atol=1e-7 if not f64 else 1e-15)
    else:
        _close(gx, tgx, f64, rtol64=1e-7, rtol32=1e-5)   # (1/6 and the selu constants: last digits)
    assert np.array_equal(np.isnan(gx), np.isnan(tgx))


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation_finite_differences(name):
    fn, tfn, _ = ACTS[name]
    # away from the kinks, where finite differences are defined
    x = np.array([-7.3, -3.7, -2.2, -1.3, -0.7, -0.2, 0.3, 0.8, 1.4, 2.1, 2.8, 3.9, 6.6, 9.1]).reshape(2, 7)
    check_op(fn, lambda a: tfn(torch.tensor(a)).numpy(), inputs=[x])


@pytest.mark.parametrize("config", KERNEL_CONFIGS)
def test_activation_same_bits_on_every_path(config):
    x = np.random.default_rng(3).standard_normal(5003) * 4
    x[::97] = np.nan
    for dtype in (fg.float32, fg.float64):
        reference = {}
        for name, (fn, _, _) in ACTS.items():
            a = fg.tensor(x, dtype=dtype, requires_grad=True)
            fn(a * 1.0).backward(fg.ones(5003, dtype=dtype))
            reference[name] = (fn(a).numpy(), a.grad.numpy())
        with kernel_config(*config):
            for name, (fn, _, _) in ACTS.items():
                a = fg.tensor(x, dtype=dtype, requires_grad=True)
                fn(a * 1.0).backward(fg.ones(5003, dtype=dtype))
                y, g = fn(a).numpy(), a.grad.numpy()
                tol = 0 if config[0] is None else (4e-7 if dtype is fg.float32 else 1e-15)
                np.testing.assert_allclose(y, reference[name][0], rtol=tol, atol=tol, err_msg=name)
                np.testing.assert_allclose(g, reference[name][1], rtol=tol, atol=tol, err_msg=name)


def test_threads_give_the_same_bits():
    x = fg.tensor(np.random.default_rng(4).standard_normal(100_003) * 4)
    before = fg.get_num_threads()
    try:
        outs = []
        for threads in (1, max(2, before)):
            fg.set_num_threads(threads)
            outs.append([fn(x).numpy() for fn, _, _ in ACTS.values()])
    finally:
        fg.set_num_threads(before)
    for a, b in zip(*outs):
        assert np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("name", sorted(n for n in ACTS if ACTS[n][2]))
def test_inplace(name):
    fn, tfn, _ = ACTS[name]
    (y, gx), (ty, tgx) = _both(lambda x: fn(x, inplace=True), lambda x: tfn(x, inplace=True), X, fg.float64,
                               torch.float64)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-300)
    finite = ~np.isnan(X)   # (NaN inputs: see test_activation_against_torch)
    np.testing.assert_allclose(gx[finite], tgx[finite], rtol=1e-7, atol=1e-15)
    d = fg.tensor(X)
    assert fn(d, inplace=True) is d
    np.testing.assert_array_equal(d.numpy(), fn(fg.tensor(X)).numpy())
    w = fg.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        fn(w, inplace=True)


def test_glu_prelu_softmin_against_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5))
    x[0, 0, :3] = [0.0, np.nan, -np.inf]
    for dtype, tdtype in DTYPES:
        f64 = dtype is fg.float64
        for dim in (1, -2, -1):   # halves of 4
            (y, g), (ty, tg) = _both(lambda t: F.glu(t, dim), lambda t: TF.glu(t, dim), x[:, :, :4], dtype, tdtype)
            _close(y, ty, f64), _close(g, tg, f64, rtol64=1e-12, rtol32=1e-5)
        for dim in (0, 1, 2, -1):
            (y, g), (ty, tg) = _both(lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim), x, dtype, tdtype)
            _close(y, ty, f64, rtol64=1e-12, rtol32=1e-5), _close(g, tg, f64, rtol64=1e-10, rtol32=1e-4)
        for wv in ([0.25], [0.1, -0.2, 0.3, 2.0]):
            w = fg.tensor(wv, dtype=dtype, requires_grad=True)
            tw = torch.tensor(wv, dtype=tdtype, requires_grad=True)
            (y, g), (ty, tg) = _both(lambda t: F.prelu(t, w), lambda t: TF.prelu(t, tw), x, dtype, tdtype)
            _close(y, ty, f64), _close(g, tg, f64)
            _close(w.grad.numpy(), tw.grad.numpy(), f64, rtol64=1e-12, rtol32=1e-5)
    x2 = rng.standard_normal((2, 6))
    check_op(lambda t: F.glu(t, 1), lambda a: a[:, :3] / (1 + np.exp(-a[:, 3:])), inputs=[x2])
    check_op(lambda t: F.softmin(t, 0), lambda a: TF.softmin(torch.tensor(a), 0).numpy(), inputs=[x2])
    check_op(lambda t, w: F.prelu(t, w), lambda a, w: np.where(a > 0, a, w[None, :, None] * a),
             inputs=[rng.standard_normal((2, 3, 5)), [0.2, -0.5, 1.5]])
    check_op(lambda t, w: F.prelu(t, w), lambda a, w: np.where(a > 0, a, w * a),
             inputs=[rng.standard_normal(7), 0.3])


def test_softmin_implicit_dim_warns_and_picks_pytorchs():
    x = fg.tensor(np.random.default_rng(1).standard_normal((2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmin(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(y.numpy(), TF.softmin(torch.tensor(x.numpy()), dim=None).numpy(), rtol=1e-6)
    assert F.softmin(fg.tensor([1, 2]), 0, dtype=fg.float64).dtype is fg.float64


def test_modules():
    x = np.random.default_rng(2).standard_normal((4, 6, 3)) * 4
    pairs = [(nn.Hardtanh(-2.0, 3.0), torch.nn.Hardtanh(-2.0, 3.0)), (nn.ReLU6(), torch.nn.ReLU6()),
             (nn.Hardsigmoid(), torch.nn.Hardsigmoid()), (nn.Hardswish(), torch.nn.Hardswish()),
             (nn.Mish(), torch.nn.Mish()), (nn.SELU(), torch.nn.SELU()), (nn.CELU(0.5), torch.nn.CELU(0.5)),
             (nn.Softsign(), torch.nn.Softsign()), (nn.Threshold(0.5, -1.0), torch.nn.Threshold(0.5, -1.0)),
             (nn.GLU(1), torch.nn.GLU(1)), (nn.Softmin(dim=2), torch.nn.Softmin(dim=2)),
             (nn.Tanhshrink(), torch.nn.Tanhshrink()), (nn.Softshrink(1.5), torch.nn.Softshrink(1.5)),
             (nn.Hardshrink(), torch.nn.Hardshrink()), (nn.ReLU6(inplace=True), torch.nn.ReLU6(inplace=True)),
             (nn.Threshold(0.5, -1.0, inplace=True), torch.nn.Threshold(0.5, -1.0, inplace=True))]
    for m, tm in pairs:
        assert repr(m) == repr(tm)
        (y, g), (ty, tg) = _both(m, tm, x, fg.float64, torch.float64)
        np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-300, err_msg=repr(m))
        np.testing.assert_allclose(g, tg, rtol=1e-7, atol=1e-300, err_msg=repr(m))
        assert list(m.parameters()) == []


def test_prelu_module_learns_per_channel():
    m, tm = nn.PReLU(6, init=0.1), torch.nn.PReLU(6, init=0.1)
    assert repr(m) == repr(tm) and m.weight.dtype is fg.float32 and m.weight.shape == (6,)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    x = np.random.default_rng(5).standard_normal((4, 6, 3)).astype(np.float32)
    y, ty = m(fg.tensor(x)), tm(torch.tensor(x))
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5)
    assert nn.PReLU(dtype=fg.float64).weight.dtype is fg.float64
    assert nn.PReLU()(fg.tensor([-4.0, 2.0])).tolist() == [-1.0, 2.0]


# ---- pointwise math --------------------------------------------------------------------------------
ERF_X = np.concatenate([X / 3, [5.5, -5.9, 27.0, -27.0]])
ERFINV_X = np.array([-1.0, -0.999999, -0.9, -0.5, -1e-10, -0.0, 0.0, 1e-8, 0.3, 0.5, 0.7, 0.9999, 1 - 1e-7,
                     1 - 1e-15, 1 - 2 ** -53, 1.0, 1.5, -2.0, np.nan, np.inf, 0.123456, -0.987654])


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
@pytest.mark.parametrize("dtypes", DTYPES, ids=["float64", "float32"])
def test_erf_family_against_torch(name, dtypes):
    x = ERFINV_X if name == "erfinv" else ERF_X
    if dtypes[0] is fg.float32:
        x = x.astype(np.float32)   # (1 - 2^-53 becomes 1)
    (y, g), (ty, tg) = _both(getattr(fg, name), getattr(torch, name), x, *dtypes)
    f64 = dtypes[0] is fg.float64
    _close(y, ty, f64, rtol64=2e-15, rtol32=3e-7, atol32=1e-30)
    _close(g, tg, f64, rtol64=1e-13, rtol32=2e-6, atol32=1e-30)
    number = ~np.isnan(ty)
    assert np.array_equal(np.isnan(y), ~number) and np.array_equal(np.signbit(y[number]), np.signbit(ty[number]))
    t = fg.tensor(x, dtype=dtypes[0])
    np.testing.assert_array_equal(getattr(t, name)().numpy(), y)
    assert getattr(t, name + "_")() is t
    np.testing.assert_array_equal(t.numpy(), y)


def test_erf_family_finite_differences_and_ints():
    x = np.array([[-1.7, -0.4, 0.05, 0.6], [1.1, -2.3, 0.9, 2.6]])
    check_op(fg.erf, lambda a: torch.erf(torch.tensor(a)).numpy(), inputs=[x])
    check_op(fg.erfc, lambda a: torch.erfc(torch.tensor(a)).numpy(), inputs=[x])
    check_op(fg.erfinv, lambda a: torch.erfinv(torch.tensor(a)).numpy(), inputs=[x / 2.7])
    assert fg.erf(fg.tensor([0, 1])).dtype is fg.float32   # integers compute in float, as PyTorch's


def _pointwise_pairs(a, b, c, w):
    return {
        "lerp(0.3)": (lambda: fg.lerp(a, b, 0.3), lambda t: torch.lerp(t[0], t[1], 0.3)),
        "lerp(0.75)": (lambda: a.lerp(b, 0.75), lambda t: t[0].lerp(t[1], 0.75)),
        "lerp(1)": (lambda: fg.lerp(a, b, 1), lambda t: torch.lerp(t[0], t[1], 1.0)),
        "lerp(tensor)": (lambda: fg.lerp(a, b, w), lambda t: torch.lerp(t[0], t[1], t[3])),
        "addcmul": (lambda: fg.addcmul(a, b, c), lambda t: torch.addcmul(t[0], t[1], t[2])),
        "addcmul(value)": (lambda: a.addcmul(b, c, value=-0.5), lambda t: t[0].addcmul(t[1], t[2], value=-0.5)),
        "addcdiv": (lambda: fg.addcdiv(a, b, c), lambda t: torch.addcdiv(t[0], t[1], t[2])),
        "addcdiv(value)": (lambda: a.addcdiv(b, c, value=3), lambda t: t[0].addcdiv(t[1], t[2], value=3)),
        "logaddexp": (lambda: fg.logaddexp(a, b), lambda t: torch.logaddexp(t[0], t[1])),
        "logaddexp(-b)": (lambda: a.logaddexp(-b * 40), lambda t: t[0].logaddexp(-t[1] * 40)),
    }


@pytest.mark.parametrize("dtypes", DTYPES, ids=["float64", "float32"])
def test_lerp_addcmul_addcdiv_logaddexp_against_torch(dtypes):
    dtype, tdtype = dtypes
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((3, 4)) * 3, rng.standard_normal(4) * 3, rng.standard_normal((3, 1)) + 3,
              rng.uniform(-0.5, 1.5, (3, 4))]
    arrays[0][0, 0] = arrays[1][0] = 1e4   # logaddexp of two large equal values
    for name in _pointwise_pairs(*([None] * 4)):
        ts = [fg.tensor(v, dtype=dtype, requires_grad=i < 3) for i, v in enumerate(arrays)]
        tts = [torch.tensor(v, dtype=tdtype, requires_grad=i < 3) for i, v in enumerate(arrays)]
        y, ty = _pointwise_pairs(*ts)[name][0](), _pointwise_pairs(*ts)[name][1](tts)
        g = np.linspace(-1, 1, y.numel()).reshape(y.shape)
        y.backward(fg.tensor(g, dtype=dtype))
        ty.backward(torch.tensor(g, dtype=tdtype))
        f64 = dtype is fg.float64
        _close(y.numpy(), ty.detach().numpy(), f64, rtol64=1e-14, rtol32=1e-6, atol32=1e-6)
        for t, tt in zip(ts[:3], tts[:3]):
            if tt.grad is not None:
                _close(t.grad.numpy(), tt.grad.numpy(), f64, rtol64=1e-13, rtol32=1e-5, atol32=1e-6)


def test_pointwise_finite_differences():
    rng = np.random.default_rng(7)
    a, b, c = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.uniform(1, 2, (3, 1))
    w = rng.uniform(-0.5, 1.5, (3, 4))
    check_op(lambda x, y, z: fg.lerp(x, y, z), lambda x, y, z: x + z * (y - x), inputs=[a, b, w])
    check_op(lambda x, y: fg.lerp(x, y, 0.8), lambda x, y: x + 0.8 * (y - x), inputs=[a, b])
    check_op(lambda x, y, z: fg.addcmul(x, y, z, value=2), lambda x, y, z: x + 2 * y * z, inputs=[a, b, c])
    check_op(lambda x, y, z: fg.addcdiv(x, y, z, value=-1), lambda x, y, z: x - y / z, inputs=[a, b, c])
    check_op(fg.logaddexp, np.logaddexp, inputs=[a, b])


def test_lerp_addcmul_addcdiv_in_place_as_optimizers_use_them():
    rng = np.random.default_rng(8)
    g, p = rng.standard_normal(5), rng.standard_normal(5)
    m, v, tm, tv = fg.zeros(5, dtype=fg.float64), fg.zeros(5, dtype=fg.float64), torch.zeros(5, dtype=torch.float64), \
        torch.zeros(5, dtype=torch.float64)
    pt, tp = fg.tensor(p, dtype=fg.float64), torch.tensor(p)
    gt, tg = fg.tensor(g, dtype=fg.float64), torch.tensor(g)
    for _ in range(3):
        assert m.lerp_(gt, 0.1) is m and v.mul_(0.999).addcmul_(gt, gt, value=0.001) is v
        assert pt.addcdiv_(m, v.sqrt() + 1e-8, value=-0.01) is pt
        tm.lerp_(tg, 0.1), tv.mul_(0.999).addcmul_(tg, tg, value=0.001), tp.addcdiv_(tm, tv.sqrt() + 1e-8, value=-0.01)
    np.testing.assert_allclose(pt.numpy(), tp.numpy(), rtol=1e-13)
    x = fg.tensor([1.0, float("nan"), float("inf")])
    assert x.nan_to_num_(posinf=7.0) is x and x.tolist() == [1.0, 0.0, 7.0]


@pytest.mark.parametrize("dtypes", DTYPES, ids=["float64", "float32"])
def test_nan_to_num_against_torch(dtypes):
    x = np.array([1.5, np.nan, np.inf, -np.inf, -2.0, 0.0, 1e38, -1e300 if dtypes[0] is fg.float64 else -3e38])
    for kwargs in ({}, {"nan": 1.0}, {"nan": -3.0, "posinf": 2.0, "neginf": -9.0}, {"posinf": 1e300}):
        (y, g), (ty, tg) = _both(lambda t: fg.nan_to_num(t, **kwargs), lambda t: torch.nan_to_num(t, **kwargs), x,
                                 *dtypes)
        np.testing.assert_array_equal(y, ty)
        np.testing.assert_array_equal(g, tg)   # 0 where the input is not finite
    assert fg.nan_to_num(fg.tensor([1, 2])).tolist() == [1, 2]
    assert fg.tensor([float("nan")]).nan_to_num(nan=5.0).tolist() == [5.0]


# ---- fg.set_default_dtype ----------------------------------------------------------------------------
@pytest.fixture
def float64_default():
    fg.set_default_dtype(fg.float64)
    try:
        yield
    finally:
        fg.set_default_dtype(fg.float32)


def test_default_dtype_is_float32():
    assert fg.get_default_dtype() is fg.float32 and fg.tensor([1.5]).dtype is fg.float32


def test_set_default_dtype_changes_what_is_made(float64_default):
    assert fg.get_default_dtype() is fg.float64
    made = [fg.tensor([1.5]), fg.tensor(np.zeros(2, np.float32)), fg.zeros(2), fg.ones(2, 3), fg.empty(2),
            fg.full((2,), 0.5), fg.arange(0.0, 1.0, 0.5), fg.linspace(0, 1, 3), fg.eye(2), fg.randn(2), fg.rand(2),
            fg.tensor([1, 2]).exp(), fg.tensor([1, 2]) / 2, fg.tensor([1, 2]) * 0.5, fg.tensor([[1, 2]], requires_grad=True),
            nn.Linear(2, 3).weight, nn.Linear(2, 3).bias, nn.LayerNorm(3).weight, nn.BatchNorm1d(3).weight,
            nn.PReLU().weight, nn.Conv2d(1, 2, 3).weight]
    assert all(t.dtype is fg.float64 for t in made), [t.dtype for t in made]
    assert fg.tensor([1, 2]).dtype is fg.int64 and fg.zeros(2, dtype=fg.float32).dtype is fg.float32
    assert "dtype" not in repr(fg.tensor([1.0])) and "float32" in repr(fg.tensor([1.0], dtype=fg.float32))
    fg.set_default_dtype("float32")
    assert fg.zeros(1).dtype is fg.float32


def test_set_default_dtype_refuses_non_float():
    for bad in (fg.int64, fg.bool, "long"):
        with pytest.raises(TypeError, match="floating-point"):
            fg.set_default_dtype(bad)
    with pytest.raises(TypeError):
        fg.set_default_dtype("float16")
    assert fg.get_default_dtype() is fg.float32


def test_captured_step_replays_new_activations():
    x = fg.tensor(np.random.default_rng(9).standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    w = fg.tensor([0.2, 0.1, -0.3, 0.5], requires_grad=True)

    def step(x):
        y = F.mish(x) + F.hardswish(x) + F.celu(x, 0.5) + F.prelu(x.reshape(3, 4), w) + fg.erf(x) + F.glu(x, 1).sum()
        y.sum().backward()
        return y, x.grad

    eager = [t.numpy().copy() for t in step(x)]
    x.grad = None
    compiled = fg.compile(step)
    for _ in range(2):
        x.grad = None
        got = [t.numpy() for t in compiled(x)]
    for a, b in zip(got, eager):
        np.testing.assert_array_equal(a, b)


# ---- bad inputs -------------------------------------------------------------------------------------
def test_bad_inputs():
    x = fg.tensor([[1.0, -2.0, 3.0]])
    cases = [
        (ValueError, "min_val", lambda: F.hardtanh(x, 2.0, 1.0)),
        (ValueError, "min_val", lambda: nn.Hardtanh(2.0, 1.0)),
        (TypeError, "min_val", lambda: F.hardtanh(x, "a")),
        (TypeError, "max_val", lambda: F.hardtanh(x, 0.0, float("nan"))),
        (ValueError, "alpha cannot be 0", lambda: F.celu(x, 0.0)),
        (ValueError, "alpha cannot be 0", lambda: nn.CELU(0)),
        (ValueError, "lambd", lambda: F.softshrink(x, -0.5)),
        (ValueError, "lambd", lambda: nn.Softshrink(-1)),
        (TypeError, "lambd", lambda: F.hardshrink(x, None)),
        (TypeError, "threshold", lambda: F.threshold(x, None, 1.0)),
        (TypeError, "value", lambda: F.threshold(x, 0.0, True)),
        (TypeError, "expects|Tensor", lambda: F.mish([1.0, 2.0])),
        (TypeError, "expects|Tensor", lambda: F.selu(np.ones(3))),
        (ValueError, "halving dimension must be even", lambda: F.glu(x, 1)),
        (ValueError, "0-d", lambda: F.glu(fg.tensor(1.0))),
        (IndexError, "dim 2 is out of range", lambda: F.glu(x, 2)),
        (ValueError, "channels", lambda: F.prelu(x.reshape(1, 3, 1), fg.tensor([0.1, 0.2]))),
        (ValueError, "channels", lambda: F.prelu(fg.tensor([1.0, 2.0]), fg.tensor([0.1, 0.2]))),
        (TypeError, "weight", lambda: F.prelu(x, fg.tensor([0.1], dtype=fg.float64))),
        (TypeError, "weight", lambda: F.prelu(x, 0.25)),
        (ValueError, "num_parameters", lambda: nn.PReLU(0)),
        (IndexError, "dim 3", lambda: F.softmin(x, 3)),
        (TypeError, "dtype mismatch", lambda: fg.lerp(x, x.double(), 0.5)),
        (TypeError, "weight", lambda: fg.lerp(x, x, x.double())),
        (TypeError, "weight", lambda: fg.lerp(x, x, "0.5")),
        (TypeError, "Tensor", lambda: fg.lerp(x, [1.0, 2.0, 3.0], 0.5)),
        (TypeError, "integer division", lambda: fg.addcdiv(x, fg.tensor([1]), fg.tensor([2]))),
        (TypeError, "value", lambda: fg.addcmul(x, x, x, value="2")),
        (TypeError, "tensor2", lambda: fg.addcmul(x, x, 2.0)),
        (TypeError, "posinf", lambda: fg.nan_to_num(x, posinf="big")),
        (TypeError, "Tensor", lambda: fg.nan_to_num([1.0])),
        (TypeError, "dtype mismatch", lambda: fg.logaddexp(x, x.double())),
        (TypeError, "Tensor", lambda: fg.erfinv(0.5)),
    ]
    for exc, match, fn in cases:
        with pytest.raises(exc, match=match):
            fn()
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    for fn in (lambda: w.erf_(), lambda: w.lerp_(w * 2, 0.5), lambda: w.addcmul_(w * 1, w * 1),
               lambda: w.nan_to_num_(), lambda: F.hardtanh(w, inplace=True)):
        with pytest.raises(RuntimeError, match="leaf"):
            fn()

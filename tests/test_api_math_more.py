"""fastgrad/math_more.py (the unary and binary op codes added to the math kernels, their aliases and in-place
forms, << and >>, bitwise ops, gcd) and fastgrad/toplevel.py (torch's top-level forms of nn.functional,
dtype rules, windows, atleast_*, hsplit, ...), against PyTorch: values and gradients in float32 and float64,
int64 where the op takes it, and the errors."""
import math

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

torch = pytest.importorskip("torch")

FLOATS = [(fg.float32, torch.float32), (fg.float64, torch.float64)]


def ours_and_theirs(values, dtype=(fg.float64, torch.float64), requires_grad=False):
    a = np.asarray(values)
    ours = fg.tensor(a, dtype=dtype[0], requires_grad=requires_grad)
    theirs = torch.tensor(a, dtype=dtype[1], requires_grad=requires_grad)
    return ours, theirs


def T(a):
    """fg.tensor keeping numpy's float64 (fg.tensor makes float arrays float32 by default)."""
    a = np.asarray(a)
    return fg.tensor(a, dtype=fg.float64) if a.dtype.kind == "f" else fg.tensor(a)


def _name(dtype):
    return str(dtype).split(".")[-1]


def assert_same(ours, theirs, rtol=1e-6, atol=1e-7, exact_dtype=True):
    theirs = theirs.detach() if isinstance(theirs, torch.Tensor) else torch.tensor(theirs)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    if exact_dtype:
        assert _name(ours.dtype) == _name(theirs.dtype), (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def compare_grads(fn_fg, fn_torch, *arrays, dtype=(fg.float64, torch.float64), rtol=1e-6, atol=1e-8, seed=0):
    """fn(inputs) forward and, for an upstream gradient G, the inputs' gradients of sum(out * G)."""
    ours = [fg.tensor(np.asarray(a), dtype=dtype[0], requires_grad=True) for a in arrays]
    theirs = [torch.tensor(np.asarray(a), dtype=dtype[1], requires_grad=True) for a in arrays]
    out_fg, out_t = fn_fg(*ours), fn_torch(*theirs)
    assert_same(out_fg, out_t, rtol, atol)
    g = np.random.default_rng(seed).uniform(0.5, 1.5, size=tuple(out_t.shape))
    out_fg.backward(fg.tensor(g, dtype=dtype[0]))
    out_t.backward(torch.tensor(g, dtype=dtype[1]))
    for a, b in zip(ours, theirs):
        assert_same(a.grad, b.grad, rtol, atol)


# ---- unary functions: op codes of the unary kernel ----------------------------------------------------------
X_ANY = [-3.0, -1.2, -0.3, 0.0, 0.4, 1.1, 2.5]
X_UNIT = [-0.95, -0.5, -0.1, 0.0, 0.3, 0.7, 0.9]
X_GAMMA = [-2.5, -0.7, 0.01, 0.3, 1.0, 2.0, 2.5, 7.25, 10.0, 12.5, 40.0, 1e5]
X_BESSEL = [-80.0, -31.0, -5.0, -0.5, 0.0, 1e-9, 0.7, 3.0, 25.0, 30.0, 31.0, 120.0, 700.0]
UNARY = [("tan", [-1.2, -0.5, 0.0, 0.3, 1.4]), ("asin", X_UNIT), ("acos", X_UNIT), ("atan", X_ANY), ("sinh", X_ANY),
         ("cosh", X_ANY), ("asinh", X_ANY), ("acosh", [1.05, 1.5, 3.0, 40.0]), ("atanh", X_UNIT),
         ("lgamma", X_GAMMA), ("digamma", X_GAMMA), ("sinc", X_ANY + [1.0, -2.0]), ("i0", X_BESSEL),
         ("deg2rad", X_ANY), ("rad2deg", X_ANY)]


@pytest.mark.parametrize("name, values", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtypes", FLOATS, ids=["float32", "float64"])
def test_unary_function_method_and_in_place_match_torch(name, values, dtypes):
    x, xt = ours_and_theirs(values, dtypes)
    rtol = 2e-6 if dtypes[0] is fg.float32 else 1e-10
    if name in ("digamma", "lgamma") and dtypes[0] is fg.float32:
        rtol = 2e-5   # PyTorch's float32 kernels round differently from our double-then-round
    assert_same(getattr(fg, name)(x), getattr(torch, name)(xt), rtol=rtol, atol=rtol)
    assert_same(getattr(x, name)(), getattr(xt, name)(), rtol=rtol, atol=rtol)
    y, yt = x.clone(), xt.clone()
    assert getattr(y, name + "_")() is y
    getattr(yt, name + "_")()
    assert_same(y, yt, rtol=rtol, atol=rtol)
    assert hasattr(fg, name + "_") == hasattr(torch, name + "_")   # torch.asin_(x), not torch.lgamma_
    if hasattr(torch, name + "_"):
        z = x.clone()
        assert getattr(fg, name + "_")(z) is z
        assert_same(z, yt, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name, values", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gradients_match_torch(name, values):
    if name == "i0":
        values = [v for v in values if abs(v) < 600]   # the gradient i1 overflows as i0 does
    compare_grads(getattr(fg, name), getattr(torch, name), values, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, low, high", [("asin", -0.9, 0.9), ("acosh", 1.2, 3.0), ("atanh", -0.8, 0.8),
                                             ("lgamma", 0.2, 4.0), ("digamma", 0.3, 4.0), ("sinc", -2.0, 2.0),
                                             ("tan", -1.0, 1.0), ("cosh", -2.0, 2.0)])
def test_unary_gradchecks(name, low, high):
    x = np.random.default_rng(3).uniform(low, high, size=(3, 4))
    check_op(getattr(fg, name), lambda a: getattr(torch, name)(torch.tensor(a)).numpy(), inputs=[x],
             check_float32=False)


def test_unary_special_values_and_integers():
    assert_same(fg.digamma(fg.tensor([0.0, -0.0, -1.0, -2.0, math.inf, math.nan], dtype=fg.float64)),
                torch.digamma(torch.tensor([0.0, -0.0, -1.0, -2.0, math.inf, math.nan], dtype=torch.float64)))
    assert_same(fg.lgamma(fg.tensor([0.0, -1.0, math.inf])), torch.lgamma(torch.tensor([0.0, -1.0, math.inf])))
    assert_same(fg.i0(fg.tensor([math.inf, -math.inf, math.nan, 800.0])),
                torch.i0(torch.tensor([math.inf, -math.inf, math.nan, 800.0])))
    assert_same(fg.atanh(fg.tensor([1.0, -1.0, 2.0])), torch.atanh(torch.tensor([1.0, -1.0, 2.0])))
    for name, _ in UNARY:   # integer tensors compute in float32, as PyTorch's
        assert_same(getattr(fg, name)(fg.tensor([1, 2, 3])), getattr(torch, name)(torch.tensor([1, 2, 3])), rtol=2e-5)
    with pytest.raises(TypeError, match="can't be written in place"):
        fg.tensor([1, 2]).asin_()
    e = fg.tensor(np.zeros((0, 3)))
    assert fg.lgamma(e).shape == (0, 3)


def test_special_functions_match_torch():
    x64 = np.array([-30.0, -4.0, -0.25, 0.0, 0.5, 2.0, 9.0, 35.0])
    for name in ("i0", "i0e", "i1", "i1e", "gammaln", "digamma", "psi", "sinc", "ndtr", "round", "expit"):
        for dtype in FLOATS:
            x, xt = ours_and_theirs(x64, dtype)
            rtol = 1e-5 if dtype[0] is fg.float32 else 1e-10
            assert_same(getattr(fg.special, name)(x), getattr(torch.special, name)(xt), rtol=rtol, atol=rtol)
    for name in ("i0e", "i1", "i1e", "ndtr"):
        compare_grads(getattr(fg.special, name), getattr(torch.special, name), x64, rtol=1e-9, atol=1e-12)
    compare_grads(fg.special.i1, torch.special.i1, [0.0, 1e-20, -1e-20])   # the 0.5 at 0, as PyTorch
    p = np.array([0.01, 0.5, 1.0, 2.0, 0.0, -1.0])
    assert_same(fg.special.entr(T(p)), torch.special.entr(torch.tensor(p)))
    compare_grads(fg.special.entr, torch.special.entr, p[:4])
    a, b = np.array([0.0, 0.0, 1.5, -2.0]), np.array([math.nan, 2.0, 0.5, 3.0])
    assert_same(fg.special.xlog1py(T(a), T(b)), torch.special.xlog1py(torch.tensor(a), torch.tensor(b)))
    compare_grads(fg.special.xlog1py, torch.special.xlog1py, a[2:], b[2:])
    assert_same(fg.special.xlog1py(T(a), 2.0), torch.special.xlog1py(torch.tensor(a), 2.0))
    x = np.array([[1.5, 2.0], [3.0, 8.5]])
    for p in (1, 3):
        assert_same(fg.special.multigammaln(T(x), p), torch.special.multigammaln(torch.tensor(x), p))
        compare_grads(lambda t: t.mvlgamma(p), lambda t: t.mvlgamma(p), x)
    with pytest.raises(ValueError, match=r"greater than \(p-1\)/2"):
        fg.mvlgamma(fg.tensor([0.4]), 3)
    from fastgrad.special import gammaln, i0e   # importable as torch.special's
    assert gammaln is fg.lgamma and i0e is fg.special.i0e


ALIASES = [("arcsin", "asin", X_UNIT), ("arccos", "acos", X_UNIT), ("arctan", "atan", X_ANY),
           ("arcsinh", "asinh", X_ANY), ("arccosh", "acosh", [1.5, 2.0]), ("arctanh", "atanh", X_UNIT),
           ("negative", "neg", X_ANY)]


@pytest.mark.parametrize("alias, name, values", ALIASES, ids=[a[0] for a in ALIASES])
def test_aliases_as_function_method_and_in_place(alias, name, values):
    x, xt = ours_and_theirs(values)
    assert_same(getattr(fg, alias)(x), getattr(torch, alias)(xt), rtol=1e-12)
    assert_same(getattr(x, alias)(), getattr(torch, name)(xt), rtol=1e-12)
    y = x.clone()
    getattr(y, alias + "_")()
    assert_same(y, getattr(torch, name)(xt), rtol=1e-12)
    compare_grads(getattr(fg, alias), getattr(torch, alias), values)


def test_logit_and_xlogy_in_place():
    p, pt = ours_and_theirs([0.1, 0.5, 0.9])
    p.logit_(), pt.logit_()
    assert_same(p, pt)
    a, at = ours_and_theirs([0.0, 2.0, 3.0])
    a.xlogy_(fg.tensor([5.0, 0.5, 2.0], dtype=fg.float64)), at.xlogy_(torch.tensor([5.0, 0.5, 2.0], dtype=torch.float64))
    assert_same(a, at)


# ---- binary functions: op codes of the binary kernel ----------------------------------------------------------
A = [-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, math.nan, 2.0, -3.0]
B = [1.5, -0.5, 2.0, -1.0, 0.5, math.nan, -3.0, 1.0, 2.0, -3.0]


@pytest.mark.parametrize("name", ["copysign", "heaviside", "fmax", "fmin", "logaddexp2", "nextafter", "atan2",
                                  "hypot", "float_power", "ldexp", "remainder", "fmod"])
@pytest.mark.parametrize("dtypes", FLOATS, ids=["float32", "float64"])
def test_binary_float_functions_match_torch(name, dtypes):
    a, at = ours_and_theirs(A, dtypes)
    b, bt = ours_and_theirs(B, dtypes)
    if name == "ldexp":
        b, bt = fg.tensor([1, -2, 3, 0, 5, 2, -1, 4, 0, 1]), torch.tensor([1, -2, 3, 0, 5, 2, -1, 4, 0, 1])
    rtol = 1e-6 if dtypes[0] is fg.float32 else 1e-12
    assert_same(getattr(fg, name)(a, b), getattr(torch, name)(at, bt), rtol=rtol, atol=rtol)
    assert_same(getattr(a, name)(b), getattr(at, name)(bt), rtol=rtol, atol=rtol)
    # broadcasting, both ways round, and a number operand
    col, colt = a.reshape(10, 1), at.reshape(10, 1)
    assert_same(getattr(fg, name)(col, b), getattr(torch, name)(colt, bt), rtol=rtol, atol=rtol)
    if name != "ldexp":   # a number operand (PyTorch's functions take it as a 0-d tensor)
        assert_same(getattr(fg, name)(a, 1.5), getattr(torch, name)(at, torch.tensor(1.5, dtype=dtypes[1])),
                    rtol=rtol, atol=rtol)
    if hasattr(torch.Tensor, name + "_") and name != "float_power":
        y, yt = a.clone(), at.clone()
        getattr(y, name + "_")(b), getattr(yt, name + "_")(bt)
        assert_same(y, yt, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", ["copysign", "fmax", "fmin", "logaddexp2", "nextafter", "float_power", "ldexp"])
def test_binary_gradients_match_torch(name):
    a = [-2.5, -1.0, 0.0, 0.5, 1.0, 3.0, 2.0, 1.5]
    b = [1.5, -0.5, 2.0, -1.0, 0.5, 3.0, 2.0, math.nan]   # a tie and a NaN for fmax and fmin
    if name == "float_power":
        a, b = [0.5, 1.5, 2.0, 3.0], [2.0, -1.5, 0.5, 3.0]
    if name == "ldexp":
        b = [1.0, -2.0, 3.0, 0.0, 5.0, 2.0, -1.0, 4.0]
    compare_grads(getattr(fg, name), getattr(torch, name), a, b)
    # broadcast operands take the backward at the output's shape, summed back
    compare_grads(getattr(fg, name), getattr(torch, name), np.array(a[:4]).reshape(4, 1), np.array(b[:4]))


def test_binary_gradchecks():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0.5, 2.0, (3, 4)), rng.uniform(-2.0, 2.0, (3, 4))
    check_op(fg.logaddexp2, lambda x, y: np.logaddexp2(x, y), inputs=[a, b])
    check_op(fg.copysign, np.copysign, inputs=[a, b])
    check_op(fg.fmax, np.fmax, inputs=[a, b])
    check_op(lambda x, y: fg.float_power(x, y), lambda x, y: np.power(x, y), inputs=[a, b], check_float32=False)
    check_op(lambda x, y: fg.ldexp(x, y), lambda x, y: x * 2.0 ** y, inputs=[a, b])


def test_binary_integer_and_mixed_dtypes_follow_torch():
    i, it = fg.tensor([3, -4, 0, 7]), torch.tensor([3, -4, 0, 7])
    j, jt = fg.tensor([2, 2, -1, -7]), torch.tensor([2, 2, -1, -7])
    for name in ("fmax", "fmin", "heaviside", "copysign", "atan2", "float_power", "ldexp"):
        assert_same(getattr(fg, name)(i, j), getattr(torch, name)(it, jt), rtol=1e-6)
    for name in ("logaddexp2", "nextafter", "hypot"):
        with pytest.raises(TypeError, match="floating-point"):
            getattr(fg, name)(i, j)
    assert_same(fg.float_power(fg.tensor([2.0, 3.0]), 2), torch.float_power(torch.tensor([2.0, 3.0]), 2))
    assert_same(fg.float_power(2, fg.tensor([0.5, 3.0])), torch.float_power(2, torch.tensor([0.5, 3.0])))
    x = fg.tensor([1.5, 2.0], requires_grad=True)   # float32 in, float64 out, the gradient back in float32
    fg.float_power(x, 2.0).sum().backward()
    assert x.grad.dtype is fg.float32 and np.allclose(x.grad.numpy(), [3.0, 4.0])
    with pytest.raises(TypeError, match="can't be written in place"):
        fg.tensor([1.5]).float_power_(2)
    b, bt = fg.tensor([True, False, True]), torch.tensor([True, False, True])
    for name in ("fmax", "fmin", "heaviside"):
        assert_same(getattr(fg, name)(b, b.logical_not()), getattr(torch, name)(bt, bt.logical_not()))


def test_heaviside_and_nextafter_gradients_follow_torch():
    x = fg.tensor([1.0, 0.0, -1.0], requires_grad=True)
    y = fg.heaviside(x, fg.tensor([0.5, 0.5, 0.5]))
    assert np.array_equal(y.numpy(), [1.0, 0.5, 0.0])
    with pytest.raises(RuntimeError, match="derivative for heaviside is not implemented"):
        y.sum().backward()
    one = fg.tensor([1.0], dtype=fg.float64)
    assert fg.nextafter(one, fg.tensor([2.0], dtype=fg.float64)).item() == math.nextafter(1.0, 2.0)


INTS = np.array([0, 1, -1, 5, -5, 12, -18, 2 ** 62, -(2 ** 63), 2 ** 63 - 1, 7, 64])
SHIFTS = np.array([0, 1, 63, 64, -1, 2, 3, 1, 1, 70, -5, 62])


@pytest.mark.parametrize("name, op", [("bitwise_and", "__and__"), ("bitwise_or", "__or__"),
                                      ("bitwise_xor", "__xor__"), ("bitwise_left_shift", "__lshift__"),
                                      ("bitwise_right_shift", "__rshift__"), ("gcd", None), ("lcm", None)])
def test_integer_bitwise_shift_gcd_lcm_match_torch(name, op):
    a, at = fg.tensor(INTS), torch.tensor(INTS)
    b, bt = fg.tensor(SHIFTS), torch.tensor(SHIFTS)
    if name in ("gcd", "lcm"):
        a, at = fg.tensor(INTS[:7]), torch.tensor(INTS[:7])
        b, bt = fg.tensor([0, 4, 6, 0, 15, -8, 12]), torch.tensor([0, 4, 6, 0, 15, -8, 12])
    expected = getattr(torch, name)(at, bt)
    assert np.array_equal(getattr(fg, name)(a, b).numpy(), expected.numpy())
    assert getattr(fg, name)(a, b).dtype is fg.int64
    assert np.array_equal(getattr(a, name)(b).numpy(), expected.numpy())
    y, yt = a.clone(), at.clone()
    getattr(y, name + "_")(b), getattr(yt, name + "_")(bt)
    assert np.array_equal(y.numpy(), yt.numpy())
    assert np.array_equal(getattr(fg, name)(a.reshape(-1, 1), b[:3]).numpy(),
                          getattr(torch, name)(at.reshape(-1, 1), bt[:3]).numpy())   # broadcast
    if op is not None:
        assert np.array_equal(getattr(a, op)(b).numpy(), getattr(at, op)(bt).numpy())
        assert np.array_equal(getattr(a, op)(3).numpy(), getattr(at, op)(3).numpy())
        rop = "__r" + op[2:]
        assert np.array_equal(getattr(b[:3], rop)(5).numpy(), getattr(bt[:3], rop)(5).numpy())   # 5 << t
        y = a.clone()
        y_id = id(y)
        iop = "__i" + op[2:]
        y = getattr(y, iop)(b)
        yt = getattr(at.clone(), iop)(bt)
        assert id(y) == y_id and np.array_equal(y.numpy(), yt.numpy())


def test_bitwise_on_bool_and_errors():
    p, pt = fg.tensor([True, True, False, False]), torch.tensor([True, True, False, False])
    q, qt = fg.tensor([True, False, True, False]), torch.tensor([True, False, True, False])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        out = getattr(fg, name)(p, q)
        assert out.dtype is fg.bool and np.array_equal(out.numpy(), getattr(torch, name)(pt, qt).numpy())
    assert np.array_equal((p & True).numpy(), (pt & True).numpy()) and (p ^ q).dtype is fg.bool
    assert np.array_equal((~fg.tensor([0, 5, -3])).numpy(), (~torch.tensor([0, 5, -3])).numpy())
    assert np.array_equal(fg.bitwise_and(p, fg.tensor([3, 2, 1, 0])).numpy(),
                          torch.bitwise_and(pt, torch.tensor([3, 2, 1, 0])).numpy())   # bool with int64: int64
    p &= q
    assert np.array_equal(p.numpy(), [True, False, False, False])
    x = fg.tensor([1.5, 2.0])
    for fn in (lambda: x & x, lambda: x << 1, lambda: fg.gcd(x, x), lambda: ~x, lambda: fg.bitwise_or(x, 1)):
        with pytest.raises(TypeError, match="integer or bool"):
            fn()
    for fn in (lambda: fg.bitwise_left_shift(q, q), lambda: fg.gcd(q, q)):
        with pytest.raises(TypeError, match="not implemented for bool"):
            fn()
    with pytest.raises(TypeError, match="expects a fastgrad Tensor"):
        fg.gcd(4, 6)


# ---- comparison aliases, in-place comparisons and arithmetic by name, clamp_min/max, rsub -----------------------
@pytest.mark.parametrize("alias, name", [("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"),
                                         ("less_equal", "le"), ("not_equal", "ne")])
def test_comparison_aliases_and_in_place(alias, name):
    x, xt = ours_and_theirs([1.0, 2.0, 3.0, math.nan])
    y, yt = ours_and_theirs([2.0, 2.0, 1.0, 1.0])
    assert np.array_equal(getattr(fg, alias)(x, y).numpy(), getattr(torch, alias)(xt, yt).numpy())
    assert np.array_equal(getattr(x, alias)(y).numpy(), getattr(xt, alias)(yt).numpy())
    for method in (alias + "_", name + "_"):
        z, zt = x.clone(), xt.clone()
        assert getattr(z, method)(y) is z
        getattr(zt, method)(yt)
        assert_same(z, zt)
    i, it = fg.tensor([1, 5, 3]), torch.tensor([1, 5, 3])
    getattr(i, name + "_")(3), getattr(it, name + "_")(3)
    assert i.dtype is fg.int64 and np.array_equal(i.numpy(), it.numpy())


def test_eq_ne_in_place_and_arithmetic_aliases_in_place():
    x, xt = ours_and_theirs([1.0, 2.0, 3.0])
    for name in ("eq_", "ne_"):
        z, zt = x.clone(), xt.clone()
        getattr(z, name)(2.0), getattr(zt, name)(2.0)
        assert_same(z, zt)
    for name, args, kwargs in (("multiply_", (3.0,), {}), ("divide_", (4.0,), {}), ("true_divide_", (2.0,), {}),
                               ("subtract_", (1.0,), {"alpha": 2}), ("divide_", (-2.0,), {"rounding_mode": "floor"}),
                               ("divide_", (-2.0,), {"rounding_mode": "trunc"})):
        z, zt = x.clone(), xt.clone()
        assert getattr(z, name)(*args, **kwargs) is z
        getattr(zt, name)(*args, **kwargs)
        assert_same(z, zt)
    i, it = fg.tensor([7, -7, 6]), torch.tensor([7, -7, 6])
    i.divide_(2, rounding_mode="floor"), it.divide_(2, rounding_mode="floor")
    assert i.dtype is fg.int64 and np.array_equal(i.numpy(), it.numpy())


def test_other_in_place_forms_match_torch():
    x, xt = ours_and_theirs([[0.5, -1.0, 0.0], [2.0, 0.0, 3.0]])
    y, yt = ours_and_theirs([[1.0, 0.0, 0.0], [2.0, 5.0, 0.0]])
    for name, args, targs in (("exp2_", (), ()), ("absolute_", (), ()), ("logical_and_", (y,), (yt,)),
                              ("logical_or_", (y,), (yt,)), ("logical_xor_", (y,), (yt,)), ("cumsum_", (1,), (1,)),
                              ("cumprod_", (0,), (0,))):
        z, zt = x.clone(), xt.clone()
        assert getattr(z, name)(*args) is z
        getattr(zt, name)(*targs)
        assert_same(z, zt, rtol=1e-12)
    m, mt = _pair((2, 4), 1)
    n, nt = _pair((4, 3), 2)
    z, zt = x.clone(), xt.clone()
    z.addmm_(m, n, beta=0.5, alpha=2.0), zt.addmm_(mt, nt, beta=0.5, alpha=2.0)
    assert_same(z, zt, rtol=1e-12)
    v, vt = _pair((4,), 3)
    w, wt = _pair((2,), 4)
    w.addmv_(m, v), wt.addmv_(mt, vt)
    assert_same(w, wt, rtol=1e-12)
    assert fg.addmv_(w, m, v) is w
    b1, b1t = _pair((3, 2, 4), 5)
    b2, b2t = _pair((3, 4, 3), 6)
    z, zt = x.clone(), xt.clone()
    z.addbmm_(b1, b2), zt.addbmm_(b1t, b2t)
    assert_same(z, zt, rtol=1e-12)
    z, zt = _pair((3, 2, 3), 7)
    z.baddbmm_(b1, b2, alpha=0.5), zt.baddbmm_(b1t, b2t, alpha=0.5)
    assert_same(z, zt, rtol=1e-12)
    leaf = fg.tensor([[0.5, -1.0, 0.0], [2.0, 0.0, 3.0]], dtype=fg.float64, requires_grad=True)
    h = leaf * 1.0   # a recorded in-place op on a non-leaf backpropagates through it
    h.cumsum_(1)
    h.sum().backward()
    assert np.array_equal(leaf.grad.numpy(), [[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]])


def test_clamp_min_max_and_rsub():
    x, xt = ours_and_theirs([-2.0, 0.5, 3.0])
    lo, lot = ours_and_theirs([0.0, 1.0, -1.0])
    assert_same(fg.clamp_min(x, 0.0), torch.clamp_min(xt, 0.0))
    assert_same(fg.clamp_max(x, 1.0), torch.clamp_max(xt, 1.0))
    assert_same(fg.clamp_min(x, lo), torch.clamp_min(xt, lot))
    for name in ("clamp_min_", "clamp_max_"):
        z, zt = x.clone(), xt.clone()
        getattr(z, name)(0.5), getattr(zt, name)(0.5)
        assert_same(z, zt)
    compare_grads(lambda a, b: fg.clamp_min(a, b), torch.clamp_min, [-2.0, 0.5, 3.0], [0.0, 1.0, -1.0])
    y, yt = ours_and_theirs([1.0, 2.0, 4.0])
    assert_same(fg.rsub(x, y), torch.rsub(xt, yt))
    assert_same(fg.rsub(x, y, alpha=3), torch.rsub(xt, yt, alpha=3))
    assert_same(fg.rsub(x, 2.0), torch.rsub(xt, 2.0))
    compare_grads(lambda a, b: fg.rsub(a, b, alpha=2), lambda a, b: torch.rsub(a, b, alpha=2), [1.0, 2.0], [3.0, 5.0])
    assert np.array_equal(fg.rsub(fg.tensor([1, 2]), 5).numpy(), [4, 3])


# ---- top-level forms of nn.functional --------------------------------------------------------------------------
def _pair(shape, seed=0, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return (fg.tensor(a, dtype=fg.float64, requires_grad=requires_grad),
            torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))


@pytest.mark.parametrize("name, shapes, kwargs", [
    ("conv1d", [(2, 3, 9), (4, 3, 3), (4,)], dict(stride=2, padding=1)),
    ("conv2d", [(2, 3, 6, 5), (4, 3, 3, 3), (4,)], dict(padding=1, dilation=1)),
    ("conv_transpose1d", [(2, 3, 5), (3, 4, 3), (4,)], dict(stride=2)),
    ("conv_transpose2d", [(1, 3, 4, 4), (3, 2, 3, 3), (2,)], dict(stride=2, padding=1, output_padding=1)),
    ("max_pool1d", [(2, 3, 9)], dict(kernel_size=3, stride=2)),
    ("max_pool2d", [(2, 3, 6, 6)], dict(kernel_size=2)),
    ("avg_pool1d", [(2, 3, 9)], dict(kernel_size=3, stride=2, padding=1)),
    ("adaptive_avg_pool1d", [(2, 3, 9)], dict(output_size=4)),
    ("selu", [(3, 4)], {}), ("celu", [(3, 4)], dict(alpha=0.7)),
    ("threshold", [(3, 4)], dict(threshold=0.1, value=-2.0)),
    ("pixel_shuffle", [(1, 8, 2, 3)], dict(upscale_factor=2)),
    ("pixel_unshuffle", [(1, 2, 4, 6)], dict(downscale_factor=2)),
    ("channel_shuffle", [(1, 6, 2, 2)], dict(groups=3)),
    ("bilinear", [(5, 3), (5, 4), (2, 3, 4), (2,)], {}),
    ("prelu", [(2, 3, 4), (3,)], {}),
    ("hardshrink", [(3, 4)], dict(lambd=0.6)),
    ("conv3d", [(1, 2, 4, 4, 3), (3, 2, 2, 2, 2), (3,)], dict(padding=1)),
    ("conv_transpose3d", [(1, 2, 3, 3, 2), (2, 3, 2, 2, 2), (3,)], dict(stride=2)),
    ("max_pool3d", [(1, 2, 4, 4, 4)], dict(kernel_size=2)),
    ("rms_norm", [(2, 3, 5)], dict(normalized_shape=(5,), eps=1e-6)),
])
def test_top_level_forms_of_functional(name, shapes, kwargs):
    pairs = [_pair(s, seed=i, requires_grad=True) for i, s in enumerate(shapes)]
    ours = getattr(fg, name)(*[p[0] for p in pairs], **kwargs)
    theirs = getattr(torch, name)(*[p[1] for p in pairs], **kwargs)
    assert_same(ours, theirs, rtol=1e-10, atol=1e-10)
    if name in ("channel_shuffle",):
        assert fg.native_channel_shuffle is fg.channel_shuffle
    g = np.random.default_rng(9).standard_normal(tuple(theirs.shape))
    ours.backward(fg.tensor(g, dtype=fg.float64)), theirs.backward(torch.tensor(g))
    for a, b in pairs:   # (F.celu's slope, from its exp, is good to about 1e-8)
        assert_same(a.grad, b.grad, rtol=1e-7, atol=1e-9)


def test_top_level_functions_with_torch_argument_orders():
    x, xt = _pair((4, 3, 5))
    w, wt = _pair((3,), 1)
    b, bt = _pair((3,), 2)
    rm, rmt = (fg.tensor([0.1, -0.2, 0.3], dtype=fg.float64), torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64))
    rv, rvt = (fg.tensor([1.0, 2.0, 0.5], dtype=fg.float64), torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64))
    for training in (False, True):
        assert_same(fg.batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5, False),
                    torch.batch_norm(xt, wt, bt, rmt, rvt, training, 0.1, 1e-5, False), rtol=1e-10, atol=1e-10)
    assert np.allclose(rm.numpy(), rmt.numpy())   # the running statistics updated alike
    assert_same(fg.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
                torch.instance_norm(xt, wt, bt, None, None, True, 0.1, 1e-5, False), rtol=1e-10, atol=1e-10)
    assert_same(fg.layer_norm(x, (5,), None, None, 1e-5, True), torch.layer_norm(xt, (5,), None, None, 1e-5, True),
                rtol=1e-10, atol=1e-10)
    assert_same(fg.group_norm(x, 3, w, b), torch.group_norm(xt, 3, wt, bt), rtol=1e-10, atol=1e-10)
    emb, embt = _pair((6, 4), 3)
    idx, idxt = fg.tensor([[0, 5], [2, 2]]), torch.tensor([[0, 5], [2, 2]])
    assert_same(fg.embedding(emb, idx), torch.embedding(embt, idxt))
    assert_same(fg.embedding(emb, idx, 2), torch.embedding(embt, idxt, 2))
    logits, logitst = _pair((3, 4), 4)
    target, targett = (T(np.eye(3, 4)), torch.tensor(np.eye(3, 4)))
    for reduction in (0, 1, 2):
        assert_same(fg.binary_cross_entropy_with_logits(logits, target, None, None, reduction),
                    torch.binary_cross_entropy_with_logits(logitst, targett, None, None, reduction), rtol=1e-10)
    with pytest.raises(ValueError, match="reduction must be 0, 1 or 2"):
        fg.binary_cross_entropy_with_logits(logits, target, reduction=3)
    values, indices = fg.adaptive_max_pool1d(x, 2)
    tvalues, tindices = torch.adaptive_max_pool1d(xt, 2)
    assert_same(values, tvalues) and np.array_equal(indices.numpy(), tindices.numpy())
    assert_same(fg.dropout(x, 0.5, False), torch.dropout(xt, 0.5, False))
    assert_same(fg.dropout(x, 0.0, True), torch.dropout(xt, 0.0, True))
    kept = fg.dropout(fg.ones(1000), 0.25, True)
    assert set(np.unique(kept.numpy())) <= {0.0, np.float32(1.0 / 0.75)} and 0 < (kept.numpy() == 0).sum() < 500
    y = fg.ones(10)
    assert fg.dropout_(y, 0.5, True) is y and set(np.unique(y.numpy())) <= {0.0, 2.0}


def test_top_level_in_place_forms():
    for name in ("relu_", "sigmoid_", "tanh_", "exp_", "abs_", "sqrt_", "asin_", "sinc_", "deg2rad_", "floor_",
                 "neg_", "negative_", "reciprocal_", "square_", "zero_"):
        x, xt = ours_and_theirs([0.25, 0.5, 0.75])
        assert getattr(fg, name)(x) is x
        getattr(torch, name)(xt)
        assert_same(x, xt, rtol=1e-12)
    for name, args in (("selu_", ()), ("celu_", (0.5,)), ("threshold_", (0.1, 20.0)), ("clamp_", (0.0, 0.5)),
                       ("gcd_", None), ("ldexp_", None), ("xlogy_", None)):
        x, xt = ours_and_theirs([-0.5, 0.05, 0.75])
        if args is None:
            x, xt = (fg.tensor([4, 6, 9]), torch.tensor([4, 6, 9])) if name == "gcd_" else (x, xt)
            args_fg = (fg.tensor([2, 4, 3]),) if name != "xlogy_" else (fg.tensor([1.0, 2.0, 3.0], dtype=fg.float64),)
            args_t = (torch.tensor([2, 4, 3]),) if name != "xlogy_" else (torch.tensor([1.0, 2.0, 3.0]),)
        else:
            args_fg = args_t = args
        assert getattr(fg, name)(x, *args_fg) is x
        getattr(torch, name)(xt, *args_t)
        assert_same(x, xt, rtol=1e-12)


# ---- predicates and dtype rules --------------------------------------------------------------------------------
DTYPES = [(fg.bool, torch.bool), (fg.int64, torch.int64), (fg.float32, torch.float32), (fg.float64, torch.float64)]


def test_predicates_match_torch():
    for ours, theirs in DTYPES:
        x, xt = fg.zeros(2, dtype=ours), torch.zeros(2, dtype=theirs)
        for name in ("is_floating_point", "is_signed", "is_complex"):
            assert getattr(fg, name)(x) == getattr(torch, name)(xt), (name, ours)
            assert getattr(x, name)() == getattr(xt, name)(), (name, ours)
    for value in (0.0, 2.5, -1, 0, True, False):
        assert fg.is_nonzero(fg.tensor([value])) == torch.is_nonzero(torch.tensor([value]))
        assert fg.tensor(value).is_nonzero() == torch.tensor(value).is_nonzero()
    for shape in ((0,), (2,)):
        with pytest.raises(ValueError, match="no single truth value"):
            fg.is_nonzero(fg.zeros(*shape))
    assert fg.is_same_size(fg.zeros(2, 3), fg.ones(2, 3)) and not fg.zeros(2, 3).is_same_size(fg.zeros(3, 2))


def test_dtype_rules_match_torch():
    for a, at in DTYPES:
        for b, bt in DTYPES:
            assert _name(fg.promote_types(a, b)) == _name(torch.promote_types(at, bt)), (a, b)
            assert fg.can_cast(a, b) == torch.can_cast(at, bt), (a, b)
    operands = [(fg.zeros(2, dtype=d), torch.zeros(2, dtype=t)) for d, t in DTYPES]
    operands += [(fg.zeros((), dtype=d), torch.zeros((), dtype=t)) for d, t in DTYPES]
    operands += [(v, v) for v in (True, 3, 2.5)]
    for x, xt in operands:
        for y, yt in operands:
            if not isinstance(x, fg.Tensor) and not isinstance(y, fg.Tensor):
                continue
            ours, theirs = fg.result_type(x, y), torch.result_type(xt, yt)
            assert _name(ours) == _name(theirs), (x, y, ours, theirs)
    assert fg.broadcast_shapes((2, 1, 3), (4, 1), 3) == torch.broadcast_shapes((2, 1, 3), (4, 1), 3)
    assert fg.broadcast_shapes() == () and isinstance(fg.broadcast_shapes((2,)), fg.Size)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        fg.broadcast_shapes((2, 3), (4,))


# ---- making tensors -------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
def test_asarray_scalar_tensor_and_range():
    x = fg.tensor([1.0, 2.0])
    assert fg.asarray(x) is x and fg.asarray(x, copy=True) is not x
    assert fg.asarray(x, dtype=fg.float64).dtype is fg.float64
    with pytest.raises(ValueError, match="needs a copy"):
        fg.asarray(x, dtype=fg.float64, copy=False)
    a = np.array([1.0, 2.0, 3.0])
    shared = fg.asarray(a)
    a[0] = 7.0
    assert shared.dtype is fg.float64 and shared.numpy()[0] == 7.0   # numpy's memory, as torch.asarray
    assert fg.asarray([1, 2]).dtype is fg.int64 and fg.asarray([[1.5]], requires_grad=True).requires_grad
    for value in (3, 2.5, True):
        assert_same(fg.scalar_tensor(value), torch.scalar_tensor(value))
    assert fg.scalar_tensor(3, dtype=fg.int64).dtype is fg.int64
    for args, kwargs in (((1, 4), {}), ((0, 1, 0.25), {}), ((2, -1, -0.5), {}), ((0, 3), {"dtype": fg.int64})):
        targs = kwargs and {"dtype": torch.int64} or {}
        assert_same(fg.range(*args, **kwargs), torch.range(*args, **targs))
    with pytest.raises(ValueError, match="inconsistent with step"):
        fg.range(0, 3, -1)


@pytest.mark.parametrize("name, kwargs", [("hann_window", {}), ("hamming_window", {}),
                                          ("hamming_window", dict(alpha=0.5, beta=0.3)), ("blackman_window", {}),
                                          ("bartlett_window", {}), ("kaiser_window", {}),
                                          ("kaiser_window", dict(beta=5.0))])
@pytest.mark.parametrize("dtypes", FLOATS, ids=["float32", "float64"])
def test_windows_match_torch(name, kwargs, dtypes):
    for n in (0, 1, 2, 3, 8, 11):
        for periodic in (True, False):
            ours = getattr(fg, name)(n, periodic, dtype=dtypes[0], **kwargs)
            theirs = getattr(torch, name)(n, periodic, dtype=dtypes[1], **kwargs)
            tol = 1e-6 if dtypes[0] is fg.float32 else 1e-12
            assert_same(ours, theirs, rtol=tol, atol=tol)
    assert getattr(fg, name)(5).dtype is fg.float32 and getattr(fg, name)(5, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating-point dtype"):
        getattr(fg, name)(4, dtype=fg.int64)
    with pytest.raises(ValueError, match=f"{name}: window_length must be a non-negative integer"):
        getattr(fg, name)(-1)


# ---- stacking and splitting ------------------------------------------------------------------------------------
def test_atleast_and_stacks_match_torch():
    shapes = [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)]
    arrays = [np.arange(np.prod(s), dtype=np.float64).reshape(s) for s in shapes]
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for a in arrays:
            assert_same(getattr(fg, name)(T(a)), getattr(torch, name)(torch.tensor(a)))
        ours = getattr(fg, name)(T(arrays[0]), T(arrays[1]))
        theirs = getattr(torch, name)(torch.tensor(arrays[0]), torch.tensor(arrays[1]))
        assert isinstance(ours, tuple) and [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
        assert isinstance(getattr(fg, name)([T(arrays[1])]), tuple)
    x = fg.tensor(arrays[1], dtype=fg.float64, requires_grad=True)
    fg.atleast_3d(x).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.ones(3))
    for name, parts in (("column_stack", [(), (1,), (1, 2)]), ("column_stack", [(3,), (3, 2)]),
                        ("row_stack", [(3,), (2, 3)]), ("dstack", [(2, 3), (2, 3, 2)]), ("dstack", [(3,), (3,)])):
        ours = getattr(fg, name)([T(np.ones(s)) for s in parts])
        theirs = getattr(torch, name)([torch.tensor(np.ones(s)) for s in parts])
        assert_same(ours, theirs)


@pytest.mark.parametrize("name, shape, arg", [("hsplit", (4, 6), 3), ("hsplit", (6,), [1, 4]), ("hsplit", (2, 5, 2), [2]),
                                              ("vsplit", (4, 6), 2), ("vsplit", (5, 2), [1, 3, 9]),
                                              ("dsplit", (2, 2, 6), 3), ("dsplit", (2, 2, 6), [2, 2])])
def test_hsplit_vsplit_dsplit_match_torch(name, shape, arg):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    ours, theirs = getattr(fg, name)(T(a), arg), getattr(torch, name)(torch.tensor(a), arg)
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert_same(o, t)
    assert len(getattr(T(a), name)(arg)) == len(theirs)


def test_split_errors_and_split_with_sizes():
    x = fg.zeros(4, 5)
    with pytest.raises(ValueError, match="not divisible by the split_size 2"):
        fg.hsplit(x, 2)
    with pytest.raises(ValueError, match="at least 2 dimension"):
        fg.vsplit(fg.zeros(4), 2)
    with pytest.raises(ValueError, match="at least 3 dimension"):
        fg.dsplit(x, 1)
    a = np.arange(12.0).reshape(3, 4)
    ours = fg.split_with_sizes(T(a), [1, 3], 1)
    theirs = torch.split_with_sizes(torch.tensor(a), [1, 3], 1)
    assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
    assert all(np.array_equal(o.numpy(), t.numpy()) for o, t in zip(ours, theirs))
    assert len(T(a).split_with_sizes([2, 1])) == 2
    with pytest.raises(ValueError, match="add up to 3"):
        fg.split_with_sizes(T(a), [1, 1])
    with pytest.raises(IndexError, match="out of range"):
        fg.split_with_sizes(T(a), [3], dim=2)


# ---- every kernel path and thread count computes the new op codes alike ------------------------------------------
def _new_codes_forward_and_backward():
    """Each new unary and float binary op code on 40000 elements (enough to split between threads), forward
    and backward, and the int64 codes forward."""
    rng = np.random.default_rng(11)
    x = fg.tensor(rng.uniform(-0.9, 0.9, 40000), dtype=fg.float64, requires_grad=True)
    y = fg.tensor(rng.uniform(0.5, 3.0, 40000), dtype=fg.float64, requires_grad=True)
    i = fg.tensor(rng.integers(-1000, 1000, 40000))
    j = fg.tensor(rng.integers(1, 70, 40000))
    out = []
    for name in ("tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "sinc"):
        out.append(getattr(fg, name)(x))
    for name in ("acosh", "lgamma", "digamma", "i0"):
        out.append(getattr(fg, name)(y))
    out += [fg.special.i0e(x * 40), fg.special.i1(x), fg.special.i1e(y * 20)]
    for name in ("copysign", "fmax", "fmin", "logaddexp2", "nextafter"):
        out.append(getattr(fg, name)(x, y - 1.5))
    total = out[0].sum()
    for t in out[1:]:
        total = total + t.sum()
    total.backward()
    ints = [getattr(fg, name)(i, j) for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                                 "bitwise_right_shift", "gcd", "lcm", "heaviside")]
    return [t.detach().numpy() for t in out + [x.grad, y.grad] + ints]


def test_new_op_codes_on_every_path_and_thread_count():
    """The same bits for any thread count on one path; the same values to rounding on every path (a path
    may fuse a multiply and an add)."""
    results = {}
    for path, threads in KERNEL_CONFIGS:
        with kernel_config(path, threads):
            results[path, threads] = _new_codes_forward_and_backward()
    first = next(iter(results.values()))
    for (path, threads), arrays in results.items():
        same_path = [r for (p, t), r in results.items() if p == path]
        for a, b in zip(arrays, same_path[0]):
            assert a.tobytes() == b.tobytes(), (path, threads)
        for a, b in zip(arrays, first):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-11, err_msg=f"{path}")


# ---- the new op codes replay in a captured step ----------------------------------------------------------------
def test_new_op_codes_capture_and_replay_to_eager_bits():
    from test_compile import _flat, _run_case

    def op(x, y):
        u = fg.asin(x.tanh()) + fg.lgamma(x * x + 1.0) + fg.digamma(y * y + 0.5) + fg.sinc(x) + fg.i0(y) + fg.atanh(y.tanh() * 0.5)
        return u * fg.copysign(x, y) + fg.fmax(x, y) + fg.logaddexp2(x, y) + fg.cosh(x) * fg.special.i1e(y)

    def make(seed):
        rng = np.random.default_rng(seed)
        return [fg.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True) for _ in range(2)]
    step = _run_case(make, op)
    compiled = fg.compile(step)
    for seed in range(4):
        expected = _flat(step(*make(seed)))
        assert _flat(compiled(*make(seed))) == expected, f"call {seed}"
    assert len(compiled.plans) == 1

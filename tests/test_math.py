"""The math helper's ops: unary math, pow/maximum/minimum, clamp, comparisons and logic, where and
masked_fill, reductions. Each through check_op (numpy forward, finite-difference backward, float64
and float32) on shapes with 0, 1 and prime sizes, broadcasting and every dim; against PyTorch with
NaN, inf and -0.0; integer dtypes; a bad-input table; every kernel path and thread count."""
import math

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

SHAPES = [(), (0,), (1,), (7,), (3, 5), (2, 3, 1)]


# ---- unary math ----------------------------------------------------------------------------------
# name: (numpy reference, input range)
UNARY = {
    "exp": (np.exp, (-2, 2)), "exp2": (np.exp2, (-2, 2)), "expm1": (np.expm1, (-2, 2)),
    "log": (np.log, (0.5, 3)), "log2": (np.log2, (0.5, 3)), "log10": (np.log10, (0.5, 3)),
    "log1p": (np.log1p, (-0.5, 3)), "sqrt": (np.sqrt, (0.5, 3)), "rsqrt": (lambda a: 1 / np.sqrt(a), (0.5, 3)),
    "abs": (np.abs, (-2, 2)), "neg": (np.negative, (-2, 2)), "sign": (np.sign, (-2, 2)),
    "square": (np.square, (-2, 2)), "sin": (np.sin, (-3, 3)), "cos": (np.cos, (-3, 3)),
    "reciprocal": (np.reciprocal, (0.5, 3)), "floor": (np.floor, (-3, 3)), "ceil": (np.ceil, (-3, 3)),
    "round": (np.round, (-3, 3)), "trunc": (np.trunc, (-3, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_gradcheck(name, shape):
    ref, (lo, hi) = UNARY[name]
    inputs = [np.random.default_rng(3).uniform(lo, hi, size=shape)]
    fn = getattr(fg, name)
    grads = check_op(fn, ref, inputs=inputs)
    method = check_op(lambda x: getattr(x, name)(), ref, inputs=inputs)
    np.testing.assert_array_equal(grads[0], method[0])


def test_unary_integer_dtypes():
    i = fg.tensor([-3, 0, 2])
    for name in ("abs", "neg", "sign", "square", "floor", "ceil", "round", "trunc"):
        out = getattr(fg, name)(i)
        assert out.dtype is fg.int64, name
        np.testing.assert_array_equal(out.numpy(), UNARY[name][0](np.array([-3, 0, 2])))
    for name in ("exp", "sqrt", "log", "sin"):
        assert getattr(i, name)().dtype is fg.float32
    assert (-fg.tensor([1, 2])).dtype is fg.int64
    assert abs(fg.tensor([-1.5])).item() == 1.5


# ---- pow, maximum, minimum, clamp --------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((3, 5), (3, 5)), ((3, 5), (5,)), ((2, 1, 3), (4, 1)), ((0, 3), (3,)), ((), (7,))])
def test_binary_math_gradcheck(shapes):
    base = np.random.default_rng(0).uniform(0.5, 2, size=shapes[0])
    expo = np.random.default_rng(1).uniform(-2, 2, size=shapes[1])
    check_op(lambda a, b: a ** b, np.power, inputs=[base, expo])
    check_op(fg.pow, np.power, inputs=[base, expo])
    other = np.random.default_rng(2).uniform(0.5, 2, size=shapes[1])
    check_op(fg.maximum, np.maximum, inputs=[base, other])
    check_op(fg.minimum, np.minimum, inputs=[base, other])


def test_pow_with_numbers():
    x = np.random.default_rng(0).uniform(0.5, 2, size=(3, 4))
    check_op(lambda a: a ** 2, lambda a: a ** 2, inputs=[x])
    check_op(lambda a: a ** -1.5, lambda a: a ** -1.5, inputs=[x])
    check_op(lambda a: a ** 0, lambda a: a ** 0, inputs=[x])
    check_op(lambda a: 2.5 ** a, lambda a: 2.5 ** a, inputs=[x])
    check_op(lambda a: a.pow(3), lambda a: a ** 3, inputs=[x])
    i = fg.tensor([2, 3])
    assert (i ** 2).dtype is fg.int64 and (i ** 2).tolist() == [4, 9]
    assert (2 ** i).dtype is fg.int64 and (2 ** i).tolist() == [4, 8]
    assert (i ** 0.5).dtype is fg.float32
    assert fg.tensor([2, 3]).pow(fg.tensor([1, 2])).tolist() == [2, 9]


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.3), (-0.3, None), (0.5, -0.5)])
@pytest.mark.parametrize("shape", [(0,), (1,), (3, 5)])
def test_clamp_numbers_gradcheck(bounds, shape):
    x = np.random.default_rng(0).uniform(-1, 1, size=shape)
    x[np.abs(np.abs(x) - 0.5) < 1e-3] = 0.9   # keep finite differences off the kinks
    x[np.abs(np.abs(x) - 0.3) < 1e-3] = 0.9
    lo, hi = bounds
    ref = lambda a: np.minimum(np.maximum(a, -np.inf if lo is None else lo), np.inf if hi is None else hi)  # noqa: E731
    check_op(lambda a: a.clamp(lo, hi), ref, inputs=[x])
    check_op(lambda a: fg.clip(a, min=lo, max=hi), ref, inputs=[x])


def test_clamp_tensor_bounds_gradcheck():
    rng = np.random.default_rng(0)
    x, lo, hi = rng.uniform(-1, 1, (3, 5)), rng.uniform(-1, 0, (5,)), rng.uniform(0, 1, (3, 1))
    check_op(lambda a, b, c: a.clamp(b, c), lambda a, b, c: np.minimum(np.maximum(a, b), c), inputs=[x, lo, hi])
    check_op(lambda a, b: fg.clamp(a, min=b), lambda a, b: np.maximum(a, b), inputs=[x, lo])


def test_clamp_in_place_and_integers():
    t = fg.tensor([-2.0, 0.5, 3.0])
    assert t.clamp_(-1, 1) is t and t.tolist() == [-1.0, 0.5, 1.0]
    i = fg.tensor([-5, 0, 5])
    assert i.clamp(-1, 1).dtype is fg.int64 and i.clamp(-1, 1).tolist() == [-1, 0, 1]
    assert i.clamp(min=0.5).dtype is fg.float32
    p = fg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        p.clamp_(0, 1)
    with fg.no_grad():
        p.clamp_(0, 1)
    assert p.tolist() == [1.0, 1.0]
    y = p * 3.0   # in place on a non-leaf: recorded, the gradient flows through
    y.clamp_(max=2.0)
    y.sum().backward()
    assert p.grad.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="at least one"):
        fg.clamp(t)


# ---- comparisons, logic, where ------------------------------------------------------------------------
CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
       "ge": np.greater_equal}


@pytest.mark.parametrize("name", sorted(CMP))
@pytest.mark.parametrize("dtype", [fg.float32, fg.float64, fg.int64, fg.bool])
def test_compare(name, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, (4, 1, 3)), rng.integers(0, 3, (5, 3))
    ta, tb = fg.tensor(a, dtype=dtype), fg.tensor(b, dtype=dtype)
    na, nb = a.astype(dtype.np), b.astype(dtype.np)
    for out, expected in ((getattr(fg, name)(ta, tb), CMP[name](na, nb)), (getattr(ta, name)(tb), CMP[name](na, nb)),
                          (getattr(fg, name)(ta, ta), CMP[name](na, na))):
        assert out.dtype is fg.bool and out.shape == expected.shape
        np.testing.assert_array_equal(out.numpy(), expected)
    if dtype is not fg.bool:
        np.testing.assert_array_equal(getattr(ta, name)(1).numpy(), CMP[name](na, dtype.np.type(1)))


def test_comparison_operators_and_promotion():
    a = fg.tensor([1.0, 2.0, float("nan")])
    assert (a == 2.0).tolist() == [False, True, False]
    assert (a != a).tolist() == [False, False, True]
    assert (a < 2).tolist() == [True, False, False] and (a >= 2).tolist() == [False, True, False]
    assert (2 < a).tolist() == [False, False, False] and (2 >= a).tolist() == [True, True, False]
    pred, y = fg.tensor([1, 2, 3]), fg.tensor([1, 0, 3])
    correct = (pred == y).sum()
    assert correct.dtype is fg.int64 and correct.item() == 2
    assert (pred == y).float().mean().item() == pytest.approx(2 / 3)
    assert (fg.tensor([1, 2]) == fg.tensor([1.0, 2.5])).tolist() == [True, False]
    assert not (a == None) and (a != None) and (a == "x") is False   # noqa: E711
    # identity hashing stays: sets, dicts and `in` work with tensors as objects
    t, u = fg.zeros(3), fg.zeros(3)
    assert len({t, u}) == 2 and {t: 1}[t] == 1 and t in [t]   # `u in [t, u]` raises, as in PyTorch
    assert fg.tensor(2.0) == 2.0   # a one-element result is usable as a truth value


def test_logic():
    a, b = fg.tensor([True, True, False, False]), fg.tensor([True, False, True, False])
    assert (a & b).tolist() == [True, False, False, False]
    assert (a | b).tolist() == [True, True, True, False]
    assert (a ^ b).tolist() == [False, True, True, False]
    assert (~a).tolist() == [False, False, True, True]
    assert fg.logical_and(fg.tensor([1.0, 0.0]), fg.tensor([2, 2])).tolist() == [True, False]
    assert fg.logical_or(a, False).tolist() == a.tolist()
    assert fg.tensor([0, 3]).logical_not().tolist() == [True, False]
    assert fg.logical_xor(a, b).tolist() == [False, True, True, False]
    x = fg.tensor([[0.0, 1.0], [0.0, 0.0]])
    assert x.any().item() is True and x.all().item() is False
    assert x.any(dim=1).tolist() == [True, False] and x.all(0, keepdim=True).tolist() == [[False, False]]
    assert fg.zeros(0).all().item() is True and fg.zeros(0).any().item() is False
    f = fg.tensor([1.0, float("inf"), -float("inf"), float("nan"), -0.0])
    assert f.isnan().tolist() == [False, False, False, True, False]
    assert f.isinf().tolist() == [False, True, True, False, False]
    assert f.isfinite().tolist() == [True, False, False, False, True]
    assert fg.isinf(fg.tensor([1, 2])).tolist() == [False, False] and fg.isfinite(fg.tensor([1])).tolist() == [True]


@pytest.mark.parametrize("shapes", [((3, 5), (3, 5), (3, 5)), ((5,), (3, 1), (1, 5)), ((2, 1, 4), (4,), ()),
                                    ((0, 3), (3,), (0, 1))])
def test_where_gradcheck(shapes):
    cond = np.random.default_rng(5).random(shapes[0]) > 0.5
    c = fg.tensor(cond)
    x, y = np.random.default_rng(0).uniform(-1, 1, shapes[1]), np.random.default_rng(1).uniform(-1, 1, shapes[2])
    check_op(lambda a, b: fg.where(c, a, b), lambda a, b: np.where(cond, a, b), inputs=[x, y])
    check_op(lambda a, b: a.where(c, b), lambda a, b: np.where(cond, a, b), inputs=[x, y])


def test_where_numbers_and_masked_fill():
    c = fg.tensor([True, False])
    assert fg.where(c, 1.0, 0.0).dtype is fg.float32 and fg.where(c, 1.0, 0.0).tolist() == [1.0, 0.0]
    assert fg.where(c, fg.tensor([5, 6]), 0).dtype is fg.int64
    assert fg.where(c, fg.tensor([5, 6]), 0.5).dtype is fg.float32
    mask = np.tril(np.ones((4, 4))) == 0
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 4))
    m = fg.tensor(mask)
    check_op(lambda a: a.masked_fill(m, -1e9).softmax(-1),
             lambda a: np.exp(np.where(mask, -1e9, a) - np.where(mask, -1e9, a).max(-1, keepdims=True))
             / np.exp(np.where(mask, -1e9, a) - np.where(mask, -1e9, a).max(-1, keepdims=True)).sum(-1, keepdims=True),
             inputs=[x])
    tril = fg.tensor(np.tril(np.ones((3, 3))))
    out = fg.zeros(3, 3).masked_fill(tril == 0, float("-inf"))
    assert np.isinf(out.numpy()[0, 1]) and out.numpy()[1, 0] == 0
    t = fg.ones(2, 2)
    assert t.masked_fill_(fg.tensor([[True, False], [False, True]]), 7) is t and t.tolist() == [[7, 1], [1, 7]]
    assert fg.tensor([1, 2]).masked_fill(fg.tensor([True, False]), 9).tolist() == [9, 2]


# ---- reductions ---------------------------------------------------------------------------------------
def _dims(shape):
    return [None] + list(range(len(shape))) + [-1]


RED_SHAPES = [(7,), (3, 5), (2, 3, 4), (1, 1, 3)]


@pytest.mark.parametrize("shape", RED_SHAPES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_gradcheck(shape, keepdim):
    x = np.random.default_rng(0).uniform(0.5, 2, size=shape) * np.where(np.arange(math.prod(shape)) % 3,
                                                                        1, -1).reshape(shape)
    for dim in _dims(shape):
        axis = None if dim is None else dim
        kd = dict(keepdims=keepdim)
        check_op(lambda a: a.logsumexp(tuple(range(a.ndim)) if dim is None else dim, keepdim),
                 lambda a: np.log(np.exp(a).sum(axis=axis, **kd)), inputs=[x])
        check_op(lambda a: a.amax(() if dim is None else dim, keepdim), lambda a: a.max(axis=axis, **kd), inputs=[x])
        check_op(lambda a: a.amin(() if dim is None else dim, keepdim), lambda a: a.min(axis=axis, **kd), inputs=[x])
        check_op(lambda a: a.prod(dim, keepdim), lambda a: a.prod(axis=axis, **kd), inputs=[x])
        check_op(lambda a: a.var(dim, keepdim=keepdim), lambda a: a.var(axis=axis, ddof=1, **kd), inputs=[x])
        check_op(lambda a: a.std(dim, keepdim=keepdim, correction=0), lambda a: a.std(axis=axis, **kd), inputs=[x])
        for p in (1, 2, 3, math.inf):
            check_op(lambda a: a.norm(p, dim, keepdim),
                     lambda a: np.linalg.norm(a.reshape(-1) if axis is None else a, ord=p, axis=axis if axis is not None
                                              else None, keepdims=keepdim and axis is not None)
                     if not (keepdim and axis is None) else
                     np.linalg.norm(a.reshape(-1), ord=p).reshape((1,) * a.ndim), inputs=[x])
        if dim is not None:
            check_op(lambda a: a.max(dim, keepdim).values, lambda a: a.max(axis=axis, **kd), inputs=[x])
            check_op(lambda a: fg.min(a, dim, keepdim)[0], lambda a: a.min(axis=axis, **kd), inputs=[x])
            check_op(lambda a: a.cumsum(dim), lambda a: np.cumsum(a, axis=axis), inputs=[x])
            np.testing.assert_array_equal(fg.tensor(x).argmax(dim, keepdim).numpy(), np.argmax(x, axis, **kd))
            np.testing.assert_array_equal(fg.tensor(x).argmin(dim, keepdim).numpy(), np.argmin(x, axis, **kd))
            np.testing.assert_array_equal(fg.tensor(x).max(dim, keepdim).indices.numpy(), np.argmax(x, axis, **kd))
    check_op(lambda a: a.max(), lambda a: a.max(), inputs=[x])
    check_op(lambda a: fg.min(a), lambda a: a.min(), inputs=[x])
    assert fg.tensor(x).argmax().item() == np.argmax(x)


def test_reductions_over_several_dims():
    x = np.random.default_rng(0).uniform(-1, 1, size=(2, 3, 4, 5))
    for dims in ((0, 1), (1, 2, 3), (0, 2), (0, 3), (0, 1, 3)):
        check_op(lambda a: a.logsumexp(dims), lambda a: np.log(np.exp(a).sum(axis=dims)), inputs=[x])
        check_op(lambda a: a.amax(dims, keepdim=True), lambda a: a.max(axis=dims, keepdims=True), inputs=[x])
        check_op(lambda a: a.norm(dim=dims), lambda a: np.sqrt((a * a).sum(axis=dims)), inputs=[x])
        check_op(lambda a: a.sum(dims), lambda a: a.sum(axis=dims), inputs=[x])
        check_op(lambda a: a.mean(dims, keepdim=True), lambda a: a.mean(axis=dims, keepdims=True), inputs=[x])
    check_op(lambda a: a.var((1, 2)), lambda a: a.var(axis=(1, 2), ddof=1), inputs=[x])
    with pytest.raises(NotImplementedError, match="not adjacent"):
        fg.tensor(x).var((0, 2))


def test_prod_with_zeros_gradient():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 4.0]])
    t = fg.tensor(x, dtype=fg.float64, requires_grad=True)
    t.prod(1).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


def test_integer_reductions():
    i = fg.tensor([[1, 5, 2], [7, 2, 7]])
    for out, expected in ((i.sum(), 24), (i.sum(1), [8, 16]), (i.prod(), 980), (i.max(), 7), (i.min(), 1),
                          (i.amax(0), [7, 5, 7]), (i.cumsum(1), [[1, 6, 8], [7, 9, 16]]), (i.argmax(), 3)):
        assert out.dtype is fg.int64 and out.tolist() == expected
    values, indices = i.max(1)
    assert values.tolist() == [5, 7] and indices.tolist() == [1, 0]   # the first of tied maxima
    b = fg.tensor([True, False, True])
    assert b.sum().dtype is fg.int64 and b.sum().item() == 2
    assert fg.tensor(2**40).prod().item() == 2**40   # int64 arithmetic, not via double
    with pytest.raises(TypeError, match="mean"):
        i.mean()


def test_empty_reductions():
    z = fg.zeros(0, 3, requires_grad=True)
    z.sum().backward()   # the gradient of an empty sum is zeros, not None (as in PyTorch)
    assert z.grad is not None and z.grad.shape == (0, 3)
    w = fg.zeros(0, requires_grad=True)
    w.mean().backward()
    assert w.grad is not None and w.grad.shape == (0,)
    assert math.isnan(fg.zeros(0).mean().item()) and fg.zeros(0).prod().item() == 1.0
    assert fg.zeros(0).logsumexp(0).item() == -math.inf
    assert fg.zeros(0, 3).max(1).values.shape == (0,)
    assert fg.zeros(2, 0).sum(1).tolist() == [0.0, 0.0]


# ---- against PyTorch, with NaN, inf and -0.0 ------------------------------------------------------------
SPECIAL = [1.5, -2.0, 0.0, -0.0, float("nan"), float("inf"), -float("inf"), 3.0, 1e-30, -7.25]


def _pair(values, dtype):
    torch = pytest.importorskip("torch")
    tdtype = torch.float32 if dtype is fg.float32 else torch.float64
    f = fg.tensor(values, dtype=dtype, requires_grad=True)
    t = torch.tensor(values, dtype=tdtype, requires_grad=True)
    return torch, f, t


def _same(fgt, tt, what, zero_signs=True):
    """Equal values, NaN where PyTorch has NaN, and (forward) the sign of zeros. Gradients start
    as zeros that the backward adds to, so their zeros are +0 where PyTorch's may be -0."""
    expected = tt.detach().numpy()
    got = fgt.numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=0, equal_nan=True, err_msg=what)
    if "forward" in what and zero_signs:
        zero = expected == 0
        np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(expected[zero]), err_msg=what + " (sign of 0)")


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, dtype):
    torch, f, t = _pair(SPECIAL, dtype)
    fo, to = getattr(f, name)(), getattr(t, name)()
    _same(fo, to, f"{name} forward")
    g = np.linspace(-1, 1, len(SPECIAL))
    fo.backward(fg.tensor(g, dtype=dtype))
    to.backward(torch.tensor(g, dtype=to.dtype))
    _same(f.grad, t.grad, f"{name} backward")


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_binary_math_matches_torch(dtype):
    a_values = SPECIAL
    b_values = [1.5, 2.0, -0.0, 0.0, 1.0, float("nan"), 2.0, 3.0, -1.0, -7.25]
    for name in ("maximum", "minimum", "pow"):
        torch, fa, ta = _pair(a_values, dtype)
        _, fb, tb = _pair(b_values, dtype)
        fo, to = getattr(fg, name)(fa, fb), getattr(torch, name)(ta, tb)
        # PyTorch's maximum(0.0, -0.0) is 0.0 in float32 and -0.0 in float64: fastgrad gives a at ties
        _same(fo, to, f"{name} forward", zero_signs=name == "pow")
        fo.sum().backward()
        to.sum().backward()
        _same(fa.grad, ta.grad, f"{name} backward a")
        _same(fb.grad, tb.grad, f"{name} backward b")
    for lo, hi in ((-1.0, 1.0), (None, 0.5), (2.0, 1.0)):
        torch, f, t = _pair(SPECIAL, dtype)
        fo, to = f.clamp(lo, hi), t.clamp(lo, hi)
        _same(fo, to, f"clamp{lo, hi} forward")
        fo.sum().backward()
        to.sum().backward()
        _same(f.grad, t.grad, f"clamp{lo, hi} backward")
    torch, f, t = _pair(SPECIAL, dtype)
    _, flo, tlo = _pair([0.0] * 5 + [2.0] * 5, dtype)
    _, fhi, thi = _pair([1.0] * 10, dtype)
    fo, to = fg.clamp(f, flo, fhi), torch.clamp(t, tlo, thi)
    _same(fo, to, "clamp tensors forward", zero_signs=False)   # PyTorch: x at ties in float32, the bound in float64
    fo.sum().backward()
    to.sum().backward()
    for fx, tx in ((f, t), (flo, tlo), (fhi, thi)):
        _same(fx.grad, tx.grad, "clamp tensors backward")


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_reductions_match_torch(dtype):
    rows = [[1.0, 3.0, 3.0, -1.0], [float("nan"), 1.0, float("nan"), 2.0], [float("inf"), 1.0, -0.0, 0.0],
            [-float("inf")] * 4, [2.0, 2.0, 2.0, 2.0]]
    cases = [("max(1).values", lambda x: x.max(1).values), ("max(0).values", lambda x: x.max(0).values),
             ("min(1).values", lambda x: x.min(1)[0]), ("logsumexp(1)", lambda x: x.logsumexp(1)),
             ("logsumexp(0)", lambda x: x.logsumexp(0)), ("amax(1)", lambda x: x.amax(1)),
             ("sum(1)", lambda x: x.sum(1)), ("prod(1)", lambda x: x.prod(1)), ("var(1)", lambda x: x.var(1)),
             ("std(0)", lambda x: x.std(0)), ("norm(dim=1)", lambda x: x.norm(dim=1)),
             ("cumsum(1)", lambda x: x.cumsum(1)), ("max()", lambda x: x.max()), ("amin(0)", lambda x: x.amin(0))]
    for name, fn in cases:
        torch, f, t = _pair(rows, dtype)
        fo, to = fn(f), fn(t)
        _same(fo, to, name + " forward")
        if name == "prod(1)":
            continue   # with inf and two zeros in a row PyTorch's gradient is NaN, fastgrad's 0 (the exact one)
        g = np.linspace(-1, 1, fo._numel).reshape(fo.shape)
        fo.backward(fg.tensor(g, dtype=dtype))
        to.backward(torch.tensor(g, dtype=to.dtype))
        _same(f.grad, t.grad, name + " backward")
    torch, f, t = _pair(rows, dtype)
    np.testing.assert_array_equal(f.max(1).indices.numpy(), t.max(1).indices.numpy())
    np.testing.assert_array_equal(f.argmin(0).numpy(), t.argmin(0).numpy())


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_compare_matches_torch(dtype):
    torch, f, t = _pair(SPECIAL, dtype)
    g = f.detach().numpy()[::-1].copy()
    for name in CMP:
        np.testing.assert_array_equal(getattr(f, name)(fg.tensor(g, dtype=dtype)).numpy(),
                                      getattr(t, name)(torch.tensor(g, dtype=t.dtype)).numpy(), err_msg=name)
    np.testing.assert_array_equal(f.isinf().numpy(), t.isinf().numpy())
    np.testing.assert_array_equal(f.isfinite().numpy(), t.isfinite().numpy())
    np.testing.assert_array_equal(f.isnan().numpy(), t.isnan().numpy())


# ---- every kernel path and thread count ---------------------------------------------
def test_kernel_paths_agree():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((257, 1031)).astype(np.float32)
    x[3, 7] = np.nan
    results = []
    for path, threads in KERNEL_CONFIGS:
        with kernel_config(path, threads):
            t = fg.tensor(x, requires_grad=True)
            values, indices = t.max(1)
            outs = [values, indices, t.logsumexp(1), t.logsumexp(0), t.amin(0), t.sum(0), t.exp(), t.abs(),
                    t.clamp(-1, 1), fg.maximum(t, t.T.T * 0.5), t > 0.5]
            (values.sum() + t.logsumexp(1).sum() + t.exp().sum()).backward()
            results.append([o.numpy().copy() for o in outs] + [t.grad.numpy().copy()])
    # the same bits for any thread count on one path; paths may differ in the last bit (FMA)
    for (path, _), other in zip(KERNEL_CONFIGS[1:], results[1:]):
        for a, b in zip(results[0], other):
            if path == KERNEL_CONFIGS[0][0]:
                np.testing.assert_array_equal(a, b)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)


# ---- bad inputs: clear errors -------------------------------------------------------------------------
a = fg.randn(2, 3)
BAD = [
    (lambda: a.sum(dim=(0, 0)), ValueError, "multiple times"),
    (lambda: a.max(2), IndexError, "out of range"),
    (lambda: a.argmax(-3), IndexError, "out of range"),
    (lambda: a.logsumexp(5), IndexError, "out of range"),
    (lambda: a.max(1.5), TypeError, "integer"),
    (lambda: a.cumsum(None), TypeError, "one integer"),
    (lambda: a.prod((0, 1)), TypeError, "one integer"),
    (lambda: fg.zeros(0).max(), RuntimeError, "no elements"),
    (lambda: fg.zeros(0, 3).max(0), IndexError, "zero-size"),
    (lambda: fg.zeros(0, 3).argmax(), RuntimeError, "no elements"),
    (lambda: a.norm(p="nuc"), ValueError, "nuc"),
    (lambda: a.norm(p=-1), ValueError, "p must be"),
    (lambda: a.var(correction="x"), TypeError, "correction"),
    (lambda: a + fg.randn(3, 2), ValueError, "cannot be broadcast"),
    (lambda: fg.maximum(a, fg.randn(4)), ValueError, "cannot be broadcast"),
    (lambda: fg.maximum(a, 1.0), TypeError, "must be a fastgrad Tensor"),
    (lambda: a == fg.randn(3, 2), ValueError, "cannot be broadcast"),
    (lambda: a < "x", TypeError, "unsupported operand"),
    (lambda: fg.where(a, a, a), TypeError, "bool tensor"),
    (lambda: fg.where(a > 0, a, fg.randn(4)), ValueError, "cannot be broadcast"),
    (lambda: fg.where(a > 0, a, "x"), TypeError, "unsupported operand"),
    (lambda: a.masked_fill(a, 0.0), TypeError, "bool tensor"),
    (lambda: a.masked_fill(fg.ones(3, 3).bool(), 0.0), ValueError, "broadcast"),
    (lambda: a.masked_fill(fg.ones(2, 2, 3).bool(), 0.0), ValueError, "does not broadcast"),
    (lambda: a.masked_fill(a > 0, "x"), TypeError, "number"),
    (lambda: fg.tensor([1, 2]).masked_fill(fg.tensor([True, False]), float("nan")), ValueError, "cannot fill"),
    (lambda: a & a, TypeError, "integer or bool"),   # & on int64 is bitwise (test_api_math_more.py)
    (lambda: ~a, TypeError, "integer or bool"),
    (lambda: a.clamp(), ValueError, "at least one"),
    (lambda: a.clamp("a", 1), TypeError, "numbers, tensors or None"),
    (lambda: a.clamp(fg.randn(2, 3, dtype=fg.float64)), TypeError, "dtype mismatch"),
    (lambda: fg.tensor([True]).clamp(0, 1), TypeError, "bool"),
    (lambda: a.clamp_(fg.randn(4, 2, 3)), TypeError, "can't be written in place"),
    (lambda: fg.tensor([2, 3]) ** -1, ValueError, "negative integer powers"),
    (lambda: a ** "x", TypeError, "unsupported operand"),
    (lambda: fg.exp([1.0]), TypeError, "must be a fastgrad Tensor"),
    (lambda: -fg.tensor([True]), TypeError, "bool"),
    (lambda: fg.tensor([1, 2]).mean(), TypeError, "mean"),
    (lambda: a.round(decimals=2), NotImplementedError, "decimals"),
    (lambda: fg.ops.Unary("nope"), ValueError, "unknown unary"),
    (lambda: fg.max(a, keepdim=True), TypeError, "keepdim"),
]


@pytest.mark.parametrize("index", range(len(BAD)))
def test_bad_inputs(index):
    fn, error, message = BAD[index]
    with pytest.raises(error, match=message):
        fn()


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64, fg.int64])
def test_first_extreme_in_long_rows(dtype):
    """Rows long enough for the kernel's 16 lanes: the first of tied extremes wins across lanes and
    blocks, and a NaN anywhere wins max and min."""
    rng = np.random.default_rng(1)
    x = rng.integers(-50, 50, size=(6, 203)).astype(dtype.np)
    x[0, [150, 37, 90]] = 99
    x[1, [18, 17]] = -99
    x[2, 200] = 99
    expected_max, expected_min = np.argmax(x, 1), np.argmin(x, 1)
    t = fg.tensor(x, dtype=dtype)
    np.testing.assert_array_equal(t.argmax(1).numpy(), expected_max)
    np.testing.assert_array_equal(t.argmin(1).numpy(), expected_min)
    np.testing.assert_array_equal(t.max(1).values.numpy(), x.max(1))
    if dtype is not fg.int64:
        x[3, [120, 55]] = np.nan
        t = fg.tensor(x, dtype=dtype)
        assert t.argmax(1).numpy()[3] == 55 and t.argmin(1).numpy()[3] == 55 and np.isnan(t.max(1).values.numpy()[3])
        z = np.zeros((1, 64), dtype.np)
        z[0, 40:] = -0.0
        z[0, :40] = -1.0
        t = fg.tensor(z, dtype=dtype)
        assert t.argmax(1).item() == 40 and np.signbit(t.max(1).values.item())   # -0.0 comes first

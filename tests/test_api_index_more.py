"""fastgrad/index_more.py (scatter_reduce, index_reduce/copy/fill/put, masked_scatter, take_along_dim,
the *_scatter family, cummax/cummin/logcumsumexp, kthvalue, mode, quantile, nanmedian, histc, rot90,
cov, trapezoid, in-place shape methods, the new draws) and F.gumbel_softmax, against PyTorch:
values, indices and float64 gradients of the same program run on both libraries."""
import math

import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from gradcheck import check_op

torch = pytest.importorskip("torch")


def _make(lib, a, grad):
    if a.dtype.kind == "f":
        return lib.tensor(a, dtype=lib.float64, requires_grad=grad)
    if a.dtype.kind == "b":
        return lib.tensor(a)
    return lib.tensor(a.astype(np.int64))


def run(lib, fn, arrays, grads):
    ts = [_make(lib, a, i in grads) for i, a in enumerate(arrays)]
    out = fn(lib, *ts)
    outs = list(out) if isinstance(out, tuple) else [out]
    loss = None
    for k, o in enumerate(outs):
        if o.dtype == lib.float64 and o.requires_grad:
            w = np.random.default_rng(k + 7).uniform(-1, 1, size=tuple(o.shape))
            term = (o * lib.tensor(w, dtype=lib.float64)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    values = [o.detach().numpy() if hasattr(o, "detach") else np.asarray(o) for o in outs]
    return values, [None if t.grad is None else t.grad.numpy() for i, t in enumerate(ts) if i in grads]


def compare(fn, *arrays, grads=(0,), atol=1e-9):
    """fn(lib, *tensors) on fastgrad and on torch: the same shapes, values (NaN where torch has NaN;
    integer outputs exactly) and, for the float64 inputs listed in grads, the same gradients."""
    assert all(i < len(arrays) for i in grads)
    grads = tuple(i for i in grads if arrays[i].dtype.kind == "f")
    ours, our_grads = run(fg, fn, arrays, grads)
    theirs, their_grads = run(torch, fn, arrays, grads)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.shape == t.shape, f"shape {o.shape} != torch's {t.shape}"
        if t.dtype.kind in "iub":
            np.testing.assert_array_equal(o, t)
        else:
            np.testing.assert_allclose(o, t, atol=atol, rtol=1e-9, equal_nan=True)
    for o, t in zip(our_grads, their_grads):
        if t is None:
            assert o is None or not np.any(o)
        else:
            assert o is not None, "no gradient where torch has one"
            np.testing.assert_allclose(o, t, atol=atol, rtol=1e-9, equal_nan=True)


RNG = np.random.default_rng(0)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- scatter_reduce and index_reduce --------------------------------------------------------------
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_reduce_matches_torch(reduce, include_self, dim):
    x, src = _x(3, 4), _x(3, 4, seed=1)
    index = np.array([[0, 1, 0, 2], [2, 2, 1, 0], [1, 0, 0, 3]]) % (3 if dim == 0 else 4)   # duplicates
    compare(lambda lib, x, i, s: x.scatter_reduce(dim, i, s, reduce, include_self=include_self), x, index, src,
            grads=(0, 2))
    compare(lambda lib, x, i, s: lib.scatter_reduce(x, dim, i, s, reduce, include_self=include_self), x, index, src,
            grads=(0, 2))


@pytest.mark.parametrize("reduce", ["prod", "amax", "amin"])
def test_scatter_reduce_ties_and_zeros(reduce):
    """prod with one and with two zeros among a position's factors; amax/amin with ties (the gradient
    is split), the input value among the ties too."""
    x = np.array([[0.0, 2.0, 3.0, 1.0]])
    src = np.array([[2.0, 0.0, 3.0, 0.0, 1.0, 3.0]])
    index = np.array([[0, 1, 2, 1, 3, 2]])
    for include_self in (True, False):
        compare(lambda lib, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self), x, index, src,
                grads=(0, 2))


def test_scatter_reduce_integers_and_smaller_index():
    x = np.array([[5, -3, 8], [1, 2, 3]])
    src = np.array([[-4, 1, 7, 9], [2, -2, 6, 0]])
    index = np.array([[0, 0, 1], [2, 2, 2]])   # smaller than src: only its part is read
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            compare(lambda lib, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self),
                    x, index, src, grads=())


def test_scatter_reduce_in_place_and_errors():
    x = fg.zeros(4)
    out = x.scatter_reduce_(0, fg.tensor([1, 1, 3]), fg.tensor([2.0, 3.0, 4.0]), "amax", include_self=False)
    assert out is x and x.tolist() == [0.0, 3.0, 0.0, 4.0]
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        fg.zeros(4).scatter_reduce(0, fg.tensor([4]), fg.ones(1), "sum")
    with pytest.raises(ValueError, match="reduce must be one of"):
        fg.zeros(4).scatter_reduce(0, fg.tensor([0]), fg.ones(1), "max")
    with pytest.raises(TypeError, match="dtype"):
        fg.zeros(4).scatter_reduce(0, fg.tensor([0]), fg.ones(1, dtype=fg.float64), "sum")
    # a recorded in-place scatter_reduce_ takes over the graph
    w = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w * 1.0
    y.scatter_reduce_(0, fg.tensor([0, 0]), fg.tensor([4.0, 5.0]), "prod")
    y.sum().backward()
    assert w.grad.tolist() == [20.0, 1.0, 1.0]


def test_scatter_with_reduce_add_and_multiply():
    x, src = _x(3, 4), _x(2, 4, seed=1)
    index = np.array([[0, 1, 2, 0], [0, 0, 1, 2]])
    for reduce in ("add", "multiply"):
        compare(lambda lib, x, i, s: x.scatter(0, i, s, reduce=reduce), x, index, src, grads=())
        compare(lambda lib, x, i: lib.scatter(x, 0, i, value=1.5, reduce=reduce), x, index, grads=())
        compare(lambda lib, x, i, s: (x * 1.0).scatter_(0, i, s, reduce=reduce), x, index, src, grads=())


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_matches_torch(reduce, include_self):
    x, src = _x(4, 3), _x(5, 3, seed=2)
    index = np.array([0, 2, 0, 3, 2])
    compare(lambda lib, x, i, s: x.index_reduce(0, i, s, reduce, include_self=include_self), x, index, src,
            grads=(0, 2))
    x2, src2 = _x(2, 4), _x(2, 3, seed=3)
    compare(lambda lib, x, i, s: x.index_reduce(1, i, s, reduce, include_self=include_self), x2,
            np.array([3, 3, 0]), src2, grads=(0, 2))


def test_index_reduce_in_place():
    ours = fg.ones(3).index_reduce_(0, fg.tensor([0, 0, 2]), fg.tensor([2.0, 3.0, 4.0]), "prod")
    assert ours.tolist() == [6.0, 1.0, 4.0]
    with pytest.raises(ValueError, match="reduce must be one of"):
        fg.ones(3).index_reduce(0, fg.tensor([0]), fg.ones(1), "sum")


# ---- index_copy, index_fill, index_put, put, masked_scatter, take_along_dim -------------------------
def test_index_copy_and_fill():
    x, src = _x(4, 3), _x(2, 3, seed=1)
    compare(lambda lib, x, i, s: x.index_copy(0, i, s), x, np.array([3, 1]), src, grads=(0, 2))
    compare(lambda lib, x, i, s: lib.index_copy(x, 1, i, s), x, np.array([2, 0]), _x(4, 2, seed=4), grads=(0, 2))
    compare(lambda lib, x, i: x.index_fill(1, i, -2.5), x, np.array([0, 2, 2]))
    compare(lambda lib, x, i, v: x.index_fill(0, i, v.sum()), x, np.array([1]), _x(3, seed=5), grads=(0, 2))
    t = fg.zeros(2, 3)
    assert t.index_copy_(1, fg.tensor([2]), fg.ones(2, 1)) is t and t.tolist() == [[0, 0, 1], [0, 0, 1]]
    assert t.index_fill_(0, fg.tensor([1]), 7).tolist() == [[0, 0, 1], [7, 7, 7]]
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        fg.zeros(2, 3).index_fill(1, fg.tensor([5]), 1.0)
    with pytest.raises(ValueError, match="source of shape"):
        fg.zeros(2, 3).index_copy(0, fg.tensor([0]), fg.ones(2, 3))


def test_index_put_and_put():
    x = _x(4, 3)
    rows, cols = np.array([0, 2, 0]), np.array([1, 1, 1])   # a repeated position
    compare(lambda lib, x, r, c, v: x.index_put((r, c), v, accumulate=True), x, rows, cols, _x(3, seed=1),
            grads=(0, 3))
    compare(lambda lib, x, r, v: lib.index_put(x, (r,), v), x, np.array([3, 1]), _x(2, 3, seed=2), grads=(0, 2))
    compare(lambda lib, x, i, s: x.put(i, s), x, np.array([[0, 11], [5, -1]]), _x(2, 2, seed=3), grads=(0, 2))
    compare(lambda lib, x, i, s: x.put(i, s, accumulate=True), x, np.array([4, 4, 0]), _x(3, seed=4), grads=(0, 2))
    ints = fg.zeros(3, dtype=fg.int64)
    ints.index_put_((fg.tensor([0, 0, 2]),), fg.tensor([1, 2, 3]), accumulate=True)
    assert ints.tolist() == [3, 0, 3]
    assert fg.zeros(4).put_(fg.tensor([1, 1]), fg.tensor([1.0, 2.0]), accumulate=True).tolist() == [0, 3, 0, 0]
    with pytest.raises(IndexError, match="index 12 is out of bounds"):
        fg.zeros(3, 4).put(fg.tensor([12]), fg.ones(1))


def test_masked_scatter_and_take_along_dim():
    x = _x(3, 4)
    mask = RNG.random((3, 4)) > 0.5
    compare(lambda lib, x, m, s: x.masked_scatter(m, s), x, mask, _x(13, seed=1), grads=(0, 2))
    compare(lambda lib, x, m, s: x.masked_scatter(m, s), x, np.array([True, False, False, True]), _x(12, seed=2),
            grads=(0, 2))   # a broadcast mask
    t = fg.zeros(2, 2)
    assert t.masked_scatter_(fg.tensor([[True, False], [False, True]]), fg.tensor([5.0, 6.0, 7.0])) is t
    assert t.tolist() == [[5, 0], [0, 6]]
    with pytest.raises(ValueError, match="selects 2 elements, source has only 1"):
        fg.zeros(2).masked_scatter(fg.tensor([True, True]), fg.ones(1))
    idx = np.argsort(x, axis=1)
    compare(lambda lib, x, i: lib.take_along_dim(x, i, dim=1), x, idx)
    compare(lambda lib, x, i: x.take_along_dim(i, 0), x, np.array([[2, 0, 1, 1]]))   # broadcast
    compare(lambda lib, x, i: lib.take_along_dim(x, i), x, np.array([11, 0, 3]))
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        fg.take_along_dim(fg.zeros(3, 4), fg.tensor([[4]]), dim=1)


def test_scatter_family_and_diagonals():
    x = _x(3, 4, 5)
    compare(lambda lib, x, s: lib.select_scatter(x, s, 1, -1), x, _x(3, 5, seed=1), grads=(0, 1))
    compare(lambda lib, x, s: x.slice_scatter(s, 2, 1, 5, 2), x, _x(3, 4, 2, seed=2), grads=(0, 1))
    compare(lambda lib, x, s: lib.slice_scatter(x, s), x, _x(3, 4, 5, seed=3), grads=(0, 1))
    compare(lambda lib, x, s: x.diagonal_scatter(s, 1, 1, 2), x, _x(3, 4, seed=4), grads=(0, 1))
    compare(lambda lib, x, s: lib.diagonal_scatter(x, s, -2, 0, 2), x, _x(4, 1, seed=5), grads=(0, 1))
    compare(lambda lib, x: lib.diag_embed(x), _x(2, 3))
    compare(lambda lib, x: x.diag_embed(offset=-1, dim1=0, dim2=2), _x(2, 3))
    compare(lambda lib, x: lib.diag_embed(x, 2, 1, 0), _x(3))
    compare(lambda lib, x: x.diagflat(1), _x(2, 2))
    compare(lambda lib, x: lib.diagflat(x, -2), _x(3))
    with pytest.raises(ValueError, match="src of shape"):
        fg.select_scatter(fg.zeros(3, 4), fg.zeros(3), 0, 0)
    with pytest.raises(IndexError):
        fg.select_scatter(fg.zeros(3, 4), fg.zeros(4), 0, 3)


# ---- scans -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin_logcumsumexp(dim):
    x = np.round(_x(4, 5) * 2) / 2   # ties
    x[1, 2] = np.nan
    for name in ("cummax", "cummin"):
        compare(lambda lib, x: getattr(x, name)(dim), x)
        compare(lambda lib, x: getattr(lib, name)(x, dim), x)
    y = _x(4, 5) * 30   # large values: no overflow
    compare(lambda lib, x: x.logcumsumexp(dim), y)
    y[0, 0] = -np.inf
    compare(lambda lib, x: lib.logcumsumexp(x, dim), y)


def test_scans_on_integers_and_in_place():
    x = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]])
    compare(lambda lib, x: x.cummax(1), x, grads=())
    compare(lambda lib, x: x.cummin(0), x, grads=())
    t = fg.tensor([1.0, 2.0, 3.0])
    assert t.cumsum_(0) is t and t.tolist() == [1, 3, 6]
    assert t.cumprod_(0).tolist() == [1, 3, 18]
    compare(lambda lib, x: (x * 1.0).cumsum_(1), _x(2, 3))
    compare(lambda lib, x: (x * 1.0).cumprod_(0), _x(2, 3))


# ---- order statistics ------------------------------------------------------------------------------
def test_kthvalue_and_mode():
    x = _x(3, 6)
    for k, dim, keepdim in ((1, -1, False), (4, 1, True), (2, 0, False)):
        compare(lambda lib, x: x.kthvalue(k, dim, keepdim), x)
        compare(lambda lib, x: lib.kthvalue(x, k, dim=dim, keepdim=keepdim), x)
    with pytest.raises(IndexError, match="k \\(7\\) is out of range"):
        fg.kthvalue(fg.zeros(6), 7)
    m = np.array([[1.0, 3, 3, 2, 1, 3, 2, 2], [5, 5, 4, 4, 0, 1, 2, 3]])
    compare(lambda lib, x: x.mode(1), m)
    compare(lambda lib, x: lib.mode(x, 0, keepdim=True), m)
    compare(lambda lib, x: x.mode(), np.array([[4, 4, 1, 1, 7]]), grads=())


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_and_nanquantile(interpolation):
    x = _x(4, 7)
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    compare(lambda lib, x: lib.quantile(x, 0.3, interpolation=interpolation), x)
    compare(lambda lib, x, q: x.quantile(q, dim=1, keepdim=True, interpolation=interpolation), x, q, grads=(0,))
    compare(lambda lib, x, q: lib.quantile(x, q, dim=0, interpolation=interpolation), x, q, grads=(0,))
    xn = x.copy()
    xn[1, 3] = xn[2, 0] = xn[2, 5] = np.nan
    xn[3, :] = np.nan
    compare(lambda lib, x, q: lib.nanquantile(x, q, dim=1, interpolation=interpolation), xn, q, grads=())
    compare(lambda lib, x, q: lib.quantile(x, q, dim=1, interpolation=interpolation), xn, q, grads=())
    compare(lambda lib, x: x[:3].nanquantile(0.4, dim=1, interpolation=interpolation), xn)
    with pytest.raises(ValueError, match="range \\[0, 1\\]"):
        fg.quantile(fg.zeros(3), 1.5)


def test_nanmedian_and_msort():
    x = _x(3, 5)
    x[0, 1] = x[1, 0] = x[1, 4] = np.nan
    compare(lambda lib, x: x.nanmedian(1), x)
    compare(lambda lib, x: lib.nanmedian(x, 0, keepdim=True), x)
    compare(lambda lib, x: lib.nanmedian(x), x)
    compare(lambda lib, x: lib.nanmedian(x, 1), np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 0.0]]))
    compare(lambda lib, x: lib.msort(x), x)
    compare(lambda lib, x: x.msort(), _x(4, 2))


def test_unique_consecutive():
    x = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    for inverse in (False, True):
        for counts in (False, True):
            compare(lambda lib, x: lib.unique_consecutive(x, return_inverse=inverse, return_counts=counts), x,
                    grads=())
    m = np.array([[1, 1, 2, 2], [0, 0, 5, 5], [0, 0, 5, 6]])
    compare(lambda lib, x: x.unique_consecutive(return_inverse=True, return_counts=True, dim=1), m, grads=())
    compare(lambda lib, x: lib.unique_consecutive(x, return_counts=True, dim=0), m, grads=())


def test_histc_and_histogram():
    x = _x(50) * 2
    compare(lambda lib, x: lib.histc(x, bins=7, min=-2, max=2), x, grads=())
    compare(lambda lib, x: x.histc(5), x, grads=())
    compare(lambda lib, x: lib.histc(x, 4, 0, 3), np.array([1.0, 2, 1, 4, 2.5, 3]), grads=())
    for kwargs in ({}, {"range": (-1.0, 1.5)}, {"density": True}):
        compare(lambda lib, x: lib.histogram(x, 6, **kwargs), x, grads=())
    compare(lambda lib, x, w: lib.histogram(x, 4, weight=w), x, np.abs(_x(50, seed=1)), grads=())
    compare(lambda lib, x, e: lib.histogram(x, e), x, np.array([-3.0, -0.5, 0.0, 0.7, 3.0]), grads=())
    with pytest.raises(ValueError, match="bins must be > 0"):
        fg.histc(fg.zeros(3), bins=0)


# ---- shape helpers -------------------------------------------------------------------------------
def test_rot90_and_unravel_index():
    x = _x(2, 3, 4)
    for k in (-1, 0, 1, 2, 3, 5):
        compare(lambda lib, x: lib.rot90(x, k, (0, 2)), x)
        compare(lambda lib, x: x.rot90(k, [2, 1]), x)
    idx = np.array([[0, 7], [23, -1]])
    ours, theirs = fg.unravel_index(fg.tensor(idx), (2, 3, 4)), torch.unravel_index(torch.tensor(idx), (2, 3, 4))
    assert len(ours) == 3 and all(o.tolist() == t.tolist() for o, t in zip(ours, theirs))
    with pytest.raises(IndexError, match="index 24 is out of bounds"):
        fg.unravel_index(fg.tensor([24]), (2, 3, 4))


def test_block_diag_cartesian_prod_combinations_vander():
    compare(lambda lib, a, b, c: lib.block_diag(a, b, c), _x(2, 3), _x(3, seed=1), _x(1, 2, seed=2), grads=(0, 1, 2))
    a, b = np.array([1, 2, 3]), np.array([4, 5])
    compare(lambda lib, a, b: lib.cartesian_prod(a, b), a, b, grads=())
    compare(lambda lib, a, b, c: lib.cartesian_prod(a, b, c), _x(2), _x(3, seed=1), _x(2, seed=2), grads=(0, 1, 2))
    for r in (0, 1, 2, 3, 4):
        for rep in (False, True):
            compare(lambda lib, a: lib.combinations(a, r, with_replacement=rep), np.array([1, 2, 3]), grads=())
    compare(lambda lib, a: lib.combinations(a, 2), _x(4))
    compare(lambda lib, x: lib.vander(x), _x(4), grads=())   # (torch's vander has no working backward)
    compare(lambda lib, x: lib.vander(x, N=3, increasing=True), _x(4), grads=())
    check_op(lambda x: fg.vander(x), lambda a: np.vander(a), (4,), check_float32=False)
    check_op(lambda x: fg.vander(x, 3, increasing=True), lambda a: np.vander(a, 3, increasing=True), (5,),
             inputs=[np.array([0.0, 1.5, -2.0, 0.5, 0.0])], check_float32=False)
    compare(lambda lib, x: lib.vander(x, N=0), _x(3), grads=())
    compare(lambda lib, x: lib.vander(x, 5), np.array([2, -1, 0]), grads=())


def test_products_distances_covariance():
    compare(lambda lib, a, b: lib.inner(a, b), _x(2, 3, 4), _x(5, 4, seed=1), grads=(0, 1))
    compare(lambda lib, a, b: a.inner(b), _x(4), _x(4, seed=1), grads=(0, 1))
    compare(lambda lib, a, b: lib.inner(a, b), np.array([[1, 2], [3, 4]]), np.array([5, 6]), grads=())
    compare(lambda lib, a, b: lib.ger(a, b), _x(3), _x(2, seed=1), grads=(0, 1))
    compare(lambda lib, m, a, b: lib.addr(m, a, b, beta=0.5, alpha=2.0), _x(3, 2), _x(3, seed=1), _x(2, seed=2),
            grads=(0, 1, 2))
    compare(lambda lib, m, a, b: m.addr(a, b), _x(3, 2), _x(3, seed=1), _x(2, seed=2), grads=(0, 1, 2))
    compare(lambda lib, a, b: lib.vdot(a, b), _x(5), _x(5, seed=1), grads=(0, 1))
    for p in (2, 1, 3.5, math.inf, 0):
        compare(lambda lib, a, b: lib.dist(a, b, p), _x(3, 4), _x(4, seed=1), grads=(0, 1) if p else ())
    x = _x(3, 6)
    compare(lambda lib, x: lib.cov(x), x)
    compare(lambda lib, x: x.cov(correction=0), x)
    compare(lambda lib, x: lib.cov(x), _x(6))
    fw, aw = np.array([1, 2, 0, 3, 1, 1]), np.abs(_x(6, seed=2))
    compare(lambda lib, x, f, a: lib.cov(x, fweights=f, aweights=a), x, fw, aw, grads=(0,))
    compare(lambda lib, x, f: lib.cov(x, correction=2, fweights=f), x, fw, grads=(0,))
    compare(lambda lib, x: lib.corrcoef(x), x)
    compare(lambda lib, x: x.corrcoef(), _x(2, 5))


def test_trapezoid():
    y = _x(3, 5)
    compare(lambda lib, y: lib.trapezoid(y), y)
    compare(lambda lib, y: lib.trapezoid(y, dx=0.5, dim=0), y)
    compare(lambda lib, y, x: lib.trapezoid(y, x), y, np.sort(_x(5, seed=1)), grads=(0, 1))
    compare(lambda lib, y, x: lib.trapz(y, x, dim=0), y, _x(3, 5, seed=2), grads=(0, 1))
    compare(lambda lib, y: lib.trapz(y, dx=2.0), y)
    compare(lambda lib, y: lib.cumulative_trapezoid(y), y)
    compare(lambda lib, y, x: lib.cumulative_trapezoid(y, x, dim=0), y, _x(3, seed=3), grads=(0, 1))


def test_as_strided():
    x = _x(3, 4)
    compare(lambda lib, x: lib.as_strided(x, (2, 2), (1, 2)), x)
    compare(lambda lib, x: x.as_strided((3, 3), (4, 1), 1), x)   # overlapping windows
    compare(lambda lib, x: x.as_strided((2, 3), (0, 1)), x)   # a zero stride
    with pytest.raises(IndexError, match="out of bounds"):
        fg.zeros(3, 4).as_strided((2, 2), (8, 4))


def test_in_place_shape_methods():
    x = _x(2, 3)
    compare(lambda lib, x: (x * 1.0).unsqueeze_(1), x)
    compare(lambda lib, x: (x * 1.0).unsqueeze_(0).squeeze_(), x)
    compare(lambda lib, x: (x * 1.0).unsqueeze_(-1).squeeze_(2), x)
    compare(lambda lib, x: (x * 1.0).t_(), x)
    compare(lambda lib, x: (x * 1.0).transpose_(0, 1) * 2.0, x)
    compare(lambda lib, x: (x * 1.0).reshape(1, 2, 3).swapaxes_(0, 2), x)
    compare(lambda lib, x: (x * 1.0).reshape(3, 2, 1).swapdims_(1, 0), x)
    t = fg.ones(2, 3)
    assert t.t_() is t and t.shape == (3, 2)
    view = fg.arange(6).reshape(2, 3)
    base = view.reshape(6)
    view.t_()
    assert base.tolist() == list(range(6)) and view.tolist() == [[0, 3], [1, 4], [2, 5]]
    u = fg.zeros(3)
    assert u.unsqueeze_(0) is u and u.shape == (1, 3)
    with pytest.raises(RuntimeError, match="leaf"):
        fg.ones(2, requires_grad=True).unsqueeze_(0)


# ---- drawing -------------------------------------------------------------------------------------
def test_draws_come_from_the_seeded_generator():
    for draw in (lambda t: t.exponential_(2.0), lambda t: t.geometric_(0.3), lambda t: t.log_normal_(0.0, 0.5),
                 lambda t: t.cauchy_(1.0, 2.0), lambda t: t.random_(3, 9), lambda t: t.random_(5),
                 lambda t: t.random_()):
        fg.manual_seed(3)
        a = draw(fg.empty(1000)).numpy().copy()
        b = draw(fg.empty(1000)).numpy()
        fg.manual_seed(3)
        assert np.array_equal(a, draw(fg.empty(1000)).numpy()) and not np.array_equal(a, b)
    fg.manual_seed(0)
    n = 300_000   # (float32 buffers over 1 MiB: none that test_buffers' 512 KiB request could take)
    e = fg.empty(n, dtype=fg.float64).exponential_(2.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.01
    g = fg.empty(n).geometric_(0.25).numpy()
    assert g.min() == 1 and np.all(g == np.round(g)) and abs(g.mean() - 4.0) < 0.05
    ln = fg.empty(n, dtype=fg.float64).log_normal_(0.5, 0.25).numpy()
    assert abs(np.log(ln).mean() - 0.5) < 0.01 and abs(np.log(ln).std() - 0.25) < 0.01
    c = fg.empty(n).cauchy_(1.0, 2.0).numpy()
    assert abs(np.median(c) - 1.0) < 0.05 and abs(np.percentile(c, 75) - 3.0) < 0.1
    r = fg.empty(n, dtype=fg.int64).random_(-3, 4).numpy()
    assert r.min() == -3 and r.max() == 3 and abs(r.mean()) < 0.05
    f = fg.empty(n).random_().numpy()
    assert f.min() >= 0 and f.max() <= 2**24 and np.all(f == np.round(f))
    big = fg.empty(n, dtype=fg.int64).random_().numpy()
    assert big.min() >= 0 and big.max() > 2**62
    assert set(fg.empty(100, dtype=fg.bool).random_().tolist()) == {False, True}
    gi = fg.zeros(5, dtype=fg.int64).geometric_(0.5)
    assert gi.dtype is fg.int64 and gi.min().item() >= 1
    with pytest.raises(ValueError, match="lambd must be > 0"):
        fg.empty(3).exponential_(0.0)
    with pytest.raises(ValueError, match="from < to"):
        fg.empty(3).random_(5, 5)


def test_poisson_and_binomial():
    fg.manual_seed(1)
    rates = fg.tensor([0.0, 0.5, 3.0, 12.0, 250.0], dtype=fg.float64).expand(60_000, 5).contiguous()
    p = fg.poisson(rates).numpy()
    assert np.all(p == np.round(p)) and np.all(p[:, 0] == 0)
    assert np.allclose(p.mean(0), [0.0, 0.5, 3.0, 12.0, 250.0], rtol=0.02, atol=0.02)
    assert np.allclose(p.var(0), [0.0, 0.5, 3.0, 12.0, 250.0], rtol=0.06, atol=0.02)
    count = fg.tensor([0.0, 5.0, 20.0, 100.0, 1000.0]).expand(60_000, 5).contiguous()
    prob = fg.tensor([0.5, 0.3, 0.9, 0.5, 0.02])
    b = fg.binomial(count, prob).numpy()
    n, q = np.array([0, 5, 20, 100, 1000.0]), np.array([0.5, 0.3, 0.9, 0.5, 0.02])
    assert np.all(b >= 0) and np.all(b <= n) and np.all(b == np.round(b))
    assert np.allclose(b.mean(0), n * q, rtol=0.02, atol=0.02)
    assert np.allclose(b.var(0), n * q * (1 - q), rtol=0.06, atol=0.02)
    fg.manual_seed(1)
    assert np.array_equal(fg.poisson(rates).numpy(), p)
    with pytest.raises(ValueError, match="non-negative"):
        fg.poisson(fg.tensor([-1.0]))


def test_gumbel_softmax():
    fg.manual_seed(0)
    logits = fg.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5)
    assert np.allclose(y.sum(-1).numpy(), 1.0) and (y.numpy() > 0).all()
    fg.manual_seed(0)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(hard.numpy().ravel().tolist()) == {0.0, 1.0} and hard.argmax(-1).tolist() == y.argmax(-1).tolist()
    w = fg.tensor([[1.0, -2.0, 0.5], [0.3, 0.0, 1.0]])
    (hard * w).sum().backward()
    straight = logits.grad.numpy().copy()   # the soft sample's gradient (straight through)
    logits.grad = None
    fg.manual_seed(0)
    (F.gumbel_softmax(logits, tau=0.5) * w).sum().backward()
    assert np.allclose(straight, logits.grad.numpy())
    # the frequencies follow softmax(logits)
    fg.manual_seed(2)
    many = F.gumbel_softmax(fg.tensor([0.0, 1.0, 2.0]).expand(20_000, 3), hard=True, dim=1)
    freq = many.numpy().mean(0)
    assert np.allclose(freq, np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum(), atol=0.015)


# ---- edge cases: empty tensors, 0-d tensors, negative dims, float32 --------------------------------
EDGE_CASES = [
    lambda lib: lib.arange(6.0).reshape(2, 3).scatter_reduce(0, lib.zeros(0, 3, dtype=lib.int64), lib.ones(0, 3), "sum"),
    lambda lib: lib.zeros(0).scatter_reduce(0, lib.zeros(0, dtype=lib.int64), lib.ones(0), "prod"),
    lambda lib: lib.cummax(lib.zeros(2, 0), 1),
    lambda lib: lib.logcumsumexp(lib.zeros(0), 0),
    lambda lib: lib.cummax(lib.tensor(3.0), 0),
    lambda lib: lib.tensor(3.0).cummin(-1),
    lambda lib: lib.quantile(lib.tensor(3.0), 0.5),
    lambda lib: lib.kthvalue(lib.tensor(3.0), 1),
    lambda lib: lib.mode(lib.tensor(3.0)),
    lambda lib: lib.nanmedian(lib.tensor(3.0)),
    lambda lib: lib.nanmedian(lib.tensor([])),
    lambda lib: lib.diag_embed(lib.zeros(2, 0)),
    lambda lib: lib.arange(6.0).reshape(2, 3).index_fill(-1, lib.tensor([0, -1]), 9.0),
    lambda lib: lib.arange(6.0).reshape(2, 3).index_fill(0, lib.tensor(1), lib.tensor(4.0)),
    lambda lib: lib.unique_consecutive(lib.tensor([])),
    lambda lib: lib.histc(lib.tensor([]), 3),
    lambda lib: lib.histc(lib.tensor([2.0, 2.0]), 4),
    lambda lib: lib.block_diag(),
    lambda lib: lib.block_diag(lib.tensor(2), lib.tensor([[1, 2]])),
    lambda lib: lib.block_diag(lib.tensor(2.0), lib.tensor([[1, 2]])),
    lambda lib: lib.cartesian_prod(lib.tensor([1, 2])),
    lambda lib: lib.trapezoid(lib.zeros(3, 0)),
    lambda lib: lib.cumulative_trapezoid(lib.zeros(3, 1)),
    lambda lib: lib.trapezoid(lib.tensor([1, 2, 3])),
    lambda lib: lib.cov(lib.tensor([[1, 2, 3], [2, 2, 5]])),
    lambda lib: lib.combinations(lib.tensor([])),
    lambda lib: lib.inner(lib.tensor(2.0), lib.ones(2, 3)),
    lambda lib: lib.vander(lib.tensor([1.0, 2.0]), N=1),
    lambda lib: lib.arange(6.0).reshape(2, 3).masked_scatter(lib.tensor([[True], [False]]), lib.arange(6.0)),
    lambda lib: lib.slice_scatter(lib.zeros(2, 3), lib.ones(2, 1), 1, -1),
]


@pytest.mark.parametrize("case", range(len(EDGE_CASES)))
def test_edge_cases_match_torch(case):
    ours, theirs = EDGE_CASES[case](fg), EDGE_CASES[case](torch)
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape)
        np.testing.assert_array_equal(o.numpy(), t.numpy())


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_float32(reduce):
    x, src = _x(5, 3).astype(np.float32), _x(4, 3, seed=1).astype(np.float32)
    index = np.array([[0, 4, 1], [4, 4, 1], [0, 2, 1], [3, 0, 0]])
    ours = fg.tensor(x).scatter_reduce(-2, fg.tensor(index), fg.tensor(src), reduce)
    theirs = torch.tensor(x).scatter_reduce(-2, torch.tensor(index), torch.tensor(src), reduce)
    assert ours.dtype is fg.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_draws_are_the_same_bits_on_any_thread_count():
    """The same bits for any thread count on one kernel path; across paths the float32 normal's
    polynomials may round differently (as randn's do), the rest is the same bits."""
    from gradcheck import KERNEL_CONFIGS, kernel_config
    draws = [lambda: fg.empty(5000, dtype=fg.float64).exponential_(1.5), lambda: fg.empty(5000).geometric_(0.2),
             lambda: fg.empty(5000).log_normal_(), lambda: fg.empty(5000, dtype=fg.float64).cauchy_(),
             lambda: fg.poisson(fg.full((5000,), 30.0)), lambda: fg.binomial(fg.full((5000,), 50.0),
                                                                             fg.full((5000,), 0.4))]
    results = []
    for path, threads in KERNEL_CONFIGS:
        with kernel_config(path, threads):
            fg.manual_seed(11)
            results.append([d().numpy() for d in draws])
    for (path, _), other in zip(KERNEL_CONFIGS[1:], results[1:]):
        for a, b in zip(results[0], other):
            if path == KERNEL_CONFIGS[0][0]:
                assert np.array_equal(a, b)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-5)

"""diag, diagonal, trace, tril/triu_indices, meshgrid, repeat_interleave, scatter, index_add,
bernoulli, cumprod, logspace, kron, cdist, cosine_similarity, pairwise_distance, median, cross, unique
(fastgrad/tensor_functions.py): forward and gradients against torch in float32 and float64, on
edge shapes and negative dims; finite differences (check_op) for a few; bad inputs."""
import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op

torch = pytest.importorskip("torch")
F = fg.nn.functional
DTYPES = {"float64": (fg.float64, torch.float64, 1e-12), "float32": (fg.float32, torch.float32, 2e-5)}


def compare(fg_fn, torch_fn, *arrays, dtype="float64", grad=True, seed=0):
    """fg_fn and torch_fn on the same float arrays: same values (every output of a tuple), and with
    grad the same gradients of sum(out[0] * G) for a random G."""
    fdt, tdt, tol = DTYPES[dtype]
    ours = [fg.tensor(a, dtype=fdt, requires_grad=grad) for a in arrays]
    theirs = [torch.tensor(a, dtype=tdt, requires_grad=grad) for a in arrays]
    out, tout = fg_fn(*ours), torch_fn(*theirs)
    outs = list(out) if isinstance(out, tuple) else [out]
    touts = list(tout) if isinstance(tout, tuple) else [tout]
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert o.shape == tuple(t.shape), (o.shape, t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=tol, atol=tol)
    if grad:
        g = np.random.default_rng(seed).standard_normal(touts[0].shape)
        (outs[0] * fg.tensor(g, dtype=fdt)).sum().backward()
        (touts[0] * torch.tensor(g, dtype=tdt)).sum().backward()
        for a, t in zip(ours, theirs):
            expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
            got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
            np.testing.assert_allclose(got, expected, rtol=10 * tol, atol=10 * tol)
    return outs


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("dtype", DTYPES)
def test_diagonal_diag_trace(dtype):
    for shape, offset, d1, d2 in [((3, 4), 0, 0, 1), ((3, 4), 2, 0, 1), ((3, 4), -1, 0, 1), ((4, 3), 5, 0, 1),
                                  ((2, 3, 5), 1, -1, 0), ((2, 3, 5), -2, 2, 1), ((1, 1), 0, 0, 1), ((0, 3), 0, 0, 1),
                                  ((2, 7, 3, 2), 0, 1, 2)]:
        compare(lambda x: fg.diagonal(x, offset, d1, d2), lambda x: torch.diagonal(x, offset, d1, d2),
                rand(*shape), dtype=dtype)
        compare(lambda x: x.diagonal(offset=offset, dim1=d1, dim2=d2),
                lambda x: x.diagonal(offset=offset, dim1=d1, dim2=d2), rand(*shape), dtype=dtype)
    for shape in [(5,), (1,), (0,), (3, 3), (2, 5), (5, 2)]:
        for k in (0, 1, -2, 3):
            compare(lambda x: fg.diag(x, k), lambda x: torch.diag(x, k), rand(*shape), dtype=dtype)
    for shape in [(3, 3), (2, 5), (5, 1), (0, 2)]:
        compare(lambda x: x.trace(), lambda x: x.trace(), rand(*shape), dtype=dtype)
    x = np.arange(12).reshape(3, 4)
    assert fg.diag(fg.tensor(x), 1).tolist() == torch.diag(torch.tensor(x), 1).tolist()
    assert fg.diag(fg.tensor([1, 2])).tolist() == torch.diag(torch.tensor([1, 2])).tolist()


def test_diag_and_diagonal_finite_differences():
    check_op(lambda x: fg.diag(x, -1), lambda a: np.diag(a, -1), (4,))
    check_op(lambda x: fg.diagonal(x, 1, 2, 0), lambda a: np.diagonal(a, 1, 2, 0), (3, 2, 4))
    check_op(lambda x: fg.trace(x), lambda a: np.trace(a), (3, 5))


def test_tril_triu_indices():
    for row, col, off in [(3, 3, 0), (4, 2, 1), (2, 5, -1), (0, 3, 0), (3, 0, 0), (5, 5, 7), (5, 5, -9), (1, 1, 0)]:
        for ours, theirs in ((fg.tril_indices, torch.tril_indices), (fg.triu_indices, torch.triu_indices)):
            got, want = ours(row, col, off), theirs(row, col, off)
            assert got.dtype == fg.int64 and got.shape == tuple(want.shape)
            assert got.tolist() == want.tolist()


@pytest.mark.parametrize("dtype", DTYPES)
def test_meshgrid(dtype):
    for indexing in ("ij", "xy"):
        for shapes in [((3,), (4,)), ((2,), (1,), (5,)), ((3,),), ((0,), (2,)), ((), (3,))]:
            arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
            for k in range(len(arrays)):   # the gradient of each grid
                def rotate(grids, k=k):
                    return grids[k:] + grids[:k]
                compare(lambda *t: rotate(fg.meshgrid(*t, indexing=indexing)),
                        lambda *t: rotate(torch.meshgrid(*t, indexing=indexing)), *arrays, dtype=dtype)
    a, b = fg.arange(3), fg.arange(2)
    assert [t.tolist() for t in fg.meshgrid([a, b])] == [t.tolist() for t in torch.meshgrid(
        [torch.arange(3), torch.arange(2)], indexing="ij")]


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeat_interleave(dtype):
    x = rand(3, 4)
    for repeats, dim in [(2, None), (2, 0), (3, -1), ([1, 0, 2], 0), ([2], 1), ([0, 1, 3, 1], 1), (0, 1)]:
        compare(lambda t: fg.repeat_interleave(t, fg.tensor(repeats) if isinstance(repeats, list) else repeats, dim),
                lambda t: torch.repeat_interleave(t, torch.tensor(repeats) if isinstance(repeats, list) else repeats,
                                                  dim), x, dtype=dtype)
    compare(lambda t: t.repeat_interleave(3), lambda t: t.repeat_interleave(3), rand(5), dtype=dtype)
    compare(lambda t: t.repeat_interleave(2), lambda t: t.repeat_interleave(2), np.array(1.5), dtype=dtype)
    assert fg.repeat_interleave(fg.tensor([2, 0, 3])).tolist() == torch.repeat_interleave(
        torch.tensor([2, 0, 3])).tolist()
    assert fg.tensor([[1, 2], [3, 4]]).repeat_interleave(2, dim=0, output_size=4).tolist() == \
        torch.tensor([[1, 2], [3, 4]]).repeat_interleave(2, dim=0).tolist()


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter(dtype):
    rng = np.random.default_rng(1)
    for shape, dim, index_shape in [((4, 5), 0, (2, 5)), ((4, 5), 1, (4, 3)), ((3, 4, 2), -1, (2, 3, 1)),
                                    ((6,), 0, (4,)), ((3, 4), 0, (0, 4))]:
        d = dim % len(shape)
        # distinct positions along dim per column: the result does not depend on which duplicate wins
        index = np.stack([rng.permutation(shape[d])[:index_shape[d]] for _ in
                          range(int(np.prod([s for i, s in enumerate(index_shape) if i != d])))], -1) \
            if index_shape[d] else np.zeros(index_shape, dtype=np.int64)
        index = np.moveaxis(index.reshape((index_shape[d],) + tuple(s for i, s in enumerate(index_shape) if i != d)),
                            0, d)
        for src, grad in ((rand(*index_shape, seed=3), True),
                          (rand(*[s + 1 for s in index_shape], seed=3), False)):   # larger: its leading part is read
            compare(lambda x, s: fg.scatter(x, dim, fg.tensor(index), s),
                    lambda x, s: torch.scatter(x, dim, torch.tensor(index), s), rand(*shape), src, dtype=dtype,
                    grad=grad)
        compare(lambda x: x.scatter(dim, fg.tensor(index), 2.5), lambda x: x.scatter(dim, torch.tensor(index), 2.5),
                rand(*shape), dtype=dtype)
        compare(lambda x: fg.scatter(x, dim, fg.tensor(index), value=-1.0),
                lambda x: torch.scatter(x, dim, torch.tensor(index), value=-1.0), rand(*shape), dtype=dtype)
    # in place, on a tensor that does not require grad, and on a non-leaf with grad
    x, t = fg.tensor(rand(3, 4), dtype=fg.float64), torch.tensor(rand(3, 4))
    x.scatter_(1, fg.tensor([[0], [3], [1]]), fg.ones(3, 1, dtype=fg.float64))
    t.scatter_(1, torch.tensor([[0], [3], [1]]), torch.ones(3, 1, dtype=torch.float64))
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    compare(lambda a: (a * 2).scatter_(0, fg.tensor([[1, 0, 2, 1]]), 0.0),
            lambda a: (a * 2).scatter_(0, torch.tensor([[1, 0, 2, 1]]), 0.0), rand(3, 4), dtype=dtype)
    assert fg.tensor([[1, 2], [3, 4]]).scatter(1, fg.tensor([[1], [0]]), 9).tolist() == [[1, 9], [9, 4]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_add(dtype):
    for shape, dim, index, alpha in [((5, 3), 0, [0, 4, 0, 2], 1), ((5, 3), 1, [2, 2], 2.5), ((2, 3, 4), -1, [3], -1),
                                     ((4,), 0, [1, 1, 3], 1), ((3, 2), 0, [], 1)]:
        src_shape = list(shape)
        src_shape[dim] = len(index)
        compare(lambda x, s: fg.index_add(x, dim, fg.tensor(index, dtype=fg.int64), s, alpha=alpha),
                lambda x, s: torch.index_add(x, dim, torch.tensor(index, dtype=torch.int64), s, alpha=alpha),
                rand(*shape), rand(*src_shape, seed=2), dtype=dtype)
    x, t = fg.zeros(3, 2), torch.zeros(3, 2)
    x.index_add_(0, fg.tensor([2, 0, 2]), fg.ones(3, 2), alpha=3)
    t.index_add_(0, torch.tensor([2, 0, 2]), torch.ones(3, 2), alpha=3)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    compare(lambda a, s: (a + 0).index_add_(1, fg.tensor([0, 0]), s), lambda a, s: (a + 0).index_add_(
        1, torch.tensor([0, 0]), s), rand(2, 3), rand(2, 2), dtype=dtype)


def test_bernoulli():
    fg.manual_seed(0)
    p = fg.tensor(np.linspace(0, 1, 11))
    draws = np.stack([fg.bernoulli(p).numpy() for _ in range(2000)])
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert (draws[:, 0] == 0).all() and (draws[:, -1] == 1).all()
    np.testing.assert_allclose(draws.mean(0), np.linspace(0, 1, 11), atol=0.05)
    assert fg.bernoulli(fg.full((3,), 0.5), p=1.0).tolist() == [1, 1, 1]
    x = fg.empty(20000, dtype=fg.float64)
    assert x.bernoulli_(0.3) is x and abs(x.numpy().mean() - 0.3) < 0.02 and x.dtype == fg.float64
    y = fg.zeros(2, 4)
    y.bernoulli_(fg.tensor([0.0, 1.0, 0.0, 1.0]))
    assert y.tolist() == [[0, 1, 0, 1]] * 2
    fg.manual_seed(5)
    a = fg.rand(100).bernoulli()
    fg.manual_seed(5)
    assert fg.rand(100).bernoulli().tolist() == a.tolist()
    assert not fg.bernoulli(fg.full((2,), 0.5, requires_grad=True)).requires_grad


@pytest.mark.parametrize("dtype", DTYPES)
def test_cumprod(dtype):
    for shape, dim in [((7,), 0), ((3, 5), 1), ((3, 5), -2), ((2, 9, 3), 1), ((1,), 0), ((0, 3), 1), ((4, 0), 1),
                       ((), 0), ((2, 33), -1)]:
        x = np.random.default_rng(0).uniform(0.5, 1.5, shape) * np.where(np.arange(np.prod(shape, dtype=int)).reshape(
            shape) % 3 == 0, -1, 1)
        compare(lambda t: fg.cumprod(t, dim), lambda t: torch.cumprod(t, dim), x, dtype=dtype)
    x = np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 1.5, -2.0, 3.0, 0.5]])   # zeros: the gradient stays exact
    compare(lambda t: t.cumprod(1), lambda t: t.cumprod(1), x, dtype=dtype)
    check_op(lambda t: fg.cumprod(t, 0), lambda a: np.cumprod(a, 0), (6, 2))
    assert fg.tensor([1, 2, 3, 4]).cumprod(0).tolist() == [1, 2, 6, 24]
    assert fg.tensor([1, 2, 3]).cumprod(0, dtype=fg.float64).dtype == fg.float64


def test_logspace():
    for args, kw in [((0, 2, 5), {}), ((-1.5, 3, 7), dict(base=2.0)), ((1, 1, 1), {}), ((0, 1, 0), {}),
                     ((2, -2, 9), dict(base=np.e, dtype=fg.float64))]:
        tkw = dict(kw, dtype=torch.float64) if kw.get("dtype") is fg.float64 else kw
        got, want = fg.logspace(*args, **kw), torch.logspace(*args, **tkw)
        assert got.shape == tuple(want.shape) and got.dtype == (kw.get("dtype") or fg.float32)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6 if got.dtype == fg.float32 else 1e-13)
    assert fg.logspace(0, 1, 3, requires_grad=True).requires_grad


@pytest.mark.parametrize("dtype", DTYPES)
def test_kron(dtype):
    for sa, sb in [((2, 3), (4, 5)), ((3,), (2,)), ((2, 2), (3,)), ((2,), (1, 3, 2)), ((1, 0), (2, 2)), ((), (3,))]:
        compare(fg.kron, torch.kron, rand(*sa), rand(*sb, seed=1), dtype=dtype)
    check_op(fg.kron, np.kron, (2, 3), (3, 2))
    assert fg.tensor([[1, 2]]).kron(fg.tensor([[1], [1]])).tolist() == [[1, 2], [1, 2]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_cdist(dtype):
    for s1, s2 in [((4, 3), (5, 3)), ((1, 1), (1, 1)), ((2, 4, 3), (2, 6, 3)), ((2, 1, 3, 2), (5, 4, 2)),
                   ((0, 3), (2, 3))]:
        for p in (2.0, 1.0, 3.0, float("inf"), 0.0):
            compare(lambda a, b: fg.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), rand(*s1), rand(*s2, seed=1),
                    dtype=dtype, grad=p != 0)
    x = rand(3, 2)   # zero distances: PyTorch's gradient there is 0
    compare(lambda a, b: fg.cdist(a, b), lambda a, b: torch.cdist(a, b), x, x.copy(), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_similarity_and_pairwise_distance(dtype):
    for s1, s2, dim in [((4, 5), (4, 5), 1), ((4, 5), (1, 5), 1), ((3, 4, 2), (3, 4, 2), -1), ((6,), (6,), 0),
                        ((2, 3), (3,), 0), ((3, 0), (3, 0), 1)]:
        compare(lambda a, b: F.cosine_similarity(a, b, dim), lambda a, b: torch.nn.functional.cosine_similarity(
            a, b, dim), rand(*s1), rand(*s2, seed=1), dtype=dtype)
    zero = np.zeros((2, 3))
    compare(F.cosine_similarity, torch.nn.functional.cosine_similarity, zero, rand(2, 3), dtype=dtype)
    tiny = np.array([[1e-9, 2e-9, 0.0], [1.0, 2.0, 3.0]])   # a norm below eps: clamped value, the norm's gradient
    compare(F.cosine_similarity, torch.nn.functional.cosine_similarity, tiny, rand(2, 3), dtype="float64")
    for s1, s2 in [((4, 5), (4, 5)), ((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((5,), (5,))]:
        for p, keepdim in [(2.0, False), (1.0, True), (3.0, False), (float("inf"), True)]:
            compare(lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                    lambda a, b: torch.nn.functional.pairwise_distance(a, b, p, keepdim=keepdim),
                    rand(*s1), rand(*s2, seed=1), dtype=dtype)
    compare(lambda a, b: fg.nn.CosineSimilarity(dim=0, eps=1e-3)(a, b),
            lambda a, b: torch.nn.CosineSimilarity(dim=0, eps=1e-3)(a, b), rand(3, 2), rand(3, 2, seed=1), dtype=dtype)
    compare(lambda a, b: fg.nn.PairwiseDistance(p=1.0, eps=0.1, keepdim=True)(a, b),
            lambda a, b: torch.nn.PairwiseDistance(p=1.0, eps=0.1, keepdim=True)(a, b), rand(3, 2), rand(3, 2, seed=1),
            dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_median(dtype):
    for shape in [(7,), (8,), (3, 4), (1,), (2, 3, 5)]:
        x = np.random.default_rng(0).permutation(np.prod(shape)).reshape(shape) * 0.5   # distinct: no ties
        compare(fg.median, torch.median, x, dtype=dtype)
        for dim in range(-len(shape), len(shape)):
            for keepdim in (False, True):
                compare(lambda t: fg.median(t, dim, keepdim), lambda t: torch.median(t, dim, keepdim), x, dtype=dtype)
    compare(lambda t: t.median(0), lambda t: t.median(0), np.array(2.0), dtype=dtype)
    nan = np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 0.0]])
    assert np.isnan(fg.median(fg.tensor(nan)).item())
    got, want = fg.tensor(nan).median(1), torch.tensor(nan).median(1)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    assert got.indices.tolist() == want.indices.tolist()
    assert fg.tensor([3, 1, 2, 5]).median().item() == 2
    assert np.isnan(fg.median(fg.zeros(0)).item())


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross(dtype):
    for s1, s2, dim in [((3,), (3,), 0), ((4, 3), (4, 3), 1), ((3, 5), (3, 5), 0), ((2, 3, 4), (1, 3, 4), -2),
                        ((4, 3), (1, 3), -1), ((0, 3), (0, 3), 1)]:
        compare(lambda a, b: fg.cross(a, b, dim=dim), lambda a, b: torch.cross(a, b, dim=dim), rand(*s1),
                rand(*s2, seed=1), dtype=dtype)
        compare(lambda a, b: a.cross(b, dim), lambda a, b: torch.linalg.cross(a, b, dim=dim), rand(*s1),
                rand(*s2, seed=1), dtype=dtype)
    with pytest.warns(UserWarning, match="deprecated"):
        got = fg.cross(fg.tensor(rand(4, 3, 3), dtype=fg.float64), fg.tensor(rand(4, 3, 3, seed=1), dtype=fg.float64))
    np.testing.assert_allclose(got.numpy(), np.cross(rand(4, 3, 3), rand(4, 3, 3, seed=1), axis=1), rtol=1e-12)


def test_unique():
    x = [[3, 1, 2], [1, 3, 3]]
    for kw in [{}, dict(return_inverse=True), dict(return_counts=True), dict(return_inverse=True, return_counts=True),
               dict(sorted=True, dim=0), dict(dim=1, return_inverse=True, return_counts=True)]:
        got, want = fg.unique(fg.tensor(x), **kw), torch.unique(torch.tensor(x), **kw)
        got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.tolist() == w.tolist() and g.dtype == fg.int64
    f = fg.tensor([2.5, -1.0, 2.5, 0.0])
    values, counts = f.unique(return_counts=True)
    assert values.tolist() == [-1.0, 0.0, 2.5] and values.dtype == fg.float32 and counts.tolist() == [1, 1, 2]
    assert fg.unique(fg.zeros(0)).shape == (0,)
    assert fg.unique(fg.tensor(True)).tolist() == [True]


def test_compiled_step_replays_the_composed_functions():
    """A step using several of the functions: replays give the eager bits."""
    fg.manual_seed(0)
    w = fg.randn(4, 4, requires_grad=True)
    index = fg.tensor([[1, 0, 3, 2]])

    def step(x):
        y = fg.diag(fg.diagonal(w @ x)) + fg.kron(fg.eye(2), x[:2, :2]) + fg.cumprod(x, 1)
        z = y.scatter(0, index, 0.0).index_add(1, fg.tensor([0, 0]), y[:, :2], alpha=0.5)
        loss = fg.cdist(z, x).sum() + F.cosine_similarity(z, x).sum() + fg.cross(z[:, :3], x[:, :3], dim=1).sum() \
            + fg.median(z, 1).values.sum() + fg.trace(z) + fg.repeat_interleave(z, 2, 0).sum()
        w.grad = None
        loss.backward()
        return loss, w.grad
    compiled = fg.compile(step)
    for i in range(4):
        x = fg.tensor(rand(4, 4, seed=i).astype(np.float32))
        (a, ga), (b, gb) = step(x), compiled(x)
        assert a.numpy().tobytes() == b.numpy().tobytes() and ga.numpy().tobytes() == gb.numpy().tobytes()
    assert len(compiled.plans) == 1


BAD = [
    ("fg.diagonal(fg.zeros(3), 0)", ValueError, "at least 2 dimensions"),
    ("fg.diagonal(fg.zeros(3, 3), 0, 1, -1)", ValueError, "dim1 and dim2 must differ"),
    ("fg.diagonal(fg.zeros(3, 3), 0, 0, 2)", IndexError, "out of range"),
    ("fg.diag(fg.zeros(2, 2, 2))", ValueError, "1-D or 2-D"),
    ("fg.diag(fg.zeros(3), 1.5)", TypeError, "diagonal must be an int"),
    ("fg.diag([1, 2])", TypeError, "must be a fastgrad Tensor"),
    ("fg.trace(fg.zeros(3))", ValueError, "expects a matrix"),
    ("fg.tril_indices(-1, 3)", ValueError, "row and col must be >= 0"),
    ("fg.triu_indices(3, 3, dtype=fg.float32)", TypeError, "integer type"),
    ("fg.meshgrid(fg.zeros(2, 2))", ValueError, "0-D or 1-D"),
    ("fg.meshgrid(fg.zeros(2), indexing='ji')", ValueError, "indexing must be 'ij' or 'xy'"),
    ("fg.meshgrid(fg.zeros(2), fg.arange(3))", TypeError, "one dtype"),
    ("fg.meshgrid()", ValueError, "at least one tensor"),
    ("fg.repeat_interleave(fg.zeros(3), fg.tensor([1, 2]))", ValueError, "repeats has 2 counts"),
    ("fg.repeat_interleave(fg.zeros(3), -1)", ValueError, "repeats must be >= 0"),
    ("fg.repeat_interleave(fg.zeros(3), fg.tensor([1.0, 2.0, 3.0]))", TypeError, "repeats must be an integer"),
    ("fg.repeat_interleave(fg.zeros(3), 2, dim=1)", IndexError, "out of range"),
    ("fg.repeat_interleave(fg.zeros(3), 2, output_size=5)", ValueError, "output_size=5"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[4]]), fg.ones(1, 1))", IndexError, "out of bounds"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[0.0]]), fg.ones(1, 1))", TypeError, "integer"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[0, 1]]), fg.ones(1, 1))", ValueError, "larger than src"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([0, 1]), fg.ones(2))", ValueError, "index has 1 dimensions"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[0], [1], [2], [0]]), fg.ones(4, 1))", ValueError, "larger than the input"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[0]]), fg.ones(1, 1, dtype=fg.float64))", TypeError, "dtype"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[0]]), fg.ones(1, 1), reduce='max')", ValueError, "reduce"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[0]]))", TypeError, "exactly one"),
    ("fg.zeros(3, 4).scatter(1, fg.tensor([[0]]), 'x')", TypeError, "src must be a Tensor or a number"),
    ("fg.zeros(3, requires_grad=True).scatter_(0, fg.tensor([0]), 1.0)", RuntimeError, "leaf"),
    ("fg.zeros(3, 2).index_add(0, fg.tensor([0, 3]), fg.ones(2, 2))", IndexError, "out of bounds"),
    ("fg.zeros(3, 2).index_add(0, fg.tensor([0, 1]), fg.ones(2, 3))", ValueError, r"expected shape \(2, 2\)"),
    ("fg.zeros(3, 2).index_add(0, fg.tensor([[0, 1]]), fg.ones(2, 2))", IndexError, "0-D or 1-D"),
    ("fg.zeros(3, 2).index_add(0, fg.tensor([0]), fg.ones(1, 2, dtype=fg.float64))", TypeError, "dtype"),
    ("fg.tensor([1, 2]).index_add(0, fg.tensor([0]), fg.tensor([1]))", TypeError, "float tensor"),
    ("fg.zeros(3, 2).index_add(0, fg.tensor([0]), fg.ones(1, 2), alpha='x')", TypeError, "alpha must be a number"),
    ("fg.bernoulli(fg.tensor([1, 0]))", TypeError, "float tensor of probabilities"),
    ("fg.zeros(3).bernoulli_(1.5)", ValueError, r"p must be a probability in \[0, 1\]"),
    ("fg.zeros(3).bernoulli_(fg.zeros(4))", ValueError, "does not broadcast"),
    ("fg.cumprod(fg.zeros(3), None)", TypeError, "one integer"),
    ("fg.cumprod(fg.zeros(3), 1)", IndexError, "out of range"),
    ("fg.logspace(0, 1, -1)", ValueError, "steps"),
    ("fg.logspace(0, 1, 3, base=-2)", ValueError, "base must be a number > 0"),
    ("fg.kron(fg.zeros(2), [1])", TypeError, "other must be a fastgrad Tensor"),
    ("fg.cdist(fg.zeros(3), fg.zeros(2, 3))", ValueError, "at least 2 dimensions"),
    ("fg.cdist(fg.zeros(2, 3), fg.zeros(2, 4))", ValueError, "same number of columns"),
    ("fg.cdist(fg.zeros(2, 2, 3), fg.zeros(3, 2, 3))", ValueError, "batch dimensions"),
    ("fg.cdist(fg.zeros(2, 3), fg.zeros(2, 3), p=-1)", ValueError, "p must be a number >= 0"),
    ("fg.cdist(fg.tensor([[1, 2]]), fg.tensor([[1, 2]]))", TypeError, "float tensor"),
    ("F.cosine_similarity(fg.zeros(2, 3), fg.zeros(2, 4))", ValueError, "do not broadcast"),
    ("F.cosine_similarity(fg.zeros(2, 3), fg.zeros(2, 3), dim=2)", IndexError, "out of range"),
    ("F.pairwise_distance(fg.zeros(2, 3), fg.zeros(2, 3), p=-2)", ValueError, "p must be a number >= 0"),
    ("fg.median(fg.zeros(2, 0), 1)", IndexError, "has no elements"),
    ("fg.median(fg.zeros(2, 3), 2)", IndexError, "out of range"),
    ("fg.median(fg.zeros(2, 3), keepdim=True)", TypeError, "keepdim needs a dim"),
    ("fg.cross(fg.zeros(4), fg.zeros(4), dim=0)", ValueError, "must have size 3"),
    ("fg.cross(fg.zeros(2, 2), fg.zeros(2, 2))", ValueError, "no dimension of size 3"),
    ("fg.cross(fg.zeros(3), fg.zeros(2, 3), dim=-1)", ValueError, "same number of dimensions"),
    ("fg.cross(fg.zeros(2, 3), fg.zeros(4, 3), dim=1)", ValueError, "do not broadcast"),
    ("fg.unique(fg.zeros(3), dim=1)", IndexError, "out of range"),
    ("fg.unique([1, 2])", TypeError, "must be a fastgrad Tensor"),
]


@pytest.mark.parametrize("code, error, match", BAD, ids=[row[0] for row in BAD])
def test_bad_inputs(code, error, match):
    with pytest.raises(error, match=match):
        eval(code, {"fg": fg, "F": F})

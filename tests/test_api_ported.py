"""fastgrad/api_ported.py (fg.linalg's norms, fg.special, Tensor.unfold, tensor_split, isin, bincount,
bucketize, searchsorted) and nn/spatial.py (affine_grid, grid_sample, local_response_norm,
channel_shuffle), against PyTorch and, for gradients, finite differences (check_op)."""
import math

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op

torch = pytest.importorskip("torch")


def both(fn_fg, fn_torch, *arrays, **kwargs):
    ours = fn_fg(*[fg.tensor(a, dtype=fg.float64) if a.dtype.kind == "f" else fg.tensor(a) for a in arrays], **kwargs)
    theirs = fn_torch(*[torch.tensor(a) for a in arrays], **kwargs)
    return ours, theirs


@pytest.mark.parametrize("ord, dim, keepdim", [(2, None, False), (1, 1, True), (math.inf, (0, 1), False),
                                               (-math.inf, 0, False), (0, None, False), (3.5, -1, False),
                                               (-2, 1, False)])
def test_vector_norm(ord, dim, keepdim):
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    x[0, 0, 0] = 0.0
    ours, theirs = both(fg.linalg.vector_norm, torch.linalg.vector_norm, x, ord=ord, dim=dim, keepdim=keepdim)
    assert ours.shape == tuple(theirs.shape) and np.allclose(ours.numpy(), theirs.numpy())
    if ord not in (0, math.inf, -math.inf):
        check_op(lambda t: fg.linalg.vector_norm(t, ord, dim, keepdim),
                 lambda a: torch.linalg.vector_norm(torch.tensor(a), ord, dim, keepdim).numpy(), (3, 4, 2))


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf, "nuc", 2, -2])
def test_matrix_norm_and_norm(ord):
    x = np.random.default_rng(1).standard_normal((2, 3, 5))
    for keepdim in (False, True):
        ours, theirs = both(fg.linalg.matrix_norm, torch.linalg.matrix_norm, x, ord=ord, keepdim=keepdim)
        assert ours.shape == tuple(theirs.shape) and np.allclose(ours.numpy(), theirs.numpy())
    ours, theirs = both(fg.linalg.norm, torch.linalg.norm, x[0], ord=ord)
    assert np.allclose(ours.numpy(), theirs.numpy())
    ours, theirs = both(fg.linalg.norm, torch.linalg.norm, x)   # ord None: the flattened 2-norm
    assert np.allclose(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="not supported"):
        fg.linalg.matrix_norm(fg.ones(2, 2), 3)


def test_linalg_and_special_import_as_modules():
    """PyTorch programs import them as modules: `import torch.linalg as LA`, `from torch.special import ...`."""
    import fastgrad.linalg as LA
    from fastgrad.special import expit
    assert LA is fg.linalg and expit is fg.special.expit
    assert LA.norm(fg.ones(2, 2)).item() == 2.0


def test_special_and_its_methods():
    x = np.array([0.0, 0.0, 0.5, 2.0])
    y = np.array([0.0, np.nan, 3.0, 0.25])
    ours, theirs = both(fg.special.xlogy, torch.special.xlogy, x, y)
    assert np.allclose(ours.numpy(), theirs.numpy(), equal_nan=True)
    p = np.array([0.0, 0.2, 0.7, 1.0])
    ours, theirs = both(fg.special.logit, torch.special.logit, p, eps=1e-6)
    assert np.allclose(ours.numpy(), theirs.numpy())
    check_op(lambda t: fg.special.logit(t), lambda a: np.log(a / (1 - a)), inputs=[np.array([0.2, 0.4, 0.9])])
    check_op(lambda a, b: a.xlogy(b), lambda a, b: a * np.log(b), inputs=[np.array([0.5, 2.0]), np.array([1.5, 3.0])])
    with pytest.raises(TypeError, match="xlogy: expects a fastgrad Tensor"):
        fg.special.xlogy(2.0, 3.0)
    for name in ("expit", "erf", "erfc", "erfinv", "log1p", "expm1", "exp2"):
        ours, theirs = both(getattr(fg.special, name), getattr(torch.special, name), np.array([-0.5, 0.1, 0.3]))
        assert np.allclose(ours.numpy(), theirs.numpy()), name


@pytest.mark.parametrize("shape, dim, size, step", [((7,), 0, 3, 2), ((2, 9, 3), 1, 4, 1), ((2, 5), -1, 5, 3),
                                                    ((3, 4), 0, 1, 2)])
def test_tensor_unfold_windows(shape, dim, size, step):
    x = np.random.default_rng(2).standard_normal(shape)
    ours = fg.tensor(x, dtype=fg.float64).unfold(dim, size, step)
    theirs = torch.tensor(x).unfold(dim, size, step)
    assert ours.shape == tuple(theirs.shape) and np.array_equal(ours.numpy(), theirs.numpy())
    check_op(lambda t: t.unfold(dim, size, step), lambda a: torch.tensor(a).unfold(dim, size, step).numpy(), shape)
    with pytest.raises(ValueError, match="larger than dimension"):
        fg.zeros(*shape).unfold(dim, shape[dim] + 1, 1)


def test_tensor_split():
    x = np.arange(20.0).reshape(2, 10)
    for arg in (3, 4, 1, 12, [2, 5], [3, 3, 11]):
        ours = fg.tensor(x).tensor_split(arg, dim=1)
        theirs = torch.tensor(x).tensor_split(arg, dim=1)
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
        assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(ours, theirs))
    with pytest.raises(ValueError, match="at least 1"):
        fg.tensor_split(fg.zeros(3), 0)


def test_counting_and_searching():
    labels = np.array([3, 0, 3, 1, 7, 3])
    ours, theirs = both(fg.bincount, torch.bincount, labels, minlength=10)
    assert ours.dtype is fg.int64 and np.array_equal(ours.numpy(), theirs.numpy())
    w = np.array([0.5, 1.0, 0.25, 2.0, 1.0, 1.0])
    ours, theirs = both(lambda a, b: fg.bincount(a, b), lambda a, b: torch.bincount(a, b), labels, w)
    assert np.allclose(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="non-negative"):
        fg.bincount(fg.tensor([1, -1]))
    ours, theirs = both(fg.isin, torch.isin, labels, np.array([3, 7]))
    assert np.array_equal(ours.numpy(), theirs.numpy())
    ours, theirs = both(lambda a, b: fg.isin(a, b, invert=True), lambda a, b: torch.isin(a, b, invert=True),
                        labels, np.array([3, 7]))
    assert np.array_equal(ours.numpy(), theirs.numpy())
    edges = np.array([1.0, 2.0, 2.0, 5.0])
    values = np.array([[0.5, 1.0, 2.0], [3.0, 5.0, 9.0]])
    for right in (False, True):
        ours, theirs = both(lambda v, b: fg.bucketize(v, b, right=right), lambda v, b: torch.bucketize(v, b, right=right),
                            values, edges)
        assert np.array_equal(ours.numpy(), theirs.numpy())
        ours, theirs = both(lambda s, v: fg.searchsorted(s, v, right=right),
                            lambda s, v: torch.searchsorted(s, v, right=right), edges, values)
        assert np.array_equal(ours.numpy(), theirs.numpy())
    assert fg.searchsorted(fg.tensor(edges), 2.0).item() == torch.searchsorted(torch.tensor(edges), 2.0).item() == 1
    assert fg.searchsorted(fg.tensor(edges), [0.5, 5.0], right=True).tolist() == [0, 4]
    rows = np.sort(np.random.default_rng(3).standard_normal((2, 6)), 1)
    ours, theirs = both(lambda s, v: fg.searchsorted(s, v, side="right"), lambda s, v: torch.searchsorted(s, v, side="right"),
                        rows, values)
    assert np.array_equal(ours.numpy(), theirs.numpy())


def test_nbytes_and_itemsize():
    t = fg.zeros(3, 4, dtype=fg.float64)
    assert (t.nbytes, t.itemsize) == (96, 8) == (torch.zeros(3, 4, dtype=torch.float64).nbytes,
                                                 torch.zeros(1, dtype=torch.float64).itemsize)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_pytorch(mode, padding_mode, align_corners):
    rng = np.random.default_rng(4)
    x, grid, up = rng.standard_normal((2, 3, 5, 6)), rng.uniform(-1.3, 1.3, (2, 4, 7, 2)), rng.standard_normal((2, 3, 4, 7))
    a, g = fg.tensor(x, dtype=fg.float64, requires_grad=True), fg.tensor(grid, dtype=fg.float64, requires_grad=True)
    b, h = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
    ours = fg.nn.functional.grid_sample(a, g, mode, padding_mode, align_corners)
    theirs = torch.nn.functional.grid_sample(b, h, mode, padding_mode, align_corners)
    (ours * fg.tensor(up, dtype=fg.float64)).sum().backward()
    (theirs * torch.tensor(up)).sum().backward()
    assert np.allclose(ours.detach().numpy(), theirs.detach().numpy())
    assert np.allclose(a.grad.numpy(), b.grad.numpy())
    if mode == "bilinear":
        assert np.allclose(g.grad.numpy(), h.grad.numpy())
        check_op(lambda t: fg.nn.functional.grid_sample(t, fg.tensor(grid[:1], dtype=t.dtype), mode, padding_mode,
                                                        align_corners),
                 lambda t: torch.nn.functional.grid_sample(torch.tensor(t), torch.tensor(grid[:1]), mode, padding_mode,
                                                           align_corners).numpy(), (1, 2, 5, 6))


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")   # PyTorch's, on its unit-size grid
def test_affine_grid_and_a_spatial_transformer_step():
    theta = np.random.default_rng(5).standard_normal((2, 2, 3))
    for align_corners in (False, True):
        for size in ((2, 3, 4, 5), (2, 1, 1, 3)):
            ours = fg.nn.functional.affine_grid(fg.tensor(theta, dtype=fg.float64), size, align_corners)
            theirs = torch.nn.functional.affine_grid(torch.tensor(theta), size, align_corners)
            assert np.allclose(ours.numpy(), theirs.numpy())
    # the spatial transformer tutorial's sampling: gradients reach theta through the grid
    th = fg.tensor(theta, dtype=fg.float64, requires_grad=True)
    x = fg.tensor(np.random.default_rng(6).standard_normal((2, 1, 6, 6)), dtype=fg.float64)
    out = fg.nn.functional.grid_sample(x, fg.nn.functional.affine_grid(th, x.shape, False), align_corners=False)
    out.sum().backward()
    t = torch.tensor(theta, requires_grad=True)
    xt = torch.tensor(x.numpy())
    torch.nn.functional.grid_sample(xt, torch.nn.functional.affine_grid(t, xt.shape, False), align_corners=False).sum().backward()
    assert np.allclose(th.grad.numpy(), t.grad.numpy())
    with pytest.raises(ValueError, match="theta must be"):
        fg.nn.functional.affine_grid(fg.zeros(2, 3, 3), (2, 1, 4, 4))
    with pytest.raises(ValueError, match="mode must be one of"):
        fg.nn.functional.grid_sample(fg.zeros(1, 1, 2, 2), fg.zeros(1, 2, 2, 2), mode="bicubic")
    with pytest.raises(ValueError, match="grid must be"):
        fg.nn.functional.grid_sample(fg.zeros(1, 1, 2, 2), fg.zeros(2, 2, 2, 2))


def test_local_response_norm_and_channel_shuffle():
    x = np.random.default_rng(7).standard_normal((2, 7, 4, 3))
    for size in (1, 2, 3, 5):
        ours = fg.nn.LocalResponseNorm(size, alpha=1e-2, beta=0.7, k=2.0)(fg.tensor(x, dtype=fg.float64))
        theirs = torch.nn.LocalResponseNorm(size, alpha=1e-2, beta=0.7, k=2.0)(torch.tensor(x))
        assert np.allclose(ours.numpy(), theirs.numpy())
    check_op(lambda t: fg.nn.functional.local_response_norm(t, 3, alpha=0.5),
             lambda t: torch.nn.functional.local_response_norm(torch.tensor(t), 3, alpha=0.5).numpy(), (2, 5, 3))
    ours = fg.nn.ChannelShuffle(3)(fg.tensor(x[:, :6], dtype=fg.float64))
    assert np.array_equal(ours.numpy(), torch.nn.ChannelShuffle(3)(torch.tensor(x[:, :6])).numpy())
    with pytest.raises(ValueError, match="divisible by groups"):
        fg.nn.functional.channel_shuffle(fg.zeros(1, 7, 2), 3)
    with pytest.raises(ValueError, match="size must be a positive integer"):
        fg.nn.functional.local_response_norm(fg.zeros(1, 3, 2), 0)

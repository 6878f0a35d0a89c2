"""sort, argsort and topk (one C kernel along the last dimension), and the small PyTorch names
built on other ops: mm, dot, outer, isclose/allclose/equal, enable_grad, set_grad_enabled, new_*."""
import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op


@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1), ((4, 1), -1), ((0, 3), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_gradcheck(shape, dim, descending):
    def np_sort(a):
        s = np.sort(a, axis=dim)
        return np.flip(s, axis=dim) if descending else s
    check_op(lambda x: x.sort(dim, descending).values, np_sort, shape)


@pytest.mark.parametrize("k", [0, 1, 3])
def test_topk_gradcheck(k):
    check_op(lambda x: x.topk(k, dim=1).values, lambda a: -np.sort(-a, axis=1)[:, :k], (4, 6))
    check_op(lambda x: x.topk(k, dim=0, largest=False).values, lambda a: np.sort(a, axis=0)[:k], (5, 3))


def test_sort_matches_pytorch_with_ties_and_nan():
    torch = pytest.importorskip("torch")
    a = np.array([[3.0, 1.0, np.nan, 1.0, -0.0, 0.0], [2.0, 2.0, 2.0, -np.inf, np.inf, 1.0]])
    for descending in (False, True):
        got, want = fg.tensor(a).sort(descending=descending), torch.tensor(a).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        assert got.indices.tolist() == want.indices.tolist()
    assert fg.tensor([5, 3, 9]).argsort().tolist() == [1, 0, 2]
    assert fg.tensor([5, 3, 9]).topk(2).values.tolist() == [9, 5]


def test_sort_results_do_not_depend_on_threads():
    x = fg.randn(300, 501)
    threads = fg.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            fg.set_num_threads(n)
            s = x.sort(descending=True)
            results.append((s.values.numpy().copy(), s.indices.numpy().copy()))
    finally:
        fg.set_num_threads(threads)
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_bad_sort_arguments():
    with pytest.raises(ValueError, match="topk: k must be"):
        fg.ones(3).topk(4)
    with pytest.raises(IndexError, match="out of range"):
        fg.ones(3).sort(dim=1)
    with pytest.raises(TypeError, match="Tensor"):
        fg.sort([3, 1])


def test_matrix_products_by_their_other_names():
    a, b = fg.randn(2, 3), fg.randn(3, 4)
    np.testing.assert_allclose(fg.mm(a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-5)
    v = fg.tensor([1.0, 2.0, 3.0])
    assert fg.dot(v, v).item() == 14.0 and v.outer(v).shape == (3, 3)
    with pytest.raises(ValueError, match="mm: expects two 2-D tensors"):
        fg.mm(v, b)


def test_whole_tensor_comparisons():
    a = fg.tensor([1.0, float("nan"), float("inf")])
    assert fg.isclose(a, a + 1e-9).tolist() == [True, False, True]
    assert fg.isclose(a, a, equal_nan=True).all()
    assert fg.allclose(fg.ones(3), fg.ones(3) * 1.000001) and not fg.allclose(fg.ones(3), fg.zeros(3))
    assert fg.equal(fg.ones(2), fg.ones(2)) and not fg.equal(fg.ones(2), fg.ones(3))


def test_grad_mode_switches():
    x = fg.ones(1, requires_grad=True)
    with fg.no_grad():
        with fg.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with fg.set_grad_enabled(False):
        assert not fg.is_grad_enabled()
    assert fg.is_grad_enabled()
    with fg.inference_mode():
        assert not (x * 2).requires_grad


def test_new_constructors_take_the_tensors_dtype():
    x = fg.zeros(2, dtype=fg.float64)
    assert x.new_zeros(3).dtype is fg.float64 and x.new_ones((2, 2)).tolist() == [[1, 1], [1, 1]]
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_tensor([1, 2]).dtype is fg.float64
    assert fg.ones(2).type_as(x).dtype is fg.float64 and x.element_size() == 8
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda()


@pytest.mark.parametrize("dim", [0, 1, -3])
def test_softmax_and_log_softmax_along_any_dim(dim):
    from gradcheck import np_log_softmax, np_softmax
    along = lambda f: (lambda a: np.moveaxis(f(np.moveaxis(a, dim, -1)), -1, dim))
    check_op(lambda x: x.softmax(dim), along(np_softmax), (3, 4, 5))
    check_op(lambda x: fg.nn.functional.log_softmax(x, dim), along(np_log_softmax), (3, 4, 5))


def test_softmax_dtype_and_pytorchs_implicit_dim():
    """dtype= converts the input first; F.softmax/log_softmax/softmin and nn.Softmax/LogSoftmax
    without a dim take PyTorch's legacy choice (0 for 0-, 1- and 3-d inputs, else 1) and warn."""
    torch = pytest.importorskip("torch")
    F, tF = fg.nn.functional, torch.nn.functional
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    for f, tf in ((F.softmax, tF.softmax), (F.log_softmax, tF.log_softmax), (F.softmin, tF.softmin)):
        got, want = f(fg.tensor(x), 1, dtype=fg.float64), tf(torch.tensor(x), 1, dtype=torch.float64)
        assert got.dtype is fg.float64
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
        for shape in ((5,), (2, 3, 4), (2, 3, 4, 5)):
            a = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
            with pytest.warns(UserWarning, match="Implicit dimension choice"):
                got = f(fg.tensor(a))
            with pytest.warns(UserWarning):
                want = tf(torch.tensor(a))
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert fg.tensor(x).softmax(-1, dtype=fg.float64).dtype is fg.float64
    assert fg.softmax(fg.tensor([1, 2]), 0, dtype=fg.float32).dtype is fg.float32   # an int input, converted
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        np.testing.assert_allclose(fg.nn.Softmax()(fg.tensor(x)).numpy(), tF.softmax(torch.tensor(x), 0).numpy(),
                                   rtol=1e-6)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        fg.nn.LogSoftmax()(fg.tensor(x))

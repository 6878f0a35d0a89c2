"""torch.add / sub / mul / div (and subtract, multiply, divide, true_divide), tan, select and
detach by name, as functions and Tensor methods, against numpy, finite differences and PyTorch."""
import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 1, 5), (4, 1)), ((7,), ()), ((0, 3), (3,))])
def test_named_arithmetic_matches_the_operators(shapes):
    check_op(lambda a, b: fg.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, *shapes)
    check_op(lambda a, b: a.sub(b, alpha=-3), lambda a, b: a + 3 * b, *shapes)
    check_op(lambda a, b: fg.multiply(a, b), lambda a, b: a * b, *shapes)
    check_op(lambda a, b: a.true_divide(b + 3.0), lambda a, b: a / (b + 3.0), *shapes, inputs=None)
    check_op(lambda a, b: fg.subtract(a, b), lambda a, b: a - b, *shapes)


def test_scalars_on_either_side_and_alpha_checks():
    x = fg.tensor([1.0, -2.0])
    assert fg.add(x, 1).tolist() == [2.0, -1.0]
    assert fg.mul(3, x).tolist() == [3.0, -6.0]
    assert x.div(4).tolist() == [0.25, -0.5]
    with pytest.raises(TypeError, match="alpha must be a number"):
        fg.add(x, x, alpha="2")


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_rounding_modes_match_pytorch(mode):
    torch = pytest.importorskip("torch")
    a, b = np.array([[3.0, -7.5], [2.0, 9.0], [-0.5, 0.25]]), np.array([[2.0, 2.0], [-4.0, 3.0], [3.0, -0.125]])
    np.testing.assert_array_equal(fg.div(fg.tensor(a), fg.tensor(b), rounding_mode=mode).numpy(),
                                  torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode).numpy())
    ia, ib = np.array([7, -7, 5, -9, 0, 2**60 + 3, -(2**60) - 1]), np.array([2, 2, -3, -4, 5, 7, 3])   # exact past 2**53
    got, want = fg.tensor(ia).div(fg.tensor(ib), rounding_mode=mode), torch.tensor(ia).div(torch.tensor(ib), rounding_mode=mode)
    assert got.dtype is fg.int64 and got.tolist() == want.tolist()
    assert fg.div(fg.tensor(ia), 2, rounding_mode=mode).tolist() == torch.div(torch.tensor(ia), 2, rounding_mode=mode).tolist()
    with pytest.raises(ZeroDivisionError):
        fg.div(fg.tensor(ia), fg.tensor([1, 1, 0, 1, 1, 1, 1]), rounding_mode=mode)


def test_div_true_division_of_integers_and_bad_mode():
    assert fg.tensor([1, 3]).divide(2).tolist() == [0.5, 1.5]
    with pytest.raises(ValueError, match="rounding_mode"):
        fg.div(fg.ones(2), fg.ones(2), rounding_mode="round")


def test_tan():
    check_op(fg.tan, np.tan, (4, 3), inputs=[np.linspace(-1.2, 1.2, 12).reshape(4, 3)])
    assert fg.ones(2).tan().shape == (2,)


def test_select_is_indexing_along_a_dim():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = fg.tensor(a)
    for dim in range(-3, 3):
        for index in (0, -1, 1):
            np.testing.assert_array_equal(fg.select(t, dim, index).numpy(), np.take(a, index, axis=dim))
    check_op(lambda x: x.select(1, -2) * 2, lambda x: x[:, -2] * 2, (3, 4))
    with pytest.raises(IndexError, match="out of range"):
        t.select(1, 3)
    with pytest.raises(IndexError, match="out of range"):
        t.select(3, 0)
    with pytest.raises(IndexError, match="0-dim"):
        fg.tensor(1.0).select(0, 0)


def test_detach_by_name():
    x = fg.ones(2, requires_grad=True)
    d = fg.detach(x * 2)
    assert not d.requires_grad and d.tolist() == [2.0, 2.0]


def test_deprecated_scalar_first_overloads_of_older_optimizers():
    """p.add_(-lr, grad), v.addcmul_(1 - b2, g, g), p.addcdiv_(-step, m, denom): PyTorch still takes
    them, with a deprecation warning; the values must be those of the keyword forms."""
    g, m, d = fg.tensor([0.5, -1.0]), fg.tensor([2.0, 3.0]), fg.tensor([4.0, 8.0])
    with pytest.warns(UserWarning, match="overload of add_ is deprecated"):
        assert fg.ones(2).add_(-0.1, g).tolist() == fg.ones(2).add_(g, alpha=-0.1).tolist()
    with pytest.warns(UserWarning, match="deprecated"):
        assert fg.ones(2).sub_(2, g).tolist() == [0.0, 3.0]
    with pytest.warns(UserWarning, match="deprecated"):
        assert fg.add(g, 3, m).tolist() == g.add(m, alpha=3).tolist() == [6.5, 8.0]
    with pytest.warns(UserWarning, match="deprecated"):
        assert g.sub(2, m).tolist() == [-3.5, -7.0]
    with pytest.warns(UserWarning, match="deprecated"):
        assert fg.ones(2).addcmul_(0.5, g, g).tolist() == fg.ones(2).addcmul(g, g, value=0.5).tolist()
    with pytest.warns(UserWarning, match="deprecated"):
        assert fg.zeros(2).addcdiv_(-2, m, d).tolist() == [-1.0, -0.75]
    with pytest.warns(UserWarning, match="deprecated"):
        assert fg.addcdiv(g, -2, m, d).tolist() == g.addcdiv(m, d, value=-2).tolist()
    p = fg.tensor([1.0, 2.0], requires_grad=True)   # the gradient flows through the deprecated form too
    with pytest.warns(UserWarning, match="deprecated"):
        fg.add(g, 3, p).sum().backward()
    assert p.grad.tolist() == [3.0, 3.0]
    # a mix of the two forms, or a tensor where the scalar goes, is refused by name
    with pytest.raises(TypeError, match="add_: takes .*deprecated"):
        fg.ones(2).add_(g, 2)
    with pytest.raises(TypeError, match="add: takes"):
        g.add(0.5, m, alpha=2)
    with pytest.raises(TypeError, match="addcmul: takes"):
        g.addcmul(g, g, g)

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
    ia, ib = np.array([7, -7, 5, -9, 0]), np.array([2, 2, -3, -4, 5])
    got, want = fg.tensor(ia).div(fg.tensor(ib), rounding_mode=mode), torch.tensor(ia).div(torch.tensor(ib), rounding_mode=mode)
    assert got.dtype is fg.int64 and got.tolist() == want.tolist()
    assert fg.div(fg.tensor(ia), 2, rounding_mode=mode).tolist() == torch.div(torch.tensor(ia), 2, rounding_mode=mode).tolist()
    with pytest.raises(ZeroDivisionError):
        fg.div(fg.tensor(ia), fg.tensor([1, 1, 0, 1, 1]), rounding_mode=mode)


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

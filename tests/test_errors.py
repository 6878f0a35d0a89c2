"""Bad input raises a clear TypeError/ValueError naming what was wrong; nothing crashes."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F


def test_mismatched_shapes_name_both_shapes():
    a, b = fg.ones(2, 3), fg.ones(4, 5)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        a + b
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        fg.nn.Linear(5, 4)(a)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        fg.ops.Softmax().forward(fg.ones(3, requires_grad=True)).backward(fg.ones(4))


def test_matmul_operands_must_fit():
    """1-D operands are vectors, as in PyTorch (tests/test_matmul_batched.py); sizes must still fit."""
    assert (fg.ones(3) @ fg.ones(3, 2)).shape == (2,)
    with pytest.raises(ValueError, match=r"\(4,\) and \(3, 2\)"):
        fg.ones(4) @ fg.ones(3, 2)


def test_wrong_dtypes():
    with pytest.raises(TypeError, match="float32.*float64"):   # matmul wants one dtype, as PyTorch's
        fg.ones(2, 2) @ fg.ones(2, 2, dtype=fg.float64)
    with pytest.raises(TypeError, match="unsupported dtype"):
        fg.tensor([1, 2], dtype=np.int32)
    with pytest.raises(TypeError, match="unsupported operand of type str"):
        fg.ones(2) + "a"


def test_non_numeric_and_ragged_data():
    with pytest.raises(TypeError, match="numpy dtype <U"):
        fg.tensor(["a", "b"])
    with pytest.raises(TypeError, match="non-numeric"):
        fg.tensor([1, None])
    with pytest.raises(ValueError, match="ragged"):
        fg.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="complex"):
        fg.tensor([1j])


def test_numpy_float64_becomes_float32_unless_asked():
    assert fg.tensor(np.ones(3)).dtype is fg.float32
    assert fg.tensor(np.ones(3), dtype=fg.float64).dtype is fg.float64
    assert fg.tensor(np.ones(3), dtype="float64").dtype is fg.float64


def test_non_contiguous_numpy_arrays_are_copied():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = fg.tensor(base.T)            # Fortran-ordered view
    assert t.tolist() == base.T.tolist()
    t2 = fg.tensor(base[:, ::2])     # strided view
    assert t2.tolist() == base[:, ::2].tolist()
    t2.numpy()[0, 0] = -1            # a copy: the source is untouched
    assert base[0, 0] == 0


def test_class_targets_out_of_range_or_not_integers():
    logits = fg.zeros(2, 3)
    with pytest.raises(ValueError, match="class target 3 is out of range for 3 classes"):
        F.cross_entropy(logits, [0, 3])
    with pytest.raises(ValueError, match="class target -1"):
        F.cross_entropy(logits, [-1, 0])
    with pytest.raises(ValueError, match=r"targets of shape \(3,\).*\(2,\)"):
        F.cross_entropy(logits, [0, 1, 2])
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(logits, [0.5, 1])
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, [0, 1], reduction="avg")


def test_nan_and_inf_propagate_as_ieee_does():
    x = fg.tensor([[np.nan, 1.0], [np.inf, 0.0]])
    assert np.isnan((x + 1.0).numpy()[0, 0]) and np.isinf((x * 2.0).numpy()[1, 0])
    assert np.isnan(x.relu().numpy()[0, 0])
    s = x.softmax().numpy()
    assert np.isnan(s[0]).all()          # a NaN poisons its row only
    assert np.isnan(s[1, 0])             # inf - inf
    m = (x @ fg.ones(2, 2)).numpy()
    assert np.isnan(m[0]).all() and np.isinf(m[1]).all()


def test_shape_and_index_errors():
    with pytest.raises(ValueError, match="negative dimension -2"):
        fg.zeros(3, -2)
    with pytest.raises(TypeError, match="integers"):
        fg.ones(2.5)
    t = fg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"\(2, 0\) out of range for shape \(2, 3\)"):
        t.get(2, 0)
    with pytest.raises(IndexError, match="out of range"):
        t.set(0, -1, 1.0)
    with pytest.raises(ValueError, match="2-D"):
        fg.zeros(4).get(0, 0)
    with pytest.raises(ValueError, match="cannot reshape"):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match="one element"):
        t.item()
    with pytest.raises(IndexError, match="dimension 2 is out of range"):   # IndexError, as PyTorch
        t.sum(dim=2)
    with pytest.raises(IndexError, match="out of range"):
        t.softmax(dim=2)


def test_empty_tensors_with_huge_other_dimensions_return_at_once():
    """Zero-size operands never make a kernel walk their other dimensions (issue 11's hangs)."""
    a, b = fg.zeros(2**40, 0, requires_grad=True), fg.zeros(1, 1, requires_grad=True)
    (a + b).backward(fg.zeros(2**40, 0))
    assert b.grad.tolist() == [[0.0]] and a.grad.shape == (2**40, 0)
    x = fg.zeros(2**40, 0, requires_grad=True)
    w, bias = fg.zeros(0, 0, requires_grad=True), fg.zeros(0, requires_grad=True)
    y = fg.nn.functional.linear(x, w, bias)
    y.backward(fg.zeros(2**40, 0))
    assert y.shape == (2**40, 0) and w.grad.shape == (0, 0) and bias.grad.shape == (0,)
    z = fg.ops.LinearReLU().forward(x, w, bias)
    z.backward(fg.zeros(2**40, 0))


def test_a_gradient_that_is_a_leafs_own_grad_is_read_before_it_is_written():
    rng = np.random.default_rng(0)
    x = fg.tensor(rng.standard_normal((20, 20)), requires_grad=True)
    w = fg.tensor(rng.standard_normal((20, 20)), requires_grad=True)
    fg.nn.functional.linear(x, w).backward(fg.ones(20, 20))
    first = x.grad.numpy().copy()
    fg.nn.functional.linear(x, w).backward(x.grad)   # reads x.grad while the backward adds into it
    np.testing.assert_allclose(x.grad.numpy(), first + first @ w.numpy(), rtol=1e-5)
    a = fg.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    (a @ a).backward(fg.ones(4, 4))
    g = a.grad.numpy().copy()
    (a @ a).backward(a.grad)
    np.testing.assert_allclose(a.grad.numpy(), g + g @ a.numpy().T + a.numpy().T @ g, rtol=1e-5)


def test_no_grad_exit_without_enter_is_a_clear_error():
    with pytest.raises(RuntimeError, match="__enter__"):
        fg.no_grad().__exit__(None, None, None)


def test_misused_apis_raise_errors_that_name_the_problem():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    opt = fg.optim.SGD([w], lr=0.1)
    for bad in ([1.0, 2.0], 3):
        w.grad = bad
        with pytest.raises(TypeError, match="not a fastgrad Tensor"):
            opt.step()
    with pytest.raises(TypeError, match="mse_loss: input must be a fastgrad Tensor"):
        fg.nn.functional.mse_loss([1.0, 2.0], fg.ones(2))
    logits = fg.zeros(1, 3, requires_grad=True)
    with pytest.raises(ValueError, match="9223372036854775808 is out of range"):
        fg.nn.functional.cross_entropy(logits, np.array([2**63], dtype=np.uint64))


def test_losses_keep_their_own_copy_of_the_targets():
    logits = fg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    targets = np.array([0, 1, 2, 1])
    loss = fg.nn.functional.cross_entropy(logits, targets)
    targets[:] = [10**12, 10, 0, 0]   # the caller reuses its array before backward
    loss.backward()
    expected = fg.tensor(logits.numpy()).softmax().numpy()
    expected[np.arange(4), [0, 1, 2, 1]] -= 1
    np.testing.assert_allclose(logits.grad.numpy(), expected / 4, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("make", [lambda x: fg.ops.ReLU().forward(x), lambda x: fg.ops.Tanh().forward(x),
                                  lambda x: fg.ops.Softmax().forward(x), lambda x: fg.ops.Mul().forward(x, x),
                                  lambda x: fg.ops.Div().forward(x, x * 1.0 + 3.0), lambda x: fg.ops.MatMul().forward(x, x),
                                  lambda x: fg.ops.Sum(1, keepdim=True).forward(x) * x])
def test_an_op_given_its_inputs_own_grad_as_the_output_gradient_reads_it_first(make):
    """Op.backward(grad) with grad the very .grad buffer the backward adds into: the op reads a copy,
    so the result is what a separate gradient tensor with the same values gives."""
    start = np.random.default_rng(0).standard_normal((3, 3))
    results = []
    for aliased in (False, True):
        x = fg.tensor(start, requires_grad=True)
        x.grad = fg.tensor(np.full((3, 3), 0.5))
        op = make(x)._op
        op.backward(x.grad if aliased else fg.tensor(x.grad.numpy().copy()))
        results.append(x.grad.numpy().copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)

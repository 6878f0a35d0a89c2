"""Every op, forward against numpy and backward against finite differences (tests/gradcheck.py)."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from gradcheck import check_op, np_cross_entropy, np_log_softmax, np_softmax, random_inputs

# Shapes with 1s and odd sizes; pairs broadcast like numpy.
SAME = [(1,), (7,), (3, 5), (1, 1), (2, 3, 4)]
BROADCAST = [((3, 5), (5,)), ((3, 5), (3, 1)), ((4, 1), (1, 6)), ((2, 3, 4), (3, 1)), ((5,), ()), ((), (2, 3))]


@pytest.mark.parametrize("shapes", [(s, s) for s in SAME] + BROADCAST, ids=str)
@pytest.mark.parametrize("op, ref", [(lambda a, b: a + b, np.add), (lambda a, b: a - b, np.subtract),
                                     (lambda a, b: a * b, np.multiply)], ids=["add", "sub", "mul"])
def test_binary(op, ref, shapes):
    check_op(op, ref, *shapes)


@pytest.mark.parametrize("shapes", [((3, 5), (3, 5)), ((3, 5), (5,)), ((4, 1), (1, 6))], ids=str)
def test_div(shapes):
    a, b = random_inputs(shapes)
    b = np.sign(b) * (np.abs(b) + 0.5)   # keep away from 0
    check_op(lambda x, y: x / y, np.divide, inputs=[a, b])


BINARY = [(lambda a, b: a + b, np.add), (lambda a, b: a - b, np.subtract), (lambda a, b: a * b, np.multiply),
          (lambda a, b: a / b, np.divide)]


@pytest.mark.parametrize("op, ref", BINARY, ids=["add", "sub", "mul", "div"])
def test_binary_with_one_tensor_on_both_sides(op, ref):
    """x op x: both gradients accumulate into one buffer in the same C pass."""
    x = random_inputs([(4, 6)], seed=3)[0] + 2.0   # away from 0, for the division
    check_op(lambda t: op(t, t), lambda a: ref(a, a), inputs=[x])


@pytest.mark.parametrize("op, ref", BINARY, ids=["add", "sub", "mul", "div"])
def test_binary_gradient_only_where_required(op, ref):
    a = fg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = fg.tensor([[5.0, 6.0], [7.0, 8.0]])
    op(a, b).sum().backward()
    eps = 1e-3
    expected = (ref(a.numpy() + eps, b.numpy()) - ref(a.numpy() - eps, b.numpy())) / (2 * eps)
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-3)
    assert b.grad is None


def test_scalar_operands_and_negation():
    check_op(lambda a: 2.0 * a + 1 - a / 4, lambda a: 2.0 * a + 1 - a / 4, (3, 4))
    check_op(lambda a: 1 - a, lambda a: 1 - a, (5,))
    check_op(lambda a: -a, np.negative, (2, 3))


@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (2, 3, 2), (5, 7, 3), (1, 9, 4), (8, 1, 5)])
def test_matmul(m, k, n):
    check_op(lambda a, b: a @ b, np.matmul, (m, k), (k, n))


@pytest.mark.parametrize("x_shape", [(1, 3), (6, 3), (2, 4, 3), (3,)], ids=str)
def test_linear(x_shape):
    check_op(lambda x, w, b: fg.nn.functional.linear(x, w, b), lambda x, w, b: x @ w.T + b, x_shape, (5, 3), (5,))
    check_op(lambda x, w: fg.nn.functional.linear(x, w), lambda x, w: x @ w.T, x_shape, (2, 3))


def test_relu():
    # values kept away from 0, where relu has a kink that finite differences straddle
    x = random_inputs([(4, 6)])[0]
    x = np.sign(x) * (np.abs(x) + 0.1)
    check_op(lambda t: t.relu(), lambda a: np.maximum(a, 0), inputs=[x])


def test_relu_gradient_at_zero_is_zero():
    x = fg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("shape", [(7,), (3, 4)], ids=str)
def test_tanh_and_sigmoid(shape):
    check_op(lambda t: t.tanh(), np.tanh, shape)
    check_op(lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), shape)


@pytest.mark.parametrize("shape", [(1,), (5,), (1, 1), (3, 4), (2, 3, 5)], ids=str)
def test_softmax_and_log_softmax(shape):
    check_op(lambda t: t.softmax(), np_softmax, shape)
    check_op(lambda t: t.log_softmax(), lambda a: np.log(np_softmax(a)), shape)


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_softmax_family_stays_finite_for_huge_logits(dtype):
    x = fg.tensor([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4]], dtype=dtype)
    p = x.softmax().numpy()
    np.testing.assert_allclose(p, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-7)
    np.testing.assert_allclose(x.log_softmax().numpy(), [[0, -2e4, -1e4], [-np.log(2), -np.log(2), -2e4 - np.log(2)]],
                               rtol=1e-6)
    loss = fg.nn.functional.cross_entropy(x, [1, 0])
    np.testing.assert_allclose(loss.item(), (2e4 + np.log(2)) / 2, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("rows, cols", [(1, 1), (1, 3), (6, 5), (7, 2), (130, 10), (70, 17)])
def test_cross_entropy(rows, cols, reduction):
    targets = np.random.default_rng(rows * cols).integers(0, cols, size=rows)
    check_op(lambda t: fg.nn.functional.cross_entropy(t, targets, reduction=reduction),
             lambda a: np_cross_entropy(a, targets, reduction), (rows, cols))


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64], ids=repr)
def test_cross_entropy_rows_in_blocks_keep_their_own_losses(dtype):
    """Short rows (under 16 classes) are done 64 at a time: an infinite row inside a block is NaN
    alone, each row's loss and probabilities are its own (reduction='none'), an ignored one is left
    out of the mean."""
    x = np.random.default_rng(3).standard_normal((150, 7)) * 3
    x[70, 2] = np.inf
    t = np.random.default_rng(4).integers(0, 7, size=150)
    z = fg.tensor(x, dtype=dtype, requires_grad=True)
    loss = fg.nn.functional.cross_entropy(z, t, reduction="none")
    x = z.numpy().astype(np.float64)   # as the tensor holds it
    with np.errstate(invalid="ignore"):   # (numpy's reference of the infinite row)
        expected, expected_grad = -np_log_softmax(x)[np.arange(150), t], np_softmax(x) - np.eye(7)[t]
    got = loss.numpy()
    assert np.isnan(got[70]) and np.isfinite(np.delete(got, 70)).all()
    tolerance = dict(atol=1e-6, rtol=1e-6) if dtype is fg.float32 else dict(atol=1e-13, rtol=1e-12)
    np.testing.assert_allclose(np.delete(got, 70), np.delete(expected, 70), **tolerance)
    t_ignored = t.copy()
    t_ignored[70] = -100   # reduced, the row sums' logs are pooled per block: an ignored row stays out
    mean = fg.nn.functional.cross_entropy(z.detach(), t_ignored).item()
    np.testing.assert_allclose(mean, np.delete(expected, 70).mean(), **tolerance)
    loss.sum().backward()
    g = z.grad.numpy()
    assert np.isnan(g[70]).all()
    np.testing.assert_allclose(np.delete(g, 70, axis=0), np.delete(expected_grad, 70, axis=0), atol=1e-6)


def test_cross_entropy_gradient_is_p_minus_onehot():
    logits = fg.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]], requires_grad=True)
    fg.nn.functional.cross_entropy(logits, [2, 0]).backward()
    expected = (np_softmax(logits.numpy()) - np.eye(3)[[2, 0]]) / 2
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=1e-7)


@pytest.mark.parametrize("shape, dim, keepdim", [((5,), None, False), ((3, 4), None, False), ((3, 4), 0, False),
                                                  ((3, 4), 1, True), ((2, 3, 4), (0, 2), False), ((2, 3, 4), -1, False),
                                                  ((1, 1), 1, False)], ids=str)
def test_sum_and_mean(shape, dim, keepdim):
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    check_op(lambda t: t.sum(dim=dim, keepdim=keepdim), lambda a: a.sum(axis=axis, keepdims=keepdim), shape)
    check_op(lambda t: t.mean(dim=dim, keepdim=keepdim), lambda a: a.mean(axis=axis, keepdims=keepdim), shape)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (33, 2)], ids=str)
def test_transpose(shape):
    check_op(lambda t: t.T * 1.0, lambda a: a.T, shape)


def test_reshape():
    check_op(lambda t: t.reshape(4, -1) * 2.0, lambda a: a.reshape(4, -1) * 2.0, (2, 3, 2))
    check_op(lambda t: t.reshape((6,)) + 0, lambda a: a.reshape(6), (3, 2))


def test_composite_expression():
    check_op(lambda a, b: ((a @ b).relu() * 0.5 + b.sum(dim=0)).softmax().sum(dim=1).mean(),
             lambda a, b: np_softmax(np.maximum(a @ b, 0) * 0.5 + b.sum(axis=0)).sum(axis=1).mean(),
             inputs=[np.array([[1.0, -2.0], [0.5, 1.5], [-1.0, 0.25]]), np.array([[0.7, -1.3, 2.0], [1.1, 0.4, -0.6]])])


@pytest.mark.parametrize("loss", [fg.nn.functional.cross_entropy, fg.nn.functional.nll_loss])
def test_class_losses_over_no_rows(loss):
    """A mean over nothing is NaN (as numpy's and PyTorch's); a sum over nothing is 0."""
    empty = fg.zeros(0, 3, requires_grad=True)
    assert np.isnan(loss(empty, []).item())
    total = loss(empty, [], reduction="sum")
    assert total.item() == 0.0
    total.backward()
    assert empty.grad.shape == (0, 3)


@pytest.mark.parametrize("x_shape", [(1, 3), (7, 3), (2, 4, 3)], ids=str)
def test_linear_relu(x_shape):
    check_op(lambda x, w, b: fg.ops.LinearReLU().forward(x, w, b), lambda x, w, b: np.maximum(x @ w.T + b, 0),
             x_shape, (5, 3), (5,))


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_sequential_fuses_linear_relu_with_identical_results(dtype):
    """Sequential runs Linear + ReLU as one LinearReLU op: bit-identical to the two ops."""
    fg.manual_seed(5)
    model = fg.nn.Sequential(fg.nn.Linear(6, 9, dtype=dtype), fg.nn.ReLU(), fg.nn.Linear(9, 4, dtype=dtype))
    x = fg.randn(11, 6, dtype=dtype)
    fused = model(x)
    assert isinstance(fused._op.inputs[0]._op, fg.ops.LinearReLU)
    F.cross_entropy(fused, np.arange(11) % 4).backward()
    fused_grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    unfused = x
    for layer in model:
        unfused = layer(unfused)
    F.cross_entropy(unfused, np.arange(11) % 4).backward()
    np.testing.assert_array_equal(fused.numpy(), unfused.numpy())
    for got, p in zip(fused_grads, model.parameters()):
        np.testing.assert_array_equal(got, p.grad.numpy())


@pytest.mark.parametrize("op, ref", [(lambda t: t @ t, lambda a: a @ a),
                                     (lambda t: F.linear(t, t), lambda a: a @ a.T),
                                     (lambda t: fg.ops.LinearReLU().forward(t, t), lambda a: np.maximum(a @ a.T, 0))],
                         ids=["matmul", "linear", "linear_relu"])
def test_gemm_backed_ops_with_one_tensor_in_two_places(op, ref):
    """The first gradient of a tensor is written, not added to zeros; a tensor that is both operands
    must still get both contributions (the second adds to the first)."""
    check_op(op, ref, (4, 4))


def test_first_gradients_are_overwritten_not_added_to_garbage(monkeypatch):
    """A tensor's first gradient from matmul and linear goes into an uninitialised buffer: fill new
    buffers with NaN, and the gradients must come out exactly as before; a second backward adds."""
    from fastgrad import autograd
    fg.manual_seed(3)
    x, w, b = fg.randn(5, 4, requires_grad=True), fg.randn(3, 4, requires_grad=True), fg.randn(3, requires_grad=True)
    m = fg.randn(4, 6, requires_grad=True)

    def gradients():
        for t in (x, w, b, m):
            t.grad = None
        for relu in (False, True):
            out = fg.ops.LinearReLU().forward(x, w, b) if relu else F.linear(x, w, b)
            (out.sum() + (x @ m).sum()).backward()
        return [t.grad.numpy().copy() for t in (x, w, b, m)]

    clean = gradients()
    real_empty = autograd._tensor.empty

    def nan_filled(shape, dtype, size=None, zeroed=False, buf=None):
        t = real_empty(shape, dtype, size, zeroed, buf)
        if not zeroed and buf is None:
            t.numpy().fill(np.nan)
        return t
    monkeypatch.setattr(autograd._tensor, "empty", nan_filled)
    for got, expected in zip(gradients(), clean):
        np.testing.assert_array_equal(got, expected)
    assert not np.isnan(clean[0]).any()


def test_a_bad_grad_leaves_no_garbage_behind():
    """weight.grad set by hand to the wrong shape: backward refuses before any new gradient buffer
    exists, so x.grad stays None rather than holding an unwritten buffer."""
    x, w = fg.randn(5, 4, requires_grad=True), fg.randn(3, 4, requires_grad=True)
    w.grad = fg.zeros(4, 3)
    with pytest.raises(ValueError, match="grad"):
        F.linear(x, w).sum().backward()
    assert x.grad is None

"""The worked examples of the tutorial fastgrad grew from (../shared/seed), as facts."""
import numpy as np
import pytest

import fastgrad as fg


def test_flat_row_major_get_and_set():
    t = fg.tensor([[2, 3, 4], [5, 6, 7], [8, 9, 10]])
    assert [t.get(i, j) for i in range(3) for j in range(3)] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert t.get(1, 2) == 7   # flat index 3*1 + 2 = 5
    t.set(1, 2, 100)
    assert t.get(1, 2) == 100
    assert t.numpy().ravel()[5] == 100
    assert t.tolist() == [[2, 3, 4], [5, 6, 100], [8, 9, 10]]


def test_matmul_and_its_transposed_backward():
    a = fg.tensor([[6, 5, 4], [3, 2, 1]], requires_grad=True)
    b = fg.tensor([[1, 2], [3, 4], [5, 6]], requires_grad=True)
    out = fg.ops.MatMul().forward(a, b)
    assert out.tolist() == [[41, 56], [14, 20]]
    out.backward(fg.ones(2, 2))   # the tutorial's dummy upstream gradient of ones
    assert a.grad.tolist() == [[3, 7, 11], [3, 7, 11]]   # ones · bᵀ
    assert b.grad.tolist() == [[9, 9], [7, 7], [5, 5]]   # aᵀ · ones


def test_relu():
    a = fg.tensor([[1, 2, 3, -4, -5]])
    assert fg.ops.ReLU().forward(a).tolist() == [[1, 2, 3, 0, 0]]


def test_softmax_rows_sum_to_one():
    fg.manual_seed(0)
    x = fg.randn(4, 7, std=3.0)
    s = fg.ops.Softmax().forward(x)
    np.testing.assert_allclose(s.numpy().sum(axis=1), np.ones(4), rtol=1e-6)
    assert (s.numpy() > 0).all()


def test_add_op_object():
    a, b = fg.tensor([[1, 2], [3, 4]]), fg.tensor([[10, 20], [30, 40]])
    assert fg.ops.Add().forward(a, b).tolist() == [[11, 22], [33, 44]]


def test_two_layer_network_chain_fills_every_gradient():
    fg.manual_seed(1)
    x = fg.randn(5, 2)
    l1, l2 = fg.nn.Linear(2, 3), fg.nn.Linear(3, 2)
    out = l2.forward(fg.nn.ReLU().forward(l1.forward(x)))
    assert out.shape == (5, 2)
    out.sum().backward()
    for p in l1.parameters() + l2.parameters():
        assert p.grad is not None and p.grad.shape == p.shape
        assert np.isfinite(p.grad.numpy()).all()
    assert np.abs(l2.bias.grad.numpy()).tolist() == [5.0, 5.0]   # d(sum)/d(bias) = batch size


def test_softmax_backward_with_the_correct_class():
    """The tutorial's softmax.backward(correct_class): the logits get p - onehot."""
    fg.manual_seed(2)
    x = fg.randn(1, 2, requires_grad=True)
    softmax = fg.ops.Softmax()
    p = softmax.forward(x)
    softmax.backward(1)
    np.testing.assert_allclose(x.grad.numpy(), p.numpy() - np.array([[0.0, 1.0]]), atol=1e-7)


def test_softmax_backward_with_classes_runs_the_whole_chain():
    fg.manual_seed(3)
    x = fg.randn(4, 3)
    layer = fg.nn.Linear(3, 5)
    softmax = fg.ops.Softmax()
    p = softmax.forward(layer.forward(x))
    softmax.backward([0, 4, 2, 2])
    onehot = np.eye(5)[[0, 4, 2, 2]]
    np.testing.assert_allclose(layer.bias.grad.numpy(), (p.numpy() - onehot).sum(axis=0), atol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        softmax.backward([0, 5, 2, 2])

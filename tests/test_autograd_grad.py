"""fg.autograd.grad against torch.autograd.grad: gradients of outputs with respect to leaves and
intermediate tensors, with grad_outputs, unused inputs, and no tensor's .grad touched."""
import numpy as np
import pytest

import fastgrad as fg

torch = pytest.importorskip("torch")


def _both(*arrays):
    return ([fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _graph(lib, x, w):
    h = (x * w).tanh()
    return h, (h ** 2).sum(), (h * 3.0).sum(dim=0)


def _close(mine, theirs):
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_grad_of_leaves_and_intermediates_matches_torch_and_leaves_grad_untouched():
    rng = np.random.default_rng(0)
    (fx, fw), (tx, tw) = _both(rng.standard_normal((3, 4)), rng.standard_normal(4))
    fx.grad = fg.ones(3, 4, dtype=fg.float64)   # an earlier gradient stays as it was
    fh, fy, fz = _graph(fg, fx, fw)
    th, ty, tz = _graph(torch, tx, tw)
    _close(fg.autograd.grad(fy, (fx, fh, fw)), torch.autograd.grad(ty, (tx, th, tw), retain_graph=True))
    g = rng.standard_normal(4)
    _close(fg.autograd.grad([fy, fz], [fw], grad_outputs=[None, fg.tensor(g, dtype=fg.float64)]),
           torch.autograd.grad([ty, tz], [tw], grad_outputs=[None, torch.tensor(g)], retain_graph=True))
    _close(fg.autograd.grad(fh, fh, grad_outputs=fg.tensor(np.ones((3, 4)))), [torch.ones(3, 4, dtype=torch.float64)])
    np.testing.assert_array_equal(fx.grad.numpy(), np.ones((3, 4)))
    assert fw.grad is None
    fy.backward()   # the graph is still there, and backward accumulates as before
    np.testing.assert_allclose(fx.grad.numpy() - 1, fg.autograd.grad(fy, fx)[0].numpy(), rtol=1e-12)


def test_unused_inputs_and_bad_calls():
    (x, w, u), _ = _both(np.ones(3), np.ones(3), np.ones(3))
    y = (x * w).sum()
    with pytest.raises(RuntimeError, match="not used in the graph"):
        fg.autograd.grad(y, (x, u))
    gx, gu = fg.autograd.grad(y, (x, u), allow_unused=True)
    assert gu is None and gx.tolist() == [1.0, 1.0, 1.0]
    assert fg.autograd.grad(y, (u,), materialize_grads=True)[0].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(NotImplementedError, match="create_graph"):
        fg.autograd.grad(y, x, create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        fg.autograd.grad(y, fg.ones(3))
    with pytest.raises(RuntimeError, match="non-scalar|needs a gradient"):
        fg.autograd.grad(x * w, x)
    with pytest.raises(ValueError, match="grad_outputs has 2 entries"):
        fg.autograd.grad(y, x, grad_outputs=[None, None])


def test_backward_takes_pytorchs_arguments():
    """Tensor.backward(gradient, retain_graph, create_graph, inputs) and torch.autograd.backward over a
    list of tensors, against torch: the keywords GAN and multi-loss code passes."""
    rng = np.random.default_rng(1)
    (fx, fw), (tx, tw) = _both(rng.standard_normal((3, 4)), rng.standard_normal(4))
    fh, fy, fz = _graph(fg, fx, fw)
    th, ty, tz = _graph(torch, tx, tw)
    g = rng.standard_normal(4)
    fy.backward(retain_graph=True)
    ty.backward(retain_graph=True)
    fz.backward(gradient=fg.tensor(g, dtype=fg.float64), retain_graph=True)
    tz.backward(gradient=torch.tensor(g), retain_graph=True)
    _close([fx.grad, fw.grad], [tx.grad, tw.grad])
    fg.autograd.backward([fy, fz], grad_tensors=[None, fg.tensor(g, dtype=fg.float64)])
    torch.autograd.backward([ty, tz], grad_tensors=[None, torch.tensor(g)], retain_graph=True)
    _close([fx.grad, fw.grad], [tx.grad, tw.grad])
    before = fx.grad.numpy().copy()
    fy.backward(inputs=[fw])   # only w's gradient moves
    ty.backward(inputs=[tw])
    np.testing.assert_array_equal(fx.grad.numpy(), before)
    _close([fw.grad], [tw.grad])
    with pytest.raises(NotImplementedError, match="create_graph"):
        fy.backward(create_graph=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        fy.backward(inputs=[])
    with pytest.raises(RuntimeError, match="2 entries for 1 tensors"):
        fg.autograd.backward([fy], grad_tensors=[None, None])


def test_a_tensor_read_through_indexing_gets_its_whole_gradient_once(monkeypatch):
    """Indexing and movement ops read a non-leaf through an alias of it (tensor._source); backward
    sums the alias's gradient with the tensor's before the op that made it runs, once: grad(),
    retain_grad() and the op's own backward all see the whole gradient, as in PyTorch."""
    (w,), (tw,) = _both(np.arange(20.0).reshape(4, 5) / 10)
    b, tb = w * 2, tw * 2
    _close(fg.autograd.grad(b[0].sum() + b.t().sum() + b.sum(), [b]),
           torch.autograd.grad(tb[0].sum() + tb.t().sum() + tb.sum(), [tb]))
    b, tb = w * 2, tw * 2
    b.retain_grad()
    tb.retain_grad()
    b[1:, ::2].sum().backward()
    tb[1:, ::2].sum().backward()
    _close([b.grad, w.grad], [tb.grad, tw.grad])
    runs = []
    linear_backward = fg.ops.Linear._backward
    monkeypatch.setattr(fg.ops.Linear, "_backward", lambda op, g: runs.append(1) or linear_backward(op, g))
    q = fg.nn.Linear(5, 3, dtype=fg.float64)(w)
    (q * 2 + q[:, :2].sum() + q.t().sum() + q[0].sum()).sum().backward()
    assert len(runs) == 1

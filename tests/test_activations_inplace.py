"""PyTorch's in-place activations (x.relu_(), nn.ReLU(inplace=True), F.dropout(..., inplace=True)),
nn.LeakyReLU and nn.ELU, and clamp_min/clamp_max: values and gradients against PyTorch."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn as nn
import fastgrad.nn.functional as F

torch = pytest.importorskip("torch")

X = np.array([[-2.0, -0.5, 0.0, -0.0, 0.5, 3.0], [100.0, -100.0, 1e-3, -1e-3, 7.0, -7.0]])


def _pair(fn_fg, fn_torch, x=X):
    """Runs fn on a non-leaf (x * 1.0) in both libraries; returns (values, grads) of each."""
    a = fg.tensor(x, dtype=fg.float64, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    y, ty = fn_fg(a * 1.0), fn_torch(ta * 1.0)
    g = np.linspace(-1, 1, x.size).reshape(x.shape)
    y.backward(fg.tensor(g, dtype=fg.float64))
    ty.backward(torch.tensor(g))
    return (y.numpy(), a.grad.numpy()), (ty.detach().numpy(), ta.grad.numpy())


CASES = {
    "relu_": (lambda x: x.relu_(), lambda x: x.relu_()),
    "tanh_": (lambda x: x.tanh_(), lambda x: x.tanh_()),
    "sigmoid_": (lambda x: x.sigmoid_(), lambda x: x.sigmoid_()),
    "exp_": (lambda x: (x * 0.01).exp_(), lambda x: (x * 0.01).exp_()),
    "neg_": (lambda x: x.neg_(), lambda x: x.neg_()),
    "abs_": (lambda x: x.abs_(), lambda x: x.abs_()),
    "sqrt_": (lambda x: (x * x + 1.0).sqrt_(), lambda x: (x * x + 1.0).sqrt_()),
    "nn.ReLU(inplace=True)": (lambda x: nn.ReLU(inplace=True)(x), lambda x: torch.nn.ReLU(inplace=True)(x)),
    "F.relu(inplace=True)": (lambda x: F.relu(x, inplace=True), lambda x: torch.nn.functional.relu(x, inplace=True)),
    "nn.LeakyReLU": (lambda x: nn.LeakyReLU(0.2)(x), lambda x: torch.nn.LeakyReLU(0.2)(x)),
    "nn.LeakyReLU(inplace=True)": (lambda x: nn.LeakyReLU(inplace=True)(x),
                                   lambda x: torch.nn.LeakyReLU(inplace=True)(x)),
    "nn.ELU": (lambda x: nn.ELU(0.7)(x), lambda x: torch.nn.ELU(0.7)(x)),
    "F.elu(inplace=True)": (lambda x: F.elu(x, inplace=True), lambda x: torch.nn.functional.elu(x, inplace=True)),
    "clamp_min": (lambda x: x.clamp_min(0.25), lambda x: x.clamp_min(0.25)),
    "clamp_max": (lambda x: x.clamp_max(0.25), lambda x: x.clamp_max(0.25)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name):
    (y, gx), (ty, tgx) = _pair(*CASES[name])
    np.testing.assert_allclose(y, ty, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(gx, tgx, rtol=1e-9, atol=1e-30)   # 1 - sigmoid(7), ELU at -100: last digits
    assert np.isfinite(gx).all()


def test_in_place_writes_the_tensor_itself():
    h = fg.tensor(X, requires_grad=True) * 1.0
    out = nn.ReLU(inplace=True)(h)
    assert out is h and (h.numpy() >= 0).all()
    d = fg.tensor(X)
    assert F.leaky_relu(d, 0.5, inplace=True) is d
    np.testing.assert_array_equal(d.numpy(), np.where(X > 0, X, X * 0.5).astype(np.float32))
    fg.manual_seed(0)
    d = fg.ones(50, 50)
    assert F.dropout(d, 0.5, training=True, inplace=True) is d
    assert set(np.unique(d.numpy())) == {0.0, 2.0}
    assert nn.Dropout(0.5, inplace=True).eval()(d) is d
    d = fg.ones(4, 8, 3, 3)
    assert nn.Dropout2d(0.5, inplace=True)(d) is d   # whole channels zeroed in d itself
    channels = d.numpy().reshape(32, 9)
    assert set(np.unique(channels)) == {0.0, 2.0} and all(len(set(row)) == 1 for row in channels)


def test_a_leaf_that_requires_grad_refuses_in_place_activation():
    w = fg.tensor(X, requires_grad=True)
    for fn in (lambda t: t.relu_(), lambda t: nn.ReLU(inplace=True)(t), lambda t: F.elu(t, inplace=True)):
        with pytest.raises(RuntimeError, match="leaf"):
            fn(w)
    with fg.no_grad():
        w.relu_()
    assert (w.numpy() >= 0).all()


def test_sequential_with_in_place_relu_trains_like_torchs():
    fg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(inplace=True), nn.Linear(5, 2), nn.LeakyReLU(0.1, inplace=True))
    tmodel = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(inplace=True), torch.nn.Linear(5, 2),
                                 torch.nn.LeakyReLU(0.1, inplace=True))
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x = X.astype(np.float32)
    model(fg.tensor(x)).sum().backward()
    tmodel(torch.tensor(x)).sum().backward()
    for (name, p), tp in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"

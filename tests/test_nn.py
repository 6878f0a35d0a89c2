"""nn: every layer and loss through the gradient checker (tests/gradcheck.py), then Module's
bookkeeping: parameters, modes, repr, state_dict."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad.tensor import generator
from gradcheck import check_op, np_cross_entropy, np_softmax, random_inputs

nn, F = fg.nn, fg.nn.functional


# ---- gradient checks: layers ------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_linear_module(bias):
    def linear(x, w, b=None):
        layer = nn.Linear(3, 4, bias=bias)
        layer.weight, layer.bias = w, b
        return layer(x)
    if bias:
        check_op(linear, lambda x, w, b: x @ w.T + b, (5, 3), (4, 3), (4,))
    else:
        check_op(linear, lambda x, w: x @ w.T, (5, 3), (4, 3))


@pytest.mark.parametrize("layer, ref", [(nn.Tanh(), np.tanh), (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
                                        (nn.Softmax(dim=1), np_softmax), (nn.LogSoftmax(dim=1), lambda a: np.log(np_softmax(a))),
                                        (nn.Identity(), lambda a: a)], ids=lambda v: type(v).__name__)
def test_pointwise_and_softmax_modules(layer, ref):
    check_op(layer, ref, (4, 6))


def test_relu_module():
    x = random_inputs([(4, 6)])[0]
    check_op(nn.ReLU(), lambda a: np.maximum(a, 0), inputs=[np.sign(x) * (np.abs(x) + 0.1)])   # away from the kink


def test_flatten_module():
    check_op(nn.Flatten(), lambda a: a.reshape(2, 12), (2, 3, 4))


def test_dropout_in_training_mode():
    p = 0.25
    fg.manual_seed(7)
    keep = fg.rand(5, 8, dtype=fg.float64).numpy() >= p   # the mask the layer will draw (same words of the generator)

    def dropped(x):
        fg.manual_seed(7)   # the same mask on every call, for the finite differences
        return nn.Dropout(p)(x)
    check_op(dropped, lambda a: a * keep / (1 - p), (5, 8), check_float32=False)   # float32 draws other bits


def test_mlp_sequential_as_one_function():
    def mlp(x, w1, b1, w2, b2):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
        model[0].weight, model[0].bias, model[2].weight, model[2].bias = w1, b1, w2, b2
        return model(x)
    check_op(mlp, lambda x, w1, b1, w2, b2: 1 / (1 + np.exp(-(np.tanh(x @ w1.T + b1) @ w2.T + b2))),
             (6, 3), (4, 3), (4,), (2, 4), (2,))


# ---- gradient checks: losses ------------------------------------------------------------------------
TARGETS = np.array([0, 3, 1, 3, 2])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy(reduction):
    check_op(lambda z: F.cross_entropy(z, TARGETS, reduction=reduction), lambda z: np_cross_entropy(z, TARGETS, reduction), (5, 4))
    check_op(lambda z: nn.CrossEntropyLoss(reduction=reduction)(z, TARGETS), lambda z: np_cross_entropy(z, TARGETS, reduction),
             (5, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
@pytest.mark.parametrize("shape", [(32, 10), (7, 3), (5, 40)])
def test_cross_entropy_backward_one_pass_same_bits(reduction, dtype, shape):
    """Unweighted, unsmoothed, with no row ignored, the backward runs over the whole block at once;
    a weight of ones takes the row-by-row loop: the gradients must be the same bits."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape) * 3
    targets = fg.tensor(rng.integers(0, shape[1], shape[0]))
    grads = []
    for weight in (None, fg.ones(shape[1], dtype=dtype)):
        x = fg.tensor(z, dtype=dtype, requires_grad=True)
        F.cross_entropy(x, targets, weight=weight, reduction=reduction).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    assert np.abs(grads[0]).max() > 0


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_loss(reduction):
    def ref(a):
        picked = -a[np.arange(5), TARGETS]
        return picked.mean() if reduction == "mean" else picked.sum()
    check_op(lambda a: F.nll_loss(a, TARGETS, reduction=reduction), ref, (5, 4))
    check_op(lambda a: nn.NLLLoss(reduction=reduction)(a, TARGETS), ref, (5, 4))


def test_log_softmax_then_nll_is_cross_entropy():
    check_op(lambda z: F.nll_loss(nn.LogSoftmax(dim=1)(z), TARGETS), lambda z: np_cross_entropy(z, TARGETS, "mean"), (5, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss(reduction):
    ref = (lambda a, b: np.mean((a - b) ** 2)) if reduction == "mean" else (lambda a, b: np.sum((a - b) ** 2))
    check_op(lambda a, b: F.mse_loss(a, b, reduction), ref, (4, 3), (4, 3))
    check_op(lambda a, b: nn.MSELoss(reduction)(a, b), ref, (7,), (7,))


def test_loss_input_errors():
    z = fg.zeros(3, 4)
    with pytest.raises(ValueError, match="out of range"):
        F.nll_loss(z, [0, 4, 1])
    with pytest.raises(ValueError, match="expected shape"):
        F.nll_loss(z, [0, 1])
    with pytest.raises(TypeError, match="integers"):
        F.nll_loss(z, [0.5, 1, 2])
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.warns(UserWarning, match="different to the input size"):   # PyTorch's: broadcast to (3, 3)
        assert F.mse_loss(fg.zeros(3), fg.zeros(3, 1), reduction="none").shape == (3, 3)


# ---- Dropout ----------------------------------------------------------------------------------------
def test_dropout_drops_scales_and_is_seeded():
    x = fg.ones(200, 50)
    fg.manual_seed(0)
    a = nn.Dropout(0.3)(x).numpy()
    fg.manual_seed(0)
    b = nn.Dropout(0.3)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.7)}
    assert abs((a == 0).mean() - 0.3) < 0.02
    assert not np.array_equal(nn.Dropout(0.3)(x).numpy(), a)   # a fresh mask on the next call


def test_dropout_eval_mode_and_edge_probabilities():
    x = fg.randn(4, 5)
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x).numpy().any()
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="dropout probability"):
            nn.Dropout(bad)


# ---- Module bookkeeping -----------------------------------------------------------------------------
class Block(nn.Module):
    """A user module that does not call Module.__init__, with a list of layers and a raw parameter."""

    def __init__(self):
        self.scale = fg.ones(2, requires_grad=True)
        self.layers = [nn.Linear(3, 2), nn.ReLU()]
        self.head = nn.Linear(2, 2, bias=False)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x * self.scale)


def test_named_parameters_follow_pytorch_names():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), Block())
    assert [name for name, _ in model.named_parameters()] == [
        "0.weight", "0.bias", "2.scale", "2.layers.0.weight", "2.layers.0.bias", "2.head.weight"]
    assert [p.shape for p in model.parameters()] == [(4, 3), (4,), (2,), (2, 3), (2,), (2, 2)]
    assert list(model.state_dict()) == [name for name, _ in model.named_parameters()]


def test_shared_and_frozen_parameters():
    first = nn.Linear(2, 2)
    model = nn.Sequential(first, nn.Tanh(), first)
    assert len(model.parameters()) == 2                        # listed once for the optimizer
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]   # as torch does
    first.bias.requires_grad_(False)
    assert "0.bias" in model.state_dict()                     # frozen, still part of the model
    first.last_output = first(fg.ones(1, 2))                  # a cached activation is no parameter
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_call_is_forward_and_the_chain_backpropagates():
    fg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    x = fg.randn(4, 3)
    np.testing.assert_array_equal(model(x).numpy(), model.forward(x).numpy())
    model.forward(x).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), Block(), nn.Dropout())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules()) and len(model.modules()) == 7


def test_repr_is_nested_and_readable():
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.1), Block(), nn.CrossEntropyLoss("sum"))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=64, out_features=32, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1)\n"
        "  (3): Block(\n"
        "    (layers.0): Linear(in_features=3, out_features=2, bias=True)\n"
        "    (layers.1): ReLU()\n"
        "    (head): Linear(in_features=2, out_features=2, bias=False)\n"
        "  )\n"
        "  (4): CrossEntropyLoss(reduction='sum')\n"
        ")")


def test_sequential_rejects_non_modules_and_slices():
    with pytest.raises(TypeError, match="layer 1 is a function"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(model[:2], nn.Sequential) and len(model[:2]) == 2 and model[:2][0] is model[0]


def test_linear_init_is_pytorch_uniform_and_seeded():
    fg.manual_seed(5)
    a = nn.Linear(100, 50)
    fg.manual_seed(5)
    b = nn.Linear(100, 50)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert np.abs(a.weight.numpy()).max() <= 0.1 and np.abs(a.weight.numpy()).max() > 0.09
    assert np.abs(a.bias.numpy()).max() <= 0.1
    assert nn.Linear(3, 2, dtype=fg.float64).weight.dtype is fg.float64


# ---- state_dict -------------------------------------------------------------------------------------
def mlp(seed):
    fg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def snapshot(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_state_dict_shares_storage_and_round_trips():
    a, b = mlp(0), mlp(1)
    state = a.state_dict()
    assert all(not v.requires_grad for v in state.values())
    assert np.shares_memory(state["0.weight"].numpy(), a[0].weight.numpy())
    result = b.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in snapshot(a).items():
        np.testing.assert_array_equal(b.state_dict()[k].numpy(), v)
    x = fg.randn(2, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_load_state_dict_accepts_numpy_and_casts():
    model = mlp(0)
    state = {k: v.numpy().astype(np.float64) + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert model[0].weight.dtype is fg.float32
    np.testing.assert_allclose(model[0].weight.numpy(), state["0.weight"], rtol=1e-6)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("2.bias"), "missing keys: 2.bias"),
    (lambda s: s.update(extra=np.zeros(3)), "unexpected keys: extra"),
    (lambda s: s.update({"0.weight": np.zeros((8, 5))}), r"0.weight: shape \(8, 5\) in the state_dict, \(8, 4\) in the model"),
])
def test_strict_load_errors_leave_the_model_unchanged(change, message):
    model, other = mlp(0), snapshot(mlp(1))
    before = snapshot(model)
    change(other)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(other)
    for k, v in snapshot(model).items():
        np.testing.assert_array_equal(v, before[k])


def test_non_strict_load_reports_keys_but_still_checks_shapes():
    model, other = mlp(0), snapshot(mlp(1))
    del other["2.bias"]
    other["extra"] = np.zeros(1)
    result = model.load_state_dict(other, strict=False)
    assert result == (["2.bias"], ["extra"])
    np.testing.assert_array_equal(model[0].weight.numpy(), other["0.weight"])
    other["0.bias"] = np.zeros(7)
    with pytest.raises(ValueError, match="0.bias: shape"):
        model.load_state_dict(other, strict=False)


def test_load_state_dict_type_errors():
    with pytest.raises(TypeError, match="mapping"):
        mlp(0).load_state_dict([1, 2])
    state = snapshot(mlp(0))
    state["0.bias"] = np.array(["a"] * 8)
    with pytest.raises(TypeError, match="'0.bias'"):
        mlp(0).load_state_dict(state)

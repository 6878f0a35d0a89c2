"""Optimizers against numpy transcriptions of their update rules (float64), their bookkeeping
(groups, skipped parameters, state buffers made once), state_dict, and the lr schedules."""
import math

import numpy as np
import pytest

import fastgrad as fg

optim = fg.optim
STEPS = 6


def gradients(shape, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(STEPS)]


def run(opt_factory, p0, grads):
    """Applies the given gradients with the optimizer, one step each; returns the parameter."""
    p = fg.tensor(p0, dtype=fg.float64, requires_grad=True)
    opt = opt_factory([p])
    for g in grads:
        p.grad = fg.tensor(g, dtype=fg.float64)
        opt.step()
    return p.numpy()


def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf = p.copy(), None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p -= lr * g
    return p


def adam_reference(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    p, m, v, vmax = p.copy(), 0.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        v_hat = (vmax if amsgrad else v) / (1 - betas[1] ** t)
        p -= lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.8, dampening=0.3),
                                dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.1, momentum=0.5, weight_decay=0.1)],
                         ids=str)
def test_sgd_matches_its_update_rule(kw):
    p0, grads = np.random.default_rng(1).standard_normal((3, 4)), gradients((3, 4))
    np.testing.assert_allclose(run(lambda ps: optim.SGD(ps, **kw), p0, grads), sgd_reference(p0, grads, **kw),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6), dict(lr=0.01, weight_decay=0.1),
                                dict(lr=0.01, amsgrad=True)], ids=str)
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_adam_and_adamw_match_their_update_rules(cls, kw):
    p0, grads = np.random.default_rng(1).standard_normal((5,)), gradients((5,))
    if cls is optim.AdamW:
        kw = dict({"weight_decay": 1e-2}, **kw)   # AdamW's default decay, unless the case sets one
    expected = adam_reference(p0, grads, decoupled=cls is optim.AdamW, **kw)
    np.testing.assert_allclose(run(lambda ps: cls(ps, **kw), p0, grads), expected, rtol=1e-12, atol=1e-14)


def test_defaults_are_pytorchs():
    p = [fg.zeros(1, requires_grad=True)]
    assert optim.SGD(p).param_groups[0]["lr"] == 1e-3
    adam = optim.Adam(p).param_groups[0]
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"], adam["amsgrad"]) == (1e-3, (0.9, 0.999),
                                                                                               1e-8, 0.0, False)
    assert optim.AdamW(p).param_groups[0]["weight_decay"] == 1e-2


def test_float32_step_matches_float64_closely():
    p0, grads = np.random.default_rng(2).standard_normal((4, 4)), gradients((4, 4))
    p = fg.tensor(p0, requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    for g in grads:
        p.grad = fg.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.numpy(), adam_reference(p0, grads, lr=0.01), rtol=1e-5, atol=1e-6)


def test_state_buffers_are_made_once_and_updated_in_place():
    p = fg.randn(3, 3, requires_grad=True)
    opt = optim.Adam([p], amsgrad=True)
    p.grad = fg.ones(3, 3)
    opt.step()
    buffers = {k: v._buf for k, v in opt.state[p].items() if k != "step"}
    param_buf = p._buf
    for _ in range(3):
        opt.step()
    assert p._buf is param_buf and opt.state[p]["step"] == 4
    assert all(opt.state[p][k]._buf is buf for k, buf in buffers.items()) and len(buffers) == 3


def test_parameters_without_gradient_are_skipped_and_zero_grad_clears():
    a, b = fg.ones(2, requires_grad=True), fg.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    a.grad = fg.ones(2)
    opt.step()
    assert a.tolist() == [0.5, 0.5] and b.tolist() == [1.0, 1.0] and b not in opt.state
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_parameter_groups_have_their_own_hyperparameters():
    a, b = fg.ones(1, requires_grad=True), fg.ones(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = fg.ones(1), fg.ones(1)
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)


def test_a_small_regression_trains():
    fg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = fg.nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for _ in range(100):
        opt.zero_grad()
        loss = fg.nn.functional.mse_loss(model(fg.tensor(x)), fg.tensor(y))
        loss.backward()
        opt.step()
    assert loss.item() < 1e-6
    np.testing.assert_allclose(model.weight.numpy(), [[1.0, -2.0, 0.5]], atol=1e-3)


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), "invalid lr"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "invalid momentum"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "betas"),
    (lambda p: optim.Adam(p, eps=-1e-8), "invalid eps"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.SGD(p + p, lr=0.1), "more than one group or twice"),
    (lambda p: optim.SGD([p[0] * 2], lr=0.1), "non-leaf"),
    (lambda p: optim.SGD([{"params": p, "momentun": 0.9}], lr=0.1), "unknown hyperparameters"),
])
def test_bad_arguments_raise_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make([fg.zeros(2, requires_grad=True)])


def test_bad_arguments_raise_type_errors():
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(fg.zeros(2, requires_grad=True), lr=0.1)
    with pytest.raises(TypeError, match="only optimize fastgrad Tensors"):
        optim.Adam([np.zeros(2)])


def test_a_gradient_of_the_wrong_shape_is_refused_before_the_kernel():
    p = fg.zeros(4, requires_grad=True)
    p.grad = fg.zeros(3)
    with pytest.raises(ValueError, match=r"shape \(4,\).*gradient of shape \(3,\)"):
        optim.Adam([p]).step()


# ---- state_dict -------------------------------------------------------------------------------------
def trained(opt_cls, steps, **kw):
    p = fg.tensor(np.linspace(-1, 1, 6), dtype=fg.float64, requires_grad=True)
    opt = opt_cls([p], **kw)
    for g in gradients((6,), seed=3)[:steps]:
        p.grad = fg.tensor(g, dtype=fg.float64)
        opt.step()
    return p, opt


@pytest.mark.parametrize("opt_cls, kw", [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adam, dict(amsgrad=True)),
                                         (optim.AdamW, dict(lr=0.01))])
def test_state_dict_resumes_exactly(opt_cls, kw):
    p_full, _ = trained(opt_cls, STEPS, **kw)
    p, opt = trained(opt_cls, 3, **kw)
    state = opt.state_dict()
    assert state["param_groups"][0]["params"] == [0]
    resumed_p = fg.tensor(p.numpy(), dtype=fg.float64, requires_grad=True)
    resumed = opt_cls([resumed_p], lr=123.0)   # the hyperparameters come from the state_dict too
    resumed.load_state_dict(state)
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for g in gradients((6,), seed=3)[3:]:
        resumed_p.grad = fg.tensor(g, dtype=fg.float64)
        resumed.step()
    np.testing.assert_array_equal(resumed_p.numpy(), p_full.numpy())


def test_state_dict_is_a_copy():
    p, opt = trained(optim.Adam, 2)
    state = opt.state_dict()
    before = state["state"][0]["exp_avg"].numpy().copy()
    p.grad = fg.ones(6, dtype=fg.float64)
    opt.step()
    np.testing.assert_array_equal(state["state"][0]["exp_avg"].numpy(), before)


def test_load_state_dict_errors_leave_the_optimizer_unchanged():
    p, opt = trained(optim.Adam, 2)
    saved = opt.state_dict()
    other = optim.Adam([fg.zeros(5, dtype=fg.float64, requires_grad=True)])
    with pytest.raises(ValueError, match="exp_avg of parameter 0 has shape"):
        other.load_state_dict(saved)
    assert other.state == {} and other.param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="groups hold"):
        optim.Adam([fg.zeros(6, requires_grad=True), fg.zeros(1, requires_grad=True)]).load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# ---- learning-rate schedules ------------------------------------------------------------------------
def lrs(make_scheduler, epochs):
    opt = optim.SGD([fg.zeros(1, requires_grad=True)], lr=0.1)
    sched = make_scheduler(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [out[-1]]
        opt.step()
        sched.step()
    return out


def test_step_lr():
    np.testing.assert_allclose(lrs(lambda o: optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5), 6),
                               [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_cosine_annealing_lr():
    got = lrs(lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.02), 5)
    np.testing.assert_allclose(got, [0.02 + 0.08 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)])
    assert got[0] == pytest.approx(0.1) and got[4] == pytest.approx(0.02)


def test_scheduler_state_dict_and_bad_arguments():
    opt = optim.SGD([fg.zeros(1, requires_grad=True)], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    sched.step(), sched.step()
    other_opt = optim.SGD([fg.zeros(1, requires_grad=True)], lr=0.1)
    other = optim.lr_scheduler.StepLR(other_opt, step_size=1, gamma=0.5)
    other_opt.load_state_dict(opt.state_dict())   # as in PyTorch, step() goes on from the groups' lr
    other.load_state_dict(sched.state_dict())
    other.step()
    assert other.get_last_lr() == [pytest.approx(0.0125)]
    with pytest.raises(ValueError, match="step_size must be a positive number"):
        optim.lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive number"):
        optim.lr_scheduler.CosineAnnealingLR(opt, T_max=-2.5)


def test_an_optimizer_written_by_hand_and_a_closure_work_as_in_pytorch():
    """A subclass of Optimizer that keeps its own per-parameter state in self.state[p] (a
    defaultdict, as PyTorch's) and step(closure), which returns the closure's loss."""
    class HandSGD(fg.optim.Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.0):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @fg.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = fg.zeros_like(p)
                    state["buf"].mul_(group["momentum"]).add_(p.grad)
                    p.add_(state["buf"], alpha=-group["lr"])

    w, v = fg.tensor([1.0, -2.0], requires_grad=True), fg.tensor([1.0, -2.0], requires_grad=True)
    hand, builtin = HandSGD([w], lr=0.1, momentum=0.9), fg.optim.SGD([v], lr=0.1, momentum=0.9)
    for _ in range(3):
        for p, opt in ((w, hand), (v, builtin)):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
    np.testing.assert_allclose(w.numpy(), v.numpy(), rtol=1e-6)

    def closure():
        builtin.zero_grad()
        loss = (v * v).sum()
        loss.backward()
        return loss
    before = float((v * v).sum())
    assert float(builtin.step(closure)) == before
    assert builtin.state[v]["step"].item() == 4

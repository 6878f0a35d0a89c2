"""Learning-rate schedulers against torch.optim.lr_scheduler: the rates (and OneCycleLR's momentum)
over many steps, with SGD and Adam and two parameter groups; state_dict round trips; bad arguments."""
import pickle

import numpy as np
import pytest

import fastgrad as fg

torch = pytest.importorskip("torch")
ours_lib = fg.optim.lr_scheduler
theirs_lib = torch.optim.lr_scheduler


def optimizers(kind):
    """The same two-group optimizer in fastgrad and in torch."""
    def groups(lib, zeros):
        return [{"params": [zeros(3)]}, {"params": [zeros(2)], "lr": 0.02}]
    if kind == "sgd":
        return (fg.optim.SGD(groups(fg, lambda n: fg.zeros(n, requires_grad=True)), lr=0.1, momentum=0.9),
                torch.optim.SGD(groups(torch, lambda n: torch.zeros(n, requires_grad=True)), lr=0.1, momentum=0.9))
    return (fg.optim.Adam(groups(fg, lambda n: fg.zeros(n, requires_grad=True)), lr=0.1),
            torch.optim.Adam(groups(torch, lambda n: torch.zeros(n, requires_grad=True)), lr=0.1))


class Halve:   # a callable object: LambdaLR's state_dict keeps its state
    def __init__(self):
        self.rate = 0.5

    def __call__(self, epoch):
        return self.rate ** (epoch // 3)


SCHEDULERS = {   # name -> a function of (lib, optimizer) making the scheduler
    "lambda": lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e),
    "lambda_per_group": lambda L, o: L.LambdaLR(o, [lambda e: 1 / (e + 1), Halve()]),
    "multiplicative": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.05),
    "step": lambda L, o: L.StepLR(o, step_size=4, gamma=0.3),
    "multistep": lambda L, o: L.MultiStepLR(o, milestones=[3, 7, 7, 15], gamma=0.5),
    "exponential": lambda L, o: L.ExponentialLR(o, gamma=0.93),
    "constant": lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=6),
    "linear": lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=9),
    "linear_default": lambda L, o: L.LinearLR(o),
    "polynomial": lambda L, o: L.PolynomialLR(o, total_iters=12, power=2.0),
    "cosine": lambda L, o: L.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "cosine_zero_min": lambda L, o: L.CosineAnnealingLR(o, T_max=5),
    "onecycle_cos": lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.3], total_steps=40),
    "onecycle_linear": lambda L, o: L.OneCycleLR(o, max_lr=0.4, epochs=4, steps_per_epoch=10, pct_start=0.25,
                                                 anneal_strategy="linear", base_momentum=0.8, max_momentum=0.9),
    "onecycle_three_phase": lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=40, three_phase=True,
                                                      div_factor=10.0, final_div_factor=100.0),
    "onecycle_no_momentum": lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=40, cycle_momentum=False),
    "warm_restarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=0.002),
    "warm_restarts_mult": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3),
    "sequential": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.2, total_iters=4),
                                                  L.ExponentialLR(o, gamma=0.9),
                                                  L.CosineAnnealingLR(o, T_max=6)], milestones=[5, 12]),
    "chained": lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=4),
                                                L.ExponentialLR(o, gamma=0.9), L.StepLR(o, 5, 0.5)]),
    "chained_with_optimizer": lambda L, o: L.ChainedScheduler([L.LinearLR(o, total_iters=7),
                                                               L.MultiStepLR(o, [2, 9])], optimizer=o),
}


def momentum(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def run(name, kind, steps=40):
    """The (lr, momentum) of every group before each step, from fastgrad and from torch."""
    (opt, topt), seqs = optimizers(kind), ([], [])
    sched, tsched = SCHEDULERS[name](ours_lib, opt), SCHEDULERS[name](theirs_lib, topt)
    for _ in range(steps):
        for o, s, seq in ((opt, sched, seqs[0]), (topt, tsched, seqs[1])):
            seq.append([(g["lr"], momentum(g)) for g in o.param_groups])
            assert s.get_last_lr() == [g["lr"] for g in o.param_groups]
            o.step()
            if not (name.startswith("onecycle") and len(seq) == steps):   # OneCycleLR stops at total_steps
                s.step()
    return np.array(seqs[0]), np.array(seqs[1])


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_rates_match_torch(name, kind):
    ours, theirs = run(name, kind)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len(np.unique(ours[:, :, 0])) > 2   # the schedule moved


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_reduce_lr_on_plateau_matches_torch(kind):
    rng = np.random.default_rng(0)
    metrics = list(np.concatenate([np.linspace(5, 1, 10), 1 + 0.01 * rng.standard_normal(60)]))
    for kw in [{}, dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs", cooldown=3),
               dict(patience=0, cooldown=1, min_lr=[0.01, 0.005], threshold_mode="rel", threshold=0.0),
               dict(factor=0.5, patience=1, min_lr=0.019, eps=1e-3)]:
        (opt, topt) = optimizers(kind)
        sched = ours_lib.ReduceLROnPlateau(opt, **kw)
        tsched = theirs_lib.ReduceLROnPlateau(topt, **kw)
        seen = []
        for m in metrics:
            opt.step(), topt.step()
            sched.step(fg.tensor(m, dtype=fg.float64)), tsched.step(torch.tensor(m))
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
            assert [g["lr"] for g in opt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups])
            assert sched.num_bad_epochs == tsched.num_bad_epochs and sched.best == tsched.best
            seen.append(sched.get_last_lr()[0])
        assert len(set(seen)) > 1, kw


def test_step_with_epoch_uses_the_closed_form():
    for make in (lambda L, o: L.StepLR(o, 3, 0.5), lambda L, o: L.MultiStepLR(o, [2, 5]),
                 lambda L, o: L.ExponentialLR(o, 0.9), lambda L, o: L.CosineAnnealingLR(o, 10),
                 lambda L, o: L.PolynomialLR(o, 8), lambda L, o: L.LinearLR(o), lambda L, o: L.ConstantLR(o)):
        (opt, topt) = optimizers("sgd")
        sched, tsched = make(ours_lib, opt), make(theirs_lib, topt)
        for epoch in (4, 1, 7, 7, 0, 20):
            with pytest.warns(UserWarning):
                tsched.step(epoch)
            sched.step(epoch)
            np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)


def test_warm_restarts_fractional_epochs_match_torch():
    for T_mult in (1, 2):
        (opt, topt) = optimizers("adam")
        sched = ours_lib.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult, eta_min=1e-3)
        tsched = theirs_lib.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=T_mult, eta_min=1e-3)
        for epoch in range(12):
            for i in range(5):
                sched.step(epoch + i / 5), tsched.step(epoch + i / 5)
                np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
                assert sched.T_i == tsched.T_i and sched.last_epoch == tsched.last_epoch


@pytest.mark.parametrize("name", ["lambda_per_group", "multiplicative", "cosine", "onecycle_three_phase",
                                  "warm_restarts_mult", "sequential", "chained"])
def test_state_dict_resumes_the_schedule(name):
    """Save the optimizer and the scheduler after 13 steps, load both into fresh ones: the next rates
    are those of the run that went on."""
    opt, _ = optimizers("sgd")
    sched = SCHEDULERS[name](ours_lib, opt)
    for _ in range(13):
        opt.step(), sched.step()
    saved = pickle.loads(pickle.dumps((opt.state_dict(), sched.state_dict())))
    assert "optimizer" not in saved[1]
    opt2, _ = optimizers("sgd")
    sched2 = SCHEDULERS[name](ours_lib, opt2)
    opt2.load_state_dict(saved[0])
    sched2.load_state_dict(saved[1])
    assert sched2.get_last_lr() == sched.get_last_lr()
    for _ in range(15):
        opt.step(), sched.step(), opt2.step(), sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [momentum(g) for g in opt2.param_groups] == [momentum(g) for g in opt.param_groups]


def test_lambda_state_dict_keeps_callable_objects_state():
    opt, _ = optimizers("sgd")
    halve = Halve()
    sched = ours_lib.LambdaLR(opt, [lambda e: 1.0, halve])
    halve.rate = 0.25
    state = sched.state_dict()
    assert state["lr_lambdas"][0] is None and state["lr_lambdas"][1] == {"rate": 0.25}
    other = Halve()
    ours_lib.LambdaLR(optimizers("sgd")[0], [lambda e: 1.0, other]).load_state_dict(state)
    assert other.rate == 0.25


def test_resuming_with_last_epoch():
    for kind in ("sgd", "adam"):
        (opt, topt) = optimizers(kind)
        for o in (opt, topt):
            for g in o.param_groups:
                g["initial_lr"] = g["lr"]
        sched = ours_lib.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        tsched = theirs_lib.CosineAnnealingLR(topt, T_max=10, last_epoch=4)
        for _ in range(8):
            np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
            opt.step(), topt.step(), sched.step(), tsched.step()


def test_onecycle_refuses_steps_past_total_steps():
    opt, _ = optimizers("sgd")
    sched = ours_lib.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    sched.step(), sched.step(), sched.step()
    with pytest.raises(ValueError, match="total_steps is 3"):
        sched.step()


def test_scheduler_changes_take_effect_in_compiled_replays():
    """A OneCycleLR changing the rate between replays of a compiled step: same bits as eager."""
    def setup():
        fg.manual_seed(0)
        model = fg.nn.Linear(5, 3)
        opt = fg.optim.Adam(model.parameters(), lr=0.01)
        sched = ours_lib.OneCycleLR(opt, max_lr=0.1, total_steps=30, cycle_momentum=False)

        def step(x, y):
            opt.zero_grad()
            loss = fg.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, step, sched
    rng = np.random.default_rng(1)
    data = [(fg.tensor(rng.standard_normal((4, 5)).astype(np.float32)),
             fg.tensor(rng.standard_normal((4, 3)).astype(np.float32))) for _ in range(3)]
    (m1, eager, s1), (m2, step, s2), (m3, frozen, _) = setup(), setup(), setup()
    compiled = fg.compile(step)
    for i in range(29):
        x, y = data[i % 3]
        assert eager(x, y).numpy().tobytes() == compiled(x, y).numpy().tobytes(), f"step {i}"
        frozen(x, y)
        s1.step(), s2.step()
    assert len(compiled.plans) == 1
    for p, q, r in zip(m1.parameters(), m2.parameters(), m3.parameters()):
        assert p.numpy().tobytes() == q.numpy().tobytes()
        assert p.numpy().tobytes() != r.numpy().tobytes()   # the schedule changed the run


def sgd():
    return fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=0.1)


@pytest.mark.parametrize("expr, error, match", [
    ("L.LambdaLR(sgd(), 3)", TypeError, "lr_lambda must be a function"),
    ("L.LambdaLR(sgd(), [lambda e: 1, lambda e: 1])", ValueError, "expected 1 lr_lambdas, got 2"),
    ("L.MultiplicativeLR([1], lambda e: 1)", TypeError, "expects a fastgrad optimizer"),
    ("L.MultiStepLR(sgd(), [1.5])", ValueError, "milestones must be ints"),
    ("L.ConstantLR(sgd(), factor=1.5)", ValueError, "factor must be in"),
    ("L.LinearLR(sgd(), start_factor=0)", ValueError, "start_factor must be in"),
    ("L.LinearLR(sgd(), total_iters=0)", ValueError, "total_iters must be a positive int"),
    ("L.ExponentialLR(sgd(), gamma=float('nan'))", ValueError, "gamma must be a finite number"),
    ("L.PolynomialLR(sgd(), total_iters=-2)", ValueError, "total_iters must be a positive int"),
    ("L.CosineAnnealingWarmRestarts(sgd(), T_0=0)", ValueError, "T_0 must be a positive int"),
    ("L.CosineAnnealingWarmRestarts(sgd(), T_0=2, T_mult=1.5)", ValueError, "T_mult must be a positive int"),
    ("L.CosineAnnealingWarmRestarts(sgd(), T_0=2).step(-1)", ValueError, "epoch must be >= 0"),
    ("L.OneCycleLR(sgd(), max_lr=1.0)", ValueError, "total_steps or both epochs and steps_per_epoch"),
    ("L.OneCycleLR(sgd(), max_lr=1.0, total_steps=10, pct_start=1.5)", ValueError, "pct_start"),
    ("L.OneCycleLR(sgd(), max_lr=1.0, total_steps=10, anneal_strategy='exp')", ValueError, "anneal_strategy"),
    ("L.OneCycleLR(sgd(), max_lr=[1.0, 2.0], total_steps=10)", ValueError, "expected 1 values for max_lr"),
    ("L.OneCycleLR(fg.optim.Adagrad([fg.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=10)", ValueError,
     "cycle_momentum=True needs an optimizer with momentum or betas"),
    ("L.ReduceLROnPlateau(sgd(), mode='up')", ValueError, "mode must be 'min' or 'max'"),
    ("L.ReduceLROnPlateau(sgd(), threshold_mode='x')", ValueError, "threshold_mode"),
    ("L.ReduceLROnPlateau(sgd(), factor=1.0)", ValueError, "factor must be < 1.0"),
    ("L.ReduceLROnPlateau(sgd(), patience=-1)", ValueError, "patience must be an int >= 0"),
    ("L.ReduceLROnPlateau(sgd(), min_lr=[0.1, 0.2])", ValueError, "expected 1 values for min_lr"),
    ("L.SequentialLR(sgd(), [], [])", ValueError, "at least one scheduler"),
    ("L.SequentialLR(sgd(), [L.StepLR(sgd(), 2)], [])", ValueError, "belongs to another optimizer"),
    ("L.SequentialLR(O, [L.StepLR(O, 2), L.StepLR(O, 3)], [])", ValueError, "need 1 milestones, got 0"),
    ("L.SequentialLR(O, [L.ReduceLROnPlateau(O)], [])", ValueError, "does not support ReduceLROnPlateau"),
    ("L.ChainedScheduler([L.StepLR(O, 2), 3])", TypeError, "not a learning-rate scheduler"),
    ("L.ChainedScheduler([])", ValueError, "at least one scheduler"),
    ("L.StepLR(sgd(), 2, last_epoch=3)", ValueError, "has no 'initial_lr'"),
    ("L.StepLR(sgd(), 0.0)", ValueError, "step_size must be a positive number"),
    ("L.CosineAnnealingLR(sgd(), T_max=float('inf'))", ValueError, "T_max must be a positive number"),
])
def test_bad_arguments(expr, error, match):
    with pytest.raises(error, match=match):
        eval(expr, {"L": ours_lib, "sgd": sgd, "fg": fg, "O": sgd()})


def _halving(optimizer):
    """A program's own scheduler, whose step() does not call LRScheduler.step; its class made after
    other steps were compiled, so no walk of LRScheduler's subclasses at a first capture sees it."""
    class Halving(ours_lib.LRScheduler):
        def __init__(self, optimizer):
            self.optimizer = optimizer

        def step(self):
            for group in self.optimizer.param_groups:
                group["lr"] /= 2
    return Halving(optimizer)


@pytest.mark.parametrize("make", [lambda o: ours_lib.ReduceLROnPlateau(o), lambda o: ours_lib.ChainedScheduler(
    [ours_lib.ExponentialLR(o, 0.9)]), lambda o: ours_lib.CosineAnnealingWarmRestarts(o, 3),
    lambda o: ours_lib.SequentialLR(o, [ours_lib.ExponentialLR(o, 0.9), ours_lib.StepLR(o, 2)], [3]),
    lambda o: ours_lib.StepLR(o, 30), _halving])
def test_scheduler_step_inside_a_compiled_step_is_refused(make):
    """Schedulers are refused inside a capture, those with their own step() (a program's own
    subclass's too) as LRScheduler.step is, and whether or not the rate changes at that step."""
    model = fg.nn.Linear(3, 1)
    opt = fg.optim.SGD(model.parameters(), lr=0.1)
    sched = make(opt)

    def step(x):
        sched.step(*([1.0] if isinstance(sched, ours_lib.ReduceLROnPlateau) else []))   # before opt.step()
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss
    compiled = fg.compile(step)
    x = fg.ones(2, 3)
    with pytest.raises(fg.CaptureError, match="scheduler"):
        for _ in range(3):
            compiled(x)


@pytest.mark.parametrize("make", ["L.StepLR(o, 1.0, gamma=0.95)", "L.StepLR(o, 2.5, gamma=0.5)",
                                  "L.CosineAnnealingLR(o, T_max=7.5)"])
def test_float_periods_follow_pytorch(make):
    """PyTorch computes with these periods and never checks they are ints (its word language model
    example passes StepLR(optimizer, 1.0, gamma=0.95))."""
    torch = pytest.importorskip("torch")
    rates = []
    for lib, L in ((fg, ours_lib), (torch, torch.optim.lr_scheduler)):
        o = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        sched = eval(make, {"L": L, "o": o})
        lrs = []
        for _ in range(8):
            o.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        rates.append(lrs)
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-12)


"""Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS against PyTorch: update rules over many steps in
float32 and float64, state_dict layout and round trip, bad arguments, schedulers, and (all but
LBFGS) a captured step replaying to the eager step's bits; LBFGS is refused by fg.compile."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from fastgrad import nn

torch = pytest.importorskip("torch")

CASES = [
    ("Adamax", {}),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.9), weight_decay=0.1)),   # rectified from step 6 on
    ("RAdam", dict(weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", {}),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=4, weight_decay=0.1, maximize=True)),   # averaging from step 5
    ("Rprop", {}),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
]
ELEMENTWISE = ["Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]
SHAPES = [(5, 7), (7,), (1,), (0, 3)]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


@pytest.fixture
def torch_dtype():
    """PyTorch keeps its optimizers' scalar state (step, mu_product, eta) in the default dtype;
    fastgrad in float64: float64 runs compare exactly with torch's default set to float64."""
    before = torch.get_default_dtype()
    yield lambda dtype: torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    torch.set_default_dtype(before)


def fg_dtype(dtype):
    return fg.float64 if dtype == np.float64 else fg.float32


def make_pair(dtype, seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    return ([torch.tensor(v, requires_grad=True) for v in values],
            [fg.tensor(v, dtype=fg_dtype(dtype), requires_grad=True) for v in values])


def set_grads(tparams, fparams, rng, dtype):
    for t, f in zip(tparams, fparams):
        g = rng.standard_normal(f.shape).astype(dtype)
        g[..., :1] = 0 if g.size > 2 else g[..., :1]   # a zero gradient: Rprop's sign(0), Adamax's max
        t.grad, f.grad = torch.tensor(g), fg.tensor(g, dtype=f.dtype)


def assert_close(fparams, tparams, dtype, what=""):
    for f, t in zip(fparams, tparams):
        np.testing.assert_allclose(f.numpy(), t.detach().numpy(), **TOL[dtype], err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CASES)
def test_matches_pytorch_over_steps(name, kw, dtype, torch_dtype):
    torch_dtype(dtype)
    tparams, fparams = make_pair(dtype)
    topt, fopt = getattr(torch.optim, name)(tparams, **kw), getattr(fg.optim, name)(fparams, **kw)
    rng = np.random.default_rng(1)
    for step in range(25):
        set_grads(tparams, fparams, rng, dtype)
        topt.step()
        fopt.step()
        assert_close(fparams, tparams, dtype, f"{name} step {step}")
    tstate, fstate = topt.state_dict(), fopt.state_dict()
    assert fstate["param_groups"] == tstate["param_groups"]   # defaults, flags, numbering: PyTorch's
    for i, tentry in tstate["state"].items():
        assert list(fstate["state"][i]) == list(tentry)   # the same names in the same order
        for key, value in tentry.items():
            np.testing.assert_allclose(np.asarray(fstate["state"][i][key].numpy()), value.numpy(), **TOL[dtype],
                                       err_msg=f"{name} state {key}")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_trains_a_small_model_like_pytorch(name, torch_dtype):
    torch_dtype(np.float64)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    w, b = rng.standard_normal((2, 4)) * 0.3, np.zeros(2)
    tlin, flin = torch.nn.Linear(4, 2), nn.Linear(4, 2, dtype=fg.float64)
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(w))
        tlin.bias.copy_(torch.tensor(b))
    flin.weight.data = fg.tensor(w, dtype=fg.float64)
    flin.bias.data = fg.tensor(b, dtype=fg.float64)
    kw = dict(weight_decay=0.01)
    if name == "Rprop":
        kw = {}
    topt, fopt = getattr(torch.optim, name)(tlin.parameters(), **kw), getattr(fg.optim, name)(flin.parameters(), **kw)
    tx, ty = torch.tensor(x), torch.tensor(y)
    fx, fy = fg.tensor(x, dtype=fg.float64), fg.tensor(y, dtype=fg.float64)
    for _ in range(20):
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(tlin(tx), ty)
        tloss.backward()
        topt.step()
        fopt.zero_grad()
        floss = F.mse_loss(flin(fx), fy)
        floss.backward()
        fopt.step()
        np.testing.assert_allclose(floss.item(), tloss.item(), rtol=1e-12)
    assert_close(list(flin.parameters()), list(tlin.parameters()), np.float64)


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[1]])
def test_state_dict_round_trip_continues_identically(name, kw):
    _, params = make_pair(np.float64)
    opt = getattr(fg.optim, name)(params, **kw)
    rng = np.random.default_rng(3)
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(10)]

    def steps(opt, params, chunk):
        for gs in chunk:
            for p, g in zip(params, gs):
                p.grad = fg.tensor(g, dtype=fg.float64)
            opt.step()
    steps(opt, params, grads[:5])
    saved = opt.state_dict()
    copies = [fg.tensor(p.numpy(), dtype=fg.float64, requires_grad=True) for p in params]
    fresh = getattr(fg.optim, name)(copies, lr=123.0)   # hyperparameters come back from the dict
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    steps(opt, params, grads[5:])
    steps(fresh, copies, grads[5:])
    for p, q in zip(params, copies):
        assert p.numpy().tobytes() == q.numpy().tobytes()
    for entry in saved["state"].values():   # the saved state is a copy: later steps left it alone
        assert float(entry["step"]) == 5


@pytest.mark.parametrize("name", ["NAdam", "ASGD"])
def test_state_dict_from_pytorch_loads(name, torch_dtype):
    """A state_dict PyTorch saved (its scalar state in float64 here) continues in fastgrad."""
    torch_dtype(np.float64)
    tparams, fparams = make_pair(np.float64)
    kw = dict(t0=2) if name == "ASGD" else {}
    topt, fopt = getattr(torch.optim, name)(tparams, **kw), getattr(fg.optim, name)(fparams, **kw)
    rng = np.random.default_rng(4)
    for _ in range(3):
        set_grads(tparams, fparams, rng, np.float64)
        topt.step()
        fopt.step()
    fopt2 = getattr(fg.optim, name)(fparams, **kw)
    fopt2.load_state_dict(topt.state_dict())
    for _ in range(3):
        set_grads(tparams, fparams, rng, np.float64)
        topt.step()
        fopt2.step()
    assert_close(fparams, tparams, np.float64)


BAD = [
    (lambda p: fg.optim.Adamax(p, lr=-1e-3), "lr"),
    (lambda p: fg.optim.Adamax(p, betas=(1.0, 0.9)), "betas"),
    (lambda p: fg.optim.Adamax(p, eps=-1), "eps"),
    (lambda p: fg.optim.NAdam(p, betas=(0.9, -0.1)), "betas"),
    (lambda p: fg.optim.NAdam(p, momentum_decay=-1), "momentum_decay"),
    (lambda p: fg.optim.NAdam(p, weight_decay=-1), "weight_decay"),
    (lambda p: fg.optim.NAdam(p, differentiable=True), "differentiable"),
    (lambda p: fg.optim.RAdam(p, lr=float("nan")), "lr"),
    (lambda p: fg.optim.RAdam(p, betas=(0.9,)), "betas"),
    (lambda p: fg.optim.RAdam(p, foreach="yes"), "foreach"),
    (lambda p: fg.optim.ASGD(p, lr=-0.1), "lr"),
    (lambda p: fg.optim.ASGD(p, weight_decay=-0.1), "weight_decay"),
    (lambda p: fg.optim.ASGD(p, t0="soon"), "t0"),
    (lambda p: fg.optim.Rprop(p, etas=(1.5, 1.2)), "etas"),
    (lambda p: fg.optim.Rprop(p, etas=(0.5, 0.9)), "etas"),
    (lambda p: fg.optim.Rprop(p, step_sizes=(1e-6,)), "step_sizes"),
    (lambda p: fg.optim.Rprop(p, maximize=None), "maximize"),
    (lambda p: fg.optim.LBFGS(p, lr=-1), "lr"),
    (lambda p: fg.optim.LBFGS(p, history_size=0), "history_size"),
    (lambda p: fg.optim.LBFGS(p, max_iter=2.5), "max_iter"),
    (lambda p: fg.optim.LBFGS(p, tolerance_grad=-1), "tolerance_grad"),
    (lambda p: fg.optim.LBFGS(p, line_search_fn="backtracking"), "line_search_fn"),
]


@pytest.mark.parametrize("make,name", BAD)
def test_bad_arguments_raise_value_errors_naming_them(make, name):
    with pytest.raises(ValueError, match=name):
        make([fg.zeros(3, requires_grad=True)])


def test_pytorch_flags_are_accepted_and_change_nothing():
    results = []
    for flags in ({}, dict(foreach=True, capturable=True), dict(foreach=False)):
        p = fg.tensor([1.0, -2.0, 3.0], requires_grad=True)
        opt = fg.optim.NAdam([p], **flags)
        for _ in range(3):
            p.grad = fg.tensor([0.5, 0.25, -1.0])
            opt.step()
        results.append(p.numpy().tobytes())
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "ASGD"])
def test_a_scheduler_changing_lr_takes_effect(name, torch_dtype):
    torch_dtype(np.float64)
    tparams, fparams = make_pair(np.float64)
    topt, fopt = getattr(torch.optim, name)(tparams, lr=0.01), getattr(fg.optim, name)(fparams, lr=0.01)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.1)
    fsched = fg.optim.lr_scheduler.StepLR(fopt, step_size=3, gamma=0.1)
    rng = np.random.default_rng(5)
    for _ in range(10):
        set_grads(tparams, fparams, rng, np.float64)
        topt.step()
        fopt.step()
        tsched.step()
        fsched.step()
    assert fopt.param_groups[0]["lr"] == pytest.approx(1e-5)
    assert_close(fparams, tparams, np.float64)


def test_update_is_the_same_for_any_thread_count():
    if not hasattr(fg, "set_num_threads"):
        pytest.skip("no set_num_threads")
    before = fg.get_num_threads()
    rng = np.random.default_rng(6)
    value, grads = rng.standard_normal(200_003), [rng.standard_normal(200_003) for _ in range(3)]
    out = {}
    try:
        for threads in (1, max(2, before)):
            fg.set_num_threads(threads)
            for name in ELEMENTWISE:
                p = fg.tensor(value, dtype=fg.float32, requires_grad=True)
                opt = getattr(fg.optim, name)([p], weight_decay=0.01) if name != "Rprop" else fg.optim.Rprop([p])
                for g in grads:
                    p.grad = fg.tensor(g, dtype=fg.float32)
                    opt.step()
                out.setdefault(name, set()).add(p.numpy().tobytes())
    finally:
        fg.set_num_threads(before)
    assert all(len(v) == 1 for v in out.values())


# ---- fg.compile: the element-wise ones replay to the eager bits ------------------------------------
def mlp_step(name, seed=0):
    fg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
    kw = dict(lr=0.01, weight_decay=0.01) if name != "Rprop" else dict(lr=0.01)
    if name in ("NAdam", "RAdam"):
        kw["decoupled_weight_decay"] = True
    if name == "ASGD":
        kw["t0"] = 5   # the averaging weight mu changes from step 6 on
    opt = getattr(fg.optim, name)(model.parameters(), **kw)
    sched = fg.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, opt, sched, step


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_captured_step_replays_to_the_eager_bits(name):
    rng = np.random.default_rng(7)
    data = [(fg.tensor(rng.standard_normal((8, 12)), dtype=fg.float32), fg.tensor(rng.integers(0, 3, 8)))
            for _ in range(4)]
    eager_model, eager_opt, eager_sched, eager = mlp_step(name)
    model, opt, sched, step = mlp_step(name)
    compiled = fg.compile(step)
    for i in range(20):
        x, y = data[i % 4]
        assert eager(x, y).numpy().tobytes() == compiled(x, y).numpy().tobytes(), f"step {i}"
        eager_sched.step()   # lr changes between steps: the replay reads it from the cell
        sched.step()
    for p, q in zip(eager_model.parameters(), model.parameters()):
        assert p.numpy().tobytes() == q.numpy().tobytes()
    eager_state, state = eager_opt.state_dict()["state"], opt.state_dict()["state"]
    for i, entry in state.items():
        assert float(entry["step"]) == 20   # counted by the replayed kernels
        for key, value in entry.items():
            assert value.numpy().tobytes() == eager_state[i][key].numpy().tobytes(), key
    assert len(compiled.plans) == 1


# ---- LBFGS ------------------------------------------------------------------------------------------
def rosenbrock(x, lib):
    return ((1 - x[:-1]) ** 2).sum() + 10 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def lbfgs_pair(dtype, seed=8, **kw):
    x0 = np.random.default_rng(seed).standard_normal(6).astype(dtype) * 0.5 - 0.5
    tx = torch.tensor(x0, requires_grad=True)
    fx = fg.tensor(x0, dtype=fg_dtype(dtype), requires_grad=True)
    topt, fopt = torch.optim.LBFGS([tx], **kw), fg.optim.LBFGS([fx], **kw)

    def tclosure():
        topt.zero_grad()
        loss = rosenbrock(tx, torch)
        loss.backward()
        return loss

    def fclosure():
        fopt.zero_grad()
        loss = rosenbrock(fx, fg)
        loss.backward()
        return loss
    return (tx, topt, tclosure), (fx, fopt, fclosure)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, dict(line_search_fn="strong_wolfe"), dict(history_size=2, max_iter=5),
                                dict(line_search_fn="strong_wolfe", history_size=3, lr=0.5, max_eval=9)])
def test_lbfgs_matches_pytorch(kw, dtype, torch_dtype):
    torch_dtype(dtype)
    (tx, topt, tclosure), (fx, fopt, fclosure) = lbfgs_pair(dtype, **kw)
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-3, atol=2e-4)
    for i in range(3 if dtype == np.float32 else 6):
        tloss, floss = topt.step(tclosure), fopt.step(fclosure)
        np.testing.assert_allclose(floss.item(), tloss.item(), **tol, err_msg=f"step {i}")
        np.testing.assert_allclose(fx.numpy(), tx.detach().numpy(), **tol, err_msg=f"step {i}")
        if dtype == np.float64:
            tstate, fstate = topt.state[tx], fopt.state[fx]
            assert (fstate["func_evals"], fstate["n_iter"]) == (tstate["func_evals"], tstate["n_iter"])
            assert len(fstate["old_dirs"]) == len(tstate["old_dirs"])
    if dtype == np.float64:
        assert float(rosenbrock(fx, fg)) < 1e-3 or "history_size" in kw   # it did optimise


def test_lbfgs_state_dict_round_trip_continues_identically():
    (_, _, _), (fx, fopt, fclosure) = lbfgs_pair(np.float64, line_search_fn="strong_wolfe", max_iter=3)
    fopt.step(fclosure)
    saved = fopt.state_dict()
    assert sorted(saved["state"][0]) == sorted(["func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro",
                                                  "H_diag", "prev_flat_grad", "prev_loss", "al"])
    copy = fg.tensor(fx.numpy(), dtype=fg.float64, requires_grad=True)
    fresh = fg.optim.LBFGS([copy])

    def closure():
        fresh.zero_grad()
        loss = rosenbrock(copy, fg)
        loss.backward()
        return loss
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["max_iter"] == 3
    for _ in range(2):
        fopt.step(fclosure)
        fresh.step(closure)
    assert fx.numpy().tobytes() == copy.numpy().tobytes()
    saved["state"][0]["d"] = fg.zeros(5, dtype=fg.float64)
    with pytest.raises(ValueError, match="shape"):
        fresh.load_state_dict(saved)


def test_lbfgs_needs_a_closure_and_one_group():
    p = fg.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="closure"):
        fg.optim.LBFGS([p]).step(None)
    with pytest.raises(ValueError, match="parameter groups"):
        fg.optim.LBFGS([{"params": [p]}, {"params": [fg.zeros(2, requires_grad=True)]}])


def test_lbfgs_is_refused_by_compile():
    model = nn.Linear(4, 1)
    opt = fg.optim.LBFGS(model.parameters(), max_iter=2)
    x = fg.ones(3, 4)

    def step(x):
        def closure():
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            return loss
        return opt.step(closure)
    compiled = fg.compile(step)
    compiled(x)   # the first call runs eagerly
    with pytest.raises(fg.CaptureError, match="host read"):
        compiled(x)


def test_lbfgs_refuses_a_gradient_of_the_wrong_shape():
    p = fg.zeros(3, requires_grad=True)
    opt = fg.optim.LBFGS([p])

    def closure():
        p.grad = fg.ones(4)
        return fg.tensor(1.0)
    with pytest.raises(ValueError, match="shape"):
        opt.step(closure)


def test_nadam_state_loaded_without_mu_product_starts_it_at_one():
    p = fg.tensor([1.0, 2.0], requires_grad=True)
    opt = fg.optim.NAdam([p])
    opt.load_state_dict({"state": {0: {"step": 0.0, "exp_avg": np.zeros(2), "exp_avg_sq": np.zeros(2)}},
                         "param_groups": opt.state_dict()["param_groups"]})
    p.grad = fg.tensor([0.5, -0.5])
    opt.step()
    assert float(opt.state[p]["mu_product"]) != 1.0   # made, then updated by the kernel


@pytest.mark.parametrize("name", ELEMENTWISE + ["LBFGS"])
def test_signature_is_pytorchs(name):
    import inspect

    def shape(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]
    assert shape(getattr(fg.optim, name)) == shape(getattr(torch.optim, name))

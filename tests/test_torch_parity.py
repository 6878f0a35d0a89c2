"""fastgrad against PyTorch on the same model, weights and data: losses through 50 optimizer steps,
the losses' values and gradients, and state_dicts crossing over through safetensors files."""
import numpy as np
import pytest

import fastgrad as fg

torch = pytest.importorskip("torch")
F = fg.nn.functional


def twin_mlps(seed=0, sizes=(20, 32, 16, 5)):
    """The same MLP in fastgrad and in torch, with fastgrad's initial weights copied across."""
    fg.manual_seed(seed)
    layers, tlayers = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(fg.nn.Linear(n_in, n_out))
        tlayers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(fg.nn.Tanh() if i % 2 else fg.nn.ReLU())
            tlayers.append(torch.nn.Tanh() if i % 2 else torch.nn.ReLU())
    model, tmodel = fg.nn.Sequential(*layers), torch.nn.Sequential(*tlayers)
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return model, tmodel


def data(seed=0, n=64, d=20, classes=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, classes, n)


def losses_over_steps(make_opt, make_topt, steps=50):
    model, tmodel = twin_mlps()
    x, y = data()
    opt, topt = make_opt(model.parameters()), make_topt(tmodel.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    ours, theirs = [], []
    for step in range(steps):
        rows = slice((step % 4) * 16, (step % 4 + 1) * 16)   # four mini-batches in turn
        opt.zero_grad()
        loss = F.cross_entropy(model(fg.tensor(x[rows])), y[rows])
        loss.backward()
        opt.step()
        ours.append(loss.item())
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(xt[rows]), yt[rows])
        tloss.backward()
        topt.step()
        theirs.append(tloss.item())
    for (name, p), tp in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), atol=2e-5, rtol=1e-4, err_msg=name)
    return np.array(ours), np.array(theirs)


OPTIMIZERS = {
    "sgd_momentum": (lambda p: fg.optim.SGD(p, lr=0.05, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "sgd_nesterov_wd": (lambda p: fg.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
                        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "adam": (lambda p: fg.optim.Adam(p, lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2)),
    "adam_wd_amsgrad": (lambda p: fg.optim.Adam(p, lr=1e-2, weight_decay=1e-2, amsgrad=True),
                        lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=1e-2, amsgrad=True)),
    "adamw": (lambda p: fg.optim.AdamW(p, lr=1e-2), lambda p: torch.optim.AdamW(p, lr=1e-2)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_losses_match_torch_for_50_steps(name):
    ours, theirs = losses_over_steps(*OPTIMIZERS[name])
    assert ours[-1] < 0.5 * ours[0]   # it did train
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_lr_schedulers_match_torch():
    for ours_cls, theirs_cls, kw in [(fg.optim.lr_scheduler.StepLR, torch.optim.lr_scheduler.StepLR,
                                      dict(step_size=3, gamma=0.5)),
                                     (fg.optim.lr_scheduler.CosineAnnealingLR,
                                      torch.optim.lr_scheduler.CosineAnnealingLR, dict(T_max=7, eta_min=0.01))]:
        opt = fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=0.3)
        topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
        sched, tsched = ours_cls(opt, **kw), theirs_cls(topt, **kw)
        for _ in range(12):
            np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
            opt.step(), topt.step(), sched.step(), tsched.step()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_losses_and_their_gradients_match_torch(reduction):
    rng = np.random.default_rng(3)
    z, y, target = rng.standard_normal((6, 4)), rng.integers(0, 4, 6), rng.standard_normal((6, 4))
    cases = [(lambda a: F.cross_entropy(a, y, reduction=reduction), lambda a: torch.nn.functional.cross_entropy(
                 a, torch.from_numpy(y), reduction=reduction)),
             (lambda a: F.nll_loss(a.log_softmax(), y, reduction=reduction), lambda a: torch.nn.functional.nll_loss(
                 a.log_softmax(-1), torch.from_numpy(y), reduction=reduction)),
             (lambda a: F.mse_loss(a, fg.tensor(target, dtype=fg.float64), reduction),
              lambda a: torch.nn.functional.mse_loss(a, torch.from_numpy(target), reduction=reduction))]
    for ours, theirs in cases:
        a, ta = fg.tensor(z, dtype=fg.float64, requires_grad=True), torch.tensor(z, requires_grad=True)
        loss, tloss = ours(a), theirs(ta)
        loss.backward(), tloss.backward()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_fastgrad_file_loads_in_torch_and_back(tmp_path):
    from safetensors.torch import load_file, save_file
    model, tmodel = twin_mlps(seed=1)
    fg.save(model.state_dict(), tmp_path / "fg.safetensors")
    fresh = twin_mlps(seed=2)[1]
    fresh.load_state_dict(load_file(tmp_path / "fg.safetensors"))
    x = data(seed=1)[0]
    with torch.no_grad():
        np.testing.assert_allclose(fresh(torch.from_numpy(x)).numpy(), model(fg.tensor(x)).numpy(), rtol=1e-5,
                                   atol=1e-6)
        for p in tmodel.parameters():
            p.mul_(2.0)   # now a model fastgrad has never seen
        save_file(tmodel.state_dict(), str(tmp_path / "torch.safetensors"))
        model.load_state_dict(fg.load(tmp_path / "torch.safetensors"))
        np.testing.assert_allclose(model(fg.tensor(x)).numpy(), tmodel(torch.from_numpy(x)).numpy(), rtol=1e-5,
                                   atol=1e-6)

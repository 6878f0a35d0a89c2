"""The pointwise losses (mse_loss, l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy(_with_logits),
kl_div) and their modules: forward and both gradients against numpy and finite differences (check_op)
and against PyTorch, in float32 and float64, every reduction, broadcasting, weights, extreme values,
every kernel path and thread count."""
import warnings

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import nn
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

F = fg.nn.functional


def _logsigmoid(x):
    return -np.logaddexp(0, -x)


def _bce(x, t, w=1.0):
    with np.errstate(divide="ignore"):
        return -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100)) * w


# name: (numpy elementwise loss of (x, t, **kw), input sampler, target sampler, extra keywords)
def _uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, size=shape)


SPECS = {
    "mse_loss": (lambda x, t: (x - t) ** 2, _uniform(-2, 2), _uniform(-2, 2), {}),
    "l1_loss": (lambda x, t: np.abs(x - t), _uniform(-2, 2), _uniform(-2, 2), {}),
    "smooth_l1_loss": (lambda x, t, beta: np.where(np.abs(x - t) < beta, 0.5 * (x - t) ** 2 / beta,
                                                   np.abs(x - t) - 0.5 * beta),
                       _uniform(-2, 2), _uniform(-2, 2), {"beta": 0.7}),
    "huber_loss": (lambda x, t, delta: np.where(np.abs(x - t) < delta, 0.5 * (x - t) ** 2,
                                                delta * (np.abs(x - t) - 0.5 * delta)),
                   _uniform(-2, 2), _uniform(-2, 2), {"delta": 0.7}),
    "binary_cross_entropy": (_bce, _uniform(0.05, 0.95), _uniform(0, 1), {}),
    "binary_cross_entropy_with_logits": (lambda x, t: (1 - t) * x - _logsigmoid(x), _uniform(-4, 4), _uniform(0, 1),
                                         {}),
    "kl_div": (lambda x, t: t * np.log(t) - t * x, _uniform(-3, 0), _uniform(0.05, 1), {}),
    "kl_div_log_target": (lambda x, t: np.exp(t) * (t - x), _uniform(-3, 0), _uniform(-3, 0), {}),
}
NAMES = sorted(SPECS)


def _call(name, a, b, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # kl_div's 'mean' warning
        if name == "kl_div_log_target":
            return F.kl_div(a, b, log_target=True, **kw)
        return getattr(F, name)(a, b, **kw)


def _torch_call(torch, name, a, b, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "kl_div_log_target":
            return torch.nn.functional.kl_div(a, b, log_target=True, **kw)
        return getattr(torch.nn.functional, name)(a, b, **kw)


def _reduce(values, reduction):
    return values if reduction == "none" else values.sum() if reduction == "sum" else values.mean()


def _reductions(name):
    return ["none", "mean", "sum"] + (["batchmean"] if name.startswith("kl_div") else [])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", NAMES)
def test_forward_and_both_gradients_against_numpy_and_finite_differences(name, reduction):
    ref, xs, ts, kw = SPECS[name]
    rng = np.random.default_rng(1)
    for shape in [(3, 5), (7,), (1,)]:
        inputs = [xs(rng, shape), ts(rng, shape)]
        check_op(lambda a, b: _call(name, a, b, reduction=reduction, **kw),
                 lambda x, t: _reduce(ref(x, t, **kw), reduction), inputs=inputs)


CONFIGS = [(dtype, shape) for dtype in ("float32", "float64") for shape in [(4, 5), (7,), (1,), (0,), (), (3, 1, 2)]]


@pytest.mark.parametrize("dtype, shape", CONFIGS, ids=[f"{d}-{s}" for d, s in CONFIGS])
@pytest.mark.parametrize("name", NAMES)
def test_against_torch(name, dtype, shape):
    torch = pytest.importorskip("torch")
    _, xs, ts, kw = SPECS[name]
    rng = np.random.default_rng(2)
    x, t = xs(rng, shape).astype(dtype), ts(rng, shape).astype(dtype)
    if name == "kl_div" and t.size > 2:
        t.flat[1] = 0.0   # xlogy(0, 0) = 0; PyTorch's target gradient there is NaN, and so is ours
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    for reduction in _reductions(name):
        a, b = _fg(x, True), _fg(t, True)
        ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
        out, want = _call(name, a, b, reduction=reduction, **kw), _torch_call(torch, name, ta, tb, reduction=reduction,
                                                                               **kw)
        assert out.shape == tuple(want.shape) and out.dtype is getattr(fg, dtype)
        np.testing.assert_allclose(out.numpy(), want.detach().numpy(), **tol, err_msg=reduction)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(_fg(g))
        want.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), **tol, err_msg=f"{reduction}: input gradient")
        np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), **tol, err_msg=f"{reduction}: target gradient")


def _compare(torch, fg_out, torch_out, fg_inputs, torch_inputs, dtype="float64"):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fg_out.numpy(), torch_out.detach().numpy(), **tol)
    g = np.random.default_rng(5).standard_normal(fg_out.shape).astype(dtype)
    fg_out.backward(_fg(g))
    torch_out.backward(torch.tensor(g))
    for k, (a, ta) in enumerate(zip(fg_inputs, torch_inputs)):
        if ta.grad is None:
            assert a.grad is None, f"gradient {k}"
        else:
            np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), **tol, err_msg=f"gradient {k}")


def _fg(array, grad=False):
    """A fastgrad tensor of the array's own dtype (fg.tensor would make float64 data float32)."""
    array = np.asarray(array)
    return fg.tensor(array, dtype=fg.float64 if array.dtype == np.float64 else fg.float32, requires_grad=grad)


def _pair(torch, array, grad=True):
    return _fg(array, grad), torch.tensor(array, requires_grad=grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_weight_and_with_logits_weight_pos_weight_broadcast(reduction, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, t = rng.uniform(0.01, 0.99, (4, 3)).astype(dtype), rng.uniform(0, 1, (4, 3)).astype(dtype)
    for wshape in [(3,), (4, 1), (4, 3), ()]:
        w = rng.uniform(0, 2, wshape).astype(dtype)
        (a, ta), (b, tb) = _pair(torch, x), _pair(torch, t)
        _compare(torch, F.binary_cross_entropy(a, b, _fg(w), reduction=reduction),
                 torch.nn.functional.binary_cross_entropy(ta, tb, torch.tensor(w), reduction=reduction),
                 [a, b], [ta, tb], dtype)
        logits = rng.standard_normal((4, 3)).astype(dtype) * 3
        pw = rng.uniform(0.5, 3, wshape).astype(dtype)
        for weight, pos_weight in [(w, None), (None, pw), (w, pw)]:
            (a, ta), (b, tb) = _pair(torch, logits), _pair(torch, t)
            fw = [None if v is None else _fg(v) for v in (weight, pos_weight)]
            tw = [None if v is None else torch.tensor(v) for v in (weight, pos_weight)]
            _compare(torch, F.binary_cross_entropy_with_logits(a, b, fw[0], reduction=reduction, pos_weight=fw[1]),
                     torch.nn.functional.binary_cross_entropy_with_logits(ta, tb, tw[0], reduction=reduction,
                                                                          pos_weight=tw[1]),
                     [a, b], [ta, tb], dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_with_logits_is_stable_at_extreme_logits(dtype):
    torch = pytest.importorskip("torch")
    x = np.array([-1e4, -100, -30, -1e-3, 0, 1e-3, 30, 100, 1e4] * 3, dtype=dtype)
    t = np.repeat(np.array([0.0, 1.0, 0.3], dtype=dtype), 9)
    pw = np.full(x.shape, 2.5, dtype=dtype)
    for pos_weight in (None, pw):
        for reduction in ("none", "sum"):
            (a, ta), (b, tb) = _pair(torch, x), _pair(torch, t)
            out = F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                     pos_weight=None if pos_weight is None else _fg(pos_weight))
            assert np.all(np.isfinite(out.numpy()))
            want = torch.nn.functional.binary_cross_entropy_with_logits(
                ta, tb, reduction=reduction, pos_weight=None if pos_weight is None else torch.tensor(pos_weight))
            _compare(torch, out, want, [a, b], [ta, tb], dtype)
            assert np.all(np.isfinite(a.grad.numpy())) and np.all(np.isfinite(b.grad.numpy()))


def test_bce_clamps_its_logs_at_minus_100_and_its_gradient_denominator():
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-60, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5])
    (a, ta), (b, tb) = _pair(torch, x), _pair(torch, t)
    out = F.binary_cross_entropy(a, b, reduction="none")
    np.testing.assert_array_equal(out.numpy()[:4], [100, 100, 0, 0])
    _compare(torch, out, torch.nn.functional.binary_cross_entropy(ta, tb, reduction="none"), [a, b], [ta, tb])
    assert np.isinf(b.grad.numpy()[:4]).all()   # -logit(0 or 1), as PyTorch's


def test_regression_losses_broadcast_with_pytorchs_warning():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        for xshape, tshape in [((4, 3), (1, 3)), ((1, 3), (4, 3)), ((3,), (2, 1))]:
            for reduction in ("none", "mean", "sum"):
                (a, ta), (b, tb) = _pair(torch, rng.standard_normal(xshape)), _pair(torch, rng.standard_normal(tshape))
                with pytest.warns(UserWarning, match="different to the input size"):
                    out = getattr(F, name)(a, b, reduction=reduction)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    want = getattr(torch.nn.functional, name)(ta, tb, reduction=reduction)
                _compare(torch, out, want, [a, b], [ta, tb])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # one shape: no warning
        F.mse_loss(fg.ones(3), fg.zeros(3))


def test_kl_div_broadcasts_silently_and_batchmean_divides_by_the_first_dimension():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for xshape, tshape in [((4, 3), (3,)), ((3,), (2, 3)), ((), ()), ((0, 3), (0, 3))]:
        for log_target in (False, True):
            for reduction in ("none", "sum", "batchmean"):
                x, t = -rng.uniform(0, 3, xshape), rng.uniform(0.1, 1, tshape)
                (a, ta), (b, tb) = _pair(torch, x), _pair(torch, np.log(t) if log_target else t)
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    out = F.kl_div(a, b, reduction=reduction, log_target=log_target)
                want = torch.nn.functional.kl_div(ta, tb, reduction=reduction, log_target=log_target)
                _compare(torch, out, want, [a, b], [ta, tb])
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(fg.zeros(2, 3), fg.ones(2, 3))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_weighted_mse_l1_huber_as_pytorch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, t, w = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0.1, 2, (4, 3))
    for name, kw in [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.5})]:
        (a, ta), (b, tb), (c, tc) = _pair(torch, x), _pair(torch, t), _pair(torch, w)
        _compare(torch, getattr(F, name)(a, b, reduction=reduction, weight=c, **kw),
                 getattr(torch.nn.functional, name)(ta, tb, reduction=reduction, weight=tc, **kw),
                 [a, b, c], [ta, tb, tc])


def test_smooth_l1_with_beta_zero_is_l1_and_integer_targets_are_promoted():
    x = fg.tensor([0.5, -2.0, 3.0], requires_grad=True)
    np.testing.assert_allclose(F.smooth_l1_loss(x, fg.tensor([1.0, 0.0, 3.0]), beta=0.0, reduction="none").numpy(),
                               [0.5, 2.0, 0.0])
    out = F.mse_loss(x, fg.tensor([1, 0, 3]), reduction="sum")   # int64 target: as float32, as PyTorch's
    assert out.dtype is fg.float32 and out.item() == pytest.approx(0.25 + 4.0)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, -4.0, 0.0])


def test_legacy_size_average_and_reduce_and_fastgrads_positional_reduction():
    a, b = fg.tensor([1.0, 2.0, 4.0]), fg.tensor([0.0, 0.0, 0.0])
    assert F.mse_loss(a, b, size_average=False).item() == 21.0
    assert F.l1_loss(a, b, reduce=False).shape == (3,)
    assert F.binary_cross_entropy(fg.tensor([0.5]), fg.tensor([1.0]), size_average=True).item() == pytest.approx(
        np.log(2))
    assert F.kl_div(a, b, size_average=False).item() == 0.0
    assert F.mse_loss(a, b, "sum").item() == 21.0   # fastgrad's earlier mse_loss(pred, target, reduction)
    assert nn.MSELoss("sum")(a, b).item() == 21.0
    assert nn.L1Loss(reduce=False)(a, b).shape == (3,)


MODULES = [
    (lambda: nn.MSELoss(reduction="sum"), lambda a, b: F.mse_loss(a, b, reduction="sum")),
    (lambda: nn.L1Loss(), lambda a, b: F.l1_loss(a, b)),
    (lambda: nn.SmoothL1Loss(beta=0.5), lambda a, b: F.smooth_l1_loss(a, b, beta=0.5)),
    (lambda: nn.HuberLoss(reduction="none", delta=0.5), lambda a, b: F.huber_loss(a, b, reduction="none", delta=0.5)),
    (lambda: nn.BCELoss(weight=fg.tensor([1.0, 2.0, 3.0])),
     lambda a, b: F.binary_cross_entropy(a.sigmoid(), b, fg.tensor([1.0, 2.0, 3.0]))),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=fg.tensor([1.0, 2.0, 3.0])),
     lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=fg.tensor([1.0, 2.0, 3.0]))),
    (lambda: nn.KLDivLoss(reduction="batchmean", log_target=True),
     lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True)),
]


@pytest.mark.parametrize("make, functional", MODULES, ids=[m[0]().__class__.__name__ for m in MODULES])
def test_modules_match_their_functions(make, functional):
    rng = np.random.default_rng(8)
    x, t = rng.standard_normal((2, 3)), rng.uniform(0, 1, (2, 3))
    module = make()
    if isinstance(module, nn.BCELoss):
        got = module(fg.tensor(x).sigmoid(), fg.tensor(t))
    else:
        got = module(fg.tensor(x), fg.tensor(t))
    np.testing.assert_array_equal(got.numpy(), functional(fg.tensor(x), fg.tensor(t)).numpy())
    assert list(module.parameters()) == []


def test_loss_weights_are_buffers_in_the_state_dict():
    torch = pytest.importorskip("torch")
    w, pw = [1.0, 2.0], [3.0, 4.0]
    ours = nn.BCEWithLogitsLoss(weight=fg.tensor(w), pos_weight=fg.tensor(pw)).state_dict()
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw)).state_dict()
    assert sorted(ours) == sorted(theirs) == ["pos_weight", "weight"]
    assert sorted(nn.BCELoss(weight=fg.tensor(w)).state_dict()) == ["weight"]
    assert nn.BCELoss().state_dict() == {} and nn.L1Loss().state_dict() == {}


def test_a_later_change_to_the_weight_does_not_reach_backward():
    w = fg.tensor([1.0, 2.0])
    x = fg.tensor([0.5, -0.5], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, fg.tensor([1.0, 0.0]), w, reduction="sum")
    w.mul_(10.0)
    loss.backward()
    sig = 1 / (1 + np.exp(-np.array([0.5, -0.5])))
    np.testing.assert_allclose(x.grad.numpy(), (sig - [1.0, 0.0]) * [1.0, 2.0], rtol=1e-6)


def test_same_tensor_as_input_and_target():
    x = fg.tensor([0.2, -1.0, 3.0], requires_grad=True)
    out = F.kl_div(x, x, reduction="sum", log_target=True)   # loss 0; d/dx = -e^x + e^x (x - x + 1) = 0
    out.backward()
    assert out.item() == 0.0
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-6)
    y = fg.tensor([0.2, -1.0, 3.0], requires_grad=True)
    F.mse_loss(y, y, reduction="sum").backward()
    np.testing.assert_array_equal(y.grad.numpy(), 0.0)


@pytest.mark.parametrize("name", NAMES)
def test_same_bits_for_any_thread_count_and_close_on_every_path(name):
    """A size that the 'none' forward and every backward split over threads; 'sum' sums on one thread.
    The paths may round differently (FMA), so across paths the results are close, not equal."""
    _, xs, ts, kw = SPECS[name]
    rng = np.random.default_rng(9)
    x, t = xs(rng, (50001,)).astype(np.float32), ts(rng, (50001,)).astype(np.float32)
    results = {}
    for path, threads in KERNEL_CONFIGS:
        with kernel_config(path, threads):
            row = []
            for reduction in ("none", "sum"):
                a, b = fg.tensor(x, requires_grad=True), fg.tensor(t, requires_grad=True)
                out = _call(name, a, b, reduction=reduction, **kw)
                out.backward(fg.ones(*out.shape))
                row += [out.numpy(), a.grad.numpy(), b.grad.numpy()]
            results.setdefault(path, []).append(row)
    first = next(iter(results.values()))[0]
    for path, rows in results.items():
        for row in rows[1:]:
            assert [r.tobytes() for r in row] == [r.tobytes() for r in rows[0]], f"{path}: thread counts differ"
        for got, want in zip(rows[0], first):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=path)


def test_bce_rejects_values_outside_0_1_as_pytorch():
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(fg.tensor([0.5, 1.5]), fg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(fg.tensor([float("nan"), 0.5]), fg.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(fg.tensor([0.5, 0.5]), fg.tensor([1.0, -0.5]))
    # with logits, any target is accepted (PyTorch checks none)
    assert np.isfinite(F.binary_cross_entropy_with_logits(fg.tensor([0.5]), fg.tensor([2.0])).item())


def test_empty_mean_is_nan_and_empty_sum_is_zero():
    for name in ("mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss"):
        assert np.isnan(getattr(F, name)(fg.zeros(0), fg.zeros(0)).item())
        assert getattr(F, name)(fg.zeros(0, 3), fg.zeros(0, 3), reduction="sum").item() == 0.0


def test_captured_step_replays_the_reduced_losses_and_rechecks_bce_ranges():
    """Mean, sum and batchmean are done in the kernels, so a captured step replays them to the eager
    bits; a replayed binary_cross_entropy checks each new batch's range as the eager call does."""
    def step(x, t):
        x.grad = t.grad = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = (F.binary_cross_entropy(x.sigmoid(), t, fg.tensor([1.0, 2.0, 0.5])) + F.l1_loss(x, t)
                    + F.huber_loss(x, t, reduction="sum", delta=0.3) + F.kl_div(x, t, reduction="batchmean")
                    + F.binary_cross_entropy_with_logits(x, t, pos_weight=fg.tensor([2.0, 1.0, 1.0])))
        loss.backward()
        return loss, x.grad, t.grad
    compiled = fg.compile(step)

    def inputs(seed, t_scale=1.0):
        rng = np.random.default_rng(seed)
        return (fg.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True),
                fg.tensor(rng.uniform(0, t_scale, (4, 3)).astype(np.float32), requires_grad=True))
    for seed in range(4):
        want = [r.numpy().tobytes() for r in step(*inputs(seed))]
        assert [r.numpy().tobytes() for r in compiled(*inputs(seed))] == want, f"call {seed}"
    assert len(compiled.plans) == 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        compiled(*inputs(9, t_scale=3.0))

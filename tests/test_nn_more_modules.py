"""The lazy modules, RReLU, Softmax2d, the alpha dropouts, nn.Buffer, the in-place F forms, and the
GaussianNLL, PoissonNLL, MultiMargin, MultiLabelMargin and TripletMarginWithDistance losses: against
PyTorch (outputs and every gradient with the same weights), float64 gradient checks, and PyTorch's
argument checks."""
import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op
from test_nn_3d import T, module_parity

torch = pytest.importorskip("torch")
TF = torch.nn.functional
F = fg.nn.functional


# ---- lazy modules ------------------------------------------------------------------------------------------
LAZY = [
    ("LazyLinear", (5,), {}, (3, 7)),
    ("LazyLinear", (4,), dict(bias=False), (2, 3, 6)),
    ("LazyConv1d", (4, 3), dict(stride=2, padding=1), (2, 3, 9)),
    ("LazyConv2d", (4, (3, 2)), dict(groups=2, padding="same", padding_mode="reflect"), (2, 6, 7, 6)),
    ("LazyConv3d", (2, 2), dict(dilation=(1, 2, 1), bias=False), (1, 3, 4, 5, 4)),
    ("LazyConv2d", (4, 3), {}, (3, 7, 6)),   # unbatched: channels are dimension 0
    ("LazyConvTranspose1d", (3, 3), dict(stride=2, output_padding=1), (2, 4, 5)),
    ("LazyConvTranspose2d", (4, 2), dict(groups=2, dilation=2), (2, 6, 4, 3)),
    ("LazyConvTranspose3d", (2, (2, 1, 2)), dict(stride=(1, 2, 2)), (1, 3, 3, 2, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 5)),
    ("LazyBatchNorm2d", (), dict(momentum=None), (3, 4, 2, 3)),
    ("LazyBatchNorm3d", (), dict(affine=False), (2, 3, 2, 3, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 6)),
    ("LazyInstanceNorm2d", (), dict(affine=True), (2, 3, 4, 5)),
    ("LazyInstanceNorm3d", (), dict(affine=False, track_running_stats=False), (2, 3, 2, 3, 4)),
]


@pytest.mark.parametrize("name, args, kw, shape", LAZY, ids=lambda v: str(v))
def test_lazy_modules_match_torch(name, args, kw, shape):
    ours, ref = getattr(fg.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert ours.has_uninitialized_params()
    for (n, p), (_, r) in zip(ours.named_parameters(), ref.named_parameters()):
        assert isinstance(p, fg.nn.UninitializedParameter) == isinstance(r, torch.nn.UninitializedParameter), n
    for (n, b), (_, r) in zip(ours.named_buffers(), ref.named_buffers()):
        assert isinstance(b, fg.nn.UninitializedBuffer) == isinstance(r, torch.nn.UninitializedBuffer), n
    a = np.random.default_rng(0).standard_normal(shape)
    ours(fg.tensor(a, dtype=fg.float32))   # the first call infers the sizes ...
    ref(torch.tensor(a, dtype=torch.float32))
    assert type(ours).__name__ == type(ref).__name__ == name[4:]   # ... and the module becomes its final class
    assert not hasattr(ours, "has_uninitialized_params")   # (as PyTorch's final classes)
    assert not any(isinstance(p, fg.nn.UninitializedParameter) for p in ours.parameters())
    if "Norm" not in name:   # (PyTorch 2.13's norms also print their new bias= argument)
        assert repr(ours) == repr(ref)
    assert {n: tuple(p.shape) for n, p in ours.named_parameters()} == \
        {n: tuple(p.shape) for n, p in ref.named_parameters()}
    assert {n: tuple(b.shape) for n, b in ours.named_buffers()} == {n: tuple(b.shape) for n, b in ref.named_buffers()}
    module_parity(ours, ref, shape)


def test_lazy_parameters_are_initialised_as_torch_bounds():
    fg.manual_seed(0)
    m = fg.nn.LazyLinear(50)
    m(fg.zeros(2, 16))
    bound = 1 / np.sqrt(16)
    w = m.weight.numpy()
    assert w.shape == (50, 16) and np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert m.in_features == 16 and m.weight.requires_grad


def test_optimizer_built_before_the_first_call_updates_the_parameters():
    """PyTorch's UninitializedParameters become Parameters in place, so an optimizer given them before
    the dry run steps them after it; here the placeholders are the very tensors that get the shapes."""
    fg.manual_seed(0)
    model = fg.nn.Sequential(fg.nn.LazyConv2d(4, 3), fg.nn.LazyBatchNorm2d(), fg.nn.ReLU(), fg.nn.Flatten(),
                             fg.nn.LazyLinear(2))
    params = list(model.parameters())
    opt = fg.optim.Adam(model.parameters(), lr=0.1)
    x = fg.randn(3, 2, 5, 5)
    loss = model(x).pow(2).mean()
    assert [p.shape for p in params] == [(4, 2, 3, 3), (4,), (4,), (4,), (2, 36), (2,)]
    assert all(a is b for a, b in zip(params, model.parameters()))
    before = [p.detach().clone() for p in params]
    loss.backward()
    opt.step()
    assert all(not np.array_equal(a.numpy(), p.numpy()) for a, p in zip(before, params))


def test_lazy_load_state_dict_takes_the_shapes():
    ref = fg.nn.Conv2d(3, 4, 2)
    m = fg.nn.LazyConv2d(4, 2)
    m.load_state_dict(ref.state_dict())
    assert type(m) is fg.nn.Conv2d and m.in_channels == 3
    np.testing.assert_array_equal(m.weight.numpy(), ref.weight.numpy())
    bn = fg.nn.LazyBatchNorm1d()
    bn.load_state_dict(fg.nn.BatchNorm1d(6).state_dict())
    assert type(bn) is fg.nn.BatchNorm1d and bn.num_features == 6


def test_lazy_instance_norm_of_an_unbatched_input():
    """The channels of an unbatched (C, D, H, W) input are its dimension 0 (PyTorch's lazy instance norms
    take dimension 1 there, and then refuse the input they sized themselves from)."""
    m = fg.nn.LazyInstanceNorm3d()
    out = m(fg.randn(3, 2, 3, 4))
    assert m.num_features == 3 and m.weight.shape == (3,) and out.shape == (3, 2, 3, 4)


def test_lazy_bad_input():
    with pytest.raises(ValueError, match="spatial"):
        fg.nn.LazyConv2d(4, 3)(fg.randn(2, 3))
    with pytest.raises(ValueError, match="4-d"):
        fg.nn.LazyBatchNorm2d()(fg.randn(2, 3, 4))
    with pytest.raises(TypeError, match="Tensor"):
        fg.nn.LazyLinear(3)([1.0, 2.0])


# ---- activations -----------------------------------------------------------------------------------------------
def test_rrelu_eval_matches_torch_and_training_draws_slopes():
    a = np.random.default_rng(0).standard_normal((4, 50))
    for lower, upper in ((1 / 8, 1 / 3), (0.1, 0.1), (0.0, 0.5)):
        x, t = T(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, ref = F.rrelu(x, lower, upper), TF.rrelu(t, lower, upper)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    fg.manual_seed(0)
    x = T(a, requires_grad=True)
    out = F.rrelu(x, 0.1, 0.3, training=True)
    ratio = out.numpy() / a
    assert np.all(ratio[a > 0] == 1)
    neg = ratio[a < 0]
    assert neg.min() >= 0.1 - 1e-12 and neg.max() <= 0.3 + 1e-12 and len(np.unique(neg)) > 10
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-12)   # the gradient is each drawn slope
    fg.manual_seed(0)
    np.testing.assert_array_equal(F.rrelu(T(a), 0.1, 0.3, training=True).numpy(), out.numpy())   # seeded
    m, r = fg.nn.RReLU(0.1, 0.3), torch.nn.RReLU(0.1, 0.3)
    assert repr(m) == repr(r)
    m.eval()
    r.eval()
    np.testing.assert_allclose(m(T(a)).numpy(), r(torch.tensor(a)).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="lower"):
        fg.nn.RReLU(0.5, 0.1)


def test_rrelu_inplace():
    a = np.random.default_rng(1).standard_normal((3, 4))
    x = T(a)
    assert F.rrelu_(x) is x
    np.testing.assert_allclose(x.numpy(), TF.rrelu(torch.tensor(a)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, args", [("relu_", ()), ("elu_", (0.7,)), ("leaky_relu_", (0.2,)),
                                        ("hardtanh_", (-0.5, 0.8)), ("threshold_", (0.1, -2.0)), ("selu_", ()),
                                        ("celu_", (1.3,))])
def test_inplace_functional_forms_match_torch(name, args):
    a = np.random.default_rng(0).standard_normal((3, 5))
    x, t = T(a), torch.tensor(a)
    assert getattr(F, name)(x, *args) is x
    getattr(TF, name)(t, *args)
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-12)
    # recorded like any in-place op: the gradient flows through a non-leaf
    x = T(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, u = x * 1.0, t * 1.0
    getattr(F, name)(y, *args).sum().backward()
    getattr(TF, name)(u, *args).sum().backward()
    # (PyTorch's celu_ backward scales by 1/alpha held in single precision)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-7 if name == "celu_" else 1e-12)


def test_deprecated_upsample_forms_match_torch():
    a = np.random.default_rng(0).standard_normal((1, 2, 3, 4))
    for name, kw in (("upsample_nearest", dict(scale_factor=2)), ("upsample_bilinear", dict(size=(5, 7)))):
        np.testing.assert_allclose(getattr(F, name)(T(a), **kw).numpy(),
                                   getattr(TF, name)(torch.tensor(a), **kw).numpy(), rtol=1e-12)


def test_threshold_matches_torch():
    a = np.array([[-1.0, 0.5, 0.1, 2.0]])
    np.testing.assert_array_equal(F.threshold(T(a), 0.1, 20.0).numpy(),
                                  TF.threshold(torch.tensor(a), 0.1, 20.0).numpy())


def test_softmax2d_matches_torch():
    for shape in ((2, 3, 4, 5), (3, 4, 5)):
        module_parity(fg.nn.Softmax2d(), torch.nn.Softmax2d(), shape)
    with pytest.raises(ValueError, match="3-d or 4-d"):
        fg.nn.Softmax2d()(fg.randn(2, 3))


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_statistics_and_gradient(feature):
    fn = F.feature_alpha_dropout if feature else F.alpha_dropout
    fg.manual_seed(0)
    shape = (64, 64, 8, 8) if feature else (400, 500)
    x = fg.randn(*shape, dtype=fg.float64, requires_grad=True)
    out = fn(x, 0.2, training=True)
    o = out.numpy()
    assert abs(o.mean()) < 0.05 and abs(o.std() - 1) < 0.05   # the self-normalising property
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha * alpha * 0.2 + 1) * 0.8)
    dropped = np.isclose(o, -alpha * a + alpha * a * 0.2 - 0 * a)   # the dropped units' value: a·(-alpha)+b
    assert abs(dropped.mean() - 0.2) < 0.02
    if feature:   # whole channels
        per_channel = dropped.reshape(64 * 64, -1)
        assert np.all(per_channel.all(1) | ~per_channel.any(1))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a))
    assert fn(x, 0.2, training=False) is x
    np.testing.assert_array_equal(fn(x, 1.0, training=True).numpy(), np.zeros(shape))


def test_alpha_dropout_modules():
    for name in ("AlphaDropout", "FeatureAlphaDropout"):
        m, r = getattr(fg.nn, name)(0.3), getattr(torch.nn, name)(0.3)
        assert repr(m) == repr(r)
        m.eval()
        x = fg.randn(2, 3, 4)
        assert m(x) is x
    with pytest.raises(ValueError, match="probability"):
        fg.nn.AlphaDropout(1.5)


# ---- nn.Buffer ------------------------------------------------------------------------------------------------
def test_buffer_registers_on_assignment():
    class M(fg.nn.Module):
        def __init__(self):
            self.scale = fg.nn.Buffer(fg.ones(3))
            self.cache = fg.nn.Buffer(fg.zeros(2), persistent=False)
            self.weight = fg.nn.Parameter(fg.ones(3))

        def forward(self, x):
            return x * self.weight * self.scale

    m = M()
    assert [n for n, _ in m.named_buffers()] == ["scale", "cache"]
    assert list(m.state_dict()) == ["weight", "scale"] or set(m.state_dict()) == {"weight", "scale"}
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert isinstance(m.scale, fg.nn.Buffer) and not isinstance(fg.ones(2), fg.nn.Buffer)
    m.double()
    assert m.scale.dtype is fg.float64
    m.weight = fg.nn.Buffer(fg.zeros(3))   # a parameter's name reassigned as a buffer, as PyTorch allows
    assert [n for n, _ in m.named_parameters()] == [] and "weight" in dict(m.named_buffers())
    t = fg.ones(2, requires_grad=True)
    b = fg.nn.Buffer(t)
    assert b.requires_grad and b is not t
    with pytest.raises(TypeError):
        fg.nn.Buffer([1.0, 2.0])


# ---- losses ---------------------------------------------------------------------------------------------------
def loss_parity(fg_fn, torch_fn, arrays, grads_of, tol=1e-10):
    """fg_fn and torch_fn on the same float64 arrays (int64 ones as targets): the loss and the gradients
    of the inputs whose positions are in grads_of."""
    ours = [T(a, requires_grad=i in grads_of and a.dtype == np.float64) for i, a in enumerate(arrays)]
    refs = [torch.tensor(a, requires_grad=i in grads_of and a.dtype == np.float64) for i, a in enumerate(arrays)]
    out, ref = fg_fn(*ours), torch_fn(*refs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(5).standard_normal(out.shape)
    out.backward(T(g))
    ref.backward(torch.tensor(g))
    for i in grads_of:
        np.testing.assert_allclose(ours[i].grad.numpy(), refs[i].grad.numpy(), rtol=tol, atol=tol)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), "float"], ids=str)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss_matches_torch(reduction, var_shape, full):
    rng = np.random.default_rng(0)
    mu, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    if var_shape == "float":
        loss_parity(lambda a, b: F.gaussian_nll_loss(a, b, 0.7, full=full, reduction=reduction),
                    lambda a, b: TF.gaussian_nll_loss(a, b, 0.7, full=full, reduction=reduction), [mu, y], (0, 1))
        return
    var = rng.uniform(0.0, 2.0, var_shape)
    var.flat[0] = 1e-9   # clamped to eps, the gradient passing through as PyTorch's
    loss_parity(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=full, reduction=reduction),
                lambda a, b, v: TF.gaussian_nll_loss(a, b, v, full=full, reduction=reduction), [mu, y, var], (0, 1, 2))
    m, r = fg.nn.GaussianNLLLoss(full=full, reduction=reduction), torch.nn.GaussianNLLLoss(full=full,
                                                                                          reduction=reduction)
    np.testing.assert_allclose(m(T(mu), T(y), T(var)).numpy(),
                               r(torch.tensor(mu), torch.tensor(y), torch.tensor(var)).numpy(), rtol=1e-10)


def test_gaussian_nll_loss_errors():
    mu = fg.randn(4, 3)
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(mu, mu, -fg.ones(4, 3))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(mu, mu, fg.ones(3, 3))
    with pytest.raises(ValueError, match="reduction"):
        F.gaussian_nll_loss(mu, mu, fg.ones(4, 3), reduction="max")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss_matches_torch(reduction, log_input, full):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4)) if log_input else rng.uniform(0.1, 3, (5, 4))
    y = rng.poisson(2.0, (5, 4)).astype(np.float64)
    # (with full, target 0's Stirling term has a NaN gradient in both: only the input's then)
    loss_parity(lambda a, b: F.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
                lambda a, b: TF.poisson_nll_loss(a, b, log_input, full, reduction=reduction), [x, y],
                (0,) if full else (0, 1))
    m, r = fg.nn.PoissonNLLLoss(log_input, full, reduction=reduction), torch.nn.PoissonNLLLoss(log_input, full,
                                                                                             reduction=reduction)
    np.testing.assert_allclose(m(T(x), T(y)).numpy(), r(torch.tensor(x), torch.tensor(y)).numpy(),
                               rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_multi_margin_loss_matches_torch(reduction, p, weighted, batched):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5) if batched else (5,))
    y = rng.integers(0, 5, (6,) if batched else ()).astype(np.int64)
    w = rng.uniform(0.5, 2, 5)
    arrays = [x, y] + ([w] if weighted else [])
    loss_parity(lambda a, b, *c: F.multi_margin_loss(a, b, p, 0.8, c[0] if c else None, reduction=reduction),
                lambda a, b, *c: TF.multi_margin_loss(a, b, p, 0.8, c[0] if c else None, reduction=reduction),
                arrays, (0,))   # (PyTorch's weight takes no gradient)
    m = fg.nn.MultiMarginLoss(p, 0.8, T(w) if weighted else None, reduction=reduction)
    r = torch.nn.MultiMarginLoss(p, 0.8, torch.tensor(w) if weighted else None, reduction=reduction)
    np.testing.assert_allclose(m(T(x), T(y)).numpy(), r(torch.tensor(x), torch.tensor(y)).numpy(),
                               rtol=1e-10)
    assert ("weight" in m.state_dict()) == weighted


def test_margin_losses_of_an_empty_batch():
    for reduction in REDUCTIONS:
        out = F.multi_margin_loss(fg.zeros(0, 3, requires_grad=True), fg.zeros(0, dtype=fg.int64), reduction=reduction)
        ref = TF.multi_margin_loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long), reduction=reduction)
        assert out.shape == tuple(ref.shape)
        # PyTorch's reduced value here is uninitialised memory (often 0); fastgrad's is 0, not NaN
        assert out.numel() == 0 if reduction == "none" else out.item() == 0.0
        out = F.multilabel_margin_loss(fg.zeros(0, 3), fg.zeros(0, 3, dtype=fg.int64), reduction=reduction)
        assert out.shape == ((0,) if reduction == "none" else ()) and not np.isnan(out.numpy()).any()
    with pytest.raises(ValueError, match="non-empty"):
        F.multi_margin_loss(fg.zeros(2, 0), fg.tensor([0, 0]))


def test_multi_margin_loss_errors():
    x = fg.randn(3, 4)
    with pytest.raises(ValueError, match="p == 1"):
        F.multi_margin_loss(x, fg.tensor([0, 1, 2]), p=3)
    with pytest.raises(IndexError, match="out of bounds"):
        F.multi_margin_loss(x, fg.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match="target"):
        F.multi_margin_loss(x, fg.tensor([0, 1]))
    with pytest.raises(TypeError, match="int64"):
        F.multi_margin_loss(x, fg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="weight"):
        F.multi_margin_loss(x, fg.tensor([0, 1, 2]), weight=fg.ones(3))
    with pytest.raises(ValueError, match="p == 1"):
        fg.nn.MultiMarginLoss(p=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_matches_torch(reduction):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5))
    y = np.array([[3, 0, -1, 1, 2], [1, 2, 4, 0, 3], [-1, 1, 2, 3, 4], [2, 2, -1, 0, 0]], dtype=np.int64)
    loss_parity(lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
                lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction), [x, y], (0,))
    loss_parity(lambda a, b: F.multilabel_margin_loss(a, b, reduction=reduction),
                lambda a, b: TF.multilabel_margin_loss(a, b, reduction=reduction), [x[0], y[0]], (0,))
    m, r = fg.nn.MultiLabelMarginLoss(reduction=reduction), torch.nn.MultiLabelMarginLoss(reduction=reduction)
    np.testing.assert_allclose(m(T(x), T(y)).numpy(), r(torch.tensor(x), torch.tensor(y)).numpy(),
                               rtol=1e-10)
    with pytest.raises(IndexError, match="out of bounds"):
        F.multilabel_margin_loss(T(x), fg.tensor(y + 5))
    with pytest.raises(ValueError, match="shape"):
        F.multilabel_margin_loss(T(x), fg.tensor(y[:2]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", ["default", "cosine", "l1"])
def test_triplet_margin_with_distance_loss_matches_torch(reduction, swap, distance):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((6, 5)) for _ in range(3)]
    ours = {"default": None, "cosine": lambda a, b: 1.0 - F.cosine_similarity(a, b),
            "l1": lambda a, b: (a - b).abs().sum(-1)}[distance]
    ref = {"default": None, "cosine": lambda a, b: 1.0 - TF.cosine_similarity(a, b),
           "l1": lambda a, b: (a - b).abs().sum(-1)}[distance]
    loss_parity(lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, distance_function=ours, margin=0.5,
                                                                    swap=swap, reduction=reduction),
                lambda a, p, n: TF.triplet_margin_with_distance_loss(a, p, n, distance_function=ref, margin=0.5,
                                                                     swap=swap, reduction=reduction),
                arrays, (0, 1, 2))
    m = fg.nn.TripletMarginWithDistanceLoss(distance_function=ours, margin=0.5, swap=swap, reduction=reduction)
    r = torch.nn.TripletMarginWithDistanceLoss(distance_function=ref, margin=0.5, swap=swap, reduction=reduction)
    np.testing.assert_allclose(m(*map(T, arrays)).numpy(), r(*map(torch.tensor, arrays)).numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="margin"):
        fg.nn.TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(ValueError, match="dimensions"):
        F.triplet_margin_with_distance_loss(fg.randn(2, 3), fg.randn(2, 3), fg.randn(3))


def test_losses_gradcheck():
    rng = np.random.default_rng(6)
    y = rng.standard_normal((3, 4))
    check_op(lambda mu, v: F.gaussian_nll_loss(mu, T(y), v, reduction="sum"),
             lambda mu, v: TF.gaussian_nll_loss(torch.tensor(mu), torch.tensor(y), torch.tensor(v),
                                                reduction="sum").numpy(),
             inputs=[rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (3, 4))], check_float32=False)
    target = fg.tensor([1, 0, 3])
    check_op(lambda x: F.multi_margin_loss(x, target, p=2, margin=2.0),
             lambda x: TF.multi_margin_loss(torch.tensor(x), torch.tensor([1, 0, 3]), p=2, margin=2.0).numpy(),
             (3, 4), check_float32=False)
    labels = np.array([[2, 0, -1, 1], [3, -1, 0, 0], [1, 2, 3, 0]])
    check_op(lambda x: F.multilabel_margin_loss(x, fg.tensor(labels)),
             lambda x: TF.multilabel_margin_loss(torch.tensor(x), torch.tensor(labels)).numpy(), (3, 4),
             check_float32=False)
    check_op(lambda x: F.poisson_nll_loss(x, T(np.abs(y)), full=True),
             lambda x: TF.poisson_nll_loss(torch.tensor(x), torch.tensor(np.abs(y)), full=True).numpy(), (3, 4),
             check_float32=False)


def test_legacy_reduction_arguments():
    x, y = fg.randn(3, 4), fg.tensor([1, 0, 3])
    assert F.multi_margin_loss(x, y, size_average=False).shape == ()
    assert F.multi_margin_loss(x, y, reduce=False).shape == (3,)
    np.testing.assert_allclose(fg.nn.PoissonNLLLoss(size_average=False)(x, x).numpy(),
                               F.poisson_nll_loss(x, x, reduction="sum").numpy())


def test_every_new_name_is_in_torch():
    """The names this file and test_nn_3d.py cover exist in torch.nn / torch.nn.functional (no typo)."""
    import fastgrad.nn.functional_more as more
    for name in ("GaussianNLLLoss", "PoissonNLLLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
                 "TripletMarginWithDistanceLoss", "RReLU", "Softmax2d", "AlphaDropout", "FeatureAlphaDropout", "Buffer",
                 "LazyLinear", "Conv3d", "MaxUnpool3d", "LPPool3d", "ZeroPad1d", "CircularPad3d"):
        assert hasattr(torch.nn, name) and hasattr(fg.nn, name), name
    for name in dir(more):
        fn = getattr(more, name)
        if not name.startswith("_") and callable(fn) and fn.__module__ == more.__name__:
            assert hasattr(TF, name), name
            assert getattr(F, name) is getattr(more, name), name

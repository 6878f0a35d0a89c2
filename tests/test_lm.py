"""The language-model layers (LayerNorm, GELU, SiLU, logsigmoid, softplus, normalize, attention),
the extended class-target losses, module plumbing, gradient clipping and the adaptive optimizers:
gradchecks against numpy in float64, PyTorch parity, every kernel path and thread count."""
import math

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config, np_log_softmax, np_softmax

F = fg.nn.functional
nn = fg.nn


# ---- numpy references ---------------------------------------------------------------------------------
def np_layer_norm(x, ndims, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - ndims, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    return y * (w if w is not None else 1) + (b if b is not None else 0)


def np_phi(x):
    return 0.5 * np.vectorize(math.erfc, otypes=[float])(-x / math.sqrt(2))


NP_ACT = {
    "gelu": lambda x: x * np_phi(x),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "logsigmoid": lambda x: -np.logaddexp(0, -x),
    "softplus": lambda x: np.logaddexp(0, x),
}
FG_ACT = {
    "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
    "logsigmoid": F.logsigmoid, "softplus": F.softplus,
}


def np_attention(q, k, v, mask=None, causal=False, scale=None):
    s = q @ np.swapaxes(k, -1, -2) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    return np_softmax(s) @ v


# ---- gradchecks ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(NP_ACT))
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 0)])
def test_activations_gradcheck(name, shape):
    check_op(FG_ACT[name], NP_ACT[name], shape)


def test_activations_far_out_and_softplus_parameters():
    x = np.array([-800.0, -60.0, -20.0, -1e-8, 0.0, 1e-8, 20.0, 60.0, 800.0])
    for name, ref in NP_ACT.items():
        out = FG_ACT[name](fg.tensor(x, dtype=fg.float64)).numpy()
        np.testing.assert_allclose(out, ref(x), rtol=1e-12, atol=1e-300, err_msg=name)
    for beta, threshold in [(2.0, 3.0), (0.5, 20.0), (1.0, 1.0)]:
        ref = lambda a: np.where(beta * a > threshold, a, np.logaddexp(0, beta * a) / beta)
        check_op(lambda a: F.softplus(a, beta, threshold), ref, inputs=[np.linspace(-4, 4, 13)])
    assert np.isnan(F.gelu(fg.tensor([float("nan")])).numpy()).all()


def test_activations_accumulate_and_skip_the_slope_without_grad():
    """Forward keeps the slope only when a gradient will be needed; backward writes a new .grad and
    adds to an existing one (x used twice)."""
    x = np.linspace(-3, 3, 11)
    for name, ref in NP_ACT.items():
        a = fg.tensor(x, dtype=fg.float64, requires_grad=True)
        (FG_ACT[name](a) + FG_ACT[name](a)).sum().backward()
        h = 1e-6
        slope = (ref(x + h) - ref(x - h)) / (2 * h)
        np.testing.assert_allclose(a.grad.numpy(), 2 * slope, rtol=1e-6, atol=1e-9, err_msg=name)
        op = fg.ops.lm.Activation(name)
        with fg.no_grad():
            op.forward(a)
        assert op.slope is None
        op = fg.ops.lm.Activation(name)
        op.forward(fg.tensor(x))
        assert op.slope is None


@pytest.mark.parametrize("shape,ndims", [((3, 5), 1), ((2, 3, 7), 2), ((1, 1), 1), ((4, 13), 1), ((0, 3), 1)])
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm_gradcheck(shape, ndims, affine):
    ns = shape[len(shape) - ndims:]
    if affine:
        check_op(lambda x, w, b: F.layer_norm(x, ns, w, b), lambda x, w, b: np_layer_norm(x, ndims, w, b),
                 shape, ns, ns)
        check_op(lambda x, w: F.layer_norm(x, ns, w), lambda x, w: np_layer_norm(x, ndims, w), shape, ns)
    else:
        check_op(lambda x: F.layer_norm(x, ns, eps=1e-3), lambda x: np_layer_norm(x, ndims, eps=1e-3), shape)


def test_layer_norm_module():
    ln = nn.LayerNorm(6, dtype=fg.float64)
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    x = np.random.default_rng(0).standard_normal((4, 6))
    np.testing.assert_allclose(ln(fg.tensor(x, dtype=fg.float64)).numpy(), np_layer_norm(x, 1), atol=1e-12)
    assert nn.LayerNorm((2, 3), elementwise_affine=False).parameters() == []
    assert nn.LayerNorm(4, bias=False).bias is None


@pytest.mark.parametrize("p,dim", [(2.0, 1), (2.0, -1), (1.0, 0), (3.0, 1)])
def test_normalize_gradcheck(p, dim):
    def ref(x):
        n = np.sum(np.abs(x) ** p, axis=dim, keepdims=True) ** (1 / p)
        return x / np.maximum(n, 1e-12)
    check_op(lambda x: F.normalize(x, p=p, dim=dim), ref, (3, 4, 5))


def test_normalize_below_eps():
    check_op(lambda x: F.normalize(x, eps=10.0), lambda x: x / 10.0, (2, 3))


ATTN = [((5, 4), (5, 4), (5, 3)), ((2, 3, 4), (2, 6, 4), (2, 6, 2)), ((2, 2, 3, 1), (2, 2, 3, 1), (2, 2, 3, 5)),
        ((1, 1), (1, 1), (1, 1))]


@pytest.mark.parametrize("shapes", ATTN)
@pytest.mark.parametrize("causal", [False, True])
def test_attention_gradcheck(shapes, causal):
    if causal and shapes[0][-2] > shapes[1][-2]:
        pytest.skip("causal with more queries than keys leaves rows with nothing to attend to")
    check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
             lambda q, k, v: np_attention(q, k, v, causal=causal), *shapes)


def test_attention_masks_and_scale():
    rng = np.random.default_rng(1)
    bmask = rng.random((3, 1, 6)) > 0.4
    bmask[..., 0] = True
    fmask = rng.standard_normal((5, 6))
    shapes = (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 3)
    check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=fg.tensor(bmask)),
             lambda q, k, v: np_attention(q, k, v, mask=bmask), *shapes)
    check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=fg.tensor(fmask, dtype=q.dtype),
                                                            scale=0.3),
             lambda q, k, v: np_attention(q, k, v, mask=fmask, scale=0.3), *shapes)


def test_attention_dropout_backward_uses_its_forward_mask():
    def fn(q, k, v):
        fg.manual_seed(3)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, is_causal=True)
    q = fg.randn(2, 5, 4)
    with fg.no_grad():
        fg.manual_seed(3)
        a = F.scaled_dot_product_attention(q, q, q, dropout_p=0.4).numpy()
    assert not np.allclose(a, F.scaled_dot_product_attention(q, q, q).numpy())
    # gradcheck of a fixed mask: fn reseeds, so every call draws the same one
    x = np.random.default_rng(0).standard_normal((3, 4, 3))
    out = fn(*[fg.tensor(x, dtype=fg.float64)] * 3)
    assert out.shape == (3, 4, 3)
    check_op(fn, lambda q, k, v: fn(*[fg.tensor(a, dtype=fg.float64) for a in (q, k, v)]).numpy(), (2, 4, 3),
             (2, 4, 3), (2, 4, 3), check_float32=False)


def test_attention_agrees_with_the_plain_composition():
    """softmax(q·kᵀ/√d + causal mask)·v written with matmul, transpose, add and softmax."""
    rng = np.random.default_rng(2)
    q, k, v = (fg.tensor(rng.standard_normal((7, 4)), requires_grad=True) for _ in range(3))
    causal = fg.tensor(np.where(np.tril(np.ones((7, 7))) > 0, 0.0, -np.inf))
    plain = ((q @ k.T) * (1 / math.sqrt(4)) + causal).softmax() @ v
    fused = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-5, atol=1e-6)
    g = fg.tensor(rng.standard_normal((7, 4)))
    plain.backward(g)
    grads = [t.grad.numpy().copy() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    fused.backward(g)
    for t, ref in zip((q, k, v), grads):
        np.testing.assert_allclose(t.grad.numpy(), ref, rtol=1e-4, atol=1e-5)


# Shapes around the kernel's blocks: 4 query (or key) rows at a time, two vectors of columns, then one
# vector, then single columns (19 = 16 + 3 floats, 8 + 8 + 3 doubles); more queries than keys and fewer.
ATTN_BLOCKS = [((2, 9, 19), (2, 13, 19), (2, 13, 11)), ((1, 6, 16), (1, 6, 16), (1, 6, 16)),
               ((3, 5, 8), (3, 4, 8), (3, 4, 17))]


@pytest.mark.parametrize("shapes", ATTN_BLOCKS)
@pytest.mark.parametrize("causal", [False, True])
def test_attention_blocked_rows_gradcheck(shapes, causal):
    check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
             lambda q, k, v: np_attention(q, k, v, causal=causal), *shapes)


def test_attention_matches_torch_at_gpt_sizes():
    """The char GPT's heads (64 positions, 16 wide) and odd ones, causal and masked, float32."""
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    rng = np.random.default_rng(5)
    for (b, h, t, s, d), kwargs in [((2, 4, 64, 64, 16), {"is_causal": True}), ((2, 3, 37, 37, 16), {"is_causal": True}),
                                    ((2, 2, 21, 30, 24), {}), ((1, 2, 33, 19, 16), {"mask": True})]:
        q, k, v = (rng.standard_normal(shape).astype(np.float32) for shape in ((b, h, t, d), (b, h, s, d), (b, h, s, d)))
        mask = rng.random((t, s)) > 0.3 if kwargs.pop("mask", False) else None
        if mask is not None:
            mask[:, 0] = True
        ours = [fg.tensor(a, requires_grad=True) for a in (q, k, v)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = F.scaled_dot_product_attention(*ours, attn_mask=None if mask is None else fg.tensor(mask), **kwargs)
        tout = tF.scaled_dot_product_attention(*theirs, attn_mask=None if mask is None else torch.tensor(mask), **kwargs)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=2e-6)
        g = rng.standard_normal(out.shape).astype(np.float32)
        out.backward(fg.tensor(g))
        tout.backward(torch.tensor(g))
        for a, ta in zip(ours, theirs):
            np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("path,threads", KERNEL_CONFIGS)
def test_attention_on_every_path_and_thread_count(path, threads):
    """130 heads, so two threads take part: every path agrees with numpy, and 1 and 2 threads give the
    same bits, with dropout too (its mask comes from the seed)."""
    rng = np.random.default_rng(12)
    q, k, v = (rng.standard_normal((130, 20, 9)) for _ in range(3))
    g = rng.standard_normal((130, 20, 9))

    def run(dtype):
        results = []
        for kwargs in ({"is_causal": True}, {}, {"is_causal": True, "dropout_p": 0.3}):
            fg.manual_seed(4)
            ts = [fg.tensor(a, dtype=dtype, requires_grad=True) for a in (q, k, v)]
            out = F.scaled_dot_product_attention(*ts, **kwargs)
            out.backward(fg.tensor(g, dtype=dtype))
            results += [out.numpy().copy()] + [t.grad.numpy().copy() for t in ts]
        return results

    with kernel_config(path, threads):
        got = {dt: run(dt) for dt in (fg.float32, fg.float64)}
        if threads is not None:
            fg.set_num_threads(1)
            for dt, results in got.items():
                for r, s in zip(results, run(dt)):
                    np.testing.assert_array_equal(r, s)
    for dt, tol in ((fg.float64, 1e-12), (fg.float32, 2e-5)):
        np.testing.assert_allclose(got[dt][0], np_attention(q, k, v, causal=True), rtol=tol, atol=tol)
        np.testing.assert_allclose(got[dt][4], np_attention(q, k, v), rtol=tol, atol=tol)


# ---- the class-target losses --------------------------------------------------------------------------
def np_ce(z, t, w=None, ignore=-100, smoothing=0.0, reduction="mean"):
    logp = np_log_softmax(z)
    c = z.shape[-1]
    w = np.ones(c) if w is None else w
    keep = t != ignore
    tt = np.where(keep, t, 0)
    loss = (1 - smoothing) * -w[tt] * logp[np.arange(len(t)), tt] + smoothing / c * -(logp * w).sum(-1)
    loss = np.where(keep, loss, 0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / np.where(keep, w[tt], 0).sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_options_gradcheck(reduction, smoothing, weighted):
    t = np.array([0, 3, -100, 3, 2, 1])
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None
    check_op(lambda z: F.cross_entropy(z, t, fg.tensor(w, dtype=z.dtype) if weighted else None, reduction=reduction,
                                       label_smoothing=smoothing),
             lambda z: np_ce(z, t, w, smoothing=smoothing, reduction=reduction), (6, 4))
    check_op(lambda z: F.nll_loss(z, t, fg.tensor(w, dtype=z.dtype) if weighted else None, reduction=reduction),
             lambda z: _np_nll(z, t, w, reduction), (6, 4))


def _np_nll(z, t, w, reduction):
    w = np.ones(z.shape[-1]) if w is None else w
    keep = t != -100
    tt = np.where(keep, t, 0)
    loss = np.where(keep, -w[tt] * z[np.arange(len(t)), tt], 0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / np.where(keep, w[tt], 0).sum()


def test_cross_entropy_other_ignore_index_and_all_ignored():
    t = np.array([1, 5, 0])
    check_op(lambda z: F.cross_entropy(z, t, ignore_index=5), lambda z: np_ce(z, t, ignore=5), (3, 4))
    z = fg.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(z, [-100, -100])
    assert math.isnan(loss.item())   # a mean over nothing, as PyTorch
    loss.backward()
    np.testing.assert_array_equal(z.grad.numpy(), 0)


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, lambda z, t: F.nll_loss(z.log_softmax(), t)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_losses_keep_their_own_targets(loss_fn, as_tensor):
    """Issue 11: changing the caller's label array after forward changes neither the gradient nor
    memory safety."""
    z = fg.randn(4, 3, requires_grad=True)
    t = np.array([0, 1, 2, 1])
    loss_fn(z, t).backward()
    expected = z.grad.numpy().copy()
    z.grad = None
    labels = fg.tensor(t) if as_tensor else t.copy()
    loss = loss_fn(z, labels)
    target_view = labels.numpy() if as_tensor else labels
    target_view[0] = 10**12
    target_view[3] = 2
    loss.backward()
    np.testing.assert_array_equal(z.grad.numpy(), expected)


def test_losses_match_torch_with_every_option():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    z, t = rng.standard_normal((9, 5)).astype(np.float32), rng.integers(0, 5, 9)
    t[[1, 4]] = -100
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    for reduction in ("mean", "sum", "none"):
        for smoothing in (0.0, 0.1):
            a, ta = fg.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
            loss = F.cross_entropy(a, t, fg.tensor(w), reduction=reduction, label_smoothing=smoothing)
            tloss = torch.nn.functional.cross_entropy(ta, torch.tensor(t), torch.tensor(w), reduction=reduction,
                                                      label_smoothing=smoothing)
            np.testing.assert_allclose(loss.numpy(), tloss.detach().numpy(), rtol=1e-5, atol=1e-6)
            g = rng.standard_normal(tloss.shape).astype(np.float32)
            loss.backward(fg.tensor(g))
            tloss.backward(torch.tensor(g))
            np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)
    module = nn.CrossEntropyLoss(weight=fg.tensor(w), ignore_index=-100, label_smoothing=0.1)
    tmodule = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1)
    np.testing.assert_allclose(module(fg.tensor(z), t).item(), tmodule(torch.tensor(z), torch.tensor(t)).item(),
                               rtol=1e-5)


# ---- PyTorch parity in float32 ----------------------------------------------------------------------------
def test_layers_match_torch_float32():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((32, 130)) * 3).astype(np.float32)
    w, b = rng.standard_normal(130).astype(np.float32), rng.standard_normal(130).astype(np.float32)
    cases = [
        (lambda a: F.gelu(a), lambda a: tf.gelu(a)),
        (lambda a: F.gelu(a, approximate="tanh"), lambda a: tf.gelu(a, approximate="tanh")),
        (F.silu, tf.silu), (F.logsigmoid, tf.logsigmoid),
        (lambda a: F.softplus(a, 2.0, 5.0), lambda a: tf.softplus(a, 2.0, 5.0)),
        (lambda a: F.layer_norm(a, (130,), fg.tensor(w), fg.tensor(b)),
         lambda a: tf.layer_norm(a, (130,), torch.tensor(w), torch.tensor(b))),
        (lambda a: F.normalize(a, dim=-1), lambda a: tf.normalize(a, dim=-1)),
        (lambda a: F.scaled_dot_product_attention(a.reshape(4, 8, 130), a.reshape(4, 8, 130), a.reshape(4, 8, 130),
                                                  is_causal=True),
         lambda a: tf.scaled_dot_product_attention(a.reshape(4, 8, 130), a.reshape(4, 8, 130), a.reshape(4, 8, 130),
                                                   is_causal=True)),
    ]
    for ours, theirs in cases:
        a, ta = fg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = ours(a), theirs(ta)
        scale = float(np.abs(tout.detach().numpy()).max())
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=2e-6 * scale)
        g = rng.standard_normal(tout.shape).astype(np.float32)
        out.backward(fg.tensor(g))
        tout.backward(torch.tensor(g))
        gscale = float(np.abs(ta.grad.numpy()).max())
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-5 * gscale)


@pytest.mark.parametrize("path,threads", KERNEL_CONFIGS)
def test_lm_kernels_on_every_path_and_thread_count(path, threads):
    """70000 elements, so two threads take part: every path, and the same bits for 1 and 2 threads."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((700, 100)).astype(np.float32) * 3
    w, b = rng.standard_normal(100).astype(np.float32), rng.standard_normal(100).astype(np.float32)
    g = rng.standard_normal((700, 100)).astype(np.float32)

    def run():
        results = []
        for name in NP_ACT:
            a = fg.tensor(x, requires_grad=True)
            out = FG_ACT[name](a)
            out.backward(fg.tensor(g))
            results += [out.numpy().copy(), a.grad.numpy().copy()]
        a, tw, tb = fg.tensor(x, requires_grad=True), fg.tensor(w, requires_grad=True), fg.tensor(b, requires_grad=True)
        out = F.layer_norm(a, (100,), tw, tb)
        out.backward(fg.tensor(g))
        return results + [out.numpy().copy(), a.grad.numpy().copy(), tw.grad.numpy().copy(), tb.grad.numpy().copy()]

    with kernel_config(path, threads):
        got = run()
        if threads is not None:
            fg.set_num_threads(1)
            single = run()
            for r, s in zip(got, single):
                np.testing.assert_array_equal(r, s)
    refs = []
    for name in NP_ACT:
        refs.append(NP_ACT[name](x.astype(np.float64)))
    np.testing.assert_allclose(got[-4], np_layer_norm(x.astype(np.float64), 1, w, b), rtol=1e-4, atol=1e-5)
    for out, ref in zip(got[0:10:2], refs):
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=3e-6 * np.abs(ref).max())


# ---- modules ------------------------------------------------------------------------------------------
class Block(nn.Module):
    def __init__(self):
        self.ln = nn.LayerNorm(4)
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.GELU()})
        self.register_buffer("mask", fg.ones(3))
        self.register_buffer("scratch", fg.zeros(2), persistent=False)


def test_module_containers_buffers_and_names():
    m = Block()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["ln.weight", "ln.bias", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                     "heads.a.weight", "heads.a.bias"]
    assert list(m.state_dict()) == names[:0] + ["mask"] + names   # own state first, then the submodules'
    assert [n for n, _ in m.named_buffers()] == ["mask", "scratch"]
    assert len(m.buffers()) == 2 and all(b.requires_grad is False for b in m.buffers())
    assert [n for n, _ in m.named_modules()] == ["", "ln", "layers", "layers.0", "layers.1", "heads", "heads.a",
                                                  "heads.b"]
    assert len(m.children()) == 3 and len(m.layers) == 2 and "a" in m.heads
    m.mask = fg.zeros(3)   # still a buffer after reassignment
    assert "mask" in m.state_dict()
    other = Block()
    other.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(other.mask.numpy(), 0)
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen[-1] == "Block" and seen.count("Linear") == 3
    assert isinstance(m.ln.weight, nn.Parameter) and not isinstance(m.mask, nn.Parameter)
    p = nn.Parameter(fg.zeros(2))
    assert p.requires_grad and p.is_leaf
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("ln", fg.zeros(1))
    with pytest.raises(TypeError, match="buffer"):
        m.register_buffer("x", [1, 2])


def test_state_dict_round_trip_with_torch():
    torch = pytest.importorskip("torch")

    class TBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = torch.nn.LayerNorm(4)
            self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 4), torch.nn.Linear(4, 2)])
            self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 1), "b": torch.nn.GELU()})
            self.register_buffer("mask", torch.ones(3))
            self.register_buffer("scratch", torch.zeros(2), persistent=False)

    ours, theirs = Block(), TBlock()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def test_zero_grad_in_place_and_clipping_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)]
    for norm_type, max_norm in [(2.0, 1.0), (1.0, 0.5), (float("inf"), 0.3), (3.0, 100.0)]:
        ps = [fg.tensor(a, requires_grad=True) for a in arrays]
        tps = [torch.tensor(a, requires_grad=True) for a in arrays]
        for p, tp, a in zip(ps, tps, arrays):
            p.grad, tp.grad = fg.tensor(a * 3), torch.tensor(a * 3)
        total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
        np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
        for p, tp in zip(ps, tps):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-7)
    nn.utils.clip_grad_value_(ps, 0.1)
    torch.nn.utils.clip_grad_value_(tps, 0.1)
    for p, tp in zip(ps, tps):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    model = nn.Linear(3, 2)
    model(fg.randn(4, 3)).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad and not grad.numpy().any()
    opt = fg.optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert model.weight.grad is grad
    opt.zero_grad()
    assert model.weight.grad is None


# ---- optimizers against torch over 50 steps -------------------------------------------------------------
OPTIMIZERS = [
    ("Adagrad", {}), ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("RMSprop", {}), ("RMSprop", dict(lr=0.001, alpha=0.9, momentum=0.8, centered=True, weight_decay=0.05)),
    ("RMSprop", dict(momentum=0.5)), ("RMSprop", dict(centered=True)),
    ("Adadelta", {}), ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_optimizers_match_torch_over_50_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    init = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    ps = [fg.tensor(a, requires_grad=True) for a in init]
    tps = [torch.tensor(a, requires_grad=True) for a in init]
    opt, topt = getattr(fg.optim, name)(ps, **kwargs), getattr(torch.optim, name)(tps, **kwargs)
    for _ in range(50):
        grads = [rng.standard_normal(a.shape).astype(np.float32) for a in init]
        for p, tp, g in zip(ps, tps, grads):
            p.grad, tp.grad = fg.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-6)
    saved = opt.state_dict()
    again = getattr(fg.optim, name)([fg.tensor(a, requires_grad=True) for a in init], **kwargs)
    again.load_state_dict(saved)
    assert again.state_dict()["state"][0]["step"] == 50


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adadelta"])
def test_optimizers_float64_and_bad_hyperparameters(name):
    p = fg.tensor([1.0, -2.0], dtype=fg.float64, requires_grad=True)
    opt = getattr(fg.optim, name)([p])
    p.grad = fg.tensor([0.5, 0.5], dtype=fg.float64)
    opt.step()
    assert p.numpy()[0] < 1.0
    with pytest.raises(ValueError, match="invalid"):
        getattr(fg.optim, name)([p], lr=-1.0)


@pytest.mark.parametrize("path,threads", KERNEL_CONFIGS)
def test_tanh_is_accurate_and_keeps_ieee_edges(path, threads):
    """tanh's vectorised kernel (expm1 near 0): a few ulps relative to numpy, -0, ±inf, NaN."""
    x = np.concatenate([np.linspace(-30, 30, 70001), [0.0, -0.0, 1e-30, -1e-8, np.inf, -np.inf, np.nan]])
    with kernel_config(path, threads):
        for dtype, tol in ((fg.float64, 4e-15), (fg.float32, 4e-7)):
            xx = x.astype(dtype.np)
            out = fg.tensor(xx, dtype=dtype).tanh().numpy()
            ref = np.tanh(xx.astype(np.float64))
            ok = np.isfinite(ref) & (ref != 0)
            np.testing.assert_allclose(out[ok], ref[ok], rtol=tol)
            assert np.signbit(out[-6]) and not np.signbit(out[-7]) and np.isnan(out[-1])
            assert out[-3] == 1 and out[-2] == -1

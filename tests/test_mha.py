"""nn.MultiheadAttention and nn.TransformerEncoderLayer: against PyTorch (outputs, attention weights, gradients of the inputs and of
every parameter, state dicts both ways) over its options and masks, gradchecks in float64 against
a numpy reference, dropout, and the self-attention shortcut."""
import math

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op, np_softmax

nn = fg.nn


def np_mha(q, k, v, m, mask=None):
    """Batch-first numpy MultiheadAttention with m's parameters (float64); mask additive, broadcast
    to (N, H, L, S)."""
    E, H = m.embed_dim, m.num_heads
    sd = {name: t.numpy().astype(np.float64) for name, t in m.state_dict().items()}
    if m._qkv_same_embed_dim:
        wq, wk, wv = np.split(sd["in_proj_weight"], 3)
    else:
        wq, wk, wv = sd["q_proj_weight"], sd["k_proj_weight"], sd["v_proj_weight"]
    bq, bk, bv = np.split(sd["in_proj_bias"], 3) if "in_proj_bias" in sd else (0, 0, 0)
    heads = lambda x: x.reshape(x.shape[0], x.shape[1], H, E // H).transpose(0, 2, 1, 3)
    qh, kh, vh = heads(q @ wq.T + bq), heads(k @ wk.T + bk), heads(v @ wv.T + bv)
    s = qh @ kh.transpose(0, 1, 3, 2) / math.sqrt(E // H)
    w = np_softmax(s if mask is None else s + mask)
    y = (w @ vh).transpose(0, 2, 1, 3).reshape(q.shape[0], q.shape[1], E)
    return y @ sd["out_proj.weight"].T + sd.get("out_proj.bias", 0), w


def pair(E, H, **kw):
    """A torch module and a fastgrad one holding the same float64 parameters (torch's, loaded)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(E, H, **kw).double()
    m = nn.MultiheadAttention(E, H, dtype=fg.float64, **kw)
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict({k: fg.tensor(v.numpy(), dtype=fg.float64) for k, v in t.state_dict().items()})
    return torch, t, m


def as_fg(x):
    if x is None:
        return None
    return fg.tensor(x) if x.dtype == bool else fg.tensor(x, dtype=fg.float64)


CONFIGS = [
    (8, 2, {}),
    (8, 2, {"batch_first": True}),
    (6, 3, {"kdim": 5, "vdim": 3}),
    (4, 1, {"bias": False, "batch_first": True}),
    (12, 4, {"kdim": 7}),
]


@pytest.mark.parametrize("E,H,kw", CONFIGS)
@pytest.mark.parametrize("masks", ["none", "bool", "float", "padding", "both", "3d"])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_matches_torch(E, H, kw, masks, need_weights, average):
    torch, t, m = pair(E, H, **kw)
    rng = np.random.default_rng(3)
    N, L, S = 3, 5, 7
    shape = (lambda n, d: (N, n, d)) if kw.get("batch_first") else (lambda n, d: (n, N, d))
    q, k, v = (rng.standard_normal(shape(n, d)) for n, d in ((L, E), (S, kw.get("kdim", E)), (S, kw.get("vdim", E))))
    attn = padding = None
    if masks in ("bool", "both"):
        attn = rng.random((L, S)) < 0.3
        attn[:, 0] = False   # every row keeps a key
    if masks == "float":
        attn = rng.standard_normal((L, S))
    if masks == "3d":
        attn = rng.standard_normal((N * H, L, S))
    if masks in ("padding", "both"):
        padding = np.zeros((N, S), bool)
        padding[1, -2:] = True
    fq, fk, fv = (fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in (q, k, v))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out, w = m(fq, fk, fv, key_padding_mask=as_fg(padding), need_weights=need_weights, attn_mask=as_fg(attn),
               average_attn_weights=average)
    tout, tw = t(tq, tk, tv, key_padding_mask=None if padding is None else torch.tensor(padding),
                 need_weights=need_weights, attn_mask=None if attn is None else torch.tensor(attn),
                 average_attn_weights=average)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert (w is None) == (tw is None)
    if w is not None:
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    gw = rng.standard_normal(w.shape if w is not None else 1)   # the weights' gradient flows back too
    loss = (out * fg.tensor(g, dtype=fg.float64)).sum()
    tloss = (tout * torch.tensor(g)).sum()
    if w is not None:
        loss, tloss = loss + (w * fg.tensor(gw, dtype=fg.float64)).sum(), tloss + (tw * torch.tensor(gw)).sum()
    loss.backward()
    tloss.backward()
    for a, b in ((fq, tq), (fk, tk), (fv, tv)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)
    tparams = dict(t.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_unbatched_and_state_dict_both_ways():
    torch, t, m = pair(8, 4)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 8))
    padding = np.array([False, False, False, True, False])
    out, w = m(*(fg.tensor(x, dtype=fg.float64),) * 3, key_padding_mask=fg.tensor(padding))
    tout, tw = t(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(padding))
    assert out.shape == (5, 8) and w.shape == (5, 5)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    fresh = torch.nn.MultiheadAttention(8, 4).double()
    fresh.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    np.testing.assert_allclose(fresh(*(torch.tensor(x),) * 3)[0].detach().numpy(),
                               m(*(fg.tensor(x, dtype=fg.float64),) * 3)[0].numpy(), rtol=1e-10, atol=1e-12)


def test_causal_hint_uses_the_fused_path_and_agrees():
    torch, t, m = pair(8, 2, batch_first=True)
    x = np.random.default_rng(2).standard_normal((2, 6, 8))
    causal = np.triu(np.ones((6, 6), bool), 1)
    ours = m(*(fg.tensor(x, dtype=fg.float64),) * 3, attn_mask=fg.tensor(causal), need_weights=False,
             is_causal=True)[0]
    theirs = t(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(causal), need_weights=False, is_causal=True)[0]
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    weighted = m(*(fg.tensor(x, dtype=fg.float64),) * 3, attn_mask=fg.tensor(causal))[0]
    np.testing.assert_allclose(ours.numpy(), weighted.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("kw", [{"batch_first": True}, {"batch_first": True, "kdim": 3, "vdim": 2}])
def test_gradcheck(need_weights, kw):
    fg.manual_seed(0)
    m = nn.MultiheadAttention(6, 2, dtype=fg.float64, **kw)
    mask = np.random.default_rng(4).standard_normal((3, 4))
    check_op(lambda q, k, v: m(q, k, v, attn_mask=fg.tensor(mask, dtype=fg.float64), need_weights=need_weights)[0],
             lambda q, k, v: np_mha(q, k, v, m, mask)[0], (2, 3, 6), (2, 4, kw.get("kdim", 6)),
             (2, 4, kw.get("vdim", 6)), check_float32=False)


def test_self_attention_shortcut_equals_separate_projections():
    fg.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    x = fg.randn(2, 5, 8)
    same = m(x, x, x)[0]
    separate = m(x, x.clone(), x.clone())[0]
    np.testing.assert_allclose(same.numpy(), separate.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("need_weights", [False, True])
def test_dropout_only_in_training(need_weights):
    fg.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, dropout=1.0, batch_first=True)
    nn.init.uniform_(m.out_proj.bias, -1, 1)
    x = fg.randn(2, 5, 8)
    out = m(x, x, x, need_weights=need_weights)[0]   # every weight dropped: only out_proj's bias is left
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(m.out_proj.bias.numpy(), (2, 5, 8)), atol=1e-6)
    m.eval()
    assert np.abs(m(x, x, x, need_weights=need_weights)[0].numpy() - out.numpy()).max() > 1e-3


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first,bias", [(False, True), (True, True), (True, False)])
def test_transformer_encoder_layer_matches_torch(norm_first, activation, batch_first, bias):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kw = dict(dim_feedforward=16, dropout=0.0, activation=activation, batch_first=batch_first, norm_first=norm_first,
              bias=bias)
    t = torch.nn.TransformerEncoderLayer(8, 2, **kw).double()
    m = nn.TransformerEncoderLayer(8, 2, dtype=fg.float64, **kw)
    assert list(m.state_dict()) == list(t.state_dict())
    m.load_state_dict({k: fg.tensor(v.numpy(), dtype=fg.float64) for k, v in t.state_dict().items()})
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    padding = np.zeros((3, 5), bool)
    padding[0, -1] = True
    causal = np.triu(np.ones((5, 5), bool), 1)
    fx, tx = fg.tensor(x, dtype=fg.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = m(fx, src_mask=fg.tensor(causal), src_key_padding_mask=fg.tensor(padding))
    tout = t(tx, src_mask=torch.tensor(causal), src_key_padding_mask=torch.tensor(padding))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(fg.tensor(g, dtype=fg.float64))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    tparams = dict(t.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    fresh = torch.nn.TransformerEncoderLayer(8, 2, **kw).double()
    fresh.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    fresh.eval()
    m.eval()
    np.testing.assert_allclose(fresh(torch.tensor(x)).detach().numpy(), m(fg.tensor(x, dtype=fg.float64)).numpy(),
                               rtol=1e-9, atol=1e-11)


def test_transformer_encoder_layer_gradcheck():
    fg.manual_seed(0)
    m = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation="gelu", batch_first=True,
                                   norm_first=True, dtype=fg.float64)

    def ref(x):   # numpy: pre-norm block with m's parameters
        sd = {name: t.numpy() for name, t in m.state_dict().items()}
        ln = lambda a, w, b: (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-5) * w + b
        erf = np.vectorize(math.erf)
        h = x + np_mha(*(ln(x, sd["norm1.weight"], sd["norm1.bias"]),) * 3, m.self_attn)[0]
        f = ln(h, sd["norm2.weight"], sd["norm2.bias"]) @ sd["linear1.weight"].T + sd["linear1.bias"]
        f = 0.5 * f * (1 + erf(f / math.sqrt(2)))
        return h + f @ sd["linear2.weight"].T + sd["linear2.bias"]
    check_op(m, ref, (2, 3, 4), check_float32=False)


def test_transformer_encoder_layer_dropout_in_training_only():
    fg.manual_seed(0)
    m = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5, batch_first=True)
    x = fg.randn(2, 5, 8, requires_grad=True)
    train = m(x)
    train.sum().backward()
    assert x.grad.shape == x.shape and np.isfinite(x.grad.numpy()).all()
    m.eval()
    a, b = m(x), m(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert np.abs(a.numpy() - train.numpy()).max() > 1e-3

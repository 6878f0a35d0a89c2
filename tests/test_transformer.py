"""nn.TransformerEncoder, nn.TransformerDecoderLayer, nn.TransformerDecoder and nn.Transformer
against PyTorch's: the same parameter names (state dicts load both ways), outputs and gradients,
with masks, in both layouts and both norm placements."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn as nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor")   # torch's own note on its fast path


def _load(f_module, t_module):
    state = {k: v.detach().numpy() for k, v in t_module.state_dict().items()}
    assert list(state) == list(f_module.state_dict())
    f_module.load_state_dict({k: fg.tensor(v, dtype=fg.float64) for k, v in state.items()})


def _leaf(a):
    return fg.tensor(a, dtype=fg.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


def _compare(f_out, t_out, leaves, f_module, t_module):
    np.testing.assert_allclose(f_out.numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-10)
    (f_out * f_out).sum().backward()
    (t_out * t_out).sum().backward()
    for f_leaf, t_leaf in leaves:
        np.testing.assert_allclose(f_leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-7, atol=1e-9)
    t_grads = dict(t_module.named_parameters())
    for name, p in f_module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_grads[name].grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch(batch_first, norm_first):
    torch.manual_seed(0)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
              batch_first=batch_first, norm_first=norm_first)
    t = torch.nn.Transformer(**kw).double()
    f = nn.Transformer(**kw).double()
    _load(f, t)
    rng = np.random.default_rng(0)
    src_shape, tgt_shape = ((2, 5, 8), (2, 4, 8)) if batch_first else ((5, 2, 8), (4, 2, 8))
    src, tgt = _leaf(rng.standard_normal(src_shape)), _leaf(rng.standard_normal(tgt_shape))
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    f_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=fg.float64)
    pad = np.array([[False] * 4 + [True], [False] * 5])   # the first sequence's last source token is padding
    f_out = f(src[0], tgt[0], tgt_mask=f_mask, src_key_padding_mask=fg.tensor(pad),
              memory_key_padding_mask=fg.tensor(pad))
    t_out = t(src[1], tgt[1], tgt_mask=t_mask, src_key_padding_mask=torch.tensor(pad),
              memory_key_padding_mask=torch.tensor(pad))
    _compare(f_out, t_out, [src, tgt], f, t)


def test_encoder_stack_with_a_final_norm_and_a_causal_mask_matches_torch():
    torch.manual_seed(1)
    t_layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    t = torch.nn.TransformerEncoder(t_layer, 3, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False).double()
    f = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 3,
                              norm=nn.LayerNorm(8)).double()
    _load(f, t)
    x = _leaf(np.random.default_rng(1).standard_normal((3, 6, 8)))
    mask = np.triu(np.ones((6, 6), bool), 1)
    _compare(f(x[0], mask=fg.tensor(mask)), t(x[1], mask=torch.tensor(mask)), [x], f, t)
    assert len(f.layers) == 3 and f.layers[0] is not f.layers[1]


def test_decoder_stack_matches_torch_and_trains():
    torch.manual_seed(2)
    t = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 4, 16, dropout=0.0, activation="gelu"),
                                    2).double()
    f = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 4, 16, dropout=0.0, activation="gelu"), 2).double()
    _load(f, t)
    rng = np.random.default_rng(2)
    tgt, memory = _leaf(rng.standard_normal((4, 2, 8))), _leaf(rng.standard_normal((7, 2, 8)))
    _compare(f(tgt[0], memory[0]), t(tgt[1], memory[1]), [tgt, memory], f, t)
    # a few Adam steps lower a regression loss
    fg.manual_seed(0)
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
                           batch_first=True)
    opt = fg.optim.Adam(model.parameters(), lr=1e-2)
    src, tgt = fg.randn(4, 5, 8), fg.randn(4, 3, 8)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((model(src, tgt) - tgt) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_bad_arguments_are_refused_clearly():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(TypeError, match="nn.Module"):
        nn.TransformerEncoder("layer", 2)
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(layer, 0)
    with pytest.raises(ValueError, match="relu/gelu"):
        nn.TransformerDecoderLayer(8, 2, activation="swish")
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    with pytest.raises(RuntimeError, match="batch number"):
        model(fg.randn(5, 2, 8), fg.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        model(fg.randn(5, 2, 6), fg.randn(4, 2, 6))

"""nn.RNN, nn.LSTM, nn.GRU and their cells against PyTorch: the same parameters (names, order,
shapes), outputs, final states and gradients, for every layout and option."""
import numpy as np
import pytest

import fastgrad as fg

torch = pytest.importorskip("torch")

CONFIGS = [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True, "num_layers": 2}, {"bias": False},
           {"num_layers": 3, "bidirectional": True, "batch_first": True}]
LAYERS = [("LSTM", c) for c in CONFIGS + [{"proj_size": 3, "num_layers": 2, "bidirectional": True}]] \
    + [("GRU", c) for c in CONFIGS] + [("RNN", c) for c in CONFIGS + [{"nonlinearity": "relu", "num_layers": 2}]]


def _pair(cls, dtype=torch.float64, **kw):
    """The torch layer and a fastgrad layer with its parameters (which must have the same names)."""
    t = getattr(torch.nn, cls)(5, 7, **kw).to(dtype)
    f = getattr(fg.nn, cls)(5, 7, dtype=fg.float64 if dtype == torch.float64 else fg.float32, **kw)
    state = {k: v.detach().numpy() for k, v in t.state_dict().items()}
    assert list(state) == [n for n, _ in f.named_parameters()]
    f.load_state_dict({k: fg.tensor(v, dtype=f.weight_ih_l0.dtype if hasattr(f, "weight_ih_l0") else f.weight_ih.dtype)
                       for k, v in state.items()})
    return t, f


def _leaf(a, dtype=fg.float64):
    return fg.tensor(a, dtype=dtype, requires_grad=True), torch.tensor(a, requires_grad=True)


def _states(out):
    """The tensors a layer's or cell's result holds, flattened."""
    if isinstance(out, tuple):
        return [t for part in out for t in _states(part)]
    return [out]


def _check(f_out, t_out, leaves, f_module, t_module, rtol=1e-9, atol=1e-12):
    f_states, t_states = _states(f_out), _states(t_out)
    for a, b in zip(f_states, t_states):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    sum(s.sum() * (i + 1) for i, s in enumerate(f_states)).backward()
    sum(s.sum() * (i + 1) for i, s in enumerate(t_states)).backward()
    for f_leaf, t_leaf in leaves:
        np.testing.assert_allclose(f_leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=rtol, atol=atol)
    for (name, p), (_, q) in zip(f_module.named_parameters(), t_module.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


def _add_state(rng, lstm, h_shape, c_shape, leaves, f_args, t_args):
    """A random initial state (h, or the LSTM's (h, c)) as leaves of both libraries, appended to the
    call's arguments."""
    h = _leaf(rng.standard_normal(h_shape))
    leaves.append(h)
    if lstm:
        c = _leaf(rng.standard_normal(c_shape))
        leaves.append(c)
        f_args.append((h[0], c[0]))
        t_args.append((h[1], c[1]))
    else:
        f_args.append(h[0])
        t_args.append(h[1])


@pytest.mark.parametrize("cls,kw", LAYERS, ids=[f"{c}-{k}" for c, k in LAYERS])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_matches_torch(cls, kw, with_state):
    torch.manual_seed(0)
    t, f = _pair(cls, **kw)
    rng = np.random.default_rng(1)
    steps, batch = 4, 3
    x, tx = _leaf(rng.standard_normal((batch, steps, 5) if kw.get("batch_first") else (steps, batch, 5)))
    leaves = [(x, tx)]
    f_args, t_args = [x], [tx]
    if with_state:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        _add_state(rng, cls == "LSTM", (layers, batch, kw.get("proj_size") or 7), (layers, batch, 7), leaves,
                   f_args, t_args)
    _check(f(*f_args), t(*t_args), leaves, f, t)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_and_float32(cls):
    torch.manual_seed(0)
    t, f = _pair(cls, dtype=torch.float32, num_layers=2, bidirectional=True)
    a = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    x, tx = _leaf(a, fg.float32)
    f_out, t_out = f(x), t(tx)
    assert f_out[0].shape == (6, 14)
    _check(f_out, t_out, [(x, tx)], f, t, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("cls", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
def test_cell_matches_torch(cls, batched, with_state):
    torch.manual_seed(0)
    t, f = _pair(cls)
    rng = np.random.default_rng(3)
    shape = (4,) if batched else ()
    x, tx = _leaf(rng.standard_normal(shape + (5,)))
    leaves, f_args, t_args = [(x, tx)], [x], [tx]
    if with_state:
        _add_state(rng, cls == "LSTMCell", shape + (7,), shape + (7,), leaves, f_args, t_args)
    _check(f(*f_args), t(*t_args), leaves, f, t)


def test_relu_cell_and_dropout_between_layers():
    torch.manual_seed(0)
    t, f = _pair("RNNCell", nonlinearity="relu")
    x, tx = _leaf(np.random.default_rng(4).standard_normal((3, 5)))
    _check(f(x), t(tx), [(x, tx)], f, t)
    # dropout acts between layers in training only: eval() gives torch's result
    t, f = _pair("GRU", num_layers=2, dropout=0.5)
    x = np.random.default_rng(5).standard_normal((4, 2, 5))
    f.eval()
    t.eval()
    np.testing.assert_allclose(f(fg.tensor(x, dtype=fg.float64))[0].numpy(),
                               t(torch.tensor(x))[0].detach().numpy(), rtol=1e-9)
    f.train()
    fg.manual_seed(1)
    a = f(fg.tensor(x, dtype=fg.float64))[0].numpy()
    fg.manual_seed(1)
    b = f(fg.tensor(x, dtype=fg.float64))[0].numpy()
    np.testing.assert_array_equal(a, b)   # seeded
    assert not np.allclose(a, f.eval()(fg.tensor(x, dtype=fg.float64))[0].numpy())


def test_parameters_start_as_torchs_do():
    fg.manual_seed(0)
    m = fg.nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    names = [n for n, _ in m.named_parameters()]
    assert names == [n for n, _ in torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True).named_parameters()]
    for _, p in m.named_parameters():
        assert p.dtype == fg.float32 and np.abs(p.numpy()).max() <= 1 / np.sqrt(20)
    assert m.weight_ih_l1_reverse.shape == (80, 40)
    assert len(m.all_weights) == 4 and len(m.all_weights[0]) == 4
    m.flatten_parameters()   # PyTorch code calls it; nothing to do on the CPU
    assert "num_layers=2" in repr(m) and "bidirectional=True" in repr(m)


def _lstm_language_model():
    fg.manual_seed(0)
    emb, lstm, head = fg.nn.Embedding(11, 8), fg.nn.LSTM(8, 16, batch_first=True), fg.nn.Linear(16, 11)
    params = list(emb.parameters()) + list(lstm.parameters()) + list(head.parameters())
    opt = fg.optim.Adam(params, lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        out, _ = lstm(emb(x))
        loss = fg.nn.functional.cross_entropy(head(out).reshape(-1, 11), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss
    return step, params


def test_an_lstm_language_model_trains_and_its_captured_step_replays_to_eager_bits():
    tokens = fg.tensor(np.random.default_rng(6).integers(0, 11, (4, 9)))
    x, y = tokens[:, :-1], tokens[:, 1:]
    eager, eager_params = _lstm_language_model()
    captured, captured_params = _lstm_language_model()
    captured = fg.compile(captured)
    losses = []
    for _ in range(30):
        losses.append(eager(x, y).item())
        assert captured(x, y).item() == losses[-1]
    assert losses[-1] < 0.5 * losses[0]
    for p, q in zip(eager_params, captured_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("make,call,error,match", [
    (lambda: fg.nn.LSTM(5, 7), lambda m: m(fg.randn(4, 3, 6)), ValueError, "input_size. Expected 5, got 6"),
    (lambda: fg.nn.LSTM(5, 7), lambda m: m(fg.randn(4, 5)[None, None]), ValueError, "2D or 3D"),
    (lambda: fg.nn.LSTM(5, 7), lambda m: m(fg.randn(0, 3, 5)), ValueError, "sequence length"),
    (lambda: fg.nn.LSTM(5, 7), lambda m: m(fg.randn(4, 3, 5), fg.randn(1, 3, 7)), TypeError, "tuple"),
    (lambda: fg.nn.LSTM(5, 7), lambda m: m(fg.randn(4, 3, 5), (fg.randn(1, 3, 7), fg.randn(1, 2, 7))), ValueError,
     r"cell size \(1, 3, 7\)"),
    (lambda: fg.nn.GRU(5, 7, num_layers=2), lambda m: m(fg.randn(4, 3, 5), fg.randn(1, 3, 7)), ValueError,
     r"hidden size \(2, 3, 7\)"),
    (lambda: fg.nn.GRU(5, 7), lambda m: m([[1.0] * 5]), TypeError, "PackedSequence"),
    (lambda: fg.nn.GRU(5, 7), lambda m: m(fg.randn(4, 3, 5, dtype=fg.float64)), TypeError, "dtype"),
    (lambda: fg.nn.GRUCell(5, 7), lambda m: m(fg.randn(3, 5), fg.randn(2, 7)), ValueError, "hidden size"),
    (lambda: fg.nn.LSTMCell(5, 7), lambda m: m(fg.randn(3, 4)), ValueError, "input_size"),
    (lambda: fg.nn.RNNCell(5, 7), lambda m: m(fg.randn(2, 3, 5)), ValueError, "1D or 2D"),
])
def test_bad_inputs_are_refused_clearly(make, call, error, match):
    with pytest.raises(error, match=match):
        call(make())


@pytest.mark.parametrize("make,match", [
    (lambda: fg.nn.GRU(5, 7, proj_size=2), "only supported for LSTM"),
    (lambda: fg.nn.LSTM(5, 7, proj_size=7), "smaller than hidden_size"),
    (lambda: fg.nn.RNN(5, 7, nonlinearity="gelu"), "nonlinearity"),
    (lambda: fg.nn.LSTM(5, 0), "hidden_size must be a positive int"),
    (lambda: fg.nn.LSTM(5, 7, num_layers=0), "num_layers"),
    (lambda: fg.nn.LSTM(5, 7, dropout=1.5), "dropout"),
    (lambda: fg.nn.RNNCell(5, 7, nonlinearity="sigmoid"), "nonlinearity"),
])
def test_bad_constructor_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_the_gates_op_refuses_shapes_and_dtypes_that_do_not_fit():
    lib = fg.backend.lib
    x, s = fg.randn(3, 16), fg.randn(3, 4)
    with pytest.raises(ValueError, match=r"x, h \(rows, 4·hidden\)"):
        fg.ops.RNNGates(lib.FG_LSTM_CELL).forward(x, x, fg.randn(3, 5))
    with pytest.raises(ValueError, match="gru hidden state"):
        fg.ops.RNNGates(lib.FG_GRU_HIDDEN).forward(x, x, s)   # 3·hidden columns for a GRU
    with pytest.raises(TypeError, match="one dtype"):
        fg.ops.RNNGates(lib.FG_LSTM_HIDDEN).forward(x, x.double(), s)
    with pytest.raises(ValueError, match="unknown mode"):
        fg.ops.RNNGates(7)


# ---- variable-length batches: fg.nn.utils.rnn against torch.nn.utils.rnn ---------------------------
@pytest.mark.parametrize("cls,kw", [("LSTM", {"num_layers": 2, "bidirectional": True}), ("GRU", {"batch_first": True}),
                                    ("RNN", {"bidirectional": True}), ("LSTM", {"proj_size": 3})])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_match_torch(cls, kw, enforce_sorted):
    from torch.nn.utils import rnn as t_rnn

    from fastgrad.nn.utils import rnn as f_rnn
    torch.manual_seed(0)
    t, f = _pair(cls, **kw)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    rng = np.random.default_rng(7)
    shape = (4, 5, 5) if kw.get("batch_first") else (5, 4, 5)
    x, tx = _leaf(rng.standard_normal(shape))
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h, th = _leaf(rng.standard_normal((layers, 4, kw.get("proj_size") or 7)))
    leaves = [(x, tx), (h, th)]
    f_hx, t_hx = h, th
    if cls == "LSTM":
        c, tc = _leaf(rng.standard_normal((layers, 4, 7)))
        leaves.append((c, tc))
        f_hx, t_hx = (h, c), (th, tc)
    bf = kw.get("batch_first", False)
    f_packed = f_rnn.pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=enforce_sorted)
    t_packed = t_rnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=bf, enforce_sorted=enforce_sorted)
    assert f_packed.batch_sizes.tolist() == t_packed.batch_sizes.tolist()
    np.testing.assert_array_equal(f_packed.data.numpy(), t_packed.data.detach().numpy())
    f_out, f_state = f(f_packed, f_hx)
    t_out, t_state = t(t_packed, t_hx)
    f_padded, f_lengths = f_rnn.pad_packed_sequence(f_out, batch_first=bf, total_length=6)
    t_padded, t_lengths = t_rnn.pad_packed_sequence(t_out, batch_first=bf, total_length=6)
    assert f_lengths.tolist() == t_lengths.tolist() == lengths
    _check((f_padded, f_state), (t_padded, t_state), leaves, f, t)


def test_pad_sequence_and_pack_sequence_match_torch():
    from torch.nn.utils import rnn as t_rnn

    from fastgrad.nn.utils import rnn as f_rnn
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    for kw in ({}, {"batch_first": True, "padding_value": -1.0}, {"padding_side": "left"}):
        np.testing.assert_array_equal(f_rnn.pad_sequence([fg.tensor(a, dtype=fg.float64) for a in arrays], **kw).numpy(),
                                      t_rnn.pad_sequence([torch.tensor(a) for a in arrays], **kw).numpy())
    f_packed = f_rnn.pack_sequence([fg.tensor(a, dtype=fg.float64) for a in arrays], enforce_sorted=False)
    t_packed = t_rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    np.testing.assert_array_equal(f_packed.data.numpy(), t_packed.data.numpy())
    assert f_packed.sorted_indices.tolist() == t_packed.sorted_indices.tolist()
    padded = f_rnn.pad_sequence([fg.tensor(a, dtype=fg.float64) for a in arrays], batch_first=True)
    assert [s.shape[0] for s in f_rnn.unpad_sequence(padded, [2, 4, 1], batch_first=True)] == [2, 4, 1]
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        f_rnn.pack_padded_sequence(fg.randn(4, 2, 3), [2, 4])
    with pytest.raises(RuntimeError, match="greater than 0"):
        f_rnn.pack_padded_sequence(fg.randn(4, 2, 3), [4, 0])
    with pytest.raises(ValueError, match="longer than the 4 steps"):
        f_rnn.pack_padded_sequence(fg.randn(4, 2, 3), [5, 2])
    with pytest.raises(ValueError, match="trailing dimensions differ"):
        f_rnn.pad_sequence([fg.randn(2, 3), fg.randn(2, 4)])

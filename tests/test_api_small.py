"""Small pieces of PyTorch's API that programs use in passing: size= keywords, legacy types in
.type(), printing options, finfo/iinfo, fill_diagonal_, ConcatDataset, parameters_to_vector and
vector_to_parameters, nn.init.orthogonal_."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import nn


def test_size_keyword_of_the_creation_functions():
    for make in (fg.zeros, fg.ones, fg.empty, fg.rand, fg.randn):
        assert make(size=(2, 3)).shape == (2, 3) and make(size=[4]).shape == (4,)
        with pytest.raises(TypeError, match="both"):
            make(2, size=(3,))


def test_type_takes_legacy_types_and_their_names():
    x = fg.ones(2)
    assert x.type(fg.LongTensor).dtype is fg.int64 and x.type(fg.DoubleTensor).dtype is fg.float64
    assert x.type("torch.LongTensor").dtype is fg.int64 and x.type(fg.float64).dtype is fg.float64
    assert x.type() == "fastgrad.float32"


def test_set_printoptions_changes_how_tensors_print():
    x = fg.tensor([1.123456789, 3.0])
    try:
        fg.set_printoptions(precision=2)
        assert "1.12" in repr(x) and "1.123" not in repr(x)
        fg.set_printoptions(threshold=5, edgeitems=1)
        assert "..." in repr(fg.arange(100))
        fg.set_printoptions(profile="full")
        assert "..." not in repr(fg.arange(2000))
        fg.set_printoptions(profile="default", sci_mode=False)
        assert "e-" not in repr(fg.tensor([1e-9, 1.0]))
        with pytest.raises(ValueError, match="profile"):
            fg.set_printoptions(profile="long")
        with pytest.raises(ValueError, match="precision"):
            fg.set_printoptions(precision=-1)
    finally:
        fg.set_printoptions(profile="default")
    assert "1.1235" in repr(x)   # PyTorch's default: 4 digits


def test_finfo_and_iinfo_match_pytorch():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((fg.float32, torch.float32), (fg.float64, torch.float64)):
        a, b = fg.finfo(ours), torch.finfo(theirs)
        assert (a.eps, a.max, a.min, a.tiny, a.bits, a.resolution) == (b.eps, b.max, b.min, b.tiny, b.bits, b.resolution)
    assert fg.finfo().eps == torch.finfo().eps
    assert (fg.iinfo(fg.int64).max, fg.iinfo(fg.int64).min) == (torch.iinfo(torch.int64).max, torch.iinfo(torch.int64).min)
    with pytest.raises(TypeError):
        fg.finfo(fg.int64)
    with pytest.raises(TypeError):
        fg.iinfo(fg.float32)


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((7, 3), True), ((7, 3), False), ((3, 5), True),
                                         ((2, 2, 2), False), ((1, 4), False)])
def test_fill_diagonal_matches_pytorch(shape, wrap):
    torch = pytest.importorskip("torch")
    ours = fg.arange(int(np.prod(shape)), dtype=fg.float32).reshape(shape).fill_diagonal_(-1.5, wrap=wrap)
    theirs = torch.arange(int(np.prod(shape)), dtype=torch.float32).reshape(shape).fill_diagonal_(-1.5, wrap=wrap)
    assert ours.tolist() == theirs.tolist()


def test_fill_diagonal_bad_shapes():
    with pytest.raises(RuntimeError, match="larger than 1"):
        fg.zeros(3).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match="equal length"):
        fg.zeros(2, 3, 2).fill_diagonal_(1)


def test_concat_dataset():
    a = fg.utils.data.TensorDataset(fg.arange(3))
    b = fg.utils.data.TensorDataset(fg.arange(10, 12))
    both = fg.utils.data.ConcatDataset([a, b])
    assert len(both) == 5 and both.cumulative_sizes == [3, 5]
    assert [both[i][0].item() for i in range(5)] == [0, 1, 2, 10, 11] and both[-1][0].item() == 11
    with pytest.raises(IndexError):
        both[5]
    with pytest.raises(ValueError):
        fg.utils.data.ConcatDataset([])
    batches = list(fg.utils.data.DataLoader(both, batch_size=2))
    assert [x.tolist() for (x,) in batches] == [[0, 1], [2, 10], [11]]


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (3 * 2 + 2 + 2 + 1,)
    np.testing.assert_array_equal(vec[:6].numpy(), model[0].weight.detach().numpy().ravel())
    nn.utils.vector_to_parameters(vec * 2, model.parameters())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(model.parameters()).numpy(), (vec * 2).numpy())
    with pytest.raises(ValueError, match="elements"):
        nn.utils.vector_to_parameters(fg.zeros(3), model.parameters())


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3)])
def test_orthogonal_init(shape):
    w = fg.empty(*shape, dtype=fg.float64)
    nn.init.orthogonal_(w, gain=2.0)
    flat = w.numpy().reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 4.0 * np.eye(min(flat.shape)), atol=1e-12)
    fg.manual_seed(3)
    first = nn.init.orthogonal_(fg.empty(3, 3)).numpy()
    fg.manual_seed(3)
    np.testing.assert_array_equal(first, nn.init.orthogonal_(fg.empty(3, 3)).numpy())   # from fastgrad's generator
    with pytest.raises(ValueError):
        nn.init.orthogonal_(fg.empty(3))


def test_retain_grad_keeps_a_non_leaf_gradient_and_accumulates():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (fg, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        out = (h * h).sum()
        out.retain_grad()
        assert h.retains_grad and not x.retains_grad
        out.backward()
        results.append((h.grad.tolist(), out.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1]
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    h.sum().backward()
    (h * h).sum().backward()   # a second pass through h: its .grad accumulates, x's too
    assert h.grad.tolist() == [1.0 + 6.0, 1.0 + 12.0] and x.grad.tolist() == [3.0 + 18.0, 3.0 + 36.0]
    u = x * 2   # not retained: consumed as before
    u.sum().backward()
    assert u.grad is None
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        fg.ones(2).retain_grad()


def test_reproducibility_switches_are_accepted():
    fg.backends.cudnn.deterministic, fg.backends.cudnn.benchmark = True, False
    assert fg.backends.cudnn.deterministic and not fg.backends.mps.is_available()
    fg.use_deterministic_algorithms(True)
    assert fg.are_deterministic_algorithms_enabled()
    fg.use_deterministic_algorithms(False)
    with pytest.raises(TypeError):
        fg.use_deterministic_algorithms("yes")
    fg.cuda.empty_cache()
    assert not fg.cuda.is_available()


def test_where_with_the_condition_alone_gives_indices():
    rows, cols = fg.where(fg.tensor([[1, 0], [2, 3]]) > 0)
    assert rows.tolist() == [0, 1, 1] and cols.tolist() == [0, 0, 1]
    with pytest.raises(TypeError, match="both"):
        fg.where(fg.ones(2) > 0, fg.ones(2))



def test_mixed_precision_api_and_other_dtype_names():
    from contextlib import nullcontext
    ptdtype = {"float32": fg.float32, "bfloat16": fg.bfloat16, "float16": fg.float16}["bfloat16"]   # nanoGPT's table
    ctx = nullcontext() if False else fg.amp.autocast(device_type="cpu", dtype=ptdtype)
    scaler = fg.cuda.amp.GradScaler(enabled=False)
    model = nn.Linear(3, 1)
    opt = fg.optim.SGD(model.parameters(), lr=0.5)
    with ctx:
        loss = model(fg.ones(2, 3)).sum()
    before = model.weight.detach().numpy().copy()
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(model.weight.detach().numpy(), before - 0.5 * 2.0, rtol=1e-6)
    with pytest.warns(UserWarning, match="disabling"):
        assert not fg.amp.GradScaler().is_enabled()
    with pytest.raises(TypeError, match="no bfloat16 tensors"):
        fg.zeros(2, dtype=fg.bfloat16)
    with pytest.raises(TypeError, match="no float16 tensors"):
        fg.ones(2).half()
    assert fg.zeros(2, dtype=fg.int32).dtype is fg.int64 and fg.uint8 is fg.int64
    fg.set_float32_matmul_precision("high")
    assert fg.get_float32_matmul_precision() == "high"
    with pytest.raises(ValueError):
        fg.set_float32_matmul_precision("low")


def test_jit_checkpoint_and_assert_close_names():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    assert fg.jit.script(model) is model and fg.jit.trace(model, fg.ones(1, 3)) is model and not fg.jit.is_scripting()
    x = fg.ones(2, 3, requires_grad=True)
    from fastgrad.utils.checkpoint import checkpoint, checkpoint_sequential
    checkpoint(model, x, use_reentrant=False).sum().backward()
    first = x.grad.numpy().copy()
    x.grad = None
    checkpoint_sequential(model, 2, x).sum().backward()
    np.testing.assert_array_equal(first, x.grad.numpy())
    fg.testing.assert_close(fg.ones(2), fg.ones(2) + 1e-7)
    fg.testing.assert_close([fg.ones(1)], [fg.ones(1)])
    with pytest.raises(AssertionError, match="not close"):
        fg.testing.assert_close(fg.ones(2), fg.ones(2) + 1e-3)
    with pytest.raises(AssertionError, match="dtypes"):
        fg.testing.assert_close(fg.ones(2), fg.ones(2, dtype=fg.float64))


def test_linspace_and_logspace_of_one_step_give_start():
    torch = pytest.importorskip("torch")
    for start, end in ((2, 3), (-1.5, 4.0), (5, 5)):
        assert fg.linspace(start, end, 1).tolist() == torch.linspace(start, end, 1).tolist()
    np.testing.assert_allclose(fg.logspace(0, 2, 1).numpy(), torch.logspace(0, 2, 1).numpy())
    fg.set_default_dtype(fg.float64)
    try:
        assert fg.logspace(0, 2, 3).dtype is fg.float64
    finally:
        fg.set_default_dtype(fg.float32)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "cumsum"])
def test_reductions_take_a_dtype_as_pytorch(name):
    """dtype= casts the input first: an integer tensor summed, averaged, multiplied in float64."""
    torch = pytest.importorskip("torch")
    a = np.array([[1, 2, 3], [4, 5, 7]])
    args = (1,) if name == "cumsum" else ()
    ours = getattr(fg.tensor(a), name)(*args, dtype=fg.float64)
    theirs = getattr(torch.tensor(a), name)(*args, dtype=torch.float64)
    assert ours.dtype is fg.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    np.testing.assert_allclose(getattr(fg, name)(fg.tensor(a), *args, dtype=fg.float32).numpy(), theirs.numpy())
    x = fg.tensor(a.astype(np.float32), requires_grad=True)   # the gradient flows back through the cast
    getattr(x, name)(*args, dtype=fg.float64).sum().backward()
    tx = torch.tensor(a.astype(np.float32), requires_grad=True)
    getattr(tx, name)(*args, dtype=torch.float64).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("values", [[1.5, 2.0], [1.0, 2.0], [1.0, 1e9], [0.001, 1000.5], [[1.25, -3.5], [7.0, 0.0]],
                                    3.25, [1e-5, 1.0], [123456.789], [True, False], [3, -40]])
def test_tensors_print_as_pytorchs(values):
    """PyTorch's float format: 4 fixed digits, integers as "1.", scientific where numpy would use it."""
    torch = pytest.importorskip("torch")
    assert repr(fg.tensor(values)) == repr(torch.tensor(values))


def test_a_computed_tensor_prints_its_grad_fn_and_a_0d_tensor_formats_as_its_number():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert f"{fg.tensor(2.5)}" == "2.5" and f"{fg.tensor(2.5):.3f}" == "2.500"


def test_normal_takes_tensor_means_and_stds():
    fg.manual_seed(0)
    mean, std = fg.arange(4.0).reshape(4, 1) * 10, fg.tensor([0.5, 1.0, 2.0])
    draws = fg.stack([fg.normal(mean, std) for _ in range(2000)]).numpy()   # (2000, 4, 3): broadcast
    assert draws.shape == (2000, 4, 3)
    np.testing.assert_allclose(draws.mean(0), np.broadcast_to(mean.numpy(), (4, 3)), atol=0.2)
    np.testing.assert_allclose(draws.std(0), np.broadcast_to(std.numpy(), (4, 3)), rtol=0.1)
    assert fg.normal(mean, 1.0).shape == (4, 1) and fg.normal(0.0, std).shape == (3,)
    fg.manual_seed(3)
    a = fg.normal(mean, std)
    fg.manual_seed(3)
    assert np.array_equal(a.numpy(), fg.normal(mean, std).numpy())
    with pytest.raises(RuntimeError, match="std >= 0"):
        fg.normal(mean, -std)


@pytest.mark.parametrize("call", ["x.sum(axis=0, keepdims=True)", "x.mean(axis=1)", "x.argmax(axis=1)",
                                  "lib.max(x, axis=1)[0]", "x.softmax(axis=1)", "lib.cat([x, x], axis=1)",
                                  "lib.stack([x, x], axis=0)", "x.std(axis=0)", "x.cumsum(axis=1)",
                                  "x.unsqueeze(axis=0)", "lib.argsort(x, axis=1)", "x.any(axis=0)"])
def test_numpy_keywords_axis_and_keepdims_as_pytorch_takes_them(call):
    """d2l and numpy-minded code write axis= and keepdims=; PyTorch takes them wherever it takes dim."""
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 5.0, 2.0], [3.0, 2.0, 4.0]], dtype=np.float32)
    ours = eval(call, {"lib": fg, "x": fg.tensor(a)})
    theirs = eval(call, {"lib": torch, "x": torch.tensor(a)})
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-6)


def test_dim_and_axis_together_is_an_error():
    with pytest.raises(TypeError, match="both dim= and axis="):
        fg.ones(2, 2).sum(dim=0, axis=0)


@pytest.mark.parametrize("pad, value", [((0, 2), 0), ((1, 1), 9), ((-1, 2), 0), ((1, -2, 1, 0), 4), ((2, 2, 1, 1), -1)])
def test_pad_pads_token_ids_and_masks_as_pytorch(pad, value):
    torch = pytest.importorskip("torch")
    ids = np.array([[5, 6, 7], [1, 2, 3]])
    ours = fg.nn.functional.pad(fg.tensor(ids), pad, value=value)
    assert ours.dtype is fg.int64
    assert ours.tolist() == torch.nn.functional.pad(torch.tensor(ids), pad, value=value).tolist()
    mask = np.array([[True, False, True]])
    assert (fg.nn.functional.pad(fg.tensor(mask), pad[:2]).tolist()
            == torch.nn.functional.pad(torch.tensor(mask), pad[:2]).tolist())


def test_legacy_tensor_new_makes_hidden_states():
    """weight.new(layers, batch, hidden).zero_(): char-RNN code's initial hidden state."""
    w = fg.randn(3, 4, dtype=fg.float64)
    h = w.new(2, 5, 7).zero_()
    assert h.shape == (2, 5, 7) and h.dtype is fg.float64 and not h.numpy().any()
    assert w.new((2, 3)).shape == (2, 3) and w.new().shape == (0,)
    assert w.new([1, 2]).tolist() == [1.0, 2.0] and w.new([1, 2]).dtype is fg.float64

"""The everyday tensor API: dtypes and promotion, in-place updates and their autograd rules,
.data, metadata that cannot be changed, devices, pickling."""
import copy
import pickle

import numpy as np
import pytest

import fastgrad as fg


# ---- dtypes ------------------------------------------------------------------------------------------
def test_constructor_dtypes_follow_pytorch():
    assert fg.tensor([3, 1, 2]).dtype is fg.int64
    assert fg.tensor([True, False]).dtype is fg.bool
    assert fg.tensor([1.5, 2]).dtype is fg.float32
    assert fg.tensor(np.zeros(2)).dtype is fg.float32           # numpy float64 too: fastgrad's default
    assert fg.tensor(np.arange(3, dtype=np.int32)).dtype is fg.int64
    assert fg.tensor(3).dtype is fg.int64 and fg.tensor(3).item() == 3 and isinstance(fg.tensor(3).item(), int)
    assert fg.long is fg.int64 and fg.float is fg.float32 and fg.double is fg.float64


def test_integer_data_with_requires_grad_becomes_float_but_an_explicit_int_dtype_is_refused():
    t = fg.tensor([[6, 5, 4], [3, 2, 1]], requires_grad=True)   # the tutorial's worked example
    assert t.dtype is fg.float32 and t.requires_grad
    with pytest.raises(RuntimeError, match="floating-point"):
        fg.tensor([1, 2], dtype=fg.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating-point"):
        fg.tensor([1, 2]).requires_grad_()


def test_conversions():
    t = fg.tensor([1.7, -2.5, 0.0])
    assert t.long().tolist() == [1, -2, 0] and t.long().dtype is fg.int64
    assert t.bool().tolist() == [True, True, False]
    assert t.double().dtype is fg.float64 and t.to(fg.float64).dtype is fg.float64
    assert t.to("cpu") is t and t.cpu() is t and t.to(t) is t
    assert t.to("cpu", fg.int64).dtype is fg.int64
    assert fg.tensor([True, False]).float().tolist() == [1.0, 0.0]
    assert t.type() == "fastgrad.float32" and t.type(fg.int64).dtype is fg.int64


def test_gradient_flows_through_a_float_conversion():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3.0).sum().backward()
    assert x.grad.dtype is fg.float32 and x.grad.tolist() == [3.0, 3.0]


def test_promotion():
    i, f = fg.tensor([1, 2]), fg.tensor([0.5, 0.5])
    assert (i + 1).dtype is fg.int64 and (i + 1).tolist() == [2, 3]
    assert (i * 2.5).dtype is fg.float32 and (i * 2.5).tolist() == [2.5, 5.0]
    assert (i + f).dtype is fg.float32 and (i + f).tolist() == [1.5, 2.5]
    assert (i / 2).dtype is fg.float32 and (i / 2).tolist() == [0.5, 1.0]   # true division
    mask = fg.tensor([True, False])
    assert (f * mask).tolist() == [0.5, 0.0] and (mask + i).dtype is fg.int64


def test_float32_with_float64_widens_as_in_pytorch_and_gradients_flow_back():
    """float64 wins, except over a dimensioned float32 when it is 0-d; cat widens; in place keeps the
    tensor's dtype. Gradients come back in each input's own dtype."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3)
    fa, fb = fg.tensor(a, requires_grad=True), fg.tensor(b, dtype=fg.float64, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    for f in (lambda lib, x, y: x * y, lambda lib, x, y: x - y, lambda lib, x, y: lib.cat([x, y])):
        ours, theirs = f(fg, fa, fb), f(torch, ta, tb)
        assert ours.dtype is fg.float64 and theirs.dtype is torch.float64
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
        ours.sum().backward()
        theirs.sum().backward()
    assert fa.grad.dtype is fg.float32 and fb.grad.dtype is fg.float64
    np.testing.assert_allclose(fa.grad.numpy(), ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(fb.grad.numpy(), tb.grad.numpy(), rtol=1e-6)
    assert (fa * fg.tensor(2.0, dtype=fg.float64)).dtype is fg.float32   # a 0-d float64 takes the other's dtype
    assert (fg.tensor(2.0) * fb).dtype is fg.float64
    assert (fa < fb).tolist() == (ta < tb).tolist()
    for loss in ("mse_loss", "l1_loss", "binary_cross_entropy_with_logits"):   # a float64 target: in float64
        ours = getattr(fg.nn.functional, loss)(fa.detach(), fb.detach().sigmoid())
        theirs = getattr(torch.nn.functional, loss)(ta.detach(), tb.detach().sigmoid())
        assert ours.dtype is fg.float64 and theirs.dtype is torch.float64
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    x = fg.zeros(3)
    x += fb.detach()
    assert x.dtype is fg.float32 and np.allclose(x.numpy(), b.astype(np.float32))


# ---- metadata ----------------------------------------------------------------------------------------
def test_metadata_is_read_only():
    x = fg.ones(2, 2)
    for name, value in (("shape", (3000, 3000)), ("dtype", fg.float64)):
        with pytest.raises(AttributeError):
            setattr(x, name, value)
    assert x.size() == (2, 2) and x.size(-1) == 2 and x.numel() == 4 and x.dim() == 2
    with pytest.raises(IndexError, match="out of range"):
        x.size(2)


# ---- in place ----------------------------------------------------------------------------------------
def test_in_place_operators_update_the_parameter_itself():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    params = [w]
    (w * w).sum().backward()
    with fg.no_grad():
        for p in params:
            p -= p.grad * 0.5
    assert params[0] is w and w.tolist() == [0.0, 0.0]
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad():
    w = fg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf"):
        w.zero_()


def test_in_place_on_a_non_leaf_is_recorded():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y += x            # torchvision's `out += identity`
    y *= 2.0
    y.sum().backward()
    assert x.grad.tolist() == [8.0, 8.0]


def test_writing_a_saved_tensor_in_place_makes_backward_refuse():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = h * h          # Mul saves h
    h += 1             # rebinds h in place: Mul's input changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    a = fg.tensor([1.0, 2.0], requires_grad=True)
    b = a * a
    with fg.no_grad():
        a.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_writing_an_input_whose_values_backward_does_not_need_is_fine():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    z = (y + 1.0).sum() + y[0]   # Add, Sum and the gather need y's shape only
    with fg.no_grad():
        y += 5                   # ... so writing y's storage afterwards leaves their backward valid
    z.backward()
    assert x.grad.tolist() == [2.0, 1.0, 1.0]
    with fg.no_grad():
        y.mul_(2)                # a storage write: the Add and Sum recorded above still need no values
    x.grad = None
    (y + 1.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_an_in_place_op_recorded_on_a_tensor_an_earlier_op_used_makes_backward_refuse():
    """The engine follows tensors: once v took over the in-place node, the path from earlier users
    of v through its old node is gone, so backward refuses rather than give a wrong gradient.
    Indexing and movement ops record an alias of the node they read, so writes through them work."""
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = x * 1.0
    w[fg.tensor([0, 2])] += fg.tensor([1.0, 1.0])   # reads w (a gather), then writes it (recorded)
    w[1].mul_(3.0)                                 # a write through a basic index reaches w
    (w * w).sum().backward()
    assert w.tolist() == [2.0, 6.0, 4.0] and x.grad.tolist() == [4.0, 36.0, 8.0]
    v = x * 1.0
    s = v + 1.0
    v += x
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def test_in_place_results_must_keep_shape_and_dtype():
    i = fg.tensor([1, 2])
    with pytest.raises(TypeError, match="can't be cast"):
        i += 0.5
    i += 1
    assert i.tolist() == [2, 3]
    x = fg.zeros(3)
    with pytest.raises(ValueError, match="keep the tensor's shape"):
        x += fg.ones(2, 3)
    x += fg.ones(3)
    assert x.tolist() == [1.0, 1.0, 1.0]


def test_fill_copy_and_views_see_writes():
    x = fg.zeros(2, 3)
    v = x.reshape(6)
    x.fill_(2.5)
    assert v.tolist() == [2.5] * 6
    x.copy_(fg.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2
    x.copy_(np.full((2, 3), -0.0))
    assert np.signbit(x.numpy()).all()
    x.zero_()
    assert v.tolist() == [0.0] * 6


def test_data_shares_storage_and_can_be_assigned():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert not d.requires_grad
    d.mul_(2)
    assert w.tolist() == [2.0, 4.0]
    w.data = fg.tensor([7.0, 8.0, 9.0])
    assert w.shape == (3,) and w.tolist() == [7.0, 8.0, 9.0] and w.requires_grad


# ---- scalars out, devices, pickling ------------------------------------------------------------------
def test_one_element_conversions():
    loss = fg.tensor(0.123456)
    assert f"{loss:.3f}" == "0.123" and float(loss) == pytest.approx(0.123456)
    assert int(fg.tensor(3)) == 3 and [10, 20, 30][fg.tensor(1)] == 20
    assert bool(fg.tensor([1.0])) and not bool(fg.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(fg.ones(2))
    with pytest.raises(TypeError, match="integer tensors"):
        [1, 2][fg.tensor(1.0)]


def test_devices():
    assert not fg.cuda.is_available()
    cpu = fg.device("cpu")
    assert str(cpu) == "cpu" and fg.zeros(2, device=cpu).device == cpu
    assert fg.tensor([1.0], device="cpu").device.type == "cpu"
    with pytest.raises(RuntimeError, match="CPU only"):
        fg.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        fg.ones(2).to("cuda:0")


def test_pickle_and_deepcopy():
    w = fg.tensor([[1.0, 2.0]], requires_grad=True)
    w.grad = fg.tensor([[0.5, 0.5]])
    for clone in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w)):
        assert clone is not w and clone.tolist() == w.tolist() and clone.requires_grad
        assert clone.grad.tolist() == [[0.5, 0.5]]
    model = fg.nn.Sequential(fg.nn.Linear(2, 3), fg.nn.ReLU())
    twin = copy.deepcopy(model)
    assert np.array_equal(twin[0].weight.numpy(), model[0].weight.numpy())
    with fg.no_grad():
        twin[0].weight.fill_(0)
    assert not np.array_equal(twin[0].weight.numpy(), model[0].weight.numpy())

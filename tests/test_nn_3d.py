"""The 3-D convolutional family (conv3d, conv_transpose3d, the 3-D pools, BatchNorm3d, InstanceNorm3d,
Dropout3d, the 3-D pads), the *_with_indices forms, max unpooling and LP pooling, and the conv
modules' padding_mode: each against PyTorch (outputs, indices, every gradient, float32 and float64),
float64 gradient checks, the same bits for 1 and 2 threads, a captured step, and clear errors."""
import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op
from test_cnn_more import DTYPES, parity, same_bits_for_threads

torch = pytest.importorskip("torch")
TF = torch.nn.functional
F = fg.nn.functional


def T(a, **kw):
    """fg.tensor of a numpy array keeping float64 (fg.tensor's default is float32)."""
    a = np.asarray(a)
    return fg.tensor(a, dtype=fg.float64 if a.dtype.kind == "f" else None, **kw)


# ---- conv3d --------------------------------------------------------------------------------------------
CONV3D = [
    dict(x=(2, 3, 5, 6, 7), w=(4, 3, 3, 2, 3)),
    dict(x=(1, 2, 4, 5, 5), w=(3, 2, 2, 3, 2), stride=(2, 1, 2), padding=(1, 0, 2), dilation=(1, 2, 1)),
    dict(x=(2, 4, 3, 4, 5), w=(6, 2, 1, 3, 3), groups=2, padding=1),
    dict(x=(3, 3, 5, 5), w=(2, 3, 3, 3, 3), padding="same", dilation=(2, 1, 1)),   # unbatched
    dict(x=(1, 1, 4, 4, 4), w=(2, 1, 2, 2, 2), padding="same"),   # even kernel: the odd padding at the end
    dict(x=(2, 2, 3, 3, 3), w=(2, 2, 3, 3, 3), padding="valid", bias=False),
    dict(x=(0, 2, 3, 3, 3), w=(2, 2, 2, 2, 2)),   # empty batch
    dict(x=(2, 16, 1, 6, 6), w=(16, 16, 1, 3, 3), padding=(0, 1, 1)),   # a depth-1 3x3: the 2-D fast path's shape
    dict(x=(1, 2, 1, 4, 4), w=(2, 2, 1, 3, 3), padding=(1, 1, 1), stride=(3, 1, 1)),   # depth wholly padding
]


@pytest.mark.parametrize("case", CONV3D, ids=lambda c: f"{c['x']}-{c['w']}")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conv3d_matches_torch(case, dtype):
    kw = {k: v for k, v in case.items() if k not in ("x", "w", "bias")}
    shapes = [case["x"], case["w"]] + ([(case["w"][0],)] if case.get("bias", True) else [])
    parity(lambda *t: F.conv3d(*t, **kw), lambda *t: TF.conv3d(*t, **kw), *shapes, dtype=dtype,
           rtol=1e-4 if dtype[0] is fg.float32 else None, atol=1e-4 if dtype[0] is fg.float32 else None)


def test_conv3d_gradcheck():
    check_op(lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1), dilation=(2, 1, 1)),
             lambda x, w, b: TF.conv3d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=(1, 2, 1),
                                       padding=(1, 0, 1), dilation=(2, 1, 1)).numpy(),
             (2, 2, 4, 5, 3), (3, 2, 2, 2, 2), (3,))


def test_conv3d_same_bits_for_threads():
    same_bits_for_threads(lambda x, w: F.conv3d(x, w, padding=1), (8, 3, 6, 6, 6), (8, 3, 3, 3, 3))


CONVT3D = [
    dict(x=(2, 3, 3, 4, 2), w=(3, 2, 2, 3, 2)),
    dict(x=(1, 4, 3, 3, 3), w=(4, 1, 3, 2, 3), stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2),
         groups=2, dilation=(1, 2, 1)),
    dict(x=(2, 3, 3, 3), w=(2, 2, 2, 2, 2), stride=2),   # unbatched
]


@pytest.mark.parametrize("case", CONVT3D, ids=lambda c: f"{c['x']}-{c['w']}")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conv_transpose3d_matches_torch(case, dtype):
    kw = {k: v for k, v in case.items() if k not in ("x", "w")}
    cout = case["w"][1] * kw.get("groups", 1)
    parity(lambda *t: F.conv_transpose3d(*t, **kw), lambda *t: TF.conv_transpose3d(*t, **kw), case["x"], case["w"],
           (cout,), dtype=dtype, rtol=1e-4 if dtype[0] is fg.float32 else None,
           atol=1e-4 if dtype[0] is fg.float32 else None)


def test_conv_transpose3d_gradcheck():
    check_op(lambda x, w: F.conv_transpose3d(x, w, stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 0)),
             lambda x, w: TF.conv_transpose3d(torch.tensor(x), torch.tensor(w), stride=(2, 1, 2), padding=(0, 1, 1),
                                              output_padding=(1, 0, 0)).numpy(),
             (1, 2, 2, 3, 3), (2, 3, 2, 3, 2))


# ---- modules: Conv3d / ConvTranspose3d with PyTorch's weights, padding_mode ---------------------------
def copy_params(module, ref):
    """ref's parameters and buffers into module (same names), as float64."""
    own = dict(module.named_parameters())
    own.update(module.named_buffers())
    for name, t in list(ref.named_parameters()) + list(ref.named_buffers()):
        own[name].data = fg.tensor(t.detach().numpy(), dtype=own[name].dtype)


def module_parity(module, ref, shape, seed=0, tol=1e-10, train=True):
    """module and the torch module ref (float64, same weights) on one input: outputs, input gradients and
    parameter gradients agree."""
    ref = ref.double()
    module = module.double()
    copy_params(module, ref)
    module.train(train)
    ref.train(train)
    a = np.random.default_rng(seed).standard_normal(shape)
    x, t = T(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, expected = module(x), ref(t)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(seed + 1).standard_normal(out.shape)
    out.backward(T(g))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
    params = dict(module.named_parameters())
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(params[name].grad.numpy(), p.grad.numpy(), rtol=tol, atol=tol, err_msg=name)
    return module


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (0, 1, 2), "same", "valid"], ids=str)
def test_conv3d_module_padding_modes(mode, padding):
    kw = dict(kernel_size=(3, 2, 3), padding=padding, padding_mode=mode, groups=1)
    torch.manual_seed(0)
    ref = torch.nn.Conv3d(2, 4, **kw)
    module_parity(fg.nn.Conv3d(2, 4, **kw), ref, (2, 2, 4, 5, 5))


@pytest.mark.parametrize("cls", ["Conv1d", "Conv2d"])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes_in_1d_and_2d(cls, mode):
    spatial = int(cls[-2])
    torch.manual_seed(1)
    ref = getattr(torch.nn, cls)(3, 2, 3, padding=2, dilation=2, padding_mode=mode)
    module_parity(getattr(fg.nn, cls)(3, 2, 3, padding=2, dilation=2, padding_mode=mode), ref,
                  (2, 3) + (7,) * spatial)


def test_conv_transpose3d_module_and_output_size():
    torch.manual_seed(2)
    ref = torch.nn.ConvTranspose3d(3, 4, (2, 3, 2), stride=2, padding=(0, 1, 0), groups=1, dilation=1)
    m = module_parity(fg.nn.ConvTranspose3d(3, 4, (2, 3, 2), stride=2, padding=(0, 1, 0)), ref, (1, 3, 2, 3, 3))
    a = np.random.default_rng(0).standard_normal((1, 3, 2, 3, 3))
    for size in [(5, 6, 7), (1, 4, 4, 5, 6)]:
        out = m(T(a), output_size=size)
        expected = ref(torch.tensor(a), output_size=size)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="output size"):
        m(T(a), output_size=(9, 9, 9))
    with pytest.raises(ValueError, match="zeros"):
        fg.nn.ConvTranspose3d(3, 4, 2, padding_mode="reflect")


def test_conv_module_attributes_are_tuples_as_torch():
    for cls, args in (("Conv3d", (2, 4, 3)), ("Conv2d", (2, 4, (3, 1))), ("ConvTranspose3d", (2, 4, 3)),
                      ("Conv1d", (2, 4, 3))):
        ours, ref = getattr(fg.nn, cls)(*args, stride=2), getattr(torch.nn, cls)(*args, stride=2)
        for name in ("kernel_size", "stride", "padding", "dilation"):
            assert getattr(ours, name) == getattr(ref, name), (cls, name)
        assert ours.weight.shape == tuple(ref.weight.shape)
        assert repr(ours) == repr(ref)


def test_conv3d_bad_arguments():
    with pytest.raises(ValueError, match="padding_mode"):
        fg.nn.Conv3d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        fg.nn.Conv3d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding string"):
        fg.nn.Conv3d(2, 2, 3, padding="full")
    with pytest.raises(TypeError, match="triple"):
        F.conv3d(fg.randn(1, 2, 4, 4, 4), fg.randn(2, 2, 3, 3, 3), stride=(1, 1))
    with pytest.raises(ValueError, match=r"\(N, C, D, H, W\)"):
        F.conv3d(fg.randn(2, 4, 4, 4, 4, 4), fg.randn(2, 2, 3, 3, 3))
    with pytest.raises(ValueError, match="channels"):
        F.conv3d(fg.randn(1, 3, 4, 4, 4), fg.randn(2, 2, 3, 3, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv3d(fg.randn(1, 2, 2, 4, 4), fg.randn(2, 2, 3, 3, 3))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.conv3d(fg.randn(1, 2, 4, 4, 4), fg.randn(2, 2, 3, 3))


# ---- 3-D pools -------------------------------------------------------------------------------------------
MAXPOOL3D = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2, 2), stride=(1, 2, 1), padding=(1, 0, 1)),
    dict(kernel_size=3, stride=2, padding=1, dilation=(2, 1, 1), ceil_mode=True),
    dict(kernel_size=(2, 3, 2), stride=(2, 2, 3), ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAXPOOL3D, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 4, 5, 6)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_max_pool3d_matches_torch(kw, shape, dtype):
    parity(lambda x: F.max_pool3d(x, return_indices=True, **kw), lambda x: TF.max_pool3d(x, return_indices=True, **kw),
           shape, dtype=dtype, exact=True)
    parity(lambda x: F.max_pool3d_with_indices(x, **kw), lambda x: TF.max_pool3d_with_indices(x, **kw), shape,
           dtype=dtype, exact=True)


AVGPOOL3D = [
    dict(kernel_size=2),
    dict(kernel_size=(3, 2, 3), stride=(1, 2, 2), padding=(1, 1, 0)),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 2, 3), padding=1, divisor_override=5),
    dict(kernel_size=2, stride=1, divisor_override=-3),
]


@pytest.mark.parametrize("kw", AVGPOOL3D, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_avg_pool3d_matches_torch(kw, dtype):
    parity(lambda x: F.avg_pool3d(x, **kw), lambda x: TF.avg_pool3d(x, **kw), (2, 3, 5, 6, 7), dtype=dtype)


@pytest.mark.parametrize("kw", [dict(kernel_size=2, divisor_override=3),
                                dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, divisor_override=2)],
                         ids=str)
def test_avg_pool2d_divisor_override(kw):
    parity(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), (2, 3, 7, 6))
    module_parity(fg.nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw), (1, 2, 5, 6))


@pytest.mark.parametrize("size", [2, (3, 1, 4), (None, 2, 5), (7, 6, 3)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_adaptive_pools3d_match_torch(size, dtype):
    shape = (2, 3, 5, 4, 7)
    parity(lambda x: F.adaptive_avg_pool3d(x, size), lambda x: TF.adaptive_avg_pool3d(x, size), shape, dtype=dtype)
    parity(lambda x: F.adaptive_max_pool3d(x, size, return_indices=True),
           lambda x: TF.adaptive_max_pool3d(x, size, return_indices=True), shape, dtype=dtype, exact=True)
    parity(lambda x: F.adaptive_max_pool3d_with_indices(x, size),
           lambda x: TF.adaptive_max_pool3d_with_indices(x, size), shape[1:], dtype=dtype, exact=True)


@pytest.mark.parametrize("spatial", [1, 2])
def test_with_indices_forms_in_1d_and_2d(spatial):
    shape = (2, 3) + (7,) * spatial
    fn = f"max_pool{spatial}d_with_indices"
    parity(lambda x: getattr(F, fn)(x, 3, 2, 1), lambda x: getattr(TF, fn)(x, 3, 2, 1), shape, exact=True)
    fn = f"adaptive_max_pool{spatial}d_with_indices"
    parity(lambda x: getattr(F, fn)(x, 3), lambda x: getattr(TF, fn)(x, 3), shape, exact=True)


def test_pools3d_gradcheck():
    check_op(lambda x: F.avg_pool3d(x, (2, 3, 2), (1, 2, 1), (1, 1, 0), ceil_mode=True, count_include_pad=False),
             lambda x: TF.avg_pool3d(torch.tensor(x), (2, 3, 2), (1, 2, 1), (1, 1, 0), ceil_mode=True,
                                     count_include_pad=False).numpy(), (1, 2, 4, 5, 4))
    check_op(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)),
             lambda x: TF.adaptive_avg_pool3d(torch.tensor(x), (2, 3, 2)).numpy(), (2, 1, 5, 4, 3))
    check_op(lambda x: F.max_pool3d(x, 2, 1, 1), lambda x: TF.max_pool3d(torch.tensor(x), 2, 1, 1).numpy(),
             (1, 2, 3, 4, 3))


def test_pool3d_modules_match_torch():
    for ours, ref in ((fg.nn.MaxPool3d(3, 2, 1), torch.nn.MaxPool3d(3, 2, 1)),
                      (fg.nn.AvgPool3d(2, divisor_override=3), torch.nn.AvgPool3d(2, divisor_override=3)),
                      (fg.nn.AdaptiveAvgPool3d((2, None, 3)), torch.nn.AdaptiveAvgPool3d((2, None, 3))),
                      (fg.nn.AdaptiveMaxPool3d(2), torch.nn.AdaptiveMaxPool3d(2))):
        module_parity(ours, ref, (2, 3, 5, 6, 7))
    out, at = fg.nn.MaxPool3d(2, return_indices=True)(fg.randn(1, 2, 4, 4, 4))
    assert at.dtype is fg.int64 and out.shape == at.shape == (1, 2, 2, 2, 2)


def test_pool3d_same_bits_for_threads():
    same_bits_for_threads(lambda x: F.max_pool3d(x, 3, 2, 1).sum() + F.avg_pool3d(x, 2).sum(), (4, 16, 9, 9, 9))


def test_pool3d_errors():
    with pytest.raises(TypeError, match="triple"):
        F.max_pool3d(fg.randn(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool3d(fg.randn(1, 1, 4, 4, 4), 2, padding=(0, 2, 0))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.avg_pool3d(fg.randn(1, 1, 1, 4, 4), 2)
    with pytest.raises(ValueError, match="non-zero"):
        F.avg_pool3d(fg.randn(1, 1, 4, 4, 4), 2, divisor_override=0)
    with pytest.raises(TypeError, match="divisor_override"):
        F.avg_pool2d(fg.randn(1, 1, 4, 4), 2, divisor_override=1.5)
    with pytest.raises(ValueError, match="empty plane"):
        F.adaptive_avg_pool3d(fg.randn(1, 1, 0, 4, 4), 2)
    with pytest.raises(ValueError, match=r"\(N, C, D, H, W\)"):
        F.adaptive_max_pool3d(fg.randn(4, 4), 2)


# ---- max unpooling and LP pooling -------------------------------------------------------------------------
@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("output_size", [None, "bigger"])
def test_max_unpool_matches_torch(spatial, output_size):
    shape = (2, 3) + (5, 6, 4)[:spatial]
    a = np.random.default_rng(spatial).standard_normal(shape)
    pool, unpool = getattr(TF, f"max_pool{spatial}d"), getattr(TF, f"max_unpool{spatial}d")
    _, at = pool(torch.tensor(a), 2, 2, return_indices=True)
    if output_size == "bigger":
        output_size = shape[2:]   # the pooled input's odd sizes back
    ours = fg.tensor(at.numpy())
    parity(lambda v: getattr(F, f"max_unpool{spatial}d")(v, ours, 2, output_size=output_size),
           lambda v: unpool(v, at, 2, output_size=output_size), tuple(at.shape), exact=True)
    module = getattr(fg.nn, f"MaxUnpool{spatial}d")(2)
    ref = getattr(torch.nn, f"MaxUnpool{spatial}d")(2)
    v = np.random.default_rng(0).standard_normal(tuple(at.shape))
    np.testing.assert_array_equal(module(T(v), ours, output_size).numpy(),
                                  ref(torch.tensor(v), at, output_size).numpy())
    assert repr(module) == repr(ref)


def test_max_unpool_round_trip_and_errors():
    x = fg.rand(1, 2, 4, 4) + 0.1   # positive: the zeros unpooling adds never win the pool again
    out, at = F.max_pool2d(x, 2, return_indices=True)
    up = F.max_unpool2d(out, at, 2)
    assert up.shape == (1, 2, 4, 4)
    np.testing.assert_array_equal(F.max_pool2d(up, 2).numpy(), out.numpy())
    with pytest.raises(ValueError, match="output_size"):
        F.max_unpool2d(out, at, 2, output_size=(9, 9))
    with pytest.raises(IndexError, match="invalid max index"):
        F.max_unpool2d(out, at * 100, 2)
    with pytest.raises(ValueError, match="shape"):
        F.max_unpool2d(out, at[:, :1], 2)
    with pytest.raises(TypeError, match="int64"):
        F.max_unpool2d(out, out, 2)


@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("norm_type", [2.0, 1.5, 3])
def test_lp_pool_matches_torch(spatial, norm_type):
    shape = (2, 3) + (6, 7, 5)[:spatial]
    kw = dict(kernel_size=3 if spatial == 1 else (2, 3, 2)[:spatial], stride=None if spatial == 1 else 2,
              ceil_mode=spatial == 2)   # (PyTorch's lp_pool1d takes an int kernel_size only)
    fn = f"lp_pool{spatial}d"
    rng = np.random.default_rng(0)
    a = rng.uniform(0.2, 2.0, shape)   # positive: fractional powers of negatives are nan in both
    x, t = T(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = getattr(F, fn)(x, norm_type, **kw), getattr(TF, fn)(t, norm_type, **kw)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    m, r = getattr(fg.nn, f"LPPool{spatial}d")(norm_type, **kw), getattr(torch.nn, f"LPPool{spatial}d")(norm_type, **kw)
    np.testing.assert_allclose(m(T(a)).numpy(), r(torch.tensor(a)).numpy(), rtol=1e-10)


# ---- norms, dropout, pads ------------------------------------------------------------------------------------
@pytest.mark.parametrize("train", [True, False])
def test_batch_norm3d_matches_torch(train):
    torch.manual_seed(0)
    ref = torch.nn.BatchNorm3d(3)
    ref.running_mean.uniform_(-1, 1)
    ref.running_var.uniform_(0.5, 2)
    ref.weight.data.uniform_(0.5, 2)
    m = module_parity(fg.nn.BatchNorm3d(3), ref, (2, 3, 3, 4, 5), train=train)
    np.testing.assert_allclose(m.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(m.running_var.numpy(), ref.running_var.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="5-d"):
        m(fg.randn(3, 3, 3, 3))


@pytest.mark.parametrize("kw", [{}, dict(affine=True), dict(affine=True, track_running_stats=True)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 3, 4, 5), (3, 2, 4, 5)], ids=str)
def test_instance_norm3d_matches_torch(kw, shape):
    torch.manual_seed(0)
    module_parity(fg.nn.InstanceNorm3d(3, **kw), torch.nn.InstanceNorm3d(3, **kw), shape)


def test_dropout3d():
    fg.manual_seed(0)
    x = fg.ones(4, 8, 2, 3, 2, requires_grad=True)
    out = F.dropout3d(x, 0.5)
    values = out.numpy().reshape(4, 8, -1)
    assert set(np.unique(values)) <= {0.0, 2.0}
    assert all(len(set(v)) == 1 for v in values.reshape(32, -1))   # whole channels
    assert 0 < (values == 0).sum() < values.size
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
    m = fg.nn.Dropout3d(0.3)
    m.eval()
    assert m(x) is x
    assert repr(m) == repr(torch.nn.Dropout3d(0.3))
    with pytest.raises(ValueError, match="D, H, W"):
        F.dropout3d(fg.ones(2, 3, 4), 0.5)


PADS3D = [("ConstantPad3d", (1, 0, 2, 1, 0, 1), 2.5), ("ZeroPad3d", 1, None),
          ("ReflectionPad3d", (1, 2, 0, 1, 2, 1), None),
          ("ReplicationPad3d", 2, None), ("CircularPad3d", (1, 1, 2, 0, 0, 1), None), ("ZeroPad1d", (2, 3), None),
          ("ZeroPad1d", 1, None)]


@pytest.mark.parametrize("name, padding, value", PADS3D, ids=lambda v: str(v))
def test_pad_modules_match_torch(name, padding, value):
    args = (padding,) if value is None else (padding, value)
    ours, ref = getattr(fg.nn, name)(*args), getattr(torch.nn, name)(*args)
    shape = (2, 3, 5) if name == "ZeroPad1d" else (2, 2, 3, 4, 5)
    module_parity(ours, ref, shape)
    assert repr(ours) == repr(ref)


# ---- a captured step replays the 3-D layers to the eager bits --------------------------------------------------
def test_compiled_step_with_3d_layers():
    fg.manual_seed(0)
    model = fg.nn.Sequential(fg.nn.Conv3d(2, 4, 3, padding=1), fg.nn.BatchNorm3d(4), fg.nn.RReLU(),
                             fg.nn.MaxPool3d(2), fg.nn.AvgPool3d(1, divisor_override=1), fg.nn.Dropout3d(0.2),
                             fg.nn.AdaptiveAvgPool3d(1), fg.nn.Flatten(), fg.nn.Linear(4, 3))
    opt = fg.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    batches = [(fg.tensor(rng.standard_normal((2, 2, 4, 4, 4)).astype(np.float32)), fg.tensor([0, 2]))
               for _ in range(4)]
    state = [p.detach().clone() for p in model.parameters()]
    fg.manual_seed(1)
    eager = [step(*b).item() for b in batches]
    for p, s in zip(model.parameters(), state):
        p.data = s.clone()
    fg.manual_seed(1)
    compiled = fg.compile(step)
    replayed = [compiled(*b).item() for b in batches]
    assert replayed == eager


def test_same_bits_across_threads_for_conv_transpose3d():
    same_bits_for_threads(lambda x, w: F.conv_transpose3d(x, w, stride=2), (4, 8, 4, 4, 4), (8, 4, 3, 3, 3))

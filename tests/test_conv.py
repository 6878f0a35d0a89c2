"""Convolution, pooling, batch norm and Dropout2d: gradient checks against numpy references in
float64, parity with PyTorch (forward, every gradient, running statistics, state_dicts both ways)
over random geometries, same bits for any thread count, every kernel path."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

F = fg.nn.functional


# ---- numpy references -------------------------------------------------------------------------
def np_conv2d(x, w, b=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """pads: ((top, bottom), (left, right))."""
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    n, c, h, wd = xp.shape
    cout, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (wd - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, cout, oh, ow))
    cog = cout // groups
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                           j * dw:j * dw + sw * (ow - 1) + 1:sw]
                out[:, g * cog:(g + 1) * cog] += np.einsum("ncyx,oc->noyx", patch, w[g * cog:(g + 1) * cog, :, i, j])
    return out if b is None else out + b[None, :, None, None]


def np_pool2d(x, k, s, p, kind):
    """max or avg (padding counted) pooling of (n, c, h, w), square windows."""
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    oh, ow = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    windows = np.stack([xp[:, :, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s]
                        for i in range(k) for j in range(k)])
    return windows.max(axis=0) if kind == "max" else windows.mean(axis=0)


def np_batch_norm_train(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


# ---- gradient checks --------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", [
    ((2, 3, 5, 4), (4, 3, 3, 3), 1, 1, 1, 1),
    ((1, 2, 7, 5), (3, 2, 2, 3), (2, 1), (0, 2), (1, 2), 1),
    ((2, 4, 5, 5), (4, 2, 3, 1), 2, 1, 1, 2),
    ((2, 3, 4, 6), (3, 1, 3, 3), 1, 1, 2, 3),          # depthwise
    ((3, 1, 2, 2), (2, 1, 3, 3), 1, 1, 1, 1),          # image smaller than the kernel, padded
    ((1, 2, 1, 1), (2, 2, 1, 1), 1, 0, 1, 1),          # 1x1
])
def test_conv2d_gradcheck(x_shape, w_shape, stride, padding, dilation, groups):
    st = stride if isinstance(stride, tuple) else (stride, stride)
    pd = padding if isinstance(padding, tuple) else (padding, padding)
    dl = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    check_op(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
             lambda x, w, b: np_conv2d(x, w, b, st, ((pd[0], pd[0]), (pd[1], pd[1])), dl, groups),
             x_shape, w_shape, (w_shape[0],))


def test_conv2d_same_padding_gradcheck():
    # even kernel with dilation: total padding 3 along H, split 1 top and 2 bottom as PyTorch does
    check_op(lambda x, w: F.conv2d(x, w, padding="same", dilation=(3, 1)),
             lambda x, w: np_conv2d(x, w, None, (1, 1), ((1, 2), (1, 1)), (3, 1)),
             (2, 2, 5, 4), (3, 2, 2, 3))


def test_conv1d_gradcheck():
    check_op(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
             lambda x, w, b: np_conv2d(x[:, :, None], w[:, :, None], b, (1, 2), ((0, 0), (1, 1)), (1, 2))[:, :, 0],
             (2, 3, 9), (4, 3, 3), (4,))


@pytest.mark.parametrize("kind, k, s, p", [("max", 2, 2, 0), ("max", 3, 2, 1), ("avg", 2, 2, 0), ("avg", 3, 1, 1)])
def test_pool2d_gradcheck(kind, k, s, p):
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    # distinct values, far apart: finite differences never cross a max
    values = np.random.default_rng(3).permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) / 7.0
    check_op(lambda x: fn(x, k, s, p), lambda x: np_pool2d(x, k, s, p, kind), inputs=[values])


def test_adaptive_avg_pool2d_gradcheck():
    check_op(lambda x: F.adaptive_avg_pool2d(x, 1), lambda x: x.mean(axis=(2, 3), keepdims=True), (2, 3, 4, 5))
    check_op(lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
             lambda x: x.reshape(2, 3, 2, 2, 3, 2).mean(axis=(3, 5)), (2, 3, 4, 6))


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 3, 2)])
def test_batch_norm_training_gradcheck(shape):
    c = shape[1]
    check_op(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
             lambda x, w, b: np_batch_norm_train(x, w, b), shape, (c,), (c,), grad_atol=1e-4, atol=1e-5)


def test_batch_norm_eval_gradcheck():
    mean, var = fg.tensor([0.5, -1.0, 2.0], dtype=fg.float64), fg.tensor([1.5, 0.5, 2.0], dtype=fg.float64)
    check_op(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False),
             lambda x, w, b: (x - mean.numpy()[:, None]) / np.sqrt(var.numpy()[:, None] + 1e-5) * w[:, None]
             + b[:, None], (2, 3, 4), (3,), (3,), check_float32=False)


# ---- PyTorch parity ---------------------------------------------------------------------------
def _torch_compare(fg_fn, torch_fn, arrays, rtol=1e-9, atol=1e-10):
    torch = pytest.importorskip("torch")
    ours = [fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fg_fn(*ours), torch_fn(*theirs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(fg.tensor(g, dtype=fg.float64))
    ref.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


def test_conv2d_matches_torch_on_random_geometries():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    tried = 0
    while tried < 40:
        groups = int(rng.choice([1, 1, 2, 3]))
        cg, cog = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        padding = rng.choice(["int", "pair", "same", "valid"])
        padding = {"int": int(rng.integers(0, 3)), "pair": tuple(int(v) for v in rng.integers(0, 3, size=2)),
                   "same": "same", "valid": "valid"}[padding]
        if padding == "same":
            stride = (1, 1)
        h, w = (int(v) for v in rng.integers(1, 9, size=2))
        n = int(rng.integers(1, 4))
        x = rng.standard_normal((n, cg * groups, h, w))
        wt = rng.standard_normal((cog * groups, cg, kh, kw))
        b = rng.standard_normal(cog * groups)
        try:
            torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(wt), None, stride, padding, dilation, groups)
        except RuntimeError:   # kernel larger than the padded input: both refuse
            with pytest.raises(ValueError, match="larger than the padded input"):
                F.conv2d(fg.tensor(x), fg.tensor(wt), None, stride, padding, dilation, groups)
            continue
        tried += 1
        _torch_compare(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
                       lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups),
                       [x, wt, b])


def test_conv1d_and_unbatched_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 11)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    _torch_compare(lambda x, w, b: F.conv1d(x, w, b, 2, 1, 2, 2),
                   lambda x, w, b: torch.nn.functional.conv1d(x, w, b, 2, 1, 2, 2), [x, w, b])
    _torch_compare(lambda x, w: F.conv1d(x, w, padding="same", groups=2),
                   lambda x, w: torch.nn.functional.conv1d(x, w, padding="same", groups=2), [x[0], w])
    x2, w2 = rng.standard_normal((3, 5, 4)), rng.standard_normal((2, 3, 3, 3))
    _torch_compare(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: torch.nn.functional.conv2d(x, w, padding=1),
                   [x2, w2])


@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)),
                                  dict(kernel_size=3, stride=2, ceil_mode=True),
                                  dict(kernel_size=2, stride=3, padding=1, ceil_mode=True)])
def test_max_pool2d_matches_torch(args):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 8))
    _torch_compare(lambda x: F.max_pool2d(x, **args), lambda x: torch.nn.functional.max_pool2d(x, **args), [x])
    out, idx = F.max_pool2d(fg.tensor(x), return_indices=True, **args)
    _, ref_idx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **args)
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    assert idx.dtype is fg.int64


@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                  dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True)])
def test_avg_pool2d_matches_torch(args):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((2, 3, 7, 8))
    _torch_compare(lambda x: F.avg_pool2d(x, **args), lambda x: torch.nn.functional.avg_pool2d(x, **args), [x])


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 3), (5, 7)])
def test_adaptive_avg_pool2d_matches_torch(size):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 8))
    _torch_compare(lambda x: F.adaptive_avg_pool2d(x, size),
                   lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), [x])
    _torch_compare(lambda x: F.adaptive_avg_pool2d(x, size),
                   lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), [x[0]])


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 6)),
                                        ("BatchNorm2d", (4, 3, 5, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_matches_torch(cls, shape, momentum):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    ours = getattr(fg.nn, cls)(3, momentum=momentum, dtype=fg.float64)
    theirs = getattr(torch.nn, cls)(3, momentum=momentum, dtype=torch.float64)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    ours.weight.numpy()[...] = w
    ours.bias.numpy()[...] = b
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    for step in range(3):   # training steps move the running statistics
        x = rng.standard_normal(shape) * 2 + 1
        _torch_compare(ours, theirs, [x])
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-12)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3
    ours.eval(), theirs.eval()
    _torch_compare(ours, theirs, [rng.standard_normal(shape)])
    assert ours.num_batches_tracked.item() == 3   # eval does not count


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_large_planes_match_torch(dtype):
    """Planes longer than the kernels' vector blocks (4096 elements) with a tail, and a large mean:
    the blocked float sums must still agree with PyTorch's statistics and gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((3, 2, 67, 65)) * 3 + 50).astype(dtype)
    g, w, b = (rng.standard_normal(s).astype(dtype) for s in (x.shape, 2, 2))
    ours = [fg.tensor(a, dtype=getattr(fg, dtype), requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.batch_norm(ours[0], None, None, ours[1], ours[2], training=True)
    ref = torch.nn.functional.batch_norm(theirs[0], None, None, theirs[1], theirs[2], training=True)
    out.backward(fg.tensor(g, dtype=getattr(fg, dtype)))
    ref.backward(torch.tensor(g))
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else dict(rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tol)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), **tol)


def test_batch_norm_buffers_and_state_dict_load_both_ways():
    torch = pytest.importorskip("torch")
    bn = fg.nn.BatchNorm2d(4)
    assert len(bn.parameters()) == 2
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    model = fg.nn.Sequential(fg.nn.Conv2d(2, 4, 3, padding=1), fg.nn.BatchNorm2d(4), fg.nn.ReLU(),
                             fg.nn.MaxPool2d(2), fg.nn.Flatten(), fg.nn.Linear(16, 3))
    reference = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                    torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(16, 3))
    x = np.random.default_rng(8).standard_normal((3, 2, 4, 4)).astype(np.float32)
    model(fg.tensor(x))   # a training step moves the running statistics
    assert list(model.state_dict()) == list(reference.state_dict())
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    model.eval(), reference.eval()
    np.testing.assert_allclose(model(fg.tensor(x)).numpy(), reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    assert model[1].num_batches_tracked.item() == 1
    fresh = fg.nn.Sequential(fg.nn.Conv2d(2, 4, 3, padding=1), fg.nn.BatchNorm2d(4), fg.nn.ReLU(),
                             fg.nn.MaxPool2d(2), fg.nn.Flatten(), fg.nn.Linear(16, 3))
    fresh.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    fresh.eval()
    np.testing.assert_array_equal(fresh(fg.tensor(x)).numpy(), model(fg.tensor(x)).numpy())


def test_conv_module_init_and_layout_match_torch():
    torch = pytest.importorskip("torch")
    conv = fg.nn.Conv2d(6, 8, (3, 2), groups=2, bias=False)
    assert conv.weight.shape == tuple(torch.nn.Conv2d(6, 8, (3, 2), groups=2).weight.shape) == (8, 3, 3, 2)
    assert conv.bias is None and "groups=2" in repr(conv)
    bound = 1 / np.sqrt(3 * 3 * 2)
    assert np.abs(conv.weight.numpy()).max() <= bound
    assert fg.nn.Conv1d(2, 3, 5).weight.shape == (3, 2, 5)


# ---- the input gradient is skipped when not needed --------------------------------------------
def test_first_layer_computes_no_input_gradient():
    x = fg.randn(2, 1, 5, 5)
    conv = fg.nn.Conv2d(1, 3, 3, padding=1)
    conv(x).sum().backward()
    assert x.grad is None and conv.weight.grad is not None and conv.bias.grad is not None
    # weights frozen, input needs its gradient: no col is kept, dx still right
    frozen = fg.nn.Conv2d(1, 3, 3, padding=1)
    frozen.weight.requires_grad_(False)
    frozen.bias.requires_grad_(False)
    xg = fg.randn(2, 1, 5, 5, requires_grad=True)
    frozen(xg).sum().backward()
    assert frozen.weight.grad is None and xg.grad is not None


def test_gradients_accumulate_over_two_backwards():
    x = fg.randn(2, 2, 4, 4, requires_grad=True)
    w = fg.randn(3, 2, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    first = (x.grad.numpy().copy(), w.grad.numpy().copy())
    F.conv2d(x, w, padding=1).sum().backward()
    # the second pass adds its terms one by one to the first's sum: float32 rounding, not exactly 2x
    np.testing.assert_allclose(x.grad.numpy(), 2 * first[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), 2 * first[1], rtol=1e-5, atol=1e-5)


def test_empty_batch_gives_zero_gradients():
    torch = pytest.importorskip("torch")
    x = np.zeros((0, 3, 5, 5))
    w, b = np.random.default_rng(10).standard_normal((4, 3, 3, 3)), np.ones(4)
    _torch_compare(lambda x, w, b: F.conv2d(x, w, b, padding=1),
                   lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1), [x, w, b])


# ---- Dropout2d ----------------------------------------------------------------------------------
def test_dropout2d_drops_whole_channels():
    fg.manual_seed(0)
    x = fg.ones(4, 16, 3, 3, requires_grad=True)
    layer = fg.nn.Dropout2d(0.5)
    out = layer(x).numpy()
    per_channel = out.reshape(4, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))   # a channel is all kept or all dropped
    assert 0 < (per_channel[:, :, 0] == 0).sum() < 64
    layer.eval()
    assert layer(x) is x


# ---- Winograd F(2x2, 3x3): 3x3 stride-1 convolutions with at least 16 channels in and out ------
WINOGRAD_CASES = [((2, 16, 5, 7), 16, 1), ((3, 17, 8, 8), 19, 0), ((1, 16, 3, 3), 16, 2), ((2, 16, 1, 1), 16, 1),
                  ((3, 20, 9, 4), 16, (1, 0)), ((2, 16, 6, 5), 24, "same"), ((1, 16, 4, 11), 16, (2, 1))]


@pytest.mark.parametrize("shape, cout, padding", WINOGRAD_CASES)
def test_winograd_convolutions_match_torch(shape, cout, padding):
    rng = np.random.default_rng(12)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((cout, shape[1], 3, 3)), rng.standard_normal(cout)
    _torch_compare(lambda x, w, b: F.conv2d(x, w, b, padding=padding),
                   lambda x, w, b: torch_conv2d(x, w, b, padding=padding), [x, w, b])
    _torch_compare(lambda x, w: F.conv2d(x, w, padding=padding), lambda x, w: torch_conv2d(x, w, padding=padding),
                   [x, w])


def torch_conv2d(*args, **kwargs):
    return pytest.importorskip("torch").nn.functional.conv2d(*args, **kwargs)


def test_winograd_float32_and_gradients_of_one_input():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal((3, 16, 7, 6)).astype(np.float32), rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    for x_grad, w_grad in ((True, False), (False, True)):
        ours = fg.tensor(x, requires_grad=x_grad), fg.tensor(w, requires_grad=w_grad)
        theirs = torch.tensor(x, requires_grad=x_grad), torch.tensor(w, requires_grad=w_grad)
        out, ref = F.conv2d(*ours, padding=1), torch.nn.functional.conv2d(*theirs, padding=1)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-4)
        g = rng.standard_normal(ref.shape).astype(np.float32)
        out.backward(fg.tensor(g))
        ref.backward(torch.tensor(g))
        for a, t in zip(ours, theirs):
            assert (a.grad is None) == (t.grad is None)
            if a.grad is not None:
                np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_winograd_gradcheck():
    check_op(lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: np_conv2d(x, w, b, pads=((1, 1), (1, 1))),
             (2, 16, 3, 4), (16, 16, 3, 3), (16,))


# ---- threads and kernel paths -------------------------------------------------------------------
def _conv_bn_pool_step(dtype):
    """Forward and backward through conv, batch norm and both poolings; every result as arrays."""
    rng = np.random.default_rng(9)
    x = fg.tensor(rng.standard_normal((8, 3, 17, 15)), dtype=dtype, requires_grad=True)
    w = fg.tensor(rng.standard_normal((16, 3, 3, 3)), dtype=dtype, requires_grad=True)
    b = fg.tensor(rng.standard_normal(16), dtype=dtype, requires_grad=True)
    gamma = fg.tensor(rng.standard_normal(16), dtype=dtype, requires_grad=True)
    beta = fg.tensor(rng.standard_normal(16), dtype=dtype, requires_grad=True)
    h = F.conv2d(x, w, b, padding=1)
    h = F.batch_norm(h, None, None, gamma, beta, training=True)
    out = F.max_pool2d(h, 2) + F.avg_pool2d(h, 2)
    out.backward(fg.tensor(rng.standard_normal(out.shape), dtype=dtype))
    # Winograd, with enough 16x16 images of 32 channels for several chunks and slices
    x2 = fg.tensor(rng.standard_normal((12, 32, 16, 16)), dtype=dtype, requires_grad=True)
    w2 = fg.tensor(rng.standard_normal((32, 32, 3, 3)), dtype=dtype, requires_grad=True)
    b2 = fg.tensor(rng.standard_normal(32), dtype=dtype, requires_grad=True)
    out2 = F.conv2d(x2, w2, b2, padding=1)
    out2.backward(fg.tensor(rng.standard_normal(out2.shape), dtype=dtype))
    # a first layer's tiny weight gradient (dot products, not the GEMM), over several slices
    x3 = fg.tensor(rng.standard_normal((300, 1, 8, 8)), dtype=dtype)
    w3 = fg.tensor(rng.standard_normal((8, 1, 3, 3)), dtype=dtype, requires_grad=True)
    out3 = F.conv2d(x3, w3, padding=1)
    out3.backward(fg.tensor(rng.standard_normal(out3.shape), dtype=dtype))
    return [out.numpy().copy(), out2.numpy().copy(), out3.numpy().copy()] + [
        t.grad.numpy().copy() for t in (x, w, b, gamma, beta, x2, w2, b2, w3)]


def _one_slice_step(dtype):
    """One image through a convolution the GEMM threads by itself (one slice: no team of slices
    around it), forward and backward."""
    rng = np.random.default_rng(3)
    x = fg.tensor(rng.standard_normal((1, 8, 32, 32)), dtype=dtype, requires_grad=True)
    w = fg.tensor(rng.standard_normal((16, 8, 3, 3)), dtype=dtype, requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    out.backward(fg.tensor(rng.standard_normal(out.shape), dtype=dtype))
    return [out.numpy().copy(), x.grad.numpy().copy(), w.grad.numpy().copy()]


@pytest.mark.parametrize("step", [_conv_bn_pool_step, _one_slice_step], ids=["conv_bn_pool", "one_slice"])
@pytest.mark.parametrize("dtype", [fg.float32, fg.float64], ids=["f32", "f64"])
def test_same_bits_for_one_and_two_threads(dtype, step):
    path = KERNEL_CONFIGS[0][0]
    with kernel_config(path, 1):
        one = step(dtype)
    with kernel_config(path, 2):
        two = step(dtype)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


_ONE_CPU = """
import os, sys
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})   # before the thread pool exists
sys.path.insert(0, sys.argv[1])
import numpy as np
import fastgrad as fg
from gradcheck import kernel_config
from test_conv import _conv_bn_pool_step, _one_slice_step
for step in (_conv_bn_pool_step, _one_slice_step):
    with kernel_config(None, 1):
        one = step(fg.float32)
    with kernel_config(None, 2):
        two = [step(fg.float32) for _ in range(3)]
    for results in two:
        for a, b in zip(one, results):
            np.testing.assert_array_equal(a, b)
print("same bits")
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux's sched_setaffinity")
def test_two_threads_sharing_one_cpu_finish_with_the_same_bits():
    """Two threads confined to one CPU: a master waiting for its worker yields that CPU to it (the
    worker has no other CPU to move to), so every threaded kernel finishes, with one thread's bits."""
    done = subprocess.run([sys.executable, "-c", _ONE_CPU, os.path.dirname(__file__)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "same bits"


@pytest.mark.parametrize("path, threads", KERNEL_CONFIGS)
def test_every_kernel_path_agrees(path, threads):
    reference = _conv_bn_pool_step(fg.float64)
    with kernel_config(path, threads):
        results = _conv_bn_pool_step(fg.float64)
    for a, b in zip(reference, results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_winograd_and_batch_norm_step_captures_and_replays_to_eager_bits():
    """A captured step replays the kernels' calls: the Winograd path's scratch (U, V, M and the
    slices' partial sums) must be rebuilt inside each call, never carried from the recorded one."""
    def make(seed):
        rng = np.random.default_rng(seed)
        return [fg.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
                for s in ((6, 16, 7, 6), (16, 16, 3, 3), (16,))]

    def step(x, w, gamma):
        for t in (x, w, gamma):
            t.grad = None
        out = F.batch_norm(F.conv2d(x, w, padding=1), None, None, gamma, None, training=True)
        (out * out).sum().backward()
        return (out, x.grad, w.grad, gamma.grad)

    compiled = fg.compile(step)
    for seed in range(4):   # warm-up, record, two replays on new data
        expected = [t.numpy().copy() for t in step(*make(seed))]
        for a, b in zip(compiled(*make(seed)), expected):
            np.testing.assert_array_equal(a.numpy(), b)
    assert len(compiled.plans) == 1

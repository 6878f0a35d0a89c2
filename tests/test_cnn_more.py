"""The CNN layers beyond conv/pool/batch norm: F.pad's four modes, 1-D and adaptive max pools, group
and instance norm, interpolate and the transposed convolution. Each against PyTorch (forward and
every gradient, float32 and float64, odd/1/prime sizes, empty batches), gradient checks by finite
differences, the same bits for 1 and 2 threads, and clear errors for bad input."""
import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

torch = pytest.importorskip("torch")
TF = torch.nn.functional
F = fg.nn.functional
DTYPES = [(fg.float32, torch.float32, np.float32), (fg.float64, torch.float64, np.float64)]


def parity(fg_fn, torch_fn, *shapes, dtype=DTYPES[1], seed=0, rtol=None, atol=None, exact=False):
    """fg_fn and torch_fn on the same random inputs: outputs (and indices, for a tuple) and the
    gradients of every input for a random upstream gradient agree."""
    fdt, tdt, ndt = dtype
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(ndt) for s in shapes]
    xs = [fg.tensor(a, dtype=fdt, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fg_fn(*xs), torch_fn(*ts)
    if isinstance(ref, tuple):
        np.testing.assert_array_equal(out[1].numpy(), ref[1].numpy())
        out, ref = out[0], ref[0]
    assert out.shape == tuple(ref.shape) and out.dtype is fdt
    tol = dict(rtol=1e-5 if fdt is fg.float32 else 1e-11, atol=1e-5 if fdt is fg.float32 else 1e-11)
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    if exact:
        np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    else:
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tol)
    upstream = rng.standard_normal(out.shape).astype(ndt)
    out.backward(fg.tensor(upstream, dtype=fdt))
    ref.backward(torch.tensor(upstream))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol)
    return out


def torch_accepts(fn):
    try:
        fn()
    except (RuntimeError, ValueError, NotImplementedError):
        return False
    return True


def same_bits_for_threads(fn, *shapes, seed=0):
    """fn's output and input gradients are the same bits with 1 thread as with 2 (shapes big enough
    that the kernels split)."""
    results = []
    for threads in (1, 2):
        with kernel_config(None, threads):
            rng = np.random.default_rng(seed)
            xs = [fg.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes]
            out = fn(*xs)
            out.backward(fg.tensor(np.random.default_rng(seed + 1).standard_normal(out.shape).astype(np.float32)))
            results.append([out.numpy().copy()] + [x.grad.numpy().copy() for x in xs])
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


# ---- F.pad ---------------------------------------------------------------------------------------
PADS = [(1, 2), (0, 0), (2, 0), (-1, 2), (0, -2), (1, 1, 2, 1), (-1, 1, 1, -2), (2, -1), (3, 2, -1, -2, 1, 0),
        (1, 1, 1, 1, 1, 1), (-2, 3)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", PADS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_pad_matches_torch(mode, pad, dtype):
    shape = (2, 3, 5, 4)
    if not torch_accepts(lambda: TF.pad(torch.zeros(shape), pad, mode)):
        with pytest.raises((ValueError, NotImplementedError)):
            F.pad(fg.zeros(*shape), pad, mode)
        return
    parity(lambda x: F.pad(x, pad, mode), lambda x: TF.pad(x, pad, mode), shape, dtype=dtype, exact=True)


@pytest.mark.parametrize("shape, pad, mode, value", [
    ((3, 2), (1, 0), "reflect", None), ((3, 1), (0, 0), "reflect", None), ((1, 7), (3, 3), "replicate", None), ((2, 1, 3), (2, 2), "circular", None),
    ((0, 3, 4), (1, 2), "reflect", None), ((0, 2, 3, 4), (1, 1, 2, 2), "replicate", None),
    ((2, 3, 0), (1, 1), "constant", 2.5), ((5,), (2, 3), "constant", -1.0), ((2, 3), (1, 1, 1, 1), "constant", 7.0),
    ((2, 3, 4), (1, -1, 0, 0, 1, 1), "constant", 0.5), ((2, 3, 4), (), "constant", None),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1), "reflect", None), ((1, 2, 3, 4, 5), (1, 0, 0, 2, 1, 1), "circular", None),
    ((2, 3, 5), (-5, 0), "constant", None), ((1, 1, 13, 11), (6, 6, 12, 4), "reflect", None),
])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_pad_edge_shapes(shape, pad, mode, value, dtype):
    parity(lambda x: F.pad(x, pad, mode, value), lambda x: TF.pad(x, pad, mode, value), shape, dtype=dtype,
           exact=True)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    pad = (2, 1, 1, 2)
    check_op(lambda x: F.pad(x, pad, mode, 1.5 if mode == "constant" else None),
             lambda a: TF.pad(torch.tensor(a), pad, mode, 1.5 if mode == "constant" else None).numpy(), (2, 3, 4))


def test_pad_modules_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    for name, args in [("ZeroPad2d", (1, 2, 0, 3)), ("ConstantPad1d", (2, 3.5)), ("ConstantPad2d", ((1, 0, 2, 1), 2.0)),
                       ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 2, 3, 0),)), ("ReplicationPad1d", ((3, 1),)),
                       ("ReplicationPad2d", (2,)), ("CircularPad1d", (2,)), ("CircularPad2d", ((1, 2, 0, 3),))]:
        args = args if isinstance(args, tuple) and name != "ZeroPad2d" else (args,)
        data = x[0] if name.endswith("1d") else x
        out = getattr(fg.nn, name)(*args)(fg.tensor(data, dtype=fg.float64))
        ref = getattr(torch.nn, name)(*args)(torch.tensor(data))
        np.testing.assert_array_equal(out.numpy(), ref.numpy(), err_msg=name)


# ---- 1-D and adaptive pools -----------------------------------------------------------------------
POOL_1D = [
    (lambda f: f.max_pool1d, dict(kernel_size=3)), (lambda f: f.max_pool1d, dict(kernel_size=2, stride=1)),
    (lambda f: f.max_pool1d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (lambda f: f.max_pool1d, dict(kernel_size=2, stride=2, dilation=3)),
    (lambda f: f.max_pool1d, dict(kernel_size=(3,), stride=(2,), return_indices=True)),
    (lambda f: f.avg_pool1d, dict(kernel_size=3)), (lambda f: f.avg_pool1d, dict(kernel_size=4, stride=3, padding=2)),
    (lambda f: f.avg_pool1d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (lambda f: f.avg_pool1d, dict(kernel_size=5, stride=2, padding=2, ceil_mode=True)),
    (lambda f: f.adaptive_avg_pool1d, dict(output_size=3)), (lambda f: f.adaptive_avg_pool1d, dict(output_size=13)),
    (lambda f: f.adaptive_max_pool1d, dict(output_size=4)),
    (lambda f: f.adaptive_max_pool1d, dict(output_size=(5,), return_indices=True)),
]


@pytest.mark.parametrize("case", range(len(POOL_1D)))
@pytest.mark.parametrize("shape", [(2, 3, 13), (1, 1, 7), (3, 11), (0, 2, 9)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_pool1d_matches_torch(case, shape, dtype):
    fn, kwargs = POOL_1D[case]
    parity(lambda x: fn(F)(x, **kwargs), lambda x: fn(TF)(x, **kwargs), shape, dtype=dtype)


@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (None, 4), (7, 11), (13, 2)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 11), (1, 1, 1, 5), (3, 7, 11), (0, 2, 5, 5)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_adaptive_max_pool2d_matches_torch(output_size, shape, dtype):
    parity(lambda x: F.adaptive_max_pool2d(x, output_size, return_indices=True),
           lambda x: TF.adaptive_max_pool2d(x, output_size, return_indices=True), shape, dtype=dtype)


def test_pool_gradchecks():
    check_op(lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False),
             lambda a: TF.avg_pool1d(torch.tensor(a), 3, 2, 1, count_include_pad=False).numpy(), (2, 3, 8))
    check_op(lambda x: F.max_pool1d(x, 2, 1), lambda a: TF.max_pool1d(torch.tensor(a), 2, 1).numpy(), (2, 7))
    check_op(lambda x: F.adaptive_max_pool2d(x, (2, 3)),
             lambda a: TF.adaptive_max_pool2d(torch.tensor(a), (2, 3)).numpy(), (1, 2, 5, 7))
    check_op(lambda x: F.adaptive_avg_pool1d(x, 4), lambda a: TF.adaptive_avg_pool1d(torch.tensor(a), 4).numpy(),
             (2, 2, 7))


def test_pool_modules_match_torch():
    x = np.random.default_rng(1).standard_normal((2, 3, 17))
    x2 = np.random.default_rng(2).standard_normal((2, 3, 9, 10))
    for name, args, data in [("MaxPool1d", (3, 2, 1), x), ("AvgPool1d", (4, 2, 2, True, False), x),
                             ("AdaptiveAvgPool1d", (5,), x), ("AdaptiveMaxPool1d", (6,), x),
                             ("AdaptiveMaxPool2d", ((4, 3),), x2)]:
        out = getattr(fg.nn, name)(*args)(fg.tensor(data, dtype=fg.float64))
        ref = getattr(torch.nn, name)(*args)(torch.tensor(data))
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, err_msg=name)


# ---- group norm and instance norm ----------------------------------------------------------------
@pytest.mark.parametrize("shape, groups", [((2, 6, 5, 3), 3), ((3, 4, 7), 2), ((2, 5), 5), ((2, 5), 1),
                                           ((0, 4, 3), 2), ((2, 2, 1, 1), 2), ((4, 6, 3, 3, 2), 6)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_group_norm_matches_torch(shape, groups, affine, dtype):
    c = shape[1]
    params = [(c,), (c,)] if affine else []
    tol = dict(rtol=1e-4, atol=1e-4) if dtype[0] is fg.float32 else dict(rtol=1e-9, atol=1e-9)
    parity(lambda x, *wb: F.group_norm(x, groups, *wb, eps=1e-3),
           lambda x, *wb: TF.group_norm(x, groups, *wb, eps=1e-3), shape, *params, dtype=dtype, **tol)


@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (3, 4, 7), (0, 3, 5), (2, 3, 2)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_instance_norm_matches_torch(shape, affine, dtype):
    if affine and shape[0] == 0:
        pytest.skip("PyTorch's instance_norm raises IndexError on an empty batch with weight and bias")
    c = shape[1]
    params = [(c,), (c,)] if affine else []
    tol = dict(rtol=1e-4, atol=1e-4) if dtype[0] is fg.float32 else dict(rtol=1e-9, atol=1e-9)

    def fg_fn(x, *wb):
        return F.instance_norm(x, None, None, *(wb or (None, None)))

    def torch_fn(x, *wb):
        return TF.instance_norm(x, None, None, *(wb or (None, None)))
    parity(fg_fn, torch_fn, shape, *params, dtype=dtype, **tol)


def test_norm_gradchecks():
    def np_group_norm(x, w, b, groups=2):
        n, c = x.shape[:2]
        xg = x.reshape(n, groups, -1)
        xhat = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-5)).reshape(x.shape)
        return xhat * w[None, :, None] + b[None, :, None]
    check_op(lambda x, w, b: F.group_norm(x, 2, w, b), np_group_norm, (3, 4, 5), (4,), (4,), atol=1e-5)
    check_op(lambda x: F.instance_norm(x), lambda a: np_group_norm(a, np.ones(3), np.zeros(3), 3), (2, 3, 4),
             atol=1e-5)


def test_norm_modules_match_torch():
    x = np.random.default_rng(3).standard_normal((3, 6, 5, 4))
    for name, args, data in [("GroupNorm", (3, 6), x), ("GroupNorm", (2, 6, 1e-3, False), x),
                             ("InstanceNorm2d", (6,), x), ("InstanceNorm2d", (6, 1e-5, 0.1, True), x),
                             ("InstanceNorm1d", (6, 1e-5, 0.1, True), x[:, :, :, 0]),
                             ("InstanceNorm1d", (6,), x[0, :, :, 0]), ("InstanceNorm2d", (6,), x[0])]:
        mod, ref_mod = getattr(fg.nn, name)(*args), getattr(torch.nn, name)(*args).double()
        if getattr(ref_mod, "weight", None) is not None:
            w = np.random.default_rng(4).standard_normal(ref_mod.weight.shape)
            mod.weight = fg.tensor(w, dtype=fg.float64, requires_grad=True)
            mod.bias = fg.tensor(w[::-1].copy(), dtype=fg.float64, requires_grad=True)
            ref_mod.weight.data = torch.tensor(w)
            ref_mod.bias.data = torch.tensor(w[::-1].copy())
        out = mod(fg.tensor(data, dtype=fg.float64))
        ref = ref_mod(torch.tensor(data))
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-9, err_msg=name)


def test_instance_norm_eval_uses_running_stats():
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 4))
    mod, ref = fg.nn.InstanceNorm2d(3, track_running_stats=True), torch.nn.InstanceNorm2d(3, track_running_stats=True)
    mod.running_mean = fg.tensor([0.5, -1.0, 2.0], dtype=fg.float64)
    mod.running_var = fg.tensor([2.0, 0.5, 1.0], dtype=fg.float64)
    ref = ref.double()
    ref.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
    ref.running_var.copy_(torch.tensor([2.0, 0.5, 1.0]))
    mod.eval(), ref.eval()
    np.testing.assert_allclose(mod(fg.tensor(x, dtype=fg.float64)).numpy(), ref(torch.tensor(x)).numpy(), rtol=1e-12)
    mod.train(), ref.train()
    for seed in (6, 7):   # training updates the running statistics as PyTorch's
        x = np.random.default_rng(seed).standard_normal((3, 3, 4, 5))
        np.testing.assert_allclose(mod(fg.tensor(x, dtype=fg.float64)).numpy(), ref(torch.tensor(x)).numpy(),
                                   rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(mod.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(mod.running_var.numpy(), ref.running_var.numpy(), rtol=1e-12)


# ---- interpolate ---------------------------------------------------------------------------------
INTERP = [
    dict(scale_factor=2), dict(scale_factor=3, mode="nearest"), dict(size=7), dict(size=3), dict(scale_factor=1.7),
    dict(scale_factor=0.6), dict(size=5, mode="nearest-exact"), dict(scale_factor=2.5, mode="nearest-exact"),
    dict(scale_factor=1.5, recompute_scale_factor=True),
]
LINEAR = [dict(scale_factor=2), dict(size=7, align_corners=True), dict(size=3), dict(scale_factor=1.7),
          dict(scale_factor=0.6, align_corners=False), dict(size=1, align_corners=True), dict(size=1),
          dict(scale_factor=2.3, recompute_scale_factor=True)]


@pytest.mark.parametrize("kwargs", INTERP + [dict(k, mode="linear") for k in LINEAR], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 1, 1), (0, 2, 4)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_interpolate_1d_matches_torch(kwargs, shape, dtype):
    if not torch_accepts(lambda: TF.interpolate(torch.zeros(shape), **kwargs)):
        with pytest.raises(ValueError, match="greater than 0"):
            F.interpolate(fg.zeros(*shape), **kwargs)
        return
    parity(lambda x: F.interpolate(x, **kwargs), lambda x: TF.interpolate(x, **kwargs), shape, dtype=dtype)


@pytest.mark.parametrize("kwargs", INTERP + [dict(k, mode="bilinear") for k in LINEAR] + [
    dict(size=(3, 8), mode="bilinear", align_corners=True), dict(scale_factor=(0.5, 3.0), mode="bilinear"),
    dict(size=(4, 9)), dict(scale_factor=(2, 1.3))], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 1, 1, 1), (0, 2, 3, 4)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_interpolate_2d_matches_torch(kwargs, shape, dtype):
    if not torch_accepts(lambda: TF.interpolate(torch.zeros(shape), **kwargs)):
        with pytest.raises(ValueError, match="greater than 0"):
            F.interpolate(fg.zeros(*shape), **kwargs)
        return
    parity(lambda x: F.interpolate(x, **kwargs), lambda x: TF.interpolate(x, **kwargs), shape, dtype=dtype)


def test_interpolate_gradcheck_and_modules():
    check_op(lambda x: F.interpolate(x, scale_factor=1.6, mode="bilinear"),
             lambda a: TF.interpolate(torch.tensor(a), scale_factor=1.6, mode="bilinear").numpy(), (1, 2, 3, 4))
    check_op(lambda x: F.interpolate(x, size=5, mode="linear", align_corners=True),
             lambda a: TF.interpolate(torch.tensor(a), size=5, mode="linear", align_corners=True).numpy(), (2, 2, 3))
    check_op(lambda x: F.interpolate(x, size=(5, 2)),
             lambda a: TF.interpolate(torch.tensor(a), size=(5, 2)).numpy(), (1, 2, 3, 4))
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    for name, kwargs in [("Upsample", dict(scale_factor=2)), ("Upsample", dict(size=(3, 7), mode="bilinear")),
                         ("UpsamplingNearest2d", dict(scale_factor=3)), ("UpsamplingBilinear2d", dict(size=(6, 6)))]:
        out = getattr(fg.nn, name)(**kwargs)(fg.tensor(x, dtype=fg.float64))
        np.testing.assert_allclose(out.numpy(), getattr(torch.nn, name)(**kwargs)(torch.tensor(x)).numpy(),
                                   rtol=1e-12, atol=1e-12, err_msg=name)


# ---- transposed convolution ----------------------------------------------------------------------
CONVT = [  # (input shape, weight shape, kwargs)
    ((2, 3, 5, 4), (3, 2, 3, 3), {}), ((2, 3, 5, 4), (3, 2, 3, 2), dict(stride=2)),
    ((1, 4, 3, 5), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 5, 5), (4, 1, 2, 3), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)),
    ((2, 6, 4, 3), (6, 2, 3, 3), dict(groups=3, dilation=2, padding=1)),
    ((1, 2, 3, 3), (2, 3, 3, 3), dict(stride=1, dilation=2, output_padding=1)),
    ((1, 1, 1, 1), (1, 1, 1, 1), {}), ((0, 3, 4, 4), (3, 2, 3, 3), dict(stride=2)), ((3, 5, 7), (3, 2, 2, 3), {}),
    ((1, 16, 5, 6), (16, 17, 3, 3), dict(padding=1)),   # the Winograd path of the convolution
    ((2, 16, 5, 6), (16, 16, 3, 3), dict(padding=2)),
]


@pytest.mark.parametrize("case", range(len(CONVT)))
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_conv_transpose2d_matches_torch(case, bias, dtype):
    xs, ws, kwargs = CONVT[case]
    cout = ws[1] * kwargs.get("groups", 1)
    shapes = [xs, ws] + ([(cout,)] if bias else [])
    tol = dict(rtol=2e-4, atol=2e-4) if dtype[0] is fg.float32 else {}
    parity(lambda *a: F.conv_transpose2d(*a, **kwargs), lambda *a: TF.conv_transpose2d(*a, **kwargs), *shapes,
           dtype=dtype, **tol)


@pytest.mark.parametrize("xs, ws, kwargs", [((2, 3, 7), (3, 4, 3), dict(stride=2, padding=1, output_padding=1)),
                                            ((3, 5), (3, 2, 2), {}), ((2, 4, 6), (4, 1, 3), dict(groups=2, dilation=3))],
                         ids=str)
def test_conv_transpose1d_matches_torch(xs, ws, kwargs):
    parity(lambda *a: F.conv_transpose1d(*a, **kwargs), lambda *a: TF.conv_transpose1d(*a, **kwargs), xs, ws)


def test_conv_transpose_gradcheck_and_module():
    check_op(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
             lambda a, b: TF.conv_transpose2d(torch.tensor(a), torch.tensor(b), stride=2, padding=1,
                                              output_padding=1).numpy(), (1, 2, 3, 2), (2, 3, 3, 2))
    for cls, spatial in (("ConvTranspose2d", 2), ("ConvTranspose1d", 1)):
        mod = getattr(fg.nn, cls)(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dtype=fg.float64)
        ref = getattr(torch.nn, cls)(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2).double()
        assert mod.weight.shape == tuple(ref.weight.shape) and mod.bias.shape == tuple(ref.bias.shape)
        bound = 1 / np.sqrt(3 * 3 ** spatial)   # fan_in = out_channels/groups · kernel
        assert np.abs(mod.weight.numpy()).max() <= bound and np.abs(mod.bias.numpy()).max() <= bound
        ref.weight.data, ref.bias.data = torch.tensor(mod.weight.numpy()), torch.tensor(mod.bias.numpy())
        x = np.random.default_rng(7).standard_normal((2, 4) + (5,) * spatial)
        np.testing.assert_allclose(mod(fg.tensor(x, dtype=fg.float64)).numpy(),
                                   ref(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


# ---- threads, kernel paths -------------------------------------------------------------------------
@pytest.mark.parametrize("fn, shapes", [
    (lambda x: F.pad(x, (3, 2, 1, 4), "reflect"), [(4, 8, 64, 64)]),
    (lambda x: F.pad(x, (3, -2, 1, 4), "circular"), [(4, 8, 64, 64)]),
    (lambda x: F.pad(x, (1, 1, 1, 1, 1, 1), "constant", 2.0), [(8, 66, 64)]),
    (lambda x: F.adaptive_max_pool2d(x, 5), [(4, 8, 64, 64)]),
    (lambda x: F.max_pool1d(x, 3, 2, 1), [(16, 16, 513)]),
    (lambda x: F.group_norm(x, 4), [(4, 16, 32, 33)]),
    (lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"), [(4, 8, 64, 64)]),
    (lambda x: F.interpolate(x, scale_factor=2), [(4, 8, 64, 64)]),
    (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), [(8, 8, 32, 32), (8, 4, 3, 3)]),
], ids=["reflect", "circular", "constant", "adaptive_max", "max1d", "group_norm", "bilinear", "nearest", "convT"])
def test_same_bits_for_any_thread_count(fn, shapes):
    same_bits_for_threads(fn, *shapes)


@pytest.mark.parametrize("path, threads", KERNEL_CONFIGS)
def test_every_kernel_path(path, threads):
    with kernel_config(path, threads):
        parity(lambda x: F.pad(x, (2, 1, 1, 3), "reflect"), lambda x: TF.pad(x, (2, 1, 1, 3), "reflect"), (2, 3, 6, 5))
        parity(lambda x: F.adaptive_max_pool1d(x, 4), lambda x: TF.adaptive_max_pool1d(x, 4), (2, 3, 11))
        parity(lambda x: F.interpolate(x, size=(5, 9), mode="bilinear"),
               lambda x: TF.interpolate(x, size=(5, 9), mode="bilinear"), (2, 3, 4, 4))


# ---- bad input -----------------------------------------------------------------------------------
BAD = [
    ("F.pad(fg.randn(2, 3, 4), (1, 2, 3))", ValueError, "divisible by 2"),
    ("F.pad(fg.randn(2, 3), (1, 1, 1, 1, 1, 1))", ValueError, "more than two times"),
    ("F.pad(fg.randn(2, 3, 4), (1.5, 1))", TypeError, "tuple of ints"),
    ("F.pad(fg.randn(2, 3, 4), 1)", TypeError, "tuple of ints"),
    ("F.pad(fg.randn(2, 3, 4), (1, 1), 'foo')", NotImplementedError, "unrecognised padding mode"),
    ("F.pad(fg.randn(2, 3, 4), (4, 1), 'reflect')", ValueError, r"less than the size 4 of dimension 2"),
    ("F.pad(fg.randn(2, 3, 4), (1, 1), 'reflect', 2.0)", ValueError, "doesn't take a value"),
    ("F.pad(fg.randn(3, 4), (1, 1, 1, 1), 'reflect')", NotImplementedError, r"padding size 4 .* 2-D input"),
    ("F.pad(fg.randn(2, 3, 4, 5, 6, 7), (1, 1), 'replicate')", NotImplementedError, "6-D input"),
    ("F.pad(fg.randn(2, 0, 4), (1, 1), 'replicate')", ValueError, "non-empty dimensions"),
    ("F.pad(fg.randn(2, 3, 4), (-3, -2), 'replicate')", ValueError, "output size of -1"),
    ("F.pad(fg.randn(2, 3, 4), (-5, 0))", ValueError, "output size of -1"),
    ("F.pad(fg.randn(2, 3, 4), (5, 0), 'circular')", ValueError, "more than once"),
    ("F.pad(fg.tensor([[1, 2]]), (1, 1), mode='reflect')", TypeError, "float32 or float64"),   # constant mode pads integers, as PyTorch
    ("F.pad([1.0, 2.0], (1, 1))", TypeError, "fastgrad Tensor"),
    ("F.max_pool1d(fg.randn(2, 3, 2), 3)", ValueError, "larger than the padded input"),
    ("F.max_pool1d(fg.randn(2, 3, 5), (2, 2))", TypeError, "1-tuple"),
    ("F.avg_pool1d(fg.randn(2, 3, 5), 2, padding=2)", ValueError, "at most half of kernel_size"),
    ("F.max_pool1d(fg.randn(2, 3, 4, 5), 2)", ValueError, r"shape \(N, C, L\)"),
    ("F.adaptive_max_pool2d(fg.randn(1, 2, 4, 4), 0)", ValueError, "output_size must be at least 1"),
    ("F.adaptive_max_pool1d(fg.randn(1, 2, 0), 2)", ValueError, "empty plane"),
    ("F.adaptive_avg_pool1d(fg.randn(1, 2, 5), (2, 2))", TypeError, "1-tuple"),
    ("F.group_norm(fg.randn(2, 6, 3), 4)", ValueError, "not divisible by num_groups=4"),
    ("F.group_norm(fg.randn(2, 6, 3), 3, fg.randn(5))", ValueError, r"weight must be a tensor of shape \(6,\)"),
    ("F.group_norm(fg.randn(1, 5), 5)", ValueError, "more than 1 value per channel"),
    ("F.group_norm(fg.randn(2, 6, 3), 0)", ValueError, "positive int"),
    ("F.instance_norm(fg.randn(2, 3, 1))", ValueError, "more than 1 spatial element"),
    ("F.instance_norm(fg.randn(2, 3))", ValueError, r"shape \(N, C, \*\)"),
    ("fg.nn.GroupNorm(4, 6)", ValueError, "divisible by num_groups"),
    ("fg.nn.InstanceNorm2d(3, affine=True)(fg.randn(2, 4, 3, 3))", ValueError, "match num_features"),
    ("fg.nn.InstanceNorm1d(3)(fg.randn(2, 3, 3, 3))", ValueError, "2 or 3-d input"),
    ("F.interpolate(fg.randn(1, 2, 3, 4))", ValueError, "exactly one of size and scale_factor"),
    ("F.interpolate(fg.randn(1, 2, 3, 4), size=2, scale_factor=2)", ValueError, "exactly one"),
    ("F.interpolate(fg.randn(1, 2, 3, 4), size=2, mode='linear')", NotImplementedError, "needs a 3-D input"),
    ("F.interpolate(fg.randn(1, 2, 3), size=2, mode='bilinear')", NotImplementedError, "needs a 4-D input"),
    ("F.interpolate(fg.randn(1, 2, 3, 4), size=2, mode='bicubic')", NotImplementedError, "not supported"),
    ("F.interpolate(fg.randn(1, 2, 3, 4), size=2, align_corners=True)", ValueError, "align_corners"),
    ("F.interpolate(fg.randn(1, 2, 3, 4), size=(2, 2, 2))", ValueError, "size must be an int or 2 ints"),
    ("F.interpolate(fg.randn(1, 2, 3, 4), scale_factor=-1.0)", ValueError, "scale_factor must be a positive"),
    ("F.interpolate(fg.randn(1, 2, 3, 4), scale_factor=0.1)", ValueError, "greater than 0"),
    ("F.interpolate(fg.randn(1, 2, 0, 4), size=3)", ValueError, "greater than 0"),
    ("F.interpolate(fg.randn(1, 2, 3, 4, 5), size=3)", NotImplementedError, "3-D"),
    ("F.conv_transpose2d(fg.randn(1, 3, 4, 4), fg.randn(2, 2, 3, 3))", ValueError, "has 3 channels"),
    ("F.conv_transpose2d(fg.randn(1, 3, 4, 4), fg.randn(3, 2, 3, 3), groups=2)", ValueError, "divisible by groups"),
    ("F.conv_transpose2d(fg.randn(1, 3, 4, 4), fg.randn(3, 2, 3, 3), stride=2, output_padding=2)", ValueError,
     "smaller than either stride"),
    ("F.conv_transpose2d(fg.randn(1, 3, 1, 1), fg.randn(3, 2, 1, 1), padding=1)", ValueError, "too large"),
    ("F.conv_transpose2d(fg.randn(1, 3, 4, 4), fg.randn(3, 2, 3, 3, dtype=fg.float64))", TypeError, "dtype mismatch"),
    ("F.conv_transpose2d(fg.randn(1, 3, 4, 4), fg.randn(3, 2, 3, 3), fg.randn(3))", ValueError,
     r"bias must be a tensor of shape \(2,\)"),
    ("F.conv_transpose1d(fg.randn(1, 3, 4), fg.randn(3, 2, 3, 3))", ValueError, "weight must have shape"),
    ("fg.nn.ConvTranspose2d(3, 4, 3, groups=2)", ValueError, r"in_channels \(3\) and out_channels \(4\)"),
]


@pytest.mark.parametrize("code, expected, message", BAD, ids=[c[0][:70] for c in BAD])
def test_bad_input_raises_clear_error(code, expected, message):
    with pytest.raises(expected, match=message):
        eval(code)

"""More of PyTorch's API: tensor hooks, ParameterList/ParameterDict, RMSNorm, atan2/hypot/fmod/
remainder/floor_divide, reductions and utilities, each against numpy (check_op) and PyTorch where
installed."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from fastgrad import nn

from gradcheck import check_op


def _t(a, requires_grad=False, dtype=fg.float64):
    return fg.tensor(np.asarray(a, dtype=np.float64), dtype=dtype, requires_grad=requires_grad)


# ---- Tensor.register_hook ---------------------------------------------------------------------------
def _hook_program_2(lib):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    x.grad = lib.tensor([1.0, 1.0, 1.0])
    h = x.register_hook(lambda g: g * 0.5)    # a leaf's hook runs before accumulation into .grad
    (x * x).sum().backward()
    first = x.grad.tolist()
    h.remove()
    (x * x).sum().backward()
    z = x * 1.0
    z.register_hook(lambda g: g + 1)
    w = z.exp()
    gx, = (lib.autograd.grad(w.sum(), x))
    return first, x.grad.tolist(), gx.tolist()


def test_register_hook_matches_pytorch():
    torch = pytest.importorskip("torch")
    x0 = [1.0, 2.0, 3.0]

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 2
        log = []
        y.register_hook(lambda g: log.append(("y", g.tolist())))
        y.register_hook(lambda g: g * 10)
        y.register_hook(lambda g: log.append("removed hook ran")).remove()
        x.register_hook(lambda g: log.append(("x", g.tolist())))
        (y[1:] * y[1:]).sum().backward()
        return log, x.grad.tolist()

    assert run(fg) == run(torch)
    assert _hook_program_2(fg) == _hook_program_2(torch)


def test_register_hook_values_without_torch():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    h = y.register_hook(lambda g: g * 10)
    (y[1:] * y[1:]).sum().backward()   # dy = 2y on y[1:], 0 elsewhere: [0, 8, 12]; dx = 2 * 10 * dy
    assert seen == [[0.0, 8.0, 12.0]]
    assert x.grad.tolist() == [0.0, 160.0, 240.0]
    h.remove()
    x.grad = None
    (y * y).sum().backward()
    assert x.grad.tolist() == [8.0, 16.0, 24.0]


def test_hook_on_the_root_and_on_a_leaf_root():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.register_hook(lambda g: g * 3)
    y.backward()
    assert x.grad.tolist() == [6.0, 12.0]
    leaf = fg.tensor([1.0, 2.0], requires_grad=True)
    leaf.register_hook(lambda g: g * 2)
    leaf.backward(fg.tensor([1.0, 1.0]))
    assert leaf.grad.tolist() == [2.0, 2.0]


def test_hook_registered_before_an_inplace_write_sees_the_old_value_gradient():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1.0
        log = []
        y.register_hook(lambda g: log.append(g.tolist()))
        y.mul_(3)
        y.sum().backward()
        return log, x.grad.tolist()

    assert run(fg) == run(torch)


def test_bad_hooks():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        fg.tensor([1.0]).register_hook(lambda g: g)
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)
    y = x * 2
    y.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        y.sum().backward()
    x.grad = None
    z = x * 2
    z.register_hook(lambda g: "no")
    with pytest.raises(RuntimeError, match="str"):
        z.sum().backward()
    assert x.grad is None   # the failed pass left the leaf's .grad as it was


def test_compile_refuses_a_step_whose_backward_runs_a_hook():
    w = fg.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        w.grad = None
        y = x * w
        y.register_hook(lambda g: g * 2)
        y.sum().backward()
        return w.grad

    compiled = fg.compile(step)
    with pytest.raises(fg.CaptureError, match="register_hook"):
        for _ in range(3):
            compiled(fg.tensor([3.0, 4.0]))


def test_hooks_are_dropped_with_their_tensors():
    from fastgrad import tensor_hooks
    before = len(tensor_hooks.hooks)
    x = fg.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g)
    (x * 2).register_hook(lambda g: g)
    del x
    import gc
    gc.collect()
    assert len(tensor_hooks.hooks) == before


# ---- nn.ParameterList, nn.ParameterDict -------------------------------------------------------------
def _containers(lib):
    nn_ = lib.nn
    m = nn_.Module()
    m.pl = nn_.ParameterList([lib.zeros(2), nn_.Parameter(lib.ones(1))])
    m.pl.append(lib.zeros(3))
    m.pl.extend([lib.ones(2, 2)])
    m.pl += [lib.zeros(1)]
    m.pd = nn_.ParameterDict({"b": lib.zeros(1), "a": lib.ones(2)})
    m.pd.update({"z": lib.zeros(1), "c": lib.zeros(4)})
    m.pd["new"] = lib.ones(1)
    del m.pd["z"]
    m.pl[1] = lib.full((5,), 2.0)
    return {
        "state": [(k, tuple(v.shape)) for k, v in m.state_dict().items()],
        "named": [n for n, _ in m.named_parameters()],
        "lens": (len(m.pl), len(m.pd), len(m.pl[1:3]), len(list(m.pl))),
        "req": [p.requires_grad for p in m.parameters()],
        "keys": list(m.pd.keys()), "in": ("a" in m.pd, "z" in m.pd),
        "last": m.pl[-1].tolist(), "get": m.pd.get("missing") is None,
    }


def test_parameter_containers_match_pytorch():
    torch = pytest.importorskip("torch")
    assert _containers(fg) == _containers(torch)


def test_parameter_containers_train_save_and_load():
    m = nn.Module()
    m.pl = nn.ParameterList([fg.tensor([1.0, 2.0])])
    m.pd = nn.ParameterDict({"w": fg.tensor([3.0])})
    (m.pl[0].sum() * m.pd["w"]).sum().backward()
    assert m.pl[0].grad.tolist() == [3.0, 3.0] and m.pd["w"].grad.tolist() == [3.0]
    opt = fg.optim.SGD(m.parameters(), lr=1.0)
    opt.step()
    assert m.pl[0].tolist() == [-2.0, -1.0]
    state = {k: v.clone() for k, v in m.state_dict().items()}
    m.pl[0].data.fill_(0.0)
    m.load_state_dict(state)
    assert m.pl[0].tolist() == [-2.0, -1.0] and sorted(state) == ["pd.w", "pl.0"]
    assert "Parameter containing" in repr(m.pl) and "(w)" in repr(m.pd)
    assert m.pd.pop("w").tolist() == [0.0] and len(m.pd) == 0 and m.parameters() == [m.pl[0]]


def test_parameter_containers_bad_inputs():
    pl = nn.ParameterList([fg.zeros(1)])
    with pytest.raises(IndexError, match="out of range"):
        pl[1]
    with pytest.raises(TypeError, match="integers"):
        pl["0"]
    with pytest.raises(TypeError, match="Tensor"):
        pl.append(3.0)
    with pytest.raises(TypeError, match="iterable"):
        pl.extend(fg.zeros(2))
    with pytest.raises(RuntimeError, match="floating-point"):
        pl.append(fg.tensor([1]))
    pd = nn.ParameterDict()
    with pytest.raises(KeyError, match="'.'"):
        pd["a.b"] = fg.zeros(1)
    with pytest.raises(KeyError, match="already exists"):
        pd["update"] = fg.zeros(1)
    with pytest.raises(TypeError, match="strings"):
        pd[3] = fg.zeros(1)
    with pytest.raises(KeyError):
        pd["missing"]
    with pytest.raises(ValueError, match="pair"):
        pd.update([("a", fg.zeros(1), 3)])


# ---- RMSNorm -----------------------------------------------------------------------------------------
def np_rms_norm(x, ns, w=None, eps=None):
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    eps = np.finfo(x.dtype).eps if eps is None else eps
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


@pytest.mark.parametrize("shape,ns", [((3, 7), (7,)), ((2, 3, 37), (37,)), ((1, 1), (1,)), ((4, 2, 5), (2, 5)),
                                      ((5,), (5,)), ((0, 6), (6,)), ((2, 17), (17,))])
def test_rms_norm_against_numpy(shape, ns):
    check_op(lambda x, w: F.rms_norm(x, ns, w, eps=1e-5), lambda x, w: np_rms_norm(x, ns, w, 1e-5), shape, ns)
    check_op(lambda x: F.rms_norm(x, ns), lambda x: np_rms_norm(x, ns), shape)


def test_rms_norm_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for dtype, tdtype, tol in ((fg.float32, torch.float32, 1e-5), (fg.float64, torch.float64, 1e-12)):
        for shape, ns, eps in (((4, 33), (33,), None), ((3, 2, 9), (2, 9), 1e-3), ((2, 64), (64,), None)):
            x0, w0, g0 = rng.standard_normal(shape), rng.standard_normal(ns), rng.standard_normal(shape)
            m, tm = nn.RMSNorm(ns, eps=eps, dtype=dtype), torch.nn.RMSNorm(ns, eps=eps, dtype=tdtype)
            m.weight.data.copy_(fg.tensor(w0, dtype=dtype))
            with torch.no_grad():
                tm.weight.copy_(torch.tensor(w0))
            x, tx = fg.tensor(x0, dtype=dtype, requires_grad=True), torch.tensor(x0, dtype=tdtype, requires_grad=True)
            y, ty = m(x), tm(tx)
            y.backward(fg.tensor(g0, dtype=dtype))
            ty.backward(torch.tensor(g0, dtype=tdtype))
            for a, b in ((y, ty), (x.grad, tx.grad), (m.weight.grad, tm.weight.grad)):
                np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=tol * 10, atol=tol * 10)
    assert list(nn.RMSNorm(4).state_dict()) == ["weight"] and nn.RMSNorm(4, elementwise_affine=False).parameters() == []
    assert repr(nn.RMSNorm([2, 3], eps=1e-6)) == repr(torch.nn.RMSNorm([2, 3], eps=1e-6))


def test_rms_norm_huge_finite_inputs_stay_finite():
    x = fg.tensor([[3e19, -4e19]], dtype=fg.float32)
    np.testing.assert_allclose(F.rms_norm(x, (2,)).numpy(), [[0.8485281, -1.1313708]], rtol=1e-6)


def test_rms_norm_bad_inputs():
    x = fg.zeros(2, 3)
    with pytest.raises(ValueError, match="trailing"):
        F.rms_norm(x, (2,))
    with pytest.raises(ValueError, match="trailing"):
        F.rms_norm(x, (1, 2, 3))
    with pytest.raises(ValueError, match="weight"):
        F.rms_norm(x, (3,), fg.ones(2))
    with pytest.raises(ValueError, match="weight"):
        F.rms_norm(x, (3,), fg.ones(3, dtype=fg.float64))
    with pytest.raises(ValueError, match="eps"):
        F.rms_norm(x, (3,), eps=-1.0)
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.RMSNorm((2, -1))


def test_rms_norm_same_bits_on_every_path_and_thread_count():
    from gradcheck import KERNEL_CONFIGS, kernel_config
    rng = np.random.default_rng(1)
    x0, w0, g0 = rng.standard_normal((300, 257)), rng.standard_normal(257), rng.standard_normal((300, 257))
    results = []
    for path, threads in KERNEL_CONFIGS:
        with kernel_config(path, threads):
            x, w = fg.tensor(x0, requires_grad=True), fg.tensor(w0, requires_grad=True)
            y = F.rms_norm(x, (257,), w)
            y.backward(fg.tensor(g0))
            results.append([t.numpy().copy() for t in (y, x.grad, w.grad)])
            if threads == 1:   # one thread against more, on the same path: the same bits
                assert all(np.array_equal(a, b) for a, b in zip(results[0], results[-1]))
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ---- atan2, hypot, fmod, remainder, floor_divide ------------------------------------------------------
def _np_floor_divide(a, b):
    return np.floor_divide(a, b)


BINARY = {"atan2": np.arctan2, "hypot": np.hypot, "fmod": np.fmod, "remainder": np.remainder}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 5), (3, 5)), ((3, 1), (4,)), ((1,), (2, 3)), ((0, 3), (3,)), ((), (7,)),
                                    ((2, 1, 3), (5, 1))])
def test_binary_math_against_numpy(name, shapes):
    rng = np.random.default_rng(3)
    a = rng.uniform(-4, 4, size=shapes[0])
    b = rng.uniform(0.7, 2.0, size=shapes[1]) * rng.choice([-1.0, 1.0], size=shapes[1])   # away from 0
    check_op(getattr(fg, name), BINARY[name], inputs=[a, b])


def test_binary_math_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a0 = np.concatenate([rng.uniform(-9, 9, 40), [0.0, -0.0, 6.0, -6.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30]])
    b0 = np.concatenate([rng.uniform(-3, 3, 40), [3.0, -3.0, 0.0, -0.0, 2.0, -2.0, 1.0, 3.0, 3.0]])
    ints_a, ints_b = rng.integers(-20, 20, 50), rng.choice([-7, -3, -1, 1, 2, 5], 50)
    for name in ("atan2", "hypot", "fmod", "remainder", "floor_divide"):
        for dtype, tdtype in ((fg.float32, torch.float32), (fg.float64, torch.float64)):
            a, b = fg.tensor(a0, dtype=dtype, requires_grad=True), fg.tensor(b0, dtype=dtype, requires_grad=True)
            ta = torch.tensor(a0, dtype=tdtype, requires_grad=True)
            tb = torch.tensor(b0, dtype=tdtype, requires_grad=True)
            y, ty = getattr(fg, name)(a, b), getattr(torch, name)(ta, tb)
            if name in ("atan2", "hypot"):   # libm against PyTorch's vectorised functions: an ulp apart
                np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=3e-7, err_msg=name)
            else:   # exact, signs of zeros too
                np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy(), err_msg=name)
                number = ~np.isnan(ty.detach().numpy())   # (a NaN's sign bit means nothing)
                np.testing.assert_array_equal(np.signbit(y.detach().numpy()[number]),
                                              np.signbit(ty.detach().numpy()[number]))
            if name != "floor_divide":
                g = rng.standard_normal(len(a0))
                y.backward(fg.tensor(g, dtype=dtype))
                ty.backward(torch.tensor(g, dtype=tdtype))
                for p, tp in ((a, ta), (b, tb)):
                    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, equal_nan=True,
                                               err_msg=name)
        if name != "hypot":   # integers: exact, int64 kept (atan2: float32, as PyTorch)
            y, ty = getattr(fg, name)(fg.tensor(ints_a), fg.tensor(ints_b)), getattr(torch, name)(
                torch.tensor(ints_a), torch.tensor(ints_b))
            assert str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
            np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6)
    x = np.array([7, -7, 0, 9])
    for fgx, tx in ((fg.tensor(x), torch.tensor(x)), (fg.tensor(x * 1.5), torch.tensor(x * 1.5))):
        for expr in (lambda t: t % 3, lambda t: t // 2, lambda t: 5 % (t + 11), lambda t: 17 // (t + 11),
                     lambda t: t % -2.5, lambda t: t.fmod(-4), lambda t: t.remainder(4), lambda t: t.floor_divide(-4)):
            np.testing.assert_array_equal(expr(fgx).numpy(), expr(tx).numpy())


def test_binary_math_in_place_and_operators():
    x = fg.tensor([7.0, -7.0])
    x %= 3
    assert x.tolist() == [1.0, 2.0]
    x //= 2
    assert x.tolist() == [0.0, 1.0]
    y = fg.tensor([7, -7])
    y.fmod_(3)
    assert y.tolist() == [1, -1] and y.dtype is fg.int64
    z = fg.tensor([1.0, -1.0])
    z.atan2_(fg.tensor([0.0, 0.0]))
    np.testing.assert_allclose(z.numpy(), [np.pi / 2, -np.pi / 2], rtol=1e-6)
    w = fg.tensor([3.0], requires_grad=True)
    v = w * 1.0
    v.hypot_(fg.tensor([4.0]))
    v.backward(fg.tensor([1.0]))
    np.testing.assert_allclose(w.grad.numpy(), [0.6], rtol=1e-6)
    assert fg.arctan2 is fg.atan2


def test_binary_math_bad_inputs():
    with pytest.raises(ZeroDivisionError, match="zero"):
        fg.fmod(fg.tensor([1, 2]), fg.tensor([1, 0]))
    with pytest.raises(ZeroDivisionError):
        fg.tensor([1, 2]) % 0
    with pytest.raises(ZeroDivisionError):
        fg.tensor([1, 2]) // fg.tensor([0])
    with pytest.raises(TypeError, match="floating-point"):
        fg.hypot(fg.tensor([1]), fg.tensor([2]))
    with pytest.raises(ValueError, match="broadcast"):
        fg.atan2(fg.zeros(2), fg.zeros(3))
    with pytest.raises(TypeError, match="Tensor"):
        fg.fmod(1.0, 2.0)
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="floor_divide"):
        (x // 0.5).sum().backward()
    with pytest.raises(RuntimeError, match="leaf"):
        x.fmod_(2.0)
    i = fg.tensor([1, 2])
    with pytest.raises(TypeError, match="in place"):
        i.atan2_(fg.tensor([1, 1]))   # a float result does not fit an int64 tensor


# ---- reductions and utilities -------------------------------------------------------------------------
def _both(torch, fn, *arrays, **kwargs):
    """fn on fastgrad tensors and on torch tensors of the same data (float64 for floats)."""
    def conv(lib, a):
        if isinstance(a, np.ndarray):
            return lib.tensor(a) if a.dtype.kind in "bi" else lib.tensor(a, dtype=lib.float64)
        return a
    return fn(fg, *[conv(fg, a) for a in arrays], **kwargs), fn(torch, *[conv(torch, a) for a in arrays], **kwargs)


def _same(a, b):
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert tuple(a.shape) == tuple(b.shape)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12, equal_nan=True)


def test_reductions_and_utilities_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5))
    x[0, 1, 2] = x[2, 0, 0] = np.nan
    x[1, 1, :] = 0.0
    xn = x.copy()
    xn[1, 2, :] = np.nan   # an all-NaN row
    ints, bools = rng.integers(-2, 3, (4, 5)), rng.integers(0, 2, (3, 4)).astype(bool)
    cases = [
        (lambda L, t: L.count_nonzero(t), x), (lambda L, t: L.count_nonzero(t, dim=1), x),
        (lambda L, t: L.count_nonzero(t, dim=(0, 2)), x), (lambda L, t: L.count_nonzero(t, 0), ints),
        (lambda L, t: L.count_nonzero(t), bools), (lambda L, t: L.argwhere(t), ints), (lambda L, t: L.argwhere(t), x),
        (lambda L, t: L.nansum(t), x), (lambda L, t: L.nansum(t, 1, keepdim=True), x), (lambda L, t: L.nansum(t), ints),
        (lambda L, t: L.nanmean(t), xn), (lambda L, t: L.nanmean(t, dim=2), xn),
        (lambda L, t: L.nanmean(t, (0, 1), True), xn),
        (lambda L, t: L.var_mean(t), x[2:]), (lambda L, t: L.var_mean(t, 1), x[1:]),
        (lambda L, t: L.var_mean(t, dim=(1, 2), correction=0, keepdim=True), x[1:]),
        (lambda L, t: L.std_mean(t, 2, unbiased=False), x[1:]), (lambda L, t: L.std_mean(t, False), x[1:]),
        (lambda L, t: tuple(L.aminmax(t)), ints), (lambda L, t: tuple(L.aminmax(t, dim=1)), ints),
        (lambda L, t: tuple(L.aminmax(t, dim=-1, keepdim=True)), x[1:]),
        (lambda L, t: tuple(L.aminmax(t, keepdim=True)), ints),
        (lambda L, t: L.diff(t), x), (lambda L, t: L.diff(t, n=2, dim=0), x), (lambda L, t: L.diff(t, 3, 1), ints),
        (lambda L, t: L.diff(t, 7), ints), (lambda L, t: L.diff(t, 0), ints), (lambda L, t: L.diff(t, dim=0), bools),
        (lambda L, t, p, a: L.diff(t, 2, 1, prepend=p, append=a), x, x[:, :2], x[:, :1]),
        (lambda L, t: L.tile(t, (2,)), ints), (lambda L, t: L.tile(t, (2, 1, 3)), ints), (lambda L, t: t.tile(2, 2), x),
        (lambda L, t: L.tile(t, ()), ints),
        (lambda L, a, b: L.tensordot(a, b), x, rng.standard_normal((4, 5, 2))),
        (lambda L, a, b: L.tensordot(a, b, dims=0), x[0, 0], x[1, 1]),
        (lambda L, a, b: L.tensordot(a, b, dims=([0, 2], [2, 0])), x, rng.standard_normal((5, 6, 3))),
        (lambda L, a, b: L.tensordot(a, b, dims=([1], [0])), x, rng.standard_normal((4,))),
        (lambda L, i, a, b: L.baddbmm(i, a, b), x[:, :, :2], x, rng.standard_normal((3, 5, 2))),
        (lambda L, i, a, b: L.baddbmm(i, a, b, beta=0.5, alpha=-2), x[0, 0, :2], x, rng.standard_normal((3, 5, 2))),
        (lambda L, i, a, b: L.addbmm(i, a, b, beta=0, alpha=3), np.full((4, 2), np.nan), x,
         rng.standard_normal((3, 5, 2))),
        (lambda L, i, a, b: L.addbmm(i, a, b), x[0, 0, :2], x, rng.standard_normal((3, 5, 2))),
        (lambda L, i, m, v: L.addmv(i, m, v, beta=2), x[0, :, 0], x[1], x[2, 0]),
        (lambda L, i, m, v: i.addmv(m, v, alpha=0.5), x[0, :, 0], x[1], x[2, 0]),
    ]
    for i, (fn, *arrays) in enumerate(cases):
        arrays = [np.ascontiguousarray(a) for a in arrays]
        ours, theirs = _both(torch, fn, *arrays)
        try:
            _same(ours, theirs)
        except AssertionError as e:
            raise AssertionError(f"case {i}") from e


def test_reductions_and_utilities_gradients():
    check_op(lambda x: fg.nansum(x, 1), lambda x: np.nansum(x, 1), (3, 4))
    check_op(lambda x: fg.nanmean(x, 0), lambda x: np.nanmean(x, 0), (3, 4))
    x = fg.tensor([[1.0, np.nan], [3.0, 4.0]], dtype=fg.float64, requires_grad=True)
    fg.nanmean(x, 0).sum().backward()   # a NaN gets no gradient; the others 1 / (their count)
    assert x.grad.tolist() == [[0.5, 0.0], [0.5, 1.0]]
    check_op(lambda x: fg.var_mean(x, 1)[0] + fg.var_mean(x, 1)[1], lambda x: x.var(1, ddof=1) + x.mean(1), (3, 5))
    check_op(lambda x: sum(fg.std_mean(x, 0, correction=0)), lambda x: x.std(0) + x.mean(0), (4, 2))
    check_op(lambda x: fg.aminmax(x, dim=1).max - fg.aminmax(x, dim=1).min, lambda x: x.max(1) - x.min(1), (3, 7))
    check_op(lambda x, p: fg.diff(x, 2, 0, prepend=p), lambda x, p: np.diff(np.concatenate([p, x]), 2, 0),
             (4, 3), (1, 3))
    check_op(lambda x: fg.diff(x, dim=1), lambda x: np.diff(x, axis=1), (2, 1))
    check_op(lambda x: fg.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), (2, 3))
    check_op(lambda a, b: fg.tensordot(a, b, ([2, 0], [0, 1])), lambda a, b: np.tensordot(a, b, ([2, 0], [0, 1])),
             (2, 3, 5), (5, 2, 4))
    check_op(lambda a, b: fg.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0), (3,), (2,))
    check_op(lambda i, a, b: fg.baddbmm(i, a, b, beta=0.5, alpha=2), lambda i, a, b: 0.5 * i + 2 * (a @ b),
             (1, 3), (2, 4, 3), (2, 3, 3))
    check_op(lambda i, a, b: fg.addbmm(i, a, b), lambda i, a, b: i + (a @ b).sum(0), (4, 1), (3, 4, 2), (3, 2, 5))
    check_op(lambda i, m, v: fg.addmv(i, m, v, beta=-1), lambda i, m, v: -i + m @ v, (3,), (3, 4), (4,))
    check_op(lambda i, m, v: fg.addmv(i, m, v), lambda i, m, v: i + m @ v, (1,), (0, 2), (2,))


def test_reductions_and_utilities_bad_inputs():
    with pytest.raises(TypeError, match="Tensor"):
        fg.count_nonzero([1, 2])
    with pytest.raises(TypeError, match="floating point"):
        fg.nanmean(fg.tensor([1, 2]))
    with pytest.raises(ValueError, match="empty"):
        fg.aminmax(fg.zeros(0))
    with pytest.raises(ValueError, match="empty"):
        fg.aminmax(fg.zeros(2, 0), dim=1)
    with pytest.raises(IndexError, match="out of range"):
        fg.diff(fg.zeros(3), dim=1)
    with pytest.raises(ValueError, match="order"):
        fg.diff(fg.zeros(3), n=-1)
    with pytest.raises(ValueError, match="one-dimensional"):
        fg.diff(fg.tensor(1.0))
    with pytest.raises(ValueError, match="number of dimensions"):
        fg.diff(fg.zeros(2, 3), prepend=fg.zeros(3))
    with pytest.raises(ValueError):
        fg.diff(fg.zeros(2, 3), dim=1, prepend=fg.zeros(3, 1))
    with pytest.raises(ValueError, match="do not match"):
        fg.tensordot(fg.zeros(2, 3), fg.zeros(3, 2))
    with pytest.raises(ValueError, match="dims must be in"):
        fg.tensordot(fg.zeros(2, 3), fg.zeros(3), 2)
    with pytest.raises(ValueError, match="same length"):
        fg.tensordot(fg.zeros(2, 3), fg.zeros(3, 2), ([0, 1], [0]))
    with pytest.raises(ValueError, match="twice"):
        fg.tensordot(fg.zeros(2, 2), fg.zeros(2, 2), ([0, 0], [0, 1]))
    with pytest.raises(ValueError, match="broadcast"):
        fg.baddbmm(fg.zeros(3, 4, 4), fg.zeros(2, 4, 3), fg.zeros(2, 3, 4))
    with pytest.raises(ValueError):
        fg.addmv(fg.zeros(3), fg.zeros(3, 4), fg.zeros(3))
    with pytest.raises(ValueError):
        fg.addbmm(fg.zeros(3, 3), fg.zeros(3, 3), fg.zeros(3, 3, 3))


# ---- PixelShuffle, PixelUnshuffle, Dropout1d, Bilinear -------------------------------------------------
def np_pixel_shuffle(x, r):
    *b, c, h, w = x.shape
    n = len(b)
    y = x.reshape(*b, c // (r * r), r, r, h, w).transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*b, c // (r * r), h * r, w * r)


@pytest.mark.parametrize("shape,r", [((1, 4, 2, 3), 2), ((2, 9, 1, 2), 3), ((4, 2, 3), 2), ((2, 1, 5, 1, 1), 1),
                                     ((0, 4, 2, 2), 2), ((2, 3, 4, 1, 2), 2)])
def test_pixel_shuffle_and_unshuffle(shape, r):
    check_op(lambda x: F.pixel_shuffle(x, r), lambda x: np_pixel_shuffle(x, r), shape)
    out_shape = np_pixel_shuffle(np.zeros(shape), r).shape
    check_op(lambda x: F.pixel_unshuffle(x, r), lambda x: _np_unshuffle(x, r), out_shape)
    x = fg.randn(*shape)
    assert F.pixel_unshuffle(nn.PixelShuffle(r)(x), r).tolist() == x.tolist()
    torch = pytest.importorskip("torch")
    y = F.pixel_shuffle(x, r)
    assert y.tolist() == torch.nn.PixelShuffle(r)(torch.tensor(x.numpy())).tolist()
    assert nn.PixelUnshuffle(r)(y).tolist() == torch.nn.PixelUnshuffle(r)(torch.tensor(y.numpy())).tolist()
    assert repr(nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))


def _np_unshuffle(x, r):
    *b, c, h, w = x.shape
    n = len(b)
    y = x.reshape(*b, c, h // r, r, w // r, r).transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*b, c * r * r, h // r, w // r)


def test_pixel_shuffle_bad_inputs():
    with pytest.raises(ValueError, match="divisible"):
        F.pixel_shuffle(fg.zeros(1, 3, 2, 2), 2)
    with pytest.raises(ValueError, match="divisible"):
        F.pixel_unshuffle(fg.zeros(1, 1, 3, 2), 2)
    with pytest.raises(ValueError, match="3 dimensions"):
        F.pixel_shuffle(fg.zeros(4, 2), 2)
    with pytest.raises(ValueError, match="positive"):
        nn.PixelShuffle(0)
    with pytest.raises(ValueError, match="positive"):
        F.pixel_unshuffle(fg.zeros(1, 1, 2, 2), 1.5)


def test_dropout1d():
    fg.manual_seed(0)
    x = fg.ones(8, 16, 5)
    y = nn.Dropout1d(0.5)(x).numpy()
    per_channel = y.reshape(8 * 16, 5)
    assert all(len(set(row)) == 1 for row in per_channel)   # a whole channel is kept or dropped
    assert set(per_channel[:, 0]) == {0.0, 2.0}
    m = nn.Dropout1d(0.5).eval()
    assert m(x) is x
    z = fg.ones(3, 7)
    assert F.dropout1d(z, 1.0).tolist() == fg.zeros(3, 7).tolist()
    w = fg.ones(2, 3, requires_grad=True)
    (F.dropout1d(w, 0.5) * 1.0).sum().backward()
    assert set(w.grad.numpy().ravel()) <= {0.0, 2.0}
    with pytest.raises(ValueError, match=r"\(N, C, L\)"):
        F.dropout1d(fg.ones(2, 3, 4, 5))
    with pytest.raises(ValueError):
        nn.Dropout1d(1.5)


def test_bilinear():
    check_op(lambda a, b, w, c: F.bilinear(a, b, w, c), lambda a, b, w, c: np.einsum("ni,oij,nj->no", a, w, b) + c,
             (3, 2), (3, 4), (5, 2, 4), (5,))
    check_op(lambda a, b, w: F.bilinear(a, b, w), lambda a, b, w: np.einsum("xyi,oij,xyj->xyo", a, w, b),
             (2, 3, 1), (2, 3, 3), (2, 1, 3))
    check_op(lambda a, b, w: F.bilinear(a, b, w), lambda a, b, w: np.einsum("i,oij,j->o", a, w, b), (3,), (2,), (1, 3, 2))
    fg.manual_seed(0)
    m = nn.Bilinear(4, 3, 6)
    assert m.weight.shape == (6, 4, 3) and m.bias.shape == (6,)
    assert np.abs(m.weight.numpy()).max() <= 0.5 and np.abs(m.weight.numpy()).max() > 0.3   # U(-1/√4, 1/√4)
    assert nn.Bilinear(2, 2, 2, bias=False).bias is None
    torch = pytest.importorskip("torch")
    tm = torch.nn.Bilinear(4, 3, 6)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x1, x2 = np.random.default_rng(0).standard_normal((5, 4)), np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(m(fg.tensor(x1), fg.tensor(x2)).numpy(),
                               tm(torch.tensor(x1, dtype=torch.float32), torch.tensor(x2, dtype=torch.float32))
                               .detach().numpy(), rtol=1e-5, atol=1e-6)
    assert repr(m) == repr(tm)
    with pytest.raises(ValueError, match="expects input1"):
        m(fg.zeros(5, 3), fg.zeros(5, 3))
    with pytest.raises(ValueError, match="expects input1"):
        m(fg.zeros(5, 4), fg.zeros(4, 3))
    with pytest.raises(ValueError, match="bias"):
        F.bilinear(fg.zeros(5, 4), fg.zeros(5, 3), m.weight, fg.zeros(5))


# ---- in-place unary variants, frac, fix, positive, signbit, bitwise_not ---------------------------------
IN_PLACE_CASES = [("log_", ()), ("log2_", ()), ("log10_", ()), ("log1p_", ()), ("expm1_", ()), ("floor_", ()),
                  ("ceil_", ()), ("round_", ()), ("trunc_", ()), ("fix_", ()), ("square_", ()), ("sign_", ()),
                  ("reciprocal_", ()), ("rsqrt_", ()), ("sin_", ()), ("cos_", ()), ("pow_", (3,)),
                  ("clamp_min_", (0.6,)), ("clamp_max_", (0.6,)), ("frac_", ())]


@pytest.mark.parametrize("name,args", IN_PLACE_CASES)
def test_in_place_unary_matches_pytorch(name, args):
    torch = pytest.importorskip("torch")
    x0 = np.array([0.25, 1.5, 2.75, 0.5, 3.25])

    def run(lib):
        x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
        y = x * 1.0
        alias = y
        out = getattr(y, name)(*args)
        (out * lib.tensor(x0, dtype=lib.float64)).sum().backward()
        plain = lib.tensor(x0, dtype=lib.float64)
        getattr(plain, name)(*args)
        return out is alias, y.tolist(), x.grad.tolist(), plain.tolist()

    ours, theirs = run(fg), run(torch)
    assert ours[0] and theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_unary_functions_match_pytorch():
    torch = pytest.importorskip("torch")
    x0 = [1.7, -1.7, 0.0, -0.0, -np.inf, np.inf, 3.0, -1e-300]
    for name in ("frac", "fix", "positive", "signbit"):
        ours, theirs = getattr(fg, name)(fg.tensor(x0, dtype=fg.float64)), getattr(torch, name)(torch.tensor(x0, dtype=torch.float64))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
    ints = [5, -3, 0, 2**62, -2**63]
    for name in ("signbit", "bitwise_not", "positive"):
        np.testing.assert_array_equal(getattr(fg.tensor(ints), name)().numpy(), getattr(torch.tensor(ints), name)()
                                      .numpy(), err_msg=name)
    b = [True, False]
    np.testing.assert_array_equal(fg.bitwise_not(fg.tensor(b)).numpy(), torch.bitwise_not(torch.tensor(b)).numpy())
    np.testing.assert_array_equal(fg.signbit(fg.tensor(b)).numpy(), torch.signbit(torch.tensor(b)).numpy())
    t = fg.tensor([5, -3])
    assert t.bitwise_not_() is t and t.tolist() == [-6, 2]
    check_op(fg.frac, lambda x: x - np.trunc(x), inputs=[[0.3, -1.6, 2.2, -0.4]])


def test_unary_bad_inputs():
    with pytest.raises(TypeError, match="in place"):
        fg.tensor([1, 2]).log_()   # a float result cannot be written into an int64 tensor
    with pytest.raises(TypeError, match="floating-point"):
        fg.frac(fg.tensor([1, 2]))
    with pytest.raises(TypeError, match="bool"):
        fg.positive(fg.tensor([True]))
    with pytest.raises(TypeError, match="integer or bool"):
        fg.bitwise_not(fg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="leaf"):
        fg.tensor([1.0], requires_grad=True).floor_()
    with pytest.raises(TypeError, match="Tensor"):
        fg.signbit([1.0])


def test_hooks_with_retain_grad_match_pytorch():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)   # the retained gradient is the hooked one
        z = y.exp()
        z.retain_grad()
        (y[1:].sum() + z.sum()).backward()
        return y.grad.tolist(), z.grad.tolist(), x.grad.tolist()

    for a, b in zip(run(fg), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_compile_refuses_integer_remainder_as_a_host_read_and_replays_float_math():
    compiled = fg.compile(lambda x, y: fg.remainder(x, y))
    x, y = fg.tensor([5, -5]), fg.tensor([3, 3])
    with pytest.raises(fg.CaptureError, match="host read"):
        for _ in range(3):
            compiled(x, y)
    compiled = fg.compile(lambda x, y: fg.floor_divide(x, y) + fg.atan2(x, y))
    for seed in range(3):
        a, b = fg.randn(4, generator=fg.Generator().manual_seed(seed)), fg.randn(4) + 3.0
        assert compiled(a, b).tolist() == (fg.floor_divide(a, b) + fg.atan2(a, b)).tolist()


def test_hooks_see_the_summed_gradient_of_a_tensor_used_twice():
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * x
        calls = []
        y.register_hook(lambda g: calls.append(g.tolist()))
        x.register_hook(lambda g: calls.append(("x", g.tolist())))
        z = (y * 3).sum() + (y[0] * y[1]).sum() + y.sum(0)[1]   # fan-out, an index, a reduction
        gx, = lib.autograd.grad(z, [x])
        return calls, gx.tolist(), x.grad

    ours, theirs = run(fg), run(torch)
    assert ours[0] == theirs[0] and ours[1] == theirs[1] and ours[2] is None and theirs[2] is None


def np_unfold(x, k, d, p, s):
    """im2col written out with numpy loops: row c·kh·kw + i·kw + j, column oy·ow + ox."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow))
    for ch in range(c):
        for i in range(k[0]):
            for j in range(k[1]):
                for oy in range(oh):
                    for ox in range(ow):
                        out[:, (ch * k[0] + i) * k[1] + j, oy * ow + ox] = xp[:, ch, oy * s[0] + i * d[0], ox * s[1] + j * d[1]]
    return out


def _np_fold(y, shape, k, d, p, s):
    """fold as unfold's transpose: the matrix of np_unfold applied to each basis image, transposed."""
    size = int(np.prod(shape[1:]))
    basis = np.eye(size).reshape((size, 1) + tuple(shape[1:]))
    columns = np.stack([np_unfold(b, k, d, p, s)[0].ravel() for b in basis], 1)   # (blocks, pixels)
    return (y.reshape(y.shape[0], -1) @ columns).reshape((y.shape[0],) + tuple(shape[1:]))


@pytest.mark.parametrize("shape, k, d, p, s", [((2, 3, 5, 6), (3, 3), (1, 1), (0, 0), (1, 1)),
                                               ((1, 2, 7, 5), (2, 3), (2, 1), (1, 2), (2, 3)),
                                               ((2, 1, 4, 4), (4, 4), (1, 1), (0, 0), (1, 1))])
def test_unfold_and_fold(shape, k, d, p, s):
    check_op(lambda x: F.unfold(x, k, d, p, s), lambda x: np_unfold(x, k, d, p, s), shape)
    blocks = np_unfold(np.zeros(shape), k, d, p, s).shape[1:]
    # fold is unfold's adjoint: <fold(y), x> == <y, unfold(x)>
    y, x = np.random.default_rng(1).standard_normal((shape[0],) + blocks), np.random.default_rng(2).standard_normal(shape)
    folded = F.fold(fg.tensor(y, dtype=fg.float64), shape[2:], k, d, p, s).numpy()
    assert np.isclose((folded * x).sum(), (y * np_unfold(x, k, d, p, s)).sum())
    check_op(lambda t: F.fold(t, shape[2:], k, d, p, s), lambda t: _np_fold(t, shape, k, d, p, s), (shape[0],) + blocks)
    unfold, fold = nn.Unfold(k, d, p, s), nn.Fold(shape[2:], k, d, p, s)
    t = fg.tensor(x, dtype=fg.float64, requires_grad=True)
    fold(unfold(t)).sum().backward()   # each pixel counted once per block that reads it
    counts = F.fold(F.unfold(fg.ones(*shape, dtype=fg.float64), k, d, p, s), shape[2:], k, d, p, s)
    assert np.array_equal(t.grad.numpy(), counts.numpy())
    torch = pytest.importorskip("torch")
    assert np.allclose(F.unfold(t, k, d, p, s).detach().numpy(),
                       torch.nn.functional.unfold(torch.tensor(x), k, d, p, s).numpy())
    assert np.allclose(folded, torch.nn.functional.fold(torch.tensor(y), shape[2:], k, d, p, s).numpy())
    unbatched = F.unfold(fg.tensor(x[0], dtype=fg.float64), k, d, p, s)
    assert unbatched.shape == blocks and np.allclose(unbatched.numpy(), np_unfold(x[:1], k, d, p, s)[0])


def test_unfold_and_fold_refuse_what_does_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        F.unfold(fg.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="3-D .* or 4-D"):
        F.unfold(fg.zeros(4, 4), 2)
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        nn.Unfold(0)
    with pytest.raises(ValueError, match="does not hold 2x2 blocks"):
        F.fold(fg.zeros(1, 8, 5), (3, 3), 2)   # a 3x3 output has 4 blocks of 2x2, not 5
    with pytest.raises(TypeError, match="output_size must be an int or a pair"):
        F.fold(fg.zeros(1, 4, 4), "3", 2)

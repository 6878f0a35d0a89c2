"""The shape and movement ops: every op through check_op (float64 forward against numpy, backward
against finite differences), against PyTorch where installed (forward and gradients, every dtype),
the bad-input table, the same bits on 1 and 2 threads, and the storage model (views share the
buffer, movements copy).

Each case is written once as fn(m, *tensors) where m is the module (fastgrad or torch): the two APIs
are the same, so one lambda runs in both."""
import warnings

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config, random_inputs


def np_split(a, sections, axis):
    """PyTorch's split: pieces of one size (the last shorter), or of the given sizes."""
    n = a.shape[axis]
    if isinstance(sections, int):
        sections = [min(sections, n - s) for s in range(0, n, sections)] or [0]
    return np.split(a, np.cumsum(sections)[:-1], axis=axis)


def weighted_cat(pieces, dim, m):
    """The pieces scaled by 1, 2, 3, ... and joined again: one output whose gradient tells them apart."""
    return m.cat([p * (i + 1) for i, p in enumerate(pieces)], dim)


def np_weighted_cat(pieces, dim):
    return np.concatenate([p * (i + 1) for i, p in enumerate(pieces)], dim)


# (id, input shapes, fn(m, *tensors), numpy reference(*arrays))
CASES = [
    ("view", [(2, 3, 5)], lambda m, x: x.view(5, -1), lambda a: a.reshape(5, -1)),
    ("view_tuple", [(6,)], lambda m, x: x.view((3, 2)), lambda a: a.reshape(3, 2)),
    ("view_empty", [(0, 3)], lambda m, x: x.view(3, 0), lambda a: a.reshape(3, 0)),
    ("view_as", [(2, 6), (4, 3)], lambda m, x, y: x.view_as(y) + y, lambda a, b: a.reshape(4, 3) + b),
    ("reshape", [(7,)], lambda m, x: x.reshape(1, 7, 1), lambda a: a.reshape(1, 7, 1)),
    ("reshape_fn", [(2, 3)], lambda m, x: m.reshape(x, (3, 2)), lambda a: a.reshape(3, 2)),
    ("reshape_0d", [()], lambda m, x: x.reshape(1, 1), lambda a: a.reshape(1, 1)),
    ("flatten", [(2, 3, 5)], lambda m, x: x.flatten(1), lambda a: a.reshape(2, 15)),
    ("flatten_range", [(2, 3, 5, 1)], lambda m, x: m.flatten(x, 0, -2), lambda a: a.reshape(30, 1)),
    ("flatten_0d", [()], lambda m, x: x.flatten(), lambda a: a.reshape(1)),
    ("unflatten", [(2, 15)], lambda m, x: x.unflatten(-1, (3, -1)), lambda a: a.reshape(2, 3, 5)),
    ("squeeze_all", [(1, 3, 1, 5)], lambda m, x: x.squeeze(), lambda a: a.reshape(3, 5)),
    ("squeeze_dim", [(1, 3, 1, 5)], lambda m, x: m.squeeze(x, -2), lambda a: a.reshape(1, 3, 5)),
    ("squeeze_tuple", [(1, 3, 1, 5)], lambda m, x: x.squeeze((0, 2)), lambda a: a.reshape(3, 5)),
    ("squeeze_0d", [()], lambda m, x: x.squeeze(0), lambda a: a),
    ("squeeze_not_1", [(3, 5)], lambda m, x: x.squeeze(1), lambda a: a),
    ("unsqueeze", [(3, 5)], lambda m, x: x.unsqueeze(-1), lambda a: a[:, :, None]),
    ("unsqueeze_fn", [(3, 5)], lambda m, x: m.unsqueeze(x, 1), lambda a: a[:, None]),
    ("unsqueeze_0d", [()], lambda m, x: x.unsqueeze(0), lambda a: a.reshape(1)),
    ("contiguous", [(3, 2)], lambda m, x: x.contiguous(), lambda a: a),
    ("clone", [(3, 7)], lambda m, x: x.clone(), lambda a: a),
    ("transpose", [(2, 3, 5)], lambda m, x: x.transpose(0, -1), lambda a: a.transpose(2, 1, 0)),
    ("transpose_same", [(2, 3)], lambda m, x: m.transpose(x, 1, -1), lambda a: a),
    ("transpose_col", [(7, 1)], lambda m, x: x.transpose(0, 1), lambda a: a.T),
    ("transpose_empty", [(0, 3)], lambda m, x: x.transpose(1, 0), lambda a: a.T),
    ("transpose_0d", [()], lambda m, x: x.transpose(0, -1), lambda a: a),
    ("swapaxes", [(2, 3, 5)], lambda m, x: m.swapaxes(x, 1, 2), lambda a: a.swapaxes(1, 2)),
    ("permute", [(2, 3, 5, 1)], lambda m, x: x.permute(3, 1, 0, 2), lambda a: a.transpose(3, 1, 0, 2)),
    ("permute_neg", [(2, 3, 5)], lambda m, x: m.permute(x, (-1, 0, -2)), lambda a: a.transpose(2, 0, 1)),
    ("permute_tuple", [(3, 2)], lambda m, x: x.permute((1, 0)), lambda a: a.T),
    ("mT", [(2, 3, 5)], lambda m, x: x.mT, lambda a: a.swapaxes(-1, -2)),
    ("T_2d", [(3, 5)], lambda m, x: x.T, lambda a: a.T),
    ("T_3d", [(2, 3, 5)], lambda m, x: x.T, lambda a: a.transpose(2, 1, 0)),
    ("t", [(3, 5)], lambda m, x: x.t(), lambda a: a.T),
    ("t_1d", [(5,)], lambda m, x: m.t(x), lambda a: a),
    ("movedim", [(2, 3, 5)], lambda m, x: x.movedim(0, -1), lambda a: np.moveaxis(a, 0, -1)),
    ("movedim_tuple", [(2, 3, 5)], lambda m, x: m.movedim(x, (0, 1), (2, 0)), lambda a: np.moveaxis(a, (0, 1), (2, 0))),
    ("expand", [(3, 1)], lambda m, x: x.expand(2, 3, 7), lambda a: np.broadcast_to(a, (2, 3, 7))),
    ("expand_keep", [(3, 1)], lambda m, x: x.expand(-1, 5), lambda a: np.broadcast_to(a, (3, 5))),
    ("expand_same", [(3, 2)], lambda m, x: x.expand(3, 2), lambda a: a),
    ("expand_to_0", [(1, 3)], lambda m, x: x.expand(0, 3), lambda a: np.broadcast_to(a, (0, 3))),
    ("expand_0d", [()], lambda m, x: x.expand(2, 3), lambda a: np.broadcast_to(a, (2, 3))),
    ("expand_as", [(1, 5), (4, 5)], lambda m, x, y: x.expand_as(y) * y, lambda a, b: a * b),
    ("broadcast_to", [(5,)], lambda m, x: m.broadcast_to(x, (2, 5)), lambda a: np.broadcast_to(a, (2, 5))),
    ("broadcast_tensors", [(3, 1), (1, 4)], lambda m, x, y: m.cat(m.broadcast_tensors(x, y), 0),
     lambda a, b: np.concatenate(np.broadcast_arrays(a, b), 0)),
    ("repeat", [(2, 3)], lambda m, x: x.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
    ("repeat_1", [(1,)], lambda m, x: x.repeat(5), lambda a: np.tile(a, 5)),
    ("repeat_col", [(3, 1)], lambda m, x: x.repeat((2, 4)), lambda a: np.tile(a, (2, 4))),
    ("repeat_zero", [(2, 3)], lambda m, x: x.repeat(0, 2), lambda a: np.tile(a, (0, 2))),
    ("repeat_empty", [(0, 2)], lambda m, x: x.repeat(2, 2), lambda a: np.tile(a, (2, 2))),
    ("cat", [(2, 3), (2, 5)], lambda m, x, y: m.cat([x, y], -1), lambda a, b: np.concatenate([a, b], -1)),
    ("cat_0", [(2, 3), (7, 3), (1, 3)], lambda m, x, y, z: m.cat((x, y, z)), lambda a, b, c: np.concatenate([a, b, c])),
    ("cat_mid", [(2, 3, 5), (2, 1, 5)], lambda m, x, y: m.concat([x, y], 1), lambda a, b: np.concatenate([a, b], 1)),
    ("cat_empty_piece", [(2, 0), (2, 3)], lambda m, x, y: m.cat([x, y], 1), lambda a, b: np.concatenate([a, b], 1)),
    ("cat_legacy_empty", [(0,), (2, 3)], lambda m, x, y: m.cat([x, y], 1), lambda a, b: b),
    ("cat_same", [(2, 3)], lambda m, x: m.cat([x, x * 2, x], 0), lambda a: np.concatenate([a, 2 * a, a])),
    ("stack", [(2, 3), (2, 3)], lambda m, x, y: m.stack([x, y]), lambda a, b: np.stack([a, b])),
    ("stack_last", [(2, 3), (2, 3)], lambda m, x, y: m.stack([x, y], -1), lambda a, b: np.stack([a, b], -1)),
    ("stack_0d", [(), ()], lambda m, x, y: m.stack([x, y]), lambda a, b: np.stack([a, b])),
    ("hstack", [(2, 3), (2, 1)], lambda m, x, y: m.hstack([x, y]), lambda a, b: np.hstack([a, b])),
    ("vstack", [(3,), (2, 3)], lambda m, x, y: m.vstack([x, y]), lambda a, b: np.vstack([a, b])),
    ("split", [(7, 3)], lambda m, x: weighted_cat(x.split(3), 0, m), lambda a: np_weighted_cat(np_split(a, 3, 0), 0)),
    ("split_sections", [(2, 7)], lambda m, x: weighted_cat(m.split(x, [2, 0, 5], -1), -1, m),
     lambda a: np_weighted_cat(np_split(a, [2, 0, 5], 1), 1)),
    ("chunk", [(2, 7)], lambda m, x: weighted_cat(x.chunk(3, 1), 1, m),
     lambda a: np_weighted_cat(np_split(a, 3, 1), 1)),
    ("chunk_fewer", [(6,)], lambda m, x: weighted_cat(m.chunk(x, 4), 0, m),
     lambda a: np_weighted_cat(np_split(a, 2, 0), 0)),
    ("unbind", [(3, 2, 5)], lambda m, x: m.stack([p * (i + 1) for i, p in enumerate(x.unbind(1))], 0),
     lambda a: np.stack([a[:, i] * (i + 1) for i in range(2)], 0)),
    ("narrow", [(3, 7)], lambda m, x: x.narrow(1, 2, 4), lambda a: a[:, 2:6]),
    ("narrow_neg", [(5, 2)], lambda m, x: m.narrow(x, 0, -3, 2), lambda a: a[2:4]),
    ("narrow_end", [(3, 4)], lambda m, x: x.narrow(1, 4, 0), lambda a: a[:, 4:]),
    ("narrow_twice", [(3, 7)], lambda m, x: x.narrow(1, 0, 4) + x.narrow(1, 3, 4), lambda a: a[:, :4] + a[:, 3:]),
    ("flip", [(2, 3, 5)], lambda m, x: x.flip(0, 2), lambda a: a[::-1, :, ::-1]),
    ("flip_fn", [(2, 3)], lambda m, x: m.flip(x, (-1,)), lambda a: a[:, ::-1]),
    ("fliplr", [(2, 3)], lambda m, x: m.fliplr(x), lambda a: a[:, ::-1]),
    ("flipud", [(2, 3)], lambda m, x: x.flipud(), lambda a: a[::-1]),
    ("roll", [(2, 5)], lambda m, x: x.roll(2, 1), lambda a: np.roll(a, 2, 1)),
    ("roll_dims", [(3, 5)], lambda m, x: m.roll(x, (1, -3), (0, 1)), lambda a: np.roll(a, (1, -3), (0, 1))),
    ("roll_flat", [(2, 3)], lambda m, x: x.roll(4), lambda a: np.roll(a, 4)),
    ("roll_whole", [(2, 5)], lambda m, x: x.roll(-5, 1), lambda a: a),
    ("tril", [(5, 5)], lambda m, x: x.tril(), lambda a: np.tril(a)),
    ("tril_batch", [(2, 3, 5)], lambda m, x: m.tril(x, -1), lambda a: np.tril(a, -1)),
    ("tril_far", [(3, 4)], lambda m, x: x.tril(100), lambda a: a),
    ("triu", [(3, 5)], lambda m, x: x.triu(2), lambda a: np.triu(a, 2)),
    ("triu_batch", [(2, 1, 5, 3)], lambda m, x: m.triu(x, -1), lambda a: np.triu(a, -1)),
    ("triu_empty", [(0, 3)], lambda m, x: m.triu(x), lambda a: a),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, shapes, fn, ref", CASES, ids=IDS)
def test_gradcheck(name, shapes, fn, ref):
    check_op(lambda *t: fn(fg, *t), ref, *shapes)


@pytest.mark.parametrize("name, shapes, fn, ref", CASES, ids=IDS)
def test_gradient_accumulates(name, shapes, fn, ref):
    """An input used twice: the first gradient is written, the second added to it."""
    check_op(lambda *t: fn(fg, *t) + 2 * fn(fg, *t), lambda *a: 3 * ref(*a), *shapes, check_float32=False)


@pytest.mark.parametrize("shape, perm", [((1,), (0,)), ((7, 11), (1, 0)), ((0, 4, 3), (2, 0, 1)),
                                         ((2, 3, 5, 7), (3, 1, 0, 2)), ((13, 1, 3), (1, 2, 0)),
                                         ((2, 2, 2, 2, 3), (4, 0, 3, 1, 2))], ids=str)
def test_permute_random_shapes(shape, perm):
    check_op(lambda t: t.permute(*perm), lambda a: a.transpose(perm), shape)


@pytest.mark.parametrize("seed", range(6))
def test_random_movements_match_numpy_for_every_dtype(seed):
    """Random shapes (with 0, 1 and primes) and random dims, on float32, float64, int64 and bool."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.choice([0, 1, 2, 3, 5, 7], size=rng.integers(1, 5)))
    n = len(shape)
    perm = rng.permutation(n)
    d = int(rng.integers(-n, n))
    reps = tuple(int(r) for r in rng.integers(0, 3, size=n + 1))
    for dtype in (fg.float32, fg.float64, fg.int64, fg.bool):
        a = (rng.standard_normal(shape) * 5).astype(dtype.np)
        x = fg.tensor(a, dtype=dtype)
        checks = [(x.permute(*perm.tolist()), a.transpose(perm)),
                  (x.flip(d), np.flip(a, d)),
                  (x.repeat(*reps), np.tile(a, reps)),
                  (fg.cat([x, x], d), np.concatenate([a, a], d)),
                  (fg.stack([x, x], d), np.stack([a, a], d)),
                  (x.unsqueeze(d % n).expand(*shape[:d % n], 3, *shape[d % n:]),
                   np.broadcast_to(np.expand_dims(a, d % n), shape[:d % n] + (3,) + shape[d % n:])),
                  (x.narrow(d, 0, shape[d] // 2), np.take(a, range(shape[d] // 2), d))]
        if n >= 2:
            checks += [(x.tril(1), np.tril(a, 1)), (x.triu(-1), np.triu(a, -1)), (x.mT, a.swapaxes(-1, -2))]
        for out, expected in checks:
            assert out.dtype is dtype
            assert out.shape == expected.shape
            np.testing.assert_array_equal(out.numpy(), expected)


def test_large_transposes_match_numpy():
    """Shapes past the tile size and the thread threshold, with ragged edges."""
    rng = np.random.default_rng(1)
    for shape, perm in [((300, 257), (1, 0)), ((3, 129, 67), (0, 2, 1)), ((33, 5, 70), (2, 1, 0)),
                        ((2, 3, 4, 5, 6, 7), (5, 3, 1, 0, 2, 4))]:
        for dtype in (fg.float32, fg.float64, fg.int64, fg.bool):
            a = (rng.standard_normal(shape) * 5).astype(dtype.np)
            np.testing.assert_array_equal(fg.tensor(a, dtype=dtype).permute(*perm).numpy(), a.transpose(perm))


# ---- the kernels themselves, on random layouts -------------------------------------------------------
def random_layout(rng, shape):
    """Element strides and offset that read a contiguous array of `shape` permuted and flipped:
    returns (walk shape, strides, offset, the array of source positions they read)."""
    base = np.arange(int(np.prod(shape))).reshape(shape)
    perm = rng.permutation(len(shape))
    view = base.transpose(perm)
    for d in range(len(shape)):
        if rng.random() < 0.3:
            view = np.flip(view, d)
    strides = [s // base.itemsize for s in view.strides]
    offset = int(view.flat[0]) if view.size else 0
    return view.shape, strides, offset, view


@pytest.mark.parametrize("seed", range(4))
def test_strided_copy_and_add_kernels_on_random_layouts(seed):
    """fg_strided_copy and fg_strided_add with both sides strided (permuted, flipped) against numpy,
    for every element size, past the tile and thread sizes."""
    from fastgrad._C import ffi, lib
    rng = np.random.default_rng(seed)
    for _ in range(25):
        shape = tuple(int(s) for s in rng.choice([0, 1, 2, 3, 5, 8, 9, 17, 40], size=rng.integers(0, 5)))
        walk, in_strides, in_offset, in_view = random_layout(rng, shape)
        for np_dtype, size in ((np.uint8, 1), (np.float32, 4), (np.float64, 8)):
            src = rng.integers(0, 100, size=shape).astype(np_dtype)
            dst = np.zeros(int(np.prod(walk)), np_dtype)
            o_strides, o_offset, o_view = target_layout(rng, walk)
            lib.fg_strided_copy(ffi.from_buffer(dst), ffi.from_buffer(src), size, walk, o_strides, in_strides,
                                o_offset, in_offset, len(walk))
            expected = np.zeros_like(dst)
            expected[o_view.reshape(-1)] = src.reshape(-1)[in_view.reshape(-1)]
            np.testing.assert_array_equal(dst, expected)
            if size > 1:
                acc = rng.integers(0, 100, size=dst.size).astype(np_dtype)
                expected = acc.copy()
                expected[o_view.reshape(-1)] += src.reshape(-1)[in_view.reshape(-1)]
                kernel = lib.fg_strided_add_f32 if size == 4 else lib.fg_strided_add_f64
                ctype = "float *" if size == 4 else "double *"
                kernel(ffi.cast(ctype, ffi.from_buffer(acc)), ffi.cast(ctype, ffi.from_buffer(src)), walk, o_strides,
                       in_strides, o_offset, in_offset, len(walk))
                np.testing.assert_array_equal(acc, expected)


def target_layout(rng, walk):
    """Strides and offset placing a walk-shaped index space into a buffer of as many elements,
    permuted and flipped, and the numpy array of target positions."""
    n = len(walk)
    perm = rng.permutation(n)
    stored = tuple(walk[p] for p in perm)   # the buffer is contiguous in this order
    positions = np.arange(int(np.prod(walk))).reshape(stored).transpose(np.argsort(perm))
    for d in range(n):
        if rng.random() < 0.3:
            positions = np.flip(positions, d)
    strides = [s // positions.itemsize for s in positions.strides]
    offset = int(positions.flat[0]) if positions.size else 0
    return strides, offset, positions


def test_triangle_kernel_every_diagonal():
    from fastgrad._C import ffi, lib
    rng = np.random.default_rng(0)
    for shape in [(5, 7), (3, 4, 6), (2, 40, 600), (0, 3), (3, 0)]:
        for diagonal in (-2**62, -1000, -3, -1, 0, 2, 5, 1000, 2**62):
            for upper in (0, 1):
                x = rng.standard_normal(shape)
                out = np.empty_like(x)
                rows, cols = shape[-2:]
                lib.fg_triangle(ffi.from_buffer(out), ffi.from_buffer(x), 8, upper, diagonal,
                                int(np.prod(shape[:-2])), rows, cols)
                np.testing.assert_array_equal(out, np.triu(x, diagonal) if upper else np.tril(x, diagonal))


# ---- PyTorch parity -------------------------------------------------------------------------------
@pytest.mark.parametrize("name, shapes, fn, ref", CASES, ids=IDS)
def test_torch_parity(name, shapes, fn, ref):
    """The same code on torch and fastgrad: values, shapes and gradients in float64; values in the
    other dtypes."""
    torch = pytest.importorskip("torch")
    arrays = random_inputs(shapes, seed=5)
    xs = [fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns about x.T on 3-D tensors
        out, tout = fn(fg, *xs), fn(torch, *ts)
        assert out.shape == tuple(tout.shape)
        np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
        g = np.random.default_rng(6).uniform(-1, 1, out.shape)
        out.backward(fg.tensor(g, dtype=fg.float64))
        tout.backward(torch.tensor(g))
        for x, t in zip(xs, ts):
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
        if "weighted" in fn.__code__.co_names or name.startswith(("unbind", "view_as", "expand_as")):
            return   # these scale their pieces: arithmetic that bool does not have
        for fdt, tdt in ((fg.float32, torch.float32), (fg.int64, torch.int64), (fg.bool, torch.bool)):
            data = [(a * 3).astype(fdt.np) for a in arrays]
            try:
                expected = fn(torch, *[torch.tensor(d, dtype=tdt) for d in data])
            except RuntimeError:
                continue   # torch has no such op for this dtype (x * 2 on bool, say)
            try:
                got = fn(fg, *[fg.tensor(d, dtype=fdt) for d in data])
            except TypeError as e:   # bool + bool: fastgrad has no arithmetic on two bool tensors
                assert "two bool tensors" in str(e)
                continue
            assert got.dtype.name == str(expected.dtype).replace("torch.", "")
            np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_torch_parity_cat_promotes_dtypes():
    torch = pytest.importorskip("torch")
    for a, b in [([1, 2], [0.5]), ([True], [3]), ([True], [0.25])]:
        got = fg.cat([fg.tensor(a), fg.tensor(b)])
        expected = torch.cat([torch.tensor(a), torch.tensor(b)])
        assert got.dtype.name == str(expected.dtype).replace("torch.", "")
        assert got.tolist() == expected.tolist()


def test_torch_parity_views_and_copies():
    """Writes through a view are seen by its base, as in PyTorch; a movement is a copy here, and an
    in-place write into the copy is written back into its base, as through PyTorch's view."""
    x = fg.zeros(2, 3)
    v = x.view(3, 2)
    v.fill_(1.0)
    assert x.tolist() == [[1.0] * 3] * 2
    for view in (x.reshape(6), x.flatten(), x.unsqueeze(0), x.squeeze(), x[None] if False else x.view(-1), x.contiguous(),
                 x.unflatten(1, (1, 3)), x.detach()):
        assert view._buf is x._buf
    for copy in (x.T, x.transpose(0, 1), x.permute(1, 0), x.expand(4, 2, 3), x.repeat(1, 1), x.narrow(1, 0, 2),
                 x.flip(0), x.clone(), fg.cat([x]), x.split(1)[0], x.tril()):
        assert copy._buf is not x._buf
    t = x.T
    t.fill_(5.0)
    assert x.tolist() == [[5.0] * 3] * 2
    x.t()[0].add_(1.0)
    x.narrow(1, 2, 1).mul_(2.0)
    assert x.tolist() == [[6.0, 5.0, 10.0], [6.0, 5.0, 10.0]]   # x.t()[0] is x's first column
    for row in x:
        row[0] = -1.0
    assert x[:, 0].tolist() == [-1.0, -1.0]


def test_tril_and_triu_in_place():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 4, 5))
    x, t = fg.tensor(a), torch.tensor(a, dtype=torch.float32)
    view = x.view(8, 5)
    assert x.tril_(1) is x and x.triu_(-1) is x
    np.testing.assert_array_equal(x.numpy(), t.tril_(1).triu_(-1).numpy())
    np.testing.assert_array_equal(view.numpy(), x.numpy().reshape(8, 5))   # written in place: views see it
    p = fg.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p.tril_()
    y = p * 2
    y.triu_(1)   # recorded: the gradient is masked like the values
    y.sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.triu(np.full(a.shape, 2.0), 1))


# ---- bad input -----------------------------------------------------------------------------------
BAD = [
    ("a.view(4, -1)", ValueError, r"shape '\[4, -1\]' is invalid for input of size 6"),
    ("a.view(5)", ValueError, r"shape '\[5\]' is invalid for input of size 6.*\(2, 3\)"),
    ("fg.zeros(0, 3).view(-1, 0)", ValueError, "ambiguous"),
    ("a.view(-1, -1)", ValueError, "only one dimension can be -1"),
    ("a.view(2.0, 3)", TypeError, "must hold integers"),
    ("a.view(fg.float64)", TypeError, r"view\(dtype\)"),
    ("a.view_as(3)", TypeError, "view_as: other must be a fastgrad Tensor"),
    ("a.flatten(1, 0)", ValueError, "start_dim cannot come after end_dim"),
    ("a.flatten(2)", IndexError, "flatten: dimension 2 is out of range for a tensor of 2 dimensions"),
    ("a.unflatten(1, (2, 2))", ValueError, r"sizes \[2, 2\] don't multiply up to the size of dim 1 \(3\)"),
    ("a.unflatten(1, ())", ValueError, "sizes must be non-empty"),
    ("a.squeeze(2)", IndexError, "squeeze: dimension 2 is out of range"),
    ("a.squeeze((0, 0))", ValueError, "dim 0 appears multiple times"),
    ("a.unsqueeze(3)", IndexError, "unsqueeze: dimension 3 is out of range for a tensor of 3 dimensions"),
    ("a.unsqueeze(-4)", IndexError, "out of range"),
    ("a.unsqueeze(1.0)", TypeError, "dim must be an integer"),
    ("a.transpose(0, 2)", IndexError, "transpose: dimension 2 is out of range for a tensor of 2 dimensions"),
    ("a.transpose(0)", TypeError, "dim1"),
    ("a.permute(0, 0)", ValueError, "dim 0 appears multiple times"),
    ("a.permute(0)", ValueError, r"dims \(0,\) must name each of the 2 dimensions .*\(2, 3\)"),
    ("a.permute(0, 1, 2)", IndexError, "out of range"),
    ("a.permute(0, 'x')", TypeError, "dim must be an integer"),
    ("fg.zeros(3).mT", ValueError, "matrices or batches of matrices"),
    ("fg.zeros(2, 2, 2).t()", ValueError, r"<= 2 dimensions, but self is 3D"),
    ("a.movedim((0, 1), 0)", ValueError, "same number of dims"),
    ("a.expand(2, 4)", ValueError, r"expanded size of the tensor \(4\) must match the existing size \(3\) at "
                                   r"non-singleton dimension 1"),
    ("a.expand(3)", ValueError, r"number of sizes provided \(1\) must be greater or equal .* \(2\)"),
    ("a.expand(-1, 2, 3)", ValueError, r"\(-1\) isn't allowed in a leading, non-existing dimension 0"),
    ("a.expand(2, -2)", ValueError, r"\(-2\) isn't allowed at dimension 1"),
    ("a.expand(2, 3.0)", TypeError, "must be integers"),
    ("a.expand_as(fg.zeros(3, 2))", ValueError, "must match the existing size"),
    ("a.repeat(2)", ValueError, r"repeat dims \(1\) can not be smaller than number of dimensions of tensor \(2"),
    ("a.repeat(2, -1)", ValueError, "non-negative"),
    ("fg.cat([])", ValueError, "non-empty list"),
    ("fg.cat(a)", TypeError, "expected a tuple or list of tensors, got Tensor"),
    ("fg.cat([a, 3])", TypeError, r"tensors\[1\] must be a fastgrad Tensor, got int"),
    ("fg.cat([a, fg.zeros(3, 2)])", ValueError, r"must match except in dimension 0; tensor number 1 .*\(3, 2\)"),
    ("fg.cat([a, fg.zeros(2, 3, 1)], 1)", ValueError, r"tensor number 1 in the list has shape \(2, 3, 1\)"),
    ("fg.cat([a, a], 2)", IndexError, "cat: dimension 2 is out of range"),
    ("fg.cat([fg.tensor(1.0), fg.tensor(2.0)])", ValueError, "zero-dimensional tensor"),
    ("fg.stack([a, fg.zeros(3, 2)])", ValueError, r"equal size, but got \(2, 3\) at entry 0 and \(3, 2\) at entry 1"),
    ("fg.stack([a, a], 3)", IndexError, "stack: dimension 3 is out of range"),
    ("fg.stack([])", ValueError, "non-empty"),
    ("a.split([1, 1], 1)", ValueError, r"sum exactly to 3 .*split_sizes=\[1, 1\]"),
    ("a.split([4, -1], 1)", ValueError, "sum exactly to 3"),
    ("a.split(0)", ValueError, "split_size=0"),
    ("a.split(-1)", ValueError, "split_size=-1"),
    ("a.split(1.5)", TypeError, "split_size must be an integer"),
    ("a.split(1, 2)", IndexError, "out of range"),
    ("a.chunk(0)", ValueError, "greater than 0, got: 0"),
    ("a.unbind(2)", IndexError, "out of range"),
    ("fg.tensor(1.0).unbind()", ValueError, "no dimensions"),
    ("a.narrow(1, 2, 2)", ValueError, r"start \(2\) \+ length \(2\) exceeds dimension size \(3\)"),
    ("a.narrow(1, 4, 0)", IndexError, r"start out of range \(expected to be in range of \[-3, 3\], but got 4\)"),
    ("a.narrow(1, 0, -1)", ValueError, "exceeds"),
    ("a.narrow(2, 0, 1)", IndexError, "out of range"),
    ("fg.tensor(1.0).narrow(0, 0, 1)", ValueError, "0-dim"),
    ("a.flip(0, 0)", ValueError, "appears multiple times"),
    ("a.flip(2)", IndexError, "out of range"),
    ("fg.zeros(3).fliplr()", ValueError, ">= 2-d"),
    ("a.roll((1, 2), 0)", ValueError, "same length"),
    ("a.roll((1, 2))", ValueError, "one integer"),
    ("fg.zeros(3).tril()", ValueError, r"tril: input tensor must have at least 2 dimensions, got shape \(3,\)"),
    ("fg.triu(fg.tensor(1.0))", ValueError, "at least 2 dimensions"),
    ("a.tril(0.5)", TypeError, "tril: diagonal must be an integer"),
    ("a.stride(2)", IndexError, "out of range"),
    ("fg.nn.Flatten(2, 1)(fg.zeros(2, 3, 4))", ValueError, "start_dim cannot come after end_dim"),
    ("fg.nn.Unflatten(1, (2, 2))(a)", ValueError, "don't multiply up"),
    ("fg.nn.Flatten()(3)", TypeError, "Flatten: input must be a fastgrad Tensor, got int"),
]


@pytest.mark.parametrize("code, exc, pattern", BAD, ids=[b[0] for b in BAD])
def test_bad_input(code, exc, pattern):
    names = {"fg": fg, "a": fg.randn(2, 3), "a64": fg.randn(2, 3, dtype=fg.float64)}
    with pytest.raises(exc, match=pattern):
        eval(code, names)


def test_huge_and_odd_arguments_never_reach_a_kernel():
    a = fg.randn(2, 3)
    assert a.tril(2**70).tolist() == a.tolist()   # clamped before the kernel's int64_t
    assert a.triu(-2**70).tolist() == a.tolist()
    with pytest.raises(MemoryError):
        fg.zeros(1, 1).expand(2**40, 2**40)
    with pytest.raises((MemoryError, OverflowError)):
        fg.zeros(1).repeat(2**62, 4)


# ---- threads and kernel paths ----------------------------------------------------------------------
def big_movements(seed):
    """Movements and their gradients on tensors large enough to be split between threads."""
    rng = np.random.default_rng(seed)
    x = fg.tensor(rng.standard_normal((3, 129, 257)), requires_grad=True)
    y = fg.tensor(rng.standard_normal((3, 129, 1)), requires_grad=True)
    outs = [x.permute(2, 0, 1), x.mT, x.transpose(0, 1), fg.cat([x, x.flip(1)], 2), fg.stack([x, x], 1), x.tril(3),
            x.triu(-7), y.expand(3, 129, 300), y.repeat(2, 1, 200), x.narrow(2, 5, 200), x.repeat(1, 1, 1)]
    total = None
    for o in outs:
        s = o.sum() if total is None else o.sum() + total
        total = s
    for o in outs[:4]:
        total = total + (o * o).sum()   # second uses: the accumulating backward
    total.backward()
    return [o.numpy().copy() for o in outs] + [x.grad.numpy().copy(), y.grad.numpy().copy()]


@pytest.mark.parametrize("path, threads", KERNEL_CONFIGS, ids=[f"{p}-{t}" for p, t in KERNEL_CONFIGS])
def test_same_bits_for_any_thread_count_and_path(path, threads):
    with kernel_config(path, 1):
        reference = big_movements(0)
    with kernel_config(path, threads):
        got = big_movements(0)
    for r, g in zip(reference, got):
        assert r.tobytes() == g.tobytes()


def test_short_rows_move_right_on_any_thread_count():
    """A permute whose contiguous runs are a few elements (an attention head's 16 floats; 13 and 2
    here) moves them inline, row after row: against numpy, forward and backward (strided add), with
    the same bits on 1 and 2 threads (the split falls mid-row)."""
    rng = np.random.default_rng(1)
    for shape in [(17, 67, 5, 13), (35, 3, 301, 2)]:
        a = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal((shape[0], shape[2], shape[1], shape[3])).astype(np.float32)
        results = []
        for threads in (1, 2):
            with kernel_config(None, threads):
                x = fg.tensor(a, requires_grad=True)
                y = x.permute(0, 2, 1, 3)
                (y * fg.tensor(g)).sum().backward()
                results.append((y.numpy().copy(), x.grad.numpy().copy()))
        np.testing.assert_array_equal(results[0][0], a.transpose(0, 2, 1, 3))
        np.testing.assert_array_equal(results[0][1], g.transpose(0, 2, 1, 3))
        assert all(r.tobytes() == t.tobytes() for r, t in zip(results[0], results[1]))


# ---- nn.Flatten / nn.Unflatten --------------------------------------------------------------------
def test_flatten_and_unflatten_modules():
    x = fg.randn(2, 3, 4, 5)
    assert fg.nn.Flatten()(x).shape == (2, 60)
    assert fg.nn.Flatten(0, -1)(x).shape == (120,)
    assert fg.nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)
    assert fg.nn.Unflatten(1, (3, 1))(fg.randn(2, 3)).shape == (2, 3, 1)
    assert fg.nn.Unflatten(-2, (2, -1))(x).shape == (2, 3, 2, 2, 5)
    check_op(lambda t: fg.nn.Unflatten(1, (2, 3))(fg.nn.Flatten()(t)), lambda a: a.reshape(4, 2, 3), (4, 3, 2))
    torch = pytest.importorskip("torch")
    for module, args in ((fg.nn.Flatten, ()), (fg.nn.Flatten, (0, 2)), (fg.nn.Unflatten, (1, (3, 1)))):
        t_module = getattr(torch.nn, module.__name__)(*args)
        assert module(*args)(x if module is fg.nn.Flatten else fg.randn(2, 3)).shape == tuple(
            t_module(torch.zeros(x.shape) if module is fg.nn.Flatten else torch.zeros(2, 3)).shape)
        assert repr(module(*args)).split("(")[0] == repr(t_module).split("(")[0]

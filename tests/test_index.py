"""Indexing (t[key], t[key] = v), the ops on the same kernels (index_select, gather, take,
masked_select, scatter_add, index_put_, nonzero, one_hot), nn.Embedding with dense and row-sparse
gradients, and the optimizers that take row-sparse gradients."""
import gc
import weakref

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

F = fg.nn.functional


def _torch_key(key, torch):
    items = key if isinstance(key, tuple) else (key,)
    return tuple(torch.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in items)


# ---- getitem: forward and backward against numpy / finite differences --------------------------------
# (shape, key) pairs where numpy's rules and PyTorch's agree; duplicates included
GRAD_CASES = [
    ((7,), 3),
    ((7,), -1),
    ((5, 3), (slice(1, 4),)),
    ((5, 3), (slice(None), 1)),
    ((5, 3), (slice(None, None, 2), slice(0, 3, 2))),
    ((2, 3, 5), (Ellipsis, 1)),
    ((2, 3, 5), (None, 1, Ellipsis, None)),
    ((7, 3), ([1, 1, 6, 0, 1],)),                     # duplicates
    ((7, 3), (np.array([[0, 6], [6, 6]]),)),          # an index array of shape (B, T): the embedding lookup
    ((3, 5), (np.arange(3), [4, 4, 0])),              # logp[range(n), y]
    ((2, 3, 5), ([0, 1, 1], slice(None), [4, 0, 4])),  # separated arrays: their dimension goes first
    ((2, 3, 5), (slice(None), [2, 0], slice(1, 4))),
    ((2, 3, 5), (slice(None), [[0], [2]], [1, 3, 3])),
    ((4, 3), (np.array([True, False, True, True]),)),
    ((4, 3), (np.array([[True, False, True]] * 4),)),
    ((0, 3), ([],)),
    ((3, 0), (slice(None), slice(0, 0))),
    ((1, 1), (0, [0, 0])),
    ((11, 13), (slice(2, 11, 3), [12, 0, 5])),
]


@pytest.mark.parametrize("shape,key", GRAD_CASES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(GRAD_CASES)])
def test_getitem_gradcheck(shape, key):
    check_op(lambda a: a[key], lambda a: a[key], shape)


# ---- getitem and setitem against PyTorch: one table of index expressions -----------------------------
PARITY_KEYS = [
    0, -2, (1, 2), slice(1, None), (slice(None), slice(0, 3, 2)), (Ellipsis, 1), (None, 0, Ellipsis, None),
    ([1, 0, 1],), (slice(None), [2, 0]), ([0, 1], slice(None), [1, 3]), ([0, 1], 0, [1, 3]),
    (np.array([[0, 1], [1, 0]]),), (slice(None), slice(None), [0, 3], [1, 4]), (0, [1, 2], None, [0, 1]),
    ([0, 1], None, [0, 1]), (slice(None), [[0], [2]], slice(1, 3), [1, 3]), (Ellipsis, [1, 2]),
    (1, Ellipsis, [0, 4], None), ([-1, -2],), (slice(-3, -1), -1), (slice(10, 20),), (slice(None), [True, False, True]),
]


def test_getitem_and_setitem_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for key in PARITY_KEYS:
        tkey = _torch_key(key, torch)
        # getitem: values and gradient (duplicates summed)
        a, ta = fg.tensor(x, dtype=fg.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = a[key], ta[tkey]
        assert out.shape == tuple(tout.shape), key
        np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
        g = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(fg.tensor(g, dtype=fg.float64))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=str(key))
        # setitem in place, with a scalar and with a broadcast tensor
        for value in (7.5, np.arange(out.shape[-1] if out.ndim else 1, dtype=np.float64)):
            b, tb = fg.tensor(x, dtype=fg.float64), torch.tensor(x)
            b[key] = fg.tensor(value, dtype=fg.float64) if isinstance(value, np.ndarray) else value
            tb[tkey] = torch.tensor(value) if isinstance(value, np.ndarray) else value
            np.testing.assert_array_equal(b.numpy(), tb.numpy(), err_msg=str(key))


def test_bool_mask_tensor_and_int_tensor_indices_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((4, 6)).astype(np.float32)
    mask = x > 0
    t, tt = fg.tensor(x), torch.tensor(x)
    np.testing.assert_array_equal(t[fg.tensor(mask)].numpy(), tt[torch.tensor(mask)].numpy())
    np.testing.assert_array_equal(t[mask].numpy(), tt[torch.tensor(mask)].numpy())
    idx = np.array([[3, 0, 3], [1, 1, 2]])
    np.testing.assert_array_equal(t[fg.tensor(idx)].numpy(), tt[torch.tensor(idx)].numpy())
    t[fg.tensor(mask)] = 0.0
    tt[torch.tensor(mask)] = 0.0
    np.testing.assert_array_equal(t.numpy(), tt.numpy())


def test_setitem_int_and_bool_tensors_cast_the_value():
    t = fg.tensor([1, 2, 3, 4])
    t[1:3] = 2.7   # truncated, as PyTorch casts to the tensor's dtype
    t[[0]] = fg.tensor([9.0])
    assert t.tolist() == [9, 2, 2, 4] and t.dtype is fg.int64
    m = fg.tensor([True, False, True])
    m[0] = 0
    assert m.tolist() == [False, False, True]


def test_setitem_overlapping_source_reads_the_old_values():
    t = fg.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    t[1:] = t[:-1].detach()   # a copy already; .data shares storage:
    u = fg.tensor([0.0, 1.0, 2.0, 3.0])
    u[1:] = u.data[:3]
    assert t.tolist() == [0, 0, 1, 2, 3] and u.tolist() == [0, 0, 1, 2]


# ---- setitem with autograd ------------------------------------------------------------------------------
SETITEM_KEYS = [(1,), (slice(None), [0, 3]), ([2, 0], [1, 1]), (np.array([True, False, True]),),
                (slice(0, 3, 2), 1)]


@pytest.mark.parametrize("key", SETITEM_KEYS, ids=range(len(SETITEM_KEYS)))
def test_recorded_setitem_gradcheck(key):
    """y = x * 1; y[key] = v: dx is g with zeros at the written places, dv is g there (summed over
    v's broadcast dimensions)."""
    sel_shape = np.zeros((3, 4))[key].shape
    v_shape = sel_shape[1:]   # broadcast along the first selected dimension

    def fg_fn(x, v):
        y = x * 1.0
        y[key] = v * 2.0
        return y

    def np_fn(x, v):
        y = x.copy()
        y[key] = v * 2.0
        return y
    check_op(fg_fn, np_fn, (3, 4), v_shape)   # (duplicates: test_recorded_setitem_matches_torch_with_duplicates)


def test_recorded_setitem_matches_torch_with_duplicates():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((4, 3))
    v = np.random.default_rng(4).standard_normal(3)
    a, va = fg.tensor(x, dtype=fg.float64, requires_grad=True), fg.tensor(v, dtype=fg.float64, requires_grad=True)
    ta, tva = torch.tensor(x, requires_grad=True), torch.tensor(v, requires_grad=True)
    y, ty = a * 3.0, ta * 3.0
    y[[1, 1, 2]] = va
    ty[torch.tensor([1, 1, 2])] = tva
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(va.grad.numpy(), tva.grad.numpy())


def test_setitem_rules_for_leaves_views_and_no_grad():
    w = fg.randn(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 1.0
    with fg.no_grad():
        w[0] = 1.0
    assert w.numpy()[0].tolist() == [1.0] * 4 and w.is_leaf
    # an in-place write to a tensor an op saved for backward is detected
    t = fg.randn(3)
    v = t.reshape(3)   # shares storage
    y = (w[:, 0] * t).sum()
    v[0] = 5.0
    assert t.numpy()[0] == 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# ---- the related ops --------------------------------------------------------------------------------
def test_index_select_gather_take_masked_select_gradcheck():
    idx = np.array([4, 0, 4, 2])
    check_op(lambda a: a.index_select(1, fg.tensor(idx)), lambda a: a[:, idx], (3, 5))
    gidx = np.array([[0, 2, 2], [1, 1, 0]])
    check_op(lambda a: a.gather(1, fg.tensor(gidx)), lambda a: np.take_along_axis(a, gidx, 1), (2, 3))
    check_op(lambda a: a.gather(0, fg.tensor(gidx)), lambda a: np.take_along_axis(a[:, :3], gidx, 0), (3, 4))
    check_op(lambda a: fg.take(a, fg.tensor([[0, -1], [5, 5]])), lambda a: a.reshape(-1)[[[0, -1], [5, 5]]], (2, 3))
    mask = np.array([[True, False, True], [False, False, True]])
    check_op(lambda a: a.masked_select(fg.tensor(mask)), lambda a: a[mask], (2, 3))
    check_op(lambda a: a.masked_select(fg.tensor(mask[0])), lambda a: a[:, mask[0]].reshape(-1), (2, 3))
    check_op(lambda a: a.masked_select(fg.tensor(mask)), lambda a: np.broadcast_to(a, (2, 3))[mask], (3,))


def test_scatter_add_gradcheck_and_torch():
    idx = np.array([[0, 2, 0], [1, 1, 1]])
    expected = lambda x, s: x + np.stack([np.bincount(idx[:, j], s[:, j], minlength=4) for j in range(3)], 1)  # noqa: E731
    check_op(lambda x, s: x.scatter_add(0, fg.tensor(idx), s), expected, (4, 3), (2, 3))
    torch = pytest.importorskip("torch")
    x, s = np.zeros((3, 5)), np.arange(12.0).reshape(3, 4)
    i2 = np.array([[4, 4], [0, 1]])
    tx = torch.tensor(x).scatter_add(1, torch.tensor(i2), torch.tensor(s))
    np.testing.assert_array_equal(fg.tensor(x, dtype=fg.float64).scatter_add(1, fg.tensor(i2),
                                                                              fg.tensor(s, dtype=fg.float64)).numpy(),
                                  tx.numpy())
    t = fg.zeros(3, 5, dtype=fg.float64)
    assert t.scatter_add_(1, fg.tensor(i2), fg.tensor(s, dtype=fg.float64)) is t
    np.testing.assert_array_equal(t.numpy(), tx.numpy())


def test_index_put_accumulate_sums_duplicates():
    torch = pytest.importorskip("torch")
    t, tt = fg.zeros(4, 2), torch.zeros(4, 2)
    rows = [0, 3, 0, 0]
    t.index_put_((fg.tensor(rows),), fg.tensor([1.0, 2.0]), accumulate=True)
    tt.index_put_((torch.tensor(rows),), torch.tensor([1.0, 2.0]), accumulate=True)
    np.testing.assert_array_equal(t.numpy(), tt.numpy())
    t.index_put_((fg.tensor([1]), fg.tensor([1])), fg.tensor(5.0))
    tt.index_put_((torch.tensor([1]), torch.tensor([1])), torch.tensor(5.0))
    np.testing.assert_array_equal(t.numpy(), tt.numpy())


def test_nonzero_and_one_hot_match_torch():
    torch = pytest.importorskip("torch")
    for x in (np.array([[0, 1.5, 0], [2, 0, -1]]), np.zeros((0, 3)), np.array([[True, False]]), np.array(3)):
        np.testing.assert_array_equal(fg.tensor(x).nonzero().numpy(), torch.tensor(x).nonzero().numpy())
        for a, b in zip(fg.nonzero(fg.tensor(x), as_tuple=True), torch.nonzero(torch.tensor(x), as_tuple=True)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    for x, n in ((np.array([0, 3, 1]), -1), (np.array([[2, 0]]), 5), (np.zeros(0, dtype=np.int64), 4)):
        out = F.one_hot(fg.tensor(x), n)
        assert out.dtype is fg.int64
        np.testing.assert_array_equal(out.numpy(), torch.nn.functional.one_hot(torch.tensor(x), n).numpy())


# ---- nn.Embedding -----------------------------------------------------------------------------------
def test_embedding_gradcheck_with_duplicates_and_shapes():
    for shape, idx in (((7, 3), [[0, 6, 6], [2, 0, 6]]), ((1, 1), [0, 0]), ((5, 2), np.zeros((0, 4), np.int64)),
                       ((13, 0), [3, 12])):
        idx = np.asarray(idx)
        check_op(lambda w: F.embedding(fg.tensor(idx), w), lambda w: w[idx], shape)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    torch = pytest.importorskip("torch")
    fg.manual_seed(0)
    emb = fg.nn.Embedding(10, 4, padding_idx=padding_idx)
    if padding_idx is not None:
        assert np.all(emb.weight.numpy()[padding_idx] == 0)
    temb = torch.nn.Embedding(10, 4, padding_idx=padding_idx)
    temb.weight.data = torch.tensor(emb.weight.numpy().copy())
    idx = np.array([[2, 9, 2, 0], [9, 9, 1, 2]])
    out, tout = emb(fg.tensor(idx)), temb(torch.tensor(idx))
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    g = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    out.backward(fg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(emb.weight.grad.numpy(), temb.weight.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_embedding_init_is_standard_normal_and_seeded():
    fg.manual_seed(1)
    w = fg.nn.Embedding(2000, 50).weight.numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    fg.manual_seed(1)
    np.testing.assert_array_equal(fg.nn.Embedding(2000, 50).weight.numpy(), w)


def test_sparse_embedding_gradient():
    fg.manual_seed(0)
    dense, sparse = fg.nn.Embedding(6, 3, padding_idx=1), fg.nn.Embedding(6, 3, padding_idx=1, sparse=True)
    sparse.weight.data = fg.tensor(dense.weight.numpy().copy())
    idx = fg.tensor([[1, 4, 4], [0, 1, 5]])
    for _ in range(2):   # a second backward concatenates
        (dense(idx) * dense(idx)).sum().backward()
        (sparse(idx) * sparse(idx)).sum().backward()
    grad = sparse.weight.grad
    assert isinstance(grad, fg.sparse.RowSparseGrad) and 1 not in grad.indices.tolist()
    assert grad.indices.size == 2 * 2 * 4   # two lookups per backward, two backwards
    np.testing.assert_allclose(grad.to_dense().numpy(), dense.weight.grad.numpy(), rtol=1e-6)
    c = grad.coalesce()
    assert c.indices.tolist() == [0, 4, 5]
    np.testing.assert_allclose(c.to_dense().numpy(), dense.weight.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("rows", [1, 7, 300, 70_000, 2**40])   # row ids of one to six bytes (radix passes)
@pytest.mark.parametrize("n", [0, 1, 5, 1000])
def test_coalesce_sorts_rows_and_sums_repeats_in_order(rows, n):
    rng = np.random.default_rng(n)
    index, values = rng.integers(0, rows, n), rng.standard_normal((n, 3)).astype(np.float32)
    c = fg.sparse.RowSparseGrad(index, fg.tensor(values), (rows, 3)).coalesce()
    distinct, inverse = np.unique(index, return_inverse=True)
    want = np.zeros((distinct.size, 3), np.float32)
    for i, k in enumerate(inverse.reshape(-1)):   # from zero, repeats added in order: the eager bits
        want[k] += values[i]
    assert c.indices.tolist() == distinct.tolist() and c.values.numpy().tobytes() == want.tobytes()


@pytest.mark.parametrize("name,kwargs", [("SparseAdam", dict(lr=0.05)), ("SGD", dict(lr=0.1)),
                                         ("SGD", dict(lr=0.1, momentum=0.9))])
def test_sparse_optimizers_match_torch_over_50_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((20, 4)).astype(np.float32)
    emb, temb = fg.nn.Embedding(20, 4, sparse=True), torch.nn.Embedding(20, 4, sparse=True)
    emb.weight.data, temb.weight.data = fg.tensor(w), torch.tensor(w)
    opt, topt = getattr(fg.optim, name)([emb.weight], **kwargs), getattr(torch.optim, name)([temb.weight], **kwargs)
    untouched = set(range(20))
    for _ in range(50):
        idx = rng.integers(0, 16, (3, 5))   # rows 16..19 are never seen
        target = rng.standard_normal((3, 5, 4)).astype(np.float32)
        opt.zero_grad()
        topt.zero_grad()
        d = emb(fg.tensor(idx)) - fg.tensor(target)
        (d * d).sum().backward()
        ((temb(torch.tensor(idx)) - torch.tensor(target)) ** 2).sum().backward()
        opt.step()
        topt.step()
        untouched -= set(idx.ravel().tolist())
    np.testing.assert_allclose(emb.weight.numpy(), temb.weight.detach().numpy(), rtol=1e-5, atol=1e-5)
    for r in untouched:
        np.testing.assert_array_equal(emb.weight.numpy()[r], w[r])


def test_dense_optimizers_refuse_sparse_gradients_and_sparse_adam_dense_ones():
    emb = fg.nn.Embedding(5, 2, sparse=True)
    emb(fg.tensor([1, 2])).sum().backward()
    for opt in (fg.optim.Adam([emb.weight]), fg.optim.AdamW([emb.weight])):
        with pytest.raises(RuntimeError, match="does not support sparse gradients"):
            opt.step()
    lin = fg.nn.Linear(2, 2)
    lin(fg.randn(3, 2)).sum().backward()
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        fg.optim.SparseAdam(lin.parameters()).step()


# ---- threads: the same bits ---------------------------------------------------------------------------
def test_index_kernels_give_the_same_bits_for_any_thread_count():
    rng = np.random.default_rng(5)
    table = fg.tensor(rng.standard_normal((300, 256)).astype(np.float32), requires_grad=True)
    idx = fg.tensor(rng.integers(0, 300, (64, 32)))   # many duplicates
    g = fg.tensor(rng.standard_normal((64, 32, 256)).astype(np.float32))
    big = fg.tensor(rng.standard_normal((400, 300)).astype(np.float32))
    results = []
    for path, threads in KERNEL_CONFIGS:
        with kernel_config(path, threads):
            table.grad = None
            out = F.embedding(idx, table)
            out.backward(g)
            picked = big[:, 1::3]
            results.append((out.numpy().copy(), table.grad.numpy().copy(), picked.numpy().copy()))
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b)


# ---- bad inputs ---------------------------------------------------------------------------------------
t = fg.randn(3, 4)
BAD = [
    (lambda: t[3], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda: t[0, -5], IndexError, "index -5 is out of bounds for dimension 1 with size 4"),
    (lambda: t[[0, 3]], IndexError, "index 3 is out of bounds for dimension 0"),
    (lambda: t[:, fg.tensor([[1, 4]])], IndexError, "index 4 is out of bounds for dimension 1"),
    (lambda: t[0, 0, 0], IndexError, "too many indices for tensor of dimension 2"),
    (lambda: t[..., ...], IndexError, "single ellipsis"),
    (lambda: t[fg.tensor([0.0, 1.0])], IndexError, "must be long or bool"),
    (lambda: t[np.array([0.5])], IndexError, "integer or bool"),
    (lambda: t[1.5], IndexError, "only integers, slices"),
    (lambda: t["a"], IndexError, "only integers, slices"),
    (lambda: t[::-1], ValueError, "step must be greater than zero"),
    (lambda: t[::0], ValueError, "step must be greater than zero"),
    (lambda: t[np.array([True, False])], IndexError, "shape of the mask"),
    (lambda: t[[0, 1], [0, 1, 2]], IndexError, "could not be broadcast"),
    (lambda: t.__setitem__(0, fg.ones(5)), ValueError, "cannot be broadcast to the indexed shape"),
    (lambda: t.index_select(2, fg.tensor([0])), IndexError, "out of range"),
    (lambda: t.index_select(0, fg.tensor([0.0])), TypeError, "must be an integer"),
    (lambda: t.gather(1, fg.tensor([[4]])), IndexError, "index 4 is out of bounds for dimension 1"),
    (lambda: t.gather(1, fg.tensor([1])), ValueError, "dimensions"),
    (lambda: fg.take(t, fg.tensor([12])), IndexError, "index 12 is out of bounds"),
    (lambda: t.masked_select(fg.tensor([1, 0, 1, 1])), TypeError, "bool"),
    (lambda: t.masked_select(np.array([True, False])), ValueError, "does not broadcast"),
    (lambda: t.scatter_add(0, fg.tensor([[3]]), fg.ones(1, 1)), IndexError, "out of bounds"),
    (lambda: t.scatter_add(0, fg.tensor([[0]]), fg.ones(1, 1, dtype=fg.float64)), TypeError, "dtype"),
    (lambda: F.one_hot(fg.tensor([0.0, 1.0])), RuntimeError, "index tensors"),
    (lambda: F.one_hot(fg.tensor([0, 3]), 3), RuntimeError, "smaller than num_classes"),
    (lambda: F.one_hot(fg.tensor([-1]), 3), RuntimeError, "non-negative"),
    (lambda: F.embedding(fg.tensor([10]), fg.randn(10, 2)), IndexError, "index 10 is out of range for a table"),
    (lambda: F.embedding(fg.tensor([-1]), fg.randn(10, 2)), IndexError, "out of range"),
    (lambda: F.embedding(fg.tensor([1.0]), fg.randn(10, 2)), TypeError, "must be an integer"),
    (lambda: F.embedding(fg.tensor([1]), fg.randn(10)), ValueError, "2-D float"),
    (lambda: fg.nn.Embedding(4, 2, padding_idx=4), ValueError, "padding_idx"),
    (lambda: fg.nn.Embedding(-1, 2), ValueError, "num_embeddings"),
    (lambda: fg.sparse.RowSparseGrad([5], fg.zeros(1, 2), (5, 2)), IndexError, r"\[0, 5\)"),
]


@pytest.mark.parametrize("fn,exc,msg", BAD, ids=range(len(BAD)))
def test_bad_inputs(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


def test_sparse_and_dense_gradients_of_one_table_add_up():
    fg.manual_seed(2)
    emb = fg.nn.Embedding(5, 3, sparse=True)
    idx = fg.tensor([4, 0, 4])
    w = emb.weight
    (emb(idx).sum() + (w * w).sum()).backward()   # the sparse and the dense contribution, either order
    expected = 2 * w.numpy()
    np.add.at(expected, [4, 0, 4], 1.0)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-6)


def test_augmented_assignment_through_an_index():
    """x[idx] += v reads, adds and writes back (repeated indices: written once, as in PyTorch);
    the optimizer-style W[ix] -= lr * g runs in place under no_grad."""
    x = fg.zeros(4)
    x[[1, 3, 1]] += 1.0
    assert x.tolist() == [0, 1, 0, 1]
    w = fg.ones(3, 2, requires_grad=True)
    with fg.no_grad():
        w[[0, 2]] -= 0.5 * fg.ones(2, 2)
    assert w.numpy()[:, 0].tolist() == [0.5, 1.0, 0.5] and w.is_leaf
    # recorded: y[1:] += ... reads y (an Index op on y's node at that moment), then writes it
    a = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = a * 2.0
    y[1:] += a[:2]
    y.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0, 2.0]
    a.grad = None
    y = a * 2.0
    y[1:] = y[1:] * 1.0 + a[:2]   # the same, written out
    y.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0, 2.0]
    a.grad = None
    y = a * 2.0
    y.index_put_((fg.tensor([1, 2]),), a[:2], accumulate=True)   # the recordable form of y[1:] += a[:2]
    y.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0, 2.0]
    a.grad = None
    y = a * 2.0
    y[1:] = a[:2] * 3.0   # nothing recorded reads y before the write
    y.sum().backward()
    assert a.grad.tolist() == [5.0, 3.0, 0.0]


def test_setitem_of_a_value_that_requires_grad_into_a_plain_tensor():
    """out = zeros; out[idx] = v: out joins the graph (as in PyTorch), v gets the gradient."""
    v = fg.tensor([1.0, 2.0], requires_grad=True)
    out = fg.zeros(3)
    out[[0, 2]] = v * 2.0
    assert out.requires_grad and not out.is_leaf
    (out * fg.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert v.grad.tolist() == [2.0, 200.0]
    assert out.tolist() == [2.0, 0.0, 4.0]


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64, fg.int64, fg.bool])
def test_a_row_of_data_is_its_own_copy_that_writes_back(dtype):
    """t[i] of a tensor no gradient flows through (a Dataset's __getitem__) takes a shorter path:
    the same rows, bounds and write-back as every other basic index."""
    a = np.arange(24).reshape(4, 3, 2) % 5
    x = fg.tensor(a, dtype=dtype)
    for i in (0, 2, -1, -4):
        np.testing.assert_array_equal(x[i].numpy(), a[i].astype(x.numpy().dtype))
        assert x[i].dtype is dtype and x[i].shape == (3, 2)
    assert fg.tensor(a[:, 0, 0], dtype=dtype)[1].shape == ()
    assert fg.zeros(3, 0, dtype=dtype)[1].shape == (0,)
    for bad in (4, -5):
        with pytest.raises(IndexError, match=f"index {bad} is out of bounds for dimension 0 with size 4"):
            x[bad]
    x[1].zero_()   # written back into x, as through PyTorch's view
    assert not x.numpy()[1].any() and x.numpy()[2].tolist() == a[2].astype(x.numpy().dtype).tolist()


def test_rows_taken_by_the_thousand_leave_nothing_behind_and_the_kept_ones_write_back():
    """Every row holds its base (inplace.derived) while it lives, and no longer."""
    x = fg.tensor(np.arange(20000.0).reshape(10000, 2))
    for i in range(10000):
        x[i]   # a Dataset's rows, dropped at once
    kept = [x[7], x[9_000]]
    base = weakref.ref(x)
    del x
    assert base() is not None   # the kept rows hold it, to write into
    kept[0].fill_(-1.0)
    kept[1].mul_(0.0)
    x = base()
    assert x[7].tolist() == [-1.0, -1.0] and x[9_000].tolist() == [0.0, 0.0] and x[8].tolist() == [16.0, 17.0]
    fg.from_numpy(a := np.zeros((2, 2)))[1].fill_(3.0)   # the base tensor dies at once; its buffer is a's
    assert a.tolist() == [[0.0, 0.0], [3.0, 3.0]]
    del kept, x
    gc.collect()
    assert base() is None   # nothing else held it: no table keeps rows or bases

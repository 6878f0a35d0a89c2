"""The general expression path: layers written out as `(x @ W + b).relu()`, broadcasting binary ops,
and gradients handed over or written instead of zero-filled and added to."""
import sys

import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from fastgrad.ops.matmul import MatMulBias

DTYPES = [fg.float32, fg.float64]


def _leaves(*shapes, dtype=fg.float32, seed=0):
    rng = np.random.default_rng(seed)
    return [fg.tensor(rng.standard_normal(s), dtype=dtype, requires_grad=True) for s in shapes]


def _grads(tensors):
    return [None if t.grad is None else t.grad.numpy().copy() for t in tensors]


def _run(fn, leaves):
    for t in leaves:
        t.grad = None
    out = fn(*leaves)
    (out * out).sum().backward()
    return out.numpy().copy(), _grads(leaves)


# ---- x @ W + b, and its ReLU: one MatMulBias op, with the bits of the separate ops -------------------
# `(x @ W) * 1.0` is the same product through a Mul, which the Add does not fuse: the unfused reference.
FORMS = {
    "x @ W + b": (lambda x, w, b: x @ w + b, lambda x, w, b: (x @ w) * 1.0 + b),
    "b + x @ W": (lambda x, w, b: b + x @ w, lambda x, w, b: b + (x @ w) * 1.0),
    "(x @ W + b).relu()": (lambda x, w, b: (x @ w + b).relu(), lambda x, w, b: ((x @ w) * 1.0 + b).relu()),
    "F.relu(x.matmul(W) + b)": (lambda x, w, b: F.relu(x.matmul(w) + b), lambda x, w, b: F.relu(x.matmul(w) * 1.0 + b)),
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape,bias_shape", [((5, 4), (3,)), ((5, 4), (1, 3)), ((2, 5, 4), (3,)),
                                                ((1, 4), (3,)), ((0, 4), (3,))])
def test_affine_layer_is_one_op_with_the_bits_of_the_separate_ops(form, dtype, x_shape, bias_shape):
    fused, plain = FORMS[form]
    leaves = _leaves(x_shape, (4, 3), bias_shape, dtype=dtype)
    out = fused(*leaves)
    assert type(out._op) is MatMulBias and out._op.inputs[0] is leaves[0]
    got, want = _run(fused, leaves), _run(plain, leaves)
    np.testing.assert_array_equal(got[0], want[0])
    for g, w in zip(got[1], want[1]):
        np.testing.assert_array_equal(g, w)


def test_affine_layer_matches_torch_with_the_product_and_sum_used_elsewhere():
    torch = pytest.importorskip("torch")
    x, w, b = _leaves((6, 5), (5, 4), (4,), dtype=fg.float64)
    h = x @ w
    pre = h + b
    y = pre.relu()
    loss = (y * y).sum() + (h * h).sum() + pre.sum()   # fan-out through the product and the sum
    loss.backward()
    tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
    th = tx @ tw
    tpre = th + tb
    ty = tpre.relu()
    ((ty * ty).sum() + (th * th).sum() + tpre.sum()).backward()
    for mine, theirs in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_only_the_affine_form_fuses():
    x, w, col, full = _leaves((5, 4), (4, 3), (5, 1), (5, 3))
    assert type((x @ w + col)._op).__name__ == "Add"    # a column, not a bias over W's columns
    assert type((x @ w + full)._op).__name__ == "Add"   # same shape: the plain Add
    assert type((x @ w - w[0]).relu()._op).__name__ == "ReLU"
    y = (x @ w + w[0]).relu()
    assert type(y.relu()._op).__name__ == "ReLU"   # one ReLU is fused, a second is its own op
    x1, row = _leaves((5, 1), (1, 3))
    assert type((x1 @ row + row)._op).__name__ == "Add"   # the bias is W itself: not fused
    torch = pytest.importorskip("torch")
    (x1 @ row + row).relu().sum().backward()
    tx, trow = (torch.tensor(t.numpy(), requires_grad=True) for t in (x1, row))
    (tx @ trow + trow).relu().sum().backward()
    np.testing.assert_allclose(row.grad.numpy(), trow.grad.numpy(), rtol=1e-6)
    with fg.no_grad():
        assert (x @ w + w[0]).relu()._op is None


# ---- x @ W.T (+ b) (.relu()), with W as PyTorch lays a layer's weight out: the Linear ops -------------
TRANSPOSED_FORMS = {
    "x @ W.T": (lambda x, w, b: x @ w.T, "Linear"),
    "x.matmul(W.t()) + b": (lambda x, w, b: x.matmul(w.t()) + b, "Linear"),
    "b + x @ W.transpose(0, 1)": (lambda x, w, b: b + x @ w.transpose(0, 1), "Linear"),
    "(x @ W.T + b).relu()": (lambda x, w, b: (x @ w.T + b).relu(), "LinearReLU"),
    "F.relu(x @ W.mT)": (lambda x, w, b: F.relu(x @ w.mT), "LinearReLU"),
    "F.relu(F.linear(x, W, b))": (lambda x, w, b: F.relu(F.linear(x, w, b)), "LinearReLU"),
}


@pytest.mark.parametrize("form", sorted(TRANSPOSED_FORMS))
@pytest.mark.parametrize("x_shape", [(5, 4), (2, 5, 4), (4,), (0, 4)])
def test_a_product_with_a_fresh_transpose_is_a_linear_layer_on_w(form, x_shape):
    """The op is recorded on W itself (its gradient does not go through W.T's copy) and the results
    match PyTorch's."""
    torch = pytest.importorskip("torch")
    fn, op = TRANSPOSED_FORMS[form]
    x, w, b = _leaves(x_shape, (3, 4), (3,), dtype=fg.float64)
    out = fn(x, w, b)
    if len(x_shape) > 1 or "b" not in form:   # (a 1-D product and b have one shape: the plain Add)
        assert type(out._op).__name__ == op and out._op.inputs[1] is w
    got = _run(fn, (x, w, b))
    tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
    tout = fn(tx, tw, tb) if "F." not in form else torch.nn.functional.relu(
        torch.nn.functional.linear(tx, tw, tb) if "linear" in form else tx @ tw.mT)
    (tout * tout).sum().backward()
    np.testing.assert_allclose(got[0], tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, theirs in zip(got[1], (tx, tw, tb)):
        if theirs.grad is None:
            assert mine is None
        else:
            np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_a_transpose_read_elsewhere_or_written_since_still_gives_the_right_gradients():
    torch = pytest.importorskip("torch")
    x, w, b = _leaves((5, 4), (3, 4), (3,), dtype=fg.float64)
    wt = w.T
    y = (x @ wt + b).relu()
    assert type(y._op).__name__ == "LinearReLU"
    ((y * y).sum() + (wt * wt).sum()).backward()   # the transpose's own consumer
    tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
    twt = tw.T
    ty = (tx @ twt + tb).relu()
    ((ty * ty).sum() + (twt * twt).sum()).backward()
    for mine, theirs in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
    # W written in place after W.T was taken: the product reads the copy, as a matmul of a copy does
    x, w = _leaves((5, 4), (3, 4), dtype=fg.float64)
    wt = w.T
    with fg.no_grad():
        w.mul_(2.0)
    out = x @ wt
    assert type(out._op).__name__ == "MatMul"
    np.testing.assert_allclose(out.numpy(), x.numpy() @ (w.numpy() / 2.0).T, rtol=1e-12)
    # only x needs a gradient: W.T is no graph node, the plain product runs
    x, = _leaves((5, 4))
    w = fg.randn(3, 4)
    assert type((x @ w.T)._op).__name__ == "MatMul"
    # a mismatch keeps matmul's own message
    with pytest.raises(ValueError, match="matmul"):
        x @ _leaves((3, 5))[0].T


def test_layers_written_with_transposed_weights_capture_and_replay_to_eager_bits():
    x0, y0 = fg.randn(8, 6), fg.randint(0, 3, (8,))
    w1, b1, w2, b2 = _leaves((5, 6), (5,), (3, 5), (3,), seed=1)

    def step(x, y):
        for p in (w1, b1, w2, b2):
            p.grad = None
        loss = F.cross_entropy((x @ w1.T + b1).relu() @ w2.t() + b2, y)
        loss.backward()
        return loss, w1.grad, b2.grad

    eager = [[t.numpy().copy() for t in step(x0 * s, y0)] for s in (1.0, 2.0, 3.0, 4.0)]
    compiled = fg.compile(step)
    for s, want in zip((1.0, 2.0, 3.0, 4.0), eager):   # warm-up, record, two replays
        for got, w in zip(compiled(x0 * s, y0), want):
            np.testing.assert_array_equal(got.numpy(), w)


def test_relu_of_a_linear_layer_is_one_op_matching_the_separate_ops():
    """relu(fc(x)) in a module's forward records LinearReLU, with the bits of nn.Sequential's fused
    layer; the pre-activation read elsewhere keeps its own gradient path."""
    fg.manual_seed(0)
    fc = fg.nn.Linear(4, 3)
    x, = _leaves((6, 4))
    pre = fc(x)
    y = F.relu(pre)
    assert type(y._op).__name__ == "LinearReLU"
    (y.sum() + (pre * pre).sum()).backward()
    fused = _grads([x, fc.weight, fc.bias])
    for t in (x, fc.weight, fc.bias):
        t.grad = None
    pre = fc(x)
    y = F.relu(pre * 1.0)   # the unfused reference
    (y.sum() + (pre * pre).sum()).backward()
    for got, want in zip(fused, _grads([x, fc.weight, fc.bias])):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_a_training_step_written_out_allocates_in_backward_what_nn_sequential_does():
    """The backward of `(x @ W + b).relu()` layers makes no tensor that nn.Linear's does not: no
    zero-filled non-leaf gradients, no per-op temporaries (counted through the allocators)."""
    tensor_module = sys.modules["fastgrad.tensor"]
    elementwise = sys.modules["fastgrad.ops.elementwise"]
    count = [0]

    def counting(real):
        def alloc(*args):
            count[0] += 1
            return real(*args)
        return alloc

    x, y = fg.randn(32, 64), fg.randint(0, 10, (32,))
    w1, b1, w2, b2 = _leaves((64, 32), (32,), (32, 10), (10,))
    model = fg.nn.Sequential(fg.nn.Linear(64, 32), fg.nn.ReLU(), fg.nn.Linear(32, 10))

    def backward_allocations(forward, params):
        for p in params:
            p.grad = None
        loss = F.cross_entropy(forward(), y)
        count[0] = 0
        saved = tensor_module.alloc_uninitialized, tensor_module._alloc_zeroed, elementwise.alloc_uninitialized
        tensor_module.alloc_uninitialized = elementwise.alloc_uninitialized = counting(saved[0])
        tensor_module._alloc_zeroed = counting(saved[1])
        try:
            loss.backward()
        finally:
            tensor_module.alloc_uninitialized, tensor_module._alloc_zeroed, elementwise.alloc_uninitialized = saved
        return count[0]

    written_out = backward_allocations(lambda: (x @ w1 + b1).relu() @ w2 + b2, [w1, b1, w2, b2])
    sequential = backward_allocations(lambda: model(x), list(model.parameters()))
    assert written_out == sequential
    assert all(p.grad is not None for p in (w1, b1, w2, b2))


# ---- gradients handed over or written, never aliased to what the caller holds ------------------------
def test_backward_never_makes_the_callers_gradient_a_grad():
    x, b = _leaves((3, 4), (4,))
    g = fg.ones(3, 4)
    (x + b).backward(g)
    assert x.grad is not g and x.grad._buf is not g._buf
    (x + b).backward(g)   # accumulates into x.grad, never into g
    np.testing.assert_array_equal(g.numpy(), np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 2, np.float32))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 6, np.float32))


def test_a_handed_over_gradient_is_not_shared_between_two_tensors():
    x, y = _leaves((3, 4), (3, 4))
    b = fg.randn(4, requires_grad=True)
    z = (x * 1.0 + b) + (y * 1.0 + b)   # each broadcast Add hands its gradient to one operand only
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(y.grad.numpy(), np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 6, np.float32))
    with fg.no_grad():
        x.grad += 1
    np.testing.assert_array_equal(y.grad.numpy(), np.ones((3, 4), np.float32))


# Written once for both libraries: `lib` is fastgrad or torch.
ELEMENTWISE = {
    "relu": lambda lib, x, y: x.relu(), "tanh": lambda lib, x, y: x.tanh(), "sigmoid": lambda lib, x, y: x.sigmoid(),
    "exp": lambda lib, x, y: x.exp(), "neg": lambda lib, x, y: -x, "floor": lambda lib, x, y: x.floor() + x,
    "abs": lambda lib, x, y: x.abs(), "cos": lambda lib, x, y: x.cos(),
    "add": lambda lib, x, y: x + y, "sub": lambda lib, x, y: x - y, "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / y, "square": lambda lib, x, y: x * x, "maximum": lambda lib, x, y: lib.maximum(x, y),
    "bias mul": lambda lib, x, y: x * y[0], "scalar": lambda lib, x, y: 2.0 * x - 1.0,
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_first_gradient_is_written_and_a_second_added(name, dtype):
    """Backward kernels write a gradient that does not exist yet and add to one that does: two
    backward passes give exactly twice one, and the first is PyTorch's."""
    fn = ELEMENTWISE[name]
    x, y = _leaves((4, 5), (4, 5), dtype=dtype, seed=3)
    fn(fg, x, y).sum().backward()
    once = _grads([x, y])
    fn(fg, x, y).sum().backward()
    for g1, g2 in zip(once, _grads([x, y])):
        if g1 is not None:
            np.testing.assert_array_equal(g2, 2 * g1)
    torch = pytest.importorskip("torch")
    tx, ty = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, y))
    fn(torch, tx, ty).sum().backward()
    for g1, t in zip(once, (tx, ty)):
        assert (g1 is None) == (t.grad is None)
        if g1 is not None:
            np.testing.assert_allclose(g1, t.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_broadcasting_binary_ops_against_numpy():
    rng = np.random.default_rng(1)
    for a_shape, b_shape in [((4, 5), (5,)), ((4, 5), (4, 1)), ((4, 5), ()), ((5,), (4, 5)), ((1, 5), (4, 1)),
                             ((2, 3, 4), (3, 1)), ((2, 1, 4), (1, 3, 1)), ((7,), (1,)), ((3, 0), (1,))]:
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        for op in ("__add__", "__sub__", "__mul__", "__truediv__"):
            got = getattr(fg.tensor(a, dtype=fg.float64), op)(fg.tensor(b, dtype=fg.float64)).numpy()
            np.testing.assert_array_equal(got, getattr(a, op)(b))
        np.testing.assert_array_equal((fg.tensor(a, dtype=fg.float64) * 0.5).numpy(), a * 0.5)
        np.testing.assert_array_equal((3.0 - fg.tensor(a, dtype=fg.float64)).numpy(), 3.0 - a)
    with pytest.raises(ValueError, match=r"\(4, 5\) and \(4,\) cannot be broadcast"):
        fg.ones(4, 5) + fg.ones(4)


def test_a_bias_gradient_has_the_same_bits_on_any_thread_count():
    """The column sums behind a bias's gradient split columns between threads, never rows."""
    rng = np.random.default_rng(2)
    g = fg.tensor(rng.standard_normal((300, 4096)).astype(np.float32))
    grads = []
    previous = fg.get_num_threads()
    try:
        for threads in (1, 2):
            fg.set_num_threads(threads)
            x, w, b = _leaves((300, 8), (8, 4096), (4096,))
            (x @ w + b).backward(g)
            bias_only = fg.zeros(4096, requires_grad=True)
            (fg.zeros(300, 4096) + bias_only).backward(g)   # the same sum through sum_to
            grads.append((b.grad.numpy().copy(), bias_only.grad.numpy().copy()))
    finally:
        fg.set_num_threads(previous)
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
    np.testing.assert_array_equal(grads[0][0], grads[0][1])
    np.testing.assert_allclose(grads[0][0], g.numpy().astype(np.float64).sum(0), rtol=1e-4, atol=1e-3)


def test_in_place_updates_of_an_optimizer_loop():
    """`p.add_(g, alpha=-lr)`, `p -= lr * g`, `p.data += -lr * g`: one kernel each, PyTorch's values,
    and the in-place check still sees the write."""
    rng = np.random.default_rng(4)
    p0, g0 = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    for update in (lambda p, g: p.add_(g, alpha=-0.1), lambda p, g: p.sub_(g, alpha=0.1),
                   lambda p, g: p.__isub__(0.1 * g)):
        p = fg.tensor(p0, dtype=fg.float64, requires_grad=True)
        y = p * p   # reads p: backward must refuse once p is written
        with fg.no_grad():
            out = update(p, fg.tensor(g0, dtype=fg.float64))
        np.testing.assert_allclose(p.numpy(), p0 - 0.1 * g0, rtol=1e-15, atol=1e-15)
        assert out is not None
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    p = fg.tensor(p0, dtype=fg.float64, requires_grad=True)
    p.data += -0.1 * fg.tensor(g0, dtype=fg.float64)
    np.testing.assert_allclose(p.numpy(), p0 - 0.1 * g0, rtol=1e-15, atol=1e-15)
    t = fg.ones(2, 3)
    t.add_(fg.ones(3), alpha=2)   # broadcast operand: the general path
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 3, np.float32))
    t.add_(2.0, alpha=3)
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 9, np.float32))


@pytest.mark.parametrize("c", [2, 3, 1, 0.5, -0.5, -1, -2, 0, 2.5])
def test_a_number_as_exponent_takes_pytorchs_fast_paths_and_gradient(c):
    """x ** c: x ** 2 is x * x, x ** 0.5 a square root (-0.0 stays -0.0 as in PyTorch), and the gradient
    is PyTorch's g * (c * x ** (c - 1)), zero for c == 0."""
    torch = pytest.importorskip("torch")
    x = np.abs(np.random.default_rng(5).standard_normal((3, 7))) if c not in (2, 3, 1, -1, -2, 0) else \
        np.random.default_rng(5).standard_normal((3, 7))
    x[0, :3] = [0.0, -0.0, np.inf]
    g = np.random.default_rng(6).standard_normal((3, 7))
    a = fg.tensor(x, dtype=fg.float64, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    y, ty = a ** c, ta ** c
    y.backward(fg.tensor(g, dtype=fg.float64))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-15)
    np.testing.assert_array_equal(np.signbit(y.numpy()[0, :3]), np.signbit(ty.detach().numpy()[0, :3]))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-14)
    if c == 2:
        np.testing.assert_array_equal((fg.tensor(x) ** 2).numpy(), (fg.tensor(x) * fg.tensor(x)).numpy())


def test_the_callers_gradient_is_read_in_place_but_never_kept():
    """backward(grad) uses the caller's tensor without copying it up front, and copies it only where
    a gradient would otherwise be handed over: writing into it afterwards changes no .grad."""
    x = fg.randn(3, 4, requires_grad=True)
    w = fg.randn(10, 4, requires_grad=True)
    idx = fg.tensor([1, 3, 3])
    # (A sparse embedding's gradient keeps the caller's rows, as PyTorch's does: not checked here.)
    for out, leaf in (((x * 1.0).reshape(12), x), (x.reshape(4, 3), x), (F.embedding(idx, w), w)):
        leaf.grad = None
        g = fg.ones(*out.shape)
        out.backward(g)
        before = leaf.grad.to_dense().numpy().copy() if hasattr(leaf.grad, "to_dense") else leaf.grad.numpy().copy()
        g.zero_()
        after = leaf.grad.to_dense().numpy() if hasattr(leaf.grad, "to_dense") else leaf.grad.numpy()
        np.testing.assert_array_equal(after, before)
        assert before.any()


def test_the_fused_relu_refuses_backward_once_its_output_was_written_in_place():
    x, w, b = _leaves((5, 4), (4, 3), (3,))
    y = (x @ w + b).relu()
    with fg.no_grad():
        y.sub_(100.0)   # the mask backward reads: a silently wrong gradient if it went unnoticed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

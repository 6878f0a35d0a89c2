"""N-D matmul (`@`, fg.matmul, Tensor.matmul, bmm): PyTorch's semantics for 1-D operands and
broadcast batch dimensions, forward against numpy and both gradients against finite differences
(tests/gradcheck.py), against PyTorch where installed, on every kernel path and thread count, and
the same bits for any thread count (fg_gemm_batched threads over the batch)."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad._C import ffi, lib
from gradcheck import KERNEL_CONFIGS, check_op, kernel_config

# (a shape, b shape): 1-D on either side, folding (b without batch), equal batches, broadcasting on
# either side and both, missing leading dimensions, zero sizes in batch, m, n and k, primes
SHAPES = [
    ((3,), (3,)), ((4,), (4, 5)), ((2, 4), (4,)), ((3,), (2, 3, 5)), ((2, 5, 3), (3,)),
    ((2, 3, 4), (4, 5)), ((2, 2, 3, 4), (4, 1)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)), ((1, 3, 2), (5, 2, 3)), ((7, 2, 3), (1, 3, 5)), ((2, 1, 2, 3), (1, 3, 3, 2)),
    ((0, 2, 3), (0, 3, 4)), ((0, 2, 3), (1, 3, 4)), ((2, 0, 3), (2, 3, 4)), ((2, 3, 0), (2, 0, 4)),
    ((1, 2, 3), (0, 3, 4)), ((3, 1, 1), (1, 1, 5)), ((5, 13, 7), (5, 7, 11)),
]


def _id(shapes):
    return "x".join(map(str, shapes[0])) + "@" + "x".join(map(str, shapes[1]))


@pytest.mark.parametrize("a_shape, b_shape", SHAPES, ids=[_id(s) for s in SHAPES])
def test_matmul_nd_gradcheck(a_shape, b_shape):
    check_op(lambda a, b: a @ b, np.matmul, a_shape, b_shape)


@pytest.mark.parametrize("path, threads", KERNEL_CONFIGS)
@pytest.mark.parametrize("a_shape, b_shape", SHAPES, ids=[_id(s) for s in SHAPES])
def test_matmul_nd_torch_parity(a_shape, b_shape, path, threads):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    with kernel_config(path, threads):
        ta, tb = fg.tensor(a, dtype=fg.float64, requires_grad=True), fg.tensor(b, dtype=fg.float64, requires_grad=True)
        out = fg.matmul(ta, tb)
        g = rng.standard_normal(out.shape)
        out.backward(fg.tensor(g, dtype=fg.float64))
    xa, xb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    xout = torch.matmul(xa, xb)
    xout.backward(torch.tensor(g))
    assert out.shape == tuple(xout.shape)
    np.testing.assert_allclose(out.numpy(), xout.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ta.grad.numpy(), xa.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), xb.grad.numpy(), rtol=1e-12, atol=1e-12)


def _run(a, b, g, threads):
    """out, a.grad, b.grad of a @ b in float32 on `threads` threads."""
    saved = fg.get_num_threads()
    fg.set_num_threads(threads)
    try:
        ta, tb = fg.tensor(a, requires_grad=True), fg.tensor(b, requires_grad=True)
        out = ta @ tb
        out.backward(fg.tensor(g))
        return out.numpy().copy(), ta.grad.numpy().copy(), tb.grad.numpy().copy()
    finally:
        fg.set_num_threads(saved)


@pytest.mark.parametrize("path, _", KERNEL_CONFIGS[:-1])
@pytest.mark.parametrize("a_shape, b_shape", [((16, 4, 64, 64), (16, 4, 64, 64)), ((3, 1, 50, 70), (1, 5, 70, 60)),
                                              ((40, 50), (6, 50, 45)), ((5, 130, 90), (90, 70)),
                                              ((3, 200, 150), (3, 150, 170))], ids=str)
def test_threads_bit_identical(a_shape, b_shape, path, _):
    """Threaded over the batch, over the rows of each product, or not at all: the same bits."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(a_shape, dtype=np.float32), rng.standard_normal(b_shape, dtype=np.float32)
    g = rng.standard_normal(np.matmul(a, b).shape, dtype=np.float32)
    with kernel_config(path, None):
        one = _run(a, b, g, 1)
        for threads in (2, 3, 7):
            for x, y in zip(one, _run(a, b, g, threads)):
                assert np.array_equal(x, y), f"1 and {threads} threads disagree"


def test_names_and_methods():
    rng = np.random.default_rng(3)
    a, b = fg.tensor(rng.standard_normal((2, 3, 4))), fg.tensor(rng.standard_normal((2, 4, 5)))
    want = np.matmul(a.numpy(), b.numpy())
    for got in (a @ b, fg.matmul(a, b), a.matmul(b), fg.bmm(a, b), a.bmm(b), fg.ops.MatMul().forward(a, b)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)


def test_gradient_accumulates_over_broadcast_and_existing_grad():
    """A broadcast operand's gradient sums over the batch, and adds to a .grad already there."""
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((6, 4, 2))
    ta, tb = fg.tensor(a, dtype=fg.float64, requires_grad=True), fg.tensor(b, dtype=fg.float64, requires_grad=True)
    (ta @ tb).sum().backward()
    (ta @ tb).sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), 2 * np.ones((6, 3, 2)).__matmul__(b.transpose(0, 2, 1)).sum(0))
    np.testing.assert_allclose(tb.grad.numpy(), 2 * np.broadcast_to(a.T @ np.ones((3, 2)), (6, 4, 2)))


def test_same_tensor_on_both_sides():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 3))
    t = fg.tensor(x, dtype=fg.float64, requires_grad=True)
    (t @ t).sum().backward()
    g = np.ones((4, 3, 3))
    np.testing.assert_allclose(t.grad.numpy(), g @ x.transpose(0, 2, 1) + x.transpose(0, 2, 1) @ g)


@pytest.mark.parametrize("expr, error, match", [
    ("fg.zeros(2, 3, 4) @ fg.zeros(2, 5, 6)", ValueError, r"shapes \(2, 3, 4\) and \(2, 5, 6\) do not fit"),
    ("fg.zeros(2, 3, 4) @ fg.zeros(3, 4, 5)", ValueError, "do not broadcast"),
    ("fg.zeros(4, 1, 3, 4) @ fg.zeros(2, 3, 4, 5)", ValueError, "do not broadcast"),
    ("fg.zeros(2, 3, 4) @ fg.zeros(2, 4, 5, dtype=fg.float64)", TypeError, "dtype mismatch"),
    ("fg.zeros(5) @ fg.zeros(2, 4, 5)", ValueError, "do not fit"),
    ("fg.tensor(2.0) @ fg.zeros(3)", ValueError, "at least one dimension"),
    ("fg.matmul(fg.zeros(2, 2), [[1.0]])", TypeError, "must be a fastgrad Tensor"),
    ("fg.bmm(fg.zeros(2, 3, 4), fg.zeros(4, 5))", ValueError, "3-D"),
    ("fg.bmm(fg.zeros(2, 3, 4), fg.zeros(1, 4, 5))", ValueError, "batch sizes differ"),
    ("fg.bmm(fg.zeros(2, 3, 4), fg.zeros(2, 3, 5))", ValueError, "do not fit"),
])
def test_bad_inputs(expr, error, match):
    with pytest.raises(error, match=match):
        eval(expr)


def test_gemm_batched_kernel_sums_in_index_order():
    """The kernel contract: C's zero strides sum products into one output in index order, which is
    exactly the 2-D products accumulated one after another."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 2, 5, 7)).astype(np.float32)
    b = rng.standard_normal((7, 4)).astype(np.float32)
    c = np.full((2, 5, 4), np.nan, np.float32)
    p = lambda x: ffi.from_buffer("float[]", x)   # noqa: E731
    lib.fg_gemm_batched_f32(p(c), p(a), p(b), 5, 4, 7, 0, 0, 0, [3, 2], [0, 20], [70, 35], [0, 0], 2)
    want = np.empty_like(c)
    for j in range(2):
        lib.fg_gemm_f32(p(want[j]), p(np.ascontiguousarray(a[0, j])), p(b), 5, 4, 7, 0, 0, 0)
        for i in (1, 2):
            lib.fg_gemm_f32(p(want[j]), p(np.ascontiguousarray(a[i, j])), p(b), 5, 4, 7, 0, 0, 1)
    assert np.array_equal(c, want)


def test_integer_tensors_are_refused():
    """No integer GEMM: a clear error (PyTorch computes int64 products; README lists the difference)."""
    for a, b in [(fg.tensor([[1, 2]]), fg.tensor([[3], [4]])), (fg.tensor([[1, 2]]), fg.ones(2, 2, 1))]:
        with pytest.raises(TypeError, match="float32 or float64"):
            a.long() @ b.long()


def test_empty_products_over_a_huge_batch_finish():
    """k = 0: a's gradient sums 2**40 empty products; it must be zeros at once, not a loop over them."""
    a = fg.zeros(1, 2, 3, requires_grad=True)
    out = a @ fg.zeros(2**40, 3, 0)
    assert out.shape == (2**40, 2, 0)
    out.backward(fg.zeros(2**40, 2, 0))
    assert np.array_equal(a.grad.numpy(), np.zeros((1, 2, 3)))

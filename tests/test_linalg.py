"""fastgrad/linalg.py and csrc/linalg.c: fg.linalg's factorisations and what is built on them, against
PyTorch (values, and gradients of the same function with the same upstream gradient), with float64
finite differences (check_op) for the gradient formulas; singular and non-positive-definite inputs
raise LinAlgError; shapes that do not fit raise ValueError naming them."""
import math

import numpy as np
import pytest

import fastgrad as fg
from gradcheck import check_op

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def float64_by_default():
    """fg.tensor(numpy data) is float64 here, as torch.tensor's; float32 is asked for by name."""
    fg.set_default_dtype(fg.float64)
    yield
    fg.set_default_dtype(fg.float32)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def well_conditioned(*shape, seed=0):
    """Square matrices with a dominant diagonal (invertible, moderate condition number)."""
    a = rand(*shape, seed=seed)
    return a + 3.0 * np.eye(shape[-1])


def run_both(fn_fg, fn_torch, arrays, grad=True, dtype="float64"):
    """fn on fastgrad and torch tensors of the same float64 data; returns (fg outputs, torch outputs,
    fg grads, torch grads) with the gradients of sum(out_i * G_i) for random G_i."""
    fts = [fg.tensor(a, dtype=getattr(fg, dtype), requires_grad=grad) for a in arrays]
    tts = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=grad) for a in arrays]
    ours, theirs = fn_fg(*fts), fn_torch(*tts)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    if not grad:
        return ours, theirs, None, None
    rng = np.random.default_rng(99)
    loss_fg, loss_t = 0, 0
    for o, t in zip(ours, theirs):
        g = rng.standard_normal(tuple(t.shape))
        loss_fg = loss_fg + (o * fg.tensor(g, dtype=o.dtype)).sum()
        loss_t = loss_t + (t * torch.tensor(g, dtype=t.dtype)).sum()
    loss_fg.backward()
    loss_t.backward()
    return ours, theirs, [t.grad.numpy() for t in fts], [t.grad.numpy() for t in tts]


def close(ours, theirs, atol=1e-9, rtol=1e-7):
    for o, t in zip(ours, theirs):
        t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
        o = o.numpy() if hasattr(o, "numpy") else np.asarray(o)
        assert o.shape == t.shape, (o.shape, t.shape)
        np.testing.assert_allclose(o, t, atol=atol, rtol=rtol)


# ---- det, slogdet, logdet, inv ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3, 3), (1, 1), (0, 0), (2, 0, 0)])
def test_det_slogdet_logdet_inv_match_torch(shape):
    a = well_conditioned(*shape)
    for fn_fg, fn_t in ((fg.linalg.det, torch.linalg.det), (fg.logdet, torch.logdet),
                        (lambda x: tuple(fg.linalg.slogdet(x)), lambda x: tuple(torch.linalg.slogdet(x))),
                        (fg.linalg.inv, torch.linalg.inv)):
        ours, theirs, g_fg, g_t = run_both(fn_fg, fn_t, [a])
        close(ours, theirs)
        close(g_fg, g_t)


def test_det_and_inv_gradients_by_finite_differences():
    a = well_conditioned(3, 3, seed=1)
    check_op(fg.linalg.det, np.linalg.det, inputs=[a])
    check_op(fg.linalg.inv, np.linalg.inv, inputs=[a])
    check_op(lambda x: fg.linalg.slogdet(x).logabsdet, lambda x: np.linalg.slogdet(x)[1], inputs=[a])


def test_det_of_a_singular_matrix_is_zero_with_the_cofactor_gradient():
    a = rand(2, 4, 4, seed=2)
    a[0, 3] = a[0, 0] + a[0, 1]            # rank 3: the gradient is the (nonzero) cofactor matrix
    ours, theirs, g_fg, g_t = run_both(fg.linalg.det, torch.linalg.det, [a[:1]])
    close(ours, theirs, atol=1e-12)
    close(g_fg, g_t, atol=1e-9)
    a[1, :, 2] = 0.0   # a zero column: PyTorch's gradient is all zeros there, the cofactors are not
    x = fg.tensor(a, requires_grad=True)
    fg.linalg.det(x).sum().backward()
    numeric = np.zeros_like(a)
    for index in np.ndindex(*a.shape):
        plus, minus = a.copy(), a.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        numeric[index] = (np.linalg.det(plus).sum() - np.linalg.det(minus).sum()) / 2e-6
    np.testing.assert_allclose(x.grad.numpy(), numeric, atol=1e-6)
    assert np.abs(numeric[1, :, 2]).max() > 0.1
    sign, logabs = fg.linalg.slogdet(fg.tensor(a))
    assert sign.tolist() == [0.0, 0.0] and logabs.tolist() == [-math.inf, -math.inf]


def test_negative_determinant_logdet_is_nan_and_float32_agrees():
    a = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert math.isnan(fg.logdet(fg.tensor(a)).item())
    b = well_conditioned(3, 5, 5, seed=3)
    ours = fg.linalg.inv(fg.tensor(b, dtype=fg.float32))
    assert ours.dtype is fg.float32
    np.testing.assert_allclose(ours.numpy(), np.linalg.inv(b), atol=1e-5)


def test_singular_matrix_raises_linalg_error():
    assert issubclass(fg.linalg.LinAlgError, RuntimeError)
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(fg.linalg.LinAlgError, match="singular"):
        fg.linalg.inv(fg.tensor(s))
    with pytest.raises(fg.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        fg.linalg.inv(fg.tensor(np.stack([np.eye(2), s])))
    with pytest.raises(fg.linalg.LinAlgError, match="singular"):
        fg.linalg.solve(fg.tensor(s), fg.ones(2, dtype=fg.float64))
    with pytest.raises(RuntimeError):
        fg.inverse(fg.zeros(3, 3))
    X, info = fg.linalg.inv_ex(fg.tensor(np.stack([np.eye(2), s])))
    assert info.tolist() == [0, 2] and np.allclose(X.numpy()[0], np.eye(2))
    with pytest.raises(fg.linalg.LinAlgError):
        fg.linalg.inv_ex(fg.tensor(s), check_errors=True)
    with pytest.raises(fg.linalg.LinAlgError, match="is zero"):
        fg.linalg.lu_factor(fg.tensor(s))


@pytest.mark.parametrize("fn", [fg.linalg.det, fg.linalg.inv, fg.linalg.cholesky, fg.linalg.eigh, fg.linalg.slogdet])
def test_bad_shapes_and_dtypes(fn):
    with pytest.raises(ValueError, match=r"2 by 3 matrices"):
        fn(fg.ones(2, 3))
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*\(3,\)"):
        fn(fg.ones(3))
    with pytest.raises(TypeError, match="floating point"):
        fn(fg.tensor([[1, 2], [3, 4]]))
    with pytest.raises(TypeError):
        fn([[1.0, 0.0], [0.0, 1.0]])


# ---- solve -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("a_shape, b_shape, left", [
    ((3, 3), (3,), True), ((3, 3), (3, 2), True), ((2, 1, 3, 3), (4, 3, 2), True), ((2, 3, 3), (2, 3), True),
    ((3, 3), (2, 3), False), ((2, 3, 3), (5, 3), False)])
def test_solve_matches_torch_with_broadcasting(a_shape, b_shape, left):
    a, b = well_conditioned(*a_shape, seed=4), rand(*b_shape, seed=5)
    ours, theirs, g_fg, g_t = run_both(lambda x, y: fg.linalg.solve(x, y, left=left),
                                       lambda x, y: torch.linalg.solve(x, y, left=left), [a, b])
    close(ours, theirs)
    close(g_fg, g_t)


def test_solve_gradient_by_finite_differences_and_shape_errors():
    a, b = well_conditioned(3, 3, seed=6), rand(3, 2, seed=7)
    check_op(fg.linalg.solve, np.linalg.solve, inputs=[a, b])
    with pytest.raises(ValueError, match=r"\(3, 3\) and \(4, 2\)"):
        fg.linalg.solve(fg.tensor(a), fg.tensor(rand(4, 2)))
    with pytest.raises(ValueError, match="do not broadcast"):
        fg.linalg.solve(fg.tensor(well_conditioned(2, 3, 3)), fg.tensor(rand(3, 3, 1)))
    with pytest.raises(TypeError, match="same dtype"):
        fg.linalg.solve(fg.tensor(a), fg.tensor(b, dtype=fg.float32))


# ---- triangular solves ------------------------------------------------------------------------------
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_matches_torch(upper, left, unit):
    a = well_conditioned(2, 4, 4, seed=8)
    b = rand(2, 4, 3, seed=9) if left else rand(2, 3, 4, seed=9)
    ours, theirs, g_fg, g_t = run_both(
        lambda x, y: fg.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit),
        lambda x, y: torch.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit), [a, b])
    close(ours, theirs)
    close(g_fg, g_t)


@pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")
@pytest.mark.parametrize("transpose", [True, False])
def test_triangular_solve_legacy(transpose):
    a, b = well_conditioned(3, 3, seed=10), rand(3, 2, seed=11)
    ours, theirs, g_fg, g_t = run_both(lambda y, x: tuple(fg.triangular_solve(y, x, False, transpose)),
                                       lambda y, x: tuple(torch.triangular_solve(y, x, False, transpose)), [b, a])
    close(ours, theirs)
    close(g_fg, g_t)
    x = fg.tensor(b).triangular_solve(fg.tensor(a), upper=True).solution
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(np.triu(a), b))


# ---- Cholesky -------------------------------------------------------------------------------------
def spd(x):
    return x @ x.mT + x.shape[-1] * (fg.eye(x.shape[-1], dtype=x.dtype) if isinstance(x, fg.Tensor)
                                     else torch.eye(x.shape[-1], dtype=x.dtype))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_torch(upper):
    x = rand(2, 4, 4, seed=12)
    ours, theirs, g_fg, g_t = run_both(lambda t: fg.linalg.cholesky(spd(t), upper=upper),
                                       lambda t: torch.linalg.cholesky(spd(t), upper=upper), [x])
    close(ours, theirs)
    close(g_fg, g_t)
    check_op(lambda t: fg.linalg.cholesky(spd(t), upper=upper),
             lambda t: np.linalg.cholesky(t @ t.T + 3 * np.eye(3)).T if upper else
             np.linalg.cholesky(t @ t.T + 3 * np.eye(3)), inputs=[rand(3, 3, seed=13)])


def test_cholesky_reads_one_triangle_and_raises_when_not_positive_definite():
    a = spd(torch.tensor(rand(3, 3, seed=14))).numpy()
    junk = a.copy()
    junk[0, 2] = 100.0   # above the diagonal: not read for upper=False
    np.testing.assert_allclose(fg.linalg.cholesky(fg.tensor(junk)).numpy(), np.linalg.cholesky(a))
    with pytest.raises(fg.linalg.LinAlgError, match="leading minor of order 2"):
        fg.linalg.cholesky(fg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(fg.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        fg.linalg.cholesky(fg.tensor(np.stack([a, -a])))
    L, info = fg.linalg.cholesky_ex(fg.tensor(np.stack([a, -a])))
    assert info.tolist() == [0, 1]


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    x, b = rand(3, 3, seed=15), rand(3, 2, seed=16)
    ours, theirs, g_fg, g_t = run_both(
        lambda t, y: (fg.cholesky_solve(y, fg.linalg.cholesky(spd(t), upper=upper), upper),
                      fg.cholesky_inverse(fg.linalg.cholesky(spd(t), upper=upper), upper)),
        lambda t, y: (torch.cholesky_solve(y, torch.linalg.cholesky(spd(t), upper=upper), upper),
                      torch.cholesky_inverse(torch.linalg.cholesky(spd(t), upper=upper), upper)), [x, b])
    close(ours, theirs)
    close(g_fg, g_t)


# ---- QR -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 5, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_matches_torch(shape, mode):
    a = rand(*shape, seed=17)
    grad = mode == "reduced" or (mode == "complete" and shape[-2] <= shape[-1])
    fn_fg = (lambda t: fg.linalg.qr(t, mode)[1]) if mode == "r" else (lambda t: tuple(fg.linalg.qr(t, mode)))
    fn_t = (lambda t: torch.linalg.qr(t, mode)[1]) if mode == "r" else (lambda t: tuple(torch.linalg.qr(t, mode)))
    ours, theirs, g_fg, g_t = run_both(fn_fg, fn_t, [a], grad=grad)
    close(ours, theirs)   # LAPACK's Householder signs: the same Q and R
    if grad:
        close(g_fg, g_t)


def test_qr_gradient_by_finite_differences_and_r_mode_refuses_backward():
    check_op(lambda t: fg.linalg.qr(t).Q + 0.5 * fg.linalg.qr(t).R.sum(), lambda t: np.linalg.qr(t)[0]
             + 0.5 * np.linalg.qr(t)[1].sum(), inputs=[rand(4, 3, seed=18)], check_float32=False)
    x = fg.tensor(rand(3, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        fg.linalg.qr(x, mode="r").R.sum().backward()
    q, r = fg.qr(fg.tensor(rand(5, 3)), some=False)
    assert q.shape == (5, 5) and r.shape == (5, 3)
    with pytest.raises(ValueError, match="unrecognized mode"):
        fg.linalg.qr(x, mode="full")


# ---- eigh -----------------------------------------------------------------------------------------
def sym(x):
    return x + x.mT


def sign_free(V):
    """V with each column's sign fixed by its largest entry (eigenvectors are unique up to sign)."""
    idx = np.abs(V).argmax(axis=-2)
    signs = np.sign(np.take_along_axis(V, idx[..., None, :], axis=-2))
    return V * signs


@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh_matches_torch(UPLO):
    a = rand(3, 5, 5, seed=19)
    a = a + np.swapaxes(a, -1, -2)
    a_tri = np.tril(a) if UPLO == "L" else np.triu(a)   # the other triangle is never read
    w, V = fg.linalg.eigh(fg.tensor(a_tri + 7.0 * (np.triu(np.ones(5), 1) if UPLO == "L" else np.tril(np.ones(5), -1))),
                          UPLO=UPLO)
    tw, tV = torch.linalg.eigh(torch.tensor(a))
    np.testing.assert_allclose(w.numpy(), tw.numpy(), atol=1e-10)
    np.testing.assert_allclose(sign_free(V.numpy()), sign_free(tV.numpy()), atol=1e-9)
    np.testing.assert_allclose(fg.linalg.eigvalsh(fg.tensor(a, dtype=fg.float32)).numpy(), tw.numpy(), atol=1e-4)


def test_eigh_gradients_match_torch():
    x = rand(2, 4, 4, seed=20)

    def loss(lib, eigh):
        def f(t):
            w, V = eigh(sym(t))
            return (w * w).sum() + (V * V * lib.tensor(np.arange(16.0).reshape(4, 4))).sum()   # sign-free in V
        return f

    ours, theirs, g_fg, g_t = run_both(loss(fg, fg.linalg.eigh), loss(torch, torch.linalg.eigh), [x])
    close(ours, theirs, atol=1e-8)
    close(g_fg, g_t, atol=1e-8)
    ours, theirs, g_fg, g_t = run_both(lambda t: fg.linalg.eigvalsh(sym(t)), lambda t: torch.linalg.eigvalsh(sym(t)), [x])
    close(g_fg, g_t, atol=1e-9)
    check_op(lambda t: fg.linalg.eigvalsh(sym(t)), lambda t: np.linalg.eigvalsh(t + t.T), inputs=[rand(3, 3, seed=21)])


# ---- SVD ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 2), (3, 1), (0, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_matches_torch(shape, full):
    a = rand(*shape, seed=22)
    U, S, Vh = fg.linalg.svd(fg.tensor(a), full_matrices=full)
    tU, tS, tVh = torch.linalg.svd(torch.tensor(a), full_matrices=full)
    assert (U.shape, S.shape, Vh.shape) == (tuple(tU.shape), tuple(tS.shape), tuple(tVh.shape))
    np.testing.assert_allclose(S.numpy(), tS.numpy(), atol=1e-10)
    k = S.shape[-1]
    u, vh = U.numpy(), Vh.numpy()
    np.testing.assert_allclose((u[..., :, :k] * S.numpy()[..., None, :]) @ vh[..., :k, :], a, atol=1e-10)
    eye_m, eye_n = np.eye(u.shape[-1]), np.eye(vh.shape[-2])
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(eye_m, u.shape[:-2] + eye_m.shape), atol=1e-10)
    np.testing.assert_allclose(vh @ np.swapaxes(vh, -1, -2), np.broadcast_to(eye_n, vh.shape[:-2] + eye_n.shape),
                               atol=1e-10)
    np.testing.assert_allclose(fg.linalg.svdvals(fg.tensor(a, dtype=fg.float32)).numpy(), tS.numpy(), atol=1e-5)
    assert fg.linalg.svd(fg.tensor(a), full_matrices=full).U.shape == tuple(tU.shape)


def test_svd_of_a_rank_deficient_matrix_completes_the_basis():
    a = rand(5, 2, seed=23) @ rand(2, 4, seed=24)   # rank 2
    U, S, Vh = fg.linalg.svd(fg.tensor(a))
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(a, compute_uv=False), atol=1e-10)
    np.testing.assert_allclose(U.numpy().T @ U.numpy(), np.eye(5), atol=1e-10)
    np.testing.assert_allclose(Vh.numpy() @ Vh.numpy().T, np.eye(4), atol=1e-10)
    assert int(fg.linalg.matrix_rank(fg.tensor(a))) == 2


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_gradients_match_torch(shape, full):
    x = rand(*shape, seed=25)
    k = min(shape)
    weights = np.arange(1.0, 1.0 + shape[0] * shape[1]).reshape(shape)

    def loss(lib, svd):
        def f(t):
            U, S, Vh = svd(t, full_matrices=full)
            U, Vh = U[:, :k], Vh[:k, :]
            # gauge-free: S, and each rank-one term u_i v_i^T weighted
            w = lib.tensor(weights)
            terms = sum(((U[:, i:i + 1] @ Vh[i:i + 1, :]) * w).sum() * (i + 1.0) for i in range(k))
            return (S * S).sum() + terms
        return f

    ours, theirs, g_fg, g_t = run_both(loss(fg, fg.linalg.svd), loss(torch, torch.linalg.svd), [x])
    close(ours, theirs, atol=1e-8)
    close(g_fg, g_t, atol=1e-7)
    ours, theirs, g_fg, g_t = run_both(fg.linalg.svdvals, torch.linalg.svdvals, [x])
    close(g_fg, g_t, atol=1e-9)


def test_legacy_svd_returns_v():
    a = rand(4, 3, seed=26)
    U, S, V = fg.svd(fg.tensor(a))
    assert U.shape == (4, 3) and V.shape == (3, 3)
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, a, atol=1e-10)
    U, S, V = fg.tensor(a).svd(some=False)
    assert U.shape == (4, 4) and V.shape == (3, 3)
    U, S, V = fg.svd(fg.tensor(a), compute_uv=False)
    assert U.shape == (4, 4) and float(U.abs().sum()) == 0.0 and np.allclose(S.numpy(), np.linalg.svd(a)[1])


# ---- built on the SVD: pinv, matrix_rank, cond, lstsq, matrix norms ---------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_pinv_and_lstsq_match_torch(shape):
    a = rand(*shape, seed=27)
    ours, theirs, g_fg, g_t = run_both(fg.linalg.pinv, torch.linalg.pinv, [a])
    close(ours, theirs)
    close(g_fg, g_t, atol=1e-8)
    b = rand(*shape[:-1], 2, seed=28)
    ours, theirs, g_fg, g_t = run_both(lambda x, y: fg.linalg.lstsq(x, y).solution,
                                       lambda x, y: torch.linalg.lstsq(x, y).solution, [a, b])
    close(ours, theirs, atol=1e-8)
    close(g_fg, g_t, atol=1e-7)
    check_op(fg.pinverse, np.linalg.pinv, inputs=[rand(*shape[-2:], seed=29)])


def test_pinv_of_rank_deficient_matrix_and_matrix_rank_tolerances():
    a = rand(4, 2, seed=30) @ rand(2, 3, seed=31)
    ours, theirs, g_fg, g_t = run_both(fg.linalg.pinv, torch.linalg.pinv, [a])
    close(ours, theirs, atol=1e-9)
    close(g_fg, g_t, atol=1e-7)
    t = torch.tensor(a)
    for kwargs in ({}, {"atol": 1.0}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 0.2}, {"hermitian": False}):
        assert int(fg.linalg.matrix_rank(fg.tensor(a), **kwargs)) == int(torch.linalg.matrix_rank(t, **kwargs))
    assert fg.linalg.matrix_rank(fg.tensor(rand(3, 4, 4))).tolist() == [4, 4, 4]
    s = a[:3] @ a[:3].T   # symmetric, rank 2; hermitian=True reads the lower triangle only
    assert int(fg.linalg.matrix_rank(fg.tensor(s), hermitian=True)) == 2
    ours, theirs, g_fg, g_t = run_both(lambda x: fg.linalg.pinv(x, hermitian=True),
                                       lambda x: torch.linalg.pinv(x, hermitian=True), [np.tril(s) + np.triu(rand(3, 3), 1)])
    close(ours, theirs, atol=1e-9)
    close(g_fg, g_t, atol=1e-7)


def test_cond_matches_torch():
    a = rand(2, 4, 4, seed=32)
    for p in (None, 2, -2, 1, "fro", math.inf):
        np.testing.assert_allclose(fg.linalg.cond(fg.tensor(a), p).numpy(), torch.linalg.cond(torch.tensor(a), p).numpy(),
                                   rtol=1e-8)


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_spectral_and_nuclear_norm_gradients(ord):
    x = rand(2, 4, 3, seed=33)
    ours, theirs, g_fg, g_t = run_both(lambda t: fg.linalg.matrix_norm(t, ord), lambda t: torch.linalg.matrix_norm(t, ord),
                                       [x])
    close(ours, theirs)
    close(g_fg, g_t, atol=1e-9)


# ---- LU -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)])
def test_lu_factor_and_lu_match_torch(shape):
    a = rand(*shape, seed=34)
    LU, piv = fg.linalg.lu_factor(fg.tensor(a))
    tLU, tpiv = torch.linalg.lu_factor(torch.tensor(a))
    np.testing.assert_allclose(LU.numpy(), tLU.numpy(), atol=1e-12)
    assert piv.tolist() == tpiv.tolist()
    for ours, theirs in zip(fg.linalg.lu(fg.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    if shape[-1] == shape[-2]:
        ours, theirs, g_fg, g_t = run_both(lambda t: tuple(fg.linalg.lu(t)), lambda t: tuple(torch.linalg.lu(t)), [a])
        close(g_fg, g_t, atol=1e-9)


@pytest.mark.parametrize("left, adjoint", [(True, False), (True, True), (False, False), (False, True)])
def test_lu_solve_matches_torch(left, adjoint):
    a, b = well_conditioned(2, 3, 3, seed=35), rand(2, 3, 3, seed=36)
    LU, piv = fg.linalg.lu_factor(fg.tensor(a))
    tLU, tpiv = torch.linalg.lu_factor(torch.tensor(a))
    ours, theirs, g_fg, g_t = run_both(lambda f, y: fg.linalg.lu_solve(f, piv, y, left=left, adjoint=adjoint),
                                       lambda f, y: torch.linalg.lu_solve(f, tpiv, y, left=left, adjoint=adjoint),
                                       [LU.numpy(), b])
    close(ours, theirs)
    close(g_fg, g_t)   # to the factors too
    x = fg.lu_solve(fg.tensor(b), LU, piv)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b))
    P, L, U = fg.lu_unpack(LU, piv)
    np.testing.assert_allclose((P @ L @ U).numpy(), a, atol=1e-12)


# ---- built on matmul: matrix_power, matrix_exp, multi_dot, vecdot, cross, tensorinv, tensorsolve ----
@pytest.mark.parametrize("n", [0, 1, 2, 5, -1, -3])
def test_matrix_power_matches_torch(n):
    a = well_conditioned(2, 3, 3, seed=37) / 3.0
    ours, theirs, g_fg, g_t = run_both(lambda t: fg.linalg.matrix_power(t, n), lambda t: torch.linalg.matrix_power(t, n),
                                       [a])
    close(ours, theirs)
    close(g_fg, g_t)
    assert np.allclose(fg.tensor(a).matrix_power(n).numpy(), theirs[0].detach().numpy())


@pytest.mark.parametrize("scale", [0.1, 1.0, 20.0])
def test_matrix_exp_matches_torch(scale):
    a = rand(2, 4, 4, seed=38) * scale
    ours, theirs, g_fg, g_t = run_both(fg.linalg.matrix_exp, torch.linalg.matrix_exp, [a])
    close(ours, theirs, rtol=1e-9, atol=1e-9 * float(np.abs(theirs[0].detach().numpy()).max()))
    close(g_fg, g_t, rtol=1e-7, atol=1e-7 * float(np.abs(g_t[0]).max()))
    np.testing.assert_allclose(fg.matrix_exp(fg.zeros(3, 3)).numpy(), np.eye(3))


def test_multi_dot_vecdot_cross_match_torch():
    arrays = [rand(3, seed=39), rand(3, 4, seed=40), rand(4, 2, seed=41), rand(2, seed=42)]
    ours, theirs, g_fg, g_t = run_both(lambda *t: fg.linalg.multi_dot(t), lambda *t: torch.linalg.multi_dot(t), arrays)
    close(ours, theirs)
    close(g_fg, g_t)
    x, y = rand(2, 5, seed=43), rand(5, seed=44)
    ours, theirs, g_fg, g_t = run_both(fg.linalg.vecdot, torch.linalg.vecdot, [x, y])
    close(ours, theirs)
    close(g_fg, g_t)
    x, y = rand(4, 3, seed=45), rand(1, 3, seed=46)
    ours, theirs, g_fg, g_t = run_both(fg.linalg.cross, torch.linalg.cross, [x, y])
    close(ours, theirs)
    close(g_fg, g_t)
    with pytest.raises(ValueError, match=r"\(4, 3\) and \(3,\)"):
        fg.linalg.cross(fg.tensor(x), fg.tensor(y[0]))
    with pytest.raises(ValueError, match="at least 2"):
        fg.linalg.multi_dot([fg.ones(2, 2)])
    x = rand(2, 4, seed=47)
    ours, theirs, g_fg, g_t = run_both(lambda t: fg.linalg.vander(t, N=5), lambda t: torch.linalg.vander(t, N=5), [x])
    close(ours, theirs)
    close(g_fg, g_t)
    assert fg.linalg.vander(fg.tensor([1.0, 2.0, 3.0])).tolist() == [[1, 1, 1], [1, 2, 4], [1, 3, 9]]
    m = [rand(2, 3, seed=48), rand(3, 4, seed=49), rand(4, 2, seed=50)]
    np.testing.assert_allclose(fg.chain_matmul(*map(fg.tensor, m)).numpy(), m[0] @ m[1] @ m[2])


def test_tensorinv_and_tensorsolve_match_torch():
    a = well_conditioned(6, 6, seed=47).reshape(6, 2, 3)
    np.testing.assert_allclose(fg.linalg.tensorinv(fg.tensor(a.reshape(2, 3, 6)), ind=2).numpy(),
                               torch.linalg.tensorinv(torch.tensor(a.reshape(2, 3, 6)), ind=2).numpy())
    b = rand(6, seed=48)
    np.testing.assert_allclose(fg.linalg.tensorsolve(fg.tensor(a), fg.tensor(b)).numpy(),
                               torch.linalg.tensorsolve(torch.tensor(a), torch.tensor(b)).numpy())


# ---- the older forms and Tensor methods ------------------------------------------------------------
def test_legacy_names_and_tensor_methods():
    a = well_conditioned(3, 3, seed=49)
    t = fg.tensor(a)
    assert np.isclose(t.det().item(), np.linalg.det(a)) and np.isclose(fg.det(t).item(), np.linalg.det(a))
    assert np.isclose(t.logdet().item(), np.log(np.linalg.det(a)))
    assert np.allclose(t.inverse().numpy(), np.linalg.inv(a)) and np.allclose(fg.inverse(t).numpy(), np.linalg.inv(a))
    assert np.isclose(t.slogdet()[1].item(), np.linalg.slogdet(a)[1])
    s = a @ a.T
    assert np.allclose(fg.tensor(s).cholesky().numpy(), np.linalg.cholesky(s))
    assert np.allclose(fg.cholesky(fg.tensor(s), True).numpy(), np.linalg.cholesky(s).T)
    assert np.allclose(t.pinverse().numpy(), np.linalg.pinv(a))
    assert np.allclose(t.matrix_exp().numpy(), torch.linalg.matrix_exp(torch.tensor(a)).numpy())
    q, r = t.qr()
    assert np.allclose((q @ r).numpy(), a)
    LU, piv = t.lu()
    assert np.allclose(fg.ones(3, 1, dtype=fg.float64).lu_solve(LU, piv).numpy(), np.linalg.solve(a, np.ones((3, 1))))
    import fastgrad.linalg as LA
    assert LA is fg.linalg and LA.det is fg.linalg.det


def test_eig_and_out_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="complex"):
        fg.linalg.eig(fg.eye(2))
    with pytest.raises(NotImplementedError, match="out="):
        fg.linalg.svd(fg.eye(2), out=(fg.eye(2), fg.ones(2), fg.eye(2)))
    with pytest.raises(NotImplementedError, match="out="):
        fg.linalg.cholesky(fg.eye(2), out=fg.eye(2))


def test_gradients_in_float32_run_and_agree():
    a = well_conditioned(3, 3, seed=50)
    x = fg.tensor(a, dtype=fg.float32, requires_grad=True)
    (fg.linalg.det(x) + fg.linalg.inv(x).sum() + fg.linalg.svdvals(x).sum()).backward()
    t = torch.tensor(a, requires_grad=True)
    (torch.linalg.det(t) + torch.linalg.inv(t).sum() + torch.linalg.svdvals(t).sum()).backward()
    assert x.grad.dtype is fg.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


# ---- captured steps: the factorisations' kernels and their composed backward replay ----------------
def _spd(x):
    return x @ x.mT + 3.0 * fg.eye(x.shape[-1], dtype=x.dtype)


CAPTURED = {
    "solve_inv_det": ((3, 3), lambda x: fg.linalg.solve(_spd(x), x) + fg.linalg.inv(_spd(x)) + fg.linalg.det(_spd(x))
                      + fg.linalg.slogdet(_spd(x)).logabsdet),
    "cholesky_triangular": ((3, 3), lambda x: fg.cholesky_solve(x, fg.linalg.cholesky(_spd(x)))
                            + fg.linalg.solve_triangular(_spd(x), x, upper=True)),
    "qr_eigh_svd_pinv": ((4, 3), lambda x: fg.linalg.qr(x).R + fg.linalg.eigvalsh(x[:3] + x[:3].mT).unsqueeze(-1)
                         + fg.linalg.svdvals(x).unsqueeze(-1) + fg.linalg.pinv(x)[:, :3]),
    "lu": ((3, 3), lambda x: fg.linalg.lu(_spd(x)).U),
}


@pytest.mark.parametrize("name", sorted(CAPTURED))
def test_captured_step_replays_to_eager_bits(name):
    import test_compile   # (tests/ is on sys.path)
    shape, op = CAPTURED[name]
    fg.set_default_dtype(fg.float32)
    step = test_compile._run_case(None, op)
    compiled = fg.compile(step)
    for seed in range(4):   # warm-up, record, two replays on new data
        expected = test_compile._flat(step(test_compile._float(*shape, seed=seed)))
        assert test_compile._flat(compiled(test_compile._float(*shape, seed=seed))) == expected, f"call {seed}"
    assert len(compiled.plans) == 1


def test_captured_inverse_stops_on_a_singular_batch():
    fg.set_default_dtype(fg.float32)
    compiled = fg.compile(lambda x: fg.linalg.inv(x) * 1.0)
    for _ in range(3):
        compiled(fg.eye(2) * 2.0)
    # the replay stops at the check that eager inv raises LinAlgError on, and raises it too
    with pytest.raises(fg.linalg.LinAlgError, match="singular or not positive-definite"):
        compiled(fg.zeros(2, 2))


def test_non_finite_input_gives_nan_not_a_partly_finite_answer():
    for bad in (math.nan, math.inf):
        a = fg.tensor([[bad, 1.0], [2.0, 3.0]])
        U, S, Vh = fg.linalg.svd(a)
        w, V = fg.linalg.eigh(a)
        for t in (U, S, Vh, w, V):
            assert bool(t.isnan().all()), t
    assert bool(fg.linalg.det(fg.tensor([[math.nan, 1.0], [2.0, 3.0]])).isnan())


@pytest.mark.parametrize("fn", [fg.linalg.inv, fg.linalg.det, lambda x: fg.linalg.svd(x)[1], lambda x: fg.linalg.eigh(x)[0],
                                lambda x: fg.linalg.qr(x)[0], fg.linalg.cholesky])
def test_empty_batches_and_matrices(fn):
    assert fn(fg.zeros(0, 3, 3)).shape[0] == 0
    out = fn(fg.zeros(2, 0, 0))
    assert out.shape[0] == 2

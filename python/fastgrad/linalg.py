"""fg.linalg, PyTorch's torch.linalg, and the older top-level forms (fg.det, fg.inverse, fg.svd, ...).

The factorisations are kernels of csrc/linalg.c (LU, triangular solve, Cholesky, Householder QR, Jacobi
eigh and SVD), one per factorisation, batched over leading dimensions; everything else is composed
from them and from existing ops. Each differentiable factorisation is one custom Function below
(forward: kernel calls; backward: the standard formula as matmuls, triangular solves and the like):
_Det, _Slogdet, _Inv, _Solve, _TriangularSolve, _Cholesky, _QR, _Eigh, _SVD, _Pinv, _LUFactor,
_LUSolve. Functions built on them (pinv, lstsq, matrix_exp, matrix_power, cholesky_solve, ...) get
their gradients from the pieces.

A singular matrix (inv, solve, lu_factor) or one that is not positive definite (cholesky) raises
LinAlgError, a RuntimeError, as PyTorch's torch.linalg.LinAlgError; det, slogdet, lu and the _ex forms
report it instead. Non-square or too few dimensions: ValueError naming the shape.
"""
import collections
import functools
import math
import numbers

from ._C import ffi
from . import functions as _fn
from .autograd import no_grad
from .autograd_function import Function
from .creation import arange, eye
from .dtypes import float32, int64
from .ops._checks import tensor_arg
from .ops.matmul import matmul
from .ops.shape import cat, stack
from .tensor import Tensor, empty as _empty, tensor as _tensor, zeros
from .tensor_functions import cross as _cross

__all__ = ["LinAlgError", "det", "slogdet", "inv", "inv_ex", "solve", "solve_ex", "lu_factor", "lu_factor_ex", "lu",
           "lu_solve", "cholesky", "cholesky_ex", "qr", "eigh", "eigvalsh", "eig", "eigvals", "svd", "svdvals",
           "pinv", "matrix_rank", "matrix_power", "matrix_exp", "lstsq", "cross", "vecdot", "multi_dot",
           "solve_triangular", "tensorinv", "tensorsolve", "cond", "diagonal", "matmul", "vander", "norm",
           "vector_norm", "matrix_norm"]


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix that the operation cannot factor (singular, or not positive
    definite). A RuntimeError, as in PyTorch."""


SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])
QRResult = collections.namedtuple("qr", ["Q", "R"])
EighResult = collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])
SVDResult = collections.namedtuple("svd", ["U", "S", "Vh"])
LegacySVDResult = collections.namedtuple("svd", ["U", "S", "V"])
LUFactorResult = collections.namedtuple("lu_factor", ["LU", "pivots"])
LUFactorExResult = collections.namedtuple("lu_factor_ex", ["LU", "pivots", "info"])
LUResult = collections.namedtuple("lu", ["P", "L", "U"])
InvExResult = collections.namedtuple("inv_ex", ["inverse", "info"])
SolveExResult = collections.namedtuple("solve_ex", ["result", "info"])
CholeskyExResult = collections.namedtuple("cholesky_ex", ["L", "info"])
LstsqResult = collections.namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
TriangularSolveResult = collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


# ---- checking arguments ---------------------------------------------------------------------------
def _matrix(A, op, square=True, name="A"):
    """A checked: a float tensor of at least 2 dimensions (square ones when `square`)."""
    tensor_arg(A, op, name)
    if not A.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point tensor as {name}, got {A.dtype!r}")
    if A.ndim < 2:
        raise ValueError(f"{op}: {name} must have at least 2 dimensions, got shape {tuple(A.shape)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{op}: {name} must be batches of square matrices, but they are {A.shape[-2]} by "
                         f"{A.shape[-1]} matrices (shape {tuple(A.shape)})")
    return A


def _refuses_out(fn):
    """out= is PyTorch's, and writing into a given tensor is not done here: a clear error, never a
    result silently left out of `out`."""
    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is not None:
            raise NotImplementedError(f"linalg.{fn.__name__}: out= is not supported; assign the result instead")
        return fn(*args, **kwargs)
    return wrapper


def _same_dtype(op, A, B):
    if A.dtype is not B.dtype:
        raise TypeError(f"{op}: expected A and B to have the same dtype, got {A.dtype!r} and {B.dtype!r}")


def _batch_shape(op, *shapes):
    """The broadcast of the batch dimensions (all but the last two) of the shapes."""
    try:
        out = []
        for s in shapes:
            s = tuple(s[:-2])
            out = list(_broadcast(tuple(out), s))
        return tuple(out)
    except ValueError:
        raise ValueError(f"{op}: the batch dimensions of shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                         f"do not broadcast") from None


def _broadcast(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError
        out.append(y if x == 1 else x)
    return tuple(out)


def _expand_batch(t, batch):
    shape = tuple(batch) + tuple(t.shape[-2:])
    return t if tuple(t.shape) == shape else t.expand(shape)


def _count(shape):
    return math.prod(shape)


def _done(status, op):
    if status != 0:
        raise MemoryError(f"{op}: could not allocate the scratch memory of the factorisation")


def _failed(info):
    """Whether some matrix's info is nonzero: one kernel checks them all (a captured step's replay
    checks it too)."""
    return bool(info._numel) and bool(int64.k.check_range(info._buf, info._numel, 0, 1, 0))


def _raise_on(info, op, describe):
    """LinAlgError when some matrix's info is nonzero (_failed); only a failure reads the values, to
    name the matrix."""
    if _failed(info):
        values = info.reshape(-1).tolist()
        b = next(i for i, v in enumerate(values) if v)
        where = f"(Batch element {b}): " if info.ndim else ""
        raise LinAlgError(f"{op}: {where}{describe(values[b])}")


def _singular(v):
    return (f"The diagonal element {v} is zero, the inversion could not be completed because the input matrix is "
            f"singular.")


def _not_pd(v):
    return (f"The factorization could not be completed because the input is not positive-definite (the leading "
            f"minor of order {v} is not positive-definite).")


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal."""
    n = v.shape[-1]
    return v.unsqueeze(-1) * eye(n, dtype=v.dtype)


# ---- raw kernel calls (no graph): tensors in, tensors out ------------------------------------------
def _lu_raw(A):
    m, n = A.shape[-2:]
    batch = tuple(A.shape[:-2])
    LU, piv, info = _empty(A._shape, A._dtype), _empty(batch + (min(m, n),), int64), _empty(batch, int64)
    _done(A._dtype.k.lu_factor(LU._buf, piv._buf, info._buf, A._buf, _count(batch), m, n), "lu_factor")
    return LU, piv, info


def _lu_solve_raw(LU, piv, B, trans):
    """op(A)^-1 B from A's LU factors; LU (..., n, n) and B (..., n, k) of one batch shape."""
    n, k = B.shape[-2:]
    X = _empty(B._shape, B._dtype)
    _done(B._dtype.k.lu_solve(X._buf, LU._buf, piv._buf, B._buf, _count(B.shape[:-2]), n, k, int(trans)),
          "lu_solve")
    return X


def _trsm_raw(A, B, upper, trans=False, unit=False):
    """op(A)^-1 B for triangular A (..., n, n), B (..., n, k) of one batch shape."""
    n, k = B.shape[-2:]
    X = _empty(B._shape, B._dtype)
    _done(B._dtype.k.triangular_solve(X._buf, A._buf, B._buf, _count(B.shape[:-2]), n, k, int(upper), int(trans),
                                      int(unit)), "solve_triangular")
    return X


def _eye_like(A):
    n = A.shape[-1]
    return _expand_batch(eye(n, dtype=A.dtype), A.shape[:-2]).contiguous()


# ---- determinants ---------------------------------------------------------------------------------
class _Det(Function):
    """det(A) from its LU factors; gradient g·det·A^-T, or for a singular A the cofactors from its SVD."""

    @staticmethod
    def forward(ctx, A):
        LU, piv, info = _lu_raw(A)
        out = _det_of_lu(LU, piv)
        ctx.saved = (A, LU, piv, info, out)
        return out

    @staticmethod
    @no_grad()
    def backward(ctx, g):
        A, LU, piv, info, d = ctx.saved
        if not _failed(info):
            gd = (g * d).unsqueeze(-1).unsqueeze(-1)
            return _lu_solve_raw(LU, piv, _eye_like(A) * gd, True)
        # singular somewhere: d det = tr(adj(A) dA), adj(A)^T = det(U)det(V) U diag(prod_{j!=i} s_j) V^T
        U, S, Vh = _svd_raw(A, False, True)
        n = A.shape[-1]
        others = S.unsqueeze(-2) * (1 - eye(n, dtype=A.dtype)) + eye(n, dtype=A.dtype)
        cof = others.prod(-1)
        signs = _det_raw(U) * _det_raw(Vh)
        return matmul(U * (cof * (g * signs).unsqueeze(-1)).unsqueeze(-2), Vh)


def _det_of_lu(LU, piv):
    out = _empty(tuple(LU.shape[:-2]), LU._dtype)
    _done(LU._dtype.k.lu_det(out._buf, ffi.NULL, ffi.NULL, LU._buf, piv._buf, _count(LU.shape[:-2]), LU.shape[-1]),
          "det")
    return out


def _det_raw(A):
    return _det_of_lu(*_lu_raw(A)[:2])


class _Slogdet(Function):
    """(sign, log|det|) from the LU factors; log|det|'s gradient g·A^-T (sign has none)."""

    @staticmethod
    def forward(ctx, A):
        LU, piv, _ = _lu_raw(A)
        batch = tuple(A.shape[:-2])
        sign, logabs = _empty(batch, A._dtype), _empty(batch, A._dtype)
        _done(A._dtype.k.lu_det(ffi.NULL, logabs._buf, sign._buf, LU._buf, piv._buf, _count(batch), A.shape[-1]),
              "slogdet")
        ctx.saved = (A, LU, piv)
        ctx.mark_non_differentiable(sign)
        return sign, logabs

    @staticmethod
    @no_grad()
    def backward(ctx, _gsign, g):
        A, LU, piv = ctx.saved
        return _lu_solve_raw(LU, piv, _eye_like(A) * g.unsqueeze(-1).unsqueeze(-1), True)


def det(A):
    """torch.linalg.det: the determinant of each square matrix (singular ones give 0)."""
    return _Det.apply(_matrix(A, "linalg.det"))


def slogdet(A):
    """torch.linalg.slogdet: (sign, log|det|); a singular matrix gives (0, -inf)."""
    return SlogdetResult(*_Slogdet.apply(_matrix(A, "linalg.slogdet")))


def logdet(A):
    """torch.logdet: log(det(A)), NaN for a negative determinant, -inf for a singular matrix."""
    sign, logabs = slogdet(_matrix(A, "logdet"))
    return logabs + sign.log()


# ---- inverse and solve ----------------------------------------------------------------------------
class _Inv(Function):
    """A^-1 by solving with the identity; gradient -A^-T G A^-T."""

    @staticmethod
    def forward(ctx, A, check):
        LU, piv, info = _lu_raw(A)
        if check:
            _raise_on(info, "linalg.inv", _singular)
        X = _lu_solve_raw(LU, piv, _eye_like(A), False)
        ctx.X = X
        return X, info

    @staticmethod
    @no_grad()
    def backward(ctx, g, _ginfo):
        Xt = ctx.X.mT
        return -matmul(Xt, matmul(g, Xt)), None


def inv(A):
    """torch.linalg.inv: the inverse of each square matrix; LinAlgError for a singular one."""
    return _Inv.apply(_matrix(A, "linalg.inv"), True)[0]


def inv_ex(A, *, check_errors=False):
    """torch.linalg.inv_ex: (inverse, info), info 0 or LAPACK's index of the zero pivot."""
    X, info = _Inv.apply(_matrix(A, "linalg.inv_ex"), bool(check_errors))
    return InvExResult(X, info)


class _Solve(Function):
    """X = A^-1 B (B (..., n, k), batches already broadcast); gradients gB = A^-T G (the same LU
    factors, transposed), gA = -gB X^T."""

    @staticmethod
    def forward(ctx, A, B, check):
        LU, piv, info = _lu_raw(A)
        if check:
            _raise_on(info, "torch.linalg.solve", lambda v: "The solver failed because the input matrix is singular.")
        X = _lu_solve_raw(LU, piv, B, False)
        ctx.saved = (LU, piv, X)
        return X, info

    @staticmethod
    @no_grad()
    def backward(ctx, g, _ginfo):
        LU, piv, X = ctx.saved
        gB = _lu_solve_raw(LU, piv, g.contiguous(), True)
        gA = -matmul(gB, X.mT) if ctx.needs_input_grad[0] else None
        return gA, gB, None


def _is_vector_rhs(A, B):
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _solve(A, B, left, check, op):
    _matrix(A, op)
    tensor_arg(B, op, "B")
    _same_dtype(op, A, B)
    vector = _is_vector_rhs(A, B)
    if vector:
        B = B.unsqueeze(-1)
    elif B.ndim < 2:
        raise ValueError(f"{op}: B must be a vector or a batch of matrices, got shape {tuple(B.shape)}")
    if not left:   # X A = B  <=>  A^T X^T = B^T
        A, B = A.mT, B.mT
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise ValueError(f"{op}: incompatible shapes of A and B for the equation {'AX = B' if left else 'XA = B'} "
                         f"({tuple(A.shape)} and {tuple(B.shape)})")
    batch = _batch_shape(op, A.shape, B.shape)
    X, info = _Solve.apply(_expand_batch(A, batch), _expand_batch(B, batch), check)
    if not left:
        X = X.mT
    return (X.squeeze(-1) if vector else X), info


def solve(A, B, *, left=True):
    """torch.linalg.solve: X with A X = B (left) or X A = B; B a vector or a batch of matrices, the
    batch dimensions broadcast. LinAlgError for a singular A."""
    return _solve(A, B, left, True, "torch.linalg.solve")[0]


def solve_ex(A, B, *, left=True, check_errors=False):
    return SolveExResult(*_solve(A, B, left, bool(check_errors), "torch.linalg.solve_ex"))


# ---- triangular solve -----------------------------------------------------------------------------
class _TriangularSolve(Function):
    """X = op(A)^-1 B for triangular A (op: A or A^T); gB = op(A)^-T G, gA = -gB X^T (transposed for
    op = A^T) on the triangle read."""

    @staticmethod
    def forward(ctx, A, B, upper, trans, unit):
        X = _trsm_raw(A, B, upper, trans, unit)
        ctx.saved = (A, X, upper, trans, unit)
        return X

    @staticmethod
    @no_grad()
    def backward(ctx, g):
        A, X, upper, trans, unit = ctx.saved
        gB = _trsm_raw(A, g.contiguous(), upper, not trans, unit)
        gA = None
        if ctx.needs_input_grad[0]:
            gA = -matmul(X, gB.mT) if trans else -matmul(gB, X.mT)
            gA = gA.triu(int(unit)) if upper else gA.tril(-int(unit))
        return gA, gB, None, None, None


def _triangular(A, B, upper, trans, unit, op):
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise ValueError(f"{op}: incompatible shapes of A {tuple(A.shape)} and B {tuple(B.shape)}")
    batch = _batch_shape(op, A.shape, B.shape)
    return _TriangularSolve.apply(_expand_batch(A, batch).contiguous(), _expand_batch(B, batch).contiguous(),
                                  bool(upper), bool(trans), bool(unit))


@_refuses_out
def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """torch.linalg.solve_triangular: X with A X = B (left) or X A = B for triangular A (only its upper
    or lower triangle is read; unitriangular: its diagonal is taken as ones)."""
    op = "linalg.solve_triangular"
    _matrix(A, op)
    _matrix(B, op, square=False, name="B")
    _same_dtype(op, A, B)
    if left:
        return _triangular(A, B, upper, False, unitriangular, op)
    return _triangular(A, B.mT, upper, True, unitriangular, op).mT   # X A = B <=> A^T X^T = B^T


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve (older form): (X, A's copy) with op(A) X = b, op(A) = A or A^T."""
    op = "triangular_solve"
    _matrix(A, op)
    _matrix(b, op, square=False, name="b")
    _same_dtype(op, A, b)
    return TriangularSolveResult(_triangular(A, b, upper, transpose, unitriangular, op), A.clone())


# ---- LU -------------------------------------------------------------------------------------------
class _LUFactor(Function):
    """(LU, pivots, info) of A = P L U; the gradient for square A: gA = P L^-T (tril(L^T gL, -1) +
    triu(gU U^T)) U^-T, gL and gU read off LU's gradient below and on/above the diagonal."""

    @staticmethod
    def forward(ctx, A):
        LU, piv, info = _lu_raw(A)
        ctx.saved = (LU, piv)
        return LU, piv, info

    @staticmethod
    @no_grad()
    def backward(ctx, g, _gpiv, _ginfo):
        LU, piv = ctx.saved
        m, n = LU.shape[-2:]
        if m != n:
            raise NotImplementedError(f"linalg.lu_factor: the gradient of the LU factors of non-square matrices "
                                      f"({m} by {n}) is not implemented")
        L, U = LU.tril(-1) + eye(n, dtype=LU.dtype), LU.triu()
        phi = matmul(L.mT, g.tril(-1)).tril(-1) + matmul(g.triu(), U.mT).triu()
        Y = _trsm_raw(L.contiguous(), phi, False, True, True)           # L^-T phi
        Z = _trsm_raw(U.contiguous(), Y.mT.contiguous(), True).mT       # Y U^-T
        return _permute_rows(piv, Z.contiguous(), True)


def _permute_rows(piv, B, forward):
    """P B (forward) or P^T B, for A = P L U: the LU solve with identity factors and A's pivots."""
    n = B.shape[-2]
    ident = _expand_batch(eye(n, dtype=B.dtype), B.shape[:-2]).contiguous()
    return _lu_solve_raw(ident, _full_pivots(piv, n), B, forward)


def _full_pivots(piv, m):
    """Pivots padded to m rows (rows past min(m, n) are not swapped)."""
    k = piv.shape[-1]
    if k == m:
        return piv
    rest = arange(k + 1, m + 1, dtype=int64).expand(*piv.shape[:-1], m - k)
    return cat([piv, rest], -1).contiguous()


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """torch.linalg.lu_factor_ex: (LU, pivots, info) of A = P L U, partial pivoting; pivots 1-based."""
    op = "linalg.lu_factor_ex"
    _matrix(A, op, square=False)
    if not pivot:
        raise NotImplementedError(f"{op}: LU without pivoting is not implemented on the CPU (as in PyTorch)")
    LU, piv, info = _LUFactor.apply(A)
    if check_errors:
        _raise_on(info, op, lambda v: f"U[{v},{v}] is zero.")
    return LUFactorExResult(LU, piv, info)


def lu_factor(A, *, pivot=True):
    """torch.linalg.lu_factor: (LU, pivots); LinAlgError when U has a zero on its diagonal."""
    op = "torch.linalg.lu_factor"
    LU, piv, info = lu_factor_ex(_matrix(A, op, square=False), pivot=pivot)
    _raise_on(info, op, lambda v: f"U[{v},{v}] is zero and using it on lu_solve would result in a division by zero. "
                                  f"If you still want to perform the factorization, consider calling linalg.lu(A, "
                                  f"pivot) or linalg.lu_factor_ex(A, pivot)")
    return LUFactorResult(LU, piv)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """torch.lu_unpack: (P, L, U) from lu_factor's output."""
    op = "lu_unpack"
    _matrix(LU_data, op, square=False, name="LU_data")
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    L = U = P = None
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=LU_data.dtype)
        U = LU_data[..., :k, :].triu()
    if unpack_pivots:
        ident = _expand_batch(eye(m, dtype=LU_data.dtype), LU_data.shape[:-2]).contiguous()
        P = _lu_solve_raw(ident, _full_pivots(LU_pivots.contiguous(), m), ident, False).mT
    empty = zeros(0, dtype=LU_data.dtype)
    return LUResult(P if P is not None else empty, L if L is not None else empty, U if U is not None else empty)


def lu(A, *, pivot=True):
    """torch.linalg.lu: (P, L, U) with A = P L U; L unit lower m x k, U upper k x n."""
    LU, piv, _ = lu_factor_ex(_matrix(A, "linalg.lu", square=False), pivot=pivot)
    return lu_unpack(LU, piv)


class _LUSolve(Function):
    """X = op(A)^-1 B from A's LU factors (A = P L U). gB = op(A)^-T G; for the factors, gA as solve's,
    then, as dA = P (dL U + L dU): gL = tril(P^T gA U^T, -1), gU = triu(L^T P^T gA)."""

    @staticmethod
    def forward(ctx, LU, piv, B, trans):
        X = _lu_solve_raw(LU, piv, B, trans)
        ctx.saved = (LU, piv, X, trans)
        return X

    @staticmethod
    @no_grad()
    def backward(ctx, g):
        LU, piv, X, trans = ctx.saved
        gB = _lu_solve_raw(LU, piv, g.contiguous(), not trans)
        gLU = None
        if ctx.needs_input_grad[0]:
            gA = -matmul(X, gB.mT) if trans else -matmul(gB, X.mT)
            n = LU.shape[-1]
            L, U = LU.tril(-1) + eye(n, dtype=LU.dtype), LU.triu()
            PtgA = _permute_rows(piv, gA.contiguous(), False)
            gLU = matmul(PtgA, U.mT).tril(-1) + matmul(L.mT, PtgA).triu()
        return gLU, None, gB, None


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """torch.linalg.lu_solve: X with A X = B (or A^T X = B when adjoint; X A = B when not left) from
    lu_factor's (LU, pivots)."""
    op = "linalg.lu_solve"
    _matrix(LU, op, name="LU")
    _matrix(B, op, square=False, name="B")
    _same_dtype(op, LU, B)
    n = LU.shape[-1]
    trans = bool(adjoint)
    if not left:   # X op(A) = B  <=>  op(A)^T X^T = B^T
        B, trans = B.mT, not trans
    if B.shape[-2] != n or tuple(pivots.shape[-1:]) != (n,):
        raise ValueError(f"{op}: incompatible shapes of LU {tuple(LU.shape)}, pivots {tuple(pivots.shape)} and "
                         f"B {tuple(B.shape)}")
    batch = _batch_shape(op, LU.shape, B.shape, tuple(pivots.shape) + (1,))
    piv = pivots.expand(*batch, n).contiguous() if tuple(pivots.shape[:-1]) != batch else pivots
    X = _LUSolve.apply(_expand_batch(LU, batch).contiguous(), piv, _expand_batch(B, batch).contiguous(), trans)
    return X if left else X.mT


def legacy_lu_solve(b, LU_data, LU_pivots):
    """torch.lu_solve(b, LU_data, LU_pivots)."""
    return lu_solve(LU_data, LU_pivots, b)


def legacy_lu(A, pivot=True, get_infos=False):
    """torch.lu / Tensor.lu: (LU, pivots) or (LU, pivots, infos)."""
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


# ---- Cholesky -------------------------------------------------------------------------------------
class _Cholesky(Function):
    """L with A = L L^T (or U = L^T); Murray's gradient (PyTorch's form):
    gA = L^-T Φ(L^T gL) L^-1, Φ(X) = (tril(X) + tril(X, -1)^T) / 2."""

    @staticmethod
    def forward(ctx, A, upper, check, op):
        n = A.shape[-1]
        L, info = _empty(A._shape, A._dtype), _empty(tuple(A.shape[:-2]), int64)
        _done(A._dtype.k.cholesky(L._buf, info._buf, A._buf, _count(A.shape[:-2]), n, int(upper)), op)
        if check:
            _raise_on(info, op, _not_pd)
        ctx.saved = (L, upper)
        return L, info

    @staticmethod
    @no_grad()
    def backward(ctx, g, _ginfo):
        L, upper = ctx.saved
        if upper:
            L, g = L.mT.contiguous(), g.mT
        P = matmul(L.mT, g).tril()
        P = (P + P.tril(-1).mT) * 0.5
        Y = _trsm_raw(L, P.contiguous(), False, True)          # L^-T P
        gA = _trsm_raw(L, Y.mT.contiguous(), False, True).mT    # Y L^-1
        return gA, None, None, None


@_refuses_out
def cholesky(A, *, upper=False, out=None):
    """torch.linalg.cholesky: L lower with A = L L^T (upper: U with A = U^T U), from A's lower (upper)
    triangle; LinAlgError when A is not positive definite."""
    return _Cholesky.apply(_matrix(A, "linalg.cholesky"), bool(upper), True, "linalg.cholesky")[0]


def cholesky_ex(A, *, upper=False, check_errors=False):
    L, info = _Cholesky.apply(_matrix(A, "linalg.cholesky_ex"), bool(upper), bool(check_errors), "linalg.cholesky_ex")
    return CholeskyExResult(L, info)


def legacy_cholesky(A, upper=False):
    """torch.cholesky (older form; upper positional)."""
    return cholesky(A, upper=upper)


def cholesky_solve(B, L, upper=False):
    """torch.cholesky_solve: X with A X = B for A = L L^T (or U^T U): two triangular solves."""
    op = "cholesky_solve"
    _matrix(L, op, name="L")
    _matrix(B, op, square=False, name="B")
    if upper:   # A = U^T U: U^T Y = B, U X = Y
        return _triangular(L, _triangular(L, B, True, True, False, op), True, False, False, op)
    return _triangular(L, _triangular(L, B, False, False, False, op), False, True, False, op)


def cholesky_inverse(L, upper=False):
    """torch.cholesky_inverse: A^-1 for A = L L^T (or U^T U)."""
    _matrix(L, "cholesky_inverse", name="L")
    return cholesky_solve(_eye_like(L), L, upper)


# ---- QR -------------------------------------------------------------------------------------------
class _QR(Function):
    """Householder QR (LAPACK's signs). Gradient for m >= n (reduced): M = R gR^T - gQ^T Q,
    gA = (gQ + Q copyltu(M)) R^-T; for m < n, A = [X | Y] splits into the square part and Q gY."""

    @staticmethod
    def forward(ctx, A, mode):
        m, n = A.shape[-2:]
        k = min(m, n)
        batch = tuple(A.shape[:-2])
        qcols, rrows = (m, m) if mode == "complete" else (k, k)
        Q = _empty(batch + (m, qcols), A._dtype) if mode != "r" else None
        R = _empty(batch + (rrows, n), A._dtype)
        _done(A._dtype.k.qr(Q._buf if Q is not None else ffi.NULL, R._buf, A._buf, _count(batch), m, n, qcols,
                            rrows), "linalg.qr")
        ctx.saved = (Q, R, mode)
        ctx.set_materialize_grads(False)
        return (Q if Q is not None else zeros(0, dtype=A.dtype)), R

    @staticmethod
    @no_grad()
    def backward(ctx, gQ, gR):
        Q, R, mode = ctx.saved
        if mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = Q.shape[-2], R.shape[-1]
        if mode == "complete" and m > n:
            raise NotImplementedError("The QR decomposition is not differentiable when mode='complete' and "
                                      "nrows > ncols.")
        gQ = zeros(Q.shape, dtype=Q.dtype) if gQ is None else gQ
        gR = zeros(R.shape, dtype=R.dtype) if gR is None else gR.triu()
        if m >= n:
            return _qr_square_backward(Q, R, gQ, gR), None
        X_R, gX_R = R[..., :, :m], gR[..., :, :m]   # A = [X | Y], R = [U | V], X = Q U, Y = Q V
        gV = gR[..., :, m:]
        Y = matmul(Q, R[..., :, m:])
        gX = _qr_square_backward(Q, X_R.contiguous(), gQ + matmul(Y, gV.mT), gX_R.contiguous())
        return cat([gX, matmul(Q, gV)], -1), None


def _qr_square_backward(Q, R, gQ, gR):
    M = matmul(R, gR.mT) - matmul(gQ.mT, Q)
    M = M.tril() + M.tril(-1).mT
    B = gQ + matmul(Q, M)
    return _trsm_raw(R.contiguous(), B.mT.contiguous(), True).mT   # B R^-T


def qr(A, mode="reduced"):
    """torch.linalg.qr: (Q, R) with A = Q R; mode 'reduced' (Q m x k), 'complete' (Q m x m, R m x n)
    or 'r' (R only, Q empty)."""
    op = "linalg.qr"
    _matrix(A, op, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"{op}: qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                         f"'r', or 'complete'")
    return QRResult(*_QR.apply(A, mode))


def legacy_qr(A, some=True):
    """torch.qr (older form): reduced when some, else complete."""
    return qr(A, "reduced" if some else "complete")


# ---- symmetric eigenproblem -----------------------------------------------------------------------
def _eigh_raw(A, upper):
    n = A.shape[-1]
    batch = tuple(A.shape[:-2])
    w, V = _empty(batch + (n,), A._dtype), _empty(A._shape, A._dtype)
    _done(A._dtype.k.eigh(w._buf, V._buf, A._buf, _count(batch), n, int(upper)), "linalg.eigh")
    return w, V


class _Eigh(Function):
    """Eigenvalues ascending and eigenvectors of symmetric A (Jacobi). Gradient (PyTorch's, distinct
    eigenvalues): gA = V (skew(V^T gV) / 2 / (L_j - L_i) + diag(gL)) V^T."""

    @staticmethod
    def forward(ctx, A, upper, vectors):
        w, V = _eigh_raw(A, upper)
        ctx.saved = (w, V)
        ctx.set_materialize_grads(False)
        return w, V

    @staticmethod
    @no_grad()
    def backward(ctx, gL, gV):
        w, V = ctx.saved
        n = w.shape[-1]
        I = eye(n, dtype=w.dtype)
        if gV is not None:
            VtgV = matmul(V.mT, gV)
            E = w.unsqueeze(-2) - w.unsqueeze(-1) + I
            inner = (VtgV - VtgV.mT) * 0.5 / E * (1 - I)
            if gL is not None:
                inner = inner + _diag_embed(gL)
        else:
            inner = _diag_embed(gL)
        return matmul(V, matmul(inner, V.mT)), None, None


def _uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise ValueError(f"{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "U"


def eigh(A, UPLO="L"):
    """torch.linalg.eigh: (eigenvalues ascending, eigenvectors as columns) of symmetric matrices, read
    from the lower (UPLO='L') or upper triangle."""
    op = "linalg.eigh"
    return EighResult(*_Eigh.apply(_matrix(A, op), _uplo(UPLO, op), True))


def eigvalsh(A, UPLO="L"):
    """torch.linalg.eigvalsh: the eigenvalues of symmetric matrices, ascending."""
    op = "linalg.eigvalsh"
    return _Eigh.apply(_matrix(A, op), _uplo(UPLO, op), True)[0]


def eig(A, *, out=None):
    raise NotImplementedError("linalg.eig: general (non-symmetric) eigendecomposition needs complex tensors, which "
                              "fastgrad does not have; for symmetric matrices use linalg.eigh")


def eigvals(A, *, out=None):
    raise NotImplementedError("linalg.eigvals: general eigenvalues need complex tensors, which fastgrad does not "
                              "have; for symmetric matrices use linalg.eigvalsh")


# ---- SVD ------------------------------------------------------------------------------------------
def _svd_raw(A, full, uv):
    m, n = A.shape[-2:]
    k = min(m, n)
    batch = tuple(A.shape[:-2])
    S = _empty(batch + (k,), A._dtype)
    U = _empty(batch + (m, m if full else k), A._dtype) if uv else None
    Vh = _empty(batch + (n if full else k, n), A._dtype) if uv else None
    _done(A._dtype.k.svd(U._buf if uv else ffi.NULL, S._buf, Vh._buf if uv else ffi.NULL, A._buf, _count(batch), m,
                         n, int(full)), "linalg.svd")
    return U, S, Vh


class _SVD(Function):
    """A = U diag(S) Vh by one-sided Jacobi. Gradient (PyTorch's svd_backward, distinct singular
    values): with E_ij = s_j^2 - s_i^2, gA = U [(skew(U^T gU) S + S skew(Vh gVh^T)) / E + diag(gS)] Vh,
    plus the parts outside U's (Vh's) span for tall (wide) A; full matrices are narrowed to k first."""

    @staticmethod
    def forward(ctx, A, full, uv):
        U, S, Vh = _svd_raw(A, full, uv or ctx.needs_input_grad[0])   # svdvals' gradient needs U and Vh
        ctx.saved = (U, S, Vh, full)
        ctx.set_materialize_grads(False)
        if not uv:
            return zeros(0, dtype=A.dtype), S, zeros(0, dtype=A.dtype)
        return U, S, Vh

    @staticmethod
    @no_grad()
    def backward(ctx, gU, gS, gVh):
        U, S, Vh, full = ctx.saved
        k = S.shape[-1]
        if full:
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            gU = gU[..., :, :k] if gU is not None else None
            gVh = gVh[..., :k, :] if gVh is not None else None
        m, n = U.shape[-2], Vh.shape[-1]
        if gU is None and gVh is None:
            gS = zeros(S.shape, dtype=S.dtype) if gS is None else gS
            return matmul(U * gS.unsqueeze(-2), Vh), None, None
        I = eye(k, dtype=S.dtype)
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + I
        UhgU = matmul(U.mT, gU) if gU is not None else None
        VhgV = matmul(Vh, gVh.mT) if gVh is not None else None
        UhgU = UhgU - UhgU.mT if UhgU is not None else None
        VhgV = VhgV - VhgV.mT if VhgV is not None else None
        if UhgU is not None and VhgV is not None:
            ret = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
        elif UhgU is not None:
            ret = (UhgU / E) * S.unsqueeze(-2)
        else:
            ret = S.unsqueeze(-1) * (VhgV / E)
        ret = ret * (1 - I)
        if gS is not None:
            ret = ret + _diag_embed(gS)
        if m > n and gU is not None:
            gA = matmul(U, ret)
            gUSinv = gU / S.unsqueeze(-2)
            gA = gA + gUSinv - matmul(U, matmul(U.mT, gUSinv))
            gA = matmul(gA, Vh)
        elif m < n and gVh is not None:
            gA = matmul(ret, Vh)
            SinvgVh = gVh / S.unsqueeze(-1)
            gA = gA + SinvgVh - matmul(matmul(SinvgVh, Vh.mT), Vh)
            gA = matmul(U, gA)
        else:
            gA = matmul(U, matmul(ret, Vh))
        return gA, None, None


@_refuses_out
def svd(A, full_matrices=True, *, driver=None, out=None):
    """torch.linalg.svd: (U, S, Vh) with A = U diag(S) Vh, S descending; full_matrices: U m x m and
    Vh n x n, else m x k and k x n."""
    op = "linalg.svd"
    _matrix(A, op, square=False)
    return SVDResult(*_SVD.apply(A, bool(full_matrices), True))


@_refuses_out
def svdvals(A, *, driver=None, out=None):
    """torch.linalg.svdvals: the singular values, descending."""
    return _SVD.apply(_matrix(A, "linalg.svdvals", square=False), False, False)[1]


def legacy_svd(A, some=True, compute_uv=True):
    """torch.svd (older form): (U, S, V) with A = U diag(S) V^T; some: the reduced factors;
    compute_uv=False: U and V zero-filled."""
    _matrix(A, "svd", square=False)
    if not compute_uv:
        m, n = A.shape[-2:]
        batch = tuple(A.shape[:-2])
        S = svdvals(A)
        return LegacySVDResult(zeros(batch + (m, m), dtype=A.dtype), S, zeros(batch + (n, n), dtype=A.dtype))
    U, S, Vh = svd(A, full_matrices=not some)
    return LegacySVDResult(U, S, Vh.mT)


# ---- built on the SVD: pinv, matrix_rank, cond, lstsq ---------------------------------------------
def _tolerance(S, m, n, atol, rtol, dtype):
    """max(atol, rtol · s_max) per matrix (keeping a last dimension of 1), PyTorch's defaults: rtol is
    eps·max(m, n) unless atol > 0 is given, then 0."""
    eps = 1.1920928955078125e-07 if dtype is float32 else 2.220446049250313e-16
    if rtol is None:
        rtol = eps * max(m, n) if atol is None or (not isinstance(atol, Tensor) and atol <= 0) else 0.0
    smax = S.amax(-1, keepdim=True) if S.shape[-1] else zeros(tuple(S.shape[:-1]) + (1,), dtype=S.dtype)
    tol = smax * (rtol.to(S.dtype).unsqueeze(-1) if isinstance(rtol, Tensor) else float(rtol))
    if atol is not None:
        tol = _fn.maximum(tol, atol.to(S.dtype).unsqueeze(-1) if isinstance(atol, Tensor)
                          else _tensor(float(atol), dtype=S.dtype))
    return tol


class _Pinv(Function):
    """The pseudo-inverse V diag(1/s, 0 below the tolerance) U^T; PyTorch's gradient (pinv_backward),
    valid for any rank."""

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        m, n = A.shape[-2:]
        if hermitian:   # from eigh (A's lower triangle): A = V diag(w) V^T, the singular values |w|
            w, V = _eigh_raw(A, False)
            S, U, Vh = w.abs(), V, V.mT
        else:
            U, S, Vh = _svd_raw(A, False, True)
        tol = _tolerance(S, m, n, atol, rtol, A.dtype)
        keep = S > tol
        d = w if hermitian else S
        Sinv = _fn.where(keep, 1.0 / _fn.where(keep, d, _tensor(1.0, dtype=S.dtype)), _tensor(0.0, dtype=S.dtype))
        P = matmul(Vh.mT * Sinv.unsqueeze(-2), U.mT)
        ctx.saved = (A, P)
        return P

    @staticmethod
    @no_grad()
    def backward(ctx, g):
        A, P = ctx.saved
        m, n = A.shape[-2:]
        Ph, gh = P.mT, g.mT
        if m <= n:
            K = matmul(gh, P)
            KPh = matmul(K, Ph)
            gA = (-matmul(P, K).mT + KPh - matmul(matmul(A, P), KPh)
                  + matmul(matmul(Ph, P), gh - matmul(K, A)))
        else:
            K = matmul(P, gh)
            PhK = matmul(Ph, K)
            gA = (-matmul(K, P).mT + matmul(matmul(gh - matmul(A, K), P), Ph) + PhK
                  - matmul(matmul(PhK, P), A))
        return gA, None, None, None


@_refuses_out
def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """torch.linalg.pinv: the Moore-Penrose pseudo-inverse from the SVD; singular values at or below
    max(atol, rtol·s_max) count as zero (rtol defaults to eps·max(m, n)); hermitian: from eigh, reading
    A's lower triangle."""
    _matrix(A, "linalg.pinv", square=hermitian)
    return _Pinv.apply(A, atol, rtol, bool(hermitian))


def pinverse(A, rcond=1e-15):
    """torch.pinverse (older form): rcond is pinv's rtol."""
    return pinv(A, rtol=rcond)


@_refuses_out
def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """torch.linalg.matrix_rank: the count of singular values above max(atol, rtol·s_max)."""
    op = "linalg.matrix_rank"
    _matrix(A, op, square=hermitian)
    if tol is not None:
        atol = tol
    with no_grad():
        S = eigvalsh(A).abs() if hermitian else svdvals(A)
        return (S > _tolerance(S, *A.shape[-2:], atol, rtol, A.dtype)).to(int64).sum(-1)


def cond(A, p=None):
    """torch.linalg.cond: s_max / s_min for p None or 2 (s_min / s_max for -2); other orders
    norm(A, p) · norm(A^-1, p)."""
    op = "linalg.cond"
    _matrix(A, op, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        S = svdvals(A)
        hi, lo = S[..., 0], S[..., -1]
        return hi / lo if p != -2 else lo / hi
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def lstsq(A, B, rcond=None, *, driver=None):
    """torch.linalg.lstsq: the least-squares (minimum-norm) solution pinv(A) B; residuals and
    singular_values are empty (PyTorch's CPU default driver, gelsy, leaves them so), rank is given."""
    op = "linalg.lstsq"
    _matrix(A, op, square=False)
    tensor_arg(B, op, "B")
    _same_dtype(op, A, B)
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise ValueError(f"{op}: incompatible shapes of A {tuple(A.shape)} and B {tuple(B.shape)} (A's rows must "
                         f"match B's)")
    m, n = A.shape[-2:]
    P = pinv(A, rtol=rcond)
    X = matmul(P, Bm)
    if vector:
        X = X.squeeze(-1)
    rank = matrix_rank(A.detach(), rtol=rcond)
    empty = zeros(0, dtype=A.dtype)
    return LstsqResult(X, empty, rank, empty)


# ---- built on matmul: matrix_power, matrix_exp, multi_dot, vecdot, cross ---------------------------
def matrix_power(A, n):
    """torch.linalg.matrix_power: A^n by repeated squaring (n < 0: of A's inverse; n = 0: identity)."""
    op = "linalg.matrix_power"
    tensor_arg(A, op)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{op}: A must be batches of square matrices, got shape {tuple(A.shape)}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{op}: n must be an integer, got {n!r}")
    n = int(n)
    if n == 0:
        return _expand_batch(eye(A.shape[-1], dtype=A.dtype), A.shape[:-2]) + A * 0
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def matrix_exp(A):
    """torch.linalg.matrix_exp: scaling and squaring, e^A = (e^{A/2^s})^{2^s}, with a degree-18 Taylor
    polynomial (Horner's rule in matmuls) for ||A/2^s||_1 <= 1/2. Its gradient is the one of those
    matmuls. The scaling reads A's norm (so fg.compile refuses it)."""
    op = "linalg.matrix_exp"
    _matrix(A, op)
    if not A.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating point tensor, got {A.dtype!r}")
    n = A.shape[-1]
    I = eye(n, dtype=A.dtype)
    if A.numel() == 0:
        return A * 0
    with no_grad():
        norm = float(A.abs().sum(-2).amax())
    s = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 and math.isfinite(norm) else 0
    X = A * (0.5 ** s) if s else A
    result = I + X / 18.0
    for k in range(17, 0, -1):
        result = I + matmul(X, result) / float(k)
    for _ in range(s):
        result = matmul(result, result)
    return result


@_refuses_out
def multi_dot(tensors, *, out=None):
    """torch.linalg.multi_dot: the product of the matrices in order; the first may be a 1-D row vector
    and the last a 1-D column vector (dropped from the result)."""
    op = "linalg.multi_dot"
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"{op}: expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        tensor_arg(t, op, f"tensors[{i}]")
        if not (t.ndim == 2 or (t.ndim == 1 and i in (0, len(tensors) - 1))):
            raise ValueError(f"{op}: tensor {i} must be 2-D{' or 1-D' if i in (0, len(tensors) - 1) else ''}, got "
                             f"shape {tuple(t.shape)}")
    first, last = tensors[0].ndim == 1, tensors[-1].ndim == 1
    if first:
        tensors[0] = tensors[0].unsqueeze(0)
    if last:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    if first:
        out = out.squeeze(0)
    if last:
        out = out.squeeze(-1)
    return out


def chain_matmul(*matrices):
    """torch.chain_matmul (older form of multi_dot): the product of 2-D matrices in order."""
    if len(matrices) == 1:
        return matrices[0]
    return multi_dot(matrices)


def vander(x, *, N=None):
    """torch.linalg.vander: the powers x^0, x^1, ..., x^(N-1) of each element along a new last
    dimension (N defaults to x's last size)."""
    op = "linalg.vander"
    tensor_arg(x, op, "x")
    if x.ndim < 1:
        raise ValueError(f"{op}: x must have at least one dimension, got shape {tuple(x.shape)}")
    N = x.shape[-1] if N is None else N
    if isinstance(N, bool) or not isinstance(N, numbers.Integral) or N < 1:
        raise ValueError(f"{op}: N must be an integer greater than 1, got {N!r}")
    if N == 1:
        return (x * 0 + 1).unsqueeze(-1)
    powers = [x * 0 + 1, x]
    for _ in range(2, int(N)):
        powers.append(powers[-1] * x)
    return stack(powers, -1)


def vecdot(x, y, *, dim=-1):
    """torch.linalg.vecdot: sum(x · y) along dim (broadcasting)."""
    tensor_arg(x, "linalg.vecdot", "x")
    tensor_arg(y, "linalg.vecdot", "y")
    return (x * y).sum(dim)


def cross(input, other, *, dim=-1):
    """torch.linalg.cross: the cross product of 3-vectors along dim (default the last); inputs of one
    number of dimensions, broadcast."""
    tensor_arg(input, "linalg.cross")
    tensor_arg(other, "linalg.cross", "other")
    if input.ndim != other.ndim:
        raise ValueError(f"linalg.cross: inputs must have the same number of dimensions, got shapes "
                         f"{tuple(input.shape)} and {tuple(other.shape)}")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise ValueError(f"linalg.cross: input {tuple(input.shape)} and other {tuple(other.shape)} must have size 3 "
                         f"along dim {dim}")
    return _cross(input, other, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: Tensor.diagonal with the last two dimensions by default."""
    return A.diagonal(offset, dim1, dim2)


@_refuses_out
def tensorinv(A, ind=2, *, out=None):
    """torch.linalg.tensorinv: the inverse of A seen as a prod(shape[:ind]) x prod(shape[ind:]) matrix,
    shaped shape[ind:] + shape[:ind]."""
    op = "linalg.tensorinv"
    tensor_arg(A, op)
    if not isinstance(ind, numbers.Integral) or ind <= 0:
        raise ValueError(f"{op}: expected a strictly positive integer for 'ind', but got {ind!r}")
    rows, cols = _count(A.shape[:ind]), _count(A.shape[ind:])
    if rows != cols:
        raise ValueError(f"{op}: expected prod(A.shape[:ind]) == prod(A.shape[ind:]), got {rows} and {cols} for shape "
                         f"{tuple(A.shape)}")
    return inv(A.reshape(rows, cols)).reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


@_refuses_out
def tensorsolve(A, B, dims=None, *, out=None):
    """torch.linalg.tensorsolve: X with tensordot(A, X, X.ndim) = B."""
    op = "linalg.tensorsolve"
    tensor_arg(A, op)
    tensor_arg(B, op, "B")
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in dims], *dims)
    rows = B.numel()
    x_shape = tuple(A.shape[B.ndim:])
    if tuple(A.shape[:B.ndim]) != tuple(B.shape) or _count(x_shape) != rows:
        raise ValueError(f"{op}: A of shape {tuple(A.shape)} does not fit B of shape {tuple(B.shape)} (A's leading "
                         f"dimensions must be B's and the rest hold as many elements)")
    return solve(A.reshape(rows, rows), B.reshape(rows)).reshape(x_shape)


# ---- norms --------------------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """sum(|x|^ord)^(1/ord) over dim (all elements by default); ord inf / -inf: the largest / smallest
    |x|, ord 0: the count of nonzeros."""
    tensor_arg(x, "linalg.vector_norm")
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise TypeError(f"linalg.vector_norm: expects a floating point tensor, got {x.dtype!r}")
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg.vector_norm: ord must be a number or inf, got {ord!r}")
    if dim is None:
        x, dim = (x.reshape(-1), 0) if not keepdim else (x, tuple(range(x.ndim)))
    if ord == math.inf:
        return x.abs().amax(dim, keepdim)
    if ord == -math.inf:
        return x.abs().amin(dim, keepdim)
    if ord == 0:
        return (x != 0).to(x.dtype).sum(dim, keepdim)
    if ord > 0:
        return _fn.norm(x, float(ord), dim, keepdim)
    return (x.abs() ** ord).sum(dim, keepdim) ** (1.0 / ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The Frobenius norm, the nuclear norm ('nuc': the sum of the singular values), ord 2 / -2 (the
    largest / smallest singular value), ord 1 / -1 (largest / smallest column sum of |A|) and inf /
    -inf (row sums) over the two dims."""
    tensor_arg(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)
    if A.ndim < 2 or len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: expects a tensor of at least 2 dimensions and two dims, got shape "
                         f"{A.shape} and dim={dim!r}")
    rows, cols = (d % A.ndim for d in dim)
    if rows == cols:
        raise ValueError(f"linalg.matrix_norm: dims must be different, got dim={dim!r}")
    if ord == "fro":
        return _fn.norm(A, 2.0, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        S = svdvals(A.movedim((rows, cols), (-2, -1)))
        out = S.sum(-1) if ord == "nuc" else S.amax(-1) if ord == 2 else S.amin(-1)
        if keepdim:
            for d in sorted((rows, cols)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, math.inf, -math.inf):
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)   # column sums for ord 1
        sums = A.abs().sum(summed, keepdim=True)
        out = sums.amax(over, keepdim=True) if ord > 0 else sums.amin(over, keepdim=True)
        return out if keepdim else out.squeeze(max(rows, cols)).squeeze(min(rows, cols))
    raise ValueError(f"linalg.matrix_norm: order {ord!r} not supported (one of 'fro', 'nuc', 2, -2, 1, -1, inf, "
                     f"-inf)")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: with ord None, the 2-norm of the flattened tensor (over dim if given); a
    vector norm for one dim (or a 1-D input), a matrix norm for two dims (or a 2-D input)."""
    tensor_arg(A, "linalg.norm")
    if isinstance(dim, numbers.Integral):
        dim = (dim,)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if (dim is not None and len(dim) == 2) or (dim is None and A.ndim == 2):
        return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
    if dim is None and A.ndim != 1:
        raise ValueError(f"linalg.norm: ord={ord!r} needs a 1-D or 2-D input or dim, got shape {A.shape}")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)

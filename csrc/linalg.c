/* linalg.c: dense linear algebra on batches of small matrices, with no LAPACK (python/fastgrad/linalg.py).
 *
 * Rules of this file:
 *   - every kernel works on `batch` contiguous row-major matrices one after another; broadcasting of
 *     batch dimensions is done in Python before the call.
 *   - the work is done in double for both element types: a float matrix is read into a double scratch
 *     copy, factored there and written back rounded once (LAPACK's sgetrf would round every step).
 *     The f32 and f64 kernels are one double core each, wrapped by LINALG_KERNELS at the end.
 *   - the factorisations are textbook (Golub & Van Loan): LU with partial pivoting (LAPACK's row
 *     choice and 1-based pivots), Cholesky by columns, Householder QR with LAPACK's dlarfg signs (so
 *     Q and R match torch's), cyclic Jacobi for symmetric eigenproblems and one-sided (Hestenes)
 *     Jacobi for the SVD. O(n^3) per matrix, meant for the sizes networks meet (n up to a few hundred).
 *   - a matrix that cannot be factored is reported per matrix in info[] (LAPACK's: 0, or the 1-based
 *     column where it failed); Python decides whether that raises. Kernels return 0, or -1 when the
 *     scratch memory could not be had (nothing is then written).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastgrad.h"

#define EPS 2.220446049250313e-16

/* ---- LU with partial pivoting: A = P L U, L unit lower (below the diagonal of lu), U upper ----- */
static int64_t lu_core(double *a, int64_t *piv, int64_t m, int64_t n) {
    int64_t info = 0, k = m < n ? m : n;
    for (int64_t j = 0; j < k; j++) {
        int64_t p = j;
        double best = fabs(a[j * n + j]);
        for (int64_t i = j + 1; i < m; i++)
            if (fabs(a[i * n + j]) > best) { best = fabs(a[i * n + j]); p = i; }
        piv[j] = p + 1;
        if (a[p * n + j] != 0.0) {
            if (p != j)
                for (int64_t c = 0; c < n; c++) { double t = a[j * n + c]; a[j * n + c] = a[p * n + c]; a[p * n + c] = t; }
            double inv = 1.0 / a[j * n + j];
            for (int64_t i = j + 1; i < m; i++) a[i * n + j] *= inv;
        } else if (info == 0) {
            info = j + 1;
        }
        for (int64_t i = j + 1; i < m; i++) {
            double l = a[i * n + j];
            if (l != 0.0)
                for (int64_t c = j + 1; c < n; c++) a[i * n + c] -= l * a[j * n + c];
        }
    }
    return info;
}

/* Solves A X = B (trans 0) or A^T X = B (trans 1) in place in b (n x k) from A's LU and pivots. */
static void lu_solve_core(double *b, const double *lu, const int64_t *piv, int64_t n, int64_t k, int trans) {
    if (!trans) {
        for (int64_t j = 0; j < n; j++) {   /* P B */
            int64_t p = piv[j] - 1;
            if (p != j)
                for (int64_t c = 0; c < k; c++) { double t = b[j * k + c]; b[j * k + c] = b[p * k + c]; b[p * k + c] = t; }
        }
        for (int64_t i = 0; i < n; i++)     /* L y = P B */
            for (int64_t j = 0; j < i; j++) {
                double l = lu[i * n + j];
                if (l != 0.0) for (int64_t c = 0; c < k; c++) b[i * k + c] -= l * b[j * k + c];
            }
        for (int64_t i = n - 1; i >= 0; i--) {   /* U x = y */
            for (int64_t j = i + 1; j < n; j++) {
                double u = lu[i * n + j];
                if (u != 0.0) for (int64_t c = 0; c < k; c++) b[i * k + c] -= u * b[j * k + c];
            }
            double d = lu[i * n + i];
            for (int64_t c = 0; c < k; c++) b[i * k + c] /= d;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {    /* U^T y = B */
            for (int64_t j = 0; j < i; j++) {
                double u = lu[j * n + i];
                if (u != 0.0) for (int64_t c = 0; c < k; c++) b[i * k + c] -= u * b[j * k + c];
            }
            double d = lu[i * n + i];
            for (int64_t c = 0; c < k; c++) b[i * k + c] /= d;
        }
        for (int64_t i = n - 1; i >= 0; i--)  /* L^T z = y */
            for (int64_t j = i + 1; j < n; j++) {
                double l = lu[j * n + i];
                if (l != 0.0) for (int64_t c = 0; c < k; c++) b[i * k + c] -= l * b[j * k + c];
            }
        for (int64_t j = n - 1; j >= 0; j--) {   /* x = P^T z */
            int64_t p = piv[j] - 1;
            if (p != j)
                for (int64_t c = 0; c < k; c++) { double t = b[j * k + c]; b[j * k + c] = b[p * k + c]; b[p * k + c] = t; }
        }
    }
}

/* det, log|det| and sign from an n x n LU: the product of U's diagonal, negated per row swap. */
static void lu_det_core(double *det, double *logabs, double *sign, const double *lu, const int64_t *piv, int64_t n) {
    double d = 1.0, la = 0.0, s = 1.0;
    for (int64_t j = 0; j < n; j++) {
        double u = lu[j * n + j];
        if (piv[j] - 1 != j) { d = -d; s = -s; }
        d *= u;
        la += log(fabs(u));
        s = u == 0.0 ? 0.0 : u < 0.0 ? -s : u != u ? NAN : s;
    }
    *det = d, *logabs = la, *sign = s;
}

/* ---- Cholesky: A = L L^T from A's lower triangle (upper 0), or A = U^T U from its upper ---------- */
static int64_t cholesky_core(double *l, const double *a, int64_t n, int upper) {
    /* l is n x n, written lower; the caller transposes for upper */
    memset(l, 0, (size_t)(n * n) * sizeof(double));
    for (int64_t j = 0; j < n; j++) {
        double s = a[j * n + j];
        for (int64_t k = 0; k < j; k++) s -= l[j * n + k] * l[j * n + k];
        if (!(s > 0.0)) return j + 1;   /* not positive definite (or NaN) */
        double d = sqrt(s);
        l[j * n + j] = d;
        for (int64_t i = j + 1; i < n; i++) {
            double v = upper ? a[j * n + i] : a[i * n + j];
            for (int64_t k = 0; k < j; k++) v -= l[i * n + k] * l[j * n + k];
            l[i * n + j] = v / d;
        }
    }
    return 0;
}

/* ---- triangular solve: op(A) X = B in place in b (n x k), op(A) = A or A^T ------------------------ */
static void trsm_core(double *b, const double *a, int64_t n, int64_t k, int upper, int trans, int unit) {
    int forward = upper == trans;   /* lower, or the transpose of upper */
#define AT(i, j) (trans ? a[(j) * n + (i)] : a[(i) * n + (j)])
    for (int64_t s = 0; s < n; s++) {
        int64_t i = forward ? s : n - 1 - s;
        int64_t lo = forward ? 0 : i + 1, hi = forward ? i : n;
        for (int64_t j = lo; j < hi; j++) {
            double e = AT(i, j);
            if (e != 0.0) for (int64_t c = 0; c < k; c++) b[i * k + c] -= e * b[j * k + c];
        }
        if (!unit) {
            double d = AT(i, i);
            for (int64_t c = 0; c < k; c++) b[i * k + c] /= d;
        }
    }
#undef AT
}

/* ---- Householder QR: R (m x n, overwritten in r), the reflectors in v (m x kk) and tau ------------ */
static void qr_core(double *r, double *v, double *tau, int64_t m, int64_t n) {
    int64_t kk = m < n ? m : n;
    for (int64_t j = 0; j < kk; j++) {
        double alpha = r[j * n + j], xnorm = 0.0;
        for (int64_t i = j + 1; i < m; i++) xnorm = hypot(xnorm, r[i * n + j]);
        for (int64_t i = 0; i < m; i++) v[i * kk + j] = 0.0;
        v[j * kk + j] = 1.0;
        if (xnorm == 0.0) { tau[j] = 0.0; continue; }   /* H = I (LAPACK's dlarfg) */
        double beta = -copysign(hypot(alpha, xnorm), alpha);
        tau[j] = (beta - alpha) / beta;
        double scale = 1.0 / (alpha - beta);
        for (int64_t i = j + 1; i < m; i++) { v[i * kk + j] = r[i * n + j] * scale; r[i * n + j] = 0.0; }
        r[j * n + j] = beta;
        for (int64_t c = j + 1; c < n; c++) {   /* R[j:, c] -= tau v (v^T R[j:, c]) */
            double dot = 0.0;
            for (int64_t i = j; i < m; i++) dot += v[i * kk + j] * r[i * n + c];
            dot *= tau[j];
            for (int64_t i = j; i < m; i++) r[i * n + c] -= dot * v[i * kk + j];
        }
    }
}

/* Q's first qc columns (m x qc): H_0 H_1 ... H_{kk-1} applied to the identity's columns. */
static void qr_q_core(double *q, const double *v, const double *tau, int64_t m, int64_t kk, int64_t qc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t c = 0; c < qc; c++) q[i * qc + c] = i == c ? 1.0 : 0.0;
    for (int64_t j = kk - 1; j >= 0; j--) {
        if (tau[j] == 0.0) continue;
        for (int64_t c = 0; c < qc; c++) {
            double dot = 0.0;
            for (int64_t i = j; i < m; i++) dot += v[i * kk + j] * q[i * qc + c];
            dot *= tau[j];
            for (int64_t i = j; i < m; i++) q[i * qc + c] -= dot * v[i * kk + j];
        }
    }
}

/* ---- symmetric eigenproblem: cyclic Jacobi; w ascending, the eigenvectors in v's columns --------- */
static void eigh_core(double *w, double *v, double *a, int64_t n) {
    for (int64_t i = 0; i < n * n; i++) v[i] = 0.0;
    for (int64_t i = 0; i < n; i++) v[i * n + i] = 1.0;
    double fro = 0.0;
    for (int64_t i = 0; i < n * n; i++) fro = hypot(fro, a[i]);
    for (int sweep = 0; sweep < 100; sweep++) {   /* until a sweep finds nothing left to rotate */
        int rotated = 0;
        for (int64_t p = 0; p < n - 1; p++)
            for (int64_t q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (!(fabs(apq) > EPS * sqrt(fabs(a[p * n + p] * a[q * n + q])) && fabs(apq) > 1e-3 * EPS * fro)) {
                    continue;   /* negligible (or NaN) */
                }
                rotated = 1;
                double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(1.0 + theta * theta));
                if (isinf(theta)) t = 0.5 / theta;
                double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
                for (int64_t k = 0; k < n; k++) {   /* A J */
                    double x = a[k * n + p], y = a[k * n + q];
                    a[k * n + p] = c * x - s * y, a[k * n + q] = s * x + c * y;
                }
                for (int64_t k = 0; k < n; k++) {   /* J^T A */
                    double x = a[p * n + k], y = a[q * n + k];
                    a[p * n + k] = c * x - s * y, a[q * n + k] = s * x + c * y;
                }
                a[p * n + q] = a[q * n + p] = 0.0;
                for (int64_t k = 0; k < n; k++) {   /* V J */
                    double x = v[k * n + p], y = v[k * n + q];
                    v[k * n + p] = c * x - s * y, v[k * n + q] = s * x + c * y;
                }
            }
        if (!rotated) break;
    }
    for (int64_t i = 0; i < n; i++) w[i] = a[i * n + i];
    for (int64_t i = 1; i < n; i++)   /* insertion sort, ascending, moving V's columns along */
        for (int64_t j = i; j > 0 && w[j - 1] > w[j]; j--) {
            double t = w[j]; w[j] = w[j - 1]; w[j - 1] = t;
            for (int64_t k = 0; k < n; k++) { t = v[k * n + j]; v[k * n + j] = v[k * n + j - 1]; v[k * n + j - 1] = t; }
        }
}

/* Fills columns [from, cols) of u (m x cols, columns [0, from) orthonormal) with orthonormal vectors:
 * Gram-Schmidt (twice) of the unit vectors, taking the one that keeps the most of itself. */
static void complete_basis(double *u, int64_t m, int64_t cols, int64_t from, double *tmp) {
    for (int64_t c = from; c < cols; c++) {
        double best = -1.0;
        int64_t pick = 0;
        for (int64_t e = 0; e < m; e++) {   /* the unit vector least inside the span so far */
            double keep = 1.0;
            for (int64_t j = 0; j < c; j++) keep -= u[e * cols + j] * u[e * cols + j];
            if (keep > best + 1e-12) { best = keep; pick = e; }
        }
        for (int64_t i = 0; i < m; i++) tmp[i] = i == pick ? 1.0 : 0.0;
        for (int pass = 0; pass < 2; pass++)
            for (int64_t j = 0; j < c; j++) {
                double dot = 0.0;
                for (int64_t i = 0; i < m; i++) dot += u[i * cols + j] * tmp[i];
                for (int64_t i = 0; i < m; i++) tmp[i] -= dot * u[i * cols + j];
            }
        double norm = 0.0;
        for (int64_t i = 0; i < m; i++) norm = hypot(norm, tmp[i]);
        for (int64_t i = 0; i < m; i++) u[i * cols + c] = tmp[i] / norm;
    }
}

/* ---- SVD of an m x n matrix with m >= n: one-sided Jacobi on w's columns (w = A V -> U S).
 * s (n) descending; u m x uc (uc = n, or m for the full basis); vt n x n (V^T). ------------------- */
static void svd_core(double *u, double *s, double *vt, double *w, double *v, double *tmp, int64_t m, int64_t n,
                     int64_t uc) {
    for (int64_t i = 0; i < n * n; i++) v[i] = 0.0;
    for (int64_t i = 0; i < n; i++) v[i * n + i] = 1.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        int rotated = 0;
        for (int64_t p = 0; p < n - 1; p++)
            for (int64_t q = p + 1; q < n; q++) {
                double alpha = 0.0, beta = 0.0, gamma = 0.0;
                for (int64_t i = 0; i < m; i++) {
                    double x = w[i * n + p], y = w[i * n + q];
                    alpha += x * x, beta += y * y, gamma += x * y;
                }
                if (!(fabs(gamma) > EPS * sqrt(alpha * beta)) || gamma == 0.0) continue;
                rotated = 1;
                double zeta = (beta - alpha) / (2.0 * gamma);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                if (isinf(zeta)) t = 0.5 / zeta;
                double c = 1.0 / sqrt(1.0 + t * t), sn = t * c;
                for (int64_t i = 0; i < m; i++) {
                    double x = w[i * n + p], y = w[i * n + q];
                    w[i * n + p] = c * x - sn * y, w[i * n + q] = sn * x + c * y;
                }
                for (int64_t i = 0; i < n; i++) {
                    double x = v[i * n + p], y = v[i * n + q];
                    v[i * n + p] = c * x - sn * y, v[i * n + q] = sn * x + c * y;
                }
            }
        if (!rotated) break;
    }
    for (int64_t j = 0; j < n; j++) {
        double norm = 0.0;
        for (int64_t i = 0; i < m; i++) norm = hypot(norm, w[i * n + j]);
        s[j] = norm;
    }
    for (int64_t i = 1; i < n; i++)   /* descending, moving W's and V's columns along */
        for (int64_t j = i; j > 0 && s[j - 1] < s[j]; j--) {
            double t = s[j]; s[j] = s[j - 1]; s[j - 1] = t;
            for (int64_t k = 0; k < m; k++) { t = w[k * n + j]; w[k * n + j] = w[k * n + j - 1]; w[k * n + j - 1] = t; }
            for (int64_t k = 0; k < n; k++) { t = v[k * n + j]; v[k * n + j] = v[k * n + j - 1]; v[k * n + j - 1] = t; }
        }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) vt[i * n + j] = v[j * n + i];
    if (!u) return;
    /* U's columns: W's normalised, for singular values clear of rounding; the rest completed */
    double tiny = (n ? s[0] : 0.0) * EPS * (double)(m > n ? m : n);
    int64_t good = 0;
    while (good < n && s[good] > tiny && s[good] > 0.0) good++;
    for (int64_t j = 0; j < good; j++)
        for (int64_t i = 0; i < m; i++) u[i * uc + j] = w[i * n + j] / s[j];
    complete_basis(u, m, uc, good, tmp);
}

/* Whether all n values are finite: eigh and svd give NaN for a matrix that is not (Jacobi rotations
 * of an inf or NaN would leave some outputs finite and wrong). */
static int all_finite(const double *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* ---- the f32 and f64 kernels: read into double scratch, run the core, write back --------------- */
#define LINALG_KERNELS(T, SUF)                                                                               \
int fg_lu_factor_##SUF(T *lu, int64_t *pivots, int64_t *info, const T *a, int64_t batch, int64_t m, int64_t n) { \
    int64_t k = m < n ? m : n;                                                                              \
    double *w = malloc((size_t)(m * n + 1) * sizeof(double));                                               \
    if (!w) return -1;                                                                                      \
    for (int64_t b = 0; b < batch; b++) {                                                                   \
        for (int64_t i = 0; i < m * n; i++) w[i] = a[b * m * n + i];                                        \
        info[b] = lu_core(w, pivots + b * k, m, n);                                                         \
        for (int64_t i = 0; i < m * n; i++) lu[b * m * n + i] = (T)w[i];                                    \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}                                                                                                           \
int fg_lu_solve_##SUF(T *x, const T *lu, const int64_t *pivots, const T *b, int64_t batch, int64_t n, int64_t k, \
                      int trans) {                                                                          \
    double *w = malloc((size_t)(n * n + n * k + 1) * sizeof(double)), *r = w + n * n;                       \
    if (!w) return -1;                                                                                      \
    for (int64_t e = 0; e < batch; e++) {                                                                   \
        for (int64_t i = 0; i < n * n; i++) w[i] = lu[e * n * n + i];                                       \
        for (int64_t i = 0; i < n * k; i++) r[i] = b[e * n * k + i];                                        \
        lu_solve_core(r, w, pivots + e * n, n, k, trans);                                                   \
        for (int64_t i = 0; i < n * k; i++) x[e * n * k + i] = (T)r[i];                                     \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}                                                                                                           \
int fg_lu_det_##SUF(T *det, T *logabsdet, T *sign, const T *lu, const int64_t *pivots, int64_t batch, int64_t n) { \
    double *w = malloc((size_t)(n * n + 1) * sizeof(double));                                               \
    if (!w) return -1;                                                                                      \
    for (int64_t e = 0; e < batch; e++) {                                                                   \
        double d, la, s;                                                                                    \
        for (int64_t i = 0; i < n * n; i++) w[i] = lu[e * n * n + i];                                       \
        lu_det_core(&d, &la, &s, w, pivots + e * n, n);                                                     \
        if (det) det[e] = (T)d;                                                                             \
        if (logabsdet) logabsdet[e] = (T)la;                                                                \
        if (sign) sign[e] = (T)s;                                                                           \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}                                                                                                           \
int fg_cholesky_##SUF(T *l, int64_t *info, const T *a, int64_t batch, int64_t n, int upper) {               \
    double *w = malloc((size_t)(2 * n * n + 1) * sizeof(double)), *r = w + n * n;                           \
    if (!w) return -1;                                                                                      \
    for (int64_t e = 0; e < batch; e++) {                                                                   \
        for (int64_t i = 0; i < n * n; i++) w[i] = a[e * n * n + i];                                        \
        info[e] = cholesky_core(r, w, n, upper);                                                            \
        for (int64_t i = 0; i < n; i++)                                                                     \
            for (int64_t j = 0; j < n; j++) l[e * n * n + i * n + j] = (T)(upper ? r[j * n + i] : r[i * n + j]); \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}                                                                                                           \
int fg_triangular_solve_##SUF(T *x, const T *a, const T *b, int64_t batch, int64_t n, int64_t k, int upper,  \
                              int trans, int unit) {                                                        \
    double *w = malloc((size_t)(n * n + n * k + 1) * sizeof(double)), *r = w + n * n;                       \
    if (!w) return -1;                                                                                      \
    for (int64_t e = 0; e < batch; e++) {                                                                   \
        for (int64_t i = 0; i < n * n; i++) w[i] = a[e * n * n + i];                                        \
        for (int64_t i = 0; i < n * k; i++) r[i] = b[e * n * k + i];                                        \
        trsm_core(r, w, n, k, upper, trans, unit);                                                          \
        for (int64_t i = 0; i < n * k; i++) x[e * n * k + i] = (T)r[i];                                     \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}                                                                                                           \
int fg_qr_##SUF(T *q, T *r, const T *a, int64_t batch, int64_t m, int64_t n, int64_t qcols, int64_t rrows) {  \
    int64_t kk = m < n ? m : n;                                                                             \
    double *w = malloc((size_t)(m * n + m * kk + kk + m * qcols + 1) * sizeof(double));                     \
    if (!w) return -1;                                                                                      \
    double *v = w + m * n, *tau = v + m * kk, *qw = tau + kk;                                               \
    for (int64_t e = 0; e < batch; e++) {                                                                   \
        for (int64_t i = 0; i < m * n; i++) w[i] = a[e * m * n + i];                                        \
        qr_core(w, v, tau, m, n);                                                                           \
        for (int64_t i = 0; i < rrows * n; i++) r[e * rrows * n + i] = (T)w[i];                             \
        if (q) {                                                                                            \
            qr_q_core(qw, v, tau, m, kk, qcols);                                                            \
            for (int64_t i = 0; i < m * qcols; i++) q[e * m * qcols + i] = (T)qw[i];                        \
        }                                                                                                   \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}                                                                                                           \
int fg_eigh_##SUF(T *eigenvalues, T *eigenvectors, const T *a, int64_t batch, int64_t n, int upper) {       \
    double *w = malloc((size_t)(2 * n * n + n + 1) * sizeof(double));                                       \
    if (!w) return -1;                                                                                      \
    double *v = w + n * n, *ev = v + n * n;                                                                 \
    for (int64_t e = 0; e < batch; e++) {                                                                   \
        const T *src = a + e * n * n;                                                                       \
        for (int64_t i = 0; i < n; i++)   /* symmetric, from the one triangle read */                       \
            for (int64_t j = 0; j < n; j++)                                                                 \
                w[i * n + j] = (upper ? i <= j : i >= j) ? src[i * n + j] : src[j * n + i];                 \
        if (all_finite(w, n * n)) eigh_core(ev, v, w, n);                                                   \
        else for (int64_t i = 0; i < n * n; i++) v[i] = NAN, ev[i % n] = NAN;                               \
        for (int64_t i = 0; i < n; i++) eigenvalues[e * n + i] = (T)ev[i];                                  \
        if (eigenvectors)                                                                                   \
            for (int64_t i = 0; i < n * n; i++) eigenvectors[e * n * n + i] = (T)v[i];                      \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}                                                                                                           \
int fg_svd_##SUF(T *u, T *s, T *vh, const T *a, int64_t batch, int64_t m, int64_t n, int full) {            \
    int tall = m >= n;                                                                                      \
    int64_t mm = tall ? m : n, nn = tall ? n : m;   /* the Jacobi runs on the tall one: A or A^T */         \
    int64_t uc = full ? mm : nn;                                                                            \
    double *w = malloc((size_t)(mm * nn + 2 * nn * nn + mm * uc + nn + mm + 1) * sizeof(double));           \
    if (!w) return -1;                                                                                      \
    double *v = w + mm * nn, *vt = v + nn * nn, *uw = vt + nn * nn, *sw = uw + mm * uc, *tmp = sw + nn;     \
    for (int64_t e = 0; e < batch; e++) {                                                                   \
        const T *src = a + e * m * n;                                                                       \
        for (int64_t i = 0; i < mm; i++)                                                                    \
            for (int64_t j = 0; j < nn; j++) w[i * nn + j] = tall ? src[i * n + j] : src[j * n + i];        \
        if (all_finite(w, mm * nn)) svd_core(u || vh ? uw : NULL, sw, vt, w, v, tmp, mm, nn, uc);           \
        else for (int64_t i = 0; i < mm * uc || i < nn * nn; i++) {                                          \
            if (i < mm * uc) uw[i] = NAN;                                                                   \
            if (i < nn * nn) vt[i] = NAN;                                                                   \
            if (i < nn) sw[i] = NAN;                                                                        \
        }                                                                                                   \
        for (int64_t i = 0; i < nn; i++) s[e * nn + i] = (T)sw[i];                                          \
        if (!u && !vh) continue;                                                                            \
        /* tall: U = uw (m x uc), Vh = vt (n x n). wide: A^T = uw S vt, so U = vt^T, Vh = uw^T */          \
        int64_t ucols = full ? m : nn, vrows = full ? n : nn;                                               \
        T *ue = u + e * m * ucols, *ve = vh + e * vrows * n;                                                \
        if (tall) {                                                                                         \
            for (int64_t i = 0; i < m * ucols; i++) ue[i] = (T)uw[i];                                       \
            for (int64_t i = 0; i < n * n; i++) ve[i] = (T)vt[i];                                           \
        } else {                                                                                            \
            for (int64_t i = 0; i < m; i++)                                                                 \
                for (int64_t j = 0; j < m; j++) ue[i * m + j] = (T)vt[j * m + i];                           \
            for (int64_t i = 0; i < vrows; i++)                                                             \
                for (int64_t j = 0; j < n; j++) ve[i * n + j] = (T)uw[j * uc + i];                          \
        }                                                                                                   \
    }                                                                                                       \
    free(w);                                                                                                \
    return 0;                                                                                               \
}

LINALG_KERNELS(float, f32)
LINALG_KERNELS(double, f64)

/* fastgrad.h: the one declaration of fastgrad's C API.
 *
 * csrc/build_ffi.py hands this file to cffi, which generates the Python extension from it, so
 * nothing else retypes these signatures. Keep it to plain declarations (cffi parses it):
 * preprocessor lines are dropped before cffi reads it.
 *
 * The rules every kernel follows:
 *   - names are fg_<op>[_<variant>]_<f32|f64|i64>; every float kernel exists for float and double;
 *     kernels that serve every type take a type code (enum fg_dtype) instead of a suffix.
 *   - arguments: outputs first, then const inputs, then sizes. Sizes and indices are int64_t.
 *   - buffers are contiguous, row-major, and do not overlap unless a comment says so.
 *   - kernels trust their inputs: Python checks shapes, dtypes and index ranges before the call.
 *   - kernels allocate no Python objects and keep no per-call state.
 *   - backward kernels ACCUMULATE (+=) into gradient buffers; clearing them is zero_grad()'s job.
 *     The GEMM-backed ones (matmul, linear, linear_relu) take accumulate_<grad> flags like fg_gemm's:
 *     0 overwrites that gradient, so a buffer that holds no gradient yet needs no zeroing pass.
 *   - forward kernels overwrite their outputs (the old contents may be garbage or NaN).
 */
#ifndef FASTGRAD_H
#define FASTGRAD_H
#include <stdint.h>

/* ---- element types and what serves them all (convert.c) ----------------------------------- */
/* The element types, as the type codes below name them: float, double, int64_t, and bool stored as
 * one uint8_t (0 or 1). Integer kernels are named fg_<op>_i64 and exist where integer tensors need
 * them; float kernels exist for both f32 and f64. */
enum fg_dtype { FG_F32, FG_F64, FG_I64, FG_BOOL };
/* out[i] = in[i] converted: float -> int truncates toward zero (NaN and out-of-range give INT64_MIN),
 * anything -> bool is != 0. out and in may be the same buffer only when the types have one size. */
void fg_cast(void *out, int out_type, const void *in, int in_type, int64_t n);
/* out[i] = value (float types) or ivalue (int64; bool stores ivalue != 0). */
void fg_fill(void *out, int type, double value, int64_t ivalue, int64_t n);

/* ---- data movement for every element type (movement.c) ------------------------------------- */
/* The strided copy behind transpose, permute, expand, repeat, cat, split, narrow and flip:
 * for every index (i0, ..., i{ndim-1}) < shape,
 *     out[out_offset + sum(ik * out_strides[k])] = in[in_offset + sum(ik * in_strides[k])],
 * moving elements of elem_size bytes (1, 4 or 8). Offsets and strides count elements; strides may
 * be 0 (read: broadcast) or negative (flip). The output positions must be distinct, and out and in
 * must not overlap. */
void fg_strided_copy(void *out, const void *in, int64_t elem_size, const int64_t *shape, const int64_t *out_strides,
                     const int64_t *in_strides, int64_t out_offset, int64_t in_offset, int64_t ndim);
/* The same walk adding instead of copying, out[...] += in[...]: the backward of those ops (distinct
 * output positions; summing over broadcast dimensions is fg_sum_to's job). */
void fg_strided_add_f32(float *out, const float *in, const int64_t *shape, const int64_t *out_strides,
                        const int64_t *in_strides, int64_t out_offset, int64_t in_offset, int64_t ndim);
void fg_strided_add_f64(double *out, const double *in, const int64_t *shape, const int64_t *out_strides,
                        const int64_t *in_strides, int64_t out_offset, int64_t in_offset, int64_t ndim);
/* tril (upper = 0) / triu (upper = 1) of `batch` contiguous rows x cols matrices: element (i, j) is
 * kept where j - i <= diagonal (tril) or j - i >= diagonal (triu), else zero (all bits clear).
 * out may be in (in place). Its backward is the same mask applied to the gradient. */
void fg_triangle(void *out, const void *in, int64_t elem_size, int upper, int64_t diagonal, int64_t batch,
                 int64_t rows, int64_t cols);

/* ---- elementwise (elementwise.inc) --------------------------------------------------------- */
/* POW, MAXIMUM, MINIMUM: the math helper's (ops/elementwise.py Pow, Maximum, Minimum); maximum and
 * minimum propagate NaN, their backward splits the gradient in halves at ties, as PyTorch's. */
enum fg_binary_op { FG_ADD, FG_SUB, FG_MUL, FG_DIV, FG_POW, FG_MAXIMUM, FG_MINIMUM };

/* out[i] = a[i] op b[i] for n elements; out may alias a or b. */
void fg_binary_f32(float *out, const float *a, const float *b, int op, int64_t n);
void fg_binary_f64(double *out, const double *a, const double *b, int op, int64_t n);
void fg_binary_i64(int64_t *out, const int64_t *a, const int64_t *b, int op, int64_t n);   /* no FG_DIV */
/* Its backward for operands of one shape: da += dout * d(a op b)/da, db likewise, in one pass
 * (either may be NULL: skipped; da and db may be one buffer, for x op x). */
void fg_binary_backward_f32(float *da, float *db, const float *dout, const float *a, const float *b, int op,
                            int64_t n);
void fg_binary_backward_f64(double *da, double *db, const double *dout, const double *a, const double *b, int op,
                            int64_t n);
/* Broadcasting form: out is contiguous with `shape`; a and b are read through element strides
 * (0 along broadcast dimensions). out may alias an operand whose strides are contiguous. */
void fg_binary_bcast_f32(float *out, const float *a, const float *b, int op, const int64_t *shape,
                         const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_binary_bcast_f64(double *out, const double *a, const double *b, int op, const int64_t *shape,
                         const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_binary_bcast_i64(int64_t *out, const int64_t *a, const int64_t *b, int op, const int64_t *shape,
                         const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
/* y += alpha * x: the gradient accumulation every backward ends in. */
void fg_axpy_f32(float *y, const float *x, float alpha, int64_t n);
void fg_axpy_f64(double *y, const double *x, double alpha, int64_t n);
/* out[strided] += alpha * a[i]: a is contiguous with `shape`, out is read through `out_strides`
 * (0 along the dimensions being summed away). Broadcast backward, bias gradients, sum(dim). */
void fg_sum_to_f32(float *out, const float *a, float alpha, const int64_t *shape,
                   const int64_t *out_strides, int64_t ndim);
void fg_sum_to_f64(double *out, const double *a, double alpha, const int64_t *shape,
                   const int64_t *out_strides, int64_t ndim);
/* The sum of n elements, accumulated in double. */
double fg_sum_f32(const float *a, int64_t n);
double fg_sum_f64(const double *a, int64_t n);
/* out[j, i] = a[i, j] for a of rows x cols. */
void fg_transpose_f32(float *out, const float *a, int64_t rows, int64_t cols);
void fg_transpose_f64(double *out, const double *a, int64_t rows, int64_t cols);

/* ---- activations (activation.inc): forward, then backward from what forward saved ----------- */
void fg_relu_f32(float *out, const float *x, int64_t n);
void fg_relu_f64(double *out, const double *x, int64_t n);
/* dx += dout where x > 0 (the gradient at exactly 0 is 0, as in PyTorch). */
void fg_relu_backward_f32(float *dx, const float *dout, const float *x, int64_t n);
void fg_relu_backward_f64(double *dx, const double *dout, const double *x, int64_t n);
/* The backward of a Linear layer's bias + ReLU, from the ReLU's saved output over rows x cols:
 * g = dout where out > 0, else 0; dx += g, dbias += column sums of g (either may be NULL: skipped).
 * (Its forward is fg_linear_relu, which adds the bias before the product, as fg_linear does.) */
void fg_bias_relu_backward_f32(float *dx, float *dbias, const float *dout, const float *out, int64_t rows,
                               int64_t cols);
void fg_bias_relu_backward_f64(double *dx, double *dbias, const double *dout, const double *out, int64_t rows,
                               int64_t cols);
void fg_tanh_f32(float *out, const float *x, int64_t n);
void fg_tanh_f64(double *out, const double *x, int64_t n);
/* dx += dout * (1 - out^2) */
void fg_tanh_backward_f32(float *dx, const float *dout, const float *out, int64_t n);
void fg_tanh_backward_f64(double *dx, const double *dout, const double *out, int64_t n);
void fg_sigmoid_f32(float *out, const float *x, int64_t n);
void fg_sigmoid_f64(double *out, const double *x, int64_t n);
/* dx += dout * out * (1 - out) */
void fg_sigmoid_backward_f32(float *dx, const float *dout, const float *out, int64_t n);
void fg_sigmoid_backward_f64(double *dx, const double *dout, const double *out, int64_t n);

/* ---- softmax family over the last dimension of a rows x cols buffer (softmax.inc) ----------- */
void fg_softmax_f32(float *out, const float *x, int64_t rows, int64_t cols);
void fg_softmax_f64(double *out, const double *x, int64_t rows, int64_t cols);
/* dx += out * (dout - sum(dout * out)) per row */
void fg_softmax_backward_f32(float *dx, const float *dout, const float *out, int64_t rows, int64_t cols);
void fg_softmax_backward_f64(double *dx, const double *dout, const double *out, int64_t rows, int64_t cols);
void fg_log_softmax_f32(float *out, const float *x, int64_t rows, int64_t cols);
void fg_log_softmax_f64(double *out, const double *x, int64_t rows, int64_t cols);
/* dx += dout - exp(out) * sum(dout) per row */
void fg_log_softmax_backward_f32(float *dx, const float *dout, const float *out, int64_t rows, int64_t cols);
void fg_log_softmax_backward_f64(double *dx, const double *dout, const double *out, int64_t rows, int64_t cols);
/* Fused softmax + cross-entropy over integer targets in [0, cols): writes the probabilities
 * (saved for backward) and returns the summed loss, sum_i -log softmax(x_i)[targets[i]]. */
double fg_cross_entropy_f32(float *probs, const float *logits, const int64_t *targets, int64_t rows, int64_t cols);
double fg_cross_entropy_f64(double *probs, const double *logits, const int64_t *targets, int64_t rows, int64_t cols);
/* dlogits += scale * (probs - onehot(targets)) */
void fg_cross_entropy_backward_f32(float *dlogits, const float *probs, const int64_t *targets, float scale,
                                   int64_t rows, int64_t cols);
void fg_cross_entropy_backward_f64(double *dlogits, const double *probs, const int64_t *targets, double scale,
                                   int64_t rows, int64_t cols);
/* Negative log-likelihood of log-probabilities at integer targets in [0, cols): returns the summed
 * loss, sum_i -logp[i, targets[i]]. Backward: dlogp[i, targets[i]] -= scale. */
double fg_nll_loss_f32(const float *logp, const int64_t *targets, int64_t rows, int64_t cols);
double fg_nll_loss_f64(const double *logp, const int64_t *targets, int64_t rows, int64_t cols);
void fg_nll_loss_backward_f32(float *dlogp, const int64_t *targets, float scale, int64_t rows, int64_t cols);
void fg_nll_loss_backward_f64(double *dlogp, const int64_t *targets, double scale, int64_t rows, int64_t cols);

/* ---- matrix products (matmul.inc) ----------------------------------------------------------- */
/* The GEMM core: C[m,n] (= or +=) op(A)·op(B) with op(A) m x k and op(B) k x n. A transposed
 * operand is stored as its transpose (A as k x m when trans_a), and is read that way: transposes
 * are never materialised. accumulate = 0 overwrites C, so C may hold garbage or NaN. */
void fg_gemm_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, int accumulate);
void fg_gemm_f64(double *c, const double *a, const double *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, int accumulate);
/* Batched GEMM over broadcast batch dimensions: for every index (i_0, ..., i_{ndim-1}) of `shape`,
 * C_i (= or +=) op(A_i)·op(B_i), where matrix X_i starts at x + sum_d i_d * x_strides[d] (element
 * strides; 0 along a broadcast dimension). Matrices are contiguous as fg_gemm's. C's strides may be
 * 0 too: then several products land in one C matrix and are summed into it, in the order of their
 * indices (accumulate = 0 overwrites with the first); C strides that are not 0 must keep distinct
 * matrices apart. Threaded over the batch and inside each product; the same bits for any thread count. */
void fg_gemm_batched_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                         int trans_a, int trans_b, int accumulate, const int64_t *shape, const int64_t *c_strides,
                         const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_gemm_batched_f64(double *c, const double *a, const double *b, int64_t m, int64_t n, int64_t k,
                         int trans_a, int trans_b, int accumulate, const int64_t *shape, const int64_t *c_strides,
                         const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
/* The block sizes fg_gemm uses on `path` for elements of `itemsize` bytes, derived from the cache
 * sizes (gemm.c says how): out[0..4] = MC, KC, NC, MR, NR. */
void fg_gemm_blocks(int64_t *out, int path, int64_t itemsize);
/* Overrides the derived MC, KC and NC for every later call (0 keeps the derived one): for
 * measuring (bench/matmul_sweep.py --blocks). Results depend on KC, as the order of their sums does. */
void fg_gemm_set_blocks(int64_t mc, int64_t kc, int64_t nc);
/* The naive triple loop with the same contract: the test oracle for fg_gemm. */
void fg_gemm_naive_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                       int trans_a, int trans_b, int accumulate);
void fg_gemm_naive_f64(double *c, const double *a, const double *b, int64_t m, int64_t n, int64_t k,
                       int trans_a, int trans_b, int accumulate);
/* out[m,n] = a[m,k]·b[k,n]; backward: da (+)= dout·bᵀ, db (+)= aᵀ·dout (either may be NULL: skipped). */
void fg_matmul_f32(float *out, const float *a, const float *b, int64_t m, int64_t k, int64_t n);
void fg_matmul_f64(double *out, const double *a, const double *b, int64_t m, int64_t k, int64_t n);
void fg_matmul_backward_f32(float *da, float *db, const float *dout, const float *a, const float *b,
                            int64_t m, int64_t k, int64_t n, int accumulate_da, int accumulate_db);
void fg_matmul_backward_f64(double *da, double *db, const double *dout, const double *a, const double *b,
                            int64_t m, int64_t k, int64_t n, int accumulate_da, int accumulate_db);
/* The linear layer, PyTorch's layout: out[m,n] = x[m,k]·wᵀ + bias, w is n x k, bias has n entries
 * or is NULL. Backward: dx (+)= dout·w, dw (+)= doutᵀ·x, dbias += column sums of dout (NULLs skipped). */
void fg_linear_f32(float *out, const float *x, const float *w, const float *bias, int64_t m, int64_t k, int64_t n);
void fg_linear_f64(double *out, const double *x, const double *w, const double *bias, int64_t m, int64_t k, int64_t n);
void fg_linear_backward_f32(float *dx, float *dw, float *dbias, const float *dout, const float *x, const float *w,
                            int64_t m, int64_t k, int64_t n, int accumulate_dx, int accumulate_dw);
void fg_linear_backward_f64(double *dx, double *dw, double *dbias, const double *dout, const double *x,
                            const double *w, int64_t m, int64_t k, int64_t n, int accumulate_dx, int accumulate_dw);

/* ---- optimizer updates (optim.inc): PyTorch's rules, parameter and state updated in place ------ */
/* SGD: momentum_buf may be NULL when momentum == 0; first_step starts the buffer at the gradient. */
void fg_sgd_f32(float *param, float *momentum_buf, const float *grad, double lr, double momentum, double dampening,
                double weight_decay, int nesterov, int first_step, int64_t n);
void fg_sgd_f64(double *param, double *momentum_buf, const double *grad, double lr, double momentum,
                double dampening, double weight_decay, int nesterov, int first_step, int64_t n);
/* Adam (decoupled = 0, L2 weight decay) or AdamW (decoupled = 1); step counts from 1;
 * max_exp_avg_sq is NULL unless amsgrad. */
void fg_adam_f32(float *param, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, const float *grad, double lr,
                 double beta1, double beta2, double eps, double weight_decay, int decoupled, int64_t step, int64_t n);
void fg_adam_f64(double *param, double *exp_avg, double *exp_avg_sq, double *max_exp_avg_sq, const double *grad,
                 double lr, double beta1, double beta2, double eps, double weight_decay, int decoupled, int64_t step,
                 int64_t n);
/* Linear then ReLU, fused: out = relu(x·wᵀ + bias), identical to fg_linear then fg_relu. Backward
 * from the saved output: dpre (m x n, overwritten, the caller's scratch) = dout where out > 0, else 0;
 * then dx (+)= dpre·w, dw (+)= dpreᵀ·x, dbias += column sums of dpre (NULLs skipped). */
void fg_linear_relu_f32(float *out, const float *x, const float *w, const float *bias, int64_t m, int64_t k,
                        int64_t n);
void fg_linear_relu_f64(double *out, const double *x, const double *w, const double *bias, int64_t m, int64_t k,
                        int64_t n);
void fg_linear_relu_backward_f32(float *dx, float *dw, float *dbias, float *dpre, const float *dout, const float *out,
                                 const float *x, const float *w, int64_t m, int64_t k, int64_t n, int accumulate_dx,
                                 int accumulate_dw);
void fg_linear_relu_backward_f64(double *dx, double *dw, double *dbias, double *dpre, const double *dout,
                                 const double *out, const double *x, const double *w, int64_t m, int64_t k, int64_t n,
                                 int accumulate_dx, int accumulate_dw);

/* ---- random numbers (random.inc): Philox4x32-10, counter-based -------------------------------
 * `state` is a generator's {seed, offset} in memory the caller owns; each call reads it and advances
 * the offset by what it drew, so replays draw new numbers. Results do not depend on thread count. */
enum fg_random_dist { FG_UNIFORM, FG_NORMAL, FG_KEEP_MASK };
/* uniform on [a, b), normal (mean a, std b), or keep-mask (b where u >= a, else 0) */
void fg_random_f32(float *out, int64_t *state, int dist, double a, double b, int64_t n);
void fg_random_f64(double *out, int64_t *state, int dist, double a, double b, int64_t n);
void fg_randint_i64(int64_t *out, int64_t *state, int64_t low, int64_t high, int64_t n);
void fg_randperm_i64(int64_t *out, int64_t *state, int64_t n);
/* samples indices per row of non-negative weights (rows x cats), each row with a positive sum */
void fg_multinomial_f32(int64_t *out, const float *probs, int64_t *state, int64_t rows, int64_t cats,
                        int64_t samples, int replacement);
void fg_multinomial_f64(int64_t *out, const double *probs, int64_t *state, int64_t rows, int64_t cats,
                        int64_t samples, int replacement);
/* out[i] = start + i * step for i < n (arange, linspace), any type; for linspace (symmetric = 1) the
 * second half counts back from `end` as PyTorch does, so the last element is exactly end. */
void fg_range(void *out, int type, double start, double step, double end, int symmetric, int64_t n);
/* the n x m identity matrix, any type */
void fg_eye(void *out, int type, int64_t n, int64_t m);
/* ---- math (math.inc): unary functions, clamp, comparisons, where, reductions ------------------ */
/* Unary math, one op code per function. f32/f64 serve all of them; i64 serves NEG, ABS, SIGN, SQUARE
 * and, as copies, FLOOR, CEIL, ROUND (half to even), TRUNC. out may alias x. */
enum fg_unary_op { FG_NEG, FG_ABS, FG_SIGN, FG_SQUARE, FG_EXP, FG_EXP2, FG_EXPM1, FG_LOG, FG_LOG2, FG_LOG10, FG_LOG1P,
                   FG_SQRT, FG_RSQRT, FG_RECIPROCAL, FG_SIN, FG_COS, FG_FLOOR, FG_CEIL, FG_ROUND, FG_TRUNC };
void fg_unary_f32(float *out, const float *x, int op, int64_t n);
void fg_unary_f64(double *out, const double *x, int op, int64_t n);
void fg_unary_i64(int64_t *out, const int64_t *x, int op, int64_t n);
/* dx += dout * f'(x), reading the forward's input x and output out (sign and rounding add nothing). */
void fg_unary_backward_f32(float *dx, const float *dout, const float *x, const float *out, int op, int64_t n);
void fg_unary_backward_f64(double *dx, const double *dout, const double *x, const double *out, int op, int64_t n);
/* out = min(max(x, lo), hi), NaN kept; lo or hi may be NULL (no bound); the bounds advance by
 * bound_step (0: one value for all, 1: one per element). Backward, PyTorch's rule: dout goes to
 * whichever of x, lo, hi the output is (hi where lo > hi), to none at a NaN x (NULLs skipped). */
void fg_clamp_f32(float *out, const float *x, const float *lo, const float *hi, int64_t bound_step, int64_t n);
void fg_clamp_f64(double *out, const double *x, const double *lo, const double *hi, int64_t bound_step, int64_t n);
void fg_clamp_i64(int64_t *out, const int64_t *x, const int64_t *lo, const int64_t *hi, int64_t bound_step, int64_t n);
void fg_clamp_backward_f32(float *dx, float *dlo, float *dhi, const float *dout, const float *x, const float *lo,
                           const float *hi, int64_t bound_step, int64_t n);
void fg_clamp_backward_f64(double *dx, double *dlo, double *dhi, const double *dout, const double *x, const double *lo,
                           const double *hi, int64_t bound_step, int64_t n);
/* out (bool, contiguous with `shape`) = a op b, a and b read through element strides (0 along
 * broadcast dimensions). AND, OR, XOR compare each side with 0 (logical_and, ...). */
enum fg_compare_op { FG_EQ, FG_NE, FG_LT, FG_LE, FG_GT, FG_GE, FG_AND, FG_OR, FG_XOR };
void fg_compare_f32(uint8_t *out, const float *a, const float *b, int op, const int64_t *shape,
                    const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_compare_f64(uint8_t *out, const double *a, const double *b, int op, const int64_t *shape,
                    const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_compare_i64(uint8_t *out, const int64_t *a, const int64_t *b, int op, const int64_t *shape,
                    const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_compare_b8(uint8_t *out, const uint8_t *a, const uint8_t *b, int op, const int64_t *shape,
                   const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
/* out = cond ? a : b, all three read through element strides. Its backward is itself with a zero:
 * da = where(cond, dout, 0), db = where(cond, 0, dout). */
void fg_where_f32(float *out, const uint8_t *cond, const float *a, const float *b, const int64_t *shape,
                  const int64_t *cond_strides, const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_where_f64(double *out, const uint8_t *cond, const double *a, const double *b, const int64_t *shape,
                  const int64_t *cond_strides, const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_where_i64(int64_t *out, const uint8_t *cond, const int64_t *a, const int64_t *b, const int64_t *shape,
                  const int64_t *cond_strides, const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
void fg_where_b8(uint8_t *out, const uint8_t *cond, const uint8_t *a, const uint8_t *b, const int64_t *shape,
                 const int64_t *cond_strides, const int64_t *a_strides, const int64_t *b_strides, int64_t ndim);
/* Reductions of x seen as (outer, n, inner) over its middle axis into out (outer, inner); CUMSUM
 * writes out (outer, n, inner). MAX/MIN also write the first index of the extreme into indices
 * (or not, when NULL); their backward sends dout to that index, AMAX/AMIN's split it between ties.
 * NaN wins max and min. p: VAR/STD's correction (1 = unbiased), NORM's order (1, 2, INFINITY or
 * any p > 0). Sums accumulate in double (int64 for i64, which serves SUM, PROD, MAX, MIN, AMAX,
 * AMIN, CUMSUM). n = 0 gives the empty sum 0, prod 1, logsumexp -inf, NaN mean/var; MAX/MIN of
 * nothing must not be asked. Backward: dx += the gradient, from x, out and indices. */
enum fg_reduce_op { FG_RED_SUM, FG_RED_MEAN, FG_RED_PROD, FG_RED_MAX, FG_RED_MIN, FG_RED_AMAX, FG_RED_AMIN,
                    FG_RED_LOGSUMEXP, FG_RED_VAR, FG_RED_STD, FG_RED_NORM, FG_RED_CUMSUM };
void fg_reduce_f32(float *out, int64_t *indices, const float *x, int op, double p, int64_t outer, int64_t n,
                   int64_t inner);
void fg_reduce_f64(double *out, int64_t *indices, const double *x, int op, double p, int64_t outer, int64_t n,
                   int64_t inner);
void fg_reduce_i64(int64_t *out, int64_t *indices, const int64_t *x, int op, double p, int64_t outer, int64_t n,
                   int64_t inner);
void fg_reduce_backward_f32(float *dx, const float *dout, const float *x, const float *out, const int64_t *indices,
                            int op, double p, int64_t outer, int64_t n, int64_t inner);
void fg_reduce_backward_f64(double *dx, const double *dout, const double *x, const double *out,
                            const int64_t *indices, int op, double p, int64_t outer, int64_t n, int64_t inner);

/* ---- indexing (index.c: any element type, moving elem_size bytes; index.inc: float gradients) ---
 * Offsets count elements; Python computes and bounds-checks them. Basic indexing (ints, slices) is
 * fg_strided_copy / fg_strided_add above. */
/* Rows of `row` contiguous elements at offsets: gather out[i*row + j] = src[offsets[i] + j];
 * scatter dst[offsets[i] + j] = src[i*row + j] in order of i (of duplicates the last one wins). */
void fg_gather(void *out, const void *src, int64_t elem_size, const int64_t *offsets, int64_t n, int64_t row);
void fg_scatter(void *dst, const void *src, int64_t elem_size, const int64_t *offsets, int64_t n, int64_t row);
/* The backward of fg_gather: dst[offsets[i] + j] += alpha * src[i*row + j]; negative offsets are
 * skipped. Duplicates accumulate in order of i: the same bits for any thread count. */
void fg_scatter_add_f32(float *dst, const float *src, const int64_t *offsets, float alpha, int64_t n, int64_t row);
void fg_scatter_add_f64(double *dst, const double *src, const int64_t *offsets, double alpha, int64_t n,
                        int64_t row);
/* The number of nonzero elements, and their row-major coordinates (out is count x ndim). */
int64_t fg_count_nonzero(const void *src, int type, int64_t n);
void fg_nonzero(int64_t *out, const void *src, int type, const int64_t *shape, int64_t ndim, int64_t n);
/* out[i, index[i]] = 1, zeros elsewhere; out is n x classes. */
void fg_one_hot(int64_t *out, const int64_t *index, int64_t n, int64_t classes);
/* SparseAdam (PyTorch's rule) on n distinct rows of `row` elements of param and its state; grad holds
 * the n rows' gradients. Rows not named are not touched. */
void fg_sparse_adam_f32(float *param, float *exp_avg, float *exp_avg_sq, const float *grad, const int64_t *rows,
                        double lr, double beta1, double beta2, double eps, int64_t step, int64_t n, int64_t row);
void fg_sparse_adam_f64(double *param, double *exp_avg, double *exp_avg_sq, const double *grad, const int64_t *rows,
                        double lr, double beta1, double beta2, double eps, int64_t step, int64_t n, int64_t row);

/* ---- sorting (sort.inc): along the last dimension of a rows x n buffer --------------------------
 * The first k of each row in order (ascending, or descending), stable, NaN largest: values and their
 * indices, rows x k. Backward: dx[r, indices[r, j]] += dvalues[r, j]. */
void fg_sort_f32(float *values, int64_t *indices, const float *x, int64_t rows, int64_t n, int64_t k, int descending);
void fg_sort_f64(double *values, int64_t *indices, const double *x, int64_t rows, int64_t n, int64_t k,
                 int descending);
void fg_sort_i64(int64_t *values, int64_t *indices, const int64_t *x, int64_t rows, int64_t n, int64_t k,
                 int descending);
void fg_sort_backward_f32(float *dx, const float *dvalues, const int64_t *indices, int64_t rows, int64_t n, int64_t k);
void fg_sort_backward_f64(double *dx, const double *dvalues, const int64_t *indices, int64_t rows, int64_t n,
                          int64_t k);

/* ---- CPU dispatch and threads (cpu.c) ------------------------------------------------------ */
/* The vector code paths. The best one this CPU supports is chosen on first use; fastgrad/backend.py
 * applies FASTGRAD_KERNEL_PATH, FASTGRAD_NUM_THREADS and OMP_NUM_THREADS at import. */
enum fg_path { FG_PATH_PORTABLE, FG_PATH_AVX2, FG_PATH_AVX512 };
/* 1 if this CPU (and this build) can run `path`. */
int fg_cpu_supports(int path);
/* The path kernels take now. */
int fg_kernel_path(void);
/* Forces `path` for every later call: 0, or -1 (nothing changed) when the CPU cannot run it. */
int fg_set_kernel_path(int path);
/* 1 if built with OpenMP; without it every kernel runs on the calling thread. */
int fg_openmp_enabled(void);
/* The most threads a kernel may use (results do not depend on it); small calls use one. Clamped to
 * [1, FG_MAX_THREADS]. */
enum { FG_MAX_THREADS = 256 };
void fg_set_num_threads(int64_t n);
int64_t fg_get_num_threads(void);
/* The caches the GEMM's block sizes are derived from, in bytes: out[0..3] = L1 data size, L1
 * associativity, L2 size, this core's share of L3. */
void fg_cpu_caches(int64_t *out);

/* ---- captured steps (plan.c): replaying a recorded list of kernel calls ----------------------
 * A plan is an array of steps, each one kernel call with its arguments packed as fg_plan_arg
 * (pointer, int64 or double, as the kernel's parameter is). csrc/build_plan.py generates the
 * dispatch table from this header, so every fg_* function above is replayable without glue. */
typedef union { void *p; int64_t i; double d; } fg_plan_arg;
/* kernel: fg_plan_kernel_id(name), or FG_PLAN_CHECK_RANGE: args {int64 buffer, n, lo, hi} must
 * hold values in [lo, hi) (an index input's bounds, checked before the kernels that trust it).
 * ret_slot >= 0 keeps the kernel's returned value in slots[ret_slot]; from_slot >= 0 first sets
 * args[arg_index].d = slots[from_slot] * mul / div (a loss's mean from a kernel's returned sum; the
 * capture allows one of the two, so the rounding is eager Python's). */
enum { FG_PLAN_CHECK_RANGE = -1 };
typedef struct {
    int64_t kernel;
    fg_plan_arg *args;
    int64_t ret_slot;
    int64_t from_slot;
    int64_t arg_index;
    double mul, div;
} fg_plan_step;
/* The id of kernel `name` (e.g. "fg_relu_f32") in the dispatch table, or -1. */
int64_t fg_plan_kernel_id(const char *name);
/* Runs the steps in order; returns -1, or the index of the range check that failed (nothing after
 * it ran). Allocates nothing; the kernels keep their threads. */
int64_t fg_plan_run(const fg_plan_step *steps, int64_t n, double *slots);

#endif /* FASTGRAD_H */

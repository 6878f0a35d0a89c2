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
#include <stddef.h>
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
enum fg_binary_op { FG_ADD, FG_SUB, FG_MUL, FG_DIV, FG_POW, FG_MAXIMUM, FG_MINIMUM,
                   /* PyTorch's atan2(a, b), hypot, fmod (C's sign: the dividend's), remainder (the divisor's
                    * sign) and floor_divide (rounds toward -inf); atan2 and hypot are float only, the
                    * others also int64 (a zero divisor gives 0 there: Python refuses it first). Backward:
                    * every one but FLOOR_DIVIDE, which PyTorch does not differentiate either. */
                   FG_ATAN2, FG_HYPOT, FG_FMOD, FG_REMAINDER, FG_FLOOR_DIVIDE,
                   /* PyTorch's copysign, logaddexp2 and nextafter (float only), heaviside, fmax and fmin (NaN
                    * loses to a number; float and int64), and the integer-only bitwise and, or, xor, shifts (a
                    * count outside [0, 64) gives 0, or the sign for >>) and gcd, lcm (int64 only). Backward:
                    * copysign, logaddexp2, nextafter, fmax, fmin; the others have no gradient. */
                   FG_COPYSIGN, FG_LOGADDEXP2, FG_NEXTAFTER, FG_HEAVISIDE, FG_FMAX, FG_FMIN,
                   FG_BITWISE_AND, FG_BITWISE_OR, FG_BITWISE_XOR, FG_LEFT_SHIFT, FG_RIGHT_SHIFT, FG_GCD, FG_LCM };

/* out[i] = a[i] op b[i] for n elements; out may alias a or b. */
void fg_binary_f32(float *out, const float *a, const float *b, int op, int64_t n);
void fg_binary_f64(double *out, const double *a, const double *b, int op, int64_t n);
void fg_binary_i64(int64_t *out, const int64_t *a, const int64_t *b, int op, int64_t n);   /* no FG_DIV, no float-only codes */
/* Its backward for operands of one shape: da (+)= dout * d(a op b)/da, db likewise, in one pass
 * (either may be NULL: skipped). Each is added to when its accumulate flag is set, else written, as
 * every backward kernel with an accumulate flag does: a first gradient needs no zeroed buffer. da and
 * db may be one buffer, for x op x: da is done first, so accumulate_db must then be 1. */
void fg_binary_backward_f32(float *da, float *db, const float *dout, const float *a, const float *b, int op,
                            int64_t n, int accumulate_da, int accumulate_db);
void fg_binary_backward_f64(double *da, double *db, const double *dout, const double *a, const double *b, int op,
                            int64_t n, int accumulate_da, int accumulate_db);
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
/* *out = the sum of n elements, accumulated in double, times scale (1/n for a mean). */
void fg_sum_f32(float *out, const float *a, int64_t n, double scale);
void fg_sum_f64(double *out, const double *a, int64_t n, double scale);

/* ---- activations (activation.inc): forward, then backward from what forward saved ----------- */
void fg_relu_f32(float *out, const float *x, int64_t n);
void fg_relu_f64(double *out, const double *x, int64_t n);
/* dx (+)= dout where x > 0 (the gradient at exactly 0 is 0, as in PyTorch). */
void fg_relu_backward_f32(float *dx, const float *dout, const float *x, int64_t n, int accumulate);
void fg_relu_backward_f64(double *dx, const double *dout, const double *x, int64_t n, int accumulate);
/* The backward of a Linear layer's bias + ReLU, from the ReLU's saved output over rows x cols:
 * g = dout where out > 0, else 0; dx += g, dbias += column sums of g (either may be NULL: skipped).
 * (Its forward is fg_linear_relu, which adds the bias before the product, as fg_linear does.) */
void fg_bias_relu_backward_f32(float *dx, float *dbias, const float *dout, const float *out, int64_t rows,
                               int64_t cols);
void fg_bias_relu_backward_f64(double *dx, double *dbias, const double *dout, const double *out, int64_t rows,
                               int64_t cols);
void fg_tanh_f32(float *out, const float *x, int64_t n);
void fg_tanh_f64(double *out, const double *x, int64_t n);
/* dx (+)= dout * (1 - out^2) */
void fg_tanh_backward_f32(float *dx, const float *dout, const float *out, int64_t n, int accumulate);
void fg_tanh_backward_f64(double *dx, const double *dout, const double *out, int64_t n, int accumulate);
void fg_sigmoid_f32(float *out, const float *x, int64_t n);
void fg_sigmoid_f64(double *out, const double *x, int64_t n);
/* dx (+)= dout * out * (1 - out) */
void fg_sigmoid_backward_f32(float *dx, const float *dout, const float *out, int64_t n, int accumulate);
void fg_sigmoid_backward_f64(double *dx, const double *dout, const double *out, int64_t n, int accumulate);

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
/* The class-target losses (cross-entropy, NLL) over integer targets in [0, cols) or equal to
 * ignore_index (those rows contribute nothing). weight is NULL or one weight per class. reduction
 * (enum fg_reduction) picks what `loss` receives: one loss per row (FG_REDUCE_NONE, rows entries),
 * their sum, or their sum over the summed target weights of the rows not ignored (the mean; NaN when
 * that is 0). The backward kernels read the upstream gradient dloss (rows entries for
 * FG_REDUCE_NONE, else one) and do the mean's division themselves. */
enum fg_reduction { FG_REDUCE_NONE, FG_REDUCE_MEAN, FG_REDUCE_SUM };
/* Fused softmax + cross-entropy: writes the probabilities (saved for backward) and the loss. Row i's
 * loss is -sum_c q_c·log softmax(x_i)_c with q_c = (1-ε)·w_t·[c = t] + ε/cols·w_c, ε the label
 * smoothing. Backward: dlogits[i] += scale_i · (probs[i]·sum_c q_c - q). */
void fg_cross_entropy_f32(float *loss, float *probs, const float *logits, const int64_t *targets, const float *weight,
                          int64_t ignore_index, double label_smoothing, int reduction, int64_t rows, int64_t cols);
void fg_cross_entropy_f64(double *loss, double *probs, const double *logits, const int64_t *targets,
                          const double *weight, int64_t ignore_index, double label_smoothing, int reduction,
                          int64_t rows, int64_t cols);
void fg_cross_entropy_backward_f32(float *dlogits, const float *dloss, const float *probs, const int64_t *targets,
                                   const float *weight, int64_t ignore_index, double label_smoothing, int reduction,
                                   int64_t rows, int64_t cols);
void fg_cross_entropy_backward_f64(double *dlogits, const double *dloss, const double *probs, const int64_t *targets,
                                   const double *weight, int64_t ignore_index, double label_smoothing, int reduction,
                                   int64_t rows, int64_t cols);
/* Negative log-likelihood of log-probabilities: row i's loss is -w_t·logp[i, t].
 * Backward: dlogp[i, t] -= scale_i·w_t. */
void fg_nll_loss_f32(float *loss, const float *logp, const int64_t *targets, const float *weight, int64_t ignore_index,
                     int reduction, int64_t rows, int64_t cols);
void fg_nll_loss_f64(double *loss, const double *logp, const int64_t *targets, const double *weight,
                     int64_t ignore_index, int reduction, int64_t rows, int64_t cols);
void fg_nll_loss_backward_f32(float *dlogp, const float *dloss, const int64_t *targets, const float *weight,
                              int64_t ignore_index, int reduction, int64_t rows, int64_t cols);
void fg_nll_loss_backward_f64(double *dlogp, const double *dloss, const int64_t *targets, const double *weight,
                              int64_t ignore_index, int reduction, int64_t rows, int64_t cols);

/* ---- matrix products (matmul.inc) ----------------------------------------------------------- */
/* The GEMM core: C[m,n] (= or +=) op(A)·op(B) with op(A) m x k and op(B) k x n. A transposed
 * operand is stored as its transpose (A as k x m when trans_a), and is read that way: transposes
 * are never materialised. accumulate = 0 overwrites C, so C may hold garbage or NaN. */
void fg_gemm_f32(float *c, const float *a, const float *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, int accumulate);
void fg_gemm_f64(double *c, const double *a, const double *b, int64_t m, int64_t n, int64_t k,
                 int trans_a, int trans_b, int accumulate);
/* C[m,n] = op(A)·op(B) + bias (n entries, added to every row as C is stored): fg_linear's product. */
void fg_gemm_bias_f32(float *c, const float *a, const float *b, const float *bias, int64_t m, int64_t n, int64_t k,
                      int trans_a, int trans_b);
void fg_gemm_bias_f64(double *c, const double *a, const double *b, const double *bias, int64_t m, int64_t n,
                      int64_t k, int trans_a, int trans_b);
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
/* SGD and Adam read the learning rate from *lr and count steps in *step (incremented by the call,
 * before use: Adam's first call sees step 1): state a captured step replays without Python.
 * SGD: momentum_buf may be NULL when momentum == 0; first_step starts the buffer at the gradient. */
void fg_sgd_f32(float *param, float *momentum_buf, const float *grad, const double *lr, double momentum,
                double dampening, double weight_decay, int nesterov, int first_step, double *step, int64_t n);
void fg_sgd_f64(double *param, double *momentum_buf, const double *grad, const double *lr, double momentum,
                double dampening, double weight_decay, int nesterov, int first_step, double *step, int64_t n);
/* Adam (decoupled = 0, L2 weight decay) or AdamW (decoupled = 1); max_exp_avg_sq is NULL unless
 * amsgrad. */
void fg_adam_f32(float *param, float *exp_avg, float *exp_avg_sq, float *max_exp_avg_sq, const float *grad,
                 const double *lr, double beta1, double beta2, double eps, double weight_decay, int decoupled,
                 double *step, int64_t n);
void fg_adam_f64(double *param, double *exp_avg, double *exp_avg_sq, double *max_exp_avg_sq, const double *grad,
                 const double *lr, double beta1, double beta2, double eps, double weight_decay, int decoupled,
                 double *step, int64_t n);
/* Adagrad: sum (initial_accumulator_value at first) += g², step counts from 1. */
void fg_adagrad_f32(float *param, float *sum, const float *grad, double lr, double lr_decay, double weight_decay,
                    double eps, int64_t step, int64_t n);
void fg_adagrad_f64(double *param, double *sum, const double *grad, double lr, double lr_decay, double weight_decay,
                    double eps, int64_t step, int64_t n);
/* RMSprop: grad_avg NULL unless centered, momentum_buf NULL unless momentum > 0. */
void fg_rmsprop_f32(float *param, float *square_avg, float *grad_avg, float *momentum_buf, const float *grad, double lr,
                    double alpha, double eps, double weight_decay, double momentum, int64_t n);
void fg_rmsprop_f64(double *param, double *square_avg, double *grad_avg, double *momentum_buf, const double *grad,
                    double lr, double alpha, double eps, double weight_decay, double momentum, int64_t n);
/* Adadelta: square_avg and acc_delta start at 0. */
void fg_adadelta_f32(float *param, float *square_avg, float *acc_delta, const float *grad, double lr, double rho,
                     double eps, double weight_decay, int64_t n);
void fg_adadelta_f64(double *param, double *square_avg, double *acc_delta, const double *grad, double lr, double rho,
                     double eps, double weight_decay, int64_t n);
/* Adamax, NAdam and RAdam (op), ASGD and Rprop: as SGD and Adam, *lr read and *step counted in
 * memory; maximize negates the gradient. adaptive: exp_second is Adamax's exp_inf, NAdam's and
 * RAdam's exp_avg_sq; mu_product (NAdam's running product of momentum factors; may be NULL for the
 * others) is updated in place; decoupled (NAdam, RAdam) decays the parameter instead of the gradient. */
enum fg_adaptive_op { FG_ADAMAX, FG_NADAM, FG_RADAM };
void fg_adaptive_f32(float *param, float *exp_avg, float *exp_second, double *step, double *mu_product,
                     const float *grad, int op, const double *lr, double beta1, double beta2, double eps,
                     double weight_decay, double momentum_decay, int decoupled, int maximize, int64_t n);
void fg_adaptive_f64(double *param, double *exp_avg, double *exp_second, double *step, double *mu_product,
                     const double *grad, int op, const double *lr, double beta1, double beta2, double eps,
                     double weight_decay, double momentum_decay, int decoupled, int maximize, int64_t n);
/* ASGD: ax is the running average of the parameter; *eta and *mu (the step size and averaging
 * weight this call uses) are replaced by the next step's. */
void fg_asgd_f32(float *param, float *ax, double *eta, double *mu, double *step, const float *grad, const double *lr,
                 double lambd, double alpha, double t0, double weight_decay, int maximize, int64_t n);
void fg_asgd_f64(double *param, double *ax, double *eta, double *mu, double *step, const double *grad,
                 const double *lr, double lambd, double alpha, double t0, double weight_decay, int maximize, int64_t n);
/* Rprop: prev starts at 0, step_size at lr (filled by the caller); lr is not read again. */
void fg_rprop_f32(float *param, float *prev, float *step_size, double *step, const float *grad, double etaminus,
                  double etaplus, double step_size_min, double step_size_max, int maximize, int64_t n);
void fg_rprop_f64(double *param, double *prev, double *step_size, double *step, const double *grad, double etaminus,
                  double etaplus, double step_size_min, double step_size_max, int maximize, int64_t n);
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

/* x @ W + bias written out (W k x n, bias n entries), then optionally a ReLU: the backward of the
 * graph an Add (and ReLU) records on a matmul's output. out NULL: no ReLU; otherwise the ReLU's saved
 * output, and dpre (m x n, overwritten, the caller's scratch) = dout where out > 0, else 0. Then
 * da (+)= g·bᵀ, db (+)= aᵀ·g, dbias += column sums of g, for g = dpre or dout (NULLs skipped). */
void fg_matmul_bias_backward_f32(float *da, float *db, float *dbias, float *dpre, const float *dout, const float *out,
                                 const float *a, const float *b, int64_t m, int64_t k, int64_t n, int accumulate_da,
                                 int accumulate_db);
void fg_matmul_bias_backward_f64(double *da, double *db, double *dbias, double *dpre, const double *dout,
                                 const double *out, const double *a, const double *b, int64_t m, int64_t k, int64_t n,
                                 int accumulate_da, int accumulate_db);

/* ---- language-model layers (norm_act.inc) --------------------------------------------------- */
/* LayerNorm over the last `cols` elements of each row: out = (x - mean)·rstd·weight + bias, weight
 * and bias NULL or cols long (bias only with weight); mean and rstd (rows entries) are written for
 * backward. Backward: dx (+)= its gradient (accumulate_dx 0 overwrites), dweight, dbias += theirs
 * (any may be NULL: skipped). */
void fg_layer_norm_f32(float *out, float *mean, float *rstd, const float *x, const float *weight, const float *bias,
                       double eps, int64_t rows, int64_t cols);
void fg_layer_norm_f64(double *out, double *mean, double *rstd, const double *x, const double *weight,
                       const double *bias, double eps, int64_t rows, int64_t cols);
void fg_layer_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                                const float *mean, const float *rstd, const float *weight, int accumulate_dx,
                                int64_t rows, int64_t cols);
void fg_layer_norm_backward_f64(double *dx, double *dweight, double *dbias, const double *dout, const double *x,
                                const double *mean, const double *rstd, const double *weight, int accumulate_dx,
                                int64_t rows, int64_t cols);
/* Smooth pointwise activations, chosen by op: out[i] = act(x[i]), and slope[i] = act'(x[i]) when
 * slope is not NULL (forward computes both at once; backward then only multiplies). a and b are the
 * op's parameters: softplus's beta and threshold (unused by the others).
 * Backward: dx (+)= dout·slope (accumulate 0 overwrites dx). */
enum fg_act_op { FG_ACT_GELU, FG_ACT_GELU_TANH, FG_ACT_SILU, FG_ACT_LOGSIGMOID, FG_ACT_SOFTPLUS,
                 /* PyTorch's other pointwise activations; a, b: hardtanh's min_val, max_val; celu's alpha;
                  * threshold's threshold, value; softshrink's and hardshrink's lambd. At the kinks the
                  * slope is PyTorch's (hardtanh's 0 at both bounds, hardswish's 0 at -3 and 1 at 3). */
                 FG_ACT_HARDTANH, FG_ACT_HARDSIGMOID, FG_ACT_HARDSWISH, FG_ACT_MISH, FG_ACT_SELU, FG_ACT_CELU,
                 FG_ACT_SOFTSIGN, FG_ACT_THRESHOLD, FG_ACT_TANHSHRINK, FG_ACT_SOFTSHRINK, FG_ACT_HARDSHRINK };
void fg_act_f32(float *out, float *slope, const float *x, int op, double a, double b, int64_t n);
void fg_act_f64(double *out, double *slope, const double *x, int op, double a, double b, int64_t n);
void fg_act_backward_f32(float *dx, const float *dout, const float *slope, int accumulate, int64_t n);
void fg_act_backward_f64(double *dx, const double *dout, const double *slope, int accumulate, int64_t n);
/* F.normalize: out = x / max(||x||_p, eps) along the middle axis of x seen as (outer, n, inner); the
 * norms (outer x inner) are written for backward. p > 0 and finite. */
void fg_normalize_f32(float *out, float *norm, const float *x, double p, double eps, int64_t outer, int64_t n,
                      int64_t inner);
void fg_normalize_f64(double *out, double *norm, const double *x, double p, double eps, int64_t outer, int64_t n,
                      int64_t inner);
void fg_normalize_backward_f32(float *dx, const float *dout, const float *x, const float *norm, double p, double eps,
                               int64_t outer, int64_t n, int64_t inner);
void fg_normalize_backward_f64(double *dx, const double *dout, const double *x, const double *norm, double p,
                               double eps, int64_t outer, int64_t n, int64_t inner);
/* Attention per batch b: probs = softmax(scale·q·kᵀ + mask) (tq x tk, causal: column j > row i
 * dropped), out = (probs·keep)·v, with q (batch, tq, d), k (batch, tk, d), v (batch, tk, dv). The
 * mask is additive (add_mask) or boolean (bool_mask, 0 drops), or neither (NULL): batch b's starts at
 * mask_offsets[b] and is read at row·mask_row_stride + col·mask_col_stride. keep is NULL or
 * dropout's scaled mask (batch, tq, tk). A row that keeps no column is NaN. Backward: dq, dk, dv +=
 * their gradients (NULLs skipped). Both return 0, or -1 if they could not get a few rows of scratch
 * memory (nothing is then complete). */
int fg_attention_f32(float *out, float *probs, const float *q, const float *k, const float *v, const float *add_mask,
                      const uint8_t *bool_mask, const int64_t *mask_offsets, int64_t mask_row_stride,
                      int64_t mask_col_stride, const float *keep, double scale, int causal, int64_t batch, int64_t tq,
                      int64_t tk, int64_t d, int64_t dv);
int fg_attention_f64(double *out, double *probs, const double *q, const double *k, const double *v,
                      const double *add_mask, const uint8_t *bool_mask, const int64_t *mask_offsets,
                      int64_t mask_row_stride, int64_t mask_col_stride, const double *keep, double scale, int causal,
                      int64_t batch, int64_t tq, int64_t tk, int64_t d, int64_t dv);
int fg_attention_backward_f32(float *dq, float *dk, float *dv, const float *dout, const float *probs, const float *q,
                              const float *k, const float *v, const float *keep, double scale, int causal,
                              int64_t batch, int64_t tq, int64_t tk, int64_t d, int64_t dvd);
int fg_attention_backward_f64(double *dq, double *dk, double *dv, const double *dout, const double *probs,
                              const double *q, const double *k, const double *v, const double *keep, double scale,
                              int causal, int64_t batch, int64_t tq, int64_t tk, int64_t d, int64_t dvd);
/* Gradient clipping across tensors: pnorm_acc folds x into acc[0] (sum of |x|^p, or the max for
 * p = inf), pnorm_finish writes the norm acc holds, clip_by_norm scales x by
 * min(max_norm / (norm + 1e-6), 1); clip_value clamps x into [-clip, clip]. */
void fg_pnorm_acc_f32(double *acc, const float *x, double p, int64_t n);
void fg_pnorm_acc_f64(double *acc, const double *x, double p, int64_t n);
void fg_pnorm_finish_f32(float *out, const double *acc, double p);
void fg_pnorm_finish_f64(double *out, const double *acc, double p);
void fg_clip_by_norm_f32(float *x, const double *acc, double max_norm, double p, int64_t n);
void fg_clip_by_norm_f64(double *x, const double *acc, double max_norm, double p, int64_t n);
void fg_clip_value_f32(float *x, double clip, int64_t n);
void fg_clip_value_f64(double *x, double clip, int64_t n);
/* ---- random numbers (random.inc): Philox4x32-10, counter-based -------------------------------
 * `state` is a generator's {seed, offset} in memory the caller owns; each call reads it and advances
 * the offset by what it drew, so replays draw new numbers. Results do not depend on thread count. */
enum fg_random_dist { FG_UNIFORM, FG_NORMAL, FG_KEEP_MASK, FG_EXPONENTIAL, FG_GEOMETRIC, FG_LOG_NORMAL, FG_CAUCHY,
                      FG_POISSON, FG_BINOMIAL };
/* uniform on [a, b), normal (mean a, std b), or keep-mask (b where u >= a, else 0); exponential
 * (rate a), geometric (success probability a: trials to the first success, >= 1), log-normal
 * (exp of normal(a, b)), Cauchy (median a, scale b) */
void fg_random_f32(float *out, int64_t *state, int dist, double a, double b, int64_t n);
void fg_random_f64(double *out, int64_t *state, int dist, double a, double b, int64_t n);
/* draws with a parameter per element: FG_POISSON (rate a[i] >= 0) or FG_BINOMIAL (count a[i] >= 0,
 * probability b[i] in [0, 1]); element i takes Philox block offset + i, its k-th attempt counter
 * word k, so a rejection loop of any length gives the same bits on any thread count */
void fg_random_param_f32(float *out, int64_t *state, int dist, const float *a, const float *b, int64_t n);
void fg_random_param_f64(double *out, int64_t *state, int dist, const double *a, const double *b, int64_t n);
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
                   FG_SQRT, FG_RSQRT, FG_RECIPROCAL, FG_SIN, FG_COS, FG_FLOOR, FG_CEIL, FG_ROUND, FG_TRUNC,
                   FG_ERF, FG_ERFC, FG_ERFINV,
                   /* trigonometric and hyperbolic functions and their inverses, log|Γ|, ψ (digamma: -inf at
                    * +0, NaN at negative integers), sin(πx)/(πx), and the modified Bessel functions I0, I1
                    * with their scaled forms e^-|x|·I0(x), e^-|x|·I1(x) (PyTorch's i0, special.i0e, i1, i1e) */
                   FG_TAN, FG_ASIN, FG_ACOS, FG_ATAN, FG_SINH, FG_COSH, FG_ASINH, FG_ACOSH, FG_ATANH,
                   FG_LGAMMA, FG_DIGAMMA, FG_SINC, FG_I0, FG_I0E, FG_I1, FG_I1E };
void fg_unary_f32(float *out, const float *x, int op, int64_t n);
void fg_unary_f64(double *out, const double *x, int op, int64_t n);
void fg_unary_i64(int64_t *out, const int64_t *x, int op, int64_t n);
/* dx (+)= dout * f'(x), reading the forward's input x and output out (sign and rounding: 0). */
void fg_unary_backward_f32(float *dx, const float *dout, const float *x, const float *out, int op, int64_t n,
                           int accumulate);
void fg_unary_backward_f64(double *dx, const double *dout, const double *x, const double *out, int op, int64_t n,
                           int accumulate);
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
 * (or not, when NULL); their backward sends dout to that index, AMAX/AMIN's split it between ties
 * (x == out, so a NaN out gives NaN gradients, as PyTorch's amax; with p = 1, NaN ties NaN, as max()).
 * NaN wins max and min. p: VAR/STD's correction (1 = unbiased), NORM's order (1, 2, INFINITY or
 * any p > 0). Sums accumulate in double (int64 for i64, which serves SUM, PROD, MAX, MIN, AMAX,
 * AMIN, CUMSUM). n = 0 gives the empty sum 0, prod 1, logsumexp -inf, NaN mean/var; MAX/MIN of
 * nothing must not be asked. Backward: dx += the gradient, from x, out and indices. */
enum fg_reduce_op { FG_RED_SUM, FG_RED_MEAN, FG_RED_PROD, FG_RED_MAX, FG_RED_MIN, FG_RED_AMAX, FG_RED_AMIN,
                    FG_RED_LOGSUMEXP, FG_RED_VAR, FG_RED_STD, FG_RED_NORM, FG_RED_CUMSUM,
                    FG_RED_CUMMAX, FG_RED_CUMMIN, FG_RED_LOGCUMSUMEXP };
/* The scans CUMSUM, CUMMAX, CUMMIN, LOGCUMSUMEXP write out (outer, n, inner); CUMMAX/CUMMIN also
 * write indices (outer, n, inner): where the running extreme came from, the last of ties, a NaN
 * taking over for good (PyTorch's rule); their backward sends dout[j] to indices[j]. i64: CUMMAX,
 * CUMMIN too. */
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

/* ---- large tensor buffers (buffers.c): kept when freed and reused, so their pages are not faulted
 * in anew for every tensor; 64-byte aligned. python/fastgrad/tensor.py allocates through them. ---- */
void *fg_buffer_alloc(size_t bytes);
void fg_buffer_free(void *buffer);
int64_t fg_buffer_cached_bytes(void);

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
/* scatter_reduce / index_reduce: out holds the input; out[offsets[i]] = out[offsets[i]] op src[i] for
 * i < n in order (op: enum fg_scatter_op). Without include_self a written position starts from the
 * op's identity (its input value takes no part). count (size entries) receives how many values
 * were reduced into each position: 1 + writes with include_self, else the writes (0 where unwritten:
 * kept as it is). MEAN divides by it (integers: floor division, as PyTorch). AMAX/AMIN: NaN wins.
 * Backward (floats; dx, dsrc accumulate, either may be NULL): PyTorch's gradients: SUM/MEAN share
 * dout (/count), PROD the product of the other factors, AMAX/AMIN dout split evenly between the
 * values equal to the result (the input value counted in the split even without include_self, as
 * PyTorch); without include_self dx is 0 at written positions. work: 2 * size doubles. */
enum fg_scatter_op { FG_SCATTER_SUM, FG_SCATTER_PROD, FG_SCATTER_MEAN, FG_SCATTER_AMAX, FG_SCATTER_AMIN };
void fg_scatter_reduce_f32(float *out, int64_t *count, const float *src, const int64_t *offsets, int op,
                           int include_self, int64_t n, int64_t size);
void fg_scatter_reduce_f64(double *out, int64_t *count, const double *src, const int64_t *offsets, int op,
                           int include_self, int64_t n, int64_t size);
void fg_scatter_reduce_i64(int64_t *out, int64_t *count, const int64_t *src, const int64_t *offsets, int op,
                           int include_self, int64_t n, int64_t size);
void fg_scatter_reduce_backward_f32(float *dx, float *dsrc, double *work, const float *dout, const float *x,
                                    const float *src, const float *out, const int64_t *count, const int64_t *offsets,
                                    int op, int include_self, int64_t n, int64_t size);
void fg_scatter_reduce_backward_f64(double *dx, double *dsrc, double *work, const double *dout, const double *x,
                                    const double *src, const double *out, const int64_t *count,
                                    const int64_t *offsets, int op, int include_self, int64_t n, int64_t size);
/* The number of nonzero elements, and their row-major coordinates (out is count x ndim). */
int64_t fg_count_nonzero(const void *src, int type, int64_t n);
void fg_nonzero(int64_t *out, const void *src, int type, const int64_t *shape, int64_t ndim, int64_t n);
/* out[i, index[i]] = 1, zeros elsewhere; out is n x classes. */
void fg_one_hot(int64_t *out, const int64_t *index, int64_t n, int64_t classes);
/* 0 if every x[i] is in [lo, hi) or equal to `allowed` (a loss's ignore_index), else 1: a status, so
 * a captured step's replay stops on a batch out of range as the eager step raises on it. */
int fg_check_range_i64(const int64_t *x, int64_t n, int64_t lo, int64_t hi, int64_t allowed);
/* A row-sparse gradient coalesced: rows[i] names the row of the i-th of n rows of `row` values.
 * out_rows gets the distinct rows in increasing order, out_values (n rows' room) their sums, each
 * from zero adding the repeats in order of i, and *count how many there are (a count the next
 * kernels read from memory, so a captured step replays it). scratch holds 2n entries. */
void fg_coalesce_rows_f32(int64_t *out_rows, float *out_values, int64_t *count, int64_t *scratch, const int64_t *rows,
                          const float *values, int64_t n, int64_t row);
void fg_coalesce_rows_f64(int64_t *out_rows, double *out_values, int64_t *count, int64_t *scratch,
                          const int64_t *rows, const double *values, int64_t n, int64_t row);
/* SparseAdam (PyTorch's rule) on the *count distinct rows of `row` elements of param and its state
 * (rows[i]; grad holds their gradients, as fg_coalesce_rows leaves them). Reads the learning rate
 * from *lr and increments *step before use, as fg_adam does. Rows not named are not touched. */
void fg_sparse_adam_f32(float *param, float *exp_avg, float *exp_avg_sq, double *step, const float *grad,
                        const int64_t *rows, const int64_t *count, const double *lr, double beta1, double beta2,
                        double eps, int64_t row);
void fg_sparse_adam_f64(double *param, double *exp_avg, double *exp_avg_sq, double *step, const double *grad,
                        const int64_t *rows, const int64_t *count, const double *lr, double beta1, double beta2,
                        double eps, int64_t row);
/* SGD without momentum or weight decay on a row-sparse gradient of n rows (repeats allowed, applied
 * in order of i, as fg_scatter_add with alpha = -*lr): param[rows[i]] -= lr * grad[i]. Increments
 * *step, as fg_sgd does. */
void fg_sparse_sgd_f32(float *param, double *step, const float *grad, const int64_t *rows, const double *lr, int64_t n,
                       int64_t row);
void fg_sparse_sgd_f64(double *param, double *step, const double *grad, const int64_t *rows, const double *lr,
                       int64_t n, int64_t row);

/* ---- convolutional networks (conv.inc, pool.inc, norm.inc) ---------------------------------- */
/* Convolution in 3, 2 or 1 spatial dimensions, PyTorch's NC(D)HW layout and weight layout
 * [cout][c/groups][kd][kh][kw] (conv2d is d = kd = 1, conv1d also h = kh = 1). geometry holds 22
 * sizes: n, c, h, w, cout, kh, kw, oh, ow, stride h, w, padding h, w (top and left: bottom and right
 * padding follow from oh, ow), dilation h, w, groups, then d, kd, od, stride d, padding d, dilation d.
 * fg_conv2d_plan writes plan[0] = b, the images the kernels take at a time, plan[1] = s, the
 * slices of the batch that threads share, and the scratch the caller provides (the kernels pick the
 * algorithm, im2col or Winograd, and size it): each thread's part of col (plan[2] elements) and of
 * out_t (plan[3]; may be NULL when 0), for t = min(s, fg_get_num_threads()) threads, and partial
 * (plan[4] elements, shared). bias may be NULL. */
void fg_conv2d_plan_f32(int64_t *plan, const int64_t *geometry);
void fg_conv2d_plan_f64(int64_t *plan, const int64_t *geometry);
void fg_conv2d_f32(float *out, float *col, float *out_t, float *partial, const float *x, const float *weight,
                   const float *bias, const int64_t *geometry);
void fg_conv2d_f64(double *out, double *col, double *out_t, double *partial, const double *x, const double *weight,
                   const double *bias, const int64_t *geometry);
/* Backward: dx += ..., dbias += ..., dweight (+)= ... (accumulate_dweight); NULLs are skipped.
 * Scratch as forward's: col (may be NULL without dweight), dcol (like col; may be NULL without dx),
 * dout_t (like out_t) and partial. */
void fg_conv2d_backward_f32(float *dx, float *dweight, float *dbias, float *col, float *dcol, float *dout_t,
                            float *partial, const float *dout, const float *x, const float *weight,
                            const int64_t *geometry, int accumulate_dweight);
void fg_conv2d_backward_f64(double *dx, double *dweight, double *dbias, double *col, double *dcol, double *dout_t,
                            double *partial, const double *dout, const double *x, const double *weight,
                            const int64_t *geometry, int accumulate_dweight);
/* Pooling over each of `planes` d x h x w volumes (2-D: d = 1; 1-D: h = 1 too). geometry: planes, h,
 * w, oh, ow, kh, kw, stride h, w, padding h, w, dilation h, w, then d, od, kd, stride d, padding d,
 * dilation d, divisor (0: the window's count; the adaptive ones use only the sizes). Max pooling
 * writes each maximum's position in its volume ((iz·h + iy)·w + ix) to argmax (NULL for the
 * averages); backward adds the gradient there, or spreads it over each window. Average with or
 * without the padding counted, or by a given divisor. */
enum fg_pool_op { FG_POOL_MAX, FG_POOL_AVG, FG_POOL_AVG_EXCLUDE_PAD, FG_POOL_ADAPTIVE_AVG, FG_POOL_ADAPTIVE_MAX };
void fg_pool2d_f32(float *out, int64_t *argmax, const float *x, const int64_t *geometry, int op);
void fg_pool2d_f64(double *out, int64_t *argmax, const double *x, const int64_t *geometry, int op);
void fg_pool2d_backward_f32(float *dx, const float *dout, const int64_t *argmax, const int64_t *geometry, int op);
void fg_pool2d_backward_f64(double *dx, const double *dout, const int64_t *argmax, const int64_t *geometry, int op);
/* Batch norm over x of (n, c, hw), per channel. Training: the batch's statistics, saved (mean,
 * 1/sqrt(var + eps)) for backward; running_mean/var (NULL: not tracked) updated with momentum, or
 * with 1/num_batches_tracked when momentum < 0; num_batches_tracked (may be NULL) counts the batch.
 * Not training: the running statistics, saved the same way. weight and bias may be NULL. */
void fg_batch_norm_f32(float *out, float *save_mean, float *save_invstd, float *running_mean, float *running_var,
                       int64_t *num_batches_tracked, const float *x, const float *weight, const float *bias,
                       double eps, double momentum, int training, int64_t n, int64_t c, int64_t hw);
void fg_batch_norm_f64(double *out, double *save_mean, double *save_invstd, double *running_mean,
                       double *running_var, int64_t *num_batches_tracked, const double *x, const double *weight,
                       const double *bias, double eps, double momentum, int training, int64_t n, int64_t c,
                       int64_t hw);
/* dx (+)= ... (accumulate_dx), dweight += sum(dout·x̂), dbias += sum(dout) (NULLs skipped); training
 * as in forward. */
void fg_batch_norm_backward_f32(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                                const float *weight, const float *save_mean, const float *save_invstd, int training,
                                int64_t n, int64_t c, int64_t hw, int accumulate_dx);
void fg_batch_norm_backward_f64(double *dx, double *dweight, double *dbias, const double *dout, const double *x,
                                const double *weight, const double *save_mean, const double *save_invstd,
                                int training, int64_t n, int64_t c, int64_t hw, int accumulate_dx);

/* F.pad (pad.inc) of x seen as (outer, padded dims...). geometry: outer, nd, the nd input sizes, the
 * nd output sizes, the nd left paddings (negative: cropped). Constant mode writes value outside the
 * input; reflect, replicate and circular read it as PyTorch's do. Backward: dx += each output's
 * gradient at the input element it read. */
enum fg_pad_mode { FG_PAD_CONSTANT, FG_PAD_REFLECT, FG_PAD_REPLICATE, FG_PAD_CIRCULAR };
void fg_pad_f32(float *out, const float *x, const int64_t *geometry, int mode, double value);
void fg_pad_f64(double *out, const double *x, const int64_t *geometry, int mode, double value);
void fg_pad_backward_f32(float *dx, const float *dout, const int64_t *geometry, int mode);
void fg_pad_backward_f64(double *dx, const double *dout, const int64_t *geometry, int mode);

/* F.interpolate (upsample.inc) of `planes` h x w planes to oh x ow. geometry: planes, h, w, oh, ow,
 * align_corners (linear only); scales: the scale_factor given for h and w, or 0 where the sizes decide
 * (PyTorch's source positions). A 1-D input is planes of height 1. Backward: dx += ... */
enum fg_upsample_mode { FG_UPSAMPLE_NEAREST, FG_UPSAMPLE_NEAREST_EXACT, FG_UPSAMPLE_LINEAR };
void fg_upsample_f32(float *out, const float *x, const int64_t *geometry, const double *scales, int mode);
void fg_upsample_f64(double *out, const double *x, const int64_t *geometry, const double *scales, int mode);
void fg_upsample_backward_f32(float *dx, const float *dout, const int64_t *geometry, const double *scales, int mode);
void fg_upsample_backward_f64(double *dx, const double *dout, const int64_t *geometry, const double *scales,
                              int mode);

/* ---- recurrent cells (rnn.inc): the gates of LSTM and GRU steps, x and h the input's and the
 * hidden state's products (rows x 4 or 3 hidden), state and out rows x hidden; rnn.inc says what
 * each mode computes. Backward adds into dx, dh, dstate (none NULL). */
enum fg_rnn_gates { FG_LSTM_CELL, FG_LSTM_HIDDEN, FG_GRU_HIDDEN };
void fg_rnn_gates_f32(float *out, const float *x, const float *h, const float *state, int mode, int64_t rows,
                      int64_t hidden);
void fg_rnn_gates_f64(double *out, const double *x, const double *h, const double *state, int mode, int64_t rows,
                      int64_t hidden);
void fg_rnn_gates_backward_f32(float *dx, float *dh, float *dstate, const float *dout, const float *x, const float *h,
                               const float *state, int mode, int64_t rows, int64_t hidden);
void fg_rnn_gates_backward_f64(double *dx, double *dh, double *dstate, const double *dout, const double *x,
                               const double *h, const double *state, int mode, int64_t rows, int64_t hidden);

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

/* ---- pointwise losses (loss.inc): PyTorch's mse_loss, l1_loss, smooth_l1_loss, huber_loss,
 * binary_cross_entropy(_with_logits) and kl_div, one op code each ------------------------------
 * input, target, weight and pos_weight hold n elements each (Python expands broadcast operands);
 * weight and pos_weight may be NULL (1). Element i's loss is weight[i]·f(input[i], target[i]):
 *   MSE (x-t)²; L1 |x-t|; SMOOTH_L1 0.5·d²/β if |d| < β else |d| - 0.5·β (param β > 0);
 *   HUBER 0.5·d² if |d| < δ else δ·(|d| - 0.5·δ) (param δ > 0); BCE -(t·log x + (1-t)·log(1-x)), each
 *   log clamped to >= -100; BCE_WITH_LOGITS (1-t)·x - (1 + (pw-1)·t)·log σ(x); KL_DIV t·log t - t·x
 *   (0 where t = 0); KL_DIV_LOG_TARGET e^t·(t - x).
 * reduction (enum fg_reduction): `loss` receives the n losses, their sum, or their sum / count (the
 * mean: count is n, or the batch size for kl_div's 'batchmean'), summed in double in index order.
 * Returns 0, or for BCE 1 when an input lies outside [0, 1] (or is NaN), 2 when a target does.
 * Backward: dinput and dtarget (either may be NULL: skipped) (+)= the upstream gradient (dloss[i]
 * for FG_REDUCE_NONE, else dloss[0], over count for the mean) · weight · df/dx (df/dt). dinput and
 * dtarget may be one buffer (input and target one tensor): dinput is done first, so
 * accumulate_dtarget must then be 1. */
enum fg_loss_op { FG_LOSS_MSE, FG_LOSS_L1, FG_LOSS_SMOOTH_L1, FG_LOSS_HUBER, FG_LOSS_BCE, FG_LOSS_BCE_WITH_LOGITS,
                  FG_LOSS_KL_DIV, FG_LOSS_KL_DIV_LOG_TARGET };
int fg_pointwise_loss_f32(float *loss, const float *input, const float *target, const float *weight,
                          const float *pos_weight, double param, int op, int reduction, int64_t n, int64_t count);
int fg_pointwise_loss_f64(double *loss, const double *input, const double *target, const double *weight,
                          const double *pos_weight, double param, int op, int reduction, int64_t n, int64_t count);
void fg_pointwise_loss_backward_f32(float *dinput, float *dtarget, const float *dloss, const float *input,
                                    const float *target, const float *weight, const float *pos_weight, double param,
                                    int op, int reduction, int64_t n, int64_t count, int accumulate_dinput,
                                    int accumulate_dtarget);
void fg_pointwise_loss_backward_f64(double *dinput, double *dtarget, const double *dloss, const double *input,
                                    const double *target, const double *weight, const double *pos_weight,
                                    double param, int op, int reduction, int64_t n, int64_t count,
                                    int accumulate_dinput, int accumulate_dtarget);

/* ---- RMSNorm (rms_norm.inc) over the last `cols` elements of each row: out = x·rstd·weight with
 * rstd = 1/sqrt(mean(x²) + eps), weight NULL or cols long; rstd (rows entries) is written for
 * backward. Backward: dx (+)= its gradient (accumulate_dx 0 overwrites), dweight += its gradient
 * (either may be NULL: skipped). */
void fg_rms_norm_f32(float *out, float *rstd, const float *x, const float *weight, double eps, int64_t rows,
                     int64_t cols);
void fg_rms_norm_f64(double *out, double *rstd, const double *x, const double *weight, double eps, int64_t rows,
                     int64_t cols);
void fg_rms_norm_backward_f32(float *dx, float *dweight, const float *dout, const float *x, const float *rstd,
                              const float *weight, int accumulate_dx, int64_t rows, int64_t cols);
void fg_rms_norm_backward_f64(double *dx, double *dweight, const double *dout, const double *x, const double *rstd,
                              const double *weight, int accumulate_dx, int64_t rows, int64_t cols);

/* ---- dense linear algebra (linalg.c): `batch` contiguous row-major matrices, worked in double ----
 * Each returns 0, or -1 when it could not get its scratch memory (nothing written). info[] (one per
 * matrix) is LAPACK's: 0, or the 1-based column where the factorisation met a zero pivot (LU) or a
 * non-positive one (Cholesky); Python raises torch.linalg.LinAlgError on it where PyTorch does (a
 * captured step checks it with fg_check_range_i64). */
/* A = P L U of m x n matrices with partial pivoting: lu holds L below the diagonal (unit diagonal
 * implied) and U on and above it; pivots (min(m, n) per matrix) are 1-based rows swapped in order. */
int fg_lu_factor_f32(float *lu, int64_t *pivots, int64_t *info, const float *a, int64_t batch, int64_t m, int64_t n);
int fg_lu_factor_f64(double *lu, int64_t *pivots, int64_t *info, const double *a, int64_t batch, int64_t m,
                     int64_t n);
/* x = A^-1 b (trans 0) or A^-T b (trans 1) from n x n LU factors, b and x n x k; x may be b. */
int fg_lu_solve_f32(float *x, const float *lu, const int64_t *pivots, const float *b, int64_t batch, int64_t n,
                    int64_t k, int trans);
int fg_lu_solve_f64(double *x, const double *lu, const int64_t *pivots, const double *b, int64_t batch, int64_t n,
                    int64_t k, int trans);
/* det, log|det| and sign (-1, 0 or 1) of n x n matrices from their LU factors; any output may be NULL. */
int fg_lu_det_f32(float *det, float *logabsdet, float *sign, const float *lu, const int64_t *pivots, int64_t batch,
                  int64_t n);
int fg_lu_det_f64(double *det, double *logabsdet, double *sign, const double *lu, const int64_t *pivots,
                  int64_t batch, int64_t n);
/* A = L L^T read from A's lower triangle (upper 0: l is L, zeros above), or A = U^T U from its upper
 * triangle (upper 1: l is U). */
int fg_cholesky_f32(float *l, int64_t *info, const float *a, int64_t batch, int64_t n, int upper);
int fg_cholesky_f64(double *l, int64_t *info, const double *a, int64_t batch, int64_t n, int upper);
/* x = op(A)^-1 b, A n x n triangular (only its upper or lower triangle read; unit: its diagonal taken
 * as ones), op(A) = A or A^T (trans), b and x n x k; x may be b. A zero diagonal gives inf/NaN, as
 * LAPACK's trsm. */
int fg_triangular_solve_f32(float *x, const float *a, const float *b, int64_t batch, int64_t n, int64_t k,
                            int upper, int trans, int unit);
int fg_triangular_solve_f64(double *x, const double *a, const double *b, int64_t batch, int64_t n, int64_t k,
                            int upper, int trans, int unit);
/* Householder QR of m x n matrices, LAPACK's signs: q is m x qcols (qcols min(m, n) or m; NULL: not
 * wanted), r is rrows x n (rrows min(m, n) or m; zeros below the diagonal). */
int fg_qr_f32(float *q, float *r, const float *a, int64_t batch, int64_t m, int64_t n, int64_t qcols, int64_t rrows);
int fg_qr_f64(double *q, double *r, const double *a, int64_t batch, int64_t m, int64_t n, int64_t qcols,
              int64_t rrows);
/* Eigenvalues (ascending, n per matrix) and eigenvectors (columns of n x n; NULL: not wanted) of the
 * symmetric matrices whose lower (upper 0) or upper (upper 1) triangle a holds: cyclic Jacobi. */
int fg_eigh_f32(float *eigenvalues, float *eigenvectors, const float *a, int64_t batch, int64_t n, int upper);
int fg_eigh_f64(double *eigenvalues, double *eigenvectors, const double *a, int64_t batch, int64_t n, int upper);
/* A = U diag(s) Vh of m x n matrices, k = min(m, n) singular values descending: one-sided Jacobi. u is
 * m x k and vh k x n, or m x m and n x n when full; both NULL: s only. */
int fg_svd_f32(float *u, float *s, float *vh, const float *a, int64_t batch, int64_t m, int64_t n, int full);
int fg_svd_f64(double *u, double *s, double *vh, const double *a, int64_t batch, int64_t m, int64_t n, int full);

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

/* ---- DLPack (dlpack.c): sharing tensors with numpy, PyTorch and JAX without copying ---------- */
/* DLPack's C ABI (dlpack.h), spelled out here so that cffi reads the structs too. A DLManagedTensor
 * travels in a PyCapsule named "dltensor" (DLPack < 1.0), a DLManagedTensorVersioned in one named
 * "dltensor_versioned" (1.0 on, which can say the data is writeable); the consumer renames the
 * capsule "used_dltensor[_versioned]" and calls `deleter` once it no longer needs the data. */
typedef struct { int32_t device_type; int32_t device_id; } DLDevice;
enum { kDLCPU = 1 };
typedef struct { uint8_t code; uint8_t bits; uint16_t lanes; } DLDataType;
enum { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBool = 6 };
typedef struct {
    void *data;
    DLDevice device;
    int32_t ndim;
    DLDataType dtype;
    int64_t *shape;
    int64_t *strides;     /* in elements; NULL means contiguous row-major */
    uint64_t byte_offset;
} DLTensor;
typedef struct DLManagedTensor {
    DLTensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct DLManagedTensor *self);
} DLManagedTensor;
typedef struct { uint32_t major; uint32_t minor; } DLPackVersion;
enum { DLPACK_FLAG_BITMASK_READ_ONLY = 1, DLPACK_FLAG_BITMASK_IS_COPIED = 2 };
typedef struct DLManagedTensorVersioned {
    DLPackVersion version;
    void *manager_ctx;
    void (*deleter)(struct DLManagedTensorVersioned *self);
    uint64_t flags;
    DLTensor dl_tensor;
} DLManagedTensorVersioned;
/* A DLManagedTensorVersioned (DLPack 1.0, writeable; flags as given) when `versioned`, else a
 * DLManagedTensor, over `data`: contiguous row-major with ndim dimensions of `shape`, on the CPU. One
 * malloc'd block holds it with its own copy of the shape and row-major strides; NULL if memory ran
 * out. Its deleter calls release(owner) and frees the block: `owner` is what keeps `data` alive (the
 * Python layer's handle on the exporting buffer). */
void *fg_dlpack_export(void *data, const int64_t *shape, int32_t ndim, uint8_t code, uint8_t bits, int versioned,
                       uint64_t flags, void *owner, void (*release)(void *owner));
/* Calls the deleter, if any, of a DLManagedTensor(Versioned) made above or by another library: an
 * importer done with the data, or an export that nobody consumed. */
void fg_dlpack_delete(void *managed, int versioned);

/* ---- captured steps (plan.c): replaying a recorded list of kernel calls ----------------------
 * A plan is an array of steps, each one kernel call with its pointer arguments in order in p and
 * its other arguments in order in s, packed as fg_plan_arg (int64 or double, as the kernel's
 * parameter is). csrc/build_plan.py generates the dispatch table from this header, so every fg_*
 * function above is replayable without glue. */
typedef union { void *p; int64_t i; double d; } fg_plan_arg;
/* kernel: fg_plan_kernel_id(name); FG_PLAN_CHECK_RANGE: p {int64 buffer}, s {n, lo, hi, allowed}:
 * the buffer must hold values in [lo, hi) or equal to allowed (an index input's bounds, a loss's
 * ignore_index, checked before the kernels that trust them); FG_PLAN_COPY: p {dst, src}, s {bytes},
 * memcpy (a step's input copied into the plan's buffer: the caller sets src before each run).
 * status: the kernel returns an int status (0: done), and a failure stops the run (fg_plan_layout
 * sets it from the kernel's signature). Kernels that return a value Python computes with (a count
 * deciding a shape) are not replayable: fastgrad.compile refuses them at capture. */
enum { FG_PLAN_CHECK_RANGE = -1, FG_PLAN_COPY = -3 };
typedef struct {
    int64_t kernel;
    void **p;
    fg_plan_arg *s;
    int64_t status;
} fg_plan_step;
/* The id of kernel `name` (e.g. "fg_relu_f32") in the dispatch table, or -1. */
int64_t fg_plan_kernel_id(const char *name);
/* Kernel `id`'s result and arguments, "<result>:<one letter per argument>": result v (void), d (a
 * double), s (an int status, 0 when done) or i (an int64_t count); arguments p (pointer), i (integer)
 * or d (float or double). "" for an unknown id. */
const char *fg_plan_kernel_signature(int64_t id);
/* Fills steps[0..n) for kernels[i] (ids, FG_PLAN_COPY or FG_PLAN_CHECK_RANGE), each taking the next
 * of its pointer arguments from pointers and of its other arguments from scalars (in call order).
 * Returns -1, or the index of an unknown kernel id. */
int64_t fg_plan_layout(fg_plan_step *steps, const int64_t *kernels, int64_t n, void **pointers, fg_plan_arg *scalars);
/* The arena of a recorded step's intermediates. owners [starts[o], starts[o] + bytes[o]),
 * in any order, are the buffers the steps' pointers point into (NULL excepted); movable[o]: nothing outside
 * the plan holds it. A movable buffer whose first use is a write (a pointer the kernel does not only
 * read) is made within each replay, so it gets a place offset[o] >= 0 in one arena, shared with
 * buffers whose uses are over (best fit, in order of first use); the others get -1. owner_of[j]:
 * the owner of the j-th pointer in call order (-1: NULL); *moved_bytes: the moved buffers' bytes;
 * scratch: 10 * owners. Returns the arena's bytes, or -1 - j when pointer j points into no owner. */
int64_t fg_plan_arena(int64_t *offset, int64_t *owner_of, int64_t *moved_bytes, const fg_plan_step *steps, int64_t n,
                      const uint64_t *starts, const uint64_t *bytes, const uint8_t *movable, int64_t owners,
                      int64_t *scratch);
/* Points each pointer into a buffer that fg_plan_arena placed at the same place in arena. */
void fg_plan_place(fg_plan_step *steps, int64_t n, const int64_t *owner_of, const int64_t *offset,
                   const uint64_t *starts, char *arena);
/* Runs the steps in order; returns -1, or the index of the range check or status step that failed
 * (nothing after it ran). Allocates nothing; the kernels keep their threads. */
int64_t fg_plan_run(const fg_plan_step *steps, int64_t n);

#endif /* FASTGRAD_H */

/* gemm.c: the GEMM core behind every matrix product, fg_gemm_<f32|f64> (fastgrad.h); matmul.inc
 * builds matmul and linear, forward and backward, on it and keeps the naive oracle.
 *
 * BLIS's shape (flame/blis docs/KernelsHowTo.md): five loops around one MR x NR micro-kernel.
 *   jc over n, NC columns at a time
 *   pc over k, KC at a time           pack B panel (KC x NC)                         -> L2/L3
 *   ic over m, MC rows at a time      pack A block (MC x KC)                              -> L2
 *   jr over NR columns                one packed B micro-panel (KC x NR)                  -> L1
 *   ir over MR rows                   the micro-kernel: MR x NR sums in registers
 * Transposed operands are read through (row, k) strides while packing, so the backward products
 * dA = dC·Bᵀ and dB = Aᵀ·dC run exactly the code of the forward product.
 *
 * Small products (see FG_GEMM_DIRECT_MAX) skip packing: the same micro-kernel reads A and B where
 * they lie, with the same arithmetic, so packing never changes a result either.
 *
 * Threads (OpenMP, optional) each take a band of C's rows or columns and run the loops on it with
 * their own packing buffers; the k loop is never split between threads.
 *
 * Determinism: every element of C sums its k terms in one fixed order (KC blocks in turn, each in
 * the registers of one micro-kernel call), whatever the thread count or the tile it falls in, so
 * results are bit-identical for any number of threads. Paths differ from each other (FMA rounds
 * once, block sizes differ), so compare paths with a tolerance.
 *
 * Each path (portable, AVX2+FMA, AVX-512) is gemm_kernel.inc compiled with its target attribute,
 * once per dtype (gemm.inc); fg_gemm picks one by fg_kernel_path() on every call.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "fastgrad.h"
#include "cpu.h"
#if FG_X86
#include <emmintrin.h>   /* SSE2: baseline on x86-64, used to transpose while packing */
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#define FG_UNROLL _Pragma("GCC unroll 16")
/* Below this many flops per thread a second thread costs more (waking it, packing the shared
 * operand twice) than it saves. */
#define FG_GEMM_FLOPS_PER_THREAD 2.5e5
/* Up to this m*n*k (one block in each dimension, B not transposed) products skip packing, which
 * costs more than it saves when each packed element would be reused only a few dozen times. Above
 * it, power-of-two leading dimensions make unpacked panels collide in L1 (n = 128 does). */
#define FG_GEMM_DIRECT_MAX 1.5e6

#define T float
#define FG(name) fg_##name##_f32
#define FG_SFX f32
#include "gemm.inc"
#undef T
#undef FG
#undef FG_SFX

#define T double
#define FG(name) fg_##name##_f64
#define FG_SFX f64
#include "gemm.inc"
#undef T
#undef FG
#undef FG_SFX

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
 * they lie, with the same arithmetic, so packing never changes a result either (tested). Those are
 * the products of small training steps (an MLP 64->32->10 at batch 32: 32x32x64 and 32x10x32, their
 * backward dA = G·Bᵀ and dB = Aᵀ·G), where packing and edges, not the multiply-adds, were the cost:
 *   - a transposed B (x·wᵀ of nn.Linear, dC·Bᵀ) is the one operand packed (transposed, whole); A
 *     is still read where it lies (it used to go through the packed loops, A packed too);
 *   - edge tiles (n = 10 is all edge on AVX-512's 32-column tile; m = 32 ends in an 8-row tile) are
 *     computed in place, the last vector read and written with masked moves on AVX2 and AVX-512;
 *     they went through a scratch tile copied out element by element, and B's partial panel was
 *     copied and zero-padded scalar by scalar. Accumulating tiles read all their rows of C before
 *     writing any (a masked load that overlaps the previous row's masked store waits for it);
 *   - fg_linear's bias is added as C is stored (fg_gemm_bias), not copied into C first;
 *   - block sizes are derived once, not per call;
 *   - they prefetch nothing (FGK(macro_small)): their operands are in L1, and the micro-kernel's
 *     prefetches (48 of C per 12 x 32 tile, one of A per k, the k loop split in two around them)
 *     cost 5-25% of them. Larger products keep them (1024³ took 3-5% longer without).
 * One thread, f32, AVX-512, on the 2-core AMD EPYC (Zen 4, shared, noisy; medians of thread CPU
 * time, the C harness described in the README's "Small GEMMs"), before -> after, in ns:
 *   32x32x64  x@W 1290 -> 1240,  x·wᵀ 1760 -> 1400;   32x10x32  x@W 750 -> 410,  x·wᵀ 980 -> 460;
 *   dA 32x64x32 1710 -> 1480, 32x32x10 445 -> 350;    dB 64x32x32 1320 -> 1290, 32x10x32 750 -> 460;
 *   fg_linear 32x64x32 1770 -> 1410, 32x32x10 910 -> 470; a 1x1x1 product 66 -> 42;
 * then without the prefetches: x·wᵀ 32x32x64 1390 -> 1350, 32x10x32 450 -> 390; dA 32x32x10 (G·W)
 * 300 -> 245; dB 32x64x32 1325 -> 1230, 10x32x32 255 -> 220; 1x1x1 42 -> 33. One 16-lane FMA a
 * cycle is Zen 4's peak (~3.66 GHz here: a dependent chain of FMAs takes 1.09 ns a link, 4 cycles);
 * the MLP step's five products are 10,500 of them, ~2.9 us, and took ~3.45 us in all (the
 * transposing pack of x·wᵀ ~0.19 us, five calls ~0.16 us, the rest loading and storing C's tiles).
 * A 12 x 32 tile runs at 96% of that peak at k = 256, 91-93% at k = 32 (12 and 8 rows alike, so
 * another split of m = 32 (11+11+10, 4 x 8) would only change how many tiles pay that overhead).
 * The portable path has no masked moves: it reads partial B panels from a zero-padded packed copy.
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
 *
 * Tiles (fg_tiles below): MR rows x NV vectors of C per micro-kernel call, per path and dtype:
 * portable 4 x 2, AVX2 6 x 2 (BLIS's haswell shape), AVX-512 12 x 2 in f32 and 6 x 4 in f64. Each k
 * step loads NV vectors of B, broadcasts MR values of A and issues MR·NV multiply-adds; 24
 * accumulators of AVX-512's 32 registers hide the FMA latency either way. In f64 at n = 512-2048 the
 * 12 x 2 tile ran at 83-88% of one Zen 4 core's measured FMA peak (a loop of independent FMAs: 58
 * GFLOP/s, 512-bit FMAs at one a cycle) and lost 2-6% to OpenBLAS: its micro-kernel ran at 93-97%
 * with A and B in L1/L2, ~92% of the product's time (perf; packing 3%), but each step moves 12·8
 * bytes of A and 2·64 of B per 24 FMAs. 6 x 4 moves 6·8 + 4·64 (10 loads instead of 14) and
 * measured 1-5% faster at n = 512-2048 (thread CPU time, interleaved; 3% at n = 2048). f32 moves half
 * the bytes of A per FMA and keeps 12 x 2; on AVX2, 4 x 3 was no faster than 6 x 2 (16 registers).
 *
 * Block sizes come from the CPU at hand, not from constants: fg_blocks_for derives them from the
 * cache sizes cpu.c reads (CPUID leaf 4 / 0x8000001D, else sysconf, else typical values) and the
 * path's micro-tile MR x NR of s-byte elements, after BLIS's analytical model (Low et al.,
 * "Analytical modeling is enough for high-performance BLIS", ACM TOMS 2016):
 *   KC  in the micro-kernel a B micro-panel (KC x NR) is reused by every A micro-panel (MR x KC)
 *       that streams past it, so it should stay in L1: KC = L1 / (NR s), a multiple of 8 in
 *       [64, FG_KC_MAX], counting at most two vectors of NR: a wider panel (f64's 6 x 4 tile on
 *       AVX-512, 64 KiB at KC 256) streams from L2, whose bandwidth keeps up with 4 vector loads per
 *       24 FMAs, while KC = L1 / (NR s) = 128 makes twice the passes over C's tiles (2-4% slower at
 *       n = 1024-2048 on Zen 4). The model's stricter KC = L1 (W - 1) / W / ((MR + NR) s), A's panel beside
 *       B's, measured 3-6% slower on Zen 4 (f32 and f64, AVX-512 and AVX2, n = 512 and 1024,
 *       bench/gemm_blocks.py): every KC block is one more read and write of C's tiles, and L2
 *       feeds the part of B that L1 cannot hold fast enough. (On the Xeon, KC 192 and 128 measured
 *       2.5% and 5-6% slower than 256, and 512 no faster, for the same reason.)
 *   MC  the packed A block (MC x KC) is reused by every B micro-panel of a panel and stays in L2,
 *       beside the B micro-panels streaming through and C's tiles: half of L2, MC = L2 / 2 /
 *       (KC s), a multiple of MR (a quarter measured 2-5% slower in f64 at n = 1536-2048 on Zen 4,
 *       where each A block is one more pass over the B panel; f32 did not mind).
 *   NC  the packed B panel (KC x NC) is reused by every A block and stays in L3 (each thread packs
 *       its own): a quarter of this core's share, NC = L3 / 4 / (KC s), a multiple of NR in
 *       [NR, 8192]: the share CPUID reports can be the whole L3 of a VM whose host cores use it
 *       too (here it says 16 MiB per core; half of that measured 5% slower than a quarter in f64
 *       at n = 2048). C's columns beyond NC come in another pass, which packs A again.
 * On the 2-core AMD EPYC these were written on (Zen 4: 32 KiB 8-way L1d, 1 MiB L2, CPUID says 16 MiB
 * of L3 per core) that gives MC, KC, NC = 504, 256, 4096 (f32, 12 x 32 tiles) and 252, 256, 2048
 * (f64, 6 x 32 tiles) on the AVX-512 path, 252, 512, 2048 and 126, 512, 1024 on the AVX2 path; on the 48 KiB L1d, 2 MiB L2
 * Xeon the old constants were tuned on, KC = 384 (between the 256 and 512 that measured alike
 * there) and MC = 672 (f32). bench/gemm_blocks.py times other choices against the derived
 * ones; README "GEMM block sizes" has the figures.
 * Threads: fg_threads_for gives a product one thread per FG_GEMM_FLOPS_PER_THREAD flops, up to
 * fg_get_num_threads() (by default the cores this process may use); each takes an equal band of
 * C's rows or columns in whole micro-tiles; the k loop is never split.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "fastgrad.h"
#include "cpu.h"
#if FG_X86
#include <immintrin.h>   /* SSE2 (baseline: transposes while packing); AVX2/AVX-512 masked moves at edges */
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#define FG_UNROLL _Pragma("GCC unroll 16")
/* The largest KC: bounds the stack buffer of the out-of-memory path (KC x NR, 64 KiB at most). */
#define FG_KC_MAX 512

struct fg_blocks { int64_t mc, kc, nc; };
static int64_t fg_blocks_set[3];   /* fg_gemm_set_blocks: 0 = derived */

static int64_t fg_round_clamp(int64_t v, int64_t multiple, int64_t lo, int64_t hi) {
    v = v / multiple * multiple;
    return v < lo ? lo : v > hi ? hi : v;
}

/* The derivation above, for an MR x NV-vector tile of s-byte elements, vb-byte vectors. */
static struct fg_blocks fg_derive_blocks(int64_t mr, int64_t nv, int64_t vb, int64_t s) {
    const struct fg_caches c = fg_cache_sizes();
    const int64_t nr = nv * vb / s;
    struct fg_blocks b;
    b.kc = fg_blocks_set[1] ? fg_blocks_set[1] : fg_round_clamp(c.l1 / ((nv < 2 ? nv : 2) * vb), 8, 64, FG_KC_MAX);
    b.mc = fg_round_clamp(fg_blocks_set[0] ? fg_blocks_set[0] : c.l2 / 2 / (b.kc * s), mr, mr, 1 << 20);
    b.nc = fg_round_clamp(fg_blocks_set[2] ? fg_blocks_set[2] : c.l3_per_core / 4 / (b.kc * s), nr, nr, 8192);
    return b;
}

/* Each path's micro-tile, per dtype: FG_MR rows x FG_NV vectors of C (gemm.inc instantiates the
 * kernels with these; the derivation and fg_gemm_blocks read them here). */
#define FG_MR_portable_f32 4
#define FG_NV_portable_f32 2
#define FG_MR_portable_f64 4
#define FG_NV_portable_f64 2
#define FG_MR_avx2_f32 6
#define FG_NV_avx2_f32 2
#define FG_MR_avx2_f64 6
#define FG_NV_avx2_f64 2
#define FG_MR_avx512_f32 12
#define FG_NV_avx512_f32 2
#define FG_MR_avx512_f64 6   /* 6 x 4 zmm, not 12 x 2: see "Tiles" in the header */
#define FG_NV_avx512_f64 4
static const int64_t fg_tiles[3][2][2] = {   /* [path][f64][MR, NV] */
    [FG_PATH_PORTABLE] = {{FG_MR_portable_f32, FG_NV_portable_f32}, {FG_MR_portable_f64, FG_NV_portable_f64}},
    [FG_PATH_AVX2] = {{FG_MR_avx2_f32, FG_NV_avx2_f32}, {FG_MR_avx2_f64, FG_NV_avx2_f64}},
    [FG_PATH_AVX512] = {{FG_MR_avx512_f32, FG_NV_avx512_f32}, {FG_MR_avx512_f64, FG_NV_avx512_f64}},
};
static int64_t fg_vector_bytes(int path) { return path == FG_PATH_AVX512 ? 64 : path == FG_PATH_AVX2 ? 32 : 16; }
static struct fg_blocks fg_blocks_derived(int path, int64_t s) {
    const int64_t *tile = fg_tiles[path][s == 8];
    return fg_derive_blocks(tile[0], tile[1], fg_vector_bytes(path), s);
}
/* Derived once for every path and element size, again when fg_gemm_set_blocks changes them: the
 * derivation's eight integer divisions were ~60 ns of a 1x1x1 product's ~70 on Zen 4. */
static struct fg_blocks fg_blocks_memo[3][2];
static pthread_once_t fg_blocks_once = PTHREAD_ONCE_INIT;
static void fg_blocks_derive_all(void) {
    for (int path = FG_PATH_PORTABLE; path <= FG_PATH_AVX512; path++)
        for (int d = 0; d < 2; d++) fg_blocks_memo[path][d] = fg_blocks_derived(path, d ? 8 : 4);
}
static struct fg_blocks fg_blocks_for(int path, int64_t s) {
    pthread_once(&fg_blocks_once, fg_blocks_derive_all);
    return fg_blocks_memo[path][s == 8];
}

void fg_gemm_blocks(int64_t *out, int path, int64_t itemsize) {
    const struct fg_blocks b = fg_blocks_for(path, itemsize);
    const int64_t *tile = fg_tiles[path][itemsize == 8];
    out[0] = b.mc, out[1] = b.kc, out[2] = b.nc;
    out[3] = tile[0], out[4] = tile[1] * fg_vector_bytes(path) / itemsize;
}

void fg_gemm_set_blocks(int64_t mc, int64_t kc, int64_t nc) {
    fg_blocks_set[0] = mc > 0 ? mc : 0;
    fg_blocks_set[1] = kc > 0 ? (kc < FG_KC_MAX ? kc : FG_KC_MAX) : 0;
    fg_blocks_set[2] = nc > 0 ? nc : 0;
    pthread_once(&fg_blocks_once, fg_blocks_derive_all);
    fg_blocks_derive_all();
}
/* Below this many flops per thread a second thread costs more (waking it, packing the shared
 * operand twice) than it saves. */
#define FG_GEMM_FLOPS_PER_THREAD 2.5e5
/* Up to this m*n*k (one block in each dimension, B not transposed) products skip packing, which
 * costs more than it saves when each packed element would be reused only a few dozen times. Above
 * it, power-of-two leading dimensions make unpacked panels collide in L1 (n = 128 does). */
#define FG_GEMM_DIRECT_MAX 1.5e6
/* A transposed A (a weight gradient's doutᵀ) feeding at most this many micro-panels of B is read
 * where it lies, not packed (see FGK(blocked)). */
#define FG_A_UNPACKED_PANELS 8

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

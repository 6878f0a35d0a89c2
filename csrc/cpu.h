/* cpu.h: what the kernels ask of cpu.c. Internal: Python sees only fastgrad.h.
 *
 * The path the kernels take (portable, AVX2+FMA, AVX-512) and the thread count are process-wide
 * settings chosen in cpu.c; kernels read them per call and keep nothing. */
#ifndef FASTGRAD_CPU_H
#define FASTGRAD_CPU_H
#include <stddef.h>
#include <stdint.h>

/* x86 paths are compiled only where the compiler can target them (GCC/clang on x86). */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FG_X86 1
#else
#define FG_X86 0
#endif

/* How many threads a kernel doing `work` units should use: 1 below `work_per_thread`, at most
 * fg_get_num_threads(), and 1 without OpenMP. Deciding before entering a parallel region keeps
 * small calls off the thread pool entirely. */
int fg_threads_for(double work, double work_per_thread);

/* The data caches this CPU offers one core, in bytes: L1 data, L2, and the core's share of L3 (the
L3 size over the threads sharing it). Read once, from CPUID where it says (leaf 4 on Intel,
0x8000001D on AMD), else from sysconf, else typical values; each clamped to a sane range, since
virtual machines report odd numbers (this one's sysconf says 320 MiB of L3). l1_ways is L1's
associativity (8 when unknown). */
struct fg_caches { int64_t l1, l1_ways, l2, l3_per_core; };
struct fg_caches fg_cache_sizes(void);

/* A 64-byte aligned scratch buffer of at least `bytes`, owned by the calling thread and reused by
 * its next call (it only grows), or NULL if memory ran out. One per thread: one kernel at a time. */
void *fg_workspace(size_t bytes);

/* ---- one body, compiled per path -------------------------------------------------------------
 * FG_PATHS(name, params, args) turns an always-inline FG(name_body) into FG(name_avx512),
 * FG(name_avx2) and FG(name_portable), each compiled (and auto-vectorised) for its path, and
 * FG(name_on_path), which calls the one fg_kernel_path() names. Used inside the *.inc files. */
#define FG_INLINE static inline __attribute__((always_inline))
/* __builtin_shufflevector: gcc 12 and clang; older compilers (manylinux images) take scalar loops */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define FG_HAS_SHUFFLEVECTOR 1
#endif
#endif
#ifndef FG_HAS_SHUFFLEVECTOR
#define FG_HAS_SHUFFLEVECTOR 0
#endif
#if FG_X86
#define FG_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define FG_TARGET_AVX512 __attribute__((target("avx512f,fma")))
#define FG_PATHS(name, params, args)                                                                   \
    static FG_TARGET_AVX512 void FG(name##_avx512) params { FG(name##_body) args; }                   \
    static FG_TARGET_AVX2 void FG(name##_avx2) params { FG(name##_body) args; }                       \
    static void FG(name##_portable) params { FG(name##_body) args; }                                  \
    static void FG(name##_on_path) params {                                                           \
        switch (fg_kernel_path()) {                                                                   \
        case FG_PATH_AVX512: FG(name##_avx512) args; break;                                           \
        case FG_PATH_AVX2: FG(name##_avx2) args; break;                                               \
        default: FG(name##_portable) args; break;                                                     \
        }                                                                                             \
    }
#else
#define FG_PATHS(name, params, args)                                                                   \
    static void FG(name##_on_path) params { FG(name##_body) args; }
#endif

/* d[i] (+)= expr for i in [0, n): added into d when accumulate, else written, so that a first gradient
 * needs no zero-filled buffer (a written -0.0 stays -0.0: PyTorch too takes a first gradient as it comes). */
#define FG_GRAD_LOOP(d, accumulate, n, expr)                                                          \
    do {                                                                                              \
        if (accumulate) for (int64_t i = 0; i < (n); i++) (d)[i] += (expr);                           \
        else for (int64_t i = 0; i < (n); i++) (d)[i] = (expr);                                       \
    } while (0)

/* FG_COLUMN_BLOCKS(lo, hi, j, w, stmt): runs stmt over columns [lo, hi) in blocks [j, j + w) of
 * w = 16, 8, 4, 2 or 1 columns, w a constant in each, so that sums over rows kept per column stay in
 * registers from row to row (out[j] += ... row after row waits each time on the row before's store).
 * Constant widths because gcc makes no masked vector of a narrower block out of plain C. */
#define FG_COLUMN_BLOCKS(lo, hi, j, w, stmt)                                                           \
    do {                                                                                              \
        for (int64_t j = (lo); j < (hi);) {                                                           \
            const int64_t fg_left_ = (hi) - j;                                                        \
            if (fg_left_ >= 16) { const int w = 16; stmt; j += w; }                                   \
            else if (fg_left_ >= 8) { const int w = 8; stmt; j += w; }                                \
            else if (fg_left_ >= 4) { const int w = 4; stmt; j += w; }                                \
            else if (fg_left_ >= 2) { const int w = 2; stmt; j += w; }                                \
            else { const int w = 1; stmt; j += w; }                                                   \
        }                                                                                             \
    } while (0)

/* Memory-bound loops: below this many elements per thread a second thread does not pay. */
#define FG_ELEMENTS_PER_THREAD 32768

/* ---- parallel regions -----------------------------------------------------------------------
 * FG_PARALLEL_FOR(nt, how, i, first, end, body): `for (int64_t i = first; i < end; i++) body`, the
 * iterations shared out among nt threads as OpenMP's `schedule how` says (parenthesised: (static, 1)).
 * Every threaded loop in csrc/ is one of these. With nt == 1 no region is opened at all: a region
 * opened with `if (0)` still counts as one, and a team started inside it (a GEMM inside a one-slice
 * convolution) is then a nested team, for which libgomp creates fresh threads on every call.
 *
 * The threads check in with each other (fg_team_*). On a shared machine the OS sometimes wakes a
 * worker onto the very CPU its master is running on, and the master then spins at the region's
 * closing barrier while the worker waits for that CPU: 4-12 ms lost, until the scheduler's time slice
 * ends, in a training step of 1 ms. So a master done with its share waits for its workers with
 * sched_yield, which hands such a worker the CPU, and a worker that finds itself on its master's CPU
 * moves off it for good (it keeps the other CPUs). */
struct fg_team { int master_cpu, done; };
struct fg_team fg_team_begin(void);
void fg_team_arrive(struct fg_team *team);   /* every thread, first */
void fg_team_leave(struct fg_team *team);    /* every thread, last: the master returns once all have */
#ifdef _OPENMP
#define FG_PRAGMA(x) _Pragma(#x)
#define FG_PARALLEL_FOR(nt, how, i, first, end, ...)                                                  \
    do {                                                                                              \
        if ((nt) > 1) {                                                                               \
            struct fg_team fg_team_ = fg_team_begin();                                                \
            FG_PRAGMA(omp parallel num_threads(nt))                                                   \
            {                                                                                         \
                fg_team_arrive(&fg_team_);                                                            \
                FG_PRAGMA(omp for schedule how nowait)                                                \
                for (int64_t i = (first); i < (end); i++) { __VA_ARGS__ }                             \
                fg_team_leave(&fg_team_);                                                             \
            }                                                                                         \
        } else {                                                                                      \
            for (int64_t i = (first); i < (end); i++) { __VA_ARGS__ }                                 \
        }                                                                                             \
    } while (0)
#else
#define FG_PARALLEL_FOR(nt, how, i, first, end, ...)                                                  \
    do {                                                                                              \
        (void)(nt);                                                                                   \
        for (int64_t i = (first); i < (end); i++) { __VA_ARGS__ }                                     \
    } while (0)
#endif

/* FG_SPLIT(n, work_per_thread, lo, hi, stmt): runs stmt over [lo, hi) slices of [0, n), on several
 * threads when n is large enough to pay for them (slices are multiples of 64 elements, so cache
 * lines are never shared). stmt must not depend on where the slices fall. */
#define FG_SPLIT(n, work_per_thread, lo, hi, stmt)                                                     \
    do {                                                                                              \
        const int64_t fg_n_ = (n);                                                                    \
        const int fg_nt_ = fg_threads_for((double)fg_n_, (work_per_thread));                          \
        if (fg_nt_ == 1) {                                                                            \
            const int64_t lo = 0, hi = fg_n_;                                                         \
            stmt;                                                                                     \
        } else {                                                                                      \
            const int64_t fg_part_ = ((fg_n_ + fg_nt_ - 1) / fg_nt_ + 63) & ~(int64_t)63;             \
            FG_PARALLEL_FOR(fg_nt_, (static, 1), fg_t_, 0, fg_nt_,                                    \
                const int64_t lo = fg_t_ * fg_part_ < fg_n_ ? fg_t_ * fg_part_ : fg_n_;               \
                const int64_t hi = lo + fg_part_ < fg_n_ ? lo + fg_part_ : fg_n_;                     \
                if (lo < hi) { stmt; });                                                              \
        }                                                                                             \
    } while (0)

#endif /* FASTGRAD_CPU_H */

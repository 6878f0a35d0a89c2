/* cpu.c: which kernel path runs, and on how many threads.
 *
 * The path is chosen once, on first use, as the best this CPU supports (__builtin_cpu_supports also
 * checks that the OS saves the wider registers); fg_set_kernel_path() may force another one the CPU
 * supports (tests run every path this way). fastgrad/backend.py reads FASTGRAD_KERNEL_PATH and the
 * thread-count variables at import and calls the setters below.
 */
#ifdef __linux__
#define _GNU_SOURCE   /* sched_getcpu, sched_setaffinity */
#endif
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include "fastgrad.h"
#include "cpu.h"
#if FG_X86
#include <cpuid.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

static int fg_path = -1;            /* -1: not chosen yet */
static int64_t fg_num_threads = 0;  /* 0: not set: every core this process may run on */

int fg_cpu_supports(int path) {
    switch (path) {
    case FG_PATH_PORTABLE: return 1;
#if FG_X86
    case FG_PATH_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FG_PATH_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    default: return 0;
    }
}

int fg_kernel_path(void) {
    if (fg_path < 0) {   /* a race here is benign: every caller computes the same answer */
        int best = FG_PATH_PORTABLE;
        for (int p = FG_PATH_AVX2; p <= FG_PATH_AVX512; p++)
            if (fg_cpu_supports(p)) best = p;
        fg_path = best;
    }
    return fg_path;
}

int fg_set_kernel_path(int path) {
    if (!fg_cpu_supports(path)) return -1;
    fg_path = path;
    return 0;
}

int fg_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

void fg_set_num_threads(int64_t n) { fg_num_threads = n < 1 ? 1 : n > FG_MAX_THREADS ? FG_MAX_THREADS : n; }

int64_t fg_get_num_threads(void) {
#ifdef _OPENMP
    return fg_num_threads > 0 ? fg_num_threads : omp_get_num_procs();
#else
    return 1;
#endif
}

int fg_threads_for(double work, double work_per_thread) {
    int64_t most = fg_get_num_threads();
    if (most <= 1 || work < 2 * work_per_thread) return 1;
    double fit = work / work_per_thread;
    return (int)(fit < (double)most ? fit : (double)most);
}

/* ---- parallel regions (cpu.h: FG_PARALLEL_FOR says why) ---------------------------------------- */
static int fg_current_cpu(void) {
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

#ifdef __linux__
static cpu_set_t fg_allowed_cpus;   /* the CPUs a worker may run on before it first moves */
static pthread_once_t fg_allowed_once = PTHREAD_ONCE_INIT;
static void fg_read_allowed_cpus(void) {
    if (sched_getaffinity(0, sizeof fg_allowed_cpus, &fg_allowed_cpus)) CPU_ZERO(&fg_allowed_cpus);
}
#endif

/* The calling worker goes to any CPU it was allowed but `cpu` (if there is one). */
static void fg_move_off(int cpu) {
#ifdef __linux__
    pthread_once(&fg_allowed_once, fg_read_allowed_cpus);
    cpu_set_t others = fg_allowed_cpus;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) > 0) sched_setaffinity(0, sizeof others, &others);
#else
    (void)cpu;
#endif
}

struct fg_team fg_team_begin(void) {
    struct fg_team team = {fg_current_cpu(), 0};
    return team;
}

#ifdef _OPENMP
void fg_team_arrive(struct fg_team *team) {
    if (team->master_cpu >= 0 && omp_get_thread_num() > 0 && fg_current_cpu() == team->master_cpu)
        fg_move_off(team->master_cpu);
}

void fg_team_leave(struct fg_team *team) {
    __atomic_add_fetch(&team->done, 1, __ATOMIC_ACQ_REL);
    if (omp_get_thread_num() == 0)
        while (__atomic_load_n(&team->done, __ATOMIC_ACQUIRE) < omp_get_num_threads()) sched_yield();
}
#else
void fg_team_arrive(struct fg_team *team) { (void)team; }
void fg_team_leave(struct fg_team *team) { (void)team; }
#endif

/* ---- cache sizes --------------------------------------------------------------------------- */
static struct fg_caches fg_caches;
static pthread_once_t fg_caches_once = PTHREAD_ONCE_INIT;

static int64_t fg_clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

#if FG_X86
/* CPUID's deterministic cache parameters (Intel leaf 4, AMD leaf 0x8000001D, one format): for each
 * data or unified cache of levels 1-3, its size and how many logical CPUs share it. 0 if absent. */
static void fg_cpuid_caches(int64_t size[4], int64_t sharing[4], int64_t ways[4]) {
    unsigned eax, ebx, ecx, edx, leaf = 4;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
    if (ebx == 0x68747541 /* "Auth"enticAMD */) {
        if (!__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) || eax < 0x8000001D) return;
        leaf = 0x8000001D;
    } else if (eax < 4) {
        return;
    }
    for (unsigned sub = 0; sub < 16; sub++) {
        __cpuid_count(leaf, sub, eax, ebx, ecx, edx);
        const unsigned type = eax & 31, level = (eax >> 5) & 7;
        if (type == 0) break;                    /* no more caches */
        if (type == 2 || level < 1 || level > 3) continue;   /* instruction caches */
        ways[level] = ((ebx >> 22) & 1023) + 1;
        size[level] = ways[level] * (((ebx >> 12) & 1023) + 1) * ((ebx & 4095) + 1) * ((int64_t)ecx + 1);
        sharing[level] = ((eax >> 14) & 4095) + 1;
    }
}
#endif

static void fg_caches_init(void) {
    int64_t size[4] = {0}, sharing[4] = {1, 1, 1, 1}, ways[4] = {0};
#if FG_X86
    fg_cpuid_caches(size, sharing, ways);
#endif
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    const int names[4] = {0, _SC_LEVEL1_DCACHE_SIZE, _SC_LEVEL2_CACHE_SIZE, _SC_LEVEL3_CACHE_SIZE};
    for (int level = 1; level <= 3; level++)
        if (size[level] <= 0) {   /* glibc reports the whole L3, not a core's share: assume 8 share it */
            const long v = sysconf(names[level]);
            if (v > 0) size[level] = v, sharing[level] = level == 3 ? 8 : 1;
        }
#endif
    /* typical of x86 cores of the last decade, when nothing said otherwise */
    fg_caches.l1 = fg_clamp(size[1] > 0 ? size[1] : 32 << 10, 16 << 10, 256 << 10);
    fg_caches.l1_ways = fg_clamp(ways[1] > 0 ? ways[1] : 8, 2, 32);
    fg_caches.l2 = fg_clamp(size[2] > 0 ? size[2] : 256 << 10, 128 << 10, 8 << 20);
    /* an L3 shared by several cores: this core's part (no L3: count it as nothing beyond L2) */
    fg_caches.l3_per_core = fg_clamp(size[3] > 0 ? size[3] / (sharing[3] > 0 ? sharing[3] : 1) : fg_caches.l2,
                                     512 << 10, 64 << 20);
}

struct fg_caches fg_cache_sizes(void) {
    pthread_once(&fg_caches_once, fg_caches_init);
    return fg_caches;
}

void fg_cpu_caches(int64_t *out) {
    const struct fg_caches c = fg_cache_sizes();
    out[0] = c.l1, out[1] = c.l1_ways, out[2] = c.l2, out[3] = c.l3_per_core;
}

/* Kept per thread: a thread that ran a large product keeps its buffer for the next one rather than
 * paying malloc's page faults on every call. A pthread key frees it when the thread exits. */
struct fg_ws { void *p; size_t bytes; };
static pthread_key_t fg_ws_key;
static pthread_once_t fg_ws_once = PTHREAD_ONCE_INIT;

static void fg_ws_free(void *ws) {
    free(((struct fg_ws *)ws)->p);
    free(ws);
}
static void fg_ws_init(void) { pthread_key_create(&fg_ws_key, fg_ws_free); }

void *fg_workspace(size_t bytes) {
    pthread_once(&fg_ws_once, fg_ws_init);
    struct fg_ws *ws = pthread_getspecific(fg_ws_key);
    if (!ws) {
        if (!(ws = calloc(1, sizeof *ws))) return NULL;
        pthread_setspecific(fg_ws_key, ws);
    }
    if (bytes <= ws->bytes) return ws->p;
    size_t rounded = (bytes + 4095) & ~(size_t)4095;
    void *p = aligned_alloc(64, rounded);
    if (!p) return NULL;
    free(ws->p);
    ws->p = p, ws->bytes = rounded;
    return p;
}

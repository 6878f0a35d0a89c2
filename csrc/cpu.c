/* cpu.c: which kernel path runs, and on how many threads.
 *
 * The path is chosen once, on first use, as the best this CPU supports (__builtin_cpu_supports also
 * checks that the OS saves the wider registers); fg_set_kernel_path() may force another one the CPU
 * supports (tests run every path this way). fastgrad/backend.py reads FASTGRAD_KERNEL_PATH and the
 * thread-count variables at import and calls the setters below.
 */
#include <pthread.h>
#include <stdlib.h>
#include "fastgrad.h"
#include "cpu.h"
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

void fg_set_num_threads(int64_t n) { fg_num_threads = n < 1 ? 1 : n; }

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

/* gemm_small.c: the small products of small training steps, timed in C (no Python call overhead),
 * one thread, medians of thread CPU time over 15 rounds; and the kernels of a 64->32->10 MLP's SGD
 * step (bench/compile.py's "mlp" row) one by one. Build against the kernels library that
 * `pip install -e .` left in build/:
 *
 *   gcc -O2 -Icsrc bench/gemm_small.c build/libfastgrad_kernels.a -fopenmp -lm -lpthread -o /tmp/gemm_small
 *   /tmp/gemm_small [path]        path: 0 portable, 1 AVX2, 2 AVX-512 (default: the best)
 *
 * A shared machine is noisy: compare builds in one sitting, medians of several runs. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "fastgrad.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static float *buf(int64_t n) {
    float *p = aligned_alloc(64, (size_t)(n * 4 + 63) / 64 * 64);
    for (int64_t i = 0; i < n; i++) p[i] = (float)((i * 7919 % 1000) / 1000.0 - 0.5) * 0.1f;
    return p;
}
static double total;
#define TIME(label, expr)                                                                          \
    do {                                                                                           \
        double ts[15];                                                                             \
        for (int r = 0; r < 15; r++) {                                                             \
            const double t0 = now();                                                               \
            for (int q = 0; q < 20000; q++) { expr; }                                              \
            ts[r] = (now() - t0) / 20000 * 1e9;                                                    \
        }                                                                                          \
        qsort(ts, 15, sizeof ts[0], cmp);                                                          \
        printf("%-40s %7.0f ns\n", label, ts[7]);                                                  \
        total += ts[7];                                                                            \
    } while (0)

int main(int argc, char **argv) {
    fg_set_num_threads(1);
    if (argc > 1 && fg_set_kernel_path(atoi(argv[1]))) return fprintf(stderr, "path not supported\n"), 1;
    float *a = buf(1 << 16), *b = buf(1 << 16), *c = buf(1 << 16);
    /* m, n, k, trans_a, trans_b: the MLP's forward (x@W, x·wᵀ), dA = G·Bᵀ, dB = Aᵀ·G, dx = G·w, dw = Gᵀ·x */
    const int64_t shapes[][5] = {{32, 32, 64, 0, 0}, {32, 32, 64, 0, 1}, {32, 64, 32, 0, 1}, {32, 64, 32, 0, 0},
                                 {64, 32, 32, 1, 0}, {32, 64, 32, 1, 0}, {32, 10, 32, 0, 0}, {32, 10, 32, 0, 1},
                                 {32, 32, 10, 0, 1}, {32, 32, 10, 0, 0}, {32, 10, 32, 1, 0}, {10, 32, 32, 1, 0},
                                 {1, 1, 1, 0, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int64_t *s = shapes[i];
        char label[64];
        snprintf(label, sizeof label, "gemm %ldx%ldx%ld trans %ld%ld", (long)s[0], (long)s[1], (long)s[2], (long)s[3],
                 (long)s[4]);
        TIME(label, fg_gemm_f32(c, a, b, s[0], s[1], s[2], (int)s[3], (int)s[4], 0));
    }
    total = 0;
    printf("-- the kernels of a 64->32->10 MLP step, batch 32 (nn.Linear, cross-entropy, SGD momentum)\n");
    float *x = buf(2048), *w1 = buf(2048), *b1 = buf(32), *h = buf(1024), *w2 = buf(320), *b2 = buf(10);
    float *logits = buf(320), *probs = buf(320), *dlogits = buf(320), *dh = buf(1024), *dw1 = buf(2048);
    float *db1 = buf(32), *dpre = buf(1024), *dw2 = buf(320), *db2 = buf(10), *mom = buf(2048), loss[1], dloss[1] = {1};
    int64_t targets[32];
    for (int i = 0; i < 32; i++) targets[i] = i % 10;
    double lr = 0.01, step = 1;
    TIME("linear_relu 32x64->32", fg_linear_relu_f32(h, x, w1, b1, 32, 64, 32));
    TIME("linear 32x32->10", fg_linear_f32(logits, h, w2, b2, 32, 32, 10));
    TIME("cross_entropy 32x10", fg_cross_entropy_f32(loss, probs, logits, targets, NULL, -100, 0.0, 1, 32, 10));
    TIME("cross_entropy_backward", fg_cross_entropy_backward_f32(dlogits, dloss, probs, targets, NULL, -100, 0.0, 1,
                                                                 32, 10));
    TIME("linear_backward 32x32->10", fg_linear_backward_f32(dh, dw2, db2, dlogits, h, w2, 32, 32, 10, 0, 0));
    TIME("linear_relu_backward 32x64->32, no dx",
         fg_linear_relu_backward_f32(NULL, dw1, db1, dpre, dh, h, x, w1, 32, 64, 32, 0, 0));
    TIME("sgd, 4 parameters", {
        fg_sgd_f32(w1, mom, dw1, &lr, 0.9, 0, 0, 0, 0, &step, 2048);
        fg_sgd_f32(b1, mom, db1, &lr, 0.9, 0, 0, 0, 0, &step, 32);
        fg_sgd_f32(w2, mom, dw2, &lr, 0.9, 0, 0, 0, 0, &step, 320);
        fg_sgd_f32(b2, mom, db2, &lr, 0.9, 0, 0, 0, 0, &step, 10);
    });
    printf("%-40s %7.0f ns\n", "step total", total);
    return 0;
}

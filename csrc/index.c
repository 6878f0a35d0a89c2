/* index.c: indexing kernels that serve every element type by moving bytes (elem_size 1, 4 or 8):
 * the gather/scatter of rows at precomputed offsets behind advanced indexing (index arrays, masks),
 * nonzero and one_hot. Basic indexing (ints, slices, None, ...) is movement.c's strided copy.
 * Offsets count elements. Python computes and checks them; the kernels trust them.
 * The float gradient (the scatter-add) is per dtype, in index.inc. */
#include <stdint.h>
#include <string.h>
#include "fastgrad.h"
#include "cpu.h"

/* One element of elem_size bytes; the fixed-size memcpy compiles to one load and store. */
static inline void fg_move(char *out, const char *src, int64_t elem_size) {
    switch (elem_size) {
    case 8: memcpy(out, src, 8); break;
    case 4: memcpy(out, src, 4); break;
    default: memcpy(out, src, 1); break;
    }
}

void fg_gather(void *out, const void *src, int64_t elem_size, const int64_t *offsets, int64_t n, int64_t row) {
    const size_t bytes = (size_t)(row * elem_size);
    char *o = out;
    const char *s = src;
    if (row == 1) {
        FG_SPLIT(n, FG_ELEMENTS_PER_THREAD, lo, hi,
                 for (int64_t i = lo; i < hi; i++) fg_move(o + i * elem_size, s + offsets[i] * elem_size, elem_size));
        return;
    }
    FG_SPLIT(n, FG_ELEMENTS_PER_THREAD / (row ? row : 1) + 1, lo, hi,
             for (int64_t i = lo; i < hi; i++) memcpy(o + i * bytes, s + offsets[i] * elem_size, bytes));
}

/* Serial in i, so that of duplicate offsets the last write wins, whatever the thread count. */
void fg_scatter(void *dst, const void *src, int64_t elem_size, const int64_t *offsets, int64_t n, int64_t row) {
    const size_t bytes = (size_t)(row * elem_size);
    for (int64_t i = 0; i < n; i++)
        memcpy((char *)dst + offsets[i] * elem_size, (const char *)src + i * bytes, bytes);
}

static inline int fg_is_nonzero(const void *p, int type, int64_t i) {
    switch (type) {
    case FG_F32: return ((const float *)p)[i] != 0;
    case FG_F64: return ((const double *)p)[i] != 0;
    case FG_I64: return ((const int64_t *)p)[i] != 0;
    default: return ((const uint8_t *)p)[i] != 0;
    }
}

int64_t fg_count_nonzero(const void *src, int type, int64_t n) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) count += fg_is_nonzero(src, type, i);
    return count;
}

void fg_nonzero(int64_t *out, const void *src, int type, const int64_t *shape, int64_t ndim, int64_t n) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!fg_is_nonzero(src, type, i)) continue;
        for (int64_t d = ndim - 1, rest = i; d >= 0; d--) {   /* i's row-major coordinates */
            out[k * ndim + d] = rest % shape[d];
            rest /= shape[d];
        }
        k++;
    }
}

void fg_one_hot(int64_t *out, const int64_t *index, int64_t n, int64_t classes) {
    memset(out, 0, (size_t)(n * classes) * sizeof(int64_t));
    for (int64_t i = 0; i < n; i++) out[i * classes + index[i]] = 1;
}

int fg_check_range_i64(const int64_t *x, int64_t n, int64_t lo, int64_t hi, int64_t allowed) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad |= (x[i] < lo || x[i] >= hi) && x[i] != allowed;   /* no branch: vectorises */
    return bad;
}

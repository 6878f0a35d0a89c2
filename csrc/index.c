/* index.c: indexing kernels that serve every element type by moving bytes (elem_size 1, 4 or 8):
 * the strided copy behind basic indexing (ints, slices, None, ...), the gather/scatter of rows at
 * precomputed offsets behind advanced indexing (index arrays, masks), nonzero and one_hot.
 * Offsets and strides count elements. Python computes and checks them; the kernels trust them.
 * The float gradients (strided add, scatter-add) are per dtype, in index.inc. */
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

/* Recurses over the leading dimensions; the innermost one is one memcpy when both sides are contiguous. */
static void fg_copy_strided_dim(char *out, const char *src, int64_t es, const int64_t *shape, const int64_t *os,
                                const int64_t *ss, int64_t ndim) {
    if (ndim == 1) {
        if (os[0] == 1 && ss[0] == 1) memcpy(out, src, (size_t)(shape[0] * es));
        else
            for (int64_t i = 0; i < shape[0]; i++) fg_move(out + i * os[0] * es, src + i * ss[0] * es, es);
        return;
    }
    for (int64_t i = 0; i < shape[0]; i++)
        fg_copy_strided_dim(out + i * os[0] * es, src + i * ss[0] * es, es, shape + 1, os + 1, ss + 1, ndim - 1);
}

void fg_copy_strided(void *out, const void *src, int64_t elem_size, const int64_t *shape, const int64_t *out_strides,
                     const int64_t *src_strides, int64_t ndim) {
    if (ndim == 0) { fg_move(out, src, elem_size); return; }
    if (ndim == 1) { fg_copy_strided_dim(out, src, elem_size, shape, out_strides, src_strides, 1); return; }
    int64_t inner = 1;
    for (int64_t d = 1; d < ndim; d++) inner *= shape[d];
    if (inner == 0) return;
    /* threads split the outermost dimension: each writes its own part of out */
    FG_SPLIT(shape[0], FG_ELEMENTS_PER_THREAD / inner + 1, lo, hi,
             for (int64_t i = lo; i < hi; i++)
                 fg_copy_strided_dim((char *)out + i * out_strides[0] * elem_size,
                                     (const char *)src + i * src_strides[0] * elem_size, elem_size, shape + 1,
                                     out_strides + 1, src_strides + 1, ndim - 1));
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

/* movement.c: the data movement behind the shape ops (transpose, permute, expand, repeat, cat,
 * stack, split, narrow, flip, tril/triu), for every element type.
 *
 * fastgrad's tensors are contiguous and row-major (python/fastgrad/__init__.py), so an op that
 * reorders elements copies them. One strided copy serves every such op: it moves elements of any
 * size as bytes, reading and writing each side through its own element strides. Its float twins
 * (fg_strided_add_f32/f64) add instead of copying: the backward of the same ops. One body serves
 * all of them; `mode` (a constant in each instantiation) says how one element moves.
 *
 * Before moving, dimensions of size 1 are dropped and neighbours that are contiguous on both sides
 * merged, so most calls become long rows (memcpy) or a batch of 2-D transposes, which run in
 * FG_TILE x FG_TILE tiles (8 x 8 was 2-4x faster than 16 or 32 on 1024² and 4096x512 float32
 * transposes, AMD EPYC: power-of-two strides put a taller tile's rows into the same cache sets). Threads split the output; each element is written once by one thread, so the
 * results are the same bits for any thread count.
 */
#include <stdint.h>
#include <string.h>
#include "fastgrad.h"
#include "cpu.h"

/* How one element moves: copied as 1, 4 or 8 bytes, or added as float or double. */
enum { MOVE_ADD_F32 = -4, MOVE_ADD_F64 = -8 };

/* A tensor with more than 63 dimensions longer than 1 has at least 2^64 elements: after dropping
 * the size-1 dimensions every real layout fits. */
#define FG_MAX_DIMS 64
/* Square tiles of a transpose: a whole tile's loops have constant bounds and unroll. */
#define FG_TILE 8

struct fg_layout {
    int64_t ndim, shape[FG_MAX_DIMS], os[FG_MAX_DIMS], is[FG_MAX_DIMS];
};

/* Drops size-1 dimensions and merges each dimension into the one before it where both sides are
 * contiguous across the two. Returns 0 if the tensor has no elements. */
static int fg_coalesce(struct fg_layout *l, const int64_t *shape, const int64_t *os, const int64_t *is, int64_t ndim) {
    l->ndim = 0;
    for (int64_t d = 0; d < ndim; d++) {
        if (shape[d] == 0) return 0;
        if (shape[d] == 1) continue;
        const int64_t n = l->ndim;
        if (n > 0 && l->os[n - 1] == os[d] * shape[d] && l->is[n - 1] == is[d] * shape[d]) {
            l->shape[n - 1] *= shape[d];
            l->os[n - 1] = os[d];
            l->is[n - 1] = is[d];
        } else {
            l->shape[n] = shape[d];
            l->os[n] = os[d];
            l->is[n] = is[d];
            l->ndim = n + 1;
        }
    }
    return 1;
}

/* The element offsets (out, in) of the index'th element of the first `ndim` dimensions, counted
 * row-major, and that index's digits (a cursor that fg_step advances). */
static void fg_seek(const struct fg_layout *l, int64_t ndim, int64_t index, int64_t *digit, int64_t *o, int64_t *i) {
    *o = *i = 0;
    for (int64_t d = ndim - 1; d >= 0; d--) {
        digit[d] = index % l->shape[d];
        index /= l->shape[d];
        *o += digit[d] * l->os[d];
        *i += digit[d] * l->is[d];
    }
}

static void fg_step(const struct fg_layout *l, int64_t ndim, int64_t *digit, int64_t *o, int64_t *i) {
    for (int64_t d = ndim - 1; d >= 0; d--) {
        *o += l->os[d];
        *i += l->is[d];
        if (++digit[d] < l->shape[d]) return;
        *o -= l->os[d] * l->shape[d];
        *i -= l->is[d] * l->shape[d];
        digit[d] = 0;
    }
}

/* n elements along one dimension: out[j * os] (= or +=) in[j * is]. */
FG_INLINE void fg_move_row(char *out, const char *in, int mode, int64_t n, int64_t os, int64_t is) {
    if (mode == MOVE_ADD_F32) {
        float *o = (float *)out;
        const float *x = (const float *)in;
        if (os == 1 && is == 1) for (int64_t j = 0; j < n; j++) o[j] += x[j];
        else for (int64_t j = 0; j < n; j++) o[j * os] += x[j * is];
    } else if (mode == MOVE_ADD_F64) {
        double *o = (double *)out;
        const double *x = (const double *)in;
        if (os == 1 && is == 1) for (int64_t j = 0; j < n; j++) o[j] += x[j];
        else for (int64_t j = 0; j < n; j++) o[j * os] += x[j * is];
    } else if (os == 1 && is == 1) {
        const size_t bytes = (size_t)(n * mode);
        if (bytes > 64) {
            memcpy(out, in, bytes);
        } else {   /* a short row (an attention head's 64 bytes): the call to libc's memcpy cost more than the copy */
            size_t b = 0;
            for (; b + 16 <= bytes; b += 16) memcpy(out + b, in + b, 16);
            for (; b < bytes; b++) out[b] = in[b];
        }
    } else if (os == 1 && is == -1) {   /* flip; constant strides let these loops vectorise */
        for (int64_t j = 0; j < n; j++) memcpy(out + j * mode, in - j * mode, (size_t)mode);
    } else if (os == -1 && is == 1) {   /* flip's gradient */
        for (int64_t j = 0; j < n; j++) memcpy(out - j * mode, in + j * mode, (size_t)mode);
    } else if (os == 1 && is == 0) {   /* expand */
        for (int64_t j = 0; j < n; j++) memcpy(out + j * mode, in, (size_t)mode);
    } else {   /* memcpy of a constant size compiles to one load and one store */
        for (int64_t j = 0; j < n; j++) memcpy(out + j * os * mode, in + j * is * mode, (size_t)mode);
    }
}

/* Elements [lo, hi) of the output, row by row along the last dimension. */
FG_INLINE void fg_move_rows(char *out, const char *in, int mode, int64_t size, const struct fg_layout *l, int64_t lo,
                            int64_t hi) {
    const int64_t last = l->ndim - 1, len = l->shape[last], os = l->os[last], is = l->is[last];
    int64_t digit[FG_MAX_DIMS], o, i;
    fg_seek(l, last, lo / len, digit, &o, &i);
    for (int64_t at = lo, col = lo % len; at < hi; col = 0) {
        const int64_t n = len - col < hi - at ? len - col : hi - at;
        fg_move_row(out + (o + col * os) * size, in + (i + col * is) * size, mode, n, os, is);
        at += n;
        if (last > 0) {   /* whole rows along the next dimension in a plain loop, without the cursor's walk */
            const int64_t d = last - 1, od = l->os[d], id = l->is[d];
            for (; at + len <= hi && digit[d] + 1 < l->shape[d]; at += len) {
                digit[d]++, o += od, i += id;
                fg_move_row(out + o * size, in + i * size, mode, len, os, is);
            }
        }
        fg_step(l, last, digit, &o, &i);
    }
}

/* The transpose case: the last dimension is contiguous in the output and dimension k in the input.
 * Units are rows of dimension k (for each index of the other dimensions, `rest`), each moved over
 * the whole last dimension; runs of up to FG_TILE of them are moved tile by tile. */
FG_INLINE void fg_move_tiles(char *out, const char *in, int mode, int64_t size, const struct fg_layout *l,
                             const struct fg_layout *rest, int64_t k, int64_t lo, int64_t hi) {
    const int64_t last = l->ndim - 1, len = l->shape[last], rows = l->shape[k];
    const int64_t osk = l->os[k], isl = l->is[last];
    int64_t digit[FG_MAX_DIMS];
    for (int64_t u = lo; u < hi;) {
        int64_t o, i;
        fg_seek(rest, rest->ndim, u / rows, digit, &o, &i);
        const int64_t r0 = u % rows;
        int64_t r1 = r0 + FG_TILE < rows ? r0 + FG_TILE : rows;
        if (r1 - r0 > hi - u) r1 = r0 + (hi - u);
        for (int64_t j0 = 0; j0 < len; j0 += FG_TILE) {
            const int64_t j1 = j0 + FG_TILE < len ? j0 + FG_TILE : len;
            char *ot = out + (o + r0 * osk + j0) * size;
            const char *it = in + (i + r0 + j0 * isl) * size;
            if (mode > 0 && r1 - r0 == FG_TILE && j1 - j0 == FG_TILE) {   /* a whole tile: constant bounds unroll */
                for (int64_t r = 0; r < FG_TILE; r++)
                    for (int64_t j = 0; j < FG_TILE; j++)
                        memcpy(ot + (r * osk + j) * size, it + (r + j * isl) * size, (size_t)mode);
            } else {
                for (int64_t r = 0; r < r1 - r0; r++)
                    fg_move_row(ot + r * osk * size, it + r * size, mode, j1 - j0, 1, isl);
            }
        }
        u += r1 - r0;
    }
}

/* Every element moves on its own, so the walk may take the dimensions in any order: the one the
 * output is contiguous along goes last (a gradient written back through a transpose's strides). */
static void fg_output_contiguous_last(struct fg_layout *l) {
    for (int64_t d = 0; d + 1 < l->ndim; d++) {
        if (l->os[d] != 1 || l->os[l->ndim - 1] == 1) continue;
        const int64_t shape = l->shape[d], os = l->os[d], is = l->is[d];
        for (int64_t e = d; e + 1 < l->ndim; e++) {
            l->shape[e] = l->shape[e + 1];
            l->os[e] = l->os[e + 1];
            l->is[e] = l->is[e + 1];
        }
        l->shape[l->ndim - 1] = shape;
        l->os[l->ndim - 1] = os;
        l->is[l->ndim - 1] = is;
        return;
    }
}

FG_INLINE void fg_strided_move(void *out_, const void *in_, int mode, const int64_t *shape, const int64_t *out_strides,
                               const int64_t *in_strides, int64_t out_offset, int64_t in_offset, int64_t ndim) {
    const int64_t size = mode < 0 ? -mode : mode;
    char *out = (char *)out_ + out_offset * size;
    const char *in = (const char *)in_ + in_offset * size;
    struct fg_layout l;
    if (!fg_coalesce(&l, shape, out_strides, in_strides, ndim)) return;
    if (l.ndim == 0) { fg_move_row(out, in, mode, 1, 1, 1); return; }
    fg_output_contiguous_last(&l);
    const int64_t last = l.ndim - 1, len = l.shape[last];
    int64_t k = -1;   /* the input's contiguous dimension, when the output's is another one */
    if (l.os[last] == 1 && l.is[last] != 1 && l.is[last] != 0)
        for (int64_t d = 0; d < last; d++)
            if (l.is[d] == 1) k = d;
    if (k < 0) {
        int64_t total = 1;
        for (int64_t d = 0; d < l.ndim; d++) total *= l.shape[d];
        FG_SPLIT(total, FG_ELEMENTS_PER_THREAD, lo, hi, fg_move_rows(out, in, mode, size, &l, lo, hi));
        return;
    }
    struct fg_layout rest = {0};   /* every dimension but k and the last */
    int64_t units = l.shape[k];
    for (int64_t d = 0; d < last; d++) {
        if (d == k) continue;
        rest.shape[rest.ndim] = l.shape[d];
        rest.os[rest.ndim] = l.os[d];
        rest.is[rest.ndim] = l.is[d];
        rest.ndim++;
        units *= l.shape[d];
    }
    FG_SPLIT(units, FG_ELEMENTS_PER_THREAD / len + 1, lo, hi, fg_move_tiles(out, in, mode, size, &l, &rest, k, lo, hi));
}

void fg_strided_copy(void *out, const void *in, int64_t elem_size, const int64_t *shape, const int64_t *out_strides,
                     const int64_t *in_strides, int64_t out_offset, int64_t in_offset, int64_t ndim) {
    /* each case its own instantiation, with the element size a constant */
    switch (elem_size) {
    case 1: fg_strided_move(out, in, 1, shape, out_strides, in_strides, out_offset, in_offset, ndim); break;
    case 4: fg_strided_move(out, in, 4, shape, out_strides, in_strides, out_offset, in_offset, ndim); break;
    default: fg_strided_move(out, in, 8, shape, out_strides, in_strides, out_offset, in_offset, ndim); break;
    }
}

void fg_strided_add_f32(float *out, const float *in, const int64_t *shape, const int64_t *out_strides,
                        const int64_t *in_strides, int64_t out_offset, int64_t in_offset, int64_t ndim) {
    fg_strided_move(out, in, MOVE_ADD_F32, shape, out_strides, in_strides, out_offset, in_offset, ndim);
}

void fg_strided_add_f64(double *out, const double *in, const int64_t *shape, const int64_t *out_strides,
                        const int64_t *in_strides, int64_t out_offset, int64_t in_offset, int64_t ndim) {
    fg_strided_move(out, in, MOVE_ADD_F64, shape, out_strides, in_strides, out_offset, in_offset, ndim);
}

/* ---- tril / triu ----------------------------------------------------------------------------- */
/* Rows [lo, hi) of the batch: row r keeps columns j with j - i <= diagonal (tril) or j - i >= diagonal
 * (triu), i = r % rows, and clears the others. */
static void fg_triangle_rows(char *out, const char *in, size_t size, int upper, int64_t diagonal, int64_t rows,
                             int64_t cols, int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; r++) {
        int64_t edge = r % rows + diagonal + (upper ? 0 : 1);
        edge = edge < 0 ? 0 : edge > cols ? cols : edge;
        const int64_t keep_lo = upper ? edge : 0, keep_hi = upper ? cols : edge;
        char *o = out + (size_t)(r * cols) * size;
        const char *x = in + (size_t)(r * cols) * size;
        memset(o, 0, (size_t)keep_lo * size);
        if (o != x) memcpy(o + keep_lo * size, x + keep_lo * size, (size_t)(keep_hi - keep_lo) * size);
        memset(o + keep_hi * size, 0, (size_t)(cols - keep_hi) * size);
    }
}

void fg_triangle(void *out, const void *in, int64_t elem_size, int upper, int64_t diagonal, int64_t batch,
                 int64_t rows, int64_t cols) {
    /* beyond these every row is kept or cleared whole; clamping keeps i + diagonal from overflowing */
    if (diagonal > cols) diagonal = cols;
    if (diagonal < -rows) diagonal = -rows;
    FG_SPLIT(batch * rows, FG_ELEMENTS_PER_THREAD / (cols ? cols : 1) + 1, lo, hi,
             fg_triangle_rows((char *)out, (const char *)in, (size_t)elem_size, upper, diagonal, rows, cols, lo, hi));
}

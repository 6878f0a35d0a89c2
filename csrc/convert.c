/* convert.c: the kernels that serve every element type at once: casts between dtypes and fills.
 * One kernel with a type code per job, rather than one per (from, to) pair. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "fastgrad.h"
#include "cpu.h"

/* Element i of a buffer of type `type`, as double (exact for every int64 up to 2^53) or int64. */
static inline double fg_read_f(const void *p, int type, int64_t i) {
    switch (type) {
    case FG_F32: return ((const float *)p)[i];
    case FG_F64: return ((const double *)p)[i];
    case FG_I64: return (double)((const int64_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

/* float -> int64 truncates toward zero as C and PyTorch do; NaN and out-of-range values, which C
 * leaves undefined, become INT64_MIN (what x86's conversion instruction gives). */
static inline int64_t fg_to_i64(double x) {
    return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x : INT64_MIN;
}

#define FG_CAST_LOOP(OUT_T, EXPR)                                                                    \
    do {                                                                                             \
        OUT_T *o = (OUT_T *)out;                                                                     \
        FG_SPLIT(n, FG_ELEMENTS_PER_THREAD, lo, hi, for (int64_t i = lo; i < hi; i++) o[i] = (EXPR)); \
    } while (0)

void fg_cast(void *out, int out_type, const void *in, int in_type, int64_t n) {
    if (in_type == out_type) {   /* a copy: bytes as they are (NaN payloads too) */
        const size_t size = in_type == FG_F32 ? 4 : in_type == FG_BOOL ? 1 : 8;
        if (out != in)
            FG_SPLIT(n, FG_ELEMENTS_PER_THREAD, lo, hi,
                     memcpy((char *)out + lo * size, (const char *)in + lo * size, (size_t)(hi - lo) * size));
        return;
    }
    switch (out_type) {
    case FG_F32: FG_CAST_LOOP(float, (float)fg_read_f(in, in_type, i)); break;
    case FG_F64: FG_CAST_LOOP(double, fg_read_f(in, in_type, i)); break;
    case FG_I64:
        if (in_type == FG_BOOL) FG_CAST_LOOP(int64_t, ((const uint8_t *)in)[i]);
        else FG_CAST_LOOP(int64_t, fg_to_i64(fg_read_f(in, in_type, i)));
        break;
    default:   /* bool: nonzero (NaN included) is true */
        if (in_type == FG_I64) FG_CAST_LOOP(uint8_t, ((const int64_t *)in)[i] != 0);
        else FG_CAST_LOOP(uint8_t, fg_read_f(in, in_type, i) != 0);
        break;
    }
}

void fg_fill(void *out, int type, double value, int64_t ivalue, int64_t n) {
    switch (type) {
    case FG_F32: FG_CAST_LOOP(float, (float)value); break;
    case FG_F64: FG_CAST_LOOP(double, value); break;
    case FG_I64: FG_CAST_LOOP(int64_t, ivalue); break;
    default: FG_CAST_LOOP(uint8_t, ivalue != 0); break;
    }
}

void fg_range(void *out, int type, double start, double step, double end, int symmetric, int64_t n) {
    const int64_t half = n / 2;
#define FG_RANGE_VALUE ((symmetric && i >= half) ? end - (double)(n - 1 - i) * step : start + (double)i * step)
    switch (type) {
    case FG_F32: FG_CAST_LOOP(float, (float)FG_RANGE_VALUE); break;
    case FG_F64: FG_CAST_LOOP(double, FG_RANGE_VALUE); break;
    default: FG_CAST_LOOP(int64_t, fg_to_i64(FG_RANGE_VALUE)); break;
    }
#undef FG_RANGE_VALUE
}

void fg_eye(void *out, int type, int64_t n, int64_t m) {
    const int64_t size = n * m;
    switch (type) {
    case FG_F32: { float *o = out; FG_SPLIT(size, FG_ELEMENTS_PER_THREAD, lo, hi,
                   for (int64_t i = lo; i < hi; i++) o[i] = i / m == i % m); } break;
    case FG_F64: { double *o = out; FG_SPLIT(size, FG_ELEMENTS_PER_THREAD, lo, hi,
                   for (int64_t i = lo; i < hi; i++) o[i] = i / m == i % m); } break;
    case FG_I64: { int64_t *o = out; FG_SPLIT(size, FG_ELEMENTS_PER_THREAD, lo, hi,
                   for (int64_t i = lo; i < hi; i++) o[i] = i / m == i % m); } break;
    default: { uint8_t *o = out; FG_SPLIT(size, FG_ELEMENTS_PER_THREAD, lo, hi,
               for (int64_t i = lo; i < hi; i++) o[i] = i / m == i % m); } break;
    }
}

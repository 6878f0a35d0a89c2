/* kernels.c: instantiates every kernel body once per dtype.
 *
 * Each *.inc file is written once against two macros: T, the element type, and FG(name), which
 * spells the exported name fg_<name>_<f32|f64> that fastgrad.h declares. Static helpers are named
 * through FG too, so the two instantiations never collide.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "fastgrad.h"
#include "cpu.h"   /* FG_PATHS, FG_SPLIT: per-path bodies, threads */
#define FG_INTEGER 0   /* float instantiations first */
#define FG_BOOL8 0     /* bool (uint8_t) only for math.inc's compare and where */

#define T float
#define FG(name) fg_##name##_f32
#include "elementwise.inc"
#include "activation.inc"
#include "softmax.inc"
#include "matmul.inc"
#include "optim.inc"
#include "norm_act.inc"
#include "random.inc"
#include "math.inc"
#include "index.inc"
#include "conv.inc"
#include "pool.inc"
#include "pad.inc"
#include "upsample.inc"
#include "norm.inc"
#include "sort.inc"
#include "rnn.inc"
#include "loss.inc"
#include "rms_norm.inc"   /* (uses norm_act.inc's vector helpers) */
#undef T
#undef FG

#define T double
#define FG(name) fg_##name##_f64
#include "elementwise.inc"
#include "activation.inc"
#include "softmax.inc"
#include "matmul.inc"
#include "optim.inc"
#include "norm_act.inc"
#include "random.inc"
#include "math.inc"
#include "index.inc"
#include "conv.inc"
#include "pool.inc"
#include "pad.inc"
#include "upsample.inc"
#include "norm.inc"
#include "sort.inc"
#include "rnn.inc"
#include "loss.inc"
#include "rms_norm.inc"   /* (uses norm_act.inc's vector helpers) */
#undef T
#undef FG

/* int64: the forward binary ops, for integer tensors */
#undef FG_INTEGER
#define FG_INTEGER 1
#define T int64_t
#define FG(name) fg_##name##_i64
#include "elementwise.inc"
#include "math.inc"
#include "sort.inc"
#include "index.inc"   /* scatter_reduce only */
#undef T
#undef FG

/* bool: comparisons and where */
#undef FG_BOOL8
#define FG_BOOL8 1
#define T uint8_t
#define FG(name) fg_##name##_b8
#include "math.inc"
#undef T
#undef FG
#undef FG_BOOL8
#undef FG_INTEGER

/* plan.c: the captured-step executor (python/fastgrad/compile.py records the plan). Each step is one
 * kernel call through the dispatch table generated from fastgrad.h (plan_table.inc). */
#include <stdlib.h>
#include <string.h>

#include "fastgrad.h"
#include "plan_table.inc"

int64_t fg_plan_kernel_id(const char *name) {
    for (int64_t i = 0; i < PLAN_KERNELS; i++)
        if (strcmp(plan_names[i], name) == 0) return i;
    return -1;
}

const char *fg_plan_kernel_signature(int64_t id) {
    return id >= 0 && id < PLAN_KERNELS ? plan_signatures[id] : "";
}

/* How many pointer and other arguments a step's kernel takes, and which of its pointers it only reads. */
static void kernel_args(int64_t kernel, int64_t *pointers, int64_t *scalars, uint64_t *reads) {
    if (kernel == FG_PLAN_COPY) {   /* dst, src; bytes */
        *pointers = 2, *scalars = 1, *reads = 2;
    } else if (kernel == FG_PLAN_CHECK_RANGE) {   /* buffer; n, lo, hi, allowed */
        *pointers = 1, *scalars = 4, *reads = 1;
    } else {
        *pointers = plan_arg_counts[kernel][0], *scalars = plan_arg_counts[kernel][1];
        *reads = plan_const_pointers[kernel];
    }
}

static int valid_kernel(int64_t kernel) {
    return kernel == FG_PLAN_COPY || kernel == FG_PLAN_CHECK_RANGE || (kernel >= 0 && kernel < PLAN_KERNELS);
}

int64_t fg_plan_layout(fg_plan_step *steps, const int64_t *kernels, int64_t n, void **pointers, fg_plan_arg *scalars) {
    for (int64_t i = 0; i < n; i++) {
        if (!valid_kernel(kernels[i])) return i;
        int64_t np, ns;
        uint64_t reads;
        kernel_args(kernels[i], &np, &ns, &reads);
        steps[i] = (fg_plan_step){kernels[i], pointers, scalars, kernels[i] >= 0 && plan_signatures[kernels[i]][0] == 's'};
        pointers += np, scalars += ns;
    }
    return -1;
}

static int by_value(const void *a, const void *b) {   /* int64_t pairs, by their first */
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t fg_plan_arena(int64_t *offset, int64_t *owner_of, int64_t *moved_bytes, const fg_plan_step *steps, int64_t n,
                      const uint64_t *starts, const uint64_t *bytes, const uint8_t *movable, int64_t owners,
                      int64_t *scratch) {
    int64_t *first = scratch, *last = first + owners, *written_first = last + owners, *order = written_first + owners;
    int64_t *slot_at = order + 2 * owners, *slot_bytes = slot_at + owners, *slot_last = slot_bytes + owners;
    int64_t *by_start = slot_last + owners;   /* (start, owner) pairs, by start */
    for (int64_t o = 0; o < owners; o++) {
        first[o] = -1, last[o] = -1, offset[o] = -1;
        by_start[2 * o] = (int64_t)starts[o], by_start[2 * o + 1] = o;   /* (addresses are below 2^63) */
    }
    qsort(by_start, (size_t)owners, 2 * sizeof *by_start, by_value);
    /* each pointer's owner: the last one starting at or before it, if it reaches that far */
    for (int64_t i = 0, j = 0; i < n; i++) {
        int64_t np, ns;
        uint64_t reads;
        kernel_args(steps[i].kernel, &np, &ns, &reads);
        for (int64_t q = 0; q < np; q++, j++) {
            uint64_t a = (uint64_t)(uintptr_t)steps[i].p[q];
            int64_t lo = 0, hi = owners;   /* the first owner starting after a */
            while (lo < hi) {
                int64_t mid = (lo + hi) / 2;
                if ((uint64_t)by_start[2 * mid] <= a) lo = mid + 1; else hi = mid;
            }
            owner_of[j] = -1;
            if (a == 0) continue;
            int64_t o = lo > 0 ? by_start[2 * (lo - 1) + 1] : -1;
            if (o < 0 || (a >= starts[o] + bytes[o] && a != starts[o])) return -1 - j;
            owner_of[j] = o;
            if (first[o] < 0) first[o] = i, written_first[o] = !((reads >> q) & 1);
            last[o] = i;
        }
    }
    /* the movable buffers written first, by first use, each into the best-fitting slot free by then */
    int64_t count = 0, end = 0, slots = 0;
    *moved_bytes = 0;
    for (int64_t o = 0; o < owners; o++)
        if (movable[o] && first[o] >= 0 && written_first[o]) order[2 * count] = first[o], order[2 * count++ + 1] = o;
    qsort(order, (size_t)count, 2 * sizeof *order, by_value);
    for (int64_t c = 0; c < count; c++) {
        int64_t o = order[2 * c + 1], size = (int64_t)((bytes[o] + 63) & ~(uint64_t)63), best = -1;
        for (int64_t t = 0; t < slots; t++)
            if (slot_last[t] < first[o] && slot_bytes[t] >= size && (best < 0 || slot_bytes[t] < slot_bytes[best])) best = t;
        if (best < 0) best = slots++, slot_at[best] = end, slot_bytes[best] = size, end += size;
        slot_last[best] = last[o];
        offset[o] = slot_at[best];
        *moved_bytes += (int64_t)bytes[o];
    }
    return end;
}

void fg_plan_place(fg_plan_step *steps, int64_t n, const int64_t *owner_of, const int64_t *offset,
                   const uint64_t *starts, char *arena) {
    for (int64_t i = 0, j = 0; i < n; i++) {
        int64_t np, ns;
        uint64_t reads;
        kernel_args(steps[i].kernel, &np, &ns, &reads);
        for (int64_t q = 0; q < np; q++, j++) {
            int64_t o = owner_of[j];
            if (o >= 0 && offset[o] >= 0)
                steps[i].p[q] = arena + offset[o] + ((uint64_t)(uintptr_t)steps[i].p[q] - starts[o]);
        }
    }
}

int64_t fg_plan_run(const fg_plan_step *steps, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const fg_plan_step *step = &steps[i];
        void *const *p = step->p;
        fg_plan_arg *s = step->s;
        if (step->kernel == FG_PLAN_COPY) {
            memcpy(p[0], p[1], (size_t)s[0].i);
            continue;
        }
        if (step->kernel == FG_PLAN_CHECK_RANGE) {
            if (fg_check_range_i64((const int64_t *)p[0], s[0].i, s[1].i, s[2].i, s[3].i)) return i;
            continue;
        }
        double ret = 0;
        plan_calls[step->kernel](p, s, &ret);
        if (step->status && ret != 0) return i;
    }
    return -1;
}

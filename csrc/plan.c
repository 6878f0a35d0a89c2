/* plan.c: the captured-step executor (python/fastgrad/compile.py records the plan). Each step is one
 * kernel call through the dispatch table generated from fastgrad.h (plan_table.inc). */
#include <string.h>

#include "fastgrad.h"
#include "plan_table.inc"

int64_t fg_plan_kernel_id(const char *name) {
    for (int64_t i = 0; i < PLAN_KERNELS; i++)
        if (strcmp(plan_names[i], name) == 0) return i;
    return -1;
}

int64_t fg_plan_kernel_const_args(int64_t id) {
    return id >= 0 && id < PLAN_KERNELS ? (int64_t)plan_const_args[id] : 0;
}

int64_t fg_plan_run(const fg_plan_step *steps, int64_t n, double *slots) {
    for (int64_t s = 0; s < n; s++) {
        const fg_plan_step *step = &steps[s];
        const fg_plan_arg *a = step->args;
        if (step->kernel == FG_PLAN_COPY) {
            memcpy(a[0].p, a[1].p, (size_t)a[2].i);
            continue;
        }
        if (step->kernel == FG_PLAN_CHECK_RANGE) {
            if (fg_check_range_i64((const int64_t *)a[0].p, a[1].i, a[2].i, a[3].i, a[4].i)) return s;
            continue;
        }
        if (step->from_slot >= 0) step->args[step->arg_index].d = slots[step->from_slot] * step->mul / step->div;
        double ret = 0;
        plan_calls[step->kernel](step->args, &ret);
        if (step->ret_slot >= 0) slots[step->ret_slot] = ret;
        else if (step->ret_slot == FG_PLAN_STATUS && ret != 0) return s;
    }
    return -1;
}

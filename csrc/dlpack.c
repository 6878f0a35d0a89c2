/* dlpack.c: the DLPack structs that fastgrad exports (fastgrad/interop.py puts them in capsules).
 *
 * Plain C like the kernels: the Python reference that keeps an exported buffer alive is an opaque
 * `owner`, dropped through the `release` callback the Python layer passes in. */
#include <stdlib.h>
#include "fastgrad.h"

/* One block: either struct (first, so a pointer to it is one to the block), the release callback,
 * then the shape and strides. */
typedef struct {
    union {
        DLManagedTensor legacy;
        DLManagedTensorVersioned versioned;
    } m;
    void (*release)(void *owner);
    int64_t dims[];   /* shape[ndim], then strides[ndim] */
} fg_export;

static void fg_delete_legacy(DLManagedTensor *m) {
    fg_export *e = (fg_export *)m;
    e->release(m->manager_ctx);
    free(e);
}

static void fg_delete_versioned(DLManagedTensorVersioned *m) {
    fg_export *e = (fg_export *)m;
    e->release(m->manager_ctx);
    free(e);
}

void *fg_dlpack_export(void *data, const int64_t *shape, int32_t ndim, uint8_t code, uint8_t bits, int versioned,
                       uint64_t flags, void *owner, void (*release)(void *owner)) {
    fg_export *e = malloc(sizeof(fg_export) + 2 * (size_t)ndim * sizeof(int64_t));
    if (!e) return NULL;
    int64_t *dims = e->dims, *strides = e->dims + ndim, step = 1;
    for (int32_t i = ndim - 1; i >= 0; i--) {
        dims[i] = shape[i];
        strides[i] = step;
        step *= shape[i];
    }
    DLTensor t = {data, {kDLCPU, 0}, ndim, {code, bits, 1}, dims, strides, 0};
    e->release = release;
    if (versioned) {
        e->m.versioned.version.major = 1;
        e->m.versioned.version.minor = 0;
        e->m.versioned.manager_ctx = owner;
        e->m.versioned.deleter = fg_delete_versioned;
        e->m.versioned.flags = flags;
        e->m.versioned.dl_tensor = t;
    } else {
        e->m.legacy.dl_tensor = t;
        e->m.legacy.manager_ctx = owner;
        e->m.legacy.deleter = fg_delete_legacy;
    }
    return e;
}

void fg_dlpack_delete(void *managed, int versioned) {
    if (versioned) {
        DLManagedTensorVersioned *m = managed;
        if (m->deleter) m->deleter(m);
    } else {
        DLManagedTensor *m = managed;
        if (m->deleter) m->deleter(m);
    }
}

/* buffers.c: a small cache of large tensor buffers.
 *
 * glibc serves a large malloc from fresh pages (mmap, or the top of the heap, which free() trims back
 * to the system), so every new megabyte-sized tensor page-faults all of its pages in again, and on a
 * virtual machine a page fault costs microseconds: a (32, 64, 128) float32 embedding gradient took
 * ~1 ms to fill, ~0.1 ms once its pages were kept. Tensors of FG_BUFFER_MIN bytes or more
 * (python/fastgrad/tensor.py's empty()) therefore come from here: a freed buffer is kept, up to
 * FG_BUFFER_CACHE_BYTES in all, and handed to the next request it fits (not more than twice too
 * big); the oldest kept buffers go first when the cache is full. Buffers are 64-byte aligned. Under
 * AddressSanitizer the cache is off, so a use after free is still caught. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "fastgrad.h"

#if defined(__SANITIZE_ADDRESS__)
#define FG_BUFFER_CACHE_SLOTS 0
#else
#define FG_BUFFER_CACHE_SLOTS 32
#endif
#define FG_BUFFER_CACHE_BYTES ((size_t)256 << 20)
#define FG_BUFFER_HEADER 64   /* the block's size sits in front of the buffer, which stays 64-byte aligned */

static struct { void *block; size_t bytes; } cache[FG_BUFFER_CACHE_SLOTS + 1];
static int cached;   /* cache[0 .. cached) in order of age, oldest first */
static size_t cached_bytes;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void *fg_buffer_alloc(size_t bytes) {
    void *block = NULL;
    size_t have = 0;
    pthread_mutex_lock(&lock);
    int best = -1;
    for (int i = 0; i < cached; i++)   /* the smallest kept block that fits */
        if (cache[i].bytes >= bytes && cache[i].bytes / 2 <= bytes && (best < 0 || cache[i].bytes < cache[best].bytes))
            best = i;
    if (best >= 0) {
        block = cache[best].block, have = cache[best].bytes;
        cached_bytes -= have;
        for (int i = best + 1; i < cached; i++) cache[i - 1] = cache[i];
        cached--;
    }
    pthread_mutex_unlock(&lock);
    if (!block) {
        if (bytes > SIZE_MAX - FG_BUFFER_HEADER || posix_memalign(&block, 64, bytes + FG_BUFFER_HEADER)) return NULL;
        have = bytes;
    }
    *(size_t *)block = have;
    return (char *)block + FG_BUFFER_HEADER;
}

void fg_buffer_free(void *buffer) {
    if (!buffer) return;
    void *block = (char *)buffer - FG_BUFFER_HEADER;
    const size_t bytes = *(size_t *)block;
    void *evicted[FG_BUFFER_CACHE_SLOTS + 1];
    int n_evicted = 0;
    pthread_mutex_lock(&lock);
    if (FG_BUFFER_CACHE_SLOTS > 0 && bytes <= FG_BUFFER_CACHE_BYTES) {
        while (cached > 0 && (cached == FG_BUFFER_CACHE_SLOTS || cached_bytes + bytes > FG_BUFFER_CACHE_BYTES)) {
            evicted[n_evicted++] = cache[0].block;   /* the oldest goes */
            cached_bytes -= cache[0].bytes;
            for (int i = 1; i < cached; i++) cache[i - 1] = cache[i];
            cached--;
        }
        cache[cached].block = block, cache[cached].bytes = bytes;
        cached++;
        cached_bytes += bytes;
        block = NULL;
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n_evicted; i++) free(evicted[i]);
    free(block);
}

int64_t fg_buffer_cached_bytes(void) {
    pthread_mutex_lock(&lock);
    const int64_t bytes = (int64_t)cached_bytes;
    pthread_mutex_unlock(&lock);
    return bytes;
}

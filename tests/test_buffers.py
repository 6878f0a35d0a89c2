"""csrc/buffers.c: large tensor buffers are kept when freed and handed out again, never with stale
contents where zeros were asked for, and never shared by two live tensors."""
import gc

import numpy as np

import fastgrad as fg
from fastgrad._C import lib

N = 1 << 17   # float32 elements: 512 KiB, above tensor.BIG_BUFFER


def test_a_freed_large_buffer_is_reused_and_zeros_are_zeros():
    a = fg.full((N,), 7.0)
    address = a.data_ptr()
    del a
    gc.collect()
    kept = lib.fg_buffer_cached_bytes()
    b = fg.zeros(N)   # may reuse the 7.0s' buffer: it must come back cleared
    np.testing.assert_array_equal(b.numpy(), np.zeros(N, np.float32))
    if kept:   # the cache is on (it is off under AddressSanitizer)
        assert b.data_ptr() == address
        assert lib.fg_buffer_cached_bytes() < kept


def test_live_tensors_never_share_a_cached_buffer():
    tensors = [fg.full((N + i,), float(i)) for i in range(8)]
    del tensors[::2]
    gc.collect()
    more = [fg.full((N + i,), -float(i)) for i in range(8)]
    addresses = [t.data_ptr() for t in tensors + more]
    assert len(set(addresses)) == len(addresses)
    for i, t in zip(range(1, 8, 2), tensors):
        assert (t.numpy() == i).all()
    for i, t in enumerate(more):
        assert (t.numpy() == -i).all()


def test_the_cache_is_bounded():
    big = [fg.empty(32 << 20) for _ in range(3)]   # 3 x 128 MiB of float32 (never touched) freed at once
    del big
    gc.collect()
    assert lib.fg_buffer_cached_bytes() <= 256 << 20

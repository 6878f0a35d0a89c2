"""The GEMM core (csrc/gemm.c) on every kernel path, against the naive oracle and numpy.

fg_gemm is called directly through cffi: every trans_a/trans_b/accumulate combination, sizes of 1,
primes and sizes that are not multiples of any tile or block (MR, NR; MC, KC and NC are derived from
the caches, so test_block_edges forces tiny ones), small products (which skip packing) and large
ones, in float32 and float64, on 1 and 2 threads. Results must be bit-identical across thread counts
(the k loop is never split); across paths they differ only by rounding. Also: the derived blocks,
the path without scratch memory, and set_num_threads' limits.
"""
import contextlib
import itertools
import os

import numpy as np
import pytest

import fastgrad as fg
from fastgrad._C import ffi, lib

PATHS = ["portable", "avx2", "avx512"]
DTYPES = {np.float32: ("float[]", lib.fg_gemm_f32, lib.fg_gemm_naive_f32, 2e-5),
          np.float64: ("double[]", lib.fg_gemm_f64, lib.fg_gemm_naive_f64, 1e-12)}
COMBOS = list(itertools.product((0, 1), repeat=3))   # trans_a, trans_b, accumulate

# (m, n, k): 1s, primes, edges of every micro-tile, k across KC blocks, m across MC blocks, n across NC
SHAPES = [(1, 1, 1), (1, 7, 1), (7, 1, 3), (2, 3, 5), (13, 17, 19), (11, 23, 9), (35, 47, 70), (12, 32, 256),
          (25, 33, 257),
          (31, 1, 300), (1, 45, 600), (97, 61, 513), (523, 29, 37), (3, 4099, 5)]
# large enough that 2 threads are really used (see FG_GEMM_FLOPS_PER_THREAD), split by rows and by
# columns, packed and (m*n*k <= FG_GEMM_DIRECT_MAX, k <= KC) unpacked
THREADED = [(131, 157, 263), (600, 40, 300), (20, 600, 300), (120, 100, 100), (90, 130, 110)]


@pytest.fixture(params=PATHS)
def path(request):
    before = fg.kernel_path()
    if request.param not in fg.backend.available_kernel_paths():
        pytest.skip(f"this CPU cannot run the {request.param} path")
    fg.set_kernel_path(request.param)
    yield request.param
    fg.set_kernel_path(before)


@pytest.fixture
def threads():
    """Restores the thread count after the test."""
    before = fg.get_num_threads()
    yield
    fg.set_num_threads(before)


def operands(m, n, k, trans_a, trans_b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    return a, b, c


def gemm(fn, c, a, b, m, n, k, trans_a, trans_b, accumulate):
    ctype = "float[]" if c.dtype == np.float32 else "double[]"
    fn(ffi.from_buffer(ctype, c), ffi.from_buffer(ctype, a), ffi.from_buffer(ctype, b), m, n, k,
       trans_a, trans_b, accumulate)
    return c


def reference(a, b, c, trans_a, trans_b, accumulate):
    """The product in float64 by numpy."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    out = (a.T if trans_a else a) @ (b.T if trans_b else b)
    return out + c if accumulate else out


def check(path_dtype, m, n, k, trans_a, trans_b, accumulate, seed=0):
    dtype = path_dtype
    _, fast, naive, rtol = DTYPES[dtype]
    a, b, c0 = operands(m, n, k, trans_a, trans_b, dtype, seed)
    # accumulate=0 must overwrite C, NaN included
    start = c0 if accumulate else np.full_like(c0, np.nan)
    got = gemm(fast, start.copy(), a, b, m, n, k, trans_a, trans_b, accumulate)
    oracle = gemm(naive, start.copy(), a, b, m, n, k, trans_a, trans_b, accumulate)
    want = reference(a, b, c0, trans_a, trans_b, accumulate)
    # error bound of a k-term dot product: relative to sum |a||b| (+ |c|), not to the result
    scale = reference(np.abs(a), np.abs(b), np.abs(c0), trans_a, trans_b, accumulate) + 1
    assert np.isfinite(got).all()
    assert np.all(np.abs(got - want) <= rtol * scale), f"fg_gemm vs numpy, {m}x{n}x{k}"
    assert np.all(np.abs(got - oracle) <= 2 * rtol * scale), f"fg_gemm vs fg_gemm_naive, {m}x{n}x{k}"
    return got


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("m, n, k", SHAPES, ids=str)
def test_gemm_matches_oracle(path, dtype, m, n, k, threads):
    fg.set_num_threads(1)
    for trans_a, trans_b, accumulate in COMBOS:
        check(dtype, m, n, k, trans_a, trans_b, accumulate)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("m, n, k", THREADED, ids=str)
def test_threads_bit_identical(path, dtype, m, n, k, threads):
    fast = DTYPES[dtype][1]
    for trans_a, trans_b, accumulate in COMBOS:
        fg.set_num_threads(1)
        one = check(dtype, m, n, k, trans_a, trans_b, accumulate)
        a, b, c = operands(m, n, k, trans_a, trans_b, dtype)
        for nt in (2, 3):
            fg.set_num_threads(nt)
            many = gemm(fast, c.copy(), a, b, m, n, k, trans_a, trans_b, accumulate)
            assert np.array_equal(one, many), f"1 and {nt} threads disagree at {m}x{n}x{k}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_empty_sizes(path, dtype):
    _, fast, _, _ = DTYPES[dtype]
    a, b = np.ones((3, 0), dtype), np.ones((0, 4), dtype)
    c = np.full((3, 4), np.nan, dtype)
    assert np.array_equal(gemm(fast, c, a, b, 3, 4, 0, 0, 0, 0), np.zeros((3, 4)))   # empty sum = 0
    c = np.full((3, 4), 2.5, dtype)
    assert np.array_equal(gemm(fast, c, a, b, 3, 4, 0, 0, 0, 1), np.full((3, 4), 2.5))
    c = np.full((0, 4), 1, dtype)   # m = 0 and n = 0 touch nothing
    gemm(fast, c, np.ones((0, 5), dtype), np.ones((5, 4), dtype), 0, 4, 5, 0, 0, 0)


@pytest.mark.parametrize("k", [300, 50], ids=["packed", "unpacked"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_nan_and_inf_propagate(path, dtype, k):
    _, fast, _, _ = DTYPES[dtype]
    m, n = 30, 40
    a, b, _ = operands(m, n, k, 0, 0, dtype)
    a[3, 5] = np.nan
    b[7, 11] = np.inf
    a[:, 7] = np.abs(a[:, 7]) + 1   # row 7 of b meets only positive a: +inf, never inf - inf
    got = gemm(fast, np.zeros((m, n), dtype), a, b, m, n, k, 0, 0, 0)
    assert np.isnan(got[3]).all()
    rows = np.arange(m) != 3
    assert np.isposinf(got[rows, 11]).all()
    assert np.isfinite(np.delete(got[rows], 11, axis=1)).all()


def test_paths_agree_within_rounding(threads):
    """Every available path computes the same product up to float32 rounding."""
    before = fg.kernel_path()
    a, b, _ = operands(77, 95, 300, 0, 0, np.float32)
    results = []
    try:
        for p in fg.backend.available_kernel_paths():
            fg.set_kernel_path(p)
            results.append(gemm(lib.fg_gemm_f32, np.empty((77, 95), np.float32), a, b, 77, 95, 300, 0, 0, 0))
    finally:
        fg.set_kernel_path(before)
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-4, atol=1e-4)


# ---- block sizes from the caches ------------------------------------------------------------------
def blocks(path_name, itemsize):
    out = ffi.new("int64_t[5]")
    lib.fg_gemm_blocks(out, fg.backend._PATHS[path_name], itemsize)
    return tuple(out)


@pytest.mark.parametrize("itemsize", [4, 8])
def test_derived_blocks_are_sane(path, itemsize):
    """MC, KC, NC come from this CPU's caches: whole tiles, and the packed blocks fit where the
    derivation in gemm.c puts them."""
    caches = ffi.new("int64_t[4]")
    lib.fg_cpu_caches(caches)
    l1, ways, l2, l3 = caches
    assert 16 << 10 <= l1 <= 256 << 10 and 2 <= ways <= 32 and 128 << 10 <= l2 <= 8 << 20 and l3 >= 512 << 10
    mc, kc, nc, mr, nr = blocks(path, itemsize)
    assert mc % mr == 0 and nc % nr == 0 and kc % 8 == 0 and 64 <= kc <= 512
    vector = {"portable": 16, "avx2": 32, "avx512": 64}[path]
    assert kc * min(nr * itemsize, 2 * vector) <= l1 or kc == 64   # a B micro-panel (two vectors of it) fits in L1
    assert mc * kc * itemsize <= l2 // 2 or mc == mr   # an A block fits in L2


@contextlib.contextmanager
def gemm_blocks(mc, kc, nc):
    """MC, KC, NC set for the block (0: derived; rounded up to whole tiles), derived again after."""
    lib.fg_gemm_set_blocks(mc, kc, nc)
    try:
        yield
    finally:
        lib.fg_gemm_set_blocks(0, 0, 0)


@pytest.fixture
def small_blocks():
    """Tiny MC, KC, NC, so that small products cross every block edge."""
    with gemm_blocks(1, 16, 1):
        yield


def checked_on_one_and_two_threads(dtype, m, n, k, trans_a, trans_b, accumulate):
    """The product on one thread, checked against numpy (check), and the same bits on two threads."""
    fg.set_num_threads(1)
    one = check(dtype, m, n, k, trans_a, trans_b, accumulate)
    a, b, c = operands(m, n, k, trans_a, trans_b, dtype)
    fg.set_num_threads(2)
    assert np.array_equal(one, gemm(DTYPES[dtype][1], c.copy(), a, b, m, n, k, trans_a, trans_b, accumulate))
    return one


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("m, n, k", [(37, 70, 45), (100, 33, 50), (13, 129, 17)], ids=str)
def test_block_edges(path, dtype, m, n, k, threads, small_blocks):
    """With blocks smaller than the product in every dimension: still the product, and the same bits
    on 1 and 2 threads (split by rows and by columns)."""
    for combo in COMBOS:
        checked_on_one_and_two_threads(dtype, m, n, k, *combo)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("m, n, k", [(32, 10, 32), (32, 32, 64), (13, 17, 19), (1, 45, 60), (35, 47, 70)], ids=str)
def test_direct_path_gives_the_packed_bits(path, dtype, m, n, k, threads):
    """Small products skip packing (direct, with masked edge vectors): the same bits as the packed
    loops give with the same KC, forced here by MC and NC smaller than the product."""
    fast = DTYPES[dtype][1]
    fg.set_num_threads(1)
    for trans_a, trans_b, accumulate in COMBOS:
        direct = check(dtype, m, n, k, trans_a, trans_b, accumulate)
        a, b, c = operands(m, n, k, trans_a, trans_b, dtype)
        with gemm_blocks(1, 0, 1):
            packed = gemm(fast, c.copy(), a, b, m, n, k, trans_a, trans_b, accumulate)
        assert np.array_equal(direct, packed), f"direct and packed disagree at {m}x{n}x{k}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("m, n, k", [(700, 70, 64), (64, 300, 100), (523, 45, 37), (2048, 65, 64)], ids=str)
def test_a_in_place_gives_the_packed_bits(path, dtype, m, n, k, threads):
    """Products with k in one block, too large to skip packing altogether, read a row-major A where it
    lies (B packed whole): the same bits as the packed loops, forced here by NC smaller than n, on 1
    and 2 threads (split by rows and by columns)."""
    fast = DTYPES[dtype][1]
    for trans_a, trans_b, accumulate in COMBOS:
        in_place = checked_on_one_and_two_threads(dtype, m, n, k, trans_a, trans_b, accumulate)
        a, b, c = operands(m, n, k, trans_a, trans_b, dtype)
        for nt in (1, 2):
            fg.set_num_threads(nt)
            with gemm_blocks(0, 0, 1):
                packed = gemm(fast, c.copy(), a, b, m, n, k, trans_a, trans_b, accumulate)
            assert np.array_equal(in_place, packed), f"in place and packed disagree at {m}x{n}x{k}, {nt} threads"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("m, n, k", [(300, 400, 150), (64, 700, 90)], ids=str)
def test_transposed_a_packed_or_read_in_place_gives_the_same_bits(path, dtype, m, n, k, threads):
    """A transposed A (a weight gradient's doutᵀ) is read where it lies for a narrow panel of C and
    packed for a wide one: the same bits either way (NC chooses here), on 1 and 2 threads."""
    fast = DTYPES[dtype][1]
    a, b, c = operands(m, n, k, 1, 0, dtype)
    for nt in (1, 2):
        fg.set_num_threads(nt)
        with gemm_blocks(0, 0, 1):   # panels of one micro-panel: A in place
            in_place = gemm(fast, c.copy(), a, b, m, n, k, 1, 0, 0)
        packed = gemm(fast, c.copy(), a, b, m, n, k, 1, 0, 0)   # the derived NC covers n: A packed
        assert np.array_equal(in_place, packed), f"{m}x{n}x{k}, {nt} threads"
        np.testing.assert_allclose(packed, a.T @ b, rtol=DTYPES[dtype][3] * 10, atol=DTYPES[dtype][3] * k)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("m, n, k", SHAPES[:9] + THREADED[:3] + [(32, 10, 0)], ids=str)
def test_gemm_bias_is_bias_then_accumulate(path, dtype, m, n, k, threads):
    """fg_gemm_bias adds the bias as C is stored: the bits of C = bias rows, then C += op(A)·op(B),
    on 1 and 2 threads, and with blocks smaller than the product."""
    ctype = "float[]" if dtype == np.float32 else "double[]"
    fast = DTYPES[dtype][1]
    fused = lib.fg_gemm_bias_f32 if dtype == np.float32 else lib.fg_gemm_bias_f64
    bias = np.random.default_rng(1).standard_normal(n).astype(dtype)
    for trans_a, trans_b in itertools.product((0, 1), repeat=2):
        a, b, _ = operands(m, n, k, trans_a, trans_b, dtype)
        for nt, blocks in [(1, (0, 0, 0)), (2, (0, 0, 0)), (1, (1, 16, 1))]:
            fg.set_num_threads(nt)
            with gemm_blocks(*blocks):
                want = gemm(fast, np.tile(bias, (m, 1)), a, b, m, n, k, trans_a, trans_b, 1)
                got = np.full((m, n), np.nan, dtype)
                fused(ffi.from_buffer(ctype, got), ffi.from_buffer(ctype, a), ffi.from_buffer(ctype, b),
                      ffi.from_buffer(ctype, bias), m, n, k, trans_a, trans_b)
            assert np.array_equal(got, want), f"{m}x{n}x{k} trans {trans_a}{trans_b}, {nt} threads, blocks {blocks}"


# ---- out of scratch memory: the same bits, no silent change of rounding ---------------------------
OUT_OF_MEMORY = r"""
import resource, sys
import numpy as np
import fastgrad as fg
from fastgrad._C import ffi, lib
fg.set_kernel_path(sys.argv[1])
fg.set_num_threads(1)
dtype, ctype, fn = (np.float32, "float[]", lib.fg_gemm_f32) if sys.argv[2] == "f32" else (np.float64, "double[]", lib.fg_gemm_f64)
rng = np.random.default_rng(0)
results = []
for m, n, k, ta, tb, acc in [(700, 650, 600, 0, 0, 0), (650, 700, 600, 1, 1, 1), (90, 70, 100, 0, 0, 0)]:
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    starved, normal = c0.copy(), c0.copy()
    args = [ffi.from_buffer(ctype, x) for x in (starved, normal, a, b)]
    # no room to grow: the scratch buffer (hundreds of KiB, mmapped) cannot be allocated
    vm = int([l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1]) * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm + (64 << 10), hard))
    try:
        fn(args[0], args[2], args[3], m, n, k, ta, tb, acc)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    fn(args[1], args[2], args[3], m, n, k, ta, tb, acc)
    results.append(bool(np.array_equal(starved, normal)))
print(results)
"""


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_out_of_scratch_memory_gives_the_same_bits(path, dtype):
    """Without scratch memory the GEMM runs the same micro-kernel on unpacked operands: the result
    must be the same bits as the packed path's (it was a naive loop that rounds differently)."""
    import subprocess
    import sys
    if "libasan" in open("/proc/self/maps").read():
        pytest.skip("AddressSanitizer reserves address space: an address-space limit would stop it")
    # glibc would otherwise keep freed numpy temporaries in its heap and hand them to the scratch
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    result = subprocess.run([sys.executable, "-c", OUT_OF_MEMORY, path, dtype], capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[True, True, True]"


# ---- thread count ---------------------------------------------------------------------------------
def test_set_num_threads_accepts_any_integer_type(threads):
    fg.set_num_threads(np.int64(2))
    assert fg.get_num_threads() == (2 if fg.backend.openmp_enabled() else 1)
    fg.set_num_threads(fg.backend.MAX_THREADS)


@pytest.mark.parametrize("n", [10**9, 2**63, 257, 0, -1, 2.0, True, "2", None])
def test_set_num_threads_refuses_nonsense(n, threads):
    """Beyond MAX_THREADS it would start that many OS threads; 2**63 overflowed C's int64."""
    before = fg.get_num_threads()
    with pytest.raises(ValueError, match="positive integer up to 256"):
        fg.set_num_threads(n)
    assert fg.get_num_threads() == before

"""Choosing the kernel path and the thread count: fg.set_kernel_path / fg.kernel_path,
FASTGRAD_KERNEL_PATH, fg.set_num_threads / fg.get_num_threads and their environment variables.
Also runs the ops built on the kernels (matmul, linear, forward and backward) on every path."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastgrad as fg
from fastgrad._C import ffi, lib
from gradcheck import np_softmax

PATHS = ["portable", "avx2", "avx512"]


def run_python(code, **env):
    """Runs `code` in a fresh interpreter (the environment is read at import) with extra env vars."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("FASTGRAD_KERNEL_PATH", "FASTGRAD_NUM_THREADS", "OMP_NUM_THREADS")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=60)


def test_default_is_the_best_available():
    available = fg.backend.available_kernel_paths()
    assert available[0] == "portable"
    assert set(available) <= set(PATHS)
    out = run_python("import fastgrad as fg; print(fg.kernel_path())")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == available[-1]


@pytest.mark.parametrize("name", PATHS)
def test_environment_forces_a_path(name):
    out = run_python("import fastgrad as fg; print(fg.kernel_path())", FASTGRAD_KERNEL_PATH=name)
    if name in fg.backend.available_kernel_paths():
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == name
    else:
        assert out.returncode != 0 and "lacks" in out.stderr


def test_environment_rejects_unknown_path():
    out = run_python("import fastgrad", FASTGRAD_KERNEL_PATH="sse9")
    assert out.returncode != 0
    assert "FASTGRAD_KERNEL_PATH" in out.stderr and "unknown kernel path" in out.stderr


def test_set_kernel_path_errors():
    before = fg.kernel_path()
    with pytest.raises(ValueError, match="unknown kernel path"):
        fg.set_kernel_path("neon")
    for name in PATHS:
        if name not in fg.backend.available_kernel_paths():
            with pytest.raises(RuntimeError, match="lacks"):
                fg.set_kernel_path(name)
    assert fg.kernel_path() == before   # a failed call changes nothing


def test_num_threads_from_environment():
    code = "import fastgrad as fg; print(fg.get_num_threads())"
    expect = lambda n: str(n if fg.backend.openmp_enabled() else 1)
    assert run_python(code, FASTGRAD_NUM_THREADS="3", OMP_NUM_THREADS="5").stdout.strip() == expect(3)
    assert run_python(code, OMP_NUM_THREADS="5").stdout.strip() == expect(5)
    bad = run_python(code, FASTGRAD_NUM_THREADS="zero")
    assert bad.returncode != 0 and "FASTGRAD_NUM_THREADS" in bad.stderr


def test_set_num_threads():
    before = fg.get_num_threads()
    try:
        fg.set_num_threads(2)
        assert fg.get_num_threads() == (2 if fg.backend.openmp_enabled() else 1)
        for bad in (0, -1, 1.5, "2", True):
            with pytest.raises(ValueError):
                fg.set_num_threads(bad)
    finally:
        fg.set_num_threads(before)


@pytest.mark.parametrize("name", PATHS)
def test_ops_on_every_path(name):
    """matmul and linear, forward and backward, against numpy in float64 on each path."""
    if name not in fg.backend.available_kernel_paths():
        pytest.skip(f"this CPU cannot run the {name} path")
    before = fg.kernel_path()
    fg.set_kernel_path(name)
    try:
        rng = np.random.default_rng(1)
        x, w, bias, g = (rng.standard_normal(s) for s in [(37, 29), (23, 29), (23,), (37, 23)])
        tx, tw, tb = (fg.tensor(v, dtype=fg.float64, requires_grad=True) for v in (x, w, bias))
        out = fg.nn.functional.linear(tx, tw, tb)
        np.testing.assert_allclose(out.numpy(), x @ w.T + bias, rtol=1e-12, atol=1e-12)
        out.backward(fg.tensor(g, dtype=fg.float64))
        np.testing.assert_allclose(tx.grad.numpy(), g @ w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(tw.grad.numpy(), g.T @ x, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(tb.grad.numpy(), g.sum(0), rtol=1e-12, atol=1e-12)

        a, b = fg.tensor(x, dtype=fg.float64, requires_grad=True), fg.tensor(w.T, dtype=fg.float64, requires_grad=True)
        prod = a @ b
        np.testing.assert_allclose(prod.numpy(), x @ w.T, rtol=1e-12, atol=1e-12)
        prod.backward(fg.tensor(g, dtype=fg.float64))
        np.testing.assert_allclose(a.grad.numpy(), g @ w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b.grad.numpy(), x.T @ g, rtol=1e-12, atol=1e-12)
    finally:
        fg.set_kernel_path(before)


def _c(array):
    return ffi.from_buffer(("float" if array.dtype == np.float32 else "double") + "[]", array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", PATHS)
def test_pointwise_and_softmax_kernels_on_every_path(name, dtype):
    """The vectorised kernels (optimizer steps included) against numpy on each path, with columns that
    are not a multiple of any vector width, NaN propagating, and (at 70000 elements) 1 and 2 threads
    giving identical bits."""
    if name not in fg.backend.available_kernel_paths():
        pytest.skip(f"this CPU cannot run the {name} path")
    before, threads = fg.kernel_path(), fg.get_num_threads()
    sfx = "_f32" if dtype == np.float32 else "_f64"
    fn = lambda op: getattr(lib, "fg_" + op + sfx)
    tol = dict(rtol=2e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    rng = np.random.default_rng(3)
    try:
        fg.set_kernel_path(name)
        for rows, cols in [(3, 37), (1, 1), (700, 100)]:
            x = (rng.standard_normal((rows, cols)) * 5).astype(dtype)
            y = rng.standard_normal((rows, cols)).astype(dtype)
            x[0, 0] = np.nan
            results = {}
            targets = rng.integers(0, cols, rows)
            for nt in (1, 2):
                fg.set_num_threads(nt)
                out = {op: np.full_like(x, 7) for op in ("add", "relu", "sigmoid", "softmax", "log_softmax",
                                                           "probs")}
                fn("binary")(_c(out["add"]), _c(x), _c(y), lib.FG_ADD, x.size)
                fn("relu")(_c(out["relu"]), _c(x), x.size)
                fn("sigmoid")(_c(out["sigmoid"]), _c(x), x.size)
                fn("softmax")(_c(out["softmax"]), _c(x), rows, cols)
                fn("log_softmax")(_c(out["log_softmax"]), _c(x), rows, cols)
                t = ffi.from_buffer("int64_t[]", targets)
                out["loss"] = np.zeros(1, dtype)
                fn("cross_entropy")(_c(out["loss"]), _c(out["probs"]), _c(y), t, ffi.NULL, -100, 0.0,
                                    lib.FG_REDUCE_SUM, rows, cols)
                dx, db = np.ones_like(x), np.zeros(cols, dtype)
                fn("bias_relu_backward")(_c(dx), _c(db), _c(y), _c(out["relu"]), rows, cols)
                out["dx"], out["db"] = dx, db
                out["dmul_x"], out["dmul_y"] = np.ones_like(x), np.ones_like(x)   # d(x * y), dout = y
                fn("binary_backward")(_c(out["dmul_x"]), _c(out["dmul_y"]), _c(y), _c(x), _c(y), lib.FG_MUL, x.size, 1, 1)
                # optimizer steps: parameter x, gradient y, state buffers starting at 0.5
                out["sgd_p"], out["sgd_buf"] = x.copy(), np.full_like(x, 0.5)
                lr, steps = ffi.new("double[1]", [0.1]), ffi.new("double[2]", [0.0, 2.0])   # read from memory
                fn("sgd")(_c(out["sgd_p"]), _c(out["sgd_buf"]), _c(y), lr, 0.9, 0.1, 0.01, 0, 0, steps, x.size)
                out["adam_p"] = x.copy()
                out["adam_m"], out["adam_v"], out["adam_vmax"] = (np.full_like(x, 0.5) for _ in range(3))
                fn("adam")(*(_c(out["adam_" + s]) for s in ("p", "m", "v", "vmax")), _c(y), lr, 0.9, 0.99, 1e-8, 0.01,
                           0, steps + 1, x.size)   # the kernel counts step 3
                assert list(steps) == [1.0, 3.0]
                results[nt] = out
            out = results[1]
            for op in out:
                np.testing.assert_array_equal(out[op], results[2][op], err_msg=f"{op}: 1 and 2 threads differ")
            x64 = x.astype(np.float64)
            np.testing.assert_allclose(out["add"], x64 + y, **tol)
            np.testing.assert_allclose(out["relu"], np.where(np.isnan(x64), np.nan, np.maximum(x64, 0)), **tol)
            np.testing.assert_allclose(out["sigmoid"], 1 / (1 + np.exp(-x64)), **tol)
            np.testing.assert_allclose(out["dmul_x"], 1 + y * y.astype(np.float64), **tol)
            np.testing.assert_allclose(out["dmul_y"], 1 + y * x64, **tol)
            gate = np.where(out["relu"] <= 0, 0, y)   # NaN passes the gradient, as in PyTorch
            np.testing.assert_allclose(out["dx"], 1 + gate, **tol)
            g = y + 0.01 * x64   # weight decay
            buf = 0.9 * 0.5 + 0.9 * g
            np.testing.assert_allclose(out["sgd_buf"], buf, **tol)
            np.testing.assert_allclose(out["sgd_p"], x64 - 0.1 * buf, **tol)
            m, v = 0.5 + 0.1 * (g - 0.5), 0.99 * 0.5 + 0.01 * g * g
            vmax = np.maximum(0.5, v)
            np.testing.assert_allclose(out["adam_m"], m, **tol)
            np.testing.assert_allclose(out["adam_vmax"], vmax, **tol)
            step = x64 - 0.1 / (1 - 0.9 ** 3) * m / (np.sqrt(vmax) / np.sqrt(1 - 0.99 ** 3) + 1e-8)
            np.testing.assert_allclose(out["adam_p"], step, **tol)
            np.testing.assert_allclose(out["db"], gate.sum(0), rtol=1e-5 if dtype == np.float32 else 1e-12,
                                       atol=1e-5 if dtype == np.float32 else 1e-12)
            # row 0 holds the NaN: all NaN there, exact elsewhere
            assert np.isnan(out["softmax"][0]).all() and np.isnan(out["log_softmax"][0]).all()
            np.testing.assert_allclose(out["softmax"][1:], np_softmax(x64[1:]), **tol)
            ref_logp = np.log(np_softmax(x64[1:]))
            np.testing.assert_allclose(out["log_softmax"][1:], ref_logp, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
            y64 = y.astype(np.float64)
            np.testing.assert_allclose(out["probs"], np_softmax(y64), **tol)
            ref_loss = -np.log(np_softmax(y64))[np.arange(rows), targets].sum()
            np.testing.assert_allclose(out["loss"][0], ref_loss, rtol=1e-5 if dtype == np.float32 else 1e-12)
    finally:
        fg.set_kernel_path(before)
        fg.set_num_threads(threads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_linear_relu_is_linear_then_relu_bit_for_bit(dtype):
    """The fused layer against fg_linear + fg_relu (forward) and fg_relu_backward + fg_linear_backward
    (backward), on every available path, with k across several KC blocks."""
    sfx = "_f32" if dtype == np.float32 else "_f64"
    fn = lambda op: getattr(lib, "fg_" + op + sfx)
    rng = np.random.default_rng(5)
    m, k, n = 37, 600, 45
    x, w, bias, g = (rng.standard_normal(s).astype(dtype) for s in [(m, k), (n, k), (n,), (m, n)])
    before = fg.kernel_path()
    try:
        for name in fg.backend.available_kernel_paths():
            fg.set_kernel_path(name)
            fused, pre, plain = np.full((m, n), np.nan, dtype), np.empty((m, n), dtype), np.empty((m, n), dtype)
            fn("linear_relu")(_c(fused), _c(x), _c(w), _c(bias), m, k, n)
            fn("linear")(_c(pre), _c(x), _c(w), _c(bias), m, k, n)
            fn("relu")(_c(plain), _c(pre), m * n)
            np.testing.assert_array_equal(fused, plain)
            assert (fused > 0).any() and (fused == 0).any()

            grads = {}
            for way in ("fused", "plain"):
                dx, dw, db = np.ones((m, k), dtype), np.ones((n, k), dtype), np.ones(n, dtype)
                if way == "fused":
                    fn("linear_relu_backward")(_c(dx), _c(dw), _c(db), _c(np.full((m, n), np.nan, dtype)), _c(g),
                                               _c(fused), _c(x), _c(w), m, k, n, 1, 1)
                else:
                    dpre = np.zeros((m, n), dtype)
                    fn("relu_backward")(_c(dpre), _c(g), _c(pre), m * n, 1)
                    fn("linear_backward")(_c(dx), _c(dw), _c(db), _c(dpre), _c(x), _c(w), m, k, n, 1, 1)
                grads[way] = (dx, dw, db)
            for f, p in zip(grads["fused"], grads["plain"]):
                np.testing.assert_array_equal(f, p)
            gate = np.where(pre > 0, g, 0).astype(np.float64)
            np.testing.assert_allclose(grads["fused"][1], 1 + gate.T @ x, rtol=1e-4 if dtype == np.float32 else 1e-12,
                                       atol=1e-4 if dtype == np.float32 else 1e-12)
    finally:
        fg.set_kernel_path(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_sum_is_accurate_and_independent_of_path_and_threads(dtype):
    """fg_sum adds fixed chunks in order, so neither the thread count nor (beyond rounding inside a
    1024-element block) the path moves it; float32 data is summed with a double total."""
    x = np.random.default_rng(7).uniform(0, 1, 3_000_001).astype(dtype)   # odd length: every tail
    reference = float(np.sum(x.astype(np.float64)))
    fn, out = (lib.fg_sum_f32, ffi.new("float[1]")) if dtype == np.float32 else (lib.fg_sum_f64, ffi.new("double[1]"))
    path, threads = fg.kernel_path(), fg.get_num_threads()
    try:
        for name in fg.backend.available_kernel_paths():
            fg.set_kernel_path(name)
            results = set()
            for n in (1, 2, 3):
                fg.set_num_threads(n)
                fn(out, _c(x), x.size, 1.0)
                results.add(out[0])
            assert len(results) == 1, f"{name}: sum changed with the thread count: {results}"
            assert abs(results.pop() - reference) <= 1e-6 * reference
    finally:
        fg.set_kernel_path(path)
        fg.set_num_threads(threads)

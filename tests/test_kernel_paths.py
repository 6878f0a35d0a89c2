"""Choosing the kernel path and the thread count: fg.set_kernel_path / fg.kernel_path,
FASTGRAD_KERNEL_PATH, fg.set_num_threads / fg.get_num_threads and their environment variables.
Also runs the ops built on the kernels (matmul, linear, forward and backward) on every path."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastgrad as fg

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

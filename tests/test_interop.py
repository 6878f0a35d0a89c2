"""fg.from_numpy and DLPack: zero-copy both ways with numpy, PyTorch and JAX (where installed).

Each exchange is checked for sharing (a write through one side is seen by the other) and for
lifetime (the exporter's memory outlives the exporter for as long as the importer holds it)."""
import gc
import importlib.util
import subprocess
import sys
import weakref

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import interop


def _dtypes():
    """The numpy dtypes of fastgrad's own: DLPack and from_numpy carry each."""
    return [np.dtype(n) for n in ("float32", "float64", "int64", "bool")]


def _sample(dtype, shape=(2, 3)):
    """A fresh array of distinct values (bool: True only at flat index 2, so writing True is a change)."""
    values = np.arange(int(np.prod(shape))) + 1
    return np.array((values % 7 == 3) if dtype == np.bool_ else values, dtype=dtype).reshape(shape)


def _other_value(dtype):
    return True if dtype == np.bool_ else 42


# ---- from_numpy -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", _dtypes(), ids=str)
@pytest.mark.parametrize("shape", [(2, 3), (7,), (), (1, 1, 5)])
def test_from_numpy_shares_memory_both_ways(dtype, shape):
    a = _sample(dtype, shape)
    t = fg.from_numpy(a)
    assert t.shape == a.shape and t.dtype.name == a.dtype.name
    flat = a.reshape(-1)
    flat[-1] = _other_value(dtype)
    np.testing.assert_array_equal(t.numpy(), a)
    t.numpy().reshape(-1)[0] = 0
    assert flat[0] == 0
    assert np.shares_memory(t.numpy(), a)


def test_from_numpy_tensor_keeps_the_array_alive():
    a = np.arange(1000, dtype=np.float64)
    t = fg.from_numpy(a)
    a_ref = weakref.ref(a) if hasattr(a, "__weakref__") else None
    del a
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), np.arange(1000))
    view = t.reshape(10, 100)   # a view keeps it alive too
    del t
    gc.collect()
    assert view.numpy()[9, 99] == 999
    del view
    gc.collect()
    if a_ref is not None:
        assert a_ref() is None


def test_from_numpy_tensor_works_in_ops_and_autograd():
    a = np.array([[1.0, -2.0], [3.0, 4.0]], dtype=np.float32)
    x = fg.from_numpy(a).requires_grad_()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * a)
    b = np.zeros((0, 3), dtype=np.float32)   # empty arrays too
    assert fg.from_numpy(b).shape == (0, 3)


@pytest.mark.parametrize("make, error", [
    (lambda: [1.0, 2.0], TypeError),
    (lambda: np.arange(4, dtype=np.int16), TypeError),
    (lambda: np.array(["a"]), TypeError),
    (lambda: np.arange(12.0).reshape(3, 4)[:, ::2], ValueError),            # not contiguous
    (lambda: np.arange(12.0).reshape(3, 4).T, ValueError),                  # Fortran order
    (lambda: np.frombuffer(bytes(17), dtype=np.uint8)[1:].view(np.float64), ValueError),   # misaligned
    (lambda: np.frombuffer(bytes(16), dtype=np.float64), ValueError),       # read-only
])
def test_from_numpy_bad_inputs(make, error):
    with pytest.raises(error, match="from_numpy"):
        fg.from_numpy(make())


# ---- DLPack with numpy ----------------------------------------------------------------------------
# numpy before 2.1 takes only DLPack's unversioned capsules, which cannot say "writeable": it makes
# read-only arrays of them (and has no copy=).
NUMPY_VERSIONED_DLPACK = np.lib.NumpyVersion(np.__version__) >= "2.1.0"
needs_versioned_dlpack = pytest.mark.skipif(not NUMPY_VERSIONED_DLPACK,
                                            reason="numpy < 2.1 imports DLPack read-only (pip install 'numpy>=2.1')")


@pytest.mark.parametrize("dtype", _dtypes(), ids=str)
def test_numpy_from_dlpack_shares_a_tensor(dtype):
    t = fg.from_numpy(_sample(dtype))
    n = np.from_dlpack(t)
    assert n.shape == t.shape and n.dtype == dtype and n.flags.writeable == NUMPY_VERSIONED_DLPACK
    t.numpy()[1, 2] = 0
    assert n[1, 2] == 0
    if NUMPY_VERSIONED_DLPACK:
        n[0, 0] = _other_value(dtype)
        assert t.numpy()[0, 0] == _other_value(dtype)


def test_numpy_holds_the_exported_buffer_after_the_tensor_is_gone():
    t = fg.tensor(np.arange(10000.0), dtype=fg.float64)
    n = np.from_dlpack(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(n, np.arange(10000.0))   # ASan would see a use after free
    assert interop._exported   # the handle stays until numpy lets go
    del n
    gc.collect()
    assert not interop._exported


def test_capsules_nobody_consumes_free_their_export():
    gc.collect()
    before = len(interop._exported)
    t = fg.ones(3)
    for max_version in (None, (1, 0)):
        capsule = t.__dlpack__(max_version=max_version)
        assert len(interop._exported) == before + 1
        del capsule
        gc.collect()
        assert len(interop._exported) == before


@pytest.mark.parametrize("dtype", _dtypes(), ids=str)
def test_from_dlpack_of_numpy_shares_memory(dtype):
    a = _sample(dtype)
    t = fg.from_dlpack(a)
    assert t.shape == a.shape and t.dtype.name == a.dtype.name
    a[1, 1] = _other_value(dtype)
    assert t.numpy()[1, 1] == _other_value(dtype)
    assert np.shares_memory(t.numpy(), a)


def test_from_dlpack_keeps_the_exporter_alive():
    a = np.arange(5000.0)
    t = fg.from_dlpack(a)
    del a
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), np.arange(5000.0))
    assert (t + t).numpy()[4999] == 9998.0


@needs_versioned_dlpack
def test_dlpack_round_trip_through_numpy_is_the_same_memory():
    t = fg.randn(4, 5)
    back = fg.from_dlpack(np.from_dlpack(t))
    back.numpy()[0, 0] = 123.0
    assert t.numpy()[0, 0] == 123.0


def test_dlpack_device_and_copy():
    t = fg.ones(2, 2)
    assert t.__dlpack_device__() == (1, 0)
    copy = fg.from_dlpack(t.__dlpack__(copy=True))
    copy.numpy()[0, 0] = 5
    assert t.numpy()[0, 0] == 1 and copy.numpy()[1, 1] == 1


def test_dlpack_bad_inputs():
    with pytest.raises(RuntimeError, match="requires grad.*detach"):
        np.from_dlpack(fg.ones(2, requires_grad=True))
    np.from_dlpack(fg.ones(2, requires_grad=True).detach())   # the documented way out
    with pytest.raises(BufferError, match="stream"):
        fg.ones(2).__dlpack__(stream=1)
    with pytest.raises(BufferError, match="CPU"):
        fg.ones(2).__dlpack__(dl_device=(2, 0))
    with pytest.raises(BufferError, match="contiguous"):
        fg.from_dlpack(np.arange(12.0).reshape(3, 4)[:, ::2])
    with pytest.raises(TypeError, match="dtype"):
        fg.from_dlpack(np.arange(4, dtype=np.int16))
    with pytest.raises(TypeError, match="__dlpack__"):
        fg.from_dlpack([1.0, 2.0])
    capsule = np.arange(3.0).__dlpack__()
    fg.from_dlpack(capsule)
    with pytest.raises(ValueError, match="imported once"):
        fg.from_dlpack(capsule)


# ---- DLPack with PyTorch ----------------------------------------------------------------------------
_TORCH_DTYPES = {"float32": "float32", "float64": "float64", "int64": "int64", "bool": "bool"}


@pytest.mark.parametrize("dtype", _dtypes(), ids=str)
def test_torch_from_dlpack_shares_a_tensor(dtype):
    torch = pytest.importorskip("torch")
    t = fg.from_numpy(_sample(dtype).copy())
    tt = torch.from_dlpack(t)
    assert tuple(tt.shape) == t.shape and tt.dtype == getattr(torch, _TORCH_DTYPES[dtype.name])
    tt[0, 0] = _other_value(dtype)
    assert t.numpy()[0, 0] == _other_value(dtype)
    t.numpy()[1, 2] = 0
    assert tt[1, 2].item() == 0


def test_torch_holds_the_exported_buffer_after_the_tensor_is_gone():
    torch = pytest.importorskip("torch")
    t = fg.tensor(np.arange(3000.0), dtype=fg.float64)
    tt = torch.utils.dlpack.from_dlpack(t)
    del t
    gc.collect()
    assert torch.equal(tt, torch.arange(3000.0, dtype=torch.float64))
    tt.mul_(2)   # writing into the kept buffer is fine too
    assert tt[-1].item() == 5998.0


@pytest.mark.parametrize("dtype", _dtypes(), ids=str)
def test_from_dlpack_of_torch_shares_memory(dtype):
    torch = pytest.importorskip("torch")
    tt = torch.from_numpy(_sample(dtype).copy())
    t = fg.from_dlpack(tt)
    assert t.shape == tuple(tt.shape) and t.dtype.name == dtype.name
    tt[1, 1] = _other_value(dtype)
    assert t.numpy()[1, 1] == _other_value(dtype)
    t.numpy()[0, 2] = 0
    assert tt[0, 2].item() == 0


def test_from_dlpack_keeps_a_torch_tensor_alive_and_takes_capsules():
    torch = pytest.importorskip("torch")
    tt = torch.arange(4000, dtype=torch.float32)
    ref = weakref.ref(tt)
    t = fg.from_dlpack(tt)
    del tt
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), np.arange(4000, dtype=np.float32))
    del t
    gc.collect()
    assert ref() is None   # and lets it go with the tensor
    capsule = torch.utils.dlpack.to_dlpack(torch.ones(3, dtype=torch.float64))
    np.testing.assert_array_equal(fg.from_dlpack(capsule).numpy(), np.ones(3))


def test_from_dlpack_refuses_a_strided_torch_view():
    torch = pytest.importorskip("torch")
    with pytest.raises(BufferError, match="contiguous"):
        fg.from_dlpack(torch.ones(3, 4).t())


def test_dlpack_round_trip_with_torch_trains_on_the_shared_weights():
    """A weight shared with PyTorch: fastgrad's SGD step is what PyTorch then sees."""
    torch = pytest.importorskip("torch")
    w = torch.ones(2, 3)
    layer = fg.nn.Linear(3, 2, bias=False)
    layer.weight = fg.from_dlpack(w).requires_grad_()
    opt = fg.optim.SGD([layer.weight], lr=0.5)
    layer(fg.ones(1, 3)).sum().backward()
    opt.step()
    assert torch.equal(w, torch.full((2, 3), 0.5))


# ---- DLPack with JAX --------------------------------------------------------------------------------
_JAX_CHECK = """
import gc
import numpy as np
import jax.numpy as jnp
import fastgrad as fg

j = jnp.arange(6.0, dtype=jnp.float32).reshape(2, 3)
t = fg.from_dlpack(j)
np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3))
assert np.shares_memory(t.numpy(), np.asarray(j))
del j
gc.collect()
assert t.numpy()[1, 2] == 5.0   # the JAX buffer outlives the array
x = fg.tensor([[1.0, 2.0], [3.0, 4.0]])
np.testing.assert_array_equal(np.asarray(jnp.from_dlpack(x)), x.numpy())
print("ok")
"""


def test_jax_exchange():
    """JAX arrays are immutable, so sharing shows as one buffer: fastgrad imports a JAX array without
    copying. JAX imports a fastgrad tensor without copying only when its buffer is 64-byte aligned
    (otherwise JAX copies it; fastgrad's buffers are aligned as malloc aligns them), so that direction
    is checked for values. In a subprocess: importing JAX changes how this process's memory behaves
    (tests/test_memory.py measures RSS)."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("could not import 'jax': not installed (pip install jax jaxlib)")
    out = subprocess.run([sys.executable, "-c", _JAX_CHECK], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stdout + out.stderr


def test_exports_alive_at_exit_do_not_crash_the_interpreter():
    """A consumer that still holds a fastgrad buffer when Python exits frees it during shutdown."""
    code = ("import fastgrad as fg, numpy as np\n"
            "keep = [np.from_dlpack(fg.ones(100)) for _ in range(3)]\n"
            "try:\n    import torch\n    keep.append(torch.from_dlpack(fg.ones(5)))\nexcept ImportError:\n    pass\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr

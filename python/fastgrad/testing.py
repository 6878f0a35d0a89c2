"""fg.testing.assert_close: PyTorch's comparison for tests, with its default tolerances per dtype
(float32: rtol 1.3e-6, atol 1e-5; float64: rtol 1e-7, atol 1e-7; integers and bools exact)."""
import numpy as np

from .tensor import Tensor

__all__ = ["assert_close"]
_TOLERANCES = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True, msg=None, **kwargs):
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither")
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"assert_close: sequences of length {len(actual)} and {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if actual.keys() != expected.keys():
            raise AssertionError(msg or f"assert_close: keys {sorted(actual)} and {sorted(expected)} differ")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                         msg=msg)
        return
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and actual.dtype is not expected.dtype:
        raise AssertionError(msg or f"assert_close: the dtypes differ: {actual.dtype!r} and {expected.dtype!r}")
    a = actual.numpy() if isinstance(actual, Tensor) else np.asarray(actual)
    e = expected.numpy() if isinstance(expected, Tensor) else np.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"assert_close: the shapes differ: {a.shape} and {e.shape}")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(a.dtype.name, (0.0, 0.0)) if a.dtype.kind == "f" else (0.0, 0.0)
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = np.argwhere(~close)
        first = tuple(bad[0]) if a.ndim else ()
        raise AssertionError(msg or f"Tensor-likes are not close!\n\nMismatched elements: {len(bad)} / {a.size}; "
                             f"first at index {first}: {a[first]} vs {e[first]} (rtol {rtol}, atol {atol})")

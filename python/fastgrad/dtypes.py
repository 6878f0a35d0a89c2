"""The two element types and the kernels that serve each.

Every C kernel exists once per dtype (fg_<op>_f32, fg_<op>_f64); a DType's `k` namespace holds its
own, so an op calls `x.dtype.k.relu(...)` and never spells a suffix. The namespaces are read off the
compiled module, so they never drift from csrc/fastgrad.h.
"""
from types import ModuleType

import numpy as np

from ._C import ffi, lib


def _kernels_with_suffix(suffix):
    """A module object, not a SimpleNamespace: Python specialises attribute reads on modules, which
    saves every op ~30 ns in finding its kernel."""
    kernels = ModuleType(f"fastgrad.kernels{suffix}")
    for name in dir(lib):
        if name.startswith("fg_") and name.endswith(suffix):
            setattr(kernels, name[len("fg_"):-len(suffix)], getattr(lib, name))
    return kernels


# Tensors of fewer elements than this get a fixed-size C array type (float[n]): cffi allocates one of
# those without parsing a length, which is a tenth of a 1-element op's cost.
SMALL_ARRAY = 64


class DType:
    """A fastgrad element type: its numpy dtype, its C array types and its kernels."""
    __slots__ = ("name", "np", "carray", "small_carrays", "itemsize", "k")

    def __init__(self, name, ctype, suffix):
        self.name = name
        self.np = np.dtype(name)
        self.carray = ffi.typeof(ctype + "[]")
        self.small_carrays = [ffi.typeof(f"{ctype}[{n}]") for n in range(SMALL_ARRAY)]
        self.itemsize = self.np.itemsize
        self.k = _kernels_with_suffix(suffix)

    def __repr__(self):
        return "fastgrad." + self.name


float32 = DType("float32", "float", "_f32")
float64 = DType("float64", "double", "_f64")
_BY_NAME = {"float32": float32, "float64": float64}


def numeric_array(value, what):
    """np.asarray(value) (a view, for a Tensor), checked to hold numbers; `what` names it in the error."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what}: numpy dtype {array.dtype} is not numbers (bool, int or float)")
    return array


def as_dtype(dtype):
    """float32/float64 given as a fastgrad dtype, a numpy dtype or type, or a name."""
    if isinstance(dtype, DType):
        return dtype
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _BY_NAME:
        raise TypeError(f"unsupported dtype {dtype!r}: fastgrad tensors are float32 or float64")
    return _BY_NAME[name]

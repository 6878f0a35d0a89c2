"""The element types and the kernels that serve each.

float32 and float64 carry every float kernel (fg_<op>_f32, fg_<op>_f64); int64 carries the few
integer kernels (fg_<op>_i64); bool is stored as one byte per element. A DType's `k` namespace holds
its own kernels, so an op calls `x.dtype.k.relu(...)` and never spells a suffix; kernels that serve
every type (fg_cast, fg_fill) take the DType's `code`. The namespaces are read off the compiled
module, so they never drift from csrc/fastgrad.h.
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


# Settings and helpers the header also declares, which compute nothing on tensors: not in `kernels`.
_NOT_KERNELS = ("fg_get_", "fg_set_", "fg_cpu_", "fg_kernel_path", "fg_openmp_", "fg_plan_", "fg_dlpack_",
                "fg_gemm_blocks", "fg_gemm_set_blocks", "fg_buffer_")


def _kernels_for_every_dtype():
    """The kernels that take a type code instead of a suffix (fg_cast, fg_fill, fg_strided_copy, ...),
    read through one namespace like a dtype's `k`, so that whatever wraps kernel calls (the
    profiler, a captured step) sees every one of them."""
    kernels = ModuleType("fastgrad.kernels")
    for name in dir(lib):
        if (name.startswith("fg_") and not name.endswith(("_f32", "_f64", "_i64", "_b8"))
                and not name.startswith(_NOT_KERNELS) and callable(getattr(lib, name))):
            setattr(kernels, name[len("fg_"):], getattr(lib, name))
    return kernels


kernels = _kernels_for_every_dtype()

# Tensors of fewer elements than this get a fixed-size C array type (float[n]): cffi allocates one of
# those without parsing a length, which is a tenth of a 1-element op's cost.
SMALL_ARRAY = 64


class DType:
    """A fastgrad element type: its numpy dtype, its C array types, its type code and its kernels."""
    __slots__ = ("name", "np", "carray", "small_carrays", "itemsize", "k", "code", "is_floating_point", "python")

    def __init__(self, name, ctype, suffix, code, python):
        self.name = name
        self.np = np.dtype(name)
        self.carray = ffi.typeof(ctype + "[]")
        self.small_carrays = [ffi.typeof(f"{ctype}[{n}]") for n in range(SMALL_ARRAY)]
        self.itemsize = self.np.itemsize
        self.k = _kernels_with_suffix(suffix)
        self.code = code
        self.is_floating_point = self.np.kind == "f"
        self.python = python   # the Python type of one element: item() and scalars convert to it

    def __repr__(self):
        return "fastgrad." + self.name

    def __reduce__(self):   # pickling a tensor pickles its dtype by name: the same object comes back
        return self.name


float32 = DType("float32", "float", "_f32", lib.FG_F32, float)
float64 = DType("float64", "double", "_f64", lib.FG_F64, float)
int64 = DType("int64", "int64_t", "_i64", lib.FG_I64, int)
bool_ = DType("bool", "uint8_t", "_b8", lib.FG_BOOL, bool)
_BY_NAME = {"float32": float32, "float64": float64, "int64": int64, "bool": bool_}
# PyTorch's other names for the same types: fg.float, fg.double, fg.long, "float", "double", "long"
_ALIASES = {"float": float32, "double": float64, "long": int64}


def numeric_array(value, what):
    """np.asarray(value) (a view, for a Tensor), checked to hold numbers; `what` names it in the error."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what}: numpy dtype {array.dtype} is not numbers (bool, int or float)")
    return array


class Unsupported:
    """A PyTorch dtype fastgrad has no tensors of (fg.float16, fg.bfloat16): it exists so that programs
    naming it (a table of dtypes, autocast's dtype=) run; making a tensor of it is a TypeError."""

    def __init__(self, name):
        self.name = name
        self.is_floating_point = True

    def __repr__(self):
        return f"fastgrad.{self.name}"


float16, bfloat16 = Unsupported("float16"), Unsupported("bfloat16")


def as_dtype(dtype):
    """A fastgrad dtype given as itself, a numpy dtype or type, a Python type or a name."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, Unsupported):
        raise TypeError(f"fastgrad has no {dtype.name} tensors: they are float32, float64, int64 or bool")
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    if dtype is float:   # as in PyTorch: dtype=float is float64, dtype=int int64, dtype=bool bool
        return float64
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _BY_NAME:
        raise TypeError(f"unsupported dtype {dtype!r}: fastgrad tensors are float32, float64, int64 or bool")
    return _BY_NAME[name]


def dtype_of_array(array):
    """The fastgrad dtype a numpy array becomes by default: floats are the default float dtype
    (float32 unless fg.set_default_dtype changed it; numpy's float64 too), integers int64, bools bool."""
    kind = array.dtype.kind
    return _default_float[0] if kind == "f" else bool_ if kind == "b" else int64


# fg.set_default_dtype / get_default_dtype: the float dtype made where none is given (float data,
# fg.zeros, fg.randn, layers' parameters, an integer tensor's float results)
_default_float = [float32]


def default_float():
    return _default_float[0]


def promote(a, b):
    """The dtype of a binary op's result, PyTorch's rule for the cases programs meet: float32 with
    float64 gives float64, int or bool with a float gives the float, bool with int64 gives int64."""
    if a is b:
        return a
    if a.is_floating_point and b.is_floating_point:
        return float64
    if a.is_floating_point or b.is_floating_point:
        return a if a.is_floating_point else b
    return int64

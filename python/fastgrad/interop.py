"""Sharing tensors with numpy, PyTorch and JAX without copying: fg.from_numpy and DLPack.

fg.from_numpy(array) and fg.from_dlpack(obj) make a tensor over the other library's memory, and
`Tensor.__dlpack__` lets np.from_dlpack, torch.from_dlpack and jax's from_dlpack do the same with a
tensor's buffer: a write through either side is seen by the other. Each side keeps the other's
memory alive for as long as it holds it.

DLPack passes a C struct, DLManagedTensor (csrc/fastgrad.h, made by csrc/dlpack.c), in a PyCapsule.
cffi makes no capsules, so the few PyCapsule calls go through ctypes.pythonapi, all in this file.
The exported buffer is kept alive by a cffi handle held in `_exported` until the consumer calls the
struct's deleter, which reaches Python through `_release`.
"""
from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np

from ._C import ffi, lib
from . import dtypes
from .tensor import Tensor, empty

_NAME = b"dltensor"                   # DLManagedTensor, DLPack before 1.0
_VERSIONED_NAME = b"dltensor_versioned"   # DLManagedTensorVersioned, 1.0 on
_USED_NAME = b"used_dltensor"
_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, _DESTRUCTOR]
_capsule_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_is_valid.restype = ctypes.c_int
_capsule_is_valid.argtypes = [ctypes.c_void_p, ctypes.c_char_p]   # a raw pointer: see _capsule_destructor
_capsule_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_get_pointer.restype = ctypes.c_void_p
_capsule_get_pointer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_capsule_set_name = ctypes.pythonapi.PyCapsule_SetName
_capsule_set_name.restype = ctypes.c_int
_capsule_set_name.argtypes = [ctypes.py_object, ctypes.c_char_p]

# fastgrad dtype name <-> DLPack (type code, bits): bool is one byte per element on both sides.
_DL_CODES = {"float32": (lib.kDLFloat, 32), "float64": (lib.kDLFloat, 64), "int64": (lib.kDLInt, 64),
             "bool": (lib.kDLBool, 8)}
_BY_CODE = {code: name for name, code in _DL_CODES.items()}
_dtype_named = dtypes._BY_NAME.get   # fastgrad's DType of a numpy dtype name, or None


# ---- export: Tensor.__dlpack__ ------------------------------------------------------------------
_exported: dict[int, Any] = {}   # handle address -> the cffi handle that keeps an exported buffer alive


@_DESTRUCTOR
def _release(owner: int | None) -> None:
    """Called by an export's deleter (from C, on whichever thread the consumer frees it)."""
    _exported.pop(owner, None)


@_DESTRUCTOR
def _capsule_destructor(capsule: int | None) -> None:
    """A capsule that nobody consumed (still named as made) frees its struct when it dies. It gets the
    dying capsule as a raw pointer: making it a Python object again would revive it."""
    for versioned, name in enumerate((_NAME, _VERSIONED_NAME)):
        if _capsule_is_valid(capsule, name):
            lib.fg_dlpack_delete(ffi.cast("void *", _capsule_get_pointer(capsule, name)), versioned)


_RELEASE_PTR = ffi.cast("void (*)(void *)", ctypes.cast(_release, ctypes.c_void_p).value)


def to_dlpack(t: Tensor, stream: Any = None, max_version: tuple[int, int] | None = None,
              dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
    """A capsule over t's buffer, the body of Tensor.__dlpack__: "dltensor_versioned" (writeable) for a
    consumer that takes DLPack 1.0 (max_version), else the legacy "dltensor", which numpy imports as
    read-only. copy=True exports a copy; otherwise the buffer itself."""
    if stream is not None:
        raise BufferError(f"__dlpack__: fastgrad tensors live on the CPU, which has no streams (got stream={stream!r})")
    if dl_device is not None and tuple(dl_device) != (lib.kDLCPU, 0):
        raise BufferError(f"__dlpack__: fastgrad tensors live on the CPU, device (1, 0), not {tuple(dl_device)}")
    if t.requires_grad:   # as in PyTorch: the importer would write behind autograd's back
        raise RuntimeError("__dlpack__: cannot export a tensor that requires grad; export tensor.detach()")
    numel = math.prod(t.shape)
    buf, flags = t._buf, 0
    if copy:
        buf, flags = empty(t._shape, t._dtype, numel)._buf, lib.DLPACK_FLAG_BITMASK_IS_COPIED
        ffi.memmove(buf, t._buf, numel * t.dtype.itemsize)
    versioned = max_version is not None and max_version[0] >= 1
    code, bits = _DL_CODES[t.dtype.name]
    handle = ffi.new_handle(buf)
    managed = lib.fg_dlpack_export(buf, list(t.shape), len(t.shape), code, bits, versioned, flags, handle,
                                   _RELEASE_PTR)
    if managed == ffi.NULL:
        raise MemoryError("__dlpack__: out of memory")
    _exported[int(ffi.cast("uintptr_t", handle))] = handle
    return _capsule_new(int(ffi.cast("uintptr_t", managed)), _VERSIONED_NAME if versioned else _NAME,
                        _capsule_destructor)


# ---- import: fg.from_dlpack ---------------------------------------------------------------------
def from_dlpack(obj: Any) -> Tensor:
    """A tensor over the memory of `obj`, any object with __dlpack__ (a numpy array, a torch or JAX
    tensor) or a "dltensor" capsule (torch.utils.dlpack.to_dlpack's): no copy, and writes through
    either side are seen by the other. obj must be a contiguous CPU array of a fastgrad dtype."""
    if hasattr(obj, "__dlpack_device__"):
        device = tuple(obj.__dlpack_device__())
        if device[0] != lib.kDLCPU:
            raise BufferError(f"from_dlpack: fastgrad tensors live on the CPU; this {type(obj).__name__} is on "
                              f"DLPack device {device}")
    capsule = obj.__dlpack__() if hasattr(obj, "__dlpack__") else obj
    if type(capsule).__name__ != "PyCapsule":
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, got {type(obj).__name__}")
    if not _capsule_is_valid(id(capsule), _NAME):
        raise ValueError("from_dlpack: this capsule is not an unconsumed \"dltensor\" (a capsule can be imported once)")
    # id() is the object's address in CPython, which the capsule functions take
    managed = ffi.cast("DLManagedTensor *", _capsule_get_pointer(id(capsule), _NAME))
    dl = managed.dl_tensor
    shape = tuple(dl.shape[i] for i in range(dl.ndim))
    dtype = _checked_import(dl, shape)
    # Ours now: renamed, the capsule no longer frees it; the tensor's buffer calls the deleter.
    _capsule_set_name(capsule, _USED_NAME)
    numel = math.prod(shape)
    if numel == 0:   # an empty tensor's pointer may be NULL: take our own (empty) buffer
        lib.fg_dlpack_delete(managed, 0)
        return empty(shape, dtype, 0)
    data = ffi.cast(ffi.getctype(dtype.carray.item, "*"), ffi.cast("char *", dl.data) + dl.byte_offset)
    return empty(shape, dtype, numel, buf=ffi.gc(data, lambda _: lib.fg_dlpack_delete(managed, 0)))


def _checked_import(dl: Any, shape: tuple[int, ...]) -> dtypes.DType:
    """The fastgrad dtype of DLTensor `dl`, after checking that fastgrad can use its memory as is."""
    if dl.device.device_type != lib.kDLCPU:
        raise BufferError(f"from_dlpack: fastgrad tensors live on the CPU, not DLPack device type "
                          f"{dl.device.device_type}")
    key = (dl.dtype.code, dl.dtype.bits)
    name = _BY_CODE.get(key)
    dtype = _dtype_named(name) if name and dl.dtype.lanes == 1 else None
    if dtype is None:
        have = ", ".join(_DL_CODES)
        raise TypeError(f"from_dlpack: DLPack dtype (code {key[0]}, {key[1]} bits, {dl.dtype.lanes} lanes) is not "
                        f"one of fastgrad's ({have})")
    if dl.strides != ffi.NULL:
        step = 1
        for i in reversed(range(dl.ndim)):
            if shape[i] != 1 and dl.strides[i] != step:
                raise BufferError(f"from_dlpack: only contiguous row-major data can be shared; this array of shape "
                                  f"{shape} has strides {tuple(dl.strides[j] for j in range(dl.ndim))} (in elements): "
                                  f"make it contiguous first")
            step *= shape[i]
    if (int(ffi.cast("uintptr_t", dl.data)) + dl.byte_offset) % dtype.itemsize:
        raise BufferError("from_dlpack: the data is not aligned to its element size")
    return dtype


# ---- fg.from_numpy ------------------------------------------------------------------------------
def from_numpy(array: np.ndarray[Any, Any]) -> Tensor:
    """A tensor sharing `array`'s memory, as torch.from_numpy: no copy, writes through either side are
    seen by the other, and the tensor keeps the array alive. The array must be a C-contiguous,
    aligned, writeable numpy array of float32, float64, int64 or bool; fg.tensor(array) copies
    anything else."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    dtype = _dtype_named(array.dtype.name)
    if dtype is None:
        have = ", ".join(_DL_CODES)
        raise TypeError(f"from_numpy: numpy dtype {array.dtype} is not one of fastgrad's ({have}); "
                        f"fg.tensor(array, dtype=...) converts a copy")
    if not (array.flags.c_contiguous and array.flags.aligned):
        raise ValueError(f"from_numpy: the array (shape {array.shape}, strides {array.strides}) is not C-contiguous "
                         f"and aligned; np.ascontiguousarray(array) makes one that is")
    if not array.flags.writeable:
        raise ValueError("from_numpy: the array is read-only and fastgrad kernels may write to a tensor's memory; "
                         "pass array.copy()")
    if array.size == 0:   # no memory to share (and numpy may give empty arrays any address)
        return empty(array.shape, dtype, 0)
    # from_buffer's cdata holds a reference to the array: the tensor and its views keep it alive.
    return empty(array.shape, dtype, array.size, buf=ffi.from_buffer(dtype.carray, array))

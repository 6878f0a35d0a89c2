"""Saving and loading state_dicts in the safetensors format (https://huggingface.co/docs/safetensors),
through the safetensors package's numpy API: a JSON header of names, dtypes, shapes and offsets, then
the raw little-endian data. The same file loads in PyTorch (safetensors.torch.load_file) and into
the same architecture built with torch.nn.
"""
import os
import stat
from collections.abc import Mapping

import numpy as np

from .dtypes import as_dtype, float32, int64, numeric_array
from .tensor import Tensor, tensor


def save(state_dict, path, metadata=None):
    """Writes {name: Tensor or numpy array} to `path`; metadata is an optional {str: str} stored in
    the header. The file is written beside `path` and renamed over it, so an interrupted save never
    leaves a truncated file under the final name."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"fg.save expects a mapping of names to tensors (e.g. model.state_dict()), "
                        f"got {type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"fg.save: keys must be strings, got {name!r}")
        if name == "__metadata__":   # the format keeps that key for the header's metadata
            raise ValueError("fg.save: '__metadata__' is reserved by the safetensors format; rename that entry")
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(f"fg.save: {name!r} is a {type(value).__name__}; only tensors and numpy arrays can be "
                            f"saved (an optimizer's nested state_dict cannot)")
        array = numeric_array(value, f"fg.save: {name!r}")
        arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")   # (ascontiguousarray makes 0-d 1-d)
    if metadata is not None and not (isinstance(metadata, Mapping)
                                     and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("fg.save: metadata must be a dict of str to str")
    from safetensors.numpy import save_file   # imported here so that `import fastgrad` never needs it

    path = _checked_path(path, "fg.save")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):   # else safetensors raises its own error type, not an OSError
        raise FileNotFoundError(f"fg.save: no such directory: {directory!r}")
    partial = path + ".partial"
    from safetensors import SafetensorError
    try:
        save_file(arrays, partial, metadata=dict(metadata) if metadata else None)
        os.replace(partial, path)
    except SafetensorError as e:   # the writer's own error type: say what went wrong in ours
        raise ValueError(f"fg.save: cannot write {path!r}: {e}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _checked_path(path, what):
    """A str path from str, bytes or os.PathLike; a NUL byte in it is a ValueError."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{what}: path must be a str, bytes or os.PathLike, got {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    if "\0" in path:
        raise ValueError(f"{what}: the path {path!r} contains a NUL byte")
    return path


# What fg.load makes of each numpy dtype a file may hold: fastgrad's own four as they are, other
# integers as int64 (checked to fit), float16 as float32.
_WIDENED = {"int8": int64, "int16": int64, "int32": int64, "uint8": int64, "uint16": int64, "uint32": int64,
            "uint64": int64, "float16": float32}


def load(path):
    """{name: Tensor} read from a safetensors file written by fg.save or by PyTorch: float32,
    float64, int64 and bool as they are; other integer types as int64 and float16 as float32. The
    file is read into memory first (never memory-mapped), so another process truncating or
    rewriting it cannot crash this one. A truncated or corrupt file raises ValueError naming it."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_bytes

    path = _checked_path(path, "fg.load")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"fg.load: no such file: {path!r}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"fg.load: {path!r} is a directory, not a safetensors file")
    if not stat.S_ISREG(mode):   # a FIFO would block, /dev/zero never ends
        raise ValueError(f"fg.load: {path!r} is not a regular file (a device, FIFO or socket)")
    with open(path, "rb") as f:
        data = f.read()
    try:
        arrays = load_bytes(data)
    except (SafetensorError, ValueError, OSError) as e:
        raise ValueError(f"fg.load: {path!r} is not a valid safetensors file (truncated or corrupt?): {e}") from None
    except (TypeError, AttributeError, KeyError) as e:   # numpy has no bfloat16 nor float8: a valid file fastgrad cannot hold
        raise ValueError(f"fg.load: {path!r} holds a dtype numpy cannot read ({e}); fastgrad tensors are float32, "
                         f"float64, int64 or bool") from None
    out = {}
    for name, array in arrays.items():
        dtype = _WIDENED.get(array.dtype.name)
        if dtype is None:
            try:
                dtype = as_dtype(array.dtype)
            except TypeError:
                raise ValueError(f"fg.load: {name!r} in {path!r} has dtype {array.dtype}, which fastgrad cannot hold "
                                 f"(float32, float64, int64 or bool)") from None
        if array.dtype.name == "uint64" and array.size and array.max() > np.iinfo(np.int64).max:
            raise ValueError(f"fg.load: {name!r} in {path!r} holds uint64 values above the int64 range")
        out[name] = tensor(array, dtype=dtype)
    return out

"""fg.save and fg.load, PyTorch's torch.save and torch.load. A state_dict goes into the safetensors
format (https://huggingface.co/docs/safetensors, through the safetensors package's numpy API: a JSON
header of names, dtypes, shapes and offsets, then the raw little-endian data); the same file loads in
PyTorch (safetensors.torch.load_file) and into the same architecture built with torch.nn. Anything
else (a checkpoint with an optimizer's state and an epoch, a whole model) is pickled, as torch.save
pickles it, and loaded weights-only unless the caller trusts the file.
"""
import io
import os
import pickle
import stat
from collections.abc import Mapping

import numpy as np

from .dtypes import as_dtype, float32, int64, numeric_array
from .tensor import Tensor, as_device, tensor


def save(obj, f, metadata=None):
    """torch.save: a state_dict ({str: Tensor or numpy array}) is written in the safetensors format
    (metadata: an optional {str: str} for its header); anything else — a checkpoint dict holding an
    optimizer's state_dict and an epoch, a whole model — is pickled, as torch.save pickles it. f is a
    path or a binary file object. A path is written beside itself and renamed over, so an interrupted
    save never leaves a truncated file under the final name."""
    if _is_state_dict(obj):
        data = _safetensors_bytes(obj, metadata)
    else:
        if metadata is not None:
            raise TypeError("fg.save: metadata is kept only in a safetensors file, which holds a flat dict of names "
                            "to tensors; this object is pickled")
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    if hasattr(f, "write"):
        f.write(data)
        return
    path = _checked_path(f, "fg.save")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"fg.save: no such directory: {directory!r}")
    partial = path + ".partial"
    try:
        with open(partial, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _is_state_dict(obj):
    return (isinstance(obj, Mapping) and all(isinstance(k, str) for k in obj)
            and all(isinstance(v, (Tensor, np.ndarray)) for v in obj.values()))


def _safetensors_bytes(state_dict, metadata):
    arrays = {}
    for name, value in state_dict.items():
        if name == "__metadata__":   # the format keeps that key for the header's metadata
            raise ValueError("fg.save: '__metadata__' is reserved by the safetensors format; rename that entry")
        array = numeric_array(value, f"fg.save: {name!r}")
        arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")   # (ascontiguousarray makes 0-d 1-d)
    if metadata is not None and not (isinstance(metadata, Mapping)
                                     and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("fg.save: metadata must be a dict of str to str")
    from safetensors import SafetensorError
    from safetensors.numpy import save as save_bytes   # imported here so that `import fastgrad` never needs it
    try:
        return save_bytes(arrays, metadata=dict(metadata) if metadata else None)
    except SafetensorError as e:   # the writer's own error type: say what went wrong in ours
        raise ValueError(f"fg.save: cannot write the state_dict: {e}") from None


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


def load(f, map_location=None, weights_only=None, mmap=None, **pickle_load_args):
    """torch.load: what fg.save (or PyTorch's safetensors writer) wrote. A safetensors file gives
    {name: Tensor}: float32, float64, int64 and bool as they are; other integer types as int64 and
    float16 as float32. A pickled object comes back as saved; unless weights_only=False it may hold
    only tensors, numpy arrays, numbers, strings and containers (PyTorch's default since 2.6: a pickle
    can run code). map_location may name the CPU only. f is a path or a binary file object; a path is
    read into memory first (never memory-mapped), so another process truncating or rewriting it
    cannot crash this one. A truncated or corrupt file raises ValueError naming it."""
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        as_device(map_location)
    if hasattr(f, "read"):
        data, name = f.read(), getattr(f, "name", "the file object")
    else:
        name = _checked_path(f, "fg.load")
        data = _read_regular_file(name)
    if data[:1] == b"\x80":   # a pickle (protocol 2 and up); a safetensors header starts with its length
        return _from_pickle(data, name, weights_only is not False)
    return _tensors_from_safetensors(data, name)


def _read_regular_file(path):
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"fg.load: no such file: {path!r}") from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"fg.load: {path!r} is a directory, not a safetensors file")
    if not stat.S_ISREG(mode):   # a FIFO would block, /dev/zero never ends
        raise ValueError(f"fg.load: {path!r} is not a regular file (a device, FIFO or socket)")
    with open(path, "rb") as f:
        return f.read()


# What a weights-only load may rebuild: fastgrad's tensors and dtypes, numpy's arrays and scalars,
# OrderedDict (state dicts). Anything else in the pickle is refused before it runs.
_WEIGHTS = {("fastgrad.tensor", "_unpickle"), ("collections", "OrderedDict"), ("numpy", "dtype"),
            ("numpy", "ndarray"), ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
            ("numpy.core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer")}


class _WeightsUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _WEIGHTS or module == "fastgrad.dtypes":
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"fg.load: weights_only load refused {module}.{name}: the file holds more than "
                                     f"tensors and containers. If you trust its source, call fg.load(..., "
                                     f"weights_only=False)")


def _from_pickle(data, name, weights_only):
    try:
        if weights_only:
            return _WeightsUnpickler(io.BytesIO(data)).load()
        return pickle.loads(data)
    except pickle.UnpicklingError as e:
        if "weights_only" in str(e):
            raise
        raise ValueError(f"fg.load: {name!r} is not a valid pickle (truncated or corrupt?): {e}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as e:
        raise ValueError(f"fg.load: {name!r} is not a valid pickle (truncated or corrupt?): {e!r}") from None


def _tensors_from_safetensors(data, path):
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_bytes

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

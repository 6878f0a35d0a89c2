"""Saving and loading state_dicts in the safetensors format (https://huggingface.co/docs/safetensors),
through the safetensors package's numpy API: a JSON header of names, dtypes, shapes and offsets, then
the raw little-endian data. The same file loads in PyTorch (safetensors.torch.load_file) and into
the same architecture built with torch.nn.
"""
import os
from collections.abc import Mapping

import numpy as np

from .dtypes import as_dtype, numeric_array
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
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(f"fg.save: {name!r} is a {type(value).__name__}; only tensors and numpy arrays can be "
                            f"saved (an optimizer's nested state_dict cannot)")
        array = numeric_array(value, f"fg.save: {name!r}")
        arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")   # (ascontiguousarray makes 0-d 1-d)
    if metadata is not None and not (isinstance(metadata, Mapping)
                                     and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("fg.save: metadata must be a dict of str to str")
    from safetensors.numpy import save_file   # imported here so that `import fastgrad` never needs it

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):   # else safetensors raises its own error type, not an OSError
        raise FileNotFoundError(f"fg.save: no such directory: {directory!r}")
    partial = path + ".partial"
    try:
        save_file(arrays, partial, metadata=dict(metadata) if metadata else None)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def load(path):
    """{name: Tensor} read from a safetensors file written by fg.save (or by PyTorch, for float32
    and float64 tensors). A truncated or corrupt file raises ValueError naming the path."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fg.load: no such file: {path!r}")
    try:
        arrays = load_file(path)
    except (SafetensorError, ValueError, OSError) as e:
        raise ValueError(f"fg.load: {path!r} is not a valid safetensors file (truncated or corrupt?): {e}") from None
    except TypeError as e:   # numpy has no bfloat16 (nor float8): a valid file fastgrad cannot hold
        raise ValueError(f"fg.load: {path!r} holds a dtype numpy cannot read ({e}); fastgrad tensors are float32 "
                         f"or float64") from None
    out = {}
    for name, array in arrays.items():
        try:
            dtype = as_dtype(array.dtype)
        except TypeError:
            raise ValueError(f"fg.load: {name!r} in {path!r} has dtype {array.dtype}; fastgrad tensors are float32 "
                             f"or float64") from None
        out[name] = tensor(array, dtype=dtype)
    return out

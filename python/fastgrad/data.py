"""Mini-batches of arrays held in memory: `for x, y in fg.data.DataLoader(X, Y, batch_size=64,
shuffle=True, seed=0): ...`.

Float arrays come out as fastgrad tensors (float32 unless dtype says otherwise, as fg.tensor does);
integer arrays, such as class labels, come out as int64 numpy arrays, which the losses take as
targets (fastgrad tensors hold floats only).
"""
import math
import numbers

import numpy as np

from .dtypes import as_dtype, float32, numeric_array
from .tensor import empty, generator


class DataLoader:
    """Iterates over aligned arrays (inputs, targets, ...) in mini-batches along their first axis.

    shuffle: a new order every epoch (every iteration over the loader), drawn from a generator
    seeded by `seed`, or from fastgrad's generator (fg.manual_seed) when seed is None.
    drop_last: drop the last batch when it is smaller than batch_size, instead of yielding it."""

    def __init__(self, *arrays, batch_size=1, shuffle=False, drop_last=False, seed=None, dtype=float32):
        if not arrays:
            raise ValueError("DataLoader needs at least one array")
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.arrays = [_as_array(a, i) for i, a in enumerate(arrays)]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"DataLoader: the arrays have different lengths {lengths}; they must align on axis 0")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
        self.dtype = as_dtype(dtype)
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.arrays[0])
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.arrays[0])
        order = (self._rng or generator()).permutation(n) if self.shuffle else None
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            rows = slice(start, min(start + self.batch_size, n)) if order is None else order[start:start + self.batch_size]
            yield tuple(self._batch(a, rows) for a in self.arrays)

    def _batch(self, array, rows):
        if array.dtype.kind in "biu":
            return np.ascontiguousarray(array[rows], dtype=np.int64)
        part = array[rows]
        out = empty(part.shape, self.dtype)   # filled by one copy (with the cast, if any)
        out.numpy()[...] = part
        return out


def _as_array(a, index):
    array = numeric_array(a, f"DataLoader: array {index}")
    if array.ndim == 0:
        raise ValueError(f"DataLoader: array {index} is a scalar; it needs a first axis to batch along")
    return array

"""Datasets, samplers and the DataLoader, with PyTorch's names and semantics (torch.utils.data);
`fastgrad.utils.data` is this module.

Two ways in:
- PyTorch's: `DataLoader(dataset, batch_size=64, shuffle=True)` over any map-style dataset (an
  object with `__len__` and `__getitem__`), its samples merged by `default_collate` (tensors and
  arrays stacked, Python floats -> float64, ints -> int64, tuples, lists and dicts recursed).
- fastgrad's own array form: `DataLoader(X, Y, batch_size=64, shuffle=True, seed=0)` yields tuples
  (x, y) of aligned arrays; float arrays come out as tensors of `dtype` (float32 by default).

Arrays, tensors and TensorDatasets are batched by one gather per array and batch (numpy's take into
the new tensor's buffer), never sample by sample in Python. Integer data (class labels) come out as
int64 tensors, bools as bool tensors.

num_workers > 0 is accepted and loads in the main process, in the same order workers would deliver:
the batches are the same; worker_init_fn is not called and get_worker_info() is None (PyTorch's
num_workers=0). IterableDataset streams are batched as they come.
"""
import bisect
import collections.abc
import itertools
import math
import numbers
import warnings

import numpy as np

from . import random
from ._C import ffi
from .dtypes import as_dtype, bool_, float32, float64, int64, numeric_array
from .tensor import Tensor, empty, generator as _default_generator

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "get_worker_info",
           "BatchSampler", "DistributedSampler", "DataLoader", "default_collate", "default_convert"]


# ---- datasets ------------------------------------------------------------------------------------
class Dataset:
    """A map-style dataset: subclasses define __getitem__(index) and __len__()."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")


class IterableDataset(Dataset):
    """A stream of samples: subclasses define __iter__; DataLoader batches them in the order they come."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} does not define __iter__()")


def get_worker_info():
    """None: fastgrad's DataLoader loads in the main process (PyTorch's answer outside a worker)."""
    return None


class TensorDataset(Dataset):
    """Samples are tuples (t[i] for t in tensors); the tensors (or arrays) align on their first axis."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        arrays = [_as_array(t, f"TensorDataset: tensor {i}") for i, t in enumerate(tensors)]
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: the tensors have different first dimensions {lengths}")
        self.tensors = tensors
        self._arrays = arrays   # zero-copy numpy views, for the gathers

    def __len__(self):
        return len(self._arrays[0])

    def __getitem__(self, index):
        return tuple(_to_fastgrad(a[index], None) for a in self._arrays)

    def _gather(self, rows):
        return [_gather(a, rows, None) for a in self._arrays]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices
        if hasattr(dataset, "_gather"):   # keep the one-gather-per-batch path
            index_array = np.asarray(indices, dtype=np.int64)
            self._gather = lambda rows: dataset._gather(index_array[rows])

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]


class ConcatDataset(Dataset):
    """The samples of several datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if not _is_int(index):
            raise TypeError(f"ConcatDataset: index must be an int, got {type(index).__name__}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"ConcatDataset: index {index} is out of range for {len(self)} samples")
        index %= len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[which][index - (self.cumulative_sizes[which - 1] if which else 0)]


def random_split(dataset, lengths, generator=None):
    """Non-overlapping Subsets of the given lengths (or fractions summing to 1, the remainder given
    one by one to the first parts, as PyTorch does), in a random order from `generator`."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(f, float) and 0 <= f <= 1 for f in lengths) and math.isclose(sum(lengths), 1):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if not all(_is_int(k) and k >= 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative ints summing to the dataset's "
                         f"length {n} (or fractions summing to 1)")
    _check_generator(generator)
    order = _permutation(n, generator).tolist()
    parts, start = [], 0
    for k in lengths:
        parts.append(Subset(dataset, order[start:start + k]))
        start += k
    return parts


class _Arrays(Dataset):
    """The array form's dataset: a batch is a tuple, float arrays are cast to `dtype`."""

    def __init__(self, arrays, dtype):
        self._arrays = [_as_array(a, f"DataLoader: array {i}") for i, a in enumerate(arrays)]
        lengths = [len(a) for a in self._arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"DataLoader: the arrays have different lengths {lengths}; they must align on axis 0")
        self.dtype = dtype

    def __len__(self):
        return len(self._arrays[0])

    def __getitem__(self, index):
        return tuple(_to_fastgrad(a[index], self.dtype) for a in self._arrays)

    def _gather(self, rows):
        return tuple(_gather(a, rows, self.dtype) for a in self._arrays)


class _OneArray(_Arrays):
    """DataLoader(array) or DataLoader(tensor): a batch is one tensor, as in PyTorch."""

    def _gather(self, rows):
        return _gather(self._arrays[0], rows, self.dtype)


# ---- samplers ------------------------------------------------------------------------------------
class Sampler:
    """Yields dataset indices; subclasses define __iter__ and __len__."""

    def __init__(self, data_source=None):
        pass


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new permutation on every iteration (or num_samples draws with replacement), from
    `generator`: a fastgrad Generator, a numpy Generator, or None for fastgrad's own generator
    (fg.manual_seed)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self.generator = data_source, bool(replacement), generator
        if num_samples is not None and (not _is_int(num_samples) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got {num_samples!r}")
        if num_samples is not None and not replacement:
            raise ValueError("RandomSampler: num_samples without replacement is not supported (as in PyTorch 2)")
        self._num_samples = num_samples
        _check_generator(generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self):
        n = len(self.data_source)
        if self.replacement:
            return _draws(n, self.num_samples, self.generator)
        return _permutation(n, self.generator)

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a new random order every iteration."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator
        _check_generator(generator)

    def _indices(self):
        return np.asarray(self.indices, dtype=np.int64)[_permutation(len(self.indices), self.generator)]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """num_samples indices drawn with probabilities proportional to weights (with replacement, or
    without: each index at most once)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples must be a positive int, got {num_samples!r}")
        w = np.asarray(weights.numpy() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1 or not np.all(np.isfinite(w)) or (w < 0).any() or not w.sum() > 0:
            raise ValueError("WeightedRandomSampler: weights must be a 1-D sequence of finite non-negative numbers "
                             "with a positive sum")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement from "
                             f"{np.count_nonzero(w)} positive weights")
        self.weights, self.num_samples, self.replacement, self.generator = w, int(num_samples), bool(replacement), generator
        _check_generator(generator)

    def _indices(self):
        from .tensor import tensor
        return random.multinomial(tensor(self.weights), self.num_samples, self.replacement,
                                  generator=self.generator if isinstance(self.generator, random.Generator) else None
                                  ).numpy()

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_batch_size(batch_size, "BatchSampler")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), bool(drop_last)

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _index_arrays(self):
        """The batches as slices (in order) or numpy index arrays, for the gather fast path."""
        starts = range(0, len(self) * self.batch_size, self.batch_size)
        if type(self.sampler) is SequentialSampler:
            n = len(self.sampler)
            return (slice(s, min(s + self.batch_size, n)) for s in starts)
        indices = getattr(self.sampler, "_indices", None)   # ours give the whole epoch as one array
        order = np.asarray(indices() if indices else list(self.sampler), dtype=np.int64)
        return (order[s:s + self.batch_size] for s in starts)


class DistributedSampler(Sampler):
    """Each of num_replicas processes (ranks) gets its own part of every epoch: the indices (shuffled
    the same way on every rank for a given seed and epoch, with set_epoch) padded by repeating the
    first ones to a multiple of num_replicas (or cut to one, drop_last), then every
    num_replicas-th from `rank`. num_replicas and rank default to fastgrad.distributed's world."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from . import distributed   # the MPI world, only when asked for (it needs mpi4py)
            num_replicas = distributed.world_size() if num_replicas is None else num_replicas
            rank = distributed.rank() if rank is None else rank
        if not _is_int(num_replicas) or num_replicas <= 0:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}")
        if not _is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank {rank!r} is not in [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n = len(dataset)
        self.num_samples = n // self.num_replicas if drop_last else math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Call before each epoch: the shuffle depends on (seed, epoch), the same on every rank."""
        self.epoch = int(epoch)

    def _indices(self):
        n = len(self.dataset)
        order = np.random.default_rng((self.seed, self.epoch)).permutation(n) if self.shuffle else np.arange(n)
        if self.total_size > n:   # pad with the first indices, repeated as often as needed
            order = np.resize(order, self.total_size)
        return order[:self.total_size][self.rank::self.num_replicas]

    def __iter__(self):
        return iter(self._indices().tolist())

    def __len__(self):
        return self.num_samples


# ---- collation -----------------------------------------------------------------------------------
def default_convert(data):
    """One sample as DataLoader(batch_size=None) yields it, as PyTorch's default_convert: numpy arrays
    and numpy scalars become tensors, dicts and sequences are converted item by item (a tuple into a
    list, as PyTorch does), everything else (tensors, Python numbers, strings) is left as it is."""
    if isinstance(data, (np.ndarray, np.number, np.bool_)) and np.asarray(data).dtype.kind in "biuf":
        return _to_fastgrad(np.asarray(data), None)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):   # a namedtuple keeps its type
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """Merges a list of samples into a batch, as PyTorch's default_collate: tensors and numpy arrays
    are stacked along a new first axis, Python floats become a float64 tensor, ints int64, bools
    bool; tuples and lists are collated position by position (into a list), dicts key by key,
    strings are kept as a list."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, (np.ndarray, np.number, np.bool_)):
        if isinstance(elem, np.ndarray) and elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: numpy arrays of dtype {elem.dtype} are not numbers")
        return _to_fastgrad(_checked_stack([np.asarray(b) for b in batch]), None)
    if isinstance(elem, bool):
        return _to_fastgrad(np.array(batch, dtype=bool), None)
    if isinstance(elem, numbers.Integral):
        return _to_fastgrad(np.array(batch, dtype=np.int64), None)
    if isinstance(elem, numbers.Real):
        return _to_fastgrad(np.array(batch, dtype=np.float64), None)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # a namedtuple keeps its type
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if len({len(sample) for sample in batch}) != 1:
            raise ValueError(f"default_collate: the samples of a batch are sequences of different lengths "
                             f"{sorted({len(sample) for sample in batch})}")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: cannot batch samples of type {type(elem).__name__}; "
                    f"pass a collate_fn")


def _stack(tensors):
    """One tensor of shape (len(tensors), *shape), each sample's buffer copied in by memmove."""
    shape, dtype = tensors[0]._shape, tensors[0]._dtype
    for t in tensors:
        if not isinstance(t, Tensor) or t._shape != shape or t._dtype is not dtype:
            got = f"shape {t._shape} and dtype {t._dtype!r}" if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"default_collate: cannot stack a sample with {got} onto one with shape {shape} "
                             f"and dtype {dtype!r}")
    n = math.prod(shape)
    nbytes = n * dtype.itemsize
    out = empty((len(tensors),) + shape, dtype)
    for i, t in enumerate(tensors):
        ffi.memmove(out._buf + i * n, t._buf, nbytes)
    return out


def _checked_stack(arrays):
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"default_collate: cannot stack samples of different shapes {sorted(shapes)}")
    return np.stack(arrays)


# ---- the loader ----------------------------------------------------------------------------------
class DataLoader:
    """Iterates over a dataset in mini-batches, as PyTorch's DataLoader.

    DataLoader(dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
    collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None, generator=None)

    shuffle: a new order every epoch (every iteration over the loader) from `generator` (a fastgrad
    or numpy Generator), or from fastgrad's generator (fg.manual_seed) when None.
    The array form DataLoader(X, Y, ..., seed=None, dtype=float32) also takes `seed` (a generator
    of its own, so the sequence of orders is fixed) and `dtype` (what float arrays become)."""

    def __init__(self, *datasets, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 generator=None, prefetch_factor=None, persistent_workers=False, seed=None, dtype=None):
        if not datasets:
            raise ValueError("DataLoader needs a dataset or at least one array")
        if not _is_int(num_workers) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give either seed (the array form) or generator, not both")
        if len(datasets) > 1 or not _is_map_style(datasets[0]):
            # the array form: aligned arrays (one array or tensor alone is PyTorch's form, batched to one tensor)
            one = (len(datasets) == 1 and isinstance(datasets[0], (np.ndarray, Tensor))
                   and seed is None and dtype is None)
            float_dtype = as_dtype(dtype) if dtype is not None else (None if one else float32)
            dataset = (_OneArray if one else _Arrays)(datasets, float_dtype)
        else:
            dataset = datasets[0]
            if dtype is not None:
                raise ValueError("DataLoader: dtype applies to the array form DataLoader(X, Y, ...) only")
        self.dataset, self.num_workers, self.collate_fn = dataset, int(num_workers), collate_fn
        if num_workers > 0 and worker_init_fn is not None:
            warnings.warn(f"DataLoader: num_workers={num_workers} loads in the main process, so worker_init_fn is not "
                          f"called (and get_worker_info() is None)", stacklevel=2)
        if isinstance(dataset, IterableDataset):
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: an IterableDataset takes no shuffle, sampler or batch_sampler")
            if not self._check_unbatched(batch_size, drop_last):
                _check_batch_size(batch_size, "DataLoader")
            self.batch_size = None if batch_size is None else int(batch_size)
            self.drop_last, self.generator = bool(drop_last), generator
            self.sampler = self.batch_sampler = None
            return
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: the dataset ({type(dataset).__name__}) has no __len__: a map-style dataset "
                            f"needs __len__ and __getitem__ (a stream: subclass IterableDataset)")
        self.generator = np.random.default_rng(seed) if seed is not None else generator
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                                 "and drop_last")
            self.batch_size, self.drop_last = None, False
        else:
            unbatched = self._check_unbatched(batch_size, drop_last)
            if not unbatched:
                _check_batch_size(batch_size, "DataLoader")
            if sampler is not None and shuffle:
                raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
            if sampler is None:
                sampler = RandomSampler(dataset, generator=self.generator) if shuffle else SequentialSampler(dataset)
            batch_sampler = None if unbatched else BatchSampler(sampler, batch_size, drop_last)
            self.batch_size, self.drop_last = None if unbatched else int(batch_size), bool(drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler

    @staticmethod
    def _check_unbatched(batch_size, drop_last):
        """batch_size=None: samples one by one, each through collate_fn (default_convert), as PyTorch's."""
        if batch_size is not None:
            return False
        if drop_last:
            raise ValueError("DataLoader: batch_size=None (samples one by one) is mutually exclusive with drop_last")
        return True

    @property
    def shuffle(self):
        return isinstance(self.sampler, RandomSampler)

    @property
    def _one_by_one(self):   # batch_size=None (a batch_sampler also leaves batch_size None)
        return self.batch_size is None and self.batch_sampler is None

    def __len__(self):
        if self._one_by_one:
            return len(self.sampler if self.sampler is not None else self.dataset)
        if self.batch_sampler is None:   # a stream: its length only if it says
            n = len(self.dataset)
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.batch_sampler)

    def __iter__(self):
        if self._one_by_one:
            convert = self.collate_fn or default_convert
            samples = iter(self.dataset) if self.sampler is None else (self.dataset[i] for i in self.sampler)
            return (convert(sample) for sample in samples)
        if self.batch_sampler is None:
            return self._stream()
        return self._batches()

    def _stream(self):
        collate, batch = self.collate_fn or default_collate, []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)

    def _batches(self):
        gather = getattr(self.dataset, "_gather", None)
        if gather is not None and self.collate_fn is None and isinstance(self.batch_sampler, BatchSampler):
            for rows in self.batch_sampler._index_arrays():   # the fast path: one gather per array and batch
                yield gather(rows)
            return
        collate = self.collate_fn or default_collate
        for indices in self.batch_sampler:
            yield collate([self.dataset[i] for i in indices])


# ---- helpers -------------------------------------------------------------------------------------
def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _check_batch_size(batch_size, who):
    if not _is_int(batch_size) or batch_size <= 0:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r}")


def _is_map_style(obj):
    """A dataset object rather than data: numpy arrays and tensors are the array form."""
    return (not isinstance(obj, (np.ndarray, Tensor, np.generic, numbers.Number))
            and hasattr(obj, "__getitem__"))


def _as_array(a, what):
    array = numeric_array(a, what)
    if array.ndim == 0:
        raise ValueError(f"{what} is a scalar; it needs a first axis to batch along")
    return array


def _check_generator(generator):
    if generator is not None and not isinstance(generator, (random.Generator, np.random.Generator)):
        raise TypeError(f"generator must be a fastgrad Generator or None, got {type(generator).__name__}")


def _permutation(n, generator):
    """A random order of range(n) as an int64 numpy array: from a fastgrad Generator (its C
    kernel), a numpy Generator, or fastgrad's host generator (fg.manual_seed) for None."""
    if isinstance(generator, random.Generator):
        return random.randperm(n, generator=generator).numpy()
    return (generator or _default_generator()).permutation(n)


def _draws(n, count, generator):
    """count indices drawn uniformly from range(n), with replacement."""
    if isinstance(generator, random.Generator):
        return random.randint(0, n, (count,), generator=generator).numpy()
    return (generator or _default_generator()).integers(0, n, count)


def _target(array, float_dtype):
    """What a batch of `array` becomes: floats float_dtype (or their own precision), ints int64,
    bools bool."""
    kind = array.dtype.kind
    if kind == "f":
        return float_dtype or (float64 if array.dtype == np.float64 else float32)
    return bool_ if kind == "b" else int64


def _to_fastgrad(array, float_dtype):
    """A batch (or sample) as a new tensor (floats cast to float_dtype when given)."""
    array = np.asarray(array)
    out = empty(array.shape, _target(array, float_dtype))
    if array.size:
        out.numpy()[...] = array
    return out


def _gather(array, rows, float_dtype):
    """array[rows] as a new batch, by one numpy take (or slice copy) into the new buffer."""
    target = _target(array, float_dtype)
    count = len(range(*rows.indices(len(array)))) if isinstance(rows, slice) else len(rows)
    out = empty((count,) + array.shape[1:], target)
    if math.prod(out._shape):
        view = out.numpy()
        if isinstance(rows, slice) or view.dtype != array.dtype:
            view[...] = array[rows]
        else:
            np.take(array, rows, axis=0, out=view)
    return out

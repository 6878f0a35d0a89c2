"""fg.data.DataLoader: batches, shuffling with a seed, the last partial batch, types, errors."""
import numpy as np
import pytest

import fastgrad as fg

X = np.arange(20, dtype=np.float64).reshape(10, 2)
Y = np.arange(10)


def rows_of(loader):
    return [y.tolist() for _, y in loader]


def test_in_order_without_shuffle_keeping_the_partial_batch():
    loader = fg.data.DataLoader(X, Y, batch_size=4)
    assert len(loader) == 3 and rows_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, y = next(iter(loader))
    assert isinstance(x, fg.Tensor) and x.dtype is fg.float32 and x.shape == (4, 2)
    assert isinstance(y, fg.Tensor) and y.dtype is fg.int64
    np.testing.assert_array_equal(x.numpy(), X[:4])


def test_drop_last():
    loader = fg.data.DataLoader(X, Y, batch_size=4, drop_last=True)
    assert len(loader) == 2 and rows_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(fg.data.DataLoader(X, Y, batch_size=5, drop_last=True)) == 2   # exact: nothing dropped


def test_shuffle_covers_every_sample_once_with_a_new_order_each_epoch():
    loader = fg.data.DataLoader(X, Y, batch_size=3, shuffle=True, seed=0)
    first, second = sum(rows_of(loader), []), sum(rows_of(loader), [])
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    for x, y in loader:   # inputs stay aligned with their targets
        np.testing.assert_array_equal(x.numpy(), X[y.numpy()])


def test_the_seed_fixes_the_sequence_of_orders():
    a = fg.data.DataLoader(X, Y, batch_size=4, shuffle=True, seed=3)
    b = fg.data.DataLoader(X, Y, batch_size=4, shuffle=True, seed=3)
    assert [rows_of(a) for _ in range(3)] == [rows_of(b) for _ in range(3)]
    fg.manual_seed(1)
    c = rows_of(fg.data.DataLoader(X, Y, batch_size=4, shuffle=True))   # no seed: fg.manual_seed's generator
    fg.manual_seed(1)
    assert rows_of(fg.data.DataLoader(X, Y, batch_size=4, shuffle=True)) == c


def test_float_targets_dtype_and_tensor_inputs():
    loader = fg.data.DataLoader(fg.tensor(X), X[:, :1], batch_size=10, dtype=fg.float64)
    x, y = next(iter(loader))
    assert x.dtype is fg.float64 and y.dtype is fg.float64 and y.shape == (10, 1)
    # one array alone is PyTorch's form: each batch is one tensor, of the array's float dtype
    batches = [(b.shape, b.dtype) for b in fg.data.DataLoader(X, batch_size=6)]
    assert batches == [((6, 2), fg.float64), ((4, 2), fg.float64)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="different lengths"):
        fg.data.DataLoader(X, Y[:9])
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        fg.data.DataLoader(X, Y, batch_size=0)
    with pytest.raises(ValueError, match="a dataset or at least one array"):
        fg.data.DataLoader(batch_size=2)
    with pytest.raises(TypeError, match="numpy dtype <U1"):
        fg.data.DataLoader(np.array(list("abc")))
    with pytest.raises(ValueError, match="scalar"):
        fg.data.DataLoader(np.float64(1.0))


# ---- PyTorch's form: map-style datasets, samplers, default_collate, fastgrad.utils.data ----------
def values(batch):
    """A collated value as a plain numpy array, whether it came out as a tensor or an array."""
    return batch.numpy() if isinstance(batch, fg.Tensor) else np.asarray(batch)


class Squares(fg.data.Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        if not 0 <= i < 7:
            raise IndexError(i)
        return {"x": fg.tensor([i, i * i], dtype=fg.float64), "i": i, "f": i / 2, "name": f"s{i}"}


def test_map_style_dataset_with_default_collate():
    loader = fg.data.DataLoader(Squares(), batch_size=3)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    b = batches[0]
    assert b["x"].shape == (3, 2) and b["x"].dtype is fg.float64
    np.testing.assert_array_equal(b["x"].numpy(), [[0, 0], [1, 1], [2, 4]])
    np.testing.assert_array_equal(values(b["i"]), [0, 1, 2])
    assert values(b["i"]).dtype == np.int64
    assert b["f"].dtype is fg.float64 and b["f"].tolist() == [0.0, 0.5, 1.0]   # Python floats: float64
    assert b["name"] == ["s0", "s1", "s2"]
    assert values(batches[-1]["i"]).tolist() == [6]


def test_default_collate_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    samples = [((np.float32(i), [i, i + 1], np.full(3, i, np.float32)), {"k": float(i)}) for i in range(4)]
    ours, theirs = fg.data.default_collate(samples), torch_collate(samples)
    assert type(ours) is type(theirs) is list and type(ours[0]) is type(theirs[0]) is list

    def flat(a, b):
        if isinstance(b, torch.Tensor):
            got = values(a)
            assert got.dtype == b.numpy().dtype and got.shape == tuple(b.shape)
            np.testing.assert_array_equal(got, b.numpy())
        elif isinstance(b, dict):
            assert a.keys() == b.keys()
            for k in b:
                flat(a[k], b[k])
        else:
            assert len(a) == len(b)
            for x, y in zip(a, b):
                flat(x, y)
    flat(ours, theirs)


def test_tensor_dataset_fast_path_gathers_whole_batches():
    xs, ys = fg.tensor(X, dtype=fg.float64), np.arange(10)
    dataset = fg.data.TensorDataset(xs, ys)
    assert len(dataset) == 10
    x5, y5 = dataset[5]
    np.testing.assert_array_equal(x5.numpy(), X[5])
    assert int(values(y5)) == 5
    fg.manual_seed(0)
    loader = fg.data.DataLoader(dataset, batch_size=4, shuffle=True)
    seen = []
    for x, y in loader:
        assert x.dtype is fg.float64
        np.testing.assert_array_equal(x.numpy(), X[values(y)])
        seen += values(y).tolist()
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    # the fast path and per-sample collation give the same batches
    slow = fg.data.DataLoader(dataset, batch_size=4, collate_fn=fg.data.default_collate)
    for (a, b), (c, d) in zip(fg.data.DataLoader(dataset, batch_size=4), slow):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(values(b), values(d))


def test_generator_and_samplers():
    dataset = list(range(10))
    first = [values(b).tolist() for b in fg.data.DataLoader(dataset, batch_size=4, shuffle=True,
                                                             generator=np.random.default_rng(5))]
    again = [values(b).tolist() for b in fg.data.DataLoader(dataset, batch_size=4, shuffle=True,
                                                             generator=np.random.default_rng(5))]
    assert first == again and sorted(sum(first, [])) == dataset
    sampler = fg.data.SequentialSampler(dataset)
    loader = fg.data.DataLoader(dataset, batch_sampler=fg.data.BatchSampler(sampler, 3, drop_last=True))
    assert [values(b).tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(loader) == 3
    draws = list(fg.data.RandomSampler(dataset, replacement=True, num_samples=25, generator=np.random.default_rng(0)))
    assert len(draws) == 25 and set(draws) <= set(dataset)


def test_distributed_sampler_splits_every_epoch_the_same_way_on_every_rank():
    dataset = list(range(11))
    parts = [fg.data.DistributedSampler(dataset, num_replicas=3, rank=r, seed=7) for r in range(3)]
    for epoch in range(3):
        for s in parts:
            s.set_epoch(epoch)
        lists = [list(s) for s in parts]
        assert all(len(part) == len(s) == 4 for part, s in zip(lists, parts))
        together = sum(lists, [])
        assert set(together) == set(dataset) and len(together) == 12   # one index repeated as padding
        if epoch == 0:
            first = lists
    assert lists != first   # set_epoch reshuffles
    no_pad = [list(fg.data.DistributedSampler(dataset, 3, r, shuffle=False, drop_last=True)) for r in range(3)]
    assert no_pad == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    with pytest.raises(ValueError, match="rank 3"):
        fg.data.DistributedSampler(dataset, num_replicas=3, rank=3)


def test_utils_data_is_the_same_module():
    import fastgrad.utils.data
    from fastgrad.utils.data import DataLoader, Dataset
    assert fastgrad.utils.data is fg.data and DataLoader is fg.data.DataLoader and Dataset is fg.data.Dataset
    from fastgrad.utils.data.distributed import DistributedSampler
    assert DistributedSampler is fg.data.DistributedSampler


def test_unbounded_or_unsupported_datasets_are_clear_errors():
    class Endless:   # __getitem__ that never raises IndexError and no __len__
        def __getitem__(self, i):
            return 1.0
    with pytest.raises(TypeError, match="no __len__"):
        fg.data.DataLoader(Endless(), batch_size=2)
    with pytest.raises(ValueError, match="num_workers"):
        fg.data.DataLoader(list(range(4)), num_workers=-1)
    with pytest.raises(ValueError, match="mutually exclusive"):
        fg.data.DataLoader(list(range(4)), sampler=fg.data.SequentialSampler(range(4)), shuffle=True)
    with pytest.raises(TypeError, match="generator must be"):
        fg.data.DataLoader(list(range(4)), shuffle=True, generator=3)
    with pytest.raises(ValueError, match="different shapes"):
        list(fg.data.DataLoader([np.zeros(2), np.zeros(3)], batch_size=2))
    with pytest.raises(ValueError, match="cannot stack"):
        list(fg.data.DataLoader([fg.zeros(2), fg.zeros(3)], batch_size=2))
    with pytest.raises(TypeError, match="cannot batch"):
        list(fg.data.DataLoader([object(), object()], batch_size=2))
    with pytest.raises(ValueError, match="different first dimensions"):
        fg.data.TensorDataset(fg.zeros(3, 2), np.zeros(4))


def test_a_fastgrad_generator_fixes_the_shuffle():
    def orders(seed):
        g = fg.Generator().manual_seed(seed)
        loader = fg.data.DataLoader(list(range(10)), batch_size=10, shuffle=True, generator=g)
        return [next(iter(loader)).tolist() for _ in range(3)]
    first = orders(4)
    assert first == orders(4) and first != orders(5)
    assert all(sorted(o) == list(range(10)) for o in first) and first[0] != first[1]
    g = fg.Generator().manual_seed(0)
    draws = list(fg.data.RandomSampler(range(5), replacement=True, num_samples=50, generator=g))
    assert len(draws) == 50 and set(draws) <= set(range(5))


def test_subset_and_random_split():
    dataset = fg.data.TensorDataset(fg.tensor(X), np.arange(10))
    train, test = fg.data.random_split(dataset, [0.75, 0.25], generator=fg.Generator().manual_seed(0))
    assert (len(train), len(test)) == (8, 2)   # floor 7 + 2, remainder 1 to the first part
    assert sorted(train.indices + test.indices) == list(range(10))
    rows = []
    for x, y in fg.data.DataLoader(train, batch_size=3):   # the gather path through the Subset
        np.testing.assert_array_equal(x.numpy(), X[y.numpy()])
        rows += y.tolist()
    assert rows == train.indices
    x, y = test[1]
    assert int(y.item()) == test.indices[1]
    with pytest.raises(ValueError, match="summing"):
        fg.data.random_split(dataset, [3, 3])


def test_num_workers_loads_the_same_batches_in_the_main_process():
    data = fg.data.TensorDataset(fg.arange(10), fg.arange(10) * 2)
    plain = [x.tolist() for x, _ in fg.data.DataLoader(data, batch_size=4, shuffle=True, generator=fg.Generator().manual_seed(3))]
    workers = fg.data.DataLoader(data, batch_size=4, shuffle=True, num_workers=4, pin_memory=True, persistent_workers=True,
                                 prefetch_factor=2, generator=fg.Generator().manual_seed(3))
    assert [x.tolist() for x, _ in workers] == plain and workers.num_workers == 4
    with pytest.warns(UserWarning, match="worker_init_fn is not called"):
        fg.data.DataLoader(data, batch_size=4, num_workers=2, worker_init_fn=lambda worker_id: None)
    assert fg.utils.data.get_worker_info() is None


def test_iterable_dataset_is_batched_as_it_streams():
    class Stream(fg.utils.data.IterableDataset):
        def __iter__(self):
            return iter(fg.tensor([float(i), -float(i)]) for i in range(5))
    batches = list(fg.utils.data.DataLoader(Stream(), batch_size=2))
    assert [b.tolist() for b in batches] == [[[0.0, -0.0], [1.0, -1.0]], [[2.0, -2.0], [3.0, -3.0]], [[4.0, -4.0]]]
    assert len(list(fg.utils.data.DataLoader(Stream(), batch_size=2, drop_last=True))) == 2
    with pytest.raises(ValueError, match="IterableDataset"):
        fg.utils.data.DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError):
        len(fg.utils.data.DataLoader(Stream(), batch_size=2))   # a stream without __len__


def test_subset_and_weighted_random_samplers():
    data = fg.data.TensorDataset(fg.arange(10))
    fg.manual_seed(0)
    seen = [x.tolist() for (x,) in fg.data.DataLoader(data, batch_size=2, sampler=fg.data.SubsetRandomSampler([1, 3, 5, 7]))]
    assert sorted(sum(seen, [])) == [1, 3, 5, 7] and len(seen) == 2
    sampler = fg.data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 4000)
    draws = np.array(list(sampler))
    assert set(draws.tolist()) <= {1, 3} and abs((draws == 3).mean() - 0.75) < 0.04 and len(sampler) == 4000
    assert sorted(fg.data.WeightedRandomSampler([1.0, 1.0, 2.0], 3, replacement=False)) == [0, 1, 2]
    with pytest.raises(ValueError, match="weights"):
        fg.data.WeightedRandomSampler([-1.0, 1.0], 2)
    with pytest.raises(ValueError, match="without replacement"):
        fg.data.WeightedRandomSampler([0.0, 1.0], 2, replacement=False)


def _unbatched(lib):
    """DataLoader(batch_size=None): the samples one by one, numpy converted, nothing stacked."""
    data = lib.utils.data

    class Rows(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(2, i, dtype=np.float32), i, {"a": np.int64(i)}

    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter([np.ones(3), (1, np.float64(2.5)), "text"])
    loader = data.DataLoader(Rows(), batch_size=None)
    seen = [(type(x).__name__, tuple(x.shape), x.tolist(), y, type(d["a"]).__name__, int(d["a"]))
            for x, y, d in loader]
    stream = [v if isinstance(v, str) else type(v).__name__ for v in data.DataLoader(Stream(), batch_size=None)]
    shuffled = sorted(int(x[0]) for x, _, _ in data.DataLoader(Rows(), batch_size=None, shuffle=True))
    custom = list(data.DataLoader(Rows(), batch_size=None, collate_fn=lambda sample: sample[1] * 10))
    return len(loader), seen, stream, shuffled, custom


def test_batch_size_none_yields_samples_one_by_one_as_pytorch():
    torch = pytest.importorskip("torch")
    assert _unbatched(fg) == _unbatched(torch)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        fg.utils.data.DataLoader(fg.utils.data.TensorDataset(fg.ones(3)), batch_size=None, drop_last=True)

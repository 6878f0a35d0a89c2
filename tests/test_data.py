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
    assert isinstance(y, np.ndarray) and y.dtype == np.int64
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
        np.testing.assert_array_equal(x.numpy(), X[y])


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
    assert [b[0].shape for b in fg.data.DataLoader(X, batch_size=6)] == [(6, 2), (4, 2)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="different lengths"):
        fg.data.DataLoader(X, Y[:9])
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        fg.data.DataLoader(X, Y, batch_size=0)
    with pytest.raises(ValueError, match="at least one array"):
        fg.data.DataLoader(batch_size=2)
    with pytest.raises(TypeError, match="numpy dtype <U1"):
        fg.data.DataLoader(np.array(list("abc")))
    with pytest.raises(ValueError, match="scalar"):
        fg.data.DataLoader(np.float64(1.0))

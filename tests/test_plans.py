"""The per-shape plans that everyday ops keep (slicing, view, sum/mean, reductions, cat): a plan made
for a good argument must never answer for a bad one that compares equal to it (True == 1), nor
for another shape, and results must stay those of the first call."""
import numpy as np
import pytest

import fastgrad as fg


def test_a_cached_plan_never_answers_for_a_bool_argument():
    x = fg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    # the good calls first, so that their plans exist
    assert x[:1].shape == (1, 3) and x.sum(dim=1).shape == (2,) and x.max(dim=1).values.shape == (2,)
    assert fg.cat([x, x], dim=1).shape == (2, 6) and x.view(1, 6).shape == (1, 6)
    with pytest.raises(IndexError, match="slice bound True"):
        x[:True]
    with pytest.raises(TypeError, match="dim must be an integer"):
        x.sum(dim=True)
    with pytest.raises(TypeError, match="dim must be an integer"):
        x.max(dim=True)
    with pytest.raises(TypeError, match="dim must be an integer"):
        fg.cat([x, x], dim=True)
    with pytest.raises(TypeError, match="must hold integers"):
        x.view(True, 6)


def test_plans_follow_the_shape():
    for shape in [(2, 3), (4, 3), (2, 5), (0, 3)]:
        a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        x = fg.tensor(a)
        for _ in range(2):   # the second call takes the kept plan
            assert np.array_equal(x[:, 1:].numpy(), a[:, 1:])
            assert np.array_equal(x[:1, ::2].numpy(), a[:1, ::2])
            assert np.allclose(x.sum(dim=1).numpy(), a.sum(1)) and np.allclose(x.sum(dim=0, keepdim=True).numpy(),
                                                                                a.sum(0, keepdims=True))
            assert np.array_equal(x.view(-1).numpy(), a.reshape(-1))
            assert np.array_equal(fg.cat([x, x], dim=1).numpy(), np.concatenate([a, a], 1))
            if shape[0]:
                assert np.array_equal(x.max(dim=0).values.numpy(), a.max(0))
    with pytest.raises(ValueError, match="invalid for input of size 15"):
        fg.zeros(3, 5).view(-1, 4)
    fg.zeros(3, 4).view(-1, 4)
    with pytest.raises(ValueError, match="invalid for input of size 15"):
        fg.zeros(3, 5).view(-1, 4)   # the (-1, 4) plan of a 3x4 input is not a 3x5 one's


def test_index_tensor_fast_path_wraps_and_checks_like_the_general_one():
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    x = fg.tensor(a, requires_grad=True)
    idx = fg.tensor([3, 0, 3])
    assert np.array_equal(x[idx].numpy(), a[[3, 0, 3]])
    assert np.array_equal(x[fg.tensor([-1, 0])].numpy(), a[[-1, 0]])
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        x[fg.tensor([0, 4])]
    out = x[idx]
    idx[0] = 1   # the selection keeps its own offsets: a later write to the index does not move the gradient
    out.sum().backward()
    assert np.array_equal(x.grad.numpy()[:, 0], [1, 0, 0, 2])

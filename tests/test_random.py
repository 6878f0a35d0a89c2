"""Random draws from the counter-based C generator, the constructors from numbers, nn.init."""
import math

import numpy as np
import pytest

import fastgrad as fg


def test_same_seed_same_numbers_and_generators_are_independent():
    fg.manual_seed(3)
    a = [fg.randn(5).tolist(), fg.rand(3).tolist(), fg.randint(0, 9, (4,)).tolist(), fg.randperm(6).tolist()]
    fg.manual_seed(3)
    b = [fg.randn(5).tolist(), fg.rand(3).tolist(), fg.randint(0, 9, (4,)).tolist(), fg.randperm(6).tolist()]
    assert a == b
    g1, g2 = fg.Generator().manual_seed(1), fg.Generator().manual_seed(1)
    fg.randn(100)   # the default generator's draws do not move g2
    assert fg.randn(4, generator=g1).tolist() == fg.randn(4, generator=g2).tolist()
    state = g1.get_state()
    first = fg.rand(3, generator=g1).tolist()
    g1.set_state(state)
    assert fg.rand(3, generator=g1).tolist() == first


def test_draws_do_not_depend_on_the_thread_count():
    threads = fg.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            fg.set_num_threads(n)
            fg.manual_seed(5)
            results.append((fg.randn(300_001).numpy().copy(), fg.rand(200_003, dtype=fg.float64).numpy().copy()))
        for x, y in zip(*results):
            assert np.array_equal(x, y)
    finally:
        fg.set_num_threads(threads)


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_distributions(dtype):
    fg.manual_seed(0)
    n = 200_000
    z = fg.randn(n, mean=2.0, std=3.0, dtype=dtype).numpy()
    assert abs(z.mean() - 2.0) < 0.05 and abs(z.std() - 3.0) < 0.05
    u = fg.rand(n, dtype=dtype).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    r = fg.randint(-3, 4, (n,)).numpy()
    assert r.min() == -3 and r.max() == 3 and np.all(np.bincount(r + 3) > n / 7 * 0.95)
    assert sorted(fg.randperm(1000).tolist()) == list(range(1000))


def test_multinomial():
    fg.manual_seed(0)
    counts = np.bincount(fg.multinomial(fg.tensor([0.2, 0.0, 0.8]), 20_000, replacement=True).numpy(), minlength=3)
    assert counts[1] == 0 and abs(counts[0] / 20_000 - 0.2) < 0.02
    rows = fg.multinomial(fg.ones(3, 5), 5)
    assert rows.shape == (3, 5) and all(sorted(r) == list(range(5)) for r in rows.tolist())
    with pytest.raises(ValueError, match="without replacement"):
        fg.multinomial(fg.ones(3), 4)
    with pytest.raises(ValueError, match="non-negative"):
        fg.multinomial(fg.tensor([1.0, -1.0]), 1)


def test_constructors_from_numbers():
    assert fg.arange(5).tolist() == [0, 1, 2, 3, 4] and fg.arange(5).dtype is fg.int64
    assert fg.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75] and fg.arange(1, 2, 0.25).dtype is fg.float32
    assert fg.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert fg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert fg.linspace(-1, 3, 7, dtype=fg.float64).tolist()[-1] == 3.0
    assert fg.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert fg.full((2, 2), 7).dtype is fg.int64 and fg.full((2,), 0.5).tolist() == [0.5, 0.5]
    assert fg.full((1,), True).dtype is fg.bool
    assert fg.zeros_like(fg.eye(2), dtype=fg.int64).dtype is fg.int64
    assert fg.empty(2, 3).shape == (2, 3) and fg.ones_like(fg.eye(2)).tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError, match="step"):
        fg.arange(0, 5, 0)
    with pytest.raises(ValueError, match="direction"):
        fg.arange(0, 5, -1)


def test_init_functions_fill_in_place_with_pytorch_bounds():
    fg.manual_seed(0)
    w = fg.empty(256, 128)
    assert fg.nn.init.kaiming_uniform_(w, a=math.sqrt(5)) is w
    bound = 1 / math.sqrt(128)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.9 * bound
    fg.nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() - math.sqrt(2 / (256 + 128))) < 0.005
    fg.nn.init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert np.abs(w.numpy()).max() <= 0.5
    fg.nn.init.zeros_(w)
    assert not w.numpy().any()
    fg.nn.init.constant_(w, 0.3)
    assert np.allclose(w.numpy(), 0.3)
    p = fg.nn.Linear(3, 2).weight
    fg.nn.init.normal_(p, std=0.02)   # a parameter that requires grad: init runs under no_grad
    assert p.requires_grad
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fg.nn.init.xavier_uniform_(fg.empty(3))


def test_in_place_draws_follow_the_leaf_rule():
    p = fg.zeros(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        p.normal_()
    with fg.no_grad():
        p.uniform_(-1, 1)
    assert np.abs(p.numpy()).max() <= 1 and p.numpy().any()


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_draws_of_partial_groups_are_finite_and_replays_move_on(dtype):
    # draws take whole groups of 16 Philox blocks (64 floats, 32 doubles): sizes around a group
    for n in (1, 31, 33, 63, 64, 65, 129):
        fg.manual_seed(7)
        first, second = fg.randn(n, dtype=dtype).numpy(), fg.randn(n, dtype=dtype).numpy()
        assert np.isfinite(first).all() and not np.array_equal(first, second)
        fg.manual_seed(7)
        assert np.array_equal(fg.randn(n, dtype=dtype).numpy(), first)
    z = fg.randn(64 * 4096).numpy()   # the float32 log and sin/cos: the normal's quantiles
    assert np.allclose(np.quantile(z, [0.01, 0.1, 0.5, 0.9, 0.99]), [-2.326, -1.2816, 0, 1.2816, 2.326], atol=0.03)


def test_a_program_that_never_seeds_draws_the_same_numbers_every_run():
    """As PyTorch: the default generator and a new Generator start from the same fixed seed, and so
    does the host generator behind shuffle orders; seed() picks a non-deterministic one."""
    import subprocess
    import sys
    program = ("import fastgrad as fg; print(fg.initial_seed(), fg.randn(3).tolist(), fg.randint(0, 9, (4,)).tolist(), "
               "[b.tolist() for b, in fg.data.DataLoader(fg.data.TensorDataset(fg.arange(6)), batch_size=3, "
               "shuffle=True)])")
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].startswith("67280421310721 ")
    assert fg.Generator().initial_seed() == 67280421310721
    g = fg.Generator()
    assert g.seed() != 67280421310721 and g.initial_seed() != 67280421310721

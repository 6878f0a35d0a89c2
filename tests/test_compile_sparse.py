"""fg.compile of a step with sparse embeddings (nn.Embedding(sparse=True)) and SparseAdam, as
examples/word2vec.py trains (and SGD, which applies sparse rows as they come): the replay reads new
indices each step, coalesces the rows in C and updates only them, to the eager step's bits over 100
steps, with nothing allocated per replay; what stays on the host (padding_idx, coalesce()) is
refused at capture."""
import os
import sys
import tracemalloc

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import nn

pytest.importorskip("tqdm")   # examples/word2vec.py, whose model these tests train, needs its extras
pytest.importorskip("matplotlib")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
from word2vec import make_model  # noqa: E402

CaptureError = sys.modules["fastgrad.compile"].CaptureError
VOCAB, DIM, BATCH, NEGATIVES = 50, 8, 16, 5   # a small vocabulary: rows repeat within a batch


def word2vec_step(seed=0, lr=0.05, vocab=VOCAB, dim=DIM, optimizer="SparseAdam"):
    fg.manual_seed(seed)
    model = make_model(fg, vocab, dim)
    opt = getattr(fg.optim, optimizer)(model.parameters(), lr=lr)

    def step(centers, targets, signs):   # examples/word2vec.py's training step
        loss = model(centers, targets, signs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return model, opt, step


def word2vec_batches(n, seed=0, vocab=VOCAB, batch=BATCH):
    rng = np.random.default_rng(seed)
    signs = fg.tensor(np.array([1.0] + [-1.0] * NEGATIVES, dtype=np.float32))
    return [(fg.tensor(rng.integers(0, vocab, batch)), fg.tensor(rng.integers(0, vocab, (batch, 1 + NEGATIVES))),
             signs) for _ in range(n)]


def bits(t):
    return t.numpy().tobytes()


@pytest.mark.parametrize("optimizer", ["SparseAdam", "SGD"])   # SGD without momentum keeps gradients sparse
def test_word2vec_100_steps_same_bits_as_eager(optimizer):
    eager_model, eager_opt, eager = word2vec_step(optimizer=optimizer)
    model, opt, step = word2vec_step(optimizer=optimizer)
    compiled = fg.compile(step)
    for i, batch in enumerate(word2vec_batches(100)):
        if i == 50:   # a learning rate changed between steps takes effect in the replay
            eager_opt.param_groups[0]["lr"] = opt.param_groups[0]["lr"] = 0.01
        assert bits(eager(*batch)) == bits(compiled(*batch)), f"step {i}"
    assert len(compiled.plans) == 1 and compiled.last is not None   # replayed, not re-recorded
    for p, q in zip(eager_model.parameters(), model.parameters()):
        assert bits(p) == bits(q)
        assert p.grad.indices.tolist() == q.grad.indices.tolist() and bits(p.grad.values) == bits(q.grad.values)
    for p, q in zip(eager_opt.state.values(), opt.state.values()):
        assert p.keys() == q.keys() and all(bits(p[k]) == bits(q[k]) for k in p)
    assert int(next(iter(opt.state.values()))["step"].item()) == 100


def test_a_table_used_twice_in_a_step_replays():
    """Two lookups into one table: the sparse gradients are concatenated (kernel copies)."""
    def make():
        fg.manual_seed(1)
        table = nn.Embedding(VOCAB, DIM, sparse=True)
        opt = fg.optim.SparseAdam(table.parameters(), lr=0.05)

        def step(a, b):
            opt.zero_grad()
            (table(a) * table(b)).sum().backward()
            opt.step()
            return table.weight
        return step
    eager, compiled = make(), fg.compile(make())
    rng = np.random.default_rng(3)
    for i in range(20):
        a, b = (fg.tensor(rng.integers(0, VOCAB, (4, 3))) for _ in range(2))
        assert bits(eager(a, b)) == bits(compiled(a, b)), f"step {i}"


def test_out_of_range_indices_are_checked_on_replay():
    _, _, step = word2vec_step()
    compiled = fg.compile(step)
    batch = word2vec_batches(1)[0]
    compiled(*batch)
    compiled(*batch)
    with pytest.raises(IndexError, match="out of range"):
        compiled(fg.tensor(np.full(BATCH, VOCAB)), batch[1], batch[2])


def test_zero_allocations_per_replayed_sparse_step(monkeypatch):
    from test_compile import count_buffer_allocations
    buffers = count_buffer_allocations(monkeypatch)
    _, _, step = word2vec_step()
    compiled = fg.compile(step)
    data = word2vec_batches(3)
    for i in range(30):   # (the interpreter specialises new code within its first calls, once)
        compiled(*data[i % 3])
    buffers[0] = 0
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    for i in range(20):
        compiled(*data[i % 3])
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert buffers[0] == 0
    assert current - before < 1024 and peak - before < 2048


def test_host_work_on_sparse_gradients_is_refused():
    table = nn.Embedding(VOCAB, DIM, padding_idx=0, sparse=True)
    opt = fg.optim.SparseAdam(table.parameters())

    def padded(i):   # padding_idx: the kept rows are chosen on the host
        opt.zero_grad()
        table(i).sum().backward()
        opt.step()
    compiled = fg.compile(padded)
    i = fg.tensor([[1, 0, 2]])
    compiled(i)
    with pytest.raises(CaptureError, match=r"\.numpy\(\).*host read"):
        compiled(i)

    plain = nn.Embedding(VOCAB, DIM, sparse=True)

    def coalesced(i):   # coalesce() reads the number of distinct rows on the host
        plain.weight.grad = None
        plain(i).sum().backward()
        return plain.weight.grad.coalesce().values
    compiled = fg.compile(coalesced)
    compiled(i)
    with pytest.raises(CaptureError, match=r"\.item\(\)"):
        compiled(i)


def test_sparse_step_same_bits_for_any_thread_count():
    """SparseAdam's rows are split over threads (here ~1000 rows of 64: more than one thread's share),
    the coalesce runs on one: no thread count changes a bit."""
    before = fg.get_num_threads()
    results = []
    try:
        for threads in (1, 3):
            fg.set_num_threads(threads)
            model, _, step = word2vec_step(vocab=2000, dim=64)
            compiled = fg.compile(step)
            losses = [bits(compiled(*batch)) for batch in word2vec_batches(6, vocab=2000, batch=256)]
            results.append((losses, [bits(p) for p in model.parameters()]))
    finally:
        fg.set_num_threads(before)
    assert results[0] == results[1]

"""nn.EmbeddingBag / F.embedding_bag against PyTorch: every mode, 1-D input with offsets (empty bags,
include_last_offset) and 2-D input, per_sample_weights, padding_idx, gradients, bad input."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from fastgrad import nn

torch = pytest.importorskip("torch")
W = np.random.default_rng(0).standard_normal((10, 3))
INPUT, OFFSETS = [1, 2, 4, 5, 4, 3, 2, 9], [0, 4, 4, 6]


def _both(mode, **kw):
    ours = nn.EmbeddingBag.from_pretrained(fg.tensor(W, dtype=fg.float64), freeze=False, mode=mode, **kw)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(W), freeze=False, mode=mode, **kw)
    return ours, theirs


def _check(ours, theirs, args, targs):
    a, b = ours(*args), theirs(*targs)
    g = np.linspace(-1, 1, a.numel()).reshape(a.shape)
    (a * fg.tensor(g, dtype=fg.float64)).sum().backward()
    (b * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_offsets_with_an_empty_bag(mode):
    ours, theirs = _both(mode)
    _check(ours, theirs, (fg.tensor(INPUT), fg.tensor(OFFSETS)), (torch.tensor(INPUT), torch.tensor(OFFSETS)))


@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_two_dimensional_input_and_last_offset_and_padding(mode):
    ours, theirs = _both(mode)
    rows = [[1, 2, 3], [4, 4, 0]]
    _check(ours, theirs, (fg.tensor(rows),), (torch.tensor(rows),))
    ours, theirs = _both(mode, include_last_offset=True, padding_idx=4)
    offsets = OFFSETS + [len(INPUT)]
    _check(ours, theirs, (fg.tensor(INPUT), fg.tensor(offsets)), (torch.tensor(INPUT), torch.tensor(offsets)))


def test_per_sample_weights_get_gradients():
    weights = np.linspace(0.5, 2.0, len(INPUT))
    pw, tpw = fg.tensor(weights, dtype=fg.float64, requires_grad=True), torch.tensor(weights, requires_grad=True)
    a = F.embedding_bag(fg.tensor(INPUT), fg.tensor(W, dtype=fg.float64), fg.tensor(OFFSETS), mode="sum",
                        per_sample_weights=pw)
    b = torch.nn.functional.embedding_bag(torch.tensor(INPUT), torch.tensor(W), torch.tensor(OFFSETS), mode="sum",
                                          per_sample_weights=tpw)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(pw.grad.numpy(), tpw.grad.numpy(), rtol=1e-12)


def test_a_text_classifier_trains():
    fg.manual_seed(0)
    bag, head = nn.EmbeddingBag(20, 4), nn.Linear(4, 2)
    opt = fg.optim.SGD(list(bag.parameters()) + list(head.parameters()), lr=0.5)
    text, offsets, labels = fg.tensor([1, 2, 3, 11, 12, 1, 13, 14]), fg.tensor([0, 3, 5]), fg.tensor([0, 1, 1])
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = F.cross_entropy(head(bag(text, offsets)), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_bad_input():
    w = fg.ones(5, 2)
    with pytest.raises(ValueError, match="mode"):
        F.embedding_bag(fg.tensor([1]), w, fg.tensor([0]), mode="median")
    with pytest.raises(ValueError, match="offsets"):
        F.embedding_bag(fg.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="offsets"):
        F.embedding_bag(fg.tensor([1, 2]), w, fg.tensor([1]))
    with pytest.raises(ValueError, match="2-D"):
        F.embedding_bag(fg.tensor([[1, 2]]), w, fg.tensor([0]))
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(fg.tensor([1, 2]), w, fg.tensor([0]), per_sample_weights=fg.ones(2))
    with pytest.raises(IndexError):
        F.embedding_bag(fg.tensor([1, 7]), w, fg.tensor([0]))

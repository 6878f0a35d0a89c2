"""F.cross_entropy and F.nll_loss on PyTorch's other layouts: classes on dimension 1 of
(N, C, d1, ...) inputs (sequence and segmentation losses), unbatched (C,) inputs, and
class-probability (soft) targets; values and gradients against torch."""
import numpy as np
import pytest

import fastgrad as fg

torch = pytest.importorskip("torch")
F, TF = fg.nn.functional, torch.nn.functional
SHAPES = [(4, 5), (2, 5, 3), (2, 5, 3, 2), (5,)]


def _pair(a):
    return fg.tensor(a, dtype=fg.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


def _kwargs(kw):
    return ({k: (fg.tensor(v, dtype=fg.float64) if k == "weight" else v) for k, v in kw.items()},
            {k: (torch.tensor(v) if k == "weight" else v) for k, v in kw.items()})


def _agree(x, tx, a, b):
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10)
    (a * a).sum().backward()
    (b * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    x.grad = tx.grad = None


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", [{}, {"reduction": "none"}, {"reduction": "sum", "label_smoothing": 0.1},
                                {"weight": np.linspace(0.5, 1.5, 5), "ignore_index": 2}])
def test_class_targets_in_every_layout_match_torch(shape, kw):
    rng = np.random.default_rng(0)
    x, tx = _pair(rng.standard_normal(shape))
    t = rng.integers(0, 5, shape[:1] + shape[2:] if len(shape) > 1 else ())
    fkw, tkw = _kwargs(kw)
    _agree(x, tx, F.cross_entropy(x, fg.tensor(t), **fkw), TF.cross_entropy(tx, torch.tensor(t), **tkw))
    fkw.pop("label_smoothing", None), tkw.pop("label_smoothing", None)
    logp, tlogp = _pair(TF.log_softmax(torch.tensor(rng.standard_normal(shape)), dim=1 if len(shape) > 1 else 0)
                        .numpy())
    _agree(logp, tlogp, F.nll_loss(logp, fg.tensor(t), **fkw), TF.nll_loss(tlogp, torch.tensor(t), **tkw))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", [{}, {"reduction": "none"},
                                {"weight": np.linspace(0.5, 1.5, 5), "label_smoothing": 0.2, "reduction": "sum"}])
def test_class_probability_targets_match_torch(shape, kw):
    rng = np.random.default_rng(1)
    x, tx = _pair(rng.standard_normal(shape))
    p = rng.random(shape)
    p = p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    fkw, tkw = _kwargs(kw)
    _agree(x, tx, F.cross_entropy(x, fg.tensor(p, dtype=fg.float64), **fkw),
           TF.cross_entropy(tx, torch.tensor(p), **tkw))


def test_mismatched_layouts_are_refused_clearly():
    with pytest.raises(ValueError, match=r"expected \(2, 3\) \(classes are dimension 1\)"):
        F.cross_entropy(fg.randn(2, 5, 3), fg.zeros(2, 4, dtype=fg.int64))
    with pytest.raises(ValueError, match="class-probability targets must have the input's shape"):
        F.cross_entropy(fg.randn(2, 5), fg.rand(2, 4))
    with pytest.raises(ValueError, match="'mean', 'sum' or 'none'"):
        F.cross_entropy(fg.randn(2, 5), fg.rand(2, 5), reduction="avg")

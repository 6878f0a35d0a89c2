"""The margin and embedding losses against PyTorch: values and gradients of every input, each
reduction, the module forms and their constructor arguments."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from fastgrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
rng = np.random.default_rng(0)


def _run(fn, arrays, kwargs, grads):
    """fn over fastgrad or torch tensors made of arrays (float64; those in grads require grad); the
    result and the inputs' gradients of sum(result * weights)."""
    lib = fg if fn.__module__.startswith("fastgrad") else torch
    ts = [lib.tensor(a, dtype=lib.float64, requires_grad=i in grads) for i, a in enumerate(arrays)]
    out = fn(*ts, **kwargs)
    weights = lib.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(out.shape), dtype=lib.float64)
    (out * weights).sum().backward()
    return out.detach().numpy(), [ts[i].grad.numpy() for i in grads]


def _compare(name, arrays, grads, **kwargs):
    for reduction in ("mean", "sum", "none"):
        ours = _run(getattr(F, name), arrays, dict(kwargs, reduction=reduction), grads)
        theirs = _run(getattr(TF, name), arrays, dict(kwargs, reduction=reduction), grads)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
        for g, h in zip(ours[1], theirs[1]):
            np.testing.assert_allclose(g, h, rtol=1e-10, atol=1e-12)


def test_margin_ranking_loss():
    target = np.sign(rng.standard_normal(7))
    _compare("margin_ranking_loss", [rng.standard_normal(7), rng.standard_normal(7), target], [0, 1], margin=0.3)
    _compare("margin_ranking_loss", [np.array([1.0, 2.0]), np.array([1.0, 2.5]), np.array([1.0, -1.0])], [0, 1])


def test_hinge_embedding_loss():
    _compare("hinge_embedding_loss", [rng.standard_normal((4, 3)), np.sign(rng.standard_normal((4, 3)))], [0], margin=0.7)


def test_soft_margin_loss():
    _compare("soft_margin_loss", [rng.standard_normal((5, 2)) * 3, np.sign(rng.standard_normal((5, 2)))], [0])


@pytest.mark.parametrize("shape", [(6, 4), (4,)])
def test_cosine_embedding_loss(shape):
    target = np.sign(rng.standard_normal(shape[:-1]))
    _compare("cosine_embedding_loss", [rng.standard_normal(shape), rng.standard_normal(shape), target], [0, 1],
             margin=0.2)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_triplet_margin_loss(swap, p):
    arrays = [rng.standard_normal((5, 3)) for _ in range(3)]
    _compare("triplet_margin_loss", arrays, [0, 1, 2], margin=0.5, p=p, swap=swap)


def test_multilabel_soft_margin_loss():
    x, y = rng.standard_normal((4, 6)), (rng.uniform(size=(4, 6)) > 0.5).astype(float)
    _compare("multilabel_soft_margin_loss", [x, y], [0])
    w = rng.uniform(0.5, 2.0, 6)
    ours = F.multilabel_soft_margin_loss(fg.tensor(x, dtype=fg.float64), fg.tensor(y, dtype=fg.float64),
                                         weight=fg.tensor(w, dtype=fg.float64))
    theirs = TF.multilabel_soft_margin_loss(torch.tensor(x), torch.tensor(y), weight=torch.tensor(w))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


def test_modules_take_pytorchs_arguments():
    a, b, c = (fg.tensor(rng.standard_normal((3, 4)), dtype=fg.float64) for _ in range(3))
    ta, tb, tc = (torch.tensor(t.numpy()) for t in (a, b, c))
    y = fg.tensor([1.0, -1.0, 1.0], dtype=fg.float64)
    ty = torch.tensor(y.numpy())
    pairs = [(nn.TripletMarginLoss(margin=0.3, p=1, swap=True), torch.nn.TripletMarginLoss(margin=0.3, p=1, swap=True),
              (a, b, c), (ta, tb, tc)),
             (nn.CosineEmbeddingLoss(0.1, reduction="sum"), torch.nn.CosineEmbeddingLoss(0.1, reduction="sum"),
              (a, b, y), (ta, tb, ty)),
             (nn.MarginRankingLoss(margin=0.5), torch.nn.MarginRankingLoss(margin=0.5), (a[:, 0], b[:, 0], y),
              (ta[:, 0], tb[:, 0], ty)),
             (nn.HingeEmbeddingLoss(), torch.nn.HingeEmbeddingLoss(), (a[:, 0], y), (ta[:, 0], ty)),
             (nn.SoftMarginLoss(), torch.nn.SoftMarginLoss(), (a[:, 0], y), (ta[:, 0], ty)),
             (nn.MultiLabelSoftMarginLoss(weight=fg.ones(4, dtype=fg.float64)),
              torch.nn.MultiLabelSoftMarginLoss(weight=torch.ones(4, dtype=torch.float64)), (a, (b > 0).double()),
              (ta, (tb > 0).double()))]
    for ours, theirs, args, targs in pairs:
        np.testing.assert_allclose(ours(*args).numpy(), theirs(*targs).numpy(), rtol=1e-10)
    assert list(nn.MultiLabelSoftMarginLoss(weight=fg.ones(4)).state_dict()) == ["weight"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="reduction"):
        F.soft_margin_loss(fg.ones(2), fg.ones(2), reduction="avg")
    with pytest.raises(TypeError, match="Tensor"):
        F.margin_ranking_loss([1.0], fg.ones(1), fg.ones(1))
    with pytest.raises(ValueError, match="dimensions"):
        F.margin_ranking_loss(fg.ones(2, 1), fg.ones(2), fg.ones(2))
    with pytest.raises(ValueError):
        F.triplet_margin_loss(fg.ones(2, 3), fg.ones(3), fg.ones(2, 3))
    with pytest.raises(TypeError, match="unexpected"):
        nn.TripletMarginLoss(margn=1.0)

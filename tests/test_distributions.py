"""fg.distributions against torch.distributions: values, gradients of log_prob and entropy, sample
shapes and frequencies, bad arguments."""
import numpy as np
import pytest

import fastgrad as fg
from fastgrad.distributions import Bernoulli, Categorical, Normal

torch = pytest.importorskip("torch")


def _pair(a, requires_grad=True):
    return fg.tensor(a, dtype=fg.float64, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


@pytest.mark.parametrize("by", ["logits", "probs"])
def test_categorical_log_prob_entropy_and_their_gradients(by):
    rng = np.random.default_rng(0)
    raw = rng.standard_normal((4, 5)) if by == "logits" else rng.uniform(0.1, 2.0, (4, 5))
    ours_p, theirs_p = _pair(raw)
    ours, theirs = Categorical(**{by: ours_p}), torch.distributions.Categorical(**{by: theirs_p})
    value = [0, 3, 4, 1]
    loss = (ours.log_prob(fg.tensor(value)) * fg.tensor([1.0, -2.0, 0.5, 3.0], dtype=fg.float64)).sum() + ours.entropy().sum()
    tloss = (theirs.log_prob(torch.tensor(value)) * torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)).sum() \
        + theirs.entropy().sum()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(ours_p.grad.numpy(), theirs_p.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.probs.detach().numpy(), theirs.probs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.logits.detach().numpy(), theirs.logits.detach().numpy(), rtol=1e-12)


def test_categorical_log_prob_broadcasts_values_over_the_batch():
    logits = np.random.default_rng(1).standard_normal((2, 3))
    ours, theirs = Categorical(logits=fg.tensor(logits)), torch.distributions.Categorical(logits=torch.tensor(logits))
    values = [[0, 2], [1, 1], [2, 0]]   # (3, 2): three samples of the batch of 2
    np.testing.assert_allclose(ours.log_prob(fg.tensor(values)).numpy(), theirs.log_prob(torch.tensor(values)).numpy())


def test_categorical_samples_have_the_right_shape_and_frequencies():
    fg.manual_seed(0)
    d = Categorical(probs=fg.tensor([[0.1, 0.9, 0.0], [0.5, 0.0, 0.5]]))
    assert d.sample().shape == (2,) and d.sample((7,)).shape == (7, 2) and d.sample((3, 4)).shape == (3, 4, 2)
    draws = d.sample((20000,)).numpy()
    assert draws.dtype == np.int64
    np.testing.assert_allclose([(draws[:, 0] == 1).mean(), (draws[:, 1] == 2).mean()], [0.9, 0.5], atol=0.02)
    assert not (draws[:, 0] == 2).any() and not (draws[:, 1] == 1).any()
    assert Categorical(logits=fg.zeros(4)).sample().shape == ()


def test_normal_matches_torch_and_rsample_is_differentiable():
    loc_o, loc_t = _pair(np.array([0.0, 1.5, -2.0]))
    scale_o, scale_t = _pair(np.array([1.0, 0.5, 3.0]))
    ours, theirs = Normal(loc_o, scale_o), torch.distributions.Normal(loc_t, scale_t)
    x = np.array([0.3, 1.0, 4.0])
    x_ = fg.tensor(x, dtype=fg.float64)
    total = ours.log_prob(x_).sum() + ours.entropy().sum() + ours.cdf(x_).sum()
    ttotal = theirs.log_prob(torch.tensor(x)).sum() + theirs.entropy().sum() + theirs.cdf(torch.tensor(x)).sum()
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    total.backward()
    ttotal.backward()
    np.testing.assert_allclose(loc_o.grad.numpy(), loc_t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(scale_o.grad.numpy(), scale_t.grad.numpy(), rtol=1e-10)
    loc_o.grad = scale_o.grad = None
    fg.manual_seed(1)
    draw = Normal(loc_o, scale_o).rsample((4,))
    draw.sum().backward()
    assert draw.shape == (4, 3) and loc_o.grad.tolist() == [4.0, 4.0, 4.0]
    assert not Normal(loc_o, scale_o).sample().requires_grad
    big = Normal(2.0, 3.0).sample((40000,)).numpy()
    np.testing.assert_allclose([big.mean(), big.std()], [2.0, 3.0], atol=0.06)


def test_bernoulli_matches_torch():
    for kw in ({"probs": [0.3, 0.9, 0.5]}, {"logits": [-1.0, 2.0, 0.0]}):
        ours = Bernoulli(**{k: fg.tensor(v) for k, v in kw.items()})
        theirs = torch.distributions.Bernoulli(**{k: torch.tensor(v) for k, v in kw.items()})
        value = [1.0, 0.0, 1.0]
        np.testing.assert_allclose(ours.log_prob(fg.tensor(value)).numpy(), theirs.log_prob(torch.tensor(value)).numpy(),
                                   rtol=1e-6)
        np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-6)
        assert ours.sample((5,)).shape == (5, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="either"):
        Categorical(probs=fg.ones(3), logits=fg.ones(3))
    with pytest.raises(ValueError, match="either"):
        Bernoulli()
    with pytest.raises(TypeError):
        Normal("0", 1.0)
    with pytest.raises(ValueError, match="one-dimensional"):
        Categorical(logits=fg.tensor(1.0))

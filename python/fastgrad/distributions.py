"""fg.distributions: the distributions reinforcement-learning and VAE code reaches for, with
torch.distributions' names and semantics: Categorical, Bernoulli and Normal, each with sample()
(rsample() for Normal: differentiable through loc and scale), log_prob(), entropy() and the
parameters as properties. Everything is ops on tensors, so log_prob and entropy have gradients."""
import math
import numbers

from . import functions as _fn
from .autograd import no_grad
from .nn import functional as F
from .pointwise import erf
from .random import multinomial, randn
from .shape_functions import broadcast_tensors
from .tensor import Tensor, tensor
from .tensor_functions import bernoulli

__all__ = ["Distribution", "Categorical", "Bernoulli", "Normal"]


def _as_tensor(x, name, like=None):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a tensor or a number, got {type(x).__name__}")
    return tensor(float(x), dtype=like.dtype if like is not None and like.dtype.is_floating_point else None)


def _one_of(cls, probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError(f"{cls}: either `probs` or `logits` must be specified, but not both")


def _shape(sample_shape):
    if isinstance(sample_shape, numbers.Integral):
        return (int(sample_shape),)
    return tuple(sample_shape)


class Distribution:
    """batch_shape and event_shape as in torch.distributions; subclasses define the rest."""
    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self.batch_shape, self.event_shape = tuple(batch_shape), tuple(event_shape)

    def sample(self, sample_shape=()):
        raise NotImplementedError

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample)")

    def _extended_shape(self, sample_shape=()):
        return _shape(sample_shape) + self.batch_shape + self.event_shape

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self.batch_shape})"


class Categorical(Distribution):
    """Categories 0..K-1 along the last dimension of probs (normalised to sum to 1) or of logits
    (normalised to log-probabilities)."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of("Categorical", probs, logits)
        if probs is not None:
            probs = _as_tensor(probs, "probs")
            if probs.dim() < 1:
                raise ValueError("Categorical: probs must be at least one-dimensional")
            self._probs = probs / probs.sum(-1, keepdim=True)
            self._logits = None
        else:
            logits = _as_tensor(logits, "logits")
            if logits.dim() < 1:
                raise ValueError("Categorical: logits must be at least one-dimensional")
            self._logits = logits - _fn.logsumexp(logits, -1, keepdim=True)
            self._probs = None
        param = self._probs if self._probs is not None else self._logits
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1])

    @property
    def probs(self):
        if self._probs is None:
            self._probs = F.softmax(self._logits, -1)
        return self._probs

    @property
    def logits(self):
        if self._logits is None:   # log of the probabilities kept off 0 and 1, as torch's probs_to_logits
            eps = _fn.finfo(self._probs.dtype).eps
            self._logits = self._probs.clamp(eps, 1 - eps).log()
        return self._logits

    @property
    def param_shape(self):
        return self.batch_shape + (self._num_events,)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape)
        n = math.prod(shape)
        with no_grad():
            rows = self.probs.detach().reshape(-1, self._num_events)
            draws = multinomial(rows, max(n, 1), replacement=True)   # (batch, n)
            return draws.t()[:n].reshape(shape + self.batch_shape)

    def log_prob(self, value):
        value = _as_tensor(value, "value").long()
        value, logits = broadcast_tensors(value.unsqueeze(-1), self.logits)
        return logits.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=_fn.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        from .creation import arange
        values = arange(self._num_events).reshape((-1,) + (1,) * len(self.batch_shape))
        return values.expand((-1,) + self.batch_shape) if expand else values


class Bernoulli(Distribution):
    """0 or 1 with probability probs of 1 (or sigmoid(logits))."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of("Bernoulli", probs, logits)
        self._probs = None if probs is None else _as_tensor(probs, "probs")
        self._logits = None if logits is None else _as_tensor(logits, "logits")
        super().__init__((self._probs if self._probs is not None else self._logits).shape)

    @property
    def probs(self):
        if self._probs is None:
            self._probs = self._logits.sigmoid()
        return self._probs

    @property
    def logits(self):
        if self._logits is None:   # log(p) - log(1 - p), p kept off 0 and 1
            eps = _fn.finfo(self._probs.dtype).eps
            p = self._probs.clamp(eps, 1 - eps)
            self._logits = p.log() - (1 - p).log()
        return self._logits

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        with no_grad():
            return bernoulli(self.probs.detach().expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        logits, value = broadcast_tensors(self.logits, _as_tensor(value, "value", self.logits).to(self.logits.dtype))
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Normal(Distribution):
    """The normal distribution of mean loc and standard deviation scale (broadcast together)."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        loc = _as_tensor(loc, "loc", scale if isinstance(scale, Tensor) else None)
        scale = _as_tensor(scale, "scale", loc)
        self.loc, self.scale = broadcast_tensors(loc, scale)
        super().__init__(self.loc.shape)

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        """loc + scale * eps, eps standard normal: gradients reach loc and scale."""
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        value = _as_tensor(value, "value", self.loc)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        value = _as_tensor(value, "value", self.loc)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

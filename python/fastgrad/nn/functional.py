"""Stateless forms of the layers and the losses."""
import numbers

from .. import functions as _functions, ops
from ..ops._checks import reduction_arg
from ..random import bernoulli_mask
from ..tensor import Tensor, tensor


def relu(x):
    return ops.ReLU().forward(x)


def tanh(x):
    return ops.Tanh().forward(x)


def sigmoid(x):
    return ops.Sigmoid().forward(x)


def softmax(x, dim=-1):
    return _functions.softmax(x, dim)


def log_softmax(x, dim=-1):
    return _functions.log_softmax(x, dim)


def linear(x, weight, bias=None):
    return ops.Linear().forward(x, weight, bias)


def check_dropout_p(p):
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")
    return float(p)


def dropout(x, p=0.5, training=True):
    """Zeroes each element with probability p and scales the rest by 1/(1-p), when training; the
    mask is drawn by the C generator (fg.manual_seed) and applied by the C multiply (whose backward
    multiplies the gradient by the same mask)."""
    p = check_dropout_p(p)
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: input must be a fastgrad Tensor, got {type(x).__name__}")
    if not training or p == 0:
        return x
    mask = bernoulli_mask(x.shape, p, 1 / (1 - p) if p < 1 else 0.0, x.dtype)   # one kernel draws it
    return ops.Mul().forward(x, mask)


def cross_entropy(logits, targets, reduction="mean"):
    """Softmax + cross-entropy in one fused kernel; targets are integer class indices."""
    return ops.CrossEntropy(reduction).forward(logits, targets)


def nll_loss(logp, targets, reduction="mean"):
    """-logp[i, targets[i]] reduced by mean or sum; logp is log-probabilities (log_softmax's output)."""
    return ops.NLLLoss(reduction).forward(logp, targets)


def mse_loss(pred, target, reduction="mean"):
    """Mean (or sum) of squared differences."""
    reduction_arg(reduction, "mse_loss")
    if not isinstance(pred, Tensor):
        raise TypeError(f"mse_loss: input must be a fastgrad Tensor, got {type(pred).__name__}")
    diff = pred - target
    if diff.shape != pred.shape:
        raise ValueError(f"mse_loss: target of shape {getattr(target, 'shape', None)} does not match "
                         f"prediction of shape {pred.shape}")
    squared = diff * diff
    return squared.mean() if reduction == "mean" else squared.sum()


# ---- indexing layers (ops/index.py) -----------------------------------------------------------------
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of weight at the integer indices in input; padding_idx rows get no gradient."""
    from ..ops.index import embedding as _embedding
    return _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


def one_hot(tensor, num_classes=-1):
    """int64 class indices -> int64 one-hot vectors along a new last dimension."""
    from ..ops.index import one_hot as _one_hot
    return _one_hot(tensor, num_classes)

"""Stateless forms of the layers and the losses."""
from .. import ops


def relu(x):
    return ops.ReLU().forward(x)


def softmax(x, dim=-1):
    return ops.Softmax(dim).forward(x)


def log_softmax(x, dim=-1):
    return ops.LogSoftmax(dim).forward(x)


def linear(x, weight, bias=None):
    return ops.Linear().forward(x, weight, bias)


def cross_entropy(logits, targets, reduction="mean"):
    """Softmax + cross-entropy in one fused kernel; targets are integer class indices."""
    return ops.CrossEntropy(reduction).forward(logits, targets)


def mse_loss(pred, target, reduction="mean"):
    """Mean (or sum) of squared differences."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"mse_loss: reduction must be 'mean' or 'sum', got {reduction!r}")
    diff = pred - target
    if diff.shape != pred.shape:
        raise ValueError(f"mse_loss: target of shape {getattr(target, 'shape', None)} does not match "
                         f"prediction of shape {pred.shape}")
    squared = diff * diff
    return squared.mean() if reduction == "mean" else squared.sum()

"""The modules of the margin and embedding losses (their functions are in nn.functional):
MarginRankingLoss, HingeEmbeddingLoss, SoftMarginLoss, CosineEmbeddingLoss, TripletMarginLoss,
MultiLabelSoftMarginLoss, with PyTorch's constructor arguments."""
from . import functional as F
from .modules import _Loss

__all__ = ["MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
           "MultiLabelSoftMarginLoss"]


def _reduction_arg(reduction, name):
    """'none', 'mean' or 'sum' (these losses' functions take all three; _Loss's check takes two)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{name}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    return reduction


class _MarginLoss(_Loss):
    """A loss of this module with PyTorch's constructor arguments: `loss` names the function, `options`
    the constructor arguments it passes on besides the reduction."""
    loss, options = None, ()

    def __init__(self, *args, size_average=None, reduce=None, reduction="mean", **kwargs):
        names = [name for name, _ in self.options]
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} positional arguments")
        values = dict(self.options)
        values.update(zip(names, args))
        unknown = set(kwargs) - set(names)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments {sorted(unknown)}")
        values.update(kwargs)
        self.reduction = _reduction_arg(F._legacy_reduction(size_average, reduce, reduction), type(self).__name__)
        self.__dict__.update(values)

    def forward(self, *inputs):
        return getattr(F, self.loss)(*inputs, **{name: getattr(self, name) for name, _ in self.options},
                                    reduction=self.reduction)


class MarginRankingLoss(_MarginLoss):
    loss, options = "margin_ranking_loss", (("margin", 0.0),)


class HingeEmbeddingLoss(_MarginLoss):
    loss, options = "hinge_embedding_loss", (("margin", 1.0),)


class SoftMarginLoss(_MarginLoss):
    loss = "soft_margin_loss"


class CosineEmbeddingLoss(_MarginLoss):
    loss, options = "cosine_embedding_loss", (("margin", 0.0),)


class TripletMarginLoss(_MarginLoss):
    loss, options = "triplet_margin_loss", (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False))


class MultiLabelSoftMarginLoss(_MarginLoss):
    loss, options = "multilabel_soft_margin_loss", (("weight", None),)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average=size_average, reduce=reduce, reduction=reduction)
        del self.weight
        self.register_buffer("weight", weight)   # in the state_dict, as PyTorch's weighted losses

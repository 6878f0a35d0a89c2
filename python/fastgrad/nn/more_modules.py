"""More of PyTorch's modules over nn.functional: RReLU, Softmax2d, AlphaDropout, FeatureAlphaDropout,
and the GaussianNLL, PoissonNLL, MultiMargin, MultiLabelMargin and TripletMarginWithDistance losses,
with PyTorch's constructor arguments, defaults and reprs."""
from . import functional as F
from .margin import _MarginLoss, _reduction_arg
from .modules import Module, _DropoutNd, _Loss


class RReLU(Module):
    """x where x >= 0, else a·x, a uniform in [lower, upper] per element in training mode (the C
    generator draws it), (lower + upper) / 2 in eval mode."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        if F._number(lower, "RReLU", "lower") > F._number(upper, "RReLU", "upper"):
            raise ValueError(f"RReLU: lower bound {lower} must be at most the upper bound {upper}")
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, x):
        return F.rrelu(x, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W)."""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expects a 3-d or 4-d input, got shape {x.shape}")
        return F.softmax(x, -3)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps a self-normalising (SELU) network's mean and variance (F.alpha_dropout)."""
    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(AlphaDropout):
    """AlphaDropout of whole channels (F.feature_alpha_dropout)."""
    _fn = staticmethod(F.feature_alpha_dropout)


class GaussianNLLLoss(_Loss):
    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        self.reduction = _reduction_arg(reduction, "GaussianNLLLoss")
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class PoissonNLLLoss(_MarginLoss):
    loss, options = "poisson_nll_loss", (("log_input", True), ("full", False), ("eps", 1e-8))

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(log_input=log_input, full=full, eps=eps, size_average=size_average, reduce=reduce,
                         reduction=reduction)


class MultiMarginLoss(_MarginLoss):
    loss, options = "multi_margin_loss", (("p", 1), ("margin", 1.0), ("weight", None))

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        if p not in (1, 2) or isinstance(p, bool):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got {p!r}")
        if weight is not None and getattr(weight, "ndim", None) != 1:
            raise ValueError(f"MultiMarginLoss: weight must be a 1-D tensor, got {getattr(weight, 'shape', weight)!r}")
        super().__init__(p=p, margin=margin, size_average=size_average, reduce=reduce, reduction=reduction)
        del self.weight
        self.register_buffer("weight", weight)   # in the state_dict, as PyTorch's weighted losses


class MultiLabelMarginLoss(_MarginLoss):
    loss = "multilabel_margin_loss"


class TripletMarginWithDistanceLoss(_Loss):
    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}")
        self.reduction = _reduction_arg(reduction, "TripletMarginWithDistanceLoss")
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                   margin=self.margin, swap=self.swap, reduction=self.reduction)

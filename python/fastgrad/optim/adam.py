"""Adam and AdamW (Kingma & Ba; Loshchilov & Hutter), with PyTorch's defaults and update rule."""
import numbers

from .._C import ffi
from ..tensor import zeros_like
from .optimizer import Optimizer, _check_non_negative


class Adam(Optimizer):
    """m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g², p -= lr/(1-β1ᵗ) · m / (sqrt(v)/sqrt(1-β2ᵗ) + eps),
    with g = grad + weight_decay·p (L2 decay, coupled to the gradient). amsgrad keeps max(v)."""
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled = False
    live_state = True   # fg_adam reads *lr and counts *step

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def _check_hyperparameters(self, group):
        for name in ("lr", "eps", "weight_decay"):
            _check_non_negative(name, group[name])
        betas = group["betas"]
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), got {betas!r}")
        group["betas"] = tuple(betas)

    def _update(self, p, grad, group, state):
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(p), zeros_like(p)
        vmax = ffi.NULL
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = zeros_like(p)
            vmax = state["max_exp_avg_sq"]._buf
        beta1, beta2 = group["betas"]
        self._kernel(p, "adam", p._buf, state["exp_avg"]._buf, state["exp_avg_sq"]._buf, vmax, grad._buf,
                     self._lr_cell(group), beta1, beta2, group["eps"], group["weight_decay"], self.decoupled,
                     state["step"]._buf, p._numel)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr·weight_decay before the Adam step, instead of
    adding weight_decay·p to the gradient. PyTorch's default weight_decay=0.01."""
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

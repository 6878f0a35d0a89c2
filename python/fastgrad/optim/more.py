"""Adamax, NAdam, RAdam, ASGD and Rprop, with PyTorch's signatures, defaults, state and update rules
(torch/optim/*.py, single-tensor path). Each parameter's update is one C kernel call
(csrc/optim.inc: fg_adaptive with an op code for the three Adam-like rules, fg_asgd, fg_rprop) that
reads the learning rate from the optimizer's cell and counts the step in state["step"]; the other
scalars that change every step (NAdam's mu_product, ASGD's eta and mu) are 0-dim float64 tensors
the kernel updates too, so all five replay in a captured step (fastgrad.compile).

PyTorch keeps those scalars in float32 unless the default dtype is float64; fastgrad keeps them in
float64 (as it does the step count), so float32 runs agree with PyTorch to float32 rounding.
foreach and capturable are accepted and change nothing (the kernels already keep their state in
memory); differentiable=True (an update autograd records) is refused.
"""
import numbers

from .._C import ffi, lib
from ..tensor import empty, zeros_like
from .optimizer import Optimizer, _check_non_negative, _step_count


def _check_betas(name, betas):
    if (not isinstance(betas, (tuple, list)) or len(betas) != 2
            or not all(isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"{name}: invalid betas {betas!r} (must be two numbers in [0, 1))")
    return tuple(betas)


def _check_number(name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"invalid {name}: {value!r} (must be a number)")


def _check_flags(name, group):
    """PyTorch's implementation flags: foreach (None or bool) and capturable change nothing here;
    maximize is honoured; differentiable=True is refused."""
    for flag in ("maximize", "capturable", "differentiable", "decoupled_weight_decay"):
        if flag in group and not isinstance(group[flag], bool):
            raise ValueError(f"{name}: {flag} must be True or False, got {group[flag]!r}")
    if group["foreach"] is not None and not isinstance(group["foreach"], bool):
        raise ValueError(f"{name}: foreach must be None, True or False, got {group['foreach']!r}")
    if group["differentiable"]:
        raise ValueError(f"{name}: differentiable=True is not supported (fastgrad does not record optimizer "
                         f"steps for autograd)")


class _Adaptive(Optimizer):
    """Adamax, NAdam and RAdam: one kernel (fg_adaptive), the rule picked by `op`."""
    op = None
    live_state = True   # fg_adaptive reads *lr and counts *step (and NAdam's *mu_product)

    def _check_hyperparameters(self, group):
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay", "momentum_decay"):
            if key in group:
                _check_non_negative(key, group[key])
        group["betas"] = _check_betas(name, group["betas"])
        _check_flags(name, group)

    def _update(self, p, grad, group, state):
        second = self.state_names[1]
        if self.op == lib.FG_NADAM and "mu_product" not in state:   # (also a loaded state that lacked it)
            state["mu_product"] = _step_count(1.0)
        if second not in state:
            state["exp_avg"], state[second] = zeros_like(p), zeros_like(p)
        mu_product = state["mu_product"]._buf if "mu_product" in state else ffi.NULL
        beta1, beta2 = group["betas"]
        self._kernel(p, "adaptive", p._buf, state["exp_avg"]._buf, state[second]._buf, state["step"]._buf, mu_product,
                     grad._buf, self.op, self._lr_cell(group), beta1, beta2, group["eps"], group["weight_decay"],
                     group.get("momentum_decay", 0.0), group.get("decoupled_weight_decay", False), group["maximize"],
                     p._numel)


class Adamax(_Adaptive):
    """Adam with the infinity norm: m = β1·m + (1-β1)·g, u = max(β2·u, |g| + eps),
    p -= lr/(1-β1ᵗ) · m/u, with g = grad + weight_decay·p."""
    state_names = ("exp_avg", "exp_inf")
    op = lib.FG_ADAMAX

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))


class NAdam(_Adaptive):
    """Adam with Nesterov momentum (Dozat): the momentum factor mu_t = β1·(1 - 0.5·0.96^(t·momentum_decay))
    and its running product weigh the gradient and the first moment; decoupled_weight_decay
    decays the parameter as AdamW does."""
    state_names = ("exp_avg", "exp_avg_sq")
    scalar_state_names = ("mu_product",)
    op = lib.FG_NADAM

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))


class RAdam(_Adaptive):
    """Rectified Adam (Liu et al.): Adam's step scaled by the variance rectification term once the
    approximated SMA length exceeds 5, a plain bias-corrected momentum step before."""
    state_names = ("exp_avg", "exp_avg_sq")
    op = lib.FG_RADAM

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky): p = p·(1 - lambd·eta) - eta·g, ax averages p once t > t0;
    eta = lr / (1 + lambd·lr·t)^alpha and mu = 1/max(1, t - t0) follow each step."""
    state_names = ("ax",)
    scalar_state_names = ("eta", "mu")
    live_state = True   # fg_asgd reads *lr, counts *step, updates *eta and *mu

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _check_hyperparameters(self, group):
        _check_non_negative("lr", group["lr"])
        _check_non_negative("weight_decay", group["weight_decay"])
        for key in ("lambd", "alpha", "t0"):
            _check_number(key, group[key])
        _check_flags("ASGD", group)

    def _update(self, p, grad, group, state):
        if "ax" not in state:
            state["eta"], state["mu"], state["ax"] = _step_count(group["lr"]), _step_count(1.0), zeros_like(p)
        self._kernel(p, "asgd", p._buf, state["ax"]._buf, state["eta"]._buf, state["mu"]._buf, state["step"]._buf,
                     grad._buf, self._lr_cell(group), group["lambd"], group["alpha"], group["t0"],
                     group["weight_decay"], group["maximize"], p._numel)


class Rprop(Optimizer):
    """Resilient backpropagation: each element's step size grows by etas[1] while its gradient keeps
    its sign and shrinks by etas[0] when it flips (that step is skipped), clamped to step_sizes;
    p -= sign(g)·step_size. lr only seeds the step sizes."""
    state_names = ("prev", "step_size")
    live_state = True   # fg_rprop counts *step; lr is read once, when the state is made

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _check_hyperparameters(self, group):
        _check_non_negative("lr", group["lr"])
        etas, sizes = group["etas"], group["step_sizes"]
        if (not isinstance(etas, (tuple, list)) or len(etas) != 2
                or not all(isinstance(e, numbers.Real) and not isinstance(e, bool) for e in etas)
                or not 0 < etas[0] < 1 < etas[1]):
            raise ValueError(f"Rprop: invalid etas {etas!r} (must be (etaminus, etaplus) with "
                             f"0 < etaminus < 1 < etaplus)")
        if (not isinstance(sizes, (tuple, list)) or len(sizes) != 2
                or not all(isinstance(s, numbers.Real) and not isinstance(s, bool) for s in sizes)):
            raise ValueError(f"Rprop: invalid step_sizes {sizes!r} (must be two numbers (min, max))")
        group["etas"], group["step_sizes"] = tuple(etas), tuple(sizes)
        _check_flags("Rprop", group)

    def _update(self, p, grad, group, state):
        if "prev" not in state:
            state["prev"], state["step_size"] = zeros_like(p), empty(p._shape, p._dtype)
            lib.fg_fill(state["step_size"]._buf, p.dtype.code, group["lr"], 0, p._numel)
        (etaminus, etaplus), (size_min, size_max) = group["etas"], group["step_sizes"]
        self._kernel(p, "rprop", p._buf, state["prev"]._buf, state["step_size"]._buf, state["step"]._buf, grad._buf,
                     etaminus, etaplus, size_min, size_max, group["maximize"], p._numel)

"""Adagrad, RMSprop and Adadelta (ConvNetJS's trainers), with PyTorch's defaults and update rules;
each parameter's update is one C kernel call (csrc/optim.inc)."""
import numbers

from .._C import ffi, lib
from ..tensor import empty, zeros_like
from .optimizer import Optimizer, _check_non_negative


class Adagrad(Optimizer):
    """sum += g², p -= lr / (1 + (t-1)·lr_decay) · g / (sqrt(sum) + eps), g = grad + weight_decay·p."""
    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _check_hyperparameters(self, group):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _check_non_negative(name, group[name])

    def _update(self, p, grad, group, state):
        if "sum" not in state:
            state["sum"] = empty(p._shape, p._dtype)
            lib.fg_fill(state["sum"]._buf, p.dtype.code, group["initial_accumulator_value"], 0, p._numel)
        p.dtype.k.adagrad(p._buf, state["sum"]._buf, grad._buf, group["lr"], group["lr_decay"], group["weight_decay"],
                          group["eps"], int(state["step"]._buf[0]), p._numel)


class RMSprop(Optimizer):
    """sq = alpha·sq + (1-alpha)·g²; centered subtracts the squared running mean of g; then
    p -= lr·g / (sqrt(sq) + eps), through a momentum buffer when momentum > 0."""
    state_names = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _check_hyperparameters(self, group):
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            _check_non_negative(name, group[name])

    def _update(self, p, grad, group, state):
        if "square_avg" not in state:
            state["square_avg"] = zeros_like(p)
        momentum_buf = grad_avg = ffi.NULL
        if group["momentum"] > 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = zeros_like(p)
            momentum_buf = state["momentum_buffer"]._buf
        if group["centered"]:
            if "grad_avg" not in state:
                state["grad_avg"] = zeros_like(p)
            grad_avg = state["grad_avg"]._buf
        p.dtype.k.rmsprop(p._buf, state["square_avg"]._buf, grad_avg, momentum_buf, grad._buf, group["lr"],
                          group["alpha"], group["eps"], group["weight_decay"], group["momentum"], p._numel)


class Adadelta(Optimizer):
    """sq = rho·sq + (1-rho)·g²; delta = sqrt(acc + eps) / sqrt(sq + eps) · g;
    acc = rho·acc + (1-rho)·delta²; p -= lr·delta."""
    state_names = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _check_hyperparameters(self, group):
        for name in ("lr", "eps", "weight_decay"):
            _check_non_negative(name, group[name])
        rho = group["rho"]
        if not isinstance(rho, numbers.Real) or isinstance(rho, bool) or not 0 <= rho <= 1:
            raise ValueError(f"invalid rho: {rho!r} (must be a number in [0, 1])")

    def _update(self, p, grad, group, state):
        if "square_avg" not in state:
            state["square_avg"], state["acc_delta"] = zeros_like(p), zeros_like(p)
        p.dtype.k.adadelta(p._buf, state["square_avg"]._buf, state["acc_delta"]._buf, grad._buf, group["lr"],
                           group["rho"], group["eps"], group["weight_decay"], p._numel)

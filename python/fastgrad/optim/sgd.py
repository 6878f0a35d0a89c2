"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from .._C import ffi
from ..tensor import Tensor, zeros_like
from .optimizer import Optimizer, _check_non_negative


class SGD(Optimizer):
    """PyTorch's SGD: g = grad + weight_decay·p; with momentum, buf = momentum·buf + (1-dampening)·g
    (buf = g on the first step) and g = buf, or g + momentum·buf with Nesterov; then p -= lr·g."""
    state_names = ("momentum_buffer",)
    live_state = True   # fg_sgd reads *lr and counts *step

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _check_hyperparameters(self, group):
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            _check_non_negative(name, group[name])
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def _accepts_sparse(self, group):
        return True

    def _update(self, p, grad, group, state):
        if type(grad) is not Tensor:   # a RowSparseGrad: only its rows change, as in PyTorch
            if group["momentum"] == 0 and group["weight_decay"] == 0:
                self._kernel(p, "sparse_sgd", p._buf, state["step"]._buf, grad.values._buf, grad.rows._buf,
                             self._lr_cell(group), grad.rows._numel, grad.row)
                return
            grad = grad.to_dense()   # momentum and weight decay touch every row
        momentum = group["momentum"]
        buf = ffi.NULL
        first_step = momentum != 0 and "momentum_buffer" not in state
        if momentum != 0:
            if first_step:
                state["momentum_buffer"] = zeros_like(p)
            buf = state["momentum_buffer"]._buf
        self._kernel(p, "sgd", p._buf, buf, grad._buf, self._lr_cell(group), momentum, group["dampening"],
                     group["weight_decay"], bool(group["nesterov"]), first_step, state["step"]._buf, p._numel)

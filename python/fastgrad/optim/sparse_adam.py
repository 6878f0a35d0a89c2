"""SparseAdam: Adam for row-sparse gradients (nn.Embedding(sparse=True)), PyTorch's lazy rule: only
the rows a step's gradient names are updated, their moments included; other rows keep theirs.
The gradient is coalesced and applied by kernels that read the number of distinct rows, lr and the
step count from memory, so a captured step (fastgrad.compile) replays it."""
import functools
import numbers

from ..tensor import Tensor, zeros_like
from .optimizer import Optimizer, _check_non_negative


class SparseAdam(Optimizer):
    state_names = ("exp_avg", "exp_avg_sq")
    live_state = True   # the kernels read lr, the step count and the number of rows from memory

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if maximize:
            raise NotImplementedError("SparseAdam: maximize=True is not supported")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def _check_hyperparameters(self, group):
        for name in ("lr", "eps"):
            _check_non_negative(name, group[name])
        if group["eps"] == 0:   # PyTorch's SparseAdam needs eps > 0 (rows never seen divide 0 by 0)
            raise ValueError("SparseAdam: invalid epsilon value: 0 (must be > 0)")
        betas = group["betas"]
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"SparseAdam: betas must be two numbers in [0, 1), got {betas!r}")
        group["betas"] = tuple(betas)

    def _accepts_sparse(self, group):
        return True

    def _update(self, p, grad, group, state):
        if type(grad) is Tensor:
            raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(p), zeros_like(p)
        call = functools.partial(self._kernel, p)
        rows, values, count = grad._coalesced(call)   # each row once, repeats summed; *count of them
        beta1, beta2 = group["betas"]
        call("sparse_adam", p._buf, state["exp_avg"]._buf, state["exp_avg_sq"]._buf, state["step"]._buf, values._buf,
             rows._buf, count._buf, self._lr_cell(group), beta1, beta2, group["eps"], grad.row)

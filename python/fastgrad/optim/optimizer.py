"""Optimizer: parameter groups, per-parameter state, zero_grad, state_dict; the update itself is
one C kernel call per parameter (csrc/optim.inc), made by the subclasses' _update.

As in PyTorch: `params` is an iterable of tensors or of dicts {"params": [...], "lr": ...} (groups
with their own hyperparameters); each group is a dict whose entries (group["lr"]) may be changed
between steps, which is how the learning-rate schedulers work; parameters whose .grad is None are
skipped. State buffers are fastgrad tensors made on a parameter's first step, so step() allocates
nothing after that.

State that changes between steps lives in memory the kernels read, so a captured step
(fastgrad.compile) replays it with no Python: each group's learning rate is copied by step() into
a cell of the optimizer (`_lr_cell(group)`), and each parameter's step count is a 0-dim float64
tensor, state["step"] (as in PyTorch), that the update kernel increments (`live_state`) or step()
does.
"""
import collections
import numbers

import numpy as np

from .. import dtypes
from .._C import ffi
from ..autograd import enable_grad
from ..tensor import Tensor, tensor

# Set by fastgrad.compile while it records a step: step_hook(optimizer, step, closure) runs step
# and notes what it baked in; kernel_hook(optimizer, p, kernel, args) calls the update kernel and
# routes its learning rate and step count into the plan.
step_hook = kernel_hook = None


class Optimizer:
    state_names = ()   # the per-parameter buffers a subclass keeps, in state_dict order
    scalar_state_names = ()   # per-parameter 0-dim float64 state its kernel updates (NAdam's mu_product)
    # True: the update kernel, called through _kernel, reads the learning rate from _lr_cell(group)
    # and increments state["step"] itself, so a captured step (fastgrad.compile) can replay it.
    # False: step() counts in Python and the kernels take Python floats (refused in a capture).
    live_state = False

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors (e.g. model.parameters()), "
                            f"got a single Tensor; wrap it in a list")
        self.defaults = defaults
        # parameter -> {"step": 0-dim float64 Tensor, buffer name: Tensor}; a defaultdict, as PyTorch's,
        # so an optimizer written by hand may take self.state[p] of a parameter it has not seen
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        self._lr_cells = {}   # id(group) -> double[1]: the group's lr as the kernels read it
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for group in (groups if isinstance(groups[0], dict) else [{"params": groups}]):
            self.add_param_group(group)

    def add_param_group(self, group):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}: a parameter group must be a dict with a 'params' entry")
        params = [group["params"]] if isinstance(group["params"], Tensor) else list(group["params"])
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize fastgrad Tensors, got {type(p).__name__}")
            if p._op is not None:
                raise ValueError(f"{type(self).__name__} can't optimize a non-leaf tensor (shape {p.shape}): "
                                 f"it is computed from others; optimize those")
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__}: a parameter (shape {p.shape}) appears in more than one "
                                 f"group or twice in one")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown hyperparameters {sorted(unknown)} in a parameter group")
        full = {**self.defaults, **group, "params": params}
        self._check_hyperparameters(full)
        self.param_groups.append(full)
        self._lr_cells[id(full)] = ffi.new("double[1]", [full["lr"]])

    def _check_hyperparameters(self, group):
        _check_non_negative("lr", group["lr"])

    def zero_grad(self, set_to_none=True):
        """Sets every parameter's .grad to None (PyTorch's default), or with set_to_none=False fills
        the existing gradients with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.zero_()

    def step(self, closure=None):
        """One update of every parameter with a gradient. closure (optional, as in PyTorch): a function
        that recomputes the loss and its gradients, called first (with gradients on); its loss is
        returned."""
        if step_hook is not None:
            return step_hook(self, Optimizer._updates, closure)
        return self._updates(closure)

    def _updates(self, closure):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._lr_cells[id(group)][0] = group["lr"]
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if type(grad) is not Tensor:
                    if not getattr(grad, "is_sparse", False):
                        raise TypeError(f"{type(self).__name__}.step: the .grad of a parameter of shape {p.shape} is "
                                        f"a {type(grad).__name__}, not a fastgrad Tensor")
                    if not self._accepts_sparse(group):   # a RowSparseGrad
                        raise RuntimeError(f"{type(self).__name__} does not support sparse gradients (from "
                                           f"nn.Embedding(sparse=True)), please consider SparseAdam instead")
                    shape = grad.shape   # (a RowSparseGrad's plain tuple)
                else:
                    shape = grad._shape   # (not .shape, which makes an fg.Size per parameter)
                if shape != p._shape or grad.dtype is not p._dtype:
                    raise ValueError(f"{type(self).__name__}.step: a parameter of shape {p.shape} ({p.dtype!r}) has a "
                                     f"gradient of shape {grad.shape} ({grad.dtype!r})")
                state = self.state.get(p)
                if not state:   # (None, or the {} a look-up in the defaultdict made)
                    state = self.state[p] = {"step": _step_count(0)}
                if not self.live_state:
                    state["step"]._buf[0] += 1
                self._update(p, p.grad, group, state)
        return loss

    def _update(self, p, grad, group, state):
        raise NotImplementedError

    def _lr_cell(self, group):
        """The memory the update kernels read group["lr"] from (step() refreshes it)."""
        return self._lr_cells[id(group)]

    def _kernel(self, p, name, *args):
        """Calls p's dtype's kernel `name`: the one way _update reaches C, so that a captured step
        (fastgrad.compile) can route the update's scalars (lr, step count) into its plan on replay."""
        if kernel_hook is not None:
            return kernel_hook(self, p, getattr(p._dtype.k, name), args)
        return getattr(p._dtype.k, name)(*args)

    def _accepts_sparse(self, group):
        """Whether _update takes a row-sparse gradient (fastgrad.sparse.RowSparseGrad)."""
        return False

    # ---- state_dict: PyTorch's layout, parameters numbered in group order --------------------------
    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """{"state": {index: {"step": int, buffer: Tensor copy}}, "param_groups": [{hyperparameters,
        "params": [indices]}]}, parameters numbered across groups in order, as in PyTorch."""
        state = {}
        for i, p in enumerate(self._params()):
            if p in self.state:
                state[i] = {k: (tensor(v, dtype=v.dtype) if isinstance(v, Tensor) else v)
                            for k, v in self.state[p].items()}
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append(dict(group, params=list(range(start, start + n))))
            start += n
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores hyperparameters and state saved by state_dict() from an optimizer over
        parameters of the same shapes in the same groups. Checked fully before anything changes."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(f"{name}.load_state_dict expects a dict with 'state' and 'param_groups', "
                             f"as state_dict() returns")
        groups = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in groups]
        if sizes != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(f"{name}.load_state_dict: the saved groups hold {sizes} parameters, this optimizer's "
                             f"hold {[len(g['params']) for g in self.param_groups]}")
        params = self._params()
        loaded = {}
        for index, saved in state_dict["state"].items():
            if not isinstance(index, numbers.Integral) or not 0 <= index < len(params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {index!r}, which does not exist")
            p = params[index]
            unknown = set(saved) - {"step", *self.scalar_state_names, *self.state_names}
            if unknown:
                raise ValueError(f"{name}.load_state_dict: unknown state {sorted(unknown)} for parameter {index}")
            entry = {"step": _step_count(float(saved.get("step", 0)))}
            for key in self.scalar_state_names:
                if saved.get(key) is not None:
                    entry[key] = _step_count(float(saved[key]))
            for key in self.state_names:
                if saved.get(key) is None:
                    continue
                value = saved[key].numpy() if isinstance(saved[key], Tensor) else np.asarray(saved[key])
                if value.shape != p._shape:
                    raise ValueError(f"{name}.load_state_dict: {key} of parameter {index} has shape {value.shape}, "
                                     f"the parameter has shape {p.shape}")
                entry[key] = tensor(value, dtype=p.dtype)
            loaded[p] = entry
        for group, saved in zip(self.param_groups, groups):
            self._check_hyperparameters(dict(group, **{k: v for k, v in saved.items() if k != "params"}))
        for group, saved in zip(self.param_groups, groups):
            group.update((k, v) for k, v in saved.items() if k != "params")
        self.state = collections.defaultdict(dict, loaded)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines + [")"])


def _step_count(value):
    """A parameter's step count: a 0-dim float64 tensor (exact to 2**53 steps), as PyTorch keeps it."""
    t = tensor(0.0, dtype=dtypes.float64)
    t._buf[0] = value
    return t


def _check_non_negative(name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"invalid {name}: {value!r} (must be a number >= 0)")

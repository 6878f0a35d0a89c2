"""L-BFGS (torch/optim/lbfgs.py's algorithm, after minFunc): one parameter group, the parameters
seen as one flat vector; each step() runs up to max_iter quasi-Newton iterations, calling the
closure for the loss and gradients, optionally with a strong-Wolfe line search.

The vector math is fastgrad tensor ops (cat, dot, add_ ...: kernels); the scalars the algorithm
branches on (the loss, dot products, step lengths) are read to the host as Python floats, so a
step is not capturable: fastgrad.compile refuses it at the first host read (CaptureError).
"""
import numbers

from ..autograd import enable_grad, no_grad
from ..ops.shape import cat
from ..tensor import Tensor, tensor, zeros_like
from .optimizer import Optimizer, _check_non_negative

_STATE_KEYS = ("func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad",
               "prev_loss", "al")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
    bounds (default: the interval); the midpoint when the cubic has none."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = d2_square ** 0.5
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Line search along d from step t satisfying the strong Wolfe conditions (bracketing, then
    zooming by cubic interpolation). evaluate(t) -> (loss, flat gradient) at x + t·d.
    Returns (loss, gradient, t, evaluations)."""
    d_norm = d.abs().max().item()
    g = g.clone()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new.dot(d).item()
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:   # bracket a step satisfying the conditions
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d).item()
        ls_iter += 1
    if ls_iter == max_ls:   # reached the maximum number of evaluations
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # too close to an end of the bracket: move away from it, unless the last step already did
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d).item()
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """PyTorch's L-BFGS: step(closure) is required (the closure clears the gradients, computes the
    loss, calls backward and returns the loss). One parameter group only."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None and isinstance(max_iter, numbers.Integral):
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))

    def add_param_group(self, group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(group)

    def _check_hyperparameters(self, group):
        _check_non_negative("lr", group["lr"])
        for name in ("max_iter", "max_eval", "history_size"):
            value = group[name]
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"LBFGS: invalid {name}: {value!r} (must be an integer >= 1)")
        for name in ("tolerance_grad", "tolerance_change"):
            _check_non_negative(name, group[name])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: invalid line_search_fn {group['line_search_fn']!r} (only None or "
                             f"'strong_wolfe' are supported)")

    # ---- the parameters as one flat vector --------------------------------------------------------
    def _flat_grad(self):
        views = []
        for p in self.param_groups[0]["params"]:
            g = p.grad
            if g is None:
                g = zeros_like(p)
            elif getattr(g, "is_sparse", False):   # a RowSparseGrad (nn.Embedding(sparse=True)), as PyTorch does
                g = g.to_dense()
            if not isinstance(g, Tensor) or g.shape != p.shape or g.dtype is not p.dtype:
                raise ValueError(f"LBFGS.step: a parameter of shape {p.shape} ({p.dtype!r}) has a gradient of "
                                 f"shape {getattr(g, 'shape', None)} ({getattr(g, 'dtype', type(g).__name__)!r})")
            views.append(g.reshape(-1))
        return cat(views)

    def _add_to_params(self, step, direction):
        """p += step · direction's slice of p, for every parameter."""
        at = 0
        for p in self.param_groups[0]["params"]:
            p.add_(direction[at:at + p._numel].view(p.shape), alpha=step)
            at += p._numel

    def _evaluate(self, closure, x, t, d):
        """The loss and flat gradient at x + t·d; the parameters are put back to x."""
        self._add_to_params(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._flat_grad()
        for p, saved in zip(self.param_groups[0]["params"], x):
            p.copy_(saved)
        return loss, flat_grad

    def step(self, closure):
        """Up to max_iter L-BFGS iterations; returns the closure's first loss."""
        if closure is None:
            raise ValueError("LBFGS.step requires a closure that recomputes the loss and its gradients")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[group["params"][0]]   # the whole optimizer's state, as in PyTorch
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if flat_grad.abs().max().item() <= tolerance_grad:   # already optimal
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:   # steepest descent first
                d = flat_grad.neg()
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:   # the two-loop recursion over the remembered curvature pairs (y, s)
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s).item()
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y).item()
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = flat_grad.neg()
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q).item() * ro[i]
                    q.add_(old_dirs[i], alpha=-al[i])
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r).item() * ro[i]
                    r.add_(old_stps[i], alpha=al[i] - be_i)
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            # step length: the first iteration ever is scaled by the gradient's size
            t = min(1.0, 1.0 / flat_grad.abs().sum().item()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d).item()
            if gtd > -tolerance_change:   # not a descent direction
                break

            ls_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x = [p.clone() for p in group["params"]]
                loss, flat_grad, t, ls_evals = _strong_wolfe(lambda step: self._evaluate(closure, x, step, d), t, d,
                                                             loss, flat_grad, gtd, max_ls=max_eval - evals)
                self._add_to_params(t, d)
                opt_cond = flat_grad.abs().max().item() <= tolerance_grad
            else:
                self._add_to_params(t, d)
                opt_cond = False
                if n_iter != max_iter:   # re-evaluate unless this is the last iteration
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._flat_grad()
                    opt_cond = flat_grad.abs().max().item() <= tolerance_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if (d * t).abs().max().item() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # ---- state_dict: PyTorch's layout (everything under parameter 0), tensors copied ---------------
    def state_dict(self):
        saved = super().state_dict()
        for entry in saved["state"].values():
            for key, value in entry.items():
                if isinstance(value, list):
                    entry[key] = [tensor(v, dtype=v.dtype) if isinstance(v, Tensor) else v for v in value]
        return saved

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("LBFGS.load_state_dict expects a dict with 'state' and 'param_groups', as state_dict() "
                             "returns")
        groups, params = state_dict["param_groups"], self.param_groups[0]["params"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(params):
            raise ValueError(f"LBFGS.load_state_dict: the saved groups hold {[len(g['params']) for g in groups]} "
                             f"parameters, this optimizer's hold [{len(params)}]")
        saved = dict(state_dict["state"])
        entry = saved.pop(0, None)
        if saved or (entry is not None and set(entry) - set(_STATE_KEYS)):
            raise ValueError(f"LBFGS.load_state_dict: unexpected state {sorted(saved) or sorted(set(entry) - set(_STATE_KEYS))}")
        numel, dtype = sum(p._numel for p in params), params[0].dtype

        def restore(value):
            if isinstance(value, list):
                return [restore(v) for v in value]
            if value is None or isinstance(value, numbers.Number):
                return value
            if hasattr(value, "item") and getattr(value, "shape", None) == ():   # a 0-dim tensor (PyTorch's t, ro)
                return value.item()
            value = tensor(value.numpy() if isinstance(value, Tensor) else value, dtype=dtype)
            if value.shape != (numel,):
                raise ValueError(f"LBFGS.load_state_dict: a saved vector has shape {value.shape}, the parameters "
                                 f"hold {numel} elements")
            return value

        loaded = {k: restore(v) for k, v in entry.items()} if entry else None
        hyper = {k: v for k, v in groups[0].items() if k != "params"}
        self._check_hyperparameters(dict(self.param_groups[0], **hyper))
        self.param_groups[0].update(hyper)
        self.state.clear()
        if loaded:
            self.state[params[0]] = loaded

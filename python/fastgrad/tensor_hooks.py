"""Tensor.register_hook: functions called with a tensor's gradient during backward (PyTorch's tensor
hooks). A hook returning a tensor replaces the gradient; handle.remove() takes it off.

Where hooks live: a non-leaf's hooks belong to the op that made it (PyTorch ties them to the
tensor's grad_fn, so a hook registered before an in-place write still sees the gradient of the old
value); a leaf's hooks belong to the tensor. Both are kept in `hooks`, keyed by the owner's id and
dropped when the owner dies. While `hooks` is empty, backward is autograd's plain engine; otherwise
it is `run_backward` below, which differs in two ways:
- ops, not tensors, are the nodes: the gradients of every tensor object standing for an op's output
  (indexing records an alias of a non-leaf) are summed before the op's hooks and its backward run,
  so a hook sees the whole gradient once, as in PyTorch;
- a hooked leaf's .grad is set aside during the pass; its hooks then get the gradient the pass
  summed for it, and what they return is added to the old .grad (PyTorch runs leaf hooks before
  AccumulateGrad).
Hooks run Python, which a step captured by fg.compile would not replay: they are refused there."""
import itertools
import sys
import threading
import weakref

from . import autograd
from .autograd import accumulate_grad, copy_of

hooks = {}   # id(op or leaf tensor) -> {handle id: fn}
_ids = itertools.count()


class RemovableHandle:
    """What register_hook returns: remove() takes the hook off (also as a context manager)."""

    def __init__(self, owner_hooks, hook):
        self.hooks_dict, self.id = weakref.ref(owner_hooks), next(_ids)
        owner_hooks[self.id] = hook

    def remove(self):
        d = self.hooks_dict()
        if d is not None:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _Hooks(dict):   # (a dict subclass, so that a handle may hold it weakly)
    pass


def register(t, hook):
    if not callable(hook):
        raise TypeError(f"register_hook: expects a callable, got {type(hook).__name__}")
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    owner = t if t._op is None else t._op
    d = hooks.get(id(owner))
    if d is None:
        d = hooks[id(owner)] = _Hooks()
        weakref.finalize(owner, hooks.pop, id(owner), None)
    return RemovableHandle(d, hook)


def _apply(d, g, what):
    """g through the hooks of dict d, in registration order."""
    rec = getattr(sys.modules.get("fastgrad.compile"), "_capturing", None)
    if rec is not None and rec.thread == threading.get_ident():
        from .compile import CaptureError
        raise CaptureError("compile: a tensor hook (register_hook) runs Python during backward, which a replay "
                           "would skip; remove it (handle.remove()) or call the step uncompiled")
    for hook in list(d.values()):
        new = hook(g)
        if new is not None:
            if type(new) is not type(g) or new._shape != g._shape or new._dtype is not g._dtype:
                raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} on {what} returned "
                                   f"{_describe(new)}; a hook must return None or a tensor of the gradient's "
                                   f"shape {g._shape} and dtype {g._dtype!r}")
            g = new
    return g


def _describe(x):
    return f"a tensor of shape {x._shape} and dtype {x._dtype!r}" if hasattr(x, "_shape") else type(x).__name__


def _walk(root):
    """(ops in backward order, {id(op): {id(t): t}} of the tensors standing for each op's output,
    the hooked leaves reached): autograd's walk, and the leaves it passes that have hooks."""
    if root._op is None:
        return [], {}, ({id(root): root} if id(root) in hooks else {})
    order, tensors = autograd._graph_in_backward_order(root)
    leaves = {id(x): x for op in order for x in op.inputs if x._op is None and id(x) in hooks}
    return order, tensors, leaves


def run_backward(root, grad, stop=None):
    """autograd._run_backward with hooks (see the module docstring)."""
    order, tensors, leaves = _walk(root)
    autograd._add_unconsumed(tensors, stop)
    saved = {}
    for i, t in leaves.items():
        saved[i], t.grad = t.grad, None
    # non-leaves that called retain_grad(): as in autograd's engine, their .grad is set aside and this
    # pass's gradient (after the hooks, as PyTorch runs the retain hook last) is added to it after
    retained = {}
    if autograd._retained:
        for group in tensors.values():
            for i, t in group.items():
                if autograd._retained.get(i) is t:
                    retained[i] = [t, t.grad, None]
                    t.grad = None
    try:
        if root._op is None:
            accumulate_grad(root, grad)
        else:
            root.grad = grad
        for op in order:
            g = None
            for t in tensors[id(op)].values():
                tg, t.grad = t.grad, None   # a non-leaf's gradient is consumed by its op, not kept
                if tg is not None:
                    g = tg if g is None else g + tg
            if g is None:
                continue
            d = hooks.get(id(op))
            if d:
                g = _apply(d, g, f"a tensor of shape {op.out_shape}")
            for t in tensors[id(op)].values():
                if stop is not None and id(t) in stop:
                    kept = stop[id(t)]
                    kept[1] = copy_of(g) if kept[1] is None else kept[1] + g
                if id(t) in retained:
                    retained[id(t)][2] = copy_of(g)
            if autograd._epoch > op.epoch:
                op.check_versions()
            op._backward(g)
    except BaseException:
        for i, t in leaves.items():
            t.grad = saved[i]
        for t, before, _ in retained.values():
            t.grad = before
        raise
    for t, before, now in retained.values():
        t.grad = before if now is None else now if before is None else before + now
    for i, t in leaves.items():
        new, t.grad = t.grad, saved[i]
        if new is None:
            continue
        d = hooks.get(i)
        if d:
            hooked = _apply(d, new, f"a leaf tensor of shape {t._shape}")
            if hooked is not new:
                new = copy_of(hooked)   # the hook's tensor may be held elsewhere: .grad gets its own
        if t.grad is None:
            t.grad = new
        else:
            accumulate_grad(t, new)

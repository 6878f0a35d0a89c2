"""fg.autograd.Function: PyTorch's custom autograd functions (gradient reversal, straight-through
estimators, the tutorials' hand-written ReLU): a staticmethod forward(ctx, *args) run without
recording, a staticmethod backward(ctx, *grad_outputs) returning one gradient per forward argument,
and Function.apply(*args) joining them into the graph. PyTorch 2's form (forward(*args) plus
setup_context(ctx, inputs, output)) works too.

How it joins the graph: apply records one node (_FunctionNode) on a one-element tensor that every
output's own node (_OutputGrad) points to. The engine runs the outputs' nodes first (they depend on
the join), each keeping its gradient, then the join's, which calls backward once with all of them
and accumulates what it returns into the inputs' .grad."""
from . import autograd
from .autograd import Op, accumulate_grad, copy_of, no_grad
from .tensor import Tensor, _view, empty, zeros_like

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """What forward leaves for backward: save_for_backward(*tensors) (read back as saved_tensors),
    any other attribute, and needs_input_grad (per forward argument)."""
    materialize_grads = True
    saved_tensors = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), got {type(t).__name__}")
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        """Refused: an in-place custom Function makes its input the output in PyTorch, while apply gives
        an output of its own, so later uses of the input would skip the Function's backward."""
        raise NotImplementedError("mark_dirty: in-place custom Functions are not supported; return a new tensor "
                                  "from forward (x.clone() modified) instead of modifying an input")

    def set_materialize_grads(self, value):
        """False: backward gets None, not zeros, for an output whose gradient never came."""
        self.materialize_grads = bool(value)


class Function:
    """Subclass it with staticmethods forward(ctx, *args, **kwargs) and backward(ctx, *grads); call
    Subclass.apply(*args, **kwargs)."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__}: call {type(self).__name__}.apply(...); a Function is not "
                           f"instantiated (PyTorch's legacy form)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a custom Function must define forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a custom Function must define backward to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            if hasattr(cls, "setup_context"):   # PyTorch 2's form: forward without ctx
                result = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, result)
            else:
                result = cls.forward(ctx, *args, **kwargs)
        outputs = result if isinstance(result, tuple) else (result,)
        if not (autograd.is_grad_enabled() and any(ctx.needs_input_grad)):
            return result
        skip = getattr(ctx, "non_differentiable", set())
        differentiable = [i for i, o in enumerate(outputs)
                          if isinstance(o, Tensor) and o.dtype.is_floating_point and id(o) not in skip]
        if not differentiable:
            return result
        node = _FunctionNode(cls, ctx, args, outputs)
        join = empty((1,), outputs[differentiable[0]].dtype)
        node.record(join, *[a for a in args if isinstance(a, Tensor)])
        outputs = list(outputs)
        for i in differentiable:
            out = outputs[i]
            if out._op is not None or out.requires_grad or any(out is a for a in args):
                out = outputs[i] = _view(out, out._shape, False)   # an input or a graph tensor: its own node
            _OutputGrad(node, i).record(out, join)
        return tuple(outputs) if isinstance(result, tuple) else outputs[0]


class _OutputGrad(Op):
    """The node of output i: keeps its gradient for the Function's backward, then gives the join a
    (dummy) gradient so the engine runs the join's node after every output's."""
    reads = ()

    def __init__(self, node, i):
        self.node, self.i = node, i

    def _backward(self, grad):
        kept = self.node.grads[self.i]
        self.node.grads[self.i] = copy_of(grad) if kept is None else kept + grad
        join = self.inputs[0]
        if join.grad is None:
            join.grad = zeros_like(join)

    def out_dtype(self):
        return self.node.shapes[self.i][1]


class _FunctionNode(Op):
    """The join: runs the Function's backward with every output's gradient and accumulates the
    gradients it returns into the tensor arguments."""
    reads = ()

    def __init__(self, cls, ctx, args, outputs):
        self.cls, self.ctx, self.args = cls, ctx, args
        for t in ctx.saved_tensors:   # their in-place markers, so a later write into one is noticed
            if t is not None and t._version is None:
                t._version = [0, 0]
        self.shapes = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outputs]
        self.grads = [None] * len(outputs)

    def check_versions(self):
        """As PyTorch: what forward saved (ctx.save_for_backward) must not have been written in place
        since; the arguments themselves may be (reads = ()), unless one took over a new graph node."""
        super().check_versions()
        for t in self.ctx.saved_tensors:
            if t is not None and t._version[0] > self.epoch:
                raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an "
                                   f"inplace operation: a tensor of shape {t.shape} saved by {self.cls.__name__}."
                                   f"forward (ctx.save_for_backward) was written in place after it ran; write to a "
                                   f"copy (t.clone()) instead")

    def _backward(self, _):
        grads, self.grads = self.grads, [None] * len(self.grads)
        if self.ctx.materialize_grads:
            grads = [g if g is not None or s is None else _zeros(*s) for g, s in zip(grads, self.shapes)]
        name = self.cls.__name__
        results = self.cls.backward(self.ctx, *grads)
        results = results if isinstance(results, tuple) else (results,)
        if len(results) < len(self.args) or any(r is not None for r in results[len(self.args):]):
            raise RuntimeError(f"function {name}Backward returned an incorrect number of gradients (expected "
                               f"{len(self.args)}, got {len(results)})")
        for i, (a, r) in enumerate(zip(self.args, results)):
            if r is None or not isinstance(a, Tensor) or not a.requires_grad:
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"function {name}Backward returned a {type(r).__name__} as the gradient of argument "
                                f"{i}; expected a tensor or None")
            if not autograd.broadcasts_to(a.shape, r.shape):   # (a gradient broadcast up is summed back)
                raise RuntimeError(f"function {name}Backward returned an invalid gradient at index {i} - got "
                                   f"{list(r.shape)} but expected shape compatible with {list(a.shape)}")
            r = r.detach().to(a.dtype)
            accumulate_grad(a, copy_of(r) if r.shape == a.shape else r)


def _zeros(shape, dtype):
    from .tensor import zeros
    return zeros(shape, dtype=dtype)


def once_differentiable(fn):
    """PyTorch's decorator for a backward that is not itself differentiable: fastgrad's backward
    records no graph anyway."""
    return fn

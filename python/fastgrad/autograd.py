"""The backward engine, gradient mode, and the Op base class every graph node derives from.

Gradient convention (the one used everywhere): backward accumulates. Every op's backward ADDS its
contribution into each input's `.grad` buffer, allocating it as zeros on first use, so fan-out (a
tensor used twice) and repeated `backward()` calls sum up; `zero_grad()` clears. The GEMM-backed
ops (matmul, linear) write a gradient that does not exist yet instead of zeroing it and adding to
it (grad_targets): the same values, without a pass over the buffer.
"""
import contextlib
import math
import threading
import weakref

from ._C import ffi
from . import tensor as _tensor
from .dtypes import kernels

class _GradMode(threading.local):
    """Grad mode is per thread, as in PyTorch: one thread's no_grad never stops another from
    recording. Each thread starts with its own enabled = True (a getattr default would raise and
    catch an AttributeError on every op)."""

    def __init__(self):
        self.enabled = True
        self.previous = []


_mode = _GradMode()
# In-place writes are numbered: each bumps this epoch and stamps it on the written storage's marker
# (Tensor._version); each op stamps the epoch it was recorded at. backward() refuses an op whose
# input was written in place after it was recorded (PyTorch's version-counter check).
_epoch = 0


def bump_epoch():
    """A new epoch for an in-place write; returns it."""
    global _epoch
    _epoch += 1
    return _epoch
# How many threads have grad mode off. Reading a thread-local costs an op more than the rest of its
# bookkeeping, so while no thread is inside no_grad (the usual case) ops read only this count.
_threads_without_grad = 0
_count_lock = threading.Lock()


def is_grad_enabled():
    return _threads_without_grad == 0 or _mode.enabled


def _set_grad_enabled(enabled):
    global _threads_without_grad
    if enabled != _mode.enabled:
        with _count_lock:
            _threads_without_grad += -1 if enabled else 1
        _mode.enabled = enabled


class _GradModeBlock(contextlib.ContextDecorator):
    """A block (or decorated function) that runs with grad mode `_enabled()`. The previous modes are
    kept on a per-thread stack, so one object may be entered by several threads or re-entered."""

    def _enabled(self):
        raise NotImplementedError

    def __enter__(self):
        enabled = self._enabled()
        _mode.previous.append(_mode.enabled)
        _set_grad_enabled(enabled)

    def __exit__(self, *exc):
        if not _mode.previous:
            raise RuntimeError(f"{type(self).__name__}.__exit__ called without a matching __enter__ in this thread")
        _set_grad_enabled(_mode.previous.pop())


class no_grad(_GradModeBlock):
    """Ops run inside record no graph: `with fg.no_grad(): ...` or `@fg.no_grad()`."""

    def _enabled(self):
        return False


class enable_grad(_GradModeBlock):
    """Turns recording back on inside a no_grad block (or as a decorator)."""

    def _enabled(self):
        return True


class set_grad_enabled(contextlib.ContextDecorator):
    """set_grad_enabled(mode): as a call it sets grad mode for this thread at once; as a context
    manager it restores the previous mode on exit (PyTorch's both uses)."""

    def __init__(self, mode):
        self.previous = _mode.enabled
        _set_grad_enabled(bool(mode))

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_grad_enabled(self.previous)


class inference_mode(_GradModeBlock):
    """PyTorch's inference_mode: here the same as no_grad (fastgrad keeps no extra bookkeeping to
    skip); inference_mode(False) leaves the mode as it is."""

    def __init__(self, mode=True):
        self.mode = mode

    def _enabled(self):
        return not self.mode and _mode.enabled


class Op:
    """One application of an operation: the graph node behind its output tensor.

    Subclasses define forward(*inputs) -> Tensor, which computes the output with kernels and ends
    with `return self.record(out, *inputs)`, and _backward(grad), the gradient rule, which
    accumulates the inputs' gradients given the output's. An op saves what _backward needs on itself
    (of its output, only the buffer, never the tensor, so graphs hold no reference cycles). The
    engine calls _backward with gradients it made; backward(grad), for callers holding the op
    object, first checks grad against the recorded output.
    """
    inputs = None   # set by record(); a class default, so checking it costs no exception
    epoch = 0       # the in-place epoch at record()
    # Which inputs' values backward reads (indices into inputs); None: all of them. An op that needs
    # only shapes (Add, reshape, a gather) sets (): writing its inputs in place later is then fine,
    # as in PyTorch, where only saved tensors are checked.
    reads = None
    out_version = None   # the output's in-place marker, for ops whose backward reads the output (save_output)

    def __init_subclass__(cls, **kwargs):
        """Puts `inputs` and `out_shape` into the class's shared attribute keys before any op runs.
        CPython 3.11 specialises an attribute store only for a key already there: when the first op of
        a class to record ran after its code was specialised (big tensors first, say), the store of
        out_shape stayed generic for good, ~130 ns more on every op."""
        super().__init_subclass__(**kwargs)
        probe = object.__new__(cls)
        probe.inputs = probe.out_shape = probe.epoch = None

    def record(self, out, *inputs):
        """Links `out` to this op when some input needs a gradient and grad mode is on."""
        for t in inputs:
            if t.requires_grad:
                if _threads_without_grad and not _mode.enabled:
                    break
                if self.inputs is not None:
                    raise self.reused_error()
                self.inputs = inputs
                self.out_shape = out._shape
                self.epoch = _epoch
                out.requires_grad = True
                out._op = self
                break
        return out

    def reused_error(self):
        return RuntimeError(f"this {type(self).__name__} object already recorded an application; make one op "
                            f"object per call")

    def backward(self, grad):
        """Accumulates the inputs' gradients for the output gradient `grad`."""
        name = type(self).__name__
        if self.inputs is None:
            raise RuntimeError(f"{name}.backward: this op recorded no graph (no input required grad, or it ran "
                               f"under no_grad)")
        dtype = self.out_dtype()
        if not isinstance(grad, _tensor.Tensor) or grad.shape != self.out_shape or grad.dtype is not dtype:
            raise ValueError(f"{name}.backward: expects a gradient tensor of shape {self.out_shape} and dtype "
                             f"{dtype!r}, got {_describe(grad)}")
        if any(x.grad is not None and x.grad._buf is grad._buf for x in self.inputs):
            grad = copy_of(grad)   # the kernels write .grad buffers: never one they read
        if _epoch > self.epoch:
            self.check_versions()
        with _borrowing(grad):
            self._backward(grad)

    def save_output(self, out):
        """out's buffer, for a backward that reads the output. Its in-place marker is kept (shared
        with any view of out), so that backward refuses once out was written in place."""
        if out._version is None:
            out._version = [0, 0]
        self.out_version = out._version
        return out._buf

    def _backward(self, grad):
        raise NotImplementedError

    def out_dtype(self):
        """The output's dtype (the inputs' for most ops; Cast overrides it)."""
        return self.inputs[0].dtype

    def check_versions(self):
        """Raises if an input this op reads was written in place after the op was recorded, or if
        any input took over a new graph node since (an in-place op recorded on it: the engine
        follows tensors, so the old path through it is gone)."""
        v = self.out_version
        if v is not None and v[0] > self.epoch:
            name = type(self).__name__
            raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an "
                               f"inplace operation: the output of {name} (shape {self.out_shape}), which its "
                               f"backward reads, was written in place after {name} ran; write to a copy "
                               f"(t.clone()) instead")
        for i, x in enumerate(self.inputs):
            v = x._version
            if v is not None and (v[1] > self.epoch or v[0] > self.epoch and (self.reads is None or i in self.reads)):
                raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an "
                                   f"inplace operation: a tensor of shape {x.shape} ({x.dtype!r}) used by "
                                   f"{type(self).__name__} was written in place after {type(self).__name__} ran; "
                                   f"write to a copy (t.clone()) or do the in-place write before using the tensor")


def _describe(x):
    return f"shape {x.shape} and dtype {x.dtype!r}" if isinstance(x, _tensor.Tensor) else type(x).__name__


def grad_buffer(t):
    """The C buffer of t.grad, created as zeros on first use, for a kernel to accumulate into.
    .grad is a public attribute: one set by hand must fit before a kernel writes into it."""
    g = t.grad
    if g is None:
        g = t.grad = _tensor.zeros_like(t)
    elif type(g) is not _tensor.Tensor or g._shape != t._shape or g._dtype is not t._dtype:
        if getattr(g, "is_sparse", False) and g.shape == t.shape:   # a sparse embedding's gradient meets a dense one
            g = t.grad = g.to_dense()
            return g._buf
        raise ValueError(f".grad of a tensor of shape {t.shape} and dtype {t.dtype!r} has {_describe(g)}; set it "
                         f"to None (zero_grad) or to a tensor of the same shape and dtype")
    return g._buf


def grad_targets(*tensors):
    """(buffer, accumulate) per tensor, for a kernel that can either add to a gradient or write it:
    t.grad's buffer and 1; if t has no .grad yet, a new uninitialised one and 0, so the kernel writes
    it with no zeroing pass first (as PyTorch takes a first gradient as it comes); (NULL, 0) if t
    needs none. Give them in the order the kernel writes them: a tensor listed twice (a @ a) is
    written first, then added to. The kernel must run right away, as the new .grad hold garbage."""
    for t in tensors:   # every .grad set by hand is checked before any new one exists
        if t.requires_grad and t.grad is not None:
            grad_buffer(t)
    targets = []
    for t in tensors:
        if not t.requires_grad:
            targets.append((ffi.NULL, 0))
        elif t.grad is None:
            t.grad = _tensor.empty(t._shape, t._dtype, t._numel)
            targets.append((t.grad._buf, 0))
        else:
            targets.append((t.grad._buf, 1))
    return targets


def grad_target(t):
    """grad_targets of one tensor: (buffer, accumulate)."""
    return grad_targets(t)[0]


def grad_buffer_or_null(t):
    """grad_buffer(t) if t needs a gradient, else NULL: the kernel then skips that product."""
    return grad_buffer(t) if t.requires_grad else ffi.NULL


def broadcast_strides(shape, out_shape):
    """Element strides that read a contiguous tensor of `shape` as one of `out_shape` (numpy's
    broadcasting: shapes align on the right, size-1 and missing dimensions get stride 0)."""
    strides, step = [0] * len(out_shape), 1
    for i in range(1, len(shape) + 1):
        if shape[-i] != 1:
            strides[-i] = step
        step *= shape[-i]
    return strides


def broadcast_shape(*shapes):
    """numpy's broadcast of the shapes, or a ValueError naming them."""
    ndim = max(map(len, shapes))
    out = [1] * ndim
    for shape in shapes:
        for i in range(1, len(shape) + 1):
            if shape[-i] != 1:
                if out[-i] not in (1, shape[-i]):
                    raise ValueError(f"shapes {' and '.join(map(str, shapes))} cannot be broadcast together")
                out[-i] = shape[-i]
    return tuple(out)


def broadcasts_to(shape, target):
    """Whether shape broadcasts to target itself (a value for an indexed region, a gradient to sum)."""
    try:
        return broadcast_shape(shape, target) == tuple(target)
    except ValueError:
        return False


class Broadcast:
    """How an op broadcasts operands of shapes a and b: the result's shape and element count, and,
    as C arrays ready for a kernel, that shape and a's and b's strides over it."""
    __slots__ = ("shape", "numel", "ndim", "shape_c", "a_strides", "b_strides")

    def __init__(self, a_shape, b_shape):
        shape = self.shape = broadcast_shape(a_shape, b_shape)
        self.numel = math.prod(shape)
        self.ndim = len(shape)
        self.shape_c = ffi.new("int64_t[]", shape or [0])
        self.a_strides = ffi.new("int64_t[]", broadcast_strides(a_shape, shape) or [0])
        self.b_strides = ffi.new("int64_t[]", broadcast_strides(b_shape, shape) or [0])


_broadcasts = {}


def broadcast(a_shape, b_shape):
    """The Broadcast of two shapes, made once per pair: a broadcasting op and its backward pay one
    dictionary lookup, no numpy call and no list converted for the kernel."""
    plan = _broadcasts.get((a_shape, b_shape))
    if plan is None:
        plan = Broadcast(a_shape, b_shape)
        if len(_broadcasts) >= 4096:   # a bound for programs whose shapes never repeat
            _broadcasts.clear()
        _broadcasts[a_shape, b_shape] = plan
    return plan


def accumulate_grad(t, g, alpha=1.0):
    """t.grad += alpha * g, summing g over the dimensions along which t was broadcast. When t has no
    gradient yet and g has its shape, g itself becomes t.grad (no zero-filled buffer to add it into),
    or a copy of g if it is the caller's (owned)."""
    if g._shape == t._shape:
        if t.grad is None and alpha == 1.0:
            t.grad = g if owned(g) else copy_of(g)
            return
        t._dtype.k.axpy(grad_buffer(t), g._buf, alpha, g._numel)
        return
    plan = broadcast(t._shape, g._shape)
    t._dtype.k.sum_to(grad_buffer(t), g._buf, alpha, plan.shape_c, plan.a_strides, plan.ndim)


def _graph_in_backward_order(root):
    """The ops reachable from root, each after every op that consumes its output, and for each op
    (by id) the tensor objects that carry its output: the tensor itself and the aliases that indexing
    and movement ops record (tensor._source), whose gradients must be summed before the op runs
    backward once. Iterative depth-first search (deep graphs need no recursion limit)."""
    rop = root._op
    order, visited, stack = [], {id(rop)}, [rop]
    tensors = {id(rop): {id(root): root}}
    while stack:
        op = stack[-1]
        for x in op.inputs:
            xop = x._op
            if xop is not None:
                group = tensors.get(id(xop))
                if group is None:
                    tensors[id(xop)] = group = {}
                group[id(x)] = x
                if id(xop) not in visited:
                    visited.add(id(xop))
                    stack.append(xop)
                    break
        else:
            order.append(stack.pop())
    order.reverse()
    return order, tensors


def _add_unconsumed(tensors, stop):
    """Puts into their op's group the retain_grad() tensors and autograd.grad inputs that no op reads
    directly: a tensor used only through indexing or movement ops (b[0], b.t()) is read through an
    alias that carries its op, and its gradient is that op's."""
    extra = list(_retained.values()) if _retained else []
    if stop:
        extra += [kept[0] for kept in stop.values()]
    for t in extra:
        if t._op is not None:
            group = tensors.get(id(t._op))
            if group is not None:
                group.setdefault(id(t), t)


backward_passes = 0   # how many backward() calls have run (fastgrad.compile: did a step run one?)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """torch.autograd.backward, and Tensor.backward's work: adds the gradients of `tensors` (one or a
    sequence), each weighted by its grad_tensor, into the .grad of every leaf that requires grad, or of
    `inputs` only when given. retain_graph is accepted and changes nothing: fastgrad's graph lives as
    long as its tensors, so a second backward() works either way. First order only (create_graph=True
    is refused, as autograd.grad refuses it)."""
    if create_graph:
        raise NotImplementedError("backward(create_graph=True) is not supported (fastgrad computes first-order "
                                  "gradients only: its backward ops do not record a graph)")
    tensors = (tensors,) if isinstance(tensors, _tensor.Tensor) else tuple(tensors)
    grads = grad_variables if grad_tensors is None else grad_tensors
    if grads is None or isinstance(grads, _tensor.Tensor) or not isinstance(grads, (list, tuple)):
        grads = (grads,) * len(tensors)   # one weight (None, a tensor or a number) for a single tensor
    if len(grads) != len(tensors):
        raise RuntimeError(f"backward: grad_tensors has {len(grads)} entries for {len(tensors)} tensors")
    if inputs is None:
        for t, g in zip(tensors, grads):
            backward_from(t, g)
        return
    inputs = (inputs,) if isinstance(inputs, _tensor.Tensor) else tuple(inputs)
    if not inputs:
        raise RuntimeError("backward: the inputs argument of backward() cannot be empty")
    for t, g in zip(inputs, grad(tensors, inputs, grads, allow_unused=True)):
        if g is not None:
            accumulate_grad(t, g)


def backward_from(root, grad=None, stop=None):
    """One backward pass from root, weighted by grad; stop: see _run_backward (grad() passes it)."""
    global backward_passes
    backward_passes += 1
    if not root.requires_grad:
        raise RuntimeError("backward() on a tensor that does not require grad: no input of the graph has "
                           "requires_grad=True (or it was computed under no_grad)")
    if grad is None:
        if root._numel != 1:
            raise RuntimeError(f"backward() needs a gradient argument for a non-scalar output of shape {root.shape}; "
                               f"call backward(grad) with a tensor of that shape")
        grad = _tensor.empty(root._shape, root._dtype, 1)
        grad._buf[0] = 1.0
        _run_backward(root, grad, stop)
    else:
        grad = grad if isinstance(grad, _tensor.Tensor) else _tensor.tensor(grad, dtype=root.dtype)
        if grad._buf is getattr(root.grad, "_buf", None) or _is_some_leaf_grad(grad, root):
            grad = copy_of(grad)   # backward writes .grad buffers: never read one it writes
        if grad.shape != root.shape or grad.dtype is not root.dtype:
            raise ValueError(f"backward(grad): grad has shape {grad.shape} and dtype {grad.dtype!r}, "
                             f"the output has shape {root.shape} and dtype {root.dtype!r}")
        with _borrowing(grad):   # the caller's tensor
            _run_backward(root, grad, stop)
    if _final_callbacks:   # queued by ops of this pass (DistributedDataParallel's gradient reduction)
        callbacks = _final_callbacks[:]
        _final_callbacks.clear()
        for fn in callbacks:
            fn()


def _run_backward(root, grad, stop=None):
    """Runs the graph's ops backward from root; stop (for grad()): {id: [tensor, gradient]} of
    non-leaf tensors whose gradient is also kept there."""
    if _tensor_hooks.hooks:   # some tensor has hooks (register_hook): the engine that runs them
        return _tensor_hooks.run_backward(root, grad, stop)
    if root._op is None:   # a leaf: the gradient accumulates like any other
        accumulate_grad(root, grad)
        return
    order, tensors = _graph_in_backward_order(root)
    _add_unconsumed(tensors, stop)
    # non-leaves that called retain_grad(): their .grad (earlier passes') is set aside while this pass
    # uses the attribute to gather their gradient, then this pass's copy is added to it
    retained = {}
    if _retained:
        for group in tensors.values():
            for i, t in group.items():
                if _retained.get(i) is t:
                    retained[i] = [t, t.grad, None]
                    t.grad = None
    root.grad = grad
    for op in order:
        group = tensors[id(op)]
        g = None
        for t in group.values():   # the op's output and its aliases: one gradient, one backward
            tg, t.grad = t.grad, None   # a non-leaf's gradient is consumed by its op, not kept
            if tg is not None:
                g = tg if g is None else g + tg
        if g is None:
            continue
        if stop is not None or retained:
            for t in group.values():
                if stop is not None and id(t) in stop:
                    kept = stop[id(t)]
                    kept[1] = copy_of(g) if kept[1] is None else kept[1] + g   # (the op below may hand g over)
                if id(t) in retained:
                    retained[id(t)][2] = copy_of(g)
        if _epoch > op.epoch:
            op.check_versions()
        op._backward(g)
    for t, before, now in retained.values():
        t.grad = before if now is None else now if before is None else before + now


_retained = weakref.WeakValueDictionary()   # id -> a non-leaf tensor whose gradient backward keeps (retain_grad)


def retain_grad(t):
    if not t.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t._op is not None:   # (a leaf keeps its gradient anyway)
        _retained[id(t)] = t


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs (summed, each weighted by its grad_output) with
    respect to inputs, returned as a tuple; no tensor's .grad changes. First order only
    (create_graph=True is refused: fastgrad's backward ops do not record a graph)."""
    if create_graph or is_grads_batched:
        raise NotImplementedError("autograd.grad: create_graph=True and is_grads_batched=True are not supported "
                                  "(fastgrad computes first-order gradients only)")
    single = isinstance(outputs, _tensor.Tensor)
    outputs = (outputs,) if single else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, _tensor.Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, _tensor.Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: grad_outputs has {len(grad_outputs)} entries for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, _tensor.Tensor) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad (or is not a tensor)")
    for i, t in enumerate(outputs):
        if not isinstance(t, _tensor.Tensor) or not t.requires_grad:
            raise RuntimeError(f"autograd.grad: element {i} of outputs does not require grad and has no grad_fn")
    stop = {id(t): [t, None] for t in inputs if t._op is not None}
    leaves, seen = {}, set()   # every leaf the pass reaches: its .grad is set aside and put back afterwards
    stack = list(outputs)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._op is None:
            leaves[id(t)] = (t, t.grad)
            t.grad = None
        else:
            stack.extend(x for x in t._op.inputs if x.requires_grad)
    try:
        for root, g in zip(outputs, grad_outputs):
            if id(root) in stop:   # an output that is itself an input: its own gradient
                g = _tensor.ones(root.shape, dtype=root.dtype) if g is None else copy_of(g)
                kept = stop[id(root)]
                kept[1] = g if kept[1] is None else kept[1] + g
            else:
                backward_from(root, g, stop)
        results = [stop[id(t)][1] if t._op is not None else t.grad for t in inputs]
    finally:
        for t, before in leaves.values():
            t.grad = before
    for i, (t, r) in enumerate(zip(inputs, results)):
        if r is None and not allow_unused and not materialize_grads:
            raise RuntimeError(f"autograd.grad: input {i} (shape {t.shape}) was not used in the graph; pass "
                               f"allow_unused=True to get None for it")
    return tuple(_tensor.zeros(t.shape, dtype=t.dtype) if r is None and materialize_grads else r
                 for t, r in zip(inputs, results))


# The buffers of gradients a caller passed to backward(grad) or Op.backward(grad), while that pass
# runs (id -> how many passes borrow it): read, but never handed over as some tensor's .grad.
_borrowed = {}


@contextlib.contextmanager
def _borrowing(grad):
    key = id(grad._buf)
    with _count_lock:
        _borrowed[key] = _borrowed.get(key, 0) + 1
    try:
        yield
    finally:
        with _count_lock:
            if _borrowed[key] == 1:
                del _borrowed[key]
            else:
                _borrowed[key] -= 1


def owned(g):
    """True if the backward pass made gradient g, so nothing else holds it; False for (a view of) a
    gradient the caller passed in."""
    return not _borrowed or id(g._buf) not in _borrowed


def copy_of(g):
    """A new tensor holding g's values (one kernel copy)."""
    out = _tensor.empty(g._shape, g._dtype, g._numel)
    kernels.cast(out._buf, g._dtype.code, g._buf, g._dtype.code, g._numel)
    return out


def _is_some_leaf_grad(grad, root):
    """True if `grad` is the .grad of a leaf in root's graph: the backward pass may write that buffer
    while reading grad, so it gets a copy first."""
    if grad._op is not None:
        return False
    stack, seen = [root], set()
    while stack:
        t = stack.pop()
        if t._op is None:
            if t.grad is not None and t.grad._buf is grad._buf:
                return True
            continue
        for x in t._op.inputs:
            if id(x) not in seen:
                seen.add(id(x))
                stack.append(x)
    return False


# ---- work to do once a backward pass has finished ------------------------------------------------
_final_callbacks = []


def queue_callback(fn):
    """Runs fn() when the backward() in progress has finished every op (PyTorch's
    queue_callback): an op's _backward calls it, e.g. to reduce gradients once all are complete."""
    _final_callbacks.append(fn)


# ---- custom Functions (autograd_function.py), and what older PyTorch code imports from here --------
def Variable(data, requires_grad=False, volatile=False):
    """torch.autograd.Variable, long merged into Tensor: the tensor itself (requires_grad set when asked)."""
    t = data if isinstance(data, _tensor.Tensor) else _tensor.tensor(data)
    return t.requires_grad_(True) if requires_grad else t


class set_detect_anomaly(contextlib.ContextDecorator):
    """Accepted (as a call or a context): fastgrad's errors already name the op and shapes involved."""

    def __init__(self, mode=True, check_nan=True):
        self.mode = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


detect_anomaly = set_detect_anomaly

from . import autograd_function as function  # noqa: E402 (fg.autograd.function, as torch.autograd.function)
from .autograd_function import Function, FunctionCtx, once_differentiable  # noqa: E402,F401
import sys as _sys  # noqa: E402
_sys.modules[__name__ + ".function"] = function
from . import tensor_hooks as _tensor_hooks  # noqa: E402  (it builds on this module)

"""Captured steps: `step = fg.compile(fn)` records the kernel calls of one call of fn and replays
them in C (csrc/plan.c) on later calls: one call from Python per step, no Python per op, nothing
allocated.

How a call goes, per input signature (the shapes, dtypes and requires_grad of the tensor arguments,
which arguments are the same tensor, the values of the other arguments, and grad mode):
  1st call: runs fn eagerly (a warm-up: optimizers make their state, gradients come to exist); if
            it returns a tensor that still has its autograd graph and ran no backward() (a compiled
            model's forward in a training loop), the signature stays eager: a replay's outputs
            have no graph to give;
  2nd call: runs fn eagerly while every kernel namespace (a dtype's `k`, dtypes.kernels) notes
            each call as it is made: its kernel, its pointer arguments and its other arguments,
            as given, each kind in one flat list; then those become the plan in a few C-level
            passes: every pointer converted at once (absolute addresses of buffers the plan keeps
            alive: parameters, gradients, optimizer and generator state; or moves into its
            arena: intermediates), the scalars packed, and fg_plan_layout / fg_plan_arena /
            fg_plan_place (plan.c) giving each step its arguments;
  later:    one call into C (fg_plan_run): the plan's first steps copy the tensor arguments into
            the buffers the recorded call read them from, then the recorded calls run; it returns
            the tensors the recorded call returned (the same objects, whose buffers the replay
            rewrote: a later call overwrites them; .clone() one to keep it). Returned tensors carry
            no autograd graph. Python around it only matches the arguments against the last plan
            (_Expected), checks the guards, points the copies at the new tensors and refreshes the
            optimizers' lr cells, in the replay function that is the compiled function's __call__
            (each Compiled has a class of its own): one written once for every plan (~2.2 us on a
            small MLP's step), and for a plan that keeps replaying, or whose form was compiled
            before, one written out for its form as straight-line code (~1 us; _replay_function).
The step's intermediates (buffers nothing outside the plan holds afterwards, written by the plan
before they are read) share one arena, placed by their first and last use (_arena). Recording the
64-32-10 MLP's step costs ~4 of its eager steps once Python has specialised this code (~5 for a
process's 2nd-6th recordings, ~11 for its first, which also describes each kernel it meets and makes
the recording namespaces; README, "Compiled steps"): about half the eager run with its recording
(of which the module walk for the guards ~15 us), a third the plan (finding the buffers among the
pointers, the arena, the guards), the rest copying the inputs and entering and leaving the capture.
The cyclic garbage collector is paused meanwhile (Compiled._record).

What changes between steps is never frozen:
  - learning rates and step counts: the update kernels of SGD, Adam, AdamW, SparseAdam, NAdam, RAdam,
    Adamax, ASGD and Rprop (Optimizer.live_state)
    read group["lr"] from a cell of the optimizer, which each replay refreshes (a scheduler's
    change takes effect), and increment state["step"], a tensor, themselves (Adam's bias
    corrections follow); other optimizers are refused;
  - random numbers: the C generator advances its state buffer, which the plan reads.
What the plan cannot replay is refused at capture with CaptureError naming the op: a host read of a
tensor the step computed or took as input (.item(), .numpy(), .tolist(), bool(), float(), int(),
print), a kernel whose result decides a shape (nonzero), a pointer into memory the plan cannot keep
alive, a scheduler's step(), a collective of fastgrad.distributed (refuse_while_recording).
Guards that record a new plan: a new input signature (at most MAX_PLANS per compiled function,
then an error), a module switched between train() and eval(), a module's parameter replaced (not
updated in place), an optimizer whose hyperparameters other than lr changed, whose state was
replaced (load_state_dict) or whose gradients the step accumulates into were replaced. Gradients
the step itself makes are put back as p.grad by each replay instead (another plan of the same
model may have set its own). The module guards (train()/eval(), parameters and their buffers) are
walked only when _changes.count moved (Module.__setattr__ and Tensor.data's setter bump it); the
optimizer's are checked on every call.
Not captured, by design: Python values fn reads from elsewhere than its arguments (globals,
closures) other than optimizer hyperparameters are constants of the plan.
"""
import builtins
import functools
import gc
import itertools
import operator
import struct
import sys
import threading
import warnings

from . import _changes, autograd, dtypes
from ._C import ffi, lib
from .nn import modules as _modules
from .nn.modules import Module
from .optim import lr_scheduler as _lr_scheduler
from .optim import optimizer as _optimizer
from .ops import _checks
from .tensor import Tensor, alloc_uninitialized, empty

_tensor = sys.modules["fastgrad.tensor"]   # the module: the package's `tensor` is the function

MAX_PLANS = 8


class CaptureError(RuntimeError):
    """Something in a compiled step that a replay could not reproduce faithfully."""


_DTYPES = (dtypes.float32, dtypes.float64, dtypes.int64, dtypes.bool_)
_NAMESPACES = [dtypes.kernels] + [d.k for d in _DTYPES]
_capture_lock = threading.Lock()   # the namespaces are global: one capture at a time
_capturing = None                  # the recorder, while a capture runs
_UINTPTR = ffi.typeof("uintptr_t")
# the C types a recording uses, parsed once (cffi parsing one on its first use costs ~5-30 us)
_STEPS, _ARGS, _POINTERS = ffi.typeof("fg_plan_step[]"), ffi.typeof("fg_plan_arg[]"), ffi.typeof("void *[]")
_INT64S, _UINT64S, _BYTES = ffi.typeof("int64_t[]"), ffi.typeof("uint64_t[]"), ffi.typeof("char[]")
_VOID_P, _CHAR_P, _UINTPTR_P = ffi.typeof("void *"), ffi.typeof("char *"), ffi.typeof("uintptr_t *")
_cast = ffi.cast
_get_ident = threading.get_ident
_VIEW = type(ffi.cast("void *", 0))   # the cdata class of casts and pointer arithmetic: never an owner
# C-level pieces for passes over a whole tape
_ID, _SCALAR_FORMAT = operator.attrgetter("id"), operator.attrgetter("scalar_format")
_compress, _repeat = itertools.compress, itertools.repeat


def _address(cdata):
    return int(_cast(_UINTPTR, cdata))


class _Kernel:
    """What a plan needs of one kernel: its id in the dispatch table, which arguments are pointers
    and which are scalars, and whether a replay can reproduce its result (refusal: None, or why not:
    a value Python computes with; a status, 0 or a failure the op raises on, stops the replay there)."""
    __slots__ = ("name", "id", "pointers", "scalars", "scalar_format", "real", "refusal", "take_pointers",
                 "take_scalars")

    def __init__(self, name, kernel_id, fields, result="v", real=None):
        self.name, self.id, self.real = name, kernel_id, real
        self.refusal = None if result in "vs" else (
            f"compile: {name} returns a value that Python computes with (a count that decides a shape or a branch, "
            f"e.g. nonzero, masked_select): not capturable")
        arguments = _ARGUMENTS.get(fields) or _arguments(fields)
        self.pointers, self.scalars, self.scalar_format, self.take_pointers, self.take_scalars = arguments

    @classmethod
    def of(cls, real, name):
        """From the dispatch table's signature of the kernel (generated from fastgrad.h)."""
        kernel_id = lib.fg_plan_kernel_id(name.encode())
        if kernel_id < 0:
            raise CaptureError(f"compile: {name} is not in the plan's dispatch table (csrc/build_plan.py)")
        result, fields = ffi.string(lib.fg_plan_kernel_signature(kernel_id)).decode().split(":")
        return cls(name, kernel_id, fields, result, real)


_ARGUMENTS = {}   # a signature's argument letters -> what _Kernel keeps of them (kernels share a few dozen)


def _arguments(fields):
    """Which arguments are pointers and which scalars, the scalars' struct format (int64, double), and
    getters taking a call's pointer and other arguments, each as a tuple, at C speed."""
    pointers = [i for i, f in enumerate(fields) if f == "p"]
    scalars = [i for i, f in enumerate(fields) if f != "p"]
    arguments = _ARGUMENTS[fields] = (pointers, scalars, fields.replace("p", "").replace("i", "q"), _taker(pointers),
                                      _taker(scalars))
    return arguments


def _taker(indices):
    """args -> the tuple of args[i] for i in indices, as one C-level call (itemgetter gives a lone item
    bare, so one index or a run of them is a slice)."""
    if not indices or indices[-1] - indices[0] == len(indices) - 1:   # (increasing: a run)
        return operator.itemgetter(slice(indices[0], indices[-1] + 1) if indices else slice(0, 0))
    return operator.itemgetter(*indices)


_COPY = _Kernel("<input copy>", lib.FG_PLAN_COPY, "ppi")             # dst, src, bytes
_RANGE = _Kernel("<range check>", lib.FG_PLAN_CHECK_RANGE, "piiii")   # buffer, n, lo, hi, allowed
_FILL = _Kernel.of(lib.fg_fill, "fg_fill")


class _Recorder:
    """One recorded call of a step. Each kernel call is noted as it is made: its _Kernel, its pointer
    arguments as given (cdata), its other arguments (numbers), each kind in one flat list; turning them
    into the plan's addresses and values waits for the end (_Plan, _pointers, _arena), where it takes a
    few C-level passes over all of them."""

    def __init__(self, inputs):
        self.thread = _get_ident()
        self.kernels, self.pointers, self.scalars = [], [], []
        self.inputs = inputs
        self.optimizer_params = {}  # optimizer -> [parameter], one per kernel call
        self.grads_before = {}      # id(parameter) -> its .grad when a module holding it was first called
        self.hyperparameters = {}   # optimizer -> its groups' hyperparameters after its step()
        self.modules = {}           # id -> (module, training, [(name, parameter)])
        self.unrouted = None        # the optimizer class whose step() runs, outside its _kernel
        self.constants = set()      # addresses of the arrays made of Python sequences given for pointers
        self.owners = {_address(t._buf): t._buf for t in inputs}   # (the plan's own copies: arrays)

    def own(self, cdata):
        """cdata, if it is an array, is a buffer known whole (owners: address -> cdata) besides the
        calls' own arrays."""
        if _is_array(cdata):
            self.owners[_address(cdata)] = cdata

    def note(self, k, args):
        self.kernels.append(k)
        self.pointers += k.take_pointers(args)
        self.scalars += k.take_scalars(args)

    def refuse(self, k):
        """A kernel call the plan cannot hold: one whose result Python uses, or one inside an optimizer's
        step() that did not come through Optimizer._kernel."""
        if self.unrouted:
            raise CaptureError(f"compile: {self.unrouted}.step() called {k.name} outside Optimizer._kernel, so "
                               f"its hyperparameters would be frozen into the plan (sparse gradients?)")
        raise CaptureError(k.refusal)

    def host_read(self, t, what):
        """Refuses a host read of a buffer the step computed or took as input (any buffer a recorded
        kernel was given may have changed)."""
        seen = {_address(a) for a in self.pointers if a is not None and not isinstance(a, (list, tuple))}
        if _address(t._buf) in seen.union(_address(i._buf) for i in self.inputs):
            raise CaptureError(f"compile: {what} on a tensor of shape {t._shape} that the step computed or took "
                               f"as input: a host read inside a captured step would be frozen into the plan. "
                               f"Return the tensor from the step and read it outside instead")


def _wrap(real, name):
    described = []   # its _Kernel, made on its first recorded call

    def kernel(*args):
        rec = _capturing
        if rec is None or rec.thread != _get_ident():
            return real(*args)
        k = described[0] if described else described.append(_Kernel.of(real, name)) or described[0]
        if k.refusal is not None or rec.unrouted is not None:
            rec.refuse(k)
        rec.note(k, args)
        return real(*args)
    return kernel


def _host_read(t, what):
    rec = _capturing
    if rec is not None and rec.thread == _get_ident():
        rec.host_read(t, what)


def _module_called(module):
    """Each module the step calls: its train()/eval() flag and parameters become guards, its buffers
    owned; forward hooks are refused (Python a replay would skip)."""
    rec = _capturing
    if rec is None or rec.thread != _get_ident():
        return
    if module.__dict__.get("_forward_hooks") or module.__dict__.get("_forward_pre_hooks"):
        raise CaptureError(f"compile: a forward hook on {type(module).__name__} runs Python, which a replay "
                           f"would skip; remove it (handle.remove()) or call the step uncompiled")
    if id(module) not in rec.modules:
        for m, params, buffers in module._tree():   # children too: Sequential calls their forward directly
            rec.modules[id(m)] = (m, m.training, params)
            for _, p in params:
                rec.grads_before.setdefault(id(p), p.grad)
            for _, b in buffers:   # known whole: the step may read a slice of one
                rec.own(b._buf)


def _optimizer_step(opt, updates, closure):
    """Optimizer.step() while a step records (optimizer.step_hook): only optimizers whose kernels
    read lr and the step count from memory are capturable; what else the step baked in is noted."""
    rec = _capturing
    if rec is None or rec.thread != _get_ident():
        return updates(opt, closure)
    if not type(opt).live_state:
        raise CaptureError(f"compile: {type(opt).__name__}.step() inside a compiled step: its kernels take the "
                           f"learning rate and step count as Python numbers, which a replay would freeze (SGD, "
                           f"Adam, AdamW, NAdam, RAdam, Adamax, ASGD and Rprop read them from memory)")
    rec.unrouted = type(opt).__name__
    rec.optimizer_params.setdefault(opt, [])
    try:
        return updates(opt, closure)
    finally:
        rec.unrouted = None
        rec.hyperparameters[opt] = _hyperparameters(opt)


def _optimizer_kernel(opt, p, kernel, args):
    """Optimizer._kernel while a step records (optimizer.kernel_hook): the update of p, whose
    learning rate and step count the kernel reads from memory."""
    rec = _capturing
    if rec is None or rec.thread != _get_ident():
        return kernel(*args)
    rec.optimizer_params.setdefault(opt, []).append(p)
    unrouted, rec.unrouted = rec.unrouted, None
    try:
        return kernel(*args)
    finally:
        rec.unrouted = unrouted


def _hyperparameters(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


def _zeroed(buf, dtype, numel):
    """A buffer allocated zeroed inside the step: the replay zeroes it again (a fill call on the tape;
    this time the allocation did)."""
    rec = _capturing
    if rec is not None and rec.thread == _get_ident() and numel:
        rec.note(_FILL, (buf, dtype.code, 0.0, 0, numel))


def _scheduler_stepped(scheduler):
    """A scheduler's step() (lr_scheduler.step_hook): refused inside a recording."""
    rec = _capturing
    if rec is not None and rec.thread == _get_ident():
        raise CaptureError(f"compile: {type(scheduler).__name__}.step() inside a compiled step: a replay runs no "
                           f"Python, so the learning rate would stay frozen; call the scheduler outside the compiled "
                           f"function")


def refuse_while_recording(what):
    """For work a replay would skip that is not a kernel call and reads no tensor the host way (MPI's
    collectives, fastgrad.distributed): refused inside a recording, in any buffer."""
    rec = _capturing
    if rec is not None and rec.thread == _get_ident():
        raise CaptureError(f"compile: {what} inside a compiled step: a replay runs only the recorded kernels and "
                           f"would skip it; call the step uncompiled (DistributedDataParallel and the collectives "
                           f"are not captured yet)")


def _range_check(t, high, allowed=-2**63):
    """Records a check that each later batch of t holds values in [0, high) or equal to `allowed`
    (a loss's ignore_index)."""
    rec = _capturing
    if rec is not None and rec.thread == _get_ident():
        rec.note(_RANGE, (t._buf, t._numel, 0, high, allowed))


class _RecordingKernels:
    """A dtype's kernel namespace while a step records: each kernel's recording wrapper, made on its
    first use (a step uses a few of the ~90)."""

    def __init__(self, real):
        self._real, self._suffix = real, real.__name__[len("fastgrad.kernels"):]

    def __getattr__(self, name):
        wrapper = _wrap(getattr(self._real, name), f"fg_{name}{self._suffix}")
        setattr(self, name, wrapper)
        return wrapper


_PATCHES = []   # (owners, attributes, the recording values): what a capture swaps, made on the first capture


def _patches():
    if not _PATCHES:   # made once: a capture costs a few eager steps, not hundreds
        # each dtype's kernel namespace, swapped whole (one setattr: updating its ~90 names in place
        # was most of what entering and leaving a capture cost); dtypes.kernels' names, which modules
        # import by name, in place; the hooks the library's modules call while set (module globals:
        # setting a class attribute instead, Tensor's or Optimizer's, would unspecialise every
        # attribute read of their instances, costing the recording call about half an eager step)
        targets = [(d, "k", _RecordingKernels(d.k)) for d in _DTYPES]
        targets += [(dtypes.kernels, attr, _wrap(real, f"fg_{attr}")) for attr, real in vars(dtypes.kernels).items()
                    if not attr.startswith("__") and callable(real)]
        targets += [(_tensor, "host_read_hook", _host_read), (_tensor, "zeroed_hook", _zeroed),
                    (_modules, "_capture_hook", _module_called), (_checks, "range_hook", _range_check),
                    (_optimizer, "step_hook", _optimizer_step), (_optimizer, "kernel_hook", _optimizer_kernel),
                    (_lr_scheduler, "step_hook", _scheduler_stepped)]
        _PATCHES.extend(zip(*targets))
    return _PATCHES


class _Patched:
    """The recording kernels and hooks (_patches) in place for the time of one capture; other threads'
    calls pass through them. Each swap is a setattr, all of them in one C-level pass each way."""

    def __enter__(self):
        owners, attributes, recording = _patches()
        self.saved = list(map(getattr, owners, attributes))
        list(map(setattr, owners, attributes, recording))
        return self

    def __exit__(self, *exc):
        owners, attributes, _ = _PATCHES
        list(map(setattr, owners, attributes, self.saved))


class _Plan:
    """The recorded calls as an fg_plan_step array, the buffers it keeps alive, and the little that a
    replay does in Python: check the guards, point the input copies at the caller's tensors, copy each
    optimizer group's lr into the cell its kernels read, then one call into C (fg_plan_run)."""

    def __init__(self, rec, key, dtypes_of_args, has_kwargs, copies, result):
        """copies: (address, bytes) of each tensor argument's buffer in the recorded call;
        dtypes_of_args: each positional argument's dtype, or the argument when not a tensor."""
        self.result = result
        # first, each input copied into the buffer the recorded call read it from (its source is set
        # by each replay: self.sources)
        kernels = [_COPY] * len(copies) + rec.kernels
        pointers = [p for address, _ in copies for p in (_cast(_VOID_P, address), ffi.NULL)] + rec.pointers
        scalars = [size for _, size in copies] + rec.scalars
        rec.kernels = rec.pointers = rec.scalars = rec.inputs = None
        self.n = len(kernels)
        # every call's pointer arguments, in order, in one block; its other arguments in another
        self.pointers, owners = _pointers(rec, kernels, pointers)
        del pointers   # (they hold buffers: _arena counts who else does)
        self.scalars = alloc_uninitialized(_ARGS, len(scalars) or 1)
        ffi.memmove(self.scalars, struct.pack("=" + "".join(map(_SCALAR_FORMAT, kernels)), *scalars), 8 * len(scalars))
        self.steps = alloc_uninitialized(_STEPS, self.n or 1)
        if lib.fg_plan_layout(self.steps, list(map(_ID, kernels)), self.n, self.pointers, self.scalars) >= 0:
            raise RuntimeError("compile: a recorded kernel id is not in the dispatch table")   # (a bug)
        self.keep, self.arena, self.arena_bytes, self.intermediate_bytes = _arena(rec, self.steps, kernels, owners,
                                                                                  len(self.pointers))
        self.sources = [2 * c + 1 for c in range(len(copies))]   # each input copy's src in self.pointers
        self.expect = _Expected(key[0], dtypes_of_args, has_kwargs)
        self.grad_enabled = key[1]
        self._guard_modules(rec.modules.values())
        self._guard_optimizers(rec)

    def _guard_modules(self, modules):
        """What the recorded call saw of its modules: train()/eval(), their children, and each
        parameter's object and buffer (a parameter or submodule replaced, not updated in place, or a
        layer added or removed, makes a new plan). Each such change bumps _changes.count
        (Module.__setattr__, Tensor.data's setter, the containers' changes), so these are walked only
        when it moved (guards_hold)."""
        self.counted = []   # (object, attribute, the object it must be)
        self.children = []   # (module, its children): the objects it must still have, in order
        self.checked = -1   # the _changes.count at which self.counted last held
        for m, training, params in modules:
            self.counted.append((m, "training", training))   # a bool: `is` compares it
            self.children.append((m, list(m.children())))
            for name, p in params:
                self.counted.append((m, name, p))
                self.counted.append((p, "_buf", p._buf))

    def _guard_optimizers(self, rec):
        """Per optimizer its groups' lr cells (written on each replay) and what the recorded calls
        baked in, checked on every call (no count sees these change): the other hyperparameters, the
        number of groups, the state dict (load_state_dict() replaces it), each updated parameter's
        .grad where the step accumulated into it. A gradient the recorded call made (after
        zero_grad()) is instead put back as p.grad by each replay, which rewrites it: another plan
        of the same model (another batch size) may have set its own."""
        self.lr_cells = []
        self.made = []      # (parameter, the gradient tensor the recorded call made)
        self.watched = []   # (object, attribute, the object it must be)
        self.frozen = []    # (getter, owner, the value getter(owner) must equal)
        for opt, params in rec.optimizer_params.items():
            for group in opt.param_groups:
                self.lr_cells.append((opt._lr_cell(group), group))
                keys = sorted(k for k in group if k not in ("params", "lr"))
                if keys:
                    get = operator.itemgetter(*keys)
                    self.frozen.append((get, group, get(group)))
            self.frozen.append((len, opt.param_groups, len(opt.param_groups)))
            self.watched.append((opt, "state", opt.state))
            for p in params:
                before = rec.grads_before.get(id(p), p.grad)
                if before is p.grad:
                    self.watched.append((p, "grad", p.grad))
                else:
                    self.made.append((p, p.grad))

    def counted_hold(self):
        """The module guards, walked when _changes.count moved since they last held."""
        count = _changes.count   # read first: a change during the walk moves it again
        for obj, attribute, value in self.counted:
            if getattr(obj, attribute) is not value:
                return False
        for m, children in self.children:
            now = list(m.children())
            if len(now) != len(children) or any(map(operator.is_not, now, children)):
                return False
        self.checked = count
        return True

    def guards_hold(self):
        if self.checked != _changes.count and not self.counted_hold():
            return False
        for obj, attribute, value in self.watched:
            if getattr(obj, attribute) is not value:
                return False
        for get, owner, value in self.frozen:
            if get(owner) != value:
                return False
        return True

    def run(self, tensors):
        for src, t in zip(self.sources, tensors):
            self.pointers[src] = t._buf
        for cell, group in self.lr_cells:
            cell[0] = group["lr"]
        for p, grad in self.made:
            p.grad = grad
        failed = lib.fg_plan_run(self.steps, self.n)
        if failed >= 0:
            self.failed(failed)
        return self.result

    def failed(self, step):
        if self.steps[step].kernel in (lib.fg_plan_kernel_id(b"fg_pointwise_loss_f32"),
                                       lib.fg_plan_kernel_id(b"fg_pointwise_loss_f64")):   # its only failure
            raise ValueError("compiled step: binary_cross_entropy: all elements of input and target should be "
                             "between 0 and 1")
        if self.steps[step].kernel == lib.fg_plan_kernel_id(b"fg_check_range_i64"):   # fg.linalg's info check
            from .linalg import LinAlgError
            raise LinAlgError("compiled step: a matrix of this batch is singular or not positive-definite (the "
                              "check of fg.linalg's factorisations failed on replay); call the step uncompiled to "
                              "see which")
        if self.steps[step].kernel != lib.FG_PLAN_CHECK_RANGE:
            raise MemoryError("compiled step: a kernel could not get its scratch memory (it reported a "
                              "failure); the step stopped there")
        raise IndexError("compiled step: an index input holds a value out of range (its bounds were checked "
                         "at capture; the replay checks them again)")


REPLAYS_BEFORE_CODEGEN = 256   # a plan's replays through _plain_replay before its straight-line form is compiled


def _replay_function(plan, lock):
    """A Compiled's __call__ for one plan, None for a plan recorded with keyword arguments (those take
    Compiled._call only). It is the straight-line form (_straight_replay) where one was compiled for
    this plan's form already; otherwise _plain_replay, which compiles that form after
    REPLAYS_BEFORE_CODEGEN replays: compiling costs ~6 eager steps of a small MLP and saves ~1.2 us a
    replay, so only a plan that keeps replaying pays it, and a step replayed a few dozen times never
    does."""
    if plan.expect.n < 0:
        return None
    form = _replay_form(plan)
    return _straight_replay(plan, lock, form) if form in _REPLAY_MAKERS else _plain_replay(plan, lock, form)


def _plain_replay(plan, lock, form):
    """The replay function written once for every plan: _Expected.match's checks, the grad mode,
    guards_hold and run, ~2.2 us of Python around a 64-32-10 step (the straight-line form: ~1)."""
    expect, grad_enabled, slow = plan.expect, plan.grad_enabled, Compiled._call
    countdown = REPLAYS_BEFORE_CODEGEN

    def __call__(self, *args, **kwargs):
        nonlocal countdown
        tensors = None if kwargs else expect.match(args)
        if tensors is None or autograd.is_grad_enabled() != grad_enabled or not plan.guards_hold():
            return slow(self, args, kwargs)
        countdown -= 1
        if not countdown and plan.replay is __call__:   # it keeps replaying: the straight-line form pays now
            plan.replay = _straight_replay(plan, lock, form)
            if self.last is plan:
                self._use(plan)
        with lock:
            return plan.run(tensors)
    return __call__


def _replay_form(plan):
    expect = plan.expect
    return (expect.n, tuple(i for i, *_ in expect.tensors), tuple(i for i, *_ in expect.values), tuple(expect.same),
            tuple(expect.apart), plan.grad_enabled, tuple(attribute for _, attribute, _ in plan.watched),
            len(plan.frozen), tuple(plan.sources), len(plan.lr_cells), len(plan.made))


def _straight_replay(plan, lock, form):
    """A Compiled's __call__ for one plan: _Expected.match's checks for positional arguments,
    guards_hold's and run's work, written out as straight-line Python for this plan's arguments and
    guards. A loop, zip or map per call cost more than the checks themselves (~2 us of Python around
    a 64-32-10 step, ~1 written out). When the arguments or a guard do not hold it hands the call to
    Compiled._call (_signature, the plans by signature, guards_hold, run), which decides. The code
    depends only on the plan's form (_replay_source), compiled once per form into a function that
    makes it; the objects it compares against are that function's arguments _k0, _k1, ... in the
    order the form lists them."""
    make = _REPLAY_MAKERS.get(form)
    if make is None:   # compiling costs ~6 eager steps of a small MLP: plans of one form share it
        env = {"_slow": Compiled._call, "_Tensor": Tensor, "_changes": _changes, "_autograd": autograd}
        exec(builtins.compile(_replay_source(*form), "<fastgrad.compile replay>", "exec"), env)
        make = _REPLAY_MAKERS[form] = env["_make"]
    expect = plan.expect
    constants = [c for _, shape, dtype, requires_grad in expect.tensors for c in (shape, dtype, requires_grad)]
    constants += [c for _, kind, value in expect.values for c in (kind, value)]
    constants += [c for obj, _, value in plan.watched for c in (obj, value)]
    constants += [c for frozen in plan.frozen for c in frozen] + [c for pair in plan.lr_cells for c in pair]
    constants += [c for pair in plan.made for c in pair]
    return make(plan, lock, lib.fg_plan_run, plan.pointers, plan.steps, plan.n, plan.result, *constants)


def _replay_source(n, tensors, values, same, apart, grad_enabled, watched, frozen, sources, lr_cells, made):
    """The source of a replay function of this form: n positional arguments, those at `tensors` and
    `values` checked (shape, dtype, requires_grad; type and value), the pairs `same` and `apart`
    checked to be / not be one tensor, the grad mode if recorded under no_grad, the module guards
    when _changes.count moved, `watched` attributes and `frozen` values; then the input copies'
    sources set (self.pointers[sources[c]]), the lr cells and the gradients made, and the one call."""
    used = []   # the constants' names, in order

    def k():
        used.append(f"_k{len(used)}")
        return used[-1]
    miss = []   # conditions, any of which sends the call to _slow
    for i in tensors:
        miss += [f"a{i}.__class__ is not _Tensor", f"a{i}._shape != {k()}", f"a{i}._dtype is not {k()}",
                 f"a{i}.requires_grad != {k()}"]
    for i in values:
        miss += [f"type(a{i}) is not {k()}", f"a{i} != {k()}"]
    miss += [f"a{i} is not a{j}" for i, j in same] + [f"a{i} is a{j}" for i, j in apart]
    # grad mode as recorded: with grad on, eager would return a graph; with it off, a training
    # step's backward() would raise
    enabled = "(_autograd._threads_without_grad == 0 or _autograd._mode.enabled)"   # is_grad_enabled(), in line
    miss.append(f"not {enabled}" if grad_enabled else enabled)
    miss.append("_plan.checked != _changes.count and not _plan.counted_hold()")
    miss += [f"{k()}.{attribute} is not {k()}" for attribute in watched]
    miss += [f"{k()}({k()}) != {k()}" for _ in range(frozen)]
    work = [f"_pointers[{source}] = a{i}._buf" for source, i in zip(sources, tensors)]
    work += [f"{k()}[0] = {k()}['lr']" for _ in range(lr_cells)]
    work += [f"{k()}.grad = {k()}" for _ in range(made)]
    constants = "".join(f", {name}" for name in used)
    lines = [f"def _make(_plan, _lock, _run, _pointers, _steps, _n, _result{constants}):",
             "  def __call__(self, *args, **kwargs):",
             f"    if kwargs or len(args) != {n}:",
             "        return _slow(self, args, kwargs)"]
    if n:
        lines.append(f"    {''.join(f'a{i}, ' for i in range(n))}= args")
    # one condition (compiling a statement per check took ~1.5x as long)
    lines += ["    if (" + " or\n            ".join(miss) + "):", "        return _slow(self, args, kwargs)"]
    lines += ["    _lock.acquire()",
              "    try:"] + [f"        {line}" for line in work] + [
              "        failed = _run(_steps, _n)",
              "    finally:",
              "        _lock.release()",
              "    if failed >= 0:",
              "        _plan.failed(failed)",
              "    return _result",
              "  return __call__"]
    return "\n".join(lines)


_REPLAY_MAKERS = {}   # form -> the function making a replay function of that form from a plan's objects


def _pointers(rec, kernels, objs):
    """Every pointer argument of the calls, in call order, in one void *[] block, and the buffers they
    point into, address -> cdata: rec.owners (buffers known whole: the inputs, the modules' buffers,
    arrays made of Python sequences) and every argument that is not a view (a cast, pointer arithmetic,
    NULL): an array, or a pointer from ffi.new("T *"), whose one number (8 bytes at most: kernels take
    pointers to numbers) ffi.sizeof covers. cffi converting them all at once into one void *[] costs
    ~2 us for 60 pointers, a cast each in Python ~14; the owners are picked out at C speed too."""
    try:
        block = ffi.new(_POINTERS, objs or 1)
    except TypeError:   # a Python sequence or None given for a pointer
        objs = list(map(_as_pointer, _repeat(rec), [(k, i) for k in kernels for i in k.pointers], objs))
        block = ffi.new(_POINTERS, objs or 1)
    addresses = ffi.unpack(_cast(_UINTPTR_P, block), len(objs))
    owners = dict(_compress(zip(addresses, objs), map(operator.is_not, map(type, objs), _repeat(_VIEW))))
    owners.update(rec.owners)
    rec.owners = None
    return block, owners


def _is_array(cdata):
    """Whether cdata is an array, a buffer a plan can own; not a pointer (a cast, pointer arithmetic,
    or an owned pointer from ffi.new("T *"), which has no length and whose sizeof is the
    pointer's). Telling them by length is ~2x faster than by ctype."""
    if type(cdata) is _VIEW:
        return False
    try:
        len(cdata)
    except TypeError:
        return False
    return True


def _as_pointer(rec, where, a):
    """A pointer argument (argument i of kernel k: where) as cdata: a Python sequence (for which cffi
    made a temporary array for the call) becomes an array the plan owns (rec.constants), None is NULL."""
    if a is None:
        return ffi.NULL
    if isinstance(a, (list, tuple)):   # (fg.Size too: a shape)
        k, i = where
        a = ffi.new(ffi.getctype(ffi.typeof(k.real).args[i].item, "[]"), list(a))
        rec.constants.add(_address(a))
    return a


def _arena(rec, steps, kernels, owners, pointers):
    """Moves the step's intermediates into one arena (fg_plan_arena, fg_plan_place): (the buffers the
    plan keeps, the arena, its bytes, the intermediates' bytes). An intermediate is a buffer nothing
    outside the plan refers to after the recorded call (no tensor, gradient or state holds it) whose
    first use in the calls is a write: its contents are made within each replay, so buffers whose
    uses do not overlap can share memory. Pointers into one (views) move with it."""
    buffers = list(owners.values())
    movable = _held_only_by(buffers)
    if rec.constants:
        movable = [alone and start not in rec.constants for alone, start in zip(movable, owners)]
    count = len(owners)
    # one block: offset (count), owner_of (pointers), the moved bytes (1), scratch (10 * count)
    offset = alloc_uninitialized(_INT64S, 11 * count + pointers + 1)
    owner_of, moved = offset + count, offset + count + pointers
    starts = ffi.new(_UINT64S, list(owners) or 1)
    end = lib.fg_plan_arena(offset, owner_of, moved, steps, len(kernels), starts, list(map(ffi.sizeof, buffers)),
                            movable, count, moved + 1)
    if end < 0:
        k, i = [(k, i) for k in kernels for i in k.pointers][-1 - end]
        raise CaptureError(f"compile: argument {i} of {k.name} points into a buffer the capture never saw whole, "
                           f"so the plan cannot keep it alive; this op is not capturable yet")
    arena = None
    if moved[0]:   # uninitialised: every byte of it is written by the step before it is read
        arena = alloc_uninitialized(_BYTES, end + 64)
        lib.fg_plan_place(steps, len(kernels), owner_of, offset, starts, _cast(_CHAR_P, (_address(arena) + 63) & ~63))
    keep = list(_compress(buffers, map((0).__gt__, ffi.unpack(offset, count))))   # those left in place
    return keep, arena, end, moved[0]


def _held_only_by(buffers):
    """Per buffer, in order: whether nothing else refers to it (as many references as a probe held the
    same way has: the owners dict, the list, getrefcount's argument)."""
    probe = ffi.new(_BYTES, 1)
    held = {0: probe}, [probe]
    alone = sys.getrefcount(probe) - 1   # (less the name `probe`)
    del held
    return list(map(alone.__ge__, map(sys.getrefcount, buffers)))


_TENSOR_SIGNATURE = operator.attrgetter("__class__", "_shape", "_dtype", "requires_grad")


class _Expected:
    """The positional arguments a plan's signature accepts, checked without building the signature:
    per tensor its shape, dtype, requires_grad and which earlier argument it is, per other value its
    type and value. Calls with keyword arguments take the slow path (_signature)."""

    def __init__(self, key, args, has_kwargs):
        self.n = -1 if has_kwargs else len(args)
        self.tensors, self.values = [], []
        self.same, self.apart = [], []   # (i, j): argument i must be / must not be argument j
        which = {}   # argument index -> (its signature, which distinct tensor)
        for i, k in enumerate(key):
            if len(k) == 4:   # (shape, dtype name, requires_grad, which distinct tensor)
                self.tensors.append((i, k[0], args[i], k[2]))   # args[i]: its dtype
                # only arguments of one signature can be one tensor: those pairs are checked
                for j, (signature, distinct) in which.items():
                    if signature == k[:3]:
                        (self.same if distinct == k[3] else self.apart).append((i, j))
                which[i] = (k[:3], k[3])
            else:
                self.values.append((i, k[1], k[2]))
        self.signatures = [(Tensor, shape, dtype, requires_grad) for _, shape, dtype, requires_grad in self.tensors]

    def match(self, args):
        if len(args) != self.n:
            return None
        if self.values:
            tensors = []
            for i, shape, dtype, requires_grad in self.tensors:
                a = args[i]
                if type(a) is not Tensor or a._shape != shape or a._dtype is not dtype or a.requires_grad != requires_grad:
                    return None
                tensors.append(a)
            for i, kind, value in self.values:
                a = args[i]
                if type(a) is not kind or a != value:
                    return None
        else:   # tensors only, the usual step(x, y): one C-level pass over them
            try:
                if list(map(_TENSOR_SIGNATURE, args)) != self.signatures:
                    return None
            except AttributeError:
                return None
            tensors = args
        for i, j in self.same:
            if args[i] is not args[j]:
                return None
        for i, j in self.apart:
            if args[i] is args[j]:
                return None
        return tensors


def _tensors_of(args, kwargs):
    return [a for a in list(args) + [v for _, v in sorted(kwargs.items())] if isinstance(a, Tensor)]


def _signature(args, kwargs):
    key = []
    seen = {}
    for name, a in list(enumerate(args)) + sorted(kwargs.items()):
        if isinstance(a, Tensor):
            key.append((a._shape, a._dtype.name, a.requires_grad, seen.setdefault(id(a), len(seen))))
        else:
            try:
                hash(a)
            except TypeError:
                raise CaptureError(f"compile: argument of type {type(a).__name__} is neither a Tensor nor a "
                                   f"hashable constant: a plan could not tell when it changes") from None
            key.append((name, type(a), a))
    return tuple(key)


def _own_inputs(args, kwargs):
    """The call's arguments with each tensor replaced by a copy the plan owns: the replay copies new
    inputs into these buffers, never into the caller's tensors. One tensor passed twice stays one."""
    copies = {}

    def own(a):
        if not isinstance(a, Tensor):
            return a
        if id(a) not in copies:
            c = empty(a._shape, a._dtype, a._numel)
            ffi.memmove(c._buf, a._buf, a._numel * a._dtype.itemsize)
            c.requires_grad = a.requires_grad
            copies[id(a)] = c
        return copies[id(a)]
    return [own(a) for a in args], {k: own(v) for k, v in kwargs.items()}


def _check_result(result):
    items = result if isinstance(result, (tuple, list)) else (result,)
    for r in items:
        if r is not None and not isinstance(r, Tensor):
            raise CaptureError(f"compile: the step returned a {type(r).__name__}; a compiled step returns tensors "
                               f"(or a tuple/list of them, or None), read outside the step")
        if r is not None:
            r._op = None   # outputs are values: a replay does not rebuild their graph
    return result


_EAGER = "eager"   # Compiled.plans' mark of a signature whose calls run fn eagerly (see _call)


class Compiled:
    """fn, recorded per input signature and replayed (see the module docstring). Each instance has a
    class of its own, whose __call__ is the last replayed plan's replay function (_replay_function):
    a call that hits it runs one Python frame, not a __call__ that then calls the replay. Attributes
    it lacks come from fn (a compiled module's parameters(), train(), state_dict(), ...)."""

    def __new__(cls, fn):
        return object.__new__(type(cls.__name__, (cls,), {"__module__": cls.__module__}))

    def __init__(self, fn):
        if not isinstance(fn, Module):   # (a module's __dict__ is its state: read it through __getattr__)
            functools.update_wrapper(self, fn)
        self.fn = self._orig_mod = fn
        self.plans = {}    # (signature, grad mode) -> _Plan, False after the warm-up call, or _EAGER
        self.last = None   # the plan the last replay ran: its replay function is __call__
        self.lock = threading.Lock()

    def __getattr__(self, name):
        if name in ("fn", "_orig_mod"):   # (not set yet: during __init__ or unpickling)
            raise AttributeError(name)
        return getattr(self.fn, name)

    def __call__(self, *args, **kwargs):
        return self._call(args, kwargs)

    def _use(self, plan):
        """Makes plan's replay function this instance's __call__ (None: the slow path only)."""
        self.last = plan
        type(self).__call__ = plan.replay if plan is not None and plan.replay else Compiled.__call__

    def _call(self, args, kwargs):
        key = _signature(args, kwargs), autograd.is_grad_enabled()
        plan = self.plans.get(key)   # None: a new signature; False: warmed up; else its plan
        if plan is _EAGER:
            return self.fn(*args, **kwargs)
        if plan:
            if plan.guards_hold():
                if plan is not self.last:
                    self._use(plan)
                with self.lock:
                    return plan.run(_tensors_of(args, kwargs))
            self._use(None)   # something changed: warm up and record again, as for a new signature
            plan = None
            del self.plans[key]
        if plan is None:
            if len(self.plans) >= MAX_PLANS:
                raise CaptureError(f"compile: {_name(self.fn)} was called with more than {MAX_PLANS} input "
                                   f"signatures (shapes, dtypes, constants); pad the inputs to a few shapes or call "
                                   f"the function uncompiled")
            return self._warm_up(key, args, kwargs)
        return self._record(key, args, kwargs)   # the call after the warm-up

    def _warm_up(self, key, args, kwargs):
        """The first call of a signature, eager. A result that still has its autograd graph, from a call
        that ran no backward(), is a forward whose graph the caller will use (torch.compile(model)
        in a training loop): a replay could not give it one, so this signature stays eager."""
        passes = autograd.backward_passes
        result = self.fn(*args, **kwargs)
        if autograd.backward_passes == passes and any(r._op is not None and r.requires_grad for r in _tensors(result)):
            self.plans[key] = _EAGER
            if not getattr(self, "_warned", False):
                self._warned = True
                warnings.warn(f"fg.compile: {_name(self.fn)} returns tensors whose autograd graph the caller needs "
                              f"(no backward() runs inside it), which a replayed plan cannot give, so it runs eagerly; "
                              f"compile the whole training step (forward, loss, backward, optimizer step) to capture "
                              f"it", stacklevel=4)
            return result
        self.plans[key] = False
        return _check_result(result)

    def _record(self, key, args, kwargs):
        # Python's cyclic garbage collector is off meanwhile: the recording makes and drops a few
        # hundred small containers, and the collections they would set off walk the program's young
        # objects, and now and then all of them (a few ms with PyTorch or JAX imported), for nothing
        # the recording leaves behind
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._record_paused(key, args, kwargs)
        finally:
            if collecting:
                gc.enable()

    def _record_paused(self, key, args, kwargs):
        global _capturing
        args, kwargs = _own_inputs(args, kwargs)
        inputs = _tensors_of(args, kwargs)
        with _capture_lock:
            rec = _Recorder(inputs)
            with _Patched():
                _capturing = rec
                try:
                    result = self.fn(*args, **kwargs)
                finally:
                    _capturing = None
            for opt, after_step in rec.hyperparameters.items():
                if _hyperparameters(opt) != after_step:
                    raise CaptureError(f"compile: {type(opt).__name__}'s hyperparameters changed inside the step after "
                                       f"its step() (a learning-rate scheduler's step()?): a replay runs no Python, "
                                       f"so call the scheduler outside the compiled function")
            result = _check_result(result)
            copies = [(_address(t._buf), t._numel * t._dtype.itemsize) for t in inputs]
            dtypes_of_args = [(a._dtype if isinstance(a, Tensor) else a) for a in args]
            has_kwargs = bool(kwargs)
            del args, kwargs, inputs   # the input copies, if nothing else holds them, may go into the arena
            plan = self.plans[key] = _Plan(rec, key, dtypes_of_args, has_kwargs, copies, result)
            plan.replay = _replay_function(plan, self.lock)
            self._use(plan)
        return result


def compile(fn=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, disable=False):
    """fg.compile(fn) or @fg.compile: fn recorded on its second call per input signature and replayed
    in C afterwards (module docstring: what is captured, refused and guarded). torch.compile's
    keywords are accepted and, but for disable=True (fn itself, uncompiled), have no effect."""
    if fn is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    return fn if disable else Compiled(fn)


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _tensors(result):
    return [r for r in (result if isinstance(result, (tuple, list)) else (result,)) if isinstance(r, Tensor)]

"""Captured steps: `step = fg.compile(fn)` records the kernel calls of one call of fn and replays
them in C (csrc/plan.c) on later calls: one call from Python per step, no Python per op, nothing
allocated.

How a call goes, per input signature (the shapes, dtypes and requires_grad of the tensor arguments,
which arguments are the same tensor, the values of the other arguments, and grad mode):
  1st call: runs fn eagerly (a warm-up: optimizers make their state, gradients come to exist); if
            it returns a tensor that still has its autograd graph and ran no backward() (a compiled
            model's forward in a training loop), the signature stays eager: a replay's outputs
            have no graph to give;
  2nd call: runs fn eagerly while every kernel namespace (a dtype's `k`, dtypes.kernels) records
            each call: the kernel, its pointers (absolute addresses of buffers the plan keeps
            alive: parameters, gradients, optimizer and generator state, intermediates) and its
            scalars;
  later:    one call into C (fg_plan_run): the plan's first steps copy the tensor arguments into
            the buffers the recorded call read them from, then the recorded calls run; it returns
            the tensors the recorded call returned (the same objects, whose buffers the replay
            rewrote: a later call overwrites them; .clone() one to keep it). Returned tensors carry
            no autograd graph. Python around it only matches the arguments against the last plan
            (_Expected), checks the guards, points the copies at the new tensors and refreshes the
            optimizers' lr cells: for positional calls all of it written out per plan as one
            straight-line function (_replay_function) that becomes the compiled function's
            __call__ (each Compiled has a class of its own), ~0.9 us on a small MLP's step.
The step's intermediates (buffers nothing outside the plan holds afterwards, written by the plan
before they are read) share one arena, placed by their first and last use (_arena).

What changes between steps is never frozen:
  - learning rates and step counts: the update kernels of SGD, Adam, AdamW and SparseAdam (Optimizer.live_state)
    read group["lr"] from a cell of the optimizer, which each replay refreshes (a scheduler's
    change takes effect), and increment state["step"], a tensor, themselves (Adam's bias
    corrections follow); other optimizers are refused;
  - random numbers: the C generator advances its state buffer, which the plan reads;
  - a kernel's returned value (a loss's sum) lives in a plan slot that later calls read.
What the plan cannot replay is refused at capture with CaptureError naming the op: a host read of a
tensor the step computed or took as input (.item(), .numpy(), .tolist(), bool(), float(), int(),
print), Python arithmetic on a kernel's returned value beyond one scaling, a kernel whose result
decides a shape (nonzero), a pointer into memory the plan cannot keep alive.
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
import operator
import struct
import sys
import threading
import warnings

from . import _changes, autograd, dtypes
from ._C import ffi, lib
from .nn import modules as _modules
from .nn.modules import Module
from .optim.lr_scheduler import LRScheduler
from .optim.optimizer import Optimizer
from .ops import _checks
from .tensor import Tensor, alloc_uninitialized, empty

_tensor = sys.modules["fastgrad.tensor"]   # the module: the package's `tensor` is the function

MAX_PLANS = 8


class CaptureError(RuntimeError):
    """Something in a compiled step that a replay could not reproduce faithfully."""


_NAMESPACES = [dtypes.kernels] + [d.k for d in (dtypes.float32, dtypes.float64, dtypes.int64, dtypes.bool_)]
_capture_lock = threading.Lock()   # the namespaces are global: one capture at a time
_capturing = None                  # the recorder, while a capture runs
_FIELD = {"float": "d", "double": "d"}


_UINTPTR = ffi.typeof("uintptr_t")
_PACK = str.maketrans("pid", "Qqd")   # a recorded argument's field -> its struct format


_cast = ffi.cast


def _address(cdata):
    return int(_cast(_UINTPTR, cdata))


class _Returned:
    """A kernel's returned value during capture: it may be scaled once (total / rows) and passed to
    another kernel; any other use would freeze it into the plan, so it raises."""
    __slots__ = ("value", "slot", "mul", "div", "kernel")

    def __init__(self, value, slot, kernel, mul=1.0, div=1.0):
        self.value, self.slot, self.kernel, self.mul, self.div = value, slot, kernel, mul, div

    def _refuse(self, what):
        raise CaptureError(f"compile: {what} of the value {self.kernel} returned: a replay could not reproduce it "
                           f"(Python computing on a kernel's result inside a captured step)")

    def _scaled(self, other, divide):
        if self.mul != 1.0 or self.div != 1.0 or isinstance(other, bool) or not isinstance(other, (int, float)):
            self._refuse("arithmetic beyond one scaling by a number")
        other = float(other)
        value = self.value / other if divide else self.value * other
        return _Returned(value, self.slot, self.kernel, 1.0 if divide else other, other if divide else 1.0)

    def __mul__(self, other):
        return self._scaled(other, False)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._scaled(other, True)

    def __float__(self):
        self._refuse("a host read (float(), a write into a buffer from Python)")

    def __bool__(self):
        self._refuse("a branch on (bool())")

    def __repr__(self):
        return f"<value returned by {self.kernel} inside a captured step>"

    def __getattr__(self, name):
        self._refuse(f"the attribute {name!r}")

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__rtruediv__", "__neg__", "__lt__", "__le__",
                  "__gt__", "__ge__", "__eq__", "__ne__", "__int__", "__index__", "__round__", "__format__",
                  "__pow__", "__abs__"):
        locals()[_name] = (lambda n: lambda self, *a: self._refuse(f"Python's {n}"))(_name)
    __hash__ = None


class _Recorder:
    def __init__(self, inputs):
        self.thread = threading.get_ident()
        self.calls = []        # [kernel name, fields, values, from (index, _Returned) or None, ret slot, kernel
                               #  id, its const pointer arguments as bits]
        self.uses = []         # (call, its values, argument index, start of the owned buffer it points into)
        self.owners = {}       # address -> (bytes, cdata): buffers the plan keeps alive
        self.written = set()   # addresses of buffers a recorded kernel or an input may have changed
        self.slots = 0
        self.optimizer_params = {}  # optimizer -> [parameter], one per kernel call
        self.constants = set()      # addresses of the arrays record() made of Python sequences
        self.grads_before = {}      # id(parameter) -> its .grad when a module holding it was first called
        self.hyperparameters = {}   # optimizer -> its groups' hyperparameters after its step()
        self.modules = {}           # id -> (module, training, [(name, param, buf)])
        self.pending_optimizer = None
        self.in_optimizer = None
        for t in inputs:
            self.own(t._buf)
            self.written.add(_address(t._buf))

    def own(self, cdata):
        if ffi.typeof(cdata).kind == "array":
            self.owners[_address(cdata)] = (ffi.sizeof(cdata), cdata)

    def owner_of(self, cdata, address, kernel, i):
        """The start of the owned buffer that address (cdata's) points into; an array seen for the first
        time becomes an owner."""
        self.own(cdata)
        if address in self.owners:
            return address
        for start, (size, _) in self.owners.items():
            if start <= address < start + size:
                return start
        raise CaptureError(f"compile: argument {i} of {kernel} points into a buffer the capture never saw whole, "
                           f"so the plan cannot keep it alive; this op is not capturable yet")

    def append(self, name, kernel, const, fields, values, pointers, source=None, slot=-1):
        """One call of the plan; pointers: (argument index, the cdata or tensor buffer it came from) of
        its nonzero pointer arguments."""
        at = len(self.calls)
        for i, cdata in pointers:
            address = values[i]
            start = address if address in self.owners else self.owner_of(cdata, address, name, i)
            self.uses.append((at, values, i, start))
            self.written.add(address)   # conservative: any buffer a kernel sees may have changed
        self.calls.append([name, fields, values, source, slot, kernel, const])

    def record(self, name, kernel, const, fields, pointer_args, scalar_args, ctypes, result_kind, real, args):
        """One kernel call: run it, and append it to the plan with its pointers as addresses (the
        scalars stay as given: struct.pack in _Plan converts them as cffi did for the call)."""
        values, call_args, source, pointers = list(args), args, None, []
        for i in pointer_args:
            a = args[i]
            if type(a) is list or type(a) is tuple:   # cffi's temporary array for a sequence: made once here
                a = ffi.new(ffi.getctype(ctypes[i].item, "[]"), list(a))
                call_args = call_args if type(call_args) is list else list(call_args)
                call_args[i] = a
                self.constants.add(_address(a))
            address = values[i] = int(_cast(_UINTPTR, a))
            if address:
                pointers.append((i, a))
        for i in scalar_args:
            a = args[i]
            if type(a) is _Returned:
                if source is not None:
                    a._refuse("a second returned value in one call")
                call_args = call_args if type(call_args) is list else list(call_args)
                source, call_args[i], values[i] = (i, a), a.value, 0.0
        result = real(*call_args)
        slot = -1
        if result_kind == "status":   # 0, or a failure the op raises on: the replay stops there too
            slot = lib.FG_PLAN_STATUS
        elif result_kind == "int":
            raise CaptureError(f"compile: {name} returns a count that decides a shape or a branch in Python "
                               f"(e.g. nonzero, masked_select): not capturable")
        if result_kind == "double":
            slot, self.slots = self.slots, self.slots + 1
            result = _Returned(result, slot, name)
        if self.in_optimizer and self.pending_optimizer is None:
            raise CaptureError(f"compile: {self.in_optimizer}.step() called {name} outside Optimizer._kernel, so "
                               f"its hyperparameters would be frozen into the plan (sparse gradients?)")
        self.append(name, kernel, const, fields, values, pointers, source, slot)
        return result

    def host_read(self, t, what):
        if _address(t._buf) in self.written:
            raise CaptureError(f"compile: {what} on a tensor of shape {t._shape} that the step computed or took "
                               f"as input: a host read inside a captured step would be frozen into the plan. "
                               f"Return the tensor from the step and read it outside instead")


def _wrap(real, name):
    signature = []   # record()'s arguments after the name, read from cffi on the first recorded call

    def kernel(*args):
        rec = _capturing
        if rec is None or rec.thread != threading.get_ident():
            return real(*args)
        if not signature:
            kernel_id = lib.fg_plan_kernel_id(name.encode())
            if kernel_id < 0:
                raise CaptureError(f"compile: {name} is not in the plan's dispatch table (csrc/build_plan.py)")
            ctype = ffi.typeof(real)
            result = ctype.result.cname
            fields = tuple("p" if a.kind == "pointer" else _FIELD.get(a.cname, "i") for a in ctype.args)
            # fastgrad.h's convention: an `int` result is a status (0: done), an int64_t one a count
            kind = "void" if result == "void" else "double" if result in _FIELD else "status" if result == "int" else "int"
            signature[:] = (kernel_id, lib.fg_plan_kernel_const_args(kernel_id), fields,
                            tuple(i for i, f in enumerate(fields) if f == "p"),
                            tuple(i for i, f in enumerate(fields) if f != "p"), ctype.args, kind)
        return rec.record(name, *signature, real, args)
    return kernel


def _host_read_guard(method, what):
    def guarded(self, *args, **kwargs):
        rec = _capturing
        if rec is not None and rec.thread == threading.get_ident():
            rec.host_read(self, what)
        return method(self, *args, **kwargs)
    return guarded


_HOST_READS = {"item": ".item()", "numpy": ".numpy()", "tolist": ".tolist()", "__bool__": "bool()",
               "__float__": "float()", "__int__": "int()", "__index__": "use as an index", "get": ".get()",
               "__repr__": "printing", "__str__": "printing", "__format__": "formatting"}


def _module_called(module):
    """Each module the step calls: its train()/eval() flag and parameters become guards, its buffers
    owned; forward hooks are refused (Python a replay would skip)."""
    rec = _capturing
    if rec is None or rec.thread != threading.get_ident():
        return
    if module.__dict__.get("_forward_hooks") or module.__dict__.get("_forward_pre_hooks"):
        raise CaptureError(f"compile: a forward hook on {type(module).__name__} runs Python, which a replay "
                           f"would skip; remove it (handle.remove()) or call the step uncompiled")
    if id(module) not in rec.modules:
        for m in module.modules():   # children too: Sequential calls their forward directly
            rec.modules[id(m)] = (m, m.training, [(n, p, p._buf) for n, p in m._own_parameters()])
            for _, p in m._own_parameters():
                rec.grads_before.setdefault(id(p), p.grad)
            for _, b in m._own_buffers():   # known whole: the step may read a slice of one
                rec.own(b._buf)


def _optimizer_kernel(real):
    def kernel(self, p, name, *args):
        rec = _capturing
        if rec is None or rec.thread != threading.get_ident():
            return real(self, p, name, *args)
        rec.optimizer_params.setdefault(self, []).append(p)
        rec.pending_optimizer = self
        try:
            return real(self, p, name, *args)
        finally:
            rec.pending_optimizer = None
    return kernel


def _optimizer_step(real):
    def step(self, *args, **kwargs):
        rec = _capturing
        if rec is None or rec.thread != threading.get_ident():
            return real(self, *args, **kwargs)
        if not type(self).live_state:
            raise CaptureError(f"compile: {type(self).__name__}.step() inside a compiled step: its kernels take the "
                               f"learning rate and step count as Python numbers, which a replay would freeze (SGD, "
                               f"Adam and AdamW read them from memory)")
        rec.in_optimizer = type(self).__name__
        rec.optimizer_params.setdefault(self, [])
        try:
            return real(self, *args, **kwargs)
        finally:
            rec.in_optimizer = None
            rec.hyperparameters[self] = _hyperparameters(self)
    return step


def _hyperparameters(opt):
    return [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]


def _zeroed(buf, dtype, numel):
    """A buffer allocated zeroed inside the step: the replay zeroes it again (the fill kernel)."""
    rec = _capturing
    if rec is not None and rec.thread == threading.get_ident() and numel:
        dtypes.kernels.fill(buf, dtype.code, 0.0, 0, numel)


def _scheduler_step(real):
    def step(self, *args, **kwargs):
        rec = _capturing
        if rec is None or rec.thread != threading.get_ident():
            return real(self, *args, **kwargs)
        _refuse_scheduler(self)
    return step


def _schedulers_with_step(cls=LRScheduler):
    """LRScheduler and its subclasses that define their own step() (ReduceLROnPlateau, SequentialLR, ...)."""
    found = [cls] if "step" in vars(cls) else []
    for sub in cls.__subclasses__():
        found += [c for c in _schedulers_with_step(sub) if c not in found]
    return found


def _refuse_scheduler(self):
    raise CaptureError(f"compile: {type(self).__name__}.step() inside a compiled step: a replay runs no Python, so "
                       f"the learning rate would stay frozen; call the scheduler outside the compiled function")


def _range_check(t, high, allowed=-2**63):
    """Records a check that each later batch of t holds values in [0, high) or equal to `allowed`
    (a loss's ignore_index)."""
    rec = _capturing
    if rec is not None and rec.thread == threading.get_ident():
        rec.append("<range check>", lib.FG_PLAN_CHECK_RANGE, ~0, ("p", "i", "i", "i", "i"),
                   [_address(t._buf), t._numel, 0, high, allowed], [(0, t._buf)])


_MISSING = object()
_KERNEL_PATCHES = []   # (kernel namespace, {name: its recording wrapper}), made on the first capture
_PATCHES = []          # (owner, attribute, its recording wrapper): the rest


def _patches():
    if not _PATCHES:   # made once: a capture costs a few eager steps, not hundreds
        for ns in _NAMESPACES:
            suffix = ns.__name__[len("fastgrad.kernels"):]
            _KERNEL_PATCHES.append((ns, {attr: _wrap(real, f"fg_{attr}{suffix}") for attr, real in vars(ns).items()
                                         if not attr.startswith("__") and callable(real)}))
        for attr, what in _HOST_READS.items():
            _PATCHES.append((Tensor, attr, _host_read_guard(getattr(Tensor, attr), what)))
        _PATCHES.extend([(_modules, "_capture_hook", _module_called),
                         (Optimizer, "_kernel", _optimizer_kernel(Optimizer._kernel)),
                         (Optimizer, "step", _optimizer_step(Optimizer.step)),
                         (_checks, "range_hook", _range_check),
                         *[(cls, "step", _scheduler_step(cls.step)) for cls in _schedulers_with_step()],
                         (_tensor, "zeroed_hook", _zeroed)])
    return _KERNEL_PATCHES, _PATCHES


class _Patched:
    """Every kernel namespace, the host reads of Tensor, nn.modules._capture_hook, Optimizer.step and
    Optimizer._kernel wrapped for the time of one capture (other threads' calls pass through). A
    kernel namespace holds nothing but kernels: it is copied and updated whole (~400 names: one
    setattr each cost ~10 eager steps of a small MLP per capture)."""

    def __enter__(self):
        kernel_patches, patches = _patches()
        self.saved_namespaces = [(vars(ns), dict(vars(ns))) for ns, _ in kernel_patches]
        self.saved = [(owner, attr, owner.__dict__.get(attr, _MISSING)) for owner, attr, _ in patches]
        for ns, wrappers in kernel_patches:
            vars(ns).update(wrappers)
        for owner, attr, new in patches:
            setattr(owner, attr, new)
        return self

    def __exit__(self, *exc):
        for owner, attr, real in reversed(self.saved):
            if real is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, real)
        for namespace, saved in self.saved_namespaces:
            namespace.update(saved)


class _Plan:
    """The recorded calls as an fg_plan_step array, the buffers it keeps alive, and the little that a
    replay does in Python: check the guards, point the input copies at the caller's tensors, copy each
    optimizer group's lr into the cell its kernels read, then one call into C (fg_plan_run)."""

    def __init__(self, rec, key, dtypes_of_args, has_kwargs, copies, result):
        """copies: (address, bytes) of each tensor argument's buffer in the recorded call;
        dtypes_of_args: each positional argument's dtype, or the argument when not a tensor."""
        self.result = result
        calls = [["<copy>", ("p", "p", "i"), [address, 0, size], None, -1, lib.FG_PLAN_COPY, 0]
                 for address, size in copies] + rec.calls   # first, each input into the buffer the call read
        uses = [(c, values, 0, values[0]) for c, (_, _, values, *_) in enumerate(calls[:len(copies)])]
        uses += [(len(copies) + at, values, i, start) for at, values, i, start in rec.uses]
        self.keep, self.arena, self.arena_bytes, self.intermediate_bytes = _arena(rec, calls, uses)
        # every step's arguments in one block, both arrays written at once as bytes (fg_plan_arg is 8
        # bytes: a pointer, int64 or double; fg_plan_step is 7 such fields)
        kinds = "".join("".join(fields) for _, fields, *_ in calls)
        self.arg_block = ffi.new("fg_plan_arg[]", max(len(kinds), 1))
        ffi.memmove(self.arg_block, struct.pack("=" + kinds.translate(_PACK),
                                                *[v for _, _, values, *_ in calls for v in values]), 8 * len(kinds))
        self.steps = ffi.new("fg_plan_step[]", max(len(calls), 1))
        assert ffi.sizeof("fg_plan_step") == 56 and ffi.sizeof("fg_plan_arg") == 8
        block, at, steps, args = _address(self.arg_block), 0, [], []
        for name, fields, values, source, slot, kernel, _ in calls:
            from_slot, arg_index, mul, div = -1, 0, 1.0, 1.0
            if source is not None:
                arg_index, value = source
                from_slot, mul, div = value.slot, value.mul, value.div
            steps.append(struct.pack("=qQqqqdd", kernel, block + 8 * at, slot, from_slot, arg_index, mul, div))
            args.append(at)
            at += len(fields)
        ffi.memmove(self.steps, b"".join(steps), 56 * len(calls))
        self.slots = ffi.new("double[]", max(rec.slots, 1))
        self.n = len(calls)
        self.sources = [self.arg_block[at + 1] for at in args[:len(copies)]]   # per replay
        self.expect = _Expected(key[0], dtypes_of_args, has_kwargs)
        self.grad_enabled = key[1]
        self._guard_modules(rec.modules.values())
        self._guard_optimizers(rec)

    def _guard_modules(self, modules):
        """What the recorded call saw of its modules: train()/eval(), and each parameter's object and
        buffer (a parameter replaced, not updated in place, makes a new plan). Each such change bumps
        _changes.count (Module.__setattr__, Tensor.data's setter), so these are walked only when it
        moved (guards_hold)."""
        self.counted = []   # (object, attribute, the object it must be)
        self.checked = -1   # the _changes.count at which self.counted last held
        for m, training, own in modules:
            self.counted.append((m, "training", training))   # a bool: `is` compares it
            for name, p, buf in own:
                self.counted.append((m, name, p))
                self.counted.append((p, "_buf", buf))

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
            src.p = t._buf
        for cell, group in self.lr_cells:
            cell[0] = group["lr"]
        for p, grad in self.made:
            p.grad = grad
        failed = lib.fg_plan_run(self.steps, self.n, self.slots)
        if failed >= 0:
            self.failed(failed)
        return self.result

    def failed(self, step):
        if self.steps[step].kernel in (lib.fg_plan_kernel_id(b"fg_pointwise_loss_f32"),
                                       lib.fg_plan_kernel_id(b"fg_pointwise_loss_f64")):   # its only failure
            raise ValueError("compiled step: binary_cross_entropy: all elements of input and target should be "
                             "between 0 and 1")
        if self.steps[step].kernel != lib.FG_PLAN_CHECK_RANGE:
            raise MemoryError("compiled step: a kernel could not get its scratch memory (it reported a "
                              "failure); the step stopped there")
        raise IndexError("compiled step: an index input holds a value out of range (its bounds were checked "
                         "at capture; the replay checks them again)")


def _replay_function(plan, lock):
    """A Compiled's __call__ for one plan: _Expected.match's checks for positional arguments,
    guards_hold's and run's work, written out as straight-line Python for this plan's arguments and
    guards. A loop, zip or map per call cost more than the checks themselves (~2 us of Python around
    a 64-32-10 step, ~0.6 us written out). When the arguments or a guard do not hold it hands the
    call to Compiled._call (_signature, the plans by signature, guards_hold, run), which decides.
    None for a plan recorded with keyword arguments (those take _call only). The source is kept as
    plan.replay_source."""
    expect = plan.expect
    if expect.n < 0:
        return None
    env = {"_slow": Compiled._call, "_Tensor": Tensor, "_changes": _changes, "_plan": plan, "_lock": lock,
           "_grad_enabled": autograd.is_grad_enabled,
           "_run": lib.fg_plan_run, "_steps": plan.steps, "_n": plan.n, "_slots": plan.slots,
           "_result": plan.result}

    def const(value):   # a name the code reads the object by
        name = f"_k{len(env)}"
        env[name] = value
        return name
    miss = []   # conditions, any of which sends the call to _slow
    for i, shape, dtype, requires_grad in expect.tensors:
        miss += [f"a{i}.__class__ is not _Tensor", f"a{i}._shape != {const(shape)}",
                 f"a{i}._dtype is not {const(dtype)}", f"a{i}.requires_grad != {const(requires_grad)}"]
    for i, kind, value in expect.values:
        miss += [f"type(a{i}) is not {const(kind)}", f"a{i} != {const(value)}"]
    miss += [f"a{i} is not a{j}" for i, j in expect.same] + [f"a{i} is a{j}" for i, j in expect.apart]
    if not plan.grad_enabled:   # recorded under no_grad: with grad on, eager would return a graph
        miss.append("_grad_enabled()")
    miss.append("_plan.checked != _changes.count and not _plan.counted_hold()")
    miss += [f"{const(obj)}.{attribute} is not {const(value)}" for obj, attribute, value in plan.watched]
    miss += [f"{const(get)}({const(owner)}) != {const(value)}" for get, owner, value in plan.frozen]
    work = [f"{const(source)}.p = a{i}._buf" for source, (i, *_) in zip(plan.sources, expect.tensors)]
    work += [f"{const(cell)}[0] = {const(group)}['lr']" for cell, group in plan.lr_cells]
    work += [f"{const(p)}.grad = {const(grad)}" for p, grad in plan.made]
    lines = ["def __call__(self, *args, **kwargs):",
             f"    if kwargs or len(args) != {expect.n}:",
             "        return _slow(self, args, kwargs)"]
    if expect.n:
        lines.append(f"    {''.join(f'a{i}, ' for i in range(expect.n))}= args")
    lines += [f"    if {condition}:\n        return _slow(self, args, kwargs)" for condition in miss]
    lines += ["    _lock.acquire()",
              "    try:"] + [f"        {line}" for line in work] + [
              "        failed = _run(_steps, _n, _slots)",
              "    finally:",
              "        _lock.release()",
              "    if failed >= 0:",
              "        _plan.failed(failed)",
              "    return _result"]
    plan.replay_source = source = "\n".join(lines)
    if source not in _REPLAY_CODE:   # compiling it costs ~4 eager steps; plans of one model share it
        _REPLAY_CODE[source] = builtins.compile(source, "<fastgrad.compile replay>", "exec")
    exec(_REPLAY_CODE[source], env)
    return env["__call__"]


_REPLAY_CODE = {}   # source -> code object: the source names the plan's objects, never holds them


def _arena(rec, calls, uses):
    """Moves the step's intermediates into one arena: (the buffers the plan keeps, the arena, its
    bytes, the intermediates' bytes). An intermediate is a buffer nothing outside the plan refers to
    after the recorded call (no tensor, gradient or state holds it) whose first use in the calls is a
    write (a kernel's non-const pointer, an input copy's destination): its contents are made within
    each replay, so buffers whose uses [first, last] do not overlap can share memory. Pointers into
    such a buffer (views) are rewritten to the same offset in its slot. uses: (call, its values,
    argument index, start of the owned buffer it points into) for every pointer argument."""
    owners, rec.owners = rec.owners, None
    first, last, written_first = {}, {}, {}
    for s, _, i, start in uses:
        if start not in first:
            first[start], written_first[start] = s, not (calls[s][6] >> i) & 1
        last[start] = s
    alone = _held_only_by(owners)
    moved = {start: size for start, (size, _) in owners.items()
             if written_first.get(start) and start not in rec.constants and start in alone}
    # linear scan: each buffer, in order of first use, takes the best-fitting slot free by then
    slots = []   # [offset, bytes, step after which it is free]
    offset_of, end = {}, 0
    for start in sorted(moved, key=first.get):
        size = (moved[start] + 63) & ~63
        fits = [slot for slot in slots if slot[2] < first[start] and slot[1] >= size]
        slot = min(fits, key=lambda slot: slot[1]) if fits else None
        if slot is None:
            slot = [end, size, -1]
            slots.append(slot)
            end += size
        slot[2] = last[start]
        offset_of[start] = slot[0]
    # uninitialised: every byte of it is written by the step before it is read
    arena = alloc_uninitialized("char[]", end + 64) if moved else None
    base = (_address(arena) + 63) & ~63 if moved else 0
    for _, values, i, start in uses:
        if start in offset_of:
            values[i] = base + offset_of[start] + (values[i] - start)
    keep = [cdata for start, (_, cdata) in owners.items() if start not in offset_of]
    return keep, arena, end, sum(moved.values())


def _held_only_by(owners):
    """The starts of the buffers in owners (address -> (bytes, cdata)) that nothing else refers to: as
    many references as a probe held the same way has (its tuple, the loop's name, getrefcount's
    argument)."""
    probe = {0: (1, ffi.new("char[1]"))}
    alone = [sys.getrefcount(cdata) for _, (_, cdata) in probe.items()][0]
    return {start for start, (_, cdata) in owners.items() if sys.getrefcount(cdata) <= alone}


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

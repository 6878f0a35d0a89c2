"""fg.jit: torch.jit's entry points as programs use them to speed up a model or a function. fastgrad
has no TorchScript; scripting and tracing return what they are given, which computes the same
(fg.compile is fastgrad's way to capture a whole training step)."""
import warnings

__all__ = ["script", "trace", "ignore", "unused", "export", "is_scripting", "is_tracing"]


def script(obj, *args, **kwargs):
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    return func


def ignore(fn=None, **kwargs):
    return fn if fn is not None else (lambda f: f)


unused = export = ignore


def is_scripting():
    return False


def is_tracing():
    return False


def save(obj, f, *args, **kwargs):
    warnings.warn("fg.jit.save: no TorchScript here; saving the object with fg.save")
    from .io import save as _save
    _save(obj, f)

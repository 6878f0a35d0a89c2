"""fg.utils.checkpoint: torch.utils.checkpoint's activation checkpointing, which trades compute for
memory by recomputing a segment in backward. fastgrad keeps the segment's activations instead:
checkpoint(fn, *args) is fn(*args), the same values and gradients with the usual memory."""

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    for module in modules:
        input = module(input)
    return input

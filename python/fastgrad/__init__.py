"""fastgrad: a small, fast reverse-mode autograd library. C kernels (through cffi) under a thin
Python graph layer; see README.md for a tour.

Storage model: every tensor is one contiguous row-major buffer, so every kernel keeps its simple
contract (a buffer and a shape, no strides to honour) and every op's output is ready for the next.
- Ops that keep the row-major order are views sharing the buffer, at no cost: view, reshape,
  flatten, unflatten, squeeze, unsqueeze, view_as, detach(), .data, and contiguous() (the tensor
  itself). A write through any of them is seen by all, as in PyTorch.
- Ops that reorder elements copy them into a new contiguous tensor, by one strided-copy kernel
  (csrc/movement.c) whose float twin adds gradients back: transpose, permute, .T, .mT, movedim,
  expand, repeat, cat, stack, the pieces of split/chunk/unbind, narrow, flip, roll (slicing with
  t[...] copies too). A movement that moves nothing (the identity permutation, expand to the same
  shape, a narrow of a whole dimension) returns a view.
The cost is one copy per movement op: memory-bound, a 1024x1024 float32 transpose takes about
0.4 ms on one core (8x8 tiles; about half of PyTorch's transpose + contiguous()), and expand
allocates its result where PyTorch's costs nothing. What a PyTorch program can see: a write into the
result of a movement (`x.T.fill_(0)`, `x.narrow(0, 0, 1).zero_()`, `x.expand(...)[...] = v`) does
not reach x, where in PyTorch it does; is_contiguous() is always True and stride() gives row-major
strides. README.md, "Differences from PyTorch", lists these.
"""
from .dtypes import bool_ as bool, float32, float64, int64  # noqa: A001 (PyTorch's name: fg.bool)
from .tensor import Device as device, Tensor, ones, ones_like, tensor, zeros, zeros_like
from .tensor import BoolTensor, DoubleTensor, FloatTensor, LongTensor, Size
from .random import (Generator, bernoulli_mask as _bernoulli_mask, default_generator, get_rng_state, initial_seed,
                     manual_seed, multinomial, normal, rand, rand_like, randint, randint_like, randn, randn_like, randperm,
                     seed, set_rng_state)
from .creation import arange, empty, empty_like, eye, full, full_like, linspace
from . import cuda
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import ops, nn, optim, data
from .io import load, save
from .backend import get_num_threads, kernel_path, set_kernel_path, set_num_threads
from . import shape_functions
from .shape_functions import *  # noqa: F401,F403 (fg.cat, fg.stack, fg.transpose, ...: its __all__)
from .functions import *  # noqa: F401,F403 (the math helper: fg.exp, fg.where, fg.max, ... functions.__all__)
from . import functions
from .interop import from_dlpack, from_numpy
from . import profiler, viz

from . import utils   # fastgrad.utils.data is fastgrad.data, as torch.utils.data
# indexing ops at module level, as torch.gather, torch.nonzero, ...
from .ops.index import gather, index_select, masked_select, nonzero, scatter_add, take  # noqa: E402
from . import sparse  # noqa: E402

from .ops.matmul import bmm, matmul

# captured steps (python/fastgrad/compile.py)
from .compile import CaptureError, compile  # noqa: E402,A001

__version__ = "0.1.0"

# PyTorch's other names for the dtypes
float, double, long = float32, float64, int64  # noqa: A001

__all__ = ["Tensor", "tensor", "zeros", "ones", "zeros_like", "ones_like", "randn", "manual_seed", "float32",
           "float64", "int64", "bool", "Generator", "default_generator", "get_rng_state", "set_rng_state", "seed",
           "initial_seed", "multinomial", "normal", "rand", "rand_like", "randint", "randint_like", "randn_like",
           "randperm", "arange", "empty", "empty_like", "eye", "full", "full_like", "linspace", "float", "double", "long", "device", "cuda", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "ops", "nn", "optim", "data", "save", "load", "kernel_path",
           "set_kernel_path", "get_num_threads", "set_num_threads",
           "compile", "CaptureError", "gather", "index_select", "masked_select", "nonzero", "scatter_add", "take", "sparse", "matmul", "bmm", "from_numpy", "from_dlpack", "profiler", "viz",
           "Size", "FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor"]
__all__ += shape_functions.__all__
__all__ += functions.__all__

# ---- einsum, addmm, mv: composed from matmul, permutes and sums (einsum.py) ----
from .einsum import addmm, einsum, mv  # noqa: E402

__all__ += ["einsum", "addmm", "mv"]

# ---- diag, scatter, index_add, cumprod, kron, cdist, median, cross, unique, ...: composed from
# existing ops (tensor_functions.py) ----
from . import tensor_functions  # noqa: E402
from .tensor_functions import *  # noqa: F401,F403,E402

__all__ += tensor_functions.__all__
# ---- erf, erfc, erfinv, lerp, addcmul, addcdiv, nan_to_num, logaddexp (pointwise.py) ----
from . import pointwise  # noqa: E402
from .pointwise import addcdiv, addcmul, erf, erfc, erfinv, lerp, logaddexp, nan_to_num  # noqa: E402

__all__ += ["erf", "erfc", "erfinv", "lerp", "addcmul", "addcdiv", "nan_to_num", "logaddexp"]

# ---- torch.distributions' Categorical, Bernoulli, Normal (distributions.py) ----
from . import distributions  # noqa: E402

# ---- torch.backends' switches and use_deterministic_algorithms (backends.py) ----
from . import backends  # noqa: E402
from .backends import are_deterministic_algorithms_enabled, use_deterministic_algorithms  # noqa: E402

__all__ += ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled"]

# ---- mixed precision as CPU programs meet it: autocast and a pass-through GradScaler (amp.py) ----
from . import amp  # noqa: E402
from .amp import autocast  # noqa: E402
import types as _types  # noqa: E402
cpu = _types.ModuleType("fastgrad.cpu", "torch.cpu: its amp")
cpu.amp = amp
_float32_matmul_precision = ["highest"]


def set_float32_matmul_precision(precision):
    """Accepted ("highest", "high", "medium"): fastgrad's float32 products always run in float32."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got {precision!r}")
    _float32_matmul_precision[0] = precision


def get_float32_matmul_precision():
    return _float32_matmul_precision[0]


__all__ += ["amp", "autocast", "set_float32_matmul_precision", "get_float32_matmul_precision"]

# PyTorch's other element types by name: the narrower integers are fastgrad's int64 (data of them
# widens to it, as fg.load does), float16/bfloat16 exist for programs that name them (autocast's
# dtype=, a table of dtypes) and are a TypeError for a tensor
from .dtypes import bfloat16, float16  # noqa: E402
int32 = int16 = int8 = uint8 = int = int64  # noqa: A001
half = float16
__all__ += ["float16", "bfloat16", "half", "int32", "int16", "int8", "uint8"]   # (not "int": a star import would shadow the builtin)

# ---- torch.jit's entry points (identity: no TorchScript) and torch.testing.assert_close ----
from . import jit, testing  # noqa: E402

# ---- atan2, hypot, fmod, remainder, floor_divide, more reductions and utilities (api_more.py) ----
from . import api_more  # noqa: E402
from .api_more import *  # noqa: F401,F403,E402

__all__ += api_more.__all__

# ---- fg.linalg, fg.special, isin, bincount, bucketize, searchsorted, tensor_split (api_ported.py) ----
from .api_ported import *  # noqa: F401,F403,E402
from . import api_ported as _api_ported  # noqa: E402
__all__ += _api_ported.__all__

# ---- linear algebra: fg.linalg (linalg.py) and the older top-level forms fg.det, fg.inverse, fg.svd,
# fg.qr, fg.cholesky_solve, fg.triangular_solve, ... ----
from .linalg import (chain_matmul, cholesky_inverse, cholesky_solve, det, inv as inverse, legacy_cholesky as cholesky,  # noqa: E402
                     legacy_lu as lu, legacy_lu_solve as lu_solve, legacy_qr as qr, legacy_svd as svd, logdet,
                     lu_unpack, matrix_exp, matrix_power, pinverse, slogdet, triangular_solve)

__all__ += ["chain_matmul", "det", "logdet", "slogdet", "inverse", "cholesky", "cholesky_solve", "cholesky_inverse", "qr", "svd",
            "pinverse", "matrix_power", "matrix_exp", "triangular_solve", "lu", "lu_solve", "lu_unpack"]

# ---- scatter_reduce, index_copy/fill/reduce, cummax, quantile, rot90, cov, poisson, ... (index_more.py) ----
from . import index_more as _index_more  # noqa: E402
from .index_more import *  # noqa: F401,F403,E402
__all__ += _index_more.__all__

# ---- asin, lgamma, copysign, gcd, bitwise ops, ... and PyTorch's other names for them (math_more.py); torch's
# top-level forms of nn.functional, dtype rules, windows, atleast_*, hsplit, ... (toplevel.py) ----
from . import math_more as _math_more, toplevel as _toplevel  # noqa: E402
from .math_more import *  # noqa: F401,F403,E402
from .toplevel import *  # noqa: F401,F403,E402

__all__ += _math_more.__all__ + _toplevel.__all__


# ---- numpy's keyword names that PyTorch also accepts: axis= for dim=, keepdims= for keepdim= ----------
# (t.argmax(axis=1), x.sum(axis=0, keepdims=True), torch.cat(ts, axis=1): d2l and numpy-minded code)
def _numpy_keyword_aliases():
    import functools
    import inspect

    def wrap(fn):
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            return fn
        if "dim" not in params or "axis" in params:
            return fn
        keepdims = "keepdim" in params and "keepdims" not in params

        @functools.wraps(fn)
        def aliased(*args, **kwargs):
            if kwargs:
                if "axis" in kwargs:
                    if "dim" in kwargs:
                        raise TypeError(f"{fn.__name__}() got both dim= and axis=")
                    kwargs["dim"] = kwargs.pop("axis")
                if keepdims and "keepdims" in kwargs:
                    kwargs["keepdim"] = kwargs.pop("keepdims")
            return fn(*args, **kwargs)
        return aliased

    for name, fn in list(vars(Tensor).items()):
        if inspect.isfunction(fn):
            setattr(Tensor, name, wrap(fn))
    g = globals()
    for name in __all__:
        fn = g.get(name)
        if inspect.isfunction(fn):
            g[name] = wrap(fn)


_numpy_keyword_aliases()

"""fastgrad: a small, fast reverse-mode autograd library. C kernels (through cffi) under a thin
Python graph layer; see README.md for a tour."""
from .dtypes import bool_ as bool, float32, float64, int64  # noqa: A001 (PyTorch's name: fg.bool)
from .tensor import Device as device, Tensor, manual_seed, ones, ones_like, randn, tensor, zeros, zeros_like
from . import cuda
from .autograd import is_grad_enabled, no_grad
from . import ops, nn, optim, data
from .io import load, save
from .backend import get_num_threads, kernel_path, set_kernel_path, set_num_threads
from .interop import from_dlpack, from_numpy
from . import profiler, viz

__version__ = "0.1.0"

# PyTorch's other names for the dtypes
float, double, long = float32, float64, int64  # noqa: A001

__all__ = ["Tensor", "tensor", "zeros", "ones", "zeros_like", "ones_like", "randn", "manual_seed", "float32",
           "float64", "int64", "bool", "float", "double", "long", "device", "cuda", "no_grad", "is_grad_enabled", "ops", "nn", "optim", "data", "save", "load", "kernel_path",
           "set_kernel_path", "get_num_threads", "set_num_threads", "from_numpy", "from_dlpack", "profiler", "viz"]

# Type stub for fastgrad/nn/activation.py.
from typing import Any

from ..tensor import Tensor
from .modules import Module

class _Activation(Module):
    def forward(self, x: Tensor) -> Tensor: ...
    def __call__(self, x: Tensor) -> Tensor: ...

class Hardtanh(_Activation):
    min_val: float
    max_val: float
    inplace: bool
    def __init__(self, min_val: float = ..., max_val: float = ..., inplace: bool = ...) -> None: ...

class ReLU6(Hardtanh):
    def __init__(self, inplace: bool = ...) -> None: ...

class Hardsigmoid(_Activation):
    inplace: bool
    def __init__(self, inplace: bool = ...) -> None: ...

class Hardswish(_Activation):
    inplace: bool
    def __init__(self, inplace: bool = ...) -> None: ...

class Mish(_Activation):
    inplace: bool
    def __init__(self, inplace: bool = ...) -> None: ...

class SELU(_Activation):
    inplace: bool
    def __init__(self, inplace: bool = ...) -> None: ...

class CELU(_Activation):
    alpha: float
    inplace: bool
    def __init__(self, alpha: float = ..., inplace: bool = ...) -> None: ...

class Softsign(_Activation): ...
class Tanhshrink(_Activation): ...

class Threshold(_Activation):
    threshold: float
    value: float
    inplace: bool
    def __init__(self, threshold: float, value: float, inplace: bool = ...) -> None: ...

class Softshrink(_Activation):
    lambd: float
    def __init__(self, lambd: float = ...) -> None: ...

class Hardshrink(_Activation):
    lambd: float
    def __init__(self, lambd: float = ...) -> None: ...

class GLU(_Activation):
    dim: int
    def __init__(self, dim: int = ...) -> None: ...

class Softmin(_Activation):
    dim: int | None
    def __init__(self, dim: int | None = ...) -> None: ...

class PReLU(_Activation):
    num_parameters: int
    init: float
    weight: Tensor
    def __init__(self, num_parameters: int = ..., init: float = ..., device: Any = ..., dtype: Any = ...) -> None: ...

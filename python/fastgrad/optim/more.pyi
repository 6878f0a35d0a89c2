# Type stub for fastgrad/optim/more.py.
from .optimizer import Optimizer, Params

class Adamax(Optimizer):
    op: int
    def __init__(self, params: Params, lr: float = ..., betas: tuple[float, float] = ..., eps: float = ...,
                 weight_decay: float = ..., foreach: bool | None = ..., *, maximize: bool = ...,
                 differentiable: bool = ..., capturable: bool = ...) -> None: ...

class NAdam(Optimizer):
    op: int
    def __init__(self, params: Params, lr: float = ..., betas: tuple[float, float] = ..., eps: float = ...,
                 weight_decay: float = ..., momentum_decay: float = ..., decoupled_weight_decay: bool = ..., *,
                 foreach: bool | None = ..., maximize: bool = ..., capturable: bool = ...,
                 differentiable: bool = ...) -> None: ...

class RAdam(Optimizer):
    op: int
    def __init__(self, params: Params, lr: float = ..., betas: tuple[float, float] = ..., eps: float = ...,
                 weight_decay: float = ..., decoupled_weight_decay: bool = ..., *, foreach: bool | None = ...,
                 maximize: bool = ..., capturable: bool = ..., differentiable: bool = ...) -> None: ...

class ASGD(Optimizer):
    def __init__(self, params: Params, lr: float = ..., lambd: float = ..., alpha: float = ..., t0: float = ...,
                 weight_decay: float = ..., foreach: bool | None = ..., maximize: bool = ...,
                 differentiable: bool = ..., capturable: bool = ...) -> None: ...

class Rprop(Optimizer):
    def __init__(self, params: Params, lr: float = ..., etas: tuple[float, float] = ...,
                 step_sizes: tuple[float, float] = ..., *, capturable: bool = ..., foreach: bool | None = ...,
                 maximize: bool = ..., differentiable: bool = ...) -> None: ...

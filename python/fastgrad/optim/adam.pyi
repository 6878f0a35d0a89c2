# Type stub for fastgrad/optim/adam.py.
from .optimizer import Optimizer, Params

class Adam(Optimizer):
    live_state: bool
    decoupled: bool
    def __init__(self, params: Params, lr: float = ..., betas: tuple[float, float] = ..., eps: float = ...,
                 weight_decay: float = ..., amsgrad: bool = ...) -> None: ...

class AdamW(Adam): ...

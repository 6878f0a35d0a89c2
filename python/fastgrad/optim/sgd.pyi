# Type stub for fastgrad/optim/sgd.py.
from .optimizer import Optimizer, Params

class SGD(Optimizer):
    live_state: bool
    def __init__(self, params: Params, lr: float = ..., momentum: float = ..., dampening: float = ...,
                 weight_decay: float = ..., nesterov: bool = ...) -> None: ...

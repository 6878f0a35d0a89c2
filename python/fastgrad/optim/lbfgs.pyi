# Type stub for fastgrad/optim/lbfgs.py.
from collections.abc import Callable
from typing import Any

from .optimizer import Optimizer, Params

class LBFGS(Optimizer):
    def __init__(self, params: Params, lr: float = ..., max_iter: int = ..., max_eval: int | None = ...,
                 tolerance_grad: float = ..., tolerance_change: float = ..., history_size: int = ...,
                 line_search_fn: str | None = ...) -> None: ...
    def step(self, closure: Callable[[], Any]) -> Any: ...  # type: ignore[override]

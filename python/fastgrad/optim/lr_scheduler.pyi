# Type stub for fastgrad/optim/lr_scheduler.py.
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, SupportsFloat

from .optimizer import Optimizer

class LRScheduler:
    optimizer: Optimizer
    last_epoch: int
    base_lrs: list[float]
    def __init__(self, optimizer: Optimizer, last_epoch: int = ...) -> None: ...
    def lr_at(self, base_lr: float, epoch: int) -> float: ...
    def get_lr(self) -> list[float]: ...
    def step(self, epoch: int | None = ...) -> None: ...
    def get_last_lr(self) -> list[float]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None: ...

class StepLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = ..., last_epoch: int = ...) -> None: ...

class CosineAnnealingLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = ..., last_epoch: int = ...) -> None: ...

class LambdaLR(LRScheduler):
    lr_lambdas: list[Callable[[int], float]]
    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = ...) -> None: ...

class MultiplicativeLR(LRScheduler):
    lr_lambdas: list[Callable[[int], float]]
    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = ...) -> None: ...

class MultiStepLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = ...,
                 last_epoch: int = ...) -> None: ...

class ConstantLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, factor: float = ..., total_iters: int = ...,
                 last_epoch: int = ...) -> None: ...

class LinearLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, start_factor: float = ..., end_factor: float = ...,
                 total_iters: int = ..., last_epoch: int = ...) -> None: ...

class ExponentialLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = ...) -> None: ...

class PolynomialLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, total_iters: int = ..., power: float = ...,
                 last_epoch: int = ...) -> None: ...

class CosineAnnealingWarmRestarts(LRScheduler):
    T_0: int
    T_i: int
    T_mult: int
    T_cur: float
    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = ..., eta_min: float = ...,
                 last_epoch: int = ...) -> None: ...
    def step(self, epoch: float | None = ...) -> None: ...

class OneCycleLR(LRScheduler):
    total_steps: int
    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: int | None = ...,
                 epochs: int | None = ..., steps_per_epoch: int | None = ..., pct_start: float = ...,
                 anneal_strategy: Literal["cos", "linear"] = ..., cycle_momentum: bool = ...,
                 base_momentum: float | Sequence[float] = ..., max_momentum: float | Sequence[float] = ...,
                 div_factor: float = ..., final_div_factor: float = ..., three_phase: bool = ...,
                 last_epoch: int = ...) -> None: ...

class ReduceLROnPlateau(LRScheduler):
    best: float
    num_bad_epochs: int
    cooldown_counter: int
    min_lrs: list[float]
    def __init__(self, optimizer: Optimizer, mode: Literal["min", "max"] = ..., factor: float = ...,
                 patience: int = ..., threshold: float = ..., threshold_mode: Literal["rel", "abs"] = ...,
                 cooldown: int = ..., min_lr: float | Sequence[float] = ..., eps: float = ...) -> None: ...
    @property
    def in_cooldown(self) -> bool: ...
    def is_better(self, a: float, best: float) -> bool: ...
    def step(self, metrics: SupportsFloat, epoch: int | None = ...) -> None: ...  # type: ignore[override]

class SequentialLR(LRScheduler):
    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = ...) -> None: ...
    def step(self) -> None: ...  # type: ignore[override]

class ChainedScheduler(LRScheduler):
    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = ...) -> None: ...
    def step(self) -> None: ...  # type: ignore[override]

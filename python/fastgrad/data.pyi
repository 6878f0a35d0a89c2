# Type stub for fastgrad/data.py.
from collections.abc import Iterator
from typing import Any

import numpy.typing as npt

from .dtypes import DTypeLike
from .tensor import Tensor

class DataLoader:
    batch_size: int
    shuffle: bool
    drop_last: bool
    def __init__(self, *arrays: npt.ArrayLike | Tensor, batch_size: int = ..., shuffle: bool = ...,
                 drop_last: bool = ..., seed: int | None = ..., dtype: DTypeLike = ...) -> None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[tuple[Any, ...]]: ...

# Type stub for fastgrad/io.py.
import os
from collections.abc import Mapping
from typing import Any

from .tensor import Tensor

def save(obj: Any, f: str | os.PathLike[str] | Any, metadata: Mapping[str, str] | None = ...) -> None: ...
def load(f: str | os.PathLike[str] | Any, map_location: Any = ..., weights_only: bool | None = ..., mmap: Any = ...,
         **pickle_load_args: Any) -> Any: ...

# Type stub for fastgrad/io.py.
import os
from collections.abc import Mapping
from typing import Any

from .tensor import Tensor

def save(state_dict: Mapping[str, Any], path: str | os.PathLike[str], metadata: Mapping[str, str] | None = ...) -> None: ...
def load(path: str | os.PathLike[str]) -> dict[str, Tensor]: ...

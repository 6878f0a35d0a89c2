# Type stub for fastgrad/dtypes.py: the public surface only (tests/test_typing.py checks the names).
from types import ModuleType
from typing import Any

import numpy as np

class DType:
    name: str
    np: np.dtype[Any]
    itemsize: int
    is_floating_point: bool
    python: type
    code: int
    k: ModuleType
    carray: Any
    small_carrays: list[Any]
    def __init__(self, name: str, ctype: str, suffix: str, code: int, python: type) -> None: ...

float32: DType
float64: DType
int64: DType
bool_: DType
kernels: ModuleType
SMALL_ARRAY: int

class Unsupported:
    name: str
    is_floating_point: bool
    def __init__(self, name: str) -> None: ...

float16: Unsupported
bfloat16: Unsupported
_BY_NAME: dict[str, DType]

DTypeLike = DType | Unsupported | str | type | np.dtype[Any]

def as_dtype(dtype: DTypeLike) -> DType: ...
def dtype_of_array(array: np.ndarray[Any, np.dtype[Any]]) -> DType: ...
def promote(a: DType, b: DType) -> DType | None: ...
def numeric_array(value: object, what: str) -> np.ndarray[Any, np.dtype[Any]]: ...
def default_float() -> DType: ...

"""sort, argsort and topk: one C kernel (fg_sort) along the last dimension, which returns the first
k of each row in order with their indices; backward adds each value's gradient back at its index.
Other dimensions are moved last and back by the movement ops, which carry their own gradients."""
import collections
import numbers

from ..autograd import Op, grad_buffer
from ..dtypes import int64
from ..tensor import _dim_index, empty
from ._checks import tensor_arg

# PyTorch's return types: (values, indices) also by name
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopKResult = collections.namedtuple("topk", ["values", "indices"])


class Sort(Op):
    """The first k elements of each row of x's last dimension, sorted."""

    def __init__(self, k, descending):
        self.k, self.descending = k, descending

    def forward(self, x):
        n = x._shape[-1] if x._shape else 1
        rows = x._numel // n if n else 0
        self.n = n
        out_shape = (x._shape[:-1] + (self.k,)) if x._shape else ()
        values, self.indices = empty(out_shape, x._dtype), empty(out_shape, int64)
        if values._numel:
            x._dtype.k.sort(values._buf, self.indices._buf, x._buf, rows, n, self.k, int(self.descending))
        return self.record(values, x)

    def _backward(self, g):
        x, = self.inputs
        if g._numel:
            x._dtype.k.sort_backward(grad_buffer(x), g._buf, self.indices._buf, g._numel // self.k, self.n, self.k)
        else:
            grad_buffer(x)


def _sorted(x, dim, k, descending, what):
    tensor_arg(x, what)
    if x._dtype.name == "bool":
        x = x.long()
    dim = _dim_index(dim, x.ndim, what)
    last = max(x.ndim - 1, 0)
    moved = x.movedim(dim, -1) if dim != last else x
    op = Sort(k, descending)
    values = op.forward(moved)
    indices = op.indices
    if dim != last:
        values, indices = values.movedim(-1, dim), indices.movedim(-1, dim)
    return values, indices


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along dim; stable always (equal values keep their order)."""
    tensor_arg(input, "sort")
    n = input.shape[_dim_index(dim, input.ndim, "sort")] if input.ndim else 1
    return SortResult(*_sorted(input, dim, n, descending, "sort"))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) elements along dim, in order, and their indices."""
    tensor_arg(input, "topk")
    size = input._shape[_dim_index(dim, input.ndim, "topk")] if input.ndim else 1
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 0 <= k <= size:
        raise ValueError(f"topk: k must be an integer in [0, {size}] for dimension {dim} of shape {input.shape}, "
                         f"got {k!r}")
    return TopKResult(*_sorted(input, dim, int(k), largest, "topk"))

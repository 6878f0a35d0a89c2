"""Indexing: t[key], t[key] = v, and the ops built on the same two kernels (index_select, gather,
take, masked_select, scatter_add, nn.Embedding).

Tensors are contiguous, so every index result is a copy. An index key is first turned into a
`Selection`, which says where the selected elements sit in the source buffer:
- basic keys (ints, slices with positive steps, None, ...) select a strided box: an offset and
  (size, stride) per output dimension. The copy is fg_strided_copy (csrc/movement.c, shared with the
  movement ops); its backward fg_strided_add.
- keys with index arrays or bool masks (advanced indexing, numpy's and PyTorch's rules) select rows:
  int64 element offsets, one per output row, each the start of `row` contiguous elements (the
  trailing dimensions that stay whole, the embedding's table row). The copy is fg_gather; its
  backward fg_scatter_add, which sums duplicate indices in a fixed order.
Offsets are computed by numpy from the INDEX arrays only (never from the data being indexed) and
are checked here: an index out of range is an IndexError naming it and its dimension.
"""
import math
import numbers

import numpy as np

from .._C import ffi, lib
from .. import autograd
from ..autograd import Op, accumulate_grad, broadcasts_to, grad_buffer, grad_buffer_or_null
from ..dtypes import bool_, int64, kernels
from ..tensor import Tensor, _view, empty, tensor
from . import _checks
from ._checks import cast_to

_BAD_KEY = ("only integers, slices (`:`), ellipsis (`...`), None and integer or bool tensors/arrays/lists are "
            "valid indices, got {}")


def _index_array(item):
    """An index item that is an array (Tensor, ndarray, list, tuple inside a key, range) as a numpy
    array of int64 or bool, or None if the item is not an array."""
    if isinstance(item, Tensor):
        if item._dtype.is_floating_point:
            raise IndexError(f"tensors used as indices must be long or bool tensors, got {item._dtype!r}")
        return item.numpy()
    if isinstance(item, range):
        return np.arange(item.start, item.stop, item.step, dtype=np.int64)
    if isinstance(item, (np.ndarray, list)):
        if isinstance(item, list) and any(isinstance(x, Tensor) for x in item):
            item = [x.numpy() if isinstance(x, Tensor) else x for x in item]
        try:
            array = np.asarray(item)
        except ValueError:
            raise IndexError("an index list must not be ragged") from None
        if array.size == 0 and array.dtype.kind == "f":   # [] is an empty integer index, as in PyTorch
            array = array.astype(np.int64)
        if array.dtype.kind not in "biu":
            raise IndexError(f"arrays used as indices must be of integer or bool type, got {array.dtype}")
        return array
    return None


class Selection:
    """Where t[key] lives in t's buffer (module docstring): `shape` is the result's shape; for a
    strided box `offset` and `strides`; for rows `offsets` (an int64 array), its C pointer and `row`."""
    __slots__ = ("shape", "offset", "strides", "offsets", "offsets_ptr", "row", "copy")

    def __init__(self, shape, offset=0, strides=None, offsets=None, row=1):
        self.shape, self.offset, self.strides, self.row = tuple(shape), offset, strides, row
        self.offsets = self.copy = None
        if offsets is not None:
            self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
            self.offsets_ptr = ffi.from_buffer("int64_t[]", self.offsets)

    @property
    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    # the four moves every indexing op is made of: read, write, and their float gradients
    def read(self, src):
        """A new contiguous tensor holding the selected elements of src."""
        out = empty(self.shape, src._dtype)
        if out._numel == 0:
            return out
        es = src._dtype.itemsize
        if self.offsets is None:
            if self.copy is None:   # made once: a kept Selection (_basic_selection) reuses its C arrays
                contiguous = _contiguous(self.shape)
                one_block = all(st == c or n == 1 for st, c, n in zip(self.strides, contiguous, self.shape))   # t[i]
                self.copy = (one_block, ffi.new("int64_t[]", self.shape or (0,)), ffi.new("int64_t[]", contiguous or [0]),
                             ffi.new("int64_t[]", self.strides or [0]))
            one_block, shape_c, contiguous_c, strides_c = self.copy
            if one_block:
                kernels.cast(out._buf, src._dtype.code, _at(src._buf, self.offset * es), src._dtype.code, out._numel)
            else:
                kernels.strided_copy(out._buf, src._buf, es, shape_c, contiguous_c, strides_c, 0, self.offset,
                                     len(self.shape))
        else:
            kernels.gather(out._buf, src._buf, es, self.offsets_ptr, self.offsets.size, self.row)
        return out

    def write(self, dst, value):
        """The selected elements of dst set to value (a tensor of dst's dtype broadcastable to shape)."""
        if self.numel == 0:
            return
        es = dst._dtype.itemsize
        if self.offsets is None:
            kernels.strided_copy(dst._buf, value._buf, es, self.shape, self.strides,
                                 autograd.broadcast_strides(value._shape, self.shape), self.offset, 0, len(self.shape))
            return
        if value._shape != self.shape:   # scatter needs a value per selected element
            full = empty(self.shape, value._dtype)
            kernels.strided_copy(full._buf, value._buf, es, self.shape, _contiguous(self.shape),
                                 autograd.broadcast_strides(value._shape, self.shape), 0, 0, len(self.shape))
            value = full
        kernels.scatter(dst._buf, value._buf, es, self.offsets_ptr, self.offsets.size, self.row)

    def add_into(self, dst_buf, g):
        """dst[selected] += g (float; dst_buf a gradient buffer of the source's shape)."""
        if g._numel == 0:
            return
        k = g._dtype.k
        if self.offsets is None:
            k.strided_add(dst_buf, g._buf, self.shape, self.strides, _contiguous(self.shape), self.offset, 0,
                          len(self.shape))
        else:
            k.scatter_add(dst_buf, g._buf, self.offsets_ptr, 1.0, self.offsets.size, self.row)


def _at(buf, byte_offset):
    return ffi.cast("char *", buf) + byte_offset


def _contiguous(shape):
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return strides[::-1]


def select(shape, key):
    """The Selection of key over a contiguous tensor of `shape` (numpy's and PyTorch's rules)."""
    # the common keys first: t[i] and t[index_array] (the embedding lookup)
    if shape:
        if type(key) is int:
            if not -shape[0] <= key < shape[0]:
                raise IndexError(f"index {key} is out of bounds for dimension 0 with size {shape[0]}")
            inner = shape[1:]
            return Selection(inner, offset=(key % shape[0]) * math.prod(inner), strides=_contiguous(inner))
        if type(key) is Tensor and key._dtype is int64 and key._shape:
            index = key.numpy()   # a host read: a captured step refuses it where the step made the index
            if not lib.fg_check_range_i64(key._buf, key._numel, 0, shape[0], 0):   # none to wrap, none bad
                row = math.prod(shape[1:])   # (offsets: always a new array, which later writes to key miss)
                return Selection(index.shape + shape[1:], offsets=index.reshape(-1) * row, row=row)
            return _rows(index, shape)
        if type(key) is tuple and 0 < len(key) <= len(shape) and all(type(k) in _ARRAY_TYPES for k in key):
            arrays = [_index_array(k) for k in key]   # t[range(n), y]: arrays over the leading dimensions
            if all(a.dtype.kind in "iu" and a.ndim for a in arrays):
                return _leading_arrays(arrays, shape)
    items = list(key) if isinstance(key, tuple) else [key]
    # bool masks and index arrays first, so that the dimension count is known
    parsed = []
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, slice):
            parsed.append(item)
        elif isinstance(item, (bool, np.bool_)):
            raise IndexError("a Python bool as an index is not supported; use a bool tensor of the indexed shape")
        elif isinstance(item, (numbers.Integral, np.integer)):
            parsed.append(int(item))
        else:
            array = _index_array(item)
            if array is None:
                raise IndexError(_BAD_KEY.format(type(item).__name__))
            if array.ndim == 0:
                if array.dtype.kind == "b":
                    raise IndexError("a 0-d bool index is not supported; use a bool tensor of the indexed shape")
                parsed.append(int(array))   # a 0-d integer index selects like an int
            else:
                parsed.append(array)
    used = sum(item.ndim if isinstance(item, np.ndarray) and item.dtype.kind == "b" else
               0 if item is None or item is Ellipsis else 1 for item in parsed)
    ellipses = [i for i, item in enumerate(parsed) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}: the index uses {used} dimensions")
    if ellipses:
        parsed[ellipses[0]:ellipses[0] + 1] = [slice(None)] * (len(shape) - used)
    else:
        parsed += [slice(None)] * (len(shape) - used)

    strides = _contiguous(shape)
    offset = 0
    dims = []          # the result's basic dimensions as (size, stride), with "ADV" where the arrays go
    arrays = []        # (int64 index array, source size, source stride, source dim) per advanced index
    adv_positions = []
    src_dim = 0
    for item in parsed:
        if item is None:
            dims.append((1, 0))
        elif isinstance(item, int):
            size = shape[src_dim]
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of bounds for dimension {src_dim} with size {size}")
            offset += (item % size) * strides[src_dim]
            src_dim += 1
        elif isinstance(item, slice):
            size = shape[src_dim]
            if item.step is not None and not isinstance(item.step, (numbers.Integral, np.integer)):
                raise IndexError(_BAD_KEY.format(f"a slice with step {item.step!r}"))
            if item.step is not None and item.step <= 0:
                raise ValueError(f"slice step must be greater than zero (got {item.step}): negative steps are not "
                                 f"supported, as in PyTorch; use flip() or an index array")
            start, stop, step = slice(*(None if v is None else int(_as_int(v)) for v in
                                        (item.start, item.stop, item.step))).indices(size)
            n = max(0, (stop - start + step - 1) // step)
            offset += start * strides[src_dim] if n else 0
            dims.append((n, strides[src_dim] * step))
            src_dim += 1
        else:   # an index array, or a bool mask covering item.ndim dimensions
            if item.dtype.kind == "b":
                covered = shape[src_dim:src_dim + item.ndim]
                if item.shape != covered:
                    raise IndexError(f"the shape of the mask {list(item.shape)} at dimension {src_dim} does not "
                                     f"match the shape of the indexed tensor {list(covered)} there")
                coords = np.nonzero(item)   # the mask is an index: its true positions, per dimension
                for c in coords:
                    arrays.append((c, shape[src_dim], strides[src_dim], src_dim))
                    src_dim += 1
            else:
                size = shape[src_dim]
                arrays.append((_in_range(item, size, src_dim), size, strides[src_dim], src_dim))
                src_dim += 1
            adv_positions.append(len(dims))
            dims.append("ADV")

    if not arrays:
        return Selection([d[0] for d in dims], offset=offset, strides=[d[1] for d in dims])

    try:
        bshape = np.broadcast_shapes(*(a.shape for a, _, _, _ in arrays))
    except ValueError:
        raise IndexError(f"shape mismatch: indexing arrays of shapes {[a.shape for a, _, _, _ in arrays]} could "
                         f"not be broadcast together") from None
    adv = arrays[0][0] * arrays[0][2]
    for a, _, stride, _ in arrays[1:]:
        adv = adv + a * stride
    # numpy's placement: next to each other, the arrays' dimensions replace them in place; apart,
    # they go first
    first = adv_positions[0]
    adjacent = adv_positions == list(range(first, first + len(adv_positions)))
    basic = [d for d in dims if d != "ADV"]
    before = basic[:first] if adjacent else []
    after = basic[first:] if adjacent else basic
    # the trailing dimensions that are whole rows of the source become the gathered row
    row, k = 1, len(after)
    while k > 0 and after[k - 1][1] == row:
        row *= after[k - 1][0]
        k -= 1
    lead = before + ["ADV"] + after[:k]
    # the offset of each row: the sum over the leading dimensions, broadcast out
    nd = len(before) + len(bshape) + k
    offsets = np.full((1,) * nd, offset, dtype=np.int64)
    axis = 0
    for d in lead:
        if d == "ADV":
            offsets = offsets + adv.reshape((1,) * axis + bshape + (1,) * (nd - axis - len(bshape)))
            axis += len(bshape)
        else:
            size, stride = d
            offsets = offsets + (np.arange(size, dtype=np.int64) * stride).reshape(
                (1,) * axis + (size,) + (1,) * (nd - axis - 1))
            axis += 1
    out_shape = tuple(d[0] for d in before) + tuple(bshape) + tuple(d[0] for d in after)
    if offsets.shape != out_shape[:nd]:
        offsets = np.broadcast_to(offsets, out_shape[:nd])
    return Selection(out_shape, offsets=offsets.reshape(-1), row=row)


def _in_range(index, size, dim):
    """An integer index array checked against a dimension of `size`, negative entries wrapped, as
    int64: an IndexError names the first bad index and the dimension."""
    index = index.astype(np.int64, copy=False)
    if index.size:
        lo, hi = index.min(), index.max()
        if lo < -size or hi >= size:
            bad = index[(index < -size) | (index >= size)]
            raise IndexError(f"index {int(bad.flat[0])} is out of bounds for dimension {dim} with size {size}")
        if lo < 0:
            index = np.where(index < 0, index + size, index)
    return index


_ARRAY_TYPES = (Tensor, np.ndarray, list, range)


def _leading_arrays(arrays, shape):
    """t[a0, a1, ...] for integer arrays over t's leading dimensions: rows of the remaining ones."""
    strides = _contiguous(shape)
    try:
        bshape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise IndexError(f"shape mismatch: indexing arrays of shapes {[a.shape for a in arrays]} could not be "
                         f"broadcast together") from None
    offsets = 0
    for d, a in enumerate(arrays):
        offsets = offsets + _in_range(a, shape[d], d) * strides[d]
    rest = tuple(shape[len(arrays):])
    offsets = np.broadcast_to(offsets, bshape) if offsets.shape != bshape else offsets
    return Selection(tuple(bshape) + rest, offsets=offsets.reshape(-1), row=math.prod(rest))


def _rows(index, shape):
    """t[index] for one integer array: whole rows of t at index * row length."""
    index = _in_range(index, shape[0], 0)
    row = math.prod(shape[1:])
    return Selection(index.shape + tuple(shape[1:]), offsets=index.reshape(-1) * row, row=row)


def _as_int(v):
    if isinstance(v, Tensor):
        return v.__index__()
    if not isinstance(v, (numbers.Integral, np.integer)) or isinstance(v, bool):
        raise IndexError(_BAD_KEY.format(f"a slice bound {v!r}"))
    return v


class Index(Op):
    """out = x[selection] (a strided box or gathered rows). Backward: dx[selection] += g, summing
    duplicate indices (fg_strided_add / fg_scatter_add)."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, selection):
        self.sel = selection

    def forward(self, x):
        return self.record(self.sel.read(x), x)

    def _backward(self, g):
        x, = self.inputs
        self.sel.add_into(grad_buffer(x), g)


_NONE_OR_INT = frozenset((int, type(None)))
_basic_selections = {}


def _basic_selection(shape, key):
    """select(shape, key) for a key of ints and of slices with int or None bounds (t[:, :8], t[i, j]),
    made once per shape and key and kept (a bounded table, as autograd.broadcast's): a repeated slice
    pays one dictionary lookup. None for any other key (slices are unhashable before Python 3.12, so
    the table's key spells them out)."""
    parts = []
    for k in key if type(key) is tuple else (key,):
        if type(k) is slice:
            start, stop, step = k.start, k.stop, k.step
            if type(start) not in _NONE_OR_INT or type(stop) not in _NONE_OR_INT or type(step) not in _NONE_OR_INT:
                return None   # bool, numpy or tensor bounds: select() checks them
            parts.append((start, stop, step))
        elif type(k) is int:
            parts.append(k)
        else:
            return None
    plan_key = (shape, tuple(parts))
    sel = _basic_selections.get(plan_key)
    if sel is None:
        sel = select(shape, key)   # raises for a bad key: only good ones are kept
        if len(_basic_selections) >= 4096:   # a bound for programs whose keys never repeat
            _basic_selections.clear()
        _basic_selections[plan_key] = sel
    return sel


_row_layouts = {}   # shape -> (a row's shape, its element count)


def row(x, i):
    """x[i] for an int i, without select() and the Index op (a Dataset's __getitem__, iterating over
    rows): one block copied out, for tensors no gradient flows through."""
    shape = x._shape
    layout = _row_layouts.get(shape)
    if layout is None:
        if len(_row_layouts) >= 4096:   # a bound for programs whose shapes never repeat
            _row_layouts.clear()
        layout = _row_layouts[shape] = (shape[1:], math.prod(shape[1:]))
    inner, size = layout
    if not -shape[0] <= i < shape[0]:
        raise IndexError(f"index {i} is out of bounds for dimension 0 with size {shape[0]}")
    out = empty(inner, x._dtype, size)
    if size:
        code = x._dtype.code
        kernels.cast(out._buf, code, x._buf + (i % shape[0]) * size, code, size)
    return out


def getitem(x, key):
    sel = _basic_selection(x._shape, key) if type(key) is tuple or type(key) is slice else None
    return Index(sel or select(x._shape, key)).forward(x)


class IndexPut(Op):
    """out = x with out[selection] = v (v cast and broadcast to the selection). Backward: dx += g
    with zeros at the written positions; dv += g[selection], summed over v's broadcast dimensions."""

    def __init__(self, selection):
        self.sel = selection

    def forward(self, x, v):
        out = empty(x._shape, x._dtype, x._numel)
        kernels.cast(out._buf, x._dtype.code, x._buf, x._dtype.code, x._numel)
        self.sel.write(out, v)
        return self.record(out, x, v)

    def _backward(self, g):
        x, v = self.inputs
        if x.requires_grad:
            gx = empty(g._shape, g._dtype, g._numel)
            kernels.cast(gx._buf, g._dtype.code, g._buf, g._dtype.code, g._numel)
            zero = empty((), g._dtype, 1)
            zero._buf[0] = 0.0
            self.sel.write(gx, zero)
            accumulate_grad(x, gx)
        if v.requires_grad:
            accumulate_grad(v, self.sel.read(g))


def _value(v, dtype, what):
    """v as a tensor of dtype: numbers and arrays are converted; a float tensor of another float
    dtype is cast with its gradient (Cast); an integer or bool tensor is converted."""
    if not isinstance(v, Tensor):
        if isinstance(v, numbers.Number) and not isinstance(v, complex):
            if not dtype.is_floating_point and isinstance(v, float) and v != v:
                raise ValueError(f"{what}: cannot write NaN into a {dtype!r} tensor")
            return tensor(v, dtype=dtype)
        return tensor(v, dtype=dtype)
    if v._dtype is dtype:
        return v
    if v._dtype.is_floating_point and dtype.is_floating_point:
        from .convert import Cast
        return Cast(dtype).forward(v)
    return cast_to(v, dtype)


def setitem(t, key, value):
    """t[key] = value, PyTorch's rules: in place when nothing is recorded; recorded (out of place,
    t takes over the result, as inplace.py does) for a non-leaf with grad mode on; refused for a
    leaf that requires grad with grad mode on."""
    from .. import inplace
    sel = select(t._shape, key)
    v = _value(value, t._dtype, "setitem")
    if not broadcasts_to(v._shape, sel.shape):
        raise ValueError(f"setitem: a value of shape {v._shape} cannot be broadcast to the indexed shape {sel.shape}")
    if inplace._recording(t, v):
        if t._op is None and t.requires_grad:
            raise RuntimeError(inplace._LEAF_ERROR.format(name="setitem (t[...] = v)"))
        return inplace._take_over(t, IndexPut(sel).forward(inplace._alias(t), v))
    if v._buf is t._buf:   # t[1:] = t[:-1]: the source must not change while it is written
        v = tensor(v, dtype=v._dtype)
    sel.write(t, v)
    inplace._mark_written(t)
    return t


# ---- ops on the same kernels ----------------------------------------------------------------------
def _dim(dim, ndim, op):
    from ..tensor import _dim_index
    return _dim_index(dim, ndim, op)


def _long_index(index, op, name="index"):
    """An integer index (tensor, array or list) as an int64 numpy array; float or bool is a TypeError."""
    if isinstance(index, Tensor) and index._dtype.is_floating_point:
        raise TypeError(f"{op}: {name} must be an integer (int64) tensor, got {index._dtype!r}")
    array = _index_array(index) if not isinstance(index, (numbers.Integral, np.integer)) else np.asarray(index)
    if array is None or array.dtype.kind not in "iu":
        kind = index._dtype if isinstance(index, Tensor) else getattr(array, "dtype", type(index).__name__)
        raise TypeError(f"{op}: {name} must be an integer (int64) tensor, got {kind!r}")
    return array.astype(np.int64, copy=False)


def _check_range(index, size, dim, op):
    bad = (index < -size) | (index >= size)
    if bad.any():
        raise IndexError(f"{op}: index {int(index[bad].flat[0])} is out of bounds for dimension {dim} with size {size}")
    return np.where(index < 0, index + size, index)


def index_select(x, dim, index):
    """x's entries along `dim` at the positions of the 1-D `index`."""
    dim = _dim(dim, x.ndim, "index_select")
    index = _long_index(index, "index_select")
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be 1-D, got shape {index.shape}")
    return getitem(x, (slice(None),) * dim + (index.reshape(-1),))


def _along_dim_offsets(shape, dim, index, op, what="input"):
    """The element offsets into a contiguous tensor of `shape` of out[i][j][k] = x[i][index[i][j][k]][k]
    (for dim 1): gather's and scatter_add's addressing. index has x's dimension count and fits in x
    along every other dimension."""
    if index.ndim != len(shape) and not (index.ndim <= 1 and len(shape) <= 1):
        raise ValueError(f"{op}: index has {index.ndim} dimensions, the {what} has {len(shape)}; they must match")
    shape = tuple(shape) or (1,)
    index = index.reshape(index.shape or (1,)) if index.ndim == 0 else index
    for d, (i, s) in enumerate(zip(index.shape, shape)):
        if d != dim and i > s:
            raise ValueError(f"{op}: index of shape {index.shape} is larger than the {what} of shape {shape} in "
                             f"dimension {d}")
    index = _check_range(index, shape[dim], dim, op)
    strides = _contiguous(shape)
    offsets = index * strides[dim]
    for d in range(len(shape)):
        if d != dim:
            offsets = offsets + (np.arange(index.shape[d], dtype=np.int64) * strides[d]).reshape(
                (1,) * d + (-1,) + (1,) * (len(shape) - d - 1))
    return offsets


def slice_offsets(x, dim, index, source, op):
    """The element offsets into x of every element of `source`, whose slices along dim go to the
    positions of the 0-D or 1-D `index`: index_add's, index_copy's and index_reduce's addressing."""
    dim = _dim(dim, x.ndim, op)
    index = _long_index(index, op)
    if index.ndim > 1:
        raise IndexError(f"{op}: index must be 0-D or 1-D, got shape {index.shape}")
    index = index.reshape(-1)
    shape = x._shape or (1,)
    expected = shape[:dim] + (index.size,) + shape[dim + 1:]
    if (source._shape or (1,)) != expected:
        raise ValueError(f"{op}: source of shape {source.shape} does not fit an input of shape {x.shape} with "
                         f"{index.size} indices along dimension {dim} (expected shape {expected})")
    full = np.broadcast_to(index.reshape((1,) * dim + (-1,) + (1,) * (len(shape) - dim - 1)), expected)
    return _along_dim_offsets(shape, dim, full, op).reshape(-1)


def bool_mask(mask, shape, op):
    """mask (a bool tensor, array or nested list) as a numpy array, and its shape broadcast with `shape`."""
    if isinstance(mask, Tensor):
        if mask._dtype is not bool_:
            raise TypeError(f"{op}: mask must be a bool tensor, got {mask._dtype!r}")
        mask = mask.numpy()
    mask = np.asarray(mask)
    if mask.dtype.kind != "b":
        raise TypeError(f"{op}: mask must be bool, got {mask.dtype}")
    try:
        return mask, np.broadcast_shapes(shape, mask.shape)
    except ValueError:
        raise ValueError(f"{op}: mask of shape {mask.shape} does not broadcast with the input's shape "
                         f"{shape}") from None


def gather(x, dim, index):
    """out[i][j][k] = x[i][index[i][j][k]][k] (for dim=1), of index's shape. Backward: a scatter-add."""
    dim = _dim(dim, x.ndim, "gather")
    index_array = _long_index(index, "gather")
    offsets = _along_dim_offsets(x._shape, dim, index_array, "gather")
    return Index(Selection(index_array.shape, offsets=offsets.reshape(-1))).forward(x)


def take(x, index):
    """x read as 1-D at `index` (any shape; negative counts from the end)."""
    index = _long_index(index, "take")
    offsets = _check_range(index, x._numel, 0, "take")
    return Index(Selection(index.shape, offsets=offsets.reshape(-1))).forward(x)


def masked_select(x, mask):
    """The elements of x where the bool mask (broadcast with x) is true, as a 1-D tensor."""
    mask, shape = bool_mask(mask, x._shape, "masked_select")
    coords = np.nonzero(np.broadcast_to(mask, shape))
    offsets = np.zeros(coords[0].shape if coords else (int(mask.all()),), dtype=np.int64)
    for c, stride in zip(coords, autograd.broadcast_strides(x._shape, shape)):
        offsets += c * stride
    return Index(Selection(offsets.shape, offsets=offsets)).forward(x)


class ScatterAdd(Op):
    """out = x with out[offsets] += src (src of the selection's shape). Backward: dx += g,
    dsrc += g[offsets]."""

    def __init__(self, selection):
        self.sel = selection

    def forward(self, x, src):
        out = empty(x._shape, x._dtype, x._numel)
        kernels.cast(out._buf, x._dtype.code, x._buf, x._dtype.code, x._numel)
        self.sel.add_into(out._buf, src)
        return self.record(out, x, src)

    def _backward(self, g):
        x, src = self.inputs
        if x.requires_grad:
            accumulate_grad(x, g)
        if src.requires_grad:
            accumulate_grad(src, self.sel.read(g))


def _scatter_add_args(x, dim, index, src, op):
    if not isinstance(x, Tensor) or not x._dtype.is_floating_point:
        raise TypeError(f"{op}: the input must be a float tensor (int scatter_add is not supported)")
    if not isinstance(src, Tensor):
        src = tensor(src, dtype=x._dtype)
    if src._dtype is not x._dtype:
        raise TypeError(f"{op}: src has dtype {src._dtype!r}, the input {x._dtype!r}; they must match")
    dim = _dim(dim, x.ndim, op)
    index = _long_index(index, op)
    src = src_for_index(src, index, op)
    return Selection(index.shape, offsets=_along_dim_offsets(x._shape, dim, index, op).reshape(-1)), src


def src_for_index(src, index, op):
    """src checked against a scatter's index (as many dimensions, none smaller) and cut to its leading
    part of index's shape: only that part is read, as in PyTorch."""
    if index.ndim != src.ndim and index.size:
        raise ValueError(f"{op}: index has {index.ndim} dimensions, src has {src.ndim}; they must match")
    for d, (i, s) in enumerate(zip(index.shape, src._shape)):
        if i > s:
            raise ValueError(f"{op}: index of shape {index.shape} is larger than src of shape {src._shape} in "
                             f"dimension {d}")
    return src if src._shape == index.shape else getitem(src, tuple(slice(0, n) for n in index.shape))


def scatter_add(x, dim, index, src):
    """x with src's values added at x[...index along dim...] (PyTorch's scatter_add); duplicates sum."""
    sel, src = _scatter_add_args(x, dim, index, src, "scatter_add")
    return ScatterAdd(sel).forward(x, src)


def scatter_add_(x, dim, index, src):
    """scatter_add in place, under inplace.py's rules."""
    sel, src = _scatter_add_args(x, dim, index, src, "scatter_add_")
    return add_selected_(x, sel, src, "scatter_add_")


def add_selected_(x, sel, src, name):
    """x[sel] += src in place (scatter_add_, index_add_), under inplace.py's rules: recorded as a
    ScatterAdd that x takes over when gradients are on, else one kernel into x's buffer."""
    from .. import inplace
    if inplace._recording(x, src):
        if x._op is None and x.requires_grad:
            raise RuntimeError(inplace._LEAF_ERROR.format(name=name))
        return inplace._take_over(x, ScatterAdd(sel).forward(inplace._alias(x), src))
    sel.add_into(x._buf, src)
    inplace._mark_written(x)
    return x


def index_put_(x, indices, values, accumulate=False):
    """x[indices] = values, or += with accumulate=True (duplicates sum)."""
    if not isinstance(indices, tuple):
        raise TypeError(f"index_put_: indices must be a tuple of index tensors, got {type(indices).__name__}")
    if not accumulate:
        return setitem(x, indices, values)
    from .. import inplace
    sel = select(x._shape, indices)
    if x._dtype is bool_:
        raise TypeError("index_put_(accumulate=True) needs a float or int64 tensor, got torch.bool")
    v = _value(values, x._dtype, "index_put_")
    if v._shape != sel.shape:
        try:
            from .elementwise import Add
            v = Add().forward(v, empty(sel.shape, x._dtype, zeroed=True)) if \
                np.broadcast_shapes(v._shape, sel.shape) == sel.shape else None
        except ValueError:
            v = None
        if v is None:
            raise ValueError(f"index_put_: values of shape {getattr(values, 'shape', ())} do not broadcast to the "
                             f"indexed shape {sel.shape}")
    if not x._dtype.is_floating_point:   # int64 (no gradient): the scatter_reduce kernel's sum, in place
        if sel.offsets is None:   # a box: each element once
            return setitem(x, indices, getitem(x, indices) + v)
        offsets = (sel.offsets.reshape(-1, 1) + np.arange(sel.row, dtype=np.int64)).reshape(-1)
        if offsets.size:
            int64.k.scatter_reduce(x._buf, empty(x._shape, int64)._buf, v._buf, ffi.from_buffer("int64_t[]", offsets),
                                   lib.FG_SCATTER_SUM, 1, offsets.size, x._numel)
        inplace._mark_written(x)
        return x
    if inplace._recording(x, v):
        if x._op is None and x.requires_grad:
            raise RuntimeError(inplace._LEAF_ERROR.format(name="index_put_"))
        return inplace._take_over(x, ScatterAdd(sel).forward(inplace._alias(x), v))
    sel.add_into(x._buf, v)
    inplace._mark_written(x)
    return x


def nonzero(x, as_tuple=False):
    """The coordinates of x's nonzero elements, (count, ndim) int64 in row-major order, or as_tuple
    one 1-D tensor per dimension."""
    count = kernels.count_nonzero(x._buf, x._dtype.code, x._numel)
    out = empty((count, x.ndim), int64)
    if count:
        kernels.nonzero(out._buf, x._buf, x._dtype.code, x._shape, x.ndim, x._numel)
    if as_tuple:
        return tuple(getitem(out, (slice(None), d)) for d in range(x.ndim))
    return out


def one_hot(x, num_classes=-1):
    """int64 class indices -> int64 one-hot vectors along a new last dimension (PyTorch's rules)."""
    if not isinstance(x, Tensor) or x._dtype is not int64:
        raise RuntimeError(f"one_hot is only applicable to index tensors (int64), got "
                           f"{x._dtype if isinstance(x, Tensor) else type(x).__name__!r}")
    if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool):
        raise TypeError(f"one_hot: num_classes must be an int, got {type(num_classes).__name__}")
    values = x.numpy()   # the class indices: an index array
    if values.size and values.min() < 0:
        raise RuntimeError("one_hot: class values must be non-negative")
    if num_classes == -1:
        if not values.size:
            raise RuntimeError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(values.max()) + 1
    elif num_classes < 0:
        raise RuntimeError(f"one_hot: num_classes must be -1 or non-negative, got {num_classes}")
    elif values.size and values.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes ({num_classes}), got "
                           f"{int(values.max())}")
    out = empty(x._shape + (num_classes,), int64)
    if out._numel:
        kernels.one_hot(out._buf, x._buf, x._numel, num_classes)
    return out


class Embedding(Op):
    """out = weight[indices] (rows of the table gathered). Backward: a scatter-add of the rows into
    a dense gradient, skipping padding_idx; with sparse=True a RowSparseGrad of the rows instead."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, padding_idx=None, sparse=False):
        self.padding_idx, self.sparse = padding_idx, sparse

    def forward(self, indices, weight):
        if not isinstance(weight, Tensor) or weight.ndim != 2 or not weight._dtype.is_floating_point:
            raise ValueError(f"embedding: weight must be a 2-D float tensor, got "
                             f"{weight.shape if isinstance(weight, Tensor) else type(weight).__name__}")
        num, d = weight._shape
        # an int64 tensor's offsets come from a kernel (a captured step replays it, re-checking the
        # range: _checks.range_hook); other indices are read on the host
        in_c = isinstance(indices, Tensor) and indices._dtype is int64 and self.padding_idx is None
        index = _checks.raw_view(indices) if in_c else _long_index(indices, "embedding", "input")
        if index.size and index.view(np.uint64).max() >= num:   # one pass: negatives read as huge
            bad = index[(index < 0) | (index >= num)].flat[0]
            raise IndexError(f"embedding: index {int(bad)} is out of range for a table of {num} rows")
        self.index = np.array(index, dtype=np.int64)   # a copy: later writes to the input change nothing
        self.sel = Selection(index.shape + (d,), offsets=self.index.reshape(-1) * d, row=d)
        if in_c and index.size:
            if _checks.range_hook is not None:
                _checks.range_hook(indices, num)
            n = indices._numel
            self.offsets, width = empty((n,), int64), empty((n,), int64)
            kernels.fill(width._buf, int64.code, 0.0, d, n)
            int64.k.binary(self.offsets._buf, indices._buf, width._buf, lib.FG_MUL, n)
            self.sel.offsets_ptr = self.offsets._buf
            if self.sparse:   # the rows the sparse gradient names: a copy, as self.index is
                self.rows = empty((n,), int64)
                kernels.cast(self.rows._buf, int64.code, indices._buf, int64.code, n)
        return self.record(self.sel.read(weight), weight)

    def _backward(self, g):
        weight, = self.inputs
        d = weight._shape[1]
        rows = self.index.reshape(-1)
        if self.sparse:
            from ..sparse import RowSparseGrad
            if self.padding_idx is None:   # the incoming gradient's rows as they are, as PyTorch's sparse
                # gradient shares them (even a gradient the caller passed to backward: so does PyTorch's)
                values = _view(g, (rows.size, d), False)
                # the rows: the forward's kernel copy of an int64 tensor (a captured step replays it)
                kept = self.rows if hasattr(self, "rows") else tensor(rows, dtype=int64)
            else:
                keep = np.nonzero(rows != self.padding_idx)[0]
                values = Selection((keep.size, d), offsets=keep * d, row=d).read(g)
                kept = tensor(rows[keep], dtype=int64)
            grad = RowSparseGrad.trusted(kept, values, weight._shape)
            if weight.grad is None:
                weight.grad = grad
            elif isinstance(weight.grad, RowSparseGrad):
                weight.grad = weight.grad + grad
            else:   # a dense gradient already: add into it
                grad.add_to_dense(grad_buffer(weight))
            return
        offsets = self.sel.offsets_ptr
        if self.padding_idx is not None:
            self.skip = np.where(rows == self.padding_idx, -1, rows * d)
            offsets = ffi.from_buffer("int64_t[]", self.skip)
        weight._dtype.k.scatter_add(grad_buffer(weight), g._buf, offsets, 1.0, rows.size, d)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """F.embedding: rows of weight at the integer indices in input."""
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError("embedding: max_norm and scale_grad_by_freq are not supported")
    if padding_idx is not None:
        num = weight._shape[0]
        if not isinstance(padding_idx, numbers.Integral) or not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx!r} must be an int within the {num} rows")
        padding_idx = int(padding_idx) % num
    return Embedding(padding_idx, sparse).forward(input, weight)


class ScatterReduce(Op):
    """scatter_reduce / index_reduce / put_(accumulate=True): out = x with src[i] reduced into
    out[offsets[i]] by `code` (enum fg_scatter_op: sum, prod, mean, amax, amin), one kernel with its
    backward beside it (csrc/index.inc). Any dtype forward; float gradients, PyTorch's rules (the
    kernel's comment in fastgrad.h)."""

    def __init__(self, offsets, code, include_self=True):
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64).reshape(-1)
        self.offsets_ptr = ffi.from_buffer("int64_t[]", self.offsets)
        self.code, self.include_self = code, bool(include_self)

    def forward(self, x, src):
        if src._numel != self.offsets.size:
            raise ValueError(f"scatter_reduce: {self.offsets.size} positions but {src._numel} values")
        out = empty(x._shape, x._dtype, x._numel)
        kernels.cast(out._buf, x._dtype.code, x._buf, x._dtype.code, x._numel)
        self.count = empty(x._shape, int64, x._numel)
        if x._numel:
            x._dtype.k.scatter_reduce(out._buf, self.count._buf, src._buf, self.offsets_ptr, self.code,
                                      int(self.include_self), self.offsets.size, x._numel)
        self.out_buf = self.save_output(out)
        return self.record(out, x, src)

    def _backward(self, g):
        x, src = self.inputs
        dx, dsrc = grad_buffer_or_null(x), grad_buffer_or_null(src)
        if x._numel:
            from ..dtypes import float64
            work = empty((2 * x._numel,), float64)
            x._dtype.k.scatter_reduce_backward(dx, dsrc, work._buf, g._buf, x._buf, src._buf, self.out_buf,
                                               self.count._buf, self.offsets_ptr, self.code, int(self.include_self),
                                               self.offsets.size, x._numel)

"""The shape and movement ops: view/reshape and the other views, transpose/permute, expand/repeat,
cat/stack, narrow/split/chunk/unbind, flip/roll, tril/triu.

Storage (python/fastgrad/__init__.py): tensors are contiguous and row-major. Ops that keep the
row-major order are views sharing the buffer (Reshape); every op that reorders is one strided read
of its input into a new tensor (AsStrided; Cat for several inputs) by the one strided-copy kernel,
whose float twin adds the gradient back through the same map. The functions below decide shapes
and strides and check the arguments; the Tensor methods and fg.* functions call them."""
import functools
import math
import numbers

from .._C import ffi
from ..autograd import Op, accumulate_grad, broadcast_strides, grad_buffer, grad_targets
from ..dtypes import kernels, promote
from ..tensor import Tensor, _checked_shape, _dim_index, _view, empty
from ._checks import cast_to, tensor_arg


class Reshape(Op):
    """The same buffer under another shape (one dimension may be -1): view, reshape, flatten,
    unflatten, squeeze, unsqueeze. Row-major order is kept, so no element moves, and writes through
    the result are seen by the input, as with PyTorch's views."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, shape):
        if type(shape) is tuple and shape.count(-1) <= 1:   # view(-1), view(n, d): plain ints need no conversion
            for d in shape:
                if type(d) is not int or d < -1:
                    break
            else:
                self.shape = shape
                return
        self.shape = _checked_shape(shape, infer=True)

    def forward(self, x):
        if type(x) is not Tensor:
            tensor_arg(x, "reshape")
        key = (self.shape, x._shape)
        shape = _reshapes.get(key)
        if shape is None:   # worked out once per pair of shapes
            shape = infer_shape(self.shape, x)
            if len(_reshapes) >= 4096:   # a bound for programs whose shapes never repeat
                _reshapes.clear()
            _reshapes[key] = shape
        return self.record(_view(x, shape, False), x)

    def _backward(self, g):
        x, = self.inputs   # g holds x's elements in x's order: its buffer, seen in x's shape, is x's gradient
        accumulate_grad(x, empty(x._shape, g._dtype, g._numel, buf=g._buf))


_reshapes = {}   # (requested shape, input shape) -> the result's shape, for Reshape


def infer_shape(shape, x):
    """`shape` with its -1 filled in from x's element count, in PyTorch's words when it cannot be."""
    numel = x._numel
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 and numel == 0:
            raise ValueError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
                             f"dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise ValueError(f"shape '{list(shape)}' is invalid for input of size {numel}: cannot reshape tensor of "
                             f"shape {x._shape}")
        shape = tuple(numel // known if d == -1 else d for d in shape)
    if math.prod(shape) != numel:
        raise ValueError(f"shape '{list(shape)}' is invalid for input of size {numel}: cannot reshape tensor of shape "
                         f"{x._shape} ({numel} elements)")
    return shape


def view(x, shape):
    return Reshape(shape).forward(x)


def alias(x):
    """A view of all of x: what PyTorch returns for a movement that moves nothing."""
    return Reshape(x._shape).forward(x)


def flatten(x, start_dim=0, end_dim=-1):
    tensor_arg(x, "flatten")
    if x.ndim == 0:
        return view(x, (1,))
    start, end = _dim_index(start_dim, x.ndim, "flatten"), _dim_index(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten() has invalid args: start_dim cannot come after end_dim (start_dim={start_dim}, "
                         f"end_dim={end_dim} for shape {x._shape})")
    s = x._shape
    return view(x, s[:start] + (math.prod(s[start:end + 1]),) + s[end + 1:])


def unflatten(x, dim, sizes):
    tensor_arg(x, "unflatten")
    d = _dim_index(dim, x.ndim, "unflatten")
    sizes = _checked_shape(tuple(sizes), infer=True)
    if not sizes:
        raise ValueError("unflatten: sizes must be non-empty")
    n = x._shape[d]
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes and known and n % known == 0:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    if -1 in sizes or math.prod(sizes) != n:
        raise ValueError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({n}) in "
                         f"the input tensor of shape {x._shape}")
    return view(x, x._shape[:d] + sizes + x._shape[d + 1:])


def dims_arg(dims, ndim, what):
    """dims (an int, or a tuple/list of ints) as distinct indices in [0, ndim)."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    out = [_dim_index(d, ndim, what) for d in dims]
    for d in out:
        if out.count(d) > 1:
            raise ValueError(f"{what}: dim {d} appears multiple times in the list of dims {dims}")
    return out


def squeeze(x, dim=None):
    """Drops dimensions of length 1: all of them, or those of `dim` (an int or a tuple) that are 1."""
    tensor_arg(x, "squeeze")
    drop = range(x.ndim) if dim is None else dims_arg(dim, x.ndim, "squeeze")
    return view(x, tuple(s for i, s in enumerate(x._shape) if not (i in drop and s == 1)))


def unsqueeze(x, dim):
    tensor_arg(x, "unsqueeze")
    d = _dim_index(dim, x.ndim + 1, "unsqueeze")
    return view(x, x._shape[:d] + (1,) + x._shape[d:])


# ---- movement: one strided read of the input into a new tensor ---------------------------------------
def contiguous_strides(shape):
    """The element strides of a contiguous row-major tensor of `shape`."""
    strides, step = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = step
        step *= shape[i]
    return strides


@functools.lru_cache(maxsize=512)
def _strided_read(shape, strides):
    """fg_strided_copy's shape, output strides and input strides for reading `strides` into a
    contiguous result, as C arrays made once per pair (movements repeat every step)."""
    return (ffi.new("int64_t[]", shape or (0,)), ffi.new("int64_t[]", contiguous_strides(shape) or [0]),
            ffi.new("int64_t[]", strides or (0,)))


class AsStrided(Op):
    """out[i] = x[offset + i·strides] for every index i < shape, copied into a new contiguous tensor
    (of out_shape when given: the same elements, regrouped). Transpose, permute, flip, narrow and the
    split pieces, expand, repeat and clone are each one such read, by fg_strided_copy.

    Backward sends g back through the same map. Where the read covers every element of x once (a
    permutation: transpose, flip, clone) the first gradient is written, not zeroed and added to;
    where strides are 0 (expand, repeat: x's last stride is then 0 or 1, the offset 0) fg_sum_to sums
    over those dimensions; otherwise (narrow) g is added into its part of the gradient."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, shape, strides, offset=0, out_shape=None):
        self.shape, self.strides, self.offset = tuple(shape), tuple(strides), offset
        self.result_shape = self.shape if out_shape is None else tuple(out_shape)

    def forward(self, x):
        out = empty(self.result_shape, x._dtype)
        kernels.strided_copy(out._buf, x._buf, x._dtype.itemsize, *_strided_read(self.shape, self.strides), 0,
                             self.offset, len(self.shape))
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        k, shape, n = x._dtype.k, self.shape, len(self.shape)
        if any(s == 0 and d > 1 for s, d in zip(self.strides, shape)):
            k.sum_to(grad_buffer(x), g._buf, 1.0, shape, self.strides, n)
            return
        g_strides = contiguous_strides(shape)
        if g._numel == x._numel:
            (buf, accumulate), = grad_targets(x)
            if not accumulate:
                kernels.strided_copy(buf, g._buf, x._dtype.itemsize, shape, self.strides, g_strides, self.offset, 0, n)
                return
        else:
            buf = grad_buffer(x)
        k.strided_add(buf, g._buf, shape, self.strides, g_strides, self.offset, 0, n)


def permute(x, dims):
    """x with its dimensions reordered: dimension i of the result is dimension dims[i] of x."""
    tensor_arg(x, "permute")
    order = dims_arg(dims, x.ndim, "permute")
    if len(order) != x.ndim:
        raise ValueError(f"permute: dims {tuple(dims)} must name each of the {x.ndim} dimensions of a tensor of shape "
                         f"{x._shape} once")
    if order == sorted(order):
        return alias(x)
    return Transpose(order).forward(x)


class Transpose(AsStrided):
    """x with its dimensions reordered by `order` (permute), or with no order reversed (x.T; the
    transpose of a matrix). Other movements are made by the functions below; this class keeps the
    tutorial's fg.ops.Transpose().forward(x)."""

    def __init__(self, order=None):
        self.order = order

    def forward(self, x):
        tensor_arg(x, "transpose")
        self.shape, self.strides = _reordered(x._shape, None if self.order is None else tuple(self.order))
        self.offset, self.result_shape = 0, self.shape
        return super().forward(x)


@functools.lru_cache(maxsize=512)
def _reordered(shape, order):
    """The shape and input strides of a contiguous `shape` with its dimensions in `order` (None:
    reversed), made once per pair: layers written out transpose their weights every step."""
    order = range(len(shape) - 1, -1, -1) if order is None else order
    strides = contiguous_strides(shape)
    return tuple(shape[d] for d in order), tuple(strides[d] for d in order)


def transpose(x, dim0, dim1):
    tensor_arg(x, "transpose")
    d0, d1 = _dim_index(dim0, x.ndim, "transpose"), _dim_index(dim1, x.ndim, "transpose")
    if d0 == d1:
        return alias(x)
    order = list(range(x.ndim))
    order[d0], order[d1] = d1, d0
    return Transpose(order).forward(x)


def matrix_transpose(x):
    """x.mT: the last two dimensions swapped."""
    tensor_arg(x, "mT")
    if x.ndim < 2:
        raise ValueError(f"tensor.mT is only supported on matrices or batches of matrices. Got {x.ndim}-D tensor "
                         f"of shape {x._shape}")
    return transpose(x, -2, -1)


def t(x):
    """x.t(): the transpose of a matrix; tensors of 0 and 1 dimensions come back as they are."""
    tensor_arg(x, "t")
    if x.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D (shape {x._shape})")
    return transpose(x, 0, -1) if x.ndim == 2 else alias(x)


def movedim(x, source, destination):
    tensor_arg(x, "movedim")
    src, dst = dims_arg(source, x.ndim, "movedim"), dims_arg(destination, x.ndim, "movedim")
    if len(src) != len(dst):
        raise ValueError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain the "
                         f"same number of dims as destination ({list(dst)} dims)")
    order, rest = [None] * x.ndim, iter(d for d in range(x.ndim) if d not in src)
    for s, d in zip(src, dst):
        order[d] = s
    return permute(x, [next(rest) if o is None else o for o in order])


def sizes_arg(sizes, what):
    """Sizes given as ints or one tuple/list of them (expand, repeat), unchecked in value."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    for s in sizes:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"{what}: sizes {tuple(sizes)!r} must be integers, got {type(s).__name__}")
    return tuple(int(s) for s in sizes)


def expand(x, sizes):
    """x broadcast to `sizes` (-1 keeps a dimension; new dimensions go in front), as a copy."""
    tensor_arg(x, "expand")
    sizes = sizes_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number "
                         f"of dimensions in the tensor ({x.ndim}); sizes {list(sizes)}, tensor shape {x._shape}")
    target = []
    for i, s in enumerate(sizes):
        have = x._shape[i - lead] if i >= lead else None
        if s == -1 and have is not None:
            s = have
        if s < 0:
            where = "in a leading, non-existing dimension" if have is None else "at dimension"
            raise ValueError(f"expand: the expanded size of the tensor ({s}) isn't allowed {where} {i}; target sizes "
                             f"{list(sizes)}, tensor shape {x._shape}")
        if have is not None and have != 1 and s != have:
            raise ValueError(f"expand: the expanded size of the tensor ({s}) must match the existing size ({have}) at "
                             f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                             f"{list(x._shape)}")
        target.append(s)
    target = tuple(target)
    if target == x._shape:
        return alias(x)
    return AsStrided(target, broadcast_strides(x._shape, target)).forward(x)


def repeat(x, sizes):
    """x tiled sizes[i] times along dimension i (new dimensions in front): x read through a layout
    (r0, s0, r1, s1, ...) whose r dimensions have stride 0."""
    tensor_arg(x, "repeat")
    sizes = sizes_arg(sizes, "repeat")
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: number of dimensions of repeat dims ({len(sizes)}) can not be smaller than number "
                         f"of dimensions of tensor ({x.ndim}, shape {x._shape})")
    if any(r < 0 for r in sizes):
        raise ValueError(f"repeat: repeats must be non-negative, got {list(sizes)}")
    shape = (1,) * (len(sizes) - x.ndim) + x._shape
    walk, strides = [], []
    for r, s, stride in zip(sizes, shape, contiguous_strides(shape)):
        walk += [r, s]
        strides += [0, stride if s != 1 else 0]
    return AsStrided(walk, strides, 0, tuple(r * s for r, s in zip(sizes, shape))).forward(x)


def clone(x):
    tensor_arg(x, "clone")
    return AsStrided(x._shape, contiguous_strides(x._shape)).forward(x)


def _part(x, d, start, length, keepdim=True):
    """Elements start .. start+length-1 of dimension d, copied (a view when that is all of x)."""
    if start == 0 and length == x._shape[d] and keepdim:
        return alias(x)
    strides = contiguous_strides(x._shape)
    shape = x._shape[:d] + (length,) + x._shape[d + 1:]
    out_shape = shape if keepdim else shape[:d] + shape[d + 1:]
    return AsStrided(shape, strides, start * strides[d], out_shape).forward(x)


def int_arg(value, what):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        if isinstance(value, Tensor) and value._numel == 1 and not value._dtype.is_floating_point:
            return int(value)
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    return int(value)


def narrow(x, dim, start, length):
    tensor_arg(x, "narrow")
    if x.ndim == 0:
        raise ValueError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim_index(dim, x.ndim, "narrow")
    start, length, size = int_arg(start, "narrow: start"), int_arg(length, "narrow: length"), x._shape[d]
    if not -size <= start <= size:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}) of dimension "
                         f"{dim} of shape {x._shape}")
    return _part(x, d, start, length)


def split(x, split_size_or_sections, dim=0):
    """Pieces of split_size along dim (the last one shorter), or pieces of the given sizes."""
    tensor_arg(x, "split")
    d = _dim_index(dim, x.ndim, "split")
    n = x._shape[d]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [int_arg(s, "split: split_sizes") for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                             f"dimension {dim}), but got split_sizes={sizes}")
    else:
        size = int_arg(split_size_or_sections, "split: split_size")
        if size < 0 or (size == 0 and n):
            raise ValueError(f"split expects split_size be positive (0 only for a dimension of size 0), but got "
                             f"split_size={size} for dimension {dim} of size {n}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    pieces, start = [], 0
    for s in sizes:
        pieces.append(_part(x, d, start, s))
        start += s
    return tuple(pieces)


def chunk(x, chunks, dim=0):
    """At most `chunks` pieces of equal size along dim (the last one shorter), as PyTorch cuts them."""
    tensor_arg(x, "chunk")
    chunks = int_arg(chunks, "chunk: chunks")
    if chunks <= 0:
        raise ValueError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x._shape[_dim_index(dim, x.ndim, "chunk")]
    if n == 0:
        return split(x, [0] * chunks, dim)
    return split(x, -(-n // chunks), dim)


def unbind(x, dim=0):
    tensor_arg(x, "unbind")
    if x.ndim == 0:
        raise ValueError("unbind: dimension specified as 0 but tensor has no dimensions")
    d = _dim_index(dim, x.ndim, "unbind")
    return tuple(_part(x, d, i, 1, keepdim=False) for i in range(x._shape[d]))


def flip(x, dims):
    tensor_arg(x, "flip")
    flipped = dims_arg(dims, x.ndim, "flip")
    if x.ndim == 0:
        flipped = []   # a 0-d tensor has one element: nothing to flip
    strides = contiguous_strides(x._shape)
    offset = 0
    for d in flipped:
        offset += (x._shape[d] - 1) * strides[d] if x._shape[d] else 0
        strides[d] = -strides[d]
    return AsStrided(x._shape, strides, offset).forward(x)


def fliplr(x):
    if tensor_arg(x, "fliplr").ndim < 2:
        raise ValueError(f"fliplr: input must be >= 2-d, got shape {x._shape}")
    return flip(x, 1)


def flipud(x):
    if tensor_arg(x, "flipud").ndim < 1:
        raise ValueError(f"flipud: input must be >= 1-d, got shape {x._shape}")
    return flip(x, 0)


def roll(x, shifts, dims=None):
    """Elements shifted by `shifts` along `dims`, wrapping around (without dims: over the flattened
    tensor): each dimension is two narrow pieces concatenated."""
    tensor_arg(x, "roll")
    if dims is None:
        if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one integer, got {shifts}")
        return view(roll(flatten(x), shifts, 0), x._shape)
    shifts = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    dims = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts and dims must have the same length, got shifts={shifts} and dims={dims}")
    out = x
    for shift, dim in zip(shifts, dims):
        d = _dim_index(dim, x.ndim, "roll")
        n = x._shape[d]
        s = int_arg(shift, "roll: shift") % n if n else 0
        if s:
            out = cat([_part(out, d, n - s, s), _part(out, d, 0, n - s)], d)
    return alias(x) if out is x else out


def triangle(x, upper, diagonal=0):
    return Triangle(upper, diagonal).forward(x)


class Triangle(Op):
    """tril (upper False) and triu (upper True) over the last two dimensions: elements outside the
    triangle set to zero, by fg_triangle; the gradient is masked the same way."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, upper, diagonal=0):
        self.upper, self.diagonal = bool(upper), int_arg(diagonal, "triu: diagonal" if upper else "tril: diagonal")

    def forward(self, x):
        name = "triu" if self.upper else "tril"
        tensor_arg(x, name)
        if x.ndim < 2:
            raise ValueError(f"{name}: input tensor must have at least 2 dimensions, got shape {x._shape}")
        out = empty(x._shape, x._dtype)
        self._mask(out._buf, x)
        return self.record(out, x)

    def _mask(self, out_buf, x):
        rows, cols = x._shape[-2:]
        batch = x._numel // (rows * cols) if rows * cols else 0
        diagonal = max(-rows, min(cols, self.diagonal))   # the kernel's int64_t holds it
        kernels.triangle(out_buf, x._buf, x._dtype.itemsize, self.upper, diagonal, batch, rows, cols)

    def _backward(self, g):
        x, = self.inputs
        (buf, accumulate), = grad_targets(x)
        if accumulate:
            masked = empty(g._shape, g._dtype, g._numel)
            self._mask(masked._buf, g)
            x._dtype.k.axpy(buf, masked._buf, 1.0, g._numel)
        else:
            self._mask(buf, g)


# ---- several inputs: cat and stack ----------------------------------------------------------------
class Cat(Op):
    """cat(tensors, dim), or stack(tensors, dim) (stack=True: along a new dimension). Each input is
    copied into its slab of the output, seen as (outer, total) rows; backward reads each input's
    gradient back out of its slab. Mixed dtypes are promoted as arithmetic promotes them."""
    reads = ()   # backward needs shapes (or saved buffers) only

    def __init__(self, dim=0, stack=False):
        self.dim, self.stack = dim, stack

    def forward(self, tensors):
        name = "stack" if self.stack else "cat"
        if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
            raise TypeError(f"{name}(): expected a tuple or list of tensors, got {type(tensors).__name__}")
        if not tensors:
            raise ValueError(f"{name}(): expected a non-empty list of tensors")
        dtype = None
        for i, t in enumerate(tensors):
            if type(t) is not Tensor and not isinstance(t, Tensor):
                raise TypeError(f"{name}: tensors[{i}] must be a fastgrad Tensor, got {type(t).__name__}")
            if t._dtype is dtype:
                continue
            dtype = promote(dtype or t._dtype, t._dtype)
        if dtype.is_floating_point and any(t._dtype is not dtype for t in tensors):
            # float32 pieces among float64 ones: converted so that gradients flow back
            tensors = [t.to(dtype) if t._dtype is not dtype and t._dtype.is_floating_point else t for t in tensors]
        key = (tuple([t._shape for t in tensors]), self.dim, self.stack) if type(self.dim) is int else None
        plan = _cat_plans.get(key) if key else None
        if plan is None:   # worked out once per list of shapes and dim (not for a bool dim: True == 1)
            plan = _CatPlan(*self._layout(name, tensors))
            if key:
                if len(_cat_plans) >= 4096:   # a bound for programs whose shapes never repeat
                    _cat_plans.clear()
                _cat_plans[key] = plan
        self.rows, self.total, self.spans = plan.rows, plan.total, plan.spans
        out = empty(plan.shape, dtype, plan.numel)
        for t, (start, _), (shape_c, out_strides_c, in_strides_c) in zip(tensors, plan.spans, plan.copies):
            kernels.strided_copy(out._buf, (t if t._dtype is dtype else cast_to(t, dtype))._buf, dtype.itemsize,
                                 shape_c, out_strides_c, in_strides_c, start, 0, 2)
        return self.record(out, *tensors)

    def _layout(self, name, tensors):
        """The output's shape, the dimension joined along, and each input's length along it."""
        first = tensors[0]._shape
        if self.stack:
            for i, t in enumerate(tensors):
                if t._shape != first:
                    raise ValueError(f"stack expects each tensor to be equal size, but got {first} at entry 0 and "
                                     f"{t._shape} at entry {i}")
            d = _dim_index(self.dim, len(first) + 1, "stack")
            return first[:d] + (len(tensors),) + first[d:], d, [1] * len(tensors)
        # as in PyTorch, 1-D empty tensors (torch.tensor([]), a loop's start) are skipped next to others
        joined = [t._shape != (0,) for t in tensors]
        first = joined.index(True) if any(joined) else 0
        joined[first] = True
        ref = tensors[first]._shape
        if not ref:
            raise ValueError(f"zero-dimensional tensor (at position {first}) cannot be concatenated")
        d = _dim_index(self.dim, len(ref), "cat")
        for i, t in enumerate(tensors):
            if joined[i] and (len(t._shape) != len(ref) or t._shape[:d] + t._shape[d + 1:] != ref[:d] + ref[d + 1:]):
                raise ValueError(f"cat: sizes of tensors must match except in dimension {d}; tensor number {i} in the "
                                 f"list has shape {t._shape}, tensor number {first} {ref}")
        lengths = [t._shape[d] if j else 0 for t, j in zip(tensors, joined)]
        return ref[:d] + (sum(lengths),) + ref[d + 1:], d, lengths

    def _backward(self, g):
        for t, (start, width) in zip(self.inputs, self.spans):
            if not t.requires_grad:
                continue
            (buf, accumulate), = grad_targets(t)
            layout = ((self.rows, width), (width, 1), (self.total, 1), 0, start, 2)
            if accumulate:
                t._dtype.k.strided_add(buf, g._buf, *layout)
            else:
                kernels.strided_copy(buf, g._buf, t._dtype.itemsize, *layout)


class _CatPlan:
    """Cat's layout for one list of input shapes and dim: the output shape and element count, its
    (rows, total) view, each input's (start, width) slab in a row, and the C arrays of each input's
    strided copy into its slab."""
    __slots__ = ("shape", "numel", "rows", "total", "spans", "copies")

    def __init__(self, shape, d, lengths):
        inner = math.prod(shape[d + 1:])
        self.shape, self.numel = shape, math.prod(shape)
        self.rows, self.total = math.prod(shape[:d]), shape[d] * inner
        self.spans, self.copies, start = [], [], 0
        for length in lengths:
            self.spans.append((start, length * inner))
            self.copies.append(tuple(ffi.new("int64_t[]", v) for v in
                                     ((self.rows, length * inner), (self.total, 1), (length * inner, 1))))
            start += length * inner


_cat_plans = {}


def cat(tensors, dim=0):
    return Cat(dim).forward(tensors)


def stack(tensors, dim=0):
    return Cat(dim, stack=True).forward(tensors)

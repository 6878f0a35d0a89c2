"""The module-level forms of the shape and movement ops, as PyTorch names them: fg.cat, fg.stack,
fg.transpose, fg.tril, ... Each is the Tensor method's op (fastgrad/ops/shape.py)."""
from .ops import shape as _shape
from .autograd import broadcast_shape
from .tensor import _one_or_many

__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes", "swapdims", "permute",
           "movedim", "moveaxis", "t", "broadcast_to", "broadcast_tensors", "cat", "concat", "concatenate", "stack",
           "hstack", "vstack", "split", "chunk", "unbind", "narrow", "flip", "fliplr", "flipud", "roll", "tril",
           "triu", "clone"]

cat = concat = concatenate = _shape.cat
stack = _shape.stack
flatten = _shape.flatten
unflatten = _shape.unflatten
squeeze = _shape.squeeze
unsqueeze = _shape.unsqueeze
transpose = swapaxes = swapdims = _shape.transpose
movedim = moveaxis = _shape.movedim
t = _shape.t
split = _shape.split
chunk = _shape.chunk
unbind = _shape.unbind
narrow = _shape.narrow
fliplr = _shape.fliplr
flipud = _shape.flipud
roll = _shape.roll
clone = _shape.clone


def reshape(input, shape):
    return _shape.view(input, tuple(shape))


def permute(input, dims):
    return _shape.permute(input, dims)


def broadcast_to(input, size):
    return _shape.expand(input, tuple(size))


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape."""
    tensors = _one_or_many(tensors)
    shape = broadcast_shape(*(_shape.tensor_arg(x, "broadcast_tensors")._shape for x in tensors))
    return tuple(_shape.expand(x, shape) for x in tensors)


def hstack(tensors):
    """cat along dimension 1, or 0 for 1-D tensors."""
    tensors = [x if x.ndim else x.reshape(1) for x in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """cat along dimension 0, 1-D (and 0-d) tensors taken as rows."""
    return cat([x.reshape(1, -1) if x.ndim < 2 else x for x in tensors], 0)


def flip(input, dims):
    return _shape.flip(input, dims)


def tril(input, diagonal=0):
    return _shape.triangle(input, False, diagonal)


def triu(input, diagonal=0):
    return _shape.triangle(input, True, diagonal)

"""PyTorch's spatial functions that programs call beside convolutions, composed from existing ops
(their gradients come from those ops): affine_grid and grid_sample (spatial transformer networks),
local_response_norm (AlexNet-style networks) and channel_shuffle (ShuffleNet).

grid_sample gathers the input at positions the grid computes, so its offsets are made on the host:
it runs eagerly and fg.compile refuses it, as it refuses other indices computed in a step."""
import numbers

from .. import functions as _fn
from ..autograd import no_grad
from ..dtypes import int64
from ..ops.shape import stack
from ..creation import arange
from ..tensor import Tensor, tensor
from . import functional as F

_MODES = ("bilinear", "nearest")
_PADDINGS = ("zeros", "border", "reflection")


def affine_grid(theta, size, align_corners=False):
    """The (N, H, W, 2) sampling grid of a batch of 2-D affine maps theta (N, 2, 3): each output
    pixel's normalised (x, y) in [-1, 1] mapped through theta, for grid_sample."""
    if not isinstance(theta, Tensor) or theta.ndim != 3 or theta.shape[1:] != (2, 3) or \
            not theta.dtype.is_floating_point:
        raise ValueError(f"affine_grid: theta must be a float tensor of shape (N, 2, 3), got "
                         f"{getattr(theta, 'shape', type(theta).__name__)}")
    if len(size) != 4 or size[0] != theta.shape[0] or min(size) < 1:
        raise ValueError(f"affine_grid: size must be (N, C, H, W) with N = {theta.shape[0]} (theta's batch), got "
                         f"{tuple(size)}")
    n, _, h, w = (int(s) for s in size)
    xs, ys = (_positions(count, align_corners, theta.dtype) for count in (w, h))
    base = stack([xs.reshape(1, w).expand(h, w), ys.reshape(h, 1).expand(h, w),
                  tensor(1.0, dtype=theta.dtype).expand(h, w)], -1)   # (H, W, 3): x, y, 1
    return (base.reshape(1, h * w, 3) @ theta.transpose(1, 2)).reshape(n, h, w, 2)


def _positions(count, align_corners, dtype):
    """The normalised coordinates of `count` pixel centres, as PyTorch makes them: linspace(-1, 1) (0
    for one pixel), scaled by (count - 1) / count unless align_corners (then the corner pixels'
    centres are -1 and 1, else the outer edges are)."""
    i = arange(count, dtype=dtype)
    line = i * (2.0 / (count - 1)) - 1.0 if count > 1 else i * 0.0
    return line if align_corners else line * ((count - 1) / count)


def _unnormalise(coord, size, align_corners):
    return (coord + 1.0) * ((size - 1) / 2.0) if align_corners else ((coord + 1.0) * size - 1.0) / 2.0


def _reflect(x, twice_low, twice_high):
    """x reflected into [twice_low / 2, twice_high / 2] (PyTorch's reflect_coordinates)."""
    if twice_low == twice_high:
        return x * 0.0
    low, span = twice_low / 2.0, (twice_high - twice_low) / 2.0
    x = (x - low).abs()
    flips = (x / span).floor()
    extra = x - flips * span
    even = (flips / 2.0).floor() * 2.0 == flips
    return _fn.where(even, extra + low, (span - extra) + low)


def _source_coordinate(coord, size, padding_mode, align_corners):
    x = _unnormalise(coord, size, align_corners)
    if padding_mode == "border":
        x = x.clamp(0, size - 1)
    elif padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        x = x.clamp(0, size - 1)
    return x


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """input (N, C, H, W) sampled at grid (N, Ho, Wo, 2) of normalised (x, y): (N, C, Ho, Wo), each output
    the bilinear mix of its four neighbours (or the nearest one); positions outside read zeros, the
    border, or the input reflected. align_corners=None is False, as PyTorch (which warns)."""
    align_corners = bool(align_corners)
    if mode not in _MODES:
        raise ValueError(f"grid_sample: mode must be one of {_MODES} ('bicubic' is not supported), got {mode!r}")
    if padding_mode not in _PADDINGS:
        raise ValueError(f"grid_sample: padding_mode must be one of {_PADDINGS}, got {padding_mode!r}")
    if not isinstance(input, Tensor) or input.ndim != 4 or not input.dtype.is_floating_point:
        raise ValueError(f"grid_sample: input must be a float tensor of shape (N, C, H, W) (5-D volumes are not "
                         f"supported), got {getattr(input, 'shape', type(input).__name__)}")
    if not isinstance(grid, Tensor) or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0] \
            or grid.dtype is not input.dtype:
        raise ValueError(f"grid_sample: grid must be a tensor of shape (N, Ho, Wo, 2) with the input's batch "
                         f"{input.shape[0]} and dtype {input.dtype!r}, got "
                         f"{getattr(grid, 'shape', type(grid).__name__)}")
    n, c, h, w = input.shape
    _, ho, wo, _ = grid.shape
    x = _source_coordinate(grid[..., 0], w, padding_mode, align_corners)   # (N, Ho, Wo)
    y = _source_coordinate(grid[..., 1], h, padding_mode, align_corners)
    flat = input.reshape(n, c, h * w)
    if mode == "nearest":
        with no_grad():
            corners = [(x.round(), y.round(), None)]
    else:
        with no_grad():
            x0, y0 = x.floor(), y.floor()
        wx1, wy1 = x - x0, y - y0
        wx0, wy0 = 1.0 - wx1, 1.0 - wy1
        corners = [(x0, y0, wx0 * wy0), (x0 + 1, y0, wx1 * wy0), (x0, y0 + 1, wx0 * wy1), (x0 + 1, y0 + 1, wx1 * wy1)]
    out = None
    for cx, cy, weight in corners:
        with no_grad():   # which pixel each corner reads, and whether it lies inside the input
            inside = (cx >= 0) & (cx <= w - 1) & (cy >= 0) & (cy <= h - 1)
            index = (cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)).to(int64).reshape(n, 1, ho * wo).expand(n, c, ho * wo)
        value = flat.gather(2, index).reshape(n, c, ho, wo)
        mask = inside.to(input.dtype).unsqueeze(1)
        term = value * mask if weight is None else value * (weight.unsqueeze(1) * mask)
        out = term if out is None else out + term
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input / (k + alpha · mean of input² over `size` neighbouring channels)^beta (channels are dim 1;
    the window is zero-padded, size // 2 before and (size - 1) // 2 after), as PyTorch."""
    if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive integer, got {size!r}")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"local_response_norm: expects an input of 3 or more dimensions (N, C, ...), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    channels = input.shape[1]
    squares = input * input
    before, after = size // 2, (size - 1) // 2
    padded = F.pad(squares, (0, 0) * (input.ndim - 2) + (before, after))
    window = padded.narrow(1, 0, channels)
    for j in range(1, size):
        window = window + padded.narrow(1, j, channels)
    return input / (window * (alpha / size) + k) ** beta


def channel_shuffle(input, groups):
    """(N, g·c, ...) -> the channels of each group interleaved: a reshape, a transpose and a reshape."""
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"channel_shuffle: groups must be a positive integer, got {groups!r}")
    if not isinstance(input, Tensor) or input.ndim < 3 or input.shape[1] % groups:
        raise ValueError(f"channel_shuffle: expects (N, C, ...) with C divisible by groups ({groups}), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    n, c, *rest = input.shape
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)

"""Resampling, functional form (torch.nn.functional's signatures, defaults and errors): interpolate /
upsample, pixel_shuffle / pixel_unshuffle, grid_sample and affine_grid.

interpolate's modes are the separable rows of autograd_gpu/ops/conv_ops.py (one per aten op, so the nodes are
torch's); grid_sample and affine_grid are composites of differentiable ops.

>>> y = interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
"""
import itertools
import math
import numbers
import warnings

from .. import _dtype
from ..creation import arange, ones, zeros
from ..ops import conv_ops
from ..ops.arithmetic import where
from ..ops.core import apply
from ..ops.shape import stack
from ._conv import _type_name, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "grid_sample", "affine_grid"]

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
# (mode, spatial dims) -> (the row's name, the mode of one axis)
_ROWS = {("nearest", 1): ("upsample_nearest1d", "nearest"), ("nearest", 2): ("upsample_nearest2d", "nearest"),
         ("nearest", 3): ("upsample_nearest3d", "nearest"),
         ("nearest-exact", 1): ("upsample_nearest_exact1d", "nearest-exact"),
         ("nearest-exact", 2): ("upsample_nearest_exact2d", "nearest-exact"),
         ("nearest-exact", 3): ("upsample_nearest_exact3d", "nearest-exact"),
         ("linear", 1): ("upsample_linear1d", "linear"), ("bilinear", 2): ("upsample_bilinear2d", "linear"),
         ("bicubic", 2): ("upsample_bicubic2d", "cubic"), ("trilinear", 3): ("upsample_trilinear3d", "linear")}
_NEEDS = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _is_integer(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) or \
        (hasattr(x, "dtype") and not x.is_floating_point() and x.ndim == 0)


def _sizes_and_scales(input, size, scale_factor, recompute_scale_factor, dims):
    """interpolate's checks of size / scale_factor; returns (output size, scales or None) as lists."""
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {spatial} and output size of {size}. Please provide input tensor in (N, C, d1, "
                    "d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(s) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                                f"int], but got size with types {[type(s) for s in size]}")
            out = [int(s) for s in size]
        else:
            out = [int(size)] * dims
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return out, None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dims:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {spatial} and scale_factor of shape {scale_factor}. Please provide input tensor in "
                "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dims
    out = [math.floor(n * s) for n, s in zip(spatial, scales)]
    return out, None if recompute_scale_factor else scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) to ``size`` or by ``scale_factor``.

    >>> interpolate(torch.ones(1, 1, 2, 2), scale_factor=2, mode="bilinear").shape
    torch.Size([1, 1, 4, 4])
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear "
                             "| bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dims = input.ndim - 2
    out, scales = _sizes_and_scales(input, size, scale_factor, recompute_scale_factor, dims)
    if mode == "area" and scales is not None:  # (area always takes the size: torch recomputes it)
        scales = None
    if antialias:
        if mode in ("bilinear", "bicubic") and input.ndim == 4:
            raise NotImplementedError("interpolate(antialias=True) is not supported by autograd_gpu")
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "area" and 1 <= dims <= 3:
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dims - 1](input, out)
    if (mode, dims) not in _ROWS:
        if mode in _NEEDS and input.ndim in (3, 4, 5):
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_NEEDS[mode]}D input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: {_MODES} (got {mode})")
    spatial = input.shape[2:]
    if any(n <= 0 for n in spatial) or any(o <= 0 for o in out):
        axes = ("D", "H", "W")[-dims:]
        raise RuntimeError("Input and output sizes should be greater than 0, but got input ("
                           + ", ".join(f"{a}: {n}" for a, n in zip(axes, spatial)) + ") output ("
                           + ", ".join(f"{a}: {o}" for a, o in zip(axes, out)) + ")")
    if not input.is_floating_point():
        raise _dtype.not_implemented(_ROWS[mode, dims][0], input.dtype)
    name, axis_mode = _ROWS[mode, dims]
    taps = tuple(conv_ops.interpolation_taps(axis_mode, n, o, align_corners, s, input._data.dtype, dims)
                 for n, o, s in zip(spatial, out, scales or [None] * dims))
    adjoint = tuple(conv_ops.transpose_taps(t, n) for t, n in zip(taps, spatial))
    return apply(conv_ops.RESAMPLE[name], input, taps=taps, adjoint=adjoint)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (it warns, as torch does)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle ------------------------------------------------------------------------------------

def _shuffle_factor(input, r, name, what):
    if not _is_integer(r):
        raise TypeError(f"{name}(): argument '{what}' (position 2) must be int, not {type(r).__name__}")
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                           "dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {r}")
    return int(r)


def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r), r = upscale_factor: sub-pixel convolution's rearrangement."""
    r = _shuffle_factor(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.shape[-3] % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={input.shape[-3]} is not divisible by {r * r}")
    return apply(conv_ops.PIXEL_SHUFFLE, input, r=r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), r = downscale_factor: the inverse of pixel_shuffle."""
    r = _shuffle_factor(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    for what, k in (("height", -2), ("width", -1)):
        if input.shape[k] % r:
            raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but "
                               f"input.size({k})={input.shape[k]} is not divisible by {r}")
    return apply(conv_ops.PIXEL_UNSHUFFLE, input, r=r)


# ---- grid_sample / affine_grid ------------------------------------------------------------------------
# Composites: the sampling positions are differentiable in the grid (unnormalise, reflect, clip), the corners'
# pixels are gathered (gather's backward scatters the gradient back onto the input), and the corner weights are
# products of per-axis linear weights. torch records one GridSampler2DBackward0 / GridSampler3DBackward0 node.

def _unnormalize(coord, size, align_corners):
    """Grid coordinates in [-1, 1] -> pixel coordinates along an axis of `size` pixels."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _pad_coords(coord, size, padding_mode, align_corners):
    """Pixel coordinates moved into the image as the padding mode says (ATen's compute_coordinates); zeros
    padding leaves them (the pixels outside read 0)."""
    if padding_mode == "border":
        coord = coord.clamp(0, size - 1)
    elif padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
        coord = coord.clamp(0, size - 1)
    return coord


def _reflect(coord, twice_low, twice_high):
    """Reflect coordinates into [twice_low / 2, twice_high / 2] by the image's edges, as often as needed."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    flips = (dist.detach() / span).floor()
    extra = dist - flips * span
    even = flips.remainder(2) == 0
    return where(even, extra + low, span - extra + low)


def _gather_pixels(flat, index, valid, out_shape):
    """flat (N, C, P) read at index (N, *out) -> (N, C, *out), 0 where not valid."""
    N, C = flat.shape[:2]
    picked = flat.gather(2, index.reshape(N, 1, -1).expand(N, C, index[0].numel()))
    picked = picked.reshape(N, C, *out_shape)
    return picked if valid is None else where(valid.unsqueeze(1), picked, 0.0)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input (N, C, *spatial) at the positions grid (N, *out, dims), each in [-1, 1] (x first):
    bilinear (trilinear for 3-d), nearest or bicubic (2-d), outside the image zeros, the border or its
    reflection."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found {_type_name(grid)}")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        ndim = f"{input.ndim}D" if input.ndim in (4, 5) else "4D or 5D"
        raise RuntimeError(f"grid_sampler(): expected {ndim} input and grid with same number of dimensions, but got "
                           f"{sizes}")
    dims = input.ndim - 2
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got {sizes}")
    if grid.shape[-1] != dims:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {dims} in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    for k, n in enumerate(input.shape[2:]):
        if n == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {list(input.shape)} with dimension {k + 2} being empty")
    if mode == "bicubic" and dims == 3:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        raise RuntimeError(f'"grid_sampler_{dims}d_cpu" not implemented for \'{_type_name(input)}\'')
    N, C, *spatial = input.shape
    out_shape = grid.shape[1:-1]
    flat = input.reshape(N, C, -1)
    strides = [math.prod(spatial[a + 1:]) for a in range(dims)]
    # per spatial axis (D, H, W order; the grid lists x = W first): its taps, (pixel position, weight) pairs
    taps = []
    for a, n in enumerate(spatial):
        coord = _unnormalize(grid[..., dims - 1 - a], n, align_corners)
        if mode == "bicubic":  # (the padding moves each of the 4 taps, not the sampling point)
            low = coord.detach().floor()
            t = coord - low
            taps.append([(_pad_coords(low + k - 1, n, padding_mode, align_corners), w)
                         for k, w in enumerate(_cubic_weights(t))])
            continue
        coord = _pad_coords(coord, n, padding_mode, align_corners)
        if mode == "nearest":
            taps.append([(coord.detach().round(), None)])  # (round half to even, as nearbyint)
        else:
            low = coord.detach().floor()
            t = coord - low
            taps.append([(low, 1 - t), (low + 1, t)])
    out = None
    for corner in itertools.product(*taps):
        index, valid, weight = 0, None, None
        for (p, w), n, s in zip(corner, spatial, strides):
            if padding_mode == "zeros":  # a tap outside the image reads 0
                ok = (p >= 0).logical_and(p <= n - 1)
                valid = ok if valid is None else valid.logical_and(ok)
            index = index + p.clamp(0, n - 1).long() * s
            if w is not None:
                weight = w if weight is None else weight * w
        term = _gather_pixels(flat, index, valid, out_shape)
        if weight is not None:
            term = term * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _cubic_weights(t):
    """The 4 cubic convolution weights (A = -0.75) of the taps at -1, 0, 1, 2 for t in [0, 1)."""
    A = conv_ops._CUBIC_A
    s = 1 - t
    return [((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A, ((A + 2) * t - (A + 3)) * t * t + 1,
            ((A + 2) * s - (A + 3)) * s * s + 1, ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A]


def _linspace_from_neg_one(like, n, align_corners):
    """The n grid coordinates of an axis in [-1, 1]: pixel centres (align_corners=False) or corners."""
    if n <= 1:
        return zeros(1, dtype=like.dtype, device=like.device)
    steps = arange(n, dtype=like.dtype, device=like.device) * (2.0 / (n - 1)) - 1
    return steps if align_corners else steps * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, *size[2:], dims) of the affine maps theta (N, dims, dims + 1), for grid_sample."""
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown, size = size, list(size)
    if len(size) in (4, 5):
        dims = len(size) - 2
        if theta.ndim != 3 or theta.shape[-2] != dims or theta.shape[-1] != dims + 1:
            shape = "Nx2x3" if dims == 2 else "Nx3x4"
            raise ValueError(f"Expected a batch of {dims}D affine matrices of shape {shape} for size {shown}. Got "
                             f"torch.Size({list(theta.shape)}).")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {shown}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    # the base grid (*spatial, dims + 1): x (along W) first, then y, (z), then 1
    axes = [_linspace_from_neg_one(theta, n, align_corners) for n in spatial]
    columns = []
    for k in range(dims):
        a = dims - 1 - k  # the spatial axis of coordinate k
        shape = [1] * dims
        shape[a] = spatial[a]
        columns.append(axes[a].reshape(shape).expand(*spatial))
    columns.append(ones(*spatial, dtype=theta.dtype, device=theta.device))
    base = stack(columns, -1).reshape(1, -1, dims + 1)
    grid = base.matmul(theta.transpose(1, 2))  # (N, prod(spatial), dims)
    return grid.reshape(size[0], *spatial, dims)

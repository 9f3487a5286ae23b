"""Resampling, functional form (torch.nn.functional's signatures, defaults and errors): interpolate /
upsample, pixel_shuffle / pixel_unshuffle, grid_sample and affine_grid.

interpolate's modes are the separable rows of autograd_gpu/ops/conv_ops.py (one per aten op, so the nodes are
torch's); grid_sample and affine_grid are composites of differentiable ops.

>>> y = interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
"""
import math
import numbers
import warnings

from ..ops import conv_ops
from ..ops.core import apply
from ._conv import _type_name, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle"]

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
        raise NotImplementedError(f'"{_ROWS[mode, dims][0]}" not implemented for \'{_type_name(input)}\'')
    name, axis_mode = _ROWS[mode, dims]
    taps = tuple(conv_ops.interpolation_taps(axis_mode, n, o, align_corners, s, input._data.dtype)
                 for n, o, s in zip(spatial, out, scales or [None] * dims))
    adjoint = tuple(conv_ops.transpose_taps(t, n) for t, n in zip(taps, spatial))
    return apply(conv_ops.UPSAMPLE[name], input, taps=taps, adjoint=adjoint)


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

"""Convolution and pooling, functional form (torch.nn.functional's signatures and defaults).

These check their arguments as PyTorch does (same error types and messages) and call the
primitives in autograd_gpu/ops/conv_ops.py. 1-d convolution runs as 2-d with H == 1;
unbatched (C, H, W) inputs get a batch of one.

>>> y = conv2d(x, w, b, stride=1, padding="same")
"""
import math

import numpy as np

from .. import _dtype
from ..ops import conv_ops
from ..ops.core import apply, autocast_inputs

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
           "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "max_unpool1d",
           "max_unpool2d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "unfold", "fold"]


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _check_dtypes(input, weight, bias):
    if weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found {_type_name(weight)}")
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({_c_name(input)}) and bias type ({_c_name(bias)}) should be the same")


def _type_name(t):
    return _dtype.SCALAR_TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _c_name(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(t._data.dtype.name,
                                                                                 t._data.dtype.name)


def _batched(input, dims, name, what=None):
    """Add a batch dimension to an unbatched input; returns (input, was_unbatched)."""
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(what or f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, "
                           f"but got input of size: {list(input.shape)}")
    if input.ndim == dims + 1:
        return input.unsqueeze(0), True
    return input, False


def _conv_args(input, weight, bias, stride, padding, dilation, groups, dims, transposed=False):
    """Check a convolution's arguments; returns (stride, dilation, padding) as tuples, padding maybe a str."""
    if weight.ndim != dims + 2:
        raise RuntimeError(f"Expected {dims + 2}D weight for conv{dims}d, but got weight of size: "
                           f"{list(weight.shape)}")
    stride, dilation = _tuple(stride, dims, "stride"), _tuple(dilation, dims, "dilation")
    if not isinstance(padding, str):
        padding = _tuple(padding, dims, "padding")
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _check_dtypes(input, weight, bias)
    if not transposed and weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{list(weight.shape)}] instead")
    channels = input.shape[1]
    if transposed:
        if channels != weight.shape[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                               f"{list(input.shape)} to have {weight.shape[0]} channels, but got {channels} "
                               "channels instead")
        out_channels = weight.shape[1] * groups
    else:
        if channels != weight.shape[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                               f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got "
                               f"{channels} channels instead")
        out_channels = weight.shape[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{out_channels} elements, but got bias of size {list(bias.shape)} instead")
    return stride, dilation, padding


def _conv(input, weight, bias, stride, padding, dilation, groups, dims):
    input, weight, bias = autocast_inputs(conv_ops.CONV[dims], input, weight, bias)
    input, unbatched = _batched(input, dims, f"conv{dims}d")
    stride, dilation, padding = _conv_args(input, weight, bias, stride, padding, dilation, groups, dims)
    kernel = weight.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * dims
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # NOTE: an odd total padding puts the extra row/column after the image, as torch does
            pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for d, k in zip(dilation, kernel)]
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pads = [(p, p) for p in padding]
    spatial = input.shape[2:]
    padded = [n + a + b for n, (a, b) in zip(spatial, pads)]
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < s for p, s in zip(padded, span)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                           f"size: ({' x '.join(map(str, span))}). Kernel size can't be greater than actual input "
                           "size")
    out = [(p - s) // st + 1 for p, s, st in zip(padded, span, stride)]
    geo = conv_ops.geometry(input.shape, kernel, out, stride, [a for a, _ in pads], dilation)
    y = apply(conv_ops.CONV[dims], input, weight, bias, geo=geo, groups=groups)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation) over (N, C, L) or (C, L): ``conv1d(x, w, b, padding="same")``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) over (N, C, H, W) or (C, H, W).

    >>> conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).shape
    torch.Size([1, 1, 2, 2])
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution (cross-correlation) over (N, C, D, H, W) or (C, D, H, W)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


_AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, dims):
    name = f"conv_transpose{dims}d"
    input, weight, bias = autocast_inputs(conv_ops.CONV_TRANSPOSE[dims], input, weight, bias)
    input, unbatched = _batched(input, dims, name)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    stride, dilation, padding = _conv_args(input, weight, bias, stride, padding, dilation, groups, dims, True)
    output_padding = _tuple(output_padding, dims, "output_padding")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        # (torch runs 1-d as 2-d and names the axes of that)
        axes, values = _AXIS_NAMES[max(dims, 2)], [(0, 1, 1)] * (dims == 1) + list(zip(output_padding, stride,
                                                                                           dilation))
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got " + " ".join(
            f"{what}_{a}: {v[k]}" for k, what in enumerate(("output_padding", "stride", "dilation"))
            for a, v in zip(axes, values)))
    kernel = weight.shape[2:]
    out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1
           for n, s, p, d, k, op in zip(input.shape[2:], stride, padding, dilation, kernel, output_padding)]
    shown = [1] * (dims == 1) + out  # (torch checks 1-d as 2-d with height 1: an empty output is allowed)
    if any(o < 0 for o in shown) or all(o == 0 for o in shown):
        given = [1] * (dims == 1) + list(input.shape[2:])
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, given))}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, shown))}). Output size is too small")
    image = (input.shape[0], weight.shape[1] * groups, *out)
    geo = conv_ops.geometry(image, kernel, input.shape[2:], stride, padding, dilation)
    y = apply(conv_ops.CONV_TRANSPOSE[dims], input, weight, bias, geo=geo, groups=groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution (the gradient of conv1d w.r.t. its input); weight is (C_in, C_out/groups, k)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution (the gradient of conv2d w.r.t. its input); weight is (C_in, C_out/groups, kH, kW).

    >>> conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), stride=2).shape
    torch.Size([1, 1, 4, 4])
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-d transposed convolution; weight is (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


# ---- pooling ------------------------------------------------------------------------------------

def _pool_out(size, k, s, p, d, ceil_mode):
    """pooling_output_shape from ATen: the last window must start inside the image or its left padding."""
    n = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = n // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


_COUNT = {1: "one int", 2: "two ints", 3: "three ints"}


def _pool_tuple(value, name, fn, dims=2):
    value = (value,) * dims if isinstance(value, int) else tuple(value)
    if len(value) == 1:
        value = value * dims
    if len(value) != dims:
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {_COUNT[dims]}")
    return value


def _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, name, dims=2):
    """Check a 2-d or 3-d pooling's arguments as ATen does; returns (batched input, geometry)."""
    if input.ndim not in (dims + 1, dims + 2) or any(n == 0 for n in input.shape[-dims - 1:]):
        raise RuntimeError(f"non-empty {dims + 1}D or {dims + 2}D (batch mode) tensor expected for input")
    kernel = _pool_tuple(kernel_size, "kernel_size", name, dims)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _pool_tuple(stride, "stride", name, dims)
    padding = _pool_tuple(padding, "padding", name, dims)
    dilation = _pool_tuple(dilation, "dilation", name, dims)
    axes = ("T", "H", "W")[-dims:]
    for what, short, v in (("kernel size", "k", kernel), ("stride", "d", stride), ("dilation", "dilation", dilation)):
        if any(x <= 0 for x in v):
            raise RuntimeError(f"{what} should be greater than zero, but got "
                               + " ".join(f"{short}{a}: {x}" for a, x in zip(axes, v)))
    for k, p, d in zip(kernel, padding, dilation):
        if p < 0 or p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    batched = input if input.ndim == dims + 2 else input.unsqueeze(0)
    C, *size = batched.shape[1:]
    out = [_pool_out(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)]
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (C, *size)))}). Calculated output size: "
                           f"({'x'.join(map(str, (C, *out)))}). Output size is too small")
    return batched, conv_ops.geometry(batched.shape, kernel, out, stride, padding, dilation)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims):
    _, geo = _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, f"max_pool{dims}d", dims)
    values, indices = apply(conv_ops.MAX_POOL[dims], input, geo=geo)  # (an unbatched input as it is, as in torch)
    return (values, indices) if return_indices else values


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling; with ``return_indices`` also the flat h * W + w index of each maximum.

    >>> max_pool2d(torch.arange(16.).view(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W); indices are flat in d * H * W + h * W + w."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def _one(value, name, fn):
    """A 1-d pooling argument: an int or a sequence of one."""
    if isinstance(value, int):
        return value
    value = tuple(value)
    if len(value) != 1:
        raise RuntimeError(f"{fn}() {name} must be an int, list of ints or tuple of ints of size 1 but got size "
                           f"{len(value)}")
    return value[0]


def _pool1d_args(input, kernel_size, stride, padding, name, what):
    if input.ndim not in (2, 3):
        raise RuntimeError(what)
    k = _one(kernel_size, "kernel_size", name)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _one(stride, "stride", name)
    return k, s, _one(padding, "padding", name)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling over (N, C, L) or (C, L): 2-d pooling of height 1, as torch runs it (SqueezeBackward1)."""
    k, s, p = _pool1d_args(input, kernel_size, stride, padding, "max_pool1d",
                           "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{list(input.shape)}")
    y = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, _one(dilation, "dilation", "max_pool1d")),
                   ceil_mode, return_indices)
    return (y[0].squeeze(-2), y[1].squeeze(-2)) if return_indices else y.squeeze(-2)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, dims):
    name = f"avg_pool{dims}d"
    _, geo = _pool_geometry(input, kernel_size, stride, padding, 1, ceil_mode, name, dims)
    if not input.is_floating_point():
        raise _dtype.not_implemented(name, input.dtype)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return apply(conv_ops.AVG_POOL[dims], input, geo=geo, count_include_pad=bool(count_include_pad),
                 divisor_override=divisor_override)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling: each window's sum over its size (the padding counts when ``count_include_pad``),
    or over ``divisor_override``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling over (N, C, L) or (C, L): 2-d pooling of height 1, as torch runs it."""
    k, s, p = _pool1d_args(input, kernel_size, stride, padding, "avg_pool1d",
                           f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for avg_pool1d)")
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


def _adaptive_size(input, output_size, dims, name):
    """The checks of adaptive pooling (2-d or 3-d); returns the output size, None entries filled in."""
    if input.ndim not in (dims + 1, dims + 2):
        sep = ": " if "max" in name else " "
        raise RuntimeError(f"{name}(): Expected {dims + 1}D or {dims + 2}D tensor, but got{sep}{list(input.shape)}")
    size = (output_size,) * dims if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if len(size) != dims:
        raise RuntimeError(f"{name}: output_size must be {dims}")
    size = [input.shape[-dims + k] if s is None else s for k, s in enumerate(size)]
    if any(s < 0 for s in size):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(map(str, size))}}}")
    for k, n in enumerate(input.shape[-dims - 1:]):
        if n == 0 and (k or input.ndim == dims + 1):
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {input.ndim - dims - 1 + k} being empty")
    if not input.is_floating_point():
        raise _dtype.not_implemented(name, input.dtype)
    return size


def _adaptive_avg(input, output_size, dims):
    name = f"adaptive_avg_pool{dims}d"
    size = _adaptive_size(input, output_size, dims, name)
    spatial = input.shape[-dims:]
    taps = tuple(conv_ops.adaptive_avg_taps(n, o) for n, o in zip(spatial, size))
    adjoint = tuple(conv_ops.transpose_taps(t, n) for t, n in zip(taps, spatial))
    return apply(conv_ops.RESAMPLE[name], input, taps=taps, adjoint=adjoint)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that input size); windows may overlap."""
    return _adaptive_avg(input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    """3-d average pooling to a fixed output size (None keeps that input size)."""
    return _adaptive_avg(input, output_size, 3)


def _adaptive1d_size(input, output_size, name):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for {name})")
    if not isinstance(output_size, int):
        if len(output_size) != 1:
            raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got {len(output_size)})")
        (output_size,) = output_size
    return output_size


def adaptive_avg_pool1d(input, output_size):
    """1-d average pooling to a fixed output size: the 2-d one of height 1, as torch runs it."""
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _adaptive1d_size(input, output_size,
                                                                         "adaptive_avg_pool1d"))).squeeze(-2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (None keeps that input size); with ``return_indices`` also the flat
    h * W + w index of each maximum."""
    size = _adaptive_size(input, output_size, 2, "adaptive_max_pool2d")
    values, indices = apply(conv_ops.ADAPTIVE_MAX_POOL2D, input, out=tuple(size))
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-d max pooling to a fixed output size: the 2-d one of height 1, as torch runs it."""
    size = _adaptive1d_size(input, output_size, "adaptive_max_pool1d")
    if input.shape[-1] == 0:
        raise RuntimeError(f"adaptive_max_pool1d(): Expected input to have non-zero size for non-batch dimensions, "
                           f"but input has sizes {list(input.shape)} with dimension {input.ndim - 1} being empty")
    values, indices = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), True)
    return (values.squeeze(-2), indices.squeeze(-2)) if return_indices else values.squeeze(-2)


# ---- unfold / fold ------------------------------------------------------------------------------

def _blocks(spatial, kernel, dilation, padding, stride):
    return [(n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, k, d, p, s in zip(spatial, kernel, dilation, padding, stride)]


def _fold_args(kernel_size, dilation, padding, stride, name):
    kernel, dilation = _pool_tuple(kernel_size, "kernel_size", name), _pool_tuple(dilation, "dilation", name)
    padding, stride = _pool_tuple(padding, "padding", name), _pool_tuple(stride, "stride", name)
    for what, v, low in (("kernel size", kernel, 1), ("stride", stride, 1), ("dilation", dilation, 1),
                         ("padding", padding, 0)):
        if any(x < low for x in v):
            raise RuntimeError(f"{'' if low else 'non-negative '}{what} should be "
                               f"{'greater than zero' if low else 'zero or positive'}, but got "
                               f"{what.split()[0]}_height: {v[0]} {what.split()[0]}_width: {v[1]}")
    return kernel, dilation, padding, stride


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks (im2col): (N, C, H, W) -> (N, C * kH * kW, L), channel-major in each column."""
    if input.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, {input.ndim - 1}], "
                         f"but got 2)")
    if input.ndim > 4:
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)")
    kernel, dilation, padding, stride = _fold_args(kernel_size, dilation, padding, stride, "unfold")
    batched = input if input.ndim == 4 else input.unsqueeze(0)
    out = _blocks(batched.shape[2:], kernel, dilation, padding, stride)
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"Given input with spatial size {tuple(batched.shape[2:])}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, calculated shape of the array of sliding blocks as {tuple(out)}, but its "
            "components must be at least one.")
    geo = conv_ops.geometry(batched.shape, kernel, out, stride, padding, dilation)
    y = apply(conv_ops.IM2COL, batched, geo=geo)
    return y.squeeze(0) if input.ndim == 3 else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image (col2im, the adjoint of unfold): (N, C * kH * kW, L) -> (N, C, H, W)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                           f"(got {input.ndim}D)")
    output_size = _pool_tuple(output_size, "output_size", "fold")
    kernel, dilation, padding, stride = _fold_args(kernel_size, dilation, padding, stride, "fold")
    batched = input if input.ndim == 3 else input.unsqueeze(0)
    N, rows, L = batched.shape
    kk = kernel[0] * kernel[1]
    if rows % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                           f"but got input.size(1)={rows} and kernel_size={kernel}.")
    out = _blocks(output_size, kernel, dilation, padding, stride)
    if any(o < 1 for o in out) or math.prod(out) != L:
        raise RuntimeError(
            f"Given output_size={output_size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {out[0]} * {out[1]} = {math.prod(out)}, but got input.size(2)={L}.")
    geo = conv_ops.geometry((N, rows // kk, *output_size), kernel, out, stride, padding, dilation)
    y = apply(conv_ops.COL2IM, batched, geo=geo)
    return y.squeeze(0) if input.ndim == 2 else y


# ---- max unpooling, Lp pooling --------------------------------------------------------------------------

def _unpool_output_size(input, kernel, stride, padding, output_size):
    """torch's _unpool_output_size: (in - 1) * stride + kernel - 2 * padding, or output_size within a stride of it."""
    n = len(kernel)
    default = [(input.shape[-n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)
        if len(size) == n + 2:
            size = size[2:]
        if len(size) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a "
                             f"length of '{len(size)}'")
        for d in range(n):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    for d, s in enumerate(size):
        if s < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={s}")
    return size


def _max_unpool(input, indices, size, name):
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                           f"{input.ndim} dimensions.")
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_type_name(indices)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    if not input.is_floating_point():
        raise _dtype.not_implemented(name, input.dtype)
    return apply(conv_ops.MAX_UNPOOL2D, input, indices, size=tuple(size))


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: each value back at the pixel its index names, zeros elsewhere."""
    kernel = _pool_tuple(kernel_size, "kernel_size", "max_unpool2d")
    stride = kernel if stride is None else _pool_tuple(stride, "stride", "max_unpool2d")
    size = _unpool_output_size(input, kernel, stride, _pool_tuple(padding, "padding", "max_unpool2d"), output_size)
    return _max_unpool(input, indices, size, "max_unpool2d")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: 2-d unpooling of width 1, as torch runs it."""
    kernel = (_one(kernel_size, "kernel_size", "max_unpool1d"),)
    stride = kernel if stride is None else (_one(stride, "stride", "max_unpool1d"),)
    size = _unpool_output_size(input, kernel, stride, (_one(padding, "padding", "max_unpool1d"),), output_size)
    return _max_unpool(input.unsqueeze(-1), indices.unsqueeze(-1), size + [1], "max_unpool2d").squeeze(-1)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, dims):
    max_pool, avg_pool = (None, (max_pool1d, avg_pool1d), (max_pool2d, avg_pool2d), (max_pool3d, avg_pool3d))[dims]
    if norm_type == float("inf"):
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    count = _one(kernel_size, "kernel_size", "lp_pool1d") if dims == 1 else \
        math.prod(_pool_tuple(kernel_size, "kernel_size", f"lp_pool{dims}d", dims))
    # torch's formula, so the graph and the values at 0 are its own
    return (out.sign() * out.abs().relu()).mul(count).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over each window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-d power-average pooling: (sum over each window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-d power-average pooling: (sum over each window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)

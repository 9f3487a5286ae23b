"""Image primitives over (N, C, *spatial) images with 1, 2 or 3 spatial dims: convolution, pooling (max,
average, adaptive max, unpooling), interpolation and pixel shuffle.

A convolution is im2col (a strided view of the padded input, copied once into a
(C*prod(kernel), N*prod(out)) matrix per group) and one matrix product per group: BLAS on the CPU,
cuBLAS through CuPy on the GPU. Its three linear maps are each other's derivatives:

    conv(x, w)              d/dx: conv_transpose(g, w)   d/dw: conv_weight(x, g)
    conv_transpose(x, w)    d/dx: conv(g, w)             d/dw: conv_weight(g, x)
    conv_weight(x, g)       d/dx: conv_transpose(g, gg)  d/dg: conv(x, gg)

so derivatives of any order work. The scatters (col2im, the max-pool backward) are CUDA
kernels in kernels/conv.cu over 2-d images, their numpy reference formulas below; a 1-d image
is a 2-d one with H == 1, and 3-d col2im is the 2-d one twice (windows are separable).

Every op takes the window geometry as `geo` (see `geometry`): N, C, and per spatial axis size (the
image), kernel, out (the grid of windows), stride, padding (before the image; the padding after it
is whatever the out windows need) and dilation. `_plane(geo)` is the dict the 2-d kernels take. The
public functions in autograd_gpu/nn/_conv.py check arguments and build it.
"""
import math

import numpy as np

from .. import _dtype, _kernels
from .core import apply, defop
from .indexing import add_at, gather


def geometry(image, kernel, out, stride, padding, dilation):
    """The window geometry of an image shape (N, C, *spatial); the rest are per-axis tuples."""
    N, C, *size = image
    return dict(N=N, C=C, size=tuple(size), kernel=tuple(kernel), out=tuple(out), stride=tuple(stride),
                padding=tuple(padding), dilation=tuple(dilation))


def _plane(geo):
    """The sizes dict of the 2-d kernels of kernels/conv.cu for a 1-d or 2-d geometry (1-d: H == 1)."""
    def two(key, fill):
        return (fill,) * (2 - len(geo[key])) + geo[key]

    (H, W), (KH, KW), (OH, OW) = two("size", 1), two("kernel", 1), two("out", 1)
    (SH, SW), (PH, PW), (DH, DW) = two("stride", 1), two("padding", 0), two("dilation", 1)
    return dict(N=geo["N"], C=geo["C"], H=H, W=W, KH=KH, KW=KW, OH=OH, OW=OW, SH=SH, SW=SW, PH=PH, PW=PW,
                DH=DH, DW=DW)


def _axes(geo):
    """Per spatial axis: (size, kernel, out, stride, padding, dilation)."""
    return list(zip(geo["size"], geo["kernel"], geo["out"], geo["stride"], geo["padding"], geo["dilation"]))


def _unbatched_too(fn):
    """fn over (N, C, *size) arrays, also run on unbatched (C, *size) ones, which torch's pooling ops take as
    they are (the node is the pooling's, not a squeeze)."""
    def run(xp, x, *arrays, geo, **params):
        if x.ndim == len(geo["size"]) + 2:
            return fn(xp, x, *arrays, geo=geo, **params)
        out = fn(xp, x[None], *(a[None] for a in arrays), geo=geo, **params)
        return tuple(o[0] for o in out) if isinstance(out, tuple) else out[0]
    return run


def _grid(xp, geo, axis, offset=0):
    """The pixel index along `axis` at window offset `offset` for every window, shaped to broadcast over out."""
    n, k, o, s, p, d = _axes(geo)[axis]
    shape = [1] * len(geo["out"])
    shape[axis] = o
    return (xp.arange(o) * s - p + offset * d).reshape(shape)


# ---- the scatter kernels of kernels/conv.cu and their reference formulas ----------------------------
# Window (oh, ow) reads pixel (oh * SH - PH + ki * DH, ow * SW - PW + kj * DW).
def _image_shape(N, C, H, W, **_):
    return (N, C, H, W)


def _window_offsets(xp, dtype, N, C, H, W, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, **_):
    """A zero image padded to hold every window, and for each offset (ki, kj) the strided view
    of it that window offset (ki, kj) covers, as (ki, kj, view): adding into the views
    scatters window values back onto the image; `_crop` then drops the padding."""
    hp = max(PH + H, (OH - 1) * SH + (KH - 1) * DH + 1)
    wp = max(PW + W, (OW - 1) * SW + (KW - 1) * DW + 1)
    img = xp.zeros((N, C, hp, wp), dtype)
    views = [(i, j, img[:, :, i * DH:i * DH + (OH - 1) * SH + 1:SH, j * DW:j * DW + (OW - 1) * SW + 1:SW])
             for i in range(KH) for j in range(KW)]
    return img, views


def _crop(xp, img, H, W, PH, PW, **_):
    if img.shape[2:] == (H, W):
        return img
    return xp.ascontiguousarray(img[:, :, PH:PH + H, PW:PW + W])


def _col2im_ref(xp, cols, **geo):
    # NOTE: one strided add per window offset (KH*KW numpy calls, not one per pixel); each pixel
    # sums its windows in (ki, kj) order, like the kernel, so both round identically.
    img, views = _window_offsets(xp, cols.dtype, **geo)
    if geo["OH"] and geo["OW"]:
        for i, j, v in views:
            v += cols[:, i, j].transpose(1, 0, 2, 3)  # cols is (C, KH, KW, N, OH, OW)
    return (_crop(xp, img, **geo),)


def _max_pool2d_bwd_ref(xp, g, idx, **geo):
    N, C, H, W = geo["N"], geo["C"], geo["H"], geo["W"]
    if geo["SH"] > (geo["KH"] - 1) * geo["DH"] and geo["SW"] > (geo["KW"] - 1) * geo["DW"]:
        # NOTE: windows that do not overlap (MaxPool2d(2)) give each pixel at most one gradient: one scatter
        # of g to the winners' flat positions (~7x faster than a masked add per window offset)
        img = xp.zeros(N * C * H * W, g.dtype)
        base = xp.arange(0, N * C * H * W, H * W, dtype=np.int64).reshape(N, C, 1, 1)
        img[(idx + base).ravel()] = g.ravel()
        return (img.reshape(N, C, H, W),)
    img, views = _window_offsets(xp, g.dtype, **geo)
    if geo["OH"] and geo["OW"]:
        rows = xp.arange(geo["OH"])[:, None] * geo["SH"] - geo["PH"]
        cols = xp.arange(geo["OW"]) * geo["SW"] - geo["PW"]
        for i, j, v in views:
            # the flat index of the pixel at this window offset (garbage in the padding,
            # which _crop drops; idx never points there)
            here = (rows + i * geo["DH"]) * geo["W"] + (cols + j * geo["DW"])
            v += _kernels.select(idx == here, g)
    return (_crop(xp, img, **geo),)


_COL2IM = _kernels.kernel("col2im", _col2im_ref, out_shape=_image_shape)
_MAX_POOL2D_BWD = _kernels.kernel("max_pool2d_bwd", _max_pool2d_bwd_ref, out_shape=_image_shape)


def col2im(cols, geo):
    """The adjoint of im2col: sum the window values ``cols`` (C, *kernel, N, *out) back onto the image
    (N, C, *size)."""
    N, C, size = geo["N"], geo["C"], geo["size"]
    if len(size) <= 2:
        p = _plane(geo)
        cols = cols.reshape(C, p["KH"], p["KW"], N, p["OH"], p["OW"])
        return _COL2IM(cols, sizes=p)[0].reshape((N, C) + size)
    # 3-d: the windows are a product of per-axis windows, so col2im is the (H, W) one, with (C, KD) as the
    # channels and (N, OD) as the samples, then the D one, with the H * W pixels as a second axis of kernel 1
    (D, H, W), (KD, KH, KW), (OD, OH, OW) = size, geo["kernel"], geo["out"]
    (SD, *shw), (PD, *phw), (DD, *dhw) = geo["stride"], geo["padding"], geo["dilation"]
    hw = col2im(cols.reshape(C * KD, KH, KW, N * OD, OH, OW),
                geometry((N * OD, C * KD, H, W), (KH, KW), (OH, OW), shw, phw, dhw))
    hw = hw.reshape(N, OD, C, KD, H * W).transpose(2, 3, 0, 1, 4)  # (C, KD, N, OD, H * W)
    d = col2im(hw.reshape(C, KD, 1, N, OD, H * W), geometry((N, C, D, H * W), (KD, 1), (OD, H * W), (SD, 1),
                                                           (PD, 0), (DD, 1)))
    return d.reshape(N, C, D, H, W)


def _scatter_planes(xp, g, idx, size):
    """Each g (*planes, *out) added to the pixel of its plane (*planes, *size) that ``idx`` (flat in the plane)
    names, repeated pixels summing."""
    planes = idx.shape[:idx.ndim - len(size)]
    plane = math.prod(size)
    count = math.prod(planes)
    out = xp.zeros(count * plane, g.dtype)
    base = xp.arange(0, count * plane, plane, dtype=np.int64).reshape(planes + (1,) * len(size))
    add_at(xp, out, (idx + base).ravel(), g.ravel())
    return out.reshape(planes + tuple(size))


@_unbatched_too
def max_pool_bwd(xp, g, indices, geo):
    """Gradient of max pooling: each window's g goes to the pixel ``indices`` (N, C, *out, flat in the
    plane) names; pixels that are the maximum of several windows sum them."""
    if len(geo["size"]) <= 2:
        return _MAX_POOL2D_BWD(g, indices, sizes=_plane(geo))[0].reshape(g.shape[:2] + geo["size"])
    return _scatter_planes(xp, g, indices, geo["size"])


def _as_strided(xp, x, shape, strides):
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def windows(xp, x, geo, fill=0):
    """Every window of x (N, C, *size) as a strided view (N, C, *kernel, *out); padding reads `fill`."""
    axes = _axes(geo)
    ends = [max(0, (o - 1) * s + (k - 1) * d + 1 - p - n) for n, k, o, s, p, d in axes]
    if any(geo["padding"]) or any(ends):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple(zip(geo["padding"], ends)), constant_values=fill)
    sn, sc, *ss = x.strides
    return _as_strided(xp, x, x.shape[:2] + geo["kernel"] + geo["out"],
                       (sn, sc, *(s * a[5] for s, a in zip(ss, axes)), *(s * a[3] for s, a in zip(ss, axes))))


def _im2col(xp, x, geo, groups):
    """(G, C/G * prod(kernel), N * prod(out)): channel-major, so the product with the weight is one GEMM."""
    N, C = x.shape[:2]
    n = len(geo["size"])
    cols = xp.ascontiguousarray(windows(xp, x, geo).transpose(1, *range(2, 2 + n), 0, *range(2 + n, 2 + 2 * n)))
    return cols.reshape(groups, C // groups * math.prod(geo["kernel"]), N * math.prod(geo["out"]))


def _channels_first(xp, y, groups):
    """(N, C, *spatial) -> (G, C/G, N * prod(spatial))."""
    N, C = y.shape[:2]
    return xp.ascontiguousarray(xp.swapaxes(y, 0, 1)).reshape(groups, C // groups, N * math.prod(y.shape[2:]))


# NOTE: the im2col matrix of a 3x3 convolution is 9x its image; built for the whole batch at once it was the
# step's largest allocation (a CNN step peaked at 1.6x PyTorch's memory). Each op below builds it for a chunk of
# samples at a time, at most the size of the image (or _COLS_MIN_BYTES), so the extra memory stays about one
# image, and the matrix products stay large enough for BLAS / cuBLAS.
_COLS_MIN_BYTES = 2 * 2 ** 20


def _chunks(geo, itemsize):
    """Sample ranges (start, stop) whose im2col matrices (C*prod(kernel), n*prod(out)) fit the budget (>= 1)."""
    g = geo
    per_sample = g["C"] * math.prod(g["kernel"]) * math.prod(g["out"]) * itemsize
    budget = max(_COLS_MIN_BYTES, g["N"] * g["C"] * math.prod(g["size"]) * itemsize)
    step = max(1, budget // max(per_sample, 1))
    return [(n, min(n + step, g["N"])) for n in range(0, g["N"], step)] or [(0, 0)]


def _per_channel(b, n):
    """A bias (C,) shaped to broadcast over (N, C, *spatial) with n spatial dims."""
    return b.reshape((1, -1) + (1,) * n)


def _conv_fwd(xp, x, w, b, geo, groups):
    O = w.shape[0]
    out = geo["out"]
    wg = w.reshape(groups, O // groups, -1)
    y_all = xp.empty((x.shape[0], O) + out, xp.result_type(x.dtype, w.dtype))
    for n0, n1 in _chunks(geo, x.itemsize):
        y = xp.swapaxes(xp.matmul(wg, _im2col(xp, x[n0:n1], geo, groups)).reshape((O, n1 - n0) + out), 0, 1)
        if b is None:
            y_all[n0:n1] = y
        else:  # the bias rides along with the copy back to (N, C, *out)
            xp.add(y, _per_channel(b, len(out)), out=y_all[n0:n1])
    return y_all


def _conv_transpose_fwd(xp, x, w, b, geo, groups):
    N = x.shape[0]
    cout = w.shape[1] * groups
    kernel = geo["kernel"]
    wg = w.reshape(groups, w.shape[0] // groups, w.shape[1] * math.prod(kernel)).transpose(0, 2, 1)
    chunks = _chunks(geo, x.itemsize)
    img = None
    for n0, n1 in chunks:
        # NOTE: astype: ml_dtypes' matmul of two bfloat16 arrays is float32 (and this row keeps its dtype)
        cols = xp.matmul(wg, _channels_first(xp, x[n0:n1], groups)).astype(x.dtype, copy=False)
        part = col2im(cols.reshape((cout,) + kernel + (n1 - n0,) + x.shape[2:]), dict(geo, N=n1 - n0))
        if len(chunks) == 1:
            img = part
        else:
            if img is None:
                img = xp.empty((N,) + part.shape[1:], part.dtype)
            img[n0:n1] = part
    if b is not None:
        img += _per_channel(b, len(kernel))
    return img


def _conv_weight_fwd(xp, x, gy, geo, groups):
    gw = None
    for n0, n1 in _chunks(geo, x.itemsize):
        part = xp.matmul(_im2col(xp, x[n0:n1], geo, groups),
                         _channels_first(xp, gy[n0:n1], groups).transpose(0, 2, 1))
        gw = part if gw is None else gw.__iadd__(part)
    return xp.ascontiguousarray(gw.transpose(0, 2, 1)).reshape((gy.shape[1], x.shape[1] // groups) + geo["kernel"])


def _bias_grad(g):
    return g.sum((0, *range(2, g.ndim)))


def _conv_bwd(ctx, g):
    x, w = ctx.saved
    geo, groups = ctx.params["geo"], ctx.params["groups"]
    need_x, need_w, need_b = ctx.needs_input_grad
    gx = apply(CONV_TRANSPOSE[len(geo["size"])], g, w, None, geo=geo, groups=groups) if need_x else None
    gw = apply(CONV_WEIGHT, x, g, geo=geo, groups=groups) if need_w else None
    return gx, gw, _bias_grad(g) if need_b else None


def _conv_transpose_bwd(ctx, g):
    x, w = ctx.saved
    geo, groups = ctx.params["geo"], ctx.params["groups"]  # geo: the output image's windows over x's grid
    need_x, need_w, need_b = ctx.needs_input_grad
    gx = apply(CONV[len(geo["size"])], g, w, None, geo=geo, groups=groups) if need_x else None
    gw = apply(CONV_WEIGHT, g, x, geo=geo, groups=groups) if need_w else None
    return gx, gw, _bias_grad(g) if need_b else None


def _conv_weight_bwd(ctx, gg):
    x, gy = ctx.saved
    geo, groups = ctx.params["geo"], ctx.params["groups"]
    need_x, need_gy = ctx.needs_input_grad
    n = len(geo["size"])
    gx = apply(CONV_TRANSPOSE[n], gy, gg, None, geo=geo, groups=groups) if need_x else None
    ggy = apply(CONV[n], x, gg, None, geo=geo, groups=groups) if need_gy else None
    return gx, ggy


# `geo` of all three is the convolution's: its input image and its grid of windows. One row per number of
# spatial dims, as torch.nn.functional has conv1d, conv2d and conv3d (all record ConvolutionBackward0).
CONV = {n: defop(f"conv{n}d", _conv_fwd, _conv_bwd, save=(0, 1), node="ConvolutionBackward0", group="conv",
                 dtype="keep") for n in (1, 2, 3)}
CONV_TRANSPOSE = {n: defop(f"conv_transpose{n}d", _conv_transpose_fwd, _conv_transpose_bwd, save=(0, 1),
                           node="ConvolutionBackward0", group="conv", kernel="col2im", dtype="keep")
                  for n in (1, 2, 3)}
CONV_WEIGHT = defop("conv_weight", _conv_weight_fwd, _conv_weight_bwd, save=(0, 1),
                    node="ConvolutionBackwardBackward0", group="conv", dtype="keep", public=False)


# ---- unfold / fold ------------------------------------------------------------------------------

def _im2col_fwd(xp, x, geo):
    N, C = x.shape[:2]
    return xp.ascontiguousarray(windows(xp, x, geo)).reshape(N, C * math.prod(geo["kernel"]), math.prod(geo["out"]))


def _col2im_fwd(xp, cols, geo):
    n = len(geo["size"])
    cols = cols.reshape((geo["N"], geo["C"]) + geo["kernel"] + geo["out"])
    return col2im(cols.transpose(1, *range(2, 2 + n), 0, *range(2 + n, 2 + 2 * n)), geo)


IM2COL = defop("im2col", _im2col_fwd, lambda ctx, g: apply(COL2IM, g, geo=ctx.params["geo"]),
               node="Im2ColBackward0", group="conv", dtype="keep")
COL2IM = defop("col2im", _col2im_fwd, lambda ctx, g: apply(IM2COL, g, geo=ctx.params["geo"]),
               node="Col2ImBackward0", group="conv", kernel="col2im", dtype="keep")


# ---- max pooling --------------------------------------------------------------------------------

@_unbatched_too
def _max_pool_fwd(xp, x, geo):
    size, kernel = geo["size"], geo["kernel"]
    n = len(size)
    floating = _dtype.is_floating(x.dtype)
    fill = -np.inf if floating else np.iinfo(x.dtype).min
    win = windows(xp, x, geo, fill)
    plane = [math.prod(size[a + 1:]) for a in range(n)]  # flat-index units of each axis
    first = [_grid(xp, geo, a) for a in range(n)]
    # do some windows reach into the padding? Then a window's first real pixel starts it.
    masked = any(p or (o - 1) * s + (k - 1) * d >= m for m, k, o, s, p, d in _axes(geo))
    # NOTE: branch-free selection (np.where with a random mask is ~10x slower): the running maximum is
    # np.maximum (which propagates NaN, as torch's max pool does), and the winner's offset from its
    # window's first pixel, in flat units, is blended in with integer arithmetic.
    best = win[(slice(None),) * 2 + (0,) * n].copy()  # the padding holds `fill`, so it never raises the maximum
    k = xp.zeros(best.shape, np.int32 if math.prod(size) < 2 ** 31 else np.int64)

    def inside(coords):
        ok = True
        for c, m in zip(coords, size):
            ok = ok & (c >= 0) & (c < m)
        return ok

    seen = inside(first)  # windows whose offset 0 is real
    for o in range(1, math.prod(kernel)):
        offs = np.unravel_index(o, kernel)
        v = win[(slice(None),) * 2 + tuple(int(i) for i in offs)]
        take = v > best  # ties keep the first maximum
        if floating:
            take |= xp.isnan(v)  # a NaN wins, and a later NaN replaces it, as in torch
        if masked:
            valid = inside([_grid(xp, geo, a, int(offs[a])) for a in range(n)])
            take = (take | ~seen) & valid
            seen = seen | valid
        k += take * (sum(int(i) * d * u for i, d, u in zip(offs, geo["dilation"], plane)) - k)
        xp.maximum(best, v, out=best)
    return best, sum(f * u for f, u in zip(first, plane)) + k


def _max_pool_bwd(ctx, grads):
    (idx,) = ctx.saved
    geo = ctx.params["geo"]
    return apply(MAX_POOL_BACKWARD[len(geo["size"])], grads[0], idx, geo=geo), None


def _gather_planes(gg, idx, dims):
    """The double backward of a scatter by plane index: each window reads gg at its pixel (dims: spatial dims)."""
    lead = idx.shape[:idx.ndim - dims]
    return gather(gg.reshape(*lead, -1), len(lead), idx.reshape(*lead, -1)).reshape(idx.shape)


def _max_pool_backward_bwd(ctx, gg):
    return _gather_planes(gg, ctx.saved[0], len(ctx.params["geo"]["size"])), None


MAX_POOL = {n: defop(f"max_pool{n}d", _max_pool_fwd, _max_pool_bwd, save=("out1",),
                     node=f"MaxPool{n}DWithIndicesBackward0", group="conv",
                     kernel="max_pool2d_bwd" if n == 2 else None, dtype="keep", nout=2) for n in (2, 3)}
MAX_POOL_BACKWARD = {n: defop(f"max_pool{n}d_backward", max_pool_bwd, _max_pool_backward_bwd, save=(1,),
                              node=f"MaxPool{n}DWithIndicesBackwardBackward0", group="conv",
                              kernel="max_pool2d_bwd" if n == 2 else None, dtype="keep", public=False)
                     for n in (2, 3)}


# ---- average pooling ----------------------------------------------------------------------------

def _avg_divisor(xp, geo, count_include_pad, divisor_override, dtype):
    """What each window's sum is divided by, as torch's avg_pool2d/3d compute it: shaped like out."""
    if divisor_override:
        return dtype.type(divisor_override)
    div = np.ones((), np.int64)
    for m, k, o, s, p, _ in _axes(geo):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, m + p)
        extent = end - start if count_include_pad else np.minimum(end, m) - np.maximum(start, 0)
        div = np.multiply.outer(div, extent)
    return xp.asarray(div.astype(dtype))


@_unbatched_too
def _avg_pool_fwd(xp, x, geo, count_include_pad, divisor_override):
    win = windows(xp, x, geo)
    n = len(geo["size"])
    total = win[(slice(None),) * 2 + (0,) * n].copy()
    for o in range(1, math.prod(geo["kernel"])):
        total += win[(slice(None),) * 2 + tuple(int(i) for i in np.unravel_index(o, geo["kernel"]))]
    return total / _avg_divisor(xp, geo, count_include_pad, divisor_override, x.dtype)


@_unbatched_too
def _avg_pool_backward_fwd(xp, g, geo, count_include_pad, divisor_override):
    share = xp.swapaxes(g / _avg_divisor(xp, geo, count_include_pad, divisor_override, g.dtype), 0, 1)
    n = len(geo["size"])
    cols = xp.broadcast_to(share[(slice(None),) + (None,) * n], share.shape[:1] + geo["kernel"] + share.shape[1:])
    return col2im(cols, geo)


AVG_POOL = {n: defop(f"avg_pool{n}d", _avg_pool_fwd,
                     lambda ctx, g: apply(AVG_POOL_BACKWARD[len(ctx.params["geo"]["size"])], g, **ctx.params),
                     node=f"AvgPool{n}DBackward0", group="conv", dtype="keep") for n in (2, 3)}
AVG_POOL_BACKWARD = {n: defop(f"avg_pool{n}d_backward", _avg_pool_backward_fwd,
                              lambda ctx, gg: apply(AVG_POOL[len(ctx.params["geo"]["size"])], gg, **ctx.params),
                              node=f"AvgPool{n}DBackwardBackward0", group="conv", kernel="col2im", dtype="keep",
                              public=False) for n in (2, 3)}


# ---- interpolation: interpolate's modes, one spatial axis at a time -----------------------------------
# Every mode is separable: along each axis, output i is sum_t weight[i, t] * input[index[i, t]] over a few
# taps (nearest 1, linear 2, cubic 4), the `taps` of `interpolation_taps`. Their adjoint (the backward) has
# the same form, with the taps transposed: input j gathers the outputs that read it. So one forward serves
# both directions, and each direction's derivative is the other one.
_CUBIC_A = -0.75  # torch's (and OpenCV's) bicubic convolution coefficient


def _scale_value(n_in, n_out, scale, dtype=np.float64):
    """compute_scales_value from ATen: 1 / scale_factor when one was given, else n_in / n_out (in `dtype`)."""
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(n_in) / dtype(n_out)


def interpolation_taps(mode, n_in, n_out, align_corners, scale, dtype, dims):
    """The taps of one axis as torch's CPU upsample kernels compute them for an input of `dtype` with `dims`
    spatial dims: (index, weight), numpy (n_out, T)."""
    dst = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        # NOTE: ATen's float rounding decides which pixel an output on a boundary takes, so it is reproduced: 1-d
        # and 3-d nearest compute in the dtype's opmath type and round to float before the floor; 2-d nearest
        # (ATen's nearest_idx) copies when the sizes are equal, halves when the output is twice the input, and
        # else computes in float
        opmath = np.float64 if dtype == np.float64 and not (mode == "nearest" and dims == 2) else np.float32
        s = _scale_value(n_in, n_out, scale, opmath)
        if mode == "nearest-exact":
            real = np.maximum(s * (dst.astype(opmath) + opmath(0.5)) - opmath(0.5), opmath(0)) + 0.5
        elif dims == 2 and n_out == n_in:
            real = dst
        elif dims == 2 and n_out == 2 * n_in:
            real = dst // 2
        else:
            real = s * dst.astype(opmath)
        src = np.floor(np.asarray(real).astype(np.float32)).astype(np.int64)
        return np.minimum(src, n_in - 1)[:, None], np.ones((n_out, 1))
    cubic = mode == "cubic"
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        real = ratio * dst
    else:
        real = _scale_value(n_in, n_out, scale) * (dst + 0.5) - 0.5
        if not cubic:
            real = np.maximum(real, 0.0)
    i0 = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    t = np.clip(real - i0, 0.0, 1.0)
    if cubic:
        A = _CUBIC_A
        near = lambda x: ((A + 2) * x - (A + 3)) * x * x + 1  # noqa: E731 (|x| <= 1)
        far = lambda x: ((A * x - 5 * A) * x + 8 * A) * x - 4 * A  # noqa: E731 (1 < |x| < 2)
        return (np.clip(i0[:, None] - 1 + np.arange(4), 0, n_in - 1),
                np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1))
    if n_out == n_in:  # (ATen copies: the same size is the identity, whatever the scale factor)
        i0, t = dst, np.zeros(n_out)
    return np.stack([i0, i0 + (i0 < n_in - 1)], 1), np.stack([1 - t, t], 1)


def transpose_taps(taps, n_in):
    """The adjoint's taps: for each input j, the outputs i (and weights) whose taps read j, padded to the longest
    list (index -1: a padding tap, which adds nothing)."""
    index, weight = taps
    rows = np.repeat(np.arange(index.shape[0]), index.shape[1])
    cols, vals = index.ravel(), weight.ravel()
    keep = (vals != 0) & (cols >= 0)
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    order = np.argsort(cols, kind="stable")
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = np.bincount(cols, minlength=n_in)
    width = max(1, int(counts.max(initial=0)))
    slot = np.arange(len(cols)) - np.repeat(np.cumsum(counts) - counts, counts)
    t_index, t_weight = np.full((n_in, width), -1, np.int64), np.zeros((n_in, width))
    t_index[cols, slot], t_weight[cols, slot] = rows, vals
    return t_index, t_weight


def _resample_fwd(xp, x, taps, adjoint):
    """Each spatial axis in turn: y[..., i, ...] = sum_t weight[i, t] * x[..., index[i, t], ...] over the taps
    whose index is not -1."""
    n = len(taps)
    for a, (index, weight) in enumerate(taps):
        axis = x.ndim - n + a
        shape = [1] * x.ndim
        shape[axis] = index.shape[0]
        if x.shape[axis] == 0:  # (nothing to read: every output is a sum of padding taps)
            x = xp.zeros(x.shape[:axis] + (index.shape[0],) + x.shape[axis + 1:], x.dtype)
            continue
        y = None
        for t in range(index.shape[1]):
            pad = index[:, t] < 0
            term = xp.take(x, xp.asarray(np.maximum(index[:, t], 0)), axis=axis)
            if pad.any():  # NOTE: where, not a 0 weight: 0 * inf would be NaN
                term = xp.where(xp.asarray(~pad.reshape(shape)), term, x.dtype.type(0))
            if not (weight[:, t] == 1).all():  # (nearest: a copy)
                term *= xp.asarray(weight[:, t].astype(x.dtype).reshape(shape))
            y = term if y is None else y.__iadd__(term)
        x = y
    return x


def adaptive_avg_taps(n_in, n_out):
    """The taps of adaptive average pooling along an axis: each window's pixels, weight 1 / its length."""
    index, valid = adaptive_windows(n_in, n_out)
    return np.where(valid, index, -1), valid / np.maximum(valid.sum(1, keepdims=True), 1)


def _resample_bwd(inverse):
    return lambda ctx, g: apply(inverse(), g, taps=ctx.params["adjoint"], adjoint=ctx.params["taps"])


_RESAMPLE_NODES = {"upsample_nearest1d": "UpsampleNearest1D", "upsample_nearest2d": "UpsampleNearest2D",
                   "upsample_nearest3d": "UpsampleNearest3D", "upsample_nearest_exact1d": "UpsampleNearestExact1D",
                   "upsample_nearest_exact2d": "UpsampleNearestExact2D",
                   "upsample_nearest_exact3d": "UpsampleNearestExact3D", "upsample_linear1d": "UpsampleLinear1D",
                   "upsample_bilinear2d": "UpsampleBilinear2D", "upsample_bicubic2d": "UpsampleBicubic2D",
                   "upsample_trilinear3d": "UpsampleTrilinear3D", "adaptive_avg_pool2d": "AdaptiveAvgPool2D",
                   "adaptive_avg_pool3d": "AdaptiveAvgPool3D"}
# one row per aten op (each records its own node); `taps`: per spatial axis (index, weight), `adjoint` their
# transposes. Adaptive average pooling is separable the same way (its taps: adaptive_avg_taps).
RESAMPLE, RESAMPLE_BACKWARD = {}, {}
for _name, _node in _RESAMPLE_NODES.items():
    RESAMPLE[_name] = defop(_name, _resample_fwd, _resample_bwd(lambda n=_name: RESAMPLE_BACKWARD[n]),
                            node=f"{_node}Backward0", group="conv", dtype="keep")
    RESAMPLE_BACKWARD[_name] = defop(f"{_name}_backward", _resample_fwd, _resample_bwd(lambda n=_name: RESAMPLE[n]),
                                     node=f"{_node}BackwardBackward0", group="conv", dtype="keep", public=False)


# ---- adaptive max pooling -------------------------------------------------------------------------------

def adaptive_windows(n, out):
    """The windows of adaptive pooling along an axis of n pixels: window i is [floor(i*n/out), ceil((i+1)*n/out)),
    as (index, valid), numpy (out, L): the window's pixels, padded to the longest window (valid False there)."""
    i = np.arange(out)
    starts, ends = i * n // out, -(-(i + 1) * n // out)
    index = starts[:, None] + np.arange(int((ends - starts).max(initial=1)))
    return np.minimum(index, n - 1), index < ends[:, None]


def _adaptive_max_pool_fwd(xp, x, out):
    """Max over each adaptive window of the last len(out) axes, and its flat index in the plane (ties: the first;
    a NaN wins, the last NaN of a window if several, as in torch)."""
    n = len(out)
    lead = x.ndim - n
    size = x.shape[lead:]
    floating = _dtype.is_floating(x.dtype)
    cand, flat, valid = x, np.zeros((), np.int64), np.ones((), bool)
    for a, (m, o) in enumerate(zip(size, out)):
        index, ok = adaptive_windows(m, o)
        axis = lead + 2 * a  # (each earlier axis is now two: window, position in it)
        cand = xp.take(cand, xp.asarray(index.ravel()), axis=axis)
        cand = cand.reshape(cand.shape[:axis] + index.shape + cand.shape[axis + 1:])
        flat = np.add.outer(flat, index * math.prod(size[a + 1:]))
        valid = np.multiply.outer(valid, ok)
    # (O1, L1, O2, L2, ...) -> (O1, O2, ..., L1 * L2 * ...)
    order = [2 * a for a in range(n)] + [2 * a + 1 for a in range(n)]
    cand = cand.transpose(*range(lead), *(lead + k for k in order))
    cand = cand.reshape(cand.shape[:lead + n] + (-1,))
    flat = xp.asarray(flat.transpose(order).reshape(tuple(out) + (-1,)))
    valid = xp.asarray(valid.transpose(order).reshape(tuple(out) + (-1,)))
    fill = -np.inf if floating else np.iinfo(x.dtype).min
    cand = xp.where(valid, cand, x.dtype.type(fill))
    best = cand[..., 0].copy()
    k = xp.broadcast_to(flat[..., 0], best.shape).copy()
    for j in range(1, cand.shape[-1]):
        v = cand[..., j]
        take = v > best
        if floating:
            take |= xp.isnan(v)
        k = xp.where(take, flat[..., j], k)
        xp.maximum(best, v, out=best)
    return best, k


def _adaptive_max_pool_bwd(ctx, grads):
    (idx,) = ctx.saved
    return apply(ADAPTIVE_MAX_POOL2D_BACKWARD, grads[0], idx, size=ctx.shapes[0][-2:]), None


ADAPTIVE_MAX_POOL2D = defop("adaptive_max_pool2d", _adaptive_max_pool_fwd, _adaptive_max_pool_bwd, save=("out1",),
                            node="AdaptiveMaxPool2DBackward0", group="conv", dtype="keep", nout=2)
ADAPTIVE_MAX_POOL2D_BACKWARD = defop(
    "adaptive_max_pool2d_backward", lambda xp, g, idx, size: _scatter_planes(xp, g, idx, size),
    lambda ctx, gg: (_gather_planes(gg, ctx.saved[0], len(ctx.params["size"])), None), save=(1,),
    node="AdaptiveMaxPool2DBackwardBackward0", group="conv", dtype="keep", public=False)


# ---- pixel shuffle ------------------------------------------------------------------------------------

def _pixel_shuffle_fwd(xp, x, r):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r): each channel block of r * r becomes an r x r patch."""
    *lead, C, H, W = x.shape
    n = len(lead)
    y = x.reshape(*lead, C // (r * r), r, r, H, W).transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return xp.ascontiguousarray(y).reshape(*lead, C // (r * r), H * r, W * r)


def _pixel_unshuffle_fwd(xp, x, r):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W), the inverse of pixel_shuffle."""
    *lead, C, H, W = x.shape
    n = len(lead)
    y = x.reshape(*lead, C, H // r, r, W // r, r).transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return xp.ascontiguousarray(y).reshape(*lead, C * r * r, H // r, W // r)


PIXEL_SHUFFLE = defop("pixel_shuffle", _pixel_shuffle_fwd, lambda ctx, g: apply(PIXEL_UNSHUFFLE, g, **ctx.params),
                      group="conv", dtype="keep")
PIXEL_UNSHUFFLE = defop("pixel_unshuffle", _pixel_unshuffle_fwd, lambda ctx, g: apply(PIXEL_SHUFFLE, g, **ctx.params),
                        group="conv", dtype="keep")


# ---- max unpooling ------------------------------------------------------------------------------------

def _max_unpool_fwd(xp, x, idx, size):
    """Each x (*planes, H, W) written to the pixel of its plane (*planes, *size) that idx (flat in the plane)
    names; the other pixels are 0 (of repeated indices one value is kept, as in torch: which is unspecified)."""
    planes = idx.shape[:idx.ndim - len(size)]
    plane = math.prod(size)
    if xp is np and idx.size and (idx.min() < 0 or idx.max() >= plane):
        # NOTE: a data check on the CPU only, as torch's CPU kernel makes (its CUDA kernel does not check)
        bad = idx[(idx < 0) | (idx >= plane)].flat[0]
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, size))})")
    count = math.prod(planes)
    out = xp.zeros(count * plane, x.dtype)
    base = xp.arange(0, count * plane, plane, dtype=np.int64).reshape(planes + (1,) * len(size))
    out[(idx + base).ravel()] = x.ravel()
    return out.reshape(planes + tuple(size))


MAX_UNPOOL2D = defop("max_unpool2d", _max_unpool_fwd,
                     lambda ctx, g: (_gather_planes(g, ctx.saved[0], len(ctx.params["size"])), None), save=(1,),
                     node="MaxUnpool2DBackward0", group="conv", dtype="keep")

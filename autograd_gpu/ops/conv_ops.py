"""Convolution and pooling primitives over NCHW images (1-d convolution is the H == 1 case).

A convolution is im2col (a strided view of the padded input, copied once into a
(C*KH*KW, N*OH*OW) matrix per group) and one matrix product per group: BLAS on the CPU,
cuBLAS through CuPy on the GPU. Its three linear maps are each other's derivatives:

    conv2d(x, w)              d/dx: conv_transpose2d(g, w)   d/dw: conv2d_weight(x, g)
    conv_transpose2d(x, w)    d/dx: conv2d(g, w)             d/dw: conv2d_weight(g, x)
    conv2d_weight(x, g)       d/dx: conv_transpose2d(g, gg)  d/dg: conv2d(x, gg)

so derivatives of any order work. The scatters (col2im, the max-pool backward) are CUDA
kernels in kernels/conv.cu, their numpy reference formulas below.

Every op takes the window geometry as `geo`, the dict `_kernels` uses: N, C, H, W (the
image), KH, KW (the kernel), OH, OW (the grid of windows), SH, SW (stride), PH, PW (padding
before the image; the padding after it is whatever the OH x OW windows need), DH, DW
(dilation). The public functions in autograd_gpu/nn/_conv.py check arguments and build it.
"""
import numpy as np

from .. import _kernels
from .core import apply, defop
from .indexing import gather


def geometry(image, kernel, out, stride, padding, dilation):
    """The window geometry dict for an image shape (N, C, H, W)."""
    (N, C, H, W), (KH, KW), (OH, OW) = image, kernel, out
    (SH, SW), (PH, PW), (DH, DW) = stride, padding, dilation
    return dict(N=N, C=C, H=H, W=W, KH=KH, KW=KW, OH=OH, OW=OW, SH=SH, SW=SW, PH=PH, PW=PW, DH=DH, DW=DW)


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
    """The adjoint of im2col: sum the window values ``cols`` (C, KH, KW, N, OH, OW) back onto
    the image (N, C, H, W)."""
    return _COL2IM(cols, sizes=geo)[0]


def max_pool2d_bwd(g, indices, geo):
    """Gradient of max_pool2d: each window's g goes to the pixel ``indices`` (N, C, OH, OW,
    flat h * W + w) names; pixels that are the maximum of several windows sum them."""
    return _MAX_POOL2D_BWD(g, indices, sizes=geo)[0]


def _as_strided(xp, x, shape, strides):
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def windows(xp, x, geo, fill=0):
    """Every window of x as a strided view (N, C, KH, KW, OH, OW); padding reads `fill`."""
    g = geo
    N, C, H, W = x.shape
    end_h = max(0, (g["OH"] - 1) * g["SH"] + (g["KH"] - 1) * g["DH"] + 1 - g["PH"] - H)
    end_w = max(0, (g["OW"] - 1) * g["SW"] + (g["KW"] - 1) * g["DW"] + 1 - g["PW"] - W)
    if g["PH"] or g["PW"] or end_h or end_w:
        x = xp.pad(x, ((0, 0), (0, 0), (g["PH"], end_h), (g["PW"], end_w)), constant_values=fill)
    sn, sc, sh, sw = x.strides
    return _as_strided(xp, x, (N, C, g["KH"], g["KW"], g["OH"], g["OW"]),
                       (sn, sc, sh * g["DH"], sw * g["DW"], sh * g["SH"], sw * g["SW"]))


def _im2col(xp, x, geo, groups):
    """(G, C/G * KH * KW, N * OH * OW): channel-major, so the product with the weight is one GEMM."""
    N, C = x.shape[:2]
    cols = xp.ascontiguousarray(windows(xp, x, geo).transpose(1, 2, 3, 0, 4, 5))
    return cols.reshape(groups, C // groups * geo["KH"] * geo["KW"], N * geo["OH"] * geo["OW"])


def _channels_first(xp, y, groups):
    """(N, C, H, W) -> (G, C/G, N * H * W)."""
    N, C, H, W = y.shape
    return xp.ascontiguousarray(y.transpose(1, 0, 2, 3)).reshape(groups, C // groups, N * H * W)


# NOTE: the im2col matrix of a 3x3 convolution is 9x its image; built for the whole batch at once it was the
# step's largest allocation (a CNN step peaked at 1.6x PyTorch's memory). Each op below builds it for a chunk of
# samples at a time, at most the size of the image (or _COLS_MIN_BYTES), so the extra memory stays about one
# image, and the matrix products stay large enough for BLAS / cuBLAS.
_COLS_MIN_BYTES = 2 * 2 ** 20


def _chunks(geo, itemsize):
    """Sample ranges (start, stop) whose im2col matrices (C*KH*KW, n*OH*OW) fit the budget (>= 1 sample)."""
    g = geo
    per_sample = g["C"] * g["KH"] * g["KW"] * g["OH"] * g["OW"] * itemsize
    budget = max(_COLS_MIN_BYTES, g["N"] * g["C"] * g["H"] * g["W"] * itemsize)
    step = max(1, budget // max(per_sample, 1))
    return [(n, min(n + step, g["N"])) for n in range(0, g["N"], step)] or [(0, 0)]


def _conv2d_fwd(xp, x, w, b, geo, groups):
    O = w.shape[0]
    OH, OW = geo["OH"], geo["OW"]
    wg = w.reshape(groups, O // groups, -1)
    out = xp.empty((x.shape[0], O, OH, OW), xp.result_type(x.dtype, w.dtype))
    for n0, n1 in _chunks(geo, x.itemsize):
        y = xp.matmul(wg, _im2col(xp, x[n0:n1], geo, groups)).reshape(O, n1 - n0, OH, OW).transpose(1, 0, 2, 3)
        if b is None:
            out[n0:n1] = y
        else:  # the bias rides along with the copy back to NCHW
            xp.add(y, b.reshape(1, O, 1, 1), out=out[n0:n1])
    return out


def _conv_transpose2d_fwd(xp, x, w, b, geo, groups):
    N, _, H, W = x.shape
    cout = w.shape[1] * groups
    wg = w.reshape(groups, w.shape[0] // groups, w.shape[1] * geo["KH"] * geo["KW"]).transpose(0, 2, 1)
    chunks = _chunks(geo, x.itemsize)
    img = None
    for n0, n1 in chunks:
        cols = xp.matmul(wg, _channels_first(xp, x[n0:n1], groups))
        part = col2im(cols.reshape(cout, geo["KH"], geo["KW"], n1 - n0, H, W), dict(geo, N=n1 - n0))
        if len(chunks) == 1:
            img = part
        else:
            if img is None:
                img = xp.empty((N,) + part.shape[1:], part.dtype)
            img[n0:n1] = part
    if b is not None:
        img += b.reshape(1, cout, 1, 1)
    return img


def _conv2d_weight_fwd(xp, x, gy, geo, groups):
    gw = None
    for n0, n1 in _chunks(geo, x.itemsize):
        part = xp.matmul(_im2col(xp, x[n0:n1], geo, groups),
                         _channels_first(xp, gy[n0:n1], groups).transpose(0, 2, 1))
        gw = part if gw is None else gw.__iadd__(part)
    return xp.ascontiguousarray(gw.transpose(0, 2, 1)).reshape(gy.shape[1], x.shape[1] // groups, geo["KH"],
                                                                geo["KW"])


def _conv2d_bwd(ctx, g):
    x, w = ctx.saved
    geo, groups = ctx.params["geo"], ctx.params["groups"]
    need_x, need_w, need_b = ctx.needs_input_grad
    gx = apply(CONV_TRANSPOSE2D, g, w, None, geo=geo, groups=groups) if need_x else None
    gw = apply(CONV2D_WEIGHT, x, g, geo=geo, groups=groups) if need_w else None
    gb = g.sum((0, 2, 3)) if need_b else None
    return gx, gw, gb


def _conv_transpose2d_bwd(ctx, g):
    x, w = ctx.saved
    geo, groups = ctx.params["geo"], ctx.params["groups"]  # geo: the output image's windows over x's grid
    need_x, need_w, need_b = ctx.needs_input_grad
    gx = apply(CONV2D, g, w, None, geo=geo, groups=groups) if need_x else None
    gw = apply(CONV2D_WEIGHT, g, x, geo=geo, groups=groups) if need_w else None
    gb = g.sum((0, 2, 3)) if need_b else None
    return gx, gw, gb


def _conv2d_weight_bwd(ctx, gg):
    x, gy = ctx.saved
    geo, groups = ctx.params["geo"], ctx.params["groups"]
    need_x, need_gy = ctx.needs_input_grad
    gx = apply(CONV_TRANSPOSE2D, gy, gg, None, geo=geo, groups=groups) if need_x else None
    ggy = apply(CONV2D, x, gg, None, geo=geo, groups=groups) if need_gy else None
    return gx, ggy


# `geo` of all three is the convolution's: its input image and its grid of windows
CONV2D = defop("conv2d", lambda xp, x, w, b, geo, groups: _conv2d_fwd(xp, x, w, b, geo, groups), _conv2d_bwd,
               save=(0, 1), node="ConvolutionBackward0", group="conv", dtype="keep")
CONV_TRANSPOSE2D = defop("conv_transpose2d",
                         lambda xp, x, w, b, geo, groups: _conv_transpose2d_fwd(xp, x, w, b, geo, groups),
                         _conv_transpose2d_bwd, save=(0, 1), node="ConvolutionBackward0", group="conv",
                         kernel="col2im", dtype="keep")
CONV2D_WEIGHT = defop("conv2d_weight", lambda xp, x, gy, geo, groups: _conv2d_weight_fwd(xp, x, gy, geo, groups),
                      _conv2d_weight_bwd, save=(0, 1), node="ConvolutionBackwardBackward0", group="conv",
                      dtype="keep", public=False)


# ---- unfold / fold ------------------------------------------------------------------------------

def _im2col_fwd(xp, x, geo):
    N, C = x.shape[:2]
    return xp.ascontiguousarray(windows(xp, x, geo)).reshape(N, C * geo["KH"] * geo["KW"], geo["OH"] * geo["OW"])


def _col2im_fwd(xp, cols, geo):
    g = geo
    cols = cols.reshape(g["N"], g["C"], g["KH"], g["KW"], g["OH"], g["OW"]).transpose(1, 2, 3, 0, 4, 5)
    return col2im(cols, geo)


IM2COL = defop("im2col", _im2col_fwd, lambda ctx, g: apply(COL2IM, g, geo=ctx.params["geo"]),
               node="Im2ColBackward0", group="conv", dtype="keep")
COL2IM = defop("col2im", _col2im_fwd, lambda ctx, g: apply(IM2COL, g, geo=ctx.params["geo"]),
               node="Col2ImBackward0", group="conv", kernel="col2im", dtype="keep")


# ---- max pooling --------------------------------------------------------------------------------

def _max_pool2d_fwd(xp, x, geo):
    g = geo
    H, W = x.shape[2:]
    floating = x.dtype.kind == "f"
    fill = -np.inf if floating else np.iinfo(x.dtype).min
    win = windows(xp, x, geo, fill)
    rows = xp.arange(g["OH"])[:, None] * g["SH"] - g["PH"]
    cols = xp.arange(g["OW"]) * g["SW"] - g["PW"]
    # do some windows reach into the padding? Then a window's first real pixel starts it.
    masked = bool(g["PH"] or g["PW"] or (g["OH"] - 1) * g["SH"] + (g["KH"] - 1) * g["DH"] >= H
                  or (g["OW"] - 1) * g["SW"] + (g["KW"] - 1) * g["DW"] >= W)
    # NOTE: branch-free selection (np.where with a random mask is ~10x slower): the running maximum is
    # np.maximum (which propagates NaN, as torch's max pool does), and the winner's offset from its
    # window's first pixel, in flat h * W + w units, is blended in with integer arithmetic.
    best = win[:, :, 0, 0].copy()  # the padding holds `fill`, so it never raises the maximum
    k = xp.zeros(best.shape, np.int32 if H * W < 2 ** 31 else np.int64)
    seen = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)  # windows whose offset (0, 0) is real
    for o in range(1, g["KH"] * g["KW"]):
        i, j = divmod(o, g["KW"])
        v = win[:, :, i, j]
        take = v > best  # ties keep the first maximum
        if floating:
            take |= xp.isnan(v)  # a NaN wins, and a later NaN replaces it, as in torch
        if masked:
            r, c = rows + i * g["DH"], cols + j * g["DW"]
            valid = (r >= 0) & (r < H) & (c >= 0) & (c < W)
            take = (take | ~seen) & valid
            seen = seen | valid
        k += take * (i * g["DH"] * W + j * g["DW"] - k)
        xp.maximum(best, v, out=best)
    return best, (rows * W + cols) + k


def _max_pool2d_bwd(ctx, grads):
    (idx,) = ctx.saved
    return apply(MAX_POOL2D_BACKWARD, grads[0], idx, geo=ctx.params["geo"]), None


def _max_pool2d_backward_bwd(ctx, gg):
    (idx,) = ctx.saved
    N, C, OH, OW = idx.shape
    return gather(gg.reshape(N, C, -1), 2, idx.reshape(N, C, -1)).reshape(N, C, OH, OW), None


MAX_POOL2D = defop("max_pool2d", _max_pool2d_fwd, _max_pool2d_bwd, save=("out1",),
                   node="MaxPool2DWithIndicesBackward0", group="conv", kernel="max_pool2d_bwd", dtype="keep",
                   nout=2)
MAX_POOL2D_BACKWARD = defop("max_pool2d_backward", lambda xp, g, idx, geo: max_pool2d_bwd(g, idx, geo),
                            _max_pool2d_backward_bwd, save=(1,), node="MaxPool2DWithIndicesBackwardBackward0",
                            group="conv", kernel="max_pool2d_bwd", dtype="keep", public=False)


# ---- average pooling ----------------------------------------------------------------------------

def _avg_divisor(xp, geo, count_include_pad, divisor_override, dtype):
    """What each window's sum is divided by, as torch's avg_pool2d computes it: (OH, OW)."""
    if divisor_override:
        return dtype.type(divisor_override)
    g = geo

    def extent(n, k, s, p, size, dim):
        start = np.arange(n) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)

    div = extent(g["OH"], g["KH"], g["SH"], g["PH"], g["H"], 0)[:, None] * \
        extent(g["OW"], g["KW"], g["SW"], g["PW"], g["W"], 1)
    return xp.asarray(div.astype(dtype))


def _avg_pool2d_fwd(xp, x, geo, count_include_pad, divisor_override):
    win = windows(xp, x, geo)
    total = win[:, :, 0, 0].copy()
    for i in range(geo["KH"]):
        for j in range(geo["KW"]):
            if i or j:
                total += win[:, :, i, j]
    return total / _avg_divisor(xp, geo, count_include_pad, divisor_override, x.dtype)


def _avg_pool2d_backward_fwd(xp, g, geo, count_include_pad, divisor_override):
    share = (g / _avg_divisor(xp, geo, count_include_pad, divisor_override, g.dtype)).transpose(1, 0, 2, 3)
    cols = xp.broadcast_to(share[:, None, None], (share.shape[0], geo["KH"], geo["KW"]) + share.shape[1:])
    return col2im(cols, geo)


AVG_POOL2D = defop("avg_pool2d", _avg_pool2d_fwd, lambda ctx, g: apply(AVG_POOL2D_BACKWARD, g, **ctx.params),
                   node="AvgPool2DBackward0", group="conv", dtype="keep")
AVG_POOL2D_BACKWARD = defop("avg_pool2d_backward", _avg_pool2d_backward_fwd,
                            lambda ctx, gg: apply(AVG_POOL2D, gg, **ctx.params), node="AvgPool2DBackwardBackward0",
                            group="conv", kernel="col2im", dtype="keep", public=False)

"""Primitives behind nn.functional: one fused forward where a composite would cost many passes or lose
precision, each with a backward written from differentiable ops (so double backward works)."""
import math

import numpy as np

from .core import apply, defop

_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2_OVER_PI = 0.7978845608028654

_erf_host = np.frompyfunc(math.erf, 1, 1)


def _erf_array(xp, x):
    if xp is np:
        # NOTE: numpy has no erf; math.erf is exact to the last bit, one element at a time (CPU path only)
        x = np.asarray(x)
        return np.asarray(_erf_host(x), dtype=x.dtype) if x.size else x.copy()
    import cupyx.scipy.special
    return cupyx.scipy.special.erf(x)


ERF = defop("erf", lambda xp, x: _erf_array(xp, x),
            lambda ctx, g: g * ((ctx.saved[0] * ctx.saved[0]).neg().exp() * 1.1283791670955126),
            save=(0,), family="nn", dtype="float", public=False)


# ---- gelu -------------------------------------------------------------------------------------------
def _gelu_fwd(xp, x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1 + _erf_array(xp, x * _SQRT1_2))


def _gelu_bwd(ctx, g):
    x, = ctx.saved
    if ctx.params["approximate"] == "tanh":
        x2 = x * x
        t = (_SQRT_2_OVER_PI * (x + 0.044715 * x2 * x)).tanh()
        dt = (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x2))
        return g * (0.5 * (1 + t) + 0.5 * x * dt)
    cdf = 0.5 * (1 + apply(ERF, x * _SQRT1_2))
    pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


GELU = defop("gelu", _gelu_fwd, _gelu_bwd, save=(0,), family="nn", dtype="float")


# ---- softplus ---------------------------------------------------------------------------------------
def _softplus_fwd(xp, x, beta, threshold):
    z = x * beta
    # NOTE: log1p(exp(z)) overflows for large z; max(z, 0) + log1p(exp(-|z|)) is the same number, always finite
    soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
    return xp.where(z > threshold, x, soft).astype(x.dtype, copy=False)


def _softplus_bwd(ctx, g):
    from .arithmetic import where
    x, = ctx.saved
    z = x * ctx.params["beta"]
    return where(z > ctx.params["threshold"], g, g * z.sigmoid())


SOFTPLUS = defop("softplus", _softplus_fwd, _softplus_bwd, save=(0,), family="nn", dtype="float")


# ---- embedding --------------------------------------------------------------------------------------
def _embedding_fwd(xp, weight, indices, padding_idx):
    return xp.take(weight, indices._data, axis=0)


def _embedding_bwd(ctx, g):
    p = ctx.params
    return apply(EMBEDDING_BACKWARD, g, indices=p["indices"], num_weights=ctx.shapes[0][0],
                 padding_idx=p["padding_idx"])


def _embedding_backward_fwd(xp, g, indices, num_weights, padding_idx):
    idx = indices._data.reshape(-1)
    gw = xp.zeros((num_weights,) + g.shape[indices._data.ndim:], dtype=g.dtype)
    rows = g.reshape((idx.size,) + gw.shape[1:])
    if xp is np:
        np.add.at(gw, idx, rows)
    else:
        import cupyx
        cupyx.scatter_add(gw, idx, rows)
    if padding_idx is not None:
        gw[padding_idx] = 0  # NOTE: the padding row never learns, as in PyTorch
    return gw


def _embedding_backward_bwd(ctx, gg):
    p = ctx.params
    out = apply(EMBEDDING, gg, indices=p["indices"], padding_idx=p["padding_idx"])
    if p["padding_idx"] is not None:
        out = out * (p["indices"] != p["padding_idx"]).unsqueeze(-1)
    return out


EMBEDDING = defop("embedding", _embedding_fwd, _embedding_bwd, family="nn", dtype="keep")
EMBEDDING_BACKWARD = defop("embedding_backward", _embedding_backward_fwd, _embedding_backward_bwd,
                           node="EmbeddingBackwardBackward0", family="nn", dtype="keep", public=False)


# ---- constant padding -------------------------------------------------------------------------------
def _pad_constant_fwd(xp, x, widths, value):
    return xp.pad(x, widths, mode="constant", constant_values=value)


def _pad_constant_bwd(ctx, g):
    sl = tuple(slice(lo, g.shape[d] - hi) for d, (lo, hi) in enumerate(ctx.params["widths"]))
    return g[sl]


PAD_CONSTANT = defop("constant_pad_nd", _pad_constant_fwd, _pad_constant_bwd, family="nn", dtype="keep",
                     public=False)


# ---- binary cross-entropy ---------------------------------------------------------------------------
def _bce_fwd(xp, x, y):
    # NOTE: PyTorch clamps each log at -100 so a probability of exactly 0 or 1 gives a finite loss
    with np.errstate(divide="ignore"):
        lx = xp.maximum(xp.log(x), -100)
        l1x = xp.maximum(xp.log1p(-x), -100)
    return -(y * lx + (1 - y) * l1x)


def _bce_bwd(ctx, g):
    x, y = ctx.saved
    gx = gy = None
    if ctx.needs_input_grad[0]:
        gx = g * (x - y) / ((1 - x) * x).clamp(min=1e-12)
    if ctx.needs_input_grad[1]:
        gy = g * ((-x).log1p().clamp(min=-100) - x.log().clamp(min=-100))
    return gx, gy


BINARY_CROSS_ENTROPY = defop("binary_cross_entropy", _bce_fwd, _bce_bwd, save=(0, 1), family="nn",
                             dtype="float")


def _softplus0(xp, x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _bce_logits_fwd(xp, x, y, pos_weight):
    # NOTE: log(sigmoid(x)) = -softplus(-x), written so exp never overflows:
    # loss = (1 - y) x + (1 + (pw - 1) y) softplus(-x)
    return (1 - y) * x + (1 + (pos_weight - 1) * y) * _softplus0(xp, -x)


def _bce_logits_bwd(ctx, g):
    x, y, pw = ctx.saved
    gx = gy = None
    s = x.sigmoid()
    if ctx.needs_input_grad[0]:
        no_pw = isinstance(pw, float) and pw == 1.0
        gx = g * (s - y) if no_pw else g * (s * (pw * y + 1 - y) - pw * y)
    if ctx.needs_input_grad[1]:
        sp_neg = apply(SOFTPLUS, -x, beta=1.0, threshold=math.inf)  # -log sigmoid(x)
        sp_pos = apply(SOFTPLUS, x, beta=1.0, threshold=math.inf)   # -log(1 - sigmoid(x))
        gy = g * (pw * sp_neg - sp_pos)
    return gx, gy, None  # PyTorch does not differentiate with respect to pos_weight either


BINARY_CROSS_ENTROPY_WITH_LOGITS = defop("binary_cross_entropy_with_logits", _bce_logits_fwd, _bce_logits_bwd,
                                         save=(0, 1, 2), family="nn", dtype="float")


# ---- the identity that lets Module's full backward hooks see grad_input / grad_output ------------------
def _hook_identity_fwd(xp, *arrays, state, side):
    return tuple(arrays)


def _hook_identity_bwd(ctx, grads):
    return ctx.params["state"].on_backward(ctx.params["side"], list(grads), ctx.needs_input_grad)


BACKWARD_HOOK = defop("backward_hook", _hook_identity_fwd, _hook_identity_bwd, node="BackwardHookFunctionBackward",
                      family="nn", dtype="keep", nout=-1, public=False)

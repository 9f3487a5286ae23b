"""Primitives behind nn.functional: one fused forward where a composite would cost many passes or lose
precision, each with a backward written from differentiable ops (so double backward works)."""
import math

import numpy as np

from .core import apply, defop
from .indexing import _full_index, add_at
from .arithmetic import where
from .special import _erf_array
from .unary import erf

_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2_OVER_PI = 0.7978845608028654


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
    cdf = 0.5 * (1 + erf(x * _SQRT1_2))
    pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


GELU = defop("gelu", _gelu_fwd, _gelu_bwd, save=(0,), group="nn", dtype="float")


# ---- softplus ---------------------------------------------------------------------------------------
def _softplus_fwd(xp, x, beta, threshold):
    z = x * beta
    # NOTE: log1p(exp(z)) overflows for large z; max(z, 0) + log1p(exp(-|z|)) is the same number, always finite
    soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
    return xp.where(z > threshold, x, soft).astype(x.dtype, copy=False)


def _softplus_bwd(ctx, g):
    x, = ctx.saved
    z = x * ctx.params["beta"]
    return where(z > ctx.params["threshold"], g, g * z.sigmoid())


SOFTPLUS = defop("softplus", _softplus_fwd, _softplus_bwd, save=(0,), group="nn", dtype="float")


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
    add_at(xp, gw, idx, rows)
    if padding_idx is not None:
        gw[padding_idx] = 0  # NOTE: the padding row never learns, as in PyTorch
    return gw


def _embedding_backward_bwd(ctx, gg):
    p = ctx.params
    out = apply(EMBEDDING, gg, indices=p["indices"], padding_idx=p["padding_idx"])
    if p["padding_idx"] is not None:
        out = out * (p["indices"] != p["padding_idx"]).unsqueeze(-1)
    return out


EMBEDDING = defop("embedding", _embedding_fwd, _embedding_bwd, group="nn", dtype="keep")
EMBEDDING_BACKWARD = defop("embedding_backward", _embedding_backward_fwd, _embedding_backward_bwd,
                           node="EmbeddingBackwardBackward0", group="nn", dtype="keep", public=False)


# ---- constant padding -------------------------------------------------------------------------------
def _pad_constant_fwd(xp, x, widths, value):
    return xp.pad(x, widths, mode="constant", constant_values=value)


def _pad_constant_bwd(ctx, g):
    sl = tuple(slice(lo, g.shape[d] - hi) for d, (lo, hi) in enumerate(ctx.params["widths"]))
    return g[sl]


PAD_CONSTANT = defop("constant_pad_nd", _pad_constant_fwd, _pad_constant_bwd, group="nn", dtype="keep",
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


BINARY_CROSS_ENTROPY = defop("binary_cross_entropy", _bce_fwd, _bce_bwd, save=(0, 1), group="nn",
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
                                         save=(0, 1, 2), group="nn", dtype="float")


# ---- negative log-likelihood --------------------------------------------------------------------------
# NOTE: nll_loss and its backward are each other's adjoints (the backward is linear in its gradient), so each
# is the other's derivative, and create_graph works through both at any order. target and weight are
# parameters, not inputs: PyTorch differentiates with respect to neither (its node has one edge).
def _nll_weights(xp, target, weight, ignore_index, dtype):
    """(target with ignored positions set to class 0, each position's weight: 0 where ignored)."""
    t = target._data
    keep = t != ignore_index
    safe = xp.where(keep, t, 0)
    w = keep.astype(dtype) if weight is None else weight._data[safe] * keep
    return safe, w


def _at_targets(xp, cdim, safe):
    """The index of each position's target class in the (C), (N, C) or (N, C, ...) array."""
    if cdim == 0:  # (C): target is 0-d
        return safe
    if safe.ndim == 1:  # (N, C)
        return xp.arange(safe.shape[0]), safe
    return _full_index(xp, safe[:, None], 1)


def _nll_fwd(xp, logp, target, weight, cdim, ignore_index, reduction):
    safe, w = _nll_weights(xp, target, weight, ignore_index, logp.dtype)
    picked = logp[_at_targets(xp, cdim, safe)]
    if picked.shape != safe.shape:  # (the (N, C, ...) case: the class axis stays, of size 1)
        picked = picked.reshape(safe.shape)
    loss = -(picked * w)
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / w.sum()


def _nll_backward_fwd(xp, g, target, weight, cdim, ignore_index, reduction, shape):
    safe, w = _nll_weights(xp, target, weight, ignore_index, g.dtype)
    gw = -(g * w)
    if reduction == "mean":
        # NOTE: as PyTorch, ignored positions get no gradient at all: all ignored gives zeros, not 0 / 0
        with np.errstate(divide="ignore", invalid="ignore"):
            gw = xp.where(target._data != ignore_index, gw / w.sum(), 0).astype(g.dtype, copy=False)
    grad = xp.zeros(shape, dtype=g.dtype)
    at = _at_targets(xp, cdim, safe)
    grad[at] = gw if cdim == 0 or safe.ndim == 1 else gw[:, None]
    return grad


def _nll_pair(name, node):
    """The op `name` and its backward op, each the other's derivative; `node`: PyTorch's name, less Backward0."""
    fwd = defop(name, _nll_fwd, lambda ctx, g: apply(bwd, g, shape=ctx._meta[0][0], **ctx.params), group="nn",
                dtype="keep", public=False, node=node + "Backward0")
    bwd = defop(name + "_backward", _nll_backward_fwd,
                lambda ctx, gg: apply(fwd, gg, **{k: v for k, v in ctx.params.items() if k != "shape"}),
                node=node + "BackwardBackward0", group="nn", dtype="keep", public=False)
    return fwd


NLL_LOSS = _nll_pair("nll_loss", "NllLoss")        # (C) or (N, C) log-probabilities
NLL_LOSS2D = _nll_pair("nll_loss2d", "NllLoss2D")  # (N, C, H, W)


# ---- the identity that lets Module's full backward hooks see grad_input / grad_output ------------------
def _hook_identity_fwd(xp, *arrays, state, side):
    return tuple(arrays)


def _hook_identity_bwd(ctx, grads):
    return ctx.params["state"].on_backward(ctx.params["side"], list(grads), ctx.needs_input_grad)


BACKWARD_HOOK = defop("backward_hook", _hook_identity_fwd, _hook_identity_bwd, node="BackwardHookFunctionBackward",
                      group="nn", dtype="keep", nout=-1, public=False)

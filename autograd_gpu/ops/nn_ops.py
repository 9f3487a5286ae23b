"""Primitives behind nn.functional: one fused forward where a composite would cost many passes or lose
precision, each with a backward written from differentiable ops (so double backward works)."""
import math

import numpy as np

from .. import _device
from .core import apply, defop
from .indexing import _full_index, add_at
from .arithmetic import where

_SQRT1_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2_OVER_PI = 0.7978845608028654


# ---- erf, erfinv on the CPU ---------------------------------------------------------------------------
# numpy has no erf. This is FreeBSD/fdlibm's s_erf.c (the algorithm glibc's erf uses, < 1 ulp), evaluated
# branch by branch over arrays (each branch on its own elements). Coefficients from the constant term up.
_ERX = 8.45062911510467529297e-01   # erf(1) rounded to 24 bits
_EFX = 1.28379167095512586316e-01   # 2/sqrt(pi) - 1
_EFX8 = 1.02703333676410069053e+00  # 8 * _EFX
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)
_CHUNK = 16384
_ERFC_SPLIT = 2.8571434020996094  # ~1/0.35: high word 0x4006DB6E, where fdlibm switches (RA, SA) -> (RB, SB)


def _horner(z, coeffs):
    acc = z * coeffs[-1]
    for c in coeffs[-2:0:-1]:
        acc += c
        acc *= z
    acc += coeffs[0]
    return acc


def _erfc_tail(a):
    """erfc(a) for 1.25 <= a: exp(-a*a - 0.5625 + R(1/a^2)/S(1/a^2)) / a (underflows to 0 past a ~ 27)."""
    s = 1.0 / (a * a)
    ratio = np.empty_like(a)
    near = a < _ERFC_SPLIT
    for idx, r, q in ((np.flatnonzero(near), _RA, _SA), (np.flatnonzero(~near), _RB, _SB)):
        si = s.take(idx)
        ratio[idx] = _horner(si, r) / _horner(si, q)
    # NOTE: a*a loses up to half an ulp, which exp turns into a relative error of a*a ulps; with z = a cut
    # to its high 21 bits, z*z is exact and -a*a = -z*z + (z - a)*(z + a) carries the rest exactly enough.
    z = (a.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
    return np.exp(-z * z - 0.5625) * np.exp((z - a) * (z + a) + ratio) / a


def _erfc_pos(a):
    """erfc of a 1-D float64 array of a >= 0, to a few ulp relative (fdlibm's branches)."""
    out = 1.0 - _erf_f64(np.minimum(a, 0.84375))
    one = np.flatnonzero((a >= 0.84375) & (a < 1.25))
    s = a.take(one) - 1.0
    out[one] = (1.0 - _ERX) - _horner(s, _PA) / _horner(s, _QA)
    tail = np.flatnonzero(a >= 1.25)
    out[tail] = _erfc_tail(a.take(tail))
    return out


def _erf_f64(x):
    """erf of a 1-D float64 array: fdlibm's four branches, each run only on its own elements."""
    a = np.abs(x)
    out = np.where(np.isnan(x), x, np.copysign(1.0, x))  # |x| >= 6 (and +-inf): erf rounds to +-1
    mid = np.flatnonzero(a < 0.84375)      # erf(x) = x + x*P(x^2)/Q(x^2)
    xm = x.take(mid)
    z = xm * xm
    y = xm + xm * (_horner(z, _PP) / _horner(z, _QQ))
    tiny = np.flatnonzero(np.abs(xm) < 2.0 ** -28)  # x*x may underflow: erf(x) = x + x*(2/sqrt(pi) - 1)
    if tiny.size:
        xt = xm.take(tiny)
        # scale subnormals by 8 so the product keeps its low bits
        y[tiny] = np.where(np.abs(xt) < 2.0 ** -1015, (8.0 * xt + _EFX8 * xt) * 0.125, xt + _EFX * xt)
    out[mid] = y
    one = np.flatnonzero((a >= 0.84375) & (a < 1.25))  # erf(1 + s) = erx + P(s)/Q(s)
    s = a.take(one) - 1.0
    out[one] = np.copysign(_ERX + _horner(s, _PA) / _horner(s, _QA), x.take(one))
    tail = np.flatnonzero((a >= 1.25) & (a < 6.0))
    out[tail] = np.copysign(1.0 - _erfc_tail(a.take(tail)), x.take(tail))
    return out


def _erf_array(xp, x):
    if xp is not np:
        return _device.cupyx().scipy.special.erf(x)
    # NOTE: float32/float16 go through float64 and round once at the end, so they match correctly rounded erf.
    # Chunks of _CHUNK elements keep the many temporaries in cache: about twice as fast as whole arrays.
    x = np.asarray(x)
    flat = x.ravel()
    out = np.empty(flat.shape, x.dtype)
    for i in range(0, flat.size, _CHUNK):
        out[i:i + _CHUNK] = _erf_f64(flat[i:i + _CHUNK].astype(np.float64))
    return out.reshape(x.shape)


# Giles' single-precision erfinv ("Approximating the erfinv function", GPU Gems), coefficients from the
# constant term up, for w = -log(1 - y^2) below 5 (in w - 2.5) and above (in sqrt(w) - 3)
_GILES_SMALL = (1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087, -4.39150654e-06,
                -3.5233877e-06, 3.43273939e-07, 2.81022636e-08)
_GILES_LARGE = (2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773, -0.00367342844,
                0.00134934322, 0.000100950558, -0.000200214257)
_TWO_OVER_SQRT_PI = 1.1283791670955126


def _erfinv_array(xp, y):
    """Inverse of erf: +-inf at +-1, nan outside [-1, 1]."""
    if xp is not np:
        return _device.cupyx().scipy.special.erfinv(y)
    y = np.asarray(y)
    y64 = y.astype(np.float64).ravel()
    u = np.abs(y64)
    u = np.where(u < 1.0, u, 0.0)
    w = -np.log1p(-u * u)
    small = w < 5.0
    x = np.where(small, _horner(w - 2.5, _GILES_SMALL), _horner(np.sqrt(np.maximum(w, 5.0)) - 3.0, _GILES_LARGE))
    x *= u
    # NOTE: Giles' guess is good to ~1e-7 (to ~0.1 at the far end of float64's range), and Newton squares the
    # relative error: four steps reach full precision everywhere.
    # Above u = 1/2 it solves log erfc(x) = log(1 - u) instead: 1 - u is exact there, erf(x) - u is not
    # (near u = 1 it would be all rounding), and the log makes the far tail converge as fast.
    upper = np.flatnonzero(u > 0.5)
    lower = np.flatnonzero(u <= 0.5)
    log_c = np.log1p(-u[upper])
    for _ in range(4):
        xu, xl = x[upper], x[lower]
        xl -= (_erf_f64(xl) - u[lower]) / (_TWO_OVER_SQRT_PI * np.exp(-xl * xl))
        erfc = _erfc_pos(xu)
        xu += (np.log(erfc) - log_c) * erfc / (_TWO_OVER_SQRT_PI * np.exp(-xu * xu))
        x[upper], x[lower] = xu, xl
    x = np.copysign(x, y64)
    x[np.abs(y64) == 1.0] = np.copysign(np.inf, y64[np.abs(y64) == 1.0])
    x[~(np.abs(y64) <= 1.0)] = np.nan
    return x.reshape(y.shape).astype(y.dtype, copy=False)


ERF = defop("erf", lambda xp, x: _erf_array(xp, x),
            lambda ctx, g: g * ((ctx.saved[0] * ctx.saved[0]).neg().exp() * 1.1283791670955126),
            save=(0,), group="nn", dtype="float", public=False)


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

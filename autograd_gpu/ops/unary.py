"""Unary elementwise ops. A derivative that runs as a CUDA kernel on the GPU is a kernel_grad: one formula."""
import math

from .. import _dtype
from ..tensor import Tensor
from .core import apply, defop, export
from .kernel_grad import kernel_grad
from .special import _erf_array, _erfc_array, _erfinv_array


def unary(name, forward, backward=None, *, save=(), dtype="float", node=None, inplace=True, aliases=()):
    """Declare the row of a one-input op and its public function (also a method and, `inplace`, `name_`)."""
    op = defop(name, forward, backward, save=save, dtype=dtype, node=node, group="unary")

    def fn(input):
        return apply(op, input)
    fn.__name__ = fn.__qualname__ = name
    return export(fn, inplace=inplace, aliases=aliases)


exp = unary("exp", lambda xp, x: xp.exp(x),
            kernel_grad("exp_bwd", lambda xp, g, y: g * y, node="MulBackward0"), save=("out",))
log = unary("log", lambda xp, x: xp.log(x),
            kernel_grad("log_bwd", lambda xp, g, x: g / x, node="DivBackward0"), save=(0,))
log1p = unary("log1p", lambda xp, x: xp.log1p(x),
              kernel_grad("log1p_bwd", lambda xp, g, x: g / (x + 1), node="Log1PBackwardBackward0"),
              save=(0,), node="Log1PBackward0")
expm1 = unary("expm1", lambda xp, x: xp.expm1(x), lambda ctx, g: g * (ctx.saved[0] + 1), save=("out",))
log2 = unary("log2", lambda xp, x: xp.log2(x), lambda ctx, g: g / (ctx.saved[0] * 0.6931471805599453), save=(0,))
log10 = unary("log10", lambda xp, x: xp.log10(x), lambda ctx, g: g / (ctx.saved[0] * 2.302585092994046),
              save=(0,))
sqrt = unary("sqrt", lambda xp, x: xp.sqrt(x),
             kernel_grad("sqrt_bwd", lambda xp, g, y: g / (2 * y), node="DivBackward0"), save=("out",))
rsqrt = unary("rsqrt", lambda xp, x: 1 / xp.sqrt(x),
              kernel_grad("rsqrt_bwd", lambda xp, g, y: -0.5 * g * (y * y * y), node="MulBackward0"),
              save=("out",))
sin = unary("sin", lambda xp, x: xp.sin(x), lambda ctx, g: g * ctx.saved[0].cos(), save=(0,))
cos = unary("cos", lambda xp, x: xp.cos(x), lambda ctx, g: g * -ctx.saved[0].sin(), save=(0,))
tan = unary("tan", lambda xp, x: xp.tan(x), lambda ctx, g: g * (1 + ctx.saved[0] * ctx.saved[0]), save=("out",))
atan = arctan = unary("atan", lambda xp, x: xp.arctan(x),
                      kernel_grad("atan_bwd", lambda xp, g, x: g / (x * x + 1)), save=(0,), aliases=("arctan",))
asin = arcsin = unary("asin", lambda xp, x: xp.arcsin(x),
                      kernel_grad("asin_bwd", lambda xp, g, x: g / xp.sqrt(1 - x * x)), save=(0,), aliases=("arcsin",))
acos = arccos = unary("acos", lambda xp, x: xp.arccos(x),
                      kernel_grad("acos_bwd", lambda xp, g, x: -g / xp.sqrt(1 - x * x)), save=(0,), aliases=("arccos",))
sinh = unary("sinh", lambda xp, x: xp.sinh(x), kernel_grad("sinh_bwd", lambda xp, g, x: g * xp.cosh(x)), save=(0,))
cosh = unary("cosh", lambda xp, x: xp.cosh(x), kernel_grad("cosh_bwd", lambda xp, g, x: g * xp.sinh(x)), save=(0,))
asinh = arcsinh = unary("asinh", lambda xp, x: xp.arcsinh(x),
                        kernel_grad("asinh_bwd", lambda xp, g, x: g / xp.sqrt(x * x + 1)), save=(0,),
                        aliases=("arcsinh",))
acosh = arccosh = unary("acosh", lambda xp, x: xp.arccosh(x),
                        kernel_grad("acosh_bwd", lambda xp, g, x: g / xp.sqrt(x * x - 1)), save=(0,),
                        aliases=("arccosh",))
atanh = arctanh = unary("atanh", lambda xp, x: xp.arctanh(x),
                        kernel_grad("atanh_bwd", lambda xp, g, x: g / (1 - x * x)), save=(0,), aliases=("arctanh",))
_TWO_OVER_SQRT_PI = 1.1283791670955126
erf = unary("erf", _erf_array, kernel_grad("erf_bwd", lambda xp, g, x: g * (_TWO_OVER_SQRT_PI * xp.exp(-(x * x)))),
            save=(0,))
erfc = unary("erfc", _erfc_array,
             kernel_grad("erfc_bwd", lambda xp, g, x: g * (-_TWO_OVER_SQRT_PI * xp.exp(-(x * x)))), save=(0,))
# (d/dy erfinv(y) = sqrt(pi) / 2 * exp(erfinv(y)^2): from the result, which PyTorch recomputes)
erfinv = unary("erfinv", _erfinv_array,
               kernel_grad("erfinv_bwd", lambda xp, g, y: g * (0.886226925452758 * xp.exp(y * y))), save=("out",))
exp2 = unary("exp2", lambda xp, x: xp.exp2(x), kernel_grad("exp2_bwd", lambda xp, g, y: g * y * 0.6931471805599453),
             save=("out",))


def _sinc_fwd(xp, x):
    px = x * math.pi
    return xp.where(x == 0, 1, xp.sin(px) / xp.where(x == 0, 1, px)).astype(x.dtype, copy=False)


# d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, 0 at 0 (torch's sinc_backward, rewritten with the result), with
# cos(pi x) computed before the kernel: the kernel is then plain arithmetic and rounds as numpy does
sinc = unary("sinc", _sinc_fwd,
             kernel_grad("sinc_bwd", lambda xp, g, x, y, c: xp.where(x == 0, 0, g * (c - y) / x),
                         inputs=lambda ctx: (*ctx.saved, cos(ctx.saved[0] * math.pi))),
             save=(0, "out"))
_DEG, _RAD = math.pi / 180, 180 / math.pi
deg2rad = unary("deg2rad", lambda xp, x: x * _DEG, kernel_grad("deg2rad_bwd", lambda xp, g: g * _DEG),
                node="Deg2RadBackward0")
rad2deg = unary("rad2deg", lambda xp, x: x * _RAD, kernel_grad("rad2deg_bwd", lambda xp, g: g * _RAD),
                node="Rad2DegBackward0")
tanh = unary("tanh", lambda xp, x: xp.tanh(x), kernel_grad("tanh_bwd", lambda xp, g, y: g * (1 - y * y)),
             save=("out",))


def _sigmoid_fwd(xp, x):
    # NOTE: 1/(1+exp(-x)) overflows exp for very negative x; this form stays finite for all x.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = unary("sigmoid", _sigmoid_fwd, kernel_grad("sigmoid_bwd", lambda xp, g, y: g * (1 - y) * y),
                save=("out",))
# (threshold_backward: where(y <= 0, 0, g); a NaN result passes g through)
def _relu_fwd(xp, x):
    if x.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return xp.maximum(x, 0)


relu = unary("relu", _relu_fwd,
             kernel_grad("relu_bwd", lambda xp, g, y: xp.where(y <= 0, 0, g), node="ReluBackwardBackward0"),
             save=("out",), dtype="keep")


def _zero_grad(ctx, g):
    return g * 0


sign = unary("sign", lambda xp, x: xp.sign(x), _zero_grad, dtype="keep")
sgn = unary("sgn", lambda xp, x: xp.sign(x), _zero_grad, dtype="keep")  # (sign, for real tensors)
floor = unary("floor", lambda xp, x: xp.floor(x) if x.dtype.kind == "f" else x.copy(), _zero_grad, dtype="keep")
ceil = unary("ceil", lambda xp, x: xp.ceil(x) if x.dtype.kind == "f" else x.copy(), _zero_grad, dtype="keep")
trunc = unary("trunc", lambda xp, x: xp.trunc(x) if x.dtype.kind == "f" else x.copy(), _zero_grad, dtype="keep",
              aliases=("fix",))
fix = trunc
frac = unary("frac", lambda xp, x: x - xp.trunc(x), lambda ctx, g: g, dtype="keep")
def _round_fwd(xp, x, decimals=0):
    return xp.round(x, decimals) if x.dtype.kind == "f" else x.copy()


_ROUND = defop("round", _round_fwd, _zero_grad, group="unary", dtype="keep")
_ROUND_DECIMALS = defop("round_decimals", _round_fwd, _zero_grad, node="RoundBackward1", group="unary",
                        dtype="keep", public=False)


@export(inplace=True)
def round(input, *, decimals=None):
    # NOTE: numpy and PyTorch both round half to even; passing decimals (even 0) records RoundBackward1
    return apply(_ROUND, input) if decimals is None else apply(_ROUND_DECIMALS, input, decimals=decimals)


@export(inplace=True)
def square(input):
    return input * input


def _clamp_fwd(xp, x, min=None, max=None):
    if min is not None and max is not None:
        # PyTorch: min(max(x, lo), hi), so lo > hi gives hi everywhere
        return xp.minimum(xp.maximum(x, min), max)
    if min is not None:
        return xp.maximum(x, min)
    return xp.minimum(x, max)


def _clamp_bounds(ctx):
    lo, hi = ctx.params.get("min"), ctx.params.get("max")
    return {"lo": -math.inf if lo is None else float(lo), "hi": math.inf if hi is None else float(hi)}


# g where lo <= x <= hi, else 0 (and 0 where x is NaN)
_CLAMP = defop("clamp", _clamp_fwd,
               kernel_grad("clamp_bwd", lambda xp, g, x, lo, hi: xp.where((x >= lo) & (x <= hi), g, 0),
                           scalars=_clamp_bounds, node="ClampBackwardBackward0"),
               save=(0,), node="ClampBackward1", group="unary", dtype="promote")


def _clamp_tensor_fwd(xp, x, lo, hi):
    if lo is not None:
        x = xp.maximum(x, lo)
    return xp.minimum(x, hi) if hi is not None else x


def _clamp_tensor_bwd(ctx, g):
    # PyTorch's clamp_backward / clamp_backward_min_max: x gets g inside [lo, hi]; lo gets it where x < lo
    # (and lo < hi), hi where x > hi or hi < lo
    from .arithmetic import where  # layering: arithmetic is declared after unary
    x, lo, hi = ctx.saved
    zero = 0.0
    gx = glo = ghi = None
    if ctx.needs_input_grad[0]:
        keep = x == x
        if lo is not None:
            keep = keep & (x >= lo)
        if hi is not None:
            keep = keep & (x <= hi)
        gx = where(keep, g, zero)
    if lo is not None and ctx.needs_input_grad[1]:
        glo = where((x < lo) & (lo < hi) if hi is not None else x < lo, g, zero)
    if hi is not None and ctx.needs_input_grad[2]:
        ghi = where((x > hi) | (hi < lo) if lo is not None else x > hi, g, zero)
    return gx, glo, ghi


_CLAMP_TENSOR = defop("clamp_tensor", _clamp_tensor_fwd, _clamp_tensor_bwd, save=(0, 1, 2), node="ClampBackward0",
                      group="unary", public=False)


@export(inplace=True, aliases=("clip",))
def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input._data.dtype.kind == "b" and all(b is None or isinstance(b, bool) for b in (min, max)):
        raise _dtype.not_implemented("clamp_min_scalar_cpu" if max is None else "clamp_scalar_cpu", input.dtype)
    if isinstance(min, Tensor) or isinstance(max, Tensor):  # (a number beside a tensor bound: a 0-d tensor)
        min, max = (b if b is None or isinstance(b, Tensor) else
                    Tensor._make(input._xp.asarray(_dtype.number_arg(b, "clamp", "min"))) for b in (min, max))
        return apply(_CLAMP_TENSOR, input, min, max)
    bounds = {k: _dtype.number_arg(v, "clamp", k) for k, v in (("min", min), ("max", max)) if v is not None}
    dt = _dtype.result_type((input, *bounds.values()))
    if dt.np != input._data.dtype:  # an int tensor clamped to a float bound is float, as in PyTorch
        input = input.to(dt)
    return apply(_CLAMP, input, **{k: _dtype.checked_scalar(v, dt) for k, v in bounds.items()})


clip = clamp


@export(inplace=True)
def clamp_min(input, min):
    return clamp(input, min=min)


@export(inplace=True)
def clamp_max(input, max):
    return clamp(input, max=max)


# ---- logit ----------------------------------------------------------------------------------------------
def _logit_fwd(xp, x, eps=None):
    if eps is not None:
        x = xp.clip(x, eps, 1 - eps)
    return xp.log(x / (1 - x))


def _logit_bounds(ctx):
    # NaN outside [0, 1] without eps; with it, 0 outside [eps, 1 - eps], where the forward clamps
    eps = ctx.params.get("eps")
    return {"lo": 0.0, "hi": 1.0, "outside": math.nan} if eps is None else {"lo": eps, "hi": 1 - eps, "outside": 0.0}


_LOGIT = defop("logit", _logit_fwd,
               kernel_grad("logit_bwd",
                           lambda xp, g, x, lo, hi, outside: xp.where((x < lo) | (x > hi), outside, g / (x * (1 - x))),
                           scalars=_logit_bounds),
               save=(0,), group="unary", dtype="float")


@export(inplace=True)
def logit(input, eps=None):
    return apply(_LOGIT, input) if eps is None else apply(_LOGIT, input, eps=float(eps))


# ---- nan_to_num -----------------------------------------------------------------------------------------
def _nan_to_num_fwd(xp, x, nan=0.0, posinf=None, neginf=None):
    if x.dtype.kind != "f":
        return x.copy()
    return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


_NAN_TO_NUM = defop("nan_to_num", _nan_to_num_fwd,
                    kernel_grad("nan_to_num_bwd", lambda xp, g, x: g * xp.isfinite(x)), save=(0,), group="unary",
                    dtype="keep")


@export(inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return apply(_NAN_TO_NUM, input, nan=nan, posinf=posinf, neginf=neginf)


# ---- predicates (bool results, no gradient) -------------------------------------------------------------
def _signbit(xp, x):
    return xp.signbit(x) if x.dtype.kind == "f" else x < 0  # (numpy's signbit takes floats only)


isnan = unary("isnan", lambda xp, x: xp.isnan(x), dtype="keep", inplace=False)
isinf = unary("isinf", lambda xp, x: xp.isinf(x), dtype="keep", inplace=False)
isposinf = unary("isposinf", lambda xp, x: x == math.inf, dtype="keep", inplace=False)
isneginf = unary("isneginf", lambda xp, x: x == -math.inf, dtype="keep", inplace=False)
isfinite = unary("isfinite", lambda xp, x: xp.isfinite(x), dtype="keep", inplace=False)
isreal = unary("isreal", lambda xp, x: xp.ones(x.shape, dtype=bool), dtype="keep", inplace=False)  # (no complex)
signbit = unary("signbit", _signbit, dtype="keep", inplace=False)

"""Unary elementwise ops. Those with a kernel-backed backward name the kernel in their row."""
from .. import _dtype
from ..autograd import grad_mode
from ..tensor import Tensor
from . import backward_kernels as K
from .core import apply, apply1, apply2, defop


def _unary(name, forward, backward=None, *, save=(), kernel=None, dtype="float", node=None):
    op = defop(name, forward, backward, save=save, kernel=kernel, dtype=dtype, node=node, family="unary")
    return lambda input: apply1(op, input)


def _k(kop):
    """backward = one kernel launch on (grad, saved value)"""
    kernel = kop.forward

    def backward(ctx, g):
        if grad_mode._state.enabled:  # create_graph: record the launch, so that it can be differentiated
            return apply2(kop, g, ctx.saved[0])
        # NOTE: the common case needs no node: the kernel runs on the arrays (no tensor for the saved value)
        return Tensor._make(kernel(None, g._data, ctx.saved_array(0)))
    return backward


exp = _unary("exp", lambda xp, x: xp.exp(x), _k(K.EXP_BWD), save=("out",), kernel="exp_bwd")
log = _unary("log", lambda xp, x: xp.log(x), _k(K.LOG_BWD), save=(0,), kernel="log_bwd")
log1p = _unary("log1p", lambda xp, x: xp.log1p(x), _k(K.LOG1P_BWD), save=(0,), kernel="log1p_bwd",
               node="Log1PBackward0")
expm1 = _unary("expm1", lambda xp, x: xp.expm1(x), lambda ctx, g: g * (ctx.saved[0] + 1), save=("out",))
log2 = _unary("log2", lambda xp, x: xp.log2(x), lambda ctx, g: g / (ctx.saved[0] * 0.6931471805599453), save=(0,))
log10 = _unary("log10", lambda xp, x: xp.log10(x), lambda ctx, g: g / (ctx.saved[0] * 2.302585092994046),
               save=(0,))
sqrt = _unary("sqrt", lambda xp, x: xp.sqrt(x), _k(K.SQRT_BWD), save=("out",), kernel="sqrt_bwd")
rsqrt = _unary("rsqrt", lambda xp, x: 1 / xp.sqrt(x), _k(K.RSQRT_BWD), save=("out",), kernel="rsqrt_bwd")
sin = _unary("sin", lambda xp, x: xp.sin(x), lambda ctx, g: g * ctx.saved[0].cos(), save=(0,))
cos = _unary("cos", lambda xp, x: xp.cos(x), lambda ctx, g: g * -ctx.saved[0].sin(), save=(0,))
tan = _unary("tan", lambda xp, x: xp.tan(x), lambda ctx, g: g * (1 + ctx.saved[0] * ctx.saved[0]), save=("out",))
tanh = _unary("tanh", lambda xp, x: xp.tanh(x), _k(K.TANH_BWD), save=("out",), kernel="tanh_bwd")


def _sigmoid_fwd(xp, x):
    # NOTE: 1/(1+exp(-x)) overflows exp for very negative x; this form stays finite for all x.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = _unary("sigmoid", _sigmoid_fwd, _k(K.SIGMOID_BWD), save=("out",), kernel="sigmoid_bwd")
relu = _unary("relu", lambda xp, x: xp.maximum(x, 0), _k(K.RELU_BWD), save=("out",), kernel="relu_bwd",
              dtype="keep")


def _zero_grad(ctx, g):
    return g * 0


sign = _unary("sign", lambda xp, x: xp.sign(x), _zero_grad, dtype="keep")
floor = _unary("floor", lambda xp, x: xp.floor(x) if x.dtype.kind == "f" else x.copy(), _zero_grad, dtype="keep")
ceil = _unary("ceil", lambda xp, x: xp.ceil(x) if x.dtype.kind == "f" else x.copy(), _zero_grad, dtype="keep")
trunc = _unary("trunc", lambda xp, x: xp.trunc(x) if x.dtype.kind == "f" else x.copy(), _zero_grad, dtype="keep")
frac = _unary("frac", lambda xp, x: x - xp.trunc(x), lambda ctx, g: g, dtype="keep")
def _round_fwd(xp, x, decimals=0):
    return xp.round(x, decimals) if x.dtype.kind == "f" else x.copy()


_ROUND = defop("round", _round_fwd, _zero_grad, family="unary", dtype="keep")
_ROUND_DECIMALS = defop("round_decimals", _round_fwd, _zero_grad, node="RoundBackward1", family="unary",
                        dtype="keep", public=False)


def round(input, *, decimals=None):
    # NOTE: numpy and PyTorch both round half to even; passing decimals (even 0) records RoundBackward1
    return apply(_ROUND, input) if decimals is None else apply(_ROUND_DECIMALS, input, decimals=decimals)


def square(input):
    return input * input


def _clamp_fwd(xp, x, min=None, max=None):
    if min is not None and max is not None:
        # PyTorch: min(max(x, lo), hi), so lo > hi gives hi everywhere
        return xp.minimum(xp.maximum(x, min), max)
    if min is not None:
        return xp.maximum(x, min)
    return xp.minimum(x, max)


def _clamp_bwd(ctx, g):
    x, = ctx.saved
    return apply(K.CLAMP_BWD, g, x, lo=ctx.params.get("min"), hi=ctx.params.get("max"))


_CLAMP = defop("clamp", _clamp_fwd, _clamp_bwd, save=(0,), node="ClampBackward1", family="unary",
               kernel="clamp_bwd", dtype="promote")


def _clamp_tensor_fwd(xp, x, lo, hi):
    if lo is not None:
        x = xp.maximum(x, lo)
    return xp.minimum(x, hi) if hi is not None else x


def _clamp_tensor_bwd(ctx, g):
    # PyTorch's clamp_backward / clamp_backward_min_max: x gets g inside [lo, hi]; lo gets it where x < lo
    # (and lo < hi), hi where x > hi or hi < lo
    from .arithmetic import where
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
                      family="unary", public=False)


def clamp(input, min=None, max=None):
    from ..tensor import Tensor
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if not all(b is None or isinstance(b, Tensor) for b in (min, max)):
            raise TypeError("clamp() received an invalid combination of arguments: min and max must both be "
                            "Tensors or both be Numbers")
        return apply(_CLAMP_TENSOR, input, min, max)
    params = {}
    if min is not None:
        params["min"] = min
    if max is not None:
        params["max"] = max
    dt = _dtype.result_type((input, min, max))
    if dt.np != input._data.dtype:  # an int tensor clamped to a float bound is float, as in PyTorch
        input = input.to(dt)
    return apply(_CLAMP, input, **params)


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)

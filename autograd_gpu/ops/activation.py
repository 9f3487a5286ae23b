"""softmax and log_softmax: primitives, because their row-wise backward is one kernel launch."""
import numpy as np

from .. import _dtype
from .core import apply, defop, export
from .kernel_grad import kernel_grad
from .arithmetic import where
from .reduction import _dim
from .shape import cat


def _reducers(xp):
    # (numpy's ufunc.reduce directly: np.max / np.sum add ~2 us of argument handling to a small reduction)
    return (np.maximum.reduce, np.add.reduce) if xp is np else (xp.max, xp.sum)


def _softmax_fwd(xp, x, dim):
    # NOTE: subtract the row max so exp cannot overflow (logits of +-1000 stay finite)
    if not x.size:
        return x.copy()
    rmax, rsum = _reducers(xp)
    e = xp.exp(x - rmax(x, axis=dim, keepdims=True))
    return e / rsum(e, axis=dim, keepdims=True)


def _log_softmax_fwd(xp, x, dim):
    if not x.size:
        return x.copy()
    rmax, rsum = _reducers(xp)
    s = x - rmax(x, axis=dim, keepdims=True)
    return s - xp.log(rsum(xp.exp(s), axis=dim, keepdims=True))


def _dim_param(ctx):
    return {"dim": ctx.params["dim"]}


# row-wise kernels: gx = y * (g - sum(g * y)) and g - exp(y) * sum(g) along dim
SOFTMAX = defop("softmax", _softmax_fwd,
                kernel_grad("softmax_bwd", lambda xp, g, y, dim: y * (g - xp.sum(g * y, axis=dim, keepdims=True)),
                            scalars=_dim_param, node="SoftmaxBackwardDataBackward0"),
                save=("out",), group="activation", dtype="float")
LOG_SOFTMAX = defop("log_softmax", _log_softmax_fwd,
                    kernel_grad("log_softmax_bwd",
                                lambda xp, g, y, dim: g - xp.exp(y) * xp.sum(g, axis=dim, keepdims=True),
                                scalars=_dim_param, node="LogSoftmaxBackwardDataBackward0"),
                    save=("out",), group="activation", dtype="float")


def _softmax_dim(input, dim, name):
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    return _dim(dim, input.ndim)


def _check_float(input, name):
    if not input.is_floating_point():
        raise _dtype.not_implemented(f"{name}_lastdim_kernel_impl", input.dtype)


def _along(op, name, input, dim, dtype):
    d = _softmax_dim(input, dim, name)
    if dtype is not None:
        input = input.to(dtype)
    _check_float(input, name)
    return apply(op, input, dim=d)


@export
def softmax(input, dim=None, dtype=None):
    return _along(SOFTMAX, "softmax", input, dim, dtype)


@export
def log_softmax(input, dim=None, dtype=None):
    return _along(LOG_SOFTMAX, "log_softmax", input, dim, dtype)


# ---- elementwise activations with a kernel backward (PyTorch's *_backward formulas) ---------------------------
def _params(ctx):
    return ctx.params


def _activation(name, forward, backward, node=None):
    """A row of nn.functional's: forward(xp, x, **params); backward a kernel_grad of (g, x) and the params."""
    return defop(name, forward, backward, save=(0,), node=node, group="activation", dtype="float")


# hardtanh_backward: 0 where x <= min_val or x >= max_val (a NaN x passes g through)
HARDTANH = _activation("hardtanh", lambda xp, x, min_val, max_val: xp.minimum(xp.maximum(x, min_val), max_val),
                       kernel_grad("hardtanh_bwd",
                                   lambda xp, g, x, min_val, max_val: xp.where((x <= min_val) | (x >= max_val), 0, g),
                                   scalars=_params))
THRESHOLD = _activation("threshold", lambda xp, x, threshold, value: xp.where(x > threshold, x, value),
                        kernel_grad("threshold_bwd", lambda xp, g, x, threshold: xp.where(x <= threshold, 0, g),
                                    scalars=lambda ctx: {"threshold": ctx.params["threshold"]}))
def _shrink_grad(xp, g, x, lambd):  # (soft- and hardshrink_backward: 0 where -lambd <= x <= lambd)
    return xp.where((x >= -lambd) & (x <= lambd), 0, g)


SOFTSHRINK = _activation("softshrink",
                         lambda xp, x, lambd: xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0)),
                         kernel_grad("softshrink_bwd", _shrink_grad, scalars=_params))
HARDSHRINK = _activation("hardshrink", lambda xp, x, lambd: xp.where((x >= -lambd) & (x <= lambd), 0, x),
                         kernel_grad("hardshrink_bwd", _shrink_grad, scalars=_params))
HARDSIGMOID = _activation("hardsigmoid", lambda xp, x: xp.minimum(xp.maximum(x / 6 + 0.5, 0), 1),
                          kernel_grad("hardsigmoid_bwd", lambda xp, g, x: xp.where((x > -3) & (x < 3), g / 6, 0)))
HARDSWISH = _activation("hardswish", lambda xp, x: x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
                        kernel_grad("hardswish_bwd",
                                    lambda xp, g, x: xp.where(x < -3, 0, xp.where(x <= 3, g * (x / 3 + 0.5), g))))


def _elu_fwd(xp, x, alpha, scale, input_scale):
    # NOTE: expm1 of min(x, 0): the branch where() discards must not overflow
    return xp.where(x <= 0, xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale), x * scale)


# elu_backward (is_result=false): x <= 0: g * alpha * scale * input_scale * exp(x * input_scale); else g * scale
_ELU_BWD = kernel_grad("elu_bwd", lambda xp, g, x, alpha, scale, input_scale: xp.where(
    x <= 0, g * (alpha * scale * input_scale) * xp.exp(xp.minimum(x, 0) * input_scale), g * scale), scalars=_params)
ELU = _activation("elu", _elu_fwd, _ELU_BWD)
CELU = _activation("celu", _elu_fwd, _ELU_BWD)


# ---- glu: the first half of dim times the sigmoid of the second ---------------------------------------------
def _glu_fwd(xp, x, dim):
    a, b = xp.split(x, 2, axis=dim)
    e = xp.exp(-xp.abs(b))  # (sigmoid without overflow, as unary.sigmoid)
    return a * xp.where(b >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _glu_bwd(ctx, g):
    x, = ctx.saved
    dim = ctx.params["dim"]
    half = x.shape[dim] // 2
    a, b = x.narrow(dim, 0, half), x.narrow(dim, half, half)
    s = b.sigmoid()
    ga = g * s
    return cat([ga, ga * a * (1 - s)], dim)


GLU = defop("glu", _glu_fwd, _glu_bwd, save=(0,), group="activation", dtype="float")


# ---- logsigmoid: -softplus(-x), never overflowing -------------------------------------------------------
def _logsigmoid_fwd(xp, x):
    return -(xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x))))


def _logsigmoid_grad(xp, g, x):
    # log_sigmoid_backward: g * sigmoid(-x), from e = exp(-|x|) so that nothing overflows
    e = xp.exp(-xp.abs(x))
    return g * xp.where(x > 0, e, 1) / (1 + e)


LOG_SIGMOID = defop("log_sigmoid", _logsigmoid_fwd, kernel_grad("log_sigmoid_bwd", _logsigmoid_grad), save=(0,),
                    group="activation", dtype="float", node="LogSigmoidBackward0")


# ---- mish: x * tanh(softplus(x)) --------------------------------------------------------------------------
def _softplus_tanh(xp, x, e):
    return xp.tanh(xp.maximum(x, 0) + xp.log1p(e))


def _mish_fwd(xp, x):
    return x * _softplus_tanh(xp, x, xp.exp(-xp.abs(x)))


def _mish_bwd(ctx, g):
    # mish_backward: g * (t + x * sigmoid(x) * (1 - t^2)), t = tanh(softplus(x)); e = exp(-|x|) never overflows.
    # NOTE: no kernel: the sum cancels where the derivative crosses 0 (x ~ -1.19), so a float32 kernel's few-ulp
    # differences from numpy's tanh / log1p grow to tens of ulp there
    x, = ctx.saved
    e = (-x.abs()).exp()
    t = (x.clamp(min=0) + e.log1p()).tanh()
    return g * (t + x * (where(x > 0, 1.0, e) / (1 + e)) * (1 - t * t))


MISH = defop("mish", _mish_fwd, _mish_bwd, save=(0,), group="activation", dtype="float")

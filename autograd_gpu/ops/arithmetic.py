"""Arithmetic and binary elementwise ops, comparisons and logical ops."""
import math

import numpy as np

from ..autograd import grad_mode
from ..tensor import _C_TYPE_NAMES, SCALAR_TYPE_NAMES, Tensor, _legacy_type_name
from .core import _check_big_int, _wrap_int, apply, autocast_inputs, defop, export
from .kernel_grad import kernel_grad
from .reduction import _dim
from .shape import broadcast_shapes, cat
from .. import _device, _dtype
from .indexing import narrow, nonzero


def _is_t(x):
    return isinstance(x, Tensor)


# ---- + - * / --------------------------------------------------------------------------------------
def _add_bwd(ctx, g):
    alpha = ctx.params.get("alpha", 1)
    return g, (g if alpha == 1 else g * alpha)


def _sub_bwd(ctx, g):
    alpha = ctx.params.get("alpha", 1)
    return g, (-g if alpha == 1 else g * -alpha)


ADD = defop("add", lambda xp, a, b, alpha=1: a + b if alpha == 1 else a + alpha * b, _add_bwd, group="arithmetic")
SUB = defop("sub", lambda xp, a, b, alpha=1: a - b if alpha == 1 else a - alpha * b, _sub_bwd, group="arithmetic")
RSUB = defop("rsub", lambda xp, a, b: b - a, lambda ctx, g: (-g, g), node="RsubBackward1", group="arithmetic",
             public=False)


def _mul_bwd(ctx, g):
    a, b = ctx.saved
    return (g * b if ctx.needs_input_grad[0] else None), (g * a if ctx.needs_input_grad[1] else None)


# (each operand is saved only when the other needs a gradient: its own gradient does not read it)
MUL = defop("mul", lambda xp, a, b: a * b, _mul_bwd, save=((0, 1), (1, 0)), group="arithmetic", opmath=True)


_DIV_GRAD = kernel_grad("div_bwd", lambda xp, g, a, b: (g / b, -g * ((a / b) / b)), node="DivBackwardBackward0")


def _div_bwd(ctx, g):
    if not ctx.needs_input_grad[1]:  # (then a is not saved: the one gradient is g / b)
        return g / ctx.saved[1], None
    return _DIV_GRAD(ctx, g)


DIV = defop("div", lambda xp, a, b: a / b, _div_bwd, save=((0, 1), 1), group="arithmetic", kernel="div_bwd",
            dtype="float", opmath=True)
def _kind(x):
    return x.dtype.kind if hasattr(x, "dtype") else np.dtype(type(x)).kind


def _integer_division(fn):
    """A forward that divides: on integers, a zero divisor raises as PyTorch's CPU kernels do (numpy gives 0
    with a warning). NOTE: on the GPU PyTorch does not check (it would need the host to read the divisor)."""
    def forward(xp, a, b):
        if xp is np and _kind(a) in "iub" and _kind(b) in "iub" and not np.all(b):
            raise RuntimeError("ZeroDivisionError")
        return fn(xp, a, b)
    return forward


FLOOR_DIVIDE = defop("floor_divide", _integer_division(lambda xp, a, b: xp.floor_divide(a, b)),
                     group="arithmetic", opmath=True)


def _rounded_quotient_bwd(mode):
    # remainder(a, b) = a - b * floor(a / b) (fmod: trunc): d/da = 1, d/db = -floor(a / b) away from the jumps
    def bwd(ctx, g):
        a, b = ctx.saved
        ga = g if ctx.needs_input_grad[0] else None
        gb = -g * div(a, b, rounding_mode=mode) if ctx.needs_input_grad[1] else None
        return ga, gb
    return bwd


_REMAINDER_FWD = _integer_division(lambda xp, a, b: xp.remainder(a, b))
_FMOD_FWD = _integer_division(lambda xp, a, b: xp.fmod(a, b))
REMAINDER = defop("remainder", _REMAINDER_FWD, lambda ctx, g: (g, None), group="arithmetic")
REMAINDER_TENSOR = defop("remainder_tensor", _REMAINDER_FWD, _rounded_quotient_bwd("floor"),
                         save=(0, 1), node="RemainderBackward1", group="arithmetic", public=False)
FMOD = defop("fmod", _FMOD_FWD, lambda ctx, g: (g, None), group="arithmetic")
FMOD_TENSOR = defop("fmod_tensor", _FMOD_FWD, _rounded_quotient_bwd("trunc"), save=(0, 1),
                    node="FmodBackward1", group="arithmetic", public=False)


def _alpha(input, other, alpha):
    """other * alpha where both are numbers (wrapped into input's integer dtype as PyTorch does), or None; PyTorch's
    refusal of a float alpha for integer tensors."""
    if isinstance(alpha, float) and all(not _is_t(x) or x._data.dtype.kind in "iub" for x in (input, other)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if _is_t(other) or not isinstance(other, (int, float, np.number, np.bool_)):
        return None  # (a tensor; or not a number, which apply refuses)
    other = _dtype.python_number(other)
    if type(other) is int and not -(1 << 63) <= other < (1 << 63):
        _check_big_int(other, (input,))
    if isinstance(other, bool) and _is_t(input) and input._data.dtype.kind == "b" and isinstance(alpha, int):
        return bool(other and alpha)  # (bool arithmetic: True + 2 * True is True)
    scaled = other * alpha
    if isinstance(scaled, int) and not -(1 << 63) <= scaled < (1 << 63):  # (PyTorch's int64 product wraps)
        floating = _is_t(input) and input.is_floating_point()
        scaled = float(scaled) if floating else ((scaled + (1 << 63)) % (1 << 64)) - (1 << 63)
    return scaled


@export(inplace=True)
def add(input, other, *, alpha=1):
    if alpha == 1:
        return apply(ADD, input, other)
    scaled = _alpha(input, other, alpha)
    return apply(ADD, input, other, alpha=alpha) if scaled is None else apply(ADD, input, scaled)


@export(inplace=True, aliases=("subtract",))
def sub(input, other, *, alpha=1):
    _check_bool_sub(input, other)
    if alpha == 1:
        return apply(SUB, input, other)
    scaled = _alpha(input, other, alpha)
    return apply(SUB, input, other, alpha=alpha) if scaled is None else apply(SUB, input, scaled)


subtract = sub


def _check_bool_sub(input, other):
    if not all(_is_t(x) or isinstance(x, (int, float, np.number, np.bool_)) for x in (input, other)):
        return  # (apply refuses what is not a number)
    kinds = [x._data.dtype.kind == "b" if _is_t(x) else isinstance(x, bool) for x in (input, other)]
    if all(kinds):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if any(kinds):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")


@export(method=False)
def rsub(input, other, *, alpha=1):
    _check_bool_sub(input, other)
    return apply(RSUB, input, other) if alpha == 1 else sub(other, input * alpha)


@export(inplace=True, aliases=("multiply",))
def mul(input, other):
    return apply(MUL, input, other)


multiply = mul


@export(inplace=True, aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return apply(DIV, input, other)
    if rounding_mode not in FLOOR_DIV_MODES:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"'{rounding_mode}'")
    _no_bool(f"div_{rounding_mode}_cpu", input, other)
    return apply(FLOOR_DIV_MODES[rounding_mode], input, other)


def _zero_grads(ctx, g):
    return tuple(g * 0 if need else None for need in ctx.needs_input_grad)


# a rounded quotient is piecewise constant: PyTorch records DivBackward2 with zero gradients
FLOOR_DIV_MODES = {
    "floor": defop("div_floor", _integer_division(lambda xp, a, b: xp.floor_divide(a, b)), _zero_grads,
                   node="DivBackward2",
                   group="arithmetic", public=False, opmath=True),
    "trunc": defop("div_trunc", _integer_division(lambda xp, a, b: _trunc_div(xp, a, b)), _zero_grads,
                   node="DivBackward2",
                   group="arithmetic", public=False, opmath=True),
}


def _trunc_div(xp, a, b):
    if getattr(a, "dtype", None) is not None and a.dtype.kind in "iu":
        q = xp.floor_divide(a, b)
        return q + ((a % b != 0) & ((a < 0) != (b < 0)))
    return xp.trunc(a / b)


divide = true_divide = div


@export(inplace=True)
def floor_divide(input, other):
    _no_bool("div_floor_cpu", input, other)
    return apply(FLOOR_DIVIDE, input, other)


def _no_bool(kernel, *operands):
    """PyTorch's NotImplementedError for an op without a bool kernel, where every operand is bool."""
    if not all(_is_t(x) or isinstance(x, (bool, int, float, np.number, np.bool_)) for x in operands):
        return  # (apply refuses what is not a number)
    dt = _dtype.result_type(operands)
    if dt is _dtype.bool:
        raise _dtype.not_implemented(kernel, dt)


@export(inplace=True)
def remainder(input, other):
    _no_bool("remainder_cpu", input, other)
    return apply(REMAINDER_TENSOR if _is_t(other) else REMAINDER, input, other)


@export(inplace=True)
def fmod(input, other):
    _no_bool("fmod_cpu", input, other)
    return apply(FMOD_TENSOR if _is_t(other) else FMOD, input, other)


# ---- pow -----------------------------------------------------------------------------------------
def _pow_scalar_bwd(ctx, g):
    a, = ctx.saved
    e = ctx.params["exponent"]
    if e == 0:
        return g * 0
    return g * (e * a ** (e - 1)) if e != 1 else g


def _pow_grads(xp, g, a, b, y):
    # PyTorch's pow_backward_self / pow_backward_exponent (y = a ** b, the result)
    ga = xp.where(b == 0, 0, g * (b * a ** (b - 1)))
    gb = g * xp.where((a == 0) & (b >= 0), 0, y * xp.log(a))
    return ga, gb


def _rpow_bwd(ctx, g):
    b, = ctx.saved  # base ** b with a Python number base
    base = ctx.params["base"]
    if base == 0:
        # PyTorch's pow_backward_exponent: 0 where the exponent is >= 0, else result * log(0) = inf * -inf
        return g * where(b >= 0, 0.0, -math.inf)
    return g * (base ** b) * (math.log(base) if base > 0 else float("nan"))


def _pow_fwd(xp, a, b):
    if _kind(a) in "iu" and _kind(b) in "iu":
        # integer powers as PyTorch's kernels compute them: a negative exponent gives 0, but 1 for a base of 1 and
        # +-1 for -1 (numpy refuses negative integer exponents)
        neg = b < 0
        p = xp.power(a, xp.where(neg, 0, b))
        inv = xp.where(a == 1, 1, xp.where(a == -1, xp.where(b % 2 == 0, 1, -1), 0))
        return xp.where(neg, inv.astype(p.dtype), p)
    return a ** b


POW_SCALAR = defop("pow_scalar", lambda xp, a, exponent: a ** exponent, _pow_scalar_bwd, save=(0,),
                   node="PowBackward0", group="arithmetic", public=False)
POW = defop("pow", _pow_fwd, kernel_grad("pow_bwd", _pow_grads, node="PowBackwardBackward0"),
            save=(0, 1, "out"), node="PowBackward1", group="arithmetic")
RPOW = defop("rpow", lambda xp, b, base: _pow_fwd(xp, xp.asarray(base, dtype=b.dtype), b), _rpow_bwd, save=(0,),
             node="PowBackward2", group="arithmetic", public=False)


@export(inplace=True)
def pow(input, exponent):
    if _is_t(exponent):  # (a bool tensor ** True is bool: the scalar-exponent kernel takes bools)
        _no_bool("pow", input, exponent)
    if not _is_t(exponent):
        if not _is_t(input):
            raise TypeError("pow() needs at least one tensor argument")
        exponent = _dtype.number_arg(exponent, "pow", "exponent")  # (a numpy scalar is the number it holds)
        if type(exponent) is int and not -(1 << 63) <= exponent < (1 << 63):
            _check_big_int(exponent, (input,))
        kind = input._data.dtype.kind
        if kind in "iub" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if (kind in "iu" and type(exponent) is int) or (kind == "f" and isinstance(exponent, (int, float))):
            _dtype.checked_scalar(exponent, input.dtype)  # (int8 ** 300 and float16 ** 2**31 are refused)
        if isinstance(exponent, float) and kind in "iub":
            input = input.float()
        elif kind == "b" and type(exponent) is int:  # (bool ** 2 is int64)
            input = input.long()
        return apply(POW_SCALAR, input, exponent=exponent)
    if not _is_t(input):
        input = _dtype.number_arg(input, "pow", "self")
        if type(input) is int and not -(1 << 63) <= input < (1 << 63):
            _check_big_int(input, (exponent,))
        dt = exponent._data.dtype
        if dt.kind in "iub" and isinstance(input, float):
            exponent = exponent.float()
        elif dt.kind in "iu" and type(input) is int:
            input = _wrap_int(input, dt)  # (300 ** an int8 tensor: 300 is 44 there)
        elif dt.kind == "b" and type(input) is int:
            exponent = exponent.long()  # (2 ** a bool tensor is int64)
        return apply(RPOW, exponent, base=input)
    return apply(POW, input, exponent)


@export
def float_power(input, exponent):
    """input ** exponent computed in double precision: the result is float64, as in PyTorch."""
    return pow(input.double() if _is_t(input) else input, exponent.double() if _is_t(exponent) else exponent)


# ---- unary arithmetic ------------------------------------------------------------------------------
NEG = defop("neg", lambda xp, a: -a, lambda ctx, g: -g, group="arithmetic", dtype="keep")
ABS = defop("abs", lambda xp, a: xp.abs(a),
            kernel_grad("abs_bwd", lambda xp, g, x: g * xp.sign(x), node="MulBackward0"),
            save=(0,), group="arithmetic", dtype="keep")
RECIPROCAL = defop("reciprocal", lambda xp, a: 1 / a, lambda ctx, g: -g * ctx.saved[0] * ctx.saved[0],
                   save=("out",), group="arithmetic", dtype="float")


@export(inplace=True, aliases=("negative",))
def neg(input):
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return apply(NEG, input)


negative = neg


@export(inplace=True, aliases=("absolute",))
def abs(input):
    _no_bool("abs_cpu", input)
    return apply(ABS, input)


absolute = abs


@export(inplace=True)
def reciprocal(input):
    return apply(RECIPROCAL, input)


# ---- maximum / minimum / where ---------------------------------------------------------------------
def _maxmin_grads(is_max):
    # ties split g in half; a NaN operand passes g to both inputs (torch: where(a == b, g / 2, g) masked where
    # the other operand wins)
    def grads(xp, g, a, b):
        shared = xp.where(a == b, g / 2, g)
        a_loses, b_loses = (a < b, a > b) if is_max else (a > b, a < b)
        return xp.where(a_loses, 0, shared), xp.where(b_loses, 0, shared)
    return grads


def _maxmin_fwd(fn):
    return lambda xp, a, b: getattr(xp, fn)(a, b)


MAXIMUM = defop("maximum", _maxmin_fwd("maximum"),
                kernel_grad("maximum_bwd", _maxmin_grads(True), node="MaximumBackwardBackward0"),
                save=(0, 1), group="binary")
MINIMUM = defop("minimum", _maxmin_fwd("minimum"),
                kernel_grad("minimum_bwd", _maxmin_grads(False), node="MinimumBackwardBackward0"),
                save=(0, 1), group="binary")


@export
def maximum(input, other):
    _tensor_other("maximum", other)
    return apply(MAXIMUM, input, other)


@export
def minimum(input, other):
    _tensor_other("minimum", other)
    return apply(MINIMUM, input, other)


WHERE = defop("where", lambda xp, a, b, condition: xp.where(condition._data, a, b),
              kernel_grad("where_bwd", lambda xp, g, cond: (xp.where(cond, g, 0), xp.where(cond, 0, g)),
                          inputs=lambda ctx: (ctx.params["condition"],), node="WhereBackwardBackward0"),
              group="binary")


@export(method=False)  # (Tensor.where(condition, other) takes self as the input: bound in _methods)
def where(condition, input=None, other=None):
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{condition.dtype.name.capitalize()}")
    input, other = (_where_scalar(v, other if i == 0 else input) for i, v in enumerate((input, other)))
    if not _is_t(input) and not _is_t(other):
        # two Python numbers: PyTorch's dtype for them (the default float dtype, int64 or bool), on the
        # condition's device
        kinds = {type(v) for v in (input, other)}
        dt = _dtype.get_default_dtype() if float in kinds else _dtype.bool if kinds == {bool} else _dtype.int64
        xp = condition._xp
        with _device.on(condition.device):
            input = Tensor._make(xp.asarray(input, dtype=dt.np))
    return apply(WHERE, input, other, condition=condition)


def _where_scalar(v, partner):
    """A number given to where(), checked as PyTorch checks it: an int must fit the integer tensor beside it."""
    if _is_t(v):
        return v
    v = _dtype.number_arg(v, "where", "other")
    if type(v) is int and _is_t(partner) and partner._data.dtype.kind in "iu":
        _dtype.checked_scalar(v, partner.dtype)
    return v


# ---- more binary elementwise ops ----------------------------------------------------------------------
def _tensor_other(name, other):
    if not _is_t(other):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")


def _floating_only(kernel, *operands):
    dt = _dtype.result_type(operands)
    if not dt.is_floating_point:
        raise _dtype.not_implemented(kernel, dt)


def _atan2_grads(xp, g, a, b):
    # PyTorch's atan2_backward: 1 / (a^2 + b^2), masked to 0 where that is 0 (at the origin)
    d = a * a + b * b
    r = xp.where(d == 0, 0, 1 / d)
    return g * b * r, g * -a * r


def _hypot_grads(xp, g, a, b, y):
    return g * a / y, g * b / y


def _fmaxmin_grads(is_max):
    # a takes g where it wins (ties included) or where b is NaN, b elsewhere (torch's masked_fill formulas)
    def grads(xp, g, a, b):
        take_a = ((a >= b) if is_max else (a <= b)) | xp.isnan(b)
        return xp.where(take_a, g, 0), xp.where(take_a, 0, g)
    return grads


ATAN2 = defop("atan2", lambda xp, a, b: xp.arctan2(a, b), kernel_grad("atan2_bwd", _atan2_grads), save=(0, 1),
              group="binary", dtype="float")
LOGADDEXP = defop("logaddexp", lambda xp, a, b: xp.logaddexp(a, b),
                  kernel_grad("logaddexp_bwd", lambda xp, g, a, b: (g / (1 + xp.exp(b - a)), g / (1 + xp.exp(a - b)))),
                  save=(0, 1), group="binary")
LOGADDEXP2 = defop("logaddexp2", lambda xp, a, b: xp.logaddexp2(a, b),
                   kernel_grad("logaddexp2_bwd",
                               lambda xp, g, a, b: (g / (1 + xp.exp2(b - a)), g / (1 + xp.exp2(a - b)))),
                   save=(0, 1), group="binary")
HYPOT = defop("hypot", lambda xp, a, b: xp.hypot(a, b), kernel_grad("hypot_bwd", _hypot_grads), save=(0, 1, "out"),
              group="binary")
FMAX = defop("fmax", lambda xp, a, b: xp.fmax(a, b), kernel_grad("fmax_bwd", _fmaxmin_grads(True)), save=(0, 1),
             group="binary")
FMIN = defop("fmin", lambda xp, a, b: xp.fmin(a, b), kernel_grad("fmin_bwd", _fmaxmin_grads(False)), save=(0, 1),
             group="binary")


@export(inplace=True, aliases=("arctan2",))
def atan2(input, other):
    _tensor_other("atan2", other)
    return apply(ATAN2, input, other)


arctan2 = atan2


@export
def logaddexp(input, other):
    _tensor_other("logaddexp", other)
    _floating_only("logaddexp_cpu", input, other)
    return apply(LOGADDEXP, input, other)


@export
def logaddexp2(input, other):
    _tensor_other("logaddexp2", other)
    _floating_only("logaddexp2_cpu", input, other)
    return apply(LOGADDEXP2, input, other)


@export(inplace=True)
def hypot(input, other):
    _tensor_other("hypot", other)
    _floating_only("hypot_cpu", input, other)
    return apply(HYPOT, input, other)


@export
def fmax(input, other):
    _tensor_other("fmax", other)
    return apply(FMAX, input, other)


@export
def fmin(input, other):
    _tensor_other("fmin", other)
    return apply(FMIN, input, other)


# copysign: the magnitude's gradient is g * (result / input), 0 where the input is 0; the sign's is zero
_COPYSIGN_GRAD = kernel_grad("copysign_bwd", lambda xp, g, x, y: g * xp.where(x == 0, 0, y / x),
                             node="CopysignBackwardBackward0")


def _copysign_bwd(ctx, g):
    gx = _COPYSIGN_GRAD(ctx, g) if ctx.needs_input_grad[0] else None
    gs = None
    if ctx.needs_input_grad[1]:  # (PyTorch: zeros_like(other); sum_to brings it to other's shape)
        with _device.on(g.device):
            gs = Tensor._make(g._xp.zeros_like(g._data))
    return gx, gs


COPYSIGN = defop("copysign", lambda xp, a, b: xp.copysign(a, b), _copysign_bwd, save=(0, "out"), group="binary",
                 kernel="copysign_bwd", dtype="float")
COPYSIGN_SCALAR = defop("copysign_scalar", lambda xp, a, b: xp.copysign(a, b), _COPYSIGN_GRAD, save=(0, "out"),
                        node="CopysignBackward1", group="binary", dtype="float", public=False)


@export(inplace=True)
def copysign(input, other):
    return apply(COPYSIGN if _is_t(other) else COPYSIGN_SCALAR, input, other)


# xlogy(x, y) = x * log(y), 0 where x is 0 and y is not NaN (so 0 * log 0 = 0)
def _xlogy_fwd(xp, x, y):
    dt = (x if hasattr(x, "dtype") else y).dtype
    x, y = (v if hasattr(v, "dtype") else xp.asarray(v, dtype=dt) for v in (x, y))
    return xp.where((x == 0) & (y == y), 0, x * xp.log(y))


def _xlogy_grads(xp, g, x, y):
    # PyTorch: xlogy(g, y) masked to 0 where x == 0 and y <= 0 (x log y is not defined there); g * x / y
    glog = xp.where((g == 0) & (y == y), 0, g * xp.log(y))
    return xp.where((x == 0) & (y <= 0), 0, glog), g * x / y


def _xlogy_other_scalars(ctx):
    o = ctx.params["other"]
    return {"o": o, "log_o": math.log(o) if o > 0 else -math.inf if o == 0 else math.nan}


def _xlogy_self_fwd(xp, y, self):
    return _xlogy_fwd(xp, self, y)


_XLOGY_SELF_GRAD = kernel_grad("xlogy_self_bwd", lambda xp, g, y, s: g * s / y,
                               scalars=lambda ctx: {"s": ctx.params["self"]})
XLOGY = defop("xlogy", _xlogy_fwd, kernel_grad("xlogy_bwd", _xlogy_grads), save=(0, 1), group="binary",
              dtype="float")
# (the Python number is a parameter, so the kernel gets it as a scalar; PyTorch: xlogy.Scalar_Self / _Other)
XLOGY_SELF = defop("xlogy_scalar_self", _xlogy_self_fwd, _XLOGY_SELF_GRAD, save=(0,), node="XlogyBackward1",
                   group="binary", dtype="float", public=False)
XLOGY_OTHER = defop("xlogy_scalar_other", lambda xp, x, other: _xlogy_fwd(xp, x, other),
                    kernel_grad("xlogy_other_bwd",
                                # xlogy(g, o), and 0 where x == 0 unless o > 0
                                lambda xp, g, x, o, log_o: xp.where((o > 0) | (x != 0),
                                                                    xp.where((g == 0) & (o == o), 0, g * log_o), 0),
                                scalars=_xlogy_other_scalars),
                    save=(0,), node="XlogyBackward2", group="binary", dtype="float", public=False)


@export(inplace=True)
def xlogy(input, other):
    if not _is_t(input):
        return apply(XLOGY_SELF, other, self=input)
    return apply(XLOGY, input, other) if _is_t(other) else apply(XLOGY_OTHER, input, other=other)


# lerp(a, b, w) = a + w (b - a), computed as PyTorch does: from b's side when |w| >= 1/2, and in float32 for
# float16 (its opmath type; the dispatcher rounds the result once)
def _lerp_fwd(xp, a, b, weight):
    if a.dtype.itemsize == 2:
        a, b = a.astype(np.float32), b.astype(np.float32)
    return a + weight * (b - a) if abs(weight) < 0.5 else b - (b - a) * (1 - weight)


def _lerp_tensor_fwd(xp, a, b, w):
    if a.dtype.itemsize == 2:
        a, b, w = a.astype(np.float32), b.astype(np.float32), w.astype(np.float32)
    return xp.where(xp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))


LERP = defop("lerp", _lerp_fwd,
             kernel_grad("lerp_scalar_bwd", lambda xp, g, w: (g * (1 - w), g * w),
                         scalars=lambda ctx: {"w": ctx.params["weight"]}),
             group="binary")
LERP_TENSOR = defop("lerp_tensor", _lerp_tensor_fwd,
                    kernel_grad("lerp_bwd", lambda xp, g, a, b, w: (g * (1 - w), g * w, g * (b - a))),
                    save=(0, 1, 2), node="LerpBackward1", group="binary", public=False)


@export(inplace=True)
def lerp(input, end, weight):
    _tensor_other("lerp", end)
    dt = input._data.dtype
    for name, t in (("end", end), ("weight", weight)):
        if _is_t(t) and t._data.dtype != dt:
            raise RuntimeError(f"expected dtype {_C_TYPE_NAMES[dt.name]} for `{name}` but got dtype "
                               f"{_C_TYPE_NAMES[t._data.dtype.name]}")
    kind = "tensor" if _is_t(weight) else "scalar"
    if dt.kind != "f":
        raise _dtype.not_implemented(f"lerp_kernel_{kind}", dt)
    if _is_t(weight):
        return apply(LERP_TENSOR, input, end, weight)
    return apply(LERP, input, end, weight=weight)


# addcmul / addcdiv: input + value * t1 * t2 (or t1 / t2), all three broadcast and promoted together
def _addc_bwd(div):
    def backward(ctx, g):
        v = ctx.params.get("value", 1)
        t1, t2 = ctx.saved
        need = ctx.needs_input_grad
        gv = g if v == 1 else g * v
        if div:
            return g, (gv / t2 if need[1] else None), (-gv * t1 / (t2 * t2) if need[2] else None)
        return g, (gv * t2 if need[1] else None), (gv * t1 if need[2] else None)
    return backward


ADDCMUL = defop("addcmul", lambda xp, a, t1, t2, value=1: a + value * (t1 * t2), _addc_bwd(False),
                save=((1, 2), (2, 1)), group="arithmetic")
ADDCDIV = defop("addcdiv", lambda xp, a, t1, t2, value=1: a + value * (t1 / t2), _addc_bwd(True), save=(1, 2),
                group="arithmetic")


def _addc(op, input, tensor1, tensor2, value):
    for k, (name, t) in enumerate((("tensor1", tensor1), ("tensor2", tensor2))):
        if not _is_t(t):
            raise TypeError(f"{op.name}(): argument '{name}' (position {k + 2}) must be Tensor, not "
                            f"{type(t).__name__}")
    dt = _dtype.result_type((input, tensor1, tensor2))
    if op is ADDCDIV and tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs.")
    if dt == _dtype.bool:
        raise _dtype.not_implemented(f"{op.name}_cpu_out", dt)
    if not dt.is_floating_point:
        value = int(value)  # (PyTorch casts value to the integer result type)
    return apply(op, input, tensor1, tensor2) if value == 1 else apply(op, input, tensor1, tensor2, value=value)


@export(inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2.

    >>> torch.addcmul(torch.ones(2), torch.tensor([1., 2.]), torch.tensor([3., 4.]), value=0.5)
    tensor([2.5000, 5.0000])
    """
    return _addc(ADDCMUL, input, tensor1, tensor2, value)


@export(inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2.

    >>> torch.addcdiv(torch.ones(2), torch.tensor([1., 2.]), torch.tensor([2., 4.]), value=2)
    tensor([2., 2.])
    """
    return _addc(ADDCDIV, input, tensor1, tensor2, value)


# gcd / lcm: integers only (numpy's, both non-negative as PyTorch's); no gradient
_GCD_LCM = {n: defop(n, (lambda f: lambda xp, a, b: getattr(xp, f)(a, b))(n), group="binary")
            for n in ("gcd", "lcm")}


def _gcd_lcm(name, input, other):
    if not _is_t(other):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    dt = _dtype.result_type((input, other))
    if dt.is_floating_point or dt == _dtype.bool:
        raise _dtype.not_implemented(f"{name}_cpu", dt)
    return apply(_GCD_LCM[name], input, other)


@export(inplace=True)
def gcd(input, other):
    return _gcd_lcm("gcd", input, other)


@export(inplace=True)
def lcm(input, other):
    return _gcd_lcm("lcm", input, other)


@export(method=False)
def result_type(tensor, other):
    """The dtype an op over `tensor` and `other` (tensors or Python numbers) computes in.

    >>> torch.result_type(torch.tensor([1]), 1.0)
    torch.float32
    """
    return _dtype.result_type((tensor, other))


@export(method=False)
def can_cast(from_, to):
    """Whether PyTorch's casting rules allow `from_` -> `to`: never floating to integral, nor non-bool to bool."""
    for k, (name, d) in enumerate((("from_", from_), ("to", to))):
        if not isinstance(d, _dtype.dtype):
            raise TypeError(f"can_cast(): argument '{name}' (position {k + 1}) must be torch.dtype, not "
                            f"{type(d).__name__}")
    if from_.is_floating_point and not to.is_floating_point:
        return False
    return not (from_ != _dtype.bool and to == _dtype.bool)


# diff: out[i] = x[i + 1] - x[i] along dim, n times (logical_xor for bool); a composite, as PyTorch's
@export
def diff(input, n=1, dim=-1, prepend=None, append=None):
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim(dim, input.ndim)
    parts = []
    for name, t in (("prepend", prepend), ("append", append)):
        if t is None:
            continue
        if not _is_t(t):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for k in range(input.ndim):
            if k != d and t.shape[k] != input.shape[k]:
                raise RuntimeError("diff expects the shape of tensor to prepend or append to match that of input "
                                   f"except along the differencing dimension; input.size({k}) = {input.shape[k]}, "
                                   f"but got tensor.size({k}) = {t.shape[k]}")
    if prepend is not None or append is not None:
        input = cat([t for t in (prepend, input, append) if t is not None], d)
    if n == 0:
        return input.clone()
    for _ in range(n):
        m = input.shape[d]
        if m == 0:
            break
        hi, lo = narrow(input, d, 1, m - 1), narrow(input, d, 0, m - 1)
        input = logical_xor(hi, lo) if input.dtype == _dtype.bool else hi - lo
    return input


# heaviside(x, values): 0 below 0, values at 0, 1 above (and 0 for NaN, as PyTorch's x > 0); no gradient
HEAVISIDE = defop("heaviside", lambda xp, x, v: xp.where(x == 0, v, x > 0), group="binary")


@export(inplace=True)
def heaviside(input, values):
    if not _is_t(values):
        raise TypeError(f"heaviside(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return apply(HEAVISIDE, input, values)


# ---- comparisons and logical ops (no gradient) -------------------------------------------------------
def _cmp(name, fn, aliases=()):
    op = defop(name, lambda xp, a, b: getattr(xp, fn)(a, b), group="comparison", dtype="compare")

    def compare(input, other):
        return apply(op, input, other)
    compare.__name__ = compare.__qualname__ = name
    return export(compare, inplace=True, aliases=aliases)


eq = _cmp("eq", "equal")
ne = not_equal = _cmp("ne", "not_equal", ("not_equal",))
lt = less = _cmp("lt", "less", ("less",))
le = less_equal = _cmp("le", "less_equal", ("less_equal",))
gt = greater = _cmp("gt", "greater", ("greater",))
ge = greater_equal = _cmp("ge", "greater_equal", ("greater_equal",))
logical_and = _cmp("logical_and", "logical_and")
logical_or = _cmp("logical_or", "logical_or")
logical_xor = _cmp("logical_xor", "logical_xor")
_LOGICAL_NOT = defop("logical_not", lambda xp, a: xp.logical_not(a), group="comparison", dtype="keep")
_BITWISE_NOT = defop("bitwise_not", lambda xp, a: ~a, group="comparison", dtype="keep")
_BITWISE = {n: defop(n, (lambda f: lambda xp, a, b: getattr(xp, f)(a, b))(n), group="comparison")
            for n in ("bitwise_and", "bitwise_or", "bitwise_xor")}


@export(inplace=True)
def logical_not(input):
    return apply(_LOGICAL_NOT, input)


@export(inplace=True)
def bitwise_not(input):
    if input._data.dtype.kind == "f":
        raise _dtype.not_implemented("bitwise_not_cpu", input.dtype)
    return apply(_BITWISE_NOT, input)


def _bitwise(name, input, other):
    dt = _dtype.result_type((input, other))
    if dt.is_floating_point:
        raise _dtype.not_implemented(f"{name}_cpu", dt)
    return apply(_BITWISE[name], input, other)


@export(inplace=True)
def bitwise_and(input, other):
    return _bitwise("bitwise_and", input, other)


@export(inplace=True)
def bitwise_or(input, other):
    return _bitwise("bitwise_or", input, other)


@export(inplace=True)
def bitwise_xor(input, other):
    return _bitwise("bitwise_xor", input, other)


def _shift_fwd(left):
    # PyTorch's shifts: a shift by a negative count or by the width or more gives 0, or (right, signed) the sign
    def forward(xp, a, b):
        dt = (a if hasattr(a, "dtype") else b).dtype
        a, b = (v if hasattr(v, "dtype") else xp.asarray(v, dtype=dt) for v in (a, b))
        bits = 8 * dt.itemsize
        past = (b < 0) | (b >= bits)
        if left or dt.kind == "u":
            shifted = xp.left_shift(a, xp.where(past, 0, b)) if left else xp.right_shift(a, xp.where(past, 0, b))
            return xp.where(past, 0, shifted)
        return xp.right_shift(a, xp.where(past, bits - 1, b))
    return forward


_SHIFTS = {"bitwise_left_shift": defop("bitwise_left_shift", _shift_fwd(True), group="comparison"),
           "bitwise_right_shift": defop("bitwise_right_shift", _shift_fwd(False), group="comparison")}


def _shift(name, kernel, input, other):
    dt = _dtype.result_type((input, other))
    if dt.is_floating_point or dt.np.kind == "b":
        raise _dtype.not_implemented(f"{kernel}_cpu", dt)
    return apply(_SHIFTS[name], input, other)


@export(inplace=True)
def bitwise_left_shift(input, other):
    return _shift("bitwise_left_shift", "lshift", input, other)


@export(inplace=True)
def bitwise_right_shift(input, other):
    return _shift("bitwise_right_shift", "rshift", input, other)


@export
def equal(input, other):
    return input.shape == other.shape and bool(eq(input, other).all())


@export
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    xp = input._xp
    o = other._data if _is_t(other) else other
    return Tensor._make(xp.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan))


@export
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


# ---- matrix products ---------------------------------------------------------------------------------
def _column_major(t):
    d = t._data
    return d.strides[0] == d.itemsize and d.strides[1] == d.shape[0] * d.itemsize


def _mm_grads(a, b, g, need_a, need_b):
    # NOTE: as PyTorch's mm_mat{1,2}_backward: a column-major operand (e.g. a Linear's weight.t()) gets its
    # gradient computed transposed, in its own layout, so it reaches the leaf contiguous (no copy to lay it out)
    ga = gb = None
    if need_a:
        ga = b.mm(g.t()).t() if _column_major(a) else g.mm(b.t())
    if need_b:
        gb = g.t().mm(a).t() if _column_major(b) else a.t().mm(g)
    return ga, gb


def _mm_bwd(ctx, g):
    a, b = ctx.saved
    return _mm_grads(a, b, g, ctx.needs_input_grad[0], ctx.needs_input_grad[1])


def _bmm_bwd(ctx, g):
    a, b = ctx.saved
    return (g.bmm(b.transpose(1, 2)) if ctx.needs_input_grad[0] else None,
            a.transpose(1, 2).bmm(g) if ctx.needs_input_grad[1] else None)


def _matmul_bwd(ctx, g):
    # a 1-D operand acts as a row (a) or column (b) vector; the batch dims are summed away by sum_to
    a, b = ctx.saved
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    g2 = g.unsqueeze(-2) if a.ndim == 1 else g
    g2 = g2.unsqueeze(-1) if b.ndim == 1 else g2
    ga = gb = None
    if ctx.needs_input_grad[0]:
        ga = g2.matmul(b2.transpose(-1, -2))
        ga = ga.squeeze(-2) if a.ndim == 1 else ga
    if ctx.needs_input_grad[1]:
        gb = a2.transpose(-1, -2).matmul(g2)
        gb = gb.squeeze(-1) if b.ndim == 1 else gb
    return ga, gb


MM = defop("mm", lambda xp, a, b: a @ b, _mm_bwd, save=(0, 1), group="matmul")


def _addmm_fwd(xp, c, a, b, beta=1, alpha=1):
    ab = a @ b
    if alpha != 1:
        ab *= alpha
    if beta == 0:  # (as PyTorch: input is ignored, nan and inf in it too)
        return ab
    ab += c if beta == 1 else beta * c  # (in place: ab is a fresh (n, p) array; c broadcasts to it)
    return ab


def _addmm_bwd(ctx, g):
    # input: beta * g (sum_to undoes the broadcast of a bias); mat1, mat2: as mm's, times alpha
    beta, alpha = ctx.params.get("beta", 1), ctx.params.get("alpha", 1)
    need = ctx.needs_input_grad
    gc = (g if beta == 1 else g * beta) if need[0] else None
    a, b = ctx.saved
    return (gc,) + _mm_grads(a, b, g if alpha == 1 else g * alpha, need[1], need[2])


ADDMM = defop("addmm", _addmm_fwd, _addmm_bwd, save=(1, 2), group="matmul")
BMM = defop("bmm", lambda xp, a, b: xp.matmul(a, b), _bmm_bwd, save=(0, 1), group="matmul")
# batched / broadcast matmul where one operand has >= 3 dims (a 1-D operand is a vector, as in PyTorch)
MATMUL = defop("matmul", lambda xp, a, b: xp.matmul(a, b), _matmul_bwd, save=(0, 1), node="UnsafeViewBackward0",
               group="matmul")
# PyTorch computes 2-D @ batched, when the 2-D operand requires grad, as (b^T @ a^T)^T and copies the result
# contiguous, so its last node is a CloneBackward0: the same op under that name
MATMUL_2D_BATCHED = defop("matmul_2d_batched", lambda xp, a, b: xp.matmul(a, b), _matmul_bwd, save=(0, 1),
                          node="CloneBackward0", group="matmul", public=False)
# 1-D @ 2-D is mm on the unsqueezed vector, then an in-place squeeze_(0) in PyTorch (SqueezeBackward4)
SQUEEZE_ROW = defop("matmul_squeeze_row", lambda xp, x: x[0], lambda ctx, g: g.unsqueeze(0),
                    node="SqueezeBackward4", group="matmul", dtype="keep", public=False)
DOT = defop("dot", lambda xp, a, b: xp.dot(a, b), lambda ctx, g: (g * ctx.saved[1], g * ctx.saved[0]),
            save=(0, 1), group="matmul")
VDOT = defop("vdot", DOT.forward, DOT.backward, save=(0, 1), group="matmul")
MV = defop("mv", lambda xp, a, b: a @ b,
           lambda ctx, g: (g.unsqueeze(1) * ctx.saved[1] if ctx.needs_input_grad[0] else None,
                           ctx.saved[0].t().mv(g) if ctx.needs_input_grad[1] else None),
           save=(0, 1), group="matmul")


def _check_matmul_dtypes(a, b, name):
    if a._data.dtype.kind == "b":
        raise _dtype.not_implemented("addmm_impl_cpu_", a.dtype)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.name} != {b.dtype.name}")


@export
def mm(input, mat2):
    input, mat2 = autocast_inputs(MM, input, mat2)
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    _check_matmul_dtypes(input, mat2, "mm")
    return apply(MM, input, mat2)


@export(inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape (a Linear's bias).

    >>> torch.addmm(torch.zeros(3), torch.ones(2, 4), torch.ones(4, 3), beta=0.5, alpha=2).shape
    torch.Size([2, 3])
    """
    input, mat1, mat2 = autocast_inputs(ADDMM, input, mat1, mat2)
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    dt = mat2._data.dtype
    for name, m in (("self", input), ("mat1", mat1)):
        if m._data.dtype != dt:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{SCALAR_TYPE_NAMES[m._data.dtype.name]} and {SCALAR_TYPE_NAMES[dt.name]}")
    size = [mat1.shape[0], mat2.shape[1]]
    if input.ndim > 2:
        raise RuntimeError(f"expand({_legacy_type_name(input)}{{{list(input.shape)}}}, size={size}): the number "
                           f"of sizes provided (2) must be greater or equal to the number of dimensions in the "
                           f"tensor ({input.ndim})")
    for k in range(1, input.ndim + 1):
        if input.shape[-k] not in (1, size[-k]):
            raise RuntimeError(f"The expanded size of the tensor ({size[-k]}) must match the existing size "
                               f"({input.shape[-k]}) at non-singleton dimension {2 - k}.  Target sizes: {size}.  "
                               f"Tensor sizes: {list(input.shape)}")
    return apply(ADDMM, input, mat1, mat2, beta=beta, alpha=alpha)


@export
def bmm(input, mat2):
    input, mat2 = autocast_inputs(BMM, input, mat2)
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input.ndim}-D and {mat2.ndim}-D)")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _check_matmul_dtypes(input, mat2, "bmm")
    return apply(BMM, input, mat2)


@export
def dot(input, other):
    input, other = autocast_inputs(DOT, input, other)
    _check_dot(input, other)
    return apply(DOT, input, other)


@export
def vdot(input, other):
    """The dot product of two 1-D tensors (for real tensors the same as dot; its own node, VdotBackward0)."""
    input, other = autocast_inputs(VDOT, input, other)
    _check_dot(input, other)
    return apply(VDOT, input, other)


def _check_dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                           f"[{other.shape[0]}] to have the same number of elements, but got {input.shape[0]} "
                           f"and {other.shape[0]} elements respectively")
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]} and "
                           f"{_dtype.SCALAR_TYPE_NAMES[other.dtype.name]}")
    if input._data.dtype.kind == "b":
        raise _dtype.not_implemented("dot", input.dtype)


@export
def mv(input, vec):
    input, vec = autocast_inputs(MV, input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x{input.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    return apply(MV, input, vec)


@export
def matmul(input, other):
    """PyTorch's matmul: 1-D x 1-D is a dot product, 2-D x 2-D mm, 2-D x 1-D mv; otherwise batched
    and broadcast, with 1-D operands unsqueezed and the added dimension removed afterwards."""
    for name, pos, t in (("input", 1, input), ("other", 2, other)):
        if not _is_t(t):
            raise TypeError(f"matmul(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}")
    input, other = autocast_inputs(MATMUL, input, other)
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 2:
        return mm(input, other)
    if da == 2 and db == 1:
        if input.shape[1] != other.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({input.shape[0]}x{input.shape[1]}), vec "
                               f"({other.shape[0]})")
        return mv(input, other)
    if da == 1 and db == 2:
        if input.shape[0] != other.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{input.shape[0]} and "
                               f"{other.shape[0]}x{other.shape[1]})")
        return apply(SQUEEZE_ROW, mm(input.unsqueeze(0), other))
    k_a = input.shape[-1]
    k_b = other.shape[0] if db == 1 else other.shape[-2]
    if k_a != k_b:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{k_a}] but got: "
                           f"[{k_b}]; shapes {list(input.shape)} and {list(other.shape)} cannot be multiplied")
    batch_a, batch_b = input.shape[:-2], (other.shape[:-2] if db >= 2 else ())
    try:
        broadcast_shapes(batch_a, batch_b)
    except RuntimeError:
        raise RuntimeError(f"The size of tensor a must match the size of tensor b at non-singleton dimension; "
                           f"batch shapes {list(batch_a)} and {list(batch_b)} do not broadcast") from None
    _check_matmul_dtypes(input, other, "matmul")
    op = MATMUL_2D_BATCHED if da == 2 and input.requires_grad and grad_mode.is_grad_enabled() else MATMUL
    return apply(op, input, other)

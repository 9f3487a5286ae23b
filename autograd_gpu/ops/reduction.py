"""Reductions over `dim` (an int, a tuple or None for all) with `keepdim`."""
import builtins
import operator
import warnings
from collections import namedtuple

import numpy as np

from .core import apply, defop, export
from .. import _dtype
from ..tensor import Tensor

_max = builtins.max


def _dims(dim, ndim):
    """Normalise `dim` to a sorted tuple of non-negative axes (all axes for None or ())."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        dims = dim
    else:
        dims = (dim,)
    n = _max(ndim, 1)
    out = []
    for d in dims:
        d = _index(d, "tuple of ints")
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        d %= n
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(sorted(d for d in out if d < ndim or ndim == 0)) if ndim else ()


def _index(d, what):
    """d as a Python int (an int, a numpy int, an integer 0-d tensor); PyTorch's TypeError for a float, a string,
    a tuple where one dim is wanted."""
    try:
        return operator.index(d)
    except TypeError:
        raise TypeError(f"argument 'dim' must be {what}, not {type(d).__name__}") from None


def _check_dim_types(dim, single=False):
    """The types of a dim argument, checked before anything else (PyTorch's argument parser); its range later."""
    if dim is None or dim is _UNSET:
        return
    if isinstance(dim, (tuple, list)) and not single:
        for d in dim:
            _index(d, "tuple of ints")
    else:
        _index(dim, "int" if single else "tuple of ints")


def _dim(dim, ndim):
    """One dim (an int) as a non-negative axis, checked as `_dims` checks each (a 0-d tensor has dim 0 and -1)."""
    return _dims(_index(dim, "int"), ndim)[0] if ndim else _dims(_index(dim, "int"), 1)[0]


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    if not keepdim and dims:
        kshape = list(shape)
        for d in dims:
            kshape[d] = 1
        g = g.reshape(tuple(kshape))
    return g.expand(shape)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _axis(dims, ndim):
    return None if len(dims) == ndim else dims


# ---- sum / mean / prod ------------------------------------------------------------------------------
def _sum_fwd(xp, x, dims, keepdim, dtype=None):
    if dtype is None and x.dtype.kind in "biu":
        dtype = "int64"
    return xp.sum(x, axis=_axis(dims, x.ndim), keepdims=keepdim, dtype=dtype)


def _sum_bwd(ctx, g):
    p = ctx.params
    return _expand_back(g, ctx.shapes[0], p["dims"], p["keepdim"])


SUM = defop("sum", _sum_fwd, _sum_bwd, group="reduction", dtype="keep")
SUM_DIM = defop("sum_dim", _sum_fwd, _sum_bwd, node="SumBackward1", group="reduction", dtype="keep", public=False)


class _Unset:
    """The default of `dim` where PyTorch records a different node when dim is passed at all (even None)."""
    __slots__ = ()

    def __repr__(self):
        return "None"


_UNSET = _Unset()


@export
def sum(input, dim=_UNSET, keepdim=False, *, dtype=None, axis=None):
    dim = dim if axis is None else axis  # (PyTorch's reductions take numpy's `axis` as an alias of dim)
    op = SUM if dim is _UNSET else SUM_DIM  # PyTorch's sum() and sum(dim) record different nodes
    dim = None if dim is _UNSET else dim
    dims = _dims(dim, input.ndim)
    if dtype is not None:
        return apply(op, input, dims=dims, keepdim=keepdim, dtype=_dtype.to_dtype(dtype).np)
    return apply(op, input, dims=_dims(dim, input.ndim), keepdim=keepdim)


def _mean_bwd(ctx, g):
    p = ctx.params
    shape = ctx.shapes[0]
    return _expand_back(g, shape, p["dims"], p["keepdim"]) / _max(_count(shape, p["dims"]), 1) \
        if _count(shape, p["dims"]) else _expand_back(g, shape, p["dims"], p["keepdim"]) * float("nan")


def _mean_fwd(xp, x, dims, keepdim):
    return _mean_of(xp, x, dims, keepdim)


def _mean_of(xp, x, dims, keepdim):
    """xp.mean over dims; NaN where nothing is reduced, without numpy's "Mean of empty slice" warning (PyTorch
    is silent there)."""
    if _count(x.shape, dims):
        return xp.mean(x, axis=_axis(dims, x.ndim), keepdims=keepdim)
    return xp.sum(x, axis=_axis(dims, x.ndim), keepdims=keepdim) * x.dtype.type("nan")


MEAN = defop("mean", _mean_fwd, _mean_bwd, group="reduction", dtype="keep")
MEAN_DIM = defop("mean_dim", _mean_fwd, _mean_bwd, node="MeanBackward1", group="reduction", dtype="keep",
                 public=False)


@export
def mean(input, dim=_UNSET, keepdim=False, *, dtype=None, axis=None):
    dim = dim if axis is None else axis
    op = MEAN if dim is _UNSET else MEAN_DIM
    dim = None if dim is _UNSET else dim
    if dtype is not None:
        input = input.to(_dtype.to_dtype(dtype))
    _check_dim_types(dim)  # (a dim of the wrong type is reported first, as PyTorch's argument parser does)
    if not input.is_floating_point():
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {input.dtype.name.capitalize()}")
    return apply(op, input, dims=_dims(dim, input.ndim), keepdim=keepdim)


def _prod_others_fwd(xp, x, axis):
    # product of all the other elements along `axis`, exact when some are zero (no division)
    n = x.shape[axis]
    ones_shape = list(x.shape)
    ones_shape[axis] = 1
    one = xp.ones(ones_shape, dtype=x.dtype)
    left = xp.cumprod(xp.concatenate([one, xp.take(x, range(n - 1), axis=axis)], axis=axis), axis=axis)
    rx = xp.flip(x, axis)
    right = xp.flip(xp.cumprod(xp.concatenate([one, xp.take(rx, range(n - 1), axis=axis)], axis=axis),
                               axis=axis), axis)
    return left * right


def _prod_others_bwd(ctx, g):
    # d out_i / d x_j = prod of x_k over k not in {i, j} (j != i), else 0. Only double backward needs this;
    # it costs O(n^2) along the axis: row i of x2 is x with x_i replaced by 1.
    from .arithmetic import where  # layering: a cycle in the ops (arithmetic -> shape -> reduction)
    x, = ctx.saved
    axis = ctx.params["axis"]
    n = x.shape[axis]
    eye = _eye_bool(n, x)
    x2 = where(eye, 1.0, x.movedim(axis, -1).unsqueeze(-2))
    pair = where(eye, 0.0, apply(PROD_OTHERS, x2, axis=x2.ndim - 1))
    return (g.movedim(axis, -1).unsqueeze(-1) * pair).sum(-2).movedim(-1, axis)


def _eye_bool(n, like):
    return Tensor._make(like._xp.eye(n, dtype=bool))


PROD_OTHERS = defop("prod_others", _prod_others_fwd, _prod_others_bwd, save=(0,), group="reduction",
                    dtype="keep", public=False)


def _prod_fwd(xp, x, dim, keepdim):
    dtype = "int64" if x.dtype.kind in "biu" else None
    if dim is None:
        return xp.prod(x, dtype=dtype)
    return xp.prod(x, axis=dim, keepdims=keepdim, dtype=dtype)


def _prod_bwd(ctx, g):
    x, = ctx.saved
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    if dim is None:
        flat = x.reshape(-1)
        return (g * apply(PROD_OTHERS, flat, axis=0)).reshape(x.shape) if flat.numel() else g.expand(x.shape) * 0
    return _expand_back(g, x.shape, (dim,), keepdim) * apply(PROD_OTHERS, x, axis=dim)


PROD = defop("prod", _prod_fwd, _prod_bwd, save=(0,), group="reduction", dtype="keep")
PROD_DIM = defop("prod_dim", _prod_fwd, _prod_bwd, save=(0,), node="ProdBackward1", group="reduction", dtype="keep",
                 public=False)


@export
def prod(input, dim=_UNSET, keepdim=False, *, dtype=None, axis=None):
    dim = dim if axis is None else axis
    _no_none_dim("prod", dim)
    dim = None if dim is _UNSET else dim
    if dtype is not None:
        dt = _dtype.to_dtype(dtype)
        if dt is _dtype.bool:  # (a product of bools is their all(), PyTorch's bool result)
            return input.all() if dim is None else input.all(dim, keepdim)
        input = input.to(dt)
    if dim is not None:
        d = _dim(dim, input.ndim)
        return apply(PROD_DIM, input, dim=d if input.ndim else None, keepdim=keepdim)
    return apply(PROD, input, dim=dim, keepdim=keepdim)


# ---- max / min / amax / amin ------------------------------------------------------------------------
def _amax_bwd(ctx, g):
    # NOTE: ties share the gradient evenly, as PyTorch's amax/amin/max() do
    x, out = ctx.saved
    p = ctx.params
    mask = x == _expand_back(out, x.shape, p["dims"], p["keepdim"])
    return _expand_back(g, x.shape, p["dims"], p["keepdim"]) * mask / mask.sum(p["dims"], keepdim=True)


def _max_all_bwd(ctx, g):
    # NOTE: PyTorch's evenly_distribute_backward: a NaN result (max() of a tensor holding NaN) sends the gradient
    # to the NaNs, shared evenly; amax/amin keep x == out (all NaN there), as PyTorch's do
    x, out = ctx.saved
    mask = (x == out) | (x.isnan() & out.isnan())
    return g * mask / mask.sum()


def _amax_fwd(fn, name):
    def fwd(xp, x, dims, keepdim):
        if x.size == 0:
            _check_nonempty_dims(name, x.shape, dims)
        return getattr(xp, fn)(x, axis=_axis(dims, x.ndim), keepdims=keepdim)
    return fwd


def _check_nonempty_dims(name, shape, dims, all_dims_error=RuntimeError):
    """PyTorch's errors for a max/min-like reduction of an empty tensor over all dims, or over an empty dim."""
    if len(dims) == len(shape):
        raise all_dims_error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    for d in dims:
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


AMAX = defop("amax", _amax_fwd("max", "amax"), _amax_bwd, save=(0, "out"), group="reduction", dtype="keep")
AMIN = defop("amin", _amax_fwd("min", "amin"), _amax_bwd, save=(0, "out"), group="reduction", dtype="keep")
MAX_ALL = defop("max_all", _amax_fwd("max", "max"), _max_all_bwd, save=(0, "out"), node="MaxBackward1", group="reduction",
                dtype="keep", public=False)
MIN_ALL = defop("min_all", _amax_fwd("min", "min"), _max_all_bwd, save=(0, "out"), node="MinBackward1", group="reduction",
                dtype="keep", public=False)


def _check_empty_reduction(name, input, dim):
    """amax / amin of an empty tensor: over every dim by default a RuntimeError, over an empty dim named an
    IndexError (before any other check of the dims, as PyTorch's)."""
    if input.numel() == 0:
        named = () if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
        dims = [_dim(d, input.ndim) for d in named] if named else list(range(input.ndim))
        _check_nonempty_dims(name, input.shape, dims, IndexError if named else RuntimeError)


@export
def amax(input, dim=(), keepdim=False, *, axis=None):
    dim = dim if axis is None else axis
    _check_empty_reduction("amax", input, dim)
    return apply(AMAX, input, dims=_dims(dim, input.ndim), keepdim=keepdim)


@export
def amin(input, dim=(), keepdim=False, *, axis=None):
    dim = dim if axis is None else axis
    _check_empty_reduction("amin", input, dim)
    return apply(AMIN, input, dims=_dims(dim, input.ndim), keepdim=keepdim)


def _select_bwd(ctx, g):
    # the gradient goes to the position the index output names (one per reduced slice)
    x_shape = ctx.shapes[0]
    dim, keepdim = ctx.params["dim"], ctx.params["keepdim"]
    idx = ctx.saved[0]
    gv = g[0]
    if not keepdim:
        gv = gv.unsqueeze(dim)
        idx = idx.unsqueeze(dim)
    from .indexing import scatter_zeros  # layering: a cycle in the ops (indexing -> arithmetic -> shape -> reduction)
    return scatter_zeros(gv, x_shape, dim, idx)


def _maxdim_fwd(fn):
    def fwd(xp, x, dim, keepdim):
        if not x.ndim:  # (a 0-d tensor: itself, at index 0)
            return x.copy(), xp.zeros((), dtype="int64")
        if x.shape[dim] == 0:
            raise IndexError(f"{fn}(): Expected reduction dim {dim} to have non-zero size.")
        idx = getattr(xp, "arg" + fn)(x, axis=dim)
        if keepdim:
            idx = xp.expand_dims(idx, dim)
        vals = xp.take_along_axis(x, idx if keepdim else xp.expand_dims(idx, dim), axis=dim)
        if not keepdim:
            vals = vals.squeeze(dim)
        return vals, idx.astype("int64")
    return fwd


MAX_DIM = defop("max_dim", _maxdim_fwd("max"), _select_bwd, save=("out1",), node="MaxBackward0", group="reduction",
                dtype="keep", nout=2, public=False)
MIN_DIM = defop("min_dim", _maxdim_fwd("min"), _select_bwd, save=("out1",), node="MinBackward0", group="reduction",
                dtype="keep", nout=2, public=False)

return_types_max = namedtuple("max", ["values", "indices"])
return_types_min = namedtuple("min", ["values", "indices"])


def _no_none_dim(name, dim):
    """PyTorch's TypeError for dim=None given to a reduction whose dim, when given, is one int."""
    if dim is None:
        raise TypeError(f"{name}(): argument 'dim' must be int, not NoneType")


def _minmax(name, input, dim, keepdim, other, all_op, dim_op, binary, rtype):
    if isinstance(dim, Tensor):
        return binary(input, dim)
    if other is not None:
        return binary(input, other)
    _no_none_dim(name, dim)
    dim = None if dim is _UNSET else dim
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return apply(all_op, input, dims=tuple(range(input.ndim)), keepdim=False)
    return rtype(*apply(dim_op, input, dim=_dim(dim, input.ndim), keepdim=keepdim))


@export
def max(input, dim=_UNSET, keepdim=False, *, other=None, axis=None):
    dim = dim if axis is None else axis
    from .arithmetic import maximum  # layering: a cycle in the ops (arithmetic -> shape -> reduction)
    return _minmax("max", input, dim, keepdim, other, MAX_ALL, MAX_DIM, maximum, return_types_max)


@export
def min(input, dim=_UNSET, keepdim=False, *, other=None, axis=None):
    dim = dim if axis is None else axis
    from .arithmetic import minimum  # layering: a cycle in the ops (arithmetic -> shape -> reduction)
    return _minmax("min", input, dim, keepdim, other, MIN_ALL, MIN_DIM, minimum, return_types_min)


def _arg(fn):
    def f(input, dim=None, keepdim=False, *, axis=None):
        dim = dim if axis is None else axis
        xp = input._xp
        x = input._data
        _check_dim_types(dim, single=True)  # (a dim of the wrong type is reported first)
        if x.dtype.kind == "b":
            raise RuntimeError(f"{fn}(): does not support bool input")
        if x.size == 0:
            _check_nonempty_dims(fn, x.shape, range(x.ndim) if dim is None else (_dim(dim, x.ndim),), IndexError)
        if dim is None:
            r = getattr(xp, fn)(x.reshape(-1))
            out = xp.asarray(r, dtype="int64")
            if keepdim:
                out = out.reshape((1,) * x.ndim)
        else:
            d = _dim(dim, x.ndim)
            out = getattr(xp, fn)(x, axis=d) if x.ndim else xp.asarray(0)
            if keepdim and x.ndim:
                out = xp.expand_dims(out, d)
            out = out.astype("int64")
        return Tensor._make(xp.asarray(out))
    return f


argmax = export(_arg("argmax"), name="argmax")
argmin = export(_arg("argmin"), name="argmin")


def _bool_reduce(fn):
    op = defop(fn, lambda xp, x, dims, keepdim: getattr(xp, fn)(x, axis=_axis(dims, x.ndim), keepdims=keepdim),
               group="reduction", dtype="keep")

    def f(input, dim=None, keepdim=False, *, axis=None):
        dim = dim if axis is None else axis
        return apply(op, input, dims=_dims(dim, input.ndim), keepdim=keepdim)
    return f


all = export(_bool_reduce("all"), name="all")
any = export(_bool_reduce("any"), name="any")


# ---- var / std ---------------------------------------------------------------------------------------
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_fwd(xp, x, dims, keepdim, correction):
    n = _count(x.shape, dims)
    d = x - _mean_of(xp, x, dims, True)
    s = xp.sum(d * d, axis=_axis(dims, x.ndim), keepdims=keepdim)
    denom = _max(n - correction, 0)
    if denom:
        return s / denom
    with np.errstate(divide="ignore", invalid="ignore"):  # (0 / 0 is NaN, s / 0 inf, as PyTorch; it warns first)
        return s / x.dtype.type(0)


def _var_grad(ctx, g):
    x, = ctx.saved[:1]
    p = ctx.params
    denom = _count(x.shape, p["dims"]) - p["correction"]
    # NOTE: PyTorch scales by 2 / (n - correction) even when that is <= 0 (inf at 0, negative beyond)
    scale = 2.0 / denom if denom else float("inf")
    return scale * _expand_back(g, x.shape, p["dims"], p["keepdim"]) * (x - x.mean(p["dims"], keepdim=True))


def _std_bwd(ctx, g):
    out = ctx.saved[1]
    return _var_grad(ctx, g / (2 * out))


def _std_fwd(xp, x, dims, keepdim, correction):
    return xp.sqrt(_var_fwd(xp, x, dims, keepdim, correction))


VAR = defop("var", _var_fwd, _var_grad, save=(0,), group="reduction", dtype="keep")
STD = defop("std", _std_fwd, _std_bwd, save=(0, "out"), group="reduction", dtype="keep")


def _var_like(op, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(input, unbiased) positional form
        dim, unbiased = None, dim
    _check_dim_types(dim)
    if not input.is_floating_point():
        raise RuntimeError(f"std and var only support floating point and complex dtypes, got {input.dtype.name}")
    return _var_apply(op, op.name, input, dim, keepdim, _correction(unbiased, correction))


def _var_apply(op, name, input, dim, keepdim, correction):
    dims = _dims(dim, input.ndim)
    if _count(input.shape, dims) - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "reduction factor (input numel divided by output numel).", UserWarning, stacklevel=4)
    return apply(op, input, dims=dims, keepdim=keepdim, correction=correction)


@export
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    dim = dim if axis is None else axis
    return _var_like(VAR, input, dim, unbiased, keepdim, correction)


@export
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    dim = dim if axis is None else axis
    return _var_like(STD, input, dim, unbiased, keepdim, correction)


# ---- logsumexp / norm / cumsum -----------------------------------------------------------------------
def _logsumexp_fwd(xp, x, dims, keepdim):
    # NOTE: subtract the max so exp cannot overflow; an all -inf (or inf) slice keeps its max as the result
    ax = _axis(dims, x.ndim)
    m = xp.max(x, axis=ax, keepdims=True) if x.size else xp.zeros([1] * x.ndim, x.dtype)
    m = xp.where(xp.isinf(m), 0, m).astype(x.dtype, copy=False)
    s = xp.log(xp.sum(xp.exp(x - m), axis=ax, keepdims=True)) + m
    return s if keepdim else s.reshape([x.shape[i] for i in range(x.ndim) if i not in dims])


def _logsumexp_bwd(ctx, g):
    x, out = ctx.saved
    p = ctx.params
    return _expand_back(g, x.shape, p["dims"], p["keepdim"]) * (x - _expand_back(out, x.shape, p["dims"],
                                                                                 p["keepdim"])).exp()


LOGSUMEXP = defop("logsumexp", _logsumexp_fwd, _logsumexp_bwd, save=(0, "out"), group="reduction", dtype="float")


@export
def logsumexp(input, dim=None, keepdim=False, *, axis=None):
    dim = dim if axis is None else axis
    if dim is None:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    return apply(LOGSUMEXP, input, dims=_dims(dim, input.ndim), keepdim=keepdim)


def _norm_fwd(xp, x, p, dims, keepdim):
    # NOTE: float16 / bfloat16 accumulate in float32 and round once, as PyTorch's: in float16 a sum of squares
    # overflows past 65504 (the norm of 100000 threes is 948.5, not inf)
    if x.dtype.itemsize == 2:
        return _norm_fwd(xp, x.astype("float32"), p, dims, keepdim).astype(x.dtype)
    ax = _axis(dims, x.ndim)
    a = xp.abs(x)
    if p == 2:
        r = xp.sqrt(xp.sum(x * x, axis=ax, keepdims=keepdim))
    elif p == 1:
        r = xp.sum(a, axis=ax, keepdims=keepdim)
    elif p == float("inf"):
        r = xp.max(a, axis=ax, keepdims=keepdim)
    elif p == float("-inf"):
        r = xp.min(a, axis=ax, keepdims=keepdim)
    elif p == 0:
        r = xp.sum(x != 0, axis=ax, keepdims=keepdim).astype(x.dtype)
    else:
        r = xp.sum(a ** p, axis=ax, keepdims=keepdim) ** (1.0 / p)
    return r


def _norm_bwd(ctx, g):
    x, out = ctx.saved
    prm = ctx.params
    return _norm_grad(x, out, g, prm["p"], prm["dims"], prm["keepdim"])


def _norm_grad(x, out, g, p, dims, keepdim):
    ge = _expand_back(g, x.shape, dims, keepdim)
    ye = _expand_back(out, x.shape, dims, keepdim)
    from .arithmetic import where  # layering: a cycle in the ops (arithmetic -> shape -> reduction)
    if p == 0:
        return None  # PyTorch: the 0-"norm" (a count) gives no gradient at all
    if p == 1:
        return ge * x.sign()
    if p in (float("inf"), float("-inf")):
        mask = x.abs() == ye
        return ge * x.sign() * mask / mask.sum(dims, keepdim=True)
    # NOTE: as PyTorch: zero gradient for a zero norm (and, for p < 1, at zero elements); the masked values are
    # replaced before dividing, so no 0/0 is ever computed
    zero_norm = ye == 0
    safe = where(zero_norm, 1.0, ye)
    if p == 2:
        return where(zero_norm, 0.0, ge * x / safe)
    if p < 1:
        x0 = x == 0
        scaled = where(x0, 0.0, x.sign() * where(x0, 1.0, x.abs()) ** (p - 1))
        return scaled * ge * ye ** (1 - p)
    return where(zero_norm, 0.0, ge * x.sign() * x.abs() ** (p - 1) / safe ** (p - 1))


NORM = defop("norm", _norm_fwd, _norm_bwd, save=(0, "out"), node="LinalgVectorNormBackward0", group="reduction",
             dtype="float")


@export
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported; use a number, 'fro' or inf")
    if not isinstance(p, (int, float)):
        raise TypeError(f"norm(): argument 'p' must be Number, not {type(p).__name__}")
    if input.numel() == 0 and p < 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {p:g} norm on an empty tensor because the "
                           "operation does not have an identity")
    if dtype is not None:
        input = input.to(_dtype.to_dtype(dtype))
    if not input.is_floating_point():
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}")
    return apply(NORM, input, p=float(p), dims=_dims(dim, input.ndim), keepdim=keepdim)


# dist(a, b, p): the p-norm of a - b over all elements (PyTorch's own node, DistBackward0)
def _dist_bwd(ctx, g):
    a, b, out = ctx.saved
    x = a - b
    gx = _norm_grad(x, out, g, ctx.params["p"], tuple(range(x.ndim)), False)
    return (None, None) if gx is None else (gx, -gx)


def _dist_fwd(xp, a, b, p):
    x = a - b
    return _norm_fwd(xp, x, p, tuple(range(x.ndim)), False)


DIST = defop("dist", _dist_fwd, _dist_bwd, save=(0, 1, "out"), group="reduction", dtype="float")


@export
def dist(input, other, p=2):
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    if not isinstance(p, (int, float)) or isinstance(p, bool):
        raise TypeError(f"dist(): argument 'p' (position 3) must be Number, not {type(p).__name__}")
    dt = _dtype.result_type((input, other))
    if not dt.is_floating_point:
        raise RuntimeError("norm(): input dtype should be either floating point or complex. Got "
                           f"{_dtype.SCALAR_TYPE_NAMES[dt.name]} instead.")
    return apply(DIST, input, other, p=float(p))


# renorm: each slice along `dim` whose p-norm exceeds maxnorm scaled down to maxnorm (PyTorch's 1e-7 guard)
def _renorm_fwd(xp, x, p, dim, maxnorm):
    dims = tuple(k for k in range(x.ndim) if k != dim)
    n = _norm_fwd(xp, x, p, dims, True)
    return x * xp.where(n > maxnorm, maxnorm / (n + 1e-7), 1).astype(x.dtype)


def _renorm_bwd(ctx, g):
    from .arithmetic import where  # layering: as in _norm_bwd
    x, = ctx.saved
    p, dim, maxnorm = ctx.params["p"], ctx.params["dim"], ctx.params["maxnorm"]
    dims = tuple(k for k in range(x.ndim) if k != dim)
    n = apply(NORM, x, p=p, dims=dims, keepdim=True)
    nb = _norm_grad(x, n, (x * g).sum(dims, keepdim=True), p, dims, True)
    inv = (n + 1e-7).reciprocal()
    return where(n > maxnorm, inv * maxnorm * g - (inv * inv * maxnorm) * nb, g)


RENORM = defop("renorm", _renorm_fwd, _renorm_bwd, save=(0,), group="reduction", dtype="keep")


@export(inplace=True)
def renorm(input, p, dim, maxnorm):
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    d = _dim(dim, input.ndim)
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if not input.is_floating_point():
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}")
    return apply(RENORM, input, p=float(p), dim=d, maxnorm=maxnorm)


# ---- cumulative: cumsum, cumprod, cummax / cummin, logcumsumexp -----------------------------------------
def _cum_dim(input, dim):
    if dim is None:
        raise TypeError("missing the required argument 'dim' (or its alias 'axis')")
    return _dim(dim, input.ndim)


def _int64(x):
    return "int64" if x.dtype.kind in "biu" else None


def _cumsum_fwd(xp, x, dim):
    if not x.ndim:  # (a 0-d input keeps its shape, as PyTorch's)
        return x.astype(_int64(x) or x.dtype)
    return xp.cumsum(x, axis=dim, dtype=_int64(x))


def _cumsum_bwd(ctx, g):
    d = ctx.params["dim"]
    return g.flip(d).cumsum(d).flip(d) if g.ndim else g


CUMSUM = defop("cumsum", _cumsum_fwd, _cumsum_bwd, group="reduction", dtype="keep")


@export(inplace=True)
def cumsum(input, dim=None, *, dtype=None, axis=None):
    dim = dim if axis is None else axis
    if dtype is not None:
        dt = _dtype.to_dtype(dtype)
        if dt is _dtype.bool:
            raise _dtype.not_implemented("cumsum_cpu", dt)
        input = input.to(dt)
    return apply(CUMSUM, input, dim=_cum_dim(input, dim))


def _shift(t, s, d, fill=0.0):
    """t moved s places forward along d (Tensors, differentiable), the first s places `fill`."""
    from .shape import cat  # layering: a cycle in the ops (shape -> reduction)
    n = t.shape[d]
    s = builtins.min(s, n)
    pad_shape = list(t.shape)
    pad_shape[d] = s
    pad = Tensor._make(t._xp.full(tuple(pad_shape), fill, dtype=t._data.dtype))
    return cat([pad, t.narrow(d, 0, n - s)], d)


def _linear_scan(a, b, d):
    """h with h_k = b_k + a_k * h_(k-1) along d (h_(-1) = 0), in log2(n) doubling steps of Tensor ops."""
    s, n = 1, b.shape[d]
    while s < n:
        b, a = b + a * _shift(b, s, d), a * _shift(a, s, d)
        s *= 2
    return b


def _cumprod_bwd(ctx, g):
    # NOTE: exact with zeros in x (no division by x, unlike g * out / x): d out_i / d x_k is
    # prod_(j<k) x_j * prod_(k<j<=i) x_j, so dx_k = P_(k-1) * R_k, with P the exclusive cumprod and
    # R_k = g_k + x_(k+1) * R_(k+1) a linear recurrence, run backward along the dim as a scan
    x, = ctx.saved
    if not x.ndim:
        return g
    d = ctx.params["dim"]
    xr, gr = x.flip(d), g.flip(d)
    r = _linear_scan(_shift(xr, 1, d), gr, d).flip(d)
    return _shift(x, 1, d, 1.0).cumprod(d) * r


def _cumprod_fwd(xp, x, dim):
    if not x.ndim:
        return x.astype(_int64(x) or x.dtype)
    return xp.cumprod(x, axis=dim, dtype=_int64(x))


CUMPROD = defop("cumprod", _cumprod_fwd, _cumprod_bwd, save=(0,), group="reduction", dtype="keep")


@export(inplace=True)
def cumprod(input, dim=None, *, dtype=None, axis=None):
    dim = dim if axis is None else axis
    if dtype is not None:
        input = input.to(_dtype.to_dtype(dtype))
    return apply(CUMPROD, input, dim=_cum_dim(input, dim))


def _scan(xp, x, axis, fn, fill=None):
    """The inclusive scan of the associative `fn` along `axis` in log2(n) doubling steps over whole arrays
    (fill None: pad with x itself, for idempotent fns such as max)."""
    n = x.shape[axis]
    s = 1
    while s < n:
        lead = [slice(None)] * x.ndim
        lead[axis] = slice(0, s)
        rest = list(lead)
        rest[axis] = slice(0, n - s)
        pad = x[tuple(lead)] if fill is None else xp.full(x[tuple(lead)].shape, fill, dtype=x.dtype)
        x = fn(x, xp.concatenate([pad, x[tuple(rest)]], axis=axis))
        s *= 2
    return x


def _cummax_fwd(fn):
    def fwd(xp, x, dim):
        if not x.ndim:
            return x.copy(), xp.zeros((), dtype="int64")
        vals = _scan(xp, x, dim, getattr(xp, fn))
        # the index of the last element that set (or tied) the running value: a running max of those positions
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        pos = xp.arange(x.shape[dim], dtype="int64").reshape(shape)
        hit = x == vals
        if x.dtype.kind == "f":
            hit = hit | xp.isnan(x)
        idx = _scan(xp, xp.where(hit, pos, 0), dim, xp.maximum)
        return vals, idx
    return fwd


def _cummax_bwd(ctx, g):
    x_shape = ctx.shapes[0]
    if not x_shape:
        return g[0]
    from .indexing import scatter_zeros  # layering: a cycle in the ops (indexing -> arithmetic -> shape -> reduction)
    return scatter_zeros(g[0], x_shape, ctx.params["dim"], ctx.saved[0])


CUMMAX = defop("cummax", _cummax_fwd("maximum"), _cummax_bwd, save=("out1",), group="reduction", dtype="keep",
               nout=2)
CUMMIN = defop("cummin", _cummax_fwd("minimum"), _cummax_bwd, save=("out1",), group="reduction", dtype="keep",
               nout=2)
return_types_cummax = namedtuple("cummax", ["values", "indices"])
return_types_cummin = namedtuple("cummin", ["values", "indices"])


@export
def cummax(input, dim=None, *, axis=None):
    """(values, indices): the running maximum along `dim` and where each was reached (the last on a tie)."""
    dim = dim if axis is None else axis
    return return_types_cummax(*apply(CUMMAX, input, dim=_cum_dim(input, dim)))


@export
def cummin(input, dim=None, *, axis=None):
    dim = dim if axis is None else axis
    return return_types_cummin(*apply(CUMMIN, input, dim=_cum_dim(input, dim)))


def _logcumsumexp_fwd(xp, x, dim):
    if x.dtype.kind != "f":
        raise _dtype.not_implemented("logcumsumexp_out_cpu", x.dtype)
    if not x.ndim:
        return x.copy()
    # NOTE: a scan of logaddexp, never exp of the raw values, so large inputs cannot overflow
    return _scan(xp, x, dim, xp.logaddexp, -xp.inf)


def _logcumsumexp_bwd(ctx, g):
    # as PyTorch's logcumsumexp_backward: the reverse cumulative sum of g * exp(x - out), taken in log space
    # for the positive and the negative parts of g separately, so nothing overflows
    from .arithmetic import where  # layering: a cycle in the ops (arithmetic -> shape -> reduction)
    x, out = ctx.saved
    if not x.ndim:
        return g
    d = ctx.params["dim"]
    lowest = float(x._xp.finfo(x._data.dtype).min)
    log_abs = g.abs().log()

    def part(log_g):
        return ((log_g - out).flip(d).logcumsumexp(d).flip(d) + x).exp()
    return part(where(g > 0, log_abs, lowest)) - part(where(g < 0, log_abs, lowest))


LOGCUMSUMEXP = defop("logcumsumexp", _logcumsumexp_fwd, _logcumsumexp_bwd, save=(0, "out"), group="reduction",
                     dtype="keep")


@export
def logcumsumexp(input, dim=None, *, axis=None):
    dim = dim if axis is None else axis
    return apply(LOGCUMSUMEXP, input, dim=_cum_dim(input, dim))


# ---- var_mean / std_mean, nansum / nanmean, count_nonzero, aminmax ------------------------------------------
def _var_mean_fwd(std):
    def fwd(xp, x, dims, keepdim, correction):
        v = _var_fwd(xp, x, dims, keepdim, correction)
        m = _mean_of(xp, x, dims, keepdim)
        return (xp.sqrt(v) if std else v), xp.asarray(m, dtype=x.dtype)
    return fwd


def _var_mean_bwd(std):
    def bwd(ctx, g):
        gv, gm = g
        x = ctx.saved[0]
        p = ctx.params
        gx = _std_bwd(ctx, gv) if std else _var_grad(ctx, gv)
        n = _count(x.shape, p["dims"])
        return gx + _expand_back(gm, x.shape, p["dims"], p["keepdim"]) / _max(n, 1) * (1.0 if n else float("nan"))
    return bwd


VAR_MEAN = defop("var_mean", _var_mean_fwd(False), _var_mean_bwd(False), save=(0,), group="reduction",
                 dtype="keep", nout=2)
STD_MEAN = defop("std_mean", _var_mean_fwd(True), _var_mean_bwd(True), save=(0, "out"), group="reduction",
                 dtype="keep", nout=2)


def _var_mean_like(op, name, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var_mean(input, unbiased) positional form
        dim, unbiased = None, dim
    if not input.is_floating_point():
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    return _var_apply(op, name, input, dim, keepdim, _correction(unbiased, correction))


@export(method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """(var, mean) over `dim` in one pass, as a tuple."""
    dim = dim if axis is None else axis
    return _var_mean_like(VAR_MEAN, "var_mean", input, dim, unbiased, keepdim, correction)


@export(method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """(std, mean) over `dim` in one pass, as a tuple."""
    dim = dim if axis is None else axis
    return _var_mean_like(STD_MEAN, "std_mean", input, dim, unbiased, keepdim, correction)


def _nansum_fwd(xp, x, dims, keepdim, dtype=None):
    if dtype is None and x.dtype.kind in "biu":
        dtype = "int64"
    return xp.nansum(x, axis=_axis(dims, x.ndim), keepdims=keepdim, dtype=dtype)


def _nansum_bwd(ctx, g):
    x, = ctx.saved
    p = ctx.params
    return _expand_back(g, x.shape, p["dims"], p["keepdim"]) * (x == x)  # (x != x only where x is NaN)


NANSUM = defop("nansum", _nansum_fwd, _nansum_bwd, save=(0,), group="reduction", dtype="keep")


@export
def nansum(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    """The sum over `dim`, NaNs counted as zero."""
    dim = dim if axis is None else axis
    dims = _dims(dim, input.ndim)
    if dtype is not None:
        return apply(NANSUM, input, dims=dims, keepdim=keepdim, dtype=_dtype.to_dtype(dtype).np)
    return apply(NANSUM, input, dims=dims, keepdim=keepdim)


@export
def nanmean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    """The mean over `dim` of the elements that are not NaN (a composite, as PyTorch's)."""
    dim = dim if axis is None else axis
    if dtype is not None:
        input = input.to(_dtype.to_dtype(dtype))
    if not input.is_floating_point():
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{input.dtype.name.capitalize()}")
    not_nan = (input == input).sum(dim, keepdim=keepdim)
    return nansum(input, dim, keepdim) / not_nan


COUNT_NONZERO = defop("count_nonzero", lambda xp, x, dims: xp.asarray(
    xp.count_nonzero(x, axis=_axis(dims, x.ndim)), dtype="int64"), group="reduction", dtype="keep")


@export
def count_nonzero(input, dim=None, *, axis=None):
    dim = dim if axis is None else axis
    return apply(COUNT_NONZERO, input, dims=_dims(dim, input.ndim))


def _aminmax_fwd(xp, x, dims, keepdim):
    ax = _axis(dims, x.ndim)
    return xp.min(x, axis=ax, keepdims=keepdim), xp.max(x, axis=ax, keepdims=keepdim)


def _aminmax_bwd(ctx, g):
    # NOTE: ties share each gradient evenly, as PyTorch's aminmax does
    x, lo, hi = ctx.saved
    p = ctx.params
    out = 0
    for gi, r in zip(g, (lo, hi)):
        mask = x == _expand_back(r, x.shape, p["dims"], p["keepdim"])
        out = out + _expand_back(gi, x.shape, p["dims"], p["keepdim"]) * mask / mask.sum(p["dims"], keepdim=True)
    return out


AMINMAX = defop("aminmax", _aminmax_fwd, _aminmax_bwd, save=(0, "out", "out1"), group="reduction", dtype="keep",
                nout=2)
return_types_aminmax = namedtuple("aminmax", ["min", "max"])


@export
def aminmax(input, *, dim=None, keepdim=False, axis=None):
    """(min, max) over `dim` (all elements when None) in one call."""
    dim = dim if axis is None else axis
    dims = tuple(range(input.ndim)) if dim is None else _dims(dim, input.ndim)
    if dim is not None and input.ndim and input.shape[dims[0]] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dims[0]} to have non-zero size.")
    if dim is None and input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    return return_types_aminmax(*apply(AMINMAX, input, dims=dims, keepdim=keepdim))

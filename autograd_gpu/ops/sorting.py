"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, mode, searchsorted, bucketize, unique;
histc.

The selecting ops return (values, indices) as PyTorch's torch.return_types named tuples; their backward sends
each value's gradient to the input position its index names (scatter-add, so repeated indices accumulate).
"""
import operator
from collections import namedtuple

import numpy as np

from .core import apply, defop, export
from .. import _dtype
from .indexing import add_at, gather, scatter_zeros
from .reduction import _UNSET, _dim, _dims, _no_none_dim
from ..tensor import Tensor

return_types_sort = namedtuple("sort", ["values", "indices"])
return_types_topk = namedtuple("topk", ["values", "indices"])
return_types_kthvalue = namedtuple("kthvalue", ["values", "indices"])
return_types_median = namedtuple("median", ["values", "indices"])
return_types_mode = namedtuple("mode", ["values", "indices"])


def _argsort(xp, x, axis, descending):
    """Stable argsort along `axis`; descending keeps equal elements in their original order (NaN first)."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    # NOTE: sort the reversed array ascending and reverse the result: ties then come in original order,
    # which negating cannot give for unsigned or bool inputs
    n = x.shape[axis]
    return (n - 1) - xp.flip(xp.argsort(xp.flip(x, axis), axis=axis, kind="stable"), axis)


def _take(xp, x, idx, axis):
    return xp.take_along_axis(x, idx, axis=axis)


def _pick_bwd(ctx, g):
    # the gradient of the values goes where their indices point (saved: the indices output)
    shape = ctx.shapes[0]
    gv = g[0]
    if not shape:
        return gv.reshape(())
    dim, keepdim = ctx.params["dim"], ctx.params.get("keepdim", True)
    idx = ctx.saved[0]
    if not keepdim:
        gv, idx = gv.unsqueeze(dim), idx.unsqueeze(dim)
    return scatter_zeros(gv, shape, dim, idx)


def _scalar_input(fwd):
    """A forward that also runs on a 0-d array, as the 1-element vector it is."""
    def f(xp, x, **p):
        if x.ndim:
            return fwd(xp, x, **p)
        vals, idx = fwd(xp, x.reshape(1), **p)
        return vals.reshape(()), idx.reshape(())
    return f


# ---- sort / argsort / msort -----------------------------------------------------------------------------
@_scalar_input
def _sort_fwd(xp, x, dim, descending):
    idx = _argsort(xp, x, dim, descending)
    return _take(xp, x, idx, dim), idx.astype("int64")


SORT = defop("sort", _sort_fwd, _pick_bwd, save=("out1",), group="sorting", dtype="keep", nout=2)
SORT_STABLE = defop("sort_stable", _sort_fwd, _pick_bwd, save=("out1",), node="SortBackward1", group="sorting",
                    dtype="keep", nout=2, public=False)


@export
def sort(input, dim=-1, descending=False, *, stable=None, axis=None):
    """(values, indices) sorted along `dim`; always stable here (a valid order for stable=False too)::

        torch.sort(torch.tensor([3., 1., 2.])).indices  # tensor([1, 2, 0])
    """
    dim = dim if axis is None else axis
    op = SORT if stable is None else SORT_STABLE  # PyTorch records another node when stable= is passed at all
    return return_types_sort(*apply(op, input, dim=_dim(dim, input.ndim), descending=bool(descending)))


def _argsort_fwd(xp, x, dim, descending):
    if not x.ndim:
        return xp.zeros((), dtype="int64")
    return _argsort(xp, x, dim, descending).astype("int64")


ARGSORT = defop("argsort", _argsort_fwd, group="sorting", dtype="keep")


@export
def argsort(input, dim=-1, descending=False, *, stable=False, axis=None):
    dim = dim if axis is None else axis
    return apply(ARGSORT, input, dim=_dim(dim, input.ndim), descending=bool(descending))


@export
def msort(input):
    return sort(input, 0).values


# ---- topk / kthvalue / median / mode --------------------------------------------------------------------
@_scalar_input
def _topk_fwd(xp, x, k, dim, largest):
    idx = _argsort(xp, x, dim, largest)
    idx = xp.take(idx, xp.arange(k), axis=dim)
    return _take(xp, x, idx, dim), idx.astype("int64")


TOPK = defop("topk", _topk_fwd, _pick_bwd, save=("out1",), group="sorting", dtype="keep", nout=2)


@export
def topk(input, k, dim=-1, largest=True, sorted=True, *, axis=None):
    """The k largest (or smallest) values along `dim` and their indices, in sorted order."""
    dim = _dim(dim if axis is None else axis, input.ndim)
    n = input.shape[dim] if input.ndim else 1
    if not isinstance(k, int) and not hasattr(k, "__index__"):
        raise TypeError(f"topk(): argument 'k' (position 1) must be int, not {type(k).__name__}")
    k = operator.index(k)
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    return return_types_topk(*apply(TOPK, input, k=int(k), dim=dim, largest=bool(largest)))


def _nth_fwd(xp, x, dim, keepdim, k):
    """The element at sorted position k along `dim` (k None: the lower median, NaN if the slice has one)."""
    if not x.ndim:
        return x.copy(), xp.zeros((), dtype="int64")
    n = x.shape[dim]
    idx = xp.argsort(x, axis=dim, kind="stable")
    if k is None:  # NaNs sort last: a slice with NaN picks its first NaN, as PyTorch does
        shape = idx.shape[:dim] + (1,) + idx.shape[dim + 1:]
        pos = xp.full(shape, (n - 1) // 2, dtype=idx.dtype)
        if x.dtype.kind == "f":
            nans = xp.sum(xp.isnan(x), axis=dim, keepdims=True)
            pos = xp.where(nans > 0, n - nans, pos).astype(idx.dtype)
        idx = _take(xp, idx, pos, dim)
    else:
        idx = xp.take(idx, xp.asarray([k]), axis=dim)
    vals = _take(xp, x, idx, dim)
    if not keepdim:
        vals, idx = vals.squeeze(dim), idx.squeeze(dim)
    return vals, idx.astype("int64")


KTHVALUE = defop("kthvalue", _nth_fwd, _pick_bwd, save=("out1",), group="sorting", dtype="keep", nout=2)
MEDIAN_DIM = defop("median_dim", _nth_fwd, _pick_bwd, save=("out1",), node="MedianBackward1", group="sorting",
                   dtype="keep", nout=2, public=False)


def _check_nonempty(name, input, dim):
    if input.ndim and input.shape[dim] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


@export
def kthvalue(input, k, dim=-1, keepdim=False, *, axis=None):
    """The k-th smallest value (k counts from 1) along `dim` and its index."""
    dim = _dim(dim if axis is None else axis, input.ndim)
    n = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return return_types_kthvalue(*apply(KTHVALUE, input, dim=dim, keepdim=bool(keepdim), k=int(k) - 1))


def _median_fwd(xp, x):
    flat = xp.sort(x.reshape(-1))
    n = flat.shape[0]
    if n == 0:
        return xp.full((), xp.nan, dtype=x.dtype)
    # NaNs sort last: the last element is NaN when any is, and then so is the median
    m = flat[(n - 1) // 2]
    return xp.where(xp.isnan(flat[-1]), flat[-1], m) if x.dtype.kind == "f" else m


def _median_bwd(ctx, g):
    # NOTE: ties share the gradient evenly, as PyTorch's median() (evenly_distribute_backward) does
    # (a NaN median: the gradient goes to the NaNs)
    x, out = ctx.saved
    mask = (x == out) | ((x != x) & (out != out))
    return g * mask / mask.sum()


MEDIAN = defop("median", _median_fwd, _median_bwd, save=(0, "out"), group="sorting", dtype="keep")


@export
def median(input, dim=_UNSET, keepdim=False, *, axis=None):
    """The lower median: of all elements (dim None), or (values, indices) along `dim`."""
    dim = dim if axis is None else axis
    _no_none_dim("median", dim)
    dim = None if dim is _UNSET else _dim(dim, input.ndim)
    if input._data.dtype.kind == "b":
        raise _dtype.not_implemented("median_cpu" if dim is None else "median_out", input.dtype)
    if dim is None:
        return apply(MEDIAN, input)
    dim = _dim(dim, input.ndim)
    _check_nonempty("median", input, dim)
    return return_types_median(*apply(MEDIAN_DIM, input, dim=dim, keepdim=bool(keepdim), k=None))


def _mode_fwd(xp, x, dim, keepdim):
    if not x.ndim:
        return x.copy(), xp.zeros((), dtype="int64")
    # NOTE: counts by comparing every pair along dim (n^2 per slice, no data-dependent shapes): the most frequent
    # value, the smallest of equally frequent ones, and the index of its last occurrence, as PyTorch
    xl = xp.moveaxis(x, dim, -1)
    n = xl.shape[-1]
    counts = xp.sum(xl[..., :, None] == xl[..., None, :], axis=-1)
    best = xp.max(counts, axis=-1, keepdims=True)
    kind = x.dtype.kind
    top = xp.inf if kind == "f" else True if kind == "b" else xp.iinfo(x.dtype).max  # (above every candidate)
    vals = xp.min(xp.where(counts == best, xl, top), axis=-1, keepdims=True).astype(x.dtype)
    idx = (n - 1) - xp.argmax(xp.flip(xl == vals, -1), axis=-1)
    vals, idx = vals[..., 0], idx.astype("int64")
    if keepdim:
        vals, idx = xp.expand_dims(vals, dim), xp.expand_dims(idx, dim)
    return vals, idx


MODE = defop("mode", _mode_fwd, _pick_bwd, save=("out1",), group="sorting", dtype="keep", nout=2)


@export
def mode(input, dim=-1, keepdim=False, *, axis=None):
    """The most frequent value along `dim` (the smallest of a tie) and the index of its last occurrence."""
    dim = _dim(dim if axis is None else axis, input.ndim)
    _check_nonempty("mode", input, dim)
    return return_types_mode(*apply(MODE, input, dim=dim, keepdim=bool(keepdim)))


# ---- searchsorted / bucketize ---------------------------------------------------------------------------
def _searchsorted_fwd(xp, seq, values, right, int32, sorter=None):
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter, axis=-1)
    if seq.ndim == 1:
        out = xp.searchsorted(seq, values, side="right" if right else "left")
    else:
        # one search per leading index: the count of elements below (or not above) each value in its row
        below = seq[..., None, :] <= values[..., :, None] if right else seq[..., None, :] < values[..., :, None]
        out = xp.sum(below, axis=-1)
    return xp.asarray(out, dtype="int32" if int32 else "int64")


SEARCHSORTED = defop("searchsorted", _searchsorted_fwd, group="sorting", dtype="keep")


@export(method=False)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where `input` would be inserted into the last dim of `sorted_sequence` to keep it sorted."""
    name = "torch.searchsorted(): "
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{name}side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(f"{name}side and right can't be set to opposites, got side of left while right "
                               "was True")
        right = side == "right"
    if not isinstance(input, Tensor):
        input = Tensor._make(sorted_sequence._xp.asarray(input, dtype=sorted_sequence._data.dtype))
    s, v = tuple(sorted_sequence.shape), tuple(input.shape)
    if len(s) != 1 and (len(s) != len(v) or s[:-1] != v[:-1]):
        raise RuntimeError(f"{name}boundaries tensor should be 1 dimension or the first N-1 dimensions of "
                           "boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(s)} and input value tensor {list(v)}")
    if sorter is not None:
        if sorter.dtype.name != "int64":
            raise RuntimeError(f"{name}sorter must be a tensor of long dtype but got dtype "
                               f"{sorter.dtype.name.capitalize()}")
        if tuple(sorter.shape) != s:
            raise RuntimeError(f"{name}boundary and sorter must have the same size, but got boundary tensor "
                               f"{list(s)}and got sorter tensor {list(sorter.shape)}")
        return apply(SEARCHSORTED, sorted_sequence, input, right=bool(right), int32=bool(out_int32),
                     sorter=sorter._data)
    return apply(SEARCHSORTED, sorted_sequence, input, right=bool(right), int32=bool(out_int32))


@export(method=False)
def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of `input` among the 1-D sorted `boundaries` (searchsorted, flipped)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ---- unique ---------------------------------------------------------------------------------------------
def _unique_fwd(xp, x, dim):
    # NOTE: the output's size depends on the data, so xp.unique syncs with the host on the GPU (as PyTorch's)
    if dim is None:
        # (each NaN its own element, as PyTorch's)
        vals, inverse, counts = xp.unique(x.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        return vals, inverse.reshape(x.shape).astype("int64"), counts.astype("int64")
    moved = xp.moveaxis(x, dim, 0)
    vals, inverse, counts = xp.unique(moved.reshape(moved.shape[0], -1), axis=0, return_inverse=True,
                                      return_counts=True)
    vals = xp.moveaxis(vals.reshape((vals.shape[0],) + moved.shape[1:]), 0, dim)
    return vals, inverse.reshape(-1).astype("int64"), counts.astype("int64")


UNIQUE = defop("unique", _unique_fwd, group="sorting", dtype="keep", nout=3)


@export
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (or slices along `dim`), sorted; optionally the inverse indices and counts."""
    if dim is not None:
        dim = _dim(dim, input.ndim)
    vals, inverse, counts = apply(UNIQUE, input, dim=dim)
    out = (vals,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out if len(out) > 1 else vals


# ---- quantile / nanquantile -----------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    """A composite, as PyTorch's: sort, pick the two neighbours of rank q * (n - 1), interpolate. The gradient
    reaches the input through gather and sort."""
    if not input.is_floating_point():
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    xp = input._xp
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        qa = xp.asarray([q], dtype=input._data.dtype)
    else:
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.device != input.device:
            raise RuntimeError(f"{name}() q tensor must be on the same device as the input tensor")
        scalar_q = q.ndim == 0
        qa = q._data.reshape(-1)  # (PyTorch checks 0 <= q <= 1 with a host sync; this path does not)
    ndim = input.ndim
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = _dim(dim, ndim)
        x = input if ndim else input.reshape(1)
    x = x.movedim(d, -1)
    s = sort(x, -1).values  # NaNs last
    n = s.shape[-1]
    nans = xp.sum(xp.isnan(s._data), axis=-1, keepdims=True)
    valid = n - nans if ignore_nan else xp.full(nans.shape, n)
    rank = qa * (valid - 1).astype(qa.dtype)  # (..., nq)
    if not ignore_nan:  # a slice with NaN gives NaN: point at its last element
        rank = xp.where(nans > 0, qa.dtype.type(n - 1), rank)
    else:  # an all-NaN slice gives NaN too
        rank = xp.where(valid == 0, qa.dtype.type(n - 1), rank)
    if interpolation == "nearest":
        rank = xp.round(rank)  # (half to even, as PyTorch)
    lo = xp.floor(rank).astype("int64")
    hi = xp.minimum(xp.ceil(rank).astype("int64"), n - 1)
    if interpolation == "lower":
        hi = lo
    elif interpolation in ("higher", "nearest"):
        lo = hi if interpolation == "higher" else lo
    v_lo = gather(s, -1, Tensor._make(lo))
    if interpolation in ("lower", "nearest"):
        out = v_lo
    elif interpolation == "higher":
        out = gather(s, -1, Tensor._make(hi))
    else:
        w = 0.5 if interpolation == "midpoint" else Tensor._make((rank - lo).astype(qa.dtype))
        out = v_lo + (gather(s, -1, Tensor._make(hi)) - v_lo) * w
    # out: (kept dims..., nq) -> (nq, kept dims...), the reduced dim(s) back as 1s when keepdim
    if keepdim:
        out = out.reshape(out.shape[:-1] + (1,) * (ndim if dim is None else min(ndim, 1)) + out.shape[-1:])
        if dim is not None and ndim:
            out = out.movedim(-2, d)
    out = out.movedim(-1, 0)
    return out.squeeze(0) if scalar_q else out


@export
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", axis=None):
    """The q-th quantiles along `dim` (all elements when None); q a float or a 1-D tensor of them."""
    return _quantile("quantile", input, q, dim if axis is None else axis, keepdim, interpolation, False)


@export
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", axis=None):
    """quantile, ignoring NaNs (a slice of NaNs only gives NaN)."""
    return _quantile("nanquantile", input, q, dim if axis is None else axis, keepdim, interpolation, True)


# histc: counts in `bins` equal bins over [min, max] (the data's range when min == max, widened by 1 each side if
# that is one point), elements outside (and nan) not counted; PyTorch's linear bin index, the max in the last bin
def _histc_fwd(xp, x, bins, lo, hi):
    x = x.reshape(-1)
    if lo == hi and x.size:
        lo, hi = x.min(), x.max()
        if xp is np and not (np.isfinite(lo) and np.isfinite(hi)):  # (on the GPU this would read the data)
            raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    lo, hi = xp.asarray(lo, x.dtype), xp.asarray(hi, x.dtype)
    same = lo == hi
    lo, hi = xp.where(same, lo - 1, lo), xp.where(same, hi + 1, hi)
    inside = (x >= lo) & (x <= hi)
    pos = ((x - lo) * bins / (hi - lo))
    pos = xp.where(inside, pos, bins + 1).astype(np.int64)  # (bin bins + 1: not counted)
    pos = xp.where(pos == bins, bins - 1, pos)
    out = xp.zeros(bins + 2, x.dtype)
    add_at(xp, out, pos, xp.ones(pos.shape, x.dtype))
    return out[:bins]


HISTC = defop("histc", _histc_fwd, group="sorting", dtype="keep")


@export
def histc(input, bins=100, min=0, max=0):
    """The histogram of `input` in `bins` equal bins between `min` and `max` (the data's min and max if equal)."""
    if not input.is_floating_point():
        raise _dtype.not_implemented("histogram_cpu", input.dtype)
    bins = operator.index(bins)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    return apply(HISTC, input, bins=bins, lo=min, hi=max)

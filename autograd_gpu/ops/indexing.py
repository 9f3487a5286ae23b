"""Indexing: __getitem__ (basic indexing gives views, advanced indexing copies), gather, index_select,
masked_fill, and the scatters their backward formulas need (repeated indices add up)."""
import builtins
import operator
import warnings

import numpy as np

from .. import _device, _dtype
from .core import _broadcast_error, apply, defop, export
from .inplace import COPY, FILL_TENSOR, inplace
from .reduction import _dim, _dims
from ..tensor import SCALAR_TYPE_NAMES, Tensor


def _is_t(x):
    return isinstance(x, Tensor)


def _index_array(x, xp):
    """An index element as an array on the data's device (tensors, lists and numpy arrays)."""
    if _is_t(x):
        a = x._data
        if a.dtype.kind == "f" or a.dtype.name in ("int8", "int16"):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a if type(a) is np.ndarray and xp is np else xp.asarray(a)
    a = np.asarray(x) if not (isinstance(x, list) and not x) else np.zeros(0, np.int64)  # ([]: no index)
    if a.dtype.kind == "f":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.dtype == object:
        raise IndexError(f"unsupported index {x!r}")
    return xp.asarray(a)


# NOTE: _host_bounds_check: index bounds are checked on the host for CPU index arrays only. Reading a GPU
# array's min/max would synchronise every forward with the host (and CuPy wraps out-of-range indices
# silently): GPU indices get a device-side flag instead (_device.check_index_range), raised as IndexError by
# the next synchronising call.


def _consumes(i):
    """How many dimensions of the indexed tensor one index element uses up."""
    if i is None or i is Ellipsis or isinstance(i, bool):
        return 0
    if isinstance(i, (int, np.integer, slice)):
        return 1
    dt = getattr(getattr(i, "_data", i), "dtype", None)
    if dt is not None and np.dtype(dt).kind == "b":
        return getattr(i, "ndim", 1)
    if isinstance(i, (list, tuple)) and i and all(isinstance(v, bool) for v in i):
        return 1
    return 1


def _int_of_0d(i):
    """A 0-d integer tensor (or numpy array) indexes as an int (a select), as in PyTorch; a uint8 tensor is a mask
    (PyTorch's deprecated byte masks, with its warning).

    NOTE: on the GPU this reads the value on the host; PyTorch does the same (a select needs its offset)."""
    if _is_t(i) and i._data.dtype == np.uint8:
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.",
                      UserWarning, stacklevel=4)
        return Tensor._make(i._data.astype(bool))
    if _is_t(i) and i.ndim == 0 and i._data.dtype.kind in "iu":
        return int(i._data)
    if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
        return int(i)
    return i


def _basic_first(index, shape, xp):
    """PyTorch applies the basic part of an index first (ints as selects, None as unsqueeze, slices that are not
    full), as views, then the advanced indices to what is left. For a converted index that mixes the two, (the
    basic index, the rest); None when the basic part is the identity. (numpy counts ints as advanced indices,
    which moves the broadcast dimensions first.) A bool (or 0-d bool tensor) is, as in PyTorch, an unsqueeze
    and then a one-element mask over the new dimension."""
    first, rest = [], []
    n_ell = len(shape) - sum(_consumes(i) for i in index)
    dim, identity = 0, True
    for i in index:
        if isinstance(i, bool) or (hasattr(i, "dtype") and i.ndim == 0):  # (0-d index arrays are bool here)
            first.append(None)
            rest.append(xp.asarray(i).reshape(1))
            identity = False
        elif type(i) is int:
            first.append(i)
            identity = False
            dim += 1
        elif i is None:
            first.append(None)
            rest.append(slice(None))
            identity = False
        elif i is Ellipsis:
            first.append(i)
            rest.append(i)
            dim += n_ell
        elif isinstance(i, slice):
            first.append(i)
            rest.append(slice(None))
            identity = identity and i.indices(shape[dim]) == (0, shape[dim], 1)
            dim += 1
        else:
            k = i.ndim if i.dtype.kind == "b" else 1
            first.extend([slice(None)] * k)
            rest.append(i)
            dim += k
    return None if identity else (tuple(first), tuple(rest))


def _expand_ellipses(idx, free, ndim):
    """The index with each ellipsis written out as the `free` full slices it stands for, as PyTorch reads it:
    every ellipsis (not only the first) skips `free` dimensions; past the last dimension full slices are
    skipped and anything else is an error. (Also numpy would count a zero-width ellipsis between two tensor
    indices as separating them; PyTorch does not.)"""
    out, dim = [], 0
    for i in idx:
        if i is Ellipsis:
            k = min(free, max(ndim - dim, 0))
            out.extend([slice(None)] * k)
            dim += free
            continue
        n = _consumes(i)
        if dim + n > ndim or (i is None and dim > ndim):
            if isinstance(i, slice) and i == slice(None):
                dim += 1
                continue
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
        out.append(i)
        dim += n
    return tuple(out)


def _is_advanced(i):
    return not (i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)))


def convert_index(idx, xp, ndim, shape):
    """(numpy index tuple, is_basic). Checks integer bounds as PyTorch does (IndexError)."""
    if isinstance(idx, list) and any(isinstance(e, (list, tuple, slice, type(None), type(Ellipsis))) or _is_t(e)
                                     for e in idx):
        idx = tuple(idx)  # (a list of index sequences is a tuple of indices, as PyTorch and old numpy read it)
    if not isinstance(idx, tuple):
        idx = (idx,)
    idx = tuple(_int_of_0d(i) for i in idx)
    total = sum(_consumes(i) for i in idx)
    n_ell = sum(1 for i in idx if i is Ellipsis)
    if n_ell > 1 or (n_ell and total <= ndim and any(_is_advanced(i) for i in idx)):
        idx = _expand_ellipses(idx, ndim - total, ndim)
        total = sum(_consumes(i) for i in idx)
    if total > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = []
    basic = True
    dim = 0
    for i in idx:
        if i is None or i is Ellipsis:
            out.append(i)
            if i is Ellipsis:
                dim = ndim - (total - dim)
        elif isinstance(i, bool):
            out.append(i)
            basic = False
        elif isinstance(i, (int, np.integer)):
            i = int(i)
            size = shape[dim]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
            out.append(i)
            dim += 1
        elif isinstance(i, slice):
            if i.step is not None and i.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(slice(*(int(v) if v is not None else None for v in (i.start, i.stop, i.step))))
            dim += 1
        else:
            a = _index_array(i, xp)
            if a.dtype.kind == "b":
                if a.shape != tuple(shape[dim:dim + a.ndim]):
                    raise IndexError(f"The shape of the mask {list(a.shape)} at index {dim} does not match the "
                                     f"shape of the indexed tensor {list(shape[dim:dim + a.ndim])}")
            elif a.size and type(a) is np.ndarray:  # NOTE: see _host_bounds_check
                size = shape[dim]
                lo, hi = int(a.min()), int(a.max())
                if lo < -size or hi >= size:
                    raise IndexError(f"index {hi if hi >= size else lo} is out of bounds for dimension {dim} "
                                     f"with size {size}")
            else:
                size = shape[dim]
                _device.check_index_range(a, -size, size, IndexError,
                                          f"index out of bounds for dimension {dim} with size {size}", "index")
            out.append(a)
            basic = False
            dim += _consumes(i)
    return tuple(out), basic


def _getitem_bwd(ctx, g):
    return apply(INDEX_SCATTER, g, shape=ctx.shapes[0], index=ctx.params["index"])


def _getitem_fwd(xp, x, index):
    return x[index]


# basic indexing is one numpy view; its node is named after the last step PyTorch would record
SELECT = defop("select", _getitem_fwd, _getitem_bwd, group="indexing", dtype="keep", view=True)
SLICE = defop("slice", _getitem_fwd, _getitem_bwd, group="indexing", dtype="keep", view=True, public=False)
UNSQUEEZE_INDEX = defop("index_none", _getitem_fwd, _getitem_bwd, node="UnsqueezeBackward0", group="indexing",
                        dtype="keep", view=True, public=False)
ALIAS = defop("alias", _getitem_fwd, _getitem_bwd, group="indexing", dtype="keep", view=True, public=False)
INDEX = defop("index", _getitem_fwd, _getitem_bwd, group="indexing", dtype="keep")


# cupyx.scatter_add takes only these dtypes; others accumulate through int64 (or float32 for float16) and back
_SCATTER_ADD_DTYPES = frozenset(np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64, np.float32,
                                                       np.float64))


def add_at(xp, out, index, values):
    """out[index] += values, repeated indices accumulating (numpy's add.at; cupyx.scatter_add on the GPU)."""
    if xp is np:
        np.add.at(out, index, values)
    elif out.dtype in _SCATTER_ADD_DTYPES:
        _device.cupyx().scatter_add(out, index, values)
    else:
        wide = out.astype(np.float32 if out.dtype.kind == "f" else np.int64)
        _device.cupyx().scatter_add(wide, index, values.astype(wide.dtype) if hasattr(values, "astype") else values)
        out[...] = wide.astype(out.dtype)


def _scatter_fwd(xp, g, shape, index):
    z = xp.zeros(shape, dtype=g.dtype)
    if all(not hasattr(i, "dtype") for i in index):
        z[index] = g
    else:
        add_at(xp, z, _bool_to_int(index, xp), g)
    return z


def _bool_to_int(index, xp):
    out = []
    for i in index:
        if hasattr(i, "dtype") and i.dtype.kind == "b":
            out.extend(xp.nonzero(i))
        else:
            out.append(i)
    return tuple(out)


INDEX_SCATTER = defop("index_scatter", _scatter_fwd, lambda ctx, g: apply(INDEX, g, index=ctx.params["index"]),
                      node="IndexBackwardBackward0",
                      group="indexing", dtype="keep", public=False)


def getitem(input, idx):
    index, basic = convert_index(idx, input._xp, input.ndim, input._data.shape)
    if not basic:
        split = _basic_first(index, input._data.shape, input._xp)
        if split is not None:
            return apply(INDEX, _basic_getitem(input, split[0]), index=split[1])
        return apply(INDEX, input, index=index)
    return _basic_getitem(input, index, isinstance(idx, slice))


def _basic_getitem(input, index, one_slice=False):
    op = SLICE if one_slice else _basic_index_op(index, input._data.shape)
    if Ellipsis not in index:
        index = index + (Ellipsis,)  # NOTE: x[0, 0] on numpy gives a scalar copy; x[0, 0, ...] a 0-d view
    return apply(op, input, index=index)


def _basic_index_op(index, shape):
    """PyTorch applies a basic index step by step (select, slice, unsqueeze), skipping full slices; the result's
    node is the last step's (AliasBackward0 when every step was skipped)."""
    op = ALIAS
    dim = 0
    n_ell = len(shape) - sum(1 for i in index if i is not None and i is not Ellipsis)
    for i in index:
        if i is None:
            op = UNSQUEEZE_INDEX
        elif i is Ellipsis:
            dim += n_ell
        elif isinstance(i, slice):
            if i.indices(shape[dim]) != (0, shape[dim], 1):
                op = SLICE
            dim += 1
        else:
            op = SELECT
            dim += 1
    return op


@export
def select(input, dim, index):
    d = _dim(dim, input.ndim)
    return getitem(input, (slice(None),) * d + (index,))


@export
def narrow(input, dim, start, length):
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    start, length = operator.index(start), operator.index(length)  # (PyTorch's TypeError for a float)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if not (0 <= start and start + length <= n):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


# ---- setitem -------------------------------------------------------------------------------------
def _index_put_fwd(xp, x, value, index, accumulate=False):
    out = x.copy()
    v = value if hasattr(value, "dtype") else xp.asarray(value, dtype=x.dtype)
    if accumulate:
        add_at(xp, out, _bool_to_int(index, xp), v)
    else:
        out[index] = v
    return out


def _index_put_bwd(ctx, g):
    index = ctx.params["index"]
    gx = None
    if ctx.needs_input_grad[0]:
        gx = g if ctx.params.get("accumulate") else apply(INDEX_PUT, g, 0.0, index=index)
    gv = apply(INDEX, g, index=index) if ctx.needs_input_grad[1] else None
    return gx, gv


INDEX_PUT = defop("index_put", _index_put_fwd, _index_put_bwd, group="indexing", dtype="keep")


def setitem(t, idx, value):
    if not _is_t(value):
        value = _assigned_number(t, value)
    index, basic = convert_index(idx, t._xp, t.ndim, t._data.shape)
    if _is_t(value) and value.ndim and value.shape[0] == 1:  # (leading size-1 dims of the value are dropped)
        k = next((i for i, n in enumerate(value.shape) if n != 1), value.ndim)
        value = value.reshape(value.shape[k:])
    if basic:
        if _basic_index_op(index, t._data.shape) is ALIAS:  # x[...] = v, x[:] = v: written into x itself
            _write_all(t, value)
        else:
            region = getitem(t, idx)
            if not _is_t(value):  # (a number: as a 0-d tensor of t's dtype, on its device)
                value = Tensor._make(t._xp.full_like(region._data, value, shape=()))
            elif value._data.dtype != t._data.dtype:  # (a copy casts)
                value = value.to(t.dtype)
            if value.shape != region.shape:
                value = value.expand(region.shape)  # (PyTorch's expand error where it does not fit)
            region.copy_(value)
        return
    if any(i is False or (hasattr(i, "dtype") and i.ndim == 0 and not i) for i in index):
        return  # PyTorch writes nothing (and records nothing) through a False index; NOTE: reads a 0-d bool, as it does
    split = _basic_first(index, t._data.shape, t._xp)
    if split is not None:
        t, index = _basic_getitem(t, split[0]), split[1]
    if _is_t(value) and value._data.dtype != t._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_dtype.SCALAR_TYPE_NAMES[t.dtype.name]} for the destination and "
                           f"{_dtype.SCALAR_TYPE_NAMES[value.dtype.name]} for the source.")
    try:
        inplace(t, lambda old: apply(INDEX_PUT, old, value, index=index))
    except ValueError as e:
        if not any(w in str(e) for w in ("shape mismatch", "broadcast", "cannot assign")):
            raise
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(t._data[index].shape)}") from None


def _assigned_number(t, value):
    """A number assigned by t[idx] = value, as PyTorch takes it: a Python number, or a numpy scalar that is one
    (np.float64, the numpy ints; not np.float32 / np.float16 / np.bool_), fitting t's dtype if it is integral."""
    if isinstance(value, (np.float32, np.float16, np.bool_)) or not isinstance(value, (int, float, np.integer)):
        name = type(value).__name__ if type(value).__module__ == "builtins" else \
            f"{type(value).__module__}.{type(value).__qualname__}"
        raise TypeError(f"can't assign a {name} to a {_dtype.legacy_type_name(t._data)}")
    value = _dtype.python_number(value)
    if isinstance(value, int) and not -(1 << 63) <= value < (1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return value if t.dtype.is_floating_point else _dtype.checked_scalar(value, t.dtype)


def _write_all(t, value):
    """t[...] = value, as PyTorch writes it: a copy_ of a tensor, a fill_ with a number (as a 0-d tensor)."""
    if _is_t(value):
        if value.device != t.device or value._data.dtype != t._data.dtype:
            value = value.to(t.device, t.dtype)  # (a copy casts)
        if value.shape != t.shape:
            value = value.expand(t.shape)  # (PyTorch's expand error where it does not fit)
        inplace(t, lambda old: apply(COPY, old, value), copy_src=value)
    else:
        v = Tensor._make(t._xp.full_like(t._data, value, shape=()))  # (on t's device)
        inplace(t, lambda old: apply(FILL_TENSOR, old, v))


def index_put_(input, indices, values, accumulate=False):
    index, _ = convert_index(tuple(indices), input._xp, input.ndim, input._data.shape)
    return inplace(input, lambda old: apply(INDEX_PUT, old, values, index=index, accumulate=accumulate))


@export
def index_put(input, indices, values, accumulate=False):
    index, _ = convert_index(tuple(indices), input._xp, input.ndim, input._data.shape)
    return apply(INDEX_PUT, input, values, index=index, accumulate=accumulate)


# ---- gather / scatter / index_select ------------------------------------------------------------
def _full_index(xp, idx, dim):
    """Open-grid index that addresses positions idx along `dim` and every position elsewhere."""
    grids = []
    for d, n in enumerate(idx.shape):
        if d == dim:
            grids.append(idx)
        else:
            shape = [1] * idx.ndim
            shape[d] = n
            grids.append(xp.arange(n).reshape(shape))
    return tuple(grids)


def _gather_fwd(xp, x, dim, index):
    return x[_full_index(xp, index._data, dim)]


def _scatter_add_zeros_fwd(xp, g, shape, dim, index):
    z = xp.zeros(shape, dtype=g.dtype)
    full = _full_index(xp, index._data, dim)
    add_at(xp, z, full, g)
    return z


GATHER = defop("gather", _gather_fwd,
               lambda ctx, g: apply(SCATTER_ADD_ZEROS, g, shape=ctx.shapes[0], dim=ctx.params["dim"],
                                    index=ctx.params["index"]), group="indexing", dtype="keep")
SCATTER_ADD_ZEROS = defop("scatter_add_zeros", _scatter_add_zeros_fwd,
                          lambda ctx, g: apply(GATHER, g, dim=ctx.params["dim"], index=ctx.params["index"]),
                          node="ScatterAddBackward0", group="indexing", dtype="keep", public=False)


def _broadcast_shapes(*shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(_broadcast_error(shapes)) from None


def index_arg(name, index, arg="index", pos=3):
    """PyTorch's TypeError for an index argument that is not a tensor (a list, a number)."""
    if not _is_t(index):
        raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(index).__name__}")


def _check_gather(input, dim, index, name):
    index_arg(name, index)
    if index._data.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                               f"smaller than self {list(input.shape)} apart from dimension {dim}")
    _check_bounds(index, 0, input.shape[dim] if input.ndim else 1, RuntimeError,
                  lambda i, n: f"index {i} is out of bounds for dimension {dim} with size {n}", "gather/scatter")


def _check_bounds(index, lo, n, exc, message, op):
    """Every element of the index tensor in [lo, n), else exc(message(bad index, n)).
    NOTE: see _host_bounds_check (a GPU index is checked by the next synchronising call)."""
    a = index._data
    if not a.size:
        return
    if type(a) is np.ndarray:
        hi, low = int(a.max()), int(a.min())
        if hi >= n or low < lo:
            raise exc(message(hi if hi >= n else low, n))
    else:
        _device.check_index_range(a, lo, n, exc, message("out of range", n), op)


@export
def gather(input, dim, index, *, sparse_grad=False):
    index_arg("gather", index)
    d = _dim(dim, input.ndim) if input.ndim else 0
    _check_gather(input, d, index, "gather")
    return apply(GATHER, input, dim=d, index=index)


def scatter_zeros(src, shape, dim, index):
    """zeros(shape) with src added at `index` along `dim` (differentiable in src)."""
    return apply(SCATTER_ADD_ZEROS, src, shape=tuple(shape), dim=dim, index=index)


def _scatter_fwd_op(reduce_add):
    def fwd(xp, x, src, dim, index):
        out = x.copy()
        full = _full_index(xp, index._data, dim)
        s = src if hasattr(src, "shape") else xp.full(index._data.shape, src, dtype=x.dtype)
        s = s[tuple(slice(0, n) for n in index._data.shape)] if s.shape != index._data.shape else s
        if reduce_add:
            add_at(xp, out, full, s)
        else:
            out[full] = s
        return out
    return fwd


def _scatter_bwd(reduce_add):
    def bwd(ctx, g):
        dim, index = ctx.params["dim"], ctx.params["index"]
        gx = None
        if ctx.needs_input_grad[0]:
            gx = g if reduce_add else apply(SCATTER, g, 0.0, dim=dim, index=index)
        gs = None
        if ctx.needs_input_grad[1]:
            gs = apply(GATHER, g, dim=dim, index=index)
            shp = ctx.shapes[1]
            if tuple(gs.shape) != tuple(shp):
                gs = apply(SCATTER_ADD_ZEROS, gs, shape=shp, dim=dim, index=_arange_index(index, shp, dim))
        return gx, gs
    return bwd


def _arange_index(index, shape, dim):
    xp = index._xp
    n = index._data.shape
    ar = xp.broadcast_to(xp.arange(n[dim]).reshape([-1 if d == dim else 1 for d in range(len(n))]), n).copy()
    return Tensor._make(ar)


SCATTER = defop("scatter", _scatter_fwd_op(False), _scatter_bwd(False), group="indexing", dtype="keep")
SCATTER_VALUE = defop("scatter_value", _scatter_fwd_op(False), _scatter_bwd(False), node="ScatterBackward1",
                      group="indexing", dtype="keep", public=False)
SCATTER_ADD = defop("scatter_add", _scatter_fwd_op(True), _scatter_bwd(True), group="indexing", dtype="keep")


def _not_implemented(name):
    def backward(ctx, g):
        raise RuntimeError(f"derivative for aten::{name} is not implemented")
    return backward


def _scatter_legacy_fwd(xp, x, src, dim, index, reduce):
    s = src if hasattr(src, "shape") else xp.full(index._data.shape, src, dtype=x.dtype)
    return _scatter_reduce_fwd(xp, x, s, dim, index, reduce, True)


# scatter(..., reduce="add" | "multiply"): PyTorch records a node whose backward raises
SCATTER_LEGACY_REDUCE = defop("scatter_legacy_reduce", _scatter_legacy_fwd, _not_implemented("scatter"),
                              node="NotImplemented", group="indexing", dtype="keep", public=False)
_LEGACY_REDUCE = {"add": "sum", "multiply": "prod"}


@export(inplace=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    d = _dim(dim, input.ndim)
    _check_gather(input, d, index, "scatter")
    src = src if src is not None else value
    if _is_t(src) and src._data.dtype != input._data.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if reduce is not None:
        if reduce not in _LEGACY_REDUCE:
            raise RuntimeError("reduce argument must be either add or multiply.")
        return apply(SCATTER_LEGACY_REDUCE, input, src, dim=d, index=index, reduce=_LEGACY_REDUCE[reduce])
    return apply(SCATTER if _is_t(src) else SCATTER_VALUE, input, src, dim=d, index=index)


@export(inplace=True)
def scatter_add(input, dim, index, src):
    d = _dim(dim, input.ndim)
    _check_gather(input, d, index, "scatter_add")
    return apply(SCATTER_ADD, input, src, dim=d, index=index)


def _index_select_bwd(ctx, g):
    return apply(INDEX_ADD_ZEROS, g, shape=ctx.shapes[0], dim=ctx.params["dim"], index=ctx.params["index"])


def _index_add_zeros_fwd(xp, g, shape, dim, index):
    z = xp.zeros(shape, dtype=g.dtype)
    ix = (slice(None),) * dim + (index._data,)
    add_at(xp, z, ix, g)
    return z


INDEX_SELECT = defop("index_select", lambda xp, x, dim, index: xp.take(x, index._data, axis=dim),
                     _index_select_bwd, group="indexing", dtype="keep")
INDEX_ADD_ZEROS = defop("index_add_zeros", _index_add_zeros_fwd,
                        lambda ctx, g: apply(INDEX_SELECT, g, dim=ctx.params["dim"], index=ctx.params["index"]),
                        node="IndexAddBackward0", group="indexing", dtype="keep", public=False)


@export
def index_select(input, dim, index):
    index_arg("index_select", index)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.name not in ("int64", "int32"):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    d = _dim(dim, input.ndim) if input.ndim else 0
    # (negative indices too; PyTorch's CPU kernels word it two ways: the gather-by-rows one for dim 0 and a
    # last dim past a matrix, the element-wise one for the others)
    rows = d == 0 or (d == input.ndim - 1 and input.ndim > 2)
    _check_bounds(index, 0, input.shape[d] if input.ndim else 1, IndexError if rows else RuntimeError,
                  lambda i, n: "index out of range in self" if rows else
                  f"INDICES element is out of DATA bounds, id={i} axis_dim={n}", "index_select")
    return apply(INDEX_SELECT, input, dim=d, index=index.reshape(-1) if index.ndim == 0 else index)


# ---- reductions into indexed positions: scatter_reduce, index_reduce, index_add, index_copy, index_fill -----
_UFUNC = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}


def reduce_at(xp, out, index, values, reduce):
    """out[index] = reduce(out[index], values), repeated indices combining ("sum", "prod", "amax", "amin";
    numpy's ufunc.at). `index` is a tuple of integer arrays, one per dimension of out."""
    if reduce == "sum":
        return add_at(xp, out, index, values)
    fn = getattr(xp, _UFUNC[reduce])
    if xp is np:
        fn.at(out, index, values)
        return
    # NOTE: CuPy has no multiply.at (nor max/min for every dtype): a segmented scan over the targets in sorted
    # order, log2(n) steps of elementwise ops (n is a shape, so no host synchronisation), then each run's last
    # value combined into its target
    idx = xp.broadcast_arrays(*index)
    flat = xp.zeros(idx[0].shape, dtype=np.int64)
    for i, n in zip(idx, out.shape):
        flat = flat * n + i
    flat = flat.reshape(-1)
    n = flat.size
    if not n:
        return
    order = xp.argsort(flat)
    key, val = flat[order], xp.broadcast_to(values, idx[0].shape).reshape(-1)[order]
    k = 1
    while k < n:
        val = xp.concatenate([val[:k], xp.where(key[k:] == key[:-k], fn(val[k:], val[:-k]), val[k:])])
        k *= 2
    last = xp.concatenate([key[1:] != key[:-1], xp.ones(1, dtype=bool)])
    target = xp.where(last, key, out.size)  # (all but each run's last go to a spare slot)
    ext = xp.concatenate([out.reshape(-1), out.reshape(-1)[:1]])
    ext[target] = fn(ext[target], val)
    out[...] = ext[:-1].reshape(out.shape)


def _identity(dtype, reduce):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_fwd(xp, x, src, dim, index, reduce, include_self):
    idx = index._data
    full = _full_index(xp, idx, dim)
    src = src[tuple(slice(0, n) for n in idx.shape)]
    out = x.copy()
    if not include_self:
        out[full] = _identity(x.dtype, reduce)
    reduce_at(xp, out, full, src, "sum" if reduce == "mean" else reduce)
    if reduce == "mean":
        count = xp.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
        add_at(xp, count, full, xp.ones(idx.shape, dtype=x.dtype))
        count = xp.maximum(count, 1)
        out = out // count if x.dtype.kind in "iu" else out / count  # (integers: floor division, as PyTorch)
    return out


def _const(t, value):
    return Tensor._make(t._xp.full_like(t._data, value))


def _scatter_reduce_bwd(ctx, g):
    """PyTorch's scatter_reduce_backward (index_reduce's too: its index arrives expanded to the source's shape,
    so index_select/index_add/index_fill are gather/scatter_add/scatter)."""
    x, src_full, result = ctx.saved
    p = ctx.params
    dim, index, reduce, include_self = p["dim"], p["index"], p["reduce"], p["include_self"]
    src = src_full[tuple(slice(0, n) for n in index.shape)] if src_full.shape != index.shape else src_full
    if reduce == "sum":
        gx, gs = g, g.gather(dim, index)
    elif reduce == "prod":
        # the exclusive product where an element of self or src is 0 (dividing the result by it would give 0/0)
        masked_x = x.masked_fill(x == 0, 1)
        gx = g * apply(ctx.op, masked_x, src_full, **p) / masked_x
        src_zero = src == 0
        n_zeros = _const(x, 0).scatter_add(dim, index, src_zero.to(x.dtype)).gather(dim, index)
        single = src_zero & (n_zeros == 1)
        masked_src_result = apply(ctx.op, x, _pad_like(src.masked_fill(single, 1), src_full, dim, index), **p)
        gs = (g * masked_src_result).gather(dim, index).where(
            single, (g * result).gather(dim, index) / src.masked_fill(src_zero, 1))
    elif reduce == "mean":
        n = _const(g, 1 if include_self else 0).scatter_add(dim, index, _const(src, 1))
        n = n.masked_fill(n == 0, 1)
        gx, gs = g / n, g.gather(dim, index) / n.gather(dim, index)
    else:  # amax, amin: the gradient shared evenly between the elements equal to the result
        x_is = (x == result).to(g.dtype)
        src_is = (src == result.gather(dim, index)).to(g.dtype)
        shared = g / x_is.scatter_add(dim, index, src_is)
        gx, gs = x_is * shared, src_is * shared.gather(dim, index)
    if not include_self:
        gx = gx.scatter(dim, index, 0.0)
    if ctx.needs_input_grad[1] and tuple(gs.shape) != tuple(src_full.shape):
        gs = _pad_like(gs, src_full, dim, index)
    return gx, gs


def _pad_like(t, like, dim, index):
    """t (index's shape) placed at the front of zeros of like's shape (src may be larger than index)."""
    if tuple(t.shape) == tuple(like.shape):
        return t
    return apply(SCATTER_ADD_ZEROS, t, shape=tuple(like.shape), dim=dim,
                 index=_arange_index(index, like.shape, dim))


SCATTER_REDUCE = defop("scatter_reduce", _scatter_reduce_fwd, _scatter_reduce_bwd, save=(0, 1, "out"),
                       group="indexing", dtype="keep")
INDEX_REDUCE = defop("index_reduce", _scatter_reduce_fwd, _scatter_reduce_bwd, save=(0, 1, "out"),
                     group="indexing", dtype="keep")
_SCATTER_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _check_same_dtype(input, src, message):
    if _is_t(src) and src._data.dtype != input._data.dtype:
        raise RuntimeError(message)


@export(inplace=True)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src[i][j] reduced into position index[i][j] along dim (here dim=0), by "sum", "prod", "mean",
    "amax" or "amin"; include_self=False leaves input's own values out where something is scattered::

        zeros(3).scatter_reduce(0, tensor([0, 0, 2]), tensor([1., 2., 3.]), "sum")  # [3., 0., 3.]
    """
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # (PyTorch's older names)
    if reduce not in _SCATTER_REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    d = _dim(dim, input.ndim)
    _check_same_dtype(input, src, "scatter(): Expected self.dtype to be equal to src.dtype")
    _check_gather(input, d, index, "scatter")
    if src.ndim != index.ndim or any(i > n for i, n in zip(index.shape, src.shape)):
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart "
                           f"from dimension {d} and to be no larger size than src {list(src.shape)}")
    return apply(SCATTER_REDUCE, input, src, dim=d, index=index, reduce=reduce, include_self=include_self)


def _index_dim(input, dim, index, source, name, count_error=IndexError):
    """(dim, index) of an index_* op, checked as PyTorch checks them; 0-d tensors act as 1-d of one element."""
    d = _dim(dim, input.ndim) if input.ndim else _dim(dim, 1)
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {index.ndim}")
    if source is not None:
        n_src = source.shape[d] if source.ndim else 1
        if index.numel() != n_src:
            raise count_error(
                f"{name}(): Number of indices ({index.numel()}) should be equal to source.size(dim): ({n_src}), "
                f"for dim: {d}")
    return d, index.reshape(-1) if index.ndim == 0 else index


def _along(dim, index):
    """The numpy index of positions `index` along `dim`."""
    return (slice(None),) * dim + (index._data,)


def _flat0(a):  # (the index_* ops see a 0-d tensor as 1-d of one element)
    return a.reshape(1) if a.ndim == 0 else a


def _index_add_fwd(xp, x, src, dim, index, alpha):
    out = _flat0(x.copy())
    add_at(xp, out, _along(dim, index), _flat0(src) * alpha if alpha != 1 else _flat0(src))
    return out.reshape(x.shape)


def _index_add_bwd(ctx, g):
    dim, index, alpha = ctx.params["dim"], ctx.params["index"], ctx.params["alpha"]
    gs = None
    if ctx.needs_input_grad[1]:
        gs = _flat(g).index_select(dim, index).reshape(ctx.shapes[1])
        gs = gs * alpha if alpha != 1 else gs
    return g, gs


def _flat(t):
    return t.reshape(1) if t.ndim == 0 else t


INDEX_ADD = defop("index_add", _index_add_fwd, _index_add_bwd, group="indexing", dtype="keep")


def _check_index_dtype(index, message, exc=RuntimeError, kinds=("int64",)):
    if index._data.dtype.name not in kinds:
        raise exc(message.format(_legacy_name(index)))


@export(inplace=True)
def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source's slices added at positions index along dim (repeats add up)::

        zeros(3).index_add(0, tensor([0, 0]), tensor([1., 2.]))  # [3., 0., 0.]
    """
    index_arg("index_add", index)
    _check_index_dtype(index, "index_add_(): Expected dtype int32/int64 for index but got: {}",
                       kinds=("int32", "int64"))
    _check_same_dtype(input, source, f"index_add_(): self ({input.dtype}) and source ({source.dtype}) must have "
                                     "the same scalar type")
    d, index = _index_dim(input, dim, index, source, "index_add_", RuntimeError)
    n = input.shape[d] if input.ndim else 1
    _check_bounds(index, 0, n, RuntimeError, lambda i, n: f"index {i} is out of bounds for dimension {d} with "
                                                          f"size {n}", "index_add")
    return apply(INDEX_ADD, input, source, dim=d, index=index, alpha=alpha)


def _index_copy_fwd(xp, x, src, dim, index):
    out = _flat0(x.copy())
    out[_along(dim, index)] = _flat0(src)
    return out.reshape(x.shape)


def _index_copy_bwd(ctx, g):
    dim, index = ctx.params["dim"], ctx.params["index"]
    gx = _flat(g).index_fill(dim, index, 0.0).reshape(g.shape) if ctx.needs_input_grad[0] else None
    gs = _flat(g).index_select(dim, index).reshape(ctx.shapes[1]) if ctx.needs_input_grad[1] else None
    return gx, gs


INDEX_COPY = defop("index_copy", _index_copy_fwd, _index_copy_bwd, group="indexing", dtype="keep")


@export(inplace=True)
def index_copy(input, dim, index, source):
    index_arg("index_copy", index)
    _check_index_dtype(index, "index_copy_(): Expected a long tensor for index, but got {}")
    _check_same_dtype(input, source, f"index_copy_(): self and source expected to have the same dtype, but got "
                                     f"(self) {input.dtype} and (source) {source.dtype}")
    d, index = _index_dim(input, dim, index, source, "index_copy_")
    n = input.shape[d] if input.ndim else 1
    _check_bounds(index, 0, n, IndexError, lambda i, n: f"index_copy_(): index {i} is out of bounds for dimension "
                                                        f"{d} with size {n}", "index_copy")
    return apply(INDEX_COPY, input, source, dim=d, index=index)


def _index_fill_fwd(xp, x, value, dim, index):
    out = _flat0(x.copy())
    out[_along(dim, index)] = value.astype(x.dtype) if hasattr(value, "dtype") else value
    return out.reshape(x.shape)


def _index_fill_bwd(ctx, g):
    dim, index = ctx.params["dim"], ctx.params["index"]
    filled = _flat(g).index_fill(dim, index, 0.0).reshape(g.shape)
    # the value's gradient: the sum over the filled positions, each counted once however often it is indexed
    gv = (g - filled).sum() if ctx.needs_input_grad[1] else None
    return filled, gv


INDEX_FILL = defop("index_fill", _index_fill_fwd, _index_fill_bwd, group="indexing", dtype="keep")
INDEX_FILL_TENSOR = defop("index_fill_tensor", _index_fill_fwd, _index_fill_bwd, node="IndexFillBackward1",
                          group="indexing", dtype="keep", public=False)


@export(inplace=True)
def index_fill(input, dim, index, value):
    index_arg("index_fill_", index, pos=2)
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    _check_index_dtype(index, "index_fill_(): Expected dtype int64 for index.", IndexError)
    if _is_t(value) and value.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    d, index = _index_dim(input, dim, index, None, "index_fill_")
    n = input.shape[d] if input.ndim else 1
    _check_bounds(index, -n, n, IndexError, lambda i, n: f"index {i} is out of bounds for dimension {d} with "
                                                         f"size {n}", "index_fill")
    return apply(INDEX_FILL_TENSOR if _is_t(value) else INDEX_FILL, input, value, dim=d, index=index)


_INDEX_REDUCES = ("prod", "mean", "amax", "amin")


@export(inplace=True)
def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with source's slices reduced into positions index along dim ("prod", "mean", "amax", "amin")::

        ones(2).index_reduce(0, tensor([1, 1]), tensor([2., 3.]), "prod")  # [1., 6.]
    """
    if reduce not in _INDEX_REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    _check_index_dtype(index, "index_reduce_(): Expected dtype int32/int64 for index but got: {}",
                       kinds=("int32", "int64"))
    _check_same_dtype(input, source, f"index_reduce_(): self ({input.dtype}) and source ({source.dtype}) must have "
                                     "the same scalar type")
    d, index = _index_dim(input, dim, index, source, "index_reduce_")
    n = input.shape[d] if input.ndim else 1
    _check_bounds(index, 0, n, IndexError, lambda i, n: "index out of range in self", "index_reduce")
    if input.ndim == 0:
        return index_reduce(input.reshape(1), 0, index, source.reshape(1), reduce,
                            include_self=include_self).reshape(())
    # index_reduce is scatter_reduce with the index spread along the source's other dimensions
    xp = index._xp
    shape = [1] * source.ndim
    shape[d] = -1
    expanded = Tensor._make(xp.broadcast_to(index._data.astype(np.int64).reshape(shape), source._data.shape).copy())
    return apply(INDEX_REDUCE, input, source, dim=d, index=expanded, reduce=reduce, include_self=include_self)


# ---- flat positions: take, put, and masked_scatter ------------------------------------------------------
def _wrap(xp, a, n):
    return xp.where(a < 0, a + n, a)


TAKE = defop("take", lambda xp, x, index: x.reshape(-1)[_wrap(xp, index._data, x.size)],
             lambda ctx, g: apply(PUT, _const_shape(g, ctx.shapes[0]), g, index=ctx.params["index"],
                                  accumulate=True),
             group="indexing", dtype="keep")


def _const_shape(g, shape):
    return Tensor._make(g._xp.zeros(shape, dtype=g._data.dtype))


def _put_fwd(xp, x, src, index, accumulate):
    out = x.copy()
    flat = out.reshape(-1)  # (a view of the copy)
    i = _wrap(xp, index._data.reshape(-1), x.size)
    if accumulate:
        add_at(xp, flat, i, src.reshape(-1))
    else:
        flat[i] = src.reshape(-1)
    return out


def _put_bwd(ctx, g):
    index, accumulate = ctx.params["index"], ctx.params["accumulate"]
    gx = None
    if ctx.needs_input_grad[0]:
        gx = g if accumulate else apply(PUT, g, _const_shape(g, ctx.shapes[1]), index=index, accumulate=False)
    gs = apply(TAKE, g, index=index).reshape(ctx.shapes[1]) if ctx.needs_input_grad[1] else None
    return gx, gs


PUT = defop("put", _put_fwd, _put_bwd, group="indexing", dtype="keep")


def _check_flat_index(input, index, name):
    _check_index_dtype(index, name + "(): Expected a long tensor for index, but got {}")
    n = input.numel()
    _check_bounds(index, -n, n, IndexError,
                  lambda i, n: f"out of range: tried to access index {i} on a tensor of {n} elements.", name)


@export
def take(input, index):
    """input's elements at flat (row-major) positions index, in index's shape: arange(4.).take(tensor([3, -1]))
    is [3., 3.]."""
    _check_flat_index(input, index, "take")
    return apply(TAKE, input, index=index)


@export(inplace=True)
def put(input, index, source, accumulate=False):
    """input with source written (or, accumulate=True, added) at flat positions index: zeros(3).put(tensor([0, 0]),
    tensor([1., 2.]), accumulate=True) is [3., 0., 0.]."""
    index_arg("put", index, pos=2)
    if index._data.dtype != np.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{_dtype.SCALAR_TYPE_NAMES[index.dtype.name]}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    _check_same_dtype(input, source, f"put_(): self and source expected to have the same dtype, but got self.dtype "
                                     f"= {input.dtype} and source.dtype = {source.dtype}")
    _check_flat_index(input, index, "put_")
    return apply(PUT, input, source, index=index, accumulate=accumulate)


def _mask_positions(xp, mask, shape):
    """The flattened mask broadcast to shape, and for each True element its rank among them."""
    m = xp.broadcast_to(mask, shape).reshape(-1)
    return m, xp.cumsum(m) - 1


def _masked_scatter_fwd(xp, x, src, mask):
    shape = np.broadcast_shapes(x.shape, mask._data.shape)
    m, pos = _mask_positions(xp, mask._data, shape)
    flat = src.reshape(-1)
    if not flat.size:  # (then the mask has no True element: checked)
        return xp.broadcast_to(x, shape).copy()
    vals = flat[xp.clip(pos, 0, flat.size - 1)]
    return xp.where(m, vals, xp.broadcast_to(x, shape).reshape(-1)).reshape(shape)


def _masked_scatter_bwd(ctx, g):
    mask = ctx.params["mask"]
    gx = g.masked_fill(mask, 0.0) if ctx.needs_input_grad[0] else None
    gs = apply(MASKED_SCATTER_BACKWARD, g, mask=mask, shape=ctx.shapes[1]) if ctx.needs_input_grad[1] else None
    return gx, gs


def _masked_scatter_backward_fwd(xp, g, mask, shape):
    """The elements of g under the mask, in order, then zeros, in `shape` (PyTorch's masked_scatter_backward)."""
    m, pos = _mask_positions(xp, mask._data, g.shape)
    n = int(np.prod(shape))
    out = xp.zeros(n + 1, dtype=g.dtype)
    out[xp.where(m, pos, n)] = g.reshape(-1)  # (positions not under the mask go to a spare slot)
    return out[:n].reshape(shape)


MASKED_SCATTER = defop("masked_scatter", _masked_scatter_fwd, _masked_scatter_bwd, group="indexing", dtype="keep")
MASKED_SCATTER_BACKWARD = defop(
    "masked_scatter_backward", _masked_scatter_backward_fwd,
    lambda ctx, g: apply(MASKED_SCATTER, _const_shape(g, ctx.shapes[0]), g, mask=ctx.params["mask"]),
    group="indexing", dtype="keep", public=False)


@export(inplace=True)
def masked_scatter(input, mask, source):
    """input with source's first elements, in order, where mask (broadcast) is True::

        zeros(3).masked_scatter(tensor([True, False, True]), tensor([5., 6., 7.]))  # [5., 0., 6.]
    """
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_legacy_name(mask)}")
    _check_same_dtype(input, source, f"masked_scatter: expected self and source to have same dtypes but got"
                                     f"{_legacy_name(input)} and {_legacy_name(source)}")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({input.shape[-1]}) must match the size of tensor b "
                           f"({mask.shape[-1]}) at non-singleton dimension") from None
    xp = input._xp
    m, pos = _mask_positions(xp, mask._data, shape)
    _check_bounds(Tensor._make(xp.where(m, pos, -1)), -1, source.numel(), RuntimeError,
                  lambda i, n: "Number of elements of source < number of ones in mask", "masked_scatter")
    return apply(MASKED_SCATTER, input, source, mask=mask)


def _legacy_name(t):
    return SCALAR_TYPE_NAMES[t._data.dtype.name]


def _masked_fill_fwd(xp, x, value, mask):
    v = value.astype(x.dtype) if hasattr(value, "dtype") else value
    return xp.where(mask._data, v, x).astype(x.dtype, copy=False)


def _masked_fill_bwd(ctx, g):
    from .arithmetic import where  # layering: a cycle in the ops (arithmetic.where -> indexing.nonzero)
    mask = ctx.params["mask"]
    gx = where(mask, 0.0, g) if ctx.needs_input_grad[0] else None
    gv = where(mask, g, 0.0).sum() if ctx.needs_input_grad[1] else None
    return gx, gv


MASKED_FILL = defop("masked_fill", _masked_fill_fwd, _masked_fill_bwd, group="indexing", dtype="keep")
MASKED_FILL_TENSOR = defop("masked_fill_tensor", _masked_fill_fwd, _masked_fill_bwd, node="MaskedFillBackward1",
                           group="indexing", dtype="keep", public=False)


@export(inplace=True)
def masked_fill(input, mask, value):
    index_arg("masked_fill", mask, "mask", 2)
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    if _is_t(value) and value.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    if not _is_t(value):
        value = _dtype.checked_scalar(_dtype.number_arg(value, "masked_fill_", "value"), input.dtype)
    return apply(MASKED_FILL_TENSOR if _is_t(value) else MASKED_FILL, input, value, mask=mask)


@export
def masked_select(input, mask):
    index_arg("masked_select", mask, "mask", 2)
    from .shape import broadcast_tensors  # layering: a cycle in the ops (shape -> reduction -> indexing)
    x, m = broadcast_tensors(input, mask)
    return getitem(x, m)


@export
def nonzero(input, *, as_tuple=False):
    xp = input._xp
    d = input._data
    if d.ndim == 0:  # PyTorch: (n, 0) positions of a 0-d tensor (n = 1 if it is nonzero), or a 1-d one as a tuple
        nz = xp.nonzero(d.reshape(1))
        if as_tuple:
            return (Tensor._make(nz[0].astype(np.int64)),)
        return Tensor._make(xp.zeros((nz[0].shape[0], 0), np.int64))
    nz = xp.nonzero(d)
    if as_tuple:
        return tuple(Tensor._make(a.astype(np.int64)) for a in nz)
    return Tensor._make(xp.stack(nz, axis=1).astype(np.int64) if nz else xp.zeros((0, 0), np.int64))


@export
def argwhere(input):
    """The indices of the nonzero elements, one row each: nonzero(input)."""
    return nonzero(input)


@export
def take_along_dim(input, indices, dim=None):
    index_arg("take_along_dim", indices, "indices", 2)
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got {_legacy_name(indices)}")
    if dim is None:
        input, indices, d = input.reshape(-1), indices.reshape(-1), 0
    else:
        if input.ndim != indices.ndim:
            raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                               f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
                               f"dimensions for indices")
        d = _dim(dim, input.ndim)
        # the other dimensions broadcast
        rest = _broadcast_shapes(*[tuple(t.shape[:d]) + tuple(t.shape[d + 1:]) for t in (input, indices)])
        si = rest[:d] + (input.shape[d],) + rest[d:]
        sj = rest[:d] + (indices.shape[d],) + rest[d:]
        input = input if tuple(input.shape) == si else input.expand(si)
        indices = indices if tuple(indices.shape) == sj else indices.expand(sj)
    n = input.shape[d] if input.ndim else 1
    _check_bounds(indices, -n, n, RuntimeError,
                  lambda i, n: f"index {i} is out of bounds for dimension {d} with size {n}", "take_along_dim")
    return apply(GATHER, input, dim=d, index=Tensor._make(_wrap(indices._xp, indices._data, n)))


# ---- counting and flat-index conversion ---------------------------------------------------------------
@export
def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... occurs in the 1-d non-negative integer tensor input (summing `weights`
    instead of ones); length max(input) + 1, at least minlength.

    NOTE: the length depends on the data: read on the host, as PyTorch does."""
    index_arg("bincount", input, "input", 1)
    if input._data.dtype.kind == "f" or input._data.dtype.kind == "b":
        raise _dtype.not_implemented("bincount_cpu", input.dtype)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.numel()):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    a = input._data
    if input.ndim != 1 or (a.size and int(a.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    xp = input._xp
    n = builtins.max(int(a.max()) + 1 if a.size else 0, int(minlength))
    if weights is None:
        return Tensor._make(xp.bincount(a, minlength=n).astype(np.int64))
    w = weights._data
    out = xp.zeros(n, dtype=w.dtype if w.dtype.kind == "f" else np.float64)
    add_at(xp, out, a, w.astype(out.dtype))
    return Tensor._make(out)


@export(method=False)
def unravel_index(indices, shape):
    """The coordinates, one tensor per dim of `shape`, of each flat index in `indices` (negative ones count from
    the end)."""
    if isinstance(indices, (int, list)):  # (PyTorch fails on these with an internal error: we take them)
        indices = Tensor._make(np.asarray(indices, dtype=np.int64))
    index_arg("unravel_index", indices, "indices", 1)
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    n = int(np.prod(shape))
    xp = indices._xp
    flat = indices._data.astype(np.int64)
    flat = xp.where(flat < 0, flat + n, flat)
    coords = []
    for s in reversed(shape):
        coords.append(flat % s)
        flat = flat // s
    return tuple(Tensor._make(xp.asarray(c)) for c in reversed(coords))  # (numpy makes 0-d results scalars)

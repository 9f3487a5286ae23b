"""Indexing: __getitem__ (basic indexing gives views, advanced indexing copies), gather, index_select,
masked_fill, and the scatters their backward formulas need (repeated indices add up)."""
import numpy as np

from .. import _device
from .core import apply, defop, export
from .inplace import COPY, FILL_TENSOR, inplace
from .reduction import _dims
from ..tensor import Tensor


def _is_t(x):
    return isinstance(x, Tensor)


def _index_array(x, xp):
    """An index element as an array on the data's device (tensors, lists and numpy arrays)."""
    if _is_t(x):
        a = x._data
        if a.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a if type(a) is np.ndarray and xp is np else xp.asarray(a)
    a = np.asarray(x)
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
    """A 0-d integer tensor indexes as an int (a select), as in PyTorch.

    NOTE: on the GPU this reads the value on the host; PyTorch does the same (a select needs its offset)."""
    if _is_t(i) and i.ndim == 0 and i._data.dtype.kind in "iu" and i._data.dtype != np.uint8:
        return int(i._data)
    return i


def _basic_first(index, shape):
    """PyTorch applies the basic part of an index first (ints as selects, None as unsqueeze, slices that are not
    full), as views, then the advanced indices to what is left. For a converted index that mixes the two, (the
    basic index, the rest); None when the basic part is the identity. (numpy counts ints as advanced indices,
    which moves the broadcast dimensions first.)"""
    if any(isinstance(i, bool) for i in index):
        return None
    first, rest = [], []
    n_ell = len(shape) - sum(_consumes(i) for i in index)
    dim, identity = 0, True
    for i in index:
        if type(i) is int:
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


def convert_index(idx, xp, ndim, shape):
    """(numpy index tuple, is_basic). Checks integer bounds as PyTorch does (IndexError)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    if sum(1 for i in idx if i is Ellipsis) > 1:  # PyTorch: the first ellipsis takes the free dims, others none
        first = idx.index(Ellipsis)
        idx = idx[:first + 1] + tuple(i for i in idx[first + 1:] if i is not Ellipsis)
    idx = tuple(_int_of_0d(i) for i in idx)
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
        split = _basic_first(index, input._data.shape)
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
    d = _dims(dim, input.ndim)[0]
    return getitem(input, (slice(None),) * d + (index,))


@export
def narrow(input, dim, start, length):
    d = _dims(dim, input.ndim)[0]
    n = input.shape[d]
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
    if _is_t(value) and value._data.dtype != t._data.dtype:
        value = value.to(t.dtype)
    index, basic = convert_index(idx, t._xp, t.ndim, t._data.shape)
    if basic:
        if _basic_index_op(index, t._data.shape) is ALIAS:  # x[...] = v, x[:] = v: written into x itself
            _write_all(t, value)
        else:
            getitem(t, idx).copy_(value)
        return
    split = _basic_first(index, t._data.shape)
    if split is not None:
        t, index = _basic_getitem(t, split[0]), split[1]
    inplace(t, lambda old: apply(INDEX_PUT, old, value, index=index))


def _write_all(t, value):
    """t[...] = value, as PyTorch writes it: a copy_ of a tensor, a fill_ with a number (as a 0-d tensor)."""
    if _is_t(value):
        if value.device != t.device:
            value = value.to(t.device)
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


def _check_gather(input, dim, index, name):
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > input.shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                               f"smaller than self {list(input.shape)} apart from dimension {dim}")
    n = input.shape[dim] if input.ndim else 1
    if index.numel() and type(index._data) is np.ndarray:  # NOTE: see _host_bounds_check
        hi, lo = int(index._data.max()), int(index._data.min())
        if hi >= n or lo < -n:
            raise RuntimeError(f"index {hi if hi >= n else lo} is out of bounds for dimension {dim} with size {n}")
    else:
        _device.check_index_range(index._data, -n, n, RuntimeError,
                                  f"index out of bounds for dimension {dim} with size {n}", "gather/scatter")


@export
def gather(input, dim, index, *, sparse_grad=False):
    d = _dims(dim, input.ndim)[0] if input.ndim else 0
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


@export(inplace=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if reduce is not None:
        raise RuntimeError("scatter(reduce=...) is not supported by autograd_gpu; use scatter_add")
    d = _dims(dim, input.ndim)[0]
    _check_gather(input, d, index, "scatter")
    src = src if src is not None else value
    return apply(SCATTER if _is_t(src) else SCATTER_VALUE, input, src, dim=d, index=index)


@export(inplace=True)
def scatter_add(input, dim, index, src):
    d = _dims(dim, input.ndim)[0]
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
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    d = _dims(dim, input.ndim)[0] if input.ndim else 0
    n = input.shape[d] if input.ndim else 1
    if index.numel() and type(index._data) is np.ndarray:  # NOTE: see _host_bounds_check
        hi, lo = int(index._data.max()), int(index._data.min())
        if hi >= n or lo < -n:
            raise IndexError("index out of range in self")
    else:
        _device.check_index_range(index._data, -n, n, IndexError, "index out of range in self", "index_select")
    return apply(INDEX_SELECT, input, dim=d, index=index.reshape(-1) if index.ndim == 0 else index)


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
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    if _is_t(value) and value.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    return apply(MASKED_FILL_TENSOR if _is_t(value) else MASKED_FILL, input, value, mask=mask)


@export
def masked_select(input, mask):
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
def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    return gather(input, dim, indices)

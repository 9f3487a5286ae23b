"""Shape ops. Those PyTorch treats as views (view, reshape when possible, squeeze, unsqueeze, permute,
transpose, expand, split, ...) share memory with their input here too."""
import builtins
import math
import operator

import numpy as np

from .core import apply, defop, export
from .indexing import SLICE, add_at
from .reduction import _dim, _dims
from .. import _device, _dtype
from ..size import Size
from ..tensor import SCALAR_TYPE_NAMES, Tensor


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    elif len(shape) == 1 and hasattr(shape[0], "__iter__") and not hasattr(shape[0], "_data"):
        shape = tuple(shape[0])
    return tuple(_size_index(n, i) for i, n in enumerate(shape))


def _size_index(n, pos):
    """One size of a shape argument as an int; PyTorch's TypeError for a float, a string, None."""
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"argument 'size' must be tuple of ints, but found element of type {type(n).__name__} at "
                        f"pos {pos}") from None


def _infer(shape, numel):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    if builtins.any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    return tuple(shape)


def _reshape_bwd(ctx, g):
    return g.reshape(ctx.shapes[0])


def _view_fwd(xp, x, shape):
    try:
        return x.reshape(shape, copy=False)
    except TypeError:  # CuPy's reshape has no copy=; check it returned a view
        y = x.reshape(shape)
        if y.base is None or (y.base is not x and y.base is not x.base):
            raise ValueError from None
        return y


def _view_checked(xp, x, shape):
    try:
        return _view_fwd(xp, x, shape)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None


VIEW = defop("view", _view_checked, _reshape_bwd, group="shape", dtype="keep", view=True)
# reshape of data that cannot be viewed: a copy (PyTorch: clone + _unsafe_view)
RESHAPE = defop("reshape", lambda xp, x, shape: xp.ascontiguousarray(x).reshape(shape), _reshape_bwd,
                node="UnsafeViewBackward0", group="shape", dtype="keep")
UNSQUEEZE = defop("unsqueeze", lambda xp, x, dim: xp.expand_dims(x, dim), _reshape_bwd, group="shape",
                  dtype="keep", view=True)
def _squeeze_fwd(xp, x, dims):
    return x.squeeze(dims) if dims else x.reshape(x.shape)


SQUEEZE = defop("squeeze", _squeeze_fwd, _reshape_bwd, node="SqueezeBackward1", group="shape", dtype="keep",
                view=True)
SQUEEZE_DIMS = defop("squeeze_dims", _squeeze_fwd, _reshape_bwd, node="SqueezeBackward2", group="shape",
                     dtype="keep", view=True, public=False)
SQUEEZE_ALL = defop("squeeze_all", lambda xp, x: x.squeeze(), _reshape_bwd, node="SqueezeBackward0",
                    group="shape", dtype="keep", view=True, public=False)


def _view_dtype_fwd(xp, x, dtype):
    if x.ndim == 0:  # (same item size: numpy views a 0-d array through a 1-element one)
        return x.reshape(1).view(dtype).reshape(())
    return x.view(dtype)


# the same bytes read as another dtype: not differentiable (PyTorch records no node, not even for the same dtype)
VIEW_DTYPE = defop("view_dtype", _view_dtype_fwd, group="shape", dtype="keep")


@export(function=False)
def view(input, *shape):
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_dtype(input, shape[0])
    return apply(VIEW, input, shape=_infer(_shape_arg(shape), input.numel()))


def _byte_offset(a):
    """How far into its memory block array `a` starts, in bytes (PyTorch's storage offset, times the item size)."""
    base = a.base if a.base is not None else a
    if isinstance(a, np.ndarray):
        return a.ctypes.data - base.ctypes.data
    return a.data.ptr - base.data.ptr


def _view_dtype(input, dtype):
    old, new = input._data.dtype, dtype.np
    if old.itemsize != new.itemsize:
        what = (f"to view {SCALAR_TYPE_NAMES[old.name]} as {SCALAR_TYPE_NAMES[new.name]} (different element "
                "sizes)")
        d = input._data
        if d.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if d.size and d.shape[-1] != 1 and d.strides[-1] != old.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {d.strides[-1] // old.itemsize}")
        if new.itemsize > old.itemsize and (d.shape[-1] * old.itemsize) % new.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by {new.itemsize // old.itemsize} {what}, but "
                               f"got {d.shape[-1]}")
        ratio = max(new.itemsize // old.itemsize, 1)
        if any((st // old.itemsize) % ratio for st in d.strides[:-1]):
            raise RuntimeError(f"self.stride(i) must be divisible by {ratio} for all i < self.dim() - 1 {what}")
        offset = _byte_offset(d) // old.itemsize
        if offset % ratio:
            raise RuntimeError(f"self.storage_offset() must be divisible by {ratio} {what}, but got {offset}")
    out = apply(VIEW_DTYPE, input, dtype=new)
    out._vc = input._vc  # (the same storage: one version counter)
    return out


@export
def reshape(input, *shape):
    shape = _infer(_shape_arg(shape), input.numel())
    d = input._data
    if _viewable(d.shape, tuple(st // d.itemsize for st in d.strides), shape):
        return apply(VIEW, input, shape=shape)
    return apply(RESHAPE, input, shape=shape)


def _viewable(oldshape, oldstride, newshape):
    """Whether `newshape` can view data of `oldshape`/`oldstride` (ATen's computeStride, as a yes/no)."""
    numel = math.prod(oldshape)
    if not oldshape or numel == 0:
        return True
    view_d = len(newshape) - 1
    chunk_base_stride = oldstride[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(oldshape) - 1, -1, -1):
        tensor_numel *= oldshape[tensor_d]
        if tensor_d == 0 or (oldshape[tensor_d - 1] != 1
                             and oldstride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if tensor_d > 0:
                chunk_base_stride = oldstride[tensor_d - 1]
                tensor_numel = view_numel = 1
    return view_d == -1


@export(function=False)
def view_as(input, other):
    return view(input, other.shape)


@export(function=False)
def reshape_as(input, other):
    return reshape(input, other.shape)


@export
def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    s = _dim(start_dim, input.ndim)
    e = _dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input.shape
    return reshape(input, tuple(shp[:s]) + (math.prod(shp[s:e + 1]),) + tuple(shp[e + 1:]))


@export
def unflatten(input, dim, sizes):
    d = _dim(dim, input.ndim)
    shp = input.shape
    sizes = _infer(tuple(sizes), shp[d])
    return reshape(input, tuple(shp[:d]) + sizes + tuple(shp[d + 1:]))


@export(inplace="view")
def unsqueeze(input, dim):
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return apply(UNSQUEEZE, input, dim=dim % n)


@export(inplace="view")
def squeeze(input, dim=None):
    if dim is None:
        return apply(SQUEEZE_ALL, input)
    dims = _dims(dim, input.ndim)
    op = SQUEEZE_DIMS if isinstance(dim, (tuple, list)) else SQUEEZE
    return apply(op, input, dims=tuple(d for d in dims if input._data.shape[d] == 1))


# ---- permutations -----------------------------------------------------------------------------------
def _permute_bwd(ctx, g):
    dims = ctx.params["dims"]
    inv = [0] * len(dims)
    for i, d in enumerate(dims):
        inv[d] = i
    return g.permute(inv)


PERMUTE = defop("permute", lambda xp, x, dims: x.transpose(dims), _permute_bwd, group="shape", dtype="keep",
                view=True)
TRANSPOSE = defop("transpose", lambda xp, x, d0, d1: xp.swapaxes(x, d0, d1),
                  lambda ctx, g: g.transpose(ctx.params["d0"], ctx.params["d1"]), group="shape", dtype="keep",
                  view=True)
T = defop("t", lambda xp, x: x.T, lambda ctx, g: g.t(), node="TBackward0", group="shape", dtype="keep",
          view=True)


@export
def permute(input, *dims):
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {input.ndim} is not "
                           f"equal to len(dims) = {len(dims)}")
    dims = tuple(d % builtins.max(input.ndim, 1) for d in dims)
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(PERMUTE, input, dims=dims)


@export(inplace="view", aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    if input.ndim == 0:
        return apply(TRANSPOSE, input, d0=0, d1=0) if dim0 in (0, -1) and dim1 in (0, -1) else \
            _bad_dim(dim0, 0)
    d0, d1 = _dim(dim0, input.ndim), _dim(dim1, input.ndim)
    return apply(TRANSPOSE, input, d0=d0, d1=d1)


def _bad_dim(d, n):
    raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {d})")


swapaxes = swapdims = transpose


@export(inplace="view")
def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(T, input)


@export(aliases=("moveaxis",))
def movedim(input, source, destination):
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
                           f"contain the same number of dims as destination ({list(destination)} dims)")
    src = tuple(_dim(d, input.ndim) if input.ndim else _dim(d, 1) for d in source)
    dst = tuple(_dim(d, input.ndim) if input.ndim else _dim(d, 1) for d in destination)
    for name, ds, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")
    if input.ndim == 0:
        return input[...]
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


# ---- expand / repeat --------------------------------------------------------------------------------
def _expand_fwd(xp, x, shape):
    if xp is not np or not x.flags.writeable:
        return xp.broadcast_to(x, shape)
    # NOTE: a writeable view, as PyTorch's and CuPy's: t.expand(...)[0] = v writes through to t (numpy's
    # broadcast_to is read-only); in-place ops on the expanded view itself refuse its overlap (inplace._write)
    lead = len(shape) - x.ndim
    strides = (0,) * lead + tuple(0 if n == 1 and s != 1 else st for n, s, st in zip(x.shape, shape[lead:], x.strides))
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=True)


EXPAND = defop("expand", _expand_fwd, lambda ctx, g: g, group="shape", dtype="keep", view=True)


@export(function=False)
def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand({_dtype.legacy_type_name(input._data)}{{{list(input.shape)}}}, "
                           f"size={list(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    shape = []
    for i, s in enumerate(sizes):
        cur = input._data.shape[i - lead] if i >= lead else None
        if s == -1:
            if cur is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            s = cur
        elif cur is not None and cur != 1 and cur != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(input.shape)}")
        shape.append(s)
    shape = tuple(shape)
    if shape == input._data.shape:
        return apply(EXPAND, input, shape=shape)
    return apply(EXPAND, input, shape=shape)


@export(function=False)
def expand_as(input, other):
    return expand(input, other.shape)


@export
def broadcast_to(input, *shape):
    return expand(input, _shape_arg(shape))


@export(method=False)
def broadcast_shapes(*shapes):
    try:
        return Size(np.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: {shapes}") from None


@export(method=False)
def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = tuple(broadcast_shapes(*[t.shape for t in tensors]))
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in tensors)


def _repeat_bwd(ctx, g):
    reps = ctx.params["reps"]
    shape = ctx.shapes[0]
    lead = len(reps) - len(shape)
    full = (1,) * lead + tuple(shape)
    split = []
    for r, s in zip(reps, full):
        split += [r, s]
    g = g.reshape(tuple(split)).sum(tuple(range(0, 2 * len(reps), 2)))
    return g.reshape(shape)


REPEAT = defop("repeat", lambda xp, x, reps: xp.tile(x, reps), _repeat_bwd, group="shape", dtype="keep")


@export(function=False)
def repeat(input, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if builtins.any(n < 0 for n in sizes):
        shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
        out = [a * b for a, b in zip(shape, sizes)]
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(out)}: {out}")
    return apply(REPEAT, input, reps=sizes)


@export
def tile(input, dims):
    """input repeated `dims` times along each dim; a shorter `dims` is padded with ones in front, as PyTorch's."""
    dims = _shape_arg((dims,))
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


# ---- copies -----------------------------------------------------------------------------------------
CLONE = defop("clone", lambda xp, x: x.copy(), lambda ctx, g: g, group="shape", dtype="keep")


@export
def clone(input, *, memory_format=None):
    return apply(CLONE, input)


@export(function=False)
def contiguous(input, memory_format=None):
    return input if input._data.flags.c_contiguous else apply(CLONE, input)


FLIP = defop("flip", lambda xp, x, dims: xp.flip(x, dims).copy(), lambda ctx, g: g.flip(ctx.params["dims"]),
             group="shape", dtype="keep")


@export
def flip(input, *dims):
    dims = _shape_arg(dims)
    dims = _dims(dims, input.ndim) if dims else ()  # (flip(()) flips nothing)
    return apply(FLIP, input, dims=dims)


@export
def fliplr(input):
    return flip(input, 1)


@export
def flipud(input):
    return flip(input, 0)


ROLL = defop("roll", lambda xp, x, shifts, dims: xp.roll(x, shifts, dims),
             lambda ctx, g: apply(ROLL, g, shifts=tuple(-s for s in ctx.params["shifts"]), dims=ctx.params["dims"]),
             group="shape", dtype="keep")


@export
def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims and len(shifts) == 1:  # the flattened tensor, rolled
        return apply(ROLL, input, shifts=shifts, dims=None)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    dims = tuple(_dim(d, input.ndim) for d in dims)  # (in the given order, repeats allowed)
    return apply(ROLL, input, shifts=shifts, dims=dims)


# ---- joining and splitting ---------------------------------------------------------------------------
def _cat_bwd(ctx, g):
    dim = ctx.params["dim"]
    out, offset = [], 0
    for shape, need in zip(ctx.shapes, ctx.needs_input_grad):
        if shape == (0,) and g.ndim != 1:  # a legacy empty 1-D input, skipped by the forward
            out.append(g.reshape(-1).narrow(0, 0, 0) if need else None)
            continue
        n = shape[dim]
        out.append(g.narrow(dim, offset, n) if need else None)
        offset += n
    return tuple(out)


def _cat_fwd(xp, *arrays, dim):
    arrays = [a for a in arrays if not (a.ndim == 1 and a.shape[0] == 0)] or arrays[:1]
    return xp.concatenate(arrays, axis=dim)


CAT = defop("cat", _cat_fwd, _cat_bwd, group="shape")


@export(method=False, aliases=("concat", "concatenate"))
def cat(tensors, dim=0, *, axis=None):
    if axis is not None:
        dim = axis
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    ref = next((t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)), tensors[0])
    d = _dim(dim, ref.ndim) if ref.ndim else 0
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    for i, t in enumerate(tensors):
        if t.ndim == 1 and t.shape[0] == 0:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {t.shape[k]} for tensor number {i} in the list.")
    return apply(CAT, *tensors, dim=d)


concat = concatenate = cat


def _stack_bwd(ctx, g):
    dim = ctx.params["dim"]
    return tuple(g.select(dim, i) if need else None for i, need in enumerate(ctx.needs_input_grad))


STACK = defop("stack", lambda xp, *arrays, dim: xp.stack(arrays, axis=dim), _stack_bwd, group="shape")


def _tensor_list(name, tensors):
    """The tensors argument of cat / stack as a list; PyTorch's TypeError for a tensor or anything but tensors."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) and not hasattr(tensors, "__iter__"):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    tensors = list(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {tensors.index(t)} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


@export(method=False)
def stack(tensors, dim=0):
    tensors = _tensor_list("stack", tensors)
    dim = operator.index(dim)  # (a 0-d integer tensor is a dim; a float or a bigger tensor a TypeError)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                               f"entry 0 and {list(t.shape)} at entry {i}")
    n = tensors[0].ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return apply(STACK, *tensors, dim=dim % n)


def _nonempty(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


@export(method=False)
def hstack(tensors):
    tensors = atleast_1d(_nonempty(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@export(method=False, aliases=("row_stack",))
def vstack(tensors):
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0)


row_stack = vstack


@export(method=False)
def dstack(tensors):
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2)


@export(method=False)
def column_stack(tensors):
    tensors = _nonempty(tensors, "column_stack")
    return hstack([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in tensors])


def _atleast(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    return fn(tensors[0]) if len(tensors) == 1 else tuple(fn(t) for t in tensors)


@export(method=False)
def atleast_1d(*tensors):
    return _atleast(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


@export(method=False)
def atleast_2d(*tensors):
    return _atleast(tensors, lambda t: t.reshape(1, 1) if t.ndim == 0 else t.unsqueeze(0) if t.ndim == 1 else t)


@export(method=False)
def atleast_3d(*tensors):
    def three(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.unsqueeze(0).unsqueeze(-1)
        return t.unsqueeze(-1) if t.ndim == 2 else t
    return _atleast(tensors, three)


def _split_bwd(ctx, g):
    return cat(list(g), ctx.params["dim"])


def _split_fwd(xp, x, sections, dim):
    out, start = [], 0
    idx = [slice(None)] * x.ndim
    for s in sections:
        idx[dim] = slice(start, start + s)
        out.append(x[tuple(idx)])
        start += s
    return tuple(out)


SPLIT = defop("split", _split_fwd, _split_bwd, group="shape", dtype="keep", view=True, nout=-1)
SPLIT_WITH_SIZES = defop("split_with_sizes", _split_fwd, _split_bwd, group="shape", dtype="keep", view=True,
                         nout=-1, public=False)


@export
def split(tensor, split_size_or_sections, dim=0):
    d = _dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sections = [s] * (n // s) + ([n % s] if n % s else []) if s else [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if builtins.sum(sections) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sections}")
        return apply(SPLIT_WITH_SIZES, tensor, sections=tuple(sections), dim=d)
    return apply(SPLIT, tensor, sections=tuple(sections), dim=d)


@export
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    return split(input, builtins.max(-(-n // chunks), 1) if n else 1, d) if n else split(input, [0] * 1, d)


@export
def unbind(input, dim=0):
    d = _dim(dim, input.ndim)
    return tuple(input.select(d, i) for i in range(input.shape[d]))


@export
def tensor_split(input, indices_or_sections=None, dim=0, *, sections=None, indices=None,
                 tensor_indices_or_sections=None):
    """The pieces between the given indices along dim, or `sections` pieces of sizes differing by at most 1;
    each a slice of input (SliceBackward0)."""
    split = next(a for a in (indices_or_sections, sections, indices, tensor_indices_or_sections) if a is not None)
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    if hasattr(split, "_data"):
        if split._data.dtype != np.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{SCALAR_TYPE_NAMES[split._data.dtype.name]}")
        if split.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {split.ndim} dims")
        split = split.tolist()  # NOTE: a host read of the (usually CPU) split points, as in PyTorch
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(split, int):
        if split <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {split}")
        sizes = [n // split + 1] * (n % split) + [n // split] * (split - n % split)
        bounds = [builtins.sum(sizes[:k]) for k in range(split + 1)]
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i) + n if i < 0 else int(i), 0), n) for i in split] + [n]
    return tuple(apply(SLICE, input, index=(slice(None),) * d + (slice(a, builtins.max(a, b)), Ellipsis))
                 for a, b in zip(bounds, bounds[1:]))


def _split_by(input, split, dim, name, min_dims):
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {input.ndim} dimensions!")
    if isinstance(split, float) or (not isinstance(split, int) and not hasattr(split, "__iter__")):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(split).__name__}), but expected one of: (int sections), (tuple of ints indices)")
    if isinstance(split, int) and (split == 0 or input.shape[dim] % split):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{input.shape[dim]} is not divisible by the split_size {split}!")
    return tensor_split(input, split, dim)


@export
def hsplit(input, indices_or_sections):
    if input.ndim == 0:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 "
                           "dimensions!")
    return _split_by(input, indices_or_sections, 0 if input.ndim == 1 else 1, "hsplit", 1)


@export
def vsplit(input, indices_or_sections):
    return _split_by(input, indices_or_sections, 0, "vsplit", 2)


@export
def dsplit(input, indices_or_sections):
    return _split_by(input, indices_or_sections, 2, "dsplit", 3)


# ---- windows, repeats and rotations ------------------------------------------------------------------
def _unfold_fwd(xp, x, dim, size, step):
    if x.ndim == 0:  # (a 0-d tensor has one window of size 1, or of size 0)
        return x.reshape(1)[:size]
    shape = x.shape[:dim] + ((x.shape[dim] - size) // step + 1,) + x.shape[dim + 1:] + (size,)
    st = x.strides
    strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
    # NOTE: a strided window view of x's memory is not registered as a view of x (its .base is not x's), so an
    # in-place write to it could not rewrite x's history. On the CPU it is read-only (PyTorch refuses in-place
    # writes to overlapping windows; here every in-place write to the windows is refused); CuPy arrays have no
    # read-only flag, so on the GPU the windows are a copy.
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(x, shape, strides).copy()


def _unfold_backward_fwd(xp, g, shape, dim, size, step):
    """Each window's gradient added back where the window came from (PyTorch's unfold_backward)."""
    if not shape:
        return g.sum().reshape(())
    out = xp.zeros(shape, dtype=g.dtype)
    nw = g.shape[dim]
    where = xp.arange(nw).reshape(-1, 1) * step + xp.arange(size).reshape(1, -1)  # (window, position) -> index
    add_at(xp, out, (slice(None),) * dim + (where,), xp.moveaxis(g, -1, dim + 1))
    return out


UNFOLD = defop("unfold", _unfold_fwd,
               lambda ctx, g: apply(UNFOLD_BACKWARD, g, shape=ctx.shapes[0], **ctx.params), group="shape",
               dtype="keep")
UNFOLD_BACKWARD = defop("unfold_backward", _unfold_backward_fwd,
                        lambda ctx, g: apply(UNFOLD, g, dim=ctx.params["dim"], size=ctx.params["size"],
                                             step=ctx.params["step"]),
                        group="shape", dtype="keep", public=False)


@export(function=False)
def unfold(input, dimension, size, step):
    """Tensor.unfold: every window of `size` elements along `dimension`, `step` apart, as a new last dimension."""
    if input.ndim == 0:
        if size > 1:
            raise RuntimeError(f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        return apply(UNFOLD, input, dim=0, size=size, step=step)
    d = _dim(dimension, input.ndim)
    if size > input.shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {input.shape[d]} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    return apply(UNFOLD, input, dim=d, size=size, step=step)


@export
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or each slice along dim) repeated `repeats` times; repeats an int or one count per element.
    torch.repeat_interleave(repeats) alone: the indices 0, 1, ... each repeated by its count."""
    if repeats is None:  # torch.repeat_interleave(counts)
        return _repeat_indices(input, output_size)
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = _dim(dim, input.ndim) if input.ndim else 0
    if hasattr(repeats, "_data") and repeats.ndim <= 1 and repeats.numel() == 1:  # one count for every slice
        repeats = repeats.reshape(()).expand(input.shape[d] if input.ndim else 1)
    if not hasattr(repeats, "_data"):
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        n = input.shape[d] if input.ndim else 1
        if output_size is not None and output_size != n * repeats:
            raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {n * repeats} but got "
                               f"{output_size}")
        if input.ndim == 0:
            input = input.reshape(1)
        shape = tuple(input.shape)
        # (as PyTorch: expanded next to dim, then made contiguous and viewed: ViewBackward0)
        x = input.unsqueeze(d + 1).expand(shape[:d + 1] + (repeats,) + shape[d + 1:]).contiguous()
        return x.view(shape[:d] + (shape[d] * repeats,) + shape[d + 1:])
    n = input.shape[d] if input.ndim else 1
    if repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{repeats.shape[0]} and input.size({d}) = {n}")
    index = _repeat_indices(repeats, output_size)
    return (input if input.ndim else input.reshape(1)).index_select(d, index)


def _repeat_indices(repeats, output_size):
    """0, 1, ... with i repeated repeats[i] times."""
    r = repeats._data
    if r.dtype.kind not in "iu":
        raise _dtype.not_implemented("repeat_interleave_cpu", r.dtype)
    if r.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    xp = repeats._xp
    r = r.reshape(-1)
    if type(r) is np.ndarray:
        if r.size and r.min() < 0:
            raise RuntimeError("repeats can not be negative")
    else:  # (checked by the next synchronising call: see indexing's _host_bounds_check)
        _device.check_index_range(r, 0, np.iinfo(np.int64).max, RuntimeError, "repeats can not be negative",
                                  "repeat_interleave")
    ends = xp.cumsum(r)
    if output_size is None:
        output_size = int(ends[-1]) if r.size else 0  # NOTE: the output's size is data: read on the host, as in PyTorch
    elif type(r) is np.ndarray:
        if output_size != (int(ends[-1]) if r.size else 0):
            raise RuntimeError("allocated size does not match required size")
    elif r.size:  # (total - output_size in [0, 1), checked by the next synchronising call)
        _device.check_index_range(ends[-1:] - output_size, 0, 1, RuntimeError,
                                  "allocated size does not match required size", "repeat_interleave")
    index = xp.searchsorted(ends, xp.arange(output_size), side="right")
    return Tensor._make(index.astype(np.int64))


def _rot90_fwd(xp, x, k, dims):
    return xp.rot90(x, k, axes=dims).copy()


ROT90 = defop("rot90", _rot90_fwd, lambda ctx, g: apply(ROT90, g, k=-ctx.params["k"], dims=ctx.params["dims"]),
              node="Rot90Backward0", group="shape", dtype="keep")


@export
def rot90(input, k=1, dims=(0, 1)):
    if not isinstance(k, int):
        raise TypeError(f"rot90(): argument 'k' (position 2) must be int, not {type(k).__name__}")
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (_dim(d, input.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    return apply(ROT90, input, k=k % 4, dims=(d0, d1))

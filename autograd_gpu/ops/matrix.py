"""Matrix structure and contractions: triangles and diagonals (tril, diagonal, diag_embed, trace), products
built on mm/bmm (addmv, addbmm, baddbmm, tensordot, einsum, kron, outer), cross, block_diag, cdist, the
grid builders (meshgrid, cartesian_prod) and cov / corrcoef / trapezoid. Ops PyTorch records as one node are rows here; the rest are
composites of differentiable ops whose last node is the one PyTorch records."""
import builtins
import math
import operator
import warnings

import numpy as np

from .. import _device, _dtype
from ..tensor import SCALAR_TYPE_NAMES, Tensor
from .arithmetic import bmm, mm, mul, where
from .core import apply, autocast_inputs, defop, export
from .reduction import _dim, _dims
from .shape import RESHAPE, broadcast_shapes, cat, stack
from .unary import clamp

_max, _min = builtins.max, builtins.min


def _index(v, arg):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"argument '{arg}' must be int, not {type(v).__name__}") from None


def _check_matrix_dims(input, name):
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


# ---- triangles ----------------------------------------------------------------------------------------
TRIL = defop("tril", lambda xp, x, diagonal: xp.tril(x, diagonal),
             lambda ctx, g: g.tril(ctx.params["diagonal"]), group="matrix", dtype="keep")
TRIU = defop("triu", lambda xp, x, diagonal: xp.triu(x, diagonal),
             lambda ctx, g: g.triu(ctx.params["diagonal"]), group="matrix", dtype="keep")


@export(inplace=True)
def tril(input, diagonal=0):
    """The lower triangle of the last two dims (diagonal > 0 keeps that many diagonals above the main one)."""
    _check_matrix_dims(input, "tril")
    return apply(TRIL, input, diagonal=_index(diagonal, "diagonal"))


@export(inplace=True)
def triu(input, diagonal=0):
    _check_matrix_dims(input, "triu")
    return apply(TRIU, input, diagonal=_index(diagonal, "diagonal"))


def _tri_indices(name, row, col, offset, dtype, device):
    for what, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{what} must be non-negative, got{v}")
    dt = _dtype.to_dtype(dtype) or _dtype.int64
    if dt not in (_dtype.int32, _dtype.int64):
        raise _dtype.not_implemented(name, dt)
    dev = _device.resolve(device)
    xp = _device.xp_of(dev)
    with _device.on(dev):
        fn = xp.tril_indices if name == "tril_indices" else xp.triu_indices
        r, c = fn(row, offset, col)
        return Tensor._make(xp.stack([r, c]).astype(dt.np))


@export(method=False)
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle of a row x col matrix, row by row."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device)


@export(method=False)
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices("triu_indices", row, col, offset, dtype, device)


# ---- diagonals ----------------------------------------------------------------------------------------
def _diagonal_fwd(xp, x, offset, dim1, dim2):
    d = xp.diagonal(x, offset, dim1, dim2)
    if xp is np and x.flags.writeable:
        d.flags.writeable = True  # NOTE: numpy's diagonal is a read-only view; PyTorch's is writable
    return d


def _embed(xp, src, shape, offset, dim1, dim2):
    """A zero array of `shape` whose (offset, dim1, dim2) diagonal is src (diagonal's last dim)."""
    out = xp.zeros(shape, dtype=src.dtype)
    n = src.shape[-1]
    rows = xp.arange(n) + _max(-offset, 0)
    cols = xp.arange(n) + _max(offset, 0)
    xp.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = src
    return out


def _diagonal_of_grad(ctx, g):
    p = ctx.params
    return apply(DIAGONAL, g, offset=p["offset"], dim1=p["dim1"], dim2=p["dim2"])


def _diagonal_bwd(ctx, g):
    p = ctx.params
    return apply(DIAGONAL_BACKWARD, g, shape=ctx.shapes[0], offset=p["offset"], dim1=p["dim1"], dim2=p["dim2"])


DIAGONAL = defop("diagonal", _diagonal_fwd, _diagonal_bwd, group="matrix", dtype="keep", view=True)
# torch.diag of a matrix: a copy of its diagonal (PyTorch's diagonal_copy, whose node has this name)
DIAG_COPY = defop("diag", lambda xp, x, offset, dim1, dim2: xp.diagonal(x, offset, dim1, dim2).copy(),
                  _diagonal_bwd, node="DiagonalBackward0_copy", group="matrix", dtype="keep")
DIAG_EMBED = defop("diag_embed", lambda xp, x, shape, offset, dim1, dim2: _embed(xp, x, shape, offset, dim1, dim2),
                   _diagonal_of_grad, group="matrix", dtype="keep")
DIAGONAL_BACKWARD = defop("diagonal_backward",
                          lambda xp, g, shape, offset, dim1, dim2: _embed(xp, g, shape, offset, dim1, dim2),
                          _diagonal_of_grad, node="DiagonalBackwardBackward0", group="matrix", dtype="keep",
                          public=False)


def _diag_dims(ndim, dim1, dim2):
    d1, d2 = _dim(dim1, ndim), _dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


@export
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) as a view, appended as the last dim."""
    d1, d2 = _diag_dims(input.ndim, dim1, dim2)
    return apply(DIAGONAL, input, offset=int(offset), dim1=d1, dim2=d2)


@export
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose (dim1, dim2) diagonals are input's last dim: the inverse of diagonal."""
    d1, d2 = _diag_dims(input.ndim + 1, dim1, dim2)
    n = input.shape[-1] + abs(int(offset)) if input.ndim else 1
    shape = list(input.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    src = input.reshape(1) if input.ndim == 0 else input
    return apply(DIAG_EMBED, src, shape=tuple(shape), offset=int(offset), dim1=d1, dim2=d2)


@export
def diag(input, diagonal=0):
    """A 1-D input: the square matrix with it on the `diagonal`-th diagonal; a matrix: that diagonal (a copy)."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return apply(DIAG_COPY, input, offset=int(diagonal), dim1=0, dim2=1)


@export
def diagflat(input, offset=0):
    return diag_embed(input.reshape(-1), offset, 0, 1)


def _trace_bwd(ctx, g):
    shape = ctx.shapes[0]
    return apply(DIAGONAL_BACKWARD, g.expand(_min(shape)), shape=shape, offset=0, dim1=0, dim2=1)


def _trace_fwd(xp, x):
    return xp.trace(x, dtype="int64" if x.dtype.kind in "biu" else None)


TRACE = defop("trace", _trace_fwd, _trace_bwd, group="matrix", dtype="keep")


@export
def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return apply(TRACE, input)


# ---- products built on mm / bmm -----------------------------------------------------------------------
def _scaled(g, s):
    return g if s == 1 else g * s


def _addmv_bwd(ctx, g):
    beta, alpha = ctx.params["beta"], ctx.params["alpha"]
    a, v = ctx.saved
    need = ctx.needs_input_grad
    return (_scaled(g, beta) if need[0] else None,
            _scaled(g.unsqueeze(1) * v, alpha) if need[1] else None,
            _scaled(a.t().mv(g), alpha) if need[2] else None)


def _baddbmm_bwd(ctx, g):
    beta, alpha = ctx.params["beta"], ctx.params["alpha"]
    b1, b2 = ctx.saved
    need = ctx.needs_input_grad
    return (_scaled(g, beta) if need[0] else None,
            _scaled(g.bmm(b2.transpose(1, 2)), alpha) if need[1] else None,
            _scaled(b1.transpose(1, 2).bmm(g), alpha) if need[2] else None)


def _add_scaled(xp, c, prod, beta, alpha):
    """beta * c + alpha * prod, written into prod (a fresh array that c broadcasts to)."""
    if alpha != 1:
        prod *= alpha
    if beta == 0:  # (as PyTorch: input is ignored, nan and inf in it too)
        return prod
    prod += c if beta == 1 else beta * c
    return prod


def _addbmm_bwd(ctx, g):
    beta, alpha = ctx.params["beta"], ctx.params["alpha"]
    b1, b2 = ctx.saved
    need = ctx.needs_input_grad
    ge = g.unsqueeze(0).expand(b1.shape[0], *g.shape)
    return (_scaled(g, beta) if need[0] else None,
            _scaled(ge.bmm(b2.transpose(1, 2)), alpha) if need[1] else None,
            _scaled(b1.transpose(1, 2).bmm(ge), alpha) if need[2] else None)


ADDMV = defop("addmv", lambda xp, c, a, v, beta=1, alpha=1: _add_scaled(xp, c, a @ v, beta, alpha), _addmv_bwd,
              save=(1, 2), group="matmul")
BADDBMM = defop("baddbmm", lambda xp, c, b1, b2, beta=1, alpha=1: _add_scaled(xp, c, xp.matmul(b1, b2), beta, alpha),
                _baddbmm_bwd, save=(1, 2), group="matmul")
ADDBMM = defop("addbmm",
               lambda xp, c, b1, b2, beta=1, alpha=1: _add_scaled(xp, c, xp.matmul(b1, b2).sum(0), beta, alpha),
               _addbmm_bwd, save=(1, 2), group="matmul")


def _check_expand(input, size):
    """PyTorch's expand errors for `input` broadcast to `size` (the shape of the product it is added to)."""
    for k in range(1, input.ndim + 1):
        if k > len(size) or input.shape[-k] not in (1, size[-k]):
            target = size[-k] if k <= len(size) else 1
            raise RuntimeError(f"The expanded size of the tensor ({target}) must match the existing size "
                               f"({input.shape[-k]}) at non-singleton dimension {len(size) - k}.  Target sizes: "
                               f"{list(size)}.  Tensor sizes: {list(input.shape)}")


def _check_same_dtype(*tensors):
    dt = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype != dt:
            raise RuntimeError(f"expected scalar type {SCALAR_TYPE_NAMES[dt.name]} but found "
                               f"{SCALAR_TYPE_NAMES[t._data.dtype.name]}")


@export(inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    input, mat, vec = autocast_inputs(ADDMV, input, mat, vec)
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    if mat.shape[1] != vec.shape[0] or input.ndim > 1 or (input.ndim == 1 and input.shape[0] not in (1, mat.shape[0])):
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.ndim else 1}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    _check_same_dtype(input, mat, vec)
    return apply(ADDMV, input, mat, vec, beta=beta, alpha=alpha)


def _check_batches(batch1, batch2):
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {batch1.ndim}-D and {batch2.ndim}-D)")


@export(inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    input, batch1, batch2 = autocast_inputs(BADDBMM, input, batch1, batch2)
    _check_batches(batch1, batch2)
    b, n, m = batch1.shape
    if tuple(batch2.shape[:2]) != (b, m):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
                           f"[{batch2.shape[0]}, {batch2.shape[1]}].")
    _check_expand(input, (b, n, batch2.shape[2]))
    _check_same_dtype(input, batch1, batch2)
    return apply(BADDBMM, input, batch1, batch2, beta=beta, alpha=alpha)


@export(inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b (batch1[b] @ batch2[b])."""
    input, batch1, batch2 = autocast_inputs(ADDBMM, input, batch1, batch2)
    _check_batches(batch1, batch2)
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {batch1.shape[0]} and "
                           f"{batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x{batch1.shape[2]} and "
                           f"{batch2.shape[1]}x{batch2.shape[2]})")
    _check_expand(input, (batch1.shape[1], batch2.shape[2]))
    _check_same_dtype(input, batch1, batch2)
    return apply(ADDBMM, input, batch1, batch2, beta=beta, alpha=alpha)


@export(method=False)
def chain_matmul(*matrices, out=None):
    """matrices[0] @ matrices[1] @ ... (deprecated in PyTorch in favour of linalg.multi_dot)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    for i, (a, b) in enumerate(zip(matrices, matrices[1:])):
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a.shape)} and "
                               f"{list(b.shape)} cannot be multiplied")
    out = matrices[0]
    for m in matrices[1:]:
        out = mm(out, m)
    return out.view(out.shape)  # (PyTorch's multi_dot ends in a view: its last node is a ViewBackward0)


@export(aliases=("ger",))
def outer(input, vec2):
    """The outer product of two vectors: input[i] * vec2[j]."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return mul(input.reshape(-1, 1), vec2)


def _addr_bwd(ctx, g):
    beta, alpha = ctx.params["beta"], ctx.params["alpha"]
    v1, v2 = ctx.saved
    need = ctx.needs_input_grad
    return (_scaled(g, beta) if need[0] else None,
            _scaled(g.mv(v2), alpha) if need[1] else None,
            _scaled(g.t().mv(v1), alpha) if need[2] else None)


ADDR = defop("addr", lambda xp, c, v1, v2, beta=1, alpha=1: _add_scaled(xp, c, xp.multiply.outer(v1, v2), beta, alpha),
             _addr_bwd, save=(1, 2), group="matmul")


@export(inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2), input broadcast to the outer product's shape."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    _check_expand(input, (vec1.shape[0], vec2.shape[0]))
    dt = _dtype.result_type((input, vec1, vec2))
    if not dt.is_floating_point:
        for name, s in (("beta", beta), ("alpha", alpha)):
            if isinstance(s, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point "
                                   "number.")
    return apply(ADDR, input, vec1, vec2, beta=beta, alpha=alpha)


@export(method=False)
def tensordot(a, b, dims=2, out=None):
    """Sum of a * b over a's dims `dims[0]` paired with b's `dims[1]` (an int n: a's last n with b's first n)."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        da = [_dim(d, a.ndim) for d in da]
        db = [_dim(d, b.ndim) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                               f"and second has size {b.shape[j]} in dim {j}")
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    am = a.permute(free_a + da).reshape(math.prod(a.shape[d] for d in free_a), k)
    bm = b.permute(db + free_b).reshape(k, math.prod(b.shape[d] for d in free_b))
    return mm(am, bm).reshape([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])


@export
def inner(input, other):
    """Sum over the last dims of input and other (a product when either is a scalar)."""
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


@export
def kron(input, other):
    """The Kronecker product: blocks input[i, j] * other."""
    for name, t, pos in (("self", input, 1), ("other", other, 2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"kron(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}")
    nd = _max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = input.reshape([s for d in sa for s in (d, 1)])
    b = other.reshape([s for d in sb for s in (1, d)])
    return apply(RESHAPE, mul(a, b), shape=tuple(x * y for x, y in zip(sa, sb)))


# ---- cross --------------------------------------------------------------------------------------------
def _cross_bwd(ctx, g):
    a, b = ctx.saved
    dim = ctx.params["dim"]
    return (apply(CROSS, b, g, dim=dim) if ctx.needs_input_grad[0] else None,
            apply(CROSS, g, a, dim=dim) if ctx.needs_input_grad[1] else None)


CROSS = defop("cross", lambda xp, a, b, dim: xp.cross(a, b, axis=dim), _cross_bwd, save=(0, 1),
              node="LinalgCrossBackward0", group="matrix")


@export
def cross(input, other, dim=None):
    """The cross product of 3-vectors along `dim` (None: the first dim of size 3, as PyTorch's deprecated
    default)."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = tuple(broadcast_shapes(input.shape, other.shape))
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                      "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to "
                      "agree with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((i for i, s in enumerate(input.shape) if s == 3), -1)
    d = _dim(dim, len(shape))
    sa, sb = input.shape[d], other.shape[d]
    if sa != 3 or sb != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {sa} and {sb}")
    return apply(CROSS, input, other, dim=d)


# ---- einsum -------------------------------------------------------------------------------------------
def _einsum_terms(equation, n_operands):
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) < n_operands:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(terms) > n_operands:
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    parsed, pos = [], 0
    for k, term in enumerate(terms + ([rhs] if arrow else [])):
        labels, i = [], 0
        while i < len(term):
            if term.startswith("...", i):
                labels.append("...")
                i += 3
                continue
            ch = term[i]
            if ch == ".":
                raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any ellipsis")
            if not ch.isascii() or not ch.isalpha():
                raise RuntimeError(f"einsum(): invalid subscript given at index {pos + i} in the equation string, "
                                   "subscripts must be in [a-zA-Z]")
            labels.append(ch)
            i += 1
        pos += len(term) + 1
        parsed.append(labels)
    return parsed[:n_operands], (parsed[n_operands] if arrow else None)


def _expand_ellipsis(labels, ndim, k):
    """One label per dim: the ellipsis becomes '.0', '.1', ... numbered from the right, as dims broadcast."""
    if "..." not in labels:
        if len(labels) != ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels)}) does not match "
                               f"the number of dimensions ({ndim}) for operand {k} and no ellipsis was given")
        return list(labels)
    n_ell = ndim - (len(labels) - 1)
    if n_ell < 0:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels) - 1}) is more than "
                           f"the number of dimensions ({ndim}) for operand {k}")
    i = labels.index("...")
    return labels[:i] + [f".{n_ell - 1 - j}" for j in range(n_ell)] + labels[i + 1:]


def _take_diagonals(x, labels, k):
    """Repeated labels of one operand ('ii'): the diagonal of each pair, appended at the end."""
    while len(set(labels)) != len(labels):
        seen = {}
        for j, label in enumerate(labels):
            if label in seen:
                i = seen[label]
                if x.shape[i] != x.shape[j]:
                    raise RuntimeError(f"einsum(): subscript {label} is repeated for operand {k} but the sizes "
                                       f"don't match, {x.shape[j]} != {x.shape[i]}")
                x = diagonal(x, 0, i, j)
                labels = [lb for m, lb in enumerate(labels) if m not in (i, j)] + [label]
                break
            seen[label] = j
    return x, labels


def _contract(a, la, b, lb, keep, out):
    """Multiply two operands and sum the labels that neither `keep` (later operands, the output) needs:
    as a bmm of (batch, left, summed) by (batch, summed, right) when something is summed, else a broadcast mul."""
    common = [lb_ for lb_ in la if lb_ in lb]
    summed = [lb_ for lb_ in common if lb_ not in keep]
    if not summed:
        labels = la + [lb_ for lb_ in lb if lb_ not in la]
        return mul(_align(a, la, labels), _align(b, lb, labels)), labels
    batch = [lb_ for lb_ in common if lb_ in keep]
    left = [lb_ for lb_ in la if lb_ not in lb]
    right = [lb_ for lb_ in lb if lb_ not in la]
    if batch + right + left == [x for x in out if x in batch + left + right]:
        a, la, b, lb, left, right = b, lb, a, la, right, left  # the product comes out in the output's order
    size = {}
    for t, ls in ((a, la), (b, lb)):
        for lbl, s in zip(ls, t.shape):
            size[lbl] = _max(size.get(lbl, 1), s)
    am = _permute_expand(a, la, batch + left + summed, size)
    bm = _permute_expand(b, lb, batch + summed + right, size)

    def prod(ls):
        return math.prod(size[x] for x in ls)
    r = bmm(am.reshape(prod(batch), prod(left), prod(summed)), bm.reshape(prod(batch), prod(summed), prod(right)))
    labels = batch + left + right
    return r.reshape([size[x] for x in labels]), labels


def _permute_expand(x, labels, order, size):
    x = x.permute([labels.index(lbl) for lbl in order])
    shape = [size[lbl] for lbl in order]
    return x if list(x.shape) == shape else x.expand(shape)


def _align(x, labels, order):
    """x with its dims in `order` (a size-1 dim for each label it lacks), for a broadcast product."""
    own = [lbl for lbl in order if lbl in labels]
    x = x.permute([labels.index(lbl) for lbl in own])
    return x.reshape([x.shape[own.index(lbl)] if lbl in labels else 1 for lbl in order])


def _sublist_equation(args):
    """einsum(op1, sublist1, op2, sublist2, ..., [out]): the equation the sublists spell, and the operands."""
    def spell(sublist):
        out = []
        for s in sublist:
            if s is Ellipsis:
                out.append("...")
            elif not 0 <= s < 52:
                raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
            else:
                out.append(chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26))
        return "".join(out)
    n = len(args) - len(args) % 2  # (an odd count: the last sublist is the output's)
    operands, terms = args[0:n:2], args[1:n:2]
    out = args[-1] if len(args) % 2 else None
    eq = ",".join(spell(t) for t in terms)
    return (eq if out is None else eq + "->" + spell(out)), operands


@export(method=False)
def einsum(equation, *operands):
    """Einstein summation: 'ij,jk->ik' is a matmul, 'ii->i' a diagonal, 'ii' a trace; without '->' the output
    is the labels that appear once, sorted, after the ellipsis dims. Also einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if isinstance(equation, Tensor):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, out = _einsum_terms(equation, len(operands))
    ops, labels = [], []
    ell = 0
    written = {}  # label -> how often the equation writes it
    for k, (x, term) in enumerate(zip(operands, terms)):
        ls = _expand_ellipsis(term, x.ndim, k)
        ell = _max(ell, builtins.sum(1 for lbl in ls if lbl.startswith(".")))
        for lbl in ls:
            written[lbl] = written.get(lbl, 0) + 1
        x, ls = _take_diagonals(x, ls, k)
        ops.append(x)
        labels.append(ls)
    ell_labels = [f".{j}" for j in reversed(range(ell))]
    counts = {}  # label -> how many operands have it
    for ls in labels:
        for lbl in ls:
            counts[lbl] = counts.get(lbl, 0) + 1
    if out is None:
        out = ell_labels + sorted(lbl for lbl, c in written.items() if c == 1 and not lbl.startswith("."))
    else:
        if out.count("...") > 1:
            raise RuntimeError("einsum(): ellipsis can only appear once in the output")
        if "..." in out:
            i = out.index("...")
            out = out[:i] + ell_labels + out[i + 1:]
        for lbl in out:
            if out.count(lbl) > 1:
                raise RuntimeError(f"einsum(): output subscript {lbl} appears more than once in the output")
            if lbl not in counts:
                raise RuntimeError(f"einsum(): output subscript {lbl} does not appear in the equation for any input "
                                   "operand")
    size = {}
    for k, (x, ls) in enumerate(zip(ops, labels)):
        for lbl, s in zip(ls, x.shape):
            prev = size.get(lbl, 1)
            if s != 1 and prev != 1 and s != prev:
                raise RuntimeError(f"einsum(): subscript {lbl} has size {s} for operand {k} which does not "
                                   f"broadcast with previously seen size {prev}")
            size[lbl] = _max(prev, s)
    if len(ops) == 1:
        x, ls = ops[0], labels[0]
        summed = [lbl for lbl in ls if lbl not in out]
        x = x.permute([ls.index(lbl) for lbl in out + summed])
        return x.sum(tuple(range(len(out), x.ndim))) if summed else x
    # labels only one operand has and the output lacks are summed first
    for k, (x, ls) in enumerate(zip(ops, labels)):
        only = [j for j, lbl in enumerate(ls) if counts[lbl] == 1 and lbl not in out]
        if only:
            ops[k] = x.sum(tuple(only))
            labels[k] = [lbl for j, lbl in enumerate(ls) if j not in only]
    x, ls = ops[0], labels[0]
    for k in range(1, len(ops)):
        keep = set(out).union(*labels[k + 1:])
        x, ls = _contract(x, ls, ops[k], labels[k], keep, out)
    summed = [j for j, lbl in enumerate(ls) if lbl not in out]
    if summed:
        x = x.sum(tuple(summed))
        ls = [lbl for lbl in ls if lbl in out]
    x = _permute_expand(x, ls, out, size) if ls != out else x
    return x


# ---- grids --------------------------------------------------------------------------------------------
@export(method=False)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids: output i varies along dim i ('ij') or, for the first two, swapped ('xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    sizes = [t.numel() for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = [sizes[i] for i in order]
    out = []
    for i, t in enumerate(tensors):
        at = order.index(i)
        view = [1] * len(tensors)
        view[at] = sizes[i]
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


@export(method=False)
def cartesian_prod(*tensors):
    """Every combination of the inputs' elements, one row each (the first input varies slowest)."""
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.flatten() for g in meshgrid(*tensors, indexing="ij")], 1)


# ---- block_diag ---------------------------------------------------------------------------------------
def _as_matrix_shape(shape):
    return (1, 1) if len(shape) == 0 else (1, shape[0]) if len(shape) == 1 else tuple(shape)


def _block_diag_fwd(xp, *arrays):
    shapes = [_as_matrix_shape(a.shape) for a in arrays]
    out = xp.zeros((builtins.sum(s[0] for s in shapes), builtins.sum(s[1] for s in shapes)),
                   dtype=arrays[0].dtype if arrays else np.float32)
    r = c = 0
    for a, (n, m) in zip(arrays, shapes):
        out[r:r + n, c:c + m] = a.reshape(n, m)
        r, c = r + n, c + m
    return out


def _block_diag_bwd(ctx, g):
    out, r, c = [], 0, 0
    for shape, need in zip(ctx.shapes, ctx.needs_input_grad):
        n, m = _as_matrix_shape(shape)
        out.append(g.narrow(0, r, n).narrow(1, c, m).reshape(shape) if need else None)
        r, c = r + n, c + m
    return tuple(out)


BLOCK_DIAG = defop("block_diag", _block_diag_fwd, _block_diag_bwd, group="matrix")


@export(method=False)
def block_diag(*tensors):
    """The block-diagonal matrix of the inputs (0-d and 1-d ones as 1 x n blocks), dtype promoted."""
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
    if not tensors:
        return Tensor._make(np.zeros((1, 0), dtype=_dtype.get_default_dtype().np))
    return apply(BLOCK_DIAG, *tensors)


# ---- cdist --------------------------------------------------------------------------------------------
def _cdist_fwd(xp, x1, x2, p):
    diff = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(x1.dtype)
    if p == math.inf:
        return diff.max(-1) if diff.shape[-1] else diff.sum(-1)
    if p == 1:
        return diff.sum(-1)
    if p == 2:
        return xp.sqrt((diff * diff).sum(-1))
    return (diff ** p).sum(-1) ** (1.0 / p)


def _cdist_bwd(ctx, g):
    # d dist_ij / d x1_i = sign(diff) |diff|^(p-1) / dist^(p-1), 0 where dist is 0 (PyTorch's _cdist_backward)
    x1, x2, dist = ctx.saved
    p = ctx.params["p"]
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    d = dist.unsqueeze(-1)
    if p == 0:
        w = diff * 0
    elif p == 1:
        w = diff.sign()
    elif p == math.inf:
        w = diff.sign() * (diff.abs() == d)
    else:
        zero = d == 0
        safe = where(zero, 1.0, d)
        w = diff / safe if p == 2 else diff.sign() * (diff.abs() / safe) ** (p - 1)
        w = where(zero, 0.0, w)
    w = w * g.unsqueeze(-1)
    return (w.sum(-2) if ctx.needs_input_grad[0] else None,
            -w.sum(-3) if ctx.needs_input_grad[1] else None)


CDIST = defop("cdist", _cdist_fwd, _cdist_bwd, save=(0, 1, "out"), group="matrix")


def _euclidean_mm(x1, x2):
    """sqrt(|x1|^2 - 2 x1.x2 + |x2|^2) as one matmul, as PyTorch's cdist computes p=2 for many rows."""
    n1 = x1.pow(2).sum(-1, keepdim=True)
    n2 = x2.pow(2).sum(-1, keepdim=True)
    a = cat([x1 * -2, n1, n1 * 0 + 1], -1)
    b = cat([x2, n2 * 0 + 1, n2], -1)
    return a.matmul(b.transpose(-1, -2)).clamp_min(1e-30).sqrt()


@export(method=False)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M) -> (..., P, R)."""
    if x1.ndim < 2 or x2.ndim < 2:
        bad, t = ("X1", x1) if x1.ndim < 2 else ("X2", x2)
        raise RuntimeError(f"cdist only supports at least 2D tensors, {bad} got: {t.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if not t.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{SCALAR_TYPE_NAMES[t._data.dtype.name]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    batch = tuple(broadcast_shapes(x1.shape[:-2], x2.shape[:-2]))
    r1, r2 = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == modes[1] or (compute_mode == modes[0] and (r1 > 25 or r2 > 25)))
    if use_mm:
        e1 = x1.expand(batch + (r1, x1.shape[-1]))
        e2 = x2.expand(batch + (r2, x2.shape[-1]))
        return _euclidean_mm(e1, e2).view(batch + (r1, r2))
    return apply(CDIST, x1, x2, p=float(p))


# ---- cov / corrcoef / trapezoid: composites, as PyTorch's (aten/src/ATen/native/Correlation.cpp,
# TensorTransformations: trapezoid) ----------------------------------------------------------------------
def _cov_weights(name, w, n, integral):
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with {w.ndim} "
                           "dimensions")
    if (w.dtype.is_floating_point or w.dtype == _dtype.bool) == integral:
        kind = "integral" if integral else "floating point"
        raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got {name} with "
                           f"{SCALAR_TYPE_NAMES[w.dtype.name]} dtype")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {w.numel()} != {n}")
    if type(w._data) is np.ndarray and (w._data < 0).any():  # (the CPU only: on the GPU a host sync)
        raise RuntimeError(f"cov(): {name} cannot be negative")


@export
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the rows (variables) of `input` over its columns (observations).

    NOTE: as PyTorch's CPU kernel, negative weights and weights summing to 0 raise and weighted degrees of freedom
    <= 0 warn, on the CPU only: on the GPU those checks would read the weights on the host."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    if input.dtype == _dtype.bool:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n = x.shape[1]
    w = None
    if fweights is not None:
        _cov_weights("fweights", fweights, n, True)
        w = fweights
    if aweights is not None:
        _cov_weights("aweights", aweights, n, False)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n
        norm = n - correction
        if norm <= 0:
            warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number "
                          "of observations.")
            norm = 0
    else:
        w_sum = w.sum()
        if correction != 0 and aweights is not None:
            norm = w_sum - correction * (w * aweights).sum() / w_sum
        else:
            norm = w_sum - correction
        on_cpu = type(w._data) is np.ndarray
        if on_cpu and not w_sum._data:
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
        dof_gone = norm <= 0
        if on_cpu and dof_gone._data:
            warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number "
                          "of observations.")
        norm = where(dof_gone, 0, norm)
    avg = (x if w is None else x * w).sum(1) / w_sum
    x = x - avg.unsqueeze(1)
    c = mm(x, (x if w is None else x * w).t())
    return (c / norm).squeeze()


@export
def corrcoef(input):
    """Pearson's correlation coefficients of the rows of `input` (cov normalised by the standard deviations)."""
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = c.diagonal().sqrt()
    c = c / std.view(-1, 1)
    c = c / std.view(1, -1)
    return clamp(c, -1, 1)


@export(method=False, aliases=("trapz",))
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along `dim` by the trapezoidal rule, at spacing `dx` (default 1) or at sample points `x`."""
    if isinstance(x, Tensor) and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments - got (Tensor, Tensor, dx=...), "
                        "but expected one of: (Tensor y, Tensor x, *, int dim = -1) or (Tensor y, *, Number dx = 1, "
                        "int dim = -1)")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"trapezoid(): argument 'x' (position 2) must be Tensor, not {type(x).__name__}")
    d = _dim(dim, y.ndim)
    if y.dtype == _dtype.bool or (x is not None and x.dtype == _dtype.bool):
        which = "`y`" if y.dtype == _dtype.bool else "`x`"
        raise RuntimeError(f"trapezoid: received a bool input for {which}, but bool is not supported")
    n = y.shape[d]
    if x is not None:
        if x.ndim == 1:
            if x.shape[0] != n:
                raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
            x = x.view([n if k == d else 1 for k in range(y.ndim)])
        elif x.ndim < y.ndim:
            x = x.view((1,) * (y.ndim - x.ndim) + tuple(x.shape))
        if x.shape[d] != n:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
    if n == 0:
        return y.sum(d) * 0  # (PyTorch: zeros of the reduced shape)
    lo, hi = y.narrow(d, 0, n - 1), y.narrow(d, 1, n - 1)
    if x is None:
        return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * (1 if dx is None else dx)
    spacing = x.narrow(d, 1, n - 1) - x.narrow(d, 0, n - 1)
    return (spacing * (lo + hi)).sum(d) / 2

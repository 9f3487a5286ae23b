"""In-place ops: compute the new value with the out-of-place op, write it into the tensor's memory, bump the
storage's version counter, and rewrite the history: the tensor's own grad_fn, or its base's (CopySlices)
when it is a view."""
import builtins

import numpy as np

from ..tensor import NO_GRAD_VIEW_INPLACE, SCALAR_TYPE_NAMES, Tensor
from .._dtype import is_floating
from ..autograd import grad_mode
from .core import defop, record
from ..tensor import _replay


def _check_inplace_allowed(t):
    if t._base is None:
        if t._grad_fn is None and t._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        return
    base = t._base
    if base._grad_fn is None and base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    for op, _, idx in t._view_chain:
        if idx is not None:
            raise RuntimeError(
                f"Output {idx} of {(op.node_name or op.name).removesuffix('Backward0')} is a view and is being "
                "modified inplace. This view is the output of a function that returns multiple views. "
                "Such functions do not allow the output views to be modified inplace. You should replace the "
                "inplace operation by an out-of-place one.")


_CAST_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2}


def _cast_order(np_dtype):
    return 2 if is_floating(np_dtype) else _CAST_ORDER[np_dtype.kind]  # (bfloat16's kind is "V")


def _write(t, out):
    """Copy out's data into t's memory (broadcasting and casting as PyTorch's in-place rules allow)."""
    src = out._data
    if _cast_order(src.dtype) > _cast_order(t._data.dtype):
        raise RuntimeError(f"result type {SCALAR_TYPE_NAMES[src.dtype.name]} can't be cast to the desired output "
                           f"type {SCALAR_TYPE_NAMES[t._data.dtype.name]}")
    if builtins.any(st == 0 and n > 1 for st, n in zip(t._data.strides, t._data.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")
    if src.shape != t._data.shape:
        try:
            shape = np.broadcast_shapes(src.shape, t._data.shape)
        except ValueError:
            shape = src.shape
        if shape != t._data.shape:
            raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                               f"{list(shape)}")
    if t._data.ndim == 0 and type(t._data) is np.ndarray:
        t._data[()] = src
    elif type(t._data) is np.ndarray:
        t._data[...] = src
    else:
        with t._data.device:
            t._data[...] = src
    t._bump_version()


def _alias(t):
    """Same data and history as t but its own version counter: the 'old self' an in-place op consumes."""
    return Tensor._make(t._data, t.requires_grad, t.grad_fn, t._output_nr)


def inplace(t, compute, copy_src=None):
    """t = compute(t), written into t's own memory; `compute` builds the new value out of place.

    copy_src: for copy_ (and setitem), the tensor copied in; a view's CopySlices then links to it directly,
    as PyTorch's does."""
    if not grad_mode._state.enabled:
        _write(t, compute(t))
        return t
    if t.requires_grad:
        _check_inplace_allowed(t)
    old = _alias(t)
    out = compute(old)
    if t._view_no_grad and (out._requires_grad or t._base.requires_grad):
        raise RuntimeError(NO_GRAD_VIEW_INPLACE)
    if not out._requires_grad:
        _write(t, out)
        return t
    _check_inplace_allowed(t)
    old._data = old._data.copy()  # NOTE: nodes that saved the old value must not see it overwritten
    _write(t, out)
    if t._base is None:
        t._grad_fn, t._output_nr, t._requires_grad = out._grad_fn, out._output_nr, True
    else:
        _copy_slices(t, copy_src if isinstance(copy_src, Tensor) and copy_src.requires_grad else out)
    return t


def _copy_slices(view, src):
    """Record base := base with the view's region replaced by src (PyTorch's CopySlices node).

    src has the view's shape or broadcasts to it (OpNode.apply sums its gradient back to src's shape)."""
    base = view._base
    old_base = _alias(base)
    xp = base._xp
    mask = xp.zeros(base._data.shape, dtype=bool)
    region = mask
    for op, params, idx in view._view_chain:
        region = op.forward(xp, region, **params)
        if idx is not None:
            region = region[idx]
    region[...] = True
    record(COPY_SLICES, (old_base, src), (base,), {"chain": view._view_chain, "mask": Tensor._make(mask)})
    view._view_version = -1  # the view rebuilds its grad_fn from the base's new history on next use


def _copy_slices_bwd(ctx, g):
    chain, mask = ctx.params["chain"], ctx.params["mask"]
    g_base = g.masked_fill(mask, 0) if ctx.needs_input_grad[0] else None
    g_src = _replay(g, chain) if ctx.needs_input_grad[1] else None
    return g_base, g_src


COPY_SLICES = defop("copy_slices", None, _copy_slices_bwd, node="CopySlices", group="inplace", dtype="keep",
                    public=False)


# ---- the ops behind copy_ and fill_ -----------------------------------------------------------------
def _copy_fwd(xp, x, src):
    return xp.broadcast_to(xp.asarray(src, dtype=x.dtype), x.shape).copy()


def _zeros(g):
    # NOTE: not g * 0, which would turn an inf or nan in g into nan
    return Tensor._make(g._xp.zeros_like(g._data))


COPY = defop("copy", _copy_fwd, lambda ctx, g: (_zeros(g), g), node="CopyBackwards", group="inplace",
             dtype="keep", public=False)
FILL = defop("fill", lambda xp, x, value: xp.full_like(x, value), lambda ctx, g: (_zeros(g), None),
             node="FillBackward2", group="inplace", dtype="keep", public=False)
FILL_TENSOR = defop("fill_tensor", lambda xp, x, value: xp.full_like(x, value), lambda ctx, g: (_zeros(g), g.sum()),
                    node="FillBackward3", group="inplace", dtype="keep", public=False)
ZERO = defop("zero", lambda xp, x: xp.zeros_like(x), lambda ctx, g: _zeros(g), node="ZeroBackward0",
             group="inplace", dtype="keep", public=False)

"""The op table's machinery: an Op row, the dispatcher that runs it and records it, and the node it records.

Every primitive is one `defop(...)` row: its forward over raw arrays (`xp` is numpy or cupy), its backward
over Tensors (so backward is itself differentiable and create_graph works), what it saves, the name of its
backward node as PyTorch spells it, and the kernel (if any) that runs its backward on the GPU (see
kernel_grad.py). `apply` is the one dispatcher and `_record` the one recorder; broadcasting is undone in
exactly one place, OpNode.apply (by sum_to, in _conform).
"""
import re

import numpy as np

from .. import _device, _dtype
from ..autograd import anomaly_mode, grad_mode
from ..autograd.engine import Node, _FREED_MSG
from ..autograd.engine import _seq as _node_seq
from ..tensor import Tensor, _legacy_type_name

OP_TABLE = {}  # every primitive by name (ops.PUBLIC_OPS: those a test case must name)
EXPORTS = {}  # public name -> Export: autograd_gpu.<name>, and which are Tensor methods / in-place methods

DTYPE_RULES = ("promote", "float", "compare", "keep")


class Op:
    __slots__ = ("name", "forward", "backward", "save", "node_name", "group", "kernel", "dtype", "view",
                 "nout", "node_cls", "differentiable", "public", "save_plan", "fast", "autocast", "opmath")

    def __init__(self, name, forward, backward, save, node, group, kernel, dtype, view, nout, public, opmath):
        assert dtype in DTYPE_RULES, dtype
        self.name, self.forward, self.backward = name, forward, backward
        # (index, is_output, when) per saved value: "out", "out1", ... name an output, an int a positional input,
        # (k, j) input k only when input j needs a gradient (None in its place otherwise), as PyTorch saves
        # `other` for mul only when `self` needs a gradient
        self.save = tuple(s[0] if type(s) is tuple else s for s in save)
        self.save_plan = tuple((int(s[3:] or 0), True, None) if isinstance(s, str) else
                               (s[0], False, s[1]) if type(s) is tuple else (s, False, None) for s in save)
        self.differentiable = backward is not None
        self.node_name = node if self.differentiable else None
        self.group, self.kernel, self.dtype, self.view, self.nout = group, kernel, dtype, view, nout
        self.public = public
        self.node_cls = type(node, (OpNode,), {"__slots__": ()}) if self.differentiable else None
        # apply's fast path may run it: one result whose dtype is its floating inputs' dtype
        self.fast = not view and nout == 1 and dtype != "compare"
        self.autocast = None  # {"cpu"/"cuda": cast policy} under autocast (set from amp's op lists)
        self.opmath = opmath

    def __repr__(self):
        return f"<op {self.name}>"


def defop(name, forward, backward=None, *, save=(), node=None, group, kernel=None, dtype="promote",
          view=False, nout=1, public=True, opmath=False):
    """Declare a primitive. `save` lists positional-input indices and/or "out" (the result); `group` is its
    section of the op table (README); `kernel` the CUDA kernel of its backward (from a kernel_grad).
    `opmath`: a float16/bfloat16 result whose second operand is a number or a 0-d tensor is computed in
    float32 from that operand's own value and rounded once (PyTorch's CPU mul and div read such a scalar with
    original_scalar_value<opmath_t>; other ops round it to the result's dtype first, as numpy does)."""
    kernel = getattr(getattr(backward, "kernel", None), "name", kernel)
    if node is None and backward is not None:
        node = "".join(p.capitalize() for p in name.strip("_").split("_")) + "Backward0"
    op = Op(name, forward, backward, save, node, group, kernel, dtype, view, nout, public, opmath)
    assert name not in OP_TABLE, f"op {name} declared twice"
    OP_TABLE[name] = op
    return op


class Export:
    """A public function: `function`: `autograd_gpu.<name>`; `method`: `Tensor.<name>` (the tensor first);
    `inplace`: also `Tensor.<name>_`, the same computation written into the tensor ("view": the tensor becomes
    the view, as `t_()` and `squeeze_()` do)."""
    __slots__ = ("fn", "function", "method", "inplace")

    def __init__(self, fn, function, method, inplace):
        self.fn, self.function, self.method, self.inplace = fn, function, method, inplace


def export(fn=None, *, name=None, function=True, method=True, inplace=False, aliases=()):
    """Declare `fn` public under `name` (default: its own) and `aliases`; usable as a decorator::

        @export(inplace=True, aliases=("clip",))
        def clamp(input, min=None, max=None): ...
    """
    def register(fn):
        for n in (name or fn.__name__, *aliases):
            assert n not in EXPORTS, f"{n} exported twice"
            EXPORTS[n] = Export(fn, function, method, inplace)
        return fn
    return register(fn) if fn is not None else register


class SavedTensor:
    """A tensor kept for backward, with the version it had; unpacking checks it was not modified since.
    Made by `_save` only."""
    # an output keeps only its data, counter and output_nr (`tensor` None: a reference to the output itself would
    # be a cycle); an input sets only tensor, counter and version
    __slots__ = ("tensor", "version", "counter", "data", "output_nr")

    def unpack(self, node):
        if self.counter[0] != self.version:
            t = self.tensor
            if t is None:
                t = Tensor._make(self.data, False)
                producer, nr = node, self.output_nr
            else:
                producer, nr = t._grad_fn, t._output_nr
            what = "" if producer is None else \
                f", which is output {nr} of {re.sub(r'Backward[0-9]*$', '', type(producer).__name__)},"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [{_legacy_type_name(t)} {list(t._data.shape)}]{what} is at version "
                f"{self.counter[0]}; expected version {self.version} instead. Hint: the operation that "
                "modified it came after the forward call; use .clone() before the in-place operation, or "
                "avoid it.")
        if self.tensor is None:
            if not _dtype.is_floating(self.data.dtype):  # e.g. the indices output of max(dim)
                return Tensor._make(self.data, False, None, 0, self.counter)
            return Tensor._make(self.data, True, node, self.output_nr, self.counter)
        return self.tensor


class OpNode(Node):
    """The node recorded by a table op. It is also the `ctx` its backward formula sees."""
    __slots__ = ("op", "params", "_saved", "_meta", "needs_input_grad", "_out_meta")

    @property
    def saved(self):
        s = self._saved
        if s is None:
            raise RuntimeError(_FREED_MSG)
        out = []
        for x in s:
            if type(x) is SavedTensor:
                # (unpack's common cases inline: a saved input or floating output, unmodified since)
                c = x.counter
                if c[0] != x.version:
                    x = x.unpack(self)  # (raises)
                elif x.tensor is not None:
                    x = x.tensor
                elif _dtype.is_floating(x.data.dtype):
                    x = Tensor._make(x.data, True, self, x.output_nr, c)
                else:
                    x = x.unpack(self)
            out.append(x)
        return tuple(out)

    def saved_array(self, i):
        """The array of saved value i, checked as `saved` checks it: for backward formulas that run on arrays
        when no graph of the backward is recorded."""
        s = self._saved
        if s is None:
            raise RuntimeError(_FREED_MSG)
        x = s[i]
        if type(x) is not SavedTensor:
            return x
        if x.counter[0] != x.version:
            x.unpack(self)  # (raises)
        return x.data if x.tensor is None else x.tensor._data

    @property
    def shapes(self):
        """Shapes of the tensor inputs (None for Python scalars)."""
        return tuple(m[0] if m is not None else None for m in self._meta)

    def _release(self):
        if self._saved:
            self._saved = None

    def apply(self, grads):
        op = self.op
        if op.nout == 1:
            g = grads[0]
        else:
            g = [gi if gi is not None else _zeros_like_meta(m, grads) for gi, m in zip(grads, self._out_meta)]
        res = op.backward(self, g)
        if type(res) is Tensor and len(self._meta) == 1:  # (one input: its gradient, most often as it is)
            if not self.needs_input_grad[0]:
                return [None]
            d = res._data
            m = self._meta[0]
            if d.shape != m[0] or (d.dtype is not m[1] and d.dtype != m[1]):
                res = _conform(res, m)
            return [res]
        if type(res) is not tuple and not isinstance(res, (tuple, list)):
            res = (res,)
        out = []
        for r, need, m in zip(res, self.needs_input_grad, self._meta):
            if r is None or not need:
                out.append(None)
                continue
            d = r._data
            # (`is`: builtin dtypes are singletons)
            if d.shape != m[0] or (d.dtype is not m[1] and d.dtype != m[1]) or len(m) == 3:
                r = _conform(r, m)
            out.append(r)
        return out


def _conform(grad, meta):
    """The gradient of an input of (shape, dtype) `meta`: broadcasting undone, cast to the input's dtype."""
    if grad._data.shape != meta[0]:
        grad = sum_to(grad, meta[0])
    if grad._data.dtype != meta[1]:
        grad = grad.to(_dtype.from_numpy_dtype(meta[1]))
    if len(meta) == 3:  # a CPU scalar tensor that joined a GPU op
        grad = grad.to(meta[2])
    return grad


def _zeros_like_meta(meta, grads):
    ref = next(g for g in grads if g is not None)
    xp = ref._xp
    return Tensor._make(xp.zeros(meta[0], dtype=meta[1]), False)


def sum_to(grad, shape):
    """Undo broadcasting: sum `grad` down to `shape` (the one place where this happens)."""
    shape = tuple(shape)
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1)
    if axes:
        grad = grad.sum(axes, keepdim=True)  # (the method: reduction.py, a row like any other, uses this module)
    if lead or grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


_BF16 = _dtype.bfloat16.np  # (the one floating numpy dtype whose kind is not "f")
_NO_EDGE = (None, 0)
_NO_PARAMS = {}  # (the params of a node recorded without any: shared, never written)
_new = object.__new__


def _edge(x):
    """The edge to tensor x's gradient: (its grad_fn, its output number), or (a leaf) its AccumulateGrad.
    x is not a view whose grad_fn is stale (x.requires_grad brings one up to date)."""
    fn = x._grad_fn
    return (fn, x._output_nr) if fn is not None else (x._grad_accumulator(), 0)


def save_tensor(t, output_nr=None):
    """t saved for backward: an input of the node (kept as it is), or the node's output `output_nr` (its data
    only: a reference to the output would be a node -> tensor -> node cycle)."""
    st = _new(SavedTensor)
    st.counter = c = t._vc
    st.version = c[0]
    if output_nr is None:
        st.tensor = t
    else:
        st.tensor = None
        st.data = t._data
        st.output_nr = output_nr
    return st


_NO_INPUT = object()  # (apply's missing positional input)

# autograd_gpu.amp's input caster while any thread has an autocast region open, else None: with it None the
# only cost to an op is this one global read
autocast_hook = None


def autocast_inputs(op, *inputs):
    """`inputs` cast as autocast casts the inputs of `op` (as they are outside an autocast region): for a composite
    function that checks its tensors before it applies `op`, as PyTorch casts at the function's entry."""
    if autocast_hook is None or op.autocast is None:
        return inputs
    return autocast_hook(op, inputs)


def apply(op, a=_NO_INPUT, b=_NO_INPUT, /, *more, **params):
    """apply(op, *inputs, **params): run `op` on tensors / Python scalars and record it for backward when grad
    mode needs it."""
    # NOTE: the hot path of every op, inline: one or two inputs, the first a floating tensor that is not a
    # view, the second a tensor of its dtype and device or a Python number, no parameters. The general path
    # would reach the same result through its loops, lists and dtype rules. The first two inputs are named
    # so that this path builds no tuple of inputs (~0.07 us of ~0.7 us per op).
    if autocast_hook is not None and op.autocast is not None:
        a, b, *more = autocast_hook(op, (a, b, *more))
    if op.fast and not params and not more and type(a) is Tensor and a._base is None:
        da = a._data
        dt = da.dtype
        if dt.kind == "f":
            tb = None
            if b is not _NO_INPUT:
                tb = type(b)
                if tb is Tensor:
                    vb = db = b._data
                    if b._base is not None or (db.dtype is not dt and db.dtype != dt) \
                            or type(db) is not type(da) or (type(da) is not np.ndarray and da.device != db.device) \
                            or (op.opmath and db.size == 1 and dt.itemsize == 2):
                        return _apply(op, (a, b), params)
                elif tb is float or (tb is int and -_INT64 <= b < _INT64):
                    # (float16 computes in float32, as PyTorch's: a big int is no inf before the product)
                    vb = b if dt.itemsize > 2 or -65504 <= b <= 65504 else np.float32(b)
                    if dt.itemsize == 2 and op.opmath:
                        da = da.astype(np.float32)  # (the scalar unrounded: float32 as numpy reads it)
                else:
                    return _apply(op, (a, b), params)
            try:  # (no *args: a call with a starred tuple costs ~0.15 us)
                if type(da) is np.ndarray:
                    out = op.forward(np, da) if tb is None else op.forward(np, da, vb)
                    if type(out) is not np.ndarray:  # (numpy returns a scalar for a 0-d array)
                        out = np.asarray(out)
                else:
                    with da.device:
                        out = op.forward(a._xp, da) if tb is None else op.forward(a._xp, da, vb)
            except ValueError as e:
                _raise_broadcast_error(e, (da,) if tb is None else (da, vb))
            if out.dtype is not dt and out.dtype != dt and op.dtype != "keep":
                out = out.astype(dt)
            result = _new(Tensor)  # (Tensor._make(out) without its keyword defaults: once per op)
            result._data = out
            result._requires_grad = False
            result._grad_fn = None
            result._output_nr = 0
            result._vc = [0]
            ra = a._requires_grad  # (first: most calls record nothing, and grad mode is a thread-local read)
            rb = tb is Tensor and b._requires_grad
            if (ra or rb) and op.differentiable and grad_mode._state.enabled:
                if tb is None:
                    _record(op, (a,), (result,), _NO_PARAMS, (_edge(a),), ((da.shape, dt),), _NEEDS1)
                else:
                    _record(op, (a, b), (result,), _NO_PARAMS,
                            (_edge(a) if ra else _NO_EDGE, _edge(b) if rb else _NO_EDGE),
                            ((da.shape, dt), (db.shape, dt) if tb is Tensor else None), (ra, rb))
            return result
    if b is not _NO_INPUT:
        return _apply(op, (a, b, *more), params)
    return _apply(op, () if a is _NO_INPUT else (a,), params)


_NEEDS1 = (True,)


def _apply(op, inputs, params):
    """apply's general path: one pass over the inputs collects the arrays, checks devices, decides whether the
    dtype needs promotion and (only when a node may be recorded) builds the node's edges."""
    track = op.differentiable and grad_mode._state.enabled
    first = fd = None
    requires_grad = False
    # every tensor has first's dtype (then 0-d-ness does not matter: promotion yields that dtype), every other
    # input is a Python int or float
    same = True
    float_scalar = False
    arrays = []
    host_scalar = False
    if track:
        edges, meta, needs = [], [], []
    for x in inputs:
        if isinstance(x, Tensor):
            d = x._data
            if first is None:
                first, fd, fdt = x, d, d.dtype
            else:
                if type(d) is not type(fd) or (type(d) is not np.ndarray and d.device != fd.device):
                    # a CPU 0-d tensor may join a GPU op in either place, as in PyTorch; its gradient goes back
                    # to the CPU (the meta's third entry)
                    if d.ndim == 0 and type(d) is np.ndarray:
                        with fd.device:
                            d = _device.cupy().asarray(d)
                        host_scalar = True
                    elif type(fd) is np.ndarray and all(type(a) is not np.ndarray or a.ndim == 0 for a in arrays):
                        with d.device:
                            arrays = [_device.cupy().asarray(a) if type(a) is np.ndarray else a for a in arrays]
                        if track:
                            meta = [m if m is None or len(m) == 3 else (m[0], m[1], _device.CPU) for m in meta]
                        fd = d
                    else:
                        _device.check_same_device([fd, d])
                if same and d.dtype is not fdt and d.dtype != fdt:  # (`is` first: builtin dtypes are singletons)
                    same = False
            arrays.append(d)
            if track:
                if host_scalar:
                    meta.append((d.shape, d.dtype, _device.CPU))
                    host_scalar = False
                else:
                    meta.append((d.shape, d.dtype))
                # (x.requires_grad also brings a view's grad_fn up to date; a non-view needs no property call)
                if x._requires_grad if x._base is None else x.requires_grad:
                    requires_grad = True
                    edges.append(_edge(x))
                    needs.append(True)
                else:
                    edges.append(_NO_EDGE)
                    needs.append(False)
        else:
            tx = type(x)
            if tx is not float and tx is not int and tx is not bool and (x is not None or len(inputs) <= 2):
                # (None in an op of three or more inputs is an optional tensor input left out: a bias, a bound)
                if not isinstance(x, (np.generic, complex, int, float)):
                    raise _not_a_number(op, inputs, x)
                inputs = _python_scalars(inputs)
                return _apply(op, inputs, params)
            if tx is int and not -_INT64 <= x < _INT64:
                _check_big_int(x, inputs)
            if tx is float:
                float_scalar = True
            elif tx is not int:
                same = False
            arrays.append(x)
            if track:
                meta.append(None)
                edges.append(_NO_EDGE)
                needs.append(False)
    rule = op.dtype
    npdt = None  # the result's numpy dtype (None: the rule keeps whatever the forward returns)
    if rule != "keep" and first is not None:
        kind = fdt.kind
        if same and kind == "f":  # (the common case: every rule keeps a floating tensor's dtype)
            npdt = fdt
            if fdt.itemsize == 2:  # (float16 computes in float32, as PyTorch's: a big int is no inf before)
                arrays = [np.float32(a) if type(a) is int and not -65504 <= a <= 65504 else a for a in arrays]
                if op.opmath and len(arrays) == 2:
                    arrays = _opmath_operands(arrays, npdt)
        else:
            # a Python number keeps a floating tensor's dtype (and an int tensor's, for ints)
            if same and kind in "iu" and not float_scalar and rule != "float":
                dt = _dtype._FROM_NP[fdt]
                arrays = [_wrap_int(a, fdt) if type(a) is int else a for a in arrays]
            else:
                dt = _dtype.result_type(inputs)
                same = False
            if rule == "float" and not dt.is_floating_point:
                dt = _dtype.get_default_dtype()
                same = False
            npdt = dt.np
            if op.opmath and len(arrays) == 2 and npdt.itemsize == 2 and _dtype.is_floating(npdt):
                arrays = _opmath_operands(arrays, npdt)
            elif not same:
                arrays = [a.astype(npdt) if hasattr(a, "dtype") and a.dtype != npdt else a for a in arrays]
    try:
        if fd is None or type(fd) is np.ndarray:
            xp = np
            out = op.forward(xp, *arrays, **params)
        else:
            xp = _device.cupy()
            with fd.device:  # (an op runs on its tensors' GPU, whichever is current)
                out = op.forward(xp, *arrays, **params)
    except ValueError as e:
        _raise_broadcast_error(e, arrays)
    if op.nout == 1:
        # (numpy gives a scalar for a 0-d result; a device move gives a cupy array from numpy inputs: keep it)
        if type(out) is not np.ndarray and not hasattr(out, "__cuda_array_interface__"):
            out = xp.asarray(out)
        if npdt is not None and rule != "compare" and out.dtype is not npdt and out.dtype != npdt:
            out = out.astype(npdt)
        result = Tensor._make(out)
        results = (result,)
    else:
        results = tuple(Tensor._make(np.asarray(o) if xp is np and type(o) is not np.ndarray else o, False)
                        for o in out)
        result = results
    if op.view:
        base = first._base if first._base is not None else first
        for i, r in enumerate(results):
            if _shares_memory(r._data, first._data):
                r._vc = first._vc
                r._base = base
                r._view_chain = first._view_chain + ((op, params, i if op.nout != 1 else None),)
                r._view_version = r._vc[0]
                r._view_no_grad = first._view_no_grad or not grad_mode._state.enabled
    if requires_grad:
        _record(op, inputs, results, params, tuple(edges), meta, tuple(needs))
    return result


_INT64 = 1 << 63


def _opmath_operands(arrays, npdt):
    """The two operands of an `opmath` op whose result is of the 2-byte float dtype npdt, as PyTorch's CPU kernel
    takes them: with a number or a 1-element array second (its TensorIterator's is_scalar(2)), both in float32
    (the first rounded to npdt before, the second not: trunc(a / b) is not rounded to npdt before the trunc);
    otherwise both in npdt."""
    a, b = arrays
    if not hasattr(a, "ndim") or (hasattr(b, "ndim") and b.size != 1):
        return [x.astype(npdt) if hasattr(x, "dtype") and x.dtype != npdt else x for x in arrays]
    if a.dtype != npdt:
        a = a.astype(npdt)
    return [a.astype(np.float32), b.astype(np.float32) if hasattr(b, "dtype") else b]


def _check_big_int(x, inputs):
    """A Python int beyond int64 is a uint64 number in PyTorch: it wraps into an integer tensor's dtype (int8 +
    2**63 adds 0) and becomes a float for a floating one; beyond uint64 it is an OverflowError, and with bool
    tensors only a RuntimeError (no promotion to uint64)."""
    if x >= 2 * _INT64:
        raise OverflowError("int too big to convert")
    if x < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if all(not isinstance(t, Tensor) or t._data.dtype.kind == "b" for t in inputs):
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, attempted to promote Bool "
                           "and UInt64")


def _not_a_number(op, inputs, x):
    """PyTorch's TypeError for an operand that is neither a tensor nor a number (a list, None, a string, a numpy
    array: PyTorch takes numpy arrays only in the operators, through numpy)."""
    i = next(i for i, v in enumerate(inputs) if v is x)
    t = type(x)
    name = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    return TypeError(f"{op.name}(): argument (position {i + 1}) must be Tensor or a number, not {name}")


def _python_scalars(inputs):
    """inputs with numpy scalars as the Python numbers PyTorch takes them for (np.int64(2) is an int, not an
    int64 tensor; np.float32(0.5) a float; np.bool_ an int, where PyTorch takes it for a float); a complex number
    is refused: there is no complex dtype."""
    return tuple(_dtype.python_number(x) for x in inputs)


def _wrap_int(v, npdt):
    """A Python int as an integer tensor of dtype npdt sees it: wrapped modulo 2**bits, as PyTorch casts it
    (uint8 + 300 adds 44); numpy would raise OverflowError."""
    lo, hi = _INT_RANGE.get(npdt) or _INT_RANGE.setdefault(npdt, (int(np.iinfo(npdt).min), int(np.iinfo(npdt).max)))
    if lo <= v <= hi:
        return v
    span = 1 << (8 * npdt.itemsize)
    v %= span
    return v - span if v > hi else v


_INT_RANGE = {}  # integer numpy dtype -> (min, max)


def _raise_broadcast_error(e, arrays):
    """numpy/CuPy broadcasting failures are RuntimeErrors in PyTorch: re-raise `e` as one."""
    if "broadcast" not in str(e):
        raise  # (the exception being handled)
    raise RuntimeError(_broadcast_error([a.shape for a in arrays if hasattr(a, "shape")])) from None


def _broadcast_error(shapes):
    """PyTorch's message for the first pair of shapes that do not broadcast."""
    for i, a in enumerate(shapes):
        for b in shapes[i + 1:]:
            for k in range(1, min(len(a), len(b)) + 1):
                if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
                    return (f"The size of tensor a ({a[-k]}) must match the size of tensor b ({b[-k]}) at "
                            f"non-singleton dimension {max(len(a), len(b)) - k}")
    return f"shapes {[list(s) for s in shapes]} cannot be broadcast together"


def _shares_memory(a, b):
    ab = a.base if a.base is not None else a
    bb = b.base if b.base is not None else b
    return ab is bb


def record(op, inputs, results, params):
    """Record `op` for `results` computed outside `apply` from `inputs` (an in-place write's CopySlices)."""
    edges, meta, needs = [], [], []
    for x in inputs:
        if isinstance(x, Tensor):
            meta.append((x._data.shape, x._data.dtype))
            if x.requires_grad:
                edges.append(_edge(x))
                needs.append(True)
                continue
        else:
            meta.append(None)
        edges.append(_NO_EDGE)
        needs.append(False)
    return _record(op, inputs, results, params, tuple(edges), meta, tuple(needs))


def _record(op, inputs, results, params, edges, meta, needs):
    """Attach a new node of `op`, run on `inputs` with `params`, to its `results`: the one recorder."""
    node = _new(op.node_cls)  # (OpNode needs no __init__ but the sequence number)
    node._seq = next(_node_seq)
    node.op = op
    node.params = params
    node.next_functions = edges
    node._meta = meta
    node.needs_input_grad = needs
    if anomaly_mode._enabled:
        node._trace = anomaly_mode.current_trace()
    plan = op.save_plan
    if plan:
        saved = []
        for k, is_out, when in plan:
            if when is not None and not needs[when]:
                saved.append(None)
            elif is_out:
                saved.append(save_tensor(results[k], k))
            else:
                x = inputs[k]
                saved.append(save_tensor(x) if isinstance(x, Tensor) else x)
        node._saved = saved
    else:
        node._saved = ()
    if op.nout != 1:
        node._out_meta = [(r._data.shape, r._data.dtype) for r in results]
        node.num_outputs = len(results)  # the engine keeps one gradient slot per output
        for i, r in enumerate(results):
            if r._data.dtype.kind == "f" or r._data.dtype == _BF16:
                r._requires_grad = True
                r._grad_fn = node
                r._output_nr = i
    else:
        r = results[0]
        if r._data.dtype.kind == "f" or r._data.dtype == _BF16:
            r._requires_grad = True
            r._grad_fn = node
            r._output_nr = 0
    return node



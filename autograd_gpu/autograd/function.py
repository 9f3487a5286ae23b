"""autograd.Function: a custom op with a hand-written backward, as in PyTorch.

The `ctx` that forward and backward see is the backward node itself (an instance of `<ClassName>Backward`),
so `y.grad_fn` is the ctx of the call that made `y`.

>>> class Exp(Function):
...     @staticmethod
...     def forward(ctx, x):
...         y = x.exp()
...         ctx.save_for_backward(y)
...         return y
...     @staticmethod
...     def backward(ctx, g):
...         (y,) = ctx.saved_tensors
...         return g * y
>>> Exp.apply(x).sum().backward()
"""
import functools
import warnings

from . import anomaly_mode, grad_mode
from .engine import _FREED_MSG, Node
from ..ops.core import SavedTensor, save_tensor
from ..tensor import Tensor
from ..ops.inplace import _check_inplace_allowed, _copy_slices
from ..ops.core import SavedTensor
from ..ops.core import _conform
from ..creation import zeros


class FunctionCtx:
    """What forward may call on ctx: save_for_backward, mark_dirty, mark_non_differentiable, ..."""

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def mark_dirty(self, *args):
        """The tensors forward modified in place (they must be inputs and be returned)."""
        self._dirty = args

    def mark_non_differentiable(self, *args):
        """Outputs that get no gradient (backward still receives a zero gradient for them)."""
        self._non_differentiable = args

    def set_materialize_grads(self, value):
        """With False, backward receives None instead of zeros for outputs that got no gradient."""
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The node a Function.apply records; subclassed once per Function as `<ClassName>Backward`."""
    _forward_cls = None

    def __init__(self):
        super().__init__()
        self._to_save = ()
        self._dirty = ()
        self._non_differentiable = ()
        self.materialize_grads = True
        self._saved = ()
        self._out_meta = ()
        self._is_tensor_input = ()
        self._in_meta = ()
        self.needs_input_grad = ()
        self.next_functions = ()

    @property
    def saved_tensors(self):
        s = self._saved
        if s is None:
            raise RuntimeError(_FREED_MSG)
        return tuple(x.unpack(self) if type(x) is SavedTensor else x for x in s)

    @property
    def num_outputs(self):
        return len(self._out_meta)

    def _release(self):
        self._saved = None

    def apply(self, grads):
        if self.materialize_grads:
            grads = [zeros(m[0], dtype=m[1], device=m[2]) if g is None and m is not None else g
                     for g, m in zip(grads, self._out_meta)]
        res = self._forward_cls.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self._is_tensor_input)
        if len(res) > n and all(r is None for r in res[n:]):  # extra Nones are fine, as in PyTorch
            res = res[:n]
        if len(res) != n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected {n}, "
                               f"got {len(res)})")
        out = []
        for i, (r, is_t) in enumerate(zip(res, self._is_tensor_input)):
            if not is_t:
                if r is not None:
                    raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                       f"{i + 1}, but the corresponding forward input was not a Variable")
                continue
            if r is not None:
                if not isinstance(r, Tensor):
                    raise TypeError(f"expected Variable or None (got {type(r).__name__})")
                r = self._check_grad(r, len(out))
            out.append(r)
        return out

    def _check_grad(self, r, j):
        """The gradient of tensor input j, checked as PyTorch checks it, then conformed as an op's is."""
        import numpy as np
        meta = self._in_meta[j]
        shape = meta[0]
        if r._data.shape != shape:
            try:
                ok = np.broadcast_shapes(shape, r._data.shape) == r._data.shape
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index {j} - got "
                                   f"{list(r._data.shape)} but expected shape compatible with {list(shape)}")
        return _conform(r, meta)


class FunctionMeta(type):
    """Gives each Function subclass its own backward node class, named `<ClassName>Backward`."""

    def __init__(cls, name, bases, attrs):
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        super().__init__(name, bases, attrs)


class Function(FunctionCtx, metaclass=FunctionMeta):
    """Base class of custom ops: define static `forward(ctx, *args)` and `backward(ctx, *grads)`, call `apply`."""

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, "
                      "so you should invoke them on the class itself. Instantiating an autograd function will raise "
                      "an error in a future version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        setup = cls.setup_context is not Function.setup_context
        if setup and kwargs:  # bind keywords to positions, as PyTorch does for setup_context functions
            import inspect
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        if kwargs:
            raise TypeError("apply() takes no keyword arguments")
        ctx = cls._backward_cls()
        is_tensor = tuple(isinstance(a, Tensor) for a in args)
        ctx.needs_input_grad = tuple(t and a.requires_grad for a, t in zip(args, is_tensor))
        recording = grad_mode._state.enabled and any(ctx.needs_input_grad)
        if recording:
            ctx.next_functions = tuple(a._edge() if a.requires_grad else (None, 0)
                                       for a, t in zip(args, is_tensor) if t)
            ctx._in_meta = tuple((a._data.shape, a._data.dtype) for a, t in zip(args, is_tensor) if t)
            ctx._is_tensor_input = is_tensor
            if anomaly_mode._enabled:
                ctx._trace = anomaly_mode.current_trace()
        with grad_mode.no_grad():
            if setup:
                raw = cls.forward(*args)
                cls.setup_context(ctx, args, raw)
            else:
                raw = cls.forward(ctx, *args)
        if not recording:
            for t in ctx._dirty:
                t._bump_version()
            ctx._saved = ctx._to_save
            return raw
        return _wrap_outputs(ctx, args, raw)


def _wrap_outputs(ctx, args, raw):
    """Attach ctx as the grad_fn of forward's outputs, rebase dirty inputs and pack the saved tensors."""
    single = not isinstance(raw, tuple)
    raws = (raw,) if single else raw
    in_ids = {id(a) for a in args if isinstance(a, Tensor)}
    dirty = {id(t) for t in ctx._dirty}
    non_diff = {id(t) for t in ctx._non_differentiable}
    returned = {id(o) for o in raws}
    if any(d not in returned for d in dirty):
        raise RuntimeError("Some elements marked as dirty during the forward method were not returned as output. "
                           "The inputs that are modified inplace must all be outputs of the Function.")
    outs, meta, as_output = [], [], {}
    for i, o in enumerate(raws):
        if not isinstance(o, Tensor):
            outs.append(o)
            meta.append(None)
            continue
        meta.append((tuple(o._data.shape), o.dtype, o.device))
        differentiable = id(o) not in non_diff and o._data.dtype.kind == "f"
        if id(o) in dirty:
            if id(o) not in in_ids:
                raise RuntimeError("mark_dirty only accepts input tensors, but one of the tensors marked dirty "
                                   "isn't an input")
            _rebase_dirty(ctx, o, i, differentiable)
            new = o
        elif id(o) in in_ids or o._base is not None:
            new = Tensor._make(o._data, False, None, 0, o._vc)  # an alias: never rewrite the input itself
        else:
            new = o
        if differentiable and id(o) not in dirty:
            new._requires_grad, new._grad_fn, new._output_nr = True, ctx, i
        if differentiable:
            as_output[id(o)] = i
        outs.append(new)
    ctx._out_meta = tuple(meta)
    saved = []
    for t in ctx._to_save:
        if t is None:
            saved.append(None)
        elif id(t) in as_output and (id(t) not in in_ids or id(t) in dirty):
            k = as_output[id(t)]
            saved.append(save_tensor(outs[k], k))  # no node -> tensor -> node cycle
        else:
            saved.append(save_tensor(t))
    ctx._saved = saved
    ctx._to_save = ()
    return outs[0] if single else tuple(outs)


def _rebase_dirty(ctx, t, i, differentiable):
    """t was modified in place by forward: its history now goes through ctx (CopySlices for a view)."""
    t._bump_version()  # as PyTorch: a dirty tensor's version moves on once more
    if t._base is None and t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
    if not differentiable:
        return
    if t._base is None:
        t._requires_grad, t._grad_fn, t._output_nr = True, ctx, i
        return
    _check_inplace_allowed(t)
    src = Tensor._make(t._data, True, ctx, i, t._vc)
    with grad_mode.enable_grad():
        _copy_slices(t, src)


class DelayedError(Node):
    """Stands behind the grads of a once_differentiable backward: reaching it in a backward is an error."""

    def __init__(self, msg, n):
        super().__init__()
        self.msg = msg
        self.next_functions = ()
        self.num_outputs = n

    def apply(self, grads):
        raise RuntimeError(self.msg)


_Error = type("Error", (DelayedError,), {})  # PyTorch's node type name


def once_differentiable(fn):
    """Decorate a backward that is not itself differentiable: it runs under no_grad and a double backward
    through it raises an error."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.is_grad_enabled():
            return outputs
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        err = _Error("trying to differentiate twice a function that was marked with @once_differentiable",
                            len(outs))
        outs = tuple(Tensor._make(o._data, True, err, i, o._vc) if isinstance(o, Tensor) and o.is_floating_point()
                     else o for i, o in enumerate(outs))
        return outs[0] if single else outs
    return wrapper

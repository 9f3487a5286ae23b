"""A derivative declared once: one formula over an array namespace, run as one CUDA kernel on the GPU.

    atan = unary("atan", lambda xp, x: xp.arctan(x), kernel_grad("atan_bwd", lambda xp, g, x: g / (x * x + 1)),
                 save=(0,))

The formula ``formula(xp, g, *saved, **scalars)`` is written once and serves three ways:

* xp = numpy: the CPU backward (and the reference the kernel is tested against);
* xp = cupy: the GPU backward for dtypes without a kernel (float16);
* xp = TENSOR_XP (the same names over tensors): the differentiable composite, so create_graph works.

On cupy float32/float64 arrays the kernel of the same name in ``kernels/*.cu`` runs instead; its signature
says which arguments are arrays and which scalars (see autograd_gpu/_kernels.py). Inputs broadcast in the
launcher, and the node's gradients are summed back to each input's shape in one place (core._conform).
"""
import numpy as np

from .. import _kernels
from .._kernels import _IGNORE_ALL, _extobj_contextvar, NUMPY
from ..autograd import grad_mode
from ..tensor import Tensor
from .core import EXPORTS, apply, defop

_NO_PARAMS = {}


class _TensorNamespace:
    """numpy's names over tensors, for the formulas: ``xp.where``, ``xp.exp``, ``xp.sum(x, axis, keepdims)``..."""

    def __getattr__(self, name):
        return EXPORTS[name].fn

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return x.sum(axis, keepdim=keepdims)

    @staticmethod
    def maximum(a, b):
        return EXPORTS["maximum"].fn(*_tensors(a, b))

    @staticmethod
    def minimum(a, b):
        return EXPORTS["minimum"].fn(*_tensors(a, b))

    @staticmethod
    def sign(x):
        # torch's sign, from comparisons: no gradient flows through it (its derivative is zero)
        return (x > 0).to(x.dtype) - (x < 0).to(x.dtype)


def _tensors(a, b):
    """(a, b) with a number made a 0-d tensor of the other's dtype (numpy's maximum takes numbers, torch's not)."""
    ref = a if isinstance(a, Tensor) else b
    return tuple(x if isinstance(x, Tensor) else Tensor._make(ref._xp.asarray(x, dtype=ref._data.dtype))
                 for x in (a, b))


TENSOR_XP = _TensorNamespace()


def _node_name(kernel_name):
    return "".join(p.capitalize() for p in kernel_name.removesuffix("_bwd").split("_")) + "BackwardBackward0"


class kernel_grad:
    """The backward of a row, ``backward(ctx, g)``, as the kernel `name` with reference `formula`.

    `inputs(ctx)`: the arrays after g (default: the row's saved values); `scalars(ctx)`: the kernel's
    scalars by name (and ``dim`` for a row-wise kernel); `node`: the name of the node recorded when the
    backward itself is recorded (create_graph), PyTorch's where it has one."""
    __slots__ = ("kernel", "formula", "inputs", "scalars", "op", "_single", "_n")

    def __init__(self, name, formula, *, inputs=None, scalars=None, node=None):
        self.kernel = _kernels.kernel(name, formula)
        self.formula, self.inputs, self.scalars = formula, inputs, scalars
        self._single = len(self.kernel.outputs) == 1
        self._n = len(self.kernel.inputs) - 1  # the arrays after g
        self.op = defop(name, self._launch, self._backward_of_backward, save=tuple(range(self._n + 1)),
                        node=node or _node_name(name), group="backward", kernel=name, dtype="keep",
                        nout=len(self.kernel.outputs), public=False)

    def _launch(self, xp, *arrays, **params):
        """The forward of the recorded op: the kernel (or, off the GPU, the formula) on arrays."""
        if any(not hasattr(a, "shape") for a in arrays):  # (a Python number among the inputs)
            arrays = [a if hasattr(a, "shape") else xp.asarray(a, dtype=arrays[0].dtype) for a in arrays]
        outs = self.kernel(*arrays, **params)
        return outs[0] if self._single else outs

    def __call__(self, ctx, g):
        params = self.scalars(ctx) if self.scalars is not None else _NO_PARAMS
        if grad_mode._state.enabled:  # create_graph: record the launch, so that it can be differentiated
            return apply(self.op, g, *(self.inputs(ctx) if self.inputs is not None else ctx.saved), **params)
        # NOTE: the common case records nothing: the formula (numpy) or the kernel (cupy) runs on the arrays
        if self.inputs is not None:
            arrays = [t._data if isinstance(t, Tensor) else t for t in self.inputs(ctx)]
        elif self._n == 1:
            arrays = (ctx.saved_array(0),)
        else:
            arrays = [ctx.saved_array(i) for i in range(self._n)]
        gd = g._data
        if type(gd) is np.ndarray:
            if _extobj_contextvar is not None and _extobj_contextvar.get() is _IGNORE_ALL:  # (in a backward pass)
                outs = self.formula(NUMPY, gd, *arrays, **params)
            else:
                with _kernels.quiet():
                    outs = self.formula(NUMPY, gd, *arrays, **params)
            if self._single:
                return Tensor._make(outs if type(outs) is np.ndarray else np.asarray(outs, gd.dtype))
            return tuple(Tensor._make(o if type(o) is np.ndarray else np.asarray(o, gd.dtype)) for o in outs)
        outs = self._launch(_kernels.array_namespace(gd), gd, *arrays, **params)
        return Tensor._make(outs) if self._single else tuple(Tensor._make(o) for o in outs)

    def _backward_of_backward(self, ctx, gg):
        from ..autograd import grad as _grad  # layering: the engine's grad() runs inside a backward formula
        inputs = ctx.saved
        gg = gg if isinstance(gg, (list, tuple)) else [gg]
        with grad_mode.enable_grad():
            # NOTE: differentiate w.r.t. fresh aliases: at third order g itself depends on y, and a grad w.r.t.
            # y itself would add the path through g (a total derivative) to the partial one we need here.
            inputs = [x.view_as(x) if need else x for x, need in zip(inputs, ctx.needs_input_grad)]
            outs = self.formula(TENSOR_XP, *inputs, **ctx.params)
            outs = outs if isinstance(outs, tuple) else (outs,)
            wrt = [x for x, need in zip(inputs, ctx.needs_input_grad) if need]
            pairs = [(o, g) for o, g in zip(outs, gg) if isinstance(o, Tensor) and o.requires_grad and g is not None]
            grads = iter(_grad([o for o, _ in pairs], wrt, [g for _, g in pairs], create_graph=True,
                               allow_unused=True) if pairs and wrt else [None] * len(wrt))
        return tuple(next(grads) if need and isinstance(x, Tensor) else None
                     for x, need in zip(inputs, ctx.needs_input_grad))

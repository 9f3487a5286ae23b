"""Tensor methods and operators: the public functions the op rows export as methods (ops.EXPORTS) with the tensor
first, their in-place `*_` variants, and the operators."""
import numpy as np

from . import _dtype
from .ops import EXPORTS
from .ops import arithmetic, indexing, shape
from .ops.core import apply
from .ops.inplace import COPY, FILL, FILL_TENSOR, ZERO, inplace
from .autograd import grad_mode
from .tensor import SCALAR_TYPE_NAMES, Tensor


def _inplace_of(fn, name):
    def method(self, *args, **kwargs):
        return inplace(self, lambda old: fn(old, *args, **kwargs))
    method.__name__ = method.__qualname__ = name + "_"
    return method


def _inplace_view_of(fn, name):
    def method(self, *args, **kwargs):
        if self.requires_grad and self.grad_fn is None and grad_mode.is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        out = fn(self, *args, **kwargs)
        self._data = out._data
        if out._requires_grad:
            self._requires_grad, self._grad_fn, self._output_nr = True, out._grad_fn, out._output_nr
        if self._base is not None:  # (a view stays a view of its base, one view op further along)
            self._view_chain, self._view_version = out._view_chain, out._view_version
        self._bump_version()
        return self
    method.__name__ = method.__qualname__ = name + "_"
    return method


for _name, _export in EXPORTS.items():
    if _export.method:
        setattr(Tensor, _name, _export.fn)
    if _export.inplace:
        setattr(Tensor, _name + "_", (_inplace_view_of if _export.inplace == "view" else _inplace_of)(_export.fn, _name))
Tensor.index_put_ = indexing.index_put_


def _float_power_(self, exponent):
    if self._data.dtype.name != "float64":
        raise RuntimeError(f"the base given to float_power_ has dtype {SCALAR_TYPE_NAMES[self._data.dtype.name]} but "
                           "the operation's result requires dtype Double")
    return inplace(self, lambda old: arithmetic.float_power(old, exponent))


Tensor.float_power_ = _float_power_


def _where(self, condition, other):
    return arithmetic.where(condition, self, other)


Tensor.where = _where
Tensor.T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))))  # PermuteBackward0, as PyTorch
Tensor.mT = property(lambda self: shape.transpose(self, -2, -1))
Tensor.H = Tensor.T
Tensor.__getitem__ = indexing.getitem
Tensor.__setitem__ = indexing.setitem


# ---- operators --------------------------------------------------------------------------------------
def _rev(fn):
    return lambda self, other: fn(other, self)


Tensor.__add__ = Tensor.__radd__ = arithmetic.add   # PyTorch also records (self, other) for a reflected add
Tensor.__sub__ = arithmetic.sub
Tensor.__rsub__ = lambda self, other: arithmetic.rsub(self, other)
Tensor.__mul__ = Tensor.__rmul__ = arithmetic.mul
Tensor.__truediv__ = arithmetic.div
Tensor.__rtruediv__ = lambda self, other: arithmetic.reciprocal(self) * other
Tensor.__floordiv__ = arithmetic.floor_divide
Tensor.__rfloordiv__ = _rev(arithmetic.floor_divide)
Tensor.__mod__ = arithmetic.remainder
Tensor.__rmod__ = _rev(arithmetic.remainder)
Tensor.__pow__ = arithmetic.pow
Tensor.__rpow__ = _rev(arithmetic.pow)
Tensor.__matmul__ = arithmetic.matmul
Tensor.__rmatmul__ = _rev(arithmetic.matmul)
Tensor.__neg__ = arithmetic.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = arithmetic.abs
for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Tensor, f"__{_op}__", getattr(arithmetic, _op))
for _op in ("and", "or", "xor"):  # (and the reflected __rand__, ...)
    setattr(Tensor, f"__{_op}__", getattr(arithmetic, "bitwise_" + _op))
    setattr(Tensor, f"__r{_op}__", getattr(arithmetic, "bitwise_" + _op))
Tensor.__invert__ = arithmetic.bitwise_not
Tensor.__lshift__ = arithmetic.bitwise_left_shift
Tensor.__rlshift__ = _rev(arithmetic.bitwise_left_shift)
Tensor.__rshift__ = arithmetic.bitwise_right_shift
Tensor.__rrshift__ = _rev(arithmetic.bitwise_right_shift)


# ---- in-place operators ----------------------------------------------------------------------------
for _op, _method in (("iadd", "add_"), ("isub", "sub_"), ("imul", "mul_"), ("itruediv", "div_"), ("ipow", "pow_"),
                    ("imod", "remainder_"), ("ifloordiv", "floor_divide_"), ("ilshift", "bitwise_left_shift_"),
                    ("irshift", "bitwise_right_shift_")):
    setattr(Tensor, f"__{_op}__", getattr(Tensor, _method))


def copy_(self, src, non_blocking=False):
    if isinstance(src, Tensor) and src.device != self.device:
        src = src.to(self.device)
    return inplace(self, lambda old: apply(COPY, old, src), copy_src=src)


def fill_(self, value):
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        return inplace(self, lambda old: apply(FILL_TENSOR, old, value))
    _dtype.check_real(value)
    return inplace(self, lambda old: apply(FILL, old, value=value.item() if isinstance(value, np.generic) else value))


def zero_(self):
    return inplace(self, lambda old: apply(ZERO, old))


Tensor.copy_ = copy_
Tensor.fill_ = fill_
Tensor.zero_ = zero_

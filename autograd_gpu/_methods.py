"""Tensor methods and operators: the public functions the op rows export as methods (ops.EXPORTS) with the tensor
first, their in-place `*_` variants, and the operators."""
import numpy as np

from . import _dtype
from .ops import EXPORTS
from .ops import arithmetic, indexing, shape
from .ops.shape import broadcast_shapes
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
def _mT(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D "
                           "tensor.")
    return shape.transpose(self, -2, -1)


Tensor.mT = property(_mT)
Tensor.H = Tensor.T
Tensor.__getitem__ = indexing.getitem
Tensor.__setitem__ = indexing.setitem


# ---- operators --------------------------------------------------------------------------------------
# An operator takes a tensor or a number; anything else gets NotImplemented, so Python goes on as it does with
# PyTorch's tensors: `t == None` is False, `t + "a"` a TypeError. A numpy array is PyTorch's three ways: `t + a`
# is numpy's result as a tensor, `a / t` too (as reciprocal(t) * a), and `a + t`, `t < a` are TypeErrors.
_NUMBERS = (Tensor, int, float, complex, np.generic)
_REFUSE, _CALL = "refuse", "call"


def _operator(fn, reflected=False, ndarray=_REFUSE):
    def op(self, other):
        t = type(other)
        if t is not Tensor and t is not float and t is not int and not isinstance(other, _NUMBERS):
            if not isinstance(other, np.ndarray):
                return NotImplemented
            if ndarray == _REFUSE:
                raise TypeError("unsupported operand type(s): 'Tensor' and 'numpy.ndarray' (make the array a tensor "
                                "with torch.from_numpy)")
            if ndarray != _CALL:  # (a numpy ufunc: np.asarray refuses a CUDA tensor, as PyTorch's numpy())
                return Tensor._make(np.asarray(ndarray(np.asarray(self), other)))
        return fn(other, self) if reflected else fn(self, other)
    return op


for _name, _fn, _ufunc in (("add", arithmetic.add, np.add), ("mul", arithmetic.mul, np.multiply),
                           ("sub", arithmetic.sub, np.subtract), ("floordiv", arithmetic.floor_divide, np.floor_divide),
                           ("mod", arithmetic.remainder, np.remainder), ("pow", arithmetic.pow, np.power),
                           ("matmul", arithmetic.matmul, np.matmul), ("truediv", arithmetic.div, np.true_divide),
                           ("and", arithmetic.bitwise_and, np.bitwise_and), ("or", arithmetic.bitwise_or, np.bitwise_or),
                           ("xor", arithmetic.bitwise_xor, np.bitwise_xor),
                           ("lshift", arithmetic.bitwise_left_shift, np.left_shift),
                           ("rshift", arithmetic.bitwise_right_shift, np.right_shift)):
    setattr(Tensor, f"__{_name}__", _operator(_fn, ndarray=_ufunc))
    # (PyTorch records (self, other) for a reflected add / mul / and / or / xor: they commute)
    setattr(Tensor, f"__r{_name}__", _operator(_fn, reflected=_name not in ("add", "mul", "and", "or", "xor")))
Tensor.__rsub__ = _operator(lambda self, other: arithmetic.rsub(self, other))
Tensor.__rtruediv__ = _operator(lambda self, other: arithmetic.reciprocal(self) * other, ndarray=_CALL)
Tensor.__eq__ = _operator(arithmetic.eq, ndarray=np.equal)
Tensor.__ne__ = _operator(arithmetic.ne, ndarray=np.not_equal)
for _op in ("lt", "le", "gt", "ge"):
    setattr(Tensor, f"__{_op}__", _operator(getattr(arithmetic, _op)))
Tensor.__neg__ = arithmetic.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = arithmetic.abs
def _invert(self):
    if self._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return arithmetic.bitwise_not(self)


Tensor.__invert__ = _invert


# ---- in-place operators ----------------------------------------------------------------------------
for _op, _method in (("iadd", "add_"), ("isub", "sub_"), ("imul", "mul_"), ("itruediv", "div_"), ("ipow", "pow_"),
                    ("imod", "remainder_"), ("ifloordiv", "floor_divide_"), ("ilshift", "bitwise_left_shift_"),
                    ("irshift", "bitwise_right_shift_")):
    setattr(Tensor, f"__{_op}__", getattr(Tensor, _method))


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not {type(src).__name__}")
    if src.device != self.device:
        src = src.to(self.device)
    if src.shape != self.shape:
        shape = broadcast_shapes(src.shape, self.shape)  # (PyTorch's RuntimeError where they do not broadcast)
        if shape != self.shape:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(shape)}")
    return inplace(self, lambda old: apply(COPY, old, src), copy_src=src)


def fill_(self, value):
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        return inplace(self, lambda old: apply(FILL_TENSOR, old, value))
    value = _dtype.checked_scalar(_dtype.number_arg(value, "fill_", "value"), self.dtype)
    return inplace(self, lambda old: apply(FILL, old, value=value))


def zero_(self):
    return inplace(self, lambda old: apply(ZERO, old))


Tensor.copy_ = copy_
Tensor.fill_ = fill_
Tensor.zero_ = zero_

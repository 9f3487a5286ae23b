"""Tensor methods and operators: thin bindings of the functional ops, plus the in-place `*_` variants."""
from . import _random
from .ops import activation as A
from .ops import arithmetic as M
from .ops import indexing as I
from .ops import reduction as R
from .ops import shape as S
from .ops import unary as U
from .ops.core import apply
from .ops.inplace import COPY, FILL, FILL_TENSOR, ZERO, inplace
from .tensor import Tensor

# methods that are exactly the functional op with the tensor first
_SAME = {
    M: "add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow float_power neg negative "
       "abs absolute reciprocal maximum minimum eq ne lt le gt ge greater greater_equal less less_equal not_equal "
       "logical_and logical_or logical_xor logical_not bitwise_not bitwise_and bitwise_or bitwise_xor equal isclose "
       "allclose mm addmm bmm dot mv matmul",
    U: "exp log log1p expm1 log2 log10 sqrt rsqrt sin cos tan tanh sigmoid relu sign floor ceil trunc frac round "
       "square clamp clip clamp_min clamp_max",
    R: "sum mean prod max min amax amin argmax argmin all any var std logsumexp norm cumsum",
    S: "view view_as reshape reshape_as flatten unflatten unsqueeze squeeze permute transpose swapaxes swapdims t "
       "movedim moveaxis expand expand_as broadcast_to repeat clone contiguous flip fliplr flipud roll split chunk "
       "unbind tensor_split",
    I: "select narrow gather scatter scatter_add index_select masked_fill masked_select nonzero take_along_dim "
       "index_put index_put_",
    A: "softmax log_softmax",
}
for _mod, _names in _SAME.items():
    for _name in _names.split():
        setattr(Tensor, _name, getattr(_mod, _name))


def _where(self, condition, other):
    return M.where(condition, self, other)


Tensor.where = _where
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self.ndim)))))  # PermuteBackward0, as PyTorch
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
Tensor.H = Tensor.T
Tensor.__getitem__ = I.getitem
Tensor.__setitem__ = I.setitem


# ---- operators --------------------------------------------------------------------------------------
def _rev(fn):
    return lambda self, other: fn(other, self)


Tensor.__add__ = Tensor.__radd__ = M.add   # PyTorch also records (self, other) for a reflected add
Tensor.__sub__ = M.sub
Tensor.__rsub__ = lambda self, other: M.rsub(self, other)
Tensor.__mul__ = Tensor.__rmul__ = M.mul
Tensor.__truediv__ = M.div
Tensor.__rtruediv__ = lambda self, other: M.reciprocal(self) * other
Tensor.__floordiv__ = M.floor_divide
Tensor.__rfloordiv__ = _rev(M.floor_divide)
Tensor.__mod__ = M.remainder
Tensor.__rmod__ = _rev(M.remainder)
Tensor.__pow__ = M.pow
Tensor.__rpow__ = _rev(M.pow)
Tensor.__matmul__ = M.matmul
Tensor.__rmatmul__ = _rev(M.matmul)
Tensor.__neg__ = M.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = M.abs
Tensor.__eq__ = M.eq
Tensor.__ne__ = M.ne
Tensor.__lt__ = M.lt
Tensor.__le__ = M.le
Tensor.__gt__ = M.gt
Tensor.__ge__ = M.ge
Tensor.__and__ = Tensor.__rand__ = M.bitwise_and
Tensor.__or__ = Tensor.__ror__ = M.bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = M.bitwise_xor
Tensor.__invert__ = M.bitwise_not
Tensor.__hash__ = lambda self: id(self)


# ---- in-place variants ------------------------------------------------------------------------------
def _inplace_of(fn):
    def method(self, *args, **kwargs):
        return inplace(self, lambda old: fn(old, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    return method


for _name in ("add sub mul div pow neg abs reciprocal exp log log1p expm1 sqrt rsqrt sin cos tanh sigmoid relu "
              "sign floor ceil trunc round clamp clip clamp_min clamp_max masked_fill maximum minimum remainder "
              "fmod floor_divide scatter scatter_add square").split():
    setattr(Tensor, _name + "_", _inplace_of(getattr(Tensor, _name)))
Tensor.subtract_ = Tensor.sub_
Tensor.multiply_ = Tensor.mul_
Tensor.divide_ = Tensor.div_
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_
Tensor.__imod__ = Tensor.remainder_
Tensor.__ifloordiv__ = Tensor.floor_divide_


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
    return inplace(self, lambda old: apply(FILL, old, value=value))


def zero_(self):
    return inplace(self, lambda old: apply(ZERO, old))


def _random_fill(kind):
    def method(self, *args, generator=None):
        dev = self.device
        if kind == "uniform":
            lo, hi = (args + (0.0, 1.0)[len(args):])[:2]
            r = _random.sample("random", self._data.shape, self.dtype, dev, generator) * (hi - lo) + lo
        elif kind == "normal":
            mean, std = (args + (0.0, 1.0)[len(args):])[:2]
            r = _random.sample("normal", self._data.shape, self.dtype, dev, generator) * std + mean
        else:  # random_(from, to)
            lo, hi = (args if len(args) == 2 else (0, args[0]))
            r = _random.sample("integers", self._data.shape, self.dtype, dev, generator, low=lo, high=hi)
        return copy_(self, Tensor._make(r.astype(self._data.dtype, copy=False)))
    return method


Tensor.copy_ = copy_
Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.uniform_ = _random_fill("uniform")
Tensor.normal_ = _random_fill("normal")
Tensor.random_ = _random_fill("random")


def _bernoulli_(self, p=0.5, *, generator=None):
    r = _random.sample("random", self._data.shape, self.dtype if self.is_floating_point() else None or
                       __import__("autograd_gpu")._dtype.float32, self.device, generator)
    return copy_(self, Tensor._make((r < p).astype(self._data.dtype)))


Tensor.bernoulli_ = _bernoulli_

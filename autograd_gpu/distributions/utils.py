"""Helpers shared by the distributions (torch.distributions.utils): broadcasting parameters, probs <-> logits,
lazily computed parameters."""
from functools import update_wrapper
from numbers import Number

import numpy as np

from .. import creation, _dtype
from ..autograd import enable_grad
from ..ops.shape import broadcast_tensors
from ..tensor import Tensor
from ..nn import functional as F

euler_constant = 0.57721566490153286060  # Euler-Mascheroni


def finfo(t):
    """numpy's finfo of a floating tensor's dtype (eps, tiny, min, max)."""
    return np.finfo(t._data.dtype)


def broadcast_all(*values):
    """Broadcast tensors and numbers together: numbers become tensors of the first tensor's dtype and device (the
    default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects implementing "
                         "__torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        ref = next((v for v in values if isinstance(v, Tensor)), None)
        options = {"dtype": _dtype.get_default_dtype()} if ref is None else {"dtype": ref.dtype, "device": ref.device}
        values = [v if isinstance(v, Tensor) else creation.tensor(v, **options) for v in values]
    return tuple(broadcast_tensors(*values))


def _standard_normal(shape, dtype, device):
    return creation.empty(shape, dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim):
    """Sum out the `dim` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return logits.sigmoid()
    return F.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamp to [eps, 1 - eps] (eps of probs' dtype)."""
    eps = float(finfo(probs).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


class lazy_property:
    """A property computed on first access (with grad enabled), then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value

"""softmax and log_softmax: primitives, because their row-wise backward is one kernel launch."""
import numpy as np

from . import backward_kernels as K
from .core import apply, defop
from .reduction import _dims


def _reducers(xp):
    # (numpy's ufunc.reduce directly: np.max / np.sum add ~2 us of argument handling to a small reduction)
    return (np.maximum.reduce, np.add.reduce) if xp is np else (xp.max, xp.sum)


def _softmax_fwd(xp, x, dim):
    # NOTE: subtract the row max so exp cannot overflow (logits of +-1000 stay finite)
    if not x.size:
        return x.copy()
    rmax, rsum = _reducers(xp)
    e = xp.exp(x - rmax(x, axis=dim, keepdims=True))
    return e / rsum(e, axis=dim, keepdims=True)


def _log_softmax_fwd(xp, x, dim):
    if not x.size:
        return x.copy()
    rmax, rsum = _reducers(xp)
    s = x - rmax(x, axis=dim, keepdims=True)
    return s - xp.log(rsum(xp.exp(s), axis=dim, keepdims=True))


SOFTMAX = defop("softmax", _softmax_fwd, lambda ctx, g: apply(K.SOFTMAX_BWD, g, ctx.saved[0], dim=ctx.params["dim"]),
                save=("out",), family="activation", kernel="softmax_bwd", dtype="float")
LOG_SOFTMAX = defop("log_softmax", _log_softmax_fwd,
                    lambda ctx, g: apply(K.LOG_SOFTMAX_BWD, g, ctx.saved[0], dim=ctx.params["dim"]),
                    save=("out",), family="activation", kernel="log_softmax_bwd", dtype="float")


def _softmax_dim(input, dim, name):
    if dim is None:  # PyTorch's legacy implicit dim
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return _dims(dim, input.ndim)[0] if input.ndim else 0


def _check_float(input, name):
    if not input.is_floating_point():
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                  f"'{_LEGACY_NAMES.get(input.dtype.name, input.dtype.name)}'")


_LEGACY_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    _check_float(input, "softmax")
    return apply(SOFTMAX, input, dim=_softmax_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    _check_float(input, "log_softmax")
    return apply(LOG_SOFTMAX, input, dim=_softmax_dim(input, dim, "log_softmax"))

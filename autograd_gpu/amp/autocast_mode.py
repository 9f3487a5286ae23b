"""torch.autocast: regions where listed ops run in a lower precision (float16 / bfloat16) or in float32.

The op lists are PyTorch's (aten/src/ATen/autocast_mode.cpp and .h), for the ops of our table, per device type;
the CPU lists differ from the CUDA ones, as in PyTorch. Each listed op's row gets its policy (`Op.autocast`),
and while a region is open anywhere `ops.core.apply` hands the inputs of such an op to `_cast_inputs` before it
runs: the casts are ordinary `Tensor.to` calls, recorded in the graph (ToCopyBackward0), so float32 parameters
get float32 gradients. The state is thread-local, as PyTorch's.

>>> with torch.autocast("cuda", dtype=torch.float16):
...     y = model(x)            # matrix products and convolutions in float16
...     loss = loss_fn(y, t)    # softmax, reductions and losses in float32
"""
import functools
import threading
import warnings

import numpy as np

from .. import _device, _dtype
from ..ops import core
from ..tensor import Tensor

__all__ = ["autocast", "is_autocast_available"]

# ---- PyTorch's op lists (our op names; PyTorch's are in the comments where they differ) ------------------------
# lower_precision_fp: run in the region's dtype. fp32: run in float32. fp32_set_opt_dtype (softmax, sum, ...)
# is fp32 here too: our row has no dtype argument left to set (the functions cast before they reach it).
# promote: run in the widest floating dtype of the inputs.
_CONV = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
CUDA_OPS = {
    "lower_precision_fp": _CONV + ("addmm", "addmv", "matmul", "matmul_2d_batched", "matmul_squeeze_row", "mm",
                                   "mv", "addbmm", "baddbmm", "bmm", "addr"),
    "fp32": ("acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal",
             "rsqrt", "sinh", "tan", "pow", "pow_scalar", "rpow", "softplus", "nll_loss", "nll_loss2d",
             "binary_cross_entropy_with_logits", "cdist", "dist", "renorm", "logsumexp", "norm",
             "upsample_nearest1d", "upsample_nearest_exact1d", "upsample_nearest2d", "upsample_nearest_exact2d",
             "upsample_nearest3d", "upsample_nearest_exact3d", "upsample_linear1d", "upsample_bilinear2d",
             "upsample_trilinear3d", "upsample_bicubic2d",
             # fp32_set_opt_dtype
             "prod", "prod_dim", "softmax", "log_softmax", "cumprod", "cumsum", "sum", "sum_dim"),
    "promote": ("addcdiv", "addcmul", "atan2", "cross", "dot", "vdot", "index_put", "scatter_add"),
}
CPU_OPS = {
    "lower_precision_fp": _CONV + ("bmm", "mm", "baddbmm", "addmm", "addbmm", "matmul", "matmul_2d_batched",
                                   "matmul_squeeze_row"),
    "fp32": ("avg_pool3d", "binary_cross_entropy", "prod", "prod_dim", "cdist", "trace", "cholesky", "max_pool3d",
             "max_unpool2d", "adaptive_avg_pool3d", "nll_loss", "nll_loss2d", "binary_cross_entropy_with_logits",
             "linalg_solve", "linalg_cholesky", "linalg_svdvals", "linalg_eigvalsh", "linalg_inv", "linalg_qr",
             "linalg_svd", "linalg_eigh", "linalg_lstsq"),
    "promote": ("stack", "cat", "index_copy"),
}
# NOTE: PyTorch refuses binary_cross_entropy under CUDA autocast (float16 would overflow its log): so do we
_BANNED = {"cuda": {"binary_cross_entropy": (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")}}


def _flag_rows():
    for device_type, lists in (("cuda", CUDA_OPS), ("cpu", CPU_OPS)):
        for policy, names in lists.items():
            for name in names:
                op = core.OP_TABLE[name]
                op.autocast = {**(op.autocast or {}), device_type: policy}
        for name in _BANNED.get(device_type, ()):
            op = core.OP_TABLE[name]
            op.autocast = {**(op.autocast or {}), device_type: "banned"}


_flag_rows()

# ---- the thread-local state ----------------------------------------------------------------------------------
_DEVICE_TYPES = ("cpu", "cuda")
_SUPPORTED = {"cpu": (_dtype.bfloat16, _dtype.float16), "cuda": (_dtype.float16, _dtype.bfloat16)}


class _State(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}  # id(float32 leaf parameter) -> (it, its cast): PyTorch's autocast cache


_state = _State()
_open = [0]  # regions open in all threads: while nonzero, ops.core.apply calls _cast_inputs for listed ops
_open_lock = threading.Lock()


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    t = _device.device(device_type).type  # (raises PyTorch's RuntimeError for an unknown type)
    if t not in _DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return t


def is_autocast_available(device_type):
    """Whether autocast can run for `device_type` ('cpu' or 'cuda')."""
    return _device.device(device_type).type in _DEVICE_TYPES


def is_autocast_enabled(device_type="cuda"):
    return _state.enabled[_check_device_type(device_type)]


def set_autocast_enabled(device_type, enabled):
    _state.enabled[_check_device_type(device_type)] = bool(enabled)


def get_autocast_dtype(device_type):
    return _state.dtype[_check_device_type(device_type)]


def set_autocast_dtype(device_type, dtype):
    _state.dtype[_check_device_type(device_type)] = dtype


def is_autocast_cache_enabled():
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled):
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache():
    _state.cache.clear()


class autocast:
    """autocast(device_type, dtype=None, enabled=True, cache_enabled=None): a context manager (or decorator) for a
    region where PyTorch's listed ops run in `dtype` (default: float16 on cuda, bfloat16 on cpu) or in float32.
    Regions nest; ``enabled=False`` turns autocast off inside one. Run backward outside the region."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self.device = _check_device_type(device_type)
        self.fast_dtype = _state.dtype[self.device] if dtype is None else dtype
        self._enabled = enabled
        self._cache_enabled = _state.cache_enabled if cache_enabled is None else cache_enabled
        if self.fast_dtype not in _SUPPORTED[self.device]:
            names = ", ".join(repr(d) for d in _SUPPORTED[self.device])
            warnings.warn(f"In {self.device.upper()} autocast, but the target dtype is not supported. Disabling "
                          f"autocast.\n{self.device.upper()} Autocast only supports dtypes of {names} currently.",
                          stacklevel=2)
            self._enabled = False

    def __enter__(self):
        s = _state
        self._prev = (s.enabled[self.device], s.dtype[self.device], s.cache_enabled)
        s.enabled[self.device] = self._enabled
        s.dtype[self.device] = self.fast_dtype
        s.cache_enabled = self._cache_enabled
        s.nesting += 1
        with _open_lock:
            _open[0] += 1
            core.autocast_hook = _cast_inputs
        return self

    def __exit__(self, *exc):
        s = _state
        s.nesting -= 1
        if s.nesting == 0:  # (leaving the outermost region: the cached casts go, as in PyTorch)
            s.cache.clear()
        s.enabled[self.device], s.dtype[self.device], s.cache_enabled = self._prev
        with _open_lock:
            _open[0] -= 1
            if _open[0] == 0:
                core.autocast_hook = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return fn(*args, **kwargs)
        return wrapper


# ---- the casts -----------------------------------------------------------------------------------------------
def _eligible(x, device_type):
    """A floating tensor on the device type (not float64: PyTorch leaves double alone)."""
    if type(x) is not Tensor and not isinstance(x, Tensor):
        return False
    d = x._data
    return _dtype.is_floating(d.dtype) and d.dtype != _F64 and (device_type == "cpu") == (type(d) is _NP_ARRAY)


def _cast(x, to, device_type):
    """x cast to dtype `to` for a listed op (PyTorch's cached_cast): float32 leaves that need a gradient are cast
    once per region to the lower precision."""
    if not _eligible(x, device_type) or x._data.dtype == to.np:
        return x
    s = _state
    if (to is s.dtype[device_type] and s.cache_enabled and x._data.dtype == _F32 and x.is_leaf
            and x._requires_grad and x._base is None):
        hit = s.cache.get(id(x))
        if hit is not None and hit[0] is x:
            return hit[1]
        out = x.to(to)
        s.cache[id(x)] = (x, out)  # (holding x keeps its id from being reused while cached)
        return out
    return x.to(to)


def _cast_inputs(op, inputs):
    """The tuple of inputs of listed op `op` cast by its policy for the device type of its first tensor input,
    when that device type's autocast is enabled in this thread (ops.core.apply's hook)."""
    first = next((x for x in inputs if isinstance(x, Tensor)), None)
    if first is None:
        return inputs
    device_type = "cpu" if type(first._data) is _NP_ARRAY else "cuda"
    s = _state
    if not s.enabled[device_type]:
        return inputs
    policy = op.autocast.get(device_type)
    if policy is None:
        return inputs
    if policy == "banned":
        raise RuntimeError(_BANNED[device_type][op.name])
    if policy == "lower_precision_fp":
        to = s.dtype[device_type]
    elif policy == "fp32" or any(_eligible(x, device_type) and x._data.dtype == _F32 for x in inputs):
        to = _dtype.float32  # (promote: float32 when an eligible input is float32, else the lower precision)
    else:
        to = s.dtype[device_type]
    return tuple(_cast(x, to, device_type) for x in inputs)


_NP_ARRAY = np.ndarray
_F32 = _dtype.float32.np
_F64 = _dtype.float64.np

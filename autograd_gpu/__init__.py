"""autograd_gpu: PyTorch's autograd on numpy (CPU) and CuPy (NVIDIA GPUs).

>>> import autograd_gpu as torch
>>> x = torch.tensor([1., 2.], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4.])
"""
from . import _dtype
from ._dtype import (bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8,  # noqa: F401,A004
                     int16, int32, int64, long, promote_types, set_default_dtype, short, uint8)
from ._dtype import bfloat16  # noqa: F401
from ._dtype import dtype, finfo, iinfo  # noqa: F401
from ._device import device, get_default_device, set_default_device  # noqa: F401
from ._random import Generator, initial_seed, manual_seed, seed  # noqa: F401
from ._tensor_str import get_printoptions, set_printoptions  # noqa: F401
from .size import Size  # noqa: F401
from ._threads import get_num_threads, set_num_threads  # noqa: F401
from ._flags import (are_deterministic_algorithms_enabled, get_float32_matmul_precision,  # noqa: F401
                     is_deterministic_algorithms_warn_only_enabled, set_float32_matmul_precision,
                     use_deterministic_algorithms)
from .tensor import Tensor  # noqa: F401
from . import _methods  # noqa: F401  (binds the Tensor methods)
from . import autograd, cuda  # noqa: F401
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .autograd.grad_mode import is_inference_mode_enabled  # noqa: F401
from .creation import (arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack, from_numpy,  # noqa: F401
                       full, full_like, linspace, logspace, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .ops import EXPORTS as _EXPORTS, PUBLIC_OPS  # noqa: F401
from .serialization import load, save  # noqa: F401
from . import utils  # noqa: F401
from . import viz  # noqa: F401
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from . import linalg  # noqa: F401
from . import distributions  # noqa: F401
from . import amp  # noqa: F401
from .amp.autocast_mode import (autocast, clear_autocast_cache, get_autocast_dtype,  # noqa: F401
                                is_autocast_cache_enabled, is_autocast_enabled, set_autocast_cache_enabled,
                                set_autocast_dtype, set_autocast_enabled)

# the op table's public functions: abs, add, ..., where (each row's module declares them with ops.core.export)
globals().update({_name: _export.fn for _name, _export in _EXPORTS.items() if _export.function})
# torch's top-level spellings of nn.functional ops and in-place methods: conv2d, dropout, relu_, abs_, ...
from ._toplevel import EXPORTS as _TOPLEVEL  # noqa: E402
globals().update(_TOPLEVEL)

__version__ = "0.1.0"

dtype = _dtype.dtype
is_tensor = lambda obj: isinstance(obj, Tensor)  # noqa: E731


def numel(input):
    return input.numel()


def _tensor_query(name):
    def query(input, *args):
        for pos, (arg, value) in enumerate(zip(("input", "other"), (input, *args)), 1):
            if not isinstance(value, Tensor):
                raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(value).__name__}")
        return getattr(input, name)(*args)
    query.__name__ = query.__qualname__ = name
    return query


is_floating_point, is_complex, is_signed, is_nonzero, is_same_size = map(
    _tensor_query, ("is_floating_point", "is_complex", "is_signed", "is_nonzero", "is_same_size"))



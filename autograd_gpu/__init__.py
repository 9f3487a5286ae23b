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
from ._dtype import dtype  # noqa: F401
from ._device import device, get_default_device, set_default_device  # noqa: F401
from ._random import Generator, initial_seed, manual_seed, seed  # noqa: F401
from ._tensor_str import get_printoptions, set_printoptions  # noqa: F401
from .size import Size  # noqa: F401
from ._threads import get_num_threads, set_num_threads  # noqa: F401
from .tensor import Tensor  # noqa: F401
from . import _methods  # noqa: F401  (binds the Tensor methods)
from . import autograd, cuda  # noqa: F401
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .creation import (arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack, from_numpy,  # noqa: F401
                       full, full_like, linspace, logspace, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like)
from .ops import PUBLIC_OPS  # noqa: F401
from .ops.activation import log_softmax, softmax  # noqa: F401
from .ops.arithmetic import (abs, absolute, add, addmm, allclose, bitwise_and, bitwise_not, bitwise_or,  # noqa: F401,A004
                             bitwise_xor, bmm, div, divide, dot, eq, equal, float_power, floor_divide, fmod, ge,
                             greater, greater_equal, gt, isclose, le, less, less_equal, logical_and, logical_not,
                             logical_or, logical_xor, lt, matmul, maximum, minimum, mm, mul, multiply, mv, ne, neg,
                             negative, not_equal, pow, reciprocal, remainder, rsub, sub, subtract, true_divide, where)
from .ops.indexing import (gather, index_put, index_select, masked_fill, masked_select, narrow,  # noqa: F401
                           nonzero, scatter, scatter_add, select, take_along_dim)
from .ops.reduction import (all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max, mean, min,  # noqa: F401,A004
                            norm, prod, std, sum, var)
from .ops.shape import (broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, clone, concat,  # noqa: F401
                        concatenate, flatten, flip, fliplr, flipud, hstack, movedim, moveaxis, permute, reshape,
                        roll, split, squeeze, stack, swapaxes, swapdims, t, tensor_split, transpose, unbind,
                        unflatten, unsqueeze, vstack)
from .serialization import load, save  # noqa: F401
from . import utils  # noqa: F401
from . import viz  # noqa: F401
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from .ops.unary import (ceil, clamp, clamp_max, clamp_min, clip, cos, exp, expm1, floor, frac, log,  # noqa: F401
                        log1p, log2, log10, relu, round, rsqrt, sigmoid, sign, sin, sqrt, square, tan, tanh, trunc)

__version__ = "0.1.0"

dtype = _dtype.dtype
is_tensor = lambda obj: isinstance(obj, Tensor)  # noqa: E731


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()



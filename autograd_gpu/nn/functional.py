"""torch.nn.functional: layers and losses as functions. Composites are written from primitives (the op
table); fused primitives live in ops/nn_ops.py. Nothing here reads GPU values back to the host, except
where PyTorch does too (one_hot with num_classes=-1) or on the CPU path for PyTorch's input checks."""
import math
import warnings

import numpy as np

from .. import _device, _dtype, _random, creation
from ..autograd import grad_mode
from ..ops import activation as _act, nn_ops
from ..ops.activation import log_softmax as _log_softmax, softmax as _softmax
from ..ops.arithmetic import addmm as _addmm, where
from ..ops.core import apply, autocast_inputs
from ..ops.indexing import INDEX_SELECT, index_arg
from ..ops.reduction import _dim
from ..ops.inplace import inplace as _inplace
from ..ops.shape import broadcast_shapes as _broadcast_shapes
from ..ops.unary import sigmoid as _sigmoid, tanh as _tanh
from ..tensor import Tensor
from ._conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,  # noqa: F401
                    adaptive_max_pool2d, avg_pool1d, avg_pool2d, avg_pool3d, conv1d, conv2d, conv3d, conv_transpose1d,
                    conv_transpose2d, conv_transpose3d, fold, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d,
                    max_pool2d, max_pool3d, max_unpool1d, max_unpool2d, unfold)
from ._conv import _adaptive_size, _pool_tuple, _unpool_output_size
from ._attention import scaled_dot_product_attention  # noqa: F401
from ._attention import multi_head_attention_forward  # noqa: F401
from ._sampling import (affine_grid, grid_sample, interpolate, pixel_shuffle, pixel_unshuffle, upsample,  # noqa: F401
                        upsample_bilinear, upsample_nearest)
from ..tensor import _legacy_type_name


# ---- linear -----------------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """y = input @ weight.T + bias"""
    # the graphs PyTorch records: 2-D with a bias one addmm (AddmmBackward0); other contiguous inputs with a
    # bias of one row flattened to 2-D around it (ViewBackward0s); otherwise matmul, then the bias added
    if bias is not None:
        if input.ndim == 2:
            return _addmm(bias, input, weight.t())
        if bias.ndim and bias.numel() == bias.shape[-1] and input.is_contiguous():
            out = _addmm(bias, input.reshape(-1, input.shape[-1]), weight.t())
            return out.view(*input.shape[:-1], out.shape[-1])
    out = input.mm(weight.t()) if input.ndim == 2 else input.matmul(weight.t())
    if bias is None:
        return out
    shape = _broadcast_shapes(out.shape, bias.shape)
    if shape != out.shape:  # (PyTorch adds the bias in place: it may not grow the output)
        raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast shape {list(shape)}")
    return out + bias


def bilinear(input1, input2, weight, bias=None):
    # y_k = x1^T W_k x2 + b_k
    out = (input1.unsqueeze(-2).unsqueeze(-2) @ weight @ input2.unsqueeze(-2).unsqueeze(-1)).squeeze(-1).squeeze(-1)
    return out + bias if bias is not None else out


# ---- activations --------------------------------------------------------------------------------------
def _maybe_inplace(input, fn, inplace):
    """fn(input), written into input's memory when `inplace` (computed from a copy: fn's backward may need
    the input values the write replaces)."""
    if not inplace:
        return fn(input)
    src = input.clone() if input.requires_grad and grad_mode.is_grad_enabled() else input
    return input.copy_(fn(src))


def relu(input, inplace=False):
    return input.relu_() if inplace else input.relu()  # (the row refuses bool: torch.relu does too)


def _activation(op, input, inplace, name, **params):
    """The row `op` on input (written into it when `inplace`, as PyTorch's `name_`)."""
    _check_float(input, f"{name}_cpu")
    if inplace:
        return _inplace(input, lambda x: apply(op, x, **params))
    return apply(op, input, **params)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _activation(_act.HARDTANH, input, inplace, "hardtanh", min_val=float(min_val), max_val=float(max_val))


def threshold(input, threshold, value, inplace=False):
    return _activation(_act.THRESHOLD, input, inplace, "threshold", threshold=float(threshold), value=float(value))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check_float(input, "leaky_relu_cpu")
    return _maybe_inplace(input, lambda x: where(x > 0, x, x * negative_slope), inplace)


def elu(input, alpha=1.0, inplace=False):
    return _activation(_act.ELU, input, inplace, "elu", alpha=float(alpha), scale=1.0, input_scale=1.0)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _activation(_act.CELU, input, inplace, "elu", alpha=float(alpha), scale=1.0, input_scale=1.0 / alpha)


def selu(input, inplace=False):
    return _activation(_act.ELU, input, inplace, "elu", alpha=1.6732632423543772848170429916717,
                       scale=1.0507009873554804934193349852946, input_scale=1.0)


def _check_float(input, name):
    if not input.is_floating_point():
        raise _dtype.not_implemented(name, input.dtype)


def softshrink(input, lambd=0.5):
    _check_float(input, "softshrink_check")
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, 3.40282e+38] for input dtype Float, but found {lambd}")
    return apply(_act.SOFTSHRINK, input, lambd=float(lambd))


def hardshrink(input, lambd=0.5):
    _check_float(input, "hardshrink_cpu")  # (a negative lambd is allowed: every element passes)
    return apply(_act.HARDSHRINK, input, lambd=float(lambd))


def glu(input, dim=-1):
    """a * sigmoid(b), a and b the two halves of input along dim."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    _check_float(input, "glu_cpu")
    d = _dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    return apply(_act.GLU, input, dim=d)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float(input, "GeluKernelImpl")
    return apply(nn_ops.GELU, input, approximate=approximate)


def silu(input, inplace=False):
    return _maybe_inplace(input, lambda x: x * x.sigmoid(), inplace)


def mish(input, inplace=False):
    return _activation(_act.MISH, input, inplace, "mish")


def softplus(input, beta=1.0, threshold=20.0):
    return apply(nn_ops.SOFTPLUS, input, beta=beta, threshold=threshold)


def logsigmoid(input):
    _check_float(input, "log_sigmoid_cpu")
    return apply(_act.LOG_SIGMOID, input)


def hardsigmoid(input, inplace=False):
    return _activation(_act.HARDSIGMOID, input, inplace, "hardsigmoid")


def hardswish(input, inplace=False):
    return _activation(_act.HARDSWISH, input, inplace, "hardswish")


def sigmoid(input):
    return _sigmoid(input)


def tanh(input):
    return _tanh(input)


def _implicit_dim(name, input, dim, stacklevel):
    """PyTorch's deprecated implicit dim of F.softmax and its kin, with its warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", stacklevel=stacklevel)
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(input, _implicit_dim("softmax", input, dim, _stacklevel), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _log_softmax(input, _implicit_dim("log_softmax", input, dim, _stacklevel), dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(-input, _implicit_dim("softmin", input, dim, _stacklevel), dtype=dtype)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g ~ Gumbel(0, 1) (-log of Exp(1) draws, as PyTorch); hard=True returns
    the one-hot of its argmax, with the soft sample's gradient (straight-through).

    >>> F.gumbel_softmax(torch.randn(2, 5), tau=0.5, hard=True).sum(-1)
    tensor([1., 1.])
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -creation.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)


def _clamp_value(t, eps):
    """t clamped at eps in value only: the gradient passes as if unclamped (PyTorch clamps in place, no_grad)."""
    return t + (t.clamp(min=eps) - t).detach()


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / |x1| * x2 / |x2|) along dim: each divided by its norm first, as PyTorch does (stays in [-1, 1])."""
    shape = _broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = _clamp_value(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamp_value(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


# ---- normalization ------------------------------------------------------------------------------------
def _channel_shape(input):
    return (1, -1) + (1,) * (input.ndim - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize over every dim but 1 (batch statistics when training, else the running ones); training
    also updates the running statistics in place (running_var with the unbiased variance)."""
    if input.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {input.ndim}D input)")
    shape = _channel_shape(input)
    dims = (0,) + tuple(range(2, input.ndim))
    if training:
        n = input.numel() // input.shape[1]
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.size()}")
        mean = input.mean(dims)
        xc = input - mean.reshape(shape)
        var = (xc * xc).mean(dims)
        if running_mean is not None or running_var is not None:
            with grad_mode.no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean * momentum)
                if running_var is not None:
                    running_var.mul_(1 - momentum).add_(var * (momentum * n / (n - 1)))
        out = xc * (var + eps).rsqrt().reshape(shape)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        out = (input - running_mean.reshape(shape)) * (running_var + eps).rsqrt().reshape(shape)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last len(normalized_shape) dims."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{input.size()}")
    dims = tuple(range(input.ndim - k, input.ndim))
    mean = input.mean(dims, keepdim=True)
    xc = input - mean
    var = (xc * xc).mean(dims, keepdim=True)
    out = xc * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """input * rsqrt(mean(input ** 2 over the last len(normalized_shape) dims) + eps), times weight; computed in
    float32 for float16 / bfloat16 input and cast back, as PyTorch's composite. eps None: the machine epsilon of
    that computation dtype (float32's, or float64's for float64 input).

    >>> F.rms_norm(torch.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError("rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    for pos, n in enumerate(normalized_shape):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError("rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, but found "
                            f"element of type {type(n).__name__} at pos {pos}")
    shape = [int(n) for n in normalized_shape]
    k = len(shape)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if weight is not None and list(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {shape}")
    if input.ndim < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {input.ndim}")
    if list(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape [*{', '.join(map(str, shape))}"
                           f"], but got input of size{list(input.shape)}")
    if not input.is_floating_point():
        raise _dtype.not_implemented("rms_norm", input.dtype)
    opmath = _dtype.float64 if input.dtype == _dtype.float64 else _dtype.float32
    if eps is None:
        eps = float(np.finfo(opmath.np).eps)
    x = input.to(opmath)
    out = x * x.pow(2).mean(tuple(range(input.ndim - k, input.ndim)), keepdim=True).add(eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out.to(input.dtype)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each sample over groups of num_channels / num_groups channels (and all spatial dims)."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(input.shape)} and num_groups={num_groups}")
    x = input.reshape(n, num_groups, -1)
    mean = x.mean(-1, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(-1, keepdim=True)
    out = (xc * (var + eps).rsqrt()).reshape(input.shape)
    shape = _channel_shape(input)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalize each (sample, channel) over its spatial dims, as PyTorch runs it: batch_norm of the input viewed
    as (1, N * C, ...); the running statistics (when given) get the mean over the batch of the update."""
    if use_input_stats and math.prod(input.shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()}")
    n, c = input.shape[:2]
    shape = _channel_shape(input)
    rm = running_mean.repeat(n) if running_mean is not None else None
    rv = running_var.repeat(n) if running_var is not None else None
    out = batch_norm(input.reshape(1, n * c, *input.shape[2:]), rm, rv, None, None, use_input_stats, momentum,
                     eps).reshape(input.shape)
    if use_input_stats:
        with grad_mode.no_grad():
            if running_mean is not None:
                running_mean.copy_(rm.reshape(n, c).mean(0))
            if running_var is not None:
                running_var.copy_(rv.reshape(n, c).mean(0))
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# ---- dropout ------------------------------------------------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, shape, p):
    """A {0, 1/(1-p)} tensor of `shape`: keep each element with probability 1 - p."""
    u = _random.sample("random", tuple(shape), input.dtype, input.device)
    xp = input._xp
    scale = input._data.dtype.type(1.0 / (1.0 - p))
    with _device.on(input.device):
        return Tensor._make(xp.where(u < 1.0 - p, scale, input._data.dtype.type(0)))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    mask = _keep_mask(input, input.shape, p)
    return input.mul_(mask) if inplace else input * mask


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (dim 1 of an N, C, H, W input, dim 0 of C, H, W) with probability p."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    lead = 2 if input.ndim == 4 else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    mask = _keep_mask(input, shape, p)
    return input.mul_(mask) if inplace else input * mask


# ---- embedding / one_hot / pad --------------------------------------------------------------------------
def _check_indices(indices, name):
    index_arg(name, indices, "input", 1)
    if indices._data.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {_legacy_type_name(indices)} instead (while checking "
                           f"arguments for {name})")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of `weight` picked by the integer tensor `input`; the padding_idx row gets no gradient."""
    _check_indices(input, "embedding")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if sparse or scale_grad_by_freq:
        raise NotImplementedError("embedding: sparse gradients and scale_grad_by_freq are not supported")
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % num
    idx = input._data
    _device.check_index_range(idx, 0, num, IndexError, "index out of range in self", "embedding")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return apply(nn_ops.EMBEDDING, weight, indices=input.long() if idx.dtype != np.int64 else input,
                 padding_idx=padding_idx)


def _embedding_renorm_(weight, input, max_norm, norm_type):
    with grad_mode.no_grad():
        rows = Tensor._make(weight._xp.unique(input._data.reshape(-1)))
        picked = weight[rows]
        norms = picked.norm(norm_type, 1, keepdim=True)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows] = picked * scale


def one_hot(tensor, num_classes=-1):
    index_arg("one_hot", tensor, "input", 1)
    if tensor._data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        num_classes = int(tensor.max().item()) + 1 if tensor.numel() else 0  # NOTE: syncs, as PyTorch does
    data = tensor._data
    if type(data) is not np.ndarray:
        _device.check_index_range(data, 0, num_classes, RuntimeError,
                                  "Class values must be non-negative and smaller than num_classes.", "one_hot")
    elif data.size and (data.min() < 0 or data.max() >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes." if data.min() >= 0
                           else "Class values must be non-negative.")
    xp = tensor._xp
    return Tensor._make((data[..., None] == xp.arange(num_classes)).astype(np.int64))


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_index(n, lo, hi, mode, xp):
    """Source positions (along one dim of size n) of the padded positions -lo .. n + hi - 1."""
    pos = np.arange(-lo, n + hi)
    if mode == "circular":  # a negative pad crops first; the positive pads then wrap around what is left
        start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        pos = np.arange(-max(lo, 0), kept + max(hi, 0)) % kept + start
    elif mode == "reflect":
        period = 2 * (n - 1)
        pos = np.abs(pos) % period if period else np.zeros_like(pos)
        pos = np.where(pos >= n, period - pos, pos)
    elif mode == "replicate":
        pos = np.clip(pos, 0, n - 1)
    return Tensor._make(xp.asarray(pos.astype(np.int64)))


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: pad = (last_lo, last_hi, second_last_lo, ...), as PyTorch orders it."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but "
                           f"got padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = [(input.ndim - 1 - i, pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    if mode == "constant":
        out = input
        for d, lo, hi in pairs:  # negative padding crops
            if lo < 0 or hi < 0:
                out = out.narrow(d, max(-lo, 0), out.shape[d] - max(-lo, 0) - max(-hi, 0))
        widths = [(0, 0)] * input.ndim
        for d, lo, hi in pairs:
            widths[d] = (max(lo, 0), max(hi, 0))
        if any(w != (0, 0) for w in widths):
            out = apply(nn_ops.PAD_CONSTANT, out, widths=tuple(widths), value=0.0 if value is None else value)
        return out
    if value is not None and value != 0:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    out = input
    for d, lo, hi in pairs:
        n = out.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n or max(lo, hi) > n - max(-lo, 0) - max(-hi, 0)):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        out = apply(INDEX_SELECT, out, dim=d, index=_pad_index(n, lo, hi, mode, out._xp))
    return out


# ---- losses -------------------------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else "sum" if reduce else "none"


def _reduction(reduction, size_average, reduce):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_size(input, target, stacklevel=3):
    if target.size() != input.size():
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                      f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=stacklevel)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    # NOTE: the quadratic branch squares d clamped to beta: squaring an infinite d there would send 0 * inf = NaN
    # back through the branch where() does not select (PyTorch gives the clipped slope)
    q = d.clamp(max=beta)
    loss = d if beta == 0 else where(d < beta, q * q * (0.5 / beta), d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    reduction = _reduction(reduction, None, None)
    _warn_size(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = (input - target).abs()
    q = d.clamp(max=delta)  # (as in smooth_l1_loss: no NaN gradient from an infinite d)
    loss = where(d < delta, q * q * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _class_dim(input):
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    return 0 if input.ndim == 1 else 1


def _check_target(input, target):
    """PyTorch's checks of class-index targets, with its messages; the target to use (a 1-D input's
    one-element target as 0-d, as PyTorch takes it)."""
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.name.capitalize()}")
    shape, tshape = input._data.shape, target._data.shape
    if len(shape) <= 2 and len(tshape) > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if len(shape) == 1 and len(tshape) == 1:
        if tshape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {tshape[0]}")
        return target.reshape(())
    if len(shape) >= 2 and shape[0] != (tshape[0] if tshape else 0):
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({tshape[0] if tshape else 0}).")
    expect = shape[:1] + shape[2:] if len(shape) >= 2 else ()
    if tshape != expect:
        raise RuntimeError(f"Expected target size {list(expect)}, got {list(tshape)}")
    return target


def _check_classes(data, n_classes, ignore_index):
    """PyTorch's bounds check of class indices (on the GPU deferred to the next synchronising call)."""
    if type(data) is not np.ndarray:
        with data.device:
            safe = data * (data != ignore_index)  # ignored positions count as class 0
        _device.check_index_range(safe, 0, n_classes, IndexError, "Target is out of bounds.", "nll_loss")
    elif data.size:
        lo, hi = data.min(), data.max()  # (two reductions; the exact test only when one is out of range)
        if lo < 0 or hi >= n_classes:
            bad = (data != ignore_index) & ((data < 0) | (data >= n_classes))
            if bad.any():
                raise IndexError(f"Target {int(data[bad].flat[0])} is out of bounds.")


def _nll(logp, target, weight, ignore_index, reduction):
    """nll_loss of log-probabilities: one NllLossBackward0 node, as in PyTorch."""
    cdim = _class_dim(logp)
    _device.check_same_device([t._data for t in (logp, target, weight) if t is not None])
    target = _check_target(logp, target)
    _check_classes(target._data, logp._data.shape[cdim], ignore_index)
    n_classes = logp._data.shape[cdim]
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    if weight is not None and weight.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'nll_loss_forward' is not differentiable with respect to argument "
                           "'weight'. This input cannot have requires_grad True.")
    if logp.ndim <= 2:
        return apply(nn_ops.NLL_LOSS, logp, target=target, weight=weight, cdim=cdim, ignore_index=ignore_index,
                     reduction=reduction)
    # NOTE: as PyTorch: (N, C, d1, ...) other than 4-d runs as (N, C, 1, d1 * ...), the result viewed back
    n, c = logp.shape[:2]
    four_d = logp.ndim == 4
    out = apply(nn_ops.NLL_LOSS2D, logp if four_d else logp.reshape(n, c, 1, -1),
                target=target if four_d else target.reshape(n, 1, -1), weight=weight, cdim=1,
                ignore_index=ignore_index, reduction=reduction)
    return out.reshape(target.shape) if reduction == "none" and not four_d else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[n, target[n]] * weight[target[n]], for (C), (N, C) or (N, C, d1, ...) log-probabilities."""
    return _nll(input, target, weight, ignore_index, _reduction(reduction, size_average, reduce))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim (1, or 0 for an unbatched input) then NLL; `target` holds class
    indices (int64) or class probabilities (float, the input's shape)."""
    # (float32 under autocast, at the entry, as PyTorch's cross_entropy_loss: on both lists as nll_loss)
    input, = autocast_inputs(nn_ops.NLL_LOSS, input)
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = _class_dim(input)
    logp = _log_softmax(input, cdim)
    n_classes = input.shape[cdim]
    wshape = [1] * input.ndim
    wshape[cdim] = n_classes
    w_b = weight.reshape(wshape) if weight is not None else None
    if target.is_floating_point():
        if target.shape != input.shape:
            raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        terms = logp * target if w_b is None else logp * target * w_b
        if reduction == "none":
            return -terms.sum(cdim)
        if reduction == "sum":
            return -terms.sum()
        return -terms.sum() / (input.numel() / n_classes) if input.numel() else -terms.sum() * math.nan
    nll = _nll(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0:
        return nll
    target = _check_target(logp, target)  # (checked by _nll; here for a 1-d input's target as 0-d)
    keep = target != ignore_index
    smooth = -(logp if w_b is None else logp * w_b).sum(cdim) * keep
    if reduction == "mean":
        w = keep.to(logp.dtype) if weight is None else weight.detach()[target.masked_fill(~keep, 0)] * keep
        smooth = smooth.sum() / w.sum()
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100 as PyTorch does."""
    reduction = _reduction(reduction, size_average, reduce)
    if target.size() != input.size():
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {_dtype.SCALAR_TYPE_NAMES[target.dtype.name]} but expected "
                           f"{_dtype.SCALAR_TYPE_NAMES[input.dtype.name]}")
    for name, t in (("input", input), ("target", target)):  # NOTE: the CPU checks PyTorch's CPU kernel makes
        x = t._data
        if type(x) is np.ndarray and x.size and not ((x >= 0) & (x <= 1)).all():  # (NaN fails too)
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    loss = apply(nn_ops.BINARY_CROSS_ENTROPY, input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """BCE on sigmoid(input), computed from the logits without overflow for any input."""
    reduction = _reduction(reduction, size_average, reduce)
    if target.size() != input.size():
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    if pos_weight is not None and pos_weight.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'binary_cross_entropy_with_logits' is not differentiable with respect to "
                           "argument 'pos_weight'. This input cannot have requires_grad True.")
    _device.check_same_device([t._data for t in (input, target, weight, pos_weight) if t is not None])
    loss = apply(nn_ops.BINARY_CROSS_ENTROPY_WITH_LOGITS, input, target, pos_weight if pos_weight is not None else 1.0)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input); `input` holds log-probabilities."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # NOTE: 0 log 0 = 0: take the log of 1 where target is 0, so no -inf (nor a nan gradient) appears
        loss = target * (where(target > 0, target, 1.0).log() - input)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)



# ---- margin, embedding and likelihood losses (composites, as PyTorch writes them) --------------------------
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    return (x1 - x2 + eps).norm(p, max(x1.ndim, x2.ndim) - 1, keepdim=keepdim)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    margin_part = where(target != 1, (margin - input).clamp(min=0), 0.0)
    return _reduce(margin_part + where(target != -1, input, 0.0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), as a softplus so it cannot overflow."""
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce(softplus(-target * input, 1.0, math.inf), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        # Stirling's approximation of log(target!), where target > 1
        big = target > 1
        safe = where(big, target, 2.0)
        loss = loss + where(big, safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log(), 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var); var clamped at eps for the value only, as PyTorch does."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        with _device.on(input.device):
            var = Tensor._make(input._xp.full(input._data.shape, float(var), dtype=input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    v = var._data
    if type(v) is np.ndarray and (v < 0).any():  # (the CPU path only: on the GPU this check would sync)
        raise ValueError("var has negative entry/entries")
    var = _clamp_value(var, eps)
    d = input - target
    loss = 0.5 * (var.log() + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if target.ndim not in (0, 1) or input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise RuntimeError(f"cosine_embedding_loss: expected input1 and input2 to have {target.ndim + 1}D "
                           f"tensors for a {target.ndim}D target, got {input1.ndim}D and {input2.ndim}D")
    dim = target.ndim
    eps = 1e-12
    cos = (input1 * input2).sum(dim) / (((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(input.ndim - 1) / input.shape[-1], reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over classes i != target of max(0, margin - x[target] + x[i])^p (* weight[target]) / C."""
    reduction = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if input.ndim > 2 or (input.ndim == 2 and tuple(target.shape) != (input.shape[0],)) or \
            (input.ndim < 2 and target.numel() != 1):
        raise RuntimeError(f"inconsistent target size, expected {input.shape[0] if input.ndim == 2 else 1} but got "
                           f"{list(target.shape)}")
    x = input.reshape(-1, input.shape[-1]) if input.ndim else input.reshape(1, 1)
    t = target.reshape(-1, 1)
    _device.check_index_range(t._data, 0, x.shape[1], RuntimeError, "target out of range", "multi_margin_loss")
    z = (margin - x.gather(1, t) + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t]
    with _device.on(x.device):
        own = Tensor._make(x._xp.arange(x.shape[1]) == t._data)
    loss = where(own, 0.0, z).sum(1) / x.shape[1]
    return _reduce(loss, reduction)  # (a 1-d input's unreduced loss has shape (1,), as in PyTorch)


def pdist(input, p=2.0):
    """||x_i - x_j||_p for each pair of rows i < j of the (N, M) input, in row-major order of (i, j)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = np.triu_indices(input.shape[0], 1)  # (from the shape only: no device value is read)
    with _device.on(input.device):
        i, j = (Tensor._make(input._xp.asarray(a.astype(np.int64))) for a in (i, j))
    return (input.index_select(0, i) - input.index_select(0, j)).norm(p, 1)


def _lse(*xs):
    """log(sum(exp(x))) of same-shape tensors, -inf where all are -inf, without a nan in the gradient there."""
    m = xs[0]
    for x in xs[1:]:
        m = m.maximum(x)
    m = where(m == -math.inf, 0.0, m).detach()
    s = sum((x - m).exp() for x in xs)
    return where(s > 0, m + where(s > 0, s, 1.0).log(), -math.inf)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification: -log of the total probability of the alignments of each target,
    by the forward algorithm in log space over (T, N, C) log-probabilities (or (T, C) unbatched)."""
    reduction = _reduction(reduction, None, None)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.reshape(1, -1)
    xp = log_probs._xp
    T, N, _ = log_probs.shape
    with _device.on(log_probs.device):
        il = Tensor._make(xp.asarray(input_lengths._data if isinstance(input_lengths, Tensor) else input_lengths,
                                     dtype=np.int64).reshape(N))
        tl = Tensor._make(xp.asarray(target_lengths._data if isinstance(target_lengths, Tensor) else target_lengths,
                                     dtype=np.int64).reshape(N))
        tg = targets._data.astype(np.int64)
        if tg.ndim == 1:  # concatenated targets: pad to (N, max length) (the lengths are host values here)
            lens = [int(v) for v in (target_lengths.tolist() if isinstance(target_lengths, Tensor) else target_lengths)]
            starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
            width = max(lens, default=0)
            pos = np.minimum(starts[:, None] + np.arange(width), max(tg.shape[0] - 1, 0))
            tg = tg[xp.asarray(pos)] if tg.shape[0] else xp.zeros((N, width), np.int64)
        S = tg.shape[1]
        ext = xp.full((N, 2 * S + 1), blank, dtype=np.int64)
        ext[:, 1::2] = tg
        # s - 2 is allowed where the label is not blank and differs from the label two before
        skip = xp.zeros(ext.shape, dtype=bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        ext_t, skip_t = Tensor._make(ext), Tensor._make(skip)
        first = Tensor._make(xp.arange(2 * S + 1) < 2)
    neg = -math.inf
    lp = log_probs.gather(2, ext_t.unsqueeze(0).expand(T, N, 2 * S + 1))  # (T, N, 2S+1)
    alpha = where(first, lp[0], neg)
    for t in range(1, T):
        prev1 = _shift_right(alpha, 1, neg)
        prev2 = where(skip_t, _shift_right(alpha, 2, neg), neg)
        new = _lse(alpha, prev1, prev2) + lp[t]
        alpha = where((il > t).unsqueeze(1), new, alpha)
    last = alpha.gather(1, (2 * tl).unsqueeze(1)).squeeze(1)
    before = alpha.gather(1, (2 * tl - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
    loss = -_lse(last, where(tl > 0, before, neg))
    if zero_infinity:
        loss = where(loss == math.inf, 0.0, loss)
    if reduction == "mean":
        return (loss / tl.clamp(min=1).to(loss.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


def _shift_right(alpha, k, value):
    """alpha shifted right by k along its last dim, `value` in the first k places."""
    return pad(alpha, (k, 0), value=value)[..., :alpha.shape[-1]]


# ---- more layers: parametric and randomized activations, channel ops, bags (composites) ---------------------
def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight one slope or one per channel (dim 1)."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    n = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                           f"and channel size = {channels}.")
    w = weight.reshape((1, -1) + (1,) * (input.ndim - 2)) if n != 1 and input.ndim >= 2 else weight.reshape(())
    return where(input > 0, input, w * input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn from U(lower, upper) per element when training, and is the
    mean slope (lower + upper) / 2 otherwise."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    _check_float(input, "rrelu_with_noise_cpu")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    u = _random.sample("random", tuple(input.shape), input.dtype, input.device)
    with _device.on(input.device):
        slope = Tensor._make(u * (upper - lower) + lower)
    return _maybe_inplace(input, lambda x: where(x > 0, x, x * slope), inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def channel_shuffle(input, groups):
    """(N, g * k, *) -> (N, k * g, *): the channels of the g groups interleaved."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    n, rest = input.shape[0], input.shape[2:]
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, PyTorch's composition."""
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input * input
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = pad(div.reshape(sizes[0], 1, sizes[1], sizes[2], -1), (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).reshape(sizes)
    return input / (div * alpha + k).pow(beta)


def _feature_dropout(input, p, training, inplace, alpha=False):
    """Zero whole channels (dims 0 and 1 of input index one channel) with probability p; alpha: keep the mean
    and variance of a SELU network (dropped values set to SELU's negative saturation, then an affine map)."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _dropout_noise(input, tuple(input.shape[:2]) + (1,) * (input.ndim - 2), p, training, inplace, alpha)


def _dropout_noise(input, shape, p, training, inplace, alpha):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    if not alpha:
        mask = _keep_mask(input, shape, p)
        return input.mul_(mask) if inplace else input * mask
    # ATen's alpha dropout: a = 1 / sqrt((alpha^2 p + 1)(1 - p)); kept x -> a x, dropped -> -alpha a + alpha a p
    selu_alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((selu_alpha * selu_alpha * p + 1) * (1 - p))
    u = _random.sample("random", tuple(shape), input.dtype, input.device)
    dt = input._data.dtype.type
    with _device.on(input.device):
        keep = u < 1.0 - p
        scale = Tensor._make(input._xp.where(keep, dt(a), dt(0)))
        shift = Tensor._make(input._xp.where(keep, dt(selu_alpha * a * p), dt(selu_alpha * a * p - selu_alpha * a)))
    return input.mul_(scale).add_(shift) if inplace else input * scale + shift


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, L) or (C, L) input with probability p."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    lead = 2 if input.ndim == 3 else 1
    return _dropout_noise(input, tuple(input.shape[:lead]) + (1,) * (input.ndim - lead), p, training, inplace, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will result "
                      "in an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", stacklevel=2)
    lead = 2 if input.ndim == 5 else 1
    return _dropout_noise(input, tuple(input.shape[:lead]) + (1,) * (input.ndim - lead), p, training, inplace, False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps a SELU network's self-normalization (zero mean, unit variance)."""
    return _dropout_noise(input, tuple(input.shape), p, training, inplace, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    _check_p(p)
    return _feature_dropout(input, p, training, inplace, alpha=True)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows: a 2-d input is one bag per row; a 1-d input is split into
    bags at `offsets`. Empty bags (and padding_idx entries, which are left out) give zeros."""
    if weight.dtype == _dtype.int64 and input.is_floating_point():
        weight, input = input, weight
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    _check_indices(input, "embedding_bag")
    xp = input._xp
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        n_bags, width = input.shape
        with _device.on(input.device):
            bag = Tensor._make(xp.repeat(xp.arange(n_bags, dtype=np.int64), width))
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        off = offsets._data.astype(np.int64)
        if type(off) is np.ndarray and off.size:  # (PyTorch's checks; on the GPU they would read values back)
            if off[0] != 0:
                raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                                   f"from position 0. However, got {off[0]}")
            if off[-1] > input.shape[0]:
                raise RuntimeError(f"offsets[-1] can not be greater than input's length {input.shape[0]} but got "
                                   f"offsets[-1] of {off[-1]}")
        n_bags = off.shape[0] - (1 if include_last_offset else 0)
        with _device.on(input.device):  # each element's bag; those past the last bag go to bag n_bags (dropped)
            seg = xp.searchsorted(off, xp.arange(input.shape[0], dtype=np.int64), side="right") - 1
            bag = Tensor._make(xp.minimum(seg, n_bags))
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if sparse or scale_grad_by_freq:
        raise NotImplementedError("embedding_bag: sparse gradients and scale_grad_by_freq are not supported")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    num = weight.shape[0]
    _device.check_index_range(input._data, 0, num, RuntimeError, f"Index out of range: the valid range is [0, {num})",
                              "embedding_bag")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within num_embeddings")
        bag = where(input == padding_idx % num, n_bags, bag)  # padding entries go to the dropped bag
    rows = weight.index_select(0, input.long())
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    dim = weight.shape[1]
    with _device.on(weight.device):
        zeros = Tensor._make(weight._xp.zeros((n_bags + 1, dim), dtype=weight._data.dtype))
    if mode == "max":
        out = zeros.scatter_reduce(0, bag.unsqueeze(1).expand(bag.shape[0], dim), rows, "amax", include_self=False)
        return out[:n_bags]
    out = zeros.index_add(0, bag, rows)[:n_bags]
    if mode == "sum":
        return out
    with _device.on(weight.device):
        ones = Tensor._make(weight._xp.ones(bag.shape[0], dtype=weight._data.dtype))
    counts = zeros[:, 0].index_add(0, bag, ones)[:n_bags]
    return out / counts.clamp(min=1).unsqueeze(1)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C; target lists the
    classes of each sample up to the first -1."""
    reduction = _reduction(reduction, size_average, reduce)
    if input.ndim > 2 or (input.ndim == 2 and input.shape[1] == 0) or (input.ndim < 2 and input.numel() == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    t = target.reshape(1, -1) if input.ndim < 2 else target
    c = x.shape[1]
    _device.check_index_range(t._data, -1, c, RuntimeError, "argument #2 'target' is out of range",
                              "multilabel_margin_loss")
    valid = (t == -1).long().cumsum(1) == 0  # (N, J): the targets before the first -1
    tc = where(valid, t, 0)
    with _device.on(x.device):
        classes = Tensor._make(x._xp.arange(c))
    is_target = ((tc.unsqueeze(2) == classes).logical_and(valid.unsqueeze(2))).any(1)  # (N, C)
    x_target = x.gather(1, tc)  # (N, J)
    hinge = (1 - x_target.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)  # (N, J, C)
    keep = valid.unsqueeze(2).logical_and(is_target.logical_not().unsqueeze(1))
    loss = where(keep, hinge, 0.0).sum((1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) with any distance function d (pairwise_distance by default)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


# ---- in-place activation names, *_with_indices, 3-d adaptive max pooling and max unpooling ---------------------
def relu_(input):
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


_threshold = threshold  # (threshold_'s argument of the same name shadows the function)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-d max pooling to a fixed output size (None keeps that input size); the flat d * H * W + h * W + w
    index of each maximum with ``return_indices``. A box's maximum is the maximum over D of the (H, W) maxima,
    so this is two 2-d adaptive poolings: over (H, W), then over D alone (windows of width 1 along the rest);
    each picks the first maximum in scan order, as the 3-d kernel does."""
    size = _adaptive_size(input, output_size, 3, "adaptive_max_pool3d")
    lead, (D, H, W), (oD, oH, oW) = input.shape[:-3], input.shape[-3:], size
    planes, idx_hw = adaptive_max_pool2d(input.reshape(-1, 1, H, W), (oH, oW), True)  # (L * D, 1, oH, oW)
    planes = planes.reshape(-1, 1, D, oH * oW)
    values, idx_d = adaptive_max_pool2d(planes, (oD, oH * oW), True)  # (L, 1, oD, oH * oW)
    values = values.reshape(*lead, oD, oH, oW)
    if not return_indices:
        return values
    d = idx_d.reshape(-1, oD, oH * oW) // (oH * oW)
    hw = idx_hw.reshape(-1, D, oH * oW).gather(1, d)
    return values, (d * (H * W) + hw).reshape(*lead, oD, oH, oW)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d: each value back at the voxel its flat index names, zeros elsewhere."""
    kernel = _pool_tuple(kernel_size, "kernel_size", "max_unpool3d", 3)
    stride = kernel if stride is None else _pool_tuple(stride, "stride", "max_unpool3d", 3)
    size = _unpool_output_size(input, kernel, stride, _pool_tuple(padding, "padding", "max_unpool3d", 3),
                               output_size)
    if input.ndim not in (4, 5):
        raise RuntimeError(f"Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with "
                           f"{input.ndim} dimensions.")
    if indices._data.dtype != np.int64:
        raise RuntimeError("elements in indices should be type int64")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    if not input.is_floating_point():
        raise _dtype.not_implemented("max_unpooling3d_forward_out", input.dtype)
    volume = math.prod(size)
    lead = input.shape[:-3]
    flat_idx = indices.reshape(*lead, -1)
    what = f"(output volumes are of size {'x'.join(map(str, size))})"
    data = flat_idx._data
    if type(data) is np.ndarray:
        bad = (data < 0) | (data >= volume)
        if bad.any():
            raise RuntimeError(f"Found an invalid max index: {int(data[bad].flat[0])} {what}")
    else:
        _device.check_index_range(data, 0, volume, RuntimeError, f"Found an invalid max index {what}",
                                  "max_unpool3d")
    with _device.on(input.device):
        zeros = Tensor._make(input._xp.zeros((*lead, volume), dtype=input._data.dtype))
    return zeros.scatter(-1, flat_idx, input.reshape(*lead, -1)).reshape(*lead, *size)

"""scaled_dot_product_attention, a composite of differentiable ops (torch.nn.functional's signature, defaults and
errors; torch's CPU kernel records one ScaledDotProductFlashAttentionForCpuBackward0 node, ours the ops below).

>>> out = scaled_dot_product_attention(q, k, v, is_causal=True)   # (..., L, E), (..., S, E), (..., S, Ev)
"""
import math

import numpy as np

from .. import _device, _random
from ..ops.arithmetic import where
from ..tensor import Tensor
from ._conv import _c_name, _type_name

__all__ = ["scaled_dot_product_attention"]


def _dtype_name(t):
    return {"bool": "bool", "int64": "long int", "int32": "int"}.get(t._data.dtype.name, _c_name(t))


def _const(like, array):
    """A constant tensor on like's device."""
    with _device.on(like.device):
        return Tensor._make(like._xp.asarray(array))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + bias) @ value, bias from ``attn_mask`` (bool: True takes part; float: added)
    and ``is_causal`` (query i sees keys j <= i); rows with every key masked give 0, as in torch."""
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_c_name(query)} key.dtype: {_c_name(key)} and value.dtype: {_c_name(value)} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"expected scalar type Float but found {_type_name(query)}")
    if attn_mask is not None and attn_mask._data.dtype not in (np.bool_, query._data.dtype):
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_dtype_name(attn_mask)} and  query.dtype: {_c_name(query)} instead.")
    if dropout_p < 0.0 or dropout_p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv = query.shape[-3], key.shape[-3]
        if heads % kv or heads % value.shape[-3]:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in query")
        key, value = (_repeat_heads(t, heads // t.shape[-3]) for t in (key, value))
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    logits = query.matmul(key.transpose(-2, -1)) * scale
    # NOTE: with both is_causal and attn_mask, torch's CPU kernel applies both (its math fallback, taken e.g. when
    # value's last dim differs from query's, refuses the pair); so do we
    allowed = None  # which (query, key) pairs take part, when some do not
    if is_causal:
        allowed = _const(query, np.tril(np.ones((L, S), bool)))
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            allowed = attn_mask if allowed is None else allowed.logical_and(attn_mask)
        else:
            logits = logits + attn_mask
    if allowed is not None:
        logits = where(allowed, logits, float("-inf"))
    # NOTE: a row whose keys are all masked is 0, as torch's kernel returns; its logits are replaced before the
    # softmax, so neither the values nor the gradients see the NaN that softmax of all -inf would give
    empty = (logits == float("-inf")).all(-1, keepdim=True)
    weights = where(empty, 0.0, where(empty, 0.0, logits).softmax(-1))
    if dropout_p > 0.0:
        if dropout_p == 1.0:
            weights = weights * 0.0
        else:
            u = _random.sample("random", tuple(weights.shape), weights.dtype, weights.device)
            keep = _const(weights, u < 1.0 - dropout_p)
            weights = where(keep, weights * (1.0 / (1.0 - dropout_p)), 0.0)
    return weights.matmul(value)


def _repeat_heads(t, n):
    """(..., H, S, E) -> (..., H * n, S, E), each head n times in a row (repeat_interleave on dim -3)."""
    if n == 1:
        return t
    shape = tuple(t.shape)
    return t.unsqueeze(-3).expand(*shape[:-2], n, *shape[-2:]).reshape(*shape[:-3], shape[-3] * n, *shape[-2:])

"""scaled_dot_product_attention and multi_head_attention_forward, composites of differentiable ops
(torch.nn.functional's signatures, defaults and errors; torch's CPU kernel records one
ScaledDotProductFlashAttentionForCpuBackward0 node, ours the ops below).

>>> out = scaled_dot_product_attention(q, k, v, is_causal=True)   # (..., L, E), (..., S, E), (..., S, Ev)
"""
import math
import warnings

import numpy as np

from .. import _device, _dtype, _random, creation
from ..ops.arithmetic import where
from ..ops.shape import cat
from ..tensor import Tensor
from ._conv import _c_name, _type_name

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


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
    return _dropout(weights, dropout_p).matmul(value)


def _dropout(weights, p):
    """Attention weights with each zeroed with probability p and the rest scaled by 1 / (1 - p)."""
    if p == 0.0:
        return weights
    if p == 1.0:
        return weights * 0.0
    u = _random.sample("random", tuple(weights.shape), weights.dtype, weights.device)
    keep = _const(weights, u < 1.0 - p)
    return where(keep, weights * (1.0 / (1.0 - p)), 0.0)


def _repeat_heads(t, n):
    """(..., H, S, E) -> (..., H * n, S, E), each head n times in a row (repeat_interleave on dim -3)."""
    if n == 1:
        return t
    shape = tuple(t.shape)
    return t.unsqueeze(-3).expand(*shape[:-2], n, *shape[-2:]).reshape(*shape[:-3], shape[-3] * n, *shape[-2:])


# ---- multi-head attention ---------------------------------------------------------------------------
# NOTE: nn.functional imports this module, so linear is written here from the ops (functional's own linear
# would be an import cycle); the gradients are the same


def _linear(x, weight, bias):
    out = x.matmul(weight.t())
    return out if bias is None else out + bias


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True: left out) as the float mask it means: -inf where True, 0 elsewhere."""
    if mask is None:
        return None
    is_float = mask.is_floating_point()
    if mask.dtype != _dtype.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=2)
    if is_float:
        return mask
    return creation.zeros_like(mask, dtype=target_type).masked_fill(mask, float("-inf"))


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D query) or not (2-D); torch's AssertionErrors for other shapes."""
    if query.dim() not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D "
                             "query tensor")
    batched = query.dim() == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {query.dim()}-D but found "
                             f"{key.dim()}-D and {value.dim()}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.dim() != query.dim() - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{query.dim() - 1}-D but found {key_padding_mask.dim()}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        if not batched and attn_mask.dim() == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.shape != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
    return batched


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected by the rows of w (3E, E) in that order: one product when they are one tensor."""
    E = q.size(-1)
    if k is v:
        if q is k:  # self-attention
            return _linear(q, w, b).chunk(3, dim=-1)
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        return (_linear(q, w_q, b_q), *_linear(k, w_kv, b_kv).chunk(2, dim=-1))
    b_q, b_k, b_v = (None,) * 3 if b is None else b.chunk(3)
    w_q, w_k, w_v = w.chunk(3)
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    for name, t, shape in (("query weights", w_q, (Eq, Eq)), ("key weights", w_k, (Eq, Ek)),
                           ("value weights", w_v, (Eq, Ev)), ("query bias", b_q, (Eq,)),
                           ("key bias", b_k, (Eq,)), ("value bias", b_v, (Eq,))):
        if t is not None and t.shape != shape:
            raise AssertionError(f"expecting {name} shape of {shape}, but got {t.shape}")
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _append_key(mask):
    """A float mask with one more key (column) that every query may see: the bias_k or zero-attention slot."""
    with _device.on(mask.device):
        zeros = Tensor._make(mask._xp.zeros((*mask.shape[:-1], 1), dtype=mask._data.dtype))
    return cat([mask, zeros], dim=-1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """nn.MultiheadAttention's computation on (L, N, E) query and (S, N, E) key and value (or unbatched (L, E),
    (S, E)): returns the output and, with ``need_weights``, the attention weights (averaged over the heads
    with ``average_attn_weights``); without them it runs through scaled_dot_product_attention."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands for the mask: scaled_dot_product_attention builds it
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is not causal any more
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, *biases)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if attn_mask.shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if attn_mask.shape != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else _append_key(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _append_key(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # heads into the batch: (L, N, E) -> (N * H, L, E / H)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _static(static_k, "static_k", bsz * num_heads, head_dim, k)
    v = _static(static_v, "static_v", bsz * num_heads, head_dim, v)
    if add_zero_attn:
        with _device.on(k.device):
            zero = Tensor._make(k._xp.zeros((bsz * num_heads, 1, head_dim), dtype=k._data.dtype))
        k, v = cat([k, zero], dim=1), cat([v, zero], dim=1)
        attn_mask = None if attn_mask is None else _append_key(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _append_key(key_padding_mask)
    src_len = k.size(1)

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = (key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
                            .reshape(bsz * num_heads, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        # NOTE: torch's weights are a plain softmax here: a query whose keys are all masked gets NaN, where the
        # scaled_dot_product_attention path below gives it 0
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        logits = (attn_mask.baddbmm(q_scaled, k.transpose(-2, -1)) if attn_mask is not None
                  else q_scaled.bmm(k.transpose(-2, -1)))
        weights = _dropout(logits.softmax(dim=-1), dropout_p)
        out = weights.bmm(v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, out_proj_weight.shape[0])
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.size(0) == 1 and attn_mask.dim() == 3
                     else attn_mask.view(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, out_proj_weight.shape[0])
    return (out if is_batched else out.squeeze(1)), None


def _static(static, name, batch_heads, head_dim, projected):
    """The keys (or values) per head: the given static_k (static_v), or the projection split into heads."""
    if static is None:
        return projected.reshape(projected.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.size(0) != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got {static.size(0)}")
    if static.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.size(2)}")
    return static

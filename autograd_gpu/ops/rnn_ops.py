"""The fused LSTM and GRU cells: the pointwise part of one step (gates, cell update) as one op, as PyTorch's
_thnn_fused_lstm_cell / _thnn_fused_gru_cell. On the GPU its forward is one kernel launch and its backward one
more (kernels/rnn.cu); the formulas below are those kernels' numpy references, the CPU computation and, over
tensors, the differentiable composite that create_graph records.

The inputs are PyTorch's: the gate pre-activations of the input and of the hidden state, (B, G*H) each (G = 4
for LSTM, gates i, f, g, o; 3 for GRU, gates r, z, n), the state (B, H), and the two biases (G*H). The backward
recomputes the gates from the saved pre-activations instead of keeping PyTorch's workspace.
"""
import numpy as np

from .. import _device, _kernels
from ..autograd import grad_mode
from ..tensor import Tensor
from .core import apply, defop
from .kernel_grad import TENSOR_XP
from .shape import cat


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))


def _pre(ig, hg, b_ih, b_hh, k, H):
    s = slice(k * H, (k + 1) * H)
    return ig[:, s] + hg[:, s] + b_ih[s] + b_hh[s]


# ---- LSTM ---------------------------------------------------------------------------------------------
def _lstm_gates(xp, ig, hg, cx, b_ih, b_hh):
    """(i, f, g, o, cy) of one step."""
    H = cx.shape[-1]
    i = _sigmoid(xp, _pre(ig, hg, b_ih, b_hh, 0, H))
    f = _sigmoid(xp, _pre(ig, hg, b_ih, b_hh, 1, H))
    g = xp.tanh(_pre(ig, hg, b_ih, b_hh, 2, H))
    o = _sigmoid(xp, _pre(ig, hg, b_ih, b_hh, 3, H))
    return i, f, g, o, f * cx + i * g


def _lstm_cell(xp, ig, hg, cx, b_ih, b_hh, B, H):
    i, f, g, o, cy = _lstm_gates(xp, ig, hg, cx, b_ih, b_hh)
    return o * xp.tanh(cy), cy


def _lstm_cell_grads(xp, grad_hy, grad_cy, ig, hg, cx, b_ih, b_hh):
    """((the gradients of the four gates' pre-activations), the gradient of cx)."""
    i, f, g, o, cy = _lstm_gates(xp, ig, hg, cx, b_ih, b_hh)
    tc = xp.tanh(cy)
    gc = grad_hy * o * (1 - tc * tc) + grad_cy
    return (gc * g * (1 - i) * i, gc * cx * (1 - f) * f, gc * i * (1 - g * g), grad_hy * tc * (1 - o) * o), gc * f


def _lstm_cell_bwd_reference(xp, grad_gates, grad_cx, grad_hy, grad_cy, ig, hg, cx, b_ih, b_hh, B, H):
    parts, grad_cx[...] = _lstm_cell_grads(xp, grad_hy, grad_cy, ig, hg, cx, b_ih, b_hh)
    for k, p in enumerate(parts):
        grad_gates[:, k * H:(k + 1) * H] = p


# ---- GRU ----------------------------------------------------------------------------------------------
def _gru_gates(xp, ig, hg, b_ih, b_hh, H):
    """(r, z, n, h_n + b_hn) of one step."""
    r = _sigmoid(xp, ig[:, :H] + b_ih[:H] + (hg[:, :H] + b_hh[:H]))
    z = _sigmoid(xp, ig[:, H:2 * H] + b_ih[H:2 * H] + (hg[:, H:2 * H] + b_hh[H:2 * H]))
    hn = hg[:, 2 * H:] + b_hh[2 * H:]
    return r, z, xp.tanh(ig[:, 2 * H:] + b_ih[2 * H:] + r * hn), hn


def _gru_cell(xp, ig, hg, hx, b_ih, b_hh, B, H):
    r, z, n, hn = _gru_gates(xp, ig, hg, b_ih, b_hh, hx.shape[-1])
    return n + z * (hx - n)


def _gru_cell_grads(xp, grad_hy, ig, hg, hx, b_ih, b_hh):
    """((the input gates' gradients), (the hidden gates' gradients), the gradient of hx)."""
    r, z, n, hn = _gru_gates(xp, ig, hg, b_ih, b_hh, hx.shape[-1])
    gn = grad_hy * (1 - z) * (1 - n * n)
    gz = grad_hy * (hx - n) * (1 - z) * z
    gr = gn * hn * (1 - r) * r
    return (gr, gz, gn), (gr, gz, gn * r), grad_hy * z


def _gru_cell_bwd_reference(xp, grad_igates, grad_hgates, grad_hx, grad_hy, ig, hg, hx, b_ih, b_hh, B, H):
    gi, gh, grad_hx[...] = _gru_cell_grads(xp, grad_hy, ig, hg, hx, b_ih, b_hh)
    for k in range(3):
        grad_igates[:, k * H:(k + 1) * H] = gi[k]
        grad_hgates[:, k * H:(k + 1) * H] = gh[k]


def _state_shape(B, H):
    return (B, H)


_kernels.kernel("lstm_cell_fwd", _lstm_cell, out_shape=_state_shape)
_kernels.kernel("lstm_cell_bwd", _lstm_cell_bwd_reference, out_shape=_state_shape)
_kernels.kernel("gru_cell_fwd", _gru_cell, out_shape=_state_shape)
_kernels.kernel("gru_cell_bwd", _gru_cell_bwd_reference, out_shape=_state_shape)


# ---- the rows -----------------------------------------------------------------------------------------
def _sizes(state):
    return {"B": state.shape[0], "H": state.shape[1]}


def _empty(like, shape):
    """An uninitialised array of `like`'s dtype on its device (the backward kernels' output buffers)."""
    if type(like) is np.ndarray:
        return np.empty(shape, like.dtype)
    with like.device:
        return _device.cupy().empty(shape, like.dtype)


def _lstm_cell_fwd(xp, ig, hg, cx, b_ih, b_hh):
    return _kernels.run_kernel("lstm_cell_fwd", ig, hg, cx, b_ih, b_hh, sizes=_sizes(cx))


def _lstm_cell_bwd(ctx, grads):
    grad_hy, grad_cy = grads
    if grad_mode._state.enabled:  # create_graph: the same formula over tensors, recorded
        parts, grad_cx = _lstm_cell_grads(TENSOR_XP, grad_hy, grad_cy, *ctx.saved)
        grad_gates = cat(parts, 1)
    else:
        ig, hg, cx, b_ih, b_hh = (ctx.saved_array(i) for i in range(5))
        gg, gcx = _empty(ig, ig.shape), _empty(cx, cx.shape)
        _kernels.run_kernel("lstm_cell_bwd", gg, gcx, grad_hy._data, grad_cy._data, ig, hg, cx, b_ih, b_hh,
                            sizes=_sizes(cx))
        grad_gates, grad_cx = Tensor._make(gg), Tensor._make(gcx)
    need = ctx.needs_input_grad
    grad_bias = grad_gates.sum(0) if need[3] or need[4] else None  # (the two biases' gradients are equal)
    return grad_gates, grad_gates, grad_cx, grad_bias, grad_bias


def _gru_cell_fwd(xp, ig, hg, hx, b_ih, b_hh):
    return _kernels.run_kernel("gru_cell_fwd", ig, hg, hx, b_ih, b_hh, sizes=_sizes(hx))[0]


def _gru_cell_bwd(ctx, grad_hy):
    if grad_mode._state.enabled:
        gi, gh, grad_hx = _gru_cell_grads(TENSOR_XP, grad_hy, *ctx.saved)
        grad_ig, grad_hg = cat(gi, 1), cat(gh, 1)
    else:
        ig, hg, hx, b_ih, b_hh = (ctx.saved_array(i) for i in range(5))
        gi, gh, ghx = _empty(ig, ig.shape), _empty(ig, hg.shape), _empty(hx, hx.shape)
        _kernels.run_kernel("gru_cell_bwd", gi, gh, ghx, grad_hy._data, ig, hg, hx, b_ih, b_hh, sizes=_sizes(hx))
        grad_ig, grad_hg, grad_hx = Tensor._make(gi), Tensor._make(gh), Tensor._make(ghx)
    need = ctx.needs_input_grad
    return (grad_ig, grad_hg, grad_hx, grad_ig.sum(0) if need[3] else None,
            grad_hg.sum(0) if need[4] else None)


LSTM_CELL = defop("_thnn_fused_lstm_cell", _lstm_cell_fwd, _lstm_cell_bwd, save=(0, 1, 2, 3, 4), group="nn",
                  kernel="lstm_cell_bwd", dtype="keep", nout=2, public=False)
GRU_CELL = defop("_thnn_fused_gru_cell", _gru_cell_fwd, _gru_cell_bwd, save=(0, 1, 2, 3, 4), group="nn",
                 kernel="gru_cell_bwd", dtype="keep", public=False)


# ---- packing ------------------------------------------------------------------------------------------
# NOTE: packing gathers rows of the padded batch and its backward scatters them back into zeros: each is the other's
# adjoint, so each is the other's derivative (create_graph works at any order). `rows` (from the lengths, host data)
# is a parameter on the input's device, not an input: nothing is differentiated with respect to it.
def _pack_fwd(xp, x, rows):
    return x.reshape((-1,) + x.shape[2:])[rows._data]


def _pack_backward_fwd(xp, g, rows, shape):
    out = xp.zeros((shape[0] * shape[1],) + tuple(shape[2:]), dtype=g.dtype)
    out[rows._data] = g
    return out.reshape(shape)


PACK_PADDED_SEQUENCE = defop("_pack_padded_sequence", _pack_fwd,
                             lambda ctx, g: apply(PACK_PADDED_SEQUENCE_BACKWARD, g, shape=ctx.shapes[0], **ctx.params),
                             group="nn", dtype="keep", public=False)
PACK_PADDED_SEQUENCE_BACKWARD = defop(
    "_pack_padded_sequence_backward", _pack_backward_fwd,
    lambda ctx, gg: apply(PACK_PADDED_SEQUENCE, gg, rows=ctx.params["rows"]),
    node="PackPaddedSequenceBackwardBackward0", group="nn", dtype="keep", public=False)

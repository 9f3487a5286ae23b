"""Recurrent layers, cells and nn.utils.rnn against torch: the same weights in both, then outputs, final states,
input, state and parameter gradients (float64), on both devices; parameter names, initialisation, errors; the
fused cells' kernel launches and double backward; a small char-level LSTM language model trained both ways."""
import contextlib
import math

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _kernels, nn
from autograd_gpu.autograd import gradcheck, gradgradcheck
from autograd_gpu.nn.utils import rnn as ag_rnn
from autograd_gpu.ops.core import apply
from autograd_gpu.ops.rnn_ops import GRU_CELL, LSTM_CELL
from torch.nn.utils import rnn as torch_rnn

cupy = ag._device.cupy()
SIM = hasattr(cupy, "no_host_sync")


def no_host_sync():
    return cupy.no_host_sync() if SIM else contextlib.nullcontext()


def pair(name, *args, **kwargs):
    """torch's module and ours, in float64, ours holding torch's weights."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def close(a, t, what, tol=1e-10):
    np.testing.assert_allclose(a.detach().cpu().numpy(), t.detach().numpy(), rtol=tol, atol=tol, err_msg=what)


def both(x, device, grad=True):
    return ag.tensor(x, requires_grad=grad, device=device), torch.tensor(x, requires_grad=grad)


def check_grads(pairs, ours, theirs):
    for what, a, t in pairs:
        close(a.grad, t.grad, f"grad of {what}")
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, q.grad, f"grad of {n}")


# ---- the layers -------------------------------------------------------------------------------------
LAYERS = {
    "rnn-tanh-2-layers-bidirectional": ("RNN", dict(num_layers=2, bidirectional=True)),
    "rnn-relu-no-bias-batch-first": ("RNN", dict(nonlinearity="relu", bias=False, batch_first=True)),
    "lstm-2-layers-bidirectional": ("LSTM", dict(num_layers=2, bidirectional=True)),
    "lstm-proj-2-layers-bidirectional": ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=3)),
    "lstm-no-bias-batch-first-proj": ("LSTM", dict(bias=False, batch_first=True, proj_size=2)),
    "gru-2-layers-bidirectional-batch-first": ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    "gru-no-bias": ("GRU", dict(bias=False)),
}
INPUTS = ["padded", "padded-hx", "unbatched-hx", "packed", "packed-unsorted-hx"]
T, B, I, H = 4, 3, 4, 5


@pytest.mark.parametrize("inputs", INPUTS)
@pytest.mark.parametrize("case", sorted(LAYERS))
def test_layer_matches_torch(case, inputs, device):
    name, kwargs = LAYERS[case]
    ours, theirs = pair(name, I, H, **kwargs)
    ours.to(device)
    rng = np.random.default_rng(len(case) + 7 * INPUTS.index(inputs))
    lstm, bf = name == "LSTM", theirs.batch_first
    states = theirs.num_layers * (2 if theirs.bidirectional else 1)
    x = rng.standard_normal((B, T, I) if bf else (T, B, I))
    if inputs == "unbatched-hx":
        x = x[0] if bf else x[:, 0]
    xa, xt = both(x, device)
    grads = [("input", xa, xt)]
    hx_a = hx_t = None
    if inputs.endswith("-hx"):
        batch = () if inputs.startswith("unbatched") else (B,)
        shapes = [(states, *batch, theirs.proj_size or H)] + ([(states, *batch, H)] if lstm else [])
        pairs = [both(rng.standard_normal(s), device) for s in shapes]
        grads += [(f"hx[{k}]", a, t) for k, (a, t) in enumerate(pairs)]
        hx_a = tuple(a for a, _ in pairs) if lstm else pairs[0][0]
        hx_t = tuple(t for _, t in pairs) if lstm else pairs[0][1]
    ina, intt = xa, xt
    if inputs.startswith("packed"):
        lengths = [4, 3, 1] if inputs == "packed" else [2, 4, 3]
        sort = inputs == "packed"
        ina = ag_rnn.pack_padded_sequence(xa, lengths, batch_first=bf, enforce_sorted=sort)
        intt = torch_rnn.pack_padded_sequence(xt, lengths, batch_first=bf, enforce_sorted=sort)
    ya, ha = ours(ina, hx_a)
    yt, ht = theirs(intt, hx_t)
    if inputs.startswith("packed"):
        assert isinstance(ya, ag_rnn.PackedSequence)
        assert ya.batch_sizes.tolist() == yt.batch_sizes.tolist()
        ya, yt = ya.data, yt.data
    ha, ht = (ha, ht) if lstm else ((ha,), (ht,))
    assert ya.shape == yt.shape and [h.shape for h in ha] == [h.shape for h in ht]
    close(ya, yt, "output")
    for k, (a, t) in enumerate(zip(ha, ht)):
        close(a, t, f"final state {k}")
    w = rng.standard_normal(tuple(yt.shape))
    ws = [rng.standard_normal(tuple(h.shape)) for h in ht]
    loss_a = (ya * ag.tensor(w, device=device)).sum() + sum((h * ag.tensor(v, device=device)).sum() for h, v in zip(ha, ws))
    loss_t = (yt * torch.tensor(w)).sum() + sum((h * torch.tensor(v)).sum() for h, v in zip(ht, ws))
    loss_a.backward()
    loss_t.backward()
    check_grads(grads, ours, theirs)


def test_parameter_names_shapes_and_repr():
    for name, kwargs in [("LSTM", dict(num_layers=2, proj_size=2, bidirectional=True)), ("GRU", dict(bias=False)),
                         ("RNN", dict(num_layers=3, nonlinearity="relu", dropout=0.5, batch_first=True))]:
        ours, theirs = getattr(nn, name)(3, 5, **kwargs), getattr(torch.nn, name)(3, 5, **kwargs)
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)
        assert ours._flat_weights_names == theirs._flat_weights_names
        assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
            [[tuple(w.shape) for w in ws] for ws in theirs.all_weights]
    for name, kwargs in [("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", dict(bias=False)), ("GRUCell", {})]:
        ours, theirs = getattr(nn, name)(3, 5, **kwargs), getattr(torch.nn, name)(3, 5, **kwargs)
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN", "LSTMCell"])
def test_initialisation_is_uniform_in_one_over_sqrt_hidden(name):
    ag.manual_seed(0)
    hidden = 64
    m = getattr(nn, name)(32, hidden, **({"num_layers": 2} if name != "LSTMCell" else {}))
    bound = 1 / math.sqrt(hidden)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    se_mean = bound / math.sqrt(3 * values.size)  # U(-b, b): mean 0, variance b^2 / 3
    assert abs(values.mean()) < 5 * se_mean
    se_var = bound ** 2 * math.sqrt(4 / 45 / values.size)  # the variance of x^2 is b^4 (1/5 - 1/9)
    assert abs(values.var() - bound ** 2 / 3) < 5 * se_var


def test_dropout_between_layers(device):
    ours, theirs = pair("GRU", I, H, num_layers=3, dropout=0.5)
    ours.to(device)
    x = np.random.default_rng(0).standard_normal((T, B, I))
    xa, xt = both(x, device, grad=False)
    ours.eval()
    theirs.eval()
    close(ours(xa)[0], theirs(xt)[0], "eval output (no dropout)")
    ours.train()
    ag.manual_seed(1)
    first = ours(xa)[0]
    ag.manual_seed(1)
    again = ours(xa)[0]
    other = ours(xa)[0]
    assert first.shape == (T, B, H)
    first, again, other = (t.detach().cpu().numpy() for t in (first, again, other))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert not np.allclose(first, theirs(xt)[0].detach().numpy())
    # dropout=0 in training mode is the identity: torch's numbers
    ours, theirs = pair("LSTM", I, H, num_layers=2, dropout=0.0)
    ours.to(device).train()
    close(ours(xa)[0], theirs.train()(xt)[0], "train output, dropout=0")


def test_dropout_statistics(monkeypatch):
    """The mask is F.dropout's on each layer's output but the last: kept elements are scaled by 1/(1-p)."""
    seen = []
    real = nn.functional.dropout

    def spy(x, p, training, *args):
        y = real(x, p, training, *args)
        seen.append((x.detach().numpy(), y.detach().numpy(), p, training))
        return y
    monkeypatch.setattr(nn.functional, "dropout", spy)
    ag.manual_seed(0)
    m = nn.LSTM(8, 64, num_layers=3, dropout=0.25)
    m(ag.randn(20, 16, 8))
    assert len(seen) == 2 and all(p == 0.25 and training for _, _, p, training in seen)
    x, y = seen[0][0], seen[0][1]
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.75, rtol=1e-6)
    n = x.size
    assert abs((~kept).mean() - 0.25) < 5 * math.sqrt(0.25 * 0.75 / n)
    m.eval()
    seen.clear()
    m(ag.randn(20, 16, 8))
    assert len(seen) == 0


# ---- the cells --------------------------------------------------------------------------------------
CELLS = {
    "rnn-tanh": ("RNNCell", {}),
    "rnn-relu-no-bias": ("RNNCell", dict(nonlinearity="relu", bias=False)),
    "lstm": ("LSTMCell", {}),
    "lstm-no-bias": ("LSTMCell", dict(bias=False)),
    "gru": ("GRUCell", {}),
    "gru-no-bias": ("GRUCell", dict(bias=False)),
}


@pytest.mark.parametrize("inputs", ["hx", "no-hx", "unbatched-hx"])
@pytest.mark.parametrize("case", sorted(CELLS))
def test_cell_matches_torch(case, inputs, device):
    name, kwargs = CELLS[case]
    ours, theirs = pair(name, I, H, **kwargs)
    ours.to(device)
    lstm = name == "LSTMCell"
    rng = np.random.default_rng(len(case))
    batch = () if inputs == "unbatched-hx" else (B,)
    xs = [both(rng.standard_normal((*batch, I)), device) for _ in range(3)]
    grads = [(f"input {k}", a, t) for k, (a, t) in enumerate(xs)]
    state_a = state_t = None
    if inputs != "no-hx":
        pairs = [both(rng.standard_normal((*batch, H)), device) for _ in range(2 if lstm else 1)]
        grads += [(f"hx[{k}]", a, t) for k, (a, t) in enumerate(pairs)]
        state_a = tuple(a for a, _ in pairs) if lstm else pairs[0][0]
        state_t = tuple(t for _, t in pairs) if lstm else pairs[0][1]
    for step, (xa, xt) in enumerate(xs):  # three steps, the state fed back
        state_a, state_t = ours(xa, state_a), theirs(xt, state_t)
        for k, (a, t) in enumerate(zip(state_a, state_t) if lstm else [(state_a, state_t)]):
            assert a.shape == t.shape
            close(a, t, f"state {k} after step {step}")
    loss_a = sum((s * (k + 1)).sum() for k, s in enumerate(state_a if lstm else (state_a,)))
    loss_t = sum((s * (k + 1)).sum() for k, s in enumerate(state_t if lstm else (state_t,)))
    loss_a.backward()
    loss_t.backward()
    check_grads(grads, ours, theirs)


def test_fused_cell_nodes_and_launches(device, monkeypatch):
    """LSTMCell and GRUCell record one fused node, PyTorch's CUDA name (ThnnFused...); on the GPU its forward is
    one kernel launch and its backward one more."""
    launches = []
    real = _kernels._cupy_launcher
    monkeypatch.setattr(_kernels, "_cupy_launcher", lambda k, *a: (launches.append(k.name), real(k, *a))[1])
    x = ag.randn(3, 4, device=device, dtype=ag.float64, requires_grad=True)
    h, c = nn.LSTMCell(4, 5).double().to(device)(x)
    assert type(h.grad_fn).__name__ == "ThnnFusedLstmCellBackward0" and c.grad_fn is h.grad_fn
    g = nn.GRUCell(4, 5).double().to(device)(x)
    assert type(g.grad_fn).__name__ == "ThnnFusedGruCellBackward0"
    (h.sum() + c.sum() + g.sum()).backward()
    rnn = [n for n in launches if n.startswith(("lstm", "gru"))]
    assert rnn == ([] if device == "cpu" else ["lstm_cell_fwd", "gru_cell_fwd", "gru_cell_bwd", "lstm_cell_bwd"])
    launches.clear()
    out, _ = nn.LSTM(4, 5, num_layers=2).double().to(device)(ag.randn(6, 3, 4, device=device, dtype=ag.float64))
    out.sum().backward()
    rnn = [n for n in launches if n.startswith(("lstm", "gru"))]
    assert rnn == ([] if device == "cpu" else ["lstm_cell_fwd"] * 12 + ["lstm_cell_bwd"] * 12)


@pytest.mark.parametrize("op", ["lstm", "gru"])
def test_fused_cell_gradcheck_and_gradgradcheck(op, device):
    rng = np.random.default_rng(3)
    b, h, gates = 2, 2, (4 if op == "lstm" else 3)
    shapes = [(b, gates * h), (b, gates * h), (b, h), (gates * h,), (gates * h,)]
    inputs = [ag.tensor(rng.standard_normal(s), requires_grad=True, device=device) for s in shapes]
    fn = (lambda *a: apply(LSTM_CELL, *a)) if op == "lstm" else (lambda *a: apply(GRU_CELL, *a))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_pack_gradcheck_and_gradgradcheck(device):
    x = ag.tensor(np.random.default_rng(4).standard_normal((3, 4, 2)), requires_grad=True, device=device)
    assert gradcheck(lambda x: ag_rnn.pack_padded_sequence(x, [3, 1, 2, 2], enforce_sorted=False).data, [x])
    assert gradgradcheck(lambda x: ag_rnn.pack_padded_sequence(x, [4, 3, 3], batch_first=True).data ** 2, [x])


def test_layer_step_does_not_synchronise(device):
    m = nn.LSTM(4, 5, num_layers=2, bidirectional=True).to(device)
    x = ag.randn(4, 3, 4, device=device, requires_grad=True)
    packed = ag_rnn.pack_padded_sequence(x, [4, 2, 1])
    with no_host_sync():
        out, (h, c) = m(packed)
        (out.data.sum() + h.sum() + c.sum()).backward()
    assert x.grad.device == x.device


# ---- errors -----------------------------------------------------------------------------------------
def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (the type is what is compared)
        return type(e), str(e)
    return None


CALL_ERRORS = {
    "lstm input size": ("LSTM", (3, 5), lambda L, m: m(L.randn(4, 2, 4, dtype=L.float64))),
    "lstm 4-d input": ("LSTM", (3, 5), lambda L, m: m(L.randn(4, 2, 2, 3, dtype=L.float64))),
    "lstm h0 shape": ("LSTM", (3, 5), lambda L, m: m(L.randn(4, 2, 3, dtype=L.float64),
                                                     (L.randn(1, 3, 5, dtype=L.float64),
                                                      L.randn(1, 2, 5, dtype=L.float64)))),
    "lstm c0 shape": ("LSTM", (3, 5, 1, True, False, 0.0, False, 2),
                      lambda L, m: m(L.randn(4, 2, 3, dtype=L.float64),
                                     (L.randn(1, 2, 2, dtype=L.float64), L.randn(1, 2, 2, dtype=L.float64)))),
    "lstm unbatched hx dims": ("LSTM", (3, 5), lambda L, m: m(L.randn(4, 3, dtype=L.float64),
                                                              (L.randn(1, 1, 5, dtype=L.float64),
                                                               L.randn(1, 1, 5, dtype=L.float64)))),
    "gru hx shape": ("GRU", (3, 5), lambda L, m: m(L.randn(4, 2, 3, dtype=L.float64), L.randn(2, 2, 5, dtype=L.float64))),
    "gru 1-d input": ("GRU", (3, 5), lambda L, m: m(L.randn(3, dtype=L.float64))),
    "rnn 4-d input": ("RNN", (3, 5), lambda L, m: m(L.randn(1, 4, 2, 3, dtype=L.float64))),
    "rnn batched hx dims": ("RNN", (3, 5), lambda L, m: m(L.randn(4, 2, 3, dtype=L.float64), L.randn(2, 5, dtype=L.float64))),
    "rnn unbatched hx dims": ("RNN", (3, 5), lambda L, m: m(L.randn(4, 3, dtype=L.float64), L.randn(1, 2, 5, dtype=L.float64))),
    "rnn dtype": ("RNN", (3, 5), lambda L, m: m(L.randn(4, 2, 3, dtype=L.float32))),
    "lstm cell input size": ("LSTMCell", (3, 5), lambda L, m: m(L.randn(2, 4, dtype=L.float64))),
    "lstm cell batch": ("LSTMCell", (3, 5), lambda L, m: m(L.randn(2, 3, dtype=L.float64),
                                                           (L.randn(3, 5, dtype=L.float64),
                                                            L.randn(2, 5, dtype=L.float64)))),
    "lstm cell c size": ("LSTMCell", (3, 5), lambda L, m: m(L.randn(2, 3, dtype=L.float64),
                                                            (L.randn(2, 5, dtype=L.float64),
                                                             L.randn(2, 4, dtype=L.float64)))),
    "lstm cell 3-d hx": ("LSTMCell", (3, 5), lambda L, m: m(L.randn(2, 3, dtype=L.float64),
                                                            (L.randn(1, 2, 5, dtype=L.float64),
                                                             L.randn(2, 5, dtype=L.float64)))),
    "gru cell hidden size": ("GRUCell", (3, 5), lambda L, m: m(L.randn(3, dtype=L.float64), L.randn(2, 5, dtype=L.float64))),
    "gru cell 3-d input": ("GRUCell", (3, 5), lambda L, m: m(L.randn(1, 2, 3, dtype=L.float64))),
    "rnn cell 3-d hidden": ("RNNCell", (3, 5), lambda L, m: m(L.randn(2, 3, dtype=L.float64), L.randn(1, 2, 5, dtype=L.float64))),
    "rnn cell input size": ("RNNCell", (3, 5), lambda L, m: m(L.randn(2, 4, dtype=L.float64))),
    "rnn cell nonlinearity": ("RNNCell", (3, 5, True, "x"), lambda L, m: m(L.randn(2, 3, dtype=L.float64))),
}


@pytest.mark.parametrize("case", sorted(CALL_ERRORS))
def test_call_errors_match_torch(case):
    name, args, call = CALL_ERRORS[case]
    ours, theirs = getattr(nn, name)(*args).double(), getattr(torch.nn, name)(*args).double()
    want = _error(lambda: call(torch, theirs))
    assert want is not None
    assert _error(lambda: call(ag, ours)) == want


@pytest.mark.parametrize("make", [
    lambda nn: nn.RNN(3, 5, nonlinearity="x"),
    lambda nn: nn.RNN(3, 5, 1, "sigmoid"),
    lambda nn: nn.GRU(3, 5, proj_size=2),
    lambda nn: nn.RNN(3, 5, proj_size=2),
    lambda nn: nn.LSTM(3, 5, proj_size=5),
    lambda nn: nn.LSTM(3, 5, proj_size=-1),
    lambda nn: nn.LSTM(3, 5, dropout=1.5),
    lambda nn: nn.LSTM(3, 5, dropout=True),
    lambda nn: nn.LSTM(3, 0),
    lambda nn: nn.LSTM(0, 3),
    lambda nn: nn.LSTM(3, 5, num_layers=0),
    lambda nn: nn.LSTM(3, 5, bias=1),
    lambda nn: nn.GRU(3.0, 5),
])
def test_constructor_errors_match_torch(make):
    want = _error(lambda: make(torch.nn))
    assert want is not None
    assert _error(lambda: make(nn)) == want


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, but got "
                                         "dropout=0.5 and num_layers=1"):
        nn.GRU(3, 5, dropout=0.5)


# ---- nn.utils.rnn -----------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 3]])
def test_pack_and_pad_match_torch(lengths, batch_first, device):
    rng = np.random.default_rng(len(lengths))
    x = rng.standard_normal((4, 5, 2) if batch_first else (5, 4, 2))
    xa, xt = both(x, device)
    sort = lengths == sorted(lengths, reverse=True)
    pa = ag_rnn.pack_padded_sequence(xa, lengths, batch_first=batch_first, enforce_sorted=sort)
    pt = torch_rnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=sort)
    close(pa.data, pt.data, "packed data")
    assert type(pa.data.grad_fn).__name__ == type(pt.data.grad_fn).__name__ == "PackPaddedSequenceBackward0"
    assert pa.batch_sizes.tolist() == pt.batch_sizes.tolist() and pa.batch_sizes.dtype == ag.int64
    assert pa.batch_sizes.device.type == "cpu" and pa.data.device == xa.device
    for ours, theirs in [(pa.sorted_indices, pt.sorted_indices), (pa.unsorted_indices, pt.unsorted_indices)]:
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.tolist() == theirs.tolist() and ours.device == xa.device
    ya, la = ag_rnn.pad_packed_sequence(pa, batch_first=batch_first, padding_value=-2.0, total_length=7)
    yt, lt = torch_rnn.pad_packed_sequence(pt, batch_first=batch_first, padding_value=-2.0, total_length=7)
    close(ya, yt, "padded")
    assert la.tolist() == lt.tolist() and la.dtype == ag.int64 and la.device.type == "cpu"
    w = rng.standard_normal(tuple(yt.shape))
    (ya * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    close(xa.grad, xt.grad, "grad through pack and pad")
    back = ag_rnn.unpack_sequence(pa)
    assert [s.shape for s in back] == [s.shape for s in torch_rnn.unpack_sequence(pt)]


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_and_pack_sequence_match_torch(batch_first, padding_side, device):
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 3)) for n in (2, 4, 1)]
    pairs = [both(s, device) for s in seqs]
    ya = ag_rnn.pad_sequence([a for a, _ in pairs], batch_first, 0.5, padding_side)
    yt = torch_rnn.pad_sequence([t for _, t in pairs], batch_first, 0.5, padding_side)
    close(ya, yt, "padded")
    (ya * ya).sum().backward()
    (yt * yt).sum().backward()
    for a, t in pairs:
        close(a.grad, t.grad, "grad")
    pa = ag_rnn.pack_sequence([a for a, _ in pairs], enforce_sorted=False)
    pt = torch_rnn.pack_sequence([t for _, t in pairs], enforce_sorted=False)
    close(pa.data, pt.data, "packed")
    assert pa.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert pa.sorted_indices.tolist() == pt.sorted_indices.tolist()
    assert repr(type(pa).__name__) == repr(type(pt).__name__)
    assert pa.to("cpu").data.device.type == "cpu"
    assert pa.double().data.dtype == ag.float64


@pytest.mark.parametrize("call", [
    lambda R, L: R.pack_padded_sequence(L.zeros(4, 3, 2), [2, 4, 1]),
    lambda R, L: R.pack_padded_sequence(L.zeros(4, 3, 2), [4, 2, 0]),
    lambda R, L: R.pack_padded_sequence(L.zeros(4, 3, 2), [4, 2]),
    lambda R, L: R.pack_sequence([L.zeros(2, 3), L.zeros(4, 3)]),
    lambda R, L: R.pad_packed_sequence(R.pack_sequence([L.zeros(4, 3), L.zeros(2, 3)]), total_length=3),
    lambda R, L: R.pad_sequence([]),
    lambda R, L: R.pad_sequence([L.zeros(2, 3)], padding_side="middle"),
])
def test_packing_errors_match_torch(call):
    want = _error(lambda: call(torch_rnn, torch))
    assert want is not None
    assert _error(lambda: call(ag_rnn, ag)) == want


# ---- a char-level LSTM language model, trained both ways ---------------------------------------------
TEXT = "the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. "


def char_lm(lib, vocab):
    class CharLM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(vocab, 6)
            self.lstm = lib.nn.LSTM(6, 12, num_layers=2, batch_first=True)
            self.head = lib.nn.Linear(12, vocab)

        def forward(self, idx):
            out, _ = self.lstm(self.embed(idx))
            return self.head(out)
    return CharLM().double()


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_char_lstm_language_model_trains_as_in_torch(optimizer, device):
    chars = sorted(set(TEXT))
    codes = np.array([chars.index(c) for c in TEXT])
    torch.manual_seed(0)
    theirs = char_lm(torch, len(chars))
    ours = char_lm(ag, len(chars))
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.to(device)
    kwargs = dict(lr=0.5, momentum=0.9) if optimizer == "SGD" else dict(lr=0.02)
    opt_a = getattr(ag.optim, optimizer)(ours.parameters(), **kwargs)
    opt_t = getattr(torch.optim, optimizer)(theirs.parameters(), **kwargs)
    loss_fn_a, loss_fn_t = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    for step in range(4):
        starts = rng.integers(0, len(codes) - 9, size=4)
        window = np.stack([codes[s:s + 9] for s in starts])
        xa, ya = (ag.tensor(window[:, :-1], device=device), ag.tensor(window[:, 1:].reshape(-1), device=device))
        xt, yt = torch.tensor(window[:, :-1]), torch.tensor(window[:, 1:].reshape(-1))
        opt_a.zero_grad()
        opt_t.zero_grad()
        loss_a = loss_fn_a(ours(xa).reshape(-1, len(chars)), ya)
        loss_t = loss_fn_t(theirs(xt).reshape(-1, len(chars)), yt)
        close(loss_a, loss_t, f"loss at step {step}", tol=1e-9)
        loss_a.backward()
        loss_t.backward()
        opt_a.step()
        opt_t.step()
    assert loss_t.item() < math.log(len(chars))  # it learns
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p, q, f"{n} after training", tol=1e-9)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_float32_layer_is_close_to_torch(name, device):
    """float32 runs the kernels' float instantiations on the GPU; a deep composition: 1e-4 relative."""
    torch.manual_seed(2)
    theirs = getattr(torch.nn, name)(I, H, num_layers=2, bidirectional=True)
    ours = getattr(nn, name)(I, H, num_layers=2, bidirectional=True)
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.to(device)
    x = np.random.default_rng(5).standard_normal((T, B, I)).astype(np.float32)
    xa, xt = both(x, device)
    ya, yt = ours(xa)[0], theirs(xt)[0]
    assert ya.dtype == ag.float32
    close(ya, yt, "output", tol=1e-4)
    (ya * ya).sum().backward()
    (yt * yt).sum().backward()
    close(xa.grad, xt.grad, "input grad", tol=1e-4)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, q.grad, f"grad of {n}", tol=1e-4)

"""nn.MultiheadAttention, the Transformer layers and stacks, and nn.Transformer against torch.nn: torch's weights
copied into ours (float64), then outputs, attention weights, node names, the gradients of the inputs and of every
parameter, state-dict keys and reprs; dropout's train/eval behaviour; torch's error types; and a small GPT
trained with Adam for a few steps, step by step equal to torch's, on both devices; and train steps on cuda that
never read back to the host."""
import contextlib

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _device, nn

RTOL, ATOL = 1e-9, 1e-11


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's thread pool on these tiny products only waits for its threads (and the 2-core CI machine is shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _close(ours, theirs, what):
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=what)


def _pair(build, device="cpu", seed=0):
    """build(torch) and build(ag) in float64, torch's state loaded into ours; (ours, theirs)."""
    torch.manual_seed(seed)
    theirs = build(torch).double()
    ours = build(ag).double()
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in sd.items()})
    return ours.to(device), theirs


def _tensors(arrays, device, grad=True):
    """The same arrays as (ours, theirs); float arrays require grad."""
    ours, theirs = [], []
    for a in arrays:
        if a is None:
            ours.append(None)
            theirs.append(None)
            continue
        g = grad and a.dtype == np.float64
        ours.append(ag.tensor(a, device=device, requires_grad=g))
        theirs.append(torch.tensor(a, requires_grad=g))
    return ours, theirs


def _compare_outputs_and_grads(ours_out, theirs_out, ours_in, theirs_in, ours_mod, theirs_mod, what, seed=1,
                               nodes=True):
    """Outputs (and, with ``nodes``, their node names) equal; then the gradients of sum(out * w) for random w,
    of every input and every parameter."""
    rng = np.random.default_rng(seed)
    loss_o, loss_t = 0, 0
    for i, (o, t) in enumerate(zip(ours_out, theirs_out)):
        if t is None:
            assert o is None, f"{what}: output {i} should be None"
            continue
        assert tuple(o.shape) == tuple(t.shape), what
        _close(o, t, f"{what}: output {i}")
        if nodes:
            assert type(o.grad_fn).__name__ == type(t.grad_fn).__name__, f"{what}: node of output {i}"
        w = rng.standard_normal(tuple(t.shape))
        loss_o = loss_o + (o * ag.tensor(w, device=o.device)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b is not None and b.requires_grad:
            assert (a.grad is None) == (b.grad is None), f"{what}: grad of input {i}"
            if b.grad is not None:
                _close(a.grad, b.grad, f"{what}: grad of input {i}")
    for (n, p), (_, q) in zip(ours_mod.named_parameters(), theirs_mod.named_parameters()):
        assert (p.grad is None) == (q.grad is None), f"{what}: grad of {n}"
        if q.grad is not None:
            _close(p.grad, q.grad, f"{what}: grad of {n}")


# ---- MultiheadAttention -----------------------------------------------------------------------------------
_rng = np.random.default_rng(0)
L, S, N, E, H = 3, 4, 2, 6, 2


def _x(*shape):
    return _rng.standard_normal(shape)


def _bool_mask(shape):
    """True (masked) at random, never at key 0: no query loses all its keys."""
    m = _rng.random(shape) < 0.4
    m[..., 0] = False
    return m


def _float_mask(shape):
    return np.where(_bool_mask(shape), -np.inf, _rng.standard_normal(shape))


# (id, constructor kwargs, how q/k/v relate ("self", "kv": key is value, "qkv": three tensors), batched?, forward
# kwargs as arrays (masks) and flags)
MHA_CASES = [
    ("self", {}, "self", True, {}),
    ("self-batch_first", {"batch_first": True}, "self", True, {}),
    ("cross-kv", {"batch_first": True}, "kv", True, {}),
    ("three-inputs", {}, "qkv", True, {}),
    ("kdim-vdim", {"kdim": 5, "vdim": 3}, "qkv", True, {}),
    ("kdim-vdim-batch_first", {"kdim": 5, "vdim": 3, "batch_first": True}, "qkv", True,
     {"key_padding_mask": _bool_mask((N, S))}),
    ("no-bias", {"bias": False}, "self", True, {}),
    ("add_bias_kv", {"add_bias_kv": True}, "qkv", True, {}),
    ("add_zero_attn", {"add_zero_attn": True}, "kv", True, {}),
    ("bias_kv-zero_attn-masks", {"add_bias_kv": True, "add_zero_attn": True}, "kv", True,
     {"key_padding_mask": _bool_mask((N, S)), "attn_mask": _bool_mask((L, S))}),
    ("per-head-weights", {}, "kv", True, {"average_attn_weights": False}),
    ("no-weights", {"batch_first": True}, "self", True, {"need_weights": False}),
    ("bool-attn_mask", {}, "kv", True, {"attn_mask": _bool_mask((L, S))}),
    ("float-attn_mask", {}, "kv", True, {"attn_mask": _float_mask((L, S))}),
    ("3d-attn_mask", {}, "kv", True, {"attn_mask": _float_mask((N * H, L, S))}),
    ("3d-attn_mask-no-weights", {}, "kv", True, {"attn_mask": _bool_mask((N * H, L, S)), "need_weights": False}),
    ("bool-key_padding_mask", {"batch_first": True}, "kv", True, {"key_padding_mask": _bool_mask((N, S))}),
    ("float-key_padding_mask", {}, "kv", True, {"key_padding_mask": _float_mask((N, S))}),
    ("both-masks-no-weights", {}, "kv", True,
     {"key_padding_mask": _bool_mask((N, S)), "attn_mask": _bool_mask((L, S)), "need_weights": False}),
    ("causal", {"batch_first": True}, "self", True,
     {"attn_mask": np.triu(np.full((L, L), -np.inf), 1), "is_causal": True, "need_weights": False}),
    ("causal-with-weights", {}, "self", True, {"attn_mask": np.triu(np.ones((L, L), bool), 1), "is_causal": True}),
    ("causal-and-padding", {}, "self", True,
     {"attn_mask": np.triu(np.ones((L, L), bool), 1), "is_causal": True, "need_weights": False,
      "key_padding_mask": np.array([[False, True, False], [False, False, True]])}),
    ("unbatched", {}, "kv", False, {"key_padding_mask": _bool_mask((S,))}),
    ("unbatched-3d-mask", {"batch_first": True}, "qkv", False,
     {"attn_mask": _float_mask((H, L, S)), "average_attn_weights": False}),
    ("unbatched-no-weights", {"add_bias_kv": True}, "self", False, {"need_weights": False}),
]


def _mha_inputs(kind, batched, kw, batch_first):
    kdim, vdim = kw.get("kdim", E), kw.get("vdim", E)

    def seq(n, e):
        if not batched:
            return _x(n, e)
        return _x(N, n, e) if batch_first else _x(n, N, e)

    if kind == "self":
        return [seq(L, E)]
    if kind == "kv":
        return [seq(L, E), seq(S, kdim)]
    return [seq(L, E), seq(S, kdim), seq(S, vdim)]


def _qkv(tensors, kind):
    if kind == "self":
        return tensors * 3
    if kind == "kv":
        return [tensors[0], tensors[1], tensors[1]]
    return tensors


@pytest.mark.parametrize("case", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(case, device):
    name, kw, kind, batched, fwd = case
    arrays = _mha_inputs(kind, batched, kw, kw.get("batch_first", False))
    ours, theirs = _pair(lambda lib: lib.nn.MultiheadAttention(E, H, **kw), device)
    masks = {k: v for k, v in fwd.items() if isinstance(v, np.ndarray)}
    flags = {k: v for k, v in fwd.items() if not isinstance(v, np.ndarray)}
    xo, xt = _tensors(arrays, device)
    mo, mt = _tensors(list(masks.values()), device, grad=False)
    out_o = ours(*_qkv(xo, kind), **dict(zip(masks, mo)), **flags)
    out_t = theirs(*_qkv(xt, kind), **dict(zip(masks, mt)), **flags)
    _compare_outputs_and_grads(out_o, out_t, xo, xt, ours, theirs, name)


@pytest.mark.parametrize("need_weights", [True, False])
def test_functional_multi_head_attention_with_static_keys_and_values(need_weights, device):
    """F.multi_head_attention_forward called directly, with static_k / static_v (N * H, S, E / H) in place of the
    projected keys and values."""
    arrays = [_x(L, N, E), _x(S, N, E), _x(3 * E, E), _x(3 * E), _x(E, E), _x(E), _x(N * H, S + 1, E // H),
              _x(N * H, S + 1, E // H)]
    ours, theirs = _tensors(arrays, device)

    def call(F, q, kv, w, b, wo, bo, sk, sv):
        return F.multi_head_attention_forward(q, kv, kv, E, H, w, b, None, None, False, 0.0, wo, bo,
                                              need_weights=need_weights, static_k=sk, static_v=sv)

    out_o = call(nn.functional, *ours)
    out_t = call(torch.nn.functional, *theirs)
    _compare_outputs_and_grads(out_o, out_t, ours, theirs, nn.Module(), torch.nn.Module(), "static_k/v")


def test_multihead_attention_parameters_and_init():
    m = nn.MultiheadAttention(8, 4, kdim=3, vdim=5, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(8, 4, kdim=3, vdim=5, add_bias_kv=True)
    assert list(m.state_dict()) == list(t.state_dict())
    assert {k: tuple(v.shape) for k, v in m.state_dict().items()} == {k: tuple(v.shape) for k, v in
                                                                        t.state_dict().items()}
    assert m.in_proj_weight is None and not m._qkv_same_embed_dim and m.head_dim == 2
    assert (m.in_proj_bias == 0).all().item() and (m.out_proj.bias == 0).all().item()
    same = nn.MultiheadAttention(8, 4, bias=False)
    assert same._qkv_same_embed_dim and same.q_proj_weight is None and same.in_proj_bias is None
    assert list(same.state_dict()) == list(torch.nn.MultiheadAttention(8, 4, bias=False).state_dict())
    # xavier_uniform_ over the packed (3E, E) weight: bound sqrt(6 / (E + 3E))
    w = nn.MultiheadAttention(64, 4).in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 192))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear" and isinstance(m.out_proj, nn.Linear)


def test_multihead_attention_equals_torch_fast_path():
    """torch's eval, no-grad, batch_first self-attention runs its fused kernel; the numbers are ours."""
    ours, theirs = _pair(lambda lib: lib.nn.MultiheadAttention(E, H, batch_first=True))
    ours.eval()
    theirs.eval()
    x = _x(N, L, E)
    kpm = _bool_mask((N, L))
    for kwargs in ({}, {"need_weights": False}, {"key_padding_mask": kpm}):
        with ag.no_grad():
            out_o = ours(*[ag.tensor(x)] * 3, **{k: ag.tensor(v) if isinstance(v, np.ndarray) else v
                                                 for k, v in kwargs.items()})
        with torch.no_grad():
            out_t = theirs(*[torch.tensor(x)] * 3, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                                      for k, v in kwargs.items()})
        for o, t in zip(out_o, out_t):
            if t is None:
                assert o is None
            else:
                _close(o, t, f"fast path {kwargs}")


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_equals_torch_nested_tensor_path_off_the_padding():
    """torch's TransformerEncoder in eval and no-grad, given a key padding mask, runs on nested tensors and returns 0
    at the padded positions; every other position is the same as ours (which keeps the one path, as torch does in
    training: the padded positions hold what attention over the real keys gives them)."""
    def build(lib):
        return lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, NHEAD, FF, 0.0, batch_first=True), 2)

    ours, theirs = _pair(build)
    ours.eval()
    theirs.eval()
    x = _x(N, 4, D)
    kpm = np.array([[False, False, False, True], [False, False, True, True]])
    with ag.no_grad():
        out_o = ours(ag.tensor(x), src_key_padding_mask=ag.tensor(kpm)).numpy()
    with torch.no_grad():
        out_t = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).numpy()
    np.testing.assert_allclose(out_o[~kpm], out_t[~kpm], rtol=RTOL, atol=ATOL)
    assert (out_t[kpm] == 0).all() and (out_o[kpm] != 0).all()
    theirs.train()
    np.testing.assert_allclose(out_o, theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).detach().numpy(),
                               rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_dropout_in_training_only(need_weights, device):
    p = 0.5
    m = nn.MultiheadAttention(E, H, dropout=p, batch_first=True).double().to(device)
    x = ag.tensor(_x(N, L, E), device=device)
    m.eval()
    ref, ref_w = m(x, x, x, need_weights=need_weights, average_attn_weights=False)
    again, _ = m(x, x, x, need_weights=need_weights, average_attn_weights=False)
    assert ag.equal(ref, again)  # eval: no dropout
    m.train()
    ag.manual_seed(3)
    out1, w1 = m(x, x, x, need_weights=need_weights, average_attn_weights=False)
    out2, _ = m(x, x, x, need_weights=need_weights, average_attn_weights=False)
    assert not ag.allclose(out1, ref) and not ag.allclose(out1, out2)
    if need_weights:  # each weight is dropped (0) or kept and scaled by 1 / (1 - p)
        w1, ref_w = w1.detach().cpu().numpy(), ref_w.detach().cpu().numpy()
        kept = w1 != 0
        assert 0 < kept.mean() < 1
        np.testing.assert_allclose(w1[kept], ref_w[kept] / (1 - p), rtol=1e-12)


def _raises_like_torch(fn):
    """fn(lib) raises in torch and in ours: the same type and message."""
    with pytest.raises(Exception) as t:
        fn(torch)
    with pytest.raises(type(t.value)) as o:
        fn(ag)
    assert str(o.value) == str(t.value)
    return type(t.value)


def _mha_call(lib, kw=None, **fwd):
    lib.manual_seed(0)
    m = lib.nn.MultiheadAttention(E, H, **(kw or {}))
    q, kv = lib.ones(L, N, E), lib.ones(S, N, E)
    return m(q, kv, kv, **fwd)


@pytest.mark.parametrize("call,error", [
    (lambda lib: lib.nn.MultiheadAttention(5, 2), AssertionError),
    (lambda lib: lib.nn.MultiheadAttention(0, 2), ValueError),
    (lambda lib: _mha_call(lib, attn_mask=lib.zeros(L, L)), RuntimeError),
    (lambda lib: _mha_call(lib, attn_mask=lib.zeros(N * H, L, L)), RuntimeError),
    (lambda lib: _mha_call(lib, attn_mask=lib.zeros(1, 1, L, S)), AssertionError),
    (lambda lib: _mha_call(lib, key_padding_mask=lib.zeros(N, L, dtype=lib.bool)), AssertionError),
    (lambda lib: _mha_call(lib, key_padding_mask=lib.zeros(N + 1, S, dtype=lib.bool)), AssertionError),
    (lambda lib: _mha_call(lib, key_padding_mask=lib.zeros(N, S, dtype=lib.int64)), AssertionError),
    (lambda lib: _mha_call(lib, is_causal=True), RuntimeError),
    (lambda lib: lib.nn.MultiheadAttention(E, H)(lib.ones(L, N, E), lib.ones(S, N, E), lib.ones(S + 1, N, E)),
     AssertionError),
    (lambda lib: lib.nn.MultiheadAttention(E, H)(lib.ones(L, N, E), lib.ones(S, E), lib.ones(S, E)),
     AssertionError),
    (lambda lib: lib.nn.MultiheadAttention(E, H)(lib.ones(L, N, E + 1), lib.ones(S, N, E), lib.ones(S, N, E)),
     AssertionError),
])
def test_multihead_attention_errors_match_torch(call, error):
    assert _raises_like_torch(call) is error


def _static_call(lib, **kw):
    z = lib.zeros(N * H, S, E // H)
    return lib.nn.functional.multi_head_attention_forward(
        lib.ones(L, N, E), lib.ones(S, N, E), lib.ones(S, N, E), E, H, lib.ones(3 * E, E), None, *kw["bias_kv"],
        False, 0.0, lib.ones(E, E), None, static_k=kw.get("static_k", z), static_v=z)


@pytest.mark.parametrize("call", [
    lambda lib: _static_call(lib, bias_kv=(lib.zeros(1, 1, E), lib.zeros(1, 1, E))),
    lambda lib: _static_call(lib, bias_kv=(lib.zeros(1, 1, E), None)),
    lambda lib: _static_call(lib, bias_kv=(None, None), static_k=lib.zeros(N * H + 1, S, E // H)),
    lambda lib: _static_call(lib, bias_kv=(None, None), static_k=lib.zeros(N * H, S, E)),
    lambda lib: lib.nn.functional.multi_head_attention_forward(
        lib.ones(L, N, E), lib.ones(S, N, E), lib.ones(S, N, E), E + 2, H, lib.ones(3 * E, E), None, None, None,
        False, 0.0, lib.ones(E, E), None),
])
def test_functional_multi_head_attention_errors_match_torch(call):
    assert _raises_like_torch(call) is AssertionError


def test_mismatched_mask_types_warn_as_in_torch():
    for lib in (torch, ag):
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask"):
            _mha_call(lib, key_padding_mask=lib.zeros(N, S, dtype=lib.bool), attn_mask=lib.zeros(L, S))


# ---- encoder and decoder layers, stacks, Transformer ------------------------------------------------------
D, NHEAD, FF = 8, 2, 12


def _activation(kind, lib):
    return {"relu": "relu", "gelu": "gelu", "callable": lib.nn.functional.silu, "fn-relu": lib.nn.functional.relu,
            "module": lib.nn.GELU(approximate="tanh")}[kind]


LAYER_OPTIONS = [(nf, act, bf) for nf in (False, True) for act in ("relu", "gelu", "callable", "module")
                 for bf in (False, True)][::3] + [(True, "fn-relu", True), (True, "gelu", False)]


def _seq(n, batch_first):
    return _x(N, n, D) if batch_first else _x(n, N, D)


@pytest.mark.parametrize("norm_first,act,batch_first", LAYER_OPTIONS)
def test_encoder_layer_matches_torch(norm_first, act, batch_first, device):
    ours, theirs = _pair(lambda lib: lib.nn.TransformerEncoderLayer(
        D, NHEAD, FF, dropout=0.0, activation=_activation(act, lib), batch_first=batch_first, norm_first=norm_first), device)
    assert ours.activation_relu_or_gelu == theirs.activation_relu_or_gelu
    (x,), (xt,) = _tensors([_seq(L, batch_first)], device)
    mask = np.triu(np.full((L, L), -np.inf), 1)
    kpm = _float_mask((N, L))
    (mo, ko), (mt, kt) = _tensors([mask, kpm], device, grad=False)
    out_o = ours(x, src_mask=mo, src_key_padding_mask=ko)
    out_t = theirs(xt, src_mask=mt, src_key_padding_mask=kt)
    _compare_outputs_and_grads([out_o], [out_t], [x], [xt], ours, theirs, "encoder layer", nodes=False)


@pytest.mark.parametrize("norm_first,act,batch_first", LAYER_OPTIONS)
def test_decoder_layer_matches_torch(norm_first, act, batch_first, device):
    ours, theirs = _pair(lambda lib: lib.nn.TransformerDecoderLayer(
        D, NHEAD, FF, dropout=0.0, activation=_activation(act, lib), batch_first=batch_first, norm_first=norm_first), device)
    xo, xt = _tensors([_seq(L, batch_first), _seq(S, batch_first)], device)
    masks = [np.triu(np.ones((L, L), bool), 1), _float_mask((L, S)), _bool_mask((N, L)), _float_mask((N, S))]
    mo, mt = _tensors(masks, device, grad=False)
    names = ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask")
    out_o = ours(*xo, **dict(zip(names, mo)), tgt_is_causal=True)
    out_t = theirs(*xt, **dict(zip(names, mt)), tgt_is_causal=True)
    _compare_outputs_and_grads([out_o], [out_t], xo, xt, ours, theirs, "decoder layer", nodes=False)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_and_decoder_stacks_match_torch(norm_first, device):
    def build(lib):
        enc = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, NHEAD, FF, 0.0, norm_first=norm_first),
                                        2, norm=lib.nn.LayerNorm(D), enable_nested_tensor=False)
        dec = lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(D, NHEAD, FF, 0.0, norm_first=norm_first),
                                        2)
        return lib.nn.ModuleDict({"enc": enc, "dec": dec})

    ours, theirs = _pair(build, device)
    assert ours.enc.layers[0].linear1.weight is not ours.enc.layers[1].linear1.weight
    xo, xt = _tensors([_x(S, N, D), _x(L, N, D)], device)
    causal = [np.triu(np.full((S, S), -np.inf), 1), np.triu(np.full((L, L), -np.inf), 1), _float_mask((N, S))]
    (so, to, ko), (st, tt, kt) = _tensors(causal, device, grad=False)
    for is_causal in (None, True):
        mem_o = ours.enc(xo[0], mask=so, src_key_padding_mask=ko, is_causal=is_causal)
        mem_t = theirs.enc(xt[0], mask=st, src_key_padding_mask=kt, is_causal=is_causal)
        _close(mem_o, mem_t, f"encoder memory, is_causal={is_causal}")
    out_o = ours.dec(xo[1], mem_o, tgt_mask=to, memory_key_padding_mask=ko, tgt_is_causal=True)
    out_t = theirs.dec(xt[1], mem_t, tgt_mask=tt, memory_key_padding_mask=kt, tgt_is_causal=True)
    _compare_outputs_and_grads([out_o], [out_t], xo, xt, ours, theirs, "encoder-decoder stacks", nodes=False)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's, about its inference path
@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_matches_torch(batch_first, norm_first, device):
    def build(lib):
        return lib.nn.Transformer(d_model=D, nhead=NHEAD, num_encoder_layers=2, num_decoder_layers=1,
                                  dim_feedforward=FF, dropout=0.0, activation="gelu", batch_first=batch_first,
                                  norm_first=norm_first)

    ours, theirs = _pair(build, device)
    xo, xt = _tensors([_seq(S, batch_first), _seq(L, batch_first)], device)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(L, device=device, dtype=ag.float64)
    torch_mask = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
    _close(tgt_mask, torch_mask, "generate_square_subsequent_mask")
    (ko,), (kt,) = _tensors([_bool_mask((N, S))], device, grad=False)
    out_o = ours(*xo, tgt_mask=tgt_mask, src_key_padding_mask=ko, memory_key_padding_mask=ko)
    out_t = theirs(*xt, tgt_mask=torch_mask, src_key_padding_mask=kt, memory_key_padding_mask=kt)
    _compare_outputs_and_grads([out_o], [out_t], xo, xt, ours, theirs, "Transformer", nodes=False)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_transformer_defaults_state_dict_and_init():
    ours, theirs = nn.Transformer(), torch.nn.Transformer()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {k: tuple(v.shape) for k, v in
                                                                         theirs.state_dict().items()}
    assert repr(ours) == repr(theirs)
    assert (ours.d_model, ours.nhead, ours.batch_first) == (512, 8, False)
    layer = ours.encoder.layers[0]
    assert layer.dropout.p == 0.1 and layer.linear1.out_features == 2048 and layer.norm1.eps == 1e-5
    assert layer.activation is nn.functional.relu and not layer.norm_first
    # every matrix re-drawn by xavier_uniform_: linear1's bound is sqrt(6 / (512 + 2048))
    w = ours.decoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (512 + 2048))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert ours.encoder.layers[0].self_attn.batch_first is False
    for mask in (nn.Transformer.generate_square_subsequent_mask(4),
                 torch.nn.Transformer.generate_square_subsequent_mask(4)):
        assert mask.dtype == (ag.float32 if isinstance(mask, ag.Tensor) else torch.float32)


def test_encoder_layer_dropout_in_training_only(device):
    layer = nn.TransformerEncoderLayer(D, NHEAD, FF, dropout=0.3).double().to(device)
    x = ag.tensor(_x(L, N, D), device=device)
    layer.eval()
    ref = layer(x)
    assert ag.equal(ref, layer(x))
    layer.train()
    ag.manual_seed(0)
    assert not ag.allclose(layer(x), ref) and not ag.allclose(layer(x), layer(x))


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.TransformerEncoderLayer(D, NHEAD, activation="tanh"),
    lambda lib: lib.nn.TransformerDecoderLayer(D, NHEAD, activation="swish"),
    lambda lib: lib.nn.Transformer(D, NHEAD, 1, 1, FF)(lib.ones(S, N, D), lib.ones(L, N + 1, D)),
    lambda lib: lib.nn.Transformer(D, NHEAD, 1, 1, FF, batch_first=True)(lib.ones(N, S, D), lib.ones(N + 1, L, D)),
    lambda lib: lib.nn.Transformer(D, NHEAD, 1, 1, FF)(lib.ones(S, N, D), lib.ones(L, N, D + 2)),
    lambda lib: lib.nn.TransformerEncoderLayer(D, NHEAD)(lib.ones(L, N, D), src_mask=lib.ones(L, L + 1)),
    lambda lib: lib.nn.TransformerEncoderLayer(D, NHEAD)(lib.ones(L, N, D), is_causal=True),
])
def test_transformer_errors_match_torch(call):
    assert _raises_like_torch(call) is RuntimeError


# ---- a GPT block trained with Adam ------------------------------------------------------------------------
def _gpt(lib, vocab=11, block=6, d=8, heads=2, layers=2):
    nn_ = lib.nn

    class TinyGPT(nn_.Module):
        def __init__(self):
            super().__init__()
            self.token = nn_.Embedding(vocab, d)
            self.position = nn_.Embedding(block, d)
            layer = nn_.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, activation="gelu", batch_first=True,
                                                norm_first=True)
            self.blocks = nn_.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn_.LayerNorm(d)
            self.head = nn_.Linear(d, vocab)

        def forward(self, idx):
            t = idx.shape[1]
            x = self.token(idx) + self.position(lib.arange(t, device=idx.device))
            mask = nn_.Transformer.generate_square_subsequent_mask(t, device=idx.device, dtype=x.dtype)
            return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))

    return TinyGPT()


def test_gpt_trained_with_adam_follows_torch(device):
    ours, theirs = _pair(_gpt, device, seed=5)
    opt_o = ag.optim.Adam(ours.parameters(), lr=1e-2)
    opt_t = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    rng = np.random.default_rng(2)
    for step in range(8):
        idx = rng.integers(0, 11, size=(3, 6))
        inputs, targets = idx[:, :-1], idx[:, 1:]
        losses = []
        for model, opt, lib, dev in ((ours, opt_o, ag, device), (theirs, opt_t, torch, "cpu")):
            opt.zero_grad()
            logits = model(lib.tensor(inputs, device=dev))
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, 11), lib.tensor(targets, device=dev).reshape(-1))
            loss.backward()
            opt.step()
            losses.append(loss)
        _close(losses[0], losses[1], f"loss at step {step}")
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        # NOTE: Adam's steps are about lr in size even for tiny gradients, so rounding shows at ~1e-11
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-9,
                                   err_msg=f"{n} after 8 Adam steps")


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # numpy, in the softmax of a row of -inf
def test_query_with_every_key_masked_as_in_torch(device):
    """torch's weights path gives such a query NaN (a softmax of -inf only); its scaled_dot_product_attention
    path gives 0."""
    ours, theirs = _pair(lambda lib: lib.nn.MultiheadAttention(E, H, batch_first=True), device)
    x = _x(N, L, E)
    kpm = np.array([[True] * L, [False] * (L - 1) + [True]])
    for need_weights in (True, False):
        out_o, _ = ours(*[ag.tensor(x, device=device)] * 3, key_padding_mask=ag.tensor(kpm, device=device),
                        need_weights=need_weights)
        out_t, _ = theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm), need_weights=need_weights)
        assert np.isnan(out_t[0].detach().numpy()).all() == need_weights
        _close(out_o, out_t, f"fully masked query, need_weights={need_weights}")


@pytest.mark.parametrize("need_weights", [True, False])
def test_attention_train_steps_never_synchronise(need_weights):
    """A GPT and a MultiheadAttention with both kinds of masks, trained on cuda: no device-to-host transfer after
    the warm-up (counted by the CuPy stand-in; on a real GPU the steps just run)."""
    cupy = _device.cupy()
    sim = hasattr(cupy, "no_host_sync")
    ag.manual_seed(0)
    gpt = _gpt(ag).to("cuda")
    mha = nn.MultiheadAttention(8, 2, batch_first=True).to("cuda")
    opt = ag.optim.Adam([*gpt.parameters(), *mha.parameters()], lr=1e-2)
    idx = ag.randint(0, 11, (3, 6), device="cuda")
    kpm = ag.tensor([[False] * 5 + [True]] * 3, device="cuda")
    causal = ag.ones(6, 6, dtype=ag.bool, device="cuda").triu(1)

    def step():
        opt.zero_grad()
        h = gpt.token(idx)
        out, weights = mha(h, h, h, key_padding_mask=kpm, attn_mask=causal, need_weights=need_weights)
        loss = nn.functional.cross_entropy(gpt(idx).flatten(0, 1), idx.flatten()) + out.square().mean()
        if weights is not None:
            loss = loss + weights.square().mean()
        loss.backward()
        opt.step()
        return loss

    first = step().item()  # warm-up: Adam's state made, kernels compiled
    before = cupy.transfers["count"] if sim else None
    with cupy.no_host_sync() if sim else contextlib.nullcontext():
        for _ in range(2):
            loss = step()
    if sim:
        assert cupy.transfers["count"] == before
    assert np.isfinite(loss.item()) and loss.item() < first

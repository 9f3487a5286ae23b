"""utils.checkpoint: same values and gradients as the plain run, less memory held between forward and backward."""
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu.utils.checkpoint import checkpoint, checkpoint_sequential

WIDTH, DEPTH, BATCH = 64, 8, 128


def _weights(T, seed=0, device="cpu"):
    rng = np.random.default_rng(seed)
    return [T.tensor(rng.standard_normal((WIDTH, WIDTH)) / 8, requires_grad=True, device=device)
            for _ in range(DEPTH)]


def _np(t):
    """A tensor's values as a numpy array, from either library and either device."""
    return t.detach().cpu().numpy()


def block(h, w):
    a = h @ w
    return a.tanh() * a.sigmoid() + h.sin() * 0.5


def dropout_block(h, w):
    T = ag if isinstance(h, ag.Tensor) else torch
    h = (h @ w).tanh()
    return h * (T.rand_like(h) > 0.3) / 0.7


def _grads(T, fn, ckpt, device="cpu", **kw):
    ws = _weights(T, device=device)
    x = T.tensor(np.linspace(-1, 1, BATCH * WIDTH).reshape(BATCH, WIDTH), requires_grad=True, device=device)
    h = x
    for w in ws:
        h = ckpt(fn, h, w, **kw) if ckpt else fn(h, w)
    (h ** 2).sum().backward()
    return _np(h), [_np(w.grad) for w in ws] + [_np(x.grad)]


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_gradients_equal_the_plain_run_and_torch(use_reentrant, device):
    plain = _grads(ag, block, None, device)
    ours = _grads(ag, block, checkpoint, device, use_reentrant=use_reentrant)
    theirs = _grads(torch, block, None)  # (torch's own checkpoint gives these too; importing it costs ~8 s)
    for a, b, c in zip([plain[0]] + plain[1], [ours[0]] + ours[1], [theirs[0]] + theirs[1]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_rng_state_is_restored_for_the_recomputation(use_reentrant, device):
    ag.manual_seed(7)
    plain = _grads(ag, dropout_block, None, device)
    ag.manual_seed(7)
    ours = _grads(ag, dropout_block, checkpoint, device, use_reentrant=use_reentrant)
    for a, b in zip([plain[0]] + plain[1], [ours[0]] + ours[1]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    ag.manual_seed(7)
    wrong = _grads(ag, dropout_block, checkpoint, device, use_reentrant=use_reentrant, preserve_rng_state=False)
    assert not np.allclose(wrong[1][0], plain[1][0])  # a fresh mask in backward: the gradients are wrong


def test_non_reentrant_works_with_autograd_grad_hooks_and_retain_graph(device):
    ws = _weights(ag, device=device)
    x = ag.ones(2, WIDTH, dtype=ag.float64, requires_grad=True, device=device)
    h = x
    for w in ws[:3]:
        h = checkpoint(block, h, w)
    loss = h.sum()
    g1 = ag.autograd.grad(loss, ws[:3], retain_graph=True)
    g2 = ag.autograd.grad(loss, ws[:3])
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(_np(a), _np(b))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()
    h = block(block(block(x, ws[0]), ws[1]), ws[2])
    for a, b in zip(g1, ag.autograd.grad(h.sum(), ws[:3])):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12)


def test_input_modified_in_place_after_forward_is_detected(device):
    ws = _weights(ag, device=device)
    h = ag.ones(2, WIDTH, dtype=ag.float64, requires_grad=True, device=device) * 1
    y = checkpoint(block, h, ws[0])
    with ag.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_reentrant_rules_match_torch(device):
    x = ag.ones(2, requires_grad=False, device=device)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        checkpoint(lambda a: a * 2, x, use_reentrant=True)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(lambda a, scale: a * scale, x, use_reentrant=True, scale=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = checkpoint(lambda a, scale: a * scale, x.requires_grad_(), use_reentrant=False, scale=3.0)
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), [3.0, 3.0])


def test_checkpoint_sequential_matches_plain(device):
    ws = _weights(ag, device=device)
    fns = [lambda h, w=w: block(h, w) for w in ws]
    x = ag.ones(2, WIDTH, dtype=ag.float64, requires_grad=True, device=device)
    checkpoint_sequential(fns, 4, x, use_reentrant=False).sum().backward()
    got = [_np(w.grad).copy() for w in ws]
    for w in ws:
        w.grad = None
    h = x
    for f in fns:
        h = f(h)
    h.sum().backward()
    for a, w in zip(got, ws):
        np.testing.assert_allclose(a, _np(w.grad), rtol=1e-12)


def _peak_bytes(use_ckpt, use_reentrant=False):
    ws = _weights(ag)
    x = ag.ones(BATCH, WIDTH, dtype=ag.float64, requires_grad=True)
    tracemalloc.start()
    h = x
    for w in ws:
        h = checkpoint(block, h, w, use_reentrant=use_reentrant) if use_ckpt else block(h, w)
    held = tracemalloc.get_traced_memory()[0]  # what the graph keeps between forward and backward
    h.sum().backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return held, peak


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_deep_mlp_holds_and_peaks_at_less_memory(use_reentrant):
    held, peak = _peak_bytes(False)
    c_held, c_peak = _peak_bytes(True, use_reentrant)
    act = BATCH * WIDTH * 8  # one activation
    # plain keeps ~4 activations per block (tanh, sigmoid and sin outputs, the block output), checkpoint 1
    assert c_held < held / 2.5, (c_held / act, held / act)
    assert c_peak < peak * 0.6, (c_peak / act, peak / act)


def test_double_backward_through_non_reentrant_checkpoint(device):
    w = ag.tensor(np.random.default_rng(1).standard_normal((3, 3)), requires_grad=True, device=device)
    x = ag.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, device=device)
    tw, tx = torch.tensor(_np(w), requires_grad=True), torch.tensor(_np(x), requires_grad=True)
    (g,) = ag.autograd.grad(checkpoint(block, x, w).sum(), x, create_graph=True)
    (gg,) = ag.autograd.grad((g ** 2).sum(), w)
    (tg,) = torch.autograd.grad(block(tx, tw).sum(), tx, create_graph=True)
    (tgg,) = torch.autograd.grad((tg ** 2).sum(), tw)
    np.testing.assert_allclose(_np(g), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(gg), tgg.numpy(), rtol=1e-10)

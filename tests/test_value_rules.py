"""Differential tests of PyTorch's value and error rules (issue 12): each snippet runs under PyTorch (CPU) and
autograd_gpu (both devices); the results must be the same values, or the same exception type and message."""
import threading

import numpy as np
import pytest
import torch

import autograd_gpu as ag


def _outcome(fn, m, device):
    try:
        r = fn(m, device)
    except Exception as e:  # noqa: BLE001  (the exception is the result compared)
        return ("raises", type(e).__name__, str(e))
    return ("value", None if r is None else np.asarray(r.detach().cpu().numpy() if hasattr(r, "detach") else r))


def _same(fn, device):
    ours, theirs = _outcome(fn, ag, device), _outcome(fn, torch, "cpu")
    assert ours[0] == theirs[0], f"ours {ours}, PyTorch {theirs}"
    if ours[0] == "raises":  # (PyTorch ran on the CPU: its messages name CPU types)
        assert (ours[1], ours[2].replace("torch.cuda.", "torch.")) == theirs[1:]
    elif theirs[1] is None:
        assert ours[1] is None
    else:
        np.testing.assert_array_equal(ours[1], theirs[1])
        assert ours[1].dtype == theirs[1].dtype


# ---- hooks may change a gradient's values, never its size, dtype or count ------------------------------------
def _leaf(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        x.register_hook(hook)
        (x * 2).sum().backward()
        return x.grad
    return run


def _nonleaf(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        h = x * 2
        h.register_hook(hook)
        (h * 3).sum().backward()
        return x.grad
    return run


def _post(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        y = m.full((2, 3), 2.0, requires_grad=True, device=device)
        h = x * y
        h.grad_fn.register_hook(hook)
        h.sum().backward()
        return x.grad
    return run


def _pre(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        h = x * 2
        h.grad_fn.register_prehook(hook)
        h.sum().backward()
        return x.grad
    return run


HOOK_CASES = {
    "leaf-values": _leaf(lambda g: g * 3),
    "leaf-size": _leaf(lambda g: g[:1]),
    "leaf-reshape": _leaf(lambda g: g.reshape(3, 2)),
    "leaf-double": _leaf(lambda g: g.double()),
    "leaf-long": _leaf(lambda g: g.long()),
    "leaf-float": _leaf(lambda g: 1.0),
    "nonleaf-values": _nonleaf(lambda g: g + 1),
    "nonleaf-reshape": _nonleaf(lambda g: g.reshape(3, 2)),
    "nonleaf-double": _nonleaf(lambda g: g.double()),
    "nonleaf-list": _nonleaf(lambda g: [g]),
    "post-values": _post(lambda gi, go: (gi[0] * 0, gi[1])),
    "post-none": _post(lambda gi, go: (None, gi[1])),
    "post-more": _post(lambda gi, go: (gi[0], gi[1], gi[0])),
    "post-fewer": _post(lambda gi, go: (gi[0],)),
    "post-size": _post(lambda gi, go: (gi[0][:1], gi[1])),
    "post-double": _post(lambda gi, go: (gi[0].double(), gi[1])),
    "post-not-tuple": _post(lambda gi, go: gi[0]),
    "pre-values": _pre(lambda go: (go[0] * 5,)),
    "pre-more": _pre(lambda go: (go[0], go[0])),
    "pre-size": _pre(lambda go: (go[0][:1],)),
    "pre-double": _pre(lambda go: (go[0].double(),)),
    "pre-not-tuple": _pre(lambda go: go[0]),
}


@pytest.mark.parametrize("name", HOOK_CASES)
def test_hook_results_are_checked_as_pytorch_checks_them(name, device):
    _same(HOOK_CASES[name], device)


# ---- concurrent backward into one shared leaf -----------------------------------------------------------------
def test_concurrent_backward_into_a_shared_leaf_loses_no_update(device):
    """4 threads x 30 backwards of sum(x * 2) into one leaf of 2,000,000 elements: every element gets 240
    (PyTorch accumulates thread-safely)."""
    x = ag.zeros(2_000_000, requires_grad=True, device=device)
    errors = []

    def work():
        try:
            for _ in range(30):
                (x * 2).sum().backward()
        except Exception as e:  # noqa: BLE001  (reported by the assert below)
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    g = x.grad.cpu().numpy()
    assert (g == 240).all(), f"{int((g != 240).sum())} elements lost updates (min {g.min()})"


# ---- gradients at NaN ---------------------------------------------------------------------------------------
def _reduce_grad(name, values):
    def run(m, device):
        x = m.tensor(values, requires_grad=True, device=device)
        getattr(x, name)().backward()
        return x.grad
    return run


NAN = float("nan")


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
@pytest.mark.parametrize("values", [[1.0, NAN, 3.0, NAN], [2.0, 5.0, 5.0, 1.0], [NAN]], ids=["nans", "tie", "nan"])
def test_full_reduction_gradient_at_nan_and_ties(name, values, device):
    """max()/min() send the gradient to the NaNs (PyTorch's evenly_distribute_backward); amax/amin give NaN."""
    _same(_reduce_grad(name, values), device)

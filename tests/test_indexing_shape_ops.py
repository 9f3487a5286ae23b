"""Issue 11, scatter, gather and shape: PyTorch parity of the cases that op_cases' table cannot state (mixed
integer and tensor indices with their setitem, multiple ellipses, nonzero of a 0-d tensor, roll and pad edge
cases) and the error types of the new ops, on both devices."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag
from test_ops_parity import _node, _on, assert_same

# ---- indexing: PyTorch applies integer indices (and 0-d integer tensors) first, as selects ------------------
MIXED = [
    ("int, slice, 2-d tensor", lambda m, x: x[1, :, m.tensor([[0, 1]])]),
    ("tensor, slice, int", lambda m, x: x[m.tensor([0, 1]), :, 1]),
    ("int, tensor, slice", lambda m, x: x[1, m.tensor([0, 1]), :]),
    ("slice, int, tensor", lambda m, x: x[:, 1, m.tensor([0, 1])]),
    ("None, int, slice, tensor", lambda m, x: x[None, 1, :, m.tensor([0, 2])]),
    ("int, ellipsis, tensor", lambda m, x: x[1, ..., m.tensor([0, 2])]),
    ("tensor, ellipsis, int", lambda m, x: x[m.tensor([0, 1]), ..., 1]),
    ("tensor, None, tensor", lambda m, x: x[m.tensor([0, 1]), None, m.tensor([0, 1])]),
    ("int, slice, mask", lambda m, x: x[1, :, m.tensor([True, False, True, False, False, False])]),
    ("int, slice, list", lambda m, x: x[1, :, [0, 1]]),
    ("tensor, int, tensor", lambda m, x: x[m.tensor([0, 1]), 1, m.tensor([0, 1])]),
    ("negative int, partial slice, tensor", lambda m, x: x[-1, 1:3, m.tensor([[0, 1]])]),
    ("0-d tensor, slice, tensor", lambda m, x: x[m.tensor(1), :, m.tensor([[0, 1]])]),
    ("0-d tensors", lambda m, x: x[m.tensor(1), :, m.tensor(0)]),
    ("0-d tensor", lambda m, x: x[m.tensor(1)]),
    ("two ellipses", lambda m, x: x[..., ...]),
    ("ellipsis, int, ellipsis", lambda m, x: x[..., 0, ...]),
    ("ellipsis, None, ellipsis", lambda m, x: x[..., None, ...]),
    ("ellipsis, tensor, ellipsis", lambda m, x: x[..., m.tensor([0, 1]), ...]),
]


def _run(fn, m, x, device):
    return (fn if m is torch or device == "cpu" else _on(device, fn))(m, x)


@pytest.mark.parametrize("fn", [c[1] for c in MIXED], ids=[c[0] for c in MIXED])
def test_mixed_indices(fn, device):
    x = np.random.default_rng(0).standard_normal((2, 5, 6))
    xs = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = _run(fn, ag, xs, device), fn(torch, xt)
    assert_same(ys, yt)
    assert _node(ys) == _node(yt)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (ys * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(xs.grad, xt.grad)


@pytest.mark.parametrize("fn", [c[1] for c in MIXED], ids=[c[0] for c in MIXED])
def test_mixed_indices_setitem(fn, device):
    """x[idx] = v writes where x[idx] reads, with v of the read's shape; gradients to x and v as PyTorch's."""
    x = np.random.default_rng(2).standard_normal((2, 5, 6))
    outs = []
    for m in (ag, torch):
        dev = device if m is ag else "cpu"
        base = m.tensor(x, device=dev, requires_grad=True)
        shape = tuple(_run(fn, m, base, device).shape)
        v = m.tensor(np.random.default_rng(3).standard_normal(shape), device=dev, requires_grad=True)
        y = base * 1
        index = _index_of(fn, m, device)
        y[index] = v
        w = m.tensor(np.random.default_rng(4).standard_normal(x.shape), device=dev)
        (y * w).sum().backward()
        outs.append((y, _node(y), base.grad, v.grad))
    (ys, ns, gxs, gvs), (yt, nt, gxt, gvt) = outs
    assert_same(ys, yt)
    assert ns == nt
    assert_same(gxs, gxt)
    assert_same(gvs, gvt)


def _index_of(fn, m, device):
    """The index `fn` applies (fn(m, x) is x[index])."""
    class Grab:
        def __getitem__(self, index):
            return index
    return _run(fn, m, Grab(), device)


def test_nonzero_of_0d(device):
    for v in (3.0, 0.0):
        ours, theirs = ag.tensor(v, device=device), torch.tensor(v)
        assert_same(ours.nonzero(), theirs.nonzero())
        assert_same(ag.nonzero(ours, as_tuple=True)[0], torch.nonzero(theirs, as_tuple=True)[0])
        assert len(ours.nonzero(as_tuple=True)) == 1


ROLLS = [
    ("flattened", lambda m, x: x.roll(2)),
    ("flattened tuple", lambda m, x: x.roll((1,))),
    ("dims", lambda m, x: x.roll((1, -2), (-1, 0))),
    ("repeated dim", lambda m, x: x.roll((1, 2), (1, 1))),
    ("0-d", lambda m, x: x.sum().roll(1)),
    ("pad circular negative", lambda m, x: m.nn.functional.pad(x, (-1, 2), mode="circular")),
    ("pad circular crop both", lambda m, x: m.nn.functional.pad(x, (2, -1, -1, 1), mode="circular")),
    ("pad circular crop only", lambda m, x: m.nn.functional.pad(x, (-2, -1), mode="circular")),
    ("pad circular wide", lambda m, x: m.nn.functional.pad(x, (-4, 1, 1, 1), mode="circular")),
]


@pytest.mark.parametrize("fn", [c[1] for c in ROLLS], ids=[c[0] for c in ROLLS])
def test_roll_and_circular_pad(fn, device):
    x = np.random.default_rng(5).standard_normal((2, 5, 6))
    xs = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = fn(ag, xs), fn(torch, xt)
    assert_same(ys, yt)
    w = np.random.default_rng(6).standard_normal(tuple(yt.shape))
    (ys * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(xs.grad, xt.grad)


# ---- error types ------------------------------------------------------------------------------------------
ERRORS = [
    ("roll shifts and dims do not align", lambda m, x: x.roll((1, 2), (0,))),
    ("roll one shift two dims", lambda m, x: x.roll(1, (0, 1))),
    ("roll tuple shifts without dims", lambda m, x: x.roll((1, 2))),
    ("roll no shifts", lambda m, x: x.roll(())),
    ("roll 0-d with dim", lambda m, x: x.sum().roll(1, 0)),
    ("roll bad dim", lambda m, x: x.roll(1, 3)),
    ("pad circular wraps twice", lambda m, x: m.nn.functional.pad(x, (7, 0), mode="circular")),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn, device):
    x = np.arange(60.0).reshape(2, 5, 6)
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.tensor(x))
    with pytest.raises(Exception) as ours:
        fn(ag, ag.tensor(x, device=device))
    assert type(ours.value) is type(theirs.value), (
        f"ours raised {type(ours.value).__name__}: {ours.value}; torch raised {type(theirs.value).__name__}: "
        f"{theirs.value}")
    assert str(ours.value), "the error needs a message"

"""nn.functional activations with a row of their own: modules (repr, forward, in place) against torch.nn,
and PyTorch's errors for bad arguments."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import nn

MODULES = [
    lambda m: m.CELU(), lambda m: m.CELU(2.0, inplace=True), lambda m: m.SELU(), lambda m: m.ELU(0.5),
    lambda m: m.Hardtanh(-2.0, 3.0), lambda m: m.ReLU6(inplace=True), lambda m: m.Threshold(0.1, 2.0),
    lambda m: m.Threshold(-0.2, 0.5, True), lambda m: m.Softshrink(), lambda m: m.Hardshrink(0.3),
    lambda m: m.Softsign(), lambda m: m.Tanhshrink(), lambda m: m.GLU(), lambda m: m.GLU(0),
    lambda m: m.Hardsigmoid(), lambda m: m.Hardswish(), lambda m: m.LogSigmoid(), lambda m: m.Mish(),
]


@pytest.mark.parametrize("make", MODULES, ids=lambda f: repr(f(torch.nn)))
def test_module_matches_torch(make, device):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).uniform(-4, 7, (4, 6))
    xa = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa * 1), theirs(xt * 1)  # (a non-leaf: in-place modules write into it)
    np.testing.assert_allclose(ya.detach().cpu().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (ya * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    # (rtol: PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float, even in float64)
    np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-12)


def test_inplace_writes_into_the_input():
    for f in (lambda F, x: F.hardtanh(x, inplace=True), lambda F, x: F.celu(x, inplace=True),
              lambda F, x: F.threshold(x, 0.0, 5.0, inplace=True), lambda F, x: F.hardswish(x, inplace=True)):
        x = ag.tensor([-3.5, -0.5, 0.25, 4.0])
        y = f(nn.functional, x)
        assert y is x
        t = torch.tensor([-3.5, -0.5, 0.25, 4.0])
        f(torch.nn.functional, t)
        np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-6)


ERRORS = [
    ("softshrink negative lambda", lambda m, x: m.nn.functional.softshrink(x, -0.5)),
    ("hardtanh min > max", lambda m, x: m.nn.functional.hardtanh(x, 2.0, 1.0)),
    ("celu alpha 0", lambda m, x: m.nn.functional.celu(x, 0.0)),
    ("elu of int", lambda m, x: m.nn.functional.elu(m.tensor([1, 2]))),
    ("hardsigmoid of int", lambda m, x: m.nn.functional.hardsigmoid(m.tensor([1, 2]))),
    ("softshrink of int", lambda m, x: m.nn.functional.softshrink(m.tensor([1, 2]))),
    ("hardshrink of int", lambda m, x: m.nn.functional.hardshrink(m.tensor([1, 2]))),
    ("glu odd dim", lambda m, x: m.nn.functional.glu(x)),
    ("glu scalar", lambda m, x: m.nn.functional.glu(x.sum())),
    ("glu bad dim", lambda m, x: m.nn.functional.glu(x, 2)),
    ("glu of int", lambda m, x: m.nn.functional.glu(m.zeros(2, 4, dtype=m.long))),
    ("logsigmoid of int", lambda m, x: m.nn.functional.logsigmoid(m.tensor([1, 2]))),
    ("hardtanh Module min > max", lambda m, x: m.nn.Hardtanh(1.0, -1.0)),
    ("hardtanh in place on a leaf", lambda m, x: m.nn.functional.hardtanh(x.requires_grad_(), inplace=True)),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.zeros(2, 3))
    with pytest.raises(Exception) as ours:
        fn(ag, ag.zeros(2, 3))
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
    assert str(ours.value)

"""Property tests: random broadcast-compatible shapes and values for the binary ops; values and gradients
must equal PyTorch's (float64)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

import autograd_gpu as ag

SETTINGS = settings(max_examples=30, deadline=None)


def _values(shape, lo, hi):
    return arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


def _away_from_zero(shape):
    """|x| in [0.5, 2] (denominators)."""
    return st.tuples(_values(shape, 0.5, 2.0), arrays(np.bool_, shape)).map(lambda p: np.where(p[1], -p[0], p[0]))


def check_against_torch(fn, device, *inputs, rtol=1e-10, atol=1e-12):
    """fn(m, *tensors) with every input a float64 leaf; compare the output and all input gradients."""
    ours = [ag.tensor(a, device=device, requires_grad=True) for a in inputs]
    theirs = [torch.tensor(a, requires_grad=True) for a in inputs]
    y, yt = fn(ag, *ours), fn(torch, *theirs)
    assert tuple(y.shape) == tuple(yt.shape) and str(y.dtype) == str(yt.dtype)
    np.testing.assert_allclose(y.detach().cpu().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    gs = ag.autograd.grad((y * ag.tensor(w, device=device)).sum(), ours, allow_unused=True)
    gts = torch.autograd.grad((yt * torch.tensor(w)).sum(), theirs, allow_unused=True)
    for i, (g, gt, x) in enumerate(zip(gs, gts, inputs)):
        g = np.zeros(x.shape) if g is None else g.cpu().numpy()
        gt = np.zeros(x.shape) if gt is None else gt.numpy()
        assert g.shape == x.shape
        np.testing.assert_allclose(g, gt, rtol=rtol, atol=atol, err_msg=f"grad of input {i}")


def _pair(lo=-2.0, hi=2.0, other=None):
    """Two arrays of mutually broadcastable shapes (up to 3 dims, sides 0..3)."""
    def build(shapes):
        a, b = shapes.input_shapes
        return st.tuples(_values(a, lo, hi), other(b) if other else _values(b, lo, hi))
    return mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3).flatmap(build)


BINARY = {
    "add": (lambda m, a, b: a + b, _pair()),
    "sub": (lambda m, a, b: m.sub(a, b, alpha=0.5), _pair()),
    "mul": (lambda m, a, b: a * b, _pair()),
    "div": (lambda m, a, b: a / b, _pair(other=_away_from_zero)),
    "pow": (lambda m, a, b: a ** b, _pair(other=lambda s: _values(s, -2.0, 2.0)).map(
        lambda p: (np.abs(p[0]) + 0.5, p[1]))),  # positive base
    # NOTE: values on a coarse grid so ties happen: both libraries split a tie's gradient evenly
    "maximum": (lambda m, a, b: m.maximum(a, b), _pair().map(lambda p: (np.round(p[0]), np.round(p[1])))),
    "minimum": (lambda m, a, b: m.minimum(a, b), _pair().map(lambda p: (np.round(p[0]), np.round(p[1])))),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_match_torch(name, device):
    fn, strategy = BINARY[name]

    @SETTINGS
    @given(strategy)
    def run(pair):
        check_against_torch(fn, device, *pair)

    run()


@SETTINGS
@given(mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3).flatmap(
    lambda s: st.tuples(arrays(np.bool_, s.input_shapes[0]), _values(s.input_shapes[1], -2, 2),
                        _values(s.input_shapes[2], -2, 2))))
def test_where_matches_torch(args):
    cond, a, b = args
    for device in _devices():
        check_against_torch(lambda m, x, y: m.where(m.tensor(cond, device=_dev(m, device)), x, y), device, a, b)


@st.composite
def _matmul_shapes(draw):
    """Shapes a PyTorch matmul accepts: 1-D or (batch..., n, k) @ (batch..., k, m) with broadcast batches."""
    n, k, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    a = (k,) if draw(st.booleans()) and not batch[0] else batch[0] + (n, k)
    b = (k,) if draw(st.booleans()) and not batch[1] else batch[1] + (k, m)
    return a, b


@SETTINGS
@given(_matmul_shapes().flatmap(lambda s: st.tuples(_values(s[0], -2, 2), _values(s[1], -2, 2))))
def test_matmul_matches_torch(pair):
    for device in _devices():
        check_against_torch(lambda m, a, b: m.matmul(a, b), device, *pair)


def _devices():
    from conftest import DEVICES
    return DEVICES


def _dev(m, device):
    return device if m is ag else "cpu"

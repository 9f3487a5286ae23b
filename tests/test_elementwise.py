"""The elementwise ops of issue 11 beyond the op table's cases: PyTorch's error types on bad inputs, the shift
operators and their in-place forms, and in-place variants that must refuse (dtype, leaf)."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag
from op_cases import to_numpy


def _inputs(m):
    return m.tensor([0.5, -1.5, 2.0]), m.tensor([1, -2, 3])


ERRORS = [
    ("atan2 python other", lambda m, x, i: m.atan2(x, 2.0)),
    ("hypot python other", lambda m, x, i: m.hypot(x, 2.0)),
    ("logaddexp python other", lambda m, x, i: m.logaddexp(x, 1.0)),
    ("logaddexp2 python other", lambda m, x, i: x.logaddexp2(1)),
    ("fmax python other", lambda m, x, i: m.fmax(x, 1.0)),
    ("fmin python other", lambda m, x, i: x.fmin(0)),
    ("hypot of ints", lambda m, x, i: m.hypot(i, i)),
    ("logaddexp of ints", lambda m, x, i: m.logaddexp(i, i)),
    ("logaddexp2 of ints", lambda m, x, i: m.logaddexp2(i, i)),
    ("atan2 shape mismatch", lambda m, x, i: m.atan2(x, m.ones(2))),
    ("xlogy shape mismatch", lambda m, x, i: m.xlogy(x, m.ones(2))),
    ("lerp end dtype", lambda m, x, i: m.lerp(x, x.double(), 0.5)),
    ("lerp weight dtype", lambda m, x, i: m.lerp(x, x, x.double())),
    ("lerp of ints", lambda m, x, i: m.lerp(i, i, 0.5)),
    ("lerp of ints tensor weight", lambda m, x, i: m.lerp(i, i, i)),
    ("lerp python end", lambda m, x, i: m.lerp(x, 1.0, 0.5)),
    ("heaviside python values", lambda m, x, i: m.heaviside(x, 0.5)),
    ("heaviside dtypes differ", lambda m, x, i: m.heaviside(x, i)),
    ("left shift of floats", lambda m, x, i: x << 1),
    ("right shift of floats", lambda m, x, i: m.bitwise_right_shift(x, x)),
    ("shift by a float", lambda m, x, i: i << 1.5),
    ("shift of bools", lambda m, x, i: (i > 0) >> (i > 1)),
    ("in-place shift of floats", lambda m, x, i: x.bitwise_left_shift_(1)),
    ("in-place float result into int", lambda m, x, i: i.atan2_(i)),
    ("in-place logit of int", lambda m, x, i: i.logit_()),
    ("in-place on a leaf", lambda m, x, i: x.requires_grad_().asinh_()),
    ("in-place heaviside broadcast", lambda m, x, i: x[:1].heaviside_(x)),
    ("float_power_ of float32", lambda m, x, i: x.float_power_(2)),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch, *_inputs(torch))
    with pytest.raises(Exception) as ours:
        fn(ag, *_inputs(ag))
    assert type(ours.value) is type(theirs.value), (
        f"ours raised {type(ours.value).__name__}: {ours.value}; torch raised {type(theirs.value).__name__}: "
        f"{theirs.value}")
    assert str(ours.value), "the error needs a message"


SHIFTS = [
    ("<<=", lambda m, a, b: a.__ilshift__(b)),
    (">>=", lambda m, a, b: a.__irshift__(b)),
    ("<<= 2", lambda m, a, b: a.__ilshift__(2)),
    ("bitwise_left_shift_", lambda m, a, b: a.bitwise_left_shift_(b)),
    ("bitwise_right_shift_", lambda m, a, b: a.bitwise_right_shift_(b)),
]


@pytest.mark.parametrize("fn", [s[1] for s in SHIFTS], ids=[s[0] for s in SHIFTS])
def test_in_place_shifts(fn, device):
    ours = ag.tensor([1, -8, 3, 5], device=device)
    theirs = torch.tensor([1, -8, 3, 5])
    out = fn(ag, ours, ag.tensor([1, 2, 64, -1], device=device))
    fn(torch, theirs, torch.tensor([1, 2, 64, -1]))
    assert out is ours and ours._version == 1
    np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())


def test_shift_operators_in_an_expression(device):
    x = ag.tensor([3, 5], dtype=ag.int32, device=device)
    t = torch.tensor([3, 5], dtype=torch.int32)
    for fn in (lambda v: (v << 2) >> 1, lambda v: 1 << v, lambda v: 64 >> v, lambda v: v << v):
        got, want = fn(x), fn(t)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(to_numpy(got), want.numpy())


def test_in_place_values_keep_their_history(device):
    # lerp_/xlogy_/copysign_ on a non-leaf: the values and the gradient through the rewritten history
    for name, args in (("lerp_", lambda m, y: (y, 0.25)), ("xlogy_", lambda m, y: (y.exp(),)),
                       ("copysign_", lambda m, y: (-y,)), ("logit_", lambda m, y: (0.1,)),
                       ("nan_to_num_", lambda m, y: ()), ("erfinv_", lambda m, y: ())):
        grads = []
        for m, dev in ((ag, device), (torch, "cpu")):
            a = m.tensor([0.2, 0.4, 0.7], dtype=m.float64, device=dev, requires_grad=True)
            b = m.tensor([0.9, 0.1, 0.5], dtype=m.float64, device=dev)
            z = a * 1
            out = getattr(z, name)(*args(m, b))
            assert out is z
            z.sum().backward()
            grads.append((to_numpy(z), to_numpy(a.grad), type(z.grad_fn).__name__))
        np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12, err_msg=name)
        assert grads[0][2] == grads[1][2], name


# ---- random broadcast shapes and values on a coarse grid (ties, zeros), float64, against torch -------------------
from hypothesis import given, settings  # noqa: E402

from test_ops_hypothesis import _pair, check_against_torch  # noqa: E402


def _grid(p):
    return np.round(p[0] * 2) / 2, np.round(p[1] * 2) / 2


GRID_BINARY = {
    "atan2": lambda m, a, b: m.atan2(a, b),
    "hypot": lambda m, a, b: m.hypot(a, b),
    "logaddexp": lambda m, a, b: m.logaddexp(a, b),
    "logaddexp2": lambda m, a, b: m.logaddexp2(a, b),
    "copysign": lambda m, a, b: m.copysign(a, b),
    "fmax": lambda m, a, b: m.fmax(a, b),
    "fmin": lambda m, a, b: m.fmin(a, b),
    "xlogy": lambda m, a, b: m.xlogy(a, b.abs()),
    "lerp": lambda m, a, b: m.lerp(a, b, (b - a).tanh()),
}


@pytest.mark.parametrize("name", list(GRID_BINARY))
def test_binary_ops_on_a_grid_match_torch(name, device):
    @settings(max_examples=25, deadline=None)
    @given(_pair().map(_grid))
    def run(pair):
        check_against_torch(GRID_BINARY[name], device, *pair)

    run()

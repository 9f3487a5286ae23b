"""Table-driven gradcheck and gradgradcheck (float64, central differences) over every case of op_cases.

gradcheck: L = sum_k <w_k, y_k> over the differentiable outputs with random weights w; the analytic dL/dx
from autograd_gpu.autograd.grad must equal the central difference of L in each input element.
gradgradcheck: M = sum_i <v_i, dL/dx_i> with the first-order grads taken with create_graph=True; the
analytic dM/d(x, w) must equal the central difference of M (each M computed by a first-order grad).
Differentiating in w too checks that every backward formula is differentiable in the incoming gradient.
"""
import numpy as np
import pytest

import autograd_gpu as ag
from op_cases import CASES, build, grad_arrays, to_numpy

GRAD_CASES = [c for c in CASES if c.grad]
GRADGRAD_CASES = [c for c in CASES if c.gradgrad]
EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-6


def numeric_grads(f, arrays, eps=EPS):
    """Central differences of the scalar f() in every element of `arrays` (perturbed in place)."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            hi = f()
            a[i] = old - eps
            lo = f()
            a[i] = old
            g[i] = (hi - lo) / (2 * eps)
        grads.append(g)
    return grads


def _as_arrays(grads, like):
    out = []
    for g, x in zip(grads, like):
        if g is None:
            out.append(np.zeros(tuple(x.shape)))
        else:
            assert tuple(g.shape) == tuple(x.shape) and g.dtype == x.dtype, (g.shape, x.shape, g.dtype)
            out.append(to_numpy(g))
    return out


def _setup(case, device):
    xs = grad_arrays(case)
    _, leaves, ys = build(case, ag, ag.float64, device, xs)
    sel = [k for k, y in enumerate(ys) if y.requires_grad]
    assert sel, f"{case.id}: no output requires grad"
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(tuple(ys[k].shape)) for k in sel]
    return xs, sel, ws


def _loss(ys, sel, wts):
    return sum((ys[k] * w).sum() for k, w in zip(sel, wts))


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c.id)
def test_gradcheck(case, device):
    xs, sel, ws = _setup(case, device)
    _, leaves, ys = build(case, ag, ag.float64, device, xs)
    wts = [ag.tensor(w, device=device) for w in ws]
    analytic = _as_arrays(ag.autograd.grad(_loss(ys, sel, wts), leaves, allow_unused=True), leaves)

    def f():
        _, _, ys = build(case, ag, ag.float64, device, xs, requires_grad=False)
        return float(sum(np.sum(to_numpy(ys[k]) * w) for k, w in zip(sel, ws)))

    for i, (a, n) in enumerate(zip(analytic, numeric_grads(f, xs))):
        np.testing.assert_allclose(a, n, rtol=RTOL, atol=ATOL, err_msg=f"{case.id}: d/d input {i}")


@pytest.mark.parametrize("case", GRADGRAD_CASES, ids=lambda c: c.id)
def test_gradgradcheck(case, device):
    xs, sel, ws = _setup(case, device)
    rng = np.random.default_rng(1)
    vs = [rng.standard_normal(x.shape) for x in xs]

    def second(create_graph):
        _, leaves, ys = build(case, ag, ag.float64, device, xs)
        wts = [ag.tensor(w, device=device, requires_grad=True) for w in ws]
        gs = ag.autograd.grad(_loss(ys, sel, wts), leaves, create_graph=create_graph, allow_unused=True)
        m = sum((g * ag.tensor(v, device=device)).sum() for g, v in zip(gs, vs) if g is not None)
        return m, leaves + wts

    m, variables = second(True)
    if isinstance(m, ag.Tensor) and m.requires_grad:
        analytic = _as_arrays(ag.autograd.grad(m, variables, allow_unused=True), variables)
    else:  # the first-order grad does not depend on any input: all second derivatives are 0
        analytic = [np.zeros(tuple(v.shape)) for v in variables]
    numeric = numeric_grads(lambda: float(second(False)[0]), xs + ws)
    names = [f"input {i}" for i in range(len(xs))] + [f"grad_output {i}" for i in range(len(ws))]
    for a, n, name in zip(analytic, numeric, names):
        np.testing.assert_allclose(a, n, rtol=RTOL, atol=ATOL, err_msg=f"{case.id}: d2/d {name}")

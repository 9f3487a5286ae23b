"""erf and erfinv on the CPU (vectorised fdlibm / Giles + Newton) against math.erf and torch, and GELU
(approximate='none', built on erf) against torch.nn.functional.gelu: values and gradients."""
import math

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu.ops.special import _erf_array, _erfc_array, _erfinv_array

_rng = np.random.default_rng(11)
_EDGES = [0.0, -0.0, 5e-324, -5e-324, 1e-310, 2.0 ** -28, -(2.0 ** -29), 1e-8, 0.84375, -0.84375, 1.25, -1.25,
          2.857142857142857, 5.9, 6.0, -6.0, 27.0, 1e300, -1e300]


def ulps(got, ref):
    """|got - ref| in units of ref's last place (in ref's dtype)."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref)
    return np.abs(got - ref) / np.spacing(np.abs(ref)).astype(np.float64)


def points(n):
    return np.concatenate([np.linspace(-10, 10, n), _rng.standard_normal(n // 10) * 1e-3, _EDGES])


def test_erf_float64_within_two_ulp_of_math_erf():
    x = points(100_000)
    ref = np.array([math.erf(v) for v in x])
    got = _erf_array(np, x)
    assert got.dtype == np.float64 and got.shape == x.shape
    assert ulps(got, ref).max() <= 2
    assert np.array_equal(np.signbit(got), np.signbit(ref))  # erf(-0) = -0, erf of a negative is negative


def test_erf_float32_rounds_like_math_erf():
    x = points(100_000)
    x = x[np.abs(x) < 1e30].astype(np.float32)
    ref = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    got = _erf_array(np, x)
    assert got.dtype == np.float32
    assert ulps(got, ref).max() <= 1
    assert np.count_nonzero(got != ref) <= 5


def test_erf_special_values_shapes_and_dtypes():
    got = _erf_array(np, np.array([np.inf, -np.inf, np.nan]))
    assert got[0] == 1.0 and got[1] == -1.0 and np.isnan(got[2])
    assert _erf_array(np, np.zeros((2, 0, 3))).shape == (2, 0, 3)
    x = _rng.uniform(-3, 3, (4, 5)).T  # non-contiguous
    np.testing.assert_array_equal(_erf_array(np, x), np.vectorize(math.erf)(x))
    half = _erf_array(np, np.array([0.5, -1.0, 3.0], np.float16))
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half, np.array([math.erf(0.5), math.erf(-1.0), math.erf(3.0)], np.float16))


def test_erfinv_matches_torch_and_inverts_erf():
    y = np.concatenate([_rng.uniform(-1, 1, 20_000), 1 - 10.0 ** -_rng.uniform(0, 16, 2_000),
                        [0.0, -0.0, 1e-300, np.nextafter(1.0, 0.0), -np.nextafter(1.0, 0.0)]])
    got = _erfinv_array(np, y)
    want = torch.erfinv(torch.from_numpy(y)).numpy()
    assert ulps(got, want).max() <= 4
    assert ulps(_erf_array(np, got), y).max() <= 2
    np.testing.assert_array_equal(_erfinv_array(np, np.array([1.0, -1.0, 1.5, -2.0, np.nan])),
                                  [np.inf, -np.inf, np.nan, np.nan, np.nan])
    y32 = _rng.uniform(-0.9999, 0.9999, 20_000).astype(np.float32)
    got32 = _erfinv_array(np, y32)
    assert got32.dtype == np.float32
    # (the oracle: float64 erfinv rounded to float32, not torch's float32 CPU kernel, whose bits vary by CPU)
    ref32 = torch.erfinv(torch.from_numpy(y32.astype(np.float64))).numpy().astype(np.float32)
    assert ulps(got32, ref32).max() <= 1


# NOTE: the oracle is PyTorch in float64 (for float32 inputs: the float64 result rounded to float32), never
# PyTorch's float32 CPU kernel, whose last bits depend on the CPU (AVX2 and AVX-512 builds differ by an ulp).
# For x << 0, 1 + erf(x/sqrt 2) ~ 0 keeps only an absolute accuracy of about |x| * eps (torch computes it the
# same way), hence the bound eps * (|ref| + max(|x|, 1)) per point, with a factor 2 of headroom (measured: 0.5
# of it forward, 0.72 backward).
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gelu_matches_torch_on_many_points(device, dtype):
    x = np.concatenate([_rng.standard_normal(100_000) * 3, _EDGES[:-2], [-40.0, 40.0]]).astype(dtype)
    t = torch.tensor(x.astype(np.float64), requires_grad=True)
    a = ag.tensor(x, requires_grad=True, device=device)
    g = _rng.standard_normal(x.size).astype(dtype)
    want = torch.nn.functional.gelu(t)
    got = ag.nn.functional.gelu(a)
    want.backward(torch.from_numpy(g.astype(np.float64)))
    got.backward(ag.tensor(g, device=device))
    assert got.dtype == getattr(ag, dtype) and a.grad.dtype == getattr(ag, dtype)
    eps = np.finfo(dtype).eps
    ref = want.detach().numpy().astype(dtype).astype(np.float64)
    gref = t.grad.numpy().astype(dtype).astype(np.float64)
    spread = np.maximum(np.abs(x.astype(np.float64)), 1)
    fwd_err = np.abs(got.detach().cpu().numpy() - ref) / (eps * (np.abs(ref) + spread))
    bwd_err = np.abs(a.grad.cpu().numpy() - gref) / (eps * (np.abs(gref) + np.abs(g) * spread))
    assert fwd_err.max() <= 2 and bwd_err.max() <= 2, (fwd_err.max(), bwd_err.max())


def test_erfc_float64_within_four_ulp_of_math_erfc():
    # (the tail x >= 1.25 keeps its relative accuracy down to the last subnormal, where erf's 1 - erf would be 0)
    x = np.concatenate([points(100_000), np.linspace(-6, 27.5, 20_000), [27.3, 28.0, 40.0, -40.0]])
    ref = np.array([math.erfc(v) for v in x])
    got = _erfc_array(np, x)
    assert got.dtype == np.float64 and got.shape == x.shape
    normal = np.abs(ref) >= np.finfo(np.float64).tiny
    assert ulps(got[normal], ref[normal]).max() <= 4
    np.testing.assert_allclose(got[~normal], ref[~normal], rtol=0, atol=1e-323)


def test_erfc_float32_special_values_and_shapes():
    x = points(20_000)
    x = x[np.abs(x) < 1e30].astype(np.float32)
    ref = np.array([math.erfc(float(v)) for v in x]).astype(np.float32)
    got = _erfc_array(np, x)
    assert got.dtype == np.float32
    assert ulps(got, ref).max() <= 1
    special = _erfc_array(np, np.array([np.inf, -np.inf, np.nan, 0.0, -0.0]))
    np.testing.assert_array_equal(special, [0.0, 2.0, np.nan, 1.0, 1.0])
    assert _erfc_array(np, np.zeros((0, 2))).shape == (0, 2)

"""float16/bfloat16 arithmetic against PyTorch's CPU kernels, bit for bit. mul and div (true, trunc, floor) with a
number or a 0-d tensor as second operand compute in float32 from that operand's own value and round once
(PyTorch's original_scalar_value<opmath_t>), which numpy, rounding the operand to the tensor's dtype first,
does not; lerp computes in float32 for float16. Only + - * / on half inputs: float32 results of these are
correctly rounded, so the bits do not depend on which CPU kernels PyTorch or numpy pick."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag

DTYPES = ["float16", "bfloat16"]
# a 1-element scalar of each kind: its value as a Python number, and (dtype or None) for a 0-d tensor
SCALARS = [(0.1234567, None), (0.37, "float32"), (1e-5 + 1e-9, "float64"), (2049, None), (2049, "int64"),
           (7, "int64"), (-3.3, None), (0.1234567, "float16"), (0.1234567, "bfloat16")]


def _values(dtype, n=2000, scale=3.0):
    x = np.random.default_rng(len(dtype)).standard_normal(n).astype(np.float32) * scale
    return x


def _both(m, x, dtype, device):
    t = m.tensor(x).to(getattr(m, dtype))
    return t.to(device) if m is ag else t


def _scalar(m, v, dt, device):
    if dt is None:
        return v
    t = m.tensor(v, dtype=getattr(m, dt))
    return t.to(device) if m is ag else t


def _bits_equal(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    a = np.asarray(ours.detach().cpu().float().numpy())
    b = theirs.detach().float().numpy()
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), f"{(~same).sum()} of {same.size} differ, e.g. ours {a[~same][:3]}, PyTorch {b[~same][:3]}"
    # (float32 holds every half exactly: equal float32 values are equal bits, but for the sign of zero)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


_OPS = {
    "mul": lambda m, x, s: x * s,
    "rmul": lambda m, x, s: s * x if not hasattr(s, "dim") else m.mul(x, s),
    "div": lambda m, x, s: x / s,
    "rdiv": lambda m, x, s: 1.37 / x,  # (reciprocal(x) * 1.37, as PyTorch's __rtruediv__)
    "div_trunc": lambda m, x, s: m.div(x, s, rounding_mode="trunc"),
    "div_floor": lambda m, x, s: m.div(x, s, rounding_mode="floor"),
    "floor_divide": lambda m, x, s: m.floor_divide(x, s),
    "mul_": lambda m, x, s: x.clone().mul_(s),
    "div_": lambda m, x, s: x.clone().div_(s),
    "mul_view": lambda m, x, s: x[::2] * s,  # (a view: apply's general path)
    "add": lambda m, x, s: x + s,
    "sub": lambda m, x, s: x - s,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: f"{s[0]}-{s[1] or 'number'}")
@pytest.mark.parametrize("op", list(_OPS))
def test_reduced_float_op_with_a_scalar_is_bitwise_torch(op, scalar, dtype, device):
    v, dt = scalar
    x = _values(dtype, scale=40.0 if op in ("div_trunc", "div_floor", "floor_divide") else 3.0)
    f = _OPS[op]
    theirs = f(torch, _both(torch, x, dtype, "cpu"), _scalar(torch, v, dt, "cpu"))
    ours = f(ag, _both(ag, x, dtype, device), _scalar(ag, v, dt, "cpu" if dt is not None else device))
    _bits_equal(ours, theirs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reduced_float_scalar_of_the_other_reduced_dtype(dtype, device):
    # bfloat16 * a 0-d float16: the result is bfloat16, the float16 value read unrounded to bfloat16
    other = "float16" if dtype == "bfloat16" else "bfloat16"
    x = _values(dtype)
    theirs = _both(torch, x, dtype, "cpu") * torch.tensor(0.1234, dtype=getattr(torch, other))
    ours = _both(ag, x, dtype, device) * ag.tensor(0.1234, dtype=getattr(ag, other), device=device)
    _bits_equal(ours, theirs)


@pytest.mark.parametrize("op", ["mul", "div", "add", "sub"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_reduced_float_tensor_op_tensor_is_bitwise_torch(op, dtype, device):
    # half op half in float32 rounds once to the correctly rounded half (float32 has over 2 * 11 + 2 bits), as
    # numpy's float16 and ml_dtypes' bfloat16 compute it
    x, y = _values(dtype), _values(dtype)[::-1].copy()
    f = {"mul": lambda a, b: a * b, "div": lambda a, b: a / b, "add": lambda a, b: a + b,
         "sub": lambda a, b: a - b}[op]
    _bits_equal(f(_both(ag, x, dtype, device), _both(ag, y, dtype, device)),
                f(_both(torch, x, dtype, "cpu"), _both(torch, y, dtype, "cpu")))


@pytest.mark.parametrize("weight", ["number", "tensor"])
def test_float16_lerp_computes_in_float32(weight, device):
    # start and end in [1, 2) and a weight of 11 bits: every product and difference is exact in float32, so
    # fused or not, PyTorch's kernels round once from the same float32 value
    rng = np.random.default_rng(5)
    a, b = (1 + rng.integers(0, 1024, 2000) / 1024).astype(np.float32), (1 + rng.integers(0, 1024, 2000) / 1024)
    w = rng.integers(-1024, 2048, 2000).astype(np.float32) / 1024
    if weight == "number":
        for wv in (0.3330078125, 0.7509765625):
            _bits_equal(_both(ag, a, "float16", device).lerp(_both(ag, b, "float16", device), wv),
                        _both(torch, a, "float16", "cpu").lerp(_both(torch, b, "float16", "cpu"), wv))
    else:
        _bits_equal(_both(ag, a, "float16", device).lerp(_both(ag, b, "float16", device),
                                                          _both(ag, w, "float16", device)),
                    _both(torch, a, "float16", "cpu").lerp(_both(torch, b, "float16", "cpu"),
                                                           _both(torch, w, "float16", "cpu")))


def test_float32_mul_by_a_number_is_unchanged(device):
    # the float32 path: the number as numpy and PyTorch read it (a float32), computed in float32
    x = _values("float32")
    _bits_equal(ag.tensor(x, device=device) * 0.1234567, torch.tensor(x) * 0.1234567)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reduced_float_trunc_division_by_a_one_element_tensor(dtype, device):
    # a 1-element second operand is a scalar to PyTorch's TensorIterator too: trunc of the float32 quotient
    x = _values(dtype)
    theirs = torch.div(_both(torch, x, dtype, "cpu"), torch.tensor([0.1234567]).to(getattr(torch, dtype)),
                       rounding_mode="trunc")
    ours = ag.div(_both(ag, x, dtype, device), ag.tensor([0.1234567], device=device).to(getattr(ag, dtype)),
                  rounding_mode="trunc")
    _bits_equal(ours, theirs)

"""Top-level torch names: finfo/iinfo, global flags, tensor predicates; checked against PyTorch."""
import warnings

import pytest
import torch as pt

import autograd_gpu as torch

FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    a, b = torch.finfo(getattr(torch, name)), pt.finfo(getattr(pt, name))
    for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(a, k) == getattr(b, k) and type(getattr(a, k)) is type(getattr(b, k)), k
    assert repr(a) == repr(b)


def test_finfo_default_and_errors():
    assert torch.finfo().dtype == pt.finfo().dtype == "float32"
    assert torch.finfo(float).dtype == pt.finfo(float).dtype
    for bad, ptbad in ((torch.int32, pt.int32), (torch.bool, pt.bool), ("x", "x"), (3, 3)):
        with pytest.raises(TypeError) as ours:
            torch.finfo(bad)
        with pytest.raises(TypeError) as theirs:
            pt.finfo(ptbad)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    a, b = torch.iinfo(getattr(torch, name)), pt.iinfo(getattr(pt, name))
    for k in ("bits", "max", "min", "dtype"):
        assert getattr(a, k) == getattr(b, k) and type(getattr(a, k)) is type(getattr(b, k)), k
    assert repr(a) == repr(b)


@pytest.mark.parametrize("bad", ["float32", "bool", "x", 3])
def test_iinfo_errors_match_torch(bad):
    ours, theirs = (getattr(m, bad) if isinstance(bad, str) and hasattr(m, bad) else bad for m in (torch, pt))
    with pytest.raises(TypeError) as e1:
        torch.iinfo(ours)
    with pytest.raises(TypeError) as e2:
        pt.iinfo(theirs)
    assert str(e1.value) == str(e2.value)


def test_matmul_precision_and_deterministic_flags():
    assert torch.get_float32_matmul_precision() == "highest"
    try:
        torch.set_float32_matmul_precision("medium")
        assert torch.get_float32_matmul_precision() == "medium"
        with pytest.warns(UserWarning):
            torch.set_float32_matmul_precision("bad")
        assert torch.get_float32_matmul_precision() == "medium"
        with pytest.raises(RuntimeError, match="expects a str"):
            torch.set_float32_matmul_precision(3)
    finally:
        torch.set_float32_matmul_precision("highest")
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
        with pytest.raises(TypeError, match="must be bool"):
            torch.use_deterministic_algorithms(1)
    finally:
        torch.use_deterministic_algorithms(False)
    assert not torch.are_deterministic_algorithms_enabled()


def test_is_inference_mode_enabled():
    assert not torch.is_inference_mode_enabled()
    with torch.inference_mode():
        assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()
        with torch.inference_mode(False):
            assert not torch.is_inference_mode_enabled()
    assert not torch.is_inference_mode_enabled()

    @torch.inference_mode
    def f():
        return torch.is_inference_mode_enabled()
    assert f() and not torch.is_inference_mode_enabled()


def test_tensor_predicates(device):
    for dt in ("float32", "uint8", "int64", "bool"):
        x, y = torch.zeros(2, 3, dtype=getattr(torch, dt), device=device), pt.zeros(2, 3, dtype=getattr(pt, dt))
        assert torch.is_signed(x) == pt.is_signed(y) and x.is_signed() == y.is_signed()
        assert torch.is_complex(x) is pt.is_complex(y) is False
    for v in ([3.0], [[0.0]], 0.0, float("nan")):
        assert torch.is_nonzero(torch.tensor(v, device=device)) == pt.is_nonzero(pt.tensor(v))
    for v, msg in (([], "no values"), ([1.0, 2.0], "more than one value")):
        with pytest.raises(RuntimeError, match=msg):
            torch.tensor(v, device=device).is_nonzero()
    a = torch.zeros(2, 3, device=device)
    assert torch.is_same_size(a, torch.ones(2, 3, device=device)) and not a.is_same_size(torch.ones(3, 2, device=device))
    with pytest.raises(TypeError, match="position 2"):
        torch.is_same_size(a, 3)
    with pytest.raises(TypeError, match="must be Tensor"):
        torch.is_nonzero(3)

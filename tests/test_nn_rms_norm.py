"""nn.RMSNorm and F.rms_norm against torch 2.13: outputs, input and weight gradients (float64, float32, and
float16 / bfloat16 computed in float32 as torch's composite), eps=None's machine epsilon against a hand-computed
value, the backward graph's node names, the errors in torch's order, the module's repr, state_dict and
reset_parameters, and no host transfer on the device."""
import contextlib

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _device, nn
from autograd_gpu.nn import functional as F
from test_nn_layers import _graph, check_module, close

_rng = np.random.default_rng(14)
cupy = _device.cupy()
SIM = hasattr(cupy, "no_host_sync")

MODULES = [
    ("last-dim", lambda m: m.RMSNorm(5), [(3, 5)]),
    ("two-dims-eps", lambda m: m.RMSNorm([3, 4], eps=1e-3), [(2, 3, 4)]),
    ("size-arg", lambda m: m.RMSNorm(torch.Size([4]) if m is torch.nn else ag.Size([4])), [(2, 3, 4)]),
    ("no-affine", lambda m: m.RMSNorm(4, elementwise_affine=False), [(2, 3, 4)]),
    ("1d-input", lambda m: m.RMSNorm(6, eps=0.0), [(6,)]),
]


@pytest.mark.parametrize("name,make,shapes", MODULES, ids=[c[0] for c in MODULES])
def test_rms_norm_module_parity(name, make, shapes, device):
    torch.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    if theirs.weight is not None:  # not all ones, so that the weight's part of the gradients shows
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(_rng.uniform(0.5, 1.5, tuple(theirs.weight.shape))))
    check_module(ours, theirs, shapes, device=device)


@pytest.mark.parametrize("name,make,shapes", MODULES[:2], ids=[c[0] for c in MODULES[:2]])
def test_rms_norm_module_parity_float32(name, make, shapes, device):
    check_module(make(nn), make(torch.nn), shapes, device=device, dtype="float32", rtol=1e-5, atol=1e-6)


def _low(shape, dtype):
    """float32 values that the low-precision dtype holds exactly (so both sides start from the same numbers)."""
    x = torch.tensor(_rng.standard_normal(shape), dtype=dtype)
    return x.float().numpy()


@pytest.mark.parametrize("dtype,rtol", [("float16", 2e-3), ("bfloat16", 1.6e-2)])
@pytest.mark.parametrize("weight_dtype", ["same", "float32", None])
def test_rms_norm_half_computes_in_float32(dtype, rtol, weight_dtype, device):
    # torch upcasts float16 / bfloat16 to float32, multiplies by the weight there and casts the result back once:
    # so the output (and each gradient) is within a rounding of the low-precision dtype of torch's
    tdt, adt = getattr(torch, dtype), getattr(ag, dtype)
    x, w, g = _low((3, 4, 8), tdt), _low((8,), tdt), _low((3, 4, 8), tdt)
    xt = torch.tensor(x).to(tdt).requires_grad_()
    xa = ag.tensor(x, device=device).to(adt).requires_grad_()
    wt = wa = None
    if weight_dtype is not None:
        wdt_t, wdt_a = (tdt, adt) if weight_dtype == "same" else (torch.float32, ag.float32)
        wt = torch.tensor(w).to(wdt_t).requires_grad_()
        wa = ag.tensor(w, device=device).to(wdt_a).requires_grad_()
    yt, ya = torch.nn.functional.rms_norm(xt, (8,), wt), F.rms_norm(xa, (8,), wa)
    assert str(ya.dtype) == str(yt.dtype) == f"torch.{dtype}"
    assert type(ya.grad_fn).__name__ == type(yt.grad_fn).__name__ == "ToCopyBackward0"
    (yt * torch.tensor(g).to(tdt)).sum().backward()
    (ya * ag.tensor(g, device=device).to(adt)).sum().backward()
    for a, t, what in [(ya, yt, "output"), (xa.grad, xt.grad, "input grad")] + (
            [(wa.grad, wt.grad, "weight grad")] if wt is not None else []):
        assert str(a.dtype) == str(t.dtype), what
        np.testing.assert_allclose(a.detach().float().cpu().numpy(), t.detach().float().numpy(), rtol=rtol,
                                   atol=rtol, err_msg=what)


@pytest.mark.parametrize("dtype,eps", [("float64", np.finfo(np.float64).eps), ("float32", np.finfo(np.float32).eps),
                                       ("float16", np.finfo(np.float32).eps), ("bfloat16", np.finfo(np.float32).eps)])
def test_rms_norm_default_eps_is_the_computation_dtypes_epsilon(dtype, eps, device):
    # a constant input of 1e-4: mean(x^2) = 1e-8, so the result is 1e-4 / sqrt(1e-8 + eps)
    x = ag.full((2, 3), 1e-4, dtype=getattr(ag, dtype), device=device)
    value = float(x[0, 0].item())  # (1e-4 as the dtype holds it)
    expected = value / np.sqrt(value * value + eps)
    got = F.rms_norm(x, (3,)).double().cpu().numpy()
    ulp = {"float64": 1e-13, "float32": 1e-6, "float16": 1e-3, "bfloat16": 8e-3}[dtype]
    np.testing.assert_allclose(got, np.full((2, 3), expected), rtol=ulp)
    t = torch.nn.functional.rms_norm(torch.full((2, 3), 1e-4, dtype=getattr(torch, dtype)), (3,))
    np.testing.assert_allclose(got, t.double().numpy(), rtol=ulp)


def _torch_names(graph):
    # the one difference: torch's composite adds eps with add_(Scalar) (AddBackward1); our add records AddBackward0
    name, children = graph
    return ("AddBackward0" if name == "AddBackward1" else name, [_torch_names(c) for c in children])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("affine", [True, False], ids=["weight", "noweight"])
def test_rms_norm_graph_as_torch(dtype, affine, device):
    x = _rng.standard_normal((2, 5))
    xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    xa = ag.tensor(x, dtype=getattr(ag, dtype), device=device, requires_grad=True)
    wt = torch.ones(5, dtype=getattr(torch, dtype), requires_grad=True) if affine else None
    wa = ag.ones(5, dtype=getattr(ag, dtype), device=device, requires_grad=True) if affine else None
    yt, ya = torch.nn.functional.rms_norm(xt, [5], wt), F.rms_norm(xa, [5], wa)
    assert _graph(ya) == _torch_names(_graph(yt))


def test_rms_norm_empty_inputs(device):
    for shape, normalized in [((4, 0), (0,)), ((0, 3), (3,))]:
        x = np.zeros(shape)
        ya, yt = F.rms_norm(ag.tensor(x, device=device), normalized), torch.nn.functional.rms_norm(torch.tensor(x),
                                                                                                    normalized)
        assert tuple(ya.shape) == tuple(yt.shape)
        close(ya, yt, f"{shape}")


ERRORS = [
    ("empty-shape", (2, 3), (), (3,), "float32"),
    ("weight-shape", (2, 3), (3,), (1, 3), "float32"),
    ("weight-before-dims", (3,), (2, 3), (3,), "float32"),
    ("too-few-dims", (3,), (2, 3), None, "float32"),
    ("too-few-dims-0d", (), (1,), None, "float32"),
    ("shape", (2, 3), (2, 4), None, "float32"),
    ("shape-one", (2, 4), (3,), None, "float32"),
    ("negative", (2, 3), (-3,), None, "float32"),
    ("int-input", (2, 3), (3,), None, "int64"),
    ("bool-input", (2, 3), (3,), None, "bool"),
    ("shape-before-dtype", (2, 3), (4,), None, "int64"),
    ("dims-before-dtype", (3,), (2, 3), None, "int32"),
    ("int-shape", (2, 3), 3, None, "float32"),
    ("float-in-shape", (2, 3), [3.0], None, "float32"),
    ("none-shape", (2, 3), None, None, "float32"),
]


@pytest.mark.parametrize("name,shape,normalized,weight,dtype", ERRORS, ids=[e[0] for e in ERRORS])
def test_rms_norm_errors_as_torch(name, shape, normalized, weight, dtype, device):
    with pytest.raises(Exception) as theirs:
        torch.nn.functional.rms_norm(torch.ones(shape, dtype=getattr(torch, dtype)), normalized,
                                     None if weight is None else torch.ones(weight))
    with pytest.raises(theirs.type) as ours:
        F.rms_norm(ag.ones(shape, dtype=getattr(ag, dtype), device=device), normalized,
                   None if weight is None else ag.ones(weight, device=device))
    assert str(ours.value) == str(theirs.value)


def test_rms_norm_int_weight_promotes_as_torch(device):
    x = _rng.standard_normal((2, 3))
    wt, wa = torch.tensor([1, 2, 3]), ag.tensor([1, 2, 3], device=device)
    yt = torch.nn.functional.rms_norm(torch.tensor(x, dtype=torch.float32), [3], wt)
    ya = F.rms_norm(ag.tensor(x, dtype=ag.float32, device=device), [3], wa)
    assert str(ya.dtype) == str(yt.dtype)
    close(ya, yt, "output", 1e-6, 1e-7)


def test_rms_norm_module_api(device):
    for args, kwargs in [((4,), {}), (([2, 3],), {"eps": 1e-3, "elementwise_affine": False}),
                         ((3,), {"dtype": "float64"})]:
        kw_t = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kwargs.items()}
        kw_a = {k: (getattr(ag, v) if k == "dtype" else v) for k, v in kwargs.items()}
        ours, theirs = nn.RMSNorm(*args, device=device, **kw_a), torch.nn.RMSNorm(*args, **kw_t)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert ours.normalized_shape == theirs.normalized_shape and ours.eps == theirs.eps
        assert ours.__constants__ == theirs.__constants__
        assert hasattr(ours, "bias") == hasattr(theirs, "bias") == False  # noqa: E712
        if theirs.weight is None:
            assert ours.weight is None
            continue
        assert str(ours.weight.dtype) == str(theirs.weight.dtype) and ours.weight.device.type == device
        with ag.no_grad():
            ours.weight.mul_(3.0)
        ours.reset_parameters()
        close(ours.weight, theirs.weight, "reset_parameters")


def test_rms_norm_no_host_sync_on_device():
    # (on a GPU machine the stand-in's transfer counter is not there: then this runs the same steps unchecked)
    m = nn.RMSNorm(8).to("cuda")
    x = ag.randn(4, 8, device="cuda", requires_grad=True)
    xh = ag.randn(4, 8, device="cuda", dtype=ag.float16, requires_grad=True)
    with cupy.no_host_sync() if SIM else contextlib.nullcontext():
        m(x).sum().backward()
        F.rms_norm(xh, (8,)).sum().backward()
    assert x.grad is not None and xh.grad.dtype == ag.float16 and m.weight.grad is not None

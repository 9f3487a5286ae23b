"""Sorting, selection, cumulative ops and the reductions of issue 11, beyond the table's cases: PyTorch's return
types, tie and NaN rules, cumprod's gradient at zeros, the `axis=` alias, no host sync on the GPU path, and the
error types PyTorch raises for bad inputs."""
import contextlib
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _device
from op_cases import to_numpy
from test_ops_parity import assert_same

cupy = _device.cupy()


def _host_sync_forbidden(device):
    return cupy.no_host_sync() if device == "cuda" and hasattr(cupy, "no_host_sync") else contextlib.nullcontext()


def _both(x, device, requires_grad=False):
    return (ag.tensor(x, device=device, requires_grad=requires_grad), torch.tensor(x, requires_grad=requires_grad))


# ---- return types ---------------------------------------------------------------------------------------
NAMED = [
    ("sort", lambda m, x: m.sort(x, 1), ("values", "indices")),
    ("topk", lambda m, x: x.topk(2), ("values", "indices")),
    ("kthvalue", lambda m, x: x.kthvalue(2, 0), ("values", "indices")),
    ("median", lambda m, x: x.median(1), ("values", "indices")),
    ("mode", lambda m, x: m.mode(x, 0), ("values", "indices")),
    ("cummax", lambda m, x: x.cummax(1), ("values", "indices")),
    ("cummin", lambda m, x: m.cummin(x, 0), ("values", "indices")),
    ("aminmax", lambda m, x: x.aminmax(dim=1), ("min", "max")),
]


@pytest.mark.parametrize("name,fn,fields", NAMED, ids=[n[0] for n in NAMED])
def test_named_tuple_results(name, fn, fields, device):
    x = np.random.default_rng(0).permutation(12).reshape(3, 4).astype(np.float64)
    xs, xt = _both(x, device, True)
    ours, theirs = fn(ag, xs), fn(torch, xt)
    assert type(ours).__name__ == type(theirs).__name__ == name
    for f in fields:
        assert_same(getattr(ours, f), getattr(theirs, f), what=f"{name}.{f}")
    assert tuple(ours) == tuple(getattr(ours, f) for f in fields)
    assert type(ours[0].grad_fn).__name__ == type(theirs[0].grad_fn).__name__
    assert not ours[1].requires_grad if fields[1] == "indices" else ours[1].requires_grad


def test_std_mean_and_var_mean_are_plain_tuples():
    x = ag.randn(3, 4)
    assert type(ag.std_mean(x, 1)) is tuple and type(ag.var_mean(x)) is tuple
    assert not hasattr(ag.Tensor, "std_mean") and not hasattr(torch.Tensor, "std_mean")


# ---- ties, stability, NaN -------------------------------------------------------------------------------
TIES = [
    ("sort stable", lambda m, x: m.sort(x, dim=1, stable=True)),
    ("sort stable descending", lambda m, x: m.sort(x, dim=1, descending=True, stable=True)),
    ("sort stable dim0", lambda m, x: m.sort(x, dim=0, stable=True)),
    ("argsort stable descending", lambda m, x: m.argsort(x, dim=1, descending=True, stable=True)),
    ("mode", lambda m, x: x.mode(1)),
    ("mode dim0", lambda m, x: x.mode(0)),
    ("cummax", lambda m, x: x.cummax(1)),
    ("cummin", lambda m, x: x.cummin(1)),
    ("unique dim0", lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True)),
    ("unique", lambda m, x: m.unique(x, return_inverse=True, return_counts=True)),
]


@pytest.mark.parametrize("fn", [t[1] for t in TIES], ids=[t[0] for t in TIES])
@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8"])
def test_ties(fn, dtype, device):
    x = np.array([[3, 1, 2, 1, 3, 1], [0, 5, 5, 4, 0, 5], [3, 1, 2, 1, 3, 1], [2, 2, 2, 2, 2, 2]], dtype=dtype)
    ours, theirs = fn(ag, ag.tensor(x, device=device)), fn(torch, torch.tensor(x))
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    for o, t in zip(ours, theirs):
        assert_same(o, t)


NANS = [
    ("sort", lambda m, x: x.sort(1)),
    ("sort descending", lambda m, x: x.sort(1, descending=True)),
    ("topk", lambda m, x: x.topk(2, 1)),
    ("median", lambda m, x: x.median()),
    ("median dim", lambda m, x: x.median(1)),
    ("nansum", lambda m, x: x.nansum(1)),
    ("nanmean", lambda m, x: x.nanmean(1)),
    ("quantile", lambda m, x: x.quantile(0.5, 1)),
    ("nanquantile", lambda m, x: x.nanquantile(0.5, 1)),
    ("cummax", lambda m, x: x.cummax(1)),
    ("cummin", lambda m, x: x.cummin(1)),
    ("unique", lambda m, x: m.unique(x, return_counts=True)),
    ("mode, NaN not the mode", lambda m, x: x[:2].mode(1)),
    ("aminmax", lambda m, x: x.aminmax(dim=1)),
    ("cumprod", lambda m, x: x.cumprod(1)),
    ("searchsorted", lambda m, x: m.searchsorted(x[1].sort().values, x[0])),
]


@pytest.mark.parametrize("fn", [t[1] for t in NANS], ids=[t[0] for t in NANS])
def test_nan(fn, device):
    x = np.array([[1.0, np.nan, 2.0, -1.0], [3.0, 0.5, -2.0, 1.5], [np.nan, 4.0, np.nan, 0.0]])
    ours, theirs = fn(ag, ag.tensor(x, device=device)), fn(torch, torch.tensor(x))
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    for o, t in zip(ours, theirs):
        assert_same(o, t)


def test_median_ties_share_the_gradient_evenly(device):
    xs, xt = _both([1.0, 2.0, 2.0, 3.0], device, True)
    xs.median().backward()
    xt.median().backward()
    assert_same(xs.grad, xt.grad)


# ---- cumprod at zeros -----------------------------------------------------------------------------------
ZEROS = [np.array([0.0, 2.0, 3.0, 0.5]), np.array([2.0, 0.0, 3.0, 0.0, 0.5]), np.array([0.0, 0.0, 0.0]),
         np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 1.0], [3.0, -1.0, 0.5]])]


@pytest.mark.parametrize("x", ZEROS, ids=lambda x: str(x.tolist()))
@pytest.mark.parametrize("dim", [0, -1])
def test_cumprod_gradients_with_zeros(x, dim, device):
    w = np.random.default_rng(1).standard_normal(x.shape)
    xs, xt = _both(x, device, True)
    ws, wt = ag.tensor(w, device=device), torch.tensor(w)
    gs, = ag.autograd.grad((xs.cumprod(dim) * ws).sum(), xs, create_graph=True)
    gt, = torch.autograd.grad((xt.cumprod(dim) * wt).sum(), xt, create_graph=True)
    assert_same(gs, gt, rtol=1e-12, atol=1e-12)
    ggs, = ag.autograd.grad((gs * ws).sum(), xs)
    ggt, = torch.autograd.grad((gt * wt).sum(), xt)
    assert_same(ggs, ggt, rtol=1e-12, atol=1e-12)


def test_cumprod_long_axis_matches_torch(device):
    x = np.random.default_rng(2).uniform(0.5, 1.5, (3, 37))
    x[0, 5] = x[1, 0] = x[1, 36] = x[2, 10] = x[2, 20] = 0.0
    xs, xt = _both(x, device, True)
    xs.cumprod(1).sum().backward()
    xt.cumprod(1).sum().backward()
    assert_same(xs.grad, xt.grad, rtol=1e-10, atol=1e-12)


def test_logcumsumexp_grad_of_huge_inputs_is_finite(device):
    x = np.array([1000.0, 999.0, -1000.0, 1000.0])
    xs, xt = _both(x, device, True)
    (xs.logcumsumexp(0) * ag.tensor([1.0, -2.0, 0.5, 1.0], device=device)).sum().backward()
    (xt.logcumsumexp(0) * torch.tensor([1.0, -2.0, 0.5, 1.0], dtype=torch.float64)).sum().backward()
    assert np.isfinite(to_numpy(xs.grad)).all()
    assert_same(xs.grad, xt.grad)


# ---- axis= and dtype= -----------------------------------------------------------------------------------
AXIS = ["sum", "mean", "prod", "amax", "amin", "max", "min", "std", "var", "argmax", "argmin", "logsumexp",
        "cumsum", "cumprod", "nansum", "nanmean", "count_nonzero", "median", "mode", "sort", "argsort", "cummax",
        "cummin", "logcumsumexp", "aminmax", "all", "any"]


@pytest.mark.parametrize("name", AXIS)
def test_axis_is_an_alias_of_dim(name, device):
    x = np.random.default_rng(3).permutation(12).reshape(3, 4).astype(np.float32)
    if name in ("all", "any"):
        x = x > 5
    xs, xt = ag.tensor(x, device=device), torch.tensor(x)
    for ours, theirs in ((getattr(ag, name)(xs, axis=1), getattr(torch, name)(xt, axis=1)),
                         (getattr(xs, name)(axis=0), getattr(xt, name)(axis=0))):
        ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
        for o, t in zip(ours, theirs):
            assert_same(o, t, what=name)


@pytest.mark.parametrize("call", [lambda m, x: m.topk(x, 2, axis=1), lambda m, x: m.kthvalue(x, 2, axis=0),
                                  lambda m, x: m.quantile(x, 0.5, axis=1), lambda m, x: m.nanquantile(x, 0.2, axis=0),
                                  lambda m, x: m.std_mean(x, axis=1), lambda m, x: m.var_mean(x, axis=0)],
                         ids=["topk", "kthvalue", "quantile", "nanquantile", "std_mean", "var_mean"])
def test_axis_of_ops_with_more_arguments(call):
    x = np.random.default_rng(4).permutation(12).reshape(3, 4).astype(np.float32)
    for o, t in zip(call(ag, ag.tensor(x)), call(torch, torch.tensor(x))):
        assert_same(o, t)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "cumsum", "cumprod", "nansum", "nanmean"])
def test_dtype_argument(name, device):
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    ours = getattr(ag.tensor(x, device=device), name)(1, dtype=ag.float64)
    theirs = getattr(torch.tensor(x), name)(1, dtype=torch.float64)
    assert_same(ours, theirs)


# ---- the GPU path does not synchronise (except unique, whose output size depends on the data) ----------------
NO_SYNC = [
    lambda x: x.sort(1, descending=True).values, lambda x: x.argsort(0), lambda x: x.topk(2).values,
    lambda x: x.kthvalue(2, 1).values, lambda x: x.median(), lambda x: x.median(0).values,
    lambda x: x.mode(1).values, lambda x: x.cumprod(1), lambda x: x.cummax(1).values,
    lambda x: x.logcumsumexp(0), lambda x: ag.std_mean(x, 1)[0], lambda x: x.nansum(), lambda x: x.nanmean(0),
    lambda x: x.count_nonzero(0), lambda x: x.aminmax().max, lambda x: x.quantile(0.3, 1),
    lambda x: ag.searchsorted(x.sort(1).values, x), lambda x: ag.bucketize(x, x[0].sort().values),
]


@pytest.mark.parametrize("fn", NO_SYNC)
def test_no_host_sync_forward_and_backward(fn):
    x = ag.tensor(np.random.default_rng(5).standard_normal((3, 4)), device="cuda", requires_grad=True)
    with _host_sync_forbidden("cuda"):
        y = fn(x)
        if y.requires_grad:
            y.sum().backward()


# ---- errors ---------------------------------------------------------------------------------------------
ERRORS = [
    ("sort bad dim", lambda m, x, s: x.sort(2)),
    ("argsort bad dim", lambda m, x, s: x.argsort(-3)),
    ("topk k too large", lambda m, x, s: x.topk(5)),
    ("topk negative k", lambda m, x, s: x.topk(-1)),
    ("topk bad dim", lambda m, x, s: x.topk(1, 2)),
    ("kthvalue k too large", lambda m, x, s: x.kthvalue(5)),
    ("kthvalue k zero", lambda m, x, s: x.kthvalue(0)),
    ("median of empty dim", lambda m, x, s: x[:0].median(0)),
    ("mode of empty", lambda m, x, s: m.ones(0).mode()),
    ("cumprod bad dim", lambda m, x, s: x.cumprod(2)),
    ("cummax bad dim", lambda m, x, s: x.cummax(-3)),
    ("logcumsumexp of int", lambda m, x, s: s.logcumsumexp(0)),
    ("cumsum of 0-d bad dim", lambda m, x, s: x[0, 0].cumsum(1)),
    ("searchsorted shape mismatch", lambda m, x, s: m.searchsorted(x, m.ones(4, 3))),
    ("searchsorted side and right", lambda m, x, s: m.searchsorted(s, s, right=True, side="left")),
    ("searchsorted bad side", lambda m, x, s: m.searchsorted(s, s, side="middle")),
    ("searchsorted float sorter", lambda m, x, s: m.searchsorted(s, s, sorter=s.float())),
    ("searchsorted sorter size", lambda m, x, s: m.searchsorted(s, s, sorter=s[:2])),
    ("bucketize 2-d boundaries", lambda m, x, s: m.bucketize(s, x)),
    ("unique bad dim", lambda m, x, s: m.unique(x, dim=2)),
    ("quantile q above 1", lambda m, x, s: x.quantile(1.5)),
    ("quantile q below 0", lambda m, x, s: m.quantile(x, -0.1, 1)),
    ("quantile 2-d q", lambda m, x, s: x.quantile(m.full((2, 2), 0.5))),
    ("quantile q dtype", lambda m, x, s: x.quantile(m.tensor([0.5], dtype=m.float64))),
    ("quantile bad interpolation", lambda m, x, s: x.quantile(0.5, interpolation="cubic")),
    ("quantile of int", lambda m, x, s: s.quantile(0.5)),
    ("quantile of empty", lambda m, x, s: m.ones(0).quantile(0.5)),
    ("nanquantile bad dim", lambda m, x, s: x.nanquantile(0.5, 2)),
    ("std_mean of int", lambda m, x, s: m.std_mean(s)),
    ("var_mean bad dim", lambda m, x, s: m.var_mean(x, 3)),
    ("nanmean of int", lambda m, x, s: s.nanmean()),
    ("nansum bad dim", lambda m, x, s: x.nansum(2)),
    ("count_nonzero bad dim", lambda m, x, s: x.count_nonzero(3)),
    ("aminmax of empty", lambda m, x, s: m.ones(0).aminmax()),
    ("aminmax bad dim", lambda m, x, s: x.aminmax(dim=2)),
    ("aminmax over an empty dim", lambda m, x, s: x[:0].aminmax(dim=0)),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn):
    def args(m):
        return m.arange(12.0).reshape(3, 4), m.tensor([1, 2, 3])
    with pytest.raises(Exception) as theirs:
        fn(torch, *args(torch))
    with pytest.raises(Exception) as ours:
        fn(ag, *args(ag))
    assert type(ours.value) is type(theirs.value), (
        f"ours raised {type(ours.value).__name__}: {ours.value}; torch raised {type(theirs.value).__name__}: "
        f"{theirs.value}")
    assert str(ours.value), "the error needs a message"


def test_empty_median_is_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(ag.ones(0).median(), torch.ones(0).median())


# ---- empty, length-1 and 0-d inputs ---------------------------------------------------------------------
_E, _L1, _S = np.zeros((0, 3)), np.array([[2.0], [0.0], [3.0]]), np.array(2.0)
EDGES = [
    ("cumprod empty", lambda m, x: x.cumprod(0), _E), ("cumprod empty dim1", lambda m, x: x.cumprod(1), _E),
    ("cumprod length 1", lambda m, x: x.cumprod(1), _L1), ("cummax empty", lambda m, x: x.cummax(0), _E),
    ("cummax length 1", lambda m, x: x.cummax(1), _L1), ("logcumsumexp empty", lambda m, x: x.logcumsumexp(0), _E),
    ("logcumsumexp length 1", lambda m, x: x.logcumsumexp(1), _L1), ("topk empty", lambda m, x: x.topk(0, 0), _E),
    ("kthvalue empty rows", lambda m, x: x.kthvalue(1, 1), _E), ("median empty rows", lambda m, x: x.median(1), _E),
    ("mode empty rows", lambda m, x: x.mode(1), _E), ("sort length 1", lambda m, x: x.sort(1), _L1),
    ("median length 1", lambda m, x: x.median(1), _L1), ("mode length 1", lambda m, x: x.mode(1), _L1),
    ("nansum empty", lambda m, x: x.nansum(0), _E), ("aminmax empty rows", lambda m, x: x.aminmax(dim=1), _E),
    ("count_nonzero empty", lambda m, x: x.count_nonzero(0), _E),
    ("unique empty", lambda m, x: m.unique(x.detach(), return_inverse=True, return_counts=True), _E),
    ("quantile length 1", lambda m, x: x.quantile(0.3, 1, keepdim=True), _L1),
    ("quantile 0-d", lambda m, x: x.quantile(0.3), _S),
    ("quantile 0-d keepdim", lambda m, x: x.quantile(0.3, 0, True), _S),
    ("quantile keepdim all", lambda m, x: x.quantile(0.3, keepdim=True), _L1),
    ("quantile q tensor keepdim",
     lambda m, x: x.quantile(m.tensor([0.2, 0.9], dtype=m.float64, device=x.device), 0, keepdim=True), _L1),
    ("median 0-d", lambda m, x: x.median(0), _S), ("kthvalue 0-d", lambda m, x: x.kthvalue(1), _S),
    ("cummax 0-d", lambda m, x: x.cummax(0), _S), ("mode 0-d", lambda m, x: x.mode(0), _S),
    ("searchsorted empty values",
     lambda m, x: m.searchsorted(m.tensor([1.0, 2.0], dtype=m.float64, device=x.device), x.detach()), _E),
]


@pytest.mark.parametrize("fn,x", [e[1:] for e in EDGES], ids=[e[0] for e in EDGES])
def test_edge_shapes(fn, x, device):
    xs, xt = _both(x, device, True)
    ours, theirs = fn(ag, xs), fn(torch, xt)
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    for o, t in zip(ours, theirs):
        assert_same(o, t)
    if theirs[0].requires_grad:
        ours[0].sum().backward()
        theirs[0].sum().backward()
        assert_same(xs.grad, xt.grad)

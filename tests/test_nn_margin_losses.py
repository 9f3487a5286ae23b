"""The margin, embedding and likelihood losses of nn.functional (composites) against torch.nn.functional:
values and gradients for every reduction and option, gradcheck/gradgradcheck, PyTorch's errors."""
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag

_rng = np.random.default_rng(11)
REDUCTIONS = ["none", "mean", "sum"]


def _x(*shape):
    return _rng.standard_normal(shape)


def _sign(*shape):
    return np.where(_rng.random(shape) < 0.5, -1.0, 1.0)


# name -> (fn(F, *tensors, reduction), inputs: arrays, ("c", array) for constants)
CASES = [
    ("margin_ranking", lambda F, a, b, t, r: F.margin_ranking_loss(a, b, t, margin=0.3, reduction=r),
     [_x(5), _x(5), ("c", _sign(5))]),
    ("hinge_embedding", lambda F, a, t, r: F.hinge_embedding_loss(a, t, margin=0.8, reduction=r),
     [_x(3, 4), ("c", _sign(3, 4))]),
    ("soft_margin", lambda F, a, t, r: F.soft_margin_loss(a, t, reduction=r), [_x(3, 4) * 3, ("c", _sign(3, 4))]),
    ("poisson_log", lambda F, a, t, r: F.poisson_nll_loss(a, t, reduction=r), [_x(3, 4), _rng.uniform(0, 3, (3, 4))]),
    ("poisson_full", lambda F, a, t, r: F.poisson_nll_loss(a, t, log_input=False, full=True, reduction=r),
     [_rng.uniform(0.5, 2, (3, 4)), ("c", _rng.uniform(0, 3, (3, 4)))]),
    ("gaussian", lambda F, a, t, v, r: F.gaussian_nll_loss(a, t, v, reduction=r),
     [_x(3, 4), _x(3, 4), _rng.uniform(0.5, 2, (3, 4))]),
    ("gaussian_full_hetero", lambda F, a, t, v, r: F.gaussian_nll_loss(a, t, v, full=True, reduction=r),
     [_x(3, 4), _x(3, 4), _rng.uniform(0.5, 2, (3, 1))]),
    ("gaussian_unsqueezed", lambda F, a, t, v, r: F.gaussian_nll_loss(a, t, v, reduction=r),
     [_x(3, 4), _x(3, 4), _rng.uniform(0.5, 2, (3,))]),
    ("cosine_embedding", lambda F, a, b, t, r: F.cosine_embedding_loss(a, b, t, margin=0.1, reduction=r),
     [_x(5, 3), _x(5, 3), ("c", _sign(5))]),
    ("cosine_embedding_1d", lambda F, a, b, t, r: F.cosine_embedding_loss(a, b, t, reduction=r),
     [_x(3), _x(3), ("c", np.array(-1.0))]),
    ("triplet", lambda F, a, p, n, r: F.triplet_margin_loss(a, p, n, reduction=r), [_x(4, 3), _x(4, 3), _x(4, 3)]),
    ("triplet_swap_p1", lambda F, a, p, n, r: F.triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True, reduction=r),
     [_x(4, 3), _x(4, 3), _x(4, 3)]),
    ("multilabel_soft_margin", lambda F, a, t, r: F.multilabel_soft_margin_loss(a, t, reduction=r),
     [_x(3, 4) * 3, ("c", (_rng.random((3, 4)) < 0.5).astype(float))]),
    ("multilabel_soft_margin_weight", lambda F, a, t, w, r: F.multilabel_soft_margin_loss(a, t, w, reduction=r),
     [_x(3, 4), _rng.random((3, 4)), ("c", _rng.uniform(0.5, 2, 4))]),
    ("multi_margin", lambda F, a, t, r: F.multi_margin_loss(a, t, reduction=r),
     [_x(5, 4), ("c", np.array([0, 3, 1, 1, 2]))]),
    ("multi_margin_p2_weight", lambda F, a, t, w, r: F.multi_margin_loss(a, t, p=2, margin=0.7, weight=w, reduction=r),
     [_x(5, 4), ("c", np.array([0, 3, 1, 1, 2])), ("c", _rng.uniform(0.5, 2, 4))]),
    ("multi_margin_1d", lambda F, a, t, r: F.multi_margin_loss(a, t, reduction=r), [_x(4), ("c", np.array([2]))]),
    ("cosine_similarity", lambda F, a, b, r: F.cosine_similarity(a, b, dim=0 if r == "sum" else 1),
     [_x(4, 3), _x(1, 3)]),
    ("cosine_similarity_tiny", lambda F, a, b, r: F.cosine_similarity(a, b, eps=0.5), [_x(4, 3) * 0.1, _x(4, 3)]),
    ("pdist", lambda F, a, r: F.pdist(a), [_x(5, 3)]),
    ("pdist_p1", lambda F, a, r: F.pdist(a, 1.0), [_x(4, 2)]),
    ("pdist_p3", lambda F, a, r: F.pdist(a, 3.0), [_x(4, 3)]),
    ("pairwise_distance", lambda F, a, b, r: F.pairwise_distance(a, b, keepdim=r == "sum"), [_x(4, 3), _x(4, 3)]),
]


def _make(m, specs, device="cpu"):
    kw = {"device": device} if m is ag else {}
    return [m.tensor(s[1], **kw) if isinstance(s, tuple) else m.tensor(s, requires_grad=True, **kw) for s in specs]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, reduction, device):
    _, fn, specs = case
    a, t = _make(ag, specs, device), _make(torch, specs)
    ya, yt = fn(ag.nn.functional, *a, reduction), fn(torch.nn.functional, *t, reduction)
    assert tuple(ya.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ya.detach().cpu().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = _rng.standard_normal(tuple(yt.shape))
    (ya * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for xa, xt in zip(a, t):
        if xt.requires_grad:
            np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


# (not cosine_similarity_tiny: below eps PyTorch clamps the norm in value only, so its gradient is not the derivative)
@pytest.mark.parametrize("case", [c for c in CASES if c[0] != "cosine_similarity_tiny"], ids=lambda c: c[0])
def test_gradcheck(case):
    _, fn, specs = case
    a = _make(ag, specs)
    leaves = [x for x in a if x.requires_grad]

    def f(*xs):
        it = iter(xs)
        return fn(ag.nn.functional, *[next(it) if x.requires_grad else x for x in a], "none")
    assert ag.autograd.gradcheck(f, leaves)
    assert ag.autograd.gradgradcheck(f, leaves)


ERRORS = [
    ("margin_ranking dims", lambda m: m.nn.functional.margin_ranking_loss(m.zeros(3), m.zeros(3), m.zeros(1, 3))),
    ("reduction", lambda m: m.nn.functional.soft_margin_loss(m.zeros(3), m.zeros(3), reduction="bad")),
    ("gaussian var size", lambda m: m.nn.functional.gaussian_nll_loss(m.zeros(3, 4), m.zeros(3, 4), m.ones(2, 4))),
    ("gaussian negative var", lambda m: m.nn.functional.gaussian_nll_loss(m.zeros(3), m.zeros(3), -m.ones(3))),
    ("gaussian reduction", lambda m: m.nn.functional.gaussian_nll_loss(m.zeros(3), m.zeros(3), m.ones(3),
                                                                        reduction="bad")),
    ("multi_margin p", lambda m: m.nn.functional.multi_margin_loss(m.zeros(2, 3), m.tensor([0, 1]), p=3)),
    ("multi_margin target size", lambda m: m.nn.functional.multi_margin_loss(m.zeros(2, 3), m.tensor([0, 1, 1]))),
    ("multi_margin target range", lambda m: m.nn.functional.multi_margin_loss(m.zeros(2, 3), m.tensor([0, 3]))),
    ("pdist 1-d", lambda m: m.nn.functional.pdist(m.zeros(3))),
    ("pdist negative p", lambda m: m.nn.functional.pdist(m.zeros(3, 2), -1.0)),
    ("pdist of int", lambda m: m.nn.functional.pdist(m.zeros(3, 2, dtype=m.long))),
    ("triplet dims", lambda m: m.nn.functional.triplet_margin_loss(m.zeros(2, 3), m.zeros(2, 3), m.zeros(3))),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            fn(torch)
        with pytest.raises(Exception) as ours:
            fn(ag)
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
    assert str(ours.value)


MODULES = [
    (lambda m: m.MarginRankingLoss(margin=0.2, reduction="sum"), [_x(4), _x(4), ("c", _sign(4))]),
    (lambda m: m.HingeEmbeddingLoss(), [_x(4), ("c", _sign(4))]),
    (lambda m: m.CosineEmbeddingLoss(margin=0.3), [_x(4, 3), _x(4, 3), ("c", _sign(4))]),
    (lambda m: m.SoftMarginLoss(reduction="none"), [_x(4), ("c", _sign(4))]),
    (lambda m: m.PoissonNLLLoss(log_input=False, full=True), [_rng.uniform(0.5, 2, 4), _rng.uniform(0, 3, 4)]),
    (lambda m: m.GaussianNLLLoss(full=True), [_x(4, 2), _x(4, 2), _rng.uniform(0.5, 2, (4, 2))]),
    (lambda m: m.TripletMarginLoss(margin=0.5, p=1.0, swap=True), [_x(4, 3), _x(4, 3), _x(4, 3)]),
    (lambda m: m.MultiLabelSoftMarginLoss(reduction="sum"), [_x(4, 3), ("c", (_rng.random((4, 3)) < 0.5) * 1.0)]),
    (lambda m: m.MultiMarginLoss(p=2, margin=0.5), [_x(4, 3), ("c", np.array([2, 0, 1, 1]))]),
]


@pytest.mark.parametrize("make, specs", MODULES, ids=[repr(m[0](torch.nn)) + str(i) for i, m in enumerate(MODULES)])
def test_modules_match_torch(make, specs):
    ours, theirs = make(ag.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert ours.reduction == theirs.reduction
    a, t = _make(ag, specs), _make(torch, specs)
    ya, yt = ours(*a), theirs(*t)
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_pdist_of_equal_rows_has_zero_gradient_like_torch(device):
    x = np.array([[1.0, 2.0], [1.0, 2.0], [0.5, -1.0]])
    xa, xt = ag.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    ag.nn.functional.pdist(xa).sum().backward()
    torch.nn.functional.pdist(xt).sum().backward()
    np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-12)
    assert tuple(ag.nn.functional.pdist(ag.zeros(1, 3)).shape) == (0,)

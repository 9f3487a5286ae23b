"""Parity of every loss (module and functional, every option and reduction) with torch.nn: values, gradients
with respect to the input (and the target where PyTorch differentiates it), numerical stability and errors."""
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import nn

_rng = np.random.default_rng(3)
REDUCTIONS = ["none", "mean", "sum"]


def _t(m, spec, device):
    """spec: a float array (a leaf that requires grad), or ("ng", array) for a constant."""
    if isinstance(spec, tuple):
        kw = {"device": device} if m is ag else {}
        return m.tensor(spec[1], **kw)
    kw = {"device": device} if m is ag else {}
    return m.tensor(spec, requires_grad=True, **kw)


def ng(a):
    return ("ng", np.asarray(a))


def check_loss(make, inputs, *, device="cpu", rtol=1e-7, atol=1e-10, functional=None):
    """make(m) -> a loss module of library m (nn or torch.nn); inputs: specs for its forward arguments."""
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    a = [_t(ag, s, device) for s in inputs]
    t = [_t(torch, s, device) for s in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ya, yt = ours(*a), theirs(*t)
    np.testing.assert_allclose(ya.detach().cpu().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    assert tuple(ya.shape) == tuple(yt.shape)
    w = _rng.standard_normal(tuple(yt.shape))
    (ya * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for i, (xa, xt) in enumerate(zip(a, t)):
        if xt.requires_grad:
            np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-10,
                                       err_msg=f"grad of argument {i}")


def _x(*shape):
    return _rng.standard_normal(shape)


def _probs(*shape):
    return _rng.uniform(0.05, 0.95, shape)


def _dist(n, c):
    return _rng.dirichlet(np.ones(c), n)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction, device):
    x, y = _x(4, 3), _x(4, 3)
    check_loss(lambda m: m.MSELoss(reduction=reduction), [x, y], device=device)
    check_loss(lambda m: m.L1Loss(reduction=reduction), [x, y], device=device)
    for beta in (1.0, 0.5, 0.0):
        check_loss(lambda m: m.SmoothL1Loss(reduction=reduction, beta=beta), [x, y], device=device)
    for delta in (1.0, 0.3, 2.5):
        check_loss(lambda m: m.HuberLoss(reduction=reduction, delta=delta), [x, y], device=device)


def test_mse_broadcast_warns():
    with pytest.warns(UserWarning, match="Using a target size"):
        nn.functional.mse_loss(ag.zeros(3, 1), ag.zeros(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_indices(reduction, label_smoothing, device):
    w = _rng.uniform(0.5, 2.0, 4)
    tgt = np.array([0, 3, 1, 2, 3])
    ignored = np.array([0, -100, 1, 2, -100])
    for target, kw in [(tgt, {}), (tgt, {"weight": ng(w)}), (ignored, {}), (ignored, {"weight": ng(w)}),
                       (np.array([1, 7, 2, 7, 0]), {"ignore_index": 7})]:
        extra = {k: ag.tensor(v[1], device=device) for k, v in kw.items() if k == "weight"}
        textra = {k: torch.tensor(v[1]) for k, v in kw.items() if k == "weight"}
        other = {k: v for k, v in kw.items() if k != "weight"}

        def make(m, extra=extra, textra=textra, other=other):
            return m.CrossEntropyLoss(**(extra if m is nn else textra), **other, reduction=reduction,
                                      label_smoothing=label_smoothing)
        check_loss(make, [_x(5, 4), ng(target)], device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_kdim_and_unbatched(reduction, device):
    target = _rng.integers(0, 3, (2, 4, 2))
    target[0, 1, 1] = -100
    for ls in (0.0, 0.1):
        check_loss(lambda m: m.CrossEntropyLoss(reduction=reduction, label_smoothing=ls),
                   [_x(2, 3, 4, 2), ng(target)], device=device)
        check_loss(lambda m: m.CrossEntropyLoss(reduction=reduction, label_smoothing=ls),
                   [_x(5), ng(np.array(3))], device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_probabilities(reduction, label_smoothing, device):
    w = _rng.uniform(0.5, 2.0, 3)
    probs = _dist(4, 3)
    check_loss(lambda m: m.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing),
               [_x(4, 3), probs], device=device)  # the target gets a gradient too
    check_loss(lambda m: m.CrossEntropyLoss(weight=ag.tensor(w, device=device) if m is nn else torch.tensor(w),
                                            reduction=reduction, label_smoothing=label_smoothing),
               [_x(4, 3), ng(probs)], device=device)
    kd = _rng.dirichlet(np.ones(3), (2, 2)).transpose(0, 2, 1)  # (N, C, d) probabilities over dim 1
    check_loss(lambda m: m.CrossEntropyLoss(reduction=reduction), [_x(2, 3, 2), ng(kd)], device=device)


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    check_loss(lambda m: m.CrossEntropyLoss(), [x, ng(np.array([1, 2]))])
    out = nn.functional.cross_entropy(ag.tensor(x, dtype=ag.float32), ag.tensor([0, 1]))
    assert np.isfinite(out.item())


def test_cross_entropy_all_ignored_is_nan_like_torch(device):
    x = ag.zeros(2, 3, device=device, requires_grad=True)
    tx = torch.zeros(2, 3, requires_grad=True)
    with np.errstate(invalid="ignore"):  # 0 / 0, as in PyTorch
        out = nn.functional.cross_entropy(x, ag.tensor([-100, -100], device=device))
        out.backward()
    ref = torch.nn.functional.cross_entropy(tx, torch.tensor([-100, -100]))
    ref.backward()
    assert np.isnan(out.item()) and np.isnan(ref.item())
    # ...but the gradient is zero, not nan: ignored positions get none
    np.testing.assert_array_equal(x.grad.cpu().numpy(), tx.grad.numpy())
    assert not tx.grad.any()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction, device):
    logp = np.log(_dist(5, 4))
    w = _rng.uniform(0.5, 2.0, 4)
    target = np.array([1, 0, -100, 3, 3])
    check_loss(lambda m: m.NLLLoss(reduction=reduction), [logp, ng(target)], device=device)
    check_loss(lambda m: m.NLLLoss(ag.tensor(w, device=device) if m is nn else torch.tensor(w), reduction=reduction),
               [logp, ng(target)], device=device)
    check_loss(lambda m: m.NLLLoss(ignore_index=3, reduction=reduction), [logp, ng(target.clip(0))], device=device)
    check_loss(lambda m: m.NLLLoss(reduction=reduction), [_x(2, 4, 3), ng(_rng.integers(0, 4, (2, 3)))],
               device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(reduction, device):
    w = _rng.uniform(0.5, 2.0, 3)
    check_loss(lambda m: m.BCELoss(reduction=reduction), [_probs(4, 3), _probs(4, 3)], device=device)
    check_loss(lambda m: m.BCELoss(ag.tensor(w, device=device) if m is nn else torch.tensor(w), reduction=reduction),
               [_probs(4, 3), ng(_rng.integers(0, 2, (4, 3)).astype(float))], device=device)


def test_bce_clamps_log_at_minus_100():
    x = np.array([0.0, 1.0, 0.5, 1.0])
    y = np.array([1.0, 0.0, 0.5, 1.0])
    ours = nn.functional.binary_cross_entropy(ag.tensor(x), ag.tensor(y), reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y), reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    assert ours[0].item() == 100.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction, device):
    w, pw = _rng.uniform(0.5, 2.0, 3), _rng.uniform(0.5, 3.0, 3)
    x = _x(4, 3) * 4

    def pair(a):
        return lambda m: ag.tensor(a, device=device) if m is nn else torch.tensor(a)
    check_loss(lambda m: m.BCEWithLogitsLoss(reduction=reduction), [x, _probs(4, 3)], device=device)
    check_loss(lambda m: m.BCEWithLogitsLoss(weight=pair(w)(m), pos_weight=pair(pw)(m), reduction=reduction),
               [x, _probs(4, 3)], device=device)
    check_loss(lambda m: m.BCEWithLogitsLoss(pos_weight=pair(pw)(m), reduction=reduction),
               [x, ng(_rng.integers(0, 2, (4, 3)).astype(float))], device=device)


def test_bce_with_logits_is_stable():
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0])
    y = np.array([1.0, 0.0, 0.3, 1.0, 0.0])
    check_loss(lambda m: m.BCEWithLogitsLoss(reduction="none"), [x, ng(y)])
    a = ag.tensor(x, dtype=ag.float32, requires_grad=True)
    out = nn.functional.binary_cross_entropy_with_logits(a, ag.tensor(y, dtype=ag.float32), reduction="none")
    out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(a.grad.numpy()).all()
    assert a.grad[2].item() == pytest.approx(0.5 - 0.3)  # sigmoid(0) - y, exactly at the kink of max(x, 0)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, device):
    logq = np.log(_dist(4, 3))
    p = _dist(4, 3)
    target = np.log(p) if log_target else p
    check_loss(lambda m: m.KLDivLoss(reduction=reduction, log_target=log_target), [logq, target], device=device)
    p[0, 1] = 0.0  # 0 log 0 = 0 (a constant target here: PyTorch's gradient for it at 0 is nan)
    check_loss(lambda m: m.KLDivLoss(reduction=reduction, log_target=log_target), [logq, ng(p)], device=device)


def test_functional_forms_and_legacy_arguments():
    x, y = ag.tensor(_x(3, 2)), ag.tensor(_x(3, 2))
    tx, ty = torch.tensor(x.numpy()), torch.tensor(y.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw in [{"size_average": False}, {"reduce": False}, {"size_average": True, "reduce": True}]:
            np.testing.assert_allclose(nn.functional.mse_loss(x, y, **kw).numpy(),
                                       torch.nn.functional.mse_loss(tx, ty, **kw).numpy())
            assert nn.MSELoss(**kw).reduction == torch.nn.MSELoss(**kw).reduction


def test_loss_errors():
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        nn.functional.mse_loss(ag.zeros(2), ag.zeros(2), reduction="bad")
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        nn.functional.cross_entropy(ag.zeros(3, 4), ag.tensor([0, 1]))
    with pytest.raises(IndexError, match="Target 4 is out of bounds."):
        nn.functional.cross_entropy(ag.zeros(2, 4), ag.tensor([0, 4]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Int"):
        nn.functional.nll_loss(ag.zeros(2, 4), ag.tensor([0, 1], dtype=ag.int32))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.functional.cross_entropy(ag.zeros(2, 4), ag.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="Using a target size"):
        nn.functional.binary_cross_entropy(ag.full((3,), 0.5), ag.zeros(3, 1))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.functional.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0]))
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[2\]\)\) must be the same as input size"):
        nn.functional.binary_cross_entropy_with_logits(ag.zeros(3), ag.zeros(2))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'pos_weight'"):
        nn.functional.binary_cross_entropy_with_logits(ag.zeros(3), ag.zeros(3),
                                                       pos_weight=ag.ones(3, requires_grad=True))


@pytest.mark.parametrize("shapes", [((4, 3), (4, 2)), ((4, 3), ()), ((4, 3, 2), (4,)), ((4, 3, 2), (3, 2)),
                                    ((4, 3, 2), (4, 3)), ((3,), (2,)), ((3,), (1, 1))], ids=str)
def test_nll_target_shape_errors_match_torch(shapes):
    x, t = shapes
    with pytest.raises((RuntimeError, ValueError)) as theirs:
        torch.nn.functional.nll_loss(torch.zeros(x), torch.zeros(t, dtype=torch.long))
    with pytest.raises(type(theirs.value)) as ours:
        nn.functional.nll_loss(ag.zeros(x), ag.zeros(t, dtype=ag.int64))
    assert str(ours.value) == str(theirs.value)


def test_nll_takes_a_one_element_target_for_a_1d_input_as_torch_does():
    """(forward only: PyTorch's backward of this case raises "size mismatch")"""
    x = _rng.standard_normal(3)
    for reduction in REDUCTIONS:
        ours = nn.functional.nll_loss(ag.tensor(x), ag.tensor([2]), reduction=reduction)
        theirs = torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor([2]), reduction=reduction)
        assert tuple(ours.shape) == tuple(theirs.shape) == ()
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_loss_weights_are_buffers():
    w = ag.tensor([1.0, 2.0])
    ce = nn.CrossEntropyLoss(weight=w)
    assert list(ce.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0])).state_dict())
    assert ce.weight is w
    ce.double()
    assert ce.weight.dtype == ag.float64


def test_losses_double_backward():
    """Losses built from primitives support create_graph (a gradient penalty on the input)."""
    x = np.array([[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]])
    target = np.array([2, 0])
    a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for f, tf in [(lambda v: nn.functional.cross_entropy(v, ag.tensor(target), label_smoothing=0.1),
                   lambda v: torch.nn.functional.cross_entropy(v, torch.tensor(target), label_smoothing=0.1)),
                  (lambda v: nn.functional.binary_cross_entropy_with_logits(v, ag.full((2, 3), 0.3, dtype=ag.float64)),
                   lambda v: torch.nn.functional.binary_cross_entropy_with_logits(v, torch.full((2, 3), 0.3,
                                                                                              dtype=torch.float64)))]:
        g, = ag.autograd.grad(f(a), a, create_graph=True)
        tg, = torch.autograd.grad(tf(t), t, create_graph=True)
        gg, = ag.autograd.grad((g * g).sum(), a)
        tgg, = torch.autograd.grad((tg * tg).sum(), t)
        np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-7, atol=1e-12)


# ---- nll_loss is one primitive (NllLossBackward0), its backward another: their adjoint pair --------------
_NLL_CASES = [  # (logp shape, target shape, weight?, ignore_index)
    ((4, 3), (4,), False, -100),
    ((4, 3), (4,), True, 1),
    ((3,), (), False, -100),
    ((2, 4, 3), (2, 3), True, -100),
    ((2, 3, 2, 2), (2, 2, 2), False, 0),
    ((2, 3, 2, 1, 2), (2, 2, 1, 2), True, 2),
]


def _nll_inputs(m, logp_shape, target_shape, weighted, seed):
    rng = np.random.default_rng(seed)
    c = logp_shape[0] if len(logp_shape) == 1 else logp_shape[1]
    target = m.tensor(rng.integers(0, c, target_shape))
    weight = m.tensor(rng.uniform(0.5, 2.0, c)) if weighted else None
    return target, weight


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", range(len(_NLL_CASES)))
def test_nll_loss_is_one_node_with_gradcheck_at_every_order(case, reduction):
    shape, tshape, weighted, ignore = _NLL_CASES[case]
    x = _rng.standard_normal(shape)
    a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ta, wa = _nll_inputs(ag, shape, tshape, weighted, case)
    tt, wt = _nll_inputs(torch, shape, tshape, weighted, case)

    def f(v):
        return nn.functional.nll_loss(v, ta, weight=wa, ignore_index=ignore, reduction=reduction)

    def tf(v):
        return torch.nn.functional.nll_loss(v, tt, weight=wt, ignore_index=ignore, reduction=reduction)

    ya, yt = f(a), tf(t)
    assert _node_chain(ya) == _node_chain(yt)
    assert len(ya.grad_fn.next_functions) == len(yt.grad_fn.next_functions) == 1
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = _rng.standard_normal(tuple(yt.shape))
    # (a gradient that requires grad: nll is linear, so only the path through it has a double backward)
    g, = ag.autograd.grad(ya, a, ag.tensor(w, requires_grad=True), create_graph=True)
    tg, = torch.autograd.grad(yt, t, torch.tensor(w, requires_grad=True), create_graph=True)
    assert _node_chain(g) == _node_chain(tg)
    assert _node_chain(g)[0] in ("NllLossBackwardBackward0", "NllLoss2DBackwardBackward0", "ViewBackward0")
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert ag.autograd.gradcheck(f, (a,))
    assert ag.autograd.gradgradcheck(f, (a,))
    # through log_softmax, as cross_entropy runs it: the second derivative is not zero there
    assert ag.autograd.gradgradcheck(lambda v: f(v.log_softmax(1 if v.ndim > 1 else 0)), (a,))


def test_nll_loss_weight_may_not_require_grad():
    w = ag.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        nn.functional.cross_entropy(ag.zeros(2, 3, requires_grad=True), ag.tensor([0, 1]), weight=w)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        torch.nn.functional.cross_entropy(torch.zeros(2, 3, requires_grad=True), torch.tensor([0, 1]),
                                          weight=torch.ones(3, requires_grad=True))
    with ag.no_grad():  # no graph, no error (as in torch)
        nn.functional.cross_entropy(ag.zeros(2, 3), ag.tensor([0, 1]), weight=w)


def _node_chain(y):
    """The names of y's nodes along first edges, down to the leaf."""
    names, fn = [], y.grad_fn
    while fn is not None:
        names.append(type(fn).__name__)
        fn = next((f for f, _ in fn.next_functions if f is not None), None)
    return names


def test_cross_entropy_graph_matches_torch():
    x = _rng.standard_normal((4, 3))
    ya = nn.functional.cross_entropy(ag.tensor(x, requires_grad=True), ag.tensor([0, 2, 1, 1]))
    yt = torch.nn.functional.cross_entropy(torch.tensor(x, requires_grad=True), torch.tensor([0, 2, 1, 1]))
    assert _node_chain(ya) == _node_chain(yt) == ["NllLossBackward0", "LogSoftmaxBackward0", "AccumulateGrad"]

"""ctc_loss (the forward algorithm in log space, a composite) against torch.nn.functional.ctc_loss: values and
gradients for every reduction, padded and concatenated targets, unbatched input, zero_infinity; gradcheck."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag

_rng = np.random.default_rng(5)
T, N, C = 6, 3, 4
X = _rng.standard_normal((T, N, C))
PADDED = np.array([[1, 2, 2], [3, 1, 0], [1, 1, 1]])
CASES = [  # (targets, input_lengths, target_lengths, kwargs)
    (PADDED, [6, 5, 6], [3, 2, 1], {}),
    (PADDED, [6, 6, 4], [3, 2, 0], {}),  # an empty target
    (np.array([1, 2, 2, 3, 1, 1]), [6, 5, 6], [3, 2, 1], {}),  # concatenated
    (PADDED + 1, [6, 5, 6], [3, 2, 1], {"blank": 0}),
    (PADDED, [6, 5, 6], [3, 2, 1], {"blank": 3}),
    (np.array([[1, 2, 1, 2, 1, 2, 1]] * 3), [6, 6, 6], [7, 2, 1], {"zero_infinity": True}),  # infeasible: inf -> 0
    (np.array([[1, 2, 1, 2, 1, 2, 1]] * 3), [6, 6, 6], [7, 2, 1], {}),  # infeasible: inf
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_ctc_matches_torch(case, reduction, device):
    tg, il, tl, kw = CASES[case]
    tg = np.where(tg >= C, 1, tg)
    if kw.get("blank") == 3:
        tg = np.where(tg == 3, 2, tg)
    xa = ag.tensor(X, device=device, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    la = ag.nn.functional.ctc_loss(xa.log_softmax(2), ag.tensor(tg, device=device), il, tl, reduction=reduction, **kw)
    lt = torch.nn.functional.ctc_loss(xt.log_softmax(2), torch.tensor(tg), il, tl, reduction=reduction, **kw)
    assert tuple(la.shape) == tuple(lt.shape)
    np.testing.assert_allclose(la.detach().cpu().numpy(), lt.detach().numpy(), rtol=1e-10)
    if not np.isfinite(lt.detach().numpy()).all():
        return  # (PyTorch's gradient of an infinite loss is not a derivative)
    w = _rng.standard_normal(tuple(lt.shape))
    (la * ag.tensor(w, device=device)).sum().backward()
    (lt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xa.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_ctc_unbatched_and_tensor_lengths():
    x = X[:, 0]
    xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    la = ag.nn.functional.ctc_loss(xa.log_softmax(1), ag.tensor([1, 2]), ag.tensor(6), ag.tensor(2), reduction="none")
    lt = torch.nn.functional.ctc_loss(xt.log_softmax(1), torch.tensor([1, 2]), torch.tensor(6), torch.tensor(2),
                                      reduction="none")
    assert tuple(la.shape) == tuple(lt.shape)
    np.testing.assert_allclose(la.detach().numpy(), lt.detach().numpy(), rtol=1e-10)
    la.backward()
    lt.backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_ctc_gradcheck():
    x = ag.tensor(_rng.standard_normal((4, 2, 3)), requires_grad=True)

    def f(v):
        return ag.nn.functional.ctc_loss(v.log_softmax(2), ag.tensor([[1, 2], [2, 2]]), [4, 3], [2, 1],
                                         reduction="none")
    assert ag.autograd.gradcheck(f, (x,))
    assert ag.autograd.gradgradcheck(f, (x,))


def test_ctc_module():
    ours, theirs = ag.nn.CTCLoss(blank=3, zero_infinity=True), torch.nn.CTCLoss(blank=3, zero_infinity=True)
    assert repr(ours) == repr(theirs)
    tg = np.where(PADDED == 3, 2, PADDED)
    la = ours(ag.tensor(X).log_softmax(2), ag.tensor(tg), [6, 5, 6], [3, 2, 1])
    lt = theirs(torch.tensor(X).log_softmax(2), torch.tensor(tg), [6, 5, 6], [3, 2, 1])
    np.testing.assert_allclose(la.numpy(), lt.numpy(), rtol=1e-10)

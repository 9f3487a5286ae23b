"""Programs of the kind PyTorch users write, run with torch and with autograd_gpu from the same weights."""
import itertools

import numpy as np
import pytest
import torch

import autograd_gpu as ag


def _features(m):
    return m.Sequential(m.Conv2d(3, 8, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                        m.Conv2d(8, 16, 3, padding=1), m.ReLU(), m.MaxPool2d(2))


def _classifier(m):
    return m.Sequential(m.Flatten(), m.Linear(16 * 8 * 8, 32), m.ReLU(), m.Linear(32, 10))


def _copy_weights(src, dst):
    with ag.no_grad():
        for (name, p), (name2, q) in zip(src.named_parameters(), dst.named_parameters()):
            assert name == name2
            q.copy_(ag.tensor(p.detach().numpy()))


def test_cifar_sized_net_in_two_modules_trained_with_one_sgd_over_chained_parameters(device):
    torch.manual_seed(0)
    t1, t2 = _features(torch.nn), _classifier(torch.nn)
    a1, a2 = _features(ag.nn), _classifier(ag.nn)
    _copy_weights(t1, a1)
    _copy_weights(t2, a2)
    a1.to(device)  # ours on `device`, the torch oracle on the CPU
    a2.to(device)
    t_opt = torch.optim.SGD(itertools.chain(t1.parameters(), t2.parameters()), lr=0.05, momentum=0.9)
    a_opt = ag.optim.SGD(itertools.chain(a1.parameters(), a2.parameters()), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    for step in range(3):
        x = rng.standard_normal((4, 3, 32, 32)).astype(np.float32)
        y = rng.integers(0, 10, 4)
        results = []
        for mod, dev, n1, n2, opt in ((torch, "cpu", t1, t2, t_opt), (ag, device, a1, a2, a_opt)):
            inp = mod.tensor(x, device=dev)
            opt.zero_grad()
            hidden = n1(inp)
            assert not inp.requires_grad and hidden.requires_grad and hidden.grad_fn is not None
            loss = mod.nn.functional.cross_entropy(n2(hidden), mod.tensor(y, device=dev))
            loss.backward()
            assert inp.grad is None
            assert all(p.grad is not None for p in itertools.chain(n1.parameters(), n2.parameters()))
            grads = [p.grad.detach().cpu().numpy().copy() for p in itertools.chain(n1.parameters(), n2.parameters())]
            opt.step()
            results.append((loss.item(), grads))
        (tl, tg), (al, agr) = results
        assert al == pytest.approx(tl, rel=1e-5)
        for g1, g2 in zip(tg, agr):
            np.testing.assert_allclose(g2, g1, rtol=1e-4, atol=1e-5)
    for p, q in zip(itertools.chain(t1.parameters(), t2.parameters()),
                    itertools.chain(a1.parameters(), a2.parameters())):
        np.testing.assert_allclose(q.detach().cpu().numpy(), p.detach().numpy(), rtol=1e-4, atol=1e-5)

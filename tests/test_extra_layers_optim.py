"""optim.Rprop's options and errors, and lr_scheduler.MultiplicativeLR, against PyTorch (Rprop's trajectories and
kernel: the CASES of tests/test_optim.py)."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import optim


def _params(device):
    a = np.arange(6.0).reshape(2, 3)
    return [ag.tensor(a, requires_grad=True, device=device)], [torch.tensor(a, requires_grad=True)]


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (dict(etas=(1.0, 1.2)), ValueError, "Invalid eta values: 1.0, 1.2"),
    (dict(etas=(0.5, 1.0)), ValueError, "Invalid eta values: 0.5, 1.0"),
])
def test_rprop_errors_match_torch(kwargs, error, match):
    ours, theirs = _params("cpu")
    with pytest.raises(error, match=match):
        torch.optim.Rprop(theirs, **kwargs)
    with pytest.raises(error, match=match):
        optim.Rprop(ours, **kwargs)


def test_rprop_defaults_and_state_match_torch(device):
    ours, theirs = _params(device)
    opt, topt = optim.Rprop(ours), torch.optim.Rprop(theirs)
    assert opt.defaults == topt.defaults
    ours[0].grad, theirs[0].grad = ag.ones(2, 3, device=device, dtype=ag.float64), torch.ones(2, 3, dtype=torch.float64)
    opt.step()
    topt.step()
    state, tstate = opt.state[ours[0]], topt.state[theirs[0]]
    assert list(state) == list(tstate) == ["step", "prev", "step_size"]
    for key in tstate:
        np.testing.assert_array_equal(state[key].cpu().numpy(), tstate[key].numpy())
    assert state["step"].device.type == "cpu"


def _schedulers(device, factors, groups=2):
    ours, theirs = [], []
    for i in range(groups):
        o, t = _params(device)
        ours.append({"params": o, "lr": 0.1 * (i + 1)})
        theirs.append({"params": t, "lr": 0.1 * (i + 1)})
    opt, topt = optim.SGD(ours, lr=0.1), torch.optim.SGD(theirs, lr=0.1)
    return (opt, optim.lr_scheduler.MultiplicativeLR(opt, factors),
            topt, torch.optim.lr_scheduler.MultiplicativeLR(topt, factors))


@pytest.mark.parametrize("factors", [lambda epoch: 0.9, [lambda epoch: 0.9, lambda epoch: 1.0 + 0.01 * epoch]])
def test_multiplicative_lr_sequence_matches_torch(factors, device):
    opt, sched, topt, tsched = _schedulers(device, factors)
    assert sched.get_last_lr() == tsched.get_last_lr()
    for _ in range(20):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]


class _Factor:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, epoch):
        return self.factor


def test_multiplicative_lr_state_dict_round_trip_matches_torch(device):
    opt, sched, topt, tsched = _schedulers(device, [_Factor(0.8), lambda epoch: 0.9])
    for _ in range(5):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    sd, tsd = sched.state_dict(), tsched.state_dict()
    assert sd["lr_lambdas"] == tsd["lr_lambdas"] == [{"factor": 0.8}, None]
    assert sd["last_epoch"] == tsd["last_epoch"] == 5
    assert sd["base_lrs"] == tsd["base_lrs"] and sd["_last_lr"] == tsd["_last_lr"]
    opt2, sched2, topt2, tsched2 = _schedulers(device, [_Factor(0.5), lambda epoch: 0.9])
    sched2.load_state_dict(sd)
    tsched2.load_state_dict(tsd)
    assert sched2.lr_lambdas[0].factor == tsched2.lr_lambdas[0].factor == 0.8
    for o in (opt2, topt2):  # the lrs themselves live in the optimizer's state_dict
        for group, lr in zip(o.param_groups, sd["_last_lr"]):
            group["lr"] = lr
    for _ in range(5):
        for o in (opt, opt2, topt2):
            o.step()
        for s in (sched, sched2, tsched2):
            s.step()
        assert sched2.get_last_lr() == tsched2.get_last_lr() == sched.get_last_lr()
    assert sched2.last_epoch == tsched2.last_epoch == 10


def test_multiplicative_lr_errors_match_torch():
    for make in (lambda o, ps: o.lr_scheduler.MultiplicativeLR(o.SGD(ps, lr=0.1), 0.9),
                 lambda o, ps: o.lr_scheduler.MultiplicativeLR(o.SGD(ps, lr=0.1), [lambda e: 1.0] * 2)):
        ours, theirs = _params("cpu")
        errors = []
        for module, ps in ((torch.optim, theirs), (optim, ours)):
            with pytest.raises((TypeError, ValueError)) as info:
                make(module, ps)
            errors.append((type(info.value), str(info.value)))
        assert errors[0] == errors[1]

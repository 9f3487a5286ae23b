"""autograd_gpu.optim.lr_scheduler against torch.optim.lr_scheduler: the same optimizer groups
give the same learning rates (and momenta / betas for OneCycleLR) at every step."""
import copy
import math
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as torch_sched

import autograd_gpu as ag
from autograd_gpu import optim
from autograd_gpu.optim import lr_scheduler as sched

STEPS = 40


def _optimizers(name="SGD", **options):
    """Ours and torch's, each with two parameter groups (lr 0.1 and 0.02)."""
    def groups(make):
        return [{"params": [make([1.0, 2.0])]}, {"params": [make([3.0])], "lr": 0.02}]

    ours = getattr(optim, name)(groups(lambda d: ag.tensor(d, requires_grad=True)), lr=0.1, **options)
    theirs = getattr(torch.optim, name)(groups(lambda d: torch.tensor(d, requires_grad=True)), lr=0.1, **options)
    return ours, theirs


def _assert_groups_equal(opt, topt, keys=("lr",)):
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        for key in keys:
            assert group[key] == tgroup[key], key  # the same Python float arithmetic: exact


def _compare(make, steps=STEPS, optimizer="SGD", options=None, keys=("lr",), metrics=None):
    opt, topt = _optimizers(optimizer, **(options or {}))
    s, ts = make(sched, opt), make(torch_sched, topt)
    _assert_groups_equal(opt, topt, keys)
    assert s.get_last_lr() == ts.get_last_lr()
    for i in range(steps):
        opt.step()
        topt.step()
        if metrics is None:
            s.step()
            ts.step()
        else:
            s.step(metrics[i])
            ts.step(metrics[i])
        _assert_groups_equal(opt, topt, keys)
        assert s.get_last_lr() == ts.get_last_lr()
        assert s.last_epoch == ts.last_epoch
    return s, ts, opt, topt


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7),
    "StepLR-gamma": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta_min": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, lr_lambda=[lambda e: 1 / (e + 1), lambda e: min(1.0, (e + 1) / 5)]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.1], epochs=4, steps_per_epoch=10,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three_phase": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, three_phase=True,
                                                        div_factor=10.0, final_div_factor=100.0),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    keys = ("lr", "momentum") if name.startswith("OneCycle") else ("lr",)
    _compare(SCHEDULES[name], options={"momentum": 0.9}, keys=keys)


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_cycles_adam_beta1(three_phase):
    make = lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, three_phase=three_phase,  # noqa: E731
                                     base_momentum=0.8, max_momentum=0.9)
    s, ts, opt, topt = _compare(make, optimizer="Adam", keys=("lr", "betas", "initial_lr", "max_lr", "min_lr"))
    assert opt.param_groups[0]["betas"][1] == 0.999
    with pytest.raises(ValueError, match="Tried to step 41 times. The specified number of total steps is 40"):
        s.step()


@pytest.mark.parametrize("options", [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(patience=0, factor=0.5, min_lr=[0.01, 0.015]),
    dict(mode="max", patience=1, threshold_mode="abs", min_lr=0.05, cooldown=1),
])
def test_reduce_lr_on_plateau_matches_torch(options):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.91, 0.5] * 4
    make = lambda m, o: m.ReduceLROnPlateau(o, **options)  # noqa: E731
    s, ts, _, _ = _compare(make, metrics=metrics)
    assert (s.best, s.num_bad_epochs, s.cooldown_counter) == (ts.best, ts.num_bad_epochs, ts.cooldown_counter)


def test_reduce_lr_on_plateau_takes_tensor_metrics():
    opt, _ = _optimizers()
    s = sched.ReduceLROnPlateau(opt, patience=0)
    s.step(ag.tensor(1.0))
    s.step(ag.tensor(2.0))
    assert s.get_last_lr() == pytest.approx([0.01, 0.002])


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "LambdaLR", "OneCycleLR",
                                  "ExponentialLR"])
def test_state_dict_round_trip_resumes(name):
    make = SCHEDULES[name]
    opt, topt = _optimizers(momentum=0.9)
    s, ts = make(sched, opt), make(torch_sched, topt)
    for _ in range(13):
        opt.step()
        s.step()
        topt.step()
        ts.step()
    saved, tsaved = copy.deepcopy(s.state_dict()), ts.state_dict()
    assert "optimizer" not in saved
    assert saved.keys() == tsaved.keys()
    # resume: a fresh optimizer loaded from the checkpoint, a fresh scheduler loaded from its state
    opt2, _ = _optimizers(momentum=0.9)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    s2 = make(sched, opt2)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))  # the scheduler's constructor stepped the lr
    s2.load_state_dict(saved)
    assert s2.last_epoch == 13 and s2.get_last_lr() == s.get_last_lr()
    for _ in range(STEPS - 14):
        opt2.step()
        s2.step()
        topt.step()
        ts.step()
        _assert_groups_equal(opt2, topt)


def test_reduce_lr_on_plateau_state_dict():
    opt, topt = _optimizers()
    s, ts = sched.ReduceLROnPlateau(opt, mode="max", patience=1), torch_sched.ReduceLROnPlateau(topt, mode="max",
                                                                                                 patience=1)
    for m in [1.0, 0.5, 0.4]:
        s.step(m)
        ts.step(m)
    state = s.state_dict()
    assert state.keys() == ts.state_dict().keys()
    s2 = sched.ReduceLROnPlateau(opt)
    s2.load_state_dict(state)
    assert (s2.mode, s2.mode_worse, s2.best, s2.num_bad_epochs) == ("max", -math.inf, 1.0, 0)


def test_initial_lr_bookkeeping():
    opt, topt = _optimizers()
    s, ts = sched.StepLR(opt, step_size=2), torch_sched.StepLR(topt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in topt.param_groups] == [0.1, 0.02]
    assert s.base_lrs == ts.base_lrs and s.last_epoch == ts.last_epoch == 0
    # a second scheduler keeps the initial_lr already there
    opt.param_groups[0]["lr"] = 0.5
    s2 = sched.ExponentialLR(opt, gamma=0.5)
    assert s2.base_lrs == [0.1, 0.02] and s2.get_last_lr() == [0.5, 0.02]
    # resuming (last_epoch >= 0) needs initial_lr in every group
    fresh, tfresh = _optimizers()
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        torch_sched.StepLR(tfresh, step_size=2, last_epoch=3)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        sched.StepLR(fresh, step_size=2, last_epoch=3)


def test_resume_with_last_epoch_uses_closed_form_like_torch():
    opt, topt = _optimizers()
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        group["initial_lr"] = tgroup["initial_lr"] = group["lr"]
    s = sched.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    ts = torch_sched.CosineAnnealingLR(topt, T_max=10, last_epoch=4)
    _assert_groups_equal(opt, topt)
    for _ in range(10):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        _assert_groups_equal(opt, topt)
    with pytest.warns(UserWarning, match="The epoch parameter"):
        s.step(3)
    with pytest.warns(UserWarning, match="The epoch parameter"):
        ts.step(3)
    _assert_groups_equal(opt, topt)


def test_warns_when_scheduler_steps_before_optimizer():
    opt, _ = _optimizers()
    s = sched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        s.step()
    opt, _ = _optimizers()
    s = sched.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.step()


def test_get_lr_outside_step_warns():
    opt, _ = _optimizers()
    s = sched.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()


@pytest.mark.parametrize("make,error,match", [
    (lambda m, o: m.StepLR(object(), step_size=1), TypeError, "object is not an Optimizer"),
    (lambda m, o: m.LambdaLR(o, lr_lambda=[lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda m, o: m.OneCycleLR(o, max_lr=0.1), ValueError,
     "You must define either total_steps OR \\(epochs AND steps_per_epoch\\)"),
    (lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=0), ValueError, "Expected positive integer total_steps"),
    (lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), ValueError,
     "Expected float between 0 and 1 pct_start"),
    (lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear'"),
    (lambda m, o: m.OneCycleLR(o, max_lr=[0.1], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups"),
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown!"),
    (lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown!"),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
])
def test_errors_match_torch(make, error, match):
    opt, topt = _optimizers(momentum=0.9)
    with pytest.raises(error, match=match):
        make(torch_sched, topt)
    with pytest.raises(error, match=match):
        make(sched, opt)


def test_one_cycle_needs_momentum_or_betas():
    opt = optim.Adagrad([ag.tensor([1.0], requires_grad=True)])
    topt = torch.optim.Adagrad([torch.tensor([1.0], requires_grad=True)])
    for m, o in ((torch_sched, topt), (sched, opt)):
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            m.OneCycleLR(o, max_lr=0.1, total_steps=10)
    sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)


def test_scheduler_changes_the_optimizer_update():
    p = ag.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    s = sched.MultiStepLR(opt, milestones=[1], gamma=0.5)
    for expected in ([0.0], [-0.5]):
        p.grad = ag.tensor([1.0])
        opt.step()
        s.step()
        assert p.tolist() == expected

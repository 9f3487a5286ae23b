"""The schedulers added to autograd_gpu.optim.lr_scheduler (ConstantLR, LinearLR, PolynomialLR,
SequentialLR, ChainedScheduler, CosineAnnealingWarmRestarts, CyclicLR) against torch's: the same
learning rates (and momenta / betas for CyclicLR) at every step, and state_dict round trips."""
import copy

import pytest
from torch.optim import lr_scheduler as torch_sched

from autograd_gpu.optim import lr_scheduler as sched
from test_lr_scheduler import _assert_groups_equal, _optimizers

STEPS = 30


class _Scale:
    """A scale function that is a callable object (its __dict__ goes into CyclicLR's state_dict)."""

    def __init__(self, base):
        self.base = base

    def __call__(self, x):
        return self.base ** x


def _compare(make, steps, optimizer="SGD", options=None, keys=("lr",)):
    """Step ours and torch's side by side: the same groups, last lrs and epoch (ChainedScheduler has none)."""
    opt, topt = _optimizers(optimizer, **(options or {}))
    s, ts = make(sched, opt), make(torch_sched, topt)
    _assert_groups_equal(opt, topt, keys)
    assert s.get_last_lr() == ts.get_last_lr()
    for _ in range(steps):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        _assert_groups_equal(opt, topt, keys)
        assert s.get_last_lr() == ts.get_last_lr()
        assert getattr(s, "last_epoch", None) == getattr(ts, "last_epoch", None)
    return s, ts, opt, topt


SCHEDULES = {
    "ConstantLR": lambda m, o: m.ConstantLR(o),
    "ConstantLR-factor": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=7),
    "LinearLR": lambda m, o: m.LinearLR(o),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=12),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o),
    "PolynomialLR-power": lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.5),
    "SequentialLR": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    m.CosineAnnealingLR(o, T_max=10)], milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, factor=0.2, total_iters=3),
                                                          m.ExponentialLR(o, gamma=0.9),
                                                          m.StepLR(o, step_size=4, gamma=0.5)], milestones=[4, 15]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=2),
                                                         m.ExponentialLR(o, gamma=0.9)]),
    "ChainedScheduler-optimizer": lambda m, o: m.ChainedScheduler([m.LinearLR(o, total_iters=8),
                                                                   m.MultiStepLR(o, milestones=[5, 20])], o),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7),
    "CosineAnnealingWarmRestarts-T_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                     eta_min=0.001),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=3,
                                                    step_size_down=5, mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range",
                                                  gamma=0.95, base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                                 scale_fn=_Scale(0.8), scale_mode="iterations"),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_lr_sequence_matches_torch(name):
    keys = ("lr", "momentum") if name.startswith("Cyclic") else ("lr",)
    _compare(SCHEDULES[name], steps=STEPS, options={"momentum": 0.9}, keys=keys)


def test_cyclic_lr_cycles_adam_beta1():
    make = lambda m, o: m.CyclicLR(o, base_lr=0.001, max_lr=0.01, step_size_up=3)  # noqa: E731
    _, _, opt, _ = _compare(make, steps=STEPS, optimizer="Adam", keys=("lr", "betas", "max_momentum",
                                                                      "base_momentum"))
    assert opt.param_groups[0]["betas"][1] == 0.999


@pytest.mark.parametrize("epochs", [[0.5, 1.25, 3, 6.5, 7, 20.3, 2], [0, 4, 9, 10.5, 31, 45.9]])
@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_with_fractional_epochs(epochs, T_mult):
    opt, topt = _optimizers()
    s = sched.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=T_mult, eta_min=0.002)
    ts = torch_sched.CosineAnnealingWarmRestarts(topt, T_0=4, T_mult=T_mult, eta_min=0.002)
    for epoch in epochs:
        opt.step()
        topt.step()
        s.step(epoch)
        ts.step(epoch)
        _assert_groups_equal(opt, topt)
        assert (s.T_cur, s.T_i, s.last_epoch) == (ts.T_cur, ts.T_i, ts.last_epoch)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_state_dict_round_trip_resumes(name):
    make = SCHEDULES[name]
    keys = ("lr", "momentum") if name.startswith("Cyclic") else ("lr",)
    opt, topt = _optimizers(momentum=0.9)
    s, ts = make(sched, opt), make(torch_sched, topt)
    for _ in range(11):
        opt.step()
        s.step()
        topt.step()
        ts.step()
    saved, tsaved = copy.deepcopy(s.state_dict()), ts.state_dict()
    assert "optimizer" not in saved and saved.keys() == tsaved.keys()
    if "_schedulers" in saved:
        assert [d.keys() for d in saved["_schedulers"]] == [d.keys() for d in tsaved["_schedulers"]]
    # resume: a fresh optimizer and scheduler, loaded from the checkpoint
    opt2, _ = _optimizers(momentum=0.9)
    s2 = make(sched, opt2)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    s2.load_state_dict(saved)
    assert s2.get_last_lr() == s.get_last_lr()
    for _ in range(STEPS - 11):
        opt2.step()
        s2.step()
        topt.step()
        ts.step()
        _assert_groups_equal(opt2, topt, keys)
        assert s2.get_last_lr() == ts.get_last_lr()


def test_closed_form_with_epoch_matches_torch():
    for make in (lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
                 lambda m, o: m.LinearLR(o, start_factor=0.2, total_iters=6),
                 lambda m, o: m.PolynomialLR(o, total_iters=8, power=0.5)):
        opt, topt = _optimizers()
        s, ts = make(sched, opt), make(torch_sched, topt)
        for epoch in (3, 7, 1, 12, 5):
            opt.step()
            topt.step()
            with pytest.warns(UserWarning, match="The epoch parameter"):
                s.step(epoch)
            with pytest.warns(UserWarning, match="The epoch parameter"):
                ts.step(epoch)
            _assert_groups_equal(opt, topt)


def test_sequential_lr_undoes_the_schedulers_initial_steps():
    opt, topt = _optimizers()
    s = SCHEDULES["SequentialLR-three"](sched, opt)
    ts = SCHEDULES["SequentialLR-three"](torch_sched, topt)
    assert [c.last_epoch for c in s._schedulers] == [c.last_epoch for c in ts._schedulers] == [0, -1, -1]
    assert s.last_epoch == ts.last_epoch == 0
    _assert_groups_equal(opt, topt)


@pytest.mark.parametrize("make,error,match", [
    (lambda m, o: m.ConstantLR(o, factor=1.5), ValueError, "Constant multiplicative factor expected to be between"),
    (lambda m, o: m.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor expected to be greater"),
    (lambda m, o: m.LinearLR(o, end_factor=-0.5), ValueError, "Ending multiplicative factor expected to be between"),
    (lambda m, o: m.SequentialLR(o, [], milestones=[]), ValueError, "SequentialLR expects at least one scheduler"),
    (lambda m, o: m.SequentialLR(o, [m.ConstantLR(o)], milestones=[3]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more"),
    (lambda m, o: m.SequentialLR(o, [m.ConstantLR(o), m.ReduceLROnPlateau(o)], milestones=[3]), ValueError,
     "SequentialLR does not support `ReduceLROnPlateau` scheduler"),
    (lambda m, o: m.SequentialLR(o, [m.ConstantLR(o), object()], milestones=[3]), TypeError,
     "SequentialLR at index 1 should have `optimizer` as its attribute."),
    (lambda m, o: m.ChainedScheduler([]), ValueError, "ChainedScheduler expects at least one scheduler to be chained"),
    (lambda m, o: m.ChainedScheduler([m.ConstantLR(o), m.ReduceLROnPlateau(o)]), ValueError,
     "ChainedScheduler does not support `ReduceLROnPlateau`"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "Expected positive integer T_0, but got 0"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), ValueError,
     "Expected integer T_mult >= 1, but got 1.5"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"), ValueError, "Expected float or int eta_min"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2).step(-1), ValueError,
     "Expected non-negative epoch, but got -1"),
    (lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, mode="sine"), ValueError,
     "mode is invalid and scale_fn is None"),
    (lambda m, o: m.CyclicLR(o, base_lr=[0.01], max_lr=0.1), ValueError,
     "base_lr must have the same length as optimizer.param_groups"),
    (lambda m, o: m.CyclicLR(object(), base_lr=0.01, max_lr=0.1), TypeError, "object is not an Optimizer"),
])
def test_errors_match_torch(make, error, match):
    opt, topt = _optimizers(momentum=0.9)
    with pytest.raises(error, match=match):
        make(torch_sched, topt)
    with pytest.raises(error, match=match):
        make(sched, opt)


def test_schedulers_of_another_optimizer_are_refused():
    (opt, topt), (other, tother) = _optimizers(), _optimizers()
    for m, o, p in ((torch_sched, topt, tother), (sched, opt, other)):
        with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
            m.SequentialLR(o, [m.ConstantLR(o), m.ConstantLR(p)], milestones=[2])
        with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
            m.ChainedScheduler([m.ConstantLR(o), m.ConstantLR(p)])


def test_cyclic_lr_needs_momentum_or_betas():
    opt, topt = _optimizers("Adagrad")
    for m, o in ((torch_sched, topt), (sched, opt)):
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            m.CyclicLR(o, base_lr=0.01, max_lr=0.1)
    _compare(lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, cycle_momentum=False),
             steps=10, optimizer="Adagrad")

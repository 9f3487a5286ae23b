"""autograd_gpu.optim.swa_utils against torch.optim.swa_utils: AveragedModel (SWA and EMA averages, avg_fn /
multi_avg_fn, use_buffers), update_bn and SWALR give torch's numbers, on both devices."""
import copy

import numpy as np
import pytest
import torch
from torch.optim import swa_utils as torch_swa

import autograd_gpu as ag
from autograd_gpu import optim
from autograd_gpu.optim import swa_utils as swa
from test_lr_scheduler import _assert_groups_equal, _optimizers


def _np(t):
    return t.detach().cpu().numpy()


def _models(device, dtype="float64", seed=0):
    """The same small net (Linear, BatchNorm1d, ReLU, Linear), ours on `device` and torch's, same weights."""
    def build(nn):
        return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    ours, theirs = build(ag.nn).to(getattr(ag, dtype)), build(torch.nn).to(getattr(torch, dtype))
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == tname
            tp.copy_(torch.tensor(rng.normal(size=tuple(tp.shape))))
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours.to(device), theirs


def _train_a_bit(ours, theirs, rng, device):
    """New weights (the same on both sides) and one training-mode forward, which moves the BatchNorm stats."""
    with ag.no_grad(), torch.no_grad():
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            values = rng.normal(size=tuple(tp.shape))
            tp.copy_(torch.tensor(values))
            p.copy_(ag.tensor(values, dtype=p.dtype, device=device))
    x = rng.normal(size=(6, 3))
    ours(ag.tensor(x, dtype=next(ours.parameters()).dtype, device=device))
    theirs(torch.tensor(x, dtype=next(theirs.parameters()).dtype))


def _assert_same_model(ours, theirs, rtol=1e-13, atol=1e-15):
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for key, value in tsd.items():
        assert str(sd[key].dtype) == str(value.dtype), key
        np.testing.assert_allclose(_np(sd[key]), value.numpy(), rtol=rtol, atol=atol, err_msg=key)


AVERAGES = {
    "swa": lambda m: {},
    "ema-avg_fn": lambda m: dict(avg_fn=m.get_ema_avg_fn(0.9)),
    "ema-multi_avg_fn": lambda m: dict(multi_avg_fn=m.get_ema_multi_avg_fn(0.7)),
    "swa-multi_avg_fn": lambda m: dict(multi_avg_fn=m.get_swa_multi_avg_fn()),  # a float32 weight, as torch's
    "swa-use_buffers": lambda m: dict(use_buffers=True),
    "ema-use_buffers": lambda m: dict(multi_avg_fn=m.get_ema_multi_avg_fn(0.6), use_buffers=True),
    "custom": lambda m: dict(avg_fn=lambda avg, cur, n: avg * 0.5 + cur * 0.5 + n),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(AVERAGES))
def test_averaged_model_matches_torch(name, dtype, device):
    ours, theirs = _models(device, dtype)
    avg, tavg = swa.AveragedModel(ours, **AVERAGES[name](swa)), torch_swa.AveragedModel(theirs,
                                                                                       **AVERAGES[name](torch_swa))
    rng = np.random.default_rng(1)
    tol = dict(rtol=1e-13, atol=1e-15) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    for _ in range(4):
        _train_a_bit(ours, theirs, rng, device)
        avg.update_parameters(ours)
        tavg.update_parameters(theirs)
        _assert_same_model(avg, tavg, **tol)
    assert avg.n_averaged.item() == tavg.n_averaged.item() == 4 and avg.n_averaged.dtype == ag.int64
    assert avg.module is not ours and next(avg.parameters()).device == next(ours.parameters()).device
    # its forward is the averaged module's
    x = rng.normal(size=(5, 3))
    avg.eval()
    tavg.eval()
    np.testing.assert_allclose(_np(avg(ag.tensor(x, dtype=getattr(ag, dtype), device=device))),
                               tavg(torch.tensor(x, dtype=getattr(torch, dtype))).detach().numpy(), **tol)


def test_averaged_model_device_and_state_dict_round_trip(device):
    ours, theirs = _models("cpu")
    avg = swa.AveragedModel(ours, device=device)
    assert next(avg.parameters()).device == avg.n_averaged.device and avg.n_averaged.device.type == device
    assert next(ours.parameters()).device == ag.device("cpu")  # (a copy moved, not the model)
    rng = np.random.default_rng(2)
    for _ in range(2):
        _train_a_bit(ours, theirs, rng, "cpu")
        avg.update_parameters(ours)
    fresh = swa.AveragedModel(ours, device=device)
    fresh.load_state_dict(copy.deepcopy(avg.state_dict()))
    assert fresh.n_averaged.item() == 2
    for a, b in zip(fresh.parameters(), avg.parameters()):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_averaging_needs_one_function_and_a_decay_in_range():
    model = ag.nn.Linear(2, 2)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        swa.AveragedModel(model, avg_fn=swa.get_swa_avg_fn(), multi_avg_fn=swa.get_swa_multi_avg_fn())
    for m in (torch_swa, swa):
        for make in (m.get_ema_avg_fn, m.get_ema_multi_avg_fn):
            with pytest.raises(ValueError, match="Invalid decay value 1.5 provided. Please provide a value in"):
                make(1.5)


@pytest.mark.parametrize("batches", ["tensors", "tuples"])
def test_update_bn_matches_torch(batches, device):
    ours, theirs = _models(device)
    ours[1].momentum = theirs[1].momentum = 0.3
    ours.eval()
    theirs.eval()
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(n, 3)) * 2 + 1 for n in (5, 7, 4)]
    loader = [ag.tensor(x, device=device) for x in xs]
    tloader = [torch.tensor(x) for x in xs]
    if batches == "tuples":
        loader = [(x, ag.tensor([0.0])) for x in loader]
        tloader = [(x, torch.tensor([0.0])) for x in tloader]
    swa.update_bn(loader, ours)
    torch_swa.update_bn(tloader, theirs)
    _assert_same_model(ours, theirs)
    assert ours[1].num_batches_tracked.item() == 3 and ours[1].momentum == 0.3 and not ours.training


def test_update_bn_moves_batches_to_the_device_and_skips_models_without_batchnorm(device):
    ours, theirs = _models(device)
    xs = [np.random.default_rng(4).normal(size=(6, 3))]
    swa.update_bn([ag.tensor(x) for x in xs], ours, device=device)
    torch_swa.update_bn([torch.tensor(x) for x in xs], theirs)
    _assert_same_model(ours, theirs)
    assert ours.training
    linear = ag.nn.Linear(3, 2)
    swa.update_bn([object()], linear)  # nothing to do: the loader is not even read


SWALRS = {
    "cos": lambda m, o: m.SWALR(o, swa_lr=0.05),
    "linear": lambda m, o: m.SWALR(o, swa_lr=[0.05, 0.5], anneal_epochs=4, anneal_strategy="linear"),
    "no-anneal": lambda m, o: m.SWALR(o, swa_lr=0.01, anneal_epochs=0),
}


@pytest.mark.parametrize("name", sorted(SWALRS))
def test_swalr_matches_torch(name):
    opt, topt = _optimizers(momentum=0.9)
    s, ts = SWALRS[name](swa, opt), SWALRS[name](torch_swa, topt)
    _assert_groups_equal(opt, topt, ("lr", "swa_lr"))
    for step in range(20):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        _assert_groups_equal(opt, topt)
        assert s.get_last_lr() == ts.get_last_lr()
        if step == 6:  # a state_dict round trip into a fresh scheduler
            saved = copy.deepcopy(s.state_dict())
            assert saved.keys() == ts.state_dict().keys() and "anneal_func" not in saved
            s = SWALRS[name](swa, opt)
            opt.load_state_dict(copy.deepcopy(opt.state_dict()))
            s.load_state_dict(saved)
            for group, tgroup in zip(opt.param_groups, topt.param_groups):
                group["lr"] = tgroup["lr"]


@pytest.mark.parametrize("make,error,match", [
    (lambda m, o: m.SWALR(o, swa_lr=0.1, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda m, o: m.SWALR(o, swa_lr=0.1, anneal_epochs=-1), ValueError,
     "anneal_epochs must be equal or greater than 0, got -1"),
    (lambda m, o: m.SWALR(o, swa_lr=[0.1]), ValueError, "swa_lr must have the same length as optimizer.param_groups"),
])
def test_swalr_errors_match_torch(make, error, match):
    opt, topt = _optimizers()
    with pytest.raises(error, match=match):
        make(torch_swa, topt)
    with pytest.raises(error, match=match):
        make(swa, opt)


def test_swa_training_loop_end_to_end(device):
    """SGD, then SWA from epoch 2 with SWALR, then update_bn: the same averaged model as torch's."""
    ours, theirs = _models(device)
    opt, topt = optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    avg, tavg = swa.AveragedModel(ours), torch_swa.AveragedModel(theirs)
    s, ts = swa.SWALR(opt, swa_lr=0.02, anneal_epochs=2), torch_swa.SWALR(topt, swa_lr=0.02, anneal_epochs=2)
    rng = np.random.default_rng(5)
    data = [(rng.normal(size=(8, 3)), rng.normal(size=(8, 2))) for _ in range(2)]
    for epoch in range(5):
        for x, y in data:
            opt.zero_grad()
            ag.nn.functional.mse_loss(ours(ag.tensor(x, device=device)), ag.tensor(y, device=device)).backward()
            opt.step()
            topt.zero_grad()
            torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y)).backward()
            topt.step()
        if epoch >= 2:
            avg.update_parameters(ours)
            tavg.update_parameters(theirs)
            s.step()
            ts.step()
    swa.update_bn([ag.tensor(x, device=device) for x, _ in data], avg)
    torch_swa.update_bn([torch.tensor(x) for x, _ in data], tavg)
    _assert_same_model(avg, tavg, rtol=1e-11, atol=1e-13)

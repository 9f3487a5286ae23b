"""The optimizers added after the first six (NAdam, RAdam, Adamax, ASGD, LBFGS) against torch.optim.

Their 10-step trajectories (float32 and float64, both devices) and kernel-vs-reference runs are cases of
tests/test_optim.py's CASES; here: their state (names, step and scalar tensors, devices, dtypes), state_dict
round trips, errors, and L-BFGS (its closure protocol, history, both line-search modes, and a small
style-transfer problem) step for step against torch's."""
import copy

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import optim
from test_optim import SHAPES, _assert_close, _assert_same_state, _np, _pair, _run, _set_grads

NEW = ["NAdam", "RAdam", "Adamax", "ASGD"]
STATE = {"NAdam": ["step", "mu_product", "exp_avg", "exp_avg_sq"], "RAdam": ["step", "exp_avg", "exp_avg_sq"],
         "Adamax": ["step", "exp_avg", "exp_inf"], "ASGD": ["step", "eta", "mu", "ax"]}
# the state on the CPU, as torch's (capturable=False); ASGD keeps step, eta and mu on the parameter's device
ON_CPU = {"NAdam": {"step", "mu_product"}, "RAdam": {"step"}, "Adamax": {"step"}, "ASGD": set()}


@pytest.mark.parametrize("name", NEW)
def test_state_names_scalar_tensors_and_devices_match_torch(name, device):
    opt, topt, ours, theirs = _run(name, dict(t0=2) if name == "ASGD" else {}, np.float32, steps=4, device=device)
    state, tstate = opt.state[ours[0]], topt.state[theirs[0]]
    assert sorted(state) == sorted(tstate) == sorted(STATE[name])
    for key in STATE[name]:
        assert state[key].dtype == getattr(ag, str(tstate[key].dtype).split(".")[1]), key
        assert state[key].shape == tuple(tstate[key].shape), key
        want = ag.device("cpu") if key in ON_CPU[name] else ours[0].device
        assert state[key].device == want, key
    assert state["step"].item() == tstate["step"].item() == 4
    assert opt.state[ours[2]]["step"].item() == 2  # skipped when its grad was None


@pytest.mark.parametrize("name", NEW)
def test_float64_default_dtype_gives_float64_scalar_state(name):
    old, told = ag.get_default_dtype(), torch.get_default_dtype()
    ag.set_default_dtype(ag.float64)
    torch.set_default_dtype(torch.float64)
    try:
        opt, topt, ours, theirs = _run(name, {}, np.float64, steps=3)
        for key in STATE[name]:
            assert str(opt.state[ours[0]][key].dtype) == str(topt.state[theirs[0]][key].dtype) == "torch.float64"
    finally:
        ag.set_default_dtype(old)
        torch.set_default_dtype(told)


@pytest.mark.parametrize("name,options", [("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
                                          ("RAdam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
                                          ("Adamax", dict(lr=0.01)),
                                          ("ASGD", dict(lr=0.05, t0=3))])
def test_state_dict_round_trip_resumes_as_torch(name, options, device):
    """Four steps, a state_dict through deepcopy into a fresh optimizer, six more: ours and torch's alike.
    (NAdam's resumed run is not the straight one, in torch too: load_state_dict casts mu_product to the
    parameter's dtype.)"""
    rng = np.random.default_rng(7)
    ours, theirs = _pair([rng.normal(size=s) for s in SHAPES], np.float64, device)
    opt, topt = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for step in range(10):
        _set_grads(ours, theirs, [rng.normal(size=s) for s in SHAPES])
        opt.step()
        topt.step()
        if step == 3:
            saved, tsaved = copy.deepcopy(opt.state_dict()), copy.deepcopy(topt.state_dict())
            opt, topt = getattr(optim, name)(ours, lr=1.0), getattr(torch.optim, name)(theirs, lr=1.0)
            opt.load_state_dict(saved)
            topt.load_state_dict(tsaved)
            _assert_same_state(opt, topt, ours, theirs, np.float64)
    for p, tp in zip(ours, theirs):
        _assert_close(p, tp, np.float64)
    _assert_same_state(opt, topt, ours, theirs, np.float64)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def test_nadam_state_loaded_from_torch_continues_as_torch(device):
    """A torch NAdam state_dict (converted) loads and continues identically; as in torch, load_state_dict moves
    mu_product (not "step") to the parameter's device."""
    opt, topt, ours, theirs = _run("NAdam", dict(lr=0.01), np.float64, steps=3, device=device)
    tsd = topt.state_dict()
    converted = {"state": {i: {k: ag.tensor(v.numpy()) for k, v in s.items()} for i, s in tsd["state"].items()},
                 "param_groups": tsd["param_groups"]}
    fresh, tfresh = optim.NAdam(ours, lr=0.5), torch.optim.NAdam(theirs, lr=0.5)
    fresh.load_state_dict(converted)
    tfresh.load_state_dict(tsd)
    assert tfresh.state[theirs[0]]["mu_product"].dtype == torch.float64  # (cast to the parameter's dtype)
    state = fresh.state[ours[0]]
    assert state["mu_product"].device == ours[0].device and state["step"].device == ag.device("cpu")
    rng = np.random.default_rng(8)
    for _ in range(3):
        _set_grads(ours, theirs, [rng.normal(size=s) for s in SHAPES])
        fresh.step()
        tfresh.step()
        for p, tp in zip(ours, theirs):
            _assert_close(p, tp, np.float64)
    _assert_same_state(fresh, tfresh, ours, theirs, np.float64)


def test_asgd_reads_state_set_by_hand(device):
    """ASGD keeps eta and mu on the host too (nothing is read back); a state tensor replaced by hand is read."""
    opt, topt, ours, theirs = _run("ASGD", dict(lr=0.05, t0=2), np.float64, steps=3, device=device)
    opt.state[ours[0]]["eta"] = ag.tensor(0.2, device=device)
    topt.state[theirs[0]]["eta"] = torch.tensor(0.2)
    rng = np.random.default_rng(9)
    for _ in range(3):
        _set_grads(ours, theirs, [rng.normal(size=s) for s in SHAPES])
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            _assert_close(p, tp, np.float64)
    _assert_same_state(opt, topt, ours, theirs, np.float64)


@pytest.mark.parametrize("name", NEW)
def test_foreach_and_capturable_flags_are_kept_as_torch_keeps_them(name):
    options = dict(foreach=False) if name in ("Adamax", "ASGD") else dict(foreach=False, capturable=False)
    opt, topt, _, _ = _run(name, options, np.float64, steps=2)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    assert repr(opt) == repr(topt)
    with pytest.raises(NotImplementedError, match="differentiable=True is not supported"):
        getattr(optim, name)([ag.tensor([1.0], requires_grad=True)], differentiable=True)


@pytest.mark.parametrize("make,error,match", [
    (lambda o, ps: o.NAdam(ps, lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda o, ps: o.NAdam(ps, momentum_decay=-0.1), ValueError, "Invalid momentum_decay value: -0.1"),
    (lambda o, ps: o.NAdam(ps, betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (lambda o, ps: o.RAdam(ps, betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
    (lambda o, ps: o.RAdam(ps, eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (lambda o, ps: o.Adamax(ps, weight_decay=-0.1), ValueError, "Invalid weight_decay value: -0.1"),
    (lambda o, ps: o.Adamax(ps, betas=(0.9, 1.5)), ValueError, "Invalid beta parameter at index 1: 1.5"),
    (lambda o, ps: o.ASGD(ps, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (lambda o, ps: o.ASGD(ps, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda o, ps: o.LBFGS(ps, lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda o, ps: o.LBFGS([{"params": ps[:1]}, {"params": ps[1:]}]), ValueError,
     "LBFGS doesn't support per-parameter options \\(parameter groups\\)"),
])
def test_errors_match_torch(make, error, match):
    ours = [ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0], requires_grad=True)]
    theirs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)]
    with pytest.raises(error, match=match):
        make(torch.optim, theirs)
    with pytest.raises(error, match=match):
        make(optim, ours)


# ---------------------------------------------------------------------------------------------------- L-BFGS

def _rosenbrock(v):
    return (100 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2).sum()


def _closure(opt, loss_fn, params):
    def closure():
        opt.zero_grad()
        loss = loss_fn(*params)
        loss.backward()
        return loss
    return closure


def _compare_lbfgs(loss_fn, arrays, options, steps, device, rtol=1e-10, atol=1e-12, vectors=True):
    """Run ours and torch's LBFGS from the same float64 start; at every step the same loss, parameters and
    state (its counters exactly; its vectors and scalars with `vectors`). Returns both optimizers."""
    ours, theirs = _pair(arrays, np.float64, device)
    opt, topt = optim.LBFGS(ours, **options), torch.optim.LBFGS(theirs, **options)
    closure, tclosure = _closure(opt, loss_fn, ours), _closure(topt, loss_fn, theirs)
    for step in range(steps):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        assert isinstance(loss, ag.Tensor)
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=rtol, err_msg=f"step {step}")
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(_np(p), tp.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"step {step}")
        state, tstate = opt.state[ours[0]], topt.state[theirs[0]]
        assert list(state) == list(tstate)
        for key in ("func_evals", "n_iter"):
            assert state[key] == tstate[key], key
        if not vectors:
            continue
        for key in ("d", "prev_flat_grad"):
            assert state[key].device == ours[0].device
            np.testing.assert_allclose(_np(state[key]), tstate[key].numpy(), rtol=rtol * 10, atol=atol * 10)
        assert len(state["old_dirs"]) == len(tstate["old_dirs"]) <= options.get("history_size", 100)
        for key in ("old_dirs", "old_stps", "ro"):
            for a, b in zip(state[key], tstate[key]):
                np.testing.assert_allclose(_np(a), b.numpy(), rtol=rtol * 10, atol=atol * 10)
        for key in ("t", "H_diag", "prev_loss"):
            assert isinstance(state[key], ag.Tensor) == isinstance(tstate[key], torch.Tensor), key
            np.testing.assert_allclose(float(state[key]), float(tstate[key]), rtol=rtol * 10)
    return opt, topt


LBFGS_RUNS = {"default": dict(), "short-history": dict(history_size=3, max_iter=7),
              "max_eval": dict(lr=0.5, max_iter=4, max_eval=6, history_size=2),
              "strong_wolfe": dict(line_search_fn="strong_wolfe"),
              "strong_wolfe-short": dict(line_search_fn="strong_wolfe", history_size=2, max_iter=3)}


def _smooth(x):
    """A well-conditioned problem (a quadratic with eigenvalues 1..6 plus a quartic) for exact comparisons."""
    rng = np.random.default_rng(11)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    a, b = (q * np.arange(1.0, 7.0)) @ q.T, rng.normal(size=6)
    a, b = (ag.tensor(a, device=x.device), ag.tensor(b, device=x.device)) if isinstance(x, ag.Tensor) else (
        torch.tensor(a), torch.tensor(b))
    return 0.5 * (x @ a @ x) - b @ x + 0.1 * (x ** 4).sum()


@pytest.mark.parametrize("run", sorted(LBFGS_RUNS))
def test_lbfgs_matches_torch_with_its_state(run, device):
    options = dict(LBFGS_RUNS[run], max_iter=min(LBFGS_RUNS[run].get("max_iter", 20), 4))
    _compare_lbfgs(_smooth, [np.linspace(-1.0, 1.5, 6)], options, steps=4, device=device)


@pytest.mark.parametrize("run", sorted(LBFGS_RUNS))
def test_lbfgs_on_rosenbrock_matches_torch(run, device):
    # Rosenbrock's valley amplifies float64 rounding (a dot product's summation order) over many iterations:
    # two steps, the parameters to 1e-8 and the counters exactly
    opt, _ = _compare_lbfgs(_rosenbrock, [np.array([-1.5, 2.0, 0.5, -0.7, 1.2])], LBFGS_RUNS[run], 2, device,
                            rtol=1e-8, atol=1e-10, vectors=False)
    assert opt.state[opt._params[0]]["func_evals"] <= 2 * opt.defaults["max_eval"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_round_trip_continues_as_torch(line_search_fn, device):
    """Two steps, the state_dict through deepcopy into fresh optimizers (ours and torch's), two more."""
    ours, theirs = _pair([np.linspace(-1.0, 1.5, 6)], np.float64, device)
    options = dict(max_iter=3, history_size=4, line_search_fn=line_search_fn)
    opt, topt = optim.LBFGS(ours, **options), torch.optim.LBFGS(theirs, **options)
    for step in range(4):
        if step == 2:
            saved, tsaved = copy.deepcopy(opt.state_dict()), copy.deepcopy(topt.state_dict())
            assert saved["state"].keys() == tsaved["state"].keys() == {0}
            assert list(saved["state"][0]) == list(tsaved["state"][0])
            assert saved["param_groups"] == tsaved["param_groups"]
            opt, topt = optim.LBFGS(ours, **options), torch.optim.LBFGS(theirs, **options)
            opt.load_state_dict(saved)
            topt.load_state_dict(tsaved)
            assert opt.state[ours[0]]["d"].device == ours[0].device
        loss, tloss = opt.step(_closure(opt, _smooth, ours)), topt.step(_closure(topt, _smooth, theirs))
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
        np.testing.assert_allclose(_np(ours[0]), theirs[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    assert opt.state[ours[0]]["n_iter"] == topt.state[theirs[0]]["n_iter"] > 6  # (iterations after the load)


def test_lbfgs_stops_when_the_gradient_is_below_tolerance(device):
    """A quadratic is solved within the first step; the second returns at once (one closure call)."""
    target = np.array([1.0, -2.0, 3.0])
    loss_fn = lambda x: ((x - ag.tensor(target, device=x.device) if isinstance(x, ag.Tensor)  # noqa: E731
                          else x - torch.tensor(target)) ** 2).sum()
    opt, topt = _compare_lbfgs(loss_fn, [np.zeros(3)], dict(line_search_fn="strong_wolfe"), steps=3, device=device)
    assert opt.state[opt._params[0]]["func_evals"] == topt.state[topt._params[0]]["func_evals"]
    np.testing.assert_allclose(_np(opt._params[0]), target, atol=1e-6)


def test_lbfgs_runs_the_closure_with_grad_enabled_and_needs_one():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.LBFGS([x], max_iter=2)
    seen = []

    def closure():
        seen.append(ag.is_grad_enabled())
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        opt.step(closure)
        assert not ag.is_grad_enabled()
    assert seen and all(seen) and not x.grad_fn
    with pytest.raises(TypeError):
        opt.step()
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optim.LBFGS([x], line_search_fn="armijo").step(closure)


def _style_transfer_problem(seed=0):
    """A tiny fixed conv net and content / style images; the loss of an image is its content loss (the
    second layer's features against the content image's) plus the Gram-matrix style loss of both layers."""
    rng = np.random.default_rng(seed)
    weights = dict(w1=rng.normal(size=(4, 3, 3, 3)) * 0.4, b1=rng.normal(size=4) * 0.1,
                   w2=rng.normal(size=(5, 4, 3, 3)) * 0.3, b2=rng.normal(size=5) * 0.1)
    content, style = rng.uniform(size=(1, 3, 6, 6)), rng.uniform(size=(1, 3, 6, 6))
    start = content + 0.1 * rng.normal(size=content.shape)

    def make(lib, F, to_tensor):
        w = {k: to_tensor(v) for k, v in weights.items()}

        def features(img):
            h1 = F.relu(F.conv2d(img, w["w1"], w["b1"], padding=1))
            return h1, F.relu(F.conv2d(h1, w["w2"], w["b2"], padding=1))

        def gram(h):
            _, c, hh, ww = h.shape
            f = h.reshape(c, hh * ww)
            return f @ f.t() / (c * hh * ww)

        with lib.no_grad():
            content_target = features(to_tensor(content))[1]
            style_targets = [gram(h) for h in features(to_tensor(style))]

        def loss_fn(img):
            h1, h2 = features(img)
            style_loss = sum(F.mse_loss(gram(h), g) for h, g in zip((h1, h2), style_targets))
            return F.mse_loss(h2, content_target) + 100.0 * style_loss
        return loss_fn

    return make, start


def test_lbfgs_style_transfer_matches_torch(device):
    make, start = _style_transfer_problem()
    ours_fn = make(ag, ag.nn.functional, lambda a: ag.tensor(a, device=device))
    theirs_fn = make(torch, torch.nn.functional, torch.tensor)

    ours, theirs = _pair([start], np.float64, device)
    options = dict(lr=1, max_iter=3, history_size=5, line_search_fn="strong_wolfe")  # (12 iterations: 5 kept)
    opt, topt = optim.LBFGS(ours, **options), torch.optim.LBFGS(theirs, **options)
    closure, tclosure = _closure(opt, ours_fn, ours), _closure(topt, theirs_fn, theirs)
    losses = []
    for step in range(4):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10, err_msg=f"step {step}")
        np.testing.assert_allclose(_np(ours[0]), theirs[0].detach().numpy(), rtol=1e-9, atol=1e-11)
        state, tstate = opt.state[ours[0]], topt.state[theirs[0]]
        assert (state["func_evals"], state["n_iter"]) == (tstate["func_evals"], tstate["n_iter"])
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]  # it optimises

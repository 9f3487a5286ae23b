"""autograd_gpu.optim against torch.optim: the same initial weights and the same gradients give
the same parameters and the same state, step for step; plus the Optimizer API (param groups,
state_dict, zero_grad, closures, errors)."""
import copy
import itertools
import warnings

import numpy as np
import pytest
import torch
from torch.optim.optimizer import required as torch_required

import autograd_gpu as ag
from autograd_gpu import _kernels as K
from autograd_gpu import optim

SHAPES = [(3, 4), (5,), ()]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.5), eps=1e-6, amsgrad=True, maximize=True)),  # lerp weight >= 0.5
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, momentum=0.5, maximize=True)),  # lerp weight >= 0.5
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.3, 0.5), weight_decay=0.1, momentum_decay=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.3, 0.99), weight_decay=0.1, maximize=True)),  # rectified from step 6 on
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.8), weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.5), eps=1e-3, weight_decay=0.1, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=3, weight_decay=0.1, maximize=True)),  # averaging from step 4
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.3, etas=(0.3, 1.7), step_sizes=(0.05, 0.6), maximize=True)),  # both clamps reached
    # the fused steps (the ones a GradScaler takes; tests/test_amp.py), against torch's fused=True
    ("SGD", dict(lr=0.1, weight_decay=0.1, maximize=True, fused=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01, fused=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True, fused=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, fused=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.5), eps=1e-6, amsgrad=True, maximize=True, fused=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True, fused=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6, fused=True)),
]
#: the cases without fused=True (torch refuses fused=True beside foreach=True, as we do)
UNFUSED_CASES = [c for c in CASES if not c[1].get("fused")]


def _ids(case):
    name, options = case
    return name + "-" + ("-".join(f"{k}={v}" for k, v in options.items()) or "default")


def _np(t):
    """Our tensor's values as a numpy array, from either device."""
    return t.detach().cpu().numpy()


def _pair(arrays, dtype, device="cpu"):
    """Leaf parameters with the same values: ours (on `device`) and torch's (on the CPU)."""
    ours = [ag.tensor(a.astype(dtype), requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return ours, theirs


def _set_grads(ours, theirs, grads):
    for p, tp, g in zip(ours, theirs, grads):
        if g is None:
            p.grad, tp.grad = None, None
        else:
            p.grad, tp.grad = ag.tensor(g, dtype=p.dtype, device=p.device), torch.tensor(g).to(tp.dtype)


def _assert_close(ours, theirs, dtype, what=""):
    got = _np(ours)
    want = theirs.detach().numpy()
    assert got.dtype == want.dtype, what
    np.testing.assert_allclose(got, want, err_msg=what, **TOL[dtype])


def _assert_same_state(opt, topt, ours, theirs, dtype):
    for p, tp in zip(ours, theirs):
        state, tstate = opt.state.get(p, {}), topt.state.get(tp, {})
        assert sorted(state) == sorted(tstate)
        for key, tvalue in tstate.items():
            if isinstance(tvalue, torch.Tensor):
                _assert_close(state[key], tvalue, dtype, key)
            else:
                assert state[key] == tvalue, key


def _run(name, options, dtype, steps=10, seed=0, device="cpu", foreach=None):
    rng = np.random.default_rng(seed)
    ours, theirs = _pair([rng.normal(size=s) for s in SHAPES], dtype, device)
    # (foreach: ours only; torch's foreach steps round some of their scalars otherwise)
    opt = getattr(optim, name)(ours, **options, **({} if foreach is None else {"foreach": foreach}))
    topt = getattr(torch.optim, name)(theirs, **options)
    for step in range(steps):
        # the 0-d parameter gets no gradient on odd steps: it is skipped, state and all
        grads = [rng.normal(size=s) if i < 2 or step % 2 == 0 else None for i, s in enumerate(SHAPES)]
        _set_grads(ours, theirs, grads)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            _assert_close(p, tp, dtype, f"step {step}")
        _assert_same_state(opt, topt, ours, theirs, dtype)
    return opt, topt, ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_trajectory_matches_torch(case, dtype, device):
    name, options = case
    _run(name, options, dtype, device=device)


def test_every_optimizer_kernel_runs_and_matches_its_reference(monkeypatch):
    """Every case on 'cuda' (the kernels of kernels/optim.cu: on a GPU, or compiled by g++ under the stand-in)
    against the same case on the CPU (their reference steps), and every optimizer kernel is one some case runs."""
    launched = set()
    real = K._cupy_launcher
    monkeypatch.setattr(K, "_cupy_launcher", lambda k, *args: launched.add(k.name) or real(k, *args))
    for name, options in CASES:
        for dtype, tol in ((np.float32, dict(rtol=1e-6, atol=1e-7)), (np.float64, dict(rtol=1e-14, atol=1e-15))):
            on_cpu = _run(name, options, dtype, steps=3, device="cpu")[2]
            # one launch per parameter, one per group (the multi-tensor kernels; fused=True: by default)
            for foreach in (False, None if options.get("fused") else True):
                on_gpu = _run(name, options, dtype, steps=3, device="cuda", foreach=foreach)[2]
                for p, q in zip(on_cpu, on_gpu):
                    np.testing.assert_allclose(_np(q), _np(p), err_msg=_ids((name, options)), **tol)
    assert launched == set(K.kernel_names("optim"))


def test_state_names_and_step_tensor_match_torch(device):
    opt, topt, ours, theirs = _run("Adam", dict(amsgrad=True), np.float32, steps=3, device=device)
    step, tstep = opt.state[ours[0]]["step"], topt.state[theirs[0]]["step"]
    assert isinstance(step, ag.Tensor) and step.shape == () and str(step.dtype) == str(tstep.dtype)
    assert step.item() == tstep.item() == 3
    assert opt.state[ours[2]]["step"].item() == 2  # skipped when its grad was None
    assert step.device.type == "cpu" and opt.state[ours[0]]["exp_avg"].device == ours[0].device  # as torch
    opt, topt, ours, theirs = _run("SGD", dict(momentum=0.9), np.float64, steps=2, device=device)
    assert list(opt.state[ours[0]]) == ["momentum_buffer"]
    opt, topt, ours, theirs = _run("SGD", dict(), np.float64, steps=2, device=device)
    assert len(opt.state) == len(topt.state) == 0


def test_update_is_in_place_and_bumps_the_version(device):
    p = ag.tensor([1.0, 2.0], requires_grad=True, device=device)
    data = p._data
    opt = optim.Adam([p], lr=0.1)
    p.grad = ag.tensor([1.0, 1.0], device=device)
    v0 = p._version
    opt.step()
    assert p._data is data and p._version > v0
    assert opt.state[p]["exp_avg"]._version == 1
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_saved_parameter_in_graph_detects_optimizer_update(device):
    p = ag.tensor([1.0, 2.0], requires_grad=True, device=device)
    loss = (p * p).sum()
    opt = optim.SGD([p], lr=0.1)
    p.grad = ag.tensor([1.0, 1.0], device=device)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_parameters_from_generator_filter_and_parameter_class(device):
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(2, 3)) for _ in range(4)]
    ours, theirs = _pair(arrays, np.float64, device)
    ours[3].requires_grad_(False)
    theirs[3].requires_grad_(False)
    ours[2] = ag.nn.Parameter(ours[2].detach())
    theirs[2] = torch.nn.Parameter(theirs[2].detach())
    opt = optim.SGD(filter(lambda p: p.requires_grad, itertools.chain(ours[:2], ours[2:])), lr=0.1, momentum=0.5)
    topt = torch.optim.SGD(filter(lambda p: p.requires_grad, itertools.chain(theirs[:2], theirs[2:])), lr=0.1,
                           momentum=0.5)
    assert len(opt.param_groups[0]["params"]) == 3
    for _ in range(3):
        _set_grads(ours[:3], theirs[:3], [rng.normal(size=(2, 3)) for _ in range(3)])
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        _assert_close(p, tp, np.float64)


def test_param_groups_with_their_own_options(device):
    rng = np.random.default_rng(2)
    ours, theirs = _pair([rng.normal(size=(4,)) for _ in range(3)], np.float64, device)

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2], "lr": 0.5, "betas": (0.5, 0.9), "amsgrad": True}]

    opt = optim.Adam(groups(ours), lr=0.01, weight_decay=0.1)
    topt = torch.optim.Adam(groups(theirs), lr=0.01, weight_decay=0.1)
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["weight_decay"] == 0.1
    assert opt.param_groups[1]["params"] == [ours[2]]  # a single tensor becomes a list
    for _ in range(5):
        _set_grads(ours, theirs, [rng.normal(size=(4,)) for _ in range(3)])
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        _assert_close(p, tp, np.float64)
    _assert_same_state(opt, topt, ours, theirs, np.float64)


def test_add_param_group_later(device):
    rng = np.random.default_rng(3)
    ours, theirs = _pair([rng.normal(size=(3,)) for _ in range(2)], np.float64, device)
    opt, topt = optim.Adagrad([ours[0]], lr=0.1), torch.optim.Adagrad([theirs[0]], lr=0.1)
    opt.add_param_group({"params": [ours[1]], "lr": 0.3})
    topt.add_param_group({"params": [theirs[1]], "lr": 0.3})
    assert opt.param_groups[1].keys() == topt.param_groups[1].keys()
    _set_grads(ours[:1], theirs[:1], [rng.normal(size=(3,))])
    opt.step()
    topt.step()
    _assert_close(ours[0], theirs[0], np.float64)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [ours[0]]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([ours[0]])


# (LBFGS takes a closure and keeps other state: tests/test_optim_more.py)
OPTIMIZER_NAMES = [n for n in optim.__all__ if n not in ("Optimizer", "lr_scheduler", "LBFGS")]


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_state_dict_format_matches_torch(name, device):
    options = {"SGD": dict(lr=0.1, momentum=0.9), "RMSprop": dict(centered=True, momentum=0.5)}.get(name, {})
    opt, topt, ours, theirs = _run(name, options, np.float32, steps=3, device=device)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd.keys() == tsd.keys() == {"state", "param_groups"}
    assert sd["param_groups"] == tsd["param_groups"]
    assert sd["state"].keys() == tsd["state"].keys()
    for i, tstate in tsd["state"].items():
        assert sd["state"][i].keys() == tstate.keys()
        for key, value in tstate.items():
            np.testing.assert_allclose(_np(sd["state"][i][key]), value.numpy(), **TOL[np.float32])


@pytest.mark.parametrize("name,options", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                          ("Adam", dict(lr=0.01, amsgrad=True)),
                                          ("AdamW", dict(lr=0.01)),
                                          ("RMSprop", dict(centered=True, momentum=0.5)),
                                          ("Adagrad", dict(lr_decay=0.01))])
def test_state_dict_round_trip_resumes_identically(name, options, device):
    rng = np.random.default_rng(4)
    init = [rng.normal(size=s) for s in SHAPES[:2]]
    grads = [[rng.normal(size=s) for s in SHAPES[:2]] for _ in range(8)]
    straight = [ag.tensor(a, requires_grad=True, device=device) for a in init]
    opt = getattr(optim, name)(straight, **options)
    resumed = [ag.tensor(a, requires_grad=True, device=device) for a in init]
    first = getattr(optim, name)(resumed, **options)
    for step, gs in enumerate(grads):
        for p, g in zip(straight, gs):
            p.grad = ag.tensor(g, device=device)
        opt.step()
        if step == 3:  # checkpoint the second run and continue in a fresh optimizer
            saved = copy.deepcopy(first.state_dict())
            first.param_groups[0]["lr"] = 123.0  # no effect on the saved copy
            first = getattr(optim, name)(resumed, lr=1.0)
            first.load_state_dict(saved)
            assert first.param_groups[0]["lr"] == options.get("lr", opt.defaults["lr"])
        for p, g in zip(resumed, gs):
            p.grad = ag.tensor(g, device=device)
        first.step()
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert first.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_load_state_dict_from_torch_optimizer_state(device):
    # a torch state_dict whose (CPU) tensors were converted to ours loads and continues identically:
    # the state moves to the parameters' device, "step" stays on the CPU
    opt, topt, ours, theirs = _run("Adam", dict(lr=0.01), np.float64, steps=3, device=device)
    tsd = topt.state_dict()
    converted = {"state": {i: {k: ag.tensor(v.numpy()) for k, v in s.items()} for i, s in tsd["state"].items()},
                 "param_groups": tsd["param_groups"]}
    fresh = optim.Adam(ours, lr=0.5)
    fresh.load_state_dict(converted)
    assert fresh.state[ours[0]]["exp_avg"].device == ours[0].device
    rng = np.random.default_rng(5)
    _set_grads(ours, theirs, [rng.normal(size=s) for s in SHAPES])
    fresh.step()
    topt.step()
    for p, tp in zip(ours, theirs):
        _assert_close(p, tp, np.float64)


def test_load_state_dict_errors():
    p, q = ag.tensor([1.0], requires_grad=True), ag.tensor([2.0], requires_grad=True)
    sd = optim.SGD([p, q], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([p], lr=0.1).load_state_dict(sd)


def test_load_state_dict_casts_state_to_parameter_dtype(device):
    p = ag.tensor([1.0, 2.0], requires_grad=True, device=device)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.load_state_dict({"state": {0: {"momentum_buffer": ag.tensor([1.0, 1.0], dtype=ag.float64)}},
                         "param_groups": opt.state_dict()["param_groups"]})
    assert opt.state[p]["momentum_buffer"].dtype == ag.float32
    assert opt.state[p]["momentum_buffer"].device == p.device


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none, device):
    p = ag.tensor([1.0, 2.0], requires_grad=True, device=device)
    q = ag.tensor([1.0], requires_grad=True, device=device)
    opt = optim.SGD([p, q], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=set_to_none)
    assert q.grad is None
    if set_to_none:
        assert p.grad is None
    else:
        assert p.grad is grad and p.grad.tolist() == [0.0, 0.0]
    assert optim.SGD([p], lr=0.1).zero_grad.__defaults__ == (True,)


def test_step_with_closure_returns_its_loss(device):
    x = ag.tensor([1.0, -2.0], requires_grad=True, device=device)
    tx = torch.tensor([1.0, -2.0], requires_grad=True)
    opt, topt = optim.SGD([x], lr=0.1), torch.optim.SGD([tx], lr=0.1)

    def closure():
        opt.zero_grad()
        assert ag.is_grad_enabled()
        loss = (x * x).sum()
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = (tx * tx).sum()
        loss.backward()
        return loss

    with ag.no_grad():  # step runs the closure with grad enabled
        loss = opt.step(closure)
    tloss = topt.step(tclosure)
    assert loss.item() == tloss.item() == 5.0
    np.testing.assert_allclose(_np(x), tx.detach().numpy())
    assert opt.step() is None


def test_trains_a_model_end_to_end(device):
    rng = np.random.default_rng(6)
    xs = rng.normal(size=(32, 3))
    ys = xs @ np.array([1.0, -2.0, 0.5]) + 0.3
    w = ag.zeros(3, dtype=ag.float64, requires_grad=True, device=device)
    b = ag.zeros((), dtype=ag.float64, requires_grad=True, device=device)
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    tb = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt, topt = optim.Adam([w, b], lr=0.1), torch.optim.Adam([tw, tb], lr=0.1)
    x, y, tx, ty = ag.tensor(xs, device=device), ag.tensor(ys, device=device), torch.tensor(xs), torch.tensor(ys)
    for _ in range(50):
        opt.zero_grad()
        ((x @ w + b - y) ** 2).mean().backward()
        opt.step()
        topt.zero_grad()
        ((tx @ tw + tb - ty) ** 2).mean().backward()
        topt.step()
    np.testing.assert_allclose(_np(w), tw.detach().numpy(), rtol=1e-10)
    assert ((x @ w + b - y) ** 2).mean().item() < 0.05


REQUIRED = {optim: optim.optimizer.required, torch.optim: torch_required}


@pytest.mark.parametrize("make,error,match", [
    (lambda o, ps: o.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda o, ps: o.Adam(iter([])), ValueError, "optimizer got an empty parameter list"),
    (lambda o, ps: o.SGD(ps, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (lambda o, ps: o.Adam(ps, lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda o, ps: o.SGD(ps, lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (lambda o, ps: o.SGD(ps, lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda o, ps: o.SGD(ps, lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires a momentum"),
    (lambda o, ps: o.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda o, ps: o.Adam(ps, betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (lambda o, ps: o.Adam(ps, betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
    (lambda o, ps: o.Adam(ps, eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (lambda o, ps: o.AdamW(ps, weight_decay=-0.1), ValueError, "Invalid weight_decay value: -0.1"),
    (lambda o, ps: o.RMSprop(ps, alpha=-0.5), ValueError, "Invalid alpha value: -0.5"),
    (lambda o, ps: o.Adagrad(ps, lr_decay=-0.5), ValueError, "Invalid lr_decay value: -0.5"),
    (lambda o, ps: o.Adagrad(ps, initial_accumulator_value=-1.0), ValueError,
     "Invalid initial_accumulator_value value: -1.0"),
    (lambda o, ps: o.SGD(ps[0], lr=0.1), TypeError, "should be an iterable of Tensors or dicts"),
    (lambda o, ps: o.SGD([ps[0], 1.0], lr=0.1), TypeError, "optimizer can only optimize Tensors, but one of the "
     "params is float"),
    (lambda o, ps: o.SGD([ps[0] * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda o, ps: o.SGD([{"params": ps[0]}, {"params": [ps[1], ps[0]]}], lr=0.1), ValueError,
     "some parameters appear in more than one parameter group"),
    (lambda o, ps: o.SGD([{"params": {ps[0]}}], lr=0.1), TypeError, "ordered collections"),
    (lambda o, ps: o.Optimizer(ps, {"lr": REQUIRED[o]}), ValueError,
     "didn't specify a value of required optimization parameter lr"),
])
def test_errors_match_torch(make, error, match):
    ours = [ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0], requires_grad=True)]
    theirs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)]
    with pytest.raises(error, match=match):
        make(torch.optim, theirs)  # the oracle
    with pytest.raises(error, match=match):
        make(optim, ours)


def test_duplicate_parameter_in_a_group_warns_as_torch():
    p = ag.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_non_leaf_that_retains_grad_is_accepted():
    x = ag.tensor([1.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    optim.SGD([y], lr=0.1)


def test_named_parameters_give_param_names():
    p, q = ag.tensor([1.0], requires_grad=True), ag.tensor([2.0], requires_grad=True)
    opt = optim.SGD([("a", p), ("b", q)], lr=0.1)
    assert opt.param_groups[0]["params"] == [p, q] and opt.param_groups[0]["param_names"] == ["a", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


def test_repr_lists_group_options():
    p = ag.tensor([1.0], requires_grad=True)
    tp = torch.tensor([1.0], requires_grad=True)
    assert repr(optim.SGD([p], lr=0.1, momentum=0.9)) == repr(torch.optim.SGD([tp], lr=0.1, momentum=0.9))
    assert repr(optim.Adam([p])) == repr(torch.optim.Adam([tp]))


def test_step_does_not_record_history(device):
    p = ag.tensor([1.0, 2.0], requires_grad=True, device=device)
    opt = optim.RMSprop([p], momentum=0.9, centered=True)
    p.grad = ag.tensor([0.5, 0.5], device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert p.is_leaf and all(not s.requires_grad for s in opt.state[p].values())

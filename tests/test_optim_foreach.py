"""foreach: on the GPU a parameter group is updated by one multi-tensor launch per device and dtype (PyTorch's
default there), with the numbers of the per-parameter path, bit for bit, and torch's within float tolerance;
in a steady state a step launches once per group and copies nothing between host and device."""
import contextlib
import copy

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _kernels as K
from autograd_gpu import optim
from autograd_gpu.optim.optimizer import CHUNK, multi_tensor_table
from test_optim import CASES, TOL, UNFUSED_CASES, _ids

cupy = ag._device.cupy()
SIM = hasattr(cupy, "no_host_sync")

# an empty parameter, a 0-d one, one larger than a chunk, a float64 one among float32 ones
SHAPES = [(3, 4), (0,), (), (3, CHUNK // 3 + 5), (7,), (2, 5)]
DTYPES = [np.float32, np.float32, np.float64, np.float32, np.float64, np.float32]
NO_GRAD = 4  # the index of a parameter that never gets a gradient (skipped: no state, as in torch)


@contextlib.contextmanager
def counting_launches(monkeypatch):
    """The kernel names launched on the GPU (one entry per launch)."""
    launched = []
    real = K._cupy_launcher
    monkeypatch.setattr(K, "_cupy_launcher", lambda k, *args: launched.append(k.name) or real(k, *args))
    yield launched
    monkeypatch.setattr(K, "_cupy_launcher", real)


def _params(device, seed=0, dtypes=DTYPES):
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype(dt) for s, dt in zip(SHAPES, dtypes)]
    return init, [ag.tensor(a, requires_grad=True, device=device) for a in init]


def _grads(rng, step, dtypes=DTYPES):
    """Each parameter's gradient at `step`; the 0-d parameter gets none on odd steps (so its step count lags)."""
    return [None if i == NO_GRAD or (s == () and step % 2) else rng.normal(size=s).astype(dt)
            for i, (s, dt) in enumerate(zip(SHAPES, dtypes))]


def _run(name, options, device, steps=4, dtypes=DTYPES):
    init, params = _params(device, dtypes=dtypes)
    opt = getattr(optim, name)(params, **options)
    rng = np.random.default_rng(1)
    for step in range(steps):
        for p, g in zip(params, _grads(rng, step, dtypes)):
            p.grad = None if g is None else ag.tensor(g, device=device)
        opt.step()
    return opt, params


def _host(x):
    return x.detach().cpu().numpy() if isinstance(x, ag.Tensor) else x


def _assert_same_state_dicts(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert [{k: v for k, v in g.items() if k != "foreach"} for g in sa["param_groups"]] == \
        [{k: v for k, v in g.items() if k != "foreach"} for g in sb["param_groups"]]
    assert sa["state"].keys() == sb["state"].keys()
    for i, state in sa["state"].items():
        assert list(state) == list(sb["state"][i])
        for key, value in state.items():
            other = sb["state"][i][key]
            assert value.device == other.device and value.dtype == other.dtype, key
            np.testing.assert_array_equal(_host(value), _host(other), err_msg=key)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_foreach_gives_the_numbers_of_the_per_parameter_path(case, device):
    """Bit for bit: both paths run each kernel's one per-element update (on the CPU both run its reference)."""
    name, options = case
    # (RAdam rectifies from step 6 or 7 on: in 8 steps a launch of each branch, the 0-d parameter lagging behind)
    steps = 8 if name == "RAdam" else 4
    per_param, params = _run(name, dict(options, foreach=False), device, steps)
    # (fused=True: one launch per group by default; torch refuses it beside foreach=True, as we do)
    grouped, params_foreach = _run(name, dict(options, foreach=None if options.get("fused") else True), device, steps)
    for p, q in zip(params, params_foreach):
        assert p.dtype == q.dtype
        np.testing.assert_array_equal(_host(q), _host(p))
    _assert_same_state_dicts(grouped, per_param)


@pytest.mark.parametrize("case", UNFUSED_CASES[::2], ids=[_ids(c) for c in UNFUSED_CASES[::2]])
def test_foreach_matches_torch(case, device):
    name, options = case
    init, _ = _params("cpu")
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(theirs, **options, foreach=True)
    ours, params = _run(name, dict(options, foreach=True), device, steps=0)
    rng = np.random.default_rng(1)
    for step in range(4):
        for p, tp, g in zip(params, theirs, _grads(rng, step)):
            p.grad = None if g is None else ag.tensor(g, device=device)
            tp.grad = None if g is None else torch.tensor(g)
        ours.step()
        topt.step()
        for p, tp in zip(params, theirs):
            np.testing.assert_allclose(_host(p), tp.detach().numpy(), err_msg=f"step {step}",
                                       **TOL[_host(p).dtype.type])
    for p, tp in zip(params, theirs):
        state, tstate = ours.state.get(p, {}), topt.state.get(tp, {})
        assert sorted(state) == sorted(tstate)
        for key, value in tstate.items():
            np.testing.assert_allclose(_host(state[key]), value.numpy(), err_msg=key, **TOL[value.numpy().dtype.type])


def _model_step(name, options, device, set_to_none=True):
    ag.manual_seed(0)
    model = ag.nn.Sequential(ag.nn.Linear(6, 8), ag.nn.Tanh(), ag.nn.Linear(8, 3)).to(device)
    opt = getattr(optim, name)(model.parameters(), **options)
    x, y = ag.randn(5, 6, device=device), ag.tensor([0, 1, 2, 1, 0], device=device)

    def backward():
        opt.zero_grad(set_to_none=set_to_none)
        ag.nn.functional.cross_entropy(model(x), y).backward()

    def step():
        backward()
        opt.step()
    step.opt, step.model, step.backward = opt, model, backward
    return step


OPTIMIZER_CASES = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                   ("Adam", dict(amsgrad=True, weight_decay=0.1)), ("AdamW", dict()),
                   ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", dict(lr_decay=0.1)),
                   ("Adadelta", dict(maximize=True)), ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
                   ("RAdam", dict(weight_decay=0.1)), ("Adamax", dict(maximize=True)), ("ASGD", dict(t0=1)),
                   ("Rprop", dict(etas=(0.3, 1.7)))]


@pytest.mark.parametrize("name,options", OPTIMIZER_CASES, ids=[_ids(c) for c in OPTIMIZER_CASES])
def test_one_launch_per_group_and_step_on_the_gpu(name, options, monkeypatch):
    for foreach, launches in ((None, 1), (True, 1), (False, 4)):  # (None: on, as in torch: all on the GPU)
        step = _model_step(name, dict(options, foreach=foreach), "cuda")
        for _ in range(3):
            step.backward()
            with counting_launches(monkeypatch) as launched:
                step.opt.step()
            assert len(launched) == launches and all(n.endswith("_multi_tensor") == (launches == 1)
                                                     for n in launched), launched


def test_groups_of_several_dtypes_devices_and_step_counts(monkeypatch):
    """One launch per (device, dtype) of a group, as torch groups them; parameters whose step counts differ
    (one skipped a step) need their own scalars, so their own launch."""
    _, params = _params("cuda")
    # group 0: float32 (3, 4) and (0,), float64 (); group 1: float32 (3, CHUNK // 3 + 5) and (2, 5), float64 (7,)
    opt = optim.Adam([{"params": params[:3]}, {"params": params[3:], "lr": 0.01}])

    def step(skip=None):
        for i, p in enumerate(params):
            p.grad = None if i == skip else ag.ones_like(p)
        with counting_launches(monkeypatch) as launched:
            opt.step()
        return launched

    assert step() == ["adam_step_multi_tensor"] * 4
    assert len(step(skip=3)) == 4  # (the big float32 parameter skipped: its group's float32 launch has one)
    assert len(step()) == 5  # group 1's float32 parameters now have two step counts: two launches
    params[1].grad = ag.ones_like(params[1])
    assert step(skip=1) == ["adam_step_multi_tensor"] * 5  # (the empty parameter has nothing to launch)


@pytest.mark.skipif(not SIM, reason="counting host transfers needs the CuPy stand-in")
@pytest.mark.parametrize("name,options", OPTIMIZER_CASES, ids=[_ids(c) for c in OPTIMIZER_CASES])
def test_steady_state_steps_copy_nothing_between_host_and_device(name, options):
    step = _model_step(name, options, "cuda", set_to_none=False)  # (the gradients keep their buffers)
    step()
    step()  # state made, the table uploaded
    for _ in range(3):
        step.backward()
        before = dict(cupy.transfers)
        with cupy.no_host_sync():
            step.opt.step()
        assert cupy.transfers == before
    # a new set of buffers (the state loaded from a state dict) gets a new table, and the right numbers
    twin = _model_step(name, options, "cuda", set_to_none=False)
    twin.opt.load_state_dict(copy.deepcopy(step.opt.state_dict()))
    twin.model.load_state_dict(step.model.state_dict())
    before = cupy.transfers["to_device"]
    step()
    twin()
    assert cupy.transfers["to_device"] > before
    for p, q in zip(step.model.parameters(), twin.model.parameters()):
        np.testing.assert_array_equal(_host(p), _host(q))


@pytest.mark.skipif(not SIM, reason="counting host transfers needs the CuPy stand-in")
def test_the_stand_in_counts_uploads():
    before = cupy.transfers["to_device"]
    a = cupy.asarray(np.ones(3))
    a.set(np.zeros(3))
    a[...] = np.ones(3)
    assert cupy.transfers["to_device"] == before + 3


def test_default_is_foreach_on_the_gpu_only(monkeypatch):
    for device, launches in (("cpu", []), ("cuda", ["adam_step_multi_tensor"])):  # (the CPU: the references)
        step = _model_step("Adam", dict(), device)
        step.backward()
        with counting_launches(monkeypatch) as launched:
            step.opt.step()
        assert launched == launches


def test_foreach_keeps_the_device_error_of_state_left_on_the_cpu():
    lin = ag.nn.Linear(3, 2)
    opt = optim.Adam(lin.parameters(), lr=0.1, foreach=True)
    lin(ag.randn(4, 3)).sum().backward()
    opt.step()  # state made on the CPU
    lin.to("cuda")
    lin(ag.randn(4, 3, device="cuda")).sum().backward()
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        opt.step()


def test_duplicate_parameter_is_updated_twice_as_by_the_per_parameter_path():
    results = []
    for foreach in (False, True):
        p = ag.tensor([1.0, 2.0], requires_grad=True, device="cuda")
        with pytest.warns(UserWarning, match="duplicate parameters"):
            opt = optim.SGD([p, p], lr=0.1, momentum=0.9, foreach=foreach)
        for _ in range(2):
            p.grad = ag.tensor([1.0, -1.0], device="cuda")
            opt.step()
        results.append(_host(p))
    np.testing.assert_array_equal(results[0], results[1])


def test_non_contiguous_and_float16_parameters_take_the_per_parameter_path(monkeypatch):
    base = ag.randn(4, 6, device="cuda")
    p = base.t().detach().requires_grad_()  # a non-contiguous leaf
    h = ag.randn(5, device="cuda", dtype=ag.float16, requires_grad=True)
    q = ag.randn(5, device="cuda", requires_grad=True)
    ref = [t.detach().clone().requires_grad_() for t in (p, h, q)]
    opt, ref_opt = optim.Adam([p, h, q], lr=0.1, foreach=True), optim.Adam(ref, lr=0.1, foreach=False)
    for t in (p, h, q, *ref):
        t.grad = ag.ones_like(t)
    with counting_launches(monkeypatch) as launched:
        opt.step()
    ref_opt.step()
    assert sorted(launched) == ["adam_step", "adam_step_multi_tensor"]  # (float16: cupy's reference, no kernel)
    for a, b in zip((p, h, q), ref):
        np.testing.assert_array_equal(_host(a), _host(b))


def test_table_layout():
    table, n = multi_tensor_table([[10, 11], [20, 21], [30, 31]], [5, 0, 12], chunk=4)
    # blocks: tensor 0 chunk 0, 1; tensor 2 chunks 0, 1, 2 (the empty tensor has none)
    assert n == 5 and table.dtype == np.int64
    assert table.tolist() == [4, 0, 0, 0, 1, 2, 0, 2, 1, 2, 2, 10, 11, 5, 20, 21, 0, 30, 31, 12]

"""F.gumbel_softmax, nn.utils.get_total_norm / clip_grads_with_norm_ / clip_grad_norm / skip_init, nn.Buffer and
nn.factory_kwargs against torch 2.13.

gumbel_softmax samples, and our generator is not torch's: torch's own gumbel_softmax is run on the Exp(1) draws
our generator gives (torch.Tensor.exponential_ patched to hand them over), so both compute from the same noise;
the sampling itself is checked by its statistics (the argmax falls on class i with probability softmax(logits)_i)."""
import contextlib
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _device, nn
from autograd_gpu.nn import functional as F

_rng = np.random.default_rng(1414)
cupy = _device.cupy()
SIM = hasattr(cupy, "no_host_sync")


def _np(t):
    return t.detach().cpu().numpy()


def no_host_sync():
    # (on a GPU machine the stand-in's transfer counter is not there: then the same steps run unchecked)
    return cupy.no_host_sync() if SIM else contextlib.nullcontext()


# ---- gumbel_softmax ------------------------------------------------------------------------------------------
def _same_noise_run(logits, device, monkeypatch, seed=5, w=None, **kw):
    """Ours and torch's gumbel_softmax on the same Exp(1) draws; their outputs and the gradients of logits for the
    upstream gradient w (random if not given)."""
    xa = ag.tensor(logits, device=device, requires_grad=True)
    ag.manual_seed(seed)
    draws = _np(ag.empty_like(xa).exponential_())
    ag.manual_seed(seed)
    ya = F.gumbel_softmax(xa, **kw)
    xt = torch.tensor(logits, requires_grad=True)
    monkeypatch.setattr(torch.Tensor, "exponential_", lambda self, *a, **k: self.copy_(torch.from_numpy(draws)))
    yt = torch.nn.functional.gumbel_softmax(xt, **kw)
    monkeypatch.undo()
    w = _rng.standard_normal(logits.shape) if w is None else w
    (ya * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    return ya, yt, xa.grad, xt.grad


@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((4, 6), 0), ((2, 3, 5), 1), ((7,), 0)])
@pytest.mark.parametrize("tau", [1, 0.5, 3.0])
@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
def test_gumbel_softmax_as_torch_on_the_same_noise(shape, dim, tau, hard, device, monkeypatch):
    logits = _rng.standard_normal(shape)
    ya, yt, ga, gt = _same_noise_run(logits, device, monkeypatch, tau=tau, hard=hard, dim=dim)
    assert type(ya.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(_np(ya), yt.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_np(ga), gt.numpy(), rtol=1e-10, atol=1e-13)


def test_gumbel_softmax_soft_value_and_hard_straight_through(device, monkeypatch):
    logits, w = _rng.standard_normal((5, 4)), _rng.standard_normal((5, 4))
    ya, _, soft_grad, _ = _same_noise_run(logits, device, monkeypatch, w=w, tau=0.7)
    ag.manual_seed(5)
    g = -np.log(_np(ag.empty_like(ag.tensor(logits, device=device)).exponential_()))
    expected = torch.softmax((torch.tensor(logits) + torch.tensor(g)) / 0.7, -1).numpy()
    np.testing.assert_allclose(_np(ya), expected, rtol=1e-12)  # softmax((logits + g) / tau)
    yh, _, hard_grad, _ = _same_noise_run(logits, device, monkeypatch, w=w, tau=0.7, hard=True)
    h = _np(yh)
    np.testing.assert_allclose(h, np.eye(4)[expected.argmax(-1)], atol=1e-15)  # one-hot of the soft argmax
    np.testing.assert_allclose(_np(hard_grad), _np(soft_grad), rtol=1e-12, atol=1e-15)  # the soft gradient


def test_gumbel_softmax_samples_the_softmax_of_the_logits(device):
    # P(argmax = i) = softmax(logits)_i: 20000 draws, each frequency within 4.5 standard deviations
    logits = np.array([1.0, 0.0, -1.0, 2.0])
    ag.manual_seed(0)
    y = F.gumbel_softmax(ag.tensor(np.tile(logits, (20000, 1)), device=device), tau=0.3, hard=True)
    freq = _np(y).mean(0)
    p = torch.softmax(torch.tensor(logits), 0).numpy()
    np.testing.assert_allclose(freq, p, atol=4.5 * np.sqrt(p * (1 - p) / 20000).max())


def test_gumbel_softmax_dtype_warning_and_errors(device):
    y = F.gumbel_softmax(ag.randn(3, 4, dtype=ag.float16, device=device), hard=True)
    assert y.dtype == ag.float16 and y.device.type == device
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.gumbel_softmax(ag.randn(2, 3, device=device))  # the default eps: no warning
    with pytest.warns(UserWarning, match=r"^`eps` parameter is deprecated and has no effect\.$") as w:
        F.gumbel_softmax(ag.randn(2, 3, device=device), eps=1e-3)
    assert w[0].filename == __file__
    for make, kw in [(lambda m: m.ones(2, 3, dtype=m.int64), {}), (lambda m: m.ones(2, 3, dtype=m.bool), {}),
                     (lambda m: m.ones(2, 3), {"dim": 2}), (lambda m: m.ones(2, 3), {"dim": -3, "hard": True})]:
        with pytest.raises(Exception) as theirs:
            torch.nn.functional.gumbel_softmax(make(torch), **kw)
        with pytest.raises(theirs.type) as ours:
            F.gumbel_softmax(make(ag).to(device), **kw)
        assert str(ours.value) == str(theirs.value)


# ---- get_total_norm, clip_grads_with_norm_, clip_grad_norm_ -------------------------------------------------
def _grads(dtypes=("float64", "float64", "float64")):
    shapes = [(3, 2), (4,), (2, 2, 2)]
    return [(_rng.standard_normal(s) * 3).astype(dt) for s, dt in zip(shapes, dtypes)]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, 0, float("inf"), -float("inf"), "inf"])
def test_get_total_norm_as_torch(norm_type, device):
    gs = _grads()
    total = nn.utils.get_total_norm([ag.tensor(g, device=device) for g in gs], norm_type)
    ttotal = torch.nn.utils.get_total_norm([torch.tensor(g) for g in gs], norm_type)
    assert total.ndim == 0 and total.device.type == device and str(total.dtype) == str(ttotal.dtype)
    np.testing.assert_allclose(_np(total), ttotal.numpy(), rtol=1e-12)
    one = nn.utils.get_total_norm(ag.tensor(gs[0], device=device), norm_type)  # one tensor
    np.testing.assert_allclose(_np(one), torch.nn.utils.get_total_norm(torch.tensor(gs[0]), norm_type).numpy(),
                               rtol=1e-12)


def test_get_total_norm_mixed_dtypes_empty_and_nonfinite(device):
    gs = _grads(("float32", "float64", "float16"))
    total = nn.utils.get_total_norm((ag.tensor(g, device=device) for g in gs), foreach=True)
    ttotal = torch.nn.utils.get_total_norm((torch.tensor(g) for g in gs), foreach=True)
    assert str(total.dtype) == str(ttotal.dtype) == "torch.float64"
    np.testing.assert_allclose(_np(total), ttotal.numpy(), rtol=1e-6)
    empty, tempty = nn.utils.get_total_norm([]), torch.nn.utils.get_total_norm([])
    assert empty.device.type == "cpu" and str(empty.dtype) == str(tempty.dtype) and empty.item() == tempty.item()
    for bad in (np.inf, np.nan):
        g = np.array([1.0, bad])
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.utils.get_total_norm([torch.tensor(g)], error_if_nonfinite=True)
        with pytest.raises(RuntimeError) as ours:
            nn.utils.get_total_norm([ag.tensor(g, device=device)], error_if_nonfinite=True)
        assert str(ours.value) == str(theirs.value)
        np.testing.assert_array_equal(_np(nn.utils.get_total_norm([ag.tensor(g, device=device)])),
                                      torch.nn.utils.get_total_norm([torch.tensor(g)]).numpy())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_get_total_norm_of_half_gradients_accumulates_in_float32(dtype, device):
    # the sum of squares of these float16 gradients (about 9e5) is past float16's largest value: torch's norm
    # accumulates in float32 and rounds once, and so must ours (it gave inf)
    gs = [np.full(100000, 3.0), _rng.standard_normal(1000) * 20]
    ours = nn.utils.get_total_norm([ag.tensor(g, device=device).to(getattr(ag, dtype)) for g in gs])
    theirs = torch.nn.utils.get_total_norm([torch.tensor(g).to(getattr(torch, dtype)) for g in gs])
    assert str(ours.dtype) == str(theirs.dtype) == f"torch.{dtype}"
    assert ours.float().item() == theirs.float().item() and np.isfinite(ours.float().item())


def _params(gs, device):
    ps = [nn.Parameter(ag.zeros(*g.shape, dtype=getattr(ag, str(g.dtype)), device=device)) for g in gs]
    tps = [torch.nn.Parameter(torch.zeros(*g.shape, dtype=getattr(torch, str(g.dtype)))) for g in gs]
    for p, tp, g in zip(ps, tps, gs):
        p.grad, tp.grad = ag.tensor(g, device=device), torch.tensor(g)
    return ps, tps


@pytest.mark.parametrize("total", [4.0, 40.0, 0.1])
def test_clip_grads_with_norm_as_torch(total, device):
    ps, tps = _params(_grads(), device)
    grads = [p.grad for p in ps]
    assert nn.utils.clip_grads_with_norm_(ps, 2.0, ag.tensor(total, device=device)) is None
    assert torch.nn.utils.clip_grads_with_norm_(tps, 2.0, torch.tensor(total)) is None
    for p, tp, g in zip(ps, tps, grads):
        assert p.grad is g  # in place
        np.testing.assert_allclose(_np(p.grad), tp.grad.numpy(), rtol=1e-14)
    p = nn.Parameter(ag.zeros(2, device=device))
    p.grad = ag.ones(2, device=device)
    nn.utils.clip_grads_with_norm_(p, 1.0, ag.tensor(4.0, device=device))  # one tensor
    np.testing.assert_allclose(_np(p.grad), 1 / (4.0 + 1e-6))
    with pytest.raises(TypeError):
        torch.nn.utils.clip_grads_with_norm_(tps, 1.0, 4.0)
    with pytest.raises(TypeError, match="total_norm must be a Tensor"):
        nn.utils.clip_grads_with_norm_(ps, 1.0, 4.0)
    nn.utils.clip_grads_with_norm_([nn.Parameter(ag.ones(2))], 1.0, 4.0)  # no gradients: nothing to do


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_is_total_norm_then_clip(norm_type, device):
    gs = _grads(("float32", "float64", "float32"))
    ps, tps = _params(gs, device)
    total = nn.utils.clip_grad_norm_(iter(ps), 1.0, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(iter(tps), 1.0, norm_type)
    assert str(total.dtype) == str(ttotal.dtype)
    np.testing.assert_allclose(_np(total), ttotal.numpy(), rtol=1e-6)
    for p, tp in zip(ps, tps):
        assert str(p.grad.dtype) == str(tp.grad.dtype)
        np.testing.assert_allclose(_np(p.grad), tp.grad.numpy(), rtol=1e-6)
    ps2, _ = _params(gs, device)
    manual = nn.utils.get_total_norm([p.grad for p in ps2], norm_type)
    nn.utils.clip_grads_with_norm_(ps2, 1.0, manual)
    for p, q in zip(ps, ps2):
        np.testing.assert_array_equal(_np(p.grad), _np(q.grad))
    with pytest.warns(FutureWarning, match=r"^`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                                           r"`torch.nn.utils.clip_grad_norm_`\.$") as w:
        again = nn.utils.clip_grad_norm(ps, 1.0, norm_type)
    assert w[0].filename == __file__
    with pytest.warns(FutureWarning):
        tagain = torch.nn.utils.clip_grad_norm(tps, 1.0, norm_type)
    np.testing.assert_allclose(_np(again), tagain.numpy(), rtol=1e-6)


def test_clip_grad_norm_empty_generator_warns_as_torch():
    with pytest.warns(UserWarning, match=r"^`parameters` is an empty generator, no gradient clipping will "
                                         r"occur\.$") as w:
        total = nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert w[0].filename == __file__ and total.item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.utils.clip_grad_norm_([], 1.0)  # an empty list is no generator: no warning, as in torch


def test_clip_grad_norm_no_host_sync_on_device():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to("cuda")
    model(ag.randn(3, 4, device="cuda")).square().sum().backward()
    with no_host_sync():
        total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        nn.utils.clip_grads_with_norm_(model.parameters(), 0.1, nn.utils.get_total_norm(
            [p.grad for p in model.parameters()], 1.0))
    assert total.device.type == "cuda"


# ---- skip_init ------------------------------------------------------------------------------------------------
def test_skip_init(device):
    m = nn.utils.skip_init(nn.Linear, 5, 2, device=device, dtype=ag.float64)
    t = torch.nn.utils.skip_init(torch.nn.Linear, 5, 2, dtype=torch.float64)
    assert type(m) is nn.Linear and repr(m) == repr(t)
    for (n, p), (tn, tp) in zip(m.named_parameters(), t.named_parameters()):
        assert n == tn and tuple(p.shape) == tuple(tp.shape) and str(p.dtype) == str(tp.dtype)
        assert isinstance(p, nn.Parameter) and p.device.type == device
    kw = nn.utils.skip_init(nn.Linear, in_features=3, out_features=1)
    assert kw.weight.device.type == "cpu" and tuple(kw.weight.shape) == (1, 3)

    class NoDevice(nn.Module):
        pass

    class TorchNoDevice(torch.nn.Module):
        pass

    for ours, theirs in [(int, int), (NoDevice, TorchNoDevice), (nn.ReLU, torch.nn.ReLU)]:
        with pytest.raises(RuntimeError) as t_err:
            torch.nn.utils.skip_init(theirs)
        with pytest.raises(RuntimeError) as a_err:
            nn.utils.skip_init(ours)
        assert str(a_err.value) == str(t_err.value).replace("TorchNoDevice", "NoDevice")
    with pytest.raises(TypeError, match="issubclass"):
        nn.utils.skip_init(nn.Linear(2, 2))


# ---- Buffer, factory_kwargs -----------------------------------------------------------------------------------
def test_buffer_registers_on_assignment_as_torch(device):
    modules = []
    for m in (nn, torch.nn):
        mod = m.Module()
        lib = ag if m is nn else torch
        mod.running = m.Buffer(lib.ones(2, device=device) if m is nn else torch.ones(2))
        mod.scratch = m.Buffer(lib.zeros(3, device=device) if m is nn else torch.zeros(3), persistent=False)
        mod.empty = m.Buffer()
        mod.plain = lib.ones(1)  # a plain tensor is no buffer
        mod.running = lib.full((2,), 5.0)  # re-assigning a buffer's name keeps it a (persistent) buffer
        mod.scratch = m.Buffer(lib.ones(3), persistent=True)  # a Buffer brings its persistence
        modules.append(mod)
    ours, theirs = modules
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.empty.shape == theirs.empty.shape and "plain" not in dict(ours.named_buffers())
    assert ours.running.tolist() == theirs.running.tolist()
    x = ag.ones(2, requires_grad=True, device=device)
    b, tb = nn.Buffer(x), torch.nn.Buffer(torch.ones(2, requires_grad=True))
    assert isinstance(b, nn.Buffer) and not isinstance(x, nn.Buffer) and isinstance(tb, torch.nn.Buffer)
    assert type(b) is ag.Tensor and b.requires_grad == tb.requires_grad and b.is_leaf == tb.is_leaf
    assert b.persistent == tb.persistent is True and b.device.type == device
    assert repr(nn.Buffer(ag.ones(2, requires_grad=True))) == repr(tb)
    b.data.fill_(3.0)
    assert x.tolist() == [3.0, 3.0]  # shares memory with the data, as torch's (a detach)
    ours.running = None  # a buffer's name takes None
    with pytest.raises(TypeError, match=r"cannot assign 'int' as buffer 'scratch' \(torch.nn.Buffer, "
                                        r"torch.Tensor or None expected\)"):
        ours.scratch = 3
    for mod, m in ((nn.Module(), nn), (torch.nn.Module(), torch.nn)):
        mod.taken = 1
        with pytest.raises(KeyError, match="attribute 'taken' already exists"):
            mod.taken = m.Buffer(ag.ones(1) if m is nn else torch.ones(1))
        lin = m.Linear(2, 2)
        with pytest.raises(TypeError, match="as parameter 'weight'"):
            lin.weight = m.Buffer(ag.ones(2, 2) if m is nn else torch.ones(2, 2))


def test_factory_kwargs_as_torch():
    for kwargs in [None, {}, {"device": "cpu"}, {"dtype": "float64", "device": "cpu", "memory_format": None},
                   {"device": "cpu", "factory_kwargs": {"dtype": "float64"}}]:
        assert nn.factory_kwargs(kwargs) == torch.nn.factory_kwargs(kwargs)
    for kwargs in [{"bias": True}, {"device": "cpu", "factory_kwargs": {"device": "cpu"}}]:
        with pytest.raises(TypeError) as theirs:
            torch.nn.factory_kwargs(kwargs)
        with pytest.raises(TypeError) as ours:
            nn.factory_kwargs(kwargs)
        assert str(ours.value) == str(theirs.value)


# ---- fuse_conv_bn_eval, fuse_linear_bn_eval ---------------------------------------------------------------------
def _trained_bn(bn_t, bn_a, affine):
    """Give torch's BatchNorm non-trivial statistics and affine parameters, and copy them into ours."""
    with torch.no_grad():
        bn_t.running_mean.copy_(torch.tensor(_rng.standard_normal(bn_t.num_features)))
        bn_t.running_var.copy_(torch.tensor(_rng.uniform(0.5, 2.0, bn_t.num_features)))
        if affine:
            bn_t.weight.copy_(torch.tensor(_rng.uniform(0.5, 1.5, bn_t.num_features)))
            bn_t.bias.copy_(torch.tensor(_rng.standard_normal(bn_t.num_features)))
    bn_a.load_state_dict({k: ag.tensor(v.numpy()) for k, v in bn_t.state_dict().items()})


FUSE = [
    ("conv2d", lambda m: m.Conv2d(3, 4, 3), lambda m: m.BatchNorm2d(4), (2, 3, 5, 5), False),
    ("conv1d-nobias", lambda m: m.Conv1d(3, 4, 2, bias=False), lambda m: m.BatchNorm1d(4), (2, 3, 6), False),
    ("conv2d-bn-noaffine", lambda m: m.Conv2d(2, 3, 1), lambda m: m.BatchNorm2d(3, affine=False), (1, 2, 3, 3),
     False),
    ("conv-transpose2d", lambda m: m.ConvTranspose2d(3, 4, 2), lambda m: m.BatchNorm2d(4), (2, 3, 3, 3), True),
    ("linear", lambda m: m.Linear(5, 4), lambda m: m.BatchNorm1d(4), (6, 5), None),
    ("linear-nobias", lambda m: m.Linear(5, 4, bias=False), lambda m: m.BatchNorm1d(4), (6, 5), None),
    ("linear-bn-one-feature", lambda m: m.Linear(5, 4), lambda m: m.BatchNorm1d(1), (6, 1, 5), None),
]


@pytest.mark.parametrize("name,layer,norm,shape,transpose", FUSE, ids=[f[0] for f in FUSE])
def test_fuse_bn_as_torch(name, layer, norm, shape, transpose, device):
    torch.manual_seed(0)
    lt, bn_t = layer(torch.nn).double().eval(), norm(torch.nn).double().eval()
    la, bn_a = layer(nn).double().eval(), norm(nn).double().eval()
    la.load_state_dict({k: ag.tensor(v.numpy()) for k, v in lt.state_dict().items()})
    _trained_bn(bn_t, bn_a, bn_t.affine)
    la, bn_a = la.to(device), bn_a.to(device)
    if transpose is None:
        ft, fa = torch.nn.utils.fuse_linear_bn_eval(lt, bn_t), nn.utils.fuse_linear_bn_eval(la, bn_a)
    else:
        ft, fa = (torch.nn.utils.fuse_conv_bn_eval(lt, bn_t, transpose),
                  nn.utils.fuse_conv_bn_eval(la, bn_a, transpose))
    assert type(fa) is type(la) and fa is not la and repr(fa) == repr(ft)
    assert list(fa.state_dict()) == list(ft.state_dict())
    for (n, p), (_, q) in zip(fa.named_parameters(), ft.named_parameters()):
        assert isinstance(p, nn.Parameter) and p.requires_grad == q.requires_grad, n
        np.testing.assert_allclose(_np(p), q.detach().numpy(), rtol=1e-13, atol=1e-15, err_msg=n)
    x = _rng.standard_normal(shape)
    np.testing.assert_allclose(_np(fa(ag.tensor(x, device=device))), bn_t(lt(torch.tensor(x))).detach().numpy(),
                               rtol=1e-10, atol=1e-12)  # the fused layer is bn(layer(x))
    assert la.weight is not fa.weight and np.array_equal(_np(la.weight), lt.weight.detach().numpy())


def test_fuse_bn_weights_dtypes_and_errors(device):
    w, b = ag.randn(4, 3, device=device), ag.randn(4, device=device, dtype=ag.float64)
    rm, rv = ag.zeros(4, device=device, dtype=ag.float64), ag.ones(4, device=device, dtype=ag.float64)
    tw, tb = torch.tensor(_np(w)), torch.tensor(_np(b))
    for ours, theirs in [(nn.utils.fuse_linear_bn_weights(w, b, rm, rv, 1e-5, rv, rm),
                          torch.nn.utils.fuse_linear_bn_weights(tw, tb, torch.zeros(4, dtype=torch.float64),
                                                                torch.ones(4, dtype=torch.float64), 1e-5,
                                                                torch.ones(4, dtype=torch.float64),
                                                                torch.zeros(4, dtype=torch.float64))),
                         (nn.utils.fuse_conv_bn_weights(w, None, rm, rv, 1e-5, None, None),
                          torch.nn.utils.fuse_conv_bn_weights(tw, None, torch.zeros(4, dtype=torch.float64),
                                                              torch.ones(4, dtype=torch.float64), 1e-5, None, None))]:
        for p, q in zip(ours, theirs):
            assert str(p.dtype) == str(q.dtype) and p.requires_grad == q.requires_grad
            np.testing.assert_allclose(_np(p), q.detach().numpy(), rtol=1e-6)
    for m in (nn, torch.nn):
        with pytest.raises(AssertionError, match="^Fusion only for eval!$"):
            m.utils.fuse_conv_bn_eval(m.Conv2d(2, 2, 1), m.BatchNorm2d(2).eval())
        with pytest.raises(AssertionError, match="^Fusion only for eval!$"):
            m.utils.fuse_linear_bn_eval(m.Linear(2, 2).eval(), m.BatchNorm1d(2))
        with pytest.raises(AssertionError, match=r"linear.out_features=2 and bn.num_features=3$"):
            m.utils.fuse_linear_bn_eval(m.Linear(2, 2).eval(), m.BatchNorm1d(3).eval())
        with pytest.raises(AssertionError, match="^bn.running_mean and bn.running_var must not be None$"):
            m.utils.fuse_conv_bn_eval(m.Conv2d(2, 2, 1).eval(), m.BatchNorm2d(2, track_running_stats=False).eval())

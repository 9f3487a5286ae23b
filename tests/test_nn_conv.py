"""Convolution and pooling against torch.nn / torch.nn.functional: outputs and input/weight/bias gradients
(float64, tight tolerances) for every option, default init, reprs, state_dict keys, error types and messages;
a finite-difference gradcheck and a double-backward check of conv2d; a few training steps of a small CNN."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd_gpu as ag
import autograd_gpu.nn.functional as F
from autograd_gpu import nn

RTOL, ATOL = 1e-10, 1e-12
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's, on asymmetric 'same' padding


def _rand(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def _distinct(*shape, seed=0):
    """No ties, so max pooling has one answer and finite differences stay inside one linear piece."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(np.linspace(-1, 1, n)).reshape(shape)


def _close(ours, theirs, what):
    a, t = ours.detach().cpu().numpy(), theirs.detach().numpy()
    assert a.shape == t.shape and a.dtype == t.dtype, (what, a.shape, t.shape, a.dtype, t.dtype)
    if t.dtype.kind == "f":
        np.testing.assert_allclose(a, t, rtol=RTOL, atol=ATOL, err_msg=what)
    else:
        np.testing.assert_array_equal(a, t, err_msg=what)


def check(fn, *arrays, device="cpu"):
    """fn(F, *tensors) in both libraries: the outputs, then the gradients of every input for a random
    weighting of the (float) outputs."""
    ours = [ag.tensor(a, requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ya, yt = fn(F, *ours), fn(TF, *theirs)
    ya, yt = (list(ya), list(yt)) if isinstance(yt, tuple) else ([ya], [yt])
    for k, (a, t) in enumerate(zip(ya, yt)):
        _close(a, t, f"output {k}")
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal(tuple(t.shape)) if t.requires_grad else None for t in yt]
    la = sum((a * ag.tensor(w, device=device)).sum() for a, w in zip(ya, ws) if w is not None)
    lt = sum((t * torch.tensor(w)).sum() for t, w in zip(yt, ws) if w is not None)
    for i, (ga, gt) in enumerate(zip(ag.autograd.grad(la, ours), torch.autograd.grad(lt, theirs))):
        _close(ga, gt, f"grad of input {i}")


# ---- functional parity ----------------------------------------------------------------------------

CONV2D = [
    ("default", {}),
    ("stride-padding", dict(stride=2, padding=1)),
    ("tuples", dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2))),
    ("same", dict(padding="same")),
    ("same-dilated-asymmetric", dict(padding="same", dilation=(1, 3))),
    ("valid", dict(padding="valid")),
    ("groups", dict(groups=2, stride=2, padding=1)),
    ("depthwise", dict(groups=4, dilation=2, padding=2)),
]


@pytest.mark.parametrize("kw", [k for _, k in CONV2D], ids=[n for n, _ in CONV2D])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_conv2d(kw, bias, device):
    groups = kw.get("groups", 1)
    x, w = _rand(2, 4, 7, 6), _rand(6 if groups != 4 else 4, 4 // groups, 3, 2)
    if bias:
        check(lambda F, x, w, b: F.conv2d(x, w, b, **kw), x, w, _rand(w.shape[0]), device=device)
    else:
        check(lambda F, x, w: F.conv2d(x, w, **kw), x, w, device=device)


def test_conv2d_unbatched_and_empty_batch(device):
    check(lambda F, x, w, b: F.conv2d(x, w, b, padding=1), _rand(3, 5, 5), _rand(2, 3, 3, 3), _rand(2), device=device)
    check(lambda F, x, w: F.conv2d(x, w), _rand(0, 3, 5, 5), _rand(2, 3, 3, 3), device=device)


@pytest.mark.parametrize("kw", [{}, dict(stride=2, padding=2, dilation=2), dict(padding="same", dilation=3),
                                dict(groups=3, padding="valid")], ids=["default", "strided", "same", "groups"])
def test_conv1d(kw, device):
    check(lambda F, x, w, b: F.conv1d(x, w, b, **kw), _rand(2, 3, 11), _rand(6, 3 // kw.get("groups", 1), 4),
          _rand(6), device=device)


def test_conv1d_unbatched(device):
    check(lambda F, x, w: F.conv1d(x, w, padding=1), _rand(3, 9), _rand(2, 3, 3), device=device)


CONV_T = [
    ("default", {}),
    ("stride-padding", dict(stride=2, padding=1)),
    ("output_padding", dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    ("dilation", dict(dilation=2, stride=2, output_padding=1)),
    ("groups", dict(groups=2, stride=2)),
]


@pytest.mark.parametrize("kw", [k for _, k in CONV_T], ids=[n for n, _ in CONV_T])
def test_conv_transpose2d(kw, device):
    groups = kw.get("groups", 1)
    check(lambda F, x, w, b: F.conv_transpose2d(x, w, b, **kw), _rand(2, 4, 4, 5), _rand(4, 3, 3, 2),
          _rand(3 * groups), device=device)


def test_conv_transpose2d_unbatched_no_bias(device):
    check(lambda F, x, w: F.conv_transpose2d(x, w, stride=2), _rand(4, 3, 3), _rand(4, 2, 2, 2), device=device)


MAX_POOL = [
    ("k2", dict(kernel_size=2)),
    ("k3-s1", dict(kernel_size=3, stride=1)),
    ("padding", dict(kernel_size=3, stride=2, padding=1)),
    ("dilation", dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))),
    ("ceil", dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("ceil-padding", dict(kernel_size=(3, 2), stride=2, padding=(1, 1), ceil_mode=True)),
]


@pytest.mark.parametrize("kw", [k for _, k in MAX_POOL], ids=[n for n, _ in MAX_POOL])
@pytest.mark.parametrize("return_indices", [False, True], ids=["values", "indices"])
def test_max_pool2d(kw, return_indices, device):
    check(lambda F, x: F.max_pool2d(x, return_indices=return_indices, **kw), _distinct(2, 3, 7, 8), device=device)


def test_max_pool2d_unbatched_ties_nan_and_inf(device):
    check(lambda F, x: F.max_pool2d(x, 2, return_indices=True), _distinct(3, 4, 6), device=device)
    x = np.zeros((1, 1, 4, 6))  # ties: the first maximum of each window wins, as in torch
    x[0, 0, 0, :3] = [np.nan, 1.0, np.nan]  # NaN propagates, the last NaN's index wins
    x[0, 0, 2:, 2:4] = -np.inf  # a window of -inf
    x[0, 0, 0, 4] = np.inf
    check(lambda F, x: F.max_pool2d(x, 2, return_indices=True), x, device=device)
    check(lambda F, x: F.max_pool2d(x, 3, stride=1, padding=1, return_indices=True), x[:, :, 2:], device=device)


AVG_POOL = [
    ("k2", dict(kernel_size=2)),
    ("k3-s1", dict(kernel_size=3, stride=1)),
    ("padding", dict(kernel_size=3, stride=2, padding=1)),
    ("padding-exclude", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("ceil", dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("ceil-padding-exclude", dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("ceil-padding-include", dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True)),
    ("divisor_override", dict(kernel_size=2, stride=1, divisor_override=3)),
]


@pytest.mark.parametrize("kw", [k for _, k in AVG_POOL], ids=[n for n, _ in AVG_POOL])
def test_avg_pool2d(kw, device):
    check(lambda F, x: F.avg_pool2d(x, **kw), _rand(2, 3, 7, 8), device=device)


def test_avg_pool2d_unbatched(device):
    check(lambda F, x: F.avg_pool2d(x, 2), _rand(3, 4, 6), device=device)


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 3), (5, None), (7, 8), (4, 6), (9, 11)],
                         ids=str)
def test_adaptive_avg_pool2d(size, device):
    check(lambda F, x: F.adaptive_avg_pool2d(x, size), _rand(2, 3, 7, 8), device=device)


def test_adaptive_avg_pool2d_unbatched_and_inf(device):
    check(lambda F, x: F.adaptive_avg_pool2d(x, (3, 5)), _rand(2, 7, 8), device=device)
    x = _rand(1, 1, 5, 5)
    x[0, 0, 0, 0] = np.inf  # stays in the windows that hold it (a 0/1 weight matrix would spread NaN)
    y = F.adaptive_avg_pool2d(ag.tensor(x, device=device), 3)
    _close(y, TF.adaptive_avg_pool2d(torch.tensor(x), 3), "inf")


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=2)],
                         ids=["k2", "all-options"])
def test_unfold_fold(kw, device):
    x = _rand(2, 3, 7, 6)
    check(lambda F, x: F.unfold(x, **kw), x, device=device)
    cols = TF.unfold(torch.tensor(x), **kw)
    check(lambda F, c: F.fold(c, (7, 6), **kw), _rand(*cols.shape), device=device)
    check(lambda F, x: F.unfold(x, **kw), x[0], device=device)
    check(lambda F, c: F.fold(c, (7, 6), **kw), _rand(*cols.shape[1:]), device=device)


def test_float32(device):
    x, w, b = (a.astype(np.float32) for a in (_rand(4, 3, 9, 9), _rand(5, 3, 3, 3), _rand(5)))
    ya = F.max_pool2d(F.conv2d(ag.tensor(x, device=device), ag.tensor(w, device=device), ag.tensor(b, device=device),
                               padding=1).relu(), 2)
    yt = TF.max_pool2d(TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1).relu(), 2)
    assert ya.dtype == ag.float32
    np.testing.assert_allclose(ya.cpu().numpy(), yt.numpy(), rtol=1e-5, atol=1e-5)


# ---- gradcheck and double backward ---------------------------------------------------------------

def test_conv2d_gradcheck_finite_differences():
    """Independent of torch: central differences of <v, conv2d(x, w, b)> in every element of x, w and b."""
    arrays = [_rand(1, 4, 5, 4), _rand(2, 2, 3, 2), _rand(2)]
    v = _rand(1, 2, 3, 4, seed=5)

    def loss(x, w, b):
        return (F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2) * ag.tensor(v)).sum()

    leaves = [ag.tensor(a, requires_grad=True) for a in arrays]
    analytic = ag.autograd.grad(loss(*leaves), leaves)
    eps = 1e-6
    for a, g in zip(arrays, analytic):
        numeric = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            hi = loss(*map(ag.tensor, arrays)).item()
            a[i] = old - eps
            lo = loss(*map(ag.tensor, arrays)).item()
            a[i] = old
            numeric[i] = (hi - lo) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["conv2d", "conv_transpose2d"])
def test_double_backward_matches_torch(name, device):
    """Second derivatives through the backward formulas (create_graph=True), w.r.t. the inputs and grad_output."""
    kw = dict(stride=2, padding=1, groups=2) if name == "conv2d" else dict(stride=2, padding=1, output_padding=1,
                                                                           groups=2)
    x, w, b = _rand(2, 4, 6, 5), _rand(4, 2, 3, 2), _rand(4)
    gy = _rand(*getattr(TF, name)(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw).shape, seed=3)
    v = _rand(*x.shape, seed=4)

    def second(m, F, make):
        x_, w_, b_, g_ = (make(a) for a in (x, w, b, gy))
        y = getattr(F, name)(x_, w_, b_, **kw)
        gx, gw, gb = m.autograd.grad(y, (x_, w_, b_), g_, create_graph=True)
        s = (gx * make(v, False)).sum() + (gw * gw).sum() + (gb * gb * gb).sum()
        return m.autograd.grad(s, (x_, w_, b_, g_), allow_unused=True)

    ours = second(ag, F, lambda a, rg=True: ag.tensor(a, requires_grad=rg, device=device))
    theirs = second(torch, TF, lambda a, rg=True: torch.tensor(a, requires_grad=rg))
    for k, (a, t) in enumerate(zip(ours, theirs)):
        if t is None:
            assert a is None or not a.cpu().numpy().any(), k
        else:
            _close(a, t, f"second derivative {k}")


def test_max_pool2d_double_backward(device):
    x, g = _distinct(2, 2, 6, 6), _rand(2, 2, 3, 3)
    results = []
    for m, F_, make in ((ag, F, lambda a: ag.tensor(a, requires_grad=True, device=device)),
                        (torch, TF, lambda a: torch.tensor(a, requires_grad=True))):
        x_, g_ = make(x), make(g)
        (gx,) = m.autograd.grad(F_.max_pool2d(x_, 2), x_, g_, create_graph=True)
        results.append(m.autograd.grad((gx * gx * gx).sum(), g_))
    _close(results[0][0], results[1][0], "d/dg")


# ---- modules ----------------------------------------------------------------------------------------

MODULES = [
    ("Conv1d", (3, 6, 3), dict(stride=2, padding=1), (2, 3, 10)),
    ("Conv1d", (4, 4, 2), dict(padding="same", groups=2, bias=False), (3, 4, 7)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 6, 6)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), (2, 4, 7, 8)),
    ("Conv2d", (2, 4, 3), dict(padding="same", bias=False), (1, 2, 5, 5)),
    ("Conv2d", (2, 4, 3), dict(padding=2, padding_mode="reflect"), (2, 2, 5, 5)),
    ("Conv2d", (2, 4, 3), dict(padding=(1, 2), padding_mode="replicate"), (2, 5, 5)),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="circular"), (2, 2, 5, 5)),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 4, 4)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(groups=2, dilation=2, bias=False), (1, 4, 3, 3)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1, ceil_mode=True), (2, 3, 8, 7)),
    ("MaxPool2d", ((2, 3),), dict(stride=1, dilation=(2, 1)), (3, 6, 7)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 7)),
    ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (2, 3, 8, 7)),
    ("AvgPool2d", ((2, 3),), dict(divisor_override=4), (3, 6, 7)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 7, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", MODULES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module_parity(name, args, kwargs, shape, device):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    assert repr(ours) == repr(theirs)
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in sd.items()})
    ours.to(device)
    x = _rand(*shape)
    xa, xt = ag.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    _close(ya, yt, "output")
    g = _rand(*yt.shape, seed=2)
    ya.backward(ag.tensor(g, device=device))
    yt.backward(torch.tensor(g))
    _close(xa.grad, xt.grad, "input grad")
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _close(p.grad, q.grad, f"grad of {n}")


def test_max_pool2d_module_return_indices(device):
    x = _distinct(2, 3, 6, 6)
    (ya, ia), (yt, it) = nn.MaxPool2d(3, 2, return_indices=True)(ag.tensor(x, device=device)), \
        torch.nn.MaxPool2d(3, 2, return_indices=True)(torch.tensor(x))
    _close(ya, yt, "values")
    _close(ia, it, "indices")


@pytest.mark.parametrize("output_size", [(9, 11), (10, 12), [2, 4, 10, 11]], ids=str)
def test_conv_transpose2d_output_size(output_size, device):
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1).double()
    ours = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1).double()
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = _rand(2, 4, 5, 6)
    _close(ours.to(device)(ag.tensor(x, device=device), output_size), theirs(torch.tensor(x), output_size), "out")
    with pytest.raises(ValueError, match="requested an output size of"):
        ours(ag.tensor(x, device=device), (12, 12))


REPRS = [
    ("Conv1d", (2, 4, 3), dict(padding=2)),
    ("Conv1d", (2, 4, 3), dict(padding="same", dilation=2, bias=False)),
    ("Conv2d", (2, 4, 3), {}),
    ("Conv2d", (2, 4, (3, 2)), dict(stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect")),
    ("Conv2d", (2, 4, 3), dict(padding="valid")),
    ("ConvTranspose2d", (2, 4, 3), dict(stride=2, output_padding=1)),
    ("ConvTranspose2d", (2, 4, 3), dict(padding=(1, 2), dilation=3, groups=2, bias=False)),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3),), dict(stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True)),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1, True, False, 2), {}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveAvgPool2d", (5,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", REPRS, ids=[f"{m[0]}-{i}" for i, m in enumerate(REPRS)])
def test_repr_and_state_dict_keys(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape) and p.dtype == ag.float32, n


@pytest.mark.parametrize("name, args", [("Conv2d", (16, 32, 3)), ("Conv1d", (8, 64, 5)),
                                        ("ConvTranspose2d", (32, 16, 3)), ("Conv2d", (8, 32, 3, 1, 0, 1, 4))])
def test_default_init(name, args):
    """PyTorch's reset_parameters: kaiming_uniform(a=sqrt(5)) on the weight, U(+-1/sqrt(fan_in)) on the bias,
    fan_in counted from the weight's dim 1 (so in_channels/groups, or out_channels/groups when transposed)."""
    ag.manual_seed(0)
    ours = getattr(nn, name)(*args)
    theirs = getattr(torch.nn, name)(*args)
    fan_in = theirs.weight[0].numel()
    bound = 1 / np.sqrt(fan_in)
    for p, q in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        a, t = p.detach().numpy(), q.detach().numpy()
        assert a.shape == t.shape and a.dtype == np.float32
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
        assert abs(a.mean()) < 4 * bound / np.sqrt(3 * a.size)  # uniform: std = bound / sqrt(3)
        np.testing.assert_allclose(a.std(), bound / np.sqrt(3), rtol=0.15 if a.size < 100 else 0.05)
    ours2 = getattr(nn, name)(*args)
    assert not np.array_equal(ours.weight.detach().numpy(), ours2.weight.detach().numpy())


# ---- errors -----------------------------------------------------------------------------------------

def _T(m):
    return lambda *shape, dtype=None: m.zeros(*shape, dtype=dtype or m.float64)


ERRORS = [
    ("channels", lambda F, T: F.conv2d(T(2, 2, 8, 8), T(4, 3, 3, 3))),
    ("channels-unbatched", lambda F, T: F.conv2d(T(2, 8, 8), T(4, 3, 3, 3))),
    ("channels-groups", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), groups=2)),
    ("weight-groups", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 1, 3, 3), groups=3)),
    ("input-dims", lambda F, T: F.conv2d(T(8, 8), T(4, 3, 3, 3))),
    ("kernel-too-big", lambda F, T: F.conv2d(T(2, 3, 2, 2), T(4, 3, 3, 3))),
    ("same-strided", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), stride=2, padding="same")),
    ("padding-string", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), padding="foo")),
    ("weight-dtype", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3, dtype=torch.float32 if F is TF else
                                                            ag.float32))),
    ("bias-dtype", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), T(4, dtype=torch.float32 if F is TF else
                                                                           ag.float32))),
    ("bias-size", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), T(5))),
    ("stride-zero", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), stride=0)),
    ("padding-negative", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), padding=-1)),
    ("groups-zero", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), groups=0)),
    ("stride-length", lambda F, T: F.conv2d(T(2, 3, 8, 8), T(4, 3, 3, 3), stride=(1, 2, 3))),
    ("conv1d-channels", lambda F, T: F.conv1d(T(3, 8, 8), T(4, 3, 3))),
    ("conv1d-dims", lambda F, T: F.conv1d(T(2, 3, 8, 8), T(4, 3, 3))),
    ("transpose-channels", lambda F, T: F.conv_transpose2d(T(2, 3, 8, 8), T(4, 3, 3, 3))),
    ("transpose-output-padding", lambda F, T: F.conv_transpose2d(T(2, 3, 8, 8), T(3, 4, 3, 3), output_padding=1)),
    ("max-pool-pad", lambda F, T: F.max_pool2d(T(2, 3, 8, 8), 3, padding=2)),
    ("max-pool-dims", lambda F, T: F.max_pool2d(T(8, 8), 3)),
    ("max-pool-too-small", lambda F, T: F.max_pool2d(T(2, 3, 8, 8), 9)),
    ("avg-pool-pad", lambda F, T: F.avg_pool2d(T(2, 3, 8, 8), 3, padding=2)),
    ("avg-pool-too-small", lambda F, T: F.avg_pool2d(T(2, 3, 8, 8), 9)),
    ("adaptive-size", lambda F, T: F.adaptive_avg_pool2d(T(2, 3, 8, 8), (2,))),
    ("adaptive-dims", lambda F, T: F.adaptive_avg_pool2d(T(8, 8), 2)),
    ("unfold-dims", lambda F, T: F.unfold(T(8, 8), 2)),
    ("unfold-blocks", lambda F, T: F.unfold(T(2, 3, 8, 8), 9)),
    ("fold-channels", lambda F, T: F.fold(T(2, 13, 49), (8, 8), 2)),
    ("fold-blocks", lambda F, T: F.fold(T(2, 12, 50), (8, 8), 2)),
    ("module-channels", lambda F, T: (nn if F is F_OURS else torch.nn).Conv2d(3, 4, 3)(T(1, 2, 5, 5, dtype=(
        ag if F is F_OURS else torch).float32))),
]
F_OURS = F


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_parity(fn):
    with pytest.raises(Exception) as theirs:
        fn(TF, _T(torch))
    with pytest.raises(type(theirs.value)) as ours:
        fn(F, _T(ag))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv2d(3, 4, 3, groups=2),
    lambda nn: nn.Conv2d(4, 3, 3, groups=2),
    lambda nn: nn.Conv2d(4, 4, 3, groups=0),
    lambda nn: nn.Conv2d(4, 4, 3, stride=2, padding="same"),
    lambda nn: nn.Conv2d(4, 4, 3, padding="full"),
    lambda nn: nn.Conv2d(4, 4, 3, padding_mode="mirror"),
    lambda nn: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
], ids=["in-groups", "out-groups", "groups-zero", "same-strided", "padding-string", "padding-mode", "transpose-mode"])
def test_module_constructor_errors(make):
    with pytest.raises(ValueError) as theirs:
        make(torch.nn)
    with pytest.raises(ValueError) as ours:
        make(nn)
    if "{" not in str(theirs.value):  # messages listing a set depend on its iteration order
        assert str(ours.value) == str(theirs.value)


# ---- a small CNN, trained ---------------------------------------------------------------------------

def test_small_cnn_training_steps_match_torch(device):
    """The demo's kind of network on 8x8 images: three SGD steps from the same weights give the same losses."""
    def net(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(8 * 2 * 2, 10))

    torch.manual_seed(0)
    theirs = net(torch.nn).double()
    ours = net(nn).double()
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.to(device)
    rng = np.random.default_rng(0)
    for step in range(3):
        x, y = rng.standard_normal((16, 1, 8, 8)), rng.integers(0, 10, 16)
        la = F.cross_entropy(ours(ag.tensor(x, device=device)), ag.tensor(y, device=device))
        lt = TF.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        np.testing.assert_allclose(la.item(), lt.item(), rtol=1e-10)
        la.backward()
        lt.backward()
        with ag.no_grad(), torch.no_grad():
            for p, q in zip(ours.parameters(), theirs.parameters()):
                p -= 0.5 * p.grad
                q -= 0.5 * q.grad
                p.grad = None
                q.grad = None


def test_integer_inputs(device):
    """torch runs conv2d and max_pool2d on integer tensors too (exact arithmetic, first maximum on ties)."""
    rng = np.random.default_rng(0)
    x, w = rng.integers(-5, 5, (2, 3, 6, 6)), rng.integers(-3, 3, (4, 3, 3, 3))
    _close(F.conv2d(ag.tensor(x, device=device), ag.tensor(w, device=device), padding=1),
           TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1), "conv2d")
    for ours, theirs in zip(F.max_pool2d(ag.tensor(x, device=device), 3, 2, 1, return_indices=True),
                            TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)):
        _close(ours, theirs, "max_pool2d")


# ---- the im2col matrix built a chunk of samples at a time --------------------------------------------------
@pytest.fixture
def one_sample_chunks(monkeypatch):
    """No minimum budget: a small image's im2col matrix is built one sample at a time."""
    from autograd_gpu.ops import conv_ops
    monkeypatch.setattr(conv_ops, "_COLS_MIN_BYTES", 0)
    return conv_ops


@pytest.mark.parametrize("kw", [k for _, k in CONV2D], ids=[n for n, _ in CONV2D])
def test_conv_in_chunks_of_samples_matches_torch(one_sample_chunks, kw, device):
    geo = one_sample_chunks.geometry((5, 4, 7, 6), (3, 2), (5, 5), (1, 1), (0, 0), (1, 1))
    assert one_sample_chunks._chunks(geo, 8) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    groups = kw.get("groups", 1)
    w = _rand(6 if groups != 4 else 4, 4 // groups, 3, 2)
    check(lambda F, x, w, b: F.conv2d(x, w, b, **kw), _rand(5, 4, 7, 6), w, _rand(w.shape[0]), device=device)
    check(lambda F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1, groups=2), _rand(5, 4, 4, 5),
          _rand(4, 3, 3, 2), device=device)


@pytest.mark.parametrize("name", ["conv2d", "conv_transpose2d"])
def test_double_backward_in_chunks_of_samples(one_sample_chunks, name, device):
    test_double_backward_matches_torch(name, device)

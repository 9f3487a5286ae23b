"""Parity of every nn layer with torch.nn: the same initial weights in both, then outputs, input and parameter
gradients, running statistics, state-dict keys and reprs, in train and eval modes."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import nn

_rng = np.random.default_rng(7)


def copy_state(ours, theirs):
    """Load torch's state (parameters and buffers) into ours; the key lists must be identical."""
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in sd.items()})


def close(a, t, what, rtol=1e-7, atol=1e-9):
    np.testing.assert_allclose(a.detach().cpu().numpy(), t.detach().numpy(), rtol=rtol, atol=atol, err_msg=what)


def check_module(ours, theirs, shapes, *, device="cpu", steps=2, dtype="float64", train=True, rtol=1e-7,
                 atol=1e-9, int_input=None):
    """Run both modules `steps` times on the same inputs; compare outputs, grads and the state after."""
    assert repr(ours) == repr(theirs)
    if dtype == "float64":
        ours.double()
        theirs.double()
    copy_state(ours, theirs)
    ours.to(device)
    ours.train(train)
    theirs.train(train)
    for step in range(steps):
        if int_input is not None:
            xs = [int_input]
        else:
            xs = [_rng.standard_normal(s).astype(dtype) for s in shapes]
        needs = int_input is None
        a = [ag.tensor(x, requires_grad=needs, device=device) for x in xs]
        t = [torch.tensor(x, requires_grad=needs) for x in xs]
        ya, yt = ours(*a), theirs(*t)
        close(ya, yt, f"{theirs} output, step {step}", rtol, atol)
        w = _rng.standard_normal(tuple(yt.shape)).astype(dtype)
        (ya * ag.tensor(w, device=device)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        for i, (xa, xt) in enumerate(zip(a, t)):
            if needs:
                close(xa.grad, xt.grad, f"{theirs} grad of input {i}", rtol, atol)
        for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            if q.grad is None:
                assert p.grad is None, n
            else:
                close(p.grad, q.grad, f"{theirs} grad of {n}", rtol, atol)
    for (n, v), (_, u) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        close(v, u, f"{theirs} state {n}", rtol, atol)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]


LAYERS = [
    ("Linear", lambda m: m.Linear(4, 3), [(5, 4)]),
    ("Linear-nobias", lambda m: m.Linear(4, 3, bias=False), [(5, 4)]),
    ("Linear-3d", lambda m: m.Linear(4, 3), [(2, 5, 4)]),
    ("Linear-1d", lambda m: m.Linear(4, 3), [(4,)]),
    ("Bilinear", lambda m: m.Bilinear(2, 3, 4), [(5, 2), (5, 3)]),
    ("Identity", lambda m: m.Identity(7, k=2), [(3, 2)]),
    ("BatchNorm1d", lambda m: m.BatchNorm1d(4), [(6, 4)]),
    ("BatchNorm1d-3d", lambda m: m.BatchNorm1d(4, momentum=0.3), [(3, 4, 5)]),
    ("BatchNorm1d-cumulative", lambda m: m.BatchNorm1d(4, momentum=None), [(6, 4)]),
    ("BatchNorm1d-noaffine", lambda m: m.BatchNorm1d(4, affine=False), [(6, 4)]),
    ("BatchNorm1d-nobias", lambda m: m.BatchNorm1d(4, bias=False), [(6, 4)]),
    ("BatchNorm1d-nostats", lambda m: m.BatchNorm1d(4, track_running_stats=False), [(6, 4)]),
    ("BatchNorm2d", lambda m: m.BatchNorm2d(3, eps=1e-3), [(2, 3, 4, 5)]),
    ("BatchNorm2d-nostats", lambda m: m.BatchNorm2d(3, track_running_stats=False, affine=False), [(2, 3, 2, 2)]),
    ("BatchNorm3d", lambda m: m.BatchNorm3d(2), [(2, 2, 2, 3, 2)]),
    ("LayerNorm", lambda m: m.LayerNorm(5), [(3, 5)]),
    ("LayerNorm-2d", lambda m: m.LayerNorm([3, 4], eps=1e-3), [(2, 3, 4)]),
    ("LayerNorm-noaffine", lambda m: m.LayerNorm(4, elementwise_affine=False), [(2, 3, 4)]),
    ("LayerNorm-nobias", lambda m: m.LayerNorm(4, bias=False), [(2, 4)]),
    ("GroupNorm", lambda m: m.GroupNorm(2, 6), [(3, 6, 4)]),
    ("GroupNorm-4d", lambda m: m.GroupNorm(3, 3, eps=1e-3), [(2, 3, 2, 2)]),
    ("GroupNorm-noaffine", lambda m: m.GroupNorm(1, 4, affine=False), [(2, 4, 3)]),
    ("Flatten", lambda m: m.Flatten(), [(2, 3, 4)]),
    ("Flatten-dims", lambda m: m.Flatten(0, 1), [(2, 3, 4)]),
    ("Unflatten", lambda m: m.Unflatten(1, (2, 3)), [(4, 6)]),
    ("Sequential", lambda m: m.Sequential(m.Linear(4, 8), m.BatchNorm1d(8), m.ReLU(), m.Linear(8, 2)), [(5, 4)]),
]


@pytest.mark.parametrize("name,make,shapes", LAYERS, ids=[x[0] for x in LAYERS])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_layer_parity(name, make, shapes, train, device):
    torch.manual_seed(0)
    check_module(make(nn), make(torch.nn), shapes, device=device, train=train)


@pytest.mark.parametrize("name,make,shapes", LAYERS[:4] + LAYERS[6:8] + LAYERS[15:17] + LAYERS[19:20],
                         ids=[x[0] for x in LAYERS[:4] + LAYERS[6:8] + LAYERS[15:17] + LAYERS[19:20]])
def test_layer_parity_float32(name, make, shapes, device):
    check_module(make(nn), make(torch.nn), shapes, device=device, dtype="float32", rtol=1e-4, atol=1e-5)


def _graph(t):
    """The backward graph below t as nested (node name, [children]); leaves are AccumulateGrad."""
    fn = t.grad_fn

    def walk(n):
        return (type(n).__name__.split("::")[-1], [walk(c) for c, _ in n.next_functions if c is not None])
    return walk(fn)


def test_linear_2d_records_addmm(device):
    ours, theirs = nn.Linear(3, 4).double(), torch.nn.Linear(3, 4).double()
    copy_state(ours, theirs)
    ours.to(device)
    x = _rng.standard_normal((5, 3))
    a, t = ag.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    ya, yt = ours(a), theirs(t)
    assert type(ya.grad_fn).__name__ == "AddmmBackward0"
    assert _graph(ya) == _graph(yt)
    w = _rng.standard_normal((5, 4))
    (ya * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    close(ya, yt, "output")
    close(a.grad, t.grad, "input grad")
    close(ours.weight.grad, theirs.weight.grad, "weight grad")
    close(ours.bias.grad, theirs.bias.grad, "bias grad")
    assert ours.weight.grad.is_contiguous()  # (mm's column-major trick: weight.t()'s grad comes out laid out)


def test_linear_float32_against_float64_reference():
    ours = nn.Linear(6, 3)
    x = _rng.standard_normal((8, 6)).astype(np.float32)
    a = ag.tensor(x, requires_grad=True)
    ours(a).square().sum().backward()
    ref = torch.nn.Linear(6, 3).double()
    ref.load_state_dict({k: torch.tensor(v.numpy(), dtype=torch.float64) for k, v in ours.state_dict().items()})
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ref(t).square().sum().backward()
    close(a.grad, t.grad, "input grad", 1e-5, 1e-6)
    close(ours.weight.grad, ref.weight.grad, "weight grad", 1e-5, 1e-6)
    close(ours.bias.grad, ref.bias.grad, "bias grad", 1e-5, 1e-6)


@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 5, 3), (2, 2, 5, 3)], ids=["1d", "2d", "3d", "4d"])
@pytest.mark.parametrize("bias", [(4,), (1, 4), (5, 4), None], ids=["bias", "bias-row", "bias-full", "nobias"])
def test_linear_graph_as_torch(shape, bias):
    # PyTorch flattens an N-D contiguous input around one addmm when the bias is one row; the one difference
    # kept: an N-D input without such a bias goes through matmul, one node for PyTorch's view, mm, _unsafe_view
    x, w = _rng.standard_normal(shape), _rng.standard_normal((4, 3))
    b = None if bias is None else _rng.standard_normal(bias)
    ins = [ag.tensor(v, requires_grad=True) if v is not None else None for v in (x, w, b)]
    tins = [torch.tensor(v, requires_grad=True) if v is not None else None for v in (x, w, b)]
    if len(shape) == 1 and bias == (5, 4):
        with pytest.raises(RuntimeError, match=r"output with shape \[4\] doesn't match the broadcast shape"):
            torch.nn.functional.linear(*tins)
        with pytest.raises(RuntimeError, match=r"output with shape \[4\] doesn't match the broadcast shape"):
            nn.functional.linear(*ins)
        return
    ya, yt = nn.functional.linear(*ins), torch.nn.functional.linear(*tins)
    if len(shape) > 2 and bias in (None, (5, 4)):
        assert type(ya.grad_fn).__name__ == type(yt.grad_fn).__name__
    else:
        assert _graph(ya) == _graph(yt)
    ya.sum().backward()
    yt.sum().backward()
    close(ya, yt, "output")
    for i, (p, q) in enumerate(zip(ins, tins)):
        if p is not None:
            close(p.grad, q.grad, f"grad of input {i}")


ACTIVATIONS = [
    ("ReLU", lambda m: m.ReLU()), ("ReLU6", lambda m: m.ReLU6()),
    ("Hardtanh", lambda m: m.Hardtanh(-0.5, 0.7)), ("LeakyReLU", lambda m: m.LeakyReLU()),
    ("LeakyReLU-0.2", lambda m: m.LeakyReLU(0.2)), ("ELU", lambda m: m.ELU()), ("ELU-alpha", lambda m: m.ELU(0.5)),
    ("SELU", lambda m: m.SELU()), ("GELU", lambda m: m.GELU()), ("GELU-tanh", lambda m: m.GELU("tanh")),
    ("SiLU", lambda m: m.SiLU()), ("Mish", lambda m: m.Mish()), ("Tanh", lambda m: m.Tanh()),
    ("Sigmoid", lambda m: m.Sigmoid()), ("LogSigmoid", lambda m: m.LogSigmoid()),
    ("Hardsigmoid", lambda m: m.Hardsigmoid()), ("Hardswish", lambda m: m.Hardswish()),
    ("Softplus", lambda m: m.Softplus()), ("Softplus-beta", lambda m: m.Softplus(2, 1.5)),
    ("Softmax", lambda m: m.Softmax(dim=1)), ("Softmax-neg", lambda m: m.Softmax(-1)),
    ("LogSoftmax", lambda m: m.LogSoftmax(1)), ("Softmin", lambda m: m.Softmin(0)),
]


@pytest.mark.parametrize("name,make", ACTIVATIONS, ids=[x[0] for x in ACTIVATIONS])
def test_activation_parity(name, make, device):
    check_module(make(nn), make(torch.nn), [(4, 5)], device=device, steps=1, atol=1e-7)


@pytest.mark.parametrize("make", [lambda m: m.ReLU(inplace=True), lambda m: m.LeakyReLU(0.1, True),
                                  lambda m: m.ELU(inplace=True), lambda m: m.SiLU(True), lambda m: m.ReLU6(True),
                                  lambda m: m.Hardtanh(inplace=True)])
def test_inplace_activation(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = _rng.standard_normal((3, 4)) * 3
    a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yt = ours(a * 1), theirs(t * 1)
    close(ya, yt, "output")
    ya.sum().backward()
    yt.sum().backward()
    close(a.grad, t.grad, "grad")


def test_activation_extremes():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    for name, kw in [("softplus", {}), ("elu", {}), ("gelu", {}), ("silu", {}), ("logsigmoid", {}),
                     ("softplus", {"beta": 3.0, "threshold": 5.0})]:
        a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yt = getattr(nn.functional, name)(a, **kw), getattr(torch.nn.functional, name)(t, **kw)
        ya.sum().backward()
        yt.sum().backward()
        close(ya, yt, name)
        close(a.grad, t.grad, name + " grad")
        assert np.isfinite(a.grad.numpy()).all()


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate"):
        nn.functional.gelu(ag.zeros(2), approximate="fast")


# ---- BatchNorm specifics ---------------------------------------------------------------------------------
def test_batchnorm_running_stats_and_eval():
    ours, theirs = nn.BatchNorm2d(3, momentum=0.2), torch.nn.BatchNorm2d(3, momentum=0.2)
    for _ in range(3):
        x = _rng.standard_normal((4, 3, 2, 2)) * 2 + 1
        ours(ag.tensor(x, dtype=ag.float32))
        theirs(torch.tensor(x, dtype=torch.float32))
    assert int(ours.num_batches_tracked) == 3 and ours.num_batches_tracked.dtype == ag.int64
    close(ours.running_mean, theirs.running_mean, "running_mean", 1e-5, 1e-6)
    close(ours.running_var, theirs.running_var, "running_var", 1e-5, 1e-6)
    ours.eval()
    theirs.eval()
    x = _rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    close(ours(ag.tensor(x)), theirs(torch.tensor(x)), "eval output", 1e-5, 1e-6)
    assert int(ours.num_batches_tracked) == 3  # eval mode does not count batches


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(ag.zeros(2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(ag.zeros(2, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ag.zeros(1, 3))
    nn.BatchNorm1d(3).eval()(ag.zeros(1, 3))  # fine in eval mode
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]"):
        nn.LayerNorm(4)(ag.zeros(2, 3))


def test_batchnorm_no_grad_still_updates_stats():
    bn = nn.BatchNorm1d(2)
    with ag.no_grad():
        bn(ag.tensor([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.2, 0.4], rtol=1e-6)


# ---- Dropout -------------------------------------------------------------------------------------------
def test_dropout_statistics_and_eval():
    ag.manual_seed(0)
    d = nn.Dropout(0.3)
    x = ag.ones(200, 100)
    y = d(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.02
    np.testing.assert_allclose(np.unique(y.numpy()), [0.0, 1 / 0.7], rtol=1e-6)
    d.eval()
    assert d(x) is x
    assert nn.functional.dropout(x, 0.5, training=False) is x
    assert (nn.functional.dropout(x, 1.0) == 0).all().item()
    assert repr(d) == repr(torch.nn.Dropout(0.3))


def test_dropout_gradient_follows_mask():
    x = ag.randn(50, 20, requires_grad=True)
    y = nn.functional.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y.detach().numpy() != 0) * 2.0)


def test_dropout2d_drops_whole_channels():
    ag.manual_seed(1)
    y = nn.Dropout2d(0.5)(ag.ones(8, 16, 3, 3))
    per_channel = y.numpy().reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_dropout_inplace():
    x = ag.ones(10, 10)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


# ---- Embedding -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -2}, {"max_norm": 1.0},
                                {"max_norm": 0.5, "norm_type": 1.0, "padding_idx": 0}])
def test_embedding_parity(kw, device):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(6, 3, **kw).double()
    ours = nn.Embedding(6, 3, **kw)
    idx = np.array([[0, 1, 4], [1, 1, 5]])
    check_module(ours, theirs, None, device=device, int_input=idx)


def test_embedding_padding_row_init_and_errors():
    e = nn.Embedding(5, 4, padding_idx=2)
    assert (e.weight[2] == 0).all().item()
    assert e.weight.std().item() > 0.3  # N(0, 1) initialisation elsewhere
    with pytest.raises(IndexError, match="index out of range in self"):
        e(ag.tensor([5]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        e(ag.tensor([1.0]))
    w = ag.randn(4, 2)
    pre = nn.Embedding.from_pretrained(w)
    assert not pre.weight.requires_grad and (pre(ag.tensor([3])) == w[3]).all().item()


def test_embedding_int32_indices():
    e = nn.Embedding(5, 2)
    out = e(ag.tensor([1, 4], dtype=ag.int32))
    np.testing.assert_allclose(out.detach().numpy(), e.weight.detach().numpy()[[1, 4]])


# ---- functional extras: pad, one_hot, normalize ---------------------------------------------------------
PADS = [((1, 2), "constant", 0.5, (2, 3, 4)), ((1, 1, 2, 0), "constant", None, (2, 3, 4)),
        ((-1, 2), "constant", None, (2, 5)), ((2, 1), "reflect", None, (2, 3, 4)),
        ((1, 2, 2, 1), "reflect", None, (1, 2, 4, 5)), ((2, 3), "replicate", None, (2, 3, 4)),
        ((1, 0, 3, 2), "replicate", None, (1, 2, 3, 3)), ((1, 2), "circular", None, (1, 2, 4)),
        ((2, 1, 1, 1), "circular", None, (1, 1, 3, 4))]


@pytest.mark.parametrize("pad,mode,value,shape", PADS, ids=[f"{p[1]}-{p[0]}" for p in PADS])
def test_pad_parity(pad, mode, value, shape, device):
    x = _rng.standard_normal(shape)
    a, t = ag.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    kw = {} if value is None else {"value": value}
    ya, yt = nn.functional.pad(a, pad, mode, **kw), torch.nn.functional.pad(t, pad, mode, **kw)
    close(ya, yt, "pad")
    w = _rng.standard_normal(tuple(yt.shape))
    (ya * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    close(a.grad, t.grad, "pad grad")


def test_pad_errors():
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        nn.functional.pad(ag.zeros(2, 2), (1,))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        nn.functional.pad(ag.zeros(1, 2, 3), (3, 0), mode="reflect")


def test_one_hot():
    t = ag.tensor([0, 2, 1])
    assert nn.functional.one_hot(t).tolist() == torch.nn.functional.one_hot(torch.tensor([0, 2, 1])).tolist()
    out = nn.functional.one_hot(ag.tensor([[1], [3]]), 5)
    assert out.dtype == ag.int64 and out.shape == (2, 1, 5)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        nn.functional.one_hot(ag.tensor([3]), 2)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        nn.functional.one_hot(ag.tensor([1.0]))


def test_normalize_and_cosine_similarity():
    x, y = _rng.standard_normal((3, 4)), _rng.standard_normal((3, 4))
    close(nn.functional.normalize(ag.tensor(x)), torch.nn.functional.normalize(torch.tensor(x)), "normalize")
    close(nn.functional.cosine_similarity(ag.tensor(x), ag.tensor(y)),
          torch.nn.functional.cosine_similarity(torch.tensor(x), torch.tensor(y)), "cosine_similarity")


def test_functional_batch_norm_eval_and_instance_norm():
    x = _rng.standard_normal((2, 3, 4))
    rm, rv = _rng.standard_normal(3), _rng.uniform(0.5, 2, 3)
    w, b = _rng.standard_normal(3), _rng.standard_normal(3)
    ours = nn.functional.batch_norm(ag.tensor(x), ag.tensor(rm), ag.tensor(rv), ag.tensor(w), ag.tensor(b))
    theirs = torch.nn.functional.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv), torch.tensor(w),
                                            torch.tensor(b))
    close(ours, theirs, "batch_norm eval")
    close(nn.functional.instance_norm(ag.tensor(x)), torch.nn.functional.instance_norm(torch.tensor(x)),
          "instance_norm")


# ---- reprs of every layer ---------------------------------------------------------------------------------
REPRS = [
    lambda m: m.Linear(3, 4), lambda m: m.Linear(3, 4, bias=False), lambda m: m.BatchNorm1d(3),
    lambda m: m.BatchNorm2d(3, affine=False, track_running_stats=False, momentum=None), lambda m: m.LayerNorm(4),
    lambda m: m.LayerNorm([3, 4], elementwise_affine=False), lambda m: m.GroupNorm(2, 4, affine=False),
    lambda m: m.Dropout(0.2, True), lambda m: m.Dropout2d(), lambda m: m.Embedding(10, 3),
    lambda m: m.Embedding(10, 3, padding_idx=0, max_norm=1.0), lambda m: m.Flatten(),
    lambda m: m.Unflatten(1, (2, 2)), lambda m: m.Softplus(2, 10), lambda m: m.Softmax(),
    lambda m: m.GELU("tanh"), lambda m: m.LeakyReLU(0.2, True), lambda m: m.ELU(inplace=True),
    lambda m: m.Identity(), lambda m: m.Bilinear(2, 3, 4),
    lambda m: m.Sequential(m.Linear(2, 3), m.Sequential(m.ReLU(), m.Dropout()), m.BatchNorm1d(3)),
    lambda m: m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.Linear(2, 2)]),
    lambda m: m.ModuleList([]), lambda m: m.ModuleDict({"a": m.ReLU(), "b": m.Sequential(m.Tanh())}),
    lambda m: m.ParameterList([m.Parameter(m.ones(2, 3)), m.Parameter(m.ones(4))]),
    lambda m: m.ParameterDict({"w": m.Parameter(m.ones(2, 3))}),
    lambda m: m.CrossEntropyLoss(label_smoothing=0.1), lambda m: m.BCEWithLogitsLoss(),
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_like_torch(make):
    ours = make(_Namespace(nn, ag))
    theirs = make(_Namespace(torch.nn, torch))
    assert repr(ours) == repr(theirs)


class _Namespace:
    def __init__(self, nn_mod, root):
        self._nn, self._root = nn_mod, root

    def __getattr__(self, name):
        return getattr(self._nn, name) if hasattr(self._nn, name) else getattr(self._root, name)

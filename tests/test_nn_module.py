"""nn.Module semantics against torch.nn: registration and names, containers, modes, dtype moves, state dicts
and their errors, hooks, and the training programs PyTorch users write."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import nn


def _names(it):
    return [n for n, _ in it]


class Net:
    """The same small model in both libraries: a conv-free 'features' trunk and a classifier head."""

    @staticmethod
    def make(m, root):
        class _Net(m.Module):
            def __init__(self):
                super().__init__()
                self.features = m.Sequential(m.Linear(4, 8), m.BatchNorm1d(8), m.ReLU())
                self.head = m.ModuleDict({"cls": m.Linear(8, 3), "reg": m.Linear(8, 1, bias=False)})
                self.scale = m.Parameter(root.ones(1))
                self.register_buffer("steps", root.zeros((), dtype=root.int64))
                self.register_buffer("cache", root.zeros(2), persistent=False)

            def forward(self, x):
                h = self.features(x)
                return self.head["cls"](h) * self.scale, self.head["reg"](h)
        return _Net()


def both(device="cpu"):
    """The same model in both libraries, with the same weights; ours moved to `device` (torch's on the CPU)."""
    torch.manual_seed(0)
    ours, theirs = Net.make(nn, ag), Net.make(torch.nn, torch)
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours.to(device), theirs


def _np(t):
    """Our tensor's values as a numpy array, from either device."""
    return t.detach().cpu().numpy()


# ---- registration and traversal ---------------------------------------------------------------------------
def test_names_match_torch():
    ours, theirs = both()
    assert _names(ours.named_parameters()) == _names(theirs.named_parameters())
    assert _names(ours.named_buffers()) == _names(theirs.named_buffers())
    assert _names(ours.named_modules()) == _names(theirs.named_modules())
    assert _names(ours.named_children()) == _names(theirs.named_children())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "cache" not in ours.state_dict() and "cache" in dict(ours.named_buffers())
    assert _names(ours.named_parameters(recurse=False)) == ["scale"]
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 8
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert repr(ours).replace("_Net", "") == repr(theirs).replace("_Net", "")


def test_sequential_names_and_indexing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    tseq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    assert _names(seq.named_parameters()) == _names(tseq.named_parameters()) == ["0.weight", "0.bias", "2.weight",
                                                                                "2.bias"]
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is seq[2]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[1] is seq[2]
    assert [type(m) for m in seq] == [nn.Linear, nn.ReLU, nn.Linear]
    seq.append(nn.Tanh())
    assert len(seq) == 4 and _names(seq.named_children())[-1] == "3"
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert _names(named.named_parameters()) == ["fc.weight", "fc.bias"] and named.fc is named[0]
    del seq[1]
    assert _names(seq.named_children()) == ["0", "1", "2"]
    with pytest.raises(IndexError):
        seq[5]


def test_module_list_and_dict_and_parameter_containers():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    assert len(ml) == 4 and _names(ml.named_parameters())[:2] == ["0.weight", "0.bias"]
    ml.extend([nn.Tanh()])
    assert isinstance(ml[-1], nn.Tanh) and len(ml[1:3]) == 2
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.Linear(1, 2)
    assert list(md.keys()) == ["a", "b"] and "b" in md and _names(md.named_parameters())[2] == "b.weight"
    pl = nn.ParameterList([nn.Parameter(ag.ones(2)), ag.zeros(3)])
    assert all(isinstance(p, nn.Parameter) for p in pl) and _names(pl.named_parameters()) == ["0", "1"]
    pd = nn.ParameterDict({"w": ag.ones(2)})
    assert isinstance(pd["w"], nn.Parameter) and _names(pd.named_parameters()) == ["w"]


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    tlin = torch.nn.Linear(2, 2)
    tseq = torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    assert _names(seq.named_parameters()) == _names(tseq.named_parameters())
    assert list(seq.state_dict()) == list(tseq.state_dict())
    assert len(list(seq.modules())) == len(list(tseq.modules()))


def test_setattr_rules():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'weight' "
                                        r"\(torch.nn.Parameter or None expected\)"):
        m.weight = ag.zeros(2, 2)
    m.bias = None
    assert m.bias is None and _names(m.named_parameters()) == ["weight"]
    m.extra = nn.Parameter(ag.zeros(1))
    assert "extra" in dict(m.named_parameters())
    del m.extra
    assert "extra" not in dict(m.named_parameters())
    m.register_buffer("buf", ag.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'buf'"):
        m.buf = 3
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", ag.ones(1))
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nothing'"):
        m.nothing
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' object to parameter 'p'"):
        m.register_parameter("p", ag.ones(1))
    with pytest.raises(KeyError, match="name can.+t contain"):
        m.register_buffer("a.b", ag.ones(1))

    class NoInit(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(ag.ones(1))
    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__\\(\\) call"):
        NoInit()


def test_parameter_is_a_leaf_that_requires_grad():
    p = nn.Parameter(ag.tensor([1.0, 2.0]))
    assert isinstance(p, ag.Tensor) and p.is_leaf and p.requires_grad
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    q = nn.Parameter(ag.ones(2), requires_grad=False)
    assert not q.requires_grad and repr(q) == repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert type(p * 2) is ag.Tensor
    c = copy.deepcopy(p)
    assert isinstance(c, nn.Parameter) and c is not p and (c == p).all().item()


def test_train_eval_requires_grad_zero_grad_apply(device):
    ours, _ = both(device)
    assert ours.training and ours.features[1].training
    assert ours.eval() is ours and not ours.features[1].training
    ours.train()
    assert ours.features[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        ours.train("yes")
    ours(ag.randn(3, 4, device=device))[0].sum().backward()
    assert ours.features[0].weight.grad.device == ours.features[0].weight.device
    ours.zero_grad(set_to_none=False)
    assert (ours.features[0].weight.grad == 0).all().item()
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())
    seen = []
    ours.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "_Net" and seen[0] == "Linear"


def test_to_double_keeps_parameter_identity(device):
    ours, theirs = both(device)
    params = list(ours.parameters())
    assert all(p.device.type == device for p in params) and ours.steps.device.type == device
    sum(out.sum() for out in ours(ag.randn(3, 4, device=device))).backward()
    assert ours.double() is ours
    assert [p is q for p, q in zip(params, ours.parameters())] == [True] * len(params)
    assert all(p.dtype == ag.float64 and p.grad.dtype == ag.float64 for p in params)
    assert ours.features[1].running_mean.dtype == ag.float64
    assert ours.features[1].num_batches_tracked.dtype == ag.int64  # integer buffers keep their dtype
    assert ours.steps.dtype == ag.int64
    ours.to(ag.float32)
    assert all(p.dtype == ag.float32 for p in params)
    ours.to("cpu", dtype=ag.float64)
    assert ours.scale.dtype == ag.float64 and ours.cpu() is ours
    assert [p is q for p, q in zip(params, ours.parameters())] == [True] * len(params)
    assert all(p.device.type == "cpu" and p.grad.device.type == "cpu" for p in params)
    assert ours.features[1].running_mean.device.type == "cpu"
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        ours.to(ag.int32)


def test_to_float64_matches_torch_numerically(device):
    ours, theirs = both(device)
    ours.to(ag.float64)
    theirs.to(torch.float64)
    x = np.random.default_rng(0).standard_normal((5, 4))
    a, b = ours(ag.tensor(x, device=device)), theirs(torch.tensor(x))
    for u, v in zip(a, b):
        np.testing.assert_allclose(_np(u), v.detach().numpy(), rtol=1e-12, atol=1e-12)


# ---- state dicts ------------------------------------------------------------------------------------------
def test_state_dict_roundtrip_with_buffers(device):
    ours, theirs = both(device)
    ours.train()
    ours(ag.randn(6, 4, device=device))
    sd = ours.state_dict()
    assert int(sd["features.1.num_batches_tracked"]) == 1
    assert sd["features.0.weight"].grad_fn is None and not sd["features.0.weight"].requires_grad
    fresh = Net.make(nn, ag).to(device)
    result = fresh.load_state_dict(sd)
    assert repr(result) == "<All keys matched successfully>"
    for k, v in fresh.state_dict().items():
        assert v.device == sd[k].device, k
        np.testing.assert_array_equal(_np(v), _np(sd[k]))
    assert fresh.features[0].weight is not sd["features.0.weight"]  # copied in place, not aliased
    assert ours.state_dict(keep_vars=True)["scale"] is ours.scale


def test_load_state_dict_errors_like_torch():
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    bad = {"weight": ag.zeros(3, 2), "extra": ag.zeros(1)}
    tbad = {"weight": torch.zeros(3, 2), "extra": torch.zeros(1)}
    with pytest.raises(RuntimeError) as e:
        ours.load_state_dict(bad)
    with pytest.raises(RuntimeError) as te:
        theirs.load_state_dict(tbad)
    assert str(e.value) == str(te.value)
    assert str(e.value).startswith("Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "
                                   '"bias". \n\tUnexpected key(s) in state_dict: "extra". ')
    res = ours.load_state_dict(bad, strict=False)
    tres = theirs.load_state_dict(tbad, strict=False)
    assert res.missing_keys == tres.missing_keys == ["bias"] and res.unexpected_keys == tres.unexpected_keys
    with pytest.raises(RuntimeError) as e:
        ours.load_state_dict({"weight": ag.zeros(2, 2), "bias": ag.zeros(3)})
    with pytest.raises(RuntimeError) as te:
        theirs.load_state_dict({"weight": torch.zeros(2, 2), "bias": torch.zeros(3)})
    assert str(e.value) == str(te.value)
    assert "size mismatch for weight: copying a param with shape torch.Size([2, 2]) from checkpoint" in str(e.value)


def test_nested_load_errors_and_batchnorm_legacy_checkpoint():
    ours, theirs = both()
    sd = {k: v for k, v in ours.state_dict().items() if k != "head.cls.bias"}
    sd["head.cls.extra"] = ag.zeros(1)
    tsd = {k: torch.tensor(v.numpy()) for k, v in sd.items()}
    with pytest.raises(RuntimeError) as e:
        ours.load_state_dict(sd)
    with pytest.raises(RuntimeError) as te:
        theirs.load_state_dict(tsd)
    assert str(e.value).replace("_Net", "") == str(te.value).replace("_Net", "")
    bn, tbn = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    old = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert repr(bn.load_state_dict(old)) == repr(tbn.load_state_dict(
        {k: torch.tensor(v.numpy()) for k, v in old.items()}))
    assert "num_batches_tracked" not in old  # the caller's dict is not modified


# ---- hooks -----------------------------------------------------------------------------------------------
def test_forward_hooks(device):
    lin = nn.Linear(2, 2).to(device)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(args[0].sum().item()) or out + 1)
    x = ag.ones(1, 2, device=device)
    np.testing.assert_allclose(_np(lin(x)), _np(lin.bias)[None] + 1, rtol=1e-6)
    assert calls == [0.0]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(_np(lin(x)), _np(x @ lin.weight.t() + lin.bias))
    kw = lin.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 2,), kwargs), with_kwargs=True)
    np.testing.assert_allclose(_np(lin(x)), _np(2 * x @ lin.weight.t() + lin.bias))
    kw.remove()


def test_full_backward_hook_matches_torch(device):
    torch.manual_seed(0)
    tlin = torch.nn.Linear(3, 2)
    lin = nn.Linear(3, 2).to(device)
    lin.load_state_dict({k: ag.tensor(v.numpy()) for k, v in tlin.state_dict().items()})  # copied to `device`
    got, tgot = [], []
    lin.register_full_backward_hook(lambda m, gi, go: got.append((gi, go)))
    tlin.register_full_backward_hook(lambda m, gi, go: tgot.append((gi, go)))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    a, t = ag.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    (lin(a) ** 2).sum().backward()
    (tlin(t) ** 2).sum().backward()
    assert len(got) == len(tgot) == 1
    (gi, go), (tgi, tgo) = got[0], tgot[0]
    assert len(gi) == len(tgi) == 1 and len(go) == len(tgo) == 1
    np.testing.assert_allclose(_np(gi[0]), tgi[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(_np(go[0]), tgo[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(_np(a.grad), t.grad.numpy(), rtol=1e-5)


def test_backward_hook_can_replace_grad_input_and_runs_without_input_grads(device):
    lin = nn.Linear(2, 2).to(device)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    a = ag.ones(1, 2, requires_grad=True, device=device)
    lin(a).sum().backward()
    assert (a.grad == 0).all().item() and lin.weight.grad is not None
    seen = []
    lin2 = nn.Linear(2, 2).to(device)
    lin2.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    lin2(ag.ones(1, 2, device=device)).sum().backward()  # the input needs no grad: PyTorch passes grad_input=(None,)
    assert seen == [((None,), (1, 2))]
    pre = []
    lin3 = nn.Linear(2, 2).to(device)
    lin3.register_full_backward_pre_hook(lambda m, go: (go[0] * 3,))
    lin3.register_full_backward_hook(lambda m, gi, go: pre.append(go[0].sum().item()))
    b = ag.ones(1, 2, requires_grad=True, device=device)
    lin3(b).sum().backward()
    assert pre == [6.0]
    # (float32, with an absolute tolerance: a column sum of random weights may be near 0)
    np.testing.assert_allclose(_np(b.grad), 3 * _np(lin3.weight).sum(0, keepdims=True), rtol=1e-5, atol=1e-6)


# ---- programs PyTorch users write --------------------------------------------------------------------------
def _sgd(params, lr):
    with ag.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad


def test_frozen_submodule_trains_only_the_head(device):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to(device)
    for p in model[0].parameters():
        p.requires_grad = False
    frozen = model[0].weight.clone()
    x, y = ag.randn(16, 4, device=device), ag.randint(0, 2, (16,), device=device)
    for _ in range(3):
        model.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        assert model[0].weight.grad is None and model[2].weight.grad is not None
        _sgd(model.parameters(), 0.1)
    assert (model[0].weight == frozen).all().item()


def test_shared_trunk_two_heads_retain_graph_equals_summed_loss(device):
    ag.manual_seed(1)
    trunk, h1, h2 = nn.Linear(4, 6).to(device), nn.Linear(6, 2).to(device), nn.Linear(6, 1).to(device)
    params = list(trunk.parameters()) + list(h1.parameters()) + list(h2.parameters())
    x, y1, y2 = ag.randn(5, 4, device=device), ag.randint(0, 2, (5,), device=device), ag.randn(5, 1, device=device)

    def losses():
        h = nn.functional.gelu(trunk(x))
        return nn.functional.cross_entropy(h1(h), y1), nn.functional.mse_loss(h2(h), y2)
    l1, l2 = losses()
    l1.backward(retain_graph=True)
    l2.backward()
    separate = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    l1, l2 = losses()
    (l1 + l2).backward()
    for g, p in zip(separate, params):
        np.testing.assert_allclose(_np(g), _np(p.grad), rtol=1e-5, atol=1e-7)


def test_micro_batch_accumulation_equals_full_batch(device):
    ag.manual_seed(2)
    model = nn.Sequential(nn.Linear(3, 5), nn.LayerNorm(5), nn.Tanh(), nn.Linear(5, 2)).to(device)
    x, y = ag.randn(8, 3, device=device), ag.randint(0, 2, (8,), device=device)
    nn.functional.cross_entropy(model(x), y, reduction="sum").backward()
    full = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    for xb, yb in zip(x.split(2), y.split(2)):
        nn.functional.cross_entropy(model(xb), yb, reduction="sum").backward()
    for g, p in zip(full, model.parameters()):
        np.testing.assert_allclose(_np(g), _np(p.grad), rtol=1e-5, atol=1e-6)


class ContentLoss(nn.Module):
    """The style-transfer pattern: a module that records a loss against a detached target and passes its
    input through unchanged."""

    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = nn.functional.mse_loss(input, self.target)
        return input


def test_content_loss_module_keeps_a_detached_target(device):
    ag.manual_seed(3)
    feat = nn.Linear(4, 4).to(device)
    target_img = ag.randn(2, 4, device=device)
    content = ContentLoss(feat(target_img))
    assert not content.target.requires_grad and "target" not in dict(content.named_buffers())
    img = ag.randn(2, 4, requires_grad=True, device=device)
    out = nn.Sequential(feat, content)(img)
    assert out.shape == (2, 4)
    content.loss.backward()
    expected = 2 * (feat(img) - feat(target_img)).detach() / 8
    np.testing.assert_allclose(_np(img.grad), _np(expected @ feat.weight), rtol=1e-5, atol=1e-7)
    before = img.detach().clone()
    for _ in range(20):  # optimise the image, not the network
        img.grad = None
        nn.Sequential(feat, content)(img)
        content.loss.backward()
        with ag.no_grad():
            img -= 0.5 * img.grad
    assert content.loss.item() < nn.functional.mse_loss(feat(before), content.target).item()


def test_training_loop_matches_torch(device):
    """Same initial weights and data: five SGD steps give the same weights in both libraries."""
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.GELU(),
                                 torch.nn.Dropout(0.0), torch.nn.Linear(8, 3)).double()
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Dropout(0.0), nn.Linear(8, 3)).double()
    model.load_state_dict({k: ag.tensor(v.numpy()) for k, v in tmodel.state_dict().items()})
    model.to(device)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    for _ in range(5):
        for m, root, dev, params in ((model, ag, device, model.parameters()),
                                     (tmodel, torch, "cpu", tmodel.parameters())):
            m.zero_grad()
            root.nn.functional.cross_entropy(m(root.tensor(x, device=dev)), root.tensor(y, device=dev),
                                             label_smoothing=0.1).backward()
            with root.no_grad():
                for p in params:
                    p -= 0.3 * p.grad
    for (k, v), (_, u) in zip(model.state_dict().items(), tmodel.state_dict().items()):
        np.testing.assert_allclose(_np(v), u.numpy(), rtol=1e-9, atol=1e-11, err_msg=k)


# ---- nn.utils ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type, device):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    ps = [nn.Parameter(ag.zeros(*g.shape, dtype=ag.float64, device=device)) for g in grads]
    tps = [torch.nn.Parameter(torch.zeros(*g.shape, dtype=torch.float64)) for g in grads]
    for p, tp, g in zip(ps, tps, grads):
        p.grad, tp.grad = ag.tensor(g, device=device), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ps, 0.5, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 0.5, norm_type)
    assert isinstance(total, ag.Tensor) and total.ndim == 0 and total.device == ps[0].device
    np.testing.assert_allclose(_np(total), ttotal.numpy(), rtol=1e-12)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(_np(p.grad), tp.grad.numpy(), rtol=1e-12)
    big = nn.utils.clip_grad_norm_(ps, 1e6, norm_type)  # below the limit: unchanged
    np.testing.assert_allclose(_np(big), 0.5, rtol=1e-5)


def test_clip_grad_value_and_vector_conversion(device):
    p = nn.Parameter(ag.zeros(3, device=device))
    p.grad = ag.tensor([-2.0, 0.1, 3.0], device=device)
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == pytest.approx([-1.0, 0.1, 1.0])
    lin = nn.Linear(3, 2).to(device)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    tvec = torch.nn.utils.parameters_to_vector([torch.tensor(_np(q)) for q in lin.parameters()])
    np.testing.assert_array_equal(_np(vec), tvec.numpy())
    weight = lin.weight
    nn.utils.vector_to_parameters(ag.arange(8.0, device=device), lin.parameters())
    assert lin.weight is weight and lin.weight.tolist() == [[0, 1, 2], [3, 4, 5]] and lin.bias.tolist() == [6, 7]
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters([1.0], lin.parameters())


def test_deepcopy_module(device):
    ours, _ = both(device)
    clone = copy.deepcopy(ours)
    assert clone.features[0].weight is not ours.features[0].weight
    assert clone.features[0].weight.device == ours.features[0].weight.device
    np.testing.assert_array_equal(_np(clone.features[0].weight), _np(ours.features[0].weight))
    assert isinstance(clone.features[0].weight, nn.Parameter)


@pytest.mark.parametrize("cast", ["half", "bfloat16", "float", "double"])
def test_module_float_casts_as_torch(cast, device):
    """Module.half/bfloat16/float/double cast floating parameters and buffers only, as torch's."""
    import torch
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).to(device)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    assert getattr(ours, cast)() is ours
    getattr(theirs, cast)()
    got = {k: str(v.dtype) for k, v in ours.state_dict().items()}
    assert got == {k: str(v.dtype) for k, v in theirs.state_dict().items()}

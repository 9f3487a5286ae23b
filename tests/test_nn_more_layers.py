"""The layers of issue 13 against torch.nn: each module is built with the same arguments on both sides, torch's
parameters and buffers are copied into ours, and the forward output, the input and parameter gradients and the
buffers after the call are compared in float64 on both devices; reprs and state_dict keys must be torch's.
Then the random layers' statistics (RReLU, the dropouts) and the errors torch raises."""
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag

_rng = np.random.default_rng(13)


def _x(*shape):
    return _rng.standard_normal(shape)


def _pos(*shape):
    return _rng.uniform(0.5, 2.0, shape)


def _const(a):
    return ("c", np.asarray(a))


def _unpool(pool):
    return lambda m, nn, x: m(*getattr(nn, pool)(2, return_indices=True)(x))


_x4, _x3, _x5 = _x(2, 4, 5, 6), _x(2, 4, 7), _x(1, 2, 4, 5, 6)

# id -> (constructor(nn), inputs (arrays get requires_grad; _const() ones do not), call(module, nn, *inputs) or None,
#        train: run in training mode)
CASES = [
    # activations
    ("PReLU", lambda nn: nn.PReLU(), [_x3], None),
    ("PReLU_channels", lambda nn: nn.PReLU(4, init=0.1), [_x4], None),
    ("PReLU_1d_input", lambda nn: nn.PReLU(), [_x(5)], None),
    ("RReLU_eval", lambda nn: nn.RReLU(0.1, 0.3).eval(), [_x3], None),
    ("RReLU_inplace_eval", lambda nn: nn.RReLU(inplace=True).eval(), [_x3], lambda m, nn, x: m(x * 1)),
    ("Softmax2d", lambda nn: nn.Softmax2d(), [_x4], None),
    ("Softmax2d_3d", lambda nn: nn.Softmax2d(), [_x(3, 2, 4)], None),
    ("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.7), [_x3], None),
    ("ReLU6", lambda nn: nn.ReLU6(), [_x3 * 4], None),
    ("Hardswish", lambda nn: nn.Hardswish(), [_x3 * 3], None),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid(), [_x3 * 3], None),
    ("Mish", lambda nn: nn.Mish(), [_x3], None),
    ("SELU", lambda nn: nn.SELU(), [_x3], None),
    ("CELU", lambda nn: nn.CELU(0.5), [_x3], None),
    ("GLU", lambda nn: nn.GLU(1), [_x3], None),
    ("LogSigmoid", lambda nn: nn.LogSigmoid(), [_x3], None),
    ("Softmin", lambda nn: nn.Softmin(1), [_x3], None),
    ("Threshold", lambda nn: nn.Threshold(0.1, 20.0), [_x3], None),
    # normalization
    ("InstanceNorm1d", lambda nn: nn.InstanceNorm1d(4), [_x3], None),
    ("InstanceNorm1d_unbatched_affine", lambda nn: nn.InstanceNorm1d(4, affine=True), [_x(4, 6)], None),
    ("InstanceNorm2d_running", lambda nn: nn.InstanceNorm2d(4, affine=True, track_running_stats=True), [_x4], None),
    ("InstanceNorm2d_running_eval",
     lambda nn: nn.InstanceNorm2d(4, momentum=0.3, track_running_stats=True), [_x4],
     lambda m, nn, x: (m(x), m.eval()(x * 2))[1]),
    ("InstanceNorm2d_cumulative", lambda nn: nn.InstanceNorm2d(4, momentum=None, track_running_stats=True), [_x4],
     None),
    ("InstanceNorm3d", lambda nn: nn.InstanceNorm3d(2, eps=1e-3, affine=True, bias=False), [_x5], None),
    ("LocalResponseNorm_3d", lambda nn: nn.LocalResponseNorm(3), [_x3], None),
    ("LocalResponseNorm_4d", lambda nn: nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0), [_x4], None),
    ("LocalResponseNorm_5d", lambda nn: nn.LocalResponseNorm(3, alpha=0.2), [_x5], None),
    # padding
    ("ZeroPad1d", lambda nn: nn.ZeroPad1d((1, 2)), [_x3], None),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d(2), [_x4], None),
    ("ZeroPad2d_crop", lambda nn: nn.ZeroPad2d((1, -1, -2, 0)), [_x4], None),
    ("ZeroPad3d", lambda nn: nn.ZeroPad3d((1, 0, 2, 1, 0, 1)), [_x5], None),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), [_x3], None),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d((1, 0, 2, 1), -1.0), [_x4], None),
    ("ConstantPad3d", lambda nn: nn.ConstantPad3d(1, 0.5), [_x5], None),
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d((3, 1)), [_x3], None),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d((1, 2, 3, 0)), [_x4], None),
    ("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), [_x5], None),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d(3), [_x3], None),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d((2, 0, 1, 3)), [_x4], None),
    ("ReplicationPad3d", lambda nn: nn.ReplicationPad3d((1, 2, 0, 1, 2, 0)), [_x5], None),
    ("CircularPad1d", lambda nn: nn.CircularPad1d((2, 1)), [_x3], None),
    ("CircularPad2d", lambda nn: nn.CircularPad2d(1), [_x4], None),
    ("CircularPad3d", lambda nn: nn.CircularPad3d((1, 0, 0, 1, 1, 1)), [_x5], None),
    # resampling
    ("Upsample_nearest", lambda nn: nn.Upsample(scale_factor=2), [_x4], None),
    ("Upsample_bilinear_size", lambda nn: nn.Upsample(size=(3, 8), mode="bilinear"), [_x4], None),
    ("Upsample_linear_corners", lambda nn: nn.Upsample(scale_factor=1.5, mode="linear", align_corners=True), [_x3],
     None),
    ("Upsample_trilinear_tuple", lambda nn: nn.Upsample(scale_factor=(2, 1, 1.5), mode="trilinear"), [_x5], None),
    ("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(size=(7, 9)), [_x4], None),
    ("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), [_x4], None),
    ("PixelShuffle", lambda nn: nn.PixelShuffle(2), [_x4], None),
    ("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(2), [_x(2, 1, 4, 6)], None),
    ("ChannelShuffle", lambda nn: nn.ChannelShuffle(2), [_x4], None),
    ("Fold", lambda nn: nn.Fold((4, 5), 2), [_x(2, 12, 12)], None),
    ("Fold_strided", lambda nn: nn.Fold((5, 5), (2, 3), dilation=1, padding=1, stride=2), [_x(6, 9)], None),
    ("Unfold", lambda nn: nn.Unfold(2), [_x4], None),
    ("Unfold_padded", lambda nn: nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2), [_x4], None),
    # pooling
    ("MaxPool1d", lambda nn: nn.MaxPool1d(3, 2, 1), [_x3], None),
    ("MaxPool1d_indices", lambda nn: nn.MaxPool1d(2, return_indices=True, ceil_mode=True), [_x3], None),
    ("MaxPool3d", lambda nn: nn.MaxPool3d(2, padding=1), [_x5], None),
    ("MaxPool3d_indices", lambda nn: nn.MaxPool3d((1, 2, 3), return_indices=True), [_x5], None),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(3, 2, 1), [_x3], None),
    ("AvgPool1d_no_pad_count", lambda nn: nn.AvgPool1d(2, padding=1, count_include_pad=False, ceil_mode=True), [_x3],
     None),
    ("AvgPool3d", lambda nn: nn.AvgPool3d(2, ceil_mode=True), [_x5], None),
    ("AvgPool3d_divisor", lambda nn: nn.AvgPool3d((1, 2, 2), stride=1, divisor_override=3), [_x5], None),
    ("AdaptiveMaxPool1d", lambda nn: nn.AdaptiveMaxPool1d(3), [_x3], None),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d((2, 4)), [_x4], None),
    ("AdaptiveMaxPool2d_indices", lambda nn: nn.AdaptiveMaxPool2d((3, None), return_indices=True), [_x4], None),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(4), [_x3], None),
    ("AdaptiveAvgPool3d", lambda nn: nn.AdaptiveAvgPool3d((3, None, 2)), [_x5], None),
    ("LPPool1d", lambda nn: nn.LPPool1d(2, 3, stride=2), [_pos(2, 3, 8)], None),
    ("LPPool2d", lambda nn: nn.LPPool2d(3, 2), [_pos(2, 3, 4, 6)], None),
    ("LPPool3d", lambda nn: nn.LPPool3d(1.5, (1, 2, 2), ceil_mode=True), [_pos(1, 2, 2, 5, 5)], None),
    ("MaxUnpool1d", lambda nn: nn.MaxUnpool1d(2), [_x3], _unpool("MaxPool1d")),
    ("MaxUnpool2d", lambda nn: nn.MaxUnpool2d(2), [_x4], _unpool("MaxPool2d")),
    ("MaxUnpool2d_output_size", lambda nn: nn.MaxUnpool2d(2, stride=2), [_x(1, 2, 5, 7)],
     lambda m, nn, x: m(*nn.MaxPool2d(2, return_indices=True)(x), output_size=(5, 7))),
    ("AdaptiveMaxPool3d", lambda nn: nn.AdaptiveMaxPool3d((2, 3, 4)), [_x5], None),
    ("AdaptiveMaxPool3d_indices", lambda nn: nn.AdaptiveMaxPool3d((3, None, 2), return_indices=True), [_x5], None),
    ("AdaptiveMaxPool3d_unbatched", lambda nn: nn.AdaptiveMaxPool3d(2, return_indices=True), [_x(2, 3, 5, 4)], None),
    ("MaxUnpool3d", lambda nn: nn.MaxUnpool3d(2), [_x5],
     lambda m, nn, x: m(*nn.MaxPool3d(2, return_indices=True)(x), output_size=x.shape)),
    ("MaxUnpool3d_strided", lambda nn: nn.MaxUnpool3d((1, 2, 2), stride=(1, 2, 1)), [_x(2, 3, 4, 5)],
     lambda m, nn, x: m(*nn.MaxPool3d((1, 2, 2), stride=(1, 2, 1), return_indices=True)(x), output_size=[3, 4, 5])),
    # convolutions
    ("Conv3d", lambda nn: nn.Conv3d(2, 3, 2, padding=1), [_x5], None),
    ("Conv3d_groups_reflect", lambda nn: nn.Conv3d(2, 4, (1, 2, 3), stride=(1, 2, 1), groups=2, bias=False,
                                                   padding=(0, 1, 1), padding_mode="reflect"), [_x5], None),
    ("Conv3d_same_dilated", lambda nn: nn.Conv3d(2, 2, 3, padding="same", dilation=(1, 2, 1)), [_x5], None),
    ("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1), [_x3], None),
    ("ConvTranspose1d_output_size", lambda nn: nn.ConvTranspose1d(4, 4, 3, stride=3, groups=2, dilation=2), [_x3],
     lambda m, nn, x: m(x, output_size=[24])),
    ("ConvTranspose3d", lambda nn: nn.ConvTranspose3d(2, 3, 2, stride=(2, 1, 2), bias=False), [_x5], None),
    ("ConvTranspose3d_unbatched", lambda nn: nn.ConvTranspose3d(2, 1, (1, 2, 2), padding=(0, 1, 0)),
     [_x(2, 3, 4, 3)], None),
    # embedding bags, distances
    ("EmbeddingBag_mean", lambda nn: nn.EmbeddingBag(10, 3), [_const([1, 2, 4, 5, 4, 3, 2, 9]), _const([0, 4])],
     None),
    ("EmbeddingBag_sum_weights", lambda nn: nn.EmbeddingBag(10, 3, mode="sum"),
     [_const([1, 2, 4, 5, 4, 3]), _const([0, 2, 2, 5]), _x(6)], None),
    ("EmbeddingBag_max", lambda nn: nn.EmbeddingBag(10, 3, mode="max"), [_const([1, 2, 4, 5, 4, 3]),
                                                                         _const([0, 3, 3])], None),
    ("EmbeddingBag_2d_padding", lambda nn: nn.EmbeddingBag(10, 3, padding_idx=2), [_const([[1, 2, 4], [2, 2, 2]])],
     None),
    ("EmbeddingBag_last_offset", lambda nn: nn.EmbeddingBag(6, 2, mode="sum", include_last_offset=True),
     [_const([1, 2, 4, 5, 3]), _const([0, 2, 2, 5])], None),  # (the last offset is the input's length)
    ("EmbeddingBag_max_padding", lambda nn: nn.EmbeddingBag(6, 2, mode="max", padding_idx=-1),
     [_const([1, 5, 5, 2]), _const([0, 1, 3])], None),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(), [_x(4, 3), _x(4, 3)], None),
    ("CosineSimilarity_dim", lambda nn: nn.CosineSimilarity(dim=0, eps=1e-6), [_x(4, 3), _x(1, 3)], None),
    ("PairwiseDistance", lambda nn: nn.PairwiseDistance(), [_x(4, 3), _x(4, 3)], None),
    ("PairwiseDistance_p1", lambda nn: nn.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True), [_x(4, 3), _x(4, 3)],
     None),
    # losses
    ("MultiLabelMarginLoss", lambda nn: nn.MultiLabelMarginLoss(), [_x(2, 4), _const([[3, 0, -1, 1], [1, 2, 3, -1]])],
     None),
    ("MultiLabelMarginLoss_none", lambda nn: nn.MultiLabelMarginLoss(reduction="none"),
     [_x(3, 4), _const([[3, 0, 0, 1], [-1, 2, 3, 1], [0, 1, 2, 3]])], None),
    ("MultiLabelMarginLoss_1d", lambda nn: nn.MultiLabelMarginLoss(reduction="sum"), [_x(4), _const([2, -1, 0, 1])],
     None),
    ("TripletMarginWithDistanceLoss", lambda nn: nn.TripletMarginWithDistanceLoss(), [_x(4, 3), _x(4, 3), _x(4, 3)],
     None),
    ("TripletMarginWithDistanceLoss_swap", lambda nn: nn.TripletMarginWithDistanceLoss(
        distance_function=nn.PairwiseDistance(p=1.0), margin=2.0, swap=True, reduction="none"),
     [_x(4, 3), _x(4, 3), _x(4, 3)], None),
    ("NLLLoss2d", lambda nn: nn.NLLLoss2d(ignore_index=1), [_x(2, 3, 2, 2), _const([[[0, 1], [2, 2]], [[1, 0], [0, 2]]])],
     None),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), [_x(5, 3), _x(5, 4)], None),
    ("Bilinear_no_bias", lambda nn: nn.Bilinear(2, 3, 4, bias=False), [_x(3, 2), _x(3, 3)], None),
]


def _build(m, ctor, device=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (NLLLoss2d is deprecated)
        mod = ctor(m.nn)
    if m is torch:
        return mod.double()
    return mod.double().to(device)


def _inputs(m, specs, device):
    kw = {"device": device} if m is ag else {}
    return [m.tensor(s[1], **kw) if isinstance(s, tuple) else m.tensor(s, requires_grad=True, **kw) for s in specs]


def _outputs(y):
    return list(y) if isinstance(y, tuple) else [y]


def _np(t):
    return t.detach().cpu().numpy()


def _copy_state(src, dst, device):
    dst.load_state_dict({k: ag.tensor(v.detach().numpy(), device=device) for k, v in src.state_dict().items()})


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, device):
    _, ctor, specs, call = case
    torch.manual_seed(0)
    mt, ma = _build(torch, ctor), _build(ag, ctor, device)
    assert repr(ma) == repr(mt)
    assert list(ma.state_dict()) == list(mt.state_dict())
    assert [n for n, _ in ma.named_parameters()] == [n for n, _ in mt.named_parameters()]
    _copy_state(mt, ma, device)
    ta, tt = _inputs(ag, specs, device), _inputs(torch, specs, "cpu")
    call = call or (lambda m, nn, *xs: m(*xs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ya, yt = _outputs(call(ma, ag.nn, *ta)), _outputs(call(mt, torch.nn, *tt))
    assert len(ya) == len(yt)
    for a, t in zip(ya, yt):
        assert tuple(a.shape) == tuple(t.shape) and a.dtype.is_floating_point == t.dtype.is_floating_point
        np.testing.assert_allclose(_np(a), _np(t), rtol=1e-9, atol=1e-11)
    w = _rng.standard_normal(tuple(yt[0].shape))
    (ya[0] * ag.tensor(w, device=device)).sum().backward()
    (yt[0] * torch.tensor(w)).sum().backward()
    for a, t in zip(ta, tt):
        if t.requires_grad:  # (1e-7: torch's double hardsigmoid backward multiplies by 1/6 rounded to float32)
            np.testing.assert_allclose(_np(a.grad), t.grad.numpy(), rtol=1e-7, atol=1e-10)
    for (name, pa), (_, pt) in zip(ma.named_parameters(), mt.named_parameters()):
        np.testing.assert_allclose(_np(pa.grad), pt.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
    for (name, ba), (_, bt) in zip(ma.state_dict().items(), mt.state_dict().items()):
        np.testing.assert_allclose(_np(ba), bt.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


_TRAINABLE = [c for c in CASES if c[0] in (
    "PReLU", "PReLU_channels", "InstanceNorm1d_unbatched_affine", "InstanceNorm2d_running", "InstanceNorm3d",
    "Conv3d", "Conv3d_groups_reflect", "ConvTranspose1d", "ConvTranspose3d", "EmbeddingBag_mean",
    "EmbeddingBag_sum_weights", "EmbeddingBag_max", "EmbeddingBag_2d_padding", "Bilinear")]


@pytest.mark.parametrize("case", _TRAINABLE, ids=[c[0] for c in _TRAINABLE])
def test_ten_adam_steps_match_torch(case, device):
    _, ctor, specs, call = case
    torch.manual_seed(1)
    mt, ma = _build(torch, ctor), _build(ag, ctor, device)
    _copy_state(mt, ma, device)
    ot, oa = torch.optim.Adam(mt.parameters(), lr=0.05), ag.optim.Adam(ma.parameters(), lr=0.05)
    ta, tt = _inputs(ag, specs, device), _inputs(torch, specs, "cpu")
    call = call or (lambda m, nn, *xs: m(*xs))
    target = None
    for step in range(10):
        ot.zero_grad()
        oa.zero_grad()
        yt, ya = _outputs(call(mt, torch.nn, *tt))[0], _outputs(call(ma, ag.nn, *ta))[0]
        if target is None:  # (a loss whose gradients are not all rounding noise, as sum(y^2) is at a norm's bias)
            target = _rng.standard_normal(tuple(yt.shape))
        ((yt - torch.tensor(target)) ** 2).sum().backward()
        ((ya - ag.tensor(target, device=device)) ** 2).sum().backward()
        ot.step()
        oa.step()
        for (name, a), (_, t) in zip(ma.state_dict().items(), mt.state_dict().items()):
            np.testing.assert_allclose(_np(a), t.numpy(), rtol=1e-8, atol=1e-10, err_msg=f"{name}, step {step}")


@pytest.mark.parametrize("ctor", [lambda nn: nn.Conv3d(4, 6, 3), lambda nn: nn.ConvTranspose1d(8, 6, 5, groups=2),
                                  lambda nn: nn.ConvTranspose3d(3, 8, 2, bias=False)], ids=["Conv3d", "ConvTranspose1d",
                                                                                          "ConvTranspose3d"])
def test_conv_default_init_is_torchs(ctor):
    """Our own initialisation (not copied): weight and bias uniform within torch's bound 1/sqrt(fan_in)."""
    mt, ma = ctor(torch.nn), ctor(ag.nn)
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(mt.weight)
    bound = 1 / np.sqrt(fan_in)
    for (name, pa), (_, pt) in zip(ma.named_parameters(), mt.named_parameters()):
        a = pa.detach().numpy()
        assert a.shape == tuple(pt.shape) and a.dtype == np.float32, name
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.5 * bound, name
    assert ma.weight.numel() > 100 and abs(ma.weight.detach().numpy().std() - bound / np.sqrt(3)) < 0.15 * bound


def test_prelu_and_embedding_bag_default_init():
    np.testing.assert_array_equal(ag.nn.PReLU(3, init=0.3).weight.detach().numpy(), np.full(3, 0.3, np.float32))
    ag.manual_seed(0)
    w = ag.nn.EmbeddingBag(100, 20, padding_idx=3).weight.detach().numpy()
    assert abs(w.std() - 1) < 0.05 and abs(w.mean()) < 0.05 and (w[3] == 0).all()


def test_every_torch_loss_module_exists():
    skip = {"AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss"}
    names = [n for n in dir(torch.nn) if n.endswith("Loss") and n not in skip]
    assert [n for n in names if not hasattr(ag.nn, n)] == []
    for n in names:
        assert issubclass(getattr(ag.nn, n), ag.nn.Module)


def test_conv_transpose_is_one_family():
    assert issubclass(ag.nn.ConvTranspose1d, ag.nn.modules.conv._ConvTransposeNd)
    assert not issubclass(ag.nn.AvgPool3d, ag.nn.AvgPool2d) and not issubclass(ag.nn.MaxPool1d, ag.nn.MaxPool2d)


def test_instance_norm_state_dict_loads_old_running_stats_with_an_error():
    sd = {"running_mean": torch.zeros(3), "running_var": torch.ones(3)}
    with pytest.raises(RuntimeError) as ours:
        ag.nn.InstanceNorm1d(3).load_state_dict({k: ag.tensor(v.numpy()) for k, v in sd.items()})
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.InstanceNorm1d(3).load_state_dict(sd)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name, args", [("relu_", ()), ("elu_", (0.5,)), ("celu_", (2.0,)), ("selu_", ()),
                                        ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.1, 3.0)),
                                        ("rrelu_", (0.1, 0.3, False))])
def test_inplace_functional_activations(name, args, device):
    x = _x(3, 4)
    xa, xt = ag.tensor(x, device=device), torch.tensor(x)
    ya, yt = getattr(ag.nn.functional, name)(xa, *args), getattr(torch.nn.functional, name)(xt, *args)
    assert ya is xa
    np.testing.assert_allclose(_np(xa), xt.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_with_indices_functions(dims):
    x = _x(*(2, 3) + (4,) * dims)
    name = f"max_pool{dims}d_with_indices"
    for a, t in zip(getattr(ag.nn.functional, name)(ag.tensor(x), 2), getattr(torch.nn.functional, name)(
            torch.tensor(x), 2)):
        np.testing.assert_array_equal(_np(a), t.numpy())
    name = f"adaptive_max_pool{dims}d_with_indices"
    for a, t in zip(getattr(ag.nn.functional, name)(ag.tensor(x), 3), getattr(torch.nn.functional, name)(
            torch.tensor(x), 3)):
        np.testing.assert_array_equal(_np(a), t.numpy())


def test_nllloss2d_warns():
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        ag.nn.NLLLoss2d()


# ---- the random layers ------------------------------------------------------------------------------------
def test_rrelu_training_draws_slopes(device):
    ag.manual_seed(1)
    lower, upper = 0.1, 0.4
    x = ag.tensor(-np.abs(_x(20000)) - 0.1, device=device, requires_grad=True)
    m = ag.nn.RReLU(lower, upper)
    y = m(x)
    slope = (y / x).detach().cpu().numpy()
    assert slope.min() >= lower and slope.max() <= upper
    n = slope.size
    se = (upper - lower) / np.sqrt(12 * n)
    assert abs(slope.mean() - (lower + upper) / 2) < 5 * se
    assert abs(slope.var() - (upper - lower) ** 2 / 12) < 0.05 * (upper - lower) ** 2 / 12
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), slope, rtol=1e-6)  # the drawn slope is the gradient
    pos = ag.tensor(np.abs(_x(50)) + 0.1, device=device)
    assert ag.equal(m(pos), pos)
    assert not np.allclose(m(x).detach().cpu().numpy(), y.detach().cpu().numpy())  # a fresh draw each call
    m.eval()
    np.testing.assert_allclose(m(x).detach().cpu().numpy(), x.detach().cpu().numpy() * (lower + upper) / 2)


def test_rrelu_inplace_training(device):
    ag.manual_seed(2)
    x0 = -np.abs(_x(1000)) - 0.1
    x = ag.tensor(x0, device=device)
    y = ag.nn.functional.rrelu(x, 0.2, 0.3, training=True, inplace=True)
    assert y is x
    slope = x.cpu().numpy() / x0
    assert slope.min() >= 0.2 and slope.max() <= 0.3 and slope.std() > 0.02


@pytest.mark.parametrize("name, shape, channel_dims", [("Dropout1d", (8, 30, 10), 2), ("Dropout1d", (30, 10), 1),
                                                       ("Dropout3d", (4, 30, 2, 3, 2), 2),
                                                       ("Dropout3d", (30, 2, 3, 2), 1)])
def test_channel_dropout_statistics(name, shape, channel_dims, device):
    ag.manual_seed(3)
    p = 0.3
    m = getattr(ag.nn, name)(p)
    x = ag.ones(*shape, device=device)
    y = m(x).cpu().numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / (1 - p))}
    per_channel = y.reshape(int(np.prod(shape[:channel_dims])), -1)
    assert (per_channel == per_channel[:, :1]).all()  # a channel is kept or dropped whole
    kept = (per_channel[:, 0] > 0).mean()
    n = per_channel.shape[0]
    assert abs(kept - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12
    m.eval()
    assert m(x) is x


def test_alpha_dropout_keeps_mean_and_variance(device):
    ag.manual_seed(4)
    p = 0.2
    x = ag.tensor(_x(200000), device=device)
    y = ag.nn.AlphaDropout(p)(x).cpu().numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    xn = x.cpu().numpy()
    dropped = np.isclose(y, -alpha * a + alpha * a * p)
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(y[~dropped], a * xn[~dropped] + alpha * a * p, rtol=1e-12)
    assert ag.nn.AlphaDropout(p).eval()(x) is x


def test_alpha_dropout_gradient_is_the_scale(device):
    ag.manual_seed(5)
    x = ag.tensor(_x(1000), device=device, requires_grad=True)
    y = ag.nn.functional.alpha_dropout(x, 0.5, training=True)
    y.sum().backward()
    g = x.grad.cpu().numpy()
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha * alpha * 0.5 + 1) * 0.5)
    assert set(np.round(np.unique(g), 12)) == {0.0, round(a, 12)}


def test_feature_alpha_dropout_drops_whole_channels(device):
    ag.manual_seed(6)
    x = ag.tensor(_x(6, 40, 5), device=device)
    y = ag.nn.FeatureAlphaDropout(0.5)(x).cpu().numpy()
    same = np.isclose(y, y[..., :1]).all(-1)
    varied = ~np.isclose(x.cpu().numpy(), x.cpu().numpy()[..., :1]).all(-1)
    dropped = same & varied
    assert 0.3 < dropped.mean() < 0.7
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ag.nn.functional.feature_alpha_dropout(ag.zeros(3), 0.5, True)


# ---- errors -------------------------------------------------------------------------------------------------
ERRORS = [
    ("Hardtanh bounds", lambda m: m.nn.Hardtanh(1.0, 0.5)),
    ("InstanceNorm dims", lambda m: m.nn.InstanceNorm2d(3)(m.zeros(3, 4))),
    ("InstanceNorm affine channels", lambda m: m.nn.InstanceNorm1d(3, affine=True)(m.zeros(2, 4, 5))),
    ("InstanceNorm one spatial element", lambda m: m.nn.InstanceNorm1d(3)(m.zeros(2, 3, 1))),
    ("LocalResponseNorm dims", lambda m: m.nn.LocalResponseNorm(2)(m.zeros(2, 3))),
    ("PReLU channels", lambda m: m.nn.PReLU(3)(m.zeros(2, 4))),
    ("PReLU weight dims", lambda m: m.nn.functional.prelu(m.zeros(2, 4), m.zeros(2, 2))),
    ("RReLU bounds", lambda m: m.nn.RReLU(0.5, 0.2)(m.zeros(3))),
    ("Softmax2d dims", lambda m: m.nn.Softmax2d()(m.zeros(3, 4))),
    ("ChannelShuffle divisible", lambda m: m.nn.ChannelShuffle(4)(m.zeros(2, 6, 3))),
    ("ChannelShuffle groups", lambda m: m.nn.functional.channel_shuffle(m.zeros(2, 6, 3), 0)),
    ("ChannelShuffle dims", lambda m: m.nn.ChannelShuffle(2)(m.zeros(2, 6))),
    ("CircularPad dims", lambda m: m.nn.CircularPad1d(1)(m.zeros(2, 2, 2, 2))),
    ("ReflectionPad too wide", lambda m: m.nn.ReflectionPad1d(4)(m.zeros(1, 2, 3))),
    ("Dropout p", lambda m: m.nn.Dropout1d(1.5)),
    ("Dropout1d dims", lambda m: m.nn.Dropout1d()(m.zeros(3))),
    ("ConvTranspose padding mode", lambda m: m.nn.ConvTranspose1d(2, 2, 2, padding_mode="reflect")),
    ("ConvTranspose output_size", lambda m: m.nn.ConvTranspose1d(2, 2, 3, stride=2)(m.zeros(1, 2, 4), [20])),
    ("ConvTranspose output_size length", lambda m: m.nn.ConvTranspose3d(2, 2, 2)(m.zeros(1, 2, 3, 3, 3), [4, 4])),
    ("Conv3d groups", lambda m: m.nn.Conv3d(3, 4, 2, groups=2)),
    ("EmbeddingBag padding_idx", lambda m: m.nn.EmbeddingBag(5, 2, padding_idx=5)),
    ("EmbeddingBag mode", lambda m: m.nn.EmbeddingBag(5, 2, mode="min")(m.tensor([[1, 2]]))),
    ("EmbeddingBag offsets 2d", lambda m: m.nn.EmbeddingBag(5, 2)(m.tensor([[1, 2]]), m.tensor([0])), "type"),
    ("EmbeddingBag no offsets", lambda m: m.nn.EmbeddingBag(5, 2)(m.tensor([1, 2]))),
    ("EmbeddingBag first offset", lambda m: m.nn.EmbeddingBag(5, 2)(m.tensor([1, 2]), m.tensor([1])), "type"),
    ("EmbeddingBag last offset", lambda m: m.nn.EmbeddingBag(5, 2)(m.tensor([1, 2]), m.tensor([0, 3]))),
    ("EmbeddingBag weights mode", lambda m: m.nn.EmbeddingBag(5, 2)(m.tensor([1, 2]), m.tensor([0]),
                                                                  m.ones(2))),
    ("EmbeddingBag weights shape", lambda m: m.nn.EmbeddingBag(5, 2, mode="sum")(m.tensor([1, 2]), m.tensor([0]),
                                                                              m.ones(3))),
    ("MultiLabelMarginLoss target size", lambda m: m.nn.MultiLabelMarginLoss()(m.zeros(2, 4),
                                                                               m.tensor([[3, 0, -1, 1]]))),
    ("MultiLabelMarginLoss range", lambda m: m.nn.MultiLabelMarginLoss()(m.zeros(1, 4), m.tensor([[3, 0, -1, 7]]))),
    ("MultiLabelMarginLoss dims", lambda m: m.nn.MultiLabelMarginLoss()(m.zeros(2, 3, 4),
                                                                        m.zeros(2, 3, 4, dtype=m.long))),
    ("TripletMarginWithDistanceLoss margin", lambda m: m.nn.TripletMarginWithDistanceLoss(margin=0.0)),
    ("TripletMarginWithDistanceLoss dims", lambda m: m.nn.TripletMarginWithDistanceLoss()(m.zeros(2, 3),
                                                                                          m.zeros(2, 3), m.zeros(3))),
    ("PixelShuffle channels", lambda m: m.nn.PixelShuffle(2)(m.zeros(1, 3, 2, 2))),
    ("Fold blocks", lambda m: m.nn.Fold((4, 5), 2)(m.zeros(1, 4, 5))),
    ("AdaptiveMaxPool3d dims", lambda m: m.nn.AdaptiveMaxPool3d(2)(m.zeros(3, 4))),
    ("MaxUnpool3d dims", lambda m: m.nn.functional.max_unpool3d(m.zeros(2, 2, 3), m.zeros(2, 2, 3, dtype=m.long), 2)),
    ("MaxUnpool3d index dtype", lambda m: m.nn.functional.max_unpool3d(m.zeros(1, 2, 2, 3),
                                                                       m.zeros(1, 2, 2, 3, dtype=m.int32), 2)),
    ("MaxUnpool3d index shape", lambda m: m.nn.functional.max_unpool3d(m.zeros(1, 2, 2, 3),
                                                                       m.zeros(1, 2, 2, 2, dtype=m.long), 2)),
    ("MaxUnpool3d invalid index", lambda m: m.nn.functional.max_unpool3d(m.zeros(1, 1, 1, 2),
                                                                         m.tensor([[[[0, 99]]]]), 2)),
]


@pytest.mark.parametrize("case", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(case):
    fn = case[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            fn(torch)
        with pytest.raises(Exception) as ours:
            fn(ag)
    assert type(ours.value) is type(theirs.value)
    if case[2:] != ("type",):  # (those name torch's Tensor type or print a tensor in the message)
        assert str(ours.value) == str(theirs.value)


# ---- the new functional composites against finite differences (float64) ------------------------------------------
def _idx(a):
    return ag.tensor(np.asarray(a))


GRADCHECK = [
    ("prelu", lambda F, x, w: F.prelu(x, w), [_x(2, 3, 4), _rng.uniform(0.1, 0.5, 3)]),
    ("rrelu_eval", lambda F, x: F.rrelu(x, 0.1, 0.3), [_x(3, 4)]),
    ("local_response_norm", lambda F, x: F.local_response_norm(x, 3, alpha=0.5, k=1.5), [_x(2, 4, 3, 2)]),
    ("instance_norm", lambda F, x, w, b: F.instance_norm(x, weight=w, bias=b), [_x(2, 3, 5), _x(3), _x(3)]),
    ("channel_shuffle", lambda F, x: F.channel_shuffle(x, 3), [_x(2, 6, 2)]),
    ("embedding_bag_mean", lambda F, w: F.embedding_bag(_idx([1, 2, 1, 4, 0]), w, _idx([0, 3, 3])), [_x(5, 2)]),
    ("embedding_bag_sum_weights", lambda F, w, s: F.embedding_bag(_idx([1, 2, 1, 4]), w, _idx([0, 1]), mode="sum",
                                                                  per_sample_weights=s), [_x(5, 2), _x(4)]),
    ("embedding_bag_max", lambda F, w: F.embedding_bag(_idx([[1, 2], [4, 0]]), w, mode="max"), [_x(5, 3)]),
    ("multilabel_margin", lambda F, x: F.multilabel_margin_loss(x, _idx([[3, 0, -1, 1], [1, 2, 3, -1]]),
                                                                reduction="none"), [_x(2, 4)]),
    ("triplet_with_distance", lambda F, a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda u, v: (u - v).pow(2).sum(-1), swap=True, reduction="none"),
     [_x(4, 3), _x(4, 3), _x(4, 3)]),
    ("adaptive_max_pool3d", lambda F, x: F.adaptive_max_pool3d(x, (2, 2, 3)), [_x(1, 2, 3, 4, 5)]),
    ("max_unpool3d", lambda F, x: F.max_unpool3d(x, _idx(np.arange(8).reshape(1, 1, 2, 2, 2) * 3), 2),
     [_x(1, 1, 2, 2, 2)]),
    ("alpha_dropout_eval", lambda F, x: F.alpha_dropout(x, 0.3, training=False), [_x(3, 2)]),
]


@pytest.mark.parametrize("case", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(case):
    _, fn, arrays = case
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]

    def f(*ts):
        return fn(ag.nn.functional, *ts)
    assert ag.autograd.gradcheck(f, xs)
    assert ag.autograd.gradgradcheck(f, xs)


def test_embedding_bag_from_pretrained():
    w = _x(4, 3)
    for m in (ag, torch):
        bag = m.nn.EmbeddingBag.from_pretrained(m.tensor(w), mode="sum", padding_idx=1)
        assert not bag.weight.requires_grad and repr(bag) == "EmbeddingBag(4, 3, mode='sum', padding_idx=1)"
    a = ag.nn.EmbeddingBag.from_pretrained(ag.tensor(w), freeze=False, mode="max")(ag.tensor([[0, 2], [3, 3]]))
    t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), freeze=False, mode="max")(torch.tensor([[0, 2], [3, 3]]))
    np.testing.assert_allclose(_np(a), _np(t))

"""nn.init: each function fills in place under no_grad and returns its argument; distributions are checked
statistically (bounds for uniform ones, mean and std within tolerance for normal ones), gains and fans
against torch.nn.init, and the default initialisation of the layers against PyTorch's bounds."""
import math

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import nn

SHAPE = (200, 300)  # fan_in 300, fan_out 200: 60000 samples


def _leaf(*shape, device="cpu"):
    return nn.Parameter(ag.empty(*shape, device=device))


def _np(t):
    """Our tensor's values as a numpy array, from either device."""
    return t.detach().cpu().numpy()


@pytest.fixture(autouse=True)
def _seeded():
    ag.manual_seed(1234)  # (the draws are checked statistically; a fixed seed keeps the test deterministic)


# NOTE: the bounds are 5 standard errors of the sample mean / standard deviation (a true distribution fails
# them with probability ~1e-6), not a fixed 2%: a 9,216-element conv weight has a mean's standard error of 1%.
def _check_uniform(t, bound):
    v = _np(t)
    n, s = v.size, bound / math.sqrt(3)
    assert v.min() >= -bound and v.max() <= bound
    assert v.min() < -0.98 * bound and v.max() > 0.98 * bound  # fills the interval
    assert abs(v.std() - s) < 5 * s * math.sqrt(0.2 / n)  # (uniform: var of the sample std ~ 0.2 s^2 / n)
    assert abs(v.mean()) < 5 * s / math.sqrt(n)


def _check_normal(t, std, mean=0.0):
    v = _np(t)
    n = v.size
    assert abs(v.std() - std) < 5 * std / math.sqrt(2 * n)
    assert abs(v.mean() - mean) < 5 * std / math.sqrt(n) + 1e-12


def test_functions_are_in_place_under_no_grad(device):
    p = _leaf(20, 30, device=device)
    for fn in (lambda t: nn.init.uniform_(t), lambda t: nn.init.normal_(t), lambda t: nn.init.constant_(t, 0.3),
               nn.init.zeros_, nn.init.ones_, nn.init.xavier_uniform_, nn.init.xavier_normal_,
               nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_, nn.init.trunc_normal_):
        out = fn(p)
        assert out is p and p.is_leaf and p.requires_grad and p.grad_fn is None and p.device.type == device


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        nn.init.xavier_uniform_(ag.empty(3))


def test_uniform_normal_constant(device):
    _check_uniform(nn.init.uniform_(ag.empty(*SHAPE, device=device), -0.5, 0.5), 0.5)
    v = _np(nn.init.uniform_(ag.empty(*SHAPE, device=device), 2.0, 3.0))
    assert v.min() >= 2.0 and v.max() <= 3.0
    _check_normal(nn.init.normal_(ag.empty(*SHAPE, device=device), 1.5, 0.3), 0.3, 1.5)
    assert (nn.init.constant_(ag.empty(2, 3, device=device), 0.7) == 0.7).all().item()
    assert (nn.init.zeros_(ag.ones(2, device=device)) == 0).all().item()
    assert (nn.init.ones_(ag.zeros(2, device=device)) == 1).all().item()


def test_xavier(device):
    fan_in, fan_out = SHAPE[1], SHAPE[0]
    _check_uniform(nn.init.xavier_uniform_(ag.empty(*SHAPE, device=device)), math.sqrt(6.0 / (fan_in + fan_out)))
    _check_uniform(nn.init.xavier_uniform_(ag.empty(*SHAPE, device=device), gain=2.0),
                   2 * math.sqrt(6.0 / (fan_in + fan_out)))
    _check_normal(nn.init.xavier_normal_(ag.empty(*SHAPE, device=device)), math.sqrt(2.0 / (fan_in + fan_out)))


def test_kaiming(device):
    fan_in, fan_out = SHAPE[1], SHAPE[0]
    _check_uniform(nn.init.kaiming_uniform_(ag.empty(*SHAPE, device=device), a=math.sqrt(5)), 1 / math.sqrt(fan_in))
    _check_uniform(nn.init.kaiming_uniform_(ag.empty(*SHAPE, device=device), nonlinearity="relu"),
                   math.sqrt(6 / fan_in))
    _check_normal(nn.init.kaiming_normal_(ag.empty(*SHAPE, device=device), mode="fan_out", nonlinearity="relu"),
                  math.sqrt(2 / fan_out))
    conv = ag.empty(64, 16, 3, 3, device=device)  # fan_in = 16 * 9
    _check_normal(nn.init.kaiming_normal_(conv), math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(144))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_uniform_(ag.empty(2, 2), mode="fan_avg")


def test_trunc_normal(device):
    v = _np(nn.init.trunc_normal_(ag.empty(*SHAPE, device=device), mean=0.5, std=1.0, a=-1.0, b=2.0))
    assert v.min() >= -1.0 and v.max() <= 2.0
    ref = torch.nn.init.trunc_normal_(torch.empty(*SHAPE, dtype=torch.float64), 0.5, 1.0, -1.0, 2.0).numpy()
    assert abs(v.mean() - ref.mean()) < 0.02 and abs(v.std() - ref.std()) < 0.02
    w = _np(nn.init.trunc_normal_(ag.empty(*SHAPE, device=device), std=0.02))  # the ViT setting: no clipping
    assert abs(w.std() - 0.02) < 0.001


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2, 2)])
def test_orthogonal(shape, device):
    t = nn.init.orthogonal_(ag.empty(*shape, dtype=ag.float64, device=device), gain=2.0)
    m = _np(t).reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-10)


def test_generator_makes_init_reproducible():
    a = nn.init.kaiming_uniform_(ag.empty(3, 4), generator=ag.Generator().manual_seed(5))
    b = nn.init.kaiming_uniform_(ag.empty(3, 4), generator=ag.Generator().manual_seed(5))
    assert (a == b).all().item()
    ag.manual_seed(11)
    c = nn.Linear(5, 5).weight.detach().clone()
    ag.manual_seed(11)
    assert (nn.Linear(5, 5).weight == c).all().item()


def test_default_layer_initialisation(device):
    ag.manual_seed(0)
    lin = nn.Linear(400, 300, device=device)
    assert lin.weight.device.type == lin.bias.device.type == device
    _check_uniform(lin.weight, 1 / math.sqrt(400))  # kaiming_uniform(a=sqrt(5))
    b = _np(lin.bias)
    assert b.min() >= -1 / 20 and b.max() <= 1 / 20 and b.std() > 0.02
    emb = nn.Embedding(300, 200, device=device)
    _check_normal(emb.weight, 1.0)
    bn = nn.BatchNorm1d(5, device=device)
    assert bn.running_var.device.type == device
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.running_var.tolist() == [1.0] * 5
    ln = nn.LayerNorm(3, device=device)
    assert ln.weight.tolist() == [1.0] * 3 and ln.bias.tolist() == [0.0] * 3
    assert nn.Linear(3, 2, dtype=ag.float64).weight.dtype == ag.float64

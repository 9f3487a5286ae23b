"""Sampling (ops/random_ops.py) on both devices: draws are reproducible from a seed, follow their distribution
(moments within bounds set by the sample size, chi-square against the probabilities, at a fixed seed), carry
PyTorch's dtypes, backward nodes and zero gradients, reject PyTorch's bad inputs with its error types, and make
no host sync on the GPU. Values cannot equal PyTorch's RNG streams: the oracles are the distributions."""
import contextlib
import math

import numpy as np
import pytest
import scipy.stats
import torch

import autograd_gpu as ag
from autograd_gpu import _device

N = 200_000  # draws per moment check: bounds below are 6 standard errors wide
Z = 6.0


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64)


def _node(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def check_moments(x, mean, var, mu4):
    """Sample mean and variance of x against the distribution's (mu4: its 4th central moment)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    assert abs(x.mean() - mean) <= Z * math.sqrt(var / n), (x.mean(), mean)
    assert abs(x.var(ddof=1) - var) <= Z * math.sqrt((mu4 - var * var) / n), (x.var(ddof=1), var)


def check_counts(observed, probs):
    """Chi-square of category counts against probabilities (categories of probability 0 must be empty)."""
    observed = np.asarray(observed, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64) / np.sum(probs)
    assert np.all(observed[probs == 0] == 0), observed
    keep = probs > 0
    if keep.sum() == 1:  # one possible category: every draw is it (checked above)
        return
    expected = probs[keep] * observed.sum()
    stat = np.sum((observed[keep] - expected) ** 2 / expected)
    assert stat < scipy.stats.chi2.isf(1e-6, keep.sum() - 1), (stat, observed, expected)


def check_fraction(flags, p):
    flags = np.asarray(flags, dtype=np.float64).ravel()
    assert abs(flags.mean() - p) <= Z * math.sqrt(p * (1 - p) / flags.size), (flags.mean(), p)


def test_the_checks_reject_other_distributions():
    rng = np.random.default_rng(0)
    x = rng.exponential(1.0, N)
    check_moments(x, 1.0, 1.0, 9.0)
    for mean, var in ((1.02, 1.0), (1.0, 1.05)):  # a 2% shift of the mean, 5% of the variance
        with pytest.raises(AssertionError):
            check_moments(x, mean, var, 9.0)
    counts = np.bincount(rng.choice(4, N, p=[0.1, 0.2, 0.3, 0.4]), minlength=4)
    check_counts(counts, [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(AssertionError):
        check_counts(counts, [0.11, 0.19, 0.3, 0.4])
    with pytest.raises(AssertionError):
        check_counts(counts, [0.1, 0.2, 0.7, 0.0])  # draws in a category of probability 0
    with pytest.raises(AssertionError):
        check_fraction(rng.random(N) < 0.31, 0.3)


@pytest.fixture(autouse=True)
def _seeded():
    ag.manual_seed(20240611)


# ---- distributions ------------------------------------------------------------------------------------
def test_uniform_(device):
    x = _np(ag.empty(N, device=device).uniform_(-1.0, 3.0))
    assert x.min() >= -1.0 and x.max() < 3.0
    check_moments(x, 1.0, 16 / 12, 4 ** 4 / 80)


def test_normal_(device):
    x = _np(ag.empty(N, device=device, dtype=ag.float64).normal_(2.0, 0.5))
    check_moments(x, 2.0, 0.25, 3 * 0.5 ** 4)


def test_exponential_(device):
    x = _np(ag.empty(N, device=device).exponential_(2.0))
    assert x.min() >= 0
    check_moments(x, 0.5, 0.25, 9 / 16)


def test_log_normal_(device):
    x = _np(ag.empty(N, device=device).log_normal_(0.5, 0.25))
    assert x.min() > 0
    check_moments(np.log(x), 0.5, 0.0625, 3 * 0.25 ** 4)


def test_cauchy_(device):
    x = _np(ag.empty(N, device=device).cauchy_(1.0, 2.0))
    check_fraction(x < 1.0, 0.5)  # the median
    check_fraction(np.abs(x - 1.0) < 2.0, 0.5)  # the quartiles are median -+ sigma


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_geometric_(device, dtype):
    p = 0.3
    x = _np(ag.zeros(N, device=device, dtype=getattr(ag, dtype)).geometric_(p))
    assert x.min() >= 1 and np.all(x == np.round(x))
    k = np.arange(1, 20)
    pmf = (1 - p) ** (k - 1) * p
    observed = [np.sum(x == i) for i in k] + [np.sum(x >= 20)]
    check_counts(observed, list(pmf) + [1 - pmf.sum()])


@pytest.mark.parametrize("args, lo, hi", [((3, 9), 3, 9), ((7,), 0, 7), ((-4, 2), -4, 2)])
def test_random_from_to(device, args, lo, hi):
    x = _np(ag.zeros(N // 10, device=device).random_(*args))
    assert x.min() >= lo and x.max() < hi
    check_counts([np.sum(x == v) for v in range(lo, hi)], np.ones(hi - lo))


@pytest.mark.parametrize("dtype, top", [("float32", 2 ** 24), ("float64", 2 ** 53), ("float16", 2 ** 11),
                                        ("int8", 127), ("int64", 2 ** 63 - 1), ("bool", 1)])
def test_random_default_range(device, dtype, top):
    x = ag.zeros(N // 10, device=device, dtype=getattr(ag, dtype)).random_()
    assert x.dtype == getattr(ag, dtype)
    v = x.cpu().numpy()
    assert v.min() >= 0 and int(v.max()) <= top
    check_fraction(v.astype(np.float64) > top / 2, 0.5)  # uniform over [0, top]


def test_random_from_none(device):
    x = _np(ag.zeros(N // 10, device=device).random_(5, None))
    assert x.min() >= 5 and x.max() <= 2 ** 24
    check_fraction(x > 2 ** 23, 0.5)


def test_bernoulli(device):
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    draws = _np(ag.bernoulli(ag.tensor(np.tile(p, (N // 10, 1)), device=device)))
    assert set(np.unique(draws)) <= {0.0, 1.0}
    for j, pj in enumerate(p):
        check_fraction(draws[:, j], pj)
    check_fraction(_np(ag.bernoulli(ag.zeros(N, device=device), 0.3)), 0.3)
    check_fraction(_np(ag.empty(N, device=device).bernoulli_(0.7)), 0.7)
    pt = ag.tensor([0.2, 0.8], device=device)
    draws = _np(ag.empty(N // 10, 2, device=device).bernoulli_(pt))
    check_fraction(draws[:, 0], 0.2)
    check_fraction(draws[:, 1], 0.8)


def test_normal_tensor_and_scalar_parameters(device):
    mean = ag.tensor([[-1.0], [4.0]], device=device)
    std = ag.tensor([0.5, 2.0, 1.0], device=device)
    y = ag.normal(mean.expand(2, 3).repeat(N // 100, 1), std.expand(2 * N // 100, 3))  # rows: mean -1, 4, -1, ...
    x = _np(y).reshape(N // 100, 2, 3)
    for i, m in enumerate((-1.0, 4.0)):
        for j, s in enumerate((0.5, 2.0, 1.0)):
            check_moments(x[:, i, j], m, s * s, 3 * s ** 4)
    check_moments(_np(ag.normal(ag.full((N,), 3.0, device=device), 0.5)), 3.0, 0.25, 3 * 0.5 ** 4)
    check_moments(_np(ag.normal(-2.0, ag.full((N,), 2.0, device=device))), -2.0, 4.0, 48.0)
    x = ag.normal(1.0, 3.0, size=(N,), device=device)
    assert tuple(x.shape) == (N,) and x.device.type == device
    check_moments(_np(x), 1.0, 9.0, 243.0)


def test_poisson(device):
    rates = np.array([0.0, 0.5, 3.0, 20.0])
    x = _np(ag.poisson(ag.tensor(np.tile(rates, (N // 10, 1)), device=device)))
    assert np.all(x == np.round(x)) and x.min() >= 0
    assert np.all(x[:, 0] == 0)
    for j, lam in enumerate(rates[1:], 1):
        check_moments(x[:, j], lam, lam, lam + 3 * lam * lam)


def test_multinomial_with_replacement(device):
    p = np.array([0.1, 0.0, 0.3, 0.6, 0.0])
    s = ag.multinomial(ag.tensor(p * 7, device=device), N, replacement=True)  # unnormalised weights
    assert s.dtype == ag.int64 and tuple(s.shape) == (N,)
    check_counts(np.bincount(s.cpu().numpy(), minlength=5), p)
    rows = np.array([[1.0, 1.0, 2.0], [0.0, 5.0, 0.0], [3.0, 0.0, 1.0]])
    s = ag.multinomial(ag.tensor(rows, device=device), N // 10, True).cpu().numpy()
    assert s.shape == (3, N // 10)
    for r in range(3):
        check_counts(np.bincount(s[r], minlength=3), rows[r])


def test_multinomial_without_replacement(device):
    p = np.array([0.5, 0.2, 0.2, 0.1, 0.0])
    s = ag.multinomial(ag.tensor(np.tile(p, (N // 10, 1)), device=device), 3).cpu().numpy()
    assert s.shape == (N // 10, 3)
    assert np.all((s[:, 0] != s[:, 1]) & (s[:, 0] != s[:, 2]) & (s[:, 1] != s[:, 2]))
    check_counts(np.bincount(s[:, 0], minlength=5), p)  # the first draw is a draw from p
    # the second is from p without the first: P(second = j) = sum_i p_i p_j / (1 - p_i)
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(5) if i != j) for j in range(5)])
    check_counts(np.bincount(s[:, 1], minlength=5), second)
    # all categories: a permutation; categories of probability 0 come last, as in PyTorch
    s = ag.multinomial(ag.tensor([1.0, 0.0, 0.0], device=device), 2).cpu().numpy()
    assert list(s) == [0, 1] or list(s) == [0, 2]
    full = ag.multinomial(ag.ones(4, 6, device=device), 6).cpu().numpy()
    assert np.all(np.sort(full, axis=1) == np.arange(6))


# ---- seeds ----------------------------------------------------------------------------------------------
SAMPLERS = {
    "uniform_": lambda d, g: ag.empty(50, device=d).uniform_(generator=g),
    "normal_": lambda d, g: ag.empty(50, device=d).normal_(generator=g),
    "random_": lambda d, g: ag.empty(50, device=d).random_(0, 1000, generator=g),
    "exponential_": lambda d, g: ag.empty(50, device=d).exponential_(generator=g),
    "geometric_": lambda d, g: ag.empty(50, device=d).geometric_(0.2, generator=g),
    "cauchy_": lambda d, g: ag.empty(50, device=d).cauchy_(generator=g),
    "log_normal_": lambda d, g: ag.empty(50, device=d).log_normal_(generator=g),
    "bernoulli_": lambda d, g: ag.empty(50, device=d).bernoulli_(0.5, generator=g),
    "bernoulli": lambda d, g: ag.bernoulli(ag.full((50,), 0.5, device=d), generator=g),
    "normal": lambda d, g: ag.normal(ag.zeros(50, device=d), ag.ones(50, device=d), generator=g),
    "normal-size": lambda d, g: ag.normal(0.0, 1.0, (50,), generator=g, device=d),
    "poisson": lambda d, g: ag.poisson(ag.full((50,), 4.0, device=d), generator=g),
    "multinomial": lambda d, g: ag.multinomial(ag.ones(3, 40, device=d), 20, generator=g),
    "multinomial-replacement": lambda d, g: ag.multinomial(ag.ones(40, device=d), 50, True, generator=g),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_same_seed_same_draws(device, name):
    draw = SAMPLERS[name]
    ag.manual_seed(7)
    a = draw(device, None).cpu().numpy()
    b = draw(device, None).cpu().numpy()
    ag.manual_seed(7)
    np.testing.assert_array_equal(draw(device, None).cpu().numpy(), a)
    np.testing.assert_array_equal(draw(device, None).cpu().numpy(), b)
    assert not np.array_equal(a, b)  # the stream moves on
    ag.manual_seed(8)
    assert not np.array_equal(draw(device, None).cpu().numpy(), a)
    g = ag.Generator(device=device).manual_seed(3)
    c = draw(device, g).cpu().numpy()
    ag.manual_seed(7)  # the global seed does not touch a Generator's stream
    np.testing.assert_array_equal(draw(device, ag.Generator(device=device).manual_seed(3)).cpu().numpy(), c)


def test_generator_of_another_device_is_refused():
    with pytest.raises(RuntimeError, match="generator"):
        ag.empty(3).exponential_(generator=ag.Generator(device="cuda"))


# ---- dtypes, nodes, gradients --------------------------------------------------------------------------
FILLS = [
    ("uniform_", lambda y: y.uniform_()),
    ("normal_", lambda y: y.normal_(1.0, 2.0)),
    ("random_()", lambda y: y.random_()),
    ("random_(to)", lambda y: y.random_(5)),
    ("random_(from, to)", lambda y: y.random_(1, 5)),
    ("random_(from, None)", lambda y: y.random_(2, None)),
    ("exponential_", lambda y: y.exponential_()),
    ("geometric_", lambda y: y.geometric_(0.5)),
    ("cauchy_", lambda y: y.cauchy_()),
    ("log_normal_", lambda y: y.log_normal_()),
    ("bernoulli_(float)", lambda y: y.bernoulli_(0.5)),
]


@pytest.mark.parametrize("fill", [f[1] for f in FILLS], ids=[f[0] for f in FILLS])
def test_fill_node_and_zero_gradient(device, fill):
    x, tx = ag.ones(3, requires_grad=True, device=device), torch.ones(3, requires_grad=True)
    y, ty = x * 2, tx * 2
    assert fill(y) is y
    fill(ty)
    assert _node(y) == _node(ty)
    assert y.requires_grad
    (g,) = ag.autograd.grad((y * 3).sum(), x)
    np.testing.assert_array_equal(g.cpu().numpy(), np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        fill(ag.ones(3, requires_grad=True, device=device))
    with ag.no_grad():  # (how nn.init fills parameters)
        w = ag.ones(3, requires_grad=True, device=device)
        assert fill(w) is w and w.grad_fn is None


def test_bernoulli_tensor_fill_node(device):
    y, ty = ag.ones(3, requires_grad=True, device=device) * 1, torch.ones(3, requires_grad=True) * 1
    y.bernoulli_(ag.full((3,), 0.5, device=device))
    ty.bernoulli_(torch.full((3,), 0.5))
    assert _node(y) == _node(ty) == "BernoulliBackward1"


SAMPLES = [
    ("normal(tensor, tensor)", lambda m, a, b: m.normal(a, b)),
    ("normal(tensor, float)", lambda m, a, b: m.normal(a, 2.0)),
    ("normal(float, tensor)", lambda m, a, b: m.normal(1.0, b)),
    ("bernoulli", lambda m, a, b: m.bernoulli(a.sigmoid())),
    ("bernoulli method", lambda m, a, b: a.sigmoid().bernoulli()),
    ("poisson", lambda m, a, b: m.poisson(b * 3)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sample", [s[1] for s in SAMPLES], ids=[s[0] for s in SAMPLES])
def test_sample_dtype_node_and_zero_gradient(device, sample, dtype):
    a = ag.zeros(2, 3, device=device, dtype=getattr(ag, dtype), requires_grad=True)
    b = ag.ones(3, device=device, dtype=getattr(ag, dtype), requires_grad=True)
    ta = torch.zeros(2, 3, dtype=getattr(torch, dtype), requires_grad=True)
    tb = torch.ones(3, dtype=getattr(torch, dtype), requires_grad=True)
    y, ty = sample(ag, a, b), sample(torch, ta, tb)
    assert str(y.dtype) == str(ty.dtype) and tuple(y.shape) == tuple(ty.shape)
    assert _node(y) == _node(ty)
    grads = ag.autograd.grad(y.sum(), [a, b], allow_unused=True)
    tgrads = torch.autograd.grad(ty.sum(), [ta, tb], allow_unused=True)
    for g, tg in zip(grads, tgrads):
        assert (g is None) == (tg is None)
        if g is not None:
            np.testing.assert_array_equal(g.cpu().numpy(), tg.numpy())


@pytest.mark.parametrize("call", [
    lambda m, d: m.multinomial(m.ones(4, device=d), 2),
    lambda m, d: m.ones(2, 4, dtype=m.float64, device=d).multinomial(3, replacement=True),
    lambda m, d: m.zeros(3, dtype=m.int32, device=d).geometric_(0.5),
    lambda m, d: m.zeros(3, dtype=m.int8, device=d).random_(),
    lambda m, d: m.zeros(3, dtype=m.float16, device=d).normal_(),
    lambda m, d: m.zeros(3, dtype=m.float16, device=d).uniform_(),
    lambda m, d: m.normal(0.0, 1.0, (2, 3), dtype=m.float64, device=d),
    lambda m, d: m.normal(0.0, 1.0, size=(4,), device=d),
    lambda m, d: m.bernoulli(m.ones(3, dtype=m.float64, device=d), 0.3),
    lambda m, d: m.poisson(m.ones(3, dtype=m.float64, device=d)),
])
def test_sample_dtypes_and_shapes(device, call):
    y, ty = call(ag, device), call(torch, "cpu")
    assert str(y.dtype) == str(ty.dtype) and tuple(y.shape) == tuple(ty.shape)
    assert y.device.type == device and not y.requires_grad


# ---- errors ---------------------------------------------------------------------------------------------
ERRORS = [
    ("multinomial too many without replacement", lambda m: m.multinomial(m.ones(3), 4)),
    ("multinomial no samples", lambda m: m.multinomial(m.ones(3), 0)),
    ("multinomial 3-d", lambda m: m.multinomial(m.ones(2, 2, 2), 1)),
    ("multinomial 0-d", lambda m: m.multinomial(m.tensor(1.0), 1)),
    ("multinomial negative", lambda m: m.multinomial(m.tensor([1.0, -1.0]), 1)),
    ("multinomial nan", lambda m: m.multinomial(m.tensor([1.0, float("nan")]), 1)),
    ("multinomial inf", lambda m: m.multinomial(m.tensor([1.0, float("inf")]), 1, True)),
    ("multinomial zero sum", lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1)),
    ("multinomial int", lambda m: m.multinomial(m.tensor([1, 2]), 1)),
    ("bernoulli p > 1", lambda m: m.bernoulli(m.tensor([1.5]))),
    ("bernoulli p < 0", lambda m: m.bernoulli(m.tensor([-0.5]))),
    ("bernoulli int", lambda m: m.bernoulli(m.tensor([1, 0]))),
    ("bernoulli float p", lambda m: m.bernoulli(m.ones(2), 1.5)),
    ("bernoulli_ float p", lambda m: m.zeros(2).bernoulli_(1.5)),
    ("bernoulli_ tensor p", lambda m: m.zeros(2).bernoulli_(m.tensor([0.5, 2.0]))),
    ("normal negative std tensor", lambda m: m.normal(m.zeros(2), m.tensor([-1.0, 1.0]))),
    ("normal negative std", lambda m: m.normal(m.zeros(2), -1.0)),
    ("normal negative std size", lambda m: m.normal(0.0, -1.0, (2,))),
    ("normal shapes", lambda m: m.normal(m.zeros(2), m.ones(3))),
    ("normal int mean", lambda m: m.normal(m.zeros(2, dtype=m.int64), 1.0)),
    ("normal int dtype", lambda m: m.normal(0.0, 1.0, (2,), dtype=m.int64)),
    ("poisson negative", lambda m: m.poisson(m.tensor([-1.0]))),
    ("poisson int", lambda m: m.poisson(m.tensor([1, 2]))),
    ("exponential_ lambda 0", lambda m: m.zeros(2).exponential_(0)),
    ("exponential_ int", lambda m: m.zeros(2, dtype=m.int64).exponential_()),
    ("geometric_ p 0", lambda m: m.zeros(2).geometric_(0)),
    ("geometric_ p 1", lambda m: m.zeros(2).geometric_(1)),
    ("cauchy_ sigma 0", lambda m: m.zeros(2).cauchy_(0, 0)),
    ("cauchy_ int", lambda m: m.zeros(2, dtype=m.int64).cauchy_()),
    ("log_normal_ std 0", lambda m: m.zeros(2).log_normal_(0, 0)),
    ("log_normal_ int", lambda m: m.zeros(2, dtype=m.int64).log_normal_()),
    ("random_ from == to", lambda m: m.zeros(2).random_(5, 5)),
    ("random_ to 0", lambda m: m.zeros(2).random_(0)),
    ("random_ out of int8", lambda m: m.zeros(2, dtype=m.int8).random_(0, 1000)),
    ("uniform_ from > to", lambda m: m.zeros(2).uniform_(1, 0)),
    ("uniform_ int", lambda m: m.zeros(2, dtype=m.int64).uniform_()),
    ("normal_ negative std", lambda m: m.zeros(2).normal_(0, -1)),
    ("normal_ int", lambda m: m.zeros(2, dtype=m.int64).normal_()),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(ag)
    assert type(ours.value) is type(theirs.value), (
        f"ours raised {type(ours.value).__name__}: {ours.value}; torch raised {type(theirs.value).__name__}: "
        f"{theirs.value}")
    assert str(ours.value), "the error needs a message"


# ---- no host sync on the GPU ---------------------------------------------------------------------------
def _no_host_sync():
    cupy = _device.cupy()
    return cupy.no_host_sync() if hasattr(cupy, "no_host_sync") else contextlib.nullcontext()


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_gpu_draws_make_no_host_sync(name):
    with _no_host_sync():
        y = SAMPLERS[name]("cuda", None)
    assert y.device.type == "cuda"


def test_rng_state_restores_the_cpu_stream():
    ag.manual_seed(3)
    ag.rand(5)
    ag.randn(3)  # (normal draws may leave a buffered half draw: the state keeps it)
    state = ag.get_rng_state()
    assert state.dtype == ag.uint8 and state.device.type == "cpu" and state.ndim == 1
    want = [ag.rand(4).numpy(), ag.randint(0, 100, (6,)).numpy(), ag.randn(3).numpy(), ag.randperm(7).numpy()]
    ag.manual_seed(99)
    ag.rand(10)
    ag.set_rng_state(state)
    got = [ag.rand(4).numpy(), ag.randint(0, 100, (6,)).numpy(), ag.randn(3).numpy(), ag.randperm(7).numpy()]
    for w, g in zip(want, got):
        np.testing.assert_array_equal(w, g)
    before = ag.get_rng_state()
    kept = before.numpy().copy()
    before[0] = before[0] + 1  # the returned tensor is a copy: changing it changes no generator
    np.testing.assert_array_equal(ag.get_rng_state().numpy(), kept)


@pytest.mark.parametrize("bad", [lambda m: m.zeros(3, dtype=m.uint8), lambda m: m.zeros(5056),
                                 lambda m: [1, 2]], ids=["size", "dtype", "list"])
def test_set_rng_state_bad_input_types_match_torch(bad):
    with pytest.raises(Exception) as theirs:
        torch.set_rng_state(bad(torch))
    with pytest.raises(type(theirs.value)):
        ag.set_rng_state(bad(ag))

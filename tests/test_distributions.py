"""autograd_gpu.distributions against torch.distributions (float64, the same parameters) on both devices: shapes,
log_prob, entropy, mean, variance, cdf/icdf and their gradients in the parameters; kl_divergence for the registered
pairs and its gradients; transforms; validation errors with PyTorch's types and messages. Samples cannot equal
PyTorch's RNG streams: they are checked by moments (5 standard errors at a fixed seed), by same-seed
reproducibility, and rsample's gradients against the noise they were made from, torch's implicit gamma gradient,
or the derivative of an analytic mean."""
import contextlib

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _device

Z = 5.0  # standard errors allowed in the statistical checks
_rng = np.random.default_rng(0)


def _np(t):
    return t.detach().cpu().numpy().astype(np.float64) if hasattr(t, "detach") else np.asarray(t, np.float64)


def _pos(*shape, lo=0.5, hi=2.0):
    return _rng.uniform(lo, hi, shape)


def _real(*shape):
    return _rng.normal(size=shape)


def _simplex(*shape):
    p = _rng.uniform(0.2, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _spd(n, batch=()):
    a = _rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _tril(n, batch=()):
    return np.tril(_rng.normal(size=batch + (n, n)), -1) + np.eye(n) * _pos(*batch, n)[..., None]


def _one_hot(idx, n):
    return np.eye(n)[idx]


# name -> (make(D, p): the distribution from module D = torch.distributions or ag.distributions and parameter
#          tensors p; parameters (arrays); values for log_prob/cdf; quantities compared besides log_prob)
STATS = ("entropy", "mean", "variance")
CASES = {
    "Normal": (lambda D, p: D.Normal(p["loc"], p["scale"]), {"loc": _real(2, 3), "scale": _pos(2, 3)},
               _real(4, 2, 3), STATS + ("cdf", "icdf")),
    "Normal-broadcast": (lambda D, p: D.Normal(p["loc"], p["scale"]), {"loc": _real(3), "scale": _pos(2, 1)},
                         _real(2, 3), STATS + ("cdf",)),
    "Normal-number": (lambda D, p: D.Normal(p["loc"], 2.0), {"loc": _real(3)}, _real(3), STATS),
    "Laplace": (lambda D, p: D.Laplace(p["loc"], p["scale"]), {"loc": _real(4), "scale": _pos(4)}, _real(3, 4),
                STATS + ("cdf", "icdf")),
    "Uniform": (lambda D, p: D.Uniform(p["low"], p["high"]), {"low": np.array([-1.0, 0.0, 2.0]),
                                                                "high": np.array([1.0, 3.0, 2.5])},
                np.array([[0.5, 1.0, 2.2], [-0.9, 2.9, 2.01]]), STATS + ("cdf", "icdf")),
    "Exponential": (lambda D, p: D.Exponential(p["rate"]), {"rate": _pos(5)}, _pos(2, 5), STATS + ("cdf", "icdf")),
    "Gamma": (lambda D, p: D.Gamma(p["concentration"], p["rate"]),
              {"concentration": np.array([0.3, 1.0, 2.5, 9.0]), "rate": _pos(4)}, _pos(3, 4, lo=0.1, hi=4.0),
              STATS),
    "Beta": (lambda D, p: D.Beta(p["c1"], p["c0"]), {"c1": np.array([0.5, 1.0, 3.0]), "c0": _pos(3)},
             _rng.uniform(0.05, 0.95, (2, 3)), STATS),
    "Beta-number": (lambda D, p: D.Beta(2.0, p["c0"]), {"c0": _pos(3)}, _rng.uniform(0.05, 0.95, (2, 3)), STATS),
    "Dirichlet": (lambda D, p: D.Dirichlet(p["concentration"]), {"concentration": _pos(2, 4, lo=0.4, hi=3.0)},
                  _simplex(3, 2, 4), STATS),
    "Dirichlet-sparse": (lambda D, p: D.Dirichlet(p["concentration"]),
                         {"concentration": np.array([[0.3, 0.5, 0.7], [1.5, 0.5, 2.0]])}, _simplex(2, 3), STATS),
    "Poisson": (lambda D, p: D.Poisson(p["rate"]), {"rate": _pos(4, hi=5.0)}, np.array([[0.0, 1, 3, 7]]),
                ("mean", "variance")),
    "Bernoulli-probs": (lambda D, p: D.Bernoulli(probs=p["probs"]), {"probs": _rng.uniform(0.1, 0.9, (2, 3))},
                        np.array([[1.0, 0, 1], [0, 0, 1]]), STATS),
    "Bernoulli-logits": (lambda D, p: D.Bernoulli(logits=p["logits"]), {"logits": _real(3)},
                         np.array([[1.0, 0, 1], [0, 1, 1]]), STATS),
    "Categorical-probs": (lambda D, p: D.Categorical(probs=p["probs"]), {"probs": _pos(2, 4)},
                          np.array([[0, 3], [2, 1], [1, 1]]), ("entropy",)),
    "Categorical-logits": (lambda D, p: D.Categorical(logits=p["logits"]), {"logits": _real(2, 4)},
                           np.array([[0, 3], [2, 2]]), ("entropy", "mean", "variance")),
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(logits=p["logits"]), {"logits": _real(2, 3)},
                          _one_hot(np.array([[0, 2], [1, 1]]), 3), STATS),
    "MultivariateNormal-scale_tril": (lambda D, p: D.MultivariateNormal(p["loc"], scale_tril=p["L"]),
                                      {"loc": _real(2, 3), "L": _tril(3)}, _real(4, 2, 3), STATS),
    "MultivariateNormal-covariance": (lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["S"]),
                                      {"loc": _real(3), "S": _spd(3, (2,))}, _real(4, 2, 3), STATS),
    "MultivariateNormal-precision": (lambda D, p: D.MultivariateNormal(p["loc"], precision_matrix=p["P"]),
                                     {"loc": _real(2, 3), "P": _spd(3)}, _real(2, 3), STATS),
    "Independent": (lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1),
                    {"loc": _real(2, 3), "scale": _pos(2, 3)}, _real(4, 2, 3), STATS),
    "LogNormal": (lambda D, p: D.LogNormal(p["loc"], p["scale"]), {"loc": _real(3), "scale": _pos(3)},
                  _pos(2, 3), STATS + ("cdf", "icdf")),
    "Transformed-affine-exp": (lambda D, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), [D.transforms.AffineTransform(0.5, p["a"]), D.transforms.ExpTransform()]),
        {"loc": _real(3), "scale": _pos(3), "a": _pos(3)}, _pos(2, 3), ("cdf", "icdf")),
    "Transformed-negative-affine": (lambda D, p: D.TransformedDistribution(
        D.Laplace(p["loc"], p["scale"]), D.transforms.AffineTransform(1.0, -2.0)),
        {"loc": _real(3), "scale": _pos(3)}, _real(2, 3), ("cdf", "icdf")),
    "Transformed-sigmoid": (lambda D, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), [D.transforms.SigmoidTransform()]),
        {"loc": _real(3), "scale": _pos(3)}, _rng.uniform(0.1, 0.9, (2, 3)), ("cdf", "icdf")),
    "Transformed-tanh": (lambda D, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), [D.transforms.TanhTransform()]),
        {"loc": _real(3), "scale": _pos(3)}, _rng.uniform(-0.9, 0.9, (2, 3)), ()),
    "Transformed-power-compose": (lambda D, p: D.TransformedDistribution(
        D.Gamma(p["c"], p["r"]), [D.transforms.ComposeTransform([D.transforms.PowerTransform(p["e"]),
                                                                  D.transforms.SoftplusTransform()])]),
        {"c": _pos(3), "r": _pos(3), "e": _pos(3)}, _pos(2, 3, lo=0.8, hi=3.0), ()),
    "Transformed-event-affine": (lambda D, p: D.TransformedDistribution(
        D.Normal(p["loc"], p["scale"]), [D.transforms.AffineTransform(p["b"], p["a"], event_dim=1)]),
        {"loc": _real(3), "scale": _pos(3), "b": _real(3), "a": _pos(3)}, _real(2, 3), ()),
    "Cauchy": (lambda D, p: D.Cauchy(p["loc"], p["scale"]), {"loc": _real(3), "scale": _pos(3)}, _real(2, 3),
               STATS + ("cdf", "icdf")),
    "Gumbel": (lambda D, p: D.Gumbel(p["loc"], p["scale"]), {"loc": _real(3), "scale": _pos(3)}, _real(2, 3),
               STATS + ("cdf", "icdf")),
    "Gumbel-number": (lambda D, p: D.Gumbel(0.5, 2.0), {}, _real(2, 3), STATS),
    "Geometric-probs": (lambda D, p: D.Geometric(probs=p["probs"]), {"probs": np.array([0.2, 0.5, 1.0])},
                        np.array([[0.0, 3, 0], [1, 0, 0]]), STATS),
    "Geometric-logits": (lambda D, p: D.Geometric(logits=p["logits"]), {"logits": _real(3)},
                         np.array([[0.0, 3, 2]]), STATS),
    "Chi2": (lambda D, p: D.Chi2(p["df"]), {"df": _pos(3, lo=0.5, hi=6.0)}, _pos(2, 3), STATS),
    "StudentT": (lambda D, p: D.StudentT(p["df"], p["loc"], p["scale"]),
                 {"df": np.array([0.8, 1.5, 4.0]), "loc": _real(3), "scale": _pos(3)}, _real(2, 3), STATS),
    "HalfNormal": (lambda D, p: D.HalfNormal(p["scale"]), {"scale": _pos(3)}, np.abs(_real(2, 3)),
                   STATS + ("cdf", "icdf")),
    "Binomial-probs": (lambda D, p: D.Binomial(5, probs=p["probs"]), {"probs": _rng.uniform(0.1, 0.9, 3)},
                       np.array([[0.0, 5, 2], [1, 3, 4]]), STATS),
    "Binomial-logits": (lambda D, p: D.Binomial(p["n"], logits=p["logits"]),
                        {"n": np.array([2.0, 7.0, 4.0]), "logits": _real(3)}, np.array([[0.0, 7, 2]]),
                        ("mean", "variance")),
}


def _tensors(m, params, device=None, grad=True):
    if m is torch:
        return {k: torch.tensor(v, dtype=torch.float64, requires_grad=grad) for k, v in params.items()}
    return {k: ag.tensor(v, dtype=ag.float64, device=device, requires_grad=grad) for k, v in params.items()}


def _value(m, values, device=None):
    integral = np.all(values == np.round(values)) and values.dtype.kind == "i"
    if m is torch:
        return torch.tensor(values, dtype=torch.int64 if integral else torch.float64)
    return ag.tensor(values, dtype=ag.int64 if integral else ag.float64, device=device)


def _quantities(d, value, u, names):
    out = {"log_prob": d.log_prob(value)}
    for name in names:
        if name == "cdf":
            out[name] = d.cdf(value)
        elif name == "icdf":
            out[name] = d.icdf(u)
        elif name == "entropy":
            out[name] = d.entropy()
        else:
            out[name] = getattr(d, name)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_against_torch(name, device):
    make, params, values, names = CASES[name]
    u = _rng.uniform(0.05, 0.95, values.shape if values.ndim else ())
    tp, op = _tensors(torch, params), _tensors(ag, params, device)
    td, od = make(torch.distributions, tp), make(ag.distributions, op)
    assert tuple(od.batch_shape) == tuple(td.batch_shape) and tuple(od.event_shape) == tuple(td.event_shape)
    assert od.has_rsample == td.has_rsample and repr(od) == repr(td)
    uu = u[..., 0] if len(td.event_shape) else u
    tq = _quantities(td, _value(torch, values), torch.tensor(uu), names)
    oq = _quantities(od, _value(ag, values, device), ag.tensor(uu, device=device), names)
    try:
        tq["mode"] = td.mode
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            od.mode
    else:
        oq["mode"] = od.mode
    for k in tq:
        assert repr(oq[k].dtype) == repr(tq[k].dtype) and tuple(oq[k].shape) == tuple(tq[k].shape), k
        rtol = 1e-9 if tq[k].dtype == torch.float64 else 1e-6  # (parameters given as numbers: the default dtype)
        np.testing.assert_allclose(_np(oq[k]), _np(tq[k]), rtol=rtol, atol=1e-12, err_msg=k)
    if not params:
        return
    # gradients of every quantity in every parameter (weighted so each quantity counts)
    weights = {k: _rng.normal(size=tuple(tq[k].shape)) for k in tq}
    live = [k for k in tq if tq[k].requires_grad and np.isfinite(_np(tq[k])).all()]
    sum(((tq[k] * torch.tensor(weights[k])).sum() for k in live), torch.tensor(0.0, dtype=torch.float64)).backward()
    sum(((oq[k] * ag.tensor(weights[k], device=device)).sum() for k in live),
        ag.tensor(0.0, dtype=ag.float64, device=device)).backward()
    for k in params:
        want = np.zeros(params[k].shape) if tp[k].grad is None else tp[k].grad.numpy()
        got = np.zeros(params[k].shape) if op[k].grad is None else _np(op[k].grad)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10, err_msg=k)
        assert op[k].grad is None or op[k].grad.device.type == device


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Dirichlet", "Categorical-logits", "MultivariateNormal-covariance",
                                  "LogNormal", "Independent", "Bernoulli-probs", "Gumbel", "StudentT", "Chi2",
                                  "Geometric-probs", "HalfNormal", "Cauchy"])
def test_expand(name, device):
    make, params, values, _ = CASES[name]
    td, od = make(torch.distributions, _tensors(torch, params)), make(ag.distributions, _tensors(ag, params, device))
    shape = (5,) + tuple(td.batch_shape)
    te, oe = td.expand(shape), od.expand(shape)
    assert type(oe) is type(od) and tuple(oe.batch_shape) == tuple(te.batch_shape)
    assert tuple(oe.event_shape) == tuple(te.event_shape)
    tv, ov = _value(torch, values), _value(ag, values, device)
    tv, ov = tv[:1], ov[:1]
    np.testing.assert_allclose(_np(oe.log_prob(ov)), _np(te.log_prob(tv)), rtol=1e-10)
    assert tuple(oe.sample((2,)).shape) == tuple(te.sample((2,)).shape)


@pytest.mark.parametrize("name", ["Bernoulli-probs", "Categorical-logits", "OneHotCategorical", "Binomial-probs"])
@pytest.mark.parametrize("expand", [True, False])
def test_enumerate_support(name, expand, device):
    make, params, _, _ = CASES[name]
    td, od = make(torch.distributions, _tensors(torch, params)), make(ag.distributions, _tensors(ag, params, device))
    t, o = td.enumerate_support(expand), od.enumerate_support(expand)
    assert repr(o.dtype) == repr(t.dtype)
    np.testing.assert_array_equal(_np(o), t.numpy())


def test_exponential_family_entropy_by_bregman(device):
    """ExponentialFamily.entropy (autograd through the log-normaliser) equals the closed forms."""
    for name in ("Normal", "Gamma", "Exponential", "Bernoulli-logits"):  # (Beta, Dirichlet: no carrier measure)
        make, params, _, _ = CASES[name]
        d = make(ag.distributions, _tensors(ag, params, device))
        want = make(torch.distributions, _tensors(torch, params)).entropy()
        np.testing.assert_allclose(_np(ag.distributions.ExponentialFamily.entropy(d)), _np(want), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


# ---- kl_divergence -------------------------------------------------------------------------------------------
def _p(**kw):
    return kw


KL_PAIRS = {
    "Normal-Normal": (lambda D, p: (D.Normal(p["a"], p["s"]), D.Normal(p["b"], p["t"])),
                      _p(a=_real(3), s=_pos(3), b=_real(2, 3), t=_pos(3))),
    "Bernoulli-Bernoulli": (lambda D, p: (D.Bernoulli(probs=p["a"]), D.Bernoulli(logits=p["b"])),
                            _p(a=np.array([0.0, 0.3, 1.0, 0.6]), b=_real(4))),
    "Categorical-Categorical": (lambda D, p: (D.Categorical(probs=p["a"]), D.Categorical(logits=p["b"])),
                                _p(a=np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]), b=_real(2, 3))),
    "OneHot-OneHot": (lambda D, p: (D.OneHotCategorical(probs=p["a"]), D.OneHotCategorical(probs=p["b"])),
                      _p(a=_simplex(2, 3), b=_simplex(2, 3))),
    "Beta-Beta": (lambda D, p: (D.Beta(p["a"], p["b"]), D.Beta(p["c"], p["d"])),
                  _p(a=_pos(3), b=_pos(3), c=_pos(3), d=_pos(3))),
    "Gamma-Gamma": (lambda D, p: (D.Gamma(p["a"], p["b"]), D.Gamma(p["c"], p["d"])),
                    _p(a=_pos(3), b=_pos(3), c=_pos(3), d=_pos(3))),
    "Dirichlet-Dirichlet": (lambda D, p: (D.Dirichlet(p["a"]), D.Dirichlet(p["b"])), _p(a=_pos(2, 3), b=_pos(3))),
    "Uniform-Uniform": (lambda D, p: (D.Uniform(p["a"], p["b"]), D.Uniform(p["c"], p["d"])),
                        _p(a=np.array([0.0, 0.0, -1.0]), b=np.array([1.0, 2.0, 1.0]), c=np.array([-1.0, 0.5, -2.0]),
                           d=np.array([2.0, 3.0, 3.0]))),
    "Laplace-Laplace": (lambda D, p: (D.Laplace(p["a"], p["s"]), D.Laplace(p["b"], p["t"])),
                        _p(a=_real(3), s=_pos(3), b=_real(3), t=_pos(3))),
    "Exponential-Exponential": (lambda D, p: (D.Exponential(p["a"]), D.Exponential(p["b"])), _p(a=_pos(3), b=_pos(3))),
    "Poisson-Poisson": (lambda D, p: (D.Poisson(p["a"]), D.Poisson(p["b"])), _p(a=_pos(3), b=_pos(3))),
    "MVN-MVN": (lambda D, p: (D.MultivariateNormal(p["a"], scale_tril=p["L"]),
                              D.MultivariateNormal(p["b"], covariance_matrix=p["S"])),
                _p(a=_real(2, 3), L=_tril(3), b=_real(3), S=_spd(3, (2,)))),
    "Independent-Independent": (lambda D, p: (D.Independent(D.Normal(p["a"], p["s"]), 1),
                                              D.Independent(D.Normal(p["b"], p["t"]), 1)),
                                _p(a=_real(2, 3), s=_pos(2, 3), b=_real(2, 3), t=_pos(2, 3))),
    "LogNormal-LogNormal": (lambda D, p: (D.LogNormal(p["a"], p["s"]), D.LogNormal(p["b"], p["t"])),
                            _p(a=_real(3), s=_pos(3), b=_real(3), t=_pos(3))),
    "Bernoulli-Poisson": (lambda D, p: (D.Bernoulli(probs=p["a"]), D.Poisson(p["b"])),
                          _p(a=_rng.uniform(0.1, 0.9, 3), b=_pos(3))),
    "Beta-Exponential": (lambda D, p: (D.Beta(p["a"], p["b"]), D.Exponential(p["c"])), _p(a=_pos(3), b=_pos(3),
                                                                                        c=_pos(3))),
    "Beta-Gamma": (lambda D, p: (D.Beta(p["a"], p["b"]), D.Gamma(p["c"], p["d"])),
                   _p(a=_pos(3), b=_pos(3), c=_pos(3), d=_pos(3))),
    "Beta-Normal": (lambda D, p: (D.Beta(p["a"], p["b"]), D.Normal(p["c"], p["d"])),
                    _p(a=_pos(3), b=_pos(3), c=_real(3), d=_pos(3))),
    "Beta-Uniform": (lambda D, p: (D.Beta(p["a"], p["b"]), D.Uniform(p["c"], p["d"])),
                     _p(a=_pos(3), b=_pos(3), c=np.array([-1.0, 0.0, 0.5]), d=np.array([1.0, 2.0, 1.0]))),
    "Exponential-Gamma": (lambda D, p: (D.Exponential(p["a"]), D.Gamma(p["c"], p["d"])),
                          _p(a=_pos(3), c=_pos(3), d=_pos(3))),
    "Exponential-Normal": (lambda D, p: (D.Exponential(p["a"]), D.Normal(p["c"], p["d"])),
                           _p(a=_pos(3), c=_real(3), d=_pos(3))),
    "Exponential-Uniform": (lambda D, p: (D.Exponential(p["a"]), D.Uniform(p["c"], p["d"])),
                            _p(a=_pos(3), c=-_pos(3), d=_pos(3))),
    "Gamma-Exponential": (lambda D, p: (D.Gamma(p["a"], p["b"]), D.Exponential(p["c"])),
                          _p(a=_pos(3), b=_pos(3), c=_pos(3))),
    "Gamma-Normal": (lambda D, p: (D.Gamma(p["a"], p["b"]), D.Normal(p["c"], p["d"])),
                     _p(a=_pos(3), b=_pos(3), c=_real(3), d=_pos(3))),
    "Laplace-Normal": (lambda D, p: (D.Laplace(p["a"], p["b"]), D.Normal(p["c"], p["d"])),
                       _p(a=_real(3), b=_pos(3), c=_real(3), d=_pos(3))),
    "Normal-Laplace": (lambda D, p: (D.Normal(p["a"], p["b"]), D.Laplace(p["c"], p["d"])),
                       _p(a=_real(3), b=_pos(3), c=_real(3), d=_pos(3))),
    "Normal-Gamma": (lambda D, p: (D.Normal(p["a"], p["b"]), D.Gamma(p["c"], p["d"])),
                     _p(a=_real(3), b=_pos(3), c=_pos(3), d=_pos(3))),
    "Poisson-Bernoulli": (lambda D, p: (D.Poisson(p["a"]), D.Bernoulli(probs=p["b"])),
                          _p(a=_pos(3), b=_rng.uniform(0.1, 0.9, 3))),
    "Uniform-Beta": (lambda D, p: (D.Uniform(p["a"], p["b"]), D.Beta(p["c"], p["d"])),
                     _p(a=np.array([0.1, 0.2, -0.5]), b=np.array([0.5, 0.9, 0.5]), c=_pos(3), d=_pos(3))),
    "Uniform-Exponential": (lambda D, p: (D.Uniform(p["a"], p["b"]), D.Exponential(p["c"])),
                            _p(a=np.array([0.1, -0.2, 1.0]), b=np.array([0.5, 0.9, 3.0]), c=_pos(3))),
    "Uniform-Gamma": (lambda D, p: (D.Uniform(p["a"], p["b"]), D.Gamma(p["c"], p["d"])),
                      _p(a=np.array([0.1, -0.2, 1.0]), b=np.array([0.5, 0.9, 3.0]), c=_pos(3), d=_pos(3))),
    "Uniform-Normal": (lambda D, p: (D.Uniform(p["a"], p["b"]), D.Normal(p["c"], p["d"])),
                       _p(a=np.array([0.1, -0.2, 1.0]), b=np.array([0.5, 0.9, 3.0]), c=_real(3), d=_pos(3))),
    "Cauchy-Cauchy": (lambda D, p: (D.Cauchy(p["a"], p["s"]), D.Cauchy(p["b"], p["t"])),
                      _p(a=_real(3), s=_pos(3), b=_real(3), t=_pos(3))),
    "Gumbel-Gumbel": (lambda D, p: (D.Gumbel(p["a"], p["s"]), D.Gumbel(p["b"], p["t"])),
                      _p(a=_real(3), s=_pos(3), b=_real(3), t=_pos(3))),
    "Geometric-Geometric": (lambda D, p: (D.Geometric(probs=p["a"]), D.Geometric(logits=p["b"])),
                            _p(a=_rng.uniform(0.1, 0.9, 3), b=_real(3))),
    "HalfNormal-HalfNormal": (lambda D, p: (D.HalfNormal(p["s"]), D.HalfNormal(p["t"])), _p(s=_pos(3), t=_pos(3))),
    "Chi2-Gamma": (lambda D, p: (D.Chi2(p["a"]), D.Gamma(p["c"], p["d"])), _p(a=_pos(3), c=_pos(3), d=_pos(3))),
    "Exponential-Gumbel": (lambda D, p: (D.Exponential(p["a"]), D.Gumbel(p["c"], p["d"])),
                           _p(a=_pos(3), c=_real(3), d=_pos(3))),
    "Gamma-Gumbel": (lambda D, p: (D.Gamma(p["a"], p["b"]), D.Gumbel(p["c"], p["d"])),
                     _p(a=_pos(3), b=_pos(3), c=_real(3), d=_pos(3))),
    "Gumbel-Normal": (lambda D, p: (D.Gumbel(p["a"], p["b"]), D.Normal(p["c"], p["d"])),
                      _p(a=_real(3), b=_pos(3), c=_real(3), d=_pos(3))),
    "Gumbel-Exponential": (lambda D, p: (D.Gumbel(p["a"], p["b"]), D.Exponential(p["c"])),
                           _p(a=_real(3), b=_pos(3), c=_pos(3))),
    "Normal-Gumbel": (lambda D, p: (D.Normal(p["a"], p["b"]), D.Gumbel(p["c"], p["d"])),
                      _p(a=_real(3), b=_pos(3), c=_real(3), d=_pos(3))),
    "Binomial-Binomial": (lambda D, p: (D.Binomial(6, probs=p["a"]), D.Binomial(p["n"], logits=p["b"])),
                          _p(a=_rng.uniform(0.1, 0.9, 3), n=np.array([6.0, 3.0, 6.0]), b=_real(3))),
    "Poisson-Binomial": (lambda D, p: (D.Poisson(p["a"]), D.Binomial(4, probs=p["b"])),
                         _p(a=_pos(3), b=_rng.uniform(0.1, 0.9, 3))),
    "Uniform-Gumbel": (lambda D, p: (D.Uniform(p["a"], p["b"]), D.Gumbel(p["c"], p["d"])),
                       _p(a=np.array([0.1, -0.2, 1.0]), b=np.array([0.5, 0.9, 3.0]), c=_real(3), d=_pos(3))),
}


@pytest.mark.parametrize("name", list(KL_PAIRS))
def test_kl_divergence(name, device):
    make, params = KL_PAIRS[name]
    tp, op = _tensors(torch, params), _tensors(ag, params, device)
    want = torch.distributions.kl_divergence(*make(torch.distributions, tp))
    got = ag.distributions.kl_divergence(*make(ag.distributions, op))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-9, atol=1e-12)
    finite = torch.isfinite(want)
    if not want.requires_grad or not finite.any():
        return
    w = _rng.normal(size=tuple(want.shape)) * finite.numpy()
    (want.masked_fill(~finite, 0) * torch.tensor(w)).sum().backward()
    (got.masked_fill(ag.tensor(~finite.numpy(), device=device), 0) * ag.tensor(w, device=device)).sum().backward()
    for k in params:
        t = np.zeros(params[k].shape) if tp[k].grad is None else tp[k].grad.numpy()
        o = np.zeros(params[k].shape) if op[k].grad is None else _np(op[k].grad)
        np.testing.assert_allclose(o, t, rtol=1e-7, atol=1e-10, err_msg=k)


def test_kl_dispatch_and_register():
    D = ag.distributions
    with pytest.raises(NotImplementedError) as ours:
        D.kl_divergence(D.Categorical(logits=ag.zeros(3)), D.Normal(0.0, 1.0))
    with pytest.raises(NotImplementedError) as theirs:
        torch.distributions.kl_divergence(torch.distributions.Categorical(logits=torch.zeros(3)),
                                          torch.distributions.Normal(0.0, 1.0))
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(NotImplementedError):  # two different exponential families: no Bregman divergence
        D.kl._kl_expfamily_expfamily(D.Normal(0.0, 1.0), D.Exponential(1.0))

    class MyNormal(D.Normal):
        pass

    # a subclass without its own entry takes its base's; registering one replaces it for that pair only
    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)
    assert float(D.kl_divergence(p, q)) == pytest.approx(0.5)

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return ag.tensor(7.0)
    assert float(D.kl_divergence(p, q)) == 7.0 and float(D.kl_divergence(q, p)) == pytest.approx(0.5)
    D.kl._KL_REGISTRY.pop((MyNormal, D.Normal))
    D.kl._KL_MEMOIZE.clear()
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


# ---- transforms ----------------------------------------------------------------------------------------------
TRANSFORMS = {
    "exp": (lambda T, p: T.ExpTransform(), {}, _real(2, 3)),
    "affine": (lambda T, p: T.AffineTransform(p["loc"], p["scale"]), {"loc": _real(3), "scale": _real(3)},
               _real(2, 3)),
    "affine-number": (lambda T, p: T.AffineTransform(1.5, -0.5), {}, _real(2, 3)),
    "affine-event": (lambda T, p: T.AffineTransform(0.0, p["scale"], event_dim=1), {"scale": _pos(3)}, _real(2, 3)),
    "sigmoid": (lambda T, p: T.SigmoidTransform(), {}, _real(2, 3)),
    "tanh": (lambda T, p: T.TanhTransform(), {}, _real(2, 3)),
    "softplus": (lambda T, p: T.SoftplusTransform(), {}, _real(2, 3)),
    "power": (lambda T, p: T.PowerTransform(p["e"]), {"e": _pos(3)}, _pos(2, 3)),
    "compose": (lambda T, p: T.ComposeTransform([T.AffineTransform(0.3, p["s"]), T.TanhTransform(),
                                                  T.AffineTransform(1.0, 2.0)]), {"s": _pos(3)}, _real(2, 3)),
    "inverse-exp": (lambda T, p: T.ExpTransform().inv, {}, _pos(2, 3)),
    "independent": (lambda T, p: T.IndependentTransform(T.SigmoidTransform(), 1), {}, _real(2, 3)),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transforms(name, device):
    make, params, xs = TRANSFORMS[name]
    tp, op = _tensors(torch, params), _tensors(ag, params, device)
    tt, ot = make(torch.distributions.transforms, tp), make(ag.distributions.transforms, op)
    tx = torch.tensor(xs, requires_grad=True)
    ox = ag.tensor(xs, device=device, requires_grad=True)
    ty, oy = tt(tx), ot(ox)
    tl, ol = tt.log_abs_det_jacobian(tx, ty), ot.log_abs_det_jacobian(ox, oy)
    tinv, oinv = tt.inv(ty.detach()), ot.inv(oy.detach())
    for o, t in ((oy, ty), (ol, tl), (oinv, tinv)):
        np.testing.assert_allclose(_np(o), _np(t), rtol=1e-10, atol=1e-12)
    (ty.sum() + tl.sum() + tinv.sum()).backward()
    (oy.sum() + ol.sum() + oinv.sum()).backward()
    np.testing.assert_allclose(_np(ox.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert ot.domain.event_dim == tt.domain.event_dim and ot.codomain.event_dim == tt.codomain.event_dim
    assert repr(ot.domain) == repr(tt.domain) and repr(ot.codomain) == repr(tt.codomain)
    assert ot.bijective == tt.bijective and ot == ot and ot.inv.inv is ot


def test_transform_cache_and_equality():
    T = ag.distributions.transforms
    t = T.ExpTransform(cache_size=1)
    x = ag.tensor([0.5, 1.0])
    y = t(x)
    assert t(x) is y and t.inv(y) is x and T.ExpTransform().with_cache(1)._cache_size == 1
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ComposeTransform([T.ExpTransform()]).inv == T.ComposeTransform([T.ExpTransform().inv])
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    assert repr(T.ComposeTransform([T.ExpTransform(), T.TanhTransform()])) == repr(
        torch.distributions.transforms.ComposeTransform([torch.distributions.transforms.ExpTransform(),
                                                         torch.distributions.transforms.TanhTransform()]))


# ---- constraints ---------------------------------------------------------------------------------------------
CONSTRAINT_VALUES = {
    "real": np.array([0.0, np.nan, np.inf]), "positive": np.array([-1.0, 0.0, 2.0]),
    "nonnegative": np.array([-1.0, 0.0, 2.0]), "unit_interval": np.array([-0.1, 0.0, 1.0, 1.1]),
    "boolean": np.array([0.0, 1.0, 0.5]), "nonnegative_integer": np.array([-1.0, 0.0, 2.0, 2.5]),
    "positive_integer": np.array([0.0, 1.0, 3.0, 1.5]), "simplex": np.array([[0.2, 0.8], [0.5, 0.6], [-0.1, 1.1]]),
    "real_vector": np.array([[0.0, np.nan], [1.0, 2.0]]), "one_hot": np.array([[0.0, 1.0], [1.0, 1.0], [0.5, 0.5]]),
    "lower_triangular": np.array([[[1.0, 0.0], [2.0, -1.0]], [[1.0, 1.0], [0.0, 1.0]]]),
    "lower_cholesky": np.array([[[1.0, 0.0], [2.0, -1.0]], [[1.0, 0.0], [3.0, 2.0]]]),
    "square": np.zeros((2, 3, 3)), "symmetric": np.array([[[1.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [0.0, 1.0]]]),
    "positive_definite": np.array([[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]]),
}
CONSTRAINT_FACTORIES = {
    "greater_than": (lambda C: C.greater_than(1.0), np.array([0.0, 1.0, 2.0])),
    "greater_than_eq": (lambda C: C.greater_than_eq(1.0), np.array([0.0, 1.0, 2.0])),
    "less_than": (lambda C: C.less_than(1.0), np.array([0.0, 1.0, 2.0])),
    "interval": (lambda C: C.interval(0.0, 2.0), np.array([-1.0, 0.0, 2.0, 3.0])),
    "half_open_interval": (lambda C: C.half_open_interval(0.0, 2.0), np.array([-1.0, 0.0, 2.0])),
    "integer_interval": (lambda C: C.integer_interval(0, 3), np.array([-1.0, 0.0, 1.5, 3.0, 4.0])),
    "independent": (lambda C: C.independent(C.positive, 1), np.array([[1.0, 2.0], [1.0, -1.0]])),
}


@pytest.mark.parametrize("name", list(CONSTRAINT_VALUES) + list(CONSTRAINT_FACTORIES))
def test_constraints(name, device):
    if name in CONSTRAINT_VALUES:
        ours, theirs, x = getattr(ag.distributions.constraints, name), getattr(torch.distributions.constraints, name), \
            CONSTRAINT_VALUES[name]
    else:
        make, x = CONSTRAINT_FACTORIES[name]
        ours, theirs = make(ag.distributions.constraints), make(torch.distributions.constraints)
    got, want = ours.check(ag.tensor(x, device=device)), theirs.check(torch.tensor(x))
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    assert repr(ours) == repr(theirs)
    assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete


def test_dependent_constraints():
    C = ag.distributions.constraints
    assert C.is_dependent(C.dependent) and C.is_dependent(ag.distributions.Uniform.support)
    assert not C.is_dependent(C.real)
    assert ag.distributions.Categorical.support.is_discrete and ag.distributions.Categorical.support.event_dim == 0
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        C.dependent.check(ag.zeros(1))
    with pytest.raises(NotImplementedError, match=".event_dim cannot be determined statically"):
        C.dependent.event_dim


# ---- validation: PyTorch's error types and messages ----------------------------------------------------------
BAD = {
    "negative-scale": lambda m, D: D.Normal(m.tensor([0.0, 1.0]), m.tensor([1.0, -1.0])),
    "number-params": lambda m, D: D.Normal(0.0, -1.0),
    "probs-above-one": lambda m, D: D.Bernoulli(probs=m.tensor([0.5, 1.5])),
    "not-a-simplex": lambda m, D: D.Dirichlet(m.tensor([[1.0, -2.0]])),
    "low-above-high": lambda m, D: D.Uniform(m.tensor([2.0]), m.tensor([1.0])),
    "both-probs-logits": lambda m, D: D.Bernoulli(probs=m.tensor([0.5]), logits=m.tensor([0.0])),
    "neither": lambda m, D: D.Categorical(),
    "scalar-probs": lambda m, D: D.Categorical(probs=m.tensor(0.5)),
    "two-matrices": lambda m, D: D.MultivariateNormal(m.zeros(2), covariance_matrix=m.eye(2), scale_tril=m.eye(2)),
    "not-lower": lambda m, D: D.MultivariateNormal(m.zeros(2), scale_tril=m.tensor([[1.0, 1.0], [0.0, 1.0]])),
    "not-pd": lambda m, D: D.MultivariateNormal(m.zeros(2), covariance_matrix=m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "value-outside": lambda m, D: D.Exponential(m.tensor([1.0, 2.0])).log_prob(m.tensor([1.0, -1.0])),
    "value-not-integer": lambda m, D: D.Poisson(m.tensor([1.0])).log_prob(m.tensor([1.5])),
    "value-bad-category": lambda m, D: D.Categorical(logits=m.zeros(3)).log_prob(m.tensor([3])),
    "value-event-shape": lambda m, D: D.Dirichlet(m.ones(3)).log_prob(m.ones(2) / 2),
    "value-batch-shape": lambda m, D: D.Normal(m.zeros(3), 1.0).log_prob(m.zeros(2)),
    "value-not-tensor": lambda m, D: D.Normal(0.0, 1.0).log_prob(0.5),
    "independent-ndims": lambda m, D: D.Independent(D.Normal(m.zeros(3), 1.0), 2),
    "geometric-zero-probs": lambda m, D: D.Geometric(probs=m.tensor([0.5, 0.0])),
    "binomial-inhomogeneous-entropy": lambda m, D: D.Binomial(m.tensor([2.0, 3.0]),
                                                              probs=m.tensor([0.5, 0.5])).entropy(),
    "binomial-kl-larger-q-count": lambda m, D: D.kl_divergence(D.Binomial(2, probs=m.tensor([0.5])),
                                                               D.Binomial(3, probs=m.tensor([0.5]))),
    "binomial-int-count": lambda m, D: m.binomial(m.tensor([3]), m.tensor([0.5])),
    "halfnormal-negative-value": lambda m, D: D.HalfNormal(m.tensor([1.0])).log_prob(m.tensor([-1.0])),
}


@pytest.mark.parametrize("name", list(BAD))
def test_validation_errors_match_torch(name):
    with pytest.raises(Exception) as theirs:
        BAD[name](torch, torch.distributions)
    with pytest.raises(Exception) as ours:
        BAD[name](ag, ag.distributions)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_gamma_log_prob_takes_a_number():
    assert ag.distributions.Gamma(2.0, 1.5).log_prob(0.5).item() == pytest.approx(
        torch.distributions.Gamma(2.0, 1.5).log_prob(0.5).item(), rel=1e-6)


def test_validate_args_false_skips_checks():
    d = ag.distributions.Normal(ag.tensor([0.0]), ag.tensor([-1.0]), validate_args=False)
    assert d.log_prob(ag.tensor([0.0])).isnan().all()
    assert ag.distributions.Exponential(1.0, validate_args=False).log_prob(ag.tensor(-1.0)).item() == 1.0
    Dist = ag.distributions.Distribution
    Dist.set_default_validate_args(False)
    try:
        ag.distributions.Normal(0.0, -1.0)
    finally:
        Dist.set_default_validate_args(True)
    with pytest.raises(ValueError):
        ag.distributions.Normal(0.0, -1.0)


# ---- sampling: moments, reproducibility, devices -------------------------------------------------------------
# name -> (make(D, p) over ag or torch tensors, parameters); moments come from torch's distribution
SAMPLED = {
    "Normal": (lambda D, p: D.Normal(p["a"], p["b"]), {"a": np.array([-1.0, 2.0]), "b": np.array([0.5, 2.0])}),
    "Laplace": (lambda D, p: D.Laplace(p["a"], p["b"]), {"a": np.array([-1.0, 2.0]), "b": np.array([0.5, 2.0])}),
    "Uniform": (lambda D, p: D.Uniform(p["a"], p["b"]), {"a": np.array([-1.0, 2.0]), "b": np.array([0.5, 5.0])}),
    "Exponential": (lambda D, p: D.Exponential(p["a"]), {"a": np.array([0.5, 3.0])}),
    "Gamma": (lambda D, p: D.Gamma(p["a"], p["b"]), {"a": np.array([0.3, 1.0, 7.0]), "b": np.array([1.0, 2.0, 0.5])}),
    "Beta": (lambda D, p: D.Beta(p["a"], p["b"]), {"a": np.array([0.5, 2.0]), "b": np.array([3.0, 0.7])}),
    "Dirichlet": (lambda D, p: D.Dirichlet(p["a"]), {"a": np.array([[0.5, 1.0, 3.0]])}),
    "Poisson": (lambda D, p: D.Poisson(p["a"]), {"a": np.array([0.5, 4.0, 30.0])}),
    "Bernoulli": (lambda D, p: D.Bernoulli(probs=p["a"]), {"a": np.array([0.1, 0.5, 0.95])}),
    "OneHotCategorical": (lambda D, p: D.OneHotCategorical(probs=p["a"]), {"a": np.array([0.2, 0.0, 0.5, 0.3])}),
    "MultivariateNormal": (lambda D, p: D.MultivariateNormal(p["a"], covariance_matrix=p["S"]),
                           {"a": np.array([1.0, -1.0]), "S": np.array([[2.0, 0.6], [0.6, 1.0]])}),
    "LogNormal": (lambda D, p: D.LogNormal(p["a"], p["b"]), {"a": np.array([0.0, 1.0]), "b": np.array([0.25, 0.5])}),
    "Transformed-tanh": (lambda D, p: D.TransformedDistribution(D.Normal(p["a"], p["b"]),
                                                                [D.transforms.TanhTransform()]),
                         {"a": np.array([0.3]), "b": np.array([0.8])}),
    "Gumbel": (lambda D, p: D.Gumbel(p["a"], p["b"]), {"a": np.array([-1.0, 2.0]), "b": np.array([0.5, 2.0])}),
    "Geometric": (lambda D, p: D.Geometric(probs=p["a"]), {"a": np.array([0.2, 0.7])}),
    "Chi2": (lambda D, p: D.Chi2(p["a"]), {"a": np.array([1.0, 5.0])}),
    "StudentT": (lambda D, p: D.StudentT(p["a"], p["b"], p["c"]),
                 {"a": np.array([9.0, 30.0]), "b": np.array([1.0, -2.0]), "c": np.array([0.5, 2.0])}),
    "HalfNormal": (lambda D, p: D.HalfNormal(p["a"]), {"a": np.array([0.5, 3.0])}),
    "Binomial": (lambda D, p: D.Binomial(p["n"], probs=p["a"]), {"n": np.array([1.0, 10.0, 40.0]),
                                                                 "a": np.array([0.3, 0.5, 0.9])}),
}
N_DRAWS = 20_000


def _check_moments(x, mean, var):
    """Sample mean and variance within Z standard errors (the variance's from the sample's 4th moment, plus the
    second-order term var / n that dominates when the 4th moment is var^2, as for a fair coin)."""
    n = x.shape[0]
    c = x - mean
    assert np.all(np.abs(x.mean(0) - mean) <= Z * np.sqrt(var / n)), (x.mean(0), mean)
    m4 = (c ** 4).mean(0)
    assert np.all(np.abs(x.var(0, ddof=1) - var) <= Z * np.sqrt(np.maximum(m4 - var ** 2, 0) / n) + Z * Z * var / n), \
        (x.var(0, ddof=1), var)


@pytest.mark.parametrize("name", list(SAMPLED))
def test_sample_moments_and_seed(name, device):
    make, params = SAMPLED[name]
    td = make(torch.distributions, _tensors(torch, params, grad=False))
    od = make(ag.distributions, _tensors(ag, params, device, grad=False))
    if name == "Transformed-tanh":  # no closed form: the moments of tanh(N) by quadrature
        z, w = np.polynomial.hermite_e.hermegauss(80)
        y = np.tanh(0.3 + 0.8 * z)
        mean = np.array([(w * y).sum() / w.sum()])
        var = np.array([(w * y * y).sum() / w.sum()]) - mean ** 2
    else:
        mean, var = td.mean.numpy(), td.variance.numpy()
    ag.manual_seed(1)
    x = od.sample((N_DRAWS,))
    assert x.device.type == device and x.dtype == ag.float64
    assert tuple(x.shape) == (N_DRAWS,) + tuple(td.batch_shape) + tuple(td.event_shape)
    assert x.grad_fn is None and not x.requires_grad
    xs = _np(x)
    assert bool(od.support.check(x).all())
    _check_moments(xs, mean, var)
    ag.manual_seed(1)
    np.testing.assert_array_equal(_np(od.sample((N_DRAWS,))), xs)
    if od.has_rsample:
        ag.manual_seed(1)
        np.testing.assert_array_equal(_np(od.rsample((N_DRAWS,))), xs)


def test_categorical_sample_shape_and_counts(device):
    probs = np.array([[0.2, 0.0, 0.8], [0.5, 0.25, 0.25]])
    d = ag.distributions.Categorical(probs=ag.tensor(probs, device=device))
    ag.manual_seed(3)
    x = d.sample((4000, 2))
    assert tuple(x.shape) == (4000, 2, 2) and x.dtype == ag.int64
    xs = x.cpu().numpy().reshape(-1, 2)
    for b in range(2):
        frac = np.bincount(xs[:, b], minlength=3) / xs.shape[0]
        assert np.all(np.abs(frac - probs[b]) <= Z * np.sqrt(probs[b] * (1 - probs[b]) / xs.shape[0]))


# ---- rsample gradients ---------------------------------------------------------------------------------------
def test_rsample_gradients_from_the_noise(device):
    """Location-scale families: the sample is a known function of its noise; its gradient must be that
    function's derivative."""
    D = ag.distributions
    loc = ag.tensor([0.5, -1.0], dtype=ag.float64, device=device, requires_grad=True)
    scale = ag.tensor([2.0, 0.5], dtype=ag.float64, device=device, requires_grad=True)
    for make in (D.Normal, D.Laplace):
        loc.grad = scale.grad = None
        x = make(loc, scale).rsample((50,))
        x.sum().backward()
        eps = (_np(x) - _np(loc)) / _np(scale)
        np.testing.assert_allclose(_np(loc.grad), [50.0, 50.0])
        np.testing.assert_allclose(_np(scale.grad), eps.sum(0), rtol=1e-10)
    low, high = loc, loc + scale
    loc.grad = scale.grad = None
    x = D.Uniform(low, high).rsample((50,))
    x.sum().backward()
    u = (_np(x) - _np(low)) / _np(scale)
    np.testing.assert_allclose(_np(scale.grad), u.sum(0), rtol=1e-10)  # d x / d width = u, d x / d low = 1
    np.testing.assert_allclose(_np(loc.grad), [50.0, 50.0], rtol=1e-10)
    rate = scale
    rate.grad = None
    x = D.Exponential(rate).rsample((50,))
    x.sum().backward()
    np.testing.assert_allclose(_np(rate.grad), (-_np(x) / _np(rate)).sum(0), rtol=1e-10)
    scale.grad = None
    x = D.LogNormal(loc, scale).rsample((50,))  # exp(loc + eps scale)
    x.sum().backward()
    eps = (np.log(_np(x)) - _np(loc)) / _np(scale)
    np.testing.assert_allclose(_np(scale.grad), (_np(x) * eps).sum(0), rtol=1e-9)


def test_mvn_rsample_gradient_matches_torch_on_the_same_noise(device):
    L = _tril(3)
    loc = _real(3)
    oL = ag.tensor(L, device=device, requires_grad=True)
    oloc = ag.tensor(loc, device=device, requires_grad=True)
    ag.manual_seed(0)
    x = ag.distributions.MultivariateNormal(oloc, scale_tril=oL).rsample((7,))
    eps = np.linalg.solve(L, (_np(x) - loc).T).T
    w = _rng.normal(size=(7, 3))
    (x * ag.tensor(w, device=device)).sum().backward()
    tL, tloc = torch.tensor(L, requires_grad=True), torch.tensor(loc, requires_grad=True)
    tx = tloc + (tL @ torch.tensor(eps).unsqueeze(-1)).squeeze(-1)  # torch's rsample given this noise
    (tx * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_np(x), tx.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(_np(oL.grad), tL.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_np(oloc.grad), tloc.grad.numpy(), rtol=1e-9)


def test_gamma_rsample_gradient_is_torchs_implicit_gradient(device):
    alpha = np.array([0.05, 0.4, 1.0, 3.0, 8.5, 40.0])
    rate = np.array([1.0, 2.0, 0.5, 1.5, 1.0, 3.0])
    oa = ag.tensor(alpha, device=device, requires_grad=True)
    orate = ag.tensor(rate, device=device, requires_grad=True)
    ag.manual_seed(0)
    x = ag.distributions.Gamma(oa, orate).rsample((300,))
    x.sum().backward()
    g = _np(x) * rate  # the standard-gamma draws
    want = torch._standard_gamma_grad(torch.tensor(alpha).expand(300, 6), torch.tensor(g)).numpy() / rate
    np.testing.assert_allclose(_np(oa.grad), want.sum(0), rtol=1e-9)
    np.testing.assert_allclose(_np(orate.grad), (-g / rate ** 2).sum(0), rtol=1e-10)
    assert type(x.grad_fn).__name__ == "DivBackward0"


@pytest.mark.parametrize("which", ["Dirichlet", "Beta"])
def test_dirichlet_beta_rsample_gradient_is_torchs(which, device):
    """Given the same draw, the gradient is PyTorch's (torch._dirichlet_grad through _Dirichlet's backward)."""
    from torch.distributions.dirichlet import _Dirichlet_backward
    c = np.array([[0.05, 0.7, 2.0, 9.0], [8.0, 7.0, 0.5, 30.0]]) if which == "Dirichlet" else np.array([[0.4, 2.0],
                                                                                                        [9.0, 7.5]])
    oc = ag.tensor(c, device=device, requires_grad=True)
    ag.manual_seed(0)
    if which == "Dirichlet":
        x = ag.distributions.Dirichlet(oc).rsample((50,))
        assert type(x.grad_fn).__name__ == "_DirichletBackward"
        xs = _np(x)
    else:
        x = ag.distributions.Beta(oc[:, 0], oc[:, 1]).rsample((50,))
        assert type(x.grad_fn).__name__ == "SelectBackward0"
        xs = np.stack([_np(x), 1 - _np(x)], -1)
    w = _rng.normal(size=tuple(x.shape))
    (x * ag.tensor(w, device=device)).sum().backward()
    g = w if which == "Dirichlet" else np.stack([w, np.zeros_like(w)], -1)
    want = _Dirichlet_backward(torch.tensor(xs), torch.tensor(c).expand(xs.shape), torch.tensor(g)).sum(0)
    np.testing.assert_allclose(_np(oc.grad), want.numpy(), rtol=1e-9, atol=1e-12)


def _mean_gradient_check(grads, want):
    n = grads.shape[0]
    assert np.all(np.abs(grads.mean(0) - want) <= Z * grads.std(0) / np.sqrt(n)), (grads.mean(0), want)


def _per_draw(values, n):
    """The parameters repeated once per draw, as leaves: a backward gives each draw's own gradient."""
    return ag.tensor(np.broadcast_to(values, (n,) + np.shape(values)).copy(), requires_grad=True)


def test_gamma_beta_dirichlet_rsample_gradients_are_unbiased(device):
    """E[d x / d theta] = d E[x] / d theta: the implicit reparameterisation gradients, draw by draw."""
    n = 20_000
    D = ag.distributions
    ag.manual_seed(2)
    a = _per_draw([0.3, 2.0, 12.0], n).to(device).detach().requires_grad_()
    (g,) = ag.autograd.grad(D.Gamma(a, 2.0).rsample().sum(), [a])
    _mean_gradient_check(_np(g), np.full(3, 0.5))  # d (a / 2) / d a
    s1, s0 = np.array([0.7, 3.0]), np.array([2.0, 0.9])
    c1 = _per_draw(s1, n).to(device).detach().requires_grad_()
    c0 = _per_draw(s0, n).to(device).detach().requires_grad_()
    g1, g0 = ag.autograd.grad(D.Beta(c1, c0).rsample().sum(), [c1, c0])
    total = s1 + s0
    _mean_gradient_check(np.concatenate([_np(g1), _np(g0)], 1), np.concatenate([s0 / total ** 2, -s1 / total ** 2]))
    c = np.array([0.5, 1.5, 3.0])
    conc = _per_draw(c, n).to(device).detach().requires_grad_()
    (gc,) = ag.autograd.grad(D.Dirichlet(conc).rsample()[:, 0].sum(), [conc])
    want = -c[0] / c.sum() ** 2 * np.ones(3)
    want[0] += 1 / c.sum()  # d (c0 / sum c) / d c
    _mean_gradient_check(_np(gc), want)


# ---- the GPU path makes no host sync (validation off: checking values is the sync PyTorch makes too) --------
def _no_host_sync():
    cupy = _device.cupy()
    return cupy.no_host_sync() if hasattr(cupy, "no_host_sync") else contextlib.nullcontext()


def test_gpu_paths_make_no_host_sync():
    D = ag.distributions
    loc = ag.tensor([0.5, -1.0], device="cuda", requires_grad=True)
    scale = ag.tensor([2.0, 0.5], device="cuda", requires_grad=True)
    logits = ag.tensor([[0.1, 0.2, -0.3]], device="cuda", requires_grad=True)
    with _no_host_sync():
        for d in (D.Normal(loc, scale, validate_args=False), D.Gamma(scale, scale, validate_args=False),
                  D.Beta(scale, scale, validate_args=False), D.LogNormal(loc, scale, validate_args=False)):
            x = d.rsample((3,))
            (d.log_prob(x).sum() + d.entropy().sum() if not isinstance(d, D.LogNormal) else
             d.log_prob(x).sum()).backward()
        c = D.Categorical(logits=logits, validate_args=False)
        (c.log_prob(c.sample((4,))).sum() + c.entropy().sum()).backward()
        p, q = D.Normal(loc, scale, validate_args=False), D.Normal(scale, scale, validate_args=False)
        D.kl_divergence(p, q).sum().backward()
    assert loc.grad.device.type == "cuda" and logits.grad.device.type == "cuda"

"""nn.utils.parametrize, parametrizations.weight_norm / spectral_norm and the hook forms nn.utils.weight_norm /
spectral_norm against torch: state_dict keys, reprs, values, gradients and 10-step SGD trajectories on both
devices (float64), the parametrize API (chaining, assignment through right_inverse, caching, removal) and its
errors."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag

_rng = np.random.default_rng(7)


def _np(t):
    return t.detach().cpu().numpy()


def _copy_state(src, dst, device):
    dst.load_state_dict({k: ag.tensor(v.detach().numpy(), device=device) for k, v in src.state_dict().items()})


class _Symmetric:
    """A parametrization written once for both libraries: X -> triu(X) + triu(X, 1)^T."""

    @staticmethod
    def make(m):
        class Symmetric(m.nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).transpose(-1, -2)

            def right_inverse(self, a):
                return a.triu()
        return Symmetric()


def _scale(m, factor):
    class Scale(m.nn.Module):
        def forward(self, x):
            return x * factor

        def right_inverse(self, y):
            return y / factor
    return Scale()


def _both(build, device):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        mt = build(torch).double()
        ma = build(ag).double().to(device)
    return mt, ma


# id -> (build(m) -> module, input shape)
WRAPPED = [
    ("wn_linear", lambda m: m.nn.utils.parametrizations.weight_norm(m.nn.Linear(3, 4)), (5, 3)),
    ("wn_conv_dim1", lambda m: m.nn.utils.parametrizations.weight_norm(m.nn.Conv2d(2, 3, 2), dim=1), (2, 2, 4, 4)),
    ("wn_dim_none", lambda m: m.nn.utils.parametrizations.weight_norm(m.nn.Linear(3, 2), dim=None), (4, 3)),
    ("wn_bias", lambda m: m.nn.utils.parametrizations.weight_norm(m.nn.Linear(3, 2), name="bias"), (4, 3)),
    ("sn_linear", lambda m: m.nn.utils.parametrizations.spectral_norm(m.nn.Linear(3, 4)), (5, 3)),
    ("sn_conv_transpose", lambda m: m.nn.utils.parametrizations.spectral_norm(m.nn.ConvTranspose2d(2, 3, 2),
                                                                              n_power_iterations=2), (1, 2, 3, 3)),
    ("sn_bias_1d", lambda m: m.nn.utils.parametrizations.spectral_norm(m.nn.Linear(3, 2), name="bias"), (4, 3)),
    ("old_wn", lambda m: m.nn.utils.weight_norm(m.nn.Linear(3, 4)), (5, 3)),
    ("old_wn_dim_none", lambda m: m.nn.utils.weight_norm(m.nn.Conv1d(2, 3, 2), dim=None), (2, 2, 5)),
    ("old_sn", lambda m: m.nn.utils.spectral_norm(m.nn.Linear(3, 4)), (5, 3)),
    ("old_sn_conv_transpose", lambda m: m.nn.utils.spectral_norm(m.nn.ConvTranspose1d(2, 3, 2), n_power_iterations=3),
     (2, 2, 4)),
    ("symmetric_chain", lambda m: m.nn.utils.parametrize.register_parametrization(
        m.nn.utils.parametrize.register_parametrization(m.nn.Linear(3, 3), "weight", _Symmetric.make(m)), "weight",
        _scale(m, 2.0)), (4, 3)),
]


@pytest.mark.parametrize("case", WRAPPED, ids=[c[0] for c in WRAPPED])
def test_matches_torch_for_ten_sgd_steps(case, device):
    _, build, shape = case
    mt, ma = _both(build, device)
    assert type(ma).__name__ == type(mt).__name__
    assert repr(ma) == repr(mt)
    assert list(ma.state_dict()) == list(mt.state_dict())
    assert [n for n, _ in ma.named_parameters()] == [n for n, _ in mt.named_parameters()]
    _copy_state(mt, ma, device)
    if hasattr(mt, "weight_u"):  # the hook forms hold the weight as a plain attribute until the first forward
        ma.weight = ag.tensor(mt.weight.detach().numpy(), device=device)
    ot = torch.optim.SGD(mt.parameters(), lr=0.1)
    oa = ag.optim.SGD(ma.parameters(), lr=0.1)
    for step in range(10):
        x = _rng.standard_normal(shape)
        yt, ya = mt(torch.tensor(x)), ma(ag.tensor(x, device=device))
        np.testing.assert_allclose(_np(ya), _np(yt), rtol=1e-9, atol=1e-12, err_msg=f"step {step}")
        w = _rng.standard_normal(tuple(yt.shape))
        ot.zero_grad()
        oa.zero_grad()
        (yt * torch.tensor(w)).sum().backward()
        (ya * ag.tensor(w, device=device)).sum().backward()
        for (name, pa), (_, pt) in zip(ma.named_parameters(), mt.named_parameters()):
            np.testing.assert_allclose(_np(pa.grad), pt.grad.numpy(), rtol=1e-8, atol=1e-11, err_msg=name)
        ot.step()
        oa.step()
    for (name, a), (_, t) in zip(ma.state_dict().items(), mt.state_dict().items()):
        np.testing.assert_allclose(_np(a), t.numpy(), rtol=1e-8, atol=1e-11, err_msg=name)
    mt.eval()
    ma.eval()
    x = _rng.standard_normal(shape)
    np.testing.assert_allclose(_np(ma(ag.tensor(x, device=device))), _np(mt(torch.tensor(x))), rtol=1e-9,
                               atol=1e-12)


def test_spectral_norm_divides_by_the_largest_singular_value():
    ag.manual_seed(0)
    m = ag.nn.utils.parametrizations.spectral_norm(ag.nn.Linear(6, 5).double(), n_power_iterations=30)
    w = m.weight.detach().numpy()
    assert abs(np.linalg.svd(w, compute_uv=False)[0] - 1) < 1e-6
    assert m.parametrizations.weight[0]._u.shape == (5,)
    m.eval()  # no power iteration in eval: the same weight twice, the buffers unchanged
    u = m.parametrizations.weight[0]._u.clone()
    np.testing.assert_array_equal(m.weight.detach().numpy(), m.weight.detach().numpy())
    assert ag.equal(u, m.parametrizations.weight[0]._u)


def test_weight_norm_values_and_remove():
    lin = ag.nn.Linear(3, 4)
    w0 = lin.weight.detach().numpy().copy()
    m = ag.nn.utils.parametrizations.weight_norm(lin)
    g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    np.testing.assert_allclose(g.detach().numpy()[:, 0], np.linalg.norm(w0, axis=1), rtol=1e-6)
    np.testing.assert_allclose(v.detach().numpy(), w0)
    np.testing.assert_allclose(m.weight.detach().numpy(), w0, rtol=1e-6)
    ag.nn.utils.parametrize.remove_parametrizations(m, "weight")
    assert type(m) is ag.nn.Linear and list(m.state_dict()) == ["bias", "weight"]  # (as torch re-registers it)
    assert isinstance(m.weight, ag.nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), w0, rtol=1e-6)


def test_weight_norm_loads_hook_form_checkpoints(device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = ag.nn.utils.weight_norm(ag.nn.Linear(3, 4))
    new = ag.nn.utils.parametrizations.weight_norm(ag.nn.Linear(3, 4))
    sd = old.state_dict()
    assert list(sd) == ["bias", "weight_g", "weight_v"]
    new.to(device).load_state_dict({k: v.to(device) for k, v in sd.items()})
    np.testing.assert_allclose(_np(new.parametrizations.weight.original0), _np(old.weight_g))
    np.testing.assert_allclose(_np(new.weight), _np(old.weight), rtol=1e-6)


def test_hook_forms_remove_and_refuse_twice():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        m = ag.nn.utils.weight_norm(ag.nn.Linear(3, 4))
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"):
            ag.nn.utils.weight_norm(m)
    w = m.weight.detach().numpy().copy()
    ag.nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and not m._forward_pre_hooks
    np.testing.assert_allclose(m.weight.detach().numpy(), w)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        ag.nn.utils.remove_weight_norm(m)
    s = ag.nn.utils.spectral_norm(ag.nn.Linear(3, 4))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        ag.nn.utils.spectral_norm(s)
    ag.nn.utils.remove_spectral_norm(s)
    assert list(s.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
        ag.nn.utils.remove_spectral_norm(s)


def test_old_weight_norm_warns():
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        ag.nn.utils.weight_norm(ag.nn.Linear(2, 2))


def test_assignment_goes_through_right_inverse():
    pz = ag.nn.utils.parametrize
    m = pz.register_parametrization(ag.nn.Linear(3, 3), "weight", _Symmetric.make(ag))
    pz.register_parametrization(m, "weight", _scale(ag, 3.0))
    a = ag.tensor(_rng.standard_normal((3, 3)), dtype=ag.float32)
    a = a + a.t()
    m.weight = a
    np.testing.assert_allclose(m.weight.detach().numpy(), a.numpy(), rtol=1e-6)
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(), np.triu(a.numpy()) / 3,
                               rtol=1e-6)
    assert pz.is_parametrized(m) and pz.is_parametrized(m, "weight") and not pz.is_parametrized(m, "bias")
    assert pz.type_before_parametrizations(m) is ag.nn.Linear


def test_cached_computes_once():
    pz = ag.nn.utils.parametrize
    calls = []

    class Count(ag.nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1

    m = pz.register_parametrization(ag.nn.Linear(2, 2), "weight", Count())
    calls.clear()
    with pz.cached():
        a, b = m.weight, m.weight
    assert a is b and len(calls) == 1
    m.weight, m.weight  # noqa: B018  (outside the context: each access computes)
    assert len(calls) == 3


def test_remove_leaving_the_original_and_buffers():
    pz = ag.nn.utils.parametrize
    m = ag.nn.BatchNorm1d(3)
    with ag.no_grad():
        m.running_var.fill_(2.0)
    pz.register_parametrization(m, "running_var", _scale(ag, 5.0))
    assert "parametrizations.running_var.original" in m.state_dict()
    assert not isinstance(m.parametrizations.running_var.original, ag.nn.Parameter)
    np.testing.assert_allclose(m.running_var.numpy(), 2.0)
    pz.remove_parametrizations(m, "running_var", leave_parametrized=False)
    np.testing.assert_allclose(m.running_var.numpy(), 0.4)
    assert type(m) is ag.nn.BatchNorm1d and "running_var" in m._buffers


def test_copy_and_pickle():
    m = ag.nn.utils.parametrizations.weight_norm(ag.nn.Linear(3, 2))
    c = copy.deepcopy(m)
    assert type(c).__name__ == "ParametrizedLinear" and ag.equal(c.weight, m.weight)
    assert c.parametrizations.weight.original0 is not m.parametrizations.weight.original0
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


ERRORS = [
    ("shape change", lambda m: m.nn.utils.parametrize.register_parametrization(
        m.nn.Linear(3, 2), "weight", _Flatten.make(m))),
    ("no such tensor", lambda m: m.nn.utils.parametrize.register_parametrization(
        m.nn.Linear(3, 2), "weights", _scale(m, 2.0))),
    ("remove unparametrized", lambda m: m.nn.utils.parametrize.remove_parametrizations(m.nn.Linear(3, 2), "weight")),
    ("remove sequence original", lambda m: m.nn.utils.parametrize.remove_parametrizations(
        m.nn.utils.parametrizations.weight_norm(m.nn.Linear(3, 2)), "weight", leave_parametrized=False)),
    ("no right_inverse", lambda m: setattr(m.nn.utils.parametrize.register_parametrization(
        m.nn.Linear(3, 2), "weight", _NoInverse.make(m)), "weight", m.zeros(2, 3))),
    ("spectral dim", lambda m: m.nn.utils.parametrizations.spectral_norm(m.nn.Linear(3, 2), dim=2)),
    ("spectral iterations", lambda m: m.nn.utils.parametrizations.spectral_norm(m.nn.Linear(3, 2),
                                                                                n_power_iterations=0)),
    ("spectral name", lambda m: m.nn.utils.parametrizations.spectral_norm(m.nn.Linear(3, 2), name="w")),
]


class _Flatten:
    @staticmethod
    def make(m):
        class Flat(m.nn.Module):
            def forward(self, x):
                return x.flatten()
        return Flat()


class _NoInverse:
    @staticmethod
    def make(m):
        class Double(m.nn.Module):
            def forward(self, x):
                return x * 2
        return Double()


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_match_torch(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(ag)
    assert type(ours.value) is type(theirs.value)
    # (the messages name the module by its repr and torch's dtype/shape types: compare their first line's words)
    t, a = str(theirs.value).split("\n")[0], str(ours.value).split("\n")[0]
    assert a.split("'")[0] == t.split("'")[0]


def test_transfer_parametrizations_shares_the_originals():
    pz = ag.nn.utils.parametrize
    src = ag.nn.utils.parametrizations.weight_norm(ag.nn.Linear(3, 2))
    dst = pz.transfer_parametrizations_and_params(src, ag.nn.Linear(3, 2))
    assert type(dst).__name__ == "ParametrizedLinear"
    assert dst.parametrizations.weight.original0 is src.parametrizations.weight.original0
    assert dst.parametrizations.weight.original1 is src.parametrizations.weight.original1
    np.testing.assert_allclose(_np(dst.weight), _np(src.weight))

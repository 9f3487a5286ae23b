"""Methods, in-place methods and the torch namespace come from the op rows' exports (ops.EXPORTS), checked
against PyTorch: what PyTorch has as a Tensor method (and in-place method) we have, and we invent none."""
import inspect

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu.ops import EXPORTS


def test_every_torch_method_of_an_export_is_a_method():
    missing = [n for n in EXPORTS if hasattr(torch.Tensor, n) and not hasattr(ag.Tensor, n)]
    missing += [n + "_" for n in EXPORTS if hasattr(torch.Tensor, n + "_") and not hasattr(ag.Tensor, n + "_")]
    assert not missing, f"PyTorch has these Tensor methods: {missing}"


def test_exports_invent_no_names():
    invented = [f"Tensor.{n}" for n, e in EXPORTS.items() if e.method and not hasattr(torch.Tensor, n)]
    invented += [f"Tensor.{n}_" for n, e in EXPORTS.items() if e.inplace and not hasattr(torch.Tensor, n + "_")]
    invented += [f"torch.{n}" for n, e in EXPORTS.items() if e.function and not hasattr(torch, n)]
    assert not invented
    assert all(getattr(ag, n) is e.fn for n, e in EXPORTS.items() if e.function)
    assert all(getattr(ag.Tensor, n) is e.fn for n, e in EXPORTS.items() if e.method and n != "where")


def _arity(fn):
    params = inspect.signature(fn).parameters.values()
    return sum(p.default is p.empty and p.kind == p.POSITIONAL_OR_KEYWORD for p in params)


# the in-place methods of one- and two-input elementwise ops: x.name_(...) is name(x, ...) written into x
ELEMENTWISE = sorted(n for n, e in EXPORTS.items() if e.inplace is True and _arity(e.fn) in (1, 2)
                     and n not in ("cumsum", "masked_fill", "clamp_min", "clamp_max"))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_inplace_method_writes_the_out_of_place_result(name, device):
    fn = EXPORTS[name].fn
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 1.5, (2, 3, 4))
    x, y = ag.tensor(a, device=device), ag.tensor(b, device=device)
    args = (y,) if _arity(fn) == 2 else ()
    try:
        want = fn(x, *args)
    except (RuntimeError, TypeError, NotImplementedError) as e:
        with pytest.raises(type(e)):
            getattr(x, name + "_")(*args)
        return
    version, data = x._version, x._data
    assert getattr(x, name + "_")(*args) is x
    assert x._version > version and x._data is data
    assert x.dtype == ag.float64
    np.testing.assert_array_equal(x.cpu().numpy(), want.to(ag.float64).cpu().numpy())


@pytest.mark.parametrize("name,args", [("t", ()), ("transpose", (0, 1)), ("swapaxes", (1, 0)), ("squeeze", (0,)),
                                       ("unsqueeze", (1,))])
def test_inplace_view_methods_match_torch(name, args):
    a = np.arange(6.0).reshape(1, 6) if name == "squeeze" else np.arange(6.0).reshape(2, 3)
    ours, theirs = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    results = []
    for m, leaf in ((ag, ours), (torch, theirs)):
        y = leaf * 2
        assert getattr(y, name + "_")(*args) is y
        assert y._version == 1
        (y * m.arange(y.numel(), dtype=m.float64).reshape(y.shape)).sum().backward()
        results.append((tuple(y.shape), leaf.grad.numpy()))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            getattr(leaf, name + "_")(*args)
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])

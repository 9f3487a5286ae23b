"""Run one small program under PyTorch and under autograd_gpu and compare what each returns or raises.

A scenario is a function of the library module `L`; it returns any nesting of tensors, numbers, strings,
dtypes, devices, sizes, graph nodes (compared by class name) and None.

>>> same(lambda L: (L.tensor([1., 2.], requires_grad=True) * 2).grad_fn)

With `device=...`, autograd_gpu runs the scenario with its tensors created on that device (the torch
oracle stays on the CPU): `same(scenario, device=device)` in a test that takes the `device` fixture.
"""
import functools
import re

import numpy as np
import pytest
import torch

import autograd_gpu

LIBS = {"torch": torch, "autograd_gpu": autograd_gpu}

# the creation functions whose values do not depend on a random generator
_CREATION = frozenset({"tensor", "as_tensor", "zeros", "ones", "empty", "full", "arange", "linspace", "eye"})


class _OnDevice:
    """autograd_gpu, except that its creation functions default to `device`: a scenario written once
    creates all its tensors there. (Random creation functions are left out: their streams are per device.)"""

    def __init__(self, device):
        self._device = device

    def __getattr__(self, name):
        attr = getattr(autograd_gpu, name)
        if name not in _CREATION:
            return attr

        @functools.wraps(attr)
        def create(*args, **kwargs):
            kwargs.setdefault("device", self._device)
            return attr(*args, **kwargs)
        return create


def _ours(device):
    return autograd_gpu if device is None else _OnDevice(device)


def _plain(v):
    """A library-neutral form of a scenario's result."""
    if isinstance(v, (torch.Tensor, autograd_gpu.Tensor)):
        return ("tensor", repr(v.dtype), tuple(v.shape), bool(v.requires_grad),
                np.asarray(v.detach().cpu().tolist(), dtype=np.float64))
    if isinstance(v, (torch.dtype, autograd_gpu.dtype)):
        return ("dtype", repr(v))
    if isinstance(v, (torch.device, autograd_gpu.device)):
        return ("device", str(v))
    if isinstance(v, (torch.autograd.graph.Node, autograd_gpu.autograd.Node)):
        return ("node", type(v).__name__)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):  # torch.Size and our Size are tuples too
        return tuple(_plain(x) for x in v)
    if isinstance(v, np.ndarray):
        return ("array", v.dtype.name, v.shape, np.asarray(v, dtype=np.float64))
    return v


def assert_same(got, expected, rtol=1e-5, atol=1e-6, path="result"):
    if isinstance(expected, tuple) and expected and expected[0] in ("tensor", "array"):
        assert isinstance(got, tuple) and got[:-1] == expected[:-1], f"{path}: {got[:-1]} != {expected[:-1]}"
        np.testing.assert_allclose(got[-1], expected[-1], rtol=rtol, atol=atol, equal_nan=True, err_msg=path)
    elif isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), f"{path}: {got!r} != {expected!r}"
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, rtol, atol, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), f"{path}: {got!r} != {expected!r}"
        for k in expected:
            assert_same(got[k], expected[k], rtol, atol, f"{path}[{k!r}]")
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=rtol, abs=atol, nan_ok=True), f"{path}: {got!r} != {expected!r}"
    else:
        assert got == expected and type(got) is type(expected), f"{path}: {got!r} != {expected!r}"


def same(scenario, rtol=1e-5, atol=1e-6, device=None):
    """Run `scenario(L)` with PyTorch and with autograd_gpu (on `device`); assert both return the same thing."""
    expected = _plain(scenario(torch))
    got = _plain(scenario(_ours(device)))
    assert_same(got, expected, rtol, atol)
    return got


def same_error(scenario, exc, phrase, device=None):
    """Both libraries raise `exc` from `scenario(L)` (ours on `device`), and both messages contain `phrase`."""
    with pytest.raises(exc) as expected:
        scenario(torch)
    assert phrase in str(expected.value), f"the oracle's message changed: {expected.value}"
    with pytest.raises(exc, match=re.escape(phrase)):
        scenario(_ours(device))


def same_warning(scenario, category, phrase, device=None):
    """Both libraries warn `category` with `phrase` while running `scenario(L)` (ours on `device`); returns
    both results."""
    out = []
    for lib in (torch, _ours(device)):
        with pytest.warns(category, match=re.escape(phrase)):
            out.append(_plain(scenario(lib)))
    assert_same(out[1], out[0])

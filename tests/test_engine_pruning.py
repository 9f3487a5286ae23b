"""autograd.grad and backward(inputs=...) run only the part of the graph that reaches the inputs: hooks of
other leaves do not fire and other leaves' .grad stay untouched, as in PyTorch."""
import pytest
import torch

import autograd_gpu as ag


def _program(mod, device):
    kw = {} if mod is torch else {"device": device}
    a = mod.ones(2, requires_grad=True, **kw)
    b = mod.full((2,), 3.0, requires_grad=True, **kw)
    calls = []
    b.register_hook(lambda g: calls.append("b"))
    a.register_hook(lambda g: calls.append("a"))
    return a, b, calls


def test_grad_runs_only_the_hooks_on_the_way_to_its_inputs(device):
    results = []
    for mod in (torch, ag):
        a, b, calls = _program(mod, device)
        (ga,) = mod.autograd.grad((a * b).sum(), [a])
        results.append((ga.tolist(), calls, a.grad, b.grad))
    assert results[0] == results[1] == ([3.0, 3.0], ["a"], None, None)


def test_backward_inputs_accumulates_only_into_the_inputs(device):
    results = []
    for mod in (torch, ag):
        a, b, calls = _program(mod, device)
        (a * b).sum().backward(inputs=[b])
        results.append((b.grad.tolist(), calls, a.grad))
    assert results[0] == results[1] == ([1.0, 1.0], ["b"], None)


def test_backward_is_silent_about_inf_and_nan_like_torch(device):
    """inf and NaN flow through backward without numpy's RuntimeWarnings (PyTorch's backward never warns);
    the warning state is restored afterwards."""
    import warnings

    import numpy as np

    grads = []
    for lib, kw in ((ag, {"device": device}), (torch, {})):
        x = lib.tensor([0.0, 1e30, 2.0], requires_grad=True, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (numpy's forward warnings: not what this test is about)
            y = (x.log() * x * 1e30).exp() * x.sqrt() / x
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y.sum().backward()
        grads.append(x.grad.cpu().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    with pytest.warns(RuntimeWarning):  # outside backward numpy warns as before
        np.array([1.0]) / np.array([0.0])

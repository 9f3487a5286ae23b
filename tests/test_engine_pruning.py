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

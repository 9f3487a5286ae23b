"""The engine's rule for a leaf's first .grad (engine.grad_may_take_buffer): it takes the gradient's buffer without
a copy only when nothing else can reach it, and copies it otherwise; either way a later in-place update of one
.grad never changes another tensor. Gradient values are checked against PyTorch.

(PyTorch steals on almost the same rule, but lets `x.view(2).backward(g)` leave x.grad aliasing the user's g:
it counts references to the tensor, not to its memory. Here that gradient is copied.)"""
import numpy as np
import pytest
import torch

import autograd_gpu as ag


def _overlap(a, b):
    """Whether the memory of two tensors (of one device) overlaps."""
    pa, pb = a.data_ptr(), b.data_ptr()
    return pa < pb + b.numel() * b.element_size() and pb < pa + a.numel() * a.element_size()


def _values(tensors):
    return [np.asarray(t.detach().cpu().tolist()) for t in tensors]


def _assert_close(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(_values(got), _values(expected)):
        np.testing.assert_allclose(g, e, rtol=1e-6)


def _record_sent(t):
    """The addresses of the gradients t's grad_fn sends on (kept as numbers: no reference to the gradient)."""
    ptrs = []
    t.grad_fn.register_hook(lambda grad_inputs, grad_outputs: ptrs.append(grad_inputs[0].data_ptr()))
    return ptrs


@pytest.mark.parametrize("program", ["chain", "view"])
def test_a_leaf_grad_takes_the_buffer_nothing_else_reaches(program, device):
    grads = []
    for L, kw in ((torch, {}), (ag, {"device": device})):
        x = L.tensor([[1.0, 2.0, 3.0]], requires_grad=True, **kw)
        y = x * 3.0 if program == "chain" else x.view(3)  # (the view's gradient: a view of exp's fresh one)
        sent = _record_sent(y)
        y.exp().sum().backward()
        assert x.grad.data_ptr() == sent[0]  # (PyTorch does the same)
        grads.append(x.grad)
    _assert_close(grads[1:], grads[:1])


def _two_leaves(L, kw):
    a, b = L.tensor([1.0, 2.0], requires_grad=True, **kw), L.tensor([3.0, 4.0], requires_grad=True, **kw)
    (a + b).exp().sum().backward()  # add's backward sends one gradient to both
    return [a, b], []


def _seed(through):
    def program(L, kw):
        x, g = L.tensor([1.0, 2.0], requires_grad=True, **kw), L.tensor([5.0, 6.0], **kw)
        through(x).backward(g)  # the user's g (or a view of it) reaches x's AccumulateGrad as it is
        return [x], [g]
    return program


def _hook_keeps(on_leaf):
    def program(L, kw):
        x, kept = L.tensor([1.0, 2.0], requires_grad=True, **kw), []
        y = x if on_leaf else x.clone()  # clone's backward sends y's gradient on as it is
        y.register_hook(kept.append)
        (y * 3.0 if on_leaf else y).exp().sum().backward()
        return [x], kept
    return program


PROGRAMS = {
    "sent_to_two_leaves": _two_leaves,
    "seed_on_a_leaf": _seed(lambda x: x),
    "seed_through_clone": _seed(lambda x: x.clone()),
    "seed_through_a_view": _seed(lambda x: x.view(2)),
    "leaf_hook_keeps_it": _hook_keeps(on_leaf=True),
    "tensor_hook_keeps_it": _hook_keeps(on_leaf=False),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_a_gradient_reachable_elsewhere_is_copied(name, device):
    ref_leaves, ref_held = PROGRAMS[name](torch, {})
    leaves, held = PROGRAMS[name](ag, {"device": device})
    grads = [t.grad for t in leaves]
    _assert_close(grads + held, [t.grad for t in ref_leaves] + ref_held)
    others = grads + held
    for i, g in enumerate(grads):
        rest = others[:i] + others[i + 1:]
        assert not any(_overlap(g, o) for o in rest)
        before = _values(rest)
        g.mul_(10.0).add_(1.0)  # in place, as an optimizer or the next accumulation writes it
        _assert_close(rest, [torch.tensor(v) for v in before])


def _sum_keeping_ones(L):
    class SumKeepingOnes(L.autograd.Function):
        """sum(x); its backward returns a tensor it saved (right for an upstream gradient of 1, all this uses)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x.new_ones(x.shape))
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            (ones,) = ctx.saved_tensors
            return ones
    return SumKeepingOnes


def test_a_gradient_saved_for_backward_is_copied(device):
    results = []
    for L, kw in ((torch, {}), (ag, {"device": device})):
        x = L.tensor([1.0, 2.0], requires_grad=True, **kw)
        y = _sum_keeping_ones(L).apply(x)
        y.backward(retain_graph=True)
        first = x.grad.clone()
        x.grad.add_(1.0)  # must not reach the saved ones: the second backward still sends ones
        y.backward()
        results.append([first, x.grad])
    _assert_close(results[1], results[0])
    _assert_close(results[1], [torch.ones(2), torch.full((2,), 3.0)])  # by hand

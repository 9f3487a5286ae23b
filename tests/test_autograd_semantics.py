"""The engine's semantics, scenario by scenario, each run under PyTorch too (see scenario_oracle.py):
requires_grad, leaves and graph nodes, backward's arguments, .grad accumulation, freeing the graph,
hooks, detach and .data, grad modes, autograd.grad (to third order), deep and diamond graphs."""
import gc
import threading
import warnings
import weakref

import pytest

import autograd_gpu as ag
from scenario_oracle import same, same_error, same_warning


def _x(L, data=(1.0, 2.0, 3.0)):
    return L.tensor(list(data), requires_grad=True)


# ---- 1. requires_grad ------------------------------------------------------------------------------------
def test_requires_grad_defaults_false_and_is_transitive(device):
    def scenario(L):
        a, b = L.tensor([1., 2.]), _x(L, (3., 4.))
        return [a.requires_grad, b.requires_grad, (a * 2).requires_grad, (a * b).requires_grad,
                (b + 1).sum().requires_grad, b[0].requires_grad, b.detach().requires_grad, L.zeros(2).requires_grad,
                L.ones(2).exp().requires_grad]
    assert same(scenario, device=device) == (False, True, False, True, True, True, False, False, False)


def test_integer_and_bool_results_never_require_grad(device):
    def scenario(L):
        b = _x(L, (1.5, -2., 3.))
        return [(b > 0).requires_grad, b.argmax().requires_grad, b.long().requires_grad, (b == b).requires_grad,
                b.max(0)[1].requires_grad, b.max(0)[0].requires_grad, b.floor().requires_grad]
    assert same(scenario, device=device) == (False, False, False, False, False, True, True)


@pytest.mark.parametrize("make", [
    lambda L: L.tensor([1, 2], requires_grad=True),
    lambda L: L.zeros(2, dtype=L.int64, requires_grad=True),
    lambda L: L.arange(3, requires_grad=True),
    lambda L: L.ones(2, dtype=L.bool, requires_grad=True),
], ids=["tensor", "zeros", "arange", "bool"])
def test_only_floating_tensors_can_require_grad(make, device):
    same_error(make, RuntimeError,
               "Only Tensors of floating point and complex dtype can require gradients", device=device)


def test_requires_grad_setter_on_integer_tensor_raises(device):
    same_error(lambda L: L.tensor([1, 2]).requires_grad_(), RuntimeError,
               "only Tensors of floating point dtype can require gradients", device=device)

    def setter(L):
        t = L.tensor([1, 2])
        t.requires_grad = True
    same_error(setter, RuntimeError,
               "only Tensors of floating point and complex dtype can require gradients", device=device)


# ---- 2. leaves and graph nodes ----------------------------------------------------------------------------
def test_is_leaf_and_grad_fn(device):
    def scenario(L):
        a, b = L.tensor([1., 2.]), _x(L, (3., 4.))
        c = a * b
        return [a.is_leaf, b.is_leaf, c.is_leaf, (a * 2).is_leaf, a.grad_fn, b.grad_fn, c.grad_fn,
                b.detach().is_leaf]
    assert same(scenario, device=device) == (True, True, False, True, None, None, ("node", "MulBackward0"), True)


@pytest.mark.parametrize("expr, name", [
    (lambda L, x, m: x + x, "AddBackward0"),
    (lambda L, x, m: x - 1, "SubBackward0"),
    (lambda L, x, m: x * x, "MulBackward0"),
    (lambda L, x, m: x / 2, "DivBackward0"),
    (lambda L, x, m: -x, "NegBackward0"),
    (lambda L, x, m: x.sum(), "SumBackward0"),
    (lambda L, x, m: x.sum(0), "SumBackward1"),
    (lambda L, x, m: x.mean(), "MeanBackward0"),
    (lambda L, x, m: x ** 2, "PowBackward0"),
    (lambda L, x, m: x ** x, "PowBackward1"),
    (lambda L, x, m: 2 ** x, "PowBackward2"),
    (lambda L, x, m: m @ m, "MmBackward0"),
    (lambda L, x, m: x.exp(), "ExpBackward0"),
    (lambda L, x, m: x.tanh(), "TanhBackward0"),
    (lambda L, x, m: x.relu(), "ReluBackward0"),
    (lambda L, x, m: x[0], "SelectBackward0"),
    (lambda L, x, m: x[1:], "SliceBackward0"),
    (lambda L, x, m: m.t(), "TBackward0"),
    (lambda L, x, m: m.reshape(4), "ViewBackward0"),
    (lambda L, x, m: x.double(), "ToCopyBackward0"),
    (lambda L, x, m: x.clone(), "CloneBackward0"),
])
def test_node_names(expr, name, device):
    def scenario(L):
        x, m = _x(L), L.ones(2, 2, requires_grad=True)
        fn = expr(L, x, m).grad_fn
        return type(fn).__name__, fn.name()
    assert same(scenario, device=device) == (name, name)


def test_cpp_node_names_carry_the_namespace():
    def scenario(L):
        x = _x(L)
        n = L.zeros(3)
        n[0] = x[0] ** 2
        y = x * 1
        y.copy_(L.ones(3))
        acc = (x * 2).grad_fn.next_functions[0][0]
        return [(type(f).__name__, f.name()) for f in (n.grad_fn, y.grad_fn, acc)] + [repr(n)]
    assert same(scenario) == (("CopySlices", "torch::autograd::CopySlices"),
                              ("CopyBackwards", "torch::autograd::CopyBackwards"),
                              ("AccumulateGrad", "torch::autograd::AccumulateGrad"),
                              "tensor([1., 0., 0.], grad_fn=<CopySlices>)")


def test_next_functions_edges(device):
    def scenario(L):
        x, w = _x(L), L.tensor([2., 2., 2.])
        y = x * w                      # w needs no grad: (None, 0)
        z = (y + x).sum()
        add = z.grad_fn.next_functions[0][0]
        return [z.grad_fn.next_functions, add, add.next_functions, y.grad_fn.next_functions,
                [n.variable is x for n, _ in y.grad_fn.next_functions if n is not None]]
    got = same(scenario, device=device)
    assert got[3] == ((("node", "AccumulateGrad"), 0), (None, 0))


def test_accumulate_grad_node_is_one_object_per_leaf(device):
    def scenario(L):
        x = _x(L)
        a, b = x * 2, x.exp()
        acc = a.grad_fn.next_functions[0][0]
        sq = (x * x).grad_fn.next_functions
        return [acc is b.grad_fn.next_functions[0][0], sq[0][0] is sq[1][0], sq[0][0] is acc, acc.variable is x,
                acc.next_functions]
    assert same(scenario, device=device) == (True, True, True, True, ())


def test_multi_output_next_functions_index(device):
    def scenario(L):
        x = L.tensor([[1., 5.], [4., 2.]], requires_grad=True)
        values, indices = x.max(1)
        s = values.sum() + x.sum()
        return s.grad_fn.next_functions, s.grad_fn.next_functions[0][0].next_functions, values.output_nr, \
            indices.requires_grad
    same(scenario, device=device)


# ---- 3. backward(gradient, retain_graph, create_graph, inputs) ------------------------------------------------
def test_scalar_backward_implies_gradient_one(device):
    def scenario(L):
        x = _x(L)
        (x * x).sum().backward()
        y = _x(L)
        (y * 3).mean().backward()
        return x.grad, y.grad
    same(scenario, device=device)


def test_gradient_weights_the_vector_jacobian_product(device):
    def scenario(L):
        x = _x(L)
        y = x ** 2 * L.tensor([1., -1., 2.])
        y.backward(L.tensor([0.5, 1., 10.]))
        m = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        (m @ m).backward(gradient=L.tensor([[1., 0.], [2., -1.]]))
        return x.grad, m.grad
    same(scenario, device=device)


def test_non_scalar_backward_needs_a_gradient(device):
    same_error(lambda L: (_x(L) * 2).backward(), RuntimeError,
               "grad can be implicitly created only for scalar outputs", device=device)


def test_wrong_shape_gradient_raises(device):
    same_error(lambda L: (_x(L) * 2).backward(L.ones(2)), RuntimeError, "Mismatch in shape", device=device)


@pytest.mark.parametrize("make", [
    lambda L: L.ones(2).sum(),
    lambda L: _x(L).detach() * 2,
    lambda L: _x(L).sum().long(),
], ids=["plain", "detached", "integer"])
def test_backward_of_tensor_without_grad_raises(make, device):
    def scenario(L):
        out = make(L)
        out.backward(L.ones_like(out))
    same_error(scenario, RuntimeError,
               "element 0 of tensors does not require grad and does not have a grad_fn", device=device)


def test_backward_inputs_restrict_accumulation_to_leaves_given(device):
    def scenario(L):
        x, w = _x(L), _x(L, (4., 5., 6.))
        z = (x * w).sum()
        z.backward(inputs=[x], retain_graph=True)
        first = (x.grad.clone(), w.grad)
        z.backward(inputs=w)
        return first, x.grad, w.grad
    got = same(scenario, device=device)
    assert got[0][1] is None


def test_backward_inputs_non_leaf(device):
    def scenario(L):
        x, w = _x(L), _x(L, (4., 5., 6.))
        y = x * w
        y.retain_grad()
        z = (y * y).sum()
        z.backward(inputs=[x], retain_graph=True)
        first = (x.grad.clone(), w.grad, y.grad.clone())
        z.backward(inputs=[y])     # y retains its grad: it accumulates once more, x and w are untouched
        h = x * 3
        (h ** 2).sum().backward(inputs=[h])
        return first, x.grad, w.grad, y.grad, h.grad, h.is_leaf
    same(scenario, device=device)


def test_backward_empty_inputs_raises(device):
    same_error(lambda L: _x(L).sum().backward(inputs=[]), RuntimeError,
               "`inputs` argument to `backward()` cannot be empty", device=device)


def test_autograd_backward_function_with_several_roots(device):
    def scenario(L):
        x = _x(L)
        a, b = x * 2, (x ** 2).sum()
        L.autograd.backward([a, b], [L.tensor([1., 0., 3.]), None])
        return x.grad
    same(scenario, device=device)


# ---- 4. .grad accumulation ------------------------------------------------------------------------------------
def test_grad_accumulates_across_backward_calls(device):
    def scenario(L):
        x = _x(L)
        out = []
        for k in (1., 2., 3.):
            (x * x * k).sum().backward()
            out.append(x.grad.clone())
        return out
    same(scenario, device=device)


@pytest.mark.parametrize("reset", ["zero_", "data.zero_", "none"])
def test_grad_can_be_reset(reset, device):
    def scenario(L):
        x = _x(L)
        (x * x).sum().backward()
        g = x.grad
        if reset == "zero_":
            x.grad.zero_()
        elif reset == "data.zero_":
            x.grad.data.zero_()
        else:
            x.grad = None
        (x * 3).sum().backward()
        return x.grad, g, x.grad is g
    same(scenario, device=device)


def test_grads_of_two_leaves_never_alias(device):
    def scenario(L):
        a, b = _x(L), _x(L, (4., 5., 6.))
        (a + b).sum().backward()
        a.grad.zero_()
        c, d = _x(L), _x(L)
        (c * 1 + d * 1).sum().backward()
        d.grad.mul_(5)
        e = _x(L)
        (e + e).sum().backward()   # one leaf used twice: one summed gradient
        return a.grad, b.grad, c.grad, d.grad, e.grad
    same(scenario, device=device)


def test_grad_is_never_the_users_gradient_tensor(device):
    x = ag.tensor([1., 2.], requires_grad=True, device=device)
    g = ag.tensor([3., 4.], device=device)
    (x * 1).backward(g)
    x.grad.zero_()
    assert g.tolist() == [3., 4.]


def test_grad_takes_no_memory_that_is_still_reachable(device):
    # .grad may adopt a fresh gradient without copying it, never one that anything else still holds
    def scenario(L):
        x, w = _x(L), L.tensor([[1., 2.], [3., 4.], [5., 6.]], requires_grad=True)
        g = L.tensor([7., 8., 9.])
        (x + 0).backward(g)                  # add sends the user's tensor itself on
        kept = []
        w.register_hook(lambda gw: kept.append(gw))
        (x @ w).sum().backward()             # a hook holds w's gradient
        y = x * 2
        y.retain_grad()
        (y * 1).sum().backward()             # x's gradient is fresh; y's retained one is held by y
        x.grad.mul_(10)
        w.grad.mul_(10)
        y.grad.mul_(10)
        return g, kept[0], x.grad, w.grad, y.grad, w.grad.is_contiguous()
    same(scenario, device=device)


def test_grad_setter_checks(device):
    same_error(lambda L: setattr(_x(L), "grad", L.ones(2)), RuntimeError,
               "attempting to assign a gradient of size '[2]' to a tensor of size '[3]'", device=device)
    same_error(lambda L: setattr(_x(L), "grad", L.ones(3, dtype=L.float64)), RuntimeError,
               "attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype 'Float'", device=device)
    same_error(lambda L: setattr(_x(L), "grad", [1., 2., 3.]), TypeError,
               "assigned grad expected to be a Tensor or None but got grad of type list", device=device)


# ---- 5. freeing the graph ---------------------------------------------------------------------------------
def test_second_backward_through_freed_graph_raises(device):
    def scenario(L):
        x = _x(L)
        z = (x * x).sum()
        z.backward()
        z.backward()
    same_error(scenario, RuntimeError, "Trying to backward through the graph a second time", device=device)
    same_error(scenario, RuntimeError, "Specify retain_graph=True", device=device)


def test_retain_graph_allows_a_second_backward(device):
    def scenario(L):
        x = _x(L)
        z = (x.exp() * x).sum()
        z.backward(retain_graph=True)
        z.backward()
        return x.grad
    same(scenario, device=device)


def test_graph_that_saved_nothing_can_run_twice(device):
    def scenario(L):
        x = _x(L)
        z = (x + x + 1).sum()
        z.backward()
        z.backward()
        return x.grad
    same(scenario, device=device)


def test_saved_tensors_are_released_after_backward():
    gc.disable()
    try:
        x = ag.tensor([1., 2., 3.], requires_grad=True)
        h = x * 2                     # sin saves its input h
        out = (h.sin() * 3).sum()
        ref_h, ref_data = weakref.ref(h), weakref.ref(h._data)
        del h
        assert ref_h() is not None and ref_data() is not None   # kept alive for backward
        out.backward()
        assert ref_h() is None and ref_data() is None           # freed by refcount alone
        assert x.grad is not None
    finally:
        gc.enable()


def test_retained_graph_keeps_saved_tensors_until_output_is_deleted():
    gc.disable()
    try:
        x = ag.tensor([1., 2., 3.], requires_grad=True)
        y = x.exp()                   # saves its output's data
        out = (y.sin()).sum()
        ref_y_data = weakref.ref(y._data)
        del y
        out.backward(retain_graph=True)
        assert ref_y_data() is not None
        del out
        assert ref_y_data() is None
    finally:
        gc.enable()


def _all_nodes(fn):
    seen, stack = [], [fn]
    while stack:
        n = stack.pop()
        if n is not None and all(n is not s for s in seen):
            seen.append(n)
            stack.extend(c for c, _ in n.next_functions)
    return seen


def test_deleting_the_output_frees_every_node_by_refcount(device):
    gc.disable()
    try:
        x = ag.tensor([[1., 2.], [3., 4.]], requires_grad=True, device=device)
        w = ag.tensor([[0.5], [-1.]], requires_grad=True, device=device)
        h = (x @ w).tanh()
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        v = h.view(2)[0:1]
        out = (v * v + h.sum()).exp().sum()
        refs = [weakref.ref(n) for n in _all_nodes(out.grad_fn)]
        assert len(refs) >= 8
        del h, v
        out.backward(retain_graph=True)
        del out
        assert [r() for r in refs if r() is not None] == []
        assert x.grad is not None and w.grad is not None
    finally:
        gc.enable()


# ---- 6. non-leaf .grad ------------------------------------------------------------------------------------
def test_non_leaf_grad_is_none_and_warns(device):
    def scenario(L):
        x = _x(L)
        y = x * 2
        y.sum().backward()
        return y.grad
    same_warning(scenario, UserWarning,
                 "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed", device=device)


def test_leaf_grad_does_not_warn():
    x = ag.tensor([1.], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None
        y = x * 2
        y.retain_grad()
        assert y.grad is None


def test_retain_grad_keeps_non_leaf_grad(device):
    def scenario(L):
        x = _x(L)
        y = x * 2
        y.retain_grad()
        z = y.exp()
        z.retain_grad()
        z.sum().backward(retain_graph=True)
        first = y.grad.clone()
        z.sum().backward()
        return first, y.grad, z.grad, y.retains_grad, x.retains_grad, y.grad.requires_grad
    same(scenario, device=device)


def test_retain_grad_on_tensor_without_grad_raises(device):
    same_error(lambda L: L.ones(2).retain_grad(), RuntimeError,
               "can't retain_grad on Tensor that has requires_grad=False", device=device)


# ---- 7. hooks ---------------------------------------------------------------------------------------------
def test_hooks_see_replace_and_order_as_pytorch(device):
    def scenario(L):
        log = []
        x = _x(L, (1., 2.))
        x.register_hook(lambda g: log.append(("x1", g.clone())))
        hx = x.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: log.append(("x3", g.clone())))
        y = x * 2
        y.register_hook(lambda g: log.append(("y1", g.clone())))
        y.register_hook(lambda g: g + 1)
        y.register_hook(lambda g: log.append(("y3", g.clone())))
        z = (y * y).sum()
        z.register_hook(lambda g: log.append(("z", g.clone())))
        z.backward(retain_graph=True)
        log.append(x.grad.clone())
        hx.remove()
        x.grad = None
        z.backward()
        log.append(x.grad)
        return log
    same(scenario, device=device)


def test_hook_and_retain_grad_in_either_order(device):
    for first_hook in (True, False):
        def scenario(L):
            x = _x(L)
            y = x * 2
            if first_hook:
                y.register_hook(lambda g: g * 3)
                y.retain_grad()
            else:
                y.retain_grad()
                y.register_hook(lambda g: g * 3)
            y.sum().backward()
            return y.grad, x.grad
        same(scenario, device=device)


def test_removed_hook_no_longer_runs_and_handle_is_a_context_manager(device):
    def scenario(L):
        calls = []
        x = _x(L)
        h = x.register_hook(lambda g: calls.append(1))
        h.remove()
        h.remove()  # removing twice is harmless
        with x.register_hook(lambda g: g * 0):
            (x * 2).sum().backward()
        first = x.grad.clone()
        (x * 2).sum().backward()
        return calls, first, x.grad
    same(scenario, device=device)


def test_hook_on_tensor_without_grad_raises(device):
    same_error(lambda L: L.ones(2).register_hook(lambda g: g), RuntimeError,
               "cannot register a hook on a tensor that doesn't require gradient", device=device)


def test_node_hooks_see_grad_inputs_and_outputs(device):
    def scenario(L):
        log = []
        x = _x(L)
        y = x * x
        y.grad_fn.register_prehook(lambda gout: log.append(("pre", gout)))
        y.grad_fn.register_hook(lambda gin, gout: log.append(("post", gin, gout)))
        y.sum().backward()
        return log, x.grad
    same(scenario, device=device)


# ---- 8. detach, .data, Variable ------------------------------------------------------------------------------
def test_detach_shares_storage_both_ways(device):
    def scenario(L):
        x = _x(L)
        y = x * 2
        d = y.detach()
        d[0] = 100.
        with L.no_grad():
            y[1] = 7.
        return y, d, d.requires_grad, d.is_leaf, d.grad_fn, d._version, y._version
    same(scenario, device=device)


def test_detach_in_place(device):
    def scenario(L):
        x = _x(L)
        y = x * 2
        r = y.detach_()
        return r is y, y.requires_grad, y.is_leaf, y.grad_fn
    same(scenario, device=device)
    same_error(lambda L: (_x(L) * 2)[:1].detach_(), RuntimeError,
               "Can't detach views in-place. Use detach() instead", device=device)


def test_data_shares_memory_untracked(device):
    def scenario(L):
        x = _x(L)
        d = x.data
        d[0] = 5.
        y = x.exp()
        y.data.mul_(0)     # not seen by autograd: no version bump on y, backward still runs
        y.sum().backward()
        before = x.tolist()
        x.data = L.tensor([7., 8., 9.])
        return before, x, d.requires_grad, d.is_leaf, x._version, x.grad, x.is_leaf
    same(scenario, device=device)


def test_variable_wraps_a_tensor(device):
    def scenario(L):
        v = L.autograd.Variable(L.tensor([1., 2.]), requires_grad=True)
        (v * v).sum().backward()
        return v.grad, v.is_leaf, type(v).__name__, L.autograd.Variable(L.tensor([1.])).requires_grad
    same(scenario, device=device)


# ---- 9. requires_grad_() and its setter --------------------------------------------------------------------------
def test_requires_grad_toggle_on_leaves(device):
    def scenario(L):
        x = L.tensor([1., 2.])
        r = [x.requires_grad, x.requires_grad_() is x, x.requires_grad]
        x.requires_grad = False
        r.append(x.requires_grad)
        x.requires_grad = True
        y = x * 2
        r += [y.requires_grad, y.requires_grad_(True) is y, y.requires_grad]
        x.requires_grad_(False)
        r.append((x * 2).requires_grad)
        return r
    same(scenario, device=device)


def test_non_leaf_cannot_be_switched_off(device):
    same_error(lambda L: (_x(L) * 2).requires_grad_(False), RuntimeError,
               "you can only change requires_grad flags of leaf variables", device=device)

    def setter(L):
        y = _x(L) * 2
        y.requires_grad = False
    same_error(setter, RuntimeError, "you can only change requires_grad flags of leaf variables", device=device)


# ---- 10. grad modes ----------------------------------------------------------------------------------------
def test_no_grad_enable_grad_nesting_and_decorators():
    def scenario(L):
        x = L.ones(2, requires_grad=True)
        r = []
        with L.no_grad():
            r.append((x * 2).requires_grad)
            with L.enable_grad():
                r.append((x * 2).requires_grad)
            r.append(L.is_grad_enabled())

        @L.no_grad()
        def f():
            return (x * 2).requires_grad, L.is_grad_enabled()

        @L.no_grad
        def f_bare():
            return L.is_grad_enabled()

        @L.enable_grad()
        def g():
            return L.is_grad_enabled()

        @L.enable_grad
        def g_bare():
            return L.is_grad_enabled()

        r += [f(), f_bare(), L.is_grad_enabled()]
        with L.no_grad():
            r += [g(), g_bare(), L.is_grad_enabled()]
        try:
            with L.no_grad():
                raise ValueError
        except ValueError:
            r.append(L.is_grad_enabled())
        return r
    same(scenario)


def test_set_grad_enabled_as_call_context_and_decorator():
    def scenario(L):
        x = L.ones(2, requires_grad=True)
        r = []
        L.set_grad_enabled(False)
        r += [(x * 2).requires_grad, L.is_grad_enabled()]
        L.set_grad_enabled(True)
        r.append(L.is_grad_enabled())
        with L.set_grad_enabled(False):
            r.append(L.is_grad_enabled())
            with L.set_grad_enabled(True):
                r.append((x * 2).requires_grad)
        r.append(L.is_grad_enabled())

        @L.set_grad_enabled(False)
        def f():
            return L.is_grad_enabled()
        r += [L.is_grad_enabled(), f(), L.is_grad_enabled()]
        return r
    same(scenario)


def test_inference_mode():
    def scenario(L):
        x = L.ones(2, requires_grad=True)
        r = []
        with L.inference_mode():
            r += [(x * 2).requires_grad, L.is_grad_enabled()]
        with L.inference_mode(False):
            r.append(L.is_grad_enabled())

        @L.inference_mode()
        def f():
            return L.is_grad_enabled()

        @L.inference_mode
        def g():
            return L.is_grad_enabled()
        r += [f(), g(), L.is_grad_enabled()]
        return r
    same(scenario)


def test_grad_mode_is_thread_local():
    def scenario(L):
        seen = {}
        inside, done = threading.Event(), threading.Event()

        def worker():
            inside.wait()
            x = L.ones(1, requires_grad=True)
            seen["worker"] = (L.is_grad_enabled(), (x * 2).requires_grad)
            with L.no_grad():
                done.set()
                seen["worker_no_grad"] = L.is_grad_enabled()

        t = threading.Thread(target=worker)
        t.start()
        with L.no_grad():
            inside.set()
            done.wait()
            seen["main"] = L.is_grad_enabled()
        t.join()
        seen["main_after"] = L.is_grad_enabled()
        return seen
    assert same(scenario) == {"worker": (True, True), "worker_no_grad": False, "main": False, "main_after": True}


def test_backward_inside_no_grad_still_computes_grads(device):
    def scenario(L):
        x = _x(L)
        y = (x ** 3).sum()
        with L.no_grad():
            y.backward()
        return x.grad, x.grad.requires_grad
    same(scenario, device=device)


# ---- 12. autograd.grad -------------------------------------------------------------------------------------
def test_grad_returns_without_touching_dot_grad(device):
    def scenario(L):
        x, w = _x(L), _x(L, (4., 5., 6.))
        x.grad = L.ones(3)
        z = (x * w).sum()
        gx, gw = L.autograd.grad(z, [x, w])
        gy, = L.autograd.grad((x * 2).sum(), x)
        return gx, gw, gy, x.grad, w.grad, gx.requires_grad
    same(scenario, device=device)


def test_grad_with_grad_outputs_and_non_leaf_inputs(device):
    def scenario(L):
        x = _x(L)
        y = x * 2
        z = y.exp()
        gz, gy = L.autograd.grad(z, [z, y], grad_outputs=L.tensor([1., 0.5, -1.]))
        return gz, gy, x.grad
    same(scenario, device=device)


def test_grad_unused_input_raises_or_returns_none(device):
    def unused(L):
        x, y = _x(L), _x(L)
        L.autograd.grad((x * 2).sum(), [x, y])
    same_error(unused, RuntimeError, "appears to not have been used in the graph", device=device)

    def allowed(L):
        x, y = _x(L), _x(L)
        return (L.autograd.grad((x * 2).sum(), [x, y], allow_unused=True),
                L.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True))
    same(allowed, device=device)

    def contradiction(L):
        x = _x(L)
        L.autograd.grad(x.sum(), x, allow_unused=False, materialize_grads=True)
    same_error(contradiction, ValueError,
               "Expected allow_unused to be True or not passed when materialize_grads=True", device=device)


def test_grad_of_input_without_grad_raises(device):
    same_error(lambda L: L.autograd.grad(_x(L).sum(), L.ones(3)), RuntimeError,
               "One of the differentiated Tensors does not require grad", device=device)


def test_grad_frees_the_graph_unless_retained(device):
    def scenario(L):
        x = _x(L)
        z = (x * x).sum()
        L.autograd.grad(z, x)
        L.autograd.grad(z, x)
    same_error(scenario, RuntimeError, "Trying to backward through the graph a second time", device=device)

    def retained(L):
        x = _x(L)
        z = (x * x).sum()
        return L.autograd.grad(z, x, retain_graph=True), L.autograd.grad(z, x)
    same(retained, device=device)


@pytest.mark.parametrize("f", [
    lambda L, x: x ** 3,
    lambda L, x: x.sin(),
    lambda L, x: x.cos() * x,
    lambda L, x: x.tanh(),
    lambda L, x: x.sigmoid(),
    lambda L, x: x.exp() * x,
    lambda L, x: (x * x + 1).log(),
    lambda L, x: (x * x + 1).sqrt(),
    lambda L, x: 1 / (x + 3),
    lambda L, x: L.softmax(x, 0) ** 2 * L.tensor([1., 3., -2.]),
    lambda L, x: L.log_softmax(x * x, 0) * L.tensor([1., 3., -2.]),
    lambda L, x: (L.stack([x, x * x]) @ L.tensor([[1., 2.], [0.5, -1.], [2., 1.]], dtype=L.float64)) ** 2,
], ids=["cube", "sin", "xcos", "tanh", "sigmoid", "xexp", "log", "sqrt", "recip", "softmax", "log_softmax",
        "matmul"])
def test_second_and_third_derivatives(f, device):
    def scenario(L):
        x = L.tensor([0.5, -1.5, 0.25], dtype=L.float64, requires_grad=True)
        y = f(L, x).sum()
        g1, = L.autograd.grad(y, x, create_graph=True)
        g2, = L.autograd.grad((g1 * L.tensor([1., 2., 3.], dtype=L.float64)).sum(), x, create_graph=True)
        g3, = L.autograd.grad(g2.sum(), x, allow_unused=True)
        return g1, g2, g3
    same(scenario, rtol=1e-9, atol=1e-12, device=device)


def test_matmul_double_backward_mixed_inputs(device):
    def scenario(L):
        a = L.tensor([[1., 2.], [3., 4.]], dtype=L.float64, requires_grad=True)
        b = L.tensor([[0.5, -1.], [2., 1.]], dtype=L.float64, requires_grad=True)
        y = ((a @ b).tanh() ** 2).sum()
        ga, gb = L.autograd.grad(y, (a, b), create_graph=True)
        ha, hb = L.autograd.grad((ga * gb).sum(), (a, b))
        return ga, gb, ha, hb
    same(scenario, rtol=1e-9, device=device)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")  # torch's advice
def test_backward_with_create_graph_gives_differentiable_grad(device):
    def scenario(L):
        x = L.tensor(2., requires_grad=True)
        (x ** 3).backward(create_graph=True)
        g = x.grad
        gg, = L.autograd.grad(g, x)
        return g, gg, g.requires_grad, g.grad_fn is not None
    same(scenario, device=device)


# ---- 13. deep chains and diamonds ---------------------------------------------------------------------------
def test_chain_of_100k_ops_backward_and_delete_without_recursion():
    gc.disable()  # NOTE: only for speed (no collector passes over the 100k live nodes); freeing is by refcount
    try:
        x = ag.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(50_000):
            y = y * 1.0
            y = y + 1.0
        ref = weakref.ref(y.grad_fn)
        y.sum().backward()
        assert x.grad.tolist() == [1.0]
        assert y.item() == 50_001.0
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_each_node_runs_once_with_the_summed_gradient_of_its_consumers(device):
    def scenario(L):
        x = L.tensor(2., requires_grad=True)
        a = x * 3
        calls = []
        a.grad_fn.register_prehook(lambda gout: calls.append(gout[0].item()))
        b, c, d = a.sin(), a.cos(), a * a
        e = b * c + d + a
        e.backward()
        return calls, x.grad
    got = same(scenario, device=device)
    assert len(got[0]) == 1


def test_diamond_of_diamonds(device):
    def scenario(L):
        x = _x(L)
        h = x
        for _ in range(6):
            h = (h.sin() + h.cos() * h) * 0.5
        h.sum().backward()
        return x.grad
    same(scenario, rtol=1e-4, device=device)


def test_grads_flow_through_unused_outputs_of_multi_output_ops(device):
    def scenario(L):
        x = L.tensor([[1., 5., 2.], [4., 2., 6.]], requires_grad=True)
        a, b, c = x.unbind(1)
        (a * 2 + c).sum().backward()
        return x.grad
    same(scenario, device=device)

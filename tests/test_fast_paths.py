"""apply1 / apply2, the inline dispatch of one- and two-input ops, give what the generic dispatcher `apply`
gives (itself checked against PyTorch by the op table): the same values, dtype, requires_grad, node, edges and
gradients, for every kind of input they take inline or hand over."""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.ops import arithmetic as M
from autograd_gpu.ops import backward_kernels as K
from autograd_gpu.ops import unary as U
from autograd_gpu.ops.core import OPS, apply, apply1, apply2

_rng = np.random.default_rng(7)


def _x(shape=(3, 4), dtype=np.float32, positive=False):
    a = _rng.standard_normal(shape).astype(dtype)
    return np.abs(a) + 0.5 if positive else a


def _compare(run_fast, run_generic, make_inputs, device):
    """Both dispatchers on fresh copies of the same inputs; then backward through each result."""
    global _rng
    results = []
    for run in (run_fast, run_generic):
        _rng = np.random.default_rng(7)  # (the same numbers for both)
        inputs = make_inputs(device)
        y = run(*inputs)
        node = y.grad_fn
        edges = None if node is None else [(type(n).__name__ if n is not None else None, nr)
                                           for n, nr in node.next_functions]
        grads = None
        if y.requires_grad:
            y.backward(ag.ones_like(y))
            grads = [t.grad.cpu().numpy() if isinstance(t, ag.Tensor) and t.is_leaf and t.grad is not None
                     else None for t in inputs]
        results.append((y.detach().cpu().numpy(), y.dtype, y.requires_grad, type(node).__name__, edges, grads))
    fast, generic = results
    np.testing.assert_array_equal(fast[0], generic[0])
    assert fast[1:5] == generic[1:5]
    if generic[5] is not None:
        for a, b in zip(fast[5], generic[5]):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)


def _leaf(a, device, requires_grad=True):
    return ag.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f", device=device)


BINARY_INPUTS = {
    "leaf-const": lambda d: (_leaf(_x(), d), _leaf(_x(positive=True), d, False)),
    "const-leaf": lambda d: (_leaf(_x(), d, False), _leaf(_x(positive=True), d)),
    "both-leaves": lambda d: (_leaf(_x(), d), _leaf(_x(positive=True), d)),
    "non-leaf": lambda d: (_leaf(_x(), d) * 2, _leaf(_x(positive=True), d)),
    "broadcast": lambda d: (_leaf(_x((3, 1)), d), _leaf(_x((4,), positive=True), d)),
    "0-d": lambda d: (_leaf(_x(()), d), _leaf(_x((), positive=True), d)),
    "float64": lambda d: (_leaf(_x(dtype=np.float64), d), _leaf(_x(dtype=np.float64, positive=True), d)),
    "float16": lambda d: (_leaf(_x(dtype=np.float16), d), _leaf(_x(dtype=np.float16, positive=True), d)),
    "python-float": lambda d: (_leaf(_x(), d), 2.5),
    "python-int": lambda d: (_leaf(_x(), d), 3),
    "python-bool": lambda d: (_leaf(_x(), d), True),
    "mixed-dtypes": lambda d: (_leaf(_x(), d), _leaf(_x(dtype=np.float64, positive=True), d)),
    "int-tensor": lambda d: (_leaf(_x(), d), ag.tensor([1, 2, 3, 4], device=d)),
    "int-first": lambda d: (ag.tensor([1, 2, 3, 4], device=d), _leaf(_x(positive=True), d)),
    "view": lambda d: (_leaf(_x((4, 3)), d).t(), _leaf(_x(positive=True), d)),
    "parameter": lambda d: (ag.nn.Parameter(_leaf(_x(), d, False)), _leaf(_x(positive=True), d)),
    "no-grad-inputs": lambda d: (_leaf(_x(), d, False), _leaf(_x(positive=True), d, False)),
}


@pytest.mark.parametrize("kind", list(BINARY_INPUTS))
@pytest.mark.parametrize("op", [M.ADD, M.SUB, M.MUL, M.DIV], ids=lambda op: op.name)
def test_apply2_equals_apply(op, kind, device):
    _compare(lambda a, b: apply2(op, a, b), lambda a, b: apply(op, a, b), BINARY_INPUTS[kind], device)


UNARY_INPUTS = {
    "leaf": lambda d: (_leaf(_x(positive=True), d),),
    "non-leaf": lambda d: (_leaf(_x(positive=True), d) * 2,),
    "0-d": lambda d: (_leaf(_x((), positive=True), d),),
    "float64": lambda d: (_leaf(_x(dtype=np.float64, positive=True), d),),
    "float16": lambda d: (_leaf(_x(dtype=np.float16, positive=True), d),),
    "int": lambda d: (ag.tensor([1, 2, 3], device=d),),
    "view": lambda d: (_leaf(_x((4, 3), positive=True), d).t(),),
    "parameter": lambda d: (ag.nn.Parameter(_leaf(_x(positive=True), d, False)),),
    "no-grad": lambda d: (_leaf(_x(positive=True), d, False),),
}


@pytest.mark.parametrize("kind", list(UNARY_INPUTS))
@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu", "sqrt", "neg", "abs"])
def test_apply1_equals_apply(name, kind, device):
    op = OPS[name]
    _compare(lambda x: apply1(op, x), lambda x: apply(op, x), UNARY_INPUTS[kind], device)


def test_the_public_ops_take_the_inline_paths(monkeypatch):
    """(so the tests above cover what users run)"""
    calls = []
    from autograd_gpu.ops import core
    real1, real2 = core.apply1, core.apply2
    monkeypatch.setattr(U, "apply1", lambda *a: calls.append(1) or real1(*a))
    monkeypatch.setattr(M, "apply2", lambda *a: calls.append(2) or real2(*a))
    x = ag.ones(3, requires_grad=True)
    ag.exp(x), x * x, x + x, x - 1, x / 2
    assert calls == [1, 2, 2, 2, 2]


_KERNEL_BACKWARDS = [  # (op, its backward's kernel op, what that kernel reads: the op's input or output)
    (ag.exp, K.EXP_BWD, "out"), (ag.tanh, K.TANH_BWD, "out"), (ag.sigmoid, K.SIGMOID_BWD, "out"),
    (ag.relu, K.RELU_BWD, "out"), (ag.sqrt, K.SQRT_BWD, "out"), (ag.log, K.LOG_BWD, "in"),
]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("i", range(len(_KERNEL_BACKWARDS)))
def test_kernel_backward_on_arrays_equals_the_recorded_launch(i, create_graph, device):
    """exp/tanh/... run their backward kernel straight on the arrays when no graph is recorded, and record the
    kernel op under create_graph: the same gradient either way, differentiable only in the latter."""
    f, kop, reads = _KERNEL_BACKWARDS[i]
    x = ag.tensor(_x(positive=True).astype(np.float64), requires_grad=True, device=device)
    g, = ag.autograd.grad(f(x).sum(), x, create_graph=create_graph)
    assert g.requires_grad == create_graph
    if create_graph:
        assert type(g.grad_fn).__name__ == kop.node_name
    with ag.no_grad():
        expected = apply2(kop, ag.ones_like(x), x if reads == "in" else f(x))
    np.testing.assert_array_equal(g.detach().cpu().numpy(), expected.cpu().numpy())


def test_kernel_backward_on_arrays_still_checks_the_saved_version():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

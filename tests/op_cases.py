"""The op test table: inputs for every public op in autograd_gpu.ops.PUBLIC_OPS, and the helpers that run them.

A Case is one call, written once for both libraries: `fn(m, *tensors)` where `m` is `autograd_gpu` or
`torch`. Float inputs (numpy arrays) become leaves that require grad; `ng(...)` inputs (masks, indices,
constants) do not. Inputs are chosen away from the points where an op is not differentiable (abs and relu
near 0, ties in max/min, clamp bounds, floor/round near integers, remainder near multiples of the divisor).
tests/test_ops_gradcheck.py and tests/test_ops_parity.py iterate this table; a test fails if an op in PUBLIC_OPS
has no case here.
"""
import contextlib
import math

import numpy as np

_rng = np.random.default_rng(1234)


class NoGrad:
    """A tensor input that does not require grad: index tensors, masks, constants (dtype kept as given,
    except float constants, which take the dtype the test runs in unless `exact`)."""
    __slots__ = ("array", "exact")

    def __init__(self, array, exact=False):
        self.array = np.asarray(array)
        self.exact = exact


def ng(a, dtype=None, exact=False):
    return NoGrad(np.asarray(a, dtype=dtype), exact)


def idx(*values):
    """An int64 index tensor."""
    return NoGrad(np.asarray(values[0] if len(values) == 1 and isinstance(values[0], list) else values,
                             dtype=np.int64))


def rand(*shape, lo=-1.0, hi=1.0):
    return _rng.uniform(lo, hi, size=shape)


def pos(*shape):
    """Positive values in [0.5, 2]: for log, sqrt, pow bases, reciprocals."""
    return rand(*shape, lo=0.5, hi=2.0)


def away(*shape):
    """|x| in [0.25, 1], random signs: away from the kink at 0 (abs, relu, sign, norm p=1)."""
    return rand(*shape, lo=0.25, hi=1.0) * _rng.choice([-1.0, 1.0], size=shape)


def distinct(*shape):
    """No two elements (nor their absolute values) closer than 0.05: no ties for max/min/sort-like ops."""
    n = math.prod(shape)
    vals = np.linspace(0.2, 0.2 + 0.1 * n, n) * _rng.choice([-1.0, 1.0], size=n)
    return _rng.permutation(vals).reshape(shape)


def divisor(*shape):
    """|b| in [1.5, 2], random signs: with |a| <= 1 away from 0, a / b stays inside (-1, 1) away from 0, so
    remainder/fmod (jumps where a / b is an integer) are smooth there."""
    return rand(*shape, lo=1.5, hi=2.0) * _rng.choice([-1.0, 1.0], size=shape)


def clamp_away(*shape):
    """|x| in [0.1, 0.4] or [0.6, 1]: away from the bounds +-0.5 the clamp sweep uses."""
    inner = rand(*shape, lo=0.1, hi=0.4)
    return np.where(_rng.random(shape) < 0.5, inner, inner + 0.5) * _rng.choice([-1.0, 1.0], size=shape)


def frac_away(*shape):
    """Values whose fractional part is in [0.2, 0.4]: away from the jumps of floor/ceil/round/trunc."""
    return _rng.integers(-3, 3, size=shape) + rand(*shape, lo=0.2, hi=0.4)


class Case:
    __slots__ = ("op", "fn", "inputs", "name", "grad", "gradgrad", "node_differs", "rtol", "atol")

    def __init__(self, op, fn, *inputs, name="", grad=True, gradgrad=True, node_differs=None, rtol=1e-5,
                 atol=1e-6):
        self.op, self.fn, self.inputs, self.name = op, fn, inputs, name
        has_grad_input = any(not isinstance(i, NoGrad) for i in inputs)
        self.grad = grad and has_grad_input
        self.gradgrad = gradgrad and self.grad
        self.node_differs = node_differs  # why our backward node name legitimately differs from torch's
        self.rtol, self.atol = rtol, atol

    @property
    def id(self):
        return f"{self.op}-{self.name}" if self.name else self.op

    def __repr__(self):
        return f"Case({self.id})"


C = Case
B = np.bool_
I64 = np.int64
I32 = np.int32

# shapes used across the table
S, V, M, M2 = (), (4,), (3, 4), (2, 3, 4)
EMPTY = (0, 3)

CASES = [
    # ---- reductions ---------------------------------------------------------------------------------
    C("sum", lambda m, x: x.sum(), rand(*M), name="all"),
    C("sum", lambda m, x: m.sum(x, 1), rand(*M), name="dim"),
    C("sum", lambda m, x: x.sum((0, 2), keepdim=True), rand(*M2), name="dims-keepdim"),
    C("sum", lambda m, x: x.sum(-1), rand(*V), name="vector"),
    C("sum", lambda m, x: x.sum(), rand(*S), name="scalar"),
    C("sum", lambda m, x: x.sum(0), rand(*EMPTY), name="empty"),
    C("sum", lambda m, x: x.sum(), ng([[1, 2], [3, 4]], I32), name="int32-to-int64"),
    C("sum", lambda m, x: x.sum(0), ng([True, False, True], B), name="bool"),
    C("sum", lambda m, x: m.sum(x, 1, dtype=m.float64), rand(*M), name="dtype"),
    C("mean", lambda m, x: x.mean(), rand(*M), name="all"),
    C("mean", lambda m, x: x.mean(1, keepdim=True), rand(*M), name="dim-keepdim"),
    C("mean", lambda m, x: m.mean(x, (0, 1)), rand(*M2), name="dims"),
    C("mean", lambda m, x: x.mean(), rand(*S), name="scalar"),
    C("mean", lambda m, x: x.mean(dim=None), rand(*M), name="dim-None"),
    C("sum", lambda m, x: m.sum(x, None, keepdim=True), rand(*M), name="dim-None-keepdim"),
    C("prod", lambda m, x: x.prod(), pos(2, 3), name="all"),
    C("prod", lambda m, x: x.prod(1), rand(*M), name="dim"),
    C("prod", lambda m, x: x.prod(0, keepdim=True), np.array([[0.5, 0.0], [2.0, 3.0], [0.7, 0.0]]),
      name="zeros"),
    C("prod", lambda m, x: x.prod(), rand(*S), name="scalar"),
    C("prod", lambda m, x: x.prod(), ng([2, 3, 4], I32), name="int"),
    C("amax", lambda m, x: m.amax(x, 1), distinct(*M), name="dim"),
    C("amax", lambda m, x: x.amax(), distinct(*M), name="all"),
    C("amax", lambda m, x: x.amax((0, 2), keepdim=True), distinct(*M2), name="dims"),
    C("amin", lambda m, x: m.amin(x, 0), distinct(*M), name="dim"),
    C("amin", lambda m, x: x.amin(-1, keepdim=True), distinct(*M), name="keepdim"),
    C("all", lambda m, x: x.all(), ng([[True, False], [True, True]], B), name="all"),
    C("all", lambda m, x: m.all(x, 1), ng([[True, False], [True, True]], B), name="dim"),
    C("all", lambda m, x: x.all(0), ng(np.zeros((0, 2), B)), name="empty"),
    C("any", lambda m, x: x.any(), ng([[True, False], [False, False]], B), name="all"),
    C("any", lambda m, x: m.any(x, 0, keepdim=True), ng([[True, False], [False, False]], B), name="dim"),
    C("var", lambda m, x: x.var(), rand(*M), name="all"),
    C("var", lambda m, x: x.var(1), rand(*M), name="dim"),
    C("var", lambda m, x: m.var(x, 0, unbiased=False, keepdim=True), rand(*M), name="biased"),
    C("var", lambda m, x: m.var(x, dim=1, correction=2), rand(3, 5), name="correction2"),
    C("var", lambda m, x: m.var(x, dim=(0, 1), correction=0), rand(*M2), name="dims"),
    C("std", lambda m, x: x.std(), rand(*M), name="all"),
    C("std", lambda m, x: x.std(1, keepdim=True), rand(*M), name="dim"),
    C("std", lambda m, x: m.std(x, dim=0, correction=0), rand(*M), name="correction0"),
    C("std", lambda m, x: m.std(x, 1, unbiased=False), rand(*M), name="biased"),
    C("logsumexp", lambda m, x: m.logsumexp(x, 1), rand(*M), name="dim"),
    C("logsumexp", lambda m, x: x.logsumexp((0, 1), keepdim=True), rand(*M2), name="dims"),
    C("logsumexp", lambda m, x: x.logsumexp(0), ng([[1, 2], [3, 4]], I64), name="int"),
    C("norm", lambda m, x: x.norm(), rand(*M), name="fro"),
    C("norm", lambda m, x: x.norm(1), away(*M), name="p1"),
    C("norm", lambda m, x: x.norm(3, dim=1), away(*M), name="p3-dim"),
    C("norm", lambda m, x: m.norm(x, p=2, dim=0, keepdim=True), rand(*M), name="p2-keepdim"),
    C("norm", lambda m, x: x.norm(float("inf")), distinct(*M), name="inf"),
    C("norm", lambda m, x: x.norm(float("-inf"), dim=1), distinct(*M), name="-inf"),
    C("norm", lambda m, x: x.norm(0), away(*M), name="p0"),
    C("norm", lambda m, x: x.norm(0.5), away(*V), name="p0.5"),
    C("norm", lambda m, x: x.norm(), rand(*V), name="vector"),
    C("cumsum", lambda m, x: x.cumsum(1), rand(*M), name="dim1"),
    C("cumsum", lambda m, x: m.cumsum(x, 0), rand(*V), name="vector"),
    C("cumsum", lambda m, x: x.cumsum(0), ng([1, 2, 3], I32), name="int"),
    # ---- softmax ------------------------------------------------------------------------------------
    C("softmax", lambda m, x: m.softmax(x, 1), rand(*M), name="dim1"),
    C("softmax", lambda m, x: x.softmax(0), rand(*V), name="vector"),
    C("softmax", lambda m, x: x.softmax(-1), rand(*M2), name="3d"),
    C("softmax", lambda m, x: x.softmax(0), rand(*S), name="scalar"),
    C("log_softmax", lambda m, x: m.log_softmax(x, 1), rand(*M), name="dim1"),
    C("log_softmax", lambda m, x: x.log_softmax(0), rand(*V), name="vector"),
    C("log_softmax", lambda m, x: x.log_softmax(1), rand(*M2), name="3d"),
    # ---- arithmetic ---------------------------------------------------------------------------------
    C("add", lambda m, x, y: x + y, rand(*M), rand(*M), name="same"),
    C("add", lambda m, x, y: m.add(x, y), rand(3, 1), rand(1, 4), name="broadcast"),
    C("add", lambda m, x, y: x + y, rand(*M), rand(*V), name="broadcast-row"),
    C("add", lambda m, x, y: x + y, rand(*S), rand(*M), name="scalar-tensor"),
    C("add", lambda m, x: x + 2, rand(*M), name="python-scalar"),
    C("add", lambda m, x: 2 + x, rand(*V), name="radd"),
    C("add", lambda m, x, y: m.add(x, y, alpha=2), rand(*M), rand(*V), name="alpha"),
    C("add", lambda m, x, y: x + y, rand(*EMPTY), rand(1, 3), name="empty"),
    C("add", lambda m, x, y: x + y, ng([1, 2], I32), ng([3, 4], I64), name="int32-int64"),
    C("add", lambda m, x, y: x + y, ng([True, False]), ng([3, 4], I32), name="bool-int"),
    C("add", lambda m, x: x + 0.5, ng([1, 2], I64), name="int-float"),
    C("sub", lambda m, x, y: x - y, rand(*M), rand(*M), name="same"),
    C("sub", lambda m, x, y: m.sub(x, y, alpha=0.5), rand(2, 1, 4), rand(3, 1), name="broadcast-alpha"),
    C("sub", lambda m, x: 1.5 - x, rand(*M), name="rsub"),
    C("sub", lambda m, x: x - 1, rand(*S), name="scalar"),
    C("sub", lambda m, x, y: m.subtract(x, y), ng([5, 6], I64), ng([1, 2], I64), name="int"),
    C("mul", lambda m, x, y: x * y, rand(*M), rand(*M), name="same"),
    C("mul", lambda m, x, y: m.mul(x, y), rand(3, 1), rand(*V), name="broadcast"),
    C("mul", lambda m, x: x * 0.5, rand(*M), name="python-scalar"),
    C("mul", lambda m, x, y: x * y, rand(*S), rand(*S), name="scalars"),
    C("mul", lambda m, x: x * 0.5, ng([1, 2], I64), name="int-half"),
    C("mul", lambda m, x, y: x * y, rand(*M), ng([1, 2, 3, 4], I64), name="float-int"),
    C("div", lambda m, x, y: x / y, rand(*M), pos(*M), name="same"),
    C("div", lambda m, x, y: m.div(x, y), rand(*M), away(3, 1), name="broadcast"),
    C("div", lambda m, x: x / 4, rand(*M), name="python-scalar"),
    C("div", lambda m, x: 2 / x, away(*M), name="rdiv"),
    C("div", lambda m, x, y: m.div(x, y, rounding_mode="floor"), frac_away(*M), pos(*M), name="floor",
      gradgrad=False),
    C("div", lambda m, x, y: m.div(x, y, rounding_mode="trunc"), frac_away(*M), pos(*M), name="trunc",
      gradgrad=False),
    C("div", lambda m, x, y: x / y, ng([1, 2, 3], I64), ng([2, 2, 2], I64), name="int"),
    C("div", lambda m, x, y: m.div(x, y, rounding_mode="floor"), ng([-7, 7], I64), ng([2, 2], I64),
      name="int-floor"),
    C("div", lambda m, x, y: m.div(x, y, rounding_mode="trunc"), ng([-7, 7], I64), ng([2, -2], I64),
      name="int-trunc"),
    C("floor_divide", lambda m, x, y: m.floor_divide(x, y), ng([-7, 7, 5], I64), ng([2, 2, -3], I64),
      name="int"),
    # NOTE: float inputs that do not require grad: torch records a `NotImplemented` node for
    # floor_divide (its backward raises), ours records none.
    C("floor_divide", lambda m, x, y: x // y, ng([-7.5, 7.0, 5.5]), ng([2.0, 2.0, -3.0]), name="float"),
    C("remainder", lambda m, x, y: m.remainder(x, y), away(*M), divisor(*M), name="tensor"),
    C("remainder", lambda m, x: x % 1.5, rand(*M) * 0.5 + 0.7, name="scalar"),
    C("remainder", lambda m, x, y: x % y, ng([-7, 7, 5], I64), ng([2, 3, -3], I64), name="int"),
    C("fmod", lambda m, x, y: m.fmod(x, y), away(*M), divisor(*M), name="tensor"),
    C("fmod", lambda m, x: m.fmod(x, 1.5), rand(*M) * 0.5 + 0.7, name="scalar"),
    C("pow", lambda m, x, y: m.pow(x, y), pos(*M), rand(*M), name="tensor"),
    C("pow", lambda m, x, y: x ** y, pos(3, 1), rand(*V), name="broadcast"),
    C("pow", lambda m, x: x ** 2, rand(*M), name="square"),
    C("pow", lambda m, x: x ** 3, rand(*S), name="cube-scalar"),
    C("pow", lambda m, x: x ** 0.5, pos(*M), name="sqrt"),
    C("pow", lambda m, x: x ** -1.5, pos(*V), name="negative"),
    C("pow", lambda m, x: 2 ** x, rand(*M), name="rpow"),
    C("pow", lambda m, x, y: x ** y, pos(*M), rand(*S), name="0dim-exponent"),
    C("pow", lambda m, x: x ** 2, ng([1, 2, 3], I64), name="int"),
    C("pow", lambda m, x: x ** 0.5, ng([1, 4, 9], I64), name="int-float-exponent"),
    C("neg", lambda m, x: -x, rand(*M), name="matrix"),
    C("neg", lambda m, x: m.neg(x), rand(*S), name="scalar"),
    C("neg", lambda m, x: -x, ng([1, -2], I32), name="int"),
    C("abs", lambda m, x: x.abs(), away(*M), name="matrix"),
    C("abs", lambda m, x: m.abs(x), away(*S) + 0, name="scalar"),
    C("abs", lambda m, x: m.abs(x), ng([-1, 2], I64), name="int"),
    C("reciprocal", lambda m, x: x.reciprocal(), away(*M), name="matrix"),
    C("reciprocal", lambda m, x: m.reciprocal(x), ng([1, 2], I64), name="int"),
    C("maximum", lambda m, x, y: m.maximum(x, y), distinct(*M), distinct(*M) + 0.013, name="same"),
    C("maximum", lambda m, x, y: m.maximum(x, y), distinct(3, 1), distinct(*V) + 0.01, name="broadcast"),
    C("maximum", lambda m, x, y: m.maximum(x, y), ng([1, 5], I64), ng([3, 2], I64), name="int"),
    C("minimum", lambda m, x, y: m.minimum(x, y), distinct(*M), distinct(*M) + 0.013, name="same"),
    C("minimum", lambda m, x, y: x.minimum(y), distinct(*M), distinct(*S) + 0.01, name="scalar"),
    C("where", lambda m, c, x, y: m.where(c, x, y), ng(rand(*M) > 0), rand(*M), rand(*M), name="same"),
    C("where", lambda m, c, x, y: m.where(c, x, y), ng(rand(3, 1) > 0), rand(*V), rand(3, 1),
      name="broadcast"),
    C("where", lambda m, c, x: m.where(c, x, 0.0), ng(rand(*M) > 0), rand(*M), name="scalar-other"),
    C("where", lambda m, c, x: x.where(c, 2.0), ng(rand(*M) > 0), rand(*M), name="method"),
    # ---- comparisons and logical ops (no gradient) ---------------------------------------------------
    *[C(op, (lambda f: lambda m, x, y: getattr(m, f)(x, y))(op), ng([[1.0, 2.0, 3.0]]), ng([[2.0], [1.0]]),
        name="broadcast") for op in ("eq", "ne", "lt", "le", "gt", "ge")],
    C("eq", lambda m, x: x == 2, ng([1, 2, 3], I64), name="python-scalar"),
    C("lt", lambda m, x, y: x < y, ng([1, 2, 3], I32), ng([1.5, 2.5, 2.5]), name="int-float"),
    C("ge", lambda m, x: x >= 0.5, rand(*M), name="requires-grad-input", grad=False),
    *[C(op, (lambda f: lambda m, x, y: getattr(m, f)(x, y))(op), ng([True, False, True, False]),
        ng([True, True, False, False]), name="bool") for op in ("logical_and", "logical_or", "logical_xor")],
    C("logical_and", lambda m, x, y: m.logical_and(x, y), ng([0, 1, 2], I64), ng([0.0, 0.0, 3.0]), name="mixed"),
    C("logical_not", lambda m, x: m.logical_not(x), ng([True, False]), name="bool"),
    C("logical_not", lambda m, x: x.logical_not(), ng([0.0, 1.5]), name="float"),
    C("bitwise_not", lambda m, x: ~x, ng([True, False]), name="bool"),
    C("bitwise_not", lambda m, x: m.bitwise_not(x), ng([0, 5, -3], I64), name="int"),
    *[C(op, (lambda f: lambda m, x, y: getattr(m, f)(x, y))(op), ng([12, 10, 7], I64), ng([10, 3, 1], I64),
        name="int") for op in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    C("bitwise_and", lambda m, x, y: x & y, ng([True, False]), ng([True, True]), name="bool"),
    C("bitwise_or", lambda m, x, y: x | y, ng([True, False]), ng([False, False]), name="bool"),
    C("bitwise_xor", lambda m, x, y: x ^ y, ng([True, False]), ng([True, True]), name="bool"),
    # ---- matrix products ----------------------------------------------------------------------------
    C("mm", lambda m, x, y: m.mm(x, y), rand(2, 3), rand(3, 4), name="2d"),
    C("mm", lambda m, x, y: x @ y, rand(3, 3), rand(3, 2), name="matmul-2d"),
    C("mm", lambda m, x, y: m.mm(x, y), rand(0, 3), rand(3, 2), name="empty"),
    C("addmm", lambda m, c, x, y: m.addmm(c, x, y), rand(2, 4), rand(2, 3), rand(3, 4), name="2d"),
    C("addmm", lambda m, c, x, y: m.addmm(c, x, y, beta=0.5, alpha=-2), rand(4), rand(2, 3), rand(3, 4),
      name="bias-beta-alpha"),
    C("addmm", lambda m, c, x, y: c.addmm(x, y, alpha=1.5), rand(2, 1), rand(2, 3), rand(3, 4), name="method-column"),
    C("addmm", lambda m, c, x, y: m.addmm(c, x, y, beta=2), rand(), rand(2, 3), rand(3, 4), name="scalar-input"),
    C("addmm", lambda m, c, x, y: m.addmm(c, x, y, beta=0), rand(1, 4), rand(2, 3), rand(3, 4), name="beta-0"),
    C("addmm", lambda m, c, x, y: m.addmm(c, x, y), rand(2), rand(0, 3), rand(3, 2), name="empty"),
    C("addmm", lambda m, x, w, b: m.nn.functional.linear(x, w, b), rand(5, 3), rand(4, 3), rand(4), name="linear"),
    C("view", lambda m, x, w, b: m.nn.functional.linear(x, w, b), rand(2, 5, 3), rand(4, 3), rand(4),
      name="linear-3d"),
    C("view", lambda m, x, w, b: m.nn.functional.linear(x, w, b), rand(3), rand(4, 3), rand(1, 4), name="linear-1d"),
    C("bmm", lambda m, x, y: m.bmm(x, y), rand(2, 2, 3), rand(2, 3, 2), name="3d"),
    C("matmul", lambda m, x, y: m.matmul(x, y), rand(2, 2, 3), rand(2, 3, 2), name="batched"),
    C("matmul", lambda m, x, y: x @ y, rand(2, 1, 2, 3), rand(3, 3, 2), name="broadcast-batch"),
    C("matmul", lambda m, x, y: x @ y, rand(2, 2, 3), rand(3, 2), name="3d-2d"),
    C("matmul", lambda m, x, y: x @ y, rand(2, 3), rand(2, 3, 2), name="2d-3d"),
    C("matmul", lambda m, x, y: x @ y, rand(2, 2, 3), rand(3), name="3d-1d"),
    C("matmul", lambda m, x, y: x @ y, rand(3), rand(2, 3, 2), name="1d-3d"),
    C("mm", lambda m, x, y: m.matmul(x, y), rand(3), rand(3, 2), name="matmul-1d-2d"),
    C("dot", lambda m, x, y: m.dot(x, y), rand(*V), rand(*V), name="vector"),
    C("dot", lambda m, x, y: x @ y, rand(*V), rand(*V), name="matmul-1d"),
    C("mv", lambda m, x, y: m.mv(x, y), rand(*M), rand(*V), name="2d-1d"),
    C("mv", lambda m, x, y: x @ y, rand(*M), rand(*V), name="matmul-2d-1d"),
    # ---- indexing -----------------------------------------------------------------------------------
    C("select", lambda m, x: x[1], rand(*M), name="int"),
    C("select", lambda m, x: m.select(x, 1, -1), rand(*M), name="fn"),
    C("select", lambda m, x: x[1, 2], rand(*M), name="two-ints"),
    C("select", lambda m, x: x[::2, 1], rand(*M), name="slice-then-int"),
    C("select", lambda m, x: x[..., 0], rand(*M2), name="ellipsis"),
    C("select", lambda m, x: x[0], rand(*V), name="vector"),
    C("index", lambda m, x, i: x[i], rand(*M), idx(0, 2, 0), name="repeated"),
    C("index", lambda m, x, b: x[b], rand(*M), ng(rand(*M) > 0), name="mask"),
    C("index", lambda m, x, b: x[b], rand(*M), ng([True, False, True]), name="row-mask"),
    C("index", lambda m, x: x[:, [1, 1, 3]], rand(*M), name="list"),
    C("index", lambda m, x, i, j: x[i, j], rand(*M), idx([[0, 1], [2, 2]]), idx([[3, 3], [0, 3]]),
      name="pair"),
    C("index", lambda m, x, i: x[1:, i], rand(*M2), idx(2, 0), name="slice-and-tensor"),
    C("index", lambda m, x, i: x[i], rand(*M), idx([], ), name="empty-index"),
    C("index_put", lambda m, x, i, v: m.index_put(x, (i,), v), rand(*M), idx(2, 0), rand(2, 4), name="rows"),
    C("index_put", lambda m, x, i, v: x.index_put((i,), v, accumulate=True), rand(*M), idx(1, 1),
      rand(*V), name="accumulate"),
    C("index_put", lambda m, x, b, v: m.index_put(x, (b,), v), rand(*M), ng(rand(*M) > 0), rand(*S),
      name="mask-scalar"),
    C("gather", lambda m, x, i: m.gather(x, 1, i), rand(*M), idx([[0, 0, 3], [1, 2, 1], [3, 3, 3]]),
      name="dim1-repeated"),
    C("gather", lambda m, x, i: x.gather(0, i), rand(*M), idx([[2, 1, 0, 0]]), name="dim0"),
    C("gather", lambda m, x, i: x.take_along_dim(i, 1), rand(*M), idx([[0], [3], [1]]), name="take_along_dim"),
    C("scatter", lambda m, x, i, s: x.scatter(1, i, s), rand(*M), idx([[0, 2], [1, 3], [3, 0]]), rand(3, 2),
      name="src"),
    C("scatter", lambda m, x, i: m.scatter(x, 0, i, value=1.5), rand(*M), idx([[0, 1, 2, 0]]), name="value"),
    C("scatter_add", lambda m, x, i, s: x.scatter_add(1, i, s), rand(*M), idx([[0, 0], [1, 3], [3, 3]]),
      rand(3, 2), name="repeated"),
    C("scatter_add", lambda m, x, i, s: m.scatter_add(x, 0, i, s), rand(*M), idx([[0, 1, 2, 0], [2, 2, 2, 2]]),
      rand(2, 4), name="dim0"),
    C("index_select", lambda m, x, i: m.index_select(x, 0, i), rand(*M), idx(2, 0, 2), name="repeated"),
    C("index_select", lambda m, x, i: x.index_select(1, i), rand(*M), idx(3), name="dim1"),
    C("index_select", lambda m, x, i: x.index_select(0, i), rand(*V), idx(1), name="vector"),
    C("masked_fill", lambda m, x, b: x.masked_fill(b, 0.5), rand(*M), ng(rand(*M) > 0), name="scalar"),
    C("masked_fill", lambda m, x, b: m.masked_fill(x, b, -1.0), rand(*M), ng(rand(*V) > 0), name="broadcast"),
    C("masked_fill", lambda m, x, b, v: x.masked_fill(b, v), rand(*M), ng(rand(*M) > 0), rand(*S),
      name="tensor-value"),
    # ---- shape ops ----------------------------------------------------------------------------------
    C("view", lambda m, x: x.view(4, 3), rand(*M), name="2d"),
    C("view", lambda m, x: x.view(-1), rand(*M2), name="flatten"),
    C("view", lambda m, x: x.view(1, 1), rand(*S), name="scalar"),
    C("view", lambda m, x: x.view(3, 0), rand(0, 3), name="empty"),
    C("view", lambda m, x: x.flatten(), rand(*M), name="flatten-fn"),
    C("reshape", lambda m, x: x.t().reshape(12), rand(*M), name="copy"),
    C("reshape", lambda m, x: x.transpose(0, 2).flatten(1), rand(*M2), name="flatten-copy"),
    C("view", lambda m, x: m.reshape(x, (6, 2)), rand(*M), name="reshape-viewable"),
    C("unsqueeze", lambda m, x: x.unsqueeze(0), rand(*M), name="front"),
    C("unsqueeze", lambda m, x: m.unsqueeze(x, -1), rand(*S), name="scalar"),
    C("unsqueeze", lambda m, x: x[None], rand(*V), name="index-none"),
    C("unsqueeze", lambda m, x: x[..., None], rand(*V), name="index-ellipsis-none"),
    C("squeeze", lambda m, x: x.squeeze(1), rand(3, 1, 2), name="dim"),
    C("squeeze", lambda m, x: x.squeeze(), rand(1, 3, 1), name="all"),
    C("squeeze", lambda m, x: m.squeeze(x, (0, 2)), rand(1, 3, 1), name="dims"),
    C("squeeze", lambda m, x: x.squeeze(0), rand(*M), name="noop"),
    C("permute", lambda m, x: x.permute(2, 0, 1), rand(*M2), name="3d"),
    C("permute", lambda m, x: m.permute(x, (1, 0)), rand(*M), name="2d"),
    C("permute", lambda m, x: x.movedim(0, -1), rand(*M2), name="movedim"),
    C("permute", lambda m, x: x.T, rand(*M), name="T"),
    C("transpose", lambda m, x: x.transpose(0, 2), rand(*M2), name="3d"),
    C("transpose", lambda m, x: m.transpose(x, -1, 0), rand(*M), name="2d"),
    C("transpose", lambda m, x: x.mT, rand(*M2), name="mT"),
    C("t", lambda m, x: x.t(), rand(*M), name="2d"),
    C("t", lambda m, x: m.t(x), rand(*V), name="1d"),
    C("expand", lambda m, x: x.expand(2, 3, 4), rand(3, 1), name="new-dims"),
    C("expand", lambda m, x: x.expand(-1, 4), rand(3, 1), name="minus-one"),
    C("expand", lambda m, x: x.expand(3), rand(*S), name="scalar"),
    C("expand", lambda m, x, y: x.expand_as(y), rand(*V), ng(rand(*M)), name="expand_as"),
    C("repeat", lambda m, x: x.repeat(2, 3), rand(2, 2), name="2d"),
    C("repeat", lambda m, x: x.repeat(2, 1, 2), rand(*V), name="new-dims"),
    C("repeat", lambda m, x: x.repeat(3), rand(*S), name="scalar"),
    C("clone", lambda m, x: x.clone(), rand(*M), name="matrix"),
    C("clone", lambda m, x: x.t().contiguous(), rand(*M), name="contiguous"),
    C("flip", lambda m, x: x.flip(0), rand(*M), name="dim0"),
    C("flip", lambda m, x: m.flip(x, (0, 2)), rand(*M2), name="dims"),
    C("flip", lambda m, x: m.fliplr(x), rand(*M), name="fliplr"),
    C("cat", lambda m, x, y: m.cat([x, y]), rand(2, 3), rand(1, 3), name="dim0"),
    C("cat", lambda m, x, y, z: m.cat((x, y, z), dim=1), rand(2, 1), rand(2, 3), rand(2, 0), name="dim1-empty"),
    C("cat", lambda m, x, y: m.cat([x, y], -1), rand(*V), ng([1, 2], I64), name="promote"),
    C("cat", lambda m, x, y: m.cat([x, y]), rand(*M), rand(0), name="legacy-empty"),
    C("stack", lambda m, x, y: m.stack([x, y]), rand(*M), rand(*M), name="dim0"),
    C("stack", lambda m, x, y: m.stack((x, y), dim=-1), rand(*V), rand(*V), name="last"),
    C("stack", lambda m, x, y: m.stack([x, y]), rand(*S), rand(*S), name="scalars"),
    C("split", lambda m, x: x.split(2, 1), rand(*M), name="size"),
    C("split", lambda m, x: m.split(x, [1, 2], 0), rand(*M), name="sections"),
    C("split", lambda m, x: x.chunk(2, 1), rand(3, 5), name="chunk"),
    C("split", lambda m, x: x.chunk(3), rand(*V), name="chunk-uneven"),
    # ---- unary --------------------------------------------------------------------------------------
    C("exp", lambda m, x: x.exp(), rand(*M), name="matrix"),
    C("exp", lambda m, x: m.exp(x), rand(*S), name="scalar"),
    C("exp", lambda m, x: m.exp(x), ng([0, 1], I64), name="int"),
    C("exp", lambda m, x: x.exp(), rand(*EMPTY), name="empty"),
    C("log", lambda m, x: x.log(), pos(*M), name="matrix"),
    C("log", lambda m, x: m.log(x), ng([1, 2], I32), name="int"),
    C("log1p", lambda m, x: x.log1p(), pos(*M), name="matrix"),
    C("expm1", lambda m, x: x.expm1(), rand(*M), name="matrix"),
    C("log2", lambda m, x: x.log2(), pos(*M), name="matrix"),
    C("log10", lambda m, x: m.log10(x), pos(*M), name="matrix"),
    C("sqrt", lambda m, x: x.sqrt(), pos(*M), name="matrix"),
    C("sqrt", lambda m, x: m.sqrt(x), ng([4, 9], I64), name="int"),
    C("rsqrt", lambda m, x: x.rsqrt(), pos(*M), name="matrix"),
    C("sin", lambda m, x: x.sin(), rand(*M), name="matrix"),
    C("cos", lambda m, x: m.cos(x), rand(*M), name="matrix"),
    C("tan", lambda m, x: x.tan(), rand(*M), name="matrix"),
    C("tanh", lambda m, x: x.tanh(), rand(*M), name="matrix"),
    C("tanh", lambda m, x: m.tanh(x), rand(*S), name="scalar"),
    C("sigmoid", lambda m, x: x.sigmoid(), rand(*M) * 3, name="matrix"),
    C("sigmoid", lambda m, x: m.sigmoid(x), ng([-1000.0, 0.0, 1000.0]), name="extreme"),
    C("relu", lambda m, x: x.relu(), away(*M), name="matrix"),
    C("relu", lambda m, x: m.relu(x), ng([-1, 2], I64), name="int"),
    C("sign", lambda m, x: x.sign(), away(*M), name="matrix"),
    C("floor", lambda m, x: x.floor(), frac_away(*M), name="matrix"),
    C("floor", lambda m, x: m.floor(x), ng([-1, 2], I64), name="int"),
    C("ceil", lambda m, x: x.ceil(), frac_away(*M), name="matrix"),
    C("trunc", lambda m, x: x.trunc(), frac_away(*M), name="matrix"),
    C("frac", lambda m, x: x.frac(), frac_away(*M), name="matrix"),
    C("round", lambda m, x: x.round(), frac_away(*M), name="matrix"),
    C("round", lambda m, x: m.round(x, decimals=1), frac_away(*M) + 0.005, name="decimals"),
    C("round", lambda m, x: x.round(decimals=0), frac_away(*M), name="decimals0"),
    C("round", lambda m, x: m.round(x), ng([0.5, 1.5, 2.5, -0.5]), name="half-even"),
    C("clamp", lambda m, x: x.clamp(-0.5, 0.5), rand(*M) * 0.9 + 0.05, name="both"),
    C("clamp", lambda m, x: m.clamp(x, min=0.1), rand(*M) * 0.8 + 0.05, name="min"),
    C("clamp", lambda m, x: x.clamp(max=0.3), rand(*M) * 0.9 + 0.05, name="max"),
    C("clamp", lambda m, x: m.clip(x, 0.3, -0.3), rand(*M), name="min-above-max"),
    C("clamp", lambda m, x, lo, hi: x.clamp(lo, hi), rand(*M), rand(3, 1) * 0.3 - 0.5 + 0.01,
      rand(*V) * 0.3 + 0.5, name="tensor-bounds"),
    C("clamp", lambda m, x, lo: m.clamp(x, min=lo), rand(*M), rand(*V) * 0.5 + 0.013, name="tensor-min"),
    C("clamp", lambda m, x: x.clamp(min=1.5), ng([1, 2, 3], I64), name="int-float-bound"),
    C("clamp", lambda m, x: x.clamp(0, 2), ng([-1, 2, 3], I64), name="int"),
    # ---- nn primitives (ops/nn_ops.py) --------------------------------------------------------------
    C("gelu", lambda m, x: m.nn.functional.gelu(x), rand(*M) * 3, name="erf"),
    C("gelu", lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), rand(*M2) * 3, name="tanh"),
    C("gelu", lambda m, x: m.nn.functional.gelu(x), rand(*S), name="scalar"),
    C("softplus", lambda m, x: m.nn.functional.softplus(x), rand(*M) * 3, name="default"),
    C("softplus", lambda m, x: m.nn.functional.softplus(x, beta=2.0, threshold=1.5), away(*M) * 1.5,
      name="beta-threshold"),
    C("softplus", lambda m, x: m.nn.functional.softplus(x), ng([-1000.0, 0.0, 1000.0]), name="extreme"),
    C("embedding", lambda m, w, i: m.nn.functional.embedding(i, w), rand(5, 3), idx([[0, 2, 2], [4, 1, 0]]),
      name="2d-repeated"),
    C("embedding", lambda m, w, i: m.nn.functional.embedding(i, w, padding_idx=2), rand(5, 3), idx([0, 2, 2, 4]),
      name="padding_idx", grad=False),  # the padding row's gradient is zero by definition, not d/dw
    C("binary_cross_entropy", lambda m, x, y: m.nn.functional.binary_cross_entropy(x, y, reduction="none"),
      rand(*M, lo=0.1, hi=0.9), rand(*M, lo=0.0, hi=1.0), name="none"),
    C("binary_cross_entropy", lambda m, x, y: m.nn.functional.binary_cross_entropy(x, y, reduction="none"),
      rand(*V, lo=0.1, hi=0.9), ng([0.0, 1.0, 0.5, 1.0]), name="hard-targets"),
    C("binary_cross_entropy_with_logits",
      lambda m, x, y: m.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none"), rand(*M) * 4,
      rand(*M, lo=0.0, hi=1.0), name="none"),
    C("binary_cross_entropy_with_logits",
      lambda m, x, y, pw: m.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=pw),
      rand(*M) * 4, rand(*M, lo=0.0, hi=1.0), ng(rand(*V, lo=0.5, hi=2.0)), name="pos_weight"),
    C("binary_cross_entropy_with_logits",
      lambda m, x, y: m.nn.functional.binary_cross_entropy_with_logits(x, y, reduction="none"),
      ng([-1000.0, 0.0, 1000.0]), ng([1.0, 0.5, 0.0]), name="extreme"),
    C("nll_loss", lambda m, x, t: m.nn.functional.nll_loss(x, t), rand(4, 3), idx(0, 2, 1, 1), name="mean"),
    C("nll_loss", lambda m, x, t, w: m.nn.functional.nll_loss(x, t, weight=w, ignore_index=1, reduction="none"),
      rand(4, 3), idx(0, 2, 1, 1), ng(pos(3)), name="weight-ignore-none"),
    C("nll_loss", lambda m, x, t: m.nn.functional.cross_entropy(x, t, reduction="sum"), rand(4, 3),
      idx(0, 2, 1, 1), name="cross_entropy-sum"),
    C("nll_loss", lambda m, x, t: m.nn.functional.nll_loss(x, t), rand(3), ng(2, np.int64), name="unbatched"),
    C("nll_loss2d", lambda m, x, t: m.nn.functional.nll_loss(x, t), rand(2, 3, 2, 2),
      idx([[[0, 1], [2, 0]], [[1, 1], [2, 2]]]), name="4d"),
    C("nll_loss2d", lambda m, x, t: m.nn.functional.cross_entropy(x, t, reduction="none"), rand(2, 3, 4),
      idx([[0, 1, 2, 0], [1, 1, 2, 2]]), name="3d-cross_entropy"),
    # ---- convolution and pooling (ops/conv_ops.py) ---------------------------------------------------
    C("conv2d", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1), rand(2, 2, 4, 4), rand(3, 2, 2, 2),
      rand(3), name="padding"),
    C("conv2d", lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2, dilation=(1, 2), groups=2), rand(1, 4, 5, 6),
      rand(2, 2, 2, 2), name="stride-dilation-groups"),
    C("conv2d", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, padding="same"), rand(2, 2, 5), rand(3, 2, 2),
      rand(3), name="conv1d-same", node_differs="conv1d runs as conv2d on an unsqueezed input"),
    C("conv_transpose2d", lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                              output_padding=1),
      rand(1, 2, 3, 3), rand(2, 3, 3, 2), rand(3), name="stride-output_padding"),
    C("conv_transpose2d", lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, groups=2, dilation=2),
      rand(2, 2, 3, 2), rand(2, 1, 2, 2), name="groups-dilation"),
    C("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 2), distinct(2, 2, 4, 4), name="2x2"),
    C("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
      distinct(1, 2, 6, 5), name="padding-ceil-indices"),
    C("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 2, stride=1, dilation=2), distinct(1, 1, 5, 5),
      name="overlapping-dilation"),
    C("avg_pool2d", lambda m, x: m.nn.functional.avg_pool2d(x, 2), rand(2, 2, 4, 4), name="2x2"),
    C("avg_pool2d", lambda m, x: m.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
      rand(1, 2, 6, 5), name="padding-ceil-exclude"),
    C("avg_pool2d", lambda m, x: m.nn.functional.avg_pool2d(x, (2, 3), stride=1, divisor_override=4),
      rand(1, 1, 4, 4), name="divisor_override"),
    C("im2col", lambda m, x: m.nn.functional.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=2),
      rand(2, 2, 5, 4), name="unfold"),
    C("col2im", lambda m, x: m.nn.functional.fold(x, (4, 5), 2, padding=1, stride=2), rand(2, 8, 9), name="fold"),
    # ---- issue 11: elementwise ----
    # ---- (end elementwise) ----
    # ---- issue 11: sorting, selection and reductions ----
    # ---- (end sorting, selection and reductions) ----
    # ---- issue 11: matrices, contractions and linalg ----
    # ---- (end matrices, contractions and linalg) ----
    # ---- issue 11: scatter, gather and shape ----
    # ---- (end scatter, gather and shape) ----
    # ---- issue 11: sampling and cumulative ----
    # ---- (end sampling and cumulative) ----
    # ---- issue 11: nn.functional activations and losses ----
    C("hardtanh", lambda m, x: m.nn.functional.hardtanh(x), rand(*M) * 2, name="default"),
    C("hardtanh", lambda m, x: m.nn.functional.hardtanh(x, -0.5, 1.5), rand(*M2) * 2, name="bounds"),
    C("hardtanh", lambda m, x: m.nn.functional.relu6(x), rand(*M) * 8, name="relu6"),
    C("hardtanh", lambda m, x: m.nn.functional.hardtanh(x * 1, inplace=True), rand(*M) * 2, name="inplace"),
    C("hardtanh", lambda m, x: m.nn.functional.hardtanh(x), rand(*S) * 2, name="scalar"),
    C("hardtanh", lambda m, x: m.nn.functional.hardtanh(x), rand(*EMPTY), name="empty"),
    C("threshold", lambda m, x: m.nn.functional.threshold(x, 0.25, -3.0), rand(*M), name="default"),
    C("threshold", lambda m, x: m.nn.functional.threshold(x * 1, 0.0, 2.0, inplace=True), away(*M2), name="inplace",
      node_differs="in place PyTorch records ThresholdBackward1 (a backward from the result); ours ThresholdBackward0"),
    C("elu", lambda m, x: m.nn.functional.elu(x), rand(*M) * 3, name="default"),
    C("elu", lambda m, x: m.nn.functional.elu(x, 0.5), rand(*M2) * 3, name="alpha"),
    C("elu", lambda m, x: m.nn.functional.selu(x), rand(*M) * 3, name="selu"),
    C("elu", lambda m, x: m.nn.functional.elu(x), rand(*S), name="scalar"),
    C("elu", lambda m, x: m.nn.functional.elu(x), rand(*EMPTY), name="empty"),
    C("elu", lambda m, x: m.nn.functional.selu(x * 1, inplace=True), rand(*M) * 3, name="selu-inplace",
      node_differs="in place PyTorch records EluBackward1 (a backward from the result); ours EluBackward0"),
    C("celu", lambda m, x: m.nn.functional.celu(x), rand(*M) * 3, name="default"),
    C("celu", lambda m, x: m.nn.functional.celu(x, 2.5), rand(*M2) * 3, name="alpha"),
    C("softshrink", lambda m, x: m.nn.functional.softshrink(x), rand(*M) * 2, name="default"),
    C("softshrink", lambda m, x: m.nn.functional.softshrink(x, 0.0), away(*M2), name="zero"),
    C("softshrink", lambda m, x: m.nn.functional.softshrink(x), rand(*S) * 2, name="scalar"),
    C("hardshrink", lambda m, x: m.nn.functional.hardshrink(x), rand(*M) * 2, name="default"),
    C("hardshrink", lambda m, x: m.nn.functional.hardshrink(x, 1.2), rand(*M2) * 2, name="lambd"),
    C("hardshrink", lambda m, x: m.nn.functional.hardshrink(x, -1.0), rand(*M), name="negative-lambd"),
    C("hardsigmoid", lambda m, x: m.nn.functional.hardsigmoid(x), rand(*M) * 5, name="default"),
    C("hardsigmoid", lambda m, x: m.nn.functional.hardsigmoid(x * 1, inplace=True), rand(*M2) * 5, name="inplace"),
    C("hardsigmoid", lambda m, x: m.nn.functional.hardsigmoid(x), rand(*EMPTY), name="empty"),
    C("hardswish", lambda m, x: m.nn.functional.hardswish(x), rand(*M) * 5, name="default"),
    C("hardswish", lambda m, x: m.nn.functional.hardswish(x * 1, inplace=True), rand(*M2) * 5, name="inplace"),
    C("hardswish", lambda m, x: m.nn.functional.hardswish(x), rand(*S) * 5, name="scalar"),
    C("div", lambda m, x: m.nn.functional.softsign(x), rand(*M) * 3, name="softsign"),
    C("sub", lambda m, x: m.nn.functional.tanhshrink(x), rand(*M) * 3, name="tanhshrink"),
    C("glu", lambda m, x: m.nn.functional.glu(x), rand(3, 4) * 3, name="last"),
    C("glu", lambda m, x: m.nn.functional.glu(x, 0), rand(2, 3, 2) * 3, name="dim0"),
    C("glu", lambda m, x: m.nn.functional.glu(x, -2), rand(2, 4, 3), name="dim-2"),
    C("log_sigmoid", lambda m, x: m.nn.functional.logsigmoid(x), rand(*M) * 5, name="default"),
    C("log_sigmoid", lambda m, x: m.nn.functional.logsigmoid(x), rand(*S), name="scalar"),
    C("log_sigmoid", lambda m, x: m.nn.functional.logsigmoid(x), rand(*EMPTY), name="empty"),
    C("log_sigmoid", lambda m, x: m.nn.functional.logsigmoid(x), np.array([-1000.0, -30.0, 0.5, 30.0, 1000.0]),
      name="extreme"),
    C("mish", lambda m, x: m.nn.functional.mish(x), rand(*M) * 5, name="default"),
    C("mish", lambda m, x: m.nn.functional.mish(x * 1, inplace=True), rand(*M2) * 3, name="inplace"),
    C("mish", lambda m, x: m.nn.functional.mish(x), rand(*S), name="scalar"),
    C("mish", lambda m, x: m.nn.functional.mish(x), np.array([-100.0, -30.0, 0.5, 30.0, 100.0]), name="extreme"),
    C("div", lambda m, x: m.nn.functional.normalize(x), rand(*M), name="normalize"),
    C("div", lambda m, x: m.nn.functional.normalize(x, p=1.0, dim=0), away(*M2), name="normalize-p1"),
    # ---- (end nn.functional activations and losses) ----
    # ---- issue 11: nn.functional sampling, pooling and convolution ----
    # ---- (end nn.functional sampling, pooling and convolution) ----
]

# ---- sweeps: every elementwise op over the standard shapes ---------------------------------------------------
# unary: scalar, vector, matrix, empty
UNARY_SWEEP = {
    "exp": rand, "log": pos, "log1p": pos, "expm1": rand, "log2": pos, "log10": pos, "sqrt": pos, "rsqrt": pos,
    "sin": rand, "cos": rand, "tan": rand, "atan": rand, "tanh": rand, "sigmoid": rand, "relu": away, "sign": away,
    "floor": frac_away, "ceil": frac_away, "trunc": frac_away, "frac": frac_away, "round": frac_away, "abs": away,
    "neg": rand, "reciprocal": away,
}
UNARY_SHAPES = [S, V, (2, 3), EMPTY]
for _name, _gen in UNARY_SWEEP.items():
    for _shape in UNARY_SHAPES:
        CASES.append(C(_name, (lambda f: lambda m, x: getattr(m, f)(x))(_name), _gen(*_shape),
                       name=f"sweep{list(_shape)}"))
for _shape in UNARY_SHAPES:
    CASES.append(C("clamp", lambda m, x: m.clamp(x, -0.5, 0.5), clamp_away(*_shape), name=f"sweep{list(_shape)}"))

# binary: same shapes, scalar with tensor, two-way broadcast, empty broadcast
BINARY_SHAPES = [(S, S), (V, S), ((2, 3), (2, 3)), ((2, 1), (1, 3)), (EMPTY, (1, 3))]
BINARY_SWEEP = {
    "add": (lambda m, x, y: m.add(x, y), rand, rand),
    "sub": (lambda m, x, y: m.sub(x, y), rand, rand),
    "mul": (lambda m, x, y: m.mul(x, y), rand, rand),
    "div": (lambda m, x, y: m.div(x, y), rand, away),
    "pow": (lambda m, x, y: m.pow(x, y), pos, rand),
    "remainder": (lambda m, x, y: m.remainder(x, y), away, divisor),
    "fmod": (lambda m, x, y: m.fmod(x, y), away, divisor),
    "maximum": (lambda m, x, y: m.maximum(x, y), distinct, lambda *s: distinct(*s) + 0.013),
    "minimum": (lambda m, x, y: m.minimum(x, y), distinct, lambda *s: distinct(*s) + 0.013),
}
for _name, (_fn, _ga, _gb) in BINARY_SWEEP.items():
    for _sa, _sb in BINARY_SHAPES:
        CASES.append(C(_name, _fn, _ga(*_sa), _gb(*_sb), name=f"sweep{list(_sa)}{list(_sb)}"))
        if _sa != _sb:
            CASES.append(C(_name, _fn, _ga(*_sb), _gb(*_sa), name=f"sweep{list(_sb)}{list(_sa)}"))
for _sa, _sb in BINARY_SHAPES:
    CASES.append(C("where", lambda m, c, x, y: m.where(c, x, y), ng(rand(*_sa) > 0), rand(*_sa), rand(*_sb),
                   name=f"sweep{list(_sa)}{list(_sb)}"))


def cases_for_ops():
    """op name -> its cases."""
    out = {}
    for c in CASES:
        out.setdefault(c.op, []).append(c)
    return out


# ---- helpers shared by the table-driven tests -----------------------------------------------------------
def build(case, m, dtype, device, arrays=None, requires_grad=True):
    """Make the case's input tensors in module `m` (float arrays as `dtype`) and call it.

    Returns (all input tensors, the grad leaves, the outputs as a list)."""
    np_dtype = np.dtype(str(dtype).replace("torch.", ""))
    tensors, leaves = [], []
    k = 0
    for spec in case.inputs:
        if isinstance(spec, NoGrad):
            a = spec.array
            if a.dtype.kind == "f" and not spec.exact:
                a = a.astype(np_dtype)
            tensors.append(m.tensor(a, device=device))
        else:
            a = (arrays[k] if arrays is not None else spec).astype(np_dtype)
            k += 1
            t = m.tensor(a, device=device, requires_grad=requires_grad)
            tensors.append(t)
            leaves.append(t)
    return tensors, leaves, outputs(case.fn(m, *tensors))


def outputs(y):
    return list(y) if isinstance(y, (tuple, list)) else [y]


def grad_arrays(case):
    return [np.asarray(spec, dtype=np.float64) for spec in case.inputs if not isinstance(spec, NoGrad)]


def to_numpy(t):
    return t.detach().cpu().numpy()


@contextlib.contextmanager
def track_ops():
    """The names of the op rows whose forward runs inside the block."""
    from autograd_gpu.ops import core
    ran = set()
    saved = [(op, op.forward) for op in core.OP_TABLE.values()]

    def wrap(op, fwd):
        def forward(*args, **kwargs):
            ran.add(op.name)
            return fwd(*args, **kwargs)
        return forward

    for op, fwd in saved:
        op.forward = wrap(op, fwd)
    try:
        yield ran
    finally:
        for op, fwd in saved:
            op.forward = fwd

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


# (issue 11, elementwise: the domains of asin/acos/atanh/erfinv, acosh and logit)
def unit(*shape):
    """Values in [-0.9, 0.9]: inside (-1, 1), away from the poles of the derivatives at +-1."""
    return rand(*shape, lo=-0.9, hi=0.9)


def above_one(*shape):
    """Values in [1.2, 3]: inside acosh's domain, away from its derivative's pole at 1."""
    return rand(*shape, lo=1.2, hi=3.0)


def prob(*shape):
    """Values in [0.05, 0.95]: probabilities away from 0 and 1 (logit)."""
    return rand(*shape, lo=0.05, hi=0.95)


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
    C("repeat", lambda m, x: m.tile(x, (2,)), rand(2, 3), name="tile-short-dims"),
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
    C("conv1d", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, padding="same"), rand(2, 2, 5), rand(3, 2, 2),
      rand(3), name="conv1d-same"),
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
    C("asin", lambda m, x: x.asin(), unit(*M), name="matrix"),
    C("asin", lambda m, x: m.arcsin(x), ng([0, 1], I64), name="int-alias"),
    C("acos", lambda m, x: m.acos(x), unit(*M), name="matrix"),
    C("acos", lambda m, x: x.arccos(), ng([-1.0, 0.0, 1.0, 1.5]), name="edges"),
    C("sinh", lambda m, x: x.sinh(), rand(*M) * 3, name="matrix"),
    C("sinh", lambda m, x: m.sinh(x), ng([1, -2], I32), name="int"),
    C("cosh", lambda m, x: m.cosh(x), rand(*M) * 3, name="matrix"),
    C("asinh", lambda m, x: x.asinh(), rand(*M) * 5, name="matrix"),
    C("asinh", lambda m, x: x.arcsinh(), ng([0, 3], I64), name="int-alias"),
    C("acosh", lambda m, x: m.acosh(x), above_one(*M), name="matrix"),
    C("acosh", lambda m, x: m.arccosh(x), ng([0.5, 1.0, 2.0]), name="edges"),
    C("atanh", lambda m, x: x.atanh(), unit(*M), name="matrix"),
    C("atanh", lambda m, x: m.arctanh(x), ng([-1.0, 1.0, 0.5, 2.0]), name="edges"),
    C("erf", lambda m, x: x.erf(), rand(*M) * 3, name="matrix"),
    C("erf", lambda m, x: m.erf(x), ng([0, 1, -2], I64), name="int"),
    C("erf", lambda m, x: m.erf(x), ng([0.0, -0.0, np.inf, -np.inf, np.nan, 7.0]), name="special-values"),
    C("erfc", lambda m, x: m.erfc(x), rand(*M) * 3, name="matrix"),
    C("erfc", lambda m, x: x.erfc(), ng([-30.0, -5.0, 0.0, 5.0, 10.0, 30.0, np.inf, -np.inf, np.nan]),
      name="tails", rtol=1e-6, atol=0),
    C("erfc", lambda m, x: m.erfc(x), ng([1, 3], I32), name="int"),
    C("erfinv", lambda m, x: x.erfinv(), unit(*M), name="matrix"),
    C("erfinv", lambda m, x: m.erfinv(x), ng([-1.0, 1.0, 0.0, 1.5, np.nan]), name="edges"),
    C("erfinv", lambda m, x: m.erfinv(x), ng([0, 1], I64), name="int"),
    C("exp2", lambda m, x: x.exp2(), rand(*M) * 3, name="matrix"),
    C("exp2", lambda m, x: m.exp2(x), ng([0, 3, -2], I64), name="int"),
    C("sinc", lambda m, x: x.sinc(), rand(*M) * 3, name="matrix"),
    # (at 0 the formula's where() makes the second derivative 0, as PyTorch's does: no gradgradcheck there)
    C("sinc", lambda m, x: m.sinc(x), np.array([0.0, 0.5, -1.5]), name="zero", gradgrad=False),
    C("sinc", lambda m, x: m.sinc(x), ng([0, 1, 2], I64), name="int"),
    C("logit", lambda m, x: x.logit(), prob(*M), name="matrix"),
    C("logit", lambda m, x: m.logit(x, eps=0.2), np.array([0.05, 0.1, 0.3, 0.7, 0.9, 0.97]), name="eps"),
    C("logit", lambda m, x: m.logit(x, 0.25), prob(*M), name="eps-positional"),
    C("logit", lambda m, x: m.logit(x), ng([-0.5, 0.0, 1.0, 1.5, np.nan]), name="edges"),
    C("logit", lambda m, x: m.logit(x, eps=0.1), ng([-0.5, 0.0, 1.0, 1.5, np.nan]), name="edges-eps"),
    C("logit", lambda m, x: m.logit(x), ng([0, 1], I64), name="int"),
    # (the gradient outside the domain: NaN without eps, 0 with it; NaN stays NaN)
    C("logit", lambda m, x: x.logit(), np.array([-0.5, 1.5, np.nan, 0.3]), name="edges-grad", grad=False),
    C("logit", lambda m, x: x.logit(eps=0.1), np.array([-0.5, 1.5, np.nan, 0.05, 0.1, 0.9]),
      name="edges-eps-grad", grad=False),
    C("deg2rad", lambda m, x: x.deg2rad(), rand(*M) * 180, name="matrix"),
    C("deg2rad", lambda m, x: m.deg2rad(x), ng([90, -180], I64), name="int"),
    C("rad2deg", lambda m, x: m.rad2deg(x), rand(*M) * 3, name="matrix"),
    C("rad2deg", lambda m, x: x.rad2deg(), ng([1, -2], I32), name="int"),
    # NOTE: sgn's gradient is PyTorch's ZeroTensor, which cannot be read as numpy: a second output (x * 1) adds a
    # dense gradient to it, and the parity test still checks sgn's own node (so sgn is not in UNARY_SWEEP)
    *[C("sgn", lambda m, x: (x.sgn(), x * 1), away(*shape), name=f"sweep{list(shape)}")
      for shape in (S, V, (2, 3), EMPTY)],
    C("sgn", lambda m, x: (m.sgn(x), x * 1), away(*M), name="matrix"),
    C("sgn", lambda m, x: m.sgn(x), ng([-3, 0, 2], I64), name="int"),
    C("nan_to_num", lambda m, x: x.nan_to_num(), rand(*M), name="finite"),
    # (at +-inf and NaN the output is a constant: the gradient is 0 there, and central differences agree)
    C("nan_to_num", lambda m, x: m.nan_to_num(x, nan=0.5, posinf=2.0, neginf=-3.0),
      np.array([0.3, np.nan, np.inf, -np.inf, -0.7]), name="nonfinite-grad"),
    C("nan_to_num", lambda m, x: m.nan_to_num(x), ng([np.nan, np.inf, -np.inf, 1.5]), name="defaults"),
    C("nan_to_num", lambda m, x: x.nan_to_num(neginf=-1.0), ng([np.nan, np.inf, -np.inf, 1.5]), name="neginf"),
    C("nan_to_num", lambda m, x: m.nan_to_num(x, nan=7.0), ng([1, -2], I64), name="int"),
    *[C(op, (lambda f: lambda m, x: getattr(m, f)(x))(op),
        ng([[np.nan, np.inf, -np.inf], [0.0, -0.0, -2.5]]), name="nonfinite")
      for op in ("isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal", "signbit")],
    *[C(op, (lambda f: lambda m, x: getattr(x, f)())(op), ng([-3, 0, 4], I64), name="int")
      for op in ("isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal", "signbit")],
    C("signbit", lambda m, x: x.signbit(), ng([True, False]), name="bool"),
    C("isnan", lambda m, x: x.isnan(), rand(*M), name="requires-grad-input", grad=False),
    C("isfinite", lambda m, x: m.isfinite(x), ng([np.inf, 1.0], np.float16), name="float16"),
    C("atan2", lambda m, x, y: m.atan2(x, y), rand(*M), rand(*M), name="same"),
    C("atan2", lambda m, x, y: x.arctan2(y), rand(3, 1), away(*V), name="broadcast-alias"),
    C("atan2", lambda m, x, y: m.atan2(x, y), ng([1, -1, 0], I64), ng([0, -2, -1], I64), name="int"),
    C("atan2", lambda m, x, y: m.atan2(x, y), ng([0.0, -0.0, 0.0, 1.0]), ng([0.0, -0.0, -1.0, np.inf]),
      name="signed-zeros"),
    C("logaddexp", lambda m, x, y: m.logaddexp(x, y), rand(*M) * 3, rand(*M) * 3, name="same"),
    C("logaddexp", lambda m, x, y: x.logaddexp(y), rand(*V), rand(3, 1), name="broadcast"),
    C("logaddexp", lambda m, x, y: m.logaddexp(x, y), ng([1000.0, -1000.0, -np.inf]), ng([1000.0, 0.0, -np.inf]),
      name="extreme"),
    C("logaddexp2", lambda m, x, y: m.logaddexp2(x, y), rand(*M) * 3, rand(*M) * 3, name="same"),
    C("logaddexp2", lambda m, x, y: x.logaddexp2(y), rand(*S), rand(*M), name="scalar-tensor"),
    C("hypot", lambda m, x, y: m.hypot(x, y), away(*M), away(*M), name="same"),
    C("hypot", lambda m, x, y: x.hypot(y), away(3, 1), away(*V), name="broadcast"),
    C("hypot", lambda m, x, y: m.hypot(x, y), ng([3.0, np.inf, 0.0]), ng([4.0, np.nan, 0.0]), name="special"),
    C("copysign", lambda m, x, y: m.copysign(x, y), away(*M), away(*M), name="same"),
    C("copysign", lambda m, x, y: x.copysign(y), away(*M), away(*V), name="broadcast"),
    C("copysign", lambda m, x: m.copysign(x, -1.0), away(*M), name="scalar"),
    C("copysign", lambda m, x: x.copysign(2), ng([-1, 0, 3], I64), name="int-scalar"),
    C("copysign", lambda m, x, y: m.copysign(x, y), ng([1, -2], I64), ng([-1, 2], I64), name="int"),
    # (the kink at 0: PyTorch's gradient there is 0; -0.0 as the sign counts as negative)
    C("copysign", lambda m, x, y: m.copysign(x, y), np.array([0.0, 0.5, -0.5, 0.7]),
      ng([1.0, -0.0, 0.0, -np.inf]), name="zeros", grad=False),
    C("xlogy", lambda m, x, y: m.xlogy(x, y), rand(*M), pos(*M), name="same"),
    C("xlogy", lambda m, x, y: x.xlogy(y), np.array([0.0, 0.5, 0.0, -0.3]), pos(*V), name="zero-x"),
    C("xlogy", lambda m, x, y: m.xlogy(x, y), rand(3, 1), pos(*V), name="broadcast"),
    C("xlogy", lambda m, x, y: m.xlogy(x, y), ng([0.0, 0.0, 0.0, 1.0, 2.0]), ng([0.0, -1.0, np.nan, 0.0, -1.0]),
      name="edges"),
    # (0 * log 0 = 0 in the forward; the gradients there: xlogy(g, 0) masked to 0 for x, g * 0 / 0 for y)
    C("xlogy", lambda m, x, y: m.xlogy(x, y), np.array([0.0, 0.0, 1.0]), np.array([0.0, -1.0, 0.5]),
      name="edges-grad", grad=False),
    C("xlogy", lambda m, y: m.xlogy(2.0, y), pos(*M), name="scalar-self"),
    C("xlogy", lambda m, x: m.xlogy(x, 3.0), rand(*M), name="scalar-other"),
    C("xlogy", lambda m, x: m.xlogy(x, 0.0), np.array([0.0, 0.5, -1.0]), name="scalar-other-zero", grad=False),
    C("xlogy", lambda m, x: x.xlogy(-2), np.array([0.0, 0.5]), name="scalar-other-negative", grad=False),
    C("xlogy", lambda m, x, y: m.xlogy(x, y), ng([0, 1, 2], I64), ng([0, 3, 4], I64), name="int"),
    C("xlogy", lambda m, y: m.xlogy(0, y), ng([0, 1], I64), name="int-scalar-self"),
    C("fmax", lambda m, x, y: m.fmax(x, y), distinct(*M), distinct(*M) + 0.013, name="same"),
    C("fmax", lambda m, x, y: x.fmax(y), distinct(3, 1), distinct(*V) + 0.013, name="broadcast"),
    # (a NaN operand loses: the other one takes the gradient)
    C("fmax", lambda m, x, y: m.fmax(x, y), np.array([0.5, np.nan, 0.3]), np.array([np.nan, 0.2, 0.4]),
      name="nan"),
    C("fmax", lambda m, x, y: m.fmax(x, y), np.array([0.5, 0.2]), np.array([0.5, 0.3]), name="tie", grad=False),
    C("fmax", lambda m, x, y: m.fmax(x, y), ng([1, 5], I64), ng([3, 2], I64), name="int"),
    C("fmin", lambda m, x, y: m.fmin(x, y), distinct(*M), distinct(*M) + 0.013, name="same"),
    C("fmin", lambda m, x, y: m.fmin(x, y), np.array([0.5, np.nan, 0.3]), np.array([np.nan, 0.2, 0.4]),
      name="nan"),
    C("fmin", lambda m, x, y: x.fmin(y), np.array([0.5, 0.2]), np.array([0.5, 0.3]), name="tie", grad=False),
    C("lerp", lambda m, x, y: m.lerp(x, y, 0.3), rand(*M), rand(*M), name="scalar-weight"),
    C("lerp", lambda m, x, y: x.lerp(y, 0.75), rand(*M), rand(*V), name="scalar-weight-high"),
    C("lerp", lambda m, x, y, w: m.lerp(x, y, w), rand(*M), rand(*M), rand(*M), name="tensor-weight"),
    C("lerp", lambda m, x, y, w: x.lerp(y, w), rand(3, 1), rand(*V), rand(*M) + 0.5, name="tensor-weight-broadcast"),
    C("lerp", lambda m, x, y, w: m.lerp(x, y, w), rand(*M), rand(*M), ng(rand(*V)), name="tensor-weight-no-grad"),
    # NOTE: inputs that do not require grad: PyTorch records a `NotImplemented` node for heaviside, we none
    C("heaviside", lambda m, x, v: m.heaviside(x, v), ng([-1.5, 0.0, 2.0, np.nan, -0.0]), ng([0.5]),
      name="float"),
    C("heaviside", lambda m, x, v: x.heaviside(v), ng([[-1, 0, 3]], I64), ng([[7], [-7]], I64), name="int"),
    C("bitwise_left_shift", lambda m, x, y: m.bitwise_left_shift(x, y), ng([1, -8, 3, 5, 7], I64),
      ng([1, 2, 64, -1, 63], I64), name="int64"),
    C("bitwise_left_shift", lambda m, x: x << 3, ng([1, 2, 200], np.uint8), name="uint8-operator"),
    C("bitwise_left_shift", lambda m, x: 2 << x, ng([0, 1, 31, 32], I32), name="rlshift"),
    C("bitwise_left_shift", lambda m, x, y: x << y, ng([1, 2], I32), ng([[1], [40]], I64), name="promote"),
    C("bitwise_left_shift", lambda m, x: x << 1, ng([True, False]), name="bool-int"),
    C("bitwise_right_shift", lambda m, x, y: m.bitwise_right_shift(x, y), ng([1, -8, 3, -5, 7], I64),
      ng([1, 2, 64, -1, 63], I64), name="int64"),
    C("bitwise_right_shift", lambda m, x: x >> 2, ng([200, 7, 255], np.uint8), name="uint8-operator"),
    C("bitwise_right_shift", lambda m, x, y: x >> y, ng([200, 7], np.uint8), ng([8, 9], np.uint8), name="uint8-past"),
    C("bitwise_right_shift", lambda m, x: 1024 >> x, ng([0, 3, 70], I64), name="rrshift"),
    C("bitwise_right_shift", lambda m, x: x.bitwise_right_shift(1), ng([-3, 3], np.int8), name="int8"),
    C("float_power", lambda m, x, y: m.float_power(x, y), pos(*M), rand(*M), name="tensor"),
    C("float_power", lambda m, x: x.float_power(2), rand(*M), name="scalar-exponent"),
    C("float_power", lambda m, x: m.float_power(2.5, x), rand(*M), name="scalar-base"),
    C("float_power", lambda m, x, y: m.float_power(x, y), ng([1, 2, 3], I64), ng([2, 0, -1], I64), name="int"),
    C("float_power", lambda m, x, y: m.float_power(x, y), pos(*V), ng([1, 2, 3, 4], I64), name="float-int"),
    C("pow", lambda m, x: 0 ** x, np.array([-1.0, -0.5, 0.0, 0.5, 2.0]), name="rpow-zero-base", grad=False),
    C("pow", lambda m, x: 0.0 ** x, np.array([1.0, 0.5, 2.0]), name="rpow-zero-base-positive"),
    # ---- (end elementwise) ----
    # ---- issue 11: sorting, selection and reductions ----
    C("sort", lambda m, x: m.sort(x, 1), distinct(*M), name="dim1"),
    C("sort", lambda m, x: x.sort(0, descending=True), distinct(*M), name="descending"),
    C("sort", lambda m, x: m.sort(x, dim=-1, stable=True), np.array([2.0, 1.0, 2.0, 0.5]), name="stable-ties",
      grad=False),
    C("sort", lambda m, x: x.sort(dim=0, descending=True, stable=True), ng([1, 3, 1, 3, 2], I64), name="int"),
    C("sort", lambda m, x: x.sort(stable=False, dim=0, descending=True), distinct(4, 3), name="stable-kw"),
    C("sort", lambda m, x: x.sort(), rand(*S), name="scalar"),
    C("sort", lambda m, x: x.sort(1), rand(*EMPTY), name="empty"),
    C("sort", lambda m, x: m.msort(x), distinct(*M), name="msort"),
    C("argsort", lambda m, x: m.argsort(x, 1), distinct(*M), name="dim1", grad=False),
    C("argsort", lambda m, x: x.argsort(dim=0, descending=True, stable=True), ng([[1, 3], [1, 2], [1, 3]], I32),
      name="stable-descending"),
    C("argsort", lambda m, x: x.argsort(), ng(True, B), name="scalar"),
    C("topk", lambda m, x: m.topk(x, 2), distinct(*M), name="largest"),
    C("topk", lambda m, x: x.topk(3, dim=0, largest=False), distinct(4, 3), name="smallest-dim0"),
    C("topk", lambda m, x: x.topk(0, 1), distinct(*M), name="k0"),
    C("topk", lambda m, x: x.topk(1), rand(*S), name="scalar"),
    C("kthvalue", lambda m, x: m.kthvalue(x, 2, 1), distinct(*M), name="dim1"),
    C("kthvalue", lambda m, x: x.kthvalue(3, 0, keepdim=True), distinct(4, 3), name="keepdim"),
    C("kthvalue", lambda m, x: x.kthvalue(2), ng([3, 1, 2], I64), name="int"),
    C("median", lambda m, x: x.median(), distinct(*M), name="all-even"),
    C("median", lambda m, x: m.median(x), distinct(5), name="all-odd"),
    C("median", lambda m, x: x.median(), np.array([1.0, 2.0, 2.0, 3.0]), name="ties", grad=False),
    C("median", lambda m, x: x.median(), np.array([1.0, np.nan, 2.0]), name="nan", grad=False),
    C("median", lambda m, x: x.median(), ng([4, 1, 3, 2], I64), name="int"),
    C("median_dim", lambda m, x: x.median(1), distinct(*M), name="dim1"),
    C("median_dim", lambda m, x: m.median(x, 0, keepdim=True), distinct(3, 2), name="keepdim"),
    C("median_dim", lambda m, x: x.median(axis=1), np.array([[1.0, np.nan, 2.0, np.nan], [3.0, 1.0, 2.0, 0.0]]),
      name="nan", grad=False),
    C("mode", lambda m, x: x.mode(1), ng([[1.0, 2.0, 1.0, 2.0, 3.0], [0.0, 5.0, 5.0, 4.0, 0.0]]), name="ties"),
    C("mode", lambda m, x: m.mode(x, 0, keepdim=True), distinct(4, 3), name="distinct"),
    C("mode", lambda m, x: x.mode(), ng([2, 2, 1], I64), name="int"),
    C("mode", lambda m, x: x.mode(), rand(*S), name="scalar"),
    C("searchsorted", lambda m, s, v: m.searchsorted(s, v), ng([1.0, 2.0, 3.0, 4.0]), ng([[2.5, 2.0], [0.0, 9.0]]),
      name="1d"),
    C("searchsorted", lambda m, s, v: m.searchsorted(s, v, right=True, out_int32=True), ng([1.0, 2.0, 2.0, 4.0]),
      ng([2.0, 3.0]), name="right-int32"),
    C("searchsorted", lambda m, s, v: m.searchsorted(s, v, side="right"),
      ng([[1.0, 2.0, 3.0], [0.0, 0.5, 0.5]]), ng([[2.0, 3.5], [0.5, -1.0]]), name="batched-side"),
    C("searchsorted", lambda m, s, v, i: m.searchsorted(s, v, sorter=i), ng([3.0, 1.0, 2.0]), ng([1.5, 3.0]),
      idx(1, 2, 0), name="sorter"),
    C("searchsorted", lambda m, s: m.searchsorted(s, 2), ng([1, 2, 3], I64), name="scalar-value"),
    C("searchsorted", lambda m, x, b: m.bucketize(x, b), ng([[0.5, 2.0], [3.5, 9.0]]), ng([1.0, 2.0, 3.0]),
      name="bucketize"),
    C("searchsorted", lambda m, x, b: m.bucketize(x, b, right=True, out_int32=True), ng([1, 2, 5], I64),
      ng([1, 2, 3], I64), name="bucketize-right"),
    C("unique", lambda m, x: m.unique(x), ng([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 5.0, 4.0]]), name="flat"),
    C("unique", lambda m, x: x.unique(return_inverse=True, return_counts=True), ng([3, 1, 3, 0, 1], I64),
      name="inverse-counts"),
    C("unique", lambda m, x: m.unique(x, sorted=False, return_counts=True), ng([True, False, True]), name="bool"),
    C("unique", lambda m, x: m.unique(x, dim=1, return_inverse=True, return_counts=True),
      ng([[2, 1, 2], [1, 5, 1]], I64), name="dim"),
    C("unique", lambda m, x: m.unique(x, return_inverse=True), ng(3.0), name="scalar"),
    C("cumprod", lambda m, x: x.cumprod(1), rand(3, 5), name="dim1"),
    C("cumprod", lambda m, x: m.cumprod(x, 0), np.array([[0.5, 0.0], [2.0, 3.0], [0.0, 0.7], [1.5, -2.0]]),
      name="zeros"),
    C("cumprod", lambda m, x: x.cumprod(-1), np.array([0.0, 0.0, 2.0, -1.5, 0.5]), name="two-zeros"),
    C("cumprod", lambda m, x: x.cumprod(0, dtype=m.float64), rand(*V), name="dtype"),
    C("cumprod", lambda m, x: x.cumprod(0), ng([1, 2, 3], I32), name="int"),
    C("cumprod", lambda m, x: x.cumprod(0), rand(*S), name="scalar"),
    C("cumsum", lambda m, x: x.cumsum(-1), rand(*S), name="scalar"),
    C("cumsum", lambda m, x: m.cumsum(x, axis=1, dtype=m.float64), rand(*M), name="axis-dtype"),
    C("cummax", lambda m, x: x.cummax(1), distinct(*M), name="dim1"),
    C("cummax", lambda m, x: m.cummax(x, 0), ng([[0.0, 5.0], [5.0, 5.0], [4.0, 6.0]]), name="ties"),
    C("cummax", lambda m, x: x.cummax(0), ng([1, 3, 2, 3], I32), name="int"),
    C("cummax", lambda m, x: x.cummax(0), rand(*S), name="scalar"),
    C("cummin", lambda m, x: x.cummin(-1), distinct(*M2), name="3d"),
    C("cummin", lambda m, x: m.cummin(x, 0), ng([3.0, 1.0, 1.0, 2.0, 0.0]), name="ties"),
    C("logcumsumexp", lambda m, x: x.logcumsumexp(1), rand(3, 5), name="dim1"),
    C("logcumsumexp", lambda m, x: m.logcumsumexp(x, 0), rand(*V, lo=-30.0, hi=30.0), name="wide"),
    C("logcumsumexp", lambda m, x: x.logcumsumexp(0), ng([1000.0, 1000.0, -1000.0]), name="huge"),
    C("logcumsumexp", lambda m, x: x.logcumsumexp(0), rand(*S), name="scalar"),
    C("var_mean", lambda m, x: m.var_mean(x, 1), rand(*M), name="dim"),
    C("var_mean", lambda m, x: m.var_mean(x, dim=(0, 2), correction=0, keepdim=True), rand(*M2), name="dims"),
    C("var_mean", lambda m, x: m.var_mean(x), rand(*M), name="all"),
    C("std_mean", lambda m, x: m.std_mean(x, 0), rand(*M), name="dim"),
    C("std_mean", lambda m, x: m.std_mean(x, axis=1, unbiased=False), rand(*M), name="axis-biased"),
    C("nansum", lambda m, x: x.nansum(), np.array([[0.5, np.nan, -1.0], [2.0, 0.25, np.nan]]), name="all"),
    C("nansum", lambda m, x: m.nansum(x, 1, keepdim=True), np.array([[0.5, np.nan], [2.0, 0.25]]), name="dim"),
    C("nansum", lambda m, x: x.nansum(0, dtype=m.float64), rand(*M), name="dtype"),
    C("nansum", lambda m, x: x.nansum(), ng([1, 2], I32), name="int"),
    C("nansum", lambda m, x: m.nanmean(x, 1), np.array([[0.5, np.nan, -1.0], [2.0, 0.25, 1.5]]), name="nanmean"),
    C("nansum", lambda m, x: x.nanmean(), ng([np.nan, np.nan]), name="nanmean-all-nan"),
    C("count_nonzero", lambda m, x: m.count_nonzero(x), ng([[0, 1], [2, 0]], I64), name="all"),
    C("count_nonzero", lambda m, x: x.count_nonzero(dim=(0, 1)), ng([[0.0, 1.0], [2.0, 0.0]]), name="dims"),
    C("count_nonzero", lambda m, x: x.count_nonzero(axis=0), ng([[True, False], [True, True]]), name="axis"),
    C("aminmax", lambda m, x: m.aminmax(x), distinct(*M), name="all"),
    C("aminmax", lambda m, x: x.aminmax(dim=1, keepdim=True), distinct(*M), name="dim"),
    C("aminmax", lambda m, x: x.aminmax(), np.array([1.0, 1.0, 3.0, 3.0]), name="ties", grad=False),
    C("aminmax", lambda m, x: x.aminmax(dim=0), ng([3, 1, 2], I64), name="int"),
    C("logsumexp", lambda m, x: m.logsumexp(x, (0, 2)), rand(*M2), name="two-dims"),
    C("logsumexp", lambda m, x: x.logsumexp(axis=(-1, 0), keepdim=True), rand(*M2), name="axis-dims"),
    C("sum", lambda m, x: m.sum(x, axis=(0, 1)), rand(*M2), name="axis"),
    C("mean", lambda m, x: x.mean(axis=1, dtype=m.float64), rand(*M), name="axis-dtype"),
    C("prod", lambda m, x: m.prod(x, axis=0, dtype=m.float64), rand(*M), name="axis-dtype"),
    C("amax", lambda m, x: x.amax(axis=1), distinct(*M), name="axis"),
    C("amin", lambda m, x: m.amin(x, axis=(0, 1)), distinct(*M), name="axis"),
    C("var", lambda m, x: x.var(axis=1), rand(*M), name="axis"),
    C("std", lambda m, x: m.std(x, axis=0, correction=0), rand(*M), name="axis"),
    C("all", lambda m, x: x.all(axis=1), ng([[True, False], [True, True]], B), name="axis"),
    C("any", lambda m, x: m.any(x, axis=0), ng([[True, False], [False, False]], B), name="axis"),
    # quantile is a composite (sort, gather, lerp): PyTorch's ends in SqueezeBackward4, ours in another shape op
    C("sort", lambda m, x: m.quantile(x, 0.3), distinct(*M), name="quantile-all", node_differs="composite"),
    C("sort", lambda m, x, q: m.quantile(x, q, 1, keepdim=True), distinct(3, 5), ng([0.1, 0.5, 0.95]),
      name="quantile-q-tensor", node_differs="composite"),
    C("sort", lambda m, x: x.quantile(0.4, axis=0, interpolation="lower"), distinct(5, 2),
      name="quantile-lower", node_differs="composite"),
    C("sort", lambda m, x: x.quantile(0.4, 0, interpolation="higher"), distinct(5, 2), name="quantile-higher",
      node_differs="composite"),
    C("sort", lambda m, x: x.quantile(0.4, 1, interpolation="midpoint"), distinct(2, 5), name="quantile-midpoint",
      node_differs="composite"),
    C("sort", lambda m, x: m.quantile(x, 0.375, interpolation="nearest"), distinct(5), name="quantile-nearest",
      node_differs="composite"),
    C("sort", lambda m, x: m.nanquantile(x, 0.6, 1), np.array([[0.5, np.nan, -1.0, 0.25], [2.0, 0.7, 1.5, -0.3]]),
      name="nanquantile", node_differs="composite"),
    C("sort", lambda m, x: x.quantile(0.6, 1), ng([[0.5, np.nan, -1.0], [2.0, 0.7, 1.5]]), name="quantile-nan"),
    C("sort", lambda m, x: x.nanquantile(0.5), ng([np.nan, np.nan]), name="nanquantile-all-nan"),
    # ---- (end sorting, selection and reductions) ----
    # ---- issue 11: matrices, contractions and linalg ----
    # ---- (end matrices, contractions and linalg) ----
    # ---- issue 11: scatter, gather and shape ----
    C("roll", lambda m, x: x.roll(2), rand(*M), name="flattened"),
    C("roll", lambda m, x: m.roll(x, (1, -2), (-1, 0)), rand(*M2), name="dims"),
    C("roll", lambda m, x: x.roll((1, 2), (1, 1)), rand(*M), name="repeated-dim"),
    C("roll", lambda m, x: x.roll(1), rand(*S), name="scalar"),
    C("flip", lambda m, x: x.flip(()), rand(*M), name="no-dims"),
    *[C("scatter_reduce", (lambda r, inc: lambda m, x, i, s: x.scatter_reduce(0, i, s, r, include_self=inc))(r, inc),
        distinct(*M), idx([[0, 1, 2, 0], [1, 1, 0, 2]]), distinct(2, 4) + 0.013, name=f"{r}-{inc}")
      for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    C("scatter_reduce", lambda m, x, i, s: m.scatter_reduce(x, 1, i, s, "prod"), np.array([[0.5, 0.0], [2.0, 3.0]]),
      idx([[0, 0, 1], [1, 0, 1]]), np.array([[0.7, 0.0, 1.5], [0.0, 0.0, -0.5]]), name="prod-zeros", gradgrad=False),
    C("scatter_reduce", lambda m, x, i, s: x.scatter_reduce(1, i, s, "prod", include_self=False),
      np.array([[0.5, 0.0], [2.0, 3.0]]), idx([[0, 0, 1], [1, 0, 1]]), np.array([[0.7, 0.0, 1.5], [0.3, 1.2, -0.5]]),
      name="prod-one-zero"),
    C("scatter_reduce", lambda m, x, i, s: x.scatter_reduce(1, i, s, "amax"), np.ones((2, 3)),
      idx([[0, 0, 2], [1, 1, 1]]), np.array([[1.0, 0.5, 1.0], [1.0, 1.0, 0.2]]), name="amax-ties", grad=False),  # (ties: not differentiable; parity checks the shares)
    C("scatter_reduce", lambda m, x, i, s: x.scatter_reduce(0, i, s, "mean"), ng(np.arange(12).reshape(3, 4), I64),
      idx([[0, 1, 2, 0], [1, 1, 0, 2]]), ng(np.arange(8).reshape(2, 4), I64), name="int-mean"),
    C("scatter_reduce", lambda m, x, i, s: x.scatter_reduce(0, i, s, "amin", include_self=False),
      ng(np.arange(12).reshape(3, 4), I64), idx([[0, 1, 2, 0], [1, 1, 0, 2]]), ng(np.arange(8).reshape(2, 4), I64),
      name="int-amin"),
    C("scatter_reduce", lambda m, x, i, s: (x * 1).scatter_reduce_(0, i, s, "amax"), distinct(*M),
      idx([[0, 1, 2, 0], [1, 1, 0, 2]]), distinct(2, 4) + 0.013, name="inplace"),
    C("index_add", lambda m, x, i, s: x.index_add(0, i, s), rand(*M), idx(2, 0, 2), rand(3, 4), name="repeated"),
    C("index_add", lambda m, x, i, s: m.index_add(x, 1, i, s, alpha=-1.5), rand(*M), idx(3, 1), rand(3, 2),
      name="dim1-alpha"),
    C("index_add", lambda m, x, i, s: x.index_add(0, i, s), rand(*S), idx(0), rand(*S), name="scalar"),
    C("index_add", lambda m, x, i, s: (x * 1).index_add_(-1, i, s), rand(*M2), idx(0, 0), rand(2, 3, 2),
      name="inplace"),
    C("index_add", lambda m, x, i, s: x.index_add(0, i, s, alpha=2), ng([1, 2, 3], I64), idx(0, 0), ng([5, 6], I64),
      name="int"),
    C("index_copy", lambda m, x, i, s: x.index_copy(0, i, s), rand(*M), idx(2, 0), rand(2, 4), name="rows"),
    C("index_copy", lambda m, x, i, s: m.index_copy(x, -1, i, s), rand(*M2), idx(3, 0, 1), rand(2, 3, 3), name="last"),
    C("index_copy", lambda m, x, i, s: (x * 1).index_copy_(1, i, s), rand(*M), idx(1), rand(3, 1), name="inplace"),
    C("index_fill", lambda m, x, i: x.index_fill(1, i, -1.5), rand(*M), idx(0, 2, 0), name="repeated"),
    C("index_fill", lambda m, x, i: m.index_fill(x, 0, i, 2), rand(*M), idx(-1), name="negative"),
    C("index_fill", lambda m, x, i, v: x.index_fill(1, i, v), rand(*M), idx(3, 1, 3), rand(*S), name="tensor-value"),
    C("index_fill", lambda m, x, i: (x * 1).index_fill_(0, i, 0.5), rand(*M2), idx(1), name="inplace"),
    *[C("index_reduce", (lambda r, inc: lambda m, x, i, s: x.index_reduce(0, i, s, r, include_self=inc))(r, inc),
        distinct(*M), idx(2, 0, 2), distinct(3, 4) + 0.013, name=f"{r}-{inc}")
      for r in ("prod", "mean", "amax", "amin") for inc in (True, False)],
    C("index_reduce", lambda m, x, i, s: x.index_reduce(1, i, s, "prod"), np.array([[0.5, 0.0], [2.0, 3.0]]),
      idx(0, 1, 1), np.array([[0.7, 0.0, 1.5], [0.3, 1.2, -0.5]]), name="prod-zeros"),
    C("index_reduce", lambda m, x, i, s: (x * 1).index_reduce_(-1, i, s, "amax"), distinct(*M2), idx(3, 3),
      distinct(2, 3, 2), name="inplace"),
    C("index_reduce", lambda m, x, i, s: x.index_reduce(0, i, s, "mean"), ng(np.arange(12).reshape(3, 4), I64),
      idx(0, 0), ng(np.arange(8).reshape(2, 4), I64), name="int-mean"),
    C("take", lambda m, x, i: x.take(i), rand(*M), idx([[0, 11, -1], [3, 3, 3]]), name="repeated-negative"),
    C("take", lambda m, x, i: m.take(x, i), rand(*S), idx(0), name="scalar"),
    C("put", lambda m, x, i, s: x.put(i, s), rand(*M), idx([[0, 11], [-2, 3]]), rand(2, 2), name="2d"),
    C("put", lambda m, x, i, s: m.put(x, i, s, accumulate=True), rand(*M), idx(0, 11, -1, 0), rand(*V),
      name="accumulate"),
    C("put", lambda m, x, i, s: (x * 1).put_(i, s, accumulate=True), rand(*M), idx(5, 5), rand(2), name="inplace"),
    C("masked_scatter", lambda m, x, b, s: x.masked_scatter(b, s), rand(*M), ng(rand(*M) > 0), rand(14),
      name="extra-source"),
    C("masked_scatter", lambda m, x, b, s: x.masked_scatter(b, s), rand(*V), ng(rand(*M) > 0), rand(3, 4),
      name="broadcast-self"),
    C("masked_scatter", lambda m, x, b, s: m.masked_scatter(x, b, s), rand(*M), ng(rand(*V) > 0), rand(*M),
      name="broadcast-mask"),
    C("masked_scatter", lambda m, x, b, s: (x * 1).masked_scatter_(b, s), rand(*M), ng(rand(*M) > 0), rand(*M),
      name="inplace"),
    C("gather", lambda m, x, i: m.take_along_dim(x, i, 1), rand(*M), idx([[0, 2, -1]]), name="take_along_dim-bcast"),
    C("gather", lambda m, x, i: m.take_along_dim(x, i), rand(*M), idx([[0], [11]]), name="take_along_dim-flat"),
    C("unfold", lambda m, x: x.unfold(1, 2, 1), rand(*M), name="overlapping"),
    C("unfold", lambda m, x: x.unfold(-1, 2, 3), rand(*M2), name="step"),
    C("unfold", lambda m, x: x.unfold(0, 2, 1), rand(*M2), name="dim0"),
    C("unfold", lambda m, x: x.unfold(1, 0, 1), rand(*M), name="size0"),
    C("unfold", lambda m, x: x.unfold(0, 1, 1), rand(*S), name="scalar"),
    C("view", lambda m, x: x.repeat_interleave(2), rand(*M), name="repeat_interleave"),
    C("view", lambda m, x: m.repeat_interleave(x, 3, dim=1, output_size=12), rand(*M), name="repeat_interleave-dim"),
    C("view", lambda m, x: x.repeat_interleave(3), rand(*S), name="repeat_interleave-scalar"),
    C("index_select", lambda m, x, r: x.repeat_interleave(r, dim=0), rand(*M), idx(1, 0, 3),
      name="repeat_interleave-tensor"),
    C("index_select", lambda m, x, r: x.repeat_interleave(r, dim=1, output_size=5), rand(*M), idx(1, 0, 3, 1),
      name="repeat_interleave-output_size"),
    C("index_select", lambda m, x, r: x.repeat_interleave(r), rand(*V), idx(2), name="repeat_interleave-0d"),
    C("rot90", lambda m, x: m.rot90(x), rand(*M), name="default"),
    *[C("rot90", (lambda k: lambda m, x: m.rot90(x, k, (2, 0)))(k), rand(*M2), name=f"k{k}") for k in (-1, 0, 2, 3)],
    C("rot90", lambda m, x: x.rot90(1, [-1, -2]), rand(*M2), name="method"),
    C("permute", lambda m, x: x.movedim((-1, 0), (0, -1)), rand(*M2), name="movedim-two"),
    C("permute", lambda m, x: m.moveaxis(x, (0, 1), (2, 0)), rand(*M2), name="moveaxis"),
    C("alias", lambda m, x: x.movedim(0, -1), rand(*S), name="movedim-scalar"),
    C("transpose", lambda m, x: x.swapaxes(0, 2), rand(*M2), name="swapaxes"),
    C("transpose", lambda m, x: m.swapdims(x, -1, 0), rand(*M), name="swapdims"),
    C("slice", lambda m, x: x.tensor_split(3, 1), rand(*M), name="tensor_split-sections"),
    C("slice", lambda m, x: m.tensor_split(x, [3, 1, -1, 10], dim=1), rand(*M), name="tensor_split-indices"),
    C("slice", lambda m, x, i: x.tensor_split(i, 1), rand(*M), idx(1, 3), name="tensor_split-tensor"),
    C("slice", lambda m, x: x.hsplit(2), rand(*M), name="hsplit"),
    C("slice", lambda m, x: m.hsplit(x, [2]), rand(*V), name="hsplit-1d"),
    C("slice", lambda m, x: m.vsplit(x, [1, 2]), rand(*M), name="vsplit"),
    C("slice", lambda m, x: x.dsplit(2), rand(*M2), name="dsplit"),
    C("cat", lambda m, x, y: m.hstack([x, y]), rand(*S), rand(*V), name="hstack-0d"),
    C("cat", lambda m, x, y: m.vstack((x, y)), rand(*M), rand(*V), name="vstack"),
    C("cat", lambda m, x, y: m.row_stack((x, y)), rand(*S), rand(1), name="row_stack"),
    C("cat", lambda m, x, y: m.dstack([x, y]), rand(*M), rand(*M), name="dstack"),
    C("cat", lambda m, x, y: m.dstack([x, y]), rand(*V), rand(1, 4, 2), name="dstack-1d"),
    C("cat", lambda m, x, y, z: m.column_stack([x, y, z]), rand(3), rand(3, 2), rand(3, 1), name="column_stack"),
    C("cat", lambda m, x, y: m.column_stack([x, y]), rand(*S), rand(1, 2), name="column_stack-0d"),
    C("view", lambda m, x, y: m.atleast_1d(x, y), rand(*S), rand(*M), name="atleast_1d"),
    C("view", lambda m, x: m.atleast_2d(x), rand(*S), name="atleast_2d-0d"),
    C("unsqueeze", lambda m, x, y: m.atleast_2d([x, y]), rand(*V), rand(*M), name="atleast_2d-1d"),
    C("view", lambda m, x: m.atleast_3d(x), rand(*S), name="atleast_3d-0d"),
    C("unsqueeze", lambda m, x, y, z: m.atleast_3d((x, y, z)), rand(*V), rand(*M), rand(*M2), name="atleast_3d"),
    *[C("view_dtype", (lambda d: lambda m, x: x.view(getattr(m, d)))(d), ng(rand(*M), np.float32, exact=True),
        name=d) for d in ("int32", "float16", "int8", "uint8", "float32", "int64", "float64", "bool")],
    C("view_dtype", lambda m, x: x.view(m.int16), ng(np.arange(6).reshape(3, 2), I64), name="int-to-smaller"),
    C("view_dtype", lambda m, x: x[:, 2:].view(m.float64), ng(rand(3, 4), np.float32, exact=True), name="offset"),
    C("view_dtype", lambda m, x: x[1:].view(m.int8), ng(rand(3, 4), np.float32, exact=True), name="rows"),
    # (PyTorch's backward refuses the older names: values only)
    C("scatter_reduce", lambda m, x, i, s: x.scatter_reduce(0, i, s, "max"), ng(distinct(*M)),
      idx([[0, 1, 2, 0], [1, 1, 0, 2]]), ng(distinct(2, 4) + 0.013), name="max-alias"),
    C("view_dtype", lambda m, x: x.view(m.int32), rand(*M), name="requires-grad-input", grad=False),
    # ---- (end scatter, gather and shape) ----
    # ---- issue 11: sampling and cumulative ----
    # matrices and contractions (ops/matrix.py); composites are labelled with the row their result comes from
    C("tril", lambda m, x: x.tril(), rand(*M), name="matrix"),
    C("tril", lambda m, x: m.tril(x, -1), rand(*M2), name="batched-offset"),
    C("tril", lambda m, x: x.tril(2), ng([[1, 2, 3], [4, 5, 6]], I64), name="int"),
    C("triu", lambda m, x: m.triu(x, 1), rand(*M), name="offset"),
    C("triu", lambda m, x: x.triu(-1), rand(*M2), name="batched"),
    C("triu", lambda m, x: x.triu(), rand(0, 3), name="empty"),
    C("diagonal", lambda m, x: x.diagonal(), rand(*M), name="main"),
    C("diagonal", lambda m, x: m.diagonal(x, 1, 0, 2), rand(*M2), name="offset-dims"),
    C("diagonal", lambda m, x: x.diagonal(-1, -1, 0), rand(*M2), name="negative"),
    C("diagonal", lambda m, x: x.diagonal(5), rand(*M), name="past-the-end"),
    C("diag", lambda m, x: m.diag(x, 1), rand(*M), name="matrix"),
    C("diag", lambda m, x: m.diag(x), ng([[1, 2], [3, 4]], I32), name="int"),
    C("diag_embed", lambda m, x: m.diag(x, -1), rand(*V), name="diag-vector"),
    C("diag_embed", lambda m, x: m.diag_embed(x), rand(*M), name="default"),
    C("diag_embed", lambda m, x: m.diag_embed(x, 1, 0, 2), rand(2, 3), name="offset-dims"),
    C("diag_embed", lambda m, x: m.diagflat(x, -1), rand(2, 2), name="diagflat"),
    C("trace", lambda m, x: m.trace(x), rand(*M), name="matrix"),
    C("trace", lambda m, x: x.trace(), ng([[1, 2], [3, 4]], I32), name="int"),
    C("addmv", lambda m, c, a, v: m.addmv(c, a, v), rand(3), rand(*M), rand(*V), name="default"),
    C("addmv", lambda m, c, a, v: c.addmv(a, v, beta=0.5, alpha=-2), rand(1), rand(*M), rand(*V), name="beta-alpha"),
    C("addmv", lambda m, c, a, v: m.addmv(c, a, v, beta=0), ng([np.nan, 1.0, np.inf]), rand(*M), rand(*V),
      name="beta0"),
    C("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b), rand(2, 3, 5), rand(*M2), rand(2, 4, 5), name="default"),
    C("baddbmm", lambda m, c, a, b: c.baddbmm(a, b, beta=-1, alpha=0.5), rand(3, 1), rand(*M2), rand(2, 4, 5),
      name="broadcast-beta-alpha"),
    C("addbmm", lambda m, c, a, b: m.addbmm(c, a, b), rand(3, 5), rand(*M2), rand(2, 4, 5), name="default"),
    C("addbmm", lambda m, c, a, b: c.addbmm(a, b, beta=2, alpha=0.5), rand(5), rand(*M2), rand(2, 4, 5),
      name="broadcast-beta-alpha"),
    C("mm", lambda m, a, b, c: m.chain_matmul(a, b, c), rand(2, 3), rand(3, 4), rand(4, 2), name="chain_matmul"),
    C("mul", lambda m, a, b: m.outer(a, b), rand(3), rand(*V), name="outer"),
    C("mul", lambda m, a, b: m.ger(a, b), rand(3), rand(*V), name="ger"),
    C("mm", lambda m, a, b: m.inner(a, b), rand(2, 3), rand(4, 3), name="inner"),
    C("mm", lambda m, a, b: m.tensordot(a, b, dims=([1, 2], [0, 1])), rand(*M2), rand(3, 4, 5), name="tensordot-lists"),
    C("mm", lambda m, a, b: m.tensordot(a, b, 1), rand(*M2), rand(4, 2), name="tensordot-int"),
    C("mm", lambda m, a, b: m.tensordot(a, b, 0), rand(2, 3), rand(2), name="tensordot-outer"),
    C("reshape", lambda m, a, b: m.kron(a, b), rand(2, 3), rand(2, 2), name="kron"),
    C("reshape", lambda m, a, b: m.kron(a, b), rand(3), rand(2, 2), name="kron-ndims"),
    C("cross", lambda m, a, b: m.cross(a, b, dim=1), rand(4, 3), rand(4, 3), name="dim"),
    C("cross", lambda m, a, b: m.cross(a, b, dim=0), rand(3, 2), rand(3, 1), name="broadcast"),
    C("bmm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), rand(*M), rand(4, 2), name="einsum-matmul"),
    C("bmm", lambda m, a, b: m.einsum("bij,bjk", a, b), rand(*M2), rand(2, 4, 3), name="einsum-batched-implicit"),
    C("bmm", lambda m, a, b: m.einsum("...ij,...kj->...ik", a, b), rand(*M2), rand(2, 5, 4), name="einsum-ellipsis"),
    C("bmm", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c), rand(2, 3), rand(3, 4), rand(4, 2),
      name="einsum-three"),
    C("bmm", lambda m, a, b: m.einsum("ij,ij->", a, b), rand(*M), rand(*M), name="einsum-full-contraction"),
    C("bmm", lambda m, a, b: m.einsum("ii,ij->j", a, b), rand(3, 3), rand(3, 2), name="einsum-diagonal-operand"),
    C("mul", lambda m, a, b: m.einsum("i,j->ij", a, b), rand(3), rand(*V), name="einsum-outer"),
    C("permute", lambda m, x: m.einsum("ij->ji", x), rand(*M), name="einsum-transpose"),
    C("permute", lambda m, x: m.einsum("ii->i", x), rand(3, 3), name="einsum-diagonal"),
    C("sum", lambda m, x: m.einsum("ii", x), rand(3, 3), name="einsum-trace"),
    C("sum", lambda m, x: m.einsum("bij->j", x), rand(*M2), name="einsum-sum"),
    C("expand", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), rand(3), rand(*V), name="meshgrid-ij"),
    C("expand", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"), rand(3), rand(*V), rand(2), name="meshgrid-xy"),
    C("stack", lambda m, a, b: m.cartesian_prod(a, b), rand(3), rand(2), name="cartesian_prod"),
    C("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), rand(2, 3), rand(*V), rand(*S), name="mixed"),
    C("block_diag", lambda m, a, b: m.block_diag(a, b), ng([[1, 2]], I32), ng([[3.0], [4.0]], exact=True),
      name="promote"),
    C("cdist", lambda m, a, b: m.cdist(a, b), rand(2, 3, 4), rand(2, 5, 4), name="p2"),
    C("cdist", lambda m, a, b: m.cdist(a, b, p=1), rand(3, 4), rand(5, 4), name="p1"),
    C("cdist", lambda m, a, b: m.cdist(a, b, p=3), rand(2, 3, 4), rand(5, 4), name="p3-broadcast"),
    C("cdist", lambda m, a, b: m.cdist(a, b, p=float("inf")), distinct(3, 4), distinct(2, 4) + 0.013, name="inf"),
    C("cdist", lambda m, a, b: m.cdist(a, b, p=0), rand(3, 2), rand(2, 2), name="p0"),
    C("view", lambda m, a, b: m.cdist(a, b), rand(30, 3), rand(4, 3), name="cdist-mm"),
    C("view", lambda m, a, b: m.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), rand(2, 3, 3), rand(4, 3),
      name="cdist-use-mm"),
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
    C("conv1d", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, stride=2, padding=1, dilation=2), rand(2, 2, 7),
      rand(3, 2, 2), rand(3), name="stride-padding-dilation"),
    C("conv1d", lambda m, x, w: m.nn.functional.conv1d(x, w, padding="same", groups=2), rand(2, 4, 5), rand(2, 2, 2),
      name="same-groups"),
    C("conv3d", lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1)),
      rand(1, 2, 3, 4, 3), rand(2, 2, 2, 2, 2), rand(2), name="stride-padding-dilation"),
    C("conv3d", lambda m, x, w: m.nn.functional.conv3d(x, w, groups=2), rand(1, 4, 3, 3, 2), rand(2, 2, 2, 1, 2),
      name="groups-unbatched"),
    C("conv_transpose1d", lambda m, x, w, b: m.nn.functional.conv_transpose1d(x, w, b, stride=2, padding=1,
                                                                              output_padding=1),
      rand(2, 2, 3), rand(2, 3, 3), rand(3), name="stride-output_padding"),
    C("conv_transpose1d", lambda m, x, w: m.nn.functional.conv_transpose1d(x, w, groups=2, dilation=2), rand(4, 3),
      rand(4, 1, 2), name="groups-dilation-unbatched"),
    C("conv_transpose3d", lambda m, x, w, b: m.nn.functional.conv_transpose3d(
        x, w, b, stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0)),
      rand(1, 2, 2, 2, 2), rand(2, 2, 2, 2, 3), rand(2), name="stride-padding-output_padding"),
    C("conv_transpose3d", lambda m, x, w: m.nn.functional.conv_transpose3d(x, w, groups=2, dilation=(1, 2, 1)),
      rand(1, 2, 2, 2, 2), rand(2, 1, 2, 2, 1), name="groups-dilation"),
    C("max_pool3d", lambda m, x: m.nn.functional.max_pool3d(x, 2), distinct(1, 2, 2, 4, 4), name="2x2x2"),
    C("max_pool3d", lambda m, x: m.nn.functional.max_pool3d(x, (2, 3, 2), (1, 2, 1), 1, dilation=(1, 1, 2),
                                                             ceil_mode=True, return_indices=True),
      distinct(1, 1, 3, 5, 4), name="overlapping-padding-ceil-indices"),
    C("max_pool3d", lambda m, x: m.nn.functional.max_pool3d(x, 2, 1), distinct(2, 3, 3, 3), name="unbatched"),
    C("avg_pool3d", lambda m, x: m.nn.functional.avg_pool3d(x, 2), rand(1, 2, 2, 4, 4), name="2x2x2"),
    C("avg_pool3d", lambda m, x: m.nn.functional.avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
      rand(1, 1, 4, 5, 3), name="padding-ceil-exclude"),
    C("avg_pool3d", lambda m, x: m.nn.functional.avg_pool3d(x, (2, 1, 3), 1, divisor_override=5), rand(2, 3, 2, 4),
      name="divisor_override-unbatched"),
    # 1-d pooling is 2-d pooling of height 1 in torch too (UnsqueezeBackward0, the 2-d node, SqueezeBackward1)
    C("max_pool2d", lambda m, x: m.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True),
      distinct(2, 2, 7), name="max_pool1d"),
    C("max_pool2d", lambda m, x: m.nn.functional.max_pool1d(x, 2, dilation=2), distinct(2, 6),
      name="max_pool1d-unbatched"),
    C("avg_pool2d", lambda m, x: m.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
      rand(2, 2, 7), name="avg_pool1d"),
    C("avg_pool2d", lambda m, x: m.nn.functional.avg_pool1d(x, 2), rand(2, 6), name="avg_pool1d-unbatched"),
    # adaptive pooling (1-d: the 2-d op of height 1, as in torch)
    C("adaptive_max_pool2d", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (3, 2), return_indices=True),
      distinct(2, 2, 5, 5), name="overlapping-indices"),
    C("adaptive_max_pool2d", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (None, 2)), distinct(2, 3, 4),
      name="None-unbatched"),
    C("adaptive_max_pool2d", lambda m, x: m.nn.functional.adaptive_max_pool1d(x, 3, return_indices=True),
      distinct(2, 2, 7), name="adaptive_max_pool1d"),
    # interpolate: one row per aten op (upsample_<mode><n>d)
    C("upsample_nearest1d", lambda m, x: m.nn.functional.interpolate(x, scale_factor=1.7), rand(2, 2, 3),
      name="scale"),
    C("upsample_nearest2d", lambda m, x: m.nn.functional.interpolate(x, size=(5, 2)), rand(1, 2, 3, 4), name="size"),
    C("upsample_nearest2d", lambda m, x: m.nn.functional.interpolate(x, scale_factor=2), rand(2, 1, 3, 2), name="2x"),
    C("upsample_nearest3d", lambda m, x: m.nn.functional.interpolate(x, scale_factor=(1.5, 2, 0.5)),
      rand(1, 1, 2, 2, 4), name="scales"),
    C("upsample_nearest_exact1d", lambda m, x: m.nn.functional.interpolate(x, size=7, mode="nearest-exact"),
      rand(1, 2, 3), name="size"),
    C("upsample_nearest_exact2d", lambda m, x: m.nn.functional.interpolate(
        x, scale_factor=1.6, mode="nearest-exact", recompute_scale_factor=True), rand(1, 2, 3, 3), name="recompute"),
    C("upsample_nearest_exact3d", lambda m, x: m.nn.functional.interpolate(x, size=(3, 2, 3), mode="nearest-exact"),
      rand(1, 1, 2, 3, 2), name="size"),
    C("upsample_linear1d", lambda m, x: m.nn.functional.interpolate(x, scale_factor=2.5, mode="linear"),
      rand(2, 2, 3), name="scale"),
    C("upsample_linear1d", lambda m, x: m.nn.functional.interpolate(x, size=3, mode="linear", align_corners=True),
      rand(1, 2, 5), name="align_corners-down"),
    C("upsample_bilinear2d", lambda m, x: m.nn.functional.interpolate(x, size=(5, 3), mode="bilinear"),
      rand(1, 2, 3, 4), name="size"),
    C("upsample_bilinear2d", lambda m, x: m.nn.functional.interpolate(x, scale_factor=(2, 1.5), mode="bilinear",
                                                                      align_corners=True),
      rand(1, 2, 2, 3), name="align_corners"),
    C("upsample_bicubic2d", lambda m, x: m.nn.functional.interpolate(x, size=(5, 3), mode="bicubic"),
      rand(1, 2, 3, 4), name="size"),
    C("upsample_bicubic2d", lambda m, x: m.nn.functional.interpolate(x, scale_factor=1.5, mode="bicubic",
                                                                     align_corners=True),
      rand(1, 1, 4, 3), name="align_corners"),
    C("upsample_trilinear3d", lambda m, x: m.nn.functional.interpolate(x, scale_factor=1.5, mode="trilinear"),
      rand(1, 1, 2, 3, 2), name="scale"),
    C("upsample_trilinear3d", lambda m, x: m.nn.functional.interpolate(x, size=(3, 2, 4), mode="trilinear",
                                                                       align_corners=True), rand(1, 1, 2, 3, 2),
      name="align_corners"),
    C("pixel_shuffle", lambda m, x: m.nn.functional.pixel_shuffle(x, 2), rand(2, 8, 2, 3), name="batched"),
    C("pixel_shuffle", lambda m, x: m.nn.functional.pixel_shuffle(x, 3), rand(2, 1, 9, 1, 2), name="5d"),
    C("pixel_shuffle", lambda m, x: m.nn.functional.pixel_shuffle(x, 2), ng(np.arange(16).reshape(4, 2, 2), I64),
      name="int"),
    C("pixel_unshuffle", lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), rand(2, 2, 4, 2), name="batched"),
    C("pixel_unshuffle", lambda m, x: m.nn.functional.pixel_unshuffle(x, 1), rand(3, 2, 2), name="factor1"),
    # scaled_dot_product_attention is a composite (torch: one ScaledDotProductFlashAttentionForCpuBackward0 node)
    C("softmax", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v), rand(2, 2, 3, 4),
      rand(2, 2, 5, 4), rand(2, 2, 5, 3), name="sdpa", node_differs="sdpa is a composite here"),
    C("softmax", lambda m, q, k, v, b: m.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=b, scale=0.7),
      rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 4), rand(3, 5), name="sdpa-additive-mask",
      node_differs="sdpa is a composite here"),
    C("softmax", lambda m, q, k, v, b: m.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=b,
                                                                                   is_causal=True),
      rand(1, 2, 4, 3), rand(1, 2, 4, 3), rand(1, 2, 4, 3), ng([[True, False, True, True], [False] * 4,
                                                              [True, True, False, True], [True] * 4]),
      name="sdpa-bool-mask-causal-empty-row", node_differs="sdpa is a composite here"),
    C("softmax", lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True),
      rand(1, 4, 2, 3), rand(1, 2, 3, 3), rand(1, 2, 3, 3), name="sdpa-gqa", node_differs="sdpa is a composite here"),
    C("max_unpool2d", lambda m, x, i: m.nn.functional.max_unpool2d(x, i, 2), rand(1, 2, 2, 3),
      idx([[[[6, 2, 11], [13, 21, 16]], [[7, 3, 10], [13, 14, 22]]]]), name="2x2"),
    C("max_unpool2d", lambda m, x, i: m.nn.functional.max_unpool2d(x, i, 2, output_size=(5, 7)), rand(2, 2, 3),
      idx([[[6, 2, 11], [13, 21, 16]], [[7, 3, 10], [13, 14, 22]]]), name="output_size-unbatched"),
    C("max_unpool2d", lambda m, x, i: m.nn.functional.max_unpool1d(x, i, 3, 2, 1), rand(2, 4),
      idx([[1, 3, 4, 5], [0, 1, 4, 5]]), name="max_unpool1d"),
    # composites: Lp pooling is torch's own formula (its nodes too); grid_sample and affine_grid are built from
    # gathers (torch: one GridSampler2DBackward0 / GridSampler3DBackward0 / AffineGridGeneratorBackward0 node)
    C("avg_pool2d", lambda m, x: m.nn.functional.lp_pool2d(x, 2, (2, 3), stride=1), rand(1, 2, 3, 4), name="lp_pool2d"),
    C("avg_pool2d", lambda m, x: m.nn.functional.lp_pool1d(x, 3, 2), pos(2, 2, 6), name="lp_pool1d"),
    C("avg_pool3d", lambda m, x: m.nn.functional.lp_pool3d(x, 1.5, 2), pos(1, 2, 2, 2, 4), name="lp_pool3d"),
    C("adaptive_avg_pool3d", lambda m, x: m.nn.functional.adaptive_avg_pool3d(x, (2, None, 3)), rand(1, 2, 3, 2, 5),
      name="overlapping-None"),
    C("adaptive_avg_pool3d", lambda m, x: m.nn.functional.adaptive_avg_pool3d(x, 2), rand(2, 4, 2, 3),
      name="unbatched"),
    C("adaptive_avg_pool2d", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (3, 2)), rand(2, 2, 5, 4),
      name="overlapping"),
    C("adaptive_avg_pool2d", lambda m, x: m.nn.functional.adaptive_avg_pool1d(x, 3), rand(2, 2, 5),
      name="adaptive_avg_pool1d"),
    C("adaptive_avg_pool2d", lambda m, x: m.nn.functional.interpolate(x, size=(3, 2), mode="area"), rand(1, 2, 4, 5),
      name="interpolate-area"),
    C("gather", lambda m, x, g: m.nn.functional.grid_sample(x, g, align_corners=False), rand(2, 2, 3, 4),
      rand(2, 2, 3, 2, lo=-1.2, hi=1.2), name="grid_sample-bilinear-zeros", node_differs="a composite here"),
    C("gather", lambda m, x, g: m.nn.functional.grid_sample(x, g, padding_mode="reflection", align_corners=True),
      rand(1, 2, 3, 4), rand(1, 3, 2, 2, lo=-1.4, hi=1.4), name="grid_sample-reflection",
      node_differs="a composite here"),
    C("gather", lambda m, x, g: m.nn.functional.grid_sample(x, g, padding_mode="border", align_corners=False),
      rand(1, 1, 2, 3, 2), rand(1, 2, 1, 2, 3, lo=-1.2, hi=1.2), name="grid_sample-3d-border",
      node_differs="a composite here"),
    C("gather", lambda m, x, g: m.nn.functional.grid_sample(x, g, mode="bicubic", padding_mode="border",
                                                            align_corners=False),
      rand(1, 2, 3, 4), rand(1, 2, 2, 2, lo=-1.2, hi=1.2), name="grid_sample-bicubic-border",
      node_differs="a composite here"),
    C("gather", lambda m, x, g: m.nn.functional.grid_sample(x, g, mode="nearest", align_corners=False),
      rand(1, 2, 3, 4), ng(rand(1, 3, 2, 2, lo=-1.2, hi=1.2)), name="grid_sample-nearest",
      node_differs="a composite here"),
    C("matmul", lambda m, t: m.nn.functional.affine_grid(t, (2, 1, 3, 4), align_corners=False), rand(2, 2, 3),
      name="affine_grid", node_differs="a composite here"),
    C("matmul", lambda m, t: m.nn.functional.affine_grid(t, [1, 1, 2, 3, 2], align_corners=True), rand(1, 3, 4),
      name="affine_grid-3d", node_differs="a composite here"),
    # ---- (end nn.functional sampling, pooling and convolution) ----
]

# ---- sweeps: every elementwise op over the standard shapes ---------------------------------------------------
# unary: scalar, vector, matrix, empty
UNARY_SWEEP = {
    "exp": rand, "log": pos, "log1p": pos, "expm1": rand, "log2": pos, "log10": pos, "sqrt": pos, "rsqrt": pos,
    "sin": rand, "cos": rand, "tan": rand, "atan": rand, "tanh": rand, "sigmoid": rand, "relu": away, "sign": away,
    "floor": frac_away, "ceil": frac_away, "trunc": frac_away, "frac": frac_away, "round": frac_away, "abs": away,
    "neg": rand, "reciprocal": away,
    # issue 11, elementwise
    "asin": unit, "acos": unit, "sinh": rand, "cosh": rand, "asinh": rand, "acosh": above_one, "atanh": unit,
    "erf": rand, "erfc": rand, "erfinv": unit, "exp2": rand, "sinc": rand, "logit": prob, "deg2rad": rand,
    "rad2deg": rand, "nan_to_num": rand,
}
UNARY_SWEEP.update({"lgamma": pos, "digamma": pos})  # issue 13, distributions
CASES += [  # issue 13, distributions: the reflection below 0 (away from the poles), the special values, ints
    C("lgamma", lambda m, x: x.lgamma(), frac_away(2, 3) - 4, name="negative"),
    C("lgamma", lambda m, x: m.lgamma(x), ng([0.0, -0.0, -1.0, -2.0, 1.0, 2.0, 1e-8, 1e20, np.inf, -np.inf, np.nan]),
      name="special-values"),
    C("lgamma", lambda m, x: m.lgamma(x), ng([1, 2, 5], I64), name="int"),
    C("digamma", lambda m, x: x.digamma(), frac_away(2, 3) - 4, name="negative"),
    C("digamma", lambda m, x: m.digamma(x), ng([0.0, -0.0, -1.0, -2.0, 1.0, 2.0, 1e-8, 1e20, np.inf, -np.inf,
                                               np.nan]), name="special-values"),
    C("digamma", lambda m, x: m.digamma(x), ng([1, 2, 5], I32), name="int"),
]
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
    # issue 11, elementwise
    "atan2": (lambda m, x, y: m.atan2(x, y), rand, away),
    "logaddexp": (lambda m, x, y: m.logaddexp(x, y), rand, rand),
    "logaddexp2": (lambda m, x, y: m.logaddexp2(x, y), rand, rand),
    "hypot": (lambda m, x, y: m.hypot(x, y), away, away),
    "copysign": (lambda m, x, y: m.copysign(x, y), away, away),
    "xlogy": (lambda m, x, y: m.xlogy(x, y), rand, pos),
    "fmax": (lambda m, x, y: m.fmax(x, y), distinct, lambda *s: distinct(*s) + 0.013),
    "fmin": (lambda m, x, y: m.fmin(x, y), distinct, lambda *s: distinct(*s) + 0.013),
    "lerp": (lambda m, x, y: m.lerp(x, y, 0.3), rand, rand),
}
for _name, (_fn, _ga, _gb) in BINARY_SWEEP.items():
    for _sa, _sb in BINARY_SHAPES:
        CASES.append(C(_name, _fn, _ga(*_sa), _gb(*_sb), name=f"sweep{list(_sa)}{list(_sb)}"))
        if _sa != _sb:
            CASES.append(C(_name, _fn, _ga(*_sb), _gb(*_sa), name=f"sweep{list(_sb)}{list(_sa)}"))
for _sa, _sb in BINARY_SHAPES:
    CASES.append(C("where", lambda m, c, x, y: m.where(c, x, y), ng(rand(*_sa) > 0), rand(*_sa), rand(*_sb),
                   name=f"sweep{list(_sa)}{list(_sb)}"))


# top-level torch functions: addcmul/addcdiv, diff, dist, gcd/lcm, fix, argwhere, ...
CASES += [
    C("addcmul", lambda m, x, a, b: m.addcmul(x, a, b), rand(*M), rand(*M), rand(*M), name="same"),
    C("addcmul", lambda m, x, a, b: x.addcmul(a, b, value=-0.5), rand(*V), rand(3, 1), rand(*M), name="broadcast"),
    C("addcmul", lambda m, x, a, b: m.addcmul(x, a, b, value=2), rand(*M), ng(rand(*M)), rand(*V), name="one-grad"),
    C("addcmul", lambda m, x, a, b: m.addcmul(x, a, b, value=2), ng([1, 2], I64), ng([3, 4], I64), ng([5, -6], I32),
      name="int"),
    C("addcmul", lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), ng([1, 2], I64), ng([3, 4], I64), ng([5, 6], I64),
      name="int-float-value"),
    C("addcmul", lambda m, x, a, b: x.clone().addcmul_(a, b, value=3), rand(*M), rand(*M), rand(*V),
      name="inplace"),
    C("addcdiv", lambda m, x, a, b: m.addcdiv(x, a, b), rand(*M), rand(*M), away(*M), name="same"),
    C("addcdiv", lambda m, x, a, b: x.addcdiv(a, b, value=-0.5), rand(*V), rand(3, 1), away(*M), name="broadcast"),
    C("addcdiv", lambda m, x, a, b: m.addcdiv(x, a, b, value=2), ng([1, 2], I64), ng([3.0, 4.0]), ng([2, 8], I64),
      name="int-input"),
    C("addcdiv", lambda m, x, a, b: x.clone().addcdiv_(a, b, value=3), rand(*M), rand(*M), away(*V), name="inplace"),
    C("sub", lambda m, x: m.diff(x), rand(*M), name="diff"),
    C("sub", lambda m, x: x.diff(n=2, dim=0), rand(4, 3), name="diff-n2-dim0"),
    C("sub", lambda m, x, a, b: m.diff(x, dim=1, prepend=a, append=b), rand(*M), rand(3, 1), rand(3, 2),
      name="diff-prepend-append"),
    C("sub", lambda m, x: m.diff(x, n=5), rand(*V), name="diff-n-past-size"),
    C("sub", lambda m, x, a: m.diff(x, prepend=a), ng([1, 4, 9], I32), ng([2], I64), name="diff-int-promote"),
    C("logical_xor", lambda m, x: m.diff(x), ng([True, False, False, True]), name="diff-bool"),
    C("dist", lambda m, x, y: m.dist(x, y), rand(*M), rand(*M), name="p2"),
    C("dist", lambda m, x, y: x.dist(y, 3), rand(*M), rand(*V), name="p3-broadcast"),
    C("dist", lambda m, x, y: m.dist(x, y, p=1), rand(*V) + 3, rand(*V), name="p1"),
    C("dist", lambda m, x, y: m.dist(x, y, float("inf")), distinct(*M), ng(np.zeros(M)), name="inf"),
    C("dist", lambda m, x, y: m.dist(x, y, 0.5), away(*V), ng(np.zeros(V)), name="p-half"),
    C("dist", lambda m, x, y: m.dist(x, y, 0), ng([0.5, 0.0, 1.0]), ng([0.5, 1.0, 0.0]), name="p0"),
    C("gcd", lambda m, x, y: m.gcd(x, y), ng([12, -18, 0, 7], I64), ng([8, 0, 0, -21], I32), name="int"),
    C("gcd", lambda m, x, y: x.gcd(y), ng([[12], [9]], I32), ng([4, 6], I32), name="broadcast"),
    C("lcm", lambda m, x, y: m.lcm(x, y), ng([4, -6, 0, 7], I64), ng([6, 4, 5, 3], I64), name="int"),
    C("lcm", lambda m, x, y: x.lcm(y), ng([[2], [3]], np.int16), ng([4, 5], np.int16), name="broadcast-int16"),
    C("trunc", lambda m, x: m.fix(x), frac_away(*M), name="fix"),
    C("trunc", lambda m, x: x.fix(), frac_away(*V), name="fix-method"),
    C("trunc", lambda m, x: x.clone().fix_(), frac_away(*V), name="fix-inplace"),
    C("vdot", lambda m, x, y: m.vdot(x, y), rand(*V), rand(*V), name="vector"),
    C("vdot", lambda m, x, y: x.vdot(y), rand(*V), ng(rand(*V)), name="method-one-grad"),
    C("vdot", lambda m, x, y: m.vdot(x, y), ng([1, 2, 3], I64), ng([4, -5, 6], I64), name="int"),
    C("addr", lambda m, c, x, y: m.addr(c, x, y), rand(3, 4), rand(3), rand(4), name="matrix"),
    C("addr", lambda m, c, x, y: c.addr(x, y, beta=0.5, alpha=-2), rand(4), rand(3), rand(4), name="broadcast-scaled"),
    C("addr", lambda m, c, x, y: m.addr(c, x, y, beta=0), ng([[np.nan]]), rand(2), rand(3), name="beta0-nan"),
    C("addr", lambda m, c, x, y: m.addr(c, x, y, alpha=2), ng([[1], [2]], I64), ng([3, 4], I64), ng([5, 6, 7], I32),
      name="int"),
    C("addr", lambda m, c, x, y: m.addr(c, x, y), ng([[True, False]]), ng([True, False]), ng([False, False]),
      name="bool"),
    C("addr", lambda m, c, x, y: c.clone().addr_(x, y, alpha=3), rand(3, 4), rand(3), rand(4), name="inplace"),
    C("mm", lambda m, x: m.cov(x), rand(3, 5), name="cov"),
    C("mm", lambda m, x: x.cov(correction=0), rand(5), name="cov-vector"),
    C("mm", lambda m, x, f, a: m.cov(x, fweights=f, aweights=a), rand(2, 4), ng([1, 2, 1, 3], I64), pos(4),
      name="cov-weights"),
    C("mm", lambda m, x, f: m.cov(x, correction=0, fweights=f), rand(2, 3), ng([2, 1, 1], I32), name="cov-fweights"),
    C("mm", lambda m, x, a: m.cov(x, correction=0, aweights=a), rand(2, 3), pos(3), name="cov-aweights"),
    C("mm", lambda m, x, f: m.cov(x, fweights=f), ng([[1, 2, 4], [0, 3, 3]], I64), ng([2, 1, 1], I64), name="cov-int"),
    C("clamp", lambda m, x: m.corrcoef(x), rand(3, 6), name="corrcoef"),
    C("div", lambda m, x: x.corrcoef(), rand(5), name="corrcoef-vector"),
    C("sum", lambda m, y: m.trapezoid(y), rand(3, 5), name="trapezoid", node_differs="torch's ends in a "
      "MulBackward1 (a Tensor-Scalar mul); ours in a MulBackward0"),
    C("sum", lambda m, y: m.trapz(y, dx=0.5, dim=0), rand(3, 5), name="trapz-dx", node_differs="torch's ends in a "
      "MulBackward1 (a Tensor-Scalar mul); ours in a MulBackward0"),
    C("sum", lambda m, y, x: m.trapezoid(y, x), rand(3, 5), rand(5), name="trapezoid-x", node_differs="torch's "
      "ends in a DivBackward1 (a Tensor-Scalar div); ours in a DivBackward0"),
    C("sum", lambda m, y, x: m.trapz(y, x, dim=0), rand(3, 2), rand(3, 2), name="trapz-x-2d", node_differs="torch's "
      "ends in a DivBackward1 (a Tensor-Scalar div); ours in a DivBackward0"),
    C("sum", lambda m, y: m.trapezoid(y), ng([1, 2, 4], I64), name="trapezoid-int"),
    C("sum", lambda m, y: m.trapezoid(y), ng(np.zeros((3, 0))), name="trapezoid-empty"),
    # rows 0 and 2 above maxnorm 1.5 (p=2), row 1 below: both branches
    C("renorm", lambda m, x: m.renorm(x, 2, 0, 1.5), np.array([[1.0, 2.0, -0.5], [0.3, -0.4, 0.5], [-2.0, 1.0, 1.0]]),
      name="p2-dim0"),
    C("renorm", lambda m, x: x.renorm(1, 1, 2.0), np.array([[1.0, 0.2], [-2.0, 0.3], [0.7, -0.4]]), name="p1-dim1"),
    C("renorm", lambda m, x: m.renorm(x, 3, -1, 1.0), rand(2, 3, 2) * 2, name="p3-3d"),
    C("renorm", lambda m, x: x.clone().renorm_(2, 0, 1.0), rand(3, 4) * 2, name="inplace"),
    C("histc", lambda m, x: m.histc(x, 4), ng([1.0, 2.0, 1.0, 4.0, 2.5, -1.0, 3.0]), name="data-range"),
    C("histc", lambda m, x: x.histc(bins=5, min=-0.5, max=0.5), ng(rand(3, 4)), name="range-outside-ignored"),
    C("histc", lambda m, x: m.histc(x, 3, 2, 2), ng([5.0, 5.0, 5.0]), name="one-point"),
    C("histc", lambda m, x: m.histc(x, 3), ng(np.zeros(0)), name="empty"),
    C("histc", lambda m, x: m.histc(x, 2, 0, 1), ng([0.5, np.nan, 1.0, 0.0]), name="nan-and-edges"),
    C("histc", lambda m, x: m.histc(x, 10), ng(rand(20)), name="default-range"),
]


# issue 11, torch.linalg: its own file (tests/linalg_cases.py), which reads the helpers above
from linalg_cases import LINALG_CASES  # noqa: E402

CASES += LINALG_CASES


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

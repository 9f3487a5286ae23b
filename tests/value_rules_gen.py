"""A generated set of bad-input and scalar-mixing snippets (issue 12), each an expression over `torch` (PyTorch or
autograd_gpu), `np`, `F` (torch.nn.functional) and `dev` (the device). `outcome(code, module, device)` runs one;
`same(a, b)` says whether two outcomes agree: the same exception type, or the same dtype, shape and values.

tests/test_value_rules_generated.py runs every case against PyTorch; `python tests/value_rules_gen.py` prints the
counts (used for the before/after figures: point PYTHONPATH at another checkout's autograd_gpu first)."""
import itertools
import warnings

import numpy as np

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
VALUES = {  # (each holds a zero, for the division rules)
    "bool": "[True, False, True]", "uint8": "[0, 1, 2, 250]", "int8": "[0, 1, -2, 100]",
    "int16": "[0, 1, -2, 3]", "int32": "[0, 1, -2, 3]", "int64": "[0, 1, -2, 2**40]",
    "float16": "[0.0, 1.5, -2.0, 6e4]", "float32": "[0.0, 1.5, -2.0, 3.25]", "float64": "[0.0, 1.5, -2.0, 1e300]",
}
SCALARS = ["True", "False", "0", "2", "-3", "300", "2**31", "2**63", "2.5", "-0.5", "float('inf')", "float('nan')",
           "np.bool_(True)", "np.int8(3)", "np.uint8(200)", "np.int32(-7)", "np.int64(5)", "np.float16(1.5)",
           "np.float32(0.5)", "np.float64(2.5)", "1j", "np.array(3)", "np.array(2.5)", "None", "'a'"]
BINARY = ["+", "-", "*", "/", "//", "%", "**", "==", "<", "&", "|", "^"]
SCALAR_CALLS = ["torch.add({t}, {s}, alpha=2)", "torch.sub({t}, {s})", "torch.mul({t}, {s})",
                "torch.div({t}, {s}, rounding_mode='floor')", "torch.div({t}, {s}, rounding_mode='trunc')",
                "torch.true_divide({t}, {s})", "torch.fmod({t}, {s})", "torch.remainder({t}, {s})",
                "torch.pow({s}, {t})", "torch.clamp({t}, min={s})", "torch.where({t} > 0, {t}, {s})",
                "torch.maximum({t}, {s})", "torch.eq({t}, {s})", "torch.ge({t}, {s})",
                "{t}.clone().add_({s})", "{t}.clone().mul_({s})", "{t}.clone().div_({s})",
                "{t}.clone().fill_({s})", "{t}.clone().clamp_(max={s})", "{t}.clone().masked_fill_({t} == 0, {s})",
                "setitem({t}.clone(), 0, {s})", "torch.full((2,), {s})", "torch.full((2,), {s}, dtype=torch.{d})",
                "torch.tensor({s})", "torch.tensor([{s}, {s}])", "torch.tensor({s}, dtype=torch.{d})",
                "torch.zeros(2, dtype=torch.{d}) + torch.tensor({s})"]


def _tensor(d):
    return f"torch.tensor({VALUES[d]}, dtype=torch.{d}, device=dev)"


def scalar_cases():
    for d, s in itertools.product(DTYPES, SCALARS):
        t = _tensor(d)
        for op in BINARY:
            yield f"{t} {op} {s}"
            yield f"{s} {op} {t}"
        for call in SCALAR_CALLS:
            yield call.format(t=t, s=s, d=d)


def tensor_pair_cases():
    for a, b in itertools.product(DTYPES, DTYPES):
        ta, tb = _tensor(a), _tensor(b).replace("device=dev)", "device=dev)[:1]")
        for op in ["+", "*", "/", "//", "**", "<", "&"]:
            yield f"{ta} {op} {tb}"
        yield f"torch.where({ta} > 1, {ta}, {tb})"
        yield f"torch.cat([{ta}, {tb}])"
        yield f"{ta}.clone().add_({tb})"
        yield f"torch.dot({ta}[:2], {tb.replace('[:1]', '')}[:2])"
        yield f"{ta}.clone().copy_({tb})"


SIZES = ["2", "-1", "0", "2.0", "np.int64(2)", "(2, -1)", "[2, 3]", "(2, 3.0)", "torch.tensor(3)", "None", "'2'",
         "(2**63,)"]
DTYPE_ARGS = ["torch.float32", "torch.int64", "float", "int", "bool", "'float32'", "np.float64", "np.dtype('int32')",
              "None", "3", "torch.float64"]


def creation_cases():
    for size in SIZES:
        for fn in ["zeros", "ones", "empty", "rand", "randn"]:
            yield f"torch.{fn}({size}, device=dev)"
        yield f"torch.full({size}, 1.5, device=dev)"
        yield f"torch.randint(0, 5, {size}, device=dev)"
    for dt in DTYPE_ARGS:
        for fn in ["torch.zeros(2, dtype={dt}, device=dev)", "torch.ones(2, dtype={dt}, device=dev)",
                   "torch.tensor([1, 2], dtype={dt}, device=dev)", "torch.arange(3, dtype={dt}, device=dev)",
                   "torch.full((2,), 7, dtype={dt}, device=dev)", "torch.ones(2, device=dev).to({dt})",
                   "torch.linspace(0, 1, 3, dtype={dt}, device=dev)", "torch.eye(2, dtype={dt}, device=dev)",
                   "torch.zeros(2, device=dev).sum(dtype={dt})", "torch.ones(2, device=dev).prod(dtype={dt})",
                   "torch.ones(2, device=dev).cumsum(0, dtype={dt})", "torch.rand(2, dtype={dt}, device=dev)",
                   "torch.randn(2, dtype={dt}, device=dev)", "torch.empty(2, dtype={dt}, device=dev).fill_(1)"]:
            yield fn.format(dt=dt)
    for args in ["5", "0", "-1", "2.5", "np.int64(5)", "0, 10, 0", "5, 0", "0, 5, -1", "0, 1, 0.25", "10, 0, -3",
                 "0, float('inf')", "0, float('nan')", "1, 2**63"]:
        yield f"torch.arange({args}, device=dev)"
    for args in ["-3", "0", "2, 3", "2, -1", "2.0"]:
        yield f"torch.eye({args}, device=dev)"
    for args in ["0, 1, 5", "0, 1, -1", "0, 1, 0", "0, 1, 1", "1, 0, 4", "0, 1, 2.5"]:
        yield f"torch.linspace({args}, device=dev)"
        yield f"torch.logspace({args}, device=dev)"
    for args in ["5", "0", "-1", "2.5"]:
        yield f"torch.randperm({args}, device=dev)"
    for data in ["[[1, 2], [3]]", "[[1, 2], [3, 4]]", "[]", "[[]]", "[[], []]", "[1, [2]]", "[1, 2.5, True]",
                 "[True, False]", "[1, None]", "['a']", "[torch.tensor(1.0), torch.tensor(2.0)]",
                 "[torch.tensor([1, 2]), torch.tensor([3, 4])]", "[torch.tensor([1]), torch.tensor([2, 3])]",
                 "[torch.tensor(1), 2.5]", "[[torch.tensor(1.0)], [torch.tensor(2.0)]]", "(1, 2)", "((1, 2), (3, 4))",
                 "np.array([1, 2], dtype=np.int32)", "np.array([1.5], dtype=np.float16)", "np.array(5)",
                 "np.array([1, 2], dtype=np.uint16)", "np.array(['a'])", "range(3)", "[np.float64(1.5)] * 2",
                 "[np.int8(1), 300]", "[np.float32(1), 2**40]", "{1, 2}", "[[1, 2], 3]", "3 + 0j", "b'ab'"]:
        yield f"torch.tensor({data}, device=dev)"
        yield f"torch.as_tensor({data}, device=dev)"


X23 = "torch.arange(6.0, device=dev).reshape(2, 3)"
XI = "torch.arange(6, device=dev).reshape(2, 3)"
XB = "(torch.arange(6, device=dev).reshape(2, 3) > 2)"
X0 = "torch.zeros(0, 3, device=dev)"
XS = "torch.tensor(2.5, device=dev)"
REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "max", "min", "std", "var", "logsumexp",
              "cumsum", "cumprod", "softmax", "log_softmax", "all", "any", "median", "nansum", "count_nonzero",
              "norm", "aminmax", "cummax", "logcumsumexp"]
DIMS = ["", "0", "1", "-1", "2", "-3", "(0, 1)", "(0, 0)", "1.5", "None", "'a'"]


def reduction_cases():
    for fn, x, dim in itertools.product(REDUCTIONS, [X23, XI, XB, X0, XS], DIMS):
        yield f"torch.{fn}({x}{', ' + dim if dim else ''})"
    for fn, x in itertools.product(["sum", "mean", "amax", "argmax", "max", "std", "prod"], [X23, X0, XS]):
        yield f"torch.{fn}({x}, dim=1, keepdim=True)"


SHAPE = ["{x}.view(2.0, 3)", "{x}.view(-1, -1)", "{x}.view(4, 2)", "{x}.view(3, 2)", "{x}.view(-1)", "{x}.view([6])",
         "{x}.view(torch.float32)", "{x}.t().view(6)", "{x}.reshape(-1, 4)", "{x}.reshape((3, -1))",
         "{x}.narrow(1, 0, -1)", "{x}.narrow(1, 2, 2)", "{x}.narrow(1, -1, 1)", "{x}.narrow(3, 0, 1)",
         "torch.tensor_split({x}, 0)", "torch.tensor_split({x}, 2, dim=1)", "torch.tensor_split({x}, [1, 5], dim=1)",
         "torch.tensor_split({x}, -1)", "{x}.split(0)", "{x}.split(2, 1)", "{x}.split([1, 1], 1)", "{x}.chunk(0)",
         "{x}.chunk(2, 1)", "{x}.chunk(-1)", "{x}.squeeze(2)", "{x}.squeeze((0, 1))", "{x}.unsqueeze(3)",
         "{x}.unsqueeze(-4)", "{x}.transpose(0, 2)", "{x}.permute(0, 0)", "{x}.permute(1, 0)", "{x}.permute(0)",
         "{x}.expand(3, 3)", "{x}.expand(2, 2, 3)", "{x}.expand(-1, 3)", "{x}.expand(1, -1)", "{x}.repeat(2)",
         "{x}.repeat(0, 2)", "{x}.repeat(-1, 2)", "{x}.flatten(1, 0)", "{x}.flatten(0, 5)", "{x}.movedim(0, 2)",
         "torch.cat({x})", "torch.cat([{x}])", "torch.cat([{x}, {x}], 2)", "torch.cat([{x}, {x}.t()])",
         "torch.cat([])", "torch.cat(({x}, {x}), dim=-1)", "torch.stack([{x}, {x}], 3)", "torch.stack([{x}], 2)",
         "torch.stack({x})", "torch.stack([{x}, {x}.t()])", "torch.stack([{x}, {x}], {x})",
         "torch.flip({x}, (0, 0))", "torch.roll({x}, 1, 5)", "torch.tile({x}, (2,))", "torch.diagonal({x}, 0, 0, 0)",
         "torch.tril({x}, 1.5)", "{x}.unfold(1, 4, 1)", "{x}.unfold(1, 2, 0)", "torch.broadcast_to({x}, (3,))",
         "{x}.unflatten(1, (2, 2))", "{x}.swapaxes(0, 1)", "torch.atleast_3d({x})", "{x}[None, ..., None].shape",
         "{x}.select(1, 3)", "{x}.select(2, 0)", "torch.take({x}, torch.tensor([6]))", "torch.take({x}, torch.tensor([-6]))"]


def shape_cases():
    for x, form in itertools.product([X23, XI, X0], SHAPE):
        yield form.format(x=x)


IDX = {"neg": "torch.tensor([[-1, 0], [1, 0]])", "big": "torch.tensor([[3, 0], [1, 0]])",
       "ok": "torch.tensor([[1, 0], [2, 1]])", "f": "torch.tensor([[1., 0.], [2., 1.]])",
       "i32": "torch.tensor([[1, 0], [2, 1]], dtype=torch.int32)", "u8": "torch.tensor([[1, 0], [1, 1]], dtype=torch.uint8)",
       "b": "torch.tensor([[True, False], [False, True]])", "list": "[[1, 0], [2, 1]]", "e": "torch.zeros(0, 2, dtype=torch.int64)"}
IDX1 = {"neg": "torch.tensor([-1, 0])", "big": "torch.tensor([3, 0])", "ok": "torch.tensor([1, 0])",
        "f": "torch.tensor([1., 0.])", "i32": "torch.tensor([1, 0], dtype=torch.int32)",
        "u8": "torch.tensor([1, 0, 1], dtype=torch.uint8)", "b": "torch.tensor([True, False, True])",
        "list": "[1, 0]", "e": "torch.zeros(0, dtype=torch.int64)", "2d": "torch.tensor([[1, 0]])", "int": "1"}
INDEXING = ["torch.gather({x}, 1, {i2})", "torch.gather({x}, 0, {i2})", "torch.gather({x}, 2, {i2})",
            "torch.scatter({x}, 1, {i2}, 9.0)", "torch.scatter({x}, 1, {i2}, {x}[:, :2].double())",
            "torch.scatter_add({x}, 1, {i2}, {x}[:, :2])", "torch.take_along_dim({x}, {i2}, 1)",
            "torch.index_select({x}, 1, {i1})", "torch.index_select({x}, 0, {i1})",
            "{x}.index_add(1, {i1}, torch.ones(2, 2))", "{x}.index_fill(1, {i1}, -1.0)",
            "{x}.index_copy(1, {i1}, torch.ones(2, 2))", "{x}[{i1}]", "{x}[:, {i1}]", "{x}[{i1}, {i1}]",
            "{x}[{i2}]", "setitem({x}.clone(), {i1}, 7.0)", "setitem({x}.clone(), (slice(None), {i1}), torch.ones(2))",
            "F.embedding({i2}, {x}.t())", "F.embedding({i1}, {x})", "F.one_hot({i1}, 3)",
            "torch.masked_select({x}, {i2})", "{x}.masked_fill({i2}, 0.0)", "{x}.put({i1}, torch.ones(2))",
            "torch.bincount({i1})", "torch.unravel_index({i1}, (2, 3))"]


def indexing_cases():
    for form, key in itertools.product(INDEXING, sorted(set(IDX) | set(IDX1))):
        i2, i1 = IDX.get(key, IDX["ok"]), IDX1.get(key, IDX1["ok"])
        yield form.format(x=X23, i2=i2, i1=i1)


SET = ["setitem({x}, 0, torch.ones(3))", "setitem({x}, 0, torch.ones(1, 3))", "setitem({x}, 0, torch.ones(2, 3))",
       "setitem({x}, (slice(None), 0), torch.ones(1, 2))", "setitem({x}, (slice(None), 0), torch.ones(2, 1))",
       "setitem({x}, (slice(None), 0), torch.ones(1, 1, 2))", "setitem({x}, slice(None), torch.ones(1, 1, 2, 3))",
       "setitem({x}, slice(None), torch.ones(2, 1, 3))", "setitem({x}, 0, [1, 2, 3])", "setitem({x}, 0, 'a')",
       "setitem({x}, 0, np.array([1, 2, 3]))", "setitem({x}, {x} > 2, torch.ones(3))",
       "setitem({x}, {x} > 2, torch.tensor([1.0, 2.0, 3.0]))", "setitem({x}, {x} > 2, torch.ones(2))",
       "setitem({x}.expand(2, 2, 3), 0, 1.0)", "setitem({x}[0].expand(2, 3), 0, 1.0)", "setitem({x}, 5, 1.0)",
       "setitem({x}, (0, 0, 0), 1.0)", "setitem({x}, 0, torch.ones(3, dtype=torch.float64))",
       "setitem({x}, 0, torch.ones(3, dtype=torch.int64))", "{x}.copy_(torch.ones(3))", "{x}.copy_(torch.ones(1, 2, 3))",
       "{x}.copy_(torch.ones(3, 3))", "{x}.copy_(torch.ones(2, 1))", "{x}.copy_([1, 2, 3])",
       "{x}.masked_fill({x} > 2, torch.tensor([1.0, 2.0]))", "{x}.masked_fill({x} > 2, torch.tensor(1.0))",
       "{x}.masked_fill(torch.ones(3, dtype=torch.bool), 0.0)", "{x}.masked_fill(torch.ones(2, 3), 0.0)",
       "{x}.masked_fill(torch.ones(2, 3, dtype=torch.uint8), 0.0)", "{x}.expand(2, 2, 3).add_(1)",
       "{x}[0].expand(2, 3).mul_(2)", "{x}.expand(2, 2, 3).copy_(torch.ones(2, 2, 3))"]


def setitem_cases():
    for x, form in itertools.product([X23, XI, XB], SET):
        yield form.format(x=x)


A = "torch.ones(2, 3, device=dev)"
INPUT_CHECKS = [
    "F.nll_loss(torch.randn(4, 3).log_softmax(1), torch.tensor([0, 1, 2, 0]), weight=torch.ones(2))",
    "F.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]), weight=torch.ones(4))",
    "F.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2, 3]))",
    "F.cross_entropy(torch.randn(4, 3), torch.tensor([0., 1., 2., 0.]))",
    "F.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2]))",
    "F.cross_entropy(torch.randn(4, 3), torch.randn(4, 3).softmax(1))",
    "F.cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2, -1]))",
    "F.nll_loss(torch.randn(4, 3), torch.tensor([0, 1, 2, 0], dtype=torch.int32))",
    "F.embedding(torch.tensor([0, 1]), torch.ones(3))", "F.embedding(torch.tensor([0., 1.]), torch.ones(3, 2))",
    "F.embedding(torch.tensor([0, 5]), torch.ones(3, 2))", "F.embedding(torch.tensor([0, 1]), torch.ones(3, 2), padding_idx=5)",
    "torch.ones(3).normal_(0, -1)", "torch.ones(3).uniform_(1, 0)", "torch.ones(3).normal_(0, 0)",
    "torch.ones(3).uniform_(0, float('inf'))", "torch.ones(3, dtype=torch.int64).normal_()",
    "torch.ones(3, dtype=torch.int64).uniform_()", "torch.ones(3).bernoulli_(1.5)", "torch.ones(3).exponential_(-1)",
    "torch.ones(3).random_(5, 2)", "torch.bernoulli(torch.tensor([0.5, 1.5]))", "torch.multinomial(torch.tensor([0.5, -1.0]), 1)",
    "torch.multinomial(torch.tensor([0.0, 0.0]), 1)", "torch.multinomial(torch.tensor([0.5, 0.5]), 3)",
    "torch.normal(torch.zeros(2), torch.tensor([1.0, -1.0]))", "torch.poisson(torch.tensor([-1.0]))",
    "F.binary_cross_entropy(torch.tensor([0.5, float('nan')]), torch.tensor([1.0, 0.0]))",
    "F.binary_cross_entropy(torch.tensor([0.5, 0.2]), torch.tensor([1.5, 0.0]))",
    "F.binary_cross_entropy(torch.tensor([1.5, 0.2]), torch.tensor([1.0, 0.0]))",
    "F.binary_cross_entropy(torch.tensor([0.5, 0.2]), torch.tensor([1.0, 0.0, 1.0]))",
    "F.binary_cross_entropy(torch.tensor([0.5, 0.2]), torch.tensor([1, 0]))",
    "F.binary_cross_entropy_with_logits(torch.tensor([0.5, 0.2]), torch.tensor([1.0, 0.0, 1.0]))",
    "F.mse_loss(torch.ones(2), torch.ones(2, dtype=torch.int64))", "F.mse_loss(torch.ones(2), torch.ones(3))",
    "F.l1_loss(torch.ones(2, dtype=torch.int64), torch.ones(2, dtype=torch.int64))",
    "F.kl_div(torch.ones(2), torch.ones(3))", "F.smooth_l1_loss(torch.ones(2), torch.ones(2), beta=-1.0)",
    "F.huber_loss(torch.ones(2), torch.ones(2), delta=0.0)", "F.mse_loss(torch.ones(2), torch.ones(2), reduction='foo')",
    "torch.ones(2, dtype=torch.bool) @ torch.ones(2, dtype=torch.bool)",
    "torch.ones(2, 2, dtype=torch.bool) @ torch.ones(2, 2, dtype=torch.bool)",
    "torch.ones(2, dtype=torch.int64) @ torch.ones(2, dtype=torch.int64)", "torch.ones(2) @ torch.ones(2, dtype=torch.float64)",
    "torch.ones(2, 3) @ torch.ones(2, 3)", "torch.ones(2) @ torch.ones(3)", "torch.ones(()) @ torch.ones(2)",
    "torch.matmul([[1.0]], torch.ones(1, 1))", "torch.matmul(torch.ones(1, 1), [[1.0]])",
    "torch.mm(torch.ones(2, 3), torch.ones(3))", "torch.mm(torch.ones(2, 3, dtype=torch.int64), torch.ones(3, 2))",
    "torch.bmm(torch.ones(2, 3), torch.ones(3, 2))", "torch.mv(torch.ones(2, 3), torch.ones(2))",
    "torch.dot(torch.ones(2), torch.ones(2, dtype=torch.float64))", "torch.dot(torch.ones(2, 2), torch.ones(2, 2))",
    "torch.dot(torch.ones(2), torch.ones(3))", "torch.outer(torch.ones(2, 2), torch.ones(2))",
    "torch.relu(torch.tensor([True, False]))", "F.relu(torch.tensor([True, False]))",
    "torch.sigmoid(torch.tensor([1, 2]))", "torch.tanh(torch.tensor([True]))", "torch.exp(torch.tensor([1, 2]))",
    "torch.softmax(torch.tensor([1, 2]), 0)", "F.gelu(torch.tensor([1, 2]))", "F.leaky_relu(torch.tensor([1, -2]))",
    "torch.sqrt(torch.tensor([4, 9]))", "torch.floor(torch.tensor([1, 2]))", "torch.round(torch.tensor([1, 2]))",
    "torch.abs(torch.tensor([True]))", "torch.neg(torch.tensor([True]))", "-torch.tensor([True])",
    "~torch.tensor([1.5])", "torch.bitwise_not(torch.tensor([1.5]))", "torch.tensor([1.5]) & torch.tensor([1.5])",
    "torch.tensor([True]) // torch.tensor([True])", "torch.tensor([True]) % torch.tensor([True])",
    "torch.tensor([True]) - torch.tensor([True])", "torch.tensor([True]) / torch.tensor([True])",
    "torch.tensor([5]) >> 1.5", "torch.tensor([5]) << -1", "torch.tensor([5.0]) >> 1",
    "torch.tensor([2, 3]) ** torch.tensor([-1, -2])", "torch.tensor([2, 1, -1, 0]) ** -1",
    "torch.tensor([2, 1, -1]) ** torch.tensor([-1, -2, -3])", "torch.tensor([0]) ** torch.tensor([-1])",
    "torch.tensor([2], dtype=torch.uint8) ** torch.tensor([-1])", "torch.pow(2, torch.tensor([-1, 2]))",
    "torch.eye(-3)", "torch.linspace(0, 1, 5, dtype=torch.bool)", "torch.arange(3, dtype=torch.bool)",
    "torch.randperm(-1)", "torch.randint(5, 2, (3,))", "torch.randint(0, 5, (3,), dtype=torch.float32)",
    "torch.ones(2, 2).scatter(1, torch.tensor([[0], [1]]), torch.ones(2, 1, dtype=torch.float64))",
    "torch.ones(2, 2).scatter_(1, torch.tensor([[0], [1]]), torch.ones(2, 1, dtype=torch.int64))",
    "torch.ones(2, 2).scatter(1, torch.tensor([[0.0], [1.0]]), 1.0)",
    "torch.ones(2, 2).scatter(1, torch.tensor([[0], [1]]), 1.0, reduce='foo')",
    "torch.ones(2, 2).index_add(0, torch.tensor([0]), torch.ones(1, 2, dtype=torch.float64))",
    "torch.ones(2).prod(dtype='')", "torch.ones(2).sum(dtype='float32')", "torch.stack([torch.ones(2)], torch.tensor(0))",
    "torch.cat([torch.ones(2)], dim=torch.tensor(0))", "torch.ones(2).sum(torch.tensor(0))",
    "torch.ones(2).clamp(min=torch.ones(3))", "torch.clamp(torch.ones(2))", "torch.ones(2).clamp(2, 1)",
    "torch.ones(2).clamp(min=torch.tensor(1.0), max=2.0)", "torch.where(torch.ones(2), 1.0, 0.0)",
    "torch.where(torch.tensor([True, False]), torch.ones(2), torch.ones(3))", "torch.where(torch.tensor([True]))",
    "torch.ones(2).expand(3)", "torch.ones(2, 3).mean(dtype=torch.int64)", "torch.ones(2, dtype=torch.int64).mean()",
    "torch.ones(2, dtype=torch.int64).std()", "torch.ones(2, dtype=torch.int64).norm()",
    "torch.ones(2, dtype=torch.bool).sum()", "torch.ones(2, dtype=torch.bool).prod()",
    "torch.ones(2, dtype=torch.bool).cumsum(0)", "torch.ones(2, dtype=torch.uint8).sum()",
    "torch.ones(2, dtype=torch.int32).cumsum(0)", "torch.ones(2, dtype=torch.int8).prod()",
    "torch.ones(2, 3).max(dim=2)", "torch.ones(2, 3).max(torch.ones(3))", "torch.ones(2, 3).max(torch.ones(3, 3))",
    "torch.ones(2).topk(3)", "torch.ones(2).topk(-1)", "torch.ones(2).kthvalue(3)", "torch.ones(2).kthvalue(0)",
    "torch.ones(0).max()", "torch.ones(0).argmax()", "torch.ones(0).min()", "torch.ones(0).median()",
    "torch.ones(0).sum()", "torch.ones(0).prod()", "torch.ones(0).mean()", "torch.ones(0).std()",
    "torch.ones(0).amax()", "torch.ones(0, 3).amax(1)", "torch.ones(0, 3).amax(0)", "torch.ones(0, 3).argmax(0)",
    "torch.ones(0, 3).argmax(1)", "torch.ones(0, 3).max(0)", "torch.ones(0, 3).max(1)", "torch.ones(0, 3).logsumexp(0)",
    "torch.ones(0, 3).softmax(0)", "torch.ones(0, 3).cumsum(0)", "torch.ones(0, 3).var(0)",
    "torch.ones(2, 3).std(correction=3)", "torch.ones(1).std()", "torch.ones(1).var(unbiased=True)",
    "torch.ones(2).view(2.0)", "torch.ones(2).reshape(2.0)", "torch.ones(2).sum(1.0)",
    "torch.ones(2).unsqueeze(1.0)", "torch.ones(2).flatten(0.0)", "torch.ones(2).transpose(0, 1.0)",
    "torch.ones(2).split(1.0)", "torch.ones(2).repeat(2.0)", "torch.ones(2).expand(2.0)", "torch.ones(2).narrow(0, 0.0, 1)",
    "torch.ones(2).softmax(0.0)", "torch.ones(2).topk(1.0)", "torch.ones(2).roll(1.0)", "torch.ones(2)[1.0]",
    "torch.ones(2)[torch.tensor(1.0)]", "torch.ones(2)[torch.tensor(1)]", "torch.ones(2)['a']", "torch.ones(2)[None, None]",
    "torch.ones(2)[5]", "torch.ones(2)[-3]", "torch.ones(2, 3)[:, 3]", "torch.ones(2, 3)[0, 0, 0]",
    "torch.ones(2)[...,...]", "torch.ones(2)[[True, False]]", "torch.ones(2)[[True]]", "torch.ones(2)[[0, 5]]",
    "torch.ones(2)[torch.tensor([[0, 1]])]", "torch.ones(2)[torch.tensor([0.0])]", "torch.ones(2)[[]]",
    "torch.ones(2)[np.array([0, 1])]", "torch.ones(2)[np.int64(1)]", "torch.ones(2)[np.array(1)]",
    "torch.ones(2, 3)[torch.tensor([True, False])]", "torch.ones(2, 3)[torch.tensor([True, False, True])]",
    "torch.ones(2, 3)[torch.tensor([1, 0], dtype=torch.uint8)]", "torch.ones(2, 3)[torch.tensor([1, 0], dtype=torch.int8)]",
    "torch.ones(2, 3)[torch.tensor([1, 0], dtype=torch.int32)]", "torch.ones(2, 3)[torch.tensor([1, 0], dtype=torch.int16)]",
    "torch.ones(2).item()", "torch.ones(0).item()", "torch.ones(1).item()", "torch.tensor(1.5).tolist()",
    "int(torch.ones(2))", "float(torch.ones(1, 1))", "bool(torch.ones(2))", "bool(torch.ones(0))", "len(torch.tensor(1.0))",
    "iter(torch.tensor(1.0))", "torch.ones(2).__index__()", "torch.tensor(2).__index__()", "[1, 2, 3][torch.tensor(1)]",
    "range(torch.tensor(3))", "torch.ones(2).numpy().dtype", "torch.ones(2, requires_grad=True).numpy()",
    "torch.ones(2, dtype=torch.int64, requires_grad=True)", "torch.ones(2).requires_grad_(1)",
    "torch.ones(2, dtype=torch.int64).requires_grad_()", "torch.tensor([1, 2], requires_grad=True)",
    "torch.ones(2, requires_grad=True).sum().backward(torch.ones(2))",
    "torch.ones(2, requires_grad=True).backward()", "torch.ones(2).sum().backward()",
    "torch.ones(2, requires_grad=True).sum().backward(torch.ones(()).double())",
    "torch.ones(2, requires_grad=True).mul_(2)", "torch.ones(2, requires_grad=True)[0].add_(1)",
    "torch.autograd.grad(torch.ones(2, requires_grad=True).sum(), torch.ones(2, requires_grad=True))",
    "torch.autograd.grad(torch.ones(2, requires_grad=True).sum(), [])", "torch.ones(2).detach_().requires_grad",
    "torch.ones(2, 3).t_().shape", "torch.ones(2, 3, 4).t()", "torch.ones(2, 3).T.shape", "torch.ones(2, 3, 4).mT.shape",
    "torch.ones(2).mT", "torch.ones(2, 3).contiguous().stride()", "torch.ones(2, 3).t().is_contiguous()",
    "torch.ones(2).to('cpu', torch.float64).dtype", "torch.ones(2).to('foo')", "torch.ones(2).to(3.0)",
    "torch.ones(2).type(torch.int32)", "torch.ones(2).type('torch.IntTensor')", "torch.ones(2).type()",
    "torch.ones(2).new_zeros(3).dtype", "torch.ones(2, dtype=torch.int8).new_tensor([1.5])",
    "torch.ones(2).new_full((2,), 1 + 1j)", "torch.zeros_like(torch.ones(2), dtype=torch.int64)",
    "torch.full_like(torch.ones(2, dtype=torch.int64), 2.7)", "torch.full_like(torch.ones(2, dtype=torch.uint8), 300)",
    "torch.full_like(torch.ones(2, dtype=torch.uint8), -1)", "torch.full_like(torch.ones(2), float('nan'))",
    "torch.ones_like([1, 2])", "torch.rand_like(torch.ones(2, dtype=torch.int64))",
    "torch.randn_like(torch.ones(2, dtype=torch.int64))", "torch.randint_like(torch.ones(2), 5).dtype",
]


def input_check_cases():
    yield from INPUT_CHECKS


def all_cases():
    """Every case, in a fixed order, without repeats."""
    seen = {}
    for gen in (scalar_cases, tensor_pair_cases, creation_cases, reduction_cases, shape_cases, indexing_cases,
                setitem_cases, input_check_cases):
        for code in gen():
            seen.setdefault(code, gen.__name__)
    return seen


def setitem(t, idx, v):
    t[idx] = v
    return t


def outcome(code, module, device):
    """("raises", the first built-in exception class of what was raised) or ("value", a comparable value)."""
    ns = {"torch": module, "np": np, "F": module.nn.functional, "dev": device, "setitem": setitem}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = eval(code, ns)  # noqa: S307  (our own generated snippets)
            if device != "cpu":  # (a GPU check reports at the next synchronising call: this case's)
                module.cuda.synchronize()
    except Exception as e:  # noqa: BLE001  (the exception is the outcome)
        cls = next(c for c in type(e).__mro__ if c.__module__ == "builtins")
        return ("raises", cls.__name__)
    return ("value", _value(r))


def _value(r):
    if hasattr(r, "detach") and hasattr(r, "dtype"):
        t = r.detach().cpu()
        dt = str(t.dtype).replace("torch.", "")
        try:
            a = np.asarray(t.numpy())
        except (TypeError, RuntimeError):  # (PyTorch's complex32 / bfloat16 have no numpy dtype)
            a = np.asarray(t.tolist())
        return ("tensor", dt, tuple(t.shape), a)
    if isinstance(r, (tuple, list)):  # (PyTorch's return types are structseqs, ours namedtuples: both tuples)
        return ("tuple" if isinstance(r, tuple) else "list", tuple(_value(x) for x in r))
    if isinstance(r, (bool, int, float, complex, str, type(None))):
        return ("py", type(r).__name__, r)
    if hasattr(r, "__iter__") and not isinstance(r, (np.ndarray, dict)):
        return ("iter",)
    if isinstance(r, np.ndarray):
        return ("ndarray", str(r.dtype), r.shape, r)
    if isinstance(r, np.dtype):
        return ("py", "dtype", str(r))
    return ("other", type(r).__name__, str(r).replace("torch.", "").replace("autograd_gpu.", ""))


def _close(a, b, dt):
    if a.shape != b.shape:
        return False
    if dt in ("float16", "float32", "float64") and a.size:
        tol = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}[dt]
        return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol, equal_nan=True))
    return bool(np.array_equal(a, b))


def _same_value(a, b, random):
    if a[0] != b[0]:
        return False
    if a[0] == "tensor":
        return a[1:3] == b[1:3] and (random or _close(a[3], b[3], a[1]))
    if a[0] == "ndarray":
        return a[1:3] == b[1:3] and (random or _close(a[3], b[3], a[1].replace("float", "float")))
    if a[0] in ("tuple", "list"):
        return len(a[1]) == len(b[1]) and all(_same_value(x, y, random) for x, y in zip(a[1], b[1]))
    if a[0] == "py":
        if a[1] != b[1]:
            return False
        if isinstance(a[2], float) and a[2] != a[2]:
            return b[2] != b[2]
        return random or a[2] == b[2]
    return a == b


RANDOM = ("rand", "randn", "randint", "randperm", "normal_", "uniform_", "bernoulli", "multinomial", "normal(",
          "poisson", "exponential_", "random_", "empty")


def same(ours, theirs, code=""):
    if ours[0] != theirs[0]:
        return False
    if ours[0] == "raises":
        return ours[1] == theirs[1]
    return _same_value(ours[1], theirs[1], any(r in code for r in RANDOM))


# Differences on purpose (README, "Where we differ from PyTorch on purpose"): each a rule that says when a case
# differs because of it, checked on our own outcome.
def _no_complex(code, ours, module, device):
    """There is no complex dtype: a complex number is refused with a TypeError, never computed in part."""
    return ("1j" in code or "0j" in code) and ours == ("raises", "TypeError")


def _no_wide_unsigned(code, ours, module, device):
    """There are no uint16 / uint32 / uint64 dtypes (PyTorch has them with few kernels): refused, TypeError."""
    return "np.uint16" in code and ours == ("raises", "TypeError")


def _empty_tensor_shortcuts(code, ours, module, device):
    """PyTorch returns an empty tensor's copy from cummax / roll / repeat before checking the dim or the sizes
    (`zeros(0, 3).roll(1, 5)` works there); we check them as for any tensor."""
    return "torch.zeros(0, 3" in code and any(f in code for f in ("cummax", "roll", "repeat(")) and ours[0] == "raises"


def _no_internal_errors(code, ours, module, device):
    """Where PyTorch fails with an internal error (AttributeError: unravel_index of an int or a list), we give
    a result or PyTorch's public error type, never Python's internal one."""
    return code.startswith("torch.unravel_index(1,") or code.startswith("torch.unravel_index([")


def _numpy_bool_is_an_int(code, ours, module, device):
    """A numpy bool is the integer it holds (PyTorch takes np.bool_ for a float: int_t * np.bool_(True) is
    float32 there): our outcome is the outcome with the integer 1 in its place."""
    return "np.bool_(True)" in code and same(ours, outcome(code.replace("np.bool_(True)", "1"), module, device), code)


def _bounds_checked(code, ours, module, device):
    """An index past the dim is refused, where PyTorch's CPU take_along_dim reads past the data."""
    return "take_along_dim" in code and "[[3, 0]" in code and ours == ("raises", "RuntimeError")


def _float16_scalar_not_rounded(code, ours, module, device):
    """A Python number beyond float16's range meets a float16 tensor in float32 in `//` and `%` too (PyTorch
    rounds it to inf there first, giving nan, but not in `*` and `/`)."""
    return "float16" in code and ("2**31 //" in code or "2**31 %" in code or "2**63 //" in code
                                  or "2**63 %" in code) and ours[0] == "value"


def _a_number_is_no_dtype(code, ours, module, device):
    """t.to(3.0) is refused: a number is no dtype (PyTorch reads it as its Python type, float64)."""
    return code == "torch.ones(2).to(3.0)" and ours == ("raises", "TypeError")


INTENTIONAL = {"no complex dtype": _no_complex, "numpy bools are integers": _numpy_bool_is_an_int,
               "indices are always bounds-checked": _bounds_checked, "no uint16/32/64 dtypes": _no_wide_unsigned,
               "empty tensors are checked as others": _empty_tensor_shortcuts,
               "no internal errors": _no_internal_errors,
               "float16 meets big numbers in float32": _float16_scalar_not_rounded,
               "a number is no dtype": _a_number_is_no_dtype}


def intentional(code, ours, module, device):
    """The name of the rule that makes this case differ on purpose, or None."""
    return next((name for name, rule in INTENTIONAL.items() if rule(code, ours, module, device)), None)


def run_all(module_ours, module_torch, device="cpu"):
    """{code: (ours, theirs, verdict)}: verdict True (PyTorch's outcome), the name of a rule that makes it differ
    on purpose, or False."""
    out = {}
    for code in all_cases():
        o, t = outcome(code, module_ours, device), outcome(code, module_torch, "cpu")
        out[code] = (o, t, same(o, t, code) or (intentional(code, o, module_ours, device) or False))
    return out


if __name__ == "__main__":
    import sys
    from collections import Counter

    import torch

    import autograd_gpu

    cases = all_cases()
    res = run_all(autograd_gpu, torch)
    by = Counter()
    kinds = Counter()
    for code, (o, t, ok) in res.items():
        if isinstance(ok, str):
            kinds["different on purpose: " + ok] += 1
            ok = True
        by[(cases[code], ok)] += 1
        if not ok:
            kinds[("torch raises, we return" if t[0] == "raises" and o[0] == "value" else
                   "we raise, torch returns" if o[0] == "raises" and t[0] == "value" else
                   "other exception type" if o[0] == "raises" else "other value")] += 1
    print(f"autograd_gpu from {autograd_gpu.__file__}")
    print(f"{len(res)} cases: {sum(ok is True for *_, ok in res.values())} match PyTorch, "
          f"{sum(isinstance(ok, str) for *_, ok in res.values())} differ on purpose")
    for gen in dict.fromkeys(cases.values()):
        print(f"  {gen:22s} {by[(gen, True)]:5d} / {by[(gen, True)] + by[(gen, False)]}")
    for k, v in kinds.items():
        print(f"  {k}: {v}")
    if "-v" in sys.argv:
        for code, (o, t, ok) in res.items():
            if not ok:
                print(f"DIFF {code}\n   ours {str(o)[:200]}\n  torch {str(t)[:200]}")

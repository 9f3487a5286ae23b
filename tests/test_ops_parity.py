"""Parity with PyTorch: every case of op_cases (forward values, result dtypes, requires_grad, backward node
names, input gradients), then dtype promotion, numerically hard inputs, indexing, reductions with indices,
shape ops and error types."""
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu.ops import PUBLIC_OPS
from op_cases import CASES, build, track_ops, to_numpy


def _node(t):
    fn = t.grad_fn
    return None if fn is None else type(fn).__name__


def assert_same(ours, theirs, rtol=1e-5, atol=1e-6, what=""):
    """Same dtype, shape and values (exactly for bool/int results)."""
    assert str(ours.dtype) == str(theirs.dtype), f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
    a, b = to_numpy(ours), theirs.detach().numpy()
    if b.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def test_every_op_has_a_case():
    """Each public op in PUBLIC_OPS has a case labelled with it that really runs its row."""
    ran_by_label = {}
    for case in CASES:
        with track_ops() as ran:
            build(case, ag, ag.float32, "cpu")
        ran_by_label.setdefault(case.op, set()).update(ran)
    missing = sorted(op.name for op in PUBLIC_OPS if op.name not in ran_by_label.get(op.name, ()))
    assert not missing, f"ops in autograd_gpu.ops.PUBLIC_OPS without a case in tests/op_cases.py: {missing}"
    checked = {c.op for c in CASES if c.gradgrad}
    unchecked = sorted(op.name for op in PUBLIC_OPS if op.differentiable and op.name not in checked)
    assert not unchecked, f"differentiable ops without a gradcheck/gradgradcheck case: {unchecked}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_parity(case, device):
    _, leaves, ys = build(case, ag, ag.float32, device)
    _, tleaves, ts = build(case, torch, torch.float32, "cpu")
    assert len(ys) == len(ts)
    for k, (y, t) in enumerate(zip(ys, ts)):
        assert_same(y, t, case.rtol, case.atol, f"{case.id} output {k}")
        assert y.requires_grad == t.requires_grad, f"{case.id} output {k}: requires_grad"
        if case.node_differs is None:
            assert _node(y) == _node(t), f"{case.id} output {k}: grad_fn"
    sel = [k for k, t in enumerate(ts) if t.requires_grad]
    if not sel:
        return
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(tuple(ts[k].shape)).astype(np.float32) for k in sel]
    ours = ag.autograd.grad(sum((ys[k] * ag.tensor(w, device=device)).sum() for k, w in zip(sel, ws)), leaves,
                            allow_unused=True)
    theirs = torch.autograd.grad(sum((ts[k] * torch.tensor(w)).sum() for k, w in zip(sel, ws)), tleaves,
                                 allow_unused=True)
    for i, (g, tg, x) in enumerate(zip(ours, theirs, tleaves)):
        tg = torch.zeros_like(x) if tg is None else tg
        g = ag.zeros(tuple(x.shape), device=device) if g is None else g
        assert_same(g, tg, 1e-4, 1e-5, f"{case.id} grad of input {i}")


# ---- dtype promotion ------------------------------------------------------------------------------------
def _t(m, values, dtype, device):
    return m.tensor(values, dtype=getattr(m, dtype), device=device if m is ag else "cpu")


PROMOTION = [
    # (description, fn(m, make) where make(values, dtype) builds a tensor)
    ("int64 * 0.5 -> float32", lambda m, T: T([1, 2], "int64") * 0.5),
    ("int32 * 0.5 -> float32", lambda m, T: T([1, 2], "int32") * 0.5),
    ("float64 * 0.5 -> float64", lambda m, T: T([1.0, 2.0], "float64") * 0.5),
    ("float16 * 2.5 -> float16", lambda m, T: T([1.0, 2.0], "float16") * 2.5),
    ("int64 + 2.0 -> float32", lambda m, T: T([1, 2], "int64") + 2.0),
    ("uint8 + 300 -> uint8", lambda m, T: T([1, 2], "uint8") + 3),
    ("int32 + int64", lambda m, T: T([1, 2], "int32") + T([3, 4], "int64")),
    ("int8 + uint8 -> int16", lambda m, T: T([1, -2], "int8") + T([3, 4], "uint8")),
    ("bool + int32", lambda m, T: T([True, False], "bool") + T([3, 4], "int32")),
    ("bool + True", lambda m, T: T([True, False], "bool") + True),
    ("bool * bool", lambda m, T: T([True, False], "bool") * T([True, True], "bool")),
    ("bool + 1.5", lambda m, T: T([True, False], "bool") + 1.5),
    ("float16 + float32", lambda m, T: T([1.0, 2.0], "float16") + T([3.0, 4.0], "float32")),
    ("float16 + int64", lambda m, T: T([1.0, 2.0], "float16") + T([3, 4], "int64")),
    ("float32 + float64 0-dim -> float32", lambda m, T: T([1.0, 2.0], "float32") + T(3.0, "float64")),
    ("float16 + float64 0-dim -> float16", lambda m, T: T([1.0, 2.0], "float16") + T(3.0, "float64")),
    ("int32 + float64 0-dim -> float64", lambda m, T: T([1, 2], "int32") + T(3.5, "float64")),
    ("int32 + int64 0-dim -> int32", lambda m, T: T([1, 2], "int32") + T(3, "int64")),
    ("int64 0-dim + int32 0-dim", lambda m, T: T(1, "int64") + T(3, "int32")),
    ("float64 0-dim + float32 1-d", lambda m, T: T(1.0, "float64") * T([3.0], "float32")),
    ("float64 0-dim + python float", lambda m, T: T(1.0, "float64") + 0.5),
    ("int 0-dim + python float", lambda m, T: T(1, "int64") + 0.5),
    ("bool 0-dim + int8 1-d", lambda m, T: T(True, "bool") + T([1], "int8")),
    ("int / int -> float32", lambda m, T: T([1, 2], "int64") / T([2, 4], "int64")),
    ("int32 / 2", lambda m, T: T([1, 3], "int32") / 2),
    ("int floor_divide", lambda m, T: T([7, -7], "int32") // 2),
    ("int ** 2", lambda m, T: T([2, 3], "int32") ** 2),
    ("int ** 0.5", lambda m, T: T([4, 9], "int64") ** 0.5),
    ("2 ** int tensor", lambda m, T: 2 ** T([2, 3], "int64")),
    ("2.0 ** int tensor", lambda m, T: 2.0 ** T([2, 3], "int64")),
    ("int32 < float", lambda m, T: T([1, 2], "int32") < 1.5),
    ("float16 == float64", lambda m, T: T([1.0, 2.0], "float16") == T([1.0, 3.0], "float64")),
    ("sum int32 -> int64", lambda m, T: T([1, 2], "int32").sum()),
    ("sum bool -> int64", lambda m, T: T([True, True], "bool").sum()),
    ("sum uint8 dim -> int64", lambda m, T: T([[1, 2], [3, 4]], "uint8").sum(0)),
    ("sum float16", lambda m, T: T([1.0, 2.0], "float16").sum()),
    ("prod int32 -> int64", lambda m, T: T([2, 3], "int32").prod()),
    ("cumsum int8 -> int64", lambda m, T: T([2, 3], "int8").cumsum(0)),
    ("mean float16", lambda m, T: T([1.0, 2.0], "float16").mean()),
    ("exp int -> float32", lambda m, T: T([0, 1], "int64").exp()),
    ("sqrt bool -> float32", lambda m, T: T([True, False], "bool").sqrt()),
    ("sigmoid float16", lambda m, T: T([0.5, -1.0], "float16").sigmoid()),
    ("abs int8", lambda m, T: T([-3, 2], "int8").abs()),
    ("neg int16", lambda m, T: -T([-3, 2], "int16")),
    ("maximum int32 float16", lambda m, T: m.maximum(T([1, 5], "int32"), T([2.0, 3.0], "float16"))),
    ("where int32 / float scalar", lambda m, T: m.where(T([True, False], "bool"), T([1, 2], "int32"), 0.5)),
    ("where float64 / float32", lambda m, T: m.where(T([True, False], "bool"), T([1.0, 2.0], "float64"),
                                                     T([3.0, 4.0], "float32"))),
    ("cat int32 float64", lambda m, T: m.cat([T([1, 2], "int32"), T([3.0], "float64")])),
    ("stack int8 bool", lambda m, T: m.stack([T([1, 2], "int8"), T([True, False], "bool")])),
    ("clamp int to float bound", lambda m, T: T([1, 2, 3], "int64").clamp(min=1.5)),
    ("clamp float16 to int bound", lambda m, T: T([1.0, 2.0, 3.0], "float16").clamp(max=2)),
    ("mm float64", lambda m, T: m.mm(T([[1.0, 2.0]], "float64"), T([[1.0], [2.0]], "float64"))),
    ("matmul int64", lambda m, T: m.matmul(T([[1, 2]], "int64"), T([[3], [4]], "int64"))),
    ("float16 softmax", lambda m, T: T([1.0, 2.0], "float16").softmax(0)),
    ("bitwise_and int8 int32", lambda m, T: T([5, 3], "int8") & T([1, 2], "int32")),
    ("logical_and -> bool", lambda m, T: m.logical_and(T([1, 0], "int32"), T([2.0, 3.0], "float32"))),
]


@pytest.mark.parametrize("fn", [p[1] for p in PROMOTION], ids=[p[0] for p in PROMOTION])
def test_dtype_promotion(fn, device):
    ours = fn(ag, lambda v, d: _t(ag, v, d, device))
    theirs = fn(torch, lambda v, d: _t(torch, v, d, "cpu"))
    assert_same(ours, theirs, rtol=1e-3, atol=1e-3)


def test_default_dtype_follows_set_default_dtype():
    ag.set_default_dtype(ag.float64)
    try:
        assert (ag.tensor([1, 2]) * 0.5).dtype == ag.float64
        assert ag.tensor([1, 2]).exp().dtype == ag.float64
    finally:
        ag.set_default_dtype(ag.float32)
    assert (ag.tensor([1, 2]) * 0.5).dtype == ag.float32


# ---- numerically hard inputs --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1])
def test_softmax_stable_for_huge_logits(name, dim, device):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [999.0, 1000.0, -1000.0]])
    w = np.random.default_rng(0).standard_normal(x.shape)
    xs = ag.tensor(x, dtype=ag.float32, device=device, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    ys, yt = getattr(xs, name)(dim), getattr(xt, name)(dim)
    assert np.isfinite(to_numpy(ys)).all()
    assert_same(ys, yt, rtol=1e-5, atol=1e-5)
    (ys * ag.tensor(w, dtype=ag.float32, device=device)).sum().backward()
    (yt * torch.tensor(w, dtype=torch.float32)).sum().backward()
    assert np.isfinite(to_numpy(xs.grad)).all()
    assert_same(xs.grad, xt.grad, rtol=1e-5, atol=1e-5)


def test_logsumexp_and_sigmoid_stable(device):
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [0.0, -1000.0]])
    for fn in (lambda m, t: m.logsumexp(t, 1), lambda m, t: t.sigmoid(), lambda m, t: t.tanh()):
        xs = ag.tensor(x, device=device, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        ys, yt = fn(ag, xs), fn(torch, xt)
        assert_same(ys, yt)
        ys.sum().backward()
        yt.sum().backward()
        assert_same(xs.grad, xt.grad)


# ---- indexing -------------------------------------------------------------------------------------------
INDEXES = [
    ("int", lambda m, x: x[2]),
    ("negative int", lambda m, x: x[-1, -2]),
    ("slice", lambda m, x: x[1:3]),
    ("slice step", lambda m, x: x[::2, 1::2]),
    ("slice negative bounds", lambda m, x: x[-3:-1, :, -2:]),
    ("slice past end", lambda m, x: x[2:10]),
    ("empty slice", lambda m, x: x[3:1]),
    ("full slices", lambda m, x: x[:, :, :]),
    ("single full slice", lambda m, x: x[:]),
    ("ellipsis", lambda m, x: x[..., 1]),
    ("ellipsis alone", lambda m, x: x[...]),
    ("ellipsis middle", lambda m, x: x[0, ..., 1:3]),
    ("None", lambda m, x: x[None]),
    ("None middle", lambda m, x: x[:, None, 1]),
    ("int then None", lambda m, x: x[1, None]),
    ("bool mask", lambda m, x: x[x > 0]),
    ("bool mask rows", lambda m, x: x[m.tensor([True, False, True, True])]),
    ("bool list", lambda m, x: x[[True, False, False, True]]),
    ("int list repeated", lambda m, x: x[[0, 0, 3, 0]]),
    ("int tensor repeated", lambda m, x: x[m.tensor([1, 1, 1])]),
    ("int tensor 2-d", lambda m, x: x[m.tensor([[0, 1], [1, 0]])]),
    ("int tensors pair", lambda m, x: x[m.tensor([0, 0, 2]), m.tensor([1, 1, 4])]),
    ("int tensors broadcast", lambda m, x: x[m.tensor([[0], [3]]), m.tensor([1, 2, 1])]),
    ("slice then int tensor", lambda m, x: x[1:, m.tensor([0, 0])]),
    ("int tensor split by slice", lambda m, x: x[m.tensor([0, 1]), :, m.tensor([2, 2])]),
    ("negative int tensor", lambda m, x: x[m.tensor([-1, -4])]),
    ("int and tensor", lambda m, x: x[1, m.tensor([0, 4, 0])]),
]


@pytest.mark.parametrize("fn", [i[1] for i in INDEXES], ids=[i[0] for i in INDEXES])
def test_indexing(fn, device):
    x = np.random.default_rng(3).standard_normal((4, 5, 6))
    xs = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    with torch.device("cpu"):
        ys = fn(ag, xs) if device == "cpu" else _on(device, fn)(ag, xs)
        yt = fn(torch, xt)
    assert_same(ys, yt)
    assert _node(ys) == _node(yt)
    w = np.random.default_rng(4).standard_normal(tuple(yt.shape))
    (ys * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(xs.grad, xt.grad)


def _on(device, fn):
    """Run fn with `m.tensor` creating index tensors on `device`."""
    class _M:
        def __getattr__(self, name):
            return getattr(ag, name)

        @staticmethod
        def tensor(*a, **k):
            return ag.tensor(*a, device=device, **k)
    return lambda m, x: fn(_M(), x)


def test_index_repeated_indices_accumulate(device):
    x = ag.zeros(3, device=device, requires_grad=True)
    x[ag.tensor([0, 0, 2, 0], device=device)].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y = ag.zeros(3, 2, device=device, requires_grad=True)
    y.index_select(0, ag.tensor([1, 1], device=device)).sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0]]
    z = ag.zeros(2, 2, device=device, requires_grad=True)
    z.gather(1, ag.tensor([[1, 1, 1], [0, 1, 0]], device=device)).sum().backward()
    assert z.grad.tolist() == [[0.0, 3.0], [2.0, 1.0]]


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_dim_returns_values_and_indices(name, dim, keepdim, device):
    from op_cases import distinct
    x = distinct(3, 4)
    xs = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    rs, rt = getattr(xs, name)(dim, keepdim=keepdim), getattr(torch, name)(xt, dim, keepdim)
    vs, is_ = rs
    assert_same(rs.values, rt.values)
    assert_same(rs.indices, rt.indices)
    assert vs is rs.values and is_ is rs.indices and type(rs).__name__ == name
    assert _node(rs.values) == _node(rt.values) and not rs.indices.requires_grad
    rs.values.sum().backward()
    rt.values.sum().backward()
    assert_same(xs.grad, xt.grad)
    # the reductions without dim: one value, the gradient of ties shared evenly as in PyTorch
    ties = np.array([[1.0, 3.0], [3.0, -2.0]])
    xs, xt = ag.tensor(ties, requires_grad=True), torch.tensor(ties, requires_grad=True)
    ys, yt = getattr(xs, name)(), getattr(xt, name)()
    assert_same(ys, yt)
    assert _node(ys) == _node(yt)
    ys.backward()
    yt.backward()
    assert_same(xs.grad, xt.grad)


# ---- shape ops: views, copies and their errors ----------------------------------------------------------
def test_view_vs_reshape_on_non_contiguous():
    x = ag.arange(12.0).reshape(3, 4).t()
    xt = torch.arange(12.0).reshape(3, 4).t()
    with pytest.raises(RuntimeError) as ours:
        x.view(12)
    with pytest.raises(RuntimeError):
        xt.view(12)
    assert "view size is not compatible" in str(ours.value)
    assert_same(x.reshape(12), xt.reshape(12))
    assert_same(x.reshape(2, 6), xt.reshape(2, 6))
    assert x.reshape(4, 3)._data.base is not None  # same shape: still a view
    # a view that keeps the non-contiguous dimension apart works on both
    assert_same(x.unsqueeze(0).view(1, 4, 3), xt.unsqueeze(0).view(1, 4, 3))
    y = ag.arange(24.0).reshape(2, 3, 4).permute(1, 0, 2)
    yt = torch.arange(24.0).reshape(2, 3, 4).permute(1, 0, 2)
    assert_same(y.view(3, 2, 2, 2), yt.view(3, 2, 2, 2))
    assert_same(y.flatten(1), yt.flatten(1))


SHAPE_OPS = [
    ("cat dim1", lambda m, x: m.cat([x, x * 2], 1)),
    ("stack dim2", lambda m, x: m.stack([x, -x], 2)),
    ("split list", lambda m, x: m.cat([p * (i + 1) for i, p in enumerate(x.split([1, 2], 0))], 0)),
    ("chunk", lambda m, x: m.stack([p.sum() for p in x.chunk(3, 1)])),
    ("flip", lambda m, x: x.flip(0, 1)),
    ("repeat", lambda m, x: x.repeat(1, 2, 1)),
    ("expand", lambda m, x: x[:1].expand(2, 3, 4)),
    ("permute", lambda m, x: x.permute(1, 0)),
    ("transpose", lambda m, x: x.unsqueeze(0).transpose(0, 2)),
    ("squeeze", lambda m, x: x.unsqueeze(1).squeeze(1)),
    ("flatten", lambda m, x: x.unsqueeze(-1).flatten(0, 1)),
    ("unflatten", lambda m, x: x.unflatten(1, (2, 2))),
    ("view", lambda m, x: x.view(2, 6)),
    ("reshape -1", lambda m, x: x.t().reshape(-1, 3)),
    ("roll", lambda m, x: x.roll(1, 1)),
    ("narrow", lambda m, x: x.narrow(1, 1, 2)),
    ("unbind", lambda m, x: m.stack(x.unbind(1)[::-1])),
    ("movedim", lambda m, x: x.unsqueeze(0).movedim(0, 2)),
    ("broadcast_to", lambda m, x: x.broadcast_to(2, 3, 4)),
    ("hstack", lambda m, x: m.hstack([x, x])),
    ("vstack", lambda m, x: m.vstack([x, x[0]])),
]


@pytest.mark.parametrize("fn", [s[1] for s in SHAPE_OPS], ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(fn, device):
    x = np.random.default_rng(5).standard_normal((3, 4))
    xs = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = fn(ag, xs), fn(torch, xt)
    assert_same(ys, yt)
    w = np.random.default_rng(6).standard_normal(tuple(yt.shape))
    (ys * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(xs.grad, xt.grad)


def test_split_and_chunk_sizes():
    x, xt = ag.arange(10.0), torch.arange(10.0)
    for ours, theirs in [(x.split(3), xt.split(3)), (x.chunk(4), xt.chunk(4)), (x.chunk(3), xt.chunk(3)),
                         (x.split([2, 8]), xt.split([2, 8])), (x.tensor_split(3), xt.tensor_split(3))]:
        assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]
        for p, pt in zip(ours, theirs):
            assert_same(p, pt)


# ---- reductions with options ----------------------------------------------------------------------------
VAR_CALLS = [
    ("var()", lambda m, x: x.var()),
    ("var(unbiased=False)", lambda m, x: x.var(unbiased=False)),
    ("var(0, unbiased=True)", lambda m, x: m.var(x, 0, unbiased=True)),
    ("var(correction=0)", lambda m, x: x.var(correction=0)),
    ("var(1, correction=2, keepdim)", lambda m, x: x.var(1, correction=2, keepdim=True)),
    ("std()", lambda m, x: x.std()),
    ("std(1, unbiased=False)", lambda m, x: x.std(1, unbiased=False)),
    ("std(dim=(0, 1), correction=3)", lambda m, x: x.std(dim=(0, 1), correction=3)),
    ("var of one element", lambda m, x: x[:1, :1].var()),
    ("var correction > n", lambda m, x: x.var(0, correction=5)),
]


@pytest.mark.parametrize("fn", [v[1] for v in VAR_CALLS], ids=[v[0] for v in VAR_CALLS])
def test_var_std(fn, device):
    x = np.random.default_rng(7).standard_normal((3, 5))
    xs, xt = ag.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when the degrees of freedom are <= 0
        ys, yt = fn(ag, xs), fn(torch, xt)
    assert_same(ys, yt)
    ys.sum().backward()
    yt.sum().backward()
    assert_same(xs.grad, xt.grad)


NORMS = [1, 2, 3, 0.5, 0, float("inf"), float("-inf"), "fro"]


@pytest.mark.parametrize("p", NORMS, ids=str)
@pytest.mark.parametrize("dim", [None, 1, (0, 1)], ids=str)
def test_norm(p, dim, device):
    from op_cases import distinct
    x = distinct(3, 4)
    xs, xt = ag.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, yt = xs.norm(p, dim), xt.norm(p, dim)
    assert_same(ys, yt)
    assert _node(ys) == _node(yt)
    ys.sum().backward()
    yt.sum().backward()
    if xt.grad is None:  # p=0 counts nonzeros: PyTorch sends no gradient at all
        assert xs.grad is None
    else:
        assert_same(xs.grad, xt.grad)


def test_norm_of_zero_vector_has_zero_grad():
    for p in (2, 3):
        xs, xt = ag.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
        xs.norm(p).backward()
        xt.norm(p).backward()
        assert_same(xs.grad, xt.grad)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                                    ((2, 2, 3), (3,)), ((3,), (2, 3, 2)), ((2, 2, 3), (2, 3, 4)),
                                    ((2, 1, 2, 3), (2, 3, 2)), ((2, 3), (2, 3, 2)), ((2, 2, 3), (3, 2)),
                                    ((0, 3), (3, 2)), ((2, 0), (0, 3))], ids=str)
def test_matmul(shapes, device):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    sa, sb = (ag.tensor(v, device=device, requires_grad=True) for v in (a, b))
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    ys, yt = sa @ sb, ta @ tb
    assert_same(ys, yt, rtol=1e-10, atol=1e-12)
    assert _node(ys) == _node(yt)
    w = rng.standard_normal(tuple(yt.shape))
    (ys * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(sa.grad, ta.grad, rtol=1e-10, atol=1e-12)
    assert_same(sb.grad, tb.grad, rtol=1e-10, atol=1e-12)


# ---- error types ----------------------------------------------------------------------------------------
def _pair(m):
    x = m.arange(12.0).reshape(3, 4)
    return x, m.tensor([0, 1, 2, 3])


ERRORS = [
    ("add shape mismatch", lambda m, x, i: x + m.ones(3, 3)),
    ("mul shape mismatch", lambda m, x, i: x * m.ones(4, 4)),
    ("mm size mismatch", lambda m, x, i: m.mm(x, x)),
    ("matmul size mismatch", lambda m, x, i: x @ m.ones(3)),
    ("matmul 0-d", lambda m, x, i: m.matmul(x[0, 0], x)),
    ("bmm not 3-d", lambda m, x, i: m.bmm(x, x)),
    ("dot size mismatch", lambda m, x, i: m.dot(x[0], x[0, :3])),
    ("sum bad dim", lambda m, x, i: x.sum(2)),
    ("sum negative bad dim", lambda m, x, i: x.sum(-3)),
    ("softmax bad dim", lambda m, x, i: x.softmax(5)),
    ("transpose bad dim", lambda m, x, i: x.transpose(0, 2)),
    ("unsqueeze bad dim", lambda m, x, i: x.unsqueeze(3)),
    ("squeeze bad dim", lambda m, x, i: x.squeeze(4)),
    ("max bad dim", lambda m, x, i: x.max(2)),
    ("cat bad dim", lambda m, x, i: m.cat([x, x], 2)),
    ("stack bad dim", lambda m, x, i: m.stack([x, x], 4)),
    ("view on non-contiguous", lambda m, x, i: x.t().view(12)),
    ("view bad numel", lambda m, x, i: x.view(5, 2)),
    ("reshape bad numel", lambda m, x, i: x.reshape(7)),
    ("reshape two -1", lambda m, x, i: x.reshape(-1, -1)),
    ("permute wrong length", lambda m, x, i: x.permute(0)),
    ("permute repeated dim", lambda m, x, i: x.permute(0, 0)),
    ("expand bad size", lambda m, x, i: x.expand(3, 5)),
    ("expand fewer dims", lambda m, x, i: x.expand(4)),
    ("repeat fewer dims", lambda m, x, i: x.repeat(2)),
    ("cat shape mismatch", lambda m, x, i: m.cat([x, x[:, :2]], 0)),
    ("cat empty list", lambda m, x, i: m.cat([])),
    ("stack shape mismatch", lambda m, x, i: m.stack([x, x[:2]])),
    ("split sizes mismatch", lambda m, x, i: x.split([1, 1], 0)),
    ("index out of range", lambda m, x, i: x[3]),
    ("negative index out of range", lambda m, x, i: x[0, -5]),
    ("too many indices", lambda m, x, i: x[0, 0, 0]),
    ("tensor index out of range", lambda m, x, i: x[i]),
    ("float index tensor", lambda m, x, i: x[i.float()]),
    ("mask shape mismatch", lambda m, x, i: x[m.tensor([True, False])]),
    ("gather index out of range", lambda m, x, i: x.gather(1, m.tensor([[4]]))),
    ("gather index dtype", lambda m, x, i: x.gather(1, m.tensor([[0.0]]))),
    ("index_select out of range", lambda m, x, i: x.index_select(0, i)),
    ("index_select 2-d index", lambda m, x, i: x.index_select(0, i.view(2, 2))),
    ("select out of range", lambda m, x, i: x.select(1, 4)),
    ("narrow out of range", lambda m, x, i: x.narrow(1, 2, 3)),
    ("masked_fill non-bool mask", lambda m, x, i: x.masked_fill(i, 0.0)),
    ("masked_fill mask shape", lambda m, x, i: x.masked_fill(m.tensor([True, False]), 0.0)),
    ("where non-bool condition", lambda m, x, i: m.where(i, i, i)),
    ("neg of bool", lambda m, x, i: -(i > 1)),
    ("sub of bools", lambda m, x, i: (i > 1) - (i > 2)),
    ("int to negative int power", lambda m, x, i: i ** -1),
    ("mean of int", lambda m, x, i: i.mean()),
    ("var of int", lambda m, x, i: i.var()),
    ("requires_grad on int", lambda m, x, i: i.requires_grad_()),
    ("int tensor requires_grad", lambda m, x, i: m.tensor([1, 2], requires_grad=True)),
    ("backward non-scalar", lambda m, x, i: x.requires_grad_().mul(2).backward()),
    ("backward without grad", lambda m, x, i: x.sum().backward()),
    ("clamp no bounds", lambda m, x, i: x.clamp()),
    ("div bad rounding mode", lambda m, x, i: m.div(x, 2, rounding_mode="round")),
    ("len of 0-d", lambda m, x, i: len(x.sum())),
    ("item of many", lambda m, x, i: x.item()),
    ("bool of many", lambda m, x, i: bool(x)),
    ("chunk zero", lambda m, x, i: x.chunk(0)),
    ("flatten bad dims", lambda m, x, i: x.flatten(1, 0)),
    ("max of empty", lambda m, x, i: x[:0].max()),
    ("t of 3-d", lambda m, x, i: x.unsqueeze(0).t()),
    ("bitwise_not of float", lambda m, x, i: ~x),
    ("bitwise_and of floats", lambda m, x, i: x & x),
    ("softmax of int", lambda m, x, i: i.softmax(0)),
    ("log_softmax of int", lambda m, x, i: i.log_softmax(0)),
    ("gather dims mismatch", lambda m, x, i: x.gather(0, i)),
    ("scatter index out of range", lambda m, x, i: x.scatter(0, m.tensor([[5]]), 1.0)),
    ("index_put shape mismatch", lambda m, x, i: x.index_put((m.tensor([0, 1]),), m.ones(3))),
    ("where shape mismatch", lambda m, x, i: m.where(x > 1, x, m.ones(2))),
    ("maximum shape mismatch", lambda m, x, i: m.maximum(x, m.ones(5))),
    ("pow shape mismatch", lambda m, x, i: x ** m.ones(2)),
    ("mv size mismatch", lambda m, x, i: m.mv(x, m.ones(3))),
    ("matmul batch mismatch", lambda m, x, i: m.ones(2, 3, 4) @ m.ones(3, 4, 2)),
    ("prod bad dim", lambda m, x, i: x.prod(3)),
    ("var bad dim", lambda m, x, i: x.var(3)),
    ("norm bad p string", lambda m, x, i: x.norm("nuc", dim=0)),
    ("cumsum bad dim", lambda m, x, i: x.cumsum(2)),
    ("logsumexp bad dim", lambda m, x, i: x.logsumexp(2)),
    ("flip bad dim", lambda m, x, i: x.flip(2)),
    ("flip repeated dim", lambda m, x, i: x.flip(0, 0)),
    ("sum repeated dim", lambda m, x, i: x.sum((0, 0))),
    ("slice step zero", lambda m, x, i: x[::0]),
    ("negative slice step", lambda m, x, i: x[::-1]),
    ("addcmul shape mismatch", lambda m, x, i: m.addcmul(x, x, m.ones(3))),
    ("addcmul number tensor2", lambda m, x, i: m.addcmul(x, x, 2.0)),
    ("addcmul of bools", lambda m, x, i: m.addcmul(i > 1, i > 1, i > 1, value=True)),
    ("addcdiv of ints", lambda m, x, i: m.addcdiv(x, i, i)),
    ("diff of 0-d", lambda m, x, i: m.diff(x[0, 0])),
    ("diff negative n", lambda m, x, i: x.diff(n=-1)),
    ("diff bad dim", lambda m, x, i: x.diff(dim=2)),
    ("diff prepend ndim", lambda m, x, i: x.diff(prepend=i)),
    ("diff prepend number", lambda m, x, i: x.diff(prepend=1.0)),
    ("diff append shape", lambda m, x, i: x.diff(append=m.ones(2, 1))),
    ("dist of ints", lambda m, x, i: m.dist(i, i)),
    ("dist shape mismatch", lambda m, x, i: m.dist(x, m.ones(2))),
    ("dist number other", lambda m, x, i: m.dist(x, 2.0)),
    ("gcd of floats", lambda m, x, i: m.gcd(x, x)),
    ("gcd of bools", lambda m, x, i: m.gcd(i > 1, i > 1)),
    ("gcd number other", lambda m, x, i: m.gcd(i, 2)),
    ("lcm of floats", lambda m, x, i: i.lcm(x)),
    ("can_cast of a tensor", lambda m, x, i: m.can_cast(x, m.float32)),
    ("vdot 2-d", lambda m, x, i: m.vdot(x, x)),
    ("vdot size mismatch", lambda m, x, i: m.vdot(x[0], x[0, :3])),
    ("vdot dtype mismatch", lambda m, x, i: m.vdot(x[0], i)),
    ("addr 2-d vec1", lambda m, x, i: m.addr(x, x, i)),
    ("addr input shape", lambda m, x, i: m.addr(m.ones(5), i[:3], i)),
    ("addr int float alpha", lambda m, x, i: m.addr(i, i, i, alpha=0.5)),
    ("cov of 3-d", lambda m, x, i: m.cov(m.ones(2, 2, 2))),
    ("cov of bools", lambda m, x, i: m.cov(i > 1)),
    ("cov float fweights", lambda m, x, i: m.cov(x, fweights=x[0])),
    ("cov int aweights", lambda m, x, i: m.cov(x, aweights=i)),
    ("cov fweights numel", lambda m, x, i: m.cov(x, fweights=i[:2])),
    ("cov negative fweights", lambda m, x, i: m.cov(x, fweights=i - 1)),
    ("cov negative aweights", lambda m, x, i: m.cov(x, aweights=x[0] - 1)),
    ("cov weights sum to zero", lambda m, x, i: m.cov(x, fweights=i * 0)),
    ("corrcoef of 3-d", lambda m, x, i: m.corrcoef(m.ones(2, 2, 2))),
    ("trapezoid x size", lambda m, x, i: m.trapezoid(x, m.ones(3))),
    ("trapezoid of bools", lambda m, x, i: m.trapezoid(i > 1)),
    ("trapezoid x and dx", lambda m, x, i: m.trapezoid(x, x, dx=2)),
    ("trapezoid bad dim", lambda m, x, i: m.trapezoid(x, dim=2)),
    ("trapz number x", lambda m, x, i: m.trapz(x, 0.5)),
    ("renorm of 1-d", lambda m, x, i: m.renorm(x[0], 2, 0, 1)),
    ("renorm p <= 0", lambda m, x, i: x.renorm(0, 0, 1)),
    ("renorm negative maxnorm", lambda m, x, i: x.renorm(2, 0, -1)),
    ("renorm bad dim", lambda m, x, i: x.renorm(2, 2, 1)),
    ("renorm of ints", lambda m, x, i: m.renorm(i.view(2, 2), 2, 0, 1)),
    ("histc of ints", lambda m, x, i: m.histc(i, 2)),
    ("histc zero bins", lambda m, x, i: x.histc(0)),
    ("histc min above max", lambda m, x, i: x.histc(2, 3, 1)),
    ("histc range not finite", lambda m, x, i: m.histc(m.tensor([1.0, float("inf")]), 2)),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch, *_pair(torch))
    with pytest.raises(Exception) as ours:
        fn(ag, *_pair(ag))
    assert type(ours.value) is type(theirs.value), (
        f"ours raised {type(ours.value).__name__}: {ours.value}; torch raised {type(theirs.value).__name__}: "
        f"{theirs.value}")
    assert str(ours.value), "the error needs a message"


@pytest.mark.parametrize("p", [0.5, 1.5, 2, 3])
def test_norm_grad_at_zero_elements(p):
    x = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 0.0]])
    xs, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    xs.norm(p, dim=1).sum().backward()
    xt.norm(p, dim=1).sum().backward()
    assert_same(xs.grad, xt.grad)


@pytest.mark.parametrize("x", [[[0, 1], [2, 0]], [0.0, 0.5, -1.0], 3.0, 0, [[True, False]], [[]]])
def test_argwhere_matches_torch(x, device):
    ours, theirs = ag.argwhere(ag.tensor(x, device=device)), torch.argwhere(torch.tensor(x))
    assert ours.dtype == ag.int64 and ours.device.type == ("cpu" if device == "cpu" else "cuda")
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.cpu().numpy(), theirs.numpy())
    np.testing.assert_array_equal(ag.tensor(x, device=device).argwhere().cpu().numpy(), theirs.numpy())


_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")


@pytest.mark.parametrize("a", _DTYPES)
def test_can_cast_matches_torch(a):
    for b in _DTYPES:
        assert ag.can_cast(getattr(ag, a), getattr(ag, b)) == torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


@pytest.mark.parametrize("a,b", [(lambda m: m.tensor([1]), 1.0), (lambda m: m.tensor([1], dtype=m.int32), 5),
                                 (lambda m: m.tensor(1.0, dtype=m.float64), lambda m: m.tensor([1], dtype=m.int32)),
                                 (2, 3.0), (True, 2), (lambda m: m.tensor([True]), lambda m: m.tensor(2, dtype=m.int8)),
                                 (lambda m: m.tensor([1.0], dtype=m.float16), lambda m: m.tensor([1.0],
                                                                                              dtype=m.bfloat16))])
def test_result_type_matches_torch(a, b):
    def make(v, m):
        return v(m) if callable(v) else v
    assert str(ag.result_type(make(a, ag), make(b, ag))) == str(torch.result_type(make(a, torch), make(b, torch)))


def test_cov_weighted_without_degrees_of_freedom_warns_and_divides_by_zero_as_torch():
    x, f = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), np.array([1, 2, 0])
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        ours = ag.cov(ag.tensor(x), fweights=ag.tensor(f), correction=5)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        theirs = torch.cov(torch.tensor(x), fweights=torch.tensor(f), correction=5)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())

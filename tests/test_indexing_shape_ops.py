"""Issue 11, scatter, gather and shape: PyTorch parity of the cases that op_cases' table cannot state (mixed
integer and tensor indices with their setitem, multiple ellipses, nonzero of a 0-d tensor, roll and pad edge
cases) and the error types of the new ops, on both devices."""
import contextlib

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from op_cases import to_numpy
from test_ops_parity import _node, _on, assert_same

# ---- indexing: PyTorch applies integer indices (and 0-d integer tensors) first, as selects ------------------
MIXED = [
    ("int, slice, 2-d tensor", lambda m, x: x[1, :, m.tensor([[0, 1]])]),
    ("tensor, slice, int", lambda m, x: x[m.tensor([0, 1]), :, 1]),
    ("int, tensor, slice", lambda m, x: x[1, m.tensor([0, 1]), :]),
    ("slice, int, tensor", lambda m, x: x[:, 1, m.tensor([0, 1])]),
    ("None, int, slice, tensor", lambda m, x: x[None, 1, :, m.tensor([0, 2])]),
    ("int, ellipsis, tensor", lambda m, x: x[1, ..., m.tensor([0, 2])]),
    ("tensor, ellipsis, int", lambda m, x: x[m.tensor([0, 1]), ..., 1]),
    ("tensor, None, tensor", lambda m, x: x[m.tensor([0, 1]), None, m.tensor([0, 1])]),
    ("int, slice, mask", lambda m, x: x[1, :, m.tensor([True, False, True, False, False, False])]),
    ("int, slice, list", lambda m, x: x[1, :, [0, 1]]),
    ("tensor, int, tensor", lambda m, x: x[m.tensor([0, 1]), 1, m.tensor([0, 1])]),
    ("negative int, partial slice, tensor", lambda m, x: x[-1, 1:3, m.tensor([[0, 1]])]),
    ("0-d tensor, slice, tensor", lambda m, x: x[m.tensor(1), :, m.tensor([[0, 1]])]),
    ("0-d tensors", lambda m, x: x[m.tensor(1), :, m.tensor(0)]),
    ("0-d tensor", lambda m, x: x[m.tensor(1)]),
    ("two ellipses", lambda m, x: x[..., ...]),
    ("ellipsis, int, ellipsis", lambda m, x: x[..., 0, ...]),
    ("ellipsis, None, ellipsis", lambda m, x: x[..., None, ...]),
    ("ellipsis, tensor, ellipsis", lambda m, x: x[..., m.tensor([0, 1]), ...]),
    ("tensor, ellipsis, tensor", lambda m, x: x[m.tensor([0, 1]), ..., m.tensor([[0], [5]])]),
    ("zero-width ellipsis between tensors", lambda m, x: x[m.tensor([0, 1]), :, ..., m.tensor([[0], [5]])]),
    ("ellipsis, step slice, ellipsis, full slice", lambda m, x: x[..., ::2, ..., :]),
    ("int, ellipsis, tensor, ellipsis", lambda m, x: x[0, ..., m.tensor([1, 1]), ...]),
    ("True", lambda m, x: x[True]),
    ("False", lambda m, x: x[False]),
    ("True, tensor", lambda m, x: x[True, m.tensor([1, 0])]),
    ("0-d bool tensor", lambda m, x: x[m.tensor(True)]),
    ("slice, 0-d bool tensor, tensor", lambda m, x: x[1:, m.tensor(True), m.tensor([[0], [4]])]),
    ("int, True, slice, tensor", lambda m, x: x[1, True, :, m.tensor([0, 1])]),
]


def _run(fn, m, x, device):
    return (fn if m is torch or device == "cpu" else _on(device, fn))(m, x)


@pytest.mark.parametrize("fn", [c[1] for c in MIXED], ids=[c[0] for c in MIXED])
def test_mixed_indices(fn, device):
    x = np.random.default_rng(0).standard_normal((2, 5, 6))
    xs = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = _run(fn, ag, xs, device), fn(torch, xt)
    assert_same(ys, yt)
    assert _node(ys) == _node(yt)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (ys * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(xs.grad, xt.grad)


@pytest.mark.parametrize("fn", [c[1] for c in MIXED], ids=[c[0] for c in MIXED])
def test_mixed_indices_setitem(fn, device):
    """x[idx] = v writes where x[idx] reads, with v of the read's shape; gradients to x and v as PyTorch's."""
    x = np.random.default_rng(2).standard_normal((2, 5, 6))
    outs = []
    for m in (ag, torch):
        dev = device if m is ag else "cpu"
        base = m.tensor(x, device=dev, requires_grad=True)
        shape = tuple(_run(fn, m, base, device).shape)
        v = m.tensor(np.random.default_rng(3).standard_normal(shape), device=dev, requires_grad=True)
        y = base * 1
        index = _index_of(fn, m, device)
        y[index] = v
        w = m.tensor(np.random.default_rng(4).standard_normal(x.shape), device=dev)
        (y * w).sum().backward()
        outs.append((y, _node(y), base.grad, v.grad))
    (ys, ns, gxs, gvs), (yt, nt, gxt, gvt) = outs
    assert_same(ys, yt)
    assert ns == nt
    assert_same(gxs, gxt)
    if gvt is None:  # (a False index writes nothing)
        assert gvs is None
    else:
        assert_same(gvs, gvt)


def _index_of(fn, m, device):
    """The index `fn` applies (fn(m, x) is x[index])."""
    class Grab:
        def __getitem__(self, index):
            return index
    return _run(fn, m, Grab(), device)


def test_nonzero_of_0d(device):
    for v in (3.0, 0.0):
        ours, theirs = ag.tensor(v, device=device), torch.tensor(v)
        assert_same(ours.nonzero(), theirs.nonzero())
        assert_same(ag.nonzero(ours, as_tuple=True)[0], torch.nonzero(theirs, as_tuple=True)[0])
        assert len(ours.nonzero(as_tuple=True)) == 1


ROLLS = [
    ("flattened", lambda m, x: x.roll(2)),
    ("flattened tuple", lambda m, x: x.roll((1,))),
    ("dims", lambda m, x: x.roll((1, -2), (-1, 0))),
    ("repeated dim", lambda m, x: x.roll((1, 2), (1, 1))),
    ("0-d", lambda m, x: x.sum().roll(1)),
    ("pad circular negative", lambda m, x: m.nn.functional.pad(x, (-1, 2), mode="circular")),
    ("pad circular crop both", lambda m, x: m.nn.functional.pad(x, (2, -1, -1, 1), mode="circular")),
    ("pad circular crop only", lambda m, x: m.nn.functional.pad(x, (-2, -1), mode="circular")),
    ("pad circular wide", lambda m, x: m.nn.functional.pad(x, (-4, 1, 1, 1), mode="circular")),
]


@pytest.mark.parametrize("fn", [c[1] for c in ROLLS], ids=[c[0] for c in ROLLS])
def test_roll_and_circular_pad(fn, device):
    x = np.random.default_rng(5).standard_normal((2, 5, 6))
    xs = ag.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = fn(ag, xs), fn(torch, xt)
    assert_same(ys, yt)
    w = np.random.default_rng(6).standard_normal(tuple(yt.shape))
    (ys * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(xs.grad, xt.grad)


# ---- error types ------------------------------------------------------------------------------------------
ERRORS = [
    ("roll shifts and dims do not align", lambda m, x: x.roll((1, 2), (0,))),
    ("roll one shift two dims", lambda m, x: x.roll(1, (0, 1))),
    ("roll tuple shifts without dims", lambda m, x: x.roll((1, 2))),
    ("roll no shifts", lambda m, x: x.roll(())),
    ("roll 0-d with dim", lambda m, x: x.sum().roll(1, 0)),
    ("roll bad dim", lambda m, x: x.roll(1, 3)),
    ("pad circular wraps twice", lambda m, x: m.nn.functional.pad(x, (7, 0), mode="circular")),
    ("index past the dims after a second ellipsis", lambda m, x: x[..., ..., 1:]),
    ("None past the dims after a second ellipsis", lambda m, x: x[..., ..., None]),
    ("tensor past the dims after a second ellipsis", lambda m, x: x[..., 0, ..., _i(m, [0])]),
    # scatter and gather
    ("scatter_reduce bad reduce", lambda m, x: x.scatter_reduce(0, _i(m, [[0]]), x, "median")),
    ("scatter_reduce dtype", lambda m, x: x.scatter_reduce(0, _i(m, [[0]]), x.float(), "sum")),
    ("scatter_reduce float index", lambda m, x: x.scatter_reduce(0, _i(m, [[0]]).double(), x, "sum")),
    ("scatter_reduce index out of range", lambda m, x: x.scatter_reduce(0, _i(m, [[[2]]]), x, "sum")),
    ("scatter_reduce negative index", lambda m, x: x.scatter_reduce(0, _i(m, [[[-1]]]), x, "prod")),
    ("scatter_reduce src too small", lambda m, x: x.scatter_reduce(0, _i(m, [[[0, 1]]]), x[:, :, :1], "sum")),
    ("gather negative index", lambda m, x: x.gather(2, _i(m, [[[-1]]]))),
    ("index_select negative index", lambda m, x: x.index_select(2, _i(m, [-1]))),
    ("scatter bad reduce", lambda m, x: x.scatter(0, _i(m, [[[0]]]), x, reduce="max")),
    ("index_add dtype", lambda m, x: x.index_add(0, _i(m, [0]), x[:1].float())),
    ("index_add count", lambda m, x: x.index_add(0, _i(m, [0, 1]), x[:1])),
    ("index_add out of range", lambda m, x: x.index_add(0, _i(m, [2]), x[:1])),
    ("index_add negative", lambda m, x: x.index_add(0, _i(m, [-1]), x[:1])),
    ("index_add float index", lambda m, x: x.index_add(0, _i(m, [0]).double(), x[:1])),
    ("index_add 2-d index", lambda m, x: x.index_add(0, _i(m, [[0]]), x[:1])),
    ("index_copy out of range", lambda m, x: x.index_copy(1, _i(m, [5]), x[:, :1])),
    ("index_copy count", lambda m, x: x.index_copy(1, _i(m, [0, 1]), x[:, :1])),
    ("index_copy int32 index", lambda m, x: x.index_copy(1, _i(m, [0]).int(), x[:, :1])),
    ("index_fill out of range", lambda m, x: x.index_fill(2, _i(m, [6]), 1.0)),
    ("index_fill 1-d value", lambda m, x: x.index_fill(2, _i(m, [0]), x[0, 0, :1])),
    ("index_fill int32 index", lambda m, x: x.index_fill(2, _i(m, [0]).int(), 1.0)),
    ("index_reduce sum", lambda m, x: x.index_reduce(0, _i(m, [0]), x[:1], "sum")),
    ("index_reduce out of range", lambda m, x: x.index_reduce(0, _i(m, [2]), x[:1], "prod")),
    ("index_reduce negative", lambda m, x: x.index_reduce(0, _i(m, [-1]), x[:1], "amax")),
    ("masked_scatter short source", lambda m, x: x.masked_scatter(x > 10, x[0, 0])),
    ("masked_scatter int mask", lambda m, x: x.masked_scatter((x > 10).int(), x)),
    ("masked_scatter dtype", lambda m, x: x.masked_scatter(x > 10, x.float())),
    ("take out of range", lambda m, x: x.take(_i(m, [60]))),
    ("take negative out of range", lambda m, x: x.take(_i(m, [-61]))),
    ("take float index", lambda m, x: x.take(_i(m, [0]).double())),
    ("take int32 index", lambda m, x: x.take(_i(m, [0]).int())),
    ("put count", lambda m, x: x.put(_i(m, [0, 1]), x[0, 0, :1])),
    ("put out of range", lambda m, x: x.put(_i(m, [60]), x[0, 0, :1])),
    ("put dtype", lambda m, x: x.put(_i(m, [0]), x[0, 0, :1].float())),
    ("take_along_dim float index", lambda m, x: m.take_along_dim(x, _i(m, [[[0]]]).double(), 1)),
    ("take_along_dim dims", lambda m, x: m.take_along_dim(x, _i(m, [0]), 1)),
    # shape
    ("unfold size too big", lambda m, x: x.unfold(1, 6, 1)),
    ("unfold step 0", lambda m, x: x.unfold(1, 2, 0)),
    ("unfold bad dim", lambda m, x: x.unfold(3, 1, 1)),
    ("unfold 0-d size 2", lambda m, x: x.sum().unfold(0, 2, 1)),
    ("repeat_interleave negative", lambda m, x: x.repeat_interleave(-1)),
    ("repeat_interleave negative tensor", lambda m, x: x.repeat_interleave(_i(m, [1, -1]), dim=0)),
    ("repeat_interleave length", lambda m, x: x.repeat_interleave(_i(m, [1, 2, 3]), dim=0)),
    ("repeat_interleave 2-d repeats", lambda m, x: x.repeat_interleave(_i(m, [[1, 2]]), dim=0)),
    ("repeat_interleave output_size", lambda m, x: x.repeat_interleave(_i(m, [1, 2]), dim=0, output_size=4)),
    ("repeat_interleave int output_size", lambda m, x: x.repeat_interleave(2, dim=0, output_size=3)),
    ("repeat_interleave float repeats", lambda m, x: x.repeat_interleave(_i(m, [1, 2]).double(), dim=0)),
    ("rot90 same dims", lambda m, x: m.rot90(x, 1, [0, -3])),
    ("rot90 one dim", lambda m, x: m.rot90(x, 1, [0])),
    ("rot90 1-d", lambda m, x: m.rot90(x[0, 0])),
    ("rot90 bad dim", lambda m, x: m.rot90(x, 1, [0, 3])),
    ("rot90 float k", lambda m, x: m.rot90(x, 1.5)),
    ("movedim repeated source", lambda m, x: x.movedim((0, 0), (0, 1))),
    ("movedim repeated destination", lambda m, x: x.movedim((0, 1), (1, 1))),
    ("movedim lengths", lambda m, x: x.movedim((0, 1), (0,))),
    ("movedim bad dim", lambda m, x: x.movedim(3, 0)),
    ("tensor_split float tensor", lambda m, x: x.tensor_split(_i(m, [1]).double(), 1)),
    ("tensor_split 2-d tensor", lambda m, x: x.tensor_split(_i(m, [[1]]), 1)),
    ("tensor_split 0 sections", lambda m, x: x.tensor_split(0)),
    ("tensor_split 0-d", lambda m, x: x.sum().tensor_split(1)),
    ("hsplit not divisible", lambda m, x: x.hsplit(4)),
    ("hsplit 0-d", lambda m, x: x.sum().hsplit(1)),
    ("hsplit float", lambda m, x: x.hsplit(1.5)),
    ("vsplit 1-d", lambda m, x: m.vsplit(x[0, 0], 2)),
    ("dsplit 2-d", lambda m, x: x[0].dsplit(2)),
    ("dsplit not divisible", lambda m, x: x.dsplit(4)),
    ("hstack empty", lambda m, x: m.hstack([])),
    ("vstack empty", lambda m, x: m.vstack([])),
    ("dstack empty", lambda m, x: m.dstack([])),
    ("column_stack empty", lambda m, x: m.column_stack([])),
    ("view dtype size", lambda m, x: x[..., :5].contiguous().float().view(m.float64)),
    ("view dtype stride", lambda m, x: x.transpose(1, 2).view(m.float32)),
    ("view dtype 0-d", lambda m, x: x.sum().view(m.float32)),
    ("view dtype storage offset", lambda m, x: x.float()[..., 1:3].view(m.float64)),
]


def _i(m, values):
    return m.tensor(values)


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn, device):
    x = np.arange(60.0).reshape(2, 5, 6)
    with pytest.raises(Exception) as theirs:
        fn(torch, torch.tensor(x))
    with pytest.raises(Exception) as ours:
        fn(ag, ag.tensor(x, device=device)) if device == "cpu" else _on_device(fn, device)(ag, x)
        ag.cuda.synchronize() if device != "cpu" else None  # (a GPU index is checked by a synchronising call)
    assert type(ours.value) is type(theirs.value), (
        f"ours raised {type(ours.value).__name__}: {ours.value}; torch raised {type(theirs.value).__name__}: "
        f"{theirs.value}")
    assert str(ours.value), "the error needs a message"


# ---- scatter(..., reduce=): PyTorch records a node (NotImplemented) whose backward raises ----------------
LEGACY = [
    ("add", lambda m, x, i, s: x.scatter(0, i, s, reduce="add")),
    ("multiply", lambda m, x, i, s: x.scatter(0, i, s, reduce="multiply")),
    ("value add", lambda m, x, i, s: x.scatter(1, i, 1.5, reduce="add")),
    ("value multiply in place", lambda m, x, i, s: (x * 1).scatter_(0, i, -2.0, reduce="multiply")),
]


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("fn", [c[1] for c in LEGACY], ids=[c[0] for c in LEGACY])
def test_scatter_legacy_reduce(fn, device):
    rng = np.random.default_rng(7)
    x, s = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    i = np.array([[0, 1, 2, 0], [1, 1, 0, 2]])
    outs = []
    for m in (ag, torch):
        dev = device if m is ag else "cpu"
        y = fn(m, m.tensor(x, device=dev, requires_grad=True), m.tensor(i, device=dev),
               m.tensor(s, device=dev, requires_grad=True))
        with pytest.raises(RuntimeError) as err:
            y.sum().backward()
        outs.append((y, _node(y), y.requires_grad, type(err.value)))
    assert_same(outs[0][0], outs[1][0])
    assert outs[0][1:] == outs[1][1:]


def _on_device(fn, device):
    """fn with m.tensor creating its tensors on `device`."""
    return lambda m, x: _on(device, fn)(m, ag.tensor(x, device=device))


# ---- the GPU paths do not synchronise with the host ---------------------------------------------------
NO_SYNC = [
    ("scatter_reduce prod", lambda m, x, s: x.scatter_reduce(0, _i(m, [[0, 1, 2, 0], [1, 1, 0, 2]]), s, "prod")),
    ("scatter_reduce amax", lambda m, x, s: x.scatter_reduce(1, _i(m, [[0, 0], [3, 1], [3, 3]]), s.t()[:3], "amax",
                                                             include_self=False)),
    ("index_reduce amin", lambda m, x, s: x.index_reduce(0, _i(m, [2, 2]), s, "amin")),
    ("index_reduce mean", lambda m, x, s: x.index_reduce(1, _i(m, [0, 3, 0, 0]), x * 2, "mean")),
    ("masked_scatter", lambda m, x, s: x.masked_scatter(x > 0, s)),
    ("take and put", lambda m, x, s: x.take(_i(m, [0, 5, 5, -1])).sum() + x.put(_i(m, [1, 1]), s[0, :2], True)),
    ("repeat_interleave output_size", lambda m, x, s: x.repeat_interleave(_i(m, [2, 0, 1]), dim=0, output_size=3)),
    ("unfold", lambda m, x, s: x.unfold(1, 2, 1)),
    ("index_add, index_copy, index_fill",
     lambda m, x, s: x.index_add(0, _i(m, [1, 1]), s) + x.index_copy(0, _i(m, [2, 0]), s) + x.index_fill(1, _i(m, [0]), 2)),
]


@pytest.mark.parametrize("fn", [c[1] for c in NO_SYNC], ids=[c[0] for c in NO_SYNC])
def test_gpu_path_does_not_synchronise(fn):
    from autograd_gpu import _device
    cupy = _device.cupy()
    sync_free = getattr(cupy, "no_host_sync", None)  # (the stand-in counts transfers; a real GPU cannot)
    rng = np.random.default_rng(8)
    x, s = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    xs, ss = (ag.tensor(a, device="cuda", requires_grad=True) for a in (x, s))

    class OnGpu:
        def __getattr__(self, name):
            return getattr(ag, name)

        @staticmethod
        def tensor(v):
            return ag.tensor(v, device="cuda")
    m = OnGpu()
    fn(m, xs, ss)  # (warm-up: index checks flagged on the device, raised by the next synchronising call)
    with sync_free() if sync_free else contextlib.nullcontext():
        y = fn(m, xs, ss)
        gx, gs = ag.autograd.grad(y.sum(), (xs, ss), allow_unused=True)
    xt, st = (torch.tensor(a, requires_grad=True) for a in (x, s))
    yt = fn(torch, xt, st)
    gxt, gst = torch.autograd.grad(yt.sum(), (xt, st), allow_unused=True)
    assert_same(y, yt)
    for g, gt, like in ((gx, gxt, xt), (gs, gst, st)):
        assert_same(ag.zeros(tuple(like.shape), dtype=ag.float64) if g is None else g, torch.zeros_like(like) if gt is None else gt)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax"])
def test_scatter_reduce_src_larger_than_index(reduce, device):
    """Only src's leading index-shaped block is read (as in PyTorch, whose backward then refuses the shape):
    the rest of src gets a zero gradient; checked against finite differences, to second order."""
    rng = np.random.default_rng(9)
    x = ag.tensor(rng.uniform(0.5, 1.5, (3, 4)), device=device, requires_grad=True)
    s = ag.tensor(rng.uniform(0.5, 1.5, (3, 5)), device=device, requires_grad=True)
    i = ag.tensor([[0, 1, 2, 0], [1, 1, 0, 2]], device=device)
    fn = lambda x, s: x.scatter_reduce(0, i, s, reduce)  # noqa: E731
    assert ag.autograd.gradcheck(fn, (x, s))
    assert ag.autograd.gradgradcheck(fn, (x, s))
    g = ag.autograd.grad(fn(x, s).sum(), s)[0]
    assert np.all(to_numpy(g)[2:] == 0) and np.all(to_numpy(g)[:, 4:] == 0)


@pytest.mark.parametrize("reduce", ["prod", "amax", "amin", "sum"])
def test_gpu_reduce_at_matches_numpy_ufunc_at(reduce):
    """The GPU's segmented scan (CuPy has no multiply.at) against numpy's ufunc.at, many repeated targets."""
    from autograd_gpu import _device
    from autograd_gpu.ops.indexing import reduce_at
    cp = _device.cupy()
    rng = np.random.default_rng(10)
    for shape, n in (((3, 7), 500), ((1, 1), 33), ((4, 5), 0), ((2, 9), 1)):
        idx = tuple(rng.integers(0, s, n) for s in shape)
        for dt in (np.float64, np.float32, np.int64):
            v = rng.integers(-3, 4, n) if dt == np.int64 else 1 + 0.01 * rng.standard_normal(n)
            v = v.astype(dt)
            out = rng.integers(-5, 5, shape).astype(dt)
            ref = out.copy()
            reduce_at(np, ref, idx, v, reduce)
            with cp.cuda.Device(0):
                got = cp.asarray(out)
                reduce_at(cp, got, tuple(cp.asarray(i) for i in idx), cp.asarray(v), reduce)
                got = cp.asnumpy(got)
            np.testing.assert_allclose(got, ref, rtol=1e-5, err_msg=f"{shape} {n} {dt}")

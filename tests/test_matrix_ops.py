"""Matrix ops (ops/matrix.py) beyond the table cases: diagonal as a view (writes through it reach the base,
autograd through in-place writes), in-place tril_/triu_/addmv_/baddbmm_/addbmm_, tril/triu_indices, einsum
equations against torch (values and gradients), and PyTorch's error types for bad inputs."""
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag


def _same(ours, theirs, rtol=1e-6, atol=1e-8):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def test_diagonal_is_a_view(device):
    x = ag.tensor(np.arange(12.0).reshape(3, 4), device=device)
    d = x.diagonal(1)
    assert d._base is x and d._version == x._version
    np.testing.assert_array_equal(d.cpu().numpy(), [1.0, 6.0, 11.0])


def test_writes_through_diagonal_reach_the_base():
    # (CPU: the CuPy stand-in's diagonal is numpy's read-only one; real CuPy's, like PyTorch's, is writable)
    for m in (ag, torch):
        x = m.ones(3, 3)
        x.diagonal().zero_()
        assert x.sum().item() == 6.0
    a = np.arange(9.0).reshape(3, 3)
    ours, theirs = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for m, leaf in ((ag, ours), (torch, theirs)):
        y = leaf * 2
        y.diagonal().mul_(3)
        (y * m.arange(9.0, dtype=m.float64).reshape(3, 3)).sum().backward()
    _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("name,args", [("tril_", ()), ("tril_", (1,)), ("triu_", (-1,)), ("triu_", ())])
def test_inplace_triangles(device, name, args):
    a = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = ag.tensor(a, requires_grad=True, device=device), torch.tensor(a, requires_grad=True)
    ys = []
    for m, leaf in ((ag, ours), (torch, theirs)):
        y = leaf * 1
        assert getattr(y, name)(*args) is y
        ys.append(y)
        (y * y).sum().backward()
    _same(ys[0], ys[1])
    assert type(ys[0].grad_fn).__name__ == type(ys[1].grad_fn).__name__
    _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("call", [
    lambda c, a, b, v: c[0][:, 0].clone().addmv_(a[0], v, beta=2, alpha=0.5),
    lambda c, a, b, v: c.clone().baddbmm_(a, b, alpha=-1),
    lambda c, a, b, v: c[0].clone().addbmm_(a, b, beta=0.5),
])
def test_inplace_products(device, call):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((2, 3, 5), (2, 3, 4), (2, 4, 5), (4,))]
    ours = call(*[ag.tensor(x, device=device) for x in arrays])
    _same(ours, call(*[torch.tensor(x) for x in arrays]), rtol=1e-10)


@pytest.mark.parametrize("args", [(3, 3), (4, 3, 1), (3, 5, -2), (0, 3), (3, 3, 10), (3, 3, -10)])
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
def test_tri_indices(device, name, args):
    ours = getattr(ag, name)(*args, device=device)
    _same(ours, getattr(torch, name)(*args))
    assert ours.device.type == device
    assert getattr(ag, name)(3, 3, dtype=ag.int32).dtype == ag.int32


EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk->ki", [(3, 4), (4, 5)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("ij->", [(3, 4)]), ("ij->i", [(3, 4)]), ("i,j->ij", [(3,), (4,)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij->...ji", [(2, 3, 4)]), ("...j,j->...", [(2, 3, 4), (4,)]), ("ij,ij->", [(3, 4), (3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("iij->j", [(3, 3, 2)]), ("ij,jk->ik", [(3, 1), (4, 5)]),
    ("bij,bjk->ibk", [(2, 3, 4), (2, 4, 5)]), ("ab,cd->", [(2, 3), (4, 5)]), ("ii,ij->j", [(3, 3), (3, 2)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]), ("Ab,ba", [(2, 3), (3, 2)]), ("i j , j k -> i k", [(2, 3), (3, 2)]),
    ("...->...", [(2, 3)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("bi,bi->b", [(1, 3), (4, 3)]),
    ("ij...,j...->i...", [(2, 3, 4), (3, 4)]), ("ijk->kji", [(2, 3, 4)]), ("i,i,i->", [(3,), (3,), (3,)]),
]


@pytest.mark.parametrize("eq,shapes", EQUATIONS, ids=[e[0] for e in EQUATIONS])
def test_einsum_against_torch(device, eq, shapes):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [ag.tensor(a, requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, t = ag.einsum(eq, *ours), torch.einsum(eq, *theirs)
    _same(y, t, rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(tuple(t.shape))
    gs = ag.autograd.grad((y * ag.tensor(w, device=device)).sum(), ours)
    tgs = torch.autograd.grad((t * torch.tensor(w)).sum(), theirs)
    for g, tg in zip(gs, tgs):
        _same(g, tg, rtol=1e-10, atol=1e-12)


def test_einsum_takes_a_list_of_operands():
    a = np.arange(6.0).reshape(2, 3)
    _same(ag.einsum("ij->j", [ag.tensor(a)]), torch.einsum("ij->j", [torch.tensor(a)]))


def test_meshgrid_default_indexing_warns_like_torch():
    with pytest.warns(UserWarning, match="indexing"):
        ag.meshgrid(ag.ones(2), ag.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ag.meshgrid(ag.ones(2), ag.ones(3), indexing="xy")


def _o(*s):
    return lambda m: m.ones(*s)


ERRORS = [
    ("tril 1-d", lambda m: m.tril(m.ones(3))),
    ("triu 0-d", lambda m: m.ones(()).triu()),
    ("diag 3-d", lambda m: m.diag(m.ones(2, 2, 2))),
    ("diagonal same dims", lambda m: m.ones(3, 3).diagonal(0, 1, 1)),
    ("diagonal bad dim", lambda m: m.ones(3, 3).diagonal(0, 0, 2)),
    ("diag_embed same dims", lambda m: m.diag_embed(m.ones(2, 2), 0, 1, 1)),
    ("diag_embed bad dim", lambda m: m.diag_embed(m.ones(2, 2), 0, 0, 3)),
    ("trace 1-d", lambda m: m.trace(m.ones(3))),
    ("outer 2-d", lambda m: m.outer(m.ones(2, 2), m.ones(2))),
    ("cross length 4", lambda m: m.cross(m.ones(4), m.ones(4), dim=0)),
    ("cross bad dim", lambda m: m.cross(m.ones(3), m.ones(3), dim=1)),
    ("tensordot size mismatch", lambda m: m.tensordot(m.ones(3, 4), m.ones(5, 4), dims=([1], [0]))),
    ("tensordot dims too large", lambda m: m.tensordot(m.ones(3, 4), m.ones(3, 4), dims=3)),
    ("tensordot negative dims", lambda m: m.tensordot(m.ones(3, 4), m.ones(3, 4), dims=-1)),
    ("inner last dims", lambda m: m.inner(m.ones(3, 4), m.ones(3))),
    ("addmv vec size", lambda m: m.addmv(m.ones(3), m.ones(3, 4), m.ones(5))),
    ("addmv 3-d mat", lambda m: m.addmv(m.ones(3), m.ones(3, 4, 1), m.ones(4))),
    ("addmv input size", lambda m: m.addmv(m.ones(2), m.ones(3, 4), m.ones(4))),
    ("baddbmm batch2 size", lambda m: m.baddbmm(m.ones(2, 3, 5), m.ones(2, 3, 4), m.ones(2, 5, 5))),
    ("baddbmm 2-d batch1", lambda m: m.baddbmm(m.ones(2, 3, 5), m.ones(3, 4), m.ones(2, 4, 5))),
    ("baddbmm input size", lambda m: m.baddbmm(m.ones(2, 2, 5), m.ones(2, 3, 4), m.ones(2, 4, 5))),
    ("addbmm batch count", lambda m: m.addbmm(m.ones(3, 5), m.ones(2, 3, 4), m.ones(3, 4, 5))),
    ("addbmm sizes", lambda m: m.addbmm(m.ones(3, 5), m.ones(2, 3, 4), m.ones(2, 5, 5))),
    ("addbmm input size", lambda m: m.addbmm(m.ones(4, 5), m.ones(2, 3, 4), m.ones(2, 4, 5))),
    ("chain_matmul sizes", lambda m: m.chain_matmul(m.ones(2, 3), m.ones(4, 2))),
    ("chain_matmul 1-d", lambda m: m.chain_matmul(m.ones(2, 3), m.ones(3))),
    ("chain_matmul none", lambda m: m.chain_matmul()),
    ("meshgrid 2-d", lambda m: m.meshgrid(m.ones(2, 2), indexing="ij")),
    ("meshgrid bad indexing", lambda m: m.meshgrid(m.ones(2), indexing="ab")),
    ("cartesian_prod 2-d", lambda m: m.cartesian_prod(m.ones(2, 2))),
    ("block_diag 3-d", lambda m: m.block_diag(m.ones(2, 2, 2))),
    ("cdist 1-d", lambda m: m.cdist(m.ones(3), m.ones(3))),
    ("cdist columns", lambda m: m.cdist(m.ones(3, 2), m.ones(3, 3))),
    ("cdist negative p", lambda m: m.cdist(m.ones(3, 2), m.ones(3, 2), p=-1)),
    ("cdist batch mismatch", lambda m: m.cdist(m.ones(2, 3, 2), m.ones(3, 3, 2))),
    ("cdist int", lambda m: m.cdist(m.ones(2, 2, dtype=m.int64), m.ones(2, 2, dtype=m.int64))),
    ("cdist bad compute_mode", lambda m: m.cdist(m.ones(3, 2), m.ones(3, 2), compute_mode="x")),
    ("kron scalar", lambda m: m.kron(m.ones(2), 3)),
    ("tril_indices negative", lambda m: m.tril_indices(-1, 3)),
    ("triu_indices float", lambda m: m.triu_indices(3, 3, dtype=m.float32)),
    ("einsum fewer operands", lambda m: m.einsum("ij,jk->ik", m.ones(2, 2))),
    ("einsum more operands", lambda m: m.einsum("ij", m.ones(2, 2), m.ones(2, 2))),
    ("einsum unknown output", lambda m: m.einsum("ij->ik", m.ones(2, 2))),
    ("einsum subscripts count", lambda m: m.einsum("i->i", m.ones(2, 2))),
    ("einsum repeated output", lambda m: m.einsum("ij->ii", m.ones(2, 2))),
    ("einsum size mismatch", lambda m: m.einsum("ij,jk->ik", m.ones(3, 3), m.ones(4, 4))),
    ("einsum repeated sizes", lambda m: m.einsum("ii->i", m.ones(3, 4))),
    ("einsum bad subscript", lambda m: m.einsum("i1->i", m.ones(3, 3))),
    ("einsum lone dot", lambda m: m.einsum("ij..->", m.ones(3, 3))),
    ("einsum too many subscripts", lambda m: m.einsum("...ijk", m.ones(3, 3))),
    ("einsum ellipsis broadcast", lambda m: m.einsum("...i,...i", m.ones(2, 3), m.ones(4, 3))),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as theirs:
            fn(torch)
        with pytest.raises(Exception) as ours:
            fn(ag)
    assert type(ours.value) is type(theirs.value), (
        f"ours raised {type(ours.value).__name__}: {ours.value}; torch raised {type(theirs.value).__name__}: "
        f"{theirs.value}")
    assert str(ours.value), "the error needs a message"


def test_einsum_sublist_format(device):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    A, B = ag.tensor(a, device=device), ag.tensor(b, device=device)
    TA, TB = torch.tensor(a), torch.tensor(b)
    _same(ag.einsum(A, [0, 1], B, [1, 2]), torch.einsum(TA, [0, 1], TB, [1, 2]), rtol=1e-10)
    _same(ag.einsum(A, [0, 1], B, [1, 30], [30, 0]), torch.einsum(TA, [0, 1], TB, [1, 30], [30, 0]), rtol=1e-10)
    _same(ag.einsum(A, [Ellipsis, 1], [1]), torch.einsum(TA, [Ellipsis, 1], [1]), rtol=1e-10)
    for m, x in ((ag, A), (torch, TA)):
        with pytest.raises(ValueError, match="valid range"):
            m.einsum(x, [0, 52])

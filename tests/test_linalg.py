"""torch.linalg beyond the table cases (tests/linalg_cases.py): error types on bad input as PyTorch raises them
(LinAlgError for singular / not positive-definite input), the derivative errors of qr, gauge-invariant losses of
svd / eigh, det at singular matrices, matrix_exp of large norm, lstsq of rank-deficient input, and which ops run
on the GPU without a host sync."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu import _device
from test_ops_parity import assert_same


def _bad(m):
    return {"S": m.ones(3, 3), "R": m.ones(3, 4), "v": m.ones(3), "i": m.ones(3, 3, dtype=m.int64),
            "I": m.eye(3), "B": m.stack([m.eye(3), m.ones(3, 3)])}


L = lambda m: m.linalg  # noqa: E731
ERRORS = [
    ("inv singular", lambda m, t: L(m).inv(t["S"])),
    ("inv batch singular", lambda m, t: L(m).inv(t["B"])),
    ("inv non-square", lambda m, t: L(m).inv(t["R"])),
    ("inv 1-d", lambda m, t: L(m).inv(t["v"])),
    ("inv int", lambda m, t: L(m).inv(t["i"])),
    ("inv half", lambda m, t: L(m).inv(t["S"].half())),
    ("inverse singular", lambda m, t: t["S"].inverse()),
    ("det non-square", lambda m, t: L(m).det(t["R"])),
    ("det 1-d", lambda m, t: m.det(t["v"])),
    ("det int", lambda m, t: t["i"].det()),
    ("slogdet non-square", lambda m, t: L(m).slogdet(t["R"])),
    ("logdet int", lambda m, t: m.logdet(t["i"])),
    ("solve singular", lambda m, t: L(m).solve(t["S"], t["v"])),
    ("solve batch singular", lambda m, t: L(m).solve(t["B"], t["S"])),
    ("solve shapes", lambda m, t: L(m).solve(t["I"], m.ones(4))),
    ("solve shapes matrix", lambda m, t: L(m).solve(t["I"], m.ones(4, 2))),
    ("solve right shapes", lambda m, t: L(m).solve(t["I"], m.ones(2, 4), left=False)),
    ("solve int", lambda m, t: L(m).solve(t["i"], t["v"])),
    ("solve dtypes", lambda m, t: L(m).solve(t["I"], t["v"].double())),
    ("solve non-square", lambda m, t: L(m).solve(t["R"], t["v"])),
    ("solve_triangular 1-d B", lambda m, t: L(m).solve_triangular(t["I"], t["v"], upper=True)),
    ("solve_triangular no upper", lambda m, t: L(m).solve_triangular(t["I"], t["S"])),
    ("solve_triangular shapes", lambda m, t: L(m).solve_triangular(t["I"], m.ones(4, 2), upper=False)),
    ("solve_triangular non-square", lambda m, t: L(m).solve_triangular(t["R"], t["S"], upper=True)),
    ("cholesky not positive-definite", lambda m, t: L(m).cholesky(-t["I"])),
    ("cholesky batch not pd", lambda m, t: L(m).cholesky(m.stack([t["I"], -t["I"]]))),
    ("cholesky singular", lambda m, t: L(m).cholesky(t["S"])),
    ("cholesky non-square", lambda m, t: L(m).cholesky(t["R"])),
    ("cholesky int", lambda m, t: L(m).cholesky(t["i"])),
    ("torch.cholesky not pd", lambda m, t: m.cholesky(-t["I"])),
    ("qr bad mode", lambda m, t: L(m).qr(t["R"], "economic")),
    ("qr 1-d", lambda m, t: L(m).qr(t["v"])),
    ("svd 1-d", lambda m, t: L(m).svd(t["v"])),
    ("svdvals int", lambda m, t: L(m).svdvals(t["i"])),
    ("eigh non-square", lambda m, t: L(m).eigh(t["R"])),
    ("eigh 1-d", lambda m, t: L(m).eigh(t["v"])),
    ("eigh bad UPLO", lambda m, t: L(m).eigh(t["S"], UPLO="X")),
    ("eigvalsh non-square", lambda m, t: L(m).eigvalsh(t["R"])),
    ("pinv 1-d", lambda m, t: L(m).pinv(t["v"])),
    ("lstsq rows", lambda m, t: L(m).lstsq(t["S"], m.ones(4, 2))),
    ("lstsq 1-d", lambda m, t: L(m).lstsq(t["v"], t["v"])),
    ("lstsq dims", lambda m, t: L(m).lstsq(t["v"][None], t["B"])),
    ("lstsq bad driver", lambda m, t: L(m).lstsq(t["S"], t["S"], driver="nope")),
    ("matrix_exp non-square", lambda m, t: L(m).matrix_exp(t["R"])),
    ("matrix_exp int", lambda m, t: m.matrix_exp(t["i"])),
    ("matrix_power non-square", lambda m, t: L(m).matrix_power(t["R"], 2)),
    ("matrix_power 1-d", lambda m, t: L(m).matrix_power(t["v"], 2)),
    ("matrix_power float n", lambda m, t: L(m).matrix_power(t["S"], 1.5)),
    ("matrix_power singular negative", lambda m, t: L(m).matrix_power(t["S"], -2)),
    ("multi_dot one", lambda m, t: L(m).multi_dot([t["S"]])),
    ("multi_dot shapes", lambda m, t: L(m).multi_dot([t["S"], t["R"].T])),
    ("multi_dot 3-d last", lambda m, t: L(m).multi_dot([t["S"], t["S"][None]])),
    ("multi_dot 1-d middle", lambda m, t: L(m).multi_dot([t["S"], t["v"], t["S"]])),
    ("vector_norm int", lambda m, t: L(m).vector_norm(t["i"])),
    ("vector_norm str ord", lambda m, t: L(m).vector_norm(t["S"], "fro")),
    ("matrix_norm 1-d", lambda m, t: L(m).matrix_norm(t["v"])),
    ("matrix_norm bad ord", lambda m, t: L(m).matrix_norm(t["S"], 3)),
    ("matrix_norm bad str", lambda m, t: L(m).matrix_norm(t["S"], "foo")),
    ("norm 3-d with ord", lambda m, t: L(m).norm(t["B"], 2)),
    ("norm three dims", lambda m, t: L(m).norm(t["B"], dim=(0, 1, 2))),
]


@pytest.mark.parametrize("fn", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error_types(fn, device):
    with pytest.raises(Exception) as theirs:
        fn(torch, _bad(torch))
    tensors = {k: v.to(device) for k, v in _bad(ag).items()}
    with pytest.raises(Exception) as ours:
        fn(ag, tensors)
    t, o = theirs.value, ours.value
    if isinstance(t, torch.linalg.LinAlgError):
        assert isinstance(o, ag.linalg.LinAlgError), f"ours raised {type(o).__name__}: {o}; torch: {t}"
    else:
        assert type(o) is type(t) and not isinstance(o, ag.linalg.LinAlgError), \
            f"ours raised {type(o).__name__}: {o}; torch raised {type(t).__name__}: {t}"
    assert str(o), "the error needs a message"


PROPERTY_OPS = [
    ("inv", lambda m, a: m.linalg.inv(a)),
    ("det", lambda m, a: m.linalg.det(a)),
    ("slogdet", lambda m, a: m.linalg.slogdet(a).logabsdet),
    ("solve", lambda m, a: m.linalg.solve(a, a[..., :1, :].mT)),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a @ a.mT)),
    ("svdvals", lambda m, a: m.linalg.svdvals(a)),
    ("cholesky", lambda m, a: m.linalg.cholesky(a @ a.mT)),
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a)),
    ("pinv", lambda m, a: m.linalg.pinv(a)),
]


@pytest.mark.parametrize("fn", [p[1] for p in PROPERTY_OPS], ids=[p[0] for p in PROPERTY_OPS])
@pytest.mark.parametrize("seed", range(4))
def test_random_batches_against_torch(fn, seed, device):
    """Random batch shapes and sizes (1 to 5), well conditioned: values and gradients equal PyTorch's."""
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 6))
    batch = tuple(int(b) for b in rng.integers(1, 4, size=int(rng.integers(0, 3))))
    x = rng.uniform(-1, 1, size=batch + (n, n)) + n * np.eye(n)
    a, t = ag.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = fn(ag, a), fn(torch, t)
    assert_same(y, yt, 1e-9, 1e-10)
    w = rng.standard_normal(tuple(yt.shape))
    (y * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(a.grad, t.grad, 1e-8, 1e-10)


def test_solve_triangular_promotes(device):
    rng = np.random.default_rng(8)
    a, b = np.triu(rng.standard_normal((3, 3))) + 3 * np.eye(3), rng.standard_normal((3, 2))
    for da, db in (("float32", "float64"), ("float64", "float32")):
        ours = ag.linalg.solve_triangular(ag.tensor(a, dtype=getattr(ag, da), device=device),
                                          ag.tensor(b, dtype=getattr(ag, db), device=device), upper=True)
        theirs = torch.linalg.solve_triangular(torch.tensor(a, dtype=getattr(torch, da)),
                                               torch.tensor(b, dtype=getattr(torch, db)), upper=True)
        assert_same(ours, theirs, 1e-5, 1e-6)


@pytest.mark.parametrize("upper", [True, False])
def test_solve_triangular_with_a_zero_on_the_diagonal(upper, device):
    """As LAPACK's trsm in PyTorch: no error, inf / nan where the zero pivot is divided by."""
    a = np.triu(np.arange(1.0, 10.0).reshape(3, 3)) if upper else np.tril(np.arange(1.0, 10.0).reshape(3, 3))
    a[1, 1] = 0.0
    b = np.arange(1.0, 7.0).reshape(3, 2)
    ours = ag.linalg.solve_triangular(ag.tensor(a, device=device), ag.tensor(b, device=device), upper=upper)
    theirs = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=upper)
    assert not np.isfinite(theirs.numpy()).all()
    assert_same(ours, theirs)


def test_linalg_error_is_a_runtime_error():
    assert issubclass(ag.linalg.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="singular"):
        ag.linalg.inv(ag.zeros(2, 2))


def test_gpu_result_check_raises():
    """CuPy does not raise on a singular matrix (its result holds inf/nan): the forwards check the result there.
    (On the stand-in numpy raises first, so this checks the check itself.)"""
    from autograd_gpu.ops.linalg import _raise_on_device
    bad = cupy.asarray(np.array([False, True]))
    with pytest.raises(ag.linalg.LinAlgError, match="singular"):
        _raise_on_device(cupy, bad, "the input matrix is singular")
    _raise_on_device(cupy, cupy.asarray(np.array([False, False])), "unused")
    _raise_on_device(np, np.array([True]), "numpy raised itself already: no check")


def test_qr_derivative_errors(device):
    x = np.random.default_rng(0).standard_normal((4, 3))
    a = ag.tensor(x, device=device, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    r, rt = ag.linalg.qr(a, mode="r"), torch.linalg.qr(t, mode="r")
    assert_same(r.R, rt.R, 1e-10, 1e-12)
    assert tuple(r.Q.shape) == (0,) and not r.Q.requires_grad and type(r.R.grad_fn).__name__ == "LinalgQrBackward0"
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.R.sum().backward()
    q = ag.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="complete"):
        q.Q.sum().backward()


def _gauge_losses():
    # functions of the factors that do not depend on the sign of each singular vector / eigenvector
    return [
        ("svd projector", lambda m, x: (lambda r: (r.U @ r.U.mT * r.S.sum()).sum() + (r.Vh.mT @ r.Vh).pow(2).sum())(
            m.linalg.svd(x, full_matrices=False))),
        ("svd abs", lambda m, x: (m.linalg.svd(x, full_matrices=False).U.abs() ** 3).sum()),
        ("svd full square", lambda m, x: (lambda r: (r.U[:, :1] @ r.Vh[:1] * x[:3]).sum())(m.linalg.svd(x[:3]))),
        ("eigh projector", lambda m, x: (lambda r: (r.eigenvectors[:, -1:] @ r.eigenvectors[:, -1:].mT
                                                    * x[:3]).sum() + r.eigenvalues.exp().sum())(
            m.linalg.eigh(x[:3] @ x[:3].mT))),
    ]


@pytest.mark.parametrize("fn", [g[1] for g in _gauge_losses()], ids=[g[0] for g in _gauge_losses()])
def test_gauge_invariant_gradients(fn, device):
    x = np.random.default_rng(1).standard_normal((4, 3))
    a = ag.tensor(x, device=device, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ys, yt = fn(ag, a), fn(torch, t)
    assert_same(ys, yt, 1e-9, 1e-10)
    ys.backward()
    yt.backward()
    assert_same(a.grad, t.grad, 1e-8, 1e-10)
    # and the second derivative (create_graph through svd_backward / eigh_backward)
    gg, = ag.autograd.grad(fn(ag, a), a, create_graph=True)
    gt, = torch.autograd.grad(fn(torch, t), t, create_graph=True)
    (gg ** 2).sum().backward()
    (gt ** 2).sum().backward()
    assert_same(a.grad, t.grad, 1e-7, 1e-9)


def test_det_gradient_of_singular_and_mixed_batches(device):
    rng = np.random.default_rng(2)
    u, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    sing = (u * [2.0, 1.0, 0.0]) @ u.T
    x = np.stack([sing, rng.standard_normal((3, 3)) + 3 * np.eye(3), np.zeros((3, 3))])
    a = ag.tensor(x, device=device, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ag.linalg.det(a).sum().backward()
    torch.linalg.det(t).sum().backward()
    assert_same(a.grad, t.grad, 1e-8, 1e-10)
    # and the independent oracle: d det / d A = the cofactor matrix
    cof = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(sing, i, 0), j, 1)) for j in range(3)]
                    for i in range(3)])
    np.testing.assert_allclose(a.grad[0].cpu().numpy(), cof, rtol=1e-8, atol=1e-10)
    assert np.abs(cof).max() > 0.1


DEGENERATE = [  # repeated or zero singular values / eigenvalues, the loss reading only S / the eigenvalues
    ("svd S of a multiple of I", lambda m, x: m.linalg.svd(m.eye(3, dtype=x.dtype, device=x.device) * x[0, 0]).S),
    ("svd S of a rank-1 tall matrix", lambda m, x: m.linalg.svd(x[:, :1] @ x[:1, :]).S),
    ("svd S of a rank-1 wide matrix", lambda m, x: m.linalg.svd(x[:1, :].mT @ x[:1, :3]).S),
    ("eigh eigenvalues of a multiple of I",
     lambda m, x: m.linalg.eigh(m.eye(3, dtype=x.dtype, device=x.device) * x[0, 0]).eigenvalues),
]


@pytest.mark.parametrize("fn", [d[1] for d in DEGENERATE], ids=[d[0] for d in DEGENERATE])
def test_unused_factors_with_degenerate_spectrum(fn, device):
    x = np.random.default_rng(7).standard_normal((4, 3))
    a, t = ag.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = fn(ag, a), fn(torch, t)
    assert_same(y, yt, 1e-9, 1e-10)
    w = np.arange(1.0, 1.0 + yt.numel())
    (y * ag.tensor(w, device=device)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert np.isfinite(t.grad.numpy()).all()
    assert_same(a.grad, t.grad, 1e-8, 1e-10)


def test_matrix_exp_large_norm_and_float32(device):
    x = np.random.default_rng(3).standard_normal((2, 4, 4)) * 6
    assert_same(ag.linalg.matrix_exp(ag.tensor(x, device=device)), torch.linalg.matrix_exp(torch.tensor(x)),
                1e-9, 1e-9)
    ref = torch.linalg.matrix_exp(torch.tensor(x / 6))
    ours = ag.linalg.matrix_exp(ag.tensor(x / 6, dtype=ag.float32, device=device))
    np.testing.assert_allclose(ours.cpu().numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    assert ours.dtype == ag.float32


def test_lstsq_rank_deficient(device):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 3))  # rank 2
    b = rng.standard_normal((5, 2))
    ours = ag.linalg.lstsq(ag.tensor(a, device=device), ag.tensor(b, device=device))
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b))
    assert_same(ours.solution, theirs.solution, 1e-8, 1e-10)
    assert_same(ours.rank, theirs.rank)


def test_namespace_and_methods():
    assert ag.linalg.inv is not None and "linalg" in dir(ag)
    x = ag.eye(2) * 2
    for name in ("det", "logdet", "slogdet", "inverse", "cholesky", "pinverse", "matrix_exp", "svd", "qr"):
        assert callable(getattr(ag, name)) and callable(getattr(ag.Tensor, name)), name
    assert x.matrix_power(2).tolist() == [[4.0, 0.0], [0.0, 4.0]]
    assert type(ag.linalg.slogdet(x)).__name__ == "linalg_slogdet" and type(ag.slogdet(x)).__name__ == "slogdet"
    assert type(ag.linalg.svd(x)).__name__ == "linalg_svd" and type(ag.svd(x)).__name__ == "svd"
    assert type(ag.linalg.eigh(x)).__name__ == "linalg_eigh" and type(ag.qr(x)).__name__ == "qr"


cupy = _device.cupy()
SIM = hasattr(cupy, "no_host_sync")

# PyTorch does not synchronise for these either; it does (and so do we) where inv, solve and cholesky read LAPACK's
# info (so in the backward of det and slogdet, which solve), where det's backward looks for singular matrices and
# where matrix_exp reads the norms
FORWARD_NO_SYNC = [
    ("det", lambda m, x: m.linalg.det(x)),
    ("slogdet", lambda m, x: m.linalg.slogdet(x)),
    ("lstsq", lambda m, x: m.linalg.lstsq(x, x)),
]
NO_SYNC = [
    ("svd", lambda m, x: (lambda r: (r.U.abs().sum() + r.S.sum() + r.Vh.abs().sum()))(m.linalg.svd(x))),
    ("svdvals", lambda m, x: m.linalg.svdvals(x).sum()),
    ("eigh", lambda m, x: (lambda r: r.eigenvalues.sum() + r.eigenvectors.abs().sum())(m.linalg.eigh(x + x.mT))),
    ("pinv", lambda m, x: m.linalg.pinv(x).sum()),
    ("solve_triangular", lambda m, x: m.linalg.solve_triangular(x, x.mT, upper=True, left=False).sum()),
    ("qr", lambda m, x: (lambda r: (r.Q * r.R).sum())(m.linalg.qr(x))),
    ("matrix_power", lambda m, x: m.linalg.matrix_power(x, 5).sum()),
    ("norms", lambda m, x: m.linalg.matrix_norm(x, "nuc").sum() + m.linalg.norm(x)),
]


@pytest.mark.skipif(not SIM, reason="the host-sync counter is the CuPy stand-in's (no GPU-side equivalent)")
@pytest.mark.parametrize("fn", [n[1] for n in NO_SYNC], ids=[n[0] for n in NO_SYNC])
def test_no_host_sync(fn):
    x = np.random.default_rng(5).standard_normal((2, 3, 3)) + 3 * np.eye(3)
    a = ag.tensor(x, device="cuda", requires_grad=True)
    with cupy.no_host_sync():
        fn(ag, a).backward()
    t = torch.tensor(x, requires_grad=True)
    fn(torch, t).backward()
    assert_same(a.grad, t.grad, 1e-8, 1e-10)


@pytest.mark.skipif(not SIM, reason="the host-sync counter is the CuPy stand-in's (no GPU-side equivalent)")
@pytest.mark.parametrize("fn", [n[1] for n in FORWARD_NO_SYNC], ids=[n[0] for n in FORWARD_NO_SYNC])
def test_forward_no_host_sync(fn):
    x = np.random.default_rng(6).standard_normal((2, 3, 3)) + 3 * np.eye(3)
    with cupy.no_host_sync():
        ours = fn(ag, ag.tensor(x, device="cuda", requires_grad=True))
    theirs = fn(torch, torch.tensor(x, requires_grad=True))
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    for o, t in zip(ours, theirs):
        if o.dtype.is_floating_point and o.numel():
            np.testing.assert_allclose(o.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-8, atol=1e-10)

"""Cases of torch.linalg (autograd_gpu/ops/linalg.py) for the table-driven tests (gradcheck, gradgradcheck, parity
on both devices); op_cases.CASES takes them in its "matrices, contractions and linalg" section.

Inputs are chosen well conditioned (diagonally dominant: `sq`), symmetric where the op reads one triangle only
(eigh, cholesky: the case symmetrises its input, as PyTorch's own tests do) and with distinct singular values /
eigenvalues. (det at singular matrices: tests/test_linalg.py, in float64.) Singular vectors and eigenvectors are defined up to the sign of each one, so their cases pass them
through a sign-invariant map (each column times its first entry), as PyTorch's gauge-invariant tests do.
"""
import numpy as np

from op_cases import Case


def C(op, fn, *inputs, **kw):
    """A Case; float32 values of the decompositions are compared with a float32 tolerance for a condition number
    of ~10 (how LAPACK / cuSOLVER round depends on the kernel they choose)."""
    if op in ("linalg_svd", "linalg_svdvals", "linalg_eigh", "linalg_eigvalsh", "linalg_pinv", "linalg_lstsq",
              "linalg_qr"):
        kw.setdefault("rtol", 1e-4)
        kw.setdefault("atol", 1e-5)
    return Case(op, fn, *inputs, **kw)

_rng = np.random.default_rng(11)  # (its own: the inputs here do not move when other sections add cases)


def rand(*shape):
    return _rng.uniform(-1, 1, size=shape)


def spread(*shape):
    """Matrices U diag(s) V^T with singular values spread over [0.5, 2]: distinct, well conditioned."""
    m, n = shape[-2:]
    k = min(m, n)
    u = np.linalg.qr(_rng.standard_normal(shape[:-2] + (m, k)))[0]
    v = np.linalg.qr(_rng.standard_normal(shape[:-2] + (n, k)))[0]
    return (u * np.linspace(2.0, 0.5, k)) @ np.swapaxes(v, -1, -2)


def sq(*shape):
    """Square matrices rand + n I: diagonally dominant, far from singular, positive determinant."""
    n = shape[-1]
    return _rng.uniform(-1, 1, size=shape) + n * np.eye(n)


def neg_det(*shape):
    """Well conditioned, determinant < 0 (two rows swapped)."""
    a = sq(*shape)
    return a[..., [1, 0] + list(range(2, shape[-1])), :]


def col_gauge(U):
    """U with each column's sign taken out: column j times its first entry."""
    return U * U[..., :1, :]


def row_gauge(Vh):
    return Vh * Vh[..., :, :1]


def _svd_fn(full=True, k=None):
    def fn(m, x):
        U, S, Vh = m.linalg.svd(x, full_matrices=full)
        if k is not None:
            U, Vh = U[..., :k], Vh[..., :k, :]
        return col_gauge(U), S, row_gauge(Vh)
    return fn


def _eigh_fn(UPLO="L"):
    def fn(m, x):
        L, Q = m.linalg.eigh(x + x.mT, UPLO=UPLO)
        return L, col_gauge(Q)
    return fn


def _torch_svd(m, x):
    U, S, V = m.svd(x)
    return col_gauge(U), S, col_gauge(V)


LINALG_CASES = [
    C("linalg_inv", lambda m, x: m.linalg.inv(x), sq(3, 3), name="2d"),
    C("linalg_inv", lambda m, x: m.linalg.inv(x), sq(2, 3, 3), name="batched"),
    C("linalg_inv", lambda m, x: x.inverse(), sq(4, 4), name="inverse-method"),
    C("linalg_inv", lambda m, x: m.inverse(x), sq(1, 1), name="inverse-1x1"),
    C("linalg_det", lambda m, x: m.linalg.det(x), sq(3, 3), name="2d"),
    C("linalg_det", lambda m, x: m.linalg.det(x), neg_det(2, 3, 3), name="batched"),
    C("linalg_det", lambda m, x: x.det(), sq(1, 1), name="1x1"),
    C("linalg_slogdet", lambda m, x: m.linalg.slogdet(x), neg_det(2, 3, 3), name="batched"),
    C("linalg_slogdet", lambda m, x: tuple(x.slogdet()), sq(3, 3), name="method"),
    C("linalg_slogdet", lambda m, x: m.logdet(x), sq(2, 3, 3), name="logdet"),
    C("linalg_slogdet", lambda m, x: m.logdet(x), neg_det(3, 3), name="logdet-negative", grad=False),  # (nan)
    C("linalg_solve", lambda m, a, b: m.linalg.solve(a, b), sq(3, 3), rand(3, 2), name="matrix"),
    C("linalg_solve", lambda m, a, b: m.linalg.solve(a, b), sq(3, 3), rand(3), name="vector"),
    C("linalg_solve", lambda m, a, b: m.linalg.solve(a, b), sq(2, 3, 3), rand(2, 3), name="batched-vector"),
    C("linalg_solve", lambda m, a, b: m.linalg.solve(a, b), sq(2, 3, 3), rand(3, 2), name="broadcast"),
    C("linalg_solve", lambda m, a, b: m.linalg.solve(a, b, left=False), sq(2, 3, 3), rand(2, 4, 3),
      name="right"),
    C("linalg_solve_triangular", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), sq(3, 3), rand(3, 2),
      name="upper"),
    C("linalg_solve_triangular", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False),
      sq(2, 3, 3), rand(4, 3), name="lower-right-broadcast"),
    C("linalg_solve_triangular", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
      rand(3, 3), rand(2, 3, 2), name="unitriangular"),
    C("linalg_cholesky", lambda m, x: m.linalg.cholesky(x @ x.mT), sq(3, 3), name="2d"),
    C("linalg_cholesky", lambda m, x: m.linalg.cholesky(x @ x.mT, upper=True), sq(2, 3, 3), name="upper"),
    C("cholesky", lambda m, x: m.cholesky(x @ x.mT), sq(3, 3), name="legacy"),
    C("cholesky", lambda m, x: (x @ x.mT).cholesky(upper=True), sq(2, 3, 3), name="legacy-upper"),
    C("linalg_qr", lambda m, x: m.linalg.qr(x), rand(4, 3), name="tall"),
    C("linalg_qr", lambda m, x: m.linalg.qr(x), rand(3, 5), name="wide"),
    C("linalg_qr", lambda m, x: m.linalg.qr(x, "complete"), rand(2, 3, 3), name="complete-square"),
    C("linalg_qr", lambda m, x: m.linalg.qr(x, mode="complete"), rand(3, 4), name="complete-wide"),
    C("linalg_qr", lambda m, x: tuple(x.qr()), rand(2, 4, 3), name="method"),
    C("linalg_svd", _svd_fn(), spread(3, 3), name="square"),
    C("linalg_svd", _svd_fn(False), spread(5, 3), name="tall"),
    C("linalg_svd", _svd_fn(False), spread(2, 3, 5), name="wide-batched"),
    C("linalg_svd", _svd_fn(True, 3), spread(5, 3), name="full-tall"),
    C("linalg_svd", lambda m, x: (lambda r: (r.U * r.S.unsqueeze(-2)) @ r.Vh)(m.linalg.svd(x, False)),
      rand(4, 3), name="reconstruct"),
    C("linalg_svd", _torch_svd, spread(4, 3), name="torch.svd"),
    C("linalg_svdvals", lambda m, x: m.linalg.svdvals(x), rand(4, 3), name="tall"),
    C("linalg_svdvals", lambda m, x: m.linalg.svdvals(x), rand(2, 3, 4), name="batched"),
    C("linalg_svdvals", lambda m, x: m.svd(x, compute_uv=False)[1], rand(3, 4), name="torch.svd-no-uv"),
    C("linalg_eigh", _eigh_fn(), spread(3, 3), name="2d"),
    C("linalg_eigh", _eigh_fn("U"), spread(2, 4, 4), name="upper-batched"),
    C("linalg_eigvalsh", lambda m, x: m.linalg.eigvalsh(x + x.mT), rand(2, 3, 3), name="batched"),
    C("linalg_eigvalsh", lambda m, x: m.linalg.eigvalsh(x + x.mT, UPLO="U"), rand(4, 4), name="upper"),
    C("linalg_pinv", lambda m, x: m.linalg.pinv(x), rand(4, 3), name="tall"),
    C("linalg_pinv", lambda m, x: m.linalg.pinv(x), rand(2, 3, 5), name="wide-batched"),
    C("linalg_pinv", lambda m, x: m.linalg.pinv(x + x.mT, hermitian=True), sq(3, 3), name="hermitian"),
    C("linalg_pinv", lambda m, x: m.pinverse(x), rand(3, 4), name="pinverse"),
    C("linalg_pinv", lambda m, x: x.pinverse(), rand(3, 3), name="pinverse-method"),
    C("linalg_lstsq", lambda m, a, b: m.linalg.lstsq(a, b), rand(5, 3), rand(5, 2), name="tall"),
    C("linalg_lstsq", lambda m, a, b: m.linalg.lstsq(a, b), rand(2, 5, 3), rand(2, 5), name="batched-vector"),
    C("linalg_lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, rand(3, 5), rand(3, 2), name="wide"),
    C("linalg_matrix_exp", lambda m, x: m.linalg.matrix_exp(x), rand(3, 3), name="2d"),
    C("linalg_matrix_exp", lambda m, x: m.linalg.matrix_exp(x * 4), rand(2, 3, 3), name="squarings"),
    C("linalg_matrix_exp", lambda m, x: x.matrix_exp(), rand(1, 1), name="method-1x1"),
    C("linalg_matrix_exp", lambda m, x: m.matrix_exp(x), rand(2, 2), name="function"),
    C("matrix_power", lambda m, x: m.linalg.matrix_power(x, 0), rand(3, 3), name="0",
      node_differs="PyTorch copies an identity into a new tensor (CopyBackwards); here I + 0 * A"),
    C("matrix_power", lambda m, x: m.linalg.matrix_power(x, 1), rand(3, 3), name="1"),
    C("matrix_power", lambda m, x: m.linalg.matrix_power(x, 2), rand(2, 3, 3), name="2-batched"),
    C("matrix_power", lambda m, x: x.matrix_power(3), rand(3, 3), name="3"),
    C("matrix_power", lambda m, x: m.matrix_power(x, 5), rand(3, 3), name="5"),
    C("matrix_power", lambda m, x: m.linalg.matrix_power(x, -1), sq(3, 3), name="-1"),
    C("matrix_power", lambda m, x: m.linalg.matrix_power(x, -3), sq(2, 3, 3), name="-3"),
    C("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), rand(2, 3), rand(3, 4), rand(4, 2),
      name="3"),
    C("multi_dot", lambda m, a, b: m.linalg.multi_dot([a, b]), rand(2, 3), rand(3, 4), name="2"),
    C("multi_dot", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]), rand(3), rand(3, 5), rand(5, 2),
      rand(2), name="vectors"),
    C("multi_dot", lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]), rand(4, 2), rand(2, 5), rand(5, 1),
      rand(1, 3), name="4"),
    C("norm", lambda m, x: m.linalg.vector_norm(x), rand(2, 3, 4), name="vector_norm"),
    C("norm", lambda m, x: m.linalg.vector_norm(x, 1, dim=(0, 2)), rand(2, 3, 4) + 2, name="vector_norm-1"),
    C("norm", lambda m, x: m.linalg.vector_norm(x, float("inf"), dim=-1, keepdim=True), rand(3, 4),
      name="vector_norm-inf"),
    C("norm", lambda m, x: m.linalg.vector_norm(x, 3, dim=1, dtype=m.float64), rand(3, 4), name="vector_norm-3"),
    C("norm", lambda m, x: m.linalg.matrix_norm(x), rand(2, 3, 4), name="matrix_norm-fro"),
    C("linalg_svdvals", lambda m, x: m.linalg.matrix_norm(x, "nuc"), rand(2, 3, 4), name="matrix_norm-nuc"),
    C("linalg_svdvals", lambda m, x: m.linalg.matrix_norm(x, 2, dim=(0, 2), keepdim=True), rand(3, 2, 4),
      name="matrix_norm-2"),
    C("linalg_svdvals", lambda m, x: m.linalg.matrix_norm(x, -2), rand(4, 3), name="matrix_norm--2"),
    C("amax", lambda m, x: m.linalg.matrix_norm(x, 1), rand(2, 3, 4), name="matrix_norm-1"),
    C("amin", lambda m, x: m.linalg.matrix_norm(x, -1, keepdim=True), rand(2, 3, 4), name="matrix_norm--1"),
    C("amax", lambda m, x: m.linalg.matrix_norm(x, float("inf"), dim=(2, 0)), rand(2, 3, 4),
      name="matrix_norm-inf"),
    C("amin", lambda m, x: m.linalg.matrix_norm(x, -float("inf")), rand(3, 4), name="matrix_norm--inf"),
    C("norm", lambda m, x: m.linalg.norm(x), rand(2, 3, 4), name="linalg.norm"),
    C("norm", lambda m, x: m.linalg.norm(x, 3), rand(4), name="linalg.norm-vector"),
    C("linalg_svdvals", lambda m, x: m.linalg.norm(x, 2), rand(3, 4), name="linalg.norm-matrix"),
    C("norm", lambda m, x: m.linalg.norm(x, dim=1), rand(3, 4), name="linalg.norm-dim"),
    C("amax", lambda m, x: m.linalg.norm(x, float("inf"), dim=(0, 1)), rand(3, 4), name="linalg.norm-dims"),
]

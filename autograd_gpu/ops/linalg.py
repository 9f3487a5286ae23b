"""torch.linalg: factorizations, solvers, inverses and norms of (batches of) matrices.

Forwards run on `xp.linalg` (numpy / CuPy) over the last two dims; each backward is PyTorch's (derivatives.yaml,
FunctionsManual.cpp: linalg_det_backward, svd_backward, linalg_eig_backward, linalg_qr_backward, ...) written with
differentiable ops (matmul, the solve row itself, masks), so create_graph works through every one. Real dtypes only.
The public namespace is autograd_gpu.linalg; PyTorch's top-level names (det, inverse, slogdet, ...) are exported here.
"""
import math
from collections import namedtuple

import numpy as np

from .core import apply, defop, export
from .arithmetic import where
from .reduction import NORM, PROD_OTHERS, _dim, _dims
from .shape import cat
from ..tensor import Tensor, SCALAR_TYPE_NAMES


class LinAlgError(RuntimeError):
    """A matrix that the computation cannot handle (singular, not positive-definite): torch.linalg.LinAlgError."""


linalg_slogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
slogdet_type = namedtuple("slogdet", ["sign", "logabsdet"])
linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
qr_type = namedtuple("qr", ["Q", "R"])
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
svd_type = namedtuple("svd", ["U", "S", "V"])
linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


# ---- input checks, as PyTorch words them ------------------------------------------------------------------
def _check_float(A, fname):
    dt = A._data.dtype
    if dt.kind != "f":
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{SCALAR_TYPE_NAMES.get(dt.name, dt.name)}")
    if dt.itemsize < 4:
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got {SCALAR_TYPE_NAMES[dt.name]}")


def _check_matrix(A, fname, square=True):
    if not isinstance(A, Tensor):
        raise TypeError(f"{fname}: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{fname}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    _check_float(A, fname)


def _raise_on_device(xp, bad, msg):
    """numpy raises LinAlgError itself; CuPy leaves inf/nan (or a failed pivot) in the result instead.
    NOTE: a host sync on the GPU, as in PyTorch, whose linalg.inv / solve / cholesky read LAPACK's info."""
    if xp is not np and bool(bad.any()):
        raise LinAlgError(msg)


def _lapack(fn, msg):
    try:
        return fn()
    except np.linalg.LinAlgError:
        raise LinAlgError(msg) from None


# ---- differentiable helpers over Tensors ------------------------------------------------------------------
def _const(like, make):
    """A constant Tensor made by make(xp, dtype) on `like`'s device."""
    d, xp = like._data, like._xp
    if xp is np:
        return Tensor._make(np.asarray(make(np, d.dtype)))
    with d.device:
        return Tensor._make(make(xp, d.dtype))


def _eye(n, like):
    return _const(like, lambda xp, dt: xp.eye(n, dtype=dt))


def _tril_mask(like, k=0):
    n, m = like.shape[-2:]
    return _const(like, lambda xp, dt: xp.tri(n, m, k, dtype=dt))


def _diag_embed(v):
    return v.unsqueeze(-1) * _eye(v.shape[-1], v)


def _diagonal(X):
    return (X * _eye(X.shape[-1], X)).sum(-1)


def _solve(A, B, left=True):
    return apply(LINALG_SOLVE, A, B, left=left, vector=False)


def _solve_tri(A, B, upper, left=True):
    return apply(LINALG_SOLVE_TRIANGULAR, A, B, upper=upper, left=left, unitriangular=False)


# ---- inv ---------------------------------------------------------------------------------------------------
_SINGULAR_INV = "linalg.inv: The input matrix is singular, the inversion could not be completed."


def _inv_fwd(xp, a):
    out = _lapack(lambda: xp.linalg.inv(a), _SINGULAR_INV)
    _raise_on_device(xp, ~xp.isfinite(out), _SINGULAR_INV)
    return out


def _inv_bwd(ctx, g):
    inv, = ctx.saved
    return -(inv.mT @ g @ inv.mT)


LINALG_INV = defop("linalg_inv", _inv_fwd, _inv_bwd, save=("out",), node="LinalgInvExBackward0", group="linalg",
                   dtype="keep")


def inv(A):
    """The inverse of each square matrix of A: ``torch.linalg.inv(torch.eye(2) * 2)`` is ``0.5 * eye(2)``."""
    _check_matrix(A, "linalg.inv")
    return apply(LINALG_INV, A)


@export(name="inverse")
def _inverse(input):
    return inv(input)


# ---- det / slogdet -------------------------------------------------------------------------------------------
def _det_bwd(ctx, g):
    A, det = ctx.saved
    n = A.shape[-1]
    if A.numel() == 0:
        return A * 0
    if n == 1:
        return g.unsqueeze(-1).unsqueeze(-1).expand(A.shape)
    # NOTE: a host sync, as in PyTorch's linalg_det_backward: a (nearly) singular matrix has no inverse, and its
    # gradient is taken through the SVD instead, det A = det U det Vh prod S, whose product rule needs no division
    eps = float(np.finfo(A._data.dtype).eps)
    singular = det.detach().abs() < 100 * eps
    gd = g * det
    if not bool(singular.any()):
        return _solve(A.mT, _diag_embed(gd.unsqueeze(-1).expand(A.shape[:-1])))
    mask = singular.unsqueeze(-1).unsqueeze(-1)
    ones = _const(A, lambda xp, dt: xp.ones(n, dtype=dt))
    distinct = _diag_embed(ones.cumsum(0))
    U, S, Vh = apply(LINALG_SVD, where(mask, A, distinct), full_matrices=False)
    alpha = apply(LINALG_DET, U) * apply(LINALG_DET, Vh) * g
    D = alpha.unsqueeze(-1) * apply(PROD_OTHERS, S, axis=S.ndim - 1)
    sing = (U * D.unsqueeze(-2)) @ Vh
    regular = _solve(where(mask, _eye(n, A), A).mT, _diag_embed(gd.unsqueeze(-1).expand(A.shape[:-1])))
    return where(mask, sing, regular)


LINALG_DET = defop("linalg_det", lambda xp, a: xp.linalg.det(a), _det_bwd, save=(0, "out"),
                   node="LinalgDetBackward0", group="linalg", dtype="keep")


def det(A):
    """The determinant of each square matrix of A."""
    _check_matrix(A, "linalg.det")
    return apply(LINALG_DET, A)


def _slogdet_fwd(xp, a):
    sign, logabs = xp.linalg.slogdet(a)
    return xp.asarray(sign, dtype=a.dtype), xp.asarray(logabs, dtype=a.dtype)


def _slogdet_bwd(ctx, g):
    A, = ctx.saved
    g_logabs = g[1]  # (the sign of a real matrix is locally constant)
    return _solve(A.mT, _diag_embed(g_logabs.unsqueeze(-1).expand(A.shape[:-1])))


LINALG_SLOGDET = defop("linalg_slogdet", _slogdet_fwd, _slogdet_bwd, save=(0,), node="LinalgSlogdetBackward0",
                       group="linalg", dtype="keep", nout=2)


def slogdet(A):
    """(sign, log|det|) of each square matrix of A."""
    _check_matrix(A, "linalg.slogdet")
    return linalg_slogdet(*apply(LINALG_SLOGDET, A))


@export(name="slogdet")
def _slogdet(input):
    _check_matrix(input, "linalg.slogdet")
    return slogdet_type(*apply(LINALG_SLOGDET, input))


@export(name="det")
def _det(input):
    return det(input)


@export
def logdet(input):
    _check_matrix(input, "logdet")
    sign, logabs = apply(LINALG_SLOGDET, input)
    return where(sign < 0, float("nan"), logabs)


# ---- solve ----------------------------------------------------------------------------------------------------
_SINGULAR_SOLVE = "torch.linalg.solve: The solver failed because the input matrix is singular."


def _solve_fwd(xp, a, b, left, vector):
    if vector:
        b = b[..., None] if left else b[..., None, :]
    if not left:  # X A = B  <=>  A^T X^T = B^T
        a, b = xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    x = _lapack(lambda: xp.linalg.solve(a, b), _SINGULAR_SOLVE)
    _raise_on_device(xp, ~xp.isfinite(x), _SINGULAR_SOLVE)
    if not left:
        x = xp.swapaxes(x, -1, -2)
    if vector:
        x = x[..., 0] if left else x[..., 0, :]
    return x


def _solve_bwd(ctx, g):
    A, X = ctx.saved
    left, vector = ctx.params["left"], ctx.params["vector"]
    if vector:
        g = g.unsqueeze(-1) if left else g.unsqueeze(-2)
        X = X.unsqueeze(-1) if left else X.unsqueeze(-2)
    gB = _solve(A.mT, g, left)
    gA = -(gB @ X.mT) if left else -(X.mT @ gB)
    if vector:
        gB = gB.squeeze(-1) if left else gB.squeeze(-2)
    return gA, gB


LINALG_SOLVE = defop("linalg_solve", _solve_fwd, _solve_bwd, save=(0, "out"), node="LinalgSolveExBackward0",
                     group="linalg", dtype="keep")


def _is_vector_rhs(A, B):
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True):
    """X with A X = B (X A = B for left=False); B may be a (batch of) vector(s)."""
    _check_matrix(A, "linalg.solve")
    _check_float(B, "linalg.solve")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{SCALAR_TYPE_NAMES[A.dtype.name]} and B of type {SCALAR_TYPE_NAMES[B.dtype.name]} instead")
    vector = _is_vector_rhs(A, B)
    n = A.shape[-1]
    rows = B.shape[-1] if vector else (B.shape[-2] if left else B.shape[-1])
    if rows != n:
        k = 1 if vector else (B.shape[-1] if left else B.shape[-2])
        eq, shown = ("AX = B", f"{B.shape[-1] if vector else B.shape[-2]}x{k}") if left else \
            ("XA = B", f"{k}x{B.shape[-1]}")
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and "
                           f"{shown})")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-1] if vector else B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dimensions of A {list(A.shape)} and B {list(B.shape)} do "
                           "not broadcast") from None
    return apply(LINALG_SOLVE, A, B, left=left, vector=vector)


# ---- solve_triangular -----------------------------------------------------------------------------------------
def _solve_triangular_fwd(xp, a, b, upper, left, unitriangular):
    if not left:  # X A = B  <=>  A^T X^T = B^T, A^T of the other triangle
        a, b, upper = xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2), not upper
    n = a.shape[-1]
    tri = xp.tri(n, n, -1 if unitriangular else 0, dtype=bool)  # the triangle that is read
    a = xp.where(tri.T if upper else tri, a, 0) + (xp.eye(n, dtype=a.dtype) if unitriangular else 0)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a, b = xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:])
    try:
        x = xp.linalg.solve(a, b)  # (CuPy gives inf / nan for a zero on the diagonal, as LAPACK's trsm)
    except np.linalg.LinAlgError:
        x = _substitute(xp, a, b, upper)  # numpy refuses a singular matrix: trsm's inf / nan, as PyTorch
    return xp.swapaxes(x, -1, -2) if not left else x


def _substitute(xp, a, b, upper):
    """Back (upper) or forward substitution, one row at a time over the batch."""
    n = a.shape[-1]
    x = xp.zeros(b.shape, dtype=a.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):  # (the rows not solved yet are still 0)
            x[..., i, :] = (b[..., i, :] - (a[..., i, :, None] * x).sum(-2)) / a[..., i, i, None]
    return x


def _solve_triangular_bwd(ctx, g):
    A, X = ctx.saved
    p = ctx.params
    upper, left, unit = p["upper"], p["left"], p["unitriangular"]
    gB = apply(LINALG_SOLVE_TRIANGULAR, A.mT, g, upper=not upper, left=left, unitriangular=unit)
    if not ctx.needs_input_grad[0]:
        return None, gB
    gA = -(gB @ X.mT) if left else -(X.mT @ gB)
    mask = _tril_mask(gA, -1 if unit else 0)
    gA = gA * (mask.mT if upper else mask)
    return gA, gB


LINALG_SOLVE_TRIANGULAR = defop("linalg_solve_triangular", _solve_triangular_fwd, _solve_triangular_bwd,
                                save=(0, "out"), node="LinalgSolveTriangularBackward0", group="linalg", dtype="keep")


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (X A = B for left=False), A upper or lower triangular (only that triangle is read; with
    unitriangular its diagonal is taken to be 1)."""
    _check_matrix(A, "linalg.solve_triangular")
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    _check_float(B, "linalg.solve_triangular")
    if A.dtype != B.dtype:  # (PyTorch takes A's dtype here, where linalg.solve raises)
        B = B.to(A.dtype)
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation {eq} ({n}x{n} "
                           f"and {B.shape[-2]}x{B.shape[-1]})")
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"linalg.solve_triangular: the batch dimensions of A {list(A.shape)} and B "
                           f"{list(B.shape)} do not broadcast") from None
    return apply(LINALG_SOLVE_TRIANGULAR, A, B, upper=bool(upper), left=bool(left), unitriangular=bool(unitriangular))


# ---- cholesky -------------------------------------------------------------------------------------------------
_NOT_PD = ("linalg.cholesky: The factorization could not be completed because the input is not "
           "positive-definite.")


def _cholesky_fwd(xp, a, upper):
    L = _lapack(lambda: xp.linalg.cholesky(a), _NOT_PD)
    d = xp.diagonal(L, 0, -2, -1)
    _raise_on_device(xp, ~(d > 0), _NOT_PD)
    return xp.swapaxes(L, -1, -2).copy() if upper else L


def _cholesky_bwd(ctx, g):
    L, = ctx.saved
    if ctx.params["upper"]:
        L, g = L.mT, g.mT
    gA = (L.mT @ g) * _tril_mask(L)
    gA = 0.5 * (gA + (gA * _tril_mask(L, -1)).mT)
    gA = _solve_tri(L.mT, gA, upper=True)
    return _solve_tri(L, gA, upper=False, left=False)


LINALG_CHOLESKY = defop("linalg_cholesky", _cholesky_fwd, _cholesky_bwd, save=("out",),
                        node="LinalgCholeskyExBackward0", group="linalg", dtype="keep")
CHOLESKY = defop("cholesky", _cholesky_fwd, _cholesky_bwd, save=("out",), node="CholeskyBackward0", group="linalg",
                 dtype="keep")


def cholesky(A, *, upper=False):
    """L (lower) with A = L L^T, or U = L^T for upper=True, of each symmetric positive-definite matrix."""
    _check_matrix(A, "linalg.cholesky")
    return apply(LINALG_CHOLESKY, A, upper=bool(upper))


@export(name="cholesky")
def _cholesky(input, upper=False):
    _check_matrix(input, "cholesky")
    return apply(CHOLESKY, input, upper=bool(upper))


# ---- qr -------------------------------------------------------------------------------------------------------
def _qr_fwd(xp, a, mode):
    if mode == "r":
        return xp.empty((0,), dtype=a.dtype), xp.linalg.qr(a, mode="r")
    return xp.linalg.qr(a, mode=mode)


def _qr_bwd(ctx, g):
    mode = ctx.params["mode"]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                           "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    Q, R = ctx.saved
    gQ, gR = g
    m, n = Q.shape[-2], R.shape[-1]
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    gA = gR @ R.mT - Q.mT @ gQ
    if m >= n:
        upper = gA * _tril_mask(gA).mT  # triu(gA)
        sym = upper + upper.mT
        sym = sym - _diag_embed(_diagonal(sym) * 0.5)
        return _solve_tri(R.mT, Q @ sym + gQ, upper=False, left=False)
    X = -gA
    skew = (X - X.mT) * _tril_mask(X)
    gA = _solve_tri(R.narrow(-1, 0, m).mT, Q @ skew, upper=False, left=False)
    gA = cat([gA, gA.new_zeros(*gA.shape[:-1], n - m)], -1)
    return gA + Q @ gR


LINALG_QR = defop("linalg_qr", _qr_fwd, _qr_bwd, save=("out", "out1"), node="LinalgQrBackward0", group="linalg",
                  dtype="keep", nout=2)


def _qr(A, mode, rtype):
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    _check_matrix(A, "linalg.qr", square=False)
    Q, R = apply(LINALG_QR, A, mode=mode)
    if mode == "r":  # (PyTorch's Q is then an empty tensor outside the graph)
        Q = Q.detach()
    return rtype(Q, R)


def qr(A, mode="reduced"):
    """Q, R with A = Q R: Q with orthonormal columns, R upper triangular ('reduced', 'complete' or 'r')."""
    return _qr(A, mode, linalg_qr)


@export(name="qr")
def _qr_fn(input, some=True):
    return _qr(input, "reduced" if some else "complete", qr_type)


# ---- svd / svdvals ---------------------------------------------------------------------------------------------
def _svd_fwd(xp, a, full_matrices):
    return xp.linalg.svd(a, full_matrices=full_matrices)


def _nonzero(d):
    """A divisor with its exact zeros replaced by 1.
    NOTE: an output that the loss does not use reaches a multi-output backward as zeros (in PyTorch: undefined, and
    its terms are skipped), so svd(A).S of a matrix with repeated or zero singular values (the identity) would give
    0 / 0 here; taking those quotients as 0 gives PyTorch's gradient. Where the loss does use U / Vh (or the
    eigenvectors), that derivative does not exist, and PyTorch's is inf / nan."""
    return where(d == 0, 1.0, d)


def _svd_backward(gU, gS, gVh, U, S, Vh):
    """PyTorch's svd_backward for real A = U diag(S) Vh (reduced factors)."""
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
    UhgU = U.mT @ gU
    UhgU = UhgU - UhgU.mT
    VhgV = Vh @ gVh.mT
    VhgV = VhgV - VhgV.mT
    S2 = S * S
    E = _nonzero(S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye(S.shape[-1], S))
    gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E + _diag_embed(gS)
    if m > n:
        gUSinv = gU / _nonzero(S).unsqueeze(-2)
        gA = U @ gA + gUSinv - U @ (U.mT @ gUSinv)
        return gA @ Vh
    if m < n:
        SinvgVh = gVh / _nonzero(S).unsqueeze(-1)
        gA = gA @ Vh + SinvgVh - (SinvgVh @ Vh.mT) @ Vh
        return U @ gA
    return U @ (gA @ Vh)


def _svd_bwd(ctx, g):
    U, S, Vh = ctx.saved
    gU, gS, gVh = g
    if ctx.params["full_matrices"]:  # the extra columns of U / rows of Vh carry no information about A
        k = S.shape[-1]
        U, gU, Vh, gVh = U.narrow(-1, 0, k), gU.narrow(-1, 0, k), Vh.narrow(-2, 0, k), gVh.narrow(-2, 0, k)
    return _svd_backward(gU, gS, gVh, U, S, Vh)


LINALG_SVD = defop("linalg_svd", _svd_fwd, _svd_bwd, save=("out", "out1", "out2"), node="LinalgSvdBackward0",
                   group="linalg", dtype="keep", nout=3)


def _svdvals_bwd(ctx, g):
    A, = ctx.saved
    U, S, Vh = apply(LINALG_SVD, A, full_matrices=False)
    return _svd_backward(None, g, None, U, S, Vh)


LINALG_SVDVALS = defop("linalg_svdvals", lambda xp, a: xp.linalg.svd(a, compute_uv=False), _svdvals_bwd, save=(0,),
                       node="LinalgSvdBackward0", group="linalg", dtype="keep")


def svd(A, full_matrices=True):
    """U, S, Vh with A = U diag(S) Vh, S descending."""
    _check_matrix(A, "linalg.svd", square=False)
    return linalg_svd(*apply(LINALG_SVD, A, full_matrices=bool(full_matrices)))


def svdvals(A):
    """The singular values of A, descending."""
    _check_matrix(A, "linalg.svd", square=False)
    return apply(LINALG_SVDVALS, A)


@export(name="svd")
def _svd(input, some=True, compute_uv=True):
    _check_matrix(input, "linalg.svd", square=False)
    if not compute_uv:  # PyTorch: zero-filled U (m x m) and V (n x n)
        S = apply(LINALG_SVDVALS, input)
        m, n = input.shape[-2:]
        return svd_type(input.new_zeros(*input.shape[:-2], m, m), S, input.new_zeros(*input.shape[:-2], n, n))
    U, S, Vh = apply(LINALG_SVD, input, full_matrices=not some)
    return svd_type(U, S, Vh.mT)


# ---- eigh / eigvalsh -------------------------------------------------------------------------------------------
def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _eigh_backward(gL, gV, L, V):
    """PyTorch's linalg_eig_backward for a real symmetric A = V diag(L) V^T."""
    if gV is None:
        return (V * gL.unsqueeze(-2)) @ V.mT
    VhgV = V.mT @ gV
    VhgV = 0.5 * (VhgV - VhgV.mT)
    E = _nonzero(L.unsqueeze(-2) - L.unsqueeze(-1) + _eye(L.shape[-1], L))  # E_ij = L_j - L_i, 1 on the diagonal
    gA = VhgV / E + _diag_embed(gL)  # (the diagonal of the skew part is 0)
    return V @ (gA @ V.mT)


def _eigh_bwd(ctx, g):
    L, V = ctx.saved
    return _eigh_backward(g[0], g[1], L, V)


LINALG_EIGH = defop("linalg_eigh", lambda xp, a, UPLO: xp.linalg.eigh(a, UPLO=UPLO), _eigh_bwd,
                    save=("out", "out1"), node="LinalgEighBackward0", group="linalg", dtype="keep", nout=2)


def _eigvalsh_bwd(ctx, g):
    A, = ctx.saved
    L, V = apply(LINALG_EIGH, A, UPLO=ctx.params["UPLO"])
    return _eigh_backward(g, None, L, V)


LINALG_EIGVALSH = defop("linalg_eigvalsh", lambda xp, a, UPLO: xp.linalg.eigvalsh(a, UPLO=UPLO), _eigvalsh_bwd,
                        save=(0,), node="LinalgEighBackward0", group="linalg", dtype="keep")


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of each symmetric matrix (its UPLO triangle is read)."""
    _check_matrix(A, "linalg.eigh")
    _check_uplo(UPLO)
    return linalg_eigh(*apply(LINALG_EIGH, A, UPLO=UPLO))


def eigvalsh(A, UPLO="L"):
    _check_matrix(A, "linalg.eigh")
    _check_uplo(UPLO)
    return apply(LINALG_EIGVALSH, A, UPLO=UPLO)


# ---- pinv / lstsq ----------------------------------------------------------------------------------------------
def _pinv_fwd(xp, a, atol, rtol, hermitian):
    m, n = a.shape[-2:]
    if rtol is None:
        rtol = 0.0 if atol else float(np.finfo(a.dtype).eps) * max(m, n)
    atol = atol or 0.0
    if a.size == 0:
        return xp.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    if hermitian:
        w, V = xp.linalg.eigh(a)
        s = xp.abs(w)
        keep = s > xp.maximum(atol, rtol * s.max(-1, keepdims=True))
        winv = xp.where(keep, 1 / xp.where(keep, w, 1), 0).astype(a.dtype)
        return (V * winv[..., None, :]) @ xp.swapaxes(V, -1, -2)
    U, s, Vh = xp.linalg.svd(a, full_matrices=False)
    keep = s > xp.maximum(atol, rtol * s[..., :1])
    sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
    return (xp.swapaxes(Vh, -1, -2) * sinv[..., None, :]) @ xp.swapaxes(U, -1, -2)


def _pinv_backward(grad, pinvA, A):
    """PyTorch's pinv_backward (real)."""
    m, n = A.shape[-2:]
    pinvAh, gradh = pinvA.mT, grad.mT
    if m <= n:
        K = gradh @ pinvA
        KpinvAh = K @ pinvAh
        return -(pinvA @ K).mT + KpinvAh - (A @ pinvA) @ KpinvAh + (pinvAh @ pinvA) @ (gradh - K @ A)
    K = pinvA @ gradh
    pinvAhK = pinvAh @ K
    return -(K @ pinvA).mT + ((gradh - A @ K) @ pinvA) @ pinvAh + pinvAhK - (pinvAhK @ pinvA) @ A


def _pinv_bwd(ctx, g):
    A, P = ctx.saved
    return _pinv_backward(g, P, A)


LINALG_PINV = defop("linalg_pinv", _pinv_fwd, _pinv_bwd, save=(0, "out"), node="LinalgPinvBackward0",
                    group="linalg", dtype="keep")


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse; singular values below max(atol, rtol * largest) count as zero."""
    if A.ndim < 2 or A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.pinv({SCALAR_TYPE_NAMES.get(A.dtype.name, A.dtype.name)}{list(A.shape)}): "
                           "expected a tensor with 2 or more dimensions of float, double, cfloat or cdouble types")
    _check_float(A, "linalg.pinv")
    return apply(LINALG_PINV, A, atol=None if atol is None else float(atol),
                 rtol=None if rtol is None else float(rtol), hermitian=bool(hermitian))


@export
def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def _lstsq_fwd(xp, a, b, rcond, vector):
    # the minimum-norm least-squares solution pinv(A) B, batched (numpy's and CuPy's lstsq take one matrix)
    if vector:
        b = b[..., None]
    x = _pinv_fwd(xp, a, None, rcond, False) @ b
    return (x[..., 0] if vector else x), xp.empty((0,), dtype=a.dtype)


def _lstsq_bwd(ctx, g):
    A, B = ctx.saved
    gX = g[0]  # (the residuals of the gelsy driver are empty)
    vector = ctx.params["vector"]
    if vector:
        gX, B = gX.unsqueeze(-1), B.unsqueeze(-1)
    pinvA = apply(LINALG_PINV, A, atol=None, rtol=ctx.params["rcond"], hermitian=False)
    gA = _pinv_backward(gX @ B.mT, pinvA, A) if ctx.needs_input_grad[0] else None
    gB = pinvA.mT @ gX if ctx.needs_input_grad[1] else None
    if vector and gB is not None:
        gB = gB.squeeze(-1)
    return gA, gB


LINALG_LSTSQ = defop("linalg_lstsq", _lstsq_fwd, _lstsq_bwd, save=(0, 1), node="LinalgLstsqBackward0",
                     group="linalg", dtype="keep", nout=2)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (PyTorch's default 'gelsy' driver: residuals and singular_values are
    empty; rank is each matrix's numerical rank)."""
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    _check_float(A, "torch.linalg.lstsq")
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    if driver not in (None, "gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if driver not in (None, "gelsy"):
        raise NotImplementedError(f"torch.linalg.lstsq: driver {driver!r} is not implemented here; use the "
                                  "default 'gelsy'")
    vector = B.ndim == A.ndim - 1
    if (B.shape[-1] if vector else B.shape[-2]) != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    rc = float(np.finfo(A._data.dtype).eps) * max(m, n) if rcond is None or rcond < 0 else float(rcond)
    X, residuals = apply(LINALG_LSTSQ, A, B, rcond=rc, vector=vector)
    a = A._data

    def rank(xp, dt):
        if a.size == 0:
            return xp.zeros(a.shape[:-2], dtype="int64")
        s = xp.linalg.svd(a, compute_uv=False)
        return (s > rc * s[..., :1]).sum(-1).astype("int64")
    return linalg_lstsq(X, residuals, _const(A, rank), _const(A, lambda xp, dt: xp.empty((0,), dtype=dt)))


# ---- matrix_exp ------------------------------------------------------------------------------------------------
# Higham (2005): the degree-13 Pade approximant, exact to double precision for ||A||_1 <= theta_13
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _matrix_exp_fwd(xp, a):
    if a.size == 0:
        return a.copy()
    # NOTE: a host sync on the GPU, as in PyTorch's matrix_exp (it reads the norms on the CPU): the number of
    # squarings is chosen from the largest 1-norm of the batch
    norm = float(xp.abs(a).sum(-2).max())
    s = max(0, math.ceil(math.log2(norm / _THETA13))) if math.isfinite(norm) and norm > 0 else 0
    A = a / a.dtype.type(2.0 ** s)
    b = _PADE13
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2 + b[1] * eye)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 + b[0] * eye
    R = xp.linalg.solve(V - U, V + U)
    for _ in range(s):
        R = R @ R
    return R.astype(a.dtype, copy=False)


def _matrix_exp_bwd(ctx, g):
    # PyTorch's linalg_matrix_exp_differential (adjoint): the upper right block of exp([[A^T, G], [0, A^T]])
    A, = ctx.saved
    n = A.shape[-1]
    At = A.mT
    meta = cat([cat([At, g], -1), cat([At * 0, At], -1)], -2)
    return apply(LINALG_MATRIX_EXP, meta).narrow(-2, 0, n).narrow(-1, n, n)


LINALG_MATRIX_EXP = defop("linalg_matrix_exp", _matrix_exp_fwd, _matrix_exp_bwd, save=(0,),
                          node="LinalgMatrixExpBackward0", group="linalg", dtype="keep")


def matrix_exp(A):
    """exp(A) = sum_k A^k / k! of each square matrix."""
    _check_matrix(A, "linalg.matrix_exp")
    return apply(LINALG_MATRIX_EXP, A)


@export(name="matrix_exp")
def _matrix_exp(input):
    return matrix_exp(input)


# ---- matrix_power / multi_dot: composites of matmul and inv ---------------------------------------------------
def matrix_power(A, n):
    """A @ A @ ... (n times); A^0 is the identity, a negative n powers the inverse."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if n == 0:
        return _eye(A.shape[-1], A).expand(A.shape) + A * 0
    if n < 0:
        A, n = inv(A), -n
        if n == 1:
            return A
    if n == 1:
        return A.clone()
    if n == 2:
        return A @ A
    if n == 3:
        return (A @ A) @ A
    result, z = None, A  # binary powering, as PyTorch
    while n:
        if n & 1:
            result = z if result is None else result @ z
        n >>= 1
        if n:
            z = z @ z
    return result


@export(name="matrix_power")
def _matrix_power(input, n):
    return matrix_power(input, n)


def multi_dot(tensors):
    """The product of a chain of matrices (the first and last may be vectors), in the cheapest order."""
    tensors = list(tensors)
    k = len(tensors)
    if k < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {k}")
    for i, t in enumerate(tensors):
        want = "first" if i == 0 else "last" if i == k - 1 else None
        if want and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the {want} tensor must be 1D or 2D but got {t.ndim}D")
        if not want and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = [t.unsqueeze(0) if i == 0 and first_vec else t.unsqueeze(-1) if i == k - 1 and last_vec else t
            for i, t in enumerate(tensors)]
    for i in range(k - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                               f"{list(tensors[i + 1].shape)} cannot be multiplied")
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    # the matrix-chain order (dynamic programming over the split points)
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = math.inf
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def chain(i, j):
        return mats[i] if i == j else chain(i, split[i][j]).mm(chain(split[i][j] + 1, j))
    out = chain(0, k - 1)
    shape = ([] if first_vec else [dims[0]]) + ([] if last_vec else [dims[-1]])
    return out.view(*shape) if shape else out.view(())


# ---- norms -----------------------------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(sum |x|^ord)^(1/ord) over `dim` (all elements for None); ord may be inf, -inf or 0."""
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if not x.is_floating_point():  # (bfloat16's numpy kind is "V")
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{SCALAR_TYPE_NAMES.get(x.dtype.name, x.dtype.name)}")
    if isinstance(dim, int):
        dim = (dim,)
    return apply(NORM, x, p=float(ord), dims=_dims(dim, x.ndim), keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """'fro', 'nuc', 2, -2 (largest / smallest singular value), 1, -1, inf, -inf (max / min column / row sum)."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    _check_float(A, "linalg.matrix_norm")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = _dim(dim[0], A.ndim), _dim(dim[1], A.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    inf = float("inf")
    if ord in ("nuc", 2, -2):
        perm = [d for d in range(A.ndim) if d not in (d0, d1)] + [d0, d1]
        S = svdvals(A.permute(*perm))
        r = S.sum(-1, keepdim=keepdim) if ord == "nuc" else S.amax(-1, keepdim) if ord == 2 else S.amin(-1, keepdim)
        if keepdim:  # (as PyTorch: back through the inverse permutation)
            r = r.unsqueeze(-1).permute(*[perm.index(d) for d in range(A.ndim)])
        return r
    if ord in (1, -1, inf, -inf):
        red, other = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(red, keepdim=keepdim)
        if not keepdim and red < other:
            other -= 1
        return s.amax(other, keepdim) if ord > 0 else s.amin(other, keepdim)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (dim an int, or a 1-D input) or a matrix norm (dim a 2-tuple, or a 2-D input)."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.ndim}D.")
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)

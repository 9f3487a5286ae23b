"""torch.linalg: ``import autograd_gpu as torch; torch.linalg.inv(A)``. The rows and their derivatives are in
ops/linalg.py."""
from .ops.linalg import (LinAlgError, cholesky, det, eigh, eigvalsh, inv, lstsq, matrix_exp, matrix_norm,  # noqa: F401
                         matrix_power, multi_dot, norm, pinv, qr, slogdet, solve, solve_triangular, svd, svdvals,
                         vector_norm)

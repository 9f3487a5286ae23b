"""torch.linalg: ``import autograd_gpu as torch; torch.linalg.inv(A)``. The rows and their derivatives are in
ops/linalg.py."""
from .ops.linalg import (LinAlgError, cholesky, det, eigh, eigvalsh, inv, lstsq,  # noqa: F401
                         matrix_exp, matrix_norm, matrix_power, multi_dot, norm, pinv, qr, slogdet, solve, svd,
                         svdvals, vector_norm)

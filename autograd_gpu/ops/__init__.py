"""The op table. Importing this package declares every primitive; OPS maps name -> Op row."""
from . import activation, arithmetic, backward_kernels, indexing, inplace, reduction, shape, unary  # noqa: F401
from . import conv_ops, nn_ops  # noqa: F401
from .core import OPS as _OPS_BY_NAME, apply, defop, sum_to  # noqa: F401

OPS = tuple(op for op in _OPS_BY_NAME.values() if op.public)
ALL_OPS = tuple(_OPS_BY_NAME.values())

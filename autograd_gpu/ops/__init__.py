"""The op table. Importing this package declares every primitive (core.OP_TABLE, name -> Op row) and every
public function (core.EXPORTS); PUBLIC_OPS are the rows a test case must name (tests/op_cases.py)."""
from . import activation, arithmetic, indexing, inplace, reduction, shape, unary  # noqa: F401
from . import conv_ops, nn_ops  # noqa: F401
from . import sorting  # noqa: F401
from . import linalg  # noqa: F401
from . import rnn_ops  # noqa: F401
from . import matrix  # noqa: F401
from . import random_ops  # noqa: F401
from . import gamma  # noqa: F401
from .core import EXPORTS, OP_TABLE, apply, defop, sum_to  # noqa: F401

PUBLIC_OPS = tuple(op for op in OP_TABLE.values() if op.public)

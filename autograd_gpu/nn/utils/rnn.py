"""torch.nn.utils.rnn: PackedSequence and the packing utilities (defined in nn/_rnn_utils.py, below nn.modules,
which the recurrent layers import without loading nn.utils and its parametrizations)."""
from .._rnn_utils import (PackedSequence, invert_permutation, pack_padded_sequence, pack_sequence,  # noqa: F401
                          pad_packed_sequence, pad_sequence, unpack_sequence, unpad_sequence)
from .._rnn_utils import __all__  # noqa: F401

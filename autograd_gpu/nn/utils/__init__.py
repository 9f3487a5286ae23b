"""torch.nn.utils: gradient clipping, conv/linear-BatchNorm fusion, skip_init, parameters as a vector,
parametrizations, weight and spectral norm."""
from . import parametrizations, parametrize  # noqa: F401
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,  # noqa: F401
                        get_total_norm)
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: F401
                     fuse_linear_bn_weights)
from .init import skip_init  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401
from .rnn import (PackedSequence, invert_permutation, pack_padded_sequence, pack_sequence,  # noqa: F401
                  pad_packed_sequence, pad_sequence, unpack_sequence, unpad_sequence)

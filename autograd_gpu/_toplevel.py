"""torch's top-level spellings of nn.functional ops and of in-place Tensor methods (`torch.conv2d`,
`torch.dropout(x, p, train)`, `torch.relu_(x)`, `torch.abs_(x)`), with torch's top-level (aten) signatures where
they differ from F's: positional `train`, weight-first `embedding`, `stride=()` meaning kernel_size, an int
`reduction` (aten's enum: 1 mean, 2 sum, any other int none), trailing `cudnn_enabled` flags (ignored)."""
import builtins

from .nn import functional as F
from .tensor import Tensor


def _reduction(reduction, name):
    if builtins.type(reduction) is not builtins.int:
        raise TypeError(f"{name}(): argument 'reduction' must be int, not {builtins.type(reduction).__name__}")
    return {1: "mean", 2: "sum"}.get(reduction, "none")


def _stride(stride):
    return None if isinstance(stride, (tuple, list)) and not stride else stride


def dropout(input, p, train):
    return F.dropout(input, p, train)


def dropout_(input, p, train):
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    return F.alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_dropout(input, p, train):
    return F._feature_dropout(input, p, train, False)


def feature_dropout_(input, p, train):
    return F._feature_dropout(input, p, train, True)


def feature_alpha_dropout(input, p, train):
    return F._feature_dropout(input, p, train, False, alpha=True)


def feature_alpha_dropout_(input, p, train):
    return F._feature_dropout(input, p, train, True, alpha=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    # aten: a negative padding_idx is no padding (F.embedding has already wrapped a negative one)
    return F.embedding(indices, weight, padding_idx if padding_idx >= 0 else None,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def _max_pool(f):
    def pool(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return f(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)
    pool.__name__ = pool.__qualname__ = f.__name__
    return pool


max_pool1d, max_pool2d, max_pool3d, max_pool1d_with_indices = map(
    _max_pool, (F.max_pool1d, F.max_pool2d, F.max_pool3d, F.max_pool1d_with_indices))


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_max_pool1d(input, output_size):
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return F.binary_cross_entropy_with_logits(input, target, weight, pos_weight=pos_weight,
                                              reduction=_reduction(reduction, "binary_cross_entropy_with_logits"))


def kl_div(input, target, reduction=1, *, log_target=False):
    # aten's mean is over every element, without F's 'mean' deprecation warning
    loss = F.kl_div(input, target, reduction="none", log_target=log_target)
    return F._reduce(loss, _reduction(reduction, "kl_div"))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction, "hinge_embedding_loss"))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.margin_ranking_loss(input1, input2, target, margin,
                                 reduction=_reduction(reduction, "margin_ranking_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, reduction=1):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction, "triplet_margin_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction, "poisson_nll_loss"))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1, zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction, "ctc_loss"), zero_infinity)


# F's functions whose signature is torch's top-level one (F's extra trailing `inplace` aside)
_SAME_AS_F = ("adaptive_avg_pool1d bilinear celu celu_ channel_shuffle native_channel_shuffle conv1d conv2d conv3d "
              "conv_transpose1d conv_transpose2d conv_transpose3d cosine_similarity hardshrink pairwise_distance "
              "pdist pixel_shuffle pixel_unshuffle prelu relu_ rms_norm rrelu rrelu_ selu selu_ threshold "
              "threshold_").split()

# torch.<name>_(input, *args) is input.<name>_(*args)
_INPLACE_METHODS = ("abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ "
                    "atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ detach_ erf_ erfc_ exp2_ "
                    "exp_ expm1_ fill_ fix_ floor_ frac_ gcd_ index_put_ lcm_ log10_ log1p_ log2_ log_ logit_ "
                    "nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ "
                    "square_ tan_ tanh_ trunc_ xlogy_ zero_").split()


def _method(name):
    method = getattr(Tensor, name)

    def f(input, *args, **kwargs):
        return method(input, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"torch.{name}(input, ...) is input.{name}(...)"
    return f


EXPORTS = {name: getattr(F, name) for name in _SAME_AS_F}
EXPORTS.update({name: _method(name) for name in _INPLACE_METHODS})
EXPORTS.update({name: obj for name, obj in list(globals().items())
                if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", None) == __name__})

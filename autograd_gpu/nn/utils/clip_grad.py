"""Gradient clipping. The total norm stays a tensor: nothing is read back to the host."""
from ...autograd import grad_mode
from ...tensor import Tensor
from ...ops.reduction import norm
from ...ops.shape import stack
from ... import creation


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients in place so their joint norm is at most max_norm; return the norm before clipping.

    >>> total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return creation.tensor(0.0)
    with grad_mode.no_grad():
        norms = stack([norm(g, norm_type) for g in grads]) if len(grads) > 1 else norm(grads[0], norm_type).reshape(1)
        if norm_type == float("inf"):
            total = norms.max()
        else:
            total = norm(norms, norm_type)
        if error_if_nonfinite and not bool((total - total) == 0):  # inf - inf and nan are nan
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                               "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
                               "by the non-finite norm anyway, set `error_if_nonfinite=False`")
        # NOTE: clamp instead of `if coef < 1`, so no value is read back to the host
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient elementwise to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with grad_mode.no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)

"""Adam, with AMSGrad and (decoupled) weight decay (torch.optim.Adam)."""
import math

from .._kernels import kernel
from .optimizer import Optimizer, _check_fused, _check_hyperparameter, _fused_reference, _grad, _lerp_

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, step for step as torch.optim.Adam::

        g = -grad if maximize else grad;  g += weight_decay * p   (decoupled: p *= 1 - lr * weight_decay)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g   (amsgrad: v_max = max(v_max, v))
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: "step" (a CPU tensor), "exp_avg", "exp_avg_sq", "max_exp_avg_sq". Under a GradScaler,
    and with ``fused=True``, the step is PyTorch's fused one: "step" a float32 tensor on the parameter's device,
    the bias corrections computed from it in the kernel, a step with an inf/NaN gradient skipped there.

    >>> opt = Adam(model.parameters(), lr=1e-3)
    """

    _step_supports_amp_scaling = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("eps", eps, "Invalid epsilon value")
        for i in (0, 1):
            _check_hyperparameter(f"betas[{i}]", betas[i], f"Invalid beta parameter at index {i}")
            if not betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)):
            raise ValueError("betas must be either both floats or both Tensors")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        _check_fused(fused, foreach)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _step_args(self, p, group, fused=False):
        amsgrad = group["amsgrad"]
        names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")
        state, step = self._stepped_state(p, names, fused=fused)
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        scalars = dict(beta1_weight=1 - beta1, beta2=beta2, one_minus_beta2=1 - beta2,
                       weight_decay=0.0 if decoupled else weight_decay,
                       decay=1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0, eps=group["eps"],
                       maximize=group["maximize"])
        buffers = tuple(state[n] for n in names)
        if fused:  # the bias corrections from the device step, in the kernel
            scalars.update(neg_lr=-lr, log_beta1=_log(beta1), log_beta2=_log(beta2))
            return (_ADAM_AMSGRAD_FUSED if amsgrad else _ADAM_FUSED), (p, p._grad, state["step"], *buffers), scalars
        # host-side numbers in double precision, as torch.optim computes them in Python
        bias_correction2 = 1 - beta2 ** step
        scalars.update(neg_step_size=-lr / (1 - beta1 ** step), bias_correction2_sqrt=bias_correction2 ** 0.5)
        return (_ADAM_AMSGRAD if amsgrad else _ADAM), (p, p._grad, *buffers), scalars


def _log(beta):
    return math.log(beta) if beta > 0 else -math.inf  # (1 - 0**t = 1 = -expm1(-inf))


def _adam_ref(xp, p, g, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, beta1_weight, beta2, one_minus_beta2,
              weight_decay, decay, eps, neg_step_size, bias_correction2_sqrt, maximize):
    """The step of kernels/optim.cu's adam_step (adam_amsgrad_step with max_exp_avg_sq), operation for operation."""
    if decay != 1:
        p *= decay
    g = _grad(g, p, weight_decay, maximize)
    _lerp_(exp_avg, g, beta1_weight)
    exp_avg_sq *= beta2
    exp_avg_sq += (one_minus_beta2 * g) * g
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        v = xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    p += (neg_step_size * exp_avg) / (xp.sqrt(v) / bias_correction2_sqrt + eps)


def _adam_bias(xp, t, *, neg_lr, log_beta1, log_beta2, **scalars):
    """kernels/optim.cu's adam_bias: the step size and sqrt(bias_correction2) at step t, from 1 - beta^t =
    -expm1(t * log(beta))."""
    return dict(scalars, neg_step_size=neg_lr / -xp.expm1(t * log_beta1),
                bias_correction2_sqrt=xp.sqrt(-xp.expm1(t * log_beta2)))


_ADAM = kernel("adam_step", _adam_ref)
_ADAM_AMSGRAD = kernel("adam_amsgrad_step", _adam_ref)
_ADAM_FUSED = kernel("adam_fused_step", _fused_reference(_adam_ref, _adam_bias))
_ADAM_AMSGRAD_FUSED = kernel("adam_amsgrad_fused_step", _fused_reference(_adam_ref, _adam_bias))

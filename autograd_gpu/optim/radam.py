"""RAdam, with decoupled weight decay (torch.optim.RAdam)."""
from .._kernels import kernel
from .nadam import _check_betas
from .optimizer import Optimizer, _check_hyperparameter, _grad, _lerp_

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (rectified Adam), step for step as torch.optim.RAdam::

        g = -grad if maximize else grad;  g += weight_decay * p   (decoupled: p *= 1 - lr * weight_decay)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        rho_t > 5:  p -= lr * m / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v) + eps) * rect(rho_t)
        otherwise:  p -= lr * m / (1 - beta1**t)

    State per parameter: "step" (a CPU tensor), "exp_avg", "exp_avg_sq".

    >>> opt = RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("eps", eps, "Invalid epsilon value")
        _check_betas(betas)
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        state, step = self._stepped_state(p, ("exp_avg", "exp_avg_sq"))
        m, v = state["exp_avg"], state["exp_avg_sq"]
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        # the rectification depends on the step count only: decided on the host, as torch (capturable=False)
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rectify = rho_t > 5.0
        rect = 1.0
        if rectify:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        return _RADAM, (p, p._grad, m, v), dict(
            beta1_weight=1 - beta1, beta2=beta2, one_minus_beta2=1 - beta2,
            weight_decay=0.0 if decoupled else weight_decay,
            decay=1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0, eps=group["eps"], lr=lr,
            bias_correction1=1 - beta1 ** step, bias_correction2_sqrt=bias_correction2 ** 0.5, rect=rect,
            rectify=rectify, maximize=group["maximize"])


def _radam_ref(xp, p, g, exp_avg, exp_avg_sq, *, beta1_weight, beta2, one_minus_beta2, weight_decay, decay, eps, lr,
               bias_correction1, bias_correction2_sqrt, rect, rectify, maximize):
    """The step of kernels/optim.cu's radam_step, operation for operation."""
    if decay != 1:
        p *= decay
    g = _grad(g, p, weight_decay, maximize)
    _lerp_(exp_avg, g, beta1_weight)
    exp_avg_sq *= beta2
    exp_avg_sq += (one_minus_beta2 * g) * g
    step = (exp_avg / bias_correction1) * lr
    if rectify:
        p -= step * ((1 / (xp.sqrt(exp_avg_sq) + eps)) * bias_correction2_sqrt) * rect  # (torch: reciprocal * scalar)
    else:
        p -= step


_RADAM = kernel("radam_step", _radam_ref)

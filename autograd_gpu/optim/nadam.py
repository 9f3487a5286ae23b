"""NAdam, with decoupled weight decay and momentum decay (torch.optim.NAdam)."""
from .._kernels import kernel
from .optimizer import Optimizer, _check_hyperparameter, _grad, _lerp_, _step_tensor

__all__ = ["NAdam"]


def _check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


class NAdam(Optimizer):
    """NAdam (Adam with Nesterov momentum), step for step as torch.optim.NAdam::

        g = -grad if maximize else grad;  g += weight_decay * p   (decoupled: p *= 1 - lr * weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay));  mu_product *= mu_t
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  denom = sqrt(v / (1 - beta2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - mu_product) * g / denom + lr * mu_{t+1} / (1 - mu_product * mu_{t+1}) * m / denom

    State per parameter: "step" and "mu_product" (CPU tensors), "exp_avg", "exp_avg_sq".

    >>> opt = NAdam(model.parameters(), lr=2e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("eps", eps, "Invalid epsilon value")
        _check_betas(betas)
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        _check_hyperparameter("momentum_decay", momentum_decay, "Invalid momentum_decay value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        state, step = self._stepped_state(p, ("exp_avg", "exp_avg_sq"))
        if "mu_product" not in state:  # (a CPU tensor of the scalar dtype, like "step")
            state["mu_product"] = _step_tensor()
            state["mu_product"]._data[...] = 1
        m, v, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
        beta1, beta2 = group["betas"]
        lr, weight_decay, momentum_decay = group["lr"], group["weight_decay"], group["momentum_decay"]
        decoupled = group["decoupled_weight_decay"]
        # host-side numbers in double precision, as torch.optim computes them in Python; mu_product is a
        # tensor of the scalar dtype (float32 by default), multiplied in that dtype, as torch's
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product._data *= mu
        mu_product._bump_version()
        # NOTE: a CPU tensor (no wait); one loaded onto the GPU by load_state_dict is read back, as in torch
        mu_product_value = mu_product.item()
        return _NADAM, (p, p._grad, m, v), dict(
            beta1_weight=1 - beta1, beta2=beta2, one_minus_beta2=1 - beta2,
            weight_decay=0.0 if decoupled else weight_decay,
            decay=1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0, eps=group["eps"],
            bias_correction2=1 - beta2 ** step, grad_coef=-lr * (1.0 - mu) / (1.0 - mu_product_value),
            exp_avg_coef=(-lr * mu_next) / (1.0 - mu_product_value * mu_next), maximize=group["maximize"])


def _nadam_ref(xp, p, g, exp_avg, exp_avg_sq, *, beta1_weight, beta2, one_minus_beta2, weight_decay, decay, eps,
               bias_correction2, grad_coef, exp_avg_coef, maximize):
    """The step of kernels/optim.cu's nadam_step, operation for operation."""
    if decay != 1:
        p *= decay
    g = _grad(g, p, weight_decay, maximize)
    _lerp_(exp_avg, g, beta1_weight)
    exp_avg_sq *= beta2
    exp_avg_sq += (one_minus_beta2 * g) * g
    denom = xp.sqrt(exp_avg_sq / bias_correction2) + eps
    p += (grad_coef * g) / denom
    p += (exp_avg_coef * exp_avg) / denom


_NADAM = kernel("nadam_step", _nadam_ref)

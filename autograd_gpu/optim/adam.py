"""Adam, with AMSGrad and (decoupled) weight decay (torch.optim.Adam)."""
from .._kernels import kernel
from .optimizer import Optimizer, _check_hyperparameter, _grad, _lerp_

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, step for step as torch.optim.Adam::

        g = -grad if maximize else grad;  g += weight_decay * p   (decoupled: p *= 1 - lr * weight_decay)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g   (amsgrad: v_max = max(v_max, v))
        p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: "step" (a CPU tensor), "exp_avg", "exp_avg_sq", "max_exp_avg_sq".

    >>> opt = Adam(model.parameters(), lr=1e-3)
    """

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
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        amsgrad = group["amsgrad"]
        state, step = self._stepped_state(p, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad
                                          else ("exp_avg", "exp_avg_sq"))
        beta1, beta2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]
        # host-side numbers in double precision, as torch.optim computes them in Python
        bias_correction2 = 1 - beta2 ** step
        decoupled = group["decoupled_weight_decay"]
        scalars = dict(beta1_weight=1 - beta1, beta2=beta2, one_minus_beta2=1 - beta2,
                       weight_decay=0.0 if decoupled else weight_decay,
                       decay=1 - lr * weight_decay if decoupled and weight_decay != 0 else 1.0, eps=group["eps"],
                       neg_step_size=-lr / (1 - beta1 ** step), bias_correction2_sqrt=bias_correction2 ** 0.5,
                       maximize=group["maximize"])
        if amsgrad:
            return _ADAM_AMSGRAD, (p, p._grad, state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"]), scalars
        return _ADAM, (p, p._grad, state["exp_avg"], state["exp_avg_sq"]), scalars


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


_ADAM = kernel("adam_step", _adam_ref)
_ADAM_AMSGRAD = kernel("adam_amsgrad_step", _adam_ref)

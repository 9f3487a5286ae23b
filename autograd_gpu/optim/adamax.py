"""Adamax: Adam with the infinity norm (torch.optim.Adamax)."""
from .._kernels import kernel
from .nadam import _check_betas
from .optimizer import Optimizer, _check_hyperparameter, _grad, _lerp_

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, step for step as torch.optim.Adamax::

        g = -grad if maximize else grad;  g += weight_decay * p
        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1**t) * m / u

    State per parameter: "step" (a CPU tensor), "exp_avg", "exp_inf".

    >>> opt = Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("eps", eps, "Invalid epsilon value")
        _check_betas(betas)
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        state, step = self._stepped_state(p, ("exp_avg", "exp_inf"))
        beta1, beta2 = group["betas"]
        return _ADAMAX, (p, p._grad, state["exp_avg"], state["exp_inf"]), dict(
            beta1_weight=1 - beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
            neg_clr=-(group["lr"] / (1 - beta1 ** step)), maximize=group["maximize"])


def _adamax_ref(xp, p, g, exp_avg, exp_inf, *, beta1_weight, beta2, eps, weight_decay, neg_clr, maximize):
    """The step of kernels/optim.cu's adamax_step, operation for operation (maximum propagates NaN, as torch's)."""
    g = _grad(g, p, weight_decay, maximize)
    _lerp_(exp_avg, g, beta1_weight)
    exp_inf *= beta2
    xp.maximum(exp_inf, xp.abs(g) + eps, out=exp_inf)
    p += (neg_clr * exp_avg) / exp_inf


_ADAMAX = kernel("adamax_step", _adamax_ref)

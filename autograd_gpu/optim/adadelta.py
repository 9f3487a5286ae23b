"""Adadelta (torch.optim.Adadelta)."""
from .._kernels import kernel
from .optimizer import Optimizer, _check_hyperparameter, _grad

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, step for step as torch.optim.Adadelta::

        g = -grad if maximize else grad;  g += weight_decay * p
        sq = rho * sq + (1 - rho) * g * g
        delta = sqrt(acc + eps) / sqrt(sq + eps) * g;  acc = rho * acc + (1 - rho) * delta * delta
        p -= lr * delta

    State per parameter: "step" (a CPU tensor), "square_avg", "acc_delta".

    >>> opt = Adadelta(model.parameters(), lr=1.0, rho=0.9)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_hyperparameter("eps", eps, "Invalid epsilon value")
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        state, _ = self._stepped_state(p, ("square_avg", "acc_delta"))
        return _ADADELTA, (p, p._grad, state["square_avg"], state["acc_delta"]), dict(
            neg_lr=-group["lr"], rho=group["rho"], one_minus_rho=1 - group["rho"], eps=group["eps"],
            weight_decay=group["weight_decay"], maximize=group["maximize"])


def _adadelta_ref(xp, p, g, square_avg, acc_delta, *, neg_lr, rho, one_minus_rho, eps, weight_decay, maximize):
    """The step of kernels/optim.cu's adadelta_step, operation for operation."""
    g = _grad(g, p, weight_decay, maximize)
    square_avg *= rho
    square_avg += (one_minus_rho * g) * g
    delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
    acc_delta *= rho
    acc_delta += (one_minus_rho * delta) * delta
    p += neg_lr * delta


_ADADELTA = kernel("adadelta_step", _adadelta_ref)

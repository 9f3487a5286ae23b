"""SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""
from .. import _kernels as K
from .optimizer import Optimizer, _bump_version, _check_hyperparameter, _zeros_like

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, step for step as torch.optim.SGD::

        g = -grad if maximize else grad;  g += weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        p -= lr * (g + momentum * buf if nesterov else buf)     # p -= lr * g without momentum

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("momentum", momentum, "Invalid momentum value")
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _update(self, p, group):
        buf, first = None, False
        if group["momentum"] != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:  # the first step sets it to the gradient
                buf = state["momentum_buffer"] = _zeros_like(p)
                first = True
        K.sgd_step(p._data, p._grad._data, None if buf is None else buf._data, lr=group["lr"],
                   weight_decay=group["weight_decay"], momentum=group["momentum"],
                   dampening=group["dampening"], nesterov=group["nesterov"], maximize=group["maximize"],
                   first=first)
        _bump_version(p, buf)

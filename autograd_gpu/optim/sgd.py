"""SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)."""
from .._kernels import kernel
from .optimizer import Optimizer, _check_fused, _check_hyperparameter, _fused_reference, _grad, _zeros_like

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, step for step as torch.optim.SGD::

        g = -grad if maximize else grad;  g += weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        p -= lr * (g + momentum * buf if nesterov else buf)     # p -= lr * g without momentum

    Under a GradScaler, and with ``fused=True``, the step is PyTorch's fused one: a step with an inf/NaN gradient
    is skipped on the device.

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    _step_supports_amp_scaling = True

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("momentum", momentum, "Invalid momentum value")
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_fused(fused, foreach)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _step_args(self, p, group, fused=False):
        scalars = dict(lr=group["lr"], weight_decay=group["weight_decay"], maximize=group["maximize"])
        momentum = group["momentum"]
        if momentum == 0:
            return (_SGD_FUSED if fused else _SGD), (p, p._grad), scalars
        state = self.state[p]
        buf = state.get("momentum_buffer")
        first = buf is None
        if first:  # the first step sets it to the gradient
            buf = state["momentum_buffer"] = _zeros_like(p)
        scalars.update(momentum=momentum, damp_alpha=1 - group["dampening"], nesterov=group["nesterov"], first=first)
        return (_SGD_MOMENTUM_FUSED if fused else _SGD_MOMENTUM), (p, p._grad, buf), scalars


# The reference steps of the kernels in kernels/optim.cu (numpy/cupy in-place ops, the same operations in the
# same order); the flags arrive as T, nonzero meaning true.
def _sgd_ref(xp, p, g, *, lr, weight_decay, maximize):
    p -= lr * _grad(g, p, weight_decay, maximize)


def _sgd_momentum_ref(xp, p, g, buf, *, lr, weight_decay, momentum, damp_alpha, nesterov, maximize, first):
    g = _grad(g, p, weight_decay, maximize)
    if first:
        buf[...] = g
    else:
        buf *= momentum
        buf += g if damp_alpha == 1 else damp_alpha * g  # (1 * g is g exactly: one pass less, no temporary)
    p -= lr * (g + momentum * buf if nesterov else buf)


_SGD = kernel("sgd_step", _sgd_ref)
_SGD_MOMENTUM = kernel("sgd_momentum_step", _sgd_momentum_ref)
_SGD_FUSED = kernel("sgd_fused_step", _fused_reference(_sgd_ref))
_SGD_MOMENTUM_FUSED = kernel("sgd_momentum_fused_step", _fused_reference(_sgd_momentum_ref))

"""RMSprop, centered or not, with momentum (torch.optim.RMSprop)."""
from .._kernels import kernel
from .optimizer import Optimizer, _check_hyperparameter, _grad, _lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, step for step as torch.optim.RMSprop::

        g = -grad if maximize else grad;  g += weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        avg = sqrt(sq - ga * ga) + eps with ga = lerp(ga, g, 1 - alpha) if centered else sqrt(sq) + eps
        buf = momentum * buf + g / avg;  p -= lr * buf      (without momentum: p -= lr * g / avg)

    >>> opt = RMSprop(model.parameters(), lr=1e-2, momentum=0.9, centered=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("eps", eps, "Invalid epsilon value")
        _check_hyperparameter("momentum", momentum, "Invalid momentum value")
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        _check_hyperparameter("alpha", alpha, "Invalid alpha value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        centered, with_momentum = group["centered"], group["momentum"] > 0
        state, _ = self._stepped_state(p, ("square_avg",) + (("momentum_buffer",) if with_momentum else ())
                                       + (("grad_avg",) if centered else ()))
        scalars = dict(lr=group["lr"], alpha=group["alpha"], one_minus_alpha=1 - group["alpha"], eps=group["eps"],
                       weight_decay=group["weight_decay"], maximize=group["maximize"])
        if with_momentum:
            scalars["momentum"] = group["momentum"]
        # the kernel's buffers: square_avg, then grad_avg (centered), then momentum_buffer
        tensors = ((p, p._grad, state["square_avg"]) + ((state["grad_avg"],) if centered else ())
                   + ((state["momentum_buffer"],) if with_momentum else ()))
        return _RMSPROP[centered, with_momentum], tensors, scalars


def _rmsprop_ref(centered, with_momentum):
    def ref(xp, p, g, square_avg, *buffers, lr, alpha, one_minus_alpha, eps, weight_decay, maximize, momentum=0):
        grad_avg = buffers[0] if centered else None
        buf = buffers[-1] if with_momentum else None
        g = _grad(g, p, weight_decay, maximize)
        square_avg *= alpha
        square_avg += (one_minus_alpha * g) * g
        if centered:
            _lerp_(grad_avg, g, one_minus_alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += eps
        if with_momentum:
            buf *= momentum
            buf += g / avg
            p -= lr * buf
        else:
            p += (-lr * g) / avg
    return ref


# (centered, momentum) -> the kernel of kernels/optim.cu for that variant
_RMSPROP = {(c, m): kernel("rmsprop" + ("_centered" if c else "") + ("_momentum" if m else "") + "_step",
                           _rmsprop_ref(c, m)) for c in (False, True) for m in (False, True)}

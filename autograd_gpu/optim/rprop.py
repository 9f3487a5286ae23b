"""Rprop, resilient backpropagation (torch.optim.Rprop)."""
from .._kernels import kernel
from .optimizer import Optimizer, _check_hyperparameter, _grad, _increment_step, _step_tensor, _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, step for step as torch.optim.Rprop::

        g = -grad if maximize else grad;  s = sign(g * prev)
        step_size = clamp(step_size * (etaplus if s > 0 else etaminus if s < 0 else 1), *step_sizes)
        g = 0 where s < 0;  p -= sign(g) * step_size;  prev = g

    State per parameter: "step" (a CPU tensor), "prev" (zeros), "step_size" (lr).

    >>> opt = Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2))
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["prev"] = _zeros_like(p)
            state["step_size"] = _zeros_like(p, group["lr"])
        _increment_step(state["step"])
        (etaminus, etaplus), (step_size_min, step_size_max) = group["etas"], group["step_sizes"]
        return _RPROP, (p, p._grad, state["prev"], state["step_size"]), dict(
            etaminus=etaminus, etaplus=etaplus, step_size_min=step_size_min, step_size_max=step_size_max,
            maximize=group["maximize"])


def _sign(xp, x):
    """torch.sign: as numpy's, but 0 for NaN."""
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def _rprop_ref(xp, p, g, prev, step_size, *, etaminus, etaplus, step_size_min, step_size_max, maximize):
    """The step of kernels/optim.cu's rprop_step, operation for operation."""
    g = _grad(g, p, 0, maximize)
    sign = _sign(xp, g * prev)
    factor = xp.ones_like(sign)
    factor[sign > 0] = etaplus
    factor[sign < 0] = etaminus
    step_size *= factor
    xp.clip(step_size, step_size_min, step_size_max, out=step_size)
    g = xp.where(sign < 0, xp.zeros((), g.dtype), g)  # (a new array: the caller's gradient is never written)
    p -= _sign(xp, g) * step_size
    prev[...] = g


_RPROP = kernel("rprop_step", _rprop_ref)

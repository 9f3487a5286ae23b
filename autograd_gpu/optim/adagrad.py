"""Adagrad with learning-rate decay (torch.optim.Adagrad)."""
from .._kernels import kernel
from .optimizer import (Optimizer, _check_fused, _check_hyperparameter, _fused_reference, _fused_step_tensor, _grad,
                        _increment_step, _step_tensor, _zeros_like)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, step for step as torch.optim.Adagrad::

        g = -grad if maximize else grad;  g += weight_decay * p
        state_sum += g * g;  p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)

    State ("step", "sum" = initial_accumulator_value) is created for every parameter at once. Under a GradScaler,
    and with ``fused=True``, the step is PyTorch's fused one: "step" a float32 tensor on the parameter's device,
    the decayed lr computed from it in the kernel, a step with an inf/NaN gradient skipped there.

    >>> opt = Adagrad(model.parameters(), lr=1e-2)
    """

    _step_supports_amp_scaling = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("lr_decay", lr_decay, "Invalid lr_decay value")
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        _check_hyperparameter("initial_accumulator_value", initial_accumulator_value,
                              "Invalid initial_accumulator_value value")
        _check_hyperparameter("eps", eps, "Invalid epsilon value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        _check_fused(fused, foreach)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = _step_tensor(p if group["fused"] else None)
        state["sum"] = _zeros_like(p, group["initial_accumulator_value"])

    def _step_args(self, p, group, fused=False):
        state = self.state[p]
        if len(state) == 0:  # a parameter added with add_param_group after construction
            self._init_state(p, group)
        scalars = dict(eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"])
        if fused:  # the decayed lr from the device step, in the kernel
            return _ADAGRAD_FUSED, (p, p._grad, _fused_step_tensor(state, p), state["sum"]), dict(
                scalars, neg_lr=-group["lr"], lr_decay=group["lr_decay"])
        step = _increment_step(state["step"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        return _ADAGRAD, (p, p._grad, state["sum"]), dict(scalars, neg_clr=-clr)


def _adagrad_ref(xp, p, g, state_sum, *, neg_clr, eps, weight_decay, maximize):
    g = _grad(g, p, weight_decay, maximize)
    state_sum += g * g
    p += (neg_clr * g) / (xp.sqrt(state_sum) + eps)


def _adagrad_clr(xp, t, *, neg_lr, lr_decay, **scalars):
    """kernels/optim.cu's adagrad_neg_clr: -lr / (1 + (t - 1) * lr_decay) at step t."""
    return dict(scalars, neg_clr=neg_lr / (1 + (t - 1) * lr_decay))


_ADAGRAD = kernel("adagrad_step", _adagrad_ref)
_ADAGRAD_FUSED = kernel("adagrad_fused_step", _fused_reference(_adagrad_ref, _adagrad_clr))

"""ASGD: averaged stochastic gradient descent (torch.optim.ASGD)."""
import numpy as np

from .. import _device, _dtype
from .._kernels import kernel
from ..tensor import Tensor
from .optimizer import Optimizer, _bump_version, _check_hyperparameter, _grad, _zeros_like

__all__ = ["ASGD"]


def _scalar_dtype():
    """torch's scalar dtype of optimizer state: float32, float64 under that default dtype."""
    return np.float64 if _dtype.get_default_dtype() == _dtype.float64 else np.float32


def _scalar_like(p, value):
    """A 0-d tensor of the scalar dtype on p's device."""
    with _device.on(p.device):
        return Tensor._make(p._xp.full((), value, _scalar_dtype()))


class ASGD(Optimizer):
    """Averaged SGD, step for step as torch.optim.ASGD::

        g = -grad if maximize else grad;  g += weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = p while mu == 1, then ax += (p - ax) * mu
        eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)

    State per parameter, as torch's: "step", "eta", "mu" (0-d tensors on the parameter's device) and "ax"; the
    step reads none of them back (their values are also kept on the host).

    >>> opt = ASGD(model.parameters(), lr=0.01, t0=100)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_hyperparameter("lr", lr, "Invalid learning rate")
        _check_hyperparameter("weight_decay", weight_decay, "Invalid weight_decay value")
        if differentiable:
            raise NotImplementedError("differentiable=True is not supported")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _step_args(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _scalar_like(p, 0.0)
            state["eta"] = _scalar_like(p, group["lr"])
            state["mu"] = _scalar_like(p, 1.0)
            state["ax"] = _zeros_like(p)
            self.__dict__.setdefault("_host", {})[p] = (state["step"], state["eta"], state["mu"], 0.0,
                                                        float(_scalar_dtype()(group["lr"])), 1.0)
        step_t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
        step, eta_value, mu_value = self._host_scalars(p, step_t, eta, mu)
        lr, lambd = group["lr"], group["lambd"]
        step += 1
        # this step's scalars are the last step's eta and mu; the new ones are written to the state before the
        # launch (their own 0-d buffers, which the kernel does not read)
        scalars = dict(decay=1 - lambd * eta_value, neg_eta=-eta_value, mu=mu_value, average=mu_value != 1,
                       weight_decay=group["weight_decay"], maximize=group["maximize"])
        # the new values rounded to the scalar dtype first (torch.as_tensor of a float), whatever the state's dtype
        rounded = _scalar_dtype()
        eta_value = float(rounded(lr / ((1 + lambd * lr * step) ** group["alpha"])))
        mu_value = float(rounded(1 / max(1, step - group["t0"])))
        step_t._data += 1
        eta._data[...] = eta_value
        mu._data[...] = mu_value
        _bump_version(step_t, eta, mu)
        self._host[p] = (step_t, eta, mu, step, eta_value, mu_value)
        return _ASGD, (p, p._grad, ax), scalars

    def _host_scalars(self, p, step_t, eta, mu):
        """p's step count, eta and mu as Python numbers. torch (capturable=False) reads eta and mu back from the
        device every step; their values are the ones the last step wrote, so they are kept here on the host
        too, and read back (a wait on the GPU) only when the state tensors are new to this optimizer: loaded by
        load_state_dict, or set by hand."""
        host = self.__dict__.setdefault("_host", {})  # (not in __getstate__: a copy reads them once)
        known = host.get(p)
        if known is None or any(a is not b for a, b in zip(known, (step_t, eta, mu))):
            return step_t.item(), eta.item(), mu.item()
        return known[3:]


def _asgd_ref(xp, p, g, ax, *, decay, neg_eta, mu, average, weight_decay, maximize):
    """The step of kernels/optim.cu's asgd_step, operation for operation."""
    g = _grad(g, p, weight_decay, maximize)
    p *= decay
    p += neg_eta * g
    if average:
        ax += (p - ax) * mu
    else:
        ax[...] = p


_ASGD = kernel("asgd_step", _asgd_ref)

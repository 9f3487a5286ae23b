"""gradcheck / gradgradcheck: compare analytical gradients with central finite differences, as PyTorch does.

The numerical Jacobian perturbs each input element by +-eps; the analytical one backpropagates a one-hot
grad_output per output element. Both are laid out as PyTorch lays them out: one (input numel, output numel)
matrix per (input, output) pair. These are test tools: they read values back to the host freely.

>>> gradcheck(lambda x: (x * x).sum(), torch.randn(3, dtype=torch.float64, requires_grad=True))
True
"""
import warnings

import numpy as np
from ..tensor import Tensor
from .._device import to_host
from . import grad
from ..creation import zeros_like
from ..creation import tensor
from ..creation import rand_like



class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _tensor_type():
    return Tensor


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _host(t):
    return np.array(to_host(t._data), dtype=np.float64, copy=True)


def _check_inputs(inputs):
    Tensor = _tensor_type()
    found = False
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x._data.dtype != np.float64:
                warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                              "This check will likely fail if all the inputs are not of double precision floating "
                              "point or complex. ", UserWarning, stacklevel=3)
            if any(st == 0 and sz > 1 for st, sz in zip(x._data.strides, x._data.shape)):
                raise RuntimeError(f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                                   "that are non-overlapping to be able to compute the numerical gradients correctly. "
                                   "You should call .contiguous on the input before passing it to gradcheck.")
            found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _outputs(func, inputs):
    Tensor = _tensor_type()
    return tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor))


def _numerical_jacobian(func, inputs, outputs, eps):
    """[input][output] -> (input numel, output numel) float64 matrices, by central differences."""
    Tensor = _tensor_type()
    result = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        data = x._data
        mats = [np.zeros((data.size, o.numel())) for o in outputs]
        for k, idx in enumerate(np.ndindex(*data.shape)):
            orig = data[idx].copy()
            data[idx] = orig - eps
            lo = [_host(o) for o in _outputs(func, inputs)]
            data[idx] = orig + eps
            hi = [_host(o) for o in _outputs(func, inputs)]
            data[idx] = orig
            for m, a, b in zip(mats, lo, hi):
                m[k] = ((b - a) / (2 * eps)).reshape(-1)
        result.append(mats)
    return result


def _analytical_jacobian(inputs, output, nondet_tol):
    """[input] -> (input numel, output numel) matrices for one output, backpropagating one-hot grad_outputs."""
    Tensor = _tensor_type()
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    mats = [np.zeros((x.numel(), output.numel())) for x in diff]
    mats2 = [np.zeros_like(m) for m in mats]
    for j in range(output.numel()):
        g = zeros_like(output)
        g._data.reshape(-1)[j] = 1  # zeros_like is contiguous: reshape is a view
        for target in (mats, mats2):  # twice: backward must be reentrant (deterministic)
            gs = grad(output, diff, g, retain_graph=True, allow_unused=True)
            for m, gi, x in zip(target, gs, diff):
                if gi is None:
                    continue
                if gi._data.dtype != x._data.dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                if gi.shape != x.shape:
                    raise GradcheckError("Analytical gradient has incorrect size")
                m[:, j] = _host(gi).reshape(-1)
    for m, m2 in zip(mats, mats2):
        if m.size and np.abs(m - m2).max() > nondet_tol:
            raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and grad_output "
                                 "multiple times gives different values, although analytical gradient matches "
                                 f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}.")
    return mats


def _to_tensor(m):
    return tensor(m, dtype=__import__("autograd_gpu").float64)


def _mismatch_msg(a, n, i, j, atol, rtol):
    err = np.abs(a - n) - (atol + rtol * np.abs(n))
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    return (f"Jacobian mismatch for output {i:d} with respect to input {j:d},\n"
            f"numerical:{_to_tensor(n)}\nanalytical:{_to_tensor(a)}\n"
            f"The worst element is [{worst[0]}, {worst[1]}] (input element {worst[0]}, output element {worst[1]}): "
            f"numerical {float(n[worst])!r} vs analytical {float(a[worst])!r}.\n")


def _check_backward_mul_by_grad_output(outputs, inputs):
    Tensor = _tensor_type()
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    gs = grad(outputs, diff, [zeros_like(o) for o in outputs], allow_unused=True)
    for gi, x in zip(gs, diff):
        if gi is None:
            continue
        if _host(gi).any():
            raise GradcheckError("backward not multiplied by grad_output")
        if gi.dtype != x.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi.device != x.device:
            raise GradcheckError("grad is incorrect device")
        if gi.shape != x.shape:
            raise GradcheckError("grad is incorrect size")


def _gradcheck(func, inputs, eps, atol, rtol, nondet_tol):
    _check_inputs(inputs)
    outputs = _outputs(func, inputs)
    numerical = _numerical_jacobian(func, inputs, outputs, eps)
    diff_outs = [(i, o) for i, o in enumerate(outputs) if o.requires_grad]
    for i, o in enumerate(outputs):
        if not o.requires_grad:
            for per_input in numerical:
                if np.any(per_input[i] != 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
    for i, o in diff_outs:
        analytical = _analytical_jacobian(inputs, o, nondet_tol)
        for j, (a, per_input) in enumerate(zip(analytical, numerical)):
            n = per_input[i]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch_msg(a, n, i, j, atol, rtol))
    if diff_outs:
        _check_backward_mul_by_grad_output([o for _, o in diff_outs], inputs)
    return True


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Check the gradients of `func` at `inputs` (float64 tensors with requires_grad) against finite differences.

    Returns True, or raises GradcheckError (False when raise_exception=False). The forward-AD, batched-grad and
    undefined-grad options are accepted; only the backward (reverse-mode) check runs.
    """
    inputs = _as_tuple(inputs)
    try:
        return _gradcheck(func, inputs, eps, atol, rtol, nondet_tol) if check_backward_ad else True
    except GradcheckError:
        if raise_exception:
            raise
        return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second-order gradients: gradcheck of (inputs, grad_outputs) -> autograd.grad(func(inputs), ...).

    Random grad_outputs (uniform in [-1, 1), requires_grad) are made when none are given.
    """
    Tensor = _tensor_type()
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _outputs(func, inputs)
        grad_outputs = tuple((rand_like(o) * 2 - 1).detach().requires_grad_(True) for o in outs if o.requires_grad)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    diff_in = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}

    def new_func(*args):
        ins = args[:len(args) - n_out]
        outs = [o for o in _as_tuple(func(*ins)) if isinstance(o, Tensor) and o.requires_grad]
        gs = grad(outs, [x for i, x in enumerate(ins) if i in diff_in], list(args[len(args) - n_out:]),
                  create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
                     nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_backward_ad=check_rev_over_rev)

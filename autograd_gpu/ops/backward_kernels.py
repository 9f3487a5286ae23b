"""Backward formulas that run as one RawKernel launch on the GPU (kernels/*.cu via autograd_gpu._kernels).

Each is itself a table op, so create_graph works through it: its forward is the kernel (numpy formula on the
CPU), and its own derivative comes from `composite`, the same formula written with differentiable ops.
"""
import inspect

from .. import _kernels
from ..autograd import grad_mode
from .core import apply, defop


def _takes_two_arrays(fn):
    P = inspect.Parameter
    return [(p.kind, p.default) for p in inspect.signature(fn).parameters.values()] == \
        [(P.POSITIONAL_OR_KEYWORD, P.empty)] * 2


def kernel_op(name, kernel, composite, *, node, nout=1, ninputs):
    """Declare the op `name` whose forward is `_kernels.<kernel>` and whose derivative is that of `composite`."""
    fn = getattr(_kernels, kernel)

    if _takes_two_arrays(fn):  # (grad, value) only: no varargs to pack on the hot path
        def forward(xp, g, v):
            return fn(g, v)
    else:
        def forward(xp, *arrays, **params):
            return fn(*arrays, **params)

    def backward(ctx, gg):
        from ..autograd import grad as _grad
        from ..tensor import Tensor
        inputs = ctx.saved
        gg = gg if isinstance(gg, (list, tuple)) else [gg]
        with grad_mode.enable_grad():
            # NOTE: differentiate w.r.t. fresh aliases: at third order g itself depends on y, and a grad w.r.t.
            # y itself would add the path through g (a total derivative) to the partial one we need here.
            inputs = [x.view_as(x) if need else x for x, need in zip(inputs, ctx.needs_input_grad)]
            outs = composite(*inputs, **ctx.params)
            outs = outs if isinstance(outs, tuple) else (outs,)
            wrt = [x for x, need in zip(inputs, ctx.needs_input_grad) if need]
            pairs = [(o, g) for o, g in zip(outs, gg) if o.requires_grad and g is not None]
            grads = iter(_grad([o for o, _ in pairs], wrt, [g for _, g in pairs], create_graph=True,
                               allow_unused=True) if pairs and wrt else [None] * len(wrt))
        return tuple(next(grads) if need and isinstance(x, Tensor) else None
                     for x, need in zip(inputs, ctx.needs_input_grad))

    return defop(name, forward, backward, save=tuple(range(ninputs)), node=node, family="backward",
                 kernel=kernel, dtype="keep", nout=nout, public=False)


def _where0(cond, x):
    from .arithmetic import where
    return where(cond, 0.0, x)


# name, kernel, composite (same formula with differentiable ops), PyTorch's double-backward node name
RELU_BWD = kernel_op("relu_backward", "relu_bwd", lambda g, y: _where0(y <= 0, g), node="ReluBackwardBackward0",
                     ninputs=2)
TANH_BWD = kernel_op("tanh_backward", "tanh_bwd", lambda g, y: g * (1 - y * y), node="TanhBackwardBackward0",
                     ninputs=2)
SIGMOID_BWD = kernel_op("sigmoid_backward", "sigmoid_bwd", lambda g, y: g * (1 - y) * y,
                        node="SigmoidBackwardBackward0", ninputs=2)
EXP_BWD = kernel_op("exp_backward", "exp_bwd", lambda g, y: g * y, node="MulBackward0", ninputs=2)
LOG_BWD = kernel_op("log_backward", "log_bwd", lambda g, x: g / x, node="DivBackward0", ninputs=2)
LOG1P_BWD = kernel_op("log1p_backward", "log1p_bwd", lambda g, x: g / (x + 1), node="Log1PBackwardBackward0",
                      ninputs=2)
SQRT_BWD = kernel_op("sqrt_backward", "sqrt_bwd", lambda g, y: g / (2 * y), node="DivBackward0", ninputs=2)
RSQRT_BWD = kernel_op("rsqrt_backward", "rsqrt_bwd", lambda g, y: -0.5 * g * y * y * y, node="MulBackward0",
                      ninputs=2)
ABS_BWD = kernel_op("abs_backward", "abs_bwd", lambda g, x: g * x.sign(), node="MulBackward0", ninputs=2)


def _pow_composite(g, a, b, y):
    y = a ** b  # NOTE: recomputed so the double backward sees y's dependence on a and b
    ga = _where0(b == 0, g * (b * a ** (b - 1)))
    gb = g * _where0((a == 0) & (b >= 0), y * a.log())
    return ga, gb


POW_BWD = kernel_op("pow_backward", "pow_bwd", _pow_composite, node="PowBackwardBackward0", nout=2, ninputs=4)
DIV_BWD = kernel_op("div_backward", "div_bwd", lambda g, a, b: (g / b, -g * ((a / b) / b)),
                    node="DivBackwardBackward0", nout=2, ninputs=3)


def _clamp_composite(g, x, lo=None, hi=None):
    keep = x == x
    if lo is not None:
        keep = keep & (x >= lo)
    if hi is not None:
        keep = keep & (x <= hi)
    return g * keep


CLAMP_BWD = kernel_op("clamp_backward", "clamp_bwd", _clamp_composite, node="ClampBackwardBackward0", ninputs=2)


def _maxmin_composite(g, a, b, is_max):
    from .arithmetic import where
    shared = where(a == b, g / 2, g)
    a_loses, b_loses = (a < b, a > b) if is_max else (a > b, a < b)
    return _where0(a_loses, shared), _where0(b_loses, shared)


MAXMIN_BWD = kernel_op("maxmin_backward", "maxmin_bwd", _maxmin_composite, node="MaximumBackwardBackward0",
                       nout=2, ninputs=3)
WHERE_BWD = kernel_op("where_backward", "where_bwd", lambda g, c: (_where0(~c, g), _where0(c, g)),
                      node="WhereBackwardBackward0", nout=2, ninputs=2)
SOFTMAX_BWD = kernel_op("softmax_backward", "softmax_bwd",
                        lambda g, y, dim: y * (g - (g * y).sum(dim, keepdim=True)),
                        node="SoftmaxBackwardDataBackward0", ninputs=2)
LOG_SOFTMAX_BWD = kernel_op("log_softmax_backward", "log_softmax_bwd",
                            lambda g, y, dim: g - y.exp() * g.sum(dim, keepdim=True),
                            node="LogSoftmaxBackwardDataBackward0", ninputs=2)


def run(op, *inputs, **params):
    """Run a kernel op on tensors of the same shape (broadcast first, as the kernels expect)."""
    return apply(op, *inputs, **params)

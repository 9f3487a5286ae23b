"""Sampling: draws from PyTorch's distributions (multinomial, bernoulli, normal, poisson) and the in-place fills
(uniform_, normal_, random_, exponential_, geometric_, cauchy_, log_normal_, bernoulli_).

The draws come from _random's seeded generators (autograd_gpu.manual_seed, or a Generator), made on the tensor's
device without a host sync. As in PyTorch, a sample is not differentiable in its parameters: each row records
PyTorch's node, whose gradient is zero (derivatives.yaml: zeros_like). The rows are not public: a table case
cannot compare random values with PyTorch's; tests/test_sampling.py tests their distributions."""
import math

import numpy as np

from .. import _device, _dtype, _random
from ..tensor import SCALAR_TYPE_NAMES, Tensor
from .core import apply, defop, export
from .gamma import dirichlet_grad_array, standard_gamma_grad_array
from .inplace import inplace
from .shape import broadcast_shapes


def _zero_grads(ctx, g):
    zero = Tensor._make(g._xp.zeros_like(g._data))  # (not g * 0: an inf or nan in g would give nan)
    return tuple(None if m is None else zero for m in ctx._meta)


def _sample_row(name, node, forward=lambda xp, x, values: values):
    return defop(name, forward, _zero_grads, node=node, group="random", dtype="keep", public=False)


# the in-place fills: the new values are drawn first and passed in; the row writes them
UNIFORM = _sample_row("uniform_fill", "UniformBackward0")
NORMAL = _sample_row("normal_fill", "NormalBackward0")
RANDOM_FROM_TO = _sample_row("random_from_to_fill", "RandomBackward0")
RANDOM_TO = _sample_row("random_to_fill", "RandomBackward1")
RANDOM = _sample_row("random_fill", "RandomBackward2")
EXPONENTIAL = _sample_row("exponential_fill", "ExponentialBackward0")
GEOMETRIC = _sample_row("geometric_fill", "GeometricBackward0")
CAUCHY = _sample_row("cauchy_fill", "CauchyBackward0")
LOG_NORMAL = _sample_row("log_normal_fill", "LogNormalBackward0")
BERNOULLI_FLOAT = _sample_row("bernoulli_float_fill", "BernoulliBackward2")
BERNOULLI_TENSOR = _sample_row("bernoulli_tensor_fill", "BernoulliBackward1",
                               lambda xp, x, p, values: values)
# the out-of-place samples, made from the parameters and noise drawn first
BERNOULLI = _sample_row("bernoulli", "BernoulliBackward0", lambda xp, p, u: (u < p).astype(p.dtype))
POISSON = _sample_row("poisson", "PoissonBackward0")
NORMAL_TENSOR_FLOAT = defop("normal_tensor_float", lambda xp, mean, std, noise: mean + std * noise, _zero_grads,
                            node="NormalBackward1", group="random", dtype="float", public=False)
NORMAL_FLOAT_TENSOR = defop("normal_float_tensor", lambda xp, std, mean, noise: mean + std * noise, _zero_grads,
                            node="NormalBackward2", group="random", dtype="float", public=False)
NORMAL_TENSOR_TENSOR = defop("normal_tensor_tensor", lambda xp, mean, std, noise: mean + std * noise, _zero_grads,
                             node="NormalBackward3", group="random", dtype="float", public=False)


def _type_name(t):
    return SCALAR_TYPE_NAMES[t._data.dtype.name]


def _on_cpu(t):
    # NOTE: PyTorch checks sample parameters' values (p in [0, 1], std >= 0) on the CPU; on the GPU its kernels
    # assert on the device. Checking a GPU tensor's values here would be a host sync, so only the CPU path checks.
    return type(t._data) is np.ndarray


def _compute_dtype(dt):
    """The dtype draws are made in: float16 and bfloat16 draw in float32 and round."""
    return dt if dt in (_dtype.float32, _dtype.float64) else _dtype.float32


def _float_draw(t, kind, generator):
    return _random.sample(kind, t._data.shape, _compute_dtype(t.dtype), t.device, generator)


def _fill(t, op, values, *extra):
    values = values.astype(t._data.dtype, copy=False)
    return inplace(t, lambda old: apply(op, old, *extra, values=values))


def _require_float(t, message):
    if not t.is_floating_point():
        raise _dtype.not_implemented(message, t._data.dtype)


# ---- in-place fills -----------------------------------------------------------------------------------
@export(name="uniform_", function=False)
def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    """Fill with draws from U[from_, to)."""
    _require_float(self, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_:g} > to={to:g}")
    for name, v in (("from", from_), ("to", to)):
        if not math.isfinite(v):
            raise RuntimeError(f"{name} is out of bounds for {_dtype._C_TYPE_NAMES[self.dtype.name]}")
    return _fill(self, UNIFORM, _float_draw(self, "random", generator) * (to - from_) + from_)


@export(name="normal_", function=False)
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with draws from N(mean, std^2)."""
    _require_float(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _fill(self, NORMAL, _float_draw(self, "normal", generator) * std + mean)


def _int_bounds(dt):
    if dt == _dtype.bool:
        return 0, 1
    info = np.iinfo(dt.np)
    return int(info.min), int(info.max)


def _random_top(dt):
    """The largest value random_() draws: 2^digits for a float dtype (every integer below is exact), the
    dtype's maximum for an integer one."""
    if dt.is_floating_point:
        return 2 ** (np.finfo(dt.np).nmant + 1)
    return _int_bounds(dt)[1]


_UNSET = object()  # (random_(to) and random_(from, None) are different calls)


@export(name="random_", function=False)
def random_(self, from_=None, to=_UNSET, *, generator=None):
    """Fill with integers: random_() in [0, 2^digits] (floats) or [0, max] (ints); random_(to) in [0, to);
    random_(from, to) in [from, to); random_(from, None) in [from, 2^digits or max]."""
    dt = self.dtype
    if from_ is None:
        op, lo, hi, endpoint = RANDOM, 0, _random_top(dt), True
    elif to is _UNSET:
        op, lo, hi, endpoint = RANDOM_TO, 0, from_, False
    elif to is None:
        op, lo, hi, endpoint = RANDOM_FROM_TO, from_, _random_top(dt), True
    else:
        op, lo, hi, endpoint = RANDOM_FROM_TO, from_, to, False
    if not endpoint and lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    if not dt.is_floating_point:
        mn, mx = _int_bounds(dt)
        if lo < mn or (hi if endpoint else hi - 1) > mx:
            what = "from" if lo < mn else "to - 1"
            raise RuntimeError(f"{what} is out of bounds for {_type_name(self)}")
    draws = _random.sample("integers", self._data.shape, _dtype.int64, self.device, generator, low=lo, high=hi,
                           endpoint=endpoint)
    return _fill(self, op, draws)


@export(name="exponential_", function=False)
def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with draws from Exp(lambd) (density lambd * exp(-lambd * x))."""
    if not self.is_floating_point():
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_type_name(self)}")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _fill(self, EXPONENTIAL, _float_draw(self, "exponential", generator) / lambd)


@export(name="geometric_", function=False)
def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return _fill(self, GEOMETRIC, _random.draw("geometric", self.device, generator, p, size=self._data.shape))


@export(name="cauchy_", function=False)
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with draws from Cauchy(median, sigma): median + sigma * tan(pi * (u - 1/2))."""
    if not self.is_floating_point():
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a floating "
                           f"point but you specified {_type_name(self)}")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    u = _float_draw(self, "random", generator)
    return _fill(self, CAUCHY, self._xp.tan((u - 0.5) * math.pi) * sigma + median)


@export(name="log_normal_", function=False)
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std^2)) draws."""
    _require_float(self, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _fill(self, LOG_NORMAL, self._xp.exp(_float_draw(self, "normal", generator) * std + mean))


@export(name="bernoulli_", function=False)
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 with probability p (a number, or a tensor that broadcasts to self), else 0."""
    u = _random.sample("random", self._data.shape, _dtype.float64, self.device, generator)
    if isinstance(p, Tensor):
        if _on_cpu(p) and ((p._data < 0) | (p._data > 1)).any():
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
        return _fill(self, BERNOULLI_TENSOR, u < p._data, p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return _fill(self, BERNOULLI_FLOAT, u < p)


# ---- samples ------------------------------------------------------------------------------------------
@export
def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability input[i] (or p, when given), else 0, in input's dtype."""
    if p is not None:
        # NOTE: PyTorch's bernoulli(input, p) records a node that cannot be differentiated; here it records none
        return bernoulli_(Tensor._make(input._xp.empty_like(input._data)), p, generator=generator)
    _require_float(input, "bernoulli_tensor_cpu_p_")
    if _on_cpu(input) and ((input._data < 0) | (input._data > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = _random.sample("random", input._data.shape, _compute_dtype(input.dtype), input.device, generator)
    return apply(BERNOULLI, input, u=u)


@export(method=False)
def poisson(input, generator=None):
    """A Poisson(input[i]) count per element, in input's dtype."""
    _require_float(input, "poisson_cpu")
    if _on_cpu(input) and (input._data < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    counts = _random.draw("poisson", input.device, generator, input._data, size=input._data.shape)
    return apply(POISSON, input, values=counts.astype(input._data.dtype))


@export(method=False)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """Draws from N(mean, std^2): mean and std tensors (broadcast) or numbers (then `size` is the shape)."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    for t in (x for x in (mean, std) if isinstance(x, Tensor)):
        _require_float(t, "normal_kernel_cpu")
    if not st and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if st and _on_cpu(std) and (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: got two numbers (mean, std) "
                            "and no size")
        dt = _dtype.to_dtype(dtype) or _dtype.get_default_dtype()
        if not dt.is_floating_point:
            raise _dtype.not_implemented("normal_kernel_cpu", dt)
        dev = _device.resolve(device)
        shape = tuple(size) if isinstance(size, (tuple, list)) else (int(size),)
        z = _random.sample("normal", shape, _compute_dtype(dt), dev, generator)
        t = Tensor._make((z * std + mean).astype(dt.np, copy=False))
        return t.requires_grad_() if requires_grad else t
    if mt and st:
        shape = tuple(broadcast_shapes(mean.shape, std.shape))
        dt = _dtype.promote_types(mean.dtype, std.dtype)
        ref = mean
    else:
        ref = mean if mt else std
        shape, dt = tuple(ref.shape), ref.dtype
    z = _random.sample("normal", shape, _compute_dtype(dt), ref.device, generator)
    if mt and st:
        return apply(NORMAL_TENSOR_TENSOR, mean, std, noise=z)
    if mt:
        return apply(NORMAL_TENSOR_FLOAT, mean, float(std), noise=z)
    return apply(NORMAL_FLOAT_TENSOR, std, float(mean), noise=z)


@export
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """num_samples category indices per row of (unnormalised) probabilities `input` (1-D or 2-D), int64.
    Without replacement each row's draws are distinct: the categories are ordered by p / E for E ~ Exp(1)
    (the exponential race, as PyTorch samples them)."""
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_type_name(input)}")
    n = input.shape[-1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    xp = input._xp
    p = input._data.astype(np.float64).reshape(-1, n)
    if _on_cpu(input):
        if not np.isfinite(p).all() or (p < 0).any():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (p.sum(-1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = p.shape[0]
    dev = input.device
    with _device.on(dev):
        if replacement:
            cdf = xp.cumsum(p, axis=-1)
            cdf = cdf / cdf[:, -1:]  # (the last entry exactly 1)
            u = _random.sample("random", (rows, num_samples), _dtype.float64, dev, generator)
            # NOTE: one searchsorted for all rows: row r's cdf shifted by r lies in [r, r + 1], so row r's draws
            # u + r land in its own segment; a category of zero probability has an empty interval
            shift = xp.arange(rows, dtype=np.float64)[:, None]
            idx = xp.searchsorted((cdf + shift).ravel(), (u + shift).ravel(), side="right").reshape(rows, -1)
            idx = xp.minimum(idx - xp.arange(rows)[:, None] * n, n - 1)
        else:
            e = _random.sample("exponential", (rows, n), _dtype.float64, dev, generator)
            idx = xp.argsort(-(p / e), axis=-1)[:, :num_samples]
        idx = idx.astype(np.int64)
    return Tensor._make(idx.reshape(num_samples) if input.ndim == 1 else idx)


# ---- the standard gamma draw, with its reparameterised gradient (Gamma, Beta and Dirichlet rsample) ------------
def _standard_gamma_bwd(ctx, g):
    # NOTE: as in PyTorch, the factor dx/dalpha is not differentiated again (its derivative is not implemented)
    alpha, x = ctx.saved
    factor = standard_gamma_grad_array(g._xp, alpha._data, x._data).astype(g._data.dtype, copy=False)
    return (g * Tensor._make(factor),)


STANDARD_GAMMA = defop("standard_gamma", lambda xp, alpha, values: values, _standard_gamma_bwd, save=(0, "out"),
                       node="StandardGammaBackward0", group="random", dtype="keep", public=False)


def standard_gamma(alpha, generator=None):
    """torch._standard_gamma: one Gamma(alpha, 1) draw per element of the floating tensor alpha, differentiable
    in alpha (the implicit reparameterisation gradient). Draws are at least the dtype's smallest normal number."""
    _require_float(alpha, "gamma_cpu")
    xp = alpha._xp
    with _device.on(alpha.device):
        draws = _random.draw("standard_gamma", alpha.device, generator, alpha._data.astype(np.float64),
                             size=alpha._data.shape)
        draws = xp.maximum(draws.astype(alpha._data.dtype, copy=False), np.finfo(alpha._data.dtype).tiny)
    return apply(STANDARD_GAMMA, alpha, values=draws)


def _dirichlet_bwd(ctx, g):
    # NOTE: as in PyTorch (_Dirichlet, once_differentiable), the gradient factor is not differentiated again
    concentration, x = ctx.saved
    xp = g._xp
    c = concentration._data
    total = xp.broadcast_to(c.sum(-1, keepdims=True), c.shape)
    factor = Tensor._make(dirichlet_grad_array(xp, x._data, c, total).astype(g._data.dtype, copy=False))
    return (factor * (g - (x * g).sum(-1, True)),)


DIRICHLET = defop("sample_dirichlet", lambda xp, concentration, values: values, _dirichlet_bwd, save=(0, "out"),
                  node="_DirichletBackward", group="random", dtype="keep", public=False)


def sample_dirichlet(concentration, generator=None):
    """A Dirichlet(concentration) draw over the last dimension (normalised standard gamma draws), differentiable
    in concentration by PyTorch's implicit reparameterisation gradient (torch.distributions.Dirichlet.rsample)."""
    _require_float(concentration, "dirichlet")
    xp = concentration._xp
    data = concentration._data
    with _device.on(concentration.device):
        g = _random.draw("standard_gamma", concentration.device, generator, data.astype(np.float64), size=data.shape)
        x = g / g.sum(-1, keepdims=True)
        x = xp.maximum(x.astype(data.dtype, copy=False), np.finfo(data.dtype).tiny)
    return apply(DIRICHLET, concentration, values=x)


@export(method=False)
def binomial(count, prob, generator=None):
    """A Binomial(count[i], prob[i]) count per element (count and prob broadcast), in count's floating dtype.
    NOTE: PyTorch records a node whose backward is not implemented; this records none."""
    if not count.is_floating_point():
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {_type_name(count)}")
    shape = tuple(broadcast_shapes(count.shape, prob.shape))
    xp = count._xp
    with _device.on(count.device):
        n = xp.broadcast_to(count._data, shape).astype(np.int64)
        p = xp.broadcast_to(prob._data, shape).astype(np.float64)
        draws = _random.draw("binomial", count.device, generator, n, p, size=shape)
    return Tensor._make(draws.astype(count._data.dtype, copy=False))


@export(method=False)
def get_rng_state():
    """The default CPU generator's state, a uint8 tensor for set_rng_state (numpy's PCG64 state: 40 bytes, not
    PyTorch's 5056-byte Mersenne Twister state)."""
    return Tensor._make(_random.get_cpu_state())


@export(method=False)
def set_rng_state(new_state):
    """Restore the default CPU generator's state from get_rng_state's tensor."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
    if new_state.dtype != _dtype.uint8 or not _on_cpu(new_state):
        raise TypeError("RNG state must be a torch.ByteTensor")
    if new_state.numel() != _random.STATE_BYTES:
        raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_random.STATE_BYTES} but found the input RNG "
                           f"state size to be {new_state.numel()}")
    _random.set_cpu_state(new_state._data.reshape(-1).tobytes())

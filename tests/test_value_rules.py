"""Differential tests of PyTorch's value and error rules (issue 12): each snippet runs under PyTorch (CPU) and
autograd_gpu (both devices); the results must be the same values, or the same exception type and message."""
import threading
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag


def _outcome(fn, m, device):
    try:
        r = fn(m, device)
    except Exception as e:  # noqa: BLE001  (the exception is the result compared)
        return ("raises", type(e).__name__, str(e))
    return ("value", None if r is None else np.asarray(r.detach().cpu().numpy() if hasattr(r, "detach") else r))


def _same(fn, device):
    ours, theirs = _outcome(fn, ag, device), _outcome(fn, torch, "cpu")
    assert ours[0] == theirs[0], f"ours {ours}, PyTorch {theirs}"
    if ours[0] == "raises":  # (PyTorch ran on the CPU: its messages name CPU types)
        assert (ours[1], ours[2].replace("torch.cuda.", "torch.")) == theirs[1:]
    elif theirs[1] is None:
        assert ours[1] is None
    else:
        np.testing.assert_array_equal(ours[1], theirs[1])
        assert ours[1].dtype == theirs[1].dtype


# ---- hooks may change a gradient's values, never its size, dtype or count ------------------------------------
def _leaf(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        x.register_hook(hook)
        (x * 2).sum().backward()
        return x.grad
    return run


def _nonleaf(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        h = x * 2
        h.register_hook(hook)
        (h * 3).sum().backward()
        return x.grad
    return run


def _post(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        y = m.full((2, 3), 2.0, requires_grad=True, device=device)
        h = x * y
        h.grad_fn.register_hook(hook)
        h.sum().backward()
        return x.grad
    return run


def _pre(hook):
    def run(m, device):
        x = m.ones(2, 3, requires_grad=True, device=device)
        h = x * 2
        h.grad_fn.register_prehook(hook)
        h.sum().backward()
        return x.grad
    return run


HOOK_CASES = {
    "leaf-values": _leaf(lambda g: g * 3),
    "leaf-size": _leaf(lambda g: g[:1]),
    "leaf-reshape": _leaf(lambda g: g.reshape(3, 2)),
    "leaf-double": _leaf(lambda g: g.double()),
    "leaf-long": _leaf(lambda g: g.long()),
    "leaf-float": _leaf(lambda g: 1.0),
    "nonleaf-values": _nonleaf(lambda g: g + 1),
    "nonleaf-reshape": _nonleaf(lambda g: g.reshape(3, 2)),
    "nonleaf-double": _nonleaf(lambda g: g.double()),
    "nonleaf-list": _nonleaf(lambda g: [g]),
    "post-values": _post(lambda gi, go: (gi[0] * 0, gi[1])),
    "post-none": _post(lambda gi, go: (None, gi[1])),
    "post-more": _post(lambda gi, go: (gi[0], gi[1], gi[0])),
    "post-fewer": _post(lambda gi, go: (gi[0],)),
    "post-size": _post(lambda gi, go: (gi[0][:1], gi[1])),
    "post-double": _post(lambda gi, go: (gi[0].double(), gi[1])),
    "post-not-tuple": _post(lambda gi, go: gi[0]),
    "pre-values": _pre(lambda go: (go[0] * 5,)),
    "pre-more": _pre(lambda go: (go[0], go[0])),
    "pre-size": _pre(lambda go: (go[0][:1],)),
    "pre-double": _pre(lambda go: (go[0].double(),)),
    "pre-not-tuple": _pre(lambda go: go[0]),
}


@pytest.mark.parametrize("name", HOOK_CASES)
def test_hook_results_are_checked_as_pytorch_checks_them(name, device):
    _same(HOOK_CASES[name], device)


# ---- concurrent backward into one shared leaf -----------------------------------------------------------------
def test_concurrent_backward_into_a_shared_leaf_loses_no_update(device):
    """4 threads x 30 backwards of sum(x * 2) into one leaf of 2,000,000 elements: every element gets 240
    (PyTorch accumulates thread-safely)."""
    x = ag.zeros(2_000_000, requires_grad=True, device=device)
    errors = []

    def work():
        try:
            for _ in range(30):
                (x * 2).sum().backward()
        except Exception as e:  # noqa: BLE001  (reported by the assert below)
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    g = x.grad.cpu().numpy()
    assert (g == 240).all(), f"{int((g != 240).sum())} elements lost updates (min {g.min()})"


# ---- gradients at NaN ---------------------------------------------------------------------------------------
def _reduce_grad(name, values):
    def run(m, device):
        x = m.tensor(values, requires_grad=True, device=device)
        getattr(x, name)().backward()
        return x.grad
    return run


NAN = float("nan")


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
@pytest.mark.parametrize("values", [[1.0, NAN, 3.0, NAN], [2.0, 5.0, 5.0, 1.0], [NAN]], ids=["nans", "tie", "nan"])
def test_full_reduction_gradient_at_nan_and_ties(name, values, device):
    """max()/min() send the gradient to the NaNs (PyTorch's evenly_distribute_backward); amax/amin give NaN."""
    _same(_reduce_grad(name, values), device)


# ---- Python and numpy scalars, integers ---------------------------------------------------------------------
def _t(m, device, values, dtype=None):
    return m.tensor(values, dtype=dtype, device=device)


SCALAR_CASES = {
    "int64 + np.int64 stays exact": lambda m, d: _t(m, d, [16777217]) + np.int64(0),
    "float32 * np.int64": lambda m, d: _t(m, d, [1.5]) * np.int64(2),
    "np.int64 + int64": lambda m, d: np.int64(3) + _t(m, d, [2]),
    "int ** np.float32": lambda m, d: _t(m, d, [1, 2, 3]) ** np.float32(0.5),
    "int + np.float64": lambda m, d: _t(m, d, [1, 2, 3]) + np.float64(0.5),
    "np.float32 ** int tensor": lambda m, d: np.float32(2.0) ** _t(m, d, [1, 2]),
    "arange(np.int64)": lambda m, d: m.arange(np.int64(5), device=d),
    "full np.int64": lambda m, d: m.full((2,), np.int64(2), device=d),
    "full np.float32": lambda m, d: m.full((2,), np.float32(2), device=d),
    "dtype=float is float64": lambda m, d: m.zeros(2, dtype=float, device=d),
    "dtype=int is int64": lambda m, d: m.zeros(2, dtype=int, device=d),
    "dtype=bool": lambda m, d: m.ones(2, dtype=bool, device=d),
    "tensor(2**63)": lambda m, d: m.tensor(2 ** 63, device=d),
    "tensor(-2**63 - 1)": lambda m, d: m.tensor(-2 ** 63 - 1, device=d),
    "tensor([1, 2**63])": lambda m, d: m.tensor([1, 2 ** 63], device=d),
    "tensor(300, uint8)": lambda m, d: _t(m, d, 300, m.uint8),
    "tensor(-1, uint8) wraps": lambda m, d: _t(m, d, -1, m.uint8),
    "tensor(nan, int64)": lambda m, d: _t(m, d, float("nan"), m.int64),
    "tensor(inf, int64)": lambda m, d: _t(m, d, float("inf"), m.int64),
    "tensor(1e20, int32)": lambda m, d: _t(m, d, 1e20, m.int32),
    "tensor([1.5], int64)": lambda m, d: _t(m, d, [1.5], m.int64),
    "tensor(np.array(300), uint8)": lambda m, d: _t(m, d, np.array(300), m.uint8),
    "uint8 + 300 wraps": lambda m, d: _t(m, d, [1], m.uint8) + 300,
    "uint8 - 300 wraps": lambda m, d: _t(m, d, [1], m.uint8) - 300,
    "int8 * 1000 wraps": lambda m, d: _t(m, d, [3], m.int8) * 1000,
    "int8 + -200 wraps": lambda m, d: _t(m, d, [1], m.int8) + (-200),
    "int32 + 2**40 wraps": lambda m, d: _t(m, d, [1], m.int32) + 2 ** 40,
    "bool ** 2 is int64": lambda m, d: _t(m, d, [True, False]) ** 2,
    "uint8 ** 2": lambda m, d: _t(m, d, [2], m.uint8) ** 2,
    "int ** -1": lambda m, d: _t(m, d, [2]) ** -1,
    "tensor of np.float64s": lambda m, d: m.tensor([np.float64(1.5)] * 2, device=d),
    "tensor of np.float32s": lambda m, d: m.tensor([np.float32(1.5)] * 2, device=d),
    "tensor of np.int32s": lambda m, d: m.tensor([np.int32(1)] * 2, device=d),
    "tensor of np.int32 and int": lambda m, d: m.tensor([np.int32(1), 2], device=d),
    "tensor of np.float16 and float": lambda m, d: m.tensor([np.float16(1), 1.5], device=d),
    "tensor(np.float64)": lambda m, d: m.tensor(np.float64(1.5), device=d),
}
CPU_ONLY_SCALAR_CASES = {  # (PyTorch's CUDA kernels do not check a divisor: that would need the host)
    "int // 0": lambda m, d: _t(m, d, [3]) // 0,
    "int % 0": lambda m, d: _t(m, d, [3]) % 0,
    "int fmod 0": lambda m, d: m.fmod(_t(m, d, [3]), 0),
    "5 // int tensor 0": lambda m, d: 5 // _t(m, d, [0]),
    "remainder(5, int tensor 0)": lambda m, d: m.remainder(5, _t(m, d, [0])),
    "div floor by 0": lambda m, d: m.div(_t(m, d, [3]), 0, rounding_mode="floor"),
    "div trunc by tensor 0": lambda m, d: m.div(_t(m, d, [3]), _t(m, d, [0]), rounding_mode="trunc"),
    "float // 0 is inf": lambda m, d: _t(m, d, [5.0]) // 0,
}


@pytest.mark.parametrize("name", SCALAR_CASES)
def test_scalar_and_integer_rules(name, device):
    _same(SCALAR_CASES[name], device)


@pytest.mark.parametrize("name", CPU_ONLY_SCALAR_CASES)
def test_integer_division_by_zero_raises_on_the_cpu(name):
    _same(CPU_ONLY_SCALAR_CASES[name], "cpu")


@pytest.mark.parametrize("fn", [lambda m: m.ones(3) * (1 + 2j), lambda m: m.full((2,), 1 + 2j),
                                lambda m: m.ones(2).add_(1j), lambda m: m.ones(2).fill_(1j),
                                lambda m: m.ones(2) + np.complex64(1j)],
                         ids=["mul", "full", "add_", "fill_", "np.complex64"])
def test_complex_numbers_are_refused_not_truncated(fn):
    """We have no complex dtype: a complex number is refused with a TypeError naming it, never computed with its
    real part only. (PyTorch computes `mul` and `full` in complex64, refuses `add_`, and keeps the real part of
    a numpy complex scalar: that quirk we do not copy.)"""
    with pytest.raises(TypeError, match="no complex dtypes"):
        fn(ag)


@pytest.mark.parametrize("loss", ["smooth_l1_loss", "huber_loss"])
def test_an_infinite_input_gets_the_clipped_slope_not_nan(loss, device):
    def run(m, d):
        x = m.tensor([float("inf"), -float("inf"), 0.5, 3.0], requires_grad=True, device=d)
        getattr(m.nn.functional, loss)(x, m.zeros(4, device=d)).backward()
        return x.grad
    _same(run, device)


# ---- reductions over nothing, and variances without degrees of freedom: PyTorch's values and warnings ----------
EMPTY_REDUCTIONS = {
    "mean of an empty dim": lambda m, d: m.zeros(0, 3, device=d).mean(0),
    "mean of nothing": lambda m, d: m.zeros(0, device=d).mean(),
    "float16 mean of nothing": lambda m, d: m.zeros(0, 2, dtype=m.float16, device=d).mean(0),
    "mse_loss of nothing": lambda m, d: m.nn.functional.mse_loss(m.zeros(0, device=d), m.zeros(0, device=d)),
    "var of one": lambda m, d: m.ones(1, device=d).var(),
    "var of nothing": lambda m, d: m.zeros(0, device=d).var(),
    "var, correction = n": lambda m, d: m.tensor([1.0, 3.0], device=d).var(correction=2),
    "std of one per row": lambda m, d: m.ones(2, 1, device=d).std(1),
    "var_mean of one": lambda m, d: m.var_mean(m.ones(1, device=d))[0],
    "std_mean of one": lambda m, d: m.std_mean(m.ones(1, device=d))[1],
    "var of two, correction 0": lambda m, d: m.tensor([1.0, 3.0], device=d).var(correction=0),  # (no warning)
}


@pytest.mark.parametrize("name", EMPTY_REDUCTIONS)
def test_empty_reductions_give_torchs_values_and_warnings(name, device):
    """NaN (or inf) as PyTorch, with PyTorch's UserWarning where it warns, and never numpy's RuntimeWarning."""
    fn = EMPTY_REDUCTIONS[name]
    caught = {}
    for m, d in ((ag, device), (torch, "cpu")):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            _same(fn, device) if m is ag else fn(m, d)
        caught[m.__name__] = sorted({(type(x.message).__name__, str(x.message).split(" (Triggered")[0]) for x in w})
    assert caught["autograd_gpu"] == caught["torch"]

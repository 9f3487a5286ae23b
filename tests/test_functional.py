"""autograd.functional against torch.autograd.functional: values, gradients and the nesting of results."""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import autograd_gpu as ag
import autograd_gpu.autograd.functional as AF

RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape)


def _both(a, requires_grad=False, device="cpu"):
    """Ours on `device`, torch's on the CPU."""
    return ag.tensor(a, requires_grad=requires_grad, device=device), torch.tensor(a, requires_grad=requires_grad)


def _assert_same(ours, theirs):
    """Same nesting (Tensor / tuple), same shapes, same values."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _assert_same(o, t)
    else:
        assert isinstance(ours, ag.Tensor), type(ours)
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def f_single(T):
    return lambda x: (x ** 2).sin() * 2


def f_two_in_one_out(T):
    return lambda x, y: (x * y.sum()).exp() + x.tanh()


def f_one_in_two_out(T):
    return lambda x: (x.cos(), (x ** 3).sum())


def f_two_in_two_out(T):
    return lambda x, y: (x @ y, (x.exp() * 2).sum(0))


def f_unused(T):
    return lambda x, y: x * 3


CASES = [  # (function factory, input shapes, tuple inputs?)
    (f_single, [(3,)], False),
    (f_single, [(2, 2)], False),
    (f_two_in_one_out, [(3,), (2,)], True),
    (f_one_in_two_out, [(2, 3)], False),
    (f_two_in_two_out, [(2, 3), (3, 2)], True),
    (f_unused, [(2,), (3,)], True),
]


def _inputs(shapes, tup, device="cpu"):
    arrs = [_arr(*s) for s in shapes]
    ours = tuple(ag.tensor(a, device=device) for a in arrs)
    theirs = tuple(torch.tensor(a) for a in arrs)
    return (ours, theirs) if tup else (ours[0], theirs[0])


@pytest.mark.parametrize("make,shapes,tup", CASES)
def test_jacobian(make, shapes, tup, device):
    x, tx = _inputs(shapes, tup, device)
    _assert_same(AF.jacobian(make(ag), x), TF.jacobian(make(torch), tx))


@pytest.mark.parametrize("make,shapes,tup", CASES)
def test_vjp_and_jvp(make, shapes, tup, device):
    x, tx = _inputs(shapes, tup, device)
    tout = make(torch)(*(tx if tup else (tx,)))
    touts = tout if isinstance(tout, tuple) else (tout,)
    v_arrs = [_arr(*o.shape) for o in touts]
    v = tuple(ag.tensor(a, device=device) for a in v_arrs) if isinstance(tout, tuple) else \
        ag.tensor(v_arrs[0], device=device)
    tv = tuple(torch.tensor(a) for a in v_arrs) if isinstance(tout, tuple) else torch.tensor(v_arrs[0])
    _assert_same(AF.vjp(make(ag), x, v), TF.vjp(make(torch), tx, tv))
    u_arrs = [_arr(*s) for s in shapes]
    u = tuple(ag.tensor(a, device=device) for a in u_arrs) if tup else ag.tensor(u_arrs[0], device=device)
    tu = tuple(torch.tensor(a) for a in u_arrs) if tup else torch.tensor(u_arrs[0])
    _assert_same(AF.jvp(make(ag), x, u), TF.jvp(make(torch), tx, tu))


def scalar_single(x):
    return (x.sin() * x ** 2).sum()


def scalar_pair(x, y):
    return (x.exp() * (y ** 2).sum()).sum() + (x ** 3).sum()


@pytest.mark.parametrize("fn,shapes,tup", [(scalar_single, [(3,)], False), (scalar_single, [(2, 2)], False),
                                           (scalar_pair, [(2,), (3,)], True)])
def test_hessian_vhp_hvp(fn, shapes, tup, device):
    x, tx = _inputs(shapes, tup, device)
    _assert_same(AF.hessian(fn, x), TF.hessian(fn, tx))
    v_arrs = [_arr(*s) for s in shapes]
    v = tuple(ag.tensor(a, device=device) for a in v_arrs) if tup else ag.tensor(v_arrs[0], device=device)
    tv = tuple(torch.tensor(a) for a in v_arrs) if tup else torch.tensor(v_arrs[0])
    _assert_same(AF.vhp(fn, x, v), TF.vhp(fn, tx, tv))
    _assert_same(AF.hvp(fn, x, v), TF.hvp(fn, tx, tv))


def test_scalar_input_allows_v_none(device):
    x, tx = _both(np.array([0.7]), device=device)
    _assert_same(AF.jvp(lambda a: a.exp() * 2, x), TF.jvp(lambda a: a.exp() * 2, tx))
    _assert_same(AF.vjp(lambda a: a.exp().sum(), x), TF.vjp(lambda a: a.exp().sum(), tx))
    _assert_same(AF.hvp(lambda a: (a ** 4).sum(), x), TF.hvp(lambda a: (a ** 4).sum(), tx))


def test_results_are_detached_unless_create_graph(device):
    a = _arr(3)
    x, tx = _both(a, requires_grad=True, device=device)
    jac = AF.jacobian(scalar_single, x)
    assert not jac.requires_grad
    jac = AF.jacobian(lambda z: (z ** 3).sum(), x, create_graph=True)
    tjac = TF.jacobian(lambda z: (z ** 3).sum(), tx, create_graph=True)
    assert jac.requires_grad and tjac.requires_grad
    jac.sum().backward()  # d/dx sum(3x^2) = 6x, flows to the original x
    tjac.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy())
    out, vhp = AF.vhp(lambda z: (z ** 3).sum(), x, ag.ones(3, dtype=ag.float64, device=device), create_graph=True)
    assert out.requires_grad and vhp.requires_grad


def test_linear_function_has_zero_hessian(device):
    x, tx = _both(_arr(3), device=device)
    _assert_same(AF.hessian(lambda z: (z * 2).sum(), x), TF.hessian(lambda z: (z * 2).sum(), tx))


def _same_error(exc, fn_ours, fn_theirs):
    with pytest.raises(exc) as e:
        fn_ours()
    with pytest.raises(exc) as te:
        fn_theirs()
    assert str(e.value) == str(te.value)


def test_errors_match_torch():
    x, tx = _both(_arr(3))
    y, ty = _both(_arr(2))
    _same_error(RuntimeError, lambda: AF.vjp(lambda a: a * 2, x), lambda: TF.vjp(lambda a: a * 2, tx))
    _same_error(RuntimeError, lambda: AF.vjp(lambda a: a * 2, x, y), lambda: TF.vjp(lambda a: a * 2, tx, ty))
    _same_error(RuntimeError, lambda: AF.jvp(lambda a, b: a, (x, x), (x,)),
                lambda: TF.jvp(lambda a, b: a, (tx, tx), (tx,)))
    _same_error(RuntimeError, lambda: AF.hessian(lambda a: a * 2, x), lambda: TF.hessian(lambda a: a * 2, tx))
    _same_error(RuntimeError, lambda: AF.vhp(lambda a: (a, a), x, x), lambda: TF.vhp(lambda a: (a, a), tx, tx))
    _same_error(RuntimeError, lambda: AF.jacobian(lambda a, b: a * 2, (x, y), strict=True),
                lambda: TF.jacobian(lambda a, b: a * 2, (tx, ty), strict=True))
    _same_error(RuntimeError, lambda: AF.vjp(lambda a: x * 2, y, x, strict=True),
                lambda: TF.vjp(lambda a: tx * 2, ty, tx, strict=True))
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(lambda a: a, [x])
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        TF.jacobian(lambda a: a, [tx])

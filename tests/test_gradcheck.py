"""autograd.gradcheck / gradgradcheck: they pass correct gradients and catch wrong ones, as PyTorch's do."""
import importlib
import re
import warnings

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu.autograd import GradcheckError, gradcheck, gradgradcheck

TGradcheckError = importlib.import_module("torch.autograd.gradcheck").GradcheckError


def _both(a, dtype=np.float64, requires_grad=True, device="cpu"):
    """Ours on `device`, torch's on the CPU."""
    a = np.asarray(a, dtype=dtype)
    return ag.tensor(a, requires_grad=requires_grad, device=device), torch.tensor(a, requires_grad=requires_grad)


def make_wrong(T):
    class WrongSquare(T.autograd.Function):  # backward forgets the factor 2
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    class WrongSecondOrder(T.autograd.Function):  # right first derivative, wrong second (detach)
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    class Noisy(T.autograd.Function):  # non-deterministic backward
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * (1 + T.rand_like(g) * 1e-3)

    class Unscaled(T.autograd.Function):  # right for one-hot grad_outputs, not zero for a zero one
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2 + (g == 0).all().to(g.dtype)

    return WrongSquare, WrongSecondOrder, Noisy, Unscaled


OURS, THEIRS = make_wrong(ag), make_wrong(torch)


@pytest.mark.parametrize("fn", [
    lambda T: (lambda x: (x * x).sum()),
    lambda T: (lambda x, y: (x @ y).tanh()),
    lambda T: (lambda x, y: (x.exp() / (1 + y), x.sin())),
    lambda T: (lambda x, y: x * y),  # broadcast (2, 3) * (3,)
])
def test_correct_gradients_pass(fn, device):
    x, tx = _both(np.linspace(-1, 1, 6).reshape(2, 3), device=device)
    y, ty = _both(np.linspace(0.5, 1.5, 3), device=device)
    n = fn(torch).__code__.co_argcount
    args, targs = ((x, y), (tx, ty)) if n == 2 else ((x,), (tx,))
    assert gradcheck(fn(ag), args) is True and torch.autograd.gradcheck(fn(torch), targs) is True
    assert gradgradcheck(fn(ag), args) is True and torch.autograd.gradgradcheck(fn(torch), targs) is True


def test_wrong_backward_is_caught_with_the_worst_element(device):
    x, tx = _both([0.5, -1.0, 2.0], device=device)
    with pytest.raises(GradcheckError) as e:
        gradcheck(OURS[0].apply, (x,))
    with pytest.raises(TGradcheckError) as te:
        torch.autograd.gradcheck(THEIRS[0].apply, (tx,))
    assert isinstance(e.value, RuntimeError)
    msg, tmsg = str(e.value), str(te.value)
    head = "Jacobian mismatch for output 0 with respect to input 0,\n"
    assert msg.startswith(head) and tmsg.startswith(head)
    assert "numerical:tensor(" in msg and "analytical:tensor(" in msg
    # numerical d(x^2)/dx = 2x = 4 at x=2 vs analytical x = 2: the worst element is the last diagonal one
    num = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"
    m = re.search(rf"worst element is \[(\d+), (\d+)\].*numerical {num} vs analytical {num}", msg)
    assert m, msg
    assert (int(m[1]), int(m[2])) == (2, 2)
    assert float(m[3]) == pytest.approx(4.0, abs=1e-6) and float(m[4]) == 2.0
    assert gradcheck(OURS[0].apply, (x,), raise_exception=False) is False
    assert torch.autograd.gradcheck(THEIRS[0].apply, (tx,), raise_exception=False) is False


def test_which_input_is_named(device):
    x, tx = _both([0.5, -1.0], device=device)
    y, ty = _both([1.5, 2.0], device=device)
    with pytest.raises(GradcheckError, match="with respect to input 1,"):
        gradcheck(lambda a, b: a + OURS[0].apply(b), (x, y))
    with pytest.raises(TGradcheckError, match="with respect to input 1,"):
        torch.autograd.gradcheck(lambda a, b: a + THEIRS[0].apply(b), (tx, ty))


def test_gradgradcheck_catches_wrong_second_order(device):
    x, tx = _both([0.5, -1.0, 2.0], device=device)
    assert gradcheck(OURS[1].apply, (x,)) and torch.autograd.gradcheck(THEIRS[1].apply, (tx,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(OURS[1].apply, (x,))
    with pytest.raises(TGradcheckError, match="Jacobian mismatch"):
        torch.autograd.gradgradcheck(THEIRS[1].apply, (tx,))


def test_nondeterministic_and_unscaled_backward(device):
    x, tx = _both([0.5, -1.0], device=device)
    for check, fns, xx, Err in ((gradcheck, OURS, x, GradcheckError),
                                (torch.autograd.gradcheck, THEIRS, tx, TGradcheckError)):
        with pytest.raises(Err, match="Backward is not reentrant"):
            check(fns[2].apply, (xx,), atol=1e-2)
        assert check(fns[2].apply, (xx,), atol=1e-2, nondet_tol=1e-2)
        with pytest.raises(Err, match="backward not multiplied by grad_output"):
            check(fns[3].apply, (xx,))


def test_low_precision_warns_like_torch_and_needs_an_input(device):
    x32, tx32 = _both([0.5, 1.0], dtype=np.float32, device=device)
    with pytest.warns(UserWarning) as w:
        assert gradcheck(lambda a: a * 2, (x32,), eps=1e-3, atol=1e-2, rtol=1e-2)
    with pytest.warns(UserWarning) as tw:
        assert torch.autograd.gradcheck(lambda a: a * 2, (tx32,), eps=1e-3, atol=1e-2, rtol=1e-2)
    assert str(w[0].message) == str(tw[0].message)
    assert "Input #0 requires gradient and is not a double precision" in str(w[0].message)
    # float32 with the default tolerances fails on a curved function, as it does in PyTorch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x32, tx32 = _both([0.3, 1.7, -2.2], dtype=np.float32, device=device)
        assert gradcheck(lambda a: a.exp() * a, (x32,), raise_exception=False) is False
        assert torch.autograd.gradcheck(lambda a: a.exp() * a, (tx32,), raise_exception=False) is False
    xn, txn = _both([1.0], requires_grad=False, device=device)
    with pytest.raises(ValueError) as e:
        gradcheck(lambda a: a * 2, (xn,))
    with pytest.raises(ValueError) as te:
        torch.autograd.gradcheck(lambda a: a * 2, (txn,))
    assert str(e.value) == str(te.value)


def test_non_differentiable_output_and_defaults(device):
    x, tx = _both([0.5, -1.0], device=device)
    assert gradcheck(lambda a: (a * 2, (a > 0).long()), (x,))
    assert torch.autograd.gradcheck(lambda a: (a * 2, (a > 0).long()), (tx,))
    import inspect
    ours = inspect.signature(gradcheck).parameters
    theirs = inspect.signature(torch.autograd.gradcheck).parameters
    for name in ("eps", "atol", "rtol", "raise_exception", "nondet_tol", "check_undefined_grad"):
        assert ours[name].default == theirs[name].default

"""autograd.Function: custom ops checked against the same Function written for PyTorch."""
import ctypes
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import autograd_gpu as ag

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import custom_kernel_function as example  # noqa: E402


def _np(t):
    return t.detach().cpu().numpy()


def make_functions(T):
    """The same custom Functions for PyTorch (T=torch) and for us (T=ag)."""
    F = T.autograd.Function

    class Exp(F):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class MulAdd(F):  # two tensor inputs, a Python scalar, two outputs
        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_backward(x, y)
            ctx.k = k
            ctx.seen_needs = ctx.needs_input_grad
            return x * y * k, x + y

        @staticmethod
        def backward(ctx, ga, gb):
            x, y = ctx.saved_tensors
            return ga * y * ctx.k + gb, ga * x * ctx.k + gb, None

    class Cube(F):  # backward made of differentiable ops: double backward works
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    class AddOneInplace(F):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2  # a deliberately distinguishable gradient

    class SortLike(F):  # a non-differentiable second output
        @staticmethod
        def forward(ctx, x):
            idx = (x > 0).long()
            ctx.mark_non_differentiable(idx)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, gidx):
            ctx.got_none = gidx is None
            return g * 2

    class NoMaterialize(F):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.got = (g1 is None, g2 is None)
            return g1 if g1 is not None else g2

    class TooFew(F):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    class GradForScalar(F):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    class BadShape(F):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return T.ones(5)

    class Broadcast(F):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g.expand(4, *g.shape)  # summed back to x's shape by the engine

    class Once(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @T.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    return dict(Exp=Exp, MulAdd=MulAdd, Cube=Cube, AddOneInplace=AddOneInplace, SortLike=SortLike,
                NoMaterialize=NoMaterialize, TooFew=TooFew, GradForScalar=GradForScalar, BadShape=BadShape,
                Broadcast=Broadcast, Once=Once)


OURS, THEIRS = make_functions(ag), make_functions(torch)


def _pair(data, dtype="float32", requires_grad=True, device="cpu"):
    a = np.asarray(data, dtype=dtype)
    return (ag.tensor(a, requires_grad=requires_grad, device=device),
            torch.tensor(a, requires_grad=requires_grad))


def test_exp_values_grads_and_node_name(device):
    x, tx = _pair([[0.5, -1.0], [2.0, 0.0]], device=device)
    y, ty = OURS["Exp"].apply(x), THEIRS["Exp"].apply(tx)
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__ == "ExpBackward"
    assert y.grad_fn.name() == ty.grad_fn.name()
    assert y.device == x.device
    np.testing.assert_allclose(_np(y), _np(ty), rtol=1e-6)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad), rtol=1e-5)


def test_multiple_inputs_outputs_and_non_tensor_argument(device):
    x, tx = _pair([1.0, 2.0, 3.0], device=device)
    y, ty = _pair([0.5, -1.0, 4.0], requires_grad=False, device=device)
    a, b = OURS["MulAdd"].apply(x, y, 3.0)
    ta, tb = THEIRS["MulAdd"].apply(tx, ty, 3.0)
    assert a.grad_fn is b.grad_fn and a.output_nr == 0 and b.output_nr == 1
    assert a.grad_fn.seen_needs == ta.grad_fn.seen_needs == (True, False, False)
    assert len(a.grad_fn.next_functions) == len(ta.grad_fn.next_functions) == 2  # tensor inputs only
    assert a.grad_fn.next_functions[1] == (None, 0)
    ((a * 2).sum() + (b ** 2).sum()).backward()
    ((ta * 2).sum() + (tb ** 2).sum()).backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad), rtol=1e-6)
    assert y.grad is None and ty.grad is None


def test_setup_context_style_and_double_backward(device):
    x, tx = _pair([0.5, -1.5, 2.0], dtype="float64", device=device)
    y, ty = OURS["Cube"].apply(x), THEIRS["Cube"].apply(tx)
    (gx,) = ag.autograd.grad(y.sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad(ty.sum(), tx, create_graph=True)
    np.testing.assert_allclose(_np(gx), _np(tgx))
    (ggx,) = ag.autograd.grad(gx.sum(), x)
    (tggx,) = torch.autograd.grad(tgx.sum(), tx)
    np.testing.assert_allclose(_np(ggx), _np(tggx))  # 6x
    assert ag.autograd.gradgradcheck(OURS["Cube"].apply, (x,))


def test_mark_dirty_inplace_on_non_leaf(device):
    x, tx = _pair([1.0, 2.0], device=device)
    h, th = x * 3, tx * 3
    out, tout = OURS["AddOneInplace"].apply(h), THEIRS["AddOneInplace"].apply(th)
    assert out is h and tout is th
    assert type(h.grad_fn).__name__ == "AddOneInplaceBackward" and h._version == th._version
    np.testing.assert_allclose(_np(h), _np(th))
    (h * h).sum().backward()
    (th * th).sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad))


def test_mark_dirty_on_a_view(device):
    x, tx = _pair([1.0, 2.0, 3.0, 4.0], device=device)
    h, th = x * 1, tx * 1
    v, tv = h[1:3], th[1:3]
    OURS["AddOneInplace"].apply(v)
    THEIRS["AddOneInplace"].apply(tv)
    np.testing.assert_allclose(_np(h), _np(th))
    (h * h).sum().backward()
    (th * th).sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad))


def test_mark_dirty_leaf_error_matches_torch():
    x, tx = _pair([1.0, 2.0])
    with pytest.raises(RuntimeError) as e:
        OURS["AddOneInplace"].apply(x)
    with pytest.raises(RuntimeError) as te:
        THEIRS["AddOneInplace"].apply(tx)
    assert str(e.value) == str(te.value)


def test_non_differentiable_output_gets_zero_grad(device):
    x, tx = _pair([-1.0, 2.0], device=device)
    y, idx = OURS["SortLike"].apply(x)
    ty, tidx = THEIRS["SortLike"].apply(tx)
    assert not idx.requires_grad and not tidx.requires_grad
    assert idx.dtype == ag.int64
    y.sum().backward()
    ty.sum().backward()
    assert y.grad_fn.got_none is ty.grad_fn.got_none is False  # materialized as zeros
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad))


def test_set_materialize_grads_false_passes_none(device):
    x, tx = _pair([1.0, 2.0], device=device)
    a, b = OURS["NoMaterialize"].apply(x)
    ta, tb = THEIRS["NoMaterialize"].apply(tx)
    b.sum().backward()
    tb.sum().backward()
    assert a.grad_fn.got == ta.grad_fn.got == (True, False)
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad))


@pytest.mark.parametrize("name,extra", [("TooFew", "y"), ("GradForScalar", "k")])
def test_wrong_number_or_kind_of_gradients_errors_match_torch(name, extra):
    x, tx = _pair([1.0, 2.0])
    args = (x, x * 1) if extra == "y" else (x, 2.0)
    targs = (tx, tx * 1) if extra == "y" else (tx, 2.0)
    with pytest.raises(RuntimeError) as e:
        OURS[name].apply(*args).sum().backward()
    with pytest.raises(RuntimeError) as te:
        THEIRS[name].apply(*targs).sum().backward()
    assert str(e.value) == str(te.value)


def test_invalid_gradient_shape_error():
    x, tx = _pair([1.0, 2.0])
    with pytest.raises(RuntimeError) as e:
        OURS["BadShape"].apply(x).backward()
    with pytest.raises(RuntimeError) as te:
        THEIRS["BadShape"].apply(tx).backward()
    assert str(e.value) == str(te.value)


def test_gradient_of_a_broadcast_shape_is_summed_back(device):
    x, tx = _pair([1.0, 2.0], device=device)
    OURS["Broadcast"].apply(x).sum().backward()
    THEIRS["Broadcast"].apply(tx).sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad))  # 4s


def test_saved_tensors_version_check_and_freeing(device):
    x, tx = _pair([1.0, 2.0], device=device)
    for T, xx, fns in ((ag, x, OURS), (torch, tx, THEIRS)):
        h = xx * 1
        y = fns["MulAdd"].apply(h, xx, 2.0)[0]
        with T.no_grad():
            h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        y = fns["Exp"].apply(xx)
        y.sum().backward(retain_graph=True)
        y.sum().backward()  # retained
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            y.sum().backward()
        with pytest.raises(RuntimeError, match="saved tensors after they have already been freed"):
            y.grad_fn.saved_tensors


def test_once_differentiable_blocks_double_backward(device):
    x, tx = _pair([1.0, 3.0], device=device)
    for T, xx, fns in ((ag, x, OURS), (torch, tx, THEIRS)):
        y = fns["Once"].apply(xx)
        (g,) = T.autograd.grad(y.sum(), xx, create_graph=True)  # grad_output needs no grad: plain result
        assert not g.requires_grad
        (g,) = T.autograd.grad((y * xx).sum(), xx, create_graph=True)
        np.testing.assert_allclose(_np(g), [3.0, 27.0])
        assert type(g.grad_fn.next_functions[1][0]).__name__ == "Error"
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                               "@once_differentiable"):
            g.sum().backward()


def test_no_grad_and_no_input_requiring_grad_record_nothing(device):
    x, _ = _pair([1.0, 2.0], requires_grad=False, device=device)
    y = OURS["Exp"].apply(x)
    assert y.grad_fn is None and not y.requires_grad
    x.requires_grad_(True)
    with ag.no_grad():
        y = OURS["Exp"].apply(x)
    assert y.grad_fn is None


def test_api_errors_match_torch():
    class S(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    class TS(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x

    x, tx = _pair([1.0])
    with pytest.raises(TypeError) as e:
        S.apply(x)
    with pytest.raises(TypeError) as te:
        TS.apply(tx)
    assert str(e.value) == str(te.value)
    with pytest.warns(DeprecationWarning):
        inst = OURS["Exp"]()
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        inst(x)


# ---- the README example: a Function that launches its own CUDA kernels ------------------------------------
def test_example_silu_matches_torch(device):
    x, tx = _pair(np.linspace(-4, 4, 13), device=device)
    y, ty = example.silu(x), torch.nn.functional.silu(tx)
    assert type(y.grad_fn).__name__ == "SiLUBackward"
    np.testing.assert_allclose(_np(y), _np(ty), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(tx.grad), rtol=1e-5, atol=1e-6)
    xd = ag.tensor(np.linspace(-2, 2, 5), dtype=ag.float64, device=device, requires_grad=True)
    assert ag.autograd.gradcheck(example.silu, (xd,))


def _example_kernels():
    return [(n, c, example._SRC.format(name=n, T=c, body=example._BODY[n].format(T=c)))
            for n in ("fwd", "bwd") for c in ("float", "double")]


def test_example_kernels_compile_with_nvrtc():
    from cuda.bindings import nvrtc
    for name, ctype, src in _example_kernels():
        err, prog = nvrtc.nvrtcCreateProgram(src.encode(), b"silu.cu", 0, [], [])
        assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS
        try:
            opts = [b"--gpu-architecture=compute_75"]
            (err,) = nvrtc.nvrtcCompileProgram(prog, len(opts), opts)
            _, size = nvrtc.nvrtcGetProgramLogSize(prog)
            log = bytearray(size)  # NOTE: b" " * 1 is the interned b" ", which nvrtc would overwrite
            nvrtc.nvrtcGetProgramLog(prog, log)
            assert err == nvrtc.nvrtcResult.NVRTC_SUCCESS, log.decode(errors="replace")
        finally:
            nvrtc.nvrtcDestroyProgram(prog)


def test_example_kernels_arithmetic_on_cpu(tmp_path):
    """Run the kernels' source on the CPU (g++ and the test shim) against torch's silu and its derivative."""
    gxx = shutil.which("g++")
    assert gxx, "g++ is needed to run the kernels on the CPU"
    wrappers = "".join(
        f'extern "C" void run_{n}_{c}(unsigned g, unsigned b, const {c}* x, const {c}* gr, {c}* out, long long n)'
        f' {{ ag_shim_launch(&silu_{n}_{c}, g, b, x, gr, out, n); }}\n' for n, c, _ in _example_kernels())
    src = tmp_path / "silu.cpp"
    src.write_text("".join(s for *_, s in _example_kernels()) + wrappers)
    lib = tmp_path / "silu.so"
    subprocess.run([gxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-include", str(ROOT / "tests" / "kernel_shim.h"),
                    str(src), "-o", str(lib)], check=True)
    so = ctypes.CDLL(str(lib))
    xs = np.linspace(-6, 6, 37)
    tx = torch.tensor(xs, requires_grad=True)
    ty = torch.nn.functional.silu(tx)
    (tg,) = torch.autograd.grad(ty, tx, torch.full_like(tx, 0.5))
    for ctype, dt, tol in (("float", np.float32, 1e-6), ("double", np.float64, 1e-12)):
        x = xs.astype(dt)
        g = np.full_like(x, 0.5)
        for name, want in (("fwd", ty.detach().numpy()), ("bwd", tg.numpy())):
            out = np.zeros_like(x)
            getattr(so, f"run_{name}_{ctype}")(ctypes.c_uint(2), ctypes.c_uint(8), ctypes.c_void_p(x.ctypes.data),
                                               ctypes.c_void_p(g.ctypes.data), ctypes.c_void_p(out.ctypes.data),
                                               ctypes.c_longlong(x.size))
            np.testing.assert_allclose(out, want, rtol=tol * 10, atol=tol)

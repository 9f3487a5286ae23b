"""The nn.functional ops of issue 11's sampling, pooling and convolution part against torch.nn.functional:
conv3d / conv_transpose1d / conv_transpose3d, 1-d and 3-d pooling, adaptive max pooling, max_unpool, lp_pool,
interpolate (every mode, align_corners, scale_factor, recompute_scale_factor, size), grid_sample, affine_grid,
pixel_shuffle and scaled_dot_product_attention: outputs and gradients (float64, tight tolerances) on both
devices, torch's boundary rounding of nearest interpolation in float32, and error types and messages.
(gradcheck, gradgradcheck and node names: their cases in tests/op_cases.py.)"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd_gpu as ag
import autograd_gpu.nn.functional as F
from test_nn_conv import _distinct, _rand, check

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'", "ignore:Default grid_sample",
                                        "ignore:.*is deprecated")


def _const(F_, a, device):
    """A constant (index, mask) tensor in the library F_ belongs to."""
    return torch.tensor(a) if F_ is TF else ag.tensor(a, device=device)


# ---- convolution and pooling over 1 and 3 spatial dims ----------------------------------------------------
CONV = [
    ("conv3d", lambda F, x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1)),
     ((2, 2, 5, 6, 4), (3, 2, 2, 3, 2), (3,))),
    ("conv3d-same-groups", lambda F, x, w: F.conv3d(x, w, groups=2, padding="same"),
     ((1, 4, 4, 5, 3), (2, 2, 3, 2, 2))),
    ("conv3d-unbatched", lambda F, x, w, b: F.conv3d(x, w, b, stride=2), ((2, 5, 5, 4), (3, 2, 1, 2, 3), (3,))),
    ("conv1d-dilated", lambda F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
     ((2, 3, 9), (4, 3, 3), (4,))),
    ("conv_transpose1d", lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1),
     ((2, 3, 5), (3, 2, 3), (2,))),
    ("conv_transpose1d-groups", lambda F, x, w: F.conv_transpose1d(x, w, stride=3, groups=3, dilation=2),
     ((3, 5), (3, 2, 2))),
    ("conv_transpose3d", lambda F, x, w, b: F.conv_transpose3d(x, w, b, stride=(2, 1, 2), padding=(1, 0, 1),
                                                               output_padding=(1, 0, 0), dilation=(1, 2, 1)),
     ((1, 2, 3, 4, 3), (2, 3, 3, 2, 2), (3,))),
    ("conv_transpose3d-groups", lambda F, x, w: F.conv_transpose3d(x, w, groups=2), ((2, 4, 2, 3, 2), (4, 1, 2, 2, 2))),
]


@pytest.mark.parametrize("fn, shapes", [c[1:] for c in CONV], ids=[c[0] for c in CONV])
def test_convolution(fn, shapes, device):
    check(fn, *(_rand(*s, seed=k) for k, s in enumerate(shapes)), device=device)


POOL = [
    ("max_pool3d", lambda F, x: F.max_pool3d(x, 2), (2, 2, 4, 4, 6)),
    ("max_pool3d-options", lambda F, x: F.max_pool3d(x, (2, 3, 2), (1, 2, 1), 1, dilation=(1, 1, 2), ceil_mode=True,
                                                     return_indices=True), (1, 2, 5, 6, 7)),
    ("max_pool3d-unbatched", lambda F, x: F.max_pool3d(x, 3, 2, return_indices=True), (2, 5, 5, 5)),
    ("max_pool1d", lambda F, x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True, return_indices=True), (2, 3, 9)),
    ("max_pool1d-unbatched", lambda F, x: F.max_pool1d(x, 2, dilation=2), (3, 8)),
    ("avg_pool3d", lambda F, x: F.avg_pool3d(x, 2), (2, 2, 4, 4, 6)),
    ("avg_pool3d-exclude", lambda F, x: F.avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     (1, 2, 5, 6, 7)),
    ("avg_pool3d-divisor", lambda F, x: F.avg_pool3d(x, (2, 1, 3), 1, divisor_override=5), (2, 5, 4, 6)),
    ("avg_pool1d", lambda F, x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 9)),
    ("adaptive_max_pool2d", lambda F, x: F.adaptive_max_pool2d(x, (3, 2), True), (2, 2, 7, 5)),
    ("adaptive_max_pool2d-None", lambda F, x: F.adaptive_max_pool2d(x, (None, 4)), (2, 7, 5)),
    ("adaptive_max_pool1d", lambda F, x: F.adaptive_max_pool1d(x, 3, True), (2, 3, 7)),
    ("adaptive_avg_pool3d", lambda F, x: F.adaptive_avg_pool3d(x, (2, None, 3)), (2, 2, 5, 6, 4)),
    ("adaptive_avg_pool1d", lambda F, x: F.adaptive_avg_pool1d(x, 3), (2, 3, 7)),
    ("lp_pool2d", lambda F, x: F.lp_pool2d(x.abs() + 0.1, 3, (2, 3), stride=1, ceil_mode=True), (2, 5, 6)),
    ("lp_pool2d-inf", lambda F, x: F.lp_pool2d(x, float("inf"), 2), (2, 2, 4, 6)),
    ("lp_pool1d", lambda F, x: F.lp_pool1d(x.abs() + 0.1, 1.5, 3, 2), (2, 2, 7)),
    ("lp_pool3d", lambda F, x: F.lp_pool3d(x, 2, 2), (1, 2, 4, 4, 2)),
]


@pytest.mark.parametrize("fn, shape", [p[1:] for p in POOL], ids=[p[0] for p in POOL])
def test_pooling(fn, shape, device):
    check(fn, _distinct(*shape), device=device)


@pytest.mark.parametrize("name", ["max_pool3d", "adaptive_max_pool1d"])
def test_max_pooling_nan_inf_and_ties(name, device):
    """NaN wins (the last of a window), ties keep the first maximum, -inf is a value."""
    x = np.array([[1.0, np.nan, 3.0, np.nan, 2.0, 2.0, -np.inf, np.inf]] * 2)
    if name == "max_pool3d":
        x = x.reshape(1, 2, 2, 2, 2)
        fn = lambda F, x: F.max_pool3d(x, (1, 2, 1), return_indices=True)  # noqa: E731
    else:
        x = x.reshape(1, 2, 8)
        fn = lambda F, x: F.adaptive_max_pool1d(x, 3, return_indices=True)  # noqa: E731
    (ya, ia), (yt, it) = fn(F, ag.tensor(x, device=device)), fn(TF, torch.tensor(x))
    np.testing.assert_array_equal(ya.cpu().numpy(), yt.numpy())
    np.testing.assert_array_equal(ia.cpu().numpy(), it.numpy())


def test_max_unpool(device):
    x = _distinct(2, 2, 4, 6)
    _, i = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    i = i.numpy()
    check(lambda F, y: F.max_unpool2d(y, _const(F, i, device), 2), _rand(2, 2, 2, 3), device=device)
    check(lambda F, y: F.max_unpool2d(y, _const(F, i, device), 2, output_size=(5, 7)), _rand(2, 2, 2, 3),
          device=device)
    check(lambda F, y: F.max_unpool2d(y, _const(F, i[0], device), (2, 2), stride=2), _rand(2, 2, 3), device=device)
    _, i1 = TF.max_pool1d(torch.tensor(_distinct(2, 3, 7)), 3, 2, 1, return_indices=True)
    i1 = i1.numpy()
    check(lambda F, y: F.max_unpool1d(y, _const(F, i1, device), 3, 2, 1, output_size=[2, 3, 7]), _rand(*i1.shape),
          device=device)


def test_max_pool_then_unpool_round_trip(device):
    """The usual use: pooling's indices feed unpooling, gradients flow to the input through both."""
    check(lambda F, x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2), _distinct(2, 3, 4, 6),
          device=device)
    check(lambda F, x: F.max_unpool1d(*F.max_pool1d(x, 2, return_indices=True), 2), _distinct(3, 8), device=device)


# ---- interpolate --------------------------------------------------------------------------------------------
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
         ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3), ("area", 2),
         ("area", 3)]
SIZES = [dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6), dict(size=(7, 2, 5)),
         dict(scale_factor=0.6, recompute_scale_factor=True), dict(scale_factor=(2.5, 0.5, 1.5))]


@pytest.mark.parametrize("kw", SIZES, ids=str)
@pytest.mark.parametrize("mode, dims", MODES, ids=[f"{m}-{d}d" for m, d in MODES])
def test_interpolate(mode, dims, kw, device):
    kw = dict(kw)
    for key in ("size", "scale_factor"):
        if isinstance(kw.get(key), tuple):
            kw[key] = kw[key][:dims]
    if mode == "area" and "scale_factor" in kw and not kw.get("recompute_scale_factor"):
        kw["recompute_scale_factor"] = True
    shape = (2, 2, 5, 4, 3)[:dims + 2]
    for align in ([None] if mode in ("nearest", "nearest-exact", "area") else [False, True]):
        check(lambda F, x: F.interpolate(x, mode=mode, align_corners=align, **kw), _rand(*shape), device=device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
def test_interpolate_sizes_sweep(mode, dtype):
    """Every input / output size up to 11 / 24, by size and by scale factor: nearest's pixel choice on
    boundaries depends on ATen's float rounding, which the taps reproduce exactly."""
    rng = np.random.default_rng(0)
    for n_in in range(1, 12):
        x = rng.standard_normal((1, 1, n_in)).astype(dtype)
        for n_out in range(1, 25):
            for kw in (dict(size=n_out), dict(scale_factor=n_out / n_in), dict(scale_factor=round(n_out / n_in, 1)),
                       dict(scale_factor=n_out / n_in, recompute_scale_factor=True)):
                if int(n_in * kw.get("scale_factor", 1)) == 0:
                    continue  # (an empty output: an error, in torch as here)
                for align in ([None] if "nearest" in mode else [False, True]):
                    want = TF.interpolate(torch.tensor(x), mode=mode, align_corners=align, **kw).numpy()
                    got = F.interpolate(ag.tensor(x), mode=mode, align_corners=align, **kw).numpy()
                    assert got.shape == want.shape and got.dtype == want.dtype, (n_in, kw)
                    if "nearest" in mode:
                        np.testing.assert_array_equal(got, want, err_msg=f"{n_in} {kw}")
                    else:
                        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{n_in} {kw} {align}")


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("scale", [1.25, 2.3, 0.45])
def test_nearest_gradient_is_the_forwards_adjoint(scale, dims, device):
    """Nearest's forward takes torch's pixels in every case; its gradient is that forward's adjoint. (torch's own
    1-d and 3-d backward differs from its forward's adjoint when a scale factor gives an output of the input's
    size or twice it: e.g. 3 -> 3 pixels at scale 1.25, forward [x0, x0, x1], backward the identity.)"""
    shape = (1, 1) + (1,) * (dims - 1) + (3,)
    scale_factor = (1.0,) * (dims - 1) + (scale,)
    # torch's forward as a matrix, one basis image at a time
    basis = torch.eye(3).reshape((3, 1) + (1,) * (dims - 1) + (3,))
    matrix = TF.interpolate(basis, scale_factor=scale_factor).reshape(3, -1).numpy()
    x = ag.tensor(_rand(*shape), device=device, requires_grad=True)
    y = F.interpolate(x, scale_factor=scale_factor)
    np.testing.assert_array_equal(y.detach().cpu().numpy().ravel(), x.detach().cpu().numpy().ravel() @ matrix)
    g = _rand(*y.shape, seed=1)
    y.backward(ag.tensor(g, device=device))
    np.testing.assert_allclose(x.grad.cpu().numpy().ravel(), matrix @ g.ravel(), rtol=1e-12)


def test_interpolate_float32_and_aliases(device):
    x = _rand(2, 3, 4, 5).astype(np.float32)
    for fn in (lambda F, x: F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False),
               lambda F, x: F.upsample(x, size=(3, 7), mode="bilinear"),
               lambda F, x: F.upsample_nearest(x, scale_factor=3),
               lambda F, x: F.upsample_bilinear(x, size=(6, 6))):
        ya, yt = fn(F, ag.tensor(x, device=device)), fn(TF, torch.tensor(x))
        assert ya.dtype == ag.float32
        np.testing.assert_allclose(ya.cpu().numpy(), yt.numpy(), rtol=1e-5, atol=1e-6)


def test_interpolate_infinity_stays_local(device):
    """A gather, not a dense matrix product: an inf pixel does not turn far outputs into NaN."""
    x = np.zeros((1, 1, 8))
    x[0, 0, 0] = np.inf
    ya = F.interpolate(ag.tensor(x, device=device), scale_factor=2, mode="linear")
    yt = TF.interpolate(torch.tensor(x), scale_factor=2, mode="linear")
    np.testing.assert_array_equal(ya.cpu().numpy(), yt.numpy())


# ---- grid_sample, affine_grid, pixel_shuffle --------------------------------------------------------------
@pytest.mark.parametrize("align", [False, True], ids=["centers", "corners"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample(mode, padding, align, device):
    grid2 = np.random.default_rng(1).uniform(-1.4, 1.4, (2, 3, 2, 2))
    grid3 = np.random.default_rng(2).uniform(-1.4, 1.4, (1, 2, 3, 2, 3))
    cases = [(_rand(2, 3, 4, 5), grid2), (_rand(1, 2, 3, 4, 5), grid3)]
    for x, grid in cases[:1] if mode == "bicubic" else cases:  # (bicubic: 2-d only)
        if mode != "nearest":
            check(lambda F, x, g: F.grid_sample(x, g, mode, padding, align), x, grid, device=device)
        else:  # the grid's gradient is 0 almost everywhere
            check(lambda F, x: F.grid_sample(x, _const(F, grid, device), mode, padding, align), x, device=device)


@pytest.mark.parametrize("align", [False, True], ids=["centers", "corners"])
def test_affine_grid_then_grid_sample(align, device):
    check(lambda F, t: F.affine_grid(t, (2, 3, 4, 5), align), _rand(2, 2, 3), device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids with align_corners=True
        check(lambda F, t: F.affine_grid(t, (2, 3, 1, 4, 5), align), _rand(2, 3, 4), device=device)
        check(lambda F, t: F.affine_grid(t, [1, 2, 1, 3], align), _rand(1, 2, 3), device=device)
    check(lambda F, x, t: F.grid_sample(x, F.affine_grid(t, (2, 3, 3, 4), align), align_corners=align),
          _rand(2, 3, 4, 5), _rand(2, 2, 3) * 0.5, device=device)


def test_pixel_shuffle(device):
    check(lambda F, x: F.pixel_shuffle(x, 2), _rand(2, 8, 2, 3), device=device)
    check(lambda F, x: F.pixel_unshuffle(F.pixel_shuffle(x, 3), 3), _rand(2, 1, 9, 2, 1), device=device)
    check(lambda F, x: F.pixel_unshuffle(x, 2), _rand(3, 4, 6), device=device)


# ---- scaled_dot_product_attention ---------------------------------------------------------------------------
def test_sdpa(device):
    q, k, v = _rand(2, 3, 4, 5), _rand(2, 3, 6, 5, seed=1), _rand(2, 3, 6, 7, seed=2)
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v), q, k, v, device=device)
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3), q[0], k[0],
          v[0], device=device)
    mask = np.random.default_rng(0).random((4, 6)) > 0.4
    mask[1] = False  # a row with no key: 0, as torch's kernel gives
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_const(F, mask, device)), q, k, v,
          device=device)
    check(lambda F, q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b), q, k, v, _rand(4, 6),
          device=device)
    bias = _rand(4, 6)
    bias[2] = -np.inf
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=_const(F, bias, device),
                                                            is_causal=True), q, k, v[..., :5], device=device)
    check(lambda F, q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), _rand(2, 4, 3, 5), k[:, :2],
          v[:, :2], device=device)


def test_sdpa_float32_and_dropout(device):
    q = _rand(2, 3, 4, 5).astype(np.float32)
    ya = F.scaled_dot_product_attention(*(ag.tensor(q, device=device),) * 3)
    yt = TF.scaled_dot_product_attention(*(torch.tensor(q),) * 3)
    assert ya.dtype == ag.float32
    np.testing.assert_allclose(ya.cpu().numpy(), yt.numpy(), rtol=1e-5, atol=1e-6)
    # dropout: with value = the identity, the output is the attention matrix, each entry dropped (0) or kept and
    # scaled by 1 / (1 - p); the same seed drops the same entries
    qa = ag.tensor(_rand(1, 2, 50, 8), device=device)
    eye = ag.tensor(np.eye(50)[None, None].repeat(2, 1), device=device)
    full = F.scaled_dot_product_attention(qa, qa, eye).cpu().numpy()
    ag.manual_seed(3)
    drop = F.scaled_dot_product_attention(qa, qa, eye, dropout_p=0.25).cpu().numpy()
    ag.manual_seed(3)
    again = F.scaled_dot_product_attention(qa, qa, eye, dropout_p=0.25).cpu().numpy()
    np.testing.assert_array_equal(drop, again)
    kept = drop != 0
    np.testing.assert_allclose(drop[kept], full[kept] / 0.75, rtol=1e-12)
    assert abs(kept.mean() - 0.75) < 0.03
    np.testing.assert_array_equal(F.scaled_dot_product_attention(qa, qa, eye, dropout_p=1.0).cpu().numpy(), 0)


# ---- errors: torch's types and messages --------------------------------------------------------------------
def _T(m):
    def make(*shape, dtype=None):
        return m.zeros(*shape, dtype=dtype) if dtype is not None else m.randn(*shape, dtype=m.float64)
    return make


def _idx(m, *shape):
    return m.zeros(*shape, dtype=m.int64)


ERRORS = [
    ("conv3d-weight", lambda F, m, T: F.conv3d(T(1, 2, 4, 5, 6), T(2, 2, 2, 2)), False),
    ("conv3d-too-small", lambda F, m, T: F.conv3d(T(1, 2, 4, 5, 6), T(2, 2, 5, 2, 2)), True),
    ("conv3d-dims", lambda F, m, T: F.conv3d(T(2, 2), T(2, 2, 2, 2, 2)), True),
    ("conv_transpose1d-padding-str", lambda F, m, T: F.conv_transpose1d(T(2, 3, 8), T(3, 2, 3), padding="same"),
     True),
    ("conv_transpose1d-output-padding", lambda F, m, T: F.conv_transpose1d(T(2, 3, 8), T(3, 2, 3), output_padding=1),
     True),
    ("conv_transpose1d-too-small", lambda F, m, T: F.conv_transpose1d(T(1, 3, 2), T(3, 2, 3), padding=3), True),
    ("conv_transpose1d-dims", lambda F, m, T: F.conv_transpose1d(T(1, 1, 3, 8), T(3, 2, 3)), True),
    ("conv_transpose3d-output-padding", lambda F, m, T: F.conv_transpose3d(T(1, 2, 4, 5, 6), T(2, 2, 2, 2, 2),
                                                                           output_padding=1), True),
    ("conv_transpose3d-channels", lambda F, m, T: F.conv_transpose3d(T(1, 2, 4, 5, 6), T(3, 2, 2, 2, 2)), True),
    ("conv_transpose3d-stride-length", lambda F, m, T: F.conv_transpose3d(T(1, 2, 4, 5, 6), T(2, 2, 2, 2, 2),
                                                                          stride=(1, 2)), True),
    ("conv_transpose3d-too-small", lambda F, m, T: F.conv_transpose3d(T(1, 3, 2, 2, 2), T(3, 2, 3, 3, 3),
                                                                      padding=2), True),
    ("max_pool3d-dims", lambda F, m, T: F.max_pool3d(T(2, 3, 4), 2), True),
    ("max_pool3d-kernel-length", lambda F, m, T: F.max_pool3d(T(1, 2, 4, 5, 6), (2, 2)), False),
    ("max_pool3d-pad", lambda F, m, T: F.max_pool3d(T(1, 2, 4, 5, 6), 2, 1, 2), True),
    ("max_pool3d-too-small", lambda F, m, T: F.max_pool3d(T(1, 2, 4, 5, 6), 5), True),
    ("max_pool3d-dilation", lambda F, m, T: F.max_pool3d(T(1, 2, 4, 5, 6), 2, dilation=0), True),
    ("max_pool3d-empty", lambda F, m, T: F.max_pool3d(T(1, 2, 0, 5, 6), 2), False),
    ("max_pool1d-dims", lambda F, m, T: F.max_pool1d(T(3), 2), True),
    ("max_pool1d-kernel-length", lambda F, m, T: F.max_pool1d(T(2, 3, 8), (2, 2)), True),
    ("max_pool1d-too-small", lambda F, m, T: F.max_pool1d(T(2, 3, 8), 9), False),
    ("avg_pool3d-dims", lambda F, m, T: F.avg_pool3d(T(2, 3, 4), 2), True),
    ("avg_pool3d-pad", lambda F, m, T: F.avg_pool3d(T(1, 2, 4, 5, 6), 2, 1, 2), True),
    ("avg_pool3d-divisor", lambda F, m, T: F.avg_pool3d(T(1, 2, 4, 5, 6), 2, divisor_override=0), True),
    ("avg_pool3d-too-small", lambda F, m, T: F.avg_pool3d(T(1, 2, 4, 5, 6), 5), False),
    ("avg_pool1d-dims", lambda F, m, T: F.avg_pool1d(T(3), 2), True),
    ("avg_pool1d-too-small", lambda F, m, T: F.avg_pool1d(T(2, 3, 8), 9), True),
    ("avg_pool1d-pad", lambda F, m, T: F.avg_pool1d(T(2, 3, 8), 2, 1, 2), True),
    ("adaptive_avg_pool3d-dims", lambda F, m, T: F.adaptive_avg_pool3d(T(2, 3, 4), 2), True),
    ("adaptive_avg_pool3d-size", lambda F, m, T: F.adaptive_avg_pool3d(T(1, 2, 3, 4, 5), (2, 2)), True),
    ("adaptive_avg_pool3d-empty", lambda F, m, T: F.adaptive_avg_pool3d(T(1, 2, 0, 4, 5), 2), True),
    ("adaptive_avg_pool3d-int", lambda F, m, T: F.adaptive_avg_pool3d(T(1, 2, 3, 4, 5, dtype=m.int64), 2), False),
    ("adaptive_avg_pool1d-dims", lambda F, m, T: F.adaptive_avg_pool1d(T(1, 2, 3, 4), 2), True),
    ("adaptive_avg_pool1d-size", lambda F, m, T: F.adaptive_avg_pool1d(T(2, 3, 4), (2, 2)), True),
    ("adaptive_avg_pool1d-negative", lambda F, m, T: F.adaptive_avg_pool1d(T(2, 3, 4), -1), True),
    ("adaptive_max_pool2d-dims", lambda F, m, T: F.adaptive_max_pool2d(T(4, 5), 2), True),
    ("adaptive_max_pool2d-empty", lambda F, m, T: F.adaptive_max_pool2d(T(1, 3, 0, 5), 2), True),
    ("adaptive_max_pool2d-int", lambda F, m, T: F.adaptive_max_pool2d(T(1, 3, 4, 5, dtype=m.int64), 2), True),
    ("adaptive_max_pool1d-dims", lambda F, m, T: F.adaptive_max_pool1d(T(1, 3, 4, 5), 2), True),
    ("adaptive_max_pool1d-size", lambda F, m, T: F.adaptive_max_pool1d(T(3, 4, 5), (2, 2)), True),
    ("adaptive_max_pool1d-empty", lambda F, m, T: F.adaptive_max_pool1d(T(3, 0), 2), True),
    ("max_unpool2d-index", lambda F, m, T: F.max_unpool2d(T(1, 2, 2, 2), _idx(m, 1, 2, 2, 2) + 100, 2), True),
    ("max_unpool2d-negative-index", lambda F, m, T: F.max_unpool2d(T(1, 2, 2, 2), _idx(m, 1, 2, 2, 2) - 1, 2), True),
    ("max_unpool2d-index-shape", lambda F, m, T: F.max_unpool2d(T(1, 2, 2, 2), _idx(m, 1, 1, 2, 2), 2), True),
    ("max_unpool2d-index-dtype", lambda F, m, T: F.max_unpool2d(T(1, 2, 2, 2), _idx(m, 1, 2, 2, 2).int(), 2), True),
    ("max_unpool2d-dims", lambda F, m, T: F.max_unpool2d(T(2, 2), _idx(m, 2, 2), 2), True),
    ("max_unpool2d-output-size", lambda F, m, T: F.max_unpool2d(T(1, 2, 2, 2), _idx(m, 1, 2, 2, 2), 2,
                                                                output_size=(9, 5)), True),
    ("max_unpool2d-output-size-length", lambda F, m, T: F.max_unpool2d(T(1, 2, 2, 2), _idx(m, 1, 2, 2, 2), 2,
                                                                       output_size=(4, 4, 4)), True),
    ("max_unpool2d-int", lambda F, m, T: F.max_unpool2d(_idx(m, 1, 2, 2, 2), _idx(m, 1, 2, 2, 2), 2), True),
    ("interpolate-align-nearest", lambda F, m, T: F.interpolate(T(1, 2, 4), scale_factor=2.0, align_corners=True),
     True),
    ("interpolate-both", lambda F, m, T: F.interpolate(T(1, 2, 4), size=3, scale_factor=2.0), True),
    ("interpolate-neither", lambda F, m, T: F.interpolate(T(1, 2, 4)), True),
    ("interpolate-size-length", lambda F, m, T: F.interpolate(T(1, 2, 4), size=(3, 3)), True),
    ("interpolate-scale-length", lambda F, m, T: F.interpolate(T(1, 2, 4, 4), scale_factor=(2.0, 2.0, 2.0)), True),
    ("interpolate-float-size", lambda F, m, T: F.interpolate(T(1, 2, 4, 4), size=(2.0, 3)), True),
    ("interpolate-recompute-size", lambda F, m, T: F.interpolate(T(1, 2, 4), size=3, recompute_scale_factor=True),
     True),
    ("interpolate-zero-size", lambda F, m, T: F.interpolate(T(1, 2, 3, 4), size=(0, 3)), True),
    ("interpolate-empty-input", lambda F, m, T: F.interpolate(T(1, 2, 0, 3), size=(2, 3)), True),
    ("interpolate-negative-scale", lambda F, m, T: F.interpolate(T(1, 2, 3, 4), scale_factor=-1.0), True),
    ("interpolate-2d", lambda F, m, T: F.interpolate(T(2, 3), scale_factor=2.0), True),
    ("interpolate-bicubic-3d", lambda F, m, T: F.interpolate(T(2, 3, 4), scale_factor=2.0, mode="bicubic"), True),
    ("interpolate-bilinear-3d", lambda F, m, T: F.interpolate(T(2, 3, 4), scale_factor=2.0, mode="bilinear"), True),
    ("interpolate-linear-5d", lambda F, m, T: F.interpolate(T(1, 2, 3, 4, 4), scale_factor=2.0, mode="linear"),
     True),
    ("interpolate-bad-mode", lambda F, m, T: F.interpolate(T(2, 3, 4), scale_factor=2.0, mode="foo"), True),
    ("interpolate-int", lambda F, m, T: F.interpolate(_idx(m, 1, 2, 3, 4), scale_factor=2.0), False),
    ("interpolate-antialias-3d", lambda F, m, T: F.interpolate(T(2, 3, 4), scale_factor=2.0, mode="linear",
                                                               antialias=True), True),
    ("grid_sample-mode", lambda F, m, T: F.grid_sample(T(1, 2, 3, 4), T(1, 2, 2, 2), mode="foo"), True),
    ("grid_sample-padding", lambda F, m, T: F.grid_sample(T(1, 2, 3, 4), T(1, 2, 2, 2), padding_mode="foo"), True),
    ("grid_sample-dtype", lambda F, m, T: F.grid_sample(T(1, 2, 3, 4), T(1, 2, 2, 2).float(), align_corners=False),
     True),
    ("grid_sample-dims", lambda F, m, T: F.grid_sample(T(1, 2, 3, 4), T(1, 2, 2, 2, 2), align_corners=False), True),
    ("grid_sample-batch", lambda F, m, T: F.grid_sample(T(2, 2, 3, 4), T(1, 2, 2, 2), align_corners=False), True),
    ("grid_sample-last-dim", lambda F, m, T: F.grid_sample(T(1, 2, 3, 4), T(1, 2, 2, 3), align_corners=False), True),
    ("grid_sample-empty", lambda F, m, T: F.grid_sample(T(1, 2, 0, 4), T(1, 2, 2, 2), align_corners=False), True),
    ("grid_sample-bicubic-3d", lambda F, m, T: F.grid_sample(T(1, 2, 3, 4, 4), T(1, 2, 2, 2, 3), mode="bicubic",
                                                             align_corners=False), True),
    ("affine_grid-int", lambda F, m, T: F.affine_grid(_idx(m, 1, 2, 3), (1, 1, 2, 2), False), True),
    ("affine_grid-theta-shape", lambda F, m, T: F.affine_grid(T(1, 3, 4), (1, 1, 2, 2), False), True),
    ("affine_grid-3d-theta-shape", lambda F, m, T: F.affine_grid(T(1, 2, 3), (1, 1, 2, 2, 2), False), True),
    ("affine_grid-size", lambda F, m, T: F.affine_grid(T(1, 2, 3), (1, 2, 2), False), True),
    ("affine_grid-zero-size", lambda F, m, T: F.affine_grid(T(1, 2, 3), (1, 1, 0, 2), False), True),
    ("pixel_shuffle-dims", lambda F, m, T: F.pixel_shuffle(T(4, 3), 2), True),
    ("pixel_shuffle-channels", lambda F, m, T: F.pixel_shuffle(T(5, 3, 3), 2), True),
    ("pixel_shuffle-factor", lambda F, m, T: F.pixel_shuffle(T(4, 3, 3), 0), True),
    ("pixel_unshuffle-height", lambda F, m, T: F.pixel_unshuffle(T(1, 5, 4), 2), True),
    ("pixel_unshuffle-width", lambda F, m, T: F.pixel_unshuffle(T(1, 4, 5), 2), True),
    ("pixel_unshuffle-float-factor", lambda F, m, T: F.pixel_unshuffle(T(1, 4, 4), 2.0), True),
    ("sdpa-dims", lambda F, m, T: F.scaled_dot_product_attention(T(5), T(5), T(5)), True),
    ("sdpa-dtype", lambda F, m, T: F.scaled_dot_product_attention(T(2, 4, 5), T(2, 4, 5).float(), T(2, 4, 5)), True),
    ("sdpa-int", lambda F, m, T: F.scaled_dot_product_attention(*(_idx(m, 2, 4, 5),) * 3), True),
    ("sdpa-mask-dtype", lambda F, m, T: F.scaled_dot_product_attention(T(2, 4, 5), T(2, 4, 5), T(2, 4, 5),
                                                                       attn_mask=_idx(m, 4, 4)), True),
    ("sdpa-mask-shape", lambda F, m, T: F.scaled_dot_product_attention(T(2, 4, 5), T(2, 4, 5), T(2, 4, 5),
                                                                       attn_mask=T(3, 4)), False),
    ("sdpa-dropout", lambda F, m, T: F.scaled_dot_product_attention(T(2, 4, 5), T(2, 4, 5), T(2, 4, 5),
                                                                    dropout_p=1.5), True),
    ("sdpa-gqa-heads", lambda F, m, T: F.scaled_dot_product_attention(T(2, 4, 3, 5), T(2, 3, 3, 5), T(2, 3, 3, 5),
                                                                      enable_gqa=True), False),
    ("sdpa-heads", lambda F, m, T: F.scaled_dot_product_attention(T(2, 4, 3, 5), T(2, 2, 3, 5), T(2, 2, 3, 5)),
     False),
    ("sdpa-embedding", lambda F, m, T: F.scaled_dot_product_attention(T(2, 4, 5), T(2, 4, 4), T(2, 4, 5)), False),
]


@pytest.mark.parametrize("fn, same_message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(fn, same_message):
    """torch's exception type, and where the message is torch's own check (not a kernel's), its message."""
    with pytest.raises(Exception) as theirs:
        fn(TF, torch, _T(torch))
    with pytest.raises(type(theirs.value)) as ours:
        fn(F, ag, _T(ag))
    assert str(ours.value)
    if same_message:
        assert str(ours.value) == str(theirs.value)

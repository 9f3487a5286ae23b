"""tests/cupy_sim/rawmodule.py: the real kernels/*.cu built for the CPU and launched with CUDA's argument rules.
Driven by a tiny array class of its own, so it does not depend on the stand-in's ndarray."""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from autograd_gpu import _kernels as K
from cupy_sim import rawmodule
from cupy_sim.rawmodule import RawKernel, RawModule


class _Device:
    def __init__(self, id):
        self.id = id


class FakeArray:
    def __init__(self, a, dev=0):
        self._a = a
        self.device = _Device(dev)

    dtype = property(lambda s: s._a.dtype)
    shape = property(lambda s: s._a.shape)
    flags = property(lambda s: s._a.flags)


CURRENT = [0]


def _module(family):
    return RawModule(K.source(family), options=K.COMPILE_OPTIONS, name_expressions=K.name_expressions(family),
                     _array_type=FakeArray, _current_device=lambda: CURRENT[0])


@pytest.fixture(autouse=True)
def _device0():
    CURRENT[0] = 0
    yield
    CURRENT[0] = 0


def _arr(x):
    return FakeArray(np.ascontiguousarray(x))


def _rand(n, dtype, seed=0, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, n).astype(dtype)


@pytest.mark.parametrize("family", K.KERNEL_FAMILIES)
def test_every_family_compiles_and_every_name_expression_loads(family):
    mod = _module(family)
    for expr in K.name_expressions(family):
        fn = mod.get_function(expr)
        name = expr.split("<")[0]
        spec = K.KERNELS[name]
        expected = len(spec.inputs) + len(spec.scalars) + len(spec.outputs) + len(spec.sizes) + (
            2 if spec.rowwise else 1)
        assert len(fn.params) == expected, expr
    assert _module(family)._lib is mod._lib  # compiled once per process


def test_parse_parameter_types():
    ks = rawmodule.parse_kernels(K.source("conv"))
    got = [(p.ctype, p.pointer, p.const, p.name) for p in ks["max_pool2d_bwd"].params[:4]]
    assert got == [("T", True, True, "g"), ("long long", True, True, "idx"), ("T", True, False, "gx"),
                   ("long long", False, False, "N")]
    ks = rawmodule.parse_kernels(K.source("elementwise"))
    assert [repr(p) for p in ks["clamp_bwd"].params] == ["const T* g", "const T* x", "T lo", "T hi", "T* gx",
                                                        "long long n"]
    assert repr(ks["where_bwd"].params[1]) == "const bool* cond"


@pytest.mark.parametrize("n,grid", [(1, 1), (1000, 3), (4097, 2), (300, 64)])
def test_tanh_bwd_float(n, grid):
    fn = _module("activation").get_function("tanh_bwd<float>")
    g, y = _rand(n, np.float32, 1), _rand(n, np.float32, 2, -1, 1)
    gx = FakeArray(np.full(n, np.nan, np.float32))
    before = rawmodule.launch_count.get("tanh_bwd<float>", 0)
    fn((grid,), (256,), (_arr(g), _arr(y), gx, np.int64(n)))
    assert rawmodule.launch_count["tanh_bwd<float>"] == before + 1
    np.testing.assert_array_equal(gx._a, g * (np.float32(1) - y * y))


def test_div_bwd_double_two_outputs():
    n = 777
    g, a, b = _rand(n, np.float64, 1), _rand(n, np.float64, 2), _rand(n, np.float64, 3, 0.5, 2)
    ga, gb = FakeArray(np.empty(n)), FakeArray(np.empty(n))
    _module("elementwise").get_function("div_bwd<double>")((2,), (256,), (_arr(g), _arr(a), _arr(b), ga, gb,
                                                                          np.int64(n)))
    np.testing.assert_array_equal(ga._a, g / b)
    np.testing.assert_array_equal(gb._a, -g * ((a / b) / b))


def test_where_bwd_bool_pointer_and_clamp_scalars():
    n = 100
    g = _rand(n, np.float32, 1)
    cond = np.random.default_rng(5).random(n) < 0.5
    ga, gb = FakeArray(np.empty(n, np.float32)), FakeArray(np.empty(n, np.float32))
    mod = _module("elementwise")
    mod.get_function("where_bwd<float>")((1,), (32,), (_arr(g), _arr(cond), ga, gb, np.int64(n)))
    np.testing.assert_array_equal(ga._a, np.where(cond, g, 0))
    np.testing.assert_array_equal(gb._a, np.where(cond, 0, g))
    x = _rand(n, np.float32, 2)
    gx = FakeArray(np.empty(n, np.float32))
    mod.get_function("clamp_bwd<float>")((1,), (64,), (_arr(g), _arr(x), np.float32(-0.5), np.float32(1), gx,
                                                        np.int64(n)))
    np.testing.assert_array_equal(gx._a, np.where((x >= -0.5) & (x <= 1), g, 0))


@pytest.mark.parametrize("weight_decay,maximize", [(0.0, 0.0), (0.01, 1.0)])
def test_sgd_step_float_in_place(weight_decay, maximize):
    n = 513
    p0, g = _rand(n, np.float32, 1), _rand(n, np.float32, 2)
    p = FakeArray(p0.copy())
    lr, wd, mx = np.float32(0.1), np.float32(weight_decay), np.float32(maximize)
    _module("optim").get_function("sgd_step<float>")((2,), (256,), (p, _arr(g), lr, wd, mx, np.int64(n)))
    expected = p0.copy()
    K.KERNELS["sgd_step"].reference(np, expected, g, lr, wd, mx)
    np.testing.assert_array_equal(p._a, expected)


def test_max_pool2d_bwd_long_long_pointer():
    geo = dict(N=1, C=2, H=4, W=4, KH=2, KW=2, OH=2, OW=2, SH=2, SW=2, PH=0, PW=0, DH=1, DW=1)
    rng = np.random.default_rng(0)
    g = rng.standard_normal((1, 2, 2, 2))
    idx = np.array([[[[0, 3], [9, 14]], [[5, 2], [12, 15]]]], dtype=np.int64)
    gx = FakeArray(np.full((1, 2, 4, 4), np.nan))
    n = 1 * 2 * 4 * 4
    _module("conv").get_function("max_pool2d_bwd<double>")(
        (1,), (8,), (_arr(g), _arr(idx), gx, *(np.int64(geo[k]) for k in K.KERNELS["max_pool2d_bwd"].sizes),
                     np.int64(n)))
    (expected,) = K.KERNELS["max_pool2d_bwd"].reference(np, g, idx, **geo)
    np.testing.assert_array_equal(gx._a, expected)


# ---------------------------------------------------------------------------- rejections

@pytest.fixture(scope="module")
def tanh():
    return _module("activation").get_function("tanh_bwd<float>")


def _tanh_args(n=8, dtype=np.float32):
    return [_arr(_rand(n, dtype, 1)), _arr(_rand(n, dtype, 2)), FakeArray(np.empty(n, dtype)), np.int64(n)]


def _sgd_args(n=8):
    return [_arr(_rand(n, np.float32, 1)), _arr(_rand(n, np.float32, 2)), np.float32(0.1), np.float32(0),
            np.float32(0), np.int64(n)]


@pytest.mark.parametrize("bad", [0.1, 1, np.float64(0.1), np.array(0.1, np.float32), np.float16(0.1),
                                 np.array([0.1], np.float32)])
def test_rejects_wrong_T_scalar(bad):
    fn = _module("optim").get_function("sgd_step<float>")
    args = _sgd_args()
    args[2] = bad
    with pytest.raises(TypeError, match=r"parameter lr \(float\) of kernel sgd_step<float>"):
        fn((1,), (32,), tuple(args))


@pytest.mark.parametrize("bad", [8, np.int32(8), np.uint64(8), 8.0, True, np.float64(8)])
def test_rejects_wrong_long_long_scalar(tanh, bad):
    args = _tanh_args()
    args[3] = bad
    with pytest.raises(TypeError, match=r"parameter n \(long long\) of kernel tanh_bwd<float>.*numpy.int64"):
        tanh((1,), (32,), tuple(args))


@pytest.mark.parametrize("pos", [0, 1, 2])
def test_rejects_wrong_dtype_buffer(tanh, pos):
    args = _tanh_args()
    args[pos] = FakeArray(np.zeros(8, np.float64))
    with pytest.raises(TypeError, match=r"tanh_bwd<float>.*needs dtype float32, got an array of dtype float64"):
        tanh((1,), (32,), tuple(args))


def test_rejects_wrong_dtype_bool_and_index_buffers():
    mod = _module("elementwise")
    n = 4
    args = [_arr(np.ones(n, np.float32)), _arr(np.ones(n, np.uint8)), FakeArray(np.empty(n, np.float32)),
            FakeArray(np.empty(n, np.float32)), np.int64(n)]
    with pytest.raises(TypeError, match=r"parameter cond \(const bool\*\).*needs dtype bool, got .*uint8"):
        mod.get_function("where_bwd<float>")((1,), (32,), tuple(args))
    conv = _module("conv").get_function("max_pool2d_bwd<float>")
    args = [_arr(np.ones(4, np.float32)), _arr(np.zeros(4, np.int32)), FakeArray(np.empty(16, np.float32)),
            *[np.int64(1)] * 14, np.int64(16)]
    with pytest.raises(TypeError, match=r"parameter idx \(const long long\*\).*needs dtype int64, got .*int32"):
        conv((1,), (32,), tuple(args))


@pytest.mark.parametrize("pos", [0, 1, 2])
def test_rejects_non_contiguous_buffer(tanh, pos):
    args = _tanh_args()
    args[pos] = FakeArray(np.zeros(16, np.float32)[::2])
    with pytest.raises(ValueError, match="non-C-contiguous"):
        tanh((1,), (32,), tuple(args))
    args[pos] = FakeArray(np.zeros((2, 4), np.float32).T)
    with pytest.raises(ValueError, match="non-C-contiguous"):
        tanh((1,), (32,), tuple(args))


@pytest.mark.parametrize("pos", [0, 2])
def test_rejects_array_of_another_device(tanh, pos):
    args = _tanh_args()
    args[pos] = FakeArray(args[pos]._a, dev=1)
    with pytest.raises(ValueError, match="Array device must be same as the current device: array device = 1 "
                                         "while current = 0"):
        tanh((1,), (32,), tuple(args))
    CURRENT[0] = 1  # all on device 0 while device 1 is current: refused too
    with pytest.raises(ValueError, match="array device = 0 while current = 1"):
        tanh((1,), (32,), tuple(_tanh_args()))


@pytest.mark.parametrize("bad", [np.zeros(8, np.float32), np.float32(0), None, 0])
def test_rejects_non_device_array_for_pointer(tanh, bad):
    args = _tanh_args()
    args[1] = bad
    with pytest.raises(TypeError, match=r"parameter y \(const float\*\) of kernel tanh_bwd<float> needs a device "
                                        "array"):
        tanh((1,), (32,), tuple(args))


def test_rejects_wrong_argument_count(tanh):
    args = _tanh_args()
    with pytest.raises(TypeError, match="takes 4 arguments"):
        tanh((1,), (32,), tuple(args[:3]))
    with pytest.raises(TypeError, match="takes 4 arguments"):
        tanh((1,), (32,), tuple(args + [np.int64(0)]))


def test_rejects_bad_launch_configuration(tanh):
    args = tuple(_tanh_args())
    with pytest.raises(TypeError, match="expected tuple"):
        tanh(1, (32,), args)
    with pytest.raises(rawmodule.CUDADriverError):
        tanh((0,), (32,), args)
    with pytest.raises(rawmodule.CUDADriverError):
        tanh((1,), (2048,), args)
    with pytest.raises(NotImplementedError):
        tanh((1, 2), (32,), args)


def test_failed_checks_do_not_launch(tanh):
    before = rawmodule.launch_count.get("tanh_bwd<float>", 0)
    args = _tanh_args()
    args[3] = 8
    with pytest.raises(TypeError):
        tanh((1,), (32,), tuple(args))
    assert rawmodule.launch_count.get("tanh_bwd<float>", 0) == before


def test_unknown_names():
    mod = _module("activation")
    with pytest.raises(rawmodule.CUDADriverError, match="named symbol not found"):
        mod.get_function("tanh_bwd")  # a template: only its name expressions are loaded
    with pytest.raises(rawmodule.CUDADriverError):
        mod.get_function("tanh_bwd<half>")
    with pytest.raises(rawmodule.CompileException):
        RawModule(K.source("activation"), name_expressions=["nope<float>"], _array_type=FakeArray,
                  _current_device=lambda: 0)


def test_compile_error_raises_with_log():
    with pytest.raises(rawmodule.CompileException, match="error"):
        RawModule('extern "C" __global__ void broken(float* x) { x[0] = undefined_name; }',
                  _array_type=FakeArray, _current_device=lambda: 0)


def test_extern_c_raw_kernel():
    src = r'''
    extern "C" __global__ void scale(const double* __restrict__ x, double a, double* out, long long n) {
        for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
            out[i] = a * x[i];
    }'''
    k = RawKernel(src, "scale", _array_type=FakeArray, _current_device=lambda: 0)
    x = _rand(1000, np.float64)
    out = FakeArray(np.empty(1000))
    k((3,), (128,), (_arr(x), np.float64(2.5), out, np.int64(1000)))
    np.testing.assert_array_equal(out._a, 2.5 * x)
    assert rawmodule.launch_count["scale"] >= 1
    with pytest.raises(TypeError, match=r"parameter a \(double\)"):
        k((3,), (128,), (_arr(x), 2.5, out, np.int64(1000)))


def test_concurrent_compile_and_launch():
    src = K.source("elementwise") + "\n// a fresh key for this test\n"
    exprs = K.name_expressions("elementwise")
    barrier = threading.Barrier(4)

    def work(seed):
        barrier.wait()
        mod = RawModule(src, name_expressions=exprs, _array_type=FakeArray, _current_device=lambda: 0)
        n = 5000
        g, x = _rand(n, np.float64, seed), _rand(n, np.float64, seed + 1, 0.5, 2)
        gx = FakeArray(np.empty(n))
        for _ in range(3):
            mod.get_function("log_bwd<double>")((3,), (256,), (_arr(g), _arr(x), gx, np.int64(n)))
            np.testing.assert_array_equal(gx._a, g / x)
        return mod._lib

    with ThreadPoolExecutor(4) as pool:
        libs = list(pool.map(work, range(4)))
    assert all(lib is libs[0] for lib in libs)

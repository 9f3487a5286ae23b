"""The CuPy stand-in's own behaviours, each as the real CuPy 14 behaves (where it differs from numpy). On a GPU
machine the stand-in is not installed, and these tests run against it directly."""
import numpy as np
import pytest

import cupy_sim
import autograd_gpu
from autograd_gpu import _kernels as K

cp = cupy_sim.cupy


def test_refuses_implicit_conversion_and_numpy_operands():
    a = cp.arange(4.0)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(4)
    with pytest.raises(TypeError, match="Unsupported type"):
        np.ones(4) + a
    assert type(np.exp(a)) is cp.ndarray  # numpy functions dispatch to the device's
    assert type(np.concatenate([a, a])) is cp.ndarray


def test_transfers_are_counted_and_refused_in_no_host_sync():
    a = cp.arange(3.0)
    before = cp.transfers["count"]
    assert a.get().tolist() == [0.0, 1.0, 2.0] and cp.asnumpy(a).sum() == 3
    assert a.sum().item() == 3.0 and float(a[1]) == 1.0 and bool(a[1]) and int(a[2]) == 2 and a.tolist()
    assert cp.transfers["count"] == before + 7
    with cp.no_host_sync():
        b = (a * 2).sum()  # device work is fine
        for sync in (b.item, b.get, lambda: float(b), lambda: bool(b), lambda: repr(b), a.tolist,
                     lambda: a[a > 0]):
            with pytest.raises(cupy_sim.HostSyncError):
                sync()
    assert b.item() == 6.0


def test_only_the_real_cupys_names():
    assert hasattr(cp, "exp") and hasattr(cp.ndarray, "get")
    with pytest.raises(AttributeError):
        cp.random.default_rng(0).permutation(3)  # cupy.random.Generator has no permutation
    with pytest.raises(AttributeError):
        cp.random.default_rng(0).choice(3)
    for missing in ("nan_to_num_", "float128", "asmatrix"):
        with pytest.raises(AttributeError):
            getattr(cp, missing)
    with pytest.raises(AttributeError):
        cp.arange(3).ptp_not_a_method
    with pytest.raises(AttributeError):
        cp.cuda.runtime.notARuntimeCall


def test_cupys_own_behaviours():
    a = cp.arange(5.0)
    assert a[cp.asarray([7, -6])].tolist() == [2.0, 4.0]  # out-of-range integer indices wrap
    with pytest.raises(IndexError):
        np.arange(5.0)[np.array([7])]  # (numpy raises)
    s = a.sum()
    assert type(s) is cp.ndarray and s.shape == ()  # reductions give 0-d arrays
    v = a[1:]
    w = v[1:]
    assert v.base is a and w.base is a and a.base is None  # a view's base is the array owning the memory
    assert cp.asarray(a) is a
    z = cp.zeros(3, dtype=np.int16)
    with pytest.raises(TypeError, match="scatter_add does not support dtype int16"):
        cupy_sim.cupyx.scatter_add(z, cp.asarray([0, 0]), cp.asarray([1, 1], dtype=np.int16))
    f = cp.zeros(3)
    cupy_sim.cupyx.scatter_add(f, cp.asarray([0, 0, 4]), cp.asarray([1.0, 2.0, 5.0]))
    assert f.tolist() == [3.0, 5.0, 0.0]  # accumulates, and wraps


def test_two_devices_and_device_switching():
    a = cp.ones(2)
    assert a.device.id == 0
    with cp.cuda.Device(1):
        b = cp.ones(2)
        assert b.device.id == 1 and cp.cuda.runtime.getDevice() == 1
        with pytest.raises(ValueError, match="Array device must be same as the current device"):
            a + 1
    with pytest.raises(ValueError, match="array device = 1 while current = 0"):
        b * 2
    assert cp.cuda.runtime.getDevice() == 0


def test_kernel_arguments_are_checked_against_their_c_types():
    mod = cp.RawModule(code=K.source("activation"), options=K.COMPILE_OPTIONS,
                       name_expressions=K.name_expressions("activation"))
    fn = mod.get_function("tanh_bwd<float>")
    g = cp.asarray(np.linspace(-1, 1, 300, dtype=np.float32))
    y = cp.asarray(np.linspace(-0.5, 0.5, 300, dtype=np.float32))
    out = cp.empty(300, dtype=np.float32)
    fn((2,), (64,), (g, y, out, np.int64(300)))  # 2 blocks of 64 threads: the grid-stride loop wraps
    np.testing.assert_array_equal(out.get(), (g.get() * (np.float32(1) - y.get() * y.get())))
    bad = [
        ((g, y, out, 300), TypeError, "needs numpy.int64"),  # a Python int for long long
        ((g, y.astype(np.float64), out, np.int64(300)), TypeError, "dtype float64"),
        ((g, cp.asarray(np.zeros((300, 2), np.float32))[:, 0], out, np.int64(300)), ValueError, "C-contiguous"),
        ((g, y.get(), out, np.int64(300)), TypeError, "needs a device array"),
        ((g, y, out), TypeError, "takes 4 arguments"),
    ]
    for args, exc, msg in bad:
        with pytest.raises(exc, match=msg):
            fn((1,), (32,), args)
    clamp = cp.RawModule(code=K.source("elementwise"), options=K.COMPILE_OPTIONS,
                         name_expressions=K.name_expressions("elementwise")).get_function("clamp_bwd<double>")
    x = cp.asarray(np.linspace(-2, 2, 9))
    with pytest.raises(TypeError, match="argument lo"):
        clamp((1,), (32,), (x, x, -1.0, np.float64(1), cp.empty(9), np.int64(9)))  # a Python float for T
    with cp.cuda.Device(1):
        with pytest.raises(ValueError, match="current device"):
            fn((1,), (32,), (g, y, out, np.int64(300)))


def test_library_sizes_grids_from_the_devices_sm_count():
    cp_used = autograd_gpu._device.cupy()  # the stand-in, or the real CuPy on a GPU machine
    runtime = cp_used.cuda.runtime
    sms = runtime.deviceGetAttribute(runtime.cudaDevAttrMultiProcessorCount, 0)
    assert K._max_blocks(0) == sms * 32
    assert cp_used is not cp or sms == cupy_sim.MULTIPROCESSORS  # few on the stand-in: grid-stride loops wrap


def test_float32_kernels_flush_subnormals_to_zero():
    """CuPy compiles with -ftz=true: float32 subnormals become zero in a kernel (float64 keeps them)."""
    mod = cp.RawModule(code=K.source("elementwise"), options=K.COMPILE_OPTIONS,
                       name_expressions=K.name_expressions("elementwise"))
    for ctype, dt, want in (("float", np.float32, 0.0), ("double", np.float64, 1e-310 * 0.5)):
        tiny = np.finfo(np.float32).tiny / 4 if dt is np.float32 else 1e-310
        g = cp.asarray(np.array([tiny, 1.0], dt))
        y = cp.asarray(np.array([0.5, 0.5], dt))
        out = cp.empty(2, dtype=dt)
        mod.get_function(f"exp_bwd<{ctype}>")((1,), (32,), (g, y, out, np.int64(2)))
        assert out.get()[0] == want and out.get()[1] == 0.5
    g = cp.asarray(np.array([np.finfo(np.float32).tiny / 4], np.float32))
    out = cp.empty(1, dtype=np.float32)
    mod.get_function("exp_bwd<float>")((1,), (32,), (g, g, out, np.int64(1)))
    assert g.get()[0] > 0  # the input itself is left as it was

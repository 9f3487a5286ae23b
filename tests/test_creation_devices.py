"""Devices, dtypes and creation, each scenario run under PyTorch too (scenario_oracle.py): moves with .to,
host interop (.numpy, .item, .tolist, __array__, DLPack), promotion, every creation function with its
dtype/device/requires_grad arguments, seeding, repr. The CUDA paths are checked for their CPU-side
behaviour (no GPU here): clear errors, and the same-device check through a stand-in GPU array."""
import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu.tensor import Tensor
from scenario_oracle import same, same_error


# ---- devices ----------------------------------------------------------------------------------------------
def test_device_objects():
    def scenario(L):
        x = L.ones(2)
        return [str(x.device), repr(x.device), x.device.type, x.device.index, x.is_cuda, str(L.device("cuda:1")),
                repr(L.device("cuda", 0)), L.device("cpu") == L.device("cpu"), L.device("cuda:0") == L.device("cuda"),
                str(L.device("cuda", 2)), x.device == L.device("cpu"), hash(L.device("cpu")) == hash(L.device("cpu"))]
    same(scenario)


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:-1"])
def test_bad_device_strings(spec):
    with pytest.raises(RuntimeError) as expected:
        torch.device(spec)
    with pytest.raises(RuntimeError):
        ag.device(spec)
    assert "device" in str(expected.value).lower()


def test_to_dtype_and_device_and_their_grads():
    def scenario(L):
        x = L.tensor([1.5, -2.5], requires_grad=True)
        y = x.to(L.float64)
        z = x.to("cpu", L.int32)
        w = x.to(dtype=L.float16)
        (y * y).sum().backward()
        return [y, y.grad_fn, z, z.requires_grad, w, x.grad, x.grad.dtype, x.to("cpu") is x, x.to(L.float32) is x,
                x.to(x) is x, x.cpu() is x, x.to(L.float32, copy=True) is x, x.to(device="cpu", dtype=L.float64),
                x.double().dtype, x.float() is x, x.half().dtype, x.int(), x.long(), x.bool(), x.bfloat16().dtype, x.detach().abs().byte(), x.char(), x.short(), x.type_as(z),
                x.to(L.device("cpu")) is x, x.type(), z.type(), x.type(L.float64).dtype]
    same(scenario)


def test_to_copy_does_not_share_memory():
    def scenario(L):
        x = L.tensor([1., 2.])
        y = x.to(L.float32, copy=True)
        y[0] = 9.
        z = x.double()
        z[1] = 9.
        return x, y, z
    same(scenario)


class _CupyWithoutGpu:
    """What `import cupy` gives on a machine without a GPU: it imports, and every CUDA call fails."""
    class cuda:
        class runtime:
            @staticmethod
            def getDeviceCount():
                raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")


def test_cuda_without_a_gpu_says_how_to_install(monkeypatch):
    from autograd_gpu import _device
    monkeypatch.setattr(_device, "_cupy", _CupyWithoutGpu)
    assert ag.cuda.is_available() is False
    assert ag.cuda.device_count() == 0
    assert ag.cuda.synchronize() is None
    for make in (lambda: ag.ones(2).cuda(), lambda: ag.ones(2).to("cuda"), lambda: ag.zeros(2, device="cuda"),
                 lambda: ag.tensor([1.], device="cuda:0"), lambda: ag.ones(2).to(ag.device("cuda", 0)),
                 lambda: ag.set_default_device("cuda")):
        with pytest.raises(RuntimeError, match="no CUDA GPU is available") as e:
            make()
        assert "pip install" in str(e.value) and "CuPy" in str(e.value)
    assert ag.get_default_device() == ag.device("cpu")


class _StandInGpuArray:
    """Enough of a cupy array for the same-device check, which must reject it before any arithmetic."""
    ndim, shape, dtype = 1, (2,), np.dtype(np.float32)

    class device:
        id = 0


def test_mixing_devices_raises_naming_both():
    gpu = Tensor._make(_StandInGpuArray())
    for f in (lambda: ag.ones(2) + gpu, lambda: gpu * ag.ones(2), lambda: ag.ones(2).add_(gpu)):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device") as e:
            f()
        assert "cuda:0" in str(e.value) and "cpu" in str(e.value)


def test_default_device():
    def scenario(L):
        L.set_default_device("cpu")
        d = L.get_default_device()
        t = L.ones(1)
        L.set_default_device(None)
        return d, t.device, L.get_default_device()
    same(scenario)


# ---- host interop ------------------------------------------------------------------------------------------
def test_numpy_shares_memory():
    def scenario(L):
        x = L.tensor([1., 2.])
        n = x.numpy()
        n[0] = 9.
        x[1] = 7.
        return x, n, x.detach().numpy().dtype.name, L.tensor([1, 2], dtype=L.int32).numpy().dtype.name
    same(scenario)


def test_numpy_of_tensor_requiring_grad_raises():
    same_error(lambda L: L.tensor([1.], requires_grad=True).numpy(), RuntimeError,
               "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead")


def test_item_and_tolist():
    def scenario(L):
        return [L.tensor(2.5).item(), L.tensor([[1, 2]]).tolist(), type(L.tensor([3]).item()).__name__,
                L.tensor([True]).item(), L.tensor([[1.5]], dtype=L.float64).tolist(), L.tensor(7).tolist(),
                type(L.tensor(1.5).item()).__name__, L.tensor([0.1]).item(), float(L.tensor([2.])),
                int(L.tensor(3.7)), bool(L.tensor([0.])), L.tensor([1.], requires_grad=True).item(),
                L.zeros(2, 0).tolist(), [5, 6][L.tensor(1)]]
    same(scenario)


def test_item_of_many_elements_raises():
    same_error(lambda L: L.ones(2).item(), RuntimeError, "a Tensor with 2 elements cannot be converted to Scalar")
    same_error(lambda L: bool(L.ones(2)), RuntimeError, "Boolean value of Tensor with more than one value is ambiguous")


# torch's own __array__ makes numpy warn
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_array_protocol():
    def scenario(L):
        x = L.tensor([1., 2.])
        a = np.asarray(x)
        a[0] = 5.
        return x, np.array(x, dtype=np.float64), np.add(np.ones(2), np.asarray(x)), np.asarray(L.tensor([1, 2]))
    same(scenario)


def test_from_numpy_and_as_tensor_share_memory():
    def scenario(L):
        n = np.arange(4.)
        x = L.from_numpy(n)
        n[0] = 10.
        x[1] = 7.
        i = L.from_numpy(np.arange(3, dtype=np.int32))
        m = np.arange(3.)
        a = L.as_tensor(m)
        b = L.as_tensor(m, dtype=L.float32)   # a cast: a copy
        m[2] = -1.
        t = L.tensor(m)                       # always a copy
        m[1] = -5.
        return x, n, i, a, b, t, L.as_tensor([1, 2]), L.asarray([1., 2.]), a.requires_grad
    same(scenario)


def test_from_numpy_rejects_other_types():
    same_error(lambda L: L.from_numpy([1, 2]), TypeError, "expected np.ndarray (got list)")


def test_dlpack_in_from_torch_and_numpy_without_copies():
    t = torch.tensor([1., 2., 3.])
    x = ag.from_dlpack(t)
    t[0] = 10.
    x[1] = 20.
    assert x.tolist() == [10., 20., 3.] and t.tolist() == [10., 20., 3.]
    assert x.dtype == ag.float32 and x.data_ptr() == t.data_ptr()

    n = np.arange(4.)
    y = ag.from_dlpack(n)
    n[0] = 10.
    assert y.tolist() == [10., 1., 2., 3.] and y.dtype == ag.float64

    i = ag.from_dlpack(torch.arange(3, dtype=torch.int64))
    assert i.dtype == ag.int64 and i.tolist() == [0, 1, 2]


def test_dlpack_out_to_torch_and_numpy_shares_memory():
    x = ag.tensor([1., 2., 3.])
    t = torch.from_dlpack(x)
    t[0] = 9.
    assert x.tolist() == [9., 2., 3.] and t.data_ptr() == x.data_ptr()
    n = np.from_dlpack(x)
    n[1] = 8.
    assert x.tolist() == [9., 8., 3.]
    assert x.__dlpack_device__()[0] == 1  # kDLCPU
    back = ag.from_dlpack(torch.from_dlpack(x))
    back[2] = -1.
    assert x.tolist() == [9., 8., -1.]


# ---- dtypes and promotion --------------------------------------------------------------------------------------
def test_promotion_rules():
    def scenario(L):
        i, f = L.tensor([1, 2]), L.tensor([1., 2.])
        d, b = L.tensor([1., 2.], dtype=L.float64), L.tensor([True, False])
        h, i32, u8 = L.tensor([1.], dtype=L.float16), L.tensor([1], dtype=L.int32), L.tensor([1], dtype=L.uint8)
        return [(i + f).dtype, (i + 1.5).dtype, (i * 2).dtype, (f + d).dtype, (b + b).dtype, (b + 1).dtype,
                (b + 1.).dtype, (i / i).dtype, (h + f).dtype, (h * 2.).dtype, (i32 + i).dtype, (u8 + i32).dtype,
                (f + L.tensor(2., dtype=L.float64)).dtype, (i + L.tensor(2.5, dtype=L.float64)).dtype,
                (i32 + L.tensor(5)).dtype, L.promote_types(L.int32, L.float16), (i // 2).dtype, (f > 1).dtype,
                (i ** 2).dtype, (i ** 2.).dtype, (d * L.tensor(2., dtype=L.float16)).dtype, (u8 + 3).dtype,
                (i32 * 2.5).dtype, (b * b).dtype, L.promote_types(L.uint8, L.int8), L.promote_types(L.bool, L.int16)]
    same(scenario)


def test_dtype_inference_and_default_dtype():
    def scenario(L):
        r = [L.tensor(3).dtype, L.tensor(3.).dtype, L.tensor(np.float32(3.)).dtype, L.tensor(True).dtype,
             L.tensor(np.array([1, 2], dtype=np.int16)).dtype, L.tensor([1, 2.]).dtype, L.tensor([]).dtype,
             L.tensor(np.array([1., 2.])).dtype, L.get_default_dtype()]
        L.set_default_dtype(L.float64)
        try:
            r += [L.tensor([1.]).dtype, L.ones(1).dtype, L.arange(0., 1.).dtype, (L.tensor([1]) * 1.5).dtype,
                  L.rand(1).dtype, L.tensor([1]).dtype, L.get_default_dtype()]
        finally:
            L.set_default_dtype(L.float32)
        return r
    same(scenario)


def test_dtype_objects():
    def scenario(L):
        return [repr(L.float32), str(L.int64), L.float32 is L.float, L.float64 is L.double, L.int64 is L.long,
                L.float32.is_floating_point, L.int32.is_floating_point, L.float16.itemsize, L.bool.is_signed,
                L.zeros(2, dtype=L.float16).element_size(), L.is_floating_point(L.ones(1)), L.half is L.float16]
    same(scenario)


# ---- creation ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda L: L.zeros(2, 3), lambda L: L.zeros((2, 3)), lambda L: L.zeros([2]), lambda L: L.zeros(()),
    lambda L: L.zeros(0, 3), lambda L: L.ones(2, dtype=L.int32), lambda L: L.ones((2,), dtype=L.bool),
    lambda L: L.full((2,), 3), lambda L: L.full((2,), 3.), lambda L: L.full((2,), True),
    lambda L: L.full([2, 1], 7, dtype=L.float64),
    lambda L: L.empty(2, 3).shape, lambda L: L.empty(2, dtype=L.int64).dtype,
    lambda L: L.eye(3), lambda L: L.eye(2, 3, dtype=L.int64), lambda L: L.eye(1),
    lambda L: L.tensor([[1, 2], [3, 4]], dtype=L.float64), lambda L: L.tensor([]), lambda L: L.tensor(5.),
    lambda L: L.tensor([[True], [False]]), lambda L: L.tensor((1, 2.5)), lambda L: L.tensor([L.tensor(1.), 2.]),
    lambda L: L.zeros_like(L.ones(2, dtype=L.int32)), lambda L: L.ones_like(L.ones(2), dtype=L.float64),
    lambda L: L.full_like(L.ones(2), 7), lambda L: L.full_like(L.ones(2, dtype=L.int64), 2.7),
    lambda L: L.empty_like(L.ones(2, 2, dtype=L.float16)).dtype, lambda L: L.ones(2).new_zeros(3),
    lambda L: L.ones(2, dtype=L.int32).new_ones((2, 1)), lambda L: L.ones(2).new_full((2,), 4.),
    lambda L: L.ones(2).new_tensor([1, 2]), lambda L: L.tensor([1., 2.]).new_empty(3).shape,
])
def test_creation_values_dtypes_shapes(make):
    same(make)


@pytest.mark.parametrize("args", [
    (5,), (1, 4), (1, 4, 0.5), (0, 1, 0.1), (0., 1., 0.3), (-1, 1, 0.25), (10, 0, -3), (0, 0.9, 0.3), (1., 2.3, 0.1),
    (0, 1, 1 / 3), (-2.5, 2.5, 0.7), (3, 3), (0.5, 10), (1e-3, 1e-2, 1e-3), (0, -1, -0.1), (2, 17, 5),
])
def test_arange_values_and_lengths_equal_torchs(args):
    # NOTE: lengths are exact; values to the last bit or two only, since PyTorch's CPU kernel adds the step
    # per SIMD lane (start + step * i for the lane's first i, then + step * j), so its rounding depends on
    # the machine's vector width
    same(lambda L: (L.arange(*args), L.arange(*args).shape), rtol=3e-7, atol=1e-7)
    same(lambda L: L.arange(*args, dtype=L.float64), rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("args", [
    (0, 1, 5), (-3, 7, 11), (0, 1, 1), (2, 2, 3), (0, 10, 7), (1.5, -2.25, 10), (0, 1, 0), (-1, 1, 100),
    (0.1, 0.9, 9), (3, 1e3, 17),
])
def test_linspace_values_equal_torchs(args):
    same(lambda L: L.linspace(*args), rtol=3e-7, atol=1e-7)  # see the NOTE above
    same(lambda L: L.linspace(*args, dtype=L.float64), rtol=1e-15, atol=1e-15)
    same(lambda L: L.linspace(*args, dtype=L.int64), rtol=0, atol=0)


def test_arange_and_linspace_errors():
    same_error(lambda L: L.arange(0, 1, 0), RuntimeError, "step must be nonzero")
    same_error(lambda L: L.arange(0, 10, -1), RuntimeError, "upper bound and lower bound inconsistent with step sign")
    same_error(lambda L: L.linspace(0, 1, -1), RuntimeError, "number of steps must be non-negative")


def test_creation_requires_grad_gives_leaves():
    def scenario(L):
        ts = [L.zeros(2, requires_grad=True), L.ones(2, requires_grad=True), L.full((2,), 1., requires_grad=True),
              L.empty(2, requires_grad=True), L.arange(0., 3., requires_grad=True),
              L.linspace(0, 1, 3, requires_grad=True), L.eye(2, requires_grad=True), L.rand(2, requires_grad=True),
              L.randn(2, requires_grad=True), L.zeros_like(L.ones(2), requires_grad=True),
              L.ones_like(L.ones(2), requires_grad=True), L.full_like(L.ones(2), 2., requires_grad=True),
              L.rand_like(L.ones(2), requires_grad=True), L.randn_like(L.ones(2), requires_grad=True),
              L.tensor([1.], requires_grad=True), L.ones(1).new_zeros(2, requires_grad=True),
              L.tensor([1.], dtype=L.float64, requires_grad=True)]
        return [(t.requires_grad, t.is_leaf, t.grad_fn) for t in ts]
    same(scenario)


@pytest.mark.parametrize("make", [
    lambda L: L.arange(3, requires_grad=True), lambda L: L.randint(0, 3, (2,), requires_grad=True),
    lambda L: L.full((2,), 1, requires_grad=True), lambda L: L.eye(2, dtype=L.int64, requires_grad=True),
])
def test_integer_creation_cannot_require_grad(make):
    same_error(make, RuntimeError, "Only Tensors of floating point and complex dtype can require gradients")


def test_creation_on_cpu_device_argument():
    def scenario(L):
        return [t.device for t in (L.zeros(2, device="cpu"), L.ones(2, device=L.device("cpu")),
                                   L.tensor([1.], device="cpu"), L.arange(3, device="cpu"), L.rand(2, device="cpu"),
                                   L.eye(2, device="cpu"), L.full((1,), 2., device="cpu"))]
    same(scenario)


def test_negative_size_raises():
    same_error(lambda L: L.empty(-1), RuntimeError, "Trying to create tensor with negative dimension -1")


# ---- random numbers -----------------------------------------------------------------------------------------
def test_random_shapes_dtypes_and_ranges():
    def scenario(L):
        ts = [L.rand(2, 3), L.randn((4,)), L.randint(0, 10, (3, 2)), L.randint(5, (2,)), L.rand(2, dtype=L.float64),
              L.randint(0, 3, (2,), dtype=L.int32), L.rand_like(L.ones(2, dtype=L.float64)), L.randn_like(L.ones(3)),
              L.randint_like(L.ones(3), 5), L.randperm(5), L.randint_like(L.ones(2, dtype=L.int32), 1, 4)]
        return [(t.shape, t.dtype) for t in ts]
    same(scenario)
    ag.manual_seed(0)
    u, k = ag.rand(10_000), ag.randint(3, 7, (10_000,))
    n, p = ag.randn(10_000), ag.randperm(50)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.02
    assert set(k.tolist()) == {3, 4, 5, 6}
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    assert sorted(p.tolist()) == list(range(50))


def test_random_float_creation_with_integer_dtype_raises():
    same_error(lambda L: L.rand(2, dtype=L.int64), NotImplementedError,
               "\"check_uniform_bounds\" not implemented for 'Long'")
    same_error(lambda L: L.randn(2, dtype=L.int32), NotImplementedError, "not implemented for 'Int'")


def test_randint_bounds_error():
    same_error(lambda L: L.randint(3, 3, (2,)), RuntimeError, "random_ expects 'from' to be less than 'to', but got "
                                                             "from=3 >= to=3")


def test_manual_seed_repeats_numbers():
    ag.manual_seed(3)
    a = [ag.rand(3).tolist(), ag.randn(2).tolist(), ag.randint(0, 100, (4,)).tolist(), ag.randperm(6).tolist()]
    ag.manual_seed(3)
    b = [ag.rand(3).tolist(), ag.randn(2).tolist(), ag.randint(0, 100, (4,)).tolist(), ag.randperm(6).tolist()]
    c = ag.rand(3).tolist()
    assert a == b and c != a[0]
    g = ag.Generator().manual_seed(5)
    x = ag.rand(3, generator=g).tolist()
    g.manual_seed(5)
    assert ag.rand(3, generator=g).tolist() == x
    assert ag.initial_seed() == 3


def test_inplace_random_fills():
    ag.manual_seed(1)
    x = ag.empty(1000).uniform_(2, 3)
    y = ag.empty(1000).normal_(5, 0.1)
    assert 2 <= x.min().item() and x.max().item() < 3
    assert abs(y.mean().item() - 5) < 0.02


# ---- repr ---------------------------------------------------------------------------------------------------
def test_repr_as_torch_prints_it():
    def scenario(L):
        x = L.tensor([1., 2.], requires_grad=True)
        n = L.zeros(1, 2)
        n[0, 0] = x[0] ** 2
        return [repr(x * 2), repr(x), repr(x.sum()), repr(L.tensor([1, 2])),
                repr(L.tensor([1.5, 2.25], dtype=L.float64)), repr(L.tensor([True])), repr(L.zeros(2, 0)),
                repr(L.tensor(2.)), repr(L.arange(12.).reshape(3, 4)), repr(x.detach()), str(x.mean()),
                repr(L.tensor([1e-8, 1e8])), repr(L.tensor([1, 2], dtype=L.int32)),
                repr(L.tensor([0.1, 2.0], dtype=L.float16)), repr(n), repr(x.double()), repr(L.ones(2).shape),
                repr(x[0]), repr(L.tensor([1., 2.], dtype=L.float64, requires_grad=True)), repr(L.float64),
                repr(L.zeros(2, dtype=L.int64))]
    same(scenario)

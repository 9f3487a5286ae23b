"""Shared fixtures. `device`: every test that takes it runs on 'cpu' and on 'cuda'. On a machine with an NVIDIA
GPU the cuda variant runs on it (test id `cuda`); elsewhere the session installs the strict CuPy stand-in of
tests/cupy_sim, so the whole CUDA path still executes (test id `cuda-sim`)."""
import pytest

import autograd_gpu

REAL_GPU = autograd_gpu.cuda.is_available()
if not REAL_GPU:
    import cupy_sim

    cupy_sim.install()
    autograd_gpu._kernels._module.cache_clear()

DEVICES = ["cpu", "cuda"]
DEVICE_IDS = ["cpu", "cuda" if REAL_GPU else "cuda-sim"]


@pytest.fixture(params=DEVICES, ids=DEVICE_IDS)
def device(request):
    return request.param

"""Shared fixtures. `device`: every test that takes it runs on 'cpu', and also on 'cuda' where a GPU is
present (on a CPU-only machine the cuda variant is simply not generated, so nothing shows as skipped)."""
import pytest

import autograd_gpu

DEVICES = ["cpu"] + (["cuda"] if autograd_gpu.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param

"""set_num_threads / get_num_threads drive numpy's BLAS threads, with PyTorch's error for bad input."""
import pytest
import torch

import autograd_gpu


def test_set_num_threads_changes_blas_threads():
    before = autograd_gpu.get_num_threads()
    try:
        autograd_gpu.set_num_threads(1)
        assert autograd_gpu.get_num_threads() == 1
    finally:
        autograd_gpu.set_num_threads(before)
    assert autograd_gpu.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_thread_count_raises_like_torch(bad):
    with pytest.raises(RuntimeError):
        torch.set_num_threads(bad)
    with pytest.raises(RuntimeError):
        autograd_gpu.set_num_threads(bad)

"""On the cuda device (a real GPU, or the CuPy stand-in on a CPU-only machine): a freed graph's device
memory really goes back to CuPy's pool, and backward keeps gradients on the device."""
import gc

import autograd_gpu

if autograd_gpu.cuda.is_available():
    cupy = autograd_gpu._device.cupy()  # the real CuPy, or the stand-in tests/cupy_sim on a CPU-only machine

    def _used():
        gc.collect()  # (garbage of earlier tests, freed in between, would blur the differences)
        autograd_gpu.cuda.synchronize()
        return cupy.get_default_memory_pool().used_bytes()

    def test_backward_frees_saved_tensors_and_deleting_the_graph_frees_the_rest():
        x = autograd_gpu.randn(1024, 1024, device="cuda", requires_grad=True)
        base = _used()
        y = x
        for _ in range(8):
            y = (y * 1.5).tanh()        # each tanh saves its 4 MiB output
        loss = y.sum()
        held = _used() - base
        assert held >= 8 * 4 * 2**20
        loss.backward()
        after_backward = _used() - base
        assert after_backward < held / 2, (held, after_backward)   # saved outputs released by backward
        del y, loss
        assert _used() - base <= x.grad.numel() * 4 + 2**20          # only x.grad is left
        assert x.grad.device.type == "cuda"

"""Run a program on the CuPy stand-in (tests/cupy_sim), as the test session runs the suite: CUDA tensors on
simulated GPUs, one per local rank (`CUPY_SIM_DEVICES`, else the launcher's LOCAL_WORLD_SIZE, else 2), NCCL
through the stand-in's cupyx.distributed. What the multi-process tests start on machines without a GPU:

    python -m autograd_gpu.distributed.run --nproc-per-node 2 tests/cuda_sim_script.py tools/ddp_check.py
    python tests/cuda_sim_script.py -m autograd_gpu.demo --device cuda
"""
import os
import runpy
import sys

os.environ.setdefault("CUPY_SIM_DEVICES", os.environ.get("LOCAL_WORLD_SIZE", "2"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cupy_sim  # noqa: E402

import autograd_gpu  # noqa: E402

cupy_sim.install()
autograd_gpu._kernels._module.cache_clear()

if __name__ == "__main__":
    module = sys.argv[1] == "-m"
    target = sys.argv[2] if module else sys.argv[1]
    sys.argv = sys.argv[2:] if module else sys.argv[1:]
    if module:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        runpy.run_path(target, run_name="__main__")

"""autograd_gpu.distributed started by the launcher, on CPU ranks (the MPI backend, mpi4py over the `mpich`
wheel's MPI) and on CUDA ranks (the NCCL backend; on machines without a GPU the CuPy stand-in's simulated GPUs
and NCCL, tests/cupy_sim/nccl.py): the collectives against numpy at 2 and 3 ranks, DistributedDataParallel
training equal to one process training on the concatenated batch (on NCCL without a host synchronisation), a
failing rank ending the job; DistributedSampler against PyTorch's. Several nodes: tests/test_distributed_nccl.py."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch as pt

import autograd_gpu as torch
from autograd_gpu import distributed as dist
from autograd_gpu import nn
from autograd_gpu.distributed import run
from autograd_gpu.utils.data.distributed import DistributedSampler

import distributed_cases as cases
from distributed_cases import TIMEOUT, launch, results

BACKENDS = ["mpi", "nccl"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_against_numpy(tmp_path, n, backend):
    proc = launch(n, "collectives", tmp_path, backend)
    assert proc.returncode == 0, proc.stderr
    bases = np.stack([cases.base(r) for r in range(n)])
    table = np.arange(n * 6, dtype=np.float64).reshape(n * 2, 3)
    for rank, (got, info) in enumerate(results(tmp_path, "collectives", n)):
        assert (info["rank"], info["world_size"], info["backend"]) == (rank, n, backend)
        np.testing.assert_array_equal(got["all_reduce_SUM"], bases.sum(0))
        np.testing.assert_allclose(got["all_reduce_AVG"], bases.sum(0) / n, rtol=1e-15)
        np.testing.assert_array_equal(got["all_reduce_MAX"], bases.max(0))
        np.testing.assert_array_equal(got["all_reduce_MIN"], bases.min(0))
        np.testing.assert_array_equal(got["all_reduce_PRODUCT"], bases.prod(0))
        np.testing.assert_array_equal(got["all_reduce_int"], bases.sum(0).astype(np.int64))
        assert got["all_reduce_int"].dtype == np.int64
        assert got["async_wait"].tolist() == [True, True]
        np.testing.assert_array_equal(got["async_all_reduce"], bases.sum(0))
        np.testing.assert_array_equal(got["broadcast"], bases[n - 1])
        np.testing.assert_array_equal(got["all_gather"], bases)
        np.testing.assert_array_equal(got["all_gather_into_tensor"], bases.reshape(n * 2, 3))
        reduced = sum(table + r for r in range(n))
        np.testing.assert_array_equal(got["reduce_scatter_tensor"], reduced[2 * rank:2 * rank + 2])
        np.testing.assert_array_equal(got["reduce"], bases.max(0) if rank == 1 else bases[rank])
        if rank == 0:
            np.testing.assert_array_equal(got["gather"], bases)
        else:
            assert "gather" not in got
        np.testing.assert_array_equal(got["scatter"], np.full((2, 3), 10.0 * rank))
        np.testing.assert_array_equal(got["ring"], bases[(rank - 1) % n])
        assert int(got["ring_sender"]) == (rank - 1) % n
        errors = {k: v for k, v in info.items() if k not in ("rank", "world_size", "backend")}
        assert {k: errors.pop(k) for k in list(errors)[:9]} == {
            "all_gather_list": "RuntimeError", "all_gather_shape": "RuntimeError", "into_size": "RuntimeError",
            "scatter_size": "RuntimeError", "not_a_tensor": "TypeError", "non_contiguous": "RuntimeError",
            "bad_src": "ValueError", "send_self": "ValueError", "init_twice": "ValueError"}
        if backend == "nccl":  # (PyTorch's NCCL backend's errors, and the types cupyx has no NCCL type for)
            assert errors.pop("cpu_tensor") == "RuntimeError: No backend type associated with device type cpu"
            assert errors.pop("other_gpu").startswith(f"RuntimeError: Tensor found on device cuda:{(rank + 1) % n}")
            assert errors.pop("recv_any") == "RuntimeError: ProcessGroupNCCL does not support recvAnysource"
            assert errors.pop("bool_avg") == "TypeError: Cannot use ReduceOp.AVG with boolean inputs"
            assert got["bool_SUM"].tolist() == [True, True, True, False]  # (any rank's)
            assert got["bool_MIN"].tolist() == [False, False, True, False]  # (every rank's)
            assert got["bf16_sum"].tolist() == [0.25 * n * (n - 1), n, -2.0 * n]
            assert got["int16_broadcast"].tolist() == [n - 1, 1 - n]
            assert got["bf16_all_gather"].tolist() == [[r, 0.25] for r in range(n)]
        assert errors == {}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [2, 3])
def test_ddp_training_equals_one_process_on_the_whole_batch(tmp_path, n, backend):
    proc = launch(n, "ddp", tmp_path, backend)
    assert proc.returncode == 0, proc.stderr
    cases.check_ddp(list(results(tmp_path, "ddp", n)), n)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failing_rank_ends_the_job_with_a_nonzero_exit(tmp_path, backend):
    t0 = time.monotonic()
    proc = launch(2, "fail", tmp_path, backend, timeout=90)
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr
    assert time.monotonic() - t0 < 60


def test_launcher_without_mpiexec_watches_its_processes(tmp_path):
    """The launcher's own start (several nodes, or no MPI): the first rank to fail stops the others."""
    script = tmp_path / "s.py"
    script.write_text("import os, sys, time\n"
                      "if os.environ['RANK'] == '1':\n    sys.exit(3)\n"
                      "time.sleep(100)\n")
    envs = run.rank_environments(2, 1, 0, "127.0.0.1", 29500)
    t0 = time.monotonic()
    assert run._spawned(envs, [str(script)]) == 3
    assert time.monotonic() - t0 < 30
    ok = tmp_path / "ok.py"
    ok.write_text("import os\nassert os.environ['WORLD_SIZE'] == '4' and os.environ['LOCAL_WORLD_SIZE'] == '2'\n")
    assert run._spawned(run.rank_environments(2, 2, 1, "10.0.0.1", 1234), [str(ok)]) == 0


def test_rank_environments_are_torchruns():
    envs = run.rank_environments(2, 3, 1, "10.0.0.1", 1234)
    assert envs[1] == {"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "6", "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "1",
                       "ROLE_RANK": "3", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "1234"}


def test_not_initialized_errors_are_pytorchs():
    assert not dist.is_initialized()
    for fn in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(torch.ones(2))):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            fn()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


@pytest.mark.parametrize("length,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 5, False), (12, 4, False),
                                                      (12, 4, True), (7, 2, True)])
def test_distributed_sampler_shards_as_pytorch(length, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as PtSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(length), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = PtSampler(range(length), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffles_with_seed_and_epoch():
    shards = [DistributedSampler(range(11), 3, r, seed=5) for r in range(3)]
    first = [list(s) for s in shards]
    flat = sum(first, [])
    assert len(flat) == 12 and set(flat) == set(range(11))  # padded to equal shards, every index present
    assert first == [list(s) for s in shards]  # the same permutation on every call
    for s in shards:
        s.set_epoch(1)
    second = [list(s) for s in shards]
    assert second != first and set(sum(second, [])) == set(range(11))
    assert [list(DistributedSampler(range(11), 3, r, seed=6)) for r in range(3)] != first
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(11), 3, 3)
    with pytest.raises(ValueError):
        pt.utils.data.distributed.DistributedSampler(range(11), 3, 3)


def test_gpu_checks_script_on_cpu_ranks():
    """tools/ddp_check.py, which make gpu-check runs on NCCL, here on 2 MPI ranks."""
    script = Path(__file__).resolve().parents[1] / "tools" / "ddp_check.py"
    proc = subprocess.run([sys.executable, "-m", "autograd_gpu.distributed.run", "--nproc-per-node", "2", str(script),
                           "--backend", "mpi", "--device", "cpu"], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("collectives and DDP training ok") == 2


def test_demo_ddp_on_two_cpu_ranks(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograd_gpu.distributed.run", "--nproc-per-node", "2", "-m",
                           "autograd_gpu.demo", "--ddp", "--device", "cpu", "--model", "mlp", "--epochs", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "2 ranks (mpi)" in lines[0] and any(line.startswith("step time:") for line in lines)
    assert lines[-1].startswith("test accuracy: ") and float(lines[-1].split(": ")[1]) >= 0.7
    assert torch.load(tmp_path / "checkpoint.safetensors")["model_kind"] == "mlp"

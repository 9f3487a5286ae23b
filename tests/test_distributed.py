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
    cases.check_collectives(tmp_path, n, backend)


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
    # (the launcher's summary: mpiexec may drop a rank's last output when it aborts, the summary is always there)
    summary = proc.stderr[proc.stderr.index("autograd_gpu.distributed.run: rank 1 failed:"):]
    assert "RuntimeError: rank 1 fails on purpose" in summary
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


def on_two_ranks(backend, *target):
    """The launcher's run of `target` on 2 ranks: CPU ones for "mpi", simulated GPUs for "nccl"."""
    sim = [str(cases.SIM)] if backend == "nccl" else []
    return subprocess.run([sys.executable, "-m", "autograd_gpu.distributed.run", "--nproc-per-node", "2",
                           "--master-port", str(cases.free_port()), *sim, *target], capture_output=True, text=True,
                          timeout=TIMEOUT)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gpu_checks_script(backend):
    """tools/ddp_check.py, which make gpu-check runs on NCCL, here on 2 MPI ranks and on 2 simulated GPUs."""
    script = Path(__file__).resolve().parents[1] / "tools" / "ddp_check.py"
    device = "cpu" if backend == "mpi" else "cuda"
    proc = on_two_ranks(backend, str(script), "--backend", backend, "--device", device)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(f"({backend}, {device}") == 2
    assert proc.stdout.count("collectives and DDP training ok") == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_demo_ddp_on_two_ranks(tmp_path, backend):
    """The demo's --ddp: MPI ranks on CPUs, NCCL ranks on the GPUs (as make gpu-check runs it)."""
    device = "cpu" if backend == "mpi" else "cuda"
    proc = on_two_ranks(backend, "-m", "autograd_gpu.demo", "--ddp", "--device", device, "--model", "mlp",
                        "--epochs", "1", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert f"2 ranks ({backend}) on {device}" in lines[0] and any(line.startswith("step time:") for line in lines)
    assert lines[-1].startswith("test accuracy: ") and float(lines[-1].split(": ")[1]) >= 0.7
    assert torch.load(tmp_path / "checkpoint.safetensors")["model_kind"] == "mlp"

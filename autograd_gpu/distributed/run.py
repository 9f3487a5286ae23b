"""A launcher like torchrun: starts `--nproc-per-node` processes of a training script on this node, each with
RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT set (LOCAL_RANK
selects the GPU), and ends the whole job with a non-zero exit as soon as any rank fails.

    python -m autograd_gpu.distributed.run --nproc-per-node 2 train.py --epochs 3
    python -m autograd_gpu.distributed.run --nproc-per-node 2 -m autograd_gpu.demo --ddp
    # two machines, NCCL: on each, with K = 0 and 1 and A the address of node 0
    python -m autograd_gpu.distributed.run --nproc-per-node 8 --nnodes 2 --node-rank K --master-addr A train.py

How the processes start: on one node, when mpi4py and MPICH's mpiexec (the `mpich` wheel's, in this
environment) are installed, under `mpiexec`, so that both backends work in them: "mpi" (MPI's world) and "nccl"
(its TCP store at MASTER_ADDR:MASTER_PORT). Otherwise (no MPI here, or several nodes: separate mpiexec runs
cannot form one MPI world) the launcher starts them itself and they can use "nccl"; across machines on CPUs,
use MPI's own launcher: `mpiexec -hosts a,b -n 4 python -m mpi4py train.py`.
"""
import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time


def _parser():
    p = argparse.ArgumentParser(prog="python -m autograd_gpu.distributed.run", allow_abbrev=False,
                                description="Start the processes of a data-parallel job (as torchrun).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                   help="processes on this node: a number, 'gpu' (one per GPU), 'cpu' (one per core) or 'auto'")
    p.add_argument("--nnodes", type=int, default=1)
    p.add_argument("--node-rank", "--node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("-m", "--module", action="store_true", help="run the script as a module, as python -m does")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def _nproc(value):
    if value in ("gpu", "auto", "cpu"):
        from .. import cuda  # layering: the api layer's device count
        gpus = cuda.device_count() if value != "cpu" else 0
        if value == "gpu" and gpus == 0:
            raise SystemExit("--nproc-per-node gpu: no GPU here")
        return gpus or os.cpu_count()
    return int(value)


def rank_environments(nproc, nnodes, node_rank, master_addr, master_port):
    """The variables each local rank gets (torchrun's names), in local-rank order."""
    world = nproc * nnodes
    out = []
    for local in range(nproc):
        rank = node_rank * nproc + local
        out.append({"RANK": str(rank), "LOCAL_RANK": str(local), "WORLD_SIZE": str(world),
                    "LOCAL_WORLD_SIZE": str(nproc), "GROUP_RANK": str(node_rank), "ROLE_RANK": str(rank),
                    "MASTER_ADDR": master_addr, "MASTER_PORT": str(master_port)})
    return out


def _mpiexec():
    """MPICH's (Hydra) mpiexec of this environment, when mpi4py is installed; else None."""
    if importlib.util.find_spec("mpi4py") is None:
        return None
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    exe = here if os.access(here, os.X_OK) else shutil.which("mpiexec")
    if exe is None:
        return None
    try:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return exe if "HYDRA" in version.upper() else None


def _under_mpiexec(exe, envs, target):
    cmd = [exe]
    for i, env in enumerate(envs):
        if i:
            cmd.append(":")
        cmd += ["-n", "1"]
        for k, v in env.items():
            cmd += ["-env", k, v]
        cmd += [sys.executable, "-m", "autograd_gpu.distributed._worker"] + target
    proc = subprocess.Popen(cmd, start_new_session=True)
    with _forwarding_signals([proc]):
        return proc.wait()


def _spawned(envs, target):
    """Start one process per rank and watch them: the first to fail ends the others."""
    procs = []
    for env in envs:
        procs.append(subprocess.Popen([sys.executable] + target, env={**os.environ, **env}, start_new_session=True))
    with _forwarding_signals(procs):
        while True:
            codes = [p.poll() for p in procs]
            failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                rank, code = failed[0]
                print(f"autograd_gpu.distributed.run: local rank {rank} failed with exit code {code}; "
                      "stopping the others", file=sys.stderr, flush=True)
                _stop(procs)
                return code if code > 0 else 1
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.05)


def _stop(procs, grace=5.0):
    for p in procs:
        if p.poll() is None:
            _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(p, signal.SIGKILL)
            p.wait()


def _signal_group(p, sig):
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


class _forwarding_signals:
    """SIGINT / SIGTERM to the launcher stop its processes (each in its own session) first."""

    def __init__(self, procs):
        self.procs = procs

    def __enter__(self):
        def handler(signum, frame):
            _stop(self.procs)
            raise SystemExit(128 + signum)
        self.saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def __exit__(self, *exc):
        for s, h in self.saved.items():
            signal.signal(s, h)


def main(argv=None):
    args = _parser().parse_args(argv)
    nproc = _nproc(args.nproc_per_node)
    if not (0 <= args.node_rank < args.nnodes):
        raise SystemExit(f"--node-rank {args.node_rank} is outside 0..{args.nnodes - 1}")
    envs = rank_environments(nproc, args.nnodes, args.node_rank, args.master_addr, args.master_port)
    if nproc > 1 and "OMP_NUM_THREADS" not in os.environ:
        for env in envs:  # (torchrun's default: ranks sharing a node do not each start a thread per core)
            env["OMP_NUM_THREADS"] = "1"
    target = (["-m"] if args.module else []) + [args.training_script] + args.training_script_args
    exe = _mpiexec() if args.nnodes == 1 else None
    return _under_mpiexec(exe, envs, target) if exe else _spawned(envs, target)


if __name__ == "__main__":
    sys.exit(main())

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
import socket
import subprocess
import sys
import tempfile
import time

from ._worker import ERROR_DIR


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
    # NOTE: mpiexec may end before it has passed on the failing rank's last output (MPI_Abort races its stdio
    # forwarding), so a failing rank also writes its error to a file (_worker.py), and the launcher prints those
    # at the end, as torchrun's error summary
    with tempfile.TemporaryDirectory(prefix="autograd_gpu_run_") as errors:
        cmd = [exe]
        for i, env in enumerate(envs):
            if i:
                cmd.append(":")
            cmd += ["-n", "1"]
            for k, v in dict(env, **{ERROR_DIR: errors}).items():
                cmd += ["-env", k, v]
            cmd += [sys.executable, "-m", "autograd_gpu.distributed._worker"] + target
        proc = subprocess.Popen(cmd, start_new_session=True)
        with _forwarding_signals([proc]):
            code = proc.wait()
        for name in sorted(os.listdir(errors)):
            with open(os.path.join(errors, name)) as f:
                print(f"autograd_gpu.distributed.run: rank {name.removesuffix('.txt')} failed:\n{f.read().rstrip()}",
                      file=sys.stderr)
    return code


def _spawned(envs, target, link=None):
    """Start one process per rank and watch them: the first to fail ends the others (and, through `link`, the
    other nodes' ranks; a failure on another node ends this node's)."""
    procs = []
    for env in envs:
        procs.append(subprocess.Popen([sys.executable] + target, env={**os.environ, **env}, start_new_session=True))
    with _forwarding_signals(procs):
        while True:
            codes = [p.poll() for p in procs]
            failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                rank, code = failed[0]
                code = code if code > 0 else 1
                print(f"autograd_gpu.distributed.run: local rank {rank} failed with exit code {code}; "
                      "stopping the others", file=sys.stderr, flush=True)
                if link is not None:
                    link.report(code)
                _stop(procs)
                return code
            if link is not None and link.poll():
                node, code = link.failure
                print(f"autograd_gpu.distributed.run: node {node} failed ({code}); stopping this node's ranks",
                      file=sys.stderr, flush=True)
                _stop(procs)
                return 1
            if all(c == 0 for c in codes):
                return link.finish() if link is not None else 0
            time.sleep(0.05)


class _NodeLink:
    """The launchers of a multi-node job, linked through node 0's at MASTER_ADDR:MASTER_PORT+1 (MASTER_PORT is
    the ranks', for NCCL's store): a node whose ranks fail tells node 0, which tells the others, which stop
    theirs (ranks blocked in a collective with a dead peer never return by themselves); a launcher that goes
    away before reporting counts as failed. Node 0 ends once every node has reported."""

    def __init__(self, nnodes, node_rank, addr, port):
        self.nnodes, self.node_rank, self.addr = nnodes, node_rank, (addr, port)
        self.failure = None  # (node, exit code)
        self.peers = {}  # node 0: socket -> {"node", "buf", "done"}
        self.done = set()  # node 0: the nodes that have reported
        self.sock, self.buf, self.reported = None, b"", False
        if node_rank == 0:
            try:
                self.server = socket.create_server(self.addr)
            except OSError as e:
                raise SystemExit(f"autograd_gpu.distributed.run: cannot listen on {addr}:{port} for the other "
                                 f"nodes' launchers (--master-port + 1): {e}") from None
            self.server.setblocking(False)

    # ---- node 0
    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except (BlockingIOError, OSError):
                return
            conn.setblocking(False)
            self.peers[conn] = {"node": "?", "buf": b"", "done": False}

    def _tell_all(self, node, code):
        for conn in list(self.peers):
            try:
                conn.sendall(f"fail {node} {code}\n".encode())
            except OSError:
                pass

    def _read_peers(self):
        for conn, peer in list(self.peers.items()):
            for line, eof in _lines(conn, peer):
                if eof:
                    del self.peers[conn]
                    conn.close()
                    if not peer["done"]:
                        self._failed(peer["node"], 1)
                    break
                word, *rest = line.split()
                if word == "hello":
                    peer["node"] = int(rest[0])
                elif word == "ok":
                    peer["done"] = True
                    self.done.add(peer["node"])
                elif word == "fail":
                    peer["done"] = True
                    self.done.add(peer["node"])
                    self._failed(peer["node"], int(rest[0]))

    def _failed(self, node, code):
        if self.failure is None:
            self.failure = (node, code)
            self._tell_all(node, code)

    # ---- the other nodes
    def join(self, timeout=60.0):
        """Before this node starts its ranks: reach node 0's launcher (so that it knows this node, whatever happens
        to it next); node 0 has nothing to wait for."""
        deadline = time.monotonic() + timeout
        while self.node_rank != 0 and not self._connect():
            if time.monotonic() > deadline:
                raise SystemExit(f"autograd_gpu.distributed.run: node 0's launcher at {self.addr[0]}:{self.addr[1]} "
                                 f"(--master-addr, --master-port + 1) did not answer in {timeout:.0f} s: start it, "
                                 "or check the address and that the port is open")
            time.sleep(0.2)

    def _connect(self):
        try:
            self.sock = socket.create_connection(self.addr, timeout=0.2)
        except OSError:
            return False
        self.sock.sendall(f"hello {self.node_rank}\n".encode())
        self.sock.setblocking(False)
        return True

    def _read_node0(self):
        state = {"buf": self.buf}
        for line, eof in _lines(self.sock, state):
            if eof:
                self.sock.close()
                self.sock = None
                if not self.reported and self.failure is None:
                    self.failure = (0, "its launcher went away")
                break
            word, node, code = line.split()
            if word == "fail" and self.failure is None:
                self.failure = (int(node), int(code))
        self.buf = state["buf"]

    # ---- both
    def poll(self):
        """Whether another node has failed."""
        if self.node_rank == 0:
            self._accept()
            self._read_peers()
        elif self.sock is not None or (not self.reported and self._connect()):
            self._read_node0()
        return self.failure is not None

    def report(self, code):
        """This node's ranks are done: 0, or the exit code of the first that failed."""
        if self.node_rank == 0:
            if code:
                self._failed(0, code)
            return
        deadline = time.monotonic() + 30
        while self.sock is None and not self._connect() and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.sock is not None:
            try:
                self.sock.setblocking(True)
                self.sock.sendall(b"ok\n" if code == 0 else f"fail {code}\n".encode())
                self.sock.close()
            except OSError:
                pass
        self.sock, self.reported = None, True

    def finish(self):
        """This node's ranks succeeded: report it; node 0 waits for every node's report. The job's exit code."""
        self.report(0)
        if self.node_rank != 0:
            return 0
        while self.failure is None and len(self.done) < self.nnodes - 1:
            self.poll()
            time.sleep(0.05)
        self.server.close()
        if self.failure is not None:
            print(f"autograd_gpu.distributed.run: node {self.failure[0]} failed ({self.failure[1]})",
                  file=sys.stderr, flush=True)
            return 1
        return 0


def _lines(conn, state):
    """(line, False) for each complete line readable now, then (None, True) if the stream has ended."""
    eof = False
    while True:
        try:
            chunk = conn.recv(4096)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            chunk = b""
        if not chunk:
            eof = True
            break
        state["buf"] += chunk
    while b"\n" in state["buf"]:
        line, state["buf"] = state["buf"].split(b"\n", 1)
        yield line.decode(), False
    if eof:
        yield None, True


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


class _Signalled(SystemExit):
    pass


class _forwarding_signals:
    """SIGINT / SIGTERM to the launcher stop its processes (each in its own session) first.
    NOTE: the handler only raises: stopping (which waits for the processes) inside it, while the interrupted
    code is in Popen.wait(), would block for ever on the lock that wait() holds."""

    def __init__(self, procs):
        self.procs = procs

    def __enter__(self):
        def handler(signum, frame):
            raise _Signalled(128 + signum)
        self.saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def __exit__(self, exc_type, exc, tb):
        for s, h in self.saved.items():
            signal.signal(s, h)
        if exc_type is not None and issubclass(exc_type, _Signalled):
            _stop(self.procs)


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
    if exe:
        return _under_mpiexec(exe, envs, target)
    link = _NodeLink(args.nnodes, args.node_rank, args.master_addr, args.master_port + 1) if args.nnodes > 1 else None
    if link is not None:
        link.join()
    return _spawned(envs, target, link)


if __name__ == "__main__":
    sys.exit(main())

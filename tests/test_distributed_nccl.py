"""The NCCL path without a GPU: the CuPy stand-in's cupyx.distributed.NCCLBackend (tests/cupy_sim/nccl.py)
refusing what CuPy 14 and NCCL refuse, its streams and events ordering checks; and jobs of several nodes on this
machine, each node a launcher (`--nnodes 2 --node-rank K`), the ranks on simulated GPUs: DDP training equal to one
process, the collectives at world size 4, a failure on one node ending both launchers. (One node, both backends:
tests/test_distributed.py; a real GPU's NCCL: `make gpu-check`.)"""
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import cupy_sim
from cupy_sim import nccl as sim_nccl
from cupy_sim.streams import StreamOrderError

import distributed_cases as cases
from distributed_cases import TIMEOUT, free_port, results

cp = cupy_sim.cupy
NcclError, NCCLMisuse = sim_nccl.NcclError, sim_nccl.NCCLMisuse


# ---- the stand-in, in this process: worlds of threads --------------------------------------------------------
@pytest.fixture
def world(monkeypatch):
    """world(n): n NCCLBackends, one per thread (each its own host, so they may share device 0), built together."""
    monkeypatch.setattr(sim_nccl, "_host_id", lambda: threading.current_thread().name)
    made = []

    def make(n):
        port, comms = free_port(), [None] * n
        threads = [threading.Thread(target=lambda r=r: comms.__setitem__(r, cp_dist().NCCLBackend(
            n, r, host="127.0.0.1", port=port)), name=f"host{r}") for r in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        made.extend(comms)
        return comms
    yield make
    for c in reversed(made):  # (rank 0 serves until the others have left)
        c._link.close(timeout=5)


def cp_dist():
    return cupy_sim.cupyx.distributed


def on_ranks(fns, wait=5.0):
    """Run fns[r] in a thread per rank; their results (or exceptions), and whether each is still running after
    `wait` seconds."""
    out = [None] * len(fns)

    def call(r):
        try:
            out[r] = fns[r]()
        except Exception as e:  # noqa: BLE001 (the tests look at them)
            out[r] = e
    threads = [threading.Thread(target=call, args=(r,), daemon=True) for r in range(len(fns))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + wait
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return out, [t.is_alive() for t in threads]


def test_nccl_backend_checks_as_cupyx_and_nccl(world):
    (comm,) = world(1)
    a = cp.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="NCCL requires arrays to be either c- or f-contiguous"):
        comm.all_reduce(a[:, :2], cp.empty((2, 2)))
    with pytest.raises(TypeError, match="Unknown dtype bool for NCCL"):
        comm.broadcast(cp.zeros(3, dtype=bool))
    with pytest.raises(TypeError, match="Unknown dtype int16 for NCCL"):
        comm.all_reduce(cp.zeros(3, dtype=np.int16), cp.zeros(3, dtype=np.int16))
    with pytest.raises(RuntimeError, match="Unknown op avg for NCCL"):
        comm.all_reduce(a, a, "avg")
    with pytest.raises(ValueError, match="Only nccl.SUM is supported for complex arrays"):
        comm.all_reduce(cp.zeros(2, dtype=np.complex64), cp.zeros(2, dtype=np.complex64), "max")
    with pytest.raises(AttributeError, match="has no attribute 'ptr'"):
        comm.all_reduce(a, a, "sum", 0)  # (a stream, not its handle)
    with pytest.raises(AttributeError, match="has no attribute 'ptr'"):
        comm.all_reduce(np.zeros(3), np.zeros(3))
    with pytest.raises(RuntimeError, match=r"gather requires out_array to have 1elements in its first dimension"):
        comm.gather(a, cp.empty((2, 2, 3)))
    with pytest.raises(RuntimeError, match=r"scatter requires in_array to have 1elements in its first dimension"):
        comm.scatter(cp.empty((2, 3)), cp.empty(3))
    with pytest.raises(NcclError, match="NCCL_ERROR_INVALID_ARGUMENT: invalid argument"):
        comm.broadcast(a, root=1)
    with cp.cuda.Device(1):
        other = cp.zeros(3)
    with pytest.raises(NcclError, match="NCCL_ERROR_INVALID_ARGUMENT"):
        comm.all_reduce(other, other)
    with pytest.raises(NCCLMisuse, match="NCCL would access 6 elements of out_array, which holds 5"):
        comm.all_reduce(a, cp.empty(5))
    with pytest.raises(NCCLMisuse, match="out_array has dtype float32 but NCCL writes it as float64"):
        comm.all_reduce(a, cp.empty(6, dtype=np.float32))
    with pytest.raises(NCCLMisuse, match="NCCL would access 3 elements of out_array, which holds 2"):
        comm.all_gather(cp.arange(3.0), cp.empty(2), 3)
    with pytest.raises(ValueError, match="Invalid number of rank 1 1"):
        cp_dist().init_process_group(1, 1)
    # what it moves: in memory order (an f-contiguous array too), complex as pairs
    f = cp.asarray(np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    out = cp.asarray(np.asfortranarray(np.zeros((2, 3))))
    comm.all_reduce(f, out)
    z = cp.asarray(np.array([1 + 2j, 3 - 1j]))
    comm.all_reduce(z, z)
    cp.cuda.Device().synchronize()
    assert out.get().tolist() == f.get().tolist() and z.get().tolist() == [1 + 2j, 3 - 1j]


def test_point_to_point_blocks_the_stream_unless_grouped(world):
    comms = world(2)
    xs = [cp.full(3, 10.0 * r) for r in range(2)]
    ys = [cp.zeros(3) for _ in range(2)]
    # a ring of ungrouped sends: every rank waits in its send for a receive that nobody posts (as on a GPU)
    _, running = on_ranks([lambda r=r: comms[r].send(xs[r], 1 - r) for r in range(2)], wait=0.5)
    assert running == [True, True]
    for r, c in enumerate(comms):  # (let them go: as if each peer had received)
        with c._link.cv:
            c._link.box[(1 - r, ("a", 0))].append(None)
            c._link.cv.notify_all()
        c._received[1 - r] += 1

    def ring(r):
        nccl = cupy_sim.cupy.cuda.nccl
        nccl.groupStart()
        comms[r].send(xs[r], 1 - r)
        comms[r].recv(ys[r], 1 - r)
        nccl.groupEnd()
    out, running = on_ranks([lambda r=r: ring(r) for r in range(2)])
    assert running == [False, False] and out == [None, None]
    cp.cuda.Device().synchronize()
    assert [y.get().tolist() for y in ys] == [[10.0] * 3, [0.0] * 3]
    out, _ = on_ranks([lambda: comms[0].send(cp.zeros(3), 1), lambda: comms[1].recv(cp.zeros(4), 0)])
    assert isinstance(out[1], NCCLMisuse) and "receives 4 x float64 from rank 0, which sends 3" in str(out[1])


def test_collectives_that_differ_across_ranks_are_refused(world):
    comms = world(2)
    out, running = on_ranks([lambda: comms[0].all_reduce(cp.ones(3), cp.ones(3)),
                             lambda: comms[1].broadcast(cp.ones(3), 0)])
    assert running == [False, False]
    assert all(isinstance(e, NCCLMisuse) and "collective #0 differs across ranks" in str(e) for e in out)


def test_two_ranks_on_one_gpu_of_one_host_are_refused(world, monkeypatch):
    monkeypatch.setattr(sim_nccl, "_host_id", lambda: "one-host")
    port = free_port()
    out, running = on_ranks([lambda r=r: cp_dist().NCCLBackend(2, r, port=port) for r in range(2)])
    assert running == [False, False]
    for e in out:
        assert isinstance(e, NcclError) and "NCCL_ERROR_INVALID_USAGE" in str(e)
        assert "Duplicate GPU detected" in e.__notes__[0]


def test_rendezvous_gives_up_as_cupys_store(monkeypatch):
    monkeypatch.setattr(sim_nccl._Link, "RETRIES", 2)
    with pytest.raises(RuntimeError, match="TCPStore is not available"):
        cp_dist().NCCLBackend(2, 1, port=free_port())


def test_streams_order_a_collective_and_its_readers(world):
    (comm,) = world(1)
    stream = cp.cuda.Stream(non_blocking=True)
    a, out = cp.arange(4.0), cp.zeros(4)
    with pytest.raises(StreamOrderError, match="is not ordered after"):  # `a` was written on the null stream
        comm.all_reduce(a, out, "sum", stream)
    stream.wait_event(cp.cuda.get_current_stream().record())
    comm.all_reduce(a, out, "sum", stream)
    event = stream.record()
    with pytest.raises(StreamOrderError, match="read on the null stream"):
        out + 1
    with pytest.raises(StreamOrderError, match="reads is written on the null stream"):
        a[0] = 5.0  # (the collective may still be reading it)
    assert not event.done  # (the simulated GPU is always behind: done once the host has waited)
    cp.cuda.get_current_stream().wait_event(event)
    assert (out + 1).get().tolist() == [1.0, 2.0, 3.0, 4.0] and event.done
    view = out[1:]  # views of a buffer in flight are fine; reading them is not
    stream.wait_event(cp.cuda.get_current_stream().record())
    comm.all_reduce(a, out, "sum", stream)
    with pytest.raises(StreamOrderError):
        view.sum()
    with pytest.raises(cupy_sim.HostSyncError), cp.no_host_sync():
        stream.synchronize()
    stream.synchronize()
    assert view.sum().get() == 6.0
    # a blocking stream (non_blocking=False) and the legacy null stream order each other
    blocking = cp.cuda.Stream()
    b = cp.ones(2)
    comm.all_reduce(b, b, "sum", blocking)
    assert (b * 2).get().tolist() == [2.0, 2.0]
    with cp.cuda.Device(1), pytest.raises(RuntimeError, match=r"stream is created on \(0\) does not match with "
                                                              r"the current device \(1\)"):
        with stream:
            pass


# ---- several nodes on this machine ----------------------------------------------------------------------------
def start_nodes(nnodes, target_of):
    """One launcher per node (`target_of(k)`: what follows its options), each node its own NCCL host."""
    port = free_port(2)  # (the ranks' MASTER_PORT, and the launchers' link on the next one)
    return [subprocess.Popen([sys.executable, "-m", "autograd_gpu.distributed.run", "--nnodes", str(nnodes),
                              "--node-rank", str(k), "--master-addr", "127.0.0.1", "--master-port", str(port),
                              *target_of(k)], env={**os.environ, "NCCL_HOSTID": f"node{k}"},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(nnodes)]


def finish(procs, timeout=TIMEOUT):
    """[(exit code, stdout, stderr)] of each launcher; all are killed if one is still running at the timeout."""
    deadline, outs = time.monotonic() + timeout, []
    try:
        for p in procs:
            out, err = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
            outs.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    return outs


def nodes(nnodes, nproc, scenario, outdir, timeout=TIMEOUT):
    """The worker's `scenario` on `nnodes` nodes of `nproc` ranks, on the nccl backend."""
    tail = cases.command(nproc, scenario, outdir, "nccl")[3:]  # (--nproc-per-node N, the stand-in, the worker)
    return finish(start_nodes(nnodes, lambda k: tail), timeout)


def test_two_nodes_train_ddp_equal_to_one_process(tmp_path):
    outs = nodes(2, 1, "ddp", tmp_path)
    assert [o[0] for o in outs] == [0, 0], outs
    cases.check_ddp(list(results(tmp_path, "ddp", 2)), 2)


def test_two_nodes_of_two_ranks_run_the_collectives(tmp_path):
    outs = nodes(2, 2, "collectives", tmp_path)
    assert [o[0] for o in outs] == [0, 0], outs
    cases.check_collectives(tmp_path, 4, "nccl")


def test_a_failure_on_one_node_ends_both_launchers(tmp_path):
    t0 = time.monotonic()
    outs = nodes(2, 1, "fail", tmp_path, timeout=60)  # (rank 1, on node 1, fails; rank 0 waits in a barrier)
    assert time.monotonic() - t0 < 45
    (code0, _, err0), (code1, _, err1) = outs
    assert code1 != 0 and "rank 1 fails on purpose" in err1
    assert code0 != 0 and "node 1 failed (1); stopping this node's ranks" in err0


def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("import os, sys, time\n" + body)
    return str(path)


def test_node_0_ends_once_every_node_has_reported(tmp_path):
    quick = script(tmp_path, "quick.py", "pass\n")
    late = script(tmp_path, "late.py", "time.sleep(1.0)\nsys.exit(int(sys.argv[1]))\n")
    for code, want in ((0, 0), (3, 1)):
        t0 = time.monotonic()
        outs = finish(start_nodes(2, lambda k: [quick] if k == 0 else [late, str(code)]), timeout=60)
        assert [o[0] for o in outs] == [want, code], outs
        assert time.monotonic() - t0 >= 1.0  # (node 0 waited for node 1)
        if code:
            assert "node 1 failed (3)" in outs[0][2]


def test_a_node_whose_launcher_is_stopped_ends_the_others(tmp_path):
    sleeper = script(tmp_path, "sleep.py", "open(sys.argv[1], 'w').close()\ntime.sleep(100)\n")
    procs = start_nodes(2, lambda k: [sleeper, str(tmp_path / f"up{k}")])
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"up{k}").exists() for k in range(2)) and time.monotonic() < deadline:
        time.sleep(0.05)
    t0 = time.monotonic()
    procs[1].send_signal(signal.SIGTERM)
    (code0, _, err0), (code1, _, _) = finish(procs, timeout=30)
    assert code1 == 128 + signal.SIGTERM and code0 != 0 and "node 1 failed" in err0
    assert time.monotonic() - t0 < 15


def test_a_stopped_launcher_under_mpiexec_stops_its_ranks(tmp_path):
    """SIGTERM while the launcher waits for mpiexec: it ends, and so do the ranks (it used to hang in wait())."""
    sleeper = script(tmp_path, "sleep.py", "open(os.path.join(sys.argv[1], os.environ['RANK']), 'w').write("
                                           "str(os.getpid()))\ntime.sleep(100)\n")
    proc = subprocess.Popen([sys.executable, "-m", "autograd_gpu.distributed.run", "--nproc-per-node", "2",
                             "--master-port", str(free_port()), sleeper, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not all((tmp_path / r).exists() and (tmp_path / r).read_text() for r in "01"):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    ((code, _, _),) = finish([proc], timeout=20)
    assert code == 128 + signal.SIGTERM
    for r in "01":
        pid = int((tmp_path / r).read_text())
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"rank {r} (pid {pid}) outlived its launcher")

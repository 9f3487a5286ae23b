"""What the multi-process tests run, shared by the ranks (tests/distributed_worker.py, started by the launcher)
and by the tests (tests/test_distributed.py, tests/test_distributed_nccl.py): the inputs, the single-process
references and how a job is started and its results read."""
import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

import autograd_gpu as torch
from autograd_gpu import nn

B, STEPS, LR = 6, 4, 0.1  # per-rank batch, optimizer steps


def base(rank):
    """Rank `rank`'s input to the collectives (float64, so sums compare exactly with numpy)."""
    return np.arange(6, dtype=np.float64).reshape(2, 3) * (rank + 1) + rank


def data(world, steps=STEPS, micro=1):
    """The global batches, the same on every rank: per step `micro` micro-batches of world * B rows."""
    rng = np.random.default_rng(123)
    x = rng.standard_normal((steps, micro, world * B, 5)).astype(np.float32)
    y = rng.standard_normal((steps, micro, world * B, 3)).astype(np.float32)
    return x, y


class Branchy(nn.Module):
    """A body, a head used only for rank-0-style inputs (flag), and a layer no forward ever uses."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(5, 8)
        self.head = nn.Linear(8, 3)
        self.extra = nn.Linear(8, 3)
        self.never = nn.Linear(2, 2)

    def forward(self, x, use_extra):
        h = torch.tanh(self.body(x))
        out = self.head(h)
        return out + self.extra(h) if use_extra else out


def make_model(kind, seed):
    torch.manual_seed(seed)
    if kind == "branchy":
        return Branchy()
    if kind == "bn":
        return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))


# name -> (model kind, DDP keyword arguments, micro-batches per step)
DDP_CASES = {
    "default": ("mlp", {}, 1),
    "bucket_views": ("mlp", {"bucket_cap_mb": 1e-4, "gradient_as_bucket_view": True}, 1),
    "no_sync": ("mlp", {"bucket_cap_mb": 1e-4}, 2),
    "unused": ("branchy", {"find_unused_parameters": True, "bucket_cap_mb": 1e-4}, 1),
    "syncbn": ("bn", {}, 1),
}


def params(model):
    return {k: v.detach().cpu().numpy().copy() for k, v in model.named_parameters()}


# ---- the tests' side -------------------------------------------------------------------------------------------
TESTS = Path(__file__).parent
WORKER = TESTS / "distributed_worker.py"
SIM = TESTS / "cuda_sim_script.py"  # (the "nccl" ranks run on the CuPy stand-in's GPUs and NCCL)
TIMEOUT = 120


def free_port(n=1):
    """A port p of 127.0.0.1 with p .. p + n - 1 free now."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            for k in range(1, n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port + k))
            return port
        except OSError:
            continue


def command(nproc, scenario, outdir, backend="mpi", *options):
    """The launcher's command line for `scenario` on `nproc` ranks of this node."""
    target = [str(WORKER), scenario, str(outdir), backend]
    if backend == "nccl":
        target.insert(0, str(SIM))
    return [sys.executable, "-m", "autograd_gpu.distributed.run", "--nproc-per-node", str(nproc), *options] + target


def launch(nproc, scenario, outdir, backend="mpi", timeout=TIMEOUT):
    cmd = command(nproc, scenario, outdir, backend, "--master-port", str(free_port()))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def results(outdir, scenario, n):
    for r in range(n):
        yield np.load(outdir / f"{scenario}-{r}.npz"), json.loads((outdir / f"{scenario}-{r}.json").read_text())


def reference(name, n):
    """One process training on the concatenated batches: what DDP at n ranks must reproduce."""
    kind, _, micro = DDP_CASES[name]
    model = make_model(kind, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    xs, ys = data(n, micro=micro)
    for step in range(STEPS):
        opt.zero_grad()
        for m in range(micro):
            x, y = torch.from_numpy(xs[step, m]), torch.from_numpy(ys[step, m])
            if kind == "branchy":  # rank 0's part goes through `extra` too; the loss is the ranks' mean
                rows = [slice(r * B, (r + 1) * B) for r in range(n)]
                loss = sum(nn.functional.mse_loss(model(x[s], r == 0), y[s]) for r, s in enumerate(rows)) / n
            else:
                loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
        opt.step()
    return model


def check_collectives(outdir, n, backend):
    """The `collectives` scenario's results of n ranks against numpy."""
    bases = np.stack([base(r) for r in range(n)])
    table = np.arange(n * 6, dtype=np.float64).reshape(n * 2, 3)
    for rank, (got, info) in enumerate(results(outdir, "collectives", n)):
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
            other = re.match(r"RuntimeError: Tensor found on device cuda:(\d) but this rank's NCCL communicator is on "
                             r"cuda:(\d)", errors.pop("other_gpu"))
            assert other and other[1] != other[2]
            assert errors.pop("recv_any") == "RuntimeError: ProcessGroupNCCL does not support recvAnysource"
            assert errors.pop("bool_avg") == "TypeError: Cannot use ReduceOp.AVG with boolean inputs"
            assert got["bool_SUM"].tolist() == [True, True, True, False]  # (any rank's)
            assert got["bool_MIN"].tolist() == [False, False, True, False]  # (every rank's)
            assert got["bf16_sum"].tolist() == [0.25 * n * (n - 1), n, -2.0 * n]
            assert got["int16_broadcast"].tolist() == [n - 1, 1 - n]
            assert got["bf16_all_gather"].tolist() == [[r, 0.25] for r in range(n)]
        assert errors == {}


def check_ddp(ranks, n):
    """The `ddp` scenario's results of n ranks against one process on the whole batch."""
    for name, (kind, _, _) in DDP_CASES.items():
        ref = reference(name, n)
        want = params(ref)
        want.update({f"buffer/{k}": v.numpy() for k, v in ref.named_buffers()})
        start = params(make_model(kind, seed=0))
        for got, info in ranks:
            assert info[f"{name}_keys"] == ["module." + k for k in ref.state_dict()]
            for k, v in want.items():
                np.testing.assert_allclose(got[f"{name}/{k}"], v, rtol=1e-4, atol=2e-6, err_msg=f"{name}/{k}")
            moved = [k for k, v in start.items() if not np.allclose(want[k], v)]
            assert len(moved) >= len(start) - 2  # (`never`; a bias before a BatchNorm gets no gradient)
            for k in moved:  # (so the test sees training, from rank 0's initial values on every rank)
                assert not np.allclose(got[f"{name}/{k}"], start[k]), f"{name}/{k} did not train"
        if kind == "branchy":
            assert all(info["never_grad_is_none"] for _, info in ranks)
            np.testing.assert_array_equal(ranks[0][0]["unused/never.weight"], want["never.weight"])
    # buffers: each rank's own update, then rank 0's everywhere after the next forward
    assert not np.allclose(ranks[0][0]["buffers/after_local_update"], ranks[1][0]["buffers/after_local_update"])
    for got, _ in ranks:
        np.testing.assert_array_equal(got["buffers/after_broadcast"], ranks[0][0]["buffers/after_local_update"])

"""One rank of the multi-process tests: `python -m autograd_gpu.distributed.run --nproc-per-node N
tests/distributed_worker.py SCENARIO OUTDIR [BACKEND]`; each rank writes OUTDIR/<scenario>-<rank>.npz (and .json).
BACKEND "mpi" (the default) runs on CPU tensors, "nccl" on cuda:LOCAL_RANK (started through
tests/cuda_sim_script.py where there is no GPU), with the DDP steps inside the stand-in's no_host_sync()."""
import contextlib
import json
import os
import sys

import numpy as np

import autograd_gpu as torch
import autograd_gpu.distributed as dist
from autograd_gpu import nn

import distributed_cases as cases


def _error(fn, message=False):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (the test compares the types)
        return f"{type(e).__name__}: {e}" if message else type(e).__name__
    return None


def collectives(rank, n, device):
    def T(a):
        return torch.from_numpy(a).to(device)

    def zeros(*shape, **kw):
        return torch.zeros(*shape, device=device, **kw)
    out = {}
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        t = T(cases.base(rank))
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        out[f"all_reduce_{op}"] = t.cpu().numpy()
    t = T(cases.base(rank).astype(np.int64))
    dist.all_reduce(t)
    out["all_reduce_int"] = t.cpu().numpy()
    t = T(cases.base(rank))
    work = dist.all_reduce(t, async_op=True)
    out["async_wait"] = np.array([work.wait(), work.is_completed()])
    out["async_all_reduce"] = t.cpu().numpy()
    t = T(cases.base(rank))
    dist.broadcast(t, src=n - 1)
    out["broadcast"] = t.cpu().numpy()
    lst = [zeros(2, 3, dtype=torch.float64) for _ in range(n)]
    dist.all_gather(lst, T(cases.base(rank)))
    out["all_gather"] = np.stack([x.cpu().numpy() for x in lst])
    t = zeros(n * 2, 3, dtype=torch.float64)
    dist.all_gather_into_tensor(t, T(cases.base(rank)))
    out["all_gather_into_tensor"] = t.cpu().numpy()
    t = zeros(2, 3, dtype=torch.float64)
    dist.reduce_scatter_tensor(t, T(np.arange(n * 6, dtype=np.float64).reshape(n * 2, 3) + rank))
    out["reduce_scatter_tensor"] = t.cpu().numpy()
    t = T(cases.base(rank))
    dist.reduce(t, dst=1, op=dist.ReduceOp.MAX)
    out["reduce"] = t.cpu().numpy()
    lst = [zeros(2, 3, dtype=torch.float64) for _ in range(n)] if rank == 0 else None
    dist.gather(T(cases.base(rank)), lst, dst=0)
    if rank == 0:
        out["gather"] = np.stack([x.cpu().numpy() for x in lst])
    t = zeros(2, 3, dtype=torch.float64)
    src = [torch.full((2, 3), 10.0 * i, dtype=torch.float64, device=device) for i in range(n)] if rank == 0 else None
    dist.scatter(t, src, src=0)
    out["scatter"] = t.cpu().numpy()
    t = zeros(2, 3, dtype=torch.float64)
    sent = T(cases.base(rank))
    work = dist.isend(sent, dst=(rank + 1) % n)
    sender = dist.recv(t, src=None if device.type == "cpu" else (rank - 1) % n)  # (NCCL: no receive from any)
    work.wait()
    out["ring"] = t.cpu().numpy()
    out["ring_sender"] = np.array(sender)
    dist.barrier()
    errors = {
        "all_gather_list": _error(lambda: dist.all_gather([zeros(2, 3)], zeros(2, 3))),
        "all_gather_shape": _error(lambda: dist.all_gather([zeros(3)] * n, zeros(2))),
        "into_size": _error(lambda: dist.all_gather_into_tensor(zeros(n * 2 + 1), zeros(2))),
        "scatter_size": _error(lambda: dist.reduce_scatter_tensor(zeros(2), zeros(2 * n + 1))),
        "not_a_tensor": _error(lambda: dist.all_reduce([1.0])),
        "non_contiguous": _error(lambda: dist.all_reduce(zeros(3, 4).t())),
        "bad_src": _error(lambda: dist.broadcast(zeros(2), src=n)),
        "send_self": _error(lambda: dist.send(zeros(2), dst=rank)),
        "init_twice": _error(lambda: dist.init_process_group("mpi")),
    }
    if device.type == "cuda":
        other = torch.device("cuda", (device.index + 1) % torch.cuda.device_count())
        errors.update({"cpu_tensor": _error(lambda: dist.all_reduce(torch.zeros(2)), True),
                       "other_gpu": _error(lambda: dist.all_reduce(torch.zeros(2, device=other)), True),
                       "recv_any": _error(lambda: dist.recv(zeros(2)), True),
                       "bool_avg": _error(lambda: dist.all_reduce(zeros(2).bool(), op=dist.ReduceOp.AVG), True)})
        out.update(dtypes(rank, n, device))
    return out, errors


def dtypes(rank, n, device):
    """The types cupyx has no NCCL type for (bool, bfloat16, int16), on the nccl backend."""
    out = {}
    flags = torch.tensor([rank == 0, rank == 1, True, False], device=device)
    for op in ("SUM", "MIN"):
        t = flags.clone()
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        out[f"bool_{op}"] = t.cpu().numpy()
    t = torch.tensor([0.5 * rank, 1.0, -2.0], dtype=torch.bfloat16, device=device)
    dist.all_reduce(t)
    out["bf16_sum"] = t.float().cpu().numpy()
    t = torch.tensor([rank, -rank], dtype=torch.int16, device=device)
    dist.broadcast(t, src=n - 1)
    out["int16_broadcast"] = t.cpu().numpy()
    lst = [torch.zeros(2, dtype=torch.bfloat16, device=device) for _ in range(n)]
    dist.all_gather(lst, torch.tensor([rank, 0.25], dtype=torch.bfloat16, device=device))
    out["bf16_all_gather"] = np.stack([x.float().cpu().numpy() for x in lst])
    return out


def ddp(rank, n, device):
    out, info = {}, {}
    for name, (kind, kwargs, micro) in cases.DDP_CASES.items():
        model = cases.make_model(kind, seed=rank).to(device)  # a different init on every rank: DDP broadcasts rank 0's
        if kind == "bn":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ddp_model = nn.parallel.DistributedDataParallel(model, **kwargs)
        info[f"{name}_keys"] = list(ddp_model.state_dict())
        opt = torch.optim.SGD(ddp_model.parameters(), lr=cases.LR, momentum=0.9)
        xs, ys = cases.data(n, micro=micro)
        rows = slice(rank * cases.B, (rank + 1) * cases.B)
        for step in range(cases.STEPS):
            batch = [(torch.from_numpy(xs[step, m, rows]).to(device), torch.from_numpy(ys[step, m, rows]).to(device))
                     for m in range(micro)]
            # (find_unused_parameters reads on the host which parameters some rank used, as PyTorch's does)
            with no_host_sync(device) if kind != "branchy" else contextlib.nullcontext():
                opt.zero_grad()
                for m, (x, y) in enumerate(batch):
                    args = (x, rank == 0) if kind == "branchy" else (x,)
                    if m < micro - 1:
                        with ddp_model.no_sync():
                            nn.functional.mse_loss(ddp_model(*args), y).backward()
                    else:
                        nn.functional.mse_loss(ddp_model(*args), y).backward()
                opt.step()
        for k, v in cases.params(model).items():
            out[f"{name}/{k}"] = v
        for k, v in model.named_buffers():
            out[f"{name}/buffer/{k}"] = v.cpu().numpy().copy()
        if kind == "branchy":
            info["never_grad_is_none"] = model.never.weight.grad is None
    # buffers: a BatchNorm (not synced) whose running statistics each rank updates with its own batch; the next
    # forward broadcasts rank 0's
    model = cases.make_model("bn", seed=rank).to(device)
    ddp_model = nn.parallel.DistributedDataParallel(model)
    xs, _ = cases.data(n)
    rows = slice(rank * cases.B, (rank + 1) * cases.B)
    ddp_model(torch.from_numpy(xs[0, 0, rows]).to(device))
    out["buffers/after_local_update"] = model[1].running_mean.cpu().numpy().copy()
    model.eval()
    with torch.no_grad():
        ddp_model(torch.from_numpy(xs[1, 0, rows]).to(device))
    out["buffers/after_broadcast"] = model[1].running_mean.cpu().numpy().copy()
    return out, info


def no_host_sync(device):
    """The stand-in's guard against device-to-host transfers (none on the CPU, nor on a real GPU)."""
    cupy = sys.modules.get("cupy")
    return cupy.no_host_sync() if device.type == "cuda" and hasattr(cupy, "no_host_sync") else contextlib.nullcontext()


def fail(rank, n, device):
    if rank == 1:
        raise RuntimeError("rank 1 fails on purpose")
    dist.barrier()  # rank 0 would wait here for ever
    return {}, {}


def main():
    scenario, outdir = sys.argv[1], sys.argv[2]
    backend = sys.argv[3] if len(sys.argv) > 3 else "mpi"
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device.index)
    dist.init_process_group(backend)
    rank, n = dist.get_rank(), dist.get_world_size()
    arrays, info = {"collectives": collectives, "ddp": ddp, "fail": fail}[scenario](rank, n, device)
    info["rank"], info["world_size"], info["backend"] = rank, n, dist.get_backend()
    np.savez(f"{outdir}/{scenario}-{rank}.npz", **arrays)
    with open(f"{outdir}/{scenario}-{rank}.json", "w") as f:
        json.dump(info, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""One rank of the multi-process tests: `python -m autograd_gpu.distributed.run --nproc-per-node N
tests/distributed_worker.py SCENARIO OUTDIR`; each rank writes OUTDIR/<scenario>-<rank>.npz (and .json)."""
import json
import sys

import numpy as np

import autograd_gpu as torch
import autograd_gpu.distributed as dist
from autograd_gpu import nn

import distributed_cases as cases


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 (the test compares the types)
        return type(e).__name__
    return None


def collectives(rank, n):
    T = torch.from_numpy
    out = {}
    for op in ("SUM", "AVG", "MAX", "MIN", "PRODUCT"):
        t = T(cases.base(rank))
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        out[f"all_reduce_{op}"] = t.numpy()
    t = T(cases.base(rank).astype(np.int64))
    dist.all_reduce(t)
    out["all_reduce_int"] = t.numpy()
    t = T(cases.base(rank))
    work = dist.all_reduce(t, async_op=True)
    out["async_wait"] = np.array([work.wait(), work.is_completed()])
    out["async_all_reduce"] = t.numpy()
    t = T(cases.base(rank))
    dist.broadcast(t, src=n - 1)
    out["broadcast"] = t.numpy()
    lst = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)]
    dist.all_gather(lst, T(cases.base(rank)))
    out["all_gather"] = np.stack([x.numpy() for x in lst])
    t = torch.zeros(n * 2, 3, dtype=torch.float64)
    dist.all_gather_into_tensor(t, T(cases.base(rank)))
    out["all_gather_into_tensor"] = t.numpy()
    t = torch.zeros(2, 3, dtype=torch.float64)
    dist.reduce_scatter_tensor(t, T(np.arange(n * 6, dtype=np.float64).reshape(n * 2, 3) + rank))
    out["reduce_scatter_tensor"] = t.numpy()
    t = T(cases.base(rank))
    dist.reduce(t, dst=1, op=dist.ReduceOp.MAX)
    out["reduce"] = t.numpy()
    lst = [torch.zeros(2, 3, dtype=torch.float64) for _ in range(n)] if rank == 0 else None
    dist.gather(T(cases.base(rank)), lst, dst=0)
    if rank == 0:
        out["gather"] = np.stack([x.numpy() for x in lst])
    t = torch.zeros(2, 3, dtype=torch.float64)
    src = [torch.full((2, 3), 10.0 * i, dtype=torch.float64) for i in range(n)] if rank == 0 else None
    dist.scatter(t, src, src=0)
    out["scatter"] = t.numpy()
    t = torch.zeros(2, 3, dtype=torch.float64)
    work = dist.isend(T(cases.base(rank)), dst=(rank + 1) % n)
    sender = dist.recv(t, src=None)
    work.wait()
    out["ring"] = t.numpy()
    out["ring_sender"] = np.array(sender)
    dist.barrier()
    errors = {
        "all_gather_list": _error(lambda: dist.all_gather([torch.zeros(2, 3)], torch.zeros(2, 3))),
        "all_gather_shape": _error(lambda: dist.all_gather([torch.zeros(3)] * n, torch.zeros(2))),
        "into_size": _error(lambda: dist.all_gather_into_tensor(torch.zeros(n * 2 + 1), torch.zeros(2))),
        "scatter_size": _error(lambda: dist.reduce_scatter_tensor(torch.zeros(2), torch.zeros(2 * n + 1))),
        "not_a_tensor": _error(lambda: dist.all_reduce([1.0])),
        "non_contiguous": _error(lambda: dist.all_reduce(torch.zeros(3, 4).t())),
        "bad_src": _error(lambda: dist.broadcast(torch.zeros(2), src=n)),
        "send_self": _error(lambda: dist.send(torch.zeros(2), dst=rank)),
        "init_twice": _error(lambda: dist.init_process_group("mpi")),
    }
    return out, errors


def ddp(rank, n):
    out, info = {}, {}
    for name, (kind, kwargs, micro) in cases.DDP_CASES.items():
        model = cases.make_model(kind, seed=rank)  # a different init on every rank: DDP broadcasts rank 0's
        if kind == "bn":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ddp_model = nn.parallel.DistributedDataParallel(model, **kwargs)
        info[f"{name}_keys"] = list(ddp_model.state_dict())
        opt = torch.optim.SGD(ddp_model.parameters(), lr=cases.LR, momentum=0.9)
        xs, ys = cases.data(n, micro=micro)
        rows = slice(rank * cases.B, (rank + 1) * cases.B)
        for step in range(cases.STEPS):
            opt.zero_grad()
            for m in range(micro):
                x, y = torch.from_numpy(xs[step, m, rows]), torch.from_numpy(ys[step, m, rows])
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
            out[f"{name}/buffer/{k}"] = v.numpy().copy()
        if kind == "branchy":
            info["never_grad_is_none"] = model.never.weight.grad is None
    # buffers: a BatchNorm (not synced) whose running statistics each rank updates with its own batch; the next
    # forward broadcasts rank 0's
    model = cases.make_model("bn", seed=rank)
    ddp_model = nn.parallel.DistributedDataParallel(model)
    xs, _ = cases.data(n)
    rows = slice(rank * cases.B, (rank + 1) * cases.B)
    ddp_model(torch.from_numpy(xs[0, 0, rows]))
    out["buffers/after_local_update"] = model[1].running_mean.numpy().copy()
    model.eval()
    with torch.no_grad():
        ddp_model(torch.from_numpy(xs[1, 0, rows]))
    out["buffers/after_broadcast"] = model[1].running_mean.numpy().copy()
    return out, info


def fail(rank, n):
    if rank == 1:
        raise RuntimeError("rank 1 fails on purpose")
    dist.barrier()  # rank 0 would wait here for ever
    return {}, {}


def main():
    scenario, outdir = sys.argv[1], sys.argv[2]
    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    arrays, info = {"collectives": collectives, "ddp": ddp, "fail": fail}[scenario](rank, n)
    info["rank"], info["world_size"], info["backend"] = rank, n, dist.get_backend()
    np.savez(f"{outdir}/{scenario}-{rank}.npz", **arrays)
    with open(f"{outdir}/{scenario}-{rank}.json", "w") as f:
        json.dump(info, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

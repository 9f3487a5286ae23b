"""One rank of `make gpu-check`'s data-parallel check (start it with the launcher):

    python -m autograd_gpu.distributed.run --nproc-per-node gpu tools/ddp_check.py            # NCCL, a rank per GPU
    python -m autograd_gpu.distributed.run --nproc-per-node 2 tools/ddp_check.py --backend mpi --device cpu

The collectives against numpy, then DistributedDataParallel (two buckets, SyncBatchNorm) for a few steps against
one process training on the concatenated batch, which every rank also runs by itself. Prints one line per rank
and exits non-zero on a mismatch."""
import argparse
import os

import numpy as np

import autograd_gpu as torch
import autograd_gpu.distributed as dist
from autograd_gpu import nn


def check_collectives(device, rank, n):
    base = lambda r: np.arange(6, dtype=np.float64).reshape(2, 3) * (r + 1) + r  # noqa: E731
    bases = np.stack([base(r) for r in range(n)])
    t = torch.tensor(base(rank), device=device)
    dist.all_reduce(t)
    np.testing.assert_array_equal(t.cpu().numpy(), bases.sum(0))
    t = torch.tensor(base(rank), device=device)
    dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True).wait()
    np.testing.assert_allclose(t.cpu().numpy(), bases.mean(0), rtol=1e-15)
    t = torch.tensor(base(rank), device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    np.testing.assert_array_equal(t.cpu().numpy(), bases.max(0))
    t = torch.tensor(base(rank), device=device)
    dist.broadcast(t, src=n - 1)
    np.testing.assert_array_equal(t.cpu().numpy(), bases[n - 1])
    out = torch.zeros(n * 2, 3, dtype=torch.float64, device=device)
    dist.all_gather_into_tensor(out, torch.tensor(base(rank), device=device))
    np.testing.assert_array_equal(out.cpu().numpy(), bases.reshape(n * 2, 3))
    lst = [torch.zeros(2, 3, dtype=torch.float64, device=device) for _ in range(n)]
    dist.all_gather(lst, torch.tensor(base(rank), device=device))
    np.testing.assert_array_equal(np.stack([x.cpu().numpy() for x in lst]), bases)
    out = torch.zeros(2, 3, dtype=torch.float64, device=device)
    dist.reduce_scatter_tensor(out, torch.tensor(np.concatenate([base(rank)] * n), device=device))
    np.testing.assert_array_equal(out.cpu().numpy(), bases.sum(0))
    dist.barrier()


def make_model(device):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 3)).to(device)


def train(model, batches, device):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in batches:
        opt.zero_grad()
        nn.functional.mse_loss(model(torch.tensor(x, device=device)), torch.tensor(y, device=device)).backward()
        opt.step()
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


def check_ddp(device, rank, n, steps=4, b=4):
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((steps, n * b, 5)).astype(np.float32)
    ys = rng.standard_normal((steps, n * b, 3)).astype(np.float32)
    want = train(make_model(device), zip(xs, ys), device)
    model = nn.SyncBatchNorm.convert_sync_batchnorm(make_model(device))
    ddp = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                              bucket_cap_mb=1e-3)
    rows = slice(rank * b, (rank + 1) * b)
    got = train(ddp, zip(xs[:, rows], ys[:, rows]), device)
    for k, v in want.items():
        np.testing.assert_allclose(got["module." + k], v, rtol=1e-4, atol=2e-6, err_msg=k)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="nccl")
    p.add_argument("--device", default="cuda")
    args = p.parse_args()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local_rank}" if args.device == "cuda" else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(args.backend)
    rank, n = dist.get_rank(), dist.get_world_size()
    check_collectives(device, rank, n)
    check_ddp(device, rank, n)
    print(f"ddp check: rank {rank} of {n} ({args.backend}, {device}): collectives and DDP training ok", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""What the multi-process tests run, shared by the ranks (tests/distributed_worker.py, started by the launcher)
and by the single-process references in tests/test_distributed.py."""
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
    return {k: v.detach().numpy().copy() for k, v in model.named_parameters()}

"""DistributedSampler: each rank's share of a dataset, for data-parallel training."""
import math

from ... import distributed as dist
from ..._random import Generator
from ...creation import randperm
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Rank `rank`'s indices of `dataset`: every `num_replicas`-th of one (seeded, per-epoch) permutation, the
    permutation padded with its own first indices to a multiple of `num_replicas` (or, with drop_last, cut to
    one), so every rank gets as many.

    >>> sampler = DistributedSampler(dataset)              # rank and world size from the process group
    >>> loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    >>> for epoch in range(epochs):
    ...     sampler.set_epoch(epoch)                        # a new shuffle each epoch, the same on every rank
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size()
        if rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose shuffle the next iteration uses (seed + epoch)."""
        self.epoch = epoch

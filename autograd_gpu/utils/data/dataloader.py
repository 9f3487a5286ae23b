"""DataLoader: batches of a dataset, made in this process, on the device the dataset's tensors live on."""
import collections.abc
import copy
import itertools
import re

import numpy as np

from ...creation import as_tensor, tensor
from ...ops.core import apply
from ...ops.indexing import INDEX_SELECT
from ...ops.shape import stack
from ...tensor import Tensor
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_NP_STR_OBJ = re.compile(r"[SaUO]")
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch's default_collate does: tensors and numpy arrays are
    stacked along a new dimension 0, floats become a float64 tensor, ints an int64 tensor, strings stay a
    list; dicts, namedtuples and sequences are collated field by field (a tuple gives a list).

    >>> default_collate([(torch.zeros(2), 0), (torch.ones(2), 1)])
    [tensor([[0., 0.], [1., 1.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _NP_STR_OBJ.search(elem.dtype.str) is not None:
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number)):
        return as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float)  # (float64, as PyTorch collates Python floats)
    if isinstance(elem, int):  # bools too: a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return type(elem)(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuples (backwards compatibility)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                clone[:] = fields
                return clone
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """What a DataLoader with batch_size=None applies to each sample: numpy arrays become tensors."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _NP_STR_OBJ.search(data.dtype.str) is not None else as_tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return type(data)(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def get_worker_info():
    """Always None: batches are made in the main process."""
    return None


def _tensor_source(dataset):
    """(TensorDataset, [index maps of the Subsets around it, outermost first]) or None for other datasets."""
    maps = []
    while type(dataset) is Subset:
        maps.append(dataset.indices)
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        return dataset, maps
    return None


class _TensorBatcher:
    """default_collate of TensorDataset samples, done as one index_select per tensor on its own device.

    Gives the same batch as stacking `dataset[i]` for each index, without making one tensor per sample.
    """

    def __init__(self, dataset, maps):
        self.tensors = dataset.tensors
        self.n = len(dataset)
        self.maps = [np.asarray(m.tolist() if isinstance(m, Tensor) else m, dtype=np.int64) for m in maps]

    def __call__(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        for m in self.maps:
            idx = m[idx]  # IndexError for an index past the end of the Subset, as a list would raise
        if idx.size and (idx.min() < -self.n or idx.max() >= self.n):
            bad = idx.max() if idx.max() >= self.n else idx.min()
            raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {self.n}")
        idx = idx % max(self.n, 1)
        # NOTE: the indices were checked here on the host, so the batch is gathered without the device
        # sync that index_select's own bounds check would cost on a GPU.
        on_device = {}
        out = []
        for t in self.tensors:
            dev = t.device
            if dev not in on_device:
                on_device[dev] = as_tensor(idx, device=dev)
            out.append(apply(INDEX_SELECT, t, dim=0, index=on_device[dev]))
        return out


class DataLoader:
    """Iterate over a dataset in (shuffled) batches.

    >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True,
    ...                     generator=torch.Generator().manual_seed(0))
    >>> for xb, yb in loader: ...

    Batches are made in the main process (`num_workers` is accepted and ignored) and stay on the device
    of the dataset's tensors. `shuffle=True` without a `generator` uses the global RNG (`manual_seed`).
    """

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self._default_collate = collate_fn is None or collate_fn is default_collate
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (isinstance(self.dataset, IterableDataset) and
                                                  self.batch_size is not None)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            return self._iter_iterable()
        return self._iter_map()

    def _iter_iterable(self):
        it = iter(self.dataset)
        if self.batch_size is None:
            for sample in it:
                yield self.collate_fn(sample)
            return
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def _iter_map(self):
        ds = self.dataset
        if not self._auto_collation:
            for i in self.sampler:
                yield self.collate_fn(ds[i])
            return
        source = _tensor_source(ds) if self._default_collate else None
        if source is not None:
            fetch = _TensorBatcher(*source)
            for indices in self.batch_sampler:
                yield fetch(indices)
            return
        getitems = getattr(ds, "__getitems__", None)
        for indices in self.batch_sampler:
            yield self.collate_fn(getitems(indices) if getitems else [ds[i] for i in indices])

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)

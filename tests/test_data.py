"""autograd_gpu.utils.data against torch.utils.data: the same batches, the same collate results, the same
errors; shuffling reproducible from a Generator or from manual_seed; batches on the dataset's device."""
import collections

import numpy as np
import pytest
import torch

import autograd_gpu as ag
from autograd_gpu.utils import data as agd
from torch.utils import data as td


def plain(obj):
    """A comparable form of a (nested) batch from either library: tensors become (dtype, values)."""
    if isinstance(obj, (ag.Tensor, torch.Tensor)):
        return ("tensor", str(obj.dtype).removeprefix("torch."), tuple(obj.shape), obj.detach().cpu().tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: plain(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, tuple(plain(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [plain(v) for v in obj])
    return obj


def same_error(fn_ours, fn_torch, exc):
    with pytest.raises(exc) as theirs:
        fn_torch()
    with pytest.raises(exc) as ours:
        fn_ours()
    assert str(ours.value) == str(theirs.value)


def xy(n=10, device="cpu"):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 4
    return (ag.tensor(x, device=device), ag.tensor(y, device=device)), (torch.tensor(x), torch.tensor(y))


# ---- datasets ---------------------------------------------------------------------------------------------
def test_tensor_dataset_items_and_size_mismatch():
    (x, y), (tx, ty) = xy()
    ds, tds = agd.TensorDataset(x, y), td.TensorDataset(tx, ty)
    assert len(ds) == len(tds) == 10
    assert plain(ds[3]) == plain(tds[3])
    assert plain(ds[2:5]) == plain(tds[2:5])
    same_error(lambda: agd.TensorDataset(x, y[:5]), lambda: td.TensorDataset(tx, ty[:5]), AssertionError)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 16])
def test_sequential_batches_match_torch(batch_size, drop_last):
    (x, y), (tx, ty) = xy()
    ours = agd.DataLoader(agd.TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = td.DataLoader(td.TensorDataset(tx, ty), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]


def test_batches_stay_on_the_dataset_device(device):
    (x, y), _ = xy(device=device)
    loader = agd.DataLoader(agd.TensorDataset(x, y), batch_size=4, shuffle=True)
    for xb, yb in loader:
        assert xb.device.type == ag.device(device).type and yb.device.type == ag.device(device).type
        assert xb.dtype == ag.float32 and yb.dtype == ag.int64
        # each row is still the row of its label's sample: x[i] = [3i, 3i+1, 3i+2] and y[i] = i % 4
        rows = (xb[:, 0] / 3).long()
        assert ag.equal(rows % 4, yb)


def test_fast_tensor_batches_equal_per_sample_collation(device):
    (x, y), _ = xy(12, device)
    ds = agd.TensorDataset(x, y)
    kw = dict(batch_size=5, shuffle=True)
    fast = agd.DataLoader(ds, generator=ag.Generator().manual_seed(3), **kw)
    slow = agd.DataLoader(ds, generator=ag.Generator().manual_seed(3), collate_fn=lambda b: agd.default_collate(b),
                          **kw)
    assert [plain(b) for b in fast] == [plain(b) for b in slow]


def test_shuffle_is_a_permutation_reproducible_from_a_generator():
    (x, y), _ = xy(50)
    ds = agd.TensorDataset(x, y)

    def epochs(loader, n=3):  # the sample order of n epochs (row i of x starts with 3i)
        return [[i for xb, _ in loader for i in (xb[:, 0] / 3).long().tolist()] for _ in range(n)]

    a = epochs(agd.DataLoader(ds, batch_size=8, shuffle=True, generator=ag.Generator().manual_seed(0)))
    b = epochs(agd.DataLoader(ds, batch_size=8, shuffle=True, generator=ag.Generator().manual_seed(0)))
    c = epochs(agd.DataLoader(ds, batch_size=8, shuffle=True, generator=ag.Generator().manual_seed(1)))
    assert a == b
    assert a != c
    assert all(sorted(e) == list(range(50)) for e in a)
    assert a[0] != a[1]  # a new order each epoch
    assert a[0] != list(range(50))


def test_shuffle_without_a_generator_follows_manual_seed():
    ds = agd.TensorDataset(ag.arange(40))

    def order():
        return [i for (b,) in agd.DataLoader(ds, batch_size=7, shuffle=True) for i in b.tolist()]

    ag.manual_seed(123)
    first = order()
    ag.manual_seed(123)
    assert order() == first
    assert sorted(first) == list(range(40)) and first != list(range(40))


def test_len_of_loader():
    ds = agd.TensorDataset(ag.zeros(10, 2))
    assert len(agd.DataLoader(ds, batch_size=3)) == 4
    assert len(agd.DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert len(agd.DataLoader(ds, batch_size=None)) == 10
    assert len(list(agd.DataLoader(ds, batch_size=3, shuffle=True, drop_last=True))) == 3


def test_gradients_flow_to_dataset_tensors(device):
    x = ag.ones(6, 2, device=device, requires_grad=True)
    loader = agd.DataLoader(agd.TensorDataset(x), batch_size=4, sampler=[0, 1, 1, 5, 5, 5])
    total = sum((xb * 1).sum() for (xb,) in loader)
    total.backward()
    assert x.grad[:, 0].tolist() == [1, 2, 0, 0, 0, 3]


def test_out_of_range_index_from_a_sampler():
    loader = agd.DataLoader(agd.TensorDataset(ag.zeros(4)), batch_size=2, sampler=[0, 4])
    with pytest.raises(IndexError, match="out of bounds"):
        list(loader)


# ---- collate ----------------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", "x y")


def samples(lib):
    t = lib.tensor
    return [
        [t([1.0, 2.0]), t([3.0, 4.0])],
        [1, 2, 3],
        [True, False],
        [0.5, 1.5],
        ["a", "b"],
        [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)],
        [np.float32(1.5), np.float32(2.5)],
        [{"img": t([1.0]), "label": 0, "name": "x"}, {"img": t([2.0]), "label": 1, "name": "y"}],
        [(t([1, 2]), 3.0), (t([3, 4]), 4.0)],
        [[t(1.0), 2], [t(3.0), 4]],
        [Point(t([1.0]), 1), Point(t([2.0]), 2)],
        [collections.OrderedDict(a=1, b=2.0), collections.OrderedDict(a=3, b=4.0)],
    ]


@pytest.mark.parametrize("case", range(len(samples(torch))))
def test_default_collate_matches_torch(case):
    ours = agd.default_collate(samples(ag)[case])
    theirs = td.default_collate(samples(torch)[case])
    assert plain(ours) == plain(theirs)


def test_default_collate_errors_match_torch():
    class Thing:
        pass

    same_error(lambda: agd.default_collate([Thing(), Thing()]), lambda: td.default_collate([Thing(), Thing()]),
               TypeError)
    same_error(lambda: agd.default_collate([[1, 2], [3]]), lambda: td.default_collate([[1, 2], [3]]), RuntimeError)
    strs = [np.array(["a"]), np.array(["b"])]
    same_error(lambda: agd.default_collate(strs), lambda: td.default_collate(strs), TypeError)


class Squares(agd.Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.full(2, i, dtype=np.float64), "y": i * i}


class TorchSquares(td.Dataset):
    __len__ = Squares.__len__
    __getitem__ = Squares.__getitem__


def test_map_dataset_of_dicts_matches_torch():
    ours = [plain(b) for b in agd.DataLoader(Squares(), batch_size=3)]
    theirs = [plain(b) for b in td.DataLoader(TorchSquares(), batch_size=3)]
    assert ours == theirs
    assert [plain(b) for b in agd.DataLoader(Squares(), batch_size=None)] == \
        [plain(b) for b in td.DataLoader(TorchSquares(), batch_size=None)]


def test_custom_collate_fn_gets_the_list_of_samples():
    seen = []

    def collate(batch):
        seen.append(batch)
        return len(batch)

    (x, y), _ = xy(5)
    assert list(agd.DataLoader(agd.TensorDataset(x, y), batch_size=2, collate_fn=collate)) == [2, 2, 1]
    assert len(seen[0]) == 2 and isinstance(seen[0][0], tuple) and ag.equal(seen[0][1][0], x[1])


class Count(agd.IterableDataset):
    def __iter__(self):
        return iter(range(7))


class TorchCount(td.IterableDataset):
    def __iter__(self):
        return iter(range(7))


@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)])
def test_iterable_dataset_matches_torch(kw):
    assert [plain(b) for b in agd.DataLoader(Count(), **kw)] == [plain(b) for b in td.DataLoader(TorchCount(), **kw)]


# ---- samplers, subsets, random_split -----------------------------------------------------------------------
@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (0, 2, False)])
def test_batch_sampler_matches_torch(n, bs, drop):
    ours = agd.BatchSampler(agd.SequentialSampler(range(n)), bs, drop)
    theirs = td.BatchSampler(td.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_sampler():
    s = agd.RandomSampler(range(10), generator=ag.Generator().manual_seed(0))
    assert sorted(s) == list(range(10)) and len(s) == 10
    s = agd.RandomSampler(range(10), num_samples=25, generator=ag.Generator().manual_seed(0))
    drawn = list(s)
    assert len(drawn) == len(s) == 25 and all(drawn.count(i) in (2, 3) for i in range(10))
    s = agd.RandomSampler(range(3), replacement=True, num_samples=50, generator=ag.Generator().manual_seed(0))
    drawn = list(s)
    assert len(drawn) == 50 and set(drawn) == {0, 1, 2}
    same_error(lambda: agd.RandomSampler(range(3), replacement=1), lambda: td.RandomSampler(range(3), replacement=1),
               TypeError)
    same_error(lambda: agd.RandomSampler(range(3), num_samples=0), lambda: td.RandomSampler(range(3), num_samples=0),
               ValueError)
    assert sorted(agd.SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]


@pytest.mark.parametrize("args", [(0, False), (2, "yes"), (True, False)])
def test_batch_sampler_errors_match_torch(args):
    same_error(lambda: agd.BatchSampler(range(3), *args), lambda: td.BatchSampler(range(3), *args), ValueError)


@pytest.mark.parametrize("kw", [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0, 1]], batch_size=2),
    dict(batch_sampler=[[0, 1]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(persistent_workers=True),
])
def test_loader_argument_errors_match_torch(kw):
    same_error(lambda: agd.DataLoader(agd.TensorDataset(ag.zeros(3)), **kw),
               lambda: td.DataLoader(td.TensorDataset(torch.zeros(3)), **kw), ValueError)


def test_iterable_dataset_refuses_shuffle_like_torch():
    same_error(lambda: agd.DataLoader(Count(), shuffle=True), lambda: td.DataLoader(TorchCount(), shuffle=True),
               ValueError)


def test_loader_attributes_are_frozen_like_torch():
    same_error(lambda: setattr(agd.DataLoader(agd.TensorDataset(ag.zeros(3))), "batch_size", 2),
               lambda: setattr(td.DataLoader(td.TensorDataset(torch.zeros(3))), "batch_size", 2), ValueError)


def test_random_split_and_subset(device):
    ds = agd.TensorDataset(ag.arange(10, device=device))
    parts = agd.random_split(ds, [3, 7], generator=ag.Generator().manual_seed(0))
    again = agd.random_split(ds, [3, 7], generator=ag.Generator().manual_seed(0))
    assert [p.indices for p in parts] == [p.indices for p in again]
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert parts[1][2][0].item() == parts[1].indices[2]
    # fractions share the remainder round-robin, as in PyTorch
    assert [len(p) for p in agd.random_split(range(11), [0.5, 0.3, 0.2])] == \
        [len(p) for p in td.random_split(range(11), [0.5, 0.3, 0.2])]
    same_error(lambda: agd.random_split(range(5), [2, 2]), lambda: td.random_split(range(5), [2, 2]), ValueError)
    # a Subset of a TensorDataset batches through the fast path with the Subset's indices
    (b,) = next(iter(agd.DataLoader(parts[1], batch_size=7)))
    assert b.tolist() == parts[1].indices and b.device.type == ag.device(device).type


def test_concat_dataset():
    a, b = agd.TensorDataset(ag.arange(3)), agd.TensorDataset(ag.arange(10, 12))
    cat = a + b
    assert len(cat) == 5 and [cat[i][0].item() for i in range(-5, 5)] == [0, 1, 2, 10, 11] * 2

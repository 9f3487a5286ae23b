"""The single-process parts of data parallelism, against PyTorch: Tensor.register_post_accumulate_grad_hook, the
engine's queue_callback (what DistributedDataParallel builds on), SyncBatchNorm outside a world and
convert_sync_batchnorm."""
import contextlib
import sys

import numpy as np
import pytest
import torch as pt

import autograd_gpu as torch
from autograd_gpu import distributed as dist
from autograd_gpu import nn
from autograd_gpu.autograd import engine


def _run_post_hooks(lib, device, seen):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True, device=device)
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True, device=device)
    x.register_hook(lambda g: seen.append(("pre", g.tolist())))
    x.register_post_accumulate_grad_hook(lambda t: seen.append(("post", t is x, t.grad.tolist())))
    h = x.register_post_accumulate_grad_hook(lambda t: seen.append(("post2", t.grad.tolist())))
    w.register_post_accumulate_grad_hook(lambda t: seen.append(("w", t.grad.tolist())))
    (x * w * 3).sum().backward()
    h.remove()
    (x * x).sum().backward(inputs=[x])  # only the leaves that accumulate run their hooks
    lib.autograd.grad((x * 2).sum(), x)  # nothing accumulates: no hook
    return x.grad.tolist()


def test_post_accumulate_grad_hook_as_pytorch(device):
    ours, theirs = [], []
    assert _run_post_hooks(torch, device, ours) == _run_post_hooks(pt, "cpu", theirs)
    # each leaf's hooks in PyTorch's order (the order of two independent leaves is the engine's choice)
    assert [e for e in ours if e[0] != "w"] == [e for e in theirs if e[0] != "w"]
    assert [e for e in ours if e[0] == "w"] == [e for e in theirs if e[0] == "w"] == [("w", [3.0, 6.0, 9.0])]


def test_post_accumulate_grad_hook_errors_as_pytorch():
    for lib in (torch, pt):
        x = lib.randn(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
            lib.randn(3).register_post_accumulate_grad_hook(lambda t: None)
        h = x.register_post_accumulate_grad_hook(lambda t: t * 2)
        with pytest.raises(RuntimeError, match="Tensor post accumulate grad hooks should return None."):
            x.sum().backward()
        h.remove()
        x.register_post_accumulate_grad_hook(lambda t: 5)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            x.sum().backward()


def test_queue_callback_runs_once_backward_has_finished():
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass."):
        engine.queue_callback(lambda: None)
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass."):
        pt.autograd.Variable._execution_engine.queue_callback(lambda: None)
    for lib, queue in ((torch, engine.queue_callback), (pt, pt.autograd.Variable._execution_engine.queue_callback)):
        log = []
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0], requires_grad=True)

        def hook(t, name, queue=queue, log=log):
            log.append(name)
            if name == "a":
                queue(lambda: log.append(("final", a.grad.item(), b.grad.item())))

        a.register_post_accumulate_grad_hook(lambda t: hook(t, "a"))
        b.register_post_accumulate_grad_hook(lambda t: hook(t, "b"))
        (a * 3 + b * b).sum().backward()
        assert sorted(log[:2]) == ["a", "b"] and log[2] == ("final", 3.0, 4.0) and len(log) == 3


def test_sync_batchnorm_alone_is_batchnorm_as_pytorch(device):
    pt.manual_seed(0)
    theirs = pt.nn.SyncBatchNorm(4)
    ours = nn.SyncBatchNorm(4).to(device)
    with pt.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-0.5, 0.5)
    ours.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 4, 3))
    for mode in ("train", "eval"):
        getattr(theirs.double(), mode)()
        getattr(ours.double(), mode)()
        xt = pt.tensor(x, requires_grad=True)
        xo = torch.tensor(x, requires_grad=True, device=device)
        (theirs(xt) ** 2).sum().backward()
        (ours(xo) ** 2).sum().backward()
        np.testing.assert_allclose(ours(xo).detach().cpu().numpy(), theirs(xt).detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(xo.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.weight.grad.cpu().numpy(), theirs.weight.grad.numpy(), rtol=1e-9)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].cpu().numpy(), v.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        ours(torch.randn(4, device=device))
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        theirs(pt.randn(4))


def test_convert_sync_batchnorm_as_pytorch():
    def build(lib):
        m = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 3), lib.nn.BatchNorm2d(2, momentum=0.3),
                              lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.BatchNorm1d(3, affine=False)))
        m[1].eval()
        return m
    ours, theirs = build(torch), build(pt)
    bn_weight, bn_mean = ours[1].weight, ours[1].running_mean
    ours_sync = nn.SyncBatchNorm.convert_sync_batchnorm(ours)
    theirs_sync = pt.nn.SyncBatchNorm.convert_sync_batchnorm(theirs)
    assert repr(ours_sync) == repr(theirs_sync)
    assert [type(m).__name__ for m in ours_sync.modules()] == [type(m).__name__ for m in theirs_sync.modules()]
    assert list(ours_sync.state_dict()) == list(theirs_sync.state_dict())
    assert ours_sync[1].weight is bn_weight and ours_sync[1].running_mean is bn_mean  # shared, not copied
    assert ours_sync[1].training is False and ours_sync[2][1].training is True
    assert ours_sync[1].momentum == 0.3 and ours_sync[2][1].weight is None


class _Loopback:
    """A world of one process, in this one: what DistributedDataParallel's own arithmetic (bucket packing,
    averaging, unpacking, gradient views) does on each device can be checked in-process; the collectives themselves
    are tested across processes in tests/test_distributed.py."""
    rank, size = 0, 1

    def check_device(self, t):
        pass

    def close(self):
        pass

    def all_reduce(self, a, op):
        return dist.Work()

    def broadcast(self, a, src):
        return dist.Work()


@pytest.fixture
def world_of_one():
    dist.group.WORLD = dist.ProcessGroup("loopback", _Loopback())
    yield
    dist.group.WORLD = None


@pytest.mark.parametrize("kwargs", [{}, {"gradient_as_bucket_view": True, "bucket_cap_mb": 1e-4}])
def test_ddp_step_on_each_device_equals_the_module_and_makes_no_host_transfer(world_of_one, device, kwargs):
    def train(wrap):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)
        net = nn.parallel.DistributedDataParallel(model, **kwargs) if wrap else model
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        x = torch.randn(6, 4, device=device, generator=torch.Generator(device).manual_seed(1))
        for step in range(3):
            with no_host_sync(device):
                opt.zero_grad(set_to_none=step == 1)
                if step == 2:  # two passes accumulated, the first kept local
                    with net.no_sync() if wrap else contextlib.nullcontext():
                        (net(x) ** 2).mean().backward()
                (net(x) ** 2).mean().backward()
                opt.step()
        return model, net
    (ours, ddp), (plain, _) = train(True), train(False)
    for (k, a), b in zip(ours.named_parameters(), plain.parameters()):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=k)
    flats = [b.flat._data for b in ddp._buckets]
    assert len(flats) == (1 if not kwargs else 2)  # (buckets close at 104 bytes: [b2, w2, b1], [w1])
    views = [any(p.grad._data.base is f for f in flats) for p in ours.parameters()]
    assert views == [bool(kwargs.get("gradient_as_bucket_view"))] * 4


def no_host_sync(device):
    cupy = sys.modules.get("cupy")
    if device == "cuda" and hasattr(cupy, "no_host_sync"):
        return cupy.no_host_sync()
    return contextlib.nullcontext()

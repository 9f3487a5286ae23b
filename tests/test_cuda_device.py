"""The cuda device as GPU programs use it: regression tests of every CUDA bug found by the CuPy stand-in or by
reading the cuda path, and train steps that never synchronise with the host. On a CPU-only machine these run on
the stand-in (tests/cupy_sim); on a GPU machine on the GPU (where `no_host_sync` is not available, the
transfer checks are skipped by construction: they need the stand-in's counter)."""
import contextlib

import numpy as np
import pytest
import torch

import autograd_gpu as ag
import autograd_gpu.nn as nn
import autograd_gpu.nn.functional as F
from autograd_gpu import _device
from autograd_gpu.utils import data as agd

cupy = _device.cupy()
SIM = hasattr(cupy, "no_host_sync")


def no_host_sync():
    return cupy.no_host_sync() if SIM else contextlib.nullcontext()


# ---- moving to the GPU -------------------------------------------------------------------------------
def test_cpu_tensors_and_models_move_to_cuda():
    x = ag.randn(3, 4)
    for y in (x.to("cuda"), x.cuda(), x.to(ag.device("cuda", 0)), x.to(device="cuda", dtype=ag.float64)):
        assert y.device.type == "cuda" and y.is_cuda
        np.testing.assert_array_equal(y.cpu().numpy(), x.numpy().astype(y.cpu().numpy().dtype))
    a = ag.randn(3, requires_grad=True)
    b = a.to("cuda")
    (b * 2).sum().backward()
    assert a.grad.device.type == "cpu" and a.grad.tolist() == [2.0, 2.0, 2.0]  # the gradient comes back
    z = ag.zeros(3, 4, device="cuda")
    z.copy_(x)  # copy_ from a CPU tensor
    np.testing.assert_array_equal(z.cpu().numpy(), x.numpy())


def test_model_moved_after_its_optimizer_was_made_and_cpu_checkpoint_loaded():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = ag.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.to("cuda")
    assert all(p.device.type == "cuda" for p in model.parameters())
    x, y = ag.randn(5, 4, device="cuda"), ag.tensor([0, 1, 0, 1, 1], device="cuda")
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert all(p.device.type == "cuda" for p in model.parameters())
    model.load_state_dict(state)  # a CPU checkpoint into a GPU model
    for k, v in model.state_dict().items():
        assert v.device.type == "cuda"
        np.testing.assert_array_equal(v.cpu().numpy(), state[k].numpy())


def test_randperm_and_shuffled_loader_on_cuda():
    p = ag.randperm(50, device="cuda")
    assert p.device.type == "cuda" and p.dtype == ag.int64 and sorted(p.tolist()) == list(range(50))
    g1, g2 = ag.Generator(device="cuda").manual_seed(3), ag.Generator(device="cuda").manual_seed(3)
    assert ag.randperm(20, device="cuda", generator=g1).tolist() == \
        ag.randperm(20, device="cuda", generator=g2).tolist()
    ag.set_default_device("cuda")
    try:
        x = ag.arange(10.)
        seen = [b for (b,) in agd.DataLoader(agd.TensorDataset(x), batch_size=3, shuffle=True)]
    finally:
        ag.set_default_device(None)
    assert all(b.device.type == "cuda" for b in seen)
    assert sorted(v for b in seen for v in b.tolist()) == list(range(10))


def test_generator_of_another_device_is_refused():
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        ag.randn(3, generator=ag.Generator(device="cuda"))
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        ag.randn(3, device="cuda", generator=ag.Generator())


def test_device_equality_as_pytorch():
    assert (ag.device("cuda:0") == ag.device("cuda")) == (torch.device("cuda:0") == torch.device("cuda"))
    assert ag.randn(2, device="cuda").device == ag.device("cuda:0")


# ---- out-of-range indices: IndexError at the next synchronising call ------------------------------------
@pytest.mark.parametrize("case", ["cross_entropy", "embedding", "gather", "index_select", "indexing", "one_hot"])
def test_out_of_range_indices_raise_at_the_next_sync(case):
    x = ag.randn(4, 3, device="cuda")
    bad = ag.tensor([0, 7, 1, 2], device="cuda")
    run = {
        "cross_entropy": lambda: F.cross_entropy(x, bad),
        "embedding": lambda: F.embedding(bad, ag.randn(3, 2, device="cuda")),
        "gather": lambda: x.gather(1, bad.reshape(4, 1)),
        "index_select": lambda: x.index_select(1, bad),
        "indexing": lambda: x[:, bad],
        "one_hot": lambda: F.one_hot(bad, 3),
    }[case]
    with no_host_sync():  # the check itself does not synchronise
        out = run()
    with pytest.raises((IndexError, RuntimeError)) as e:
        out.sum().item()
    assert "out of" in str(e.value) or "smaller than" in str(e.value)
    assert "test_cuda_device.py" in str(e.value)  # names the forward call
    assert type(e.value) is (RuntimeError if case in ("gather", "one_hot", "index_select") else IndexError)  # (dim 1)
    # the process stays usable: the flag was cleared, good indices work
    assert F.cross_entropy(x, ag.tensor([0, 2, 1, 2], device="cuda")).item() > 0


def test_cross_entropy_bad_target_matches_the_cpu_error():
    x = ag.randn(4, 3)
    t = ag.tensor([0, 7, 1, 2])
    with pytest.raises(IndexError):
        F.cross_entropy(x, t)
    loss = F.cross_entropy(x.cuda(), t.cuda())
    with pytest.raises(IndexError, match="out of bounds"):
        print(loss)


# ---- mixing devices -------------------------------------------------------------------------------------
def test_cpu_scalar_tensor_joins_a_gpu_op_in_either_place_and_keeps_its_grad_on_the_cpu():
    for order in (0, 1):
        s = ag.tensor(0.5, requires_grad=True)
        x = ag.arange(3., device="cuda").requires_grad_()
        y = s * x if order == 0 else x * s
        assert y.device.type == "cuda"
        (y + s).sum().backward()
        assert s.grad.device.type == "cpu" and s.grad.item() == pytest.approx(3.0 + 3.0)
        assert x.grad.device.type == "cuda" and x.grad.tolist() == [0.5] * 3
    with pytest.raises(RuntimeError, match="same device"):
        ag.ones(2) * ag.ones(2, device="cuda")


def test_where_with_two_numbers():
    c = ag.tensor([True, False, True])
    want = torch.where(torch.tensor([True, False, True]), 1.0, 0.0)
    for dev in ("cpu", "cuda"):
        r = ag.where(c.to(dev), 1.0, 0.0)
        assert r.device.type == dev and r.dtype == ag.float32 == getattr(ag, str(want.dtype).split(".")[1])
        assert r.tolist() == want.tolist()
    assert ag.where(c, 1, 0).dtype == ag.int64


@pytest.mark.parametrize("kind", ["nll_weight", "ce_weight", "bce_pos_weight"])
def test_loss_weights_on_another_device_raise_pytorchs_error(kind):
    x = ag.randn(4, 3, device="cuda")
    t = ag.tensor([0, 2, 1, 2], device="cuda")
    run = {"nll_weight": lambda: F.nll_loss(x, t, weight=ag.ones(3)),
           "ce_weight": lambda: F.cross_entropy(x, t, weight=ag.ones(3)),
           "bce_pos_weight": lambda: F.binary_cross_entropy_with_logits(x, ag.ones(4, 3, device="cuda"),
                                                                        pos_weight=ag.ones(3))}[kind]
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        run()


# ---- train steps without a host transfer ----------------------------------------------------------------
def _mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.GELU(), nn.LayerNorm(16), nn.Dropout(0.1), nn.Linear(16, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 2 * 2, 3))


OPTIMIZERS = {
    "SGD": lambda p: ag.optim.SGD(p, lr=0.1),
    "SGD-momentum-nesterov-wd": lambda p: ag.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "Adam": lambda p: ag.optim.Adam(p, lr=1e-3),
    "Adam-amsgrad-wd": lambda p: ag.optim.Adam(p, lr=1e-3, amsgrad=True, weight_decay=1e-2),
    "AdamW": lambda p: ag.optim.AdamW(p, lr=1e-3),
    "RMSprop-centered-momentum": lambda p: ag.optim.RMSprop(p, lr=1e-3, centered=True, momentum=0.9),
    "RMSprop": lambda p: ag.optim.RMSprop(p, lr=1e-3),
    "Adagrad": lambda p: ag.optim.Adagrad(p, lr=1e-2),
}
# every other optimizer with its defaults (a new one is picked up here); not LBFGS, whose step takes a closure
# and reads values back by nature, as PyTorch's (tests/test_optim_more.py)
OPTIMIZERS.update({n: (lambda cls: lambda p: cls(p))(getattr(ag.optim, n)) for n in ag.optim.__all__
                   if n not in ("Optimizer", "lr_scheduler", "LBFGS")
                   and not any(k.split("-")[0] == n for k in OPTIMIZERS)})


@pytest.mark.skipif(not SIM, reason="counting host transfers needs the CuPy stand-in")
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_train_steps_never_synchronise(net, opt):
    step = _train_step(net, opt, "cuda")
    first = step().item()  # warm-up: state buffers made, kernels compiled
    before = cupy.transfers["count"]
    with cupy.no_host_sync():
        for _ in range(3):
            loss = step()
    assert cupy.transfers["count"] == before
    assert np.isfinite(loss.item()) and loss.item() != first


def _train_step(net, opt, device):
    """A step function (returning the loss tensor) of a fresh seeded MLP or CNN on `device`; the model and its
    optimizer are its attributes."""
    ag.manual_seed(0)
    model = (_mlp() if net == "mlp" else _cnn()).to(device)
    optimizer = OPTIMIZERS[opt](model.parameters())
    x = ag.randn(8, 12, device=device) if net == "mlp" else ag.randn(8, 1, 8, 8, device=device)
    y = ag.tensor([0, 1, 2, 0, 1, 2, 0, 1], device=device)

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    step.model, step.optimizer, step.x = model, optimizer, x
    return step


# ---- several GPUs ---------------------------------------------------------------------------------------
@pytest.mark.skipif(ag.cuda.device_count() < 2, reason="needs two GPUs (the stand-in has two)")
def test_ops_backward_and_steps_run_on_their_tensors_gpu():
    assert ag.cuda.current_device() == 0
    lin = nn.Linear(3, 2).to("cuda:1")
    opt = ag.optim.Adam(lin.parameters(), lr=0.1)
    x = ag.randn(4, 3, device="cuda:1", requires_grad=True)
    w0 = lin.weight.detach().cpu().numpy()
    loss = F.cross_entropy(ag.tanh(lin(x)), ag.tensor([0, 1, 1, 0], device="cuda:1"))
    loss.backward()
    opt.step()
    assert x.grad.device == ag.device("cuda:1") and lin.weight.grad.device == ag.device("cuda:1")
    assert not np.allclose(lin.weight.detach().cpu().numpy(), w0)
    assert ag.cuda.current_device() == 0
    before = ag.cuda.memory_allocated(1)
    big = ag.zeros(1 << 16, device="cuda:1")
    assert ag.cuda.memory_allocated(1) - before >= big.numel() * 4
    del big
    with pytest.raises(RuntimeError, match="same device"):
        ag.ones(2, device="cuda:0") + ag.ones(2, device="cuda:1")


def test_optimizer_state_left_on_the_cpu_is_a_device_error_not_a_host_pointer():
    lin = nn.Linear(3, 2)
    opt = ag.optim.Adam(lin.parameters(), lr=0.1)
    lin(ag.randn(4, 3)).sum().backward()
    opt.step()  # state made on the CPU
    lin.to("cuda")
    lin(ag.randn(4, 3, device="cuda")).sum().backward()
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        opt.step()


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "float16", "bool"])
def test_accumulating_scatters_of_small_dtypes(dtype):
    dt = getattr(ag, dtype)
    idx = ag.tensor([0, 2, 0, 0])
    want_put = torch.zeros(4, dtype=getattr(torch, dtype)).index_put_(
        (torch.tensor([0, 2, 0, 0]),), torch.ones(4, dtype=getattr(torch, dtype)), accumulate=True)
    for dev in ("cpu", "cuda"):
        z = ag.zeros(4, dtype=dt, device=dev)
        z.index_put_((idx.to(dev),), ag.ones(4, dtype=dt, device=dev), accumulate=True)
        assert z.dtype == dt and z.tolist() == want_put.tolist()
        if dtype != "bool":
            s = ag.zeros(3, dtype=dt, device=dev).scatter_add(0, ag.tensor([1, 1, 2], device=dev),
                                                              ag.ones(3, dtype=dt, device=dev))
            assert s.tolist() == [0, 2, 1]


@pytest.mark.skipif(ag.cuda.device_count() < 2, reason="needs two GPUs (the stand-in has two)")
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_train_steps_on_the_second_gpu_while_the_first_is_current(net, opt):
    step = _train_step(net, opt, "cuda:1")
    losses = [step().item() for _ in range(3)]
    assert ag.cuda.current_device() == 0
    assert all(p.device == ag.device("cuda:1") for p in step.model.parameters())
    assert all(s.device == ag.device("cuda:1") for st in step.optimizer.state.values() for s in st.values()
               if isinstance(s, ag.Tensor) and s.ndim)
    step.model.eval()
    assert np.isfinite(step.model(step.x).sum().item()) and losses[-1] != losses[0]


@pytest.mark.skipif(not SIM, reason="counting host transfers needs the CuPy stand-in")
def test_top_level_math_ops_never_synchronise():
    """addcmul ... histc (ops/arithmetic, reduction, matrix, sorting): forward and backward read nothing back."""
    rng = np.random.default_rng(0)
    x, y = (ag.tensor(rng.uniform(0.5, 1.5, (3, 4)), device="cuda", requires_grad=True) for _ in range(2))
    v, w = (ag.tensor(rng.uniform(0.5, 1.5, 4), device="cuda", requires_grad=True) for _ in range(2))
    f = ag.tensor([1, 2, 1, 3], device="cuda")
    runs = [lambda: ag.addcmul(x, y, v, value=2), lambda: ag.addcdiv(x, y, v, value=-1),
            lambda: ag.diff(x, n=2, prepend=y), lambda: ag.dist(x, v, 3), lambda: ag.vdot(v, w),
            lambda: ag.addr(x, v[:3], w), lambda: ag.cov(x, fweights=f, aweights=w), lambda: ag.corrcoef(x),
            lambda: ag.trapezoid(x, v), lambda: ag.renorm(x, 2, 0, 1.0)]
    before = cupy.transfers["count"]
    with cupy.no_host_sync():
        for run in runs:
            run().sum().backward()
        ag.histc(x.detach(), 5)
        ag.gcd(f, f * 2)
    assert cupy.transfers["count"] == before
    assert x.grad.device.type == "cuda" and v.grad.device.type == "cuda"

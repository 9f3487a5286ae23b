"""The benchmark workloads: the same computation, data and initial weights in autograd_gpu and in PyTorch,
timed in one process on one device. Every workload returns a list of report.Row.

Timing rule: warm-up runs first, then each repeat times ours and then PyTorch's (alternating, so drift hits
both), and a row shows the medians. On the GPU a time is the interval between two CUDA events recorded on
the current stream around the work (cupy.cuda.Event for ours, torch.cuda.Event for PyTorch), after a
synchronize so no earlier work is inside it; on the CPU it is time.perf_counter around the work.
"""
from __future__ import annotations

import gc
import math
import statistics
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from .report import Row

SEED = 0


@dataclass
class Config:
    device: str
    quick: bool = False
    warmup: int = 3
    repeats: int = 10
    max_log2: int = 24
    chain_ops: int = 100
    chain_numel: int = 16
    launches: int = 1000  # launch-floor loop length per timed sample
    loss_steps: int = 3
    loss_rtol: float = 1e-3


# ------------------------------------------------------------------------------------------------ frameworks

class Framework:
    """One side of the comparison: the torch-like module `T` (torch or autograd_gpu) on `device`."""

    def __init__(self, name: str, T, device: str):
        self.name, self.T, self.device = name, T, device
        self.gpu = device == "cuda"
        self.is_torch = name == "PyTorch"

    def tensor(self, array, requires_grad=False):
        return self.T.tensor(np.ascontiguousarray(array), device=self.device, requires_grad=requires_grad)

    def sync(self):
        if self.gpu:
            self.T.cuda.synchronize()

    def elapsed(self, run, state) -> float:
        """Seconds that `run(state)` takes (its result stays alive until the clock has stopped)."""
        if not self.gpu:
            t0 = time.perf_counter()
            out = run(state)
            dt = time.perf_counter() - t0
            del out
            return dt
        if self.is_torch:
            start, end = self.T.cuda.Event(enable_timing=True), self.T.cuda.Event(enable_timing=True)
        else:
            import cupy
            start, end = cupy.cuda.Event(), cupy.cuda.Event()
        self.sync()
        start.record()
        out = run(state)
        end.record()
        end.synchronize()
        ms = start.elapsed_time(end) if self.is_torch else _cupy_ms(start, end)
        del out
        return ms / 1e3


def _cupy_ms(start, end):
    import cupy
    return cupy.cuda.get_elapsed_time(start, end)


@dataclass
class Case:
    """What one framework times: `setup()` builds the untimed state, `run(state)` is the timed work."""

    fw: object
    setup: object
    run: object


def measure(cases: list[Case], warmup: int, repeats: int) -> list[float]:
    """Median seconds of each case; repeats alternate between the cases.

    NOTE: the cyclic garbage collector runs before each sample and is off inside it (as in timeit): a full
    collection walks every Python object of the process (torch alone makes ~10^5), so one landing inside a
    sample would charge whichever framework happened to allocate then. The objects alive at the start are
    frozen, so these collections only walk what the samples made.
    """
    times = [[] for _ in cases]
    gc.collect()
    gc.freeze()
    try:
        for i in range(warmup + repeats):
            for c, t in zip(cases, times):
                state = c.setup()
                gc.collect()
                gc.disable()
                try:
                    dt = c.fw.elapsed(c.run, state)
                finally:
                    gc.enable()
                del state
                if i >= warmup:
                    t.append(dt)
    finally:
        gc.unfreeze()
    return [statistics.median(t) for t in times]


# ------------------------------------------------------------------------------------------------ 1. per-op

def _chain(T, y, c1, c2, n):
    for i in range(n):
        k = i % 4
        if k == 0:
            y = y * c1
        elif k == 1:
            y = y + c2
        elif k == 2:
            y = T.tanh(y)
        else:
            y = T.exp(y)
    return y


def per_op(ours: Framework, ref: Framework, cfg: Config) -> list[Row]:
    """Forward and backward of a chain of small mul/add/tanh/exp ops on a tiny tensor, per op."""
    rng = np.random.default_rng(SEED)
    x0 = rng.standard_normal(cfg.chain_numel).astype(np.float32)
    n = cfg.chain_ops

    def cases(backward):
        out = []
        for fw in (ours, ref):
            c1, c2, g = (fw.tensor(np.full(cfg.chain_numel, v, np.float32)) for v in (0.9, 0.1, 1.0))
            T = fw.T
            if backward:
                def setup(fw=fw, c1=c1, c2=c2, g=g, T=T):
                    return _chain(T, fw.tensor(x0, requires_grad=True), c1, c2, n), g
                out.append(Case(fw, setup, lambda s: s[0].backward(s[1])))
            else:
                def setup(fw=fw):
                    return fw.tensor(x0, requires_grad=True)
                out.append(Case(fw, setup, lambda x, T=T, c1=c1, c2=c2: _chain(T, x, c1, c2, n)))
        return out

    rows = []
    # NOTE: a sample is one chain (about a millisecond), so this section takes 5x the repeats: on a shared
    # machine the median of 10 such short samples still moved the ratio by +-0.15 from run to run
    for label, backward in (("forward", False), ("backward", True)):
        t_ours, t_ref = measure(cases(backward), cfg.warmup, 5 * cfg.repeats)
        rows.append(Row("per_op", f"{label}, per op ({n}-op chain, {cfg.chain_numel} elems)", t_ours / n, t_ref / n))
    return rows


# ------------------------------------------------------------------------------------------------ 2. launch floor

EMPTY_KERNEL = 'extern "C" __global__ void empty_kernel() {}'


def launch_floor(ours: Framework, ref: Framework, cfg: Config) -> list[Row]:
    """GPU only: one of our RawKernel backward ops on a 1-element array against CuPy and PyTorch launches."""
    import cupy

    from autograd_gpu import _kernels

    g, y = cupy.ones(1, cupy.float32), cupy.full(1, 0.5, cupy.float32)
    tg, ty = ref.T.ones(1, device="cuda"), ref.T.full((1,), 0.5, device="cuda")
    empty = cupy.RawKernel(EMPTY_KERNEL, "empty_kernel")
    k = cfg.launches

    def loop(fn):
        def run(_):
            for _ in range(k):
                fn()
        return run

    cases = [
        Case(ours, lambda: None, loop(lambda: _kernels.run_kernel("tanh_bwd", g, y))),
        Case(ours, lambda: None, loop(lambda: cupy.multiply(g, y))),
        Case(ours, lambda: None, loop(lambda: empty((1,), (1,), ()))),
        Case(ref, lambda: None, loop(lambda: ref.T.ops.aten.tanh_backward(tg, ty))),
    ]
    t_kernel, t_ufunc, t_empty, t_torch = (t / k for t in measure(cases, cfg.warmup, cfg.repeats))
    name = "tanh_bwd kernel, 1 elem, per launch"
    return [Row("launch_floor", name, t_kernel, t_ufunc, ref_name="cupy.multiply ufunc"),
            Row("launch_floor", name, t_kernel, t_empty, ref_name="empty cupy.RawKernel"),
            Row("launch_floor", name, t_kernel, t_torch, ref_name="aten.tanh_backward")]


# ------------------------------------------------------------------------------------------------ 3. bandwidth

# Bytes each framework must move for forward + backward, as multiples of n * itemsize (same formula for both):
# tanh: read x, write y; backward reads g and y, writes gx.
# mul: read a and b, write z; backward reads g, a and b, writes ga and gb.
BYTES_PER_ELEMENT = {"tanh": 2 + 3, "mul": 3 + 5}


def copy_bandwidth(fw: Framework, cfg: Config, log2: int) -> float:
    """Device-to-device (or host memory) copy bandwidth in GB/s: read + write of 2**log2 float32."""
    n = 2 ** log2
    if fw.gpu:
        import cupy
        src = cupy.ones(n, cupy.float32)
        dst = cupy.empty_like(src)
        copy = cupy.copyto
    else:
        src = np.ones(n, np.float32)
        dst = np.empty_like(src)
        copy = np.copyto
    (t,) = measure([Case(fw, lambda: None, lambda _: copy(dst, src))], cfg.warmup, max(cfg.repeats, 5))
    return 2 * n * 4 / t / 1e9


def bandwidth(ours: Framework, ref: Framework, cfg: Config) -> tuple[list[Row], dict]:
    """tanh and mul, forward + backward, for 2^10 ... 2^max_log2 elements: time ratio and effective GB/s."""
    copy_log2 = min(26, cfg.max_log2)
    copy_gbs = copy_bandwidth(ours, cfg, copy_log2)
    rng = np.random.default_rng(SEED)
    rows = []
    sizes = sorted(set(range(10, cfg.max_log2 + 1, 2)) | {cfg.max_log2})
    for log2 in sizes:
        n = 2 ** log2
        # uniform in [-1, 1): the times do not depend on the values, and 2^28 normals would take seconds
        a0, b0, g0 = (rng.random(n, dtype=np.float32) * 2 - 1 for _ in range(3))
        repeats = cfg.repeats if log2 < 22 else max(min(cfg.repeats, 5), 2 if cfg.quick else 5)
        for op in ("tanh", "mul"):
            cases = []
            for fw in (ours, ref):
                a, b, g = fw.tensor(a0, True), fw.tensor(b0, True), fw.tensor(g0)

                def setup(a=a, b=b):
                    a.grad = b.grad = None
                    return None

                if op == "tanh":
                    run = (lambda _, a=a, g=g, T=fw.T: T.tanh(a).backward(g))
                else:
                    run = (lambda _, a=a, b=b, g=g: (a * b).backward(g))
                cases.append(Case(fw, setup, run))
            t_ours, t_ref = measure(cases, cfg.warmup, repeats)
            del cases, a, b, g
            nbytes = BYTES_PER_ELEMENT[op] * n * 4
            gbs_ours, gbs_ref = nbytes / t_ours / 1e9, nbytes / t_ref / 1e9
            pct_ours, pct_ref = 100 * gbs_ours / copy_gbs, 100 * gbs_ref / copy_gbs
            rows.append(Row("bandwidth", f"{op} fwd+bwd 2^{log2}", t_ours, t_ref,
                            note=f"{gbs_ours:.1f} vs {gbs_ref:.1f} GB/s = {pct_ours:.0f}% vs {pct_ref:.0f}% of copy",
                            extra={"log2": log2, "op": op, "bytes": nbytes, "ours_gbs": gbs_ours,
                                   "ref_gbs": gbs_ref, "ours_pct_copy": pct_ours, "ref_pct_copy": pct_ref}))
        del a0, b0, g0
        _release(ours)
    return rows, {"copy_log2": copy_log2, "copy_gbs": copy_gbs,
                  "bytes_per_element": {k: v * 4 for k, v in BYTES_PER_ELEMENT.items()}}


def _release(fw: Framework):
    if fw.gpu:
        import cupy
        cupy.get_default_memory_pool().free_all_blocks()


# ------------------------------------------------------------------------------------------------ models

def _uniform(rng, shape, fan_in):
    bound = 1 / math.sqrt(fan_in)  # PyTorch's default Linear/Conv2d init range
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


class Model:
    """A small network written once against the torch API, so the same code builds it in either framework;
    its weights come from numpy (the same numbers on both sides) and `params` keeps a fixed order."""

    def __init__(self, fw: Framework):
        self.fw, self.T = fw, fw.T
        self.params: list = []

    def _layer(self, layer, weight, bias):
        layer.weight.data = self.fw.tensor(weight)
        layer.bias.data = self.fw.tensor(bias)
        self.params += [layer.weight, layer.bias]
        return layer

    def linear(self, rng, n_in, n_out):
        return self._layer(self.T.nn.Linear(n_in, n_out), _uniform(rng, (n_out, n_in), n_in),
                           _uniform(rng, (n_out,), n_in))

    def conv3x3(self, rng, c_in, c_out):
        fan = c_in * 9
        return self._layer(self.T.nn.Conv2d(c_in, c_out, 3, padding=1), _uniform(rng, (c_out, c_in, 3, 3), fan),
                           _uniform(rng, (c_out,), fan))

    def __call__(self, x):
        return self.forward(x)


class MLP(Model):
    def __init__(self, fw, sizes, seed=SEED):
        super().__init__(fw)
        rng = np.random.default_rng(seed)
        self.layers = [self.linear(rng, i, o) for i, o in zip(sizes[:-1], sizes[1:])]

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.T.relu(layer(x))
        return self.layers[-1](x)


class CNN(Model):
    """conv3x3(1->16) relu maxpool2, conv3x3(16->32) relu maxpool2, linear(32*7*7 -> 10), on 1x28x28."""

    def __init__(self, fw, channels=(16, 32), seed=SEED):
        super().__init__(fw)
        rng = np.random.default_rng(seed)
        c1, c2 = channels
        self.conv1, self.conv2 = self.conv3x3(rng, 1, c1), self.conv3x3(rng, c1, c2)
        self.pool = self.T.nn.MaxPool2d(2)
        self.fc = self.linear(rng, c2 * 7 * 7, 10)

    def forward(self, x):
        T = self.T
        x = self.pool(T.relu(self.conv1(x)))
        x = self.pool(T.relu(self.conv2(x)))
        return self.fc(x.reshape(x.shape[0], -1))


# ------------------------------------------------------------------------------------------------ 4.-6. training

@dataclass
class TrainSpec:
    section: str
    name: str
    build: object  # fw -> Model
    input_shape: tuple
    optim: str
    optim_kw: dict


def train_specs(quick: bool) -> list[TrainSpec]:
    """The issue's train steps; --quick shrinks widths and batches so the smoke run takes seconds."""
    if quick:
        return [
            TrainSpec("mlp", "784-32-10, batch 8, SGD momentum (quick)", lambda fw: MLP(fw, (784, 32, 10)),
                      (8, 784), "SGD", {"lr": 0.01, "momentum": 0.9}),
            TrainSpec("mlp", "784-32-32-10, batch 8, Adam (quick)", lambda fw: MLP(fw, (784, 32, 32, 10)),
                      (8, 784), "Adam", {"lr": 1e-3}),
            TrainSpec("cnn", "2x conv3x3+relu+maxpool, linear; 1x28x28, batch 2, Adam (quick)",
                      lambda fw: CNN(fw, channels=(2, 4)), (2, 1, 28, 28), "Adam", {"lr": 1e-3}),
        ]
    return [
        TrainSpec("mlp", "784-256-10, batch 128, SGD momentum", lambda fw: MLP(fw, (784, 256, 10)),
                  (128, 784), "SGD", {"lr": 0.01, "momentum": 0.9}),
        TrainSpec("mlp", "784-512-512-10, batch 1024, Adam", lambda fw: MLP(fw, (784, 512, 512, 10)),
                  (1024, 784), "Adam", {"lr": 1e-3}),
        TrainSpec("cnn", "2x conv3x3+relu+maxpool, linear; 1x28x28, batch 64, Adam", CNN, (64, 1, 28, 28),
                  "Adam", {"lr": 1e-3}),
    ]


class Trainer:
    """One framework's model, optimizer, loss and (fixed) batch; `step()` is one train step."""

    def __init__(self, fw: Framework, spec: TrainSpec):
        rng = np.random.default_rng(SEED + 1)
        self.fw = fw
        self.model = spec.build(fw)
        self.opt = getattr(fw.T.optim, spec.optim)(self.model.params, **spec.optim_kw)
        self.loss_fn = fw.T.nn.CrossEntropyLoss()
        self.x = fw.tensor(rng.standard_normal(spec.input_shape, dtype=np.float32))
        self.y = fw.T.tensor(rng.integers(0, 10, spec.input_shape[0]), device=fw.device)

    def step(self, _=None):
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss


def train(ours: Framework, ref: Framework, cfg: Config) -> tuple[list[Row], list[dict], list[Row]]:
    """Train-step times (MLPs, CNN), the loss agreement check, and the peak memory of a step."""
    rows, checks, memory = [], [], []
    for spec in train_specs(cfg.quick):
        a, b = Trainer(ours, spec), Trainer(ref, spec)
        la = [float(a.step().item()) for _ in range(cfg.loss_steps)]
        lb = [float(b.step().item()) for _ in range(cfg.loss_steps)]
        diffs = [abs(x - y) for x, y in zip(la, lb)]
        rel = [d / max(abs(y), 1e-12) for d, y in zip(diffs, lb)]
        checks.append({"workload": f"{spec.section} {spec.name}", "ours": la, "ref": lb, "max_abs_diff": max(diffs),
                       "max_rel_diff": max(rel), "rtol": cfg.loss_rtol, "ok": max(rel) <= cfg.loss_rtol})
        t_ours, t_ref = measure([Case(ours, lambda: None, a.step), Case(ref, lambda: None, b.step)],
                                cfg.warmup, cfg.repeats)
        rows.append(Row(spec.section, f"train step {spec.name}", t_ours, t_ref))
        if spec.optim == "Adam":  # one MLP (the 784-512-512-10) and the CNN
            memory.append(Row("peak_memory", f"{spec.section} step {spec.name}", peak_bytes(a), peak_bytes(b),
                              unit="B", note=_memory_note(ours)))
        del a, b
        _release(ours)
    return rows, checks, memory


def _memory_note(fw: Framework) -> str:
    if fw.gpu:
        return "above pre-step live bytes: CuPy pool hook vs torch.cuda.max_memory_allocated"
    return "allocated in the step: tracemalloc vs torch.profiler allocation events"


def peak_bytes(trainer: Trainer) -> float | None:
    """Peak bytes allocated during one (warm) train step, above what was live before it."""
    fw = trainer.fw
    if not fw.gpu:
        if fw.is_torch:
            return _torch_cpu_peak(trainer.step)
        # NOTE: numpy reports its data buffers to tracemalloc; the peak also counts the Python objects of the
        # graph (a few KB against the MBs of arrays), which torch keeps in C++ outside its allocator.
        tracemalloc.start()
        try:
            trainer.step()
            return float(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    if fw.is_torch:
        cuda = fw.T.cuda
        cuda.synchronize()
        base = cuda.memory_allocated()
        cuda.reset_peak_memory_stats()
        trainer.step()
        cuda.synchronize()
        return float(cuda.max_memory_allocated() - base)
    import cupy
    hook = _PoolHighWater(cupy.get_default_memory_pool().used_bytes())
    fw.sync()
    with hook:
        trainer.step()
        fw.sync()
    return float(hook.peak - hook.base)


def _torch_cpu_peak(step) -> float | None:
    """High-water mark of torch's CPU allocator during step(): the running sum of the allocation and free
    events that torch.profiler(profile_memory=True) records (each with its signed size). None if this
    torch's (private) event tree is not readable."""
    from torch.profiler import ProfilerActivity, profile
    try:
        from torch._C._profiler import _EventType
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            step()
        sizes = []
        stack = list(prof.profiler.kineto_results.experimental_event_tree())
        while stack:
            node = stack.pop()
            if node.tag == _EventType.Allocation and str(node.extra_fields.device) == "cpu":
                sizes.append((node.start_time_ns, node.extra_fields.alloc_size))
            stack.extend(node.children)
    except Exception:
        return None
    now = peak = 0
    for _, size in sorted(sizes):
        now += size
        peak = max(peak, now)
    return float(peak)


def _pool_high_water_class():
    import cupy

    class PoolHighWater(cupy.cuda.MemoryHook):
        """The high-water mark of CuPy's pool `used_bytes`, tracked through malloc/free hooks."""

        name = "PoolHighWater"

        def __init__(self, base):
            self.base = self.used = self.peak = base

        def malloc_postprocess(self, **kw):
            self.used += kw["mem_size"]
            self.peak = max(self.peak, self.used)

        def free_postprocess(self, **kw):
            self.used -= kw["mem_size"]

    return PoolHighWater


def _PoolHighWater(base):
    return _pool_high_water_class()(base)

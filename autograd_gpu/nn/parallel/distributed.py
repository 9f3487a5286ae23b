"""DistributedDataParallel: every rank holds the whole module; gradients are averaged over the ranks in buckets
whose all-reduce starts as soon as the bucket's last gradient is ready during backward."""
import contextlib

from ... import distributed as dist
from ...autograd import engine, grad_mode
from ...tensor import Tensor
from ..modules.module import Module

_MiB = 1024 * 1024
_FIRST_BUCKET_BYTES = _MiB  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES: the first bucket reduced is small

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs participate "
    "in calculating loss.")


class _Bucket:
    """Parameters whose gradients are averaged by one all-reduce of one contiguous buffer (on the GPU, one device
    array, packed and unpacked by device copies)."""

    def __init__(self, params, xp, dtype):
        self.params = params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p.numel()
        self.flat = Tensor._make(xp.zeros(n, dtype))
        self.views = [Tensor._make(self.flat._data[o:o + p.numel()].reshape(p.shape))
                      for o, p in zip(self.offsets, params)]
        self.pending = len(params)
        self.work = None

    def slot(self, i):
        return self.views[i]._data


def _assign_buckets(params, bucket_cap_mb):
    """Buckets in reverse parameter order (the order backward roughly produces gradients, as PyTorch assigns
    them), one dtype and device per bucket, the first one up to 1 MiB (or bucket_cap_mb, when smaller), the others
    up to bucket_cap_mb."""
    buckets, current, size, cap = [], {}, {}, {}
    for p in reversed(params):
        key = (p.dtype, p.device)
        limit = cap.setdefault(key, min(_FIRST_BUCKET_BYTES, bucket_cap_mb * _MiB))
        current.setdefault(key, []).append(p)
        size[key] = size.get(key, 0) + p.numel() * p.element_size()
        if size[key] >= limit:
            buckets.append(current.pop(key))
            size[key], cap[key] = 0, bucket_cap_mb * _MiB
    buckets.extend(current.values())
    return buckets


class DistributedDataParallel(Module):
    """Data parallelism: wrap the model of each rank (one process per GPU, or per CPU rank).

    >>> dist.init_process_group("mpi")
    >>> model = nn.parallel.DistributedDataParallel(net)   # rank 0's parameters and buffers, everywhere
    >>> loss_fn(model(x), y).backward()                    # gradients averaged over the ranks
    >>> with model.no_sync(): loss_fn(model(x1), y1).backward()   # accumulate locally, sync on the next one

    Differences from PyTorch: the buckets stay as assigned at construction (PyTorch rebuilds them once, in the
    order the first backward produced the gradients); one device per module; no communication hooks.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        self.process_group = dist._world(process_group)
        all_params = list(module.parameters())
        devices = {p.device for p in all_params}
        if len(devices) > 1:
            raise ValueError(f"DistributedDataParallel's input module must be on the same type of devices, but "
                             f"input module parameters locate in {devices}.")
        if device_ids is not None and (all_params and all_params[0].device.type == "cpu"):
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
        params = [p for p in all_params if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * _MiB)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        if init_sync:
            self._broadcast(all_params + [b for b in module.buffers()])
        xp = params[0]._xp
        self._buckets = [_Bucket(ps, xp, ps[0]._data.dtype)
                         for ps in _assign_buckets(params, self.bucket_bytes_cap / _MiB)]
        self._where = {}  # id(param) -> (bucket, index in it)
        for b in self._buckets:
            for i, p in enumerate(b.params):
                self._where[id(p)] = (b, i)
        self._params = params
        self._index = {id(p): k for k, p in enumerate(params)}
        self._ready = set()
        self._next = 0
        self._syncing = False  # whether the coming backward averages the gradients
        self._queued = False
        self._unfinished = False
        self._used = None  # find_unused_parameters: 1 per parameter this rank's forward used
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    @staticmethod
    def _broadcast(tensors):
        works = [dist.broadcast(t.detach(), 0, async_op=True) for t in tensors if t is not None]
        for w in works:
            w.wait()

    # ---- forward ---------------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._unfinished:
            raise RuntimeError(_UNFINISHED)
        if self.require_forward_param_sync and self.broadcast_buffers:
            self._broadcast(list(self.module.buffers()))
        out = self.module(*inputs, **kwargs)
        if grad_mode.is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(out)
        else:
            self._syncing = False
        return out

    def _prepare_for_backward(self, out):
        self._syncing, self._queued = True, False
        self._ready.clear()
        for b in self._buckets:
            b.pending, b.work = len(b.params), None
        self._next = 0  # the first bucket whose all-reduce has not started
        if not self.find_unused_parameters:
            return
        reached = _leaves_reached(out)
        xp = self._params[0]._xp
        self._used = xp.array([id(p) in reached for p in self._params], dtype="float32")
        for p in self._params:
            if id(p) not in reached:  # its gradient is ready now: nothing of this forward will produce it
                b, i = self._where[id(p)]
                b.slot(i)[...] = 0
                self._mark_ready(p, b)

    # ---- backward: the post-accumulate-grad hooks, then the engine's final callback ----------------------------
    def _grad_ready(self, p):
        if not self._syncing:
            return
        if not self._queued:
            engine.queue_callback(self._finalize)
            self._queued = True
        b, i = self._where[id(p)]
        if p._grad is not b.views[i]:
            b.slot(i)[...] = p._grad._data
        self._mark_ready(p, b)

    def _mark_ready(self, p, b):
        """p's gradient is in its bucket's slot: start the all-reduces of the buckets now complete."""
        if id(p) in self._ready:
            raise RuntimeError("Expected to mark a variable ready only once. This error is caused by one of the "
                               "following reasons: 1) Use of a module parameter outside the `forward` function. "
                               "2) Reused parameters in multiple reentrant backward passes.")
        self._ready.add(id(p))
        b.pending -= 1
        # NOTE: the buckets' all-reduces start in bucket order, the same on every rank (collectives must be
        # called in one order everywhere), even when a later bucket is ready first
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            nb = self._buckets[self._next]
            # PyTorch's default communication: divide by the world size, then sum
            p._xp.true_divide(nb.flat._data, self.process_group.size(), out=nb.flat._data)
            nb.work = dist.all_reduce(nb.flat, async_op=True)
            self._next += 1
        for done in self._buckets[:self._next]:
            # NOTE: MPI moves a nonblocking collective's data only inside MPI calls: asking drives the
            # started all-reduces on while backward goes on (on the GPU it asks the event, without blocking)
            done.work.is_completed()

    def _finalize(self):
        self._syncing = False
        if any(b.work is None for b in self._buckets):
            self._unfinished = True  # (PyTorch reports it at the next forward)
        used = None
        if self.find_unused_parameters:
            used = Tensor._make(self._used)
            dist.all_reduce(used)
        for b in self._buckets:
            if b.work is None:
                continue
            b.work.wait()
            for i, p in enumerate(b.params):
                if used is not None and p._grad is None:
                    if not bool(used._data[self._index[id(p)]]):  # NOTE: a host read, of the parameters no rank used
                        continue
                self._unpack(p, b, i)

    def _unpack(self, p, b, i):
        view = b.views[i]
        if self.gradient_as_bucket_view:
            if p._grad is not view:
                p._grad = view
        elif p._grad is None:
            p._grad = Tensor._make(view._data.copy())
        else:
            p._grad._data[...] = view._data

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside accumulate the gradients locally; the first one outside
        averages what was accumulated.

        >>> with ddp.no_sync():
        ...     loss_fn(ddp(x1), y1).backward()
        >>> loss_fn(ddp(x2), y2).backward()
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old


def _leaves_reached(out):
    """ids of the leaf tensors whose AccumulateGrad the graphs of the tensors in `out` reach."""
    stack, seen, leaves = [], set(), set()
    _collect(out, stack)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, engine.AccumulateGrad):
            leaves.add(id(node.variable))
            continue
        stack.extend(c for c, _ in node.next_functions)
    return leaves


def _collect(obj, stack):
    if isinstance(obj, Tensor):
        if obj.grad_fn is not None:
            stack.append(obj.grad_fn)
        elif obj.requires_grad:
            stack.append(obj._grad_accumulator())
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _collect(o, stack)
    elif isinstance(obj, dict):
        for o in obj.values():
            _collect(o, stack)

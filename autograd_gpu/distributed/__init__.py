"""torch.distributed: one process per rank, collectives over NCCL (CUDA tensors, through cupyx.distributed) or MPI
(CPU tensors, and CUDA tensors where the MPI is CUDA-aware, through mpi4py).

>>> import autograd_gpu.distributed as dist
>>> dist.init_process_group("mpi")          # under mpiexec or python -m autograd_gpu.distributed.run
>>> t = torch.ones(3) * dist.get_rank()
>>> dist.all_reduce(t, op=dist.ReduceOp.SUM)

The checks here (tensor types, devices, sizes, ranks) are the front end's; a backend gets arrays that fit.
Nothing touches CUDA or MPI at import: a backend's module is imported by init_process_group.
"""
import enum
import os

from ..tensor import Tensor
from ._work import Work

__all__ = ["ReduceOp", "Work", "init_process_group", "is_initialized", "is_available", "is_mpi_available",
           "is_nccl_available", "get_backend", "get_rank", "get_world_size", "barrier", "destroy_process_group",
           "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor", "reduce",
           "gather", "scatter", "send", "recv", "isend", "irecv", "group"]


class ReduceOp(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self):
        return f"RedOpType.{self.name}"


class ProcessGroup:
    """The world: this process's rank, the number of ranks and the backend that moves the data."""

    def __init__(self, backend_name, impl):
        self.backend_name, self._impl = backend_name, impl

    def rank(self):
        return self._impl.rank

    def size(self):
        return self._impl.size


class group:  # noqa: N801 (PyTorch's name)
    WORLD = None


_NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."


def is_available():
    return True


def is_mpi_available():
    try:
        import mpi4py  # noqa: F401  (the package only: MPI itself starts when the backend is chosen)
    except ImportError:
        return False
    return True


def is_nccl_available():
    try:
        from cupy.cuda import nccl
    except Exception:  # no CuPy, or a broken CUDA install
        return False
    return bool(getattr(nccl, "available", False))


def is_initialized():
    return group.WORLD is not None


def _world(g=None):
    if group.WORLD is None:
        raise ValueError(_NOT_INIT)
    if g is not None and g is not group.WORLD:
        raise ValueError("only the default process group (group=None or group.WORLD) is supported")
    return group.WORLD


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the world of `world_size` processes as `rank`.

    backend "mpi": rank and size are MPI's (the processes are started by mpiexec, or by
    `python -m autograd_gpu.distributed.run`, which uses it); RANK / WORLD_SIZE, when set, must agree.
    backend "nccl": rank and world size from the arguments or RANK / WORLD_SIZE, the NCCL id exchanged through
    cupyx.distributed's TCP store at MASTER_ADDR:MASTER_PORT (init_method "env://", or "tcp://host:port");
    each process uses the current CUDA device (set it from LOCAL_RANK with autograd_gpu.cuda.set_device).
    """
    if group.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is None:
        from .. import cuda  # layering: a peer module of the api layer
        backend = "nccl" if cuda.is_available() else "mpi"
    backend = str(backend).lower()
    rank = _from_env("RANK", rank)
    world_size = _from_env("WORLD_SIZE", world_size)
    if backend == "mpi":
        from ._mpi import MPIBackend  # layering: importing mpi4py.MPI starts MPI: only when it is chosen
        impl = MPIBackend(rank, world_size)
    elif backend == "nccl":
        from ._nccl import NCCLBackend  # layering: it imports CuPy: only when it is chosen
        if rank < 0 or world_size < 0:
            missing = "RANK" if rank < 0 else "WORLD_SIZE"
            raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment variable "
                             f"{missing} expected, but not set")
        host, port = _master(init_method)
        impl = NCCLBackend(rank, world_size, host, port)
    else:
        raise ValueError(f"Invalid backend: '{backend}' (this build has 'nccl' and 'mpi')")
    group.WORLD = ProcessGroup(backend, impl)


def _from_env(name, value):
    if value is not None and value >= 0:
        return value
    v = os.environ.get(name)
    return int(v) if v is not None else -1


def _master(init_method):
    if init_method and init_method.startswith("tcp://"):
        host, _, port = init_method[len("tcp://"):].rpartition(":")
        return host, int(port)
    if init_method not in (None, "env://"):
        raise ValueError(f"unsupported init_method {init_method!r} (env:// or tcp://host:port)")
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if name not in os.environ:
            raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment variable "
                             f"{name} expected, but not set")
    return os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])


def destroy_process_group(group=None):
    pg = _world(group)
    pg._impl.close()
    globals()["group"].WORLD = None


def get_backend(group=None):
    return _world(group).backend_name


def get_rank(group=None):
    return _world(group).rank()


def get_world_size(group=None):
    return _world(group).size()


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


# ---- checks: PyTorch's messages ------------------------------------------------------------------------------
def _check_tensor(t, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
                        f"             but got {type(t)} instead.")


def _check_list(ts, name):
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n"
                        f"             but got {type(ts)} instead.")


def _arrays(pg, *tensors):
    """The arrays of tensors the backend can move, each checked for its device and layout."""
    out = []
    for t in tensors:
        pg._impl.check_device(t)
        if not t.is_contiguous():
            raise RuntimeError("Tensors must be contiguous")
        out.append(t._data)
    return out


def _check_same(pg, ts, like, what):
    if len(ts) != pg.size():
        raise RuntimeError(f"{what}: number of output tensors should equal to the world size")
    for t in ts:
        if t.shape != like.shape or t.dtype != like.dtype:
            raise RuntimeError("Tensors are not equal in size or data type")


def _check_rank(pg, r, what):
    if not 0 <= r < pg.size():
        raise ValueError(f"Invalid {what} rank: {r} (the world has ranks 0 to {pg.size() - 1})")


def _op(op):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"op must be a ReduceOp, got {op!r}")
    return op


# ---- collectives --------------------------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over all ranks, in place on every rank."""
    _check_tensor(tensor)
    pg = _world(group)
    (a,) = _arrays(pg, tensor)
    return _finish(pg._impl.all_reduce(a, _op(op)), async_op)


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank `src`'s `tensor` into every rank's `tensor`."""
    _check_tensor(tensor)
    pg = _world(group)
    _check_rank(pg, src, "source")
    (a,) = _arrays(pg, tensor)
    return _finish(pg._impl.broadcast(a, src), async_op)


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over all ranks into rank `dst`'s `tensor` (the others' are left as they were)."""
    _check_tensor(tensor)
    pg = _world(group)
    _check_rank(pg, dst, "destination")
    (a,) = _arrays(pg, tensor)
    return _finish(pg._impl.reduce(a, dst, _op(op)), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] = rank r's `tensor`, on every rank."""
    _check_list(tensor_list, "tensor_list")
    _check_tensor(tensor)
    pg = _world(group)
    _check_same(pg, tensor_list, tensor, "All gather")
    a, *outs = _arrays(pg, tensor, *tensor_list)
    return _finish(pg._impl.all_gather(outs, a), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """The ranks' `input_tensor`s concatenated along dim 0 (or stacked, for an output of shape (world, ...))."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    pg = _world(group)
    if output_tensor.dtype != input_tensor.dtype:
        raise RuntimeError("output tensor must have the same type as input tensor")
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise RuntimeError("output tensor size must be equal to world_size times input tensor size")
    o, a = _arrays(pg, output_tensor, input_tensor)
    return _finish(pg._impl.all_gather([o.reshape((pg.size(),) + a.shape)], a, into=True), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` over all ranks and give rank r its r-th slice along dim 0 in `output`."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _world(group)
    if output.dtype != input.dtype:
        raise RuntimeError("input tensor must be the same type as the output tensor.")
    if input.numel() != output.numel() * pg.size():
        raise RuntimeError("input tensor must be the same size as output size times world size")
    o, a = _arrays(pg, output, input)
    return _finish(pg._impl.reduce_scatter(o, a, _op(op)), async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """gather_list[r] = rank r's `tensor`, on rank `dst` (the others pass no list)."""
    _check_tensor(tensor)
    pg = _world(group)
    _check_rank(pg, dst, "destination")
    if pg.rank() == dst:
        _check_list(gather_list if gather_list is not None else [None], "gather_list")
        _check_same(pg, gather_list, tensor, "Gather")
        a, *outs = _arrays(pg, tensor, *gather_list)
    else:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
        (a,), outs = _arrays(pg, tensor), None
    return _finish(pg._impl.gather(a, outs, dst), async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Rank r's `tensor` = scatter_list[r] of rank `src` (the others pass no list)."""
    _check_tensor(tensor)
    pg = _world(group)
    _check_rank(pg, src, "source")
    if pg.rank() == src:
        _check_list(scatter_list if scatter_list is not None else [None], "scatter_list")
        if len(scatter_list) != pg.size():
            raise RuntimeError("Scatter: number of input tensors should equal to the world size")
        for t in scatter_list:
            if t.shape != tensor.shape or t.dtype != tensor.dtype:
                raise RuntimeError("Tensors are not equal in size or data type")
        a, *ins = _arrays(pg, tensor, *scatter_list)
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        (a,), ins = _arrays(pg, tensor), None
    return _finish(pg._impl.scatter(a, ins, src), async_op)


def isend(tensor, dst, group=None, tag=0):
    """Send `tensor` to rank `dst`; returns the Work."""
    _check_tensor(tensor)
    pg = _world(group)
    _check_rank(pg, dst, "destination")
    if dst == pg.rank():
        raise ValueError("Invalid destination rank: destination rank should not be the same as the rank of the "
                         "current process.")
    (a,) = _arrays(pg, tensor)
    return pg._impl.send(a, dst, tag)


def irecv(tensor, src=None, group=None, tag=0):
    """Receive into `tensor` from rank `src` (None: any rank); returns the Work."""
    _check_tensor(tensor)
    pg = _world(group)
    if src is not None:
        _check_rank(pg, src, "source")
        if src == pg.rank():
            raise ValueError("Invalid source rank: source rank should not be the same as the rank of the current "
                             "process.")
    (a,) = _arrays(pg, tensor)
    return pg._impl.recv(a, src, tag)


def send(tensor, dst, group=None, tag=0):
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into `tensor`; returns the sender's rank."""
    work = irecv(tensor, src, group, tag)
    work.wait()
    return work._source


def barrier(group=None, async_op=False, device_ids=None):
    return _finish(_world(group)._impl.barrier(), async_op)

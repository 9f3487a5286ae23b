"""The "mpi" backend: mpi4py's nonblocking collectives on the arrays of CPU tensors (and of CUDA tensors, where
the MPI is CUDA-aware). Importing this module starts MPI (init_process_group does, for backend="mpi")."""
import numpy as np
from mpi4py import MPI

from .. import _device
from ._work import Work

_OPS = {"SUM": MPI.SUM, "AVG": MPI.SUM, "PRODUCT": MPI.PROD, "MIN": MPI.MIN, "MAX": MPI.MAX}


class _MPIWork(Work):
    def __init__(self, requests, complete=None):
        super().__init__()
        self._requests, self._then = requests, complete
        self._status = MPI.Status()

    def _wait(self):
        if len(self._requests) == 1:
            self._requests[0].Wait(self._status)
        else:
            MPI.Request.Waitall(self._requests)

    def _test(self):
        return MPI.Request.Testall(self._requests)

    def _complete(self):
        self._source = self._status.Get_source()
        if self._then is not None:
            self._then()


def _divide(a, n):
    def then():
        a[...] = a / n if a.dtype.kind == "f" else a // n
    return then


def _xp(a):
    return np if isinstance(a, np.ndarray) else _device.cupy()  # (CuPy: a CUDA-aware MPI's device buffer)


def _ready(a):
    """MPI reads device memory from the host's side: the kernels that write it must have run.
    NOTE: a host synchronisation, which PyTorch's MPI backend makes as well for CUDA tensors."""
    if not isinstance(a, np.ndarray):
        _device.cupy().cuda.get_current_stream().synchronize()


class MPIBackend:
    def __init__(self, rank, world_size):
        self.comm = MPI.COMM_WORLD.Dup()
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        if world_size >= 0 and world_size != self.size:
            self.comm.Free()
            raise RuntimeError(f"the mpi backend takes its world from MPI: WORLD_SIZE / world_size is {world_size} but "
                               f"MPI's world has {self.size} process(es); start the processes with mpiexec -n "
                               f"{world_size} (or python -m autograd_gpu.distributed.run, which uses it)")
        if rank >= 0 and rank != self.rank:
            self.comm.Free()
            raise RuntimeError(f"the mpi backend takes its rank from MPI: RANK / rank is {rank} but MPI's is {self.rank}")
        query = getattr(MPI, "Query_cuda_support", None)
        self._cuda_aware = bool(query()) if query is not None else False

    def check_device(self, t):
        if t.is_cuda and not self._cuda_aware:
            raise RuntimeError("CUDA tensor detected and the MPI used doesn't have CUDA-aware MPI support")

    def close(self):
        self.comm.Free()

    def _reduced(self, requests, a, op):
        return _MPIWork(requests, _divide(a, self.size) if op.name == "AVG" else None)

    def all_reduce(self, a, op):
        _ready(a)
        return self._reduced([self.comm.Iallreduce(MPI.IN_PLACE, a, _OPS[op.name])], a, op)

    def broadcast(self, a, src):
        _ready(a)
        return _MPIWork([self.comm.Ibcast(a, root=src)])

    def reduce(self, a, dst, op):
        _ready(a)
        if self.rank == dst:
            return self._reduced([self.comm.Ireduce(MPI.IN_PLACE, a, _OPS[op.name], root=dst)], a, op)
        return _MPIWork([self.comm.Ireduce(a, None, _OPS[op.name], root=dst)])

    def all_gather(self, outs, a, into=False):
        _ready(a)
        if into:
            return _MPIWork([self.comm.Iallgather(a, outs[0])])
        out = _xp(a).empty((self.size,) + a.shape, a.dtype)
        return _MPIWork([self.comm.Iallgather(a, out)], _copy_out(out, outs))

    def reduce_scatter(self, o, a, op):
        _ready(a)
        return self._reduced([self.comm.Ireduce_scatter_block(a, o, _OPS[op.name])], o, op)

    def gather(self, a, outs, dst):
        _ready(a)
        if outs is None:
            return _MPIWork([self.comm.Igather(a, None, root=dst)])
        out = _xp(a).empty((self.size,) + a.shape, a.dtype)
        return _MPIWork([self.comm.Igather(a, out, root=dst)], _copy_out(out, outs))

    def scatter(self, a, ins, src):
        if ins is None:
            return _MPIWork([self.comm.Iscatter(None, a, root=src)])
        stacked = _xp(a).stack(ins)
        _ready(stacked)
        return _MPIWork([self.comm.Iscatter(stacked, a, root=src)])

    def send(self, a, dst, tag):
        _ready(a)
        return _MPIWork([self.comm.Isend(a, dst, tag)])

    def recv(self, a, src, tag):
        return _MPIWork([self.comm.Irecv(a, MPI.ANY_SOURCE if src is None else src, tag)])

    def barrier(self):
        return _MPIWork([self.comm.Ibarrier()])


def _copy_out(out, outs):
    def then():
        for i, o in enumerate(outs):
            o[...] = out[i]
    return then

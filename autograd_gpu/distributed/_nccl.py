"""The "nccl" backend: cupyx.distributed's NCCLBackend (NCCL, with its TCP store for the NCCL id exchange) on the
arrays of CUDA tensors. Importing this module imports CuPy; init_process_group does, for backend="nccl".

Each collective runs on one communication stream, ordered after the work queued so far on the current stream
(an event), so it overlaps the compute queued after it; its Work's wait() orders the current stream after it (an
event again): nothing blocks the host, as in PyTorch's NCCL backend.
NOTE: as with PyTorch's, a tensor handed to an async collective must be kept (not freed) until wait().
"""
import cupy
import cupyx.distributed

from ._work import Work

_OPS = {"SUM": "sum", "AVG": "sum", "PRODUCT": "prod", "MIN": "min", "MAX": "max"}


class _NCCLWork(Work):
    def __init__(self, event):
        super().__init__()
        self._event = event

    def _wait(self):
        cupy.cuda.get_current_stream().wait_event(self._event)

    def _test(self):
        return self._event.done


class NCCLBackend:
    def __init__(self, rank, world_size, host, port):
        self.rank, self.size = rank, world_size
        self._comm = cupyx.distributed.NCCLBackend(world_size, rank, host=host, port=port)
        self._stream = cupy.cuda.Stream(non_blocking=True)

    def check_device(self, t):
        if not t.is_cuda:
            raise RuntimeError("No backend type associated with device type cpu")

    def close(self):
        self._comm.stop()

    def _launch(self, run):
        """run(stream) on the communication stream, after what the current stream has queued."""
        self._stream.wait_event(cupy.cuda.get_current_stream().record())
        with self._stream:
            run(self._stream)
        return _NCCLWork(self._stream.record())

    def _average(self, a, op):
        if op.name == "AVG":
            a[...] = a / self.size if a.dtype.kind == "f" else a // self.size

    def all_reduce(self, a, op):
        def run(s):
            self._comm.all_reduce(a, a, _OPS[op.name], s)
            self._average(a, op)
        return self._launch(run)

    def broadcast(self, a, src):
        return self._launch(lambda s: self._comm.broadcast(a, src, s))

    def reduce(self, a, dst, op):
        def run(s):
            self._comm.reduce(a, a, dst, _OPS[op.name], s)
            if self.rank == dst:
                self._average(a, op)
        return self._launch(run)

    def all_gather(self, outs, a, into=False):
        def run(s):
            out = outs[0] if into else cupy.empty((self.size,) + a.shape, a.dtype)
            self._comm.all_gather(a, out, a.size, s)
            if not into:
                for i, o in enumerate(outs):
                    o[...] = out[i]
        return self._launch(run)

    def reduce_scatter(self, o, a, op):
        def run(s):
            self._comm.reduce_scatter(a, o, o.size, _OPS[op.name], s)
            self._average(o, op)
        return self._launch(run)

    def gather(self, a, outs, dst):
        def run(s):
            out = cupy.empty((self.size,) + a.shape, a.dtype)  # (cupyx checks its shape on every rank)
            self._comm.gather(a, out, dst, s)
            for i, o in enumerate(outs or ()):
                o[...] = out[i]
        return self._launch(run)

    def scatter(self, a, ins, src):
        def run(s):
            stacked = cupy.stack(ins) if ins is not None else cupy.empty((self.size,) + a.shape, a.dtype)
            self._comm.scatter(stacked, a, src, s)
        return self._launch(run)

    def send(self, a, dst, tag):
        return self._launch(lambda s: self._comm.send(a, dst, s))

    def recv(self, a, src, tag):
        if src is None:
            raise RuntimeError("ProcessGroupNCCL does not support recvAnysource")
        work = self._launch(lambda s: self._comm.recv(a, src, s))
        work._source = src
        return work

    def barrier(self):
        # NOTE: a host barrier (cupyx's, through its store) after this rank's queued work, as PyTorch's NCCL
        # barrier also blocks the host
        cupy.cuda.get_current_stream().synchronize()
        self._stream.synchronize()
        self._comm.barrier()
        return Work()

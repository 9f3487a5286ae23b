"""The "nccl" backend: cupyx.distributed's NCCLBackend (NCCL, with its TCP store for the NCCL id exchange) on the
arrays of CUDA tensors. Importing this module imports CuPy; init_process_group does, for backend="nccl".

Each collective runs on one communication stream, ordered after the work queued so far on the current stream
(an event), so it overlaps the compute queued after it; its Work's wait() orders the current stream after it (an
event again): nothing blocks the host, as in PyTorch's NCCL backend.
An isend is launched with the next receive, in one NCCL group (or alone, when it is waited for or another
collective comes first): an NCCL send blocks its stream until the peer receives, so a ring of isend, recv would
otherwise hang every rank in its send.
Types cupyx has no NCCL type for: bool reduces as uint8 (SUM as MAX, PRODUCT as MIN, as PyTorch's NCCL backend),
bfloat16 in float32; the others move as their bytes.
NOTE: as with PyTorch's, a tensor handed to an async collective must be kept (not freed) until wait().
"""
import cupy
import cupyx.distributed
from cupy.cuda import nccl

from ._work import Work

_OPS = {"SUM": "sum", "AVG": "sum", "PRODUCT": "prod", "MIN": "min", "MAX": "max"}
_BOOL_OPS = {"SUM": "max", "PRODUCT": "min", "MIN": "min", "MAX": "max"}
_NCCL_TYPES = "bBiIlLqQefdFD"  # the dtype characters cupyx.distributed maps to an NCCL type


class _NCCLWork(Work):
    def __init__(self, event=None):
        super().__init__()
        self._event = event

    def _wait(self):
        cupy.cuda.get_current_stream().wait_event(self._event)

    def _test(self):
        return self._event.done


class _SendWork(_NCCLWork):
    """An isend not launched yet: asking for it launches it."""

    def __init__(self, backend):
        super().__init__()
        self._backend = backend

    def _wait(self):
        self._backend._flush()
        super()._wait()

    def _test(self):
        self._backend._flush()
        return super()._test()


def _moved(a):
    """The array an NCCL data move (no arithmetic) takes: `a`, or its bytes for a type cupyx has no NCCL type for."""
    return a if a.dtype.char in _NCCL_TYPES else a.reshape(-1).view(cupy.uint8)


class NCCLBackend:
    def __init__(self, rank, world_size, host, port):
        self.rank, self.size = rank, world_size
        self._device = cupy.cuda.Device().id
        self._comm = cupyx.distributed.NCCLBackend(world_size, rank, host=host, port=port)
        self._stream = cupy.cuda.Stream(non_blocking=True)
        self._sends = []  # [(array, dst, work)]: the isends not launched yet

    def check_device(self, t):
        if not t.is_cuda:
            raise RuntimeError("No backend type associated with device type cpu")
        if t.device.index != self._device:
            raise RuntimeError(f"Tensor found on device {t.device} but this rank's NCCL communicator is on "
                               f"cuda:{self._device} (the current device at init_process_group: call "
                               "autograd_gpu.cuda.set_device(LOCAL_RANK) before it)")

    def close(self):
        self._flush()
        self._comm.stop()

    def _launch(self, run):
        """run(stream) on the communication stream, after what the current stream has queued."""
        if self._sends:
            self._flush()
        self._stream.wait_event(cupy.cuda.get_current_stream().record())
        with self._stream:
            run(self._stream)
        return _NCCLWork(self._stream.record())

    def _average(self, a, op):
        if op.name == "AVG":
            a[...] = a / self.size if a.dtype.kind in "fV" else a // self.size

    def _reduced(self, a, op, run):
        """run(array, NCCL op name) on `a` as NCCL can reduce it, the result written back into `a`."""
        if a.dtype.char in _NCCL_TYPES:
            return run(a, _OPS[op.name])
        if a.dtype.kind == "b":
            if op.name == "AVG":
                raise TypeError("Cannot use ReduceOp.AVG with boolean inputs")
            return run(a.view(cupy.uint8), _BOOL_OPS[op.name])
        if a.dtype.kind == "V":  # bfloat16 (ml_dtypes)
            staged = a.astype(cupy.float32)
            run(staged, _OPS[op.name])
            a[...] = staged.astype(a.dtype)
            return
        raise TypeError(f"Unsupported data type for NCCL process group: {a.dtype}")

    def all_reduce(self, a, op):
        def run(s):
            self._reduced(a, op, lambda x, o: self._comm.all_reduce(x, x, o, s))
            self._average(a, op)
        return self._launch(run)

    def broadcast(self, a, src):
        return self._launch(lambda s: self._comm.broadcast(_moved(a), src, s))

    def reduce(self, a, dst, op):
        def run(s):
            self._reduced(a, op, lambda x, o: self._comm.reduce(x, x, dst, o, s))
            if self.rank == dst:
                self._average(a, op)
        return self._launch(run)

    def all_gather(self, outs, a, into=False):
        def run(s):
            out = outs[0] if into else cupy.empty((self.size,) + a.shape, a.dtype)
            self._comm.all_gather(_moved(a), _moved(out), _moved(a).size, s)
            if not into:
                for i, o in enumerate(outs):
                    o[...] = out[i]
        return self._launch(run)

    def reduce_scatter(self, o, a, op):
        def run(s):
            if a.dtype.char in _NCCL_TYPES:
                self._comm.reduce_scatter(a, o, o.size, _OPS[op.name], s)
            else:  # (a reduction of a whole buffer, then this rank's part)
                whole = a.copy()
                self._reduced(whole, op, lambda x, name: self._comm.all_reduce(x, x, name, s))
                o[...] = whole.reshape((self.size,) + o.shape)[self.rank]
            self._average(o, op)
        return self._launch(run)

    def gather(self, a, outs, dst):
        def run(s):
            out = cupy.empty((self.size,) + a.shape, a.dtype)  # (cupyx checks its shape on every rank)
            self._comm.gather(_moved(a), _moved(out).reshape(self.size, -1), dst, s)
            for i, o in enumerate(outs or ()):
                o[...] = out[i]
        return self._launch(run)

    def scatter(self, a, ins, src):
        def run(s):
            stacked = cupy.stack(ins) if ins is not None else cupy.empty((self.size,) + a.shape, a.dtype)
            self._comm.scatter(_moved(stacked).reshape(self.size, -1), _moved(a), src, s)
        return self._launch(run)

    def send(self, a, dst, tag):
        work = _SendWork(self)
        self._sends.append((a, dst, work))
        return work

    def recv(self, a, src, tag):
        if src is None:
            raise RuntimeError("ProcessGroupNCCL does not support recvAnysource")
        work = self._flush((a, src))
        work._source = src
        return work

    def _flush(self, recv=None):
        """Launch the pending isends (and a receive) as one NCCL group."""
        sends, self._sends = self._sends, []
        if not sends and recv is None:
            return None

        def run(s):
            nccl.groupStart()
            try:
                for a, dst, _ in sends:
                    self._comm.send(_moved(a), dst, s)
                if recv is not None:
                    self._comm.recv(_moved(recv[0]), recv[1], s)
            finally:
                nccl.groupEnd()
        work = self._launch(run)
        for _, _, w in sends:
            w._event = work._event
        return work

    def barrier(self):
        # NOTE: a host barrier (cupyx's, through its store) after this rank's queued work, as PyTorch's NCCL
        # barrier also blocks the host
        self._flush()
        cupy.cuda.get_current_stream().synchronize()
        self._stream.synchronize()
        self._comm.barrier()
        return Work()

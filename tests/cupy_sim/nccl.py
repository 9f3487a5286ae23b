"""cupy.cuda.nccl and cupyx.distributed.NCCLBackend for the stand-in: one process per rank, the arrays moved over
TCP instead of NVLink, with what CuPy 14 (cupyx/distributed/_nccl_comm.py, _store.py) and NCCL check and refuse.

- cupyx's own checks, messages and order: c- or f-contiguous buffers (RuntimeError), its dtype table (TypeError
  for bool, int16, bfloat16 ...), op names 'sum' 'prod' 'max' 'min' (RuntimeError; complex: 'sum' only), the
  `stream` argument (a Stream, or None for the current one; anything else has no `.ptr`), scatter's and gather's
  (n_devices, ...) shapes, a `.data.ptr` (a numpy array has none);
- NCCL's: a buffer on another device than the communicator's (NcclError: invalid argument), a root or peer
  outside the world (invalid argument), two ranks on one GPU of one host (invalid usage; the host is
  NCCL_HOSTID, else the host name, as NCCL's host hash), send/recv blocking the stream until the peer posts
  the matching recv, unless both are inside one nccl.groupStart()/groupEnd();
- what NCCL cannot check and would get wrong: an out buffer too small for what it writes, an out dtype that
  differs from the in dtype, collectives that differ across ranks (name, op, dtype, count, root), a send and a
  recv of different counts or dtypes: each raises NCCLMisuse (on a GPU: corrupt memory, garbage or a hang);
- streams (tests/cupy_sim/streams.py): a collective runs on its stream, which must be ordered after all work
  queued on the device's other streams; its outputs must not be touched from another stream before that stream
  is ordered after it (StreamOrderError).

Rendezvous as CuPy's: rank 0 serves at host:port (CuPy's TCPStore), the others connect with its retries (50 x
0.5 s, then RuntimeError('TCPStore is not available')). Every array then goes through that server, which
forwards the ranks' frames. Work runs when it is issued and blocks the host where NCCL would block the stream:
a collective until every rank has called it, a send until the peer receives (so a ring of ungrouped sends
hangs, as on a GPU). A dead peer leaves the others waiting, as NCCL does: the launcher ends the job.
"""
import atexit
import collections
import json
import os
import socket
import struct
import threading
import time
import weakref

import ml_dtypes
import numpy as np

from . import streams

_DEFAULT_HOST, _DEFAULT_PORT = "127.0.0.1", 13333
_DTYPES = set("bBiIlLqQefdFD")  # cupyx's _nccl_dtypes
_OPS = ("sum", "prod", "max", "min")
_REDUCE = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
_ERRORS = {1: ("NCCL_ERROR_UNHANDLED_CUDA_ERROR", "unhandled cuda error (run with NCCL_DEBUG=INFO for details)"),
           2: ("NCCL_ERROR_SYSTEM_ERROR", "unhandled system error (run with NCCL_DEBUG=INFO for details)"),
           4: ("NCCL_ERROR_INVALID_ARGUMENT", "invalid argument (run with NCCL_DEBUG=WARN for details)"),
           5: ("NCCL_ERROR_INVALID_USAGE", "invalid usage (run with NCCL_DEBUG=WARN for details)")}


class NcclError(RuntimeError):
    def __init__(self, status):
        self.status = status
        super().__init__("%s: %s" % _ERRORS[status])

    def __reduce__(self):
        return (type(self), (self.status,))


class NCCLMisuse(RuntimeError):
    """What NCCL does not check and would get wrong on a GPU (corrupt memory, garbage, a hang)."""


# ---------------------------------------------------------------- cupy.cuda.nccl
class _Group(threading.local):
    def __init__(self):
        self.depth = 0
        self.ops = []  # the point-to-point operations of the open group, in call order


_group = _Group()


def groupStart():  # noqa: N802 (CuPy's name)
    _group.depth += 1


def groupEnd():  # noqa: N802
    if _group.depth == 0:
        raise NcclError(5)  # (ncclGroupEnd without ncclGroupStart)
    _group.depth -= 1
    if _group.depth == 0:
        ops, _group.ops = _group.ops, []
        _run_group(ops)


def _run_group(ops):
    """NCCL progresses a group's sends and receives together: post the sends, receive, then wait for the sends."""
    waits = [op() for op in ops if op.kind == "send"]
    for op in ops:
        if op.kind == "recv":
            op()
    for w in waits:
        w()


nccl = type(os)("cupy.cuda.nccl")
nccl.available = True
nccl.NcclError = NcclError
nccl.groupStart, nccl.groupEnd = groupStart, groupEnd
nccl.get_version = lambda: 22703
nccl.get_build_version = lambda: 22703


# ---------------------------------------------------------------- the wire
_FRAME = struct.Struct("!iiQ")  # destination rank (-1: the server), source rank, payload bytes
_HUB = -1


# NOTE: values go over the wire as JSON (tuples, lists, numbers, strings, None) with numpy arrays as raw bytes after
# it, never pickled: nothing received is run as code
def _encode(value):
    arrays = []

    def enc(o):
        if o is None or isinstance(o, (bool, int, float, str)):
            return o
        if isinstance(o, (tuple, list)):
            return {"tuple" if isinstance(o, tuple) else "list": [enc(x) for x in o]}
        if isinstance(o, (np.ndarray, np.generic)):
            arrays.append(np.array(o, order="C"))  # (ascontiguousarray would make a 0-d array 1-d)
            return {"array" if isinstance(o, np.ndarray) else "scalar": len(arrays) - 1}
        raise TypeError(f"the stand-in's wire does not carry {type(o).__name__}")
    head = json.dumps({"value": enc(value), "arrays": [(a.dtype.name, a.shape) for a in arrays]}).encode()
    return struct.pack("!Q", len(head)) + head + b"".join(a.tobytes() for a in arrays)


def _dtype_named(name):
    return np.dtype(getattr(ml_dtypes, name)) if hasattr(ml_dtypes, name) else np.dtype(name)


def _decode(payload):
    (n,), at = struct.unpack_from("!Q", payload), 8
    head = json.loads(payload[at:at + n])
    at += n
    arrays = []
    for name, shape in head["arrays"]:
        dtype = _dtype_named(name)
        size = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
        arrays.append(np.frombuffer(payload, dtype, offset=at, count=size // dtype.itemsize).reshape(shape).copy())
        at += size

    def dec(o):
        if not isinstance(o, dict):
            return o
        (kind, v), = o.items()
        if kind in ("tuple", "list"):
            items = [dec(x) for x in v]
            return tuple(items) if kind == "tuple" else items
        return arrays[v] if kind == "array" else arrays[v][()]
    return dec(head["value"])


def _send_frame(sock, lock, dst, src, payload):
    with lock:
        sock.sendall(_FRAME.pack(dst, src, len(payload)) + payload)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _recv_frame(sock):
    head = _recv_exact(sock, _FRAME.size)
    if head is None:
        return None
    dst, src, n = _FRAME.unpack(head)
    payload = _recv_exact(sock, n)
    return None if payload is None else (dst, src, payload)


class _Hub:
    """Rank 0's server (CuPy's TCPStore binds the same address): forwards each rank's frames to their
    destination; once all ranks have said hello it sends each the roster of (host, device)."""

    def __init__(self, host, port, n):
        self.n = n
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((host, port))
        self.server.listen(n + 4)
        self.conns, self.locks, self.hellos = {}, {}, {}
        self.closed = set()
        self.cv = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        frame = _recv_frame(conn)
        if frame is None:
            return
        _, rank, payload = frame
        with self.cv:
            self.conns[rank], self.locks[rank] = conn, threading.Lock()
            self.hellos[rank] = _decode(payload)
            if len(self.hellos) == self.n:
                roster = _encode([self.hellos[r] for r in range(self.n)])
                for r in range(self.n):
                    _send_frame(self.conns[r], self.locks[r], r, _HUB, roster)
            self.cv.notify_all()
        while True:
            frame = _recv_frame(conn)
            if frame is None:
                break
            dst, src, payload = frame
            with self.cv:
                self.cv.wait_for(lambda: dst in self.conns)
                target, lock = self.conns[dst], self.locks[dst]
            try:
                _send_frame(target, lock, dst, src, payload)
            except OSError:
                pass  # (that rank has gone)
        with self.cv:
            self.closed.add(rank)
            self.cv.notify_all()
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()

    def wait_closed(self, timeout):
        with self.cv:
            self.cv.wait_for(lambda: len(self.closed) >= self.n, timeout)
        self.server.close()


_links = weakref.WeakSet()  # the links of this process (the in-process tests' worlds have several)


@atexit.register
def _close_all():
    for link in sorted(_links, key=lambda k: k.hub is not None):  # (rank 0's last: it serves the others)
        link.close()


class _Link:
    """A rank's connection to the server and its mailbox: (source, key) -> queued values."""
    RETRIES, DELAY = 50, 0.5  # CuPy's TCPStoreProxy's

    def __init__(self, n, rank, host, port, hello):
        self.rank = rank
        self.hub = _Hub(host, port, n) if rank == 0 else None
        for _ in range(self.RETRIES):
            try:
                self.sock = socket.create_connection((host, port))
                break
            except ConnectionRefusedError:
                time.sleep(self.DELAY)
        else:
            raise RuntimeError("TCPStore is not available")
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.lock = threading.Lock()
        self.box = collections.defaultdict(collections.deque)
        self.cv = threading.Condition()
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        _send_frame(self.sock, self.lock, _HUB, rank, _encode(hello))
        self.roster = self.take(_HUB, "roster")
        _links.add(self)

    def _read(self):
        while True:
            frame = _recv_frame(self.sock)
            if frame is None:
                break
            _, src, payload = frame
            if src == _HUB:
                key, value = "roster", _decode(payload)
            else:
                key, value = _decode(payload)
            with self.cv:
                self.box[(src, key)].append(value)
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def send(self, dst, key, value):
        _send_frame(self.sock, self.lock, dst, self.rank, _encode((key, value)))

    def take(self, src, key):
        """The next value `src` sent under `key`; waits for it as long as it takes (NCCL has no timeout)."""
        with self.cv:
            self.cv.wait_for(lambda: self.box.get((src, key)))
            q = self.box[(src, key)]
            value = q.popleft()
            if not q:
                del self.box[(src, key)]
            return value

    def close(self, timeout=30.0):
        """Leave without losing what is in flight: end our half, read to the end, and on rank 0 keep serving
        until every rank has left."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return
        self.reader.join(timeout)
        self.sock.close()
        if self.hub is not None:
            self.hub.wait_closed(timeout)


# ---------------------------------------------------------------- cupyx.distributed
def _host_id():
    return os.environ.get("NCCL_HOSTID") or socket.gethostname()


def _flat(a):
    """The array's elements in memory order (it is c- or f-contiguous), complex ones as pairs of reals."""
    f = a._a.reshape(-1, order="A")
    return f.view(f.real.dtype) if f.dtype.kind == "c" else f


class _Op:
    """A point-to-point operation of a group: called when the group runs."""

    def __init__(self, kind, fn):
        self.kind, self.fn = kind, fn

    def __call__(self):
        return self.fn()


class NCCLBackend:
    """cupyx.distributed.NCCLBackend(n_devices, rank, host='127.0.0.1', port=13333, use_mpi=False)."""

    def __init__(self, n_devices, rank, host=_DEFAULT_HOST, port=_DEFAULT_PORT, use_mpi=False):
        if use_mpi:
            raise NotImplementedError("the CuPy stand-in models NCCLBackend(use_mpi=False) only")
        self._n_devices, self.rank = n_devices, rank
        self._device = streams._current_device[0]()
        if not 0 <= rank < n_devices:
            raise NcclError(4)
        self._link = _Link(n_devices, rank, host, port, (_host_id(), self._device))
        self._stopped = False
        for i, (h, d) in enumerate(self._link.roster):
            for j in range(i):
                if self._link.roster[j] == (h, d):
                    self._link.close()
                    e = NcclError(5)
                    e.add_note(f"NCCL WARN Duplicate GPU detected : rank {i} and rank {j} both on CUDA device {d} "
                               f"of host {h!r} (each rank needs its own GPU: set it from LOCAL_RANK)")
                    raise e
        self._seq = 0  # collectives issued, matched across ranks by their order
        self._sent = collections.Counter()  # peer -> sends to it
        self._received = collections.Counter()  # peer -> receives from it
        self._barriers = 0

    # ---- cupyx's checks
    def _check_contiguous(self, array):
        if not hasattr(array, "flags") or not hasattr(array.data, "ptr"):
            raise AttributeError(f"'{type(array.data).__name__}' object has no attribute 'ptr'")
        if not array.flags.c_contiguous and not array.flags.f_contiguous:
            raise RuntimeError("NCCL requires arrays to be either c- or f-contiguous")

    def _get_stream(self, stream):
        if stream is None:
            stream = streams.get_current_stream()
        if not isinstance(stream, streams.Stream):
            raise AttributeError(f"'{type(stream).__name__}' object has no attribute 'ptr'")
        if stream.device_id not in (-1, self._device):
            raise NcclError(1)  # (a stream of another GPU than the communicator's)
        return stream._q if stream._q is not None else streams._null_queue(self._device)

    def _count(self, array, count=None):
        if array.dtype.char not in _DTYPES:
            raise TypeError(f"Unknown dtype {array.dtype} for NCCL")
        count = array.size if count is None else count
        return 2 * count if array.dtype.char in "FD" else count

    def _get_op(self, op, char):
        if op not in _OPS:
            raise RuntimeError(f"Unknown op {op} for NCCL")
        if char in "FD" and op != "sum":
            raise ValueError("Only nccl.SUM is supported for complex arrays")
        return op

    # ---- NCCL's checks, and what it would get wrong
    def _on_device(self, *arrays):
        for a in arrays:
            if a._dev != self._device:
                e = NcclError(4)
                e.add_note(f"NCCL WARN buffer allocated on device {a._dev} mismatches with NCCL device "
                           f"{self._device}")
                raise e

    def _check_rank(self, r):
        if not 0 <= r < self._n_devices:
            raise NcclError(4)

    @staticmethod
    def _fits(a, count, what, like=None):
        if like is not None and a.dtype != like.dtype:
            raise NCCLMisuse(f"{what} has dtype {a.dtype} but NCCL writes it as {like.dtype}, the input's type")
        if _flat(a).size < count:
            raise NCCLMisuse(f"NCCL would access {count} elements of {what}, which holds {_flat(a).size}")

    def _collective(self, q, name, desc, inputs, outputs, payload_for, targets=None):
        """Issue a collective on queue q: every rank sends (desc, its data for that rank) to every rank; returns
        {rank: data} of the ones that sent data."""
        if _group.depth:
            raise NotImplementedError("the CuPy stand-in does not model collectives inside an NCCL group")
        streams.collective(q, [a._owner if a._owner is not None else a for a in inputs],
                           [a._owner if a._owner is not None else a for a in outputs])
        seq, self._seq = self._seq, self._seq + 1
        desc = (name,) + desc
        for r in range(self._n_devices):
            if r != self.rank:
                self._link.send(r, ("c", seq), (desc, payload_for(r)))
        got = {self.rank: payload_for(self.rank)}
        for r in range(self._n_devices):
            if r != self.rank:
                theirs, got[r] = self._link.take(r, ("c", seq))
                if theirs != desc:
                    raise NCCLMisuse(f"collective #{seq} differs across ranks: rank {self.rank} calls {desc}, rank "
                                     f"{r} {theirs} (NCCL would hang or mix the data)")
        return got

    def _reduce(self, op, parts):
        acc = parts[0].copy()
        for p in parts[1:]:  # (in rank order, the same on every rank)
            acc = _REDUCE[op](acc, p)
        return acc

    # ---- collectives (cupyx's _DenseNCCLCommunicator)
    def all_reduce(self, in_array, out_array, op="sum", stream=None):
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        q = self._get_stream(stream)
        count = self._count(in_array)
        op = self._get_op(op, in_array.dtype.char)
        self._on_device(in_array, out_array)
        self._fits(out_array, count, "out_array", in_array)
        mine = _flat(in_array)[:count].copy()
        got = self._collective(q, "all_reduce", (op, in_array.dtype.str, count), [in_array], [out_array],
                               lambda r: mine)
        _flat(out_array)[:count] = self._reduce(op, [got[r] for r in range(self._n_devices)])

    def reduce(self, in_array, out_array, root=0, op="sum", stream=None):
        self._check_contiguous(in_array)
        if self.rank == root:
            self._check_contiguous(out_array)
        elif not hasattr(getattr(out_array, "data", None), "ptr"):  # (cupyx passes out_array.data.ptr on every rank)
            raise AttributeError(f"'{type(out_array).__name__}' object has no attribute 'data'")
        q = self._get_stream(stream)
        count = self._count(in_array)
        op = self._get_op(op, in_array.dtype.char)
        self._check_rank(root)
        self._on_device(in_array, *([out_array] if self.rank == root else []))
        if self.rank == root:
            self._fits(out_array, count, "out_array", in_array)
        mine = _flat(in_array)[:count].copy()
        got = self._collective(q, "reduce", (op, in_array.dtype.str, count, root), [in_array],
                               [out_array] if self.rank == root else [], lambda r: mine if r == root else None)
        if self.rank == root:
            _flat(out_array)[:count] = self._reduce(op, [got[r] for r in range(self._n_devices)])

    def broadcast(self, in_out_array, root=0, stream=None):
        self._check_contiguous(in_out_array)
        q = self._get_stream(stream)
        count = self._count(in_out_array)
        self._check_rank(root)
        self._on_device(in_out_array)
        mine = _flat(in_out_array)[:count].copy() if self.rank == root else None
        got = self._collective(q, "broadcast", (in_out_array.dtype.str, count, root),
                               [in_out_array] if self.rank == root else [],
                               [] if self.rank == root else [in_out_array], lambda r: mine)
        if self.rank != root:
            _flat(in_out_array)[:count] = got[root]

    def reduce_scatter(self, in_array, out_array, count, op="sum", stream=None):
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        q = self._get_stream(stream)
        count = self._count(in_array, count)
        op = self._get_op(op, in_array.dtype.char)
        self._on_device(in_array, out_array)
        self._fits(in_array, count * self._n_devices, "in_array")
        self._fits(out_array, count, "out_array", in_array)
        flat = _flat(in_array)
        chunks = [flat[r * count:(r + 1) * count].copy() for r in range(self._n_devices)]
        got = self._collective(q, "reduce_scatter", (op, in_array.dtype.str, count), [in_array], [out_array],
                               lambda r: chunks[r])
        _flat(out_array)[:count] = self._reduce(op, [got[r] for r in range(self._n_devices)])

    def all_gather(self, in_array, out_array, count, stream=None):
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        q = self._get_stream(stream)
        count = self._count(in_array, count)
        self._on_device(in_array, out_array)
        self._fits(in_array, count, "in_array")
        self._fits(out_array, count * self._n_devices, "out_array", in_array)
        mine = _flat(in_array)[:count].copy()
        got = self._collective(q, "all_gather", (in_array.dtype.str, count), [in_array], [out_array],
                               lambda r: mine)
        out = _flat(out_array)
        for r in range(self._n_devices):
            out[r * count:(r + 1) * count] = got[r]

    # ---- point to point: blocking for the stream unless grouped
    def _p2p(self, kind, array, peer, q):
        self._check_rank(peer)
        self._on_device(array)
        count = self._count(array)
        root = array._owner if array._owner is not None else array
        if kind == "send":
            streams.collective(q, [root], [])
            k = self._sent[peer]
            self._sent[peer] += 1
            data = _flat(array)[:count].copy()

            def post():
                self._link.send(peer, ("p", k), (array.dtype.str, count, data))
                return lambda: self._link.take(peer, ("a", k))  # the peer has received it
            op = _Op("send", post)
        else:
            streams.collective(q, [], [root])
            k = self._received[peer]
            self._received[peer] += 1

            def take():
                dtype, n, data = self._link.take(peer, ("p", k))
                self._link.send(peer, ("a", k), None)
                if (dtype, n) != (array.dtype.str, count):
                    raise NCCLMisuse(f"rank {self.rank} receives {count} x {array.dtype} from rank {peer}, which "
                                     f"sends {n} x {np.dtype(dtype)} (NCCL needs the same count and datatype)")
                _flat(array)[:count] = data
            op = _Op("recv", take)
        if _group.depth:
            _group.ops.append(op)
        else:
            _run_group([op])

    def send(self, array, peer, stream=None):
        self._check_contiguous(array)
        q = self._get_stream(stream)
        self._p2p("send", array, peer, q)

    def recv(self, out_array, peer, stream=None):
        self._check_contiguous(out_array)
        q = self._get_stream(stream)
        self._p2p("recv", out_array, peer, q)

    def send_recv(self, in_array, out_array, peer, stream=None):
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        q = self._get_stream(stream)
        groupStart()
        self._p2p("send", in_array, peer, q)
        self._p2p("recv", out_array, peer, q)
        groupEnd()

    def scatter(self, in_array, out_array, root=0, stream=None):
        self._rooted("scatter", "in_array", in_array, out_array, root, stream)

    def gather(self, in_array, out_array, root=0, stream=None):
        self._rooted("gather", "out_array", out_array, in_array, root, stream)

    def _rooted(self, name, what, stacked, single, root, stream):
        """cupyx's scatter (the root sends stacked[i] to rank i) and gather (it receives them), in one group."""
        if stacked.shape[0] != self._n_devices:
            raise RuntimeError(f"{name} requires {what} to have {self._n_devices}elements in its first "
                               f"dimension, found {stacked.shape}")
        pair = (stacked, single) if name == "scatter" else (single, stacked)
        self._check_contiguous(pair[0])
        self._check_contiguous(pair[1])
        q = self._get_stream(stream)
        at_root, at_rank = ("send", "recv") if name == "scatter" else ("recv", "send")
        groupStart()
        if root == self.rank:
            for i in range(self._n_devices):
                self._p2p(at_root, stacked[i], i, q)
        self._p2p(at_rank, single, root, q)
        groupEnd()

    def all_to_all(self, in_array, out_array, stream=None):
        raise NotImplementedError("the CuPy stand-in does not model NCCLBackend.all_to_all")

    def barrier(self):
        """CuPy's: a host barrier through its TCP store."""
        if self._stopped:
            raise RuntimeError("TCPStore is not available")
        k, self._barriers = self._barriers, self._barriers + 1
        for r in range(self._n_devices):
            if r != self.rank:
                self._link.send(r, ("b", k), None)
        for r in range(self._n_devices):
            if r != self.rank:
                self._link.take(r, ("b", k))

    def stop(self):
        # CuPy's rank 0 stops its store (NCCL itself still works; the data here still goes through the server,
        # which serves until every rank has left: see _Link.close)
        if self.rank == 0:
            self._stopped = True


def init_process_group(n_devices, rank, *, backend="nccl", host=None, port=None, use_mpi=False):
    if n_devices <= 0:
        raise ValueError(f"Invalid number of devices {n_devices}")
    if not (0 <= rank < n_devices):
        raise ValueError(f"Invalid number of rank {rank} {n_devices}")
    if backend != "nccl":
        raise ValueError(f"{backend} is not supported")
    if host is None:
        host = os.environ.get("CUPYX_DISTRIBUTED_HOST", _DEFAULT_HOST)
    if port is None:
        port = int(os.environ.get("CUPYX_DISTRIBUTED_PORT", _DEFAULT_PORT))
    return NCCLBackend(n_devices, rank, host, port, use_mpi)


distributed = type(os)("cupyx.distributed")
distributed.NCCLBackend = NCCLBackend
distributed.init_process_group = init_process_group

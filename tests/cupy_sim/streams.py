"""cupy.cuda.Stream / Event / get_current_stream for the stand-in: CuPy 14's names, signatures and checks, and the
order CUDA guarantees between streams, checked.

Work runs at once, in issue order (there is no GPU to run it later), but each stream keeps a vector clock of the
work it is ordered after: its own, what it waited for through `wait_event`, what the host waited for
(`synchronize`, a device-to-host copy, which waits for the current stream), and, for a blocking stream, what the
legacy null stream of its device queued (CUDA's implicit synchronisation; a `non_blocking=True` stream has none).
An event is done only once the host has waited for it: the GPU is assumed to be as far behind as it can be.

Arrays that a collective on a stream writes (cupyx.distributed, tests/cupy_sim/nccl.py) are marked with the
stream and its clock; any access from another stream that is not ordered after it raises StreamOrderError (on a
GPU, a read of the old values). Its inputs are marked too, and a write to them from another stream before that
stream is ordered after the collective raises as well. The accesses seen are the stand-in's chokepoints: every
operand of an operation, indexing, assignment, in-place operators, a kernel's pointer arguments, host copies;
not the addresses in a multi-tensor kernel's table.
"""
import itertools
import threading
import weakref


class StreamOrderError(RuntimeError):
    """An access to device memory that CUDA does not order after the work writing (or reading) it: a race."""


_ids = itertools.count(1)


class _Queue:
    """One stream's work on one device: how many operations it has issued and what it is ordered after."""
    __slots__ = ("name", "dev", "ops", "knows", "blocking", "__weakref__")

    def __init__(self, name, dev, blocking):
        self.name, self.dev, self.blocking = name, dev, blocking
        self.ops = 0
        self.knows = {}  # queue -> its ops this one is ordered after

    def clock(self):
        c = dict(self.knows)
        c[self] = self.ops
        return c

    def __repr__(self):
        return f"{self.name} (device {self.dev})"


_host = weakref.WeakKeyDictionary()  # queue -> its ops the host has waited for
_queues = {}  # device -> WeakSet of its queues
_null = {}  # device -> the legacy null stream's queue
_lock = threading.RLock()


def _merge(into, clock):
    for q, t in clock.items():
        if into.get(q, 0) < t:
            into[q] = t


def _knows(q, other, t):
    return other is q or q.knows.get(other, 0) >= t or _host.get(other, 0) >= t


def _null_queue(dev):
    q = _null.get(dev)
    if q is None:
        q = _null[dev] = _Queue("the null stream", dev, True)
        _queues.setdefault(dev, weakref.WeakSet()).add(q)
    return q


def _new_queue(dev, blocking):
    q = _Queue(f"stream {next(_ids)}", dev, blocking)
    _queues.setdefault(dev, weakref.WeakSet()).add(q)
    return q


class _Local(threading.local):
    def __init__(self):
        self.stacks = {}  # device -> [Stream]: the current stream is the last
        self.entered = []  # the devices of the streams entered by `with`, innermost last


_tls = _Local()
_current_device = [lambda: 0]  # set by the package: the current device


class Stream:
    """cupy.cuda.Stream(null=False, non_blocking=False, ptds=False, priority=None)."""
    null = None  # set below: Stream(null=True)

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        if ptds:
            raise NotImplementedError("the stand-in does not model per-thread default streams")
        self._non_blocking = bool(non_blocking)
        if null:
            self.ptr, self.device_id, self._q = 0, -1, None
        else:
            self.device_id = _current_device[0]()
            self._q = _new_queue(self.device_id, not non_blocking)
            self.ptr = id(self._q)

    def _queue(self):
        return self._q if self._q is not None else _null_queue(_current_device[0]())

    def _check_device(self):
        cur = _current_device[0]()
        dev = cur if self.device_id == -1 else self.device_id
        if dev != cur:
            raise RuntimeError(f"The device that the stream is created on ({dev}) does not match with the current "
                               f"device ({cur})")
        return dev

    def __eq__(self, other):
        return isinstance(other, Stream) and self.ptr == other.ptr

    def __hash__(self):
        return self.ptr

    def __repr__(self):
        return f"<Stream {self.ptr} (device {self.device_id})>"

    def __enter__(self):
        dev = self._check_device()
        _tls.stacks.setdefault(dev, []).append(self)
        _tls.entered.append(dev)
        return self

    def __exit__(self, *exc):
        dev = _tls.entered.pop()
        _tls.stacks[dev].pop()
        return False

    def use(self):
        dev = self._check_device()
        stack = _tls.stacks.setdefault(dev, [])
        if stack:
            stack[-1] = self
        else:
            stack.append(self)
        return self

    @property
    def done(self):
        q = self._queue()
        return _host.get(q, 0) >= q.ops

    def synchronize(self):
        _sync_transfer[0]("Stream.synchronize")
        host_waits(self._queue().clock())

    def record(self, event=None):
        if event is None:
            event = Event()
        event.record(self)
        return event

    def wait_event(self, event):
        if event._clock is not None:
            with _lock:
                _merge(self._queue().knows, event._clock)

    def is_non_blocking(self):
        return self._non_blocking


Stream.null = Stream(null=True)


class Event:
    """cupy.cuda.Event(block=False, disable_timing=False, interprocess=False)."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        if interprocess and not disable_timing:
            raise ValueError("Timing must be disabled for interprocess events")
        self.ptr = next(_ids)
        self._clock = None  # the recording stream's clock; None: never recorded

    @property
    def done(self):
        # (an event never recorded is done, as cudaEventQuery says; the others once the host has waited for them)
        return self._clock is None or all(_host.get(q, 0) >= t for q, t in self._clock.items())

    def record(self, stream=None):
        q = (stream if stream is not None else get_current_stream())._queue()
        with _lock:
            self._clock = q.clock()

    def synchronize(self):
        _sync_transfer[0]("Event.synchronize")
        if self._clock is not None:
            host_waits(self._clock)


def get_current_stream(device_id=-1):
    dev = _current_device[0]() if device_id == -1 else device_id
    stack = _tls.stacks.get(dev)
    return stack[-1] if stack else Stream.null


def current_queue(dev):
    stack = _tls.stacks.get(dev)
    return stack[-1]._queue() if stack else _null_queue(dev)


_sync_transfer = [lambda what: None]  # set by the package: counts a host synchronisation (refused in no_host_sync)


def host_waits(clock):
    with _lock:
        for q, t in clock.items():
            if _host.get(q, 0) < t:
                _host[q] = t


def host_waits_current(dev):
    """A device-to-host copy: CuPy waits for the current stream."""
    host_waits(current_queue(dev).clock())


def host_waits_device(dev):
    host_waits({q: q.ops for q in list(_queues.get(dev, ()))})


def issue(dev):
    """One operation queued on the current stream of `dev`."""
    q = current_queue(dev)
    _legacy_order(q)
    q.ops += 1
    return q


def _legacy_order(q):
    """CUDA's legacy null stream: work queued on it waits for the blocking streams' work, and theirs for its."""
    if q.blocking and len(_queues.get(q.dev, ())) > 1:
        with _lock:
            if q is _null.get(q.dev):
                for b in list(_queues[q.dev]):
                    if b.blocking and b is not q:
                        _merge(q.knows, b.clock())
            else:
                _merge(q.knows, _null_queue(q.dev).clock())


# ---- the marks of a collective's buffers ----------------------------------------------------------------------
class _Mark:
    __slots__ = ("writer", "readers")

    def __init__(self):
        self.writer = None  # (queue, its ops): the collective that wrote the buffer
        self.readers = []  # [(queue, its ops)]: collectives that read it


def check(root, dev, write):
    """An access to `root`'s memory (an array's owner) from the current stream of `dev`."""
    mark = root._mark
    if mark is None:
        return
    q = current_queue(dev)
    _legacy_order(q)
    w = mark.writer
    if w is not None:
        if not _knows(q, *w):
            raise StreamOrderError(f"an array a collective on {w[0]} writes is {'written' if write else 'read'} on "
                                   f"{q} before {q} is ordered after it: record an event on {w[0]} and wait for it "
                                   f"(Stream.wait_event), or synchronize")
        if _host.get(w[0], 0) >= w[1]:
            mark.writer = None
    if write and mark.readers:
        for r in mark.readers:
            if not _knows(q, *r):
                raise StreamOrderError(f"an array a collective on {r[0]} reads is written on {q} before {q} is "
                                       f"ordered after it (the collective could read the new values)")
        mark.readers = [r for r in mark.readers if _host.get(r[0], 0) < r[1]]
    if mark.writer is None and not mark.readers:
        root._mark = None


def collective(q, inputs, outputs):
    """A collective issued on queue `q`: ordered after all work queued on the device's other streams (its inputs
    may come from any of them), it reads `inputs` and writes `outputs` (arrays' owners)."""
    _legacy_order(q)
    with _lock:
        for other in list(_queues.get(q.dev, ())):
            if other is not q and other.ops and not _knows(q, other, other.ops):
                raise StreamOrderError(f"a collective is queued on {q} while {other} has queued work {q} is not "
                                       f"ordered after (it could read its inputs before they are written): record "
                                       f"an event on {other} and make {q} wait for it")
        for root in inputs + outputs:
            check_as(q, root)
        q.ops += 1
        for root in inputs:
            if root._mark is None:
                root._mark = _Mark()
            root._mark.readers.append((q, q.ops))
        for root in outputs:
            if root._mark is None:
                root._mark = _Mark()
            root._mark.writer = (q, q.ops)


def check_as(q, root):
    mark = root._mark
    if mark is not None and mark.writer is not None and not _knows(q, *mark.writer):
        raise StreamOrderError(f"a collective on {q} uses an array a collective on {mark.writer[0]} writes, "
                               "without being ordered after it")

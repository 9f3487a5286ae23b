"""A strict CuPy stand-in for CPU-only machines: used by the tests only, never by the library.

The library reaches CuPy through `autograd_gpu._device.cupy()` / `cupyx()`; `install()` points both at this
module, so the whole CUDA path runs in every CI run. What it models of CuPy 14:

- arrays of their own type (backed by numpy) that refuse implicit conversion to numpy (`__array__` raises
  TypeError), reject numpy arrays as operands, and know their device (`cuda:0`, `cuda:1`);
- device-to-host transfers (`.get()`, `asnumpy`, `.item()`, `.tolist()`, `bool/int/float`, printing,
  boolean-mask indexing) counted in `transfers["count"]`, and refused inside `no_host_sync()`; host-to-device
  copies (`asarray`/`array` of host data, `set`, assigning a numpy array) counted in `transfers["to_device"]`;
- only the names the installed real `cupy` package has (namespace, `ndarray` methods, `random.Generator`,
  `cuda.runtime`): a call of a name CuPy lacks raises AttributeError here as it would on a GPU;
- CuPy's own behaviours: out-of-range integer-array indices wrap, reductions return 0-d arrays,
  `cupyx.scatter_add` takes only 32/64-bit ints and floats, an op on an array of another device than the
  current one raises ValueError;
- `RawModule` / `RawKernel`: the real kernels/*.cu built with g++ through tests/kernel_shim.h, arguments checked
  against their C types, float32 subnormals flushed as with -ftz=true (see kernels.py);
- `cuda.Stream` / `Event` / `get_current_stream`: work runs at once, but the order CUDA guarantees between
  streams is tracked and checked for the buffers of collectives (streams.py);
- `cupy.cuda.nccl` and `cupyx.distributed.NCCLBackend`, one process per rank, over TCP (nccl.py).
What it cannot model: timing and asynchrony, real memory limits, NVRTC-only compile errors (the
NVRTC compile test covers those), float rounding of the GPU's math library; nor, for a kernel that reaches its
buffers through a table of addresses (the optimizers' multi-tensor kernels), the checks of those buffers' device
and the flushing of their float32 subnormals.
"""
import contextlib
import functools
import os
import sys
import types
import weakref

import numpy as np

from . import nccl as _nccl, streams

# ---------------------------------------------------------------- the real CuPy's names
import cupy as _real  # imports on a CPU-only machine; only its names are read
import cupyx as _real_x

_NAMES = set(dir(_real))
_NDARRAY_NAMES = set(dir(_real.ndarray))
_GENERATOR_NAMES = set(dir(_real.random.Generator))
_RANDOM_NAMES = set(dir(_real.random))
_RUNTIME_NAMES = set(dir(_real.cuda.runtime))
_LINALG_NAMES = set(dir(_real.linalg))
del _real

N_DEVICES = int(os.environ.get("CUPY_SIM_DEVICES", "2"))  # (a rank of the multi-process tests: its node's GPUs)
MULTIPROCESSORS = 2  # few, so the library's grid-stride loops wrap


class HostSyncError(RuntimeError):
    """A device-to-host transfer inside no_host_sync()."""


transfers = {"count": 0, "to_device": 0}
_forbid = [0]


def _upload():
    transfers["to_device"] += 1


def _transfer(what):
    if _forbid[0]:
        raise HostSyncError(f"device-to-host transfer ({what}) inside no_host_sync()")
    transfers["count"] += 1


@contextlib.contextmanager
def no_host_sync():
    """A context in which any device-to-host transfer raises HostSyncError."""
    _forbid[0] += 1
    try:
        yield
    finally:
        _forbid[0] -= 1


# ---------------------------------------------------------------- devices
_current = [0]


class Device:
    def __init__(self, device=None):
        if isinstance(device, Device):
            device = device.id
        self.id = _current[0] if device is None else int(device)
        if not 0 <= self.id < N_DEVICES:
            raise _runtime_error(f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")
        self._prev = []

    def __enter__(self):
        self._prev.append(_current[0])
        _current[0] = self.id
        return self

    def __exit__(self, *exc):
        _current[0] = self._prev.pop()
        return False

    def use(self):
        _current[0] = self.id

    def synchronize(self):
        _transfer("Device.synchronize")
        streams.host_waits_device(self.id)

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class CUDARuntimeError(RuntimeError):
    pass


def _runtime_error(msg):
    return CUDARuntimeError(msg)


class _Strict(types.ModuleType):
    """A namespace holding only the names its real CuPy counterpart has."""

    def __init__(self, name, real_names, fallback=None):
        super().__init__(name)
        self._real_names = real_names
        self._fallback = fallback

    def __getattr__(self, name):
        if name.startswith("__") or name not in self._real_names or self._fallback is None:
            raise AttributeError(f"module '{self.__name__}' has no attribute '{name}'")
        obj = self._fallback(name)
        setattr(self, name, obj)
        return obj


def _runtime_attr(name):
    raise AttributeError(f"module 'cupy.cuda.runtime' has no attribute '{name}' in the stand-in")


runtime = _Strict("cupy.cuda.runtime", _RUNTIME_NAMES, _runtime_attr)
runtime.CUDARuntimeError = CUDARuntimeError
runtime.cudaDevAttrMultiProcessorCount = 16
runtime.getDeviceCount = lambda: N_DEVICES
runtime.getDevice = lambda: _current[0]


def _set_device(i):
    Device(i).use()


def _device_attr(attr, dev):
    if attr != runtime.cudaDevAttrMultiProcessorCount:
        raise CUDARuntimeError(f"device attribute {attr} is not modelled")
    return MULTIPROCESSORS


runtime.setDevice = _set_device
runtime.deviceGetAttribute = _device_attr
runtime.getDeviceProperties = lambda i: {"name": f"cupy-sim {Device(i).id}".encode(), "multiProcessorCount":
                                         MULTIPROCESSORS, "totalGlobalMem": 1 << 34}
runtime.deviceSynchronize = lambda: Device().synchronize()

cuda = types.ModuleType("cupy.cuda")
cuda.Device = Device
cuda.runtime = runtime
cuda.is_available = lambda: True
cuda.Stream, cuda.Event, cuda.get_current_stream = streams.Stream, streams.Event, streams.get_current_stream
cuda.stream = types.ModuleType("cupy.cuda.stream")
cuda.stream.Stream, cuda.stream.Event = streams.Stream, streams.Event
cuda.stream.get_current_stream = streams.get_current_stream
streams._current_device[0] = lambda: _current[0]
streams._sync_transfer[0] = lambda what: _transfer(what)

# ---------------------------------------------------------------- arrays
_owners = weakref.WeakValueDictionary()  # id(numpy owner) -> its ndarray
_wrappers = weakref.WeakValueDictionary()  # id(numpy array) -> the ndarray wrapping it


class _Flags:
    __slots__ = ("_f",)

    def __init__(self, f):
        self._f = f

    c_contiguous = property(lambda s: s._f.c_contiguous)
    f_contiguous = property(lambda s: s._f.f_contiguous)
    owndata = property(lambda s: s._f.owndata)

    def __getitem__(self, k):
        return self._f[k]


def _wrap(a, dev=None):
    """Wrap a numpy result as an array on `dev` (the current device by default)."""
    if isinstance(a, np.ndarray):
        if a.dtype == object:
            raise TypeError("Unsupported dtype object")
        return ndarray._of(a, _current[0] if dev is None else dev)
    if isinstance(a, np.generic):  # CuPy's reductions return 0-d arrays
        return ndarray._of(np.asarray(a), _current[0] if dev is None else dev)
    if isinstance(a, tuple):
        return tuple(_wrap(x, dev) for x in a)
    if isinstance(a, list):
        return [_wrap(x, dev) for x in a]
    return a


def _root(x):
    return x._owner if x._owner is not None else x


def _touch(x, write=False):
    """An access to x's memory from the current stream: ordered after the collectives using it?"""
    root = x._owner if x._owner is not None else x
    if root._mark is not None:
        streams.check(root, x._dev, write)


def _unwrap(x, devs, host_ok=False):
    if type(x) is ndarray:
        devs.add(x._dev)
        root = x._owner if x._owner is not None else x
        if root._mark is not None:
            streams.check(root, x._dev, False)
        return x._a
    if isinstance(x, np.ndarray):
        if host_ok:
            return x
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (tuple, list)):
        return type(x)(_unwrap(y, devs, host_ok) for y in x)
    return x


def _check_devices(devs):
    for d in devs:
        if d != _current[0]:
            raise ValueError(f"Array device must be same as the current device: array device = {d} while "
                             f"current = {_current[0]}")
    streams.issue(_current[0])  # an operation queued on the current stream


def _call(fn, args, kwargs, host_ok=False):
    devs = set()
    args = [_unwrap(a, devs, host_ok) for a in args]
    kwargs = {k: _unwrap(v, devs, host_ok) for k, v in kwargs.items()}
    _check_devices(devs)
    return _wrap(fn(*args, **kwargs))


# methods that make a view and launch no kernel: CuPy runs them on an array of any device
_VIEW_METHODS = frozenset({"reshape", "view", "transpose", "swapaxes", "squeeze"})
_INPLACE_METHODS = frozenset({"fill", "sort", "put", "partition"})


class ndarray:
    __slots__ = ("_a", "_dev", "_owner", "_mark", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = np.empty(shape, dtype, order=order)
        self._dev = _current[0]
        self._owner = None
        self._mark = None  # streams._Mark: the collectives on other streams using this (an owner's) memory
        _owners[id(self._a)] = self

    @classmethod
    def _of(cls, a, dev):
        known = _wrappers.get(id(a))
        if known is not None and known._a is a:  # numpy gave back an input: CuPy gives back the same array
            return known
        self = object.__new__(cls)
        _wrappers[id(a)] = self
        self._a = a
        self._dev = dev
        self._mark = None
        if a.base is None:
            self._owner = None
            _owners[id(a)] = self
        else:
            base = a.base
            while isinstance(base, np.ndarray) and base.base is not None:
                base = base.base
            owner = _owners.get(id(base)) if isinstance(base, np.ndarray) else None
            if owner is None or owner._a is not base:
                owner = ndarray._of(base, dev) if isinstance(base, np.ndarray) else None
            self._owner = owner
        return self

    # -- host transfers
    def _host_read(self, what):
        _touch(self)
        _transfer(what)
        streams.host_waits_current(self._dev)  # (CuPy's copy to the host waits for the current stream)

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct "
                        "a NumPy array explicitly.")

    def get(self, stream=None, order="C", out=None, blocking=True):
        self._host_read("ndarray.get")
        return self._a.copy(order=order)

    def item(self, *args):
        self._host_read("ndarray.item")
        return self._a.item(*args)

    def tolist(self):
        self._host_read("ndarray.tolist")
        return self._a.tolist()

    def __bool__(self):
        self._host_read("bool(ndarray)")
        return bool(self._a)

    def __int__(self):
        self._host_read("int(ndarray)")
        return int(self._a)

    def __float__(self):
        self._host_read("float(ndarray)")
        return float(self._a)

    def __complex__(self):
        self._host_read("complex(ndarray)")
        return complex(self._a)

    def __index__(self):
        self._host_read("index(ndarray)")
        return self._a.__index__()

    def __repr__(self):
        self._host_read("repr(ndarray)")
        return repr(self._a).replace("array", "array", 1)

    def __str__(self):
        self._host_read("str(ndarray)")
        return str(self._a)

    def __format__(self, spec):
        self._host_read("format(ndarray)")
        return format(self._a, spec)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray) or arr.shape != self.shape:
            raise ValueError("set() needs a numpy array of the same shape")
        _touch(self, write=True)
        _upload()
        self._a[...] = arr

    __hash__ = None

    # -- attributes
    shape = property(lambda s: s._a.shape)
    dtype = property(lambda s: s._a.dtype)
    ndim = property(lambda s: s._a.ndim)
    size = property(lambda s: s._a.size)
    nbytes = property(lambda s: s._a.nbytes)
    itemsize = property(lambda s: s._a.itemsize)
    strides = property(lambda s: s._a.strides)
    flags = property(lambda s: _Flags(s._a.flags))
    device = property(lambda s: Device(s._dev))
    T = property(lambda s: _wrap(s._a.T, s._dev))
    mT = property(lambda s: _wrap(np.swapaxes(s._a, -1, -2), s._dev))
    base = property(lambda s: s._owner)

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self._a.ctypes.data, device_id=self._dev)

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self._a.ctypes.data, False),
                "version": 3, "strides": None if self._a.flags.c_contiguous else self.strides}

    def __dlpack__(self, stream=None, **kwargs):
        return _Capsule(self)

    def __dlpack_device__(self):
        return (2, self._dev)  # kDLCUDA

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        for i in range(len(self._a)):
            yield self[i]

    def __getattr__(self, name):
        if name not in _NDARRAY_NAMES or name.startswith("__"):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        method = getattr(self._a, name)
        if not callable(method):
            return _wrap(method, self._dev)
        dev = self._dev
        launches = name not in _VIEW_METHODS
        this = self

        def call(*args, **kwargs):
            if launches:
                _touch(this, write=name in _INPLACE_METHODS)
            devs = {dev} if launches else set()
            args = [_unwrap(a, devs) for a in args]
            kwargs = {k: _unwrap(v, devs) for k, v in kwargs.items()}
            _check_devices(devs)
            return _wrap(method(*args, **kwargs), dev)
        return call

    # -- numpy protocol: numpy functions on these arrays run as CuPy's would
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc.__name__ not in _NAMES:
            return NotImplemented
        if "out" in kwargs:
            out = kwargs["out"]
            kwargs["out"] = out if isinstance(out, tuple) else (out,)
            for o in kwargs["out"]:
                if type(o) is ndarray:
                    _touch(o, write=True)
        result = _call(getattr(ufunc, method), inputs, kwargs)
        if "out" in kwargs:
            outs = kwargs["out"]
            return outs[0] if len(outs) == 1 else outs
        return result

    def __array_function__(self, func, types_, args, kwargs):
        mod = func.__module__ or ""
        names = _LINALG_NAMES if mod.endswith("linalg") else _NAMES
        if func.__name__ not in names:
            return NotImplemented
        return _call(func, args, kwargs)

    # -- indexing: integer-array indices wrap, as in CuPy; a boolean mask synchronises
    def _key(self, key):
        devs = set()
        key = _unwrap(key, devs, host_ok=True)
        _check_devices(devs | {self._dev})
        t = key if isinstance(key, tuple) else (key,)
        if not any(isinstance(k, np.ndarray) for k in t):
            return key
        if any(isinstance(k, np.ndarray) and k.dtype == bool for k in t):
            _transfer("boolean-mask indexing")
            return key
        # the dims each entry indexes (None and Ellipsis take none/several)
        n_int = sum(1 for k in t if k is not None and k is not Ellipsis and not (isinstance(k, np.ndarray)
                                                                                   and k.dtype == bool))
        out, dim = [], 0
        for k in t:
            if k is Ellipsis:
                dim += self.ndim - n_int
                out.append(k)
                continue
            if k is None:
                out.append(k)
                continue
            if isinstance(k, np.ndarray) and k.dtype.kind in "iu" and dim < self.ndim:
                k = np.mod(k, self._a.shape[dim]) if self._a.shape[dim] else k
            out.append(k)
            dim += 1
        return tuple(out)

    def __getitem__(self, key):
        key = self._key(key)
        if any(isinstance(k, np.ndarray) for k in (key if isinstance(key, tuple) else (key,))):
            _touch(self)  # (a gather reads the memory; a view does not)
        return _wrap(self._a[key], self._dev)

    def __setitem__(self, key, value):
        _touch(self, write=True)
        devs = set()
        if isinstance(value, np.ndarray):
            _upload()
        value = _unwrap(value, devs, host_ok=True)
        _check_devices(devs)
        self._a[self._key(key)] = value


def _binary(ufunc, reflected=False):
    if reflected:
        return lambda self, other: _call(ufunc, (other, self), {})
    return lambda self, other: _call(ufunc, (self, other), {})


def _inplace(ufunc):
    def op(self, other):
        _touch(self, write=True)
        devs = {self._dev}
        other = _unwrap(other, devs)
        _check_devices(devs)
        ufunc(self._a, other, out=self._a)
        return self
    return op


for _name, _uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
                   ("floordiv", np.floor_divide), ("mod", np.remainder), ("pow", np.power),
                   ("matmul", np.matmul), ("and", np.bitwise_and), ("or", np.bitwise_or),
                   ("xor", np.bitwise_xor), ("lshift", np.left_shift), ("rshift", np.right_shift)]:
    setattr(ndarray, f"__{_name}__", _binary(_uf))
    setattr(ndarray, f"__r{_name}__", _binary(_uf, True))
    setattr(ndarray, f"__i{_name}__", _inplace(_uf))
for _name, _uf in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                   ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(ndarray, f"__{_name}__", _binary(_uf))
for _name, _uf in [("neg", np.negative), ("pos", np.positive), ("abs", np.absolute), ("invert", np.invert)]:
    setattr(ndarray, f"__{_name}__", lambda self, _uf=_uf: _call(_uf, (self,), {}))


# ---------------------------------------------------------------- the namespace
class _Ufunc:
    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__
        self.nin, self.nout = uf.nin, uf.nout

    def __call__(self, *args, **kwargs):
        return _call(self._uf, args, kwargs)

    def __getattr__(self, method):
        if method not in ("reduce", "accumulate", "reduceat", "outer", "at"):
            raise AttributeError(method)
        fn = getattr(self._uf, method)
        return lambda *a, **k: _call(fn, a, k)


def _from_numpy(module, name):
    obj = getattr(module, name, None)
    if obj is None:
        raise AttributeError(f"cupy stand-in: numpy has no '{name}' to model it")
    if isinstance(obj, np.ufunc):
        return _Ufunc(obj)
    if isinstance(obj, types.ModuleType):  # a numpy submodule would take these arrays as numpy's
        raise AttributeError(f"cupy stand-in: submodule '{name}' is not modelled")
    if isinstance(obj, type) or not callable(obj):
        return obj  # dtypes, scalar types, constants
    return functools.wraps(obj)(lambda *a, **k: _call(obj, a, k))


def _take(a, indices, axis=None, out=None):  # CuPy wraps out-of-range indices
    devs = set()
    a_, i_ = _unwrap(a, devs), _unwrap(indices, devs)
    _check_devices(devs)
    return _wrap(np.take(a_, i_, axis=axis, mode="wrap"))


def _take_along_axis(a, indices, axis):
    devs = set()
    a_, i_ = _unwrap(a, devs), _unwrap(indices, devs)
    _check_devices(devs)
    n = a_.shape[axis if axis is not None else 0] if a_.ndim else 1
    return _wrap(np.take_along_axis(a_, np.mod(i_, n) if n else i_, axis))


_self = _Strict("cupy", _NAMES, lambda name: _from_numpy(np, name))
_self.take, _self.take_along_axis = _take, _take_along_axis
linalg = _Strict("cupy.linalg", _LINALG_NAMES, lambda name: _from_numpy(np.linalg, name))


def asarray(a, dtype=None, order=None, *, blocking=False):
    if type(a) is ndarray:
        _check_devices({a._dev})
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    if isinstance(a, (list, tuple)) and any(type(x) is ndarray for x in a):
        return _call(np.asarray, (a,), {"dtype": dtype})
    _upload()
    return _wrap(np.array(a, dtype=dtype, order=order or "K"))  # host to device: a copy


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if type(obj) is ndarray:
        return _call(np.array, (obj,), {"dtype": dtype, "copy": copy, "order": order, "ndmin": ndmin})
    _upload()
    return _wrap(np.array(obj, dtype=dtype, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    if type(a) is ndarray:
        return a.get(order=order)
    return np.asarray(a, order=order)


class _Capsule:
    """What the stand-in's __dlpack__ gives: the array itself (DLPack shares memory)."""
    def __init__(self, a):
        self.array = a


def from_dlpack(x):
    cap = x.__dlpack__() if hasattr(x, "__dlpack__") else x
    if not isinstance(cap, _Capsule):
        raise TypeError(f"the cupy stand-in takes DLPack only from its own arrays, got {type(x).__name__}")
    return cap.array


def RawKernel(code, name, options=(), backend="nvrtc", translate_cucomplex=False,
              enable_cooperative_groups=False, jitify=False):
    from .kernels import _Plain
    return _Plain(code, name, ndarray, lambda: _current[0])


class MemoryPool:
    def used_bytes(self):
        # as CuPy's pool: each allocation rounded up to 512 bytes
        return sum(-(-a._a.nbytes // 512) * 512 for a in list(_owners.values()) if a._dev == _current[0])

    total_bytes = used_bytes

    def free_all_blocks(self, stream=None):
        pass

    def n_free_blocks(self):
        return 0


_POOL = MemoryPool()


def get_default_memory_pool():
    return _POOL


# ---------------------------------------------------------------- random
_M64 = (1 << 64) - 1


class _BitGenerator:
    """As CuPy's: the generator's state lives in a device array, `_state`, that a copy can snapshot and an
    in-place write can restore. Each draw reads the numpy generator's state from it and writes it back."""

    def __init__(self, g):
        self._g = g
        self._state = ndarray._of(np.zeros(6, np.uint64), _current[0])
        self._store()

    def _store(self):
        st = self._g.bit_generator.state
        s, inc = st["state"]["state"], st["state"]["inc"]
        self._state._a[...] = [s & _M64, s >> 64, inc & _M64, inc >> 64, st["has_uint32"], st["uinteger"]]

    def _load(self):
        v = [int(x) for x in self._state._a]
        self._g.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": v[0] | v[1] << 64,
                                       "inc": v[2] | v[3] << 64}, "has_uint32": v[4], "uinteger": v[5]}


class Generator:
    """cupy.random.Generator: only the methods the real one has."""

    def __init__(self, seed=None):
        self._g = np.random.default_rng(seed)
        self._dev = _current[0]
        self.bit_generator = _BitGenerator(self._g)

    def __getattr__(self, name):
        if name not in _GENERATOR_NAMES or name.startswith("_"):
            raise AttributeError(f"'cupy.random._generator_api.Generator' object has no attribute '{name}'")
        fn = getattr(self._g, name)
        dev, bits = self._dev, self.bit_generator

        def call(*args, **kwargs):
            _check_devices({dev})
            bits._load()
            try:
                return _call(fn, args, kwargs)
            finally:
                bits._store()
        return call


random = _Strict("cupy.random", _RANDOM_NAMES, lambda name: _from_numpy(np.random, name))
random.Generator = Generator
random.default_rng = lambda seed=None: Generator(seed)


# ---------------------------------------------------------------- cupyx
_SCATTER_DTYPES = {np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64, np.float32,
                                          np.float64)}


def scatter_add(a, slices, value):
    if a.dtype not in _SCATTER_DTYPES:
        raise TypeError(f"scatter_add does not support dtype {a.dtype}")
    key = a._key(slices)
    devs = {a._dev}
    value = _unwrap(value, devs)
    _check_devices(devs)
    np.add.at(a._a, key, value)


cupyx = types.ModuleType("cupyx")
cupyx.scatter_add = scatter_add
cuda.nccl, cupyx.distributed = _nccl.nccl, _nccl.distributed
cupyx.scipy = types.ModuleType("cupyx.scipy")
cupyx.scipy.special = types.ModuleType("cupyx.scipy.special")
assert hasattr(_real_x, "scatter_add")


def _special(name):
    import scipy.special
    fn = getattr(scipy.special, name)
    return lambda *a, **k: _call(fn, a, k)


cupyx.scipy.special.erf = _special("erf")
cupyx.scipy.special.erfc = _special("erfc")
cupyx.scipy.special.erfinv = _special("erfinv")


# ---------------------------------------------------------------- kernels
def RawModule(code=None, path=None, options=(), backend="nvrtc", translate_cucomplex=False,
              enable_cooperative_groups=False, name_expressions=None, jitify=False):
    from .kernels import RawModule as _Module
    return _Module(code, options=options, name_expressions=name_expressions or (),
                   _array_type=ndarray, _current_device=lambda: _current[0])


def _on_launch(pointers):
    for a, written in pointers:
        _touch(a, written)
    streams.issue(_current[0])


from . import kernels as _kernels  # noqa: E402
_kernels.on_launch[0] = _on_launch

lib = types.ModuleType("cupy.lib")
lib.stride_tricks = types.ModuleType("cupy.lib.stride_tricks")


def _as_strided(x, shape=None, strides=None):
    _check_devices({x._dev})
    return _wrap(np.lib.stride_tricks.as_strided(x._a, shape, strides), x._dev)


lib.stride_tricks.as_strided = _as_strided

for _n, _v in [("ndarray", ndarray), ("lib", lib), ("cuda", cuda), ("asarray", asarray), ("array", array),
               ("asnumpy", asnumpy), ("from_dlpack", from_dlpack), ("get_default_memory_pool",
                                                                      get_default_memory_pool),
               ("random", random), ("RawModule", RawModule), ("RawKernel", RawKernel), ("linalg", linalg)]:
    setattr(_self, _n, _v)
_self.__version__ = "14.2.0-sim"
_self.no_host_sync = no_host_sync
_self.transfers = transfers
cupy = _self


def install():
    """Point the library's CuPy at this stand-in (what the test session does on a machine without a GPU)."""
    from autograd_gpu import _device
    _device._cupy = cupy
    _device._cupyx = cupyx
    # a user program's own `import cupy` (examples/custom_kernel_function.py) gets the stand-in too, and so do
    # `from cupy.cuda import nccl` and `import cupyx.distributed`
    sys.modules.update({"cupy": cupy, "cupyx": cupyx, "cupy.cuda": cuda, "cupy.cuda.nccl": cuda.nccl,
                        "cupy.cuda.stream": cuda.stream, "cupyx.distributed": cupyx.distributed})
    return cupy

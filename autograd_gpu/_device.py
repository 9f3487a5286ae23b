"""Devices: 'cpu' runs on numpy, 'cuda' / 'cuda:N' on CuPy. Nothing here touches CUDA at import time."""
import sys
import threading

import numpy as np

_INSTALL_HINT = ("Install CuPy for your CUDA version (pip install '.[cuda12]' or '.[cuda13]') on a machine "
                 "with an NVIDIA GPU, or use device='cpu'.")


class device:
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: {type!r}")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            type, _, idx = type.partition(":")
            try:
                index = int(idx)
            except ValueError:
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'") from None
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = type
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")
_cuda_devices = {}


def cuda_device(index):
    d = _cuda_devices.get(index)
    if d is None:
        d = _cuda_devices[index] = device("cuda", index)
    return d


_state = threading.local()
_default = [CPU]


def get_default_device():
    return _default[0]


def set_default_device(dev):
    _default[0] = CPU if dev is None else resolve(dev)


_cupy = None


def cupy():
    """The cupy module, importing it on first use, or a RuntimeError saying how to get one."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp
        except Exception as e:  # ImportError, or a broken CUDA install
            raise RuntimeError(f"CUDA is not available: cupy could not be imported ({e}). {_INSTALL_HINT}") from None
        _cupy = cp
    return _cupy


_cupyx = None


def cupyx():
    """The cupyx module (scatter_add, scipy.special), imported on first use."""
    global _cupyx
    if _cupyx is None:
        cupy()
        import cupyx as cx
        _cupyx = cx
    return _cupyx


def cuda_available():
    try:
        cp = cupy()
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def cuda_device_count():
    try:
        return cupy().cuda.runtime.getDeviceCount()
    except Exception:
        return 0


def resolve(dev):
    """A device object for a user's device argument; cuda without an index means the current GPU."""
    if dev is None:
        return _default[0]
    if isinstance(dev, device) and (dev.type == "cpu" or dev.index is not None):
        d = dev
    else:
        d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return CPU
    if not cuda_available():
        raise RuntimeError(f"Cannot use device '{d}': no CUDA GPU is available. {_INSTALL_HINT}")
    index = d.index if d.index is not None else cupy().cuda.runtime.getDevice()
    if index >= cuda_device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal {index} ({cuda_device_count()} GPU(s) present)")
    return cuda_device(index)


def check_same_device(arrays, what=""):
    """PyTorch's RuntimeError when numpy/cupy `arrays` live on more than one device."""
    devs = {device_of_array(a) for a in arrays}
    if len(devs) > 1:
        a, b = sorted(str(d) for d in devs)[:2]
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{b} and {a}! {what}Move them with .to(device) first.")


def xp_of(dev):
    return np if dev.type == "cpu" else cupy()


def device_of_array(a):
    if isinstance(a, np.ndarray):
        return CPU
    return cuda_device(a.device.id)


class _NullCtx:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


_NULL = _NullCtx()


def on(dev):
    """A context that makes `dev` the current CUDA device (a no-op for the CPU)."""
    if dev.type == "cpu":
        return _NULL
    return cupy().cuda.Device(dev.index)


def to_host(a):
    """A numpy array with the data of `a` (a copy from the GPU; `a` itself on the CPU)."""
    if isinstance(a, np.ndarray):
        return a
    raise_pending()
    return a.get()


# ---- index checks on the GPU, without a synchronisation per op
# NOTE: a bounds check of GPU indices on the host would synchronise every gather / embedding / cross-entropy.
# Instead the check leaves a flag on the device (one per op and call site, OR-ed in place, so a training loop
# keeps a bounded number) and the next synchronising call (.item(), .cpu(), .numpy(), .tolist(), printing,
# cuda.synchronize()) reads them all and raises the first error. Unlike PyTorch's device-side assert, the
# process stays usable: the flags are cleared when they are raised.
_pending = {}  # (op, call site, device index) -> [0-d bool device array, exception type, message]


def _call_site():
    f = sys._getframe(2)
    while f is not None and f.f_globals.get("__name__", "").startswith("autograd_gpu"):
        f = f.f_back
    return "<unknown>" if f is None else f"{f.f_code.co_filename}:{f.f_lineno}"


def check_index_range(a, lo, hi, exc, message, op):
    """Raise exc(message) if an element of the index array `a` lies outside [lo, hi): at once for a numpy array;
    for a GPU array by the next synchronising call (see raise_pending)."""
    if not a.size:
        return
    if isinstance(a, np.ndarray):
        if a.min() < lo or a.max() >= hi:
            raise exc(message)
        return
    with a.device:
        bad = ((a < lo) | (a >= hi)).any()  # a 0-d device array: no synchronisation
        key = (op, _call_site(), a.device.id)
        entry = _pending.get(key)
        if entry is None:
            _pending[key] = [bad, exc, message]
        else:
            entry[0] |= bad


def raise_pending():
    """Raise the first index error flagged on a GPU since the last synchronising call (and clear them all)."""
    if not _pending:
        return
    entries = list(_pending.items())
    _pending.clear()
    for (op, site, dev), (flag, exc, message) in entries:
        with cupy().cuda.Device(dev):
            bad = flag.get()
        if bad:
            raise exc(f"{message} (found on the GPU in {op}, called at {site}; reported at this synchronising "
                      f"call, as CUDA checks run asynchronously)")

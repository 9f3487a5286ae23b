"""Devices: 'cpu' runs on numpy, 'cuda' / 'cuda:N' on CuPy. Nothing here touches CUDA at import time."""
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
    return a if isinstance(a, np.ndarray) else a.get()

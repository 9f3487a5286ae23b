"""torch.cuda's basics. Every function here is safe to call on a machine without CUDA."""
from .. import _device
from .. import _random


def is_available():
    return _device.cuda_available()


def device_count():
    return _device.cuda_device_count()


def current_device():
    return _device.cupy().cuda.runtime.getDevice() if is_available() else 0


def set_device(device):
    d = _device.device(device) if not isinstance(device, int) else _device.cuda_device(device)
    _device.cupy().cuda.runtime.setDevice(d.index or 0)


def synchronize(device=None):
    """Wait for all queued GPU work (a no-op without CUDA)."""
    if is_available():
        _device.cupy().cuda.Device(_index(device)).synchronize()
        _device.raise_pending()


def _index(device):
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    d = device if isinstance(device, _device.device) else _device.device(device)
    return d.index or 0


def get_device_name(device=None):
    return _device.cupy().cuda.runtime.getDeviceProperties(_index(device))["name"].decode()


def manual_seed(seed):
    _random.manual_seed(seed)


manual_seed_all = manual_seed


def memory_allocated(device=None):
    """Bytes held by live arrays in CuPy's memory pool."""
    if not is_available():
        return 0
    cp = _device.cupy()
    with cp.cuda.Device(_index(device)):  # (the pool reports on the current device)
        return cp.get_default_memory_pool().used_bytes()


def empty_cache():
    if is_available():
        _device.cupy().get_default_memory_pool().free_all_blocks()


from . import amp  # noqa: E402,F401  (torch.cuda.amp; after the functions above, which amp does not need)

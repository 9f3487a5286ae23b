"""Tensor creation (tensor, zeros, arange, rand, ...), device/dtype moves and DLPack interop."""
import builtins
import functools
import math
import operator
import warnings

import numpy as np

from . import _device, _dtype, _random
from .ops.core import _wrap_int, apply, defop
from .tensor import Tensor, _check_can_require_grad
from .tensor import SCALAR_TYPE_NAMES


def _finish(data, requires_grad):
    _check_can_require_grad(data, requires_grad)
    return Tensor._make(data, bool(requires_grad))


def _on_device(arr, dev):
    """Move a numpy/cupy array to `dev` (no copy when it is already there)."""
    if dev.type == "cpu":
        return _device.to_host(arr)
    cp = _device.cupy()
    with cp.cuda.Device(dev.index):
        return cp.asarray(arr)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) and not (isinstance(s, Tensor) and s.numel() == 1):
            raise TypeError(f"expected a sequence of integers as size, but got {type(s).__name__}")
        if isinstance(s, int) and not -(1 << 63) <= s < (1 << 63):
            raise TypeError(f"argument 'size' failed to unpack the object: Overflow when unpacking long ({s})")
    size = tuple(int(s) for s in size)
    if builtins.any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    return size


def _infer_dtype(arr, source):
    """PyTorch's dtype inference: Python floats give the default dtype, ints int64; numpy keeps its own."""
    if arr.dtype == object:
        raise TypeError(f"Could not infer dtype of {type(source).__name__}")
    if isinstance(source, np.ndarray) or (hasattr(source, "dtype") and not isinstance(source, (list, tuple))):
        return _dtype.from_numpy_dtype(arr.dtype)
    if isinstance(source, (list, tuple)) and builtins.any(isinstance(v, np.generic) for v in _flat(source)):
        # numpy scalars among Python numbers: PyTorch promotes the elements' types (np.float64 -> float64)
        return functools.reduce(_dtype.promote_types, (_scalar_dtype(v) for v in _flat(source)))
    k = arr.dtype.kind
    if k == "f":
        return _dtype.get_default_dtype()
    if k in "iu":
        return _dtype.int64
    if k == "b":
        return _dtype.bool
    return _dtype.from_numpy_dtype(arr.dtype)


def _scalar_dtype(v):
    if isinstance(v, np.generic):
        return _dtype.from_numpy_dtype(v.dtype)
    if isinstance(v, bool):
        return _dtype.bool
    return _dtype.int64 if isinstance(v, int) else _dtype.get_default_dtype()


def _has_long_overflow(data):
    """Whether Python ints in `data` (a number or nested lists) lie outside int64, which PyTorch refuses."""
    if type(data) is int:
        return not -(1 << 63) <= data < (1 << 63)
    return isinstance(data, (list, tuple)) and builtins.any(
        type(v) is int and not -(1 << 63) <= v < (1 << 63) for v in _flat(data))


def _check_python_numbers(arr, data, dt):
    """PyTorch's check on Python numbers given to tensor() with an integer dtype: a number the dtype cannot
    hold is refused (numpy would wrap it silently)."""
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__") or isinstance(data, Tensor):
        return
    if dt.is_floating_point or dt is _dtype.bool or arr.size == 0 or arr.dtype.kind not in "iuf":
        return
    info = np.iinfo(dt.np)
    lo = -(1 << (8 * info.dtype.itemsize - 1)) if info.min == 0 else info.min  # (uint8 takes -1 as 255)
    if arr.dtype.kind == "f" and info.min == 0:
        lo = 0  # (but not -0.5)
    if not (np.isfinite(arr).all() and lo <= arr.min() and arr.max() <= info.max):
        raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")


def _to_array(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)) and data and builtins.any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested_items(data)
    if hasattr(data, "__cuda_array_interface__") and not isinstance(data, np.ndarray):
        return _device.cupy().asarray(data)
    return np.asarray(data)


def _flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _nested_items(data):
    """Tensors among nested lists as the numbers they hold (numpy scalars of their dtype, which then takes part in
    the dtype, as in PyTorch); a tensor of more than one element is refused, as PyTorch refuses it."""
    if isinstance(data, (list, tuple)):
        return [_nested_items(d) for d in data]
    if isinstance(data, Tensor):
        if data.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return data._data.reshape(()).dtype.type(data.item())
    return data


def _check_data(data, dtype, top=True):
    """PyTorch's errors for data tensor() cannot take: a sequence beside a number, None, a string, a set, a
    numpy array inside a list."""
    if isinstance(data, (list, tuple)):
        seqs = [isinstance(d, (list, tuple)) for d in data]
        if builtins.any(seqs) and not builtins.all(seqs):
            raise TypeError("not a sequence")
        for d in data:
            _check_data(d, dtype, top=False)
    elif data is None:
        if dtype is not None:
            raise TypeError("must be real number, not NoneType")
        raise RuntimeError("Could not infer dtype of NoneType")
    elif isinstance(data, (str, bytes)):
        if top:
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        raise ValueError(f"too many dimensions '{type(data).__name__}'")
    elif isinstance(data, (complex, np.complexfloating)):
        _dtype.check_real(data)
    elif isinstance(data, (set, frozenset, dict)):
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    elif isinstance(data, np.ndarray) and not top:
        raise TypeError("len() of unsized object" if data.ndim == 0 else "a numpy array inside a list: stack the "
                        "arrays with numpy first")
    elif (isinstance(data, (np.floating, np.bool_)) and not isinstance(data, np.float64) and dtype is not None
          and not dtype.is_floating_point and not (isinstance(data, np.bool_) and dtype is _dtype.bool)):
        raise TypeError(f"'{type(data).__module__}.{type(data).__name__}' object cannot be interpreted as an "
                        "integer")


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, numpy/cupy arrays).

    >>> tensor([1., 2.], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() "
                      "or sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor("
                      "sourceTensor).", UserWarning, stacklevel=2)
        if device is None:
            device = data.device
    given = _dtype.to_dtype(dtype)
    _check_data(data, given)
    arr = _to_array(data)
    if type(arr) is np.ndarray and arr.dtype.kind in "ufO" and _has_long_overflow(data) and (
            given is None or not (given.is_floating_point or given is _dtype.bool)):
        raise ValueError("Overflow when unpacking long long")  # (numpy made it uint64, float64 or object)
    dt = given or _infer_dtype(arr, data)
    if type(arr) is np.ndarray and arr.dtype.kind in "iuf":
        _check_python_numbers(arr, data, dt)
    if device is None and not isinstance(arr, np.ndarray):
        dev = _device.device_of_array(arr)
    else:
        dev = _device.resolve(device)
    with _device.on(dev):
        arr = _on_device(arr, dev)
        arr = arr.astype(dt.np) if arr.dtype != dt.np else arr.copy()
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with `data` when dtype and device already match."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device is not None or dtype is not None) else data
    given = _dtype.to_dtype(dtype)
    _check_data(data, given)
    arr = _to_array(data)
    dt = given or _infer_dtype(arr, data)
    dev = _device.device_of_array(arr) if device is None and not isinstance(arr, np.ndarray) else \
        _device.resolve(device)
    arr = _on_device(arr, dev)
    if arr.dtype != dt.np:
        arr = arr.astype(dt.np)
    return Tensor._make(arr)


asarray = as_tensor


def from_numpy(ndarray):
    """A CPU tensor sharing memory with `ndarray` (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def from_dlpack(ext_tensor):
    """A tensor sharing memory with any DLPack producer (PyTorch, CuPy, numpy, JAX, ...)."""
    dev_type, dev_id = ext_tensor.__dlpack_device__() if hasattr(ext_tensor, "__dlpack_device__") else (1, 0)
    if int(dev_type) == 1:
        return Tensor._make(np.from_dlpack(ext_tensor))
    cp = _device.cupy()
    with cp.cuda.Device(int(dev_id)):
        return Tensor._make(cp.from_dlpack(ext_tensor))


def _make_filled(size, fill, dtype, device, requires_grad, default):
    dt = _dtype.to_dtype(dtype) or default
    fill = _dtype.checked_scalar(fill, dt)
    if dt is _dtype.bool:
        fill = builtins.bool(fill)
    elif type(fill) is int and dt.np.kind in "iu":
        fill = _wrap_int(fill, dt.np)  # (full((2,), -3, dtype=uint8) is 253, as in PyTorch)
    dev = _device.resolve(device)
    xp = _device.xp_of(dev)
    with _device.on(dev):
        arr = xp.full(_size(size), fill, dtype=dt.np) if fill != 0 else xp.zeros(_size(size), dtype=dt.np)
    return _finish(arr, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _make_filled(size, 0, dtype, device, requires_grad, _dtype.get_default_dtype())


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _make_filled(size, 1, dtype, device, requires_grad, _dtype.get_default_dtype())


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, memory_format=None):
    return _make_filled(size, 0, dtype, device, requires_grad, _dtype.get_default_dtype())


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    fill_value = fill_value.item() if isinstance(fill_value, Tensor) else _dtype.number_arg(fill_value, "full",
                                                                                              "fill_value")
    default = (_dtype.bool if isinstance(fill_value, bool) else _dtype.int64 if isinstance(fill_value, int)
               else _dtype.get_default_dtype())
    if not isinstance(size, (tuple, list)) and not hasattr(size, "__iter__"):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    return _make_filled((tuple(size),), fill_value, dtype, device, requires_grad, default)


def _index_arg(fn, v, arg):
    """An int argument (a size, a count); PyTorch's TypeError for a float or a string."""
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{fn}(): argument '{arg}' must be int, not {type(v).__name__}") from None


def _like(t, dtype, device):
    if not isinstance(t, Tensor):
        raise TypeError(f"argument 'input' (position 1) must be Tensor, not {type(t).__name__}")
    return dtype if dtype is not None else t.dtype, device if device is not None else t.device


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return zeros(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return ones(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return empty(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, (Tensor, np.generic)) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    default = _dtype.int64 if builtins.all(isinstance(v, int) for v in vals) else _dtype.get_default_dtype()
    dt = _dtype.to_dtype(dtype) or default
    if dt is _dtype.bool:
        raise _dtype.not_implemented("arange_cpu", dt)
    if not builtins.all(math.isfinite(v) for v in vals):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if not builtins.all(-(1 << 63) <= v < (1 << 63) for v in vals if isinstance(v, int)):
        raise RuntimeError("value cannot be converted to type int64_t without overflow")
    n = builtins.max(math.ceil((end - start) / step), 0)
    dev = _device.resolve(device)
    xp = _device.xp_of(dev)
    with _device.on(dev):
        if dt.is_floating_point:
            arr = (start + xp.arange(n, dtype=np.float64) * step).astype(dt.np)
        else:
            arr = (start + xp.arange(n, dtype=np.int64) * step).astype(dt.np)
    return _finish(arr, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    steps = _index_arg("linspace", steps, "steps")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _dtype.to_dtype(dtype) or _dtype.get_default_dtype()
    if dt is _dtype.bool:
        raise _dtype.not_implemented("linspace_cpu", dt)
    dev = _device.resolve(device)
    xp = _device.xp_of(dev)
    # NOTE: PyTorch computes in the result's float type (float64 for integer results), so do we
    ct = dt.np if dt.is_floating_point else np.dtype(np.float64)
    with _device.on(dev):
        i = xp.arange(steps, dtype=ct)
        if steps == 1:
            arr = xp.full((1,), start, dtype=ct)
        else:
            # PyTorch's symmetric formula: the first half counts up from start, the second down from end
            # NOTE: for an integer result PyTorch first truncates start and end to integers
            lo, hi = (start, end) if dt.is_floating_point else (int(start), int(end))
            lo, hi = ct.type(lo), ct.type(hi)
            step = (hi - lo) / ct.type(steps - 1)
            arr = xp.where(i < steps // 2, lo + i * step, hi - (ct.type(steps - 1) - i) * step)
        arr = arr.astype(dt.np)
    return _finish(arr, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    t = linspace(start, end, steps, dtype=_dtype.float64, device=device)
    out = Tensor._make((base ** t._data).astype((_dtype.to_dtype(dtype) or _dtype.get_default_dtype()).np))
    return out.requires_grad_(requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    n = _index_arg("eye", n, "n")
    m = n if m is None else _index_arg("eye", m, "m")
    for name, v in (("n", n), ("m", m)):
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    dt = _dtype.to_dtype(dtype) or _dtype.get_default_dtype()
    dev = _device.resolve(device)
    xp = _device.xp_of(dev)
    with _device.on(dev):
        arr = xp.eye(n, m, dtype=dt.np)
    return _finish(arr, requires_grad)


def _random_tensor(kind, size, dtype, device, requires_grad, generator, **kw):
    dt = _dtype.to_dtype(dtype) or (_dtype.int64 if kind == "integers" else _dtype.get_default_dtype())
    if kind != "integers" and not dt.is_floating_point:
        raise NotImplementedError(f"\"{'check_uniform_bounds' if kind == 'random' else 'normal_kernel_cpu'}\" not "
                                  f"implemented for '{SCALAR_TYPE_NAMES[dt.np.name]}'")
    dev = _device.resolve(device)
    arr = _random.sample(kind, _size(size), dt, dev, generator, **kw)
    return _finish(arr, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _random_tensor("random", size, dtype, device, requires_grad, generator)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _random_tensor("normal", size, dtype, device, requires_grad, generator)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if size is None or not hasattr(size, "__iter__"):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _random_tensor("integers", (tuple(size),), dtype, device, requires_grad, generator, low=low, high=high)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    n = _index_arg("randperm", n, "n")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dev = _device.resolve(device)
    arr = _random.permutation(n, dev, generator)
    dt = _dtype.to_dtype(dtype) or _dtype.int64
    return _finish(arr.astype(dt.np), requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return rand(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    dt, dev = _like(input, dtype, device)
    return randn(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    dt, dev = _like(input, dtype, device)
    return randint(low, high, tuple(input.shape), dtype=dt, device=dev, requires_grad=requires_grad)


# ---- moves between devices and dtypes -----------------------------------------------------------------
def _to_fwd(xp, x, dtype, device, src_device=None):
    out = x
    if device is not None:
        out = _on_device(out, device)
    if dtype is not None and out.dtype != dtype:
        out = out.astype(dtype)
    if out is x:
        out = x.copy()
    return out


def _to_bwd(ctx, g):
    shape, dt = ctx._meta[0]
    src = ctx.params["src_device"]
    return g.to(device=src if src != g.device else None, dtype=_dtype.from_numpy_dtype(dt))


TO_COPY = defop("to", _to_fwd, _to_bwd, node="ToCopyBackward0", group="shape", dtype="keep", public=False)


def _parse_to(t, args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (_dtype.dtype, type)):
            dtype = a
        elif isinstance(a, bool):
            continue  # non_blocking / copy given positionally
        elif a is not None:
            device = a
    return device, dtype, copy


def _to(t, *args, **kwargs):
    device, dtype, copy = _parse_to(t, args, dict(kwargs))
    dev = _device.resolve(device) if device is not None else None
    dt = _dtype.to_dtype(dtype)
    if dev is not None and dev == t.device:
        dev = None
    if dt is not None and dt.np == t._data.dtype:
        dt = None
    if dev is None and dt is None and not copy:
        return t
    return apply(TO_COPY, t, dtype=dt.np if dt is not None else None, device=dev, src_device=t.device)


def _legacy_new(cls, *args, device=None, **kwargs):
    if cls is not Tensor:  # subclasses (nn.Parameter) build themselves
        return object.__new__(cls)
    if not args:
        return zeros(0, device=device)
    if len(args) == 1 and not isinstance(args[0], int):
        return tensor(args[0], dtype=_dtype.float32, device=device)
    return empty(*args, device=device)

"""The CUDA kernels of ``kernels/<family>.cu``: their signatures, read from the source, and their launch.

A kernel is declared once, in its ``.cu`` file, as ``template <typename T> __global__ void name(...)``.
Its parameter list says everything the launcher needs, in this order:

* inputs: ``const T*`` (``const bool*``, ``const long long*`` for masks and indices); a ``T*`` among
  them is state the kernel updates in place (an optimizer's parameter and moments); a ``float*`` (``const`` or
  not) is a device scalar, a one-element float32 array read at [0] and never broadcast (an optimizer's step
  count, GradScaler's scale and found_inf flag);
* scalars: ``T lo``, ``T lr``, ...: passed by name, cast to T;
* outputs: the ``T*`` after every input and scalar, allocated by the launcher;
* sizes: ``long long n`` (elementwise), ``long long rows, long long cols`` (row-wise, over one axis
  moved last), or an image geometry (``long long N, C, H, ...``) followed by ``n``.

Python adds the one other copy of the arithmetic: the reference formula, registered with
``kernel(name, reference)`` where the kernel is used (an op's derivative, ``ops/kernel_grad.py``; an
optimizer's step, ``optim/<name>.py``). ``run_kernel`` launches the kernel on cupy float32/float64 arrays
and runs the reference everywhere else (numpy arrays, float16), so the reference is the CPU computation
and the GPU fallback; the tests run both on the same inputs. Nothing here touches CUDA at import time:
each family's ``cupy.RawModule`` is built on its first launch.

An optimizer kernel ``name`` may have a multi-tensor twin, ``name_multi_tensor(const long long* tensors,
<shared device scalars>, <the same scalars>, long long n)``, which updates many tensors in one launch through a
device table of their addresses (kernels/optim.cu): one row per tensor of the arrays of ``name``'s inputs, but
for the shared device scalars (GradScaler's scale and flag, the same for every tensor), passed once. ``kernel()``
links it (``Kernel.multi_tensor``) and ``run_multi_tensor`` launches it.

    >>> (gx,) = run_kernel("tanh_bwd", g, y)
    >>> run_kernel("sgd_step", p, g, lr=0.1, weight_decay=0.0, maximize=False)   # updates p in place
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Callable

import numpy

from . import _device

__all__ = ["KERNEL_FAMILIES", "KERNELS", "Kernel", "COMPILE_OPTIONS", "CTYPES", "launch_config", "kernel",
           "kernel_dir", "kernel_names", "name_expressions", "parameters", "source", "run_kernel", "run_multi_tensor",
           "array_namespace", "quiet"]

#: C types the kernel templates are instantiated for, keyed by numpy dtype.
CTYPES = {numpy.dtype(numpy.float32): "float", numpy.dtype(numpy.float64): "double"}

#: NVRTC options. NOTE: --fmad=false stops a*b+c from being fused, so the GPU rounds
#: exactly like the numpy reference; these kernels are memory-bound, so it costs nothing.
#: (CuPy itself appends -ftz=true: float32 subnormals flush to zero on the GPU.)
COMPILE_OPTIONS = ("--std=c++14", "--fmad=false")

BLOCK_SIZE = 256

# the numpy dtype of each pointer's element type (None: T, the kernel's float type)
_POINTER_DTYPES = {"T": None, "bool": numpy.dtype(bool), "long long": numpy.dtype(numpy.int64),
                   "float": numpy.dtype(numpy.float32)}  # (float: a device scalar)
_RESERVED = {"dim", "sizes", "launcher"}  # run_kernel's own keywords: no scalar may take these names


class Kernel:
    """One ``__global__`` kernel: its parameters as the source declares them, and its reference formula
    ``reference(xp, *inputs, **scalars)`` (row-wise kernels also get ``dim``, image kernels the geometry),
    which returns the output (a tuple for several) and updates in-place state with in-place array ops."""
    __slots__ = ("name", "family", "inputs", "input_dtypes", "inplace", "device_scalars", "scalars", "outputs",
                 "sizes", "rowwise", "geometry", "reference", "out_shape", "_quiet", "multi_tensor")

    def __init__(self, name, family, params):
        self.name, self.family = name, family
        inputs, dtypes, inplace, scalars, outputs, sizes = [], {}, [], [], [], []
        for ctype, pointer, const, pname in params:
            if pointer:
                if ctype not in _POINTER_DTYPES:
                    raise TypeError(f"{family}.cu: {name}: unsupported pointer type {ctype}* {pname}")
                outputs.append((ctype, const, pname))
            elif ctype == "long long":
                sizes.append(pname)
            elif ctype == "T":
                if pname in _RESERVED:
                    raise TypeError(f"{family}.cu: {name}: a scalar may not be called {pname}")
                scalars.append(pname)
                # every pointer before a scalar is an input (a non-const one is updated in place)
                for c, k, n in outputs:
                    inputs.append(n)
                    dtypes[n] = _POINTER_DTYPES[c]
                    if not k:
                        inplace.append(n)
                outputs = []
            else:
                raise TypeError(f"{family}.cu: {name}: unsupported scalar type {ctype} {pname}")
        # after the last scalar: the const pointers and the in-place ones before them are inputs, the
        # non-const ones after the last const pointer are outputs
        last_const = max((i for i, (_, k, _) in enumerate(outputs) if k), default=-1)
        for c, k, n in outputs[:last_const + 1]:
            inputs.append(n)
            dtypes[n] = _POINTER_DTYPES[c]
            if not k:
                inplace.append(n)
        self.outputs = tuple(n for c, k, n in outputs[last_const + 1:])
        for c, k, n in outputs[last_const + 1:]:
            if c != "T":
                raise TypeError(f"{family}.cu: {name}: output {n} must be T*")
        self.inputs, self.input_dtypes, self.inplace = tuple(inputs), dtypes, tuple(inplace)
        self.device_scalars = tuple(n for n in inputs if dtypes[n] == numpy.float32)
        self.scalars, self.sizes = tuple(scalars), tuple(sizes)
        self.rowwise = self.sizes == ("rows", "cols")
        if not (self.rowwise or self.sizes[-1:] == ("n",)):
            raise TypeError(f"{family}.cu: {name}: the last parameters must be `long long n` or "
                            "`long long rows, long long cols`")
        self.geometry = self.sizes[:-1] if not self.rowwise else ()
        self.reference = self.out_shape = self._quiet = self.multi_tensor = None

    def __repr__(self):
        return f"<kernel {self.name} of {self.family}.cu>"

    def __call__(self, *arrays, dim=-1, sizes=None, launcher=None, **scalars):
        return run_kernel(self.name, *arrays, dim=dim, sizes=sizes, launcher=launcher, **scalars)


# ---------------------------------------------------------------------------- loader

def kernel_dir() -> Path:
    """The directory holding the ``.cu`` files: ``autograd_gpu/kernels`` in an
    installed wheel, the top-level ``kernels/`` in a source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "kernels", here.parent / "kernels"):
        if (candidate / "common.cuh").is_file():
            return candidate
    raise FileNotFoundError(f"no kernels/ directory next to {here}")


def _families() -> list[str]:
    try:
        return sorted(p.stem for p in kernel_dir().glob("*.cu"))
    except FileNotFoundError:
        return []


#: The kernel families, one per ``kernels/<family>.cu`` file.
KERNEL_FAMILIES: list[str] = _families()

_INCLUDE = re.compile(r'^#include "([^"]+)"\s*$', re.MULTILINE)
_GLOBAL = re.compile(r"template\s*<\s*typename\s+T\s*>\s*__global__\s+void\s+(\w+)\s*\(([^)]*)\)")


@functools.lru_cache(maxsize=None)
def source(family: str) -> str:
    """The CUDA source of ``kernels/<family>.cu`` with its local headers inlined
    (so the compile cache keys on the header text too). Read once."""
    root = kernel_dir()
    path = root / f"{family}.cu"
    text = path.read_text()

    def inline(match: re.Match) -> str:
        line = text.count("\n", 0, match.start()) + 2
        header = (root / match.group(1)).read_text()
        return f'#line 1 "{match.group(1)}"\n{header}\n#line {line} "{path.name}"'

    return _INCLUDE.sub(inline, text)


def parameters(family: str) -> dict[str, list[tuple[str, bool, bool, str]]]:
    """Each ``__global__`` kernel of a family: its parameters as (C type, is pointer, is const, name)."""
    out = {}
    for m in _GLOBAL.finditer(source(family)):
        params = []
        for p in m.group(2).split(","):
            p = " ".join(p.replace("__restrict__", " ").split())
            const = p.startswith("const ")
            p = p[6:] if const else p
            ctype, pname = p.replace("*", " * ").rsplit(None, 1)
            pointer = ctype.endswith("*")
            params.append((" ".join(ctype.rstrip("* ").split()), pointer, const, pname))
        out[m.group(1)] = params
    return out


#: Every kernel by name, from the sources.
KERNELS: dict[str, Kernel] = {name: Kernel(name, family, params) for family in KERNEL_FAMILIES
                              for name, params in parameters(family).items()}


def kernel(name: str, reference: Callable, *, out_shape: Callable | None = None) -> Kernel:
    """Give kernel `name` (declared in some ``kernels/*.cu``) its reference formula; returns the kernel.
    ``out_shape(**geometry)``: the output shape of an image kernel."""
    k = KERNELS.get(name)
    if k is None:
        raise KeyError(f"no __global__ kernel {name} in {kernel_dir()}/*.cu")
    if k.reference is not None:
        raise ValueError(f"kernel {name} has a reference formula already")
    if bool(k.geometry) != (out_shape is not None):
        raise TypeError(f"{name}: out_shape is needed exactly for image kernels (geometry {k.geometry})")
    k.reference, k.out_shape, k._quiet = reference, out_shape, _quietly(reference)
    twin = KERNELS.get(name + "_multi_tensor")
    if twin is not None:
        if (twin.inputs[:1] != ("tensors",) or not set(twin.inputs[1:]) <= set(k.device_scalars)
                or twin.scalars != k.scalars or twin.outputs):
            raise TypeError(f"{twin.name} must take (const long long* tensors, device scalars of {name} shared by "
                            f"every tensor, the scalars of {name}, long long n)")
        twin.reference = reference  # (per tensor, the same arithmetic)
        k.multi_tensor = twin
    return k


def kernel_names(family: str) -> list[str]:
    """Names of the kernels in one family, e.g. ``kernel_names("activation")``."""
    return [k.name for k in KERNELS.values() if k.family == family]


def name_expressions(family: str) -> list[str]:
    """The template instantiations compiled for a family: ``"tanh_bwd<float>"``, ..."""
    return [f"{name}<{ctype}>" for name in kernel_names(family) for ctype in CTYPES.values()]


@functools.lru_cache(maxsize=None)
def _module(family: str):
    return _device.cupy().RawModule(code=source(family), options=COMPILE_OPTIONS,
                                    name_expressions=name_expressions(family))


@functools.lru_cache(maxsize=None)
def _function(name: str, ctype: str, device_id: int):
    # a loaded function belongs to one device, hence the device in the key
    return _module(KERNELS[name].family).get_function(f"{name}<{ctype}>")


@functools.lru_cache(maxsize=None)
def _max_blocks(device_id: int) -> int:
    runtime = _device.cupy().cuda.runtime
    sms = runtime.deviceGetAttribute(runtime.cudaDevAttrMultiProcessorCount, device_id)
    return sms * 32  # enough resident blocks to fill every SM; the loop strides over the rest


@functools.lru_cache(maxsize=1024)
def launch_config(n: int, max_blocks: int) -> tuple[int, int]:
    """(grid, block) for a grid-stride loop over n items."""
    return max(1, min(math.ceil(n / BLOCK_SIZE), max_blocks)), BLOCK_SIZE


def _cupy_launcher(k: Kernel, ctype: str, args: list, work: int) -> None:
    device_id = _device.cupy().cuda.Device().id
    grid, block = launch_config(work, _max_blocks(device_id))
    _function(k.name, ctype, device_id)((grid,), (block,), tuple(args))


# ---------------------------------------------------------------------------- array namespaces

def select(mask, x, invert=False):
    """``where(mask, x, 0)`` (``invert``: ``where(mask, 0, x)``) without branches: the bits of x ANDed with
    all-ones or zero, in one buffer of x's size (what the result needs; peak memory of a relu backward).
    NOTE: np.where with a random mask is ~10x slower, and ``x * mask`` turns inf into NaN."""
    bits = numpy.dtype(f"u{x.dtype.itemsize}")
    m = numpy.array(mask, dtype=bits)  # (a new array, also for a 0-d mask, which comparisons give as a scalar)
    if invert:
        m -= 1  # (unsigned: True -> 0, False -> all ones)
    else:
        numpy.negative(m, out=m)  # (unsigned: True -> all ones)
    numpy.bitwise_and(m, x.view(bits), out=m)
    return m.view(x.dtype)


def _torch_sign(x):
    """torch's sign: 0 for NaN (numpy's and CuPy's give NaN)."""
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def _numpy_where(c, a, b):
    # where(mask, g, 0) / where(mask, 0, g) on one shape (a relu backward): the branch-free select
    if type(b) is int and b == 0 and type(a) is numpy.ndarray and a.dtype.kind == "f" and c.shape == a.shape:
        return select(c, a)
    if type(a) is int and a == 0 and type(b) is numpy.ndarray and b.dtype.kind == "f" and c.shape == b.shape:
        return select(c, b, invert=True)
    return numpy.where(c, a, b)


class _Namespace:
    """An array module with some names replaced (the module's own names copied in: lookups stay dict-fast)."""

    def __init__(self, module, **overrides):
        self.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")}, **overrides)
        self._module = module

    def __getattr__(self, name):  # (names a module provides lazily)
        return getattr(self._module, name)


#: The namespace reference formulas get for numpy arrays: numpy, with torch's `sign` (and a faster `where`).
NUMPY = _Namespace(numpy, sign=_torch_sign, where=_numpy_where)


@functools.lru_cache(maxsize=None)
def _cupy_namespace(module):
    return _Namespace(module, sign=_torch_sign)


def array_namespace(a):
    """The formula namespace for array `a`: numpy or cupy, with torch's semantics where they differ."""
    return NUMPY if type(a) is numpy.ndarray else _cupy_namespace(_device.cupy())


try:  # numpy >= 2 keeps the floating-point error state in a context variable
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    _IGNORE_ALL = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):  # pragma: no cover (numpy 1.x)
    _extobj_contextvar = _IGNORE_ALL = None


def _quietly(fn):
    """fn with numpy's floating-point warnings off.
    NOTE: np.errstate builds its state object on every call (~1 us, more than a small formula's arithmetic);
    with numpy >= 2 one prebuilt "ignore all" state is set and reset instead (the buffer size and error
    callback it carries do not change any result)."""
    if _extobj_contextvar is None:
        return numpy.errstate(all="ignore")(fn)

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        token = _extobj_contextvar.set(_IGNORE_ALL)
        try:
            return fn(*args, **kwargs)
        finally:
            _extobj_contextvar.reset(token)
    return quiet


class quiet:
    """A context in which numpy's floating-point warnings are off (the engine runs each backward pass in one:
    inf and NaN propagate silently there, as in torch, and the kernels' own formulas need not switch)."""
    __slots__ = ("_token", "_errstate")

    def __enter__(self):
        if _extobj_contextvar is None:
            self._errstate = numpy.errstate(all="ignore")
            self._errstate.__enter__()
        else:
            self._token = _extobj_contextvar.set(_IGNORE_ALL)

    def __exit__(self, *exc):
        if _extobj_contextvar is None:
            self._errstate.__exit__(*exc)
        else:
            _extobj_contextvar.reset(self._token)


# ---------------------------------------------------------------------------- launch

def _as_tuple(outs):
    return outs if type(outs) is tuple else () if outs is None else (outs,)


def run_kernel(name: str, *arrays, dim: int = -1, sizes=None, launcher=None, **scalars):
    """Run kernel ``name`` on arrays (all numpy or all cupy, on one device), returning the tuple of its
    outputs; in-place inputs are updated. Scalars go by name (``lo=0.5``) and are cast to T.

    cupy float32/float64 arrays launch the CUDA kernel; everything else runs the reference formula.
    The inputs of an elementwise kernel broadcast; ``dim`` is the reduced axis of row-wise kernels;
    ``sizes`` the geometry dict of image kernels. ``launcher`` replaces the CUDA launch (the tests pass
    a CPU build of the same source): it is called as ``launcher(kernel, ctype, args, work)``.
    """
    k = KERNELS[name]
    if len(arrays) != len(k.inputs) or len(scalars) != len(k.scalars) or not scalars.keys() >= set(k.scalars):
        raise TypeError(f"{name} takes the arrays {k.inputs} and the scalars {k.scalars}, got {len(arrays)} "
                        f"arrays and {sorted(scalars)}")
    if k.reference is None:
        raise RuntimeError(f"kernel {name} has no reference formula: declare it with _kernels.kernel()")
    a0 = arrays[0]
    if type(a0) is numpy.ndarray:
        return _run(k, NUMPY, arrays, scalars, dim, sizes, launcher, False)
    for a in arrays:
        if type(a) is numpy.ndarray or a.device != a0.device:  # NOTE: a kernel would get a host pointer
            _device.check_same_device(arrays, f"(in {name}: an optimizer's state, or a buffer.) ")
    with a0.device:  # (the kernel and its buffers on the arrays' GPU, whichever is current)
        return _run(k, array_namespace(a0), arrays, scalars, dim, sizes, launcher, True)


def _run(k, xp, arrays, scalars, dim, sizes, launcher, cupy_arrays):
    dtype = arrays[0].dtype
    ctype = CTYPES.get(dtype)
    scalars = {n: dtype.type(scalars[n]) for n in k.scalars}  # the exact C type of T, for both paths
    if k.geometry:
        return _run_image_kernel(k, xp, arrays, scalars, sizes, launcher, cupy_arrays, dtype, ctype)
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):  # NOTE: the common same-shape case skips broadcasting (hot path)
        fixed = set(k.inplace) | set(k.device_scalars)  # (updated in place, or read at [0]: never broadcast)
        shape = numpy.broadcast_shapes(*(a.shape for n, a in zip(k.inputs, arrays) if n not in k.device_scalars))
        for n, a in zip(k.inputs, arrays):
            if n in k.inplace and n not in k.device_scalars and a.shape != shape:
                raise ValueError(f"{k.name}: {n} is updated in place, so it needs the shape {shape}, got {a.shape}")
        arrays = [a if n in fixed else xp.broadcast_to(a, shape) for n, a in zip(k.inputs, arrays)]
    if k.device_scalars and any(a.dtype != numpy.float32 or a.size != 1
                                for n, a in zip(k.inputs, arrays) if n in k.device_scalars):
        raise ValueError(f"{k.name}: {', '.join(k.device_scalars)} must be one-element float32 arrays")
    if k.inplace and any(arrays[k.inputs.index(n)].dtype != dtype for n in k.inplace if n not in k.device_scalars):
        raise ValueError(f"{k.name}: the buffers updated in place need dtype {dtype}")
    if launcher is None and (not cupy_arrays or ctype is None):
        outs = _as_tuple(k._quiet(xp, *arrays, **scalars, dim=dim) if k.rowwise else k._quiet(xp, *arrays, **scalars))
        return tuple(o if isinstance(o, xp.ndarray) and o.dtype == dtype and o.shape == shape
                     else xp.broadcast_to(xp.asarray(o, dtype=dtype), shape).copy() for o in outs)
    if ctype is None:
        raise TypeError(f"{k.name}: no kernel for dtype {dtype}")
    if k.rowwise:
        if not shape:  # a 0-d row: run it as a row of one
            outs = _run(k, xp, [a.reshape(1) for a in arrays], scalars, 0, None, launcher, cupy_arrays)
            return tuple(o.reshape(()) for o in outs)
        arrays = [xp.moveaxis(a, dim, -1) for a in arrays]
    work_shape = arrays[0].shape
    # NOTE: an in-place buffer is passed as is when contiguous (ascontiguousarray would copy
    # a 0-d array), else through a contiguous copy that is written back after the launch.
    ins = [a if (n in k.inplace or n in k.device_scalars) and a.flags.c_contiguous
           else xp.ascontiguousarray(a, dtype=k.input_dtypes[n] or dtype) for n, a in zip(k.inputs, arrays)]
    outs = [xp.empty(work_shape, dtype) for _ in k.outputs]
    size = math.prod(work_shape)
    if k.rowwise:
        cols = work_shape[-1] if work_shape else 1
        rows = size // cols if cols else 0
        size_args, work = [numpy.int64(rows), numpy.int64(cols)], rows if cols else 0
    else:
        size_args, work = [numpy.int64(size)], size
    if work:
        (launcher or _cupy_launcher)(k, ctype, [*ins, *scalars.values(), *outs, *size_args], work)
    for n, a, c in zip(k.inputs, arrays, ins):
        if n in k.inplace and c is not a:
            a[...] = c
    if k.rowwise:
        outs = [xp.moveaxis(o, -1, dim) for o in outs]
    return tuple(outs)


def run_multi_tensor(k: Kernel, tensors, n: int, dtype, scalars: dict, shared=(), launcher=None) -> None:
    """Launch multi-tensor kernel k (a ``Kernel.multi_tensor``) over the int64 device table `tensors` of n blocks
    (its layout: kernels/optim.cu), on the current device; `shared`: the arrays of its shared device scalars, in
    order; scalars go by name and are cast to dtype's T."""
    args = [tensors, *shared, *(dtype.type(scalars[s]) for s in k.scalars), numpy.int64(n)]
    (launcher or _cupy_launcher)(k, CTYPES[dtype], args, n * BLOCK_SIZE)


def _run_image_kernel(k, xp, arrays, scalars, sizes, launcher, cupy_arrays, dtype, ctype):
    if sizes is None or set(sizes) != set(k.geometry):
        raise TypeError(f"{k.name} takes the sizes {k.geometry}")
    if launcher is None and (not cupy_arrays or ctype is None):
        return tuple(xp.asarray(o, dtype=dtype) for o in _as_tuple(k._quiet(xp, *arrays, **scalars, **sizes)))
    if ctype is None:
        raise TypeError(f"{k.name}: no kernel for dtype {dtype}")
    ins = [xp.ascontiguousarray(a, dtype=k.input_dtypes[n] or dtype) for n, a in zip(k.inputs, arrays)]
    out_shape = k.out_shape(**sizes)
    outs = [xp.empty(out_shape, dtype) for _ in k.outputs]
    work = math.prod(out_shape)
    if work:
        args = [*ins, *scalars.values(), *outs, *(numpy.int64(sizes[n]) for n in k.geometry), numpy.int64(work)]
        (launcher or _cupy_launcher)(k, ctype, args, work)
    return tuple(outs)

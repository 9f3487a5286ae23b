"""CUDA kernels for backward formulas, and their numpy/cupy reference formulas.

Every array-level function here takes arrays that are all numpy or all cupy and
returns new arrays of the same dtype and (broadcast) shape::

    >>> gx = tanh_bwd(g, y)            # g * (1 - y * y)
    >>> ga, gb = div_bwd(g, a, b)      # g / b, -g * ((a / b) / b)

On cupy float32/float64 arrays the kernel from ``kernels/<family>.cu`` runs; on numpy
arrays (and other cupy dtypes, e.g. float16) the reference formula runs. The kernels
and references compute the same operations in the same order, and both follow
PyTorch's derivative formulas. Nothing here touches CUDA at import time: each
family's ``cupy.RawModule`` is built on its first launch.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy

__all__ = [
    "KERNEL_FAMILIES", "KERNELS", "KernelSpec", "COMPILE_OPTIONS", "CTYPES", "launch_config",
    "kernel_dir", "kernel_names", "name_expressions", "source", "run_kernel",
    "relu_bwd", "tanh_bwd", "sigmoid_bwd", "exp_bwd", "log_bwd", "log1p_bwd",
    "sqrt_bwd", "rsqrt_bwd", "pow_bwd", "div_bwd", "abs_bwd", "clamp_bwd",
    "maxmin_bwd", "where_bwd", "softmax_bwd", "log_softmax_bwd",
]

#: C types the kernel templates are instantiated for, keyed by numpy dtype.
CTYPES = {numpy.dtype(numpy.float32): "float", numpy.dtype(numpy.float64): "double"}

#: NVRTC options. NOTE: --fmad=false stops a*b+c from being fused, so the GPU rounds
#: exactly like the numpy reference; these kernels are memory-bound, so it costs nothing.
#: (CuPy itself appends -ftz=true: float32 subnormals flush to zero on the GPU.)
COMPILE_OPTIONS = ("--std=c++14", "--fmad=false")

BLOCK_SIZE = 256


def _sign(xp, x):
    # torch's sgn: 0 for NaN (xp.sign would give NaN)
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def _pow_ref(xp, g, a, b, y):
    ga = xp.where(b == 0, 0, g * (b * a ** (b - 1)))
    gb = g * xp.where((a == 0) & (b >= 0), 0, y * xp.log(a))
    return ga, gb


def _maxmin_ref(is_max):
    def ref(xp, g, a, b):
        shared = xp.where(a == b, g / 2, g)
        a_loses, b_loses = (a < b, a > b) if is_max else (a > b, a < b)
        return xp.where(a_loses, 0, shared), xp.where(b_loses, 0, shared)
    return ref


def _softmax_ref(xp, g, y, dim=-1):
    return y * (g - (g * y).sum(axis=dim, keepdims=True))


def _log_softmax_ref(xp, g, y, dim=-1):
    return g - xp.exp(y) * g.sum(axis=dim, keepdims=True)


@dataclass(frozen=True)
class KernelSpec:
    """One kernel: its C signature (inputs, scalars, outputs, then sizes) and its
    reference formula ``reference(xp, *inputs, *scalars) -> tuple of outputs``."""

    name: str
    family: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    reference: Callable
    scalars: tuple[str, ...] = ()
    bool_inputs: tuple[str, ...] = ()  # inputs passed as `const bool*`
    rowwise: bool = False  # sizes are (rows, cols) over the last axis, not n

    @property
    def arity(self) -> int:
        return len(self.inputs)


def _unary(name, family, formula, arg="y"):
    return KernelSpec(name, family, ("g", arg), ("gx",), lambda xp, g, v: (formula(xp, g, v),))


# The kernel table: tests are driven by it, so a new row is compiled and checked
# against its reference automatically.
_TABLE = [
    # activation.cu
    _unary("relu_bwd", "activation", lambda xp, g, y: xp.where(y <= 0, 0, g)),
    _unary("tanh_bwd", "activation", lambda xp, g, y: g * (1 - y * y)),
    _unary("sigmoid_bwd", "activation", lambda xp, g, y: g * (1 - y) * y),
    KernelSpec("softmax_bwd", "activation", ("g", "y"), ("gx",),
               lambda xp, g, y, dim=-1: (_softmax_ref(xp, g, y, dim),), rowwise=True),
    KernelSpec("log_softmax_bwd", "activation", ("g", "y"), ("gx",),
               lambda xp, g, y, dim=-1: (_log_softmax_ref(xp, g, y, dim),), rowwise=True),
    # elementwise.cu
    _unary("exp_bwd", "elementwise", lambda xp, g, y: g * y),
    _unary("log_bwd", "elementwise", lambda xp, g, x: g / x, "x"),
    _unary("log1p_bwd", "elementwise", lambda xp, g, x: g / (x + 1), "x"),
    _unary("sqrt_bwd", "elementwise", lambda xp, g, y: g / (2 * y)),
    _unary("rsqrt_bwd", "elementwise", lambda xp, g, y: -0.5 * g * (y * y * y)),
    _unary("abs_bwd", "elementwise", lambda xp, g, x: g * _sign(xp, x), "x"),
    KernelSpec("pow_bwd", "elementwise", ("g", "a", "b", "y"), ("ga", "gb"), _pow_ref),
    KernelSpec("div_bwd", "elementwise", ("g", "a", "b"), ("ga", "gb"),
               lambda xp, g, a, b: (g / b, -g * ((a / b) / b))),
    KernelSpec("clamp_bwd", "elementwise", ("g", "x"), ("gx",),
               lambda xp, g, x, lo, hi: (xp.where((x >= lo) & (x <= hi), g, 0),),
               scalars=("lo", "hi")),
    KernelSpec("maximum_bwd", "elementwise", ("g", "a", "b"), ("ga", "gb"), _maxmin_ref(True)),
    KernelSpec("minimum_bwd", "elementwise", ("g", "a", "b"), ("ga", "gb"), _maxmin_ref(False)),
    KernelSpec("where_bwd", "elementwise", ("g", "cond"), ("ga", "gb"),
               lambda xp, g, c: (xp.where(c, g, 0), xp.where(c, 0, g)), bool_inputs=("cond",)),
]

#: Every kernel by name.
KERNELS: dict[str, KernelSpec] = {spec.name: spec for spec in _TABLE}


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


def kernel_names(family: str) -> list[str]:
    """Names of the kernels in one family, e.g. ``kernel_names("activation")``."""
    return [spec.name for spec in _TABLE if spec.family == family]


def name_expressions(family: str) -> list[str]:
    """The template instantiations compiled for a family: ``"tanh_bwd<float>"``, ..."""
    return [f"{name}<{ctype}>" for name in kernel_names(family) for ctype in CTYPES.values()]


_INCLUDE = re.compile(r'^#include "([^"]+)"\s*$', re.MULTILINE)


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


@functools.lru_cache(maxsize=None)
def _module(family: str):
    import cupy

    return cupy.RawModule(code=source(family), options=COMPILE_OPTIONS,
                          name_expressions=name_expressions(family))


@functools.lru_cache(maxsize=None)
def _function(name: str, ctype: str, device_id: int):
    # a loaded function belongs to one device, hence the device in the key
    return _module(KERNELS[name].family).get_function(f"{name}<{ctype}>")


@functools.lru_cache(maxsize=None)
def _max_blocks(device_id: int) -> int:
    import cupy

    runtime = cupy.cuda.runtime
    sms = runtime.deviceGetAttribute(runtime.cudaDevAttrMultiProcessorCount, device_id)
    return sms * 32  # enough resident blocks to fill every SM; the loop strides over the rest


@functools.lru_cache(maxsize=1024)
def launch_config(n: int, max_blocks: int) -> tuple[int, int]:
    """(grid, block) for a grid-stride loop over n items."""
    return max(1, min(math.ceil(n / BLOCK_SIZE), max_blocks)), BLOCK_SIZE


def _cupy_launcher(spec: KernelSpec, ctype: str, args: list, work: int) -> None:
    import cupy

    device_id = cupy.cuda.Device().id
    grid, block = launch_config(work, _max_blocks(device_id))
    _function(spec.name, ctype, device_id)((grid,), (block,), tuple(args))


def _is_cupy(a) -> bool:
    return type(a).__module__.split(".", 1)[0] == "cupy"


def run_kernel(name: str, *arrays, scalars=(), dim: int = -1, launcher=None):
    """Run kernel ``name`` on arrays (all numpy or all cupy), returning a tuple of outputs.

    cupy float32/float64 arrays launch the CUDA kernel; everything else runs the
    reference formula. ``dim`` is the reduced axis of row-wise kernels. ``launcher``
    replaces the CUDA launch (the tests pass a CPU build of the same kernel source):
    it is called as ``launcher(spec, ctype, args, work)`` with contiguous arrays.
    """
    spec = KERNELS[name]
    if len(arrays) != spec.arity or len(scalars) != len(spec.scalars):
        raise TypeError(f"{name} takes {spec.inputs} and scalars {spec.scalars}")
    cupy_arrays = _is_cupy(arrays[0])
    if cupy_arrays:
        import cupy as xp
    else:
        xp = numpy
    shape = numpy.broadcast_shapes(*(a.shape for a in arrays))
    arrays = [xp.broadcast_to(a, shape) for a in arrays]
    dtype = arrays[0].dtype
    ctype = CTYPES.get(dtype)
    if launcher is None and (not cupy_arrays or ctype is None):
        with numpy.errstate(all="ignore"):  # inf/NaN propagate silently, as in torch
            outs = spec.reference(xp, *arrays, *scalars, **({"dim": dim} if spec.rowwise else {}))
        return tuple(xp.asarray(o, dtype=dtype) for o in outs)
    if ctype is None:
        raise TypeError(f"{name}: no kernel for dtype {dtype}")

    if spec.rowwise:
        if not shape:  # a 0-d row: run it as a row of one
            outs = run_kernel(name, *(a.reshape(1) for a in arrays), scalars=scalars,
                              dim=0, launcher=launcher)
            return tuple(o.reshape(()) for o in outs)
        arrays = [xp.moveaxis(a, dim, -1) for a in arrays]
    work_shape = arrays[0].shape
    ins = [xp.ascontiguousarray(a, dtype=bool if n in spec.bool_inputs else dtype)
           for n, a in zip(spec.inputs, arrays)]
    outs = [xp.empty(work_shape, dtype) for _ in spec.outputs]
    size = math.prod(work_shape)
    if spec.rowwise:
        cols = work_shape[-1] if work_shape else 1
        rows = size // cols if cols else 0
        sizes, work = [numpy.int64(rows), numpy.int64(cols)], rows if cols else 0
    else:
        sizes, work = [numpy.int64(size)], size
    if work:
        scalar_args = [dtype.type(s) for s in scalars]  # the exact C type of T
        (launcher or _cupy_launcher)(spec, ctype, [*ins, *scalar_args, *outs, *sizes], work)
    if spec.rowwise:
        outs = [xp.moveaxis(o, -1, dim) for o in outs]
    return tuple(outs)


# ---------------------------------------------------------------- array-level backward

def relu_bwd(g, y):
    """Gradient of relu from its output: ``0 where y <= 0 else g``."""
    return run_kernel("relu_bwd", g, y)[0]


def tanh_bwd(g, y):
    """Gradient of tanh from its output: ``g * (1 - y*y)``."""
    return run_kernel("tanh_bwd", g, y)[0]


def sigmoid_bwd(g, y):
    """Gradient of sigmoid from its output: ``g * (1 - y) * y``."""
    return run_kernel("sigmoid_bwd", g, y)[0]


def exp_bwd(g, y):
    """Gradient of exp from its output: ``g * y``."""
    return run_kernel("exp_bwd", g, y)[0]


def log_bwd(g, x):
    """Gradient of log: ``g / x``."""
    return run_kernel("log_bwd", g, x)[0]


def log1p_bwd(g, x):
    """Gradient of log1p: ``g / (x + 1)``."""
    return run_kernel("log1p_bwd", g, x)[0]


def sqrt_bwd(g, y):
    """Gradient of sqrt from its output: ``g / (2*y)``."""
    return run_kernel("sqrt_bwd", g, y)[0]


def rsqrt_bwd(g, y):
    """Gradient of rsqrt from its output: ``-0.5 * g * y**3``."""
    return run_kernel("rsqrt_bwd", g, y)[0]


def pow_bwd(g, a, b, y):
    """Gradients of ``y = a ** b`` for a and b, in one pass: ``ga, gb = pow_bwd(g, a, b, y)``."""
    return run_kernel("pow_bwd", g, a, b, y)


def div_bwd(g, a, b):
    """Gradients of ``a / b``: ``(g / b, -g * ((a / b) / b))``."""
    return run_kernel("div_bwd", g, a, b)


def abs_bwd(g, x):
    """Gradient of abs: ``g * sign(x)`` (0 where x is NaN, as in torch)."""
    return run_kernel("abs_bwd", g, x)[0]


def clamp_bwd(g, x, lo=None, hi=None):
    """Gradient of ``clamp(x, lo, hi)``: g where ``lo <= x <= hi`` else 0; None is unbounded."""
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    return run_kernel("clamp_bwd", g, x, scalars=(lo, hi))[0]


def maxmin_bwd(g, a, b, is_max):
    """Gradients of ``maximum(a, b)`` (``is_max``) or ``minimum(a, b)``: ties split g in
    half, and a NaN operand passes g to both inputs, as torch does."""
    return run_kernel("maximum_bwd" if is_max else "minimum_bwd", g, a, b)


def where_bwd(g, cond):
    """Gradients of ``where(cond, a, b)``: ``(g where cond else 0, 0 where cond else g)``."""
    return run_kernel("where_bwd", g, cond)


def softmax_bwd(g, y, dim):
    """Gradient of softmax along ``dim`` from its output: ``y * (g - sum(g*y, dim))``."""
    return run_kernel("softmax_bwd", g, y, dim=dim)[0]


def log_softmax_bwd(g, y, dim):
    """Gradient of log_softmax along ``dim`` from its output: ``g - exp(y) * sum(g, dim)``."""
    return run_kernel("log_softmax_bwd", g, y, dim=dim)[0]

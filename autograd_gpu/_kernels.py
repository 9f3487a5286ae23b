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

from . import _device

__all__ = [
    "KERNEL_FAMILIES", "KERNELS", "KernelSpec", "COMPILE_OPTIONS", "CTYPES", "launch_config",
    "kernel_dir", "kernel_names", "name_expressions", "source", "run_kernel",
    "relu_bwd", "tanh_bwd", "sigmoid_bwd", "exp_bwd", "log_bwd", "log1p_bwd",
    "sqrt_bwd", "rsqrt_bwd", "pow_bwd", "div_bwd", "abs_bwd", "clamp_bwd",
    "maxmin_bwd", "where_bwd", "softmax_bwd", "log_softmax_bwd",
    "sgd_step", "adam_step", "rmsprop_step", "adagrad_step",
    "col2im", "max_pool2d_bwd",
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


def _as_ctype(p, *scalars):
    # the kernel receives every scalar as T: round them the same way here
    return [p.dtype.type(s) for s in scalars]


def _optim_grad(g, p, weight_decay, maximize):
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    return g


def _lerp_(start, end, weight):
    # torch.lerp_ as ATen writes it: the formula depends on |weight| < 0.5
    if -0.5 < weight < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def _sgd_ref(xp, p, g, *scalars):
    lr, weight_decay, maximize = _as_ctype(p, *scalars)
    p -= lr * _optim_grad(g, p, weight_decay, maximize)
    return ()


def _sgd_momentum_ref(xp, p, g, buf, *scalars):
    lr, weight_decay, momentum, damp_alpha, nesterov, maximize, first = _as_ctype(p, *scalars)
    g = _optim_grad(g, p, weight_decay, maximize)
    if first:
        buf[...] = g
    else:
        buf *= momentum
        buf += g if damp_alpha == 1 else damp_alpha * g  # (1 * g is g exactly: one pass less, no temporary)
    p -= lr * (g + momentum * buf if nesterov else buf)
    return ()


def _adam_ref(amsgrad):
    def ref(xp, p, g, exp_avg, exp_avg_sq, *rest):
        max_exp_avg_sq, rest = (rest[0], rest[1:]) if amsgrad else (None, rest)
        (beta1_weight, beta2, one_minus_beta2, weight_decay, decay, eps, neg_step_size,
         bias_correction2_sqrt, maximize) = _as_ctype(p, *rest)
        if decay != 1:
            p *= decay
        g = _optim_grad(g, p, weight_decay, maximize)
        _lerp_(exp_avg, g, beta1_weight)
        exp_avg_sq *= beta2
        exp_avg_sq += (one_minus_beta2 * g) * g
        v = exp_avg_sq
        if amsgrad:
            v = xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        p += (neg_step_size * exp_avg) / (xp.sqrt(v) / bias_correction2_sqrt + eps)
        return ()
    return ref


def _rmsprop_ref(centered, momentum):
    def ref(xp, p, g, square_avg, *rest):
        grad_avg, rest = (rest[0], rest[1:]) if centered else (None, rest)
        buf, rest = (rest[0], rest[1:]) if momentum else (None, rest)
        lr, alpha, one_minus_alpha, eps, weight_decay, *mom, maximize = _as_ctype(p, *rest)
        g = _optim_grad(g, p, weight_decay, maximize)
        square_avg *= alpha
        square_avg += (one_minus_alpha * g) * g
        if centered:
            _lerp_(grad_avg, g, one_minus_alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += eps
        if momentum:
            buf *= mom[0]
            buf += g / avg
            p -= lr * buf
        else:
            p += (-lr * g) / avg
        return ()
    return ref


def _adagrad_ref(xp, p, g, state_sum, *scalars):
    neg_clr, eps, weight_decay, maximize = _as_ctype(p, *scalars)
    g = _optim_grad(g, p, weight_decay, maximize)
    state_sum += g * g
    p += (neg_clr * g) / (xp.sqrt(state_sum) + eps)
    return ()


# Image kernels (conv.cu) take the geometry of a 2-d sliding window as `long long` sizes:
# N, C, H, W the image; KH, KW the kernel; OH, OW the grid of windows; SH, SW the stride;
# PH, PW the padding before the image; DH, DW the dilation. Window (oh, ow) reads pixel
# (oh * SH - PH + ki * DH, ow * SW - PW + kj * DW).
_IMAGE_SIZES = ("N", "C", "H", "W", "KH", "KW", "OH", "OW", "SH", "SW", "PH", "PW", "DH", "DW")


def _image_shape(N, C, H, W, **_):
    return (N, C, H, W)


def _window_offsets(xp, dtype, N, C, H, W, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW, **_):
    """A zero image padded to hold every window, and for each offset (ki, kj) the strided view
    of it that window offset (ki, kj) covers, as (ki, kj, view): adding into the views
    scatters window values back onto the image; `_crop` then drops the padding."""
    hp = max(PH + H, (OH - 1) * SH + (KH - 1) * DH + 1)
    wp = max(PW + W, (OW - 1) * SW + (KW - 1) * DW + 1)
    img = xp.zeros((N, C, hp, wp), dtype)
    views = [(i, j, img[:, :, i * DH:i * DH + (OH - 1) * SH + 1:SH, j * DW:j * DW + (OW - 1) * SW + 1:SW])
             for i in range(KH) for j in range(KW)]
    return img, views


def _crop(xp, img, H, W, PH, PW, **_):
    if img.shape[2:] == (H, W):
        return img
    return xp.ascontiguousarray(img[:, :, PH:PH + H, PW:PW + W])


def _col2im_ref(xp, cols, **geo):
    # NOTE: one strided add per window offset (KH*KW numpy calls, not one per pixel); each pixel
    # sums its windows in (ki, kj) order, like the kernel, so both round identically.
    img, views = _window_offsets(xp, cols.dtype, **geo)
    if geo["OH"] and geo["OW"]:
        for i, j, v in views:
            v += cols[:, i, j].transpose(1, 0, 2, 3)  # cols is (C, KH, KW, N, OH, OW)
    return (_crop(xp, img, **geo),)


def _max_pool2d_bwd_ref(xp, g, idx, **geo):
    N, C, H, W = geo["N"], geo["C"], geo["H"], geo["W"]
    if geo["SH"] > (geo["KH"] - 1) * geo["DH"] and geo["SW"] > (geo["KW"] - 1) * geo["DW"]:
        # NOTE: windows that do not overlap (MaxPool2d(2)) give each pixel at most one gradient: one scatter
        # of g to the winners' flat positions (~7x faster than a masked add per window offset)
        img = xp.zeros(N * C * H * W, g.dtype)
        base = xp.arange(0, N * C * H * W, H * W, dtype=numpy.int64).reshape(N, C, 1, 1)
        img[(idx + base).ravel()] = g.ravel()
        return (img.reshape(N, C, H, W),)
    img, views = _window_offsets(xp, g.dtype, **geo)
    if geo["OH"] and geo["OW"]:
        rows = xp.arange(geo["OH"])[:, None] * geo["SH"] - geo["PH"]
        cols = xp.arange(geo["OW"]) * geo["SW"] - geo["PW"]
        for i, j, v in views:
            # the flat index of the pixel at this window offset (garbage in the padding,
            # which _crop drops; idx never points there)
            here = (rows + i * geo["DH"]) * geo["W"] + (cols + j * geo["DW"])
            v += _select(idx == here, g)
    return (_crop(xp, img, **geo),)


def _select(mask, x):
    """``where(mask, x, 0)`` without branches: the bits of x ANDed with all-ones or zero.
    NOTE: np.where with a random mask is ~10x slower, and ``x * mask`` turns inf into NaN."""
    bits = numpy.dtype(f"u{x.dtype.itemsize}")
    return (x.view(bits) & (mask.astype(bits) * bits.type(numpy.iinfo(bits).max))).view(x.dtype)


def _optim(name, buffers, reference, scalars):
    return KernelSpec(name, "optim", ("p", "g", *buffers), (), reference, scalars=scalars,
                      inplace=("p", *buffers))


_ADAM_SCALARS = ("beta1_weight", "beta2", "one_minus_beta2", "weight_decay", "decay", "eps",
                 "neg_step_size", "bias_correction2_sqrt", "maximize")
_RMSPROP_SCALARS = ("lr", "alpha", "one_minus_alpha", "eps", "weight_decay")


@dataclass(frozen=True)
class KernelSpec:
    """One kernel: its C signature (inputs, scalars, outputs, then sizes) and its
    reference formula ``reference(xp, *inputs, *scalars) -> tuple of outputs``.

    Inputs named in ``inplace`` are updated in place (passed as ``T*``): the kernel
    writes them, and the reference updates the same arrays with numpy/cupy in-place ops.
    """

    name: str
    family: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    reference: Callable
    scalars: tuple[str, ...] = ()
    bool_inputs: tuple[str, ...] = ()  # inputs passed as `const bool*`
    rowwise: bool = False  # sizes are (rows, cols) over the last axis, not n
    inplace: tuple[str, ...] = ()  # inputs the kernel updates in place
    index_inputs: tuple[str, ...] = ()  # inputs passed as `const long long*`
    # Image kernels: `long long` geometry arguments after the outputs (then n, the output
    # size). Inputs are not broadcast; the outputs have shape ``out_shape(**sizes)`` and the
    # reference is called as ``reference(xp, *inputs, **sizes)``.
    sizes: tuple[str, ...] = ()
    out_shape: Callable | None = None

    @property
    def arity(self) -> int:
        return len(self.inputs)


_UNARY_FORMULAS = {}  # name -> formula(xp, g, v) of each _unary kernel: its one output, not a tuple


def _unary(name, family, formula, arg="y"):
    _UNARY_FORMULAS[name] = formula
    return KernelSpec(name, family, ("g", arg), ("gx",), lambda xp, g, v: (formula(xp, g, v),))


# The kernel table: tests are driven by it, so a new row is compiled and checked
# against its reference automatically.
_TABLE = [
    # activation.cu
    _unary("relu_bwd", "activation", lambda xp, g, y: _select(~(y <= 0), g)),  # where(y <= 0, 0, g)
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
    # optim.cu: fused optimizer steps, updating the parameter and its state in place
    _optim("sgd_step", (), _sgd_ref, ("lr", "weight_decay", "maximize")),
    _optim("sgd_momentum_step", ("buf",), _sgd_momentum_ref,
           ("lr", "weight_decay", "momentum", "damp_alpha", "nesterov", "maximize", "first")),
    _optim("adam_step", ("exp_avg", "exp_avg_sq"), _adam_ref(False), _ADAM_SCALARS),
    _optim("adam_amsgrad_step", ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), _adam_ref(True),
           _ADAM_SCALARS),
    _optim("rmsprop_step", ("square_avg",), _rmsprop_ref(False, False),
           (*_RMSPROP_SCALARS, "maximize")),
    _optim("rmsprop_centered_step", ("square_avg", "grad_avg"), _rmsprop_ref(True, False),
           (*_RMSPROP_SCALARS, "maximize")),
    _optim("rmsprop_momentum_step", ("square_avg", "buf"), _rmsprop_ref(False, True),
           (*_RMSPROP_SCALARS, "momentum", "maximize")),
    _optim("rmsprop_centered_momentum_step", ("square_avg", "grad_avg", "buf"),
           _rmsprop_ref(True, True), (*_RMSPROP_SCALARS, "momentum", "maximize")),
    _optim("adagrad_step", ("sum",), _adagrad_ref, ("neg_clr", "eps", "weight_decay", "maximize")),
    # conv.cu: scatters of convolution and pooling backward
    KernelSpec("col2im", "conv", ("cols",), ("img",), _col2im_ref, sizes=_IMAGE_SIZES,
               out_shape=_image_shape),
    KernelSpec("max_pool2d_bwd", "conv", ("g", "idx"), ("gx",), _max_pool2d_bwd_ref,
               index_inputs=("idx",), sizes=_IMAGE_SIZES, out_shape=_image_shape),
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


def _cupy_launcher(spec: KernelSpec, ctype: str, args: list, work: int) -> None:
    device_id = _device.cupy().cuda.Device().id
    grid, block = launch_config(work, _max_blocks(device_id))
    _function(spec.name, ctype, device_id)((grid,), (block,), tuple(args))


def _is_cupy(a) -> bool:
    return type(a) is not numpy.ndarray and hasattr(a, "__cuda_array_interface__")


_QUIET = {}


try:  # numpy >= 2 keeps the floating-point error state in a context variable
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    _IGNORE_ALL = _make_extobj(all="ignore")
except (ImportError, AttributeError, TypeError):  # pragma: no cover (numpy 1.x)
    _extobj_contextvar = None


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


def _quiet_reference(name: str):
    """KERNELS[name].reference with numpy's floating-point warnings off: inf/NaN propagate silently, as in torch."""
    ref = _QUIET.get(name)
    if ref is None:
        ref = _QUIET[name] = _quietly(KERNELS[name].reference)
    return ref


def run_kernel(name: str, *arrays, scalars=(), dim: int = -1, sizes=None, launcher=None):
    """Run kernel ``name`` on arrays (all numpy or all cupy), returning a tuple of outputs.

    cupy float32/float64 arrays launch the CUDA kernel; everything else runs the
    reference formula. ``dim`` is the reduced axis of row-wise kernels; ``sizes`` the
    geometry dict of image kernels (``spec.sizes``). ``launcher``
    replaces the CUDA launch (the tests pass a CPU build of the same kernel source):
    it is called as ``launcher(spec, ctype, args, work)`` with contiguous arrays.
    """
    spec = KERNELS[name]
    if len(arrays) != len(spec.inputs) or len(scalars) != len(spec.scalars):
        raise TypeError(f"{name} takes {spec.inputs} and scalars {spec.scalars}")
    a0 = arrays[0]
    if launcher is None and type(a0) is numpy.ndarray and not spec.sizes and not spec.inplace:
        # NOTE: the common CPU case (same-shape numpy inputs, no buffer updated in place) in a few lines: hot path
        shape = a0.shape
        for a in arrays:
            if a.shape != shape:
                break
        else:
            ref = _QUIET.get(name) or _quiet_reference(name)
            outs = ref(numpy, *arrays, *scalars, dim=dim) if spec.rowwise else ref(numpy, *arrays, *scalars)
            dtype = a0.dtype
            return tuple([o if type(o) is numpy.ndarray and o.dtype == dtype else numpy.asarray(o, dtype=dtype)
                          for o in outs])
    cupy_arrays = _is_cupy(a0)
    if cupy_arrays:
        xp = _device.cupy()
    else:
        xp = numpy
    if cupy_arrays:
        for a in arrays:
            if type(a) is numpy.ndarray or a.device != a0.device:  # NOTE: a kernel would get a host pointer
                _device.check_same_device(arrays, f"(in {name}: an optimizer's state, or a buffer.) ")
        with a0.device:  # (the kernel and its buffers on the arrays' GPU, whichever is current)
            return _run_kernel(spec, name, xp, arrays, scalars, dim, sizes, launcher, cupy_arrays)
    return _run_kernel(spec, name, xp, arrays, scalars, dim, sizes, launcher, cupy_arrays)


def _run_kernel(spec, name, xp, arrays, scalars, dim, sizes, launcher, cupy_arrays):
    if spec.sizes:
        return _run_image_kernel(spec, xp, arrays, scalars, sizes, launcher, cupy_arrays)
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):  # NOTE: the common same-shape case skips broadcasting (hot path)
        shape = numpy.broadcast_shapes(*(a.shape for a in arrays))
        for n, a in zip(spec.inputs, arrays):
            if n in spec.inplace and (a.shape != shape or a.dtype != arrays[0].dtype):
                raise ValueError(f"{name}: {n} is updated in place, so it needs shape {shape} and "
                                 f"dtype {arrays[0].dtype}, got {a.shape} and {a.dtype}")
        arrays = [a if n in spec.inplace else xp.broadcast_to(a, shape)
                  for n, a in zip(spec.inputs, arrays)]
    elif spec.inplace and any(a.dtype != arrays[0].dtype for n, a in zip(spec.inputs, arrays) if n in spec.inplace):
        raise ValueError(f"{name}: the buffers updated in place need dtype {arrays[0].dtype}")
    dtype = arrays[0].dtype
    ctype = CTYPES.get(dtype)
    if launcher is None and (not cupy_arrays or ctype is None):
        ref = _quiet_reference(name)
        outs = ref(xp, *arrays, *scalars, dim=dim) if spec.rowwise else ref(xp, *arrays, *scalars)
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
    # NOTE: an in-place buffer is passed as is when contiguous (ascontiguousarray would copy
    # a 0-d array), else through a contiguous copy that is written back after the launch.
    ins = [a if n in spec.inplace and a.flags.c_contiguous
           else xp.ascontiguousarray(a, dtype=bool if n in spec.bool_inputs else dtype)
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
    for n, a, c in zip(spec.inputs, arrays, ins):
        if n in spec.inplace and c is not a:
            a[...] = c
    if spec.rowwise:
        outs = [xp.moveaxis(o, -1, dim) for o in outs]
    return tuple(outs)


def _run_image_kernel(spec, xp, arrays, scalars, sizes, launcher, cupy_arrays):
    if sizes is None or set(sizes) != set(spec.sizes):
        raise TypeError(f"{spec.name} takes sizes {spec.sizes}")
    dtype = arrays[0].dtype
    ctype = CTYPES.get(dtype)
    if launcher is None and (not cupy_arrays or ctype is None):
        outs = _quiet_reference(spec.name)(xp, *arrays, *scalars, **sizes)
        return tuple(xp.asarray(o, dtype=dtype) for o in outs)
    if ctype is None:
        raise TypeError(f"{spec.name}: no kernel for dtype {dtype}")
    ins = [xp.ascontiguousarray(a, dtype=numpy.int64 if n in spec.index_inputs else dtype)
           for n, a in zip(spec.inputs, arrays)]
    out_shape = spec.out_shape(**sizes)
    outs = [xp.empty(out_shape, dtype) for _ in spec.outputs]
    work = math.prod(out_shape)
    if work:
        args = [*ins, *(dtype.type(s) for s in scalars), *outs,
                *(numpy.int64(sizes[k]) for k in spec.sizes), numpy.int64(work)]
        (launcher or _cupy_launcher)(spec, ctype, args, work)
    return tuple(outs)


# ---------------------------------------------------------------- array-level backward

def _elementwise(name: str, doc: str):
    """The array-level function of kernel ``name``, one that takes only arrays (no scalars, no in-place
    buffers): its output, or the tuple of its outputs.

    NOTE: the hot path of every CPU backward: numpy inputs of one shape and dtype go straight to the
    quiet reference formula, skipping run_kernel's generic checks (which would end in the same call)."""
    spec = KERNELS[name]
    assert not (spec.scalars or spec.inplace or spec.sizes or spec.rowwise), name
    single = len(spec.outputs) == 1
    formula = _quietly(_UNARY_FORMULAS[name]) if single else _quiet_reference(name)
    ndarray = numpy.ndarray

    def run(*arrays):
        a0 = arrays[0]
        if type(a0) is ndarray:
            shape, dtype = a0.shape, a0.dtype
            for a in arrays:
                if type(a) is not ndarray or a.shape != shape or a.dtype != dtype:
                    break
            else:
                if single:
                    o = formula(numpy, *arrays)
                    return o if type(o) is ndarray and o.dtype == dtype else numpy.asarray(o, dtype=dtype)
                return tuple([o if type(o) is ndarray and o.dtype == dtype else numpy.asarray(o, dtype=dtype)
                              for o in formula(numpy, *arrays)])
        outs = run_kernel(name, *arrays)
        return outs[0] if single else outs

    if single and len(spec.inputs) == 2 and _extobj_contextvar is not None:
        raw = _UNARY_FORMULAS[name]

        def run(g, v):  # (the same, for the (grad, value) kernels: no varargs, numpy's error state set inline)
            if type(g) is ndarray and type(v) is ndarray:
                dtype = g.dtype
                if (v.dtype is dtype or v.dtype == dtype) and g.shape == v.shape:
                    if _extobj_contextvar.get() is _IGNORE_ALL:  # (inside a backward pass: quiet already)
                        o = raw(numpy, g, v)
                    else:
                        token = _extobj_contextvar.set(_IGNORE_ALL)
                        try:
                            o = raw(numpy, g, v)
                        finally:
                            _extobj_contextvar.reset(token)
                    return o if type(o) is ndarray and (o.dtype is dtype or o.dtype == dtype) \
                        else numpy.asarray(o, dtype=dtype)
            return run_kernel(name, g, v)[0]

    run.__name__ = run.__qualname__ = name
    run.__doc__ = doc
    return run


relu_bwd = _elementwise("relu_bwd", "Gradient of relu from its output: ``0 where y <= 0 else g``.")
tanh_bwd = _elementwise("tanh_bwd", "Gradient of tanh from its output: ``g * (1 - y*y)``.")
sigmoid_bwd = _elementwise("sigmoid_bwd", "Gradient of sigmoid from its output: ``g * (1 - y) * y``.")
exp_bwd = _elementwise("exp_bwd", "Gradient of exp from its output: ``g * y``.")
log_bwd = _elementwise("log_bwd", "Gradient of log: ``g / x``.")
log1p_bwd = _elementwise("log1p_bwd", "Gradient of log1p: ``g / (x + 1)``.")
sqrt_bwd = _elementwise("sqrt_bwd", "Gradient of sqrt from its output: ``g / (2*y)``.")
rsqrt_bwd = _elementwise("rsqrt_bwd", "Gradient of rsqrt from its output: ``-0.5 * g * y**3``.")
pow_bwd = _elementwise("pow_bwd", "Gradients of ``y = a ** b`` for a and b, in one pass: "
                       "``ga, gb = pow_bwd(g, a, b, y)``.")
div_bwd = _elementwise("div_bwd", "Gradients of ``a / b``: ``(g / b, -g * ((a / b) / b))``.")
abs_bwd = _elementwise("abs_bwd", "Gradient of abs: ``g * sign(x)`` (0 where x is NaN, as in torch).")


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


# ---------------------------------------------------------------- fused optimizer steps
# Each updates p and its state arrays in place with one kernel launch (cupy float32/64) or
# the numpy/cupy in-place reference. Host-side numbers (lr, bias corrections) are computed
# here in double precision, as torch.optim computes them in Python.

def sgd_step(p, g, momentum_buffer=None, *, lr, weight_decay=0.0, momentum=0.0, dampening=0.0,
             nesterov=False, maximize=False, first=False):
    """One SGD step: with a ``momentum_buffer``, momentum (``first``: the buffer is set to g)."""
    if momentum_buffer is None:
        run_kernel("sgd_step", p, g, scalars=(lr, weight_decay, float(maximize)))
    else:
        run_kernel("sgd_momentum_step", p, g, momentum_buffer,
                   scalars=(lr, weight_decay, momentum, 1 - dampening, float(nesterov),
                            float(maximize), float(first)))


def adam_step(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step, lr, beta1, beta2, eps,
              weight_decay=0.0, decoupled_weight_decay=False, maximize=False):
    """One Adam (AdamW when ``decoupled_weight_decay``) step; ``step`` counts from 1;
    AMSGrad when ``max_exp_avg_sq`` is given."""
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    decoupled = decoupled_weight_decay and weight_decay != 0
    scalars = (1 - beta1, beta2, 1 - beta2, 0.0 if decoupled_weight_decay else weight_decay,
               1 - lr * weight_decay if decoupled else 1.0, eps, -step_size,
               bias_correction2 ** 0.5, float(maximize))
    if max_exp_avg_sq is None:
        run_kernel("adam_step", p, g, exp_avg, exp_avg_sq, scalars=scalars)
    else:
        run_kernel("adam_amsgrad_step", p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, scalars=scalars)


def rmsprop_step(p, g, square_avg, grad_avg=None, momentum_buffer=None, *, lr, alpha, eps,
                 weight_decay=0.0, momentum=0.0, maximize=False):
    """One RMSprop step: centered when ``grad_avg`` is given, with momentum when
    ``momentum_buffer`` is."""
    buffers = [b for b in (grad_avg, momentum_buffer) if b is not None]
    scalars = [lr, alpha, 1 - alpha, eps, weight_decay]
    if momentum_buffer is not None:
        scalars.append(momentum)
    name = "rmsprop" + ("_centered" if grad_avg is not None else "") + (
        "_momentum" if momentum_buffer is not None else "") + "_step"
    run_kernel(name, p, g, square_avg, *buffers, scalars=(*scalars, float(maximize)))


def adagrad_step(p, g, state_sum, *, step, lr, lr_decay=0.0, eps=1e-10, weight_decay=0.0,
                 maximize=False):
    """One Adagrad step; ``step`` counts from 1."""
    clr = lr / (1 + (step - 1) * lr_decay)
    run_kernel("adagrad_step", p, g, state_sum, scalars=(-clr, eps, weight_decay, float(maximize)))


# ---------------------------------------------------------------- convolution and pooling

def col2im(cols, geometry):
    """The adjoint of im2col: sum the window values ``cols`` (C, KH, KW, N, OH, OW) back onto
    the image (N, C, H, W). ``geometry`` is the dict of ``_IMAGE_SIZES``."""
    return run_kernel("col2im", cols, sizes=geometry)[0]


def max_pool2d_bwd(g, indices, geometry):
    """Gradient of max_pool2d: each window's g goes to the pixel ``indices`` (N, C, OH, OW,
    flat h * W + w) names; pixels that are the maximum of several windows sum them."""
    return run_kernel("max_pool2d_bwd", g, indices, sizes=geometry)[0]

"""cupy.RawModule / cupy.RawKernel for the CuPy stand-in: the real CUDA source, compiled for the CPU by g++
through tests/kernel_shim.h, launched with CUDA's rules.

- The source is compiled once per process per (code, name_expressions) into a shared library (thread-safe:
  one lock per key, so different families compile in parallel, and a second caller waits for the first).
- Each ``__global__`` kernel's parameter list is parsed from the source; for every name expression
  ``name<float>`` (and every ``extern "C"`` kernel) an ``extern "C"`` wrapper
  ``shim_<name>_<ctype>(unsigned grid, unsigned block, <params>)`` calls ``ag_shim_launch`` with exactly the
  kernel's own parameter types, and ctypes gets the matching ``argtypes``.
- A launch checks every argument against its C parameter as strictly as the GPU needs: a pointer takes only a
  C-contiguous array of the stand-in's type, on the current device, whose dtype is the pointee's type; a
  scalar takes only the numpy scalar type of the C type (np.float32 for ``float`` ...); Python numbers are
  refused (the library must pass typed scalars: CuPy would pass any Python int as ``long long`` and any float
  as ``double``, whatever the parameter). grid and block are tuples, as CuPy requires, run exactly as given.
- ``launch_count`` counts the launches of each kernel (by name expression, or plain name for extern "C").
- Launches are serialised: the shim's blockIdx/threadIdx are process globals, and ctypes drops the GIL.
"""
import atexit
import ctypes
import hashlib
import operator
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

__all__ = ["RawModule", "RawKernel", "CompileException", "CUDADriverError", "launch_count", "parse_kernels"]

SHIM = Path(__file__).resolve().parents[1] / "kernel_shim.h"
FLAGS = ("-std=c++17", "-O2", "-fPIC", "-ffp-contract=off", "-shared")

#: kernel name expression (``"tanh_bwd<float>"``) or extern "C" name -> number of launches so far
launch_count = {}


class CompileException(Exception):
    """The source did not compile (as cupy.cuda.compiler.CompileException)."""


class CUDADriverError(RuntimeError):
    """What the CUDA driver would refuse (as cupy_backends.cuda.api.driver.CUDADriverError)."""


# C type (after `const`/`__restrict__` are dropped, spaces normalised) -> (numpy scalar type, ctypes type)
_C_TYPES = {
    "float": (np.float32, ctypes.c_float),
    "double": (np.float64, ctypes.c_double),
    "bool": (np.bool_, ctypes.c_bool),
    "char": (np.int8, ctypes.c_byte),
    "signed char": (np.int8, ctypes.c_byte),
    "unsigned char": (np.uint8, ctypes.c_ubyte),
    "short": (np.int16, ctypes.c_short),
    "unsigned short": (np.uint16, ctypes.c_ushort),
    "int": (np.int32, ctypes.c_int),
    "signed": (np.int32, ctypes.c_int),
    "unsigned": (np.uint32, ctypes.c_uint),
    "unsigned int": (np.uint32, ctypes.c_uint),
    "long": (np.int64, ctypes.c_long),  # LP64, as CUDA on Linux
    "unsigned long": (np.uint64, ctypes.c_ulong),
    "long long": (np.int64, ctypes.c_longlong),
    "long long int": (np.int64, ctypes.c_longlong),
    "unsigned long long": (np.uint64, ctypes.c_ulonglong),
    "unsigned long long int": (np.uint64, ctypes.c_ulonglong),
    "int32_t": (np.int32, ctypes.c_int32),
    "int64_t": (np.int64, ctypes.c_int64),
    "uint32_t": (np.uint32, ctypes.c_uint32),
    "uint64_t": (np.uint64, ctypes.c_uint64),
    "size_t": (np.uint64, ctypes.c_size_t),
}


# ---------------------------------------------------------------------------- parsing

class Param:
    """One kernel parameter: ``ctype`` (``"T"`` in a template), ``pointer``, ``const`` (of the pointee), ``name``."""
    __slots__ = ("ctype", "pointer", "const", "name")

    def __init__(self, ctype, pointer, const, name):
        self.ctype, self.pointer, self.const, self.name = ctype, pointer, const, name

    def substitute(self, T):
        return Param(T if self.ctype == "T" else self.ctype, self.pointer, self.const, self.name)

    def decl(self):
        return f"{'const ' if self.const else ''}{self.ctype}{'*' if self.pointer else ''} {self.name}"

    def __repr__(self):
        return self.decl()


class KernelDecl:
    __slots__ = ("name", "templated", "extern_c", "params")

    def __init__(self, name, templated, extern_c, params):
        self.name, self.templated, self.extern_c, self.params = name, templated, extern_c, params


_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_KERNEL = re.compile(
    r"(?P<tmpl>template\s*<\s*(?:typename|class)\s+T\s*>\s*)?"
    r"(?P<extern>extern\s+\"C\"\s*)?"
    r"__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+"
    r"(?:__launch_bounds__\s*\([^)]*\)\s*)?(?P<name>\w+)\s*\((?P<params>[^)]*)\)")
_QUALIFIERS = re.compile(r"\b(?:__restrict__|__restrict|restrict|volatile)\b")


def _parse_param(text, kernel):
    p = " ".join(_QUALIFIERS.sub(" ", text).split())
    m = re.fullmatch(r"(?P<type>[\w\s]+?)\s*(?P<stars>(?:\*\s*(?:const\s*)?)*)(?P<name>\w+)", p)
    if m is None:
        raise CompileException(f"{kernel}: cannot parse kernel parameter {text.strip()!r}")
    words = m.group("type").split()
    const = "const" in words
    ctype = " ".join(w for w in words if w != "const")
    stars = m.group("stars").count("*")
    if stars > 1:
        raise CompileException(f"{kernel}: pointer-to-pointer parameter {text.strip()!r} is not supported")
    if ctype != "T" and ctype not in _C_TYPES:
        raise CompileException(f"{kernel}: parameter type {ctype!r} of {m.group('name')} is not supported")
    return Param(ctype, stars == 1, const and stars == 1, m.group("name"))


def parse_kernels(code):
    """{name: KernelDecl} of every ``__global__`` kernel in code (comments ignored)."""
    out = {}
    for m in _KERNEL.finditer(_COMMENTS.sub(" ", code)):
        name = m.group("name")
        text = m.group("params").strip()
        params = [] if text in ("", "void") else [_parse_param(p, name) for p in text.split(",")]
        out[name] = KernelDecl(name, bool(m.group("tmpl")), bool(m.group("extern")), params)
    return out


_EXPR = re.compile(r"\s*(\w+)\s*(?:<\s*([\w ]+?)\s*>)?\s*")


def _resolve(expr, kernels):
    """(kernel name, template argument or None, parameters) of a name expression or plain kernel name."""
    m = _EXPR.fullmatch(expr)
    if m is None or m.group(1) not in kernels:
        raise CompileException(f"name expression {expr!r}: no such __global__ kernel in the source")
    k = kernels[m.group(1)]
    T = " ".join(m.group(2).split()) if m.group(2) else None
    if k.templated != (T is not None):
        raise CompileException(f"name expression {expr!r}: {k.name} is "
                               f"{'a template' if k.templated else 'not a template'}")
    if T is not None and T not in _C_TYPES:
        raise CompileException(f"name expression {expr!r}: template argument {T!r} is not supported")
    return k.name, T, [p.substitute(T) for p in k.params]


def _symbol(name, T):
    return f"shim_{name}_{T.replace(' ', '_')}" if T else f"shim_{name}"


def _wrapper(name, T, params):
    decls = "".join(f", {p.decl()}" for p in params)
    target = f"{name}<{T}>" if T else name
    args = "".join(f", {p.name}" for p in params)
    return (f'extern "C" void {_symbol(name, T)}(unsigned int grid, unsigned int block{decls}) {{\n'
            f"    ag_shim_launch(&{target}, grid, block{args});\n}}\n")


# ---------------------------------------------------------------------------- building

_build_dir = None
_libs = {}  # key -> ctypes.CDLL
_keys_lock = threading.Lock()
_key_locks = {}
_launch_lock = threading.Lock()  # the shim's blockIdx/threadIdx are shared by every launch


def _tmpdir():
    global _build_dir
    if _build_dir is None:
        _build_dir = Path(tempfile.mkdtemp(prefix="cupy_sim_rawmodule_"))
        atexit.register(shutil.rmtree, _build_dir, True)
    return _build_dir


def _defines(options):
    out = []
    for i, o in enumerate(options):
        if o.startswith(("-D", "--define-macro=")):
            out.append("-D" + o.split("=", 1)[1] if o.startswith("--define-macro=") else o)
        elif o in ("-D", "--define-macro") and i + 1 < len(options):
            out.append("-D" + options[i + 1])
    return out


def _build(code, exprs, wrappers, options):
    key = hashlib.sha256(repr((code, tuple(exprs), tuple(_defines(options)))).encode()).hexdigest()[:24]
    lib = _libs.get(key)
    if lib is not None:
        return lib
    with _keys_lock:
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        lib = _libs.get(key)
        if lib is not None:
            return lib
        gxx = shutil.which("g++")
        if gxx is None:
            raise CompileException("the CuPy stand-in needs g++ to build CUDA sources for the CPU")
        with _keys_lock:
            out = _tmpdir()
        src, so = out / f"{key}.cpp", out / f"{key}.so"
        # NOTE: the loader inlines common.cuh, `#pragma once` and all: harmless in the main file, but g++ warns
        src.write_text(code.replace("#pragma once", "") + "\n\n// ---- shim entry points\n" + "".join(wrappers))
        tmp = out / f"{key}.{os.getpid()}.{threading.get_ident()}.so"
        r = subprocess.run([gxx, *FLAGS, *_defines(options), "-include", str(SHIM), str(src), "-o", str(tmp)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise CompileException(f"g++ failed to compile the kernel source ({src}):\n{r.stderr}")
        os.replace(tmp, so)
        lib = _libs[key] = ctypes.CDLL(str(so))
        return lib


# ---------------------------------------------------------------------------- launching

def _dims(what, value):
    if not isinstance(value, tuple):
        # as CuPy's Function.__call__(tuple grid, tuple block, ...)
        raise TypeError(f"Argument '{what}' has incorrect type (expected tuple, got {type(value).__name__})")
    if not 1 <= len(value) <= 3:
        raise ValueError(f"{what} must have 1 to 3 dimensions, got {value!r}")
    dims = []
    for v in value:
        if isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{what} {value!r}: dimensions must be integers")
        dims.append(operator.index(v))
    dims += [1] * (3 - len(dims))
    return dims


class _Function:
    """A loaded kernel: ``kernel(grid, block, args, *, shared_mem=0, stream=None)``."""

    def __init__(self, label, fn, params, array_type, current_device):
        self.name = label  # e.g. "tanh_bwd<float>"
        self.params = params
        self._fn = fn
        self._array_type = array_type
        self._current_device = current_device
        fn.restype = None
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint] + [
            ctypes.c_void_p if p.pointer else _C_TYPES[p.ctype][1] for p in params]

    def __repr__(self):
        return f"<cupy_sim kernel {self.name}({', '.join(map(repr, self.params))})>"

    def _describe(self, p):
        return f"parameter {p.name} ({p.decl().rsplit(' ', 1)[0]}) of kernel {self.name}"

    def _arg(self, a, p, device):
        want = _C_TYPES[p.ctype][0]
        if p.pointer:
            if not isinstance(a, self._array_type):
                raise TypeError(f"{self._describe(p)} needs a device array of dtype {np.dtype(want)}, "
                                f"got {type(a).__module__}.{type(a).__name__}")
            if a.device.id != device:
                raise ValueError(f"Array device must be same as the current device: array device = "
                                 f"{a.device.id} while current = {device} ({self._describe(p)})")
            if np.dtype(a.dtype) != np.dtype(want):
                raise TypeError(f"{self._describe(p)} needs dtype {np.dtype(want)}, got an array of dtype "
                                f"{np.dtype(a.dtype)}")
            if not (a.flags.c_contiguous and a._a.flags.c_contiguous):
                raise ValueError(f"{self._describe(p)} got a non-C-contiguous array (shape {a.shape}, strides "
                                 f"{a._a.strides}): the kernel would read it as if it were contiguous")
            return a._a.ctypes.data
        if type(a) is not want:
            if isinstance(a, (bool, int, float)):
                hint = ("CuPy would pass it as long long/double/bool whatever the parameter's type: pass "
                        f"numpy.{want.__name__}(...)")
            else:
                hint = f"pass numpy.{want.__name__}(...)"
            raise TypeError(f"{self._describe(p)} needs a numpy.{want.__name__} scalar, got "
                            f"{type(a).__module__}.{type(a).__name__} ({hint})")
        return a.item()

    def __call__(self, grid, block, args, *, shared_mem=0, stream=None):
        g, b = _dims("grid", grid), _dims("block", block)
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"{self.name}: args must be a tuple, got {type(args).__name__}")
        if len(args) != len(self.params):
            raise TypeError(f"kernel {self.name} takes {len(self.params)} arguments "
                            f"({', '.join(map(repr, self.params))}), got {len(args)}")
        if min(g) < 1 or min(b) < 1 or g[0] > 2**31 - 1 or max(g[1:]) > 65535 or b[0] * b[1] * b[2] > 1024 \
                or b[2] > 64:
            raise CUDADriverError(f"CUDA_ERROR_INVALID_VALUE: invalid launch configuration grid={grid} "
                                  f"block={block} ({self.name})")
        if g[1:] != [1, 1] or b[1:] != [1, 1]:
            raise NotImplementedError(f"{self.name}: the CPU shim runs 1-d grids and blocks only, got "
                                      f"grid={grid} block={block}")
        device = self._current_device()
        c_args = [self._arg(a, p, device) for a, p in zip(args, self.params)]
        with _launch_lock:
            launch_count[self.name] = launch_count.get(self.name, 0) + 1
            self._fn(g[0], b[0], *c_args)


class RawModule:
    """``cupy.RawModule(code=..., options=..., name_expressions=...)`` over the CPU shim.

    ``_array_type``: the stand-in's array class; ``_current_device()``: the current device id."""

    def __init__(self, code, options=(), name_expressions=(), *, _array_type, _current_device):
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, got {type(code).__name__}")
        self.code = code
        self.options = tuple(options or ())
        self.name_expressions = tuple(name_expressions or ())
        self._array_type, self._current_device = _array_type, _current_device
        self._kernels = parse_kernels(code)
        self._entries = {}  # name expression or extern "C" name -> (kernel name, T, params)
        for expr in self.name_expressions:
            self._entries[expr] = _resolve(expr, self._kernels)
        for k in self._kernels.values():
            if k.extern_c and not k.templated:
                self._entries.setdefault(k.name, (k.name, None, list(k.params)))
        unique = {}
        for name, T, params in self._entries.values():
            unique.setdefault(_symbol(name, T), _wrapper(name, T, params))
        self._lib = _build(code, self.name_expressions, list(unique.values()), self.options)
        self._functions = {}

    def get_function(self, name):
        fn = self._functions.get(name)
        if fn is None:
            entry = self._entries.get(name)
            if entry is None:
                raise CUDADriverError(f"CUDA_ERROR_NOT_FOUND: named symbol not found: {name!r} (neither one of "
                                      f"the module's name_expressions nor an extern \"C\" kernel)")
            kname, T, params = entry
            fn = self._functions[name] = _Function(name, getattr(self._lib, _symbol(kname, T)), params,
                                                   self._array_type, self._current_device)
        return fn


class RawKernel:
    """``cupy.RawKernel(code, name)`` of an ``extern "C"`` kernel (or a plain one by its name)."""

    def __init__(self, code, name, options=(), *, _array_type, _current_device):
        kernels = parse_kernels(code)
        k = kernels.get(name)
        if k is None or k.templated:
            raise CUDADriverError(f"CUDA_ERROR_NOT_FOUND: named symbol not found: {name!r}")
        self.code, self.name, self.options = code, name, tuple(options or ())
        self._module = RawModule(code, options, () if k.extern_c else (name,), _array_type=_array_type,
                                 _current_device=_current_device)
        self._fn = self._module.get_function(name)

    def __call__(self, grid, block, args, *, shared_mem=0, stream=None):
        return self._fn(grid, block, args, shared_mem=shared_mem, stream=stream)

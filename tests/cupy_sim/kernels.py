"""cupy.RawModule for the stand-in: the real CUDA source compiled by g++ through tests/kernel_shim.h, launched
with CUDA's rules: every argument checked against its C parameter type, the grid and block run as given."""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

SHIM = Path(__file__).parents[1] / "kernel_shim.h"
_FLAGS = ["-std=c++17", "-O2", "-fPIC", "-shared", "-ffp-contract=off"]
# the built libraries, shared with the processes this one starts (the ranks of the multi-process tests), which
# then build nothing the parent has built already
_BUILD = Path(os.environ.get("CUPY_SIM_BUILD_DIR") or tempfile.mkdtemp(prefix="cupy_sim_kernels_"))
os.environ["CUPY_SIM_BUILD_DIR"] = str(_BUILD)
_lock = threading.RLock()
_libs = {}
launches = {}  # kernel name expression -> launch count
on_launch = [lambda pointers: None]  # set by the package: [(array, written)] of a launch, before it runs

_C_DTYPES = {"float": np.float32, "double": np.float64, "bool": np.bool_, "long long": np.int64,
             "int": np.int32, "unsigned int": np.uint32, "unsigned char": np.uint8}
_C_CTYPES = {"float": ctypes.c_float, "double": ctypes.c_double, "bool": ctypes.c_bool,
             "long long": ctypes.c_longlong, "int": ctypes.c_int, "unsigned int": ctypes.c_uint}


def _parse(code):
    """{kernel name: [(C type with T, is_pointer, is_const, name)]} of every templated or extern "C" __global__."""
    out = {}
    pattern = r"(?:template\s*<\s*typename\s+T\s*>|extern\s+\"C\")\s*__global__\s+void\s+(\w+)\s*\(([^)]*)\)"
    for m in re.finditer(pattern, code):
        params = []
        for p in m.group(2).split(","):
            p = " ".join(p.replace("__restrict__", " ").split())
            const = p.startswith("const ")
            p = p[6:] if const else p
            ptr = "*" in p
            ctype, name = p.replace("*", " ").rsplit(None, 1)
            params.append((" ".join(ctype.split()), ptr, const, name))
        out[m.group(1)] = params
    return out


class RawKernel:
    def __init__(self, module, name, ctype, params, fn, array_type, current_device):
        self.name, self._module = f"{name}<{ctype}>", module
        self._params = [(ctype if t == "T" else t, ptr, const, n) for t, ptr, const, n in params]
        self._fn, self._array_type, self._current = fn, array_type, current_device

    def __call__(self, grid, block, args, *, shared_mem=0, stream=None):
        if len(args) != len(self._params):
            raise TypeError(f"{self.name} takes {len(self._params)} arguments, got {len(args)}")
        c_args, keep, ftz, pointers = [], [], [], []
        for a, (ctype, ptr, const, pname) in zip(args, self._params):
            want = _C_DTYPES[ctype]
            if ptr:
                if type(a) is not self._array_type:
                    raise TypeError(f"{self.name}: argument {pname} ({'const ' if const else ''}{ctype}*) needs a "
                                    f"device array, got {type(a).__name__}")
                if a._dev != self._current():
                    raise ValueError(f"{self.name}: argument {pname} is on device {a._dev}, but the current "
                                     f"device is {self._current()}")
                if a.dtype != want:
                    raise TypeError(f"{self.name}: argument {pname} ({ctype}*) got a buffer of dtype {a.dtype}")
                if not a._a.flags.c_contiguous:
                    raise ValueError(f"{self.name}: argument {pname} is not C-contiguous (the kernel would read "
                                     "it as if it were)")
                pointers.append((a, not const))
                buf = a._a
                if ctype == "float":  # CuPy compiles with -ftz=true: float32 subnormals read as zero
                    if const:
                        buf = _flushed(buf)
                        keep.append(buf)
                    else:
                        ftz.append(buf)
                        buf[...] = _flushed(buf)
                c_args.append(ctypes.c_void_p(buf.ctypes.data))
            else:
                if type(a) is not want:
                    raise TypeError(f"{self.name}: argument {pname} ({ctype}) needs numpy.{want.__name__}, got "
                                    f"{type(a).__name__}: CuPy would pass a Python int as long long and a float "
                                    f"as double, whatever the parameter's type")
                c_args.append(_C_CTYPES[ctype](a.item()))
        on_launch[0](pointers)
        grid = grid[0] if isinstance(grid, tuple) else grid
        block = block[0] if isinstance(block, tuple) else block
        # NOTE: one launch at a time: the shim's blockIdx/threadIdx are process-wide, and ctypes drops the GIL
        with _lock:
            launches[self.name] = launches.get(self.name, 0) + 1
            self._fn(ctypes.c_uint(grid), ctypes.c_uint(block), *c_args)
        for a in ftz:  # (and written as zero)
            a[...] = _flushed(a)


def _flushed(a):
    """a with its float32 subnormals as signed zeros (a itself when it has none)."""
    sub = (np.abs(a) < np.finfo(np.float32).tiny) & (a != 0)
    if not sub.any():
        return a
    out = a.copy()
    out[sub] = np.copysign(np.float32(0), a[sub])
    return out


class _Plain:
    """cupy.RawKernel(code, name) of an extern "C" kernel."""

    def __init__(self, code, name, array_type, current_device):
        kernels = _parse(code)
        lib = _build(code, (name,), kernels)
        self._k = RawKernel(None, name, "", kernels[name], getattr(lib, f"shim_{name}_"), array_type,
                            current_device)
        self._k.name = name

    def __call__(self, grid, block, args, **kw):
        return self._k(grid, block, args, **kw)


class RawModule:
    def __init__(self, code, options=(), name_expressions=(), *, _array_type, _current_device):
        self._kernels = _parse(code)
        self._array_type, self._current = _array_type, _current_device
        self._names = list(name_expressions)
        self._lib = _build(code, tuple(self._names), self._kernels)

    def get_function(self, name_expression):
        if name_expression not in self._names:
            raise KeyError(f"{name_expression} is not among the module's name_expressions")
        name, ctype = re.fullmatch(r"(\w+)<(\w+)>", name_expression).groups()
        fn = getattr(self._lib, f"shim_{name}_{ctype}")
        return RawKernel(self, name, ctype, self._kernels[name], fn, self._array_type, self._current)


def _build(code, names, kernels):
    key = hashlib.sha1((code + repr(names) + SHIM.read_text() + repr(_FLAGS)).encode()).hexdigest()[:16]
    with _lock:
        lib = _libs.get(key)
        if lib is not None:
            return lib
        wrappers = []
        for expr in names:
            name, ctype = re.fullmatch(r"(\w+)(?:<(\w+)>)?", expr).groups()
            ctype = ctype or ""
            params = [(("const " if const else "") + (ctype if t == "T" else t) + ("*" if ptr else ""), n)
                      for t, ptr, const, n in kernels[name]]
            decl = ", ".join(f"{t} {n}" for t, n in params)
            target = f"{name}<{ctype}>" if ctype else name
            wrappers.append(f'extern "C" void shim_{name}_{ctype}(unsigned grid, unsigned block, {decl}) {{\n'
                            f'    ag_shim_launch(&{target}, grid, block, {", ".join(n for _, n in params)});\n}}\n')
        so = _BUILD / f"{key}.so"
        if not so.exists():
            part = f"{key}.{os.getpid()}"
            src = _BUILD / f"{part}.cpp"
            # (the loader inlines common.cuh, `#pragma once` and all: harmless here, so g++'s warning is dropped)
            src.write_text(code.replace("#pragma once", "") + "\n" + "".join(wrappers))
            gxx = shutil.which("g++")
            if gxx is None:
                raise RuntimeError("the CuPy stand-in needs g++ to build kernels/*.cu for the CPU")
            subprocess.run([gxx, *_FLAGS, "-include", str(SHIM), str(src), "-o", str(_BUILD / f"{part}.so")],
                           check=True)
            os.replace(_BUILD / f"{part}.so", so)  # (atomic: a process building the same library meanwhile)
        lib = _libs[key] = ctypes.CDLL(str(so))
        return lib

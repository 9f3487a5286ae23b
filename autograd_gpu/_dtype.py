"""dtypes with PyTorch's names and PyTorch's type-promotion rules."""
import builtins
import math

import ml_dtypes
import numpy as np

# category order used by promotion: bool < integer < floating
_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed", "_cat")

    def __init__(self, name, np_dtype, cat):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = cat == _FLOAT
        self.is_complex = False
        self.is_signed = name not in ("bool", "uint8")
        self._cat = cat

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return self.name

    def to_real(self):
        return self

    def to_complex(self):
        raise RuntimeError("complex dtypes are not supported by autograd_gpu")


float16 = half = dtype("float16", np.float16, _FLOAT)
float32 = float = dtype("float32", np.float32, _FLOAT)
float64 = double = dtype("float64", np.float64, _FLOAT)
# NOTE: numpy has no bfloat16; ml_dtypes' is the one CuPy 14 takes too. Its numpy kind is "V", not "f":
# ask is_floating(array.dtype), never dtype.kind, whether an array holds floats.
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT)
uint8 = dtype("uint8", np.uint8, _INT)
int8 = dtype("int8", np.int8, _INT)
int16 = short = dtype("int16", np.int16, _INT)
int32 = int = dtype("int32", np.int32, _INT)
int64 = long = dtype("int64", np.int64, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001  (PyTorch's name)

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool, bfloat16)
_FROM_NP = {d.np: d for d in ALL}
_BF16_NP = bfloat16.np


def is_floating(np_dtype):
    """Whether arrays of numpy dtype `np_dtype` hold floating-point numbers (bfloat16 included)."""
    return np_dtype.kind == "f" or np_dtype == _BF16_NP

_default_float = float32


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def from_numpy_dtype(np_dtype):
    """Our dtype for a numpy dtype; float data of other widths is refused with a clear error."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        try:
            return _FROM_NP[np.dtype(np_dtype)]
        except (KeyError, TypeError):
            raise TypeError(f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
                            "float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, and bool.") from None


def to_dtype(d):
    """A dtype argument as PyTorch takes it: our dtype, the Python types float (float64), int (int64) and bool,
    or None; anything else (a string, a numpy dtype) is PyTorch's TypeError."""
    if d is None or isinstance(d, dtype):
        return d
    if d is builtins.float:  # (float means double, as in PyTorch, whatever the default dtype)
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    t = type(d)
    name = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    raise TypeError(f"argument 'dtype' must be torch.dtype, not {name}")


def by_name(name):
    """The dtype called `name` ('float32'; our own files' names, never a user's argument)."""
    for d in ALL:
        if d.name == name:
            return d
    raise ValueError(f"unknown dtype name {name!r}")


def promote_types(a, b):
    """torch.promote_types: within a category the wider type wins; across categories the higher one."""
    if a is b:
        return a
    if a._cat != b._cat:
        return a if a._cat > b._cat else b
    if a._cat == _BOOL:
        return a
    if {a, b} == {bfloat16, float16}:  # (neither holds the other: float32 holds both, as PyTorch promotes)
        return float32
    return _FROM_NP[np.promote_types(a.np, b.np)]


def _scalar_dtype(x):
    x = python_number(x)
    if isinstance(x, builtins.bool):
        return bool
    if isinstance(x, builtins.int):
        return int64
    return _default_float


def _combine(higher, lower):
    # at::native::combine_categories: a higher-priority operand wins unless a lower one is of a higher category
    if higher is None:
        return lower
    if lower is None or higher._cat == _FLOAT:
        return higher
    if higher is bool or lower._cat == _FLOAT:
        return promote_types(higher, lower)
    if lower is bool or lower._cat <= higher._cat:
        return higher
    return promote_types(higher, lower)


def result_type(operands):
    """torch.result_type over tensors and Python scalars: dimensioned tensors take priority over
    zero-dimensional ones, which take priority over Python scalars, unless a lower-priority operand is
    of a higher category (an int tensor times 0.5 is float32; a float64 tensor times 0.5 stays float64)."""
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "_data", None)
        if d is None:
            if x is None:
                continue
            sd = _scalar_dtype(x)
            wrapped = sd if wrapped is None else promote_types(wrapped, sd)
        elif d.ndim:
            td = _FROM_NP[d.dtype]
            dim = td if dim is None else promote_types(dim, td)
        else:
            td = _FROM_NP[d.dtype]
            zero = td if zero is None else promote_types(zero, td)
    return _combine(dim, _combine(zero, wrapped))


# PyTorch's C++ ScalarType names, as its error messages spell dtypes
SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                     "int32": "Int", "int64": "Long", "bool": "Bool", "uint8": "Byte", "int8": "Char",
                     "int16": "Short"}

# the C type names PyTorch's messages use for a dtype ('float', 'double', 'long int', ...)
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                 "int32": "int", "int64": "long int", "bool": "bool", "uint8": "unsigned char",
                 "int8": "signed char", "int16": "short int"}


def legacy_type_name(array):
    """'torch.FloatTensor', 'torch.cuda.LongTensor', ...: the legacy name of the type of a tensor holding `array`."""
    prefix = "torch." if type(array) is np.ndarray else "torch.cuda."
    return prefix + SCALAR_TYPE_NAMES[array.dtype.name] + "Tensor"


def not_implemented(kernel, dt):
    """PyTorch's error for an op without a kernel for dtype `dt` (ours or numpy's): '"kernel" not implemented for
    'Long''; raise the result."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{SCALAR_TYPE_NAMES.get(dt.name, dt.name)}\'')


def check_real(x):
    """Refuse a complex number: there are no complex dtypes (never keep only its real part)."""
    if isinstance(x, (complex, np.complexfloating)):
        raise TypeError(f"autograd_gpu has no complex dtypes: cannot compute with the complex number {x!r} (use "
                        "real tensors, e.g. the real and imaginary parts separately)")


def python_number(x):
    """A numpy scalar as the Python number PyTorch takes it for (np.int64 an int, np.float32 a float; np.bool_ an
    int, where PyTorch reads it as a float); a complex number is refused."""
    check_real(x)
    if isinstance(x, np.generic):
        return builtins.int(x) if isinstance(x, np.bool_) else x.item()
    return x


# the names PyTorch's overflow message gives each dtype (c10's checked_convert)
_CONVERT_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
                  "float16": "c10::Half", "float32": "float", "float64": "double", "bfloat16": "c10::BFloat16"}


def checked_scalar(v, dt):
    """The Python number v as a value of dtype dt, checked as PyTorch checks a scalar it stores (fill_, full,
    masked_fill, t[i] = v, clamp's bounds): a RuntimeError where dt cannot hold it (numpy would wrap or round
    silently). An int may wrap into an unsigned dtype down to -max (uint8 takes -3 as 253); a float must fit
    before truncation; a floating dtype takes inf and nan but no finite value beyond its range."""
    if dt.name == "bool":
        return builtins.bool(v)
    if dt.name == "float64" or isinstance(v, builtins.bool):
        return v
    npdt = dt.np
    if dt.is_floating_point:
        if math.isfinite(v) and abs(v) > builtins.float(ml_dtypes.finfo(npdt).max):
            raise RuntimeError(f"value cannot be converted to type {_CONVERT_NAMES[dt.name]} without overflow")
        return v
    info = np.iinfo(npdt)
    lo = -builtins.int(info.max) if info.min == 0 and isinstance(v, builtins.int) else builtins.int(info.min)
    if not (math.isfinite(v) and lo <= v <= builtins.int(info.max)):
        raise RuntimeError(f"value cannot be converted to type {_CONVERT_NAMES[dt.name]} without overflow")
    if v < 0 and info.min == 0 and isinstance(v, builtins.int):
        v += 1 << (8 * npdt.itemsize)  # (-3 is 253 in uint8)
    return v


def number_arg(v, fn, arg):
    """v, an argument that must be a number (a fill value, a clamp bound), as a Python number; PyTorch's
    TypeError for anything else (None, a string, a numpy array)."""
    t = type(v)
    if t is builtins.int or t is builtins.float or t is builtins.bool:
        return v
    if isinstance(v, (builtins.int, builtins.float, complex, np.number, np.bool_)):
        return python_number(v)
    name = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    raise TypeError(f"{fn}(): argument '{arg}' must be Number, not {name}")


def _info_dtype(fn, type):
    if type is builtins.float or type is builtins.int or type is builtins.bool:
        return to_dtype(type)
    if not isinstance(type, dtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be torch.dtype, not {builtins.type(type).__name__}")
    return type


class finfo:
    """torch.finfo: the numerical properties of a floating dtype (default: the default dtype).

    >>> finfo(float16).max
    65504.0
    """
    __hash__ = None

    def __init__(self, type=None):
        d = get_default_dtype() if type is None else _info_dtype("finfo", type)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        f = ml_dtypes.finfo(d.np)  # (numpy's finfo for numpy's types, ml_dtypes' for bfloat16)
        self.bits = d.itemsize * 8
        self.eps, self.max, self.min = builtins.float(f.eps), builtins.float(f.max), builtins.float(f.min)
        self.tiny = self.smallest_normal = builtins.float(f.smallest_normal)
        self.resolution = 10.0 ** -f.precision  # (PyTorch: 10 ** -digits10, exact in float64 as here)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the range of an integer dtype.

    >>> iinfo(uint8).max
    255
    """
    __hash__ = None

    def __init__(self, type):
        d = _info_dtype("iinfo", type)
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d._cat != _INT:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        i = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = d.itemsize * 8, builtins.int(i.max), builtins.int(i.min), d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"

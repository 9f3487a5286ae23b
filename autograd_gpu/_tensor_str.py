"""Tensor printing, ported from PyTorch's ``torch/_tensor_str.py`` (torch 2.13).

Everything here works on host numpy arrays; the caller copies GPU (CuPy) data
to the host before asking for a repr.  The goal is character-for-character
agreement with ``repr(torch_tensor)``.

Public API::

    tensor_repr(arr, *, dtype, device, default_device="cpu", requires_grad=False,
                is_leaf=True, grad_fn_name=None, prefix="tensor(",
                default_dtype="float32") -> str
    set_printoptions(precision=None, threshold=None, edgeitems=None,
                     linewidth=None, profile=None, sci_mode=None)
    get_printoptions() -> dict
    printoptions(**kwargs)  # context manager
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np

__all__ = [
    "PRINT_OPTS",
    "set_printoptions",
    "get_printoptions",
    "printoptions",
    "tensor_repr",
    "tensor_str",
]

inf = math.inf


@dataclasses.dataclass
class __PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = __PrinterOptions()


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set options for printing (same semantics as ``torch.set_printoptions``).

    Note: like torch, ``sci_mode`` is always assigned (passing nothing resets it
    to ``None``, i.e. automatic).
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80
        elif profile == "short":
            PRINT_OPTS.precision = 2
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 2
            PRINT_OPTS.linewidth = 80
        elif profile == "full":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = inf
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80

    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current print options, as kwargs accepted by :func:`set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that temporarily changes the print options."""
    old_kwargs = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old_kwargs)


# ---------------------------------------------------------------------------
# dtype helpers
# ---------------------------------------------------------------------------

_FLOAT_DTYPES = {"float16", "bfloat16", "float32", "float64"}
_COMPLEX_DTYPES = {"complex64", "complex128"}
_DEFAULT_COMPLEX = {"float64": "complex128"}  # anything else -> complex64

_NP_TO_NAME = {
    np.dtype(np.float16): "float16",
    np.dtype(np.float32): "float32",
    np.dtype(np.float64): "float64",
    np.dtype(np.complex64): "complex64",
    np.dtype(np.complex128): "complex128",
    np.dtype(np.int8): "int8",
    np.dtype(np.int16): "int16",
    np.dtype(np.int32): "int32",
    np.dtype(np.int64): "int64",
    np.dtype(np.uint8): "uint8",
    np.dtype(np.uint16): "uint16",
    np.dtype(np.uint32): "uint32",
    np.dtype(np.uint64): "uint64",
    np.dtype(np.bool_): "bool",
}


def _dtype_name(dtype) -> str:
    """Normalise a dtype spec ("float32", "torch.float32", np.float32, ...)."""
    if isinstance(dtype, str):
        name = dtype
        if name.startswith("torch."):
            name = name[len("torch."):]
        aliases = {
            "float": "float32",
            "double": "float64",
            "half": "float16",
            "int": "int32",
            "long": "int64",
            "short": "int16",
            "bool_": "bool",
            "cfloat": "complex64",
            "cdouble": "complex128",
        }
        return aliases.get(name, name)
    try:
        return _NP_TO_NAME[np.dtype(dtype)]
    except Exception:
        return str(dtype).replace("torch.", "")


def _dtype_str(name: str) -> str:
    return "torch." + name


# ---------------------------------------------------------------------------
# Formatter
# ---------------------------------------------------------------------------


class _Formatter:
    def __init__(self, values: np.ndarray, floating_dtype: bool):
        self.floating_dtype = floating_dtype
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        flat = np.asarray(values).reshape(-1)

        if not self.floating_dtype:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return

        # Work in float64 (exact for float16/float32 values; what .item() gives).
        flat = flat.astype(np.float64, copy=False)
        with np.errstate(invalid="ignore"):
            nonzero_finite_vals = flat[np.isfinite(flat) & (flat != 0)]

        if nonzero_finite_vals.size == 0:
            # no valid number, do nothing
            return

        nonzero_finite_abs = np.abs(nonzero_finite_vals)
        nonzero_finite_min = float(nonzero_finite_abs.min())
        nonzero_finite_max = float(nonzero_finite_abs.max())

        self.int_mode = bool(np.all(nonzero_finite_vals == np.ceil(nonzero_finite_vals)))

        self.sci_mode = (
            nonzero_finite_max / nonzero_finite_min > 1000.0
            or nonzero_finite_max > 1.0e8
            or nonzero_finite_min < 1.0e-4
            if PRINT_OPTS.sci_mode is None
            else PRINT_OPTS.sci_mode
        )

        vals = nonzero_finite_vals.tolist()
        if self.int_mode:
            # in int_mode for floats, all numbers are integers, and we append a
            # decimal to nonfinites to indicate that the tensor is of floating
            # type. add 1 to the len to account for this.
            if self.sci_mode:
                fmt = f"{{:.{PRINT_OPTS.precision}e}}"
                for value in vals:
                    self.max_width = max(self.max_width, len(fmt.format(value)))
            else:
                for value in vals:
                    self.max_width = max(self.max_width, len(f"{value:.0f}") + 1)
        else:
            if self.sci_mode:
                fmt = f"{{:.{PRINT_OPTS.precision}e}}"
            else:
                fmt = f"{{:.{PRINT_OPTS.precision}f}}"
            for value in vals:
                self.max_width = max(self.max_width, len(fmt.format(value)))

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating_dtype:
            value = float(value)
            if self.sci_mode:
                ret = f"{{:{self.max_width}.{PRINT_OPTS.precision}e}}".format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{{:.{PRINT_OPTS.precision}f}}".format(value)
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _scalar_str(a: np.ndarray, formatter1, formatter2=None):
    if formatter2 is not None:
        real_str = _scalar_str(a.real, formatter1)
        imag_str = (_scalar_str(a.imag, formatter2) + "j").lstrip()
        # handles negative numbers, +0.0, -0.0
        if imag_str[0] == "+" or imag_str[0] == "-":
            return real_str + imag_str
        else:
            return real_str + "+" + imag_str
    else:
        return formatter1.format(a.item())


def _vector_str(a: np.ndarray, indent, summarize, formatter1, formatter2=None):
    # length includes spaces and comma between elements
    element_length = formatter1.width() + 2
    if formatter2 is not None:
        # width for imag_formatter + an extra j for complex
        element_length += formatter2.width() + 1

    elements_per_line = max(
        1, math.floor((PRINT_OPTS.linewidth - indent) / (element_length))
    )

    def _val_formatter(val, formatter1=formatter1, formatter2=formatter2):
        if formatter2 is not None:
            real_str = formatter1.format(val.real)
            imag_str = (formatter2.format(val.imag) + "j").lstrip()
            # handles negative numbers, +0.0, -0.0
            if imag_str[0] == "+" or imag_str[0] == "-":
                return real_str + imag_str
            else:
                return real_str + "+" + imag_str
        else:
            return formatter1.format(val)

    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = (
            [_val_formatter(val) for val in a[:edge].tolist()]
            + [" ..."]
            + [_val_formatter(val) for val in a[-edge:].tolist()]
        )
    else:
        data = [_val_formatter(val) for val in a.tolist()]

    data_lines = [
        data[i : i + elements_per_line] for i in range(0, len(data), elements_per_line)
    ]
    lines = [", ".join(line) for line in data_lines]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a: np.ndarray, indent, summarize, formatter1, formatter2=None):
    dim = a.ndim

    if dim == 0:
        return _scalar_str(a, formatter1, formatter2)

    if dim == 1:
        return _vector_str(a, indent, summarize, formatter1, formatter2)

    edge = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * edge:
        slices = (
            [
                _tensor_str_with_formatter(a[i], indent + 1, summarize, formatter1, formatter2)
                for i in range(edge)
            ]
            + ["..."]
            + [
                _tensor_str_with_formatter(a[i], indent + 1, summarize, formatter1, formatter2)
                for i in range(n - edge, n)
            ]
        )
    else:
        slices = [
            _tensor_str_with_formatter(a[i], indent + 1, summarize, formatter1, formatter2)
            for i in range(n)
        ]

    tensor_str = ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices)
    return "[" + tensor_str + "]"


def get_summarized_data(a: np.ndarray) -> np.ndarray:
    dim = a.ndim
    edge = PRINT_OPTS.edgeitems
    if dim == 0:
        return a
    if dim == 1:
        if a.shape[0] > 2 * edge:
            return np.concatenate((a[:edge], a[-edge:]))
        else:
            return a
    if not edge:
        return np.empty([0] * dim, dtype=a.dtype)
    elif a.shape[0] > 2 * edge:
        n = a.shape[0]
        start = [a[i] for i in range(edge)]
        end = [a[i] for i in range(n - edge, n)]
        return np.stack([get_summarized_data(x) for x in (start + end)])
    else:
        return np.stack([get_summarized_data(x) for x in a])


def tensor_str(arr, indent: int, *, dtype=None) -> str:
    """The bracketed body of a tensor repr (torch's ``_tensor_str``)."""
    a = np.asarray(arr)
    name = _dtype_name(dtype if dtype is not None else a.dtype)
    if a.size == 0:
        return "[]"

    summarize = a.size > PRINT_OPTS.threshold

    if name in _COMPLEX_DTYPES or np.iscomplexobj(a):
        a = a.astype(np.complex128, copy=False)
        real, imag = a.real, a.imag
        real_formatter = _Formatter(get_summarized_data(real) if summarize else real, True)
        imag_formatter = _Formatter(get_summarized_data(imag) if summarize else imag, True)
        return _tensor_str_with_formatter(a, indent, summarize, real_formatter, imag_formatter)

    floating = name in _FLOAT_DTYPES
    if floating:
        a = a.astype(np.float64, copy=False)
    elif name == "bool":
        a = a.astype(np.bool_, copy=False)
    elif a.dtype.kind not in "iub":
        try:
            a = a.astype(np.dtype(name), copy=False)
        except TypeError:
            a = a.astype(np.int64, copy=False)
    formatter = _Formatter(get_summarized_data(a) if summarize else a, floating)
    return _tensor_str_with_formatter(a, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline):
    tensor_strs = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


def _parse_device(device) -> tuple[str, int | None]:
    s = str(device)
    if ":" in s:
        typ, idx = s.split(":", 1)
        return typ, int(idx)
    return s, None


def tensor_repr(
    arr,
    *,
    dtype,
    device="cpu",
    default_device: str = "cpu",
    requires_grad: bool = False,
    is_leaf: bool = True,
    grad_fn_name: str | None = None,
    prefix: str = "tensor(",
    default_dtype: str = "float32",
) -> str:
    """Return the string ``repr(torch_tensor)`` would give for these values.

    arr           host numpy array holding the values (any numeric dtype; only
                  the values are used, ``dtype`` decides formatting/printing).
    dtype         "float16", "bfloat16", "float32", "float64", "int8", "int16",
                  "int32", "int64", "uint8", "bool", "complex64", "complex128"
                  (a "torch." prefix or a numpy dtype is accepted too).
    device        e.g. "cpu", "cuda", "cuda:0"; printed as ``device='cuda:0'``
                  when it differs from ``default_device`` (torch's rule: type
                  differs, or both cuda with a different index).
    requires_grad / is_leaf / grad_fn_name
                  ``grad_fn=<Name>`` is printed when grad_fn_name is given,
                  otherwise ``requires_grad=True`` when requires_grad.
    prefix        text before the body, "tensor(" by default.  A multi-line
                  prefix such as "Parameter containing:\\ntensor(" is handled
                  like torch's Parameter repr: indentation follows the length
                  of the prefix's last line.
    """
    a = np.asarray(arr)
    name = _dtype_name(dtype)
    default_dtype = _dtype_name(default_dtype)

    # Split a multi-line prefix: everything up to the last newline is a header
    # (as in "Parameter containing:\n"), the rest is the real tensor prefix.
    nl = prefix.rfind("\n")
    header, prefix = prefix[: nl + 1], prefix[nl + 1 :]
    indent = len(prefix)
    suffixes = []

    # Device (see torch's Note [Print tensor device]).
    dev_type, dev_index = _parse_device(device)
    def_type, def_index = _parse_device(default_device)
    if dev_type == "cuda" and dev_index is None:
        dev_index = 0
    if def_type == "cuda" and def_index is None:
        def_index = 0
    if (
        dev_type != def_type
        or (dev_type == "cuda" and dev_index != def_index)
        or dev_type == "mps"
    ):
        dev_str = dev_type if dev_index is None else f"{dev_type}:{dev_index}"
        suffixes.append("device='" + dev_str + "'")

    default_complex = _DEFAULT_COMPLEX.get(default_dtype, "complex64")
    has_default_dtype = name in (default_dtype, default_complex, "int64", "bool")

    if a.size == 0:
        # Explicitly print the shape if it is not (0,), to match NumPy behavior
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        # In an empty tensor, there are no elements to infer if the dtype
        # should be int64, so it must be shown explicitly.
        if name != default_dtype:
            suffixes.append("dtype=" + _dtype_str(name))
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        if not has_default_dtype:
            suffixes.append("dtype=" + _dtype_str(name))
        body = tensor_str(a, indent, dtype=name)

    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return header + _add_suffixes(prefix + body, suffixes, indent, force_newline=False)

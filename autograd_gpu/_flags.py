"""Global switches PyTorch programs set: the float32 matmul precision and deterministic algorithms.

Both are recorded only. Matrix products run in full float32 here (numpy's BLAS on the CPU, CuPy's cuBLAS
calls on the GPU, whose TF32 mode is fixed when CuPy loads, by the CUPY_TF32 environment variable); and the
ops have no nondeterministic variants to turn off, so `use_deterministic_algorithms` changes nothing.
"""
import warnings

_matmul_precision = "highest"
_deterministic = False
_deterministic_warn_only = False


def set_float32_matmul_precision(precision):
    """Record `precision` ('highest', 'high' or 'medium'); matmuls here stay full float32 whatever it is."""
    global _matmul_precision
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _matmul_precision = precision


def get_float32_matmul_precision():
    return _matmul_precision


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the mode; every op here is already deterministic for a given device, so nothing changes."""
    global _deterministic, _deterministic_warn_only
    for name, value in (("'mode' (position 1)", mode), ("'warn_only'", warn_only)):
        if not isinstance(value, bool):
            raise TypeError(f"_set_deterministic_algorithms(): argument {name} must be bool, "
                            f"not {type(value).__name__}")
    _deterministic, _deterministic_warn_only = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _deterministic


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic_warn_only

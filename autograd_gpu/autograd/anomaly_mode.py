"""Anomaly detection: remember where each node was created and stop a backward that produces NaN.

While it is on, `ops.core.record` stores the Python stack of the forward call in `node._trace`, and the
engine runs each node through `run_node`, which checks its outputs for NaN and, when a node fails, warns
with the traceback of the forward call that created it (as PyTorch does).

>>> with autograd.detect_anomaly():
...     y.backward()   # RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
"""
import functools
import traceback
import warnings

# Module-level flags read on the hot path (a plain attribute check when anomaly mode is off).
_enabled = False
_check_nan = True


def is_anomaly_enabled():
    return _enabled


def is_anomaly_check_nan_enabled():
    return _check_nan


def _set(mode, check_nan):
    global _enabled, _check_nan
    _enabled, _check_nan = bool(mode), bool(check_nan)


def current_trace():
    """The stack of the forward call, minus the library's own frames at its end."""
    stack = traceback.format_stack()[:-1]
    while len(stack) > 1 and "/autograd_gpu/" in stack[-1].split("\n", 1)[0]:
        stack.pop()
    return stack


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on.

    >>> with detect_anomaly():
    ...     loss.backward()
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                      "be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self._prev = (_enabled, _check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc):
        _set(*self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """set_detect_anomaly(True) switches anomaly detection on at once; as a context manager it restores it."""

    def __init__(self, mode, check_nan=True):
        self._prev = (_enabled, _check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


def _warn_trace(node):
    trace = getattr(node, "_trace", None)
    if trace is None:
        msg = (f"Error detected in {node.name()}. No forward pass information available. Enable detect anomaly "
               "during forward pass for more information.")
    else:
        msg = f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n" + "".join(trace)
    warnings.warn(msg, UserWarning, stacklevel=1)


def run_node(node, grads):
    """node.apply(grads) under anomaly mode: warn with the forward traceback if it fails or returns NaN."""
    try:
        outs = node.apply(grads)
        if _check_nan:
            for i, g in enumerate(outs):
                # NOTE: a host sync per node; anomaly mode is a debugging tool, as in PyTorch.
                if g is not None and g._data.dtype.kind == "f" and bool(g._xp.isnan(g._data).any()):
                    raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    except Exception:
        _warn_trace(node)
        raise
    return outs

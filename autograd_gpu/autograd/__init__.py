"""autograd: the graph nodes, grad modes and anomaly mode; backward, grad, Function, gradcheck, functional.

The graph (engine, grad_mode, anomaly_mode) sits below the tensor; the API that runs it on tensors (backward,
grad, Function, gradcheck, functional) sits above the ops, and is loaded on first use.
"""
import importlib

from .engine import AccumulateGrad, Node, RemovableHandle, execute  # noqa: F401
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,  # noqa: F401
                           set_detect_anomaly)

# name -> the module of the autograd API that defines it
_API = {"backward": "_backward", "grad": "_backward", "Variable": "_backward",
        "Function": "function", "FunctionCtx": "function", "once_differentiable": "function",
        "GradcheckError": "_gradcheck", "gradcheck": "_gradcheck", "gradgradcheck": "_gradcheck",
        "function": None, "functional": None}


def __getattr__(name):
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # layering: the API works on tensors and ops, which are built on this package's graph: loaded on first use
    module = importlib.import_module(f".{_API[name] or name}", __name__)
    value = module if _API[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_API))

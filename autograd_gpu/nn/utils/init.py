"""skip_init: build a module without running its initialisation."""
import inspect

from ..modules.module import Module


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) on kwargs' device (default 'cpu'), for modules that take a `device` argument.

    PyTorch builds the module on the meta device and then allocates it uninitialised (`to_empty`). There is no
    meta device here: the module is built directly on its device, so its values are those of its own
    initialisation (one valid choice of "uninitialised" values), at that initialisation's cost.

    >>> nn.utils.skip_init(nn.Linear, 5, 1).weight.shape
    torch.Size([1, 5])
    """
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs)

"""torch.nn: Module, Parameter, layers, losses, functional, init and utils.

>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
>>> net(torch.randn(2, 4)).shape
torch.Size([2, 1])
"""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter  # noqa: F401
from . import parallel  # noqa: F401



_FACTORY_KEYS = ("device", "dtype", "memory_format")


def factory_kwargs(kwargs):
    """The factory arguments (device, dtype, memory_format) among a module's **kwargs, as one dict to pass to
    torch.empty & co; an entry `factory_kwargs` adds its own (each key given once), and any other key is refused.

    >>> nn.factory_kwargs({"device": "cpu", "factory_kwargs": {"dtype": torch.float64}})
    {'dtype': torch.float64, 'device': 'cpu'}
    """
    if kwargs is None:
        return {}
    unexpected = kwargs.keys() - {*_FACTORY_KEYS, "factory_kwargs"}
    if unexpected:
        raise TypeError(f"unexpected kwargs {unexpected}")
    out = dict(kwargs.get("factory_kwargs", {}))
    for key in _FACTORY_KEYS:
        if key in kwargs:
            if key in out:
                raise TypeError(f"{key} specified twice, in **kwargs and in factory_kwargs")
            out[key] = kwargs[key]
    return out

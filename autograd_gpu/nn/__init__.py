"""torch.nn: Module, Parameter, layers, losses, functional, init and utils.

>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
>>> net(torch.randn(2, 4)).shape
torch.Size([2, 1])
"""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
from . import parallel  # noqa: F401

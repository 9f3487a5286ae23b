"""Optimizers (torch.optim): on the GPU a step is fused kernels, one launch per parameter group (foreach).

>>> opt = autograd_gpu.optim.Adam(model.parameters(), lr=1e-3)
>>> sched = autograd_gpu.optim.lr_scheduler.StepLR(opt, step_size=10)
"""
from . import lr_scheduler
from . import swa_utils
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["lr_scheduler"] + [n for n, v in list(globals().items()) if isinstance(v, type) and issubclass(v, Optimizer)]

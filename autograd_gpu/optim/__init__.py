"""Optimizers (torch.optim): on the GPU a step is fused kernels, one launch per parameter group (foreach).

>>> opt = autograd_gpu.optim.Adam(model.parameters(), lr=1e-3)
>>> sched = autograd_gpu.optim.lr_scheduler.StepLR(opt, step_size=10)
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["lr_scheduler"] + [n for n, v in list(globals().items()) if isinstance(v, type) and issubclass(v, Optimizer)]

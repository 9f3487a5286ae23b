"""Utilities, as in torch.utils: `data` (datasets, samplers, DataLoader)."""
from . import checkpoint, data  # noqa: F401

"""Padding layers: constant (and zero), reflection, replication and circular, over 1, 2 or 3 trailing dims.
Each holds its pad widths in F.pad's order (last dim first, before and after each)."""
from .. import functional as F
from .module import Module


def _widths(padding, n):
    """An int pads every side; a sequence is taken as it is (PyTorch's _pair / _quadruple / _ntuple(6))."""
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * n


class _PadNd(Module):
    _mode = "constant"
    _sides = 2

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self._sides)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`: ``nn.ConstantPad1d((1, 2), 3.5)``."""


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with `value`; padding = (left, right, top, bottom) or one int."""
    _sides = 4


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with `value`; padding = (left, right, top, bottom, front, back) or one int."""
    _sides = 6


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros.

    >>> nn.ZeroPad2d((1, 1, 2, 0))(torch.ones(1, 1, 2, 2)).shape
    torch.Size([1, 1, 4, 4])
    """

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its reflection at each edge (the edge itself not repeated)."""
    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    _sides = 4


class ReflectionPad3d(ReflectionPad1d):
    _sides = 6


class ReplicationPad1d(_PadNd):
    """Pad the last dim with copies of its edge values."""
    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    _sides = 4


class ReplicationPad3d(ReplicationPad1d):
    _sides = 6


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        dims = self._sides // 2
        if input.ndim not in (dims + 1, dims + 2):
            raise ValueError(f"expected {dims + 1}D or {dims + 2}D input (got {input.ndim}D input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Pad the last dim by wrapping around: the values at the far end pad the near one."""


class CircularPad2d(_CircularPadNd):
    _sides = 4


class CircularPad3d(_CircularPadNd):
    _sides = 6

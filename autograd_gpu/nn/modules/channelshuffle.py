"""ChannelShuffle: interleave the channels of `groups` groups (ShuffleNet)."""
from .. import functional as F
from .module import Module


class ChannelShuffle(Module):
    """(N, g * k, *) -> channel order 0, k, 2k, ..., 1, k + 1, ...

    >>> nn.ChannelShuffle(2)(torch.arange(4.).view(1, 4, 1, 1)).flatten()
    tensor([0., 2., 1., 3.])
    """

    __constants__ = ["groups"]

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"

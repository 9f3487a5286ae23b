"""torch.nn.utils.rnn: batches of sequences of different lengths, padded or packed.

A PackedSequence holds the time steps one after another, each with only the sequences still running: `data` is
(sum of lengths, *), `batch_sizes` (a CPU int64 tensor, as in PyTorch) the number of sequences at each step,
longest first. Lengths and batch sizes are host data, so packing and unpacking index on the host's plan: one
gather on the device each way, nothing read back from it.

>>> packed = pack_sequence([torch.ones(3, 2), torch.ones(1, 2)])
>>> packed.batch_sizes
tensor([2, 1, 1])
"""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from .. import _dtype, creation
from ..ops.core import apply
from ..ops.rnn_ops import PACK_PADDED_SEQUENCE
from ..ops.shape import cat, stack
from ..tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """The packed batch of pack_padded_sequence / pack_sequence; the recurrent layers take and return one."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be created manually. "
                "They should be instantiated by functions like pack_sequence and pack_padded_sequences in "
                "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return type(self)(self.data, self.batch_sizes, self.sorted_indices, self.unsorted_indices) \
            if self.is_cuda else self.to("cuda" if not args else args[0])

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The permutation that undoes `permutation` (None for None)."""
    if permutation is None:
        return None
    out = creation.empty_like(permutation)
    return out.scatter_(0, permutation, creation.arange(permutation.numel(), device=permutation.device))


def _host_lengths(lengths):
    if isinstance(lengths, Tensor):
        if lengths.device.type != "cpu":
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                               f"{lengths.device} Long tensor")
        return np.asarray(lengths._data, dtype=np.int64)
    return np.asarray(lengths, dtype=np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (batch_first: (B, T, *)) of sequences of the given lengths."""
    lens = _host_lengths(lengths)
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability.")
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = creation.tensor(order, device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    steps, batch = input.shape[batch_dim ^ 1], input.shape[batch_dim]
    if lens.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
                           f"(batch_size={batch})")
    if lens.size and lens[0] > steps:
        raise RuntimeError(f"Expected all lengths to be at most {steps}, but got {int(lens[0])}")
    batch_sizes = (lens[None, :] > np.arange(lens[0] if lens.size else 0)[:, None]).sum(1)
    # row (t, b) of the time-major (T*B, *) view, for every step t and running sequence b
    t, b = np.nonzero(np.arange(batch)[None, :] < batch_sizes[:, None])
    rows = t * batch + b if not batch_first else b * steps + t
    data = apply(PACK_PADDED_SEQUENCE, input, rows=creation.tensor(rows, device=input.device))
    return PackedSequence(data, creation.tensor(batch_sizes.astype(np.int64)), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded batch, lengths): the inverse of pack_padded_sequence; `total_length` pads to that many steps."""
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    data = sequence.data
    batch = int(batch_sizes[0])
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    # each padded position's row of data, or the one padding row appended after them
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    t, b = np.meshgrid(np.arange(steps), np.arange(batch), indexing="ij")
    running = t < lengths[b]
    rows = np.where(running, offsets[np.minimum(t, batch_sizes.size - 1)] + b, data.shape[0])
    if batch_first:
        rows = rows.T
    pad = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, pad]).index_select(0, creation.tensor(rows.reshape(-1), device=data.device))
    padded = padded.view(*rows.shape, *data.shape[1:])
    lengths = creation.tensor(lengths.astype(np.int64))
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        return padded.index_select(0 if batch_first else 1, unsorted), lengths[unsorted.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (max L, B, *) (batch_first: (B, max L, *)), padded."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            filler = creation.full((missing, *s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, filler] if padding_side == "right" else [filler, s])
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences a padded batch holds (the inverse of pad_sequence)."""
    batch_dim = 0 if batch_first else 1
    return [padded_sequences.select(batch_dim, i)[:int(n)] for i, n in enumerate(_host_lengths(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences of shapes (L_i, *) (longest first, unless enforce_sorted=False)."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

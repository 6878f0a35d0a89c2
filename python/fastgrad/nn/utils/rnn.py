"""fg.nn.utils.rnn: PyTorch's padding and packing of variable-length sequences for the recurrent
layers. A PackedSequence holds the time steps one after another, each with only the sequences still
running (batch_sizes[t] of them, the longest first), as PyTorch lays it out; nn.RNN, LSTM and GRU
take it and return one."""
import numbers
from typing import NamedTuple

from ...creation import full
from ...ops.shape import cat, stack
from ...tensor import Tensor, tensor


class PackedSequence(NamedTuple):
    data: Tensor                  # (sum of the lengths, *): step 0 of every sequence, then step 1, ...
    batch_sizes: Tensor           # int64 (longest length,): how many sequences run at each step
    sorted_indices: Tensor = None     # the batch order by decreasing length (None: given sorted)
    unsorted_indices: Tensor = None   # its inverse

    def to(self, *args, **kwargs):
        return self._replace(data=self.data.to(*args, **kwargs))


def _lengths_list(lengths):
    values = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    for v in values:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"pack_padded_sequence: lengths must be integers, got {v!r}")
        if v <= 0:
            raise RuntimeError("pack_padded_sequence: Length of all samples has to be greater than 0, but found an "
                               f"element in 'lengths' that is <= 0 ({v})")
    return [int(v) for v in values]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of these lengths."""
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise TypeError("pack_padded_sequence: input must be a fastgrad Tensor of at least 2 dimensions")
    lengths = _lengths_list(lengths)
    x = input.transpose(0, 1) if batch_first else input
    if len(lengths) != x.shape[1]:
        raise ValueError(f"pack_padded_sequence: expected {x.shape[1]} lengths (the batch size), got {len(lengths)}")
    if max(lengths) > x.shape[0]:
        raise ValueError(f"pack_padded_sequence: a length of {max(lengths)} is longer than the {x.shape[0]} steps "
                         f"of the input")
    sorted_indices = unsorted_indices = None
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        if enforce_sorted:
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not "
                               "need ONNX exportability.")
        order = sorted(range(len(lengths)), key=lambda b: -lengths[b])   # stable, as torch.sort's
        sorted_indices = tensor(order)
        unsorted_indices = tensor(sorted(range(len(order)), key=order.__getitem__))
        x = x.index_select(1, sorted_indices)
        lengths = [lengths[b] for b in order]
    elif not enforce_sorted:
        sorted_indices = unsorted_indices = tensor(list(range(len(lengths))))
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    data = cat([x[t, :bs] for t, bs in enumerate(batch_sizes)])
    return PackedSequence(data, tensor(batch_sizes), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded (T, B, *) or (B, T, *), lengths): the inverse of pack_padded_sequence, in the batch's
    original order."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expects a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = sequence.batch_sizes.tolist()
    steps, batch = len(batch_sizes), batch_sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the length of the longest "
                             f"sequence ({steps}), but got total_length={total_length}")
        steps = total_length
    rows, tail, dtype = sequence.data.split(batch_sizes), sequence.data.shape[1:], sequence.data.dtype

    def padded_step(t):
        if t >= len(rows):   # past the longest sequence (total_length)
            return full((batch,) + tail, padding_value, dtype=dtype)
        if batch_sizes[t] == batch:
            return rows[t]
        return cat([rows[t], full((batch - batch_sizes[t],) + tail, padding_value, dtype=dtype)])
    padded = stack([padded_step(t) for t in range(steps)])
    lengths = [sum(1 for bs in batch_sizes if bs > b) for b in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = [lengths[i] for i in sequence.unsorted_indices.tolist()]
    return (padded.transpose(0, 1) if batch_first else padded), tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks tensors of shapes (L_i, *) into (max L, B, *) ((B, max L, *) with batch_first), padding
    each at its end (padding_side="right") or start ("left") with padding_value."""
    sequences = list(sequences)
    if not sequences or not all(isinstance(s, Tensor) and s.ndim >= 1 for s in sequences):
        raise TypeError("pad_sequence: expects a non-empty list of tensors of at least one dimension")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    tail = sequences[0].shape[1:]
    if any(s.shape[1:] != tail for s in sequences):
        raise ValueError(f"pad_sequence: the sequences' trailing dimensions differ: {[s.shape for s in sequences]}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        if s.shape[0] == longest:
            padded.append(s)
            continue
        pad = full((longest - s.shape[0],) + tail, padding_value, dtype=s.dtype)
        padded.append(cat([s, pad] if padding_side == "right" else [pad, s]))
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """pack_padded_sequence of pad_sequence(sequences), with their lengths."""
    sequences = list(sequences)
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences pad_sequence stacked, each cut to its length."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, :n] for b, n in enumerate(_lengths_list(lengths))]

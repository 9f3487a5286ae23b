"""Recurrent layers: RNN (tanh, relu), LSTM (with projections), GRU, and their one-step cells.

A layer multiplies its whole input by W_ih once (one matrix product for all time steps), then runs one step per
time step: h @ W_hh^T and the cell. LSTM and GRU cells are the fused op of ops/rnn_ops.py (one kernel launch
forward and one backward on the GPU); an RNN step is `act(x W_ih^T + b_ih + h W_hh^T + b_hh)` of table ops.
Padded and packed batches run the same loop: a padded (T, B, *) batch is T steps of B sequences; a packed one
has fewer sequences at later steps, so the state shrinks (or, backwards in time, grows) with the batch sizes,
which are host data.

>>> lstm = nn.LSTM(10, 20, num_layers=2)
>>> output, (h_n, c_n) = lstm(torch.randn(5, 3, 10))
>>> output.shape, h_n.shape
(torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
"""
import math
import numbers
import warnings

from ... import creation
from ...ops.arithmetic import addmm
from ...ops.core import apply
from ...ops.rnn_ops import GRU_CELL, LSTM_CELL
from ...ops.shape import cat, stack
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .._rnn_utils import PackedSequence
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    """PyTorch's checks of the constructor's arguments, in its order."""
    if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                         "being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                      f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                      stacklevel=4)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


def _scan(step, igates, batch_sizes, state, reverse):
    """Run `step(igates_t, *state) -> state` over the time steps (from the last when `reverse`): the per-step
    outputs (state[0]) in time order and the final state. A sequence that ends leaves the state with the batch
    (batch_sizes never grow): its final state is the one it had at its last step."""
    chunks = igates.split(batch_sizes) if len(batch_sizes) > 1 else (igates,)
    outs = [None] * len(batch_sizes)
    if not reverse:
        current, ended = batch_sizes[0], []
        for t, n in enumerate(batch_sizes):
            if n < current:
                ended.append(tuple(s[n:] for s in state))
                state, current = tuple(s[:n] for s in state), n
            state = step(chunks[t], *state)
            outs[t] = state[0]
        if ended:
            ended.append(state)
            state = tuple(cat([e[k] for e in reversed(ended)]) for k in range(len(state)))
        return outs, state
    initial, current = state, batch_sizes[-1]
    if current < initial[0].shape[0]:
        state = tuple(s[:current] for s in initial)
    for t in reversed(range(len(batch_sizes))):
        n = batch_sizes[t]
        if n > current:  # (sequences that end at step t start here, from their initial state)
            state, current = tuple(cat([s, s0[current:n]]) for s, s0 in zip(state, initial)), n
        state = step(chunks[t], *state)
        outs[t] = state[0]
    return outs, state


class RNNBase(Module):
    """The layers' common part: PyTorch's parameters (weight_ih_l{k}{_reverse}, weight_hh_..., bias_ih_...,
    bias_hh_..., weight_hr_... for LSTM projections), their initialisation U(-1/sqrt(hidden_size), ...), the
    argument checks and the loop over layers and directions."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        _check_sizes(input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{'_reverse' if direction == 1 else ''}"
                    setattr(self, name, Parameter(creation.empty(*shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names += names
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """A no-op, as PyTorch's off cuDNN: the weights are used as they are."""

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- forward ----------------------------------------------------------------------------------
    def _dim_error(self, dim):
        name = type(self).__name__ if self.mode in ("LSTM", "GRU") else "RNN"
        tensor = " tensor" if name == "RNN" else ""
        return ValueError(f"{name}: Expected input to be 2D or 3D, got {dim}D{tensor} instead")

    def _state_sizes(self, batch):
        """The expected shape of each initial state: (h_0,) or, for LSTM, (h_0, c_0)."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        h = (layers, batch, self.proj_size if self.proj_size > 0 else self.hidden_size)
        return (h, (layers, batch, self.hidden_size)) if self.mode == "LSTM" else (h,)

    def forward(self, input, hx=None):
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        states = None if hx is None else tuple(hx) if lstm else (hx,)
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(n) for n in batch_sizes_t._data]  # (a CPU tensor: host data, no device sync)
            batch, is_batched = batch_sizes[0], True
        else:
            if input.dim() not in (2, 3):
                raise self._dim_error(input.dim())
            is_batched = input.dim() == 3
            if states is not None:
                want = 3 if is_batched else 2
                if any(s.dim() != want for s in states):
                    got = (f"({states[0].dim()}-D, {states[1].dim()}-D) tensors" if lstm
                           else f"{states[0].dim()}-D tensor")
                    which = "hx and cx" if lstm else "hx"
                    raise RuntimeError(f"For {'batched 3-D' if is_batched else 'unbatched 2-D'} input, {which} "
                                       f"should also be {want}-D but got {got}")
                if not is_batched:
                    states = tuple(s.unsqueeze(1) for s in states)
            if not is_batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            x = input.transpose(0, 1) if self.batch_first else input
            steps, batch = x.shape[0], x.shape[1]
            batch_sizes = [batch] * steps
            data = x.reshape(steps * batch, x.shape[2])
        weight = self._flat_weights[0]
        if data.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({data.dtype}) does not match weight dtype ({weight.dtype}). Convert "
                             f"input: input.to({weight.dtype}), or convert model: model.to({data.dtype})")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{data.shape[-1]}")
        sizes = self._state_sizes(batch)
        if states is None:
            states = tuple(creation.zeros(*s, dtype=data.dtype, device=data.device) for s in sizes)
        for k, (s, size) in enumerate(zip(states, sizes)):
            if tuple(s.shape) != size:
                what = f"hidden[{k}] size" if lstm else "hidden size"
                raise RuntimeError(f"Expected {what} {size}, got {list(s.shape)}")
        if packed and hx is not None and sorted_indices is not None:  # (the given states follow the caller's order)
            states = tuple(s.index_select(1, sorted_indices) for s in states)
        out, finals = self._layers(data, batch_sizes, states)
        if packed:
            output = PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                finals = tuple(f.index_select(1, unsorted_indices) for f in finals)
        else:
            output = out.view(steps, batch, out.shape[-1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(0 if self.batch_first else 1)
                finals = tuple(f.squeeze(1) for f in finals)
        return output, (finals if lstm else finals[0])

    def _layers(self, data, batch_sizes, states):
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        x = data
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                step, igates = self._cell(x, *self.all_weights[k])
                per_step, final = _scan(step, igates, batch_sizes, tuple(s[k] for s in states), direction == 1)
                outs.append(cat(per_step) if len(per_step) > 1 else per_step[0])
                for f, s in zip(finals, final):
                    f.append(s)
            x = cat(outs, 1) if directions == 2 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, tuple(stack(f) for f in finals)

    def _cell(self, x, w_ih, w_hh, *rest):
        """(step, igates): one time step `step(igates_t, *state) -> state` and the input part of all the gates."""
        b_ih, b_hh = rest[:2] if self.bias else (None, None)
        w_hh_t = w_hh.t()  # (one transpose for all the steps)
        if self.mode in ("RNN_TANH", "RNN_RELU"):
            act = F.tanh if self.mode == "RNN_TANH" else F.relu

            def step(ig, h):
                return (act(ig + (h.mm(w_hh_t) if b_hh is None else addmm(b_hh, h, w_hh_t))),)
            return step, F.linear(x, w_ih, b_ih)
        if b_ih is None:
            b_ih = b_hh = creation.zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
        if self.mode == "LSTM":
            w_hr_t = rest[-1].t() if self.proj_size > 0 else None

            def step(ig, h, c):
                hy, cy = apply(LSTM_CELL, ig, h.mm(w_hh_t), c, b_ih, b_hh)
                return (hy if w_hr_t is None else hy.mm(w_hr_t)), cy
        else:
            def step(ig, h):
                return (apply(GRU_CELL, ig, h.mm(w_hh_t), h, b_ih, b_hh),)
        return step, x.mm(w_ih.t())


class RNN(RNNBase):
    """An Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (nonlinearity='relu': relu).

    >>> nn.RNN(4, 8, batch_first=True)(torch.randn(2, 5, 4))[0].shape
    torch.Size([2, 5, 8])
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """A long short-term memory layer; `proj_size` > 0 projects each h_t to that size with weight_hr.

    >>> out, (h, c) = nn.LSTM(4, 8, proj_size=3)(torch.randn(5, 2, 4))
    >>> out.shape, c.shape
    (torch.Size([5, 2, 3]), torch.Size([1, 2, 8]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """A gated recurrent unit layer.

    >>> nn.GRU(4, 8, num_layers=2)(torch.randn(5, 2, 4))[1].shape
    torch.Size([2, 2, 8])
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---- cells ------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size, device=device,
                                                  dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check(self, input, states):
        """PyTorch's checks of a cell's (batched) input and states."""
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for k, s in enumerate(states):
            if s.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size "
                                   f"{s.shape[0]}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {s.shape[1]}, expected "
                                   f"{self.hidden_size}")

    def _prepare(self, input, states):
        """(is_batched, input, states): PyTorch's dimension checks, the unbatched forms given a batch of one, and
        zero states when none are given."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for k, s in enumerate(states or ()):
            if s.dim() not in (1, 2):
                what = f"hx[{k}]" if name == "LSTMCell" else "hidden"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {s.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if states is None:
            zeros = creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            return is_batched, input, (zeros, zeros) if name == "LSTMCell" else (zeros,)
        return is_batched, input, states if is_batched else tuple(s.unsqueeze(0) for s in states)

    def _biases(self):
        if self.bias:
            return self.bias_ih, self.bias_hh
        zeros = creation.zeros(self.weight_ih.shape[0], dtype=self.weight_ih.dtype, device=self.weight_ih.device)
        return zeros, zeros


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    >>> nn.RNNCell(4, 8)(torch.randn(3, 4)).shape
    torch.Size([3, 8])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        is_batched, input, (h,) = self._prepare(input, None if hx is None else (hx,))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check(input, (h,))
        act = F.tanh if self.nonlinearity == "tanh" else F.relu
        ret = act(F.linear(input, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh))
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from x and (h, c), through the fused cell.

    >>> h, c = nn.LSTMCell(4, 8)(torch.randn(3, 4))
    >>> c.shape
    torch.Size([3, 8])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        is_batched, input, (h, c) = self._prepare(input, None if hx is None else tuple(hx))
        self._check(input, (h, c))
        hy, cy = apply(LSTM_CELL, input.mm(self.weight_ih.t()), h.mm(self.weight_hh.t()), c, *self._biases())
        return (hy, cy) if is_batched else (hy.squeeze(0), cy.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step, through the fused cell.

    >>> nn.GRUCell(4, 8)(torch.randn(3, 4)).shape
    torch.Size([3, 8])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        is_batched, input, (h,) = self._prepare(input, None if hx is None else (hx,))
        self._check(input, (h,))
        ret = apply(GRU_CELL, input.mm(self.weight_ih.t()), h.mm(self.weight_hh.t()), h, *self._biases())
        return ret if is_batched else ret.squeeze(0)

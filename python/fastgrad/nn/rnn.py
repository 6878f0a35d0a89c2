"""Recurrent layers: nn.RNN, nn.LSTM, nn.GRU and their cells, as PyTorch defines them: the same
parameters (names, shapes, order, uniform ±1/sqrt(hidden_size) initialisation), gate orders
(LSTM i, f, g, o; GRU r, z, n), input layouts (time first, batch_first, unbatched) and results, so a
state_dict moves between the two libraries.

They are written with the library's ops, so autograd, fg.compile and the thread guarantees hold
as for any op: per layer and direction, the input's products with W_ih for all time steps are one
matrix product; each step then takes h·W_hhᵀ and applies the gates, one kernel for an LSTM's cell
state, one for its hidden state, one for a GRU's (ops.RNNGates; one `_cell` function, shared by the
layers and the cells)."""
import math
import numbers

from .._C import lib
from ..creation import empty
from ..ops.rnn import RNNGates
from ..tensor import Tensor, zeros
from ..ops.shape import cat, stack
from . import functional as F
from . import init
from .modules import Module
from .utils.rnn import PackedSequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _cell(mode, x_part, h, c, w_hh, b_hh, w_hr=None):
    """One time step: x_part = x·W_ihᵀ + b_ih (already computed), h and c the state (c for the
    LSTM only). Returns the new (h, c)."""
    h_part = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":
        c = RNNGates(lib.FG_LSTM_CELL).forward(x_part, h_part, c)
        h = RNNGates(lib.FG_LSTM_HIDDEN).forward(x_part, h_part, c)
        return (h if w_hr is None else F.linear(h, w_hr)), c
    if mode == "GRU":
        return RNNGates(lib.FG_GRU_HIDDEN).forward(x_part, h_part, h), None
    pre = x_part + h_part
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


def _size_arg(value, what, owner, positive=True):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < (1 if positive else 0):
        raise ValueError(f"{owner}: {what} must be a {'positive' if positive else 'non-negative'} int, got {value!r}")
    return int(value)


def _mode(cls_name, nonlinearity):
    if cls_name.startswith("LSTM"):
        return "LSTM"
    if cls_name.startswith("GRU"):
        return "GRU"
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{cls_name}: unknown nonlinearity {nonlinearity!r} (expects 'tanh' or 'relu')")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


def _rows(h0, c0, lo, hi, batch):
    """Rows [lo, hi) of the initial states (all of them when that is the whole batch)."""
    if lo == 0 and hi == batch:
        return h0, c0
    return h0[lo:hi], (c0[lo:hi] if c0 is not None else None)


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrent layer behind RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        name = type(self).__name__
        self.mode = mode
        self.input_size = _size_arg(input_size, "input_size", name, positive=False)
        self.hidden_size = _size_arg(hidden_size, "hidden_size", name)
        self.num_layers = _size_arg(num_layers, "num_layers", name)
        self.proj_size = _size_arg(proj_size, "proj_size", name, positive=False)
        if self.proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got {proj_size} >= {hidden_size}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of an "
                             f"element being zeroed, got {dropout!r}")
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout = float(dropout)
        gates = _GATES[mode] * self.hidden_size
        out = self.proj_size or self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._flat_names = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else out * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, out))]
                if self.bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
                for param, shape in shapes:
                    full = f"{param}_l{layer}{suffix}"
                    setattr(self, full, empty(*shape, dtype=dtype, device=device).requires_grad_())
                    self._flat_names.append(full)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name in self._flat_names:
            init.uniform_(getattr(self, name), -bound, bound)

    def flatten_parameters(self):
        """PyTorch packs the weights for cuDNN here; on the CPU there is nothing to do."""

    @property
    def all_weights(self):
        per = len(self._flat_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self, layer, direction):
        suffix = "_reverse" if direction else ""
        get = lambda p: getattr(self, f"{p}_l{layer}{suffix}", None)   # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def forward(self, input, hx=None):
        """input (T, B, input_size) ((B, T, ...) with batch_first), (T, input_size) or a
        PackedSequence; returns (output, h_n) or, for the LSTM, (output, (h_n, c_n)). Every layout
        runs as a packed one: the time steps one after another, each with the sequences still running."""
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        x = input.data if packed else input
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a fastgrad Tensor or a PackedSequence, got {type(input).__name__}")
        if x.ndim not in ((2,) if packed else (2, 3)):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.ndim}D tensor of shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                             f"{x.shape[-1]}")
        batched = packed or x.ndim == 3
        if packed:
            batch_sizes = input.batch_sizes.tolist()
        else:
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            steps, batch = (x._shape[0], x._shape[1]) if batched else (x._shape[0], 1)
            if steps == 0:
                raise ValueError(f"{name}: Expected sequence length to be larger than 0 in RNN, got input of shape "
                                 f"{input.shape}")
            batch_sizes = [batch] * steps
            x = x.reshape(steps * batch, self.input_size)
        directions = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        h0, c0 = self._initial_state(hx, batched, batch_sizes[0], directions, out_size, x,
                                     input.sorted_indices if packed else None)
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, h, c = self._run(x, batch_sizes, h0[k], c0[k] if c0 is not None else None,
                                      self._weights(layer, direction), reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = stack(h_n)
        c_n = stack(c_n) if self.mode == "LSTM" else None
        if packed:
            if input.unsorted_indices is not None:   # the states in the caller's batch order
                h_n = h_n.index_select(1, input.unsorted_indices)
                c_n = c_n.index_select(1, input.unsorted_indices) if c_n is not None else None
            out = input._replace(data=x)
        else:
            out = x.reshape(len(batch_sizes), batch_sizes[0], x.shape[-1])
            if not batched:
                out, h_n = out.squeeze(1), h_n.squeeze(1)
                c_n = c_n.squeeze(1) if c_n is not None else None
            elif self.batch_first:
                out = out.transpose(0, 1)
        return out, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _run(self, x, batch_sizes, h0, c0, weights, reverse):
        """One layer in one direction over packed x (the steps one after another, batch_sizes[t] rows
        each, non-increasing): (its outputs, packed the same way, and the final h and c of every
        sequence). A sequence that has ended keeps its last state; in reverse, one joins with h0's."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        x_parts = F.linear(x, w_ih, b_ih)   # every step's x·W_ihᵀ + b_ih in one product
        x_parts = x_parts.split(batch_sizes) if len(batch_sizes) > 1 else (x_parts,)
        steps, batch = len(batch_sizes), batch_sizes[0]
        outputs, ended = [None] * steps, []   # ended: (h, c) of the rows that stopped, latest last
        h = c = None
        for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
            rows = batch_sizes[t]
            if h is None:   # the first step in this direction
                h, c = _rows(h0, c0, 0, rows, batch)
            elif rows < h._shape[0]:   # forward: sequences end; their states are final
                ended.append((h[rows:], c[rows:] if c is not None else None))
                h, c = h[:rows], (c[:rows] if c is not None else None)
            elif rows > h._shape[0]:   # reverse: sequences start, from their initial states
                more_h, more_c = _rows(h0, c0, h.shape[0], rows, batch)
                h, c = cat([h, more_h]), (cat([c, more_c]) if c is not None else None)
            h, c = _cell(self.mode, x_parts[t], h, c, w_hh, b_hh, w_hr)
            outputs[t] = h
        out = cat(outputs) if steps > 1 else outputs[0]
        if ended:
            h = cat([h] + [e[0] for e in reversed(ended)])
            c = cat([c] + [e[1] for e in reversed(ended)]) if c is not None else None
        return out, h, c

    def _initial_state(self, hx, batched, batch, directions, out_size, input, sorted_indices=None):
        """(h0, c0) as tuples of one (batch, size) tensor per layer and direction (c0 None but for the
        LSTM), from hx or zeros, after checking hx's shapes as PyTorch does; for a packed input whose
        batch was sorted by length, in that order."""
        name = type(self).__name__
        layers = self.num_layers * directions
        if self.mode == "LSTM":
            if hx is None:
                hx = (None, None)
            elif not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0) of tensors, got {type(hx).__name__}")
            wanted = ((hx[0], out_size, "hidden"), (hx[1], self.hidden_size, "cell"))
        else:
            wanted = ((hx, out_size, "hidden"),)
        states = []
        for state, size, what in wanted:
            shape = (layers, batch, size) if batched else (layers, size)
            if state is None:
                states.append((zeros(batch, size, dtype=input.dtype),) * layers)
                continue
            if not isinstance(state, Tensor):
                raise TypeError(f"{name}: the initial {what} state must be a fastgrad Tensor, got "
                                f"{type(state).__name__}")
            if state.shape != shape:
                raise ValueError(f"{name}: Expected {what} size {shape}, got {state.shape}")
            if state.dtype != input.dtype:
                raise TypeError(f"{name}: the initial {what} state's dtype {state.dtype} differs from the input's "
                                f"{input.dtype}")
            if sorted_indices is not None:
                state = state.index_select(1, sorted_indices)
            states.append(state.unbind(0) if batched else tuple(s.unsqueeze(0) for s in state.unbind(0)))
        return states[0], (states[1] if len(states) == 2 else None)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        for flag, default in (("bias", True), ("batch_first", False), ("bidirectional", False)):
            if getattr(self, flag) != default:
                s += f", {flag}={getattr(self, flag)}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s


class RNN(RNNBase):
    """h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh) (or relu), per layer and direction."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__(_mode("RNN", nonlinearity), input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """The long short-term memory layer; forward returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """The gated recurrent unit layer; forward returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class RNNCellBase(Module):
    """One step of RNN, LSTM or GRU on (batch, input_size) or (input_size,) inputs."""

    def __init__(self, input_size, hidden_size, bias, mode, device=None, dtype=None):
        name = type(self).__name__
        self.mode = mode
        self.input_size = _size_arg(input_size, "input_size", name, positive=False)
        self.hidden_size = _size_arg(hidden_size, "hidden_size", name)
        self.bias = bool(bias)
        gates = _GATES[mode] * self.hidden_size
        self.weight_ih = empty(gates, self.input_size, dtype=dtype, device=device).requires_grad_()
        self.weight_hh = empty(gates, self.hidden_size, dtype=dtype, device=device).requires_grad_()
        self.bias_ih = empty(gates, dtype=dtype, device=device).requires_grad_() if self.bias else None
        self.bias_hh = empty(gates, dtype=dtype, device=device).requires_grad_() if self.bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            if p is not None:
                init.uniform_(p, -bound, bound)

    def _step(self, input, h, c):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a fastgrad Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                             f"{self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        states = []
        for state, what in ((h, "hidden"), (c, "cell"))[:2 if self.mode == "LSTM" else 1]:
            if state is None:
                state = zeros(x.shape[0], self.hidden_size, dtype=x.dtype)
            else:
                if not isinstance(state, Tensor):
                    raise TypeError(f"{name}: the {what} state must be a fastgrad Tensor, got {type(state).__name__}")
                want = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
                if state.shape != want:
                    raise ValueError(f"{name}: Expected {what} size {want}, got {state.shape}")
                state = state if batched else state.unsqueeze(0)
            states.append(state)
        h, c = _cell(self.mode, F.linear(x, self.weight_ih, self.bias_ih), states[0],
                     states[1] if len(states) == 2 else None, self.weight_hh, self.bias_hh)
        if not batched:
            h, c = h.squeeze(0), (c.squeeze(0) if c is not None else None)
        return h, c

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, _mode("RNNCell", nonlinearity), device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, "LSTM", device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) of tensors, got {type(hx).__name__}")
        return self._step(input, *(hx if hx is not None else (None, None)))


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, "GRU", device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx, None)[0]


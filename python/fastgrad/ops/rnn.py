"""RNNGates: the gates of an LSTM or GRU step as one kernel each way (fg_rnn_gates, csrc/rnn.inc),
instead of the dozen pointwise ops they are written as (nn.RNN's tanh/relu step stays two ops)."""
from .._C import lib
from ..autograd import Op, grad_buffer
from ..tensor import Tensor, empty

_GATES = {lib.FG_LSTM_CELL: 4, lib.FG_LSTM_HIDDEN: 4, lib.FG_GRU_HIDDEN: 3}
_NAMES = {lib.FG_LSTM_CELL: "lstm cell state", lib.FG_LSTM_HIDDEN: "lstm hidden state",
          lib.FG_GRU_HIDDEN: "gru hidden state"}


class RNNGates(Op):
    """out (rows, hidden) from x = x_t·W_ihᵀ + b_ih and h = h_{t-1}·W_hhᵀ + b_hh (rows, gates·hidden,
    PyTorch's gate order) and a state (rows, hidden):
      RNNGates(lib.FG_LSTM_CELL)    c_t = σ(f)·c_{t-1} + σ(i)·tanh(g)      state = c_{t-1}
      RNNGates(lib.FG_LSTM_HIDDEN)  h_t = σ(o)·tanh(c_t)                   state = c_t
      RNNGates(lib.FG_GRU_HIDDEN)   h_t = n + σ(z)·(h_{t-1} - n), n = tanh(x_n + σ(r)·h_n)   state = h_{t-1}
    Backward recomputes the gates from x and h and adds into the three gradients."""

    def __init__(self, mode):
        if mode not in _GATES:
            raise ValueError(f"RNNGates: unknown mode {mode!r} (lib.FG_LSTM_CELL, FG_LSTM_HIDDEN or FG_GRU_HIDDEN)")
        self.mode = mode

    def forward(self, x, h, state):
        for name, t in (("x", x), ("h", h), ("state", state)):
            if type(t) is not Tensor or t._dtype is not x._dtype or not t._dtype.is_floating_point:
                raise TypeError(f"{_NAMES[self.mode]}: {name} must be a float tensor of one dtype with x")
        rows, hidden = state._shape if len(state._shape) == 2 else (None, None)
        if rows is None or x._shape != (rows, _GATES[self.mode] * hidden) or h._shape != x._shape:
            raise ValueError(f"{_NAMES[self.mode]}: expects state (rows, hidden) and x, h (rows, "
                             f"{_GATES[self.mode]}·hidden), got x {x._shape}, h {h._shape}, state {state._shape}")
        out = empty(state._shape, state._dtype, state._numel)
        x._dtype.k.rnn_gates(out._buf, x._buf, h._buf, state._buf, self.mode, rows, hidden)
        return self.record(out, x, h, state)

    def _backward(self, g):
        x, h, state = self.inputs
        rows, hidden = state._shape
        x._dtype.k.rnn_gates_backward(*(grad_buffer(t) if t.requires_grad else empty(t._shape, t._dtype)._buf
                                        for t in (x, h, state)),   # (scratch for what needs no gradient)
                                      g._buf, x._buf, h._buf, state._buf, self.mode, rows, hidden)

"""ReLU, Tanh, Sigmoid: one C kernel forward, one backward."""
from ..autograd import Op, grad_buffer
from ..tensor import empty
from ._checks import float_arg


class ReLU(Op):
    """max(x, 0); the gradient at exactly 0 is 0, as in PyTorch."""

    def forward(self, x):
        x = float_arg(x, "relu")
        out = empty(x.shape, x.dtype)
        x.dtype.k.relu(out._buf, x._buf, x._numel)
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        x.dtype.k.relu_backward(grad_buffer(x), g._buf, x._buf, x._numel)


class _FromOutput(Op):
    """A pointwise op whose backward needs only its output (saved as a detached view)."""
    reads = ()   # backward needs shapes (or saved buffers) only
    kernel = backward_kernel = None

    def forward(self, x):
        x = float_arg(x, self.kernel)
        out = empty(x.shape, x.dtype)
        getattr(x.dtype.k, self.kernel)(out._buf, x._buf, x._numel)
        self.out_buf = self.save_output(out)   # backward reads the output; the op keeps its buffer
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        getattr(x.dtype.k, self.backward_kernel)(grad_buffer(x), g._buf, self.out_buf, x._numel)


class Tanh(_FromOutput):
    kernel, backward_kernel = "tanh", "tanh_backward"


class Sigmoid(_FromOutput):
    kernel, backward_kernel = "sigmoid", "sigmoid_backward"

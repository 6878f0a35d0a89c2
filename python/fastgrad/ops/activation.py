"""ReLU, Tanh, Sigmoid: one C kernel forward, one backward."""
from ..autograd import Op, grad_target
from ..tensor import Tensor, empty
from ._checks import float_arg
from .matmul import fuse_relu


class ReLU(Op):
    """max(x, 0); the gradient at exactly 0 is 0, as in PyTorch."""

    def forward(self, x):
        if type(x) is not Tensor or not x._dtype.is_floating_point:
            x = float_arg(x, "relu")
        out = empty(x._shape, x._dtype, x._numel)
        x._dtype.k.relu(out._buf, x._buf, x._numel)
        if x._op is not None and fuse_relu(x, out):
            return out   # (x @ W + b).relu(), relu(fc(x)): one op, nn.Linear's backward
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        dx, accumulate = grad_target(x)
        x._dtype.k.relu_backward(dx, g._buf, x._buf, x._numel, accumulate)


class _FromOutput(Op):
    """A pointwise op whose backward needs only its output (saved as a detached view)."""
    reads = ()   # backward needs shapes (or saved buffers) only
    kernel = backward_kernel = None

    def forward(self, x):
        x = float_arg(x, self.kernel)
        out = empty(x._shape, x._dtype)
        getattr(x.dtype.k, self.kernel)(out._buf, x._buf, x._numel)
        self.out_buf = self.save_output(out)   # backward reads the output; the op keeps its buffer
        return self.record(out, x)

    def _backward(self, g):
        x, = self.inputs
        dx, accumulate = grad_target(x)
        getattr(x._dtype.k, self.backward_kernel)(dx, g._buf, self.out_buf, x._numel, accumulate)


class Tanh(_FromOutput):
    kernel, backward_kernel = "tanh", "tanh_backward"


class Sigmoid(_FromOutput):
    kernel, backward_kernel = "sigmoid", "sigmoid_backward"

"""Cast: a tensor converted to another dtype by the one cast kernel (fg_cast). Between float types
the gradient flows back converted (PyTorch's .double() / .float()); into int64 or bool, none does."""
from ..autograd import Op, accumulate_grad
from ..tensor import empty
from ._checks import tensor_arg
from ..dtypes import kernels


class Cast(Op):
    reads = ()   # backward needs shapes (or saved buffers) only
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        tensor_arg(x, "to")
        out = empty(x._shape, self.dtype, x._numel)
        kernels.cast(out._buf, self.dtype.code, x._buf, x._dtype.code, x._numel)
        return self.record(out, x) if self.dtype.is_floating_point else out

    def _backward(self, g):
        x, = self.inputs
        gx = empty(x._shape, x._dtype, x._numel)
        kernels.cast(gx._buf, x._dtype.code, g._buf, g._dtype.code, g._numel)
        accumulate_grad(x, gx)

    def out_dtype(self):
        return self.dtype

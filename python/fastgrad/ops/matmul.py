"""MatMul and the fused Linear (x·wᵀ + b): one C call forward, one backward."""
import math

from .._C import ffi
from ..autograd import Op, grad_buffer_or_null, grad_targets
from ..tensor import Tensor, empty
from ._checks import same_dtype, tensor_arg


class MatMul(Op):
    """a[m,k] @ b[k,n]. Backward: da += g·bᵀ, db += aᵀ·g, read transposed by the GEMM core (which
    writes a gradient that does not exist yet instead of adding to zeros: grad_targets)."""

    def forward(self, a, b):
        if not (type(a) is Tensor and type(b) is Tensor and len(a.shape) == 2 and len(b.shape) == 2
                and a.shape[1] == b.shape[0] and a.dtype is b.dtype):   # one test when all is well
            _check_matmul(a, b)
        (m, k), n = a.shape, b.shape[1]
        out = empty((m, n), a.dtype, m * n)
        a.dtype.k.matmul(out._buf, a._buf, b._buf, m, k, n)
        return self.record(out, a, b)

    def _backward(self, g):
        a, b = self.inputs
        (m, k), n = a.shape, b.shape[1]
        (da, accumulate_da), (db, accumulate_db) = grad_targets(a, b)
        a.dtype.k.matmul_backward(da, db, g._buf, a._buf, b._buf, m, k, n, accumulate_da, accumulate_db)


def _check_matmul(a, b):
    tensor_arg(a, "matmul", "a"), tensor_arg(b, "matmul", "b")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not (m, k) and (k, n)")
    same_dtype("matmul", a, b)


class Linear(Op):
    """x[..., k] · weight[n, k]ᵀ + bias[n] (PyTorch's layout), fused into one kernel each way."""

    def forward(self, x, weight, bias=None):
        m, k, n = _linear_sizes(x, weight, bias)
        out = empty(x.shape[:-1] + (n,), x.dtype)
        x.dtype.k.linear(out._buf, x._buf, weight._buf, _buf_or_null(bias), m, k, n)
        return self.record(out, x, weight) if bias is None else self.record(out, x, weight, bias)

    def _backward(self, g):
        x, weight, (dx, accumulate_dx), (dw, accumulate_dw), dbias = self._gradients()
        n, k = weight.shape
        x.dtype.k.linear_backward(dx, dw, dbias, g._buf, x._buf, weight._buf, math.prod(x.shape[:-1]), k, n,
                                  accumulate_dx, accumulate_dw)

    def _gradients(self):
        """x, weight, the targets of dx and dw (grad_targets) and dbias's buffer (added to: it is small)."""
        x, weight = self.inputs[:2]
        dbias = grad_buffer_or_null(self.inputs[2]) if len(self.inputs) == 3 else ffi.NULL
        return (x, weight, *grad_targets(x, weight), dbias)


class LinearReLU(Linear):
    """relu(x·weightᵀ + bias): a Linear layer and the ReLU after it as one op, one kernel each way.
    nn.Sequential uses it for a Linear directly followed by a ReLU; results are bit-identical to the
    two ops run one after the other."""

    def forward(self, x, weight, bias=None):
        m, k, n = _linear_sizes(x, weight, bias)
        out = empty(x.shape[:-1] + (n,), x.dtype)
        x.dtype.k.linear_relu(out._buf, x._buf, weight._buf, _buf_or_null(bias), m, k, n)
        self.out_buf = out._buf   # the ReLU's mask, for backward
        return self.record(out, x, weight) if bias is None else self.record(out, x, weight, bias)

    def _backward(self, g):
        x, weight, (dx, accumulate_dx), (dw, accumulate_dw), dbias = self._gradients()
        n, k = weight.shape
        pre_activation_grad = empty(g.shape, g.dtype)   # scratch: g masked by the ReLU
        x.dtype.k.linear_relu_backward(dx, dw, dbias, pre_activation_grad._buf, g._buf, self.out_buf, x._buf,
                                       weight._buf, math.prod(x.shape[:-1]), k, n, accumulate_dx, accumulate_dw)


def _buf_or_null(t):
    return ffi.NULL if t is None else t._buf


def _linear_sizes(x, weight, bias):
    """(m, k, n) of x[..., k] · weight[n, k]ᵀ + bias[n], after checking the arguments."""
    if not (type(x) is Tensor and type(weight) is Tensor and len(weight.shape) == 2 and x.shape
            and x.shape[-1] == weight.shape[1] and x.dtype is weight.dtype
            and (bias is None or type(bias) is Tensor and bias.shape == weight.shape[:1] and bias.dtype is x.dtype)):
        _check_linear(x, weight, bias)   # one test above when all is well; the messages here
    n, k = weight.shape
    return math.prod(x.shape[:-1]), k, n   # m: not x.size // k, since with k = 0 there are still m rows of bias


def _check_linear(x, weight, bias):
    tensor_arg(x, "linear", "x"), tensor_arg(weight, "linear", "weight")
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape {weight.shape} "
                         f"(expects (..., in_features) and (out_features, in_features))")
    if bias is not None:
        tensor_arg(bias, "linear", "bias")
        if bias.shape != weight.shape[:1]:
            raise ValueError(f"linear: bias of shape {bias.shape} does not match weight of shape {weight.shape}")
        same_dtype("linear", x, weight, bias)
    else:
        same_dtype("linear", x, weight)

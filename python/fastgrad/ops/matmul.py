"""MatMul and the fused Linear (x·wᵀ + b): one C call forward, one backward."""
import functools
import math

from .. import autograd
from .._C import ffi
from ..autograd import Op, grad_buffer_or_null, grad_targets
from ..tensor import Tensor, empty
from ._checks import same_dtype, tensor_arg
from .shape import Transpose


class MatMul(Op):
    """a @ b with PyTorch's (and numpy's) matmul semantics. 2-D: a[m,k] @ b[k,n], backward
    da += g·bᵀ, db += aᵀ·g, read transposed by the GEMM core (which writes a gradient that does not
    exist yet instead of adding to zeros: grad_targets). N-D: the last two dimensions are matrices
    and the ones before them batch dimensions that broadcast; a 1-D operand is a matrix of one row
    (left) or one column (right) whose dimension is dropped from the result. A `b` without batch
    dimensions folds a's batch into the rows of one product (as a linear layer's would); otherwise
    fg_gemm_batched runs one product per batch index, and the backward sums the gradient of an
    operand over the dimensions along which it was broadcast, in the same kernel.

    a @ W.T, with W.T fresh from transposing a matrix W (as PyTorch code writes a layer), is recorded
    as linear(a, W): the gradient then goes to W directly, not through W.T and its transposed copy
    (the forward reads the copy, which is there already: the same bits as the plain product)."""

    def forward(self, a, b):
        if not (type(a) is Tensor and type(b) is Tensor and len(a._shape) == 2 and len(b._shape) == 2
                and a._shape[1] == b._shape[0] and a._dtype is b._dtype
                and a._dtype.is_floating_point):   # one test when all is well
            return self._forward_nd(a, b)
        (m, k), n = a._shape, b._shape[1]
        out = empty((m, n), a._dtype, m * n)
        a._dtype.k.matmul(out._buf, a._buf, b._buf, m, k, n)
        return self._record_product(out, a, b)

    def _record_product(self, out, a, b):
        op = b._op
        if op is not None and type(op) is Transpose and len(b._shape) == 2 and op.epoch == autograd._epoch:
            return Linear().record(out, a, op.inputs[0])   # a @ W.T; (an in-place write since: W moved on)
        return self.record(out, a, b)

    def _forward_nd(self, a, b):
        _check_matmul(a, b)
        out_shape, m, k, n, strides = _plan(a._shape, b._shape)
        out = empty(out_shape, a.dtype)
        if strides is None:
            a.dtype.k.matmul(out._buf, a._buf, b._buf, m, k, n)
            return self._record_product(out, a, b)
        batch, c_strides, a_strides, b_strides = strides
        a.dtype.k.gemm_batched(out._buf, a._buf, b._buf, m, n, k, 0, 0, 0, batch, c_strides, a_strides, b_strides,
                               len(batch))
        return self.record(out, a, b)

    def _backward(self, g):
        a, b = self.inputs[:2]
        if len(a._shape) == 2 == len(b._shape):
            (m, k), n = a._shape, b._shape[1]
            strides = None
        else:
            _, m, k, n, strides = _plan(a._shape, b._shape)
        (da, accumulate_da), (db, accumulate_db) = grad_targets(a, b)
        if strides is None:
            a.dtype.k.matmul_backward(da, db, g._buf, a._buf, b._buf, m, k, n, accumulate_da, accumulate_db)
            return
        batch, g_strides, a_strides, b_strides = strides
        kernel = a.dtype.k.gemm_batched
        if da != ffi.NULL:   # da[m,k] (+)= g[m,n]·b[k,n]ᵀ, summed over the batch dimensions a was broadcast along
            kernel(da, g._buf, b._buf, m, k, n, 0, 1, accumulate_da, batch, a_strides, g_strides, b_strides, len(batch))
        if db != ffi.NULL:   # db[k,n] (+)= a[m,k]ᵀ·g[m,n], likewise
            kernel(db, a._buf, g._buf, k, n, m, 1, 0, accumulate_db, batch, b_strides, a_strides, g_strides, len(batch))


class MatMulBias(MatMul):
    """x @ W + bias, and relu(x @ W + bias): what `(x @ W + b).relu()` records (affine_sum, fuse_relu).
    The forward kernels run as written; the backward is one kernel, as nn.Linear's is, with the same
    bits the separate ops would give."""
    reads = (0, 1)   # x and W; the bias only by shape
    out_buf = None   # the ReLU's output, once fused

    def _backward(self, g):
        a, b, bias = self.inputs
        k, n = b._shape
        (da, accumulate_da), (db, accumulate_db) = grad_targets(a, b)
        dpre = ffi.NULL if self.out_buf is None else empty(g._shape, g._dtype, g._numel)._buf
        a._dtype.k.matmul_bias_backward(da, db, grad_buffer_or_null(bias), dpre, g._buf,
                                        ffi.NULL if self.out_buf is None else self.out_buf, a._buf, b._buf,
                                        g._numel // n if n else math.prod(a._shape[:-1]), k, n, accumulate_da,
                                        accumulate_db)


# ---- layers written out: x @ W + b, x @ W.T + b and a ReLU after them record the fused layer ops --------
def affine_sum(product, bias):
    """The op class to record product + bias as, on product's op's inputs and bias, or None: an Add
    with one operand fresh from x @ W (W a matrix: MatMulBias) or from x @ W.T or linear(x, W) without
    bias (Linear), and the other a bias over the product's columns that adds no dimension to it."""
    op = product._op
    kind = type(op)
    if kind is MatMul:
        fused, columns = MatMulBias, 1   # W[k, n]
    elif kind is Linear and len(op.inputs) == 2:
        fused, columns = Linear, 0   # W[n, k]
    else:
        return None
    x, w = op.inputs
    if (len(w._shape) == 2 and bias._shape and bias._shape[-1] == w._shape[columns] == bias._numel
            and len(bias._shape) <= len(product._shape) and op.epoch == autograd._epoch
            and bias is not w and bias is not x):   # (x @ W + W: the kernel would write W's gradient over)
        return fused
    return None


def fuse_relu(pre, out):
    """Records out = relu(pre) as one op with the affine op that made pre (a Linear, or a MatMulBias
    with no ReLU yet) and returns True; False otherwise. pre keeps its own op: where it is read
    elsewhere too, its gradient still flows through that op."""
    op = pre._op
    kind = type(op)
    if kind is Linear:
        fused = LinearReLU()
    elif kind is MatMulBias and op.out_buf is None:
        fused = MatMulBias()
    else:
        return False
    if op.epoch != autograd._epoch:
        return False   # an input was written in place since: the fused op would record its new version
    fused.out_buf = fused.save_output(out)   # the ReLU's mask: backward refuses once out is written in place
    fused.record(out, *op.inputs)
    return True


def _check_matmul(a, b, op="matmul"):
    tensor_arg(a, op, "a"), tensor_arg(b, op, "b")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{op}: both operands need at least one dimension, got shapes {a.shape} and {b.shape}")
    same_dtype(op, a, b)
    if not a.dtype.is_floating_point:
        raise TypeError(f"{op}: expects float32 or float64 tensors, got {a.dtype!r}; convert with .float()")
    _plan(a._shape, b._shape)   # raises on shapes that do not fit


@functools.lru_cache(maxsize=256)
def _plan(a_shape, b_shape):
    """How a @ b runs for these shapes (both at least 1-D): (out_shape, m, k, n, strides), strides
    None when one 2-D product does it (b has no batch dimensions: a's fold into m), else (batch
    shape, and element strides over it of the output, a and b; 0 along broadcast dimensions)."""
    m, k = a_shape[-2:] if len(a_shape) > 1 else (1, a_shape[0])
    k_b, n = b_shape[-2:] if len(b_shape) > 1 else (b_shape[0], 1)
    if k != k_b:
        raise ValueError(f"matmul: shapes {a_shape} and {b_shape} do not fit: {k} columns of a against {k_b} rows "
                         f"of b")
    rows = a_shape[:-1] if len(a_shape) > 1 else ()
    cols = b_shape[-1:] if len(b_shape) > 1 else ()
    if len(b_shape) <= 2:
        return rows + cols, math.prod(rows), k, n, None
    a_batch, b_batch = a_shape[:-2], b_shape[:-2]
    batch = []
    for i in range(1, max(len(a_batch), len(b_batch)) + 1):
        x = a_batch[-i] if i <= len(a_batch) else 1
        y = b_batch[-i] if i <= len(b_batch) else 1
        if x != y and x != 1 and y != 1:
            raise ValueError(f"matmul: batch dimensions {a_batch} and {b_batch} (of shapes {a_shape} and {b_shape}) "
                             f"do not broadcast")
        batch.insert(0, y if x == 1 else x)
    batch = tuple(batch)
    out_shape = batch + (rows[-1:] if len(a_shape) > 1 else ()) + cols
    strides = (batch, _batch_strides(batch, batch, m * n), _batch_strides(a_batch, batch, m * k),
               _batch_strides(b_batch, batch, k * n))
    return out_shape, m, k, n, strides


def _batch_strides(shape, batch, matrix):
    """Element strides over `batch` of matrices of `matrix` elements stored contiguously with batch
    dimensions `shape` (right-aligned; 0 where shape is 1 or missing)."""
    strides, step = [0] * len(batch), matrix
    for i in range(1, len(shape) + 1):
        if shape[-i] != 1:
            strides[-i] = step
        step *= shape[-i]
    return tuple(strides)


def bmm(a, b):
    """Batched matrix product of a[B,m,k] and b[B,k,n] (PyTorch's bmm: 3-D, same batch size, no
    broadcasting)."""
    tensor_arg(a, "bmm", "a"), tensor_arg(b, "bmm", "b")
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"bmm: expects 3-D tensors, got shapes {a.shape} and {b.shape}")
    if a._shape[0] != b._shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {a.shape} and {b.shape}")
    return MatMul().forward(a, b)


def matmul(a, b):
    """a @ b (torch.matmul): see MatMul."""
    return MatMul().forward(a, b)


class Linear(Op):
    """x[..., k] · weight[n, k]ᵀ + bias[n] (PyTorch's layout), fused into one kernel each way."""

    def forward(self, x, weight, bias=None):
        m, k, n = _linear_sizes(x, weight, bias)
        out = empty(x._shape[:-1] + (n,), x._dtype, m * n)
        x._dtype.k.linear(out._buf, x._buf, weight._buf, _buf_or_null(bias), m, k, n)
        return self.record(out, x, weight) if bias is None else self.record(out, x, weight, bias)

    def _backward(self, g):
        x, weight, (dx, accumulate_dx), (dw, accumulate_dw), dbias = self._gradients()
        n, k = weight._shape
        x.dtype.k.linear_backward(dx, dw, dbias, g._buf, x._buf, weight._buf, math.prod(x._shape[:-1]), k, n,
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
        out = empty(x._shape[:-1] + (n,), x._dtype, m * n)
        x._dtype.k.linear_relu(out._buf, x._buf, weight._buf, _buf_or_null(bias), m, k, n)
        self.out_buf = self.save_output(out)   # the ReLU's mask, for backward
        return self.record(out, x, weight) if bias is None else self.record(out, x, weight, bias)

    def _backward(self, g):
        x, weight, (dx, accumulate_dx), (dw, accumulate_dw), dbias = self._gradients()
        n, k = weight._shape
        pre_activation_grad = empty(g._shape, g._dtype)   # scratch: g masked by the ReLU
        x.dtype.k.linear_relu_backward(dx, dw, dbias, pre_activation_grad._buf, g._buf, self.out_buf, x._buf,
                                       weight._buf, math.prod(x._shape[:-1]), k, n, accumulate_dx, accumulate_dw)


def _buf_or_null(t):
    return ffi.NULL if t is None else t._buf


def _linear_sizes(x, weight, bias):
    """(m, k, n) of x[..., k] · weight[n, k]ᵀ + bias[n], after checking the arguments."""
    if not (type(x) is Tensor and type(weight) is Tensor and len(weight._shape) == 2 and x._shape
            and x._shape[-1] == weight._shape[1] and x._dtype is weight._dtype
            and (bias is None or type(bias) is Tensor and bias._shape == weight._shape[:1] and bias._dtype is x._dtype)):
        _check_linear(x, weight, bias)   # one test above when all is well; the messages here
    n, k = weight._shape
    m = x._shape[0] if len(x._shape) == 2 else math.prod(x._shape[:-1])
    return m, k, n   # m: not x.size // k, since with k = 0 there are still m rows of bias


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

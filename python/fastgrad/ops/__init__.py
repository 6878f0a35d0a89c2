"""One class per op: forward computes with the C kernels and records the graph node, backward
accumulates the inputs' gradients. `fg.ops.MatMul().forward(a, b)` is the tutorial's chainable form;
Tensor's operators call the same classes."""
from .activation import ReLU, Sigmoid, Tanh
from .convert import Cast
from .conv import BatchNorm, Conv, Pool
from .elementwise import Add, Div, Mul, Sub
from .loss import CrossEntropy, NLLLoss
from .matmul import Linear, LinearReLU, MatMul
from .shape import AsStrided, Cat, Reshape, Transpose, Triangle
from .softmax import LogSoftmax, Softmax
# the math helper's families: unary math, pow/maximum/minimum, comparisons and where, reductions
from .compare import Where
from .elementwise import Maximum, Minimum, Pow
from .reduce import Reduce, Sum
from .unary import Clamp, Unary
from .index import Embedding, Index, IndexPut, ScatterAdd

from .lm import Activation, LayerNorm, Normalize, ScaledDotProductAttention, gelu_op, softplus_op

__all__ = ["Add", "Sub", "Mul", "Div", "MatMul", "Linear", "LinearReLU", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "CrossEntropy", "NLLLoss", "Sum", "Reshape", "Transpose", "Cast",
           "AsStrided", "Cat", "Triangle", "Unary", "Clamp", "Pow", "Maximum", "Minimum", "Where", "Reduce",
           "Index", "IndexPut", "ScatterAdd", "Embedding",
           "Conv", "Pool", "BatchNorm", "LayerNorm", "Activation", "Normalize", "ScaledDotProductAttention"]
# the cnn helper's padding, upsampling and transposed convolution
from .pad import Pad  # noqa: E402
from .upsample import ConvTranspose, Upsample  # noqa: E402
__all__ += ["Pad", "Upsample", "ConvTranspose"]

from .rnn import RNNGates  # noqa: E402

__all__ += ["RNNGates"]

# the pointwise losses (mse, l1, smooth_l1, huber, binary cross-entropy, kl_div): one kernel, one class
from .pointwise_loss import PointwiseLoss  # noqa: E402
__all__ += ["PointwiseLoss"]

# RMSNorm (rms_norm.py, csrc/rms_norm.inc)
from .rms_norm import RMSNorm  # noqa: E402
__all__ += ["RMSNorm"]

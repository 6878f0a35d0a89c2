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

from .rnn import RNNGates  # noqa: E402

__all__ += ["RNNGates"]

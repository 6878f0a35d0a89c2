"""One class per op: forward computes with the C kernels and records the graph node, backward
accumulates the inputs' gradients. `fg.ops.MatMul().forward(a, b)` is the tutorial's chainable form;
Tensor's operators call the same classes."""
from .activation import ReLU, Sigmoid, Tanh
from .convert import Cast
from .elementwise import Add, Div, Mul, Sub
from .loss import CrossEntropy, NLLLoss
from .matmul import Linear, LinearReLU, MatMul
from .shape import Reshape, Sum, Transpose
from .softmax import LogSoftmax, Softmax

__all__ = ["Add", "Sub", "Mul", "Div", "MatMul", "Linear", "LinearReLU", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "CrossEntropy", "NLLLoss", "Sum", "Reshape", "Transpose", "Cast"]

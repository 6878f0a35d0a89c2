from . import functional, init
from .modules import (CrossEntropyLoss, Dropout, Flatten, Identity, IncompatibleKeys, Linear, LogSoftmax, Module,
                      MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh, Unflatten)

from .sparse import Embedding

__all__ = ["functional", "init", "Module", "Sequential", "Linear", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "Dropout", "Flatten", "Identity", "CrossEntropyLoss", "NLLLoss", "MSELoss", "IncompatibleKeys",
           "Unflatten", "Embedding"]

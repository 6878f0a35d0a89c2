from . import functional
from .modules import (CrossEntropyLoss, Dropout, Flatten, Identity, IncompatibleKeys, Linear, LogSoftmax, Module,
                      MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh)
from .modules import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Dropout2d,
                      MaxPool2d)

__all__ = ["functional", "Module", "Sequential", "Linear", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "Dropout", "Flatten", "Identity", "CrossEntropyLoss", "NLLLoss", "MSELoss", "IncompatibleKeys",
           "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout2d"]

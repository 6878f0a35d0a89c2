from . import functional
from .modules import Linear, Module, ReLU, Sequential, Softmax

__all__ = ["functional", "Module", "Linear", "ReLU", "Softmax", "Sequential"]

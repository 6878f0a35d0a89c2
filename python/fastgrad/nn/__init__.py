from . import functional, init
from .modules import (CrossEntropyLoss, Dropout, Flatten, Identity, IncompatibleKeys, Linear, LogSoftmax, Module,
                      MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh, Unflatten)

from .sparse import Embedding

__all__ = ["functional", "init", "Module", "Sequential", "Linear", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "Dropout", "Flatten", "Identity", "CrossEntropyLoss", "NLLLoss", "MSELoss", "IncompatibleKeys",
           "Unflatten", "Embedding"]

# ---- language-model layers, containers, Parameter, utils (lm) ----
from . import utils  # noqa: E402
from .lm import GELU, LayerNorm, LogSigmoid, ModuleDict, ModuleList, SiLU, Softplus  # noqa: E402
from .parameter import Parameter  # noqa: E402

__all__ += ["utils", "LayerNorm", "GELU", "SiLU", "LogSigmoid", "Softplus", "ModuleList", "ModuleDict", "Parameter"]

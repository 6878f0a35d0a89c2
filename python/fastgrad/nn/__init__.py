from . import functional, init
from .modules import (CrossEntropyLoss, Dropout, Flatten, Identity, IncompatibleKeys, Linear, LogSoftmax, Module,
                      MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax, Tanh, Unflatten)
from .modules import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Dropout2d,
                      MaxPool2d)
from .modules import ELU, LeakyReLU

from .sparse import Embedding

__all__ = ["functional", "init", "Module", "Sequential", "Linear", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "Dropout", "Flatten", "Identity", "CrossEntropyLoss", "NLLLoss", "MSELoss", "IncompatibleKeys",
           "Unflatten", "Embedding",
           "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout2d",
           "LeakyReLU", "ELU"]
from . import parallel   # DistributedDataParallel (fastgrad.distributed, mpi4py, only when constructed)

# ---- language-model layers, containers, Parameter, utils (lm) ----
from . import utils  # noqa: E402
from .lm import (GELU, LayerNorm, LogSigmoid, ModuleDict, ModuleList, MultiheadAttention, SiLU, Softplus,  # noqa: E402
                 TransformerEncoderLayer)
from .parameter import Parameter  # noqa: E402

__all__ += ["utils", "LayerNorm", "GELU", "SiLU", "LogSigmoid", "Softplus", "ModuleList", "ModuleDict", "Parameter",
            "MultiheadAttention", "TransformerEncoderLayer"]

# ---- more convolutional-network layers (cnn) ----
from .modules import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, CircularPad1d,  # noqa: E402
                      CircularPad2d, ConstantPad1d, ConstantPad2d, ConvTranspose1d, ConvTranspose2d, GroupNorm,
                      InstanceNorm1d, InstanceNorm2d, MaxPool1d, ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
                      ReplicationPad2d, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d, ZeroPad2d)

__all__ += ["AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "CircularPad1d",
            "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "ConvTranspose1d", "ConvTranspose2d", "GroupNorm",
            "InstanceNorm1d", "InstanceNorm2d", "MaxPool1d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
            "ReplicationPad2d", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad2d"]

# ---- recurrent layers (lead) ----
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: E402

__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
from .transformer import Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder  # noqa: E402

__all__ += ["TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder", "Transformer"]

# ---- pointwise losses (ops/pointwise_loss.py) ----
from .modules import BCELoss, BCEWithLogitsLoss, HuberLoss, KLDivLoss, L1Loss, SmoothL1Loss  # noqa: E402

__all__ += ["BCELoss", "BCEWithLogitsLoss", "HuberLoss", "KLDivLoss", "L1Loss", "SmoothL1Loss"]
# ---- distances as layers (distance.py) ----
from .distance import CosineSimilarity, PairwiseDistance  # noqa: E402

__all__ += ["CosineSimilarity", "PairwiseDistance"]
# ---- PyTorch's other activation layers (activation.py) ----
from .activation import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, Mish, PReLU,  # noqa: E402
                         ReLU6, Softmin, Softshrink, Softsign, Tanhshrink, Threshold)

__all__ += ["Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish", "SELU", "CELU", "Softsign", "Threshold", "GLU",
            "PReLU", "Softmin", "Tanhshrink", "Softshrink", "Hardshrink"]

# ---- margin and embedding losses (margin.py; their functions in functional) ----
from .margin import (CosineEmbeddingLoss, HingeEmbeddingLoss, MarginRankingLoss, MultiLabelSoftMarginLoss,  # noqa: E402
                     SoftMarginLoss, TripletMarginLoss)

__all__ += ["CosineEmbeddingLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss",
            "SoftMarginLoss", "TripletMarginLoss"]

# ---- EmbeddingBag (sparse.py; F.embedding_bag) ----
from .sparse import EmbeddingBag  # noqa: E402

__all__ += ["EmbeddingBag"]

# ---- parameter containers (containers.py) ----
from .containers import ParameterDict, ParameterList  # noqa: E402

__all__ += ["ParameterList", "ParameterDict"]
# ---- more layers (layers_more.py) ----
from .layers_more import (Bilinear, ChannelShuffle, Dropout1d, Fold, LocalResponseNorm, PixelShuffle,  # noqa: E402
                          PixelUnshuffle, RMSNorm, Unfold)

__all__ += ["RMSNorm", "PixelShuffle", "PixelUnshuffle", "Dropout1d", "Bilinear", "Unfold", "Fold", "LocalResponseNorm",
            "ChannelShuffle"]
# ---- the 3-D family, unpooling, LP pooling, lazy modules (layers_nd.py); more activations, dropouts,
# losses (more_modules.py); nn.Buffer (parameter.py) ----
from .layers_nd import (AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, BatchNorm3d, CircularPad3d,  # noqa: E402
                        ConstantPad3d, Conv3d, ConvTranspose3d, Dropout3d, InstanceNorm3d, LazyBatchNorm1d,
                        LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,
                        LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
                        LazyInstanceNorm3d, LazyLinear, LPPool1d, LPPool2d, LPPool3d, MaxPool3d, MaxUnpool1d,
                        MaxUnpool2d, MaxUnpool3d, ReflectionPad3d, ReplicationPad3d, ZeroPad1d, ZeroPad3d)
from .more_modules import (AlphaDropout, FeatureAlphaDropout, GaussianNLLLoss, MultiLabelMarginLoss,  # noqa: E402
                           MultiMarginLoss, PoissonNLLLoss, RReLU, Softmax2d, TripletMarginWithDistanceLoss)
from .parameter import Buffer, UninitializedBuffer, UninitializedParameter  # noqa: E402

__all__ += ["AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "AvgPool3d", "BatchNorm3d", "CircularPad3d", "ConstantPad3d",
            "Conv3d", "ConvTranspose3d", "Dropout3d", "InstanceNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
            "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
            "LazyConvTranspose3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear",
            "LPPool1d", "LPPool2d", "LPPool3d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
            "ReflectionPad3d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad3d", "AlphaDropout", "FeatureAlphaDropout",
            "GaussianNLLLoss", "MultiLabelMarginLoss", "MultiMarginLoss", "PoissonNLLLoss", "RReLU", "Softmax2d",
            "TripletMarginWithDistanceLoss", "Buffer", "UninitializedParameter", "UninitializedBuffer"]

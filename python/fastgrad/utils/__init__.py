"""fastgrad.utils.data is fastgrad.data, as torch.utils.data is where PyTorch programs import
Dataset and DataLoader from; fastgrad.utils.data.distributed holds DistributedSampler, as
torch.utils.data.distributed does."""
import sys
import types

from .. import data

sys.modules[__name__ + ".data"] = data
_distributed = types.ModuleType(__name__ + ".data.distributed", "DistributedSampler, as torch.utils.data.distributed")
_distributed.DistributedSampler = data.DistributedSampler
sys.modules[_distributed.__name__] = _distributed
data.distributed = _distributed   # `import fastgrad.utils.data.distributed as d` reads the attribute

from . import checkpoint  # noqa: E402 (fg.utils.checkpoint, as torch.utils.checkpoint)

__all__ = ["data", "checkpoint"]

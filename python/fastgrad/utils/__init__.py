"""fastgrad.utils.data is fastgrad.data, as torch.utils.data is where PyTorch programs import
Dataset and DataLoader from."""
import sys

from .. import data

sys.modules[__name__ + ".data"] = data

__all__ = ["data"]

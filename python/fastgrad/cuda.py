"""fg.cuda: what ported PyTorch programs ask before choosing a device. fastgrad runs on the CPU."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted and ignored, as torch.cuda.manual_seed is without a GPU."""


def manual_seed_all(seed):
    """Accepted and ignored, as torch.cuda.manual_seed_all is without a GPU."""


def empty_cache():
    """Accepted and ignored, as torch.cuda.empty_cache is without a GPU."""


# torch.cuda.amp: the disabled GradScaler and autocast of fastgrad.amp
from . import amp  # noqa: E402

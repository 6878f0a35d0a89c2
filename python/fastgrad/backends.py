"""fg.backends: the switches PyTorch programs set for reproducibility or speed
(torch.backends.cudnn.deterministic = True, .benchmark = False, torch.backends.mps.is_available()).
fastgrad has no cuDNN, MPS or TF32: the flags are kept as set and change nothing; its kernels give
the same bits for any thread count anyway."""
import types

cudnn = types.SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                              is_available=lambda: False, version=lambda: None)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cuda = types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
                             is_built=lambda: False)
mkldnn = types.SimpleNamespace(enabled=True, is_available=lambda: False)
openmp = types.SimpleNamespace(is_available=lambda: True)

_deterministic = [False]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded for are_deterministic_algorithms_enabled(); every fastgrad kernel is deterministic."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, got {type(mode).__name__}")
    _deterministic[0] = mode


def are_deterministic_algorithms_enabled():
    return _deterministic[0]

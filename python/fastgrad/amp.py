"""fg.amp: PyTorch's mixed-precision API as CPU-only programs meet it. fastgrad has no float16 or
bfloat16, so autocast runs every op in the precision it would anyway (a result autocast allows,
only more precise), and GradScaler, whose scaling only guards float16 gradients, passes through:
scale(loss) is loss, step(optimizer) is optimizer.step(), as PyTorch's disabled scaler does
(nanoGPT builds one whatever the device)."""
import contextlib
import warnings

__all__ = ["autocast", "GradScaler", "is_autocast_available"]


class autocast(contextlib.ContextDecorator):
    """with fg.autocast(device_type="cpu", dtype=fg.bfloat16 ...): accepted; ops keep their precision."""

    def __init__(self, device_type="cpu", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: device_type must be a string such as 'cpu' or 'cuda', got {device_type!r}")
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def is_autocast_available(device_type):
    return device_type == "cpu"


class GradScaler:
    """PyTorch's GradScaler, always in its disabled form here (no float16 gradients to guard)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if enabled:
            warnings.warn("GradScaler is enabled, but fastgrad runs in float32/float64 on the CPU: disabling it")
        self._enabled = False
        self._init_scale = init_scale

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        pass

    def get_scale(self):
        return 1.0

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        pass

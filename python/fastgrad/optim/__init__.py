"""Optimizers (each parameter's update is one C kernel call) and learning-rate schedules."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]

# ---- adaptive optimizers (lm) ----
from .adaptive import Adadelta, Adagrad, RMSprop  # noqa: E402

__all__ += ["Adagrad", "RMSprop", "Adadelta"]

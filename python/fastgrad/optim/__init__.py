"""Optimizers (each parameter's update is one C kernel call) and learning-rate schedules."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", "SparseAdam"]

# ---- adaptive optimizers (lm) ----
from .adaptive import Adadelta, Adagrad, RMSprop  # noqa: E402

__all__ += ["Adagrad", "RMSprop", "Adadelta"]

# ---- Adamax, NAdam, RAdam, ASGD, Rprop, LBFGS (pack) ----
from .lbfgs import LBFGS  # noqa: E402
from .more import ASGD, NAdam, RAdam, Adamax, Rprop  # noqa: E402

__all__ += ["Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS"]

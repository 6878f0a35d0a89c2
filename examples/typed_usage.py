"""A small typed program over fastgrad's public API: CI runs `mypy --strict` on it against the
installed package (which ships py.typed and stubs), and tests/test_typing.py runs it.

    python examples/typed_usage.py
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

import fastgrad as fg
import fastgrad.nn.functional as F
from fastgrad import Tensor


def make_model(n_in: int, n_hidden: int, n_out: int) -> fg.nn.Sequential:
    return fg.nn.Sequential(fg.nn.Linear(n_in, n_hidden), fg.nn.ReLU(), fg.nn.Linear(n_hidden, n_out))


def train(model: fg.nn.Sequential, x: Tensor, y: list[int], steps: int) -> list[float]:
    optimizer = fg.optim.Adam(model.parameters(), lr=1e-2)
    schedule = fg.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    losses: list[float] = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss: Tensor = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.item()))
    return losses


@fg.no_grad()
def accuracy(model: fg.nn.Sequential, x: Tensor, y: list[int]) -> float:
    predictions = model(x).numpy().argmax(axis=1)
    return float((predictions == np.asarray(y)).mean())


def main() -> None:
    fg.manual_seed(0)
    features = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
    x: Tensor = fg.from_numpy(features)   # shares the array's memory
    y = [int(row.sum() > 0) for row in features]
    model = make_model(4, 16, 2)
    losses = train(model, x, y, steps=30)
    assert losses[-1] < losses[0]
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {accuracy(model, x, y):.2f}")

    a = fg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b: Tensor = (a @ a.T).relu().sum()
    b.backward()
    grad = a.grad
    assert grad is not None and grad.shape == (2, 2)
    shared: np.ndarray = np.from_dlpack(a.detach())
    print("DLPack view:", shared.tolist(), "graph:", len(fg.viz.graph(b).splitlines()), "DOT lines")

    with fg.profiler.profile() as prof:
        train(model, x, y, steps=2)
    print(prof.table(row_limit=3))
    print(fg.viz.summary(model, x))

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.safetensors")
        fg.save(model.state_dict(), path)
        restored = make_model(4, 16, 2)
        restored.load_state_dict(fg.load(path))
    logits, labels = fg.tensor([0.2, -1.5, 3.0]), fg.tensor([0.0, 1.0, 1.0])
    bce: Tensor = fg.nn.BCEWithLogitsLoss(pos_weight=fg.tensor([2.0, 1.0, 1.0]))(logits, labels)
    other: Tensor = F.smooth_l1_loss(logits, labels, beta=0.5) + F.kl_div(logits, labels, reduction="batchmean")
    print(f"pointwise losses {bce.item():.3f} {other.item():.3f}")
    print(f"kernel path {fg.kernel_path()}, {fg.get_num_threads()} threads, dtype {x.dtype.name}")

    opt = fg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cycle = fg.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    plateau = fg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    cycle.step()
    plateau.step(1.0)
    rates: list[float] = cycle.get_last_lr()
    m = fg.tensor([[3.0, 1.0], [2.0, 5.0]])
    middle = fg.median(m, 1)
    print("lr", rates, "median", middle.values.tolist(), "trace", float(fg.trace(m)), fg.cdist(m, m).shape)


if __name__ == "__main__":
    main()

"""The tutorial's two-layer network, learning a 2-D spiral generated here (3 classes, 300 points).

    python examples/train_spiral.py

Written in the tutorial's chainable style: each layer's forward returns a tensor, the next layer
takes it, and one backward() at the end fills every parameter's gradient.
"""
import time

import numpy as np

import fastgrad as fg
import fastgrad.nn.functional as F


def make_spiral(points_per_class=100, classes=3, seed=0):
    """The classic CS231n spiral: `classes` arms of noisy points around the origin."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        radius = np.linspace(0.0, 1.0, points_per_class)
        angle = np.linspace(c * 4.0, (c + 1) * 4.0, points_per_class) + rng.normal(0, 0.2, points_per_class)
        xs.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        ys.append(np.full(points_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def main(steps=2000, lr=0.5, hidden=64):
    fg.manual_seed(0)
    inputs, labels = make_spiral()
    x = fg.tensor(inputs)
    layer1, relu, layer2 = fg.nn.Linear(2, hidden), fg.nn.ReLU(), fg.nn.Linear(hidden, 3)
    optimizer = fg.optim.SGD(layer1.parameters() + layer2.parameters(), lr=lr)

    start = time.perf_counter()
    for step in range(steps + 1):
        logits = layer2.forward(relu.forward(layer1.forward(x)))
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 500 == 0:
            accuracy = (logits.numpy().argmax(axis=1) == labels).mean()
            print(f"step {step:5d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")
    elapsed = time.perf_counter() - start
    print(f"trained {steps} full-batch steps in {elapsed:.2f}s ({steps / elapsed:.0f} steps/s), "
          f"final training accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()

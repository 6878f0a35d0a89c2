"""Train an MLP on scikit-learn's handwritten digits (8x8 images, 10 classes, 1797 samples).

    pip install ".[examples]"        # scikit-learn (the data ships inside it), tqdm, matplotlib
    python examples/train_digits.py  # about a second of training on a laptop core
    python examples/train_digits.py --compile   # the training step captured once, replayed in C

Trains 64 -> 256 -> 10 with ReLU and dropout, AdamW and a cosine learning-rate schedule, on a fixed,
stratified 75/25 split; shows a progress bar with the loss and throughput; writes the loss and
accuracy curves and the first layer's weights as 8x8 images (PNG); saves the model (safetensors),
reloads it into a fresh model and checks that it predicts the same classes. Exits with status 1 if
the test accuracy is below --min-accuracy or the reloaded model disagrees.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

import fastgrad as fg

try:
    import matplotlib
    matplotlib.use("Agg")   # files only, no display needed
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from tqdm import tqdm
except ImportError as e:
    sys.exit(f"this example needs scikit-learn, tqdm and matplotlib ({e}); install them with: pip install \".[examples]\"")


def make_model(hidden, dropout):
    return fg.nn.Sequential(fg.nn.Linear(64, hidden), fg.nn.ReLU(), fg.nn.Dropout(dropout), fg.nn.Linear(hidden, 10))


@fg.no_grad()
def predict(model, x):
    model.eval()
    return model(x).numpy().argmax(axis=1)


def plot_curves(history, path):
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["loss"])
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log", title="Loss")
    ax_acc.plot(epochs, history["train_acc"], label="train")
    ax_acc.plot(epochs, history["test_acc"], label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    ax_acc.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_first_layer(weight, path, count=64):
    """Each hidden unit's 64 input weights, shown as the 8x8 image it responds to."""
    count = min(count, weight.shape[0])
    cols = 8
    rows = -(-count // cols)
    limit = np.abs(weight[:count]).max()
    fig, axes = plt.subplots(rows, cols, figsize=(cols, rows))
    for i, ax in enumerate(np.ravel(axes)):
        if i < count:
            ax.imshow(weight[i].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.axis("off")
    fig.suptitle(f"First-layer weights of {count} hidden units (red +, blue -)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("digits_out"), help="folder for the PNGs and the model")
    parser.add_argument("--min-accuracy", type=float, default=0.97)
    parser.add_argument("--compile", action="store_true",
                        help="record the training step once (fg.compile) and replay it in C after that")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    images, labels = load_digits(return_X_y=True)
    images = (images / 16.0).astype(np.float32)   # pixel values 0..16 -> 0..1
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=0.25, random_state=0,
                                                        stratify=labels)
    x_train_t, x_test_t = fg.tensor(x_train), fg.tensor(x_test)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels, 10 classes")

    fg.manual_seed(args.seed)
    model = make_model(args.hidden, args.dropout)
    print(model)
    optimizer = fg.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = fg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    batches = fg.data.DataLoader(x_train, y_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)

    def train_step(x, y):
        optimizer.zero_grad()
        loss = fg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    # the schedule and the loss's .item() stay outside the step: a replay runs no Python. A compiled
    # step takes tensors (the loader gives numpy arrays): the replay copies them into its inputs.
    if args.compile:
        compiled = fg.compile(train_step)
        step = lambda x, y: compiled(fg.tensor(x), fg.tensor(y))  # noqa: E731
    else:
        step = train_step

    history = {"loss": [], "train_acc": [], "test_acc": []}
    train_time, seen = 0.0, 0
    progress = tqdm(range(args.epochs), desc="training", unit="epoch")
    for _ in progress:
        model.train()
        start, total = time.perf_counter(), 0.0
        for x, y in batches:
            total += step(x, y).item() * len(y)
        schedule.step()
        train_time += time.perf_counter() - start
        seen += len(x_train)
        history["loss"].append(total / len(x_train))
        history["train_acc"].append(float(np.mean(predict(model, x_train_t) == y_train)))
        history["test_acc"].append(float(np.mean(predict(model, x_test_t) == y_test)))
        progress.set_postfix(loss=f"{history['loss'][-1]:.4f}", test_acc=f"{history['test_acc'][-1]:.3f}",
                             samples_per_s=f"{seen / train_time:,.0f}")
    progress.close()

    predictions = predict(model, x_test_t)
    accuracy = float(np.mean(predictions == y_test))
    print(f"test accuracy {accuracy:.2%} after {args.epochs} epochs; training took {train_time:.2f} s "
          f"({seen / train_time:,.0f} samples/s)")

    plot_curves(history, args.out / "curves.png")
    plot_first_layer(model[0].weight.numpy(), args.out / "first_layer_weights.png")
    model_path = args.out / "digits_mlp.safetensors"
    fg.save(model.state_dict(), model_path, metadata={"model": f"mlp 64-{args.hidden}-10", "accuracy": f"{accuracy:.4f}"})

    fg.manual_seed(args.seed + 1)   # different initial weights, so the check means something
    reloaded = make_model(args.hidden, args.dropout)
    reloaded.load_state_dict(fg.load(model_path))
    same = bool(np.array_equal(predict(reloaded, x_test_t), predictions))
    print(f"wrote {args.out / 'curves.png'}, {args.out / 'first_layer_weights.png'} and {model_path}; "
          f"the reloaded model predicts {'the same classes' if same else 'DIFFERENT classes'}")

    if accuracy < args.min_accuracy:
        sys.exit(f"test accuracy {accuracy:.2%} is below --min-accuracy {args.min_accuracy:.2%}")
    if not same:
        sys.exit("the reloaded model does not predict the same classes")


if __name__ == "__main__":
    main()

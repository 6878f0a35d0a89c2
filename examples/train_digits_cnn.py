"""Train a small convolutional network on scikit-learn's handwritten digits (8x8 images, 10 classes).

    pip install ".[examples]"            # scikit-learn (the data ships inside it), tqdm, matplotlib
    python examples/train_digits_cnn.py  # a few seconds of training on a laptop core

ConvNetJS's digits demo, with PyTorch's layers: conv 3x3 (16 filters) -> ReLU -> max-pool 2x2 ->
conv 3x3 (32 filters) -> ReLU -> max-pool 2x2 -> linear, trained with AdamW and a cosine schedule on
the same fixed, stratified 75/25 split as examples/train_digits.py (the MLP), with training images
shifted by up to a pixel at random. Shows a progress bar; writes the first layer's learned filters
and the feature maps of one test digit (PNG); saves the model (safetensors), reloads it into a fresh
model and checks that it predicts the same classes. Exits with status 1 if the test accuracy is
below --min-accuracy or the reloaded model disagrees. --epochs / --steps shorten the run (CI).
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

BATCH_SIZE = 32


def make_model(nn):
    """The network, built from `nn`: fastgrad.nn here, torch.nn in bench/conv.py (the same layers)."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 16 x 4 x 4
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 2 x 2
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


@fg.no_grad()
def predict(model, x):
    model.eval()
    return model(x).numpy().argmax(axis=1)


def shift_randomly(images, rng):
    """Each image moved by -1, 0 or 1 pixel along each axis, the edge filled with zeros (data
    preparation in numpy, before the images become tensors)."""
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.empty_like(images)
    dy, dx = rng.integers(0, 3, size=(2, len(images)))
    for i in range(len(images)):
        out[i] = padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8]
    return out


def plot_filters(weight, path):
    """The first layer's 3x3 filters, red positive, blue negative."""
    count = weight.shape[0]
    fig, axes = plt.subplots(2, count // 2, figsize=(count // 2, 2.4))
    limit = np.abs(weight).max()
    for i, ax in enumerate(np.ravel(axes)):
        ax.imshow(weight[i, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.axis("off")
    fig.suptitle("First-layer filters (3x3, red +, blue -)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


@fg.no_grad()
def plot_feature_maps(model, image, label, path):
    """One test digit and what each conv layer (after its ReLU) makes of it."""
    model.eval()
    x = fg.tensor(image[None])
    maps = []
    for layer in model:
        x = layer(x)
        if isinstance(layer, fg.nn.ReLU):
            maps.append(x.numpy()[0])
    cols = 16   # maps per row
    rows = [("input", image)] + [(f"conv {i + 1}" if j == 0 else "", m[j:j + cols])
                                 for i, m in enumerate(maps) for j in range(0, m.shape[0], cols)]
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 0.6, len(rows) * 0.8 + 0.4))
    for r, (name, m) in enumerate(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.axis("off")
            if c < m.shape[0]:
                ax.imshow(m[c], cmap="gray")
        axes[r, 0].set_title(name, fontsize=7, loc="left")
    fig.suptitle(f"Feature maps of a test digit (label {label})")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many training steps (CI)")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("digits_cnn_out"), help="folder for the PNGs and the model")
    parser.add_argument("--min-accuracy", type=float, default=0.985)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    images, labels = load_digits(return_X_y=True)
    images = (images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)   # pixel values 0..16 -> 0..1, NCHW
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=0.25, random_state=0,
                                                        stratify=labels)
    x_train_t, x_test_t = fg.tensor(x_train), fg.tensor(x_test)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 1x8x8 pixels, 10 classes")

    fg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = make_model(fg.nn)
    print(model)
    optimizer = fg.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)   # AdamW's default decay
    schedule = fg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    train_time, seen, steps = 0.0, 0, 0
    progress = tqdm(range(args.epochs), desc="training", unit="epoch")
    for _ in progress:
        model.train()
        shifted = shift_randomly(x_train, rng)
        order = rng.permutation(len(x_train))
        start, total = time.perf_counter(), 0.0
        for i in range(0, len(order), BATCH_SIZE):
            batch = order[i:i + BATCH_SIZE]
            optimizer.zero_grad()
            loss = fg.nn.functional.cross_entropy(model(fg.tensor(shifted[batch])), y_train[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            seen += len(batch)
            steps += 1
            if args.steps is not None and steps >= args.steps:
                break
        schedule.step()
        train_time += time.perf_counter() - start
        test_acc = float(np.mean(predict(model, x_test_t) == y_test))
        progress.set_postfix(loss=f"{total / len(x_train):.4f}", test_acc=f"{test_acc:.3f}",
                             samples_per_s=f"{seen / train_time:,.0f}")
        if args.steps is not None and steps >= args.steps:
            break
    progress.close()

    predictions = predict(model, x_test_t)
    accuracy = float(np.mean(predictions == y_test))
    train_accuracy = float(np.mean(predict(model, x_train_t) == y_train))
    print(f"test accuracy {accuracy:.2%} (train {train_accuracy:.2%}) after {steps} steps; training took "
          f"{train_time:.2f} s ({seen / train_time:,.0f} samples/s)")

    filters_path, maps_path = args.out / "first_layer_filters.png", args.out / "feature_maps.png"
    plot_filters(model[0].weight.numpy(), filters_path)
    plot_feature_maps(model, x_test[0], y_test[0], maps_path)
    model_path = args.out / "digits_cnn.safetensors"
    fg.save(model.state_dict(), model_path, metadata={"model": "cnn 16-32", "accuracy": f"{accuracy:.4f}"})

    fg.manual_seed(args.seed + 1)   # different initial weights, so the check means something
    reloaded = make_model(fg.nn)
    reloaded.load_state_dict(fg.load(model_path))
    same = bool(np.array_equal(predict(reloaded, x_test_t), predictions))
    print(f"wrote {filters_path}, {maps_path} and {model_path}; the reloaded model predicts "
          f"{'the same classes' if same else 'DIFFERENT classes'}")

    if accuracy < args.min_accuracy:
        sys.exit(f"test accuracy {accuracy:.2%} is below --min-accuracy {args.min_accuracy:.2%}")
    if not same:
        sys.exit("the reloaded model does not predict the same classes")
    return accuracy


if __name__ == "__main__":
    main()

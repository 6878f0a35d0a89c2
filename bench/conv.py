"""Convolutional layers, fastgrad against PyTorch eager (its default oneDNN path) in one run.

    python bench/conv.py [--quick] [--only conv|pool|bn|cnn] [--threads N] [--cpu-time]

Rows: Conv2d forward + backward at the small-image sizes of issue 13 (an image input needs no
input gradient, as in a first layer; the 32-channel input is an inner layer's and gets one), max
pooling 2x2 and BatchNorm2d (training mode) forward + backward at those layers' activation sizes,
and one training step of examples/train_digits_cnn.py's CNN (forward, cross-entropy, backward,
Adam). float32, batch 64 (the CNN step: the example's batch). `speed` = torch time / fastgrad time
(above 1: fastgrad is faster), medians over interleaved rounds (bench/common.py). These machines are
small, shared and noisy: read the ratios, not the absolute times. With --cpu-time (use it with
--threads 1) calls are timed in process CPU time instead of wall time: on an oversubscribed machine
wall time mostly measures the wait for a core.
"""
import argparse
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare  # noqa: E402

import fastgrad as fg  # noqa: E402
import fastgrad.nn.functional as F  # noqa: E402
import torch  # noqa: E402

# (name, input shape, out channels, the input needs a gradient)
CONV_SIZES = [("64x1x8x8 -> 16ch 3x3", (64, 1, 8, 8), 16, False),
              ("64x3x32x32 -> 32ch 3x3", (64, 3, 32, 32), 32, False),
              ("64x32x16x16 -> 64ch 3x3", (64, 32, 16, 16), 64, True)]
# the activations those convolutions produce
ACTIVATIONS = [(64, 16, 8, 8), (64, 32, 32, 32), (64, 64, 16, 16)]


def conv_case(shape, cout, input_grad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((cout, shape[1], 3, 3), dtype=np.float32) * 0.1
    b = rng.standard_normal(cout, dtype=np.float32)
    out_shape = (shape[0], cout) + shape[2:]
    g = rng.standard_normal(out_shape, dtype=np.float32)
    tx = fg.tensor(x, requires_grad=input_grad)
    tw, tb, tg = fg.tensor(w, requires_grad=True), fg.tensor(b, requires_grad=True), fg.tensor(g)
    px = torch.from_numpy(x).requires_grad_(input_grad)
    pw, pb, pg = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_(), torch.from_numpy(g)

    def fastgrad():
        tx.grad = tw.grad = tb.grad = None
        F.conv2d(tx, tw, tb, padding=1).backward(tg)

    def pytorch():
        px.grad = pw.grad = pb.grad = None
        torch.nn.functional.conv2d(px, pw, pb, padding=1).backward(pg)
    return {"fastgrad": fastgrad, "torch": pytorch}


def pool_case(shape):
    x = np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    g = np.random.default_rng(2).standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2), dtype=np.float32)
    tx, tg = fg.tensor(x, requires_grad=True), fg.tensor(g)
    px, pg = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g)

    def fastgrad():
        tx.grad = None
        F.max_pool2d(tx, 2).backward(tg)

    def pytorch():
        px.grad = None
        torch.nn.functional.max_pool2d(px, 2).backward(pg)
    return {"fastgrad": fastgrad, "torch": pytorch}


def bn_case(shape):
    x = np.random.default_rng(3).standard_normal(shape, dtype=np.float32)
    g = np.random.default_rng(4).standard_normal(shape, dtype=np.float32)
    ours, theirs = fg.nn.BatchNorm2d(shape[1]), torch.nn.BatchNorm2d(shape[1])
    tx, tg = fg.tensor(x, requires_grad=True), fg.tensor(g)
    px, pg = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g)

    def fastgrad():
        tx.grad = ours.weight.grad = ours.bias.grad = None
        ours(tx).backward(tg)

    def pytorch():
        px.grad = theirs.weight.grad = theirs.bias.grad = None
        theirs(px).backward(pg)
    return {"fastgrad": fastgrad, "torch": pytorch}


def cnn_step_case():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "train_digits_cnn.py")
    spec = importlib.util.spec_from_file_location("train_digits_cnn", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    batch = example.BATCH_SIZE
    rng = np.random.default_rng(5)
    x = rng.random((batch, 1, 8, 8), dtype=np.float32)
    y = rng.integers(0, 10, size=batch)
    fg.manual_seed(0)
    model = example.make_model(fg.nn)
    optimizer = fg.optim.Adam(model.parameters(), lr=1e-3)
    reference = example.make_model(torch.nn)
    reference_optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    tx, px, py = fg.tensor(x), torch.from_numpy(x), torch.from_numpy(y)

    def fastgrad():
        optimizer.zero_grad()
        F.cross_entropy(model(tx), y).backward()
        optimizer.step()

    def pytorch():
        reference_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(reference(px), py).backward()
        reference_optimizer.step()
    return {"fastgrad": fastgrad, "torch": pytorch}


def compare_cpu_time(contenders, rounds=7, budget=0.05):
    """Median process CPU seconds per call for each contender, interleaved over rounds."""
    for fn in contenders.values():
        fn()
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            calls, start = 0, time.process_time()
            while time.process_time() - start < budget:
                fn()
                calls += 1
            samples[name].append((time.process_time() - start) / calls)
    return {name: statistics.median(s) for name, s in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--only", choices=["conv", "pool", "bn", "cnn"])
    parser.add_argument("--threads", type=int, help="threads for both libraries (default: each its own)")
    parser.add_argument("--cpu-time", action="store_true", help="time in process CPU time (with --threads 1)")
    args = parser.parse_args()
    if args.threads:
        fg.set_num_threads(args.threads)
        torch.set_num_threads(args.threads)
    rounds = 3 if args.quick else 7
    rows = []
    if args.only in (None, "conv"):
        rows += [(f"conv2d fwd+bwd {name}", lambda s=shape, c=cout, g=grad: conv_case(s, c, g))
                 for name, shape, cout, grad in CONV_SIZES]
    if args.only in (None, "pool"):
        rows += [(f"max_pool2d 2x2 fwd+bwd {'x'.join(map(str, s))}", lambda s=s: pool_case(s)) for s in ACTIVATIONS]
    if args.only in (None, "bn"):
        rows += [(f"BatchNorm2d fwd+bwd {'x'.join(map(str, s))}", lambda s=s: bn_case(s)) for s in ACTIVATIONS]
    if args.only in (None, "cnn"):
        rows.append(("digits CNN training step", cnn_step_case))
    print(f"fastgrad {fg.kernel_path()} path, {fg.get_num_threads()} threads; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'work':48s} {'fastgrad':>10s} {'torch':>10s} {'speed':>7s}")
    for name, make in rows:
        times = compare_cpu_time(make(), rounds) if args.cpu_time else compare(make(), rounds=rounds)
        print(f"{name:48s} {times['fastgrad'] * 1e6:8.1f}us {times['torch'] * 1e6:8.1f}us "
              f"{times['torch'] / times['fastgrad']:6.2f}x", flush=True)


if __name__ == "__main__":
    main()

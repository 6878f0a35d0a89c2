"""train_digits.py's MLP trained data-parallel over MPI: every rank holds the model and takes its own
part of each global batch; gradients are averaged over the ranks after every backward.

    pip install ".[examples,distributed]"
    mpiexec -n 2 python -m mpi4py examples/train_digits_ddp.py

The global batch (--batch-size, 32 as in train_digits.py) is split over the ranks, so the training
is one process's up to the order of the data (DistributedSampler's shuffle) and the dropout masks
(each rank draws its own); the test accuracy is the same within the run-to-run spread. Rank 0 shows
the progress bar and prints the result. Exits with status 1 if the test accuracy is below
--min-accuracy. `python -m mpi4py` makes an exception on any rank end every rank.
"""
import argparse
import sys
import time

import numpy as np

import fastgrad as fg
import fastgrad.distributed as dist

try:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from tqdm import tqdm
except ImportError as e:
    sys.exit(f"this example needs scikit-learn and tqdm ({e}); install them with: pip install \".[examples]\"")


def make_model(hidden, dropout):
    return fg.nn.Sequential(fg.nn.Linear(64, hidden), fg.nn.ReLU(), fg.nn.Dropout(dropout), fg.nn.Linear(hidden, 10))


@fg.no_grad()
def accuracy(model, x, y):
    model.eval()
    return float(np.mean(model(x).numpy().argmax(axis=1) == y))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32, help="the global batch, split over the ranks")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-accuracy", type=float, default=0.97)
    args = parser.parse_args()
    rank, world = dist.rank(), dist.world_size()
    if args.batch_size % world:
        sys.exit(f"--batch-size {args.batch_size} does not split evenly over {world} ranks")

    images, labels = load_digits(return_X_y=True)
    images = (images / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(images, labels, test_size=0.25, random_state=0,
                                                        stratify=labels)
    x_test_t = fg.tensor(x_test)

    fg.manual_seed(args.seed)
    model = fg.nn.parallel.DistributedDataParallel(make_model(args.hidden, args.dropout))   # rank 0's weights
    fg.manual_seed(args.seed + 1000 * rank)   # each rank its own dropout masks
    optimizer = fg.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = fg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    sampler = fg.data.DistributedSampler(x_train, seed=args.seed)   # this rank's part of every epoch
    batches = fg.data.DataLoader(x_train, y_train, batch_size=args.batch_size // world, sampler=sampler)
    if rank == 0:
        print(f"digits: {len(x_train)} training images over {world} ranks, {len(sampler)} per rank; "
              f"global batch {args.batch_size} = {world} x {args.batch_size // world}")

    progress = tqdm(range(args.epochs), desc="training", unit="epoch", disable=rank != 0)
    train_time, loss_sum = 0.0, fg.zeros(1, dtype=fg.float64)
    for epoch in progress:
        sampler.set_epoch(epoch)   # a new shuffle, the same on every rank
        model.train()
        start, total = time.perf_counter(), 0.0
        for x, y in batches:
            optimizer.zero_grad()
            loss = fg.nn.functional.cross_entropy(model(x), y)
            loss.backward()   # ends with the gradients averaged over the ranks
            optimizer.step()
            total += loss.item() * len(y)
        schedule.step()
        train_time += time.perf_counter() - start
        loss_sum.numpy()[0] = total
        dist.all_reduce(loss_sum)   # the epoch's loss over every rank's samples
        if rank == 0:
            progress.set_postfix(loss=f"{loss_sum.item() / (len(sampler) * world):.4f}",
                                 test_acc=f"{accuracy(model, x_test_t, y_test):.3f}",
                                 samples_per_s=f"{len(sampler) * world * (epoch + 1) / train_time:,.0f}")
    progress.close()

    result = accuracy(model, x_test_t, y_test)
    if rank == 0:
        print(f"test accuracy {result:.2%} after {args.epochs} epochs on {world} ranks; training took "
              f"{train_time:.2f} s ({len(sampler) * world * args.epochs / train_time:,.0f} samples/s)")
    dist.barrier()
    if result < args.min_accuracy:
        sys.exit(f"test accuracy {result:.2%} is below --min-accuracy {args.min_accuracy:.2%}")


if __name__ == "__main__":
    main()

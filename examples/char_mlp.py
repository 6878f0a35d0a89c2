"""A makemore-style character-level MLP language model (Bengio et al. 2003) on Python's help texts.

    pip install ".[examples]"            # tqdm, matplotlib
    python examples/char_mlp.py          # a few seconds
    python examples/char_mlp.py --steps 50 --out /tmp/mlp   # a quick check

Each of the previous `--context` characters is looked up in an embedding table; the concatenated
embeddings go through a tanh hidden layer to logits over the next character; cross-entropy, SGD
with a step decay, minibatches drawn with randint. The text is the standard library's
pydoc_data.topics (no download), 90/10 train/validation. Prints the losses and samples, and plots
the loss curve and the characters' embeddings projected to 2-D (PNG).

`make_mlp` takes the library as an argument, so bench/lm.py builds the same model with PyTorch.
"""
import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import fastgrad as fg

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tqdm import tqdm
except ImportError as e:
    sys.exit(f"this example needs tqdm and matplotlib ({e}); install them with: pip install \".[examples]\"")


def load_text():
    from pydoc_data.topics import topics
    return "\n".join(topics[name] for name in sorted(topics))


def make_mlp(lib, vocab_size, context=8, n_embd=10, hidden=200):
    nn = lib.nn

    class CharMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.context = context
            self.emb = nn.Embedding(vocab_size, n_embd)
            self.hidden = nn.Linear(context * n_embd, hidden)
            self.out = nn.Linear(hidden, vocab_size)

        def forward(self, idx):
            x = self.emb(idx).view(idx.shape[0], -1)    # (B, context * n_embd): the window's embeddings side by side
            return self.out(self.hidden(x).tanh())

    return CharMLP()


def windows(data, context):
    """Every position's `context` previous characters (padded with 0 at the start) and the next one."""
    padded = np.concatenate([np.zeros(context, np.int64), data])
    rows = np.arange(len(data))[:, None] + np.arange(context)
    return padded[rows], data


@fg.no_grad()
def evaluate(model, x, y, batch=4096):
    total = 0.0
    for i in range(0, len(y), batch):
        total += fg.nn.functional.cross_entropy(model(fg.tensor(x[i:i + batch])), y[i:i + batch],
                                                reduction="sum").item()
    return total / len(y)


@fg.no_grad()
def sample(model, chars, start, length, temperature=0.8):
    idx = [0] * model.context + start
    for _ in range(length):
        logits = model(fg.tensor([idx[-model.context:]]))
        probs = fg.nn.functional.softmax(logits / temperature, dim=-1)
        idx.append(int(fg.multinomial(probs, 1).item()))
    return "".join(chars[i] for i in idx[model.context:])


def plot(history, embedding, chars, path):
    fig, (ax_loss, ax_emb) = plt.subplots(1, 2, figsize=(13, 5.5))
    ax_loss.plot(history["step"], history["loss"], alpha=0.4, label="minibatch")
    ax_loss.plot(history["eval_step"], history["val"], "o-", label="validation")
    ax_loss.set(xlabel="step", ylabel="cross-entropy (nats per character)", title="Loss")
    ax_loss.legend()
    centered = embedding - embedding.mean(axis=0)   # the 2-D projection: the top two principal components
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    xy = centered @ vt[:2].T
    ax_emb.scatter(xy[:, 0], xy[:, 1], s=120, color="lightsteelblue")
    for (px, py), c in zip(xy, chars):
        ax_emb.text(px, py, repr(c)[1:-1], ha="center", va="center", fontsize=8)
    ax_emb.set(title="Character embeddings (first two principal components)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--context", type=int, default=8)
    parser.add_argument("--embd", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("char_mlp_out"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    fg.manual_seed(args.seed)

    text = load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    x, y = windows(data, args.context)
    split = int(0.9 * len(y))
    xtr, ytr, xva, yva = x[:split], y[:split], x[split:], y[split:]
    model = make_mlp(fg, len(chars), args.context, args.embd, args.hidden)
    optimizer = fg.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = fg.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, args.steps * 3 // 4), gamma=0.1)
    print(f"{len(text):,} characters, {len(chars)} distinct; context {args.context}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")

    history = {"step": [], "loss": [], "eval_step": [], "val": []}
    eval_every = max(1, args.steps // 8)
    start = time.perf_counter()
    bar = tqdm(range(args.steps), desc="training", unit="step")
    for step in bar:
        rows = fg.randint(0, len(ytr), (args.batch_size,)).numpy()
        loss = fg.nn.functional.cross_entropy(model(fg.tensor(xtr[rows])), ytr[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        history["step"].append(step)
        history["loss"].append(loss.item())
        if step % eval_every == 0 or step == args.steps - 1:
            history["eval_step"].append(step)
            history["val"].append(evaluate(model, xva, yva))
            bar.set_postfix(loss=f"{loss.item():.3f}", val=f"{history['val'][-1]:.3f}")
    elapsed = time.perf_counter() - start
    train_loss = evaluate(model, xtr[:50000], ytr[:50000])
    print(f"trained {args.steps} steps in {elapsed:.1f}s ({args.steps / elapsed:.0f} steps/s)")
    print(f"final losses: train {train_loss:.4f}, val {history['val'][-1]:.4f} "
          f"(uniform guessing: {math.log(len(chars)):.4f})")
    fg.manual_seed(args.seed)
    for prompt in ("The ", "def ", "A list"):
        print("sample: " + repr(sample(model, chars, [stoi[c] for c in prompt], 80)))
    plot(history, model.emb.weight.numpy(), chars, args.out / "char_mlp.png")
    print(f"wrote {args.out / 'char_mlp.png'}")
    return 0 if history["val"][-1] < math.log(len(chars)) else 1


if __name__ == "__main__":
    sys.exit(main())

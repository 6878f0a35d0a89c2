"""word2vec: skip-gram with negative sampling (Mikolov et al. 2013) on the words of Python's help texts.

    pip install ".[examples]"            # tqdm, matplotlib
    python examples/word2vec.py          # about half a minute
    python examples/word2vec.py --steps 50 --out /tmp/w2v   # a quick check
    python examples/word2vec.py --compile   # the training step captured once, replayed in C

The corpus is the standard library's pydoc_data.topics (about 64 thousand words), lower-cased. Words
seen fewer than --min-count times are dropped; frequent words are subsampled (kept with probability
sqrt(t/f) + t/f); each kept word predicts the words within a random window of up to --window on
either side, against --negatives words drawn from the unigram distribution raised to 0.75 (a
sampling table read with randint, as word2vec.c does). Both embedding tables are sparse
(nn.Embedding(sparse=True)): a step's gradient and SparseAdam's update touch only the rows it saw.
Prints words per second and the nearest neighbours of a few words; plots a 2-D projection (PNG).

`make_model` takes the library as an argument, so bench/lm.py trains the same model with PyTorch.
"""
import argparse
import re
import sys
import time
from collections import Counter
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

PROBES = ["list", "function", "class", "string", "integer", "exception", "file", "true"]


def load_words():
    from pydoc_data.topics import topics
    return re.findall(r"[a-z]+", "\n".join(topics[name] for name in sorted(topics)).lower())


class Corpus:
    """The vocabulary, the corpus as word ids, and the two samplers: subsampling and negatives."""

    def __init__(self, words, min_count=3, subsample=1e-3, table_size=1_000_000):
        counts = Counter(words)
        self.words = [w for w, c in counts.most_common() if c >= min_count]
        self.index = {w: i for i, w in enumerate(self.words)}
        self.ids = np.array([self.index[w] for w in words if w in self.index], dtype=np.int64)
        freq = np.array([counts[w] for w in self.words], dtype=np.float64)
        f = freq / freq.sum()
        self.keep_prob = np.minimum(1.0, np.sqrt(subsample / f) + subsample / f)
        unigram = freq ** 0.75
        # word i fills a share of the table proportional to count^0.75: randint into it draws a negative
        self.table = np.repeat(np.arange(len(freq)), np.round(unigram / unigram.sum() * table_size).astype(np.int64))

    def pairs(self, window, rng):
        """(center, context) pairs of one pass: subsampled words, each with a window of random width."""
        ids = self.ids[rng.random(len(self.ids)) < self.keep_prob[self.ids]]
        widths = rng.integers(1, window + 1, len(ids))
        centers, contexts = [], []
        for offset in range(1, window + 1):
            use = widths >= offset
            for sign in (-1, 1):
                pos = np.arange(len(ids))[use]
                other = pos + sign * offset
                ok = (other >= 0) & (other < len(ids))
                centers.append(ids[pos[ok]])
                contexts.append(ids[other[ok]])
        centers, contexts = np.concatenate(centers), np.concatenate(contexts)
        order = rng.permutation(len(centers))
        return centers[order], contexts[order]


def make_model(lib, vocab_size, dim):
    nn, F = lib.nn, lib.nn.functional

    class SkipGram(nn.Module):
        def __init__(self):
            super().__init__()
            self.center = nn.Embedding(vocab_size, dim, sparse=True)
            self.context = nn.Embedding(vocab_size, dim, sparse=True)
            with lib.no_grad():   # word2vec.c's start: small random input vectors, zero output vectors
                nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
                nn.init.zeros_(self.context.weight)

        def forward(self, centers, targets, signs):
            """targets: (B, 1 + negatives), the true context first; signs: +1 for it, -1 for the negatives."""
            u = self.center(centers).unsqueeze(1)               # (B, 1, dim)
            scores = (self.context(targets) * u).sum(-1)        # (B, 1 + negatives)
            return -F.logsigmoid(scores * signs).sum(-1).mean()

    return SkipGram()


def batches(corpus, centers, contexts, batch_size, negatives, lib=fg):
    """(centers, targets, signs) minibatches: negatives drawn from the unigram^0.75 table with randint."""
    signs = lib.tensor(np.array([1.0] + [-1.0] * negatives, dtype=np.float32))
    table = corpus.table
    for i in range(0, len(centers) - batch_size + 1, batch_size):
        neg = table[lib.randint(0, len(table), (batch_size, negatives)).numpy()]
        targets = np.concatenate([contexts[i:i + batch_size, None], neg], axis=1)
        yield lib.tensor(centers[i:i + batch_size]), lib.tensor(targets), signs


def nearest(embedding, words, index, probe, k=6):
    unit = embedding / np.maximum(np.linalg.norm(embedding, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit[index[probe]]
    return [(words[j], sims[j]) for j in np.argsort(-sims)[1:k + 1]]


def plot(embedding, words, path, count=120):
    vecs = embedding[:count] - embedding[:count].mean(axis=0)
    _, _, vt = np.linalg.svd(vecs, full_matrices=False)
    xy = vecs @ vt[:2].T
    fig, ax = plt.subplots(figsize=(11, 9))
    ax.scatter(xy[:, 0], xy[:, 1], s=6, color="steelblue")
    for (px, py), w in zip(xy, words[:count]):
        ax.annotate(w, (px, py), fontsize=7)
    ax.set(title=f"word2vec on pydoc_data.topics: the {count} most frequent words, first two principal components")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--window", type=int, default=4)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("word2vec_out"))
    parser.add_argument("--compile", action="store_true",
                        help="record the training step once (fg.compile) and replay it in C after that")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    fg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    corpus = Corpus(load_words(), args.min_count)
    model = make_model(fg, len(corpus.words), args.dim)
    optimizer = fg.optim.SparseAdam(model.parameters(), lr=args.lr)
    print(f"{len(corpus.ids):,} words in the corpus, vocabulary of {len(corpus.words):,} (min count "
          f"{args.min_count}), {args.dim}-d embeddings, {args.negatives} negatives per pair")

    def train_step(c, t, s):   # the loss's .item() stays outside: a replay runs no Python
        loss = model(c, t, s)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    train = fg.compile(train_step) if args.compile else train_step

    bar = tqdm(total=args.steps, desc="training", unit="batch")
    losses, pairs_done, words_done, step, elapsed = [], 0, 0, 0, 0.0
    while step < args.steps:
        centers, contexts = corpus.pairs(args.window, rng)   # a new pass: new subsample, new windows
        pairs_per_word = len(centers) / len(corpus.ids)
        start = time.perf_counter()
        for c, t, s in batches(corpus, centers, contexts, args.batch_size, args.negatives):
            loss = train(c, t, s)
            step += 1
            pairs_done += args.batch_size
            losses.append(loss.item())
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
            if step >= args.steps:
                break
        elapsed += time.perf_counter() - start
        words_done = pairs_done / pairs_per_word
    bar.close()
    print(f"trained {step} batches ({pairs_done:,} pairs, {words_done:,.0f} corpus words) in {elapsed:.1f}s: "
          f"{words_done / elapsed:,.0f} words/s, {pairs_done / elapsed:,.0f} pairs/s")
    tenth = max(1, len(losses) // 10)
    first, last = np.mean(losses[:tenth]), np.mean(losses[-tenth:])
    print(f"final loss (mean of the last {tenth} batches): {last:.4f} (first {tenth}: {first:.4f})")
    embedding = fg.nn.functional.normalize(model.center.weight.detach(), dim=1).numpy()
    for probe in PROBES:
        if probe in corpus.index:
            near = ", ".join(f"{w} {s:.2f}" for w, s in nearest(embedding, corpus.words, corpus.index, probe))
            print(f"nearest to {probe!r}: {near}")
    plot(embedding, corpus.words, args.out / "word2vec.png")
    print(f"wrote {args.out / 'word2vec.png'}")
    return 0 if last < first else 1


if __name__ == "__main__":
    sys.exit(main())

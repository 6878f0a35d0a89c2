"""A small decoder-only transformer (a character-level GPT) trained on Python's own help texts.

    pip install ".[examples]"            # tqdm, matplotlib
    python examples/char_gpt.py          # about a minute on two cores
    python examples/char_gpt.py --steps 20 --out /tmp/gpt   # a quick check

The text is the English help that ships in every Python installation (the standard library's
pydoc_data.topics, about 460 thousand characters), split 90/10 into training and validation. The
model is nanoGPT's: token and position embeddings, pre-LayerNorm blocks of causal self-attention
(F.scaled_dot_product_attention, fused causal softmax) and a GELU MLP, a final LayerNorm and a linear
head; AdamW with weight decay on the matrices only, gradient clipping, warmup then cosine decay. It
prints the losses and a sample, saves the model (safetensors), reloads it into a fresh model and
checks that it gives the same logits, and plots the training and validation loss (PNG).

`make_gpt` takes the library as an argument: the same code builds the model with PyTorch, which is
how bench/lm.py compares the two.
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
    matplotlib.use("Agg")   # files only, no display needed
    import matplotlib.pyplot as plt
    from tqdm import tqdm
except ImportError as e:
    sys.exit(f"this example needs tqdm and matplotlib ({e}); install them with: pip install \".[examples]\"")


def load_text():
    from pydoc_data.topics import topics
    return "\n".join(topics[name] for name in sorted(topics))


def make_gpt(lib, vocab_size, block_size=64, n_layer=2, n_head=4, n_embd=64, dropout=0.0):
    """The GPT, written once against PyTorch's API: lib is fastgrad or torch."""
    nn, F = lib.nn, lib.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)   # query, key and value in one product
            self.c_proj = nn.Linear(n_embd, n_embd)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))   # (B, heads, T, hd)
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout if self.training else 0.0, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(n_embd), CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.block_size = block_size
            self.wte, self.wpe = nn.Embedding(vocab_size, n_embd), nn.Embedding(block_size, n_embd)
            self.blocks = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.register_buffer("pos", lib.arange(block_size), persistent=False)
            self.apply(self._init_weights)

        @staticmethod
        def _init_weights(module):   # GPT-2's: N(0, 0.02) weights, zero biases
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

        def forward(self, idx, targets=None):
            B, T = idx.shape
            x = self.wte(idx) + self.wpe(self.pos[:T])
            for block in self.blocks:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            if targets is None:
                return logits, None
            return logits, F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))

    return GPT()


def make_optimizer(lib, model, lr, weight_decay):
    """AdamW, decaying the matrices (embeddings, linear weights) but not biases and LayerNorm gains."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    return lib.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                            {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.99))


def get_batch(data, block_size, batch_size, lib=fg):
    """batch_size random windows of the text (start positions from randint) and the same shifted by one."""
    starts = lib.randint(0, len(data) - block_size - 1, (batch_size,)).numpy()
    rows = starts[:, None] + np.arange(block_size)
    return lib.tensor(data[rows]), lib.tensor(data[rows + 1])


def lr_at(step, steps, lr, warmup):
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup))))


@fg.no_grad()
def estimate_loss(model, splits, block_size, batch_size, batches):
    model.eval()
    out = {}
    for name, data in splits.items():
        fg.manual_seed(1234)   # the same windows at every evaluation
        out[name] = float(np.mean([model(*get_batch(data, block_size, batch_size))[1].item() for _ in range(batches)]))
    model.train()
    return out


@fg.no_grad()
def sample(model, context, length, temperature=0.8):
    model.eval()
    idx = list(context)
    for _ in range(length):
        window = fg.tensor([idx[-model.block_size:]])
        logits, _ = model(window)
        probs = fg.nn.functional.softmax(logits[0, -1:] / temperature, dim=-1)
        idx.append(int(fg.multinomial(probs, 1).item()))
    model.train()
    return idx


def plot(history, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history["step"], history["train"], label="train")
    ax.plot(history["step"], history["val"], label="validation")
    ax.set(xlabel="step", ylabel="cross-entropy (nats per character)", title="char GPT on pydoc_data.topics")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--embd", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--eval-batches", type=int, default=8)
    parser.add_argument("--sample-length", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("char_gpt_out"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    fg.manual_seed(args.seed)

    text = load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    splits = {"train": data[:split], "val": data[split:]}
    config = dict(vocab_size=len(chars), block_size=args.block_size, n_layer=args.layers, n_head=args.heads,
                  n_embd=args.embd)
    model = make_gpt(fg, **config)
    optimizer = make_optimizer(fg, model, args.lr, args.weight_decay)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(text):,} characters, {len(chars)} distinct; GPT with {args.layers} layers, {args.heads} heads, "
          f"{args.embd}-d embeddings, context {args.block_size}: {n_params:,} parameters")

    history = {"step": [], "train": [], "val": []}
    start = time.perf_counter()
    bar = tqdm(range(args.steps), desc="training", unit="step")
    for step in bar:
        if step % args.eval_every == 0 or step == args.steps - 1:
            losses = estimate_loss(model, splits, args.block_size, args.batch_size, args.eval_batches)
            history["step"].append(step)
            history["train"].append(losses["train"])
            history["val"].append(losses["val"])
            bar.set_postfix(train=f"{losses['train']:.3f}", val=f"{losses['val']:.3f}")
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, warmup=min(50, args.steps // 10 + 1))
        x, y = get_batch(splits["train"], args.block_size, args.batch_size)
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        fg.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    elapsed = time.perf_counter() - start
    chars_per_s = args.steps * args.batch_size * args.block_size / elapsed
    print(f"trained {args.steps} steps in {elapsed:.1f}s ({args.steps / elapsed:.1f} steps/s, "
          f"{chars_per_s:,.0f} characters/s)")
    print(f"final losses: train {history['train'][-1]:.4f}, val {history['val'][-1]:.4f} "
          f"(uniform guessing: {math.log(len(chars)):.4f})")

    fg.manual_seed(args.seed)
    generated = sample(model, [stoi[c] for c in "The "], args.sample_length)
    print("sample:\n" + "".join(chars[i] for i in generated))

    path = args.out / "char_gpt.safetensors"
    fg.save(model.state_dict(), path)
    reloaded = make_gpt(fg, **config)
    reloaded.load_state_dict(fg.load(path))
    with fg.no_grad():
        x, _ = get_batch(splits["val"], args.block_size, 4)
        same = np.array_equal(model.eval()(x)[0].numpy(), reloaded.eval()(x)[0].numpy())
    print(f"saved {path} ({path.stat().st_size:,} bytes); "
          + ("the reloaded model gives the same logits" if same else "THE RELOADED MODEL DIFFERS"))
    plot(history, args.out / "char_gpt_loss.png")
    print(f"wrote {args.out / 'char_gpt_loss.png'}")
    return 0 if same and history["val"][-1] < math.log(len(chars)) else 1


if __name__ == "__main__":
    sys.exit(main())

"""The language-model work against PyTorch eager, in one run: LayerNorm and GELU forward+backward at
GPT-like sizes, a training step of examples/char_gpt.py's model and of examples/char_mlp.py's,
word2vec's skip-gram step (examples/word2vec.py), and the GPT step's peak memory.

    python bench/lm.py [--rounds 7] [--threads 1] [--only TEXT] [--no-memory]

The models are the examples' own `make_*` functions called with fastgrad and with torch, so both
run the same code on the same batches. Timing is bench/common.py's: contenders interleaved round by
round, medians. By default both libraries run on one thread and time is the thread's CPU time
(time.thread_time): the 2-core machines here are shared by several people, and wall time then
mostly measures the others. `speed` is torch's time over fastgrad's (above 1: fastgrad is faster).

Memory: each library trains the GPT for --memory-steps steps in a fresh subprocess that imports only
that library. After the imports, the data and the model are ready, the subprocess resets its peak
resident set (writing 5 to /proc/self/clear_refs) and records its resident set (VmRSS); after
training it reads the peak (VmHWM, /proc/self/status). Reported: the peak, and the peak minus the
resident set before training, i.e. what training added at its highest. (getrusage's ru_maxrss is
no use here: Linux carries it over from the parent process.)
"""
import argparse
from inspect import signature
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
from common import compare  # noqa: E402

import torch  # noqa: E402

import fastgrad as fg  # noqa: E402
import char_gpt  # noqa: E402
import char_mlp  # noqa: E402
import word2vec  # noqa: E402

LIBS = {"fastgrad": fg, "torch": torch}


def layer_case(kind, rows=32 * 64, cols=128):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((rows, cols), dtype=np.float32), rng.standard_normal((rows, cols), dtype=np.float32)
    w, b = rng.standard_normal(cols, dtype=np.float32), rng.standard_normal(cols, dtype=np.float32)
    case = {}
    for name, lib in LIBS.items():
        F = lib.nn.functional
        tx, tw, tb = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        tg = lib.tensor(g)
        if kind == "layernorm":
            def run(F=F, tx=tx, tw=tw, tb=tb, tg=tg):
                tx.grad = tw.grad = tb.grad = None
                F.layer_norm(tx, (cols,), tw, tb).backward(tg)
        else:
            def run(F=F, tx=tx, tg=tg):
                tx.grad = None
                F.gelu(tx, approximate=kind.split()[-1]).backward(tg)
        case[name] = run
    return case


def _text_ids():
    text = char_gpt.load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    return np.array([stoi[c] for c in text], dtype=np.int64), len(chars)


def gpt_case(batch=32, block=64):
    data, vocab = _text_ids()
    case = {}
    for name, lib in LIBS.items():
        lib.manual_seed(0)
        model = char_gpt.make_gpt(lib, vocab, block_size=block)
        optimizer = char_gpt.make_optimizer(lib, model, 1e-3, 0.1)
        x, y = char_gpt.get_batch(data, block, batch, lib)

        def step(lib=lib, model=model, optimizer=optimizer, x=x, y=y):
            _, loss = model(x, y)
            optimizer.zero_grad()
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        case[name] = step
    return case


def mlp_case(batch=64, context=8):
    data, vocab = _text_ids()
    x, y = char_mlp.windows(data, context)
    rows = np.random.default_rng(0).integers(0, len(y), batch)
    case = {}
    for name, lib in LIBS.items():
        lib.manual_seed(0)
        model = char_mlp.make_mlp(lib, vocab, context)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        xb, yb = lib.tensor(x[rows]), lib.tensor(y[rows])

        def step(lib=lib, model=model, optimizer=optimizer, xb=xb, yb=yb):
            loss = lib.nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        case[name] = step
    return case


def word2vec_case(batch=512, negatives=5, dim=64):
    corpus = word2vec.Corpus(word2vec.load_words())
    centers, contexts = corpus.pairs(4, np.random.default_rng(0))
    pairs_per_word = len(centers) / len(corpus.ids)
    case = {}
    for name, lib in LIBS.items():
        lib.manual_seed(0)
        model = word2vec.make_model(lib, len(corpus.words), dim)
        optimizer = lib.optim.SparseAdam(model.parameters(), lr=0.01)
        batches = list(word2vec.batches(corpus, centers[:batch * 8], contexts[:batch * 8], batch, negatives, lib))
        state = {"i": 0}

        def step(model=model, optimizer=optimizer, batches=batches, state=state):
            c, t, s = batches[state["i"] % len(batches)]
            state["i"] += 1
            loss = model(c, t, s)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        case[name] = step
    return case, batch / pairs_per_word


MEMORY_SCRIPT = """
import sys
sys.path.insert(0, {examples!r})
import numpy as np
import {lib} as lib
import char_gpt
lib.set_num_threads({threads})
text = char_gpt.load_text(); chars = sorted(set(text)); stoi = {{c: i for i, c in enumerate(chars)}}
data = np.array([stoi[c] for c in text], dtype=np.int64)
lib.manual_seed(0)
model = char_gpt.make_gpt(lib, len(chars))
optimizer = char_gpt.make_optimizer(lib, model, 1e-3, 0.1)
def status(key):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key))
open("/proc/self/clear_refs", "w").write("5")
base = status("VmRSS:")
for _ in range({steps}):
    x, y = char_gpt.get_batch(data, 64, 32, lib)
    _, loss = model(x, y)
    optimizer.zero_grad()
    loss.backward()
    lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
print(base, status("VmHWM:"))
"""


def gpt_memory(steps, threads):
    out = {}
    for name in LIBS:
        script = MEMORY_SCRIPT.format(examples=os.path.join(HERE, "..", "examples"), lib=name, steps=steps,
                                      threads=threads)
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        base, peak = map(int, run.stdout.split())
        out[name] = (base / 1024, peak / 1024)   # KiB -> MiB
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--wall", action="store_true", help="wall time instead of the thread's CPU time")
    parser.add_argument("--only", metavar="TEXT")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--memory-steps", type=int, default=20)
    args = parser.parse_args()
    fg.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.wall or args.threads > 1 else time.thread_time
    if "clock" not in signature(compare).parameters:   # an older bench/common.py: wall time only
        clock = time.perf_counter
    print(f"fastgrad {fg.__version__}, torch {torch.__version__}, {args.threads} thread(s), "
          f"{'wall' if clock is time.perf_counter else 'thread CPU'} time, medians of {args.rounds} rounds")
    print(f"{'work':48s} {'fastgrad':>11s} {'torch':>11s} {'speed':>7s}")
    cases = [("LayerNorm fwd+bwd (32*64, 128)", lambda: layer_case("layernorm")),
             ("GELU fwd+bwd (32*64, 128)", lambda: layer_case("gelu none")),
             ("GELU tanh fwd+bwd (32*64, 128)", lambda: layer_case("gelu tanh")),
             ("char-GPT training step (2 layers, 64-d, 32x64)", gpt_case),
             ("char-MLP training step (batch 64)", mlp_case),
             ("word2vec step (512 pairs, 5 negatives)", word2vec_case)]
    for name, make in cases:
        if args.only and args.only not in name:
            continue
        made = make()
        case, words_per_call = made if isinstance(made, tuple) else (made, None)
        t = compare(case, rounds=args.rounds, **({"clock": clock} if clock is time.thread_time else {}))
        line = f"{name:48s} {t['fastgrad'] * 1e3:9.3f}ms {t['torch'] * 1e3:9.3f}ms {t['torch'] / t['fastgrad']:6.2f}x"
        if words_per_call:
            line += (f"   words/s: fastgrad {words_per_call / t['fastgrad']:,.0f}, "
                     f"torch {words_per_call / t['torch']:,.0f}")
        print(line, flush=True)
    if not args.no_memory and not args.only:
        mem = gpt_memory(args.memory_steps, args.threads)
        for name, (base, peak) in mem.items():
            print(f"GPT {args.memory_steps} steps, {name:8s}: peak RSS {peak:7.1f} MiB, before training "
                  f"{base:7.1f} MiB, added by training {peak - base:6.1f} MiB")


if __name__ == "__main__":
    main()

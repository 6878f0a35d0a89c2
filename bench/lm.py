"""The language-model work against PyTorch eager: Embedding (dense and sparse), LayerNorm and GELU
forward+backward at GPT-like sizes, a training step of examples/char_gpt.py's model and of
examples/char_mlp.py's, word2vec's skip-gram step (examples/word2vec.py), and the GPT step's peak
memory.

    python bench/lm.py [--rounds 7] [--threads 1] [--only TEXT] [--no-memory]

The models are the examples' own `make_*` functions called with fastgrad and with torch, so both
run the same code on the same batches. Each library runs in a worker process of its own that
imports only that library (as users run them): in one process the two share glibc's heap, and
once PyTorch has run, glibc gives freed memory back to the system at other moments, so that each
fastgrad GPT step touched ~3,500 fresh pages (7 ms of page faults on a 27 ms step) and some torch
layers slowed down too. Timing is bench/common.py's, with the workers taking turns round by round,
medians. By default both libraries run on one thread and time is the thread's CPU time
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
import importlib
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
from common import time_per_call  # noqa: E402

import char_gpt  # noqa: E402   (the examples import fastgrad; only the worker's library is used)
import char_mlp  # noqa: E402
import word2vec  # noqa: E402


def layer_case(lib, kind, rows=32 * 64, cols=128):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((rows, cols), dtype=np.float32), rng.standard_normal((rows, cols), dtype=np.float32)
    w, b = rng.standard_normal(cols, dtype=np.float32), rng.standard_normal(cols, dtype=np.float32)
    F = lib.nn.functional
    tx, tw, tb = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = lib.tensor(g)
    if kind == "layernorm":
        def run():
            tx.grad = tw.grad = tb.grad = None
            F.layer_norm(tx, (cols,), tw, tb).backward(tg)
    else:
        def run():
            tx.grad = None
            F.gelu(tx, approximate=kind.split()[-1]).backward(tg)
    return run


def embedding_case(lib, sparse, num=10000, dim=128, batch=32, block=64):
    """A word-level table (num x dim) looked up at (batch, block) indices, forward and backward."""
    lib.manual_seed(0)
    emb = lib.nn.Embedding(num, dim, sparse=sparse)
    rng = np.random.default_rng(0)
    idx = lib.tensor(rng.integers(0, num, (batch, block)))
    g = lib.tensor(rng.standard_normal((batch, block, dim), dtype=np.float32))

    def run():
        emb.weight.grad = None
        emb(idx).backward(g)
    return run


def _text_ids():
    text = char_gpt.load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    return np.array([stoi[c] for c in text], dtype=np.int64), len(chars)


def gpt_case(lib, batch=32, block=64):
    data, vocab = _text_ids()
    lib.manual_seed(0)
    model = char_gpt.make_gpt(lib, vocab, block_size=block)
    optimizer = char_gpt.make_optimizer(lib, model, 1e-3, 0.1)
    x, y = char_gpt.get_batch(data, block, batch, lib)

    def step():
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return step


def mlp_case(lib, batch=64, context=8):
    data, vocab = _text_ids()
    x, y = char_mlp.windows(data, context)
    rows = np.random.default_rng(0).integers(0, len(y), batch)
    lib.manual_seed(0)
    model = char_mlp.make_mlp(lib, vocab, context)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    xb, yb = lib.tensor(x[rows]), lib.tensor(y[rows])

    def step():
        loss = lib.nn.functional.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def word2vec_case(lib, batch=512, negatives=5, dim=64):
    """The step, and the words of text one step covers (for words per second)."""
    corpus = word2vec.Corpus(word2vec.load_words())
    centers, contexts = corpus.pairs(4, np.random.default_rng(0))
    pairs_per_word = len(centers) / len(corpus.ids)
    lib.manual_seed(0)
    model = word2vec.make_model(lib, len(corpus.words), dim)
    optimizer = lib.optim.SparseAdam(model.parameters(), lr=0.01)
    batches = list(word2vec.batches(corpus, centers[:batch * 8], contexts[:batch * 8], batch, negatives, lib))
    state = {"i": 0}

    def step():
        c, t, s = batches[state["i"] % len(batches)]
        state["i"] += 1
        loss = model(c, t, s)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step, batch / pairs_per_word


CASES = [("Embedding fwd+bwd dense (10000x128, 32x64 ids)", lambda lib: embedding_case(lib, sparse=False)),
         ("Embedding fwd+bwd sparse (10000x128, 32x64 ids)", lambda lib: embedding_case(lib, sparse=True)),
         ("LayerNorm fwd+bwd (32*64, 128)", lambda lib: layer_case(lib, "layernorm")),
         ("GELU fwd+bwd (32*64, 128)", lambda lib: layer_case(lib, "gelu none")),
         ("GELU tanh fwd+bwd (32*64, 128)", lambda lib: layer_case(lib, "gelu tanh")),
         ("char-GPT training step (2 layers, 64-d, 32x64)", gpt_case),
         ("char-MLP training step (batch 64)", mlp_case),
         ("word2vec step (512 pairs, 5 negatives)", word2vec_case)]


def worker(name, threads, wall):
    """Serves the parent over stdin/stdout: a line "<case index> <pause> <budget>" is answered by
    the seconds per call of that case (built on first use, with one untimed call)."""
    lib = importlib.import_module(name)
    lib.set_num_threads(threads)
    clock = time.perf_counter if wall else time.thread_time
    built = {}
    for line in sys.stdin:
        index, pause, budget = line.split()
        index = int(index)
        if index not in built:
            made = CASES[index][1](lib)
            built[index] = made if isinstance(made, tuple) else (made, None)
            built[index][0]()
        time.sleep(float(pause))
        print(time_per_call(built[index][0], float(budget), clock), built[index][1], flush=True)


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
    for name in ("fastgrad", "torch"):
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
    parser.add_argument("--budget", type=float, default=0.2,
                        help="seconds of calls per timed block (several GPT steps, not only the first after a pause)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    wall = args.wall or args.threads > 1
    if args.worker:
        return worker(args.worker, args.threads, wall)
    names = ("fastgrad", "torch")
    workers = {name: subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", name, "--threads",
                                       str(args.threads)] + (["--wall"] if wall else []),
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for name in names}
    versions = subprocess.run([sys.executable, "-c", "import fastgrad, torch; print(fastgrad.__version__, "
                               "torch.__version__)"], capture_output=True, text=True, check=True).stdout.split()
    print(f"fastgrad {versions[0]}, torch {versions[1]}, {args.threads} thread(s), {'wall' if wall else 'thread CPU'} "
          f"time, medians of {args.rounds} rounds, one process per library")
    print(f"{'work':48s} {'fastgrad':>11s} {'torch':>11s} {'speed':>7s}")
    for index, (label, _) in enumerate(CASES):
        if args.only and args.only not in label:
            continue
        samples = {name: [] for name in names}
        words_per_call = None
        for _ in range(args.rounds):   # the libraries take turns, as bench/common.py's compare does
            for name in names:
                workers[name].stdin.write(f"{index} 0.15 {args.budget}\n")
                workers[name].stdin.flush()
                seconds, words = workers[name].stdout.readline().split()
                samples[name].append(float(seconds))
                words_per_call = None if words == "None" else float(words)
        t = {name: statistics.median(s) for name, s in samples.items()}
        line = f"{label:48s} {t['fastgrad'] * 1e3:9.3f}ms {t['torch'] * 1e3:9.3f}ms {t['torch'] / t['fastgrad']:6.2f}x"
        if words_per_call:
            line += (f"   words/s: fastgrad {words_per_call / t['fastgrad']:,.0f}, "
                     f"torch {words_per_call / t['torch']:,.0f}")
        print(line, flush=True)
    for w in workers.values():
        w.stdin.close()
        w.wait()
    if not args.no_memory and not args.only:
        mem = gpt_memory(args.memory_steps, args.threads)
        for name, (base, peak) in mem.items():
            print(f"GPT {args.memory_steps} steps, {name:8s}: peak RSS {peak:7.1f} MiB, before training "
                  f"{base:7.1f} MiB, added by training {peak - base:6.1f} MiB")


if __name__ == "__main__":
    main()

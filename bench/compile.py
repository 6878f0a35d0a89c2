"""Captured steps against eager ones, in one run, medians over interleaved rounds:

  mlp      the 64->32->10 MLP, batch 32, forward + cross-entropy + backward + SGD (momentum 0.9):
           fastgrad eager, fastgrad compiled (fg.compile), PyTorch eager and, when installed, JAX
           jax.jit of the same step (not a dependency: pip install jax jaxlib); then the same for
           784->256->256->10 at batch 128 and 1024->1024->1024->10 at batch 512 (no JAX);
  digits   20 epochs of examples/train_digits.py's training (64->64->10, dropout 0.2, AdamW, batch
           32, a cosine schedule, the loss read each step) compiled, eager and under jax.jit;
  cnn      a step of examples/train_digits_cnn.py's model (batch 32, AdamW), compiled and eager
           against PyTorch eager;
  gpt      a training step of examples/char_gpt.py's model (batch 32 x 64 tokens, AdamW, gradient
           clipping), compiled and eager against PyTorch eager;
  word2vec a step of examples/word2vec.py (skip-gram, batch 512 x (1 + 5 negatives), 64-d sparse
           embeddings, SparseAdam) over the example's own batches, compiled and eager against PyTorch
           eager (nn.Embedding(sparse=True) and optim.SparseAdam there too).

    python bench/compile.py [--rounds 7] [--only mlp,digits,cnn,gpt,word2vec] [--cpu-time] [--torch-threads 1]

Each row but digits also reports what recording its plan cost, in its eager steps: the process's first
recording of that step, and the median over five fresh models (recording_costs).

--cpu-time times with time.process_time (CPU time of the whole process): on a shared, loaded
machine it leaves out the time slices other processes took. Noisy machines: quote the ratios.
"""
import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import compare  # noqa: E402

import fastgrad as fg  # noqa: E402


def training_step(lib, model, opt):
    """The step every row times, for fastgrad or torch: zero_grad, cross-entropy, backward, step."""
    def step(x, y):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def mlp_step(lib, sizes, lr):
    """The SGD (momentum 0.9) step of an MLP of these widths, ReLU between layers, in fastgrad or torch."""
    lib.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [lib.nn.Linear(a, b)] + ([lib.nn.ReLU()] if i < len(sizes) - 2 else [])
    model = lib.nn.Sequential(*layers)
    return training_step(lib, model, lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9))


def jax_step(sizes, lr):
    import jax
    import jax.numpy as jnp
    keys = jax.random.split(jax.random.PRNGKey(0), len(sizes))
    params = [(jax.random.normal(k, (a, b)) * (1 / a) ** 0.5, jnp.zeros(b)) for k, a, b in zip(keys, sizes, sizes[1:])]
    momentum = jax.tree_util.tree_map(jnp.zeros_like, params)

    def loss_fn(params, x, y):
        for i, (w, b) in enumerate(params):
            x = x @ w + b
            if i < len(params) - 1:
                x = jax.nn.relu(x)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(x), y[:, None], axis=1))

    @jax.jit
    def update(params, momentum, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        momentum = jax.tree_util.tree_map(lambda m, g: 0.9 * m + g, momentum, grads)
        params = jax.tree_util.tree_map(lambda p, m: p - lr * m, params, momentum)
        return params, momentum, loss
    state = [params, momentum]

    def step(x, y):
        state[0], state[1], loss = update(state[0], state[1], x, y)
        return loss.block_until_ready()
    return step


def mlp_rows(args, clock):
    for sizes, batch, with_jax in (([64, 32, 10], 32, True), ([784, 256, 256, 10], 128, False),
                                   ([1024, 1024, 1024, 10], 512, False)):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], batch)
        fx, fy = fg.tensor(x), fg.tensor(y)
        eager = mlp_step(fg, sizes, 0.01)
        compiled = fg.compile(mlp_step(fg, sizes, 0.01))
        contenders = {"fastgrad eager": lambda: eager(fx, fy), "fastgrad compiled": lambda: compiled(fx, fy)}
        try:
            import torch
            tstep, tx, ty = mlp_step(torch, sizes, 0.01), torch.from_numpy(x), torch.from_numpy(y)
            contenders["torch eager"] = lambda: tstep(tx, ty)
        except ImportError:
            pass
        if with_jax:
            try:
                import jax.numpy as jnp
                jstep, jx, jy = jax_step(sizes, 0.01), jnp.asarray(x), jnp.asarray(y)
                contenders["jax jit"] = lambda: jstep(jx, jy)
            except ImportError:
                print("jax not installed: no JAX row (pip install jax jaxlib)")
        recording = recording_costs(lambda: fg.compile(mlp_step(fg, sizes, 0.01)), compiled, (fx, fy), clock)
        rounds = args.rounds if sizes[1] < 1024 else max(3, args.rounds // 2)
        times = compare(contenders, rounds=rounds, budget=0.03 if sizes[1] < 1024 else 0.3, clock=clock)
        report(f"{'->'.join(map(str, sizes))} MLP, batch {batch}, SGD momentum step", times, rounds, recording)


def recording_costs(fresh, compiled, args, clock, fresh_recordings=5):
    """The capture's cost, before the row is timed: (the recording call of `compiled`, this step's
    first in the process, which also meets the step's kernels for the first time; the median of
    the recording calls of `fresh_recordings` more compiled steps made by fresh()). Each recording
    is a compiled function's second call; its first, the eager warm-up, is not counted."""
    def recording(step):
        step(*args)
        start = clock()
        step(*args)
        return clock() - start
    first = recording(compiled)
    return first, statistics.median(recording(fresh()) for _ in range(fresh_recordings))


def report(title, times, rounds, recording=None, base="fastgrad compiled"):
    print(f"{title}; {platform.processor() or platform.machine()}, {fg.get_num_threads()} threads; "
          f"medians of {rounds} rounds")
    for name, t in times.items():
        unit, scale = ("ms", 1e3) if t > 1e-2 else ("us", 1e6)
        print(f"  {name:18s} {t * scale:9.1f} {unit}   {t / times[base]:6.2f}x the {base} time")
    if recording:
        first, later = recording
        eager = times["fastgrad eager"]
        print(f"  recording the plan took {later * 1e3:.2f} ms = {later / eager:.1f} eager steps (median of 5 fresh "
              f"models); the process's first recording of this step {first * 1e3:.2f} ms = {first / eager:.1f}")


def digit_batches(batch=32, epochs=20, seed=0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    images, labels = load_digits(return_X_y=True)
    images = (images / 16.0).astype(np.float32)
    x_train, _, y_train, _ = train_test_split(images, labels, test_size=0.25, random_state=0, stratify=labels)
    rng = np.random.default_rng(seed)
    epochs_of = []
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        epochs_of.append([(x_train[order[i:i + batch]], y_train[order[i:i + batch]])
                          for i in range(0, len(order), batch)])
    return epochs_of


def fastgrad_digits(epochs_of, compiled, lr=3e-3, hidden=64):
    fg.manual_seed(0)
    model = fg.nn.Sequential(fg.nn.Linear(64, hidden), fg.nn.ReLU(), fg.nn.Dropout(0.2), fg.nn.Linear(hidden, 10))
    optimizer = fg.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = fg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=len(epochs_of))

    train_step = training_step(fg, model, optimizer)
    step = fg.compile(train_step) if compiled else train_step

    def run():
        total = 0.0
        for batches in epochs_of:
            model.train()
            for x, y in batches:
                total += step(fg.tensor(x), fg.tensor(y)).item()
            schedule.step()
        return total
    return run


def jax_digits(epochs_of, lr=3e-3, hidden=64, wd=1e-4, b1=0.9, b2=0.999, eps=1e-8):
    import jax
    import jax.numpy as jnp
    keys = jax.random.split(jax.random.PRNGKey(0), 5)
    params = []
    for k1, k2, (a, b) in ((keys[0], keys[1], (64, hidden)), (keys[2], keys[3], (hidden, 10))):
        bound = 1 / a ** 0.5
        params.append((jax.random.uniform(k1, (b, a), minval=-bound, maxval=bound),
                       jax.random.uniform(k2, (b,), minval=-bound, maxval=bound)))
    tree = jax.tree_util.tree_map

    def loss_fn(params, x, y, key):
        (w1, c1), (w2, c2) = params
        h = jax.nn.relu(x @ w1.T + c1)
        h = jnp.where(jax.random.bernoulli(key, 0.8, h.shape), h / 0.8, 0.0)
        logits = h @ w2.T + c2
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    @jax.jit
    def step(params, m, v, t, key, lr, x, y):
        key, sub = jax.random.split(key)
        loss, g = jax.value_and_grad(loss_fn)(params, x, y, sub)
        t = t + 1
        params = tree(lambda p: p * (1 - lr * wd), params)
        m = tree(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = tree(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        params = tree(lambda p, m, v: p - lr / c1 * m / (jnp.sqrt(v) / jnp.sqrt(c2) + eps), params, m, v)
        return params, m, v, t, key, loss
    state = [params, tree(jnp.zeros_like, params), tree(jnp.zeros_like, params), 0.0, keys[4]]

    def run():
        total = 0.0
        for epoch, batches in enumerate(epochs_of):
            rate = lr * 0.5 * (1 + np.cos(np.pi * epoch / len(epochs_of)))   # CosineAnnealingLR
            for x, y in batches:
                p, m, v, t, key, loss = step(*state, rate, jnp.asarray(x), jnp.asarray(y))
                state[:] = [p, m, v, t, key]
                total += float(loss)
        return total
    return run


def digits_row(args, clock):
    epochs_of = digit_batches()
    contenders = {"fastgrad eager": fastgrad_digits(epochs_of, False),
                  "fastgrad compiled": fastgrad_digits(epochs_of, True)}
    try:
        contenders["jax jit"] = jax_digits(epochs_of)
    except ImportError:
        print("jax not installed: no JAX row")
    rounds = max(3, args.rounds // 2)
    times = compare(contenders, rounds=rounds, budget=0.0, clock=clock)
    report(f"digits, 20 epochs of 64->64->10 (dropout 0.2, AdamW, cosine), batch 32, loss read per step "
           f"({sum(map(len, epochs_of))} steps)", times, rounds)


def cnn_row(args, clock):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    from train_digits_cnn import make_model
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 32)

    def fastgrad_cnn():
        fg.manual_seed(0)
        model = make_model(fg.nn)
        return training_step(fg, model, fg.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4))
    fx, fy = fg.tensor(x), fg.tensor(y)
    eager, compiled = fastgrad_cnn(), fg.compile(fastgrad_cnn())
    recording = recording_costs(lambda: fg.compile(fastgrad_cnn()), compiled, (fx, fy), clock)
    contenders = {"fastgrad eager": lambda: eager(fx, fy), "fastgrad compiled": lambda: compiled(fx, fy)}
    try:
        import torch
        torch.manual_seed(0)
        model = make_model(torch.nn)
        torch_cnn = training_step(torch, model, torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4))
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        contenders["torch eager"] = lambda: torch_cnn(tx, ty)
    except ImportError:
        pass
    times = compare(contenders, rounds=args.rounds, clock=clock)
    report("digits CNN (conv16-pool-conv32-pool-linear), batch 32, AdamW step", times, args.rounds, recording)


def gpt_row(args, clock, batch=32, block=64, vocab=65):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    import char_gpt
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, vocab, (batch, block)), rng.integers(0, vocab, (batch, block))

    def step_of(lib):
        lib.manual_seed(0)
        model = char_gpt.make_gpt(lib, vocab, block_size=block)
        optimizer = char_gpt.make_optimizer(lib, model, 1e-3, 0.1)

        def step(idx, targets):   # examples/char_gpt.py's training step
            optimizer.zero_grad()
            _, loss = model(idx, targets)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            return loss
        return step
    fx, fy = fg.tensor(x), fg.tensor(y)
    eager, compiled = step_of(fg), fg.compile(step_of(fg))
    recording = recording_costs(lambda: fg.compile(step_of(fg)), compiled, (fx, fy), clock)
    contenders = {"fastgrad eager": lambda: eager(fx, fy), "fastgrad compiled": lambda: compiled(fx, fy)}
    try:
        import torch
        tstep, tx, ty = step_of(torch), torch.from_numpy(x), torch.from_numpy(y)
        contenders["torch eager"] = lambda: tstep(tx, ty)
    except ImportError:
        pass
    rounds = max(3, args.rounds // 2)
    times = compare(contenders, rounds=rounds, budget=0.3, clock=clock)
    report(f"char GPT (2 layers, 4 heads, 64 wide), batch {batch} x {block} tokens, AdamW + clipping step", times,
           rounds, recording)


def word2vec_row(args, clock, steps=16):
    """examples/word2vec.py's training step (skip-gram, 5 negatives, batch 512, 64-d sparse embeddings,
    SparseAdam) over the example's own batches, cycling through `steps` of them."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
    import word2vec
    corpus = word2vec.Corpus(word2vec.load_words())
    rng = np.random.default_rng(0)
    centers, contexts = corpus.pairs(4, rng)
    fg.manual_seed(0)
    data = []
    for batch in word2vec.batches(corpus, centers, contexts, 512, 5):
        data.append(tuple(a.numpy() for a in batch))
        if len(data) == steps:
            break

    def step_of(lib):
        lib.manual_seed(0)
        model = word2vec.make_model(lib, len(corpus.words), 64)
        optimizer = lib.optim.SparseAdam(model.parameters(), lr=0.01)

        def step(c, t, s):   # examples/word2vec.py's training step
            loss = model(c, t, s)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        return step

    def cycling(step, batches):
        i = [0]

        def run():
            step(*batches[i[0] % len(batches)])
            i[0] += 1
        return run
    fdata = [tuple(fg.tensor(a) for a in batch) for batch in data]
    compiled = fg.compile(step_of(fg))
    recording = recording_costs(lambda: fg.compile(step_of(fg)), compiled, fdata[0], clock)
    compiled = cycling(compiled, fdata)
    contenders = {"fastgrad eager": cycling(step_of(fg), fdata), "fastgrad compiled": compiled}
    try:
        import torch
        tdata = [tuple(torch.from_numpy(a) for a in batch) for batch in data]
        contenders["torch eager"] = cycling(step_of(torch), tdata)
    except ImportError:
        pass
    times = compare(contenders, rounds=args.rounds, clock=clock)
    report(f"word2vec skip-gram ({len(corpus.words)} words x 64, sparse embeddings), batch 512 x (1 + 5 negatives), "
           f"SparseAdam step", times, args.rounds, recording)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", default="mlp,digits,cnn,gpt,word2vec")
    parser.add_argument("--cpu-time", action="store_true", help="time.process_time instead of wall time")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch's threads (default: fastgrad's); 1 avoids its spinning threads on a loaded machine")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    try:
        import torch
        torch.set_num_threads(args.torch_threads or fg.get_num_threads())
    except ImportError:
        print("torch not installed: no PyTorch rows")
    rows = {"mlp": mlp_rows, "digits": digits_row, "cnn": cnn_row, "gpt": gpt_row, "word2vec": word2vec_row}
    for name in args.only.split(","):
        rows[name](args, clock)


if __name__ == "__main__":
    main()

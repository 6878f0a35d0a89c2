"""The captured step against the eager one: the 64->32->10 MLP, batch 32, forward + cross-entropy +
backward + SGD (momentum 0.9), as fastgrad eager, fastgrad compiled (fg.compile), PyTorch eager and,
when installed, JAX jax.jit of the same step (not a dependency: pip install jax jaxlib).

    python bench/compile.py [--rounds 7] [--sizes 64,32,10] [--batch 32]

Medians over interleaved rounds (bench/common.py); shared, noisy machines: quote the ratios.
"""
import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import compare  # noqa: E402

import fastgrad as fg  # noqa: E402


def fastgrad_step(sizes, lr):
    fg.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [fg.nn.Linear(a, b)] + ([fg.nn.ReLU()] if i < len(sizes) - 2 else [])
    model = fg.nn.Sequential(*layers)
    opt = fg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = fg.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def torch_step(sizes, lr):
    import torch
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [torch.nn.Linear(a, b)] + ([torch.nn.ReLU()] if i < len(sizes) - 2 else [])
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sizes", default="64,32,10")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="PyTorch's threads (default: fastgrad's); 1 avoids its spinning threads on a loaded machine")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], args.batch)
    fx, fy = fg.tensor(x), fg.tensor(y)
    eager = fastgrad_step(sizes, 0.01)
    compiled = fg.compile(fastgrad_step(sizes, 0.01))
    contenders = {"fastgrad eager": lambda: eager(fx, fy), "fastgrad compiled": lambda: compiled(fx, fy)}
    try:
        import torch
        torch.set_num_threads(args.torch_threads or fg.get_num_threads())
        tstep, tx, ty = torch_step(sizes, 0.01), torch.from_numpy(x), torch.from_numpy(y)
        contenders["torch eager"] = lambda: tstep(tx, ty)
    except ImportError:
        print("torch not installed: no PyTorch row")
    try:
        import jax.numpy as jnp
        jstep, jx, jy = jax_step(sizes, 0.01), jnp.asarray(x), jnp.asarray(y)
        contenders["jax jit"] = lambda: jstep(jx, jy)
    except ImportError:
        print("jax not installed: no JAX row (pip install jax jaxlib)")
    fresh = fg.compile(fastgrad_step(sizes, 0.01))
    fresh(fx, fy)   # the warm-up call
    start = time.perf_counter()
    fresh(fx, fy)   # the recording call
    capture = time.perf_counter() - start
    times = compare(contenders, rounds=args.rounds)
    print(f"{'->'.join(map(str, sizes))} MLP, batch {args.batch}, SGD momentum step; {platform.processor() or platform.machine()}, "
          f"{fg.get_num_threads()} threads; medians of {args.rounds} rounds")
    base = times["fastgrad compiled"]
    for name, t in times.items():
        print(f"  {name:18s} {t * 1e6:9.1f} us   {t / base:6.2f}x the compiled step's time")
    print(f"  recording the plan took {capture * 1e6:.0f} us, {capture / times['fastgrad eager']:.1f} eager steps")


if __name__ == "__main__":
    main()

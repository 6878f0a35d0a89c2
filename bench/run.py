"""fastgrad's kernels against numpy (and PyTorch, when installed) doing the same work in one run.

    python bench/run.py [--quick] [--json results.json]

Each row times one piece of work per contender, through fastgrad's Tensor layer (the GEMM alone is
bench/matmul_sweep.py's), with bench/common.py's fair timing: contenders interleaved round by round,
a pause before each timed block, an untimed call first, medians over rounds. `speed` is numpy's
time over fastgrad's (above 1: fastgrad is faster). These machines are small, shared and noisy:
read the ratios, not the absolute times.
"""
import argparse
import json
import os
import sys
import time

if "--cpu-time" in sys.argv:   # before numpy starts its BLAS threads
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import compare  # noqa: E402

import fastgrad as fg  # noqa: E402
import fastgrad.nn.functional as F  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


# ---- the work: each case builds {contender: zero-argument callable} ------------------------------

def elementwise_cases(n, d):
    rng = np.random.default_rng(0)
    a, b, bias = (rng.standard_normal(s, dtype=np.float32) for s in ((n, d), (n, d), (d,)))
    ta, tb, tbias = fg.tensor(a), fg.tensor(b), fg.tensor(bias)
    targets = rng.integers(0, d, size=n)
    logits = fg.tensor(a, requires_grad=True)

    def np_softmax():
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def np_cross_entropy_fwd_bwd():
        p = np_softmax()
        loss = -np.log(p[np.arange(n), targets]).mean()
        p[np.arange(n), targets] -= 1
        return loss, p / n

    def fg_cross_entropy_fwd_bwd():
        logits.grad = None
        F.cross_entropy(logits, targets).backward()

    cases = {
        "add": {"fastgrad": lambda: ta + tb, "numpy": lambda: a + b},
        "bias add (row broadcast)": {"fastgrad": lambda: ta + tbias, "numpy": lambda: a + bias},
        "relu": {"fastgrad": lambda: ta.relu(), "numpy": lambda: np.maximum(a, 0)},
        "softmax": {"fastgrad": lambda: ta.softmax(), "numpy": np_softmax},
        "cross-entropy fwd+bwd": {"fastgrad": fg_cross_entropy_fwd_bwd, "numpy": np_cross_entropy_fwd_bwd},
        "sum": {"fastgrad": lambda: ta.sum(), "numpy": lambda: a.sum()},
    }
    if torch is not None:
        xa, xb, xbias = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(bias)
        xt = torch.from_numpy(targets)
        xl = torch.from_numpy(a.copy()).requires_grad_()

        def torch_cross_entropy_fwd_bwd():
            xl.grad = None
            torch.nn.functional.cross_entropy(xl, xt).backward()

        for name, fn in [("add", lambda: xa + xb), ("bias add (row broadcast)", lambda: xa + xbias),
                         ("relu", lambda: torch.relu(xa)), ("softmax", lambda: torch.softmax(xa, dim=1)),
                         ("cross-entropy fwd+bwd", torch_cross_entropy_fwd_bwd), ("sum", lambda: xa.sum())]:
            cases[name]["torch"] = fn
    return cases


def matmul_case(n, dtype):
    """Forward C = A·B and both backward products, dA = G·Bᵀ and dB = Aᵀ·G."""
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal((n, n)).astype(dtype) for _ in range(3))
    fg_dtype = fg.float32 if dtype == np.float32 else fg.float64
    ta, tb = fg.tensor(a, dtype=fg_dtype, requires_grad=True), fg.tensor(b, dtype=fg_dtype, requires_grad=True)
    tg = fg.tensor(g, dtype=fg_dtype)

    def fastgrad():
        ta.grad = tb.grad = None
        (ta @ tb).backward(tg)

    case = {"fastgrad": fastgrad, "numpy": lambda: (a @ b, g @ b.T, a.T @ g)}
    if torch is not None:
        xa, xb = torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_()
        xg = torch.from_numpy(g)

        def torch_fwd_bwd():
            xa.grad = xb.grad = None
            (xa @ xb).backward(xg)
        case["torch"] = torch_fwd_bwd
    return case


def batched_matmul_case(a_shape, b_shape, dtype=np.float32):
    """Attention-shaped batched products, a @ b and both gradients (numpy: the same three einsum-free
    matmuls over the batch)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape).astype(dtype), rng.standard_normal(b_shape).astype(dtype)
    g = rng.standard_normal(np.matmul(a, b).shape).astype(dtype)
    ta, tb = fg.tensor(a, requires_grad=True), fg.tensor(b, requires_grad=True)
    tg = fg.tensor(g)

    def fastgrad():
        ta.grad = tb.grad = None
        (ta @ tb).backward(tg)

    case = {"fastgrad": fastgrad, "numpy": lambda: (a @ b, g @ b.swapaxes(-1, -2), a.swapaxes(-1, -2) @ g)}
    if torch is not None:
        xa, xb = torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_()
        xg = torch.from_numpy(g)

        def torch_fwd_bwd():
            xa.grad = xb.grad = None
            (xa @ xb).backward(xg)
        case["torch"] = torch_fwd_bwd
    return case


def mlp_layers(sizes, linear, relu):
    """Linear layers of the given widths with a ReLU between each two, for either library."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(relu())
    return layers


def mlp_training_step_case(sizes, batch):
    """One eager training step: forward, cross-entropy, backward, SGD (momentum 0.9) update.
    numpy does the same step by hand; PyTorch runs its eager nn.Sequential."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    fg.manual_seed(0)
    layers = mlp_layers(sizes, fg.nn.Linear, fg.nn.ReLU)
    model = fg.nn.Sequential(*layers)
    optimizer = fg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tx = fg.tensor(x)

    def fastgrad():
        optimizer.zero_grad()
        F.cross_entropy(model(tx), y).backward()
        optimizer.step()

    weights = [(l.weight.numpy().copy(), l.bias.numpy().copy()) for l in layers if isinstance(l, fg.nn.Linear)]
    velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in weights]

    def numpy_step():
        activations = [x]
        for i, (w, b) in enumerate(weights):
            h = activations[-1] @ w.T + b
            activations.append(np.maximum(h, 0) if i < len(weights) - 1 else h)
        logits = activations[-1]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(batch), y] -= 1
        g = p / batch
        for i in reversed(range(len(weights))):
            w, b = weights[i]
            vw, vb = velocity[i]
            gw, gb = g.T @ activations[i], g.sum(axis=0)
            if i:
                g = (g @ w) * (activations[i] > 0)
            vw *= 0.9; vw += gw; w -= 0.01 * vw
            vb *= 0.9; vb += gb; b -= 0.01 * vb

    case = {"fastgrad": fastgrad, "numpy": numpy_step}
    if torch is not None:
        torch_model = torch.nn.Sequential(*mlp_layers(sizes, torch.nn.Linear, torch.nn.ReLU))
        torch_optimizer = torch.optim.SGD(torch_model.parameters(), lr=0.01, momentum=0.9)
        xx, yy = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step():
            torch_optimizer.zero_grad()
            torch.nn.functional.cross_entropy(torch_model(xx), yy).backward()
            torch_optimizer.step()
        case["torch"] = torch_step
    return case


def mlp_expression_step_case(sizes, batch, transposed=False):
    """The same training step as mlp_training_step_case, with the layers written out the way tutorials
    write them: `h = (h @ W + b).relu()` with W of shape (in, out) — or, transposed, the way PyTorch
    code lays weights out: `h = (h @ W.T + b).relu()` with W of shape (out, in) — then cross-entropy,
    backward and SGD (momentum 0.9). Both libraries run the same expression; `nn.Sequential` is
    fastgrad's own step of the same model, the figure to be within 5% of."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    shapes = list(zip(sizes, sizes[1:]))
    weights = [((rng.uniform(-1, 1, (o, i) if transposed else (i, o)) / np.sqrt(i)).astype(np.float32),
                (rng.uniform(-1, 1, o) / np.sqrt(i)).astype(np.float32)) for i, o in shapes]

    def step_for(lib, optim, cross_entropy, tensor):
        params = [tensor(a.copy(), requires_grad=True) for w in weights for a in w]
        optimizer = optim.SGD(params, lr=0.01, momentum=0.9)
        tx, ty = tensor(x), tensor(y)

        def step():
            optimizer.zero_grad()
            h = tx
            for i in range(0, len(params), 2):
                h = h @ (params[i].T if transposed else params[i]) + params[i + 1]
                if i < len(params) - 2:
                    h = h.relu()
            cross_entropy(h, ty).backward()
            optimizer.step()
        return step

    case = {"fastgrad": step_for(fg, fg.optim, F.cross_entropy, fg.tensor)}
    sequential = mlp_training_step_case(sizes, batch)
    case["nn.Sequential"] = sequential["fastgrad"]
    case["numpy"] = sequential["numpy"]
    if torch is not None:
        case["torch"] = step_for(torch, torch.optim, torch.nn.functional.cross_entropy, torch.tensor)
    return case


def movement_case(shape, fn, np_fwd_bwd):
    """A shape op forward + backward: fn(m, x) runs on fastgrad and torch alike (torch's result made
    contiguous, as fastgrad's always is); np_fwd_bwd(a, g) does the same copies with numpy."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape, dtype=np.float32)
    x = fg.tensor(a, requires_grad=True)
    g = rng.standard_normal(fn(fg, x).shape, dtype=np.float32)
    tg = fg.tensor(g)

    def fastgrad():
        x.grad = None
        fn(fg, x).backward(tg)

    case = {"fastgrad": fastgrad, "numpy": lambda: np_fwd_bwd(a, g)}
    if torch is not None:
        xt, gt = torch.from_numpy(a.copy()).requires_grad_(), torch.from_numpy(g)

        def torch_fwd_bwd():
            xt.grad = None
            fn(torch, xt).contiguous().backward(gt)
        case["torch"] = torch_fwd_bwd
    return case


def movement_cases():
    heads = (0, 2, 1, 3)   # (batch, time, heads, head size) -> (batch, heads, time, head size)
    c = np.ascontiguousarray
    yield "transpose fwd+bwd 1024x1024 f32", movement_case((1024, 1024), lambda m, x: x.t(),
                                                           lambda a, g: (c(a.T), c(g.T)))
    yield "permute heads fwd+bwd 16x64x4x64 f32", movement_case(
        (16, 64, 4, 64), lambda m, x: x.permute(*heads), lambda a, g: (c(a.transpose(heads)), c(g.transpose(heads))))
    yield "cat 4 pieces dim 1 fwd+bwd 256x256 f32", movement_case(
        (256, 256), lambda m, x: m.cat([x, x, x, x], 1),
        lambda a, g: (np.concatenate([a] * 4, 1), sum(c(p) for p in np.split(g, 4, 1))))
    yield "tril fwd+bwd 8x256x256 f32", movement_case((8, 256, 256), lambda m, x: m.tril(x),
                                                      lambda a, g: (np.tril(a), np.tril(g)))


def overhead_case():
    """Per-op cost of a 1-element add with gradient tracking on."""
    x, y = fg.tensor([1.0], requires_grad=True), fg.tensor([2.0])
    a, b = np.ones(1, np.float32), np.ones(1, np.float32)
    case = {"fastgrad": lambda: x + y, "numpy": lambda: a + b}
    if torch is not None:
        tx, ty = torch.ones(1, requires_grad=True), torch.ones(1)
        case["torch"] = lambda: tx + ty
    return case


def reduction_cases(n, d):
    """The math helper's rows: max over a dim (values and indices) and logsumexp, as programs write them."""
    x = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
    tx = fg.tensor(x)
    lse_in = fg.tensor(x, requires_grad=True)

    def np_logsumexp():
        m = x.max(axis=1, keepdims=True)
        return m[:, 0] + np.log(np.exp(x - m).sum(axis=1))

    def fg_logsumexp_fwd_bwd():
        lse_in.grad = None
        lse_in.logsumexp(1).sum().backward()

    cases = {
        "max(dim=1) values+indices": {"fastgrad": lambda: tx.max(1), "numpy": lambda: (x.max(1), x.argmax(1))},
        "max(dim=0) values+indices": {"fastgrad": lambda: tx.max(0), "numpy": lambda: (x.max(0), x.argmax(0))},
        "logsumexp(dim=1)": {"fastgrad": lambda: tx.logsumexp(1), "numpy": np_logsumexp},
        "logsumexp(dim=1) fwd+bwd": {"fastgrad": fg_logsumexp_fwd_bwd, "numpy": np_logsumexp},
    }
    if torch is not None:
        xt = torch.from_numpy(x)
        xl = torch.from_numpy(x.copy()).requires_grad_()

        def torch_logsumexp_fwd_bwd():
            xl.grad = None
            torch.logsumexp(xl, 1).sum().backward()

        for name, fn in [("max(dim=1) values+indices", lambda: xt.max(1)),
                         ("max(dim=0) values+indices", lambda: xt.max(0)),
                         ("logsumexp(dim=1)", lambda: torch.logsumexp(xt, 1)),
                         ("logsumexp(dim=1) fwd+bwd", torch_logsumexp_fwd_bwd)]:
            cases[name]["torch"] = fn
    return cases


def embedding_case(sparse, batch=(64, 32), table=(10000, 128)):
    """An embedding lookup of (64, 32) indices into a (10000, 128) table, forward + backward (the
    gather and its scatter-add; with sparse=True, a row-sparse gradient)."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal(table, dtype=np.float32)
    idx = rng.integers(0, table[0], size=batch)
    g = rng.standard_normal(batch + (table[1],), dtype=np.float32)
    w, fidx, fgrad = fg.tensor(weight, requires_grad=True), fg.tensor(idx), fg.tensor(g)

    def fastgrad():
        w.grad = None
        F.embedding(fidx, w, sparse=sparse).backward(fgrad)

    def numpy_fwd_bwd():
        out = weight[idx]
        if sparse:
            return out, idx.reshape(-1), g.reshape(-1, table[1]).copy()
        dw = np.zeros_like(weight)
        np.add.at(dw, idx.reshape(-1), g.reshape(-1, table[1]))
        return out, dw

    case = {"fastgrad": fastgrad, "numpy": numpy_fwd_bwd}
    if torch is not None:
        tw, tidx, tg = torch.from_numpy(weight.copy()).requires_grad_(), torch.from_numpy(idx), torch.from_numpy(g)

        def torch_fwd_bwd():
            tw.grad = None
            torch.nn.functional.embedding(tidx, tw, sparse=sparse).backward(tg)
        case["torch"] = torch_fwd_bwd
    return case


def everyday_cases(n, d):
    """Small everyday ops of programs written for PyTorch, on an (n, d) float32 tensor with
    requires_grad=True, forward only (what their Python and dispatch cost)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, d), dtype=np.float32), rng.standard_normal((n, d), dtype=np.float32)
    labels, rows = rng.integers(0, d, size=n), rng.integers(0, n, size=n)
    x, x2, y, idx = fg.tensor(a, requires_grad=True), fg.tensor(b, requires_grad=True), fg.tensor(labels), fg.tensor(rows)
    cases = {
        "view(-1)": {"fastgrad": lambda: x.view(-1), "numpy": lambda: a.reshape(-1)},
        "x[:, :8]": {"fastgrad": lambda: x[:, :8], "numpy": lambda: a[:, :8].copy()},
        "sum(dim=1)": {"fastgrad": lambda: x.sum(dim=1), "numpy": lambda: a.sum(axis=1)},
        "cat([x, x2], dim=1)": {"fastgrad": lambda: fg.cat([x, x2], dim=1), "numpy": lambda: np.concatenate([a, b], 1)},
        "sum().item()": {"fastgrad": lambda: x.sum().item(), "numpy": lambda: a.sum().item()},
        "randn": {"fastgrad": lambda: fg.randn(n, d), "numpy": lambda: rng.standard_normal((n, d), dtype=np.float32)},
        "x[int64 index]": {"fastgrad": lambda: x[idx], "numpy": lambda: a[rows]},
        "(argmax(1) == y).float().mean().item()": {
            "fastgrad": lambda: (x.argmax(1) == y).float().mean().item(),
            "numpy": lambda: (a.argmax(1) == labels).astype(np.float32).mean().item()},
        "max(dim=1)": {"fastgrad": lambda: x.max(dim=1), "numpy": lambda: (a.max(1), a.argmax(1))},
        "mean()": {"fastgrad": lambda: x.mean(), "numpy": lambda: a.mean()},
        "F.softmax(dim=-1)": {"fastgrad": lambda: F.softmax(x, dim=-1), "numpy": lambda: np.exp(a) / np.exp(a).sum(1, keepdims=True)},
    }
    if torch is not None:
        tx, tx2 = torch.from_numpy(a.copy()).requires_grad_(), torch.from_numpy(b.copy()).requires_grad_()
        ty, tidx = torch.from_numpy(labels), torch.from_numpy(rows)
        for name, fn in [("view(-1)", lambda: tx.view(-1)), ("x[:, :8]", lambda: tx[:, :8]),
                         ("sum(dim=1)", lambda: tx.sum(dim=1)), ("cat([x, x2], dim=1)", lambda: torch.cat([tx, tx2], dim=1)),
                         ("sum().item()", lambda: tx.sum().item()), ("randn", lambda: torch.randn(n, d)),
                         ("x[int64 index]", lambda: tx[tidx]),
                         ("(argmax(1) == y).float().mean().item()", lambda: (tx.argmax(1) == ty).float().mean().item()),
                         ("max(dim=1)", lambda: tx.max(dim=1)), ("mean()", lambda: tx.mean()),
                         ("F.softmax(dim=-1)", lambda: torch.nn.functional.softmax(tx, dim=-1))]:
            cases[name]["torch"] = fn
    return cases


def all_cases(quick):
    shapes = [(256, 256), (4096, 1024)] if quick else [(256, 256), (1024, 1024), (4096, 1024)]
    sizes = [64, 256] if quick else [32, 64, 128, 256, 512, 1024]
    for n, d in shapes:
        for name, case in elementwise_cases(n, d).items():
            yield f"{name} {n}x{d} f32", case
    for dtype in (np.float32, np.float64):
        for n in sizes:
            yield f"matmul fwd+bwd {n}^3 {np.dtype(dtype).name}", matmul_case(n, dtype)
    yield "per-op overhead: 1-element add, grad on", overhead_case()
    yield "batched matmul fwd+bwd 16x4x64x64 @ 16x4x64x64", batched_matmul_case((16, 4, 64, 64), (16, 4, 64, 64))
    yield from movement_cases()
    for sizes, batch in [((64, 32, 10), 32), ((784, 256, 256, 10), 128), ((1024, 1024, 1024, 10), 512)]:
        yield f"train step MLP {'-'.join(map(str, sizes))} batch {batch}", mlp_training_step_case(sizes, batch)
        yield (f"train step (x @ W + b).relu() {'-'.join(map(str, sizes))} b{batch}",
               mlp_expression_step_case(sizes, batch))
        yield (f"train step (x @ W.T + b).relu() {'-'.join(map(str, sizes))} b{batch}",
               mlp_expression_step_case(sizes, batch, transposed=True))
    for n, d in shapes:
        for name, case in reduction_cases(n, d).items():
            yield f"{name} {n}x{d} f32", case
    for sparse in (False, True):
        yield f"embedding fwd+bwd (64,32) of 10000x128 {'sparse' if sparse else 'dense'}", embedding_case(sparse)
    for n, d in [(32, 64), (256, 256)]:
        for name, case in everyday_cases(n, d).items():
            yield f"everyday ops: {name} {n}x{d} f32", case


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer sizes and rounds")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--only", metavar="TEXT", help="run only the rows whose name contains TEXT")
    parser.add_argument("--cpu-time", action="store_true",
                        help="every library on one thread, timed by process CPU time (steadier on a busy machine)")
    args = parser.parse_args()
    clock = time.perf_counter
    if args.cpu_time:
        fg.set_num_threads(1)
        if torch is not None:
            torch.set_num_threads(1)
        clock = time.process_time

    rows = []
    header = f"{'work':44s} {'fastgrad':>10s} {'numpy':>10s} {'speed':>6s}"
    if torch is not None:
        header += f" {'torch':>10s} {'vs torch':>8s}"
    print(header)
    for name, case in all_cases(args.quick):
        if args.only and args.only not in name:
            continue
        t = compare(case, rounds=5 if args.quick else 9, clock=clock)
        row = {"work": name, **{k: v for k, v in t.items()}, "speed_vs_numpy": t["numpy"] / t["fastgrad"]}
        line = f"{name:44s} {t['fastgrad'] * 1e6:8.1f}us {t['numpy'] * 1e6:8.1f}us {row['speed_vs_numpy']:5.2f}x"
        if "torch" in t:
            row["speed_vs_torch"] = t["torch"] / t["fastgrad"]
            line += f" {t['torch'] * 1e6:8.1f}us {row['speed_vs_torch']:7.2f}x"
        if "nn.Sequential" in t:   # the written-out MLP against fastgrad's own nn.Sequential step
            row["time_vs_sequential"] = t["fastgrad"] / t["nn.Sequential"]
            line += f"  ({row['time_vs_sequential']:.2f}x the nn.Sequential step's time)"
        print(line, flush=True)
        rows.append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "numpy": np.__version__, "torch": getattr(torch, "__version__", None)}, f, indent=1)


if __name__ == "__main__":
    main()

"""Differential fuzzer: random op graphs run by fastgrad and by PyTorch, forward and backward.

Each case (seeded: case i of seed s is always the same graph) draws one to three leaves of random
shapes (0, 1, primes, broadcastable), values mixed with special ones (±0, ±inf, NaN, huge, tiny),
float32 or float64, then applies a few random ops from OPS, reduces to a weighted sum and calls
backward(). It runs on a random kernel path with 1 thread and again with 2 (the results must be the
same bits), and compares values and gradients with PyTorch's: within a tolerance, with NaN where
PyTorch has NaN and infinities of the same sign.

    python tests/fuzz.py --cases 5000 [--seed 0]     # a long run; prints findings, exits 1 on any
tests/test_fuzz.py runs a few hundred cases in CI.
"""
import argparse
import math
import sys

import numpy as np

import fastgrad as fg

# Tiny values stay above 1e-19: below that PyTorch squares a divisor in float32 to 0 and gets NaN where
# the exact gradient (and fastgrad's, which divides twice instead: README) is finite.
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-19, 3.0, -2.5])


def _pick_shape(rng):
    sizes = [0, 1, 2, 3, 5, 7]
    ndim = int(rng.integers(1, 4))
    return tuple(int(rng.choice(sizes, p=[0.05, 0.15, 0.2, 0.25, 0.2, 0.15])) for _ in range(ndim))


def _broadcast_partner(rng, shape):
    """A shape that broadcasts with `shape`: some dimensions 1, maybe fewer of them."""
    out = [1 if rng.random() < 0.3 else d for d in shape]
    drop = int(rng.integers(0, len(out) + 1)) if rng.random() < 0.3 else 0
    return tuple(out[drop:])


def _values(rng, shape, special):
    a = np.array(rng.standard_normal(shape) * 2)
    if special and a.size:
        mask = np.array(rng.random(shape) < 0.15)
        a[mask] = rng.choice(SPECIAL, size=int(mask.sum()))
    return a


# ---- the ops: (name, arity, applies(shapes) -> bool, fastgrad fn, torch fn) ----------------------------
def _last_dim_ok(shapes):
    return len(shapes[0]) >= 1


def _matmul_ok(shapes):
    a, b = shapes
    return len(a) >= 1 and len(b) >= 2 and a[-1] == b[-2]


def _dim(shape, rng):
    return int(rng.integers(-len(shape), len(shape))) if shape else 0


OPS = [
    ("add", 2, None, lambda a, b: a + b, lambda a, b: a + b),
    ("sub", 2, None, lambda a, b: a - b, lambda a, b: a - b),
    ("mul", 2, None, lambda a, b: a * b, lambda a, b: a * b),
    ("div", 2, None, lambda a, b: a / b, lambda a, b: a / b),
    ("maximum", 2, None, lambda a, b: fg.maximum(a, b), lambda a, b: __import__("torch").maximum(a, b)),
    ("scalar_mul", 1, None, lambda a: a * 1.5 - 0.25, lambda a: a * 1.5 - 0.25),
    ("relu", 1, None, lambda a: a.relu(), lambda a: a.relu()),
    ("tanh", 1, None, lambda a: a.tanh(), lambda a: a.tanh()),
    ("sigmoid", 1, None, lambda a: a.sigmoid(), lambda a: a.sigmoid()),
    ("exp", 1, None, lambda a: a.exp(), lambda a: a.exp()),
    ("log_abs", 1, None, lambda a: a.abs().log(), lambda a: a.abs().log()),
    ("sqrt_abs", 1, None, lambda a: a.abs().sqrt(), lambda a: a.abs().sqrt()),
    ("square", 1, None, lambda a: a * a, lambda a: a * a),
    ("neg", 1, None, lambda a: -a, lambda a: -a),
    ("clamp", 1, None, lambda a: a.clamp(-1.0, 2.0), lambda a: a.clamp(-1.0, 2.0)),
    ("softmax", 1, _last_dim_ok, lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
    ("log_softmax", 1, _last_dim_ok, lambda a: a.log_softmax(-1), lambda a: a.log_softmax(-1)),
    ("sum_last", 1, _last_dim_ok, lambda a: a.sum(-1), lambda a: a.sum(-1)),
    ("mean_first", 1, _last_dim_ok, lambda a: a.mean(0, keepdim=True), lambda a: a.mean(0, keepdim=True)),
    ("transpose", 1, lambda s: len(s[0]) >= 2, lambda a: a.transpose(0, -1), lambda a: a.transpose(0, -1)),
    ("flatten", 1, None, lambda a: a.reshape(-1), lambda a: a.reshape(-1)),
    ("matmul", 2, _matmul_ok, lambda a, b: a @ b, lambda a, b: a @ b),
]


# the math helper's ops (reductions keep the dim, so shapes stay as they are, bar empty dims)
def _nonempty_last(shapes):
    return len(shapes[0]) >= 1 and shapes[0][-1] > 0


def _nonempty_first(shapes):
    return len(shapes[0]) >= 1 and shapes[0][0] > 0


OPS += [
    ("minimum", 2, None, lambda a, b: fg.minimum(a, b), lambda a, b: __import__("torch").minimum(a, b)),
    ("pow_abs", 2, None, lambda a, b: a.abs() ** b, lambda a, b: a.abs() ** b),
    ("where", 2, None, lambda a, b: fg.where(a > b, a, b * 0.5),
     lambda a, b: __import__("torch").where(a > b, a, b * 0.5)),
    ("logsumexp_last", 1, _last_dim_ok, lambda a: a.logsumexp(-1, keepdim=True),
     lambda a: a.logsumexp(-1, keepdim=True)),
    ("max_last", 1, _nonempty_last, lambda a: a.max(-1, keepdim=True).values,
     lambda a: a.max(-1, keepdim=True).values),
    ("amin_first", 1, _nonempty_first, lambda a: a.amin(0, keepdim=True), lambda a: a.amin(0, keepdim=True)),
    ("cumsum_first", 1, _last_dim_ok, lambda a: a.cumsum(0), lambda a: a.cumsum(0)),
    ("sin", 1, None, lambda a: a.sin(), lambda a: a.sin()),
]


# the language-model and shape helpers' ops that keep the shape. Left out on purpose: layer_norm (its
# statistics are summed in double, so rows holding ±1e30 normalise where PyTorch's float32 overflows
# to NaN) and exact gelu (it reaches values near 1e-23 that PyTorch's float32 erfc rounds to -0.0,
# which a later pow or log turns into an infinity): both are fastgrad being more precise.
def _torch_f():
    return __import__("torch").nn.functional


def _two_dims(shapes):
    return len(shapes[0]) >= 2


OPS += [
    ("gelu_tanh", 1, None, lambda a: fg.nn.functional.gelu(a, approximate="tanh"),
     lambda a: _torch_f().gelu(a, approximate="tanh")),
    ("silu", 1, None, lambda a: fg.nn.functional.silu(a), lambda a: _torch_f().silu(a)),
    ("softplus", 1, None, lambda a: fg.nn.functional.softplus(a), lambda a: _torch_f().softplus(a)),
    ("logsigmoid", 1, None, lambda a: fg.nn.functional.logsigmoid(a), lambda a: _torch_f().logsigmoid(a)),
    ("tril", 1, _two_dims, lambda a: a.tril(), lambda a: a.tril()),
    ("flip_first", 1, _last_dim_ok, lambda a: a.flip(0), lambda a: a.flip(0)),
    ("roll_last", 1, _last_dim_ok, lambda a: a.roll(1, -1), lambda a: a.roll(1, -1)),
]


def _partner_for(name, rng, shape):
    if name == "matmul":
        return shape[-1:] + (int(rng.choice([1, 2, 3, 5])),) if shape else (1, 1)
    return _broadcast_partner(rng, shape)


def run_case(case, seed=0):
    """One case; returns a list of findings (empty when fastgrad agrees with PyTorch)."""
    import torch

    rng = np.random.default_rng([seed, case])
    dtype = fg.float32 if rng.random() < 0.5 else fg.float64
    tdtype = torch.float32 if dtype is fg.float32 else torch.float64
    special = rng.random() < 0.5
    leaves = [_values(rng, _pick_shape(rng), special)]
    program = []   # (op index, operand: a leaf index or None)
    shape = leaves[0].shape
    for _ in range(int(rng.integers(1, 6))):
        i = int(rng.integers(len(OPS)))
        name, arity, ok, _, _ = OPS[i]
        if arity == 2:
            other = _partner_for(name, rng, shape)
            if (ok and not ok((shape, other))) or _broadcast_fails(shape, other, name):
                continue
            leaves.append(_values(rng, other, special))
            program.append((i, len(leaves) - 1))
            shape = _result_shape(name, shape, other)
        else:
            if ok and not ok((shape,)):
                continue
            program.append((i, None))
            shape = _unary_shape(name, shape)
    weights = rng.uniform(-1, 1, size=shape)
    paths = fg.backend.available_kernel_paths()
    path = paths[int(rng.integers(len(paths)))]
    description = (f"case {case} (seed {seed}): {dtype!r}, path {path}, leaves "
                   f"{[l.shape for l in leaves]}, ops {[OPS[i][0] for i, _ in program]}")

    def run_fastgrad():
        xs = [fg.tensor(l, dtype=dtype, requires_grad=True) for l in leaves]
        out = xs[0]
        for i, operand in program:
            fn = OPS[i][3]
            out = fn(out, xs[operand]) if operand is not None else fn(out)
        (out * fg.tensor(weights, dtype=dtype)).sum().backward()
        return out.numpy().copy(), [None if x.grad is None else x.grad.numpy().copy() for x in xs]

    def run_torch():
        xs = [torch.tensor(l, dtype=tdtype, requires_grad=True) for l in leaves]
        out = xs[0]
        for i, operand in program:
            fn = OPS[i][4]
            out = fn(out, xs[operand]) if operand is not None else fn(out)
        (out * torch.tensor(weights, dtype=tdtype)).sum().backward()
        return out.detach().numpy().copy(), [None if x.grad is None else x.grad.numpy().copy() for x in xs]

    before_path, before_threads = fg.kernel_path(), fg.get_num_threads()
    try:
        fg.set_kernel_path(path)
        results = []
        for threads in (1, 2):
            fg.set_num_threads(threads)
            results.append(run_fastgrad())
    finally:
        fg.set_kernel_path(before_path)
        fg.set_num_threads(before_threads)
    findings = []
    (out1, grads1), (out2, grads2) = results
    if not _same_bits(out1, out2) or not all(_same_bits(a, b) for a, b in zip(grads1, grads2)):
        findings.append(f"{description}: 1 and 2 threads differ")
    expected_out, expected_grads = run_torch()
    problem = _compare(out1, expected_out, dtype, "value")
    if problem:
        findings.append(f"{description}: {problem}")
    for k, (got, want) in enumerate(zip(grads1, expected_grads)):
        if want is None:
            want = np.zeros_like(leaves[k])
        if got is None:
            got = np.zeros_like(leaves[k])
        problem = _compare(got, want, dtype, f"grad of leaf {k}")
        if problem:
            findings.append(f"{description}: {problem}")
    return findings


def _broadcast_fails(a, b, name):
    if name == "matmul":
        return False
    try:
        np.broadcast_shapes(a, b)
        return False
    except ValueError:
        return True


def _result_shape(name, a, b):
    if name == "matmul":
        return a[:-1] + b[-1:] if len(a) >= 2 else b[:-2] + b[-1:]
    return tuple(np.broadcast_shapes(a, b))


def _unary_shape(name, shape):
    if name == "sum_last":
        return shape[:-1]
    if name in ("mean_first", "amin_first"):
        return (1,) + shape[1:]
    if name in ("logsumexp_last", "max_last"):
        return shape[:-1] + (1,)
    if name == "transpose":
        return (shape[-1],) + shape[1:-1] + (shape[0],)
    if name == "flatten":
        return (math.prod(shape),)
    return shape


def _same_bits(a, b):
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _compare(got, want, dtype, what):
    if got.shape != want.shape:
        return f"{what}: shape {got.shape}, PyTorch {want.shape}"
    rtol, atol = (2e-3, 1e-4) if dtype is fg.float32 else (1e-8, 1e-10)
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    finite = np.isfinite(want) & np.isfinite(got)
    # Values that overflow in one library and not the other, by a rounding at the edge of the range,
    # are not findings: compare where both are finite, and the infinities and NaNs exactly.
    inf_mismatch = (np.isinf(got) | np.isinf(want)) & ~(nan_got | nan_want) & (got != want)
    near_edge = np.abs(np.where(np.isfinite(got), got, 0)) > 1e29
    near_edge |= np.abs(np.where(np.isfinite(want), want, 0)) > 1e29
    if (nan_got != nan_want).any():
        k = np.argwhere(nan_got != nan_want)[0]
        return f"{what}: NaN pattern differs at {tuple(k)}: {got[tuple(k)]} vs PyTorch {want[tuple(k)]}"
    if (inf_mismatch & ~near_edge).any():
        k = np.argwhere(inf_mismatch & ~near_edge)[0]
        return f"{what}: infinity differs at {tuple(k)}: {got[tuple(k)]} vs PyTorch {want[tuple(k)]}"
    scale = max(1.0, float(np.max(np.abs(want[finite]), initial=0.0)))
    bad = finite & ~near_edge & ~np.isclose(got, want, rtol=rtol, atol=atol * scale)
    if bad.any():
        k = tuple(np.argwhere(bad)[0])
        return f"{what}: {got[k]} vs PyTorch {want[k]} at {k}"
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    findings = []
    for case in range(args.cases):
        findings += run_case(case, args.seed)
    for f in findings:
        print(f)
    print(f"{args.cases} cases, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

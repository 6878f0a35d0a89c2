"""einsum, addmm and mv as PyTorch defines them, built from the ops that exist: each pair of operands
becomes one batched matmul between the permutes and sums that line their indices up, so gradients
come from those ops' own backward kernels."""
import math

from .ops._checks import tensor_arg
from .ops.matmul import matmul


def einsum(equation, *operands):
    """torch.einsum: `equation` like "bij,bjk->bik" (spaces ignored, "..." for leading dimensions, the
    output in alphabetical order when "->" is left out). A repeated index within one operand (a
    diagonal, "ii->i") is not supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a str, got {type(equation).__name__}")
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    for t in operands:
        tensor_arg(t, "einsum", "operand")
    inputs, output = _parse(equation.replace(" ", ""), operands)
    sizes = {}
    for subs, t in zip(inputs, operands):
        for letter, size in zip(subs, t._shape):   # sizes of 1 broadcast, as in PyTorch
            known = sizes.setdefault(letter, size)
            if known == 1:
                sizes[letter] = size
            elif size not in (1, known):
                raise ValueError(f"einsum: index {letter!r} has sizes {known} and {size} in {equation!r}")
    result, subs = operands[0], inputs[0]
    for k in range(1, len(operands)):
        later = set(output).union(*inputs[k + 1:])
        result, subs = _contract(result, subs, operands[k], inputs[k], later, sizes)
    result, subs = _sum_out(result, subs, set(output))
    return result.permute(*[subs.index(letter) for letter in output]) if subs != output else result


def _parse(equation, operands):
    """The letters of each operand and of the output, "..." replaced by one private letter per
    dimension it stands for (aligned from the right, as broadcasting aligns them)."""
    lhs, arrow, rhs = equation.partition("->")
    parts = lhs.split(",")
    if len(parts) != len(operands):
        raise ValueError(f"einsum: {equation!r} names {len(parts)} operands, got {len(operands)}")
    ellipsis_dims = 0
    inputs = []
    for part, t in zip(parts, operands):
        named = part.replace("...", "")
        if not named.isalpha() and named or part.count("...") > 1:
            raise ValueError(f"einsum: {part!r} in {equation!r} must be letters and at most one '...'")
        if len(set(named)) != len(named):
            raise NotImplementedError(f"einsum: a repeated index within one operand ({part!r}, a diagonal) is not "
                                      f"supported")
        extra = t.ndim - len(named)
        if extra < 0 or (extra and "..." not in part):
            raise ValueError(f"einsum: {part!r} names {len(named)} dimensions, the operand has shape {t.shape}")
        ellipsis_dims = max(ellipsis_dims, extra)
        inputs.append(part.replace("...", _ellipsis(extra)))
    if arrow:
        if rhs.replace("...", "") and not rhs.replace("...", "").isalpha():
            raise ValueError(f"einsum: the output {rhs!r} must be letters and at most one '...'")
        output = rhs.replace("...", _ellipsis(ellipsis_dims))
        known = set().union(*inputs)
        for letter in output:
            if letter not in known or output.count(letter) > 1:
                raise ValueError(f"einsum: output index {letter!r} of {equation!r} appears in no operand or twice")
    else:
        counts = {}
        for letter in "".join(p.replace("...", "") for p in parts):
            counts[letter] = counts.get(letter, 0) + 1
        output = _ellipsis(ellipsis_dims) + "".join(sorted(k for k, n in counts.items() if n == 1))
    return inputs, output


def _ellipsis(n):
    """n private letters (never ASCII) for the dimensions "..." stands for, the last ones last."""
    return "".join(chr(0x3B1 + i) for i in range(32 - n, 32))


def _sum_out(t, subs, keep):
    drop = [i for i, letter in enumerate(subs) if letter not in keep]
    if not drop:
        return t, subs
    return t.sum(dim=tuple(drop)), "".join(letter for letter in subs if letter in keep)


def _contract(a, sa, b, sb, later, sizes):
    """a and b as one operand: indices only one side has and nothing later needs are summed first,
    then one batched matmul of (batch, a's own, contracted) by (batch, contracted, b's own)."""
    a, sa = _sum_out(a, sa, later | set(sb))
    b, sb = _sum_out(b, sb, later | set(sa))
    batch = [x for x in sa if x in sb and x in later]
    contracted = [x for x in sa if x in sb and x not in later]
    a_own, b_own = [x for x in sa if x not in sb], [x for x in sb if x not in sa]
    a = _arranged(a, sa, batch + a_own + contracted, sizes)
    b = _arranged(b, sb, batch + contracted + b_own, sizes)
    n_batch, m, k, n = (math.prod(sizes[x] for x in group) for group in (batch, a_own, contracted, b_own))
    out = matmul(a.reshape(n_batch, m, k), b.reshape(n_batch, k, n))
    letters = batch + a_own + b_own
    return out.reshape(tuple(sizes[x] for x in letters)), "".join(letters)


def _arranged(t, subs, order, sizes):
    """t with its dimensions in `order`, size-1 dimensions broadcast to the index's size."""
    if list(subs) != order:
        t = t.permute(*[subs.index(x) for x in order])
    target = tuple(sizes[x] for x in order)
    return t.expand(*target) if t._shape != target else t


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), as torch.addmm (with beta = alpha = 1 the sum is
    recorded as one MatMulBias when input is a bias over the columns)."""
    for name, t in (("input", input), ("mat1", mat1), ("mat2", mat2)):
        tensor_arg(t, "addmm", name)
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"addmm: mat1 and mat2 must be matrices, got shapes {mat1.shape} and {mat2.shape}")
    product = matmul(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    if beta == 0:   # PyTorch: input is ignored, NaN and inf included
        return product
    return product + (input if beta == 1 else input * beta)


def mv(input, vec):
    """torch.mv: a matrix times a vector."""
    tensor_arg(input, "mv", "input"), tensor_arg(vec, "mv", "vec")
    if input.ndim != 2 or vec.ndim != 1:
        raise ValueError(f"mv: expects a matrix and a vector, got shapes {input.shape} and {vec.shape}")
    return matmul(input, vec)

"""Every op's backward fed aliased buffers (issue 11): the upstream gradient being an input's own
.grad, the same tensor passed as two inputs, an input that is the output of an in-place op, and
an input or output written in place after the op ran. Each run is compared with the same
computation on separate buffers: the gradients must agree, or backward must refuse (the in-place
version check), never be silently wrong. The ops come from test_compile.py's CASES, one per Op
subclass (test_compile checks that every subclass has one)."""
import numpy as np
import pytest

import fastgrad as fg
import test_compile  # noqa: E402  (tests/ is on sys.path, as for fuzz.py)

# test_compile's cases, with the ones whose op records as another class replaced (x.mean records a
# Sum, basic slicing an Index): here each case's graph must hold its class (test_every_case_...)
CASES = dict(test_compile.CASES)
CASES["Reduce"] = test_compile._case(lambda x: x.amax(0) + x.prod(0) + x.logsumexp(0))
CASES["AsStrided"] = test_compile._case(lambda x: x.narrow(1, 1, 2) * 1.0)
NAMES = sorted(CASES)


def test_every_op_class_has_a_case_whose_graph_holds_it():
    missing = {c.__name__ for c in test_compile._op_classes()} - set(CASES) - test_compile.ABSTRACT
    assert missing <= test_compile.NOT_CAPTURABLE_WITHOUT_MPI, f"ops without an aliasing case: {sorted(missing)}"
    for name in NAMES:
        _node(CASES[name][1](*_inputs(name)), name)


def _inputs(name, seed=0):
    make, _ = CASES[name]
    return make(seed)


def _grads(xs):
    return [None if x.grad is None else x.grad.numpy().copy() for x in xs]


def _same(got, want, what):
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        assert (a is None) == (b is None), f"{what}: gradient {k} is {a} vs {b}"
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"{what}: gradient {k}")


def _upstream(out, seed=1):
    values = np.random.default_rng(seed).standard_normal(out.shape)
    return values.astype(np.float64 if out.dtype is fg.float64 else np.float32)


def _float_out(name, xs):
    out = CASES[name][1](*xs)
    if not out.dtype.is_floating_point or not out.requires_grad:
        pytest.skip(f"{name}'s case has no float output to backpropagate from")
    return out


@pytest.mark.parametrize("direct", [False, True], ids=["engine", "op.backward"])
@pytest.mark.parametrize("name", NAMES)
def test_upstream_gradient_is_an_inputs_own_grad(name, direct):
    """out.backward(G) and out._op.backward(G) where G shares its buffer with the .grad the backward
    adds into (x.grad itself, or a view of it with the output's shape)."""
    results = []
    for aliased in (False, True):
        xs = _inputs(name)
        out = _float_out(name, xs)
        target = next((x for x in xs if x._numel == out._numel and x.dtype is out.dtype), None)
        if target is None:
            pytest.skip(f"{name}: no input with as many elements as the output ({out.shape})")
        start = _upstream(out).reshape(target.shape)
        target.grad = fg.tensor(start, dtype=target.dtype)
        g = (target.grad if aliased else fg.tensor(start, dtype=target.dtype)).reshape(out.shape)
        (out._op.backward if direct else out.backward)(g)
        results.append(_grads(xs))
    _same(results[1], results[0], f"{name}, upstream gradient aliasing an input's .grad")


def _two_input_names():
    names = []
    for name in NAMES:
        xs = _inputs(name)
        if len(xs) >= 2 and len({x.shape for x in xs}) == 1:
            names.append(name)
    return names


# the same tensor twice through one call, written once for fastgrad and PyTorch (lib is either)
SAME_TWICE = {
    "ScatterAdd": lambda lib, x: x.scatter_add(0, lib.tensor([[0, 1, 2, 0]] * 3), x),
    "Where": lambda lib, x: lib.where(x > 0, x, x),
    "IndexPut": lambda lib, x: (x * 1.0).index_put_((lib.tensor([0, 2]),), x[:2]),
    "Pow": lambda lib, x: (x * x + 1.0) ** (x * 0.1),
    "MatMul": lambda lib, x: (lambda y: y @ y)(x[:, :3] * 1.0),   # a square y @ y: one GEMM, both operands y
    "Linear": lambda lib, x: (lambda y: lib.nn.functional.linear(y, y, y[0]))(x[:, :3] * 1.0),
    "Cat": lambda lib, x: lib.cat([x, x, x], 1),
    "Stack": lambda lib, x: lib.stack([x, x], 0),
    "Maximum": lambda lib, x: lib.maximum(x, x),
}


@pytest.mark.parametrize("name", _two_input_names())
def test_same_tensor_as_two_inputs(name):
    """op(x, x) gives x the sum of what op(x, x2) gives x and x2 (x2 a copy of x): x*x, x@x.T,
    cat([x, x]), linear(x, x), attention(q, q, q)..."""
    _, op = CASES[name]
    xs = _inputs(name)[:1]
    x2 = fg.tensor(xs[0].numpy(), requires_grad=True)
    g = None
    for run in ("separate", "aliased"):
        x = fg.tensor(xs[0].numpy(), requires_grad=True)
        out = op(x, x2 if run == "separate" else x)
        g = _upstream(out) if g is None else g
        out.backward(fg.tensor(g, dtype=out.dtype)) if out.ndim else out.backward()
        if run == "separate":
            expected = [x.grad.numpy() + x2.grad.numpy()]
        else:
            _same(_grads([x]), expected, f"{name}(x, x)")


@pytest.mark.parametrize("name", sorted(SAME_TWICE))
def test_same_tensor_twice_in_one_call(name):
    """Against PyTorch, the reference for how a tensor used twice sums its gradients."""
    torch = pytest.importorskip("torch")
    start = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    grads = []
    for lib in (fg, torch):
        x = lib.tensor(start, requires_grad=True)
        out = SAME_TWICE[name](lib, x)
        out.backward(lib.tensor(_upstream(out)))
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_input_made_by_an_in_place_op(name):
    """The op's inputs are the results of recorded in-place ops (y = x * 1; y.mul_(1.5); y.add_(0.5)),
    against the same values made out of place."""
    results = []
    for in_place in (False, True):
        xs = _inputs(name)
        ys = []
        for x in xs:
            y = x * 1.0
            if in_place:
                y.mul_(1.5)
                y.add_(0.5)
            else:
                y = y * 1.5 + 0.5
            ys.append(y)
        out = _float_out(name, ys)
        out.backward(fg.tensor(_upstream(out), dtype=out.dtype)) if out.ndim else out.backward()
        results.append(_grads(xs))
    _same(results[1], results[0], f"{name} on in-place results")


def _node(out, name):
    """The tensor in out's graph made by the op class `name` (the case may end with another op)."""
    stack, seen = [out], set()
    while stack:
        t = stack.pop()
        if t._op is not None and type(t._op).__name__ == name:
            return t
        for x in (t._op.inputs if t._op is not None else ()):
            if id(x) not in seen:
                seen.add(id(x))
                stack.append(x)
    raise AssertionError(f"no {name} in the case's graph")


def _written_after(name, write_input):
    """Gradients of the case's op when, after it ran, one of its inputs (or its output) was written
    in place under no_grad and then restored, against a run with no write. Either the same
    gradients (restored values), or a refusal; but for a write that is NOT restored, backward must
    refuse or give the gradient of the values the op actually saw."""
    results = []
    for write in (False, True):
        xs = _inputs(name)
        ys = [x * 1.0 for x in xs]
        out = _float_out(name, ys)
        if not write_input:   # backward from the op's own output: the case may end with another op
            out = _node(out, name)
        g = fg.tensor(_upstream(out), dtype=out.dtype)
        if write:
            victim = ys[0] if write_input else out
            with fg.no_grad():
                victim.mul_(-3.0)   # a sign flip too: a ReLU mask read from the output changes
        try:
            out.backward(g) if out.ndim else out.backward()
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            return None
        results.append(_grads(xs))
    return results


@pytest.mark.parametrize("write_input", [True, False], ids=["input", "output"])
@pytest.mark.parametrize("name", NAMES)
def test_written_in_place_after_the_op_ran(name, write_input):
    """A backward that reads a buffer written in place after the op ran must refuse (PyTorch's
    version counter) rather than use the new values: the gradient, if any, is the unwritten run's."""
    results = _written_after(name, write_input)
    if results is not None:
        _same(results[1], results[0], f"{name} after its {'input' if write_input else 'output'} was written")


@pytest.mark.parametrize("name", NAMES)
def test_each_input_gets_its_own_gradient_buffer(name):
    """The backward pass may hand a gradient it made over as an input's .grad (no copy): no two
    tensors may then hold the same buffer, or a later accumulation into one (the input used again,
    here x·c_i after the op) changes the other."""
    xs = _inputs(name)
    out = _float_out(name, xs)
    g = _upstream(out)
    out.backward(fg.tensor(g, dtype=out.dtype)) if out.ndim else out.backward()
    alone = _grads(xs)
    xs = _inputs(name)
    out = _float_out(name, xs)
    scales = [1.5 + i for i in range(len(xs))]
    extra = sum(((x * c).sum().to(out.dtype) for x, c in zip(xs, scales)), fg.zeros((), dtype=out.dtype))
    total = (out * fg.tensor(g, dtype=out.dtype)).sum() if out.ndim else out
    (total + extra).backward()
    buffers = [x.grad._buf for x in xs if x.grad is not None]
    assert len({id(b) for b in buffers}) == len(buffers), f"{name}: inputs share a .grad buffer"
    expected = [np.full(x.shape, c, dtype=np.float32 if x.dtype is fg.float32 else np.float64) + (0 if a is None else a)
                for x, a, c in zip(xs, alone, scales)]
    _same(_grads(xs), expected, f"{name} with each input used again")


@pytest.mark.parametrize("method", ["tanh_", "sigmoid_", "exp_"])
def test_in_place_activation_output_written_again_is_refused(method):
    """y.tanh_() records Tanh out of place and y takes over its output, which Tanh's backward reads:
    a later write into y (under no_grad) must make backward refuse, not read the new values."""
    x = fg.tensor([0.5, -1.0], requires_grad=True)
    y = x * 1.0
    getattr(y, method)()
    with fg.no_grad():
        y.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward(fg.ones(2))
    z = x * 1.0   # without the write: the gradient as usual
    getattr(z, method)()
    z.backward(fg.ones(2))

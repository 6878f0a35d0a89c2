"""One checker for every op: forward against a numpy reference, backward against central finite
differences, both in float64 (tinygrad's test_ops idea, micrograd's float64 reference). Also the
kernel configurations (SIMD path, threads) that tests run under."""
import contextlib
import os

import numpy as np

import fastgrad as fg


# numpy references shared by the tests, along the last dimension as fastgrad computes them
def np_softmax(a):
    if a.size == 0:
        return a.copy()
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_log_softmax(a):
    if a.size == 0:
        return a.copy()
    m = a.max(axis=-1, keepdims=True)
    return (a - m) - np.log(np.exp(a - m).sum(axis=-1, keepdims=True))


def np_cross_entropy(logits, targets, reduction="mean"):
    losses = -np_log_softmax(logits)[np.arange(len(targets)), targets]
    return losses.mean() if reduction == "mean" else losses.sum()


def random_inputs(shapes, seed=0, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s) for s in shapes]


def check_op(fg_fn, np_fn, *shapes, inputs=None, seed=0, atol=1e-6, rtol=1e-6, grad_atol=1e-5, grad_rtol=1e-4,
             eps=1e-6, check_float32=True):
    """fg_fn maps fastgrad tensors to a tensor, np_fn maps numpy arrays to the expected array.

    Inputs are drawn uniformly for the given shapes (or taken from `inputs`). Checks, in float64:
    the forward value, then the gradient of sum(out * G) for a random G via backward() against
    central differences of fg_fn itself. With check_float32 the float32 forward is compared too.
    Returns the analytic gradients for further asserts."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (inputs if inputs is not None else random_inputs(shapes, seed))]
    tensors = [fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in arrays]
    out = fg_fn(*tensors)
    expected = np.asarray(np_fn(*arrays), dtype=np.float64)
    assert out.shape == expected.shape, f"shape {out.shape} != reference {expected.shape}"
    assert out.dtype is fg.float64
    np.testing.assert_allclose(out.numpy(), expected, atol=atol, rtol=rtol, err_msg="float64 forward")

    if check_float32:
        out32 = fg_fn(*[fg.tensor(a, dtype=fg.float32) for a in arrays])
        assert out32.dtype is fg.float32
        scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
        np.testing.assert_allclose(out32.numpy(), expected, atol=2e-5 * scale, rtol=2e-4, err_msg="float32 forward")

    upstream = np.random.default_rng(seed + 1).uniform(-1, 1, size=out.shape)
    out.backward(fg.tensor(upstream, dtype=fg.float64))
    analytic = [t.grad.numpy().copy() for t in tensors]

    def objective(perturbed):
        with fg.no_grad():
            return float(np.sum(fg_fn(*[fg.tensor(a, dtype=fg.float64) for a in perturbed]).numpy() * upstream))

    for index, array in enumerate(arrays):
        numeric = np.zeros_like(array)
        for flat in range(array.size):
            plus, minus = [a.copy() for a in arrays], [a.copy() for a in arrays]
            plus[index].flat[flat] += eps
            minus[index].flat[flat] -= eps
            numeric.flat[flat] = (objective(plus) - objective(minus)) / (2 * eps)
        np.testing.assert_allclose(analytic[index], numeric, atol=grad_atol, rtol=grad_rtol,
                                   err_msg=f"gradient of input {index}")
    return analytic


def _kernel_configs():
    """(path, threads) pairs to run under: every path this CPU supports (only the one forced by
    FASTGRAD_KERNEL_PATH, when CI sets it), each with all threads, plus one single-threaded.
    Falls back to the default alone while fastgrad has no set_kernel_path / set_num_threads."""
    if not hasattr(fg, "set_kernel_path"):
        return [(None, None)]
    forced = os.environ.get("FASTGRAD_KERNEL_PATH")
    paths = [forced] if forced else []
    if not forced:
        current = fg.kernel_path()
        for name in ("avx512", "avx2", "portable"):
            try:
                fg.set_kernel_path(name)
                paths.append(name)
            except (ValueError, RuntimeError):
                pass   # not supported by this CPU
        fg.set_kernel_path(current)
    if not hasattr(fg, "set_num_threads"):
        return [(p, None) for p in paths]
    most = max(2, fg.get_num_threads())
    return [(p, most) for p in paths] + [(paths[0], 1)]


KERNEL_CONFIGS = _kernel_configs()


@contextlib.contextmanager
def kernel_config(path, threads):
    """Runs the body on one kernel path and thread count, restoring the previous ones after."""
    saved_path = fg.kernel_path() if path is not None else None
    saved_threads = fg.get_num_threads() if threads is not None else None
    try:
        if path is not None:
            fg.set_kernel_path(path)
        if threads is not None:
            fg.set_num_threads(threads)
        yield
    finally:
        if path is not None:
            fg.set_kernel_path(saved_path)
        if threads is not None:
            fg.set_num_threads(saved_threads)

"""The backward engine: ordering, accumulation, fan-out, seeds, grad mode, graph lifetime."""
import gc
import weakref

import numpy as np
import pytest

import fastgrad as fg


def test_a_chain_of_ten_thousand_ops_needs_no_recursion():
    x = fg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-3)


def test_fan_out_sums_both_gradients():
    x = fg.tensor([2.0, 3.0], requires_grad=True)
    y = x * x + x          # x used three times
    y.sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]   # 2x + 1


def test_diamond_graph_is_visited_in_dependency_order():
    x = fg.tensor([1.5], requires_grad=True)
    a = x * 2.0
    b = a * a          # consumes a twice
    c = b + a          # and a again, after b
    c.sum().backward()
    assert x.grad.tolist() == [pytest.approx(8 * 1.5 + 2)]   # c = 4x² + 2x


def test_gradients_accumulate_across_backward_calls_until_cleared():
    w = fg.tensor([[1.0, 2.0]], requires_grad=True)
    for _ in range(3):
        (w * 3.0).sum().backward()
    assert w.grad.tolist() == [[9.0, 9.0]]
    w.zero_grad()
    assert w.grad is None


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"non-scalar output of shape \(2,\)"):
        y.backward()
    y.backward(fg.tensor([1.0, -1.0]))
    assert x.grad.tolist() == [2.0, -2.0]
    with pytest.raises(ValueError, match=r"grad has shape \(3,\)"):
        (x * 2.0).backward(fg.tensor([1.0, 2.0, 3.0]))


def test_backward_without_any_tensor_requiring_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (fg.tensor([1.0]) * 2.0).sum().backward()


def test_inputs_that_need_no_gradient_get_none():
    a = fg.tensor([[1.0, 2.0]], requires_grad=True)
    b = fg.tensor([[3.0], [4.0]])
    (a @ b).sum().backward()
    assert a.grad.tolist() == [[3.0, 4.0]]
    assert b.grad is None


def test_intermediate_gradients_are_not_kept():
    x = fg.tensor([1.0], requires_grad=True)
    h = x * 2.0
    (h * 3.0).sum().backward()
    assert h.grad is None and x.grad.tolist() == [6.0]


def test_no_grad_as_context_manager_and_decorator():
    x = fg.tensor([1.0], requires_grad=True)
    with fg.no_grad():
        y = x * 2.0
        assert not fg.is_grad_enabled()
    assert fg.is_grad_enabled()
    assert not y.requires_grad

    @fg.no_grad()
    def double(t):
        return t * 2.0

    assert not double(x).requires_grad
    assert (x * 2.0).requires_grad


def test_no_grad_nests_and_survives_exceptions():
    """Leaving the inner of two no_grad blocks keeps grad mode off; an exception leaving a block
    still turns it back on (ops read a process-wide count of threads in no_grad first)."""
    x = fg.tensor([1.0], requires_grad=True)
    with fg.no_grad():
        with fg.no_grad():
            pass
        assert not (x * 2.0).requires_grad and not fg.is_grad_enabled()
    with pytest.raises(KeyError):
        with fg.no_grad():
            raise KeyError("boom")
    assert fg.is_grad_enabled() and (x * 2.0).requires_grad


def test_detach_shares_storage_and_cuts_the_graph():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 1.0).detach()
    assert not d.requires_grad
    y = x.detach()
    y.numpy()[0] = 5.0
    assert x.tolist() == [5.0, 2.0]


def test_an_op_object_records_one_application():
    relu = fg.ops.ReLU()
    relu.forward(fg.tensor([1.0], requires_grad=True))
    with pytest.raises(RuntimeError, match="already recorded"):
        relu.forward(fg.tensor([2.0], requires_grad=True))


@pytest.mark.parametrize("op", [fg.ops.Add, fg.ops.Sub, fg.ops.Mul, fg.ops.Div])
def test_binary_ops_record_alike_on_both_paths(op, monkeypatch):
    """Add/Sub/Mul/Div write empty() and record() out in line for two tensors of one shape; a
    broadcast pair goes through record(). Both paths must decide and record alike."""
    from fastgrad import autograd

    def application(b_shape, needs, enabled, other_threads_in_no_grad):
        a, b = fg.ones(2, 3, requires_grad=needs[0]), fg.ones(*b_shape, requires_grad=needs[1])
        o = op()
        monkeypatch.setattr(autograd, "_threads_without_grad", other_threads_in_no_grad)
        monkeypatch.setattr(autograd._mode, "enabled", enabled)
        out = o.forward(a, b)
        monkeypatch.undo()
        linked = out._op is o and o.inputs == (a, b) and o.out_shape == (2, 3)
        return out.requires_grad, linked, out._op is None and o.inputs is None

    for needs in [(False, False), (True, False), (False, True), (True, True)]:
        # grad mode on with no thread in no_grad, on while another thread is in it, off in this thread
        for enabled, count in [(True, 0), (True, 1), (False, 1)]:
            same, broadcast = application((2, 3), needs, enabled, count), application((3,), needs, enabled, count)
            assert same == broadcast
            assert same == ((True, True, False) if any(needs) and enabled else (False, False, True))
    for b in (fg.ones(2, 3), fg.ones(3)):
        o = op()
        o.forward(fg.ones(2, 3, requires_grad=True), b)
        with pytest.raises(RuntimeError, match="already recorded"):
            o.forward(fg.ones(2, 3, requires_grad=True), b)


def test_binary_op_out_of_memory_names_the_shape(monkeypatch):
    from fastgrad.ops import elementwise

    def fail(*args):
        raise MemoryError
    monkeypatch.setattr(elementwise, "alloc_uninitialized", fail)
    with pytest.raises(MemoryError, match=r"float32 tensor of shape \(2, 3\): 24 bytes"):
        fg.ones(2, 3) + fg.ones(2, 3)


def test_graphs_are_freed_when_their_output_goes_away():
    gc.disable()   # only reference counting: a reference cycle would keep the buffers alive
    try:
        w = fg.randn(8, 8, requires_grad=True)
        h = (w @ w).relu()
        out = h.softmax().log_softmax().tanh().sigmoid().sum()
        alive = [weakref.ref(h), weakref.ref(out), weakref.ref(out._op.inputs[0])]
        out.backward()
        del h, out
        assert all(r() is None for r in alive)
    finally:
        gc.enable()


def test_numpy_operands_on_the_left_keep_the_graph():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = np.float64(3.0) * x + np.ones(2)   # numpy defers to Tensor's reflected operators
    assert isinstance(y, fg.Tensor) and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_np_array_copies_and_np_asarray_views():
    t = fg.tensor([1.0, 2.0])
    snapshot = np.array(t)
    snapshot[0] = 99.0
    assert t.tolist() == [1.0, 2.0]
    np.asarray(t)[0] = 5.0
    assert t.tolist() == [5.0, 2.0]

"""fg.autograd.Function against torch.autograd.Function: the tutorial's ReLU, a gradient reversal,
several outputs, PyTorch 2's setup_context form, non-differentiable outputs, unused outputs,
broadcast gradients, and the errors PyTorch raises."""
import numpy as np
import pytest

import fastgrad as fg

torch = pytest.importorskip("torch")


def functions(lib):
    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return grad_output * (x > 0).to(grad_output.dtype)

    class GradReverse(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, alpha):
            ctx.alpha = alpha
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.neg() * ctx.alpha, None

    class TwoOut(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w, x + w

        @staticmethod
        def backward(ctx, ga, gb):
            x, w = ctx.saved_tensors
            return ga * w + gb, ga * x + gb   # w's gradient has x's shape: summed to w's by the engine

    class RoundSTE(lib.autograd.Function):   # PyTorch 2's form
        @staticmethod
        def forward(x):
            return x.round()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.scale = 2.0

        @staticmethod
        def backward(ctx, g):
            return g * ctx.scale
    return MyReLU, GradReverse, TwoOut, RoundSTE


def run(lib):
    MyReLU, GradReverse, TwoOut, RoundSTE = functions(lib)
    x = lib.tensor(np.array([[-1.0, 2.0, 0.5], [3.0, -0.5, 1.5]]), dtype=lib.float64, requires_grad=True)
    w = lib.tensor(np.array([0.5, -2.0, 1.0]), dtype=lib.float64, requires_grad=True)
    a, b = TwoOut.apply(GradReverse.apply(MyReLU.apply(x * 2), 0.3), w)
    loss = (RoundSTE.apply(a * 1.3) * 2 + b ** 2).sum() + a.sum()
    loss.backward()
    return loss.item(), x.grad.numpy(), w.grad.numpy()


def test_matches_torch():
    ours, theirs = run(fg), run(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)


def test_unused_output_gets_zeros_or_none_and_needs_input_grad():
    seen = {}

    class Pair(fg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            seen["needs"] = ctx.needs_input_grad
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen["grads"] = (g1, g2)
            return g1 * 2, None
    x = fg.ones(3, requires_grad=True)
    first, _ = Pair.apply(x, fg.ones(3))
    first.sum().backward()
    assert seen["needs"] == (True, False) and seen["grads"][1] is None
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_non_differentiable_outputs_and_no_grad():
    class ArgmaxAndMax(fg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, index = x.max(0)
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(index)
            ctx.n = x.shape[0]
            return values, index

        @staticmethod
        def backward(ctx, g, _):
            index, = ctx.saved_tensors
            return fg.nn.functional.one_hot(index.reshape(1), ctx.n).reshape(-1).to(g.dtype) * g
    x = fg.tensor([1.0, 5.0, 2.0], requires_grad=True)
    value, index = ArgmaxAndMax.apply(x)
    assert value.requires_grad and not index.requires_grad
    value.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    with fg.no_grad():
        assert not ArgmaxAndMax.apply(x)[0].requires_grad


def test_errors_as_pytorch():
    class WrongCount(fg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g
    class WrongShape(fg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return fg.ones(7)
    x = fg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        WrongCount.apply(x, x).sum().backward()
    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="apply"):
        WrongShape()

    class InPlace(fg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2
    with pytest.raises(NotImplementedError, match="in-place custom Functions"):
        InPlace.apply(fg.ones(3, requires_grad=True) * 1.0)


def test_old_names():
    from fastgrad.autograd import Variable
    from fastgrad.autograd.function import once_differentiable
    v = Variable(fg.ones(2), requires_grad=True)
    assert v.requires_grad and once_differentiable(len) is len
    with fg.autograd.set_detect_anomaly(True):
        (v * 2).sum().backward()
    assert v.grad.tolist() == [2.0, 2.0]

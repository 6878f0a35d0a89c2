"""einsum, addmm and mv against PyTorch: values and every operand's gradient."""
import numpy as np
import pytest

import fastgrad as fg

torch = pytest.importorskip("torch")

EQUATIONS = [("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
             ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
             ("i,i->", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]), ("ij->ji", [(3, 4)]), ("ij->", [(3, 4)]),
             ("ij->j", [(3, 4)]), ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]), ("ij,jk", [(3, 4), (4, 5)]),
             ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("b i d, b j d -> b i j", [(2, 3, 4), (2, 5, 4)]),
             ("ij,ij->i", [(3, 4), (3, 4)]), ("...d,d->...", [(2, 3, 4), (4,)]), ("ijk->kji", [(2, 3, 4)]),
             ("ij,kj->ik", [(3, 1), (5, 4)]), ("bi,i->b", [(0, 4), (4,)]), ("i,i", [(3,), (3,)])]


@pytest.mark.parametrize("equation,shapes", EQUATIONS)
def test_einsum_matches_torch(equation, shapes):
    rng = np.random.default_rng(len(equation))
    xs = [rng.standard_normal(s) for s in shapes]
    ours = [fg.tensor(x, dtype=fg.float64, requires_grad=True) for x in xs]
    theirs = [torch.tensor(x, requires_grad=True) for x in xs]
    y, ty = fg.einsum(equation, *ours), torch.einsum(equation, *theirs)
    assert y.shape == tuple(ty.shape)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(fg.tensor(g, dtype=fg.float64))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_takes_a_list_of_operands():
    a, b = fg.randn(2, 3), fg.randn(3, 4)
    np.testing.assert_allclose(fg.einsum("ij,jk->ik", [a, b]).numpy(), (a @ b).numpy(), rtol=1e-6)


@pytest.mark.parametrize("equation,shapes,error", [
    ("ij,jk->ik", [(3, 4), (5, 6)], ValueError),     # j is 4 and 5
    ("ij->ik", [(3, 4)], ValueError),                # k in no operand
    ("ij,jk->ik", [(3, 4)], ValueError),             # two operands named, one given
    ("ijk->i", [(3, 4)], ValueError),                # three indices for a matrix
    ("ii->i", [(3, 3)], NotImplementedError),        # a diagonal
    ("i1,1k->ik", [(3, 4), (4, 5)], ValueError),     # not letters
])
def test_einsum_bad_input(equation, shapes, error):
    with pytest.raises(error, match="einsum"):
        fg.einsum(equation, *[fg.randn(*s) for s in shapes])


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_addmm_and_mv_match_torch(beta, alpha):
    rng = np.random.default_rng(3)
    b, m1, m2, v = rng.standard_normal(5), rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(4)
    ours = [fg.tensor(x, dtype=fg.float64, requires_grad=True) for x in (b, m1, m2)]
    theirs = [torch.tensor(x, requires_grad=True) for x in (b, m1, m2)]
    y = fg.addmm(*ours, beta=beta, alpha=alpha)
    ty = torch.addmm(*theirs, beta=beta, alpha=alpha)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    for a, t in zip(ours, theirs):   # beta = 0: PyTorch's input gradient is zeros, fastgrad's None
        np.testing.assert_allclose(0 if a.grad is None else a.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    if beta == alpha == 1:
        assert type(y._op).__name__ == "MatMulBias"   # the bias add is fused like x @ W + b
        np.testing.assert_allclose(ours[0].addmm(ours[1], ours[2]).numpy(), y.numpy())
    np.testing.assert_allclose(fg.tensor(m1).mv(fg.tensor(v)).numpy(), (m1 @ v).astype(np.float32), rtol=1e-5)
    with pytest.raises(ValueError, match="mv"):
        fg.mv(fg.tensor(m1), fg.tensor(m1))

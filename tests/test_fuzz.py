"""The differential fuzzer (tests/fuzz.py) in CI: a few hundred seeded random op graphs against
PyTorch, forward and backward, on every kernel path and on 1 and 2 threads. Run it longer with
`python tests/fuzz.py --cases N`."""
import pytest

pytest.importorskip("torch")
from fuzz import run_case, run_structured_case  # noqa: E402  (tests/ is on sys.path under pytest's rootdir-relative imports)


@pytest.mark.parametrize("block", range(8))
def test_random_graphs_agree_with_pytorch(block):
    findings = [f for case in range(block * 40, (block + 1) * 40) for f in run_case(case, seed=1)]
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("block", range(8))
def test_structured_graphs_agree_with_pytorch(block):
    """conv, pools, batch_norm, indexing, embedding, attention, layer_norm, gelu, movement chains."""
    findings = [f for case in range(block * 40, (block + 1) * 40) for f in run_structured_case(case, seed=1)]
    assert not findings, "\n".join(findings)

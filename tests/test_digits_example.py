"""examples/train_digits.py end to end, as the README's quick start runs it: it exits 0 only when
the test accuracy is at least 97% and the reloaded model predicts the same classes."""
import subprocess
import sys
from pathlib import Path

import pytest

for module in ("sklearn", "tqdm", "matplotlib"):
    pytest.importorskip(module)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_digits.py"


def test_train_digits(tmp_path):
    run = subprocess.run([sys.executable, str(EXAMPLE), "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the reloaded model predicts the same classes" in run.stdout
    accuracy = float(run.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 97.0
    for name in ("curves.png", "first_layer_weights.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "digits_mlp.safetensors").stat().st_size > 0

"""The runnable examples still run and learn, as the README's quick start runs them."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spiral_example_learns_the_spiral():
    assert load_example("train_spiral").main(steps=600) > 0.9


def test_train_digits(tmp_path):
    """Exits 0 only when the test accuracy is at least 97% and the reloaded model agrees."""
    for module in ("sklearn", "tqdm", "matplotlib"):
        pytest.importorskip(module)
    run = subprocess.run([sys.executable, str(EXAMPLES / "train_digits.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the reloaded model predicts the same classes" in run.stdout
    accuracy = float(run.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 97.0
    for name in ("curves.png", "first_layer_weights.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "digits_mlp.safetensors").stat().st_size > 0


def test_train_digits_cnn_briefly(tmp_path):
    """A short run (CI): it trains, writes both PNGs and the model, and the reloaded model agrees.
    The full run's accuracy (at least 98.5%) is the example's own exit status."""
    for module in ("sklearn", "tqdm", "matplotlib"):
        pytest.importorskip(module)
    run = subprocess.run([sys.executable, str(EXAMPLES / "train_digits_cnn.py"), "--out", str(tmp_path),
                          "--epochs", "3", "--min-accuracy", "0.6"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the reloaded model predicts the same classes" in run.stdout
    for name in ("first_layer_filters.png", "feature_maps.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "digits_cnn.safetensors").stat().st_size > 0


@pytest.mark.parametrize("name,args,expect", [
    ("char_mlp", ["--steps", "40"], ["final losses: train", "sample: "]),
    ("word2vec", ["--steps", "30", "--batch-size", "256"], ["words/s", "nearest to 'list'"]),
    ("char_gpt", ["--steps", "12", "--eval-every", "6", "--eval-batches", "2", "--sample-length", "20"],
     ["final losses: train", "the reloaded model gives the same logits"]),
])
def test_language_model_examples(tmp_path, name, args, expect):
    """Each LM example trains briefly (its own exit status checks that the loss fell) and writes its PNG."""
    for module in ("tqdm", "matplotlib"):
        pytest.importorskip(module)
    run = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for text in expect:
        assert text in run.stdout, run.stdout
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_train_digits_compiled_matches_eager(tmp_path):
    """--compile replays the captured step: the same run, to the printed loss curve and accuracy."""
    for module in ("sklearn", "tqdm", "matplotlib"):
        pytest.importorskip(module)
    outputs = []
    for flags in ([], ["--compile"]):
        run = subprocess.run([sys.executable, str(EXAMPLES / "train_digits.py"), "--out", str(tmp_path), "--epochs",
                              "4", "--min-accuracy", "0.5", *flags], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        outputs.append(run.stdout.split("test accuracy ")[1].split(" after")[0])
    assert outputs[0] == outputs[1]


def test_word2vec_compiled_matches_eager(tmp_path):
    """--compile replays the captured sparse step (SparseAdam): the same run, to the printed losses and
    nearest neighbours."""
    for module in ("tqdm", "matplotlib"):
        pytest.importorskip(module)
    outputs = []
    for flags in ([], ["--compile"]):
        run = subprocess.run([sys.executable, str(EXAMPLES / "word2vec.py"), "--out", str(tmp_path), "--steps", "30",
                              "--batch-size", "256", *flags], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        outputs.append([line for line in run.stdout.splitlines() if line.startswith(("final loss", "nearest to"))])
    assert outputs[0] == outputs[1] and len(outputs[0]) > 3

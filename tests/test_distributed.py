"""fastgrad.distributed and DistributedDataParallel, run under mpiexec in subprocesses (the scripts
in tests/distributed/), each with a time limit: MPIEXEC_TIMEOUT for mpiexec, a subprocess timeout
above it. Skipped when mpi4py (pip install ".[distributed]") is missing."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent / "distributed"
LIMIT = 120   # seconds for one mpiexec run on a shared 2-core machine; a hang is an error, never a stall


def test_import_fastgrad_without_mpi4py_and_the_error_that_names_the_extra():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import fastgrad as fg\n"
            "assert fg.nn.parallel.DistributedDataParallel\n"
            "try:\n"
            "    import fastgrad.distributed\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=LIMIT)
    assert result.returncode == 0, result.stderr
    assert "pip install \"fastgrad[distributed]\"" in result.stdout


mpi4py = pytest.importorskip("mpi4py", reason="fastgrad.distributed needs mpi4py: pip install \".[distributed]\"")


def mpiexec():
    found = Path(sys.executable).parent / "mpiexec"   # the mpich wheel's, beside this Python
    return str(found) if found.exists() else shutil.which("mpiexec")


def run(ranks, script, *args, check=True, with_mpi4py_module=True):
    if mpiexec() is None:
        pytest.skip("no mpiexec found (pip install mpich)")
    env = dict(os.environ, MPIEXEC_TIMEOUT=str(LIMIT), FASTGRAD_NUM_THREADS="1", OMP_NUM_THREADS="1")
    launch = ["-m", "mpi4py"] if with_mpi4py_module else []   # python -m mpi4py aborts all ranks on an exception
    result = subprocess.run([mpiexec(), "-n", str(ranks), sys.executable, *launch, str(HERE / script), *args],
                            capture_output=True, text=True, timeout=LIMIT + 30, env=env)
    if check:
        assert result.returncode == 0, f"mpiexec -n {ranks} {script} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.parametrize("ranks", [1, 3])
def test_collectives(ranks):
    assert run(ranks, "collectives.py").stdout.count("collectives OK") == ranks


def test_ddp_buckets_zero_grad_no_sync_and_mismatched_models():
    assert run(2, "ddp_features.py").stdout.count("DDP features OK") == 2


# float64: the same numbers up to rounding (the per-rank GEMMs sum their rows in another order);
# float32 over 20 steps: rounding differences carried through the updates, measured at most 2.3e-7
# (SGD and Adam, 2 and 3 ranks); the bound leaves a factor ~40 for other CPUs' kernel paths.
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One process training on the whole of every global batch, per (optimizer, dtype)."""
    cache = {}

    def get(optimizer, dtype):
        if (optimizer, dtype) not in cache:
            path = tmp_path_factory.mktemp("ref") / "params.npz"
            run(1, "train_steps.py", str(path), optimizer, dtype)
            cache[optimizer, dtype] = dict(np.load(path))
        return cache[optimizer, dtype]
    return get


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("ranks", [2, 3])
def test_ranks_on_slices_match_one_process_on_the_global_batch(reference, tmp_path, ranks, optimizer, dtype):
    path = tmp_path / "params.npz"
    run(ranks, "train_steps.py", str(path), optimizer, dtype)   # also checks every rank ends equal
    ours, ref = dict(np.load(path)), reference(optimizer, dtype)
    assert ours.keys() == ref.keys() and len(ref) == 20 * 6   # 20 steps x 6 parameters
    for key in ref:
        error = np.abs(ours[key] - ref[key]).max() / np.abs(ref[key]).max()
        assert error <= TOLERANCE[dtype], f"{key}: relative difference {error:.3g} with {ranks} ranks"


@pytest.mark.parametrize("mode, with_mpi4py_module", [("raise", True), ("raise", False), ("die", True),
                                                     ("hang", True), ("hang", False)])
def test_a_failing_rank_ends_the_job_with_an_error(mode, with_mpi4py_module):
    """Without `-m mpi4py`, fastgrad.distributed's own exception hook calls MPI_Abort."""
    result = run(2, "fault.py", mode, check=False, with_mpi4py_module=with_mpi4py_module)
    assert result.returncode != 0
    assert "unreachable" not in result.stdout
    if mode == "raise":   # ended by MPI_Abort at once, not by rank 0's 2 s timeout
        assert "rank 1 fails on purpose" in result.stderr and "DistributedTimeout" not in result.stderr
    if mode == "hang":
        assert "DistributedTimeout" in result.stderr and "waited" in result.stderr


def test_the_ddp_example_reaches_one_process_accuracy():
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    example = Path(__file__).parent.parent / "examples" / "train_digits_ddp.py"
    env = dict(os.environ, MPIEXEC_TIMEOUT=str(LIMIT))
    result = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "mpi4py", str(example)],
                            capture_output=True, text=True, timeout=LIMIT + 30, env=env)
    # exits 1 below --min-accuracy 0.97 (train_digits.py's bar); one progress bar, from rank 0
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("test accuracy") == 1 and "on 2 ranks" in result.stdout

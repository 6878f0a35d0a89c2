"""Which vector code path the C kernels take, and on how many threads.

At import the best path this CPU supports is active, unless FASTGRAD_KERNEL_PATH names one
(`avx512`, `avx2` or `portable`). The thread count comes from FASTGRAD_NUM_THREADS, else
OMP_NUM_THREADS, else every core this process may use. Results never depend on the thread count;
they differ between paths only by rounding (FMA, block sizes).
"""
import numbers
import os

from ._C import lib

_PATHS = {"portable": lib.FG_PATH_PORTABLE, "avx2": lib.FG_PATH_AVX2, "avx512": lib.FG_PATH_AVX512}
_NAMES = {v: k for k, v in _PATHS.items()}


def available_kernel_paths():
    """The paths this CPU and build can run, slowest first."""
    return [name for name, p in _PATHS.items() if lib.fg_cpu_supports(p)]


def kernel_path():
    """The active path: 'avx512', 'avx2' or 'portable'."""
    return _NAMES[lib.fg_kernel_path()]


def set_kernel_path(name):
    """Forces a path for every later kernel call; raises if unknown or not supported here."""
    if name not in _PATHS:
        raise ValueError(f"unknown kernel path {name!r}: expected one of {', '.join(_PATHS)}")
    if lib.fg_set_kernel_path(_PATHS[name]) != 0:
        raise RuntimeError(f"kernel path {name!r} needs CPU features this machine lacks; "
                           f"available here: {', '.join(available_kernel_paths())}")


def openmp_enabled():
    """True if the kernels were built with OpenMP (otherwise they always run on one thread)."""
    return bool(lib.fg_openmp_enabled())


MAX_THREADS = lib.FG_MAX_THREADS   # more would start that many OS threads for no gain


def set_num_threads(n):
    """The most threads a kernel may use, 1 to MAX_THREADS (256); small calls use one whatever
    this says. Any integer type (numpy's too)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_num_threads expects a positive integer up to {MAX_THREADS}, got {n!r}")
    lib.fg_set_num_threads(int(n))


def get_num_threads():
    """The most threads a kernel may use (1 in a build without OpenMP)."""
    return int(lib.fg_get_num_threads())


def _from_environment():
    path = os.environ.get("FASTGRAD_KERNEL_PATH", "").strip().lower()
    if path:
        try:
            set_kernel_path(path)
        except (ValueError, RuntimeError) as e:
            raise ImportError(f"FASTGRAD_KERNEL_PATH={path!r}: {e}") from None
    for var in ("FASTGRAD_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value:
            # OMP_NUM_THREADS may be a list ("4,2") for nested levels: the first entry is ours
            first = value.split(",")[0].strip()
            if not first.isdigit() or not 1 <= int(first) <= MAX_THREADS:
                raise ImportError(f"{var}={value!r}: expected a positive integer up to {MAX_THREADS}")
            set_num_threads(int(first))
            return
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        cores = os.cpu_count() or 1
    set_num_threads(min(max(1, cores), MAX_THREADS))


_from_environment()

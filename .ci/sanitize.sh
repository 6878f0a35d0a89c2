#!/usr/bin/env bash
# Builds fastgrad with AddressSanitizer + UndefinedBehaviorSanitizer (CMake option
# FASTGRAD_SANITIZE) into a fresh venv and runs the whole test suite under it.
# Any sanitizer report, in pytest or in a subprocess a test starts, fails the script.
#
#   .ci/sanitize.sh [pytest args...]        (PYTHON, VENV, BUILD_DIR may be overridden)
#   .ci/sanitize.sh --build-only            only the instrumented build (CI runs it beside other work)
#   .ci/sanitize.sh --no-build [pytest args...]   only the tests, on the build already in VENV
set -euo pipefail
cd "$(dirname "$0")/.."
build=1 test=1
case "${1:-}" in
    --build-only) test=0; shift ;;
    --no-build) build=0; shift ;;
esac

PYTHON=${PYTHON:-python3}
VENV=${VENV:-/tmp/fastgrad-asan-venv}
BUILD_DIR=${BUILD_DIR:-/tmp/fastgrad-asan-build}

if [ $build = 1 ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
        # No torch here: it is not instrumented and the plain run already compares against it.
        "$VENV/bin/pip" install -q numpy cffi pytest hypothesis scikit-build-core safetensors
    fi
    "$VENV/bin/pip" install -q --no-build-isolation --no-deps --force-reinstall -Cbuild-dir="$BUILD_DIR" \
        -Ccmake.define.FASTGRAD_SANITIZE=ON .
fi
[ $test = 1 ] || exit 0
REPORTS=$(mktemp -d /tmp/fastgrad-asan-reports.XXXXXX)

# The extension links libasan, which must be the first library loaded: preload it into Python.
LIBASAN=$(gcc -print-file-name=libasan.so)
[ -f "$LIBASAN" ] || { echo "sanitize.sh: libasan not found (gcc -print-file-name=libasan.so)"; exit 1; }

# detect_leaks=0: CPython never frees much of what it allocates at exit, which drowns real leaks
#   (the kernels' one allocation, the GEMM's per-thread workspace, is checked by RSS in test_memory).
# allocator_may_return_null=1 + max_allocation_size_mb: oversized allocations fail as MemoryError
#   (the bad-input tests check that) instead of aborting or swapping.
# PYTHONMALLOC=malloc: every Python/cffi buffer is its own malloc, with redzones around it
#   (pymalloc would pack small tensors side by side where an overflow goes unseen).
# log_path: reports from subprocesses are caught too, even where a test expects that process to fail.
export LD_PRELOAD="$LIBASAN"
export PYTHONMALLOC=malloc
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=8192:halt_on_error=1:abort_on_error=0:strict_string_checks=0:detect_stack_use_after_return=0:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$REPORTS/ubsan"

status=0
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests "$@" || status=$?
unset LD_PRELOAD

# The one expected line: the bad-input tests' oversized allocations, which fail (as MemoryError) by design.
if compgen -G "$REPORTS/*" > /dev/null && cat "$REPORTS"/* | grep -v "WARNING: AddressSanitizer failed to allocate" | grep -q .; then
    echo "sanitize.sh: sanitizer reports:"
    cat "$REPORTS"/*
    status=1
fi
rm -rf "$REPORTS"
exit $status

"""Where a step's time goes: per C kernel and per op, and how much of it is Python between kernels.

    with fg.profiler.profile() as prof:
        loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()
    print(prof.table())
    prof.export_chrome_trace("trace.json")   # chrome://tracing or ui.perfetto.dev opens it

While a profile is active, every kernel in the namespaces through which fastgrad calls them
(fastgrad/dtypes.py: each dtype's `k`, and `kernels` for the type-code ones such as fg_cast and
fg_strided_copy) and every op's forward and backward are replaced by timing wrappers; leaving the block puts the originals back, so fastgrad costs nothing extra when no profile
is on. A wrapper costs a few hundred nanoseconds a call (bench/profiler_overhead.py measures it).
Times are wall clock, inclusive: an op's time holds its kernels' (and those of any op it calls).
"""
from __future__ import annotations

import bisect
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from . import dtypes
from .autograd import Op

_KERNEL, _OP = "kernel", "op"
_active = threading.Lock()   # one profile at a time: they patch the same class attributes


def _op_classes() -> list[type]:
    """Every Op subclass (ops defined after import too, such as a user's), parents first."""
    found, stack = [], [Op]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return found


class profile:
    """A context manager that times kernels and ops run inside it (on any thread). Afterwards:
    `events` (kind, name, start_ns, end_ns, thread id), `table()`, `export_chrome_trace(path)`."""

    def __init__(self, ops: bool = True) -> None:
        self.ops = ops   # False: kernels only, the cheapest
        self.events: list[tuple[str, str, int, int, int]] = []
        self.start_ns: int | None = None
        self.end_ns: int | None = None
        self._restore: list[tuple[Any, str, Any]] = []

    # ---- patching ---------------------------------------------------------------------------------
    def __enter__(self) -> profile:
        if not _active.acquire(blocking=False):
            raise RuntimeError("profile: another fastgrad profile is already active")
        self.events = []
        record = self.events.append
        clock, thread = time.perf_counter_ns, threading.get_ident

        def kernel_wrapper(kernel: Callable[..., Any], name: str) -> Callable[..., Any]:
            def timed(*args: Any) -> Any:
                start = clock()
                result = kernel(*args)
                record((_KERNEL, name, start, clock(), thread()))
                return result
            return timed

        def op_wrapper(method: Callable[..., Any], suffix: str) -> Callable[..., Any]:
            def timed(op: Op, *args: Any, **kwargs: Any) -> Any:
                start = clock()
                result = method(op, *args, **kwargs)
                record((_OP, type(op).__name__ + suffix, start, clock(), thread()))
                return result
            return timed

        try:
            # every kernel is read through these: each dtype's own, and the type-code ones (fg_cast, ...)
            for kernels in [dtypes.kernels] + [d.k for d in dict.fromkeys(dtypes._BY_NAME.values())]:
                for name, kernel in list(vars(kernels).items()):
                    if not name.startswith("__"):
                        self._patch(kernels, name, kernel_wrapper(kernel, getattr(kernel, "__name__", name)))
            if self.ops:
                for cls in _op_classes():
                    for attr, suffix in (("forward", ".forward"), ("_backward", ".backward")):
                        if attr in vars(cls):
                            self._patch(cls, attr, op_wrapper(vars(cls)[attr], suffix))
        except BaseException:
            self.__exit__()
            raise
        self.start_ns = clock()
        return self

    def _patch(self, owner: Any, name: str, wrapper: Callable[..., Any]) -> None:
        self._restore.append((owner, name, vars(owner)[name]))
        setattr(owner, name, wrapper)

    def __exit__(self, *exc: object) -> None:
        self.end_ns = time.perf_counter_ns()
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore = []
        _active.release()

    # ---- reading ----------------------------------------------------------------------------------
    def _kernel_ns_within(self) -> Callable[[int, int, int], int]:
        """A function (thread, start, end) -> nanoseconds spent in kernels inside that interval."""
        per_thread: dict[int, list[tuple[int, int]]] = {}
        for kind, _, start, end, tid in self.events:
            if kind == _KERNEL:
                per_thread.setdefault(tid, []).append((start, end))
        index: dict[int, tuple[list[int], list[int]]] = {}
        for tid, spans in per_thread.items():
            spans.sort()
            starts, sums = [s for s, _ in spans], [0]
            for s, e in spans:
                sums.append(sums[-1] + e - s)
            index[tid] = (starts, sums)

        def within(tid: int, start: int, end: int) -> int:
            if tid not in index:
                return 0
            starts, sums = index[tid]
            lo, hi = bisect.bisect_left(starts, start), bisect.bisect_right(starts, end)
            return sums[hi] - sums[lo]   # kernels nest inside the op that called them
        return within

    def summary(self) -> dict[str, Any]:
        """{"wall_ns", "kernel_ns", "python_ns", "kernels": {name: [calls, total_ns]},
        "ops": {name: [calls, total_ns, kernel_ns]}} for the profiled block."""
        if self.start_ns is None or self.end_ns is None:
            raise RuntimeError("profile: read it after the `with` block")
        within = self._kernel_ns_within()
        kernels: dict[str, list[int]] = {}
        ops: dict[str, list[int]] = {}
        kernel_ns = 0
        for kind, name, start, end, tid in self.events:
            if kind == _KERNEL:
                row = kernels.setdefault(name, [0, 0])
                kernel_ns += end - start
            else:
                row = ops.setdefault(name, [0, 0, 0])
                row[2] += within(tid, start, end)
            row[0] += 1
            row[1] += end - start
        wall = self.end_ns - self.start_ns
        return {"wall_ns": wall, "kernel_ns": kernel_ns, "python_ns": max(wall - kernel_ns, 0), "kernels": kernels,
                "ops": ops}

    def table(self, sort_by: str = "total", row_limit: int | None = None) -> str:
        """Kernels, then ops, by total time (sort_by="calls" for call counts): calls, total and mean
        time, and for ops the share of their time that is Python (their time less their kernels');
        last, the block's wall time split into kernels and Python between kernel calls."""
        if sort_by not in ("total", "calls"):
            raise ValueError(f"table: sort_by is 'total' or 'calls', got {sort_by!r}")
        s = self.summary()
        key = (lambda kv: -kv[1][1]) if sort_by == "total" else (lambda kv: -kv[1][0])
        wall = s["wall_ns"] or 1
        lines = [f"{'kernel':<34}{'calls':>8}{'total ms':>11}{'mean us':>10}{'% wall':>8}"]
        for name, (calls, total) in sorted(s["kernels"].items(), key=key)[:row_limit]:
            lines.append(f"{name:<34}{calls:>8}{total / 1e6:>11.3f}{total / calls / 1e3:>10.2f}{100 * total / wall:>8.1f}")
        if s["ops"]:
            lines.append("")
            lines.append(f"{'op (inclusive)':<34}{'calls':>8}{'total ms':>11}{'mean us':>10}{'kernel ms':>11}"
                         f"{'% python':>10}")
            for name, (calls, total, kern) in sorted(s["ops"].items(), key=key)[:row_limit]:
                python = 100 * (total - kern) / total if total else 0.0
                lines.append(f"{name:<34}{calls:>8}{total / 1e6:>11.3f}{total / calls / 1e3:>10.2f}{kern / 1e6:>11.3f}"
                             f"{python:>10.1f}")
        lines.append("")
        lines.append(f"wall {s['wall_ns'] / 1e6:.3f} ms: kernels {s['kernel_ns'] / 1e6:.3f} ms "
                     f"({100 * s['kernel_ns'] / wall:.1f}%), Python between kernel calls {s['python_ns'] / 1e6:.3f} ms "
                     f"({100 * s['python_ns'] / wall:.1f}%)")
        return "\n".join(lines)

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """Writes the events as Chrome trace JSON (complete events, microseconds from the block's start,
        one row per thread), which chrome://tracing and Perfetto open."""
        if self.start_ns is None:
            raise RuntimeError("profile: export it after the `with` block")
        pid, t0 = os.getpid(), self.start_ns
        trace = [{"name": name, "cat": kind, "ph": "X", "ts": (start - t0) / 1e3, "dur": (end - start) / 1e3,
                  "pid": pid, "tid": tid} for kind, name, start, end, tid in self.events]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)

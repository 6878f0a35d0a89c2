"""fg.profiler: counts every kernel and op call, nests kernels in ops, restores everything it patched,
and writes a Chrome trace that loads as JSON with the expected events."""
import json

import pytest

import fastgrad as fg
import fastgrad.nn.functional as F
from fastgrad import dtypes
from fastgrad.ops import Mul


def _step():
    fg.manual_seed(0)
    model = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.ReLU(), fg.nn.Linear(8, 3))
    opt = fg.optim.SGD(model.parameters(), lr=0.1)
    x = fg.randn(5, 4)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), [0, 1, 2, 0, 1]).backward()
        opt.step()
    return step


def test_counts_kernels_and_ops_of_a_training_step():
    step = _step()
    with fg.profiler.profile() as prof:
        for _ in range(3):
            step()
    s = prof.summary()
    assert s["kernels"]["fg_linear_relu_f32"][0] == 3
    assert s["kernels"]["fg_linear_relu_backward_f32"][0] == 3
    assert s["kernels"]["fg_sgd_f32"][0] == 3 * 4   # one update per parameter
    assert s["ops"]["LinearReLU.forward"][0] == 3 and s["ops"]["CrossEntropy.backward"][0] == 3
    for calls, total, kernel in s["ops"].values():
        assert 0 <= kernel <= total
    assert s["kernel_ns"] + s["python_ns"] == s["wall_ns"]
    table = prof.table()
    for text in ("fg_linear_relu_f32", "LinearReLU.forward", "% python", "Python between kernel calls"):
        assert text in table


def test_an_op_holds_the_time_of_its_kernels():
    a = fg.ones(1000, requires_grad=True)
    with fg.profiler.profile() as prof:
        (a * a).sum().backward()
    events = {(kind, name): (start, end) for kind, name, start, end, _ in prof.events}
    k_start, k_end = events[("kernel", "fg_binary_f32")]
    op_start, op_end = events[("op", "Mul.forward")]
    assert op_start <= k_start <= k_end <= op_end
    assert prof.summary()["ops"]["Mul.forward"][2] == k_end - k_start


def test_type_code_kernels_are_seen():
    x = fg.randn(3, 4)
    cast = dtypes.kernels.cast
    with fg.profiler.profile() as prof:
        x.permute(1, 0).contiguous()
        x.to(fg.float64)
        fg.arange(5)
    kernels = prof.summary()["kernels"]
    assert {"fg_strided_copy", "fg_cast", "fg_range"} <= set(kernels)
    assert dtypes.kernels.cast is cast


def test_everything_patched_is_restored_and_profiles_do_not_nest():
    kernel = dtypes.float32.k.binary
    forward = Mul.forward
    with fg.profiler.profile():
        assert dtypes.float32.k.binary is not kernel
        with pytest.raises(RuntimeError, match="already active"):
            with fg.profiler.profile():
                pass
    assert dtypes.float32.k.binary is kernel and Mul.forward is forward
    with pytest.raises(ValueError):
        with fg.profiler.profile():
            raise ValueError("an error inside the block")
    assert dtypes.float32.k.binary is kernel   # restored on errors too
    with fg.profiler.profile(ops=False) as prof:
        fg.ones(3) * fg.ones(3)
    assert {kind for kind, *_ in prof.events} == {"kernel"}


def test_chrome_trace_loads_as_json_with_the_events(tmp_path):
    step = _step()
    with fg.profiler.profile() as prof:
        step()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert len(events) == len(prof.events)
    names = {e["name"] for e in events}
    assert {"fg_linear_relu_f32", "LinearReLU.forward", "CrossEntropy.backward", "fg_sgd_f32"} <= names
    for e in events:
        assert e["ph"] == "X" and e["cat"] in ("kernel", "op") and e["dur"] >= 0 and e["ts"] >= 0
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)


def test_reading_before_the_block_ends_is_an_error():
    prof = fg.profiler.profile()
    with pytest.raises(RuntimeError, match="after"):
        prof.table()
    with pytest.raises(ValueError, match="sort_by"):
        with prof:
            pass
        prof.table(sort_by="name")

"""fg.save / fg.load: safetensors round trips, the file's contents, and the error cases."""
import os

import numpy as np
import pytest
from safetensors import safe_open

import fastgrad as fg


def mlp(seed, hidden=8):
    fg.manual_seed(seed)
    return fg.nn.Sequential(fg.nn.Linear(4, hidden), fg.nn.ReLU(), fg.nn.Linear(hidden, 3))


def params(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_model_round_trip(tmp_path):
    a, b = mlp(0), mlp(1)
    path = tmp_path / "model.safetensors"
    fg.save(a.state_dict(), path)
    b.load_state_dict(fg.load(path))
    x = fg.randn(5, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert os.listdir(tmp_path) == ["model.safetensors"]   # no partial file left behind


def test_dtypes_values_and_metadata_survive(tmp_path):
    state = {"w32": fg.tensor([[1.5, -2.0]]), "w64": fg.tensor([1e-300, 3.0], dtype=fg.float64),
             "raw": np.arange(6, dtype=np.float32).reshape(2, 3), "scalar": fg.tensor(7.0)}
    path = str(tmp_path / "s.safetensors")
    fg.save(state, path, metadata={"note": "hello"})
    loaded = fg.load(path)
    assert set(loaded) == set(state)
    assert loaded["w32"].dtype is fg.float32 and loaded["w64"].dtype is fg.float64
    for k, v in state.items():
        np.testing.assert_array_equal(loaded[k].numpy(), np.asarray(v))
    assert loaded["scalar"].shape == ()
    with safe_open(path, framework="numpy") as f:
        assert f.metadata() == {"note": "hello"}
        assert f.get_tensor("w32").dtype == np.float32


@pytest.mark.parametrize("damage", [lambda raw: raw[: len(raw) // 2], lambda raw: raw[:-1], lambda raw: raw[:5],
                                    lambda raw: b"", lambda raw: b"\xff" * len(raw),
                                    lambda raw: raw[:8] + b"[" + raw[9:]],
                         ids=["half", "last_byte", "five_bytes", "empty", "garbage", "bad_json"])
def test_truncated_or_corrupt_files_raise_and_leave_the_model_as_it_was(tmp_path, damage):
    path = tmp_path / "m.safetensors"
    fg.save(mlp(1).state_dict(), path)
    path.write_bytes(damage(path.read_bytes()))
    model = mlp(0)
    before = params(model)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        model.load_state_dict(fg.load(path))
    for k, v in params(model).items():
        np.testing.assert_array_equal(v, before[k])


def test_a_file_of_another_model_raises_and_leaves_the_model_as_it_was(tmp_path):
    path = tmp_path / "other.safetensors"
    fg.save(mlp(1, hidden=16).state_dict(), path)
    model = mlp(0)
    before = params(model)
    with pytest.raises(ValueError, match=r"0.weight: shape \(16, 4\) in the state_dict, \(8, 4\) in the model"):
        model.load_state_dict(fg.load(path))
    for k, v in params(model).items():
        np.testing.assert_array_equal(v, before[k])


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        fg.load(tmp_path / "missing.safetensors")
    from safetensors.numpy import save_file
    save_file({"steps": np.arange(3)}, str(tmp_path / "ints.safetensors"))
    steps = fg.load(tmp_path / "ints.safetensors")["steps"]   # int64 tensors exist now
    assert steps.dtype is fg.int64 and steps.tolist() == [0, 1, 2]
    save_file({"big": np.array([2**63], dtype=np.uint64)}, str(tmp_path / "u64.safetensors"))
    with pytest.raises(ValueError, match="'big'.*int64 range"):
        fg.load(tmp_path / "u64.safetensors")
    header = b'{"h":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}'
    (tmp_path / "bf16.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bytes(4))
    with pytest.raises(ValueError, match="dtype numpy cannot read"):
        fg.load(tmp_path / "bf16.safetensors")


def test_save_errors(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="metadata must be a dict of str to str"):
        fg.save({"a": fg.zeros(2)}, path, metadata={"n": 1})
    with pytest.raises(TypeError, match="metadata is kept only in a safetensors file"):
        fg.save({"state": {"step": 1}}, path, metadata={"n": "1"})
    with pytest.raises(FileNotFoundError, match="no such directory"):
        fg.save({"a": fg.zeros(2)}, tmp_path / "missing" / "x.safetensors")
    assert not os.listdir(tmp_path)


def test_a_checkpoint_of_model_optimizer_and_epoch_round_trips_as_torch_save_does(tmp_path):
    """What training scripts save: nested dicts with the optimizer's state and plain numbers."""
    model = mlp(0)
    opt = fg.optim.Adam(model.parameters(), lr=1e-3)
    model(fg.randn(3, 4)).sum().backward()
    opt.step()
    path = tmp_path / "checkpoint.pt"
    fg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 7, "losses": [0.5, 0.25]}, path)
    ck = fg.load(path, map_location="cpu")   # weights only, as torch.load's default
    assert ck["epoch"] == 7 and ck["losses"] == [0.5, 0.25]
    other = mlp(1)
    other_opt = fg.optim.Adam(other.parameters(), lr=1e-3)
    other.load_state_dict(ck["model"])
    other_opt.load_state_dict(ck["optimizer"])
    for k, v in params(other).items():
        np.testing.assert_array_equal(v, params(model)[k])
    x = fg.randn(3, 4)
    for m, o in ((model, opt), (other, other_opt)):   # the restored optimizer continues the same run
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    for k, v in params(other).items():
        np.testing.assert_array_equal(v, params(model)[k])


def test_a_whole_model_pickles_and_loads_only_when_trusted(tmp_path):
    model = mlp(0)
    path = tmp_path / "model.pt"
    fg.save(model, path)
    with pytest.raises(Exception, match="weights_only=False"):
        fg.load(path)
    back = fg.load(path, weights_only=False)
    x = fg.randn(2, 4)
    np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())


def test_file_objects_both_formats_and_map_location(tmp_path):
    import io
    for obj in ({"w": fg.ones(3)}, {"w": fg.ones(3), "step": 2}):
        buffer = io.BytesIO()
        fg.save(obj, buffer)
        buffer.seek(0)
        back = fg.load(buffer)
        assert back["w"].tolist() == [1.0, 1.0, 1.0] and back.get("step", 2) == 2
    with pytest.raises((ValueError, RuntimeError), match="(?i)cuda"):
        fg.load(io.BytesIO(b""), map_location="cuda:0")
    path = tmp_path / "broken.pt"
    fg.save({"a": [1, 2, 3]}, path)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="not a valid pickle"):
        fg.load(path)


def test_load_refuses_what_is_not_a_regular_file(tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):
        fg.load(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero", "/dev/null"):   # a FIFO would block and /dev/zero never end
        with pytest.raises(ValueError, match="not a regular file"):
            fg.load(path)


def test_paths_as_bytes_and_with_nul(tmp_path):
    path = os.fsencode(tmp_path / "b.safetensors")
    fg.save({"w": fg.ones(2)}, path)
    assert fg.load(path)["w"].tolist() == [1.0, 1.0]
    for fn in (lambda p: fg.save({"w": fg.ones(2)}, p), fg.load):
        with pytest.raises(ValueError, match="NUL"):
            fn(str(tmp_path / "a\0b"))
    with pytest.raises(TypeError, match="path"):
        fg.load(3)


def test_everything_save_writes_load_reads(tmp_path):
    path = tmp_path / "all.safetensors"
    fg.save({"f16": np.array([1.5, -2], dtype=np.float16), "i32": np.array([7, -3], dtype=np.int32),
             "i64": fg.tensor([2**40, -1]), "b": fg.tensor([True, False]), "f64": fg.zeros(1, dtype=fg.float64)}, path)
    back = fg.load(path)
    assert back["f16"].dtype is fg.float32 and back["f16"].tolist() == [1.5, -2.0]
    assert back["i32"].dtype is fg.int64 and back["i32"].tolist() == [7, -3]
    assert back["i64"].tolist() == [2**40, -1] and back["b"].tolist() == [True, False]
    assert back["f64"].dtype is fg.float64
    with pytest.raises(ValueError, match="__metadata__"):
        fg.save({"__metadata__": fg.zeros(1)}, path)


def test_load_reads_the_file_into_memory_and_reports_damage(tmp_path):
    path = tmp_path / "w.safetensors"
    fg.save({"w": fg.ones(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])   # truncated, as by another process mid-write
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        fg.load(path)
    header = b'{"f8":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}'
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(2))
    with pytest.raises(ValueError, match="safetensors|dtype"):
        fg.load(path)

"""The parts of nn.Module's API that programs written for PyTorch lean on: moving and casting a model
(.to(device), .double()), next(model.parameters()), registering and finding submodules by name,
requires_grad_, and forward hooks."""
import numpy as np
import pytest

import fastgrad as fg
import fastgrad.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.norm = nn.BatchNorm1d(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.norm(self.body(x)))


def test_to_cpu_and_casts_keep_each_tensor_object():
    fg.manual_seed(0)
    model = Net()
    params = list(model.parameters())
    opt = fg.optim.SGD(model.parameters(), lr=0.1)
    assert model.to("cpu") is model and model.to(fg.device("cpu")) is model and model.cpu() is model
    assert next(model.parameters()) is params[0]   # PyTorch code finds the dtype this way
    model.double()
    assert all(p is q and p.dtype == fg.float64 for p, q in zip(model.parameters(), params))
    assert model.norm.running_mean.dtype == fg.float64 and model.norm.num_batches_tracked.dtype == fg.int64
    out = model(fg.randn(5, 3, dtype=fg.float64))
    out.sum().backward()
    opt.step()   # the optimizer made before the cast updates the cast parameters
    assert model.to("cpu", fg.float32) is model and params[0].dtype == fg.float32
    assert params[0].grad.dtype == fg.float32
    model.float()
    model.to(fg.randn(1, dtype=fg.float64))
    assert params[2].dtype == fg.float64
    model.type(fg.float32)
    assert params[2].dtype == fg.float32 and model.norm.num_batches_tracked.dtype == fg.float32   # as torch's type()


def test_devices_and_dtypes_that_do_not_exist_are_refused():
    model = Net()
    with pytest.raises(TypeError, match="floating point"):
        model.to(fg.int64)
    with pytest.raises((ValueError, RuntimeError), match="(?i)cuda"):
        model.to("cuda")
    with pytest.raises((ValueError, RuntimeError), match="(?i)cuda"):
        model.cuda()
    with pytest.raises(TypeError, match="float16"):
        model.half()
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.to(fg.float64, colour="red")


def test_listings_walk_with_next_and_add_as_lists():
    model = Net()
    params = model.parameters()
    assert next(params) is model.body[0].weight and next(params) is model.body[0].bias
    assert len(model.parameters()) == 6 and isinstance(model.parameters() + [], list)
    assert next(model.children()) is model.body and next(model.modules()) is model
    assert next(model.buffers()) is model.norm.running_mean
    walked = model.children()
    assert [next(walked) for _ in range(3)] == [model.body, model.norm, model.head]
    with pytest.raises(StopIteration):
        next(walked)


def test_registering_and_finding_by_name():
    model = Net()
    model.add_module("extra", nn.Linear(2, 2))
    model.register_module("extra2", nn.Tanh())
    model.register_parameter("scale", fg.ones(2, requires_grad=True))
    assert [n for n, _ in model.named_children()][-2:] == ["extra", "extra2"]
    assert "scale" in dict(model.named_parameters())
    model.register_parameter("frozen", fg.ones(2))   # a parameter even without requires_grad, as registered
    assert "frozen" in model.state_dict()
    assert model.get_submodule("body.0") is model.body[0]
    assert model.get_parameter("body.0.weight") is model.body[0].weight
    assert model.get_buffer("norm.running_var") is model.norm.running_var
    assert model.get_submodule("") is model
    with pytest.raises(AttributeError, match="nope"):
        model.get_submodule("body.nope")
    with pytest.raises(AttributeError, match="not an nn.Module parameter"):
        model.get_parameter("head.running_mean")
    with pytest.raises(KeyError, match="without '.'"):
        model.add_module("a.b", nn.Tanh())
    with pytest.raises(TypeError, match="not a Module"):
        model.add_module("x", 3)
    with pytest.raises(TypeError, match="leaf Tensor"):
        model.register_parameter("p", fg.ones(2, requires_grad=True) * 2)


def test_requires_grad_freezes_and_thaws():
    model = Net()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters()) and len(model.parameters()) == 6
    model.head.requires_grad_()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["head.weight", "head.bias"]


def test_forward_hooks_see_and_may_replace_inputs_and_outputs():
    torch = pytest.importorskip("torch")
    fg.manual_seed(0)
    model = Net().eval()
    seen = []
    handle = model.body.register_forward_hook(lambda m, args, out: seen.append((m, args[0].shape, out.shape)))
    x = fg.randn(5, 3)
    y = model(x)
    assert seen == [(model.body, (5, 3), (5, 4))]
    handle.remove()
    model(x)
    assert len(seen) == 1
    with model.head.register_forward_hook(lambda m, args, out: out * 0):
        assert float(model(x).abs().sum()) == 0
    np.testing.assert_array_equal(model(x).numpy(), y.numpy())
    pre = model.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    zero_in = model(x)
    pre.remove()
    np.testing.assert_array_equal(zero_in.numpy(), model(fg.zeros(5, 3)).numpy())
    # the same contract as torch's hooks
    t = torch.nn.Linear(3, 4)
    t_seen = []
    t.register_forward_hook(lambda m, args, out: t_seen.append(type(args).__name__))
    t(torch.randn(2, 3))
    f = nn.Linear(3, 4)
    f_seen = []
    f.register_forward_hook(lambda m, args, out: f_seen.append(type(args).__name__))
    f(fg.randn(2, 3))
    assert f_seen == t_seen == ["tuple"]


def test_module_dict_entries_are_attributes_too():
    import copy
    d = nn.ModuleDict({"wte": nn.Embedding(5, 3), "head": nn.Linear(3, 5, bias=False)})
    assert d.wte is d["wte"]
    d.wte.weight = d.head.weight   # weight tying, as GPT programs write it
    assert d["wte"].weight is d["head"].weight and len(d.parameters()) == 1
    d.extra = nn.Tanh()
    assert "extra" in d and [k for k in d] == ["wte", "head", "extra"]
    d.note = "kept as an attribute"
    assert d.note == "kept as an attribute" and "note" not in d
    with pytest.raises(AttributeError, match="missing"):
        d.missing
    clone = copy.deepcopy(d)
    assert clone.wte is not d.wte and clone.wte.weight is clone.head.weight


def test_sequential_of_an_ordered_dict_names_its_layers_and_runs_their_hooks():
    from collections import OrderedDict
    torch = pytest.importorskip("torch")
    layers = OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU()), ("out", nn.Linear(3, 1))])
    seq = nn.Sequential(layers)
    t_seq = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 3)), ("act", torch.nn.ReLU()),
                                             ("out", torch.nn.Linear(3, 1))]))
    assert list(seq.state_dict()) == list(t_seq.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert seq.fc is layers["fc"] and seq[1:].out is layers["out"] and len(seq[1:]) == 2
    seen = []
    seq.fc.register_forward_hook(lambda m, args, out: seen.append(out.shape))   # inside the fused Linear+ReLU
    x = fg.randn(4, 2)
    y = seq(x)
    assert seen == [(4, 3)]
    np.testing.assert_allclose(y.numpy(), seq.out(seq.fc(x).relu()).numpy(), rtol=1e-6)
    with pytest.raises(AttributeError, match="nope"):
        seq.nope


def test_legacy_constructors_and_size():
    assert fg.Tensor([1, 2]).dtype == fg.float32 and fg.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert fg.Tensor(2, 3).shape == (2, 3) and fg.Tensor().shape == (0,)
    assert fg.FloatTensor(np.ones(2)).dtype == fg.float32
    assert fg.LongTensor([1, 2]).dtype == fg.int64 and fg.DoubleTensor(2).dtype == fg.float64
    assert fg.BoolTensor([True]).dtype == fg.bool
    assert fg.randn(2, 3).shape == fg.Size([2, 3]) and fg.Size([2, 3]).numel() == 6
    assert repr(fg.Size([2, 3])) == "fastgrad.Size([2, 3])"
    x = fg.randn(4, 3, 2)   # .shape and .size() are fg.Size, as in PyTorch
    assert type(x.shape) is fg.Size and type(x.size()) is fg.Size and x.size() == (4, 3, 2)
    assert x.shape.numel() == x.size().numel() == 24 and x.shape[1] == 3 and x.size(-1) == 2
    assert str(x.shape) == f"{x.shape}" == "(4, 3, 2)"   # (error messages show shapes as tuples)
    assert x.view(x.shape[0], -1).shape == (4, 6) and x.reshape(x.shape).shape == x.shape
    with pytest.raises(TypeError, match="sizes or one sequence"):
        fg.Tensor([1], [2])
    with pytest.raises(TypeError, match="unexpected keyword"):
        fg.Tensor(2, dtype=fg.float64)


def test_a_captured_step_refuses_a_module_with_a_forward_hook():
    model = nn.Linear(3, 2)
    handle = model.register_forward_hook(lambda m, args, out: None)
    step = fg.compile(fg.no_grad()(lambda x: model(x).sum()))
    x = fg.randn(4, 3)
    step(x)   # the warm-up runs eagerly, hooks and all
    with pytest.raises(fg.CaptureError, match="forward hook on Linear"):
        step(x)
    handle.remove()
    step = fg.compile(fg.no_grad()(lambda x: model(x).sum()))
    for _ in range(3):
        assert float(step(x)) == float(model(x).sum())
    assert step.last is not None   # recorded and replayed once the hook is gone


def test_sequential_grows_and_changes_as_pytorchs():
    """add_module / attribute assignment append a named layer (or replace the one of that name);
    item assignment replaces a layer (transfer learning's new head); del, insert, extend and pop
    renumber as PyTorch's do. The state_dict keys follow each change."""
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Sequential(), torch.nn.Sequential()
    for lib, m in ((nn, ours), (torch.nn, theirs)):
        m.add_module("fc", lib.Linear(2, 3))
        m.act = lib.ReLU()
        m.add_module("out", lib.Linear(3, 4))
        m[-1] = lib.Linear(3, 5)   # a new head
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert ours(fg.ones(1, 2)).shape == (1, 5) and len(ours) == 3 and len(list(ours.parameters())) == 4
    for lib, m in ((nn, ours), (torch.nn, theirs)):
        del m[1]
        m.insert(0, lib.Identity())
        m.extend([lib.Tanh()])
        assert type(m.pop(0)).__name__ == "Identity"
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs] == ["Linear", "Linear", "Tanh"]
    with pytest.raises(TypeError, match="not a fastgrad.nn.Module"):
        ours[0] = "relu"


def _members_script(lib):
    """What code written against PyTorch's internals does with _modules, _parameters and _buffers; the
    structure each step leaves, as plain data."""
    nn = lib.nn
    seen = []

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.act = nn.ReLU()
            self.keys = nn.Linear(2, 2)   # an attention layer's name, not a mapping's method
    block = Block()
    seen.append(list(block._modules))
    block._modules["fc"] = nn.Linear(2, 4)               # model surgery: a layer replaced by name
    del block._modules["act"]
    seen.append([(k, type(v).__name__) for k, v in block._modules.items()] + [tuple(block.fc.weight.shape)])
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq._modules["0"] = nn.Linear(2, 5)
    seq._modules["2"] = nn.Tanh()                         # the next position: appended
    seen.append([type(m).__name__ for m in seq] + [tuple(seq[0].weight.shape)])
    del seq._modules["1"]
    seen.append([type(m).__name__ for m in seq])
    lst, dct = nn.ModuleList([nn.ReLU()]), nn.ModuleDict({"a": nn.ReLU()})
    lst._modules["1"] = nn.Tanh()
    dct._modules["b"] = nn.Tanh()
    seen.append([len(lst), list(dct.keys()), list(dct._modules)])
    lin = nn.Linear(2, 3)
    seen.append(list(lin._parameters) + [tuple(lin._parameters["weight"].shape)])
    lin._parameters["bias"] = None
    lin._buffers["mask"] = lib.ones(3)
    seen.append([lin.bias is None, len(list(lin.parameters())), list(dict(lin.named_buffers())),
                 list(lin.state_dict())])
    seen.append(list(nn.BatchNorm1d(3)._buffers))
    seen.append(len(lin._modules) + len(block.fc._modules))
    return seen


def test_modules_parameters_and_buffers_dicts_read_and_write_as_pytorchs():
    torch = pytest.importorskip("torch")
    assert _members_script(fg) == _members_script(torch)
    lin = nn.Linear(2, 3)
    with pytest.raises(KeyError):
        del lin._modules["nothing"]
    with pytest.raises(TypeError, match="keys are strings"):
        lin._parameters[0] = None
    with pytest.raises(TypeError, match=r"_modules\['fc'\]: Tensor is not a fastgrad.nn.Module"):
        lin._modules["fc"] = fg.ones(2)

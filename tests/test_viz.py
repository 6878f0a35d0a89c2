"""fg.viz: the DOT text of a known graph, its rendering where Graphviz is installed, and summary()."""
import re
import shutil

import pytest

import fastgrad as fg
import fastgrad.nn.functional as F


def test_dot_text_of_a_known_graph():
    a = fg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    b = fg.tensor([[4.0, 5.0, 6.0]])
    loss = (a * b).sum()
    assert fg.viz.graph(loss, params={"a": a}) == """\
digraph fastgrad {
  rankdir=LR;
  node [fontname="Helvetica", fontsize=10];
  t0 [label="() float32\\nrequires_grad", shape=box, style=filled, fillcolor=darkolivegreen1];
  op1 [label="Sum", shape=ellipse];
  op1 -> t0;
  t2 [label="(1, 3) float32\\nrequires_grad", shape=box, style=filled, fillcolor=lightblue];
  t2 -> op1;
  op3 [label="Mul", shape=ellipse];
  op3 -> t2;
  t4 [label="a\\n(1, 3) float32\\nrequires_grad", shape=box, style=filled, fillcolor=lightblue];
  t4 -> op3;
  t5 [label="(1, 3) float32\\nno grad", shape=box, style=filled, fillcolor=lightgrey];
  t5 -> op3 [style=dashed];
}
"""


def test_graph_of_a_model_names_parameters_and_shares_nodes():
    fg.manual_seed(0)
    model = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.ReLU(), fg.nn.Linear(8, 3))
    x = fg.randn(5, 4)
    out = model(x)
    loss = F.cross_entropy(out + out, [0, 1, 2, 0, 1])   # `out` used twice: one node, two edges
    dot = fg.viz.graph(loss, params=dict(model.named_parameters()))
    for text in ('label="CrossEntropy"', 'label="LinearReLU"', 'label="0.weight\\n(8, 4) float32',
                 'label="2.bias\\n(3,) float32'):
        assert text in dot
    nodes = re.findall(r'(t\d+) \[label="\(5, 3\) float32', dot)   # out + out, then out
    assert [dot.count(f"{n} -> ") for n in nodes] == [1, 2]
    assert fg.viz.graph(fg.ones(2)).count("->") == 0   # a leaf alone


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("ext, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_graph_renders_to_svg_and_png(tmp_path, ext, magic):
    a = fg.ones(2, 2, requires_grad=True)
    path = tmp_path / f"g.{ext}"
    dot = fg.viz.graph((a @ a).relu(), path=path)
    assert dot.startswith("digraph") and magic in path.read_bytes()[:400]


def test_bad_inputs():
    with pytest.raises(TypeError, match="Tensor"):
        fg.viz.graph([1.0])
    with pytest.raises(ValueError, match="extension"):
        fg.viz.render("digraph {}", "picture")
    with pytest.raises(TypeError, match="Module"):
        fg.viz.summary(lambda x: x, fg.ones(1))


def test_summary_lists_layers_shapes_and_parameter_counts():
    fg.manual_seed(0)
    model = fg.nn.Sequential(fg.nn.Linear(4, 8), fg.nn.ReLU(), fg.nn.Linear(8, 3, bias=False))
    x = fg.randn(5, 4)
    before = model(x).numpy().copy()
    table = fg.viz.summary(model, x).splitlines()
    assert table[0].split() == ["layer", "type", "output", "shape", "params"]
    assert table[1].split() == ["(model)", "Sequential", "(5,", "3)", "0"]
    assert table[2].split() == ["0", "Linear", "(5,", "8)", "40"]
    assert table[3].split() == ["1", "ReLU", "(5,", "8)", "0"]
    assert table[4].split() == ["2", "Linear", "(5,", "3)", "24"]
    assert table[5] == "total parameters: 64 (64 trainable)"
    assert (model(x).numpy() == before).all()   # the model works as before afterwards
    assert "forward" not in vars(model) and all("forward" not in vars(m) for m in model.layers)

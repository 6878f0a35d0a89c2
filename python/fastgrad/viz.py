"""Pictures of a model: the backward graph as Graphviz DOT, and a table of layers.

    dot = fg.viz.graph(loss, params=dict(model.named_parameters()))   # DOT text
    fg.viz.graph(loss, path="loss.svg")      # also rendered, where graphviz and `dot` are installed
    print(fg.viz.summary(model, x))          # layers, output shapes, parameter counts

graph() reads what the ops recorded: each op node (`_op`) and its inputs, as the backward pass
walks them. Tensors are boxes (name, shape, dtype; blue when they need a gradient, grey when not),
ops are ellipses; an edge runs from each input to the op that consumed it, and from each op to the
tensor it made. It draws what exists, so call it before the graph is freed (any time while you hold
the output).
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import autograd
from .tensor import Tensor

if TYPE_CHECKING:
    from .nn.modules import Module

_NEEDS_GRAD, _NO_GRAD, _OUTPUT = "lightblue", "lightgrey", "darkolivegreen1"


def _quote(text: object) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _tensor_label(t: Tensor, name: str) -> str:
    shape = "(" + ", ".join(map(str, t.shape)) + ("," if len(t.shape) == 1 else "") + ")"
    grad = "requires_grad" if t.requires_grad else "no grad"
    return "\n".join(([name] if name else []) + [f"{shape} {t.dtype.name}", grad])


def graph(tensor: Tensor, params: Mapping[str, Tensor] | None = None,
          path: str | os.PathLike[str] | None = None) -> str:
    """The backward graph that ends in `tensor` as Graphviz DOT text. `params` ({name: tensor}, e.g.
    dict(model.named_parameters())) names the tensors it contains. With `path` ("graph.svg",
    "graph.png", ...), the picture is also rendered there (render())."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"viz.graph: expected a fastgrad Tensor, got {type(tensor).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}
    lines = ["digraph fastgrad {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    ids: dict[int, str] = {}

    def node(obj: object, prefix: str) -> str:
        key = id(obj)
        if key not in ids:
            ids[key] = f"{prefix}{len(ids)}"
        return ids[key]

    def add_tensor(t: Tensor, color: str) -> None:
        lines.append(f"  {node(t, 't')} [label={_quote(_tensor_label(t, names.get(id(t), '')))}, shape=box, "
                     f"style=filled, fillcolor={color}];")

    add_tensor(tensor, _OUTPUT)
    seen, stack = {id(tensor)}, [tensor]
    while stack:   # iterative, like the backward pass: deep graphs need no recursion
        t = stack.pop()
        op = t._op
        if op is None or op.inputs is None:
            continue
        op_id = node(op, "op")
        lines.append(f"  {op_id} [label={_quote(type(op).__name__)}, shape=ellipse];")
        lines.append(f"  {op_id} -> {node(t, 't')};")
        for x in op.inputs:
            if id(x) not in seen:
                seen.add(id(x))
                add_tensor(x, _NEEDS_GRAD if x.requires_grad else _NO_GRAD)
                stack.append(x)
            style = "" if x.requires_grad else " [style=dashed]"
            lines.append(f"  {node(x, 't')} -> {op_id}{style};")
    lines.append("}")
    dot = "\n".join(lines) + "\n"
    if path is not None:
        render(dot, path)
    return dot


def render(dot: str, path: str | os.PathLike[str]) -> None:
    """Writes DOT text as a picture, its format taken from path's extension (svg, png, pdf...): through
    the `graphviz` package when it is installed, else the `dot` program. Raises RuntimeError naming
    what to install when neither is there."""
    fmt = os.path.splitext(str(path))[1].lstrip(".").lower()
    if not fmt:
        raise ValueError(f"viz.render: give the path an extension naming the format (.svg, .png), got {path!r}")
    if shutil.which("dot") is None:
        raise RuntimeError("viz.render: Graphviz's `dot` program is not installed (apt-get install graphviz, "
                           "brew install graphviz); the DOT text works without it")
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        data = graphviz.Source(dot).pipe(format=fmt)
    else:
        data = subprocess.run(["dot", f"-T{fmt}"], input=dot.encode(), capture_output=True, check=True).stdout
    with open(path, "wb") as f:
        f.write(data)


# ---- summary ----------------------------------------------------------------------------------------
def summary(model: Module, *inputs: Any) -> str:
    """A table of the layers `model(*inputs)` runs, in call order and nested as called: name, type,
    output shape and the number of parameters each holds itself, then the totals. Runs one forward
    pass under no_grad. A Sequential runs its layers one by one here (in training it fuses Linear +
    ReLU into one op with the same values), so that each layer shows its own output."""
    from .nn.modules import Module, Sequential
    if not isinstance(model, Module):
        raise TypeError(f"viz.summary: expected a fastgrad.nn.Module, got {type(model).__name__}")
    rows: list[list[Any]] = []
    depth = [0]
    patched: list[Module] = []

    def recording(module: Module, name: str, forward: Callable[..., Any]) -> Callable[..., Any]:
        def forward_recorded(*args: Any, **kwargs: Any) -> Any:
            row = [name, type(module).__name__, depth[0], None,
                   sum(math.prod(p.shape) for _, p in module._own_parameters())]
            rows.append(row)
            depth[0] += 1
            try:
                out = forward(*args, **kwargs)
            finally:
                depth[0] -= 1
            row[3] = _shape_of(out)
            return out
        return forward_recorded

    for name, module in model.named_modules():
        if isinstance(module, Sequential):
            forward = _one_by_one(module)
        else:
            forward = module.forward
        patched.append(module)
        object.__setattr__(module, "forward", recording(module, name or "(model)", forward))
    try:
        with autograd.no_grad():
            model(*inputs)
    finally:
        for module in patched:
            vars(module).pop("forward", None)

    width = max([len("  " * d + n) for n, _, d, _, _ in rows] + [5]) + 2
    lines = [f"{'layer':<{width}}{'type':<16}{'output shape':<22}{'params':>10}"]
    for name, kind, d, shape, count in rows:
        lines.append(f"{'  ' * d + name:<{width}}{kind:<16}{shape:<22}{count:>10,}")
    params = model.parameters()
    total = sum(math.prod(p.shape) for p in params)
    trainable = sum(math.prod(p.shape) for p in params if p.requires_grad)
    lines.append(f"total parameters: {total:,} ({trainable:,} trainable)")
    return "\n".join(lines)


def _one_by_one(sequential: Any) -> Callable[[Any], Any]:
    def forward(x: Any) -> Any:
        for layer in sequential.layers:
            x = layer(x)
        return x
    return forward


def _shape_of(out: object) -> str:
    if isinstance(out, Tensor):
        return str(tuple(out.shape))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_of(o) for o in out)
    return type(out).__name__

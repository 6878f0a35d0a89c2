"""Types: the package ships py.typed, and its stubs (python/fastgrad/**/*.pyi, which mypy reads
instead of the .py beside them) keep up with the code: a public function, class, method or attribute
added to a stubbed module without a stub entry fails here, naming what to add (and a stub entry whose
code is gone fails too). CI also runs `mypy --strict examples/typed_usage.py` against the wheel."""
import ast
import importlib
from pathlib import Path

import pytest

import fastgrad as fg

PACKAGE = Path(fg.__file__).parent
# Python's own machinery, and pickling/copying hooks: not part of what the stubs describe.
IGNORED = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__slots__", "__init_subclass__",
           "__annotations__", "__reduce__", "__deepcopy__", "__repr__", "__str__", "__format__", "__hash__",
           "__setattr__", "__array_ufunc__", "__firstlineno__", "__static_attributes__", "__orig_bases__",
           "__parameters__", "__abstractmethods__", "_abc_impl", "__slotnames__"}


def _stubs():
    return sorted(PACKAGE.rglob("*.pyi"))


def _names(body):
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _stub_classes():
    """{class name: (member names, base names)} over every stub."""
    classes = {}
    for path in _stubs():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                classes[node.name] = (_names(node.body), bases)
    return classes


def _stub_members(name, classes):
    members, bases = classes.get(name, (set(), []))
    members = set(members)
    for base in bases:
        members |= _stub_members(base, classes)
    return members


def _module_of(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return importlib.import_module(".".join(parts))


def test_the_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()
    assert any(p.name == "tensor.pyi" for p in _stubs())


@pytest.mark.parametrize("path", _stubs(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_stub_matches_its_module(path):
    module = _module_of(path)
    tree = ast.parse(path.read_text())
    stubbed = _names(tree.body)
    partial = "__getattr__" in stubbed   # a partial stub: what it does not name is Any
    defined = {name for name, obj in vars(module).items()
               if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
               and (callable(obj) or isinstance(obj, type))}
    problems = []
    if not partial:
        problems += [f"{name}: defined in {module.__name__}, missing from the stub" for name in sorted(defined - stubbed)]
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name != "__getattr__" \
                and not hasattr(module, node.name):
            problems.append(f"{node.name}: in the stub, gone from {module.__name__}")
    classes = _stub_classes()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or not isinstance(getattr(module, node.name, None), type):
            continue
        runtime = set()
        for cls in getattr(module, node.name).__mro__:
            if cls.__module__.startswith("fastgrad") and not issubclass(cls, tuple):   # namedtuples' own
                runtime |= {n for n, v in vars(cls).items() if n not in IGNORED and
                            (not n.startswith("_") or n.startswith("__") and (callable(v) or isinstance(v, property)))}
        missing = runtime - _stub_members(node.name, classes)
        problems += [f"{node.name}.{n}: defined in {module.__name__}, missing from the stub" for n in sorted(missing)]
    assert not problems, f"{path.name} is out of step with the code:\n  " + "\n  ".join(problems)


def test_typed_example_runs():
    """examples/typed_usage.py, which CI type-checks with mypy --strict, also runs."""
    example = Path(__file__).resolve().parents[1] / "examples" / "typed_usage.py"
    spec = importlib.util.spec_from_file_location("typed_usage", example)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()

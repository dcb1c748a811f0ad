"""The dependency direction of stylelab, checked by reading every module's imports (no import is run).

Layers, bottom to top (CONTRIBUTING.md, "Layers"):

    tables   pure data: the network layer tables
    weights  the checkpoint table and the resolver (find, download, validate, load)
    ops      functions on tensors and files: statistics, linear algebra, transforms, labels,
             wavelets, matting, smoothing, colour, losses, io, validation, memory, device, data
    models   networks: encoders, decoders, WCT²'s wave networks
    methods  the style-transfer methods and the shared decoder trainer
    top      bench, cli, course, widgets, exercises

A module may import its own layer and the layers its row allows below. No
import cycle, and no import of a stylelab module inside a function (the way
cycles used to be dodged); optional heavy third-party packages may still be
imported inside functions, and an optional stylelab module inside
``try: … except ImportError`` (a feature that needs a module not every checkout has).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "stylelab"

LAYER_OF_MODULE = {
    # the package itself: a lazy facade (stylelab.AdaIN, stylelab.gram …) over every layer
    "stylelab": "top",
    "layout": "tables",
    "checkpoints": "weights",
    "weights": "weights",
    "package_formats": "weights",  # readers of the registry packages' weights files, converters
    "onnx_weights": "weights",  # the ONNX reader and the Magenta converters (registered into package_formats)
    "encoders": "models",
    "decoders": "models",
    "wavenets": "models",
    "transformnet": "models",
    "ghiasi": "models",
    "reversible": "models",  # CAP-VSTNet's invertible network
    "course_pair": "models",  # the offline VGG-16 and the decoders trained on it here (data/decoders/vgg16_*)
    "train": "methods",
    "standin": "methods",  # stand-in models built from the methods' classes
    "methods": "methods",
    "bench": "top",
    "bench_table": "top",
    "cli": "top",
    "course": "top",
    "widgets": "top",
    "exercises": "top",
}
#: Packages whose ``__init__`` sits in another layer than their modules: the method registry is a
#: table (it imports no stylelab module) that the method modules fill in, so that ops such as
#: ``memory`` and ``tiling`` read what a method declares (its memory model, ``tiles``) from it.
LAYER_OF_PACKAGE = {"stylelab.methods": "ops"}
#: Modules not named above are ops.
DEFAULT_LAYER = "ops"
ALLOWED = {
    "tables": {"tables"},
    "weights": {"tables", "weights"},
    "ops": {"tables", "ops"},
    "models": {"tables", "weights", "ops", "models"},
    "methods": {"tables", "weights", "ops", "models", "methods"},
    "top": {"tables", "weights", "ops", "models", "methods", "top"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def layer(module: str) -> str:
    if module in LAYER_OF_PACKAGE:
        return LAYER_OF_PACKAGE[module]
    parts = module.split(".")
    if len(parts) == 1:
        return LAYER_OF_MODULE["stylelab"]
    return LAYER_OF_MODULE.get(parts[1], DEFAULT_LAYER)


def _imports(path: Path):
    """``(imported stylelab module, line, inside a function?)`` for every import in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def optional(node) -> bool:  # try: import … except ImportError: the module is optional
        return isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers)

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if optional(child):
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    origin = ".".join(base + ([child.module] if child.module else []))
                else:
                    origin = child.module or ""
                for alias in child.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{origin}.{alias.name}"
                    targets.append(sub if _is_module(sub) else origin)
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                  and child.func.attr == "import_module" and child.args
                  and isinstance(child.args[0], ast.Constant) and isinstance(child.args[0].value, str)):
                targets = [child.args[0].value]
            for t in targets:
                if t == "stylelab" or t.startswith("stylelab."):
                    found.append((t, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


MODULES = sorted(PKG.rglob("*.py"))
GRAPH = {_module_name(p): _imports(p) for p in MODULES}


def test_every_module_is_read():
    assert len(GRAPH) > 30 and "stylelab.weights" in GRAPH and "stylelab.methods.wct2" in GRAPH


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path):
    module = _module_name(path)
    bad = [
        f"line {line}: {module} ({layer(module)}) imports {target} ({layer(target)})"
        for target, line, _ in GRAPH[module]
        if layer(target) not in ALLOWED[layer(module)]
    ]
    assert not bad, "imports against the layer order (CONTRIBUTING.md, Layers):\n" + "\n".join(bad)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_stylelab_import_inside_a_function(path):
    module = _module_name(path)
    if module == "stylelab":
        pytest.skip("the package's __getattr__ loads submodules on first use, by design (`import stylelab` stays cheap)")
    bad = [f"line {line}: imports {target}" for target, line, inside in GRAPH[module] if inside]
    assert not bad, (
        f"{module} imports stylelab modules inside functions; import them at the top "
        "(if that makes a cycle, the code is in the wrong layer):\n" + "\n".join(bad)
    )


def test_the_method_registry_imports_no_stylelab_module():
    """``stylelab.methods`` (the registry) is read by ops (``memory``, ``tiling``): it must stand on nothing."""
    assert GRAPH["stylelab.methods"] == []


def test_weights_resolver_reads_only_the_checkpoint_table():
    assert {t for t, _, _ in GRAPH["stylelab.weights.layout"]} == set()
    assert {t for t, _, _ in GRAPH["stylelab.weights.checkpoints"]} <= {"stylelab.weights.layout"}
    assert {t for t, _, _ in GRAPH["stylelab.weights"]} <= {"stylelab.weights.checkpoints", "stylelab.weights.package_formats"}
    assert {t for t, _, _ in GRAPH["stylelab.weights.package_formats"]} <= {"stylelab.weights.layout"}


def test_no_import_cycle():
    edges = {m: {t for t, _, _ in imps if t in GRAPH and t != m} for m, imps in GRAPH.items()}
    # importing a submodule runs its package's __init__ first
    for m in list(edges):
        parts = m.split(".")
        edges[m] |= {".".join(parts[:i]) for i in range(2, len(parts))} - {m}
    state: dict[str, int] = {}

    def walk(node, path):
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = 2

    for m in sorted(edges):
        if m not in state:
            walk(m, [m])


def test_the_test_sees_a_violation(tmp_path):
    """The checker itself: a function-level import and an upward import are both reported."""
    global ROOT
    pkg = tmp_path / "stylelab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "encoders.py").write_text("")
    (pkg / "stats.py").write_text("from . import encoders\n\ndef f():\n    from .encoders import x\n")
    saved, ROOT = ROOT, tmp_path
    try:
        found = _imports(pkg / "stats.py")
    finally:
        ROOT = saved
    assert ("stylelab.nets.encoders", 1, False) in found and ("stylelab.nets.encoders", 4, True) in found
    assert layer("stylelab.nets.encoders") not in ALLOWED[layer("stylelab.features.stats")]
